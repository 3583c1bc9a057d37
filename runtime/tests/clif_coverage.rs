//! Live rule coverage: compiling CLIF inside `coverage::collect` counts the
//! ISLE rules that fired, per thread and per unit; and the cost of doing so.
//! (Without the `rule-coverage` feature only the cost benchmark runs.)

use shoal_runtime::clif::compile::compile_code;
use shoal_runtime::clif::{ClifConfig, ClifModule};
use shoal_runtime::coverage;
#[cfg(feature = "rule-coverage")]
use shoal_runtime::{
    clif::{OptLevel, native, pulley},
    coverage::{RuleHits, RuleId},
};

const ADD_ZERO: &str = "function %f(i32) -> i32 {
block0(v0: i32):
    v1 = iconst.i32 0
    v2 = iadd v0, v1
    v3 = imul v2, v2
    return v3
}";

const FLOATS: &str = "function %g(f64, f64) -> f64 {
block0(v0: f64, v1: f64):
    v2 = fmul v0, v1
    v3 = fadd v2, v0
    v4 = fcmp lt v3, v1
    v5 = select v4, v3, v1
    return v5
}";

#[cfg(feature = "rule-coverage")]
fn compile_native(text: &str) -> RuleHits {
    let module = ClifModule::parse(text).unwrap();
    let (r, hits) =
        coverage::collect(|| native::NativeModule::compile(&module, &ClifConfig::default()));
    assert!(r.is_ok());
    hits
}

#[test]
#[cfg(feature = "rule-coverage")]
fn native_compile_fires_x64_and_mid_end_rules() {
    let hits = compile_native(ADD_ZERO);
    let x64: Vec<&RuleId> = hits.in_unit("x64").map(|(r, _)| r).collect();
    let opt: Vec<&RuleId> = hits.in_unit("opt").map(|(r, _)| r).collect();
    assert!(
        x64.iter().any(|r| r.file == "src/isa/x64/lower.isle"),
        "{x64:?}"
    );
    // `iadd x, 0` is simplified by the arithmetic rules.
    assert!(
        opt.iter().any(|r| r.file == "src/opts/arithmetic.isle"),
        "{opt:?}"
    );
    assert!(hits.iter().all(|(r, n)| r.line >= 1 && n >= 1));
    assert_eq!(hits.len(), hits.iter().count());
}

#[test]
#[cfg(feature = "rule-coverage")]
fn pulley_compile_fires_pulley_rules() {
    let module = ClifModule::parse(FLOATS).unwrap();
    let (r, hits) = coverage::collect(|| pulley::PulleyModule::compile(&module, OptLevel::Speed));
    assert!(r.is_ok());
    assert!(
        hits.in_unit("pulley")
            .any(|(r, _)| r.file == "src/isa/pulley_shared/lower.isle"),
        "{hits:?}"
    );
    assert!(hits.in_unit("x64").next().is_none());
}

#[test]
#[cfg(feature = "rule-coverage")]
fn hits_are_per_thread_and_deterministic() {
    let alone = compile_native(FLOATS);
    assert!(!alone.is_empty());
    // Another thread compiling something else meanwhile must not leak in.
    let noise = std::thread::spawn(|| {
        for _ in 0..20 {
            compile_native(ADD_ZERO);
        }
    });
    for _ in 0..20 {
        assert_eq!(compile_native(FLOATS), alone);
    }
    noise.join().unwrap();
    // Compiling outside `collect` counts nothing, and a thread that is not
    // collecting does not disturb one that is.
    let module = ClifModule::parse(ADD_ZERO).unwrap();
    assert!(native::NativeModule::compile(&module, &ClifConfig::default()).is_ok());
    let ((), empty) = coverage::collect(|| ());
    assert!(empty.is_empty());
}

#[test]
#[cfg(feature = "rule-coverage")]
fn paused_and_nested_collections() {
    let module = ClifModule::parse(ADD_ZERO).unwrap();
    let isa = ClifConfig::default().host_isa().unwrap();
    let func = &module.functions()[0];
    let ((), outer) = coverage::collect(|| {
        let (_, paused) = coverage::collect(|| {
            coverage::paused(|| compile_code(&*isa, func, true).unwrap());
        });
        assert!(paused.is_empty());
        let (_, inner) = coverage::collect(|| compile_code(&*isa, func, true).unwrap());
        assert!(!inner.is_empty());
    });
    // The outer collection received the inner one's hits.
    let (_, again) = coverage::collect(|| compile_code(&*isa, func, true).unwrap());
    assert_eq!(outer, again);
}

/// CPU time of the calling thread in seconds (immune to the other
/// processes sharing the machine, unlike wall-clock time).
fn thread_cpu_time() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the provided timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Compiles `funcs` `rounds` times; returns thread CPU seconds.
fn time_compiles(funcs: &[cranelift_codegen::ir::Function], rounds: usize, collect: bool) -> f64 {
    let isa = ClifConfig::default().host_isa().unwrap();
    let start = thread_cpu_time();
    for _ in 0..rounds {
        for f in funcs {
            if collect {
                let _ = coverage::collect(|| compile_code(&*isa, f, true).unwrap());
            } else {
                compile_code(&*isa, f, true).unwrap();
            }
        }
    }
    thread_cpu_time() - start
}

#[test]
fn counting_overhead_is_modest() {
    // Same functions, counting off / on, interleaved so both see the same
    // noise. SHOAL_BENCH_ROUNDS scales it up for a real measurement.
    let rounds: usize = std::env::var("SHOAL_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let module = ClifModule::parse(&format!("{ADD_ZERO}\n{FLOATS}")).unwrap();
    let funcs = module.functions();
    time_compiles(funcs, 5, true); // warm up caches and the logger
    let (mut on, mut off) = (0.0, 0.0);
    // SHOAL_BENCH_MODE=off|collect|batch runs one mode only, for external
    // measurement (e.g. `perf stat -e instructions:u`).
    if let Ok(mode) = std::env::var("SHOAL_BENCH_MODE") {
        let n = rounds * 50;
        let t = match mode.as_str() {
            "off" => time_compiles(funcs, n, false),
            "collect" => time_compiles(funcs, n, true),
            _ => coverage::collect(|| time_compiles(funcs, n, false)).0,
        };
        println!(
            "{mode}: {:.1} us/function",
            t / (n * funcs.len()) as f64 * 1e6
        );
        return;
    }
    for i in 0..rounds {
        if i % 2 == 0 {
            off += time_compiles(funcs, 50, false);
            on += time_compiles(funcs, 50, true);
        } else {
            on += time_compiles(funcs, 50, true);
            off += time_compiles(funcs, 50, false);
        }
    }
    let n = (rounds * 50 * funcs.len()) as f64;
    println!(
        "compile: {:.1} us/function without counting, {:.1} us with a collect per compile (+{:.1}%)",
        off / n * 1e6,
        on / n * 1e6,
        (on / off - 1.0) * 100.0
    );
    // Generous bound: this guards against pathological slowdowns (e.g.
    // formatting every debug record), not against noise. Unoptimised
    // builds run shoal's own counting code at -O0 (dependencies are -O2).
    let bound = if cfg!(debug_assertions) { 4.0 } else { 1.5 };
    assert!(on < off * bound, "counting costs {on:.3}s vs {off:.3}s");
}
