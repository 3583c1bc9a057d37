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

/// Fuel for one top-level call on an engine that, besides at most one unit
/// per operator, charges `bytes / bytes_per_fuel` for the bytes a bulk
/// memory or table operation or a growth touches (wasmi, with 8-byte table
/// slots). No such operation touches more than the largest memory or
/// table can hold (growth past the caps is refused before any charge), so
/// every operator costs at most `1 + largest / bytes_per_fuel`, and one
/// refused growth (which ends the execution) as much again.
pub fn fuel_budget_bulk(module: &Module, limits: &Limits, bytes_per_fuel: u64) -> Option<u64> {
    let base = fuel_budget(module, limits)?;
    let per_op = 1 + largest_entity_bytes(module, limits) / bytes_per_fuel.max(1);
    Some(base.saturating_mul(per_op).saturating_add(per_op))
}

/// The most bytes any memory or table (8 bytes a slot) of `module` can
/// reach under `limits`' caps.
fn largest_entity_bytes(module: &Module, limits: &Limits) -> u64 {
    let memory = module
        .memories
        .iter()
        .map(|m| {
            let absolute = if m.memory64 { 1u64 << 48 } else { 1 << 16 };
            let pages = m.limits.max.unwrap_or(absolute).min(absolute);
            pages
                .min(limits.max_memory_pages)
                .saturating_mul(crate::values::PAGE_SIZE)
        })
        .max()
        .unwrap_or(0);
    let table = module
        .tables
        .iter()
        .map(|t| {
            let absolute = if t.table64 { u64::MAX } else { u32::MAX.into() };
            let elems = t.limits.max.unwrap_or(absolute).min(absolute);
            elems.min(limits.max_table_elems).saturating_mul(8)
        })
        .max()
        .unwrap_or(0);
    memory.max(table)
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

    #[test]
    fn bulk_budget_covers_the_largest_entity() {
        let m = crate::external::wat_module("(module (memory 1 2) (table 5 6 funcref) (func))");
        let limits = Limits {
            fuel: Some(0),
            ..Limits::default()
        };
        let base = fuel_budget(&m, &limits).unwrap();
        // 2 pages of memory at 4096 bytes a unit: 32 units.
        assert_eq!(fuel_budget_bulk(&m, &limits, 4096), Some(base * 33 + 33));
        let capped = Limits {
            max_memory_pages: 1,
            ..limits
        };
        assert_eq!(fuel_budget_bulk(&m, &capped, 4096), Some(base * 17 + 17));
    }
}
