//! A disagreement written as a Cranelift filetest parses back with
//! `cranelift-reader` into the same functions and invocations, with the
//! reference's results on the run lines.

use cranelift_reader::{RunCommand, parse_run_command, parse_test};
use shoal_runtime::clif::differential::{Executor, Verdict, judge_all};
use shoal_runtime::clif::filetest::{self, RunLine};
use shoal_runtime::clif::interp::DEFAULT_FUEL;
use shoal_runtime::clif::{ClifConfig, ClifModule, HostFeatures, Outcome};

const CASE: &str = r#"
function %mix(i32, f64, i8x16) -> i32, f64, i8x16 {
block0(v0: i32, v1: f64, v2: i8x16):
    v3 = iconst.i32 7
    v4 = imul v0, v3
    v5 = fneg v1
    v6 = iadd v2, v2
    return v4, v5, v6
}
; run: %mix(3, 0x1.8p1, [1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -128]) == [0, 0.0, [0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0]]

function %div(i64, i64) -> i64 {
block0(v0: i64, v1: i64):
    v2 = udiv v0, v1
    return v2
}
; run: %div(1, 0) == 0
"#;

#[test]
fn disagreement_renders_as_a_parseable_filetest() {
    let (module, runs) = ClifModule::parse_with_runs(CASE).unwrap();
    let faulty = ClifConfig {
        inject_fault: true,
        features: HostFeatures::Sse41,
        ..ClifConfig::default()
    };
    let verdicts = judge_all(&module, &runs, &[Executor::Native(faulty)], DEFAULT_FUEL).unwrap();
    let Verdict::Disagree(d) = &verdicts[0] else {
        panic!("fault not detected: {}", verdicts[0]);
    };
    let Verdict::Agree {
        reference: div_ref, ..
    } = &verdicts[1]
    else {
        panic!("{}", verdicts[1]);
    };
    assert_eq!(
        *div_ref,
        Outcome::Trapped(cranelift_codegen::ir::TrapCode::INTEGER_DIVISION_BY_ZERO)
    );
    let lines = vec![
        RunLine {
            invocation: d.invocation.clone(),
            expected: d.reference.clone(),
            observed: Some(d.observed.clone()),
        },
        RunLine {
            invocation: runs[1].clone(),
            expected: div_ref.clone(),
            observed: None,
        },
    ];
    let text = filetest::write(&module, &lines, &faulty, &format!("{}", verdicts[0]));

    // The header Cranelift's filetest runner needs.
    assert!(text.contains("\ntest interpret\ntest run\n"), "{text}");
    assert!(text.contains("set opt_level=speed\n"), "{text}");
    assert!(
        text.contains("target x86_64 has_sse3 has_ssse3 has_sse41\n"),
        "{text}"
    );

    // The reader accepts the whole file (header, functions, run lines).
    let file = parse_test(&text, cranelift_reader::ParseOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(file.commands.len(), 2);
    assert_eq!(file.functions.len(), 2);
    // The run line of %mix expects exactly the reference's results.
    let (func, details) = &file.functions[0];
    let run = details
        .comments
        .iter()
        .find_map(|c| parse_run_command(c.text, &func.signature).ok().flatten())
        .expect("a run line for %mix");
    let RunCommand::Run(inv, _, expected) = run else {
        panic!("not a comparison");
    };
    assert_eq!(inv.args, d.invocation.args);
    let Outcome::Returned(reference) = &d.reference else {
        panic!("reference trapped");
    };
    assert_eq!(expected.len(), reference.len());
    for (e, r) in expected.iter().zip(reference) {
        assert!(e.bitwise_eq(r), "{e} vs {r}");
    }
    // The trapping invocation is documented, not asserted.
    assert!(text.contains("%div(1, 0) traps: int_divz"), "{text}");

    // And the parsed-back module agrees without the injected fault.
    let (again, again_runs) = ClifModule::parse_with_runs(&text).unwrap();
    let verdicts = judge_all(
        &again,
        &again_runs,
        &[Executor::Native(ClifConfig::default())],
        DEFAULT_FUEL,
    )
    .unwrap();
    assert!(
        verdicts.iter().all(|v| matches!(v, Verdict::Agree { .. })),
        "{verdicts:?}"
    );
}
