//! CLIF judging for the `clif_lower` and `clif_opt` fuzz targets.
//!
//! * `clif_lower` ([`ClifJudge::lower`]): the reference interpreter against
//!   native code at `opt_level=none` (baseline and all host ISA features)
//!   and Pulley at `opt_level=none`, then compile-only checks at
//!   `opt_level=none` with the verifier and regalloc2's checker for every
//!   `target` line of the case's header, with that line's ISA flags: the
//!   header names the targets a case is meant for (harvested seeds name the
//!   ISA and flags their ISLE rule needs; generated cases name x86_64, and
//!   pulley64 when they stay within what Pulley lowers). A panic, verifier
//!   error or regalloc-checker error there is a finding unless
//!   [`known::match_compile_failure`] documents it; a clean "unsupported" error
//!   or implementation limit is not (see [`is_cross_isa_finding`]).
//! * `clif_opt` ([`ClifJudge::opt`]): the unoptimised reference interpreter
//!   against the mid-end at `opt_level=speed` followed by the interpreter,
//!   and native code at `speed` with all host features, then the same
//!   compile-only checks at `opt_level=speed` (mid-end and lowering for
//!   each header target, so compile-only cases are compiled too).
//!
//! The header's `target` lines also choose the executions
//! ([`ClifJudge::executors_for`]): a case runs natively only if it names
//! the host ISA (with baseline features only if that line asks for none,
//! with all host features only if the host has every flag it asks for),
//! and on Pulley only if it names `pulley64`. Harvested seeds for another
//! backend use types and instructions the host backend never promised to
//! lower (64-bit vectors on x86_64, say). A case without `target` lines
//! runs everywhere.
//!
//! Functions must pass the verifier (else the case is invalid). A case
//! outside the executors' contract ([`contract`]) or calling a function it
//! does not define is not run — only compiled — and is inconclusive unless
//! compiling finds something: harvested seeds for compile-only rules use
//! such instructions (`get_stack_pointer`, 64-bit vector loads, ...).
//!
//! Findings carry the input case (what `shoal repro` reads) and a Cranelift
//! filetest reproducing the disagreement or compile failure.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use cranelift_codegen::ir::{Function, TrapCode};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings;
use shoal_generators::{ClifCase, TestCase};
use shoal_runtime::clif::compile::{self, CompileFailure, FailureKind};
use shoal_runtime::clif::config::{isa_for, shared_flags};
use shoal_runtime::clif::differential::{Executor, Verdict, judge_all};
use shoal_runtime::clif::pulley::pulley64_isa;
use shoal_runtime::clif::{
    ClifConfig, ClifModule, HostFeatures, Invocation, OptLevel, Outcome, filetest, known,
};

use super::{contract, nan};
use crate::campaign::{CaseResult, Target};
use crate::finding::{Finding, signature};
use crate::targets::CLIF_FUEL;

/// Header `target` lines remembered per judge (their ISAs are rebuilt only
/// once); a fuzzer that invents many distinct lines just stops caching.
const HEADER_ISA_CACHE: usize = 64;

/// A compile-only target: its name for [`known::match_compile_failure`] and the
/// ISA (shoal's shared flags, verifier and regalloc checker on).
#[derive(Clone)]
struct CrossIsa {
    name: &'static str,
    isa: OwnedTargetIsa,
}

/// Judges CLIF cases for one fuzz target.
pub struct ClifJudge {
    name: &'static str,
    executors: Vec<Executor>,
    /// Opt level of the compile-only checks; `None`: no such checks.
    cross_opt: Option<OptLevel>,
    /// The host's enabled boolean ISA flags (`has_sse41`, ...).
    host_flags: BTreeSet<String>,
    /// The host and Pulley ISAs, to verify inputs against before running
    /// them there (pointer widths are checked only with an ISA).
    host_isa: Option<OwnedTargetIsa>,
    pulley_isa: Option<OwnedTargetIsa>,
    header_isas: RefCell<HashMap<String, Option<CrossIsa>>>,
}

impl ClifJudge {
    /// The `clif_lower` judge (see the module documentation).
    pub fn lower() -> ClifJudge {
        let mut executors: Vec<Executor> = [HostFeatures::Baseline, HostFeatures::Native]
            .into_iter()
            .map(|features| {
                Executor::Native(ClifConfig {
                    opt_level: OptLevel::None,
                    features,
                    // The baseline compile doubles as the compile-only
                    // check of a plain `target x86_64` line.
                    regalloc_checker: features == HostFeatures::Baseline,
                    ..ClifConfig::default()
                })
            })
            .collect();
        executors.push(Executor::Pulley(OptLevel::None));
        ClifJudge::new("clif_lower", executors, Some(OptLevel::None))
    }

    /// The `clif_opt` judge (see the module documentation).
    pub fn opt() -> ClifJudge {
        let executors = vec![
            Executor::MidEnd(ClifConfig::default()),
            Executor::Native(ClifConfig::default()),
        ];
        ClifJudge::new("clif_opt", executors, Some(OptLevel::Speed))
    }

    /// A judge comparing `executors` against the reference interpreter,
    /// plus compile-only checks at `cross_opt` if given.
    pub fn new(
        name: &'static str,
        executors: Vec<Executor>,
        cross_opt: Option<OptLevel>,
    ) -> ClifJudge {
        ClifJudge {
            name,
            executors,
            cross_opt,
            host_flags: ClifConfig::default().target_flags().into_iter().collect(),
            host_isa: ClifConfig {
                features: HostFeatures::Baseline,
                ..ClifConfig::default()
            }
            .host_isa()
            .ok(),
            pulley_isa: pulley64_isa(OptLevel::None).ok(),
            header_isas: RefCell::new(HashMap::new()),
        }
    }

    /// The executors compared with the reference interpreter.
    pub fn executors(&self) -> &[Executor] {
        &self.executors
    }

    /// [`ClifJudge::executors_for`], without the executors whose ISA's
    /// verifier rejects `funcs` (a 32-bit address on a 64-bit target, say):
    /// Cranelift would report that as a verifier error of its own.
    pub fn verified_executors(&self, case: &ClifCase, funcs: &[Function]) -> Vec<Executor> {
        let valid = |isa: &Option<OwnedTargetIsa>| {
            isa.as_ref()
                .is_some_and(|isa| funcs.iter().all(|f| valid_for(&**isa, f)))
        };
        let (host_ok, pulley_ok) = (valid(&self.host_isa), valid(&self.pulley_isa));
        self.executors_for(case)
            .into_iter()
            .filter(|e| match e {
                Executor::Native(_) | Executor::MidEnd(_) => host_ok,
                Executor::Pulley(_) => pulley_ok,
            })
            .collect()
    }

    /// The executors that may run `case`, by its header's `target` lines
    /// (see the module documentation). The mid-end executor runs every
    /// case: the mid-end works before lowering.
    pub fn executors_for(&self, case: &ClifCase) -> Vec<Executor> {
        let lines: Vec<Vec<&str>> = case
            .header
            .iter()
            .filter_map(|l| l.strip_prefix("target "))
            .map(|l| l.split_whitespace().collect())
            .filter(|words: &Vec<&str>| !words.is_empty())
            .collect();
        if lines.is_empty() {
            return self.executors.clone();
        }
        let host = Executor::Native(ClifConfig::default()).target_name();
        let host_flags: Option<&[&str]> = lines
            .iter()
            .find(|w| family(w[0]) == Some(host))
            .map(|w| &w[1..]);
        let pulley = lines.iter().any(|w| w[0] == "pulley64");
        self.executors
            .iter()
            .copied()
            .filter(|e| match e {
                Executor::MidEnd(_) => true,
                Executor::Pulley(_) => pulley,
                Executor::Native(c) => host_flags.is_some_and(|flags| match c.features {
                    HostFeatures::Baseline => flags.is_empty(),
                    HostFeatures::Native => flags.iter().all(|f| self.host_flags.contains(*f)),
                    preset => flags.iter().all(|f| preset.x64_flags().contains(f)),
                }),
            })
            .collect()
    }

    /// Judges one case: the differential executions first, then the
    /// compile-only checks.
    pub fn judge_case(&self, case: &ClifCase) -> CaseResult {
        let funcs: Vec<Function> = case.functions.iter().map(|f| f.function.clone()).collect();
        if let Err(why) = verify_all(&funcs) {
            return CaseResult::Invalid(why);
        }
        let executed = match self.execute(case, funcs.clone()) {
            Ok(executed) => executed,
            Err(result) => return result,
        };
        let checked = match &executed {
            Executed::Verdicts(_, checked) => checked.clone(),
            Executed::Skipped(_) => BTreeSet::new(),
        };
        if let Some(opt) = self.cross_opt
            && let Some(f) = self.cross_check(case, &funcs, opt, &checked)
        {
            return CaseResult::Finding(Box::new(f));
        }
        let verdicts = match executed {
            Executed::Verdicts(v, _) => v,
            Executed::Skipped(why) => return CaseResult::Inconclusive(format!("not run: {why}")),
        };
        let inconclusive = verdicts.iter().find_map(|v| match v {
            Verdict::Inconclusive(why) => Some(why.clone()),
            _ => None,
        });
        match inconclusive {
            Some(why) if !verdicts.iter().any(|v| matches!(v, Verdict::Agree { .. })) => {
                CaseResult::Inconclusive(why)
            }
            _ => CaseResult::Agree,
        }
    }

    /// The differential executions of `case` (whose functions verify):
    /// `Err` is the final result (a finding, or an invalid invocation);
    /// a case that cannot be run (an undefined callee, outside the
    /// [`contract`]) is skipped, though it may still be compiled.
    fn execute(&self, case: &ClifCase, funcs: Vec<Function>) -> Result<Executed, CaseResult> {
        let module = match ClifModule::new(funcs) {
            Ok(m) => m,
            Err(e) => return Ok(Executed::Skipped(e.to_string())),
        };
        if let Err(why) = contract::check(&module) {
            let why = format!("outside the executors' contract: {why}");
            return Ok(Executed::Skipped(why));
        }
        let runs: Vec<Invocation> = case
            .functions
            .iter()
            .flat_map(|f| &f.runs)
            .map(|r| Invocation {
                func: format!("%{}", r.func),
                args: r.args.clone(),
            })
            .collect();
        let executors = self.verified_executors(case, module.functions());
        if executors.is_empty() && !self.executors_for(case).is_empty() {
            let why = "the functions are not valid for the host or Pulley ISA";
            return Ok(Executed::Skipped(why.to_string()));
        }
        let verdicts: Vec<Verdict> = judge_all(&module, &runs, &executors, CLIF_FUEL)
            .map_err(|e| CaseResult::Invalid(e.to_string()))?
            .into_iter()
            .map(stack_is_a_resource)
            .map(|v| nan_payloads_are_open(v, &module))
            .collect();
        if let Some(v) = verdicts.iter().find(|v| v.is_finding()) {
            let finding = self.verdict_finding(case, &module, v);
            return Err(CaseResult::Finding(Box::new(finding)));
        }
        // Functions the checked baseline executor compiled for the host.
        let baseline_checked = executors.iter().any(|e| {
            matches!(e, Executor::Native(c)
                if c.features == HostFeatures::Baseline && c.regalloc_checker)
        });
        let mut checked = BTreeSet::new();
        if baseline_checked {
            for inv in &runs {
                if let Some(i) = module.index_of(&inv.func) {
                    checked.extend(module.reachable(i));
                }
            }
        }
        Ok(Executed::Verdicts(verdicts, checked))
    }

    /// Compiles every function for the header's targets; the first
    /// failure that is a finding is returned. Functions in `checked` were
    /// already compiled, with the regalloc checker, for a plain host line.
    fn cross_check(
        &self,
        case: &ClifCase,
        funcs: &[Function],
        opt: OptLevel,
        checked: &BTreeSet<usize>,
    ) -> Option<Finding> {
        let host = Executor::Native(ClifConfig::default()).target_name();
        for (target, plain) in self.header_targets(case, opt) {
            for (i, func) in funcs.iter().enumerate() {
                if plain && target.name == host && checked.contains(&i) {
                    continue;
                }
                if let Err(failure) = compile_for(&*target.isa, func)
                    && is_cross_isa_finding(target.name, &failure, func)
                {
                    return Some(self.compile_finding(case, target.name, &failure, opt));
                }
            }
        }
        None
    }

    /// The ISAs of the header's `target` lines that Cranelift accepts,
    /// each with whether the line names no ISA flags.
    fn header_targets(&self, case: &ClifCase, opt: OptLevel) -> Vec<(CrossIsa, bool)> {
        let mut cache = self.header_isas.borrow_mut();
        let mut out = Vec::new();
        for line in case.header.iter().filter_map(|l| l.strip_prefix("target ")) {
            let isa = match cache.get(line) {
                Some(isa) => isa.clone(),
                None => {
                    let isa = header_isa(line, opt);
                    if cache.len() < HEADER_ISA_CACHE {
                        cache.insert(line.to_string(), isa.clone());
                    }
                    isa
                }
            };
            let plain = line.split_whitespace().count() == 1;
            out.extend(isa.map(|isa| (isa, plain)));
        }
        out
    }

    fn verdict_finding(&self, case: &ClifCase, module: &ClifModule, v: &Verdict) -> Finding {
        let (kind, odd, difference, repro) = match v {
            Verdict::Disagree(d) => {
                let line = filetest::RunLine {
                    invocation: d.invocation.clone(),
                    expected: d.reference.clone(),
                    observed: Some(d.observed.clone()),
                };
                let note = format!("shoal {}: {v}", self.name);
                let repro = match d.executor {
                    Executor::Native(c) | Executor::MidEnd(c) => {
                        filetest::write(module, &[line], &c, &note)
                    }
                    Executor::Pulley(o) => {
                        let c = ClifConfig {
                            opt_level: o,
                            features: HostFeatures::Baseline,
                            ..ClifConfig::default()
                        };
                        retarget(&filetest::write(module, &[line], &c, &note), "pulley64")
                    }
                };
                ("clif-value", d.executor.to_string(), v.to_string(), repro)
            }
            Verdict::CompileFailure(e, failure) => {
                let opt = match e {
                    Executor::Native(c) | Executor::MidEnd(c) => c.opt_level,
                    Executor::Pulley(o) => *o,
                };
                let repro = compile_repro(case, failure, opt, &format!("shoal {}: {v}", self.name));
                ("clif-compile", e.to_string(), v.to_string(), repro)
            }
            _ => ("clif", String::new(), v.to_string(), case.to_text()),
        };
        let outcomes = match v {
            Verdict::Disagree(d) => vec![
                ("cranelift-interpreter".to_string(), d.reference.to_string()),
                (d.executor.to_string(), d.observed.to_string()),
            ],
            _ => vec![(odd.clone(), difference.clone())],
        };
        Finding {
            signature: signature(kind, std::slice::from_ref(&odd), &operators(case)),
            title: format!("{kind} discrepancy in {odd} (fuzz target {})", self.name),
            case: TestCase::Clif(case.clone()).to_bytes(),
            extension: "clif",
            text: Some(repro),
            reference: "cranelift-interpreter".into(),
            odd: vec![odd],
            difference,
            outcomes,
            rules: Vec::new(),
        }
    }

    fn compile_finding(
        &self,
        case: &ClifCase,
        target: &str,
        failure: &CompileFailure,
        opt: OptLevel,
    ) -> Finding {
        let kind = "clif-cross-isa";
        let odd = vec![format!("{target} ({:?})", failure.kind)];
        let note = format!("shoal {}: {failure}", self.name);
        Finding {
            signature: signature(kind, &odd, &operators(case)),
            title: format!(
                "{:?} compiling for {target} (fuzz target {})",
                failure.kind, self.name
            ),
            case: TestCase::Clif(case.clone()).to_bytes(),
            extension: "clif",
            text: Some(compile_repro(case, failure, opt, &note)),
            reference: "(compile only)".into(),
            odd: odd.clone(),
            difference: failure.to_string(),
            outcomes: vec![(odd[0].clone(), failure.to_string())],
            rules: Vec::new(),
        }
    }
}

impl Target for ClifJudge {
    fn name(&self) -> &'static str {
        self.name
    }

    fn generate(&mut self, seed: u64) -> TestCase {
        shoal_generators::GeneratorKind::Clif.generate_from_seed(seed)
    }

    fn judge(&mut self, case: &TestCase) -> CaseResult {
        match case {
            TestCase::Clif(c) => self.judge_case(c),
            TestCase::Wasm(_) => CaseResult::Invalid(format!("{} was given wasm", self.name)),
        }
    }
}

/// An executor that ran out of stack where the reference did not hit a
/// host resource limit, like fuel: native code shares the thread's stack
/// (2 MiB on a test thread, 8 MiB under libFuzzer) and Pulley has its own,
/// while the interpreter recurses on a dedicated large stack. Deep
/// recursion within the interpreter's fuel is inconclusive, not a finding.
pub(crate) fn stack_is_a_resource(v: Verdict) -> Verdict {
    let overflow = Outcome::Trapped(TrapCode::STACK_OVERFLOW);
    match v {
        Verdict::Disagree(d) if d.observed == overflow && d.reference != overflow => {
            Verdict::Inconclusive(format!(
                "{} ran out of stack on {} (a host resource limit)",
                d.executor, d.invocation
            ))
        }
        other => other,
    }
}

/// A value disagreement on a case that may observe a NaN payload CLIF
/// leaves open ([`nan::check`]) says nothing: the executors may all be
/// right. The generator never writes such cases; mutations can.
pub(crate) fn nan_payloads_are_open(v: Verdict, module: &ClifModule) -> Verdict {
    match v {
        Verdict::Disagree(d) if matches!(d.observed, Outcome::Returned(_)) => {
            match nan::check(module) {
                Ok(()) => Verdict::Disagree(d),
                Err(why) => Verdict::Inconclusive(format!(
                    "{} disagrees on {}, but the case may observe a NaN payload: {why}",
                    d.executor, d.invocation
                )),
            }
        }
        other => other,
    }
}

/// What the differential part of judging came to.
enum Executed {
    /// One verdict per invocation (none is a finding), and the indices of
    /// the functions compiled for the host with baseline features and the
    /// regalloc checker.
    Verdicts(Vec<Verdict>, BTreeSet<usize>),
    /// The case was not run, for this reason.
    Skipped(String),
}

/// Every function has a body and passes the verifier (what Cranelift
/// requires of its input; the reader accepts ill-typed CLIF).
fn verify_all(funcs: &[Function]) -> Result<(), String> {
    let flags = settings::Flags::new(settings::builder());
    for func in funcs {
        if func.layout.entry_block().is_none() {
            return Err(format!("{} has no body", func.name));
        }
        cranelift_codegen::verify_function(func, &flags)
            .map_err(|e| format!("CLIF verifier error in {}: {e}", func.name))?;
    }
    Ok(())
}

/// Whether a compile-only failure is a finding: a panic, a verifier error
/// or a regalloc-checker error that is not a documented gap. A backend that
/// cleanly reports an unsupported instruction or an implementation limit
/// refuses code it was never asked to handle (the generators promise x64
/// and Pulley support, not every backend's), which is no miscompilation.
pub fn is_cross_isa_finding(target: &str, failure: &CompileFailure, func: &Function) -> bool {
    matches!(
        failure.kind,
        FailureKind::Panic | FailureKind::Verifier | FailureKind::Regalloc
    ) && known::match_compile_failure(target, failure, func).is_none()
}

/// The ISA a header `target` line names, with its ISA flags and shoal's
/// shared flags at `opt`; `None` if Cranelift does not accept the line.
fn header_isa(line: &str, opt: OptLevel) -> Option<CrossIsa> {
    let mut words = line.split_whitespace();
    let triple = words.next()?;
    let name = family(triple)?;
    let flags: Vec<&str> = words.collect();
    let isa = isa_for(triple, shared_flags(opt, true), &flags).ok()?;
    Some(CrossIsa { name, isa })
}

/// The target name [`known::KNOWN_ISSUES`] uses for a triple.
fn family(triple: &str) -> Option<&'static str> {
    const FAMILIES: [&str; 6] = [
        "x86_64", "aarch64", "riscv64", "s390x", "pulley32", "pulley64",
    ];
    FAMILIES.into_iter().find(|f| triple.starts_with(f))
}

/// Whether `func` passes the verifier with `isa` (which also checks
/// pointer widths).
fn valid_for(isa: &dyn TargetIsa, func: &Function) -> bool {
    cranelift_codegen::verify_function(func, isa).is_ok()
}

/// Compiles one function for `isa`, with platform calling conventions
/// replaced by the target's default (as the cross-ISA checks do). A
/// function the verifier rejects for this ISA before compilation is not
/// compiled: only what Cranelift does to valid input can be a finding.
fn compile_for(isa: &dyn TargetIsa, func: &Function) -> Result<(), CompileFailure> {
    let mut func = func.clone();
    let cc = func.signature.call_conv;
    if !matches!(cc, CallConv::Fast | CallConv::Tail) {
        func.signature.call_conv = isa.default_call_conv();
    }
    if !valid_for(isa, &func) {
        return Ok(());
    }
    compile::compile_code(isa, &func, true).map(|_| ())
}

/// A `test compile` filetest for a compile failure: the failing ISA (from
/// the failure) and shoal's shared flags, then the case's functions.
fn compile_repro(case: &ClifCase, failure: &CompileFailure, opt: OptLevel, note: &str) -> String {
    let mut header: Vec<String> = note.lines().map(|l| format!("; {l}")).collect();
    header.extend(
        [
            "test compile".to_string(),
            format!("set opt_level={}", opt.as_str()),
            "set enable_llvm_abi_extensions=true".to_string(),
            "set preserve_frame_pointers=true".to_string(),
        ]
        .into_iter()
        .chain(
            failure
                .flags
                .contains("regalloc_checker=true")
                .then(|| "set regalloc_checker=true".to_string()),
        )
        .chain([format!("target {}", failure.isa)]),
    );
    let mut text = header.join("\n");
    text.push('\n');
    for f in &case.functions {
        text.push('\n');
        text.push_str(&f.function.display().to_string());
    }
    text
}

/// Replaces the first `target` line of a filetest.
fn retarget(text: &str, target: &str) -> String {
    let mut done = false;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if !done && line.starts_with("target ") {
            out.push_str("target ");
            out.push_str(target);
            done = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Opcode names used in the case (for the finding signature).
fn operators(case: &ClifCase) -> Vec<String> {
    case.functions
        .iter()
        .flat_map(|f| {
            let func = &f.function;
            func.layout
                .blocks()
                .flat_map(move |b| func.layout.block_insts(b))
                .map(move |i| func.dfg.insts[i].opcode().to_string())
        })
        .collect()
}
