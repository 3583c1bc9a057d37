//! Choosing immediate values that satisfy a slot's predicates.
//!
//! Candidates come, in order, from the slot's exact value, its hints, and a
//! per-kind dictionary of interesting values (zero, ones, extremes, powers
//! of two and their neighbours, shift amounts at and beyond the width,
//! special floats, shuffle masks of the classes backends special-case);
//! those violating a decidable predicate are dropped.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};

use crate::pattern::{ATOMIC_RMW_OPS, Imm, ImmKind, MemFlagsReq, Pred, set_field, truncate};

/// Bit width in which a slot's predicates are evaluated; `ctrl_bits` is the
/// bit width of the instruction's controlling type (for `iconst`).
pub fn width(kind: ImmKind, ctrl_bits: u32) -> u32 {
    match kind {
        ImmKind::Imm64 => ctrl_bits.clamp(1, 64),
        ImmKind::Uimm8 => 8,
        ImmKind::Offset32 => 32,
        ImmKind::Ieee16 => 16,
        ImmKind::Ieee32 => 32,
        ImmKind::Ieee64 => 64,
        ImmKind::V128 => 128,
        _ => 64,
    }
}

/// Candidate values for a slot, best first (at least one unless the kind
/// has no values at all).
pub fn candidates(imm: &Imm, ctrl_bits: u32) -> Vec<u128> {
    let w = width(imm.kind, ctrl_bits);
    let mut out: Vec<u128> = Vec::new();
    let push = |v: u128, out: &mut Vec<u128>| {
        let v = truncate(v, w);
        if imm.accepts(v, w) && !out.contains(&v) {
            out.push(v);
        }
    };
    if let Some(v) = imm.exact() {
        push(v as u128, &mut out);
    }
    for h in &imm.hints {
        push(*h, &mut out);
    }
    for v in dictionary(imm, w) {
        push(v, &mut out);
    }
    if out.is_empty() {
        // Bit fields pinned by the rule: force them into dictionary values.
        let fields: Vec<(u8, u8, u128)> = imm
            .preds
            .iter()
            .filter_map(|p| match p {
                Pred::Field { lo, width, value } => Some((*lo, *width, *value)),
                _ => None,
            })
            .collect();
        if !fields.is_empty() {
            for v in std::iter::once(0).chain(dictionary(imm, w)) {
                let forced = fields
                    .iter()
                    .fold(v, |acc, (lo, width, f)| set_field(acc, *lo, *width, *f));
                push(forced, &mut out);
            }
        }
    }
    if out.is_empty() {
        // Unsatisfiable by the dictionary: try the range bounds, then give
        // up on the predicates (verification will tell).
        for p in &imm.preds {
            match p {
                Pred::SignedRange { min, max } => {
                    push(*min as u128, &mut out);
                    push(*max as u128, &mut out);
                }
                Pred::UnsignedRange { min, max } => {
                    push(*min, &mut out);
                    push(*max, &mut out);
                }
                _ => {}
            }
        }
    }
    if out.is_empty() {
        out.extend(
            dictionary(imm, w)
                .into_iter()
                .take(1)
                .map(|v| truncate(v, w)),
        );
    }
    out
}

fn dictionary(imm: &Imm, w: u32) -> Vec<u128> {
    match imm.kind {
        ImmKind::Imm64 | ImmKind::Uimm8 => integers(w),
        // Offsets that keep accesses inside the stack slot, aligned first.
        ImmKind::Offset32 => [0u128, 8, 16, 4, 32, 1, 2, 12, 24, 48]
            .into_iter()
            .chain(integers(w))
            .collect(),
        ImmKind::Ieee16 => floats16(),
        ImmKind::Ieee32 => floats32(),
        ImmKind::Ieee64 => floats64(),
        ImmKind::V128 => vectors(),
        ImmKind::IntCC => (0..IntCC::all().len() as u128).collect(),
        ImmKind::FloatCC => (0..FloatCC::all().len() as u128).collect(),
        ImmKind::MemFlags => {
            // No claims first: a `notrap`/`aligned` access that is not is
            // undefined behaviour.
            vec![
                0,
                MemFlagsReq::LITTLE,
                MemFlagsReq::BIG,
                MemFlagsReq::NOTRAP | MemFlagsReq::ALIGNED,
            ]
        }
        ImmKind::TrapCode => vec![1, 2],
        ImmKind::AtomicRmwOp => (0..ATOMIC_RMW_OPS.len() as u128).collect(),
    }
}

/// Interesting integers of a `w`-bit quantity.
pub fn integers(w: u32) -> Vec<u128> {
    let mask = truncate(u128::MAX, w);
    let min_signed = if w >= 128 {
        1u128 << 127
    } else {
        1u128 << (w - 1)
    };
    let mut v = vec![
        3,
        1,
        0,
        2,
        5,
        7,
        8,
        mask,
        12,
        16,
        31,
        32,
        63,
        64,
        100,
        127,
        128,
        255,
        256,
        4095,
        4096,
        0x7fff,
        0x8000,
        0xffff,
        0x1_0000,
        mask - 1,
        min_signed,
        min_signed - 1,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        0xfff0,
        0xff00,
        0x00ff_00ff,
        0x5555_5555_5555_5555,
        0x1234_5678,
    ];
    // Negative small values and powers of two.
    for k in [2u128, 3, 4, 8, 16, 128, 4096] {
        v.push(mask.wrapping_sub(k - 1));
    }
    for s in 0..w.min(64) {
        v.push(1u128 << s);
    }
    v.into_iter().map(|x| x & mask).collect()
}

fn floats16() -> Vec<u128> {
    vec![
        0x3c00, 0x0000, 0x8000, 0xbc00, 0x3800, 0x4000, 0x7c00, 0xfc00, 0x7bff,
    ]
}

fn floats32() -> Vec<u128> {
    [
        1.5f32,
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        2.0,
        3.0,
        f32::MAX,
        f32::MIN_POSITIVE,
    ]
    .iter()
    .map(|f| u128::from(f.to_bits()))
    .chain([0x7f80_0000, 0xff80_0000, 0x0000_0001])
    .collect()
}

fn floats64() -> Vec<u128> {
    [
        1.5f64,
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        2.0,
        3.0,
        f64::MAX,
        f64::MIN_POSITIVE,
    ]
    .iter()
    .map(|f| u128::from(f.to_bits()))
    .chain([0x7ff0_0000_0000_0000, 0xfff0_0000_0000_0000, 1])
    .collect()
}

/// Builds a 16-byte little-endian value from byte lanes.
pub fn bytes(b: [u8; 16]) -> u128 {
    u128::from_le_bytes(b)
}

/// A shuffle mask from 16 byte indices.
fn mask_from(f: impl Fn(usize) -> usize) -> u128 {
    let mut b = [0u8; 16];
    for (i, x) in b.iter_mut().enumerate() {
        *x = f(i) as u8;
    }
    bytes(b)
}

/// A shuffle mask selecting `lane_bytes`-byte lanes by index.
fn lane_mask(lane_bytes: usize, lanes: &[usize]) -> u128 {
    mask_from(|i| lanes[i / lane_bytes] * lane_bytes + i % lane_bytes)
}

/// Interesting 128-bit constants and shuffle masks.
pub fn vectors() -> Vec<u128> {
    let mut v = vec![
        // Identity, then other lane permutations of each width.
        mask_from(|i| i),
        0,
        u128::MAX,
        mask_from(|i| 16 + i),
        mask_from(|i| 15 - i),
    ];
    // Splats of each lane of each width.
    for lb in [1usize, 2, 4, 8] {
        for lane in [0usize, 1] {
            v.push(lane_mask(lb, &vec![lane; 16 / lb]));
        }
    }
    // Interleaves (unpck lo/hi) at each width.
    for lb in [1usize, 2, 4, 8] {
        let n = 16 / lb;
        let lo: Vec<usize> = (0..n)
            .map(|i| if i % 2 == 0 { i / 2 } else { n + i / 2 })
            .collect();
        let hi: Vec<usize> = lo.iter().map(|x| x + n / 2).collect();
        v.push(lane_mask(lb, &lo));
        v.push(lane_mask(lb, &hi));
    }
    // 32-bit lane shuffles within one operand (pshufd) and across two
    // (shufps), and 16-bit shuffles of one half (pshuflw/pshufhw).
    v.push(lane_mask(4, &[1, 0, 3, 2]));
    v.push(lane_mask(4, &[3, 2, 1, 0]));
    v.push(lane_mask(4, &[5, 4, 7, 6]));
    v.push(lane_mask(4, &[0, 1, 4, 5]));
    v.push(lane_mask(4, &[2, 3, 6, 7]));
    v.push(lane_mask(4, &[4, 5, 0, 1]));
    v.push(lane_mask(2, &[1, 0, 3, 2, 4, 5, 6, 7]));
    v.push(lane_mask(2, &[0, 1, 2, 3, 5, 4, 7, 6]));
    v.push(lane_mask(2, &[9, 8, 11, 10, 12, 13, 14, 15]));
    v.push(lane_mask(2, &[8, 9, 10, 11, 13, 12, 15, 14]));
    // Blends (lane i from either operand, same position).
    v.push(lane_mask(2, &[0, 9, 2, 11, 4, 13, 6, 15]));
    v.push(lane_mask(4, &[0, 5, 2, 7]));
    v.push(lane_mask(8, &[0, 3]));
    v.push(lane_mask(8, &[2, 1]));
    v.push(lane_mask(
        1,
        &[0, 17, 2, 19, 4, 21, 6, 23, 8, 25, 10, 27, 12, 29, 14, 31],
    ));
    // Byte rotations across the pair (palignr), shifts with zeroing.
    for k in [1usize, 4, 8, 12] {
        v.push(mask_from(|i| i + k));
    }
    v.push(mask_from(|i| if i < 8 { i } else { 16 }));
    v.push(mask_from(|i| if i < 8 { i + 8 } else { 0x80 }));
    // Byte reversal within lanes.
    for lb in [2usize, 4, 8] {
        v.push(mask_from(|i| (i / lb) * lb + (lb - 1 - i % lb)));
    }
    // Narrowing-style picks of even/odd lanes.
    for lb in [1usize, 2, 4] {
        let n = 16 / lb;
        let even: Vec<usize> = (0..n).map(|i| 2 * i).collect();
        let odd: Vec<usize> = (0..n).map(|i| 2 * i + 1).collect();
        v.push(lane_mask(lb, &even));
        v.push(lane_mask(lb, &odd));
    }
    // Constants: per-width splats of interesting lane values.
    for (lb, vals) in [
        (1usize, &[1u128, 0x80, 0x7f, 0x0f][..]),
        (2, &[1, 0x8000, 0x7fff, 0x00ff][..]),
        (4, &[1, 0x8000_0000, 0x7fff_ffff, 0x3f80_0000][..]),
        (8, &[1, 0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff][..]),
    ] {
        for val in vals {
            let mut x = 0u128;
            for i in 0..16 / lb {
                x |= val << (i * lb * 8);
            }
            v.push(x);
        }
    }
    v.push(1);
    v.push(0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_respect_predicates() {
        let mut imm = Imm::new(ImmKind::Imm64);
        imm.preds.push(Pred::PowerOfTwo);
        imm.preds.push(Pred::UnsignedRange { min: 4, max: 1000 });
        let c = candidates(&imm, 32);
        assert!(!c.is_empty());
        assert!(
            c.iter()
                .all(|v| v.is_power_of_two() && (4..=1000).contains(v))
        );
    }

    #[test]
    fn exact_values_come_first_and_are_truncated() {
        let mut imm = Imm::new(ImmKind::Imm64);
        imm.preds.push(Pred::Eq(-1));
        assert_eq!(candidates(&imm, 8), vec![0xff]);
        assert_eq!(candidates(&imm, 64), vec![u128::from(u64::MAX)]);
    }

    #[test]
    fn fields_are_forced() {
        let mut imm = Imm::new(ImmKind::V128);
        for (i, b) in [3u128, 7, 0x13].iter().enumerate() {
            imm.preds.push(Pred::Field {
                lo: (i * 8) as u8,
                width: 8,
                value: *b,
            });
        }
        let c = candidates(&imm, 128);
        assert!(!c.is_empty());
        assert!(c.iter().all(|v| v & 0xff_ffff == 0x13_0703));
    }

    #[test]
    fn hints_lead() {
        let mut imm = Imm::new(ImmKind::V128);
        imm.hints.push(42);
        assert_eq!(candidates(&imm, 128)[0], 42);
        assert!(candidates(&imm, 128).len() > 20);
    }

    #[test]
    fn shuffle_mask_dictionary_has_the_classic_classes() {
        let v = vectors();
        let has = |b: [u8; 16]| v.contains(&bytes(b));
        assert!(has([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]));
        // punpcklbw and a 32-bit splat of lane 1.
        assert!(has([
            0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
        ]));
        assert!(has([4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7]));
        // palignr by 4.
        assert!(has([
            4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
        ]));
    }
}
