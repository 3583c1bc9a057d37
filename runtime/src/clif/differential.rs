//! Differential execution: run invocations of a [`ClifModule`] on the
//! reference interpreter and on a list of [`Executor`]s, and sort the
//! outcome into a [`Verdict`].
//!
//! Rules: a compile failure of a verified module is a finding on its own;
//! if the reference is inconclusive the invocation is inconclusive (never a
//! finding); an executor that is inconclusive is skipped; otherwise every
//! executor must match the reference exactly — same trap code, or returned
//! values equal lane by lane modulo NaN payloads ([`values`]).

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use cranelift_codegen::ir::{Function, Type};

use super::compile::MidEndCache;
use super::known::{self, KnownIssue};
use super::native::NativeModule;
use super::pulley::PulleyModule;
use super::{
    ClifConfig, ClifModule, CompileFailure, ExecError, Invocation, OptLevel, Outcome, interp,
    midend, values,
};

/// One way of executing CLIF besides the reference interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Executor {
    /// Compiled for the host under a configuration and run natively.
    Native(ClifConfig),
    /// Compiled for pulley64 at an opt level and run on pulley-interpreter.
    Pulley(OptLevel),
    /// Optimised by the mid-end under a configuration, then interpreted.
    MidEnd(ClifConfig),
}

impl fmt::Display for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Executor::Native(c) => write!(f, "native ({c})"),
            Executor::Pulley(o) => write!(f, "pulley64 (opt={})", o.as_str()),
            Executor::MidEnd(c) => write!(f, "mid-end+interpreter ({c})"),
        }
    }
}

impl Executor {
    /// The target name used by [`known::KNOWN_ISSUES`] and filetest
    /// `target` lines.
    pub fn target_name(&self) -> &'static str {
        match self {
            Executor::Native(_) | Executor::MidEnd(_) => {
                if cfg!(target_arch = "aarch64") {
                    "aarch64"
                } else {
                    "x86_64"
                }
            }
            Executor::Pulley(_) => "pulley64",
        }
    }

    /// The executors a fuzzing campaign runs one case on, chosen by `key`
    /// (a hash of the case, or its seed): one configuration of
    /// [`ClifConfig::quick`] natively, Pulley at `none` or `speed`, and the
    /// mid-end at `speed`. That is two lowerings per case instead of
    /// [`Executor::default_set`]'s six (lowering and register allocation
    /// are most of the cost), while consecutive keys cycle through all
    /// eight native × Pulley combinations, so every configuration keeps
    /// being exercised. Reproduce findings with the full set.
    pub fn sampled_set(key: u64) -> Vec<Executor> {
        let quick = ClifConfig::quick();
        let native = quick[(key % quick.len() as u64) as usize];
        let opt = [OptLevel::None, OptLevel::Speed][((key / quick.len() as u64) % 2) as usize];
        vec![
            Executor::Native(native),
            Executor::Pulley(opt),
            Executor::MidEnd(ClifConfig::default()),
        ]
    }

    /// A default spread: native under [`ClifConfig::quick`], Pulley at
    /// `none` and `speed`, and the mid-end at `speed`.
    pub fn default_set() -> Vec<Executor> {
        let mut out: Vec<Executor> = ClifConfig::quick()
            .into_iter()
            .map(Executor::Native)
            .collect();
        out.push(Executor::Pulley(OptLevel::None));
        out.push(Executor::Pulley(OptLevel::Speed));
        out.push(Executor::MidEnd(ClifConfig::default()));
        out
    }
}

/// An executor observed something other than the reference.
#[derive(Clone, Debug, PartialEq)]
pub struct Disagreement {
    /// Who disagreed.
    pub executor: Executor,
    /// The call.
    pub invocation: Invocation,
    /// What the interpreter observed.
    pub reference: Outcome,
    /// What the executor observed.
    pub observed: Outcome,
    /// Where they differ (result index and lane, or trap vs value).
    pub detail: String,
}

/// The judgement for one invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Every conclusive executor matched the reference.
    Agree {
        /// The reference outcome.
        reference: Outcome,
        /// How many executors were compared (inconclusive ones excluded).
        compared: usize,
    },
    /// The reference could not decide; nothing was compared.
    Inconclusive(String),
    /// An executor's outcome differs from the reference: a finding.
    Disagree(Box<Disagreement>),
    /// Cranelift failed to compile the verified module: a finding.
    CompileFailure(Executor, CompileFailure),
    /// Every conclusive executor matched the reference except for
    /// disagreements or compile failures that [`known`] entries explain
    /// (each confirmed by its predicate): counted, not a finding.
    KnownIssue {
        /// The reference outcome.
        reference: Outcome,
        /// How many executors were compared (inconclusive ones excluded,
        /// those that hit a known issue included).
        compared: usize,
        /// Which executor hit which issue.
        hits: Vec<KnownHit>,
    },
}

/// An executor that hit a known issue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KnownHit {
    /// The executor.
    pub executor: Executor,
    /// The issue.
    pub issue: &'static KnownIssue,
}

impl Verdict {
    /// Whether this is a finding.
    pub fn is_finding(&self) -> bool {
        matches!(self, Verdict::Disagree(_) | Verdict::CompileFailure(..))
    }

    /// The known issues behind a [`Verdict::KnownIssue`] (empty otherwise).
    pub fn known_issues(&self) -> Vec<&'static KnownIssue> {
        match self {
            Verdict::KnownIssue { hits, .. } => {
                let mut out: Vec<&'static KnownIssue> = Vec::new();
                for h in hits {
                    if !out.contains(&h.issue) {
                        out.push(h.issue);
                    }
                }
                out
            }
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Agree {
                reference,
                compared,
            } => {
                write!(f, "agree ({compared} executors): {reference}")
            }
            Verdict::Inconclusive(why) => write!(f, "inconclusive: {why}"),
            Verdict::Disagree(d) => write!(
                f,
                "DISAGREE {} on {}: interpreter {}, {} {} ({})",
                d.executor, d.invocation, d.reference, d.executor, d.observed, d.detail
            ),
            Verdict::CompileFailure(e, failure) => write!(f, "COMPILE FAILURE {e}: {failure}"),
            Verdict::KnownIssue {
                reference,
                compared,
                hits,
            } => {
                write!(f, "known issue")?;
                for (i, h) in hits.iter().enumerate() {
                    let sep = if i == 0 { " " } else { ", " };
                    write!(f, "{sep}{} on {}", h.issue.name, h.executor)?;
                }
                write!(f, "; otherwise agree ({compared} executors): {reference}")
            }
        }
    }
}

/// Where `observed` differs from `reference` for results of `ret_types`,
/// or `None` if they agree.
pub fn compare(ret_types: &[Type], reference: &Outcome, observed: &Outcome) -> Option<String> {
    match (reference, observed) {
        (Outcome::Trapped(a), Outcome::Trapped(b)) => {
            (a != b).then(|| format!("trap {a} vs trap {b}"))
        }
        (Outcome::Trapped(a), Outcome::Returned(_)) => Some(format!("trap {a} vs return")),
        (Outcome::Returned(_), Outcome::Trapped(b)) => Some(format!("return vs trap {b}")),
        (Outcome::Returned(x), Outcome::Returned(y)) => {
            if x.len() != y.len() || x.len() != ret_types.len() {
                return Some(format!("{} vs {} results", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .zip(ret_types)
                .enumerate()
                .find_map(|(i, ((a, b), ty))| {
                    values::lane_difference(*ty, a, b).map(|d| format!("result {i} {d}"))
                })
        }
    }
}

/// An executor, compiled once for a module.
enum Instance {
    Native(NativeModule),
    Pulley(PulleyModule),
    MidEnd(Vec<Function>),
}

fn instantiate(
    module: &ClifModule,
    executor: Executor,
    cache: &MidEndCache,
) -> Result<Instance, ExecError> {
    Ok(match executor {
        Executor::Native(c) => Instance::Native(NativeModule::compile_cached(module, &c, cache)?),
        Executor::Pulley(o) => Instance::Pulley(PulleyModule::compile_cached(module, o, cache)?),
        Executor::MidEnd(c) => Instance::MidEnd(midend::optimize_module_cached(module, &c, cache)?),
    })
}

fn call(
    instance: &Instance,
    module: &ClifModule,
    inv: &Invocation,
    fuel: u64,
) -> Result<Outcome, ExecError> {
    match instance {
        Instance::Native(m) => m.call(module, inv),
        Instance::Pulley(m) => m.call(module, inv),
        Instance::MidEnd(funcs) => interp::run_functions(funcs, inv, fuel),
    }
}

/// A module rewritten around one target's known bugs (`None`: nothing to
/// rewrite), shared by the executors of that target.
type SharedWorkaround = Option<Rc<known::Workaround>>;

/// An executor's instance for one part of a module.
enum Slot {
    /// Compiled (possibly from a known-bug workaround rewrite, whose
    /// issues are listed: then every call on it counts as hitting them).
    Ready(Instance, Vec<&'static KnownIssue>),
    /// A documented unsupported combination: the executor sits out.
    Known(&'static KnownIssue),
    /// Cannot run this module (inconclusive, not a finding).
    Skipped,
}

/// The executors compiled for one part of a module.
struct Group {
    module: ClifModule,
    /// The mid-end's output for `module`, shared by its executors.
    mid_end: MidEndCache,
    slots: Vec<(Executor, Slot)>,
    /// A new (not known) compile failure, which decides the verdict.
    failure: Option<(Executor, CompileFailure)>,
    /// Per target: the module rewritten around that target's known bugs
    /// (`None` inside: nothing to rewrite), built on first need.
    workarounds: RefCell<Vec<(&'static str, SharedWorkaround)>>,
    /// Instances compiled from a workaround, per executor, on first need.
    rescued: RefCell<Vec<(Executor, Option<Rc<Instance>>)>>,
}

impl Group {
    fn new(module: ClifModule, executors: &[Executor]) -> Group {
        let mut group = Group {
            module,
            mid_end: MidEndCache::default(),
            slots: Vec::with_capacity(executors.len()),
            failure: None,
            workarounds: RefCell::new(Vec::new()),
            rescued: RefCell::new(Vec::new()),
        };
        for &e in executors {
            let slot = match instantiate(&group.module, e, &group.mid_end) {
                Ok(instance) => Slot::Ready(instance, Vec::new()),
                Err(ExecError::Compile(f)) => group.compile_failed(e, f),
                Err(_) => Slot::Skipped,
            };
            group.slots.push((e, slot));
        }
        group
    }

    /// Sorts a compile failure of `e`: a known bug (the workaround
    /// compiles; checked first, as a bug can surface as a generic
    /// "unsupported" message), a documented combination, or a finding.
    fn compile_failed(&mut self, e: Executor, f: CompileFailure) -> Slot {
        let target = e.target_name();
        if let Some(w) = self.workaround(target)
            && let Ok(instance) = instantiate(&w.module, e, &w.mid_end)
        {
            return Slot::Ready(instance, w.issues.clone());
        }
        let func = self.module.function(&f.func);
        if let Some(k) = func.and_then(|func| known::match_compile_failure(target, &f, func)) {
            return Slot::Known(k);
        }
        self.failure.get_or_insert((e, f));
        Slot::Skipped
    }

    /// Whether no executor failed to compile (known issues included): then
    /// splitting the module by reachability would change nothing.
    fn compiled_cleanly(&self) -> bool {
        self.slots
            .iter()
            .all(|(_, slot)| matches!(slot, Slot::Ready(_, issues) if issues.is_empty()))
    }

    fn workaround(&self, target: &'static str) -> Option<Rc<known::Workaround>> {
        let mut cache = self.workarounds.borrow_mut();
        if let Some((_, w)) = cache.iter().find(|(t, _)| *t == target) {
            return w.clone();
        }
        let w = known::work_around(&self.module, target).map(Rc::new);
        cache.push((target, w.clone()));
        w
    }

    /// `e` compiled from the workaround module of its target, if any.
    fn rescued(&self, e: Executor) -> Option<(Rc<Instance>, Rc<known::Workaround>)> {
        let w = self.workaround(e.target_name())?;
        let mut cache = self.rescued.borrow_mut();
        let instance = match cache.iter().find(|(x, _)| *x == e) {
            Some((_, i)) => i.clone(),
            None => {
                let i = instantiate(&w.module, e, &w.mid_end).ok().map(Rc::new);
                cache.push((e, i.clone()));
                i
            }
        }?;
        Some((instance, w))
    }

    fn judge(&self, inv: &Invocation, ret_types: &[Type], fuel: u64) -> Result<Verdict, ExecError> {
        if let Some((e, f)) = &self.failure {
            return Ok(Verdict::CompileFailure(*e, f.clone()));
        }
        let reference = match interp::run(&self.module, inv, fuel) {
            Ok(o) => o,
            Err(ExecError::Invalid(why)) => return Err(ExecError::Invalid(why)),
            Err(e) => return Ok(Verdict::Inconclusive(e.to_string())),
        };
        let mut compared = 0;
        let mut hits = Vec::new();
        for (executor, slot) in &self.slots {
            let (instance, issues) = match slot {
                Slot::Ready(instance, issues) => (instance, issues),
                Slot::Known(issue) => {
                    hits.push(KnownHit {
                        executor: *executor,
                        issue,
                    });
                    continue;
                }
                Slot::Skipped => continue,
            };
            // A workaround module has the same functions in the same order,
            // so the original module resolves the invocation for both.
            let observed = match call(instance, &self.module, inv, fuel) {
                Ok(o) => o,
                Err(ExecError::Compile(f)) => return Ok(Verdict::CompileFailure(*executor, f)),
                Err(ExecError::Invalid(why)) => return Err(ExecError::Invalid(why)),
                Err(ExecError::Inconclusive(_)) => continue,
            };
            compared += 1;
            let Some(detail) = compare(ret_types, &reference, &observed) else {
                hits.extend(issues.iter().map(|&issue| KnownHit {
                    executor: *executor,
                    issue,
                }));
                continue;
            };
            // A disagreement on the original module may be a known bug:
            // confirmed only if the rewritten module then agrees.
            if issues.is_empty()
                && let Some((fixed, w)) = self.rescued(*executor)
                && let Ok(again) = call(&fixed, &self.module, inv, fuel)
                && compare(ret_types, &reference, &again).is_none()
            {
                hits.extend(w.issues.iter().map(|&issue| KnownHit {
                    executor: *executor,
                    issue,
                }));
                continue;
            }
            return Ok(Verdict::Disagree(Box::new(Disagreement {
                executor: *executor,
                invocation: inv.clone(),
                reference,
                observed,
                detail: if issues.is_empty() {
                    detail
                } else {
                    format!("{detail}, with known bugs worked around")
                },
            })));
        }
        Ok(if hits.is_empty() {
            Verdict::Agree {
                reference,
                compared,
            }
        } else {
            Verdict::KnownIssue {
                reference,
                compared,
                hits,
            }
        })
    }
}

/// Judges every invocation of `invocations` on `module` against the
/// reference interpreter (with `fuel`).
///
/// Each executor compiles the whole module once. If some executor fails
/// to compile it, each invocation runs instead on the part of the module
/// reachable from its function, so one function a backend cannot compile
/// does not silence the others (each executor compiles each part once).
///
/// Returns `Err` only for invalid invocations (unknown function, wrong
/// argument count or types).
pub fn judge_all(
    module: &ClifModule,
    invocations: &[Invocation],
    executors: &[Executor],
    fuel: u64,
) -> Result<Vec<Verdict>, ExecError> {
    // A filetest's `target` lines say which backends its code is for.
    let executors: Vec<Executor> = executors
        .iter()
        .copied()
        .filter(|e| module.targets_arch(e.target_name()))
        .collect();
    let executors = &executors[..];
    // Usually every executor compiles the whole module: then each function
    // is compiled once per executor and serves every invocation.
    let whole = Group::new(module.clone(), executors);
    if whole.compiled_cleanly() {
        return invocations
            .iter()
            .map(|inv| {
                let (_, ret_types) = module.check_invocation(inv)?;
                whole.judge(inv, &ret_types, fuel)
            })
            .collect();
    }
    let mut groups: Vec<(Vec<usize>, Group)> = Vec::new();
    let mut verdicts = Vec::with_capacity(invocations.len());
    for inv in invocations {
        let (index, ret_types) = module.check_invocation(inv)?;
        let part = module.reachable(index);
        let g = match groups.iter().position(|(p, _)| *p == part) {
            Some(g) => g,
            None => {
                let group = Group::new(module.subset(&part), executors);
                groups.push((part, group));
                groups.len() - 1
            }
        };
        verdicts.push(groups[g].1.judge(inv, &ret_types, fuel)?);
    }
    Ok(verdicts)
}

/// Judges one invocation (see [`judge_all`]).
pub fn judge(
    module: &ClifModule,
    inv: &Invocation,
    executors: &[Executor],
    fuel: u64,
) -> Result<Verdict, ExecError> {
    let mut v = judge_all(module, std::slice::from_ref(inv), executors, fuel)?;
    v.pop()
        .ok_or_else(|| ExecError::Invalid("no verdict".into()))
}
