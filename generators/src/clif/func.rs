//! One CLIF function: statements around a target opcode, top-down operand
//! synthesis, NaN canonicalization, stack-slot memory and control flow.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{
    Block, BlockCall, ExtFuncData, ExternalName, FuncRef, InstBuilder, JumpTableData, MemFlagsData,
    Opcode, StackSlot, StackSlotData, StackSlotKind, TrapCode, Type, Value, types,
};
use cranelift_frontend::{FunctionBuilder, Variable};

use super::ClifConfig;
use super::ops::GENERATED_TRAP;
use super::table::{self, ClifOp, Nan, address_operand, is_memory, nan_rule};
use crate::rng::Rng;
use crate::wasm::NanMode;

/// True for float scalars and float vectors.
pub fn is_float(t: Type) -> bool {
    t.lane_type().is_float()
}

/// A variable and whether it may hold dirty NaNs.
#[derive(Clone, Copy)]
struct Var {
    ty: Type,
    var: Variable,
    dirty_ok: bool,
}

/// A callable later function.
#[derive(Clone)]
pub(crate) struct Callee {
    pub func_ref: FuncRef,
    pub params: Vec<Type>,
    pub rets: Vec<Type>,
}

/// Builds one function body.
pub(crate) struct FnGen<'r, 'a, 'f> {
    pub b: FunctionBuilder<'f>,
    pub r: &'r mut Rng<'a>,
    pub cfg: &'r ClifConfig,
    pub slots: Vec<(StackSlot, u32)>,
    vars: Vec<Var>,
    accs: Vec<Var>,
    callees: Vec<Callee>,
    returns: Vec<Type>,
    nesting: u32,
    insts: u32,
}

/// Size of each generated stack slot.
const SLOT_BYTES: u32 = 64;

impl<'r, 'a, 'f> FnGen<'r, 'a, 'f> {
    /// A generator over an empty function `b` whose signature is set.
    pub fn new(b: FunctionBuilder<'f>, r: &'r mut Rng<'a>, cfg: &'r ClifConfig) -> Self {
        FnGen {
            b,
            r,
            cfg,
            slots: Vec::new(),
            vars: Vec::new(),
            accs: Vec::new(),
            callees: Vec::new(),
            returns: Vec::new(),
            nesting: 0,
            insts: 0,
        }
    }

    /// Declares a callee (`%name`) that this function may call.
    pub fn declare_callee(&mut self, name: &str, params: &[Type], rets: &[Type]) {
        let mut sig = cranelift_codegen::ir::Signature::new(self.cfg.call_conv());
        sig.params = params
            .iter()
            .map(|&t| cranelift_codegen::ir::AbiParam::new(t))
            .collect();
        sig.returns = rets
            .iter()
            .map(|&t| cranelift_codegen::ir::AbiParam::new(t))
            .collect();
        let sig_ref = self.b.import_signature(sig);
        let func_ref = self.b.import_function(ExtFuncData {
            name: ExternalName::testcase(name),
            signature: sig_ref,
            colocated: true,
            patchable: false,
        });
        self.callees.push(Callee {
            func_ref,
            params: params.to_vec(),
            rets: rets.to_vec(),
        });
    }

    /// Entry block with the parameters, zero-initialized stack slots and
    /// the variable pools.
    pub fn prologue(&mut self, params: &[Type], returns: &[Type]) {
        self.returns = returns.to_vec();
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        for _ in 0..self.r.range(1, 2) {
            let slot = self.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                SLOT_BYTES,
                4,
            ));
            let addr = self.b.ins().stack_addr(types::I64, slot, 0);
            let init = self.b.ins().iconst(types::I64, self.r.u64() as i64 & 0xff);
            for off in (0..SLOT_BYTES).step_by(8) {
                self.b
                    .ins()
                    .store(MemFlagsData::new(), init, addr, off as i32);
            }
            self.slots.push((slot, SLOT_BYTES));
        }
        let values: Vec<Value> = self.b.block_params(entry).to_vec();
        for (&v, &t) in values.iter().zip(params) {
            let var = self.new_var(t, false);
            self.b.def_var(var.var, v);
        }
        for &t in returns {
            let dirty_ok = self.return_dirty_ok(t);
            let acc = self.new_var(t, dirty_ok);
            let c = self.constant(t);
            self.b.def_var(acc.var, c);
            self.accs.push(acc);
        }
        for _ in 0..self.r.range(0, 3) {
            let t = self.pick_type();
            let dirty_ok = is_float(t) && self.r.chance(1, 2);
            let v = self.new_var(t, dirty_ok);
            let c = self.constant(t);
            self.b.def_var(v.var, c);
        }
    }

    fn return_dirty_ok(&self, t: Type) -> bool {
        is_float(t) && self.cfg.nan_mode == NanMode::Tolerant
    }

    fn new_var(&mut self, ty: Type, dirty_ok: bool) -> Var {
        let var = self.b.declare_var(ty);
        let v = Var { ty, var, dirty_ok };
        self.vars.push(v);
        v
    }

    /// A type from the configured palette.
    pub fn pick_type(&mut self) -> Type {
        let p = self.cfg.palette();
        p[self.r.index(p.len())]
    }

    /// Generates the body statements and the return.
    pub fn body(&mut self) {
        let max = self.cfg.max_statements;
        let n = self.r.range_u32(max.div_ceil(2), max);
        for _ in 0..n {
            if self.insts >= self.cfg.max_instructions || self.r.exhausted() {
                break;
            }
            self.statement(self.cfg.max_depth);
        }
        self.fold_slots_into_accumulators();
        self.ret();
    }

    /// Returns the accumulators.
    fn ret(&mut self) {
        let vals: Vec<Value> = self
            .accs
            .clone()
            .iter()
            .map(|a| self.b.use_var(a.var))
            .collect();
        self.b.ins().return_(&vals);
    }

    /// Makes stack stores observable: load a word of each slot and fold
    /// it into the first integer accumulator.
    fn fold_slots_into_accumulators(&mut self) {
        let Some(acc) = self.accs.iter().copied().find(|a| a.ty == types::I64) else {
            return;
        };
        for (slot, size) in self.slots.clone() {
            let off = (self.r.below(u64::from(size / 8)) * 8) as i32;
            let addr = self.b.ins().stack_addr(types::I64, slot, off);
            let v = self.b.ins().load(types::I64, MemFlagsData::new(), addr, 0);
            self.fold(acc, v);
        }
    }

    /// True if every type of `op` is in the palette (and Pulley supports
    /// it when the case targets Pulley).
    fn enabled(&self, op: &ClifOp) -> bool {
        let p = self.cfg.palette();
        (op.pulley || !self.cfg.pulley)
            && op.args.iter().chain(&op.rets).all(|t| p.contains(t))
            && (op.ctrl == types::INVALID || p.contains(&op.ctrl) || op.ctrl == types::I64)
    }

    // ----- statements -----

    /// One statement: control flow, a call, or a target opcode whose
    /// results are observed.
    pub fn statement(&mut self, depth: u32) {
        let can_nest = self.nesting < self.cfg.max_nesting;
        match self.r.below(24) {
            0 if can_nest => self.diamond(depth),
            1 if can_nest => self.counted_loop(depth),
            2 if can_nest => self.br_table(depth),
            3 => self.early_return(depth),
            4 if !self.callees.is_empty() => self.call(depth),
            6 => self.tail_call(depth),
            5 if self.r.chance(1, 4) => self.trap(depth),
            _ => self.op_statement(depth),
        }
    }

    fn op_statement(&mut self, depth: u32) {
        for _ in 0..4 {
            let k = self.r.weighted_cumulative(table::cumulative_weights());
            let op = &table::table()[k];
            if self.enabled(op) {
                let results = self.op_value(op, depth);
                for (v, dirty) in results {
                    self.sink(v, dirty);
                }
                return;
            }
        }
    }

    /// Emits `op` with synthesized operands; returns results and dirt.
    pub fn op_value(&mut self, op: &ClifOp, depth: u32) -> Vec<(Value, bool)> {
        let rule = nan_rule(op.opcode);
        let mut args = Vec::with_capacity(op.args.len());
        let mut dirty = false;
        for (i, &t) in op.args.iter().enumerate() {
            if is_memory(op.opcode) && i == address_operand(op.opcode) {
                // Replaced by a stack address in `emit_op`.
                args.push(self.b.ins().iconst(types::I64, 0));
                continue;
            }
            let tolerant = match rule {
                Nan::Exact => false,
                Nan::CopySign => i == 0,
                _ => true,
            };
            let (v, d) = self.operand(t, depth.saturating_sub(1), tolerant);
            args.push(v);
            dirty |= d;
        }
        self.insts += 1;
        let results = self.emit_op(op, &args);
        results
            .into_iter()
            .map(|v| {
                let t = self.b.func.dfg.value_type(v);
                let d = is_float(t)
                    && match rule {
                        Nan::Arith => true,
                        Nan::Propagate | Nan::CopySign => dirty,
                        _ => false,
                    };
                (v, d)
            })
            .collect()
    }

    /// A value of type `ty`, canonicalized unless `tolerant`.
    pub fn operand(&mut self, ty: Type, depth: u32, tolerant: bool) -> (Value, bool) {
        let (v, d) = self.raw_operand(ty, depth);
        if d && !tolerant {
            (self.canonicalize(v, ty), false)
        } else {
            (v, d)
        }
    }

    fn raw_operand(&mut self, ty: Type, depth: u32) -> (Value, bool) {
        if depth > 0 && self.insts < self.cfg.max_instructions && self.r.chance(3, 5) {
            let (idx, cum) = table::producers(ty);
            if !idx.is_empty() {
                let op = &table::table()[idx[self.r.weighted_cumulative(cum)]];
                if self.enabled(op) {
                    let mut results = self.op_value(op, depth).into_iter();
                    let first = results.next();
                    for (v, d) in results {
                        self.sink(v, d);
                    }
                    if let Some(first) = first {
                        return first;
                    }
                }
            }
        }
        let vars: Vec<Var> = self.vars.iter().copied().filter(|v| v.ty == ty).collect();
        if !vars.is_empty() && self.r.chance(1, 2) {
            let v = vars[self.r.index(vars.len())];
            return (self.b.use_var(v.var), v.dirty_ok);
        }
        (self.constant(ty), false)
    }

    /// Replaces NaNs (every NaN lane) by the positive canonical NaN.
    pub fn canonicalize(&mut self, v: Value, ty: Type) -> Value {
        let uno = self.b.ins().fcmp(FloatCC::Unordered, v, v);
        if ty.is_vector() {
            let lane = ty.lane_type();
            let canon_lane = self.canonical_nan(lane);
            let canon = self.b.ins().splat(ty, canon_lane);
            let mask = self.b.ins().bitcast(ty, MemFlagsData::new(), uno);
            self.b.ins().bitselect(mask, canon, v)
        } else {
            let canon = self.canonical_nan(ty);
            self.b.ins().select(uno, canon, v)
        }
    }

    fn canonical_nan(&mut self, ty: Type) -> Value {
        if ty == types::F32 {
            self.b.ins().f32const(Ieee32::with_bits(0x7fc0_0000))
        } else {
            self.b
                .ins()
                .f64const(Ieee64::with_bits(0x7ff8_0000_0000_0000))
        }
    }

    /// Observes a value: folded into an accumulator of its type or into
    /// the `i64` hash (the first result of every function), and sometimes
    /// also kept in a variable for later statements.
    pub fn sink(&mut self, v: Value, dirty: bool) {
        let ty = self.b.func.dfg.value_type(v);
        let accs: Vec<Var> = self.accs.iter().copied().filter(|a| a.ty == ty).collect();
        if !accs.is_empty() && self.r.chance(1, 2) {
            let acc = accs[self.r.index(accs.len())];
            let v = if dirty && !acc.dirty_ok {
                self.canonicalize(v, ty)
            } else {
                v
            };
            if is_float(ty) {
                self.b.def_var(acc.var, v);
            } else {
                self.fold(acc, v);
            }
        } else {
            let x = self.mix_to_i64(v, ty, dirty);
            let hash = self.accs[0];
            self.fold(hash, x);
        }
        if self.r.chance(1, 3) {
            let vars: Vec<Var> = self.vars.iter().copied().filter(|x| x.ty == ty).collect();
            let var = if !vars.is_empty() && self.r.chance(1, 2) {
                vars[self.r.index(vars.len())]
            } else {
                let dirty_ok = is_float(ty) && self.r.chance(1, 2);
                self.new_var(ty, dirty_ok)
            };
            let v = if dirty && !var.dirty_ok {
                self.canonicalize(v, ty)
            } else {
                v
            };
            self.b.def_var(var.var, v);
        }
    }

    /// Mixes every bit of `v` into one `i64` (canonicalizing NaNs first).
    fn mix_to_i64(&mut self, v: Value, ty: Type, dirty: bool) -> Value {
        let v = if dirty { self.canonicalize(v, ty) } else { v };
        let flags = MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little);
        if ty.is_vector() {
            let lanes = if ty == types::I64X2 {
                v
            } else {
                self.b.ins().bitcast(types::I64X2, flags, v)
            };
            let lo = self.b.ins().extractlane(lanes, 0);
            let hi = self.b.ins().extractlane(lanes, 1);
            return self.b.ins().bxor(lo, hi);
        }
        match ty {
            types::I64 => v,
            types::I128 => {
                let (lo, hi) = self.b.ins().isplit(v);
                self.b.ins().bxor(lo, hi)
            }
            types::F64 => self.b.ins().bitcast(types::I64, MemFlagsData::new(), v),
            types::F32 => {
                let i = self.b.ins().bitcast(types::I32, MemFlagsData::new(), v);
                self.b.ins().uextend(types::I64, i)
            }
            _ => self.b.ins().uextend(types::I64, v),
        }
    }

    /// `acc = (acc ^ v) + acc` for integer (and integer-vector)
    /// accumulators (`acc + v` for `i128` on Pulley, which lacks `bxor.i128`).
    fn fold(&mut self, acc: Var, v: Value) {
        let a = self.b.use_var(acc.var);
        let s = if acc.ty == types::I128 && self.cfg.pulley {
            self.b.ins().iadd(a, v)
        } else {
            let x = self.b.ins().bxor(a, v);
            self.b.ins().iadd(x, a)
        };
        self.b.def_var(acc.var, s);
    }

    /// A stack address for an access of `bytes` bytes: the address value,
    /// the part of the offset left for the instruction's immediate, and
    /// whether the access is naturally aligned.
    pub fn stack_address(&mut self, bytes: u32, atomic: bool) -> (Value, i32, bool) {
        let (slot, size) = self.slots[self.r.index(self.slots.len())];
        let span = u64::from(size - bytes);
        let total = if atomic || self.r.chance(1, 2) {
            self.r.below(span / u64::from(bytes) + 1) * u64::from(bytes)
        } else {
            self.r.range(0, span)
        };
        let imm = if atomic { 0 } else { self.r.range(0, total) };
        let base = (total - imm) as i32;
        let addr = self.b.ins().stack_addr(types::I64, slot, base);
        (addr, imm as i32, total % u64::from(bytes) == 0)
    }

    // ----- control flow -----

    fn condition(&mut self, depth: u32) -> Value {
        let t = *self
            .r
            .pick(&[types::I8, types::I32, types::I64])
            .unwrap_or(&types::I32);
        self.operand(t, depth.saturating_sub(1), false).0
    }

    fn nested(&mut self, depth: u32, max: u64) {
        self.nesting += 1;
        for _ in 0..self.r.range(0, max) {
            if self.insts >= self.cfg.max_instructions {
                break;
            }
            self.statement(depth.saturating_sub(1));
        }
        self.nesting -= 1;
    }

    /// `brif c, then, else`, both arms joining.
    fn diamond(&mut self, depth: u32) {
        let c = self.condition(depth);
        let (then_b, else_b, join) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().brif(c, then_b, &[], else_b, &[]);
        for arm in [then_b, else_b] {
            self.b.switch_to_block(arm);
            self.nested(depth, 3);
            self.b.ins().jump(join, &[]);
        }
        self.b.switch_to_block(join);
    }

    /// A loop whose counter (a variable nothing else writes) is checked
    /// at the header and decremented in the body.
    fn counted_loop(&mut self, depth: u32) {
        let counter = self.b.declare_var(types::I32);
        let n = self.r.range(0, u64::from(self.cfg.max_loop_iterations)) as i64;
        let init = self.b.ins().iconst(types::I32, n);
        self.b.def_var(counter, init);
        let (header, body, exit) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let c = self.b.use_var(counter);
        let more = self.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, c, 0);
        self.b.ins().brif(more, body, &[], exit, &[]);
        self.b.switch_to_block(body);
        let c = self.b.use_var(counter);
        let next = self.b.ins().iadd_imm_s(c, -1);
        self.b.def_var(counter, next);
        self.nested(depth, 3);
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(exit);
    }

    /// `br_table` over a few arms joining afterwards.
    fn br_table(&mut self, depth: u32) {
        let idx = self.operand(types::I32, depth.saturating_sub(1), false).0;
        let arms: Vec<Block> = (0..self.r.range(1, 4))
            .map(|_| self.b.create_block())
            .collect();
        let join = self.b.create_block();
        let picks: Vec<Block> = (0..self.r.range(0, 5))
            .map(|_| arms[self.r.index(arms.len())])
            .collect();
        let pool = &mut self.b.func.dfg.value_lists;
        let default = BlockCall::new(arms[0], [], pool);
        let targets: Vec<BlockCall> = picks.iter().map(|&t| BlockCall::new(t, [], pool)).collect();
        let jt = self
            .b
            .create_jump_table(JumpTableData::new(default, &targets));
        self.b.ins().br_table(idx, jt);
        for arm in arms {
            self.b.switch_to_block(arm);
            self.nested(depth, 2);
            self.b.ins().jump(join, &[]);
        }
        self.b.switch_to_block(join);
    }

    /// `brif c, ret, cont` where `ret` returns the accumulators.
    fn early_return(&mut self, depth: u32) {
        let c = self.condition(depth);
        let (ret_b, cont) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(c, ret_b, &[], cont, &[]);
        self.b.switch_to_block(ret_b);
        self.ret();
        self.b.switch_to_block(cont);
    }

    /// A call to a later function; results observed.
    fn call(&mut self, depth: u32) {
        let callee = self.callees[self.r.index(self.callees.len())].clone();
        let args: Vec<Value> = callee
            .params
            .iter()
            .map(|&t| self.operand(t, depth.saturating_sub(1), false).0)
            .collect();
        let inst = self.b.ins().call(callee.func_ref, &args);
        let results = self.b.inst_results(inst).to_vec();
        for (v, &t) in results.into_iter().zip(&callee.rets) {
            self.sink(v, self.return_dirty_ok(t));
        }
    }

    /// `brif c, tail, cont` where `tail` ends in `return_call` to a later
    /// function with the same results (nothing if there is none).
    fn tail_call(&mut self, depth: u32) {
        let candidates: Vec<Callee> = self
            .callees
            .iter()
            .filter(|c| c.rets == self.returns)
            .cloned()
            .collect();
        let Some(callee) = self.r.pick(&candidates).cloned() else {
            return;
        };
        let c = self.condition(depth);
        let (tail, cont) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(c, tail, &[], cont, &[]);
        self.b.switch_to_block(tail);
        let args: Vec<Value> = callee
            .params
            .iter()
            .map(|&t| self.operand(t, depth.saturating_sub(1), false).0)
            .collect();
        self.b.ins().return_call(callee.func_ref, &args);
        self.b.switch_to_block(cont);
    }

    /// `trapnz` / `trapz` on a computed condition.
    fn trap(&mut self, depth: u32) {
        let c = self.condition(depth);
        let code = TrapCode::user(GENERATED_TRAP).expect("nonzero trap code");
        if self.r.chance(1, 2) {
            self.b.ins().trapnz(c, code);
        } else {
            self.b.ins().trapz(c, code);
        }
    }

    /// A body applying `op` to the parameters and returning its results.
    pub fn single_op(&mut self, op: &ClifOp) {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            SLOT_BYTES,
            4,
        ));
        let addr = self.b.ins().stack_addr(types::I64, slot, 0);
        let zero = self.b.ins().iconst(types::I64, 0);
        for off in (0..SLOT_BYTES).step_by(8) {
            self.b
                .ins()
                .store(MemFlagsData::new(), zero, addr, off as i32);
        }
        self.slots.push((slot, SLOT_BYTES));
        let args: Vec<Value> = self.b.block_params(entry).to_vec();
        let results = if matches!(
            op.opcode,
            Opcode::Iconst | Opcode::F32const | Opcode::F64const | Opcode::Vconst
        ) {
            vec![self.constant(op.rets[0])]
        } else {
            self.emit_op(op, &args)
        };
        self.b.ins().return_(&results);
    }

    /// Seals all blocks and finishes the function.
    pub fn finish(mut self) {
        self.b.seal_all_blocks();
        self.b.finalize(super::frontend_config());
    }
}
