//! Shape-changing instructions against lane-by-lane references: saturating
//! narrowing, extension, extending multiplies and pairwise adds, the dot
//! product, and int/float conversions (rounding checked by exact
//! arithmetic, saturation by the spec's explicit bounds).

mod simd_common;

use simd_common::*;
use wasmparser::Operator as O;

const ROUNDS: usize = 3000;

/// Checks a one-operand op: `f` gets the input lanes, returns the output.
fn check1<T: Lane, R: Lane>(
    o: O<'static>,
    make: impl Fn(&mut Rng) -> u128,
    f: impl Fn(&[T]) -> Vec<R>,
) {
    let op = op(o.clone());
    let mut rng = Rng::new(0xc0_0001);
    for _ in 0..ROUNDS {
        let a = make(&mut rng);
        assert_eq!(eval1(&op, a), R::join(&f(&T::split(a))), "{o:?} a={a:032x}");
    }
}

/// Checks a two-operand integer op.
fn check2<T: Lane, R: Lane>(o: O<'static>, f: impl Fn(&[T], &[T]) -> Vec<R>) {
    let op = op(o.clone());
    let mut rng = Rng::new(0xc0_0002);
    for _ in 0..ROUNDS {
        let (a, b) = (rng.int_vec::<T>(), rng.int_vec::<T>());
        let want = R::join(&f(&T::split(a), &T::split(b)));
        assert_eq!(eval2(&op, a, b), want, "{o:?} a={a:032x} b={b:032x}");
    }
}

#[test]
fn narrowing_saturates_signed_inputs() {
    check2(O::I8x16NarrowI16x8S, |a: &[i16], b| {
        a.iter()
            .chain(b)
            .map(|x| (*x).clamp(-128, 127) as i8)
            .collect()
    });
    check2(O::I8x16NarrowI16x8U, |a: &[i16], b| {
        a.iter()
            .chain(b)
            .map(|x| (*x).clamp(0, 255) as u8)
            .collect()
    });
    check2(O::I16x8NarrowI32x4S, |a: &[i32], b| {
        a.iter()
            .chain(b)
            .map(|x| (*x).clamp(-32768, 32767) as i16)
            .collect()
    });
    check2(O::I16x8NarrowI32x4U, |a: &[i32], b| {
        a.iter()
            .chain(b)
            .map(|x| (*x).clamp(0, 65535) as u16)
            .collect()
    });
}

fn int_vec<T: Lane>(rng: &mut Rng) -> u128 {
    rng.int_vec::<T>()
}

#[test]
fn extension_of_low_and_high_halves() {
    check1(O::I16x8ExtendLowI8x16S, int_vec::<i8>, |a: &[i8]| {
        a[..8].iter().map(|x| i16::from(*x)).collect()
    });
    check1(O::I16x8ExtendHighI8x16S, int_vec::<i8>, |a: &[i8]| {
        a[8..].iter().map(|x| i16::from(*x)).collect()
    });
    check1(O::I16x8ExtendLowI8x16U, int_vec::<u8>, |a: &[u8]| {
        a[..8].iter().map(|x| u16::from(*x)).collect()
    });
    check1(O::I16x8ExtendHighI8x16U, int_vec::<u8>, |a: &[u8]| {
        a[8..].iter().map(|x| u16::from(*x)).collect()
    });
    check1(O::I32x4ExtendLowI16x8S, int_vec::<i16>, |a: &[i16]| {
        a[..4].iter().map(|x| i32::from(*x)).collect()
    });
    check1(O::I32x4ExtendHighI16x8S, int_vec::<i16>, |a: &[i16]| {
        a[4..].iter().map(|x| i32::from(*x)).collect()
    });
    check1(O::I32x4ExtendLowI16x8U, int_vec::<u16>, |a: &[u16]| {
        a[..4].iter().map(|x| u32::from(*x)).collect()
    });
    check1(O::I32x4ExtendHighI16x8U, int_vec::<u16>, |a: &[u16]| {
        a[4..].iter().map(|x| u32::from(*x)).collect()
    });
    check1(O::I64x2ExtendLowI32x4S, int_vec::<i32>, |a: &[i32]| {
        a[..2].iter().map(|x| i64::from(*x)).collect()
    });
    check1(O::I64x2ExtendHighI32x4S, int_vec::<i32>, |a: &[i32]| {
        a[2..].iter().map(|x| i64::from(*x)).collect()
    });
    check1(O::I64x2ExtendLowI32x4U, int_vec::<u32>, |a: &[u32]| {
        a[..2].iter().map(|x| u64::from(*x)).collect()
    });
    check1(O::I64x2ExtendHighI32x4U, int_vec::<u32>, |a: &[u32]| {
        a[2..].iter().map(|x| u64::from(*x)).collect()
    });
}

macro_rules! check_extmul {
    ($o:ident, $t:ty, $w:ty, $range:expr) => {
        check2(O::$o, |a: &[$t], b| {
            a[$range]
                .iter()
                .zip(&b[$range])
                .map(|(x, y)| <$w>::from(*x) * <$w>::from(*y))
                .collect()
        })
    };
}

#[test]
fn extending_multiplies_are_exact() {
    check_extmul!(I16x8ExtMulLowI8x16S, i8, i16, ..8);
    check_extmul!(I16x8ExtMulHighI8x16S, i8, i16, 8..);
    check_extmul!(I16x8ExtMulLowI8x16U, u8, u16, ..8);
    check_extmul!(I16x8ExtMulHighI8x16U, u8, u16, 8..);
    check_extmul!(I32x4ExtMulLowI16x8S, i16, i32, ..4);
    check_extmul!(I32x4ExtMulHighI16x8S, i16, i32, 4..);
    check_extmul!(I32x4ExtMulLowI16x8U, u16, u32, ..4);
    check_extmul!(I32x4ExtMulHighI16x8U, u16, u32, 4..);
    check_extmul!(I64x2ExtMulLowI32x4S, i32, i64, ..2);
    check_extmul!(I64x2ExtMulHighI32x4S, i32, i64, 2..);
    check_extmul!(I64x2ExtMulLowI32x4U, u32, u64, ..2);
    check_extmul!(I64x2ExtMulHighI32x4U, u32, u64, 2..);
}

#[test]
fn pairwise_adds_and_dot_product() {
    check1(O::I16x8ExtAddPairwiseI8x16S, int_vec::<i8>, |a: &[i8]| {
        a.chunks(2)
            .map(|p| i16::from(p[0]) + i16::from(p[1]))
            .collect()
    });
    check1(O::I16x8ExtAddPairwiseI8x16U, int_vec::<u8>, |a: &[u8]| {
        a.chunks(2)
            .map(|p| u16::from(p[0]) + u16::from(p[1]))
            .collect()
    });
    check1(
        O::I32x4ExtAddPairwiseI16x8S,
        int_vec::<i16>,
        |a: &[i16]| {
            a.chunks(2)
                .map(|p| i32::from(p[0]) + i32::from(p[1]))
                .collect()
        },
    );
    check1(
        O::I32x4ExtAddPairwiseI16x8U,
        int_vec::<u16>,
        |a: &[u16]| {
            a.chunks(2)
                .map(|p| u32::from(p[0]) + u32::from(p[1]))
                .collect()
        },
    );
    // Exact sum in i64, then wrapped to 32 bits.
    check2(O::I32x4DotI16x8S, |a: &[i16], b| {
        (0..4)
            .map(|i| {
                let p = |j: usize| i64::from(a[j]) * i64::from(b[j]);
                (p(2 * i) + p(2 * i + 1)) as i32
            })
            .collect()
    });
    let min = i16::join(&[i16::MIN; 8]);
    assert_eq!(
        eval2(&op(O::I32x4DotI16x8S), min, min),
        i32::join(&[i32::MIN; 4])
    );
}

#[test]
fn int_to_float_rounds_to_nearest_even() {
    // i32 -> f64 is exact, so one f64 -> f32 rounding is the reference.
    check1(O::F32x4ConvertI32x4S, int_vec::<i32>, |a: &[i32]| {
        a.iter().map(|x| f64::from(*x) as f32).collect()
    });
    check1(O::F32x4ConvertI32x4U, int_vec::<u32>, |a: &[u32]| {
        a.iter().map(|x| f64::from(*x) as f32).collect()
    });
    check1(O::F64x2ConvertLowI32x4S, int_vec::<i32>, |a: &[i32]| {
        a[..2].iter().map(|x| f64::from(*x)).collect()
    });
    check1(O::F64x2ConvertLowI32x4U, int_vec::<u32>, |a: &[u32]| {
        a[..2].iter().map(|x| f64::from(*x)).collect()
    });
    // Hand values: ties to even at 2^24 + 1 and 2^24 + 3, and the top.
    let u = op(O::F32x4ConvertI32x4U);
    let got = eval1(
        &u,
        u32::join(&[16_777_217, 16_777_219, u32::MAX, 0x8000_0081]),
    );
    assert_eq!(
        got,
        f32::join(&[16_777_216.0, 16_777_220.0, 4_294_967_296.0, 2_147_483_904.0])
    );
    let s = op(O::F32x4ConvertI32x4S);
    let got = eval1(
        &s,
        i32::join(&[i32::MAX, i32::MIN, -16_777_217, 0x7fff_ff40]),
    );
    // 2^31 - 192 lies halfway between 2^31 - 256 (even) and 2^31 - 128.
    assert_eq!(
        got,
        f32::join(&[
            2_147_483_648.0,
            -2_147_483_648.0,
            -16_777_216.0,
            2_147_483_392.0
        ])
    );
}

/// The spec's `trunc_sat`: NaN is 0, else truncate and clamp (in f64, which
/// holds every f32 and both bounds exactly).
fn sat(x: f64, lo: f64, hi: f64) -> i64 {
    if x.is_nan() {
        0
    } else if x <= lo {
        lo as i64
    } else if x >= hi {
        hi as i64
    } else {
        x.trunc() as i64
    }
}

#[test]
fn float_to_int_saturates() {
    let (smin, smax, umax) = (-2_147_483_648.0, 2_147_483_647.0, 4_294_967_295.0);
    let f32s = |rng: &mut Rng| rng.f32_vec();
    check1(O::I32x4TruncSatF32x4S, f32s, |a: &[f32]| {
        a.iter()
            .map(|x| sat(f64::from(*x), smin, smax) as i32)
            .collect()
    });
    check1(O::I32x4TruncSatF32x4U, f32s, |a: &[f32]| {
        a.iter()
            .map(|x| sat(f64::from(*x), 0.0, umax) as u32)
            .collect()
    });
    let f64s = |rng: &mut Rng| rng.f64_vec();
    check1(O::I32x4TruncSatF64x2SZero, f64s, |a: &[f64]| {
        vec![
            sat(a[0], smin, smax) as i32,
            sat(a[1], smin, smax) as i32,
            0,
            0,
        ]
    });
    check1(O::I32x4TruncSatF64x2UZero, f64s, |a: &[f64]| {
        vec![
            sat(a[0], 0.0, umax) as u32,
            sat(a[1], 0.0, umax) as u32,
            0,
            0,
        ]
    });
    let s = op(O::I32x4TruncSatF64x2SZero);
    let got = eval1(&s, f64::join(&[-2_147_483_648.9, 2_147_483_647.9]));
    assert_eq!(got, i32::join(&[i32::MIN, i32::MAX, 0, 0]));
    let u = op(O::I32x4TruncSatF32x4U);
    let got = eval1(
        &u,
        f32::join(&[-0.9, f32::NAN, 4_294_967_040.0, 4_294_967_296.0]),
    );
    assert_eq!(got, u32::join(&[0, 0, 4_294_967_040, u32::MAX]));
}

/// True if `r` is the f32 nearest to `x` (ties to even), with overflow to
/// infinity from `2^128 - 2^103` on.
fn is_nearest_f32(x: f64, r: f32) -> bool {
    let halfway_to_inf = 2f64.powi(128) - 2f64.powi(103);
    if r.is_infinite() {
        return x.abs() >= halfway_to_inf && r.is_sign_negative() == x.is_sign_negative();
    }
    if x.abs() >= halfway_to_inf || r.is_sign_negative() != x.is_sign_negative() {
        return false;
    }
    let err = (x - f64::from(r)).abs();
    [r.next_up(), r.next_down()].iter().all(|n| {
        let other = (x - f64::from(*n)).abs();
        err < other || (err == other && r.to_bits() & 1 == 0)
    })
}

fn is_canonical32(b: u32) -> bool {
    b & 0x7fff_ffff == 0x7fc0_0000
}

fn is_arithmetic32(b: u32) -> bool {
    b & 0x7fc0_0000 == 0x7fc0_0000
}

#[test]
fn demote_rounds_to_nearest_and_keeps_nan_kinds() {
    let demote = op(O::F32x4DemoteF64x2Zero);
    let mut rng = Rng::new(0xc0_0003);
    for _ in 0..ROUNDS {
        let a = rng.f64_vec();
        let got = f32::split(eval1(&demote, a));
        assert_eq!((got[2].to_bits(), got[3].to_bits()), (0, 0));
        for (x, r) in f64::split(a).into_iter().zip(got) {
            if x.is_nan() {
                let canonical_in = x.to_bits() & !(1 << 63) == 0x7ff8_0000_0000_0000;
                assert!(is_arithmetic32(r.to_bits()), "{x:?} -> {:08x}", r.to_bits());
                assert_eq!(is_canonical32(r.to_bits()), canonical_in);
                assert_eq!(r.is_sign_negative(), x.is_sign_negative());
            } else {
                assert!(
                    is_nearest_f32(x, r),
                    "{:016x} -> {:08x}",
                    x.to_bits(),
                    r.to_bits()
                );
            }
        }
    }
    // Halfway cases: 1 + 2^-24 ties down to 1, 1 + 3*2^-24 ties up; the
    // smallest subnormal's half ties to 0; f32::MAX's half-ulp overflows.
    let a = f64::join(&[1.0 + 2f64.powi(-24), 1.0 + 3.0 * 2f64.powi(-24)]);
    assert_eq!(
        eval1(&demote, a),
        f32::join(&[1.0, 1.0 + 2f32.powi(-22), 0.0, 0.0])
    );
    let a = f64::join(&[2f64.powi(-150), -(2f64.powi(128) - 2f64.powi(103))]);
    assert_eq!(
        eval1(&demote, a),
        f32::join(&[0.0, f32::NEG_INFINITY, 0.0, 0.0])
    );
    let a = f64::join(&[
        2f64.powi(-150) * 1.5,
        2f64.powi(128) - 2f64.powi(103) - 2f64.powi(80),
    ]);
    assert_eq!(
        eval1(&demote, a),
        f32::join(&[f32::from_bits(1), f32::MAX, 0.0, 0.0])
    );
}

#[test]
fn promote_is_exact_and_keeps_nan_kinds() {
    let promote = op(O::F64x2PromoteLowF32x4);
    let mut rng = Rng::new(0xc0_0004);
    for _ in 0..ROUNDS {
        let a = rng.f32_vec();
        let got = f64::split(eval1(&promote, a));
        for (x, r) in f32::split(a).into_iter().zip(got) {
            if x.is_nan() {
                let canonical_in = is_canonical32(x.to_bits());
                let bits = r.to_bits() & !(1 << 63);
                assert!(r.is_nan() && bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000);
                assert_eq!(
                    bits == 0x7ff8_0000_0000_0000,
                    canonical_in,
                    "{:08x}",
                    x.to_bits()
                );
                assert_eq!(r.is_sign_negative(), x.is_sign_negative());
            } else {
                // Exactness: every f32 is an f64, and demoting gives it back.
                assert_eq!(r as f32, x);
                assert_eq!(r.to_bits() >> 63, u64::from(x.to_bits() >> 31));
            }
        }
    }
    let got = eval1(&promote, f32::join(&[f32::from_bits(1), -0.0, 0.0, 0.0]));
    assert_eq!(got, f64::join(&[2f64.powi(-149), -0.0]));
}
