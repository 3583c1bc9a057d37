//! Abstract interpretation of left-hand-side patterns and of the
//! right-hand sides of `if-let`s: enum variants become instruction nodes,
//! constants become predicates, internal constructors are inlined and
//! extern terms go to [`super::handlers`].

use cranelift_codegen::ir::Opcode;
use cranelift_isle::sema::{self, Expr, ExtractorKind, TermId, TermKind, TypeId};
use shoal_generators::pattern::{ImmKind, NodeId, NodeKind, Pred, TYPE_UNIVERSE, TypeSet};

use super::{Abs, Sig, TyProp, Walker, handlers};

impl Walker<'_, '_> {
    /// Records an extern term without a handler.
    fn note_unhandled(&mut self, name: &str) {
        self.unhandled.insert(name.to_string());
        self.unmodeled(name);
    }

    // ---- patterns --------------------------------------------------------

    pub(super) fn walk(&mut self, p: &sema::Pattern, input: Abs) {
        match p {
            sema::Pattern::BindPattern(_, var, sub) => {
                self.vars.insert(*var, input.clone());
                self.walk(sub, input);
            }
            sema::Pattern::Var(_, var) => {
                if let Some(bound) = self.vars.get(var).cloned() {
                    self.unify(&bound, &input);
                }
            }
            sema::Pattern::ConstBool(_, b) => self.const_bool(&input, *b),
            sema::Pattern::ConstInt(_, v) => self.const_int(&input, *v),
            sema::Pattern::ConstPrim(_, sym) => {
                let name = self.ctx.sym(*sym).to_string();
                self.const_prim(&input, &name);
            }
            sema::Pattern::Wildcard(_) => {}
            sema::Pattern::And(_, subs) => {
                for s in subs {
                    self.walk(s, input.clone());
                }
            }
            sema::Pattern::Term(_, term, args) => self.term(*term, args, input),
        }
    }

    fn const_bool(&mut self, input: &Abs, b: bool) {
        match input {
            Abs::Flag(flags) => {
                if b {
                    for f in flags.clone() {
                        self.require_flag(&f, true);
                    }
                } else if let Some(last) = flags.last().cloned() {
                    self.require_flag(&last, false);
                }
            }
            Abs::TyEq(x, y) => {
                if b {
                    let (x, y) = (*x, *y);
                    self.merge_types(x, y);
                } else {
                    self.unmodeled("types differ");
                }
            }
            Abs::Cond(slot, pred) => {
                let pred = if b { Some(pred.clone()) } else { negate(pred) };
                match pred {
                    Some(p) => self.add_pred(*slot, p),
                    None => self.unmodeled("negated condition"),
                }
            }
            _ => {}
        }
    }

    fn const_int(&mut self, input: &Abs, v: i128) {
        match input {
            Abs::Imm(slot) => self.add_pred(*slot, Pred::Eq(v)),
            Abs::TyProp(tv, prop) => {
                let (tv, prop) = (*tv, *prop);
                self.restrict_fn(tv, |t| prop.of(t) == v);
            }
            _ => {}
        }
    }

    fn const_prim(&mut self, input: &Abs, name: &str) {
        let ty = TYPE_UNIVERSE
            .iter()
            .find(|t| t.to_string().eq_ignore_ascii_case(name))
            .copied();
        match (input, ty) {
            (Abs::Type(tv), Some(ty)) => self.restrict(*tv, TypeSet::of(ty)),
            (Abs::Type(tv), None) => self.restrict(*tv, TypeSet::EMPTY),
            (Abs::TyProp(tv, TyProp::LaneType), Some(ty)) => {
                let tv = *tv;
                self.restrict_fn(tv, |t| t.lane_type() == ty);
            }
            _ => {}
        }
    }

    fn term(&mut self, term: TermId, args: &[sema::Pattern], input: Abs) {
        let data = &self.ctx.unit.terms.terms[term.index()];
        let outputs = match &data.kind {
            TermKind::EnumVariant { variant } => self.variant(data.ret_ty, *variant, &input),
            TermKind::Struct => vec![Abs::Opaque; args.len()],
            TermKind::Decl { extractor_kind, .. } => match extractor_kind {
                Some(ExtractorKind::ExternalExtractor { .. }) => {
                    let name = self.ctx.term_name(term).to_string();
                    let (sig_args, ret) = self.ctx.sig_names(term);
                    let sig = Sig {
                        args: &sig_args,
                        ret: &ret,
                    };
                    handlers::extract(self, &name, &sig, &input, args.len()).unwrap_or_else(|| {
                        self.note_unhandled(&name);
                        vec![Abs::Opaque; args.len()]
                    })
                }
                _ => {
                    let name = self.ctx.term_name(term).to_string();
                    self.unhandled.insert(name.clone());
                    self.unmodeled(&name);
                    vec![Abs::Opaque; args.len()]
                }
            },
        };
        for (arg, out) in args.iter().zip(outputs) {
            self.walk(arg, out);
        }
    }

    /// An enum variant: instruction formats, opcodes, condition codes.
    fn variant(&mut self, enum_ty: TypeId, variant: sema::VariantId, input: &Abs) -> Vec<Abs> {
        let v = self.ctx.unit.types.get_variant(enum_ty, variant);
        let name = self.ctx.sym(v.name).to_string();
        let fields: Vec<TypeId> = v.fields.types();
        match (self.ctx.type_name(enum_ty), input) {
            ("InstructionData", Abs::InstData(n)) => self.format(*n, &fields),
            ("Opcode", Abs::Opcode(n)) => {
                match self.ctx.opcodes.get(&name).copied() {
                    Some(op) => {
                        let n = self.find(*n);
                        if let NodeKind::Inst { opcode, .. } = &mut self.pat.nodes[n].kind {
                            *opcode = op;
                        }
                    }
                    None => self.unmodeled(&format!("opcode {name}")),
                }
                Vec::new()
            }
            ("IntCC", Abs::Imm(slot)) => {
                if let Some(i) = self.ctx.intccs.get(&name).copied() {
                    self.add_pred(*slot, Pred::Eq(i as i128));
                }
                Vec::new()
            }
            ("FloatCC", Abs::Imm(slot)) => {
                if let Some(i) = self.ctx.floatccs.get(&name).copied() {
                    self.add_pred(*slot, Pred::Eq(i as i128));
                }
                Vec::new()
            }
            ("AtomicRmwOp", Abs::Imm(slot)) => {
                let lower = name.to_ascii_lowercase();
                if let Some(i) = shoal_generators::pattern::ATOMIC_RMW_OPS
                    .iter()
                    .position(|o| *o == lower)
                {
                    self.add_pred(*slot, Pred::Eq(i as i128));
                }
                Vec::new()
            }
            _ => vec![Abs::Opaque; fields.len()],
        }
    }

    /// `InstructionData.<Format>` on node `n`: make it an instruction (the
    /// opcode is set by the `Opcode` sub-pattern) and map each field.
    fn format(&mut self, n: NodeId, fields: &[TypeId]) -> Vec<Abs> {
        let names: Vec<String> = fields
            .iter()
            .map(|t| self.ctx.type_name(*t).to_string())
            .collect();
        let imm_kinds: Vec<ImmKind> = names.iter().filter_map(|t| imm_kind(t)).collect();
        let n = self.make_inst(n, Opcode::Nop, &imm_kinds);
        let mut next_imm = 0;
        let mut out = Vec::new();
        for name in &names {
            let abs = match name.as_str() {
                "Opcode" => Abs::Opcode(n),
                "Value" => Abs::Node(self.arg(n, 0)),
                "ValueArray2" => {
                    self.arg(n, 1);
                    Abs::Args(n)
                }
                "ValueArray3" => {
                    self.arg(n, 2);
                    Abs::Args(n)
                }
                "ValueList" => Abs::Args(n),
                t if imm_kind(t).is_some() => {
                    let slot = self.imm(n, next_imm);
                    next_imm += 1;
                    slot.map(Abs::Imm).unwrap_or(Abs::Opaque)
                }
                _ => Abs::Opaque,
            };
            out.push(abs);
        }
        out
    }

    // ---- expressions (if-let right-hand sides) -------------------------

    pub(crate) fn eval(&mut self, e: &Expr) -> Abs {
        match e {
            Expr::Var(_, var) => self.vars.get(var).cloned().unwrap_or(Abs::Opaque),
            Expr::ConstInt(_, v) => Abs::Int(*v),
            Expr::ConstBool(_, _) => Abs::Opaque,
            Expr::ConstPrim(_, sym) => {
                let name = self.ctx.sym(*sym).to_string();
                match TYPE_UNIVERSE
                    .iter()
                    .find(|t| t.to_string().eq_ignore_ascii_case(&name))
                {
                    Some(t) => Abs::Type(self.new_type(TypeSet::of(*t))),
                    None => Abs::Opaque,
                }
            }
            Expr::Let { bindings, body, .. } => {
                for (var, _, value) in bindings {
                    let v = self.eval(value);
                    self.vars.insert(*var, v);
                }
                self.eval(body)
            }
            Expr::Term(_, term, args) => {
                let args: Vec<Abs> = args.iter().map(|a| self.eval(a)).collect();
                let name = self.ctx.term_name(*term).to_string();
                let data = &self.ctx.unit.terms.terms[term.index()];
                if let TermKind::EnumVariant { .. } = data.kind {
                    return Abs::Opaque;
                }
                if let Some(abs) = self.inline_constructor(*term, &args) {
                    return abs;
                }
                let (sig_args, ret) = self.ctx.sig_names(*term);
                let sig = Sig {
                    args: &sig_args,
                    ret: &ret,
                };
                handlers::construct(self, &name, &sig, &args).unwrap_or_else(|| {
                    self.note_unhandled(&name);
                    Abs::Opaque
                })
            }
        }
    }

    /// A call of a constructor defined by ISLE rules. A partial one (e.g.
    /// `(if-let x (val_minus_one y))`) succeeds when one of its rules
    /// matches: its first rule's left-hand side is applied to the arguments
    /// and its right-hand side gives the value. A total one imposes no
    /// condition and its value is opaque.
    fn inline_constructor(&mut self, term: TermId, args: &[Abs]) -> Option<Abs> {
        let data = &self.ctx.unit.terms.terms[term.index()];
        let TermKind::Decl {
            constructor_kind: Some(sema::ConstructorKind::InternalConstructor),
            flags,
            ..
        } = &data.kind
        else {
            return None;
        };
        if !flags.partial {
            // A total function of its arguments: no condition to model.
            return Some(Abs::Opaque);
        }
        if self.inline_depth >= 3 {
            return None;
        }
        let first = *self.ctx.rules_of.get(&term)?.first()?;
        let rule = &self.ctx.unit.terms.rules[first];
        let saved = std::mem::take(&mut self.vars);
        self.inline_depth += 1;
        self.apply_rule(rule, args);
        let result = self.pure_value(&rule.rhs);
        self.inline_depth -= 1;
        self.vars = saved;
        Some(result)
    }

    /// The value of a right-hand side without interpreting constructors:
    /// variables, integer constants and `let`s.
    fn pure_value(&mut self, e: &Expr) -> Abs {
        match e {
            Expr::Var(_, v) => self.vars.get(v).cloned().unwrap_or(Abs::Opaque),
            Expr::ConstInt(_, k) => Abs::Int(*k),
            Expr::Let { bindings, body, .. } => {
                for (var, _, x) in bindings {
                    let v = self.pure_value(x);
                    self.vars.insert(*var, v);
                }
                self.pure_value(body)
            }
            _ => Abs::Opaque,
        }
    }
}

/// The immediate kind of an `InstructionData` field type, if it is one.
fn imm_kind(isle_type: &str) -> Option<ImmKind> {
    Some(match isle_type {
        "Imm64" => ImmKind::Imm64,
        "Uimm8" => ImmKind::Uimm8,
        "Offset32" => ImmKind::Offset32,
        "Ieee16" => ImmKind::Ieee16,
        "Ieee32" => ImmKind::Ieee32,
        "Ieee64" => ImmKind::Ieee64,
        "Immediate" | "Constant" => ImmKind::V128,
        "IntCC" => ImmKind::IntCC,
        "FloatCC" => ImmKind::FloatCC,
        "MemFlags" => ImmKind::MemFlags,
        "TrapCode" => ImmKind::TrapCode,
        "AtomicRmwOp" => ImmKind::AtomicRmwOp,
        _ => return None,
    })
}

/// The negation of a predicate, where it is one.
fn negate(p: &Pred) -> Option<Pred> {
    Some(match p {
        Pred::Eq(v) => Pred::Ne(*v),
        Pred::Ne(v) => Pred::Eq(*v),
        Pred::UnsignedRange { min: 0, max } => Pred::UnsignedRange {
            min: max.checked_add(1)?,
            max: u128::MAX,
        },
        Pred::UnsignedRange {
            min,
            max: u128::MAX,
        } => Pred::UnsignedRange {
            min: 0,
            max: min.checked_sub(1)?,
        },
        _ => return None,
    })
}
