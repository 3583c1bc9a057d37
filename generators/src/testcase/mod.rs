//! The durable test-case format.
//!
//! A [`TestCase`] is either a wasm module with the invocations to make
//! ([`WasmCase`]) or Cranelift IR functions with their run lines
//! ([`ClifCase`]). Serialized, a wasm case is a valid `.wasm` file whose
//! invocations live in the custom section described in [`wasm`]; a CLIF case
//! is Cranelift filetest text (see [`clif`]). Both forms are what corpus
//! files hold, so a corpus entry keeps its meaning when the generators
//! change, and stock tools (`wasm-tools`, `clif-util`) can read it.
//!
//! Round trip: `from_bytes(&c.to_bytes()) == Ok(c)` for every case, and
//! `to_bytes` of a parsed file reproduces the file byte for byte when the
//! file is in canonical form (what `to_bytes` writes).

pub mod clif;
pub mod wasm;

pub use clif::{ClifCase, ClifFunction, ClifRun, Expectation};
pub use wasm::{INVOCATIONS_SECTION, Invocation, WasmCase};

use arbitrary::Unstructured;

/// Why bytes are not a test case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The bytes are neither a wasm binary nor UTF-8 text.
    #[error("not a test case: neither a wasm binary (\\0asm) nor UTF-8 CLIF text")]
    Unrecognized,
    /// A malformed wasm binary or invocations section.
    #[error("malformed wasm test case at byte {offset}: {message}")]
    Wasm {
        /// Byte offset of the problem in the file.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// CLIF text that Cranelift's reader rejects, or a malformed run line.
    #[error("malformed CLIF test case: {0}")]
    Clif(String),
}

/// A test case: what shoal runs and compares.
#[derive(Debug, Clone, PartialEq)]
pub enum TestCase {
    /// A wasm module with invocations.
    Wasm(WasmCase),
    /// Cranelift IR with run lines.
    Clif(ClifCase),
}

/// Which generator turns raw fuzz bytes into a test case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeneratorKind {
    /// The instruction-first wasm generator ([`crate::wasm`]).
    Wasm,
    /// The wasm-smith baseline ([`crate::smith`]).
    Smith,
    /// The instruction-first CLIF generator ([`crate::clif`]).
    Clif,
}

impl GeneratorKind {
    /// Every generator.
    pub const ALL: [GeneratorKind; 3] = [
        GeneratorKind::Wasm,
        GeneratorKind::Smith,
        GeneratorKind::Clif,
    ];

    /// A short name (`wasm`, `smith`, `clif`).
    pub fn name(self) -> &'static str {
        match self {
            GeneratorKind::Wasm => "wasm",
            GeneratorKind::Smith => "smith",
            GeneratorKind::Clif => "clif",
        }
    }

    /// True if this generator produces wasm cases.
    pub fn produces_wasm(self) -> bool {
        !matches!(self, GeneratorKind::Clif)
    }

    /// Generates a test case from fuzz input (total: any bytes work).
    pub fn generate(self, u: &mut Unstructured<'_>) -> TestCase {
        match self {
            GeneratorKind::Wasm => TestCase::Wasm(crate::wasm::generate(u)),
            GeneratorKind::Smith => TestCase::Wasm(crate::smith::generate(u)),
            GeneratorKind::Clif => TestCase::Clif(crate::clif::generate(u)),
        }
    }

    /// Generates a test case from a `u64` seed.
    pub fn generate_from_seed(self, seed: u64) -> TestCase {
        let bytes = crate::rng::seed_bytes(seed, crate::SEED_INPUT_LEN);
        self.generate(&mut Unstructured::new(&bytes))
    }
}

impl TestCase {
    /// Parses a serialized test case, sniffing the kind: bytes starting with
    /// the wasm magic are a wasm case, UTF-8 text is a CLIF case.
    pub fn from_bytes(bytes: &[u8]) -> Result<TestCase, FormatError> {
        if bytes.starts_with(wasm::WASM_MAGIC) {
            return WasmCase::from_bytes(bytes).map(TestCase::Wasm);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| FormatError::Unrecognized)?;
        ClifCase::from_text(text).map(TestCase::Clif)
    }

    /// Serializes the test case (a `.wasm` binary or `.clif` text).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            TestCase::Wasm(w) => w.to_bytes(),
            TestCase::Clif(c) => c.to_text().into_bytes(),
        }
    }

    /// What a fuzz target does with its input: a serialized test case of the
    /// kind `kind` produces is used as is; any other bytes are decoded through
    /// `arbitrary::Unstructured` into a freshly generated case.
    pub fn from_fuzz_input(kind: GeneratorKind, bytes: &[u8]) -> TestCase {
        match TestCase::from_bytes(bytes) {
            Ok(TestCase::Wasm(w)) if kind.produces_wasm() => TestCase::Wasm(w),
            Ok(TestCase::Clif(c)) if !kind.produces_wasm() => TestCase::Clif(c),
            _ => kind.generate(&mut Unstructured::new(bytes)),
        }
    }

    /// The conventional file extension (`wasm` or `clif`).
    pub fn extension(&self) -> &'static str {
        match self {
            TestCase::Wasm(_) => "wasm",
            TestCase::Clif(_) => "clif",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert_eq!(
            TestCase::from_bytes(&[0xff, 0xfe, 0x00]),
            Err(FormatError::Unrecognized)
        );
        assert!(matches!(
            TestCase::from_bytes(b"\0asm\x01\0\0\0\x05\xff"),
            Err(FormatError::Wasm { .. })
        ));
        assert!(matches!(
            TestCase::from_bytes(b"function %f( {"),
            Err(FormatError::Clif(_))
        ));
    }
}
