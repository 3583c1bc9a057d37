//! The interpreter's pre-decoded instruction set and value-slot encoding.
//!
//! Every defined function is translated once (at instantiation) into a run
//! of [`Op`]s in the store's code arena. Operands live in untyped 128-bit
//! slots; immediates are already resolved to store addresses, absolute code
//! positions and stack heights, so execution never looks at wasm bytes.
//!
//! Slot invariants (relied upon by the executor):
//! * `i32` and `f32` values are stored zero-extended from their 32 bits;
//! * `i64` and `f64` values are stored zero-extended from their 64 bits;
//! * a reference is [`NULL_REF`] (0) when null, else its function address
//!   or host number plus one.
//!
//! Because of the zero-extension, a memory address (i32 or i64) is always
//! read as `slot as u64`, and reinterpretations cost nothing. Because null
//! is 0, a zeroed slot is the default value of every type, so declared
//! locals are initialised by zero-filling alone.

use crate::simd::SimdOp;
use crate::trap::Trap;
use crate::values::{ValType, Value};

/// One value on the operand stack or in a local, global or table.
pub(crate) type Slot = u128;

/// The slot encoding of a null reference (either reference type).
pub(crate) const NULL_REF: u64 = 0;

/// The slot encoding of a non-null reference with payload `p` (a function
/// address or an externref's host number).
#[inline(always)]
pub(crate) fn ref_slot(p: u32) -> u64 {
    u64::from(p) + 1
}

/// A memory immediate resolved to a store memory address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemArg {
    /// Store address of the memory.
    pub mem: u32,
    /// Static offset (larger memory64 offsets are added to the address by
    /// a preceding [`Op::AddOffset`], and this one is then 0).
    pub offset: u32,
}

/// A branch destination: where to continue and how to reshape the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BrTarget {
    /// Absolute position in the code arena.
    pub pc: u32,
    /// Stack height of the label, relative to the frame base (locals included).
    pub height: u32,
    /// Number of values carried to the label.
    pub arity: u32,
}

/// A non-memory SIMD instruction with the types of its operands.
#[derive(Clone, Debug)]
pub(crate) struct SimdEntry {
    /// The decoded operator.
    pub op: SimdOp,
    /// Operand types, in stack order (only the first `n` are meaningful).
    pub args: [ValType; 3],
    /// Operand count.
    pub n: u8,
}

/// One pre-decoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    // ---- control ----
    /// Trap unconditionally (`unreachable`, or an access that provably traps).
    Trap(Trap),
    /// A loop header: charges one unit of fuel.
    LoopHeader,
    /// Unconditional jump, stack already in shape.
    Jump(u32),
    /// Pops an i32; jumps when it is zero (`if` to its `else`/`end`).
    JumpIfZero(u32),
    /// Pops an i32; jumps when non-zero (a `br_if` that needs no reshaping).
    JumpIfNonZero(u32),
    /// Branch with stack reshaping.
    Br(BrTarget),
    /// Pops an i32; branches with reshaping when non-zero.
    BrIf(BrTarget),
    /// Pops an index into the branch-table arena slice `start..start+len`
    /// (the last entry is the default).
    BrTable {
        /// First entry.
        start: u32,
        /// Number of non-default entries.
        len: u32,
    },
    /// Returns `arity` values from the current function.
    Return(u32),
    /// Direct call of a store function.
    Call(u32),
    /// Indirect call through a table, checking the canonical type id.
    CallIndirect {
        /// Expected canonical type id.
        ty: u32,
        /// Store table address.
        table: u32,
    },
    /// Tail call of a store function.
    ReturnCall(u32),
    /// Indirect tail call.
    ReturnCallIndirect {
        /// Expected canonical type id.
        ty: u32,
        /// Store table address.
        table: u32,
    },
    /// Pops one value.
    Drop,
    /// `select` (any value type).
    Select,

    // ---- variables ----
    /// Pushes a local (index relative to the frame base).
    LocalGet(u32),
    /// Pops into a local.
    LocalSet(u32),
    /// Copies the top of stack into a local.
    LocalTee(u32),
    /// Pushes a store global.
    GlobalGet(u32),
    /// Pops into a store global.
    GlobalSet(u32),

    // ---- constants and references ----
    /// Pushes 32 bits (`i32.const` / `f32.const`).
    Const32(u32),
    /// Pushes 64 bits (`i64.const` / `f64.const`), split to keep `Op` small.
    Const64 {
        /// Low half.
        lo: u32,
        /// High half.
        hi: u32,
    },
    /// Pushes a constant from the store's v128 pool.
    V128Const(u32),
    /// Pushes a null reference.
    RefNull,
    /// `ref.is_null`.
    RefIsNull,
    /// Pushes a reference to a store function.
    RefFunc(u32),

    // ---- tables ----
    /// `table.get`.
    TableGet(u32),
    /// `table.set`.
    TableSet(u32),
    /// `table.size`.
    TableSize(u32),
    /// `table.grow`; `is64` selects the i64 failure value.
    TableGrow {
        /// Store table address.
        table: u32,
        /// True for a 64-bit table.
        is64: bool,
    },
    /// `table.fill`.
    TableFill(u32),
    /// `table.copy`.
    TableCopy {
        /// Destination table address.
        dst: u32,
        /// Source table address.
        src: u32,
    },
    /// `table.init`.
    TableInit {
        /// Destination table address.
        table: u32,
        /// Store element-segment address.
        elem: u32,
    },
    /// `elem.drop`.
    ElemDrop(u32),

    // ---- memory ----
    /// `memory.size`.
    MemorySize(u32),
    /// `memory.grow`; `is64` selects the i64 failure value.
    MemoryGrow {
        /// Store memory address.
        mem: u32,
        /// True for a memory64 memory.
        is64: bool,
    },
    /// `memory.fill`.
    MemoryFill(u32),
    /// `memory.copy`.
    MemoryCopy {
        /// Destination memory address.
        dst: u32,
        /// Source memory address.
        src: u32,
    },
    /// `memory.init`.
    MemoryInit {
        /// Destination memory address.
        mem: u32,
        /// Store data-segment address.
        data: u32,
    },
    /// `data.drop`.
    DataDrop(u32),

    /// Adds a memory64 offset of 2^32 or more to the address `depth` slots
    /// below the top (trapping on overflow), for the access that follows.
    AddOffset {
        /// 1 for loads, 2 when a value sits above the address.
        depth: u8,
        /// Low half of the offset.
        lo: u32,
        /// High half of the offset.
        hi: u32,
    },
    /// `i32.load`
    I32Load(MemArg),
    /// `i64.load`
    I64Load(MemArg),
    /// `f32.load` (same bits as `i32.load`).
    F32Load(MemArg),
    /// `f64.load`
    F64Load(MemArg),
    /// `i32.load8_s`
    I32Load8S(MemArg),
    /// `i32.load8_u`
    I32Load8U(MemArg),
    /// `i32.load16_s`
    I32Load16S(MemArg),
    /// `i32.load16_u`
    I32Load16U(MemArg),
    /// `i64.load8_s`
    I64Load8S(MemArg),
    /// `i64.load8_u`
    I64Load8U(MemArg),
    /// `i64.load16_s`
    I64Load16S(MemArg),
    /// `i64.load16_u`
    I64Load16U(MemArg),
    /// `i64.load32_s`
    I64Load32S(MemArg),
    /// `i64.load32_u`
    I64Load32U(MemArg),
    /// Stores the low 8 bits (`i32.store8`, `i64.store8`).
    Store8(MemArg),
    /// Stores the low 16 bits.
    Store16(MemArg),
    /// Stores the low 32 bits (`i32.store`, `f32.store`, `i64.store32`).
    Store32(MemArg),
    /// Stores 64 bits (`i64.store`, `f64.store`).
    Store64(MemArg),

    // ---- SIMD memory ----
    /// `v128.load`
    V128Load(MemArg),
    /// `v128.store`
    V128Store(MemArg),
    /// `v128.load8x8_s`
    V128Load8x8S(MemArg),
    /// `v128.load8x8_u`
    V128Load8x8U(MemArg),
    /// `v128.load16x4_s`
    V128Load16x4S(MemArg),
    /// `v128.load16x4_u`
    V128Load16x4U(MemArg),
    /// `v128.load32x2_s`
    V128Load32x2S(MemArg),
    /// `v128.load32x2_u`
    V128Load32x2U(MemArg),
    /// `v128.load8_splat`
    V128Load8Splat(MemArg),
    /// `v128.load16_splat`
    V128Load16Splat(MemArg),
    /// `v128.load32_splat`
    V128Load32Splat(MemArg),
    /// `v128.load64_splat`
    V128Load64Splat(MemArg),
    /// `v128.load32_zero`
    V128Load32Zero(MemArg),
    /// `v128.load64_zero`
    V128Load64Zero(MemArg),
    /// `v128.loadN_lane`: `bytes` is N/8.
    V128LoadLane {
        /// Memory immediate.
        arg: MemArg,
        /// Lane width in bytes (1, 2, 4 or 8).
        bytes: u8,
        /// Lane index.
        lane: u8,
    },
    /// `v128.storeN_lane`.
    V128StoreLane {
        /// Memory immediate.
        arg: MemArg,
        /// Lane width in bytes (1, 2, 4 or 8).
        bytes: u8,
        /// Lane index.
        lane: u8,
    },
    /// A non-memory SIMD instruction from the store's SIMD pool.
    Simd(u32),

    // ---- i32 ----
    /// `i32.eqz`
    I32Eqz,
    /// `i32.eq`
    I32Eq,
    /// `i32.ne`
    I32Ne,
    /// `i32.lt_s`
    I32LtS,
    /// `i32.lt_u`
    I32LtU,
    /// `i32.gt_s`
    I32GtS,
    /// `i32.gt_u`
    I32GtU,
    /// `i32.le_s`
    I32LeS,
    /// `i32.le_u`
    I32LeU,
    /// `i32.ge_s`
    I32GeS,
    /// `i32.ge_u`
    I32GeU,
    /// `i32.clz`
    I32Clz,
    /// `i32.ctz`
    I32Ctz,
    /// `i32.popcnt`
    I32Popcnt,
    /// `i32.add`
    I32Add,
    /// `i32.sub`
    I32Sub,
    /// `i32.mul`
    I32Mul,
    /// `i32.div_s`
    I32DivS,
    /// `i32.div_u`
    I32DivU,
    /// `i32.rem_s`
    I32RemS,
    /// `i32.rem_u`
    I32RemU,
    /// `i32.and`
    I32And,
    /// `i32.or`
    I32Or,
    /// `i32.xor`
    I32Xor,
    /// `i32.shl`
    I32Shl,
    /// `i32.shr_s`
    I32ShrS,
    /// `i32.shr_u`
    I32ShrU,
    /// `i32.rotl`
    I32Rotl,
    /// `i32.rotr`
    I32Rotr,
    /// `i32.extend8_s`
    I32Extend8S,
    /// `i32.extend16_s`
    I32Extend16S,

    // ---- i64 ----
    /// `i64.eqz`
    I64Eqz,
    /// `i64.eq`
    I64Eq,
    /// `i64.ne`
    I64Ne,
    /// `i64.lt_s`
    I64LtS,
    /// `i64.lt_u`
    I64LtU,
    /// `i64.gt_s`
    I64GtS,
    /// `i64.gt_u`
    I64GtU,
    /// `i64.le_s`
    I64LeS,
    /// `i64.le_u`
    I64LeU,
    /// `i64.ge_s`
    I64GeS,
    /// `i64.ge_u`
    I64GeU,
    /// `i64.clz`
    I64Clz,
    /// `i64.ctz`
    I64Ctz,
    /// `i64.popcnt`
    I64Popcnt,
    /// `i64.add`
    I64Add,
    /// `i64.sub`
    I64Sub,
    /// `i64.mul`
    I64Mul,
    /// `i64.div_s`
    I64DivS,
    /// `i64.div_u`
    I64DivU,
    /// `i64.rem_s`
    I64RemS,
    /// `i64.rem_u`
    I64RemU,
    /// `i64.and`
    I64And,
    /// `i64.or`
    I64Or,
    /// `i64.xor`
    I64Xor,
    /// `i64.shl`
    I64Shl,
    /// `i64.shr_s`
    I64ShrS,
    /// `i64.shr_u`
    I64ShrU,
    /// `i64.rotl`
    I64Rotl,
    /// `i64.rotr`
    I64Rotr,
    /// `i64.extend8_s`
    I64Extend8S,
    /// `i64.extend16_s`
    I64Extend16S,
    /// `i64.extend32_s`
    I64Extend32S,

    // ---- f32 ----
    /// `f32.eq`
    F32Eq,
    /// `f32.ne`
    F32Ne,
    /// `f32.lt`
    F32Lt,
    /// `f32.gt`
    F32Gt,
    /// `f32.le`
    F32Le,
    /// `f32.ge`
    F32Ge,
    /// `f32.abs`
    F32Abs,
    /// `f32.neg`
    F32Neg,
    /// `f32.ceil`
    F32Ceil,
    /// `f32.floor`
    F32Floor,
    /// `f32.trunc`
    F32Trunc,
    /// `f32.nearest`
    F32Nearest,
    /// `f32.sqrt`
    F32Sqrt,
    /// `f32.add`
    F32Add,
    /// `f32.sub`
    F32Sub,
    /// `f32.mul`
    F32Mul,
    /// `f32.div`
    F32Div,
    /// `f32.min`
    F32Min,
    /// `f32.max`
    F32Max,
    /// `f32.copysign`
    F32Copysign,

    // ---- f64 ----
    /// `f64.eq`
    F64Eq,
    /// `f64.ne`
    F64Ne,
    /// `f64.lt`
    F64Lt,
    /// `f64.gt`
    F64Gt,
    /// `f64.le`
    F64Le,
    /// `f64.ge`
    F64Ge,
    /// `f64.abs`
    F64Abs,
    /// `f64.neg`
    F64Neg,
    /// `f64.ceil`
    F64Ceil,
    /// `f64.floor`
    F64Floor,
    /// `f64.trunc`
    F64Trunc,
    /// `f64.nearest`
    F64Nearest,
    /// `f64.sqrt`
    F64Sqrt,
    /// `f64.add`
    F64Add,
    /// `f64.sub`
    F64Sub,
    /// `f64.mul`
    F64Mul,
    /// `f64.div`
    F64Div,
    /// `f64.min`
    F64Min,
    /// `f64.max`
    F64Max,
    /// `f64.copysign`
    F64Copysign,

    // ---- conversions ----
    /// `i32.wrap_i64`
    I32WrapI64,
    /// `i32.trunc_f32_s`
    I32TruncF32S,
    /// `i32.trunc_f32_u`
    I32TruncF32U,
    /// `i32.trunc_f64_s`
    I32TruncF64S,
    /// `i32.trunc_f64_u`
    I32TruncF64U,
    /// `i64.extend_i32_s`
    I64ExtendI32S,
    /// `i64.trunc_f32_s`
    I64TruncF32S,
    /// `i64.trunc_f32_u`
    I64TruncF32U,
    /// `i64.trunc_f64_s`
    I64TruncF64S,
    /// `i64.trunc_f64_u`
    I64TruncF64U,
    /// `f32.convert_i32_s`
    F32ConvertI32S,
    /// `f32.convert_i32_u`
    F32ConvertI32U,
    /// `f32.convert_i64_s`
    F32ConvertI64S,
    /// `f32.convert_i64_u`
    F32ConvertI64U,
    /// `f32.demote_f64`
    F32DemoteF64,
    /// `f64.convert_i32_s`
    F64ConvertI32S,
    /// `f64.convert_i32_u`
    F64ConvertI32U,
    /// `f64.convert_i64_s`
    F64ConvertI64S,
    /// `f64.convert_i64_u`
    F64ConvertI64U,
    /// `f64.promote_f32`
    F64PromoteF32,
    /// `i32.trunc_sat_f32_s`
    I32TruncSatF32S,
    /// `i32.trunc_sat_f32_u`
    I32TruncSatF32U,
    /// `i32.trunc_sat_f64_s`
    I32TruncSatF64S,
    /// `i32.trunc_sat_f64_u`
    I32TruncSatF64U,
    /// `i64.trunc_sat_f32_s`
    I64TruncSatF32S,
    /// `i64.trunc_sat_f32_u`
    I64TruncSatF32U,
    /// `i64.trunc_sat_f64_s`
    I64TruncSatF64S,
    /// `i64.trunc_sat_f64_u`
    I64TruncSatF64U,
}

/// Encodes a value into a slot (see the module doc for the invariants).
pub(crate) fn value_to_slot(v: Value) -> Slot {
    match v {
        Value::I32(x) => x as u32 as Slot,
        Value::I64(x) => x as u64 as Slot,
        Value::F32(b) => b as Slot,
        Value::F64(b) => b as Slot,
        Value::V128(x) => x,
        Value::FuncRef(Some(a)) => ref_slot(a) as Slot,
        Value::ExternRef(Some(x)) => ref_slot(x) as Slot,
        Value::FuncRef(None) | Value::ExternRef(None) => NULL_REF as Slot,
    }
}

/// Decodes a slot holding a value of type `ty`.
pub(crate) fn slot_to_value(s: Slot, ty: ValType) -> Value {
    match ty {
        ValType::I32 => Value::I32(s as u32 as i32),
        ValType::I64 => Value::I64(s as u64 as i64),
        ValType::F32 => Value::F32(s as u32),
        ValType::F64 => Value::F64(s as u64),
        ValType::V128 => Value::V128(s),
        ValType::FuncRef => Value::FuncRef(ref_payload(s as u64)),
        ValType::ExternRef => Value::ExternRef(ref_payload(s as u64)),
    }
}

/// The payload of a reference stored as `r` (`None` for null).
pub(crate) fn ref_payload(r: u64) -> Option<u32> {
    if r == NULL_REF {
        None
    } else {
        Some((r - 1) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_stays_small() {
        assert!(
            std::mem::size_of::<Op>() <= 16,
            "{}",
            std::mem::size_of::<Op>()
        );
    }

    #[test]
    fn slots_round_trip() {
        let vals = [
            Value::I32(-1),
            Value::I64(i64::MIN),
            Value::F32(0x7fa0_0001),
            Value::F64(0xfff0_0000_0000_0001),
            Value::V128(u128::MAX - 5),
            Value::FuncRef(None),
            Value::FuncRef(Some(7)),
            Value::ExternRef(Some(u32::MAX)),
            Value::ExternRef(None),
        ];
        for v in vals {
            assert_eq!(slot_to_value(value_to_slot(v), v.ty()), v);
        }
        assert_eq!(value_to_slot(Value::I32(-1)), 0xffff_ffff);
        // Zeroed slots are the default of every type, references included.
        for ty in [
            ValType::I32,
            ValType::F64,
            ValType::V128,
            ValType::FuncRef,
            ValType::ExternRef,
        ] {
            assert_eq!(slot_to_value(0, ty), Value::default_for(ty));
        }
    }
}
