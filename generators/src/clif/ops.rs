//! Emitting one table entry with given operands: immediates (condition
//! codes, lanes, shuffle masks, memory flags, trap codes) are chosen here.

use cranelift_codegen::data_value::DataValue;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee16, Ieee32, Ieee64, Ieee128, Imm64, Offset32, Uimm8};
use cranelift_codegen::ir::instructions::InstructionFormat;
use cranelift_codegen::ir::{
    AtomicRmwOp, ConstantData, Endianness, InstBuilder, MemFlagsData, Opcode, TrapCode, Type,
    Value, types,
};

use super::func::FnGen;
use super::table::{ClifOp, address_operand, is_memory};
use crate::dict;

/// The user trap code generated traps use.
pub const GENERATED_TRAP: u8 = 42;

impl FnGen<'_, '_, '_> {
    /// Emits `op` with value operands `args` (for memory opcodes the
    /// address operand is replaced by a synthesized stack address) and
    /// returns its results.
    pub fn emit_op(&mut self, op: &ClifOp, args: &[Value]) -> Vec<Value> {
        let opcode = op.opcode;
        let ctrl = op.ctrl;
        let mut args = args.to_vec();
        let mut offset = Offset32::new(0);
        let mut flags = MemFlagsData::new();
        if is_memory(opcode) {
            let bytes = access_bytes(op);
            let atomic = matches!(
                opcode,
                Opcode::AtomicLoad | Opcode::AtomicStore | Opcode::AtomicRmw | Opcode::AtomicCas
            );
            let (addr, imm, aligned) = self.stack_address(bytes, atomic);
            args[address_operand(opcode)] = addr;
            offset = Offset32::new(imm);
            if aligned && self.r.chance(1, 2) {
                flags = flags.with_aligned();
            }
            if self.r.chance(1, 2) {
                flags = flags.with_notrap();
            }
        }
        if opcode == Opcode::Bitcast && op.args[0].lane_count() != op.rets[0].lane_count() {
            flags = flags.with_endianness(Endianness::Little);
        }
        let flags = self
            .b
            .func
            .dfg
            .mem_flags
            .insert(flags)
            .expect("few memory flag sets");
        let inst = {
            let lane = |r: &mut crate::rng::Rng<'_>, t: Type| {
                Uimm8::from(r.below(u64::from(t.lane_count())) as u8)
            };
            match opcode.format() {
                InstructionFormat::NullAry => self.b.ins().NullAry(opcode, ctrl).0,
                InstructionFormat::Unary => self.b.ins().Unary(opcode, ctrl, args[0]).0,
                InstructionFormat::Binary => self.b.ins().Binary(opcode, ctrl, args[0], args[1]).0,
                InstructionFormat::Ternary => {
                    self.b
                        .ins()
                        .Ternary(opcode, ctrl, args[0], args[1], args[2])
                        .0
                }
                InstructionFormat::IntCompare => {
                    let cc = *self.r.pick(IntCC::all()).unwrap_or(&IntCC::Equal);
                    self.b
                        .ins()
                        .IntCompare(opcode, ctrl, cc, args[0], args[1])
                        .0
                }
                InstructionFormat::FloatCompare => {
                    let ccs = float_conditions(op.args[0].is_vector(), self.cfg.pulley);
                    let cc = self.r.pick_or(&ccs, FloatCC::Equal);
                    self.b
                        .ins()
                        .FloatCompare(opcode, ctrl, cc, args[0], args[1])
                        .0
                }
                InstructionFormat::BinaryImm8 => {
                    let l = lane(self.r, op.args[0]);
                    self.b.ins().BinaryImm8(opcode, ctrl, l, args[0]).0
                }
                InstructionFormat::TernaryImm8 => {
                    let l = lane(self.r, op.args[0]);
                    self.b
                        .ins()
                        .TernaryImm8(opcode, ctrl, l, args[0], args[1])
                        .0
                }
                InstructionFormat::Shuffle => {
                    let mask = dict::pick_shuffle_mask(self.r);
                    let imm = self
                        .b
                        .func
                        .dfg
                        .immediates
                        .push(ConstantData::from(&mask[..]));
                    self.b.ins().Shuffle(opcode, ctrl, imm, args[0], args[1]).0
                }
                InstructionFormat::IntAddTrap => {
                    let code = TrapCode::user(GENERATED_TRAP).expect("nonzero trap code");
                    self.b
                        .ins()
                        .IntAddTrap(opcode, ctrl, code, args[0], args[1])
                        .0
                }
                InstructionFormat::LoadNoOffset => {
                    self.b.ins().LoadNoOffset(opcode, ctrl, flags, args[0]).0
                }
                InstructionFormat::Load => {
                    self.b.ins().Load(opcode, ctrl, flags, offset, args[0]).0
                }
                InstructionFormat::Store => {
                    self.b
                        .ins()
                        .Store(opcode, ctrl, flags, offset, args[0], args[1])
                        .0
                }
                InstructionFormat::StoreNoOffset => {
                    self.b
                        .ins()
                        .StoreNoOffset(opcode, ctrl, flags, args[0], args[1])
                        .0
                }
                InstructionFormat::AtomicRmw => {
                    let rmw = *self.r.pick(AtomicRmwOp::all()).unwrap_or(&AtomicRmwOp::Add);
                    self.b
                        .ins()
                        .AtomicRmw(opcode, ctrl, flags, rmw, args[0], args[1])
                        .0
                }
                InstructionFormat::AtomicCas => {
                    self.b
                        .ins()
                        .AtomicCas(opcode, ctrl, flags, args[0], args[1], args[2])
                        .0
                }
                InstructionFormat::StackAddr => {
                    let (slot, size) = self.slots[self.r.index(self.slots.len())];
                    let off = self.r.range(0, u64::from(size)) as i32;
                    self.b
                        .ins()
                        .StackAddr(opcode, ctrl, slot, Offset32::new(off))
                        .0
                }
                _ => {
                    // Constants (the only other formats in the table).
                    return vec![self.constant(op.rets[0])];
                }
            }
        };
        self.b.inst_results(inst).to_vec()
    }

    /// A dictionary constant of type `ty`.
    pub fn constant(&mut self, ty: Type) -> Value {
        if ty.is_vector() {
            let bytes = dict::pick_v128(self.r).to_le_bytes();
            let c = self
                .b
                .func
                .dfg
                .constants
                .insert(ConstantData::from(&bytes[..]));
            return self.b.ins().vconst(ty, c);
        }
        match ty {
            types::F32 => self
                .b
                .ins()
                .f32const(Ieee32::with_bits(dict::pick_f32(self.r))),
            types::F64 => self
                .b
                .ins()
                .f64const(Ieee64::with_bits(dict::pick_f64(self.r))),
            types::I128 => {
                let v = dict::pick_int(self.r, 128);
                let lo = self.b.ins().iconst(types::I64, Imm64::new(v as u64 as i64));
                let hi = self
                    .b
                    .ins()
                    .iconst(types::I64, Imm64::new((v >> 64) as u64 as i64));
                self.b.ins().iconcat(lo, hi)
            }
            _ => {
                let v = dict::pick_int(self.r, ty.bits()) as u64;
                // `iconst` immediates are the value zero-extended from the type's width.
                self.b.ins().iconst(ty, Imm64::new(v as i64))
            }
        }
    }
}

/// Bytes a memory opcode accesses.
fn access_bytes(op: &ClifOp) -> u32 {
    use Opcode::*;
    match op.opcode {
        Uload8 | Sload8 | Istore8 => 1,
        Uload16 | Sload16 | Istore16 => 2,
        Uload32 | Sload32 | Istore32 => 4,
        _ => op.ctrl.bytes(),
    }
}

/// A dictionary argument of CLIF type `ty` for a run line.
pub fn data_value(r: &mut crate::rng::Rng<'_>, ty: Type) -> DataValue {
    if ty.is_vector() {
        return DataValue::V128(dict::pick_v128(r).to_le_bytes());
    }
    match ty {
        types::F16 => DataValue::F16(Ieee16::with_bits(dict::pick_f16(r))),
        types::F32 => DataValue::F32(Ieee32::with_bits(dict::pick_f32(r))),
        types::F64 => DataValue::F64(Ieee64::with_bits(dict::pick_f64(r))),
        types::I8 => DataValue::I8(dict::pick_int(r, 8) as u8 as i8),
        types::I16 => DataValue::I16(dict::pick_int(r, 16) as u16 as i16),
        types::I32 => DataValue::I32(dict::pick_int(r, 32) as u32 as i32),
        types::I64 => DataValue::I64(dict::pick_int(r, 64) as u64 as i64),
        types::F128 => DataValue::F128(Ieee128::with_bits(dict::pick_f128(r))),
        _ => DataValue::I128(dict::pick_int(r, 128) as i128),
    }
}

/// Condition codes `fcmp` may use: x64 cannot lower `one`/`ueq` on vectors,
/// Pulley only the basic vector comparisons.
pub fn float_conditions(vector: bool, pulley: bool) -> Vec<FloatCC> {
    FloatCC::all()
        .iter()
        .copied()
        .filter(|&cc| {
            use FloatCC::*;
            !vector
                || match cc {
                    OrderedNotEqual | UnorderedOrEqual => false,
                    Ordered
                    | UnorderedOrGreaterThan
                    | UnorderedOrGreaterThanOrEqual
                    | UnorderedOrLessThan
                    | UnorderedOrLessThanOrEqual => !pulley,
                    _ => true,
                }
        })
        .collect()
}
