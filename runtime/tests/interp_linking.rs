//! Imports, exports, host functions, sequential addresses and linking
//! between instances of one store.

mod interp_common;

use interp_common::*;
use shoal_runtime::engine::{Extern, InstantiateError, Store};
use shoal_runtime::module::ExternType;
use shoal_runtime::values::{FuncType, GlobalType, Limits, MemoryType};
use shoal_runtime::{Trap, ValType, Value};

const PROVIDER: &str = r#"(module
  (memory (export "mem") 1 2)
  (global (export "counter") (mut i32) (i32.const 0))
  (table (export "tab") 2 funcref)
  (func (export "bump") (result i32)
    (global.set 0 (i32.add (global.get 0) (i32.const 1)))
    (global.get 0))
  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#;

const CONSUMER: &str = r#"(module
  (import "p" "mem" (memory 1))
  (import "p" "counter" (global $c (mut i32)))
  (import "p" "tab" (table 2 funcref))
  (import "p" "bump" (func $bump (result i32)))
  (elem (i32.const 1) $twice)
  (func $twice (result i32) (drop (call $bump)) (call $bump))
  (func (export "twice") (result i32) (call $twice))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "grow") (result i32) (memory.grow (i32.const 1)))
  (func (export "reset") (global.set $c (i32.const 100)))
  (func (export "via_table") (result i32) (call_indirect (result i32) (i32.const 1))))"#;

fn link(
    s: &mut shoal_runtime::interp::InterpStore,
) -> (shoal_runtime::InstanceId, shoal_runtime::InstanceId) {
    let p = inst(s, PROVIDER);
    let ex = |n: &str| s.export(p, n).unwrap();
    let imports = [ex("mem"), ex("counter"), ex("tab"), ex("bump")];
    let c = inst_with(s, CONSUMER, &imports).expect("link");
    (p, c)
}

#[test]
fn two_instances_share_memory_globals_tables_and_functions() {
    let mut s = store();
    let (p, c) = link(&mut s);
    assert_eq!(call_i32(&mut s, c, "twice", &[]), Ok(2));
    assert_eq!(call_i32(&mut s, p, "bump", &[]), Ok(3));
    call(&mut s, c, "reset", &[]).unwrap();
    assert_eq!(call_i32(&mut s, p, "bump", &[]), Ok(101));
    call(&mut s, p, "poke", &[Value::I32(7), Value::I32(9)]).unwrap();
    assert_eq!(call_i32(&mut s, c, "peek", &[Value::I32(7)]), Ok(9));
    assert_eq!(call_i32(&mut s, c, "grow", &[]), Ok(1));
    assert_eq!(call_i32(&mut s, c, "grow", &[]), Ok(-1));
    // The provider's table now holds the consumer's function.
    assert_eq!(call_i32(&mut s, c, "via_table", &[]), Ok(103));
    let Some(Extern::Memory(m)) = s.export(p, "mem") else {
        panic!()
    };
    assert_eq!(
        s.extern_type(Extern::Memory(m)),
        ExternType::Memory(MemoryType {
            limits: Limits {
                min: 2,
                max: Some(2)
            },
            memory64: false
        })
    );
}

#[test]
fn addresses_are_sequential_per_kind() {
    let mut s = store();
    let h = s.alloc_host_func(FuncType::default(), Box::new(|_| Ok(vec![])));
    assert_eq!(h, 0);
    let (p, c) = link(&mut s);
    // Provider: bump = 1, poke = 2; consumer: $twice = 3, then exports.
    assert_eq!(func(&s, p, "bump"), 1);
    assert_eq!(func(&s, p, "poke"), 2);
    assert_eq!(func(&s, c, "twice"), 4);
    let names: Vec<String> = s.exports(c).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["twice", "peek", "grow", "reset", "via_table"]);
    let g = s.alloc_global(
        GlobalType {
            ty: ValType::I64,
            mutable: false,
        },
        Value::I64(-3),
    );
    assert_eq!(g, 1);
    assert_eq!(s.global_get(g), Value::I64(-3));
}

#[test]
fn incompatible_imports_are_link_errors_and_change_nothing() {
    let mut s = store();
    let p = inst(&mut s, PROVIDER);
    let ex = |n: &str| s.export(p, n).unwrap();
    let wrong = [ex("mem"), ex("counter"), ex("tab"), ex("poke")];
    let before = s.exports(p);
    assert!(matches!(
        inst_with(&mut s, CONSUMER, &wrong),
        Err(InstantiateError::Link(_))
    ));
    assert!(matches!(
        inst_with(&mut s, CONSUMER, &wrong[..3]),
        Err(InstantiateError::Link(_))
    ));
    // Nothing was allocated: the next instance gets the next addresses.
    assert_eq!(s.exports(p), before);
    let q = inst(&mut s, r#"(module (func (export "f")))"#);
    assert_eq!(func(&s, q, "f"), 2);
}

#[test]
fn host_functions_receive_typed_arguments() {
    let mut s = store();
    let h = s.alloc_host_func(
        FuncType {
            params: vec![ValType::I32, ValType::F64, ValType::ExternRef],
            results: vec![ValType::I64, ValType::F32],
        },
        Box::new(|args| match args {
            [Value::I32(a), Value::F64(b), Value::ExternRef(Some(r))] => Ok(vec![
                Value::I64(*a as i64 + *r as i64),
                Value::F32((f64::from_bits(*b) as f32).to_bits()),
            ]),
            other => panic!("unexpected host arguments {other:?}"),
        }),
    );
    let i = inst_with(
        &mut s,
        r#"(module (import "h" "f" (func $h (param i32 f64 externref) (result i64 f32)))
             (func (export "go") (param externref) (result i64 f32)
               (call $h (i32.const 5) (f64.const 2.5) (local.get 0))))"#,
        &[Extern::Func(h)],
    )
    .unwrap();
    assert_eq!(
        call(&mut s, i, "go", &[Value::ExternRef(Some(10))]),
        Ok(vec![Value::I64(15), Value::F32(2.5f32.to_bits())])
    );
}

#[test]
fn start_function_runs_after_segments() {
    let text = r#"(module
      (memory (export "m") 1)
      (data (i32.const 0) "\05")
      (func $start (i32.store8 (i32.const 1) (i32.add (i32.load8_u (i32.const 0)) (i32.const 1))))
      (start $start))"#;
    let mut s = store();
    let i = inst(&mut s, text);
    let Some(Extern::Memory(m)) = s.export(i, "m") else {
        panic!()
    };
    assert_eq!(&s.memory_data(m)[..2], &[5, 6]);
    let trapping = r#"(module (func $s unreachable) (start $s))"#;
    assert_eq!(
        s.instantiate(&module(trapping), &[]),
        Err(InstantiateError::Trap(Trap::Unreachable))
    );
}

#[test]
fn multi_value_blocks_and_calls() {
    let m = r#"(module
      (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
      (func (export "f") (result i32 i32 i32)
        (i32.const 1) (i32.const 2)
        (block (param i32 i32) (result i32 i32 i32)
          (call $swap)
          (i32.const 3)
          (br 0))))"#;
    assert_eq!(
        run(m, "f", &[]),
        Ok(vec![Value::I32(2), Value::I32(1), Value::I32(3)])
    );
}

#[test]
fn branches_reshape_the_stack() {
    let m = r#"(module
      (func (export "f") (param i32) (result i32)
        (i32.const 100)
        (block (result i32)
          (i32.const 7) (i32.const 8)
          (br_if 0 (i32.const 9) (local.get 0))
          (drop) (drop))
        (i32.add))
      (func (export "t") (param i32) (result i32)
        (block (block (block (br_table 0 1 2 (local.get 0)))
          (return (i32.const 10)))
          (return (i32.const 11)))
        (i32.const 12))
      (func (export "loop") (param i32) (result i32)
        (local $acc i32)
        (local.get 0)
        (loop $l (param i32) (result i32)
          (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
          (i32.sub (i32.const 1))
          (local.tee 0)
          (br_if $l (local.get 0))
          (drop) (local.get $acc))))"#;
    assert_eq!(run(m, "f", &[Value::I32(1)]), Ok(vec![Value::I32(109)]));
    let mut s = store();
    let i = inst(&mut s, m);
    for (k, want) in [(0, 10), (1, 11), (2, 12), (3, 12), (-1, 12)] {
        assert_eq!(call_i32(&mut s, i, "t", &[Value::I32(k)]), Ok(want));
    }
    assert_eq!(call_i32(&mut s, i, "loop", &[Value::I32(5)]), Ok(5));
}
