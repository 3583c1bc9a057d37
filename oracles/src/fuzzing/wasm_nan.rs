//! NaN signs and payloads in fuzz inputs for the wasm targets.
//!
//! The wasm spec leaves open the sign of a NaN an arithmetic instruction
//! makes from non-NaN inputs, and the payload of one made from NaN inputs
//! (only "arithmetic NaN" is guaranteed). Engines differ here legitimately:
//! x86's `sqrtps` of a negative lane gives `0xffc00000`, the interpreter
//! `0x7fc00000`. The oracle already treats NaN vs NaN as equal where a
//! value is returned or stored as a float; the instruction-first
//! generator's NaN modes keep any other route closed. A fuzz input,
//! though, is a mutation: it can pass such a NaN through `v128.not`, a
//! reinterpretation or `copysign`, where the open bits become ordinary
//! ones (found by a 100,000-input `wasm_diff` run: `f32x4.sqrt` then
//! `v128.not`). [`may_observe_nan_bits`] is the conservative test: the
//! module computes a float that may be such a NaN *and* has an instruction
//! that can expose a NaN's bits. A disagreement on such an input says
//! nothing and is set aside as inconclusive.

use wasmparser::{Operator, Parser, Payload};

/// Whether any function of `wasm` both makes a possibly nondeterministic
/// NaN and can observe NaN bits (see the module docs). A module that does
/// not parse is reported as not observing (the oracle rejects it anyway).
pub fn may_observe_nan_bits(wasm: &[u8]) -> bool {
    let (mut makes, mut observes) = (false, false);
    for payload in Parser::new(0).parse_all(wasm) {
        let Ok(Payload::CodeSectionEntry(body)) = payload else {
            continue;
        };
        let Ok(mut ops) = body.get_operators_reader() else {
            continue;
        };
        while !ops.eof() {
            let Ok(op) = ops.read() else { break };
            makes |= makes_open_nan(&op);
            observes |= observes_bits(&op);
        }
    }
    makes && observes
}

/// Float arithmetic whose NaN result has an open sign or payload.
fn makes_open_nan(op: &Operator<'_>) -> bool {
    use Operator::*;
    matches!(
        op,
        F32Add
            | F32Sub
            | F32Mul
            | F32Div
            | F32Sqrt
            | F32Min
            | F32Max
            | F32Ceil
            | F32Floor
            | F32Trunc
            | F32Nearest
            | F64Add
            | F64Sub
            | F64Mul
            | F64Div
            | F64Sqrt
            | F64Min
            | F64Max
            | F64Ceil
            | F64Floor
            | F64Trunc
            | F64Nearest
            | F32DemoteF64
            | F64PromoteF32
            | F32x4Add
            | F32x4Sub
            | F32x4Mul
            | F32x4Div
            | F32x4Sqrt
            | F32x4Min
            | F32x4Max
            | F32x4Ceil
            | F32x4Floor
            | F32x4Trunc
            | F32x4Nearest
            | F64x2Add
            | F64x2Sub
            | F64x2Mul
            | F64x2Div
            | F64x2Sqrt
            | F64x2Min
            | F64x2Max
            | F64x2Ceil
            | F64x2Floor
            | F64x2Trunc
            | F64x2Nearest
            | F32x4DemoteF64x2Zero
            | F64x2PromoteLowF32x4
            | F32x4RelaxedMadd
            | F32x4RelaxedNmadd
            | F64x2RelaxedMadd
            | F64x2RelaxedNmadd
            | F32x4RelaxedMin
            | F32x4RelaxedMax
            | F64x2RelaxedMin
            | F64x2RelaxedMax
    )
}

/// Instructions through which a float's bits become observable as
/// something other than a float: reinterpretation, sign transfer, raw
/// float stores, and every v128 instruction that is not float-lane
/// arithmetic or a float comparison.
fn observes_bits(op: &Operator<'_>) -> bool {
    use Operator::*;
    match op {
        I32ReinterpretF32
        | I64ReinterpretF64
        | F32Copysign
        | F64Copysign
        | F32Store { .. }
        | F64Store { .. } => true,
        _ => is_v128_bitwise(op),
    }
}

/// v128 instructions that treat their operands as bits or integer lanes
/// (a NaN lane made by float arithmetic can reach them).
fn is_v128_bitwise(op: &Operator<'_>) -> bool {
    let name = format!("{op:?}");
    let name = name.split([' ', '{', '(']).next().unwrap_or("");
    let vector = name.starts_with("V128")
        || name.starts_with("I8x16")
        || name.starts_with("I16x8")
        || name.starts_with("I32x4")
        || name.starts_with("I64x2");
    vector && !matches!(name, "V128Const" | "V128Load")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wasm(text: &str) -> Vec<u8> {
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        let mut wat: wast::Wat = wast::parser::parse(&buf).unwrap();
        wat.encode().unwrap()
    }

    #[test]
    fn a_float_result_exposed_bitwise_is_flagged() {
        let found = wasm(
            "(module (func (param v128) (result v128)
               local.get 0 f32x4.sqrt v128.not))",
        );
        assert!(may_observe_nan_bits(&found));
        let scalar = wasm(
            "(module (func (param f32) (result i32)
               local.get 0 local.get 0 f32.add i32.reinterpret_f32))",
        );
        assert!(may_observe_nan_bits(&scalar));
    }

    #[test]
    fn floats_or_bits_alone_are_not() {
        let floats = wasm("(module (func (param f32) (result f32) local.get 0 f32.sqrt))");
        assert!(!may_observe_nan_bits(&floats));
        let bits = wasm("(module (func (param v128) (result v128) local.get 0 v128.not))");
        assert!(!may_observe_nan_bits(&bits));
    }
}
