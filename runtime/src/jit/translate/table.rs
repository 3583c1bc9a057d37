//! Tables, references, globals, `call_indirect` target resolution, and the
//! libcall helper.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{self, Type};
use cranelift_codegen::ir::{AbiParam, InstBuilder, Signature, TrapCode, Value};
use wasmparser::Operator;

use super::{FuncTranslator, TResult, clif_type, readonly, trusted};
use crate::jit::traps;
use crate::jit::vmctx::{Libcall, VMOffsets, funcref, header, region};

impl FuncTranslator<'_, '_> {
    /// Table, reference and global operators; `Ok(false)` otherwise.
    pub(super) fn table_op(&mut self, op: &Operator<'_>) -> TResult<bool> {
        match op {
            Operator::GlobalGet { global_index } => self.global_get(*global_index),
            Operator::GlobalSet { global_index } => self.global_set(*global_index),
            Operator::RefNull { .. } => {
                let v = self.b.ins().iconst(types::I64, 0);
                self.push(v);
            }
            Operator::RefIsNull => {
                let r = self.pop();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, r, 0);
                let v = self.b.ins().uextend(types::I32, c);
                self.push(v);
            }
            Operator::RefFunc { function_index } => {
                let v = self.vmctx_slot(self.env.offsets.func_slot(*function_index));
                self.push(v);
            }
            Operator::TableGet { table } => {
                let index = self.pop();
                let slot = self.table_elem_addr(*table, index, traps::TABLE_OUT_OF_BOUNDS);
                let v = self.b.ins().load(types::I64, trusted(), slot, 0);
                self.push(v);
            }
            Operator::TableSet { table } => {
                let val = self.pop();
                let index = self.pop();
                let slot = self.table_elem_addr(*table, index, traps::TABLE_OUT_OF_BOUNDS);
                self.b.ins().store(trusted(), val, slot, 0);
            }
            Operator::TableSize { table } => {
                let t = self.vmctx_slot(self.env.offsets.table_slot(*table));
                let len = self.b.ins().load(types::I64, trusted(), t, region::LEN);
                let v = if self.env.module.tables[*table as usize].table64 {
                    len
                } else {
                    self.b.ins().ireduce(types::I32, len)
                };
                self.push(v);
            }
            Operator::TableGrow { table } => {
                let delta = self.pop_i64();
                let init = self.pop();
                let t = self.b.ins().iconst(types::I32, i64::from(*table));
                let r = self
                    .libcall(Libcall::TableGrow, &[t, init, delta])
                    .expect("table.grow returns a value");
                let v = if self.env.module.tables[*table as usize].table64 {
                    r
                } else {
                    self.b.ins().ireduce(types::I32, r)
                };
                self.push(v);
            }
            Operator::TableFill { table } => {
                let n = self.pop_i64();
                let val = self.pop();
                let d = self.pop_i64();
                let t = self.b.ins().iconst(types::I32, i64::from(*table));
                self.checked_libcall(
                    Libcall::TableFill,
                    &[t, d, val, n],
                    traps::TABLE_OUT_OF_BOUNDS,
                );
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let n = self.pop_i64();
                let s = self.pop_i64();
                let d = self.pop_i64();
                let dt = self.b.ins().iconst(types::I32, i64::from(*dst_table));
                let st = self.b.ins().iconst(types::I32, i64::from(*src_table));
                self.checked_libcall(
                    Libcall::TableCopy,
                    &[dt, st, d, s, n],
                    traps::TABLE_OUT_OF_BOUNDS,
                );
            }
            Operator::TableInit { elem_index, table } => {
                let n = self.pop();
                let s = self.pop();
                let d = self.pop_i64();
                let t = self.b.ins().iconst(types::I32, i64::from(*table));
                let e = self.b.ins().iconst(types::I32, i64::from(*elem_index));
                self.checked_libcall(
                    Libcall::TableInit,
                    &[t, e, d, s, n],
                    traps::TABLE_OUT_OF_BOUNDS,
                );
            }
            Operator::ElemDrop { elem_index } => {
                let e = self.b.ins().iconst(types::I32, i64::from(*elem_index));
                self.libcall(Libcall::ElemDrop, &[e]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn global_ptr(&mut self, idx: u32) -> Value {
        self.vmctx_slot(self.env.offsets.global_slot(idx))
    }

    fn global_get(&mut self, idx: u32) {
        let ty = clif_type(self.env.module.globals[idx as usize].ty);
        let p = self.global_ptr(idx);
        let v = self.b.ins().load(ty, trusted(), p, 0);
        self.push(v);
    }

    fn global_set(&mut self, idx: u32) {
        let v = self.pop();
        let v = self.canon(v);
        let p = self.global_ptr(idx);
        self.b.ins().store(trusted(), v, p, 0);
    }

    /// Address of element `index` of `table`, trapping with `code` when out
    /// of bounds.
    fn table_elem_addr(&mut self, table: u32, index: Value, code: TrapCode) -> Value {
        let t = self.vmctx_slot(self.env.offsets.table_slot(table));
        let len = self.b.ins().load(types::I64, trusted(), t, region::LEN);
        let idx = self.zext_i64(index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, idx, len);
        self.b.ins().trapnz(oob, code);
        let base = self.b.ins().load(types::I64, trusted(), t, region::BASE);
        let eight = self.b.ins().iconst(types::I64, 8);
        let off = self.b.ins().imul(idx, eight);
        self.b.ins().iadd(base, off)
    }

    /// Resolves a `call_indirect` target: bounds (undefined element), null
    /// (uninitialized element) and signature (type mismatch) checks, in that
    /// order. Returns (code, callee vmctx).
    pub(super) fn indirect_target(
        &mut self,
        table: u32,
        type_index: u32,
        index: Value,
    ) -> (Value, Value) {
        let slot = self.table_elem_addr(table, index, traps::UNDEFINED_ELEMENT);
        let f = self.b.ins().load(types::I64, trusted(), slot, 0);
        self.b.ins().trapz(f, traps::UNINITIALIZED_ELEMENT);
        let actual = self
            .b
            .ins()
            .load(types::I64, trusted(), f, funcref::TYPE_ID);
        let expected = self.vmctx_slot(self.env.offsets.type_slot(type_index));
        let bad = self.b.ins().icmp(IntCC::NotEqual, actual, expected);
        self.b.ins().trapnz(bad, traps::INDIRECT_CALL_TYPE_MISMATCH);
        let code = self.b.ins().load(types::I64, trusted(), f, funcref::CODE);
        let vmctx = self.b.ins().load(types::I64, trusted(), f, funcref::VMCTX);
        (code, vmctx)
    }

    /// Calls a runtime function with `(vmctx, args...)`; returns its result.
    pub(super) fn libcall(&mut self, lc: Libcall, args: &[Value]) -> Option<Value> {
        let ret: Option<Type> = match lc {
            Libcall::MemoryGrow | Libcall::TableGrow => Some(types::I64),
            Libcall::DataDrop | Libcall::ElemDrop => None,
            _ => Some(types::I32),
        };
        let sig = match self.libcall_sigs.get(&lc.index()) {
            Some(&s) => s,
            None => {
                let mut sig = Signature::new(self.env.frontend.default_call_conv);
                sig.params.push(AbiParam::new(types::I64));
                for &a in args {
                    let t = self.value_type(a);
                    sig.params.push(AbiParam::new(t));
                }
                sig.returns.extend(ret.map(AbiParam::new));
                let s = self.b.import_signature(sig);
                self.libcall_sigs.insert(lc.index(), s);
                s
            }
        };
        let table = self
            .b
            .ins()
            .load(types::I64, readonly(), self.vmctx, header::LIBCALLS);
        let f = self
            .b
            .ins()
            .load(types::I64, readonly(), table, VMOffsets::byte(lc.index()));
        let mut call_args = vec![self.vmctx];
        call_args.extend_from_slice(args);
        let inst = self.b.ins().call_indirect(sig, f, &call_args);
        self.b.inst_results(inst).first().copied()
    }

    /// A libcall returning a status; nonzero traps with `code`.
    pub(super) fn checked_libcall(&mut self, lc: Libcall, args: &[Value], code: TrapCode) {
        if let Some(status) = self.libcall(lc, args) {
            self.b.ins().trapnz(status, code);
        }
    }
}
