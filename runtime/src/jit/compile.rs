//! Compiling a module: translate every defined function, compile it with
//! Cranelift for the configured ISA, link everything into one code mapping
//! and collect the trap sites.
//!
//! Verification: with [`JitConfig::verifier`] on, every function is run
//! through Cranelift's IR verifier twice — as translated (before Cranelift
//! touches it) and after the mid-end (what the backend lowers).
//! `Context::compile` with `enable_verifier` would verify the same
//! function five times at `opt_level=speed` (twice on the unchanged input,
//! then after each mid-end pass), which cost about a quarter of all
//! campaign time; the ISA is therefore built with Cranelift's own
//! verification off and [`compile_function`] runs the pipeline itself.

use std::cell::RefCell;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{Function, UserFuncName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{CodegenError, CompiledCode, Context};
use cranelift_frontend::FunctionBuilderContext;

use crate::jit::code::{self, FuncCode, Linked};
use crate::jit::config::JitConfig;
use crate::jit::translate::{ModuleEnv, translate_function, wasm_signature};
use crate::jit::vmctx::VMOffsets;
use crate::module::Module;

/// Everything a compilation reuses from one function to the next (each
/// keeps its allocations).
pub(crate) struct Contexts {
    pub(crate) ctx: Context,
    fctx: FunctionBuilderContext,
    regalloc: regalloc2::Ctx,
}

impl Contexts {
    fn new() -> Contexts {
        Contexts {
            ctx: Context::new(),
            fctx: FunctionBuilderContext::new(),
            regalloc: regalloc2::Ctx::default(),
        }
    }
}

thread_local! {
    /// Reused compilation contexts.
    static CONTEXTS: RefCell<Option<Contexts>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's reusable contexts (fresh ones if they are in
/// use further up the stack).
pub(crate) fn with_contexts<R>(f: impl FnOnce(&mut Contexts) -> R) -> R {
    let mut c = CONTEXTS
        .with(|c| c.borrow_mut().take())
        .unwrap_or_else(Contexts::new);
    let r = f(&mut c);
    c.ctx.clear();
    CONTEXTS.with(|slot| *slot.borrow_mut() = Some(c));
    r
}

/// Compiles `ctx.func` for `isa` (whose own `enable_verifier` must be off):
/// verifies it as given if `verify`, runs the mid-end, verifies the result
/// if `verify`, then lowers, allocates registers and emits. Errors are
/// Cranelift's messages, verifier errors pretty-printed with the function.
pub(crate) fn compile_function(
    c: &mut Contexts,
    isa: &dyn TargetIsa,
    verify: bool,
) -> Result<CompiledCode, String> {
    let ctx = &mut c.ctx;
    let pretty = |ctx: &Context, e: CodegenError| {
        cranelift_codegen::print_errors::pretty_error(&ctx.func, e)
    };
    if verify {
        ctx.verify(isa)
            .map_err(|e| format!("verifier (input): {}", pretty(ctx, e.into())))?;
    }
    let mut ctrl = ControlPlane::default();
    ctx.optimize(isa, &mut ctrl).map_err(|e| pretty(ctx, e))?;
    if verify {
        ctx.verify(isa)
            .map_err(|e| format!("verifier (after mid-end): {}", pretty(ctx, e.into())))?;
    }
    let stencil = isa
        .compile_function(&ctx.func, &ctx.domtree, &mut c.regalloc, false, &mut ctrl)
        .map_err(|e| pretty(ctx, e))?;
    Ok(stencil.apply_params(&ctx.func.params))
}

fn module_env<'a>(module: &'a Module, config: &JitConfig, isa: &dyn TargetIsa) -> ModuleEnv<'a> {
    ModuleEnv {
        module,
        offsets: VMOffsets::new(module),
        config: *config,
        frontend: isa.frontend_config(),
    }
}

/// Translates defined function `def` to CLIF (unoptimized, as handed to
/// Cranelift).
pub fn translate_to_clif(
    module: &Module,
    def: u32,
    config: &JitConfig,
    isa: &dyn TargetIsa,
) -> Result<Function, String> {
    let env = module_env(module, config, isa);
    let ty = module.func_type(module.num_imported_funcs + def);
    let mut func = Function::with_name_signature(UserFuncName::user(0, def), wasm_signature(ty));
    let mut fctx = FunctionBuilderContext::new();
    translate_function(&env, def, &mut func, &mut fctx)?;
    Ok(func)
}

/// Compiles every defined function of `module` into one linked unit.
pub fn compile_module(
    module: &Module,
    config: &JitConfig,
    isa: &dyn TargetIsa,
) -> Result<Linked, String> {
    let env = module_env(module, config, isa);
    let result = with_contexts(|c| compile_all(&env, c, isa));
    code::link(&result?)
}

fn compile_all(
    env: &ModuleEnv<'_>,
    c: &mut Contexts,
    isa: &dyn TargetIsa,
) -> Result<Vec<FuncCode>, String> {
    let module = env.module;
    let mut out = Vec::with_capacity(module.bodies.len());
    for def in 0..module.bodies.len() as u32 {
        let idx = module.num_imported_funcs + def;
        c.ctx.clear();
        c.ctx.func = Function::with_name_signature(
            UserFuncName::user(0, def),
            wasm_signature(module.func_type(idx)),
        );
        translate_function(env, def, &mut c.ctx.func, &mut c.fctx)
            .map_err(|e| format!("translating function {idx}: {e}"))?;
        let compiled = compile_function(c, isa, env.config.verifier)
            .map_err(|e| format!("compiling function {idx}: {e}"))?;
        out.push(FuncCode::new(
            &compiled.buffer,
            c.ctx.func.params.user_named_funcs(),
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jit::JitConfig;

    fn parse(text: &str) -> Function {
        cranelift_reader::parse_functions(text).unwrap().remove(0)
    }

    #[test]
    fn the_verifier_rejects_ill_typed_input() {
        let isa = JitConfig::default().build_isa().unwrap();
        let bad = parse(
            "function %f(i32, i64) -> i32 {\nblock0(v0: i32, v1: i64):\n  v2 = iadd v0, v1\n  return v2\n}",
        );
        let err = with_contexts(|c| {
            c.ctx.func = bad;
            compile_function(c, &*isa, true)
        })
        .unwrap_err();
        assert!(err.contains("verifier (input)"), "{err}");
    }

    #[test]
    fn valid_functions_compile_with_and_without_verification() {
        let isa = JitConfig::default().build_isa().unwrap();
        let text = "function %f(i32, i32) -> i32 {\nblock0(v0: i32, v1: i32):\n  v2 = iadd v0, v1\n  return v2\n}";
        for verify in [true, false] {
            let code = with_contexts(|c| {
                c.ctx.func = parse(text);
                compile_function(c, &*isa, verify)
            })
            .unwrap();
            assert!(!code.buffer.data().is_empty());
        }
    }
}
