//! Compiling a module: translate every defined function, compile it with
//! Cranelift for the configured ISA, link everything into one code mapping
//! and collect the trap sites.

use std::cell::RefCell;

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{Function, UserFuncName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::FunctionBuilderContext;

use crate::jit::code::{self, FuncCode, Linked};
use crate::jit::config::JitConfig;
use crate::jit::translate::{ModuleEnv, translate_function, wasm_signature};
use crate::jit::vmctx::VMOffsets;
use crate::module::Module;

thread_local! {
    /// Reused compilation contexts (they keep their allocations).
    static CONTEXTS: RefCell<Option<(Context, FunctionBuilderContext)>> =
        const { RefCell::new(None) };
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
    let (mut ctx, mut fctx) = CONTEXTS
        .with(|c| c.borrow_mut().take())
        .unwrap_or_else(|| (Context::new(), FunctionBuilderContext::new()));
    let result = compile_all(&env, &mut ctx, &mut fctx, isa);
    ctx.clear();
    CONTEXTS.with(|c| *c.borrow_mut() = Some((ctx, fctx)));
    code::link(&result?)
}

fn compile_all(
    env: &ModuleEnv<'_>,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
    isa: &dyn TargetIsa,
) -> Result<Vec<FuncCode>, String> {
    let module = env.module;
    let mut out = Vec::with_capacity(module.bodies.len());
    for def in 0..module.bodies.len() as u32 {
        let idx = module.num_imported_funcs + def;
        ctx.clear();
        ctx.func = Function::with_name_signature(
            UserFuncName::user(0, def),
            wasm_signature(module.func_type(idx)),
        );
        translate_function(env, def, &mut ctx.func, fctx)
            .map_err(|e| format!("translating function {idx}: {e}"))?;
        ctx.compile(isa, &mut ControlPlane::default())
            .map_err(|e| {
                format!(
                    "compiling function {idx}: {}",
                    cranelift_codegen::print_errors::pretty_error(e.func, e.inner)
                )
            })?;
        let compiled = ctx.compiled_code().ok_or("no compiled code")?;
        out.push(FuncCode::new(
            &compiled.buffer,
            ctx.func.params.user_named_funcs(),
        )?);
    }
    Ok(out)
}
