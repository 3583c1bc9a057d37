//! The reduced Cranelift bugs in `corpus/regressions/` and the known-issue
//! machinery around them:
//!
//! * each regression still reproduces on this Cranelift (Pulley without the
//!   workaround disagrees with the interpreter or fails to compile), so an
//!   entry goes stale loudly once Cranelift is fixed;
//! * the differential judge classifies each as `Verdict::KnownIssue`
//!   naming that regression, never as a finding;
//! * a known issue never hides another discrepancy in the same case;
//! * a filetest's `target` lines decide which executors run.

use std::path::PathBuf;

use shoal_runtime::clif::differential::{Executor, Verdict, judge_all};
use shoal_runtime::clif::interp::{self, DEFAULT_FUEL};
use shoal_runtime::clif::known::{IssueClass, KNOWN_ISSUES};
use shoal_runtime::clif::{ClifConfig, ClifModule, ExecError, OptLevel, Outcome, pulley};

fn regressions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/regressions")
}

/// Regression files with run lines (wrong values and runtime panics).
/// Compile-only filetests (`test compile`, e.g. the mid-end panics) are
/// checked by the `clif_opt` fuzz target's tests instead.
fn runnable_regressions() -> Vec<(String, String)> {
    regression_files()
        .into_iter()
        .filter(|(_, text)| text.contains("; run:"))
        .collect()
}

fn regression_files() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(regressions_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "clif"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// The regression file a known issue names, for every bug entry.
fn bug_files() -> Vec<&'static str> {
    KNOWN_ISSUES
        .iter()
        .flat_map(|k| match k.class {
            IssueClass::Bug { regressions } => regressions,
            IssueClass::Unsupported => &[],
        })
        .copied()
        .collect()
}

#[test]
fn every_bug_entry_has_its_regression_file() {
    let files: Vec<String> = regression_files().into_iter().map(|(n, _)| n).collect();
    for f in bug_files() {
        assert!(
            files.iter().any(|n| n == f),
            "corpus/regressions/{f} missing"
        );
    }
    let readme = std::fs::read_to_string(regressions_dir().join("README.md")).unwrap();
    for f in &files {
        assert!(
            readme.contains(f.as_str()),
            "README.md does not describe {f}"
        );
    }
}

#[test]
fn regressions_still_reproduce_on_pulley() {
    for (name, text) in runnable_regressions() {
        let (module, runs) = ClifModule::parse_with_runs(&text).unwrap();
        assert!(!runs.is_empty(), "{name}: no run lines");
        let mut reproduced = false;
        for inv in &runs {
            let reference = interp::run(&module, inv, DEFAULT_FUEL).unwrap();
            for opt in [OptLevel::None, OptLevel::Speed] {
                reproduced |= match pulley::run(&module, inv, opt) {
                    Ok(observed) => observed != reference,
                    Err(ExecError::Compile(_)) => true,
                    Err(e) => panic!("{name}: {inv}: {e}"),
                };
            }
        }
        assert!(
            reproduced,
            "{name}: Pulley now agrees with the interpreter; drop the regression and its known issue"
        );
    }
}

#[test]
fn regressions_are_known_issues_not_findings() {
    let executors = Executor::default_set();
    for (name, text) in runnable_regressions() {
        let (module, runs) = ClifModule::parse_with_runs(&text).unwrap();
        let verdicts = judge_all(&module, &runs, &executors, DEFAULT_FUEL).unwrap();
        let mut named = false;
        for (inv, v) in runs.iter().zip(&verdicts) {
            assert!(!v.is_finding(), "{name}: {inv}: {v}");
            if let Verdict::KnownIssue { compared, .. } = v {
                // Native and mid-end executors were still compared.
                assert!(*compared >= executors.len() - 2, "{name}: {v}");
            }
            named |= v.known_issues().iter().any(|k| match k.class {
                IssueClass::Bug { regressions } => regressions.contains(&name.as_str()),
                IssueClass::Unsupported => false,
            });
        }
        assert!(
            named,
            "{name}: no verdict names this regression: {}",
            verdicts
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
}

const STORE_OFFSET: &str = "pulley-i128-store-offset.clif";

#[test]
fn a_known_issue_does_not_hide_another_disagreement() {
    let text = std::fs::read_to_string(regressions_dir().join(STORE_OFFSET)).unwrap();
    let (module, runs) = ClifModule::parse_with_runs(&text).unwrap();
    let faulty = ClifConfig {
        inject_fault: true,
        ..ClifConfig::default()
    };
    let executors = [
        Executor::Pulley(OptLevel::None),
        Executor::Native(faulty),
        Executor::Pulley(OptLevel::Speed),
    ];
    let verdicts = judge_all(&module, &runs, &executors, DEFAULT_FUEL).unwrap();
    let Verdict::Disagree(d) = &verdicts[0] else {
        panic!("expected the injected native fault: {}", verdicts[0]);
    };
    assert_eq!(d.executor, Executor::Native(faulty));
}

#[test]
fn target_lines_choose_the_executors() {
    let text = std::fs::read_to_string(regressions_dir().join(STORE_OFFSET)).unwrap();
    // Without its `target pulley64` line the case is not run on Pulley.
    let x64_only = text.replace("target pulley64\n", "");
    let (module, runs) = ClifModule::parse_with_runs(&x64_only).unwrap();
    assert_eq!(module.targets(), Some(&["x86_64".to_string()][..]));
    let executors = Executor::default_set();
    let verdicts = judge_all(&module, &runs, &executors, DEFAULT_FUEL).unwrap();
    let pulleys = executors
        .iter()
        .filter(|e| matches!(e, Executor::Pulley(_)))
        .count();
    match &verdicts[0] {
        Verdict::Agree {
            compared,
            reference,
        } => {
            assert_eq!(*compared, executors.len() - pulleys);
            assert!(matches!(reference, Outcome::Returned(_)));
        }
        other => panic!("{other}"),
    }
    // Without any target line every executor applies (and Pulley hits the
    // known bug).
    let plain = text
        .replace("target x86_64\n", "")
        .replace("target pulley64\n", "");
    let (module, runs) = ClifModule::parse_with_runs(&plain).unwrap();
    assert_eq!(module.targets(), None);
    let verdicts = judge_all(&module, &runs, &executors, DEFAULT_FUEL).unwrap();
    assert!(
        matches!(&verdicts[0], Verdict::KnownIssue { compared, .. } if *compared == executors.len()),
        "{}",
        verdicts[0]
    );
}

/// `shoal coverage`'s sweep over a small checked-in directory (this one):
/// every failure is explained by a known issue (the Pulley bugs here are
/// confirmed through their workaround), and x64, Pulley and mid-end rules
/// fire.
#[test]
fn coverage_sweep_over_the_regressions_fires_rules_and_knows_every_failure() {
    use shoal_runtime::clif::sweep::{SweepPlan, SweepReport, sweep};
    let mut report = SweepReport::default();
    let ((), hits) = shoal_runtime::coverage::collect(|| {
        for (name, text) in regression_files() {
            let (module, _) = ClifModule::parse_with_runs(&text).unwrap();
            let before = report.failures.len();
            sweep(&module, &SweepPlan::default(), &mut report);
            // A compile-only regression still fails, as the known bug that
            // names it.
            if !text.contains("; run:") {
                assert!(
                    report.failures[before..]
                        .iter()
                        .any(|f| f.known.is_some_and(|k| matches!(
                            k.class,
                            IssueClass::Bug { regressions } if regressions.contains(&name.as_str())
                        ))),
                    "{name}: no longer fails to compile as its known bug; drop it"
                );
            }
        }
    });
    assert!(report.compiled > 0);
    let new: Vec<String> = report
        .new_failures()
        .map(|f| format!("{}: {}", f.target, f.failure))
        .collect();
    assert!(new.is_empty(), "{new:#?}");
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.known.is_some_and(|k| k.name == "pulley-bmask-i128")),
        "the regalloc panic is not recognised: {:?}",
        report.failures
    );
    if cfg!(feature = "rule-coverage") {
        for unit in ["x64", "pulley", "opt"] {
            assert!(hits.in_unit(unit).next().is_some(), "{unit}: no rule fired");
        }
    }
}
