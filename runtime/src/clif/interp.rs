//! The reference executor: `cranelift-interpreter` with a fuel bound.
//!
//! Everything the interpreter cannot decide is [`ExecError::Inconclusive`]:
//! fuel exhaustion, interpreter errors and panics (unimplemented opcodes),
//! and the traps that stand for undefined behaviour rather than a Cranelift
//! trap code (misaligned `aligned` access, bad `call_indirect` signature,
//! `debugtrap`, unsupported libcalls).
//!
//! Known deviations of `cranelift-interpreter` 0.135.8 from the CLIF
//! semantics are corrected by rewriting a copy of the functions before
//! interpreting them ([`reference_fixups`]); each fixup says what it
//! corrects.

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Function, InstBuilder, Opcode, types};
use cranelift_interpreter::environment::FunctionStore;
use cranelift_interpreter::interpreter::{Interpreter, InterpreterError, InterpreterState};
use cranelift_interpreter::step::{ControlFlow, CraneliftTrap};

use super::{ClifModule, ExecError, Invocation, Outcome, libcalls, values};

/// Default fuel: interpreted instructions per invocation.
pub const DEFAULT_FUEL: u64 = 200_000;

/// Stack for interpreting possibly-recursive functions: the interpreter
/// recurses on the host stack once per CLIF call, so deep (fuel-bounded)
/// CLIF recursion needs more than a test thread's 2 MiB. The memory is
/// reserved, not committed, until used.
const CALLING_STACK: usize = 256 << 20;

/// Interprets `inv` in `module` with at most `fuel` instructions.
pub fn run(module: &ClifModule, inv: &Invocation, fuel: u64) -> Result<Outcome, ExecError> {
    let (_, ret_types) = module.check_invocation(inv)?;
    let outcome = run_functions(module.functions(), inv, fuel)?;
    if let Outcome::Returned(vals) = &outcome {
        for (v, ty) in vals.iter().zip(&ret_types) {
            if !values::fits(v, *ty) {
                return Err(ExecError::Inconclusive(format!(
                    "interpreter returned {} for a {ty} result",
                    values::Shown(v)
                )));
            }
        }
    }
    Ok(outcome)
}

/// Interprets `inv` over an arbitrary (already verified) function list, e.g.
/// the mid-end's output.
pub(crate) fn run_functions(
    funcs: &[Function],
    inv: &Invocation,
    fuel: u64,
) -> Result<Outcome, ExecError> {
    let fixed = reference_fixups(funcs);
    let funcs = &fixed[..];
    // Without a call cycle the interpreter's host recursion is bounded by
    // the number of functions; only possibly-recursive code needs the big
    // stack of a dedicated thread.
    if !super::compile::call_graph_may_recurse(funcs) {
        return interpret(funcs, inv, fuel);
    }
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("shoal-clif-interp".into())
            .stack_size(CALLING_STACK)
            .spawn_scoped(s, || interpret(funcs, inv, fuel))
            .map_err(|e| ExecError::Inconclusive(format!("interpreter thread: {e}")))?
            .join()
            .unwrap_or_else(|_| {
                Err(ExecError::Inconclusive(
                    "interpreter thread panicked".into(),
                ))
            })
    })
}

fn interpret(funcs: &[Function], inv: &Invocation, fuel: u64) -> Result<Outcome, ExecError> {
    let mut store = FunctionStore::default();
    for f in funcs {
        store.add(f.name.to_string(), f);
    }
    let state = InterpreterState::default()
        .with_function_store(store)
        .with_libcall_handler(libcalls::interpret);
    let mut interpreter = Interpreter::new(state).with_fuel(Some(fuel));
    let result = super::compile::catch_quietly(|| interpreter.call_by_name(&inv.func, &inv.args));
    match result {
        Err((message, _)) => Err(ExecError::Inconclusive(format!(
            "interpreter panicked: {message}"
        ))),
        Ok(Err(InterpreterError::FuelExhausted)) => {
            Err(ExecError::Inconclusive("interpreter fuel exhausted".into()))
        }
        Ok(Err(e)) => Err(ExecError::Inconclusive(format!("interpreter error: {e}"))),
        Ok(Ok(ControlFlow::Return(vals))) => Ok(Outcome::Returned(vals.to_vec())),
        Ok(Ok(ControlFlow::Trap(CraneliftTrap::User(code)))) => Ok(Outcome::Trapped(code)),
        Ok(Ok(ControlFlow::Trap(other))) => Err(ExecError::Inconclusive(format!(
            "interpreter: {other} (undefined behaviour, not a trap code)"
        ))),
        Ok(Ok(other)) => Err(ExecError::Inconclusive(format!(
            "interpreter: unexpected control flow {other:?}"
        ))),
    }
}

/// Rewrites copies of `funcs` so the interpreter computes what the CLIF
/// specification says where it is known to differ:
///
/// * `srem x, -1` is 0 for every `x` (the spec only traps on a zero
///   divisor), but the interpreter traps with `int_ovf` for `x == MIN`. The
///   divisor -1 is replaced by 1 (`x srem 1` is also 0), leaving zero
///   divisors to trap as before.
pub fn reference_fixups(funcs: &[Function]) -> Vec<Function> {
    funcs
        .iter()
        .map(|f| {
            let mut f = f.clone();
            fix_srem(&mut f);
            f
        })
        .collect()
}

fn fix_srem(func: &mut Function) {
    let srems: Vec<_> = func
        .layout
        .blocks()
        .flat_map(|b| func.layout.block_insts(b))
        .filter(|&i| func.dfg.insts[i].opcode() == Opcode::Srem)
        .collect();
    for inst in srems {
        let ty = func.dfg.ctrl_typevar(inst);
        let divisor = func.dfg.inst_args(inst)[1];
        let mut pos = FuncCursor::new(func).at_inst(inst);
        let (minus_one, one) = if ty == types::I128 {
            let m = pos.ins().iconst(types::I64, -1);
            let o = pos.ins().iconst(types::I64, 1);
            (pos.ins().sextend(ty, m), pos.ins().uextend(ty, o))
        } else {
            let mask = if ty.bits() >= 64 {
                -1i64
            } else {
                ((1u64 << ty.bits()) - 1) as i64
            };
            (pos.ins().iconst(ty, mask), pos.ins().iconst(ty, 1))
        };
        let is_minus_one = pos.ins().icmp(IntCC::Equal, divisor, minus_one);
        let fixed = pos.ins().select(is_minus_one, one, divisor);
        pos.func.dfg.inst_args_mut(inst)[1] = fixed;
    }
}
