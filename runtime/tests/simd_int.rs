//! Integer lane instructions against scalar references: each expected
//! vector is computed lane by lane with Rust's typed integer operations
//! (`saturating_add`, `wrapping_shl`, ...) on lanes split by byte slicing,
//! over seeded vectors rich in edge values (0, ±1, MIN, MAX, ...).

mod simd_common;

use shoal_runtime::Value;
use shoal_runtime::simd;
use simd_common::*;
use wasmparser::Operator as O;

const ROUNDS: usize = 3000;

fn check_unary<T: Lane>(o: O<'static>, f: impl Fn(T) -> T) {
    let op = op(o.clone());
    let mut rng = Rng::new(0x5eed_0001);
    for _ in 0..ROUNDS {
        let a = rng.int_vec::<T>();
        assert_eq!(eval1(&op, a), map_ref(a, &f), "{o:?} a={a:032x}");
    }
}

fn check_binary<T: Lane, R: Lane>(o: O<'static>, f: impl Fn(T, T) -> R) {
    let op = op(o.clone());
    let mut rng = Rng::new(0x5eed_0002);
    for _ in 0..ROUNDS {
        let a = rng.int_vec::<T>();
        let b = if rng.below(8) == 0 {
            a
        } else {
            rng.int_vec::<T>()
        };
        assert_eq!(
            eval2(&op, a, b),
            zip_ref(a, b, &f),
            "{o:?} a={a:032x} b={b:032x}"
        );
    }
}

#[test]
fn i8x16_arithmetic() {
    check_binary(O::I8x16Add, |x: i8, y| x.wrapping_add(y));
    check_binary(O::I8x16Sub, |x: i8, y| x.wrapping_sub(y));
    check_binary(O::I8x16AddSatS, |x: i8, y| x.saturating_add(y));
    check_binary(O::I8x16AddSatU, |x: u8, y| x.saturating_add(y));
    check_binary(O::I8x16SubSatS, |x: i8, y| x.saturating_sub(y));
    check_binary(O::I8x16SubSatU, |x: u8, y| x.saturating_sub(y));
    check_binary(O::I8x16MinS, |x: i8, y| x.min(y));
    check_binary(O::I8x16MinU, |x: u8, y| x.min(y));
    check_binary(O::I8x16MaxS, |x: i8, y| x.max(y));
    check_binary(O::I8x16MaxU, |x: u8, y| x.max(y));
    check_binary(O::I8x16AvgrU, |x: u8, y| {
        ((u16::from(x) + u16::from(y)).div_ceil(2)) as u8
    });
    check_unary(O::I8x16Abs, |x: i8| x.wrapping_abs());
    check_unary(O::I8x16Neg, |x: i8| x.wrapping_neg());
    check_unary(O::I8x16Popcnt, |x: u8| x.count_ones() as u8);
}

#[test]
fn i16x8_arithmetic() {
    check_binary(O::I16x8Add, |x: i16, y| x.wrapping_add(y));
    check_binary(O::I16x8Sub, |x: i16, y| x.wrapping_sub(y));
    check_binary(O::I16x8Mul, |x: i16, y| x.wrapping_mul(y));
    check_binary(O::I16x8AddSatS, |x: i16, y| x.saturating_add(y));
    check_binary(O::I16x8AddSatU, |x: u16, y| x.saturating_add(y));
    check_binary(O::I16x8SubSatS, |x: i16, y| x.saturating_sub(y));
    check_binary(O::I16x8SubSatU, |x: u16, y| x.saturating_sub(y));
    check_binary(O::I16x8MinS, |x: i16, y| x.min(y));
    check_binary(O::I16x8MinU, |x: u16, y| x.min(y));
    check_binary(O::I16x8MaxS, |x: i16, y| x.max(y));
    check_binary(O::I16x8MaxU, |x: u16, y| x.max(y));
    check_binary(O::I16x8AvgrU, |x: u16, y| {
        ((u32::from(x) + u32::from(y)).div_ceil(2)) as u16
    });
    // The spec: sat_s((a * b + 2^14) >> 15).
    check_binary(O::I16x8Q15MulrSatS, |x: i16, y| {
        ((i32::from(x) * i32::from(y) + 0x4000) >> 15).clamp(-32768, 32767) as i16
    });
    check_unary(O::I16x8Abs, |x: i16| x.wrapping_abs());
    check_unary(O::I16x8Neg, |x: i16| x.wrapping_neg());
}

#[test]
fn i32x4_and_i64x2_arithmetic() {
    check_binary(O::I32x4Add, |x: i32, y| x.wrapping_add(y));
    check_binary(O::I32x4Sub, |x: i32, y| x.wrapping_sub(y));
    check_binary(O::I32x4Mul, |x: i32, y| x.wrapping_mul(y));
    check_binary(O::I32x4MinS, |x: i32, y| x.min(y));
    check_binary(O::I32x4MinU, |x: u32, y| x.min(y));
    check_binary(O::I32x4MaxS, |x: i32, y| x.max(y));
    check_binary(O::I32x4MaxU, |x: u32, y| x.max(y));
    check_unary(O::I32x4Abs, |x: i32| x.wrapping_abs());
    check_unary(O::I32x4Neg, |x: i32| x.wrapping_neg());
    check_binary(O::I64x2Add, |x: i64, y| x.wrapping_add(y));
    check_binary(O::I64x2Sub, |x: i64, y| x.wrapping_sub(y));
    check_binary(O::I64x2Mul, |x: i64, y| x.wrapping_mul(y));
    check_unary(O::I64x2Abs, |x: i64| x.wrapping_abs());
    check_unary(O::I64x2Neg, |x: i64| x.wrapping_neg());
}

#[test]
fn saturation_and_wrapping_corners() {
    let q15 = op(O::I16x8Q15MulrSatS);
    let min = i16::join(&[i16::MIN; 8]);
    // Only MIN * MIN saturates, to MAX.
    assert_eq!(eval2(&q15, min, min), i16::join(&[i16::MAX; 8]));
    let v = i16::join(&[i16::MIN, -1, 0x4000, 0x7fff, 1, -0x4000, 0x2000, -0x8000]);
    let w = i16::join(&[i16::MAX, -1, 0x4000, 0x7fff, 1, 0x4000, 3, 1]);
    // -32768*32767 = -0x3fff8000 -> (+0x4000) >> 15 = -32767;
    // (-1)(-1) + 0x4000 >> 15 = 0; 0x4000^2 = 2^28 -> 2^13; 0x7fff^2 -> 0x7ffe;
    // 1*1 -> 0; -0x4000*0x4000 -> -0x2000; 0x2000*3 + 0x4000 = 0xa000 -> 1;
    // -32768 * 1 = -32768 -> (-32768 + 16384) >> 15 = -1.
    let want = i16::join(&[-32767, 0, 0x2000, 0x7ffe, 0, -0x2000, 1, -1]);
    assert_eq!(eval2(&q15, v, w), want);
    let abs = op(O::I8x16Abs);
    assert_eq!(
        eval1(&abs, i8::join(&[i8::MIN; 16])),
        i8::join(&[i8::MIN; 16])
    );
    let avgr = op(O::I8x16AvgrU);
    assert_eq!(eval2(&avgr, u128::MAX, u128::MAX), u128::MAX);
    assert_eq!(eval2(&avgr, u128::MAX, 0), u8::join(&[0x80; 16]));
}

fn check_compare<T: Lane + PartialOrd>(o: O<'static>, p: impl Fn(&T, &T) -> bool) {
    check_binary(o, |x: T, y: T| mask::<T>(p(&x, &y)));
}

#[test]
fn comparisons() {
    macro_rules! all_six {
        ($s:ty, $u:ty, $eq:ident, $ne:ident, $lts:ident, $ltu:ident, $gts:ident, $gtu:ident,
         $les:ident, $leu:ident, $ges:ident, $geu:ident) => {
            check_compare::<$s>(O::$eq, <$s>::eq);
            check_compare::<$s>(O::$ne, <$s>::ne);
            check_compare::<$s>(O::$lts, <$s>::lt);
            check_compare::<$u>(O::$ltu, <$u>::lt);
            check_compare::<$s>(O::$gts, <$s>::gt);
            check_compare::<$u>(O::$gtu, <$u>::gt);
            check_compare::<$s>(O::$les, <$s>::le);
            check_compare::<$u>(O::$leu, <$u>::le);
            check_compare::<$s>(O::$ges, <$s>::ge);
            check_compare::<$u>(O::$geu, <$u>::ge);
        };
    }
    all_six!(
        i8, u8, I8x16Eq, I8x16Ne, I8x16LtS, I8x16LtU, I8x16GtS, I8x16GtU, I8x16LeS, I8x16LeU,
        I8x16GeS, I8x16GeU
    );
    all_six!(
        i16, u16, I16x8Eq, I16x8Ne, I16x8LtS, I16x8LtU, I16x8GtS, I16x8GtU, I16x8LeS, I16x8LeU,
        I16x8GeS, I16x8GeU
    );
    all_six!(
        i32, u32, I32x4Eq, I32x4Ne, I32x4LtS, I32x4LtU, I32x4GtS, I32x4GtU, I32x4LeS, I32x4LeU,
        I32x4GeS, I32x4GeU
    );
    check_compare::<i64>(O::I64x2Eq, i64::eq);
    check_compare::<i64>(O::I64x2Ne, i64::ne);
    check_compare::<i64>(O::I64x2LtS, i64::lt);
    check_compare::<i64>(O::I64x2GtS, i64::gt);
    check_compare::<i64>(O::I64x2LeS, i64::le);
    check_compare::<i64>(O::I64x2GeS, i64::ge);
}

/// Shift counts: in range, at and beyond the lane width, negative.
const COUNTS: &[i32] = &[
    0,
    1,
    3,
    7,
    8,
    9,
    15,
    16,
    17,
    31,
    32,
    33,
    63,
    64,
    65,
    127,
    -1,
    -8,
    i32::MIN,
    i32::MAX,
];

fn check_shift<T: Lane>(o: O<'static>, f: impl Fn(T, u32) -> T) {
    let op = op(o.clone());
    let mut rng = Rng::new(0x5eed_0003);
    for round in 0..ROUNDS {
        let a = rng.int_vec::<T>();
        let c = if round % 2 == 0 {
            COUNTS[rng.below(COUNTS.len())]
        } else {
            rng.next() as i32
        };
        let got = v128(simd::eval(&op, &[Value::V128(a), Value::I32(c)]));
        // `wrapping_sh*` reduce the count modulo the bit width, as the spec does.
        assert_eq!(
            got,
            map_ref(a, |x| f(x, c as u32)),
            "{o:?} a={a:032x} c={c}"
        );
    }
}

#[test]
fn shifts_take_the_count_modulo_the_lane_width() {
    check_shift(O::I8x16Shl, |x: u8, c| x.wrapping_shl(c));
    check_shift(O::I8x16ShrS, |x: i8, c| x.wrapping_shr(c));
    check_shift(O::I8x16ShrU, |x: u8, c| x.wrapping_shr(c));
    check_shift(O::I16x8Shl, |x: u16, c| x.wrapping_shl(c));
    check_shift(O::I16x8ShrS, |x: i16, c| x.wrapping_shr(c));
    check_shift(O::I16x8ShrU, |x: u16, c| x.wrapping_shr(c));
    check_shift(O::I32x4Shl, |x: u32, c| x.wrapping_shl(c));
    check_shift(O::I32x4ShrS, |x: i32, c| x.wrapping_shr(c));
    check_shift(O::I32x4ShrU, |x: u32, c| x.wrapping_shr(c));
    check_shift(O::I64x2Shl, |x: u64, c| x.wrapping_shl(c));
    check_shift(O::I64x2ShrS, |x: i64, c| x.wrapping_shr(c));
    check_shift(O::I64x2ShrU, |x: u64, c| x.wrapping_shr(c));
    // A hand case: i8x16.shr_s by 9 is a shift by 1.
    let shr = op(O::I8x16ShrS);
    let got = simd::eval(&shr, &[Value::V128(i8::join(&[-128; 16])), Value::I32(9)]);
    assert_eq!(v128(got), i8::join(&[-64; 16]));
}

fn check_reductions<T: Lane + PartialOrd + Default>(all_true: O<'static>, bitmask: O<'static>) {
    let (all_true, bitmask) = (op(all_true), op(bitmask));
    let mut rng = Rng::new(0x5eed_0004);
    for _ in 0..ROUNDS {
        let mut lanes = T::split(rng.int_vec::<T>());
        // Make all-non-zero vectors common.
        if rng.below(2) == 0 {
            for l in lanes.iter_mut() {
                if *l == T::default() {
                    *l = T::from_u64(1);
                }
            }
        }
        let a = T::join(&lanes);
        let want_all = lanes.iter().all(|l| *l != T::default());
        let want_mask = lanes
            .iter()
            .enumerate()
            .map(|(i, l)| i32::from(*l < T::default()) << i)
            .sum::<i32>();
        assert_eq!(
            i32_of(simd::eval(&all_true, &[Value::V128(a)])),
            i32::from(want_all)
        );
        assert_eq!(
            i32_of(simd::eval(&bitmask, &[Value::V128(a)])),
            want_mask,
            "{a:032x}"
        );
    }
}

#[test]
fn all_true_any_true_and_bitmask() {
    check_reductions::<i8>(O::I8x16AllTrue, O::I8x16Bitmask);
    check_reductions::<i16>(O::I16x8AllTrue, O::I16x8Bitmask);
    check_reductions::<i32>(O::I32x4AllTrue, O::I32x4Bitmask);
    check_reductions::<i64>(O::I64x2AllTrue, O::I64x2Bitmask);
    let any = op(O::V128AnyTrue);
    assert_eq!(i32_of(simd::eval(&any, &[Value::V128(0)])), 0);
    assert_eq!(i32_of(simd::eval(&any, &[Value::V128(1 << 127)])), 1);
    let bm = op(O::I8x16Bitmask);
    assert_eq!(i32_of(simd::eval(&bm, &[Value::V128(u128::MAX)])), 0xffff);
}

#[test]
fn bitwise() {
    let mut rng = Rng::new(0x5eed_0005);
    let (not, and, andnot, or, xor) = (
        op(O::V128Not),
        op(O::V128And),
        op(O::V128AndNot),
        op(O::V128Or),
        op(O::V128Xor),
    );
    let bitselect = op(O::V128Bitselect);
    for _ in 0..ROUNDS {
        let (a, b, c) = (
            rng.int_vec::<u8>(),
            rng.int_vec::<u8>(),
            rng.int_vec::<u8>(),
        );
        assert_eq!(eval1(&not, a), map_ref(a, |x: u8| !x));
        assert_eq!(eval2(&and, a, b), zip_ref(a, b, |x: u8, y| x & y));
        assert_eq!(eval2(&andnot, a, b), zip_ref(a, b, |x: u8, y| x & !y));
        assert_eq!(eval2(&or, a, b), zip_ref(a, b, |x: u8, y| x | y));
        assert_eq!(eval2(&xor, a, b), zip_ref(a, b, |x: u8, y| x ^ y));
        // Bit by bit: take a's bit where c's is 1, else b's.
        let want = (0..128).fold(0u128, |r, i| {
            let pick = if c >> i & 1 == 1 { a } else { b };
            r | (pick & (1 << i))
        });
        let args = [Value::V128(a), Value::V128(b), Value::V128(c)];
        assert_eq!(v128(simd::eval(&bitselect, &args)), want);
    }
}
