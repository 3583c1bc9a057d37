//! Subcommands; each module exposes `Args` (clap) and `run(Args) -> anyhow::Result<ExitCode>`.

pub mod bench;
pub mod coverage;
pub mod fuzz;
pub mod harvest;
pub mod reduce;
pub mod repro;
pub mod spectest;
pub mod validate;
