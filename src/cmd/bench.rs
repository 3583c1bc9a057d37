//! `shoal bench`: prints throughput figures (a figure to track, not a test):
//! interpreter instructions/s on compute kernels and JIT compile +
//! instantiate + invoke throughput per opt level.

use std::process::ExitCode;

use shoal_runtime::interp::bench::{BenchSize, Outcome, bench_kernels};
use shoal_runtime::jit::bench as jit_bench;

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
    println!("== jit (compile + instantiate + invoke, small module)");
    let iterations = if args.smoke {
        jit_bench::SMOKE_ITERATIONS
    } else {
        jit_bench::FULL_ITERATIONS
    };
    match jit_bench::bench(iterations) {
        Ok(results) => {
            for r in results {
                println!(
                    "{}: {} modules in {:.3} s = {:.0} modules/s",
                    r.config,
                    r.modules,
                    r.elapsed.as_secs_f64(),
                    r.per_second()
                );
            }
        }
        Err(e) => {
            failed = true;
            println!("jit bench failed: {e}");
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
