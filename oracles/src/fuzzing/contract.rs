//! The executors' preconditions, checked on CLIF fuzz inputs.
//!
//! `runtime::clif` compares the reference interpreter with native code and
//! Pulley only for code inside a contract its generators respect: memory is
//! reached only through stack slots, an address is never observed as a
//! value (native and interpreted addresses differ), and no instruction
//! touches host state. A fuzz input is arbitrary: libFuzzer's byte-level
//! mutations of CLIF text can point a load at any integer, widen an
//! offset past its slot, or return a `stack_addr`. Such a case would make
//! native code fault or read its own stack — a harness crash or a false
//! alarm, never a Cranelift bug — so [`check`] rejects it as invalid
//! before anything runs.
//!
//! The rules, per function:
//! * a memory instruction is one the CLIF generator emits
//!   ([`table::is_memory`]); any other instruction that loads or stores is
//!   rejected;
//! * its address operand is the result of a `stack_addr`, and the accessed
//!   bytes (`stack_addr` offset + the instruction's offset + access size)
//!   lie inside the slot; an access flagged `aligned`, and every atomic
//!   one, is naturally aligned given the slot's alignment;
//! * the function's stack slots total at most [`MAX_SLOT_BYTES`] (a frame
//!   larger than the guard page could step over it when native recursion
//!   runs out of stack, instead of faulting in it);
//! * a value produced by an address instruction (`stack_addr`, `func_addr`,
//!   `symbol_value`, `tls_value`, ...) is used only as such an address
//!   operand, or — for `func_addr` — as the callee of `call_indirect` /
//!   `return_call_indirect`;
//! * instructions that read or write host state (`get_pinned_reg`,
//!   `get_stack_pointer`, `stack_switch`, `debugtrap`, ...) do not occur.
//!
//! NaN payloads are the one part of the contract checked only after the
//! fact ([`super::nan`]): many harvested seeds could observe one for some
//! arguments, so a case is run anyway and only a disagreement on a case
//! that may observe a payload is set aside.

use cranelift_codegen::ir::{Function, Inst, InstructionData, Opcode, Value, ValueDef};
use shoal_generators::clif::table;
use shoal_runtime::clif::ClifModule;

/// Most bytes of explicit stack slots per function.
pub const MAX_SLOT_BYTES: u32 = 4096;

/// Checks every function of `module` (see the module documentation);
/// `Err` names the first violation.
pub fn check(module: &ClifModule) -> Result<(), String> {
    for func in module.functions() {
        check_function(func).map_err(|why| format!("{}: {why}", func.name))?;
    }
    Ok(())
}

fn check_function(func: &Function) -> Result<(), String> {
    let slot_bytes: u64 = func
        .sized_stack_slots
        .values()
        .map(|s| u64::from(s.size))
        .sum();
    if slot_bytes > u64::from(MAX_SLOT_BYTES) {
        return Err(format!(
            "{slot_bytes} bytes of stack slots (at most {MAX_SLOT_BYTES})"
        ));
    }
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            check_inst(func, inst)?;
        }
    }
    check_slots_initialized(func)
}

/// The stack slots some instruction loads from (a slot only written, or
/// only there to take up stack, needs no initialization).
fn read_slots(func: &Function) -> Vec<cranelift_codegen::ir::StackSlot> {
    let mut slots = Vec::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let op = func.dfg.insts[inst].opcode();
            if !op.can_load() {
                continue;
            }
            let Some(&addr) = func.dfg.inst_args(inst).get(table::address_operand(op)) else {
                continue;
            };
            let addr = func.dfg.resolve_aliases(addr);
            if let ValueDef::Result(def, _) = func.dfg.value_def(addr)
                && let InstructionData::StackAddr { stack_slot, .. } = func.dfg.insts[def]
                && !slots.contains(&stack_slot)
            {
                slots.push(stack_slot);
            }
        }
    }
    slots
}

/// Every explicit stack slot that is read is written in full by stores at the start of
/// the entry block, before any instruction that could read memory or leave
/// the block: native code's slots hold whatever the stack held, the
/// interpreter's hold zeros, so a read of an unwritten byte would be a
/// false alarm. (The generator writes every slot first; a mutation can
/// delete one of those stores.)
fn check_slots_initialized(func: &Function) -> Result<(), String> {
    let Some(entry) = func.layout.entry_block() else {
        return Ok(());
    };
    let read = read_slots(func);
    let mut unwritten: Vec<(cranelift_codegen::ir::StackSlot, Vec<bool>)> = func
        .sized_stack_slots
        .iter()
        .filter(|(slot, _)| read.contains(slot))
        .map(|(slot, data)| (slot, vec![true; data.size as usize]))
        .collect();
    for inst in func.layout.block_insts(entry) {
        let op = func.dfg.insts[inst].opcode();
        let plain_store = matches!(
            op,
            Opcode::Store | Opcode::Istore8 | Opcode::Istore16 | Opcode::Istore32
        );
        if !plain_store {
            if op.can_load() || op.can_store() || op.is_call() || op.is_terminator() {
                break;
            }
            continue;
        }
        let addr = func.dfg.resolve_aliases(func.dfg.inst_args(inst)[1]);
        let ValueDef::Result(def, _) = func.dfg.value_def(addr) else {
            continue;
        };
        let InstructionData::StackAddr {
            stack_slot, offset, ..
        } = func.dfg.insts[def]
        else {
            continue;
        };
        let inst_offset = func.dfg.insts[inst]
            .load_store_offset()
            .map_or(0, i64::from);
        let start = i64::from(offset) + inst_offset;
        let end = start + access_bytes(func, inst, op);
        if let Some((_, bytes)) = unwritten.iter_mut().find(|(s, _)| *s == stack_slot) {
            for b in start.max(0)..end.min(bytes.len() as i64) {
                bytes[b as usize] = false;
            }
        }
    }
    match unwritten.iter().find(|(_, bytes)| bytes.contains(&true)) {
        Some((slot, bytes)) => {
            let first = bytes.iter().position(|&b| b).unwrap_or(0);
            Err(format!(
                "byte {first} of {slot} is not written at the start of the entry block (uninitialized stack memory)"
            ))
        }
        None => Ok(()),
    }
}

fn check_inst(func: &Function, inst: Inst) -> Result<(), String> {
    let op = func.dfg.insts[inst].opcode();
    if host_state(op) {
        return Err(format!("`{op}` touches host state"));
    }
    let memory = table::is_memory(op);
    if !memory && (op.can_load() || op.can_store()) {
        return Err(format!(
            "`{op}` accesses memory outside the generator's set"
        ));
    }
    if memory {
        check_access(func, inst, op)?;
    }
    let args = func.dfg.inst_args(inst);
    for v in func.dfg.inst_values(inst) {
        let v = func.dfg.resolve_aliases(v);
        let Some(producer) = address_producer(func, v) else {
            continue;
        };
        let position = args.iter().position(|a| func.dfg.resolve_aliases(*a) == v);
        let allowed = match position {
            Some(i) if memory => i == table::address_operand(op) && producer == Opcode::StackAddr,
            Some(0) => {
                producer == Opcode::FuncAddr
                    && matches!(op, Opcode::CallIndirect | Opcode::ReturnCallIndirect)
            }
            _ => false,
        };
        if !allowed {
            return Err(format!("`{op}` observes the address made by `{producer}`"));
        }
    }
    Ok(())
}

/// The memory instruction `inst` must address a stack slot, in bounds.
fn check_access(func: &Function, inst: Inst, op: Opcode) -> Result<(), String> {
    let args = func.dfg.inst_args(inst);
    let addr = args
        .get(table::address_operand(op))
        .map(|v| func.dfg.resolve_aliases(*v))
        .ok_or_else(|| format!("`{op}` has no address operand"))?;
    let ValueDef::Result(def, _) = func.dfg.value_def(addr) else {
        return Err(format!("`{op}` addresses a block parameter"));
    };
    let InstructionData::StackAddr {
        stack_slot, offset, ..
    } = func.dfg.insts[def]
    else {
        return Err(format!("`{op}` addresses memory that is not a stack slot"));
    };
    let slot = &func.sized_stack_slots[stack_slot];
    let slot_size = i64::from(slot.size);
    let inst_offset = func.dfg.insts[inst]
        .load_store_offset()
        .map_or(0, i64::from);
    let start = i64::from(offset) + inst_offset;
    let end = start + access_bytes(func, inst, op);
    if start < 0 || end > slot_size {
        return Err(format!(
            "`{op}` accesses bytes {start}..{end} of a {slot_size}-byte stack slot"
        ));
    }
    let atomic = matches!(
        op,
        Opcode::AtomicLoad | Opcode::AtomicStore | Opcode::AtomicRmw | Opcode::AtomicCas
    );
    let flagged = func.dfg.insts[inst]
        .memflags()
        .is_some_and(|f| func.dfg.mem_flags[f].aligned());
    // The address is the slot's base (aligned to 2^align_shift) + start.
    let slot_align = 1i64 << slot.align_shift.min(16);
    let alignment = if start == 0 {
        slot_align
    } else {
        slot_align.min(1i64 << start.trailing_zeros())
    };
    let size = end - start;
    if (atomic || flagged) && size > 0 && alignment < size {
        return Err(format!(
            "`{op}` of {size} bytes at byte {start} of a slot aligned to {slot_align} is not aligned"
        ));
    }
    Ok(())
}

/// Bytes a generator memory instruction reads or writes.
fn access_bytes(func: &Function, inst: Inst, op: Opcode) -> i64 {
    use Opcode::*;
    let bytes = match op {
        Uload8 | Sload8 | Istore8 => 1,
        Uload16 | Sload16 | Istore16 => 2,
        Uload32 | Sload32 | Istore32 => 4,
        Store | AtomicStore => func.dfg.value_type(func.dfg.inst_args(inst)[0]).bytes(),
        AtomicRmw | AtomicCas => func.dfg.ctrl_typevar(inst).bytes(),
        _ => func
            .dfg
            .inst_results(inst)
            .first()
            .map_or(0, |v| func.dfg.value_type(*v).bytes()),
    };
    i64::from(bytes)
}

/// The address instruction that produced `v`, if any.
fn address_producer(func: &Function, v: Value) -> Option<Opcode> {
    let ValueDef::Result(def, _) = func.dfg.value_def(v) else {
        return None;
    };
    let op = func.dfg.insts[def].opcode();
    matches!(
        op,
        Opcode::StackAddr
            | Opcode::DynamicStackAddr
            | Opcode::FuncAddr
            | Opcode::SymbolValue
            | Opcode::TlsValue
    )
    .then_some(op)
}

/// Instructions whose effect depends on (or changes) the host.
fn host_state(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::GetPinnedReg
            | Opcode::SetPinnedReg
            | Opcode::GetFramePointer
            | Opcode::GetStackPointer
            | Opcode::GetReturnAddress
            | Opcode::GetExceptionHandlerAddress
            | Opcode::StackSwitch
            | Opcode::Debugtrap
            | Opcode::TryCall
            | Opcode::TryCallIndirect
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes all of `ss0` first, as the generator does.
    const INIT: &str = "    v9 = stack_addr.i64 ss0\n    store v0, v9\n    store v0, v9+8\n";

    fn verdict(body: &str) -> Result<(), String> {
        let text = format!(
            "function %f(i64) -> i64 fast {{\n    ss0 = explicit_slot 16, align = 8\n\nblock0(v0: i64):\n{INIT}{body}\n}}\n"
        );
        check(&ClifModule::parse(&text).expect("valid CLIF"))
    }

    #[test]
    fn huge_frames_are_refused() {
        let text =
            "function %f() fast {\n    ss0 = explicit_slot 100000\n\nblock0:\n    return\n}\n";
        let module = ClifModule::parse(text).unwrap();
        assert!(check(&module).unwrap_err().contains("100000 bytes"));
    }

    #[test]
    fn slot_accesses_in_bounds_pass() {
        let ok = "    v1 = stack_addr.i64 ss0\n    store v0, v1+8\n    v2 = load.i64 v1+8\n    return v2";
        assert_eq!(verdict(ok), Ok(()));
    }

    #[test]
    fn violations_are_named() {
        let out_of_slot = "    v1 = stack_addr.i64 ss0\n    v2 = load.i64 v1+9\n    return v2";
        assert!(verdict(out_of_slot).unwrap_err().contains("bytes 9..17"));
        let param = "    v1 = load.i64 v0\n    return v1";
        assert!(verdict(param).unwrap_err().contains("block parameter"));
        let wild = "    v1 = iconst.i64 8\n    v2 = load.i64 v1\n    return v2";
        assert!(verdict(wild).unwrap_err().contains("not a stack slot"));
        let observed = "    v1 = stack_addr.i64 ss0\n    return v1";
        assert!(
            verdict(observed)
                .unwrap_err()
                .contains("observes the address")
        );
        let stored = "    v1 = stack_addr.i64 ss0\n    store v1, v1\n    return v0";
        assert!(
            verdict(stored)
                .unwrap_err()
                .contains("observes the address")
        );
        let host = "    v1 = get_stack_pointer.i64\n    return v1";
        assert!(verdict(host).unwrap_err().contains("host state"));
        let misaligned =
            "    v1 = stack_addr.i64 ss0\n    v2 = load.i64 aligned v1+4\n    return v2";
        assert!(verdict(misaligned).unwrap_err().contains("not aligned"));
        let unflagged = "    v1 = stack_addr.i64 ss0\n    v2 = load.i64 v1+4\n    return v2";
        assert_eq!(verdict(unflagged), Ok(()));
    }

    #[test]
    fn slots_must_be_written_before_they_can_be_read() {
        let text = "function %f(i64) -> i64 fast {\n    ss0 = explicit_slot 16, align = 8\n\nblock0(v0: i64):\n    v1 = stack_addr.i64 ss0\n    store v0, v1\n    istore32 v0, v1+8\n    v2 = load.i64 v1+8\n    return v2\n}\n";
        let module = ClifModule::parse(text).unwrap();
        let why = check(&module).unwrap_err();
        assert!(why.contains("byte 12 of ss0"), "{why}");
        let full = text.replace("istore32 v0, v1+8", "store v0, v1+8");
        assert_eq!(check(&ClifModule::parse(&full).unwrap()), Ok(()));
    }
}
