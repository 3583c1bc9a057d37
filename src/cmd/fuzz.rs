//! `shoal fuzz`: the main job. Interleaves the generators, judges every case
//! on every execution, writes findings atomically into `./findings/`, shows
//! progress once a second and ends with a summary (`--json`: one JSON
//! object on stdout). Ctrl-C stops cleanly: workers finish their case.
//!
//! Rule-coverage guidance is on by default: the `rule-guided` generator
//! aims each of its cases at a rule that has fired rarely or not at all
//! (see `shoal_oracles::guidance`), fed by the live hit counts of every
//! generator's cases. `--no-guidance` keeps the generator but makes it
//! pick rules blindly, for comparison.

mod guide;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shoal_generators::GeneratorKind;
use shoal_isle_harvest::{RuleTable, Unit};
use shoal_oracles::campaign::{self, CampaignConfig, Stats, Target};
use shoal_oracles::engines::{self, EngineKind};
use shoal_oracles::guidance::Guide;
use shoal_oracles::targets::{
    ClifTarget, RuleGuidedTarget, SharedHits, WasmTarget, campaign_limits,
};
use shoal_oracles::wasm::WasmOracle;
use shoal_runtime::coverage::{RuleHits, install_logger};
use shoal_runtime::jit::JitConfig;

/// A generator the campaign can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Generator {
    /// Instruction-first wasm generator.
    InstructionFirst,
    /// Cases aimed at rarely fired ISLE rules: corpus seeds, their
    /// mutations and fresh instances of the rules' patterns.
    RuleGuided,
    /// wasm-smith baseline (not in the default interleaving).
    Smith,
    /// Instruction-first CLIF generator (lowering and mid-end executors).
    Clif,
}

/// The default interleaving: every shoal generator (the wasm-smith
/// baseline only on request).
const DEFAULT_GENERATORS: [Generator; 3] = [
    Generator::InstructionFirst,
    Generator::RuleGuided,
    Generator::Clif,
];

/// Flags of `shoal fuzz`.
#[derive(clap::Args)]
pub struct Args {
    /// Stop after this many seconds (0: until Ctrl-C or --execs).
    #[arg(long, default_value_t = 60)]
    time: u64,
    /// Stop after this many test cases.
    #[arg(long)]
    execs: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Generators to interleave (repeatable; default: instruction-first,
    /// rule-guided and clif).
    #[arg(long = "generator", value_enum)]
    generators: Vec<Generator>,
    /// Base seed (same seed and jobs: same cases; with guidance and more
    /// than one job, the order in which coverage arrives also matters).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where findings are written.
    #[arg(long, default_value = "findings")]
    findings: PathBuf,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Let the rule-guided generator pick rules blindly instead of by how
    /// rarely they have fired (for measuring what guidance buys).
    #[arg(long)]
    no_guidance: bool,
    /// Seed corpus of the rule-guided generator (`MANIFEST.tsv` and seed
    /// files, as `shoal harvest` writes them; default: `./corpus`, else
    /// the source checkout's). Without one, rules' patterns alone are used.
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// Wasm executions to compare, comma-separated engine names (the first
    /// is the reference), e.g. `interp,jit:opt=none,jit:opt=speed,wasmtime`;
    /// default: the interpreter, the JIT at opt none and speed (explicit
    /// bounds checks) and at speed with guard pages, and every external
    /// engine compiled in (cargo features `wasmtime`, `wasmi`).
    #[arg(long, value_name = "LIST")]
    engines: Option<String>,
    /// Seconds to spend reducing each new finding before writing it (0:
    /// write findings unreduced). A reduction may outlast --time by this.
    #[arg(long, default_value_t = 10.0)]
    reduce_time: f64,
    /// Test only: add a JIT that miscompiles a wasm operator
    /// (`op->clif_opcode`, e.g. `i32.add->isub`).
    #[arg(long, value_name = "OP->OPCODE", hide = true)]
    inject_fault: Option<String>,
}

/// Runs the campaign.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let gens = if args.generators.is_empty() {
        DEFAULT_GENERATORS.to_vec()
    } else {
        args.generators.clone()
    };
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    anyhow::ensure!(jobs > 0, "--jobs must be at least 1");
    let config = CampaignConfig {
        jobs,
        time: (args.time > 0).then(|| Duration::from_secs(args.time)),
        execs: args.execs,
        seed: args.seed,
        findings_dir: args.findings.clone(),
        reduce: triage_budget(args.reduce_time)?,
        repro_flags: args
            .inject_fault
            .as_ref()
            .map(|f| format!("--inject-fault '{f}'"))
            .unwrap_or_default(),
    };
    let fault = args
        .inject_fault
        .as_deref()
        .map(super::repro::parse_fault)
        .transpose()?;
    let engines = wasm_engine_kinds(args.engines.as_deref(), fault)?;
    campaign::check_findings_dir(&args.findings)
        .map_err(|e| anyhow::anyhow!("findings directory {}: {e}", args.findings.display()))?;
    let table =
        RuleTable::load().map_err(|e| anyhow::anyhow!("loading the ISLE rule table: {e}"))?;
    let guide = if gens.contains(&Generator::RuleGuided) {
        let (guide, corpus) = guide::build(&table, args.corpus.as_deref(), !args.no_guidance)?;
        if corpus.is_none() && !args.json {
            eprintln!("shoal fuzz: no corpus found; rule-guided cases come from patterns only");
        }
        Some(guide)
    } else {
        None
    };
    install_logger();
    super::repro::quiet_cranelift_panics();
    let stop = super::stop_on_ctrl_c();

    let stats = Arc::new(Stats::default());
    let hits: SharedHits = Arc::new(Mutex::new(RuleHits::new()));
    let start = Instant::now();
    let done = AtomicBool::new(false);
    // Ends the progress line even if the campaign panics (a shoal bug),
    // so the panic reaches the user instead of a hang.
    struct Done<'a>(&'a AtomicBool);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    std::thread::scope(|s| {
        s.spawn(|| progress_loop(&stats, &hits, &table, start, &done));
        if let Some(g) = &guide {
            s.spawn(|| {
                if let Err(e) = guide::extract_patterns(g)
                    && let Ok(mut m) = stats.messages.lock()
                {
                    m.push(format!("rule-guided: no patterns ({e:#}); seeds only"));
                }
            });
        }
        let _done = Done(&done);
        campaign::run(&config, stop, &stats, |_| {
            make_targets(&gens, &hits, guide.as_ref(), &engines)
        });
    });
    eprintln!();
    print_messages(&stats);
    let summary = summary(&stats, &hits, &table, guide.as_deref(), start.elapsed());
    if args.json {
        println!("{summary}");
    } else {
        print_summary(&summary);
    }
    Ok(ExitCode::SUCCESS)
}

/// The reduction budget for `--reduce-time` seconds (`None` for 0).
fn triage_budget(secs: f64) -> anyhow::Result<Option<shoal_oracles::reduce::Budget>> {
    anyhow::ensure!(
        secs.is_finite() && secs >= 0.0,
        "--reduce-time must be a number of seconds (0 disables reduction)"
    );
    Ok((secs > 0.0).then(|| shoal_oracles::reduce::Budget {
        time: Duration::from_secs_f64(secs),
        ..Default::default()
    }))
}

/// The wasm executions of the campaign: `--engines` (or the default set),
/// plus the miscompiling JIT of a test-only `fault`. Every one must build
/// on this host; an explicit list must name at least two.
fn wasm_engine_kinds(
    list: Option<&str>,
    fault: Option<JitConfig>,
) -> anyhow::Result<Vec<EngineKind>> {
    let mut kinds = match list {
        Some(text) => {
            let kinds =
                EngineKind::parse_list(text).map_err(|e| anyhow::anyhow!("--engines: {e}"))?;
            anyhow::ensure!(
                kinds.len() >= 2,
                "--engines: name at least two executions to compare (got {text:?})"
            );
            kinds
        }
        None => engines::default_set(),
    };
    if list.is_none() {
        // A default JIT configuration this CPU cannot run is left out.
        kinds.retain(|k| k.build().is_ok());
    }
    if let Some(f) = fault {
        kinds.push(EngineKind::Jit(f));
    }
    let (_, errors) = engines::build_all(&kinds);
    if let Some(e) = errors.first() {
        anyhow::bail!("--engines: {e}");
    }
    Ok(kinds)
}

/// One worker's targets; wasm cases are judged on `engines`.
fn make_targets(
    gens: &[Generator],
    hits: &SharedHits,
    guide: Option<&Arc<Guide>>,
    engines: &[EngineKind],
) -> Vec<Box<dyn Target>> {
    let oracle = || {
        WasmOracle::from_kinds(engines, campaign_limits())
            .expect("the engines were built once before the campaign started")
    };
    gens.iter()
        .filter_map(|g| -> Option<Box<dyn Target>> {
            match g {
                Generator::InstructionFirst => Some(Box::new(WasmTarget::with_oracle(
                    GeneratorKind::Wasm,
                    "instruction-first",
                    oracle(),
                    hits.clone(),
                ))),
                Generator::Smith => Some(Box::new(WasmTarget::with_oracle(
                    GeneratorKind::Smith,
                    "smith",
                    oracle(),
                    hits.clone(),
                ))),
                Generator::Clif => Some(Box::new(ClifTarget::new(hits.clone()))),
                Generator::RuleGuided => Some(Box::new(RuleGuidedTarget::new(
                    guide?.clone(),
                    oracle(),
                    hits.clone(),
                ))),
            }
        })
        .collect()
}

/// Fired and total hand-written rule sites of a unit (a rule counts for
/// the unit whose compilation fired it: a shared prelude rule fired while
/// compiling for Pulley does not count for x64).
fn unit_coverage(table: &RuleTable, hits: &SharedHits, unit: Unit) -> (usize, usize) {
    let fired: BTreeSet<String> = hits
        .lock()
        .map(|h| h.in_unit(unit.name()).map(|(r, _)| r.to_string()).collect())
        .unwrap_or_default();
    let rules = table.unit(unit).hand_written();
    let (mut f, mut total) = (0, 0);
    for r in rules {
        total += 1;
        if fired.contains(&r.id.to_string()) {
            f += 1;
        }
    }
    (f, total)
}

fn progress_loop(
    stats: &Stats,
    hits: &SharedHits,
    table: &RuleTable,
    start: Instant,
    done: &AtomicBool,
) {
    let mut next = Duration::from_secs(1);
    while !done.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
        if start.elapsed() < next || done.load(Ordering::SeqCst) {
            continue;
        }
        next += Duration::from_secs(1);
        let (x, xt) = unit_coverage(table, hits, Unit::X64);
        let (o, ot) = unit_coverage(table, hits, Unit::Opt);
        let execs = stats.execs.load(Ordering::Relaxed);
        let secs = start.elapsed().as_secs_f64();
        eprint!(
            "\r[{secs:6.0}s] {execs} cases ({:.0}/s), inconclusive {:.1}%, findings {} | x64 {x}/{xt} opt {o}/{ot}   ",
            execs as f64 / secs.max(1e-9),
            100.0 * stats.inconclusive.load(Ordering::Relaxed) as f64 / execs.max(1) as f64,
            stats.findings.load(Ordering::Relaxed),
        );
    }
}

fn print_messages(stats: &Stats) {
    if let Ok(m) = stats.messages.lock() {
        for line in m.iter().take(50) {
            eprintln!("{line}");
        }
        if m.len() > 50 {
            eprintln!("... and {} more messages", m.len() - 50);
        }
    }
}

fn summary(
    stats: &Stats,
    hits: &SharedHits,
    table: &RuleTable,
    guide: Option<&Guide>,
    elapsed: Duration,
) -> serde_json::Value {
    let mut coverage = serde_json::Map::new();
    for unit in Unit::ALL {
        let (f, t) = unit_coverage(table, hits, unit);
        coverage.insert(
            unit.name().to_string(),
            serde_json::json!({"fired": f, "total": t}),
        );
    }
    let execs = stats.execs.load(Ordering::Relaxed);
    let first = stats.first_finding_ms.load(Ordering::Relaxed);
    let generators: serde_json::Map<String, serde_json::Value> = stats
        .per_generator
        .lock()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
                .collect()
        })
        .unwrap_or_default();
    let guidance = match guide {
        Some(g) => {
            let s = g.summary();
            serde_json::json!({
                "guided": s.guided,
                "rules": s.rules,
                "candidates": s.candidates,
                "unfired_candidates": s.unfired,
                "cases": s.cases,
                "on_target": s.on_target,
                "corpus_seeds": g.catalog().seeds().len(),
            })
        }
        None => serde_json::Value::Null,
    };
    serde_json::json!({
        "execs": execs,
        "execs_per_sec": execs as f64 / elapsed.as_secs_f64().max(1e-9),
        "findings": stats.findings.load(Ordering::Relaxed),
        "duplicates": stats.duplicates.load(Ordering::Relaxed),
        "first_finding_s": if first == 0 { serde_json::Value::Null } else { serde_json::json!(first as f64 / 1000.0) },
        "inconclusive": stats.inconclusive.load(Ordering::Relaxed),
        "invalid": stats.invalid.load(Ordering::Relaxed),
        "elapsed_s": elapsed.as_secs_f64(),
        "coverage": coverage,
        "generators": generators,
        "guidance": guidance,
    })
}

fn print_summary(s: &serde_json::Value) {
    println!(
        "shoal fuzz: {} cases in {:.1} s ({:.0}/s), {} findings ({} duplicates), {} inconclusive, {} invalid",
        s["execs"],
        s["elapsed_s"].as_f64().unwrap_or(0.0),
        s["execs_per_sec"].as_f64().unwrap_or(0.0),
        s["findings"],
        s["duplicates"],
        s["inconclusive"],
        s["invalid"]
    );
    if let Some(cov) = s["coverage"].as_object() {
        for (unit, c) in cov {
            println!(
                "  rule coverage {unit}: {}/{} hand-written rule sites fired",
                c["fired"], c["total"]
            );
        }
    }
    if let Some(g) = s["generators"].as_object() {
        for (name, n) in g {
            println!("  generator {name}: {n} cases");
        }
    }
    let g = &s["guidance"];
    if g.is_object() {
        println!(
            "  guidance {}: {} guided cases, {} fired the rule they aimed at; {} of {} instantiable rules still unfired",
            if g["guided"].as_bool() == Some(true) {
                "on"
            } else {
                "off (blind)"
            },
            g["cases"],
            g["on_target"],
            g["unfired_candidates"],
            g["candidates"]
        );
    }
}
