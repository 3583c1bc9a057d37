//! Outcome comparison that is exact everywhere the spec is deterministic and
//! tolerant only of NaN payloads, where the spec leaves them open.
//!
//! * Scalar `f32`/`f64` values: any NaN equals any NaN; otherwise bit-exact
//!   (so `-0.0 != +0.0`).
//! * `v128` values, memories and `v128` globals carry no lane type: two
//!   differing 32- or 64-bit windows are tolerated only when both sides are
//!   NaNs of that width (the generators' NaN modes keep payload-carrying NaNs
//!   out of memory; this is the safety net, not the primary defence).

use shoal_runtime::num::{is_arithmetic_nan_f32, is_arithmetic_nan_f64};
use shoal_runtime::{Trap, Value};

use crate::execute::{Execution, FinalState, InvokeOutcome};

fn f32_nan(bits: u32) -> bool {
    bits & 0x7f80_0000 == 0x7f80_0000 && bits & 0x007f_ffff != 0
}

fn f64_nan(bits: u64) -> bool {
    bits & 0x7ff0_0000_0000_0000 == 0x7ff0_0000_0000_0000 && bits & 0x000f_ffff_ffff_ffff != 0
}

/// NaN-tolerant equality of two values.
pub fn value_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::F32(x), Value::F32(y)) => x == y || (f32_nan(*x) && f32_nan(*y)),
        (Value::F64(x), Value::F64(y)) => x == y || (f64_nan(*x) && f64_nan(*y)),
        (Value::V128(x), Value::V128(y)) => bytes_eq(&x.to_le_bytes(), &y.to_le_bytes()),
        _ => a == b,
    }
}

/// Byte-exact equality, except that differing bytes are tolerated when they
/// lie inside a 4-byte window holding an f32 NaN on both sides or an 8-byte
/// window holding an f64 NaN on both sides.
pub fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    first_difference(a, b).is_none()
}

/// The first byte offset whose difference is not explained by NaN payloads.
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    if a.len() != b.len() {
        return Some(a.len().min(b.len()));
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] == b[i] {
            i += 1;
            continue;
        }
        match nan_window_end(a, b, i) {
            Some(end) => i = end,
            None => return Some(i),
        }
    }
    None
}

/// If byte `i` is covered by a window where both sides hold NaNs, returns the
/// window's end.
fn nan_window_end(a: &[u8], b: &[u8], i: usize) -> Option<usize> {
    for width in [8usize, 4] {
        let lo = i.saturating_sub(width - 1);
        for start in lo..=i {
            let end = start + width;
            if end > a.len() {
                break;
            }
            if both_nan(&a[start..end], &b[start..end]) {
                return Some(end);
            }
        }
    }
    None
}

fn both_nan(a: &[u8], b: &[u8]) -> bool {
    match a.len() {
        4 => {
            let x = u32::from_le_bytes(a.try_into().unwrap_or_default());
            let y = u32::from_le_bytes(b.try_into().unwrap_or_default());
            f32_nan(x) && f32_nan(y)
        }
        _ => {
            let x = u64::from_le_bytes(a.try_into().unwrap_or_default());
            let y = u64::from_le_bytes(b.try_into().unwrap_or_default());
            f64_nan(x) && f64_nan(y)
        }
    }
}

/// True if a value is a NaN the spec calls arithmetic (quiet), for reports.
pub fn is_arithmetic_nan(v: &Value) -> bool {
    match v {
        Value::F32(b) => is_arithmetic_nan_f32(*b),
        Value::F64(b) => is_arithmetic_nan_f64(*b),
        _ => false,
    }
}

/// What differs between two executions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    /// One instantiated and the other did not, or they trapped differently
    /// during instantiation.
    Instantiation,
    /// Invocation `index` returned or trapped differently.
    Invocation {
        /// Index into the case's invocations.
        index: usize,
    },
    /// Exported memory `name` differs first at `offset`.
    Memory {
        /// Export name.
        name: String,
        /// First differing byte.
        offset: usize,
    },
    /// Exported global `name` differs.
    Global {
        /// Export name.
        name: String,
    },
    /// Exported table `name` differs first at `index`.
    Table {
        /// Export name.
        name: String,
        /// First differing element.
        index: usize,
    },
    /// One execution failed inside the engine.
    EngineFailure,
}

impl Difference {
    /// A short stable kind name for signatures.
    pub fn kind(&self) -> &'static str {
        match self {
            Difference::Instantiation => "instantiation",
            Difference::Invocation { .. } => "invocation",
            Difference::Memory { .. } => "memory",
            Difference::Global { .. } => "global",
            Difference::Table { .. } => "table",
            Difference::EngineFailure => "engine-failure",
        }
    }
}

/// How faithfully an execution follows shoal's execution model, which
/// decides how it is compared (see [`Scope`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fidelity {
    /// A shoal engine: fuel, call depth and every trap kind exactly as
    /// `shoal_runtime::trap` specifies. Compared on everything.
    Exact,
    /// An external engine (wasmtime, wasmi; `shoal_runtime::external`):
    /// its fuel and stack bounds are its own, and it reports an
    /// out-of-bounds `call_indirect` index as an out-of-bounds table
    /// access. It is not compared from the invocation where the reference
    /// or it ran out of fuel or call depth on (nor on final state then),
    /// and `table out of bounds` equals `undefined element` for it.
    External,
}

/// What to compare of two executions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    /// Compare only this many invocations and no final state (`None`:
    /// every invocation, then the final state).
    pub invocations: Option<usize>,
    /// Treat [`Trap::TableOutOfBounds`] and [`Trap::UndefinedElement`] as
    /// one kind (an [`Fidelity::External`] execution is involved).
    pub merge_table_traps: bool,
}

impl Scope {
    /// Everything, exactly.
    pub const FULL: Scope = Scope {
        invocations: None,
        merge_table_traps: false,
    };
}

fn trap_eq(x: Trap, y: Trap, scope: Scope) -> bool {
    let table = |t: Trap| matches!(t, Trap::TableOutOfBounds | Trap::UndefinedElement);
    x == y || (scope.merge_table_traps && table(x) && table(y))
}

fn invoke_eq(a: &InvokeOutcome, b: &InvokeOutcome, scope: Scope) -> bool {
    match (a, b) {
        (InvokeOutcome::Ok(x), InvokeOutcome::Ok(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| value_eq(p, q))
        }
        (InvokeOutcome::Trap(x), InvokeOutcome::Trap(y)) => trap_eq(*x, *y, scope),
        _ => false,
    }
}

/// The first difference between two executions, `None` if they agree.
/// Inconclusive executions must be filtered out before comparing.
pub fn diff(a: &Execution, b: &Execution) -> Option<Difference> {
    diff_in(a, b, Scope::FULL)
}

/// The first difference within `scope`, `None` if they agree there.
pub fn diff_in(a: &Execution, b: &Execution, scope: Scope) -> Option<Difference> {
    match (a, b) {
        (
            Execution::Ran {
                invocations: ia,
                state: sa,
            },
            Execution::Ran {
                invocations: ib,
                state: sb,
            },
        ) => {
            let n = scope.invocations.unwrap_or(ia.len().max(ib.len()));
            if let Some(index) = (0..n).find(|&i| match (ia.get(i), ib.get(i)) {
                (Some(x), Some(y)) => !invoke_eq(x, y, scope),
                _ => true,
            }) {
                return Some(Difference::Invocation { index });
            }
            match scope.invocations {
                None => diff_state(sa, sb),
                Some(_) => None,
            }
        }
        (Execution::InstantiationTrap(x), Execution::InstantiationTrap(y))
            if trap_eq(*x, *y, scope) =>
        {
            None
        }
        (Execution::EngineFailure(_), _) | (_, Execution::EngineFailure(_)) => {
            Some(Difference::EngineFailure)
        }
        _ => Some(Difference::Instantiation),
    }
}

fn diff_state(a: &FinalState, b: &FinalState) -> Option<Difference> {
    for ((name, ma), (_, mb)) in a.memories.iter().zip(&b.memories) {
        if let Some(offset) = first_difference(ma, mb) {
            return Some(Difference::Memory {
                name: name.clone(),
                offset,
            });
        }
    }
    for ((name, ga), (_, gb)) in a.globals.iter().zip(&b.globals) {
        if !value_eq(ga, gb) {
            return Some(Difference::Global { name: name.clone() });
        }
    }
    for ((name, ta), (_, tb)) in a.tables.iter().zip(&b.tables) {
        if let Some(index) = (0..ta.len().max(tb.len())).find(|&i| ta.get(i) != tb.get(i)) {
            return Some(Difference::Table {
                name: name.clone(),
                index,
            });
        }
    }
    let shape = |s: &FinalState| (s.memories.len(), s.globals.len(), s.tables.len());
    (shape(a) != shape(b)).then_some(Difference::Instantiation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::FinalState;

    #[test]
    fn scalar_nans_agree_but_zero_signs_do_not() {
        assert!(value_eq(&Value::F32(0x7fc0_0000), &Value::F32(0xffc0_0001)));
        assert!(!value_eq(&Value::F32(0x8000_0000), &Value::F32(0)));
        assert!(value_eq(
            &Value::F64(0x7ff8_0000_0000_0001),
            &Value::F64(0x7ff4_0000_0000_0000)
        ));
        assert!(!value_eq(
            &Value::F64(0x7ff0_0000_0000_0000),
            &Value::F64(0x7ff8_0000_0000_0000)
        ));
    }

    #[test]
    fn v128_nan_lanes_tolerated_other_lanes_exact() {
        let a = 0x7fc0_0000u128 | (5u128 << 32);
        let b = 0x7fc0_1234u128 | (5u128 << 32);
        assert!(value_eq(&Value::V128(a), &Value::V128(b)));
        let c = 0x7fc0_1234u128 | (6u128 << 32);
        assert!(!value_eq(&Value::V128(a), &Value::V128(c)));
    }

    #[test]
    fn scopes_limit_what_is_compared() {
        let ran = |outcomes: Vec<InvokeOutcome>, mem: u8| Execution::Ran {
            invocations: outcomes,
            state: FinalState {
                memories: vec![("m".into(), vec![mem])],
                ..FinalState::default()
            },
        };
        let ok = |v| InvokeOutcome::Ok(vec![Value::I32(v)]);
        let a = ran(vec![ok(1), ok(2)], 0);
        let b = ran(vec![ok(1), ok(3)], 1);
        assert_eq!(diff(&a, &b), Some(Difference::Invocation { index: 1 }));
        let first = Scope {
            invocations: Some(1),
            merge_table_traps: false,
        };
        assert_eq!(
            diff_in(&a, &b, first),
            None,
            "neither invocation 1 nor state"
        );
        let truncated = ran(vec![ok(1)], 7);
        assert_eq!(diff_in(&a, &truncated, first), None);
        assert!(diff(&a, &truncated).is_some());
        let t = |k| ran(vec![InvokeOutcome::Trap(k)], 0);
        let (oob, undef) = (t(Trap::TableOutOfBounds), t(Trap::UndefinedElement));
        assert!(diff(&oob, &undef).is_some());
        let merged = Scope {
            merge_table_traps: true,
            ..Scope::FULL
        };
        assert_eq!(diff_in(&oob, &undef, merged), None);
        assert!(diff_in(&oob, &t(Trap::Unreachable), merged).is_some());
    }

    #[test]
    fn memory_difference_located() {
        let a = [0u8, 1, 2, 3, 4, 5, 6, 7];
        let mut b = a;
        b[5] = 9;
        assert_eq!(first_difference(&a, &b), Some(5));
        let mut c = [0u8; 8];
        c[1..5].copy_from_slice(&0x7fc0_0000u32.to_le_bytes());
        let mut d = c;
        d[1..5].copy_from_slice(&0x7fc0_0077u32.to_le_bytes());
        assert_eq!(first_difference(&c, &d), None);
    }
}
