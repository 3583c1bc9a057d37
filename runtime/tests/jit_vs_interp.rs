//! Differential check of the JIT against the interpreter on seeded
//! wasm-smith modules (NaNs canonicalized, so every observation must match
//! bit for bit): instantiation outcome, every exported function's result or
//! trap, and the final contents of exported memories, globals and tables.
//!
//! `SHOAL_JIT_DIFF_CASES` sets the number of modules (default 150);
//! `SHOAL_JIT_DIFF_ALL` runs every configuration of
//! [`JitConfig::all_for_host`] instead of three.

use arbitrary::Unstructured;
use shoal_runtime::engine::{Extern, Store};
use shoal_runtime::interp::InterpEngine;
use shoal_runtime::jit::{BoundsMode, JitConfig, JitEngine, OptLevel};
use shoal_runtime::module::ExternType;
use shoal_runtime::{Engine, InstantiateError, Limits, Module, Trap, ValType, Value};

/// A tiny deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        canonicalize_nans: true,
        exceptions_enabled: false,
        gc_enabled: false,
        threads_enabled: false,
        relaxed_simd_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        compact_imports_enabled: false,
        export_everything: true,
        max_imports: 0,
        max_memories: 2,
        max_tables: 2,
        // Declared maxima bound growth in every engine alike.
        memory_max_size_required: true,
        table_max_size_required: true,
        max_memory32_bytes: 1 << 22,
        max_memory64_bytes: 1 << 22,
        max_table_elements: 1000,
        max_funcs: 20,
        max_instructions: 200,
        ..wasm_smith::Config::default()
    }
}

/// Interesting argument values.
fn arg(rng: &mut Rng, ty: ValType) -> Value {
    const I: [i64; 8] = [0, 1, -1, 2, 0x7fff_ffff, -0x8000_0000, 65535, 65536];
    let pick = |r: &mut Rng| I[(r.next() % I.len() as u64) as usize];
    match ty {
        ValType::I32 => Value::I32(pick(rng) as i32),
        ValType::I64 => Value::I64(pick(rng)),
        ValType::F32 => Value::F32((pick(rng) as f32).to_bits()),
        ValType::F64 => Value::F64((pick(rng) as f64).to_bits()),
        ValType::V128 => Value::V128(u128::from(rng.next()) << 64 | u128::from(rng.next())),
        ValType::FuncRef => Value::FuncRef(None),
        ValType::ExternRef => Value::ExternRef(if rng.next().is_multiple_of(2) {
            None
        } else {
            Some(7)
        }),
    }
}

/// Everything one engine observed.
#[derive(Debug, PartialEq)]
enum Observed {
    /// Instantiation failed with this trap.
    InstantiateTrap(Trap),
    /// Results of each call, then the final state.
    Ran(Vec<Result<Vec<Value>, Trap>>, Vec<String>),
}

fn observe(engine: &dyn Engine, module: &Module, seed: u64) -> Result<Observed, String> {
    let limits = Limits {
        fuel: Some(20_000),
        max_call_depth: 300,
        // Small growth caps keep runaway `memory.grow` loops cheap.
        max_memory_pages: 64,
        max_table_elems: 10_000,
    };
    let mut store = engine.new_store(limits);
    let inst = match store.instantiate(module, &[]) {
        Ok(i) => i,
        Err(InstantiateError::Trap(t)) => return Ok(Observed::InstantiateTrap(t)),
        Err(e) => return Err(e.to_string()),
    };
    let mut rng = Rng(seed);
    let mut calls = Vec::new();
    let exports = store.exports(inst);
    for (_, ext) in &exports {
        if let Extern::Func(f) = *ext {
            let ExternType::Func(ty) = store.extern_type(*ext) else {
                unreachable!()
            };
            let args: Vec<Value> = ty.params.iter().map(|&t| arg(&mut rng, t)).collect();
            calls.push(store.call(f, &args));
        }
    }
    Ok(Observed::Ran(calls, final_state(store.as_ref(), &exports)))
}

fn final_state(store: &dyn Store, exports: &[(String, Extern)]) -> Vec<String> {
    exports
        .iter()
        .filter_map(|(name, ext)| match *ext {
            Extern::Memory(m) => {
                let data = store.memory_data(m);
                let sum = data.iter().enumerate().fold(0u64, |h, (i, &b)| {
                    h.wrapping_mul(31).wrapping_add(b as u64 ^ i as u64)
                });
                Some(format!("{name}: memory {} bytes, hash {sum:x}", data.len()))
            }
            Extern::Global(g) => Some(format!("{name}: {:?}", store.global_get(g))),
            Extern::Table(t) => {
                let n = store.table_size(t);
                let elems: Vec<_> = (0..n.min(64)).map(|i| store.table_get(t, i)).collect();
                Some(format!("{name}: table {n} {elems:?}"))
            }
            Extern::Func(_) => None,
        })
        .collect()
}

#[test]
fn jit_matches_the_interpreter_on_generated_modules() {
    let cases: u64 = std::env::var("SHOAL_JIT_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let configs = if std::env::var_os("SHOAL_JIT_DIFF_ALL").is_some() {
        JitConfig::all_for_host()
    } else {
        vec![
            JitConfig::with_opt(OptLevel::None),
            JitConfig::with_opt(OptLevel::Speed),
            JitConfig {
                bounds: BoundsMode::Guard,
                ..JitConfig::with_opt(OptLevel::Speed)
            },
        ]
    };
    let jits: Vec<JitEngine> = configs
        .iter()
        .map(|&c| JitEngine::new(c).unwrap())
        .collect();
    let interp = InterpEngine::new();
    let (mut compared, mut failures) = (0, Vec::new());
    for case in 0..cases {
        let mut rng = Rng(case.wrapping_mul(0x5851_f42d_4c95_7f2d) ^ 0x1234);
        let data = rng.bytes(4096);
        let mut u = Unstructured::new(&data);
        let Ok(m) = wasm_smith::Module::new(smith_config(), &mut u) else {
            continue;
        };
        let bytes = m.to_bytes();
        let Ok(module) = Module::new(&bytes) else {
            continue;
        };
        let Ok(reference) = observe(&interp, &module, case) else {
            continue; // resource limits: inconclusive
        };
        compared += 1;
        for jit in &jits {
            match observe(jit, &module, case) {
                Ok(o) if o == reference => {}
                other => failures.push(format!(
                    "case {case} on {}: expected {reference:?}\n  got {other:?}\n  wasm: {}",
                    jit.config(),
                    bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
                )),
            }
        }
    }
    eprintln!("compared {compared} of {cases} generated modules");
    assert!(compared > cases / 2, "only {compared} of {cases} cases ran");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
