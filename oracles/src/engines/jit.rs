//! shoal's JIT: `jit(<JitConfig parts>)` (the configuration's own name) or
//! the shorthand `jit:<parts>`.

use shoal_runtime::engine::Engine;
use shoal_runtime::jit::{JitConfig, JitEngine};

use super::{EngineKind, Fidelity, Kind};

impl Kind for JitConfig {
    fn name(&self) -> String {
        self.to_string()
    }

    fn build(&self) -> Result<Box<dyn Engine>, String> {
        Ok(Box::new(JitEngine::new(*self)?))
    }

    fn fidelity(&self) -> Fidelity {
        Fidelity::Exact
    }
}

/// Parses `jit(...)`, `jit:jit(...)` and `jit:<parts>`.
pub(super) fn parse(text: &str) -> Option<Result<EngineKind, String>> {
    let config = if let Some(rest) = text.strip_prefix("jit:") {
        if rest.starts_with("jit(") {
            rest.parse::<JitConfig>()
        } else {
            format!("jit({rest})").parse::<JitConfig>()
        }
    } else if text.starts_with("jit(") {
        text.parse::<JitConfig>()
    } else {
        return None;
    };
    Some(config.map(EngineKind::Jit))
}
