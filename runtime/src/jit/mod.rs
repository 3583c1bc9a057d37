//! The Cranelift JIT engine for WebAssembly: shoal's second oracle, and
//! code under test in its own right.
//!
//! * [`translate`]: wasm → CLIF with `cranelift-frontend` (simple operators
//!   from the single table in [`optable`]);
//! * [`compile`] and [`code`]: Cranelift compilation for the host, linking
//!   into an executable mapping freed with the store;
//! * [`store`] and [`instantiate`]: the [`crate::engine::Store`]
//!   implementation, behaving exactly like the interpreter (addresses,
//!   instantiation order, traps, fuel and call depth);
//! * [`traps`]: trap codes; hardware traps are caught by [`crate::native`];
//! * [`config`]: enumerable, printable configurations ([`JitConfig`]).
//!
//! Every wasm function takes its instance's `vmctx` first and uses
//! Cranelift's `tail` calling convention (so `return_call` works across
//! instances and into host functions). Calls from Rust go through a
//! per-signature entry trampoline and run on a large execution stack
//! ([`stack`]).

pub mod bench;
pub mod code;
pub mod compile;
pub mod config;
mod instantiate;
mod libcalls;
pub mod linmem;
pub mod optable;
mod stack;
pub mod store;
mod trampoline;
pub(crate) mod translate;
pub mod traps;
pub mod vmctx;

use cranelift_codegen::isa::OwnedTargetIsa;

pub use config::{BoundsMode, FaultSpec, IsaLevel, JitConfig, OptLevel};
pub use store::JitStore;

use crate::engine::{Engine, Store};
use crate::trap::Limits;

/// The JIT engine for one configuration.
#[derive(Clone)]
pub struct JitEngine {
    config: JitConfig,
    isa: OwnedTargetIsa,
}

impl std::fmt::Debug for JitEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JitEngine({})", self.config)
    }
}

impl JitEngine {
    /// An engine for `config`; fails if the host cannot run it.
    pub fn new(config: JitConfig) -> Result<JitEngine, String> {
        let isa = config.build_isa()?;
        Ok(JitEngine { config, isa })
    }

    /// The configuration.
    pub fn config(&self) -> &JitConfig {
        &self.config
    }

    /// A fresh store with its concrete type.
    pub fn jit_store(&self, limits: Limits) -> JitStore {
        JitStore::new(self.config, self.isa.clone(), limits)
    }

    /// The CLIF this engine hands to Cranelift for every defined function
    /// of `module` (before Cranelift's own passes), e.g. for reports.
    pub fn clif(
        &self,
        module: &crate::module::Module,
    ) -> Result<Vec<cranelift_codegen::ir::Function>, String> {
        (0..module.bodies.len() as u32)
            .map(|def| compile::translate_to_clif(module, def, &self.config, &*self.isa))
            .collect()
    }

    /// The target ISA (for printing or compiling CLIF directly; Cranelift's
    /// own verifier is off in it, see [`JitConfig::build_isa`]).
    pub fn isa(&self) -> &dyn cranelift_codegen::isa::TargetIsa {
        &*self.isa
    }
}

impl Default for JitEngine {
    /// The default configuration ([`JitConfig::default`]: opt speed, the
    /// host's best ISA level, explicit bounds checks).
    ///
    /// # Panics
    /// If Cranelift cannot target the host at all.
    fn default() -> JitEngine {
        JitEngine::new(JitConfig::default())
            .unwrap_or_else(|e| panic!("jit: the host is not a Cranelift target: {e}"))
    }
}

impl Engine for JitEngine {
    fn name(&self) -> String {
        self.config.to_string()
    }

    fn new_store(&self, limits: Limits) -> Box<dyn Store> {
        Box::new(self.jit_store(limits))
    }
}
