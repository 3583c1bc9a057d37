//! Float lane arithmetic and comparisons (`f32x4`, `f64x2`).
//!
//! Lanes are computed with the host's IEEE operations (round to nearest,
//! ties to even; Rust never flushes subnormals), then any NaN result is
//! replaced by the deterministic choice of [`crate::num`]: the first NaN
//! operand, quieted, or the positive canonical NaN when the operation
//! created the NaN (x86, for one, would produce a *negative* NaN there).
//! `min`, `max`, `nearest`, `pmin` and `pmax` are `crate::num`'s functions.
//! `abs` and `neg` only touch the sign bit, as the spec requires.

use std::ops::{Div, Mul, Sub};

use super::lanes::{bool_lane, map, zip};
use super::{FShape, FloatBinOp, FloatCmp, FloatUnOp};
use crate::num::{WasmFloat, fmax, fmin, fnearest, fpmax, fpmin, quiet};

/// What the float lanes need beyond [`WasmFloat`].
trait Lane: WasmFloat + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> {
    /// The sign bit.
    const SIGN: u64;
    fn sqrt(self) -> Self;
    fn ceil(self) -> Self;
    fn floor(self) -> Self;
    fn trunc(self) -> Self;
}

macro_rules! lane_impl {
    ($t:ty, $sign:expr) => {
        impl Lane for $t {
            const SIGN: u64 = $sign;
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn ceil(self) -> Self {
                <$t>::ceil(self)
            }
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            fn trunc(self) -> Self {
                <$t>::trunc(self)
            }
        }
    };
}
lane_impl!(f32, 1 << 31);
lane_impl!(f64, 1 << 63);

/// NaN rule for a unary arithmetic result `r` of operand `a`.
#[inline(always)]
fn nan1<F: Lane>(a: F, r: F) -> F {
    if !r.nan() {
        r
    } else if a.nan() {
        quiet(a)
    } else {
        F::CANONICAL_NAN
    }
}

/// NaN rule for a binary arithmetic result `r` of operands `a`, `b`.
#[inline(always)]
fn nan2<F: Lane>(a: F, b: F, r: F) -> F {
    if !r.nan() {
        r
    } else if a.nan() {
        quiet(a)
    } else if b.nan() {
        quiet(b)
    } else {
        F::CANONICAL_NAN
    }
}

/// Lifts a float function to lane bits.
#[inline(always)]
fn lift1<F: Lane>(f: impl Fn(F) -> F) -> impl Fn(u64) -> u64 {
    move |x| f(F::from_bits64(x)).to_bits64()
}

/// Lifts a binary float function to lane bits.
#[inline(always)]
fn lift2<F: Lane>(f: impl Fn(F, F) -> F) -> impl Fn(u64, u64) -> u64 {
    move |x, y| f(F::from_bits64(x), F::from_bits64(y)).to_bits64()
}

/// Lane-wise float unary operation.
pub(crate) fn unary(shape: FShape, op: FloatUnOp, a: u128) -> u128 {
    match shape {
        FShape::F32x4 => unary_w::<f32, 32>(op, a),
        FShape::F64x2 => unary_w::<f64, 64>(op, a),
    }
}

fn unary_w<F: Lane, const W: u32>(op: FloatUnOp, a: u128) -> u128 {
    match op {
        FloatUnOp::Abs => map::<W>(a, |x| x & !F::SIGN),
        FloatUnOp::Neg => map::<W>(a, |x| x ^ F::SIGN),
        FloatUnOp::Sqrt => map::<W>(a, lift1(|x: F| nan1(x, x.sqrt()))),
        FloatUnOp::Ceil => map::<W>(a, lift1(|x: F| nan1(x, x.ceil()))),
        FloatUnOp::Floor => map::<W>(a, lift1(|x: F| nan1(x, x.floor()))),
        FloatUnOp::Trunc => map::<W>(a, lift1(|x: F| nan1(x, x.trunc()))),
        FloatUnOp::Nearest => map::<W>(a, lift1(fnearest::<F>)),
    }
}

/// Lane-wise float binary operation.
pub(crate) fn binary(shape: FShape, op: FloatBinOp, a: u128, b: u128) -> u128 {
    match shape {
        FShape::F32x4 => binary_w::<f32, 32>(op, a, b),
        FShape::F64x2 => binary_w::<f64, 64>(op, a, b),
    }
}

fn binary_w<F: Lane, const W: u32>(op: FloatBinOp, a: u128, b: u128) -> u128 {
    match op {
        FloatBinOp::Add => zip::<W>(a, b, lift2(|x: F, y| nan2(x, y, x + y))),
        FloatBinOp::Sub => zip::<W>(a, b, lift2(|x: F, y| nan2(x, y, x - y))),
        FloatBinOp::Mul => zip::<W>(a, b, lift2(|x: F, y| nan2(x, y, x * y))),
        FloatBinOp::Div => zip::<W>(a, b, lift2(|x: F, y| nan2(x, y, x / y))),
        FloatBinOp::Min => zip::<W>(a, b, lift2(fmin::<F>)),
        FloatBinOp::Max => zip::<W>(a, b, lift2(fmax::<F>)),
        FloatBinOp::PMin => zip::<W>(a, b, lift2(fpmin::<F>)),
        FloatBinOp::PMax => zip::<W>(a, b, lift2(fpmax::<F>)),
    }
}

/// Lane-wise float comparison; all-ones lanes where it holds.
pub(crate) fn compare(shape: FShape, op: FloatCmp, a: u128, b: u128) -> u128 {
    match shape {
        FShape::F32x4 => compare_w::<f32, 32>(op, a, b),
        FShape::F64x2 => compare_w::<f64, 64>(op, a, b),
    }
}

fn compare_w<F: Lane, const W: u32>(op: FloatCmp, a: u128, b: u128) -> u128 {
    let test =
        |p: fn(&F, &F) -> bool| move |x, y| bool_lane(p(&F::from_bits64(x), &F::from_bits64(y)));
    match op {
        FloatCmp::Eq => zip::<W>(a, b, test(F::eq)),
        FloatCmp::Ne => zip::<W>(a, b, test(F::ne)),
        FloatCmp::Lt => zip::<W>(a, b, test(F::lt)),
        FloatCmp::Gt => zip::<W>(a, b, test(F::gt)),
        FloatCmp::Le => zip::<W>(a, b, test(F::le)),
        FloatCmp::Ge => zip::<W>(a, b, test(F::ge)),
    }
}
