//! Native-code machinery shared by every executor that runs machine code
//! (the wasm JIT and the native CLIF executor): the registry of code ranges
//! and trap sites, and hardware-trap catching.
//!
//! ```text
//! let reg = register_code(code_ptr as usize, code_len, &traps); // offsets from code_ptr
//! match catch_traps(|| unsafe { call_native() }) {
//!     Ok(r) => ...,                      // returned normally
//!     Err(NativeTrap { code, .. }) => ..., // a registered trap site faulted
//! }
//! drop(reg);                             // before freeing the code memory
//! ```
//!
//! See [`signals`] for the mechanism, the soundness argument and how to
//! give native code a stack limit; [`registry`] for the lock-free lookup
//! the signal handler uses.

pub mod code;
pub mod deadline;
pub mod registry;
pub mod signals;

pub use code::CodeMemory;
pub use registry::{
    CodeOptions, CodeRegistration, register_code, register_code_with, registered_ranges,
};
pub use signals::{
    NativeTrap, catch_memory_faults, catch_traps, prepare_thread, stack_limit_for,
    thread_stack_limit,
};
