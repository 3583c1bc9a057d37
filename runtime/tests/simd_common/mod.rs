//! Shared helpers of the SIMD tests: a seeded generator of interesting
//! vectors, typed lane splitting written independently of the code under
//! test (plain byte slicing), and shorthands to decode and evaluate ops.
#![allow(dead_code)]

use shoal_runtime::Value;
use shoal_runtime::simd::{self, SimdOp};
use wasmparser::Operator;

/// Decodes an operator that must be a non-memory SIMD instruction.
pub fn op(o: Operator<'static>) -> SimdOp {
    SimdOp::from_operator(&o).unwrap_or_else(|| panic!("{o:?} not decoded"))
}

/// Evaluates a `v128 -> v128` instruction.
pub fn eval1(op: &SimdOp, a: u128) -> u128 {
    v128(simd::eval(op, &[Value::V128(a)]))
}

/// Evaluates a `v128 v128 -> v128` instruction.
pub fn eval2(op: &SimdOp, a: u128, b: u128) -> u128 {
    v128(simd::eval(op, &[Value::V128(a), Value::V128(b)]))
}

/// Unwraps a `v128` result.
pub fn v128(v: Value) -> u128 {
    match v {
        Value::V128(x) => x,
        other => panic!("expected a v128, got {other:?}"),
    }
}

/// Unwraps an `i32` result.
pub fn i32_of(v: Value) -> i32 {
    match v {
        Value::I32(x) => x,
        other => panic!("expected an i32, got {other:?}"),
    }
}

/// A lane type of the tests, split and joined by byte slicing.
pub trait Lane: Copy + std::fmt::Debug + PartialEq {
    /// Bytes per lane.
    const BYTES: usize;
    /// From the low bytes of `x`.
    fn from_u64(x: u64) -> Self;
    /// Zero-extended raw bits.
    fn to_u64(self) -> u64;

    /// Splits a vector into lanes, lane 0 first.
    fn split(v: u128) -> Vec<Self> {
        v.to_le_bytes()
            .chunks(Self::BYTES)
            .map(|c| {
                let mut b = [0u8; 8];
                b[..c.len()].copy_from_slice(c);
                Self::from_u64(u64::from_le_bytes(b))
            })
            .collect()
    }

    /// Joins lanes into a vector.
    fn join(lanes: &[Self]) -> u128 {
        assert_eq!(lanes.len() * Self::BYTES, 16);
        let mut bytes = Vec::with_capacity(16);
        for l in lanes {
            bytes.extend_from_slice(&l.to_u64().to_le_bytes()[..Self::BYTES]);
        }
        u128::from_le_bytes(bytes.try_into().unwrap())
    }
}

macro_rules! lane {
    ($t:ty, $u:ty) => {
        impl Lane for $t {
            const BYTES: usize = std::mem::size_of::<$t>();
            fn from_u64(x: u64) -> Self {
                x as $u as $t
            }
            fn to_u64(self) -> u64 {
                self as $u as u64
            }
        }
    };
}
lane!(i8, u8);
lane!(u8, u8);
lane!(i16, u16);
lane!(u16, u16);
lane!(i32, u32);
lane!(u32, u32);
lane!(i64, u64);
lane!(u64, u64);

impl Lane for f32 {
    const BYTES: usize = 4;
    fn from_u64(x: u64) -> Self {
        f32::from_bits(x as u32)
    }
    fn to_u64(self) -> u64 {
        u64::from(self.to_bits())
    }
}

impl Lane for f64 {
    const BYTES: usize = 8;
    fn from_u64(x: u64) -> Self {
        f64::from_bits(x)
    }
    fn to_u64(self) -> u64 {
        self.to_bits()
    }
}

/// Lane-wise map with a typed reference function.
pub fn map_ref<T: Lane, R: Lane>(a: u128, f: impl Fn(T) -> R) -> u128 {
    R::join(&T::split(a).into_iter().map(f).collect::<Vec<_>>())
}

/// Lane-wise zip with a typed reference function.
pub fn zip_ref<T: Lane, R: Lane>(a: u128, b: u128, f: impl Fn(T, T) -> R) -> u128 {
    let out: Vec<R> = T::split(a)
        .into_iter()
        .zip(T::split(b))
        .map(|(x, y)| f(x, y))
        .collect();
    R::join(&out)
}

/// All-ones (`-1`) or zero, the comparison result lane.
pub fn mask<T: Lane>(c: bool) -> T {
    T::from_u64(if c { u64::MAX } else { 0 })
}

/// Interesting `f32` bit patterns.
pub const F32_EDGES: &[u32] = &[
    0x0000_0000,
    0x8000_0000,
    0x3f80_0000,
    0xbf80_0000,
    0x3f00_0000,
    0xbf00_0000,
    0x3fc0_0000,
    0x4020_0000,
    0xc020_0000,
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0000,
    0xffc0_0000,
    0x7fa0_0001,
    0xffa0_0001,
    0x7fc0_1234,
    0x0000_0001,
    0x8000_0001,
    0x007f_ffff,
    0x0080_0000,
    0x7f7f_ffff,
    0xff7f_ffff,
    0x4b00_0000,
    0x4b00_0001,
    0x4eff_ffff,
    0x4f00_0000,
    0xcf00_0000,
    0xcf00_0001,
    0x4f80_0000,
    0x4f7f_ffff,
    0x3eff_ffff,
    0xbeff_ffff,
];

/// Interesting `f64` bit patterns.
pub const F64_EDGES: &[u64] = &[
    0x0000_0000_0000_0000,
    0x8000_0000_0000_0000,
    0x3ff0_0000_0000_0000,
    0xbff0_0000_0000_0000,
    0x3fe0_0000_0000_0000,
    0xbfe0_0000_0000_0000,
    0x4004_0000_0000_0000,
    0xc004_0000_0000_0000,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7ff8_0000_0000_0000,
    0xfff8_0000_0000_0000,
    0x7ff4_0000_0000_0001,
    0xfff4_0000_0000_0001,
    0x7ff8_0000_dead_beef,
    0x0000_0000_0000_0001,
    0x8000_0000_0000_0001,
    0x000f_ffff_ffff_ffff,
    0x0010_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0xffef_ffff_ffff_ffff,
    0x4330_0000_0000_0000,
    0x4330_0000_0000_0001,
    0x41df_ffff_ffc0_0000,
    0x41e0_0000_0000_0000,
    0xc1e0_0000_0000_0000,
    0xc1e0_0000_0020_0000,
    0x41ef_ffff_ffe0_0000,
    0x41f0_0000_0000_0000,
    0x3fdf_ffff_ffff_ffff,
    0x47ef_ffff_e000_0000,
    0x47ef_ffff_f000_0000,
    0x36a0_0000_0000_0000,
    0x36a0_0000_0000_0001,
];

/// A seeded splitmix64 generator of interesting test vectors.
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A random index below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// An integer lane of `bytes` bytes: an edge value (0, 1, 2, all ones,
    /// MIN, MAX, MIN + 1, MAX - 1, small negatives) or random bits.
    pub fn int_lane(&mut self, bytes: usize) -> u64 {
        let bits = 8 * bytes as u32;
        let top = 1u64 << (bits - 1);
        let edges = [
            0,
            1,
            2,
            u64::MAX,
            u64::MAX - 1,
            top,
            top - 1,
            top + 1,
            top - 2,
            top >> 1,
            (top >> 1).wrapping_neg(),
        ];
        if self.below(2) == 0 {
            edges[self.below(edges.len())]
        } else {
            self.next()
        }
    }

    /// A vector of integer lanes of type `T`.
    pub fn int_vec<T: Lane>(&mut self) -> u128 {
        let lanes: Vec<T> = (0..16 / T::BYTES)
            .map(|_| T::from_u64(self.int_lane(T::BYTES)))
            .collect();
        T::join(&lanes)
    }

    /// A vector of `f32` lanes: mostly edge values, some random bits.
    pub fn f32_vec(&mut self) -> u128 {
        let lanes: Vec<f32> = (0..4)
            .map(|_| {
                let b = match self.below(4) {
                    0 => self.next() as u32,
                    _ => F32_EDGES[self.below(F32_EDGES.len())],
                };
                f32::from_bits(b)
            })
            .collect();
        f32::join(&lanes)
    }

    /// A vector of `f64` lanes: mostly edge values, some random bits.
    pub fn f64_vec(&mut self) -> u128 {
        let lanes: Vec<f64> = (0..2)
            .map(|_| {
                let b = match self.below(4) {
                    0 => self.next(),
                    _ => F64_EDGES[self.below(F64_EDGES.len())],
                };
                f64::from_bits(b)
            })
            .collect();
        f64::join(&lanes)
    }
}
