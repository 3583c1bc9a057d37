//! `shoal repro FILE [--target T]`: replays one test case — a `.wasm` test
//! case, a CLIF filetest, or a libFuzzer crash input (raw bytes, decoded by
//! the generator of `--target` exactly as the fuzz target decodes them) —
//! on every execution, prints the outcome table (execution × invocation)
//! and what differs. The verdict comes from the campaign's own
//! `Target::judge`, so the signature printed is the one `shoal fuzz` files
//! findings under. Exit status: 0 when the executions agree (or the case
//! is inconclusive), 1 on a discrepancy, 2 on bad input.
//!
//! Also home of what `repro`, `reduce` and `fuzz` share: choosing a target
//! by name, decoding input files, and the test-only fault injection.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use shoal_generators::{GeneratorKind, TestCase, WasmCase};
use shoal_oracles::campaign::{CaseResult, Target};
use shoal_oracles::finding::Finding;
use shoal_oracles::fuzzing::clif::ClifJudge;
use shoal_oracles::replay;
use shoal_oracles::targets::{
    CLIF_FUEL, ClifTarget, SharedHits, WasmTarget, campaign_limits, default_wasm_engines,
};
use shoal_oracles::verdict::Verdict;
use shoal_oracles::wasm::{WasmOracle, finding as wasm_finding};
use shoal_runtime::clif::differential::Executor;
use shoal_runtime::coverage::{RuleHits, collect};
use shoal_runtime::engine::Engine;
use shoal_runtime::jit::{JitConfig, JitEngine, OptLevel};

/// A fuzz target: which generator decodes raw inputs, which oracle judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum TargetName {
    /// Instruction-first wasm generator, wasm differential oracle.
    WasmDiff,
    /// wasm-smith generator, wasm differential oracle.
    WasmSmithDiff,
    /// CLIF generator; the reference interpreter against native code and
    /// Pulley at `opt_level=none`, plus compile checks per header target.
    ClifLower,
    /// CLIF generator; the reference interpreter against the mid-end and
    /// native code at `opt_level=speed`, plus compile checks.
    ClifOpt,
    /// CLIF generator; the executors `shoal fuzz` judges CLIF with (the
    /// default for CLIF test cases).
    Clif,
}

impl TargetName {
    /// The generator that decodes raw bytes for this target.
    pub fn generator(self) -> GeneratorKind {
        match self {
            TargetName::WasmDiff => GeneratorKind::Wasm,
            TargetName::WasmSmithDiff => GeneratorKind::Smith,
            TargetName::ClifLower | TargetName::ClifOpt | TargetName::Clif => GeneratorKind::Clif,
        }
    }

    /// The target that judges a serialized case of this kind.
    pub fn for_case(case: &TestCase) -> TargetName {
        match case {
            TestCase::Wasm(_) => TargetName::WasmDiff,
            TestCase::Clif(_) => TargetName::Clif,
        }
    }

    fn label(self) -> &'static str {
        match self {
            TargetName::WasmDiff => "wasm_diff",
            TargetName::WasmSmithDiff => "wasm_smith_diff",
            TargetName::ClifLower => "clif_lower",
            TargetName::ClifOpt => "clif_opt",
            TargetName::Clif => "clif",
        }
    }
}

/// Flags of `shoal repro`.
#[derive(clap::Args)]
pub struct Args {
    /// A `.wasm` or `.clif` test case, or a libFuzzer input (with --target).
    file: PathBuf,
    /// The fuzz target the input is for (required for raw libFuzzer
    /// inputs; inferred for test cases).
    #[arg(long, value_enum)]
    target: Option<TargetName>,
    /// Write the decoded test case here (useful for libFuzzer inputs).
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Test only: add a JIT that miscompiles a wasm operator
    /// (`op->clif_opcode`, e.g. `i32.add->isub`).
    #[arg(long, value_name = "OP->OPCODE", hide = true)]
    inject_fault: Option<String>,
}

/// Replays the case; see the module docs for the exit status.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    quiet_cranelift_panics();
    let fault = args.inject_fault.as_deref().map(parse_fault).transpose()?;
    let (case, target_name) = load_case(&args.file, args.target)?;
    if let Some(path) = &args.save {
        write_atomically(path, &case.to_bytes())?;
        println!("decoded test case written to {}", path.display());
    }
    let size = shoal_oracles::reduce::size(&case);
    println!(
        "{}: {} test case, {size}, target {}",
        args.file.display(),
        case.extension(),
        target_name.label()
    );
    print_table(&case, target_name, fault)?;
    let mut target = make_target(target_name, fault, new_hits());
    let (result, hits) = collect(|| target.judge(&case));
    println!("ISLE rules fired while compiling: {}", hits.iter().count());
    Ok(match result {
        CaseResult::Agree => {
            println!("verdict: all executions agree");
            ExitCode::SUCCESS
        }
        CaseResult::Inconclusive(why) => {
            println!("verdict: inconclusive ({why}); nothing to compare");
            ExitCode::SUCCESS
        }
        CaseResult::Invalid(why) => bail!("the test case cannot run: {why}"),
        CaseResult::Finding(f) => {
            print_finding(&f);
            ExitCode::from(1)
        }
    })
}

fn print_finding(f: &Finding) {
    println!("verdict: DISCREPANCY — {}", f.title);
    println!("  reference:   {}", f.reference);
    println!("  disagreeing: {}", f.odd.join(", "));
    println!("  difference:  {}", f.difference);
    println!("  signature:   {}", f.signature);
}

/// Prints every execution's outcome per invocation.
fn print_table(case: &TestCase, name: TargetName, fault: Option<JitConfig>) -> anyhow::Result<()> {
    let table = match case {
        TestCase::Wasm(w) => {
            let oracle = WasmOracle::new(wasm_engines(fault), campaign_limits());
            match replay::wasm_table(&oracle, w) {
                Ok((table, report)) => {
                    if let Verdict::Inconclusive(why) = &report.verdict {
                        println!("(inconclusive executions: {why})");
                    }
                    table
                }
                Err(e) => bail!("the test case cannot run: {e}"),
            }
        }
        TestCase::Clif(c) => {
            let executors = match name {
                TargetName::ClifLower => ClifJudge::lower().executors_for(c),
                TargetName::ClifOpt => ClifJudge::opt().executors_for(c),
                _ => Executor::default_set(),
            };
            replay::clif_table(&c.to_text(), &executors, CLIF_FUEL)
                .map_err(|e| anyhow::anyhow!("the test case cannot run: {e}"))?
        }
    };
    print!("{}", table.to_text());
    Ok(())
}

/// Reads and decodes an input file: a serialized test case, or (with a
/// target) raw fuzz input decoded the way that target's fuzzer would.
pub fn load_case(
    path: &Path,
    target: Option<TargetName>,
) -> anyhow::Result<(TestCase, TargetName)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    match target {
        Some(t) => Ok((TestCase::from_fuzz_input(t.generator(), &bytes), t)),
        None => {
            let case = TestCase::from_bytes(&bytes).with_context(|| {
                format!(
                    "{} is not a test case (for a raw libFuzzer input, pass --target)",
                    path.display()
                )
            })?;
            let t = TargetName::for_case(&case);
            Ok((case, t))
        }
    }
}

/// Silences the panic messages of Cranelift itself: shoal catches those
/// panics and reports them as compile failures, so printing each one (a
/// reducer may meet hundreds) only buries the output. Other panics still
/// print as usual.
pub fn quiet_cranelift_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_cranelift = info.location().is_some_and(|l| {
            let file = l.file();
            file.contains("cranelift-") || file.contains("/out/isle_") || file.contains("regalloc2")
        });
        if !in_cranelift {
            default(info);
        }
    }));
}

/// A fresh, unshared rule-hit counter.
pub fn new_hits() -> SharedHits {
    Arc::new(Mutex::new(RuleHits::new()))
}

/// Parses a `--inject-fault` spec into the faulty JIT's configuration.
pub fn parse_fault(spec: &str) -> anyhow::Result<JitConfig> {
    let config: JitConfig = format!("jit(fault={spec})")
        .parse()
        .map_err(|e: String| anyhow::anyhow!("bad --inject-fault {spec:?}: {e}"))?;
    let fault = config
        .inject_fault
        .with_context(|| format!("bad --inject-fault {spec:?}"))?;
    let op = shoal_runtime::jit::optable::by_name(fault.wasm)
        .with_context(|| format!("bad --inject-fault {spec:?}: unknown operator"))?;
    let types_fit = fault
        .emit
        .constraints()
        .ctrl_typeset()
        .is_none_or(|set| set.contains(op.ty));
    if op.clif.format() != fault.emit.format() || !types_fit {
        bail!(
            "bad --inject-fault {spec:?}: {} cannot stand in for {} (operand shape or type differs)",
            fault.emit,
            op.clif
        );
    }
    Ok(JitConfig {
        opt: OptLevel::Speed,
        ..config
    })
}

/// The campaign's wasm engines, plus the faulty JIT when injecting.
pub fn wasm_engines(fault: Option<JitConfig>) -> Vec<Box<dyn Engine>> {
    let mut engines = default_wasm_engines();
    if let Some(config) = fault
        && let Ok(engine) = JitEngine::new(config)
    {
        engines.push(Box::new(engine));
    }
    engines
}

/// The target called `name`; with a fault, wasm targets judge with the
/// faulty JIT added.
pub fn make_target(
    name: TargetName,
    fault: Option<JitConfig>,
    hits: SharedHits,
) -> Box<dyn Target> {
    match (name.generator(), fault) {
        (GeneratorKind::Clif, _) => match name {
            TargetName::ClifLower => Box::new(ClifJudge::lower()),
            TargetName::ClifOpt => Box::new(ClifJudge::opt()),
            _ => Box::new(ClifTarget::new(hits)),
        },
        (kind, None) => Box::new(WasmTarget::new(kind, campaign_name(kind), hits)),
        (kind, Some(f)) => Box::new(FaultyWasmTarget::new(kind, f, hits)),
    }
}

/// The generator names `shoal fuzz` reports.
fn campaign_name(kind: GeneratorKind) -> &'static str {
    match kind {
        GeneratorKind::Wasm => "instruction-first",
        GeneratorKind::Smith => "smith",
        GeneratorKind::Clif => "clif",
    }
}

/// A wasm target whose oracle includes a deliberately miscompiling JIT
/// (test-only). It judges exactly like `WasmTarget::judge_wasm`, which
/// offers no way to choose the engines.
pub struct FaultyWasmTarget {
    kind: GeneratorKind,
    oracle: WasmOracle,
    hits: SharedHits,
}

impl FaultyWasmTarget {
    /// A faulty target for wasm generator `kind` (fault per [`parse_fault`]).
    pub fn new(kind: GeneratorKind, fault: JitConfig, hits: SharedHits) -> FaultyWasmTarget {
        FaultyWasmTarget {
            kind,
            oracle: WasmOracle::new(wasm_engines(Some(fault)), campaign_limits()),
            hits,
        }
    }

    fn judge_wasm(&self, case: &WasmCase) -> CaseResult {
        let (report, hits) = collect(|| self.oracle.run(&case.module, &case.invocations));
        if let Ok(mut shared) = self.hits.lock() {
            shared.merge(&hits);
        }
        let report = match report {
            Ok(r) => r,
            Err(e) => return CaseResult::Invalid(e.to_string()),
        };
        match &report.verdict {
            Verdict::Agree => CaseResult::Agree,
            Verdict::Inconclusive(why) => CaseResult::Inconclusive(why.clone()),
            Verdict::Discrepancy(d) => {
                let bytes = TestCase::Wasm(case.clone()).to_bytes();
                let mut f = wasm_finding(&report, d, &case.module, &case.invocations, bytes);
                f.rules = hits.iter().map(|(r, _)| r.to_string()).collect();
                CaseResult::Finding(Box::new(f))
            }
        }
    }
}

impl Target for FaultyWasmTarget {
    fn name(&self) -> &'static str {
        campaign_name(self.kind)
    }

    fn generate(&mut self, seed: u64) -> TestCase {
        self.kind.generate_from_seed(seed)
    }

    fn judge(&mut self, case: &TestCase) -> CaseResult {
        match case {
            TestCase::Wasm(w) => self.judge_wasm(w),
            TestCase::Clif(_) => CaseResult::Invalid("a wasm target was given a CLIF case".into()),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("writing {}", path.display())
    })
}
