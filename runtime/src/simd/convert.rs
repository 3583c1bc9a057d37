//! Shape-changing instructions: saturating narrowing, extension, extending
//! multiplies, pairwise extending adds, the dot product, and float/integer
//! conversions.
//!
//! Integer operations are written over a narrow lane width `N` and the wide
//! width `D = 2N`. Float conversions use Rust's `as`, which is exactly the
//! spec's: int-to-float rounds to nearest (ties to even), float-to-int
//! saturates with NaN to 0, `f64 as f32` rounds to nearest. Only NaN
//! payloads through promote/demote are left to us; they keep the sign and
//! the top payload bits and are quieted, so a canonical NaN stays canonical.

use super::lanes::{
    from_lanes_f32, from_lanes_f64, from_lanes_i32, get, lanes_f32, lanes_f64, lanes_i32, put, sext,
};
use super::{ConvOp, Widen};
use crate::num::WasmFloat;

/// Expands `$body` with `const $n` (narrow) and `const $d` (wide) widths.
macro_rules! by_widen {
    ($widths:expr, $n:ident, $d:ident => $body:expr) => {
        match $widths {
            Widen::I8ToI16 => {
                const $n: u32 = 8;
                const $d: u32 = 16;
                $body
            }
            Widen::I16ToI32 => {
                const $n: u32 = 16;
                const $d: u32 = 32;
                $body
            }
            Widen::I32ToI64 => {
                const $n: u32 = 32;
                const $d: u32 = 64;
                $body
            }
        }
    };
}

/// Narrow lane `i` of `a`, sign- or zero-extended to 64 bits.
#[inline(always)]
fn ext<const N: u32>(a: u128, i: u32, signed: bool) -> u64 {
    let x = get::<N>(a, i);
    if signed { sext::<N>(x) as u64 } else { x }
}

/// Saturating narrow: lanes of `a` then lanes of `b`, each a signed wide
/// value clamped to the signed or unsigned narrow range.
pub(crate) fn narrow(widths: Widen, signed: bool, a: u128, b: u128) -> u128 {
    by_widen!(widths, N, D => {
        let (lo, hi) = if signed {
            (-(1i64 << (N - 1)), (1i64 << (N - 1)) - 1)
        } else {
            (0, (1i64 << N) - 1)
        };
        let half = 128 / D;
        (0..128 / N).fold(0, |r, i| {
            let src = if i < half { a } else { b };
            let x = sext::<D>(get::<D>(src, i % half)).clamp(lo, hi);
            r | put::<N>(x as u64, i)
        })
    })
}

/// `extend_{low,high}`: the low or high narrow lanes, widened.
pub(crate) fn extend(widths: Widen, high: bool, signed: bool, a: u128) -> u128 {
    by_widen!(widths, N, D => {
        let base = if high { 128 / D } else { 0 };
        (0..128 / D).fold(0, |r, i| r | put::<D>(ext::<N>(a, base + i, signed), i))
    })
}

/// `extmul_{low,high}`: widen the chosen halves, then multiply (exact in
/// the wide type, so wrapping never loses bits).
pub(crate) fn extmul(widths: Widen, high: bool, signed: bool, a: u128, b: u128) -> u128 {
    by_widen!(widths, N, D => {
        let base = if high { 128 / D } else { 0 };
        (0..128 / D).fold(0, |r, i| {
            let p = ext::<N>(a, base + i, signed).wrapping_mul(ext::<N>(b, base + i, signed));
            r | put::<D>(p, i)
        })
    })
}

/// `extadd_pairwise`: wide lane `i` is the sum of narrow lanes `2i`, `2i+1`.
pub(crate) fn extadd_pairwise(widths: Widen, signed: bool, a: u128) -> u128 {
    by_widen!(widths, N, D => (0..128 / D).fold(0, |r, i| {
        let s = ext::<N>(a, 2 * i, signed).wrapping_add(ext::<N>(a, 2 * i + 1, signed));
        r | put::<D>(s, i)
    }))
}

/// `i32x4.dot_i16x8_s`: pairwise products summed, wrapping (only
/// `2 * (-32768)^2` overflows, to `i32::MIN`).
pub(crate) fn dot_i16x8_s(a: u128, b: u128) -> u128 {
    (0..4).fold(0, |r, i| {
        let p = |j: u32| sext::<16>(get::<16>(a, j)) * sext::<16>(get::<16>(b, j));
        r | put::<32>(p(2 * i).wrapping_add(p(2 * i + 1)) as u64, i)
    })
}

/// `f32x4.demote_f64x2_zero` on one lane.
fn demote(bits: u64) -> u32 {
    let x = f64::from_bits(bits);
    if x.is_nan() {
        let sign = ((bits >> 32) as u32) & 0x8000_0000;
        let payload = ((bits >> 29) as u32) & 0x003f_ffff;
        sign | 0x7fc0_0000 | payload
    } else {
        (x as f32).to_bits()
    }
}

/// `f64x2.promote_low_f32x4` on one lane.
fn promote(bits: u32) -> u64 {
    let x = f32::from_bits(bits);
    if x.is_nan() {
        let sign = u64::from(bits & 0x8000_0000) << 32;
        let payload = u64::from(bits & 0x003f_ffff) << 29;
        sign | f64::CANONICAL_NAN.to_bits64() | payload
    } else {
        f64::from(x).to_bits()
    }
}

/// Float/integer conversions.
pub(crate) fn convert(op: ConvOp, a: u128) -> u128 {
    let ints = || lanes_i32(a);
    let f32s = || lanes_f32(a).map(f32::from_bits);
    let f64s = || lanes_f64(a).map(f64::from_bits);
    match op {
        ConvOp::F32x4ConvertI32x4S => from_lanes_f32(ints().map(|x| (x as f32).to_bits())),
        ConvOp::F32x4ConvertI32x4U => from_lanes_f32(ints().map(|x| (x as u32 as f32).to_bits())),
        ConvOp::F64x2ConvertLowI32x4S => {
            let x = ints();
            from_lanes_f64([0, 1].map(|k| f64::from(x[k]).to_bits()))
        }
        ConvOp::F64x2ConvertLowI32x4U => {
            let x = ints();
            from_lanes_f64([0, 1].map(|k| f64::from(x[k] as u32).to_bits()))
        }
        ConvOp::I32x4TruncSatF32x4S => from_lanes_i32(f32s().map(|x| x as i32)),
        ConvOp::I32x4TruncSatF32x4U => from_lanes_i32(f32s().map(|x| x as u32 as i32)),
        ConvOp::I32x4TruncSatF64x2SZero => {
            let [x, y] = f64s();
            from_lanes_i32([x as i32, y as i32, 0, 0])
        }
        ConvOp::I32x4TruncSatF64x2UZero => {
            let [x, y] = f64s();
            from_lanes_i32([x as u32 as i32, y as u32 as i32, 0, 0])
        }
        ConvOp::F32x4DemoteF64x2Zero => {
            let [x, y] = lanes_f64(a);
            from_lanes_f32([demote(x), demote(y), 0, 0])
        }
        ConvOp::F64x2PromoteLowF32x4 => {
            let [x, y, _, _] = lanes_f32(a);
            from_lanes_f64([promote(x), promote(y)])
        }
    }
}
