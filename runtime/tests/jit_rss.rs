//! Code, memories and tables are freed with their store: compiling,
//! instantiating, running and dropping 100,000 small instances in one
//! process keeps RSS bounded.

mod jit_common;

use jit_common::wat;
use shoal_runtime::engine::Extern;
use shoal_runtime::jit::{JitConfig, JitEngine, OptLevel};
use shoal_runtime::{Engine, Limits, Module, Value};

/// Resident set size in bytes, from /proc/self/statm.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("statm resident field");
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

#[test]
fn hundred_thousand_instances_keep_rss_bounded() {
    let engine = JitEngine::new(JitConfig::with_opt(OptLevel::None)).unwrap();
    let module = Module::new(&wat(r#"(module
          (memory 1)
          (table 1 funcref)
          (elem declare func $run)
          (func $run (export "run") (param i32) (result i32)
            (table.set (i32.const 0) (ref.func $run))
            (i32.store (local.get 0) (i32.add (i32.load (local.get 0)) (i32.const 1)))
            (i32.load (local.get 0))))"#))
    .unwrap();
    let run_one = |k: u32| {
        let mut store = engine.new_store(Limits::default());
        let inst = store.instantiate(&module, &[]).unwrap();
        let Some(Extern::Func(f)) = store.export(inst, "run") else {
            panic!("no run export")
        };
        let addr = (k % 1000) as i32 * 4;
        assert_eq!(store.call(f, &[Value::I32(addr)]), Ok(vec![Value::I32(1)]));
    };
    for k in 0..2_000 {
        run_one(k);
    }
    let before = rss();
    for k in 0..100_000 {
        run_one(k);
    }
    let after = rss();
    let growth = after.saturating_sub(before);
    eprintln!("RSS before {before} bytes, after {after} bytes, growth {growth} bytes");
    assert!(
        growth < 16 << 20,
        "RSS grew by {growth} bytes over 100,000 instances"
    );
}
