//! `shoal bench`: prints throughput figures (a figure to track, not a test):
//! interpreter instructions/s on compute kernels; more sections as engines
//! and generators provide them.

use std::process::ExitCode;

use shoal_runtime::interp::bench::{BenchSize, Outcome, bench_kernels};

/// Flags of `shoal bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Tiny sizes (seconds, not minutes): checks the benchmarks still run.
    #[arg(long)]
    smoke: bool,
}

/// Runs every benchmark section; exits 1 if a kernel failed.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let size = if args.smoke {
        BenchSize::SMOKE
    } else {
        BenchSize::FULL
    };
    let mut failed = false;
    println!("== interpreter");
    for report in bench_kernels(size) {
        failed |= matches!(report.outcome, Outcome::Failed(_));
        println!("{report}");
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
