//! The embedding API every wasm engine implements.
//!
//! It follows the spec's abstract store: a [`Store`] owns functions, tables,
//! memories and globals, addressed by small integers; instantiating a module
//! allocates its entities and returns an [`InstanceId`]. Host code (the
//! spectest harness, the oracles) resolves imports itself and passes the
//! matching [`Extern`]s in import order. Stores of different engines fed the
//! same sequence of calls allocate the same addresses, so their outcomes —
//! funcref values included — compare with `==`.

use crate::module::{ExternType, Module, ModuleError};
use crate::trap::{Limits, Trap};
use crate::values::{FuncAddr, FuncType, GlobalType, MemoryType, TableType, Value};

/// Address of a global in a store.
pub type GlobalAddr = u32;
/// Address of a memory in a store.
pub type MemAddr = u32;
/// Address of a table in a store.
pub type TableAddr = u32;

/// An instance in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceId(pub u32);

/// An entity that can be imported or exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extern {
    /// A function.
    Func(FuncAddr),
    /// A table.
    Table(TableAddr),
    /// A memory.
    Memory(MemAddr),
    /// A global.
    Global(GlobalAddr),
}

/// A host function: receives its arguments, returns its results or a trap.
pub type HostFunc = Box<dyn FnMut(&[Value]) -> Result<Vec<Value>, Trap>>;

/// Why instantiation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstantiateError {
    /// The module failed validation or needs an unsupported feature.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// Wrong number of imports, or an import of the wrong kind or type
    /// ("incompatible import type").
    #[error("incompatible import type: {0}")]
    Link(String),
    /// A trap while initializing (segment out of bounds, start function).
    /// Per the spec, effects of earlier segments stay visible.
    #[error("instantiation trapped: {0}")]
    Trap(Trap),
    /// The engine itself failed (e.g. a Cranelift compile error): for an
    /// engine under test this is a finding, not a property of the module.
    #[error("engine failure: {0}")]
    Engine(String),
    /// A non-deterministic resource limit (host memory allocation).
    #[error("resource limit: {0}")]
    Resource(String),
}

/// A wasm engine: a factory of stores.
pub trait Engine {
    /// A printable name including its configuration, e.g. `jit(opt=speed,isa=sse2)`.
    fn name(&self) -> String;
    /// A fresh, empty store with the given limits.
    fn new_store(&self, limits: Limits) -> Box<dyn Store>;
}

/// A store: all runtime state of a set of instances, in one engine.
pub trait Store {
    /// Instantiates a validated module with `imports` (one per import, in order).
    fn instantiate(
        &mut self,
        module: &Module,
        imports: &[Extern],
    ) -> Result<InstanceId, InstantiateError>;

    /// The instance's exports, in export order.
    fn exports(&self, instance: InstanceId) -> Vec<(String, Extern)>;

    /// Looks up one export.
    fn export(&self, instance: InstanceId, name: &str) -> Option<Extern> {
        self.exports(instance)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
    }

    /// Calls a function with fresh fuel (per [`Limits`]). Arguments must match
    /// its type (callers check; engines may panic otherwise).
    fn call(&mut self, func: FuncAddr, args: &[Value]) -> Result<Vec<Value>, Trap>;

    /// Allocates a host function.
    fn alloc_host_func(&mut self, ty: FuncType, f: HostFunc) -> FuncAddr;
    /// Allocates a global.
    fn alloc_global(&mut self, ty: GlobalType, init: Value) -> GlobalAddr;
    /// Allocates a zeroed memory of `ty.limits.min` pages.
    fn alloc_memory(&mut self, ty: MemoryType) -> Result<MemAddr, InstantiateError>;
    /// Allocates a table of `ty.limits.min` elements set to `init`.
    fn alloc_table(&mut self, ty: TableType, init: Value) -> TableAddr;

    /// The current type of an entity (memories and tables report their
    /// current size as `min`, as import matching requires).
    fn extern_type(&self, e: Extern) -> ExternType;

    /// Reads a global.
    fn global_get(&self, g: GlobalAddr) -> Value;
    /// A memory's current contents.
    fn memory_data(&self, m: MemAddr) -> &[u8];
    /// A table's current size.
    fn table_size(&self, t: TableAddr) -> u64;
    /// Reads a table element; `None` when out of bounds.
    fn table_get(&self, t: TableAddr, idx: u64) -> Option<Value>;
}

/// Checks `imports` against `module`'s declared imports using the store's
/// current entity types; engines call this first in `instantiate`.
pub fn check_imports(
    store: &dyn Store,
    module: &Module,
    imports: &[Extern],
) -> Result<(), InstantiateError> {
    if imports.len() != module.imports.len() {
        return Err(InstantiateError::Link(format!(
            "module has {} imports, {} provided",
            module.imports.len(),
            imports.len()
        )));
    }
    for (imp, ext) in module.imports.iter().zip(imports) {
        let actual = store.extern_type(*ext);
        if !actual.matches(&imp.ty) {
            return Err(InstantiateError::Link(format!(
                "{}.{}: expected {:?}, got {:?}",
                imp.module, imp.name, imp.ty, actual
            )));
        }
    }
    Ok(())
}
