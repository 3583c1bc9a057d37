//! Module instantiation, in the spec's order.
//!
//! 1. Imports are checked ([`check_imports`]) and every index space is
//!    resolved to the store addresses the new entities *will* get;
//!    resource caps are checked and all functions are translated. Any
//!    failure so far leaves the store unchanged.
//! 2. Functions, tables, memories, globals (whose initialisers may read
//!    imported and earlier globals), element and data segments are
//!    allocated, and the export list is recorded.
//! 3. Active element segments are copied into tables in order, then
//!    dropped; declared ones are dropped; active data segments are copied
//!    into memories in order, then dropped; finally the start function runs
//!    (with fresh fuel, as a top-level call). A trap in this phase returns
//!    [`InstantiateError::Trap`]; effects already performed stay.

use super::code::{NULL_REF, slot_to_value, value_to_slot};
use super::store::{FuncInst, GlobalInst, InterpStore};
use super::table::TableInst;
use super::translate::{Link, translate};
use super::{memory, table};
use crate::engine::{Extern, InstanceId, InstantiateError, check_imports};
use crate::module::{ConstExpr, DataMode, ElemMode, ExternKind, Module};
use crate::values::Value;

/// Instantiates `module` into `store`.
pub(crate) fn instantiate(
    store: &mut InterpStore,
    module: &Module,
    imports: &[Extern],
) -> Result<InstanceId, InstantiateError> {
    check_imports(store, module, imports)?;
    let link = resolve(store, module, imports)?;
    check_resources(store, module)?;
    let funcs = translate_all(store, module, &link)?;
    allocate(store, module, &link, funcs)?;
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
    store.instances.push(exports);
    let id = InstanceId(store.instances.len() as u32 - 1);
    initialize(store, module, &link)?;
    if let Some(start) = module.start {
        super::exec::invoke(store, link.funcs[start as usize], &[])
            .map_err(InstantiateError::Trap)?;
    }
    Ok(id)
}

/// Resolves every index space: imports first, then the addresses the
/// module's own entities will be allocated at.
fn resolve(
    store: &mut InterpStore,
    module: &Module,
    imports: &[Extern],
) -> Result<Link, InstantiateError> {
    let mut link = Link {
        types: module.types.iter().map(|t| store.types.intern(t)).collect(),
        ..Link::default()
    };
    for ext in imports {
        match *ext {
            Extern::Func(a) => link.funcs.push(a),
            Extern::Table(a) => link.tables.push(a),
            Extern::Memory(a) => link.mems.push(a),
            Extern::Global(a) => link.globals.push(a),
        }
    }
    let rt = &store.rt;
    let next = |len: usize, n: usize| (len as u32..).take(n);
    link.funcs.extend(next(rt.funcs.len(), module.bodies.len()));
    link.tables.extend(next(
        rt.tables.len(),
        module.tables.len() - module.num_imported_tables as usize,
    ));
    link.mems.extend(next(
        rt.memories.len(),
        module.memories.len() - module.num_imported_memories as usize,
    ));
    link.globals
        .extend(next(rt.globals.len(), module.global_inits.len()));
    link.elems.extend(next(rt.elems.len(), module.elems.len()));
    link.datas.extend(next(rt.datas.len(), module.datas.len()));
    Ok(link)
}

/// Refuses modules whose own memories or tables start above the growth
/// caps (they could never exist on another engine either).
fn check_resources(store: &InterpStore, module: &Module) -> Result<(), InstantiateError> {
    let limits = &store.limits;
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

/// Translates every defined function; on failure the arena is restored.
fn translate_all(
    store: &mut InterpStore,
    module: &Module,
    link: &Link,
) -> Result<Vec<FuncInst>, InstantiateError> {
    let mark = store.code.mark();
    let mut funcs = Vec::with_capacity(module.bodies.len());
    for def in 0..module.bodies.len() as u32 {
        match translate(&mut store.code, module, link, def, store.fault) {
            Ok(f) => funcs.push(FuncInst::Wasm(f)),
            Err(e) => {
                store.code.rollback(mark);
                return Err(InstantiateError::Engine(format!(
                    "interp: function {}: {e}",
                    module.num_imported_funcs + def
                )));
            }
        }
    }
    Ok(funcs)
}

/// Evaluates a constant expression in the context of the instance.
fn eval(store: &InterpStore, link: &Link, e: &ConstExpr) -> Value {
    let globals = &store.rt.globals;
    let global = |i: u32| {
        let g = &globals[link.globals[i as usize] as usize];
        slot_to_value(g.value, g.ty.ty)
    };
    let func = |i: u32| Value::FuncRef(Some(link.funcs[i as usize]));
    e.eval(&global, &func)
}

/// Allocates the module's entities (phase 2).
fn allocate(
    store: &mut InterpStore,
    module: &Module,
    link: &Link,
    funcs: Vec<FuncInst>,
) -> Result<(), InstantiateError> {
    store.rt.funcs.extend(funcs);
    for t in &module.tables[module.num_imported_tables as usize..] {
        store.rt.tables.push(TableInst {
            ty: *t,
            elems: vec![NULL_REF; t.limits.min as usize],
        });
    }
    for m in &module.memories[module.num_imported_memories as usize..] {
        store.push_memory(*m)?;
    }
    let first = module.num_imported_globals as usize;
    for (init, ty) in module.global_inits.iter().zip(&module.globals[first..]) {
        let v = eval(store, link, init);
        store.rt.globals.push(GlobalInst {
            ty: *ty,
            value: value_to_slot(v),
        });
    }
    for seg in &module.elems {
        let items = seg
            .items
            .iter()
            .map(|e| value_to_slot(eval(store, link, e)) as u64)
            .collect();
        store.rt.elems.push(items);
    }
    for (i, seg) in module.datas.iter().enumerate() {
        let bytes = match seg.mode {
            DataMode::Passive => module.data_bytes(i as u32).to_vec(),
            // Active segments are applied from the module's bytes and then
            // dropped, so their instance never needs a copy.
            DataMode::Active { .. } => Vec::new(),
        };
        store.rt.datas.push(bytes);
    }
    Ok(())
}

/// The offset an active segment's expression evaluates to.
fn offset(v: Value) -> u64 {
    match v {
        Value::I32(x) => x as u32 as u64,
        Value::I64(x) => x as u64,
        other => value_to_slot(other) as u64,
    }
}

/// Applies active segments (phase 3, before the start function).
fn initialize(
    store: &mut InterpStore,
    module: &Module,
    link: &Link,
) -> Result<(), InstantiateError> {
    for (i, seg) in module.elems.iter().enumerate() {
        let addr = link.elems[i] as usize;
        match &seg.mode {
            ElemMode::Passive => {}
            ElemMode::Declared => store.rt.elems[addr].clear(),
            ElemMode::Active {
                table: t,
                offset: e,
            } => {
                let dst = offset(eval(store, link, e));
                let rt = &mut store.rt;
                let items = std::mem::take(&mut rt.elems[addr]);
                let tab = &mut rt.tables[link.tables[*t as usize] as usize];
                table::init(tab, &items, dst, 0, items.len() as u64)
                    .map_err(InstantiateError::Trap)?;
            }
        }
    }
    for (i, seg) in module.datas.iter().enumerate() {
        if let DataMode::Active {
            memory: m,
            offset: e,
        } = &seg.mode
        {
            let dst = offset(eval(store, link, e));
            let bytes = module.data_bytes(i as u32);
            let mem = &mut store.rt.memories[link.mems[*m as usize] as usize];
            memory::init(&mut mem.data, bytes, dst, 0, bytes.len() as u64)
                .map_err(InstantiateError::Trap)?;
        }
    }
    Ok(())
}
