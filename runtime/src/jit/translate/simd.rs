//! SIMD operators that are not simple table entries: constants, lanes,
//! shuffles, composite lowerings and vector memory accesses.

use wasmparser::Operator;

use super::{FuncTranslator, TResult};

impl FuncTranslator<'_, '_> {
    /// SIMD operators outside the op table; `Ok(false)` otherwise.
    pub(super) fn simd_op(&mut self, op: &Operator<'_>) -> TResult<bool> {
        match op {
            Operator::V128Const { value } => {
                let v = self.v128_const(u128::from_le_bytes(*value.bytes()));
                self.push(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
