//! Function bodies: statements built around a target instruction, operand
//! synthesis, NaN canonicalization and observation sinks.

use shoal_runtime::ValType;
use wasm_encoder::{Function, HeapType, Ieee32, Ieee64, Instruction};

use super::config::NanMode;
use super::module::ModuleState;
use super::table::{self, Instr, Kind, Lanes};
use super::{Dirt, can_be_dirty, enc_ty, lanes_of};
use crate::dict;
use crate::rng::Rng;

/// What generated code may do with a local.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// An ordinary variable: read and written freely.
    Var,
    /// A loop counter: read freely, written only by its loop.
    Counter,
    /// Scratch space of fixed instruction sequences: never read by leaves.
    Temp,
}

/// A local (parameters first).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Local {
    pub ty: ValType,
    /// The dirt its value may carry; writes are canonicalized to fit.
    pub class: Dirt,
    pub role: Role,
}

/// What a branch to a label does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LabelKind {
    Func,
    Block,
    Loop,
    If,
}

/// An enclosing block.
#[derive(Clone, Debug)]
pub(crate) struct Label {
    pub kind: LabelKind,
    /// Types a branch to this label carries.
    pub types: Vec<ValType>,
    /// The dirt each branch value may carry.
    pub accepts: Vec<Dirt>,
    /// The counter local of a loop.
    pub counter: Option<u32>,
}

/// Where an observed value goes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Sink {
    /// `g = rotl(g ^ v, 5)` (integers) or `g = g + v` (v128 lanes).
    FoldGlobal(u32),
    /// The same fold into a return slot.
    FoldLocal(u32),
    /// Overwrite a return slot.
    SetLocal(u32),
    /// Overwrite a float observation global.
    SetGlobal(u32),
    /// Store into a memory at a fixed address.
    Store(u32),
    /// Reinterpret a clean float as an integer and fold it.
    Reinterpret(u32),
    /// `ref.is_null`, folded into the i32 accumulator.
    IsNull(u32),
}

/// Most locals a function declares for sharing values.
const MAX_LOCALS: usize = 48;

/// Generates one function body.
pub(crate) struct FuncGen<'m, 'r, 'a> {
    pub m: &'m mut ModuleState,
    pub r: &'r mut Rng<'a>,
    pub idx: u32,
    pub results: Vec<ValType>,
    pub nparams: usize,
    pub locals: Vec<Local>,
    pub code: Vec<Instruction<'static>>,
    pub labels: Vec<Label>,
    pub ret_slots: Vec<u32>,
    pub scratch: Vec<u32>,
    temps: [Option<u32>; 7],
}

impl<'m, 'r, 'a> FuncGen<'m, 'r, 'a> {
    /// A generator for function `idx` of `m`.
    pub fn new(m: &'m mut ModuleState, r: &'r mut Rng<'a>, idx: u32) -> Self {
        let ty = m.func_type(idx).clone();
        let locals = ty
            .params
            .iter()
            .map(|&t| Local {
                ty: t,
                class: None,
                role: Role::Var,
            })
            .collect();
        FuncGen {
            m,
            r,
            idx,
            nparams: ty.params.len(),
            results: ty.results,
            locals,
            code: Vec::new(),
            labels: Vec::new(),
            ret_slots: Vec::new(),
            scratch: Vec::new(),
            temps: [None; 7],
        }
    }

    /// Generates the body.
    pub fn generate(mut self) -> Function {
        let accepts = self.results.iter().map(|&t| self.return_class(t)).collect();
        self.labels.push(Label {
            kind: LabelKind::Func,
            types: self.results.clone(),
            accepts,
            counter: None,
        });
        for t in self.results.clone() {
            let class = self.return_class(t);
            let l = self.new_local(t, class, Role::Var);
            self.ret_slots.push(l);
        }
        for _ in 0..self.r.range(0, 4) {
            let t = self.m.pick_type(self.r);
            let class = self.random_class(t);
            self.new_local(t, class, Role::Var);
        }
        let max = self.m.cfg.max_statements;
        let n = self.r.range_u32(max.div_ceil(2), max);
        for _ in 0..n {
            if !self.budget_left() || self.r.exhausted() {
                break;
            }
            self.statement(self.m.cfg.max_depth);
        }
        for &l in &self.ret_slots.clone() {
            self.emit(Instruction::LocalGet(l));
        }
        self.emit(Instruction::End);
        self.finish()
    }

    fn finish(self) -> Function {
        let mut groups: Vec<(u32, wasm_encoder::ValType)> = Vec::new();
        for l in &self.locals[self.nparams..] {
            let t = enc_ty(l.ty);
            match groups.last_mut() {
                Some((n, last)) if *last == t => *n += 1,
                _ => groups.push((1, t)),
            }
        }
        let mut f = Function::new(groups);
        for i in &self.code {
            f.instruction(i);
        }
        f
    }

    /// Appends an instruction.
    pub fn emit(&mut self, i: Instruction<'static>) {
        self.code.push(i);
    }

    /// True while the body is under its instruction budget.
    pub fn budget_left(&self) -> bool {
        (self.code.len() as u32) < self.m.cfg.max_instructions
    }

    /// Declares a local.
    pub fn new_local(&mut self, ty: ValType, class: Dirt, role: Role) -> u32 {
        self.locals.push(Local { ty, class, role });
        self.locals.len() as u32 - 1
    }

    /// The scratch temp of a type (for fixed sequences only).
    pub fn temp(&mut self, ty: ValType) -> u32 {
        let slot = table::type_slot(ty);
        if let Some(l) = self.temps[slot] {
            return l;
        }
        let l = self.new_local(ty, None, Role::Temp);
        self.temps[slot] = Some(l);
        l
    }

    /// The dirt a function result of type `t` may carry.
    pub fn return_class(&self, t: ValType) -> Dirt {
        match self.m.cfg.nan_mode {
            NanMode::Tolerant => lanes_of(t),
            NanMode::Canonical => None,
        }
    }

    /// A random NaN class for a new variable of type `t`.
    pub fn random_class(&mut self, t: ValType) -> Dirt {
        match t {
            ValType::F32 | ValType::F64 if self.r.chance(1, 2) => lanes_of(t),
            ValType::V128 => match self.r.below(4) {
                0 => Some(Lanes::F32),
                1 => Some(Lanes::F64),
                _ => None,
            },
            _ => None,
        }
    }

    /// Locals of type `t` with a role in `roles`.
    pub fn locals_of(&self, t: ValType, writable: bool) -> Vec<u32> {
        (0..self.locals.len() as u32)
            .filter(|&i| {
                let l = &self.locals[i as usize];
                l.ty == t && l.role != Role::Temp && (!writable || l.role == Role::Var)
            })
            .collect()
    }

    // ----- statements -----

    /// One statement: a target instruction with synthesized operands and
    /// observed results.
    pub fn statement(&mut self, depth: u32) {
        if let Some(instr) = self.choose_target()
            && self.target_statement(instr, depth)
        {
            return;
        }
        let ty = self.m.pick_type(self.r);
        let sink = self.choose_sink(ty);
        let accept = self.sink_accept(sink);
        let d = self.operand(ty, depth, accept);
        self.sink(sink, ty, d);
    }

    /// Draws a target from the whole table, then filters by configuration
    /// (a few redraws before giving up).
    fn choose_target(&mut self) -> Option<&'static Instr> {
        for _ in 0..4 {
            let k = self.r.weighted_cumulative(table::cumulative_weights());
            let instr = &table::table()[k];
            if self.m.cfg.enables(instr.feature) {
                return Some(instr);
            }
        }
        None
    }

    fn target_statement(&mut self, instr: &'static Instr, depth: u32) -> bool {
        match &instr.kind {
            Kind::Store { .. } | Kind::StoreLane { .. } => self.store(instr, depth),
            Kind::Special(s) => self.special_statement(*s, instr, depth),
            _ => {
                let ty = instr.produces()[0];
                self.value_statement(instr, ty, depth)
            }
        }
    }

    /// Emits `instr` producing `ty` and sinks the value.
    pub fn value_statement(&mut self, instr: &'static Instr, ty: ValType, depth: u32) -> bool {
        let sink = self.choose_sink(ty);
        let accept = self.sink_accept(sink);
        match self.value(instr, ty, depth, accept) {
            Some(d) => {
                self.sink(sink, ty, d);
                true
            }
            None => false,
        }
    }

    // ----- operands -----

    /// Emits code leaving one value of `ty` whose dirt fits `accept`;
    /// returns that dirt.
    pub fn operand(&mut self, ty: ValType, depth: u32, accept: Dirt) -> Dirt {
        if depth > 0 && self.budget_left() && self.r.chance(3, 5) {
            let p = table::producers(ty);
            let k = p.indices[self.r.weighted_cumulative(&p.cumulative)];
            let instr = &table::table()[k];
            if self.m.cfg.enables(instr.feature) {
                let before = self.code.len();
                if let Some(d) = self.value(instr, ty, depth, accept) {
                    return self.maybe_tee(ty, d);
                }
                debug_assert_eq!(
                    before,
                    self.code.len(),
                    "{} emitted then bailed",
                    instr.name
                );
            }
        }
        self.leaf(ty, accept)
    }

    /// Sometimes keeps a computed value in a fresh local for later reuse.
    fn maybe_tee(&mut self, ty: ValType, d: Dirt) -> Dirt {
        if self.locals.len() < MAX_LOCALS && self.r.chance(1, 6) {
            let l = self.new_local(ty, d, Role::Var);
            self.emit(Instruction::LocalTee(l));
            self.scratch.push(l);
        }
        d
    }

    /// A constant, a local or a global.
    pub fn leaf(&mut self, ty: ValType, accept: Dirt) -> Dirt {
        let locals = self.locals_of(ty, false);
        let recent: Vec<u32> = self
            .scratch
            .iter()
            .copied()
            .filter(|&l| self.locals[l as usize].ty == ty)
            .collect();
        let globals: Vec<u32> = (0..self.m.globals.len() as u32)
            .filter(|&g| self.m.globals[g as usize].ty == ty)
            .collect();
        let w = [
            5,
            if locals.is_empty() { 0 } else { 3 },
            if recent.is_empty() { 0 } else { 2 },
            if globals.is_empty() { 0 } else { 1 },
        ];
        let d = match self.r.weighted(&w) {
            1 => {
                let l = locals[self.r.index(locals.len())];
                self.get_local(l)
            }
            2 => {
                let l = recent[self.r.index(recent.len())];
                self.get_local(l)
            }
            3 => {
                let g = globals[self.r.index(globals.len())];
                self.emit(Instruction::GlobalGet(g));
                self.m.globals[g as usize].class
            }
            _ => {
                self.constant(ty);
                None
            }
        };
        self.fit(ty, d, accept)
    }

    fn get_local(&mut self, l: u32) -> Dirt {
        self.emit(Instruction::LocalGet(l));
        self.locals[l as usize].class
    }

    /// Emits a dictionary constant of type `ty`.
    pub fn constant(&mut self, ty: ValType) {
        let i = match ty {
            ValType::I32 => Instruction::I32Const(dict::pick_i32(self.r)),
            ValType::I64 => Instruction::I64Const(dict::pick_i64(self.r)),
            ValType::F32 => Instruction::F32Const(Ieee32::new(dict::pick_f32(self.r))),
            ValType::F64 => Instruction::F64Const(Ieee64::new(dict::pick_f64(self.r))),
            ValType::V128 => Instruction::V128Const(dict::pick_v128(self.r) as i128),
            ValType::FuncRef if self.r.chance(1, 2) => {
                Instruction::RefFunc(self.r.below(self.m.funcs.len() as u64) as u32)
            }
            ValType::FuncRef => Instruction::RefNull(HeapType::FUNC),
            ValType::ExternRef => Instruction::RefNull(HeapType::EXTERN),
        };
        self.emit(i);
    }

    /// Emits a value with `instr` at the root, or returns `None` having
    /// emitted nothing when `instr` cannot produce `ty` here.
    pub fn value(
        &mut self,
        instr: &'static Instr,
        ty: ValType,
        depth: u32,
        accept: Dirt,
    ) -> Option<Dirt> {
        let sub = depth.saturating_sub(1);
        let nan = instr.nan;
        match &instr.kind {
            Kind::Op {
                params,
                result,
                enc,
            } => {
                if *result != ty {
                    return None;
                }
                let mut dirty = false;
                for (i, &p) in params.iter().enumerate() {
                    dirty |= self.operand(p, sub, nan.accepts(i)).is_some();
                }
                self.emit(enc.clone());
                Some(self.fit(ty, nan.output(dirty), accept))
            }
            Kind::Const(t) => {
                self.constant(*t);
                Some(None)
            }
            Kind::Load { bytes, enc, .. } => {
                let mem = self.pick_mem()?;
                self.address(mem, *bytes, sub);
                let memarg = self.memarg(mem, *bytes);
                self.emit(enc(memarg));
                Some(None)
            }
            Kind::LoadLane { bytes, enc } => {
                let mem = self.pick_mem()?;
                self.address(mem, *bytes, sub);
                self.operand(ValType::V128, sub, None);
                let memarg = self.memarg(mem, *bytes);
                let lane = dict::pick_lane_index(self.r, (16 / bytes) as u8);
                self.emit(enc(memarg, lane));
                Some(None)
            }
            Kind::ExtractLane { lanes, enc, .. } => {
                let d = self.operand(ValType::V128, sub, nan.accepts(0));
                let lane = dict::pick_lane_index(self.r, *lanes);
                self.emit(enc(lane));
                Some(self.fit(ty, nan.output(d.is_some()), accept))
            }
            Kind::ReplaceLane { lanes, scalar, enc } => {
                let d1 = self.operand(ValType::V128, sub, nan.accepts(0));
                let d2 = self.operand(*scalar, sub, nan.accepts(1));
                let lane = dict::pick_lane_index(self.r, *lanes);
                self.emit(enc(lane));
                let dirty = d1.is_some() || d2.is_some();
                Some(self.fit(ty, nan.output(dirty), accept))
            }
            Kind::Shuffle => {
                self.shuffle(sub);
                Some(None)
            }
            Kind::Store { .. } | Kind::StoreLane { .. } => None,
            Kind::Special(s) => self.special_value(*s, ty, depth, accept),
        }
    }

    // ----- NaN canonicalization -----

    /// Makes the value on the stack (of type `ty`, dirt `d`) acceptable to a
    /// consumer accepting `accept`; returns the resulting dirt.
    pub fn fit(&mut self, ty: ValType, d: Dirt, accept: Dirt) -> Dirt {
        match d {
            Some(l) if d != accept && can_be_dirty(ty) => {
                self.canonicalize(ty, l);
                None
            }
            _ => d,
        }
    }

    /// Replaces every NaN (in lanes `l`) of the value on the stack by the
    /// positive canonical NaN: `select(canon, x, x != x)`, or the lane-wise
    /// `bitselect` for vectors.
    fn canonicalize(&mut self, ty: ValType, l: Lanes) {
        let t = self.temp(ty);
        self.emit(Instruction::LocalSet(t));
        let (canon, ne) = match (ty, l) {
            (ValType::F32, _) => (
                Instruction::F32Const(Ieee32::new(0x7fc0_0000)),
                Instruction::F32Ne,
            ),
            (ValType::F64, _) => (
                Instruction::F64Const(Ieee64::new(0x7ff8_0000_0000_0000)),
                Instruction::F64Ne,
            ),
            (_, Lanes::F32) => (
                Instruction::V128Const(dict::splat(dict::LaneShape::I32, 0x7fc0_0000) as i128),
                Instruction::F32x4Ne,
            ),
            (_, Lanes::F64) => (
                Instruction::V128Const(
                    dict::splat(dict::LaneShape::I64, 0x7ff8_0000_0000_0000) as i128
                ),
                Instruction::F64x2Ne,
            ),
        };
        self.emit(canon);
        for _ in 0..3 {
            self.emit(Instruction::LocalGet(t));
        }
        self.emit(ne);
        self.emit(if ty == ValType::V128 {
            Instruction::V128Bitselect
        } else {
            Instruction::Select
        });
    }

    // ----- sinks -----

    /// Chooses where a value of type `ty` will be observed.
    pub fn choose_sink(&mut self, ty: ValType) -> Sink {
        let slots: Vec<u32> = self
            .ret_slots
            .iter()
            .copied()
            .filter(|&l| self.locals[l as usize].ty == ty)
            .collect();
        let slot = (!slots.is_empty()).then(|| slots[self.r.index(slots.len())]);
        let mem = self.m.mems.iter().position(|m| m.min > 0).map(|i| i as u32);
        let acc32 = self.m.acc_i32;
        let mut options: Vec<(Sink, u32)> = Vec::new();
        match ty {
            ValType::I32 | ValType::I64 => {
                let acc = if ty == ValType::I32 {
                    acc32
                } else {
                    self.m.acc_i64
                };
                options.push((Sink::FoldGlobal(acc), 3));
                if let Some(s) = slot {
                    options.push((Sink::FoldLocal(s), 3));
                }
            }
            ValType::F32 | ValType::F64 => {
                if let Some(s) = slot {
                    options.push((Sink::SetLocal(s), 3));
                }
                options.push((Sink::SetGlobal(u32::MAX), 2));
                options.push((Sink::Reinterpret(acc32), 2));
            }
            ValType::V128 => {
                if let Some(g) = self.m.acc_v128 {
                    options.push((Sink::FoldGlobal(g), 3));
                }
                if let Some(s) = slot {
                    options.push((Sink::FoldLocal(s), 2));
                }
            }
            ValType::FuncRef | ValType::ExternRef => {
                if let Some(s) = slot {
                    options.push((Sink::SetLocal(s), 3));
                }
                options.push((Sink::IsNull(acc32), 3));
            }
        }
        if let Some(m) = mem.filter(|_| !ty.is_ref()) {
            options.push((Sink::Store(m), 2));
        }
        let w: Vec<u32> = options.iter().map(|&(_, w)| w).collect();
        match options[self.r.weighted(&w)].0 {
            Sink::SetGlobal(_) => Sink::SetGlobal(self.m.float_sink(self.r, ty)),
            s => s,
        }
    }

    /// The dirt a sink tolerates.
    pub fn sink_accept(&self, s: Sink) -> Dirt {
        match s {
            Sink::SetLocal(l) => self.locals[l as usize].class,
            Sink::SetGlobal(g) => self.m.globals[g as usize].class,
            _ => None,
        }
    }

    /// Observes the value on the stack.
    pub fn sink(&mut self, s: Sink, ty: ValType, d: Dirt) {
        let accept = self.sink_accept(s);
        self.fit(ty, d, accept);
        match s {
            Sink::FoldGlobal(g) => {
                self.emit(Instruction::GlobalGet(g));
                self.fold(ty);
                self.emit(Instruction::GlobalSet(g));
            }
            Sink::FoldLocal(l) => {
                self.emit(Instruction::LocalGet(l));
                self.fold(ty);
                self.emit(Instruction::LocalSet(l));
            }
            Sink::SetLocal(l) => self.emit(Instruction::LocalSet(l)),
            Sink::SetGlobal(g) => self.emit(Instruction::GlobalSet(g)),
            Sink::Store(mem) => self.observe_store(mem, ty),
            Sink::Reinterpret(g) => {
                let (re, int) = if ty == ValType::F32 {
                    (Instruction::I32ReinterpretF32, ValType::I32)
                } else {
                    (Instruction::I64ReinterpretF64, ValType::I64)
                };
                self.emit(re);
                let acc = if int == ValType::I32 {
                    g
                } else {
                    self.m.acc_i64
                };
                self.emit(Instruction::GlobalGet(acc));
                self.fold(int);
                self.emit(Instruction::GlobalSet(acc));
            }
            Sink::IsNull(g) => {
                self.emit(Instruction::RefIsNull);
                self.emit(Instruction::GlobalGet(g));
                self.fold(ValType::I32);
                self.emit(Instruction::GlobalSet(g));
            }
        }
    }

    /// Combines the two values on the stack.
    fn fold(&mut self, ty: ValType) {
        match ty {
            ValType::I32 => {
                self.emit(Instruction::I32Xor);
                self.emit(Instruction::I32Const(5));
                self.emit(Instruction::I32Rotl);
            }
            ValType::I64 => {
                self.emit(Instruction::I64Xor);
                self.emit(Instruction::I64Const(5));
                self.emit(Instruction::I64Rotl);
            }
            _ => self.emit(Instruction::I64x2Add),
        }
    }

    /// Pops values of `types` with dirt `dirts` (top of stack last) into
    /// fresh temps and sinks each.
    pub fn sink_all(&mut self, types: &[ValType], dirts: &[Dirt]) {
        let temps: Vec<u32> = types
            .iter()
            .zip(dirts)
            .map(|(&t, &d)| self.new_local(t, d, Role::Temp))
            .collect();
        for &t in temps.iter().rev() {
            self.emit(Instruction::LocalSet(t));
        }
        for (&t, &ty) in temps.iter().zip(types) {
            let sink = self.choose_sink(ty);
            let d = self.get_local(t);
            self.sink(sink, ty, d);
        }
    }
}
