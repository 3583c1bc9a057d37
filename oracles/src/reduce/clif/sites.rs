//! The reducer's candidate edits on a whole case: where each pass can act
//! (its *sites*, listed afresh on the current case) and the edit at one
//! site, applied to a copy. Edits never rewrite address-tainted values
//! (see [`edit::address_tainted`]); the caller checks well-formedness.

use std::collections::{HashMap, HashSet};

use cranelift_codegen::data_value::DataValue;
use cranelift_codegen::ir::{Block, Function, Inst, InstructionData, Opcode, Value};
use shoal_generators::ClifCase;
use shoal_generators::testcase::{ClifFunction, Expectation};

use super::edit::{self, Place};

/// An instruction of the case: function index and instruction.
pub type Site = (usize, Inst);

pub fn run_count(case: &ClifCase) -> usize {
    case.functions.iter().map(|f| f.runs.len()).sum()
}

/// The case with only the run lines whose global index passes `keep`.
pub fn keep_runs(case: &ClifCase, keep: impl Fn(usize) -> bool) -> ClifCase {
    let mut cand = case.clone();
    let mut index = 0;
    for f in &mut cand.functions {
        f.runs.retain(|_| {
            index += 1;
            keep(index - 1)
        });
    }
    cand
}

fn callee_names(func: &Function) -> Vec<String> {
    func.dfg
        .ext_funcs
        .values()
        .map(|ext| ext.name.display(Some(&func.params)).to_string())
        .collect()
}

fn name_of(f: &ClifFunction) -> String {
    f.function.name.to_string()
}

/// Keeps the functions reachable (through calls and `func_addr`) from a
/// function with run lines.
pub fn drop_unreachable_functions(case: &ClifCase) -> ClifCase {
    let names: Vec<String> = case.functions.iter().map(name_of).collect();
    let mut keep: Vec<bool> = case.functions.iter().map(|f| !f.runs.is_empty()).collect();
    let mut work: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
    while let Some(i) = work.pop() {
        for callee in callee_names(&case.functions[i].function) {
            if let Some(j) = names.iter().position(|n| *n == callee)
                && !keep[j]
            {
                keep[j] = true;
                work.push(j);
            }
        }
    }
    let mut cand = case.clone();
    let mut it = keep.into_iter();
    cand.functions.retain(|_| it.next().unwrap_or(true));
    cand
}

/// Whether another function refers to function `f` (then its signature
/// must stay as it is).
fn is_referenced(case: &ClifCase, f: usize) -> bool {
    let name = name_of(&case.functions[f]);
    case.functions
        .iter()
        .enumerate()
        .any(|(i, g)| i != f && callee_names(&g.function).contains(&name))
}

/// Applies `edit` to a copy of function `f` (then removes dead code);
/// `None` if the edit did not apply.
pub fn edit_function(
    case: &ClifCase,
    f: usize,
    edit: impl FnOnce(&mut Function) -> bool,
) -> Option<ClifCase> {
    let mut cand = case.clone();
    let func = &mut cand.functions[f].function;
    if !edit(func) {
        return None;
    }
    edit::remove_dead(func);
    Some(cand)
}

/// Address-tainted values of every function, with taint flowing from a
/// callee's parameters to its callers' arguments.
fn taint(case: &ClifCase) -> Vec<HashSet<Value>> {
    let mut params: HashMap<String, Vec<bool>> = Default::default();
    loop {
        let sets: Vec<_> = case
            .functions
            .iter()
            .map(|f| edit::address_tainted(&f.function, &|name| params.get(name).cloned()))
            .collect();
        let next: HashMap<String, Vec<bool>> = case
            .functions
            .iter()
            .zip(&sets)
            .map(|(f, set)| {
                let func = &f.function;
                let entry = func.layout.entry_block();
                let mask = entry
                    .map(|b| {
                        func.dfg
                            .block_params(b)
                            .iter()
                            .map(|p| set.contains(p))
                            .collect()
                    })
                    .unwrap_or_default();
                (name_of(f), mask)
            })
            .collect();
        if next == params {
            return sets;
        }
        params = next;
    }
}

/// Instructions the chunk pass may remove, in case order.
pub fn killable(case: &ClifCase) -> Vec<Site> {
    let taint = taint(case);
    let mut out = Vec::new();
    for (f, cf) in case.functions.iter().enumerate() {
        let func = &cf.function;
        let constant = edit::constant_like(func);
        for inst in edit::insts(func) {
            let op = func.dfg.insts[inst].opcode();
            let results = func.dfg.inst_results(inst);
            if op.is_terminator()
                || constant.contains(&inst)
                || results.iter().any(|r| taint[f].contains(r))
            {
                continue;
            }
            out.push((f, inst));
        }
    }
    out
}

/// Removes the instructions of `sites`, last first; `None` if none could be.
/// Stores go last, and only those to places nothing reads any more (see
/// [`removes_read_store`]).
pub fn kill_sites(case: &ClifCase, sites: &[Site]) -> Option<ClifCase> {
    let mut cand = case.clone();
    let mut touched = HashSet::new();
    let writes = |func: &Function, inst: Inst| edit::accesses(func, inst).1;
    let mut stores = Vec::new();
    for &(f, inst) in sites.iter().rev() {
        let func = &mut cand.functions[f].function;
        if writes(func, inst).is_some() {
            stores.push((f, inst));
        } else if func.layout.inst_block(inst).is_some() && edit::kill(func, inst) {
            touched.insert(f);
        }
    }
    for &f in &touched {
        edit::remove_dead(&mut cand.functions[f].function);
    }
    for (f, inst) in stores {
        let func = &mut cand.functions[f].function;
        let reads: HashSet<Place> = edit::insts(func)
            .into_iter()
            .filter(|&i| i != inst)
            .filter_map(|i| edit::accesses(func, i).0)
            .collect();
        let Some(place) = writes(func, inst) else {
            continue;
        };
        let read = reads.contains(&Place::Unknown)
            || (place == Place::Unknown && !reads.is_empty())
            || reads.contains(&place);
        if !read && func.layout.inst_block(inst).is_some() && edit::kill(func, inst) {
            touched.insert(f);
            edit::remove_dead(func);
        }
    }
    (!touched.is_empty()).then_some(cand)
}

pub fn branch_sites(case: &ClifCase) -> Vec<(Site, usize)> {
    let mut out = Vec::new();
    for (f, cf) in case.functions.iter().enumerate() {
        let func = &cf.function;
        for inst in edit::insts(func) {
            let n = match func.dfg.insts[inst] {
                InstructionData::Brif { .. } => 2,
                InstructionData::BranchTable { table, .. } => {
                    func.dfg.jump_tables[table].all_branches().len()
                }
                _ => 0,
            };
            out.extend((0..n).map(|w| ((f, inst), w)));
        }
    }
    out
}

pub fn block_sites(case: &ClifCase) -> Vec<(usize, Block)> {
    let mut out = Vec::new();
    for (f, cf) in case.functions.iter().enumerate() {
        out.extend(cf.function.layout.blocks().skip(1).map(|b| (f, b)));
    }
    out
}

pub fn bypass_sites(case: &ClifCase) -> Vec<(Site, usize)> {
    let taint = taint(case);
    let mut out = Vec::new();
    for (f, cf) in case.functions.iter().enumerate() {
        let func = &cf.function;
        for inst in edit::insts(func) {
            let op = func.dfg.insts[inst].opcode();
            let results = func.dfg.inst_results(inst);
            if results.len() != 1 || op.is_terminator() || taint[f].contains(&results[0]) {
                continue;
            }
            let ty = func.dfg.value_type(results[0]);
            for (k, a) in func.dfg.inst_args(inst).iter().enumerate() {
                if func.dfg.value_type(*a) == ty {
                    out.push(((f, inst), k));
                }
            }
        }
    }
    out
}

pub fn block_param_sites(case: &ClifCase) -> Vec<(usize, Block, usize)> {
    let taint = taint(case);
    let mut out = Vec::new();
    for (f, cf) in case.functions.iter().enumerate() {
        let func = &cf.function;
        for block in func.layout.blocks().skip(1) {
            for (i, p) in func.dfg.block_params(block).iter().enumerate() {
                if !taint[f].contains(p) {
                    out.push((f, block, i));
                }
            }
        }
    }
    out
}

/// `(function, index)` for every parameter or return value (`count`) of
/// functions no other function refers to.
pub fn signature_sites(case: &ClifCase, count: impl Fn(&Function) -> usize) -> Vec<(usize, usize)> {
    (0..case.functions.len())
        .filter(|&f| !is_referenced(case, f))
        .flat_map(|f| (0..count(&case.functions[f].function)).map(move |i| (f, i)))
        .collect()
}

/// Replaces parameter `p` of function `f` by the constant its first run
/// line passes, and drops that argument from every run line.
pub fn param_to_constant(case: &ClifCase, f: usize, p: usize) -> Option<ClifCase> {
    let value: DataValue = case.functions[f].runs.first()?.args.get(p)?.clone();
    let tainted = taint(case);
    let mut cand = case.clone();
    let cf = &mut cand.functions[f];
    let func = &mut cf.function;
    let entry = func.layout.entry_block()?;
    let param = *func.dfg.block_params(entry).get(p)?;
    if tainted[f].contains(&param) {
        return None;
    }
    let first = func.layout.first_inst(entry)?;
    let ty = func.dfg.value_type(param);
    let c = edit::insert_const(func, first, ty, &value)?;
    edit::replace_uses(func, param, c);
    func.dfg.remove_block_param(param);
    func.signature.params.remove(p);
    for run in &mut cf.runs {
        if p < run.args.len() {
            run.args.remove(p);
        }
    }
    Some(cand)
}

/// Drops return value `r` of function `f` (from the signature, every
/// `return` and the run lines' expectations).
pub fn drop_return(case: &ClifCase, f: usize, r: usize) -> Option<ClifCase> {
    let mut cand = case.clone();
    let cf = &mut cand.functions[f];
    let func = &mut cf.function;
    for inst in edit::insts(func) {
        if func.dfg.insts[inst].opcode() != Opcode::Return {
            continue;
        }
        let mut args = func.dfg.inst_args(inst).to_vec();
        if r >= args.len() {
            return None;
        }
        args.remove(r);
        cranelift_codegen::ir::InstBuilder::return_(func.replace(inst), &args);
    }
    func.signature.returns.remove(r);
    for run in &mut cf.runs {
        let values = match &mut run.expect {
            Some(Expectation::Equals(v)) | Some(Expectation::NotEquals(v)) => v,
            None => continue,
        };
        if r < values.len() {
            values.remove(r);
        }
        if values.is_empty() {
            run.expect = None;
        }
    }
    edit::remove_dead(func);
    Some(cand)
}

/// Constants that could become 0 (`false`) or 1 (`true`).
pub fn constant_sites(case: &ClifCase) -> Vec<(Site, bool)> {
    let taint = taint(case);
    let mut out = Vec::new();
    for (f, cf) in case.functions.iter().enumerate() {
        let func = &cf.function;
        for inst in edit::insts(func) {
            let op = func.dfg.insts[inst].opcode();
            if edit::is_constant(op) && !taint[f].contains(&func.dfg.first_result(inst)) {
                out.push(((f, inst), false));
                out.push(((f, inst), true));
            }
        }
    }
    out
}

/// The bits of a constant instruction, little-endian.
fn constant_bytes(func: &Function, inst: Inst) -> Option<Vec<u8>> {
    Some(match func.dfg.insts[inst] {
        InstructionData::UnaryImm { imm, .. } => imm.bits().to_le_bytes().to_vec(),
        InstructionData::UnaryIeee16 { imm, .. } => imm.bits().to_le_bytes().to_vec(),
        InstructionData::UnaryIeee32 { imm, .. } => imm.bits().to_le_bytes().to_vec(),
        InstructionData::UnaryIeee64 { imm, .. } => imm.bits().to_le_bytes().to_vec(),
        InstructionData::UnaryConst {
            constant_handle, ..
        } => func.dfg.constants.get(constant_handle).as_slice().to_vec(),
        _ => return None,
    })
}

/// Replaces constant `inst` by 0 (or 1), unless it already is that (or,
/// for 1, already 0).
pub fn simplify_constant(func: &mut Function, inst: Inst, one: bool) -> bool {
    let Some(bytes) = constant_bytes(func, inst) else {
        return false;
    };
    let result = func.dfg.first_result(inst);
    let ty = func.dfg.value_type(result);
    let current = DataValue::read_from_slice_le(&padded(&bytes, ty.bytes() as usize), ty);
    let zero = edit::small_value(&current, false);
    let target = edit::small_value(&current, one);
    if current.bitwise_eq(&target) || (one && current.bitwise_eq(&zero)) {
        return false;
    }
    let Some(c) = edit::insert_const(func, inst, ty, &target) else {
        return false;
    };
    edit::replace_uses(func, result, c);
    func.layout.remove_inst(inst);
    true
}

fn padded(bytes: &[u8], len: usize) -> Vec<u8> {
    let mut v = bytes.to_vec();
    v.resize(len, 0);
    v
}

pub fn run_argument_sites(case: &ClifCase) -> Vec<(usize, usize, usize, bool)> {
    let mut out = Vec::new();
    for (f, cf) in case.functions.iter().enumerate() {
        for (r, run) in cf.runs.iter().enumerate() {
            for a in 0..run.args.len() {
                out.push((f, r, a, false));
                out.push((f, r, a, true));
            }
        }
    }
    out
}
