//! A differential campaign over any set of engine kinds, and its
//! throughput: generates wasm test cases (instruction-first and/or
//! wasm-smith), judges each on every execution of the set, writes findings,
//! and prints counts and test cases per second per core.
//!
//! ```sh
//! cargo run --release -p shoal-oracles --example differential -- \
//!     --cases 20000 --generators wasm,smith --jobs 1
//! cargo run --release -p shoal-oracles --features wasmtime,wasmi \
//!     --example differential -- --cases 2000 --engines interp,wasmtime,wasmi
//! ```
//!
//! With `--case FILE` it judges that one serialized test case instead (a
//! finding's `case.wasm`, a corpus or regression file) and prints every
//! execution's outcomes and the verdict.
//!
//! Flags: `--cases N` (default 2000), `--generators wasm,smith` (default
//! both), `--engines <list>` (default `engines::default_set()`: the
//! interpreter, three JIT configurations and every external engine compiled
//! in), `--jobs N` (default 1), `--seed N`, `--findings DIR` (default
//! `findings`), `--fuel N` (per invocation, default the campaign's).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use shoal_generators::{GeneratorKind, TestCase, WasmCase};
use shoal_oracles::campaign::{self, CampaignConfig, CaseResult, Stats, Target};
use shoal_oracles::compare::Fidelity;
use shoal_oracles::engines::{EngineKind, default_set};
use shoal_oracles::targets::campaign_limits;
use shoal_oracles::verdict::{Cut, Verdict, exhaustion_cut, reference_index};
use shoal_oracles::wasm::{WasmOracle, describe, finding, render_execution};
use shoal_runtime::Limits;
use shoal_runtime::coverage::{collect, install_logger};

struct Options {
    case: Option<PathBuf>,
    cases: u64,
    generators: Vec<GeneratorKind>,
    engines: Vec<EngineKind>,
    jobs: usize,
    seed: u64,
    findings: PathBuf,
    limits: Limits,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        case: None,
        cases: 2000,
        generators: vec![GeneratorKind::Wasm, GeneratorKind::Smith],
        engines: default_set(),
        jobs: 1,
        seed: 0,
        findings: PathBuf::from("findings"),
        limits: campaign_limits(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--case" => o.case = Some(PathBuf::from(value()?)),
            "--cases" => o.cases = number(value()?)?,
            "--jobs" => o.jobs = number(value()?)?.max(1) as usize,
            "--seed" => o.seed = number(value()?)?,
            "--fuel" => o.limits.fuel = Some(number(value()?)?),
            "--findings" => o.findings = PathBuf::from(value()?),
            "--engines" => o.engines = EngineKind::parse_list(&value()?)?,
            "--generators" => {
                o.generators = value()?
                    .split(',')
                    .map(|g| match g.trim() {
                        "wasm" | "instruction-first" => Ok(GeneratorKind::Wasm),
                        "smith" => Ok(GeneratorKind::Smith),
                        other => Err(format!("unknown wasm generator {other:?} (wasm, smith)")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    if o.engines.len() < 2 {
        return Err("--engines needs at least two engines".into());
    }
    Ok(o)
}

/// Outcome tallies beyond the campaign's own counters.
#[derive(Default)]
struct Tally {
    /// Inconclusive cases by reason (first 60 characters).
    inconclusive: BTreeMap<String, u64>,
    /// Cases in which some external execution was compared on a prefix or
    /// not at all because of fuel or call-depth exhaustion.
    external_cut: u64,
    /// Executions run.
    executions: u64,
}

struct KindsTarget {
    kind: GeneratorKind,
    oracle: WasmOracle,
    tally: Arc<Mutex<Tally>>,
}

impl KindsTarget {
    fn judge_wasm(&self, case: &WasmCase) -> CaseResult {
        let (report, hits) = collect(|| self.oracle.run(&case.module, &case.invocations));
        let report = match report {
            Ok(r) => r,
            Err(e) => return CaseResult::Invalid(e.to_string()),
        };
        if let Ok(mut t) = self.tally.lock() {
            t.executions += report.executions.len() as u64;
            let reference = reference_index(&report.fidelity);
            let cut = report.fidelity.contains(&Fidelity::External)
                && report
                    .executions
                    .iter()
                    .zip(&report.fidelity)
                    .enumerate()
                    .any(|(i, (e, f))| {
                        (i == reference || *f == Fidelity::External)
                            && exhaustion_cut(e) != Cut::Nothing
                    });
            t.external_cut += u64::from(cut);
            if let Verdict::Inconclusive(why) = &report.verdict {
                let key: String = why.chars().take(60).collect();
                *t.inconclusive.entry(key).or_default() += 1;
            }
        }
        match &report.verdict {
            Verdict::Agree => CaseResult::Agree,
            Verdict::Inconclusive(why) => CaseResult::Inconclusive(why.clone()),
            Verdict::Discrepancy(d) => {
                let bytes = TestCase::Wasm(case.clone()).to_bytes();
                let mut f = finding(&report, d, &case.module, &case.invocations, bytes);
                f.rules = hits.iter().map(|(r, _)| r.to_string()).collect();
                CaseResult::Finding(Box::new(f))
            }
        }
    }
}

impl Target for KindsTarget {
    fn name(&self) -> &'static str {
        match self.kind {
            GeneratorKind::Smith => "smith",
            _ => "instruction-first",
        }
    }

    fn generate(&mut self, seed: u64) -> TestCase {
        self.kind.generate_from_seed(seed)
    }

    fn judge(&mut self, case: &TestCase) -> CaseResult {
        match case {
            TestCase::Wasm(w) => self.judge_wasm(w),
            TestCase::Clif(_) => CaseResult::Invalid("a CLIF case in a wasm campaign".into()),
        }
    }
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("differential: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = WasmOracle::from_kinds(&o.engines, o.limits) {
        eprintln!("differential: {e}");
        return ExitCode::from(2);
    }
    if let Some(path) = &o.case {
        return judge_file(&o, path);
    }
    install_logger();
    let names: Vec<String> = o.engines.iter().map(|k| k.to_string()).collect();
    eprintln!("engines: {}", names.join(" "));
    let config = CampaignConfig {
        jobs: o.jobs,
        time: None,
        execs: Some(o.cases),
        seed: o.seed,
        findings_dir: o.findings.clone(),
        reduce: None,
        repro_flags: String::new(),
    };
    let stats = Arc::new(Stats::default());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    campaign::run(&config, &AtomicBool::new(false), &stats, |_| {
        o.generators
            .iter()
            .map(|&kind| -> Box<dyn Target> {
                let oracle = WasmOracle::from_kinds(&o.engines, o.limits)
                    .unwrap_or_else(|e| panic!("engines built once already: {e}"));
                Box::new(KindsTarget {
                    kind,
                    oracle,
                    tally: tally.clone(),
                })
            })
            .collect()
    });
    report(&o, &stats, &tally, start.elapsed().as_secs_f64());
    if stats.findings.load(Ordering::Relaxed) > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Judges one case file and prints the outcomes; exit 1 on a discrepancy.
fn judge_file(o: &Options, path: &std::path::Path) -> ExitCode {
    let case = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| TestCase::from_bytes(&b).map_err(|e| e.to_string()))
    {
        Ok(TestCase::Wasm(c)) => c,
        Ok(TestCase::Clif(_)) => {
            eprintln!("differential: {} is a CLIF case", path.display());
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("differential: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let oracle = match WasmOracle::from_kinds(&o.engines, o.limits) {
        Ok(oracle) => oracle,
        Err(e) => {
            eprintln!("differential: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match oracle.run(&case.module, &case.invocations) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("differential: invalid case: {e}");
            return ExitCode::from(2);
        }
    };
    for (name, e) in report.names.iter().zip(&report.executions) {
        println!("{name}: {}", render_execution(e));
    }
    match &report.verdict {
        Verdict::Discrepancy(d) => {
            println!("discrepancy: {}", describe(&report, d, &case.invocations));
            ExitCode::from(1)
        }
        v => {
            println!("{v:?}");
            ExitCode::SUCCESS
        }
    }
}

fn report(o: &Options, stats: &Stats, tally: &Mutex<Tally>, secs: f64) {
    let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let cases = n(&stats.execs);
    if let Ok(m) = stats.messages.lock() {
        for line in m.iter().take(30) {
            eprintln!("{line}");
        }
    }
    println!("engines: {}", o.engines.len());
    println!("cases: {cases} in {secs:.1}s with {} job(s)", o.jobs);
    if let Ok(g) = stats.per_generator.lock() {
        for (name, count) in g.iter() {
            println!("  {name}: {count}");
        }
    }
    println!(
        "findings: {} new, {} duplicates; inconclusive: {}; invalid: {}",
        n(&stats.findings),
        n(&stats.duplicates),
        n(&stats.inconclusive),
        n(&stats.invalid)
    );
    if let Ok(t) = tally.lock() {
        println!(
            "executions: {} ({:.2} per case); cases with an external execution cut by fuel/depth: {}",
            t.executions,
            t.executions as f64 / cases.max(1) as f64,
            t.external_cut
        );
        for (why, count) in &t.inconclusive {
            println!("  inconclusive x{count}: {why}");
        }
    }
    println!(
        "throughput: {:.1} cases/s per core",
        cases as f64 / secs.max(1e-9) / o.jobs as f64
    );
}
