//! Resource bounds for external engines: generous fuel and recursion
//! budgets (see the module docs of [`super`] for why they are generous
//! rather than exact) and the growth caps at instantiation.

use crate::engine::InstantiateError;
use crate::module::Module;
use crate::trap::Limits;

/// Native stack (bytes) wasmtime may use for wasm frames. Wasmtime runs
/// wasm on the calling thread's stack, so the thread needs at least twice
/// this (Rust's default for spawned threads, 2 MiB, is enough).
pub const MAX_WASM_STACK: usize = 1 << 20;

/// Safety factor on top of the proven bound of [`fuel_budget`].
const SLACK: u64 = 4;

/// Fuel for one top-level call on an engine that charges at most one unit
/// per executed wasm operator (wasmtime and wasmi with the cost settings
/// the adapters use), or `None` for unlimited fuel.
///
/// Bound: between two consecutive fuel charges of shoal's model in one
/// frame (function entry, loop iteration), control in that frame only
/// moves forward, so it executes at most `S` operators, `S` being the
/// longest function body; a call that does not run out of shoal's fuel `F`
/// has at most `F + 1` charges, hence executes at most `(F + 1) * S`
/// operators. The budget is that times [`SLACK`] (plus a little), so an
/// external engine exhausting it means the reference ran out first or the
/// engine itself misbehaves — never a difference worth a finding.
pub fn fuel_budget(module: &Module, limits: &Limits) -> Option<u64> {
    let fuel = limits.fuel?;
    let longest = longest_body(module);
    Some(
        fuel.saturating_add(2)
            .saturating_mul(longest.saturating_add(2))
            .saturating_mul(SLACK),
    )
}

/// Operators in the longest function body (0 without bodies).
fn longest_body(module: &Module) -> u64 {
    (0..module.bodies.len() as u32)
        .map(|i| {
            module
                .body(i)
                .get_operators_reader()
                .map(|r| r.into_iter().count() as u64)
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0)
}

/// Recursion depth allowed to an engine that counts frames (wasmi): well
/// above `max_call_depth`, so only the reference's own limit decides.
pub fn recursion_bound(limits: &Limits) -> usize {
    usize::try_from(limits.max_call_depth)
        .unwrap_or(usize::MAX)
        .saturating_mul(2)
        .saturating_add(64)
}

/// Refuses modules whose own memories or tables start above the caps, as
/// shoal's engines do.
pub fn check_caps(module: &Module, limits: &Limits) -> Result<(), InstantiateError> {
    let own_mems = &module.memories[module.num_imported_memories as usize..];
    if let Some(m) = own_mems
        .iter()
        .find(|m| m.limits.min > limits.max_memory_pages)
    {
        return Err(InstantiateError::Resource(format!(
            "memory of {} pages exceeds the cap of {} pages",
            m.limits.min, limits.max_memory_pages
        )));
    }
    let own_tables = &module.tables[module.num_imported_tables as usize..];
    if let Some(t) = own_tables
        .iter()
        .find(|t| t.limits.min > limits.max_table_elems)
    {
        return Err(InstantiateError::Resource(format!(
            "table of {} elements exceeds the cap of {} elements",
            t.limits.min, limits.max_table_elems
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_scales_with_fuel_and_body_length() {
        let m = crate::external::wat_module("(module (func nop nop nop) (func (loop br 0)))");
        assert_eq!(longest_body(&m), 4, "three nops and the end");
        let limits = Limits {
            fuel: Some(10),
            ..Limits::default()
        };
        assert_eq!(fuel_budget(&m, &limits), Some(12 * 6 * SLACK));
        assert_eq!(fuel_budget(&m, &Limits::default()), None);
        assert!(recursion_bound(&limits) > limits.max_call_depth as usize);
    }
}
