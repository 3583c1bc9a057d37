//! Runtime functions called from generated code (System V ABI).
//!
//! Bulk operations validate their whole range first and report failure
//! through a nonzero status, never by unwinding: the generated caller then
//! raises the trap itself, so no Rust frame is ever skipped by a trap.
//! Semantics match the interpreter's (ranges checked before any write;
//! overlapping copies behave like `memmove`).

use std::ops::Range;
use std::sync::OnceLock;

use crate::jit::store::{InstanceData, StoreInner};
use crate::jit::vmctx::{Libcall, VMOffsets, header};

/// `start..start + len` if it lies within `size`.
pub(crate) fn range(start: u64, len: u64, size: usize) -> Option<Range<usize>> {
    let end = start.checked_add(len)?;
    if end > size as u64 {
        return None;
    }
    Some(start as usize..end as usize)
}

/// The instance and store behind a `vmctx`.
///
/// # Safety
/// `vmctx` must be a live instance's vmctx, called from its generated code.
unsafe fn parts<'a>(vmctx: *mut u8) -> (&'a mut InstanceData, &'a mut StoreInner) {
    // SAFETY: per the contract; the instance and store are distinct
    // allocations and libcalls never reach the instance through the store.
    unsafe {
        let slot = vmctx
            .cast::<u64>()
            .add(VMOffsets::slot_of(header::INSTANCE));
        let inst = &mut *(*slot as *mut InstanceData);
        let store = &mut *inst.store;
        (inst, store)
    }
}

const FAIL: u32 = 1;
const OK: u32 = 0;

unsafe extern "C" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u64) -> u64 {
    // SAFETY: called from generated code of a live instance.
    let (inst, store) = unsafe { parts(vmctx) };
    let cap = store.limits().max_memory_pages;
    let m = &mut store.memories[inst.mems[mem as usize] as usize];
    m.grow(delta, cap).unwrap_or(u64::MAX)
}

unsafe extern "C" fn memory_fill(vmctx: *mut u8, mem: u32, dst: u64, val: u32, len: u64) -> u32 {
    // SAFETY: as above.
    let (inst, store) = unsafe { parts(vmctx) };
    let data = store.memories[inst.mems[mem as usize] as usize].data_mut();
    match range(dst, len, data.len()) {
        Some(r) => {
            data[r].fill(val as u8);
            OK
        }
        None => FAIL,
    }
}

unsafe extern "C" fn memory_copy(
    vmctx: *mut u8,
    dst_mem: u32,
    src_mem: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: as above.
    let (inst, store) = unsafe { parts(vmctx) };
    let (d, s) = (inst.mems[dst_mem as usize], inst.mems[src_mem as usize]);
    let dl = store.memories[d as usize].data().len();
    let sl = store.memories[s as usize].data().len();
    let (Some(dr), Some(sr)) = (range(dst, len, dl), range(src, len, sl)) else {
        return FAIL;
    };
    if d == s {
        store.memories[d as usize]
            .data_mut()
            .copy_within(sr, dr.start);
    } else {
        let src_ptr = store.memories[s as usize].data()[sr].as_ptr();
        let dst_slice = &mut store.memories[d as usize].data_mut()[dr];
        // SAFETY: distinct memories never overlap; both ranges are checked.
        unsafe { std::ptr::copy_nonoverlapping(src_ptr, dst_slice.as_mut_ptr(), dst_slice.len()) };
    }
    OK
}

unsafe extern "C" fn memory_init(
    vmctx: *mut u8,
    mem: u32,
    data: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: as above.
    let (inst, store) = unsafe { parts(vmctx) };
    let seg = &inst.datas[data as usize];
    let m = store.memories[inst.mems[mem as usize] as usize].data_mut();
    let (Some(sr), Some(dr)) = (
        range(u64::from(src), u64::from(len), seg.len()),
        range(dst, u64::from(len), m.len()),
    ) else {
        return FAIL;
    };
    m[dr].copy_from_slice(&seg[sr]);
    OK
}

unsafe extern "C" fn data_drop(vmctx: *mut u8, data: u32) {
    // SAFETY: as above.
    let (inst, _) = unsafe { parts(vmctx) };
    inst.datas[data as usize] = Vec::new();
}

unsafe extern "C" fn table_grow(vmctx: *mut u8, table: u32, init: u64, delta: u64) -> u64 {
    // SAFETY: as above.
    let (inst, store) = unsafe { parts(vmctx) };
    let cap = store.limits().max_table_elems;
    let t = &mut store.tables[inst.tables[table as usize] as usize];
    let old = t.elems.len() as u64;
    let Some(new) = old.checked_add(delta) else {
        return u64::MAX;
    };
    let absolute = if t.ty.table64 {
        u64::MAX
    } else {
        u64::from(u32::MAX)
    };
    let max = t.ty.limits.max.map_or(absolute, |m| m.min(absolute));
    if new > max || new > cap {
        return u64::MAX;
    }
    let additional = (new - old) as usize;
    if t.elems.try_reserve(additional).is_err() {
        crate::incident::refused(format!("jit: table.grow to {new} elements"));
        return u64::MAX;
    }
    t.elems.resize(new as usize, init);
    t.sync();
    old
}

unsafe extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u64, val: u64, len: u64) -> u32 {
    // SAFETY: as above.
    let (inst, store) = unsafe { parts(vmctx) };
    let t = &mut store.tables[inst.tables[table as usize] as usize];
    match range(dst, len, t.elems.len()) {
        Some(r) => {
            t.elems[r].fill(val);
            OK
        }
        None => FAIL,
    }
}

unsafe extern "C" fn table_copy(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: as above.
    let (inst, store) = unsafe { parts(vmctx) };
    let (d, s) = (
        inst.tables[dst_table as usize] as usize,
        inst.tables[src_table as usize] as usize,
    );
    let (Some(dr), Some(sr)) = (
        range(dst, len, store.tables[d].elems.len()),
        range(src, len, store.tables[s].elems.len()),
    ) else {
        return FAIL;
    };
    if d == s {
        store.tables[d].elems.copy_within(sr, dr.start);
    } else {
        let items = store.tables[s].elems[sr].to_vec();
        store.tables[d].elems[dr].copy_from_slice(&items);
    }
    OK
}

unsafe extern "C" fn table_init(
    vmctx: *mut u8,
    table: u32,
    elem: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: as above.
    let (inst, store) = unsafe { parts(vmctx) };
    let seg = &inst.elems[elem as usize];
    let t = &mut store.tables[inst.tables[table as usize] as usize];
    let (Some(sr), Some(dr)) = (
        range(u64::from(src), u64::from(len), seg.len()),
        range(dst, u64::from(len), t.elems.len()),
    ) else {
        return FAIL;
    };
    t.elems[dr].copy_from_slice(&seg[sr]);
    OK
}

unsafe extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    // SAFETY: as above.
    let (inst, _) = unsafe { parts(vmctx) };
    inst.elems[elem as usize] = Vec::new();
}

/// The libcall address table (indexed by [`Libcall::index`]).
pub(crate) fn table() -> *const usize {
    static TABLE: OnceLock<[usize; Libcall::COUNT]> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let mut t = [0usize; Libcall::COUNT];
            t[Libcall::MemoryGrow.index()] = memory_grow as *const () as usize;
            t[Libcall::MemoryFill.index()] = memory_fill as *const () as usize;
            t[Libcall::MemoryCopy.index()] = memory_copy as *const () as usize;
            t[Libcall::MemoryInit.index()] = memory_init as *const () as usize;
            t[Libcall::DataDrop.index()] = data_drop as *const () as usize;
            t[Libcall::TableGrow.index()] = table_grow as *const () as usize;
            t[Libcall::TableFill.index()] = table_fill as *const () as usize;
            t[Libcall::TableCopy.index()] = table_copy as *const () as usize;
            t[Libcall::TableInit.index()] = table_init as *const () as usize;
            t[Libcall::ElemDrop.index()] = elem_drop as *const () as usize;
            t
        })
        .as_ptr()
}
