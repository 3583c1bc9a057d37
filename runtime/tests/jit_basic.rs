//! Basic execution on the JIT: arithmetic, control flow, calls, memory,
//! globals, tables, host functions and linking, under opt none and speed.

mod jit_common;

use jit_common::{call, engines, instance, wat};
use shoal_runtime::engine::{Extern, Store};
use shoal_runtime::values::{FuncType, GlobalType, ValType};
use shoal_runtime::{Limits, Module, Trap, Value};

const ARITH: &str = r#"
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem_s") (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
  (func (export "fmin") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
  (func (export "trunc") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
  (func (export "eqz") (param i64) (result i32) (i64.eqz (local.get 0)))
  (func (export "ext8") (param i32) (result i32) (i32.extend8_s (local.get 0)))
  (func (export "multi") (param i32) (result i32 i64 f32 f64 i32 i32 i32 i32 i32 i32 i32 i32)
    local.get 0 i64.const 2 f32.const 3 f64.const 4
    i32.const 5 i32.const 6 i32.const 7 i32.const 8 i32.const 9 i32.const 10 i32.const 11 i32.const 12)
  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "sum") (param i32) (result i32) (local i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get 0)))
        (local.set 1 (i32.add (local.get 1) (local.get 0)))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br $l)))
    (local.get 1))
  (func (export "switch") (param i32) (result i32)
    (block $c (block $b (block $a
      (br_table $a $b $c (local.get 0)))
      (return (i32.const 10)))
      (return (i32.const 20)))
    (i32.const 30))
)"#;

#[test]
fn arithmetic_control_and_calls() {
    for e in engines() {
        let (mut s, i) = instance(&e, ARITH, Limits::default());
        let c = |s: &mut Box<dyn Store>, n: &str, a: &[Value]| call(s, i, n, a);
        assert_eq!(
            c(&mut s, "add", &[Value::I32(2), Value::I32(40)]),
            Ok(vec![Value::I32(42)])
        );
        assert_eq!(
            c(&mut s, "div_s", &[Value::I32(7), Value::I32(0)]),
            Err(Trap::IntegerDivideByZero)
        );
        assert_eq!(
            c(&mut s, "div_s", &[Value::I32(i32::MIN), Value::I32(-1)]),
            Err(Trap::IntegerOverflow)
        );
        assert_eq!(
            c(&mut s, "rem_s", &[Value::I64(i64::MIN), Value::I64(-1)]),
            Ok(vec![Value::I64(0)])
        );
        assert_eq!(
            c(
                &mut s,
                "fmin",
                &[Value::F32(0f32.to_bits()), Value::F32((-0f32).to_bits())]
            ),
            Ok(vec![Value::F32((-0f32).to_bits())])
        );
        assert_eq!(
            c(&mut s, "trunc", &[Value::F64(f64::NAN.to_bits())]),
            Err(Trap::InvalidConversionToInteger)
        );
        assert_eq!(
            c(&mut s, "trunc", &[Value::F64(3e9f64.to_bits())]),
            Err(Trap::IntegerOverflow)
        );
        assert_eq!(c(&mut s, "eqz", &[Value::I64(0)]), Ok(vec![Value::I32(1)]));
        assert_eq!(
            c(&mut s, "ext8", &[Value::I32(0x80)]),
            Ok(vec![Value::I32(-128)])
        );
        let m = c(&mut s, "multi", &[Value::I32(1)]).unwrap();
        assert_eq!(m.len(), 12);
        assert_eq!(m[3], Value::F64(4f64.to_bits()));
        assert_eq!(m[11], Value::I32(12));
        assert_eq!(
            c(&mut s, "fac", &[Value::I64(20)]),
            Ok(vec![Value::I64(2432902008176640000)])
        );
        assert_eq!(
            c(&mut s, "sum", &[Value::I32(100)]),
            Ok(vec![Value::I32(5050)])
        );
        for (x, r) in [(0, 10), (1, 20), (2, 30), (99, 30)] {
            assert_eq!(
                c(&mut s, "switch", &[Value::I32(x)]),
                Ok(vec![Value::I32(r)])
            );
        }
    }
}

const MEM: &str = r#"
(module
  (memory 1 2)
  (data (i32.const 8) "\01\02\03\04")
  (global $g (mut i32) (i32.const 5))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load8") (param i32) (result i32) (i32.load8_s offset=1 (local.get 0)))
  (func (export "store") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "bump") (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (global.get $g))
)"#;

#[test]
fn memory_and_globals() {
    for e in engines() {
        let (mut s, i) = instance(&e, MEM, Limits::default());
        assert_eq!(
            call(&mut s, i, "load", &[Value::I32(8)]),
            Ok(vec![Value::I32(0x04030201)])
        );
        assert_eq!(
            call(&mut s, i, "load8", &[Value::I32(65534)]),
            Ok(vec![Value::I32(0)])
        );
        assert_eq!(
            call(&mut s, i, "load", &[Value::I32(65533)]),
            Err(Trap::MemoryOutOfBounds)
        );
        assert_eq!(
            call(&mut s, i, "load", &[Value::I32(65532)]),
            Ok(vec![Value::I32(0)])
        );
        assert_eq!(
            call(&mut s, i, "load", &[Value::I32(-1)]),
            Err(Trap::MemoryOutOfBounds)
        );
        assert_eq!(
            call(&mut s, i, "store", &[Value::I32(65529), Value::I64(-1)]),
            Err(Trap::MemoryOutOfBounds)
        );
        assert_eq!(
            call(&mut s, i, "grow", &[Value::I32(1)]),
            Ok(vec![Value::I32(1)])
        );
        assert_eq!(
            call(&mut s, i, "grow", &[Value::I32(1)]),
            Ok(vec![Value::I32(-1)])
        );
        assert_eq!(call(&mut s, i, "size", &[]), Ok(vec![Value::I32(2)]));
        assert_eq!(
            call(&mut s, i, "store", &[Value::I32(65529), Value::I64(-1)]),
            Ok(vec![])
        );
        assert_eq!(
            call(
                &mut s,
                i,
                "fill",
                &[Value::I32(131070), Value::I32(7), Value::I32(3)]
            ),
            Err(Trap::MemoryOutOfBounds)
        );
        assert_eq!(
            call(
                &mut s,
                i,
                "fill",
                &[Value::I32(100), Value::I32(7), Value::I32(3)]
            ),
            Ok(vec![])
        );
        let Some(Extern::Memory(_)) = s.export(i, "nonexistent").or(Some(Extern::Memory(0))) else {
            unreachable!()
        };
        assert_eq!(&s.memory_data(0)[100..104], &[7, 7, 7, 0]);
        assert_eq!(call(&mut s, i, "bump", &[]), Ok(vec![Value::I32(6)]));
    }
}

#[test]
fn host_functions_and_linking() {
    for e in engines() {
        let mut store = shoal_runtime::Engine::new_store(&e, Limits::default());
        let ty = FuncType {
            params: vec![ValType::I32],
            results: vec![ValType::I32],
        };
        let double = store.alloc_host_func(
            ty.clone(),
            Box::new(|a| match a {
                [Value::I32(x)] => Ok(vec![Value::I32(x * 2)]),
                _ => Err(Trap::Host),
            }),
        );
        let fail = store.alloc_host_func(ty, Box::new(|_| Err(Trap::Host)));
        let g = store.alloc_global(
            GlobalType {
                ty: ValType::I64,
                mutable: true,
            },
            Value::I64(7),
        );
        let a = Module::new(&wat(
            r#"(module
              (import "h" "double" (func $d (param i32) (result i32)))
              (import "h" "fail" (func $f (param i32) (result i32)))
              (import "h" "g" (global $g (mut i64)))
              (table (export "t") 2 funcref)
              (elem (i32.const 0) $d $inc)
              (func $inc (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
              (func (export "quad") (param i32) (result i32) (call $d (call $d (local.get 0))))
              (func (export "fail") (param i32) (result i32) (call $f (local.get 0)))
              (func (export "tail") (param i32) (result i32) (return_call $d (local.get 0)))
              (func (export "setg") (global.set $g (i64.const 99))))"#,
        ))
        .unwrap();
        let ia = store
            .instantiate(
                &a,
                &[Extern::Func(double), Extern::Func(fail), Extern::Global(g)],
            )
            .unwrap();
        let c = |s: &mut Box<dyn Store>, i, n: &str, x: i32| call(s, i, n, &[Value::I32(x)]);
        assert_eq!(c(&mut store, ia, "quad", 3), Ok(vec![Value::I32(12)]));
        assert_eq!(c(&mut store, ia, "fail", 3), Err(Trap::Host));
        assert_eq!(c(&mut store, ia, "tail", 4), Ok(vec![Value::I32(8)]));
        call(&mut store, ia, "setg", &[]).unwrap();
        assert_eq!(store.global_get(g), Value::I64(99));
        let Some(Extern::Table(t)) = store.export(ia, "t") else {
            panic!()
        };
        let b = Module::new(&wat(r#"(module
              (type $t (func (param i32) (result i32)))
              (type $u (func (param i64) (result i32)))
              (import "a" "t" (table 2 funcref))
              (func (export "ind") (param i32 i32) (result i32)
                (call_indirect (type $t) (local.get 0) (local.get 1)))
              (func (export "bad") (param i32) (result i32)
                (call_indirect (type $u) (i64.const 0) (local.get 0))))"#))
        .unwrap();
        let ib = store.instantiate(&b, &[Extern::Table(t)]).unwrap();
        let ind = |s: &mut Box<dyn Store>, x: i32, k: i32| {
            call(s, ib, "ind", &[Value::I32(x), Value::I32(k)])
        };
        assert_eq!(ind(&mut store, 5, 0), Ok(vec![Value::I32(10)]));
        assert_eq!(ind(&mut store, 5, 1), Ok(vec![Value::I32(6)]));
        assert_eq!(ind(&mut store, 5, 2), Err(Trap::UndefinedElement));
        assert_eq!(
            c(&mut store, ib, "bad", 1),
            Err(Trap::IndirectCallTypeMismatch)
        );
        assert_eq!(store.table_get(t, 1), Some(Value::FuncRef(Some(2))));
    }
}

#[test]
fn fuel_and_depth_limits() {
    let src = r#"(module
      (func $f (export "rec") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
          (else (i32.add (i32.const 1) (call $f (i32.sub (local.get 0) (i32.const 1)))))))
      (func (export "spin") (loop $l (br $l))))"#;
    for e in engines() {
        let limits = Limits {
            fuel: Some(100),
            max_call_depth: 50,
            ..Limits::default()
        };
        let (mut s, i) = instance(&e, src, limits);
        // Depth 50 is the deepest allowed: rec(49) enters 50 frames.
        assert_eq!(
            call(&mut s, i, "rec", &[Value::I32(49)]),
            Ok(vec![Value::I32(49)])
        );
        assert_eq!(
            call(&mut s, i, "rec", &[Value::I32(50)]),
            Err(Trap::CallStackExhausted)
        );
        assert_eq!(call(&mut s, i, "spin", &[]), Err(Trap::OutOfFuel));
        // 100 units: 1 for the entry, 99 loop headers fit, the 100th fails.
        let (mut s, i) = instance(
            &e,
            src,
            Limits {
                fuel: Some(100),
                max_call_depth: 1000,
                ..Limits::default()
            },
        );
        assert_eq!(
            call(&mut s, i, "rec", &[Value::I32(99)]),
            Ok(vec![Value::I32(99)])
        );
        assert_eq!(
            call(&mut s, i, "rec", &[Value::I32(100)]),
            Err(Trap::OutOfFuel)
        );
    }
}

#[test]
fn fault_injection_miscompiles_exactly_the_chosen_operator() {
    use shoal_runtime::jit::{FaultSpec, JitConfig, JitEngine};
    let config = JitConfig {
        inject_fault: Some(FaultSpec {
            wasm: "i32.add",
            emit: cranelift_codegen::ir::Opcode::Isub,
        }),
        ..JitConfig::default()
    };
    assert_eq!(config.to_string().parse::<JitConfig>(), Ok(config));
    let faulty = JitEngine::new(config).unwrap();
    let (mut s, i) = instance(&faulty, ARITH, Limits::default());
    assert_eq!(
        call(&mut s, i, "add", &[Value::I32(2), Value::I32(40)]),
        Ok(vec![Value::I32(-38)])
    );
    // Other operators are untouched.
    assert_eq!(
        call(&mut s, i, "fac", &[Value::I64(5)]),
        Ok(vec![Value::I64(120)])
    );
}

#[test]
fn host_panics_propagate_to_the_caller() {
    for e in engines() {
        let mut store = shoal_runtime::Engine::new_store(&e, Limits::default());
        let h = store.alloc_host_func(FuncType::default(), Box::new(|_| panic!("host boom")));
        let m = Module::new(&wat(
            r#"(module (import "h" "f" (func $f)) (func (export "go") (call $f)))"#,
        ))
        .unwrap();
        let i = store.instantiate(&m, &[Extern::Func(h)]).unwrap();
        for _ in 0..2 {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                call(&mut store, i, "go", &[])
            }));
            assert!(r.is_err(), "the panic must reach the caller");
        }
    }
}

#[test]
fn debugging_knobs_and_clif_access() {
    use shoal_runtime::jit::{JitConfig, JitEngine};
    let config = JitConfig {
        regalloc_checker: true,
        nan_canonicalization: true,
        ..JitConfig::default()
    };
    let e = JitEngine::new(config).unwrap();
    let (mut s, i) = instance(&e, ARITH, Limits::default());
    assert_eq!(
        call(&mut s, i, "sum", &[Value::I32(10)]),
        Ok(vec![Value::I32(55)])
    );
    let module = Module::new(&wat(ARITH)).unwrap();
    let clif = e.clif(&module).unwrap();
    assert_eq!(clif.len(), module.bodies.len());
    let text = clif[0].display().to_string();
    assert!(text.contains("iadd") && text.contains("tail"), "{text}");
}

#[test]
fn engines_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<shoal_runtime::jit::JitEngine>();
    let e = shoal_runtime::jit::JitEngine::default();
    let handles: Vec<_> = (0..2)
        .map(|k| {
            let e = e.clone();
            std::thread::spawn(move || {
                let (mut s, i) = instance(&e, ARITH, Limits::default());
                call(&mut s, i, "sum", &[Value::I32(k)])
            })
        })
        .collect();
    let sums: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(sums, [Ok(vec![Value::I32(0)]), Ok(vec![Value::I32(1)])]);
}
