//! The NaN rule of the executors' contract: a NaN payload that CLIF leaves
//! open must never be observed as bits.
//!
//! Arithmetic on floats (`fadd`, `sqrt`, `ceil`, `fpromote`, ...) may
//! return any NaN when it returns a NaN: the interpreter, x86-64 and Pulley
//! legitimately differ there. Results compare NaN-tolerantly, but a NaN
//! that reaches `bitcast`, a store or another bit-exact use would show its
//! payload, and a mutation can make that happen: swapping the `uno` of the
//! generator's canonicalizing `fcmp` for `ord`, as the first long
//! `clif_opt` run did, gave a false alarm. [`check`] replays the
//! generator's own bookkeeping ([`table::nan_rule`]) over any module, and
//! the CLIF judge sets aside a value disagreement on a module it rejects:
//!
//! * a float result of an [`Nan::Arith`] instruction is *dirty*; one of a
//!   [`Nan::Propagate`] or [`Nan::CopySign`] instruction is dirty if a
//!   float operand is; dirt flows through block and call arguments, and
//!   out of callees through their returned values;
//! * the generator's canonicalization idioms make a clean value:
//!   `select (fcmp uno v, v), NaN, v` for scalars and
//!   `bitselect (bitcast (fcmp uno v, v)), (splat NaN), v` for vectors,
//!   with the positive canonical NaN;
//! * a dirty value used by an [`Nan::Exact`] instruction (other than
//!   control flow, calls and `return`, whose results compare
//!   NaN-tolerantly), or as the sign of `fcopysign`, breaks the contract.

use std::collections::HashSet;

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::instructions::CallInfo;
use cranelift_codegen::ir::{Function, Inst, InstructionData, Opcode, Type, Value, ValueDef};
use shoal_generators::clif::table::{self, Nan};
use shoal_runtime::clif::ClifModule;

/// Dirt found so far: per function, dirty values and dirty return slots.
struct Dirt {
    values: Vec<HashSet<Value>>,
    returns: Vec<HashSet<usize>>,
    changed: bool,
}

impl Dirt {
    fn mark(&mut self, func: usize, v: Value) {
        self.changed |= self.values[func].insert(v);
    }

    fn mark_return(&mut self, func: usize, i: usize) {
        self.changed |= self.returns[func].insert(i);
    }

    fn is(&self, func: usize, v: Value) -> bool {
        self.values[func].contains(&v)
    }
}

/// Checks that no NaN payload left open by CLIF is observed (see the module
/// documentation); `Err` names the first offending instruction.
pub fn check(module: &ClifModule) -> Result<(), String> {
    let funcs = module.functions();
    let mut dirt = Dirt {
        values: vec![HashSet::new(); funcs.len()],
        returns: vec![HashSet::new(); funcs.len()],
        changed: true,
    };
    // Dirt only grows and is bounded, so this reaches a fixed point.
    while dirt.changed {
        dirt.changed = false;
        for (i, func) in funcs.iter().enumerate() {
            for block in func.layout.blocks() {
                for inst in func.layout.block_insts(block) {
                    flow(module, i, func, inst, &mut dirt);
                }
            }
        }
    }
    for (i, func) in funcs.iter().enumerate() {
        for block in func.layout.blocks() {
            for inst in func.layout.block_insts(block) {
                observed(func, inst, &dirt.values[i])
                    .map_err(|why| format!("{}: {why}", func.name))?;
            }
        }
    }
    Ok(())
}

fn is_float(ty: Type) -> bool {
    ty.lane_type().is_float()
}

/// Propagates dirt through one instruction.
fn flow(module: &ClifModule, fi: usize, func: &Function, inst: Inst, dirt: &mut Dirt) {
    let dfg = &func.dfg;
    let op = dfg.insts[inst].opcode();
    let args: Vec<Value> = dfg
        .inst_args(inst)
        .iter()
        .map(|v| dfg.resolve_aliases(*v))
        .collect();
    // Block arguments flow into block parameters.
    for call in dfg.insts[inst].branch_destination(&dfg.jump_tables, &dfg.exception_tables) {
        let params = dfg.block_params(call.block(&dfg.value_lists));
        for (p, a) in params.iter().zip(call.args(&dfg.value_lists)) {
            if let Some(a) = a.as_value()
                && dirt.is(fi, dfg.resolve_aliases(a))
            {
                dirt.mark(fi, *p);
            }
        }
    }
    if op == Opcode::Return {
        for (i, a) in args.iter().enumerate() {
            if dirt.is(fi, *a) {
                dirt.mark_return(fi, i);
            }
        }
        return;
    }
    if let Some((callees, call_args)) = callees(module, func, inst) {
        for callee in &callees {
            let entry = module.functions()[*callee].layout.entry_block();
            let params = entry.map(|b| module.functions()[*callee].dfg.block_params(b));
            for (p, a) in params.unwrap_or_default().iter().zip(&call_args) {
                if dirt.is(fi, *a) {
                    dirt.mark(*callee, *p);
                }
            }
            let dirty_returns: Vec<usize> = dirt.returns[*callee].iter().copied().collect();
            for r in dirty_returns {
                if matches!(op, Opcode::ReturnCall | Opcode::ReturnCallIndirect) {
                    dirt.mark_return(fi, r);
                } else if let Some(v) = dfg.inst_results(inst).get(r) {
                    dirt.mark(fi, *v);
                }
            }
        }
        return;
    }
    if canonicalizes(func, inst) {
        return;
    }
    let operand_dirty = match table::nan_rule(op) {
        Nan::Arith => true,
        Nan::Propagate => args.iter().any(|a| dirt.is(fi, *a)),
        Nan::CopySign => args.first().is_some_and(|a| dirt.is(fi, *a)),
        Nan::Exact | Nan::Consume => false,
    };
    if operand_dirty {
        for r in dfg.inst_results(inst) {
            if is_float(dfg.value_type(*r)) {
                dirt.mark(fi, *r);
            }
        }
    }
}

/// The module functions `inst` may call and the arguments it passes
/// (`None` if it is no call). An indirect call may reach any function of
/// the same signature.
fn callees(module: &ClifModule, func: &Function, inst: Inst) -> Option<(Vec<usize>, Vec<Value>)> {
    let dfg = &func.dfg;
    let resolve = |vals: &[Value]| vals.iter().map(|v| dfg.resolve_aliases(*v)).collect();
    match dfg.insts[inst].analyze_call(&dfg.value_lists, &dfg.exception_tables) {
        CallInfo::Direct(fref, args) | CallInfo::DirectWithSig(fref, _, args) => {
            let name = dfg.ext_funcs[fref]
                .name
                .display(Some(&func.params))
                .to_string();
            Some((module.index_of(&name).into_iter().collect(), resolve(args)))
        }
        CallInfo::Indirect(sig, args) => {
            let sig = &dfg.signatures[sig];
            let same: Vec<usize> = module
                .functions()
                .iter()
                .enumerate()
                .filter(|(_, f)| {
                    f.signature.params == sig.params && f.signature.returns == sig.returns
                })
                .map(|(i, _)| i)
                .collect();
            Some((same, resolve(args)))
        }
        CallInfo::NotACall => None,
    }
}

/// Whether `inst` is one of the generator's canonicalization idioms.
fn canonicalizes(func: &Function, inst: Inst) -> bool {
    let dfg = &func.dfg;
    let def = |v: Value| match dfg.value_def(dfg.resolve_aliases(v)) {
        ValueDef::Result(i, 0) => Some(i),
        _ => None,
    };
    // `fcmp uno v, v` of exactly `v`.
    let unordered_self = |c: Value, v: Value| {
        def(c).is_some_and(|i| match dfg.insts[i] {
            InstructionData::FloatCompare { cond, args, .. } => {
                cond == FloatCC::Unordered
                    && dfg.resolve_aliases(args[0]) == v
                    && dfg.resolve_aliases(args[1]) == v
            }
            _ => false,
        })
    };
    let canonical_nan = |k: Value| {
        def(k).is_some_and(|i| match dfg.insts[i] {
            InstructionData::UnaryIeee32 { imm, .. } => imm.bits() == 0x7fc0_0000,
            InstructionData::UnaryIeee64 { imm, .. } => imm.bits() == 0x7ff8_0000_0000_0000,
            _ => false,
        })
    };
    let args: Vec<Value> = dfg
        .inst_args(inst)
        .iter()
        .map(|v| dfg.resolve_aliases(*v))
        .collect();
    match dfg.insts[inst].opcode() {
        Opcode::Select => unordered_self(args[0], args[2]) && canonical_nan(args[1]),
        Opcode::Bitselect => {
            let mask_from_uno = def(args[0]).is_some_and(|i| {
                dfg.insts[i].opcode() == Opcode::Bitcast
                    && unordered_self(dfg.resolve_aliases(dfg.inst_args(i)[0]), args[2])
            });
            let splat_nan = def(args[1]).is_some_and(|i| {
                dfg.insts[i].opcode() == Opcode::Splat && canonical_nan(dfg.inst_args(i)[0])
            });
            mask_from_uno && splat_nan
        }
        _ => false,
    }
}

/// Whether `inst` observes the bits of a dirty value.
fn observed(func: &Function, inst: Inst, dirty: &HashSet<Value>) -> Result<(), String> {
    let dfg = &func.dfg;
    let op = dfg.insts[inst].opcode();
    if op.is_branch() || op.is_call() || op.is_return() || canonicalizes(func, inst) {
        return Ok(());
    }
    let args = dfg.inst_args(inst);
    let bad = match table::nan_rule(op) {
        Nan::Exact => args
            .iter()
            .position(|a| dirty.contains(&dfg.resolve_aliases(*a))),
        Nan::CopySign => args
            .get(1)
            .filter(|a| dirty.contains(&dfg.resolve_aliases(**a)))
            .map(|_| 1),
        Nan::Arith | Nan::Propagate | Nan::Consume => None,
    };
    match bad {
        Some(i) => Err(format!(
            "`{op}` observes the payload of a NaN its operand {i} may hold"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(body: &str) -> Result<(), String> {
        let text = format!("function %f(f32) -> i32 fast {{\nblock0(v0: f32):\n{body}\n}}\n");
        check(&ClifModule::parse(&text).expect("valid CLIF"))
    }

    #[test]
    fn arithmetic_nans_must_be_canonicalized_before_bitcast() {
        let raw = "    v1 = ceil v0\n    v2 = bitcast.i32 v1\n    return v2";
        assert!(verdict(raw).unwrap_err().contains("`bitcast` observes"));
        let canonical = "    v1 = ceil v0\n    v2 = fcmp uno v1, v1\n    v3 = f32const +NaN\n    \
                         v4 = select v2, v3, v1\n    v5 = bitcast.i32 v4\n    return v5";
        assert_eq!(verdict(canonical), Ok(()));
        let mutated = canonical.replace("fcmp uno", "fcmp ord");
        assert!(verdict(&mutated).is_err());
        let input_bits = "    v1 = fneg v0\n    v2 = bitcast.i32 v1\n    return v2";
        assert_eq!(verdict(input_bits), Ok(()));
    }

    #[test]
    fn dirt_flows_through_blocks_and_calls() {
        let text = "function %g(f32) -> f32 fast {\nblock0(v0: f32):\n    v1 = sqrt v0\n    return v1\n}\n\n\
                    function %f(f32) -> i32 fast {\n    sig0 = (f32) -> f32 fast\n    fn0 = colocated %g sig0\n\n\
                    block0(v0: f32):\n    v1 = call fn0(v0)\n    jump block1(v1)\n\n\
                    block1(v2: f32):\n    v3 = bitcast.i32 v2\n    return v3\n}\n";
        let module = ClifModule::parse(text).expect("valid CLIF");
        assert!(check(&module).unwrap_err().contains("%f"));
    }
}
