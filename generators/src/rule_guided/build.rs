//! Building a CLIF function that contains an instantiated pattern.
//!
//! Unconstrained values become function parameters, except memory
//! addresses, which point into an explicit stack slot initialized with
//! known bytes (so every execution reads defined memory). Instructions are
//! emitted operands first; the root's results are returned. Branch roots
//! get two or three successor blocks returning distinct constants, trap
//! roots end the function.

use std::collections::BTreeMap;

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee16, Ieee32, Ieee64, Imm64, Offset32};
use cranelift_codegen::ir::instructions::InstructionFormat;
use cranelift_codegen::ir::{
    AbiParam, AtomicRmwOp, Block, BlockArg, ConstantData, Endianness, ExtFuncData, ExternalName,
    Function, InstBuilder, InstBuilderBase, InstructionData, JumpTableData, MemFlags, MemFlagsData,
    Opcode, Signature, StackSlot, StackSlotData, StackSlotKind, TrapCode, UserFuncName, Value,
    types,
};
use cranelift_codegen::isa::CallConv;

use super::typing::Typing;
use crate::pattern::{ImmKind, MemFlagsReq, NodeId, NodeKind, Pattern};

/// Size of the stack slot memory operations address.
pub const SLOT_BYTES: u32 = 64;

/// Why a pattern could not be turned into a function.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The pattern uses an instruction format shoal cannot build.
    #[error("cannot build instruction format {0:?}")]
    Format(InstructionFormat),
    /// The pattern has an instruction whose opcode it does not fix.
    #[error("opcode not fixed")]
    NoOpcode,
    /// An instruction lacks operands it needs.
    #[error("{0} needs more operands")]
    Operands(Opcode),
}

/// Chosen values of a pattern's immediate slots (`values[i]` for slot `i`).
pub type ImmValues = Vec<u128>;

/// Builds function `%name` for `p` with the given types and immediates.
/// With `spill_vectors`, vector results are stored to the stack slot and
/// returned as two `i64` halves (for ABIs that cannot return vectors).
pub fn build(
    p: &Pattern,
    typing: &Typing,
    imms: &ImmValues,
    name: &str,
    spill_vectors: bool,
) -> Result<Function, BuildError> {
    let mut b = Builder::new(p, typing, imms, name);
    b.spill_vectors = spill_vectors;
    b.emit_root()?;
    Ok(b.func)
}

struct Builder<'p> {
    p: &'p Pattern,
    t: &'p Typing,
    imms: &'p ImmValues,
    func: Function,
    entry: Block,
    values: BTreeMap<NodeId, Value>,
    bases: Vec<NodeId>,
    slot: Option<(StackSlot, Value)>,
    spill_vectors: bool,
}

impl<'p> Builder<'p> {
    fn new(p: &'p Pattern, t: &'p Typing, imms: &'p ImmValues, name: &str) -> Builder<'p> {
        let mut func = Function::with_name_signature(
            UserFuncName::testcase(name),
            Signature::new(CallConv::Fast),
        );
        let entry = func.dfg.make_block();
        func.layout.append_block(entry);
        let bases = address_bases(p);
        let mut b = Builder {
            p,
            t,
            imms,
            func,
            entry,
            values: BTreeMap::new(),
            bases,
            slot: None,
            spill_vectors: false,
        };
        b.add_params();
        b
    }

    /// One parameter per unconstrained value that is not an address base.
    fn add_params(&mut self) {
        for (n, node) in self.p.nodes.iter().enumerate() {
            if !matches!(node.kind, NodeKind::Any) || self.bases.contains(&n) {
                continue;
            }
            let ty = self.t.value[n];
            self.func.signature.params.push(AbiParam::new(ty));
            let v = self.func.dfg.append_block_param(self.entry, ty);
            self.values.insert(n, v);
        }
    }

    fn cursor(&mut self) -> FuncCursor<'_> {
        let mut pos = FuncCursor::new(&mut self.func);
        pos.goto_bottom(self.entry);
        pos
    }

    /// The address of the (initialized) stack slot.
    fn slot_addr(&mut self) -> Value {
        if let Some((_, v)) = self.slot {
            return v;
        }
        let ss = self.func.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            SLOT_BYTES,
            4,
        ));
        let mut pos = self.cursor();
        let addr = pos.ins().stack_addr(types::I64, ss, 0);
        for i in 0..SLOT_BYTES / 8 {
            let pattern = 0x0102_0304_0506_0708i64.wrapping_mul(i64::from(i) + 1) ^ 0x55;
            let k = pos.ins().iconst(types::I64, pattern);
            pos.ins()
                .store(MemFlagsData::trusted(), k, addr, (i * 8) as i32);
        }
        self.slot = Some((ss, addr));
        addr
    }

    fn value(&mut self, n: NodeId) -> Result<Value, BuildError> {
        if let Some(v) = self.values.get(&n) {
            return Ok(*v);
        }
        if self.bases.contains(&n) {
            let v = self.slot_addr();
            self.values.insert(n, v);
            return Ok(v);
        }
        let inst = self.emit(n)?;
        let v = self
            .func
            .dfg
            .inst_results(inst)
            .first()
            .copied()
            .ok_or(BuildError::Operands(Opcode::Nop))?;
        self.values.insert(n, v);
        Ok(v)
    }

    fn imm(&self, n: NodeId, kind: ImmKind) -> Option<u128> {
        let NodeKind::Inst { imms, .. } = &self.p.nodes[n].kind else {
            return None;
        };
        imms.iter()
            .find(|i| self.p.imms[**i].kind == kind)
            .map(|i| self.imms[*i])
    }

    fn mem_flags(&mut self, n: NodeId) -> MemFlags {
        let bits = self.imm(n, ImmKind::MemFlags).unwrap_or(0);
        let mut data = MemFlagsData::new();
        if bits & MemFlagsReq::NOTRAP != 0 {
            data.set_notrap();
        }
        if bits & MemFlagsReq::ALIGNED != 0 {
            data.set_aligned();
        }
        if bits & MemFlagsReq::READONLY != 0 {
            data.set_readonly();
        }
        if bits & MemFlagsReq::BIG != 0 {
            data.set_endianness(Endianness::Big);
        } else if bits & MemFlagsReq::LITTLE != 0 {
            data.set_endianness(Endianness::Little);
        }
        self.func.dfg.mem_flags.insert_unchecked(data)
    }

    fn trap_code(&self, n: NodeId) -> TrapCode {
        let code = self.imm(n, ImmKind::TrapCode).unwrap_or(1).clamp(1, 255) as u8;
        TrapCode::user(code).unwrap_or(TrapCode::INTEGER_OVERFLOW)
    }

    fn constant(&self, n: NodeId) -> ConstantData {
        let bits = self.imm(n, ImmKind::V128).unwrap_or(0);
        ConstantData::from(&bits.to_le_bytes()[..])
    }

    /// Emits node `n`'s instruction (operands first).
    fn emit(&mut self, n: NodeId) -> Result<cranelift_codegen::ir::Inst, BuildError> {
        let NodeKind::Inst { opcode, args, .. } = &self.p.nodes[n].kind else {
            return Err(BuildError::NoOpcode);
        };
        let opcode = *opcode;
        if opcode == Opcode::Nop {
            return Err(BuildError::NoOpcode);
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in args.clone() {
            vals.push(self.value(a)?);
        }
        let data = self.inst_data(n, opcode, &vals)?;
        let ctrl = self.t.ctrl[n];
        let mut pos = self.cursor();
        let (inst, _) = pos.ins().build(data, ctrl);
        Ok(inst)
    }

    fn need(opcode: Opcode, vals: &[Value], k: usize) -> Result<(), BuildError> {
        if vals.len() < k {
            Err(BuildError::Operands(opcode))
        } else {
            Ok(())
        }
    }

    fn inst_data(
        &mut self,
        n: NodeId,
        opcode: Opcode,
        vals: &[Value],
    ) -> Result<InstructionData, BuildError> {
        use InstructionFormat as F;
        let format = opcode.format();
        let need = |k| Self::need(opcode, vals, k);
        let imm = |kind| self.imm(n, kind).unwrap_or(0);
        Ok(match format {
            F::NullAry => InstructionData::NullAry { opcode },
            F::Unary => {
                need(1)?;
                InstructionData::Unary {
                    opcode,
                    arg: vals[0],
                }
            }
            F::Binary => {
                need(2)?;
                InstructionData::Binary {
                    opcode,
                    args: [vals[0], vals[1]],
                }
            }
            F::Ternary => {
                need(3)?;
                InstructionData::Ternary {
                    opcode,
                    args: [vals[0], vals[1], vals[2]],
                }
            }
            F::BinaryImm8 => {
                need(1)?;
                InstructionData::BinaryImm8 {
                    opcode,
                    arg: vals[0],
                    imm: imm(ImmKind::Uimm8) as u8,
                }
            }
            F::TernaryImm8 => {
                need(2)?;
                InstructionData::TernaryImm8 {
                    opcode,
                    args: [vals[0], vals[1]],
                    imm: imm(ImmKind::Uimm8) as u8,
                }
            }
            F::UnaryImm => InstructionData::UnaryImm {
                opcode,
                imm: Imm64::new(imm(ImmKind::Imm64) as u64 as i64),
            },
            F::UnaryIeee16 => InstructionData::UnaryIeee16 {
                opcode,
                imm: Ieee16::with_bits(imm(ImmKind::Ieee16) as u16),
            },
            F::UnaryIeee32 => InstructionData::UnaryIeee32 {
                opcode,
                imm: Ieee32::with_bits(imm(ImmKind::Ieee32) as u32),
            },
            F::UnaryIeee64 => InstructionData::UnaryIeee64 {
                opcode,
                imm: Ieee64::with_bits(imm(ImmKind::Ieee64) as u64),
            },
            F::UnaryConst => {
                let data = self.constant(n);
                let constant_handle = self.func.dfg.constants.insert(data);
                InstructionData::UnaryConst {
                    opcode,
                    constant_handle,
                }
            }
            F::Shuffle => {
                need(2)?;
                let data = self.constant(n);
                let imm = self.func.dfg.immediates.push(data);
                InstructionData::Shuffle {
                    opcode,
                    args: [vals[0], vals[1]],
                    imm,
                }
            }
            F::IntCompare => {
                need(2)?;
                let cc = IntCC::all()[(imm(ImmKind::IntCC) as usize) % IntCC::all().len()];
                InstructionData::IntCompare {
                    opcode,
                    args: [vals[0], vals[1]],
                    cond: cc,
                }
            }
            F::FloatCompare => {
                need(2)?;
                let cc = FloatCC::all()[(imm(ImmKind::FloatCC) as usize) % FloatCC::all().len()];
                InstructionData::FloatCompare {
                    opcode,
                    args: [vals[0], vals[1]],
                    cond: cc,
                }
            }
            F::Load => {
                need(1)?;
                let offset = Offset32::new(imm(ImmKind::Offset32) as u32 as i32);
                InstructionData::Load {
                    opcode,
                    arg: vals[0],
                    flags: self.mem_flags(n),
                    offset,
                }
            }
            F::LoadNoOffset => {
                need(1)?;
                InstructionData::LoadNoOffset {
                    opcode,
                    arg: vals[0],
                    flags: self.mem_flags(n),
                }
            }
            F::Store => {
                need(2)?;
                let offset = Offset32::new(imm(ImmKind::Offset32) as u32 as i32);
                InstructionData::Store {
                    opcode,
                    args: [vals[0], vals[1]],
                    flags: self.mem_flags(n),
                    offset,
                }
            }
            F::StoreNoOffset => {
                need(2)?;
                InstructionData::StoreNoOffset {
                    opcode,
                    args: [vals[0], vals[1]],
                    flags: self.mem_flags(n),
                }
            }
            F::AtomicCas => {
                need(3)?;
                InstructionData::AtomicCas {
                    opcode,
                    args: [vals[0], vals[1], vals[2]],
                    flags: self.mem_flags(n),
                }
            }
            F::AtomicRmw => {
                need(2)?;
                let ops = AtomicRmwOp::all();
                let op = ops[(imm(ImmKind::AtomicRmwOp) as usize) % ops.len()];
                InstructionData::AtomicRmw {
                    opcode,
                    args: [vals[0], vals[1]],
                    flags: self.mem_flags(n),
                    op,
                }
            }
            F::CondTrap => {
                need(1)?;
                InstructionData::CondTrap {
                    opcode,
                    arg: vals[0],
                    code: self.trap_code(n),
                }
            }
            F::Trap => InstructionData::Trap {
                opcode,
                code: self.trap_code(n),
            },
            F::IntAddTrap => {
                need(2)?;
                InstructionData::IntAddTrap {
                    opcode,
                    args: [vals[0], vals[1]],
                    code: self.trap_code(n),
                }
            }
            F::StackAddr => {
                let offset = Offset32::new((imm(ImmKind::Offset32) as u32 as i32).clamp(0, 32));
                self.slot_addr();
                let (ss, _) = self.slot.expect("slot_addr creates the slot");
                InstructionData::StackAddr {
                    opcode,
                    stack_slot: ss,
                    offset,
                }
            }
            F::Call | F::FuncAddr => {
                let func_ref = self.import_callee(vals)?;
                if format == F::FuncAddr {
                    InstructionData::FuncAddr { opcode, func_ref }
                } else {
                    let args = cranelift_codegen::ir::ValueList::from_slice(
                        vals,
                        &mut self.func.dfg.value_lists,
                    );
                    InstructionData::Call {
                        opcode,
                        args,
                        func_ref,
                    }
                }
            }
            other => return Err(BuildError::Format(other)),
        })
    }

    /// Declares an external function `%callee` taking `vals`' types and
    /// returning an `i64`.
    fn import_callee(
        &mut self,
        vals: &[Value],
    ) -> Result<cranelift_codegen::ir::FuncRef, BuildError> {
        let mut sig = Signature::new(CallConv::Fast);
        for v in vals {
            sig.params.push(AbiParam::new(self.func.dfg.value_type(*v)));
        }
        sig.returns.push(AbiParam::new(types::I64));
        let signature = self.func.import_signature(sig);
        Ok(self.func.import_function(ExtFuncData {
            name: ExternalName::testcase("callee"),
            signature,
            colocated: false,
            patchable: false,
        }))
    }

    /// Emits the root and the function's terminator(s).
    fn emit_root(&mut self) -> Result<(), BuildError> {
        let root = self.p.root;
        let NodeKind::Inst { opcode, args, .. } = &self.p.nodes[root].kind else {
            return Err(BuildError::NoOpcode);
        };
        let (opcode, args) = (*opcode, args.clone());
        match opcode.format() {
            InstructionFormat::Brif | InstructionFormat::BranchTable | InstructionFormat::Jump => {
                self.emit_branch(opcode, &args)
            }
            InstructionFormat::Trap => {
                self.emit(root)?;
                Ok(())
            }
            _ => {
                let inst = self.emit(root)?;
                let mut results: Vec<Value> = self.func.dfg.inst_results(inst).to_vec();
                if self.spill_vectors {
                    results = self.spill(results);
                }
                for r in &results {
                    let ty = self.func.dfg.value_type(*r);
                    self.func.signature.returns.push(AbiParam::new(ty));
                }
                self.cursor().ins().return_(&results);
                Ok(())
            }
        }
    }

    /// Replaces each vector value by its two 64-bit halves, read back from
    /// the stack slot after storing it there.
    fn spill(&mut self, results: Vec<Value>) -> Vec<Value> {
        let mut out = Vec::new();
        for (k, v) in results.into_iter().enumerate() {
            let ty = self.func.dfg.value_type(v);
            if !ty.is_vector() {
                out.push(v);
                continue;
            }
            let addr = self.slot_addr();
            let at = 32 + 16 * (k as i32 % 2);
            let mut pos = self.cursor();
            pos.ins().store(MemFlagsData::trusted(), v, addr, at);
            let lanes = ty.bytes().div_ceil(8) as i32;
            for half in 0..lanes {
                let load_ty = if ty.bytes() >= 8 {
                    types::I64
                } else {
                    types::I32
                };
                out.push(
                    pos.ins()
                        .load(load_ty, MemFlagsData::trusted(), addr, at + 8 * half),
                );
            }
        }
        out
    }

    fn ret_const(&mut self, block: Block, k: i64) {
        let mut pos = FuncCursor::new(&mut self.func);
        pos.insert_block(block);
        let v = pos.ins().iconst(types::I32, k);
        pos.ins().return_(&[v]);
    }

    fn emit_branch(&mut self, opcode: Opcode, args: &[NodeId]) -> Result<(), BuildError> {
        self.func.signature.returns.push(AbiParam::new(types::I32));
        let cond = match args.first() {
            Some(a) => Some(self.value(*a)?),
            None => None,
        };
        let blocks: Vec<Block> = (0..3).map(|_| self.func.dfg.make_block()).collect();
        let no_args: &[BlockArg] = &[];
        let mut pos = self.cursor();
        match (opcode, cond) {
            (Opcode::Brif, Some(c)) => {
                pos.ins().brif(c, blocks[0], no_args, blocks[1], no_args);
            }
            (Opcode::BrTable, Some(c)) => {
                let calls: Vec<_> = blocks
                    .iter()
                    .map(|b| pos.func.dfg.block_call(*b, no_args))
                    .collect();
                let table = JumpTableData::new(calls[2], &calls[..2]);
                let jt = pos.func.create_jump_table(table);
                pos.ins().br_table(c, jt);
            }
            (Opcode::Jump, _) => {
                pos.ins().jump(blocks[0], no_args);
            }
            _ => return Err(BuildError::Operands(opcode)),
        }
        let used = match opcode {
            Opcode::Jump => 1,
            Opcode::Brif => 2,
            _ => 3,
        };
        for (i, b) in blocks.into_iter().take(used).enumerate() {
            self.ret_const(b, i as i64 + 1);
        }
        Ok(())
    }
}

/// Unconstrained values used as memory addresses (directly, or as the
/// first `i64` term of an address computed with `iadd`): they point into
/// the stack slot.
fn address_bases(p: &Pattern) -> Vec<NodeId> {
    fn base_of(p: &Pattern, n: NodeId, depth: usize) -> Option<NodeId> {
        match &p.nodes[n].kind {
            NodeKind::Any => Some(n),
            NodeKind::Inst {
                opcode: Opcode::Iadd,
                args,
                ..
            } if depth < 4 => args.iter().find_map(|a| base_of(p, *a, depth + 1)),
            _ => None,
        }
    }
    let mut out = Vec::new();
    for node in &p.nodes {
        let NodeKind::Inst { opcode, args, .. } = &node.kind else {
            continue;
        };
        if !opcode.can_load() && !opcode.can_store() {
            continue;
        }
        let addr = match opcode.format() {
            InstructionFormat::Load
            | InstructionFormat::LoadNoOffset
            | InstructionFormat::AtomicRmw
            | InstructionFormat::AtomicCas => args.first(),
            InstructionFormat::Store | InstructionFormat::StoreNoOffset => args.get(1),
            _ => None,
        };
        if let Some(b) = addr.and_then(|a| base_of(p, *a, 0))
            && !out.contains(&b)
        {
            out.push(b);
        }
    }
    out
}
