//! The WebAssembly interpreter: shoal's reference oracle.
//!
//! [`InterpEngine`] implements [`Engine`]; its stores ([`InterpStore`])
//! implement [`crate::engine::Store`]. Semantics: WebAssembly 2.0 plus
//! multi-memory, memory64 (64-bit tables too), tail calls and extended
//! constant expressions; non-memory SIMD instructions are delegated to
//! [`crate::simd`].
//!
//! Each defined function is translated once, when its instance is created,
//! into a compact pre-decoded form (module `code`) with branch targets,
//! stack heights and the instance's store addresses resolved; the executor
//! (module `exec`) is a single loop over that form with frames on a `Vec`,
//! so deep wasm recursion never touches the host stack. The start function
//! runs like a top-level call: fresh fuel, depth 1.
//!
//! Resource limits come from [`Limits`]: fuel, call depth, and the growth
//! caps (`memory.grow`/`table.grow` past them return -1). A module whose
//! own memories or tables start above the caps fails to instantiate with
//! `InstantiateError::Resource`.

pub mod bench;
mod code;
mod exec;
mod fault;
mod instantiate;
mod memory;
mod ops;
mod slots;
mod store;
mod table;
mod translate;

pub use fault::{FaultyInterpEngine, InterpFault};
pub use store::InterpStore;

use crate::engine::{Engine, Store};
use crate::trap::Limits;

/// The interpreter engine (stateless: a factory of [`InterpStore`]s).
#[derive(Clone, Copy, Debug, Default)]
pub struct InterpEngine;

impl InterpEngine {
    /// A new interpreter engine.
    pub fn new() -> InterpEngine {
        InterpEngine
    }

    /// A fresh store, with its concrete type (for instruction counting).
    pub fn interp_store(&self, limits: Limits) -> InterpStore {
        InterpStore::new(limits)
    }
}

impl Engine for InterpEngine {
    fn name(&self) -> String {
        "interp".to_string()
    }

    fn new_store(&self, limits: Limits) -> Box<dyn Store> {
        Box::new(InterpStore::new(limits))
    }
}
