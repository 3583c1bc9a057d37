//! The JIT store: owns every function, table, memory, global, instance and
//! code mapping, and runs calls on an execution stack under `catch_traps`.
//!
//! Addresses are allocated exactly as the interpreter allocates them
//! (sequentially per kind, in allocation order), so funcref values compare
//! across engines. Generated code reaches store state through raw pointers
//! (see `vmctx`); everything it points to is boxed and lives as long as the
//! store.

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use cranelift_codegen::isa::OwnedTargetIsa;

use crate::engine::{
    Extern, GlobalAddr, HostFunc, InstanceId, InstantiateError, MemAddr, Store, TableAddr,
};
use crate::jit::code::CodeUnit;
use crate::jit::config::{BoundsMode, JitConfig};
use crate::jit::linmem::LinearMemory;
use crate::jit::vmctx::{VMFuncRef, VMGlobal, VMRuntime, VMTable};
use crate::jit::{stack, trampoline, traps};
use crate::module::{ExternType, Module};
use crate::native;
use crate::trap::{Limits, Trap};
use crate::values::{FuncAddr, FuncType, GlobalType, MemoryType, TableType, ValType, Value};

/// A host function's context, passed to its stub as `vmctx`.
#[repr(C)]
pub(crate) struct HostCtx {
    /// `host_call`'s address (the stub loads it from offset 0).
    call: usize,
    store: *mut StoreInner,
    addr: FuncAddr,
    host: usize,
}

/// A function in the store.
pub(crate) struct FuncEntry {
    pub(crate) vm: Box<VMFuncRef>,
    pub(crate) ty: FuncType,
    host: Option<Box<HostCtx>>,
}

/// A table in the store.
pub(crate) struct TableEntry {
    pub(crate) ty: TableType,
    pub(crate) elems: Vec<u64>,
    pub(crate) vm: Box<VMTable>,
}

impl TableEntry {
    pub(crate) fn new(ty: TableType, init: u64) -> TableEntry {
        let mut t = TableEntry {
            ty,
            elems: vec![init; ty.limits.min as usize],
            vm: Box::new(VMTable {
                base: std::ptr::null_mut(),
                len: 0,
            }),
        };
        t.sync();
        t
    }

    /// Publishes the element storage to generated code.
    pub(crate) fn sync(&mut self) {
        self.vm.base = self.elems.as_mut_ptr();
        self.vm.len = self.elems.len() as u64;
    }
}

/// A global in the store.
pub(crate) struct GlobalEntry {
    pub(crate) ty: GlobalType,
    pub(crate) cell: Box<VMGlobal>,
}

/// An instance: its `vmctx`, resolved addresses and segment state.
pub(crate) struct InstanceData {
    pub(crate) vmctx: Box<[u64]>,
    pub(crate) mems: Vec<MemAddr>,
    pub(crate) tables: Vec<TableAddr>,
    /// Element segment instances (raw references; emptied when dropped).
    pub(crate) elems: Vec<Vec<u64>>,
    /// Passive data segment bytes (emptied when dropped).
    pub(crate) datas: Vec<Vec<u8>>,
    pub(crate) exports: Vec<(String, Extern)>,
    pub(crate) store: *mut StoreInner,
    /// The instance's code (kept alive with the store).
    pub(crate) _code: Option<CodeUnit>,
}

/// Function types interned per store (structural equality → same id).
#[derive(Default)]
pub(crate) struct TypeRegistry {
    ids: HashMap<FuncType, u64>,
}

impl TypeRegistry {
    pub(crate) fn intern(&mut self, ty: &FuncType) -> u64 {
        if let Some(&id) = self.ids.get(ty) {
            return id;
        }
        let id = self.ids.len() as u64 + 1;
        self.ids.insert(ty.clone(), id);
        id
    }
}

/// Everything a store owns. Boxed so that raw pointers into it stay valid.
pub(crate) struct StoreInner {
    pub(crate) config: JitConfig,
    pub(crate) isa: OwnedTargetIsa,
    limits: Limits,
    pub(crate) runtime: Box<VMRuntime>,
    pub(crate) types: TypeRegistry,
    pub(crate) funcs: Vec<FuncEntry>,
    pub(crate) tables: Vec<TableEntry>,
    pub(crate) memories: Vec<LinearMemory>,
    pub(crate) globals: Vec<GlobalEntry>,
    /// Instances, including ones whose initialization trapped (their
    /// functions may be referenced from other instances' tables).
    #[allow(clippy::vec_box)] // boxed: vmctx and libcalls hold their addresses
    pub(crate) instances: Vec<Box<InstanceData>>,
    host_funcs: Vec<HostFunc>,
    /// How the last trapping call left generated code.
    last_native_trap: Option<native::NativeTrap>,
    /// A host function's panic, resumed when the call leaves wasm.
    pending_panic: Option<Box<dyn std::any::Any + Send>>,
    /// Glue code this store uses (shared through a per-thread cache).
    /// Keyed by (interned type id, is-stub).
    glue: HashMap<(u64, bool), Rc<CodeUnit>>,
}

/// A store of the JIT engine.
pub struct JitStore {
    inner: Box<StoreInner>,
}

impl JitStore {
    pub(crate) fn new(config: JitConfig, isa: OwnedTargetIsa, limits: Limits) -> JitStore {
        JitStore {
            inner: Box::new(StoreInner {
                config,
                isa,
                limits,
                runtime: Box::new(VMRuntime::default()),
                types: TypeRegistry::default(),
                funcs: Vec::new(),
                tables: Vec::new(),
                memories: Vec::new(),
                globals: Vec::new(),
                instances: Vec::new(),
                host_funcs: Vec::new(),
                glue: HashMap::new(),
                pending_panic: None,
                last_native_trap: None,
            }),
        }
    }
}

impl JitStore {
    /// The native trap (code, faulting PC, signal) behind the most recent
    /// call that trapped in generated code, for reports and tests.
    pub fn last_native_trap(&self) -> Option<native::NativeTrap> {
        self.inner.last_native_trap
    }
}

impl StoreInner {
    /// A value in its raw 16-byte slot form.
    pub(crate) fn value_to_raw(&self, v: Value) -> u128 {
        match v {
            Value::I32(x) => u128::from(x as u32),
            Value::I64(x) => u128::from(x as u64),
            Value::F32(b) => u128::from(b),
            Value::F64(b) => u128::from(b),
            Value::V128(b) => b,
            Value::FuncRef(None) | Value::ExternRef(None) => 0,
            Value::FuncRef(Some(a)) => self.funcref_ptr(a) as u128,
            Value::ExternRef(Some(n)) => u128::from(n) + 1,
        }
    }

    /// The raw reference of function `a`.
    pub(crate) fn funcref_ptr(&self, a: FuncAddr) -> u64 {
        &*self.funcs[a as usize].vm as *const VMFuncRef as u64
    }

    /// A value from its raw slot form.
    pub(crate) fn raw_to_value(&self, raw: u128, ty: ValType) -> Value {
        match ty {
            ValType::I32 => Value::I32(raw as u32 as i32),
            ValType::I64 => Value::I64(raw as u64 as i64),
            ValType::F32 => Value::F32(raw as u32),
            ValType::F64 => Value::F64(raw as u64),
            ValType::V128 => Value::V128(raw),
            ValType::FuncRef => Value::FuncRef(funcref_addr(raw as u64)),
            ValType::ExternRef => Value::ExternRef((raw as u64).checked_sub(1).map(|n| n as u32)),
        }
    }

    pub(crate) fn guard_pages(&self) -> bool {
        self.config.bounds == BoundsMode::Guard
    }

    /// The entry trampoline (`stub == false`) or host stub for `ty`.
    fn glue_for(&mut self, ty: &FuncType, stub: bool) -> *const u8 {
        let key = (self.types.intern(ty), stub);
        if let Some(unit) = self.glue.get(&key) {
            return unit.func(0);
        }
        let unit = trampoline::cached(&self.config, &*self.isa, ty, stub)
            .unwrap_or_else(|e| panic!("jit: glue code for {ty} failed to compile: {e}"));
        let p = unit.func(0);
        self.glue.insert(key, unit);
        p
    }

    /// Pushes a function entry; returns its address.
    pub(crate) fn push_func(&mut self, ty: FuncType, code: *const u8, vmctx: *mut u8) -> FuncAddr {
        let addr = self.funcs.len() as FuncAddr;
        let type_id = self.types.intern(&ty);
        self.funcs.push(FuncEntry {
            vm: Box::new(VMFuncRef {
                code,
                vmctx,
                type_id,
                addr: u64::from(addr),
            }),
            ty,
            host: None,
        });
        addr
    }

    /// The store's limits.
    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// Allocates a memory (its initial size must be within the growth cap).
    pub(crate) fn push_memory(&mut self, ty: MemoryType) -> Result<MemAddr, InstantiateError> {
        let mem = LinearMemory::new(ty, self.guard_pages(), self.limits.max_memory_pages)
            .map_err(InstantiateError::Resource)?;
        self.memories.push(mem);
        Ok(self.memories.len() as MemAddr - 1)
    }

    pub(crate) fn push_global(&mut self, ty: GlobalType, init: Value) -> GlobalAddr {
        let bits = self.value_to_raw(init);
        self.globals.push(GlobalEntry {
            ty,
            cell: Box::new(VMGlobal { bits }),
        });
        self.globals.len() as GlobalAddr - 1
    }

    pub(crate) fn global_value(&self, g: GlobalAddr) -> Value {
        let e = &self.globals[g as usize];
        self.raw_to_value(e.cell.bits, e.ty.ty)
    }
}

/// The function address behind a raw funcref.
fn funcref_addr(raw: u64) -> Option<FuncAddr> {
    if raw == 0 {
        None
    } else {
        // SAFETY: nonzero raw funcrefs are pointers to live `VMFuncRef`s of
        // this store.
        Some(unsafe { (*(raw as *const VMFuncRef)).addr } as FuncAddr)
    }
}

/// Calls host function `host` with checked results.
fn call_host_values(f: &mut HostFunc, ty: &FuncType, args: &[Value]) -> Result<Vec<Value>, Trap> {
    let res = f(args)?;
    let ok =
        res.len() == ty.results.len() && res.iter().zip(&ty.results).all(|(v, t)| v.ty() == *t);
    if ok { Ok(res) } else { Err(Trap::Host) }
}

/// Entry point of host stubs: runs the host function on the arguments in
/// `values` and writes its results there; nonzero (with the trap in
/// `pending_trap`) if it failed.
extern "C" fn host_call(ctx: *mut HostCtx, values: *mut u128) -> u32 {
    // SAFETY: `ctx` is the context the store allocated for this function
    // and the store outlives every call into it; no other reference to the
    // store is live while generated code runs. `values` has a slot per
    // parameter and result.
    unsafe {
        let ctx = &*ctx;
        let store = &mut *ctx.store;
        let ty = store.funcs[ctx.addr as usize].ty.clone();
        let args: Vec<Value> = ty
            .params
            .iter()
            .enumerate()
            .map(|(i, &t)| store.raw_to_value(*values.add(i), t))
            .collect();
        let f = &mut store.host_funcs[ctx.host];
        // A panic cannot unwind through generated code: it is carried past
        // it (as a trap) and resumed once the call has left wasm.
        let r = match panic::catch_unwind(AssertUnwindSafe(|| call_host_values(f, &ty, &args))) {
            Ok(r) => r,
            Err(payload) => {
                store.pending_panic = Some(payload);
                Err(Trap::Host)
            }
        };
        match r {
            Ok(res) => {
                for (i, v) in res.into_iter().enumerate() {
                    *values.add(i) = store.value_to_raw(v);
                }
                0
            }
            Err(t) => {
                store.runtime.pending_trap = traps::encode_pending(t);
                1
            }
        }
    }
}

/// `Store::call` through a raw store pointer (generated code and libcalls
/// access the store while the call runs).
///
/// # Safety
/// `s` must point to a live store that nothing else accesses meanwhile.
pub(crate) unsafe fn invoke(
    s: *mut StoreInner,
    func: FuncAddr,
    args: &[Value],
) -> Result<Vec<Value>, Trap> {
    // SAFETY: per the contract. `store` is not used while generated code
    // runs (which reaches the store through its own raw pointers).
    let store = unsafe { &mut *s };
    let entry = &store.funcs[func as usize];
    let ty = entry.ty.clone();
    if let Some(h) = &entry.host {
        let host = h.host;
        return call_host_values(&mut store.host_funcs[host], &ty, args);
    }
    let (code, vmctx) = (entry.vm.code, entry.vm.vmctx);
    let tramp = store.glue_for(&ty, false);
    let n = ty.params.len().max(ty.results.len()).max(1);
    let mut values = vec![0u128; n];
    for (slot, a) in values.iter_mut().zip(args) {
        *slot = store.value_to_raw(*a);
    }
    let stack = stack::take().unwrap_or_else(|e| panic!("jit: {e}"));
    let limits = store.limits;
    let rt = &mut *store.runtime;
    rt.fuel = limits.fuel.unwrap_or(u64::MAX);
    rt.depth = 0;
    rt.max_depth = u64::from(limits.max_call_depth);
    rt.pending_trap = 0;
    rt.stack_limit = stack.limit() as u64;
    type Entry = unsafe extern "C" fn(*const u8, *mut u8, *mut u128);
    // SAFETY: `tramp` is an entry trampoline with exactly this signature.
    let entry_fn: Entry = unsafe { std::mem::transmute::<*const u8, Entry>(tramp) };
    let vp = values.as_mut_ptr();
    // SAFETY: the trampoline calls `code` (a wasm function of type `ty`)
    // with `vmctx` and the argument slots; traps unwind to `catch_traps`.
    let outcome =
        native::catch_traps(|| stack::on_stack(&stack, || unsafe { entry_fn(code, vmctx, vp) }));
    // SAFETY: generated code has finished; we are again the only user.
    let store = unsafe { &mut *s };
    let result = match outcome {
        Ok(()) => Ok(ty
            .results
            .iter()
            .zip(&values)
            .map(|(&t, &raw)| store.raw_to_value(raw, t))
            .collect()),
        Err(t) => Err({
            store.last_native_trap = Some(t);
            match traps::trap_for_code(t.code) {
                Some(trap) => trap,
                None if t.code == traps::PENDING => {
                    traps::decode_pending(store.runtime.pending_trap).unwrap_or(Trap::Host)
                }
                None => panic!("jit: unknown trap code {:?} at {:#x}", t.code, t.pc),
            }
        }),
    };
    if result == Err(Trap::CallStackExhausted) {
        stack.release_pages();
    }
    stack::give_back(stack);
    if let Some(payload) = store.pending_panic.take() {
        panic::resume_unwind(payload);
    }
    result
}

impl Store for JitStore {
    fn instantiate(
        &mut self,
        module: &Module,
        imports: &[Extern],
    ) -> Result<InstanceId, InstantiateError> {
        crate::engine::check_imports(self, module, imports)?;
        let s: *mut StoreInner = &mut *self.inner;
        // SAFETY: `s` comes from our exclusive borrow and is the only path
        // used until instantiation returns.
        unsafe { crate::jit::instantiate::instantiate(s, module, imports) }
    }

    fn exports(&self, instance: InstanceId) -> Vec<(String, Extern)> {
        self.inner.instances[instance.0 as usize].exports.clone()
    }

    fn call(&mut self, func: FuncAddr, args: &[Value]) -> Result<Vec<Value>, Trap> {
        let s: *mut StoreInner = &mut *self.inner;
        // SAFETY: as in `instantiate`.
        unsafe { invoke(s, func, args) }
    }

    fn alloc_host_func(&mut self, ty: FuncType, f: HostFunc) -> FuncAddr {
        let s: *mut StoreInner = &mut *self.inner;
        let stub = self.inner.glue_for(&ty, true);
        let host = self.inner.host_funcs.len();
        self.inner.host_funcs.push(f);
        let addr = self.inner.funcs.len() as FuncAddr;
        let mut ctx = Box::new(HostCtx {
            call: host_call as extern "C" fn(*mut HostCtx, *mut u128) -> u32 as usize,
            store: s,
            addr,
            host,
        });
        let ctx_ptr = (&raw mut *ctx).cast::<u8>();
        let a = self.inner.push_func(ty, stub, ctx_ptr);
        self.inner.funcs[a as usize].host = Some(ctx);
        a
    }

    fn alloc_global(&mut self, ty: GlobalType, init: Value) -> GlobalAddr {
        self.inner.push_global(ty, init)
    }

    fn alloc_memory(&mut self, ty: MemoryType) -> Result<MemAddr, InstantiateError> {
        self.inner.push_memory(ty)
    }

    fn alloc_table(&mut self, ty: TableType, init: Value) -> TableAddr {
        let raw = self.inner.value_to_raw(init) as u64;
        self.inner.tables.push(TableEntry::new(ty, raw));
        self.inner.tables.len() as TableAddr - 1
    }

    fn extern_type(&self, e: Extern) -> ExternType {
        let s = &self.inner;
        match e {
            Extern::Func(a) => ExternType::Func(s.funcs[a as usize].ty.clone()),
            Extern::Table(a) => {
                let t = &s.tables[a as usize];
                let mut ty = t.ty;
                ty.limits.min = t.elems.len() as u64;
                ExternType::Table(ty)
            }
            Extern::Memory(a) => {
                let m = &s.memories[a as usize];
                let mut ty = m.ty();
                ty.limits.min = m.pages();
                ExternType::Memory(ty)
            }
            Extern::Global(a) => ExternType::Global(s.globals[a as usize].ty),
        }
    }

    fn global_get(&self, g: GlobalAddr) -> Value {
        self.inner.global_value(g)
    }

    fn memory_data(&self, m: MemAddr) -> &[u8] {
        self.inner.memories[m as usize].data()
    }

    fn table_size(&self, t: TableAddr) -> u64 {
        self.inner.tables[t as usize].elems.len() as u64
    }

    fn table_get(&self, t: TableAddr, idx: u64) -> Option<Value> {
        let t = &self.inner.tables[t as usize];
        let raw = *t.elems.get(usize::try_from(idx).ok()?)?;
        Some(self.inner.raw_to_value(u128::from(raw), t.ty.elem))
    }
}
