//! The structural CLIF reducer: greedy delta passes over a [`ClifCase`],
//! repeated until a whole round changes nothing or the budget runs out.
//!
//! Passes, in order: keep one run line (then drop run lines), drop
//! functions no run line reaches, remove instructions in shrinking chunks
//! (results replaced by zeros), fold branches to one destination, merge
//! blocks into their only predecessor, bypass
//! instructions (a result replaced by a same-typed operand), drop block
//! parameters, turn function parameters into the run line's constants,
//! drop return values, simplify constants and run-line arguments to 0 or 1,
//! and renumber entities. Every candidate must pass the Cranelift verifier
//! and two reducer checks before the oracle sees it: addresses are never
//! rewritten (see [`edit`]), and a store is never removed while its slot
//! is still read (reading uninitialised stack would differ between
//! executions without any miscompilation).

mod edit;
mod normalize;

use std::collections::HashSet;

use cranelift_codegen::data_value::DataValue;
use cranelift_codegen::ir::{Function, Inst, InstructionData, Opcode};
use shoal_generators::ClifCase;
use shoal_generators::testcase::{ClifFunction, Expectation};
use shoal_runtime::clif::{ClifModule, Invocation};

use super::Oracle;
use edit::Place;

/// Reduces `case` while `oracle` finds candidates interesting.
pub fn reduce(case: &ClifCase, oracle: &mut dyn Oracle<ClifCase>) -> ClifCase {
    // Expected results go stale as the case changes: keep the calls only.
    let mut start = case.clone();
    for f in &mut start.functions {
        for run in &mut f.runs {
            run.expect = None;
        }
    }
    let mut r = Reducer {
        cur: start,
        oracle,
        pass: "",
    };
    r.normalize();
    loop {
        let mut changed = false;
        changed |= r.runs();
        changed |= r.unreachable_functions();
        changed |= r.kill_chunks();
        changed |= r.fold_branches();
        changed |= r.merge_blocks();
        changed |= r.bypass();
        changed |= r.block_params();
        changed |= r.params_to_constants();
        changed |= r.drop_returns();
        changed |= r.constants();
        changed |= r.run_arguments();
        r.normalize();
        if !changed || r.oracle.exhausted() {
            return r.cur;
        }
    }
}

/// Number of instructions in a case (the reducer's main size measure).
pub fn instruction_count(case: &ClifCase) -> usize {
    case.functions
        .iter()
        .map(|f| edit::insts(&f.function).len())
        .sum()
}

struct Reducer<'a> {
    cur: ClifCase,
    oracle: &'a mut dyn Oracle<ClifCase>,
    /// The running pass (for the log).
    pass: &'static str,
}

/// An instruction of the case: function index and instruction.
type Site = (usize, Inst);

impl Reducer<'_> {
    /// Adopts `cand` if it is well-formed and still interesting.
    fn attempt(&mut self, cand: ClifCase) -> bool {
        if !well_formed(&cand) || removes_read_store(&self.cur, &cand) {
            log::info!("reduce clif: {} candidate ill-formed", self.pass);
            return false;
        }
        let interesting = self.oracle.interesting(&cand);
        log::info!(
            "reduce clif: {} candidate ({} instructions): {}",
            self.pass,
            instruction_count(&cand),
            if interesting { "kept" } else { "rejected" }
        );
        if interesting {
            self.cur = cand;
        }
        interesting
    }

    /// Tries `apply` on each item of `items` in turn, re-listing after
    /// every success (an accepted edit removes or settles its item).
    fn greedy<T>(
        &mut self,
        items: impl Fn(&ClifCase) -> Vec<T>,
        apply: impl Fn(&ClifCase, &T) -> Option<ClifCase>,
    ) -> bool {
        let mut changed = false;
        let mut i = 0;
        while !self.oracle.exhausted() {
            let list = items(&self.cur);
            let Some(item) = list.get(i) else { break };
            let accepted = match apply(&self.cur, item) {
                Some(c) => self.attempt(c),
                None => false,
            };
            if accepted {
                changed = true;
            } else {
                i += 1;
            }
        }
        changed
    }

    fn runs(&mut self) -> bool {
        self.pass = "runs";
        let total = run_count(&self.cur);
        let mut changed = false;
        if total > 1 {
            for i in 0..total {
                if self.oracle.exhausted() {
                    break;
                }
                if self.attempt(keep_runs(&self.cur, |j| j == i)) {
                    changed = true;
                    break;
                }
            }
        }
        changed |= self.greedy(
            |c| (0..run_count(c)).collect(),
            |c, &i| (run_count(c) > 1).then(|| keep_runs(c, |j| j != i)),
        );
        changed
    }

    fn unreachable_functions(&mut self) -> bool {
        self.pass = "unreachable functions";
        let cand = drop_unreachable_functions(&self.cur);
        cand.functions.len() < self.cur.functions.len() && self.attempt(cand)
    }

    /// Removes instructions in chunks, halving the chunk size down to one;
    /// chunks go from the end backwards (uses die before their definitions).
    fn kill_chunks(&mut self) -> bool {
        self.pass = "kill chunks";
        let mut changed = false;
        let mut chunk = (killable(&self.cur).len() / 2).max(1);
        loop {
            let mut end = killable(&self.cur).len();
            while end > 0 && !self.oracle.exhausted() {
                let start = end.saturating_sub(chunk);
                let list = killable(&self.cur);
                let sites = &list[start.min(list.len())..end.min(list.len())];
                if let Some(c) = kill_sites(&self.cur, sites)
                    && self.attempt(c)
                {
                    changed = true;
                }
                end = start;
            }
            if chunk == 1 || self.oracle.exhausted() {
                return changed;
            }
            chunk /= 2;
        }
    }

    fn fold_branches(&mut self) -> bool {
        self.pass = "fold branches";
        self.greedy(branch_sites, |c, &((f, inst), which)| {
            edit_function(c, f, |func| edit::fold_branch(func, inst, which))
        })
    }

    fn merge_blocks(&mut self) -> bool {
        self.pass = "merge blocks";
        self.greedy(block_sites, |c, &(f, block)| {
            edit_function(c, f, |func| edit::merge_into_predecessor(func, block))
        })
    }

    fn bypass(&mut self) -> bool {
        self.pass = "bypass";
        self.greedy(bypass_sites, |c, &((f, inst), arg)| {
            edit_function(c, f, |func| {
                let result = func.dfg.first_result(inst);
                let operand = func.dfg.inst_args(inst)[arg];
                edit::replace_uses(func, result, operand);
                func.layout.remove_inst(inst);
                true
            })
        })
    }

    fn block_params(&mut self) -> bool {
        self.pass = "block params";
        self.greedy(block_param_sites, |c, &(f, block, index)| {
            edit_function(c, f, |func| edit::drop_block_param(func, block, index))
        })
    }

    fn params_to_constants(&mut self) -> bool {
        self.pass = "params to constants";
        self.greedy(
            |c| signature_sites(c, |f| f.signature.params.len()),
            |c, &(f, p)| param_to_constant(c, f, p),
        )
    }

    fn drop_returns(&mut self) -> bool {
        self.pass = "drop returns";
        self.greedy(
            |c| signature_sites(c, |f| f.signature.returns.len()),
            |c, &(f, r)| drop_return(c, f, r),
        )
    }

    fn constants(&mut self) -> bool {
        self.pass = "constants";
        self.greedy(constant_sites, |c, &((f, inst), one)| {
            edit_function(c, f, |func| simplify_constant(func, inst, one))
        })
    }

    fn run_arguments(&mut self) -> bool {
        self.pass = "run arguments";
        self.greedy(run_argument_sites, |c, &(f, run, arg, one)| {
            let old = &c.functions[f].runs[run].args[arg];
            let new = edit::small_value(old, one);
            let zero = edit::small_value(old, false);
            if old.bitwise_eq(&new) || (one && old.bitwise_eq(&zero)) {
                return None;
            }
            let mut cand = c.clone();
            cand.functions[f].runs[run].args[arg] = new;
            Some(cand)
        })
    }

    /// Renumbers entities and drops unused declarations (kept only if the
    /// result still parses and stays interesting).
    fn normalize(&mut self) {
        let Some(cand) = normalized(&self.cur) else {
            return;
        };
        if cand.to_text() != self.cur.to_text()
            && well_formed(&cand)
            && self.oracle.interesting(&cand)
        {
            self.cur = cand;
        }
    }
}

/// Verifier, callees and run lines: what the judge would reject as invalid.
fn well_formed(case: &ClifCase) -> bool {
    let funcs: Vec<Function> = case.functions.iter().map(|f| f.function.clone()).collect();
    let Ok(module) = ClifModule::new(funcs) else {
        return false;
    };
    let mut any = false;
    for f in &case.functions {
        for run in &f.runs {
            any = true;
            let inv = Invocation {
                func: format!("%{}", run.func),
                args: run.args.clone(),
            };
            if module.check_invocation(&inv).is_err() {
                return false;
            }
        }
    }
    any
}

/// Whether `cand` lost a store of `prev` to a place it still reads.
fn removes_read_store(prev: &ClifCase, cand: &ClifCase) -> bool {
    for (p, c) in prev.functions.iter().zip(&cand.functions) {
        if p.function.name != c.function.name {
            continue;
        }
        let (pf, cf) = (&p.function, &c.function);
        let reads: HashSet<Place> = edit::insts(cf)
            .into_iter()
            .filter_map(|i| edit::accesses(cf, i).0)
            .collect();
        if reads.is_empty() {
            continue;
        }
        for inst in edit::insts(pf) {
            let Some(place) = edit::accesses(pf, inst).1 else {
                continue;
            };
            let still_there = cf.layout.inst_block(inst).is_some();
            let read = reads.contains(&Place::Unknown)
                || place == Place::Unknown
                || reads.contains(&place);
            if !still_there && read {
                return true;
            }
        }
    }
    false
}

fn run_count(case: &ClifCase) -> usize {
    case.functions.iter().map(|f| f.runs.len()).sum()
}

/// The case with only the run lines whose global index passes `keep`.
fn keep_runs(case: &ClifCase, keep: impl Fn(usize) -> bool) -> ClifCase {
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
fn drop_unreachable_functions(case: &ClifCase) -> ClifCase {
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
fn edit_function(
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
fn taint(case: &ClifCase) -> Vec<HashSet<cranelift_codegen::ir::Value>> {
    let mut params: std::collections::HashMap<String, Vec<bool>> = Default::default();
    loop {
        let sets: Vec<_> = case
            .functions
            .iter()
            .map(|f| edit::address_tainted(&f.function, &|name| params.get(name).cloned()))
            .collect();
        let next: std::collections::HashMap<String, Vec<bool>> = case
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
fn killable(case: &ClifCase) -> Vec<Site> {
    let taint = taint(case);
    let mut out = Vec::new();
    for (f, cf) in case.functions.iter().enumerate() {
        let func = &cf.function;
        for inst in edit::insts(func) {
            let op = func.dfg.insts[inst].opcode();
            let results = func.dfg.inst_results(inst);
            if op.is_terminator()
                || edit::is_constant(op)
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
fn kill_sites(case: &ClifCase, sites: &[Site]) -> Option<ClifCase> {
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

fn branch_sites(case: &ClifCase) -> Vec<(Site, usize)> {
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

fn block_sites(case: &ClifCase) -> Vec<(usize, cranelift_codegen::ir::Block)> {
    let mut out = Vec::new();
    for (f, cf) in case.functions.iter().enumerate() {
        out.extend(cf.function.layout.blocks().skip(1).map(|b| (f, b)));
    }
    out
}

fn bypass_sites(case: &ClifCase) -> Vec<(Site, usize)> {
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

fn block_param_sites(case: &ClifCase) -> Vec<(usize, cranelift_codegen::ir::Block, usize)> {
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
fn signature_sites(case: &ClifCase, count: impl Fn(&Function) -> usize) -> Vec<(usize, usize)> {
    (0..case.functions.len())
        .filter(|&f| !is_referenced(case, f))
        .flat_map(|f| (0..count(&case.functions[f].function)).map(move |i| (f, i)))
        .collect()
}

/// Replaces parameter `p` of function `f` by the constant its first run
/// line passes, and drops that argument from every run line.
fn param_to_constant(case: &ClifCase, f: usize, p: usize) -> Option<ClifCase> {
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
fn drop_return(case: &ClifCase, f: usize, r: usize) -> Option<ClifCase> {
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
fn constant_sites(case: &ClifCase) -> Vec<(Site, bool)> {
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
fn simplify_constant(func: &mut Function, inst: Inst, one: bool) -> bool {
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

fn run_argument_sites(case: &ClifCase) -> Vec<(usize, usize, usize, bool)> {
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

/// The case with every function normalized (see [`normalize`]).
fn normalized(case: &ClifCase) -> Option<ClifCase> {
    let mut text = String::new();
    for line in &case.header {
        text.push_str(line);
        text.push('\n');
    }
    for f in &case.functions {
        let mut func = f.function.clone();
        func.dfg.resolve_all_aliases();
        text.push('\n');
        text.push_str(&normalize::function_text(&func.display().to_string()));
        for run in &f.runs {
            text.push_str(&run.to_line());
            text.push('\n');
        }
    }
    ClifCase::from_text(&text).ok()
}
