//! Normalizing rule left-hand sides into [`Pattern`]s.
//!
//! The walker runs over the type-checked rule (internal extractors already
//! inlined by `cranelift-isle`'s semantic analysis) and interprets every
//! sub-pattern abstractly: a position is a CLIF value ([`Abs::Node`]), a
//! type variable, an immediate slot, an instruction's data/opcode/operand
//! array, an ISA-flag boolean, ... Enum variants of `InstructionData` and
//! `Opcode` build instruction nodes; constants become predicates; a variable
//! bound twice merges the two positions. Rust-implemented (extern)
//! extractors and the constructors called from `if-let`s are interpreted by
//! named handlers ([`handlers`]); one without a handler is recorded by name
//! (see [`RulePattern::unhandled`]) and its condition is left to
//! verification.

mod graft;
mod handlers;
mod walk;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cranelift_codegen::ir::Opcode;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_isle::sema::{self, Rule, TermId, TypeId, VarId};
use shoal_generators::pattern::{
    Imm, ImmId, ImmKind, Node, NodeId, NodeKind, Pattern, Pred, TyVar, TypeSet,
};

use crate::parse::CheckedUnit;
use crate::rules::RuleId;

/// The terms whose rules are entry points: the pattern's root is the
/// instruction they are called on.
pub const ROOT_TERMS: [&str; 4] = ["lower", "lower_branch", "simplify", "simplify_skeleton"];

/// One rule and what the harvester made of it.
#[derive(Clone, Debug)]
pub struct RulePattern {
    /// The rule.
    pub rule: RuleId,
    /// The term the rule defines.
    pub term: String,
    /// The pattern, for rules of entry-point terms ([`ROOT_TERMS`]) whose
    /// root could be resolved to an instruction; `None` otherwise.
    pub pattern: Option<Pattern>,
    /// For rules of helper terms (called from other rules' right-hand
    /// sides): patterns of calling entry rules with this rule's left-hand
    /// side applied to the call's arguments ([`graft`]).
    pub grafts: Vec<Pattern>,
    /// Extern extractors/constructors in the rule's left-hand side that have
    /// no handler (their conditions are not in the pattern).
    pub unhandled: BTreeSet<String>,
}

/// Extracts a pattern for every rule of the unit (and grafted patterns for
/// helper rules), in rule-table order.
pub fn extract_unit(unit: &CheckedUnit) -> Vec<RulePattern> {
    let ctx = Ctx::new(unit);
    let mut walkers = Vec::with_capacity(unit.terms.rules.len());
    let mut out: Vec<RulePattern> = Vec::with_capacity(unit.terms.rules.len());
    for rule in &unit.terms.rules {
        let (rp, walker) = ctx.extract_rule(rule);
        out.push(rp);
        walkers.push(walker);
    }
    let grafts = graft::graft_unit(&ctx, &walkers);
    for (i, (patterns, unhandled)) in grafts.into_iter().enumerate() {
        out[i].grafts = patterns;
        out[i].unhandled.extend(unhandled);
    }
    out.sort_by(|a, b| a.rule.cmp(&b.rule));
    out
}

/// Lookup tables shared by every rule of a unit.
pub(crate) struct Ctx<'a> {
    unit: &'a CheckedUnit,
    /// Rules (indices into `TermEnv::rules`) of each term with rules.
    rules_of: HashMap<TermId, Vec<usize>>,
    opcodes: HashMap<String, Opcode>,
    intccs: HashMap<String, usize>,
    floatccs: HashMap<String, usize>,
}

impl<'a> Ctx<'a> {
    fn new(unit: &'a CheckedUnit) -> Ctx<'a> {
        let opcodes = Opcode::all()
            .iter()
            .map(|op| (format!("{op:?}"), *op))
            .collect();
        let intccs = IntCC::all()
            .iter()
            .enumerate()
            .map(|(i, cc)| (format!("{cc:?}"), i))
            .collect();
        let floatccs = FloatCC::all()
            .iter()
            .enumerate()
            .map(|(i, cc)| (format!("{cc:?}"), i))
            .collect();
        let mut rules_of: HashMap<TermId, Vec<usize>> = HashMap::new();
        for (i, r) in unit.terms.rules.iter().enumerate() {
            rules_of.entry(r.root_term).or_default().push(i);
        }
        Ctx {
            unit,
            rules_of,
            opcodes,
            intccs,
            floatccs,
        }
    }

    fn sym(&self, sym: sema::Sym) -> &str {
        &self.unit.types.syms[sym.index()]
    }

    fn term_name(&self, term: TermId) -> &str {
        self.sym(self.unit.terms.terms[term.index()].name)
    }

    fn type_name(&self, ty: TypeId) -> &str {
        self.unit.types.types[ty.index()].name(&self.unit.types)
    }

    /// A term's argument and return type names.
    fn sig_names(&self, term: TermId) -> (Vec<String>, String) {
        let data = &self.unit.terms.terms[term.index()];
        let args = data
            .arg_tys
            .iter()
            .map(|t| self.type_name(*t).to_string())
            .collect();
        (args, self.type_name(data.ret_ty).to_string())
    }

    fn rule_id(&self, rule: &Rule) -> RuleId {
        let parsed = &self.unit.parsed;
        RuleId {
            file: parsed.file_name(rule.pos).to_string(),
            line: parsed.line(rule.pos),
        }
    }

    /// The rule's pattern and, for entry rules, the walker state after its
    /// left-hand side (the starting point of grafts).
    fn extract_rule<'c>(&'c self, rule: &Rule) -> (RulePattern, Option<Walker<'c, 'a>>) {
        let term = self.term_name(rule.root_term).to_string();
        let mut walker = Walker::new(self);
        let (pattern, state) = if ROOT_TERMS.contains(&term.as_str()) {
            walker.lhs(rule);
            let state = walker.clone();
            let pattern = walker.finish();
            let state = pattern.is_some().then_some(state);
            (pattern, state)
        } else {
            (None, None)
        };
        let rp = RulePattern {
            rule: self.rule_id(rule),
            term,
            pattern,
            grafts: Vec::new(),
            unhandled: walker.unhandled,
        };
        (rp, state)
    }
}

/// What a position of the left-hand side stands for.
#[derive(Clone, Debug)]
pub(crate) enum Abs {
    /// A CLIF value (or the instruction defining it).
    Node(NodeId),
    /// A CLIF type.
    Type(TyVar),
    /// A property of a type (compared against integer constants).
    TyProp(TyVar, TyProp),
    /// An integer: an immediate or a value derived from one.
    Imm(ImmId),
    /// An instruction's `InstructionData`.
    InstData(NodeId),
    /// An instruction's opcode.
    Opcode(NodeId),
    /// An instruction's value operands.
    Args(NodeId),
    /// An instruction's value operands from index `.1` on.
    ArgsFrom(NodeId, usize),
    /// The conjunction of ISA flags.
    Flag(Vec<String>),
    /// Whether two types are equal.
    TyEq(TyVar, TyVar),
    /// A boolean that holds exactly when the predicate holds on the slot.
    Cond(ImmId, Pred),
    /// A known integer.
    Int(i128),
    /// Something the pattern does not model.
    Opaque,
}

/// A term's signature, by ISLE type names: `args` are an extractor's
/// outputs (a constructor's inputs), `ret` its input (output).
pub(crate) struct Sig<'s> {
    pub(crate) args: &'s [String],
    pub(crate) ret: &'s str,
}

/// Properties of a type that rules compare with integers or types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TyProp {
    /// Total bit width.
    Bits,
    /// Bits per lane.
    LaneBits,
    /// Number of lanes.
    LaneCount,
    /// The lane type (compared with type constants).
    LaneType,
}

impl TyProp {
    fn of(self, ty: cranelift_codegen::ir::Type) -> i128 {
        match self {
            TyProp::Bits => i128::from(ty.bits()),
            TyProp::LaneBits => i128::from(ty.lane_bits()),
            TyProp::LaneCount => i128::from(ty.lane_count()),
            TyProp::LaneType => 0,
        }
    }
}

/// Per-rule state.
#[derive(Clone)]
pub(crate) struct Walker<'c, 'a> {
    pub(crate) ctx: &'c Ctx<'a>,
    pub(crate) pat: Pattern,
    pub(crate) vars: HashMap<VarId, Abs>,
    /// `merged[n] = Some(m)`: node `n` was unified into node `m`.
    merged: Vec<Option<NodeId>>,
    pub(crate) unhandled: BTreeSet<String>,
    /// Nesting of internal constructors being inlined.
    inline_depth: usize,
}

impl<'c, 'a> Walker<'c, 'a> {
    fn new(ctx: &'c Ctx<'a>) -> Walker<'c, 'a> {
        Walker {
            ctx,
            pat: Pattern::new(),
            vars: HashMap::new(),
            merged: Vec::new(),
            unhandled: BTreeSet::new(),
            inline_depth: 0,
        }
    }

    /// Interprets an entry rule's left-hand side: its first argument is the
    /// root instruction.
    fn lhs(&mut self, rule: &Rule) {
        let root = self.new_any(TypeSet::ALL);
        self.pat.root = root;
        let mut inputs = vec![Abs::Node(root)];
        inputs.resize(rule.args.len().max(1), Abs::Opaque);
        self.apply_rule(rule, &inputs);
    }

    /// Matches a rule's argument patterns against `inputs` and runs its
    /// `if-let`s.
    pub(crate) fn apply_rule(&mut self, rule: &Rule, inputs: &[Abs]) {
        for (arg, input) in rule.args.iter().zip(inputs) {
            self.walk(arg, input.clone());
        }
        for iflet in &rule.iflets {
            let value = self.eval(&iflet.rhs);
            self.walk(&iflet.lhs, value);
        }
    }

    // ---- building blocks -------------------------------------------------

    pub(crate) fn new_any(&mut self, set: TypeSet) -> NodeId {
        self.merged.push(None);
        self.pat.add_any(set)
    }

    pub(crate) fn new_imm(&mut self, kind: ImmKind) -> ImmId {
        self.pat.add_imm(Imm::new(kind))
    }

    pub(crate) fn new_type(&mut self, set: TypeSet) -> TyVar {
        self.pat.add_type(set)
    }

    /// Follows merges to the surviving node.
    pub(crate) fn find(&self, mut n: NodeId) -> NodeId {
        while let Some(m) = self.merged[n] {
            n = m;
        }
        n
    }

    pub(crate) fn node_ty(&self, n: NodeId) -> TyVar {
        self.pat.nodes[self.find(n)].ty
    }

    /// Restricts a type variable.
    pub(crate) fn restrict(&mut self, tv: TyVar, set: TypeSet) {
        self.pat.types[tv] = self.pat.types[tv].intersect(set);
    }

    /// Restricts a type variable to the types satisfying `pred`.
    pub(crate) fn restrict_fn(
        &mut self,
        tv: TyVar,
        pred: impl Fn(cranelift_codegen::ir::Type) -> bool,
    ) {
        self.restrict(tv, TypeSet::from_fn(pred));
    }

    pub(crate) fn add_pred(&mut self, slot: ImmId, pred: Pred) {
        let preds = &mut self.pat.imms[slot].preds;
        if !preds.contains(&pred) {
            preds.push(pred);
        }
    }

    pub(crate) fn add_hints(&mut self, slot: ImmId, hints: &[u128]) {
        let imm = &mut self.pat.imms[slot];
        for h in hints {
            if !imm.hints.contains(h) {
                imm.hints.push(*h);
            }
        }
    }

    /// Marks node `n` as having a single use.
    pub(crate) fn single_use(&mut self, n: NodeId) {
        let n = self.find(n);
        self.pat.nodes[n].single_use = true;
    }

    pub(crate) fn require_flag(&mut self, flag: &str, value: bool) {
        self.pat.flags.insert(flag.to_string(), value);
    }

    pub(crate) fn unmodeled(&mut self, what: &str) {
        if !self.pat.unmodeled.iter().any(|u| u == what) {
            self.pat.unmodeled.push(what.to_string());
        }
    }

    /// Makes `n` an instruction with the given opcode (if it is not one
    /// already) and returns its operands' nodes, creating `arity` of them.
    pub(crate) fn make_inst(&mut self, n: NodeId, opcode: Opcode, imms: &[ImmKind]) -> NodeId {
        let n = self.find(n);
        if let NodeKind::Inst { opcode: op, .. } = &mut self.pat.nodes[n].kind {
            if *op == Opcode::Nop {
                *op = opcode;
            }
            return n;
        }
        let imm_ids = imms.iter().map(|k| self.new_imm(*k)).collect();
        self.pat.nodes[n].kind = NodeKind::Inst {
            opcode,
            args: Vec::new(),
            imms: imm_ids,
        };
        n
    }

    /// The `i`-th operand of instruction node `n`, created on demand.
    pub(crate) fn arg(&mut self, n: NodeId, i: usize) -> NodeId {
        let n = self.find(n);
        let have = match &self.pat.nodes[n].kind {
            NodeKind::Inst { args, .. } => args.len(),
            NodeKind::Any => return self.new_any(TypeSet::ALL),
        };
        for _ in have..=i {
            let a = self.new_any(TypeSet::ALL);
            if let NodeKind::Inst { args, .. } = &mut self.pat.nodes[n].kind {
                args.push(a);
            }
        }
        match &self.pat.nodes[n].kind {
            NodeKind::Inst { args, .. } => self.find(args[i]),
            NodeKind::Any => unreachable!("checked above"),
        }
    }

    /// The `i`-th immediate slot of instruction node `n`.
    pub(crate) fn imm(&self, n: NodeId, i: usize) -> Option<ImmId> {
        match &self.pat.nodes[self.find(n)].kind {
            NodeKind::Inst { imms, .. } => imms.get(i).copied(),
            NodeKind::Any => None,
        }
    }

    /// Makes `n` an `iconst` (if it is not an instruction yet) and returns
    /// its `Imm64` slot.
    pub(crate) fn iconst(&mut self, n: NodeId) -> Option<ImmId> {
        let n = self.make_inst(n, Opcode::Iconst, &[ImmKind::Imm64]);
        match &self.pat.nodes[n].kind {
            NodeKind::Inst {
                opcode: Opcode::Iconst,
                imms,
                ..
            } => imms.first().copied(),
            _ => None,
        }
    }

    // ---- unification -----------------------------------------------------

    fn unify(&mut self, a: &Abs, b: &Abs) {
        match (a, b) {
            (Abs::Node(x), Abs::Node(y)) => self.merge_nodes(*x, *y),
            (Abs::Type(x), Abs::Type(y)) => self.merge_types(*x, *y),
            (Abs::Imm(x), Abs::Imm(y)) if x != y => {
                let (x, y) = (*x, *y);
                self.add_pred(y, Pred::SameAs(x));
            }
            (Abs::Imm(x), Abs::Int(v)) | (Abs::Int(v), Abs::Imm(x)) => {
                self.add_pred(*x, Pred::Eq(*v));
            }
            _ => {}
        }
    }

    fn merge_nodes(&mut self, x: NodeId, y: NodeId) {
        let (x, y) = (self.find(x), self.find(y));
        if x == y {
            return;
        }
        // Keep the more elaborate node.
        let (keep, gone) = match self.pat.nodes[x].kind {
            NodeKind::Any => (y, x),
            NodeKind::Inst { .. } => (x, y),
        };
        let (tk, tg) = (self.pat.nodes[keep].ty, self.pat.nodes[gone].ty);
        self.merge_types(tk, tg);
        self.merged[gone] = Some(keep);
        if self.pat.root == gone {
            self.pat.root = keep;
        }
    }

    fn merge_types(&mut self, x: TyVar, y: TyVar) {
        if x == y {
            return;
        }
        let set = self.pat.types[x].intersect(self.pat.types[y]);
        self.pat.types[x] = set;
        for node in &mut self.pat.nodes {
            if node.ty == y {
                node.ty = x;
            }
        }
        self.pat.types[y] = set;
    }

    // ---- finishing -------------------------------------------------------

    /// Compacts the surviving nodes reachable from the root.
    pub(crate) fn finish(&mut self) -> Option<Pattern> {
        let root = self.find(self.pat.root);
        if !matches!(self.pat.nodes[root].kind, NodeKind::Inst { .. }) {
            self.unmodeled("root is not an instruction");
            return None;
        }
        let mut order = Vec::new();
        let mut index: BTreeMap<NodeId, NodeId> = BTreeMap::new();
        self.collect(root, &mut order, &mut index);
        let mut nodes = Vec::with_capacity(order.len());
        for &old in &order {
            let node = &self.pat.nodes[old];
            let kind = match &node.kind {
                NodeKind::Any => NodeKind::Any,
                NodeKind::Inst { opcode, args, imms } => NodeKind::Inst {
                    opcode: *opcode,
                    args: args.iter().map(|a| index[&self.find(*a)]).collect(),
                    imms: imms.clone(),
                },
            };
            nodes.push(Node {
                kind,
                ty: node.ty,
                single_use: node.single_use,
            });
        }
        let mut pat = std::mem::take(&mut self.pat);
        pat.nodes = nodes;
        pat.root = 0;
        if pat.opcodes().contains(&Opcode::Nop) {
            pat.unmodeled
                .push("opcode not fixed by the pattern".to_string());
        }
        Some(pat)
    }

    fn collect(&self, n: NodeId, order: &mut Vec<NodeId>, index: &mut BTreeMap<NodeId, NodeId>) {
        let n = self.find(n);
        if index.contains_key(&n) {
            return;
        }
        index.insert(n, order.len());
        order.push(n);
        if let NodeKind::Inst { args, .. } = &self.pat.nodes[n].kind {
            for a in args {
                self.collect(*a, order, index);
            }
        }
    }
}
