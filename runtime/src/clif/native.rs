//! The native executor: compiles a [`ClifModule`] for the host under a
//! [`ClifConfig`], links it into its own code memory, and calls functions
//! through per-function trampolines under [`catch_traps`], so hardware
//! traps come back as the Cranelift `TrapCode` registered at the faulting
//! instruction.
//!
//! CLIF under test has no vmctx to hang a Cranelift stack limit on, and
//! adding one would change the code being tested. The code is therefore
//! registered with [`CodeOptions::guard_page_is_stack_overflow`]: runaway
//! recursion that runs into the thread's stack guard *inside this code*
//! traps with `stk_ovf` instead of crashing. Code memory and the trap
//! registration are released when the [`NativeModule`] is dropped.

use cranelift_codegen::ir::Type;

use super::compile::{self, MidEndCache};
use super::link::{self, LinkedModule};
use super::values;
use super::{ClifConfig, ClifModule, ExecError, HostFeatures, Invocation, OptLevel, Outcome};
use crate::native::deadline::catch_until;
use crate::native::{CodeMemory, CodeOptions, CodeRegistration, catch_traps, register_code_with};

/// A module compiled and linked for the host.
pub struct NativeModule {
    // Field order matters: the registration must go before the memory.
    _registration: CodeRegistration,
    mem: CodeMemory,
    /// Trampoline offset per module function (None: signature unsupported).
    trampolines: Vec<Option<usize>>,
    ret_types: Vec<Vec<Type>>,
    inject_fault: bool,
}

impl NativeModule {
    /// Compiles every function of `module` (and a trampoline for each one
    /// with a supported signature) under `config`.
    pub fn compile(module: &ClifModule, config: &ClifConfig) -> Result<NativeModule, ExecError> {
        NativeModule::compile_cached(module, config, &MidEndCache::default())
    }

    /// [`NativeModule::compile`], taking the mid-end's output from `cache`
    /// (shared with the other executors of the same module).
    pub fn compile_cached(
        module: &ClifModule,
        config: &ClifConfig,
        cache: &MidEndCache,
    ) -> Result<NativeModule, ExecError> {
        let isa = config.host_isa().map_err(ExecError::Inconclusive)?;
        let funcs = module.functions();
        let mut codes = Vec::with_capacity(funcs.len() * 2);
        for f in funcs {
            let code = compile::prepare_function(&*isa, f, config.mid_end, Some(cache))
                .and_then(|prepared| compile::lower(&*isa, &prepared))
                .map_err(ExecError::Compile)?;
            codes.push(code);
        }
        // Harness code: one unoptimised baseline trampoline per signature
        // serves every host configuration (same calling convention).
        let tramp_isa = ClifConfig {
            opt_level: OptLevel::None,
            features: HostFeatures::Baseline,
            mid_end: false,
            regalloc_checker: false,
            inject_fault: false,
        }
        .host_isa()
        .map_err(ExecError::Inconclusive)?;
        let tramps =
            compile::trampolines("host", &*tramp_isa, funcs).map_err(ExecError::Compile)?;
        let LinkedModule {
            linked,
            trampolines,
        } = link::link_with_trampolines(funcs, &codes, &tramps)?;
        let options = CodeOptions {
            guard_page_is_stack_overflow: true,
        };
        let registration =
            register_code_with(linked.mem.addr(), linked.mem.len(), &linked.traps, options);
        let ret_types = funcs
            .iter()
            .map(|f| f.signature.returns.iter().map(|r| r.value_type).collect())
            .collect();
        Ok(NativeModule {
            _registration: registration,
            mem: linked.mem,
            trampolines,
            ret_types,
            inject_fault: config.inject_fault,
        })
    }

    /// Calls `inv` (whose function must belong to the module this was
    /// compiled from).
    pub fn call(&self, module: &ClifModule, inv: &Invocation) -> Result<Outcome, ExecError> {
        let (index, _) = module.check_invocation(inv)?;
        let tramp = self.trampolines[index].ok_or_else(|| {
            ExecError::Inconclusive(format!(
                "{}: signature not supported by the native trampoline",
                inv.func
            ))
        })?;
        let rets = &self.ret_types[index];
        let slots = inv.args.len().max(rets.len()).max(1);
        // u128 slots keep the buffer 16-byte aligned for vector loads.
        let mut buf: Vec<u128> = vec![0; slots];
        for (slot, arg) in buf.iter_mut().zip(&inv.args) {
            *slot = u128::from_ne_bytes(values::to_slot(arg));
        }
        let entry = self.mem.addr() + tramp;
        // SAFETY: `entry` is a trampoline compiled for the host with the
        // default (C) calling convention, taking one pointer to a buffer
        // with a 16-byte slot per argument and result. The code is live
        // (owned by `self`) and registered for trap handling. Frames skipped
        // by a trap are this closure's and the native code's, which own
        // nothing that needs dropping.
        let result = catch_until(super::EXEC_DEADLINE, catch_traps, || unsafe {
            let f: extern "C" fn(*mut u128) = std::mem::transmute(entry);
            f(buf.as_mut_ptr());
        });
        match result {
            Ok(()) => {
                let mut out: Vec<_> = rets
                    .iter()
                    .zip(&buf)
                    .map(|(ty, raw)| values::from_slot(&raw.to_ne_bytes(), *ty))
                    .collect();
                if self.inject_fault
                    && let Some(first) = out.first_mut()
                {
                    *first = values::flip_low_bit(first);
                }
                Ok(Outcome::Returned(out))
            }
            Err(trap) => Ok(Outcome::Trapped(trap.code)),
        }
    }
}

/// Compiles `module` under `config` and calls `inv` once.
pub fn run(
    module: &ClifModule,
    inv: &Invocation,
    config: &ClifConfig,
) -> Result<Outcome, ExecError> {
    module.check_invocation(inv)?;
    NativeModule::compile(module, config)?.call(module, inv)
}
