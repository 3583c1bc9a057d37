//! Decoding of wasmparser operators into [`SimdOp`]s.
//!
//! One arm per non-memory operator of the fixed-width SIMD proposal
//! (WebAssembly 2.0); memory operators and relaxed SIMD decode to `None`.

use super::ConvOp as C;
use super::FShape::{F32x4, F64x2};
use super::IShape::{I8x16, I16x8, I32x4, I64x2};
use super::SimdOp as S;
use super::Widen::{I8ToI16, I16ToI32, I32ToI64};
use super::{FloatBinOp as FB, FloatCmp as FC, FloatUnOp as FU, IntBinOp as IB, IntCmp as IC};
use super::{IntUnOp as IU, Shape, ShiftOp as SH, SimdOp};
use wasmparser::Operator as O;

/// Decodes lane-moving, bitwise and conversion operators, then defers to
/// the per-family decoders.
pub(super) fn decode(op: &O<'_>) -> Option<SimdOp> {
    Some(match *op {
        O::V128Const { value } => S::Const(u128::from(value)),
        O::I8x16Shuffle { lanes } => S::Shuffle(lanes),
        O::I8x16Swizzle => S::Swizzle,
        O::I8x16Splat => S::Splat(Shape::I8x16),
        O::I16x8Splat => S::Splat(Shape::I16x8),
        O::I32x4Splat => S::Splat(Shape::I32x4),
        O::I64x2Splat => S::Splat(Shape::I64x2),
        O::F32x4Splat => S::Splat(Shape::F32x4),
        O::F64x2Splat => S::Splat(Shape::F64x2),
        O::I8x16ExtractLaneS { lane } => extract(Shape::I8x16, lane, true),
        O::I8x16ExtractLaneU { lane } => extract(Shape::I8x16, lane, false),
        O::I16x8ExtractLaneS { lane } => extract(Shape::I16x8, lane, true),
        O::I16x8ExtractLaneU { lane } => extract(Shape::I16x8, lane, false),
        O::I32x4ExtractLane { lane } => extract(Shape::I32x4, lane, false),
        O::I64x2ExtractLane { lane } => extract(Shape::I64x2, lane, false),
        O::F32x4ExtractLane { lane } => extract(Shape::F32x4, lane, false),
        O::F64x2ExtractLane { lane } => extract(Shape::F64x2, lane, false),
        O::I8x16ReplaceLane { lane } => replace(Shape::I8x16, lane),
        O::I16x8ReplaceLane { lane } => replace(Shape::I16x8, lane),
        O::I32x4ReplaceLane { lane } => replace(Shape::I32x4, lane),
        O::I64x2ReplaceLane { lane } => replace(Shape::I64x2, lane),
        O::F32x4ReplaceLane { lane } => replace(Shape::F32x4, lane),
        O::F64x2ReplaceLane { lane } => replace(Shape::F64x2, lane),
        O::V128Not => S::Not,
        O::V128And => S::And,
        O::V128AndNot => S::AndNot,
        O::V128Or => S::Or,
        O::V128Xor => S::Xor,
        O::V128Bitselect => S::Bitselect,
        O::V128AnyTrue => S::AnyTrue,
        O::I8x16NarrowI16x8S => narrow(I8ToI16, true),
        O::I8x16NarrowI16x8U => narrow(I8ToI16, false),
        O::I16x8NarrowI32x4S => narrow(I16ToI32, true),
        O::I16x8NarrowI32x4U => narrow(I16ToI32, false),
        O::I16x8ExtendLowI8x16S => extend(I8ToI16, false, true),
        O::I16x8ExtendHighI8x16S => extend(I8ToI16, true, true),
        O::I16x8ExtendLowI8x16U => extend(I8ToI16, false, false),
        O::I16x8ExtendHighI8x16U => extend(I8ToI16, true, false),
        O::I32x4ExtendLowI16x8S => extend(I16ToI32, false, true),
        O::I32x4ExtendHighI16x8S => extend(I16ToI32, true, true),
        O::I32x4ExtendLowI16x8U => extend(I16ToI32, false, false),
        O::I32x4ExtendHighI16x8U => extend(I16ToI32, true, false),
        O::I64x2ExtendLowI32x4S => extend(I32ToI64, false, true),
        O::I64x2ExtendHighI32x4S => extend(I32ToI64, true, true),
        O::I64x2ExtendLowI32x4U => extend(I32ToI64, false, false),
        O::I64x2ExtendHighI32x4U => extend(I32ToI64, true, false),
        O::I16x8ExtMulLowI8x16S => extmul(I8ToI16, false, true),
        O::I16x8ExtMulHighI8x16S => extmul(I8ToI16, true, true),
        O::I16x8ExtMulLowI8x16U => extmul(I8ToI16, false, false),
        O::I16x8ExtMulHighI8x16U => extmul(I8ToI16, true, false),
        O::I32x4ExtMulLowI16x8S => extmul(I16ToI32, false, true),
        O::I32x4ExtMulHighI16x8S => extmul(I16ToI32, true, true),
        O::I32x4ExtMulLowI16x8U => extmul(I16ToI32, false, false),
        O::I32x4ExtMulHighI16x8U => extmul(I16ToI32, true, false),
        O::I64x2ExtMulLowI32x4S => extmul(I32ToI64, false, true),
        O::I64x2ExtMulHighI32x4S => extmul(I32ToI64, true, true),
        O::I64x2ExtMulLowI32x4U => extmul(I32ToI64, false, false),
        O::I64x2ExtMulHighI32x4U => extmul(I32ToI64, true, false),
        O::I16x8ExtAddPairwiseI8x16S => pairwise(I8ToI16, true),
        O::I16x8ExtAddPairwiseI8x16U => pairwise(I8ToI16, false),
        O::I32x4ExtAddPairwiseI16x8S => pairwise(I16ToI32, true),
        O::I32x4ExtAddPairwiseI16x8U => pairwise(I16ToI32, false),
        O::I32x4DotI16x8S => S::Dot,
        O::F32x4ConvertI32x4S => S::Convert(C::F32x4ConvertI32x4S),
        O::F32x4ConvertI32x4U => S::Convert(C::F32x4ConvertI32x4U),
        O::F64x2ConvertLowI32x4S => S::Convert(C::F64x2ConvertLowI32x4S),
        O::F64x2ConvertLowI32x4U => S::Convert(C::F64x2ConvertLowI32x4U),
        O::I32x4TruncSatF32x4S => S::Convert(C::I32x4TruncSatF32x4S),
        O::I32x4TruncSatF32x4U => S::Convert(C::I32x4TruncSatF32x4U),
        O::I32x4TruncSatF64x2SZero => S::Convert(C::I32x4TruncSatF64x2SZero),
        O::I32x4TruncSatF64x2UZero => S::Convert(C::I32x4TruncSatF64x2UZero),
        O::F32x4DemoteF64x2Zero => S::Convert(C::F32x4DemoteF64x2Zero),
        O::F64x2PromoteLowF32x4 => S::Convert(C::F64x2PromoteLowF32x4),
        _ => return decode_int(op).or_else(|| decode_float(op)),
    })
}

fn extract(shape: Shape, lane: u8, signed: bool) -> SimdOp {
    S::ExtractLane {
        shape,
        lane,
        signed,
    }
}

fn replace(shape: Shape, lane: u8) -> SimdOp {
    S::ReplaceLane { shape, lane }
}

fn narrow(widths: super::Widen, signed: bool) -> SimdOp {
    S::Narrow { widths, signed }
}

fn extend(widths: super::Widen, high: bool, signed: bool) -> SimdOp {
    S::Extend {
        widths,
        high,
        signed,
    }
}

fn extmul(widths: super::Widen, high: bool, signed: bool) -> SimdOp {
    S::ExtMul {
        widths,
        high,
        signed,
    }
}

fn pairwise(widths: super::Widen, signed: bool) -> SimdOp {
    S::ExtAddPairwise { widths, signed }
}

/// Integer lane arithmetic, shifts, comparisons and reductions.
fn decode_int(op: &O<'_>) -> Option<SimdOp> {
    Some(match *op {
        O::I8x16Eq => S::IntCompare(I8x16, IC::Eq),
        O::I8x16Ne => S::IntCompare(I8x16, IC::Ne),
        O::I8x16LtS => S::IntCompare(I8x16, IC::LtS),
        O::I8x16LtU => S::IntCompare(I8x16, IC::LtU),
        O::I8x16GtS => S::IntCompare(I8x16, IC::GtS),
        O::I8x16GtU => S::IntCompare(I8x16, IC::GtU),
        O::I8x16LeS => S::IntCompare(I8x16, IC::LeS),
        O::I8x16LeU => S::IntCompare(I8x16, IC::LeU),
        O::I8x16GeS => S::IntCompare(I8x16, IC::GeS),
        O::I8x16GeU => S::IntCompare(I8x16, IC::GeU),
        O::I16x8Eq => S::IntCompare(I16x8, IC::Eq),
        O::I16x8Ne => S::IntCompare(I16x8, IC::Ne),
        O::I16x8LtS => S::IntCompare(I16x8, IC::LtS),
        O::I16x8LtU => S::IntCompare(I16x8, IC::LtU),
        O::I16x8GtS => S::IntCompare(I16x8, IC::GtS),
        O::I16x8GtU => S::IntCompare(I16x8, IC::GtU),
        O::I16x8LeS => S::IntCompare(I16x8, IC::LeS),
        O::I16x8LeU => S::IntCompare(I16x8, IC::LeU),
        O::I16x8GeS => S::IntCompare(I16x8, IC::GeS),
        O::I16x8GeU => S::IntCompare(I16x8, IC::GeU),
        O::I32x4Eq => S::IntCompare(I32x4, IC::Eq),
        O::I32x4Ne => S::IntCompare(I32x4, IC::Ne),
        O::I32x4LtS => S::IntCompare(I32x4, IC::LtS),
        O::I32x4LtU => S::IntCompare(I32x4, IC::LtU),
        O::I32x4GtS => S::IntCompare(I32x4, IC::GtS),
        O::I32x4GtU => S::IntCompare(I32x4, IC::GtU),
        O::I32x4LeS => S::IntCompare(I32x4, IC::LeS),
        O::I32x4LeU => S::IntCompare(I32x4, IC::LeU),
        O::I32x4GeS => S::IntCompare(I32x4, IC::GeS),
        O::I32x4GeU => S::IntCompare(I32x4, IC::GeU),
        O::I64x2Eq => S::IntCompare(I64x2, IC::Eq),
        O::I64x2Ne => S::IntCompare(I64x2, IC::Ne),
        O::I64x2LtS => S::IntCompare(I64x2, IC::LtS),
        O::I64x2GtS => S::IntCompare(I64x2, IC::GtS),
        O::I64x2LeS => S::IntCompare(I64x2, IC::LeS),
        O::I64x2GeS => S::IntCompare(I64x2, IC::GeS),
        O::I8x16Abs => S::IntUnary(I8x16, IU::Abs),
        O::I8x16Neg => S::IntUnary(I8x16, IU::Neg),
        O::I8x16Popcnt => S::IntUnary(I8x16, IU::Popcnt),
        O::I16x8Abs => S::IntUnary(I16x8, IU::Abs),
        O::I16x8Neg => S::IntUnary(I16x8, IU::Neg),
        O::I32x4Abs => S::IntUnary(I32x4, IU::Abs),
        O::I32x4Neg => S::IntUnary(I32x4, IU::Neg),
        O::I64x2Abs => S::IntUnary(I64x2, IU::Abs),
        O::I64x2Neg => S::IntUnary(I64x2, IU::Neg),
        O::I8x16AllTrue => S::AllTrue(I8x16),
        O::I16x8AllTrue => S::AllTrue(I16x8),
        O::I32x4AllTrue => S::AllTrue(I32x4),
        O::I64x2AllTrue => S::AllTrue(I64x2),
        O::I8x16Bitmask => S::Bitmask(I8x16),
        O::I16x8Bitmask => S::Bitmask(I16x8),
        O::I32x4Bitmask => S::Bitmask(I32x4),
        O::I64x2Bitmask => S::Bitmask(I64x2),
        O::I8x16Shl => S::Shift(I8x16, SH::Shl),
        O::I8x16ShrS => S::Shift(I8x16, SH::ShrS),
        O::I8x16ShrU => S::Shift(I8x16, SH::ShrU),
        O::I16x8Shl => S::Shift(I16x8, SH::Shl),
        O::I16x8ShrS => S::Shift(I16x8, SH::ShrS),
        O::I16x8ShrU => S::Shift(I16x8, SH::ShrU),
        O::I32x4Shl => S::Shift(I32x4, SH::Shl),
        O::I32x4ShrS => S::Shift(I32x4, SH::ShrS),
        O::I32x4ShrU => S::Shift(I32x4, SH::ShrU),
        O::I64x2Shl => S::Shift(I64x2, SH::Shl),
        O::I64x2ShrS => S::Shift(I64x2, SH::ShrS),
        O::I64x2ShrU => S::Shift(I64x2, SH::ShrU),
        _ => return decode_int_binary(op),
    })
}

/// Integer lane-wise binary arithmetic.
fn decode_int_binary(op: &O<'_>) -> Option<SimdOp> {
    let (shape, bin) = match *op {
        O::I8x16Add => (I8x16, IB::Add),
        O::I8x16AddSatS => (I8x16, IB::AddSatS),
        O::I8x16AddSatU => (I8x16, IB::AddSatU),
        O::I8x16Sub => (I8x16, IB::Sub),
        O::I8x16SubSatS => (I8x16, IB::SubSatS),
        O::I8x16SubSatU => (I8x16, IB::SubSatU),
        O::I8x16MinS => (I8x16, IB::MinS),
        O::I8x16MinU => (I8x16, IB::MinU),
        O::I8x16MaxS => (I8x16, IB::MaxS),
        O::I8x16MaxU => (I8x16, IB::MaxU),
        O::I8x16AvgrU => (I8x16, IB::AvgrU),
        O::I16x8Add => (I16x8, IB::Add),
        O::I16x8AddSatS => (I16x8, IB::AddSatS),
        O::I16x8AddSatU => (I16x8, IB::AddSatU),
        O::I16x8Sub => (I16x8, IB::Sub),
        O::I16x8SubSatS => (I16x8, IB::SubSatS),
        O::I16x8SubSatU => (I16x8, IB::SubSatU),
        O::I16x8Mul => (I16x8, IB::Mul),
        O::I16x8MinS => (I16x8, IB::MinS),
        O::I16x8MinU => (I16x8, IB::MinU),
        O::I16x8MaxS => (I16x8, IB::MaxS),
        O::I16x8MaxU => (I16x8, IB::MaxU),
        O::I16x8AvgrU => (I16x8, IB::AvgrU),
        O::I16x8Q15MulrSatS => (I16x8, IB::Q15MulrSatS),
        O::I32x4Add => (I32x4, IB::Add),
        O::I32x4Sub => (I32x4, IB::Sub),
        O::I32x4Mul => (I32x4, IB::Mul),
        O::I32x4MinS => (I32x4, IB::MinS),
        O::I32x4MinU => (I32x4, IB::MinU),
        O::I32x4MaxS => (I32x4, IB::MaxS),
        O::I32x4MaxU => (I32x4, IB::MaxU),
        O::I64x2Add => (I64x2, IB::Add),
        O::I64x2Sub => (I64x2, IB::Sub),
        O::I64x2Mul => (I64x2, IB::Mul),
        _ => return None,
    };
    Some(S::IntBinary(shape, bin))
}

/// Float lane arithmetic and comparisons.
fn decode_float(op: &O<'_>) -> Option<SimdOp> {
    Some(match *op {
        O::F32x4Eq => S::FloatCompare(F32x4, FC::Eq),
        O::F32x4Ne => S::FloatCompare(F32x4, FC::Ne),
        O::F32x4Lt => S::FloatCompare(F32x4, FC::Lt),
        O::F32x4Gt => S::FloatCompare(F32x4, FC::Gt),
        O::F32x4Le => S::FloatCompare(F32x4, FC::Le),
        O::F32x4Ge => S::FloatCompare(F32x4, FC::Ge),
        O::F64x2Eq => S::FloatCompare(F64x2, FC::Eq),
        O::F64x2Ne => S::FloatCompare(F64x2, FC::Ne),
        O::F64x2Lt => S::FloatCompare(F64x2, FC::Lt),
        O::F64x2Gt => S::FloatCompare(F64x2, FC::Gt),
        O::F64x2Le => S::FloatCompare(F64x2, FC::Le),
        O::F64x2Ge => S::FloatCompare(F64x2, FC::Ge),
        O::F32x4Ceil => S::FloatUnary(F32x4, FU::Ceil),
        O::F32x4Floor => S::FloatUnary(F32x4, FU::Floor),
        O::F32x4Trunc => S::FloatUnary(F32x4, FU::Trunc),
        O::F32x4Nearest => S::FloatUnary(F32x4, FU::Nearest),
        O::F32x4Abs => S::FloatUnary(F32x4, FU::Abs),
        O::F32x4Neg => S::FloatUnary(F32x4, FU::Neg),
        O::F32x4Sqrt => S::FloatUnary(F32x4, FU::Sqrt),
        O::F64x2Ceil => S::FloatUnary(F64x2, FU::Ceil),
        O::F64x2Floor => S::FloatUnary(F64x2, FU::Floor),
        O::F64x2Trunc => S::FloatUnary(F64x2, FU::Trunc),
        O::F64x2Nearest => S::FloatUnary(F64x2, FU::Nearest),
        O::F64x2Abs => S::FloatUnary(F64x2, FU::Abs),
        O::F64x2Neg => S::FloatUnary(F64x2, FU::Neg),
        O::F64x2Sqrt => S::FloatUnary(F64x2, FU::Sqrt),
        O::F32x4Add => S::FloatBinary(F32x4, FB::Add),
        O::F32x4Sub => S::FloatBinary(F32x4, FB::Sub),
        O::F32x4Mul => S::FloatBinary(F32x4, FB::Mul),
        O::F32x4Div => S::FloatBinary(F32x4, FB::Div),
        O::F32x4Min => S::FloatBinary(F32x4, FB::Min),
        O::F32x4Max => S::FloatBinary(F32x4, FB::Max),
        O::F32x4PMin => S::FloatBinary(F32x4, FB::PMin),
        O::F32x4PMax => S::FloatBinary(F32x4, FB::PMax),
        O::F64x2Add => S::FloatBinary(F64x2, FB::Add),
        O::F64x2Sub => S::FloatBinary(F64x2, FB::Sub),
        O::F64x2Mul => S::FloatBinary(F64x2, FB::Mul),
        O::F64x2Div => S::FloatBinary(F64x2, FB::Div),
        O::F64x2Min => S::FloatBinary(F64x2, FB::Min),
        O::F64x2Max => S::FloatBinary(F64x2, FB::Max),
        O::F64x2PMin => S::FloatBinary(F64x2, FB::PMin),
        O::F64x2PMax => S::FloatBinary(F64x2, FB::PMax),
        _ => return None,
    })
}
