//! Mapping of the fixed-arity, immediate-free wasm operators (numeric,
//! comparison, conversion) onto [`Op`]s.
//!
//! Operators whose name is the same in both instruction sets are listed once
//! in [`same_name`]; the few that fold into another op or vanish (because
//! the slot encoding makes them no-ops) are in [`simple`].

use super::code::Op;
use wasmparser::Operator as O;

/// What a simple operator translates to.
pub(crate) enum Simple {
    /// One op.
    Emit(Op),
    /// Nothing: the operator is the identity on slots.
    Nothing,
}

/// Translates an immediate-free numeric operator; `None` if `op` is not one.
pub(crate) fn simple(op: &O<'_>) -> Option<Simple> {
    Some(match op {
        // Reinterpretations keep the bits, and slots are zero-extended, so
        // they (and zero-extending i32 -> i64) change nothing.
        O::Nop
        | O::I32ReinterpretF32
        | O::I64ReinterpretF64
        | O::F32ReinterpretI32
        | O::F64ReinterpretI64
        | O::I64ExtendI32U => Simple::Nothing,
        _ => Simple::Emit(same_name(op)?),
    })
}

macro_rules! same_name_ops {
    ($($name:ident)*) => {
        /// Operators that map one-to-one onto the op of the same name.
        pub(crate) fn same_name(op: &O<'_>) -> Option<Op> {
            Some(match op {
                $(O::$name => Op::$name,)*
                _ => return None,
            })
        }

        /// The operator among those of [`same_name`] whose wasmparser
        /// variant is called `ident` (e.g. `I32Add`).
        pub(crate) fn same_name_operator(ident: &str) -> Option<O<'static>> {
            Some(match ident {
                $(stringify!($name) => O::$name,)*
                _ => return None,
            })
        }
    };
}

same_name_ops! {
    Drop Select RefIsNull
    I32Eqz I32Eq I32Ne I32LtS I32LtU I32GtS I32GtU I32LeS I32LeU I32GeS I32GeU
    I32Clz I32Ctz I32Popcnt I32Add I32Sub I32Mul I32DivS I32DivU I32RemS I32RemU
    I32And I32Or I32Xor I32Shl I32ShrS I32ShrU I32Rotl I32Rotr
    I32Extend8S I32Extend16S
    I64Eqz I64Eq I64Ne I64LtS I64LtU I64GtS I64GtU I64LeS I64LeU I64GeS I64GeU
    I64Clz I64Ctz I64Popcnt I64Add I64Sub I64Mul I64DivS I64DivU I64RemS I64RemU
    I64And I64Or I64Xor I64Shl I64ShrS I64ShrU I64Rotl I64Rotr
    I64Extend8S I64Extend16S I64Extend32S
    F32Eq F32Ne F32Lt F32Gt F32Le F32Ge
    F32Abs F32Neg F32Ceil F32Floor F32Trunc F32Nearest F32Sqrt
    F32Add F32Sub F32Mul F32Div F32Min F32Max F32Copysign
    F64Eq F64Ne F64Lt F64Gt F64Le F64Ge
    F64Abs F64Neg F64Ceil F64Floor F64Trunc F64Nearest F64Sqrt
    F64Add F64Sub F64Mul F64Div F64Min F64Max F64Copysign
    I32WrapI64 I32TruncF32S I32TruncF32U I32TruncF64S I32TruncF64U
    I64ExtendI32S I64TruncF32S I64TruncF32U I64TruncF64S I64TruncF64U
    F32ConvertI32S F32ConvertI32U F32ConvertI64S F32ConvertI64U F32DemoteF64
    F64ConvertI32S F64ConvertI32U F64ConvertI64S F64ConvertI64U F64PromoteF32
    I32TruncSatF32S I32TruncSatF32U I32TruncSatF64S I32TruncSatF64U
    I64TruncSatF32S I64TruncSatF32U I64TruncSatF64S I64TruncSatF64U
}

macro_rules! define_describe {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        /// The proposal group an operator belongs to (wasmparser's grouping,
        /// e.g. `simd`) and its text-format name.
        pub(crate) fn describe(op: &O<'_>) -> (&'static str, String) {
            let (proposal, visit) = match op {
                $( O::$op { .. } => (stringify!($proposal), stringify!($visit)), )*
                #[allow(unreachable_patterns)]
                _ => ("unknown", "visit_unknown"),
            };
            let name = visit.trim_start_matches("visit_").replacen('_', ".", 1);
            (proposal, name)
        }
    };
}
wasmparser::for_each_operator!(define_describe);
