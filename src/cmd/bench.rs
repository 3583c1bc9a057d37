//! `shoal bench`: prints throughput figures (a figure to track, not a test):
//! interpreter instructions/s on compute kernels, JIT throughput (compile,
//! instantiate and invoke) per opt level, and per generator the cost of
//! making a case and of judging it on every execution (cases/s on one core).

use std::process::ExitCode;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shoal_generators::GeneratorKind;
use shoal_oracles::campaign::{CaseResult, Target};
use shoal_oracles::targets::{ClifTarget, SharedHits, WasmTarget};
use shoal_runtime::clif::differential::Executor;
use shoal_runtime::coverage::{RuleHits, install_logger};
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
    failed |= bench_generators(if args.smoke {
        Duration::from_millis(300)
    } else {
        Duration::from_secs(10)
    });
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Per generator: cases/s of generation alone, then of generation plus
/// judging on every execution, on this thread, with rule coverage
/// collected as in `shoal fuzz`. Returns whether a case came out invalid.
fn bench_generators(budget: Duration) -> bool {
    println!("== generators (one core; generate, then generate + judge)");
    install_logger();
    super::repro::quiet_cranelift_panics();
    let hits: SharedHits = Arc::new(Mutex::new(RuleHits::new()));
    let wasm_execs = shoal_oracles::targets::default_wasm_engines().len();
    let clif_execs = Executor::default_set().len();
    let targets: Vec<(Box<dyn Target>, usize)> = vec![
        (
            Box::new(WasmTarget::new(
                GeneratorKind::Wasm,
                "instruction-first",
                hits.clone(),
            )),
            wasm_execs,
        ),
        (
            Box::new(WasmTarget::new(GeneratorKind::Smith, "smith", hits.clone())),
            wasm_execs,
        ),
        (Box::new(ClifTarget::new(hits)), clif_execs),
    ];
    let mut failed = false;
    for (mut target, executions) in targets {
        let generated = rate(budget, |seed| {
            target.generate(seed);
        });
        let mut invalid = 0u64;
        let judged = rate(budget, |seed| {
            if let CaseResult::Invalid(_) = target.run_one(seed) {
                invalid += 1;
            }
        });
        failed |= invalid > 0;
        println!(
            "{}: generate {:.0} cases/s; generate + judge on {executions} executions {:.0} cases/s/core ({invalid} invalid)",
            target.name(),
            generated,
            judged
        );
    }
    failed
}

/// Calls `f` with seeds 0, 1, ... for `budget`; returns calls per second.
fn rate(budget: Duration, mut f: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        f(n);
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}
