//! Typed access to untyped stack slots: the small inline helpers the
//! executor's numeric instructions are written with, and the SIMD memory
//! lane arithmetic.

use super::code::Slot;
use crate::trap::Trap;

/// A scalar that can be read from and written to a slot.
pub(crate) trait SlotVal: Copy {
    /// Reads the value (ignores bits above its width).
    fn get(s: Slot) -> Self;
    /// Encodes the value, zero-extended.
    fn put(self) -> Slot;
}

macro_rules! int_slot {
    ($($t:ty => $u:ty),*) => {$(
        impl SlotVal for $t {
            #[inline(always)]
            fn get(s: Slot) -> Self {
                s as $u as $t
            }
            #[inline(always)]
            fn put(self) -> Slot {
                self as $u as Slot
            }
        }
    )*};
}
int_slot!(i32 => u32, u32 => u32, i64 => u64, u64 => u64);

impl SlotVal for f32 {
    #[inline(always)]
    fn get(s: Slot) -> Self {
        f32::from_bits(s as u32)
    }
    #[inline(always)]
    fn put(self) -> Slot {
        self.to_bits() as Slot
    }
}

impl SlotVal for f64 {
    #[inline(always)]
    fn get(s: Slot) -> Self {
        f64::from_bits(s as u64)
    }
    #[inline(always)]
    fn put(self) -> Slot {
        self.to_bits() as Slot
    }
}

impl SlotVal for bool {
    #[inline(always)]
    fn get(s: Slot) -> Self {
        s as u32 != 0
    }
    #[inline(always)]
    fn put(self) -> Slot {
        self as Slot
    }
}

/// Applies a unary operator to the top of the stack.
#[inline(always)]
pub(crate) fn un<A: SlotVal, R: SlotVal>(s: &mut [Slot], sp: usize, f: impl FnOnce(A) -> R) {
    s[sp - 1] = f(A::get(s[sp - 1])).put();
}

/// Applies a trapping unary operator to the top of the stack.
#[inline(always)]
pub(crate) fn un_t<A: SlotVal, R: SlotVal>(
    s: &mut [Slot],
    sp: usize,
    f: impl FnOnce(A) -> Result<R, Trap>,
) -> Result<(), Trap> {
    s[sp - 1] = f(A::get(s[sp - 1]))?.put();
    Ok(())
}

/// Applies a binary operator to the two topmost values.
#[inline(always)]
pub(crate) fn bin<A: SlotVal, R: SlotVal>(
    s: &mut [Slot],
    sp: &mut usize,
    f: impl FnOnce(A, A) -> R,
) {
    let b = A::get(s[*sp - 1]);
    let a = A::get(s[*sp - 2]);
    *sp -= 1;
    s[*sp - 1] = f(a, b).put();
}

/// Applies a trapping binary operator to the two topmost values.
#[inline(always)]
pub(crate) fn bin_t<A: SlotVal, R: SlotVal>(
    s: &mut [Slot],
    sp: &mut usize,
    f: impl FnOnce(A, A) -> Result<R, Trap>,
) -> Result<(), Trap> {
    let b = A::get(s[*sp - 1]);
    let a = A::get(s[*sp - 2]);
    *sp -= 1;
    s[*sp - 1] = f(a, b)?.put();
    Ok(())
}

/// Widens `lanes` lanes of `from` bytes each (little-endian in `bytes`) to
/// lanes twice as wide, sign- or zero-extending (`v128.loadMxN_s/u`).
#[inline]
pub(crate) fn extend_lanes(bytes: [u8; 8], from: usize, signed: bool) -> Slot {
    let lanes = 8 / from;
    let bits = 8 * from as u32;
    let raw = u64::from_le_bytes(bytes);
    let mut out: u128 = 0;
    for i in 0..lanes {
        let lane = (raw >> (bits * i as u32)) & ((1u64 << bits) - 1);
        let wide = if signed {
            // Sign-extend from `bits` to 64, then keep 2 * bits.
            let shift = 64 - bits;
            (((lane << shift) as i64) >> shift) as u64
        } else {
            lane
        };
        let mask = if 2 * bits == 64 {
            u64::MAX
        } else {
            (1u64 << (2 * bits)) - 1
        };
        out |= ((wide & mask) as u128) << (2 * bits * i as u32);
    }
    out
}

/// Repeats a `bytes`-wide value across all 16 bytes (`v128.loadN_splat`).
#[inline]
pub(crate) fn splat(x: u64, bytes: usize) -> Slot {
    let bits = 8 * bytes;
    let mut out: u128 = 0;
    for i in 0..16 / bytes {
        out |= (x as u128) << (bits * i);
    }
    out
}

/// Mask of one lane of `bytes` bytes at lane index `lane`.
#[inline]
pub(crate) fn lane_mask(bytes: u8, lane: u8) -> (u32, u128) {
    let bits = 8 * u32::from(bytes);
    let shift = bits * u32::from(lane);
    let ones: u128 = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    (shift, ones << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening() {
        let b = [0x80, 0x7f, 0xff, 0x01, 0, 0, 0, 0];
        let s = extend_lanes(b, 1, true);
        assert_eq!(s as u16, 0xff80);
        assert_eq!((s >> 16) as u16, 0x007f);
        assert_eq!((s >> 32) as u16, 0xffff);
        let u = extend_lanes(b, 1, false);
        assert_eq!(u as u16, 0x0080);
        let w = extend_lanes([0, 0, 0, 0x80, 1, 0, 0, 0], 4, true);
        assert_eq!(w as u64, 0xffff_ffff_8000_0000);
        assert_eq!((w >> 64) as u64, 1);
    }

    #[test]
    fn splats_and_masks() {
        assert_eq!(splat(0xab, 1), u128::from_le_bytes([0xab; 16]));
        assert_eq!(splat(0x1234, 2) as u32, 0x1234_1234);
        assert_eq!(lane_mask(8, 1), (64, (u64::MAX as u128) << 64));
        assert_eq!(lane_mask(1, 3), (24, 0xff << 24));
    }
}
