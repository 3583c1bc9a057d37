//! Classifying a set of executions of one test case: agree, discrepancy
//! (with the odd executions attributed), or inconclusive.

use crate::compare::{Difference, diff};
use crate::execute::Execution;

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

/// Judges executions (index 0 is the reference engine, normally the
/// interpreter). Inconclusive executions are set aside; a discrepancy needs
/// at least two conclusive executions.
pub fn judge(executions: &[Execution]) -> Verdict {
    let conclusive: Vec<usize> = (0..executions.len())
        .filter(|&i| !matches!(executions[i], Execution::Inconclusive(_)))
        .collect();
    if conclusive.len() < 2 {
        let why = executions
            .iter()
            .find_map(|e| match e {
                Execution::Inconclusive(r) => Some(r.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "fewer than two executions".to_string());
        return Verdict::Inconclusive(why);
    }
    let classes = partition(executions, &conclusive);
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
    let difference =
        diff(&executions[reference], &executions[odd[0]]).unwrap_or(Difference::Instantiation);
    Verdict::Discrepancy(Discrepancy {
        reference,
        odd,
        difference,
    })
}

/// Groups executions by agreement with each class's first member.
fn partition(executions: &[Execution], indices: &[usize]) -> Vec<Vec<usize>> {
    let mut classes: Vec<Vec<usize>> = Vec::new();
    for &i in indices {
        match classes
            .iter_mut()
            .find(|c| diff(&executions[c[0]], &executions[i]).is_none())
        {
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
}
