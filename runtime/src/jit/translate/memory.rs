//! Linear memory: loads and stores (bounds-checked explicitly or through
//! guard pages), `memory.size`/`grow`, and the bulk-memory operators
//! (libcalls that return a status; generated code raises the trap).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{self, Type};
use cranelift_codegen::ir::{Endianness, InstBuilder, MemFlagsData, TrapCode, Value};
use wasmparser::{MemArg, MemArgTarget, Operator};

use super::{FuncTranslator, TResult, trusted};
use crate::jit::config::BoundsMode;
use crate::jit::vmctx::{Libcall, region};

/// How a load produces its value.
#[derive(Clone, Copy)]
enum LoadKind {
    /// Plain load of the type.
    Plain(Type),
    /// Sign-extending narrow load: (result type, bytes).
    Signed(Type, u8),
    /// Zero-extending narrow load: (result type, bytes).
    Unsigned(Type, u8),
}

impl FuncTranslator<'_, '_> {
    /// Memory operators; `Ok(false)` if `op` is not one.
    pub(super) fn memory_op(&mut self, op: &Operator<'_>) -> TResult<bool> {
        use LoadKind::*;
        use types::{F32, F64, I32, I64};
        match op {
            Operator::I32Load { memarg } => self.load(memarg, Plain(I32)),
            Operator::I64Load { memarg } => self.load(memarg, Plain(I64)),
            Operator::F32Load { memarg } => self.load(memarg, Plain(F32)),
            Operator::F64Load { memarg } => self.load(memarg, Plain(F64)),
            Operator::I32Load8S { memarg } => self.load(memarg, Signed(I32, 1)),
            Operator::I32Load8U { memarg } => self.load(memarg, Unsigned(I32, 1)),
            Operator::I32Load16S { memarg } => self.load(memarg, Signed(I32, 2)),
            Operator::I32Load16U { memarg } => self.load(memarg, Unsigned(I32, 2)),
            Operator::I64Load8S { memarg } => self.load(memarg, Signed(I64, 1)),
            Operator::I64Load8U { memarg } => self.load(memarg, Unsigned(I64, 1)),
            Operator::I64Load16S { memarg } => self.load(memarg, Signed(I64, 2)),
            Operator::I64Load16U { memarg } => self.load(memarg, Unsigned(I64, 2)),
            Operator::I64Load32S { memarg } => self.load(memarg, Signed(I64, 4)),
            Operator::I64Load32U { memarg } => self.load(memarg, Unsigned(I64, 4)),
            Operator::I32Store { memarg } | Operator::F32Store { memarg } => self.store(memarg, 4),
            Operator::I64Store { memarg } | Operator::F64Store { memarg } => self.store(memarg, 8),
            Operator::I32Store8 { memarg } | Operator::I64Store8 { memarg } => {
                self.store(memarg, 1)
            }
            Operator::I32Store16 { memarg } | Operator::I64Store16 { memarg } => {
                self.store(memarg, 2)
            }
            Operator::I64Store32 { memarg } => self.store(memarg, 4),
            Operator::MemorySize { mem } => self.memory_size(*mem),
            Operator::MemoryGrow { mem } => self.memory_grow(*mem),
            Operator::MemoryFill { mem } => {
                let n = self.pop_i64();
                let val = self.pop();
                let d = self.pop_i64();
                let m = self.b.ins().iconst(I32, i64::from(*mem));
                self.checked_libcall(
                    Libcall::MemoryFill,
                    &[m, d, val, n],
                    TrapCode::HEAP_OUT_OF_BOUNDS,
                );
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                let n = self.pop_i64();
                let s = self.pop_i64();
                let d = self.pop_i64();
                let dm = self.b.ins().iconst(I32, i64::from(*dst_mem));
                let sm = self.b.ins().iconst(I32, i64::from(*src_mem));
                self.checked_libcall(
                    Libcall::MemoryCopy,
                    &[dm, sm, d, s, n],
                    TrapCode::HEAP_OUT_OF_BOUNDS,
                );
            }
            Operator::MemoryInit { data_index, mem } => {
                let n = self.pop();
                let s = self.pop();
                let d = self.pop_i64();
                let m = self.b.ins().iconst(I32, i64::from(*mem));
                let di = self.b.ins().iconst(I32, i64::from(*data_index));
                self.checked_libcall(
                    Libcall::MemoryInit,
                    &[m, di, d, s, n],
                    TrapCode::HEAP_OUT_OF_BOUNDS,
                );
            }
            Operator::DataDrop { data_index } => {
                let di = self.b.ins().iconst(I32, i64::from(*data_index));
                self.libcall(Libcall::DataDrop, &[di]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Pops an index or length and zero-extends it to `i64`.
    pub(super) fn pop_i64(&mut self) -> Value {
        let v = self.pop();
        self.zext_i64(v)
    }

    pub(super) fn zext_i64(&mut self, v: Value) -> Value {
        if self.value_type(v) == types::I32 {
            self.b.ins().uextend(types::I64, v)
        } else {
            v
        }
    }

    fn mem_index(memarg: &MemArg) -> u32 {
        match memarg.target {
            MemArgTarget::Memory(m) => m,
            MemArgTarget::Array(_) => 0,
        }
    }

    /// Computes the native address of an access of `size` bytes at
    /// `index + memarg.offset`, with the bounds check the configuration
    /// asks for. `None` if the access can never be in bounds (a trap was
    /// emitted and the code that follows is unreachable).
    pub(super) fn heap_addr(
        &mut self,
        memarg: &MemArg,
        size: u64,
        index: Value,
    ) -> Option<(Value, i32, MemFlagsData)> {
        let mem = Self::mem_index(memarg);
        let mem64 = self.env.module.memories[mem as usize].memory64;
        let vm = self.vmctx_slot(self.env.offsets.memory_slot(mem));
        let base = self.b.ins().load(types::I64, trusted(), vm, region::BASE);
        let idx = self.zext_i64(index);
        let little = MemFlagsData::new().with_endianness(Endianness::Little);
        let flags = if self.env.config.bounds == BoundsMode::Guard && !mem64 {
            // Within the reservation by construction: index + offset + size
            // < 2^33 + 16 bytes, all of which is mapped (inaccessible beyond
            // the memory's size), so an out-of-bounds access faults.
            little
        } else {
            let Some(bound) = memarg.offset.checked_add(size) else {
                self.trap(TrapCode::HEAP_OUT_OF_BOUNDS);
                return None;
            };
            let len = self.b.ins().load(types::I64, trusted(), vm, region::LEN);
            let bound = self.b.ins().iconst(types::I64, bound as i64);
            let end = if mem64 {
                self.b
                    .ins()
                    .uadd_overflow_trap(idx, bound, TrapCode::HEAP_OUT_OF_BOUNDS)
            } else {
                self.b.ins().iadd(idx, bound)
            };
            let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
            self.b.ins().trapnz(oob, TrapCode::HEAP_OUT_OF_BOUNDS);
            little.with_notrap()
        };
        let mut addr = self.b.ins().iadd(base, idx);
        let imm = match i32::try_from(memarg.offset) {
            Ok(o) => o,
            Err(_) => {
                let off = self.b.ins().iconst(types::I64, memarg.offset as i64);
                addr = self.b.ins().iadd(addr, off);
                0
            }
        };
        Some((addr, imm, flags))
    }

    fn load(&mut self, memarg: &MemArg, kind: LoadKind) {
        let size = match kind {
            LoadKind::Plain(t) => u64::from(t.bytes()),
            LoadKind::Signed(_, n) | LoadKind::Unsigned(_, n) => u64::from(n),
        };
        let index = self.pop();
        let Some((addr, off, flags)) = self.heap_addr(memarg, size, index) else {
            return;
        };
        let ins = self.b.ins();
        let v = match kind {
            LoadKind::Plain(t) => ins.load(t, flags, addr, off),
            LoadKind::Signed(t, 1) => ins.sload8(t, flags, addr, off),
            LoadKind::Unsigned(t, 1) => ins.uload8(t, flags, addr, off),
            LoadKind::Signed(t, 2) => ins.sload16(t, flags, addr, off),
            LoadKind::Unsigned(t, 2) => ins.uload16(t, flags, addr, off),
            LoadKind::Signed(_, _) => ins.sload32(flags, addr, off),
            LoadKind::Unsigned(_, _) => ins.uload32(flags, addr, off),
        };
        self.push(v);
    }

    /// Stores the low `size` bytes of the value on top of the stack.
    fn store(&mut self, memarg: &MemArg, size: u8) {
        let val = self.pop();
        let index = self.pop();
        let Some((addr, off, flags)) = self.heap_addr(memarg, u64::from(size), index) else {
            return;
        };
        let vt = self.value_type(val);
        let ins = self.b.ins();
        if u32::from(size) == vt.bytes() {
            ins.store(flags, val, addr, off);
        } else {
            match size {
                1 => ins.istore8(flags, val, addr, off),
                2 => ins.istore16(flags, val, addr, off),
                _ => ins.istore32(flags, val, addr, off),
            };
        }
    }

    fn memory_size(&mut self, mem: u32) {
        let vm = self.vmctx_slot(self.env.offsets.memory_slot(mem));
        let len = self.b.ins().load(types::I64, trusted(), vm, region::LEN);
        let sixteen = self.b.ins().iconst(types::I64, 16);
        let pages = self.b.ins().ushr(len, sixteen);
        let v = if self.env.module.memories[mem as usize].memory64 {
            pages
        } else {
            self.b.ins().ireduce(types::I32, pages)
        };
        self.push(v);
    }

    fn memory_grow(&mut self, mem: u32) {
        let delta = self.pop_i64();
        let m = self.b.ins().iconst(types::I32, i64::from(mem));
        let r = self
            .libcall(Libcall::MemoryGrow, &[m, delta])
            .expect("memory.grow returns a value");
        let v = if self.env.module.memories[mem as usize].memory64 {
            r
        } else {
            self.b.ins().ireduce(types::I32, r)
        };
        self.push(v);
    }
}
