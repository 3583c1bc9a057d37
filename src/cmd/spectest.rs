//! `shoal spectest [--engine interp|jit|all] [--verbose] [PATH...]`: runs
//! spec `.wast` scripts on shoal's engines and reports per file. The last
//! line of output is exactly `spectest: N passed, M failed` (directives).

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
        suite::run_files(spec, &files, threads, wast::script_limits(), |report| {
            print_report(&report, &prefix, args.verbose);
            totals.add(&report);
        });
    }
    println!(
        "summary: {} file runs on {} engine(s); {} directives skipped; {} files entirely skipped",
        totals.files,
        specs.len(),
        totals.skipped,
        totals.skipped_files
    );
    println!("{totals}");
    Ok(if totals.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_report(report: &FileReport, prefix: &str, verbose: bool) {
    println!("{prefix}{}", report.summary());
    let shown = if verbose {
        report.failures.len()
    } else {
        FAILURES_SHOWN
    };
    for failure in report.failures.iter().take(shown) {
        println!("{prefix}    {failure}");
    }
    if report.failures.len() > shown {
        println!(
            "{prefix}    ... and {} more failures (--verbose shows all)",
            report.failures.len() - shown
        );
    }
}
