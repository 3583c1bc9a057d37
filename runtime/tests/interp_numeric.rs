//! Numeric edge cases the interpreter must get bit-exact (the spec suite
//! covers the bulk; these pin down the slot encoding and NaN handling).

mod interp_common;

use interp_common::*;
use shoal_runtime::Value;
use shoal_runtime::num::{is_arithmetic_nan_f32, is_arithmetic_nan_f64};

const M: &str = r#"(module
  (func (export "floor32") (param f32) (result f32) (f32.floor (local.get 0)))
  (func (export "trunc64") (param f64) (result f64) (f64.trunc (local.get 0)))
  (func (export "sqrt32") (param f32) (result f32) (f32.sqrt (local.get 0)))
  (func (export "neg32") (param f32) (result f32) (f32.neg (local.get 0)))
  (func (export "abs64") (param f64) (result f64) (f64.abs (local.get 0)))
  (func (export "copysign32") (param f32 f32) (result f32) (f32.copysign (local.get 0) (local.get 1)))
  (func (export "demote") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
  (func (export "promote") (param f32) (result f64) (f64.promote_f32 (local.get 0)))
  (func (export "min32") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
  (func (export "nearest64") (param f64) (result f64) (f64.nearest (local.get 0)))
  (func (export "extend_u") (param i32) (result i64) (i64.extend_i32_u (local.get 0)))
  (func (export "extend_s") (param i32) (result i64) (i64.extend_i32_s (local.get 0)))
  (func (export "wrap_then_extend") (param i64) (result i64) (i64.extend_i32_u (i32.wrap_i64 (local.get 0))))
  (func (export "reinterpret") (param f32) (result i64)
    (i64.extend_i32_u (i32.reinterpret_f32 (local.get 0))))
  (func (export "u64_to_f32") (param i64) (result f32) (f32.convert_i64_u (local.get 0)))
  (func (export "sat_u") (param f64) (result i64) (i64.trunc_sat_f64_u (local.get 0)))
  (func (export "shifts") (param i32) (result i32)
    (i32.add (i32.shl (i32.const 1) (local.get 0)) (i32.rotr (i32.const 1) (local.get 0))))
  (func (export "clz64") (param i64) (result i64) (i64.clz (local.get 0))))"#;

fn one(name: &str, args: &[Value]) -> Value {
    let r = run(M, name, args).expect("no trap");
    assert_eq!(r.len(), 1);
    r[0]
}

fn f32v(x: f32) -> Value {
    Value::F32(x.to_bits())
}

#[test]
fn signalling_nans_are_quieted_by_arithmetic() {
    let snan32 = Value::F32(0xffa0_0001);
    let snan64 = Value::F64(0x7ff4_0000_0000_0001);
    for name in ["floor32", "sqrt32"] {
        let Value::F32(b) = one(name, &[snan32]) else {
            panic!()
        };
        assert!(is_arithmetic_nan_f32(b), "{name}: {b:#x}");
    }
    let Value::F64(b) = one("trunc64", &[snan64]) else {
        panic!()
    };
    assert!(is_arithmetic_nan_f64(b), "{b:#x}");
    let Value::F32(b) = one("demote", &[snan64]) else {
        panic!()
    };
    assert!(is_arithmetic_nan_f32(b), "{b:#x}");
    let Value::F64(b) = one("promote", &[snan32]) else {
        panic!()
    };
    assert!(is_arithmetic_nan_f64(b), "{b:#x}");
    let Value::F32(b) = one("min32", &[f32v(1.0), snan32]) else {
        panic!()
    };
    assert!(is_arithmetic_nan_f32(b), "{b:#x}");
}

#[test]
fn sign_operations_are_bitwise() {
    // neg/abs/copysign never touch NaN payloads.
    assert_eq!(
        one("neg32", &[Value::F32(0x7fa0_0001)]),
        Value::F32(0xffa0_0001)
    );
    assert_eq!(
        one("abs64", &[Value::F64(0xfff4_0000_0000_0001)]),
        Value::F64(0x7ff4_0000_0000_0001)
    );
    assert_eq!(
        one("copysign32", &[Value::F32(0x7fa0_0001), f32v(-0.0)]),
        Value::F32(0xffa0_0001)
    );
    assert_eq!(one("min32", &[f32v(0.0), f32v(-0.0)]), f32v(-0.0));
    assert_eq!(
        one("nearest64", &[Value::F64((-0.5f64).to_bits())]),
        Value::F64((-0.0f64).to_bits())
    );
    assert_eq!(
        one("nearest64", &[Value::F64(2.5f64.to_bits())]),
        Value::F64(2.0f64.to_bits())
    );
}

#[test]
fn integer_conversions_respect_the_slot_encoding() {
    assert_eq!(one("extend_u", &[Value::I32(-1)]), Value::I64(0xffff_ffff));
    assert_eq!(one("extend_s", &[Value::I32(-1)]), Value::I64(-1));
    assert_eq!(
        one("wrap_then_extend", &[Value::I64(-2)]),
        Value::I64(0xffff_fffe)
    );
    assert_eq!(one("reinterpret", &[f32v(-1.0)]), Value::I64(0xbf80_0000));
    assert_eq!(
        one("u64_to_f32", &[Value::I64(-1)]),
        f32v(18446744073709551616.0)
    );
    assert_eq!(
        one("sat_u", &[Value::F64((-5.0f64).to_bits())]),
        Value::I64(0)
    );
    assert_eq!(
        one("sat_u", &[Value::F64(f64::INFINITY.to_bits())]),
        Value::I64(-1)
    );
    assert_eq!(one("shifts", &[Value::I32(33)]), Value::I32(2 + i32::MIN));
    assert_eq!(one("clz64", &[Value::I64(1)]), Value::I64(63));
}
