//! Scalar numeric operators: constants, locals, the simple operators of
//! [`crate::jit::optable`] (emitted generically from the table), `eqz` and
//! sign extension.

use std::str::FromStr;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::instructions::InstructionFormat;
use cranelift_codegen::ir::types::{self, Type};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Opcode, Value};
use wasmparser::Operator;

use super::{FuncTranslator, TResult};
use crate::jit::optable::{self, OpMapping};

impl FuncTranslator<'_, '_> {
    /// Scalar operators; `Ok(false)` if `op` is not one.
    pub(super) fn numeric_op(&mut self, op: &Operator<'_>) -> TResult<bool> {
        if let Some(m) = optable::lookup(op) {
            self.simple(m)?;
            return Ok(true);
        }
        match op {
            Operator::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[*local_index as usize]);
                self.push(v);
            }
            Operator::LocalSet { local_index } => {
                let v = self.pop();
                let v = self.canon(v);
                self.b.def_var(self.locals[*local_index as usize], v);
            }
            Operator::LocalTee { local_index } => {
                let v = self.pop();
                let v = self.canon(v);
                self.b.def_var(self.locals[*local_index as usize], v);
                self.push(v);
            }
            Operator::I32Const { value } => {
                let v = self.b.ins().iconst(types::I32, i64::from(*value));
                self.push(v);
            }
            Operator::I64Const { value } => {
                let v = self.b.ins().iconst(types::I64, *value);
                self.push(v);
            }
            Operator::F32Const { value } => {
                let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            Operator::F64Const { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }
            Operator::I32Eqz | Operator::I64Eqz => {
                let a = self.pop();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, a, 0);
                let v = self.b.ins().uextend(types::I32, c);
                self.push(v);
            }
            Operator::I32Extend8S => self.sign_extend(types::I8, types::I32),
            Operator::I32Extend16S => self.sign_extend(types::I16, types::I32),
            Operator::I64Extend8S => self.sign_extend(types::I8, types::I64),
            Operator::I64Extend16S => self.sign_extend(types::I16, types::I64),
            Operator::I64Extend32S => self.sign_extend(types::I32, types::I64),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn sign_extend(&mut self, narrow: Type, wide: Type) {
        let a = self.pop();
        let n = self.b.ins().ireduce(narrow, a);
        let v = self.b.ins().sextend(wide, n);
        self.push(v);
    }

    /// The opcode to emit for `m`, honouring fault injection.
    fn opcode_for(&self, m: &OpMapping) -> TResult<Opcode> {
        match self.env.config.inject_fault {
            Some(f) if f.wasm == m.wasm => {
                if f.emit.format() != m.clif.format() {
                    return Err(format!(
                        "fault injection: {} has format {:?}, {} needs {:?}",
                        f.emit,
                        f.emit.format(),
                        m.wasm,
                        m.clif.format()
                    ));
                }
                Ok(f.emit)
            }
            _ => Ok(m.clif),
        }
    }

    /// Emits a simple operator from its table entry.
    pub(super) fn simple(&mut self, m: &OpMapping) -> TResult {
        let opcode = self.opcode_for(m)?;
        let result = match opcode.format() {
            InstructionFormat::Unary => {
                let a = self.pop_as(m.arg);
                let (inst, dfg) = self.b.ins().Unary(opcode, m.ty, a);
                let r = dfg.first_result(inst);
                // `vany_true`/`vall_true` yield an `i8` flag.
                if self.value_type(r) == types::I8 {
                    self.b.ins().uextend(types::I32, r)
                } else {
                    r
                }
            }
            InstructionFormat::Binary => {
                let b = self.pop();
                let b = if m.ty.is_vector() && is_shift(m.clif) {
                    b
                } else {
                    self.as_type(b, m.arg)
                };
                let a = self.pop_as(m.arg);
                let (inst, dfg) = self.b.ins().Binary(opcode, m.ty, a, b);
                dfg.first_result(inst)
            }
            InstructionFormat::IntCompare => {
                let cond = IntCC::from_str(m.cond.unwrap_or("")).map_err(|_| bad_cond(m))?;
                let b = self.pop_as(m.arg);
                let a = self.pop_as(m.arg);
                let (inst, dfg) = self.b.ins().IntCompare(opcode, m.ty, cond, a, b);
                let r = dfg.first_result(inst);
                self.widen_flag(r, m.ty)
            }
            InstructionFormat::FloatCompare => {
                let cond = FloatCC::from_str(m.cond.unwrap_or("")).map_err(|_| bad_cond(m))?;
                let b = self.pop_as(m.arg);
                let a = self.pop_as(m.arg);
                let (inst, dfg) = self.b.ins().FloatCompare(opcode, m.ty, cond, a, b);
                let r = dfg.first_result(inst);
                self.widen_flag(r, m.ty)
            }
            InstructionFormat::LoadNoOffset => {
                let a = self.pop_as(m.arg);
                let flags = self
                    .b
                    .func
                    .dfg
                    .mem_flags
                    .insert_unchecked(MemFlagsData::new());
                let (inst, dfg) = self.b.ins().LoadNoOffset(opcode, m.ty, flags, a);
                dfg.first_result(inst)
            }
            other => return Err(format!("{}: unsupported format {other:?}", m.wasm)),
        };
        self.push(result);
        Ok(())
    }

    /// Scalar comparisons yield `i8`; wasm wants an `i32` 0/1.
    fn widen_flag(&mut self, r: Value, ty: Type) -> Value {
        if ty.is_vector() {
            r
        } else {
            self.b.ins().uextend(types::I32, r)
        }
    }
}

fn is_shift(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::Ishl | Opcode::Ushr | Opcode::Sshr | Opcode::Rotl | Opcode::Rotr
    )
}

fn bad_cond(m: &OpMapping) -> String {
    format!("{}: bad condition code {:?}", m.wasm, m.cond)
}
