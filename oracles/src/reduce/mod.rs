//! Test-case reduction that preserves a finding's [`FindingClass`] (same
//! difference kind, same disagreeing executions, same trap/compile-failure
//! shape), judged by the very [`Target::judge`] the campaign uses, so a
//! reduced finding is a finding of the same target, never a different bug
//! or an artefact of the reducer.
//!
//! * [`clif`]: a structural reducer for CLIF test cases;
//! * [`wasm`]: `wasm-shrink` for modules, with invocations adapted to each
//!   candidate.
//!
//! Both stop at a fixpoint or when the [`Budget`] (time and judged
//! candidates) runs out, returning the smallest interesting case so far.

pub mod clif;
pub mod wasm;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use shoal_generators::{ClifCase, FormatError, TestCase, WasmCase};

use crate::campaign::{CaseResult, Target};
use crate::finding::{Finding, FindingClass};

/// Limits of one reduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Wall-clock limit.
    pub time: Duration,
    /// Most candidates to judge.
    pub tests: u64,
}

impl Default for Budget {
    /// Ten seconds, effectively unlimited candidates.
    fn default() -> Self {
        Budget {
            time: Duration::from_secs(10),
            tests: 1_000_000,
        }
    }
}

/// Decides whether a candidate still shows the finding, within a budget.
pub trait Oracle<C: ?Sized> {
    /// Whether `candidate` is interesting (counts against the budget).
    fn interesting(&mut self, candidate: &C) -> bool;
    /// Whether the budget is spent (reducers then stop and return).
    fn exhausted(&self) -> bool;
}

/// Size of a test case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaseSize {
    /// Serialized bytes.
    pub bytes: usize,
    /// Instructions (CLIF instructions, or wasm operators in bodies).
    pub instructions: usize,
}

impl std::fmt::Display for CaseSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} instructions, {} bytes",
            self.instructions, self.bytes
        )
    }
}

/// The size of `case`.
pub fn size(case: &TestCase) -> CaseSize {
    CaseSize {
        bytes: case.to_bytes().len(),
        instructions: match case {
            TestCase::Clif(c) => clif::instruction_count(c),
            TestCase::Wasm(w) => wasm::instruction_count(&w.module),
        },
    }
}

/// A finished reduction.
#[derive(Debug)]
pub struct Reduced {
    /// The reduced case.
    pub case: TestCase,
    /// The finding the reduced case produces (same class as the original).
    pub finding: Box<Finding>,
    /// Size before.
    pub before: CaseSize,
    /// Size after.
    pub after: CaseSize,
    /// Candidates judged.
    pub tests: u64,
    /// Time spent.
    pub elapsed: Duration,
    /// Whether the budget ran out before a fixpoint.
    pub budget_exhausted: bool,
}

impl Reduced {
    /// One line for reports and the CLI.
    pub fn summary(&self) -> String {
        format!(
            "reduced from {} to {} in {:.1} s ({} candidates judged{})",
            self.before,
            self.after,
            self.elapsed.as_secs_f64(),
            self.tests,
            if self.budget_exhausted {
                ", stopped by the time budget"
            } else {
                ""
            }
        )
    }
}

/// Why a case could not be reduced.
#[derive(Debug, thiserror::Error)]
pub enum ReduceError {
    /// The bytes are not a test case.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// Judged again, the case is not (or no longer the same) finding.
    #[error("the case does not reproduce the finding: {0}")]
    NotReproducible(String),
}

/// Reduces the case of `finding`, preserving the finding's class. Setting
/// `stop` ends the reduction early (with the smallest case so far).
pub fn reduce_finding(
    target: &mut dyn Target,
    finding: &Finding,
    budget: Budget,
    stop: &AtomicBool,
) -> Result<Reduced, ReduceError> {
    let case = TestCase::from_bytes(&finding.case)?;
    reduce_case(target, &case, Some(&finding.class()), budget, stop)
}

/// Reduces `case`, which `target` must judge a finding (of class `class`
/// when given; otherwise whatever class it has now).
pub fn reduce_case(
    target: &mut dyn Target,
    case: &TestCase,
    class: Option<&FindingClass>,
    budget: Budget,
    stop: &AtomicBool,
) -> Result<Reduced, ReduceError> {
    let start = Instant::now();
    let first = match target.judge(case) {
        CaseResult::Finding(f) => f,
        other => return Err(ReduceError::NotReproducible(describe(&other))),
    };
    let class = class.cloned().unwrap_or_else(|| first.class());
    if first.class() != class {
        return Err(ReduceError::NotReproducible(format!(
            "judged again it differs another way: {}",
            first.difference
        )));
    }
    let mut judge = Judge {
        target,
        class: &class,
        deadline: start + budget.time,
        tests_left: budget.tests,
        tests: 1,
        stop,
    };
    let reduced = match case {
        TestCase::Clif(c) => TestCase::Clif(clif::reduce(c, &mut judge)),
        TestCase::Wasm(w) => TestCase::Wasm(wasm::reduce(w, &mut judge)),
    };
    let budget_exhausted = judge.out_of_budget();
    let tests = judge.tests;
    // Judge the result once more for its finding (rules fired, outcomes).
    let (case_out, finding) = match target.judge(&reduced) {
        CaseResult::Finding(f) if f.class() == class => (reduced, f),
        _ => (case.clone(), first),
    };
    Ok(Reduced {
        before: size(case),
        after: size(&case_out),
        case: case_out,
        finding,
        tests: tests + 1,
        elapsed: start.elapsed(),
        budget_exhausted,
    })
}

fn describe(result: &CaseResult) -> String {
    match result {
        CaseResult::Agree => "all executions agree".into(),
        CaseResult::Inconclusive(why) => format!("inconclusive: {why}"),
        CaseResult::Invalid(why) => format!("invalid test case: {why}"),
        CaseResult::Finding(f) => f.difference.clone(),
    }
}

/// The oracle behind [`reduce_case`]: a candidate is interesting when the
/// target judges it a finding of the same class.
struct Judge<'a> {
    target: &'a mut dyn Target,
    class: &'a FindingClass,
    deadline: Instant,
    tests_left: u64,
    tests: u64,
    stop: &'a AtomicBool,
}

impl Judge<'_> {
    fn judge(&mut self, case: &TestCase) -> bool {
        self.tests += 1;
        self.tests_left = self.tests_left.saturating_sub(1);
        matches!(self.target.judge(case), CaseResult::Finding(f) if f.class() == *self.class)
    }

    fn out_of_budget(&self) -> bool {
        self.tests_left == 0 || Instant::now() >= self.deadline || self.stop.load(Ordering::Relaxed)
    }
}

impl Oracle<ClifCase> for Judge<'_> {
    fn interesting(&mut self, candidate: &ClifCase) -> bool {
        self.judge(&TestCase::Clif(candidate.clone()))
    }
    fn exhausted(&self) -> bool {
        self.out_of_budget()
    }
}

impl Oracle<WasmCase> for Judge<'_> {
    fn interesting(&mut self, candidate: &WasmCase) -> bool {
        self.judge(&TestCase::Wasm(candidate.clone()))
    }
    fn exhausted(&self) -> bool {
        self.out_of_budget()
    }
}
