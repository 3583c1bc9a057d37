//! Every trap kind, raised natively by JIT code (SIGILL, SIGFPE, SIGSEGV
//! through the trap table, or a libcall status), under both bounds modes
//! and both CI opt levels.

mod jit_common;

use jit_common::{call, wat};
use shoal_runtime::engine::Store;
use shoal_runtime::interp::InterpEngine;
use shoal_runtime::jit::{BoundsMode, JitConfig, JitEngine, OptLevel};
use shoal_runtime::values::{FuncType, ValType};
use shoal_runtime::{Engine, Limits, Module, Trap, Value};

const TRAPS: &str = r#"
(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (import "host" "fail" (func $fail))
  (memory 1)
  (memory $m64 i64 1)
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $id $nop)
  (func $id (type $ii) (local.get 0))
  (func $nop (type $v))
  (func (export "unreachable") unreachable)
  (func (export "div_u") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem_u64") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
  (func (export "div_s64") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
  (func (export "trunc") (param f32) (result i32) (i32.trunc_f32_u (local.get 0)))
  (func (export "trunc64") (param f64) (result i64) (i64.trunc_f64_s (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load_off") (param i32) (result i64) (i64.load offset=0xfffffff8 (local.get 0)))
  (func (export "store16") (param i32) (i32.store16 (local.get 0) (i32.const -1)))
  (func (export "v128load") (param i32) (result i32) (i32x4.extract_lane 3 (v128.load (local.get 0))))
  (func (export "load64") (param i64) (result i64) (i64.load $m64 (local.get 0)))
  (func (export "store64_max") (param i64) (i64.store $m64 offset=0xffffffffffffffff (local.get 0) (i64.const 1)))
  (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 1) (local.get 1)))
  (func (export "table_get") (param i32) (result funcref) (table.get $t (local.get 0)))
  (func (export "table_fill") (param i32 i32) (table.fill $t (local.get 0) (ref.null func) (local.get 1)))
  (func (export "call_ind") (param i32) (result i32) (call_indirect $t (type $ii) (i32.const 7) (local.get 0)))
  (func (export "host") (call $fail))
  (func $down (export "recurse") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $down (i32.sub (local.get 0) (i32.const 1)))))))
  (func $forever (export "forever") (param i64 i64 i64 i64) (result i64)
    (i64.add (i64.const 1) (call $forever (local.get 0) (local.get 1) (local.get 2) (local.get 3))))
  (func (export "spin") (loop $l (br $l)))
)"#;

fn configs() -> Vec<JitConfig> {
    let mut v = Vec::new();
    for opt in [OptLevel::None, OptLevel::Speed] {
        for bounds in [BoundsMode::Explicit, BoundsMode::Guard] {
            v.push(JitConfig {
                opt,
                bounds,
                ..JitConfig::default()
            });
        }
    }
    v
}

fn setup_on(engine: &dyn Engine, limits: Limits) -> (Box<dyn Store>, shoal_runtime::InstanceId) {
    let mut store = engine.new_store(limits);
    let fail = store.alloc_host_func(FuncType::default(), Box::new(|_| Err(Trap::Host)));
    let module = Module::new(&wat(TRAPS)).unwrap();
    let inst = store
        .instantiate(&module, &[shoal_runtime::Extern::Func(fail)])
        .unwrap();
    (store, inst)
}

fn setup(cfg: JitConfig, limits: Limits) -> (Box<dyn Store>, shoal_runtime::InstanceId) {
    setup_on(&JitEngine::new(cfg).unwrap(), limits)
}

const PAGE: i32 = 65536;

type Case = (&'static str, Vec<Value>, Result<Vec<Value>, Trap>);

fn cases() -> Vec<Case> {
    use Value::{F32, F64, I32, I64};
    vec![
        ("unreachable", vec![], Err(Trap::Unreachable)),
        (
            "div_u",
            vec![I32(1), I32(0)],
            Err(Trap::IntegerDivideByZero),
        ),
        (
            "div_s",
            vec![I32(1), I32(0)],
            Err(Trap::IntegerDivideByZero),
        ),
        (
            "div_s",
            vec![I32(i32::MIN), I32(-1)],
            Err(Trap::IntegerOverflow),
        ),
        (
            "div_s",
            vec![I32(i32::MIN), I32(1)],
            Ok(vec![I32(i32::MIN)]),
        ),
        (
            "rem_u64",
            vec![I64(5), I64(0)],
            Err(Trap::IntegerDivideByZero),
        ),
        (
            "div_s64",
            vec![I64(i64::MIN), I64(-1)],
            Err(Trap::IntegerOverflow),
        ),
        (
            "trunc",
            vec![F32(f32::NAN.to_bits())],
            Err(Trap::InvalidConversionToInteger),
        ),
        (
            "trunc",
            vec![F32((-1.0f32).to_bits())],
            Err(Trap::IntegerOverflow),
        ),
        ("trunc", vec![F32((-0.9f32).to_bits())], Ok(vec![I32(0)])),
        (
            "trunc64",
            vec![F64(9.3e18f64.to_bits())],
            Err(Trap::IntegerOverflow),
        ),
        // Exact boundaries of a one-page memory.
        ("load32", vec![I32(PAGE - 4)], Ok(vec![I32(0)])),
        ("load32", vec![I32(PAGE - 3)], Err(Trap::MemoryOutOfBounds)),
        ("load8", vec![I32(PAGE - 1)], Ok(vec![I32(0)])),
        ("load8", vec![I32(PAGE)], Err(Trap::MemoryOutOfBounds)),
        ("load8", vec![I32(-1)], Err(Trap::MemoryOutOfBounds)),
        ("load_off", vec![I32(0)], Err(Trap::MemoryOutOfBounds)),
        ("load_off", vec![I32(-1)], Err(Trap::MemoryOutOfBounds)),
        ("store16", vec![I32(PAGE - 2)], Ok(vec![])),
        ("store16", vec![I32(PAGE - 1)], Err(Trap::MemoryOutOfBounds)),
        ("v128load", vec![I32(PAGE - 16)], Ok(vec![I32(-65536)])),
        (
            "v128load",
            vec![I32(PAGE - 15)],
            Err(Trap::MemoryOutOfBounds),
        ),
        ("load64", vec![I64(i64::from(PAGE) - 8)], Ok(vec![I64(0)])),
        (
            "load64",
            vec![I64(i64::from(PAGE) - 7)],
            Err(Trap::MemoryOutOfBounds),
        ),
        ("load64", vec![I64(-1)], Err(Trap::MemoryOutOfBounds)),
        ("store64_max", vec![I64(0)], Err(Trap::MemoryOutOfBounds)),
        (
            "fill",
            vec![I32(PAGE - 1), I32(2)],
            Err(Trap::MemoryOutOfBounds),
        ),
        ("fill", vec![I32(PAGE), I32(0)], Ok(vec![])),
        // Tables and indirect calls.
        ("table_get", vec![I32(4)], Err(Trap::TableOutOfBounds)),
        ("table_get", vec![I32(3)], Ok(vec![Value::FuncRef(None)])),
        (
            "table_fill",
            vec![I32(3), I32(2)],
            Err(Trap::TableOutOfBounds),
        ),
        ("call_ind", vec![I32(0)], Ok(vec![I32(7)])),
        ("call_ind", vec![I32(4)], Err(Trap::UndefinedElement)),
        ("call_ind", vec![I32(-1)], Err(Trap::UndefinedElement)),
        ("call_ind", vec![I32(2)], Err(Trap::UninitializedElement)),
        (
            "call_ind",
            vec![I32(1)],
            Err(Trap::IndirectCallTypeMismatch),
        ),
        ("host", vec![], Err(Trap::Host)),
        ("recurse", vec![I32(1999)], Ok(vec![I32(1999)])),
        ("recurse", vec![I32(2000)], Err(Trap::CallStackExhausted)),
        // The store is still usable after every trap.
        ("div_u", vec![I32(9), I32(3)], Ok(vec![I32(3)])),
    ]
}

#[test]
fn every_trap_kind_natively_and_as_the_interpreter() {
    let cases = cases();
    // The interpreter (the reference) agrees with every expectation...
    let (mut s, i) = setup_on(&InterpEngine::new(), Limits::default());
    for (name, args, expected) in &cases {
        assert_eq!(
            &call(&mut s, i, name, args),
            expected,
            "interp: {name}{args:?}"
        );
    }
    // ...and so does every JIT configuration.
    for cfg in configs() {
        let (mut s, i) = setup(cfg, Limits::default());
        for (name, args, expected) in &cases {
            assert_eq!(
                &call(&mut s, i, name, args),
                expected,
                "{cfg}: {name}{args:?}"
            );
        }
    }
}

/// The JIT configurations to run, then the interpreter (reference).
fn engines_with_interp() -> Vec<(String, Box<dyn Engine>)> {
    let mut v: Vec<(String, Box<dyn Engine>)> = configs()
        .into_iter()
        .step_by(2)
        .map(|c| {
            (
                c.to_string(),
                Box::new(JitEngine::new(c).unwrap()) as Box<dyn Engine>,
            )
        })
        .collect();
    v.push(("interp".into(), Box::new(InterpEngine::new())));
    v
}

#[test]
fn deep_recursion() {
    let limits = Limits {
        fuel: None,
        max_call_depth: 100_000,
        ..Limits::default()
    };
    for (name, engine) in engines_with_interp() {
        // 100,000 frames fit on the execution stack.
        let (mut s, i) = setup_on(engine.as_ref(), limits);
        let r = call(&mut s, i, "recurse", &[Value::I32(99_999)]);
        assert_eq!(r, Ok(vec![Value::I32(99_999)]), "{name}");
        let r = call(&mut s, i, "recurse", &[Value::I32(100_000)]);
        assert_eq!(r, Err(Trap::CallStackExhausted), "{name}");
    }
}

#[test]
fn native_stack_overflow_is_a_clean_trap() {
    // With no effective depth limit the native stack limit is reached
    // first: still CallStackExhausted, never a crash.
    let limits = Limits {
        fuel: None,
        max_call_depth: u32::MAX,
        ..Limits::default()
    };
    for cfg in configs().into_iter().step_by(2) {
        let (mut s, i) = setup(cfg, limits);
        let args = [Value::I64(1), Value::I64(2), Value::I64(3), Value::I64(4)];
        let r = call(&mut s, i, "forever", &args);
        assert_eq!(r, Err(Trap::CallStackExhausted), "{cfg}");
        let r = call(&mut s, i, "recurse", &[Value::I32(10)]);
        assert_eq!(r, Ok(vec![Value::I32(10)]), "{cfg}");
    }
}

#[test]
fn fuel_exhaustion() {
    let limits = Limits {
        fuel: Some(1000),
        max_call_depth: 2000,
        ..Limits::default()
    };
    for (name, engine) in engines_with_interp() {
        let (mut s, i) = setup_on(engine.as_ref(), limits);
        assert_eq!(call(&mut s, i, "spin", &[]), Err(Trap::OutOfFuel), "{name}");
        // One unit per entered function: recurse(n) enters n + 1 frames.
        let r = call(&mut s, i, "recurse", &[Value::I32(999)]);
        assert_eq!(r, Ok(vec![Value::I32(999)]), "{name}");
        let r = call(&mut s, i, "recurse", &[Value::I32(1000)]);
        assert_eq!(r, Err(Trap::OutOfFuel), "{name}");
    }
}

#[test]
fn a_trap_in_a_host_function_reports_its_kind() {
    let engine = JitEngine::new(JitConfig::default()).unwrap();
    let mut store = engine.new_store(Limits::default());
    let ty = FuncType {
        params: vec![ValType::I32],
        results: vec![],
    };
    let h = store.alloc_host_func(ty, Box::new(|_| Err(Trap::OutOfFuel)));
    let m = Module::new(&wat(r#"(module (import "h" "f" (func $f (param i32)))
             (func (export "go") (call $f (i32.const 1))))"#))
    .unwrap();
    let i = store
        .instantiate(&m, &[shoal_runtime::Extern::Func(h)])
        .unwrap();
    let mut store = store;
    assert_eq!(call(&mut store, i, "go", &[]), Err(Trap::OutOfFuel));
}

#[test]
fn traps_arrive_through_the_expected_signals() {
    let cases: [(&str, Vec<Value>, BoundsMode, i32); 5] = [
        ("unreachable", vec![], BoundsMode::Explicit, libc::SIGILL),
        (
            "div_u",
            vec![Value::I32(1), Value::I32(0)],
            BoundsMode::Explicit,
            libc::SIGFPE,
        ),
        (
            "div_s64",
            vec![Value::I64(i64::MIN), Value::I64(-1)],
            BoundsMode::Explicit,
            libc::SIGFPE,
        ),
        (
            "load32",
            vec![Value::I32(PAGE - 3)],
            BoundsMode::Explicit,
            libc::SIGILL,
        ),
        (
            "load32",
            vec![Value::I32(PAGE - 3)],
            BoundsMode::Guard,
            libc::SIGSEGV,
        ),
    ];
    for (name, args, bounds, signal) in cases {
        for opt in [OptLevel::None, OptLevel::Speed] {
            let engine = JitEngine::new(JitConfig {
                opt,
                bounds,
                ..JitConfig::default()
            })
            .unwrap();
            let mut store = engine.jit_store(Limits::default());
            let fail = store.alloc_host_func(FuncType::default(), Box::new(|_| Err(Trap::Host)));
            let module = Module::new(&wat(TRAPS)).unwrap();
            let inst = store
                .instantiate(&module, &[shoal_runtime::Extern::Func(fail)])
                .unwrap();
            let Some(shoal_runtime::Extern::Func(f)) = store.export(inst, name) else {
                panic!("no export {name}")
            };
            assert!(store.call(f, &args).is_err());
            let t = store.last_native_trap().expect("a native trap");
            assert_eq!(t.signal, signal, "{name} {bounds:?} {opt:?}: {t:?}");
        }
    }
}
