//! Compile sweeps: compile every function of a module for the host under
//! several configurations, for Pulley and for the cross-ISA targets, only
//! to exercise lowering (run it inside [`crate::coverage::collect`] to
//! measure rule coverage). Failures are classified like the cross-ISA
//! checks.

use super::compile::{self, CompileFailure};
use super::config::{ClifConfig, OptLevel};
use super::cross_isa::{self, TARGETS};
use super::known::{self, KnownIssue};
use super::pulley::pulley64_isa;
use super::{ClifModule, differential::Executor};
use cranelift_codegen::ir::Function;

/// What to compile for.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    /// Host configurations (x64 or aarch64 lowering, plus the mid-end).
    pub host: Vec<ClifConfig>,
    /// Opt levels for pulley64.
    pub pulley: Vec<OptLevel>,
    /// Opt levels for the other cross-ISA targets (aarch64, riscv64,
    /// s390x, pulley32).
    pub cross: Vec<OptLevel>,
}

impl Default for SweepPlan {
    /// [`ClifConfig::quick`] on the host, Pulley at `none` and `speed`, the
    /// other targets at `speed`.
    fn default() -> SweepPlan {
        SweepPlan {
            host: ClifConfig::quick(),
            pulley: vec![OptLevel::None, OptLevel::Speed],
            cross: vec![OptLevel::Speed],
        }
    }
}

/// A compile failure met during a sweep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepFailure {
    /// Target name (`x86_64`, `pulley64`, `aarch64`, ...).
    pub target: String,
    /// Cranelift's failure.
    pub failure: CompileFailure,
    /// The known issue it matches, if any (then it is not a finding).
    pub known: Option<&'static KnownIssue>,
}

/// Totals of one sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Successful function compilations.
    pub compiled: usize,
    /// Failures, known and new.
    pub failures: Vec<SweepFailure>,
}

impl SweepReport {
    /// Failures that match no documented gap.
    pub fn new_failures(&self) -> impl Iterator<Item = &SweepFailure> {
        self.failures.iter().filter(|f| f.known.is_none())
    }

    fn record(
        &mut self,
        target: &str,
        func: &Function,
        result: Result<(), CompileFailure>,
        retry: impl Fn(&Function) -> Result<(), CompileFailure>,
    ) {
        match result {
            Ok(()) => self.compiled += 1,
            Err(failure) => self.failures.push(SweepFailure {
                target: target.to_string(),
                known: explain(target, &failure, func, retry),
                failure,
            }),
        }
    }
}

/// The known issue behind compile `failure` of `func` on `target`: a
/// known bug whose workaround (recompiled with `retry`) compiles, or else
/// a documented combination.
pub(crate) fn explain(
    target: &str,
    failure: &CompileFailure,
    func: &Function,
    retry: impl Fn(&Function) -> Result<(), CompileFailure>,
) -> Option<&'static KnownIssue> {
    if let Some((rewritten, issues)) = known::work_around_function(target, func)
        && retry(&rewritten).is_ok()
    {
        return issues.first().copied();
    }
    known::match_compile_failure(target, failure, func)
}

impl SweepReport {}

/// Compiles every function of `module` as `plan` says, adding to `report`.
pub fn sweep(module: &ClifModule, plan: &SweepPlan, report: &mut SweepReport) {
    let host_target = Executor::Native(ClifConfig::default()).target_name();
    for config in &plan.host {
        let isa = match config.host_isa() {
            Ok(isa) => isa,
            Err(_) => continue,
        };
        let compile = |f: &Function| compile::compile_code(&*isa, f, config.mid_end).map(|_| ());
        for f in module.functions() {
            report.record(host_target, f, compile(f), compile);
        }
    }
    for &opt in &plan.pulley {
        let Ok(isa) = pulley64_isa(opt) else { continue };
        let compile = |f: &Function| compile::compile_code(&*isa, f, true).map(|_| ());
        for f in module.functions() {
            report.record("pulley64", f, compile(f), compile);
        }
    }
    for &opt in &plan.cross {
        for target in TARGETS.iter().filter(|t| t.name != "pulley64") {
            for f in module.functions() {
                match cross_isa::check_function(target, f, opt) {
                    Ok(()) => report.compiled += 1,
                    Err(e) => report.failures.push(SweepFailure {
                        target: e.target.to_string(),
                        failure: e.failure,
                        known: e.known,
                    }),
                }
            }
        }
    }
}
