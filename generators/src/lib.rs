//! shoal-generators: every way shoal *produces* test cases — the
//! instruction-first wasm and CLIF generators, the wasm-smith baseline,
//! interesting-value dictionaries, the durable test-case format and the
//! structural mutators.
//!
//! Every generator is a total function of its input: any byte string,
//! read through [`arbitrary::Unstructured`], yields a valid test case, and
//! the same bytes always yield the same case. A `u64` seed is expanded into
//! bytes first ([`rng::seed_bytes`]).
#![deny(missing_docs)]

pub mod bench;
pub mod clif;
pub mod dict;
pub mod mutate;
pub mod pattern;
pub mod rng;
pub mod rule_guided;
pub mod smith;
pub mod testcase;
pub mod wasm;

pub use testcase::{ClifCase, FormatError, GeneratorKind, Invocation, TestCase, WasmCase};

/// Length of the byte string a `u64` seed is expanded into.
pub const SEED_INPUT_LEN: usize = 8192;
