//! Float lane instructions: IEEE results from Rust's scalar operations, the
//! spec's definitions of min/max/pmin/pmax written out directly, and the
//! NaN rule of `shoal_runtime::num` (first NaN operand quieted; a NaN
//! created from non-NaN operands is the positive canonical NaN), which in
//! particular must hold where x86 would produce a negative NaN.

mod simd_common;

use simd_common::*;
use wasmparser::Operator as O;

const ROUNDS: usize = 3000;

/// The float operations of one lane type, by bits.
trait F: Lane + PartialOrd + std::ops::Add<Output = Self> {
    const QUIET: u64;
    const CANONICAL: u64;
    fn vec(rng: &mut Rng) -> u128;
    fn bits(self) -> u64 {
        self.to_u64()
    }
    fn nan(self) -> bool;
    fn zero() -> Self;
}

impl F for f32 {
    const QUIET: u64 = 0x0040_0000;
    const CANONICAL: u64 = 0x7fc0_0000;
    fn vec(rng: &mut Rng) -> u128 {
        rng.f32_vec()
    }
    fn nan(self) -> bool {
        self.is_nan()
    }
    fn zero() -> f32 {
        0.0
    }
}

impl F for f64 {
    const QUIET: u64 = 0x0008_0000_0000_0000;
    const CANONICAL: u64 = 0x7ff8_0000_0000_0000;
    fn vec(rng: &mut Rng) -> u128 {
        rng.f64_vec()
    }
    fn nan(self) -> bool {
        self.is_nan()
    }
    fn zero() -> f64 {
        0.0
    }
}

/// The deterministic NaN rule applied to the IEEE result `r` of operands.
fn nan_rule<T: F>(operands: &[T], r: T) -> T {
    if let Some(n) = operands.iter().find(|x| x.nan()) {
        T::from_u64(n.bits() | T::QUIET)
    } else if r.nan() {
        T::from_u64(T::CANONICAL)
    } else {
        r
    }
}

fn check_unary<T: F>(o: O<'static>, f: impl Fn(T) -> T) {
    let op = op(o.clone());
    let mut rng = Rng::new(0xf1_0001);
    for _ in 0..ROUNDS {
        let a = T::vec(&mut rng);
        assert_eq!(eval1(&op, a), map_ref(a, &f), "{o:?} a={a:032x}");
    }
}

fn check_binary<T: F, R: Lane>(o: O<'static>, f: impl Fn(T, T) -> R) {
    let op = op(o.clone());
    let mut rng = Rng::new(0xf1_0002);
    for _ in 0..ROUNDS {
        let a = T::vec(&mut rng);
        let b = T::vec(&mut rng);
        assert_eq!(
            eval2(&op, a, b),
            zip_ref(a, b, &f),
            "{o:?} a={a:032x} b={b:032x}"
        );
    }
}

/// The spec's `fmin`: NaN if either is NaN, `-0` below `+0`, else the
/// smaller.
fn spec_min<T: F>(a: T, b: T) -> T {
    if a.nan() || b.nan() {
        nan_rule(&[a, b], a)
    } else if a == T::zero() && b == T::zero() {
        if a.bits() != T::zero().bits() { a } else { b }
    } else if a < b {
        a
    } else {
        b
    }
}

/// The spec's `fmax`: NaN if either is NaN, `+0` above `-0`, else the
/// larger.
fn spec_max<T: F>(a: T, b: T) -> T {
    if a.nan() || b.nan() {
        nan_rule(&[a, b], a)
    } else if a == T::zero() && b == T::zero() {
        if a.bits() == T::zero().bits() { a } else { b }
    } else if a > b {
        a
    } else {
        b
    }
}

#[test]
fn f32x4_arithmetic_and_nan_rule() {
    check_binary(O::F32x4Add, |x: f32, y| nan_rule(&[x, y], x + y));
    check_binary(O::F32x4Sub, |x: f32, y| nan_rule(&[x, y], x - y));
    check_binary(O::F32x4Mul, |x: f32, y| nan_rule(&[x, y], x * y));
    check_binary(O::F32x4Div, |x: f32, y| nan_rule(&[x, y], x / y));
    check_binary(O::F32x4Min, spec_min::<f32>);
    check_binary(O::F32x4Max, spec_max::<f32>);
    check_binary(O::F32x4PMin, |x: f32, y| if y < x { y } else { x });
    check_binary(O::F32x4PMax, |x: f32, y| if x < y { y } else { x });
    check_unary(O::F32x4Sqrt, |x: f32| nan_rule(&[x], x.sqrt()));
    check_unary(O::F32x4Ceil, |x: f32| nan_rule(&[x], x.ceil()));
    check_unary(O::F32x4Floor, |x: f32| nan_rule(&[x], x.floor()));
    check_unary(O::F32x4Trunc, |x: f32| nan_rule(&[x], x.trunc()));
    check_unary(O::F32x4Nearest, |x: f32| {
        nan_rule(&[x], x.round_ties_even())
    });
    check_unary(O::F32x4Abs, |x: f32| {
        f32::from_bits(x.to_bits() & 0x7fff_ffff)
    });
    check_unary(O::F32x4Neg, |x: f32| {
        f32::from_bits(x.to_bits() ^ 0x8000_0000)
    });
}

#[test]
fn f64x2_arithmetic_and_nan_rule() {
    check_binary(O::F64x2Add, |x: f64, y| nan_rule(&[x, y], x + y));
    check_binary(O::F64x2Sub, |x: f64, y| nan_rule(&[x, y], x - y));
    check_binary(O::F64x2Mul, |x: f64, y| nan_rule(&[x, y], x * y));
    check_binary(O::F64x2Div, |x: f64, y| nan_rule(&[x, y], x / y));
    check_binary(O::F64x2Min, spec_min::<f64>);
    check_binary(O::F64x2Max, spec_max::<f64>);
    check_binary(O::F64x2PMin, |x: f64, y| if y < x { y } else { x });
    check_binary(O::F64x2PMax, |x: f64, y| if x < y { y } else { x });
    check_unary(O::F64x2Sqrt, |x: f64| nan_rule(&[x], x.sqrt()));
    check_unary(O::F64x2Ceil, |x: f64| nan_rule(&[x], x.ceil()));
    check_unary(O::F64x2Floor, |x: f64| nan_rule(&[x], x.floor()));
    check_unary(O::F64x2Trunc, |x: f64| nan_rule(&[x], x.trunc()));
    check_unary(O::F64x2Nearest, |x: f64| {
        nan_rule(&[x], x.round_ties_even())
    });
    check_unary(O::F64x2Abs, |x: f64| {
        f64::from_bits(x.to_bits() & !(1 << 63))
    });
    check_unary(O::F64x2Neg, |x: f64| {
        f64::from_bits(x.to_bits() ^ (1 << 63))
    });
}

#[test]
fn created_nans_are_positive_canonical() {
    let inf = f32::INFINITY;
    let a = f32::join(&[inf, -inf, inf, -inf]);
    let canon = f32::join(&[f32::from_bits(0x7fc0_0000); 4]);
    // inf - inf, -inf - -inf, inf * 0, 0 * inf, 0 / -0, sqrt of negatives.
    assert_eq!(eval2(&op(O::F32x4Sub), a, a), canon);
    let b = f32::join(&[0.0, 0.0, -0.0, -0.0]);
    assert_eq!(eval2(&op(O::F32x4Mul), a, b), canon);
    assert_eq!(eval2(&op(O::F32x4Mul), b, a), canon);
    assert_eq!(
        eval2(
            &op(O::F32x4Div),
            f32::join(&[0.0; 4]),
            f32::join(&[-0.0; 4])
        ),
        canon
    );
    assert_eq!(
        eval1(&op(O::F32x4Sqrt), f32::join(&[-1.0, -inf, -1e-45, -3.0])),
        canon
    );
    let d = f64::join(&[f64::INFINITY, -1.0]);
    let got = eval2(&op(O::F64x2Add), d, f64::join(&[f64::NEG_INFINITY, 0.0]));
    assert_eq!(f64::split(got)[0].to_bits(), 0x7ff8_0000_0000_0000);
    // sqrt(-0) is -0, not NaN.
    let z = eval1(&op(O::F64x2Sqrt), f64::join(&[-0.0, 0.0]));
    assert_eq!(z, f64::join(&[-0.0, 0.0]));
}

#[test]
fn nan_operands_propagate_quieted_in_order() {
    let snan = f32::from_bits(0xff80_0001);
    let qnan = f32::from_bits(0x7fc0_0abc);
    let a = f32::join(&[snan, 1.0, qnan, snan]);
    let b = f32::join(&[1.0, snan, snan, qnan]);
    let got = f32::split(eval2(&op(O::F32x4Add), a, b));
    let bits: Vec<u32> = got.iter().map(|x| x.to_bits()).collect();
    assert_eq!(bits, [0xffc0_0001, 0xffc0_0001, 0x7fc0_0abc, 0xffc0_0001]);
    // min/max propagate too; pmin/pmax return an operand untouched.
    let got = f32::split(eval2(&op(O::F32x4Max), a, b));
    assert_eq!(got[1].to_bits(), 0xffc0_0001);
    let got = f32::split(eval2(&op(O::F32x4PMin), a, b));
    assert_eq!(got[0].to_bits(), 0xff80_0001);
    assert_eq!(got[1].to_bits(), 1.0f32.to_bits());
    // Rounding quiets NaNs; abs/neg do not.
    let s = f32::join(&[snan; 4]);
    assert_eq!(
        f32::split(eval1(&op(O::F32x4Ceil), s))[0].to_bits(),
        0xffc0_0001
    );
    assert_eq!(
        f32::split(eval1(&op(O::F32x4Abs), s))[0].to_bits(),
        0x7f80_0001
    );
    assert_eq!(
        f32::split(eval1(&op(O::F32x4Neg), s))[0].to_bits(),
        0x7f80_0001
    );
}

#[test]
fn min_max_signed_zeros_and_rounding_corners() {
    let z = f64::join(&[0.0, -0.0]);
    let nz = f64::join(&[-0.0, 0.0]);
    assert_eq!(eval2(&op(O::F64x2Min), z, nz), f64::join(&[-0.0, -0.0]));
    assert_eq!(eval2(&op(O::F64x2Max), z, nz), f64::join(&[0.0, 0.0]));
    // pmin/pmax keep the first operand on equal (zero) lanes.
    assert_eq!(eval2(&op(O::F64x2PMin), z, nz), z);
    assert_eq!(eval2(&op(O::F64x2PMax), z, nz), z);
    let nearest = op(O::F32x4Nearest);
    let got = eval1(&nearest, f32::join(&[-0.5, 2.5, -3.5, 4_194_304.5]));
    assert_eq!(got, f32::join(&[-0.0, 2.0, -4.0, 4_194_304.0]));
    let got = eval1(&nearest, f32::join(&[0.499_999_97, 8_388_609.0, -1.5, 0.5]));
    assert_eq!(got, f32::join(&[0.0, 8_388_609.0, -2.0, 0.0]));
    let ceil = eval1(&op(O::F32x4Ceil), f32::join(&[-0.5, 0.5, -0.0, 1e-45]));
    assert_eq!(ceil, f32::join(&[-0.0, 1.0, -0.0, 1.0]));
    let floor = eval1(
        &op(O::F64x2Floor),
        f64::join(&[-1e-300, 0.999_999_999_999_999_9]),
    );
    assert_eq!(floor, f64::join(&[-1.0, 0.0]));
    let trunc = eval1(&op(O::F64x2Trunc), f64::join(&[-0.9, 4503599627370495.5]));
    assert_eq!(trunc, f64::join(&[-0.0, 4503599627370495.0]));
}

fn check_compare<T: F>(o: O<'static>, p: impl Fn(&T, &T) -> bool) {
    if T::BYTES == 4 {
        check_binary(o, |x: T, y: T| mask::<i32>(p(&x, &y)));
    } else {
        check_binary(o, |x: T, y: T| mask::<i64>(p(&x, &y)));
    }
}

#[test]
fn comparisons_are_ieee() {
    check_compare::<f32>(O::F32x4Eq, f32::eq);
    check_compare::<f32>(O::F32x4Ne, f32::ne);
    check_compare::<f32>(O::F32x4Lt, f32::lt);
    check_compare::<f32>(O::F32x4Gt, f32::gt);
    check_compare::<f32>(O::F32x4Le, f32::le);
    check_compare::<f32>(O::F32x4Ge, f32::ge);
    check_compare::<f64>(O::F64x2Eq, f64::eq);
    check_compare::<f64>(O::F64x2Ne, f64::ne);
    check_compare::<f64>(O::F64x2Lt, f64::lt);
    check_compare::<f64>(O::F64x2Gt, f64::gt);
    check_compare::<f64>(O::F64x2Le, f64::le);
    check_compare::<f64>(O::F64x2Ge, f64::ge);
    let nan = f32::join(&[f32::NAN, 0.0, -0.0, 1.0]);
    let other = f32::join(&[f32::NAN, -0.0, 0.0, f32::NAN]);
    assert_eq!(
        eval2(&op(O::F32x4Eq), nan, other),
        i32::join(&[0, -1, -1, 0])
    );
    assert_eq!(
        eval2(&op(O::F32x4Ne), nan, other),
        i32::join(&[-1, 0, 0, -1])
    );
    assert_eq!(
        eval2(&op(O::F32x4Le), nan, other),
        i32::join(&[0, -1, -1, 0])
    );
}
