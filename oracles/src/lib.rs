//! shoal-oracles: *judging* — run a test case on several engines and
//! configurations, compare outcomes, classify, deduplicate and describe
//! findings.
//!
//! * [`engines`]: the executions, as a typed enum with parseable names;
//! * [`execute`]: one case on one engine → an [`execute::Execution`];
//! * [`compare`]: exact, NaN-payload-tolerant comparison;
//! * [`verdict`]: agree / discrepancy (attributed) / inconclusive;
//! * [`finding`]: signatures, reports, atomic writes;
//! * [`reduce`]: class-preserving reduction of findings (CLIF and wasm);
//! * [`replay`]: outcome tables and runnable filetests for reproductions.
#![deny(missing_docs)]

pub mod campaign;
pub mod compare;
pub mod engines;
pub mod execute;
pub mod finding;
pub mod fuzzing;
pub mod guidance;
pub mod reduce;
pub mod replay;
pub mod targets;
pub mod verdict;
pub mod wasm;
