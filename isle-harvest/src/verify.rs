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
