//! The Pulley executor: compiles a [`ClifModule`] for `pulley64`, links the
//! bytecode (calls between module functions are `PulleyPcRel` relocations,
//! patched like any other), and runs it with `pulley-interpreter`'s
//! [`Vm::call`] through the same kind of trampoline as the native executor.
//!
//! Traps come back as `DoneReason::Trap { pc, kind }`: the trap table maps
//! the bytecode `pc` to its Cranelift `TrapCode`; traps raised by an
//! instruction's own semantics without a table entry (division by zero,
//! Pulley's own stack overflow check, ...) are mapped from their `TrapKind`.
//!
//! Adaptations and limits, with reasons:
//! * direct calls to module functions are marked `colocated` in the Pulley
//!   copy: Pulley lowers non-colocated direct calls to `call_indirect_host`
//!   (a call out to the embedder), which would leave the bytecode;
//! * libcalls are host calls on Pulley and are reported inconclusive;
//! * Pulley dereferences guest addresses with ordinary host loads and
//!   stores (it is meant for explicitly bounds-checked code), so a trapping
//!   access to unmapped memory faults inside the interpreter, at a PC no
//!   trap table knows. The call runs under [`catch_memory_faults`], which
//!   reports such a fault as `heap_oob`, like the native trap table does;
//!   the VM is discarded afterwards.

use std::cell::RefCell;
use std::ptr::NonNull;

use cranelift_codegen::ir::{Function, TrapCode, Type};
use cranelift_codegen::isa::OwnedTargetIsa;
use pulley_interpreter::interp::{DoneReason, TrapKind, Val, Vm, XRegVal};

use super::compile::{self, MidEndCache};
use super::config::{OptLevel, cached_isa_for};
use super::link::{self, LinkedModule};
use super::values;
use super::{ClifModule, ExecError, Invocation, Outcome};
use crate::native::deadline::catch_until;
use crate::native::{CodeMemory, catch_memory_faults};

/// The Pulley ISA shoal executes on (`pulley64`, host byte order).
pub fn pulley64_isa(opt_level: OptLevel) -> Result<OwnedTargetIsa, String> {
    cached_isa_for("pulley64", opt_level, false, &[])
}

/// A module compiled and linked as Pulley bytecode.
pub struct PulleyModule {
    mem: CodeMemory,
    trampolines: Vec<Option<usize>>,
    ret_types: Vec<Vec<Type>>,
    /// Trap sites relative to `mem`, sorted by offset.
    traps: Vec<(u32, TrapCode)>,
    vm: RefCell<Option<Box<Vm>>>,
}

fn colocate_module_calls(func: &mut Function, module: &ClifModule) {
    let params = func.params.clone();
    for (_, ext) in func.dfg.ext_funcs.iter_mut() {
        let name = ext.name.display(Some(&params)).to_string();
        if module.function(&name).is_some() {
            ext.colocated = true;
        }
    }
}

fn trap_kind_code(kind: &TrapKind) -> Option<TrapCode> {
    Some(match kind {
        TrapKind::DivideByZero => TrapCode::INTEGER_DIVISION_BY_ZERO,
        TrapKind::IntegerOverflow => TrapCode::INTEGER_OVERFLOW,
        TrapKind::BadConversionToInteger => TrapCode::BAD_CONVERSION_TO_INTEGER,
        TrapKind::MemoryOutOfBounds => TrapCode::HEAP_OUT_OF_BOUNDS,
        TrapKind::StackOverflow => TrapCode::STACK_OVERFLOW,
        TrapKind::DisabledOpcode => return None,
    })
}

impl PulleyModule {
    /// Compiles every function of `module` for `pulley64` at `opt_level`.
    pub fn compile(module: &ClifModule, opt_level: OptLevel) -> Result<PulleyModule, ExecError> {
        PulleyModule::compile_cached(module, opt_level, &MidEndCache::default())
    }

    /// [`PulleyModule::compile`], taking the mid-end's output from `cache`
    /// (shared with the other executors of the same module).
    pub fn compile_cached(
        module: &ClifModule,
        opt_level: OptLevel,
        cache: &MidEndCache,
    ) -> Result<PulleyModule, ExecError> {
        let isa = pulley64_isa(opt_level).map_err(ExecError::Inconclusive)?;
        let mut funcs: Vec<Function> = Vec::with_capacity(module.functions().len());
        let mut codes = Vec::new();
        for f in module.functions() {
            // The mid-end does not look at `colocated`; lowering does.
            let mut prepared = compile::prepare_function(&*isa, f, true, Some(cache))
                .map_err(ExecError::Compile)?;
            colocate_module_calls(&mut prepared, module);
            codes.push(compile::lower(&*isa, &prepared).map_err(ExecError::Compile)?);
            let mut original = f.clone();
            colocate_module_calls(&mut original, module);
            funcs.push(original);
        }
        // Harness code: compiled unoptimised, once per signature.
        let tramp_isa = pulley64_isa(OptLevel::None).map_err(ExecError::Inconclusive)?;
        let tramps =
            compile::trampolines("pulley64", &*tramp_isa, &funcs).map_err(ExecError::Compile)?;
        let LinkedModule {
            linked,
            trampolines,
        } = link::link_with_trampolines(&funcs, &codes, &tramps)?;
        let ret_types = funcs
            .iter()
            .map(|f| f.signature.returns.iter().map(|r| r.value_type).collect())
            .collect();
        Ok(PulleyModule {
            mem: linked.mem,
            trampolines,
            ret_types,
            traps: linked.traps,
            vm: RefCell::new(None),
        })
    }

    fn trap_code(&self, pc: NonNull<u8>, kind: Option<TrapKind>) -> Result<TrapCode, ExecError> {
        let offset = (pc.as_ptr() as usize).wrapping_sub(self.mem.addr());
        if let Ok(off) = u32::try_from(offset)
            && let Ok(i) = self.traps.binary_search_by_key(&off, |t| t.0)
        {
            return Ok(self.traps[i].1);
        }
        match kind.as_ref().and_then(trap_kind_code) {
            Some(code) => Ok(code),
            None => Err(ExecError::Inconclusive(format!(
                "pulley trap at bytecode offset {offset:#x} without a trap code"
            ))),
        }
    }

    /// Calls `inv` (whose function must belong to the module this was
    /// compiled from).
    pub fn call(&self, module: &ClifModule, inv: &Invocation) -> Result<Outcome, ExecError> {
        let (index, _) = module.check_invocation(inv)?;
        let tramp = self.trampolines[index].ok_or_else(|| {
            ExecError::Inconclusive(format!(
                "{}: signature not supported by the Pulley trampoline",
                inv.func
            ))
        })?;
        let rets = &self.ret_types[index];
        let slots = inv.args.len().max(rets.len()).max(1);
        let mut buf: Vec<u128> = vec![0; slots];
        for (slot, arg) in buf.iter_mut().zip(&inv.args) {
            *slot = u128::from_ne_bytes(values::to_slot(arg));
        }
        let mut vm_slot = self.vm.borrow_mut();
        if vm_slot.is_none() {
            let vm = Vm::new()
                .map_err(|_| ExecError::Inconclusive("pulley VM: out of memory".into()))?;
            *vm_slot = Some(Box::new(vm));
        }
        let Some(vm) = vm_slot.as_mut() else {
            return Err(ExecError::Inconclusive("pulley VM".into()));
        };
        let entry = NonNull::new((self.mem.addr() + tramp) as *mut u8)
            .ok_or_else(|| ExecError::Inconclusive("null pulley entry".into()))?;
        let args = [Val::XReg(XRegVal::new_u64(buf.as_mut_ptr() as u64))];
        // SAFETY: `entry` is a trampoline compiled for pulley64 taking one
        // pointer (an x register) and returning nothing; the bytecode lives
        // in `self.mem`; the buffer has a slot per argument and result.
        // SAFETY: as above. A memory fault skips only the interpreter's
        // frames, which own nothing needing a drop; the VM is discarded.
        let done = catch_until(super::EXEC_DEADLINE, catch_memory_faults, || {
            match unsafe { vm.call(entry, &args, []) } {
                DoneReason::ReturnToHost(_) => None,
                DoneReason::Trap { pc, kind } => Some(Ok((pc, kind))),
                DoneReason::CallIndirectHost { id, .. } => Some(Err(id)),
            }
        });
        let outcome = match done {
            Ok(None) => None,
            Ok(Some(Ok((pc, kind)))) => Some(self.trap_code(pc, kind)),
            Ok(Some(Err(id))) => Some(Err(ExecError::Inconclusive(format!(
                "pulley: host call {id} (libcall) is not supported"
            )))),
            Err(fault) => Some(Ok(fault.code)),
        };
        match outcome {
            None => Ok(Outcome::Returned(
                rets.iter()
                    .zip(&buf)
                    .map(|(ty, raw)| values::from_slot(&raw.to_ne_bytes(), *ty))
                    .collect(),
            )),
            Some(result) => {
                // Do not reuse a VM that stopped mid-call.
                *vm_slot = None;
                result.map(Outcome::Trapped)
            }
        }
    }
}

/// Compiles `module` for Pulley and calls `inv` once.
pub fn run(
    module: &ClifModule,
    inv: &Invocation,
    opt_level: OptLevel,
) -> Result<Outcome, ExecError> {
    module.check_invocation(inv)?;
    PulleyModule::compile(module, opt_level)?.call(module, inv)
}
