//! Wasmtime 48 (cargo feature `wasmtime`): `wasmtime` (native Cranelift)
//! and `wasmtime-pulley` (Pulley bytecode and interpreter).

use shoal_runtime::engine::Engine;
use shoal_runtime::external::wasmtime::{WasmtimeEngine, WasmtimeStrategy};

use super::{EngineKind, Fidelity, Kind};

/// A wasmtime compilation strategy.
pub type WasmtimeKind = WasmtimeStrategy;

impl Kind for WasmtimeStrategy {
    fn name(&self) -> String {
        WasmtimeStrategy::name(*self).to_string()
    }

    fn build(&self) -> Result<Box<dyn Engine>, String> {
        Ok(Box::new(WasmtimeEngine::new(*self)?))
    }

    fn fidelity(&self) -> Fidelity {
        Fidelity::External
    }
}

/// Parses `wasmtime` and `wasmtime-pulley`.
pub(super) fn parse(text: &str) -> Option<Result<EngineKind, String>> {
    [WasmtimeStrategy::Cranelift, WasmtimeStrategy::Pulley]
        .into_iter()
        .find(|s| s.name() == text)
        .map(|s| Ok(EngineKind::Wasmtime(s)))
}
