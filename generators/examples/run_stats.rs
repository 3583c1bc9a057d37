//! Runs generated wasm cases on shoal's interpreter and prints outcome
//! statistics (development aid): `cargo run --example run_stats -- [n] [wasm|smith]`.

use std::collections::BTreeMap;

use shoal_runtime::engine::{Engine, Extern};
use shoal_runtime::interp::InterpEngine;
use shoal_runtime::{Limits, Module};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let kind = match std::env::args().nth(2).as_deref() {
        Some("smith") => shoal_generators::GeneratorKind::Smith,
        _ => shoal_generators::GeneratorKind::Wasm,
    };
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let start = std::time::Instant::now();
    for seed in 0..n {
        let shoal_generators::TestCase::Wasm(case) = kind.generate_from_seed(seed) else {
            continue;
        };
        let module = Module::new(&case.module).unwrap();
        let limits = Limits {
            fuel: Some(10_000),
            ..Limits::default()
        };
        let mut store = InterpEngine::new().new_store(limits);
        let inst = match store.instantiate(&module, &[]) {
            Ok(i) => i,
            Err(e) => {
                *outcomes.entry(format!("instantiate: {e}")).or_default() += 1;
                continue;
            }
        };
        for inv in &case.invocations {
            let Some(Extern::Func(f)) = store.export(inst, &inv.export) else {
                continue;
            };
            let key = match store.call(f, &inv.args) {
                Ok(_) => "ok".to_string(),
                Err(t) => {
                    if std::env::var("DUMP_TRAP").is_ok_and(|d| t.to_string().contains(&d)) {
                        let path = format!("/tmp/trap-{seed}.wat");
                        let _ = std::fs::write(
                            &path,
                            wasmprinter::print_bytes(&case.module).unwrap_or_default(),
                        );
                    }
                    format!("trap: {t}")
                }
            };
            *outcomes.entry(key).or_default() += 1;
        }
    }
    println!("{n} cases in {:?}", start.elapsed());
    for (k, v) in outcomes {
        println!("{v:>7}  {k}");
    }
}
