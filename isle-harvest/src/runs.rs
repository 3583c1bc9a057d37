//! Invocation lines for seeds: arguments biased to edge values, expected
//! results computed by `cranelift-interpreter`.

use cranelift_codegen::data_value::DataValue;
use cranelift_codegen::ir::immediates::{Ieee16, Ieee32, Ieee64, Ieee128};
use cranelift_codegen::ir::{Function, Type, types};
use cranelift_interpreter::environment::FunctionStore;
use cranelift_interpreter::interpreter::{Interpreter, InterpreterState};
use cranelift_interpreter::step::ControlFlow;
use cranelift_reader::{Comparison, Invocation, RunCommand};

/// How many argument vectors are tried per seed.
pub const ATTEMPTS: usize = 4;

/// Fuel for one interpretation (the seeds are straight-line code).
const FUEL: u64 = 10_000;

/// `; run:` lines for `func`: up to [`ATTEMPTS`] argument vectors whose
/// interpretation returns without trapping and without a NaN in its results
/// (NaN payloads are not significant, so an exact expectation would be
/// wrong).
pub fn run_lines(func: &Function) -> Vec<String> {
    let name = func.name.to_string();
    let mut store = FunctionStore::default();
    store.add(name.clone(), func);
    let params: Vec<Type> = func.signature.params.iter().map(|p| p.value_type).collect();
    let mut lines = Vec::new();
    for attempt in 0..ATTEMPTS {
        let args: Option<Vec<DataValue>> = params
            .iter()
            .enumerate()
            .map(|(i, ty)| arg(*ty, attempt + i))
            .collect();
        let Some(args) = args else {
            return Vec::new();
        };
        let outcome = crate::verify::quietly(|| {
            let state = InterpreterState::default().with_function_store(store.clone());
            let mut interp = Interpreter::new(state).with_fuel(Some(FUEL));
            match interp.call_by_name(&name, &args) {
                Ok(ControlFlow::Return(results)) => Some(results.to_vec()),
                _ => None,
            }
        });
        let Ok(Some(results)) = outcome else {
            continue;
        };
        if results.iter().any(has_nan) {
            continue;
        }
        let cmd = RunCommand::Run(
            Invocation {
                func: name.trim_start_matches('%').to_string(),
                args,
            },
            Comparison::Equals,
            results,
        );
        let line = format!("; {cmd}");
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines
}

/// The `k`-th interesting value of type `ty` (`None` for types shoal does
/// not pass as arguments).
pub fn arg(ty: Type, k: usize) -> Option<DataValue> {
    const INTS: [i128; 8] = [1, 0, -1, 7, i128::MAX, i128::MIN, 0x55, -128];
    const F32S: [f32; 6] = [1.5, -0.0, 3.0, -2.25, 0.5, 1e10];
    const F64S: [f64; 6] = [1.5, -0.0, 3.0, -2.25, 0.5, 1e100];
    let int = INTS[k % INTS.len()];
    Some(match ty {
        types::I8 => DataValue::I8(clamp(int, i8::MIN.into(), i8::MAX.into()) as i8),
        types::I16 => DataValue::I16(clamp(int, i16::MIN.into(), i16::MAX.into()) as i16),
        types::I32 => DataValue::I32(clamp(int, i32::MIN.into(), i32::MAX.into()) as i32),
        types::I64 => DataValue::I64(clamp(int, i64::MIN.into(), i64::MAX.into()) as i64),
        types::I128 => DataValue::I128(int),
        types::F16 => DataValue::F16(Ieee16::with_bits([0x3e00u16, 0x8000, 0x4200][k % 3])),
        types::F32 => DataValue::F32(Ieee32::with_float(F32S[k % F32S.len()])),
        types::F64 => DataValue::F64(Ieee64::with_float(F64S[k % F64S.len()])),
        types::F128 => DataValue::F128(Ieee128::with_bits(
            [0x3fff_8000_0000_0000_0000_0000_0000_0000u128, 0][k % 2],
        )),
        t if t.is_vector() => {
            let bytes = vector_bytes(t, k);
            match t.bytes() {
                16 => DataValue::V128(bytes),
                8 => DataValue::V64(bytes[..8].try_into().ok()?),
                4 => DataValue::V32(bytes[..4].try_into().ok()?),
                2 => DataValue::V16(bytes[..2].try_into().ok()?),
                _ => return None,
            }
        }
        _ => return None,
    })
}

fn clamp(v: i128, min: i128, max: i128) -> i128 {
    v.clamp(min, max)
}

/// Lane patterns: ascending small numbers, edge values, or (for float
/// lanes) ordinary floats.
fn vector_bytes(ty: Type, k: usize) -> [u8; 16] {
    let lane = ty.lane_type();
    let lb = lane.bytes() as usize;
    let mut out = [0u8; 16];
    for i in 0..(ty.bytes() as usize / lb) {
        let v: u128 = if lane.is_float() {
            let f = [1.5f64, -2.0, 0.25, 3.0][(i + k) % 4];
            match lane {
                types::F32 => u128::from((f as f32).to_bits()),
                types::F64 => u128::from(f.to_bits()),
                _ => 0x3c00,
            }
        } else {
            match k % 3 {
                0 => (i as u128 + 1) * 3,
                1 => [0u128, u128::MAX, 1, 0x80 << ((lb - 1) * 8)][i % 4],
                _ => 0x5a5a_5a5a_5a5a_5a5a_5a5a_5a5a_5a5a_5a5a >> i,
            }
        };
        out[i * lb..(i + 1) * lb].copy_from_slice(&v.to_le_bytes()[..lb]);
    }
    out
}

fn has_nan(v: &DataValue) -> bool {
    match v {
        DataValue::F16(f) => f.is_nan(),
        DataValue::F32(f) => f.is_nan(),
        DataValue::F64(f) => f.is_nan(),
        DataValue::F128(f) => f.is_nan(),
        // A vector result may hold float lanes whose NaN-ness depends on
        // the lane type, which the value does not carry: look for any
        // all-ones exponent in 32- or 64-bit lanes conservatively.
        DataValue::V128(b) => maybe_nan_lanes(b),
        DataValue::V64(b) => maybe_nan_lanes(b),
        _ => false,
    }
}

fn maybe_nan_lanes(bytes: &[u8]) -> bool {
    let f32_nan = bytes.chunks(4).any(|c| {
        let v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        f32::from_bits(v).is_nan()
    });
    let f64_nan = bytes.chunks(8).any(|c| {
        let v = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        f64::from_bits(v).is_nan()
    });
    f32_nan || f64_nan
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_reader::parse_functions;

    #[test]
    fn runs_are_computed_by_the_interpreter() {
        let f = &parse_functions(
            "function %f(i32, i32) -> i32 {\nblock0(v0: i32, v1: i32):\n    v2 = iadd v0, v1\n    return v2\n}",
        )
        .unwrap()[0];
        let lines = run_lines(f);
        assert_eq!(lines.len(), ATTEMPTS);
        assert_eq!(lines[0], "; run: %f(1, 0) == 1");
    }

    #[test]
    fn trapping_inputs_are_skipped() {
        let f = &parse_functions(
            "function %f(i32, i32) -> i32 {\nblock0(v0: i32, v1: i32):\n    v2 = udiv v0, v1\n    return v2\n}",
        )
        .unwrap()[0];
        let lines = run_lines(f);
        assert!(lines.iter().all(|l| !l.contains("%f(1, 0)")), "{lines:?}");
        assert!(!lines.is_empty());
    }
}
