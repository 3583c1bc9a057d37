//! Differential sanity check of generated wasm cases: shoal's interpreter
//! against its JIT (development aid; the real oracle lives in `oracles`).
//! Compares invocation results and traps (scalar floats NaN-tolerantly, per
//! the generators' contract), then exported globals (f32/f64 NaN-tolerantly)
//! and memories bit for bit. `cargo run --release --example diff_check --
//! [n] [wasm|smith] [first-seed]`.

use shoal_runtime::engine::{Engine, Extern, Store};
use shoal_runtime::interp::InterpEngine;
use shoal_runtime::jit::{JitConfig, JitEngine};
use shoal_runtime::{Limits, Module, Trap, Value};

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::F32(x), Value::F32(y)) => {
            x == y || (f32::from_bits(*x).is_nan() && f32::from_bits(*y).is_nan())
        }
        (Value::F64(x), Value::F64(y)) => {
            x == y || (f64::from_bits(*x).is_nan() && f64::from_bits(*y).is_nan())
        }
        _ => a == b,
    }
}

type Outcome = Result<Vec<Value>, Trap>;

/// Invocation outcomes, exported globals, exported memories.
type Observed = Result<(Vec<Outcome>, Vec<Value>, Vec<Vec<u8>>), String>;

fn run(engine: &dyn Engine, module: &Module, case: &shoal_generators::WasmCase) -> Observed {
    let limits = Limits {
        fuel: Some(20_000),
        ..Limits::default()
    };
    let mut store: Box<dyn Store> = engine.new_store(limits);
    let inst = store.instantiate(module, &[]).map_err(|e| e.to_string())?;
    let mut outcomes = Vec::new();
    for inv in &case.invocations {
        let Some(Extern::Func(f)) = store.export(inst, &inv.export) else {
            return Err("missing export".into());
        };
        outcomes.push(store.call(f, &inv.args));
    }
    let mut globals = Vec::new();
    let mut memories = Vec::new();
    for (_, e) in store.exports(inst) {
        match e {
            Extern::Global(g) => globals.push(store.global_get(g)),
            Extern::Memory(m) => memories.push(store.memory_data(m).to_vec()),
            _ => {}
        }
    }
    Ok((outcomes, globals, memories))
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let which = std::env::args().nth(2).unwrap_or_default();
    let kind = match which.as_str() {
        "smith" => shoal_generators::GeneratorKind::Smith,
        _ => shoal_generators::GeneratorKind::Wasm,
    };
    // `noref`: the instruction-first generator without reference types.
    let noref = shoal_generators::wasm::WasmConfig {
        reference_types: false,
        ..Default::default()
    };
    let first: u64 = std::env::args()
        .nth(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let interp = InterpEngine::new();
    let jit = JitEngine::new(JitConfig::default()).expect("jit");
    let mut mismatches = 0;
    for seed in first..first + n {
        let case = if which == "noref" {
            let bytes = shoal_generators::rng::seed_bytes(seed, shoal_generators::SEED_INPUT_LEN);
            shoal_generators::wasm::generate_with_config(
                &mut arbitrary::Unstructured::new(&bytes),
                &noref,
            )
        } else {
            let shoal_generators::TestCase::Wasm(case) = kind.generate_from_seed(seed) else {
                continue;
            };
            case
        };
        let module = Module::new(&case.module).unwrap();
        let a = run(&interp, &module, &case);
        let b = run(&jit, &module, &case);
        let agree = match (&a, &b) {
            (Ok((oa, ga, ma)), Ok((ob, gb, mb))) => {
                oa.len() == ob.len()
                    && oa.iter().zip(ob).all(|(x, y)| match (x, y) {
                        (Ok(x), Ok(y)) => {
                            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
                        }
                        (Err(x), Err(y)) => x == y,
                        _ => false,
                    })
                    && ga.len() == gb.len()
                    && ga.iter().zip(gb).all(|(p, q)| same(p, q))
                    && ma == mb
            }
            (Err(x), Err(y)) => x == y,
            _ => false,
        };
        if !agree {
            mismatches += 1;
            let path = format!("/tmp/diff-{}-{seed}.wat", kind.name());
            let _ = std::fs::write(
                &path,
                wasmprinter::print_bytes(&case.module).unwrap_or_default(),
            );
            let brief = |r: &Observed| match r {
                Ok((o, g, _)) => format!("{o:?} globals {g:?}"),
                Err(e) => e.clone(),
            };
            println!(
                "seed {seed}: MISMATCH ({path})\n  interp: {}\n  jit:    {}",
                brief(&a),
                brief(&b)
            );
        }
    }
    println!("{n} cases, {mismatches} mismatches");
}
