//! The CLIF executors (interpreter, native under several configurations,
//! Pulley, mid-end) agree on hand-written functions covering every trap
//! code and the value types; a deliberately wrong native result is caught;
//! Pulley runs calls between CLIF functions.

use std::collections::BTreeSet;

use cranelift_codegen::ir::TrapCode;
use shoal_runtime::clif::differential::{Executor, Verdict, judge_all};
use shoal_runtime::clif::interp::DEFAULT_FUEL;
use shoal_runtime::clif::{
    ClifConfig, ClifModule, ExecError, HostFeatures, Invocation, OptLevel, Outcome, interp, native,
    pulley,
};

fn judge_text(text: &str, executors: &[Executor]) -> (ClifModule, Vec<Invocation>, Vec<Verdict>) {
    let (module, runs) = ClifModule::parse_with_runs(text).unwrap();
    assert!(!runs.is_empty(), "no run lines");
    let verdicts = judge_all(&module, &runs, executors, DEFAULT_FUEL).unwrap();
    (module, runs, verdicts)
}

/// Every invocation must agree with every executor conclusive.
fn assert_all_agree(text: &str) -> Vec<Outcome> {
    let executors = Executor::default_set();
    let (_, runs, verdicts) = judge_text(text, &executors);
    runs.iter()
        .zip(verdicts)
        .map(|(inv, v)| match v {
            Verdict::Agree {
                reference,
                compared,
            } => {
                assert_eq!(
                    compared,
                    executors.len(),
                    "{inv}: some executor was inconclusive"
                );
                reference
            }
            other => panic!("{inv}: {other}"),
        })
        .collect()
}

const TRAPS: &str = r#"
function %udiv(i32, i32) -> i32 {
block0(v0: i32, v1: i32):
    v2 = udiv v0, v1
    return v2
}
; run: %udiv(10, 3) == 3
; run: %udiv(10, 0) == 0

function %sdiv(i64, i64) -> i64 {
block0(v0: i64, v1: i64):
    v2 = sdiv v0, v1
    return v2
}
; run: %sdiv(-10, 3) == -3
; run: %sdiv(7, 0) == 0
; run: %sdiv(-9223372036854775808, -1) == 0

function %srem(i16, i16) -> i16 {
block0(v0: i16, v1: i16):
    v2 = srem v0, v1
    return v2
}
; run: %srem(-7, 2) == -1
; run: %srem(-32768, -1) == 0
; run: %srem(5, 0) == 0

function %urem(i8, i8) -> i8 {
block0(v0: i8, v1: i8):
    v2 = urem v0, v1
    return v2
}
; run: %urem(200, 7) == 4
; run: %urem(1, 0) == 0

function %user(i32) -> i32 {
block0(v0: i32):
    brif v0, block1, block2
block1:
    trap user9
block2:
    v1 = iconst.i32 17
    return v1
}
; run: %user(0) == 17
; run: %user(1) == 0

function %trapz(i64) -> i64 {
block0(v0: i64):
    trapz v0, user3
    return v0
}
; run: %trapz(5) == 5
; run: %trapz(0) == 0

function %uadd(i32, i32) -> i32 {
block0(v0: i32, v1: i32):
    v2 = uadd_overflow_trap v0, v1, int_ovf
    return v2
}
; run: %uadd(1, 2) == 3
; run: %uadd(4294967295, 1) == 0

function %to_sint(f64) -> i32 {
block0(v0: f64):
    v1 = fcvt_to_sint.i32 v0
    return v1
}
; run: %to_sint(-0x1.8p1) == -3
; run: %to_sint(+NaN) == 0
; run: %to_sint(0x1.0p40) == 0

function %to_uint(f32) -> i64 {
block0(v0: f32):
    v1 = fcvt_to_uint.i64 v0
    return v1
}
; run: %to_uint(0x1.0p10) == 1024
; run: %to_uint(-0x1.0p0) == 0
; run: %to_uint(-NaN) == 0

function %stk() -> i32 {
block0:
    trap stk_ovf
}
; run: %stk() == 0

function %oob(i32) -> i32 {
block0(v0: i32):
    brif v0, block1, block2
block1:
    trap heap_oob
block2:
    return v0
}
; run: %oob(1) == 0
"#;

#[test]
fn every_trap_code_agrees_across_executors() {
    let outcomes = assert_all_agree(TRAPS);
    let codes: BTreeSet<String> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Trapped(c) => Some(c.to_string()),
            Outcome::Returned(_) => None,
        })
        .collect();
    for code in TrapCode::non_user_traps() {
        assert!(
            codes.contains(&code.to_string()),
            "{code} not covered: {codes:?}"
        );
    }
    assert!(
        codes.contains("user9") && codes.contains("user3"),
        "{codes:?}"
    );
    // And the non-trapping runs returned.
    assert!(outcomes.iter().any(|o| matches!(o, Outcome::Returned(_))));
}

const LOAD_NULL: &str = r#"
function %load(i64) -> i32 {
block0(v0: i64):
    v1 = load.i32 v0
    return v1
}
; run: %load(0) == 0
"#;

#[test]
fn trapping_load_from_null_is_heap_oob_everywhere() {
    // Natively the load is a registered trap site; Pulley faults inside
    // the interpreter, which `catch_memory_faults` maps to heap_oob.
    let executors = Executor::default_set();
    let (_, _, verdicts) = judge_text(LOAD_NULL, &executors);
    assert_eq!(
        verdicts,
        vec![Verdict::Agree {
            reference: Outcome::Trapped(TrapCode::HEAP_OUT_OF_BOUNDS),
            compared: executors.len(),
        }]
    );
}

const RECURSION: &str = r#"
function %down(i64) -> i64 {
    fn0 = %down(i64) -> i64
block0(v0: i64):
    v1 = iconst.i64 1
    v2 = iadd v0, v1
    v3 = call fn0(v2)
    return v3
}
"#;

#[test]
fn unbounded_recursion_is_a_stack_overflow_trap_not_a_crash() {
    let module = ClifModule::parse(RECURSION).unwrap();
    assert!(module.may_recurse());
    let inv = Invocation {
        func: "%down".into(),
        args: vec![cranelift_codegen::data_value::DataValue::I64(0)],
    };
    for config in ClifConfig::quick() {
        assert_eq!(
            native::run(&module, &inv, &config),
            Ok(Outcome::Trapped(TrapCode::STACK_OVERFLOW)),
            "{config}"
        );
    }
    assert_eq!(
        pulley::run(&module, &inv, OptLevel::Speed),
        Ok(Outcome::Trapped(TrapCode::STACK_OVERFLOW))
    );
    // The reference runs out of fuel: inconclusive, never a finding.
    assert!(matches!(
        interp::run(&module, &inv, 10_000),
        Err(ExecError::Inconclusive(_))
    ));
}

const CALLS: &str = r#"
function %sq(i64) -> i64 {
block0(v0: i64):
    v1 = imul v0, v0
    return v1
}

function %add3(i32, i32, i32) -> i32, i8 {
block0(v0: i32, v1: i32, v2: i32):
    v3 = iadd v0, v1
    v4 = iadd v3, v2
    v5 = ireduce.i8 v4
    return v4, v5
}

function %main(i64, i32) -> i64 {
    fn0 = %sq(i64) -> i64
    fn1 = colocated %add3(i32, i32, i32) -> i32, i8
    sig5 = (i64) -> i64 fast
block0(v0: i64, v1: i32):
    v2 = call fn0(v0)
    v3, v4 = call fn1(v1, v1, v1)
    v5 = sextend.i64 v3
    v6 = func_addr.i64 fn0
    v7 = call_indirect sig5, v6(v5)
    v8 = sextend.i64 v4
    v9 = iadd v2, v7
    v10 = iadd v9, v8
    return v10
}
; run: %main(3, 5) == 249
; run: %main(-4, 100) == 90316
; run: %main(0, 0) == 0
"#;

#[test]
fn calls_between_functions_run_on_every_executor() {
    assert_all_agree(CALLS);
}

const VALUES: &str = r#"
function %wide(i128, i128) -> i128 {
block0(v0: i128, v1: i128):
    v2 = imul v0, v1
    v3 = isub v2, v0
    return v3
}
; run: %wide(0x0123456789abcdef0123456789abcdef, -3) == 0
; run: %wide(170141183460469231731687303715884105727, 2) == 0

function %narrow(i8, i16) -> i16, i8 {
block0(v0: i8, v1: i16):
    v2 = sextend.i16 v0
    v3 = isub v1, v2
    v4 = ushr v0, v1
    return v3, v4
}
; run: %narrow(-128, 7) == [0, 0]
; run: %narrow(99, -32768) == [0, 0]

function %fmix(f32, f64) -> f64, f32 {
block0(v0: f32, v1: f64):
    v2 = fpromote.f64 v0
    v3 = fdiv v1, v2
    v4 = sqrt v0
    return v3, v4
}
; run: %fmix(0x1.8p1, 0x1.0p3) == [0.0, 0.0]
; run: %fmix(-0x1.0p0, 0x0.0p0) == [0.0, 0.0]
; run: %fmix(0x0.0p0, 0x0.0p0) == [0.0, 0.0]

function %lanes(i32x4, i32x4) -> i32x4 {
block0(v0: i32x4, v1: i32x4):
    v2 = iadd v0, v1
    v3 = imul v2, v1
    return v3
}
; run: %lanes([1 2 3 4], [-1 5 2147483647 0]) == [0 0 0 0]

function %flanes(f32x4, f64x2) -> f32x4, f64x2 {
block0(v0: f32x4, v1: f64x2):
    v2 = fmul v0, v0
    v3 = fmin v1, v1
    v4 = fsub v2, v0
    return v4, v3
}
; run: %flanes([0x1.0p0 -0x1.8p2 +Inf +NaN], [-0x0.0p0 +NaN]) == [[0.0 0.0 0.0 0.0], [0.0 0.0]]

function %ceil(f32, f64) -> f32, f64 {
block0(v0: f32, v1: f64):
    v2 = ceil v0
    v3 = nearest v1
    return v2, v3
}
; run: %ceil(0x1.4p0, 0x1.4p1) == [0.0, 0.0]
; run: %ceil(-0x1.8p-1, -0x1.8p1) == [0.0, 0.0]

function %swz(i8x16, i8x16) -> i8x16 {
block0(v0: i8x16, v1: i8x16):
    v2 = swizzle v0, v1
    return v2
}
; run: %swz([1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16], [15 0 1 2 -1 16 17 3 4 5 6 7 8 9 10 11]) == [0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0]

function %bits(i64) -> i64, i32, i16 {
block0(v0: i64):
    v1 = popcnt v0
    v2 = ireduce.i32 v0
    v3 = clz v2
    v4 = ireduce.i16 v0
    v5 = ctz v4
    return v1, v3, v5
}
; run: %bits(0x00f0000000001234) == [0, 0, 0]
; run: %bits(-1) == [0, 0, 0]
"#;

#[test]
fn value_types_agree_including_baseline_libcalls() {
    // Expected values on the run lines are placeholders: the executors are
    // compared with each other, not with the run lines. Native `quick()`
    // includes the baseline preset, where `ceil`/`nearest` are libcalls and
    // `swizzle` uses the `X86Pshufb` libcall.
    let outcomes = assert_all_agree(VALUES);
    assert!(outcomes.iter().all(|o| matches!(o, Outcome::Returned(_))));
}

#[test]
fn every_host_configuration_agrees() {
    let executors: Vec<Executor> = ClifConfig::all_for_host()
        .into_iter()
        .map(Executor::Native)
        .collect();
    assert!(executors.len() >= 4);
    for text in [TRAPS, CALLS, VALUES] {
        let (_, runs, verdicts) = judge_text(text, &executors);
        for (inv, v) in runs.iter().zip(verdicts) {
            assert!(matches!(v, Verdict::Agree { .. }), "{inv}: {v}");
        }
    }
}

#[test]
fn injected_native_fault_is_detected() {
    let faulty = ClifConfig {
        inject_fault: true,
        features: HostFeatures::Baseline,
        ..ClifConfig::default()
    };
    let executors = [
        Executor::Native(ClifConfig::default()),
        Executor::Native(faulty),
    ];
    let (_, runs, verdicts) = judge_text(CALLS, &executors);
    for (inv, v) in runs.iter().zip(&verdicts) {
        match v {
            Verdict::Disagree(d) => {
                assert_eq!(d.executor, Executor::Native(faulty), "{inv}");
                assert!(d.detail.contains("result 0"), "{}", d.detail);
            }
            other => panic!("{inv}: fault not detected: {other}"),
        }
    }
    // The fault only affects returned values: trapping runs still agree.
    let (_, _, verdicts) = judge_text(
        "function %t() -> i32 {\nblock0:\n    trap user1\n}\n; run: %t() == 0\n",
        &executors,
    );
    assert!(matches!(verdicts[0], Verdict::Agree { .. }));
}

#[test]
fn invalid_input_is_an_error_not_a_panic() {
    assert!(ClifModule::parse("function %f(").is_err());
    // Ill-typed CLIF is rejected by the verifier.
    let bad = "function %f(i32) -> i64 {\nblock0(v0: i32):\n    return v0\n}";
    assert!(matches!(
        ClifModule::parse(bad),
        Err(shoal_runtime::clif::ModuleError::Verifier { .. })
    ));
    let undefined = "function %f(i32) -> i32 {\n    fn0 = %g(i32) -> i32\nblock0(v0: i32):\n    v1 = call fn0(v0)\n    return v1\n}";
    assert!(ClifModule::parse(undefined).is_err());
    let module =
        ClifModule::parse("function %f(i32) -> i32 {\nblock0(v0: i32):\n    return v0\n}").unwrap();
    let wrong = Invocation {
        func: "%f".into(),
        args: vec![cranelift_codegen::data_value::DataValue::I64(1)],
    };
    assert!(matches!(
        native::run(&module, &wrong, &ClifConfig::default()),
        Err(ExecError::Invalid(_))
    ));
    let missing = Invocation {
        func: "%nope".into(),
        args: vec![],
    };
    assert!(matches!(
        interp::run(&module, &missing, 10),
        Err(ExecError::Invalid(_))
    ));
}

#[test]
fn documented_backend_gaps_are_not_findings() {
    // Pulley has no `bitrev`: it drops out as a known issue, the others
    // still compare.
    let text = "function %r(i16) -> i16 {\nblock0(v0: i16):\n    v1 = bitrev v0\n    return v1\n}\n; run: %r(1) == 0\n";
    let executors = Executor::default_set();
    let (_, _, verdicts) = judge_text(text, &executors);
    let pulleys: Vec<Executor> = executors
        .iter()
        .copied()
        .filter(|e| matches!(e, Executor::Pulley(_)))
        .collect();
    let [
        Verdict::KnownIssue {
            reference,
            compared,
            hits,
        },
    ] = &verdicts[..]
    else {
        panic!("{verdicts:?}");
    };
    assert_eq!(
        *reference,
        Outcome::Returned(vec![cranelift_codegen::data_value::DataValue::I16(
            i16::MIN
        )])
    );
    assert_eq!(*compared, executors.len() - pulleys.len());
    assert_eq!(hits.iter().map(|h| h.executor).collect::<Vec<_>>(), pulleys);
    assert!(hits.iter().all(|h| h.issue.name == "pulley-wasm-subset"));
}
