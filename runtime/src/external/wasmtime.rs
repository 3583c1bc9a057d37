//! Wasmtime 48.0.8 as a shoal [`Engine`]: the production wasm translator
//! on the same Cranelift 0.135.8, compiled either natively
//! ([`WasmtimeStrategy::Cranelift`]) or to Pulley bytecode run by Pulley's
//! interpreter ([`WasmtimeStrategy::Pulley`]).
//!
//! Configuration: the wasm features of
//! [`SUPPORTED_FEATURES`](crate::module::SUPPORTED_FEATURES) (nothing
//! else), Cranelift's verifier on, NaN canonicalisation off (wasmtime's
//! default), single-threaded compilation, fuel metering with every
//! operator costing at most one unit (bulk operations charge nothing per
//! byte, so [`fuel_budget`](super::fuel_budget) bounds them), wasm stack of
//! [`MAX_WASM_STACK`](super::MAX_WASM_STACK) bytes. Limits, traps and
//! addresses follow the rules in [`super`].

use std::cell::RefCell;
use std::collections::HashMap;

use ::wasmtime as wt;

use super::{ExportNames, MAX_WASM_STACK, check_caps, export_everything, fuel_budget};
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

/// How wasmtime compiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WasmtimeStrategy {
    /// Cranelift for the host ISA (its default flags for this CPU).
    Cranelift,
    /// Cranelift's Pulley backend, run by the Pulley interpreter.
    Pulley,
}

impl WasmtimeStrategy {
    /// The engine name: `wasmtime` or `wasmtime-pulley`.
    pub fn name(self) -> &'static str {
        match self {
            WasmtimeStrategy::Cranelift => "wasmtime",
            WasmtimeStrategy::Pulley => "wasmtime-pulley",
        }
    }
}

/// A wasmtime engine (cheap to clone; compiled code is not cached across
/// stores).
#[derive(Clone)]
pub struct WasmtimeEngine {
    engine: wt::Engine,
    strategy: WasmtimeStrategy,
}

impl std::fmt::Debug for WasmtimeEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WasmtimeEngine({})", self.strategy.name())
    }
}

impl WasmtimeEngine {
    /// Builds the engine; fails if wasmtime rejects the configuration.
    pub fn new(strategy: WasmtimeStrategy) -> Result<WasmtimeEngine, String> {
        let engine = wt::Engine::new(&config(strategy)?).map_err(|e| format!("wasmtime: {e}"))?;
        Ok(WasmtimeEngine { engine, strategy })
    }

    /// The compilation strategy.
    pub fn strategy(&self) -> WasmtimeStrategy {
        self.strategy
    }

    /// A fresh store with its concrete type.
    pub fn wasmtime_store(&self, limits: Limits) -> WasmtimeStore {
        WasmtimeStore::new(&self.engine, limits)
    }
}

fn config(strategy: WasmtimeStrategy) -> Result<wt::Config, String> {
    let mut c = wt::Config::new();
    c.strategy(wt::Strategy::Cranelift)
        .cranelift_opt_level(wt::OptLevel::Speed)
        .cranelift_debug_verifier(true)
        .cranelift_nan_canonicalization(false)
        .wasm_backtrace_max_frames(None)
        .consume_fuel(true)
        .operator_cost(unit_costs())
        .max_wasm_stack(MAX_WASM_STACK)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_multi_value(true)
        .wasm_simd(true)
        .wasm_relaxed_simd(false)
        .wasm_multi_memory(true)
        .wasm_memory64(true)
        .wasm_tail_call(true)
        .wasm_extended_const(true)
        .wasm_function_references(false)
        .wasm_gc(false);
    if strategy == WasmtimeStrategy::Pulley {
        // Pulley of the host's pointer width (shoal runs on 64-bit hosts).
        let target = format!("pulley{}", usize::BITS);
        c.target(&target)
            .map_err(|e| format!("wasmtime: target {target}: {e}"))?;
    }
    Ok(c)
}

/// Wasmtime's default operator costs (0 or 1 each) without the per-byte
/// and per-element charges of bulk operations.
fn unit_costs() -> wt::OperatorCost {
    let mut cost = wt::OperatorCost::new();
    let v = &mut cost.variable;
    v.memory_copy_per_byte = 0;
    v.memory_fill_per_byte = 0;
    v.memory_init_per_byte = 0;
    v.memory_grow_per_page = 0;
    v.table_copy_per_element = 0;
    v.table_fill_per_element = 0;
    v.table_init_per_element = 0;
    v.table_grow_per_element = 0;
    cost
}

impl Engine for WasmtimeEngine {
    fn name(&self) -> String {
        self.strategy.name().to_string()
    }

    fn new_store(&self, limits: Limits) -> Box<dyn Store> {
        Box::new(self.wasmtime_store(limits))
    }
}

/// Growth caps from [`Limits`] (see [`super`]: refusals below them are
/// incidents).
struct Caps {
    max_memory_bytes: u64,
    max_table_elems: u64,
}

impl wt::ResourceLimiter for Caps {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wt::Result<bool> {
        Ok(desired as u64 <= self.max_memory_bytes && maximum.is_none_or(|m| desired <= m))
    }

    fn memory_grow_failed(&mut self, error: wt::Error) -> wt::Result<()> {
        // Growth beyond the declared maximum or the caps never gets here
        // (refused above); growth beyond what the index type can address
        // does, without a `memory_growing` call, and is deterministic.
        let text = error.to_string();
        if !text.contains("memory type's limits") {
            incident::refused(format!("wasmtime: memory.grow: {text}"));
        }
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wt::Result<bool> {
        Ok(desired as u64 <= self.max_table_elems && maximum.is_none_or(|m| desired <= m))
    }

    fn table_grow_failed(&mut self, _error: wt::Error) -> wt::Result<()> {
        // Only overflowing sizes get here (deterministic): wasmtime reports
        // allocation failures of tables as errors of the instruction.
        Ok(())
    }
}

/// The wasmtime store's host data: the limiter, host closures, and the
/// address maps every conversion needs.
struct Host {
    caps: Caps,
    host_funcs: Vec<HostFunc>,
    funcs: Vec<wt::Func>,
    /// `Func::to_raw` → store address.
    func_addrs: HashMap<usize, FuncAddr>,
}

/// A store of a [`WasmtimeEngine`].
pub struct WasmtimeStore {
    engine: wt::Engine,
    store: RefCell<wt::Store<Host>>,
    limits: Limits,
    /// Fuel per call: the largest budget of any module instantiated here.
    budget: Option<u64>,
    tables: Vec<wt::Table>,
    memories: Vec<wt::Memory>,
    globals: Vec<wt::Global>,
    instances: Vec<Vec<(String, Extern)>>,
}

impl WasmtimeStore {
    fn new(engine: &wt::Engine, limits: Limits) -> WasmtimeStore {
        let host = Host {
            caps: Caps {
                max_memory_bytes: limits.max_memory_pages.saturating_mul(PAGE_SIZE),
                max_table_elems: limits.max_table_elems,
            },
            host_funcs: Vec::new(),
            funcs: Vec::new(),
            func_addrs: HashMap::new(),
        };
        let mut store = wt::Store::new(engine, host);
        store.limiter(|h| &mut h.caps);
        WasmtimeStore {
            engine: engine.clone(),
            store: RefCell::new(store),
            limits,
            budget: Some(0),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            instances: Vec::new(),
        }
    }

    fn set_fuel(&mut self) {
        let fuel = self.budget.unwrap_or(i64::MAX as u64);
        // Fuel is enabled in every configuration this module builds.
        let _ = self.store.get_mut().set_fuel(fuel);
    }

    fn push_func(&mut self, f: wt::Func) -> FuncAddr {
        let store = self.store.get_mut();
        let raw = f.to_raw(&mut *store) as usize;
        let host = store.data_mut();
        let addr = host.funcs.len() as FuncAddr;
        host.funcs.push(f);
        host.func_addrs.entry(raw).or_insert(addr);
        addr
    }

    fn wt_extern(&self, e: Extern) -> wt::Extern {
        match e {
            Extern::Func(f) => self.store.borrow().data().funcs[f as usize].into(),
            Extern::Table(t) => self.tables[t as usize].into(),
            Extern::Memory(m) => self.memories[m as usize].into(),
            Extern::Global(g) => self.globals[g as usize].into(),
        }
    }

    /// Records every entity of a new instance and returns its exports.
    fn register(
        &mut self,
        module: &Module,
        instance: wt::Instance,
        names: &ExportNames,
        imports: &[Extern],
    ) -> Result<Vec<(String, Extern)>, InstantiateError> {
        let missing = |what: String| InstantiateError::Engine(format!("wasmtime lost {what}"));
        let imported = |kind: ExternKind| {
            imports
                .iter()
                .zip(&module.imports)
                .filter(move |(_, imp)| kind_of(&imp.ty) == kind)
                .map(|(e, _)| *e)
        };
        let mut funcs: Vec<FuncAddr> = imported(ExternKind::Func)
            .filter_map(|e| match e {
                Extern::Func(f) => Some(f),
                _ => None,
            })
            .collect();
        for i in module.num_imported_funcs..module.funcs.len() as u32 {
            let f = instance
                .get_func(self.store.get_mut(), &names.func(i))
                .ok_or_else(|| missing(format!("function {i}")))?;
            funcs.push(self.push_func(f));
        }
        let mut tables = addrs(imported(ExternKind::Table));
        for i in module.num_imported_tables..module.tables.len() as u32 {
            let t = instance
                .get_table(self.store.get_mut(), &names.table(i))
                .ok_or_else(|| missing(format!("table {i}")))?;
            tables.push(self.tables.len() as TableAddr);
            self.tables.push(t);
        }
        let mut memories = addrs(imported(ExternKind::Memory));
        for i in module.num_imported_memories..module.memories.len() as u32 {
            let m = instance
                .get_memory(self.store.get_mut(), &names.memory(i))
                .ok_or_else(|| missing(format!("memory {i}")))?;
            memories.push(self.memories.len() as MemAddr);
            self.memories.push(m);
        }
        let mut globals = addrs(imported(ExternKind::Global));
        for i in module.num_imported_globals..module.globals.len() as u32 {
            let g = instance
                .get_global(self.store.get_mut(), &names.global(i))
                .ok_or_else(|| missing(format!("global {i}")))?;
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

/// The addresses of imported entities of one kind (the store's address
/// space of that kind is the `u32` inside every [`Extern`]).
fn addrs(imports: impl Iterator<Item = Extern>) -> Vec<u32> {
    imports
        .map(|e| match e {
            Extern::Func(a) | Extern::Table(a) | Extern::Memory(a) | Extern::Global(a) => a,
        })
        .collect()
}

fn kind_of(ty: &ExternType) -> ExternKind {
    match ty {
        ExternType::Func(_) => ExternKind::Func,
        ExternType::Table(_) => ExternKind::Table,
        ExternType::Memory(_) => ExternKind::Memory,
        ExternType::Global(_) => ExternKind::Global,
    }
}

/// Maps a wasmtime trap code onto shoal's (see [`super`] for the one
/// merged pair); `None` for codes wasm 2.0 cannot raise.
fn map_trap(t: wt::Trap) -> Option<Trap> {
    Some(match t {
        wt::Trap::StackOverflow => Trap::CallStackExhausted,
        wt::Trap::MemoryOutOfBounds => Trap::MemoryOutOfBounds,
        wt::Trap::TableOutOfBounds => Trap::TableOutOfBounds,
        wt::Trap::IndirectCallToNull => Trap::UninitializedElement,
        wt::Trap::BadSignature => Trap::IndirectCallTypeMismatch,
        wt::Trap::IntegerOverflow => Trap::IntegerOverflow,
        wt::Trap::IntegerDivisionByZero => Trap::IntegerDivideByZero,
        wt::Trap::BadConversionToInteger => Trap::InvalidConversionToInteger,
        wt::Trap::UnreachableCodeReached => Trap::Unreachable,
        wt::Trap::OutOfFuel => Trap::OutOfFuel,
        _ => return None,
    })
}

/// The trap behind a wasmtime error: a wasm trap, or a host function's
/// trap passed through; anything else is an engine error.
fn trap_of(e: &wt::Error) -> Result<Trap, String> {
    if let Some(t) = e.downcast_ref::<Trap>() {
        return Ok(*t);
    }
    match e.downcast_ref::<wt::Trap>() {
        Some(t) => map_trap(*t).ok_or_else(|| format!("unexpected wasmtime trap: {t}")),
        None => Err(format!("{e:?}")),
    }
}

/// The outcome of a failed call: the trap, or — when wasmtime failed
/// because the host ran out of memory (a table growing below the cap) or
/// for another reason — an incident and a placeholder trap.
fn call_error(e: &wt::Error) -> Trap {
    match trap_of(e) {
        Ok(t) => t,
        Err(why) if is_resource_error(e) => {
            incident::refused(format!("wasmtime: {why}"));
            Trap::Host
        }
        Err(why) => engine_error(why),
    }
}

fn wt_valtype(t: ValType) -> wt::ValType {
    match t {
        ValType::I32 => wt::ValType::I32,
        ValType::I64 => wt::ValType::I64,
        ValType::F32 => wt::ValType::F32,
        ValType::F64 => wt::ValType::F64,
        ValType::V128 => wt::ValType::V128,
        ValType::FuncRef => wt::ValType::FUNCREF,
        ValType::ExternRef => wt::ValType::EXTERNREF,
    }
}

fn from_valtype(t: &wt::ValType) -> Option<ValType> {
    Some(match t {
        wt::ValType::I32 => ValType::I32,
        wt::ValType::I64 => ValType::I64,
        wt::ValType::F32 => ValType::F32,
        wt::ValType::F64 => ValType::F64,
        wt::ValType::V128 => ValType::V128,
        t if t.is_funcref() => ValType::FuncRef,
        t if t.is_externref() => ValType::ExternRef,
        _ => return None,
    })
}

fn from_reftype(r: &wt::RefType) -> Option<ValType> {
    from_valtype(&wt::ValType::Ref(r.clone()))
}

fn wt_reftype(t: ValType) -> wt::RefType {
    match t {
        ValType::ExternRef => wt::RefType::EXTERNREF,
        _ => wt::RefType::FUNCREF,
    }
}

fn wt_functype(engine: &wt::Engine, ty: &FuncType) -> wt::FuncType {
    wt::FuncType::new(
        engine,
        ty.params.iter().map(|t| wt_valtype(*t)),
        ty.results.iter().map(|t| wt_valtype(*t)),
    )
}

/// A shoal value as a wasmtime value in `store`.
fn to_val(mut store: impl wt::AsContextMut<Data = Host>, v: &Value) -> wt::Result<wt::Val> {
    Ok(match *v {
        Value::I32(x) => wt::Val::I32(x),
        Value::I64(x) => wt::Val::I64(x),
        Value::F32(b) => wt::Val::F32(b),
        Value::F64(b) => wt::Val::F64(b),
        Value::V128(x) => wt::Val::V128(x.into()),
        Value::FuncRef(None) => wt::Val::FuncRef(None),
        Value::FuncRef(Some(a)) => {
            let f = store.as_context().data().funcs.get(a as usize).copied();
            wt::Val::FuncRef(Some(f.ok_or_else(|| {
                wt::format_err!("funcref to unknown function address {a}")
            })?))
        }
        Value::ExternRef(None) => wt::Val::ExternRef(None),
        Value::ExternRef(Some(n)) => wt::Val::ExternRef(Some(wt::ExternRef::new(&mut store, n)?)),
    })
}

fn to_ref(store: impl wt::AsContextMut<Data = Host>, v: &Value) -> wt::Result<wt::Ref> {
    Ok(match to_val(store, v)? {
        wt::Val::FuncRef(f) => wt::Ref::Func(f),
        wt::Val::ExternRef(r) => wt::Ref::Extern(r),
        other => wt::bail!("not a reference: {other:?}"),
    })
}

/// A wasmtime value as a shoal value.
fn from_val(mut store: impl wt::AsContextMut<Data = Host>, v: &wt::Val) -> Result<Value, String> {
    Ok(match v {
        wt::Val::I32(x) => Value::I32(*x),
        wt::Val::I64(x) => Value::I64(*x),
        wt::Val::F32(b) => Value::F32(*b),
        wt::Val::F64(b) => Value::F64(*b),
        wt::Val::V128(x) => Value::V128(x.as_u128()),
        wt::Val::FuncRef(f) => Value::FuncRef(f.map(|f| func_addr(&mut store, &f)).transpose()?),
        wt::Val::ExternRef(r) => Value::ExternRef(match r {
            None => None,
            Some(r) => Some(externref_payload(&store, r)?),
        }),
        other => return Err(format!("value outside wasm 2.0: {other:?}")),
    })
}

fn from_ref(store: impl wt::AsContextMut<Data = Host>, r: &wt::Ref) -> Result<Value, String> {
    match r {
        wt::Ref::Func(f) => from_val(store, &wt::Val::FuncRef(*f)),
        wt::Ref::Extern(e) => from_val(store, &wt::Val::ExternRef(*e)),
        other => Err(format!("reference outside wasm 2.0: {other:?}")),
    }
}

fn func_addr(
    mut store: impl wt::AsContextMut<Data = Host>,
    f: &wt::Func,
) -> Result<FuncAddr, String> {
    let raw = f.to_raw(&mut store) as usize;
    store
        .as_context()
        .data()
        .func_addrs
        .get(&raw)
        .copied()
        .ok_or_else(|| "funcref to a function this store never allocated".to_string())
}

fn externref_payload(
    store: &impl wt::AsContextMut<Data = Host>,
    r: &wt::Rooted<wt::ExternRef>,
) -> Result<u32, String> {
    let data = r
        .data(store.as_context())
        .map_err(|e| format!("externref: {e}"))?;
    data.and_then(|d| d.downcast_ref::<u32>())
        .copied()
        .ok_or_else(|| "externref without a u32 payload".to_string())
}

/// Reports a conversion or engine error as an incident; the returned trap
/// is a placeholder the oracle never compares (the incident wins).
fn engine_error(e: String) -> Trap {
    incident::report(Incident::EngineError(format!("wasmtime: {e}")));
    Trap::Host
}

impl Store for WasmtimeStore {
    fn instantiate(
        &mut self,
        module: &Module,
        imports: &[Extern],
    ) -> Result<InstanceId, InstantiateError> {
        check_imports(self, module, imports)?;
        check_caps(module, &self.limits)?;
        let (bytes, names) = export_everything(module).map_err(InstantiateError::Engine)?;
        let compiled = wt::Module::new(&self.engine, &bytes)
            .map_err(|e| InstantiateError::Engine(format!("wasmtime: {e:?}")))?;
        let externs: Vec<wt::Extern> = imports.iter().map(|e| self.wt_extern(*e)).collect();
        self.budget = match (self.budget, fuel_budget(module, &self.limits)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        self.set_fuel();
        let instance = match wt::Instance::new(self.store.get_mut(), &compiled, &externs) {
            Ok(i) => i,
            Err(e) => {
                return Err(match trap_of(&e) {
                    Ok(t) => InstantiateError::Trap(t),
                    Err(why) if is_resource_error(&e) => InstantiateError::Resource(why),
                    Err(why) => InstantiateError::Engine(format!("wasmtime: {why}")),
                });
            }
        };
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
        let store = self.store.get_mut();
        let f = store.data().funcs[func as usize];
        let mut params = Vec::with_capacity(args.len());
        for a in args {
            params.push(to_val(&mut *store, a).map_err(|e| engine_error(e.to_string()))?);
        }
        let mut results = vec![wt::Val::I32(0); f.ty(&*store).results().len()];
        match f.call(&mut *store, &params, &mut results) {
            Ok(()) => results
                .iter()
                .map(|v| from_val(&mut *store, v))
                .collect::<Result<Vec<_>, _>>()
                .map_err(engine_error),
            Err(e) => Err(call_error(&e)),
        }
    }

    fn alloc_host_func(&mut self, ty: FuncType, f: HostFunc) -> FuncAddr {
        let wt_ty = wt_functype(&self.engine, &ty);
        let store = self.store.get_mut();
        let index = store.data().host_funcs.len();
        store.data_mut().host_funcs.push(f);
        let func = wt::Func::new(&mut *store, wt_ty, move |mut caller, params, results| {
            let args = params
                .iter()
                .map(|p| from_val(&mut caller, p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| wt::format_err!("{e}"))?;
            let out = (caller.data_mut().host_funcs[index])(&args).map_err(wt::Error::new)?;
            if out.len() != results.len() {
                wt::bail!(
                    "host function returned {} values, expected {}",
                    out.len(),
                    results.len()
                );
            }
            for (slot, v) in results.iter_mut().zip(&out) {
                *slot = to_val(&mut caller, v)?;
            }
            Ok(())
        });
        self.push_func(func)
    }

    fn alloc_global(&mut self, ty: GlobalType, init: Value) -> GlobalAddr {
        let store = self.store.get_mut();
        let mutability = if ty.mutable {
            wt::Mutability::Var
        } else {
            wt::Mutability::Const
        };
        let g_ty = wt::GlobalType::new(wt_valtype(ty.ty), mutability);
        let global = to_val(&mut *store, &init)
            .and_then(|v| wt::Global::new(&mut *store, g_ty, v))
            .unwrap_or_else(|e| panic!("wasmtime: allocating a global of type {ty:?}: {e}"));
        self.globals.push(global);
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
            wt::MemoryType::new64(ty.limits.min, ty.limits.max)
        } else {
            wt::MemoryType::new(ty.limits.min as u32, ty.limits.max.map(|m| m as u32))
        };
        let memory = wt::Memory::new(self.store.get_mut(), m_ty)
            .map_err(|e| InstantiateError::Resource(format!("wasmtime: {e}")))?;
        self.memories.push(memory);
        Ok(self.memories.len() as MemAddr - 1)
    }

    fn alloc_table(&mut self, ty: TableType, init: Value) -> TableAddr {
        let store = self.store.get_mut();
        let elem = wt_reftype(ty.elem);
        let t_ty = if ty.table64 {
            wt::TableType::new64(elem, ty.limits.min, ty.limits.max)
        } else {
            wt::TableType::new(elem, ty.limits.min as u32, ty.limits.max.map(|m| m as u32))
        };
        let table = to_ref(&mut *store, &init)
            .and_then(|r| wt::Table::new(&mut *store, t_ty, r))
            .unwrap_or_else(|e| panic!("wasmtime: allocating a table of type {ty:?}: {e}"));
        self.tables.push(table);
        self.tables.len() as TableAddr - 1
    }

    fn extern_type(&self, e: Extern) -> ExternType {
        let mut store = self.store.borrow_mut();
        let store = &mut *store;
        match e {
            Extern::Func(f) => {
                let ty = store.data().funcs[f as usize].ty(&*store);
                ExternType::Func(FuncType {
                    params: ty.params().filter_map(|t| from_valtype(&t)).collect(),
                    results: ty.results().filter_map(|t| from_valtype(&t)).collect(),
                })
            }
            Extern::Table(t) => {
                let table = self.tables[t as usize];
                let ty = table.ty(&*store);
                ExternType::Table(TableType {
                    elem: from_reftype(ty.element()).unwrap_or(ValType::FuncRef),
                    limits: SizeLimits {
                        min: table.size(&*store),
                        max: ty.maximum(),
                    },
                    table64: ty.is_64(),
                })
            }
            Extern::Memory(m) => {
                let memory = self.memories[m as usize];
                let ty = memory.ty(&*store);
                ExternType::Memory(MemoryType {
                    limits: SizeLimits {
                        min: memory.size(&*store),
                        max: ty.maximum(),
                    },
                    memory64: ty.is_64(),
                })
            }
            Extern::Global(g) => {
                let ty = self.globals[g as usize].ty(&*store);
                ExternType::Global(GlobalType {
                    ty: from_valtype(ty.content()).unwrap_or(ValType::I32),
                    mutable: ty.mutability() == wt::Mutability::Var,
                })
            }
        }
    }

    fn global_get(&self, g: GlobalAddr) -> Value {
        let mut store = self.store.borrow_mut();
        let v = self.globals[g as usize].get(&mut *store);
        from_val(&mut *store, &v).unwrap_or_else(|e| {
            engine_error(e);
            Value::I32(0)
        })
    }

    fn memory_data(&self, m: MemAddr) -> &[u8] {
        let store = self.store.borrow();
        let memory = self.memories[m as usize];
        let (ptr, len) = (memory.data_ptr(&*store), memory.data_size(&*store));
        if len == 0 {
            return &[];
        }
        // SAFETY: the memory's buffer belongs to the store, which `self`
        // owns; the buffer moves or is freed only when the memory grows
        // (a call or instantiation) or the store drops, all of which need
        // `&mut self`, impossible while the returned borrow of `self`
        // lives. The `&self` methods that borrow the store mutably
        // (`global_get`, `table_get`, `extern_type`) never touch memories.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }

    fn table_size(&self, t: TableAddr) -> u64 {
        self.tables[t as usize].size(&*self.store.borrow())
    }

    fn table_get(&self, t: TableAddr, idx: u64) -> Option<Value> {
        let mut store = self.store.borrow_mut();
        let r = self.tables[t as usize].get(&mut *store, idx)?;
        Some(from_ref(&mut *store, &r).unwrap_or_else(|e| {
            engine_error(e);
            Value::FuncRef(None)
        }))
    }
}

/// Errors of instance creation caused by the host running out of memory
/// or address space.
fn is_resource_error(e: &wt::Error) -> bool {
    e.downcast_ref::<wt::OutOfMemory>().is_some() || e.downcast_ref::<std::io::Error>().is_some()
}
