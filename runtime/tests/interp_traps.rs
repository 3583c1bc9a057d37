//! Every trap kind the interpreter can raise, each from a minimal module.

mod interp_common;

use interp_common::*;
use shoal_runtime::engine::Store;
use shoal_runtime::values::FuncType;
use shoal_runtime::{Trap, ValType, Value};

fn trap_of(text: &str, name: &str, args: &[Value]) -> Trap {
    run(text, name, args).expect_err("expected a trap")
}

#[test]
fn unreachable() {
    let m = r#"(module (func (export "f") (result i32) unreachable))"#;
    assert_eq!(trap_of(m, "f", &[]), Trap::Unreachable);
}

#[test]
fn integer_division() {
    let m = r#"(module
      (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
      (func (export "rem_u64") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
      (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1))))"#;
    assert_eq!(
        trap_of(m, "div_s", &[Value::I32(i32::MIN), Value::I32(-1)]),
        Trap::IntegerOverflow
    );
    assert_eq!(
        trap_of(m, "div_s", &[Value::I32(1), Value::I32(0)]),
        Trap::IntegerDivideByZero
    );
    assert_eq!(
        trap_of(m, "rem_u64", &[Value::I64(1), Value::I64(0)]),
        Trap::IntegerDivideByZero
    );
    assert_eq!(
        run(m, "rem_s", &[Value::I32(i32::MIN), Value::I32(-1)]),
        Ok(vec![Value::I32(0)])
    );
}

#[test]
fn float_truncation() {
    let m = r#"(module
      (func (export "t") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
      (func (export "t64") (param f64) (result i64) (i64.trunc_f64_u (local.get 0)))
      (func (export "sat") (param f32) (result i32) (i32.trunc_sat_f32_s (local.get 0))))"#;
    let nan = Value::F32(0x7fc0_0000);
    assert_eq!(trap_of(m, "t", &[nan]), Trap::InvalidConversionToInteger);
    assert_eq!(
        trap_of(m, "t", &[Value::F32(2147483648.0f32.to_bits())]),
        Trap::IntegerOverflow
    );
    assert_eq!(
        trap_of(m, "t64", &[Value::F64((-1.0f64).to_bits())]),
        Trap::IntegerOverflow
    );
    assert_eq!(
        run(m, "t64", &[Value::F64((-0.75f64).to_bits())]),
        Ok(vec![Value::I64(0)])
    );
    assert_eq!(run(m, "sat", &[nan]), Ok(vec![Value::I32(0)]));
    assert_eq!(
        run(m, "sat", &[Value::F32(f32::NEG_INFINITY.to_bits())]),
        Ok(vec![Value::I32(i32::MIN)])
    );
}

#[test]
fn memory_out_of_bounds() {
    let m = r#"(module (memory 1)
      (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "store") (param i32) (i64.store offset=4 (local.get 0) (i64.const -1)))
      (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 7) (local.get 1))))"#;
    assert_eq!(
        trap_of(m, "load", &[Value::I32(65533)]),
        Trap::MemoryOutOfBounds
    );
    assert_eq!(
        trap_of(m, "load", &[Value::I32(-1)]),
        Trap::MemoryOutOfBounds
    );
    assert_eq!(
        run(m, "load", &[Value::I32(65532)]),
        Ok(vec![Value::I32(0)])
    );
    assert_eq!(
        trap_of(m, "store", &[Value::I32(65525)]),
        Trap::MemoryOutOfBounds
    );
    assert_eq!(
        trap_of(m, "fill", &[Value::I32(65536), Value::I32(1)]),
        Trap::MemoryOutOfBounds
    );
    assert_eq!(
        run(m, "fill", &[Value::I32(65536), Value::I32(0)]),
        Ok(vec![])
    );
}

#[test]
fn failed_store_writes_nothing() {
    let mut s = store();
    let i = inst(
        &mut s,
        r#"(module (memory (export "m") 1)
          (func (export "st") (param i32) (i64.store (local.get 0) (i64.const -1))))"#,
    );
    assert_eq!(
        call(&mut s, i, "st", &[Value::I32(65532)]),
        Err(Trap::MemoryOutOfBounds)
    );
    let Some(shoal_runtime::Extern::Memory(m)) = s.export(i, "m") else {
        panic!()
    };
    assert!(s.memory_data(m).iter().all(|b| *b == 0));
}

#[test]
fn table_out_of_bounds() {
    let m = r#"(module (table 2 funcref)
      (func (export "get") (param i32) (result funcref) (table.get 0 (local.get 0)))
      (func (export "set") (param i32) (table.set 0 (local.get 0) (ref.null func)))
      (func (export "copy") (param i32) (table.copy (local.get 0) (i32.const 0) (i32.const 2))))"#;
    assert_eq!(trap_of(m, "get", &[Value::I32(2)]), Trap::TableOutOfBounds);
    assert_eq!(trap_of(m, "set", &[Value::I32(-1)]), Trap::TableOutOfBounds);
    assert_eq!(trap_of(m, "copy", &[Value::I32(1)]), Trap::TableOutOfBounds);
    assert_eq!(
        run(m, "get", &[Value::I32(1)]),
        Ok(vec![Value::FuncRef(None)])
    );
}

const INDIRECT: &str = r#"(module
  (type $ii (func (param i32) (result i32)))
  (type $v (func))
  (table 3 funcref)
  (elem (i32.const 0) $double $nothing)
  (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
  (func $nothing (type $v))
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $ii) (i32.const 21) (local.get 0))))"#;

#[test]
fn call_indirect_traps() {
    assert_eq!(
        run(INDIRECT, "call", &[Value::I32(0)]),
        Ok(vec![Value::I32(42)])
    );
    assert_eq!(
        trap_of(INDIRECT, "call", &[Value::I32(1)]),
        Trap::IndirectCallTypeMismatch
    );
    assert_eq!(
        trap_of(INDIRECT, "call", &[Value::I32(2)]),
        Trap::UninitializedElement
    );
    assert_eq!(
        trap_of(INDIRECT, "call", &[Value::I32(3)]),
        Trap::UndefinedElement
    );
    assert_eq!(
        trap_of(INDIRECT, "call", &[Value::I32(-1)]),
        Trap::UndefinedElement
    );
}

#[test]
fn call_indirect_compares_types_structurally_across_modules() {
    let mut s = store();
    let a = inst(
        &mut s,
        r#"(module (type (func (param i32) (result i32)))
             (func (export "inc") (type 0) (i32.add (local.get 0) (i32.const 1))))"#,
    );
    let inc = func(&s, a, "inc");
    let b = inst_with(
        &mut s,
        r#"(module
          (type $other (func (param i64)))
          (type $ii (func (param i32) (result i32)))
          (import "a" "inc" (func $inc (type $ii)))
          (table funcref (elem $inc))
          (func (export "go") (result i32) (call_indirect (type $ii) (i32.const 1) (i32.const 0))))"#,
        &[shoal_runtime::Extern::Func(inc)],
    )
    .unwrap();
    assert_eq!(call_i32(&mut s, b, "go", &[]), Ok(2));
}

#[test]
fn call_stack_exhausted() {
    let m = r#"(module (func $f (export "f") (call $f)))"#;
    assert_eq!(trap_of(m, "f", &[]), Trap::CallStackExhausted);
}

#[test]
fn out_of_fuel() {
    let mut s = store_with(Some(1000), 2000);
    let i = inst(&mut s, r#"(module (func (export "f") (loop (br 0))))"#);
    assert_eq!(call(&mut s, i, "f", &[]), Err(Trap::OutOfFuel));
}

#[test]
fn host_error() {
    let mut s = store();
    let h = s.alloc_host_func(
        FuncType {
            params: vec![ValType::I32],
            results: vec![ValType::I32],
        },
        Box::new(|args| match args {
            [Value::I32(0)] => Err(Trap::Host),
            [Value::I32(x)] => Ok(vec![Value::I32(x + 1)]),
            _ => Ok(vec![]),
        }),
    );
    let i = inst_with(
        &mut s,
        r#"(module (import "h" "f" (func $f (param i32) (result i32)))
             (func (export "go") (param i32) (result i32) (call $f (local.get 0))))"#,
        &[shoal_runtime::Extern::Func(h)],
    )
    .unwrap();
    assert_eq!(call_i32(&mut s, i, "go", &[Value::I32(4)]), Ok(5));
    assert_eq!(call(&mut s, i, "go", &[Value::I32(0)]), Err(Trap::Host));
}

#[test]
fn host_result_of_wrong_type_is_a_host_trap() {
    let mut s = store();
    let h = s.alloc_host_func(
        FuncType {
            params: vec![],
            results: vec![ValType::I32],
        },
        Box::new(|_| Ok(vec![Value::I64(1)])),
    );
    let i = inst_with(
        &mut s,
        r#"(module (import "h" "f" (func $f (result i32)))
             (func (export "go") (result i32) (call $f)))"#,
        &[shoal_runtime::Extern::Func(h)],
    )
    .unwrap();
    assert_eq!(call(&mut s, i, "go", &[]), Err(Trap::Host));
}

#[test]
fn every_trap_kind_is_covered_here() {
    // Keep this list in sync with the tests above: one per kind.
    let covered = [
        Trap::Unreachable,
        Trap::IntegerOverflow,
        Trap::IntegerDivideByZero,
        Trap::InvalidConversionToInteger,
        Trap::MemoryOutOfBounds,
        Trap::TableOutOfBounds,
        Trap::UndefinedElement,
        Trap::UninitializedElement,
        Trap::IndirectCallTypeMismatch,
        Trap::CallStackExhausted,
        Trap::OutOfFuel,
        Trap::Host,
    ];
    for t in Trap::ALL {
        assert!(covered.contains(&t), "{t:?} has no test");
    }
}
