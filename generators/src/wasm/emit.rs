//! Memory accesses (addresses, memory arguments, stores, observation
//! stores) and shuffles.

use shoal_runtime::ValType;
use wasm_encoder::{Instruction, MemArg, MemArgTarget};

use super::func::FuncGen;
use super::table::{Instr, Kind};
use crate::dict;

impl FuncGen<'_, '_, '_> {
    /// A memory to access (`None` without memories).
    pub fn pick_mem(&mut self) -> Option<u32> {
        if self.m.mems.is_empty() {
            return None;
        }
        Some(self.r.index(self.m.mems.len()) as u32)
    }

    /// Emits an address into memory `mem` for an access of `width` bytes:
    /// mostly constants from an address dictionary (in bounds, at the end
    /// of the initial size, straddling it, far beyond), sometimes a masked
    /// computed value, sometimes a raw computed value.
    pub fn address(&mut self, mem: u32, width: u32, depth: u32) {
        let m = self.m.mems[mem as usize].clone();
        let at = m.addr();
        let end = m.min_bytes();
        let w = u64::from(width);
        match self.r.below(10) {
            0..=5 => {
                let candidates = [
                    0,
                    8,
                    16,
                    w,
                    self.r.below(256),
                    self.r.below(4096) & !(w - 1),
                    end.saturating_sub(w),
                    end.saturating_sub(w) + 1,
                    end,
                    u64::from(u32::MAX),
                    u64::MAX,
                ];
                let weights = [4, 2, 2, 2, 4, 3, 2, 1, 1, 1, u32::from(m.memory64)];
                let a = candidates[self.r.weighted(&weights)];
                self.push_int(at, a);
            }
            6..=8 => {
                self.operand(at, depth, None);
                let mask = self.r.pick_or(&[0xff, 0xfff, 0xfff8, 0xfff0, 0x7fff], 0xff);
                self.push_int(at, mask);
                self.emit(if at == ValType::I64 {
                    Instruction::I64And
                } else {
                    Instruction::I32And
                });
            }
            _ => {
                self.operand(at, depth, None);
            }
        }
    }

    /// Emits an integer constant of type `ty` (truncating `v`).
    pub fn push_int(&mut self, ty: ValType, v: u64) {
        self.emit(if ty == ValType::I64 {
            Instruction::I64Const(v as i64)
        } else {
            Instruction::I32Const(v as u32 as i32)
        });
    }

    /// A memory argument for memory `mem` and an access of `width` bytes:
    /// an offset from the offset dictionary and any legal alignment.
    pub fn memarg(&mut self, mem: u32, width: u32) -> MemArg {
        let memory64 = self.m.mems[mem as usize].memory64;
        let offset = dict::pick_mem_offset(self.r, memory64);
        let max_align = width.trailing_zeros();
        let align = if self.r.chance(3, 4) {
            max_align
        } else {
            self.r.range_u32(0, max_align)
        };
        MemArg {
            offset,
            align,
            target: MemArgTarget::Memory(mem),
            ordering: None,
        }
    }

    /// A store statement (`Store` or `StoreLane`).
    pub fn store(&mut self, instr: &'static Instr, depth: u32) -> bool {
        let Some(mem) = self.pick_mem() else {
            return false;
        };
        let sub = depth.saturating_sub(1);
        match &instr.kind {
            Kind::Store { ty, bytes, enc } => {
                self.address(mem, *bytes, sub);
                self.operand(*ty, sub, None);
                let memarg = self.memarg(mem, *bytes);
                self.emit(enc(memarg));
            }
            Kind::StoreLane { bytes, enc } => {
                self.address(mem, *bytes, sub);
                self.operand(ValType::V128, sub, None);
                let memarg = self.memarg(mem, *bytes);
                let lane = dict::pick_lane_index(self.r, (16 / bytes) as u8);
                self.emit(enc(memarg, lane));
            }
            _ => return false,
        }
        true
    }

    /// Stores the (clean) value on the stack into the first page of `mem`.
    pub fn observe_store(&mut self, mem: u32, ty: ValType) {
        let t = self.temp(ty);
        self.emit(Instruction::LocalSet(t));
        let at = self.m.mems[mem as usize].addr();
        let addr = self.r.below(4096 - 16);
        self.push_int(at, addr);
        self.emit(Instruction::LocalGet(t));
        let memarg = |bytes: u32| MemArg {
            offset: 0,
            align: bytes.trailing_zeros(),
            target: MemArgTarget::Memory(mem),
            ordering: None,
        };
        self.emit(match ty {
            ValType::I32 => Instruction::I32Store(memarg(4)),
            ValType::I64 => Instruction::I64Store(memarg(8)),
            ValType::F32 => Instruction::F32Store(memarg(4)),
            ValType::F64 => Instruction::F64Store(memarg(8)),
            _ => Instruction::V128Store(memarg(16)),
        });
    }

    /// `i8x16.shuffle` with a mask of a class x64 special-cases; sometimes
    /// both operands are the same value, or the second is zero.
    pub fn shuffle(&mut self, depth: u32) {
        let mask = dict::pick_shuffle_mask(self.r);
        match self.r.below(4) {
            0 => {
                self.operand(ValType::V128, depth, None);
                let t = self.temp(ValType::V128);
                self.emit(Instruction::LocalTee(t));
                self.emit(Instruction::LocalGet(t));
            }
            1 => {
                self.operand(ValType::V128, depth, None);
                self.emit(Instruction::V128Const(0));
            }
            _ => {
                self.operand(ValType::V128, depth, None);
                self.operand(ValType::V128, depth, None);
            }
        }
        self.emit(Instruction::I8x16Shuffle(mask));
    }
}
