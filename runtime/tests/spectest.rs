//! Runs every root-level script of the spec testsuite on shoal's engines and
//! fails on any failed directive. Scripts needing unsupported features are
//! skipped by the harness (see `shoal_runtime::wast`).
//!
//! Files with known, attributed failures are listed per engine (e.g.
//! [`INTERP_KNOWN_FAILING`]): they are reported loudly but do not fail the
//! test, and an entry fails the test as soon as its file passes, so the
//! lists only shrink.
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

/// A root-level file that currently fails on an engine, with the cause.
type KnownFailure = (&'static str, &'static str);

/// Known interpreter failures: tracked engine gaps, not properties of the files.
const INTERP_KNOWN_FAILING: &[KnownFailure] = &[];

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

fn loud_skip(why: &str) {
    say(&format!(
        "\n======== SKIPPING THE SPEC TESTSUITE: {why} ========\n"
    ));
}

/// Runs the whole testsuite on `spec`; panics listing every unexpected
/// failure and every stale known-failure entry.
fn run_suite(spec: &EngineSpec, known: &[KnownFailure]) {
    let dir = testsuite_dir();
    if !dir.is_dir() {
        let why = format!("{} not found (set {})", dir.display(), suite::TESTSUITE_ENV);
        assert!(!in_ci(), "spec testsuite missing under CI=true: {why}");
        loud_skip(&why);
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
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    let mut known_count = 0;
    for r in &reports {
        totals.add(r);
        if r.status() != FileStatus::Pass {
            say(&r.summary());
        }
        let name = r.path.file_name().map(|n| n.to_string_lossy().into_owned());
        let excuse = known
            .iter()
            .find(|(file, _)| Some(*file) == name.as_deref())
            .map(|(_, why)| *why);
        match (r.failed() > 0, excuse) {
            (true, Some(why)) => {
                known_count += r.failed();
                say(&format!("    KNOWN FAILURE ({why})"));
            }
            (true, None) => unexpected.push(r),
            (false, Some(_)) => stale.push(r.path.display().to_string()),
            (false, None) => {}
        }
    }
    say(&format!(
        "spec testsuite on {}: {} files in {:.1}s on {threads} threads; \
         {} directives skipped; {known_count} failures in known-failing files",
        spec.name,
        totals.files,
        elapsed.as_secs_f64(),
        totals.skipped
    ));
    say(&totals.to_string());
    let mut msg = String::new();
    if !unexpected.is_empty() {
        msg.push_str(&format!("{} files with failures:\n", unexpected.len()));
        for r in unexpected {
            msg.push_str(&format!("{}\n", r.summary()));
            for f in r.failures.iter().take(SHOWN) {
                msg.push_str(&format!("    {f}\n"));
            }
        }
    }
    if !stale.is_empty() {
        msg.push_str(&format!(
            "these files pass now; remove them from the known-failing list: {}\n",
            stale.join(", ")
        ));
    }
    assert!(msg.is_empty(), "{msg}{totals}");
}

#[test]
fn spec_testsuite_on_the_interpreter() {
    let specs = wast::engines_by_name("interp").expect("the interpreter is always available");
    run_suite(&specs[0], INTERP_KNOWN_FAILING);
}

/// Every other registered engine, once available, must pass the same files
/// with no known failures of its own.
#[test]
fn spec_testsuite_on_other_engines() {
    for name in wast::engines::engine_names() {
        if name == "interp" || name == "all" {
            continue;
        }
        match wast::engines_by_name(name) {
            Ok(specs) => {
                for spec in &specs {
                    run_suite(spec, &[]);
                }
            }
            Err(e) => loud_skip(&e.to_string()),
        }
    }
}
