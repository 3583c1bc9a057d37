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
mod sites;

use std::collections::HashSet;

use cranelift_codegen::ir::Function;
use shoal_generators::ClifCase;
use shoal_runtime::clif::{ClifModule, Invocation};

use super::Oracle;
use edit::Place;
use sites::{
    block_param_sites, block_sites, branch_sites, bypass_sites, constant_sites, drop_return,
    drop_unreachable_functions, edit_function, keep_runs, kill_sites, killable, param_to_constant,
    run_argument_sites, run_count, signature_sites, simplify_constant,
};

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
