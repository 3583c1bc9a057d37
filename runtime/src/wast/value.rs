//! Script constants: turning `invoke` arguments into [`Value`]s and matching
//! results against `assert_return` expectations.
//!
//! Matching rules (those of the reference interpreter):
//! * integers and float literals compare bit-exactly (a literal NaN in the
//!   script means exactly that payload);
//! * `nan:canonical` / `nan:arithmetic` use the classifiers in
//!   [`crate::num`], lane by lane inside `v128` patterns;
//! * `ref.null` matches a null of the named hierarchy (any null if unnamed);
//!   `ref.extern N` matches exactly, `ref.extern`/`ref.func` without an
//!   argument match any non-null reference of that type. `ref.func` with an
//!   index also matches any non-null funcref: a function's address is a
//!   property of the store, not of the script;
//! * `either` matches if any alternative does.

use ::wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use ::wast::token::{F32, F64};
use ::wast::{WastArg, WastRet};

use crate::num;
use crate::values::Value;

/// A constant that needs a feature outside shoal's set (the feature's name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedsFeature(pub String);

fn needs(feature: &str) -> NeedsFeature {
    NeedsFeature(feature.to_string())
}

/// The feature a non-WebAssembly-2.0 heap type belongs to.
fn heap_feature(ht: &HeapType<'_>) -> NeedsFeature {
    match ht {
        HeapType::Abstract {
            ty: AbstractHeapType::Exn | AbstractHeapType::NoExn,
            ..
        } => needs("exceptions"),
        HeapType::Abstract {
            ty: AbstractHeapType::Cont | AbstractHeapType::NoCont,
            ..
        } => needs("stack_switching"),
        HeapType::Concrete(_) | HeapType::Exact(_) => needs("function_references"),
        HeapType::Abstract { .. } => needs("gc"),
    }
}

/// The null reference of a heap type's hierarchy (funcref or externref).
fn null_of(ht: &HeapType<'_>) -> Result<Value, NeedsFeature> {
    match ht {
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
        } => Ok(Value::FuncRef(None)),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
        } => Ok(Value::ExternRef(None)),
        other => Err(heap_feature(other)),
    }
}

/// Converts an `invoke` argument.
pub fn arg_value(arg: &WastArg<'_>) -> Result<Value, NeedsFeature> {
    let WastArg::Core(core) = arg else {
        return Err(needs("component_model"));
    };
    Ok(match core {
        WastArgCore::I32(v) => Value::I32(*v),
        WastArgCore::I64(v) => Value::I64(*v),
        WastArgCore::F32(v) => Value::F32(v.bits),
        WastArgCore::F64(v) => Value::F64(v.bits),
        WastArgCore::V128(v) => Value::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(ht) => null_of(ht)?,
        WastArgCore::RefExtern(n) => Value::ExternRef(Some(*n)),
        WastArgCore::RefHost(_) => return Err(needs("gc")),
    })
}

/// Does `actual` match the expectation? `Err` if the expectation itself
/// needs an unsupported feature.
pub fn ret_matches(expected: &WastRet<'_>, actual: &Value) -> Result<bool, NeedsFeature> {
    let WastRet::Core(core) = expected else {
        return Err(needs("component_model"));
    };
    core_matches(core, actual)
}

fn core_matches(expected: &WastRetCore<'_>, actual: &Value) -> Result<bool, NeedsFeature> {
    Ok(match (expected, actual) {
        (WastRetCore::I32(e), Value::I32(a)) => e == a,
        (WastRetCore::I64(e), Value::I64(a)) => e == a,
        (WastRetCore::F32(p), Value::F32(a)) => f32_matches(p, *a),
        (WastRetCore::F64(p), Value::F64(a)) => f64_matches(p, *a),
        (WastRetCore::V128(p), Value::V128(a)) => v128_matches(p, *a),
        (WastRetCore::RefNull(None), a) => a.is_null_ref(),
        (WastRetCore::RefNull(Some(ht)), a) => null_of(ht)? == *a,
        (WastRetCore::RefExtern(None), Value::ExternRef(a)) => a.is_some(),
        (WastRetCore::RefExtern(Some(e)), Value::ExternRef(a)) => *a == Some(*e),
        (WastRetCore::RefFunc(_), Value::FuncRef(a)) => a.is_some(),
        (WastRetCore::Either(alternatives), a) => {
            let mut any = false;
            for alt in alternatives {
                any |= core_matches(alt, a)?;
            }
            any
        }
        (
            WastRetCore::RefHost(_)
            | WastRetCore::RefAny
            | WastRetCore::RefEq
            | WastRetCore::RefArray
            | WastRetCore::RefStruct
            | WastRetCore::RefI31
            | WastRetCore::RefI31Shared,
            _,
        ) => return Err(needs("gc")),
        // A value of another type than expected.
        _ => false,
    })
}

fn f32_matches(p: &NanPattern<F32>, bits: u32) -> bool {
    match p {
        NanPattern::CanonicalNan => num::is_canonical_nan_f32(bits),
        NanPattern::ArithmeticNan => num::is_arithmetic_nan_f32(bits),
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(p: &NanPattern<F64>, bits: u64) -> bool {
    match p {
        NanPattern::CanonicalNan => num::is_canonical_nan_f64(bits),
        NanPattern::ArithmeticNan => num::is_arithmetic_nan_f64(bits),
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Lane `i` of `v` when split into lanes of `bits` bits (lane 0 lowest).
fn lane(v: u128, bits: u32, i: usize) -> u128 {
    let mask = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    (v >> (bits as usize * i)) & mask
}

fn v128_matches(p: &V128Pattern, v: u128) -> bool {
    match p {
        V128Pattern::I8x16(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 8, i) as u8 == *e as u8),
        V128Pattern::I16x8(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 16, i) as u16 == *e as u16),
        V128Pattern::I32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 32, i) as u32 == *e as u32),
        V128Pattern::I64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| lane(v, 64, i) as u64 == *e as u64),
        V128Pattern::F32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| f32_matches(e, lane(v, 32, i) as u32)),
        V128Pattern::F64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, e)| f64_matches(e, lane(v, 64, i) as u64)),
    }
}

/// A readable rendering of an expectation, for failure messages.
pub fn describe_ret(expected: &WastRet<'_>) -> String {
    match expected {
        WastRet::Core(core) => describe_core(core),
        _ => "<component value>".to_string(),
    }
}

fn describe_f32(p: &NanPattern<F32>) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".into(),
        NanPattern::ArithmeticNan => "nan:arithmetic".into(),
        NanPattern::Value(v) => format!("{}(0x{:08x})", f32::from_bits(v.bits), v.bits),
    }
}

fn describe_f64(p: &NanPattern<F64>) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".into(),
        NanPattern::ArithmeticNan => "nan:arithmetic".into(),
        NanPattern::Value(v) => format!("{}(0x{:016x})", f64::from_bits(v.bits), v.bits),
    }
}

fn join<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(f).collect::<Vec<_>>().join(" ")
}

fn describe_core(expected: &WastRetCore<'_>) -> String {
    match expected {
        WastRetCore::I32(v) => format!("i32:{v}"),
        WastRetCore::I64(v) => format!("i64:{v}"),
        WastRetCore::F32(p) => format!("f32:{}", describe_f32(p)),
        WastRetCore::F64(p) => format!("f64:{}", describe_f64(p)),
        WastRetCore::V128(p) => match p {
            V128Pattern::I8x16(l) => format!("i8x16:[{}]", join(l, |x| x.to_string())),
            V128Pattern::I16x8(l) => format!("i16x8:[{}]", join(l, |x| x.to_string())),
            V128Pattern::I32x4(l) => format!("i32x4:[{}]", join(l, |x| x.to_string())),
            V128Pattern::I64x2(l) => format!("i64x2:[{}]", join(l, |x| x.to_string())),
            V128Pattern::F32x4(l) => format!("f32x4:[{}]", join(l, describe_f32)),
            V128Pattern::F64x2(l) => format!("f64x2:[{}]", join(l, describe_f64)),
        },
        WastRetCore::RefNull(None) => "ref.null".into(),
        WastRetCore::RefNull(Some(ht)) => match null_of(ht) {
            Ok(v) => v.to_string(),
            Err(_) => "ref.null <gc type>".into(),
        },
        WastRetCore::RefExtern(None) => "externref:non-null".into(),
        WastRetCore::RefExtern(Some(n)) => format!("externref:{n}"),
        WastRetCore::RefFunc(_) => "funcref:non-null".into(),
        WastRetCore::Either(alts) => format!("either({})", join(alts, describe_core)),
        other => format!("{other:?}"),
    }
}

/// A rendering of actual values; a `v128` result expected as lanes is also
/// shown split into lanes of the same shape.
pub fn describe_values(values: &[Value], expected: &[WastRet<'_>]) -> String {
    let parts: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| match (v, expected.get(i)) {
            (Value::V128(bits), Some(WastRet::Core(WastRetCore::V128(p)))) => {
                format!("{v} = {}", v128_lanes(*bits, p))
            }
            _ => v.to_string(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// `v` split into lanes of the pattern's shape.
fn v128_lanes(v: u128, p: &V128Pattern) -> String {
    let (shape, bits) = match p {
        V128Pattern::I8x16(_) => ("i8x16", 8),
        V128Pattern::I16x8(_) => ("i16x8", 16),
        V128Pattern::I32x4(_) => ("i32x4", 32),
        V128Pattern::I64x2(_) => ("i64x2", 64),
        V128Pattern::F32x4(_) => ("f32x4", 32),
        V128Pattern::F64x2(_) => ("f64x2", 64),
    };
    let n = 128 / bits as usize;
    let lanes: Vec<String> = (0..n)
        .map(|i| {
            let l = lane(v, bits, i);
            match shape {
                "i8x16" => (l as u8 as i8).to_string(),
                "i16x8" => (l as u16 as i16).to_string(),
                "i32x4" => (l as u32 as i32).to_string(),
                "i64x2" => (l as u64 as i64).to_string(),
                "f32x4" => format!("{}(0x{:08x})", f32::from_bits(l as u32), l),
                _ => format!("{}(0x{:016x})", f64::from_bits(l as u64), l),
            }
        })
        .collect();
    format!("{shape}:[{}]", lanes.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::wast::parser::{self, ParseBuffer};

    /// Parses one `(assert_return (invoke "f") RESULT)` and returns whether
    /// `actual` matches RESULT.
    fn check(result: &str, actual: Value) -> Result<bool, NeedsFeature> {
        let text = format!("(assert_return (invoke \"f\") {result})");
        let buf = ParseBuffer::new(&text).unwrap();
        let wast = parser::parse::<::wast::Wast<'_>>(&buf).unwrap();
        match &wast.directives[0] {
            ::wast::WastDirective::AssertReturn { results, .. } => {
                ret_matches(&results[0], &actual)
            }
            other => panic!("unexpected directive {other:?}"),
        }
    }

    fn arg(text: &str) -> Result<Value, NeedsFeature> {
        let text = format!("(invoke \"f\" {text})");
        let buf = ParseBuffer::new(&text).unwrap();
        let wast = parser::parse::<::wast::Wast<'_>>(&buf).unwrap();
        match &wast.directives[0] {
            ::wast::WastDirective::Invoke(i) => arg_value(&i.args[0]),
            other => panic!("unexpected directive {other:?}"),
        }
    }

    #[test]
    fn integers_compare_exactly() {
        assert_eq!(check("(i32.const -1)", Value::I32(-1)), Ok(true));
        assert_eq!(check("(i32.const 0xffffffff)", Value::I32(-1)), Ok(true));
        assert_eq!(check("(i32.const 1)", Value::I32(2)), Ok(false));
        assert_eq!(check("(i32.const 1)", Value::I64(1)), Ok(false));
        assert_eq!(check("(i64.const -2)", Value::I64(-2)), Ok(true));
    }

    #[test]
    fn float_literals_compare_bitwise() {
        assert_eq!(check("(f32.const -0)", Value::F32(0x8000_0000)), Ok(true));
        assert_eq!(check("(f32.const 0)", Value::F32(0x8000_0000)), Ok(false));
        assert_eq!(
            check("(f32.const nan:0x200000)", Value::F32(0x7fa0_0000)),
            Ok(true)
        );
        assert_eq!(
            check("(f32.const nan:0x200000)", Value::F32(0x7fc0_0000)),
            Ok(false)
        );
        assert_eq!(
            check("(f64.const 1.5)", Value::F64(1.5f64.to_bits())),
            Ok(true)
        );
        assert_eq!(
            check("(f64.const -nan)", Value::F64(0xfff8_0000_0000_0000)),
            Ok(true)
        );
    }

    #[test]
    fn nan_patterns_classify() {
        assert_eq!(
            check("(f32.const nan:canonical)", Value::F32(0x7fc0_0000)),
            Ok(true)
        );
        assert_eq!(
            check("(f32.const nan:canonical)", Value::F32(0xffc0_0000)),
            Ok(true)
        );
        assert_eq!(
            check("(f32.const nan:canonical)", Value::F32(0x7fc0_0001)),
            Ok(false)
        );
        assert_eq!(
            check("(f32.const nan:arithmetic)", Value::F32(0x7fc0_0001)),
            Ok(true)
        );
        assert_eq!(
            check("(f32.const nan:arithmetic)", Value::F32(0x7f80_0001)),
            Ok(false)
        );
        assert_eq!(
            check("(f32.const nan:arithmetic)", Value::F32(0x7f80_0000)),
            Ok(false)
        );
        assert_eq!(
            check(
                "(f64.const nan:canonical)",
                Value::F64(0x7ff8_0000_0000_0000)
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                "(f64.const nan:arithmetic)",
                Value::F64(0xfff8_0000_0000_0001)
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                "(f64.const nan:arithmetic)",
                Value::F64(0x7ff0_0000_0000_0001)
            ),
            Ok(false)
        );
    }

    #[test]
    fn v128_lanes() {
        let v = u128::from_le_bytes([1, 0, 2, 0, 3, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x80]);
        assert_eq!(
            check("(v128.const i16x8 1 2 3 -1 0 0 0 -32768)", Value::V128(v)),
            Ok(true)
        );
        assert_eq!(
            check("(v128.const i16x8 1 2 3 -1 0 0 0 0)", Value::V128(v)),
            Ok(false)
        );
        assert_eq!(
            check(
                "(v128.const i8x16 1 0 2 0 3 0 -1 255 0 0 0 0 0 0 0 0x80)",
                Value::V128(v)
            ),
            Ok(true)
        );
        let lanes = [0x7fc0_0000u32, 0x7fc0_0001, 0x3f80_0000, 0xffc0_0000];
        let mut v = 0u128;
        for (i, l) in lanes.iter().enumerate() {
            v |= (*l as u128) << (32 * i);
        }
        assert_eq!(
            check(
                "(v128.const f32x4 nan:canonical nan:arithmetic 1.0 nan:canonical)",
                Value::V128(v)
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                "(v128.const f32x4 nan:canonical nan:canonical 1.0 nan:canonical)",
                Value::V128(v)
            ),
            Ok(false)
        );
        let v = (0x7ff8_0000_0000_0000u128 << 64) | 0x4000_0000_0000_0000;
        assert_eq!(
            check("(v128.const f64x2 2 nan:canonical)", Value::V128(v)),
            Ok(true)
        );
        assert_eq!(check("(v128.const i64x2 2 0)", Value::V128(v)), Ok(false));
    }

    #[test]
    fn references() {
        assert_eq!(check("(ref.null func)", Value::FuncRef(None)), Ok(true));
        assert_eq!(check("(ref.null func)", Value::ExternRef(None)), Ok(false));
        assert_eq!(check("(ref.null extern)", Value::ExternRef(None)), Ok(true));
        assert_eq!(check("(ref.null)", Value::ExternRef(None)), Ok(true));
        assert_eq!(check("(ref.null)", Value::FuncRef(Some(0))), Ok(false));
        assert_eq!(check("(ref.extern 3)", Value::ExternRef(Some(3))), Ok(true));
        assert_eq!(
            check("(ref.extern 3)", Value::ExternRef(Some(4))),
            Ok(false)
        );
        assert_eq!(check("(ref.extern)", Value::ExternRef(Some(4))), Ok(true));
        assert_eq!(check("(ref.extern)", Value::ExternRef(None)), Ok(false));
        assert_eq!(check("(ref.func)", Value::FuncRef(Some(7))), Ok(true));
        assert_eq!(check("(ref.func)", Value::FuncRef(None)), Ok(false));
        assert_eq!(check("(ref.i31)", Value::I32(0)), Err(needs("gc")));
        assert_eq!(
            check("(ref.null any)", Value::ExternRef(None)),
            Err(needs("gc"))
        );
    }

    #[test]
    fn either_matches_any_alternative() {
        let e = "(either (i32.const 1) (i32.const 2))";
        assert_eq!(check(e, Value::I32(2)), Ok(true));
        assert_eq!(check(e, Value::I32(3)), Ok(false));
    }

    #[test]
    fn arguments_convert() {
        assert_eq!(arg("(i32.const -7)"), Ok(Value::I32(-7)));
        assert_eq!(arg("(f32.const -0x1p-149)"), Ok(Value::F32(0x8000_0001)));
        assert_eq!(
            arg("(f64.const inf)"),
            Ok(Value::F64(0x7ff0_0000_0000_0000))
        );
        assert_eq!(
            arg("(v128.const i32x4 1 2 3 4)"),
            Ok(Value::V128(
                1 | (2u128 << 32) | (3u128 << 64) | (4u128 << 96)
            ))
        );
        assert_eq!(arg("(ref.null func)"), Ok(Value::FuncRef(None)));
        assert_eq!(arg("(ref.null noextern)"), Ok(Value::ExternRef(None)));
        assert_eq!(arg("(ref.extern 9)"), Ok(Value::ExternRef(Some(9))));
        assert_eq!(arg("(ref.host 1)"), Err(needs("gc")));
        assert_eq!(arg("(ref.null exn)"), Err(needs("exceptions")));
    }
}
