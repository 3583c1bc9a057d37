//! Classifying a set of executions of one test case: agree, discrepancy
//! (with the odd executions attributed), or inconclusive.
//!
//! Executions of [`Fidelity::External`] engines are compared only where
//! their approximate fuel and call-depth bounds cannot matter (see
//! [`Cut`]): when the reference (the first exact execution, normally the
//! interpreter) ran out of fuel or call depth at invocation *k*, or the
//! external execution itself did, the external one is compared on the
//! invocations before *k* only and not on final state; when that happened
//! during instantiation (start function), it is not compared at all.

use shoal_runtime::Trap;

use crate::compare::{Difference, Fidelity, Scope, diff_in};
use crate::execute::{Execution, InvokeOutcome};

/// The judgement on one test case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every conclusive execution agrees.
    Agree,
    /// At least one execution disagrees with the majority.
    Discrepancy(Discrepancy),
    /// Too few conclusive executions to judge (resource limits).
    Inconclusive(String),
}

/// A disagreement, attributed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discrepancy {
    /// Index of the execution taken as reference (in the majority class;
    /// execution 0, the interpreter, when it is there).
    pub reference: usize,
    /// Indices of the executions outside the majority class.
    pub odd: Vec<usize>,
    /// What differs between the reference and the first odd execution.
    pub difference: Difference,
}

/// How much of an external execution is comparable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Everything (no fuel or depth exhaustion involved).
    Nothing,
    /// Invocations before this index; no final state.
    At(usize),
    /// Nothing at all (exhaustion during instantiation).
    Everything,
}

impl Cut {
    /// The earlier of two cuts.
    fn min(self, other: Cut) -> Cut {
        match (self, other) {
            (Cut::Everything, _) | (_, Cut::Everything) => Cut::Everything,
            (Cut::At(a), Cut::At(b)) => Cut::At(a.min(b)),
            (Cut::At(a), Cut::Nothing) | (Cut::Nothing, Cut::At(a)) => Cut::At(a),
            (Cut::Nothing, Cut::Nothing) => Cut::Nothing,
        }
    }
}

fn exhausted(t: &Trap) -> bool {
    matches!(t, Trap::OutOfFuel | Trap::CallStackExhausted)
}

/// Where an execution ran out of fuel or call depth, if it did.
pub fn exhaustion_cut(e: &Execution) -> Cut {
    match e {
        Execution::InstantiationTrap(t) if exhausted(t) => Cut::Everything,
        Execution::Ran { invocations, .. } => invocations
            .iter()
            .position(|o| matches!(o, InvokeOutcome::Trap(t) if exhausted(t)))
            .map_or(Cut::Nothing, Cut::At),
        _ => Cut::Nothing,
    }
}

/// Index of the reference: the first exact execution (or 0).
pub fn reference_index(fidelity: &[Fidelity]) -> usize {
    fidelity
        .iter()
        .position(|f| *f == Fidelity::Exact)
        .unwrap_or(0)
}

/// Judges executions whose engines are all exact (index 0 is the
/// reference engine, normally the interpreter).
pub fn judge(executions: &[Execution]) -> Verdict {
    judge_with(executions, &vec![Fidelity::Exact; executions.len()])
}

/// Judges executions of engines of the given fidelities (index 0 is the
/// reference engine, normally the interpreter). Inconclusive executions,
/// and external ones cut entirely, are set aside; a discrepancy needs at
/// least two conclusive executions.
pub fn judge_with(executions: &[Execution], fidelity: &[Fidelity]) -> Verdict {
    let reference_cut = exhaustion_cut(&executions[reference_index(fidelity)]);
    let cuts: Vec<Cut> = (0..executions.len())
        .map(|i| match fidelity.get(i) {
            Some(Fidelity::External) => reference_cut.min(exhaustion_cut(&executions[i])),
            _ => Cut::Nothing,
        })
        .collect();
    let mut conclusive: Vec<usize> = (0..executions.len())
        .filter(|&i| {
            !matches!(executions[i], Execution::Inconclusive(_)) && cuts[i] != Cut::Everything
        })
        .collect();
    if conclusive.len() < 2 {
        let why = executions
            .iter()
            .find_map(|e| match e {
                Execution::Inconclusive(r) => Some(r.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "fewer than two comparable executions".to_string());
        return Verdict::Inconclusive(why);
    }
    // Complete executions first, so they represent their classes.
    conclusive.sort_by_key(|&i| (cuts[i] != Cut::Nothing, i));
    let scope = |a: usize, b: usize| Scope {
        invocations: match cuts[a].min(cuts[b]) {
            Cut::At(k) => Some(k),
            _ => None,
        },
        merge_table_traps: fidelity.get(a) == Some(&Fidelity::External)
            || fidelity.get(b) == Some(&Fidelity::External),
    };
    let differ = |a: usize, b: usize| diff_in(&executions[a], &executions[b], scope(a, b));
    let classes = partition(&conclusive, &differ);
    if classes.len() == 1 {
        return Verdict::Agree;
    }
    let majority = majority_class(&classes);
    let reference = if majority.contains(&0) {
        0
    } else {
        majority[0]
    };
    let mut odd: Vec<usize> = classes
        .iter()
        .filter(|c| *c != majority)
        .flatten()
        .copied()
        .collect();
    odd.sort_unstable();
    let difference = differ(reference, odd[0]).unwrap_or(Difference::Instantiation);
    Verdict::Discrepancy(Discrepancy {
        reference,
        odd,
        difference,
    })
}

/// Groups executions by agreement with each class's first member.
fn partition(
    indices: &[usize],
    differ: &dyn Fn(usize, usize) -> Option<Difference>,
) -> Vec<Vec<usize>> {
    let mut classes: Vec<Vec<usize>> = Vec::new();
    for &i in indices {
        match classes.iter_mut().find(|c| differ(c[0], i).is_none()) {
            Some(c) => c.push(i),
            None => classes.push(vec![i]),
        }
    }
    classes
}

/// The largest class; ties go to the class holding the reference (index 0),
/// else the earliest class.
fn majority_class(classes: &[Vec<usize>]) -> &Vec<usize> {
    let best = classes.iter().map(Vec::len).max().unwrap_or(0);
    classes
        .iter()
        .filter(|c| c.len() == best)
        .find(|c| c.contains(&0))
        .or_else(|| classes.iter().find(|c| c.len() == best))
        .unwrap_or(&classes[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::{FinalState, InvokeOutcome};
    use shoal_runtime::{Trap, Value};

    fn ran(v: i32) -> Execution {
        Execution::Ran {
            invocations: vec![InvokeOutcome::Ok(vec![Value::I32(v)])],
            state: FinalState::default(),
        }
    }

    #[test]
    fn odd_one_out_is_attributed() {
        let v = judge(&[ran(1), ran(1), ran(2), ran(1)]);
        let Verdict::Discrepancy(d) = v else {
            panic!("expected discrepancy, got {v:?}")
        };
        assert_eq!(d.reference, 0);
        assert_eq!(d.odd, vec![2]);
        assert_eq!(d.difference, Difference::Invocation { index: 0 });
    }

    #[test]
    fn wrong_reference_is_outvoted() {
        let Verdict::Discrepancy(d) = judge(&[ran(9), ran(1), ran(1)]) else {
            panic!()
        };
        assert_eq!((d.reference, d.odd.clone()), (1, vec![0]));
    }

    #[test]
    fn traps_compare_by_kind_and_inconclusive_is_set_aside() {
        let t = |k| Execution::Ran {
            invocations: vec![InvokeOutcome::Trap(k)],
            state: FinalState::default(),
        };
        assert_eq!(
            judge(&[t(Trap::OutOfFuel), t(Trap::OutOfFuel)]),
            Verdict::Agree
        );
        assert!(matches!(
            judge(&[t(Trap::OutOfFuel), t(Trap::Unreachable)]),
            Verdict::Discrepancy(_)
        ));
        let inc = Execution::Inconclusive("oom".into());
        assert!(matches!(judge(&[inc, ran(1)]), Verdict::Inconclusive(_)));
    }

    fn calls(outcomes: &[InvokeOutcome], mem: u8) -> Execution {
        Execution::Ran {
            invocations: outcomes.to_vec(),
            state: FinalState {
                memories: vec![("m".into(), vec![mem])],
                ..FinalState::default()
            },
        }
    }

    const EXACT: Fidelity = Fidelity::Exact;
    const EXTERNAL: Fidelity = Fidelity::External;

    #[test]
    fn external_executions_stop_where_the_reference_ran_out() {
        let ok = |v| InvokeOutcome::Ok(vec![Value::I32(v)]);
        let fuel = InvokeOutcome::Trap(Trap::OutOfFuel);
        let reference = calls(&[ok(1), fuel.clone(), ok(3)], 0);
        // The external engine finished invocation 1 (its fuel is larger),
        // so invocation 2 and the memory may differ: not compared.
        let external = calls(&[ok(1), ok(7), ok(9)], 5);
        let fid = [EXACT, EXACT, EXTERNAL];
        let v = judge_with(&[reference.clone(), reference.clone(), external], &fid);
        assert_eq!(v, Verdict::Agree);
        // Before the cut, external executions are compared exactly.
        let wrong = calls(&[ok(2)], 0);
        let Verdict::Discrepancy(d) = judge_with(&[reference.clone(), reference, wrong], &fid)
        else {
            panic!("expected a discrepancy")
        };
        assert_eq!(
            (d.odd.clone(), d.difference),
            (vec![2], Difference::Invocation { index: 0 })
        );
    }

    #[test]
    fn external_exhaustion_is_never_a_finding() {
        let ok = |v| InvokeOutcome::Ok(vec![Value::I32(v)]);
        let reference = calls(&[ok(1), ok(2)], 0);
        let depth = calls(&[ok(1), InvokeOutcome::Trap(Trap::CallStackExhausted)], 3);
        let fid = [EXACT, EXTERNAL];
        assert_eq!(
            judge_with(&[reference.clone(), depth.clone()], &fid),
            Verdict::Agree
        );
        // The same outcome from an exact engine is a discrepancy.
        assert!(matches!(
            judge_with(&[reference.clone(), depth], &[EXACT, EXACT]),
            Verdict::Discrepancy(_)
        ));
        // Exhaustion during instantiation leaves nothing to compare.
        let start = Execution::InstantiationTrap(Trap::OutOfFuel);
        assert!(matches!(
            judge_with(&[reference, start], &fid),
            Verdict::Inconclusive(_)
        ));
    }

    #[test]
    fn external_table_traps_merge() {
        let t = |k| calls(&[InvokeOutcome::Trap(k)], 0);
        let fid = [EXACT, EXTERNAL];
        assert_eq!(
            judge_with(
                &[t(Trap::UndefinedElement), t(Trap::TableOutOfBounds)],
                &fid
            ),
            Verdict::Agree
        );
        assert!(matches!(
            judge(&[t(Trap::UndefinedElement), t(Trap::TableOutOfBounds)]),
            Verdict::Discrepancy(_)
        ));
    }
}
