//! Data structures shared between generated code and the Rust runtime, and
//! the layout of an instance's `vmctx`.
//!
//! Generated code reaches everything through the `vmctx` pointer passed as
//! the first argument of every wasm function:
//!
//! | offset | content |
//! | --- | --- |
//! | 0 | `*mut VMRuntime` (store-wide fuel, depth, stack limit) |
//! | 8 | `*mut InstanceData` (for libcalls) |
//! | 16 | `*const usize` table of libcall addresses ([`Libcall`]) |
//! | 24.. | type ids, then `*const VMFuncRef` per function, `*mut VMTable` per table, `*mut VMMemory` per memory, `*mut VMGlobal` per global |
//!
//! Reference values are 64-bit: a funcref is a `*const VMFuncRef` (0 is
//! null); an externref `n` is `n + 1` (0 is null).

use crate::module::Module;

/// A function as generated code sees it; owned (boxed) by the store.
#[repr(C)]
#[derive(Debug)]
pub struct VMFuncRef {
    /// Entry point (tail calling convention, `vmctx` first).
    pub code: *const u8,
    /// The `vmctx` to pass (a host function's context for host functions).
    pub vmctx: *mut u8,
    /// Store-interned id of the function's type.
    pub type_id: u64,
    /// The function's store address.
    pub addr: u64,
}

/// Offsets in [`VMFuncRef`].
pub mod funcref {
    /// `code`.
    pub const CODE: i32 = 0;
    /// `vmctx`.
    pub const VMCTX: i32 = 8;
    /// `type_id`.
    pub const TYPE_ID: i32 = 16;
}

/// A linear memory's current location and size; boxed by the store.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemory {
    /// Base address.
    pub base: *mut u8,
    /// Accessible size in bytes.
    pub len: u64,
}

/// A table's current storage; boxed by the store.
#[repr(C)]
#[derive(Debug)]
pub struct VMTable {
    /// Elements (reference values).
    pub base: *mut u64,
    /// Number of elements.
    pub len: u64,
}

/// Offsets shared by [`VMMemory`] and [`VMTable`].
pub mod region {
    /// `base`.
    pub const BASE: i32 = 0;
    /// `len`.
    pub const LEN: i32 = 8;
}

/// A global's storage: 16 bytes, the value in its low bytes.
#[repr(C, align(16))]
#[derive(Debug, Default)]
pub struct VMGlobal {
    /// Raw value.
    pub bits: u128,
}

/// Store-wide execution state read and written by generated code.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMRuntime {
    /// Remaining fuel units.
    pub fuel: u64,
    /// Current wasm call depth.
    pub depth: u64,
    /// Maximum call depth.
    pub max_depth: u64,
    /// Lowest stack address generated code may use.
    pub stack_limit: u64,
    /// A trap raised by a libcall or host function: `Trap` index + 1, or 0.
    pub pending_trap: u64,
}

/// Offsets in [`VMRuntime`].
pub mod runtime {
    /// `fuel`.
    pub const FUEL: i32 = 0;
    /// `depth`.
    pub const DEPTH: i32 = 8;
    /// `max_depth`.
    pub const MAX_DEPTH: i32 = 16;
    /// `stack_limit`.
    pub const STACK_LIMIT: i32 = 24;
}

/// Runtime functions generated code calls (System V ABI), by index in the
/// libcall address table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Libcall {
    /// `(vmctx, mem, delta: i64) -> i64` old size in pages or -1.
    MemoryGrow,
    /// `(vmctx, mem, dst, val: i32, len) -> i32` status.
    MemoryFill,
    /// `(vmctx, dst_mem, src_mem, dst, src, len) -> i32` status.
    MemoryCopy,
    /// `(vmctx, mem, data, dst, src: i32, len: i32) -> i32` status.
    MemoryInit,
    /// `(vmctx, data)`.
    DataDrop,
    /// `(vmctx, table, init, delta: i64) -> i64` old size or -1.
    TableGrow,
    /// `(vmctx, table, dst, val, len) -> i32` status.
    TableFill,
    /// `(vmctx, dst_table, src_table, dst, src, len) -> i32` status.
    TableCopy,
    /// `(vmctx, table, elem, dst, src: i32, len: i32) -> i32` status.
    TableInit,
    /// `(vmctx, elem)`.
    ElemDrop,
}

impl Libcall {
    /// Number of libcalls.
    pub const COUNT: usize = 10;

    /// Index in the address table.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Header slot offsets in a `vmctx`.
pub mod header {
    /// `*mut VMRuntime`.
    pub const RUNTIME: i32 = 0;
    /// `*mut InstanceData`.
    pub const INSTANCE: i32 = 8;
    /// Libcall table.
    pub const LIBCALLS: i32 = 16;
    /// Size of the header in 8-byte slots.
    pub const SLOTS: usize = 3;
}

/// Where everything lives in one module's `vmctx` (offsets in bytes).
#[derive(Clone, Debug)]
pub struct VMOffsets {
    types: usize,
    funcs: usize,
    tables: usize,
    memories: usize,
    globals: usize,
    slots: usize,
}

impl VMOffsets {
    /// The layout for `module`.
    pub fn new(module: &Module) -> VMOffsets {
        let types = header::SLOTS;
        let funcs = types + module.types.len();
        let tables = funcs + module.funcs.len();
        let memories = tables + module.tables.len();
        let globals = memories + module.memories.len();
        let slots = globals + module.globals.len();
        VMOffsets {
            types,
            funcs,
            tables,
            memories,
            globals,
            slots,
        }
    }

    /// Total size in 8-byte slots.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Slot index of type `i`'s id.
    pub fn type_slot(&self, i: u32) -> usize {
        self.types + i as usize
    }
    /// Slot index of function `i`'s `*const VMFuncRef`.
    pub fn func_slot(&self, i: u32) -> usize {
        self.funcs + i as usize
    }
    /// Slot index of table `i`'s `*mut VMTable`.
    pub fn table_slot(&self, i: u32) -> usize {
        self.tables + i as usize
    }
    /// Slot index of memory `i`'s `*mut VMMemory`.
    pub fn memory_slot(&self, i: u32) -> usize {
        self.memories + i as usize
    }
    /// Slot index of global `i`'s `*mut VMGlobal`.
    pub fn global_slot(&self, i: u32) -> usize {
        self.globals + i as usize
    }

    /// Slot index of a header byte offset.
    pub fn slot_of(byte: i32) -> usize {
        byte as usize / 8
    }

    /// Byte offset of a slot.
    pub fn byte(slot: usize) -> i32 {
        i32::try_from(slot * 8).expect("vmctx offset fits in i32")
    }
}
