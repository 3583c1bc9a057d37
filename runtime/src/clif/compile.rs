//! Compiling CLIF for one ISA: panics, verifier and regalloc-checker errors
//! and "unsupported" errors classified into a [`CompileFailure`]; the
//! optional mid-end; trampolines; stack-limit injection.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{
    self, AbiParam, ExtFuncData, ExternalName, Function, InstBuilder, MemFlagsData, Signature,
    UserFuncName,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_codegen::{CodegenError, Context};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use super::values::{SLOT_BYTES, supported_type};

/// What kind of failure Cranelift reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    /// Cranelift panicked.
    Panic,
    /// The IR verifier rejected the function (after Cranelift's own passes,
    /// since shoal verifies inputs first).
    Verifier,
    /// regalloc2's checker found an allocation error.
    Regalloc,
    /// The backend does not support something in the function.
    Unsupported,
    /// An implementation limit or code size limit was exceeded.
    Limit,
}

impl FailureKind {
    fn name(self) -> &'static str {
        match self {
            FailureKind::Panic => "panic",
            FailureKind::Verifier => "verifier error",
            FailureKind::Regalloc => "regalloc checker error",
            FailureKind::Unsupported => "unsupported",
            FailureKind::Limit => "limit exceeded",
        }
    }
}

/// Cranelift failed to compile a verified function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileFailure {
    /// Target triple plus the enabled ISA flags.
    pub isa: String,
    /// The shared flags that matter (`opt_level`, `regalloc_checker`).
    pub flags: String,
    /// The function being compiled.
    pub func: String,
    /// What went wrong.
    pub kind: FailureKind,
    /// Cranelift's message (panic payload or error text).
    pub message: String,
}

impl fmt::Display for CompileFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} compiling {} for {} ({}): {}",
            self.kind.name(),
            self.func,
            self.isa,
            self.flags,
            self.message
        )
    }
}

impl std::error::Error for CompileFailure {}

/// `triple flag flag ...` for an ISA (enabled boolean ISA flags only).
pub fn describe_isa(isa: &dyn TargetIsa) -> String {
    let mut s = isa.triple().to_string();
    for v in isa.isa_flags() {
        match v.as_bool() {
            Some(true) => {
                s.push(' ');
                s.push_str(v.name);
            }
            Some(false) => {}
            None => {
                s.push_str(&format!(" {}={}", v.name, v.value_string()));
            }
        }
    }
    s
}

fn describe_flags(isa: &dyn TargetIsa) -> String {
    let f = isa.flags();
    format!(
        "opt_level={} regalloc_checker={}",
        f.opt_level(),
        f.regalloc_checker()
    )
}

fn failure(
    isa: &dyn TargetIsa,
    func: &Function,
    kind: FailureKind,
    message: String,
) -> CompileFailure {
    CompileFailure {
        isa: describe_isa(isa),
        flags: describe_flags(isa),
        func: func.name.to_string(),
        kind,
        message,
    }
}

fn classify(isa: &dyn TargetIsa, func: &Function, err: &CodegenError) -> CompileFailure {
    let kind = match err {
        CodegenError::Verifier(_) => FailureKind::Verifier,
        CodegenError::Regalloc(_) => FailureKind::Regalloc,
        CodegenError::Unsupported(_) => FailureKind::Unsupported,
        CodegenError::ImplLimitExceeded | CodegenError::CodeTooLarge => FailureKind::Limit,
        #[allow(unreachable_patterns, reason = "depends on cranelift-codegen features")]
        _ => FailureKind::Unsupported,
    };
    let message = match err {
        CodegenError::Verifier(errors) => errors.to_string(),
        other => other.to_string(),
    };
    failure(isa, func, kind, message)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

thread_local! {
    /// Whether panics on this thread are expected (caught and reported).
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Where the last quiet panic on this thread happened.
    static LAST_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once per process) a panic hook that stays silent for panics
/// raised inside [`catch_quietly`] on the same thread and defers to the
/// previous hook otherwise. Printing a message and, with
/// `RUST_BACKTRACE=1`, symbolising a backtrace for every expected
/// Cranelift panic would dominate a campaign's run time.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let at = info.location().map(|l| {
                    // Keep the path from the crate directory on
                    // (`regalloc2-0.15.2/src/ion/...`), not the registry.
                    let file = l.file();
                    let short = file
                        .rfind("/src/")
                        .and_then(|i| file[..i].rfind('/').map(|j| &file[j + 1..]))
                        .unwrap_or(file);
                    format!("{short}:{}", l.line())
                });
                LAST_LOCATION.with(|l| *l.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, catching a panic silently; on a panic returns its message and
/// source location (`crate-version/src/file.rs:line`, when known).
pub(crate) fn catch_quietly<T>(f: impl FnOnce() -> T) -> Result<T, (String, Option<String>)> {
    install_quiet_hook();
    let was_quiet = QUIET.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was_quiet));
    result.map_err(|payload| {
        let at = LAST_LOCATION.with(|l| l.borrow_mut().take());
        (panic_message(&*payload), at)
    })
}

/// Runs `f`, turning a panic into a [`FailureKind::Panic`] failure whose
/// message ends with the panic's location.
fn guarded<T>(
    isa: &dyn TargetIsa,
    func: &Function,
    f: impl FnOnce() -> Result<T, CompileFailure>,
) -> Result<T, CompileFailure> {
    match catch_quietly(f) {
        Ok(r) => r,
        Err((message, at)) => {
            let message = match at {
                Some(at) => format!("{message} (at {at})"),
                None => message,
            };
            Err(failure(isa, func, FailureKind::Panic, message))
        }
    }
}

/// Compiles `func` for `isa` and returns the finished machine code.
///
/// With `mid_end == false` the egraph pass is skipped even at an optimising
/// `opt_level` (the other pre-lowering passes — unreachable-code
/// elimination, constant-phi removal — still run, as lowering needs them).
pub fn compile_code(
    isa: &dyn TargetIsa,
    func: &Function,
    mid_end: bool,
) -> Result<cranelift_codegen::CompiledCode, CompileFailure> {
    guarded(isa, func, || {
        let mut ctx = Context::for_function(func.clone());
        let mut ctrl = ControlPlane::default();
        if mid_end || isa.flags().opt_level() == cranelift_codegen::settings::OptLevel::None {
            return match ctx.compile(isa, &mut ctrl) {
                Ok(code) => Ok(code.clone()),
                Err(e) => Err(classify(isa, func, &e.inner)),
            };
        }
        let err = |e: CodegenError| classify(isa, func, &e);
        ctx.verify_if(isa).map_err(err)?;
        ctx.compute_cfg();
        ctx.compute_domtree();
        ctx.eliminate_unreachable_code(isa).map_err(err)?;
        ctx.remove_constant_phis(isa).map_err(err)?;
        ctx.func.dfg.resolve_all_aliases();
        let mut regalloc = regalloc2::Ctx::default();
        let stencil = isa
            .compile_function(&ctx.func, &ctx.domtree, &mut regalloc, false, &mut ctrl)
            .map_err(err)?;
        Ok(stencil.apply_params(&ctx.func.params))
    })
}

/// Runs the mid-end (`Context::optimize`) on `func` and verifies the result.
pub fn optimize(isa: &dyn TargetIsa, func: &Function) -> Result<Function, CompileFailure> {
    guarded(isa, func, || {
        let mut ctx = Context::for_function(func.clone());
        ctx.optimize(isa, &mut ControlPlane::default())
            .map_err(|e| classify(isa, func, &e))?;
        ctx.verify(isa)
            .map_err(|e| failure(isa, func, FailureKind::Verifier, e.to_string()))?;
        Ok(ctx.func)
    })
}

/// Namespace of the trampolines' own names (`u4294967295:N`).
pub const TRAMPOLINE_NAMESPACE: u32 = u32::MAX;

/// The external name other functions use to refer to `target`.
fn external_name_of(func: &mut Function, target: &UserFuncName) -> ExternalName {
    match target {
        UserFuncName::User(u) => ExternalName::User(func.declare_imported_user_function(u.clone())),
        UserFuncName::Testcase(t) => ExternalName::TestCase(t.clone()),
    }
}

/// Whether `sig` can be driven through a trampoline buffer.
pub fn trampoline_compatible(sig: &Signature) -> bool {
    sig.params.iter().chain(&sig.returns).all(|p| {
        matches!(
            p.purpose,
            ir::ArgumentPurpose::Normal | ir::ArgumentPurpose::VMContext
        ) && supported_type(p.value_type)
    })
}

/// Builds `function u4294967295:index(i64 buf)`, which loads the target's
/// arguments from 16-byte slots at `buf`, calls `target` (colocated) and
/// stores its results back into the slots.
pub fn trampoline(isa: &dyn TargetIsa, target: &Function, index: u32) -> Function {
    let ptr = isa.pointer_type();
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params.push(AbiParam::new(ptr));
    let mut func =
        Function::with_name_signature(UserFuncName::user(TRAMPOLINE_NAMESPACE, index), sig);
    let name = external_name_of(&mut func, &target.name);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let callee_sig = b.import_signature(target.signature.clone());
    let callee = b.import_function(ExtFuncData {
        name,
        signature: callee_sig,
        colocated: true,
        patchable: false,
    });
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    b.seal_block(block);
    let buf = b.block_params(block)[0];
    let flags = MemFlagsData::trusted();
    let args: Vec<_> = target
        .signature
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (base, offset) = slot_address(&mut b, buf, i, p.value_type);
            b.ins().load(p.value_type, flags, base, offset)
        })
        .collect();
    let call = b.ins().call(callee, &args);
    let results = b.inst_results(call).to_vec();
    for (i, r) in results.into_iter().enumerate() {
        let ty = b.func.dfg.value_type(r);
        let (base, offset) = slot_address(&mut b, buf, i, ty);
        b.ins().store(flags, r, base, offset);
    }
    b.ins().return_(&[]);
    b.finalize(isa.frontend_config());
    func
}

/// Base and immediate offset addressing slot `i` for a value of type `ty`.
///
/// `i128` slots are addressed through a computed base with offset 0:
/// Pulley (0.135.8) lowers `store.i128 v, p+N` as if `N` were 0 (see
/// `corpus/regressions/pulley-i128-store-offset.clif`), which would make
/// the harness, not the code under test, corrupt results. An `iadd` of a
/// constant is left alone by the mid-end and by Pulley's i128 store rule.
fn slot_address(
    b: &mut FunctionBuilder<'_>,
    buf: ir::Value,
    i: usize,
    ty: ir::Type,
) -> (ir::Value, i32) {
    if ty != ir::types::I128 || i == 0 {
        return (buf, slot_offset(i));
    }
    let ptr = b.func.dfg.value_type(buf);
    let offset = b.ins().iconst(ptr, i64::from(slot_offset(i)));
    (b.ins().iadd(buf, offset), 0)
}

fn slot_offset(i: usize) -> i32 {
    i32::try_from(i * SLOT_BYTES).unwrap_or(i32::MAX)
}

/// Whether the call graph of `funcs` may contain a cycle: a direct call
/// cycle, or any indirect call (whose target is not known statically).
pub fn call_graph_may_recurse(funcs: &[Function]) -> bool {
    use ir::InstructionData as D;
    let names: Vec<String> = funcs.iter().map(|f| f.name.to_string()).collect();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); funcs.len()];
    for (i, func) in funcs.iter().enumerate() {
        for block in func.layout.blocks() {
            for inst in func.layout.block_insts(block) {
                match &func.dfg.insts[inst] {
                    D::CallIndirect { .. } | D::TryCallIndirect { .. } => return true,
                    D::Call { func_ref, .. } | D::TryCall { func_ref, .. } => {
                        let ext = &func.dfg.ext_funcs[*func_ref];
                        let callee = ext.name.display(Some(&func.params)).to_string();
                        if let Some(j) = names.iter().position(|n| *n == callee) {
                            edges[i].push(j);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    has_cycle(&edges)
}

fn has_cycle(edges: &[Vec<usize>]) -> bool {
    // 0 = unvisited, 1 = on the DFS stack, 2 = done.
    let mut state = vec![0u8; edges.len()];
    for root in 0..edges.len() {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&succ) = edges[node].get(*next) {
                *next += 1;
                match state[succ] {
                    1 => return true,
                    0 => {
                        state[succ] = 1;
                        stack.push((succ, 0));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    false
}

/// The calling convention trampolines use on `isa` (its default).
pub fn trampoline_call_conv(isa: &dyn TargetIsa) -> CallConv {
    isa.default_call_conv()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_found() {
        assert!(!has_cycle(&[vec![1], vec![2], vec![]]));
        assert!(has_cycle(&[vec![1], vec![2], vec![0]]));
        assert!(has_cycle(&[vec![0]]));
        assert!(!has_cycle(&[vec![1, 2], vec![2], vec![]]));
    }

    #[test]
    fn recursion_detection_on_clif() {
        let rec = cranelift_reader::parse_functions(
            "function %a(i32) -> i32 {
                fn0 = %b(i32) -> i32
            block0(v0: i32):
                v1 = call fn0(v0)
                return v1
            }
            function %b(i32) -> i32 {
                fn0 = %a(i32) -> i32
            block0(v0: i32):
                v1 = call fn0(v0)
                return v1
            }",
        )
        .unwrap();
        assert!(call_graph_may_recurse(&rec));
        assert!(!call_graph_may_recurse(&rec[..1]));
    }
}
