//! Campaign targets: a generator wired to an oracle. One file per family
//! of executions: wasm cases go through [`WasmOracle`] (interpreter vs JIT
//! configurations); CLIF cases through `runtime::clif`'s differential
//! judge (cranelift-interpreter vs native vs Pulley vs mid-end). The
//! rule-guided target ([`RuleGuidedTarget`]) makes cases of both kinds
//! with a shared [`Guide`] and judges them like the other two.

use std::sync::{Arc, Mutex};

use shoal_generators::{GeneratorKind, TestCase, WasmCase};
use shoal_runtime::Limits;
use shoal_runtime::clif::compile::FailureKind;
use shoal_runtime::clif::differential::{Executor, Verdict as ClifVerdict, judge_all};
use shoal_runtime::clif::{ClifModule, Invocation as ClifInvocation};
use shoal_runtime::coverage::{RuleHits, collect};
use shoal_runtime::engine::Engine;

use crate::campaign::{CaseResult, Target};
use crate::finding::{Finding, signature};
use crate::guidance::{Guide, Plan};
use crate::verdict::Verdict;
use crate::wasm::{WasmOracle, finding};

pub mod header;

pub use header::Header;

/// Fuel per invocation in campaigns: deterministic and small enough that a
/// looping case costs milliseconds.
pub const CAMPAIGN_FUEL: u64 = 20_000;

/// Fuel for the CLIF reference interpreter (steps).
pub const CLIF_FUEL: u64 = 200_000;

/// The default wasm executions, built: [`crate::engines::default_set`]
/// (the interpreter as reference, the JIT at opt none and speed with
/// explicit bounds checks and at speed with guard pages, and every external
/// engine compiled in), leaving out any this CPU cannot run.
pub fn default_wasm_engines() -> Vec<Box<dyn Engine>> {
    let (built, _unbuildable) = crate::engines::build_all(&crate::engines::default_set());
    built.into_iter().map(|(engine, _)| engine).collect()
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
    /// Set aside disagreements on cases that may observe an open NaN bit
    /// (for inputs no generator's NaN mode shaped: fuzz mutations).
    nan_guard: bool,
}

impl WasmTarget {
    /// `kind` must produce wasm; engines per [`default_wasm_engines`].
    pub fn new(kind: GeneratorKind, name: &'static str, hits: SharedHits) -> WasmTarget {
        WasmTarget::with_engines(kind, name, default_wasm_engines(), hits)
    }

    /// `kind` must produce wasm; judged on `engines` (the first is the
    /// reference; at least two for a comparison).
    pub fn with_engines(
        kind: GeneratorKind,
        name: &'static str,
        engines: Vec<Box<dyn Engine>>,
        hits: SharedHits,
    ) -> WasmTarget {
        let oracle = WasmOracle::new(engines, campaign_limits());
        WasmTarget::with_oracle(kind, name, oracle, hits)
    }

    /// `kind` must produce wasm; judged by `oracle`.
    pub fn with_oracle(
        kind: GeneratorKind,
        name: &'static str,
        oracle: WasmOracle,
        hits: SharedHits,
    ) -> WasmTarget {
        WasmTarget {
            kind,
            name,
            oracle,
            hits,
            nan_guard: false,
        }
    }

    /// Judges arbitrary (mutated) inputs: a disagreement on a module that
    /// may observe a NaN's open sign or payload
    /// ([`crate::fuzzing::wasm_nan`]) is inconclusive.
    pub fn guarding_nans(mut self) -> WasmTarget {
        self.nan_guard = true;
        self
    }

    /// Judges one wasm case.
    pub fn judge_wasm(&self, case: &WasmCase) -> CaseResult {
        self.judge_wasm_hits(case).0
    }

    /// Judges one wasm case; also returns the rules its compilations fired
    /// (already added to the shared counts).
    pub fn judge_wasm_hits(&self, case: &WasmCase) -> (CaseResult, RuleHits) {
        let (report, hits) = collect(|| self.oracle.run(&case.module, &case.invocations));
        if let Ok(mut shared) = self.hits.lock() {
            shared.merge(&hits);
        }
        let report = match report {
            Ok(r) => r,
            Err(e) => return (CaseResult::Invalid(e.to_string()), hits),
        };
        let result = match &report.verdict {
            Verdict::Agree => CaseResult::Agree,
            Verdict::Inconclusive(why) => CaseResult::Inconclusive(why.clone()),
            Verdict::Discrepancy(_)
                if self.nan_guard
                    && crate::fuzzing::wasm_nan::may_observe_nan_bits(&case.module) =>
            {
                CaseResult::Inconclusive(
                    "a disagreement on a case that may observe a NaN's open sign or payload".into(),
                )
            }
            Verdict::Discrepancy(d) => {
                let bytes = TestCase::Wasm(case.clone()).to_bytes();
                let mut f = finding(&report, d, &case.module, &case.invocations, bytes);
                f.rules = hits.iter().map(|(r, _)| r.to_string()).collect();
                CaseResult::Finding(Box::new(f))
            }
        };
        (result, hits)
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
    /// The executors, each with the ISA flags it compiles with.
    executors: Vec<(Executor, Vec<String>)>,
    hits: SharedHits,
}

impl ClifTarget {
    /// Executors per [`Executor::default_set`].
    pub fn new(hits: SharedHits) -> ClifTarget {
        ClifTarget::with_executors(Executor::default_set(), hits)
    }

    /// A target judging on `executors`.
    pub fn with_executors(executors: Vec<Executor>, hits: SharedHits) -> ClifTarget {
        ClifTarget {
            executors: executors
                .into_iter()
                .map(|e| {
                    let flags = header::executor_flags(&e);
                    (e, flags)
                })
                .collect(),
            hits,
        }
    }

    /// The executors for any filetest with header `h`: every executor of
    /// the target, plus a native compilation under the host feature preset
    /// the header's `target x86_64 <flags>` line asks for
    /// ([`header::preset_executor`]).
    pub fn executors_for(&self, h: &Header) -> Vec<Executor> {
        let mut executors: Vec<Executor> = self.executors.iter().map(|(e, _)| *e).collect();
        if let Some(e) = header::preset_executor(h)
            && !executors.contains(&e)
        {
            executors.push(e);
        }
        executors
    }

    /// Judges a CLIF filetest text.
    pub fn judge_text(&self, text: &str) -> CaseResult {
        self.judge_text_hits(text).0
    }

    /// Judges a CLIF filetest text; also returns the rules its
    /// compilations fired (already added to the shared counts).
    pub fn judge_text_hits(&self, text: &str) -> (CaseResult, RuleHits) {
        let executors = self.executors_for(&Header::of_text(text));
        self.judge_on(text, &executors, false)
    }

    /// Judges a CLIF filetest the way its header asks: only on the
    /// executors it admits ([`header::admitted`]), and a backend's explicit
    /// "unsupported" error (Cranelift's `CodegenError::Unsupported`, as
    /// opposed to a panic or a verifier error) makes the case inconclusive
    /// rather than a finding — for cases made by aiming at one rule and
    /// then mutated, whose operations need not be ones every backend
    /// lowers. Also returns the rules fired.
    pub fn judge_filetest_hits(&self, text: &str) -> (CaseResult, RuleHits) {
        let executors = header::admitted(&self.executors, &Header::of_text(text));
        self.judge_on(text, &executors, true)
    }

    fn judge_on(
        &self,
        text: &str,
        executors: &[Executor],
        unsupported_is_inconclusive: bool,
    ) -> (CaseResult, RuleHits) {
        // cranelift-reader panics on some malformed run lines.
        let parsed = std::panic::catch_unwind(|| ClifModule::parse_with_runs(text));
        let (module, runs) = match parsed {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => return (CaseResult::Invalid(e.to_string()), RuleHits::new()),
            Err(_) => {
                let why = "the CLIF reader panicked on the test case".to_string();
                return (CaseResult::Invalid(why), RuleHits::new());
            }
        };
        // Outside the executors' contract (an observed address, a load
        // from an arbitrary integer, ... as mutated seeds can have), the
        // module is only compiled (for rule coverage), not run.
        let contract = crate::fuzzing::contract::check(&module);
        let to_run = if contract.is_ok() { &runs[..] } else { &[] };
        let (verdicts, hits) = collect(|| judge_all(&module, to_run, executors, CLIF_FUEL));
        if let Ok(mut shared) = self.hits.lock() {
            shared.merge(&hits);
        }
        let verdicts: Vec<ClifVerdict> = match verdicts {
            Ok(v) => v
                .into_iter()
                .map(crate::fuzzing::clif::stack_is_a_resource)
                .map(|v| crate::fuzzing::clif::nan_payloads_are_open(v, &module))
                .collect(),
            Err(e) => return (CaseResult::Invalid(e.to_string()), hits),
        };
        if let Err(why) = contract {
            let why = format!("compiled, not run: outside the executors' contract: {why}");
            return (CaseResult::Inconclusive(why), hits);
        }
        let unsupported = |v: &&ClifVerdict| {
            unsupported_is_inconclusive
                && matches!(v, ClifVerdict::CompileFailure(_, f) if f.kind == FailureKind::Unsupported)
        };
        if let Some(v) = verdicts.iter().find(|v| v.is_finding() && !unsupported(v)) {
            let f = clif_finding(text, &runs, v, &hits);
            return (CaseResult::Finding(Box::new(f)), hits);
        }
        if let Some(v) = verdicts.iter().find(unsupported) {
            return (CaseResult::Inconclusive(v.to_string()), hits);
        }
        let result = match verdicts.iter().find_map(|v| match v {
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
        };
        (result, hits)
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

/// Cases between two refreshes of the guide from the campaign-wide counts.
const REFRESH_EVERY: u64 = 32;

/// The rule-guided generator: a [`Guide`] (shared by every worker) picks
/// the rule and makes the case; CLIF cases are judged like the CLIF
/// target's, wasm cases like a wasm target's. When the guide has nothing
/// to instantiate yet (no corpus, patterns still being extracted), the
/// instruction-first CLIF generator stands in.
pub struct RuleGuidedTarget {
    guide: Arc<Guide>,
    wasm: WasmTarget,
    clif: ClifTarget,
    hits: SharedHits,
    /// What the last generated case aimed at, until it is judged.
    pending: Option<Plan>,
    generated: u64,
}

impl RuleGuidedTarget {
    /// A target over `guide`, judging wasm cases with `wasm` and CLIF
    /// cases on the executors of [`Executor::default_set`] their header
    /// admits (see [`header`]).
    pub fn new(guide: Arc<Guide>, wasm: WasmOracle, hits: SharedHits) -> RuleGuidedTarget {
        RuleGuidedTarget {
            guide,
            wasm: WasmTarget::with_oracle(GeneratorKind::Wasm, "rule-guided", wasm, hits.clone()),
            clif: ClifTarget::new(hits.clone()),
            hits,
            pending: None,
            generated: 0,
        }
    }

    fn judge_hits(&self, case: &TestCase) -> (CaseResult, RuleHits) {
        match case {
            TestCase::Wasm(w) => self.wasm.judge_wasm_hits(w),
            TestCase::Clif(c) => self.clif.judge_filetest_hits(&c.to_text()),
        }
    }
}

impl Target for RuleGuidedTarget {
    fn name(&self) -> &'static str {
        "rule-guided"
    }

    /// The guided case for `seed`: deterministic given the seed and the
    /// coverage so far.
    fn generate(&mut self, seed: u64) -> TestCase {
        if self.generated.is_multiple_of(REFRESH_EVERY)
            && let Ok(hits) = self.hits.lock()
        {
            self.guide.refresh(&hits);
        }
        self.generated += 1;
        match self.guide.next(seed) {
            Some((plan, case)) => {
                self.pending = Some(plan);
                case
            }
            None => {
                self.pending = None;
                GeneratorKind::Clif.generate_from_seed(seed)
            }
        }
    }

    /// Judges `case`; the first case judged after [`Target::generate`] is
    /// taken to be the generated one and its hits are fed back to the guide
    /// (later calls, e.g. reduction candidates, are not).
    fn judge(&mut self, case: &TestCase) -> CaseResult {
        let (result, hits) = self.judge_hits(case);
        if let Some(plan) = self.pending.take() {
            let usable = !matches!(result, CaseResult::Invalid(_));
            self.guide.feedback(&plan, &hits, usable);
        }
        result
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guidance::Catalog;

    #[test]
    fn guided_cases_treat_explicit_unsupported_errors_as_inconclusive() {
        // x64 lowers `sqmul_round_sat` only for i16x8 (wasm's q15mulr).
        let text = "test run\nset opt_level=none\ntarget x86_64\n\nfunction %f(i32x4, i32x4) -> i32x4 {\nblock0(v0: i32x4, v1: i32x4):\n    v2 = sqmul_round_sat v0, v1\n    return v2\n}\n; run: %f(0x00000000000000000000000000000001, 0x00000000000000000000000000000002) == 0x00000000000000000000000000000000\n";
        let t = ClifTarget::new(Arc::new(Mutex::new(RuleHits::new())));
        // The x64-unlowered known issue explains it first (a known issue
        // counts as agreement); without it the guided path would call the
        // explicit "unsupported" error inconclusive.
        let r = t.judge_filetest_hits(text).0;
        assert!(
            matches!(r, CaseResult::Inconclusive(_) | CaseResult::Agree),
            "{r:?}"
        );
        // Plain judging lets only the known x86-64 gaps through (the
        // `x64-unlowered` known issue), instruction by instruction; see
        // `shoal_runtime::clif::known` for one that stays a finding.
        let plain = t.judge_text_hits(text).0;
        assert!(!matches!(plain, CaseResult::Finding(_)), "{plain:?}");
    }

    const SEED: &str = "test interpret\ntest run\ntarget x86_64\n\nfunction %f(i32, i32) -> i32 {\nblock0(v0: i32, v1: i32):\n    v2 = iadd v0, v1\n    return v2\n}\n; run: %f(1, 2) == 3\n";

    fn oracle() -> WasmOracle {
        WasmOracle::new(default_wasm_engines(), campaign_limits())
    }

    #[test]
    fn the_rule_guided_target_replays_seeds_and_feeds_back() {
        let hits: SharedHits = Arc::new(Mutex::new(RuleHits::new()));
        let mut catalog = Catalog::new();
        let r = catalog.add_rule("x64", "src/isa/x64/lower.isle:1").unwrap();
        catalog.add_seed(r, "clif_lower/a.clif", SEED.as_bytes().into(), true);
        let guide = Arc::new(Guide::new(catalog));
        let mut t = RuleGuidedTarget::new(guide.clone(), oracle(), hits.clone());
        let case = t.generate(1);
        assert!(String::from_utf8(case.to_bytes()).unwrap().contains("iadd"));
        assert!(matches!(t.judge(&case), CaseResult::Agree));
        assert_eq!(guide.summary().cases, 1);
        // A second judgement (e.g. a reduction candidate) is not fed back.
        assert!(matches!(t.judge(&case), CaseResult::Agree));
        assert_eq!(guide.summary().cases, 1);
        assert!(!hits.lock().unwrap().is_empty() || !shoal_runtime::coverage::ENABLED);
        // An empty guide falls back to generated CLIF.
        let mut empty = RuleGuidedTarget::new(Arc::new(Guide::new(Catalog::new())), oracle(), hits);
        assert!(matches!(empty.generate(5), TestCase::Clif(_)));
    }
}
