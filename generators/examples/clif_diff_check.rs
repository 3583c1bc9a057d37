//! Differential sanity check of generated CLIF cases with `runtime::clif`
//! (interpreter reference against native x64 configurations, Pulley and
//! the mid-end): prints findings (development aid). `cargo run --release
//! --example clif_diff_check -- [n] [first-seed] [noi128]`.

use shoal_runtime::clif::differential::{Executor, Verdict, judge_all};
use shoal_runtime::clif::{ClifModule, Invocation};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let first: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let noi128 = std::env::args().nth(3).as_deref() == Some("noi128");
    let cfg = shoal_generators::clif::ClifConfig {
        i128: false,
        ..Default::default()
    };
    let (mut agree, mut inconclusive, mut findings) = (0, 0, 0);
    for seed in first..first + n {
        let case = if noi128 {
            let bytes = shoal_generators::rng::seed_bytes(seed, shoal_generators::SEED_INPUT_LEN);
            shoal_generators::clif::generate_with_config(
                &mut arbitrary::Unstructured::new(&bytes),
                &cfg,
            )
        } else {
            shoal_generators::clif::generate_from_seed(seed)
        };
        let pulley = case.targets().contains(&"pulley64");
        let executors: Vec<Executor> = Executor::default_set()
            .into_iter()
            .filter(|e| pulley || !matches!(e, Executor::Pulley(_)))
            .collect();
        let module = ClifModule::new(case.functions.iter().map(|f| f.function.clone()).collect())
            .expect("module");
        let invocations: Vec<Invocation> = case
            .functions
            .iter()
            .flat_map(|f| f.runs.iter())
            .map(|r| Invocation {
                func: format!("%{}", r.func),
                args: r.args.clone(),
            })
            .collect();
        match judge_all(&module, &invocations, &executors, 1_000_000) {
            Ok(verdicts) => {
                for v in verdicts {
                    match v {
                        Verdict::Agree { .. } => agree += 1,
                        Verdict::Inconclusive(_) => inconclusive += 1,
                        other => {
                            findings += 1;
                            let path = format!("/tmp/clif-diff-{seed}.clif");
                            let _ = std::fs::write(&path, case.to_text());
                            println!(
                                "seed {seed} ({path}): {}",
                                other.to_string().chars().take(400).collect::<String>()
                            );
                        }
                    }
                }
            }
            Err(e) => println!("seed {seed}: invalid: {e}"),
        }
    }
    println!("{n} cases: {agree} agree, {inconclusive} inconclusive, {findings} findings");
}
