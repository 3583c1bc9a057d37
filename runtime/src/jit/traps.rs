//! Trap codes of generated code and their meaning as wasm traps.
//!
//! Cranelift's built-in codes cover the numeric traps, heap bounds and the
//! stack-limit check; wasm-specific kinds use user codes. A trap raised by a
//! libcall or host function is stored in `VMRuntime::pending_trap` and
//! surfaced through [`PENDING`].

use cranelift_codegen::ir::TrapCode;

use crate::trap::Trap;

/// `unreachable`.
pub const UNREACHABLE: TrapCode = TrapCode::unwrap_user(1);
/// Table index out of bounds (table.get/set).
pub const TABLE_OUT_OF_BOUNDS: TrapCode = TrapCode::unwrap_user(2);
/// `call_indirect` index out of bounds.
pub const UNDEFINED_ELEMENT: TrapCode = TrapCode::unwrap_user(3);
/// `call_indirect` through null.
pub const UNINITIALIZED_ELEMENT: TrapCode = TrapCode::unwrap_user(4);
/// `call_indirect` signature mismatch.
pub const INDIRECT_CALL_TYPE_MISMATCH: TrapCode = TrapCode::unwrap_user(5);
/// Call depth limit.
pub const CALL_STACK_EXHAUSTED: TrapCode = TrapCode::unwrap_user(6);
/// Fuel exhausted.
pub const OUT_OF_FUEL: TrapCode = TrapCode::unwrap_user(7);
/// The trap is in `VMRuntime::pending_trap`.
pub const PENDING: TrapCode = TrapCode::unwrap_user(8);

/// The wasm trap a code stands for; `None` for [`PENDING`] and unknown codes.
pub fn trap_for_code(code: TrapCode) -> Option<Trap> {
    Some(match code {
        TrapCode::STACK_OVERFLOW => Trap::CallStackExhausted,
        TrapCode::INTEGER_OVERFLOW => Trap::IntegerOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => Trap::MemoryOutOfBounds,
        TrapCode::INTEGER_DIVISION_BY_ZERO => Trap::IntegerDivideByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => Trap::InvalidConversionToInteger,
        UNREACHABLE => Trap::Unreachable,
        TABLE_OUT_OF_BOUNDS => Trap::TableOutOfBounds,
        UNDEFINED_ELEMENT => Trap::UndefinedElement,
        UNINITIALIZED_ELEMENT => Trap::UninitializedElement,
        INDIRECT_CALL_TYPE_MISMATCH => Trap::IndirectCallTypeMismatch,
        CALL_STACK_EXHAUSTED => Trap::CallStackExhausted,
        OUT_OF_FUEL => Trap::OutOfFuel,
        _ => return None,
    })
}

/// Encodes a trap for `VMRuntime::pending_trap` (never 0).
pub fn encode_pending(t: Trap) -> u64 {
    Trap::ALL
        .iter()
        .position(|&x| x == t)
        .map_or(1, |i| i as u64 + 1)
}

/// Decodes `VMRuntime::pending_trap`.
pub fn decode_pending(v: u64) -> Option<Trap> {
    v.checked_sub(1)
        .and_then(|i| Trap::ALL.get(i as usize).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_round_trips_every_trap() {
        for t in Trap::ALL {
            assert_eq!(decode_pending(encode_pending(t)), Some(t));
        }
        assert_eq!(decode_pending(0), None);
    }

    #[test]
    fn codes_are_distinct() {
        let codes = [
            UNREACHABLE,
            TABLE_OUT_OF_BOUNDS,
            UNDEFINED_ELEMENT,
            UNINITIALIZED_ELEMENT,
            INDIRECT_CALL_TYPE_MISMATCH,
            CALL_STACK_EXHAUSTED,
            OUT_OF_FUEL,
        ];
        let kinds: std::collections::HashSet<_> =
            codes.iter().map(|&c| trap_for_code(c).unwrap()).collect();
        assert_eq!(kinds.len(), codes.len());
        assert_eq!(trap_for_code(PENDING), None);
    }
}
