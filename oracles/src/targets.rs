//! Campaign targets: a generator wired to an oracle. One file per family
//! of executions: wasm cases go through [`WasmOracle`] (interpreter vs JIT
//! configurations); CLIF cases through `runtime::clif`'s differential
//! judge (cranelift-interpreter vs native vs Pulley vs mid-end).

use std::sync::{Arc, Mutex};

use shoal_generators::{GeneratorKind, TestCase, WasmCase};
use shoal_runtime::Limits;
use shoal_runtime::clif::differential::{Executor, Verdict as ClifVerdict, judge_all};
use shoal_runtime::clif::{ClifModule, Invocation as ClifInvocation};
use shoal_runtime::coverage::{RuleHits, collect};
use shoal_runtime::engine::Engine;
use shoal_runtime::interp::InterpEngine;
use shoal_runtime::jit::{BoundsMode, JitConfig, JitEngine, OptLevel};

use crate::campaign::{CaseResult, Target};
use crate::finding::{Finding, signature};
use crate::verdict::Verdict;
use crate::wasm::{WasmOracle, finding};

/// Fuel per invocation in campaigns: deterministic and small enough that a
/// looping case costs milliseconds.
pub const CAMPAIGN_FUEL: u64 = 20_000;

/// Fuel for the CLIF reference interpreter (steps).
pub const CLIF_FUEL: u64 = 200_000;

/// The default wasm executions: the interpreter (reference) and the JIT at
/// opt none and speed with explicit bounds checks, and speed with guard
/// pages.
pub fn default_wasm_engines() -> Vec<Box<dyn Engine>> {
    let mut engines: Vec<Box<dyn Engine>> = vec![Box::new(InterpEngine::new())];
    let configs = [
        JitConfig::with_opt(OptLevel::None),
        JitConfig::with_opt(OptLevel::Speed),
        JitConfig {
            bounds: BoundsMode::Guard,
            ..JitConfig::with_opt(OptLevel::Speed)
        },
    ];
    for c in configs {
        if let Ok(e) = JitEngine::new(c) {
            engines.push(Box::new(e));
        }
    }
    engines
}

/// Campaign limits for wasm cases.
pub fn campaign_limits() -> Limits {
    Limits {
        fuel: Some(CAMPAIGN_FUEL),
        max_call_depth: 200,
        ..Limits::default()
    }
}

/// Rule hits shared by every worker of a campaign.
pub type SharedHits = Arc<Mutex<RuleHits>>;

/// A wasm generator judged by the wasm oracle.
pub struct WasmTarget {
    kind: GeneratorKind,
    name: &'static str,
    oracle: WasmOracle,
    hits: SharedHits,
}

impl WasmTarget {
    /// `kind` must produce wasm; engines per [`default_wasm_engines`].
    pub fn new(kind: GeneratorKind, name: &'static str, hits: SharedHits) -> WasmTarget {
        WasmTarget {
            kind,
            name,
            oracle: WasmOracle::new(default_wasm_engines(), campaign_limits()),
            hits,
        }
    }

    /// Judges one wasm case.
    pub fn judge_wasm(&self, case: &WasmCase) -> CaseResult {
        let (report, hits) = collect(|| self.oracle.run(&case.module, &case.invocations));
        if let Ok(mut shared) = self.hits.lock() {
            shared.merge(&hits);
        }
        let report = match report {
            Ok(r) => r,
            Err(e) => return CaseResult::Invalid(e.to_string()),
        };
        match &report.verdict {
            Verdict::Agree => CaseResult::Agree,
            Verdict::Inconclusive(why) => CaseResult::Inconclusive(why.clone()),
            Verdict::Discrepancy(d) => {
                let bytes = TestCase::Wasm(case.clone()).to_bytes();
                let mut f = finding(&report, d, &case.module, &case.invocations, bytes);
                f.rules = hits.iter().map(|(r, _)| r.to_string()).collect();
                CaseResult::Finding(Box::new(f))
            }
        }
    }
}

impl Target for WasmTarget {
    fn name(&self) -> &'static str {
        self.name
    }

    fn generate(&mut self, seed: u64) -> TestCase {
        self.kind.generate_from_seed(seed)
    }

    fn judge(&mut self, case: &TestCase) -> CaseResult {
        match case {
            TestCase::Wasm(case) => self.judge_wasm(case),
            TestCase::Clif(_) => {
                CaseResult::Invalid(format!("{} was given a CLIF case", self.name))
            }
        }
    }
}

/// The CLIF generator judged by the CLIF differential executors.
pub struct ClifTarget {
    executors: Vec<Executor>,
    hits: SharedHits,
}

impl ClifTarget {
    /// Executors per [`Executor::default_set`].
    pub fn new(hits: SharedHits) -> ClifTarget {
        ClifTarget {
            executors: Executor::default_set(),
            hits,
        }
    }

    /// Judges a CLIF filetest text.
    pub fn judge_text(&self, text: &str) -> CaseResult {
        let (module, runs) = match ClifModule::parse_with_runs(text) {
            Ok(x) => x,
            Err(e) => return CaseResult::Invalid(e.to_string()),
        };
        let (verdicts, hits) = collect(|| judge_all(&module, &runs, &self.executors, CLIF_FUEL));
        if let Ok(mut shared) = self.hits.lock() {
            shared.merge(&hits);
        }
        let verdicts = match verdicts {
            Ok(v) => v,
            Err(e) => return CaseResult::Invalid(e.to_string()),
        };
        if let Some(v) = verdicts.iter().find(|v| v.is_finding()) {
            return CaseResult::Finding(Box::new(clif_finding(text, &runs, v, &hits)));
        }
        match verdicts.iter().find_map(|v| match v {
            ClifVerdict::Inconclusive(why) => Some(why.clone()),
            _ => None,
        }) {
            Some(why)
                if verdicts
                    .iter()
                    .all(|v| !matches!(v, ClifVerdict::Agree { .. })) =>
            {
                CaseResult::Inconclusive(why)
            }
            _ => CaseResult::Agree,
        }
    }
}

impl Target for ClifTarget {
    fn name(&self) -> &'static str {
        "clif"
    }

    fn generate(&mut self, seed: u64) -> TestCase {
        GeneratorKind::Clif.generate_from_seed(seed)
    }

    fn judge(&mut self, case: &TestCase) -> CaseResult {
        match case {
            TestCase::Clif(case) => self.judge_text(&case.to_text()),
            TestCase::Wasm(_) => CaseResult::Invalid("the CLIF target was given wasm".into()),
        }
    }
}

fn clif_finding(text: &str, runs: &[ClifInvocation], v: &ClifVerdict, hits: &RuleHits) -> Finding {
    let (kind, odd, difference) = match v {
        ClifVerdict::Disagree(d) => ("clif-value", d.executor.to_string(), v.to_string()),
        ClifVerdict::CompileFailure(e, _) => ("clif-compile", e.to_string(), v.to_string()),
        _ => ("clif", String::new(), v.to_string()),
    };
    let ops: Vec<String> = text
        .lines()
        .filter_map(|l| l.split('=').nth(1))
        .filter_map(|rhs| rhs.split_whitespace().next())
        .map(str::to_string)
        .collect();
    Finding {
        signature: signature(kind, std::slice::from_ref(&odd), &ops),
        title: format!("{kind} discrepancy in {odd}"),
        case: text.as_bytes().to_vec(),
        extension: "clif",
        text: Some(text.to_string()),
        reference: "cranelift-interpreter".into(),
        odd: vec![odd],
        difference,
        outcomes: runs
            .iter()
            .map(|r| (r.func.clone(), format!("{:?}", r.args)))
            .collect(),
        rules: hits.iter().map(|(r, _)| r.to_string()).collect(),
    }
}
