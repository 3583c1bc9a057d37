//! Primitive edits on one Cranelift `Function`, each keeping the function
//! well-formed (every use dominated by its definition) so that the verifier
//! can accept the result: constants of any supported type, use replacement,
//! instruction removal, dead-code removal, branch folding, unreachable-block
//! removal and block-parameter removal.
//!
//! Values that flow into an address (a memory access's address operand or a
//! `call_indirect` callee) are *address-tainted*: replacing them would make
//! the native executors touch arbitrary memory, so the reducer never
//! rewrites them (the memory access itself may still be removed).

use std::collections::{HashMap, HashSet};

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::data_value::DataValue;
use cranelift_codegen::ir::immediates::{Ieee16, Ieee32, Ieee64};
use cranelift_codegen::ir::{
    BlockArg, ConstantData, Function, Inst, InstBuilder, InstructionData, Opcode, Type, Value,
    ValueDef, types,
};

/// Every instruction in layout order.
pub fn insts(func: &Function) -> Vec<Inst> {
    func.layout
        .blocks()
        .flat_map(|b| func.layout.block_insts(b))
        .collect()
}

/// How many times each value is used (arguments and branch arguments).
pub fn use_counts(func: &Function) -> HashMap<Value, usize> {
    let mut uses = HashMap::new();
    for inst in insts(func) {
        for v in func.dfg.inst_values(inst) {
            *uses.entry(func.dfg.resolve_aliases(v)).or_default() += 1;
        }
    }
    uses
}

/// Whether `op` produces a constant (the reducer's replacement values).
pub fn is_constant(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::Iconst
            | Opcode::F16const
            | Opcode::F32const
            | Opcode::F64const
            | Opcode::F128const
            | Opcode::Vconst
    )
}

/// Whether `op` yields an address or a code pointer, which the executors
/// require to come from where the generator put it.
fn is_address_source(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::StackAddr
            | Opcode::DynamicStackAddr
            | Opcode::FuncAddr
            | Opcode::SymbolValue
            | Opcode::TlsValue
            | Opcode::GetPinnedReg
            | Opcode::GetFramePointer
            | Opcode::GetStackPointer
            | Opcode::GetReturnAddress
    )
}

/// Whether removing an unused instruction with opcode `op` cannot change
/// behaviour.
fn is_pure(op: Opcode) -> bool {
    !(op.is_terminator()
        || op.is_branch()
        || op.is_call()
        || op.can_store()
        || op.can_load()
        || op.can_trap()
        || op.other_side_effects())
}

/// The values an address (or call target) is computed from, transitively
/// (block parameters included), plus every value computed from an address.
/// `callee_params(name)` says which parameters of a called function are
/// tainted there, so the arguments passed to them are too.
pub fn address_tainted(
    func: &Function,
    callee_params: &dyn Fn(&str) -> Option<Vec<bool>>,
) -> HashSet<Value> {
    let mut work: Vec<Value> = Vec::new();
    let mut derived: Vec<Value> = Vec::new();
    for inst in insts(func) {
        let op = func.dfg.insts[inst].opcode();
        let args = func.dfg.inst_args(inst);
        if op.can_load() || op.can_store() {
            // Address operands: a plain store's stored value comes first.
            let skip = usize::from(op.can_store() && !op.can_load());
            work.extend(args.iter().skip(skip).copied());
        }
        match func.dfg.insts[inst] {
            InstructionData::Call { func_ref, .. } => {
                let callee = func.dfg.ext_funcs[func_ref]
                    .name
                    .display(Some(&func.params))
                    .to_string();
                if let Some(mask) = callee_params(&callee) {
                    work.extend(args.iter().zip(mask).filter(|(_, t)| *t).map(|(v, _)| *v));
                }
            }
            InstructionData::CallIndirect { .. } => work.extend(args.iter().copied()),
            _ => {}
        }
        if is_address_source(op) {
            derived.extend(func.dfg.inst_results(inst).iter().copied());
        }
    }
    let mut tainted = forward_closure(func, derived);
    let feeders = param_feeders(func);
    while let Some(v) = work.pop() {
        let v = func.dfg.resolve_aliases(v);
        if !tainted.insert(v) {
            continue;
        }
        match func.dfg.value_def(v) {
            ValueDef::Result(inst, _) => work.extend(func.dfg.inst_args(inst).iter().copied()),
            ValueDef::Param(..) => {
                work.extend(feeders.get(&v).into_iter().flatten().copied());
            }
            ValueDef::Union(a, b) => work.extend([a, b]),
        }
    }
    tainted
}

/// Every value computed (through instructions and branch arguments) from
/// one of `seeds`, seeds included.
fn forward_closure(func: &Function, seeds: Vec<Value>) -> HashSet<Value> {
    let mut set: HashSet<Value> = seeds.into_iter().collect();
    loop {
        let before = set.len();
        for inst in insts(func) {
            // Loaded values and call results are data, not addresses.
            let op = func.dfg.insts[inst].opcode();
            let computes = !(op.can_load() || op.is_call());
            if computes && func.dfg.inst_args(inst).iter().any(|a| set.contains(a)) {
                set.extend(func.dfg.inst_results(inst).iter().copied());
            }
            let dests = func.dfg.insts[inst]
                .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables);
            for call in dests {
                let params = func.dfg.block_params(call.block(&func.dfg.value_lists));
                for (p, a) in params.iter().zip(call.args(&func.dfg.value_lists)) {
                    if matches!(a, BlockArg::Value(v) if set.contains(&v)) {
                        set.insert(*p);
                    }
                }
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

/// Where a memory access goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    /// A known stack slot.
    Slot(cranelift_codegen::ir::StackSlot),
    /// Anywhere else, or not known.
    Unknown,
}

/// The place an instruction reads, and the place it writes.
pub fn accesses(func: &Function, inst: Inst) -> (Option<Place>, Option<Place>) {
    let op = func.dfg.insts[inst].opcode();
    let args = func.dfg.inst_args(inst);
    let place = |addr: Option<&Value>| match addr.map(|a| func.dfg.value_def(*a)) {
        Some(ValueDef::Result(def, _)) => match func.dfg.insts[def] {
            InstructionData::StackAddr { stack_slot, .. } => Place::Slot(stack_slot),
            _ => Place::Unknown,
        },
        _ => Place::Unknown,
    };
    if op.is_call() {
        // A callee may read memory through pointer arguments.
        let reads = args
            .iter()
            .any(|a| func.dfg.value_type(*a) == types::I64)
            .then_some(Place::Unknown);
        return (reads, None);
    }
    match (op.can_load(), op.can_store()) {
        (true, true) => {
            let p = place(args.first());
            (Some(p), Some(p))
        }
        (true, false) => (Some(place(args.first())), None),
        (false, true) => (None, Some(place(args.get(1)))),
        (false, false) => (None, None),
    }
}

/// For each block parameter, the values branches pass to it.
fn param_feeders(func: &Function) -> HashMap<Value, Vec<Value>> {
    let mut feeders: HashMap<Value, Vec<Value>> = HashMap::new();
    for inst in insts(func) {
        let dests = func.dfg.insts[inst]
            .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables);
        for call in dests {
            let block = call.block(&func.dfg.value_lists);
            let params = func.dfg.block_params(block);
            for (param, arg) in params.iter().zip(call.args(&func.dfg.value_lists)) {
                if let BlockArg::Value(v) = arg {
                    feeders.entry(*param).or_default().push(v);
                }
            }
        }
    }
    feeders
}

/// Inserts, before `at`, a constant of type `ty` with the bits of `value`
/// (little-endian, truncated to the type). `None` for types without a
/// constant form (dynamic vectors).
pub fn insert_const(func: &mut Function, at: Inst, ty: Type, value: &DataValue) -> Option<Value> {
    let mut bytes = [0u8; 16];
    if value.ty().bytes() as usize <= 16 {
        value.write_to_slice_le(&mut bytes[..value.ty().bytes() as usize]);
    }
    insert_const_bytes(func, at, ty, &bytes)
}

/// Inserts a zero of type `ty` before `at`.
pub fn insert_zero(func: &mut Function, at: Inst, ty: Type) -> Option<Value> {
    insert_const_bytes(func, at, ty, &[0; 16])
}

fn insert_const_bytes(func: &mut Function, at: Inst, ty: Type, bytes: &[u8; 16]) -> Option<Value> {
    let lo = u64::from_le_bytes(bytes[..8].try_into().ok()?);
    let hi = u64::from_le_bytes(bytes[8..].try_into().ok()?);
    if ty.is_vector() && !ty.is_dynamic_vector() || ty == types::F128 {
        let size = ty.bytes() as usize;
        let constant = func
            .dfg
            .constants
            .insert(ConstantData::from(&bytes[..size.min(16)]));
        let mut cur = FuncCursor::new(func).at_inst(at);
        return Some(if ty == types::F128 {
            cur.ins().f128const(constant)
        } else {
            cur.ins().vconst(ty, constant)
        });
    }
    let mut cur = FuncCursor::new(func).at_inst(at);
    Some(match ty {
        types::I8 | types::I16 | types::I32 | types::I64 => {
            let mask = if ty.bits() == 64 {
                u64::MAX
            } else {
                (1u64 << ty.bits()) - 1
            };
            cur.ins().iconst(ty, (lo & mask) as i64)
        }
        types::I128 => {
            let l = cur.ins().iconst(types::I64, lo as i64);
            if hi == 0 {
                cur.ins().uextend(types::I128, l)
            } else if hi == u64::MAX && (lo as i64) < 0 {
                cur.ins().sextend(types::I128, l)
            } else {
                let h = cur.ins().iconst(types::I64, hi as i64);
                cur.ins().iconcat(l, h)
            }
        }
        types::F16 => cur.ins().f16const(Ieee16::with_bits(lo as u16)),
        types::F32 => cur.ins().f32const(Ieee32::with_bits(lo as u32)),
        types::F64 => cur.ins().f64const(Ieee64::with_bits(lo)),
        _ => return None,
    })
}

/// Replaces every use of `old` by `new`.
pub fn replace_uses(func: &mut Function, old: Value, new: Value) {
    for inst in insts(func) {
        func.dfg
            .map_inst_values(inst, |v| if v == old { new } else { v });
    }
}

/// Removes `inst`, replacing each of its used results by a zero constant.
/// `false` (and the function unchanged) when a used result has a type
/// without a constant form or the instruction is a terminator.
pub fn kill(func: &mut Function, inst: Inst) -> bool {
    if func.dfg.insts[inst].opcode().is_terminator() {
        return false;
    }
    let uses = use_counts(func);
    let used: Vec<Value> = func
        .dfg
        .inst_results(inst)
        .iter()
        .copied()
        .filter(|r| uses.contains_key(r))
        .collect();
    let mut replacements = Vec::with_capacity(used.len());
    for r in used {
        let ty = func.dfg.value_type(r);
        let Some(c) = insert_zero(func, inst, ty) else {
            return false;
        };
        replacements.push((r, c));
    }
    for (r, c) in replacements {
        replace_uses(func, r, c);
    }
    func.layout.remove_inst(inst);
    true
}

/// Removes unused pure instructions until none is left; returns how many.
pub fn remove_dead(func: &mut Function) -> usize {
    let mut removed = 0;
    loop {
        let uses = use_counts(func);
        let dead: Vec<Inst> = insts(func)
            .into_iter()
            .filter(|&i| {
                is_pure(func.dfg.insts[i].opcode())
                    && func
                        .dfg
                        .inst_results(i)
                        .iter()
                        .all(|r| !uses.contains_key(r))
            })
            .collect();
        if dead.is_empty() {
            return removed;
        }
        for i in dead {
            func.layout.remove_inst(i);
            removed += 1;
        }
    }
}

/// Turns a conditional branch or branch table into a `jump` to its
/// `which`-th destination. `false` if `inst` has no such destination.
pub fn fold_branch(func: &mut Function, inst: Inst, which: usize) -> bool {
    let data = func.dfg.insts[inst];
    let call = match data {
        InstructionData::Brif { blocks, .. } => blocks.get(which).copied(),
        InstructionData::BranchTable { table, .. } => func.dfg.jump_tables[table]
            .all_branches()
            .get(which)
            .copied(),
        _ => None,
    };
    let Some(call) = call else { return false };
    let block = call.block(&func.dfg.value_lists);
    let args: Vec<BlockArg> = call.args(&func.dfg.value_lists).collect();
    func.replace(inst).jump(block, &args);
    remove_unreachable(func);
    true
}

/// Merges non-entry `block` into its only predecessor when that
/// predecessor reaches it with an unconditional `jump` (the block's
/// parameters become the jump's arguments). `false` if not applicable.
pub fn merge_into_predecessor(func: &mut Function, block: cranelift_codegen::ir::Block) -> bool {
    if Some(block) == func.layout.entry_block() || !func.layout.is_block_inserted(block) {
        return false;
    }
    let preds: Vec<Inst> = insts(func)
        .into_iter()
        .filter(|&i| {
            func.dfg.insts[i]
                .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
                .iter()
                .any(|c| c.block(&func.dfg.value_lists) == block)
        })
        .collect();
    let [jump] = preds[..] else { return false };
    let InstructionData::Jump { destination, .. } = func.dfg.insts[jump] else {
        return false;
    };
    let Some(pred) = func.layout.inst_block(jump).filter(|&p| p != block) else {
        return false;
    };
    let args: Option<Vec<Value>> = destination
        .args(&func.dfg.value_lists)
        .map(|a| a.as_value())
        .collect();
    let Some(args) = args else { return false };
    let params = func.dfg.block_params(block).to_vec();
    for (p, a) in params.iter().zip(&args) {
        replace_uses(func, *p, *a);
    }
    func.dfg.detach_block_params(block);
    func.layout.remove_inst(jump);
    let moved: Vec<Inst> = func.layout.block_insts(block).collect();
    for i in moved {
        func.layout.remove_inst(i);
        func.layout.append_inst(i, pred);
    }
    func.layout.remove_block(block);
    true
}

/// Removes blocks not reachable from the entry block.
pub fn remove_unreachable(func: &mut Function) {
    let Some(entry) = func.layout.entry_block() else {
        return;
    };
    let mut seen = HashSet::from([entry]);
    let mut work = vec![entry];
    while let Some(b) = work.pop() {
        let Some(last) = func.layout.last_inst(b) else {
            continue;
        };
        let dests = func.dfg.insts[last]
            .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables);
        for call in dests {
            let d = call.block(&func.dfg.value_lists);
            if seen.insert(d) {
                work.push(d);
            }
        }
    }
    let dead: Vec<_> = func.layout.blocks().filter(|b| !seen.contains(b)).collect();
    for b in dead {
        func.layout.remove_block_and_insts(b);
    }
}

/// Removes parameter `index` of non-entry block `block`: its uses get a
/// zero constant and every branch to the block drops the argument. `false`
/// if not applicable (entry block, exception edges, no constant form).
pub fn drop_block_param(
    func: &mut Function,
    block: cranelift_codegen::ir::Block,
    index: usize,
) -> bool {
    if Some(block) == func.layout.entry_block() {
        return false;
    }
    let Some(&param) = func.dfg.block_params(block).get(index) else {
        return false;
    };
    let branches: Vec<Inst> = insts(func)
        .into_iter()
        .filter(|&i| {
            func.dfg.insts[i]
                .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables)
                .iter()
                .any(|c| c.block(&func.dfg.value_lists) == block)
        })
        .collect();
    if branches
        .iter()
        .any(|&i| func.dfg.insts[i].exception_table().is_some())
    {
        return false;
    }
    let Some(first) = func.layout.first_inst(block) else {
        return false;
    };
    let ty = func.dfg.value_type(param);
    let Some(zero) = insert_zero(func, first, ty) else {
        return false;
    };
    replace_uses(func, param, zero);
    func.dfg.remove_block_param(param);
    for i in branches {
        let dfg = &mut func.dfg;
        let dests =
            dfg.insts[i].branch_destination_mut(&mut dfg.jump_tables, &mut dfg.exception_tables);
        for call in dests {
            if call.block(&dfg.value_lists) == block {
                call.remove(index, &mut dfg.value_lists);
            }
        }
    }
    true
}

/// The zero (`one == false`) or one of a run-line value's type.
pub fn small_value(like: &DataValue, one: bool) -> DataValue {
    let ty = like.ty();
    let mut bytes = [0u8; 16];
    if one {
        if ty.is_int() {
            bytes[0] = 1;
        } else if ty.is_float() {
            // 1.0 in the float's format.
            let one_bits: u128 = match ty.bits() {
                16 => 0x3c00,
                32 => 0x3f80_0000,
                64 => 0x3ff0_0000_0000_0000,
                _ => 0x3fff_0000_0000_0000_0000_0000_0000_0000,
            };
            bytes = one_bits.to_le_bytes();
        } else {
            bytes[0] = 1;
        }
    }
    DataValue::read_from_slice_le(&bytes[..ty.bytes() as usize], ty)
}
