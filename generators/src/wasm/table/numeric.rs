//! Scalar numeric instructions: integer and float arithmetic, comparisons,
//! bit counts, conversions, sign extension, saturating truncation, constants.

use shoal_runtime::ValType;
use wasm_encoder::Instruction;

use super::Feature::{Mvp, SaturatingFloatToInt, SignExtension};
use super::Rarity::{Common, Rare, Starved, Uncommon};
use super::{Instr, Kind, Lanes, NanFlow};

/// Pushes `Kind::Op` entries sharing feature, rarity, NaN flow and signature.
macro_rules! ops {
    (@params [$($p:ident),*]) => { &[$(ValType::$p),*] };
    ($t:ident, $f:expr, $r:expr, $n:expr, $params:tt -> $res:ident: $($name:ident)*) => {
        $(
            $t.push(Instr::new(
                stringify!($name),
                $f,
                $r,
                $n,
                Kind::Op {
                    params: ops!(@params $params),
                    result: ValType::$res,
                    enc: Instruction::$name,
                },
            ));
        )*
    };
}

const EXACT: NanFlow = NanFlow::Exact;
const A32: NanFlow = NanFlow::arith(Lanes::F32);
const A64: NanFlow = NanFlow::arith(Lanes::F64);
const P32: NanFlow = NanFlow::Propagate(Lanes::F32);
const P64: NanFlow = NanFlow::Propagate(Lanes::F64);
const C32: NanFlow = NanFlow::Consume(Lanes::F32);
const C64: NanFlow = NanFlow::Consume(Lanes::F64);

/// Adds the scalar numeric entries.
pub(super) fn entries(t: &mut Vec<Instr>) {
    integers(t);
    floats(t);
    conversions(t);
    for ty in [ValType::I32, ValType::I64, ValType::F32, ValType::F64] {
        let name = match ty {
            ValType::I32 => "I32Const",
            ValType::I64 => "I64Const",
            ValType::F32 => "F32Const",
            _ => "F64Const",
        };
        t.push(Instr::new(name, Mvp, Common, EXACT, Kind::Const(ty)));
    }
}

fn integers(t: &mut Vec<Instr>) {
    ops!(t, Mvp, Common, EXACT, [I32] -> I32: I32Eqz);
    ops!(t, Mvp, Common, EXACT, [I64] -> I32: I64Eqz);
    ops!(t, Mvp, Starved, EXACT, [I32] -> I32: I32Clz I32Ctz I32Popcnt);
    ops!(t, Mvp, Starved, EXACT, [I64] -> I64: I64Clz I64Ctz I64Popcnt);
    ops!(t, Mvp, Common, EXACT, [I32, I32] -> I32: I32Add I32Sub I32Mul I32And I32Or I32Xor);
    ops!(t, Mvp, Common, EXACT, [I64, I64] -> I64: I64Add I64Sub I64Mul I64And I64Or I64Xor);
    ops!(t, Mvp, Uncommon, EXACT, [I32, I32] -> I32: I32Shl I32ShrS I32ShrU);
    ops!(t, Mvp, Uncommon, EXACT, [I64, I64] -> I64: I64Shl I64ShrS I64ShrU);
    ops!(t, Mvp, Starved, EXACT, [I32, I32] -> I32: I32Rotl I32Rotr);
    ops!(t, Mvp, Starved, EXACT, [I64, I64] -> I64: I64Rotl I64Rotr);
    ops!(t, Mvp, Rare, EXACT, [I32, I32] -> I32: I32DivS I32DivU I32RemS I32RemU);
    ops!(t, Mvp, Rare, EXACT, [I64, I64] -> I64: I64DivS I64DivU I64RemS I64RemU);
    ops!(t, Mvp, Uncommon, EXACT, [I32, I32] -> I32:
        I32Eq I32Ne I32LtS I32LtU I32GtS I32GtU I32LeS I32LeU I32GeS I32GeU);
    ops!(t, Mvp, Uncommon, EXACT, [I64, I64] -> I32:
        I64Eq I64Ne I64LtS I64LtU I64GtS I64GtU I64LeS I64LeU I64GeS I64GeU);
    ops!(t, SignExtension, Starved, EXACT, [I32] -> I32: I32Extend8S I32Extend16S);
    ops!(t, SignExtension, Starved, EXACT, [I64] -> I64: I64Extend8S I64Extend16S I64Extend32S);
}

fn floats(t: &mut Vec<Instr>) {
    ops!(t, Mvp, Uncommon, P32, [F32] -> F32: F32Abs F32Neg);
    ops!(t, Mvp, Uncommon, P64, [F64] -> F64: F64Abs F64Neg);
    ops!(t, Mvp, Rare, A32, [F32] -> F32: F32Ceil F32Floor F32Trunc F32Nearest F32Sqrt);
    ops!(t, Mvp, Rare, A64, [F64] -> F64: F64Ceil F64Floor F64Trunc F64Nearest F64Sqrt);
    ops!(t, Mvp, Uncommon, A32, [F32, F32] -> F32: F32Add F32Sub F32Mul F32Div);
    ops!(t, Mvp, Uncommon, A64, [F64, F64] -> F64: F64Add F64Sub F64Mul F64Div);
    ops!(t, Mvp, Rare, A32, [F32, F32] -> F32: F32Min F32Max);
    ops!(t, Mvp, Rare, A64, [F64, F64] -> F64: F64Min F64Max);
    ops!(t, Mvp, Rare, NanFlow::CopySign(Lanes::F32), [F32, F32] -> F32: F32Copysign);
    ops!(t, Mvp, Rare, NanFlow::CopySign(Lanes::F64), [F64, F64] -> F64: F64Copysign);
    ops!(t, Mvp, Uncommon, C32, [F32, F32] -> I32: F32Eq F32Ne F32Lt F32Gt F32Le F32Ge);
    ops!(t, Mvp, Uncommon, C64, [F64, F64] -> I32: F64Eq F64Ne F64Lt F64Gt F64Le F64Ge);
}

fn conversions(t: &mut Vec<Instr>) {
    ops!(t, Mvp, Uncommon, EXACT, [I64] -> I32: I32WrapI64);
    ops!(t, Mvp, Uncommon, EXACT, [I32] -> I64: I64ExtendI32S I64ExtendI32U);
    ops!(t, Mvp, Starved, C32, [F32] -> I32: I32TruncF32S I32TruncF32U);
    ops!(t, Mvp, Starved, C64, [F64] -> I32: I32TruncF64S I32TruncF64U);
    ops!(t, Mvp, Starved, C32, [F32] -> I64: I64TruncF32S I64TruncF32U);
    ops!(t, Mvp, Starved, C64, [F64] -> I64: I64TruncF64S I64TruncF64U);
    ops!(t, Mvp, Starved, EXACT, [I32] -> F32: F32ConvertI32S F32ConvertI32U);
    ops!(t, Mvp, Starved, EXACT, [I64] -> F32: F32ConvertI64S F32ConvertI64U);
    ops!(t, Mvp, Starved, EXACT, [I32] -> F64: F64ConvertI32S F64ConvertI32U);
    ops!(t, Mvp, Starved, EXACT, [I64] -> F64: F64ConvertI64S F64ConvertI64U);
    let demote = NanFlow::Arith {
        from: Lanes::F64,
        to: Lanes::F32,
    };
    let promote = NanFlow::Arith {
        from: Lanes::F32,
        to: Lanes::F64,
    };
    ops!(t, Mvp, Starved, demote, [F64] -> F32: F32DemoteF64);
    ops!(t, Mvp, Starved, promote, [F32] -> F64: F64PromoteF32);
    // Reinterpretation exposes every bit: operands must be clean.
    ops!(t, Mvp, Starved, EXACT, [F32] -> I32: I32ReinterpretF32);
    ops!(t, Mvp, Starved, EXACT, [F64] -> I64: I64ReinterpretF64);
    ops!(t, Mvp, Starved, EXACT, [I32] -> F32: F32ReinterpretI32);
    ops!(t, Mvp, Starved, EXACT, [I64] -> F64: F64ReinterpretI64);
    ops!(t, SaturatingFloatToInt, Starved, C32, [F32] -> I32: I32TruncSatF32S I32TruncSatF32U);
    ops!(t, SaturatingFloatToInt, Starved, C64, [F64] -> I32: I32TruncSatF64S I32TruncSatF64U);
    ops!(t, SaturatingFloatToInt, Starved, C32, [F32] -> I64: I64TruncSatF32S I64TruncSatF32U);
    ops!(t, SaturatingFloatToInt, Starved, C64, [F64] -> I64: I64TruncSatF64S I64TruncSatF64U);
}
