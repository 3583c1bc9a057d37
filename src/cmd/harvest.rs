//! `shoal harvest`: turns Cranelift's ISLE rules into verified seeds.
//!
//! Without flags it regenerates `corpus/` (seed files and `MANIFEST.tsv`).
//! `--check` regenerates in memory and exits 1 when the checked-in corpus
//! differs; `--report [--json]` prints per-file rule/pattern/seed counts and
//! the extern extractors and constructors shoal has no handler for.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use shoal_isle_harvest::harvest::{HarvestOptions, harvest};
use shoal_isle_harvest::report::Report;
use shoal_isle_harvest::{IsleSources, Unit, corpus};

/// Flags of `shoal harvest`.
#[derive(clap::Args)]
pub struct Args {
    /// Corpus directory (default: the repository's `corpus/`).
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Read the hand-written ISLE files from this Cranelift checkout (the
    /// `cranelift-codegen` crate root or a wasmtime checkout) instead of the
    /// pinned crate.
    #[arg(long, value_name = "DIR")]
    cranelift_src: Option<PathBuf>,
    /// Exit 1 if the corpus is not what a harvest produces now (the
    /// differences go to stderr; with `--report`, the report is printed
    /// too).
    #[arg(long)]
    check: bool,
    /// Print the per-file report instead of writing the corpus.
    #[arg(long)]
    report: bool,
    /// With `--report`: print JSON.
    #[arg(long, requires = "report")]
    json: bool,
    /// Only these units (comma-separated: x64, aarch64, riscv64, s390x,
    /// pulley, opt). Only with `--report`: the corpus needs every unit.
    #[arg(
        long,
        value_delimiter = ',',
        requires = "report",
        conflicts_with = "check"
    )]
    units: Vec<String>,
    /// With `--report`: write a reproducing filetest for each distinct
    /// Cranelift panic met while verifying into this directory.
    #[arg(long, value_name = "DIR", requires = "report")]
    panics: Option<PathBuf>,
    /// Extract patterns only; skip instantiation and verification (with
    /// `--report`: measures the harvest itself).
    #[arg(long, requires = "report", conflicts_with = "check")]
    no_verify: bool,
}

/// Runs the harvest.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let sources = match &args.cranelift_src {
        Some(dir) => IsleSources::from_checkout(dir)?,
        None => IsleSources::embedded(),
    };
    let mut opts = HarvestOptions {
        verify: !args.no_verify,
        ..HarvestOptions::default()
    };
    if !args.units.is_empty() {
        opts.units = args
            .units
            .iter()
            .map(|u| u.parse::<Unit>())
            .collect::<Result<_, _>>()?;
    }
    let start = Instant::now();
    let h = harvest(&sources, &opts)?;
    let elapsed = start.elapsed();
    if let Some(dir) = &args.panics {
        let n = write_panics(dir, &h)?;
        eprintln!(
            "wrote {n} Cranelift panic reproductions to {}",
            dir.display()
        );
    }
    if args.report {
        let report = Report::new(&h);
        if args.json {
            println!("{}", report.to_json());
        } else {
            print!("{}", report.to_text());
            println!(
                "\nharvest took {:.2} s{}",
                elapsed.as_secs_f64(),
                if opts.verify {
                    " (with verification)"
                } else {
                    ""
                }
            );
        }
        if !args.check {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let dir = args
        .corpus
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let files = corpus::render(&h);
    if args.check {
        let diffs = corpus::check(&dir, &files)?;
        if diffs.is_empty() {
            eprintln!(
                "corpus {} is current ({} files)",
                dir.display(),
                files.len()
            );
            return Ok(ExitCode::SUCCESS);
        }
        for d in diffs.iter().take(20) {
            eprintln!("{d}");
        }
        if diffs.len() > 20 {
            eprintln!("... and {} more", diffs.len() - 20);
        }
        eprintln!(
            "corpus {} is stale ({} differences): run `shoal harvest`",
            dir.display(),
            diffs.len()
        );
        return Ok(ExitCode::from(1));
    }
    corpus::write(&dir, &files).with_context(|| format!("writing {}", dir.display()))?;
    println!(
        "wrote {} seeds and {} to {} in {:.2} s",
        h.seeds.len(),
        corpus::MANIFEST,
        dir.display(),
        elapsed.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// One filetest per distinct (rule, first message line) panic.
fn write_panics(
    dir: &std::path::Path,
    h: &shoal_isle_harvest::harvest::Harvest,
) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut seen = std::collections::BTreeSet::new();
    for p in &h.panics {
        let first = p.message.lines().next().unwrap_or("").to_string();
        if !seen.insert((p.rule.clone(), first.clone())) {
            continue;
        }
        let text = format!(
            "; Cranelift panicked: {first}\n; while verifying a seed for {}\n{}",
            p.rule, p.filetest
        );
        let name = format!(
            "panic-{:016x}.clif",
            shoal_isle_harvest::harvest::fnv1a(text.as_bytes())
        );
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(seen.len())
}
