//! Lane access for `v128` values, and the lane-moving instructions
//! (shuffle, swizzle, splat, extract_lane, replace_lane).
//!
//! Public helpers split a `u128` into typed lane arrays and back; lane 0 is
//! the least significant lane, as in [`Value::V128`]. Float lanes are carried
//! as their bit patterns (`u32`/`u64`) so NaN payloads survive. The
//! crate-internal plumbing (`get`, `map`, `zip`, ...) works on one lane
//! width `W` (8, 16, 32 or 64 bits) given as a const parameter, with each
//! lane held zero-extended in a `u64`.

use super::Shape;
use crate::values::Value;

macro_rules! lane_array {
    ($split:ident, $join:ident, $t:ty, $n:expr, $doc:expr) => {
        #[doc = concat!("Splits a `v128` into its ", $doc, " lanes (lane 0 first).")]
        pub fn $split(v: u128) -> [$t; $n] {
            const BYTES: usize = 16 / $n;
            let bytes = v.to_le_bytes();
            std::array::from_fn(|i| {
                let mut b = [0u8; BYTES];
                b.copy_from_slice(&bytes[i * BYTES..(i + 1) * BYTES]);
                <$t>::from_le_bytes(b)
            })
        }

        #[doc = concat!("Joins ", $doc, " lanes (lane 0 first) into a `v128`.")]
        pub fn $join(lanes: [$t; $n]) -> u128 {
            const BYTES: usize = 16 / $n;
            let mut bytes = [0u8; 16];
            for (i, l) in lanes.iter().enumerate() {
                bytes[i * BYTES..(i + 1) * BYTES].copy_from_slice(&l.to_le_bytes());
            }
            u128::from_le_bytes(bytes)
        }
    };
}

lane_array!(lanes_i8, from_lanes_i8, i8, 16, "sixteen `i8`");
lane_array!(lanes_u8, from_lanes_u8, u8, 16, "sixteen `u8`");
lane_array!(lanes_i16, from_lanes_i16, i16, 8, "eight `i16`");
lane_array!(lanes_u16, from_lanes_u16, u16, 8, "eight `u16`");
lane_array!(lanes_i32, from_lanes_i32, i32, 4, "four `i32`");
lane_array!(lanes_u32, from_lanes_u32, u32, 4, "four `u32`");
lane_array!(lanes_i64, from_lanes_i64, i64, 2, "two `i64`");
lane_array!(lanes_u64, from_lanes_u64, u64, 2, "two `u64`");

/// Splits a `v128` into four `f32` lanes, as bit patterns.
pub fn lanes_f32(v: u128) -> [u32; 4] {
    lanes_u32(v)
}

/// Joins four `f32` lanes, given as bit patterns, into a `v128`.
pub fn from_lanes_f32(lanes: [u32; 4]) -> u128 {
    from_lanes_u32(lanes)
}

/// Splits a `v128` into two `f64` lanes, as bit patterns.
pub fn lanes_f64(v: u128) -> [u64; 2] {
    lanes_u64(v)
}

/// Joins two `f64` lanes, given as bit patterns, into a `v128`.
pub fn from_lanes_f64(lanes: [u64; 2]) -> u128 {
    from_lanes_u64(lanes)
}

/// All-ones mask of a `W`-bit lane.
#[inline(always)]
pub(crate) const fn mask<const W: u32>() -> u64 {
    if W >= 64 { u64::MAX } else { (1u64 << W) - 1 }
}

/// Lane `i` of `v`, zero-extended.
#[inline(always)]
pub(crate) fn get<const W: u32>(v: u128, i: u32) -> u64 {
    ((v >> (i * W)) as u64) & mask::<W>()
}

/// Sign-extends a `W`-bit lane value.
#[inline(always)]
pub(crate) fn sext<const W: u32>(x: u64) -> i64 {
    ((x << (64 - W)) as i64) >> (64 - W)
}

/// Places the low `W` bits of `x` at lane `i`.
#[inline(always)]
pub(crate) fn put<const W: u32>(x: u64, i: u32) -> u128 {
    ((x & mask::<W>()) as u128) << (i * W)
}

/// Applies `f` to every lane (the result is truncated to `W` bits).
#[inline(always)]
pub(crate) fn map<const W: u32>(a: u128, f: impl Fn(u64) -> u64) -> u128 {
    (0..128 / W).fold(0, |r, i| r | put::<W>(f(get::<W>(a, i)), i))
}

/// Applies `f` to every pair of corresponding lanes.
#[inline(always)]
pub(crate) fn zip<const W: u32>(a: u128, b: u128, f: impl Fn(u64, u64) -> u64) -> u128 {
    (0..128 / W).fold(0, |r, i| r | put::<W>(f(get::<W>(a, i), get::<W>(b, i)), i))
}

/// All-ones lane if `c`, else zero.
#[inline(always)]
pub(crate) fn bool_lane(c: bool) -> u64 {
    if c { u64::MAX } else { 0 }
}

/// `i8x16.shuffle`: lane `i` of the result is lane `mask[i]` of the
/// 32-lane concatenation `a ++ b`.
pub(crate) fn shuffle(mask: &[u8; 16], a: u128, b: u128) -> u128 {
    let (a, b) = (a.to_le_bytes(), b.to_le_bytes());
    let out: [u8; 16] = std::array::from_fn(|i| {
        // Validation guarantees indices < 32; masking keeps eval total.
        let j = usize::from(mask[i] & 31);
        if j < 16 { a[j] } else { b[j - 16] }
    });
    u128::from_le_bytes(out)
}

/// `i8x16.swizzle`: lane `i` is `a[s[i]]`, or 0 when `s[i] >= 16`.
pub(crate) fn swizzle(a: u128, s: u128) -> u128 {
    let (a, s) = (a.to_le_bytes(), s.to_le_bytes());
    let out: [u8; 16] = std::array::from_fn(|i| a.get(usize::from(s[i])).copied().unwrap_or(0));
    u128::from_le_bytes(out)
}

/// The raw bits of a scalar operand of splat/replace_lane.
fn scalar_bits(x: &Value) -> u64 {
    match *x {
        Value::I32(v) => v as u32 as u64,
        Value::I64(v) => v as u64,
        Value::F32(b) => b as u64,
        Value::F64(b) => b,
        ref other => panic!("simd::eval: expected a numeric scalar operand, got {other:?}"),
    }
}

/// `<shape>.splat`.
pub(crate) fn splat(shape: Shape, x: &Value) -> u128 {
    let x = scalar_bits(x);
    match shape.lane_bits() {
        8 => map::<8>(0, |_| x),
        16 => map::<16>(0, |_| x),
        32 => map::<32>(0, |_| x),
        _ => map::<64>(0, |_| x),
    }
}

/// `<shape>.extract_lane[_s|_u]`.
pub(crate) fn extract(shape: Shape, lane: u8, signed: bool, v: u128) -> Value {
    // Validation guarantees `lane < lanes`; masking keeps eval total.
    let i = u32::from(lane) & (shape.lanes() - 1);
    match shape {
        Shape::I8x16 if signed => Value::I32(sext::<8>(get::<8>(v, i)) as i32),
        Shape::I8x16 => Value::I32(get::<8>(v, i) as i32),
        Shape::I16x8 if signed => Value::I32(sext::<16>(get::<16>(v, i)) as i32),
        Shape::I16x8 => Value::I32(get::<16>(v, i) as i32),
        Shape::I32x4 => Value::I32(get::<32>(v, i) as u32 as i32),
        Shape::F32x4 => Value::F32(get::<32>(v, i) as u32),
        Shape::I64x2 => Value::I64(get::<64>(v, i) as i64),
        Shape::F64x2 => Value::F64(get::<64>(v, i)),
    }
}

/// `<shape>.replace_lane`.
pub(crate) fn replace(shape: Shape, lane: u8, v: u128, x: &Value) -> u128 {
    let i = u32::from(lane) & (shape.lanes() - 1);
    let x = scalar_bits(x);
    let (keep, new) = match shape.lane_bits() {
        8 => (put::<8>(u64::MAX, i), put::<8>(x, i)),
        16 => (put::<16>(u64::MAX, i), put::<16>(x, i)),
        32 => (put::<32>(u64::MAX, i), put::<32>(x, i)),
        _ => (put::<64>(u64::MAX, i), put::<64>(x, i)),
    };
    (v & !keep) | new
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_arrays_round_trip_and_order() {
        let v = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100u128;
        assert_eq!(lanes_u8(v)[0], 0);
        assert_eq!(lanes_u8(v)[15], 15);
        assert_eq!(lanes_u16(v)[1], 0x0302);
        assert_eq!(lanes_i64(v)[1], 0x0f0e_0d0c_0b0a_0908);
        assert_eq!(from_lanes_i16(lanes_i16(v)), v);
        assert_eq!(from_lanes_f64(lanes_f64(v)), v);
    }

    #[test]
    fn plumbing_sign_extension() {
        assert_eq!(sext::<8>(0x80), -128);
        assert_eq!(sext::<16>(0x7fff), 0x7fff);
        assert_eq!(sext::<64>(u64::MAX), -1);
        assert_eq!(map::<32>(0, |_| u64::MAX), u128::MAX);
    }
}
