//! Translation of one validated function body into [`Op`]s.
//!
//! The translator walks the operators once, tracking the operand-stack
//! height (one slot per value) and a control stack. Branch targets become
//! absolute code positions (forward ones patched at the block's `end`),
//! and every branch records the label's stack height and arity so the
//! executor reshapes the stack without any lookup. Code after an
//! unconditional transfer is skipped up to the enclosing `else`/`end`.
//!
//! Addresses are resolved through a [`Link`]: calls, globals, memories,
//! tables and segments refer directly to store addresses.

use wasmparser::{BlockType, MemArgTarget, Operator as O};

use super::code::{BrTarget, MemArg, Op, SimdEntry};
use super::fault::InterpFault;
use super::ops::{Simple, describe, simple};
use super::store::{CodeArena, WasmFunc};
use crate::module::Module;
use crate::simd::SimdOp;
use crate::trap::Trap;
use crate::values::ValType;

/// A module's index spaces resolved to store addresses.
#[derive(Debug, Default)]
pub(crate) struct Link {
    /// Canonical type id of each module type.
    pub types: Vec<u32>,
    /// Function index -> store function address.
    pub funcs: Vec<u32>,
    /// Table index -> store table address.
    pub tables: Vec<u32>,
    /// Memory index -> store memory address.
    pub mems: Vec<u32>,
    /// Global index -> store global address.
    pub globals: Vec<u32>,
    /// Element segment index -> store element-segment address.
    pub elems: Vec<u32>,
    /// Data segment index -> store data-segment address.
    pub datas: Vec<u32>,
}

/// Why a function could not be translated.
pub(crate) type TranslateError = String;

type Result<T> = std::result::Result<T, TranslateError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Func,
    Block,
    Loop,
    If,
    Else,
}

/// A forward reference to patch with a block's end position.
#[derive(Clone, Copy, Debug)]
enum Patch {
    /// The op at this arena position.
    Op(usize),
    /// This branch-table entry.
    Table(usize),
}

#[derive(Debug)]
struct Ctrl {
    kind: Kind,
    /// Stack height below the block's parameters.
    height: u32,
    params: u32,
    results: u32,
    /// Position of the `LoopHeader` (loops only).
    loop_pc: u32,
    /// The `JumpIfZero` of an `if` still waiting for its `else`/`end`.
    else_patch: Option<usize>,
    patches: Vec<Patch>,
    unreachable: bool,
}

impl Ctrl {
    fn label_arity(&self) -> u32 {
        if self.kind == Kind::Loop {
            self.params
        } else {
            self.results
        }
    }
}

/// Operator arities of the fixed-arity operators need no module context.
pub(crate) struct NoModule;

impl wasmparser::ModuleArity for NoModule {
    fn sub_type_at(&self, _: u32) -> Option<&wasmparser::SubType> {
        None
    }
    fn tag_type_arity(&self, _: u32) -> Option<(u32, u32)> {
        None
    }
    fn type_index_of_function(&self, _: u32) -> Option<u32> {
        None
    }
    fn func_type_of_cont_type(&self, _: &wasmparser::ContType) -> Option<&wasmparser::FuncType> {
        None
    }
    fn sub_type_of_ref_type(&self, _: &wasmparser::RefType) -> Option<&wasmparser::SubType> {
        None
    }
    fn control_stack_height(&self) -> u32 {
        0
    }
    fn label_block(&self, _: u32) -> Option<(BlockType, wasmparser::FrameKind)> {
        None
    }
}

struct Translator<'a> {
    arena: &'a mut CodeArena,
    module: &'a Module,
    link: &'a Link,
    ctrl: Vec<Ctrl>,
    height: u32,
    max_height: u32,
    /// Nesting depth of blocks opened inside skipped (unreachable) code.
    skip: u32,
    /// Test-only deliberate mistranslation (see [`InterpFault`]).
    fault: Option<InterpFault>,
}

/// Translates defined function `def_idx` of `module` into `arena`
/// (mistranslating per `fault`, a test-only switch, when given).
pub(crate) fn translate(
    arena: &mut CodeArena,
    module: &Module,
    link: &Link,
    def_idx: u32,
    fault: Option<InterpFault>,
) -> Result<WasmFunc> {
    let func_idx = module.num_imported_funcs + def_idx;
    let ty = module.func_type(func_idx);
    let body = module.body(def_idx);
    // Every local starts as the zero slot, which is also the null
    // reference (see `code`), so declared locals need no initialising code.
    let mut extra: u64 = 0;
    for local in body.get_locals_reader().map_err(|e| e.to_string())? {
        extra += u64::from(local.map_err(|e| e.to_string())?.0);
    }
    let params = ty.params.len() as u32;
    let results = ty.results.len() as u32;
    let nlocals = u32::try_from(u64::from(params) + extra).map_err(|_| "too many locals")?;
    let entry = arena.ops.len() as u32;
    let mut t = Translator {
        arena,
        module,
        link,
        ctrl: vec![Ctrl {
            kind: Kind::Func,
            height: nlocals,
            params: 0,
            results,
            loop_pc: 0,
            else_patch: None,
            patches: Vec::new(),
            unreachable: false,
        }],
        height: nlocals,
        max_height: nlocals,
        skip: 0,
        fault,
    };
    let mut reader = body.get_operators_reader().map_err(|e| e.to_string())?;
    while !t.ctrl.is_empty() {
        let op = reader.read().map_err(|e| e.to_string())?;
        t.operator(op)?;
    }
    Ok(WasmFunc {
        ty: link.types[module.funcs[func_idx as usize] as usize],
        entry,
        params,
        locals: nlocals - params,
        results,
        frame_size: t.max_height,
    })
}

impl Translator<'_> {
    fn emit(&mut self, op: Op) -> usize {
        self.arena.ops.push(op);
        self.arena.ops.len() - 1
    }

    fn pc(&self) -> u32 {
        self.arena.ops.len() as u32
    }

    fn pop(&mut self, n: u32) {
        self.height -= n;
    }

    fn push(&mut self, n: u32) {
        self.height += n;
        self.max_height = self.max_height.max(self.height);
    }

    fn top(&mut self) -> &mut Ctrl {
        let i = self.ctrl.len() - 1;
        &mut self.ctrl[i]
    }

    fn set_unreachable(&mut self) {
        let f = self.top();
        f.unreachable = true;
        let h = f.height;
        self.height = h;
    }

    fn block_arity(&self, bt: BlockType) -> (u32, u32) {
        match bt {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(i) => {
                let ft = &self.module.types[i as usize];
                (ft.params.len() as u32, ft.results.len() as u32)
            }
        }
    }

    fn open(&mut self, kind: Kind, bt: BlockType) -> &mut Ctrl {
        let (params, results) = self.block_arity(bt);
        let loop_pc = self.pc();
        self.ctrl.push(Ctrl {
            kind,
            height: self.height - params,
            params,
            results,
            loop_pc,
            else_patch: None,
            patches: Vec::new(),
            unreachable: false,
        });
        self.top()
    }

    fn operator(&mut self, op: O<'_>) -> Result<()> {
        if self.top().unreachable {
            return self.skipped(op);
        }
        match op {
            O::Block { blockty } => {
                self.open(Kind::Block, blockty);
            }
            O::Loop { blockty } => {
                self.open(Kind::Loop, blockty);
                self.emit(Op::LoopHeader);
            }
            O::If { blockty } => {
                self.pop(1);
                let at = self.emit(Op::JumpIfZero(0));
                self.open(Kind::If, blockty).else_patch = Some(at);
            }
            O::Else => self.else_()?,
            O::End => self.end()?,
            O::Br { relative_depth } => {
                self.br(relative_depth);
                self.set_unreachable();
            }
            O::BrIf { relative_depth } => {
                self.pop(1);
                self.br_if(relative_depth);
            }
            O::BrTable { targets } => {
                self.pop(1);
                let mut depths = Vec::with_capacity(targets.len() as usize + 1);
                for t in targets.targets() {
                    depths.push(t.map_err(|e| e.to_string())?);
                }
                depths.push(targets.default());
                self.br_table(&depths);
                self.set_unreachable();
            }
            O::Return => {
                let n = self.ctrl[0].results;
                self.emit(Op::Return(n));
                self.set_unreachable();
            }
            O::Unreachable => {
                self.emit(Op::Trap(Trap::Unreachable));
                self.set_unreachable();
            }
            O::Call { function_index } => {
                self.call_effect(self.module.funcs[function_index as usize]);
                self.emit(Op::Call(self.link.funcs[function_index as usize]));
            }
            O::CallIndirect {
                type_index,
                table_index,
            } => {
                self.pop(1);
                self.call_effect(type_index);
                self.emit(Op::CallIndirect {
                    ty: self.link.types[type_index as usize],
                    table: self.link.tables[table_index as usize],
                });
            }
            O::ReturnCall { function_index } => {
                self.emit(Op::ReturnCall(self.link.funcs[function_index as usize]));
                self.set_unreachable();
            }
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => {
                self.emit(Op::ReturnCallIndirect {
                    ty: self.link.types[type_index as usize],
                    table: self.link.tables[table_index as usize],
                });
                self.set_unreachable();
            }
            other => self.plain(other)?,
        }
        Ok(())
    }

    /// Stack effect of calling a function of module type `type_index`.
    fn call_effect(&mut self, type_index: u32) {
        let ft = &self.module.types[type_index as usize];
        let (p, r) = (ft.params.len() as u32, ft.results.len() as u32);
        self.pop(p);
        self.push(r);
    }

    /// Handles an operator in unreachable code: only block structure matters.
    fn skipped(&mut self, op: O<'_>) -> Result<()> {
        match op {
            O::Block { .. } | O::Loop { .. } | O::If { .. } => self.skip += 1,
            O::Else if self.skip == 0 => self.else_()?,
            O::End if self.skip == 0 => self.end()?,
            O::End => self.skip -= 1,
            _ => {}
        }
        Ok(())
    }

    fn else_(&mut self) -> Result<()> {
        let reachable = !self.top().unreachable;
        if reachable {
            let at = self.emit(Op::Jump(0));
            self.top().patches.push(Patch::Op(at));
        }
        let pc = self.pc();
        let f = self.top();
        let at = f.else_patch.take().ok_or("else without if")?;
        f.kind = Kind::Else;
        f.unreachable = false;
        let h = f.height + f.params;
        self.height = h;
        patch(self.arena, Patch::Op(at), pc);
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        let f = self.ctrl.pop().ok_or("unbalanced end")?;
        let pc = self.pc();
        for p in f.patches {
            patch(self.arena, p, pc);
        }
        if let Some(at) = f.else_patch {
            patch(self.arena, Patch::Op(at), pc);
        }
        self.height = f.height;
        self.push(f.results);
        if f.kind == Kind::Func {
            self.emit(Op::Return(f.results));
        }
        Ok(())
    }

    /// The target of a branch to `depth`, registering a patch if forward.
    fn target(&mut self, depth: u32, patch_at: Patch) -> BrTarget {
        let i = self.ctrl.len() - 1 - depth as usize;
        let f = &mut self.ctrl[i];
        let pc = if f.kind == Kind::Loop {
            f.loop_pc
        } else {
            f.patches.push(patch_at);
            0
        };
        BrTarget {
            pc,
            height: f.height,
            arity: f.label_arity(),
        }
    }

    /// True if branching to `t` needs no stack reshaping.
    fn in_shape(&self, t: &BrTarget) -> bool {
        self.height == t.height + t.arity
    }

    fn br(&mut self, depth: u32) {
        if depth as usize == self.ctrl.len() - 1 {
            let n = self.ctrl[0].results;
            self.emit(Op::Return(n));
            return;
        }
        let at = self.pc() as usize;
        let t = self.target(depth, Patch::Op(at));
        let op = if self.in_shape(&t) {
            Op::Jump(t.pc)
        } else {
            Op::Br(t)
        };
        self.emit(op);
    }

    fn br_if(&mut self, depth: u32) {
        let at = self.pc() as usize;
        let t = self.target(depth, Patch::Op(at));
        let op = if self.in_shape(&t) {
            Op::JumpIfNonZero(t.pc)
        } else {
            Op::BrIf(t)
        };
        self.emit(op);
    }

    fn br_table(&mut self, depths: &[u32]) {
        let start = self.arena.br_tables.len();
        for (k, &d) in depths.iter().enumerate() {
            let t = self.target(d, Patch::Table(start + k));
            self.arena.br_tables.push(t);
        }
        self.emit(Op::BrTable {
            start: start as u32,
            len: depths.len() as u32 - 1,
        });
    }

    /// Every operator without control-flow effects.
    fn plain(&mut self, op: O<'_>) -> Result<()> {
        let (pops, pushes) = op
            .operator_arity(&NoModule)
            .ok_or_else(|| format!("operator {op:?} has no fixed arity"))?;
        match simple(&op) {
            Some(Simple::Emit(o)) => {
                let o = self.fault.map_or(o, |f| f.apply(o));
                self.emit(o);
            }
            Some(Simple::Nothing) => {}
            None => self.special(&op, pops)?,
        }
        self.pop(pops);
        self.push(pushes);
        Ok(())
    }

    /// Operators with immediates, and SIMD.
    fn special(&mut self, op: &O<'_>, pops: u32) -> Result<()> {
        let l = self.link;
        let op = match *op {
            O::TypedSelect { .. } => Op::Select,
            O::LocalGet { local_index } => Op::LocalGet(local_index),
            O::LocalSet { local_index } => Op::LocalSet(local_index),
            O::LocalTee { local_index } => Op::LocalTee(local_index),
            O::GlobalGet { global_index } => Op::GlobalGet(l.globals[global_index as usize]),
            O::GlobalSet { global_index } => Op::GlobalSet(l.globals[global_index as usize]),
            O::I32Const { value } => Op::Const32(value as u32),
            O::F32Const { value } => Op::Const32(value.bits()),
            O::I64Const { value } => const64(value as u64),
            O::F64Const { value } => const64(value.bits()),
            O::V128Const { value } => {
                self.arena.v128s.push(u128::from_le_bytes(*value.bytes()));
                Op::V128Const(self.arena.v128s.len() as u32 - 1)
            }
            O::RefNull { .. } => Op::RefNull,
            O::RefFunc { function_index } => Op::RefFunc(l.funcs[function_index as usize]),
            O::TableGet { table } => Op::TableGet(l.tables[table as usize]),
            O::TableSet { table } => Op::TableSet(l.tables[table as usize]),
            O::TableSize { table } => Op::TableSize(l.tables[table as usize]),
            O::TableGrow { table } => Op::TableGrow {
                table: l.tables[table as usize],
                is64: self.module.tables[table as usize].table64,
            },
            O::TableFill { table } => Op::TableFill(l.tables[table as usize]),
            O::TableCopy {
                dst_table,
                src_table,
            } => Op::TableCopy {
                dst: l.tables[dst_table as usize],
                src: l.tables[src_table as usize],
            },
            O::TableInit { elem_index, table } => Op::TableInit {
                table: l.tables[table as usize],
                elem: l.elems[elem_index as usize],
            },
            O::ElemDrop { elem_index } => Op::ElemDrop(l.elems[elem_index as usize]),
            O::MemorySize { mem } => Op::MemorySize(l.mems[mem as usize]),
            O::MemoryGrow { mem } => Op::MemoryGrow {
                mem: l.mems[mem as usize],
                is64: self.module.memories[mem as usize].memory64,
            },
            O::MemoryFill { mem } => Op::MemoryFill(l.mems[mem as usize]),
            O::MemoryCopy { dst_mem, src_mem } => Op::MemoryCopy {
                dst: l.mems[dst_mem as usize],
                src: l.mems[src_mem as usize],
            },
            O::MemoryInit { data_index, mem } => Op::MemoryInit {
                mem: l.mems[mem as usize],
                data: l.datas[data_index as usize],
            },
            O::DataDrop { data_index } => Op::DataDrop(l.datas[data_index as usize]),
            ref other => match self.memory_op(other)? {
                Some(op) => op,
                None => self.simd(other, pops)?,
            },
        };
        self.emit(op);
        Ok(())
    }

    /// Resolves a memory immediate. An offset of 2^32 or more (memory64
    /// only) becomes an `AddOffset` on the address, `depth` slots below the
    /// top, emitted before the access, which then uses offset 0.
    fn memarg(&mut self, m: &wasmparser::MemArg, depth: u8) -> Result<MemArg> {
        let idx = match m.target {
            MemArgTarget::Memory(i) => i,
            MemArgTarget::Array(_) => return Err("GC array memory access".into()),
        };
        let offset = match u32::try_from(m.offset) {
            Ok(offset) => offset,
            Err(_) => {
                self.emit(Op::AddOffset {
                    depth,
                    lo: m.offset as u32,
                    hi: (m.offset >> 32) as u32,
                });
                0
            }
        };
        Ok(MemArg {
            mem: self.link.mems[idx as usize],
            offset,
        })
    }

    /// Load/store operators; `None` if `op` is not one.
    fn memory_op(&mut self, op: &O<'_>) -> Result<Option<Op>> {
        type Make = fn(MemArg) -> Op;
        let (m, make, depth): (&wasmparser::MemArg, Make, u8) = match op {
            O::I32Load { memarg } => (memarg, Op::I32Load, 1),
            O::I64Load { memarg } => (memarg, Op::I64Load, 1),
            O::F32Load { memarg } => (memarg, Op::F32Load, 1),
            O::F64Load { memarg } => (memarg, Op::F64Load, 1),
            O::I32Load8S { memarg } => (memarg, Op::I32Load8S, 1),
            O::I32Load8U { memarg } => (memarg, Op::I32Load8U, 1),
            O::I32Load16S { memarg } => (memarg, Op::I32Load16S, 1),
            O::I32Load16U { memarg } => (memarg, Op::I32Load16U, 1),
            O::I64Load8S { memarg } => (memarg, Op::I64Load8S, 1),
            O::I64Load8U { memarg } => (memarg, Op::I64Load8U, 1),
            O::I64Load16S { memarg } => (memarg, Op::I64Load16S, 1),
            O::I64Load16U { memarg } => (memarg, Op::I64Load16U, 1),
            O::I64Load32S { memarg } => (memarg, Op::I64Load32S, 1),
            O::I64Load32U { memarg } => (memarg, Op::I64Load32U, 1),
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => (memarg, Op::Store8, 2),
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => (memarg, Op::Store16, 2),
            O::I32Store { memarg } | O::F32Store { memarg } | O::I64Store32 { memarg } => {
                (memarg, Op::Store32, 2)
            }
            O::I64Store { memarg } | O::F64Store { memarg } => (memarg, Op::Store64, 2),
            O::V128Load { memarg } => (memarg, Op::V128Load, 1),
            O::V128Store { memarg } => (memarg, Op::V128Store, 2),
            O::V128Load8x8S { memarg } => (memarg, Op::V128Load8x8S, 1),
            O::V128Load8x8U { memarg } => (memarg, Op::V128Load8x8U, 1),
            O::V128Load16x4S { memarg } => (memarg, Op::V128Load16x4S, 1),
            O::V128Load16x4U { memarg } => (memarg, Op::V128Load16x4U, 1),
            O::V128Load32x2S { memarg } => (memarg, Op::V128Load32x2S, 1),
            O::V128Load32x2U { memarg } => (memarg, Op::V128Load32x2U, 1),
            O::V128Load8Splat { memarg } => (memarg, Op::V128Load8Splat, 1),
            O::V128Load16Splat { memarg } => (memarg, Op::V128Load16Splat, 1),
            O::V128Load32Splat { memarg } => (memarg, Op::V128Load32Splat, 1),
            O::V128Load64Splat { memarg } => (memarg, Op::V128Load64Splat, 1),
            O::V128Load32Zero { memarg } => (memarg, Op::V128Load32Zero, 1),
            O::V128Load64Zero { memarg } => (memarg, Op::V128Load64Zero, 1),
            _ => return self.lane_op(op),
        };
        Ok(Some(make(self.memarg(m, depth)?)))
    }

    /// `v128.loadN_lane` / `v128.storeN_lane`; `None` if `op` is not one.
    fn lane_op(&mut self, op: &O<'_>) -> Result<Option<Op>> {
        let (m, bytes, lane, load) = match *op {
            O::V128Load8Lane { ref memarg, lane } => (memarg, 1, lane, true),
            O::V128Load16Lane { ref memarg, lane } => (memarg, 2, lane, true),
            O::V128Load32Lane { ref memarg, lane } => (memarg, 4, lane, true),
            O::V128Load64Lane { ref memarg, lane } => (memarg, 8, lane, true),
            O::V128Store8Lane { ref memarg, lane } => (memarg, 1, lane, false),
            O::V128Store16Lane { ref memarg, lane } => (memarg, 2, lane, false),
            O::V128Store32Lane { ref memarg, lane } => (memarg, 4, lane, false),
            O::V128Store64Lane { ref memarg, lane } => (memarg, 8, lane, false),
            _ => return Ok(None),
        };
        // The vector operand sits above the address in both directions.
        let arg = self.memarg(m, 2)?;
        Ok(Some(if load {
            Op::V128LoadLane { arg, bytes, lane }
        } else {
            Op::V128StoreLane { arg, bytes, lane }
        }))
    }

    /// Any other operator must be a non-memory SIMD instruction.
    fn simd(&mut self, op: &O<'_>, pops: u32) -> Result<Op> {
        let Some(sop) = SimdOp::from_operator(op) else {
            let (proposal, name) = describe(op);
            return Err(match proposal {
                "simd" => format!("SIMD operator {name} is not implemented by crate::simd"),
                _ => format!("operator {name} ({proposal}) is not supported"),
            });
        };
        let n = sop.num_args();
        if n != pops as usize || n > 3 {
            return Err(format!(
                "SIMD operator {op:?}: {n} operands reported, {pops} expected"
            ));
        }
        self.arena.simd.push(SimdEntry {
            op: sop,
            args: simd_arg_types(op),
            n: n as u8,
        });
        Ok(Op::Simd(self.arena.simd.len() as u32 - 1))
    }
}

fn const64(v: u64) -> Op {
    Op::Const64 {
        lo: v as u32,
        hi: (v >> 32) as u32,
    }
}

/// Points the forward reference `p` at `pc`.
fn patch(arena: &mut CodeArena, p: Patch, pc: u32) {
    match p {
        Patch::Table(i) => arena.br_tables[i].pc = pc,
        Patch::Op(i) => match &mut arena.ops[i] {
            Op::Jump(t) | Op::JumpIfZero(t) | Op::JumpIfNonZero(t) => *t = pc,
            Op::Br(t) | Op::BrIf(t) => t.pc = pc,
            // Branches to the function frame became `Return`s.
            _ => {}
        },
    }
}

/// Operand types of a non-memory SIMD instruction, in stack order: `v128`
/// except for the scalar operand of splats, lane replacements and shifts.
fn simd_arg_types(op: &O<'_>) -> [ValType; 3] {
    use ValType::{F32, F64, I32, I64, V128};
    match op {
        O::I8x16Splat | O::I16x8Splat | O::I32x4Splat => [I32, V128, V128],
        O::I64x2Splat => [I64, V128, V128],
        O::F32x4Splat => [F32, V128, V128],
        O::F64x2Splat => [F64, V128, V128],
        O::I8x16ReplaceLane { .. } | O::I16x8ReplaceLane { .. } | O::I32x4ReplaceLane { .. } => {
            [V128, I32, V128]
        }
        O::I64x2ReplaceLane { .. } => [V128, I64, V128],
        O::F32x4ReplaceLane { .. } => [V128, F32, V128],
        O::F64x2ReplaceLane { .. } => [V128, F64, V128],
        O::I8x16Shl
        | O::I8x16ShrS
        | O::I8x16ShrU
        | O::I16x8Shl
        | O::I16x8ShrS
        | O::I16x8ShrU
        | O::I32x4Shl
        | O::I32x4ShrS
        | O::I32x4ShrU
        | O::I64x2Shl
        | O::I64x2ShrS
        | O::I64x2ShrU => [V128, I32, V128],
        _ => [V128; 3],
    }
}
