//! Replaying one test case on every execution and tabulating what each
//! observed (execution × invocation), for `shoal repro` and for findings'
//! reports; and turning a CLIF finding into a Cranelift filetest that
//! `clif-util test` runs unchanged.
//!
//! Tables come from the same code that judges: wasm cases from
//! [`WasmOracle::run`]'s per-engine [`Execution`]s, CLIF cases from
//! [`judge_all`] with one executor at a time (so each cell is exactly what
//! the campaign compared with the reference).

use std::fmt::Write as _;

use shoal_generators::WasmCase;
use shoal_runtime::Value;
use shoal_runtime::clif::config::ClifConfig;
use shoal_runtime::clif::differential::{Executor, Verdict as ClifVerdict, judge_all};
use shoal_runtime::clif::filetest::{self, RunLine};
use shoal_runtime::clif::{ClifModule, OptLevel, interp};
use shoal_runtime::engine::Engine;
use shoal_runtime::interp::InterpEngine;
use shoal_runtime::jit::{JitConfig, JitEngine};

use crate::compare::value_eq;
use crate::execute::{CaseError, Execution, InvokeOutcome};
use crate::verdict::Verdict;
use crate::wasm::{CaseReport, WasmOracle};

/// Name of the reference row of CLIF tables.
pub const CLIF_REFERENCE: &str = "cranelift-interpreter";

/// What every execution observed, per invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// One label per invocation (the call, with its arguments).
    pub invocations: Vec<String>,
    /// One row per execution; row 0 is the reference.
    pub rows: Vec<Row>,
}

/// One execution's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The execution's name.
    pub execution: String,
    /// One cell per invocation.
    pub cells: Vec<Cell>,
    /// The final state, rendered (wasm only), and whether it differs from
    /// the reference's.
    pub state: Option<Cell>,
}

/// One observation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Values or trap, rendered.
    pub text: String,
    /// Whether the judge counts this as different from the reference.
    pub differs: bool,
}

impl Table {
    /// Whether any cell differs from the reference.
    pub fn any_difference(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.cells.iter().chain(&r.state).any(|c| c.differs))
    }

    /// Plain text for a terminal: one block per invocation, one line per
    /// execution, differing lines marked with `!=`.
    pub fn to_text(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|r| r.execution.len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (i, label) in self.invocations.iter().enumerate() {
            let _ = writeln!(out, "invocation {i}: {label}");
            for row in &self.rows {
                if let Some(cell) = row.cells.get(i) {
                    let mark = if cell.differs { "!=" } else { "  " };
                    let _ = writeln!(out, "  {mark} {:width$}  {}", row.execution, cell.text);
                }
            }
        }
        if self.rows.iter().any(|r| r.state.is_some()) {
            let _ = writeln!(out, "final state:");
            for row in &self.rows {
                if let Some(cell) = &row.state {
                    let mark = if cell.differs { "!=" } else { "  " };
                    let _ = writeln!(out, "  {mark} {:width$}  {}", row.execution, cell.text);
                }
            }
        }
        out
    }

    /// A markdown table (invocation, execution, outcome), differing
    /// outcomes in bold.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("| invocation | execution | outcome |\n| --- | --- | --- |\n");
        let esc = |s: &str| s.replace('|', "\\|");
        let show = |c: &Cell| {
            if c.differs {
                format!("**{}**", esc(&c.text))
            } else {
                esc(&c.text)
            }
        };
        for (i, label) in self.invocations.iter().enumerate() {
            for row in &self.rows {
                if let Some(cell) = row.cells.get(i) {
                    let _ = writeln!(
                        out,
                        "| `{}` | `{}` | {} |",
                        esc(label),
                        row.execution,
                        show(cell)
                    );
                }
            }
        }
        for row in &self.rows {
            if let Some(cell) = &row.state {
                let _ = writeln!(
                    out,
                    "| final state | `{}` | {} |",
                    row.execution,
                    show(cell)
                );
            }
        }
        out
    }
}

/// Runs a wasm case on `oracle` and tabulates every engine's observations.
pub fn wasm_table(oracle: &WasmOracle, case: &WasmCase) -> Result<(Table, CaseReport), CaseError> {
    let report = oracle.run(&case.module, &case.invocations)?;
    let invocations = case
        .invocations
        .iter()
        .map(|inv| {
            let args: Vec<String> = inv.args.iter().map(Value::to_string).collect();
            format!("{}({})", inv.export, args.join(", "))
        })
        .collect();
    let reference = match &report.verdict {
        Verdict::Discrepancy(d) => d.reference,
        _ => 0,
    };
    let windows = memory_windows(&report.executions, reference);
    let rows = report
        .names
        .iter()
        .zip(&report.executions)
        .map(|(name, e)| wasm_row(name, e, &report.executions[reference], case, &windows))
        .collect();
    Ok((Table { invocations, rows }, report))
}

/// Bytes of memory shown per differing memory.
const WINDOW: usize = 16;

/// Per exported memory of the reference, where the first difference with
/// any other execution lies (if any).
fn memory_windows(executions: &[Execution], reference: usize) -> Vec<Option<usize>> {
    let Execution::Ran { state: r, .. } = &executions[reference] else {
        return Vec::new();
    };
    r.memories
        .iter()
        .enumerate()
        .map(|(i, (_, mine))| {
            executions
                .iter()
                .filter_map(|e| match e {
                    Execution::Ran { state, .. } => state.memories.get(i),
                    _ => None,
                })
                .filter_map(|(_, theirs)| crate::compare::first_difference(mine, theirs))
                .min()
        })
        .collect()
}

fn state_text(state: &crate::execute::FinalState, windows: &[Option<usize>]) -> String {
    let mut parts: Vec<String> = state
        .globals
        .iter()
        .map(|(g, v)| format!("global `{g}` = {v}"))
        .collect();
    for (i, (name, bytes)) in state.memories.iter().enumerate() {
        match windows.get(i).copied().flatten() {
            Some(at) => {
                let end = (at + WINDOW).min(bytes.len());
                let shown: Vec<String> = bytes
                    .get(at..end)
                    .unwrap_or_default()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                parts.push(format!(
                    "memory `{name}` bytes {at}..{end}: {}",
                    shown.join(" ")
                ));
            }
            None => parts.push(format!("memory `{name}`: {} bytes", bytes.len())),
        }
    }
    if !state.tables.is_empty() {
        parts.push(format!("{} tables", state.tables.len()));
    }
    if parts.is_empty() {
        "no exported state".into()
    } else {
        parts.join("; ")
    }
}

fn wasm_row(
    name: &str,
    e: &Execution,
    reference: &Execution,
    case: &WasmCase,
    windows: &[Option<usize>],
) -> Row {
    let n = case.invocations.len();
    match e {
        Execution::Ran { invocations, state } => {
            let cells = (0..n)
                .map(|i| {
                    let mine = invocations.get(i);
                    let theirs = match reference {
                        Execution::Ran { invocations, .. } => invocations.get(i),
                        _ => None,
                    };
                    Cell {
                        text: mine.map_or_else(|| "(not reached)".into(), render_invoke),
                        differs: !matches!((mine, theirs), (Some(a), Some(b)) if invoke_eq(a, b)),
                    }
                })
                .collect();
            let state_differs = match reference {
                Execution::Ran { .. } => crate::compare::diff(e, reference)
                    .is_some_and(|d| !matches!(d, crate::compare::Difference::Invocation { .. })),
                _ => true,
            };
            Row {
                execution: name.to_string(),
                cells,
                state: Some(Cell {
                    text: state_text(state, windows),
                    differs: state_differs,
                }),
            }
        }
        other => {
            let text = crate::wasm::render_execution(other);
            let differs = !matches!(other, Execution::Inconclusive(_))
                && crate::compare::diff(other, reference).is_some();
            Row {
                execution: name.to_string(),
                cells: vec![Cell { text, differs }; n.max(1)],
                state: None,
            }
        }
    }
}

fn render_invoke(o: &InvokeOutcome) -> String {
    match o {
        InvokeOutcome::Ok(v) => {
            let vals: Vec<String> = v.iter().map(Value::to_string).collect();
            format!("[{}]", vals.join(", "))
        }
        InvokeOutcome::Trap(t) => format!("trap: {t}"),
    }
}

fn invoke_eq(a: &InvokeOutcome, b: &InvokeOutcome) -> bool {
    match (a, b) {
        (InvokeOutcome::Ok(x), InvokeOutcome::Ok(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| value_eq(p, q))
        }
        (InvokeOutcome::Trap(x), InvokeOutcome::Trap(y)) => x == y,
        _ => false,
    }
}

/// Runs a CLIF filetest's invocations on the reference interpreter and on
/// each executor and tabulates the outcomes.
pub fn clif_table(text: &str, executors: &[Executor], fuel: u64) -> Result<Table, String> {
    let (module, runs) = ClifModule::parse_with_runs(text).map_err(|e| e.to_string())?;
    let invocations = runs.iter().map(|r| r.to_string()).collect();
    let mut rows = vec![Row {
        execution: CLIF_REFERENCE.to_string(),
        cells: runs
            .iter()
            .map(|inv| Cell {
                text: match interp::run(&module, inv, fuel) {
                    Ok(o) => o.to_string(),
                    Err(e) => e.to_string(),
                },
                differs: false,
            })
            .collect(),
        state: None,
    }];
    for &executor in executors {
        let verdicts = judge_all(&module, &runs, &[executor], fuel).map_err(|e| e.to_string())?;
        rows.push(Row {
            execution: executor.to_string(),
            cells: verdicts.iter().map(clif_cell).collect(),
            state: None,
        });
    }
    Ok(Table { invocations, rows })
}

fn clif_cell(v: &ClifVerdict) -> Cell {
    let (text, differs) = match v {
        ClifVerdict::Agree { compared: 0, .. } => ("inconclusive (skipped)".to_string(), false),
        ClifVerdict::Agree { reference, .. } => (reference.to_string(), false),
        ClifVerdict::Inconclusive(why) => (why.clone(), false),
        ClifVerdict::Disagree(d) => (format!("{} ({})", d.observed, d.detail), true),
        ClifVerdict::CompileFailure(_, f) => (format!("compile failure: {f}"), true),
        // Verdicts added later (e.g. documented known issues) are shown as
        // they describe themselves and are not findings.
        #[allow(unreachable_patterns, reason = "the verdict enum grows")]
        other => (other.to_string(), other.is_finding()),
    };
    Cell { text, differs }
}

/// Every CLIF executor this host can name: the default set plus every
/// native and mid-end configuration and Pulley at every opt level.
pub fn known_executors() -> Vec<Executor> {
    let mut all = Executor::default_set();
    for c in ClifConfig::all_for_host() {
        all.push(Executor::Native(c));
        all.push(Executor::MidEnd(c));
    }
    for o in OptLevel::ALL {
        all.push(Executor::Pulley(o));
    }
    let mut seen = std::collections::HashSet::new();
    all.retain(|e| seen.insert(*e));
    all
}

/// The executor whose display name is `name`.
pub fn executor_named(name: &str) -> Option<Executor> {
    known_executors()
        .into_iter()
        .find(|e| e.to_string() == name)
}

/// A Cranelift filetest reproducing a CLIF disagreement of executor `odd`:
/// `test interpret` + `test run`, the executor's `set` and `target` lines,
/// and a `; run:` line per invocation expecting the reference's results;
/// for a compile failure, `test compile` alone. `None` when `odd` is not a
/// known executor or the text does not parse.
pub fn clif_filetest(text: &str, odd: &str, note: &str, fuel: u64) -> Option<String> {
    let executor = executor_named(odd)?;
    let (module, runs) = ClifModule::parse_with_runs(text).ok()?;
    let verdicts = judge_all(&module, &runs, &[executor], fuel).ok()?;
    let compile_failure = verdicts
        .iter()
        .any(|v| matches!(v, ClifVerdict::CompileFailure(..)));
    let lines: Vec<RunLine> = runs
        .iter()
        .zip(&verdicts)
        .filter_map(|(inv, v)| {
            let expected = interp::run(&module, inv, fuel).ok()?;
            let observed = match v {
                ClifVerdict::Disagree(d) => Some(d.observed.clone()),
                _ => None,
            };
            Some(RunLine {
                invocation: inv.clone(),
                expected,
                observed,
            })
        })
        .filter(|_| !compile_failure)
        .collect();
    let (config, pulley) = match executor {
        Executor::Native(c) | Executor::MidEnd(c) => (c, false),
        Executor::Pulley(o) => (
            ClifConfig {
                opt_level: o,
                ..ClifConfig::default()
            },
            true,
        ),
    };
    let mut written = filetest::write(&module, &lines, &config, note);
    if compile_failure {
        written = written.replacen("test interpret\ntest run\n", "test compile\n", 1);
    }
    Some(adjust_header(&written, pulley))
}

/// Adds the shared flags every executor compiles with that the filetest
/// writer leaves out, and retargets Pulley reproductions.
fn adjust_header(filetest: &str, pulley: bool) -> String {
    let mut out = String::with_capacity(filetest.len() + 40);
    let mut in_header = true;
    for line in filetest.lines() {
        if in_header && line.starts_with("target ") {
            if !filetest.contains("set preserve_frame_pointers") {
                out.push_str("set preserve_frame_pointers=true\n");
            }
            out.push_str(if pulley { "target pulley64" } else { line });
            out.push('\n');
            in_header = false;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Fills in what a finding's report needs beyond the finding: for CLIF,
/// the runnable filetest, the outcome table and the compile
/// configurations; for wasm, the engine configurations.
pub fn complete_extras(finding: &crate::finding::Finding, extras: &mut crate::finding::Extras) {
    if finding.extension != "clif" {
        wasm_extras(finding, extras);
        return;
    }
    let Some(text) = finding.text.as_deref() else {
        return;
    };
    let fuel = crate::targets::CLIF_FUEL;
    let note = format!(
        "shoal finding {}: {}",
        finding.signature, finding.difference
    );
    if let Some(odd) = finding.odd.first() {
        extras.filetest = clif_filetest(text, odd, &note, fuel);
    }
    let mut executors = Executor::default_set();
    for e in finding.odd.iter().filter_map(|o| executor_named(o)) {
        if !executors.contains(&e) {
            executors.push(e);
        }
    }
    if let Ok(table) = clif_table(text, &executors, fuel) {
        extras.table = Some(table.to_markdown());
    }
    extras.configs = std::iter::once(format!("{CLIF_REFERENCE} (reference)"))
        .chain(executors.iter().map(describe_executor))
        .collect();
}

/// An executor with the Cranelift settings it compiles with.
fn describe_executor(e: &Executor) -> String {
    match e {
        Executor::Native(c) | Executor::MidEnd(c) => {
            let flags = c.target_flags();
            if flags.is_empty() {
                e.to_string()
            } else {
                format!("{e}: {}", flags.join(" "))
            }
        }
        Executor::Pulley(_) => e.to_string(),
    }
}

/// The wasm engine whose name is `name` (the interpreter or a JIT
/// configuration), as engines name themselves.
pub fn engine_named(name: &str) -> Option<Box<dyn Engine>> {
    if name == "interp" {
        return Some(Box::new(InterpEngine::new()));
    }
    let config: JitConfig = name.parse().ok()?;
    JitEngine::new(config)
        .ok()
        .map(|e| Box::new(e) as Box<dyn Engine>)
}

/// Configurations and the outcome table (rerun on engines rebuilt from
/// their names, with the campaign's limits) of a wasm finding.
fn wasm_extras(finding: &crate::finding::Finding, extras: &mut crate::finding::Extras) {
    let names: Vec<&String> = finding.outcomes.iter().map(|(name, _)| name).collect();
    extras.configs = names.iter().map(|n| n.to_string()).collect();
    let engines: Option<Vec<Box<dyn Engine>>> = names.iter().map(|n| engine_named(n)).collect();
    let (Some(engines), Ok(case)) = (engines, WasmCase::from_bytes(&finding.case)) else {
        return;
    };
    let oracle = WasmOracle::new(engines, crate::targets::campaign_limits());
    if let Ok((table, _)) = wasm_table(&oracle, &case) {
        extras.table = Some(table.to_markdown());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::data_value::DataValue;
    use shoal_generators::ClifCase;
    use shoal_generators::testcase::Expectation;

    const CASE: &str = "function %f(i32, i32) -> i32 {
block0(v0: i32, v1: i32):
    v2 = iadd v0, v1
    return v2
}
; print: %f(2, 3)
";

    #[test]
    fn filetests_carry_settings_target_and_reference_results() {
        let ft = clif_filetest(CASE, "native (opt=speed isa=baseline)", "a note", 10_000).unwrap();
        assert!(
            ft.starts_with("; a note\ntest interpret\ntest run\n"),
            "{ft}"
        );
        assert!(ft.contains("set opt_level=speed\n"), "{ft}");
        assert!(ft.contains("set preserve_frame_pointers=true\n"), "{ft}");
        assert!(ft.contains("\ntarget "), "{ft}");
        let case = ClifCase::from_text(&ft).unwrap();
        let run = &case.functions[0].runs[0];
        assert_eq!(
            run.expect,
            Some(Expectation::Equals(vec![DataValue::I32(5)])),
            "{ft}"
        );
        let pulley = clif_filetest(CASE, "pulley64 (opt=none)", "", 10_000).unwrap();
        assert!(pulley.contains("target pulley64\n"), "{pulley}");
        assert!(clif_filetest(CASE, "no such executor", "", 10_000).is_none());
        // Every executor's filetest parses, `target` and `set` lines included.
        for e in known_executors() {
            let ft = clif_filetest(CASE, &e.to_string(), "", 10_000).unwrap();
            let parsed = cranelift_reader::parse_test(&ft, Default::default());
            assert!(parsed.is_ok(), "{e}: {:?}\n{ft}", parsed.err());
        }
    }

    #[test]
    fn tables_mark_no_difference_when_executions_agree() {
        let executors = Executor::default_set();
        let table = clif_table(CASE, &executors, 10_000).unwrap();
        assert_eq!(table.rows.len(), executors.len() + 1);
        assert_eq!(table.invocations, ["%f(2, 3)"]);
        assert!(!table.any_difference(), "{}", table.to_text());
        assert!(table.rows.iter().all(|r| r.cells[0].text == "returned [5]"));
        assert!(
            table
                .to_markdown()
                .contains("| `%f(2, 3)` | `cranelift-interpreter` | returned [5] |")
        );
    }

    #[test]
    fn engines_are_rebuilt_from_their_names() {
        assert_eq!(engine_named("interp").unwrap().name(), "interp");
        let jit = JitConfig::default().to_string();
        assert_eq!(engine_named(&jit).unwrap().name(), jit);
        assert!(engine_named("wasmtime").is_none());
        for e in known_executors() {
            assert_eq!(executor_named(&e.to_string()), Some(e));
        }
    }
}
