//! SIMD operators that are not simple table entries: constants, lanes,
//! splats, shuffles, composite lowerings and vector memory accesses.

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::types::{self, Type};
use cranelift_codegen::ir::{ConstantData, InstBuilder, Value};
use wasmparser::{MemArg, Operator};

use super::{FuncTranslator, TResult};

/// Lane type of a `vNxM` lane access by byte width.
fn lane_vector(bytes: u8) -> Type {
    match bytes {
        1 => types::I8X16,
        2 => types::I16X8,
        4 => types::I32X4,
        _ => types::I64X2,
    }
}

impl FuncTranslator<'_, '_> {
    /// SIMD operators outside the op table; `Ok(false)` otherwise.
    pub(super) fn simd_op(&mut self, op: &Operator<'_>) -> TResult<bool> {
        use types::{F32X4, F64X2, I8X16, I16X8, I32X4, I64X2};
        match op {
            Operator::V128Const { value } => {
                let v = self.v128_const(u128::from_le_bytes(*value.bytes()));
                self.push(v);
            }
            Operator::I8x16Splat => self.splat(I8X16, Some(types::I8)),
            Operator::I16x8Splat => self.splat(I16X8, Some(types::I16)),
            Operator::I32x4Splat => self.splat(I32X4, None),
            Operator::I64x2Splat => self.splat(I64X2, None),
            Operator::F32x4Splat => self.splat(F32X4, None),
            Operator::F64x2Splat => self.splat(F64X2, None),
            Operator::I8x16ExtractLaneS { lane } => self.extract(I8X16, *lane, Some(true)),
            Operator::I8x16ExtractLaneU { lane } => self.extract(I8X16, *lane, Some(false)),
            Operator::I16x8ExtractLaneS { lane } => self.extract(I16X8, *lane, Some(true)),
            Operator::I16x8ExtractLaneU { lane } => self.extract(I16X8, *lane, Some(false)),
            Operator::I32x4ExtractLane { lane } => self.extract(I32X4, *lane, None),
            Operator::I64x2ExtractLane { lane } => self.extract(I64X2, *lane, None),
            Operator::F32x4ExtractLane { lane } => self.extract(F32X4, *lane, None),
            Operator::F64x2ExtractLane { lane } => self.extract(F64X2, *lane, None),
            Operator::I8x16ReplaceLane { lane } => self.replace(I8X16, *lane, Some(types::I8)),
            Operator::I16x8ReplaceLane { lane } => self.replace(I16X8, *lane, Some(types::I16)),
            Operator::I32x4ReplaceLane { lane } => self.replace(I32X4, *lane, None),
            Operator::I64x2ReplaceLane { lane } => self.replace(I64X2, *lane, None),
            Operator::F32x4ReplaceLane { lane } => self.replace(F32X4, *lane, None),
            Operator::F64x2ReplaceLane { lane } => self.replace(F64X2, *lane, None),
            Operator::I8x16Shuffle { lanes } => {
                let b = self.pop_as(I8X16);
                let a = self.pop_as(I8X16);
                let imm = self
                    .b
                    .func
                    .dfg
                    .immediates
                    .push(ConstantData::from(lanes.to_vec()));
                let v = self.b.ins().shuffle(a, b, imm);
                self.push(v);
            }
            Operator::V128AndNot => {
                let b = self.pop_as(I8X16);
                let a = self.pop_as(I8X16);
                let nb = self.b.ins().bnot(b);
                let v = self.b.ins().band(a, nb);
                self.push(v);
            }
            Operator::V128Bitselect => {
                let c = self.pop_as(I8X16);
                let b = self.pop_as(I8X16);
                let a = self.pop_as(I8X16);
                let v = self.b.ins().bitselect(c, a, b);
                self.push(v);
            }
            Operator::I8x16Bitmask => self.bitmask(I8X16),
            Operator::I16x8Bitmask => self.bitmask(I16X8),
            Operator::I32x4Bitmask => self.bitmask(I32X4),
            Operator::I64x2Bitmask => self.bitmask(I64X2),
            Operator::F32x4PMin => self.pminmax(F32X4, true),
            Operator::F32x4PMax => self.pminmax(F32X4, false),
            Operator::F64x2PMin => self.pminmax(F64X2, true),
            Operator::F64x2PMax => self.pminmax(F64X2, false),
            _ => return self.simd_widening_op(op),
        }
        Ok(true)
    }

    /// Extending multiplies, pairwise adds, dot product and the
    /// conversions that need more than one instruction.
    fn simd_widening_op(&mut self, op: &Operator<'_>) -> TResult<bool> {
        use types::{F64X2, I8X16, I16X8, I32X4, I64X2};
        match op {
            Operator::I16x8ExtMulLowI8x16S => self.extmul(I8X16, true, true),
            Operator::I16x8ExtMulHighI8x16S => self.extmul(I8X16, false, true),
            Operator::I16x8ExtMulLowI8x16U => self.extmul(I8X16, true, false),
            Operator::I16x8ExtMulHighI8x16U => self.extmul(I8X16, false, false),
            Operator::I32x4ExtMulLowI16x8S => self.extmul(I16X8, true, true),
            Operator::I32x4ExtMulHighI16x8S => self.extmul(I16X8, false, true),
            Operator::I32x4ExtMulLowI16x8U => self.extmul(I16X8, true, false),
            Operator::I32x4ExtMulHighI16x8U => self.extmul(I16X8, false, false),
            Operator::I64x2ExtMulLowI32x4S => self.extmul(I32X4, true, true),
            Operator::I64x2ExtMulHighI32x4S => self.extmul(I32X4, false, true),
            Operator::I64x2ExtMulLowI32x4U => self.extmul(I32X4, true, false),
            Operator::I64x2ExtMulHighI32x4U => self.extmul(I32X4, false, false),
            Operator::I16x8ExtAddPairwiseI8x16S => self.extadd_pairwise(I8X16, true),
            Operator::I16x8ExtAddPairwiseI8x16U => self.extadd_pairwise(I8X16, false),
            Operator::I32x4ExtAddPairwiseI16x8S => self.extadd_pairwise(I16X8, true),
            Operator::I32x4ExtAddPairwiseI16x8U => self.extadd_pairwise(I16X8, false),
            Operator::I32x4DotI16x8S => {
                let b = self.pop_as(I16X8);
                let a = self.pop_as(I16X8);
                let (alo, blo) = (self.b.ins().swiden_low(a), self.b.ins().swiden_low(b));
                let lo = self.b.ins().imul(alo, blo);
                let (ahi, bhi) = (self.b.ins().swiden_high(a), self.b.ins().swiden_high(b));
                let hi = self.b.ins().imul(ahi, bhi);
                let v = self.b.ins().iadd_pairwise(lo, hi);
                self.push(v);
            }
            Operator::I32x4TruncSatF64x2SZero | Operator::I32x4TruncSatF64x2UZero => {
                let signed = matches!(op, Operator::I32x4TruncSatF64x2SZero);
                let a = self.pop_as(F64X2);
                let c = if signed {
                    self.b.ins().fcvt_to_sint_sat(I64X2, a)
                } else {
                    self.b.ins().fcvt_to_uint_sat(I64X2, a)
                };
                let zero = self.vector_const(I64X2, 0);
                let v = if signed {
                    self.b.ins().snarrow(c, zero)
                } else {
                    self.b.ins().uunarrow(c, zero)
                };
                self.push(v);
            }
            Operator::F64x2ConvertLowI32x4S | Operator::F64x2ConvertLowI32x4U => {
                let a = self.pop_as(I32X4);
                let v = if matches!(op, Operator::F64x2ConvertLowI32x4S) {
                    let w = self.b.ins().swiden_low(a);
                    self.b.ins().fcvt_from_sint(F64X2, w)
                } else {
                    let w = self.b.ins().uwiden_low(a);
                    self.b.ins().fcvt_from_uint(F64X2, w)
                };
                self.push(v);
            }
            _ => return self.simd_memory_op(op),
        }
        Ok(true)
    }

    /// Vector loads and stores.
    fn simd_memory_op(&mut self, op: &Operator<'_>) -> TResult<bool> {
        use types::{I8X16, I16X8, I32X4, I64X2};
        match op {
            Operator::V128Load { memarg } => {
                self.vload(memarg, 16, |t, f, a, o| t.b.ins().load(I8X16, f, a, o))
            }
            Operator::V128Load8x8S { memarg } => {
                self.vload(memarg, 8, |t, f, a, o| t.b.ins().sload8x8(f, a, o))
            }
            Operator::V128Load8x8U { memarg } => {
                self.vload(memarg, 8, |t, f, a, o| t.b.ins().uload8x8(f, a, o))
            }
            Operator::V128Load16x4S { memarg } => {
                self.vload(memarg, 8, |t, f, a, o| t.b.ins().sload16x4(f, a, o))
            }
            Operator::V128Load16x4U { memarg } => {
                self.vload(memarg, 8, |t, f, a, o| t.b.ins().uload16x4(f, a, o))
            }
            Operator::V128Load32x2S { memarg } => {
                self.vload(memarg, 8, |t, f, a, o| t.b.ins().sload32x2(f, a, o))
            }
            Operator::V128Load32x2U { memarg } => {
                self.vload(memarg, 8, |t, f, a, o| t.b.ins().uload32x2(f, a, o))
            }
            Operator::V128Load8Splat { memarg } => self.load_splat(memarg, types::I8, I8X16),
            Operator::V128Load16Splat { memarg } => self.load_splat(memarg, types::I16, I16X8),
            Operator::V128Load32Splat { memarg } => self.load_splat(memarg, types::I32, I32X4),
            Operator::V128Load64Splat { memarg } => self.load_splat(memarg, types::I64, I64X2),
            Operator::V128Load32Zero { memarg } => self.vload(memarg, 4, |t, f, a, o| {
                let x = t.b.ins().load(types::I32, f, a, o);
                t.b.ins().scalar_to_vector(I32X4, x)
            }),
            Operator::V128Load64Zero { memarg } => self.vload(memarg, 8, |t, f, a, o| {
                let x = t.b.ins().load(types::I64, f, a, o);
                t.b.ins().scalar_to_vector(I64X2, x)
            }),
            Operator::V128Store { memarg } => {
                let v = self.pop();
                let index = self.pop();
                if let Some((addr, off, flags)) = self.heap_addr(memarg, 16, index) {
                    self.b.ins().store(flags, v, addr, off);
                }
            }
            Operator::V128Load8Lane { memarg, lane } => self.load_lane(memarg, 1, *lane),
            Operator::V128Load16Lane { memarg, lane } => self.load_lane(memarg, 2, *lane),
            Operator::V128Load32Lane { memarg, lane } => self.load_lane(memarg, 4, *lane),
            Operator::V128Load64Lane { memarg, lane } => self.load_lane(memarg, 8, *lane),
            Operator::V128Store8Lane { memarg, lane } => self.store_lane(memarg, 1, *lane),
            Operator::V128Store16Lane { memarg, lane } => self.store_lane(memarg, 2, *lane),
            Operator::V128Store32Lane { memarg, lane } => self.store_lane(memarg, 4, *lane),
            Operator::V128Store64Lane { memarg, lane } => self.store_lane(memarg, 8, *lane),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn splat(&mut self, ty: Type, narrow: Option<Type>) {
        let x = self.pop();
        let x = match narrow {
            Some(n) => self.b.ins().ireduce(n, x),
            None => x,
        };
        let v = self.b.ins().splat(ty, x);
        self.push(v);
    }

    /// `extract_lane`; `signed` is `Some` for narrow integer lanes.
    fn extract(&mut self, ty: Type, lane: u8, signed: Option<bool>) {
        let v = self.pop_as(ty);
        let x = self.b.ins().extractlane(v, lane);
        let x = match signed {
            Some(true) => self.b.ins().sextend(types::I32, x),
            Some(false) => self.b.ins().uextend(types::I32, x),
            None => x,
        };
        self.push(x);
    }

    fn replace(&mut self, ty: Type, lane: u8, narrow: Option<Type>) {
        let x = self.pop();
        let v = self.pop_as(ty);
        let x = match narrow {
            Some(n) => self.b.ins().ireduce(n, x),
            None => x,
        };
        let r = self.b.ins().insertlane(v, x, lane);
        self.push(r);
    }

    fn bitmask(&mut self, ty: Type) {
        let v = self.pop_as(ty);
        let r = self.b.ins().vhigh_bits(types::I32, v);
        self.push(r);
    }

    /// `pmin`: `b < a ? b : a`; `pmax`: `a < b ? b : a` (lane-wise).
    fn pminmax(&mut self, ty: Type, min: bool) {
        let b = self.pop_as(ty);
        let a = self.pop_as(ty);
        let mask = if min {
            self.b.ins().fcmp(FloatCC::LessThan, b, a)
        } else {
            self.b.ins().fcmp(FloatCC::LessThan, a, b)
        };
        let mask = self.as_type(mask, ty);
        let v = self.b.ins().bitselect(mask, b, a);
        self.push(v);
    }

    fn widen(&mut self, v: Value, low: bool, signed: bool) -> Value {
        match (low, signed) {
            (true, true) => self.b.ins().swiden_low(v),
            (false, true) => self.b.ins().swiden_high(v),
            (true, false) => self.b.ins().uwiden_low(v),
            (false, false) => self.b.ins().uwiden_high(v),
        }
    }

    fn extmul(&mut self, narrow: Type, low: bool, signed: bool) {
        let b = self.pop_as(narrow);
        let a = self.pop_as(narrow);
        let wa = self.widen(a, low, signed);
        let wb = self.widen(b, low, signed);
        let v = self.b.ins().imul(wa, wb);
        self.push(v);
    }

    fn extadd_pairwise(&mut self, narrow: Type, signed: bool) {
        let a = self.pop_as(narrow);
        let lo = self.widen(a, true, signed);
        let hi = self.widen(a, false, signed);
        let v = self.b.ins().iadd_pairwise(lo, hi);
        self.push(v);
    }

    /// A vector load of `size` bytes built by `f(self, flags, addr, offset)`.
    fn vload(
        &mut self,
        memarg: &MemArg,
        size: u64,
        f: impl FnOnce(&mut Self, cranelift_codegen::ir::MemFlagsData, Value, i32) -> Value,
    ) {
        let index = self.pop();
        if let Some((addr, off, flags)) = self.heap_addr(memarg, size, index) {
            let v = f(self, flags, addr, off);
            self.push(v);
        }
    }

    fn load_splat(&mut self, memarg: &MemArg, scalar: Type, vector: Type) {
        self.vload(memarg, u64::from(scalar.bytes()), |t, f, a, o| {
            let x = t.b.ins().load(scalar, f, a, o);
            t.b.ins().splat(vector, x)
        });
    }

    fn load_lane(&mut self, memarg: &MemArg, bytes: u8, lane: u8) {
        let vty = lane_vector(bytes);
        let v = self.pop_as(vty);
        let index = self.pop();
        if let Some((addr, off, flags)) = self.heap_addr(memarg, u64::from(bytes), index) {
            let x = self.b.ins().load(vty.lane_type(), flags, addr, off);
            let r = self.b.ins().insertlane(v, x, lane);
            self.push(r);
        }
    }

    fn store_lane(&mut self, memarg: &MemArg, bytes: u8, lane: u8) {
        let vty = lane_vector(bytes);
        let v = self.pop_as(vty);
        let index = self.pop();
        if let Some((addr, off, flags)) = self.heap_addr(memarg, u64::from(bytes), index) {
            let x = self.b.ins().extractlane(v, lane);
            self.b.ins().store(flags, x, addr, off);
        }
    }
}
