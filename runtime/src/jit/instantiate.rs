//! Module instantiation, in the spec's (and the interpreter's) order.
//!
//! 1. Imports are checked (by the caller), resource caps are checked and
//!    the module is compiled. Any failure so far leaves the store unchanged.
//! 2. Functions, tables, memories, globals (whose initialisers may read
//!    imported and earlier globals), element and data segments are
//!    allocated; the `vmctx` is filled in and the exports recorded.
//! 3. Active element segments are copied into tables in order, then
//!    dropped; declared ones are dropped; active data segments are copied
//!    into memories in order; finally the start function runs as a
//!    top-level call. A trap here returns [`InstantiateError::Trap`] and the
//!    effects already performed stay.

use crate::engine::{Extern, InstanceId, InstantiateError};
use crate::jit::code::CodeUnit;
use crate::jit::compile::compile_module;
use crate::jit::libcalls::{self, range};
use crate::jit::store::{InstanceData, StoreInner, TableEntry, invoke};
use crate::jit::vmctx::{VMOffsets, header};
use crate::module::{ConstExpr, DataMode, ElemMode, ExternKind, Module};
use crate::trap::Trap;
use crate::values::Value;

/// Store addresses of every index space of the instance being built.
#[derive(Default)]
struct Link {
    funcs: Vec<u32>,
    tables: Vec<u32>,
    mems: Vec<u32>,
    globals: Vec<u32>,
}

/// Instantiates `module` (imports already checked).
///
/// # Safety
/// `s` must point to a live store that nothing else accesses meanwhile.
pub(crate) unsafe fn instantiate(
    s: *mut StoreInner,
    module: &Module,
    imports: &[Extern],
) -> Result<InstanceId, InstantiateError> {
    // SAFETY: per the contract; `store` is not used across `invoke`.
    let store = unsafe { &mut *s };
    check_resources(store, module)?;
    // A Cranelift panic is an engine failure (a finding), not a crash.
    let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        compile_module(module, &store.config, &*store.isa)
    }))
    .unwrap_or_else(|p| Err(format!("Cranelift panicked: {}", panic_text(&p))));
    let linked = compiled.map_err(|e| InstantiateError::Engine(format!("jit: {e}")))?;
    let unit = CodeUnit::register(linked);
    let link = allocate(store, s, module, imports, unit)?;
    let id = InstanceId(store.instances.len() as u32 - 1);
    initialize(store, module, &link).map_err(InstantiateError::Trap)?;
    if let Some(start) = module.start {
        // SAFETY: per the contract.
        unsafe { invoke(s, link.funcs[start as usize], &[]) }.map_err(InstantiateError::Trap)?;
    }
    Ok(id)
}

/// The message of a panic payload.
fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Refuses modules whose own memories or tables start larger than the
/// store's growth caps ([`crate::trap::Limits`]).
fn check_resources(store: &StoreInner, module: &Module) -> Result<(), InstantiateError> {
    let limits = store.limits();
    for m in &module.memories[module.num_imported_memories as usize..] {
        if m.limits.min > limits.max_memory_pages {
            return Err(InstantiateError::Resource(format!(
                "memory of {} pages exceeds the cap of {} pages",
                m.limits.min, limits.max_memory_pages
            )));
        }
    }
    for t in &module.tables[module.num_imported_tables as usize..] {
        if t.limits.min > limits.max_table_elems {
            return Err(InstantiateError::Resource(format!(
                "table of {} elements exceeds the cap of {} elements",
                t.limits.min, limits.max_table_elems
            )));
        }
    }
    Ok(())
}

fn eval(store: &StoreInner, link: &Link, e: &ConstExpr) -> Value {
    let global = |i: u32| store.global_value(link.globals[i as usize]);
    let func = |i: u32| Value::FuncRef(Some(link.funcs[i as usize]));
    e.eval(&global, &func)
}

/// Allocates every entity, builds the vmctx and registers the instance.
fn allocate(
    store: &mut StoreInner,
    s: *mut StoreInner,
    module: &Module,
    imports: &[Extern],
    unit: CodeUnit,
) -> Result<Link, InstantiateError> {
    let offsets = VMOffsets::new(module);
    let mut vmctx: Box<[u64]> = vec![0u64; offsets.slots()].into_boxed_slice();
    let vmctx_ptr = vmctx.as_mut_ptr().cast::<u8>();
    let mut link = Link::default();
    for ext in imports {
        match *ext {
            Extern::Func(a) => link.funcs.push(a),
            Extern::Table(a) => link.tables.push(a),
            Extern::Memory(a) => link.mems.push(a),
            Extern::Global(a) => link.globals.push(a),
        }
    }
    for (i, ty) in module.types.iter().enumerate() {
        vmctx[offsets.type_slot(i as u32)] = store.types.intern(ty);
    }
    for def in 0..module.bodies.len() {
        let idx = module.num_imported_funcs + def as u32;
        let ty = module.func_type(idx).clone();
        link.funcs
            .push(store.push_func(ty, unit.func(def), vmctx_ptr));
    }
    for (i, &a) in link.funcs.iter().enumerate() {
        vmctx[offsets.func_slot(i as u32)] = store.funcref_ptr(a);
    }
    for t in &module.tables[module.num_imported_tables as usize..] {
        store.tables.push(TableEntry::new(*t, 0));
        link.tables.push(store.tables.len() as u32 - 1);
    }
    for (i, &a) in link.tables.iter().enumerate() {
        vmctx[offsets.table_slot(i as u32)] = &raw mut *store.tables[a as usize].vm as u64;
    }
    for m in &module.memories[module.num_imported_memories as usize..] {
        link.mems.push(store.push_memory(*m)?);
    }
    for (i, &a) in link.mems.iter().enumerate() {
        vmctx[offsets.memory_slot(i as u32)] = store.memories[a as usize].vm_ptr() as u64;
    }
    let first = module.num_imported_globals as usize;
    for (init, ty) in module.global_inits.iter().zip(&module.globals[first..]) {
        let v = eval(store, &link, init);
        link.globals.push(store.push_global(*ty, v));
    }
    for (i, &a) in link.globals.iter().enumerate() {
        vmctx[offsets.global_slot(i as u32)] = &raw mut *store.globals[a as usize].cell as u64;
    }
    let elems = module
        .elems
        .iter()
        .map(|seg| {
            seg.items
                .iter()
                .map(|e| store.value_to_raw(eval(store, &link, e)) as u64)
                .collect()
        })
        .collect();
    let datas = module
        .datas
        .iter()
        .enumerate()
        .map(|(i, seg)| match seg.mode {
            DataMode::Passive => module.data_bytes(i as u32).to_vec(),
            DataMode::Active { .. } => Vec::new(),
        })
        .collect();
    let exports = module
        .exports
        .iter()
        .map(|e| {
            let i = e.index as usize;
            let ext = match e.kind {
                ExternKind::Func => Extern::Func(link.funcs[i]),
                ExternKind::Table => Extern::Table(link.tables[i]),
                ExternKind::Memory => Extern::Memory(link.mems[i]),
                ExternKind::Global => Extern::Global(link.globals[i]),
            };
            (e.name.clone(), ext)
        })
        .collect();
    let mut inst = Box::new(InstanceData {
        vmctx,
        mems: link.mems.clone(),
        tables: link.tables.clone(),
        elems,
        datas,
        exports,
        store: s,
        _code: Some(unit),
    });
    let inst_ptr: *mut InstanceData = &mut *inst;
    inst.vmctx[VMOffsets::slot_of(header::RUNTIME)] = &raw mut *store.runtime as u64;
    inst.vmctx[VMOffsets::slot_of(header::INSTANCE)] = inst_ptr as u64;
    inst.vmctx[VMOffsets::slot_of(header::LIBCALLS)] = libcalls::table() as u64;
    store.instances.push(inst);
    Ok(link)
}

/// The offset an active segment's expression evaluates to.
fn offset(v: Value) -> u64 {
    match v {
        Value::I32(x) => u64::from(x as u32),
        Value::I64(x) => x as u64,
        _ => 0,
    }
}

/// Applies active segments (before the start function).
fn initialize(store: &mut StoreInner, module: &Module, link: &Link) -> Result<(), Trap> {
    let inst = store.instances.len() - 1;
    for (i, seg) in module.elems.iter().enumerate() {
        match &seg.mode {
            ElemMode::Passive => {}
            ElemMode::Declared => store.instances[inst].elems[i].clear(),
            ElemMode::Active { table, offset: e } => {
                let dst = offset(eval(store, link, e));
                let items = std::mem::take(&mut store.instances[inst].elems[i]);
                let t = &mut store.tables[link.tables[*table as usize] as usize];
                let r =
                    range(dst, items.len() as u64, t.elems.len()).ok_or(Trap::TableOutOfBounds)?;
                t.elems[r].copy_from_slice(&items);
            }
        }
    }
    for (i, seg) in module.datas.iter().enumerate() {
        if let DataMode::Active { memory, offset: e } = &seg.mode {
            let dst = offset(eval(store, link, e));
            let bytes = module.data_bytes(i as u32);
            let m = &mut store.memories[link.mems[*memory as usize] as usize];
            let r =
                range(dst, bytes.len() as u64, m.data().len()).ok_or(Trap::MemoryOutOfBounds)?;
            m.data_mut()[r].copy_from_slice(bytes);
        }
    }
    Ok(())
}
