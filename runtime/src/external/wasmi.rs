//! wasmi 2.0 as a shoal [`Engine`]: an independent interpreter (its own
//! validator, translator to register-based bytecode and executor), a
//! second reference besides shoal's interpreter.
//!
//! Configuration: the wasm features of
//! [`SUPPORTED_FEATURES`](crate::module::SUPPORTED_FEATURES), eager
//! compilation, fuel metering with wasmi's default operator costs (0 or 1
//! each), the smallest per-byte charges of bulk operations and growth and
//! none for compilation (so [`fuel_budget_bulk`](super::fuel_budget_bulk)
//! bounds them), recursion depth
//! [`recursion_bound`](super::recursion_bound). Limits, traps and addresses
//! follow the rules in [`super`].

use std::collections::HashMap;

use ::wasmi as wi;

use super::{ExportNames, check_caps, export_everything, fuel_budget_bulk, recursion_bound};
use crate::engine::{
    Engine, Extern, GlobalAddr, HostFunc, InstanceId, InstantiateError, MemAddr, Store, TableAddr,
    check_imports,
};
use crate::incident::{self, Incident};
use crate::module::{ExternKind, ExternType, Module};
use crate::trap::{Limits, Trap};
use crate::values::{
    FuncAddr, FuncType, GlobalType, Limits as SizeLimits, MemoryType, PAGE_SIZE, TableType,
    ValType, Value,
};

/// Host functions' traps travel through wasmi as host errors.
impl wi::errors::HostError for Trap {}

/// The wasmi engine. Each store gets its own `wasmi::Engine`: the
/// recursion bound is an engine setting that depends on the store's
/// [`Limits`], and an engine keeps the code of every module it compiled.
#[derive(Clone, Copy, Debug, Default)]
pub struct WasmiEngine;

impl WasmiEngine {
    /// The wasmi engine.
    pub fn new() -> WasmiEngine {
        WasmiEngine
    }

    /// A fresh store with its concrete type.
    pub fn wasmi_store(&self, limits: Limits) -> WasmiStore {
        let engine = wi::Engine::new(&config(recursion_bound(&limits)));
        WasmiStore::new(&engine, limits)
    }
}

/// Bytes a bulk operation may touch per unit of fuel (as few units as
/// wasmi allows; [`fuel_budget_bulk`] accounts for them).
const BYTES_PER_FUEL: u32 = u32::MAX;

fn config(max_recursion_depth: usize) -> wi::Config {
    let mut c = wi::Config::default();
    c.wasm_mutable_global(true)
        .wasm_sign_extension(true)
        .wasm_saturating_float_to_int(true)
        .wasm_multi_value(true)
        .wasm_multi_memory(true)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_tail_call(true)
        .wasm_extended_const(true)
        .wasm_memory64(true)
        .wasm_simd(true)
        .wasm_relaxed_simd(false)
        .wasm_custom_page_sizes(false)
        .wasm_wide_arithmetic(false)
        .floats(true)
        .consume_fuel(true)
        .fuel_cost(wi::CustomFuelCosts {
            bytes_copied_per_fuel: BYTES_PER_FUEL,
            fuel_per_bytes_translated: 0,
            fuel_per_bytes_validated: 0,
        })
        .compilation_mode(wi::CompilationMode::Eager)
        .set_max_recursion_depth(max_recursion_depth);
    c
}

impl Engine for WasmiEngine {
    fn name(&self) -> String {
        "wasmi".to_string()
    }

    fn new_store(&self, limits: Limits) -> Box<dyn Store> {
        Box::new(self.wasmi_store(limits))
    }
}

/// Growth caps from [`Limits`] (see [`super`]: refusals below them are
/// incidents).
struct Caps {
    max_memory_bytes: u64,
    max_table_elems: u64,
}

impl wi::ResourceLimiter for Caps {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
        Ok(desired as u64 <= self.max_memory_bytes && maximum.is_none_or(|m| desired <= m))
    }

    fn memory_grow_failed(
        &mut self,
        error: &wi::errors::MemoryError,
    ) -> Result<(), wasmi_core::LimiterError> {
        if matches!(error, wi::errors::MemoryError::OutOfSystemMemory) {
            incident::refused(format!("wasmi: memory.grow: {error}"));
        }
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
        Ok(desired as u64 <= self.max_table_elems && maximum.is_none_or(|m| desired <= m))
    }

    fn table_grow_failed(
        &mut self,
        error: &wi::errors::TableError,
    ) -> Result<(), wasmi_core::LimiterError> {
        if matches!(error, wi::errors::TableError::OutOfSystemMemory) {
            incident::refused(format!("wasmi: table.grow: {error}"));
        }
        Ok(())
    }

    fn instances(&self) -> usize {
        10_000
    }

    fn tables(&self) -> usize {
        10_000
    }

    fn memories(&self) -> usize {
        10_000
    }
}

/// The wasmi store's host data: the limiter, host closures, and the
/// address maps every conversion needs.
struct Host {
    caps: Caps,
    host_funcs: Vec<HostFunc>,
    funcs: Vec<wi::Func>,
    /// Identity of a function handle → store address (see [`func_key`]).
    func_addrs: HashMap<String, FuncAddr>,
}

/// wasmi's function handles have no public identity; their `Debug` text
/// names the owning store and the function's arena index, which is unique
/// within a store and the same for every handle of one function.
fn func_key(f: &wi::Func) -> String {
    format!("{f:?}")
}

/// A store of a [`WasmiEngine`].
pub struct WasmiStore {
    store: wi::Store<Host>,
    limits: Limits,
    /// Fuel per call: the largest budget of any module instantiated here.
    budget: Option<u64>,
    tables: Vec<wi::Table>,
    memories: Vec<wi::Memory>,
    globals: Vec<wi::Global>,
    instances: Vec<Vec<(String, Extern)>>,
}

impl WasmiStore {
    fn new(engine: &wi::Engine, limits: Limits) -> WasmiStore {
        let host = Host {
            caps: Caps {
                max_memory_bytes: limits.max_memory_pages.saturating_mul(PAGE_SIZE),
                max_table_elems: limits.max_table_elems,
            },
            host_funcs: Vec::new(),
            funcs: Vec::new(),
            func_addrs: HashMap::new(),
        };
        let mut store = wi::Store::new(engine, host);
        store.limiter(|h| &mut h.caps);
        WasmiStore {
            store,
            limits,
            budget: Some(0),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            instances: Vec::new(),
        }
    }

    fn set_fuel(&mut self) {
        // Fuel is enabled in the configuration this module builds.
        let _ = self.store.set_fuel(self.budget.unwrap_or(u64::MAX));
    }

    fn push_func(&mut self, f: wi::Func) -> FuncAddr {
        let host = self.store.data_mut();
        let addr = host.funcs.len() as FuncAddr;
        host.funcs.push(f);
        host.func_addrs.entry(func_key(&f)).or_insert(addr);
        addr
    }

    fn wi_extern(&self, e: Extern) -> wi::Extern {
        match e {
            Extern::Func(f) => wi::Extern::Func(self.store.data().funcs[f as usize]),
            Extern::Table(t) => wi::Extern::Table(self.tables[t as usize]),
            Extern::Memory(m) => wi::Extern::Memory(self.memories[m as usize]),
            Extern::Global(g) => wi::Extern::Global(self.globals[g as usize]),
        }
    }

    /// Records every entity of a new instance and returns its exports.
    fn register(
        &mut self,
        module: &Module,
        instance: wi::Instance,
        names: &ExportNames,
        imports: &[Extern],
    ) -> Result<Vec<(String, Extern)>, InstantiateError> {
        let lost = |what: String| InstantiateError::Engine(format!("wasmi lost {what}"));
        let imported = |kind: ExternKind| -> Vec<u32> {
            imports
                .iter()
                .zip(&module.imports)
                .filter(|(_, imp)| kind_of(&imp.ty) == kind)
                .map(|(e, _)| match *e {
                    Extern::Func(a) | Extern::Table(a) | Extern::Memory(a) | Extern::Global(a) => a,
                })
                .collect()
        };
        let mut funcs = imported(ExternKind::Func);
        for i in module.num_imported_funcs..module.funcs.len() as u32 {
            let f = instance
                .get_func(&self.store, &names.func(i))
                .ok_or_else(|| lost(format!("function {i}")))?;
            funcs.push(self.push_func(f));
        }
        let mut tables = imported(ExternKind::Table);
        for i in module.num_imported_tables..module.tables.len() as u32 {
            let t = instance
                .get_table(&self.store, &names.table(i))
                .ok_or_else(|| lost(format!("table {i}")))?;
            tables.push(self.tables.len() as TableAddr);
            self.tables.push(t);
        }
        let mut memories = imported(ExternKind::Memory);
        for i in module.num_imported_memories..module.memories.len() as u32 {
            let m = instance
                .get_memory(&self.store, &names.memory(i))
                .ok_or_else(|| lost(format!("memory {i}")))?;
            memories.push(self.memories.len() as MemAddr);
            self.memories.push(m);
        }
        let mut globals = imported(ExternKind::Global);
        for i in module.num_imported_globals..module.globals.len() as u32 {
            let g = instance
                .get_global(&self.store, &names.global(i))
                .ok_or_else(|| lost(format!("global {i}")))?;
            globals.push(self.globals.len() as GlobalAddr);
            self.globals.push(g);
        }
        Ok(module
            .exports
            .iter()
            .map(|e| {
                let i = e.index as usize;
                let ext = match e.kind {
                    ExternKind::Func => Extern::Func(funcs[i]),
                    ExternKind::Table => Extern::Table(tables[i]),
                    ExternKind::Memory => Extern::Memory(memories[i]),
                    ExternKind::Global => Extern::Global(globals[i]),
                };
                (e.name.clone(), ext)
            })
            .collect())
    }
}

fn kind_of(ty: &ExternType) -> ExternKind {
    match ty {
        ExternType::Func(_) => ExternKind::Func,
        ExternType::Table(_) => ExternKind::Table,
        ExternType::Memory(_) => ExternKind::Memory,
        ExternType::Global(_) => ExternKind::Global,
    }
}

/// Maps a wasmi trap code onto shoal's (see [`super`] for the one merged
/// pair); `None` for codes wasm 2.0 cannot raise.
fn map_trap(t: wi::TrapCode) -> Option<Trap> {
    use wi::TrapCode as C;
    Some(match t {
        C::UnreachableCodeReached => Trap::Unreachable,
        C::MemoryOutOfBounds => Trap::MemoryOutOfBounds,
        C::TableOutOfBounds => Trap::TableOutOfBounds,
        C::IndirectCallToNull => Trap::UninitializedElement,
        C::IntegerDivisionByZero => Trap::IntegerDivideByZero,
        C::IntegerOverflow => Trap::IntegerOverflow,
        C::BadConversionToInteger => Trap::InvalidConversionToInteger,
        C::StackOverflow => Trap::CallStackExhausted,
        C::BadSignature => Trap::IndirectCallTypeMismatch,
        C::OutOfFuel => Trap::OutOfFuel,
        _ => return None,
    })
}

/// The trap behind a wasmi error: a wasm trap, a host function's trap
/// passed through, or an out-of-bounds segment during instantiation (which
/// wasmi reports as an error of its own kind); anything else is an engine
/// error.
fn trap_of(e: &wi::Error) -> Result<Trap, String> {
    use wi::errors::{ErrorKind as K, InstantiationError as I, MemoryError as M, TableError as T};
    if let Some(t) = e.downcast_ref::<Trap>() {
        return Ok(*t);
    }
    if let Some(code) = e.as_trap_code() {
        return map_trap(code).ok_or_else(|| format!("unexpected wasmi trap: {code}"));
    }
    match e.kind() {
        K::Instantiation(I::ElementSegmentDoesNotFit { .. })
        | K::Table(
            T::InitOutOfBounds | T::SetOutOfBounds | T::FillOutOfBounds | T::CopyOutOfBounds,
        ) => Ok(Trap::TableOutOfBounds),
        K::Memory(M::OutOfBoundsAccess) => Ok(Trap::MemoryOutOfBounds),
        _ => Err(e.to_string()),
    }
}

/// Instantiation errors caused by the host running out of memory.
fn is_resource_error(e: &wi::Error) -> bool {
    use wi::errors::{ErrorKind as K, InstantiationError as I, MemoryError as M, TableError as T};
    matches!(
        e.kind(),
        K::Memory(M::OutOfSystemMemory)
            | K::Table(T::OutOfSystemMemory)
            | K::Instantiation(
                I::FailedToInstantiateMemory(M::OutOfSystemMemory)
                    | I::FailedToInstantiateTable(T::OutOfSystemMemory)
            )
    )
}

fn wi_valtype(t: ValType) -> wi::ValType {
    match t {
        ValType::I32 => wi::ValType::I32,
        ValType::I64 => wi::ValType::I64,
        ValType::F32 => wi::ValType::F32,
        ValType::F64 => wi::ValType::F64,
        ValType::V128 => wi::ValType::V128,
        ValType::FuncRef => wi::ValType::FuncRef,
        ValType::ExternRef => wi::ValType::ExternRef,
    }
}

fn from_valtype(t: wi::ValType) -> ValType {
    match t {
        wi::ValType::I32 => ValType::I32,
        wi::ValType::I64 => ValType::I64,
        wi::ValType::F32 => ValType::F32,
        wi::ValType::F64 => ValType::F64,
        wi::ValType::V128 => ValType::V128,
        wi::ValType::FuncRef => ValType::FuncRef,
        wi::ValType::ExternRef => ValType::ExternRef,
    }
}

fn from_reftype(r: wi::RefType) -> ValType {
    match r {
        wi::RefType::Func => ValType::FuncRef,
        wi::RefType::Extern => ValType::ExternRef,
    }
}

fn wi_reftype(t: ValType) -> wi::RefType {
    match t {
        ValType::ExternRef => wi::RefType::Extern,
        _ => wi::RefType::Func,
    }
}

fn wi_functype(ty: &FuncType) -> wi::FuncType {
    wi::FuncType::new(
        ty.params.iter().map(|t| wi_valtype(*t)),
        ty.results.iter().map(|t| wi_valtype(*t)),
    )
}

/// A shoal value as a wasmi value in `store`.
fn to_val(mut store: impl wi::AsContextMut<Data = Host>, v: &Value) -> Result<wi::Val, String> {
    Ok(match *v {
        Value::I32(x) => wi::Val::I32(x),
        Value::I64(x) => wi::Val::I64(x),
        Value::F32(b) => wi::Val::F32(wi::F32::from_bits(b)),
        Value::F64(b) => wi::Val::F64(wi::F64::from_bits(b)),
        Value::V128(x) => wi::Val::V128(wi::V128::from(x)),
        Value::FuncRef(None) => wi::Val::FuncRef(wi::Nullable::Null),
        Value::FuncRef(Some(a)) => {
            let f = store.as_context().data().funcs.get(a as usize).copied();
            wi::Val::FuncRef(wi::Nullable::Val(
                f.ok_or_else(|| format!("funcref to unknown function address {a}"))?,
            ))
        }
        Value::ExternRef(None) => wi::Val::ExternRef(wi::Nullable::Null),
        Value::ExternRef(Some(n)) => {
            wi::Val::ExternRef(wi::Nullable::Val(wi::ExternRef::new(&mut store, n)))
        }
    })
}

fn to_ref(store: impl wi::AsContextMut<Data = Host>, v: &Value) -> Result<wi::Ref, String> {
    Ok(match to_val(store, v)? {
        wi::Val::FuncRef(f) => wi::Ref::Func(f),
        wi::Val::ExternRef(r) => wi::Ref::Extern(r),
        other => return Err(format!("not a reference: {other:?}")),
    })
}

/// A wasmi value as a shoal value.
fn from_val(store: impl wi::AsContext<Data = Host>, v: &wi::Val) -> Result<Value, String> {
    Ok(match v {
        wi::Val::I32(x) => Value::I32(*x),
        wi::Val::I64(x) => Value::I64(*x),
        wi::Val::F32(x) => Value::F32(x.to_bits()),
        wi::Val::F64(x) => Value::F64(x.to_bits()),
        wi::Val::V128(x) => Value::V128(x.as_u128()),
        wi::Val::FuncRef(f) => Value::FuncRef(match f.val() {
            None => None,
            Some(f) => Some(
                store
                    .as_context()
                    .data()
                    .func_addrs
                    .get(&func_key(f))
                    .copied()
                    .ok_or("funcref to a function this store never allocated")?,
            ),
        }),
        wi::Val::ExternRef(r) => Value::ExternRef(match r.val() {
            None => None,
            Some(r) => Some(
                r.data(store.as_context())
                    .downcast_ref::<u32>()
                    .copied()
                    .ok_or("externref without a u32 payload")?,
            ),
        }),
    })
}

fn from_ref(store: impl wi::AsContext<Data = Host>, r: &wi::Ref) -> Result<Value, String> {
    match r {
        wi::Ref::Func(f) => from_val(store, &wi::Val::FuncRef(*f)),
        wi::Ref::Extern(e) => from_val(store, &wi::Val::ExternRef(*e)),
    }
}

/// Reports a conversion or engine error as an incident; the returned trap
/// is a placeholder the oracle never compares (the incident wins).
fn engine_error(e: String) -> Trap {
    incident::report(Incident::EngineError(format!("wasmi: {e}")));
    Trap::Host
}

impl Store for WasmiStore {
    fn instantiate(
        &mut self,
        module: &Module,
        imports: &[Extern],
    ) -> Result<InstanceId, InstantiateError> {
        check_imports(self, module, imports)?;
        check_caps(module, &self.limits)?;
        let (bytes, names) = export_everything(module).map_err(InstantiateError::Engine)?;
        let compiled = wi::Module::new(self.store.engine(), &bytes)
            .map_err(|e| InstantiateError::Engine(format!("wasmi: {e}")))?;
        let externs: Vec<wi::Extern> = imports.iter().map(|e| self.wi_extern(*e)).collect();
        let budget = fuel_budget_bulk(module, &self.limits, u64::from(BYTES_PER_FUEL));
        self.budget = match (self.budget, budget) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        self.set_fuel();
        let instance = wi::Instance::new(&mut self.store, &compiled, &externs).map_err(|e| {
            match trap_of(&e) {
                Ok(t) => InstantiateError::Trap(t),
                Err(why) if is_resource_error(&e) => InstantiateError::Resource(why),
                Err(why) => InstantiateError::Engine(format!("wasmi: {why}")),
            }
        })?;
        let exports = self.register(module, instance, &names, imports)?;
        self.instances.push(exports);
        Ok(InstanceId(self.instances.len() as u32 - 1))
    }

    fn exports(&self, instance: InstanceId) -> Vec<(String, Extern)> {
        self.instances
            .get(instance.0 as usize)
            .cloned()
            .unwrap_or_default()
    }

    fn call(&mut self, func: FuncAddr, args: &[Value]) -> Result<Vec<Value>, Trap> {
        self.set_fuel();
        let f = self.store.data().funcs[func as usize];
        let params = args
            .iter()
            .map(|a| to_val(&mut self.store, a))
            .collect::<Result<Vec<_>, _>>()
            .map_err(engine_error)?;
        let mut results: Vec<wi::Val> = f
            .ty(&self.store)
            .results()
            .iter()
            .map(|t| wi::Val::default_for_ty(*t))
            .collect();
        match f.call(&mut self.store, &params, &mut results) {
            Ok(()) => results
                .iter()
                .map(|v| from_val(&self.store, v))
                .collect::<Result<Vec<_>, _>>()
                .map_err(engine_error),
            Err(e) => Err(trap_of(&e).unwrap_or_else(engine_error)),
        }
    }

    fn alloc_host_func(&mut self, ty: FuncType, f: HostFunc) -> FuncAddr {
        let index = self.store.data().host_funcs.len();
        self.store.data_mut().host_funcs.push(f);
        let func = wi::Func::new(
            &mut self.store,
            wi_functype(&ty),
            move |mut caller, params, results| {
                let args = params
                    .iter()
                    .map(|p| from_val(&caller, p))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(wi::Error::new)?;
                let out = (caller.data_mut().host_funcs[index])(&args).map_err(wi::Error::host)?;
                if out.len() != results.len() {
                    return Err(wi::Error::new(format!(
                        "host function returned {} values, expected {}",
                        out.len(),
                        results.len()
                    )));
                }
                for (slot, v) in results.iter_mut().zip(&out) {
                    *slot = to_val(&mut caller, v).map_err(wi::Error::new)?;
                }
                Ok(())
            },
        );
        self.push_func(func)
    }

    fn alloc_global(&mut self, ty: GlobalType, init: Value) -> GlobalAddr {
        let mutability = if ty.mutable {
            wi::Mutability::Var
        } else {
            wi::Mutability::Const
        };
        let value = to_val(&mut self.store, &init)
            .unwrap_or_else(|e| panic!("wasmi: global initial value {init}: {e}"));
        self.globals
            .push(wi::Global::new(&mut self.store, value, mutability));
        self.globals.len() as GlobalAddr - 1
    }

    fn alloc_memory(&mut self, ty: MemoryType) -> Result<MemAddr, InstantiateError> {
        let cap = self.limits.max_memory_pages;
        if ty.limits.min > cap {
            return Err(InstantiateError::Resource(format!(
                "memory of {} pages exceeds the cap of {cap} pages",
                ty.limits.min
            )));
        }
        let m_ty = if ty.memory64 {
            wi::MemoryType::new64(ty.limits.min, ty.limits.max)
        } else {
            wi::MemoryType::new(ty.limits.min as u32, ty.limits.max.map(|m| m as u32))
        };
        let memory = wi::Memory::new(&mut self.store, m_ty)
            .map_err(|e| InstantiateError::Resource(format!("wasmi: {e}")))?;
        self.memories.push(memory);
        Ok(self.memories.len() as MemAddr - 1)
    }

    fn alloc_table(&mut self, ty: TableType, init: Value) -> TableAddr {
        let elem = wi_reftype(ty.elem);
        let t_ty = if ty.table64 {
            wi::TableType::new64(elem, ty.limits.min, ty.limits.max)
        } else {
            wi::TableType::new(elem, ty.limits.min as u32, ty.limits.max.map(|m| m as u32))
        };
        let table = to_ref(&mut self.store, &init)
            .and_then(|r| wi::Table::new(&mut self.store, t_ty, r).map_err(|e| e.to_string()))
            .unwrap_or_else(|e| panic!("wasmi: allocating a table of type {ty:?}: {e}"));
        self.tables.push(table);
        self.tables.len() as TableAddr - 1
    }

    fn extern_type(&self, e: Extern) -> ExternType {
        let store = &self.store;
        match e {
            Extern::Func(f) => {
                let ty = store.data().funcs[f as usize].ty(store);
                ExternType::Func(FuncType {
                    params: ty.params().iter().map(|t| from_valtype(*t)).collect(),
                    results: ty.results().iter().map(|t| from_valtype(*t)).collect(),
                })
            }
            Extern::Table(t) => {
                let table = self.tables[t as usize];
                let ty = table.ty(store);
                ExternType::Table(TableType {
                    elem: from_reftype(ty.element()),
                    limits: SizeLimits {
                        min: table.size(store),
                        max: ty.maximum(),
                    },
                    table64: ty.is_64(),
                })
            }
            Extern::Memory(m) => {
                let memory = self.memories[m as usize];
                let ty = memory.ty(store);
                ExternType::Memory(MemoryType {
                    limits: SizeLimits {
                        min: memory.size(store),
                        max: ty.maximum(),
                    },
                    memory64: ty.is_64(),
                })
            }
            Extern::Global(g) => {
                let ty = self.globals[g as usize].ty(store);
                ExternType::Global(GlobalType {
                    ty: from_valtype(ty.content()),
                    mutable: ty.mutability() == wi::Mutability::Var,
                })
            }
        }
    }

    fn global_get(&self, g: GlobalAddr) -> Value {
        let v = self.globals[g as usize].get(&self.store);
        from_val(&self.store, &v).unwrap_or_else(|e| {
            engine_error(e);
            Value::I32(0)
        })
    }

    fn memory_data(&self, m: MemAddr) -> &[u8] {
        self.memories[m as usize].data(&self.store)
    }

    fn table_size(&self, t: TableAddr) -> u64 {
        self.tables[t as usize].size(&self.store)
    }

    fn table_get(&self, t: TableAddr, idx: u64) -> Option<Value> {
        let r = self.tables[t as usize].get(&self.store, idx)?;
        Some(from_ref(&self.store, &r).unwrap_or_else(|e| {
            engine_error(e);
            Value::FuncRef(None)
        }))
    }
}
