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
//! * Pulley dereferences host addresses directly, like native code, so the
//!   stack-slots-only memory precondition of [`super`] applies; a trapping
//!   load from an unmapped address would fault in the interpreter itself
//!   (Pulley is meant for explicitly bounds-checked code).

use std::cell::RefCell;
use std::ptr::NonNull;

use cranelift_codegen::ir::{Function, TrapCode, Type};
use cranelift_codegen::isa::OwnedTargetIsa;
use pulley_interpreter::interp::{DoneReason, TrapKind, Val, Vm, XRegVal};

use super::compile;
use super::config::{OptLevel, isa_for, shared_flags};
use super::link::{self, Piece};
use super::values;
use super::{ClifModule, ExecError, Invocation, Outcome};
use crate::native::CodeMemory;

/// The Pulley ISA shoal executes on (`pulley64`, host byte order).
pub fn pulley64_isa(opt_level: OptLevel) -> Result<OwnedTargetIsa, String> {
    isa_for("pulley64", shared_flags(opt_level, false), &[])
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
        let isa = pulley64_isa(opt_level).map_err(ExecError::Inconclusive)?;
        let mut funcs: Vec<Function> = module.functions().to_vec();
        for f in &mut funcs {
            colocate_module_calls(f, module);
        }
        let mut codes = Vec::new();
        for f in &funcs {
            codes.push(compile::compile_code(&*isa, f, true).map_err(ExecError::Compile)?);
        }
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
        let trampolines = tramp_of
            .iter()
            .map(|t| t.map(|t| linked.offsets[funcs.len() + t]))
            .collect();
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
        let outcome = match unsafe { vm.call(entry, &args, []) } {
            DoneReason::ReturnToHost(_) => None,
            DoneReason::Trap { pc, kind } => Some(self.trap_code(pc, kind)),
            DoneReason::CallIndirectHost { id, .. } => Some(Err(ExecError::Inconclusive(format!(
                "pulley: host call {id} (libcall) is not supported"
            )))),
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
