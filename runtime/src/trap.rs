//! Trap kinds, identical for every engine, and the deterministic resource limits.

use std::fmt;

/// Why an execution trapped. Every engine reports exactly one of these, so
/// outcomes compare by `==`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trap {
    /// `unreachable` executed.
    Unreachable,
    /// Signed division overflow (`INT_MIN / -1`).
    IntegerOverflow,
    /// Integer division or remainder by zero.
    IntegerDivideByZero,
    /// Float-to-int truncation of NaN or an out-of-range value.
    InvalidConversionToInteger,
    /// Out-of-bounds linear memory access (including bulk memory ops and
    /// data segments).
    MemoryOutOfBounds,
    /// Out-of-bounds table access (table.get/set/fill/copy/init, element
    /// segments).
    TableOutOfBounds,
    /// `call_indirect` index beyond the table's size.
    UndefinedElement,
    /// `call_indirect` through a null table entry.
    UninitializedElement,
    /// `call_indirect` signature mismatch.
    IndirectCallTypeMismatch,
    /// The configured maximum call depth (or the native stack) was exhausted.
    CallStackExhausted,
    /// The fuel budget was exhausted.
    OutOfFuel,
    /// A host function reported an error.
    Host,
}

impl Trap {
    /// All trap kinds, for exhaustive tests.
    pub const ALL: [Trap; 12] = [
        Trap::Unreachable,
        Trap::IntegerOverflow,
        Trap::IntegerDivideByZero,
        Trap::InvalidConversionToInteger,
        Trap::MemoryOutOfBounds,
        Trap::TableOutOfBounds,
        Trap::UndefinedElement,
        Trap::UninitializedElement,
        Trap::IndirectCallTypeMismatch,
        Trap::CallStackExhausted,
        Trap::OutOfFuel,
        Trap::Host,
    ];

    /// The message the spec testsuite uses for this trap (prefix-matched by
    /// `assert_trap`).
    pub fn message(self) -> &'static str {
        match self {
            Trap::Unreachable => "unreachable",
            Trap::IntegerOverflow => "integer overflow",
            Trap::IntegerDivideByZero => "integer divide by zero",
            Trap::InvalidConversionToInteger => "invalid conversion to integer",
            Trap::MemoryOutOfBounds => "out of bounds memory access",
            Trap::TableOutOfBounds => "out of bounds table access",
            Trap::UndefinedElement => "undefined element",
            Trap::UninitializedElement => "uninitialized element",
            Trap::IndirectCallTypeMismatch => "indirect call type mismatch",
            Trap::CallStackExhausted => "call stack exhausted",
            Trap::OutOfFuel => "out of fuel",
            Trap::Host => "host function error",
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Trap {}

/// Deterministic resource limits, counted identically by every engine:
///
/// * **Fuel**: each top-level `Store::call` starts with `fuel` units. One unit
///   is consumed on every entry to a wasm-defined function (calls, tail calls,
///   indirect calls, the start function) and every time control reaches a
///   `loop` instruction's header (on entry and on every branch back to it).
///   When a unit is needed and none is left, the execution traps with
///   [`Trap::OutOfFuel`]. Host functions consume nothing.
/// * **Call depth**: a top-level call to a wasm function runs at depth 1;
///   each nested (non-tail) call to a wasm function adds one; a tail call
///   replaces the frame and keeps the depth. Entering a function at a depth
///   greater than `max_call_depth` traps with [`Trap::CallStackExhausted`]
///   instead. The depth check happens before the fuel charge.
/// * **Growth**: `memory.grow` / `table.grow` that would make a memory larger
///   than `max_memory_pages` pages or a table larger than `max_table_elems`
///   elements fails (returns -1), exactly as if the host refused the
///   allocation — which the spec allows — so every engine fails at the same
///   size. Allocation failures below these caps are non-deterministic and
///   make a case inconclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Fuel per top-level call; `None` means unlimited.
    pub fuel: Option<u64>,
    /// Maximum wasm call depth.
    pub max_call_depth: u32,
    /// Largest size any memory may grow to, in 64 KiB pages.
    pub max_memory_pages: u64,
    /// Largest size any table may grow to, in elements.
    pub max_table_elems: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: None,
            max_call_depth: DEFAULT_MAX_CALL_DEPTH,
            max_memory_pages: 65536,
            max_table_elems: 10_000_000,
        }
    }
}

/// Default maximum call depth.
pub const DEFAULT_MAX_CALL_DEPTH: u32 = 2000;
