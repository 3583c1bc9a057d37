//! Fixed-width SIMD semantics (every non-memory `v128` instruction of
//! WebAssembly 2.0), as pure functions over [`Value`]s.
//!
//! [`SimdOp::from_operator`] pre-decodes a wasmparser operator (with its
//! immediates) into a compact [`SimdOp`]; [`eval`] applies it to its operands.
//! Memory instructions (loads, stores, lane loads/stores) are left to the
//! engine, and relaxed SIMD is not recognised.
//!
//! Vectors are `u128`s with lane 0 in the low bits (little-endian lane order,
//! as in memory). Float lanes follow [`crate::num`]: `min`/`max`/`nearest`/
//! `pmin`/`pmax` are its functions applied lane-wise, and every arithmetic
//! NaN result is normalised to its rule (first NaN operand quieted; a NaN
//! created from non-NaN operands is the positive canonical NaN), so results
//! never depend on the host's native NaN behaviour.
//!
//! Files by family: [`lanes`] (lane access helpers, constants, shuffles,
//! splat/extract/replace), `int` (integer lane arithmetic, shifts,
//! comparisons, reductions), `float` (float lane arithmetic and comparisons),
//! `convert` (narrowing, widening, extending multiplies and float/int
//! conversions), `decode` (wasmparser operators to [`SimdOp`]).

use crate::values::{ValType, Value};

/// Expands `$body` once per integer shape with `const $w: u32` bound to the
/// lane width in bits.
macro_rules! by_width {
    ($shape:expr, $w:ident => $body:expr) => {
        match $shape {
            $crate::simd::IShape::I8x16 => {
                const $w: u32 = 8;
                $body
            }
            $crate::simd::IShape::I16x8 => {
                const $w: u32 = 16;
                $body
            }
            $crate::simd::IShape::I32x4 => {
                const $w: u32 = 32;
                $body
            }
            $crate::simd::IShape::I64x2 => {
                const $w: u32 = 64;
                $body
            }
        }
    };
}

mod convert;
mod decode;
mod float;
mod int;
pub mod lanes;

pub use lanes::{
    from_lanes_f32, from_lanes_f64, from_lanes_i8, from_lanes_i16, from_lanes_i32, from_lanes_i64,
    from_lanes_u8, from_lanes_u16, from_lanes_u32, from_lanes_u64, lanes_f32, lanes_f64, lanes_i8,
    lanes_i16, lanes_i32, lanes_i64, lanes_u8, lanes_u16, lanes_u32, lanes_u64,
};

/// Integer lane shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IShape {
    /// Sixteen 8-bit lanes.
    I8x16,
    /// Eight 16-bit lanes.
    I16x8,
    /// Four 32-bit lanes.
    I32x4,
    /// Two 64-bit lanes.
    I64x2,
}

impl IShape {
    /// Lane width in bits.
    pub fn lane_bits(self) -> u32 {
        by_width!(self, W => W)
    }

    /// Number of lanes.
    pub fn lanes(self) -> u32 {
        128 / self.lane_bits()
    }
}

/// Float lane shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FShape {
    /// Four `f32` lanes.
    F32x4,
    /// Two `f64` lanes.
    F64x2,
}

/// Any lane shape (used by splat, extract_lane and replace_lane).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// Sixteen 8-bit integer lanes (scalar: `i32`).
    I8x16,
    /// Eight 16-bit integer lanes (scalar: `i32`).
    I16x8,
    /// Four 32-bit integer lanes (scalar: `i32`).
    I32x4,
    /// Two 64-bit integer lanes (scalar: `i64`).
    I64x2,
    /// Four `f32` lanes (scalar: `f32`).
    F32x4,
    /// Two `f64` lanes (scalar: `f64`).
    F64x2,
}

impl Shape {
    /// Lane width in bits.
    pub fn lane_bits(self) -> u32 {
        match self {
            Shape::I8x16 => 8,
            Shape::I16x8 => 16,
            Shape::I32x4 | Shape::F32x4 => 32,
            Shape::I64x2 | Shape::F64x2 => 64,
        }
    }

    /// Number of lanes.
    pub fn lanes(self) -> u32 {
        128 / self.lane_bits()
    }

    /// The scalar type of one lane as seen by splat/extract/replace
    /// (`i32` for 8- and 16-bit lanes).
    pub fn scalar_type(self) -> ValType {
        match self {
            Shape::I8x16 | Shape::I16x8 | Shape::I32x4 => ValType::I32,
            Shape::I64x2 => ValType::I64,
            Shape::F32x4 => ValType::F32,
            Shape::F64x2 => ValType::F64,
        }
    }
}

/// A pair of integer lane widths, the second twice the first: the shapes
/// related by narrowing, extension, extending multiplies and pairwise adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Widen {
    /// `i8x16` and `i16x8`.
    I8ToI16,
    /// `i16x8` and `i32x4`.
    I16ToI32,
    /// `i32x4` and `i64x2`.
    I32ToI64,
}

/// Lane-wise integer unary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntUnOp {
    /// Wrapping absolute value (`MIN` stays `MIN`).
    Abs,
    /// Wrapping negation.
    Neg,
    /// Population count (`i8x16` only).
    Popcnt,
}

/// Lane-wise integer binary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntBinOp {
    /// Wrapping addition.
    Add,
    /// Wrapping subtraction.
    Sub,
    /// Wrapping multiplication.
    Mul,
    /// Signed saturating addition.
    AddSatS,
    /// Unsigned saturating addition.
    AddSatU,
    /// Signed saturating subtraction.
    SubSatS,
    /// Unsigned saturating subtraction.
    SubSatU,
    /// Signed minimum.
    MinS,
    /// Unsigned minimum.
    MinU,
    /// Signed maximum.
    MaxS,
    /// Unsigned maximum.
    MaxU,
    /// Unsigned rounding average `(a + b + 1) / 2`.
    AvgrU,
    /// Q15 rounding saturating multiply (`i16x8` only).
    Q15MulrSatS,
}

/// Lane-wise shifts by a scalar `i32` count (taken modulo the lane width).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShiftOp {
    /// Shift left.
    Shl,
    /// Arithmetic shift right.
    ShrS,
    /// Logical shift right.
    ShrU,
}

/// Lane-wise integer comparisons (all-ones lane when true).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntCmp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Signed less than.
    LtS,
    /// Unsigned less than.
    LtU,
    /// Signed greater than.
    GtS,
    /// Unsigned greater than.
    GtU,
    /// Signed less or equal.
    LeS,
    /// Unsigned less or equal.
    LeU,
    /// Signed greater or equal.
    GeS,
    /// Unsigned greater or equal.
    GeU,
}

/// Lane-wise float unary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatUnOp {
    /// Clear the sign bit (no NaN canonicalisation).
    Abs,
    /// Flip the sign bit (no NaN canonicalisation).
    Neg,
    /// Square root.
    Sqrt,
    /// Round toward +infinity.
    Ceil,
    /// Round toward -infinity.
    Floor,
    /// Round toward zero.
    Trunc,
    /// Round to nearest, ties to even.
    Nearest,
}

/// Lane-wise float binary operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatBinOp {
    /// Addition.
    Add,
    /// Subtraction.
    Sub,
    /// Multiplication.
    Mul,
    /// Division.
    Div,
    /// NaN-propagating minimum ([`crate::num::fmin`]).
    Min,
    /// NaN-propagating maximum ([`crate::num::fmax`]).
    Max,
    /// Pseudo-minimum `b < a ? b : a`.
    PMin,
    /// Pseudo-maximum `a < b ? b : a`.
    PMax,
}

/// Lane-wise float comparisons (all-ones lane when true; NaN compares
/// unordered, so only `Ne` is true).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatCmp {
    /// Equal.
    Eq,
    /// Not equal (true when either lane is NaN).
    Ne,
    /// Less than.
    Lt,
    /// Greater than.
    Gt,
    /// Less or equal.
    Le,
    /// Greater or equal.
    Ge,
}

/// Conversions between float and integer lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConvOp {
    /// `f32x4.convert_i32x4_s`.
    F32x4ConvertI32x4S,
    /// `f32x4.convert_i32x4_u`.
    F32x4ConvertI32x4U,
    /// `f64x2.convert_low_i32x4_s`.
    F64x2ConvertLowI32x4S,
    /// `f64x2.convert_low_i32x4_u`.
    F64x2ConvertLowI32x4U,
    /// `i32x4.trunc_sat_f32x4_s`.
    I32x4TruncSatF32x4S,
    /// `i32x4.trunc_sat_f32x4_u`.
    I32x4TruncSatF32x4U,
    /// `i32x4.trunc_sat_f64x2_s_zero`.
    I32x4TruncSatF64x2SZero,
    /// `i32x4.trunc_sat_f64x2_u_zero`.
    I32x4TruncSatF64x2UZero,
    /// `f32x4.demote_f64x2_zero`.
    F32x4DemoteF64x2Zero,
    /// `f64x2.promote_low_f32x4`.
    F64x2PromoteLowF32x4,
}

/// A pre-decoded non-memory SIMD instruction with its immediates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimdOp {
    /// `v128.const`.
    Const(u128),
    /// `i8x16.shuffle` with its 16 lane indices (each < 32).
    Shuffle([u8; 16]),
    /// `i8x16.swizzle`.
    Swizzle,
    /// `<shape>.splat`.
    Splat(Shape),
    /// `<shape>.extract_lane[_s|_u]`; `signed` selects `_s` for `i8x16` and
    /// `i16x8` and is `false` for the other shapes.
    ExtractLane {
        /// Lane shape.
        shape: Shape,
        /// Lane index.
        lane: u8,
        /// Sign-extend (only meaningful for 8- and 16-bit lanes).
        signed: bool,
    },
    /// `<shape>.replace_lane`.
    ReplaceLane {
        /// Lane shape.
        shape: Shape,
        /// Lane index.
        lane: u8,
    },
    /// `v128.not`.
    Not,
    /// `v128.and`.
    And,
    /// `v128.andnot` (`a & !b`).
    AndNot,
    /// `v128.or`.
    Or,
    /// `v128.xor`.
    Xor,
    /// `v128.bitselect` (`(a & c) | (b & !c)`).
    Bitselect,
    /// `v128.any_true`.
    AnyTrue,
    /// Integer unary lane operation.
    IntUnary(IShape, IntUnOp),
    /// Integer binary lane operation.
    IntBinary(IShape, IntBinOp),
    /// Shift by a scalar count.
    Shift(IShape, ShiftOp),
    /// Integer comparison.
    IntCompare(IShape, IntCmp),
    /// `<shape>.all_true`.
    AllTrue(IShape),
    /// `<shape>.bitmask`.
    Bitmask(IShape),
    /// Float unary lane operation.
    FloatUnary(FShape, FloatUnOp),
    /// Float binary lane operation.
    FloatBinary(FShape, FloatBinOp),
    /// Float comparison.
    FloatCompare(FShape, FloatCmp),
    /// `i8x16.narrow_i16x8_*` (`I8ToI16`) or `i16x8.narrow_i32x4_*`
    /// (`I16ToI32`): saturating narrowing of two vectors of signed wide
    /// lanes (the first operand gives the low result lanes).
    Narrow {
        /// Narrow and wide shapes.
        widths: Widen,
        /// Signed (`_s`) or unsigned (`_u`) saturation.
        signed: bool,
    },
    /// `<to>.extend_{low,high}_<half-width>_{s,u}`.
    Extend {
        /// Input (narrow) and result (wide) shapes.
        widths: Widen,
        /// Take the high half of the input lanes.
        high: bool,
        /// Sign- or zero-extend.
        signed: bool,
    },
    /// `<to>.extmul_{low,high}_<half-width>_{s,u}`.
    ExtMul {
        /// Input (narrow) and result (wide) shapes.
        widths: Widen,
        /// Take the high half of the input lanes.
        high: bool,
        /// Sign- or zero-extend before multiplying.
        signed: bool,
    },
    /// `<to>.extadd_pairwise_<half-width>_{s,u}`.
    ExtAddPairwise {
        /// Input (narrow) and result (wide) shapes.
        widths: Widen,
        /// Sign- or zero-extend before adding.
        signed: bool,
    },
    /// `i32x4.dot_i16x8_s`.
    Dot,
    /// Float/integer conversions.
    Convert(ConvOp),
}

impl SimdOp {
    /// Decodes a non-memory SIMD operator; `None` for anything else
    /// (including SIMD memory operators and relaxed SIMD).
    pub fn from_operator(op: &wasmparser::Operator<'_>) -> Option<SimdOp> {
        decode::decode(op)
    }

    /// How many operands the instruction pops (0 to 3).
    pub fn num_args(&self) -> usize {
        use SimdOp::*;
        match self {
            Const(_) => 0,
            Bitselect => 3,
            Shuffle(_) | Swizzle | ReplaceLane { .. } | And | AndNot | Or | Xor => 2,
            IntBinary(..) | Shift(..) | IntCompare(..) | FloatBinary(..) | FloatCompare(..) => 2,
            Narrow { .. } | ExtMul { .. } | Dot => 2,
            Splat(_) | ExtractLane { .. } | Not | AnyTrue | IntUnary(..) | AllTrue(_) => 1,
            Bitmask(_) | FloatUnary(..) | Extend { .. } | ExtAddPairwise { .. } | Convert(_) => 1,
        }
    }

    /// The operand types, in stack order (`num_args` of them).
    pub fn param_types(&self) -> &'static [ValType] {
        use SimdOp::*;
        use ValType::{F32, F64, I32, I64, V128};
        match self {
            Const(_) => &[],
            Bitselect => &[V128, V128, V128],
            Splat(shape) => match shape.scalar_type() {
                I64 => &[I64],
                F32 => &[F32],
                F64 => &[F64],
                _ => &[I32],
            },
            ReplaceLane { shape, .. } => match shape.scalar_type() {
                I64 => &[V128, I64],
                F32 => &[V128, F32],
                F64 => &[V128, F64],
                _ => &[V128, I32],
            },
            Shift(..) => &[V128, I32],
            _ if self.num_args() == 2 => &[V128, V128],
            _ => &[V128],
        }
    }

    /// The result type.
    pub fn result_type(&self) -> ValType {
        match self {
            SimdOp::ExtractLane { shape, .. } => shape.scalar_type(),
            SimdOp::AnyTrue | SimdOp::AllTrue(_) | SimdOp::Bitmask(_) => ValType::I32,
            _ => ValType::V128,
        }
    }
}

/// The `v128` operand `i`. Validated code guarantees the type; anything else
/// is an engine bug, reported loudly rather than masked.
fn v(args: &[Value], i: usize) -> u128 {
    match args.get(i) {
        Some(Value::V128(x)) => *x,
        other => panic!("simd::eval: operand {i} must be a v128, got {other:?}"),
    }
}

/// The `i32` operand `i` (shift counts).
fn i32_arg(args: &[Value], i: usize) -> i32 {
    match args.get(i) {
        Some(Value::I32(x)) => *x,
        other => panic!("simd::eval: operand {i} must be an i32, got {other:?}"),
    }
}

/// Evaluates `op` on `args` (in stack order: `args[0]` was pushed first).
/// Non-memory SIMD instructions never trap and produce exactly one value.
///
/// Panics only if `args` does not match the instruction's operand types,
/// which validation rules out.
pub fn eval(op: &SimdOp, args: &[Value]) -> Value {
    use SimdOp::*;
    let r = match op {
        Const(c) => *c,
        Shuffle(mask) => lanes::shuffle(mask, v(args, 0), v(args, 1)),
        Swizzle => lanes::swizzle(v(args, 0), v(args, 1)),
        Splat(shape) => lanes::splat(*shape, &args[0]),
        ExtractLane {
            shape,
            lane,
            signed,
        } => return lanes::extract(*shape, *lane, *signed, v(args, 0)),
        ReplaceLane { shape, lane } => lanes::replace(*shape, *lane, v(args, 0), &args[1]),
        Not => !v(args, 0),
        And => v(args, 0) & v(args, 1),
        AndNot => v(args, 0) & !v(args, 1),
        Or => v(args, 0) | v(args, 1),
        Xor => v(args, 0) ^ v(args, 1),
        Bitselect => {
            let c = v(args, 2);
            (v(args, 0) & c) | (v(args, 1) & !c)
        }
        AnyTrue => return Value::I32((v(args, 0) != 0) as i32),
        IntUnary(s, o) => int::unary(*s, *o, v(args, 0)),
        IntBinary(s, o) => int::binary(*s, *o, v(args, 0), v(args, 1)),
        Shift(s, o) => int::shift(*s, *o, v(args, 0), i32_arg(args, 1)),
        IntCompare(s, o) => int::compare(*s, *o, v(args, 0), v(args, 1)),
        AllTrue(s) => return Value::I32(int::all_true(*s, v(args, 0)) as i32),
        Bitmask(s) => return Value::I32(int::bitmask(*s, v(args, 0)) as i32),
        FloatUnary(s, o) => float::unary(*s, *o, v(args, 0)),
        FloatBinary(s, o) => float::binary(*s, *o, v(args, 0), v(args, 1)),
        FloatCompare(s, o) => float::compare(*s, *o, v(args, 0), v(args, 1)),
        Narrow { widths, signed } => convert::narrow(*widths, *signed, v(args, 0), v(args, 1)),
        Extend {
            widths,
            high,
            signed,
        } => convert::extend(*widths, *high, *signed, v(args, 0)),
        ExtMul {
            widths,
            high,
            signed,
        } => convert::extmul(*widths, *high, *signed, v(args, 0), v(args, 1)),
        ExtAddPairwise { widths, signed } => convert::extadd_pairwise(*widths, *signed, v(args, 0)),
        Dot => convert::dot_i16x8_s(v(args, 0), v(args, 1)),
        Convert(c) => convert::convert(*c, v(args, 0)),
    };
    Value::V128(r)
}
