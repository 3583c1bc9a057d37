//! Entry points of the cargo-fuzz / OSS-Fuzz targets in `fuzz/`.
//!
//! Each target in `fuzz/fuzz_targets/` is glue around one function here,
//! so the same code runs under libFuzzer, under `cargo test` (the smoke
//! tests in `oracles/tests/fuzzing.rs`) and from `shoal` itself:
//!
//! | target | input decoded by | judged by |
//! | --- | --- | --- |
//! | [`wasm_diff`] | instruction-first wasm generator | wasm interpreter vs the JIT (opt none, speed, speed + guard pages) |
//! | [`wasm_smith_diff`] | wasm-smith | the same wasm oracle |
//! | [`clif_lower`] | instruction-first CLIF generator | [`clif::ClifJudge::lower`] |
//! | [`clif_opt`] | instruction-first CLIF generator | [`clif::ClifJudge::opt`] |
//!
//! An input is a serialized test case (a corpus file: `.wasm` with an
//! invocations section, or CLIF filetest text) or arbitrary bytes, which
//! the target's generator decodes into a test case
//! ([`TestCase::from_fuzz_input`]). Agreement and inconclusive cases return
//! quietly; an invalid case (a corpus-format input that does not validate)
//! returns `false` so the glue can tell libFuzzer not to keep it. A
//! discrepancy is written atomically as a finding (under `$SHOAL_FINDINGS`,
//! default `findings/`) and then crashes the fuzzer with a message naming
//! the finding and the `shoal repro` command ([`fail`]).
//!
//! Per-input work is bounded: wasm invocations run with
//! [`targets::CAMPAIGN_FUEL`](crate::targets::CAMPAIGN_FUEL), the CLIF
//! interpreter with [`targets::CLIF_FUEL`](crate::targets::CLIF_FUEL), and
//! native code only runs invocations the reference finished within its
//! fuel. Rule-coverage logging is not compiled into the fuzz binaries.
//!
//! [`custom_mutate`] is the libFuzzer custom mutator: the structural
//! mutators of [`shoal_generators::mutate`], which keep cases valid.

pub mod clif;
pub mod contract;
pub mod dict;
pub mod nan;
pub mod quiet;
pub mod wasm_nan;

use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use shoal_generators::mutate::mutate;
use shoal_generators::{GeneratorKind, TestCase};
use shoal_runtime::coverage::RuleHits;

use crate::campaign::{CaseResult, Target};
use crate::finding::{Finding, Written};
use crate::targets::WasmTarget;

/// Environment variable naming the findings directory of fuzz targets.
pub const FINDINGS_ENV: &str = "SHOAL_FINDINGS";

/// One in this many custom-mutator calls leaves the mutation to libFuzzer's
/// own byte-level mutator (see [`custom_mutate`]).
pub const BYTE_LEVEL_ONE_IN: u32 = 8;

/// A cargo-fuzz target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FuzzTarget {
    /// Instruction-first (and rule-guided corpus) wasm, differential.
    WasmDiff,
    /// wasm-smith modules, differential.
    WasmSmithDiff,
    /// CLIF at `opt_level=none`: lowering, Pulley, cross-ISA compiles.
    ClifLower,
    /// CLIF through the mid-end at `opt_level=speed`.
    ClifOpt,
}

impl FuzzTarget {
    /// Every target, in `cargo fuzz list` order.
    pub const ALL: [FuzzTarget; 4] = [
        FuzzTarget::WasmDiff,
        FuzzTarget::WasmSmithDiff,
        FuzzTarget::ClifLower,
        FuzzTarget::ClifOpt,
    ];

    /// The target's name (the binary in `fuzz/`, the `corpus/` directory).
    pub fn name(self) -> &'static str {
        match self {
            FuzzTarget::WasmDiff => "wasm_diff",
            FuzzTarget::WasmSmithDiff => "wasm_smith_diff",
            FuzzTarget::ClifLower => "clif_lower",
            FuzzTarget::ClifOpt => "clif_opt",
        }
    }

    /// The target called `name`.
    pub fn from_name(name: &str) -> Option<FuzzTarget> {
        FuzzTarget::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The generator that decodes raw bytes for this target.
    pub fn generator(self) -> GeneratorKind {
        match self {
            FuzzTarget::WasmDiff => GeneratorKind::Wasm,
            FuzzTarget::WasmSmithDiff => GeneratorKind::Smith,
            FuzzTarget::ClifLower | FuzzTarget::ClifOpt => GeneratorKind::Clif,
        }
    }

    /// The test case an input stands for (a serialized case of the right
    /// kind as is, anything else decoded by [`FuzzTarget::generator`]).
    pub fn case(self, data: &[u8]) -> TestCase {
        TestCase::from_fuzz_input(self.generator(), data)
    }

    /// Decodes and judges one input on this thread's instance of the
    /// target. A panic that escapes shoal's own handling is returned as
    /// [`Run::Panicked`], never propagated.
    pub fn run(self, data: &[u8]) -> Run {
        match quiet::guarded(|| {
            let case = self.case(data);
            with_target(self, |t| t.judge(&case))
        }) {
            Ok(result) => Run::Judged(result),
            Err(escaped) => Run::Panicked(escaped),
        }
    }

    /// What the fuzz target does with one input: [`FuzzTarget::run`], then
    /// [`fail`] on a finding or an escaped panic. Returns whether libFuzzer
    /// should keep the input (`false` for invalid test cases).
    pub fn fuzz_one(self, data: &[u8]) -> bool {
        match self.run(data) {
            Run::Judged(CaseResult::Agree | CaseResult::Inconclusive(_)) => true,
            Run::Judged(CaseResult::Invalid(_)) => false,
            Run::Judged(CaseResult::Finding(f)) => fail(self, &f, &findings_dir()),
            Run::Panicked(e) => panic!(
                "shoal {self}: a panic escaped shoal's judging: {} (at {}). This is a bug in \
                 shoal or in a dependency it does not guard, not a verdict on Cranelift; \
                 reproduce with `cargo fuzz run {self} <the crash input libFuzzer saved>`",
                e.message, e.location
            ),
        }
    }
}

impl fmt::Display for FuzzTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The result of [`FuzzTarget::run`].
#[derive(Debug)]
pub enum Run {
    /// The case was judged.
    Judged(CaseResult),
    /// A panic escaped every `catch_unwind` of the engines and oracles.
    Panicked(quiet::Escaped),
}

/// `wasm_diff`: see the [module documentation](self).
pub fn wasm_diff(data: &[u8]) -> bool {
    FuzzTarget::WasmDiff.fuzz_one(data)
}

/// `wasm_smith_diff`: see the [module documentation](self).
pub fn wasm_smith_diff(data: &[u8]) -> bool {
    FuzzTarget::WasmSmithDiff.fuzz_one(data)
}

/// `clif_lower`: see the [module documentation](self).
pub fn clif_lower(data: &[u8]) -> bool {
    FuzzTarget::ClifLower.fuzz_one(data)
}

/// `clif_opt`: see the [module documentation](self).
pub fn clif_opt(data: &[u8]) -> bool {
    FuzzTarget::ClifOpt.fuzz_one(data)
}

/// The libFuzzer custom mutator (`fuzz_mutator!`'s convention:
/// `data[..size]` is the input, `data.len()` the capacity): one structural
/// mutation of the input's test case, written back serialized. Returns the
/// new size, or `None` when libFuzzer's own byte-level mutation (and its
/// dictionary) should be used instead: on one call in
/// [`BYTE_LEVEL_ONE_IN`] (by `seed`), and when the mutated case does not
/// fit in `max_size`. Byte-level mutations change CLIF text constants and
/// opcodes in place, or turn an input into raw bytes that the generator
/// decodes afresh.
pub fn custom_mutate(
    target: FuzzTarget,
    data: &mut [u8],
    size: usize,
    max_size: usize,
    seed: u32,
) -> Option<usize> {
    if seed.is_multiple_of(BYTE_LEVEL_ONE_IN) {
        return None;
    }
    let limit = max_size.min(data.len());
    let input = &data[..size.min(limit)];
    let mut mutated = input.to_vec();
    if let Err(e) = quiet::guarded(|| mutate(target.generator(), &mut mutated, limit, seed.into()))
    {
        panic!(
            "shoal {target}: the structural mutator panicked: {} (at {}); this is a shoal bug",
            e.message, e.location
        )
    }
    // Unchanged: the mutated case did not fit (or the mutation was a no-op).
    if mutated == input {
        return None;
    }
    data[..mutated.len()].copy_from_slice(&mutated);
    Some(mutated.len())
}

/// Where fuzz targets write findings: `$SHOAL_FINDINGS`, else `findings`.
pub fn findings_dir() -> PathBuf {
    std::env::var_os(FINDINGS_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("findings"))
}

/// Writes `finding` under `dir` (atomically; a duplicate bumps its count)
/// and panics with a message naming it and how to reproduce it — under
/// libFuzzer the panic aborts and the input is saved as a crash.
pub fn fail(target: FuzzTarget, finding: &Finding, dir: &Path) -> ! {
    let (written, case_path) = match finding.write(dir) {
        Ok(Written::New(p)) | Ok(Written::Duplicate(p, _)) => {
            let case = p.join(format!("case.{}", finding.extension));
            (format!("written to {}", p.display()), case)
        }
        Err(e) => (
            format!("could not be written under {}: {e}", dir.display()),
            PathBuf::from("<the crash input>"),
        ),
    };
    panic!(
        "shoal {target}: {title}\n  what differs: {difference}\n  finding {sig} {written}\n  \
         reproduce: shoal repro {case} (or `cargo fuzz run {target} <the crash input \
         libFuzzer saved>`)",
        title = finding.title,
        difference = finding.difference,
        sig = finding.signature,
        case = case_path.display(),
    )
}

thread_local! {
    /// This thread's instance of each target (engines are not `Send`, and
    /// building them once keeps per-input work to the judging itself).
    static TARGETS: RefCell<[Option<Box<dyn Target>>; 4]> = const {
        RefCell::new([None, None, None, None])
    };
}

fn with_target<R>(target: FuzzTarget, f: impl FnOnce(&mut dyn Target) -> R) -> R {
    TARGETS.with(|slots| {
        let mut slots = slots.borrow_mut();
        let slot = &mut slots[target as usize];
        let t = slot.get_or_insert_with(|| build(target));
        f(t.as_mut())
    })
}

fn build(target: FuzzTarget) -> Box<dyn Target> {
    // Rule hits are not reported by fuzz targets; the wasm target still
    // wants somewhere to merge them.
    let hits = Arc::new(Mutex::new(RuleHits::new()));
    match target {
        FuzzTarget::WasmDiff => {
            Box::new(WasmTarget::new(GeneratorKind::Wasm, "wasm_diff", hits).guarding_nans())
        }
        FuzzTarget::WasmSmithDiff => {
            Box::new(WasmTarget::new(GeneratorKind::Smith, "wasm_smith_diff", hits).guarding_nans())
        }
        FuzzTarget::ClifLower => Box::new(clif::ClifJudge::lower()),
        FuzzTarget::ClifOpt => Box::new(clif::ClifJudge::opt()),
    }
}
