//! Throughput benchmark: compile + instantiate + invoke of small modules,
//! per optimization level.

use std::time::{Duration, Instant};

use crate::engine::Extern;
use crate::jit::{JitConfig, JitEngine, OptLevel};
use crate::module::Module;
use crate::trap::Limits;
use crate::values::Value;

/// One benchmark measurement.
#[derive(Clone, Debug)]
pub struct BenchResult {
    /// The configuration measured.
    pub config: String,
    /// Modules compiled, instantiated and invoked.
    pub modules: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl BenchResult {
    /// Modules per second.
    pub fn per_second(&self) -> f64 {
        self.modules as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for BenchResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} modules in {:.2?} ({:.0} compile+instantiate+invoke/s)",
            self.config,
            self.modules,
            self.elapsed,
            self.per_second()
        )
    }
}

/// A small module: a loop summing `0..n` through memory, a recursive
/// Fibonacci and an indirect call — exercising control flow, memory,
/// calls and tables. Exports `run(i32) -> i32`.
pub fn sample_module() -> Vec<u8> {
    wasm_module_bytes()
}

/// Hand-assembled binary for [`sample_module`].
fn wasm_module_bytes() -> Vec<u8> {
    // (module
    //   (type $t (func (param i32) (result i32)))
    //   (memory 1)
    //   (table 1 funcref)
    //   (elem (i32.const 0) $fib)
    //   (func $fib (type $t)
    //     (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
    //       (then (local.get 0))
    //       (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
    //                      (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
    //   (func (export "run") (type $t) (local i32)
    //     (loop $l
    //       (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (local.get 1)))
    //       (local.set 1 (i32.add (local.get 1) (i32.const 1)))
    //       (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
    //     (i32.add (i32.load (i32.const 0))
    //              (call_indirect (type $t) (i32.const 10) (i32.const 0)))))
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    let section = |m: &mut Vec<u8>, id: u8, body: &[u8]| {
        m.push(id);
        m.push(body.len() as u8);
        m.extend_from_slice(body);
    };
    section(&mut m, 1, &[1, 0x60, 1, 0x7f, 1, 0x7f]);
    section(&mut m, 3, &[2, 0, 0]);
    section(&mut m, 4, &[1, 0x70, 0, 1]);
    section(&mut m, 5, &[1, 0, 1]);
    section(&mut m, 7, &[1, 3, b'r', b'u', b'n', 0, 1]);
    section(&mut m, 9, &[1, 0, 0x41, 0, 0x0b, 1, 0]);
    let fib: &[u8] = &[
        0, // no locals
        0x20, 0, 0x41, 2, 0x49, // local.get 0; i32.const 2; i32.lt_u
        0x04, 0x7f, // if (result i32)
        0x20, 0,    // local.get 0
        0x05, // else
        0x20, 0, 0x41, 1, 0x6b, 0x10, 0, // fib(n - 1)
        0x20, 0, 0x41, 2, 0x6b, 0x10, 0,    // fib(n - 2)
        0x6a, // i32.add
        0x0b, // end if
        0x0b, // end func
    ];
    let run: &[u8] = &[
        1, 1, 0x7f, // one i32 local
        0x03, 0x40, // loop
        0x41, 0, // i32.const 0 (address)
        0x41, 0, 0x28, 2, 0, // i32.load
        0x20, 1, 0x6a, // + local 1
        0x36, 2, 0, // i32.store
        0x20, 1, 0x41, 1, 0x6a, 0x21, 1, // local1 += 1
        0x20, 1, 0x20, 0, 0x49, 0x0d, 0,    // br_if 0 (local1 < local0)
        0x0b, // end loop
        0x41, 0, 0x28, 2, 0, // i32.load 0
        0x41, 10, 0x41, 0, 0x11, 0, 0, // call_indirect (fib 10)
        0x6a, 0x0b,
    ];
    let mut code = vec![2];
    for body in [fib, run] {
        code.push(body.len() as u8);
        code.extend_from_slice(body);
    }
    section(&mut m, 10, &code);
    m
}

/// Runs the benchmark for `iterations` modules under each optimization
/// level (default ISA, explicit bounds checks).
pub fn bench(iterations: u64) -> Result<Vec<BenchResult>, String> {
    let bytes = sample_module();
    let mut out = Vec::new();
    for opt in OptLevel::ALL {
        let engine = JitEngine::new(JitConfig::with_opt(opt))?;
        let start = Instant::now();
        for _ in 0..iterations {
            run_once(&engine, &bytes)?;
        }
        out.push(BenchResult {
            config: engine.config().to_string(),
            modules: iterations,
            elapsed: start.elapsed(),
        });
    }
    Ok(out)
}

/// Validates, compiles, instantiates and invokes the sample once.
fn run_once(engine: &JitEngine, bytes: &[u8]) -> Result<(), String> {
    use crate::engine::Store;
    let module = Module::new(bytes).map_err(|e| e.to_string())?;
    let mut store = engine.jit_store(Limits::default());
    let inst = store.instantiate(&module, &[]).map_err(|e| e.to_string())?;
    let Some(Extern::Func(run)) = store.export(inst, "run") else {
        return Err("sample module lacks `run`".into());
    };
    let r = store
        .call(run, &[Value::I32(10)])
        .map_err(|t| t.to_string())?;
    // sum(0..10) = 45, fib(10) = 55.
    if r != [Value::I32(100)] {
        return Err(format!("sample module returned {r:?}"));
    }
    Ok(())
}
