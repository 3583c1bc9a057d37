//! shoal-runtime: every way shoal *executes* a test case.
//!
//! * [`module`]: the validated wasm module model shared by all engines;
//! * [`engine`]: the [`engine::Store`] embedding API every wasm engine implements;
//! * [`values`] and [`trap`]: values, types, trap kinds and deterministic limits.
#![deny(missing_docs)]

pub mod clif;
pub mod coverage;
pub mod engine;
pub mod external;
pub mod incident;
pub mod interp;
pub mod jit;
pub mod module;
pub mod native;
pub mod num;
pub mod simd;
pub mod trap;
pub mod values;
pub mod wast;

pub use engine::{Engine, Extern, InstanceId, InstantiateError, Store};
pub use module::{Module, ModuleError};
pub use trap::{Limits, Trap};
pub use values::{FuncType, ValType, Value};
