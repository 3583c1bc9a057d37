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

/// Iterations per opt level for a meaningful figure.
pub const FULL_ITERATIONS: u64 = 2_000;
/// Iterations per opt level for a smoke run.
pub const SMOKE_ITERATIONS: u64 = 20;

/// The benchmark module: a loop summing `0..n` through memory, a recursive
/// Fibonacci reached through `call_indirect` — control flow, memory, calls
/// and tables in a few small functions. `run(10)` returns 45 + 55.
pub const SAMPLE_WAT: &str = r#"
(module
  (type $t (func (param i32) (result i32)))
  (memory 1)
  (table 1 funcref)
  (elem (i32.const 0) $fib)
  (func $fib (type $t)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "run") (type $t) (local i32)
    (loop $l
      (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (local.get 1)))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
    (i32.add (i32.load (i32.const 0))
             (call_indirect (type $t) (i32.const 10) (i32.const 0)))))
"#;

/// The binary of [`SAMPLE_WAT`].
pub fn sample_module() -> Result<Vec<u8>, String> {
    let buf = wast::parser::ParseBuffer::new(SAMPLE_WAT).map_err(|e| e.to_string())?;
    let mut wat = wast::parser::parse::<wast::Wat>(&buf).map_err(|e| e.to_string())?;
    wat.encode().map_err(|e| e.to_string())
}

/// Runs the benchmark for `iterations` modules under each optimization
/// level (default ISA, explicit bounds checks).
pub fn bench(iterations: u64) -> Result<Vec<BenchResult>, String> {
    let bytes = sample_module()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke() {
        let results = bench(3).unwrap();
        assert_eq!(results.len(), OptLevel::ALL.len());
        assert!(
            results
                .iter()
                .all(|r| r.modules == 3 && r.per_second() > 0.0)
        );
    }
}
