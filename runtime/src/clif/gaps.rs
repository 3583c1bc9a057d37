//! Instruction shapes the x86-64 backend of Cranelift 0.135.8 has no
//! lowering rule for: CLIF the verifier accepts but Wasmtime never emits,
//! so the backend answers "should be implemented in ISLE". The CLIF
//! generator leaves these shapes out of x86-64 cases, and the known-issue
//! list ([`super::known`]) recognises the compile failure when a mutation
//! brings one back — only for the very instruction Cranelift names, so a
//! broken rule that stops matching an ordinary instruction is still a
//! finding.

use cranelift_codegen::ir::types::{
    F64X2, I8, I8X16, I16, I16X8, I32X4, I64X2, I128, INVALID, Type,
};
use cranelift_codegen::ir::{Function, Inst, Opcode};

/// An instruction's opcode and types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstShape {
    /// The opcode.
    pub opcode: Opcode,
    /// The controlling type variable (`INVALID` for monomorphic opcodes).
    pub ctrl: Type,
    /// Value operand types.
    pub args: Vec<Type>,
    /// Result types.
    pub rets: Vec<Type>,
}

impl InstShape {
    /// The shape of `inst` in `func`.
    pub fn of(func: &Function, inst: Inst) -> InstShape {
        let dfg = &func.dfg;
        let opcode = dfg.insts[inst].opcode();
        let ctrl = if opcode.constraints().is_polymorphic() {
            dfg.ctrl_typevar(inst)
        } else {
            INVALID
        };
        InstShape {
            opcode,
            ctrl,
            args: dfg
                .inst_args(inst)
                .iter()
                .map(|&v| dfg.value_type(v))
                .collect(),
            rets: dfg
                .inst_results(inst)
                .iter()
                .map(|&v| dfg.value_type(v))
                .collect(),
        }
    }
}

/// Why x86-64 has no lowering for `shape` (`None`: it has one).
pub fn x64_unlowered(shape: &InstShape) -> Option<&'static str> {
    use Opcode::*;
    let (a, r, ctrl) = (shape.args.as_slice(), shape.rets.as_slice(), shape.ctrl);
    let first = |v: &[Type]| v.first().copied().unwrap_or(INVALID);
    let int_vec = [I8X16, I16X8, I32X4, I64X2];
    match shape.opcode {
        AtomicCas | AtomicLoad | AtomicRmw | AtomicStore if ctrl == I128 => {
            Some("x64: no 128-bit atomics")
        }
        SaddOverflowCin | UaddOverflowCin | SsubOverflowBin | UsubOverflowBin => {
            Some("x64: no carry-chain lowering")
        }
        Udiv | Sdiv | Urem | Srem | Smin | Smax | Umin | Umax if ctrl == I128 => {
            Some("x64: i128 division and min/max")
        }
        FcvtFromUint | FcvtFromSint if first(a) == I128 => Some("x64: i128 to float"),
        FcvtToUint | FcvtToSint | FcvtToUintSat | FcvtToSintSat
            if matches!(first(r), I8 | I16 | I128) =>
        {
            Some("x64: float to i8/i16/i128")
        }
        FcvtToUintSat | FcvtToSintSat if first(a) == F64X2 => Some("x64: f64x2 to i64x2"),
        Fcopysign if ctrl.is_vector() => Some("x64: vector fcopysign"),
        Imul if ctrl == I8X16 => Some("x64: i8x16 multiply"),
        Popcnt if matches!(ctrl, I16X8 | I32X4 | I64X2) => Some("x64: wide-lane popcnt"),
        Rotl | Rotr if ctrl.is_vector() => Some("x64: vector rotates"),
        UaddSat | SaddSat | UsubSat | SsubSat if matches!(ctrl, I32X4 | I64X2) => {
            Some("x64: saturating 32/64-bit lanes")
        }
        ScalarToVector if ctrl == I8X16 => Some("x64: i8 scalar_to_vector"),
        Umulhi | Smulhi if int_vec.contains(&ctrl) => Some("x64: vector mulhi"),
        Snarrow | Unarrow if first(a) == I64X2 => Some("x64: narrowing i64x2"),
        Uunarrow => Some("x64: uunarrow"),
        SqmulRoundSat if ctrl == I32X4 => Some("x64: i32x4 sqmul_round_sat"),
        _ => None,
    }
}

/// The instruction of `func` that an "Unsupported: should be implemented
/// in ISLE: inst = `...`" message names, found by its printed form.
pub fn named_instruction(func: &Function, message: &str) -> Option<Inst> {
    let start = message.find("inst = `")? + "inst = `".len();
    let len = message[start..].find('`')?;
    let text = &message[start..start + len];
    func.layout
        .blocks()
        .flat_map(|b| func.layout.block_insts(b))
        .find(|&i| func.dfg.display_inst(i).to_string() == text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clif::ClifModule;

    const CASE: &str = "function %f(i128, i64) -> f64, f64 {
block0(v0: i128, v1: i64):
    v2 = fcvt_from_sint.f64 v1
    v3 = fcvt_from_sint.f64 v0
    return v2, v3
}";

    #[test]
    fn finds_the_named_instruction_and_its_gap() {
        let module = ClifModule::parse(CASE).unwrap();
        let func = &module.functions()[0];
        let message = "Unsupported feature: should be implemented in ISLE: \
                       inst = `v3 = fcvt_from_sint.f64 v0`, type = `Some(types::F64)`";
        let inst = named_instruction(func, message).expect("named instruction");
        let shape = InstShape::of(func, inst);
        assert_eq!(shape.args, vec![I128]);
        assert_eq!(x64_unlowered(&shape), Some("x64: i128 to float"));
        let other = named_instruction(func, &message.replace("v3 =", "v2 =").replace("v0`", "v1`"))
            .expect("the i64 conversion");
        assert_eq!(x64_unlowered(&InstShape::of(func, other)), None);
        assert_eq!(named_instruction(func, "no instruction here"), None);
    }
}
