//! Lane-moving instructions (shuffle, swizzle, splat, extract_lane,
//! replace_lane) and the public lane helpers, against byte-level
//! references.

mod simd_common;

use shoal_runtime::Value;
use shoal_runtime::simd;
use simd_common::*;
use wasmparser::Operator as O;

#[test]
fn shuffle_picks_from_both_operands() {
    let mut rng = Rng::new(0x1a_0001);
    for _ in 0..2000 {
        let lanes: [u8; 16] = std::array::from_fn(|_| rng.below(32) as u8);
        let op = op(O::I8x16Shuffle { lanes });
        let (a, b) = (rng.int_vec::<u8>(), rng.int_vec::<u8>());
        let both: Vec<u8> = u8::split(a).into_iter().chain(u8::split(b)).collect();
        let want: Vec<u8> = lanes.iter().map(|i| both[usize::from(*i)]).collect();
        assert_eq!(eval2(&op, a, b), u8::join(&want), "{lanes:?}");
    }
}

#[test]
fn swizzle_zeroes_out_of_range_indices() {
    let op = op(O::I8x16Swizzle);
    let mut rng = Rng::new(0x1a_0002);
    for _ in 0..2000 {
        let a = rng.int_vec::<u8>();
        let idx: Vec<u8> = (0..16)
            .map(|_| match rng.below(3) {
                0 => rng.next() as u8,
                1 => [16, 17, 31, 0x80, 0xff][rng.below(5)],
                _ => rng.below(16) as u8,
            })
            .collect();
        let src = u8::split(a);
        let want: Vec<u8> = idx
            .iter()
            .map(|i| if *i < 16 { src[usize::from(*i)] } else { 0 })
            .collect();
        assert_eq!(eval2(&op, a, u8::join(&idx)), u8::join(&want));
    }
}

/// Checks splat, every extract_lane and replace_lane of one shape.
fn check_shape<T: Lane>(
    splat: O<'static>,
    extract: impl Fn(u8) -> O<'static>,
    replace: impl Fn(u8) -> O<'static>,
    scalar: impl Fn(u64) -> Value,
    lane_of: impl Fn(T) -> Value,
) {
    let mut rng = Rng::new(0x1a_0003);
    let n = 16 / T::BYTES;
    for _ in 0..500 {
        let x = rng.int_lane(8);
        // Splat truncates the scalar to the lane.
        let got = v128(simd::eval(&op(splat.clone()), &[scalar(x)]));
        assert_eq!(got, T::join(&vec![T::from_u64(x); n]));
        let v = rng.int_vec::<T>();
        for lane in 0..n as u8 {
            let ex = op(extract(lane));
            assert_eq!(
                simd::eval(&ex, &[Value::V128(v)]),
                lane_of(T::split(v)[usize::from(lane)])
            );
            let rep = op(replace(lane));
            let got = v128(simd::eval(&rep, &[Value::V128(v), scalar(x)]));
            let mut want = T::split(v);
            want[usize::from(lane)] = T::from_u64(x);
            assert_eq!(got, T::join(&want));
        }
    }
}

#[test]
fn splat_extract_replace_every_shape() {
    let i32s = |x: u64| Value::I32(x as i32);
    check_shape::<i8>(
        O::I8x16Splat,
        |lane| O::I8x16ExtractLaneS { lane },
        |lane| O::I8x16ReplaceLane { lane },
        i32s,
        |l| Value::I32(i32::from(l)),
    );
    check_shape::<u8>(
        O::I8x16Splat,
        |lane| O::I8x16ExtractLaneU { lane },
        |lane| O::I8x16ReplaceLane { lane },
        i32s,
        |l| Value::I32(i32::from(l)),
    );
    check_shape::<i16>(
        O::I16x8Splat,
        |lane| O::I16x8ExtractLaneS { lane },
        |lane| O::I16x8ReplaceLane { lane },
        i32s,
        |l| Value::I32(i32::from(l)),
    );
    check_shape::<u16>(
        O::I16x8Splat,
        |lane| O::I16x8ExtractLaneU { lane },
        |lane| O::I16x8ReplaceLane { lane },
        i32s,
        |l| Value::I32(i32::from(l)),
    );
    check_shape::<i32>(
        O::I32x4Splat,
        |lane| O::I32x4ExtractLane { lane },
        |lane| O::I32x4ReplaceLane { lane },
        i32s,
        Value::I32,
    );
    check_shape::<i64>(
        O::I64x2Splat,
        |lane| O::I64x2ExtractLane { lane },
        |lane| O::I64x2ReplaceLane { lane },
        |x| Value::I64(x as i64),
        Value::I64,
    );
    // Float lanes move bit patterns untouched (signalling NaNs included).
    check_shape::<u32>(
        O::F32x4Splat,
        |lane| O::F32x4ExtractLane { lane },
        |lane| O::F32x4ReplaceLane { lane },
        |x| Value::F32(x as u32),
        Value::F32,
    );
    check_shape::<u64>(
        O::F64x2Splat,
        |lane| O::F64x2ExtractLane { lane },
        |lane| O::F64x2ReplaceLane { lane },
        Value::F64,
        Value::F64,
    );
    let snan = Value::F32(0x7f80_0001);
    let v = v128(simd::eval(&op(O::F32x4Splat), &[snan]));
    assert_eq!(
        simd::eval(&op(O::F32x4ExtractLane { lane: 3 }), &[Value::V128(v)]),
        snan
    );
}

#[test]
fn const_and_public_lane_helpers() {
    let value = wasmparser::V128::from(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10i128);
    let c = op(O::V128Const { value });
    assert_eq!(c.num_args(), 0);
    let v = v128(simd::eval(&c, &[]));
    assert_eq!(v, 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
    assert_eq!(simd::lanes_u8(v).to_vec(), u8::split(v));
    assert_eq!(simd::lanes_i16(v).to_vec(), i16::split(v));
    assert_eq!(simd::lanes_u32(v).to_vec(), u32::split(v));
    assert_eq!(simd::lanes_i64(v).to_vec(), i64::split(v));
    assert_eq!(simd::lanes_f32(v).to_vec(), u32::split(v));
    assert_eq!(simd::lanes_f64(v).to_vec(), u64::split(v));
    assert_eq!(simd::from_lanes_i8(simd::lanes_i8(v)), v);
    assert_eq!(simd::from_lanes_u16(simd::lanes_u16(v)), v);
    assert_eq!(simd::from_lanes_i32(simd::lanes_i32(v)), v);
    assert_eq!(simd::from_lanes_u64(simd::lanes_u64(v)), v);
    assert_eq!(simd::lanes_u8(v)[0], 0x10);
}
