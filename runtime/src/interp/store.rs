//! The interpreter's store: entity instances, the code arena, and the
//! [`Store`] trait implementation.
//!
//! Addresses are indices into the per-kind vectors below, allocated
//! sequentially from 0 (host and wasm functions share one address space).
//! Function types are interned, so `call_indirect` compares small ids.

use std::collections::HashMap;

use super::code::{BrTarget, Op, SimdEntry, Slot, slot_to_value, value_to_slot};
use super::memory::MemInst;
use super::table::TableInst;
use crate::engine::{
    Extern, GlobalAddr, HostFunc, InstanceId, InstantiateError, MemAddr, Store, TableAddr,
};
use crate::module::{ExternType, Module};
use crate::trap::{Limits, Trap};
use crate::values::{FuncAddr, FuncType, GlobalType, MemoryType, TableType, Value};

/// A wasm function's translated form.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WasmFunc {
    /// Canonical type id.
    pub ty: u32,
    /// Position of its first op in the code arena.
    pub entry: u32,
    /// Parameter count.
    pub params: u32,
    /// Declared (zero-initialised) locals after the parameters.
    pub locals: u32,
    /// Result count.
    pub results: u32,
    /// Slots the frame needs: locals plus the maximum operand depth.
    pub frame_size: u32,
}

/// A host function and its signature.
pub(crate) struct HostFuncInst {
    /// Canonical type id.
    pub ty: u32,
    /// Signature (to type arguments and check results).
    pub sig: FuncType,
    /// The closure.
    pub f: HostFunc,
}

/// A function instance.
pub(crate) enum FuncInst {
    /// Defined in a module.
    Wasm(WasmFunc),
    /// Provided by the host.
    Host(HostFuncInst),
}

impl FuncInst {
    /// Canonical type id.
    pub fn ty(&self) -> u32 {
        match self {
            FuncInst::Wasm(w) => w.ty,
            FuncInst::Host(h) => h.ty,
        }
    }
}

/// A global instance.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GlobalInst {
    /// Its type.
    pub ty: GlobalType,
    /// Its value.
    pub value: Slot,
}

/// All entity instances of a store (everything execution may touch).
#[derive(Default)]
pub(crate) struct Runtime {
    /// Functions.
    pub funcs: Vec<FuncInst>,
    /// Tables.
    pub tables: Vec<TableInst>,
    /// Memories.
    pub memories: Vec<MemInst>,
    /// Globals.
    pub globals: Vec<GlobalInst>,
    /// Element segments (dropped ones are empty).
    pub elems: Vec<Vec<u64>>,
    /// Data segments (dropped ones are empty).
    pub datas: Vec<Vec<u8>>,
}

/// Translated code of every function in the store.
#[derive(Default, Debug)]
pub(crate) struct CodeArena {
    /// Instructions.
    pub ops: Vec<Op>,
    /// `br_table` entries.
    pub br_tables: Vec<BrTarget>,
    /// `v128.const` values.
    pub v128s: Vec<u128>,
    /// Non-memory SIMD instructions.
    pub simd: Vec<SimdEntry>,
}

/// Arena lengths, to undo a failed translation.
pub(crate) struct ArenaMark([usize; 4]);

impl CodeArena {
    /// The current lengths.
    pub fn mark(&self) -> ArenaMark {
        ArenaMark([
            self.ops.len(),
            self.br_tables.len(),
            self.v128s.len(),
            self.simd.len(),
        ])
    }

    /// Forgets everything added since `m`.
    pub fn rollback(&mut self, m: ArenaMark) {
        self.ops.truncate(m.0[0]);
        self.br_tables.truncate(m.0[1]);
        self.v128s.truncate(m.0[2]);
        self.simd.truncate(m.0[3]);
    }
}

/// A suspended caller.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    /// Where the caller continues.
    pub ret_pc: usize,
    /// The caller's frame base.
    pub fp: usize,
}

/// Execution state reused across calls.
#[derive(Default)]
pub(crate) struct ExecState {
    /// Value stack (locals and operands of every active frame).
    pub stack: Vec<Slot>,
    /// Suspended callers of the running function.
    pub frames: Vec<Frame>,
    /// Fuel left in the current top-level call.
    pub fuel: u64,
    /// Count executed ops (benchmarks).
    pub counting: bool,
    /// Ops executed while counting.
    pub executed: u64,
}

/// Interned function types.
#[derive(Default)]
pub(crate) struct Types {
    list: Vec<FuncType>,
    ids: HashMap<FuncType, u32>,
}

impl Types {
    /// The canonical id of `ty`.
    pub fn intern(&mut self, ty: &FuncType) -> u32 {
        if let Some(&id) = self.ids.get(ty) {
            return id;
        }
        let id = self.list.len() as u32;
        self.list.push(ty.clone());
        self.ids.insert(ty.clone(), id);
        id
    }

    /// The type with id `id`.
    pub fn get(&self, id: u32) -> &FuncType {
        &self.list[id as usize]
    }
}

/// The interpreter's store. Create one with
/// [`InterpEngine`](super::InterpEngine) or [`InterpStore::new`].
pub struct InterpStore {
    pub(crate) limits: Limits,
    pub(crate) rt: Runtime,
    pub(crate) code: CodeArena,
    pub(crate) exec: ExecState,
    pub(crate) types: Types,
    pub(crate) instances: Vec<Vec<(String, Extern)>>,
    /// Test-only mistranslation applied to every function instantiated.
    pub(crate) fault: Option<super::fault::InterpFault>,
}

impl InterpStore {
    /// An empty store with the given limits.
    pub fn new(limits: Limits) -> InterpStore {
        InterpStore {
            limits,
            rt: Runtime::default(),
            code: CodeArena::default(),
            exec: ExecState::default(),
            types: Types::default(),
            instances: Vec::new(),
            fault: None,
        }
    }

    /// Turns counting of executed instructions on or off (off by default;
    /// counting runs a separately compiled copy of the interpreter loop).
    pub fn set_counting(&mut self, on: bool) {
        self.exec.counting = on;
    }

    /// Instructions executed while counting was on. "Instructions" are the
    /// pre-decoded ops: `nop`, `block`, `end` and reinterpretations cost
    /// none, every other wasm instruction is one op.
    pub fn instructions_executed(&self) -> u64 {
        self.exec.executed
    }

    /// Allocates a zeroed memory of `ty.limits.min` pages, refusing sizes
    /// above the growth cap (or that the host cannot allocate).
    pub(crate) fn push_memory(&mut self, ty: MemoryType) -> Result<MemAddr, InstantiateError> {
        let pages = ty.limits.min;
        let cap = self.limits.max_memory_pages;
        if pages > cap {
            return Err(InstantiateError::Resource(format!(
                "memory of {pages} pages exceeds the cap of {cap} pages"
            )));
        }
        let mem = MemInst::new(ty, pages).ok_or_else(|| {
            InstantiateError::Resource(format!("cannot allocate a memory of {pages} pages"))
        })?;
        self.rt.memories.push(mem);
        Ok(self.rt.memories.len() as u32 - 1)
    }
}

impl Store for InterpStore {
    fn instantiate(
        &mut self,
        module: &Module,
        imports: &[Extern],
    ) -> Result<InstanceId, InstantiateError> {
        super::instantiate::instantiate(self, module, imports)
    }

    fn exports(&self, instance: InstanceId) -> Vec<(String, Extern)> {
        self.instances
            .get(instance.0 as usize)
            .cloned()
            .unwrap_or_default()
    }

    fn call(&mut self, func: FuncAddr, args: &[Value]) -> Result<Vec<Value>, Trap> {
        super::exec::invoke(self, func, args)
    }

    fn alloc_host_func(&mut self, ty: FuncType, f: HostFunc) -> FuncAddr {
        let id = self.types.intern(&ty);
        self.rt
            .funcs
            .push(FuncInst::Host(HostFuncInst { ty: id, sig: ty, f }));
        self.rt.funcs.len() as u32 - 1
    }

    fn alloc_global(&mut self, ty: GlobalType, init: Value) -> GlobalAddr {
        self.rt.globals.push(GlobalInst {
            ty,
            value: value_to_slot(init),
        });
        self.rt.globals.len() as u32 - 1
    }

    fn alloc_memory(&mut self, ty: MemoryType) -> Result<MemAddr, InstantiateError> {
        self.push_memory(ty)
    }

    fn alloc_table(&mut self, ty: TableType, init: Value) -> TableAddr {
        let elem = value_to_slot(init) as u64;
        self.rt.tables.push(TableInst {
            ty,
            elems: vec![elem; ty.limits.min as usize],
        });
        self.rt.tables.len() as u32 - 1
    }

    fn extern_type(&self, e: Extern) -> ExternType {
        match e {
            Extern::Func(a) => {
                ExternType::Func(self.types.get(self.rt.funcs[a as usize].ty()).clone())
            }
            Extern::Table(a) => {
                let t = &self.rt.tables[a as usize];
                let mut ty = t.ty;
                ty.limits.min = t.elems.len() as u64;
                ExternType::Table(ty)
            }
            Extern::Memory(a) => {
                let m = &self.rt.memories[a as usize];
                let mut ty = m.ty;
                ty.limits.min = m.pages();
                ExternType::Memory(ty)
            }
            Extern::Global(a) => ExternType::Global(self.rt.globals[a as usize].ty),
        }
    }

    fn global_get(&self, g: GlobalAddr) -> Value {
        let gl = &self.rt.globals[g as usize];
        slot_to_value(gl.value, gl.ty.ty)
    }

    fn memory_data(&self, m: MemAddr) -> &[u8] {
        &self.rt.memories[m as usize].data
    }

    fn table_size(&self, t: TableAddr) -> u64 {
        self.rt.tables[t as usize].elems.len() as u64
    }

    fn table_get(&self, t: TableAddr, idx: u64) -> Option<Value> {
        let t = &self.rt.tables[t as usize];
        let r = *t.elems.get(usize::try_from(idx).ok()?)?;
        Some(slot_to_value(r as Slot, t.ty.elem))
    }
}
