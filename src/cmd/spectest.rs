//! `shoal spectest [--engine interp|jit|all] [--verbose] [PATH...]`: runs
//! spec `.wast` scripts on shoal's engines and reports per file. The last
//! line of output is exactly `spectest: N passed, M failed` (directives).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use shoal_runtime::wast::{self, FileReport, Totals, engines, suite};

/// Failures shown per file without `--verbose`.
const FAILURES_SHOWN: usize = 10;

/// Flags of `shoal spectest`.
#[derive(clap::Args)]
pub struct Args {
    /// Engine to run the scripts on: interp, jit, or all.
    #[arg(long, default_value = "interp")]
    engine: String,
    /// Show every failure (default: the first 10 per file).
    #[arg(long, short)]
    verbose: bool,
    /// Worker threads (default: one per CPU).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// `.wast` files or directories (a directory means its top-level `.wast`
    /// files). Default: $SHOAL_SPEC_TESTSUITE, else ../shared/spec-testsuite.
    paths: Vec<PathBuf>,
}

/// Runs the scripts; exits 1 if any directive failed.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let failed = run_to(args, &mut stdout.lock())?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs the scripts, writing the report to `out`; returns the number of
/// failed directives.
fn run_to(args: Args, out: &mut dyn Write) -> anyhow::Result<usize> {
    let specs = wast::engines_by_name(&args.engine)?;
    if args.engine == "all" {
        for name in engines::unavailable_engines() {
            eprintln!("shoal spectest: note: engine \"{name}\" is not available yet; not run");
        }
    }
    let paths = if args.paths.is_empty() {
        let dir = suite::default_testsuite_dir();
        if !dir.exists() {
            anyhow::bail!(
                "spec testsuite not found at {} (set {} or pass paths)",
                dir.display(),
                suite::TESTSUITE_ENV
            );
        }
        vec![dir]
    } else {
        args.paths
    };
    let files = suite::expand_paths(&paths).context("bad input path")?;
    let threads = args
        .jobs
        .unwrap_or_else(|| suite::default_threads(files.len()));
    let mut totals = Totals::default();
    for spec in &specs {
        let prefix = if specs.len() > 1 {
            format!("[{}] ", spec.name)
        } else {
            String::new()
        };
        let mut written = Ok(());
        suite::run_files(spec, &files, threads, wast::script_limits(), |report| {
            totals.add(&report);
            if written.is_ok() {
                written = print_report(out, &report, &prefix, args.verbose);
            }
        });
        written?;
    }
    writeln!(
        out,
        "summary: {} file runs on {} engine(s); {} directives skipped; {} files entirely skipped",
        totals.files,
        specs.len(),
        totals.skipped,
        totals.skipped_files
    )?;
    writeln!(out, "{totals}")?;
    out.flush()?;
    Ok(totals.failed)
}

fn print_report(
    out: &mut dyn Write,
    report: &FileReport,
    prefix: &str,
    verbose: bool,
) -> std::io::Result<()> {
    writeln!(out, "{prefix}{}", report.summary())?;
    let shown = if verbose {
        report.failures.len()
    } else {
        FAILURES_SHOWN
    };
    for failure in report.failures.iter().take(shown) {
        writeln!(out, "{prefix}    {failure}")?;
    }
    if report.failures.len() > shown {
        writeln!(
            out,
            "{prefix}    ... and {} more failures (--verbose shows all)",
            report.failures.len() - shown
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(paths: Vec<PathBuf>, verbose: bool) -> Args {
        Args {
            engine: "interp".into(),
            verbose,
            jobs: Some(2),
            paths,
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("shoal-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reports_files_and_ends_with_the_totals_line() {
        let dir = temp_dir("report");
        let script = r#"
(module (func (export "add") (param i32 i32) (result i32)
  (i32.add (local.get 0) (local.get 1))))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 4))
(assert_trap (invoke "add" (i32.const 1) (i32.const 2)) "unreachable")
"#;
        std::fs::write(dir.join("a.wast"), script).unwrap();
        std::fs::write(dir.join("b.wast"), "(module (memory 1 1 shared))").unwrap();
        let mut out = Vec::new();
        let failed = run_to(args(vec![dir.clone()], false), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(failed, 2, "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("FAIL ")
                && lines[0].ends_with("a.wast: 2 passed, 2 failed, 0 skipped"),
            "{text}"
        );
        assert!(
            lines[1].contains("line 5: assert_return: expected [i32:4], got [i32:3]"),
            "{text}"
        );
        assert!(lines[2].contains("line 6: assert_trap"), "{text}");
        assert!(
            lines[3].starts_with("SKIP ") && lines[3].contains("[skipped: threads (1)]"),
            "{text}"
        );
        assert!(text.ends_with("spectest: 2 passed, 2 failed\n"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_inputs_are_errors() {
        let missing = PathBuf::from("/nonexistent/shoal/spec");
        let err = run_to(args(vec![missing], false), &mut Vec::new()).unwrap_err();
        assert!(
            format!("{err:#}").contains("/nonexistent/shoal/spec"),
            "{err:#}"
        );
        let mut a = args(vec![], false);
        a.engine = "nope".into();
        let err = run_to(a, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("unknown engine"), "{err}");
    }
}
