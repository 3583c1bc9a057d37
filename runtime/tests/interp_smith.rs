//! Seeded robustness check: wasm-smith modules over shoal's feature set
//! must instantiate and run without panics, without "unimplemented
//! operator" engine errors, and identically on every run (with and
//! without instruction counting).

use arbitrary::Unstructured;
use shoal_runtime::engine::{Extern, InstantiateError, Store};
use shoal_runtime::interp::InterpStore;
use shoal_runtime::module::ExternType;
use shoal_runtime::values::{FuncType, PAGE_SIZE};
use shoal_runtime::{Limits, Module, Trap, Value};

/// Seeds per `cargo test` run; `SHOAL_INTERP_SMITH_SEEDS` overrides it for
/// longer local runs.
const SEEDS: u64 = 200;

fn config() -> wasm_smith::Config {
    wasm_smith::Config {
        exceptions_enabled: false,
        gc_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        wide_arithmetic_enabled: false,
        compact_imports_enabled: false,
        custom_page_sizes_enabled: false,
        shared_everything_threads_enabled: false,
        simd_enabled: true,
        memory64_enabled: true,
        tail_call_enabled: true,
        extended_const_enabled: true,
        max_memories: 3,
        max_tables: 3,
        max_funcs: 12,
        max_instructions: 200,
        max_memory32_bytes: 4 * PAGE_SIZE,
        max_memory64_bytes: 4 * PAGE_SIZE as u128,
        max_table_elements: 200,
        export_everything: true,
        min_funcs: 4,
        ..wasm_smith::Config::default()
    }
}

/// Deterministic bytes for a seed (xorshift64*).
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

/// Everything observable after running a module.
#[derive(Debug, PartialEq)]
struct Observed {
    instantiate: Result<(), InstantiateError>,
    calls: Vec<(String, Result<Vec<Value>, Trap>)>,
    memories: Vec<Vec<u8>>,
    globals: Vec<Value>,
}

fn supply_imports(s: &mut InterpStore, m: &Module) -> Option<Vec<Extern>> {
    let mut out = Vec::new();
    for imp in &m.imports {
        out.push(match &imp.ty {
            ExternType::Func(ty) => {
                let results: Vec<Value> =
                    ty.results.iter().map(|t| Value::default_for(*t)).collect();
                let ty: FuncType = ty.clone();
                Extern::Func(s.alloc_host_func(ty, Box::new(move |_| Ok(results.clone()))))
            }
            ExternType::Global(g) => Extern::Global(s.alloc_global(*g, Value::default_for(g.ty))),
            ExternType::Memory(mt) => Extern::Memory(s.alloc_memory(*mt).ok()?),
            ExternType::Table(tt) => Extern::Table(s.alloc_table(*tt, Value::default_for(tt.elem))),
        });
    }
    Some(out)
}

fn observe(m: &Module, counting: bool) -> Option<Observed> {
    let limits = Limits {
        fuel: Some(3000),
        max_call_depth: 200,
        max_memory_pages: 64,
        max_table_elems: 10_000,
    };
    let mut s = InterpStore::new(limits);
    s.set_counting(counting);
    let imports = supply_imports(&mut s, m)?;
    let mut obs = Observed {
        instantiate: Ok(()),
        calls: Vec::new(),
        memories: Vec::new(),
        globals: Vec::new(),
    };
    let inst = match s.instantiate(m, &imports) {
        Ok(i) => i,
        Err(e) => {
            obs.instantiate = Err(e);
            return Some(obs);
        }
    };
    for (name, ext) in s.exports(inst) {
        match ext {
            Extern::Func(f) => {
                let ExternType::Func(ty) = s.extern_type(ext) else {
                    unreachable!()
                };
                let args: Vec<Value> = ty.params.iter().map(|t| Value::default_for(*t)).collect();
                let r = s.call(f, &args);
                obs.calls.push((name, r));
            }
            Extern::Memory(mem) => obs.memories.push(s.memory_data(mem).to_vec()),
            Extern::Global(g) => obs.globals.push(s.global_get(g)),
            Extern::Table(_) => {}
        }
    }
    Some(obs)
}

#[test]
fn smith_modules_run_deterministically_without_engine_errors() {
    let seeds = std::env::var("SHOAL_INTERP_SMITH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SEEDS);
    let (mut ran, mut calls, mut traps, mut inst_traps) = (0, 0, 0, 0);
    for seed in 0..seeds {
        let data = bytes(seed, 16384);
        let mut u = Unstructured::new(&data);
        let Ok(smith) = wasm_smith::Module::new(config(), &mut u) else {
            continue;
        };
        let wasm = smith.to_bytes();
        let m = match Module::new(&wasm) {
            Ok(m) => m,
            Err(e) => panic!("seed {seed}: wasm-smith module rejected: {e}"),
        };
        let Some(first) = observe(&m, false) else {
            continue;
        };
        if let Err(e) = &first.instantiate {
            assert!(
                matches!(e, InstantiateError::Trap(_) | InstantiateError::Resource(_)),
                "seed {seed}: {e}"
            );
        }
        assert_eq!(
            Some(&first),
            observe(&m, false).as_ref(),
            "seed {seed}: rerun differs"
        );
        assert_eq!(
            Some(&first),
            observe(&m, true).as_ref(),
            "seed {seed}: counting differs"
        );
        ran += 1;
        calls += first.calls.len();
        traps += first.calls.iter().filter(|(_, r)| r.is_err()).count();
        inst_traps += first.instantiate.is_err() as usize;
    }
    println!("{ran} modules, {calls} calls, {traps} traps, {inst_traps} instantiation failures");
    assert!(ran > seeds / 2, "only {ran} modules ran");
    assert!(calls > 2 * seeds as usize, "only {calls} calls");
}
