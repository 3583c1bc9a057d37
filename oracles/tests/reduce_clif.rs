//! The CLIF reducer: planted structural predicates reduce to the few
//! instructions they need, stores that feed loads survive, budgets hold,
//! and a real executor fault (the native executor's test-only result bit
//! flip) reduces through the campaign's `reduce_case` to a couple of
//! instructions without changing the finding's class.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use shoal_generators::{ClifCase, GeneratorKind, TestCase};
use shoal_oracles::campaign::{CaseResult, Target};
use shoal_oracles::finding::{Finding, signature};
use shoal_oracles::reduce::{self, Budget, Oracle};
use shoal_runtime::clif::differential::{Executor, Verdict, judge_all};
use shoal_runtime::clif::{ClifConfig, ClifModule};

/// A predicate on the case text, with a test budget.
struct Planted<F: Fn(&str) -> bool> {
    predicate: F,
    calls: u64,
    limit: u64,
}

impl<F: Fn(&str) -> bool> Oracle<ClifCase> for Planted<F> {
    fn interesting(&mut self, candidate: &ClifCase) -> bool {
        self.calls += 1;
        (self.predicate)(&candidate.to_text())
    }
    fn exhausted(&self) -> bool {
        self.calls >= self.limit
    }
}

fn planted<F: Fn(&str) -> bool>(predicate: F) -> Planted<F> {
    Planted {
        predicate,
        calls: 0,
        limit: 10_000,
    }
}

const BIG: &str = "test interpret
test run
target x86_64

function %helper(i64) -> i64 {
block0(v0: i64):
    v1 = iconst.i64 3
    v2 = imul v0, v1
    return v2
}
; run: %helper(2) == 6

function %main(i32, i64) -> i32, i64 {
    sig0 = (i64) -> i64
    fn0 = %helper sig0

block0(v0: i32, v1: i64):
    v2 = iconst.i32 17
    v3 = iadd v0, v2
    v4 = call fn0(v1)
    v5 = ireduce.i32 v4
    v6 = bxor v3, v5
    v7 = iconst.i32 5
    v8 = rotl v6, v7
    brif v0, block1(v8), block2(v6)

block1(v9: i32):
    v10 = iconst.i32 -1
    v11 = band v9, v10
    v12 = uextend.i64 v11
    v13 = iadd v12, v1
    jump block3(v11, v13)

block2(v14: i32):
    v15 = popcnt v14
    v16 = sextend.i64 v15
    jump block3(v15, v16)

block3(v17: i32, v18: i64):
    v19 = isub v17, v8
    v20 = imul v18, v18
    return v19, v20
}
; run: %main(1, 7) == [0, 0]
; run: %main(0, -3) == [0, 0]
";

/// Whether `%main` is still invoked (a planted finding must be observed).
fn runs_main(text: &str) -> bool {
    text.contains("; run: %main(") || text.contains("; print: %main(")
}

fn instructions(case: &ClifCase) -> usize {
    reduce::size(&TestCase::Clif(case.clone())).instructions
}

#[test]
fn planted_rotl_reduces_to_a_handful() {
    let case = ClifCase::from_text(BIG).unwrap();
    let before = instructions(&case);
    // A finding needs the rotate and a result to observe.
    let mut oracle = planted(|t| t.contains("rotl") && t.contains("-> i32") && runs_main(t));
    let out = reduce::clif::reduce(&case, &mut oracle);
    let text = out.to_text();
    assert!(text.contains("rotl"), "{text}");
    // A textual predicate lets the rotate survive as a dead block
    // argument (a real judge needs its value to reach a result), so a
    // jump may remain: at most 6 of the 22.
    assert!(
        instructions(&out) <= 6,
        "{before} -> {}:\n{text}",
        instructions(&out)
    );
    assert_eq!(out.functions.len(), 1, "the helper is gone:\n{text}");
    assert_eq!(out.functions[0].runs.len(), 1, "{text}");
    assert!(ClifCase::from_text(&text).is_ok());
    assert!(oracle.calls < 400, "{} oracle calls", oracle.calls);
}

#[test]
fn parameters_become_run_line_constants_and_values_shrink() {
    let case = ClifCase::from_text(BIG).unwrap();
    // Needs the helper call and a multiplication by a non-trivial constant.
    let mut oracle = planted(|t| t.contains("call fn0") && t.contains("imul") && runs_main(t));
    let out = reduce::clif::reduce(&case, &mut oracle);
    let text = out.to_text();
    assert!(text.contains("call fn0") && text.contains("imul"), "{text}");
    let main = out
        .functions
        .iter()
        .find(|f| f.function.name.to_string() == "%main")
        .expect("main stays: it calls the helper");
    assert!(
        main.function.signature.params.is_empty(),
        "main's parameters became constants:\n{text}"
    );
    assert!(instructions(&out) <= 6, "{text}");
}

const STACK: &str = "function %f() -> i64 {
    ss0 = explicit_slot 16
    ss1 = explicit_slot 8

block0:
    v0 = stack_addr.i64 ss0
    v1 = iconst.i64 42
    store v1, v0
    store v1, v0+8
    v2 = stack_addr.i64 ss1
    store v1, v2
    v3 = iconst.i64 7
    v4 = iadd v1, v3
    v5 = load.i64 v0+8
    v6 = iadd v5, v4
    return v6
}
; run: %f() == 91
";

#[test]
fn stores_feeding_loads_are_kept() {
    let case = ClifCase::from_text(STACK).unwrap();
    let mut oracle = planted(|t| t.contains("load"));
    let out = reduce::clif::reduce(&case, &mut oracle);
    let text = out.to_text();
    assert!(text.contains("load.i64"), "{text}");
    assert_eq!(
        text.matches("store").count(),
        2,
        "both stores to the loaded slot stay, the unread slot's goes:\n{text}"
    );
    assert!(!text.contains("ss1"), "{text}");
}

#[test]
fn the_budget_is_respected() {
    let case = ClifCase::from_text(BIG).unwrap();
    let mut oracle = Planted {
        predicate: |_: &str| true,
        calls: 0,
        limit: 5,
    };
    let out = reduce::clif::reduce(&case, &mut oracle);
    assert!(oracle.calls <= 6, "{} calls", oracle.calls);
    assert!(ClifCase::from_text(&out.to_text()).is_ok());
}

/// Judges CLIF cases against the native executor with the test-only fault
/// (first result's low bit flipped), the way `ClifTarget` judges.
struct FaultyNative;

impl Target for FaultyNative {
    fn name(&self) -> &'static str {
        "faulty-native"
    }
    fn generate(&mut self, seed: u64) -> TestCase {
        GeneratorKind::Clif.generate_from_seed(seed)
    }
    fn judge(&mut self, case: &TestCase) -> CaseResult {
        let TestCase::Clif(c) = case else {
            return CaseResult::Invalid("not CLIF".into());
        };
        let text = c.to_text();
        let (module, runs) = match ClifModule::parse_with_runs(&text) {
            Ok(x) => x,
            Err(e) => return CaseResult::Invalid(e.to_string()),
        };
        let executor = Executor::Native(ClifConfig {
            inject_fault: true,
            ..ClifConfig::default()
        });
        let verdicts = match judge_all(&module, &runs, &[executor], 200_000) {
            Ok(v) => v,
            Err(e) => return CaseResult::Invalid(e.to_string()),
        };
        match verdicts.iter().find(|v| v.is_finding()) {
            Some(v @ Verdict::Disagree(d)) => {
                let odd = vec![d.executor.to_string()];
                CaseResult::Finding(Box::new(Finding {
                    signature: signature("clif-value", &odd, &[]),
                    title: "planted".into(),
                    case: text.clone().into_bytes(),
                    extension: "clif",
                    text: Some(text),
                    reference: "cranelift-interpreter".into(),
                    odd,
                    difference: v.to_string(),
                    outcomes: Vec::new(),
                    rules: Vec::new(),
                }))
            }
            _ => CaseResult::Agree,
        }
    }
}

#[test]
fn a_faulty_executor_finding_reduces_to_a_couple_of_instructions() {
    let mut target = FaultyNative;
    let (_, found) = (0..50)
        .find_map(|seed| {
            let case = target.generate(seed);
            match target.judge(&case) {
                CaseResult::Finding(f) if reduce::size(&case).instructions > 50 => Some((case, f)),
                _ => None,
            }
        })
        .expect("a generated case with a planted finding");
    let budget = Budget {
        time: Duration::from_secs(30),
        ..Budget::default()
    };
    let r = reduce::reduce_finding(&mut target, &found, budget, &AtomicBool::new(false)).unwrap();
    assert_eq!(r.finding.class(), found.class());
    assert!(
        r.after.instructions <= 3,
        "{}\n{}",
        r.summary(),
        r.case.to_bytes().len()
    );
    assert!(r.before.instructions > 50);
    assert!(matches!(target.judge(&r.case), CaseResult::Finding(_)));
}

#[test]
fn an_agreeing_case_is_not_reduced() {
    let case = TestCase::Clif(ClifCase::from_text(STACK).unwrap());
    let r = reduce::reduce_case(
        &mut AlwaysAgree,
        &case,
        None,
        Budget::default(),
        &AtomicBool::new(false),
    );
    assert!(matches!(r, Err(reduce::ReduceError::NotReproducible(_))));
}

struct AlwaysAgree;

impl Target for AlwaysAgree {
    fn name(&self) -> &'static str {
        "agree"
    }
    fn generate(&mut self, seed: u64) -> TestCase {
        GeneratorKind::Clif.generate_from_seed(seed)
    }
    fn judge(&mut self, _: &TestCase) -> CaseResult {
        CaseResult::Agree
    }
}
