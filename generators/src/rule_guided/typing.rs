//! Choosing concrete CLIF types for a pattern's nodes.
//!
//! Every instruction node gets a controlling type from its opcode's
//! controlling type set; Cranelift's operand constraints then fix or bound
//! the operands' types, and the result type must satisfy the node's type
//! variable. A backtracking search over the nodes (root first) yields
//! consistent assignments; semantic rules the constraint tables do not
//! express (e.g. an extension must widen) are left to the verifier.

use cranelift_codegen::ir::instructions::{InstructionFormat, ResolvedConstraint};
use cranelift_codegen::ir::{Opcode, Type, types};

use crate::pattern::{NodeId, NodeKind, Pattern, TypeSet};

/// A complete type assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Typing {
    /// Type of each node's value (`INVALID` for instructions without
    /// results).
    pub value: Vec<Type>,
    /// Controlling type of each instruction node (`INVALID` for
    /// non-polymorphic opcodes and for non-instructions).
    pub ctrl: Vec<Type>,
}

/// Index of the operand that carries the controlling type, for opcodes
/// whose controlling type comes from an operand.
pub fn typevar_operand(format: InstructionFormat) -> usize {
    match format {
        InstructionFormat::Ternary => 1,
        InstructionFormat::AtomicCas => 2,
        _ => 0,
    }
}

/// The type set of an opcode's controlling type, within shoal's universe
/// (empty for opcodes on dynamic vectors, which the universe excludes).
pub fn ctrl_candidates(opcode: Opcode) -> Vec<Type> {
    if opcode == Opcode::ExtractVector {
        return Vec::new();
    }
    match opcode.constraints().ctrl_typeset() {
        Some(set) => TypeSet::ALL.iter().filter(|t| set.contains(*t)).collect(),
        None => vec![types::INVALID],
    }
}

struct State {
    value: Vec<Option<Type>>,
    ctrl: Vec<Type>,
    /// Constraint from already-typed users (and the node's type variable).
    req: Vec<TypeSet>,
    /// Assignment of type variables.
    tyvar: Vec<Option<Type>>,
}

/// Finds up to `limit` type assignments, varying the root's controlling
/// type first so the assignments cover as many root types as possible.
pub fn solve(p: &Pattern, limit: usize) -> Vec<Typing> {
    if !p.is_well_formed() || limit == 0 {
        return Vec::new();
    }
    let order = preorder(p);
    let n = p.nodes.len();
    let fresh = || State {
        value: vec![None; n],
        ctrl: vec![types::INVALID; n],
        req: p.nodes.iter().map(|node| p.types[node.ty]).collect(),
        tyvar: vec![None; p.types.len()],
    };
    let mut out = Vec::new();
    // One pass per root choice, then a second pass for more variety.
    let root_choices = choices(p, p.root, &fresh());
    for per_root in [1usize, 2] {
        for choice in &root_choices {
            if out.len() >= limit {
                return out;
            }
            let mut st = fresh();
            if !apply(p, p.root, *choice, &mut st) {
                continue;
            }
            let mut found = Vec::new();
            search(p, &order, 1, &mut st, per_root, &mut found);
            for t in found {
                if !out.contains(&t) && out.len() < limit {
                    out.push(t);
                }
            }
        }
    }
    out
}

fn preorder(p: &Pattern) -> Vec<NodeId> {
    fn go(p: &Pattern, n: NodeId, seen: &mut Vec<bool>, out: &mut Vec<NodeId>) {
        if seen[n] {
            return;
        }
        seen[n] = true;
        out.push(n);
        if let NodeKind::Inst { args, .. } = &p.nodes[n].kind {
            for a in args {
                go(p, *a, seen, out);
            }
        }
    }
    let mut seen = vec![false; p.nodes.len()];
    let mut out = Vec::new();
    go(p, p.root, &mut seen, &mut out);
    out
}

/// The candidate choices for a node: its controlling type (instructions)
/// or value type (others).
fn choices(p: &Pattern, n: NodeId, st: &State) -> Vec<Type> {
    let allowed = allowed(p, n, st);
    match &p.nodes[n].kind {
        NodeKind::Any => allowed.iter().collect(),
        NodeKind::Inst { opcode, .. } => {
            let c = opcode.constraints();
            ctrl_candidates(*opcode)
                .into_iter()
                .filter(|ctrl| {
                    if c.num_fixed_results() == 0 || c.use_typevar_operand() {
                        return true;
                    }
                    allowed.contains(c.result_type(0, *ctrl))
                })
                .collect()
        }
    }
}

fn allowed(p: &Pattern, n: NodeId, st: &State) -> TypeSet {
    let tv = p.nodes[n].ty;
    match st.tyvar[tv] {
        Some(t) => st.req[n].intersect(TypeSet::of(t)),
        None => st.req[n],
    }
}

/// Fixes `choice` for node `n`, propagating to its operands; false if
/// inconsistent.
fn apply(p: &Pattern, n: NodeId, choice: Type, st: &mut State) -> bool {
    let value = match &p.nodes[n].kind {
        NodeKind::Any => choice,
        NodeKind::Inst { opcode, args, .. } => {
            let c = opcode.constraints();
            st.ctrl[n] = choice;
            let fixed = c.num_fixed_value_arguments().min(args.len());
            for (i, a) in args.iter().enumerate().take(fixed) {
                let set = match c.value_argument_constraint(i, choice) {
                    ResolvedConstraint::Bound(t) => TypeSet::of(t),
                    ResolvedConstraint::Free(vts) => TypeSet::ALL
                        .filter(|t| vts.contains(t))
                        .filter(|t| conversion_compatible(*opcode, choice, t)),
                };
                match st.value[*a] {
                    Some(t) if !set.contains(t) => return false,
                    Some(_) => {}
                    None => {
                        st.req[*a] = st.req[*a].intersect(set);
                        if st.req[*a].is_empty() {
                            return false;
                        }
                    }
                }
            }
            if c.num_fixed_results() == 0 {
                st.value[n] = Some(types::INVALID);
                return true;
            }
            let result = c.result_type(0, choice);
            if c.use_typevar_operand() && !allowed(p, n, st).contains(result) {
                return false;
            }
            result
        }
    };
    let tv = p.nodes[n].ty;
    match st.tyvar[tv] {
        Some(t) if t != value => return false,
        _ => st.tyvar[tv] = Some(value),
    }
    st.value[n] = Some(value);
    true
}

/// Semantic typing rules the constraint tables leave to the verifier or
/// do not check at all: conversions keep the lane count (`fcvt_from_uint`
/// of a scalar into a vector type-checks but means nothing), `bitcast`
/// keeps the bit width.
fn conversion_compatible(opcode: Opcode, ctrl: Type, arg: Type) -> bool {
    match opcode {
        Opcode::FcvtFromUint
        | Opcode::FcvtFromSint
        | Opcode::FcvtToUint
        | Opcode::FcvtToSint
        | Opcode::FcvtToUintSat
        | Opcode::FcvtToSintSat
        | Opcode::Uextend
        | Opcode::Sextend
        | Opcode::Ireduce
        | Opcode::Fpromote
        | Opcode::Fdemote => arg.lane_count() == ctrl.lane_count(),
        Opcode::Bitcast => arg.bits() == ctrl.bits(),
        _ => true,
    }
}

fn search(
    p: &Pattern,
    order: &[NodeId],
    k: usize,
    st: &mut State,
    want: usize,
    found: &mut Vec<Typing>,
) {
    if found.len() >= want {
        return;
    }
    let Some(&n) = order.get(k) else {
        found.push(Typing {
            value: st
                .value
                .iter()
                .map(|v| v.unwrap_or(types::INVALID))
                .collect(),
            ctrl: st.ctrl.clone(),
        });
        return;
    };
    for choice in choices(p, n, st) {
        let saved = (
            st.value.clone(),
            st.ctrl.clone(),
            st.req.clone(),
            st.tyvar.clone(),
        );
        if apply(p, n, choice, st) {
            search(p, order, k + 1, st, want, found);
        }
        (st.value, st.ctrl, st.req, st.tyvar) = saved;
        if found.len() >= want {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Imm;
    use crate::pattern::ImmKind;

    #[test]
    fn iadd_of_iconst_types_consistently() {
        let mut p = Pattern::new();
        let x = p.add_any(TypeSet::ALL);
        let c = p.add_inst(
            Opcode::Iconst,
            TypeSet::ALL,
            vec![],
            vec![Imm::new(ImmKind::Imm64)],
        );
        let ints = TypeSet::from_fn(|t| t.is_int() && !t.is_vector() && t.bits() <= 64);
        p.root = p.add_inst(Opcode::Iadd, ints, vec![x, c], vec![]);
        let sols = solve(&p, 8);
        assert_eq!(sols.len(), 4, "{sols:?}");
        for s in &sols {
            assert_eq!(s.value[x], s.value[p.root]);
            assert_eq!(s.value[c], s.value[p.root]);
            assert!(ints.contains(s.value[p.root]));
        }
    }

    #[test]
    fn icmp_result_is_i8_and_operands_share_a_type() {
        let mut p = Pattern::new();
        let a = p.add_any(TypeSet::of(types::I64));
        let b = p.add_any(TypeSet::ALL);
        p.root = p.add_inst(
            Opcode::Icmp,
            TypeSet::ALL,
            vec![a, b],
            vec![Imm::new(ImmKind::IntCC)],
        );
        let sols = solve(&p, 4);
        assert!(!sols.is_empty());
        for s in sols {
            assert_eq!(s.value[p.root], types::I8);
            assert_eq!(s.value[b], types::I64);
        }
    }

    #[test]
    fn conversions_keep_lane_counts() {
        let mut p = Pattern::new();
        let x = p.add_any(TypeSet::ALL);
        p.root = p.add_inst(Opcode::FcvtFromUint, TypeSet::ALL, vec![x], vec![]);
        let sols = solve(&p, 32);
        assert!(!sols.is_empty());
        for s in sols {
            assert_eq!(
                s.value[x].lane_count(),
                s.value[p.root].lane_count(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn unsatisfiable_types_give_nothing() {
        let mut p = Pattern::new();
        let x = p.add_any(TypeSet::of(types::F32));
        p.root = p.add_inst(Opcode::Iadd, TypeSet::ALL, vec![x, x], vec![]);
        assert!(solve(&p, 4).is_empty());
    }

    /// Every controlling type the solver may pick resolves every operand
    /// constraint without panicking.
    #[test]
    fn every_opcode_resolves_its_constraints() {
        for op in Opcode::all() {
            let c = op.constraints();
            for ctrl in ctrl_candidates(*op) {
                for i in 0..c.num_fixed_value_arguments() {
                    let _ = c.value_argument_constraint(i, ctrl);
                }
                for i in 0..c.num_fixed_results() {
                    let _ = c.result_type(i, ctrl);
                }
            }
        }
    }
}
