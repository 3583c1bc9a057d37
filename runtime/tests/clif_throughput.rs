//! Compiling, running and dropping many native modules keeps RSS bounded
//! (code memory and trap registrations are released), and the executors'
//! throughput. `SHOAL_CLIF_ROUNDS=100000` runs the full-size check.

use std::time::Instant;

use cranelift_codegen::data_value::DataValue;
use shoal_runtime::clif::differential::{Executor, Verdict, judge};
use shoal_runtime::clif::native::NativeModule;
use shoal_runtime::clif::pulley::PulleyModule;
use shoal_runtime::clif::{ClifConfig, ClifModule, Invocation, OptLevel, Outcome, interp};
use shoal_runtime::native::registered_ranges;

const CASE: &str = "function %f(i64, i64) -> i64 {
    fn0 = %g(i64) -> i64
block0(v0: i64, v1: i64):
    v2 = udiv v0, v1
    v3 = call fn0(v2)
    return v3
}
function %g(i64) -> i64 {
block0(v0: i64):
    v1 = iconst.i64 3
    v2 = imul v0, v1
    return v2
}";

fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4
}

fn rounds() -> usize {
    std::env::var("SHOAL_CLIF_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000)
}

fn invocation(i: usize) -> Invocation {
    Invocation {
        func: "%f".into(),
        args: vec![DataValue::I64(i as i64 * 7), DataValue::I64((i % 5) as i64)],
    }
}

fn expected(i: usize) -> Outcome {
    match i % 5 {
        0 => Outcome::Trapped(cranelift_codegen::ir::TrapCode::INTEGER_DIVISION_BY_ZERO),
        d => Outcome::Returned(vec![DataValue::I64((i as i64 * 7) / d as i64 * 3)]),
    }
}

#[test]
fn compiling_and_dropping_native_modules_keeps_rss_bounded() {
    let module = ClifModule::parse(CASE).unwrap();
    let config = ClifConfig::default();
    let n = rounds();
    let before_ranges = registered_ranges();
    let run = |i: usize| {
        let m = NativeModule::compile(&module, &config).unwrap();
        assert_eq!(m.call(&module, &invocation(i)), Ok(expected(i)));
    };
    for i in 0..200 {
        run(i);
    }
    let warm = rss_kib();
    let start = Instant::now();
    for i in 0..n {
        run(i);
    }
    let secs = start.elapsed().as_secs_f64();
    let grown = rss_kib().saturating_sub(warm);
    println!(
        "native: {n} compile+call+drop in {secs:.2}s ({:.0}/s), RSS +{grown} KiB",
        n as f64 / secs
    );
    assert!(
        grown < 16 * 1024,
        "RSS grew by {grown} KiB over {n} modules"
    );
    // Registrations of other tests may be live concurrently, not ours.
    assert!(registered_ranges() <= before_ranges + 16);
}

#[test]
fn executor_throughput() {
    let module = ClifModule::parse(CASE).unwrap();
    let n = rounds() / 3;
    let time = |what: &str, f: &mut dyn FnMut(usize)| {
        let start = Instant::now();
        for i in 0..n {
            f(i);
        }
        let secs = start.elapsed().as_secs_f64();
        println!("{what}: {:.0}/s", n as f64 / secs);
    };
    time("interpreter run", &mut |i| {
        assert_eq!(
            interp::run(&module, &invocation(i), 10_000),
            Ok(expected(i))
        );
    });
    let native = NativeModule::compile(&module, &ClifConfig::default()).unwrap();
    time("native call (compiled once)", &mut |i| {
        assert_eq!(native.call(&module, &invocation(i)), Ok(expected(i)));
    });
    let pulley = PulleyModule::compile(&module, OptLevel::Speed).unwrap();
    time("pulley call (compiled once)", &mut |i| {
        assert_eq!(pulley.call(&module, &invocation(i)), Ok(expected(i)));
    });
    time("pulley compile+call", &mut |i| {
        let p = PulleyModule::compile(&module, OptLevel::Speed).unwrap();
        assert_eq!(p.call(&module, &invocation(i)), Ok(expected(i)));
    });
    let executors = Executor::default_set();
    let n = n / 10;
    let start = Instant::now();
    for i in 0..n {
        let v = judge(&module, &invocation(i), &executors, 10_000).unwrap();
        assert!(
            matches!(v, Verdict::Agree { compared, .. } if compared == executors.len()),
            "{v}"
        );
    }
    println!(
        "differential judge ({} executors, compile included): {:.0}/s",
        executors.len(),
        n as f64 / start.elapsed().as_secs_f64()
    );
}
