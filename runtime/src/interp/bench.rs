//! Interpreter throughput on a few compute kernels (for `shoal bench`).
//!
//! Each kernel is instantiated in a fresh store, run once with instruction
//! counting on (the count is deterministic), then timed with counting off
//! (best of three runs). Its result is checked against a host computation, so a wrong
//! interpreter cannot report a throughput figure. Throughput counts
//! pre-decoded ops (see [`InterpStore::instructions_executed`]).

use std::fmt;
use std::time::Instant;

use super::{InterpEngine, InterpStore};
use crate::engine::{Extern, InstantiateError, Store};
use crate::module::Module;
use crate::trap::Limits;
use crate::values::Value;

/// Problem sizes of the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenchSize {
    /// Argument of the recursive Fibonacci kernel.
    pub fib_n: i32,
    /// Sieve of Eratosthenes bound (at most 1048576: one MiB of memory).
    pub sieve_n: i32,
    /// Passes of the SIMD kernel over 64 KiB.
    pub simd_passes: i32,
}

impl BenchSize {
    /// Sizes for a meaningful measurement (about a second in release).
    pub const FULL: BenchSize = BenchSize {
        fib_n: 30,
        sieve_n: 1 << 20,
        simd_passes: 400,
    };
    /// Tiny sizes for smoke tests.
    pub const SMOKE: BenchSize = BenchSize {
        fib_n: 12,
        sieve_n: 1000,
        simd_passes: 2,
    };
}

/// Measured figures of one kernel run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    /// Instructions (pre-decoded ops) executed.
    pub instructions: u64,
    /// Wall-clock seconds of the uncounted run.
    pub seconds: f64,
}

impl Figures {
    /// Instructions per second.
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.instructions as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// What happened to one kernel.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// It ran and produced the expected result.
    Ran(Figures),
    /// It could not run in this build (reason).
    Skipped(String),
    /// It ran but failed or produced a wrong result (a bug).
    Failed(String),
}

/// One kernel's report.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelReport {
    /// Kernel name and size, e.g. `fib(30)`.
    pub name: String,
    /// Outcome.
    pub outcome: Outcome,
}

impl fmt::Display for KernelReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Outcome::Ran(x) => write!(
                f,
                "{}: {} instructions in {:.3} s = {:.1} M instructions/s",
                self.name,
                x.instructions,
                x.seconds,
                x.per_second() / 1e6
            ),
            Outcome::Skipped(why) => write!(f, "{}: skipped: {why}", self.name),
            Outcome::Failed(why) => write!(f, "{}: FAILED: {why}", self.name),
        }
    }
}

const FIB: &str = r#"(module
  (func $fib (export "run") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#;

const SIEVE: &str = r#"(module
  (memory 16)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $count i32)
    (memory.fill (i32.const 0) (i32.const 1) (local.get $n))
    (local.set $i (i32.const 2))
    (block $done
      (loop $outer
        (br_if $done (i32.gt_u (i32.mul (local.get $i) (local.get $i)) (local.get $n)))
        (if (i32.load8_u (local.get $i))
          (then
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            (block $b
              (loop $inner
                (br_if $b (i32.ge_u (local.get $j) (local.get $n)))
                (i32.store8 (local.get $j) (i32.const 0))
                (local.set $j (i32.add (local.get $j) (local.get $i)))
                (br $inner)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (local.set $i (i32.const 2))
    (block $d2
      (loop $l2
        (br_if $d2 (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $count (i32.add (local.get $count) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l2)))
    (local.get $count)))"#;

const SIMD: &str = r#"(module
  (memory 1)
  (func (export "run") (param $passes i32) (result i32)
    (local $acc v128) (local $p i32)
    (memory.fill (i32.const 0) (i32.const 3) (i32.const 65536))
    (block $done
      (loop $outer
        (br_if $done (i32.eqz (local.get $passes)))
        (local.set $p (i32.const 0))
        (loop $inner
          (local.set $acc (i32x4.add (local.get $acc) (v128.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $inner (i32.lt_u (local.get $p) (i32.const 65536))))
        (local.set $passes (i32.sub (local.get $passes) (i32.const 1)))
        (br $outer)))
    (i32.add (i32x4.extract_lane 0 (local.get $acc))
             (i32x4.extract_lane 3 (local.get $acc)))))"#;

fn fib(n: i32) -> i32 {
    let (mut a, mut b) = (0i32, 1i32);
    for _ in 0..n {
        (a, b) = (b, a.wrapping_add(b));
    }
    a
}

fn primes_below(n: i32) -> i32 {
    let n = n.max(0) as usize;
    let mut sieve = vec![true; n];
    let mut count = 0;
    for i in 2..n {
        if sieve[i] {
            count += 1;
            let mut j = i * i;
            while j < n {
                sieve[j] = false;
                j += i;
            }
        }
    }
    count
}

fn simd_expected(passes: i32) -> i32 {
    let lane = 0x0303_0303i32.wrapping_mul(4096).wrapping_mul(passes);
    lane.wrapping_mul(2)
}

/// Runs every kernel at `size` and reports its figures.
pub fn bench_kernels(size: BenchSize) -> Vec<KernelReport> {
    vec![
        kernel(
            format!("fib({})", size.fib_n),
            FIB,
            size.fib_n,
            fib(size.fib_n),
        ),
        kernel(
            format!("sieve({})", size.sieve_n),
            SIEVE,
            size.sieve_n,
            primes_below(size.sieve_n),
        ),
        kernel(
            format!("simd-sum({} passes)", size.simd_passes),
            SIMD,
            size.simd_passes,
            simd_expected(size.simd_passes),
        ),
    ]
}

fn kernel(name: String, wat: &str, arg: i32, expected: i32) -> KernelReport {
    KernelReport {
        outcome: measure(wat, arg, expected),
        name,
    }
}

/// Timed runs per kernel (the fastest counts).
const TIMED_RUNS: usize = 3;

fn measure(wat: &str, arg: i32, expected: i32) -> Outcome {
    let bytes = match wat::parse(wat) {
        Ok(b) => b,
        Err(e) => return Outcome::Failed(format!("kernel text: {e}")),
    };
    let module = match Module::new(&bytes) {
        Ok(m) => m,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let counted = match run_once(&module, arg, true) {
        Ok((_, n)) => n,
        Err(o) => return o,
    };
    // The best of a few runs: the machine may be shared.
    let mut seconds = f64::INFINITY;
    for _ in 0..TIMED_RUNS {
        let start = Instant::now();
        let got = match run_once(&module, arg, false) {
            Ok((v, _)) => v,
            Err(o) => return o,
        };
        seconds = seconds.min(start.elapsed().as_secs_f64());
        if got != vec![Value::I32(expected)] {
            return Outcome::Failed(format!("returned {got:?}, expected {expected}"));
        }
    }
    Outcome::Ran(Figures {
        instructions: counted,
        seconds,
    })
}

/// Instantiates and runs the kernel's `run` export once.
fn run_once(module: &Module, arg: i32, count: bool) -> Result<(Vec<Value>, u64), Outcome> {
    let mut store: InterpStore = InterpEngine.interp_store(Limits {
        fuel: None,
        max_call_depth: 100_000,
        ..Limits::default()
    });
    store.set_counting(count);
    let inst = match store.instantiate(module, &[]) {
        Ok(i) => i,
        Err(InstantiateError::Engine(e)) if e.contains("SIMD operator") => {
            return Err(Outcome::Skipped("SIMD unavailable".into()));
        }
        Err(e) => return Err(Outcome::Failed(e.to_string())),
    };
    let Some(Extern::Func(f)) = store.export(inst, "run") else {
        return Err(Outcome::Failed("no `run` export".into()));
    };
    let out = store
        .call(f, &[Value::I32(arg)])
        .map_err(|t| Outcome::Failed(format!("trapped: {t}")))?;
    Ok((out, store.instructions_executed()))
}

/// Minimal text-to-binary step for the kernels (the `wast` crate).
mod wat {
    pub fn parse(text: &str) -> Result<Vec<u8>, wast::Error> {
        let buf = wast::parser::ParseBuffer::new(text)?;
        let mut module = wast::parser::parse::<wast::Wat>(&buf)?;
        module.encode()
    }
}
