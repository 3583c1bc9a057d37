//! Runs every root-level script of the spec testsuite on the JIT under opt
//! none and opt speed (explicit bounds checks), opt speed with guard pages,
//! and opt speed for baseline SSE2 (Cranelift's fallback lowerings and
//! libcalls), failing on any failed directive. Scripts needing unsupported
//! features are skipped by the harness.
//!
//! The testsuite is `$SHOAL_SPEC_TESTSUITE`, else `../shared/spec-testsuite`
//! beside the repository; if missing the test is skipped loudly, except
//! under `CI=true`, where that is a failure.

use std::io::Write;
use std::path::PathBuf;

use shoal_runtime::Engine;
use shoal_runtime::jit::{BoundsMode, IsaLevel, JitConfig, JitEngine, OptLevel};
use shoal_runtime::wast::{self, EngineSpec, FileReport, Totals, suite};

fn testsuite_dir() -> PathBuf {
    match std::env::var_os(suite::TESTSUITE_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec-testsuite"),
    }
}

fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn engine(config: JitConfig) -> Box<dyn Engine> {
    Box::new(JitEngine::new(config).expect("host supports the default ISA"))
}

fn run(spec: EngineSpec) {
    let dir = testsuite_dir();
    if !dir.is_dir() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("spec testsuite missing under CI=true: {}", dir.display());
        }
        say(&format!(
            "\n======== SKIPPING THE SPEC TESTSUITE: {} not found ========\n",
            dir.display()
        ));
        return;
    }
    let files = suite::expand_paths(&[dir]).expect("listing the testsuite");
    let mut reports: Vec<FileReport> = Vec::new();
    let threads = suite::default_threads(files.len());
    suite::run_files(&spec, &files, threads, wast::script_limits(), |r| {
        reports.push(r)
    });
    let mut totals = Totals::default();
    let mut msg = String::new();
    for r in &reports {
        totals.add(r);
        if r.failed() > 0 {
            msg.push_str(&format!("{}\n", r.summary()));
            for f in r.failures.iter().take(5) {
                msg.push_str(&format!("    {f}\n"));
            }
        }
    }
    say(&format!("spec testsuite on {}: {totals}", spec.name));
    assert!(totals.passed > 0, "no directive ran");
    assert!(msg.is_empty(), "{msg}{totals}");
}

#[test]
fn spec_testsuite_on_the_jit_opt_none() {
    run(EngineSpec {
        name: "jit(opt=none)",
        make: || engine(JitConfig::with_opt(OptLevel::None)),
    });
}

#[test]
fn spec_testsuite_on_the_jit_opt_speed() {
    run(EngineSpec {
        name: "jit(opt=speed)",
        make: || engine(JitConfig::with_opt(OptLevel::Speed)),
    });
}

#[test]
fn spec_testsuite_on_the_jit_guard_pages() {
    run(EngineSpec {
        name: "jit(opt=speed,bounds=guard)",
        make: || {
            engine(JitConfig {
                bounds: BoundsMode::Guard,
                ..JitConfig::with_opt(OptLevel::Speed)
            })
        },
    });
}

#[test]
fn spec_testsuite_on_the_jit_baseline_sse2() {
    run(EngineSpec {
        name: "jit(opt=speed,isa=sse2)",
        make: || {
            engine(JitConfig {
                isa: IsaLevel::Sse2,
                ..JitConfig::with_opt(OptLevel::Speed)
            })
        },
    });
}
