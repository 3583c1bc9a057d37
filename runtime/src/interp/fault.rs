//! Test-only fault injection: an interpreter that computes one operator
//! wrongly, so the oracles' tests can check that a wrong *reference* is
//! outvoted, attributed and reported.
//!
//! The fault is applied when a function is translated (every occurrence of
//! the chosen operator becomes another operator of the same arity), so the
//! executor is untouched and an interpreter without a fault pays nothing.
//! Only the one-to-one numeric, comparison and conversion operators can be
//! swapped.

use super::code::Op;
use super::ops::{same_name, same_name_operator};
use super::store::InterpStore;
use super::translate::NoModule;
use crate::engine::{Engine, Store};
use crate::trap::Limits;

/// "Translate every `wasm` operator as `emit`", e.g. `i32.add` → `i32.sub`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterpFault {
    /// Text-format name of the operator to mistranslate.
    pub wasm: &'static str,
    /// Text-format name of the operator executed instead.
    pub emit: &'static str,
    from: Op,
    to: Op,
}

impl InterpFault {
    /// A fault swapping `wasm` for `emit` (text-format names such as
    /// `i32.add`, `f64.convert_i32_s`). Both must be one-to-one operators
    /// with the same numbers of operands and results.
    pub fn new(wasm: &str, emit: &str) -> Result<InterpFault, String> {
        let (from, from_arity, wasm) = lookup(wasm)?;
        let (to, to_arity, emit) = lookup(emit)?;
        if from_arity != to_arity {
            return Err(format!(
                "interp fault: `{wasm}` and `{emit}` differ in arity ({from_arity:?} vs {to_arity:?})"
            ));
        }
        Ok(InterpFault {
            wasm,
            emit,
            from,
            to,
        })
    }

    /// The op to emit in place of `op`.
    pub(crate) fn apply(self, op: Op) -> Op {
        if op == self.from { self.to } else { op }
    }
}

impl std::hash::Hash for InterpFault {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // The names determine the ops.
        (self.wasm, self.emit).hash(state);
    }
}

/// The op, arity and interned name of a text-format operator name.
fn lookup(name: &str) -> Result<(Op, (u32, u32), &'static str), String> {
    let operator = same_name_operator(&camel_case(name))
        .ok_or_else(|| format!("interp fault: `{name}` is not a one-to-one operator"))?;
    let op = same_name(&operator)
        .ok_or_else(|| format!("interp fault: `{name}` is not a one-to-one operator"))?;
    let arity = operator
        .operator_arity(&NoModule)
        .ok_or_else(|| format!("interp fault: `{name}` has no fixed arity"))?;
    Ok((op, arity, intern(name)))
}

/// `i32.trunc_sat_f32_s` → `I32TruncSatF32S` (wasmparser's variant names).
fn camel_case(name: &str) -> String {
    name.split(['.', '_'])
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Operator names live as long as the program (there are finitely many).
fn intern(name: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut guard = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let set = guard.get_or_insert_with(HashSet::new);
    if let Some(s) = set.get(name) {
        return s;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// An interpreter whose stores mistranslate per an [`InterpFault`].
#[derive(Clone, Copy, Debug)]
pub struct FaultyInterpEngine {
    fault: InterpFault,
}

impl FaultyInterpEngine {
    /// An interpreter with `fault` injected.
    pub fn new(fault: InterpFault) -> FaultyInterpEngine {
        FaultyInterpEngine { fault }
    }

    /// The injected fault.
    pub fn fault(&self) -> InterpFault {
        self.fault
    }
}

impl Engine for FaultyInterpEngine {
    fn name(&self) -> String {
        format!("interp(fault={}->{})", self.fault.wasm, self.fault.emit)
    }

    fn new_store(&self, limits: Limits) -> Box<dyn Store> {
        let mut store = InterpStore::new(limits);
        store.fault = Some(self.fault);
        Box::new(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_and_arities_must_match() {
        let f = InterpFault::new("i32.add", "i32.sub").unwrap();
        assert_eq!((f.wasm, f.emit), ("i32.add", "i32.sub"));
        assert_eq!(f.apply(Op::I32Add), Op::I32Sub);
        assert_eq!(f.apply(Op::I32Mul), Op::I32Mul);
        assert!(InterpFault::new("i64.trunc_sat_f64_u", "i64.trunc_f64_s").is_ok());
        assert!(InterpFault::new("i32.add", "i32.eqz").is_err(), "arity");
        assert!(InterpFault::new("i32.const", "i32.add").is_err());
        assert!(InterpFault::new("i32.nope", "i32.add").is_err());
    }
}
