//! Subcommands; each module exposes `Args` (clap) and `run(Args) -> anyhow::Result<ExitCode>`.

pub mod bench;
pub mod fuzz;
pub mod spectest;
pub mod coverage;
pub mod validate;
