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

use cranelift_codegen::ir::{Function, Type};

use super::compile;
use super::link::{self, Piece};
use super::values;
use super::{ClifConfig, ClifModule, ExecError, Invocation, Outcome};
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
        let isa = config.host_isa().map_err(ExecError::Inconclusive)?;
        let funcs = module.functions();
        let mut codes = Vec::with_capacity(funcs.len() * 2);
        for f in funcs {
            let code =
                compile::compile_code(&*isa, f, config.mid_end).map_err(ExecError::Compile)?;
            codes.push(code);
        }
        // Trampolines: compiled like the functions (ISA, opt level), but
        // they are harness, not test subject.
        let mut tramp_funcs = Vec::new();
        let mut tramp_of = vec![None; funcs.len()];
        for (i, f) in funcs.iter().enumerate() {
            if compile::trampoline_compatible(&f.signature) {
                tramp_of[i] = Some(tramp_funcs.len());
                tramp_funcs.push(compile::trampoline(&*isa, f, i as u32));
            }
        }
        for t in &tramp_funcs {
            let code = crate::coverage::paused(|| compile::compile_code(&*isa, t, true))
                .map_err(ExecError::Compile)?;
            codes.push(code);
        }
        let all: Vec<&Function> = funcs.iter().chain(&tramp_funcs).collect();
        let pieces: Vec<Piece<'_>> = all
            .iter()
            .zip(&codes)
            .map(|(f, code)| Piece {
                name: f.name.to_string(),
                code,
                params: &f.params,
            })
            .collect();
        let linked = link::link(&pieces, &|_| None)?;
        let options = CodeOptions {
            guard_page_is_stack_overflow: true,
        };
        let registration =
            register_code_with(linked.mem.addr(), linked.mem.len(), &linked.traps, options);
        let trampolines = tramp_of
            .iter()
            .map(|t| t.map(|t| linked.offsets[funcs.len() + t]))
            .collect();
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
        let result = catch_traps(|| unsafe {
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
