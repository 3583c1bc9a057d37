//! CLIF values: lane-exact comparison modulo NaN payloads, filetest syntax,
//! and the raw 16-byte slot layout the trampolines use.
//!
//! The CLIF type, not the `DataValue` variant, decides the lane shape: a
//! `V128` of type `f32x4` is four float lanes, of type `i32x4` four integer
//! lanes. Integer lanes compare bit-exactly. Float lanes compare bit-exactly
//! unless both are NaN: Cranelift leaves the sign and payload of a computed
//! NaN unspecified, so any NaN equals any NaN (a NaN never equals a
//! non-NaN).

use std::fmt;

use cranelift_codegen::data_value::DataValue;
use cranelift_codegen::ir::immediates::{Ieee16, Ieee32, Ieee64};
use cranelift_codegen::ir::{Type, types};

/// Size of one argument/result slot in a trampoline buffer.
pub const SLOT_BYTES: usize = 16;

/// Whether `ty` is a value shape the executors can pass across a
/// trampoline: a scalar int or float, or a vector of at most 128 bits.
pub fn supported_type(ty: Type) -> bool {
    if ty.is_dynamic_vector() {
        return false;
    }
    if ty.is_vector() {
        return ty.bits() <= 128;
    }
    ty.is_int() || ty.is_float()
}

/// Whether `v` is a value of type `ty`.
pub fn fits(v: &DataValue, ty: Type) -> bool {
    if ty.is_vector() {
        v.is_vector() && v.ty().bytes() == ty.bytes()
    } else {
        v.ty() == ty
    }
}

/// The value's bytes in native order, zero-padded to a slot.
pub fn to_slot(v: &DataValue) -> [u8; SLOT_BYTES] {
    let mut slot = [0u8; SLOT_BYTES];
    let n = v.ty().bytes() as usize;
    v.write_to_slice_ne(&mut slot[..n]);
    slot
}

/// Reads a value of type `ty` from a slot.
pub fn from_slot(slot: &[u8; SLOT_BYTES], ty: Type) -> DataValue {
    DataValue::read_from_slice_ne(&slot[..], ty)
}

fn lane_is_nan(lane: Type, bytes: &[u8]) -> bool {
    let bits = lane_bits(bytes);
    let (exp_bits, mant_bits) = match lane {
        types::F16 => (5, 10),
        types::F32 => (8, 23),
        types::F64 => (11, 52),
        types::F128 => (15, 112),
        _ => return false,
    };
    let exp = (bits >> mant_bits) & ((1u128 << exp_bits) - 1);
    let mant = bits & ((1u128 << mant_bits) - 1);
    exp == (1u128 << exp_bits) - 1 && mant != 0
}

/// Compares two values of type `ty` lane by lane; returns the first lane
/// that differs (with both lanes' bits), or `None` if they agree.
pub fn lane_difference(ty: Type, a: &DataValue, b: &DataValue) -> Option<LaneDiff> {
    let lane = ty.lane_type();
    let width = lane.bytes() as usize;
    let (sa, sb) = (to_slot(a), to_slot(b));
    let total = ty.bytes() as usize;
    for (index, start) in (0..total).step_by(width.max(1)).enumerate() {
        let la = &sa[start..start + width];
        let lb = &sb[start..start + width];
        if la == lb || (lane_is_nan(lane, la) && lane_is_nan(lane, lb)) {
            continue;
        }
        return Some(LaneDiff {
            lane: index,
            lane_type: lane,
            left: lane_bits(la),
            right: lane_bits(lb),
        });
    }
    None
}

/// The bits of one lane stored in native byte order (lane `i` of a vector
/// occupies bytes `i*w..(i+1)*w` on either endianness).
fn lane_bits(bytes: &[u8]) -> u128 {
    match bytes.len() {
        1 => u128::from(bytes[0]),
        2 => u128::from(u16::from_ne_bytes([bytes[0], bytes[1]])),
        4 => u128::from(u32::from_ne_bytes(bytes.try_into().unwrap_or_default())),
        8 => u128::from(u64::from_ne_bytes(bytes.try_into().unwrap_or_default())),
        _ => u128::from_ne_bytes(bytes.try_into().unwrap_or_default()),
    }
}

/// One differing lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaneDiff {
    /// Lane index (0 for scalars).
    pub lane: usize,
    /// The lane type.
    pub lane_type: Type,
    /// The left value's lane bits.
    pub left: u128,
    /// The right value's lane bits.
    pub right: u128,
}

impl fmt::Display for LaneDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = (self.lane_type.bytes() * 2) as usize;
        write!(
            f,
            "lane {} ({}): {:#0w$x} vs {:#0w$x}",
            self.lane,
            self.lane_type,
            self.left,
            self.right,
            w = digits + 2
        )
    }
}

/// Flips the lowest bit of `v` (test-only fault injection).
pub fn flip_low_bit(v: &DataValue) -> DataValue {
    let ty = v.ty();
    let mut slot = to_slot(v);
    slot[0] ^= 1;
    from_slot(&slot, ty)
}

/// Displays a value in CLIF run-line syntax when its type is only known
/// from the value (vectors print as a hex constant).
pub struct Shown<'a>(pub &'a DataValue);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Displays a value of CLIF type `ty` in run-line syntax that
/// `cranelift-reader` parses back to the same bits: vectors as lane lists
/// (`[1 2 3 4]`, floats in Cranelift's hex float syntax).
pub struct Typed<'a>(pub &'a DataValue, pub Type);

impl fmt::Display for Typed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Typed(v, ty) = *self;
        if !ty.is_vector() {
            return write!(f, "{v}");
        }
        let lane = ty.lane_type();
        let width = lane.bytes() as usize;
        let slot = to_slot(v);
        f.write_str("[")?;
        for (i, start) in (0..ty.bytes() as usize).step_by(width).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            let bits = lane_bits(&slot[start..start + width]);
            match lane {
                types::I8 => write!(f, "{}", bits as u8 as i8)?,
                types::I16 => write!(f, "{}", bits as u16 as i16)?,
                types::I32 => write!(f, "{}", bits as u32 as i32)?,
                types::I64 => write!(f, "{}", bits as u64 as i64)?,
                types::F16 => write!(f, "{}", Ieee16::with_bits(bits as u16))?,
                types::F32 => write!(f, "{}", Ieee32::with_bits(bits as u32))?,
                types::F64 => write!(f, "{}", Ieee64::with_bits(bits as u64))?,
                _ => write!(f, "{bits:#x}")?,
            }
        }
        f.write_str("]")
    }
}

/// Displays a value list of the given types, `a, b, c`.
pub struct TypedList<'a>(pub &'a [DataValue], pub &'a [Type]);

impl fmt::Display for TypedList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (v, ty)) in self.0.iter().zip(self.1).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", Typed(v, *ty))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v128(bytes: [u8; 16]) -> DataValue {
        DataValue::V128(bytes)
    }

    #[test]
    fn float_lanes_ignore_nan_payload_and_sign() {
        let a = DataValue::F32(Ieee32::with_bits(0x7fc0_0000));
        let b = DataValue::F32(Ieee32::with_bits(0xffc0_0001));
        assert_eq!(lane_difference(types::F32, &a, &b), None);
        let inf = DataValue::F32(Ieee32::with_bits(0x7f80_0000));
        assert!(lane_difference(types::F32, &a, &inf).is_some());
        // As integers, the same bits differ.
        let ia = DataValue::I32(0x7fc0_0000);
        let ib = DataValue::I32(0xffc0_0001u32 as i32);
        assert!(lane_difference(types::I32, &ia, &ib).is_some());
    }

    #[test]
    fn vector_lane_shape_comes_from_the_type() {
        let mut x = [0u8; 16];
        let mut y = [0u8; 16];
        // Lane 1 of f32x4: two different NaNs.
        x[4..8].copy_from_slice(&0x7fc0_0000u32.to_le_bytes());
        y[4..8].copy_from_slice(&0x7fa0_0001u32.to_le_bytes());
        assert_eq!(lane_difference(types::F32X4, &v128(x), &v128(y)), None);
        let d = lane_difference(types::I32X4, &v128(x), &v128(y)).unwrap();
        assert_eq!(d.lane, 1);
        // As f64x2, lane 0 holds (0, NaN-bits) in its high half: not a NaN.
        assert!(lane_difference(types::F64X2, &v128(x), &v128(y)).is_some());
        // Signed zeros are different bits.
        let pz = DataValue::F64(Ieee64::with_bits(0));
        let nz = DataValue::F64(Ieee64::with_bits(1 << 63));
        assert!(lane_difference(types::F64, &pz, &nz).is_some());
    }

    #[test]
    fn typed_display_round_trips_through_the_reader() {
        use cranelift_codegen::ir::{AbiParam, Signature};
        use cranelift_codegen::isa::CallConv;
        let mut bytes = [0u8; 16];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37) ^ 0x80;
        }
        bytes[0..4].copy_from_slice(&0x7fc0_1234u32.to_le_bytes());
        let cases = [
            (DataValue::V128(bytes), types::I8X16),
            (DataValue::V128(bytes), types::I16X8),
            (DataValue::V128(bytes), types::F32X4),
            (DataValue::V128(bytes), types::F64X2),
            (DataValue::V128(bytes), types::I64X2),
            (
                DataValue::I128(-170141183460469231731687303715884105728),
                types::I128,
            ),
            (DataValue::F32(Ieee32::with_bits(0xffc0_0001)), types::F32),
            (
                DataValue::F64(Ieee64::with_bits(0x8000_0000_0000_0001)),
                types::F64,
            ),
            (DataValue::I8(-128), types::I8),
        ];
        for (v, ty) in cases {
            let mut sig = Signature::new(CallConv::SystemV);
            sig.params.push(AbiParam::new(ty));
            let line = format!("print: %f({})", Typed(&v, ty));
            let cmd = cranelift_reader::parse_run_command(&line, &sig)
                .unwrap_or_else(|e| panic!("{line}: {e}"))
                .unwrap();
            let cranelift_reader::RunCommand::Print(inv) = cmd else {
                panic!("{line}: not a print command");
            };
            assert_eq!(to_slot(&inv.args[0]), to_slot(&v), "{line}");
        }
    }

    #[test]
    fn flipping_a_bit_is_a_difference() {
        let v = DataValue::I64(42);
        let w = flip_low_bit(&v);
        assert_eq!(w, DataValue::I64(43));
        assert!(lane_difference(types::I64, &v, &w).is_some());
    }
}
