//! Fault injection: a JIT configuration that miscompiles one operator and
//! an interpreter that computes one wrongly are each detected, attributed
//! to the right execution and written as a finding; a difference in NaN
//! payloads alone (in results or in memory) is not a finding.

mod common;

use std::fs;

use common::{call, temp_dir, wat};
use cranelift_codegen::ir::Opcode;
use shoal_generators::{TestCase, WasmCase};
use shoal_oracles::compare::Difference;
use shoal_oracles::engines::{EngineKind, InterpKind, external_set};
use shoal_oracles::execute::Invocation;
use shoal_oracles::finding::Written;
use shoal_oracles::verdict::{Discrepancy, Verdict};
use shoal_oracles::wasm::{CaseReport, WasmOracle, finding};
use shoal_runtime::interp::InterpFault;
use shoal_runtime::jit::{FaultSpec, JitConfig, OptLevel};
use shoal_runtime::{Limits, Value};

const ADD: &str = r#"(module
  (memory (export "mem") 1)
  (func (export "add") (param i32 i32) (result i32)
    i32.const 16
    local.get 0 local.get 1 i32.add
    i32.store
    i32.const 16 i32.load))"#;

const ABS: &str = r#"(module
  (memory (export "mem") 1)
  (func (export "abs") (param f32) (result f32) local.get 0 f32.abs)
  (func (export "abs_to_mem") (param f32)
    i32.const 8 local.get 0 f32.abs f32.store))"#;

fn jit(opt: OptLevel) -> EngineKind {
    EngineKind::Jit(JitConfig::with_opt(opt))
}

fn faulty_jit(wasm: &'static str, emit: Opcode) -> EngineKind {
    EngineKind::Jit(JitConfig {
        inject_fault: Some(FaultSpec { wasm, emit }),
        ..JitConfig::with_opt(OptLevel::Speed)
    })
}

fn faulty_interp(wasm: &str, emit: &str) -> EngineKind {
    EngineKind::Interp(InterpKind {
        fault: Some(InterpFault::new(wasm, emit).unwrap()),
    })
}

fn run(kinds: &[EngineKind], module: &str, invocations: &[Invocation]) -> CaseReport {
    let oracle = WasmOracle::from_kinds(kinds, Limits::default()).unwrap();
    oracle.run(&wat(module), invocations).unwrap()
}

fn discrepancy(report: &CaseReport) -> &Discrepancy {
    match &report.verdict {
        Verdict::Discrepancy(d) => d,
        v => panic!("expected a discrepancy, got {v:?}: {report:#?}"),
    }
}

/// Writes the finding of `report` and checks the files on disk.
fn check_written(report: &CaseReport, module: &str, invocations: &[Invocation], culprit: &str) {
    let d = discrepancy(report);
    let wasm = wat(module);
    let case = TestCase::Wasm(WasmCase {
        module: wasm.clone(),
        invocations: invocations.to_vec(),
    })
    .to_bytes();
    let f = finding(report, d, &wasm, invocations, case.clone());
    assert_eq!(f.odd, vec![culprit.to_string()]);
    let root = temp_dir("fault");
    let Written::New(dir) = f.write(&root).unwrap() else {
        panic!("first write is new")
    };
    assert_eq!(fs::read(dir.join("case.wasm")).unwrap(), case);
    let parsed = TestCase::from_bytes(&fs::read(dir.join("case.wasm")).unwrap()).unwrap();
    assert_eq!(
        parsed,
        TestCase::Wasm(WasmCase {
            module: wasm,
            invocations: invocations.to_vec()
        })
    );
    let text = fs::read_to_string(dir.join("case.wat")).unwrap();
    assert!(text.contains("(module"), "{text}");
    let md = fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains(&format!("- disagreeing: `{culprit}`")), "{md}");
    let repro = dir.join("case.wasm");
    assert!(
        md.contains(&format!("shoal repro {}", repro.display())),
        "{md}"
    );
    assert_eq!(fs::read_to_string(dir.join("count")).unwrap().trim(), "1");
    assert!(matches!(f.write(&root).unwrap(), Written::Duplicate(_, 2)));
    fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_miscompiling_jit_is_outvoted_and_reported() {
    let bad = faulty_jit("i32.add", Opcode::Isub);
    let mut kinds = vec![
        EngineKind::interp(),
        jit(OptLevel::None),
        bad,
        jit(OptLevel::Speed),
    ];
    kinds.extend(external_set());
    let invocations = [call("add", &[Value::I32(2), Value::I32(3)])];
    let report = run(&kinds, ADD, &invocations);
    let d = discrepancy(&report);
    assert_eq!((d.reference, d.odd.clone()), (0, vec![2]));
    assert_eq!(d.difference, Difference::Invocation { index: 0 });
    let culprit = bad.to_string();
    assert!(culprit.contains("fault=i32.add->isub"), "{culprit}");
    assert_eq!(report.names[2], culprit);
    let f = finding(&report, d, &wat(ADD), &invocations, Vec::new());
    assert!(
        f.difference.contains("expected [i32:5], got [i32:-1]"),
        "{}",
        f.difference
    );
    check_written(&report, ADD, &invocations, &culprit);
}

#[test]
fn a_wrong_interpreter_is_outvoted_and_reported() {
    let bad = faulty_interp("i32.add", "i32.sub");
    let kinds = [bad, jit(OptLevel::None), jit(OptLevel::Speed)];
    let invocations = [call("add", &[Value::I32(2), Value::I32(3)])];
    let report = run(&kinds, ADD, &invocations);
    let d = discrepancy(&report);
    assert_eq!((d.reference, d.odd.clone()), (1, vec![0]));
    assert_eq!(d.difference, Difference::Invocation { index: 0 });
    assert_eq!(report.names[0], "interp(fault=i32.add->i32.sub)");
    check_written(&report, ADD, &invocations, "interp(fault=i32.add->i32.sub)");
}

/// abs and neg differ only in the sign bit, so on a NaN input a faulty
/// engine's result differs from the others in the NaN payload alone.
#[test]
fn nan_payload_differences_alone_are_not_findings() {
    let quiet_nan_with_payload = Value::F32(0x7fc0_0001);
    let nan_calls = [
        call("abs", &[quiet_nan_with_payload]),
        call("abs_to_mem", &[quiet_nan_with_payload]),
        call("abs", &[Value::F32(0x7f80_0005)]),
    ];
    let control = [call("abs_to_mem", &[Value::F32(2.0f32.to_bits())])];
    let suites = [
        vec![
            faulty_interp("f32.abs", "f32.neg"),
            jit(OptLevel::None),
            jit(OptLevel::Speed),
        ],
        vec![
            EngineKind::interp(),
            faulty_jit("f32.abs", Opcode::Fneg),
            jit(OptLevel::Speed),
        ],
    ];
    for kinds in suites {
        let report = run(&kinds, ABS, &nan_calls);
        assert_eq!(report.verdict, Verdict::Agree, "{report:#?}");
        // The fault is live: with a number it changes the stored bytes.
        let report = run(&kinds, ABS, &control);
        let d = discrepancy(&report);
        assert!(
            matches!(&d.difference, Difference::Memory { name, offset: 11 } if name == "mem"),
            "{:?}",
            d.difference
        );
    }
}
