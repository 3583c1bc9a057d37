//! The wasm engines the spec harness (and `shoal spectest --engine`) can
//! run, by name. Adding an engine is one line in [`REGISTRY`].

use std::fmt;

use crate::engine::Engine;

/// Builds a fresh engine.
pub type MakeEngine = fn() -> Box<dyn Engine>;

/// A named way to build an engine. Builders are plain functions so that
/// every worker thread can make its own engine.
#[derive(Clone, Copy)]
pub struct EngineSpec {
    /// The name used on the command line.
    pub name: &'static str,
    /// Builds a fresh engine.
    pub make: MakeEngine,
}

impl fmt::Debug for EngineSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineSpec")
            .field("name", &self.name)
            .finish()
    }
}

/// Every engine name, with its builder once the engine exists (`None`:
/// named but not implemented yet).
const REGISTRY: &[(&str, Option<MakeEngine>)] = &[
    // The reference interpreter (branch `interp`).
    (
        "interp",
        Some(|| Box::new(crate::interp::InterpEngine::new())),
    ),
    // The Cranelift JIT (branch `jit`), default configuration.
    ("jit", Some(|| Box::new(crate::jit::JitEngine::default()))),
];

/// Accepted values of `--engine`: every registered name, plus `all`.
pub fn engine_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = REGISTRY.iter().map(|(n, _)| *n).collect();
    names.push("all");
    names
}

/// Registered engines that are not implemented yet.
pub fn unavailable_engines() -> Vec<&'static str> {
    REGISTRY
        .iter()
        .filter(|(_, make)| make.is_none())
        .map(|(n, _)| *n)
        .collect()
}

/// Why an engine name did not resolve.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineLookupError {
    /// Not a registered name.
    #[error("unknown engine \"{0}\" (choose one of: {names})", names = engine_names().join(", "))]
    Unknown(String),
    /// Registered but not implemented yet.
    #[error("engine \"{0}\" is not available yet in this build")]
    NotAvailable(String),
}

/// The engines `name` selects: one registered engine, or `all` (every
/// available engine; an error if there is none).
pub fn engines_by_name(name: &str) -> Result<Vec<EngineSpec>, EngineLookupError> {
    let available = |&(name, make): &(&'static str, Option<MakeEngine>)| {
        make.map(|make| EngineSpec { name, make })
    };
    if name == "all" {
        let all: Vec<EngineSpec> = REGISTRY.iter().filter_map(available).collect();
        if all.is_empty() {
            return Err(EngineLookupError::NotAvailable(name.to_string()));
        }
        return Ok(all);
    }
    match REGISTRY.iter().find(|(n, _)| *n == name) {
        Some(entry) => available(entry)
            .map(|spec| vec![spec])
            .ok_or_else(|| EngineLookupError::NotAvailable(name.to_string())),
        None => Err(EngineLookupError::Unknown(name.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_rejected() {
        assert_eq!(
            engines_by_name("v8").unwrap_err(),
            EngineLookupError::Unknown("v8".into())
        );
        let msg = engines_by_name("v8").unwrap_err().to_string();
        assert!(msg.contains("interp") && msg.contains("all"), "{msg}");
    }

    #[test]
    fn registered_names_resolve_or_say_unavailable() {
        for (name, make) in REGISTRY {
            match engines_by_name(name) {
                Ok(specs) => {
                    assert!(make.is_some());
                    assert_eq!(specs.len(), 1);
                    assert_eq!(specs[0].name, *name);
                }
                Err(e) => {
                    assert!(make.is_none());
                    assert_eq!(e, EngineLookupError::NotAvailable(name.to_string()));
                }
            }
        }
        let all = engines_by_name("all").map(|v| v.len()).unwrap_or(0);
        assert_eq!(all, REGISTRY.len() - unavailable_engines().len());
    }
}
