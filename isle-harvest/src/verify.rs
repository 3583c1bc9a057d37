//! Verifying seeds: compile a filetest's function for the target its header
//! names, with rule coverage on, and report the rules that fired.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_reader::{IsaSpec, ParseOptions, parse_test};

use crate::coverage;
use crate::rules::RuleId;

/// Why a seed could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The text is not a valid filetest.
    #[error("parse: {0}")]
    Parse(String),
    /// The filetest names no target or no function.
    #[error("the filetest needs one target and one function")]
    Shape,
    /// Cranelift refused to compile the function.
    #[error("compile: {0}")]
    Compile(String),
    /// Cranelift panicked (a Cranelift bug worth reporting).
    #[error("Cranelift panicked: {0}")]
    Panic(String),
}

/// Compiles the first function of `text` for its first target and returns
/// the rules that fired.
pub fn compile_hits(text: &str) -> Result<BTreeSet<RuleId>, VerifyError> {
    let file =
        parse_test(text, ParseOptions::default()).map_err(|e| VerifyError::Parse(e.to_string()))?;
    let IsaSpec::Some(isas) = file.isa_spec else {
        return Err(VerifyError::Shape);
    };
    let isa = isas.into_iter().next().ok_or(VerifyError::Shape)?;
    let func = file
        .functions
        .into_iter()
        .next()
        .map(|(f, _)| f)
        .ok_or(VerifyError::Shape)?;
    let (result, hits) = coverage::collect(|| {
        quietly(|| {
            let mut ctx = Context::for_function(func);
            ctx.compile(&*isa, &mut ControlPlane::default())
                .map(|_| ())
                .map_err(|e| format!("{:?}", e.inner))
        })
    });
    match result {
        Ok(Ok(())) => Ok(hits),
        Ok(Err(e)) => Err(VerifyError::Compile(e)),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".to_string());
            Err(VerifyError::Panic(msg))
        }
    }
}

/// Compiles every function of wasm module `bytes` the way shoal's JIT does
/// (its translator, then Cranelift for `x86_64` with `cfg`'s flags and
/// `opt_level`), without executing anything, and returns the rules that
/// fired. Independent of the host CPU.
pub fn compile_wasm_hits(
    bytes: &[u8],
    cfg: &crate::isa::IsaConfig,
    opt_level: &str,
) -> Result<BTreeSet<RuleId>, VerifyError> {
    use cranelift_codegen::settings::{self, Configurable};
    use shoal_runtime::jit::compile::translate_to_clif;
    use shoal_runtime::jit::{BoundsMode, IsaLevel, JitConfig, OptLevel};

    let module =
        shoal_runtime::Module::new(bytes).map_err(|e| VerifyError::Parse(e.to_string()))?;
    let mut shared = settings::builder();
    let set = |b: &mut dyn Configurable, k: &str, v: &str| {
        b.set(k, v)
            .map_err(|e| VerifyError::Parse(format!("{k}={v}: {e}")))
    };
    set(&mut shared, "opt_level", opt_level)?;
    set(&mut shared, "enable_verifier", "true")?;
    let mut isa_builder = cranelift_codegen::isa::lookup_by_name(cfg.triple)
        .map_err(|e| VerifyError::Parse(e.to_string()))?;
    for flag in &cfg.flags {
        set(&mut isa_builder, flag, "true")?;
    }
    let isa = isa_builder
        .finish(settings::Flags::new(shared))
        .map_err(|e| VerifyError::Compile(e.to_string()))?;
    let config = JitConfig {
        opt: if opt_level == "none" {
            OptLevel::None
        } else {
            OptLevel::Speed
        },
        isa: IsaLevel::Sse2,
        bounds: BoundsMode::Explicit,
        verifier: true,
        regalloc_checker: false,
        nan_canonicalization: false,
        inject_fault: None,
    };
    let mut all = BTreeSet::new();
    for def in 0..module.bodies.len() as u32 {
        let func = translate_to_clif(&module, def, &config, &*isa).map_err(VerifyError::Compile)?;
        let (result, hits) = coverage::collect(|| {
            quietly(|| {
                let mut ctx = Context::for_function(func);
                ctx.compile(&*isa, &mut ControlPlane::default())
                    .map(|_| ())
                    .map_err(|e| format!("{:?}", e.inner))
            })
        });
        match result {
            Ok(Ok(())) => all.extend(hits),
            Ok(Err(e)) => return Err(VerifyError::Compile(e)),
            Err(_) => return Err(VerifyError::Panic("while compiling translated wasm".into())),
        }
    }
    Ok(all)
}

/// Runs `f`, catching a panic without printing it (Cranelift panics on
/// some unsupported input combinations; the caller reports them).
pub fn quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    use std::sync::Mutex;
    static HOOK_LOCK: Mutex<()> = Mutex::new(());
    let _guard = HOOK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const IADD: &str = "test compile\nset opt_level=none\ntarget x86_64\n\nfunction %f(i32, i32) -> i32 fast {\nblock0(v0: i32, v1: i32):\n    v2 = iadd v0, v1\n    return v2\n}\n";

    #[test]
    fn compiling_fires_lowering_rules() {
        let hits = compile_hits(IADD).unwrap();
        assert!(
            hits.iter().any(|r| r.file == "src/isa/x64/lower.isle"),
            "{hits:?}"
        );
    }

    #[test]
    fn the_mid_end_fires_opt_rules() {
        let text = "test compile\nset opt_level=speed\ntarget x86_64\n\nfunction %f(i32) -> i32 fast {\nblock0(v0: i32):\n    v1 = iconst.i32 0\n    v2 = iadd v0, v1\n    return v2\n}\n";
        let hits = compile_hits(text).unwrap();
        assert!(
            hits.iter().any(|r| r.file == "src/opts/arithmetic.isle"),
            "{hits:?}"
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            compile_hits("function %f("),
            Err(VerifyError::Parse(_))
        ));
        let no_target = IADD.replace("target x86_64\n", "");
        assert_eq!(compile_hits(&no_target), Err(VerifyError::Shape));
    }
}
