//! Grafting: patterns for rules of helper terms.
//!
//! A helper term (`lower_cond`, `emit_addro32_xload`, `truthy`, ...) has no
//! instruction of its own: its rules fire when an entry rule's right-hand
//! side calls it. For every call site in an entry rule's right-hand side,
//! the call's arguments are evaluated against the entry rule's left-hand
//! side (a variable of the entry rule becomes the node, type or immediate
//! it was bound to), and each rule of the called term has its argument
//! patterns and `if-let`s applied to them — inlining the helper rule's
//! conditions into the caller's pattern. The helper rule's own calls are
//! followed one level further. Each helper rule keeps the first few grafts
//! that add something to the caller's pattern.

use std::collections::{BTreeSet, HashMap};

use cranelift_isle::sema::{ConstructorKind, Expr, TermId, TermKind, VarId};
use shoal_generators::pattern::Pattern;

use super::{Abs, Ctx, ROOT_TERMS, Walker};

/// Grafts kept per helper rule.
const MAX_GRAFTS: usize = 3;
/// Call depth followed from an entry rule.
const MAX_DEPTH: usize = 2;

/// Per rule (in `TermEnv::rules` order): grafted patterns and the extern
/// extractors/constructors without a handler met while grafting.
pub(super) type Grafts = Vec<(Vec<Pattern>, BTreeSet<String>)>;

/// Computes the grafts of every helper rule of the unit; `walkers[i]` is
/// the state after entry rule `i`'s left-hand side (`None` for others).
pub(super) fn graft_unit<'a>(ctx: &Ctx<'a>, walkers: &[Option<Walker<'_, 'a>>]) -> Grafts {
    let rules = &ctx.unit.terms.rules;
    let mut rules_of: HashMap<TermId, Vec<usize>> = HashMap::new();
    for (i, r) in rules.iter().enumerate() {
        rules_of.entry(r.root_term).or_default().push(i);
    }
    let eligible: Vec<bool> = rules
        .iter()
        .map(|r| eligible_file(&ctx.rule_id(r).file))
        .collect();
    let mut g = Grafter {
        ctx,
        rules_of,
        eligible,
        out: vec![(Vec::new(), BTreeSet::new()); rules.len()],
    };
    for (i, w) in walkers.iter().enumerate() {
        if let Some(w) = w {
            g.from(w, &rules[i].rhs, 1);
        }
    }
    g.out
}

/// Helper rules worth grafting: those of the backends' `lower*.isle` files
/// and of the mid-end's `opts/`.
fn eligible_file(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    file.starts_with("src/opts/") || (file.starts_with("src/isa/") && name.starts_with("lower"))
}

struct Grafter<'g, 'a> {
    ctx: &'g Ctx<'a>,
    rules_of: HashMap<TermId, Vec<usize>>,
    eligible: Vec<bool>,
    out: Grafts,
}

impl<'a> Grafter<'_, 'a> {
    fn from(&mut self, w: &Walker<'_, 'a>, rhs: &Expr, depth: usize) {
        let mut sites = Vec::new();
        self.call_sites(rhs, &w.vars, &mut sites);
        for (term, args) in sites {
            let Some(targets) = self.rules_of.get(&term).cloned() else {
                continue;
            };
            for j in targets {
                if self.out[j].0.len() >= MAX_GRAFTS {
                    continue;
                }
                let rule = &self.ctx.unit.terms.rules[j];
                let mut w2 = w.clone();
                w2.vars.clear();
                w2.unhandled.clear();
                w2.apply_rule(rule, &args);
                if self.eligible[j]
                    && let Some(p) = w2.clone().finish()
                    && !self.out[j].0.contains(&p)
                {
                    self.out[j].0.push(p);
                    self.out[j].1.extend(w2.unhandled.iter().cloned());
                }
                if depth < MAX_DEPTH {
                    self.from(&w2, &rule.rhs, depth + 1);
                }
            }
        }
    }

    /// Whether `term` is a helper: defined by rules, not an entry point.
    fn is_helper(&self, term: TermId) -> bool {
        let data = &self.ctx.unit.terms.terms[term.index()];
        let internal = matches!(
            data.kind,
            TermKind::Decl {
                constructor_kind: Some(ConstructorKind::InternalConstructor),
                ..
            }
        );
        internal
            && self.rules_of.contains_key(&term)
            && !ROOT_TERMS.contains(&self.ctx.term_name(term))
    }

    /// Calls of helper terms in `e`, with their arguments evaluated.
    fn call_sites(&self, e: &Expr, vars: &HashMap<VarId, Abs>, out: &mut Vec<(TermId, Vec<Abs>)>) {
        match e {
            Expr::Term(_, term, args) => {
                for a in args {
                    self.call_sites(a, vars, out);
                }
                if self.is_helper(*term) {
                    out.push((*term, args.iter().map(|a| value(a, vars)).collect()));
                }
            }
            Expr::Let { bindings, body, .. } => {
                let mut vars = vars.clone();
                for (var, _, x) in bindings {
                    self.call_sites(x, &vars, out);
                    let v = value(x, &vars);
                    vars.insert(*var, v);
                }
                self.call_sites(body, &vars, out);
            }
            _ => {}
        }
    }
}

/// The abstract value of a right-hand-side expression: variables of the
/// left-hand side and integer constants; anything computed is opaque.
fn value(e: &Expr, vars: &HashMap<VarId, Abs>) -> Abs {
    match e {
        Expr::Var(_, v) => vars.get(v).cloned().unwrap_or(Abs::Opaque),
        Expr::ConstInt(_, k) => Abs::Int(*k),
        _ => Abs::Opaque,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eligible_files() {
        assert!(eligible_file("src/isa/pulley_shared/lower.isle"));
        assert!(eligible_file("src/isa/aarch64/lower_dynamic_neon.isle"));
        assert!(eligible_file("src/opts/icmp.isle"));
        assert!(!eligible_file("src/isa/x64/inst.isle"));
        assert!(!eligible_file("generated/assembler.isle"));
    }
}
