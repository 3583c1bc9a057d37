//! Control flow: blocks, loops, conditionals, branches, returns and calls
//! (direct, indirect and tail).

use cranelift_codegen::ir::{
    BlockArg, ExtFuncData, ExternalName, InstBuilder, JumpTableData, UserExternalName, Value,
};
use wasmparser::Operator;

use cranelift_codegen::ir::types::I64;

use super::{Frame, FuncTranslator, Kind, TResult, readonly, wasm_signature};
use crate::jit::traps;
use crate::jit::vmctx::funcref;

impl FuncTranslator<'_, '_> {
    /// Control operators; `Ok(false)` if `op` is not one.
    pub(super) fn control_op(&mut self, op: &Operator<'_>) -> TResult<bool> {
        match op {
            Operator::Nop => {}
            Operator::Unreachable => self.trap(traps::UNREACHABLE),
            Operator::Block { blockty } => {
                let (params, results) = self.block_type(*blockty)?;
                let exit = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                self.frames.push(Frame {
                    kind: Kind::Block,
                    dead: false,
                    header: None,
                    exit,
                    else_block: None,
                    params,
                    results,
                    height,
                    exit_used: false,
                });
            }
            Operator::Loop { blockty } => self.loop_(*blockty)?,
            Operator::If { blockty } => self.if_(*blockty)?,
            Operator::Else => self.else_(),
            Operator::End => self.end()?,
            Operator::Br { relative_depth } => self.br(*relative_depth),
            Operator::BrIf { relative_depth } => self.br_if(*relative_depth),
            Operator::BrTable { targets } => self.br_table(targets)?,
            Operator::Return => self.br(self.frames.len() as u32 - 1),
            Operator::Drop => {
                self.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } => self.select(),
            Operator::Call { function_index } => self.call(*function_index, false),
            Operator::ReturnCall { function_index } => self.call(*function_index, true),
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(*type_index, *table_index, false),
            Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(*type_index, *table_index, true),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Operators in unreachable code: only the control structure matters.
    pub(super) fn unreachable_op(&mut self, op: &Operator<'_>) -> TResult {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.frames.push(Frame::dead());
            }
            Operator::Else if !self.frames.last().is_some_and(|f| f.dead) => self.else_(),
            Operator::End => {
                if self.frames.last().is_some_and(|f| f.dead) {
                    self.frames.pop();
                } else {
                    self.end()?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn loop_(&mut self, bt: wasmparser::BlockType) -> TResult {
        let (params, results) = self.block_type(bt)?;
        let header = self.block_with_params(&params);
        let exit = self.block_with_params(&results);
        let args = self.top_args(params.len());
        self.jump(header, &args);
        let height = self.stack.len() - params.len();
        self.stack.truncate(height);
        self.b.switch_to_block(header);
        let hp: Vec<Value> = self.b.block_params(header).to_vec();
        self.stack.extend(hp);
        self.charge_fuel();
        self.frames.push(Frame {
            kind: Kind::Loop,
            dead: false,
            header: Some(header),
            exit,
            else_block: None,
            params,
            results,
            height,
            exit_used: false,
        });
        Ok(())
    }

    fn if_(&mut self, bt: wasmparser::BlockType) -> TResult {
        let (params, results) = self.block_type(bt)?;
        let cond = self.pop();
        let then_block = self.block_with_params(&params);
        let else_block = self.block_with_params(&params);
        let exit = self.block_with_params(&results);
        let args: Vec<BlockArg> = self
            .top_args(params.len())
            .into_iter()
            .map(BlockArg::Value)
            .collect();
        self.b
            .ins()
            .brif(cond, then_block, &args, else_block, &args);
        self.b.seal_block(then_block);
        self.b.seal_block(else_block);
        let height = self.stack.len() - params.len();
        self.stack.truncate(height);
        self.b.switch_to_block(then_block);
        let tp: Vec<Value> = self.b.block_params(then_block).to_vec();
        self.stack.extend(tp);
        self.frames.push(Frame {
            kind: Kind::If,
            dead: false,
            header: None,
            exit,
            else_block: Some(else_block),
            params,
            results,
            height,
            exit_used: false,
        });
        Ok(())
    }

    fn else_(&mut self) {
        let reachable = self.reachable;
        let n = self.frames.last().map_or(0, |f| f.results.len());
        let args = if reachable {
            Some(self.top_args(n))
        } else {
            None
        };
        let frame = self.frames.last_mut().expect("validated: else in if");
        let else_block = frame.else_block.take().expect("validated: else after if");
        frame.kind = Kind::Else;
        let exit = frame.exit;
        let height = frame.height;
        if let Some(args) = args {
            frame.exit_used = true;
            self.jump(exit, &args);
        }
        self.stack.truncate(height);
        self.b.switch_to_block(else_block);
        let ep: Vec<Value> = self.b.block_params(else_block).to_vec();
        self.stack.extend(ep);
        self.reachable = true;
    }

    fn end(&mut self) -> TResult {
        let mut frame = self.frames.pop().ok_or("unbalanced end")?;
        if self.reachable {
            let args = self.top_args(frame.results.len());
            self.jump(frame.exit, &args);
            frame.exit_used = true;
        }
        if let Some(else_block) = frame.else_block.take() {
            // `if` without `else`: the not-taken path passes the parameters
            // through (validation makes them the results).
            self.b.switch_to_block(else_block);
            let ep: Vec<Value> = self.b.block_params(else_block).to_vec();
            self.jump(frame.exit, &ep);
            frame.exit_used = true;
        }
        if let Some(header) = frame.header {
            self.b.seal_block(header);
        }
        self.stack.truncate(frame.height);
        if frame.exit_used {
            self.b.switch_to_block(frame.exit);
            self.b.seal_block(frame.exit);
            let xp: Vec<Value> = self.b.block_params(frame.exit).to_vec();
            self.stack.extend(xp);
            self.reachable = true;
            if frame.kind == Kind::Function {
                let vals = self.popn(frame.results.len());
                self.leave_accounting();
                self.b.ins().return_(&vals);
                self.reachable = false;
            }
        } else {
            self.reachable = false;
        }
        Ok(())
    }

    fn frame_at(&mut self, depth: u32) -> &mut Frame {
        let i = self.frames.len() - 1 - depth as usize;
        &mut self.frames[i]
    }

    fn br(&mut self, depth: u32) {
        let frame = self.frame_at(depth);
        let n = frame.branch_arity();
        let target = frame.branch_target();
        if frame.header.is_none() {
            frame.exit_used = true;
        }
        let args = self.top_args(n);
        self.jump(target, &args);
        self.reachable = false;
    }

    fn br_if(&mut self, depth: u32) {
        let cond = self.pop();
        let frame = self.frame_at(depth);
        let n = frame.branch_arity();
        let target = frame.branch_target();
        if frame.header.is_none() {
            frame.exit_used = true;
        }
        let args: Vec<BlockArg> = self.top_args(n).into_iter().map(BlockArg::Value).collect();
        let next = self.b.create_block();
        self.b.ins().brif(cond, target, &args, next, &[]);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
    }

    fn br_table(&mut self, table: &wasmparser::BrTable<'_>) -> TResult {
        let index = self.pop();
        let n = self.frame_at(table.default()).branch_arity();
        let args: Vec<BlockArg> = self.top_args(n).into_iter().map(BlockArg::Value).collect();
        let mut calls = Vec::with_capacity(table.len() as usize);
        let target_of = |t: &mut Self, depth: u32| {
            let frame = t.frame_at(depth);
            if frame.header.is_none() {
                frame.exit_used = true;
            }
            let block = frame.branch_target();
            t.b.func.dfg.block_call(block, &args)
        };
        for depth in table.targets() {
            let depth = depth.map_err(|e| e.to_string())?;
            calls.push(target_of(self, depth));
        }
        let default = target_of(self, table.default());
        let jt = self
            .b
            .create_jump_table(JumpTableData::new(default, &calls));
        self.b.ins().br_table(index, jt);
        self.reachable = false;
        Ok(())
    }

    fn select(&mut self) {
        let cond = self.pop();
        let b = self.pop();
        let a = self.pop();
        let (a, b) = if self.value_type(a) != self.value_type(b) {
            (self.canon(a), self.canon(b))
        } else {
            (a, b)
        };
        let v = self.b.ins().select(cond, a, b);
        self.push(v);
    }

    /// `call`/`return_call` of function `idx`.
    fn call(&mut self, idx: u32, tail: bool) {
        let module = self.env.module;
        let ty = module.func_type(idx).clone();
        let args = self.popn(ty.params.len());
        let mut call_args = vec![self.vmctx];
        call_args.extend(args.into_iter().map(|v| self.canon(v)));
        if idx < module.num_imported_funcs {
            let fref = self.vmctx_slot(self.env.offsets.func_slot(idx));
            // Imported functions never change: their `VMFuncRef` is
            // immutable, like the vmctx slot that points to it.
            let code = self.b.ins().load(I64, readonly(), fref, funcref::CODE);
            call_args[0] = self.b.ins().load(I64, readonly(), fref, funcref::VMCTX);
            let sig = self.signature(module.funcs[idx as usize]);
            self.emit_indirect(sig, code, &call_args, tail);
            return;
        }
        let callee = self.direct_callee(idx);
        if tail {
            self.leave_accounting();
            self.b.ins().return_call(callee, &call_args);
            self.reachable = false;
        } else {
            let inst = self.b.ins().call(callee, &call_args);
            let results = self.b.inst_results(inst).to_vec();
            self.stack.extend(results);
        }
    }

    fn call_indirect(&mut self, type_index: u32, table: u32, tail: bool) {
        let index = self.pop();
        let ty = self.env.module.types[type_index as usize].clone();
        let args = self.popn(ty.params.len());
        let (code, callee_vmctx) = self.indirect_target(table, type_index, index);
        let mut call_args = vec![callee_vmctx];
        call_args.extend(args.into_iter().map(|v| self.canon(v)));
        let sig = self.signature(type_index);
        self.emit_indirect(sig, code, &call_args, tail);
    }

    fn emit_indirect(
        &mut self,
        sig: cranelift_codegen::ir::SigRef,
        code: Value,
        args: &[Value],
        tail: bool,
    ) {
        if tail {
            self.leave_accounting();
            self.b.ins().return_call_indirect(sig, code, args);
            self.reachable = false;
        } else {
            let inst = self.b.ins().call_indirect(sig, code, args);
            let results = self.b.inst_results(inst).to_vec();
            self.stack.extend(results);
        }
    }

    /// The imported signature for module type `type_index`.
    fn signature(&mut self, type_index: u32) -> cranelift_codegen::ir::SigRef {
        if let Some(&s) = self.sigs.get(&type_index) {
            return s;
        }
        let sig = wasm_signature(&self.env.module.types[type_index as usize]);
        let s = self.b.import_signature(sig);
        self.sigs.insert(type_index, s);
        s
    }

    /// A colocated reference to defined function `idx` (by function index).
    fn direct_callee(&mut self, idx: u32) -> cranelift_codegen::ir::FuncRef {
        if let Some(&f) = self.direct.get(&idx) {
            return f;
        }
        let module = self.env.module;
        let sig = self.signature(module.funcs[idx as usize]);
        let name = self
            .b
            .func
            .declare_imported_user_function(UserExternalName::new(
                0,
                idx - module.num_imported_funcs,
            ));
        let f = self.b.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature: sig,
            colocated: true,
            patchable: false,
        });
        self.direct.insert(idx, f);
        f
    }
}
