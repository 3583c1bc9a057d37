//! The `shoal` binary as users run it:
//!
//! * bad input to every subcommand (bad flags, missing, corrupt and
//!   unreadable files and directories) gives a non-zero exit and a clear
//!   error on stderr, never a panic;
//! * `shoal repro` replays wasm and CLIF test cases and libFuzzer inputs
//!   (exit 0 when executions agree, 1 on a discrepancy, 2 on bad input),
//!   and a decoded input saved with `--save` replays the same way;
//! * end to end: with the test-only fault injection, `shoal fuzz` finds the
//!   miscompiled operator and writes a finding reduced to a handful of
//!   instructions, with its original, a report and a working `repro` line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use shoal_generators::{Invocation, TestCase, WasmCase};
use shoal_runtime::Value;

fn shoal(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("running shoal")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh scratch directory holding the fixtures.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shoal-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let write = |file: &str, bytes: &[u8]| std::fs::write(dir.join(file), bytes).unwrap();
    write("trunc.wasm", b"\0asm\x01\0\0\0\x01\x05");
    write("garbage.clif", b"function %f( { garbage\n");
    write("random.bin", &random_bytes(256));
    write("bad.wast", b"(module (func\n");
    write("file.txt", b"not a directory\n");
    std::fs::create_dir_all(dir.join("clifdir")).unwrap();
    write("clifdir/garbage.clif", b"function %f( { garbage\n");
    write("agree.wasm", &add_case().to_bytes());
    write("agree.clif", AGREEING_CLIF.as_bytes());
    write(
        "imports.wasm",
        &wat_case("(module (import \"m\" \"f\" (func)))", vec![]),
    );
    dir
}

/// Deterministic bytes that are neither wasm nor UTF-8.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 16 == 0 { 0xff } else { x as u8 }
        })
        .collect()
}

fn wat_case(wat: &str, invocations: Vec<Invocation>) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(wat).unwrap();
    let mut module = wast::parser::parse::<wast::Wat>(&buf).unwrap();
    WasmCase {
        module: module.encode().unwrap(),
        invocations,
    }
    .to_bytes()
}

/// `f(2, 3)` with `f = i32.add`: agrees everywhere, unless `i32.add` is
/// miscompiled.
fn add_case() -> TestCase {
    let bytes = wat_case(
        r#"(module (func (export "f") (param i32 i32) (result i32)
             local.get 0 local.get 1 i32.add))"#,
        vec![Invocation {
            export: "f".into(),
            args: vec![Value::I32(2), Value::I32(3)],
        }],
    );
    TestCase::from_bytes(&bytes).unwrap()
}

const AGREEING_CLIF: &str = "test interpret
test run
target x86_64

function %f(i32, i32) -> i32 {
block0(v0: i32, v1: i32):
    v2 = iadd v0, v1
    return v2
}
; run: %f(2, 3) == 5
";

const FAULT: &str = "i32.add->isub";

/// Non-zero exit, no panic, and a first stderr line that says what is
/// wrong (it contains `expect`).
fn assert_rejected(out: &Output, expect: &str, what: &str) {
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "{what}: exit 0\nstdout: {}\nstderr: {stderr}",
        text(&out.stdout)
    );
    assert!(!stderr.contains("panicked"), "{what}: panicked:\n{stderr}");
    let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    assert!(
        first.contains(expect),
        "{what}: first stderr line {first:?} does not mention {expect:?}\nstderr: {stderr}"
    );
}

/// Cases: (arguments, what the first line of stderr must contain).
fn check_all(dir: &Path, cases: &[(&[&str], &str)]) {
    for (args, expect) in cases {
        let out = shoal(dir, args);
        assert_rejected(&out, expect, &format!("shoal {}", args.join(" ")));
    }
}

#[test]
fn bad_flags_are_rejected_by_every_subcommand() {
    let dir = scratch("flags");
    check_all(
        &dir,
        &[
            (&["nonsense"], "unrecognized subcommand"),
            (&["fuzz", "--bogus"], "unexpected argument"),
            (&["fuzz", "--time", "abc"], "invalid value"),
            (
                &["fuzz", "--jobs", "0", "--time", "1"],
                "--jobs must be at least 1",
            ),
            (&["fuzz", "--generator", "nope"], "invalid value"),
            (&["fuzz", "--reduce-time=-1"], "--reduce-time"),
            (&["fuzz", "--engines", "interp,v8"], "unknown engine"),
            (&["fuzz", "--engines", "interp"], "at least two"),
            (
                &["fuzz", "--corpus", "no-such-dir", "--time", "1"],
                "no-such-dir",
            ),
            (
                &["fuzz", "--inject-fault", "nonsense"],
                "bad --inject-fault",
            ),
            (
                &["fuzz", "--inject-fault", "i32.add->fadd"],
                "bad --inject-fault",
            ),
            (&["repro"], "required"),
            (
                &["repro", "agree.wasm", "--target", "bogus"],
                "invalid value",
            ),
            (
                &["repro", "agree.wasm", "--inject-fault", "x->y"],
                "bad --inject-fault",
            ),
            (&["reduce", "agree.wasm"], "required"),
            (
                &["reduce", "agree.wasm", "-o", "o.wasm", "--time", "0"],
                "--time",
            ),
            (
                &["reduce", "agree.wasm", "-o", "o.wasm", "--time", "nan"],
                "--time",
            ),
            (&["coverage"], "required"),
            (&["coverage", "--top", "abc", "x.clif"], "invalid value"),
            (&["harvest", "--json"], "required"),
            (
                &["harvest", "--units", "bogus", "--report"],
                "unknown ISLE unit",
            ),
            (&["harvest", "--check", "--units", "x64"], "cannot be used"),
            (
                &["spectest", "--engine", "bogus", "bad.wast"],
                "unknown engine",
            ),
            (&["spectest", "--jobs", "x"], "invalid value"),
            (&["validate"], "required"),
            (&["bench", "--bogus"], "unexpected argument"),
        ],
    );
    // No subcommand at all: the help, on stderr, and a failure.
    let out = shoal(&dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage: shoal <COMMAND>"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_and_unreadable_paths_are_rejected() {
    let dir = scratch("paths");
    check_all(
        &dir,
        &[
            (&["repro", "missing.wasm"], "No such file"),
            (&["repro", "."], "Is a directory"),
            (&["repro", "file.txt/sub.wasm"], "Not a directory"),
            (&["reduce", "missing.wasm", "-o", "o.wasm"], "No such file"),
            (
                &["reduce", "agree.wasm", "-o", "file.txt/o.wasm"],
                "not a directory",
            ),
            (&["reduce", "agree.wasm", "-o", "clifdir"], "is a directory"),
            (
                &["fuzz", "--findings", "file.txt/sub", "--time", "1"],
                "findings directory",
            ),
            (&["coverage", "missing.clif"], "no such file"),
            (&["coverage", "file.txt/sub"], "no such file"),
            (
                &["harvest", "--cranelift-src", "missing-dir", "--report"],
                "not a cranelift-codegen",
            ),
            (
                &[
                    "harvest",
                    "--report",
                    "--no-verify",
                    "--units",
                    "x64",
                    "--panics",
                    "file.txt/sub",
                ],
                "Not a directory",
            ),
            (&["spectest", "missing.wast"], "No such file"),
            (&["spectest", "file.txt/sub"], "Not a directory"),
            (&["validate", "missing.wasm"], "No such file"),
            (&["validate", "."], "Is a directory"),
        ],
    );
    unreadable_directory(&dir);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A directory without read permission (only meaningful when not running
/// as root, which ignores permissions; the `file.txt/...` paths above
/// cover unreadable paths for root too).
fn unreadable_directory(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if unsafe { libc::geteuid() } == 0 {
        return;
    }
    let locked = dir.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(locked.join("a.clif"), AGREEING_CLIF).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    check_all(
        dir,
        &[
            (&["coverage", "locked"], "Permission denied"),
            (&["spectest", "locked"], "Permission denied"),
            (
                &["fuzz", "--findings", "locked/f", "--time", "1"],
                "Permission denied",
            ),
        ],
    );
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn corrupt_files_are_rejected() {
    let dir = scratch("corrupt");
    check_all(
        &dir,
        &[
            (&["repro", "trunc.wasm"], "malformed wasm"),
            (&["repro", "garbage.clif"], "malformed CLIF"),
            (&["repro", "random.bin"], "pass --target"),
            (&["repro", "imports.wasm"], "cannot run"),
            (&["reduce", "trunc.wasm", "-o", "o.wasm"], "malformed wasm"),
            (
                &["reduce", "garbage.clif", "-o", "o.clif"],
                "malformed CLIF",
            ),
            (&["reduce", "random.bin", "-o", "o.wasm"], "pass --target"),
            (
                &["reduce", "agree.wasm", "-o", "o.wasm"],
                "nothing to reduce",
            ),
            (&["coverage", "garbage.clif"], "parse error"),
            (&["coverage", "clifdir"], "parse error"),
            (&["coverage", "random.bin"], "UTF-8"),
            (&["validate", "trunc.wasm"], "trunc.wasm"),
            (&["validate", "random.bin"], "random.bin"),
        ],
    );
    // A script that does not parse is a failed script in the report.
    for file in ["bad.wast", "random.bin"] {
        let out = shoal(&dir, &["spectest", file]);
        assert_eq!(out.status.code(), Some(1), "spectest {file}");
        assert!(!text(&out.stderr).contains("panicked"));
        assert!(text(&out.stdout).contains(&format!("FAIL {file}")));
    }
    assert!(!dir.join("o.wasm").exists() && !dir.join("o.clif").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn repro_replays_test_cases_and_fuzz_inputs() {
    let dir = scratch("repro");
    let out = shoal(&dir, &["repro", "agree.wasm"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("invocation 0: f(i32:2, i32:3)"), "{stdout}");
    assert!(stdout.contains("[i32:5]") && stdout.contains("all executions agree"));

    let out = shoal(&dir, &["repro", "agree.wasm", "--inject-fault", FAULT]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("DISCREPANCY"), "{stdout}");
    assert!(
        stdout.contains("!=") && stdout.contains("[i32:-1]"),
        "{stdout}"
    );

    let out = shoal(&dir, &["repro", "agree.clif"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("returned [5]"));

    // Raw fuzz input: decoded by the target's generator; the saved case
    // replays to the same verdict without --target.
    for target in [
        "wasm_diff",
        "wasm_smith_diff",
        "clif_lower",
        "clif_opt",
        "clif",
    ] {
        let saved = format!("decoded-{target}");
        let out = shoal(
            &dir,
            &["repro", "random.bin", "--target", target, "--save", &saved],
        );
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "{target}: {}",
            text(&out.stderr)
        );
        let again = shoal(&dir, &["repro", &saved]);
        assert_eq!(
            again.status.code(),
            code,
            "{target}: {}",
            text(&again.stderr)
        );
        let bytes = std::fs::read(dir.join(&saved)).unwrap();
        assert!(TestCase::from_bytes(&bytes).is_ok(), "{target}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn reduce_keeps_the_finding() {
    let dir = scratch("reduce");
    let out = shoal(
        &dir,
        &[
            "reduce",
            "agree.wasm",
            "-o",
            "small.wasm",
            "--inject-fault",
            FAULT,
            "--time",
            "20",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("before:") && stdout.contains("after:"),
        "{stdout}"
    );
    let out = shoal(&dir, &["repro", "small.wasm", "--inject-fault", FAULT]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    std::fs::remove_dir_all(dir).unwrap();
}

/// Number of operators in the function bodies of a wasm test case.
fn operators(case: &[u8]) -> usize {
    let TestCase::Wasm(w) = TestCase::from_bytes(case).unwrap() else {
        panic!("not a wasm case")
    };
    let mut n = 0;
    for payload in wasmparser::Parser::new(0).parse_all(&w.module) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            n += body.get_operators_reader().unwrap().into_iter().count();
        }
    }
    n
}

#[test]
fn injected_fault_is_found_and_reduced_end_to_end() {
    let dir = scratch("e2e");
    let out = shoal(
        &dir,
        &[
            "fuzz",
            "--generator",
            "instruction-first",
            "--jobs",
            "1",
            "--time",
            "60",
            "--execs",
            "25",
            "--reduce-time",
            "10",
            "--inject-fault",
            FAULT,
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json output");
    assert!(summary["findings"].as_u64().unwrap() >= 1, "{summary}");
    assert!(summary["first_finding_s"].as_f64().unwrap() < 60.0);

    let findings: Vec<PathBuf> = std::fs::read_dir(dir.join("findings"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert!(!findings.is_empty());
    for finding in findings {
        let case = std::fs::read(finding.join("case.wasm")).unwrap();
        let original = std::fs::read(finding.join("original.wasm")).unwrap();
        let (small, big) = (operators(&case), operators(&original));
        assert!(
            small <= 10,
            "{}: {small} operators left (from {big})",
            finding.display()
        );
        assert!(big > small);
        let report = std::fs::read_to_string(finding.join("report.md")).unwrap();
        for needle in [
            "```wat",
            "i32.add",
            "## Outcomes",
            "shoal repro",
            "--inject-fault",
        ] {
            assert!(report.contains(needle), "report lacks {needle}:\n{report}");
        }
        let case_path = finding.join("case.wasm");
        let out = shoal(
            &dir,
            &[
                "repro",
                case_path.to_str().unwrap(),
                "--inject-fault",
                FAULT,
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Rule-coverage guidance: rule-guided cases come from the checked-in
/// corpus and fire the rules they aim at; `--no-guidance` keeps the
/// generator but picks rules blindly. `--engines` restricts the wasm
/// executions.
#[test]
fn rule_guided_campaign_reports_guidance_and_takes_engines() {
    let dir = scratch("guided");
    for (extra, guided) in [(None, true), (Some("--no-guidance"), false)] {
        let mut args = vec![
            "fuzz",
            "--generator",
            "rule-guided",
            "--jobs",
            "1",
            "--execs",
            "80",
            "--reduce-time",
            "0",
            "--json",
        ];
        args.extend(extra);
        let out = shoal(&dir, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json output");
        assert_eq!(s["findings"], 0, "{s}");
        assert_eq!(s["generators"]["rule-guided"], 80, "{s}");
        let g = &s["guidance"];
        assert_eq!(g["guided"].as_bool(), Some(guided), "{s}");
        assert!(g["corpus_seeds"].as_u64().unwrap() > 1000, "{s}");
        assert!(g["on_target"].as_u64().unwrap() > 0, "{s}");
        let fired = s["coverage"]["x64"]["fired"].as_u64().unwrap()
            + s["coverage"]["opt"]["fired"].as_u64().unwrap();
        assert!(fired > 0, "{s}");
    }
    let out = shoal(
        &dir,
        &[
            "fuzz",
            "--generator",
            "instruction-first",
            "--engines",
            "interp,jit:opt=none",
            "--jobs",
            "1",
            "--execs",
            "10",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json output");
    assert_eq!(s["execs"], 10, "{s}");
}

/// `shoal bench --smoke` runs every section, generators included, with no
/// invalid case.
#[test]
fn bench_smoke_runs_every_section() {
    let dir = scratch("bench");
    let out = shoal(&dir, &["bench", "--smoke"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for section in ["== interpreter", "== jit", "== generators"] {
        assert!(stdout.contains(section), "{stdout}");
    }
    for generator in ["instruction-first:", "smith:", "clif:"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(generator))
            .unwrap_or_else(|| panic!("{stdout}"));
        assert!(line.ends_with("(0 invalid)"), "{line}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
