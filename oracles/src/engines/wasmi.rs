//! wasmi 2.0 (cargo feature `wasmi`): `wasmi`.

use shoal_runtime::engine::Engine;
use shoal_runtime::external::wasmi::WasmiEngine;

use super::{EngineKind, Fidelity, Kind};

/// The wasmi interpreter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WasmiKind;

impl Kind for WasmiKind {
    fn name(&self) -> String {
        "wasmi".to_string()
    }

    fn build(&self) -> Result<Box<dyn Engine>, String> {
        Ok(Box::new(WasmiEngine::new()))
    }

    fn fidelity(&self) -> Fidelity {
        Fidelity::External
    }
}

/// Parses `wasmi`.
pub(super) fn parse(text: &str) -> Option<Result<EngineKind, String>> {
    (text == "wasmi").then_some(Ok(EngineKind::Wasmi(WasmiKind)))
}
