//! Tables and references: table.* instructions, multiple tables, 64-bit
//! tables, element segments and externref.

mod interp_common;

use interp_common::*;
use shoal_runtime::engine::{Extern, InstantiateError, Store};
use shoal_runtime::values::{Limits, TableType};
use shoal_runtime::{Trap, ValType, Value};

const TABLES: &str = r#"(module
  (table $a (export "a") 2 4 funcref)
  (table $b 0 externref)
  (elem $seg func $f0 $f1 $f2)
  (elem declare func $f0)
  (func $f0 (result i32) (i32.const 10))
  (func $f1 (result i32) (i32.const 11))
  (func $f2 (result i32) (i32.const 12))
  (func (export "init") (param i32 i32 i32) (table.init $a $seg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (elem.drop $seg))
  (func (export "call") (param i32) (result i32) (call_indirect $a (result i32) (local.get 0)))
  (func (export "grow_a") (param i32) (result i32) (table.grow $a (ref.func $f0) (local.get 0)))
  (func (export "size_a") (result i32) (table.size $a))
  (func (export "fill_a") (param i32 i32) (table.fill $a (local.get 0) (ref.null func) (local.get 1)))
  (func (export "copy_a") (param i32 i32 i32) (table.copy $a $a (local.get 0) (local.get 1) (local.get 2)))
  (func (export "grow_b") (param externref i32) (result i32) (table.grow $b (local.get 0) (local.get 1)))
  (func (export "get_b") (param i32) (result externref) (table.get $b (local.get 0)))
  (func (export "is_null") (param externref) (result i32) (ref.is_null (local.get 0))))"#;

fn i32s(v: &[i32]) -> Vec<Value> {
    v.iter().map(|x| Value::I32(*x)).collect()
}

#[test]
fn table_init_copy_fill_grow() {
    let mut s = store();
    let i = inst(&mut s, TABLES);
    assert_eq!(
        call(&mut s, i, "call", &i32s(&[0])),
        Err(Trap::UninitializedElement)
    );
    call(&mut s, i, "init", &i32s(&[0, 1, 2])).unwrap();
    assert_eq!(call_i32(&mut s, i, "call", &i32s(&[0])), Ok(11));
    assert_eq!(call_i32(&mut s, i, "call", &i32s(&[1])), Ok(12));
    // Out of bounds init writes nothing.
    assert_eq!(
        call(&mut s, i, "init", &i32s(&[0, 2, 2])),
        Err(Trap::TableOutOfBounds)
    );
    assert_eq!(call_i32(&mut s, i, "call", &i32s(&[0])), Ok(11));
    assert_eq!(call_i32(&mut s, i, "grow_a", &i32s(&[1])), Ok(2));
    assert_eq!(call_i32(&mut s, i, "call", &i32s(&[2])), Ok(10));
    assert_eq!(call_i32(&mut s, i, "grow_a", &i32s(&[2])), Ok(-1));
    assert_eq!(call_i32(&mut s, i, "size_a", &[]), Ok(3));
    call(&mut s, i, "copy_a", &i32s(&[1, 0, 2])).unwrap();
    assert_eq!(call_i32(&mut s, i, "call", &i32s(&[2])), Ok(12));
    assert_eq!(call_i32(&mut s, i, "call", &i32s(&[1])), Ok(11));
    call(&mut s, i, "fill_a", &i32s(&[1, 2])).unwrap();
    assert_eq!(
        call(&mut s, i, "call", &i32s(&[2])),
        Err(Trap::UninitializedElement)
    );
    assert_eq!(
        call(&mut s, i, "fill_a", &i32s(&[3, 1])),
        Err(Trap::TableOutOfBounds)
    );
    call(&mut s, i, "fill_a", &i32s(&[3, 0])).unwrap();
    call(&mut s, i, "drop", &[]).unwrap();
    call(&mut s, i, "init", &i32s(&[0, 0, 0])).unwrap();
    assert_eq!(
        call(&mut s, i, "init", &i32s(&[0, 0, 1])),
        Err(Trap::TableOutOfBounds)
    );
    let Some(Extern::Table(t)) = s.export(i, "a") else {
        panic!()
    };
    assert_eq!(s.table_size(t), 3);
    assert_eq!(s.table_get(t, 0), Some(Value::FuncRef(Some(1))));
    assert_eq!(s.table_get(t, 3), None);
}

#[test]
fn externref_round_trip() {
    let mut s = store();
    let i = inst(&mut s, TABLES);
    let r = Value::ExternRef(Some(77));
    assert_eq!(call_i32(&mut s, i, "grow_b", &[r, Value::I32(3)]), Ok(0));
    assert_eq!(call(&mut s, i, "get_b", &i32s(&[2])), Ok(vec![r]));
    assert_eq!(
        call(&mut s, i, "get_b", &i32s(&[3])),
        Err(Trap::TableOutOfBounds)
    );
    assert_eq!(call_i32(&mut s, i, "is_null", &[r]), Ok(0));
    assert_eq!(
        call_i32(&mut s, i, "is_null", &[Value::ExternRef(None)]),
        Ok(1)
    );
    // Host payloads are opaque, including the largest one.
    let big = Value::ExternRef(Some(u32::MAX));
    assert_eq!(call_i32(&mut s, i, "grow_b", &[big, Value::I32(1)]), Ok(3));
    assert_eq!(call(&mut s, i, "get_b", &i32s(&[3])), Ok(vec![big]));
}

#[test]
fn table64() {
    let m = r#"(module
      (table $t i64 1 funcref)
      (elem (table $t) (i64.const 0) func $f)
      (func $f (result i32) (i32.const 5))
      (func (export "call") (param i64) (result i32) (call_indirect $t (result i32) (local.get 0)))
      (func (export "size") (result i64) (table.size $t))
      (func (export "grow") (param i64) (result i64) (table.grow $t (ref.null func) (local.get 0))))"#;
    let mut s = store();
    let i = inst(&mut s, m);
    assert_eq!(call_i32(&mut s, i, "call", &[Value::I64(0)]), Ok(5));
    assert_eq!(
        call(&mut s, i, "call", &[Value::I64(1 << 32)]),
        Err(Trap::UndefinedElement)
    );
    assert_eq!(call_i64(&mut s, i, "grow", &[Value::I64(2)]), Ok(1));
    assert_eq!(call_i64(&mut s, i, "size", &[]), Ok(3));
    assert_eq!(call_i64(&mut s, i, "grow", &[Value::I64(-1)]), Ok(-1));
}

#[test]
fn element_segment_trap_keeps_earlier_writes() {
    let mut s = store();
    let t = s.alloc_table(
        TableType {
            elem: ValType::FuncRef,
            limits: Limits { min: 2, max: None },
            table64: false,
        },
        Value::FuncRef(None),
    );
    let text = r#"(module (import "h" "t" (table 2 funcref))
      (func $f)
      (elem (i32.const 0) $f)
      (elem (i32.const 1) $f $f))"#;
    assert_eq!(
        s.instantiate(&module(text), &[Extern::Table(t)]),
        Err(InstantiateError::Trap(Trap::TableOutOfBounds))
    );
    // The function was allocated (address 0) and the first segment applied.
    assert_eq!(s.table_get(t, 0), Some(Value::FuncRef(Some(0))));
    assert_eq!(s.table_get(t, 1), Some(Value::FuncRef(None)));
}

#[test]
fn ref_func_and_global_initialisers() {
    let m = r#"(module
      (import "h" "n" (global $n i32))
      (global $g (export "g") funcref (ref.func $f))
      (global $m (export "m") i32 (i32.add (global.get $n) (i32.const 2)))
      (func $f (export "f"))
      (func (export "same") (result i32) (ref.is_null (global.get $g))))"#;
    let mut s = store();
    let n = s.alloc_global(
        shoal_runtime::values::GlobalType {
            ty: ValType::I32,
            mutable: false,
        },
        Value::I32(40),
    );
    let i = inst_with(&mut s, m, &[Extern::Global(n)]).unwrap();
    let f = func(&s, i, "f");
    let Some(Extern::Global(g)) = s.export(i, "g") else {
        panic!()
    };
    assert_eq!(s.global_get(g), Value::FuncRef(Some(f)));
    let Some(Extern::Global(m)) = s.export(i, "m") else {
        panic!()
    };
    assert_eq!(s.global_get(m), Value::I32(42));
    assert_eq!(call_i32(&mut s, i, "same", &[]), Ok(0));
}

#[test]
fn reference_locals_start_null() {
    // $f is function address 0, so a zeroed slot must not read as it.
    let m = r#"(module
      (func $f)
      (elem declare func $f)
      (func (export "nulls") (result i32 i32 funcref externref)
        (local funcref externref)
        (ref.is_null (local.get 0)) (ref.is_null (local.get 1)) (local.get 0) (local.get 1))
      (func $set (local funcref) (local.set 0 (ref.func $f)))
      (func (export "fresh_frame") (result i32)
        (local funcref)
        (call $set)
        (ref.is_null (local.get 0)))
      (func (export "f0") (result funcref) (ref.func $f)))"#;
    let mut s = store();
    let i = inst(&mut s, m);
    assert_eq!(
        call(&mut s, i, "nulls", &[]),
        Ok(vec![
            Value::I32(1),
            Value::I32(1),
            Value::FuncRef(None),
            Value::ExternRef(None)
        ])
    );
    assert_eq!(call_i32(&mut s, i, "fresh_frame", &[]), Ok(1));
    assert_eq!(
        call(&mut s, i, "f0", &[]),
        Ok(vec![Value::FuncRef(Some(0))])
    );
}
