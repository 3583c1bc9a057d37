//! Dictionaries of interesting values, per type.
//!
//! Integers (any width up to 128 bits): 0, ±1, the extremes and their
//! neighbours, powers of two and their neighbours, shift amounts at and
//! beyond the width, and bit patterns. Floats: ±0, ±1, ±∞, NaNs with
//! payloads (quiet and signalling, both signs), subnormals, the extremes,
//! rounding ties and the boundaries of float-to-integer conversions.
//! Vectors: splats and lane mixtures of the above. Shuffle masks: one
//! family per shape that Cranelift's x64 lowering special-cases (see
//! [`ShuffleClass`]). The `pick_*` functions draw from the dictionaries most
//! of the time and return raw random bits otherwise.

use std::sync::LazyLock;

use shoal_runtime::{ValType, Value};

use crate::rng::Rng;

/// Interesting values of an integer of `bits` bits (8..=128), as the low
/// `bits` bits of each `u128` (two's complement).
pub fn int_values(bits: u32) -> &'static [u128] {
    static TABLES: LazyLock<[Vec<u128>; 5]> = LazyLock::new(|| {
        [
            build_ints(8),
            build_ints(16),
            build_ints(32),
            build_ints(64),
            build_ints(128),
        ]
    });
    let i = match bits {
        0..=8 => 0,
        9..=16 => 1,
        17..=32 => 2,
        33..=64 => 3,
        _ => 4,
    };
    &TABLES[i]
}

fn mask(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

fn build_ints(bits: u32) -> Vec<u128> {
    let m = mask(bits);
    let min = 1u128 << (bits - 1);
    let max = min - 1;
    let mut v = vec![0, 1, m, 2, m - 1, min, max, min + 1, max - 1];
    for k in 1..bits {
        let p = 1u128 << k;
        v.extend([p, p - 1, p + 1, m & p.wrapping_neg()]);
    }
    // Shift amounts at and beyond the width, and masked-shift edges.
    for s in [bits - 1, bits, bits + 1, 2 * bits - 1, 2 * bits, 255, 256] {
        v.push(u128::from(s));
    }
    // Bit patterns.
    for byte in [0x55u8, 0xaa, 0x0f, 0xf0, 0x80, 0x7f, 0x01, 0xfe] {
        v.push(u128::from_le_bytes([byte; 16]));
    }
    v.push(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
    let mut out: Vec<u128> = v.into_iter().map(|x| x & m).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Interesting `f32` bit patterns.
pub fn f32_bits() -> &'static [u32] {
    static T: LazyLock<Vec<u32>> = LazyLock::new(build_f32);
    &T
}

/// Interesting `f64` bit patterns.
pub fn f64_bits() -> &'static [u64] {
    static T: LazyLock<Vec<u64>> = LazyLock::new(build_f64);
    &T
}

/// Finite values both float dictionaries share (exactly representable or
/// rounded to nearest).
const COMMON_FLOATS: &[f64] = &[
    0.0,
    1.0,
    0.5,
    1.5,
    2.5,
    3.5,
    0.49999999999999994,
    0.999_999_9,
    2.0,
    10.0,
    100.0,
    65536.0,
    4294967296.0,           // 2^32
    2147483648.0,           // 2^31
    2147483647.0,           // i32::MAX
    2147483520.0,           // largest f32 below 2^31
    4294967040.0,           // largest f32 below 2^32
    9223372036854775808.0,  // 2^63
    18446744073709551616.0, // 2^64
    9007199254740992.0,     // 2^53
    9007199254740993.0,     // 2^53 + 1 (rounds in f64)
    8388608.0,              // 2^23
    16777216.0,             // 2^24
    16777217.0,             // 2^24 + 1 (rounds in f32)
    4503599627370496.0,     // 2^52
    0.1,
    std::f64::consts::PI,
    1e-10,
    1e30,
];

fn build_f32() -> Vec<u32> {
    let mut v: Vec<u32> = vec![
        0x7f80_0000, // +inf
        0x7fc0_0000, // canonical NaN
        0x7fc0_0001, // quiet NaN with payload
        0x7fa0_0000, // signalling NaN
        0x7f80_0001, // smallest signalling payload
        0x7fff_ffff, // all-ones payload
        0x0000_0001, // min subnormal
        0x007f_ffff, // max subnormal
        0x0080_0000, // min normal
        0x7f7f_ffff, // max finite
        0x3f7f_ffff, // largest below 1
        0x3f80_0001, // smallest above 1
    ];
    for &f in COMMON_FLOATS {
        v.push((f as f32).to_bits());
    }
    let negated: Vec<u32> = v.iter().map(|b| b ^ 0x8000_0000).collect();
    v.extend(negated);
    v.sort_unstable();
    v.dedup();
    v
}

fn build_f64() -> Vec<u64> {
    let mut v: Vec<u64> = vec![
        0x7ff0_0000_0000_0000, // +inf
        0x7ff8_0000_0000_0000, // canonical NaN
        0x7ff8_0000_0000_0001, // quiet NaN with payload
        0x7ff4_0000_0000_0000, // signalling NaN
        0x7ff0_0000_0000_0001, // smallest signalling payload
        0x7fff_ffff_ffff_ffff, // all-ones payload
        0x0000_0000_0000_0001, // min subnormal
        0x000f_ffff_ffff_ffff, // max subnormal
        0x0010_0000_0000_0000, // min normal
        0x7fef_ffff_ffff_ffff, // max finite
        0x3fef_ffff_ffff_ffff, // largest below 1
        0x3ff0_0000_0000_0001, // smallest above 1
        0x41df_ffff_ffc0_0000, // i32::MAX as f64 (exact)
        0x41df_ffff_ffff_ffff, // just below 2^31
        0x43df_ffff_ffff_ffff, // just below 2^63
        0x43ef_ffff_ffff_ffff, // just below 2^64
        0x4330_0000_0000_0000, // 2^52: nearest() is the identity from here
        0x3810_0000_0000_0000, // smallest f64 that demotes to a normal f32
        0x36a0_0000_0000_0000, // demotes to the smallest f32 subnormal
        0x47ef_ffff_e000_0000, // f32::MAX as f64
        0x47ef_ffff_f000_0000, // rounds to +inf when demoted
    ];
    for &f in COMMON_FLOATS {
        v.push(f.to_bits());
    }
    let negated: Vec<u64> = v.iter().map(|b| b ^ (1 << 63)).collect();
    v.extend(negated);
    v.sort_unstable();
    v.dedup();
    v
}

/// An integer of `bits` bits: a dictionary value 7/8 of the time.
pub fn pick_int(r: &mut Rng<'_>, bits: u32) -> u128 {
    if r.chance(1, 8) {
        return r.u128() & mask(bits);
    }
    let d = int_values(bits);
    d[r.index(d.len())]
}

/// An `i32` (dictionary-biased).
pub fn pick_i32(r: &mut Rng<'_>) -> i32 {
    pick_int(r, 32) as u32 as i32
}

/// An `i64` (dictionary-biased).
pub fn pick_i64(r: &mut Rng<'_>) -> i64 {
    pick_int(r, 64) as u64 as i64
}

/// `f32` bits (dictionary-biased).
pub fn pick_f32(r: &mut Rng<'_>) -> u32 {
    if r.chance(1, 8) {
        return r.u32();
    }
    let d = f32_bits();
    d[r.index(d.len())]
}

/// `f64` bits (dictionary-biased).
pub fn pick_f64(r: &mut Rng<'_>) -> u64 {
    if r.chance(1, 8) {
        return r.u64();
    }
    let d = f64_bits();
    d[r.index(d.len())]
}

/// Interesting `f16` bit patterns: zeros, ones, infinities, quiet and
/// signalling NaNs, the smallest subnormal and normal, the largest finite
/// value, and integers around the edge of exact representation.
const F16_BITS: [u16; 16] = [
    0x0000, 0x8000, 0x3c00, 0xbc00, 0x7c00, 0xfc00, 0x7e00, 0xfe00, 0x7d00, 0x0001, 0x03ff, 0x0400,
    0x7bff, 0xfbff, 0x6800, 0x3800,
];

/// `f16` bits (dictionary-biased).
pub fn pick_f16(r: &mut Rng<'_>) -> u16 {
    if r.chance(1, 4) {
        return r.u32() as u16;
    }
    F16_BITS[r.index(F16_BITS.len())]
}

/// Interesting `f128` bit patterns (as for [`pick_f16`]).
const F128_BITS: [u128; 12] = [
    0,
    1 << 127,
    0x3fff << 112,
    0xbfff << 112,
    0x7fff << 112,
    0xffff << 112,
    0x7fff_8000 << 96,
    0x7fff_4000 << 96,
    1,
    1 << 112,
    (0x7fff << 112) - 1,
    0x4034 << 112,
];

/// `f128` bits (dictionary-biased).
pub fn pick_f128(r: &mut Rng<'_>) -> u128 {
    if r.chance(1, 4) {
        return (u128::from(r.u64()) << 64) | u128::from(r.u64());
    }
    F128_BITS[r.index(F128_BITS.len())]
}

/// Lane shapes of a 128-bit vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneShape {
    /// 16 × i8.
    I8,
    /// 8 × i16.
    I16,
    /// 4 × i32.
    I32,
    /// 2 × i64.
    I64,
    /// 4 × f32.
    F32,
    /// 2 × f64.
    F64,
}

impl LaneShape {
    /// Every shape.
    pub const ALL: [LaneShape; 6] = [
        LaneShape::I8,
        LaneShape::I16,
        LaneShape::I32,
        LaneShape::I64,
        LaneShape::F32,
        LaneShape::F64,
    ];

    /// Bits per lane.
    pub fn lane_bits(self) -> u32 {
        match self {
            LaneShape::I8 => 8,
            LaneShape::I16 => 16,
            LaneShape::I32 | LaneShape::F32 => 32,
            LaneShape::I64 | LaneShape::F64 => 64,
        }
    }

    /// Number of lanes.
    pub fn lanes(self) -> u32 {
        128 / self.lane_bits()
    }
}

fn pick_lane(r: &mut Rng<'_>, shape: LaneShape) -> u128 {
    match shape {
        LaneShape::F32 => u128::from(pick_f32(r)),
        LaneShape::F64 => u128::from(pick_f64(r)),
        s => pick_int(r, s.lane_bits()),
    }
}

/// A `v128`: a splat, a per-lane mixture of dictionary values, or a fixed
/// pattern (zero, all ones, byte iota, sign bits), occasionally random.
pub fn pick_v128(r: &mut Rng<'_>) -> u128 {
    const PATTERNS: [u128; 6] = [
        0,
        u128::MAX,
        0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100,
        0x8080_8080_8080_8080_8080_8080_8080_8080,
        0x7f7f_7f7f_7f7f_7f7f_7f7f_7f7f_7f7f_7f7f,
        0xffff_ffff_0000_0000_ffff_ffff_0000_0000,
    ];
    match r.below(8) {
        0 => r.pick_or(&PATTERNS, 0),
        1 => r.u128(),
        2..=4 => {
            let shape = r.pick_or(&LaneShape::ALL, LaneShape::I32);
            splat(shape, pick_lane(r, shape))
        }
        _ => {
            let shape = r.pick_or(&LaneShape::ALL, LaneShape::I32);
            let bits = shape.lane_bits();
            (0..shape.lanes()).fold(0u128, |acc, i| acc | (pick_lane(r, shape) << (i * bits)))
        }
    }
}

/// Repeats a lane value across a vector.
pub fn splat(shape: LaneShape, lane: u128) -> u128 {
    let bits = shape.lane_bits();
    let lane = lane & mask(bits);
    (0..shape.lanes()).fold(0u128, |acc, i| acc | (lane << (i * bits)))
}

/// A value of type `ty` for an invocation argument or a constant.
/// References are null or small numbers (externref) / null (funcref: a
/// function address depends on the store, so generators never invent one).
pub fn pick_value(r: &mut Rng<'_>, ty: ValType) -> Value {
    match ty {
        ValType::I32 => Value::I32(pick_i32(r)),
        ValType::I64 => Value::I64(pick_i64(r)),
        ValType::F32 => Value::F32(pick_f32(r)),
        ValType::F64 => Value::F64(pick_f64(r)),
        ValType::V128 => Value::V128(pick_v128(r)),
        ValType::FuncRef => Value::FuncRef(None),
        ValType::ExternRef => {
            if r.chance(1, 2) {
                Value::ExternRef(None)
            } else {
                Value::ExternRef(Some(r.range_u32(0, 3)))
            }
        }
    }
}

/// The families of `i8x16.shuffle` masks that Cranelift's x64 backend
/// lowers specially (rules in `isa/x64/lower.isle`), plus random masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShuffleClass {
    /// Lanes 0..16 (all from the first operand) or 16..32 (second).
    Identity,
    /// Every byte from the same lane of 8/16/32/64 bits (`splat`-like;
    /// the all-zero mask is a `pshufb` with zero).
    Broadcast,
    /// Each 16-bit lane from the same position of either operand (`pblendw`).
    Blend16,
    /// Consecutive bytes `n..n+16` of the concatenation (`palignr`).
    Alignr,
    /// Four 16-bit lanes permuted in one half, the other half kept
    /// (`pshuflw` / `pshufhw`, from either operand).
    Pshufw,
    /// 32-bit lanes permuted within one operand (`pshufd`).
    Pshufd,
    /// Interleave low or high halves at 8/16/32/64 bits (`punpck*`),
    /// either operand order.
    Unpack,
    /// Two 32-bit lanes from one operand then two from the other (`shufps`).
    Shufps,
    /// 64-bit halves swapped or duplicated.
    Halves,
    /// Byte reversal within 16/32/64-bit lanes (byte swaps).
    ByteSwap,
    /// Uniformly random lane indices.
    Random,
}

impl ShuffleClass {
    /// Every class.
    pub const ALL: [ShuffleClass; 11] = [
        ShuffleClass::Identity,
        ShuffleClass::Broadcast,
        ShuffleClass::Blend16,
        ShuffleClass::Alignr,
        ShuffleClass::Pshufw,
        ShuffleClass::Pshufd,
        ShuffleClass::Unpack,
        ShuffleClass::Shufps,
        ShuffleClass::Halves,
        ShuffleClass::ByteSwap,
        ShuffleClass::Random,
    ];
}

/// Builds byte indices from `n` lanes of `w` bytes given lane selectors.
fn from_lanes(w: u8, lanes: &[u8]) -> [u8; 16] {
    let mut m = [0u8; 16];
    for (i, &l) in lanes.iter().enumerate() {
        for b in 0..w {
            m[i * w as usize + b as usize] = l * w + b;
        }
    }
    m
}

/// A shuffle mask (each byte < 32) of the given class.
pub fn shuffle_mask(r: &mut Rng<'_>, class: ShuffleClass) -> [u8; 16] {
    let side = |r: &mut Rng<'_>, n: u8| if r.chance(1, 2) { 0 } else { n };
    match class {
        ShuffleClass::Identity => {
            let base = side(r, 16);
            std::array::from_fn(|i| base + i as u8)
        }
        ShuffleClass::Broadcast => {
            let w = r.pick_or(&[1u8, 2, 4, 8], 1);
            let lane = r.below(u64::from(32 / w)) as u8;
            from_lanes(w, &vec![lane; (16 / w) as usize])
        }
        ShuffleClass::Blend16 => {
            let lanes: Vec<u8> = (0..8).map(|i| i + side(r, 8)).collect();
            from_lanes(2, &lanes)
        }
        ShuffleClass::Alignr => {
            let n = r.below(17) as u8;
            std::array::from_fn(|i| n + i as u8)
        }
        ShuffleClass::Pshufw => {
            let base = side(r, 8);
            let high = r.chance(1, 2);
            let mut lanes: Vec<u8> = (0..8).map(|i| base + i).collect();
            let off = if high { 4 } else { 0 };
            for l in lanes.iter_mut().skip(off).take(4) {
                *l = base + off as u8 + r.below(4) as u8;
            }
            from_lanes(2, &lanes)
        }
        ShuffleClass::Pshufd => {
            let base = side(r, 4);
            let lanes: Vec<u8> = (0..4).map(|_| base + r.below(4) as u8).collect();
            from_lanes(4, &lanes)
        }
        ShuffleClass::Unpack => {
            let w = r.pick_or(&[1u8, 2, 4, 8], 1);
            let n = 16 / w;
            let half = if r.chance(1, 2) { n / 2 } else { 0 };
            let (a, b) = if r.chance(1, 2) { (0, n) } else { (n, 0) };
            let lanes: Vec<u8> = (0..n)
                .map(|i| half + i / 2 + if i % 2 == 0 { a } else { b })
                .collect();
            from_lanes(w, &lanes)
        }
        ShuffleClass::Shufps => {
            let (first, second) = if r.chance(1, 2) { (0, 4) } else { (4, 0) };
            let lanes: Vec<u8> = (0..4)
                .map(|i| if i < 2 { first } else { second } + r.below(4) as u8)
                .collect();
            from_lanes(4, &lanes)
        }
        ShuffleClass::Halves => {
            let a = r.below(4) as u8;
            let b = r.below(4) as u8;
            from_lanes(8, &[a, b])
        }
        ShuffleClass::ByteSwap => {
            let w = r.pick_or(&[2u8, 4, 8], 4);
            let base = side(r, 16);
            std::array::from_fn(|i| {
                let i = i as u8;
                base + (i / w) * w + (w - 1 - i % w)
            })
        }
        ShuffleClass::Random => std::array::from_fn(|_| r.below(32) as u8),
    }
}

/// A shuffle mask of a random class.
pub fn pick_shuffle_mask(r: &mut Rng<'_>) -> [u8; 16] {
    let class = r.pick_or(&ShuffleClass::ALL, ShuffleClass::Random);
    shuffle_mask(r, class)
}

/// A lane index below `lanes`: the first or last lane half the time.
pub fn pick_lane_index(r: &mut Rng<'_>, lanes: u8) -> u8 {
    match r.below(4) {
        0 => 0,
        1 => lanes - 1,
        _ => r.below(u64::from(lanes)) as u8,
    }
}

/// A static memory offset: mostly small, sometimes alignment or page
/// edges, rarely the largest encodable values (which always trap unless
/// the address is 0). Kept mostly in bounds so invocations run on.
pub fn pick_mem_offset(r: &mut Rng<'_>, memory64: bool) -> u64 {
    const SMALL: [u64; 12] = [0, 0, 0, 1, 2, 3, 4, 7, 8, 15, 16, 31];
    match r.below(64) {
        0..=49 => r.pick_or(&SMALL, 0),
        50..=56 => r.below(1024),
        57..=61 => r.pick_or(&[255, 256, 4095, 4096, 4097], 0),
        62 => r.pick_or(&[65520, 65528, 65532, 65535, 65536, 65537], 0),
        _ if memory64 => r.pick_or(&[u64::from(u32::MAX), 1 << 32, u64::MAX, u64::MAX - 7], 0),
        _ => r.pick_or(&[u64::from(u32::MAX), u64::from(u32::MAX) - 7, 1 << 31], 0),
    }
}

/// A static memory offset below 1 KiB (alignment edges included).
pub fn pick_small_mem_offset(r: &mut Rng<'_>) -> u64 {
    const SMALL: [u64; 14] = [0, 0, 0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 255, 256];
    if r.chance(1, 8) {
        r.below(1024)
    } else {
        r.pick_or(&SMALL, 0)
    }
}

/// Float values every non-saturating truncation to an integer of the
/// given signedness accepts (no trap), as `f64`.
pub fn safe_truncation_inputs(signed: bool) -> &'static [f64] {
    if signed {
        &[
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.999_999,
            -0.999_999,
            127.9,
            -128.9,
            65535.5,
            -32768.5,
            1e9,
            -1e9,
            2147483520.0,
        ]
    } else {
        &[
            0.0,
            -0.0,
            0.5,
            -0.5,
            0.999_999,
            -0.999_999,
            1.5,
            2.5,
            255.9,
            65535.5,
            1e9,
            4294967040.0,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seed_bytes;

    #[test]
    fn int_tables_have_edges() {
        let d = int_values(32);
        for v in [0u128, 1, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff, 32, 33] {
            assert!(d.contains(&v), "{v:#x} missing");
        }
        assert!(int_values(8).iter().all(|&v| v <= 0xff));
        assert!(int_values(128).contains(&u128::MAX));
    }

    #[test]
    fn float_tables_have_specials() {
        let f = f32_bits();
        for b in [
            0u32,
            0x8000_0000,
            0x7f80_0000,
            0xff80_0000,
            0x7fc0_0000,
            1,
            0x3f80_0000,
        ] {
            assert!(f.contains(&b), "{b:#x} missing");
        }
        let d = f64_bits();
        assert!(d.contains(&(-0.0f64).to_bits()));
        assert!(d.contains(&2147483648.0f64.to_bits()));
    }

    #[test]
    fn shuffle_masks_are_in_range_and_classes_hold() {
        let data = seed_bytes(3, 1 << 16);
        let mut r = Rng::new(&data);
        for class in ShuffleClass::ALL {
            for _ in 0..50 {
                let m = shuffle_mask(&mut r, class);
                assert!(m.iter().all(|&b| b < 32), "{class:?} {m:?}");
                match class {
                    ShuffleClass::Alignr => assert!(m.windows(2).all(|w| w[0] + 1 == w[1])),
                    ShuffleClass::Blend16 => {
                        assert!((0..8).all(|i| m[2 * i] % 16 == 2 * i as u8));
                    }
                    ShuffleClass::Pshufd => {
                        let from_a = m.iter().all(|&b| b < 16);
                        let from_b = m.iter().all(|&b| b >= 16);
                        assert!(from_a || from_b);
                        assert!(m.chunks(4).all(|c| c[0] % 4 == 0 && c[3] == c[0] + 3));
                    }
                    _ => {}
                }
            }
        }
        // The punpcklbw constant from lower.isle is reachable.
        let lo_bw: [u8; 16] = [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23];
        let found = (0..2000).any(|_| shuffle_mask(&mut r, ShuffleClass::Unpack) == lo_bw);
        assert!(found);
    }

    #[test]
    fn splat_repeats_lanes() {
        assert_eq!(
            splat(LaneShape::I32, 0x1_0000_0002),
            0x0000_0002_0000_0002_0000_0002_0000_0002
        );
        assert_eq!(splat(LaneShape::I8, 0xff), u128::MAX);
    }
}
