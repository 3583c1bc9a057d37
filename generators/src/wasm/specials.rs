//! Emitters for parametric, variable, memory-management, table and
//! reference instructions, and the dispatch of all [`Special`]s.

use shoal_runtime::ValType;
use wasm_encoder::{HeapType, Instruction};

use super::func::{FuncGen, Role};
use super::table::{Instr, Lanes, Special};
use super::{Dirt, can_be_dirty, enc_ty};

impl FuncGen<'_, '_, '_> {
    /// A statement with a special instruction as its target.
    pub fn special_statement(&mut self, s: Special, instr: &'static Instr, depth: u32) -> bool {
        use Special as S;
        match s {
            S::Nop => {
                self.emit(Instruction::Nop);
                true
            }
            S::Unreachable => self.unreachable(depth),
            S::Block | S::Loop | S::If => self.structured(s, None, depth, None).is_some(),
            S::Br => self.br(depth),
            S::BrIf => self.br_if_statement(depth),
            S::BrTable => self.br_table(depth),
            S::Return => self.ret(depth),
            S::Call => self.call_statement(depth),
            S::CallIndirect => self.call_indirect_statement(depth),
            S::ReturnCall => self.return_call(depth),
            S::ReturnCallIndirect => self.return_call_indirect(depth),
            S::Drop => {
                let ty = self.m.pick_type(self.r);
                let any = if ty == ValType::F64 {
                    Lanes::F64
                } else {
                    Lanes::F32
                };
                self.operand(ty, depth, can_be_dirty(ty).then_some(any));
                self.emit(Instruction::Drop);
                true
            }
            S::LocalSet => self.local_set(depth),
            S::GlobalSet => self.global_set(depth),
            S::MemoryInit
            | S::DataDrop
            | S::MemoryCopy
            | S::MemoryFill
            | S::TableInit
            | S::ElemDrop
            | S::TableCopy
            | S::TableFill
            | S::TableSet => self.bulk(s, depth),
            _ => {
                let palette: Vec<ValType> = self.m.palette().iter().map(|&(t, _)| t).collect();
                let options: Vec<ValType> = instr
                    .produces()
                    .iter()
                    .copied()
                    .filter(|t| palette.contains(t))
                    .collect();
                match self.r.pick(&options).copied() {
                    Some(ty) => self.value_statement(instr, ty, depth),
                    None => false,
                }
            }
        }
    }

    /// A special instruction producing one value of type `ty`.
    pub fn special_value(
        &mut self,
        s: Special,
        ty: ValType,
        depth: u32,
        accept: Dirt,
    ) -> Option<Dirt> {
        use Special as S;
        let sub = depth.saturating_sub(1);
        match s {
            S::Block | S::Loop | S::If => self.structured(s, Some(ty), depth, accept),
            S::BrIf => self.br_if_value(ty, depth, accept),
            S::Call => self.call_value(ty, depth, accept),
            S::CallIndirect => self.call_indirect_value(ty, depth, accept),
            S::Select if !ty.is_ref() => Some(self.select(ty, false, sub, accept)),
            S::TypedSelect => Some(self.select(ty, true, sub, accept)),
            S::LocalGet => {
                let ls = self.locals_of(ty, false);
                let l = *self.r.pick(&ls)?;
                self.emit(Instruction::LocalGet(l));
                let d = self.locals[l as usize].class;
                Some(self.fit(ty, d, accept))
            }
            S::LocalTee => {
                let ls = self.locals_of(ty, true);
                let l = *self.r.pick(&ls)?;
                let class = self.locals[l as usize].class;
                let d = self.operand(ty, sub, class);
                self.emit(Instruction::LocalTee(l));
                Some(self.fit(ty, d, accept))
            }
            S::GlobalGet => {
                let gs: Vec<u32> = (0..self.m.globals.len() as u32)
                    .filter(|&g| self.m.globals[g as usize].ty == ty)
                    .collect();
                let g = *self.r.pick(&gs)?;
                self.emit(Instruction::GlobalGet(g));
                let d = self.m.globals[g as usize].class;
                Some(self.fit(ty, d, accept))
            }
            S::MemorySize => {
                let m = self.mem_with_addr(ty)?;
                self.emit(Instruction::MemorySize(m));
                Some(None)
            }
            S::MemoryGrow => {
                let m = self.mem_with_addr(ty)?;
                let mem = self.m.mems[m as usize].clone();
                self.grow_delta(ty, mem.max - mem.min, sub);
                self.emit(Instruction::MemoryGrow(m));
                Some(None)
            }
            S::TableGet => {
                let t = self.table_where(|t| t.elem == ty)?;
                self.table_index(t, sub);
                self.emit(Instruction::TableGet(t));
                Some(None)
            }
            S::TableGrow => {
                let t = self.table_where(|t| t.index() == ty)?;
                let table = self.m.tables[t as usize].clone();
                self.operand(table.elem, sub, None);
                self.grow_delta(ty, table.max - table.min, sub);
                self.emit(Instruction::TableGrow(t));
                Some(None)
            }
            S::TableSize => {
                let t = self.table_where(|t| t.index() == ty)?;
                self.emit(Instruction::TableSize(t));
                Some(None)
            }
            S::RefNull if ty.is_ref() => {
                let h = if ty == ValType::FuncRef {
                    HeapType::FUNC
                } else {
                    HeapType::EXTERN
                };
                self.emit(Instruction::RefNull(h));
                Some(None)
            }
            S::RefIsNull if ty == ValType::I32 => {
                let t = if self.r.chance(1, 2) {
                    ValType::FuncRef
                } else {
                    ValType::ExternRef
                };
                self.operand(t, sub, None);
                self.emit(Instruction::RefIsNull);
                Some(None)
            }
            S::RefFunc if ty == ValType::FuncRef => {
                let f = self.r.below(self.m.funcs.len() as u64) as u32;
                self.emit(Instruction::RefFunc(f));
                Some(None)
            }
            _ => None,
        }
    }

    /// `select` (untyped for numbers and vectors, or typed).
    fn select(&mut self, ty: ValType, typed: bool, depth: u32, accept: Dirt) -> Dirt {
        let a = if can_be_dirty(ty) { accept } else { None };
        let d1 = self.operand(ty, depth, a);
        let d2 = self.operand(ty, depth, a);
        self.operand(ValType::I32, depth, None);
        self.emit(if typed {
            Instruction::TypedSelect(enc_ty(ty))
        } else {
            Instruction::Select
        });
        if d1.is_some() || d2.is_some() {
            a
        } else {
            None
        }
    }

    fn local_set(&mut self, depth: u32) -> bool {
        let ty = self.m.pick_type(self.r);
        let ls = self.locals_of(ty, true);
        let l = match self.r.pick(&ls) {
            Some(&l) => l,
            None => {
                let class = self.random_class(ty);
                self.new_local(ty, class, Role::Var)
            }
        };
        let class = self.locals[l as usize].class;
        self.operand(ty, depth, class);
        self.emit(Instruction::LocalSet(l));
        true
    }

    fn global_set(&mut self, depth: u32) -> bool {
        let gs: Vec<u32> = (0..self.m.globals.len() as u32)
            .filter(|&g| self.m.globals[g as usize].mutable)
            .collect();
        let Some(&g) = self.r.pick(&gs) else {
            return false;
        };
        let (ty, class) = {
            let g = &self.m.globals[g as usize];
            (g.ty, g.class)
        };
        self.operand(ty, depth, class);
        self.emit(Instruction::GlobalSet(g));
        true
    }

    fn mem_with_addr(&mut self, ty: ValType) -> Option<u32> {
        let ms: Vec<u32> = (0..self.m.mems.len() as u32)
            .filter(|&m| self.m.mems[m as usize].addr() == ty)
            .collect();
        self.r.pick(&ms).copied()
    }

    fn table_where(&mut self, pred: impl Fn(&super::module::Table) -> bool) -> Option<u32> {
        let ts: Vec<u32> = (0..self.m.tables.len() as u32)
            .filter(|&t| pred(&self.m.tables[t as usize]))
            .collect();
        self.r.pick(&ts).copied()
    }

    /// A growth delta: 0, 1, exactly the room left, one more, huge, or computed.
    fn grow_delta(&mut self, ty: ValType, room: u64, depth: u32) {
        if self.r.chance(3, 4) {
            let d = self.r.pick_or(
                &[0, 1, 1, 2, room, room + 1, u64::from(u32::MAX), u64::MAX],
                1,
            );
            self.push_int(ty, d);
        } else {
            self.operand(ty, depth, None);
        }
    }

    /// A small length or offset of type `ty`: mostly `0..=bound`.
    fn small(&mut self, ty: ValType, bound: u64, depth: u32) {
        if self.r.chance(4, 5) {
            let v = self.r.range(0, bound);
            self.push_int(ty, v);
        } else {
            self.operand(ty, depth, None);
        }
    }

    /// Bulk memory and table statements.
    fn bulk(&mut self, s: Special, depth: u32) -> bool {
        use Special as S;
        let sub = depth.saturating_sub(1);
        let nmems = self.m.mems.len() as u64;
        let ndatas = self.m.datas.len() as u64;
        let nelems = self.m.elems.len() as u64;
        match s {
            S::MemoryInit if nmems > 0 && ndatas > 0 => {
                let d = self.r.below(ndatas) as u32;
                let m = self.r.below(nmems) as u32;
                let len = self.m.datas[d as usize].bytes.len() as u64;
                let at = self.m.mems[m as usize].addr();
                self.address(m, 1, sub);
                self.small(ValType::I32, len + 1, sub);
                self.small(ValType::I32, len + 1, sub);
                self.emit(Instruction::MemoryInit {
                    mem: m,
                    data_index: d,
                });
                let _ = at;
            }
            S::DataDrop if ndatas > 0 => {
                let d = self.r.below(ndatas) as u32;
                self.emit(Instruction::DataDrop(d));
            }
            S::MemoryCopy if nmems > 0 => {
                let dst = self.r.below(nmems) as u32;
                let src = self.r.below(nmems) as u32;
                self.address(dst, 1, sub);
                self.address(src, 1, sub);
                let both64 =
                    self.m.mems[dst as usize].memory64 && self.m.mems[src as usize].memory64;
                let len_ty = if both64 { ValType::I64 } else { ValType::I32 };
                self.small(len_ty, 64, sub);
                self.emit(Instruction::MemoryCopy {
                    src_mem: src,
                    dst_mem: dst,
                });
            }
            S::MemoryFill if nmems > 0 => {
                let m = self.r.below(nmems) as u32;
                let at = self.m.mems[m as usize].addr();
                self.address(m, 1, sub);
                self.operand(ValType::I32, sub, None);
                self.small(at, 64, sub);
                self.emit(Instruction::MemoryFill(m));
            }
            S::TableInit => {
                let pairs: Vec<(u32, u32)> = (0..self.m.elems.len() as u32)
                    .flat_map(|e| (0..self.m.tables.len() as u32).map(move |t| (e, t)))
                    .filter(|&(e, t)| self.m.elems[e as usize].ty == self.m.tables[t as usize].elem)
                    .collect();
                let Some(&(e, t)) = self.r.pick(&pairs) else {
                    return false;
                };
                let table = self.m.tables[t as usize].clone();
                let items = self.m.elems[e as usize].items.len() as u64;
                self.small(table.index(), table.min + 1, sub);
                self.small(ValType::I32, items + 1, sub);
                self.small(ValType::I32, items + 1, sub);
                self.emit(Instruction::TableInit {
                    elem_index: e,
                    table: t,
                });
            }
            S::ElemDrop if nelems > 0 => {
                let e = self.r.below(nelems) as u32;
                self.emit(Instruction::ElemDrop(e));
            }
            S::TableCopy => {
                let pairs: Vec<(u32, u32)> = (0..self.m.tables.len() as u32)
                    .flat_map(|a| (0..self.m.tables.len() as u32).map(move |b| (a, b)))
                    .filter(|&(a, b)| {
                        self.m.tables[a as usize].elem == self.m.tables[b as usize].elem
                    })
                    .collect();
                let Some(&(dst, src)) = self.r.pick(&pairs) else {
                    return false;
                };
                let (d, s) = (
                    self.m.tables[dst as usize].clone(),
                    self.m.tables[src as usize].clone(),
                );
                self.small(d.index(), d.min + 1, sub);
                self.small(s.index(), s.min + 1, sub);
                let len_ty = if d.table64 && s.table64 {
                    ValType::I64
                } else {
                    ValType::I32
                };
                self.small(len_ty, s.min.max(d.min) + 1, sub);
                self.emit(Instruction::TableCopy {
                    src_table: src,
                    dst_table: dst,
                });
            }
            S::TableFill | S::TableSet if !self.m.tables.is_empty() => {
                let t = self.r.below(self.m.tables.len() as u64) as u32;
                let table = self.m.tables[t as usize].clone();
                self.small(table.index(), table.min + 1, sub);
                self.operand(table.elem, sub, None);
                if s == S::TableFill {
                    self.small(table.index(), table.min + 1, sub);
                    self.emit(Instruction::TableFill(t));
                } else {
                    self.emit(Instruction::TableSet(t));
                }
            }
            _ => return false,
        }
        true
    }
}
