//! `shoal coverage [--json] PATH...`: compiles every CLIF test case under
//! the paths (host configurations, Pulley, the cross-ISA targets) and every
//! wasm module or wasm test case (shoal's JIT at each opt level) with rule
//! counting on, and reports per ISLE unit and per `.isle` file how many
//! rules fired, plus the first unfired rules of each file. Hit counts
//! accumulate over the whole run.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;
use shoal_isle_harvest::{RuleTable, UnitRules};
use shoal_oracles::execute::panic_message;
use shoal_runtime::clif::ClifModule;
use shoal_runtime::clif::config::ClifConfig;
use shoal_runtime::clif::sweep::{SweepPlan, SweepReport, sweep};
use shoal_runtime::coverage::{self, RuleHits};
use shoal_runtime::jit::compile::compile_module;
use shoal_runtime::jit::{JitConfig, OptLevel};
use shoal_runtime::module::Module;

/// Flags of `shoal coverage`.
#[derive(clap::Args)]
pub struct Args {
    /// CLIF files, wasm modules / test cases, or directories (searched
    /// recursively for `*.clif` and `*.wasm`).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Unfired rules to list per file.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Compile under every host configuration instead of a quick spread.
    #[arg(long)]
    all_configs: bool,
}

/// Coverage of one `.isle` file within a unit.
#[derive(Serialize)]
struct FileCoverage {
    file: String,
    fired: usize,
    total: usize,
    /// The first unfired rules, `file:line (term)`.
    unfired: Vec<String>,
}

/// Coverage of one ISLE compilation unit.
#[derive(Serialize)]
struct UnitCoverage {
    unit: String,
    /// Rules fired / total in hand-written `src/` files.
    fired: usize,
    total: usize,
    /// Including files generated into `OUT_DIR`.
    fired_all: usize,
    total_all: usize,
    files: Vec<FileCoverage>,
}

/// The whole report.
#[derive(Serialize)]
struct Report {
    files: usize,
    functions: usize,
    compiled: usize,
    errors: Vec<String>,
    known_gaps: usize,
    /// Rules that fired but are not in the harvester's table (should be
    /// empty: both sides use the same `file:line` identity).
    unmatched: Vec<String>,
    units: Vec<UnitCoverage>,
}

fn clif_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "clif" || x == "wasm") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            anyhow::bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(out)
}

/// The JIT opt levels a wasm module is compiled at.
const WASM_CONFIGS: [OptLevel; 2] = [OptLevel::None, OptLevel::Speed];

/// Compiles a wasm module (a plain module or a shoal test case, whose
/// invocations are a custom section) with shoal's JIT at each of
/// [`WASM_CONFIGS`]; returns its number of defined functions.
fn compile_wasm(bytes: &[u8]) -> anyhow::Result<usize> {
    let module = Module::new(bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    for opt in WASM_CONFIGS {
        let config = JitConfig::with_opt(opt);
        let isa = config.build_isa().map_err(|e| anyhow::anyhow!("{e}"))?;
        let compiled = catch_unwind(AssertUnwindSafe(|| compile_module(&module, &config, &*isa)))
            .map_err(|p| {
            anyhow::anyhow!(
                "Cranelift panicked compiling at {opt:?}: {}",
                panic_message(&p)
            )
        })?;
        compiled.map_err(|e| anyhow::anyhow!("compiling at {opt:?}: {e}"))?;
    }
    Ok(module.bodies.len())
}

fn unit_coverage(rules: &UnitRules, hits: &RuleHits, top: usize) -> UnitCoverage {
    let unit = rules.unit().name();
    let fired: std::collections::HashSet<String> =
        hits.in_unit(unit).map(|(r, _)| r.to_string()).collect();
    let mut files: BTreeMap<&str, FileCoverage> = BTreeMap::new();
    for site in rules.rules() {
        let entry = files
            .entry(site.id.file.as_str())
            .or_insert_with(|| FileCoverage {
                file: site.id.file.clone(),
                fired: 0,
                total: 0,
                unfired: Vec::new(),
            });
        entry.total += 1;
        if fired.contains(&site.id.to_string()) {
            entry.fired += 1;
        } else if entry.unfired.len() < top {
            entry.unfired.push(format!("{} ({})", site.id, site.term));
        }
    }
    let hand: Vec<&FileCoverage> = files
        .values()
        .filter(|f| f.file.starts_with("src/"))
        .collect();
    UnitCoverage {
        unit: unit.to_string(),
        fired: hand.iter().map(|f| f.fired).sum(),
        total: hand.iter().map(|f| f.total).sum(),
        fired_all: files.values().map(|f| f.fired).sum(),
        total_all: files.values().map(|f| f.total).sum(),
        files: files.into_values().collect(),
    }
}

fn percent(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}

fn print_text(report: &Report) {
    println!(
        "{} files, {} functions, {} compilations, {} known backend gaps",
        report.files, report.functions, report.compiled, report.known_gaps
    );
    for unit in &report.units {
        println!(
            "\n{}: {}/{} hand-written rules fired ({:.1}%), {}/{} with generated files",
            unit.unit,
            unit.fired,
            unit.total,
            percent(unit.fired, unit.total),
            unit.fired_all,
            unit.total_all
        );
        for f in &unit.files {
            println!(
                "  {:<40} {:>5}/{:<5} {:>5.1}%",
                f.file,
                f.fired,
                f.total,
                percent(f.fired, f.total)
            );
            for r in &f.unfired {
                println!("      unfired: {r}");
            }
        }
    }
    if !report.unmatched.is_empty() {
        println!("\nrules fired but missing from the rule table:");
        for r in &report.unmatched {
            println!("  {r}");
        }
    }
    for e in &report.errors {
        eprintln!("shoal coverage: {e}");
    }
}

/// Runs the coverage sweep; exits 1 if a file failed to parse or a
/// compilation failed in an undocumented way.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let report = build_report(&args)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn build_report(args: &Args) -> anyhow::Result<Report> {
    if !coverage::ENABLED {
        anyhow::bail!("this shoal was built without the `rule-coverage` feature");
    }
    if !coverage::install_logger() {
        anyhow::bail!("another logger is installed; rule coverage is unavailable");
    }
    let table = RuleTable::load().context("loading the ISLE rule table")?;
    super::repro::quiet_cranelift_panics();
    let files = clif_files(&args.paths)?;
    let plan = SweepPlan {
        host: if args.all_configs {
            ClifConfig::all_for_host()
        } else {
            ClifConfig::quick()
        },
        ..SweepPlan::default()
    };
    let mut errors = Vec::new();
    let mut functions = 0;
    let mut sweep_report = SweepReport::default();
    let ((), hits) = coverage::collect(|| {
        for path in &files {
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => {
                    errors.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            if bytes.starts_with(b"\0asm") {
                match compile_wasm(&bytes) {
                    Ok(n) => {
                        functions += n;
                        sweep_report.compiled += n * WASM_CONFIGS.len();
                    }
                    Err(e) => errors.push(format!("{}: {e}", path.display())),
                }
                continue;
            }
            let Ok(text) = String::from_utf8(bytes) else {
                errors.push(format!(
                    "{}: neither wasm nor CLIF text (not UTF-8)",
                    path.display()
                ));
                continue;
            };
            match ClifModule::parse(&text) {
                Ok(module) => {
                    functions += module.functions().len();
                    let before = sweep_report.failures.len();
                    sweep(&module, &plan, &mut sweep_report);
                    for f in &sweep_report.failures[before..] {
                        if f.known.is_none() {
                            errors.push(format!("{}: {}: {}", path.display(), f.target, f.failure));
                        }
                    }
                }
                Err(e) => errors.push(format!("{}: {e}", path.display())),
            }
        }
    });
    let known: std::collections::HashSet<String> = table
        .units()
        .iter()
        .flat_map(|u| u.rules().iter().map(|r| r.id.to_string()))
        .collect();
    let unmatched = hits
        .iter()
        .map(|(r, _)| r.to_string())
        .filter(|r| !known.contains(r))
        .collect();
    Ok(Report {
        files: files.len(),
        functions,
        compiled: sweep_report.compiled,
        known_gaps: sweep_report
            .failures
            .iter()
            .filter(|f| f.known.is_some())
            .count(),
        errors,
        unmatched,
        units: table
            .units()
            .iter()
            .map(|u| unit_coverage(u, &hits, args.top))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "function %f(i32, i32) -> i32 {
block0(v0: i32, v1: i32):
    v2 = iconst.i32 0
    v3 = iadd v0, v2
    v4 = imul v3, v1
    return v4
}";

    #[test]
    fn reports_nonzero_coverage_and_flags_bad_files() {
        let dir = std::env::temp_dir().join(format!("shoal-coverage-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        std::fs::write(dir.join("a.clif"), GOOD).unwrap();
        std::fs::write(dir.join("nested/b.clif"), GOOD.replace("%f", "%g")).unwrap();
        std::fs::write(dir.join("nested/notes.txt"), "not clif").unwrap();
        let text = "(module (func (export \"f\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rotl))";
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        let mut wat: wast::Wat = wast::parser::parse(&buf).unwrap();
        let wasm = wat.encode().unwrap();
        std::fs::write(dir.join("c.wasm"), wasm).unwrap();
        let args = Args {
            paths: vec![dir.clone()],
            json: false,
            top: 3,
            all_configs: false,
        };
        let report = build_report(&args).unwrap();
        assert_eq!((report.files, report.functions), (3, 3));
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(report.unmatched.is_empty(), "{:?}", report.unmatched);
        for unit in ["x64", "pulley", "opt"] {
            let u = report.units.iter().find(|u| u.unit == unit).unwrap();
            assert!(
                u.fired > 0 && u.fired < u.total,
                "{unit}: {}/{}",
                u.fired,
                u.total
            );
            assert!(u.files.iter().all(|f| f.unfired.len() <= 3));
        }
        // A file that does not parse is an error (exit 1), not a panic.
        std::fs::write(dir.join("bad.clif"), "function %f(").unwrap();
        let report = build_report(&args).unwrap();
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        std::fs::remove_dir_all(&dir).unwrap();
        // A missing path is a clear error.
        let missing = Args {
            paths: vec![dir],
            ..args
        };
        assert!(build_report(&missing).is_err());
    }
}
