//! Per-signature glue code: entry trampolines (Rust → wasm) and host stubs
//! (wasm → Rust host function).
//!
//! Arguments and results cross the boundary in an array of 16-byte slots
//! (a value in the low bytes of its slot; see `store::value_to_raw`).
//!
//! * Entry trampoline, System V: `fn(code, callee_vmctx, values)` loads the
//!   arguments from `values`, calls `code` with the tail convention, and
//!   stores the results back into `values`.
//! * Host stub, tail convention, same signature as a wasm function of the
//!   type: spills its arguments into a stack slot array, calls
//!   `HostCtx::call(ctx, values) -> status`, traps with `traps::PENDING` on
//!   a nonzero status, and returns the results from the array.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use cranelift_codegen::ir::types;
use cranelift_codegen::ir::{
    AbiParam, Function, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
    UserFuncName,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use crate::jit::code::{self, CodeUnit, FuncCode, Linked};
use crate::jit::compile;
use crate::jit::config::JitConfig;
use crate::jit::translate::{clif_type, wasm_signature};
use crate::jit::traps;
use crate::values::FuncType;

/// Builds the entry trampoline for functions of type `ty`.
pub(crate) fn entry_trampoline(ty: &FuncType, isa: &dyn TargetIsa) -> Function {
    let mut sig = Signature::new(isa.default_call_conv());
    for _ in 0..3 {
        sig.params.push(AbiParam::new(types::I64));
    }
    let mut func = Function::with_name_signature(UserFuncName::user(1, 0), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let p = b.block_params(entry).to_vec();
    let (code, vmctx, values) = (p[0], p[1], p[2]);
    let flags = MemFlagsData::trusted();
    let mut args = vec![vmctx];
    for (i, &t) in ty.params.iter().enumerate() {
        args.push(b.ins().load(clif_type(t), flags, values, slot(i)));
    }
    let callee = b.import_signature(wasm_signature(ty));
    let call = b.ins().call_indirect(callee, code, &args);
    let results = b.inst_results(call).to_vec();
    for (i, r) in results.into_iter().enumerate() {
        b.ins().store(flags, r, values, slot(i));
    }
    b.ins().return_(&[]);
    b.finalize(isa.frontend_config());
    func
}

/// Builds the host stub for host functions of type `ty`.
pub(crate) fn host_stub(ty: &FuncType, isa: &dyn TargetIsa) -> Function {
    let sig = wasm_signature(ty);
    let mut func = Function::with_name_signature(UserFuncName::user(1, 1), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let p = b.block_params(entry).to_vec();
    let ctx = p[0];
    let n = ty.params.len().max(ty.results.len()).max(1);
    let ss = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        (n * 16) as u32,
        4,
    ));
    let values = b.ins().stack_addr(types::I64, ss, 0);
    let flags = MemFlagsData::trusted();
    for (i, &v) in p[1..].iter().enumerate() {
        b.ins().store(flags, v, values, slot(i));
    }
    let mut host_sig = Signature::new(isa.default_call_conv());
    host_sig.params.push(AbiParam::new(types::I64));
    host_sig.params.push(AbiParam::new(types::I64));
    host_sig.returns.push(AbiParam::new(types::I32));
    let host_sig = b.import_signature(host_sig);
    let f = b.ins().load(types::I64, flags.with_readonly(), ctx, 0);
    let call = b.ins().call_indirect(host_sig, f, &[ctx, values]);
    let status = b.inst_results(call)[0];
    b.ins().trapnz(status, traps::PENDING);
    let results: Vec<_> = ty
        .results
        .iter()
        .enumerate()
        .map(|(i, &t)| b.ins().load(clif_type(t), flags, values, slot(i)))
        .collect();
    b.ins().return_(&results);
    b.finalize(isa.frontend_config());
    func
}

fn slot(i: usize) -> i32 {
    (i * 16) as i32
}

/// Compiles and links standalone functions (no calls between them).
pub(crate) fn compile_standalone(
    funcs: Vec<Function>,
    isa: &dyn TargetIsa,
    verify: bool,
) -> Result<Linked, String> {
    let out = compile::with_contexts(|c| {
        let mut out = Vec::with_capacity(funcs.len());
        for f in funcs {
            c.ctx.clear();
            c.ctx.func = f;
            let compiled = compile::compile_function(c, isa, verify)
                .map_err(|e| format!("compiling glue code: {e}"))?;
            out.push(FuncCode::new(
                &compiled.buffer,
                c.ctx.func.params.user_named_funcs(),
            )?);
        }
        Ok::<_, String>(out)
    })?;
    code::link(&out)
}

/// Glue units cached per thread: (configuration, type, is-stub).
type GlueKey = (JitConfig, FuncType, bool);

thread_local! {
    static CACHE: RefCell<HashMap<GlueKey, Rc<CodeUnit>>> = RefCell::new(HashMap::new());
}

/// Most glue units kept per thread; beyond it units are compiled per store
/// (so random signatures cannot grow memory without bound).
const CACHE_LIMIT: usize = 4096;

/// The entry trampoline (`stub == false`) or host stub for `ty`, compiled
/// once per thread and configuration.
pub(crate) fn cached(
    config: &JitConfig,
    isa: &dyn TargetIsa,
    ty: &FuncType,
    stub: bool,
) -> Result<Rc<CodeUnit>, String> {
    let key = (*config, ty.clone(), stub);
    if let Some(u) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(u);
    }
    let func = if stub {
        host_stub(ty, isa)
    } else {
        entry_trampoline(ty, isa)
    };
    let unit = Rc::new(CodeUnit::register(compile_standalone(
        vec![func],
        isa,
        config.verifier,
    )?));
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < CACHE_LIMIT {
            c.insert(key, unit.clone());
        }
    });
    Ok(unit)
}
