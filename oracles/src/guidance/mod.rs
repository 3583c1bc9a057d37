//! Rule-coverage guidance: live per-rule hit counts steer generation
//! towards the ISLE rules that have not fired yet.
//!
//! The [`Guide`] is shared by every worker of a campaign. It knows each
//! rule of the units the executions compile ([`catalog`]: rules, and the
//! corpus seeds the harvest verified to fire them), the rules' patterns
//! (extracted live from Cranelift's ISLE sources, handed over with
//! [`Guide::set_patterns`] when ready), and per-rule statistics
//! ([`schedule`]). For each guided case it picks a rule by rarity —
//! unfired rules first, then by low hit count — and makes a case aimed at
//! it ([`make`]): the rule's own seed first, later mutated seeds and fresh
//! instantiations of its patterns with new types and constants. The hits
//! every case produced flow back ([`Guide::feedback`], and
//! [`Guide::refresh`] from the campaign-wide counts, which include the
//! other generators' cases).
//!
//! Without guidance ([`Guide::blind`]) rules are picked uniformly and
//! coverage is ignored: the same seeds and patterns, no feedback — the
//! comparison that shows what the feedback buys.
//!
//! Determinism: a case depends on its seed and on the coverage so far, so
//! a one-worker campaign repeats itself; with several workers the order in
//! which feedback arrives varies.

pub mod catalog;
pub mod make;
pub mod schedule;

use std::sync::{Mutex, OnceLock, PoisonError};

use cranelift_codegen::ir::{Opcode, Type, types};
use shoal_generators::TestCase;
use shoal_generators::clif::table::{self, ClifOp};
use shoal_generators::pattern::{NodeKind, Pattern};
use shoal_generators::rng::{Rng, seed_bytes};
use shoal_generators::rule_guided::{Prepared, Typing};
use shoal_runtime::coverage::RuleHits;

pub use catalog::{Catalog, CorpusSummary, GUIDED_UNITS, Rule, Seed};
pub use make::Recipe;
pub use schedule::{RuleStats, Schedule};

/// Patterns kept per rule (its own, then grafted ones).
pub const MAX_PATTERNS_PER_RULE: usize = 4;

/// Type assignments solved per pattern.
const MAX_TYPINGS: usize = 12;

/// Whether the campaign's executors can compile values of type `ty` (or
/// it stands for "no value"): scalars up to `i128`, `f32`, `f64` and
/// 128-bit vectors of those. Narrow vectors (`i8x8`, `f32x2`, ...) and
/// half or quad precision are out: x86-64 and Pulley do not lower them,
/// so instances with them would only find the documented gaps.
fn supported(ty: Type) -> bool {
    use cranelift_codegen::ir::types::*;
    matches!(
        ty,
        INVALID
            | I8
            | I16
            | I32
            | I64
            | I128
            | F32
            | F64
            | I8X16
            | I16X8
            | I32X4
            | I64X2
            | F32X4
            | F64X2
    )
}

/// Whether a type assignment only uses [`supported`] types, x86-only
/// opcodes (`x86_pshufb`, `x86_cvtt2dq`, ...) only on 128-bit vectors
/// (the verifier accepts scalars there, the backend does not), and no
/// operation at a signature the CLIF generator's table documents as
/// beyond x86-64 or the interpreter (or, for Pulley rules, Pulley):
/// vector rotates, `i128` min/max and atomics, narrowing `i64x2`, 32-bit
/// addresses, ... ([`shoal_generators::clif::table::unsupported`]).
fn typing_ok(p: &Pattern, t: &Typing, pulley: bool) -> bool {
    if !t.value.iter().chain(&t.ctrl).all(|ty| supported(*ty)) {
        return false;
    }
    p.nodes.iter().enumerate().all(|(n, node)| {
        let NodeKind::Inst { opcode, args, .. } = &node.kind else {
            return true;
        };
        let ty = |m: usize| t.value[m];
        if opcode.to_string().starts_with("x86_") {
            return std::iter::once(n)
                .chain(args.iter().copied())
                .all(|m| ty(m) == types::INVALID || (ty(m).is_vector() && ty(m).bits() == 128));
        }
        if let Some(&addr) = address_operand(*opcode).and_then(|i| args.get(i))
            && ty(addr) != types::I64
        {
            return false;
        }
        let c = opcode.constraints();
        let rets: Vec<Type> = (ty(n) != types::INVALID)
            .then_some(ty(n))
            .into_iter()
            .collect();
        if args.len() != c.num_fixed_value_arguments() || rets.len() < c.num_fixed_results().min(1)
        {
            return true;
        }
        let op = ClifOp {
            opcode: *opcode,
            ctrl: t.ctrl[n],
            args: args.iter().map(|&a| ty(a)).collect(),
            rets,
            weight: 1,
            pulley: true,
        };
        table::unsupported(&op).is_none() && !(pulley && table::pulley_unsupported(&op).is_some())
    })
}

/// The address operand of a memory-accessing opcode (addresses must be
/// 64-bit: both executing targets are 64-bit).
fn address_operand(opcode: Opcode) -> Option<usize> {
    use cranelift_codegen::ir::instructions::InstructionFormat as F;
    if !(opcode.can_load() || opcode.can_store()) {
        return None;
    }
    match opcode.format() {
        F::Load | F::LoadNoOffset | F::AtomicRmw | F::AtomicCas => Some(0),
        F::Store | F::StoreNoOffset => Some(1),
        _ => None,
    }
}

/// Whether a pattern is worth instantiating for native execution: no
/// instruction that needs a calling convention or runtime shoal's
/// executors do not provide (stack switching).
fn executable(p: &Pattern) -> bool {
    !p.opcodes().contains(&Opcode::StackSwitch)
}

/// What a guided case was aimed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Index of the rule in the catalog.
    pub rule: usize,
    /// How the case was made.
    pub recipe: Recipe,
}

/// Counters for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuideSummary {
    /// Rules in the catalog.
    pub rules: usize,
    /// Rules with a seed or a pattern.
    pub candidates: usize,
    /// Candidates that have not fired.
    pub unfired: usize,
    /// Guided cases made.
    pub cases: u64,
    /// Guided cases that fired the rule they aimed at.
    pub on_target: u64,
    /// Whether coverage steered the choices.
    pub guided: bool,
}

/// Shared guidance state (see the module docs).
pub struct Guide {
    catalog: Catalog,
    schedule: Mutex<Schedule>,
    patterns: OnceLock<Vec<Vec<Prepared>>>,
    /// Seeds that turned out unusable (e.g. a call to a function the file
    /// does not define), by index into the catalog's seeds.
    rejected: Mutex<Vec<bool>>,
}

impl Guide {
    /// A guide over `catalog` steered by coverage.
    pub fn new(catalog: Catalog) -> Guide {
        let (candidate, share) = Self::shape(&catalog);
        Guide {
            schedule: Mutex::new(Schedule::new(&candidate, &share)),
            rejected: Mutex::new(vec![false; catalog.seeds().len()]),
            catalog,
            patterns: OnceLock::new(),
        }
    }

    /// A guide over `catalog` that ignores coverage (`--no-guidance`).
    pub fn blind(catalog: Catalog) -> Guide {
        let (candidate, share) = Self::shape(&catalog);
        Guide {
            schedule: Mutex::new(Schedule::blind(&candidate, &share)),
            rejected: Mutex::new(vec![false; catalog.seeds().len()]),
            catalog,
            patterns: OnceLock::new(),
        }
    }

    fn shape(catalog: &Catalog) -> (Vec<bool>, Vec<u32>) {
        let rules = catalog.rules();
        (
            rules.iter().map(|r| !r.seeds.is_empty()).collect(),
            rules.iter().map(|r| GUIDED_UNITS[r.unit].1).collect(),
        )
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn schedule(&self) -> std::sync::MutexGuard<'_, Schedule> {
        // Every update leaves the schedule consistent.
        self.schedule.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands over the rules' patterns (`(unit, rule id, patterns)`; rules
    /// not in the catalog are ignored, at most [`MAX_PATTERNS_PER_RULE`]
    /// per rule are kept). Only the first call has an effect. Returns the
    /// number of rules that got an instantiable pattern.
    pub fn set_patterns<U: AsRef<str>, R: AsRef<str>>(
        &self,
        patterns: impl IntoIterator<Item = (U, R, Vec<Pattern>)>,
    ) -> usize {
        let mut table: Vec<Vec<Prepared>> = vec![Vec::new(); self.catalog.rules().len()];
        for (unit, id, pats) in patterns {
            let Some(i) = self.catalog.rule_index(unit.as_ref(), id.as_ref()) else {
                continue;
            };
            for p in pats {
                if table[i].len() >= MAX_PATTERNS_PER_RULE {
                    break;
                }
                if !executable(&p) {
                    continue;
                }
                let pulley = self.catalog.rules()[i].unit_name() == "pulley";
                let mut prepared = Prepared::new(&p, MAX_TYPINGS);
                prepared.retain_typings(|t| typing_ok(&p, t, pulley));
                if !prepared.typings.is_empty() {
                    table[i].push(prepared);
                }
            }
        }
        let candidate: Vec<bool> = table.iter().map(|p| !p.is_empty()).collect();
        let with = candidate.iter().filter(|c| **c).count();
        if self.patterns.set(table).is_ok() {
            self.schedule().add_candidates(&candidate);
        }
        with
    }

    fn patterns_of(&self, rule: usize) -> &[Prepared] {
        self.patterns
            .get()
            .and_then(|t| t.get(rule))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The next guided case for `seed`, with what it aims at (`None` if no
    /// rule can be instantiated yet).
    pub fn next(&self, seed: u64) -> Option<(Plan, TestCase)> {
        let bytes = seed_bytes(seed, 4096);
        let mut r = Rng::new(&bytes);
        for _ in 0..4 {
            let (rule, stats) = {
                let schedule = self.schedule();
                let rule = schedule.pick(&mut r)?;
                (rule, schedule.stats(rule))
            };
            let spec = &self.catalog.rules()[rule];
            let patterns = self.patterns_of(rule);
            let rejected = self
                .rejected
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let usable = |s: usize| !rejected.get(s).copied().unwrap_or(true);
            for recipe in make::recipes(spec, stats, patterns.len(), usable, &mut r) {
                if let Some(case) = make::build(recipe, spec, &self.catalog, patterns, &mut r) {
                    return Some((Plan { rule, recipe }, case));
                }
            }
            // Nothing could be made for this rule: count the try so the
            // schedule moves on.
            self.schedule().record_try(rule, false);
        }
        None
    }

    /// Feeds back the hits a guided case produced; `usable` is false when
    /// the case turned out invalid (its seed is not used again).
    pub fn feedback(&self, plan: &Plan, hits: &RuleHits, usable: bool) {
        if !usable && let Recipe::Replay(s) | Recipe::Mutate(s) = plan.recipe {
            let mut rejected = self.rejected.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(r) = rejected.get_mut(s) {
                *r = true;
            }
        }
        let target = &self.catalog.rules()[plan.rule];
        let mut schedule = self.schedule();
        let mut fired = false;
        for (u, (unit, _)) in GUIDED_UNITS.iter().enumerate() {
            for (id, n) in hits.in_unit(unit) {
                let id = id.to_string();
                if u == target.unit && id == target.id {
                    fired = true;
                }
                if let Some(i) = self.catalog.rule_index(unit, &id) {
                    schedule.add_hits(i, n);
                }
            }
        }
        schedule.record_try(plan.rule, fired);
    }

    /// Takes the campaign-wide hit counts (every generator's cases).
    pub fn refresh(&self, hits: &RuleHits) {
        let mut updates = Vec::new();
        for (unit, _) in GUIDED_UNITS {
            for (id, n) in hits.in_unit(unit) {
                if let Some(i) = self.catalog.rule_index(unit, &id.to_string()) {
                    updates.push((i, n));
                }
            }
        }
        let mut schedule = self.schedule();
        for (i, n) in updates {
            schedule.set_hits(i, n);
        }
    }

    /// Counters for the summary.
    pub fn summary(&self) -> GuideSummary {
        let schedule = self.schedule();
        let n = self.catalog.rules().len();
        let (mut cases, mut on_target) = (0, 0);
        for i in 0..n {
            let s = schedule.stats(i);
            cases += u64::from(s.tries);
            on_target += u64::from(s.fired);
        }
        GuideSummary {
            rules: n,
            candidates: schedule.candidates(),
            unfired: schedule.unfired(),
            cases,
            on_target,
            guided: schedule.is_guided(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoal_generators::pattern::TypeSet;
    use shoal_runtime::coverage::RuleId;

    fn rule(file: &str, line: u32) -> RuleId {
        RuleId {
            file: file.into(),
            line,
        }
    }

    fn bnot() -> Pattern {
        let mut p = Pattern::new();
        let x = p.add_any(TypeSet::of(types::I32));
        p.root = p.add_inst(Opcode::Bnot, TypeSet::of(types::I32), vec![x], vec![]);
        p
    }

    #[test]
    fn patterns_make_rules_candidates_and_feedback_counts() {
        let mut c = Catalog::new();
        c.add_rule("x64", "src/isa/x64/lower.isle:5");
        c.add_rule("opt", "src/opts/bitops.isle:7");
        let g = Guide::new(c);
        assert!(g.next(0).is_none(), "nothing to instantiate yet");
        let n = g.set_patterns([
            ("x64", "src/isa/x64/lower.isle:5", vec![bnot()]),
            ("x64", "src/isa/x64/nope.isle:1", vec![bnot()]),
        ]);
        assert_eq!(n, 1);
        let (plan, case) = g.next(3).unwrap();
        assert_eq!(plan.rule, 0);
        assert!(
            String::from_utf8_lossy(&case.to_bytes()).contains("bnot")
                || matches!(case, TestCase::Wasm(_))
        );
        let mut hits = RuleHits::new();
        hits.record_in("x64", rule("src/isa/x64/lower.isle", 5), 2);
        hits.record_in("opt", rule("src/opts/bitops.isle", 7), 1);
        g.feedback(&plan, &hits, true);
        let s = g.summary();
        assert_eq!(
            (s.rules, s.candidates, s.unfired, s.cases, s.on_target),
            (2, 1, 0, 1, 1)
        );
        // Campaign-wide counts never lower what feedback added.
        g.refresh(&RuleHits::new());
        assert_eq!(g.summary().unfired, 0);
    }

    #[test]
    fn patterns_keep_only_supported_types() {
        let mut c = Catalog::new();
        c.add_rule("x64", "src/isa/x64/lower.isle:5");
        c.add_rule("x64", "src/isa/x64/lower.isle:6");
        let g = Guide::new(c);
        let mut narrow = Pattern::new();
        let x = narrow.add_any(TypeSet::of(types::I8X8));
        narrow.root = narrow.add_inst(Opcode::Iadd, TypeSet::of(types::I8X8), vec![x, x], vec![]);
        let mut any = Pattern::new();
        let y = any.add_any(TypeSet::ALL);
        any.root = any.add_inst(Opcode::Bnot, TypeSet::ALL, vec![y], vec![]);
        let n = g.set_patterns([
            ("x64", "src/isa/x64/lower.isle:5", vec![narrow]),
            ("x64", "src/isa/x64/lower.isle:6", vec![any]),
        ]);
        assert_eq!(n, 1);
        for t in &g.patterns_of(1)[0].typings {
            assert!(t.value.iter().all(|ty| supported(*ty)), "{t:?}");
        }
        // x64 has no vector rotates: only scalar instances are kept.
        let mut c = Catalog::new();
        c.add_rule("x64", "src/isa/x64/lower.isle:7");
        let g = Guide::new(c);
        let mut rot = Pattern::new();
        let (a, b) = (rot.add_any(TypeSet::ALL), rot.add_any(TypeSet::ALL));
        rot.root = rot.add_inst(Opcode::Rotl, TypeSet::ALL, vec![a, b], vec![]);
        assert_eq!(
            g.set_patterns([("x64", "src/isa/x64/lower.isle:7", vec![rot])]),
            1
        );
        for t in &g.patterns_of(0)[0].typings {
            assert!(!t.ctrl.iter().any(|ty| ty.is_vector()), "{t:?}");
        }
    }

    #[test]
    fn unusable_seeds_are_dropped() {
        let mut c = Catalog::new();
        let r = c.add_rule("x64", "src/isa/x64/lower.isle:5").unwrap();
        let text = "function %f() -> i32 {\nblock0:\n    v0 = iconst.i32 1\n    return v0\n}\n; run: %f() == 1\n";
        c.add_seed(r, "clif_lower/a.clif", text.as_bytes().into(), true);
        let g = Guide::new(c);
        let (plan, _) = g.next(0).unwrap();
        assert_eq!(plan.recipe, Recipe::Replay(0));
        g.feedback(&plan, &RuleHits::new(), false);
        assert!(g.next(1).is_none());
    }

    #[test]
    fn a_blind_guide_says_so() {
        let g = Guide::blind(Catalog::new());
        assert!(!g.summary().guided);
        assert!(g.next(1).is_none());
    }
}
