//! The mid-end executor: every function of the module goes through
//! Cranelift's egraph mid-end (`Context::optimize`, at the configuration's
//! `opt_level` and ISA), the result is verified, and the optimised module is
//! interpreted. Comparing that with the interpreter on the original
//! isolates mid-end rewrites from lowering.

use cranelift_codegen::ir::Function;

use super::compile::{self, MidEndCache};
use super::interp;
use super::{ClifConfig, ClifModule, ExecError, Invocation, Outcome};

/// Optimises every function of `module` under `config` (a verifier failure
/// or panic is an [`ExecError::Compile`]).
pub fn optimize_module(
    module: &ClifModule,
    config: &ClifConfig,
) -> Result<Vec<Function>, ExecError> {
    optimize_module_cached(module, config, &MidEndCache::default())
}

/// [`optimize_module`] through `cache` (shared with the compiling
/// executors of the same module).
pub fn optimize_module_cached(
    module: &ClifModule,
    config: &ClifConfig,
    cache: &MidEndCache,
) -> Result<Vec<Function>, ExecError> {
    let isa = config.host_isa().map_err(ExecError::Inconclusive)?;
    module
        .functions()
        .iter()
        .map(|f| {
            compile::prepare_function(&*isa, f, config.mid_end, Some(cache))
                .map_err(ExecError::Compile)
        })
        .collect()
}

/// Interprets `inv` on the mid-end's output.
pub fn run(
    module: &ClifModule,
    inv: &Invocation,
    config: &ClifConfig,
    fuel: u64,
) -> Result<Outcome, ExecError> {
    module.check_invocation(inv)?;
    let optimized = optimize_module(module, config)?;
    interp::run_functions(&optimized, inv, fuel)
}
