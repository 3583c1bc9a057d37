//! Fixed-width SIMD instructions (every `v128` instruction of WebAssembly 2.0).

use shoal_runtime::ValType;
use wasm_encoder::Instruction;

use super::Feature::Simd;
use super::Rarity::{Common, Rare, Starved, Uncommon};
use super::{Instr, Kind, Lanes, NanFlow};

/// Pushes `Kind::Op` entries sharing rarity, NaN flow and signature.
macro_rules! ops {
    (@params [$($p:ident),*]) => { &[$(ValType::$p),*] };
    ($t:ident, $r:expr, $n:expr, $params:tt -> $res:ident: $($name:ident)*) => {
        $(
            $t.push(Instr::new(
                stringify!($name),
                Simd,
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

/// Adds the SIMD entries.
pub(super) fn entries(t: &mut Vec<Instr>) {
    memory(t);
    lanes(t);
    integer(t);
    float(t);
    t.push(Instr::new(
        "V128Const",
        Simd,
        Common,
        EXACT,
        Kind::Const(ValType::V128),
    ));
}

fn load(
    t: &mut Vec<Instr>,
    name: &'static str,
    rarity: super::Rarity,
    bytes: u32,
    enc: super::MemEnc,
) {
    let kind = Kind::Load {
        ty: ValType::V128,
        bytes,
        enc,
    };
    t.push(Instr::new(name, Simd, rarity, EXACT, kind));
}

fn memory(t: &mut Vec<Instr>) {
    load(t, "V128Load", Uncommon, 16, Instruction::V128Load);
    load(t, "V128Load8x8S", Starved, 8, Instruction::V128Load8x8S);
    load(t, "V128Load8x8U", Starved, 8, Instruction::V128Load8x8U);
    load(t, "V128Load16x4S", Starved, 8, Instruction::V128Load16x4S);
    load(t, "V128Load16x4U", Starved, 8, Instruction::V128Load16x4U);
    load(t, "V128Load32x2S", Starved, 8, Instruction::V128Load32x2S);
    load(t, "V128Load32x2U", Starved, 8, Instruction::V128Load32x2U);
    load(t, "V128Load8Splat", Starved, 1, Instruction::V128Load8Splat);
    load(
        t,
        "V128Load16Splat",
        Starved,
        2,
        Instruction::V128Load16Splat,
    );
    load(
        t,
        "V128Load32Splat",
        Starved,
        4,
        Instruction::V128Load32Splat,
    );
    load(
        t,
        "V128Load64Splat",
        Starved,
        8,
        Instruction::V128Load64Splat,
    );
    load(t, "V128Load32Zero", Starved, 4, Instruction::V128Load32Zero);
    load(t, "V128Load64Zero", Starved, 8, Instruction::V128Load64Zero);
    let store = Kind::Store {
        ty: ValType::V128,
        bytes: 16,
        enc: Instruction::V128Store,
    };
    t.push(Instr::new("V128Store", Simd, Uncommon, EXACT, store));
    let lane_ops: [(
        &'static str,
        &'static str,
        u32,
        super::MemLaneEnc,
        super::MemLaneEnc,
    ); 4] = [
        (
            "V128Load8Lane",
            "V128Store8Lane",
            1,
            |m, l| Instruction::V128Load8Lane { memarg: m, lane: l },
            |m, l| Instruction::V128Store8Lane { memarg: m, lane: l },
        ),
        (
            "V128Load16Lane",
            "V128Store16Lane",
            2,
            |m, l| Instruction::V128Load16Lane { memarg: m, lane: l },
            |m, l| Instruction::V128Store16Lane { memarg: m, lane: l },
        ),
        (
            "V128Load32Lane",
            "V128Store32Lane",
            4,
            |m, l| Instruction::V128Load32Lane { memarg: m, lane: l },
            |m, l| Instruction::V128Store32Lane { memarg: m, lane: l },
        ),
        (
            "V128Load64Lane",
            "V128Store64Lane",
            8,
            |m, l| Instruction::V128Load64Lane { memarg: m, lane: l },
            |m, l| Instruction::V128Store64Lane { memarg: m, lane: l },
        ),
    ];
    for (load_name, store_name, bytes, load_enc, store_enc) in lane_ops {
        let k = Kind::LoadLane {
            bytes,
            enc: load_enc,
        };
        t.push(Instr::new(load_name, Simd, Starved, EXACT, k));
        let k = Kind::StoreLane {
            bytes,
            enc: store_enc,
        };
        t.push(Instr::new(store_name, Simd, Starved, EXACT, k));
    }
}

fn lanes(t: &mut Vec<Instr>) {
    use ValType::{F32, F64, I32, I64};
    let extract: [(&'static str, u8, ValType, NanFlow, super::LaneEnc); 8] = [
        (
            "I8x16ExtractLaneS",
            16,
            I32,
            EXACT,
            Instruction::I8x16ExtractLaneS,
        ),
        (
            "I8x16ExtractLaneU",
            16,
            I32,
            EXACT,
            Instruction::I8x16ExtractLaneU,
        ),
        (
            "I16x8ExtractLaneS",
            8,
            I32,
            EXACT,
            Instruction::I16x8ExtractLaneS,
        ),
        (
            "I16x8ExtractLaneU",
            8,
            I32,
            EXACT,
            Instruction::I16x8ExtractLaneU,
        ),
        (
            "I32x4ExtractLane",
            4,
            I32,
            EXACT,
            Instruction::I32x4ExtractLane,
        ),
        (
            "I64x2ExtractLane",
            2,
            I64,
            EXACT,
            Instruction::I64x2ExtractLane,
        ),
        (
            "F32x4ExtractLane",
            4,
            F32,
            P32,
            Instruction::F32x4ExtractLane,
        ),
        (
            "F64x2ExtractLane",
            2,
            F64,
            P64,
            Instruction::F64x2ExtractLane,
        ),
    ];
    for (name, lanes, result, nan, enc) in extract {
        t.push(Instr::new(
            name,
            Simd,
            Starved,
            nan,
            Kind::ExtractLane { lanes, result, enc },
        ));
    }
    let replace: [(&'static str, u8, ValType, NanFlow, super::LaneEnc); 6] = [
        (
            "I8x16ReplaceLane",
            16,
            I32,
            EXACT,
            Instruction::I8x16ReplaceLane,
        ),
        (
            "I16x8ReplaceLane",
            8,
            I32,
            EXACT,
            Instruction::I16x8ReplaceLane,
        ),
        (
            "I32x4ReplaceLane",
            4,
            I32,
            EXACT,
            Instruction::I32x4ReplaceLane,
        ),
        (
            "I64x2ReplaceLane",
            2,
            I64,
            EXACT,
            Instruction::I64x2ReplaceLane,
        ),
        (
            "F32x4ReplaceLane",
            4,
            F32,
            P32,
            Instruction::F32x4ReplaceLane,
        ),
        (
            "F64x2ReplaceLane",
            2,
            F64,
            P64,
            Instruction::F64x2ReplaceLane,
        ),
    ];
    for (name, lanes, scalar, nan, enc) in replace {
        t.push(Instr::new(
            name,
            Simd,
            Starved,
            nan,
            Kind::ReplaceLane { lanes, scalar, enc },
        ));
    }
    t.push(Instr::new(
        "I8x16Shuffle",
        Simd,
        Starved,
        EXACT,
        Kind::Shuffle,
    ));
    ops!(t, Starved, EXACT, [V128, V128] -> V128: I8x16Swizzle);
    ops!(t, Rare, EXACT, [I32] -> V128: I8x16Splat I16x8Splat I32x4Splat);
    ops!(t, Rare, EXACT, [I64] -> V128: I64x2Splat);
    ops!(t, Rare, P32, [F32] -> V128: F32x4Splat);
    ops!(t, Rare, P64, [F64] -> V128: F64x2Splat);
}

fn integer(t: &mut Vec<Instr>) {
    ops!(t, Rare, EXACT, [V128, V128] -> V128:
        I8x16Eq I8x16Ne I8x16LtS I8x16LtU I8x16GtS I8x16GtU I8x16LeS I8x16LeU I8x16GeS I8x16GeU
        I16x8Eq I16x8Ne I16x8LtS I16x8LtU I16x8GtS I16x8GtU I16x8LeS I16x8LeU I16x8GeS I16x8GeU
        I32x4Eq I32x4Ne I32x4LtS I32x4LtU I32x4GtS I32x4GtU I32x4LeS I32x4LeU I32x4GeS I32x4GeU
        I64x2Eq I64x2Ne I64x2LtS I64x2GtS I64x2LeS I64x2GeS);
    ops!(t, Uncommon, EXACT, [V128] -> V128: V128Not);
    ops!(t, Uncommon, EXACT, [V128, V128] -> V128: V128And V128Or V128Xor);
    ops!(t, Rare, EXACT, [V128, V128] -> V128: V128AndNot);
    ops!(t, Starved, EXACT, [V128, V128, V128] -> V128: V128Bitselect);
    ops!(t, Starved, EXACT, [V128] -> I32:
        V128AnyTrue I8x16AllTrue I8x16Bitmask I16x8AllTrue I16x8Bitmask
        I32x4AllTrue I32x4Bitmask I64x2AllTrue I64x2Bitmask);
    ops!(t, Rare, EXACT, [V128] -> V128:
        I8x16Abs I8x16Neg I16x8Abs I16x8Neg I32x4Abs I32x4Neg I64x2Abs I64x2Neg);
    ops!(t, Starved, EXACT, [V128] -> V128:
        I8x16Popcnt
        I16x8ExtAddPairwiseI8x16S I16x8ExtAddPairwiseI8x16U
        I32x4ExtAddPairwiseI16x8S I32x4ExtAddPairwiseI16x8U
        I16x8ExtendLowI8x16S I16x8ExtendHighI8x16S I16x8ExtendLowI8x16U I16x8ExtendHighI8x16U
        I32x4ExtendLowI16x8S I32x4ExtendHighI16x8S I32x4ExtendLowI16x8U I32x4ExtendHighI16x8U
        I64x2ExtendLowI32x4S I64x2ExtendHighI32x4S I64x2ExtendLowI32x4U I64x2ExtendHighI32x4U);
    ops!(t, Starved, EXACT, [V128, V128] -> V128:
        I8x16NarrowI16x8S I8x16NarrowI16x8U I16x8NarrowI32x4S I16x8NarrowI32x4U
        I8x16AddSatS I8x16AddSatU I8x16SubSatS I8x16SubSatU
        I16x8AddSatS I16x8AddSatU I16x8SubSatS I16x8SubSatU
        I8x16AvgrU I16x8AvgrU I16x8Q15MulrSatS I32x4DotI16x8S
        I16x8ExtMulLowI8x16S I16x8ExtMulHighI8x16S I16x8ExtMulLowI8x16U I16x8ExtMulHighI8x16U
        I32x4ExtMulLowI16x8S I32x4ExtMulHighI16x8S I32x4ExtMulLowI16x8U I32x4ExtMulHighI16x8U
        I64x2ExtMulLowI32x4S I64x2ExtMulHighI32x4S I64x2ExtMulLowI32x4U I64x2ExtMulHighI32x4U);
    ops!(t, Starved, EXACT, [V128, I32] -> V128:
        I8x16Shl I8x16ShrS I8x16ShrU I16x8Shl I16x8ShrS I16x8ShrU
        I32x4Shl I32x4ShrS I32x4ShrU I64x2Shl I64x2ShrS I64x2ShrU);
    ops!(t, Uncommon, EXACT, [V128, V128] -> V128:
        I8x16Add I8x16Sub I16x8Add I16x8Sub I32x4Add I32x4Sub I64x2Add I64x2Sub);
    ops!(t, Rare, EXACT, [V128, V128] -> V128:
        I16x8Mul I32x4Mul I64x2Mul
        I8x16MinS I8x16MinU I8x16MaxS I8x16MaxU I16x8MinS I16x8MinU I16x8MaxS I16x8MaxU
        I32x4MinS I32x4MinU I32x4MaxS I32x4MaxU);
}

fn float(t: &mut Vec<Instr>) {
    ops!(t, Rare, C32, [V128, V128] -> V128: F32x4Eq F32x4Ne F32x4Lt F32x4Gt F32x4Le F32x4Ge);
    ops!(t, Rare, C64, [V128, V128] -> V128: F64x2Eq F64x2Ne F64x2Lt F64x2Gt F64x2Le F64x2Ge);
    ops!(t, Rare, P32, [V128] -> V128: F32x4Abs F32x4Neg);
    ops!(t, Rare, P64, [V128] -> V128: F64x2Abs F64x2Neg);
    ops!(t, Starved, A32, [V128] -> V128: F32x4Ceil F32x4Floor F32x4Trunc F32x4Nearest F32x4Sqrt);
    ops!(t, Starved, A64, [V128] -> V128: F64x2Ceil F64x2Floor F64x2Trunc F64x2Nearest F64x2Sqrt);
    ops!(t, Rare, A32, [V128, V128] -> V128: F32x4Add F32x4Sub F32x4Mul F32x4Div F32x4Min F32x4Max);
    ops!(t, Rare, A64, [V128, V128] -> V128: F64x2Add F64x2Sub F64x2Mul F64x2Div F64x2Min F64x2Max);
    // pmin/pmax select one operand: NaNs pass through unchanged.
    ops!(t, Starved, P32, [V128, V128] -> V128: F32x4PMin F32x4PMax);
    ops!(t, Starved, P64, [V128, V128] -> V128: F64x2PMin F64x2PMax);
    ops!(t, Starved, C32, [V128] -> V128: I32x4TruncSatF32x4S I32x4TruncSatF32x4U);
    ops!(t, Starved, C64, [V128] -> V128: I32x4TruncSatF64x2SZero I32x4TruncSatF64x2UZero);
    ops!(t, Starved, EXACT, [V128] -> V128:
        F32x4ConvertI32x4S F32x4ConvertI32x4U F64x2ConvertLowI32x4S F64x2ConvertLowI32x4U);
    let demote = NanFlow::Arith {
        from: Lanes::F64,
        to: Lanes::F32,
    };
    let promote = NanFlow::Arith {
        from: Lanes::F32,
        to: Lanes::F64,
    };
    ops!(t, Starved, demote, [V128] -> V128: F32x4DemoteF64x2Zero);
    ops!(t, Starved, promote, [V128] -> V128: F64x2PromoteLowF32x4);
}
