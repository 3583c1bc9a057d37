//! The interpreter: `interp`, or `interp(fault=<op>-><op>)` with a
//! test-only fault (see `shoal_runtime::interp::InterpFault`).

use shoal_runtime::engine::Engine;
use shoal_runtime::interp::{FaultyInterpEngine, InterpEngine, InterpFault};

use super::{EngineKind, Fidelity, Kind};

/// The interpreter, optionally with a deliberate fault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct InterpKind {
    /// Test-only mistranslation.
    pub fault: Option<InterpFault>,
}

impl Kind for InterpKind {
    fn name(&self) -> String {
        match self.fault {
            None => "interp".to_string(),
            Some(f) => format!("interp(fault={}->{})", f.wasm, f.emit),
        }
    }

    fn build(&self) -> Result<Box<dyn Engine>, String> {
        Ok(match self.fault {
            None => Box::new(InterpEngine::new()),
            Some(f) => Box::new(FaultyInterpEngine::new(f)),
        })
    }

    fn fidelity(&self) -> Fidelity {
        Fidelity::Exact
    }
}

/// Parses `interp` and `interp(fault=a->b)`.
pub(super) fn parse(text: &str) -> Option<Result<EngineKind, String>> {
    if text == "interp" {
        return Some(Ok(EngineKind::interp()));
    }
    let inner = text.strip_prefix("interp(")?.strip_suffix(')')?;
    Some(parse_fault(inner).map(|fault| EngineKind::Interp(InterpKind { fault: Some(fault) })))
}

fn parse_fault(inner: &str) -> Result<InterpFault, String> {
    let spec = inner
        .strip_prefix("fault=")
        .ok_or_else(|| format!("interp: unknown option {inner:?} (only fault=op->op)"))?;
    let (wasm, emit) = spec
        .split_once("->")
        .ok_or_else(|| format!("interp: fault must be op->op, got {spec:?}"))?;
    InterpFault::new(wasm.trim(), emit.trim())
}
