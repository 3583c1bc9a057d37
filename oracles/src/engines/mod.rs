//! The executions a wasm test case can run on, as a typed enum: shoal's
//! interpreter and JIT configurations, and — when compiled in with the
//! cargo features `wasmtime` / `wasmi` — the external engines of
//! `shoal_runtime::external`.
//!
//! Every kind has a stable name (its `Display`, equal to the built
//! engine's [`Engine::name`]) that parses back, for command lines such as a
//! future `--engines interp,jit:opt=none,wasmtime`:
//!
//! | name | engine |
//! | --- | --- |
//! | `interp` | the interpreter (the reference) |
//! | `interp(fault=i32.add->i32.sub)` | the interpreter with a test-only fault |
//! | `jit(opt=speed,isa=avx2,bounds=guard)` | the JIT under that `JitConfig` (also `jit:opt=speed,bounds=guard`, omitted parts default) |
//! | `wasmtime`, `wasmtime-pulley` | wasmtime, native Cranelift or Pulley (feature `wasmtime`) |
//! | `wasmi` | wasmi (feature `wasmi`) |
//!
//! Adding an engine is one file here (a type implementing [`Kind`] and a
//! `parse` function) plus its arm in [`EngineKind`], [`EngineKind::kind`]
//! and [`PARSERS`].

mod interp;
mod jit;
#[cfg(feature = "wasmi")]
mod wasmi;
#[cfg(feature = "wasmtime")]
mod wasmtime;

use std::fmt;
use std::str::FromStr;

use shoal_runtime::engine::Engine;
use shoal_runtime::jit::{BoundsMode, JitConfig, OptLevel};

pub use crate::compare::Fidelity;
pub use interp::InterpKind;
#[cfg(feature = "wasmi")]
pub use wasmi::WasmiKind;
#[cfg(feature = "wasmtime")]
pub use wasmtime::WasmtimeKind;

/// What every engine kind provides.
pub trait Kind {
    /// The canonical name (equal to the built engine's [`Engine::name`]).
    fn name(&self) -> String;
    /// Builds the engine.
    fn build(&self) -> Result<Box<dyn Engine>, String>;
    /// How the oracle compares its executions.
    fn fidelity(&self) -> Fidelity;
}

/// One execution of a wasm test case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// shoal's interpreter.
    Interp(InterpKind),
    /// shoal's Cranelift JIT under a configuration.
    Jit(JitConfig),
    /// Wasmtime 48 (feature `wasmtime`).
    #[cfg(feature = "wasmtime")]
    Wasmtime(WasmtimeKind),
    /// wasmi 2.0 (feature `wasmi`).
    #[cfg(feature = "wasmi")]
    Wasmi(WasmiKind),
}

/// Parsers of every kind's names: `None` when the text is not theirs.
type Parser = fn(&str) -> Option<Result<EngineKind, String>>;

/// One parser per engine file.
const PARSERS: &[Parser] = &[
    interp::parse,
    jit::parse,
    #[cfg(feature = "wasmtime")]
    wasmtime::parse,
    #[cfg(feature = "wasmi")]
    wasmi::parse,
];

impl EngineKind {
    /// The kind's implementation.
    pub fn kind(&self) -> &dyn Kind {
        match self {
            EngineKind::Interp(k) => k,
            EngineKind::Jit(k) => k,
            #[cfg(feature = "wasmtime")]
            EngineKind::Wasmtime(k) => k,
            #[cfg(feature = "wasmi")]
            EngineKind::Wasmi(k) => k,
        }
    }

    /// The reference interpreter.
    pub fn interp() -> EngineKind {
        EngineKind::Interp(InterpKind::default())
    }

    /// Builds the engine.
    pub fn build(&self) -> Result<Box<dyn Engine>, String> {
        self.kind()
            .build()
            .map_err(|e| format!("engine {self}: {e}"))
    }

    /// How the oracle compares its executions.
    pub fn fidelity(&self) -> Fidelity {
        self.kind().fidelity()
    }

    /// Parses a comma-separated list of names (commas inside parentheses
    /// belong to the name).
    pub fn parse_list(text: &str) -> Result<Vec<EngineKind>, String> {
        split_top_level(text)
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .map(str::parse)
            .collect()
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind().name())
    }
}

impl FromStr for EngineKind {
    type Err = String;

    fn from_str(text: &str) -> Result<EngineKind, String> {
        let text = text.trim();
        PARSERS
            .iter()
            .find_map(|p| p(text))
            .unwrap_or_else(|| Err(unknown(text)))
    }
}

fn unknown(text: &str) -> String {
    let mut known = vec!["interp", "jit(...)", "jit:<parts>"];
    if cfg!(feature = "wasmtime") {
        known.extend(["wasmtime", "wasmtime-pulley"]);
    }
    if cfg!(feature = "wasmi") {
        known.push("wasmi");
    }
    format!(
        "unknown engine {text:?} (known: {}; wasmtime and wasmi need the cargo features of those names)",
        known.join(", ")
    )
}

/// Splits at commas outside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The default executions: the interpreter (reference), the JIT at opt
/// none and speed with explicit bounds checks and at speed with guard
/// pages, then every external engine compiled in.
pub fn default_set() -> Vec<EngineKind> {
    let mut kinds = vec![
        EngineKind::interp(),
        EngineKind::Jit(JitConfig::with_opt(OptLevel::None)),
        EngineKind::Jit(JitConfig::with_opt(OptLevel::Speed)),
        EngineKind::Jit(JitConfig {
            bounds: BoundsMode::Guard,
            ..JitConfig::with_opt(OptLevel::Speed)
        }),
    ];
    kinds.extend(external_set());
    kinds
}

/// Every external engine compiled in (empty without the features).
pub fn external_set() -> Vec<EngineKind> {
    #[allow(unused_mut)]
    let mut kinds = Vec::new();
    #[cfg(feature = "wasmtime")]
    kinds.extend([
        EngineKind::Wasmtime(WasmtimeKind::Cranelift),
        EngineKind::Wasmtime(WasmtimeKind::Pulley),
    ]);
    #[cfg(feature = "wasmi")]
    kinds.push(EngineKind::Wasmi(WasmiKind));
    kinds
}

/// A built engine and how the oracle compares its executions.
pub type BuiltEngine = (Box<dyn Engine>, Fidelity);

/// Builds engines with their fidelities; kinds that fail to build (a JIT
/// configuration this CPU cannot run) are left out, and their errors
/// returned alongside.
pub fn build_all(kinds: &[EngineKind]) -> (Vec<BuiltEngine>, Vec<String>) {
    let (mut built, mut errors) = (Vec::new(), Vec::new());
    for k in kinds {
        match k.build() {
            Ok(e) => built.push((e, k.fidelity())),
            Err(e) => errors.push(e),
        }
    }
    (built, errors)
}

/// The fidelity of an engine known only by name: the kind the name parses
/// to, [`Fidelity::Exact`] for names of no known kind.
pub fn fidelity_of_name(name: &str) -> Fidelity {
    name.parse::<EngineKind>()
        .map_or(Fidelity::Exact, |k| k.fidelity())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_built_engines() {
        for k in default_set() {
            let name = k.to_string();
            assert_eq!(name.parse::<EngineKind>(), Ok(k), "{name}");
            assert_eq!(k.build().unwrap().name(), name);
        }
    }

    #[test]
    fn lists_shorthands_and_errors() {
        let kinds =
            EngineKind::parse_list("interp, jit(opt=none,bounds=guard),jit:opt=speed").unwrap();
        assert_eq!(kinds.len(), 3);
        assert_eq!(kinds[0], EngineKind::interp());
        let EngineKind::Jit(c) = kinds[1] else {
            panic!("expected a JIT")
        };
        assert_eq!((c.opt, c.bounds), (OptLevel::None, BoundsMode::Guard));
        assert_eq!(
            kinds[2],
            EngineKind::Jit(JitConfig::with_opt(OptLevel::Speed))
        );
        let err = EngineKind::parse_list("interp,nope").unwrap_err();
        assert!(err.contains("unknown engine"), "{err}");
        assert!(EngineKind::parse_list("jit(opt=fast)").is_err());
        assert!(
            "interp(fault=i32.add->i32.eqz)"
                .parse::<EngineKind>()
                .is_err()
        );
    }

    #[test]
    fn default_set_extends_the_campaign_engines() {
        let kinds = default_set();
        assert_eq!(kinds[0], EngineKind::interp());
        assert_eq!(kinds.len(), 4 + external_set().len());
        assert!(kinds[..4].iter().all(|k| k.fidelity() == Fidelity::Exact));
        assert!(
            external_set()
                .iter()
                .all(|k| k.fidelity() == Fidelity::External)
        );
        assert_eq!(fidelity_of_name("interp"), Fidelity::Exact);
        assert_eq!(fidelity_of_name("something else"), Fidelity::Exact);
    }
}
