//! shoal-generators: every way shoal *produces* test cases — the
//! instruction-first wasm and CLIF generators, the wasm-smith baseline,
//! interesting-value dictionaries, the durable test-case format and the
//! structural mutators.
#![deny(missing_docs)]
pub mod pattern;
pub mod rule_guided;
