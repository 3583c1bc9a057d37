//! Runs every root-level script of the spec testsuite on the interpreter and
//! fails on any failed directive. Scripts needing unsupported features are
//! skipped by the harness (see `shoal_runtime::wast`).
//!
//! The testsuite is `$SHOAL_SPEC_TESTSUITE`, else `../shared/spec-testsuite`
//! beside the repository. If it is missing the test is skipped with a loud
//! message, except under `CI=true`, where that is a failure.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use shoal_runtime::wast::{self, EngineSpec, FileReport, FileStatus, Totals, suite};

/// Failures printed per failing file.
const SHOWN: usize = 5;

fn testsuite_dir() -> PathBuf {
    match std::env::var_os(suite::TESTSUITE_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec-testsuite"),
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Writes to the real stderr: the test harness captures `eprintln!` of
/// passing tests, and these lines must be seen.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Skips loudly, or fails under CI.
fn unavailable(why: &str) {
    if in_ci() {
        panic!("spec testsuite cannot run under CI=true: {why}");
    }
    say(&format!(
        "\n======== SKIPPING THE SPEC TESTSUITE: {why} ========\n"
    ));
}

fn run_suite(spec: &EngineSpec) {
    let dir = testsuite_dir();
    if !dir.is_dir() {
        unavailable(&format!(
            "{} not found (set {})",
            dir.display(),
            suite::TESTSUITE_ENV
        ));
        return;
    }
    let files = suite::expand_paths(&[dir]).expect("listing the testsuite");
    let start = Instant::now();
    let mut reports: Vec<FileReport> = Vec::new();
    let threads = suite::default_threads(files.len());
    suite::run_files(spec, &files, threads, wast::script_limits(), |r| {
        reports.push(r)
    });
    let elapsed = start.elapsed();
    let mut totals = Totals::default();
    let mut failing = Vec::new();
    for r in &reports {
        totals.add(r);
        if r.status() != FileStatus::Pass {
            say(&r.summary());
        }
        if r.failed() > 0 {
            failing.push(r);
        }
    }
    say(&format!(
        "spec testsuite on {}: {} files in {:.1}s on {threads} threads; {} directives skipped",
        spec.name,
        totals.files,
        elapsed.as_secs_f64(),
        totals.skipped
    ));
    say(&totals.to_string());
    if !failing.is_empty() {
        let mut msg = format!("{} files with failures:\n", failing.len());
        for r in failing {
            msg.push_str(&format!("{}\n", r.summary()));
            for f in r.failures.iter().take(SHOWN) {
                msg.push_str(&format!("    {f}\n"));
            }
        }
        panic!("{msg}{totals}");
    }
}

#[test]
fn spec_testsuite_on_the_interpreter() {
    match wast::engines_by_name("interp") {
        Ok(specs) => run_suite(&specs[0]),
        Err(e) => unavailable(&e.to_string()),
    }
}
