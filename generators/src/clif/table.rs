//! The opcode table of the instruction-first CLIF generator.
//!
//! Built like cranelift-fuzzgen's signature list: every opcode the
//! generator knows how to emit, instantiated for every controlling type its
//! constraints (from `Opcode::constraints`) allow among the types shoal
//! exercises, with free operand types expanded. Combinations that a backend
//! (x64, Pulley) or `cranelift-interpreter` 0.135.8 cannot handle, or that
//! the type rules of an opcode forbid, are removed by [`unsupported`] — an
//! explicit, commented list that a test keeps honest by compiling every
//! remaining entry for x64 and Pulley and running it in the interpreter.

use std::sync::LazyLock;

use cranelift_codegen::ir::instructions::ResolvedConstraint;
use cranelift_codegen::ir::types::*;
use cranelift_codegen::ir::{Opcode, Type};
use shoal_runtime::clif::gaps::{InstShape, x64_unlowered};

/// The value types the CLIF generator uses.
pub const TYPES: [Type; 13] = [
    I8, I16, I32, I64, I128, F32, F64, I8X16, I16X8, I32X4, I64X2, F32X4, F64X2,
];

/// One opcode at one type signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClifOp {
    /// The opcode.
    pub opcode: Opcode,
    /// The controlling type variable (`INVALID` for monomorphic opcodes).
    pub ctrl: Type,
    /// Operand types (value operands only).
    pub args: Vec<Type>,
    /// Result types.
    pub rets: Vec<Type>,
    /// Selection weight.
    pub weight: u32,
    /// True if Pulley can compile it too.
    pub pulley: bool,
}

impl ClifOp {
    /// A readable `opcode.type(args) -> rets` description.
    pub fn describe(&self) -> String {
        let list = |v: &[Type]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{}({}) -> ({})",
            self.opcode,
            list(&self.args),
            list(&self.rets)
        )
    }
}

/// Opcodes the generator emits, with weights (rarer-in-practice and
/// ISLE-special-cased opcodes weigh more). Everything else in
/// `Opcode::all()` is left out on purpose:
/// * control flow and calls (`jump`, `brif`, `br_table`, `return`,
///   `call`, `trapz`, `trapnz`) are emitted structurally, not as operations;
/// * `stack_addr` is only used to address stack slots: an address value
///   must never be observed (native and interpreted addresses differ);
/// * `call_indirect`, `func_addr`, `return_call*`, `try_call*`,
///   `symbol_value`, `tls_value`, `get_*_pointer`, `get_return_address`,
///   `get_pinned_reg`, `set_pinned_reg`, `get_exception_handler_address`,
///   `dynamic_stack_addr`, `stack_switch`: addresses, host state or
///   proposals outside a self-contained filetest;
/// * `debugtrap`, `trap`, `sequence_point`: no value to compare;
/// * `x86_*` and `blendv`: x64-only (Pulley and the interpreter lack them);
/// * `f16const`, `f128const`, `extract_vector`: types outside the palette;
/// * `uload8x8`, `sload8x8`, `uload16x4`, `sload16x4`, `uload32x2`,
///   `sload32x2`: unimplemented in cranelift-interpreter 0.135.8.
const OPCODES: &[(Opcode, u32)] = {
    use Opcode::*;
    &[
        // Integer arithmetic.
        (Iadd, 2),
        (Isub, 2),
        (Ineg, 2),
        (Iabs, 3),
        (Imul, 2),
        (Umulhi, 4),
        (Smulhi, 4),
        (Udiv, 4),
        (Sdiv, 4),
        (Urem, 4),
        (Srem, 4),
        (Smin, 3),
        (Umin, 3),
        (Smax, 3),
        (Umax, 3),
        (AvgRound, 4),
        (UaddSat, 4),
        (SaddSat, 4),
        (UsubSat, 4),
        (SsubSat, 4),
        (SqmulRoundSat, 5),
        (UaddOverflow, 5),
        (SaddOverflow, 5),
        (UsubOverflow, 5),
        (SsubOverflow, 5),
        (UmulOverflow, 5),
        (SmulOverflow, 5),
        (SaddOverflowCin, 5),
        (UaddOverflowCin, 5),
        (SsubOverflowBin, 5),
        (UsubOverflowBin, 5),
        (UaddOverflowTrap, 3),
        // Bits.
        (Band, 2),
        (Bor, 2),
        (Bxor, 2),
        (Bnot, 2),
        (Rotl, 4),
        (Rotr, 4),
        (Ishl, 3),
        (Ushr, 3),
        (Sshr, 3),
        (Bitrev, 5),
        (Clz, 4),
        (Cls, 5),
        (Ctz, 4),
        (Bswap, 5),
        (Popcnt, 4),
        (Bmask, 4),
        (Bitselect, 4),
        (Select, 4),
        (SelectSpectreGuard, 3),
        (Icmp, 4),
        // Floats.
        (Fcmp, 4),
        (Fadd, 2),
        (Fsub, 2),
        (Fmul, 2),
        (Fdiv, 3),
        (Sqrt, 3),
        (Fma, 4),
        (Fneg, 3),
        (Fabs, 3),
        (Fcopysign, 4),
        (Fmin, 4),
        (Fmax, 4),
        (Ceil, 4),
        (Floor, 4),
        (Trunc, 4),
        (Nearest, 4),
        // Conversions.
        (Bitcast, 4),
        (Ireduce, 3),
        (Uextend, 3),
        (Sextend, 3),
        (Fpromote, 3),
        (Fdemote, 3),
        (Fvdemote, 4),
        (FvpromoteLow, 4),
        (FcvtToUint, 4),
        (FcvtToSint, 4),
        (FcvtToUintSat, 5),
        (FcvtToSintSat, 5),
        (FcvtFromUint, 4),
        (FcvtFromSint, 4),
        (Isplit, 4),
        (Iconcat, 4),
        // Vectors.
        (Splat, 4),
        (Swizzle, 5),
        (Shuffle, 6),
        (Insertlane, 5),
        (Extractlane, 5),
        (VanyTrue, 4),
        (VallTrue, 4),
        (VhighBits, 5),
        (ScalarToVector, 4),
        (Snarrow, 5),
        (Unarrow, 5),
        (Uunarrow, 5),
        (SwidenLow, 5),
        (SwidenHigh, 5),
        (UwidenLow, 5),
        (UwidenHigh, 5),
        (IaddPairwise, 5),
        // Constants.
        (Iconst, 1),
        (F32const, 1),
        (F64const, 1),
        (Vconst, 1),
        // Memory (stack slots).
        (Load, 3),
        (Store, 3),
        (Uload8, 3),
        (Sload8, 3),
        (Istore8, 3),
        (Uload16, 3),
        (Sload16, 3),
        (Istore16, 3),
        (Uload32, 3),
        (Sload32, 3),
        (Istore32, 3),
        (AtomicLoad, 3),
        (AtomicStore, 3),
        (AtomicRmw, 3),
        (AtomicCas, 3),
        (Fence, 1),
        (Nop, 1),
    ]
};

/// How an opcode treats NaN bit patterns (see `wasm::table::NanFlow`; in
/// CLIF float values are typed, so one flag per value suffices).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nan {
    /// Operands must be clean; the result is clean.
    Exact,
    /// Float operands may be dirty; the result is clean.
    Consume,
    /// Float operands may be dirty; the result is dirty if one was.
    Propagate,
    /// Float operands may be dirty; float results are always dirty.
    Arith,
    /// `fcopysign`: the sign operand must be clean.
    CopySign,
}

/// The NaN behaviour of an opcode.
pub fn nan_rule(op: Opcode) -> Nan {
    use Opcode::*;
    match op {
        Fadd | Fsub | Fmul | Fdiv | Sqrt | Fma | Fmin | Fmax | Ceil | Floor | Trunc | Nearest
        | Fpromote | Fdemote | Fvdemote | FvpromoteLow => Nan::Arith,
        Fneg | Fabs | Splat | Extractlane | Insertlane | Select | SelectSpectreGuard
        | ScalarToVector => Nan::Propagate,
        Fcopysign => Nan::CopySign,
        Fcmp | FcvtToUint | FcvtToSint | FcvtToUintSat | FcvtToSintSat | VanyTrue | VallTrue => {
            Nan::Consume
        }
        _ => Nan::Exact,
    }
}

/// Memory opcodes whose address operand (`i64`) the generator synthesizes
/// itself from a stack slot.
pub fn is_memory(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        Load | Store
            | Uload8
            | Sload8
            | Istore8
            | Uload16
            | Sload16
            | Istore16
            | Uload32
            | Sload32
            | Istore32
            | AtomicLoad
            | AtomicStore
            | AtomicRmw
            | AtomicCas
    )
}

/// Index of the address operand of a memory opcode.
pub fn address_operand(op: Opcode) -> usize {
    use Opcode::*;
    match op {
        Store | Istore8 | Istore16 | Istore32 | AtomicStore => 1,
        _ => 0,
    }
}

/// Every signature of the generated opcodes, before [`unsupported`] filtering.
pub fn candidates() -> Vec<ClifOp> {
    let mut out = Vec::new();
    for &(opcode, weight) in OPCODES {
        let c = opcode.constraints();
        let ctrls: Vec<Type> = match c.ctrl_typeset() {
            Some(set) => TYPES.iter().copied().filter(|&t| set.contains(t)).collect(),
            None => vec![INVALID],
        };
        for ctrl in ctrls {
            let rets: Vec<Type> = (0..c.num_fixed_results())
                .map(|i| c.result_type(i, ctrl))
                .collect();
            let mut argss: Vec<Vec<Type>> = vec![Vec::new()];
            for i in 0..c.num_fixed_value_arguments() {
                let col: Vec<Type> = match c.value_argument_constraint(i, ctrl) {
                    ResolvedConstraint::Bound(t) => vec![t],
                    ResolvedConstraint::Free(set) => {
                        TYPES.iter().copied().filter(|&t| set.contains(t)).collect()
                    }
                };
                argss = argss
                    .into_iter()
                    .flat_map(|a| {
                        col.iter().map(move |&t| {
                            let mut a = a.clone();
                            a.push(t);
                            a
                        })
                    })
                    .collect();
            }
            for args in argss {
                out.push(ClifOp {
                    opcode,
                    ctrl,
                    args,
                    rets: rets.clone(),
                    weight,
                    pulley: true,
                });
            }
        }
    }
    out
}

/// Why a signature is left out (`None`: generated). Besides the type rules
/// the constraint sets do not express, these are the combinations that
/// x64 (0.135.8, baseline or modern ISA flags) cannot lower or that
/// cranelift-interpreter cannot run, as found by the `survey_candidates`
/// test.
pub fn unsupported(op: &ClifOp) -> Option<&'static str> {
    use Opcode::*;
    let (a, r) = (op.args.as_slice(), op.rets.as_slice());
    let vector = |t: &Type| t.is_vector();
    if is_memory(op.opcode) && a[address_operand(op.opcode)] != I64 {
        return Some("addresses are 64-bit stack addresses");
    }
    let ctrl = op.ctrl;
    match op.opcode {
        // Type rules the constraint sets do not express (the verifier
        // rejects these).
        Bitcast if a[0].bits() != r[0].bits() => Some("bitcast: sizes differ"),
        Ireduce if a[0].bits() <= r[0].bits() => Some("ireduce: not narrowing"),
        Uextend | Sextend if a[0].bits() >= r[0].bits() => Some("extend: not widening"),
        FcvtToUint | FcvtToSint | FcvtToUintSat | FcvtToSintSat | FcvtFromUint | FcvtFromSint
            if vector(&a[0]) != vector(&r[0])
                || (vector(&a[0])
                    && (a[0].lane_count() != r[0].lane_count()
                        || a[0].lane_bits() != r[0].lane_bits())) =>
        {
            Some("conversion: shapes differ")
        }
        // cranelift-interpreter 0.135.8 panics or errors.
        AvgRound => Some("interpreter: avg_round unimplemented"),
        Bitcast if a[0] == I128 || r[0] == I128 => Some("interpreter: vector/i128 bitcast"),
        Umulhi | Smulhi if ctrl == I128 => Some("interpreter: 256-bit intermediate"),
        Iconcat if r[0] != I128 => Some("x64 and interpreter: only i64 halves of i128"),
        Isplit if a[0] != I128 => Some("x64 and interpreter: only i64 halves of i128"),
        _ => x64_unlowered(&InstShape {
            opcode: op.opcode,
            ctrl,
            args: op.args.clone(),
            rets: op.rets.clone(),
        }),
    }
}

/// Why Pulley (0.135.8) cannot compile a signature that x64 and the
/// interpreter handle (`None`: it can). Cases using such entries are
/// generated for x64 only.
pub fn pulley_unsupported(op: &ClifOp) -> Option<&'static str> {
    use Opcode::*;
    let (a, ctrl) = (op.args.as_slice(), op.ctrl);
    let scalar_float = |t: Type| t == F32 || t == F64;
    match op.opcode {
        AtomicCas | AtomicLoad | AtomicRmw | AtomicStore | Fence => Some("atomics and fences"),
        Band | Bor | Bxor | Bnot if scalar_float(ctrl) || ctrl == I128 => {
            Some("bitwise ops on floats and i128")
        }
        Bitselect if !ctrl.is_vector() => Some("scalar bitselect"),
        Bitrev | Cls => Some("bitrev and cls"),
        Bmask if ctrl == I128 || a[0] == I128 => Some("i128 bmask"),
        Bswap | Clz | Ctz | Popcnt | Iabs | Ineg if ctrl == I128 => {
            Some("i128 bit counts and negation")
        }
        Ishl | Ushr | Sshr if ctrl == I128 => Some("i128 shifts"),
        Rotl | Rotr if matches!(ctrl, I8 | I16 | I128) => Some("narrow and i128 rotates"),
        Fma if !ctrl.is_vector() => Some("scalar fma"),
        Load | Store if ctrl == I128 => Some("i128 memory accesses"),
        SaddOverflow | SsubOverflow | UsubOverflow | SmulOverflow | UmulOverflow => {
            Some("overflow-flag arithmetic")
        }
        UaddOverflow if matches!(ctrl, I8 | I16 | I128) => Some("narrow and i128 uadd_overflow"),
        Select if ctrl == I128 => Some("i128 select"),
        SelectSpectreGuard => Some("select_spectre_guard"),
        Smin | Smax | Umin | Umax if ctrl == I64X2 => Some("i64x2 min/max"),
        IaddPairwise if ctrl == I8X16 => Some("i8x16 iadd_pairwise"),
        VhighBits if a[0].lane_type().is_float() || ctrl == I64 => Some("vhigh_bits"),
        _ => None,
    }
}

/// The generated table: [`candidates`] minus [`unsupported`].
pub fn table() -> &'static [ClifOp] {
    static T: LazyLock<Vec<ClifOp>> = LazyLock::new(|| {
        candidates()
            .into_iter()
            .filter(|op| unsupported(op).is_none())
            .map(|mut op| {
                op.pulley = pulley_unsupported(&op).is_none();
                op
            })
            .collect()
    });
    &T
}

/// Cumulative weights over [`table`].
pub fn cumulative_weights() -> &'static [u64] {
    static C: LazyLock<Vec<u64>> = LazyLock::new(|| cumulate(table().iter().map(|o| o.weight)));
    &C
}

fn cumulate(w: impl Iterator<Item = u32>) -> Vec<u64> {
    let mut total = 0;
    w.map(|x| {
        total += u64::from(x);
        total
    })
    .collect()
}

/// Table entries whose first result has type `ty`, with cumulative weights.
pub fn producers(ty: Type) -> (&'static [usize], &'static [u64]) {
    static P: LazyLock<Vec<(Vec<usize>, Vec<u64>)>> = LazyLock::new(|| {
        TYPES
            .iter()
            .map(|&ty| {
                let idx: Vec<usize> = table()
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.rets.first() == Some(&ty))
                    .map(|(i, _)| i)
                    .collect();
                let cum = cumulate(idx.iter().map(|&i| table()[i].weight));
                (idx, cum)
            })
            .collect()
    });
    match TYPES.iter().position(|&t| t == ty) {
        Some(i) => (&P[i].0, &P[i].1),
        None => (&[], &[]),
    }
}
