//! External wasm engines behind cargo features, as adapters of the
//! [`Engine`](crate::engine::Engine)/[`Store`](crate::engine::Store) API:
//! `wasmtime` 48.0.8 (module [`wasmtime`], the same Cranelift 0.135.8 as
//! shoal's JIT, with its native Cranelift strategy and with Pulley) and
//! `wasmi` 2.0 (module [`wasmi`]). Without the features this module is
//! empty and neither crate is built.
//!
//! # What the adapters model exactly
//!
//! * **Values and traps**: values convert bit-exactly (floats as bits, no
//!   NaN canonicalisation in either engine; the oracles' comparison decides
//!   which NaN payload differences matter). Trap codes map one-to-one onto
//!   [`Trap`](crate::trap::Trap), with one exception: neither engine tells
//!   an out-of-bounds `call_indirect` index (the spec's "undefined
//!   element", [`Trap::UndefinedElement`](crate::trap::Trap)) from an
//!   out-of-bounds table access; both are reported as
//!   [`Trap::TableOutOfBounds`](crate::trap::Trap), and the oracles treat
//!   the two kinds as one for external executions.
//! * **Growth caps**: a resource limiter refuses any `memory.grow` or
//!   `table.grow` past [`Limits`](crate::trap::Limits)' `max_memory_pages`
//!   / `max_table_elems` (and past the declared maximum), so such growth
//!   returns -1 exactly where shoal's engines return -1. A module whose own
//!   memories or tables start above the caps fails to instantiate with
//!   [`InstantiateError::Resource`](crate::engine::InstantiateError), as in
//!   shoal's engines. Growth the engine attempts but the host cannot
//!   satisfy is reported as an [`Incident::Refused`](crate::incident::Incident)
//!   (inconclusive), never as a deterministic -1.
//! * **Function addresses**: functions, tables, memories and globals get
//!   store addresses in the spec's allocation order, like every shoal
//!   store, so `funcref` values compare with `==` across engines. To map a
//!   reference coming out of the engine back to an address, the adapters
//!   instantiate a copy of the module that additionally exports every
//!   entity under reserved names (see [`export_everything`]); the copy
//!   differs only in its export section.
//!
//! # What they cannot model: fuel and call depth
//!
//! shoal's engines charge one unit of fuel per function entry and per loop
//! iteration and count call depth in frames
//! ([`Limits`](crate::trap::Limits)). Wasmtime meters fuel per operator and
//! bounds the native stack in bytes; wasmi meters per instruction and
//! bounds its own stacks. Neither can run out at the same point, so:
//!
//! 1. Each top-level call gets a *generous* budget, large enough that an
//!    execution that stays within shoal's fuel cannot exhaust it (see
//!    [`fuel_budget`]), and a native stack / recursion bound well above
//!    what `max_call_depth` frames need.
//! 2. An external engine's own exhaustion surfaces as
//!    [`Trap::OutOfFuel`](crate::trap::Trap) or
//!    [`Trap::CallStackExhausted`](crate::trap::Trap). For an external
//!    execution the oracles read these as "inconclusive from this
//!    invocation on", never as a finding.
//! 3. When the reference execution runs out of fuel or call depth at
//!    invocation *k*, the oracles do not run (or compare) external
//!    executions from invocation *k* on, nor their final state.
//!
//! The rules are implemented by the oracles (`shoal-oracles`' engine
//! kinds carry a "limits are approximate" flag); the adapters only make the
//! budgets generous and report exhaustion with those two trap kinds.

#[cfg(feature = "wasmi")]
pub mod wasmi;
#[cfg(feature = "wasmtime")]
pub mod wasmtime;

#[cfg(any(test, feature = "wasmtime", feature = "wasmi"))]
mod rewrite;
#[cfg(any(test, feature = "wasmtime", feature = "wasmi"))]
pub use rewrite::{ExportNames, export_everything};

#[cfg(any(test, feature = "wasmtime", feature = "wasmi"))]
mod budget;
#[cfg(any(test, feature = "wasmtime", feature = "wasmi"))]
pub use budget::{MAX_WASM_STACK, check_caps, fuel_budget, fuel_budget_bulk, recursion_bound};

/// Encodes and validates a text-format module (tests).
#[cfg(test)]
pub(crate) fn wat_module(text: &str) -> crate::module::Module {
    let buf = ::wast::parser::ParseBuffer::new(text).expect("test module lexes");
    let mut wat: ::wast::Wat = ::wast::parser::parse(&buf).expect("test module parses");
    let bytes = wat.encode().expect("test module encodes");
    crate::module::Module::new(&bytes).expect("test module validates")
}
