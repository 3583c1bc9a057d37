//! Structured control flow, branches and calls.
//!
//! Termination: a loop's counter (a local no other code writes) is
//! decremented on entry to every iteration and every branch back to the
//! loop requires it to be positive; direct calls and tail calls only go to
//! later functions. Indirect calls may recurse; the engines' fuel and
//! call-depth limits bound them deterministically.

use std::borrow::Cow;

use shoal_runtime::{FuncType, ValType};
use wasm_encoder::{BlockType, Instruction};

use super::Dirt;
use super::enc_ty;
use super::func::{FuncGen, Label, LabelKind, Role};
use super::table::Special;

impl FuncGen<'_, '_, '_> {
    /// The block type for `params -> results`.
    fn block_type(&mut self, params: &[ValType], results: &[ValType]) -> BlockType {
        match (params.len(), results) {
            (0, []) => BlockType::Empty,
            (0, [t]) => BlockType::Result(enc_ty(*t)),
            _ => BlockType::FunctionType(self.m.type_index(FuncType {
                params: params.to_vec(),
                results: results.to_vec(),
            })),
        }
    }

    /// True if another level of blocks fits the nesting limit.
    fn can_nest(&self) -> bool {
        self.labels.len() <= self.m.cfg.max_nesting as usize && self.budget_left()
    }

    fn types(&mut self, max: u32) -> Vec<ValType> {
        let n = self.r.range_u32(0, max);
        (0..n).map(|_| self.m.pick_type(self.r)).collect()
    }

    fn push_label(
        &mut self,
        kind: LabelKind,
        types: Vec<ValType>,
        accepts: Vec<Dirt>,
        counter: Option<u32>,
    ) {
        self.labels.push(Label {
            kind,
            types,
            accepts,
            counter,
        });
    }

    /// Relative depth of the label at position `pos`.
    fn rel(&self, pos: usize) -> u32 {
        (self.labels.len() - 1 - pos) as u32
    }

    /// `block`/`loop`/`if`: as a statement (`want == None`: any block type,
    /// results observed) or producing one value of type `want`.
    pub fn structured(
        &mut self,
        s: Special,
        want: Option<ValType>,
        depth: u32,
        accept: Dirt,
    ) -> Option<Dirt> {
        if !self.can_nest() {
            return None;
        }
        let mv = self.m.cfg.multi_value;
        let params = if mv && self.r.chance(1, 4) {
            self.types(2)
        } else {
            Vec::new()
        };
        let results = match want {
            Some(t) => vec![t],
            None => self.types(if mv { 2 } else { 1 }),
        };
        let arm_accept = if want.is_some() { accept } else { None };
        let sub = depth.saturating_sub(1);
        let counter = (s == Special::Loop).then(|| {
            let c = self.new_local(ValType::I32, None, Role::Counter);
            let n = self.r.range_u32(0, self.m.cfg.max_loop_iterations);
            self.push_int(ValType::I32, u64::from(n));
            self.emit(Instruction::LocalSet(c));
            c
        });
        for &p in &params {
            self.operand(p, sub, None);
        }
        if s == Special::If {
            self.operand(ValType::I32, sub, None);
        }
        let bt = self.block_type(&params, &results);
        let (kind, label_types) = match s {
            Special::Loop => (LabelKind::Loop, params.clone()),
            Special::If => (LabelKind::If, results.clone()),
            _ => (LabelKind::Block, results.clone()),
        };
        self.emit(match s {
            Special::Loop => Instruction::Loop(bt),
            Special::If => Instruction::If(bt),
            _ => Instruction::Block(bt),
        });
        let accepts = if kind == LabelKind::Loop {
            vec![None; label_types.len()]
        } else {
            vec![arm_accept; label_types.len()]
        };
        self.push_label(kind, label_types, accepts, counter);
        let mut dirty = self.arm(&params, &results, counter, depth, arm_accept);
        let needs_else = !params.is_empty() || !results.is_empty() || self.r.chance(1, 2);
        if s == Special::If && needs_else {
            self.emit(Instruction::Else);
            dirty |= self.arm(&params, &results, None, depth, arm_accept);
        }
        self.emit(Instruction::End);
        self.labels.pop();
        if want.is_none() {
            self.sink_all(&results, &vec![None; results.len()]);
            return Some(None);
        }
        Some(if dirty { arm_accept } else { None })
    }

    /// The body of a block arm: take the parameters into locals, run a few
    /// statements (loops: count down, branch back while positive), then
    /// produce the results. Returns whether a result may be dirty.
    fn arm(
        &mut self,
        params: &[ValType],
        results: &[ValType],
        counter: Option<u32>,
        depth: u32,
        accept: Dirt,
    ) -> bool {
        for &p in params.iter().rev() {
            let l = self.new_local(p, None, Role::Var);
            self.emit(Instruction::LocalSet(l));
            self.scratch.push(l);
        }
        if let Some(c) = counter {
            self.emit(Instruction::LocalGet(c));
            self.emit(Instruction::I32Const(1));
            self.emit(Instruction::I32Sub);
            self.emit(Instruction::LocalSet(c));
        }
        for _ in 0..self.r.range(0, 3) {
            if !self.budget_left() {
                break;
            }
            self.statement(depth.saturating_sub(1));
        }
        if let Some(c) = counter {
            for &p in params {
                self.operand(p, depth.saturating_sub(1), None);
            }
            self.counter_positive(c);
            self.emit(Instruction::BrIf(0));
            for _ in params {
                self.emit(Instruction::Drop);
            }
        }
        let one = results.len() == 1;
        let mut dirty = false;
        for &t in results {
            let d = self.operand(t, depth.saturating_sub(1), if one { accept } else { None });
            dirty |= d.is_some();
        }
        dirty
    }

    /// Pushes `counter > 0`.
    fn counter_positive(&mut self, c: u32) {
        self.emit(Instruction::LocalGet(c));
        self.emit(Instruction::I32Const(0));
        self.emit(Instruction::I32GtS);
    }

    /// A branch condition for the label at `pos`: for a loop, forced to 0
    /// once the loop's counter is exhausted.
    fn branch_condition(&mut self, pos: usize, depth: u32) {
        self.operand(ValType::I32, depth, None);
        if let Some(c) = self.labels[pos].counter {
            self.emit(Instruction::I32Const(0));
            self.counter_positive(c);
            self.emit(Instruction::Select);
        }
    }

    /// `if (cond) { values; br L }`.
    pub fn br(&mut self, depth: u32) -> bool {
        let sub = depth.saturating_sub(1);
        let pos = self.r.index(self.labels.len());
        self.branch_condition(pos, sub);
        self.emit(Instruction::If(BlockType::Empty));
        self.push_label(LabelKind::If, Vec::new(), Vec::new(), None);
        let label = self.labels[pos].clone();
        for (&t, &a) in label.types.iter().zip(&label.accepts) {
            self.operand(t, sub, a);
        }
        self.emit(Instruction::Br(self.rel(pos)));
        self.labels.pop();
        self.emit(Instruction::End);
        true
    }

    /// `values; cond; br_if L`, then the values (left when not taken) are observed.
    pub fn br_if_statement(&mut self, depth: u32) -> bool {
        let sub = depth.saturating_sub(1);
        let pos = self.r.index(self.labels.len());
        let label = self.labels[pos].clone();
        for (&t, &a) in label.types.iter().zip(&label.accepts) {
            self.operand(t, sub, a);
        }
        self.branch_condition(pos, sub);
        self.emit(Instruction::BrIf(self.rel(pos)));
        self.sink_all(&label.types, &label.accepts);
        true
    }

    /// `br_if` to a label carrying exactly one value of type `ty`.
    pub fn br_if_value(&mut self, ty: ValType, depth: u32, accept: Dirt) -> Option<Dirt> {
        let candidates: Vec<usize> = (0..self.labels.len())
            .filter(|&p| self.labels[p].types == [ty])
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let pos = candidates[self.r.index(candidates.len())];
        let sub = depth.saturating_sub(1);
        let label_accept = self.labels[pos].accepts[0];
        let a = if label_accept == accept { accept } else { None };
        let d = self.operand(ty, sub, a);
        self.branch_condition(pos, sub);
        self.emit(Instruction::BrIf(self.rel(pos)));
        Some(d)
    }

    /// New blocks ended one by one, with a `br_table` inside the innermost
    /// one choosing among them and outer labels of the same type.
    pub fn br_table(&mut self, depth: u32) -> bool {
        if !self.can_nest() {
            return false;
        }
        let sub = depth.saturating_sub(1);
        let k = self.r.range(1, 3) as usize;
        let value: Option<ValType> = self.r.chance(1, 3).then(|| self.m.pick_type(self.r));
        let types: Vec<ValType> = value.into_iter().collect();
        let outer: Vec<usize> = (0..self.labels.len())
            .filter(|&p| self.labels[p].kind != LabelKind::Loop && self.labels[p].types == types)
            .filter(|&p| self.labels[p].accepts.iter().all(Option::is_none))
            .collect();
        let bt = self.block_type(&[], &types);
        for _ in 0..k {
            self.emit(Instruction::Block(bt));
            self.push_label(
                LabelKind::Block,
                types.clone(),
                vec![None; types.len()],
                None,
            );
        }
        for &t in &types {
            self.operand(t, sub, None);
        }
        let n = self.r.range(0, 6);
        if self.r.chance(1, 2) {
            let i = self.r.below(n + 2);
            self.push_int(ValType::I32, i);
        } else {
            self.operand(ValType::I32, sub, None);
        }
        let base = self.labels.len() - k;
        let mut candidates: Vec<u32> = (base..self.labels.len()).map(|p| self.rel(p)).collect();
        candidates.extend(outer.iter().map(|&p| self.rel(p)));
        let targets: Vec<u32> = (0..n)
            .map(|_| candidates[self.r.index(candidates.len())])
            .collect();
        let default = candidates[self.r.index(candidates.len())];
        self.emit(Instruction::BrTable(Cow::Owned(targets), default));
        for i in 0..k {
            self.emit(Instruction::End);
            self.labels.pop();
            if let Some(t) = value {
                let sink = self.choose_sink(t);
                self.sink(sink, t, None);
            }
            if i + 1 < k {
                if self.r.chance(1, 2) && self.budget_left() {
                    self.statement(sub);
                }
                if let Some(t) = value {
                    self.operand(t, sub, None);
                }
            }
        }
        true
    }

    /// `if (cond) { results; return }`.
    pub fn ret(&mut self, depth: u32) -> bool {
        let sub = depth.saturating_sub(1);
        self.operand(ValType::I32, sub, None);
        self.emit(Instruction::If(BlockType::Empty));
        self.push_label(LabelKind::If, Vec::new(), Vec::new(), None);
        for t in self.results.clone() {
            let a = self.return_class(t);
            self.operand(t, sub, a);
        }
        self.emit(Instruction::Return);
        self.labels.pop();
        self.emit(Instruction::End);
        true
    }

    /// `if (cond) unreachable`.
    pub fn unreachable(&mut self, depth: u32) -> bool {
        self.operand(ValType::I32, depth.saturating_sub(1), None);
        self.emit(Instruction::If(BlockType::Empty));
        self.emit(Instruction::Unreachable);
        self.emit(Instruction::End);
        true
    }

    /// Functions after this one whose results satisfy `pred`.
    fn callees(&self, pred: impl Fn(&FuncType) -> bool) -> Vec<u32> {
        (self.idx + 1..self.m.funcs.len() as u32)
            .filter(|&f| pred(self.m.func_type(f)))
            .collect()
    }

    fn args(&mut self, params: &[ValType], depth: u32) {
        for &p in params {
            self.operand(p, depth, None);
        }
    }

    fn result_dirt(&self, results: &[ValType]) -> Vec<Dirt> {
        results.iter().map(|&t| self.return_class(t)).collect()
    }

    /// A direct call to a later function; results observed.
    pub fn call_statement(&mut self, depth: u32) -> bool {
        let callees = self.callees(|_| true);
        if callees.is_empty() {
            return false;
        }
        let f = callees[self.r.index(callees.len())];
        let ty = self.m.func_type(f).clone();
        self.args(&ty.params, depth.saturating_sub(1));
        self.emit(Instruction::Call(f));
        let dirt = self.result_dirt(&ty.results);
        self.sink_all(&ty.results, &dirt);
        true
    }

    /// A direct call producing one value of type `ty`.
    pub fn call_value(&mut self, ty: ValType, depth: u32, accept: Dirt) -> Option<Dirt> {
        let callees = self.callees(|t| t.results == [ty]);
        if callees.is_empty() {
            return None;
        }
        let f = callees[self.r.index(callees.len())];
        let params = self.m.func_type(f).params.clone();
        self.args(&params, depth.saturating_sub(1));
        self.emit(Instruction::Call(f));
        let d = self.return_class(ty);
        Some(self.fit(ty, d, accept))
    }

    /// A funcref table and a type index for an indirect call whose type's
    /// results satisfy `pred` (usually the type of some function).
    fn indirect_target(&mut self, pred: impl Fn(&FuncType) -> bool) -> Option<(u32, u32)> {
        let tables: Vec<u32> = (0..self.m.tables.len() as u32)
            .filter(|&t| self.m.tables[t as usize].elem == ValType::FuncRef)
            .collect();
        if tables.is_empty() {
            return None;
        }
        let from_funcs: Vec<u32> = self
            .m
            .funcs
            .iter()
            .copied()
            .filter(|&t| pred(&self.m.types[t as usize]))
            .collect();
        let any: Vec<u32> = (0..self.m.types.len() as u32)
            .filter(|&t| pred(&self.m.types[t as usize]))
            .collect();
        let ty = if !from_funcs.is_empty() && self.r.chance(3, 4) {
            from_funcs[self.r.index(from_funcs.len())]
        } else if !any.is_empty() {
            any[self.r.index(any.len())]
        } else {
            return None;
        };
        Some((tables[self.r.index(tables.len())], ty))
    }

    /// An index into table `t`: mostly in range, sometimes computed.
    pub fn table_index(&mut self, t: u32, depth: u32) {
        let table = self.m.tables[t as usize].clone();
        if self.r.chance(3, 4) {
            let i = self.r.range(0, table.min + 1);
            self.push_int(table.index(), i);
        } else {
            self.operand(table.index(), depth, None);
        }
    }

    /// `call_indirect`; results observed.
    pub fn call_indirect_statement(&mut self, depth: u32) -> bool {
        let Some((table, ty)) = self.indirect_target(|_| true) else {
            return false;
        };
        let sub = depth.saturating_sub(1);
        let ft = self.m.types[ty as usize].clone();
        self.args(&ft.params, sub);
        self.table_index(table, sub);
        self.emit(Instruction::CallIndirect {
            type_index: ty,
            table_index: table,
        });
        let dirt = self.result_dirt(&ft.results);
        self.sink_all(&ft.results, &dirt);
        true
    }

    /// `call_indirect` producing one value of type `ty`.
    pub fn call_indirect_value(&mut self, ty: ValType, depth: u32, accept: Dirt) -> Option<Dirt> {
        let (table, tyi) = self.indirect_target(|t| t.results == [ty])?;
        let sub = depth.saturating_sub(1);
        let params = self.m.types[tyi as usize].params.clone();
        self.args(&params, sub);
        self.table_index(table, sub);
        self.emit(Instruction::CallIndirect {
            type_index: tyi,
            table_index: table,
        });
        let d = self.return_class(ty);
        Some(self.fit(ty, d, accept))
    }

    /// `if (cond) return_call f` to a later function with our results.
    pub fn return_call(&mut self, depth: u32) -> bool {
        let results = self.results.clone();
        let callees = self.callees(|t| t.results == results);
        if callees.is_empty() {
            return false;
        }
        let f = callees[self.r.index(callees.len())];
        let sub = depth.saturating_sub(1);
        self.operand(ValType::I32, sub, None);
        self.emit(Instruction::If(BlockType::Empty));
        self.push_label(LabelKind::If, Vec::new(), Vec::new(), None);
        let params = self.m.func_type(f).params.clone();
        self.args(&params, sub);
        self.emit(Instruction::ReturnCall(f));
        self.labels.pop();
        self.emit(Instruction::End);
        true
    }

    /// `if (cond) return_call_indirect` with a type returning our results.
    pub fn return_call_indirect(&mut self, depth: u32) -> bool {
        let results = self.results.clone();
        let Some((table, ty)) = self.indirect_target(|t| t.results == results) else {
            return false;
        };
        let sub = depth.saturating_sub(1);
        self.operand(ValType::I32, sub, None);
        self.emit(Instruction::If(BlockType::Empty));
        self.push_label(LabelKind::If, Vec::new(), Vec::new(), None);
        let params = self.m.types[ty as usize].params.clone();
        self.args(&params, sub);
        self.table_index(table, sub);
        self.emit(Instruction::ReturnCallIndirect {
            type_index: ty,
            table_index: table,
        });
        self.labels.pop();
        self.emit(Instruction::End);
        true
    }
}
