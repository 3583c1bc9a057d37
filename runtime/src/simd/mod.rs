//! Fixed-width SIMD semantics (every non-memory `v128` instruction), as pure
//! functions over [`Value`]s.
//!
//! Interface placeholder: the SIMD work fills in [`SimdOp`]; until then no
//! operator is recognised.

use crate::values::Value;

/// A pre-decoded non-memory SIMD instruction with its immediates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimdOp {}

impl SimdOp {
    /// Decodes a non-memory SIMD operator; `None` for anything else.
    pub fn from_operator(_op: &wasmparser::Operator<'_>) -> Option<SimdOp> {
        None
    }

    /// How many operands the instruction pops (0 to 3).
    pub fn num_args(&self) -> usize {
        match *self {}
    }
}

/// Evaluates `op` on `args` (in stack order: `args[0]` was pushed first).
/// Non-memory SIMD instructions never trap and produce exactly one value.
pub fn eval(op: &SimdOp, _args: &[Value]) -> Value {
    match *op {}
}
