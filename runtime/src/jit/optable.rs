//! The single source of truth for how simple wasm operators map to CLIF.
//!
//! A *simple* operator is one that becomes exactly one CLIF instruction of
//! format `Unary`, `Binary`, `IntCompare`, `FloatCompare` or `LoadNoOffset`
//! (`bitcast`) whose operands are the wasm operands in order. Scalar
//! comparisons and `vany_true`/`vall_true` are followed by a `uextend` of
//! their `i8` result to `i32` (the translator adds it; it is implied by the
//! wasm result type).
//! Everything else (control flow, memory, `eqz`, sign extension, lane ops,
//! composite SIMD lowerings) is translated by hand in `jit::translate`.
//!
//! The translator uses [`lookup`] for every simple operator, and the ISLE
//! harvester uses [`op_table`] to map CLIF patterns back to wasm.

use cranelift_codegen::ir::Opcode;
use cranelift_codegen::ir::types::{self, Type};
use wasmparser::Operator;

/// One simple operator's translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpMapping {
    /// Text-format mnemonic, e.g. `"i32.add"`.
    pub wasm: &'static str,
    /// The CLIF opcode emitted.
    pub clif: Opcode,
    /// The CLIF controlling type variable of the instruction (the operand
    /// type for most opcodes; the result type for conversions such as
    /// `fcvt_to_sint`, `ireduce`, `uextend` and `bitcast`).
    pub ty: Type,
    /// The CLIF type of the operands (all operands have it, except that the
    /// shift/rotate amount of a vector shift is an `i32`).
    pub arg: Type,
    /// Condition code of an `icmp`/`fcmp` (CLIF text spelling, e.g. `"slt"`).
    pub cond: Option<&'static str>,
}

macro_rules! simple_ops {
    ($( $variant:ident => $name:literal, $opc:ident, $ty:ident, $arg:ident, $cond:expr; )*) => {
        static TABLE: &[OpMapping] = &[
            $( OpMapping {
                wasm: $name,
                clif: Opcode::$opc,
                ty: types::$ty,
                arg: types::$arg,
                cond: $cond,
            }, )*
        ];

        /// The mapping of `op` if it is a simple operator.
        pub fn lookup(op: &Operator<'_>) -> Option<&'static OpMapping> {
            let name = match op {
                $( Operator::$variant => $name, )*
                _ => return None,
            };
            by_name(name)
        }
    };
}

/// Every simple operator's mapping.
pub fn op_table() -> &'static [OpMapping] {
    TABLE
}

/// The mapping of a simple operator by mnemonic.
pub fn by_name(name: &str) -> Option<&'static OpMapping> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| TABLE.iter().enumerate().map(|(i, m)| (m.wasm, i)).collect());
    index.get(name).map(|&i| &TABLE[i])
}

simple_ops! {
    // i32 comparisons.
    I32Eq => "i32.eq", Icmp, I32, I32, Some("eq");
    I32Ne => "i32.ne", Icmp, I32, I32, Some("ne");
    I32LtS => "i32.lt_s", Icmp, I32, I32, Some("slt");
    I32LtU => "i32.lt_u", Icmp, I32, I32, Some("ult");
    I32GtS => "i32.gt_s", Icmp, I32, I32, Some("sgt");
    I32GtU => "i32.gt_u", Icmp, I32, I32, Some("ugt");
    I32LeS => "i32.le_s", Icmp, I32, I32, Some("sle");
    I32LeU => "i32.le_u", Icmp, I32, I32, Some("ule");
    I32GeS => "i32.ge_s", Icmp, I32, I32, Some("sge");
    I32GeU => "i32.ge_u", Icmp, I32, I32, Some("uge");
    // i64 comparisons.
    I64Eq => "i64.eq", Icmp, I64, I64, Some("eq");
    I64Ne => "i64.ne", Icmp, I64, I64, Some("ne");
    I64LtS => "i64.lt_s", Icmp, I64, I64, Some("slt");
    I64LtU => "i64.lt_u", Icmp, I64, I64, Some("ult");
    I64GtS => "i64.gt_s", Icmp, I64, I64, Some("sgt");
    I64GtU => "i64.gt_u", Icmp, I64, I64, Some("ugt");
    I64LeS => "i64.le_s", Icmp, I64, I64, Some("sle");
    I64LeU => "i64.le_u", Icmp, I64, I64, Some("ule");
    I64GeS => "i64.ge_s", Icmp, I64, I64, Some("sge");
    I64GeU => "i64.ge_u", Icmp, I64, I64, Some("uge");
    // Float comparisons (`ne` is unordered-or-not-equal, as wasm requires).
    F32Eq => "f32.eq", Fcmp, F32, F32, Some("eq");
    F32Ne => "f32.ne", Fcmp, F32, F32, Some("ne");
    F32Lt => "f32.lt", Fcmp, F32, F32, Some("lt");
    F32Gt => "f32.gt", Fcmp, F32, F32, Some("gt");
    F32Le => "f32.le", Fcmp, F32, F32, Some("le");
    F32Ge => "f32.ge", Fcmp, F32, F32, Some("ge");
    F64Eq => "f64.eq", Fcmp, F64, F64, Some("eq");
    F64Ne => "f64.ne", Fcmp, F64, F64, Some("ne");
    F64Lt => "f64.lt", Fcmp, F64, F64, Some("lt");
    F64Gt => "f64.gt", Fcmp, F64, F64, Some("gt");
    F64Le => "f64.le", Fcmp, F64, F64, Some("le");
    F64Ge => "f64.ge", Fcmp, F64, F64, Some("ge");
    // i32 arithmetic.
    I32Clz => "i32.clz", Clz, I32, I32, None;
    I32Ctz => "i32.ctz", Ctz, I32, I32, None;
    I32Popcnt => "i32.popcnt", Popcnt, I32, I32, None;
    I32Add => "i32.add", Iadd, I32, I32, None;
    I32Sub => "i32.sub", Isub, I32, I32, None;
    I32Mul => "i32.mul", Imul, I32, I32, None;
    I32DivS => "i32.div_s", Sdiv, I32, I32, None;
    I32DivU => "i32.div_u", Udiv, I32, I32, None;
    I32RemS => "i32.rem_s", Srem, I32, I32, None;
    I32RemU => "i32.rem_u", Urem, I32, I32, None;
    I32And => "i32.and", Band, I32, I32, None;
    I32Or => "i32.or", Bor, I32, I32, None;
    I32Xor => "i32.xor", Bxor, I32, I32, None;
    I32Shl => "i32.shl", Ishl, I32, I32, None;
    I32ShrS => "i32.shr_s", Sshr, I32, I32, None;
    I32ShrU => "i32.shr_u", Ushr, I32, I32, None;
    I32Rotl => "i32.rotl", Rotl, I32, I32, None;
    I32Rotr => "i32.rotr", Rotr, I32, I32, None;
    // i64 arithmetic.
    I64Clz => "i64.clz", Clz, I64, I64, None;
    I64Ctz => "i64.ctz", Ctz, I64, I64, None;
    I64Popcnt => "i64.popcnt", Popcnt, I64, I64, None;
    I64Add => "i64.add", Iadd, I64, I64, None;
    I64Sub => "i64.sub", Isub, I64, I64, None;
    I64Mul => "i64.mul", Imul, I64, I64, None;
    I64DivS => "i64.div_s", Sdiv, I64, I64, None;
    I64DivU => "i64.div_u", Udiv, I64, I64, None;
    I64RemS => "i64.rem_s", Srem, I64, I64, None;
    I64RemU => "i64.rem_u", Urem, I64, I64, None;
    I64And => "i64.and", Band, I64, I64, None;
    I64Or => "i64.or", Bor, I64, I64, None;
    I64Xor => "i64.xor", Bxor, I64, I64, None;
    I64Shl => "i64.shl", Ishl, I64, I64, None;
    I64ShrS => "i64.shr_s", Sshr, I64, I64, None;
    I64ShrU => "i64.shr_u", Ushr, I64, I64, None;
    I64Rotl => "i64.rotl", Rotl, I64, I64, None;
    I64Rotr => "i64.rotr", Rotr, I64, I64, None;
    // f32 arithmetic.
    F32Abs => "f32.abs", Fabs, F32, F32, None;
    F32Neg => "f32.neg", Fneg, F32, F32, None;
    F32Ceil => "f32.ceil", Ceil, F32, F32, None;
    F32Floor => "f32.floor", Floor, F32, F32, None;
    F32Trunc => "f32.trunc", Trunc, F32, F32, None;
    F32Nearest => "f32.nearest", Nearest, F32, F32, None;
    F32Sqrt => "f32.sqrt", Sqrt, F32, F32, None;
    F32Add => "f32.add", Fadd, F32, F32, None;
    F32Sub => "f32.sub", Fsub, F32, F32, None;
    F32Mul => "f32.mul", Fmul, F32, F32, None;
    F32Div => "f32.div", Fdiv, F32, F32, None;
    F32Min => "f32.min", Fmin, F32, F32, None;
    F32Max => "f32.max", Fmax, F32, F32, None;
    F32Copysign => "f32.copysign", Fcopysign, F32, F32, None;
    // f64 arithmetic.
    F64Abs => "f64.abs", Fabs, F64, F64, None;
    F64Neg => "f64.neg", Fneg, F64, F64, None;
    F64Ceil => "f64.ceil", Ceil, F64, F64, None;
    F64Floor => "f64.floor", Floor, F64, F64, None;
    F64Trunc => "f64.trunc", Trunc, F64, F64, None;
    F64Nearest => "f64.nearest", Nearest, F64, F64, None;
    F64Sqrt => "f64.sqrt", Sqrt, F64, F64, None;
    F64Add => "f64.add", Fadd, F64, F64, None;
    F64Sub => "f64.sub", Fsub, F64, F64, None;
    F64Mul => "f64.mul", Fmul, F64, F64, None;
    F64Div => "f64.div", Fdiv, F64, F64, None;
    F64Min => "f64.min", Fmin, F64, F64, None;
    F64Max => "f64.max", Fmax, F64, F64, None;
    F64Copysign => "f64.copysign", Fcopysign, F64, F64, None;
    // Conversions.
    I32WrapI64 => "i32.wrap_i64", Ireduce, I32, I64, None;
    I32TruncF32S => "i32.trunc_f32_s", FcvtToSint, I32, F32, None;
    I32TruncF32U => "i32.trunc_f32_u", FcvtToUint, I32, F32, None;
    I32TruncF64S => "i32.trunc_f64_s", FcvtToSint, I32, F64, None;
    I32TruncF64U => "i32.trunc_f64_u", FcvtToUint, I32, F64, None;
    I64ExtendI32S => "i64.extend_i32_s", Sextend, I64, I32, None;
    I64ExtendI32U => "i64.extend_i32_u", Uextend, I64, I32, None;
    I64TruncF32S => "i64.trunc_f32_s", FcvtToSint, I64, F32, None;
    I64TruncF32U => "i64.trunc_f32_u", FcvtToUint, I64, F32, None;
    I64TruncF64S => "i64.trunc_f64_s", FcvtToSint, I64, F64, None;
    I64TruncF64U => "i64.trunc_f64_u", FcvtToUint, I64, F64, None;
    F32ConvertI32S => "f32.convert_i32_s", FcvtFromSint, F32, I32, None;
    F32ConvertI32U => "f32.convert_i32_u", FcvtFromUint, F32, I32, None;
    F32ConvertI64S => "f32.convert_i64_s", FcvtFromSint, F32, I64, None;
    F32ConvertI64U => "f32.convert_i64_u", FcvtFromUint, F32, I64, None;
    F32DemoteF64 => "f32.demote_f64", Fdemote, F32, F64, None;
    F64ConvertI32S => "f64.convert_i32_s", FcvtFromSint, F64, I32, None;
    F64ConvertI32U => "f64.convert_i32_u", FcvtFromUint, F64, I32, None;
    F64ConvertI64S => "f64.convert_i64_s", FcvtFromSint, F64, I64, None;
    F64ConvertI64U => "f64.convert_i64_u", FcvtFromUint, F64, I64, None;
    F64PromoteF32 => "f64.promote_f32", Fpromote, F64, F32, None;
    I32ReinterpretF32 => "i32.reinterpret_f32", Bitcast, I32, F32, None;
    I64ReinterpretF64 => "i64.reinterpret_f64", Bitcast, I64, F64, None;
    F32ReinterpretI32 => "f32.reinterpret_i32", Bitcast, F32, I32, None;
    F64ReinterpretI64 => "f64.reinterpret_i64", Bitcast, F64, I64, None;
    I32TruncSatF32S => "i32.trunc_sat_f32_s", FcvtToSintSat, I32, F32, None;
    I32TruncSatF32U => "i32.trunc_sat_f32_u", FcvtToUintSat, I32, F32, None;
    I32TruncSatF64S => "i32.trunc_sat_f64_s", FcvtToSintSat, I32, F64, None;
    I32TruncSatF64U => "i32.trunc_sat_f64_u", FcvtToUintSat, I32, F64, None;
    I64TruncSatF32S => "i64.trunc_sat_f32_s", FcvtToSintSat, I64, F32, None;
    I64TruncSatF32U => "i64.trunc_sat_f32_u", FcvtToUintSat, I64, F32, None;
    I64TruncSatF64S => "i64.trunc_sat_f64_s", FcvtToSintSat, I64, F64, None;
    I64TruncSatF64U => "i64.trunc_sat_f64_u", FcvtToUintSat, I64, F64, None;

    // SIMD: bitwise.
    V128Not => "v128.not", Bnot, I8X16, I8X16, None;
    V128And => "v128.and", Band, I8X16, I8X16, None;
    V128Or => "v128.or", Bor, I8X16, I8X16, None;
    V128Xor => "v128.xor", Bxor, I8X16, I8X16, None;
    V128AnyTrue => "v128.any_true", VanyTrue, I8X16, I8X16, None;
    // SIMD: i8x16.
    I8x16Eq => "i8x16.eq", Icmp, I8X16, I8X16, Some("eq");
    I8x16Ne => "i8x16.ne", Icmp, I8X16, I8X16, Some("ne");
    I8x16LtS => "i8x16.lt_s", Icmp, I8X16, I8X16, Some("slt");
    I8x16LtU => "i8x16.lt_u", Icmp, I8X16, I8X16, Some("ult");
    I8x16GtS => "i8x16.gt_s", Icmp, I8X16, I8X16, Some("sgt");
    I8x16GtU => "i8x16.gt_u", Icmp, I8X16, I8X16, Some("ugt");
    I8x16LeS => "i8x16.le_s", Icmp, I8X16, I8X16, Some("sle");
    I8x16LeU => "i8x16.le_u", Icmp, I8X16, I8X16, Some("ule");
    I8x16GeS => "i8x16.ge_s", Icmp, I8X16, I8X16, Some("sge");
    I8x16GeU => "i8x16.ge_u", Icmp, I8X16, I8X16, Some("uge");
    I8x16Abs => "i8x16.abs", Iabs, I8X16, I8X16, None;
    I8x16Neg => "i8x16.neg", Ineg, I8X16, I8X16, None;
    I8x16Popcnt => "i8x16.popcnt", Popcnt, I8X16, I8X16, None;
    I8x16AllTrue => "i8x16.all_true", VallTrue, I8X16, I8X16, None;
    I8x16NarrowI16x8S => "i8x16.narrow_i16x8_s", Snarrow, I16X8, I16X8, None;
    I8x16NarrowI16x8U => "i8x16.narrow_i16x8_u", Unarrow, I16X8, I16X8, None;
    I8x16Shl => "i8x16.shl", Ishl, I8X16, I8X16, None;
    I8x16ShrS => "i8x16.shr_s", Sshr, I8X16, I8X16, None;
    I8x16ShrU => "i8x16.shr_u", Ushr, I8X16, I8X16, None;
    I8x16Add => "i8x16.add", Iadd, I8X16, I8X16, None;
    I8x16AddSatS => "i8x16.add_sat_s", SaddSat, I8X16, I8X16, None;
    I8x16AddSatU => "i8x16.add_sat_u", UaddSat, I8X16, I8X16, None;
    I8x16Sub => "i8x16.sub", Isub, I8X16, I8X16, None;
    I8x16SubSatS => "i8x16.sub_sat_s", SsubSat, I8X16, I8X16, None;
    I8x16SubSatU => "i8x16.sub_sat_u", UsubSat, I8X16, I8X16, None;
    I8x16MinS => "i8x16.min_s", Smin, I8X16, I8X16, None;
    I8x16MinU => "i8x16.min_u", Umin, I8X16, I8X16, None;
    I8x16MaxS => "i8x16.max_s", Smax, I8X16, I8X16, None;
    I8x16MaxU => "i8x16.max_u", Umax, I8X16, I8X16, None;
    I8x16AvgrU => "i8x16.avgr_u", AvgRound, I8X16, I8X16, None;
    I8x16Swizzle => "i8x16.swizzle", Swizzle, I8X16, I8X16, None;
    // SIMD: i16x8.
    I16x8Eq => "i16x8.eq", Icmp, I16X8, I16X8, Some("eq");
    I16x8Ne => "i16x8.ne", Icmp, I16X8, I16X8, Some("ne");
    I16x8LtS => "i16x8.lt_s", Icmp, I16X8, I16X8, Some("slt");
    I16x8LtU => "i16x8.lt_u", Icmp, I16X8, I16X8, Some("ult");
    I16x8GtS => "i16x8.gt_s", Icmp, I16X8, I16X8, Some("sgt");
    I16x8GtU => "i16x8.gt_u", Icmp, I16X8, I16X8, Some("ugt");
    I16x8LeS => "i16x8.le_s", Icmp, I16X8, I16X8, Some("sle");
    I16x8LeU => "i16x8.le_u", Icmp, I16X8, I16X8, Some("ule");
    I16x8GeS => "i16x8.ge_s", Icmp, I16X8, I16X8, Some("sge");
    I16x8GeU => "i16x8.ge_u", Icmp, I16X8, I16X8, Some("uge");
    I16x8Abs => "i16x8.abs", Iabs, I16X8, I16X8, None;
    I16x8Neg => "i16x8.neg", Ineg, I16X8, I16X8, None;
    I16x8Q15MulrSatS => "i16x8.q15mulr_sat_s", SqmulRoundSat, I16X8, I16X8, None;
    I16x8AllTrue => "i16x8.all_true", VallTrue, I16X8, I16X8, None;
    I16x8NarrowI32x4S => "i16x8.narrow_i32x4_s", Snarrow, I32X4, I32X4, None;
    I16x8NarrowI32x4U => "i16x8.narrow_i32x4_u", Unarrow, I32X4, I32X4, None;
    I16x8ExtendLowI8x16S => "i16x8.extend_low_i8x16_s", SwidenLow, I8X16, I8X16, None;
    I16x8ExtendHighI8x16S => "i16x8.extend_high_i8x16_s", SwidenHigh, I8X16, I8X16, None;
    I16x8ExtendLowI8x16U => "i16x8.extend_low_i8x16_u", UwidenLow, I8X16, I8X16, None;
    I16x8ExtendHighI8x16U => "i16x8.extend_high_i8x16_u", UwidenHigh, I8X16, I8X16, None;
    I16x8Shl => "i16x8.shl", Ishl, I16X8, I16X8, None;
    I16x8ShrS => "i16x8.shr_s", Sshr, I16X8, I16X8, None;
    I16x8ShrU => "i16x8.shr_u", Ushr, I16X8, I16X8, None;
    I16x8Add => "i16x8.add", Iadd, I16X8, I16X8, None;
    I16x8AddSatS => "i16x8.add_sat_s", SaddSat, I16X8, I16X8, None;
    I16x8AddSatU => "i16x8.add_sat_u", UaddSat, I16X8, I16X8, None;
    I16x8Sub => "i16x8.sub", Isub, I16X8, I16X8, None;
    I16x8SubSatS => "i16x8.sub_sat_s", SsubSat, I16X8, I16X8, None;
    I16x8SubSatU => "i16x8.sub_sat_u", UsubSat, I16X8, I16X8, None;
    I16x8Mul => "i16x8.mul", Imul, I16X8, I16X8, None;
    I16x8MinS => "i16x8.min_s", Smin, I16X8, I16X8, None;
    I16x8MinU => "i16x8.min_u", Umin, I16X8, I16X8, None;
    I16x8MaxS => "i16x8.max_s", Smax, I16X8, I16X8, None;
    I16x8MaxU => "i16x8.max_u", Umax, I16X8, I16X8, None;
    I16x8AvgrU => "i16x8.avgr_u", AvgRound, I16X8, I16X8, None;
    // SIMD: i32x4.
    I32x4Eq => "i32x4.eq", Icmp, I32X4, I32X4, Some("eq");
    I32x4Ne => "i32x4.ne", Icmp, I32X4, I32X4, Some("ne");
    I32x4LtS => "i32x4.lt_s", Icmp, I32X4, I32X4, Some("slt");
    I32x4LtU => "i32x4.lt_u", Icmp, I32X4, I32X4, Some("ult");
    I32x4GtS => "i32x4.gt_s", Icmp, I32X4, I32X4, Some("sgt");
    I32x4GtU => "i32x4.gt_u", Icmp, I32X4, I32X4, Some("ugt");
    I32x4LeS => "i32x4.le_s", Icmp, I32X4, I32X4, Some("sle");
    I32x4LeU => "i32x4.le_u", Icmp, I32X4, I32X4, Some("ule");
    I32x4GeS => "i32x4.ge_s", Icmp, I32X4, I32X4, Some("sge");
    I32x4GeU => "i32x4.ge_u", Icmp, I32X4, I32X4, Some("uge");
    I32x4Abs => "i32x4.abs", Iabs, I32X4, I32X4, None;
    I32x4Neg => "i32x4.neg", Ineg, I32X4, I32X4, None;
    I32x4AllTrue => "i32x4.all_true", VallTrue, I32X4, I32X4, None;
    I32x4ExtendLowI16x8S => "i32x4.extend_low_i16x8_s", SwidenLow, I16X8, I16X8, None;
    I32x4ExtendHighI16x8S => "i32x4.extend_high_i16x8_s", SwidenHigh, I16X8, I16X8, None;
    I32x4ExtendLowI16x8U => "i32x4.extend_low_i16x8_u", UwidenLow, I16X8, I16X8, None;
    I32x4ExtendHighI16x8U => "i32x4.extend_high_i16x8_u", UwidenHigh, I16X8, I16X8, None;
    I32x4Shl => "i32x4.shl", Ishl, I32X4, I32X4, None;
    I32x4ShrS => "i32x4.shr_s", Sshr, I32X4, I32X4, None;
    I32x4ShrU => "i32x4.shr_u", Ushr, I32X4, I32X4, None;
    I32x4Add => "i32x4.add", Iadd, I32X4, I32X4, None;
    I32x4Sub => "i32x4.sub", Isub, I32X4, I32X4, None;
    I32x4Mul => "i32x4.mul", Imul, I32X4, I32X4, None;
    I32x4MinS => "i32x4.min_s", Smin, I32X4, I32X4, None;
    I32x4MinU => "i32x4.min_u", Umin, I32X4, I32X4, None;
    I32x4MaxS => "i32x4.max_s", Smax, I32X4, I32X4, None;
    I32x4MaxU => "i32x4.max_u", Umax, I32X4, I32X4, None;
    // SIMD: i64x2.
    I64x2Eq => "i64x2.eq", Icmp, I64X2, I64X2, Some("eq");
    I64x2Ne => "i64x2.ne", Icmp, I64X2, I64X2, Some("ne");
    I64x2LtS => "i64x2.lt_s", Icmp, I64X2, I64X2, Some("slt");
    I64x2GtS => "i64x2.gt_s", Icmp, I64X2, I64X2, Some("sgt");
    I64x2LeS => "i64x2.le_s", Icmp, I64X2, I64X2, Some("sle");
    I64x2GeS => "i64x2.ge_s", Icmp, I64X2, I64X2, Some("sge");
    I64x2Abs => "i64x2.abs", Iabs, I64X2, I64X2, None;
    I64x2Neg => "i64x2.neg", Ineg, I64X2, I64X2, None;
    I64x2AllTrue => "i64x2.all_true", VallTrue, I64X2, I64X2, None;
    I64x2ExtendLowI32x4S => "i64x2.extend_low_i32x4_s", SwidenLow, I32X4, I32X4, None;
    I64x2ExtendHighI32x4S => "i64x2.extend_high_i32x4_s", SwidenHigh, I32X4, I32X4, None;
    I64x2ExtendLowI32x4U => "i64x2.extend_low_i32x4_u", UwidenLow, I32X4, I32X4, None;
    I64x2ExtendHighI32x4U => "i64x2.extend_high_i32x4_u", UwidenHigh, I32X4, I32X4, None;
    I64x2Shl => "i64x2.shl", Ishl, I64X2, I64X2, None;
    I64x2ShrS => "i64x2.shr_s", Sshr, I64X2, I64X2, None;
    I64x2ShrU => "i64x2.shr_u", Ushr, I64X2, I64X2, None;
    I64x2Add => "i64x2.add", Iadd, I64X2, I64X2, None;
    I64x2Sub => "i64x2.sub", Isub, I64X2, I64X2, None;
    I64x2Mul => "i64x2.mul", Imul, I64X2, I64X2, None;
    // SIMD: f32x4.
    F32x4Eq => "f32x4.eq", Fcmp, F32X4, F32X4, Some("eq");
    F32x4Ne => "f32x4.ne", Fcmp, F32X4, F32X4, Some("ne");
    F32x4Lt => "f32x4.lt", Fcmp, F32X4, F32X4, Some("lt");
    F32x4Gt => "f32x4.gt", Fcmp, F32X4, F32X4, Some("gt");
    F32x4Le => "f32x4.le", Fcmp, F32X4, F32X4, Some("le");
    F32x4Ge => "f32x4.ge", Fcmp, F32X4, F32X4, Some("ge");
    F32x4Ceil => "f32x4.ceil", Ceil, F32X4, F32X4, None;
    F32x4Floor => "f32x4.floor", Floor, F32X4, F32X4, None;
    F32x4Trunc => "f32x4.trunc", Trunc, F32X4, F32X4, None;
    F32x4Nearest => "f32x4.nearest", Nearest, F32X4, F32X4, None;
    F32x4Abs => "f32x4.abs", Fabs, F32X4, F32X4, None;
    F32x4Neg => "f32x4.neg", Fneg, F32X4, F32X4, None;
    F32x4Sqrt => "f32x4.sqrt", Sqrt, F32X4, F32X4, None;
    F32x4Add => "f32x4.add", Fadd, F32X4, F32X4, None;
    F32x4Sub => "f32x4.sub", Fsub, F32X4, F32X4, None;
    F32x4Mul => "f32x4.mul", Fmul, F32X4, F32X4, None;
    F32x4Div => "f32x4.div", Fdiv, F32X4, F32X4, None;
    F32x4Min => "f32x4.min", Fmin, F32X4, F32X4, None;
    F32x4Max => "f32x4.max", Fmax, F32X4, F32X4, None;
    F32x4DemoteF64x2Zero => "f32x4.demote_f64x2_zero", Fvdemote, F64X2, F64X2, None;
    F32x4ConvertI32x4S => "f32x4.convert_i32x4_s", FcvtFromSint, F32X4, I32X4, None;
    F32x4ConvertI32x4U => "f32x4.convert_i32x4_u", FcvtFromUint, F32X4, I32X4, None;
    I32x4TruncSatF32x4S => "i32x4.trunc_sat_f32x4_s", FcvtToSintSat, I32X4, F32X4, None;
    I32x4TruncSatF32x4U => "i32x4.trunc_sat_f32x4_u", FcvtToUintSat, I32X4, F32X4, None;
    // SIMD: f64x2.
    F64x2Eq => "f64x2.eq", Fcmp, F64X2, F64X2, Some("eq");
    F64x2Ne => "f64x2.ne", Fcmp, F64X2, F64X2, Some("ne");
    F64x2Lt => "f64x2.lt", Fcmp, F64X2, F64X2, Some("lt");
    F64x2Gt => "f64x2.gt", Fcmp, F64X2, F64X2, Some("gt");
    F64x2Le => "f64x2.le", Fcmp, F64X2, F64X2, Some("le");
    F64x2Ge => "f64x2.ge", Fcmp, F64X2, F64X2, Some("ge");
    F64x2Ceil => "f64x2.ceil", Ceil, F64X2, F64X2, None;
    F64x2Floor => "f64x2.floor", Floor, F64X2, F64X2, None;
    F64x2Trunc => "f64x2.trunc", Trunc, F64X2, F64X2, None;
    F64x2Nearest => "f64x2.nearest", Nearest, F64X2, F64X2, None;
    F64x2Abs => "f64x2.abs", Fabs, F64X2, F64X2, None;
    F64x2Neg => "f64x2.neg", Fneg, F64X2, F64X2, None;
    F64x2Sqrt => "f64x2.sqrt", Sqrt, F64X2, F64X2, None;
    F64x2Add => "f64x2.add", Fadd, F64X2, F64X2, None;
    F64x2Sub => "f64x2.sub", Fsub, F64X2, F64X2, None;
    F64x2Mul => "f64x2.mul", Fmul, F64X2, F64X2, None;
    F64x2Div => "f64x2.div", Fdiv, F64X2, F64X2, None;
    F64x2Min => "f64x2.min", Fmin, F64X2, F64X2, None;
    F64x2Max => "f64x2.max", Fmax, F64X2, F64X2, None;
    F64x2PromoteLowF32x4 => "f64x2.promote_low_f32x4", FvpromoteLow, F32X4, F32X4, None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::instructions::InstructionFormat;

    #[test]
    fn names_unique_and_formats_simple() {
        let mut seen = std::collections::HashSet::new();
        for m in op_table() {
            assert!(seen.insert(m.wasm), "duplicate {}", m.wasm);
            let fmt = m.clif.format();
            assert!(
                matches!(
                    fmt,
                    InstructionFormat::Unary
                        | InstructionFormat::Binary
                        | InstructionFormat::IntCompare
                        | InstructionFormat::FloatCompare
                        | InstructionFormat::LoadNoOffset
                ),
                "{}: {fmt:?}",
                m.wasm
            );
            assert_eq!(
                m.cond.is_some(),
                matches!(
                    fmt,
                    InstructionFormat::IntCompare | InstructionFormat::FloatCompare
                ),
                "{}",
                m.wasm
            );
        }
        assert_eq!(
            lookup(&Operator::I32Add).map(|m| m.clif),
            Some(Opcode::Iadd)
        );
        assert!(lookup(&Operator::I32Eqz).is_none());
    }
}
