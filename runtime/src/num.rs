//! Scalar numeric semantics of WebAssembly, exact to the spec.
//!
//! Shared by the interpreter's scalar and SIMD instructions (SIMD applies
//! them lane-wise) and by the oracles' NaN classification. NaN results follow
//! one deterministic rule the spec allows: the first NaN operand, quieted
//! (so canonical NaNs stay canonical and any other NaN is arithmetic); an
//! operation that creates a NaN from non-NaN inputs yields the positive
//! canonical NaN.

use crate::trap::Trap;

/// Float behaviour shared by `f32` and `f64`.
pub trait WasmFloat: Copy + PartialOrd + std::ops::Add<Output = Self> {
    /// Bits of the quiet flag.
    const QUIET: u64;
    /// The positive canonical NaN.
    const CANONICAL_NAN: Self;
    /// Raw bits (zero-extended).
    fn to_bits64(self) -> u64;
    /// From raw bits.
    fn from_bits64(b: u64) -> Self;
    /// True for NaN.
    fn nan(self) -> bool;
    /// True if the sign bit is set.
    fn negative(self) -> bool;
    /// Round to nearest, ties to even.
    fn round_even(self) -> Self;
    /// Round towards +inf.
    fn ceil_(self) -> Self;
    /// Round towards -inf.
    fn floor_(self) -> Self;
    /// Round towards zero.
    fn trunc_(self) -> Self;
    /// Square root.
    fn sqrt_(self) -> Self;
}

macro_rules! wasm_float {
    ($t:ty, $bits:ty, $quiet:expr) => {
        impl WasmFloat for $t {
            const QUIET: u64 = $quiet;
            const CANONICAL_NAN: $t = <$t>::from_bits($quiet as $bits | (<$t>::INFINITY.to_bits()));
            fn to_bits64(self) -> u64 {
                self.to_bits() as u64
            }
            fn from_bits64(b: u64) -> Self {
                <$t>::from_bits(b as $bits)
            }
            fn nan(self) -> bool {
                self.is_nan()
            }
            fn negative(self) -> bool {
                self.is_sign_negative()
            }
            fn round_even(self) -> Self {
                self.round_ties_even()
            }
            fn ceil_(self) -> Self {
                self.ceil()
            }
            fn floor_(self) -> Self {
                self.floor()
            }
            fn trunc_(self) -> Self {
                self.trunc()
            }
            fn sqrt_(self) -> Self {
                self.sqrt()
            }
        }
    };
}
wasm_float!(f32, u32, 0x0040_0000);
wasm_float!(f64, u64, 0x0008_0000_0000_0000);

/// Quiets a NaN (sets the quiet bit, keeps sign and payload).
pub fn quiet<F: WasmFloat>(x: F) -> F {
    F::from_bits64(x.to_bits64() | F::QUIET)
}

/// NaN propagation for a binary op: the first NaN operand, quieted.
fn propagate<F: WasmFloat>(a: F, b: F) -> Option<F> {
    if a.nan() {
        Some(quiet(a))
    } else if b.nan() {
        Some(quiet(b))
    } else {
        None
    }
}

/// `fN.min`: NaN-propagating; `-0 < +0`.
pub fn fmin<F: WasmFloat>(a: F, b: F) -> F {
    if let Some(n) = propagate(a, b) {
        return n;
    }
    if a == b {
        // Equal values differ at most in the sign of zero.
        return if a.negative() { a } else { b };
    }
    if a < b { a } else { b }
}

/// `fN.max`: NaN-propagating; `+0 > -0`.
pub fn fmax<F: WasmFloat>(a: F, b: F) -> F {
    if let Some(n) = propagate(a, b) {
        return n;
    }
    if a == b {
        return if a.negative() { b } else { a };
    }
    if a > b { a } else { b }
}

/// `fN.nearest`: round half to even; NaN quieted.
pub fn fnearest<F: WasmFloat>(a: F) -> F {
    if a.nan() { quiet(a) } else { a.round_even() }
}

/// `fN.ceil`; NaN quieted (libm's software rounding, used on CPUs without
/// SSE4.1, returns a signalling NaN unchanged, which the spec forbids).
pub fn fceil<F: WasmFloat>(a: F) -> F {
    if a.nan() { quiet(a) } else { a.ceil_() }
}

/// `fN.floor`; NaN quieted.
pub fn ffloor<F: WasmFloat>(a: F) -> F {
    if a.nan() { quiet(a) } else { a.floor_() }
}

/// `fN.trunc`; NaN quieted.
pub fn ftrunc<F: WasmFloat>(a: F) -> F {
    if a.nan() { quiet(a) } else { a.trunc_() }
}

/// `fN.sqrt`; NaN quieted.
pub fn fsqrt<F: WasmFloat>(a: F) -> F {
    if a.nan() { quiet(a) } else { a.sqrt_() }
}

/// `fNxM.pmin`: `b < a ? b : a` (no NaN special-casing).
pub fn fpmin<F: WasmFloat>(a: F, b: F) -> F {
    if b < a { b } else { a }
}

/// `fNxM.pmax`: `a < b ? b : a`.
pub fn fpmax<F: WasmFloat>(a: F, b: F) -> F {
    if a < b { b } else { a }
}

/// Canonical NaN test (`nan:canonical` in the spec tests), any sign.
pub fn is_canonical_nan_f32(bits: u32) -> bool {
    bits & 0x7fff_ffff == 0x7fc0_0000
}

/// Arithmetic NaN test (`nan:arithmetic`): quiet bit set, any payload.
pub fn is_arithmetic_nan_f32(bits: u32) -> bool {
    bits & 0x7fc0_0000 == 0x7fc0_0000
}

/// Canonical NaN test for f64.
pub fn is_canonical_nan_f64(bits: u64) -> bool {
    bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000
}

/// Arithmetic NaN test for f64.
pub fn is_arithmetic_nan_f64(bits: u64) -> bool {
    bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000
}

macro_rules! trunc_checked {
    ($name:ident, $f:ty, $i:ty, $lo:expr, $hi:expr) => {
        /// Trapping float-to-int truncation: NaN is an invalid conversion,
        /// a value outside the target range (after truncation) overflows.
        pub fn $name(x: $f) -> Result<$i, Trap> {
            if x.is_nan() {
                return Err(Trap::InvalidConversionToInteger);
            }
            // `lo` and `hi` are exclusive bounds, exactly representable.
            if x <= $lo || x >= $hi {
                return Err(Trap::IntegerOverflow);
            }
            Ok(x as $i)
        }
    };
}
trunc_checked!(f32_to_i32, f32, i32, -2147483904.0f32, 2147483648.0f32);
trunc_checked!(f32_to_u32, f32, u32, -1.0f32, 4294967296.0f32);
trunc_checked!(f64_to_i32, f64, i32, -2147483649.0f64, 2147483648.0f64);
trunc_checked!(f64_to_u32, f64, u32, -1.0f64, 4294967296.0f64);
trunc_checked!(
    f32_to_i64,
    f32,
    i64,
    -9223373136366403584.0f32,
    9223372036854775808.0f32
);
trunc_checked!(f32_to_u64, f32, u64, -1.0f32, 18446744073709551616.0f32);
trunc_checked!(
    f64_to_i64,
    f64,
    i64,
    -9223372036854777856.0f64,
    9223372036854775808.0f64
);
trunc_checked!(f64_to_u64, f64, u64, -1.0f64, 18446744073709551616.0f64);

macro_rules! int_div {
    ($div_s:ident, $div_u:ident, $rem_s:ident, $rem_u:ident, $s:ty, $u:ty) => {
        /// Signed division: traps on zero divisor and on `MIN / -1`.
        pub fn $div_s(a: $s, b: $s) -> Result<$s, Trap> {
            if b == 0 {
                return Err(Trap::IntegerDivideByZero);
            }
            a.checked_div(b).ok_or(Trap::IntegerOverflow)
        }
        /// Unsigned division: traps on zero divisor.
        pub fn $div_u(a: $s, b: $s) -> Result<$s, Trap> {
            if b == 0 {
                return Err(Trap::IntegerDivideByZero);
            }
            Ok(((a as $u) / (b as $u)) as $s)
        }
        /// Signed remainder: traps on zero divisor; `MIN % -1 == 0`.
        pub fn $rem_s(a: $s, b: $s) -> Result<$s, Trap> {
            if b == 0 {
                return Err(Trap::IntegerDivideByZero);
            }
            Ok(a.wrapping_rem(b))
        }
        /// Unsigned remainder: traps on zero divisor.
        pub fn $rem_u(a: $s, b: $s) -> Result<$s, Trap> {
            if b == 0 {
                return Err(Trap::IntegerDivideByZero);
            }
            Ok(((a as $u) % (b as $u)) as $s)
        }
    };
}
int_div!(i32_div_s, i32_div_u, i32_rem_s, i32_rem_u, i32, u32);
int_div!(i64_div_s, i64_div_u, i64_rem_s, i64_rem_u, i64, u64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_zero_signs_and_nans() {
        assert!(fmin(0.0f32, -0.0).is_sign_negative());
        assert!(fmin(-0.0f32, 0.0).is_sign_negative());
        assert!(fmax(-0.0f64, 0.0).is_sign_positive());
        let snan = f32::from_bits(0x7fa0_0001);
        assert_eq!(fmin(1.0, snan).to_bits(), 0x7fe0_0001);
        assert!(is_canonical_nan_f32(fmax(f32::NAN, 1.0).to_bits()));
    }

    #[test]
    fn nearest_ties_to_even() {
        assert_eq!(fnearest(2.5f64), 2.0);
        assert_eq!(fnearest(-3.5f32), -4.0);
        assert!(fnearest(-0.4f64).is_sign_negative());
    }

    #[test]
    fn rounding_quiets_signalling_nans() {
        let snan = f32::from_bits(0xffa0_0000);
        for op in [fceil::<f32>, ffloor, ftrunc, fsqrt, fnearest] {
            assert_eq!(op(snan).to_bits(), 0xffe0_0000);
        }
        assert_eq!(ffloor(-0.5f64).to_bits(), (-1.0f64).to_bits());
        assert!(ftrunc(-0.5f32).is_sign_negative());
    }

    #[test]
    fn truncation_bounds() {
        assert_eq!(f32_to_i32(-2147483648.0), Ok(i32::MIN));
        assert_eq!(f32_to_i32(2147483648.0), Err(Trap::IntegerOverflow));
        assert_eq!(f64_to_i32(-2147483648.9), Ok(i32::MIN));
        assert_eq!(f64_to_i32(-2147483649.0), Err(Trap::IntegerOverflow));
        assert_eq!(f64_to_u32(-0.9), Ok(0));
        assert_eq!(f32_to_u64(f32::NAN), Err(Trap::InvalidConversionToInteger));
        assert_eq!(f64_to_i64(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(f32_to_i64(-9223372036854775808.0), Ok(i64::MIN));
    }

    #[test]
    fn division_traps() {
        assert_eq!(i32_div_s(i32::MIN, -1), Err(Trap::IntegerOverflow));
        assert_eq!(i64_rem_s(i64::MIN, -1), Ok(0));
        assert_eq!(i32_rem_u(1, 0), Err(Trap::IntegerDivideByZero));
        assert_eq!(i64_div_u(-1, 2), Ok(i64::MAX));
    }
}
