//! The instruction table of the instruction-first wasm generator.
//!
//! One [`Instr`] per WebAssembly instruction shoal's runtime supports
//! (WebAssembly 2.0 — including every fixed-width SIMD instruction, bulk
//! memory, reference types and tables — plus tail calls; multi-memory,
//! memory64 and extended constant expressions add no opcodes but shape
//! immediates and modules). Each entry records its name (the `wasmparser`
//! operator name, so tests can match generated code back to the table), the
//! proposal it needs, a rarity class and weight, how it treats NaNs, and
//! enough about its signature and immediates to synthesize operands.
//!
//! The table is split by family: [`numeric`] (scalar integer and float
//! operations and conversions), [`simd`] (everything `v128`) and [`other`]
//! (control, variables, memory, tables, references).

mod numeric;
mod other;
mod simd;

use std::sync::LazyLock;

use shoal_runtime::ValType;
use wasm_encoder::{Instruction, MemArg};

/// The proposal an instruction belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Feature {
    /// WebAssembly 1.0.
    Mvp,
    /// Sign-extension operators.
    SignExtension,
    /// Non-trapping float-to-int conversions.
    SaturatingFloatToInt,
    /// Bulk memory and table operations.
    BulkMemory,
    /// Reference types (and multiple tables).
    ReferenceTypes,
    /// Fixed-width SIMD.
    Simd,
    /// Tail calls.
    TailCall,
}

/// How often bottom-up generators (wasm-smith) produce an instruction in a
/// shape that exercises it; the instruction-first generator weights rarer
/// classes higher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rarity {
    /// Produced constantly (integer add, local access, constants).
    Common,
    /// Produced regularly, but rarely with interesting operands.
    Uncommon,
    /// Rarely produced (division edges, float rounding, table ops).
    Rare,
    /// Starved by bottom-up generation: needs an operand stack it almost
    /// never has (v128 shuffles and lane ops, narrowing, extmul, saturating
    /// arithmetic, conversions, sign extension, rotates, bit counts, bulk
    /// memory, call_indirect, br_table).
    Starved,
}

impl Rarity {
    /// Default weight of the class.
    pub fn weight(self) -> u32 {
        match self {
            Rarity::Common => 2,
            Rarity::Uncommon => 4,
            Rarity::Rare => 7,
            Rarity::Starved => 10,
        }
    }
}

/// Float lane interpretation of a value whose NaN bits may be
/// nondeterministic ("dirty"): `f32`/`f32x4` or `f64`/`f64x2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lanes {
    /// 32-bit float lanes.
    F32,
    /// 64-bit float lanes.
    F64,
}

/// How an instruction treats NaN bit patterns. WebAssembly leaves the sign
/// and payload of NaNs produced by float arithmetic open, so such "dirty"
/// values may only reach consumers that cannot observe the difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NanFlow {
    /// Bit-exact: every operand must be clean; the result is clean.
    Exact,
    /// Float operands of these lanes may be dirty; the result is clean
    /// (comparisons, truncations).
    Consume(Lanes),
    /// Float operands may be dirty; the result is dirty only if one is
    /// (abs, neg, splat, lane moves, pmin/pmax).
    Propagate(Lanes),
    /// Operands in `from` lanes may be dirty; the result is always dirty in
    /// `to` lanes (arithmetic can make fresh NaNs).
    Arith {
        /// Operand lanes.
        from: Lanes,
        /// Result lanes.
        to: Lanes,
    },
    /// `copysign`: the magnitude may be dirty, the sign operand must be
    /// clean (a NaN's sign bit would leak into a non-NaN result).
    CopySign(Lanes),
}

impl NanFlow {
    /// Arithmetic within one lane kind.
    pub const fn arith(l: Lanes) -> NanFlow {
        NanFlow::Arith { from: l, to: l }
    }

    /// Which dirt operand `i` may carry.
    pub fn accepts(self, i: usize) -> Option<Lanes> {
        match self {
            NanFlow::Exact => None,
            NanFlow::Consume(l) | NanFlow::Propagate(l) => Some(l),
            NanFlow::Arith { from, .. } => Some(from),
            NanFlow::CopySign(l) => (i == 0).then_some(l),
        }
    }

    /// Dirt of the result given whether any operand was dirty.
    pub fn output(self, any_input_dirty: bool) -> Option<Lanes> {
        match self {
            NanFlow::Exact | NanFlow::Consume(_) => None,
            NanFlow::Propagate(l) | NanFlow::CopySign(l) => any_input_dirty.then_some(l),
            NanFlow::Arith { to, .. } => Some(to),
        }
    }
}

/// Encoder of an instruction taking a memory argument.
pub type MemEnc = fn(MemArg) -> Instruction<'static>;
/// Encoder of an instruction taking a memory argument and a lane.
pub type MemLaneEnc = fn(MemArg, u8) -> Instruction<'static>;
/// Encoder of an instruction taking a lane index.
pub type LaneEnc = fn(u8) -> Instruction<'static>;

/// Control, variable, memory, table and reference instructions: each has
/// its own emitter in the generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Special {
    Unreachable,
    Nop,
    Block,
    Loop,
    If,
    Br,
    BrIf,
    BrTable,
    Return,
    Call,
    CallIndirect,
    ReturnCall,
    ReturnCallIndirect,
    Drop,
    Select,
    TypedSelect,
    LocalGet,
    LocalSet,
    LocalTee,
    GlobalGet,
    GlobalSet,
    MemorySize,
    MemoryGrow,
    MemoryInit,
    DataDrop,
    MemoryCopy,
    MemoryFill,
    TableInit,
    ElemDrop,
    TableCopy,
    TableFill,
    TableGet,
    TableSet,
    TableGrow,
    TableSize,
    RefNull,
    RefIsNull,
    RefFunc,
}

/// Signature and immediates of an instruction.
#[derive(Clone, Debug)]
pub enum Kind {
    /// Fixed signature, no immediates.
    Op {
        /// Operand types.
        params: &'static [ValType],
        /// Result type.
        result: ValType,
        /// The instruction.
        enc: Instruction<'static>,
    },
    /// A constant of the type.
    Const(ValType),
    /// A load: `[addr] -> [ty]`, accessing `bytes` bytes.
    Load {
        /// Result type.
        ty: ValType,
        /// Access width in bytes (natural alignment).
        bytes: u32,
        /// Encoder.
        enc: MemEnc,
    },
    /// A store: `[addr, ty] -> []`.
    Store {
        /// Stored type.
        ty: ValType,
        /// Access width in bytes.
        bytes: u32,
        /// Encoder.
        enc: MemEnc,
    },
    /// `v128.loadN_lane`: `[addr, v128] -> [v128]`.
    LoadLane {
        /// Lane width in bytes.
        bytes: u32,
        /// Encoder.
        enc: MemLaneEnc,
    },
    /// `v128.storeN_lane`: `[addr, v128] -> []`.
    StoreLane {
        /// Lane width in bytes.
        bytes: u32,
        /// Encoder.
        enc: MemLaneEnc,
    },
    /// `*.extract_lane*`: `[v128] -> [result]`.
    ExtractLane {
        /// Number of lanes.
        lanes: u8,
        /// Result type.
        result: ValType,
        /// Encoder.
        enc: LaneEnc,
    },
    /// `*.replace_lane`: `[v128, scalar] -> [v128]`.
    ReplaceLane {
        /// Number of lanes.
        lanes: u8,
        /// Scalar operand type.
        scalar: ValType,
        /// Encoder.
        enc: LaneEnc,
    },
    /// `i8x16.shuffle`: `[v128, v128] -> [v128]` with a 16-byte mask.
    Shuffle,
    /// An instruction with its own emitter.
    Special(Special),
}

/// One instruction of the table.
#[derive(Clone, Debug)]
pub struct Instr {
    /// The `wasmparser::Operator` variant name, e.g. `I32Add`.
    pub name: &'static str,
    /// The proposal it needs.
    pub feature: Feature,
    /// Rarity class.
    pub rarity: Rarity,
    /// Selection weight (defaults to the class weight).
    pub weight: u32,
    /// NaN behaviour.
    pub nan: NanFlow,
    /// Signature and immediates.
    pub kind: Kind,
}

impl Instr {
    /// An entry with the class's default weight.
    pub fn new(
        name: &'static str,
        feature: Feature,
        rarity: Rarity,
        nan: NanFlow,
        kind: Kind,
    ) -> Self {
        Instr {
            name,
            feature,
            rarity,
            weight: rarity.weight(),
            nan,
            kind,
        }
    }

    /// Types this instruction can produce as its single result (used to
    /// pick a nested instruction for an operand of a given type). Empty for
    /// instructions that produce no single value.
    pub fn produces(&self) -> &'static [ValType] {
        use ValType::*;
        const NUM: &[ValType] = &[I32, I64, F32, F64, V128];
        const ALL: &[ValType] = &[I32, I64, F32, F64, V128, FuncRef, ExternRef];
        const INTS: &[ValType] = &[I32, I64];
        const REFS: &[ValType] = &[FuncRef, ExternRef];
        match &self.kind {
            Kind::Op { result, .. } | Kind::ExtractLane { result, .. } => one(*result),
            Kind::Const(t) | Kind::Load { ty: t, .. } => one(*t),
            Kind::LoadLane { .. } | Kind::ReplaceLane { .. } | Kind::Shuffle => &[V128],
            Kind::Store { .. } | Kind::StoreLane { .. } => &[],
            Kind::Special(s) => match s {
                Special::Block
                | Special::Loop
                | Special::If
                | Special::BrIf
                | Special::Call
                | Special::CallIndirect
                | Special::TypedSelect
                | Special::LocalGet
                | Special::LocalTee
                | Special::GlobalGet => ALL,
                Special::Select => NUM,
                Special::MemorySize | Special::MemoryGrow => INTS,
                Special::TableSize | Special::TableGrow => INTS,
                Special::TableGet | Special::RefNull => REFS,
                Special::RefFunc => &[FuncRef],
                Special::RefIsNull => &[I32],
                _ => &[],
            },
        }
    }
}

fn one(t: ValType) -> &'static [ValType] {
    use ValType::*;
    match t {
        I32 => &[I32],
        I64 => &[I64],
        F32 => &[F32],
        F64 => &[F64],
        V128 => &[V128],
        FuncRef => &[FuncRef],
        ExternRef => &[ExternRef],
    }
}

/// The whole table, in a fixed order (indices are stable within a build).
pub fn table() -> &'static [Instr] {
    static TABLE: LazyLock<Vec<Instr>> = LazyLock::new(|| {
        let mut t = Vec::with_capacity(460);
        numeric::entries(&mut t);
        simd::entries(&mut t);
        other::entries(&mut t);
        t
    });
    &TABLE
}

/// Cumulative weights over the whole table (for choosing a target).
pub fn cumulative_weights() -> &'static [u64] {
    static CUM: LazyLock<Vec<u64>> = LazyLock::new(|| cumulate(table().iter().map(|i| i.weight)));
    &CUM
}

fn cumulate(weights: impl Iterator<Item = u32>) -> Vec<u64> {
    let mut total = 0u64;
    weights
        .map(|w| {
            total += u64::from(w);
            total
        })
        .collect()
}

/// Table indices of the instructions producing `ty`, with cumulative weights.
pub struct Producers {
    /// Indices into [`table`].
    pub indices: Vec<usize>,
    /// Cumulative weights, parallel to `indices`.
    pub cumulative: Vec<u64>,
}

/// The producers of each value type (indexed by [`type_slot`]).
pub fn producers(ty: ValType) -> &'static Producers {
    static P: LazyLock<Vec<Producers>> = LazyLock::new(|| {
        ALL_TYPES
            .iter()
            .map(|&ty| {
                let indices: Vec<usize> = table()
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| i.produces().contains(&ty))
                    .map(|(k, _)| k)
                    .collect();
                let cumulative = cumulate(indices.iter().map(|&k| table()[k].weight));
                Producers {
                    indices,
                    cumulative,
                }
            })
            .collect()
    });
    &P[type_slot(ty)]
}

/// Every value type, in [`type_slot`] order.
pub const ALL_TYPES: [ValType; 7] = [
    ValType::I32,
    ValType::I64,
    ValType::F32,
    ValType::F64,
    ValType::V128,
    ValType::FuncRef,
    ValType::ExternRef,
];

/// Dense index of a value type.
pub fn type_slot(ty: ValType) -> usize {
    match ty {
        ValType::I32 => 0,
        ValType::I64 => 1,
        ValType::F32 => 2,
        ValType::F64 => 3,
        ValType::V128 => 4,
        ValType::FuncRef => 5,
        ValType::ExternRef => 6,
    }
}

/// Looks an instruction up by its `wasmparser` operator name.
pub fn by_name(name: &str) -> Option<&'static Instr> {
    table().iter().find(|i| i.name == name)
}

#[cfg(test)]
mod tests;
