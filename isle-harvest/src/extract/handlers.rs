//! Named handlers for Rust-implemented (extern) extractors and for the
//! constructors rules call in `if-let`s.
//!
//! [`extract`] interprets an extern extractor applied to an abstract input
//! and returns the abstract outputs; [`construct`] interprets a constructor
//! call. Both return `None` for a name without a handler, which the walker
//! reports. A handler either models the term's condition (a type
//! restriction, an immediate predicate, an ISA-flag requirement, an operand
//! shape) or, for terms that cannot fail and only convert or compute,
//! passes values through or returns an opaque value.

use cranelift_codegen::ir::{Opcode, Type, types};
use shoal_generators::pattern::{ImmKind, MemFlagsReq, Pred, TypeSet};

use super::{Abs, Sig, TyProp, Walker};

/// Interprets extern extractor `name` on `input` with `n` outputs.
pub(super) fn extract(
    w: &mut Walker,
    name: &str,
    sig: &Sig,
    input: &Abs,
    n: usize,
) -> Option<Vec<Abs>> {
    if let Some(outs) = structural(w, name, input, n) {
        return Some(outs);
    }
    if let Some(outs) = value_constants(w, name, input, n) {
        return Some(outs);
    }
    if let Some(pred) = type_filter(name) {
        return Some(match input {
            Abs::Type(tv) => {
                let tv = *tv;
                w.restrict_fn(tv, pred);
                vec![Abs::Type(tv); n]
            }
            _ => vec![Abs::Opaque; n],
        });
    }
    if let Some(outs) = type_shapes(w, name, input, n) {
        return Some(outs);
    }
    if let Some(outs) = immediates(w, name, input, n) {
        return Some(outs);
    }
    if let Some(outs) = mem_flags(w, name, input, n) {
        return Some(outs);
    }
    if let Some(outs) = numeric_extractor(w, name, sig, input, n) {
        return Some(outs);
    }
    if let Some(flags) = isa_flag(name)
        && n == 0
    {
        for f in flags {
            w.require_flag(f, true);
        }
        return Some(Vec::new());
    }
    if opaque_extractor(name) {
        return Some(vec![Abs::Opaque; n]);
    }
    None
}

/// Interprets constructor `name` applied to `args`.
pub(super) fn construct(w: &mut Walker, name: &str, sig: &Sig, args: &[Abs]) -> Option<Abs> {
    if let Some(flags) = isa_flag(name) {
        return Some(Abs::Flag(flags.iter().map(|f| f.to_string()).collect()));
    }
    if let Some(abs) = type_props(w, name, args) {
        return Some(abs);
    }
    // A type test used as a (partial) constructor: `(if (ty_vec64 ty))`.
    if let Some(pred) = type_filter(name) {
        return Some(match args {
            [Abs::Type(tv)] => {
                let tv = *tv;
                w.restrict_fn(tv, pred);
                Abs::Type(tv)
            }
            _ => Abs::Opaque,
        });
    }
    // Immediate conversions used as constructors.
    if let [Abs::Imm(slot)] = args
        && let Some(outs) = immediates(w, name, &Abs::Imm(*slot), 1)
    {
        return outs.into_iter().next();
    }
    if let Some(abs) = numeric_constructor(w, name, sig, args) {
        return Some(abs);
    }
    if let Some(abs) = partial_conditions(w, name, args) {
        return Some(abs);
    }
    if opaque_constructor(name, sig) {
        return Some(Abs::Opaque);
    }
    None
}

// ---- extractors ------------------------------------------------------------

/// Extractors that navigate the instruction graph.
fn structural(w: &mut Walker, name: &str, input: &Abs, n: usize) -> Option<Vec<Abs>> {
    let outs = match (name, input) {
        ("inst_data_value" | "inst_data_value_tupled", Abs::Node(node)) => {
            let ty = w.node_ty(*node);
            if n == 1 {
                vec![Abs::InstData(*node)]
            } else {
                vec![Abs::Type(ty), Abs::InstData(*node)]
            }
        }
        ("inst_data", Abs::Node(node)) => vec![Abs::InstData(*node)],
        (
            "def_inst" | "first_result" | "maybe_uextend" | "sinkable_inst" | "is_sinkable_inst",
            Abs::Node(node),
        ) => {
            if matches!(name, "sinkable_inst" | "is_sinkable_inst") {
                w.single_use(*node);
            }
            vec![Abs::Node(*node); n]
        }
        ("value_type", Abs::Node(node)) => vec![Abs::Type(w.node_ty(*node))],
        ("value_array_2" | "value_array_3", Abs::Args(node)) => {
            (0..n).map(|i| Abs::Node(w.arg(*node, i))).collect()
        }
        ("value_list_slice", Abs::Args(node)) => vec![Abs::ArgsFrom(*node, 0)],
        ("value_slice_unwrap", Abs::ArgsFrom(node, k)) => {
            vec![Abs::Node(w.arg(*node, *k)), Abs::ArgsFrom(*node, k + 1)]
        }
        ("value_slice_empty", Abs::ArgsFrom(..)) => Vec::new(),
        ("iconst_sextend_etor", Abs::InstData(node)) => {
            let ty = w.node_ty(*node);
            match w.iconst(*node) {
                Some(slot) => vec![Abs::Type(ty), Abs::Imm(slot)],
                None => vec![Abs::Opaque; n],
            }
        }
        // `(sextend_maybe ty x)`: x, possibly sign/zero-extended to `ty`.
        ("sextend_maybe_etor" | "uextend_maybe_etor", Abs::Node(node)) => {
            vec![Abs::Type(w.node_ty(*node)), Abs::Node(*node)]
        }
        (
            "sinkable_load"
            | "sinkable_load_exact"
            | "sinkable_load_8"
            | "sinkable_load_16"
            | "sinkable_load_32"
            | "sinkable_load_64"
            | "sinkable_load_128",
            Abs::Node(node),
        ) => {
            let node = w.make_inst(*node, Opcode::Load, &[ImmKind::MemFlags, ImmKind::Offset32]);
            // The address operand.
            w.arg(node, 0);
            w.single_use(node);
            let tv = w.node_ty(node);
            let bits: Option<u32> = name.rsplit('_').next().and_then(|b| b.parse().ok());
            match bits {
                Some(b) => w.restrict_fn(tv, move |t| t.bits() == b),
                None if name == "sinkable_load" => w.restrict_fn(tv, |t| t.bits() >= 32),
                None => {}
            }
            vec![Abs::Opaque; n]
        }
        (
            "inst_data_value"
            | "inst_data_value_tupled"
            | "inst_data"
            | "def_inst"
            | "first_result"
            | "value_type"
            | "value_array_2"
            | "value_array_3"
            | "iconst_sextend_etor"
            | "maybe_uextend"
            | "sinkable_inst"
            | "is_sinkable_inst"
            | "value_list_slice"
            | "value_slice_unwrap"
            | "value_slice_empty"
            | "sextend_maybe_etor"
            | "uextend_maybe_etor"
            | "sinkable_load"
            | "sinkable_load_exact"
            | "sinkable_load_8"
            | "sinkable_load_16"
            | "sinkable_load_32"
            | "sinkable_load_64"
            | "sinkable_load_128",
            _,
        ) => vec![Abs::Opaque; n],
        _ => return None,
    };
    Some(outs)
}

/// Extractors that match a value defined by a constant and bound its
/// value: `(i64_from_iconst c)`, `(simm32_from_value c)`, ...
fn value_constants(w: &mut Walker, name: &str, input: &Abs, n: usize) -> Option<Vec<Abs>> {
    let range: Option<(i128, i128)> = match name {
        "i64_from_iconst" | "i64_from_value" | "u64_from_value" | "u64_from_iconst_value" => {
            Some((i128::from(i64::MIN), i128::from(u64::MAX)))
        }
        "i32_from_value" | "simm32_from_value" | "i32_from_iconst" => {
            Some((i128::from(i32::MIN), i128::from(i32::MAX)))
        }
        "u32_from_value" => Some((0, i128::from(u32::MAX))),
        "i16_from_value" => Some((i128::from(i16::MIN), i128::from(i16::MAX))),
        "u16_from_value" => Some((0, i128::from(u16::MAX))),
        "i8_from_value" => Some((i128::from(i8::MIN), i128::from(i8::MAX))),
        "u8_from_value" | "uimm8" => Some((0, 255)),
        "simm20_from_value" => Some((-(1 << 19), (1 << 19) - 1)),
        "imm12_from_value" => Some((-2048, 2047)),
        "simm16_from_value" => Some((-(1 << 15), (1 << 15) - 1)),
        "i64_from_negated_value"
        | "imm12_from_negated_value"
        | "i32_from_negated_value"
        | "i16_from_negated_value"
        | "u8_from_negated_iconst"
        | "u32_from_negated_iconst" => Some((-2048, -1)),
        "uimm32shifted_from_value" | "uimm16shifted_from_value" => Some((1, i128::from(u32::MAX))),
        "uimm32shifted_from_inverted_value" | "uimm16shifted_from_inverted_value" => {
            Some((i128::from(i64::MIN), -2))
        }
        _ => None,
    };
    let (min, max) = range?;
    let Abs::Node(node) = input else {
        return Some(vec![Abs::Opaque; n]);
    };
    let Some(slot) = w.iconst(*node) else {
        return Some(vec![Abs::Opaque; n]);
    };
    if min < 0 && max < 0 {
        // A negated value: hint small negative numbers.
        w.add_hints(slot, &[u128::MAX, u128::MAX - 7, u128::MAX - 99]);
    } else if min >= 0 {
        w.add_pred(
            slot,
            Pred::UnsignedRange {
                min: min as u128,
                max: max as u128,
            },
        );
    } else {
        w.add_pred(slot, Pred::SignedRange { min, max });
    }
    Some(if n == 1 {
        vec![Abs::Imm(slot)]
    } else {
        vec![Abs::Opaque; n]
    })
}

/// Type-classifying extractors (`fits_in_64`, `ty_vec128`, ...): the type
/// passes through when it satisfies the condition.
fn type_filter(name: &str) -> Option<fn(Type) -> bool> {
    let f: fn(Type) -> bool = match name {
        "fits_in_16" => |t| t.bits() <= 16 && !t.is_vector(),
        "fits_in_32" => |t| t.bits() <= 32 && !t.is_vector(),
        "fits_in_64" => |t| t.bits() <= 64 && !t.is_vector(),
        "lane_fits_in_32" => |t| t.is_vector() && t.lane_bits() <= 32,
        "ty_16" => |t| t.bits() == 16,
        "ty_32" => |t| t.bits() == 32,
        "ty_64" => |t| t.bits() == 64,
        "ty_128" => |t| t.bits() == 128,
        "ty_32_or_64" => |t| matches!(t.bits(), 32 | 64) && !t.is_vector(),
        "ty_8_or_16" => |t| matches!(t.bits(), 8 | 16) && !t.is_vector(),
        "ty_16_or_32" => |t| matches!(t.bits(), 16 | 32) && !t.is_vector(),
        "int_fits_in_32" => |t| t.is_int() && !t.is_vector() && t.bits() <= 32,
        "ty_int_ref_64" | "ty_int_ref_scalar_64_extract" | "ty_int_ref_scalar_64" => {
            |t| t.is_int() && !t.is_vector() && t.bits() <= 64
        }
        "ty_int_ref_16_to_64" => |t| t.is_int() && !t.is_vector() && (16..=64).contains(&t.bits()),
        "ty_int" => |t| t.is_int() && !t.is_vector(),
        "ty_scalar" => |t| !t.is_vector(),
        "ty_scalar_float" => |t| t.is_float() && !t.is_vector(),
        "ty_float_or_vec" => |t| t.is_float() || t.is_vector(),
        "ty_vec64" | "ty_vec64_ctor" => |t| t.is_vector() && t.bits() == 64,
        "ty_vec128" => |t| t.is_vector() && t.bits() == 128,
        "ty_int_vec128" | "ty_vec128_int" => {
            |t| t.is_vector() && t.bits() == 128 && t.lane_type().is_int()
        }
        "ty_vec64_int" => |t| t.is_vector() && t.bits() == 64 && t.lane_type().is_int(),
        "ty_addr64" => |t| t.bits() == 64 && t.is_int() && !t.is_vector(),
        "not_i64x2" => |t| t != types::I64X2,
        "not_vec32x2" => |t| !(t.is_vector() && t.lane_bits() == 32 && t.lane_count() == 2),
        "ty_vector_float" => |t| t.is_vector() && t.lane_type().is_float(),
        "ty_vector_not_float" => |t| t.is_vector() && !t.lane_type().is_float(),
        "ty_reg_pair" => |t| t == types::I128 || t == types::F128,
        "vr128_ty" => {
            |t| t == types::I128 || t == types::F128 || (t.is_vector() && t.bits() == 128)
        }
        "gpr64_ty" => |t| t == types::I64,
        "gpr32_ty" => |t| matches!(t, types::I8 | types::I16 | types::I32),
        "valid_atomic_transaction" => |t| t.is_int() && !t.is_vector() && t.bits() <= 64,
        "ty_supported_vec" => |t| t.is_vector(),
        "ty_supported_float_full" | "ty_supported_float_min" | "ty_supported_float_size" => {
            |t| t.is_float() && !t.is_vector() && t != types::F128
        }
        "ty_supported" => |t| !t.is_vector() || t.lane_count() > 1,
        "ty_dyn_vec64" | "ty_dyn_vec128" | "ty_dyn64_int" | "ty_dyn128_int" => |_| false,
        _ => return None,
    };
    Some(f)
}

/// `(multi_lane bits count)`, `(dynamic_lane ...)`, `(lane_type ...)` on
/// a type.
fn type_shapes(w: &mut Walker, name: &str, input: &Abs, n: usize) -> Option<Vec<Abs>> {
    match name {
        "multi_lane" => Some(match input {
            Abs::Type(tv) => {
                let tv = *tv;
                w.restrict_fn(tv, |t| t.is_vector());
                vec![
                    Abs::TyProp(tv, TyProp::LaneBits),
                    Abs::TyProp(tv, TyProp::LaneCount),
                ]
            }
            _ => vec![Abs::Opaque; n],
        }),
        // Dynamic vectors are outside shoal's type universe.
        "dynamic_lane" => {
            if let Abs::Type(tv) = input {
                w.restrict(*tv, TypeSet::EMPTY);
            }
            Some(vec![Abs::Opaque; n])
        }
        _ => None,
    }
}

/// Extractors on immediates: conversions pass the slot through, conditions
/// add predicates.
fn immediates(w: &mut Walker, name: &str, input: &Abs, n: usize) -> Option<Vec<Abs>> {
    let pass = matches!(
        name,
        "u64_from_imm64"
            | "u8_from_uimm8"
            | "u16_from_ieee16"
            | "u32_from_ieee32"
            | "u64_from_ieee64"
            | "u128_from_constant"
            | "u128_from_immediate"
            | "u64_from_constant"
            | "vconst_from_immediate"
            | "vec_mask_from_immediate"
            | "ieee128_constant"
            | "offset32"
            | "offset32_to_i32"
            | "u64_from_bool"
            | "imm64"
    );
    let pred: Option<Pred> = match name {
        "nonzero_u64_from_imm64" => Some(Pred::Ne(0)),
        "imm64_power_of_two" | "u64_extract_power_of_two" => Some(Pred::PowerOfTwo),
        "u32_nonnegative" => Some(Pred::SignedRange {
            min: 0,
            max: i128::from(i32::MAX),
        }),
        "imm12_from_i64" | "imm12_from_u64" | "u64_to_imm12" => Some(Pred::SignedRange {
            min: -2048,
            max: 2047,
        }),
        "imm5_from_i64" | "i8_to_imm5" | "imm5_from_u64" => {
            Some(Pred::SignedRange { min: -16, max: 15 })
        }
        "uimm5_from_u64" | "u64_to_uimm5" => Some(Pred::UnsignedRange { min: 0, max: 31 }),
        "u6_from_u8" | "u6_shift_from_iconst" => Some(Pred::UnsignedRange { min: 0, max: 63 }),
        "lshl_from_imm64" | "imm_shift_from_imm64" => Some(Pred::UnsignedRange { min: 0, max: 63 }),
        "u128_replicated_u64" => None,
        _ => None,
    };
    if !pass && pred.is_none() {
        return None;
    }
    let Abs::Imm(slot) = input else {
        return Some(vec![Abs::Opaque; n]);
    };
    let slot = *slot;
    if let Some(p) = pred {
        w.add_pred(slot, p);
    }
    Some(vec![Abs::Imm(slot); n])
}

/// Memory flags: the slot's bits are [`MemFlagsReq`].
fn mem_flags(w: &mut Walker, name: &str, input: &Abs, n: usize) -> Option<Vec<Abs>> {
    let bit = |mask: u128, set: bool| Pred::Field {
        lo: mask.trailing_zeros() as u8,
        width: 1,
        value: u128::from(set),
    };
    let preds: Vec<Pred> = match name {
        "mem_flags_data" => Vec::new(),
        "little_or_native_endian" => vec![bit(MemFlagsReq::BIG, false)],
        // s390x: native is big-endian.
        "bigendian" => vec![bit(MemFlagsReq::LITTLE, false)],
        "littleendian" => vec![bit(MemFlagsReq::LITTLE, true), bit(MemFlagsReq::BIG, false)],
        _ => return None,
    };
    let Abs::Imm(slot) = input else {
        return Some(vec![Abs::Opaque; n]);
    };
    for p in preds {
        w.add_pred(*slot, p);
    }
    Some(vec![Abs::Imm(*slot); n])
}

/// Integer range of an ISLE builtin integer type name (`u8`, `i64`, ...).
fn int_range(name: &str) -> Option<(i128, i128)> {
    Some(match name {
        "u8" => (0, 0xff),
        "u16" => (0, 0xffff),
        "u32" => (0, i128::from(u32::MAX)),
        "u64" | "usize" => (0, i128::from(u64::MAX)),
        "i8" => (i128::from(i8::MIN), i128::from(i8::MAX)),
        "i16" => (i128::from(i16::MIN), i128::from(i16::MAX)),
        "i32" => (i128::from(i32::MIN), i128::from(i32::MAX)),
        "i64" | "isize" => (i128::from(i64::MIN), i128::from(i64::MAX)),
        "u128" | "i128" => (i128::MIN, i128::MAX),
        _ => return None,
    })
}

/// Numeric extractors of `numerics.isle`: conversions that succeed when the
/// value fits the narrower type, and `*_matches_non_zero`.
fn numeric_extractor(
    w: &mut Walker,
    name: &str,
    sig: &Sig,
    input: &Abs,
    n: usize,
) -> Option<Vec<Abs>> {
    if name.ends_with("_matches_non_zero") || name.ends_with("_matches_power_of_two") {
        let pred = if name.ends_with("_non_zero") {
            Pred::Ne(0)
        } else {
            Pred::PowerOfTwo
        };
        return Some(match input {
            Abs::Imm(slot) => vec![Abs::Cond(*slot, pred); n],
            _ => vec![Abs::Opaque; n],
        });
    }
    // A conversion `(decl X_from_Y (Y) X)` used as an extractor on an X.
    let [arg] = sig.args else {
        return None;
    };
    let (min, max) = int_range(arg)?;
    int_range(sig.ret)?;
    if !name.contains("_from_") && !name.contains("_into_") && !name.contains("_try_into_") {
        return None;
    }
    Some(match input {
        Abs::Imm(slot) => {
            let (min_r, max_r) = int_range(sig.ret).unwrap_or((min, max));
            if min > min_r || max < max_r {
                let pred = if min < 0 {
                    Pred::SignedRange { min, max }
                } else {
                    Pred::UnsignedRange {
                        min: min as u128,
                        max: max as u128,
                    }
                };
                w.add_pred(*slot, pred);
            }
            vec![Abs::Imm(*slot); n]
        }
        _ => vec![Abs::Opaque; n],
    })
}

/// Extractors whose outputs shoal does not model and which cannot fail (or
/// whose failure is not a property of the test case): branch targets,
/// function references, byte splits of constants.
fn opaque_extractor(name: &str) -> bool {
    matches!(
        name,
        "two_targets"
            | "single_target"
            | "jump_table_targets"
            | "func_ref_data"
            | "exception_sig"
            | "symbol_value_data"
            | "tls_model"
            | "shuffle_mask_from_u128"
            | "u8_pair"
            | "u16_pair"
            | "u32_pair"
            | "u64_pair"
            | "block_array_2"
            | "abi_ret_arg"
            | "abi_no_ret_arg"
    )
}

// ---- constructors ----------------------------------------------------------

/// ISA-flag predicates (`has_avx`, `use_popcnt`, ...) and the Cranelift
/// settings each one reads (all must be on).
fn isa_flag(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "has_sse3" => &["has_sse3"],
        "has_ssse3" => &["has_ssse3"],
        "has_sse41" | "has_pmins" | "has_pminu" | "has_pmaxs" | "has_pmaxu" | "has_round" => {
            &["has_sse41"]
        }
        "use_sse42" => &["has_sse41", "has_sse42"],
        "has_cmpxchg16b" => &["has_cmpxchg16b"],
        "has_avx" | "use_avx" => &["has_avx"],
        "use_avx2" => &["has_avx", "has_avx2"],
        "has_avx512vl" => &["has_avx512vl"],
        "has_avx512dq" => &["has_avx512dq"],
        "has_avx512f" => &["has_avx512f"],
        "has_avx512bitalg" => &["has_avx512bitalg"],
        "has_avx512vbmi" => &["has_avx512vbmi"],
        "has_lzcnt" => &["has_lzcnt"],
        "has_bmi1" => &["has_bmi1"],
        "has_bmi2" => &["has_bmi2"],
        "use_popcnt" => &["has_popcnt", "has_sse42"],
        "use_fma" | "has_native_fma" => &["has_avx", "has_fma"],
        "use_avx_vnni" => &["has_avx", "has_avx_vnni"],
        "use_avx512vnni" => &["has_avx512vl", "has_avx512vnni"],
        "use_lse" => &["has_lse"],
        "use_dotprod" => &["has_dotprod"],
        "use_i8mm" => &["has_i8mm"],
        "use_fp16" => &["has_fp16"],
        "has_m" => &["has_m"],
        "has_v" => &["has_v"],
        "has_zfa" => &["has_zfa"],
        "has_zfh" => &["has_zfh"],
        "has_zfhmin" => &["has_zfhmin"],
        "has_zba" => &["has_zba"],
        "has_zbb" => &["has_zbb"],
        "has_zbc" => &["has_zbc"],
        "has_zbs" => &["has_zbs"],
        "has_zbkb" => &["has_zbkb"],
        "has_zicond" => &["has_zicond"],
        "has_zvbb" => &["has_zvbb"],
        "has_zvfh" => &["has_zvfh"],
        "has_mie3" => &["has_mie3"],
        "has_mie4" => &["has_mie4"],
        "has_vxrs_ext2" => &["has_vxrs_ext2"],
        "has_vxrs_ext3" => &["has_vxrs_ext3"],
        _ => return None,
    })
}

/// Properties of types.
fn type_props(w: &mut Walker, name: &str, args: &[Abs]) -> Option<Abs> {
    let prop = match name {
        "ty_bits" | "ty_bits_u64" | "ty_bits_u16" => TyProp::Bits,
        "ty_lane_count" => TyProp::LaneCount,
        "ty_lane_bits" => TyProp::LaneBits,
        "lane_type" => TyProp::LaneType,
        "ty_equal" => {
            return Some(match args {
                [Abs::Type(a), Abs::Type(b)] => Abs::TyEq(*a, *b),
                _ => Abs::Opaque,
            });
        }
        "ty_half_width" | "ty_half_lanes" | "ty_double_width" | "ty_shift_mask" | "ty_mask"
        | "ty_smin" | "ty_smax" | "ty_umin" | "ty_umax" | "ty_lane_mask" => {
            return Some(Abs::Opaque);
        }
        _ => return None,
    };
    let _ = w;
    Some(match args {
        [Abs::Type(tv)] => Abs::TyProp(*tv, prop),
        _ => Abs::Opaque,
    })
}

/// Comparison and arithmetic constructors of `numerics.isle`
/// (`u64_lt`, `i64_eq`, `u64_wrapping_add`, ...).
fn numeric_constructor(w: &mut Walker, name: &str, sig: &Sig, args: &[Abs]) -> Option<Abs> {
    let (ty, op) = name.split_once('_')?;
    let (min, _) = int_range(ty)?;
    let signed = min < 0;
    let cmp = matches!(op, "eq" | "ne" | "lt" | "lt_eq" | "gt" | "gt_eq");
    if !cmp {
        // Arithmetic, bit operations, conversions: computed values the
        // pattern does not track.
        let _ = (w, sig);
        return Some(Abs::Opaque);
    }
    let (slot, k, op) = match args {
        [Abs::Imm(s), Abs::Int(k)] => (*s, *k, op.to_string()),
        [Abs::Int(k), Abs::Imm(s)] => (*s, *k, mirror(op).to_string()),
        _ => return Some(Abs::Opaque),
    };
    let pred = match (op.as_str(), signed) {
        ("eq", _) => Pred::Eq(k),
        ("ne", _) => Pred::Ne(k),
        ("lt", true) => Pred::SignedRange {
            min: i128::MIN,
            max: k - 1,
        },
        ("lt_eq", true) => Pred::SignedRange {
            min: i128::MIN,
            max: k,
        },
        ("gt", true) => Pred::SignedRange {
            min: k + 1,
            max: i128::MAX,
        },
        ("gt_eq", true) => Pred::SignedRange {
            min: k,
            max: i128::MAX,
        },
        ("lt", false) if k > 0 => Pred::UnsignedRange {
            min: 0,
            max: k as u128 - 1,
        },
        ("lt_eq", false) if k >= 0 => Pred::UnsignedRange {
            min: 0,
            max: k as u128,
        },
        ("gt", false) if k >= 0 => Pred::UnsignedRange {
            min: k as u128 + 1,
            max: u128::MAX,
        },
        ("gt_eq", false) if k >= 0 => Pred::UnsignedRange {
            min: k as u128,
            max: u128::MAX,
        },
        _ => return Some(Abs::Opaque),
    };
    Some(Abs::Cond(slot, pred))
}

fn mirror(op: &str) -> &str {
    match op {
        "lt" => "gt",
        "gt" => "lt",
        "lt_eq" => "gt_eq",
        "gt_eq" => "lt_eq",
        other => other,
    }
}

/// Partial constructors whose success is a condition on an immediate.
fn partial_conditions(w: &mut Walker, name: &str, args: &[Abs]) -> Option<Abs> {
    let imm_arg = args.iter().find_map(|a| match a {
        Abs::Imm(s) => Some(*s),
        _ => None,
    });
    let preds: Vec<Pred> = match name {
        "safe_divisor_from_imm64" => vec![Pred::Ne(0), Pred::Ne(-1)],
        "i64_nonequal" | "u64_nonequal" => match args {
            [_, Abs::Int(k)] => vec![Pred::Ne(*k)],
            _ => Vec::new(),
        },
        "imm_shift_from_imm64" | "shift_masked_imm" => Vec::new(),
        "zero_value" => {
            if let Some(Abs::Node(n)) = args.first()
                && let Some(slot) = w.iconst(*n)
            {
                w.add_pred(slot, Pred::Eq(0));
                return Some(Abs::Node(*n));
            }
            return Some(Abs::Opaque);
        }
        _ => return None,
    };
    if let Some(slot) = imm_arg {
        for p in preds {
            w.add_pred(slot, p);
        }
    }
    Some(match imm_arg {
        Some(s) => Abs::Imm(s),
        None => Abs::Opaque,
    })
}

/// Constructors that compute values without a condition shoal needs
/// (total functions of their arguments).
fn opaque_constructor(name: &str, sig: &Sig) -> bool {
    let _ = sig;
    matches!(
        name,
        "mem_flags_trusted"
            | "mem_flags_trusted_data"
            | "memflags_trusted"
            | "lane_order"
            | "lane_order_equal"
            | "lane_order_from_memflags"
            | "value_regs_get"
            | "put_in_reg"
            | "output_value"
            | "value_reg"
            | "tls_model_is_elf_gd"
            | "stack_switch_model"
            | "signed_cond_code"
            | "intcc_comparable"
            | "intcc_swap_args"
            | "intcc_complement"
            | "floatcc_swap_args"
            | "floatcc_complement"
    ) || name.starts_with("f32_")
        || name.starts_with("f64_")
        || name.starts_with("f16_")
        || name.starts_with("f128_")
        || name.starts_with("imm64_")
        || name == "u128_replicated_u64"
}
