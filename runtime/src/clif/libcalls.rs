//! The Cranelift libcalls shoal supports, for both sides: host addresses to
//! link native code against (x86-64 without SSE4.1 lowers `ceil`, `floor`,
//! `trunc` and `nearest` to libcalls, without FMA `fma`, without SSSE3
//! some shuffles to `X86Pshufb`), and an interpreter handler computing the
//! same functions so CLIF that calls `%CeilF32` etc. explicitly runs in the
//! reference too.

use cranelift_codegen::data_value::DataValue;
use cranelift_codegen::ir::LibCall;
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_interpreter::interpreter::LibCallValues;
use cranelift_interpreter::step::CraneliftTrap;

extern "C" fn ceil_f32(x: f32) -> f32 {
    x.ceil()
}
extern "C" fn ceil_f64(x: f64) -> f64 {
    x.ceil()
}
extern "C" fn floor_f32(x: f32) -> f32 {
    x.floor()
}
extern "C" fn floor_f64(x: f64) -> f64 {
    x.floor()
}
extern "C" fn trunc_f32(x: f32) -> f32 {
    x.trunc()
}
extern "C" fn trunc_f64(x: f64) -> f64 {
    x.trunc()
}
extern "C" fn nearest_f32(x: f32) -> f32 {
    x.round_ties_even()
}
extern "C" fn nearest_f64(x: f64) -> f64 {
    x.round_ties_even()
}
extern "C" fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add(b, c)
}
extern "C" fn fma_f64(a: f64, b: f64, c: f64) -> f64 {
    a.mul_add(b, c)
}

/// `pshufb` on byte arrays: each result byte selects `a[b & 15]`, or zero
/// when the selector's top bit is set.
fn pshufb(a: [u8; 16], b: [u8; 16]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, sel) in out.iter_mut().zip(b) {
        if sel & 0x80 == 0 {
            *o = a[usize::from(sel & 0x0f)];
        }
    }
    out
}

// `__m128i` is passed in an XMM register by the System V ABI, exactly as
// Cranelift's libcall signature `(i8x16, i8x16) -> i8x16` expects.
#[cfg(target_arch = "x86_64")]
#[allow(
    improper_ctypes_definitions,
    reason = "SysV passes __m128i in XMM registers"
)]
extern "C" fn x86_pshufb(
    a: std::arch::x86_64::__m128i,
    b: std::arch::x86_64::__m128i,
) -> std::arch::x86_64::__m128i {
    // SAFETY: __m128i and [u8; 16] have the same size; any bits are valid.
    unsafe {
        use std::arch::x86_64::__m128i;
        let out = pshufb(
            std::mem::transmute::<__m128i, [u8; 16]>(a),
            std::mem::transmute::<__m128i, [u8; 16]>(b),
        );
        std::mem::transmute::<[u8; 16], __m128i>(out)
    }
}

/// The host address native code should call for `libcall`, if supported.
pub fn native_address(libcall: LibCall) -> Option<usize> {
    let addr = match libcall {
        LibCall::CeilF32 => ceil_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::CeilF64 => ceil_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::FloorF32 => floor_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::FloorF64 => floor_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::TruncF32 => trunc_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::TruncF64 => trunc_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::NearestF32 => nearest_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::NearestF64 => nearest_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::FmaF32 => fma_f32 as extern "C" fn(f32, f32, f32) -> f32 as usize,
        LibCall::FmaF64 => fma_f64 as extern "C" fn(f64, f64, f64) -> f64 as usize,
        #[cfg(target_arch = "x86_64")]
        LibCall::X86Pshufb => {
            x86_pshufb
                as extern "C" fn(
                    std::arch::x86_64::__m128i,
                    std::arch::x86_64::__m128i,
                ) -> std::arch::x86_64::__m128i as usize
        }
        _ => return None,
    };
    Some(addr)
}

fn f32_of(v: &DataValue) -> Option<f32> {
    match v {
        DataValue::F32(x) => Some(x.as_f32()),
        _ => None,
    }
}

fn f64_of(v: &DataValue) -> Option<f64> {
    match v {
        DataValue::F64(x) => Some(x.as_f64()),
        _ => None,
    }
}

/// Interpreter handler for the same libcalls. An unsupported libcall (or
/// wrongly typed arguments) is reported as `UnreachableCodeReached`, which
/// the reference executor treats as inconclusive.
pub fn interpret(libcall: LibCall, args: LibCallValues) -> Result<LibCallValues, CraneliftTrap> {
    let unsupported = || CraneliftTrap::UnreachableCodeReached;
    let f32_1 = |f: fn(f32) -> f32| {
        let x = args.first().and_then(f32_of).ok_or_else(unsupported)?;
        Ok(DataValue::F32(Ieee32::with_float(f(x))))
    };
    let f64_1 = |f: fn(f64) -> f64| {
        let x = args.first().and_then(f64_of).ok_or_else(unsupported)?;
        Ok(DataValue::F64(Ieee64::with_float(f(x))))
    };
    let result: Result<DataValue, CraneliftTrap> = match libcall {
        LibCall::CeilF32 => f32_1(f32::ceil),
        LibCall::CeilF64 => f64_1(f64::ceil),
        LibCall::FloorF32 => f32_1(f32::floor),
        LibCall::FloorF64 => f64_1(f64::floor),
        LibCall::TruncF32 => f32_1(f32::trunc),
        LibCall::TruncF64 => f64_1(f64::trunc),
        LibCall::NearestF32 => f32_1(f32::round_ties_even),
        LibCall::NearestF64 => f64_1(f64::round_ties_even),
        LibCall::FmaF32 => match args.iter().map(f32_of).collect::<Option<Vec<_>>>() {
            Some(v) if v.len() == 3 => {
                Ok(DataValue::F32(Ieee32::with_float(v[0].mul_add(v[1], v[2]))))
            }
            _ => Err(unsupported()),
        },
        LibCall::FmaF64 => match args.iter().map(f64_of).collect::<Option<Vec<_>>>() {
            Some(v) if v.len() == 3 => {
                Ok(DataValue::F64(Ieee64::with_float(v[0].mul_add(v[1], v[2]))))
            }
            _ => Err(unsupported()),
        },
        LibCall::X86Pshufb => match (args.first(), args.get(1)) {
            (Some(DataValue::V128(a)), Some(DataValue::V128(b))) => {
                Ok(DataValue::V128(pshufb(*a, *b)))
            }
            _ => Err(unsupported()),
        },
        _ => Err(unsupported()),
    };
    let mut out = LibCallValues::new();
    out.push(result?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pshufb_selects_and_zeroes() {
        let a: [u8; 16] = std::array::from_fn(|i| i as u8 * 10);
        let mut b = [0u8; 16];
        b[0] = 3;
        b[1] = 0x80;
        b[2] = 0x1f;
        let out = pshufb(a, b);
        assert_eq!(&out[..3], &[30, 0, 150]);
    }

    #[test]
    fn nearest_rounds_ties_to_even() {
        let mut args = LibCallValues::new();
        args.push(DataValue::F64(Ieee64::with_float(2.5)));
        let out = interpret(LibCall::NearestF64, args).unwrap();
        assert_eq!(out[0], DataValue::F64(Ieee64::with_float(2.0)));
        assert_eq!(nearest_f32(-3.5), -4.0);
    }
}
