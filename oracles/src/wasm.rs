//! The wasm differential oracle: one test case, several executions, one
//! verdict, and a [`Finding`] when they disagree.

use shoal_runtime::engine::Engine;
use shoal_runtime::{Limits, Module};

use crate::compare::{Difference, Fidelity};
use crate::engines::{self, BuiltEngine, EngineKind};
use crate::execute::{
    CaseError, Execution, Invocation, InvokeOutcome, check_case, execute, execute_prefix,
};
use crate::finding::{Finding, signature};
use crate::verdict::{Cut, Discrepancy, Verdict, exhaustion_cut, judge_with, reference_index};

/// A set of executions to compare (index 0 is the reference).
pub struct WasmOracle {
    engines: Vec<BuiltEngine>,
    limits: Limits,
}

/// Everything one oracle run produced.
#[derive(Debug)]
pub struct CaseReport {
    /// Name of each execution.
    pub names: Vec<String>,
    /// How each execution was compared.
    pub fidelity: Vec<Fidelity>,
    /// What each execution observed.
    pub executions: Vec<Execution>,
    /// The judgement.
    pub verdict: Verdict,
}

impl WasmOracle {
    /// An oracle over `engines` (at least two; the first is the reference).
    /// Each engine's [`Fidelity`] follows from its name
    /// ([`engines::fidelity_of_name`]): engines named like an external
    /// [`EngineKind`] are compared as external, all others exactly.
    pub fn new(engines: Vec<Box<dyn Engine>>, limits: Limits) -> WasmOracle {
        let engines = engines
            .into_iter()
            .map(|e| {
                let f = engines::fidelity_of_name(&e.name());
                (e, f)
            })
            .collect();
        WasmOracle { engines, limits }
    }

    /// An oracle over engines with explicit fidelities.
    pub fn with_fidelity(engines: Vec<BuiltEngine>, limits: Limits) -> WasmOracle {
        WasmOracle { engines, limits }
    }

    /// An oracle over engine kinds (the first is the reference); fails if
    /// one cannot be built.
    pub fn from_kinds(kinds: &[EngineKind], limits: Limits) -> Result<WasmOracle, String> {
        let engines = kinds
            .iter()
            .map(|k| Ok((k.build()?, k.fidelity())))
            .collect::<Result<Vec<_>, String>>()?;
        Ok(WasmOracle { engines, limits })
    }

    /// Names of the executions, in order.
    pub fn names(&self) -> Vec<String> {
        self.engines.iter().map(|(e, _)| e.name()).collect()
    }

    /// Runs one case on every execution and judges it. Exact executions
    /// run first; external ones then run only the invocations before the
    /// reference ran out of fuel or call depth (see [`crate::verdict`]).
    pub fn run(&self, wasm: &[u8], invocations: &[Invocation]) -> Result<CaseReport, CaseError> {
        let module = Module::new(wasm)?;
        check_case(&module, invocations)?;
        let fidelity: Vec<Fidelity> = self.engines.iter().map(|(_, f)| *f).collect();
        let mut executions: Vec<Option<Execution>> = vec![None; self.engines.len()];
        for (i, (engine, f)) in self.engines.iter().enumerate() {
            if *f == Fidelity::Exact {
                executions[i] = Some(execute(engine.as_ref(), &module, invocations, self.limits));
            }
        }
        let reference = reference_index(&fidelity);
        let cut = executions[reference]
            .as_ref()
            .map_or(Cut::Nothing, exhaustion_cut);
        for (i, (engine, _)) in self.engines.iter().enumerate() {
            if executions[i].is_some() {
                continue;
            }
            let engine = engine.as_ref();
            executions[i] = Some(match cut {
                Cut::Nothing => execute(engine, &module, invocations, self.limits),
                Cut::At(k) => {
                    execute_prefix(engine, &module, &invocations[..k], self.limits, false)
                }
                Cut::Everything => Execution::Inconclusive(
                    "the reference ran out of fuel or call depth while instantiating".into(),
                ),
            });
        }
        let executions: Vec<Execution> = executions.into_iter().flatten().collect();
        let verdict = judge_with(&executions, &fidelity);
        Ok(CaseReport {
            names: self.names(),
            fidelity,
            executions,
            verdict,
        })
    }
}

/// Renders one execution's observations on one line.
pub fn render_execution(e: &Execution) -> String {
    match e {
        Execution::Ran { invocations, state } => {
            let calls: Vec<String> = invocations.iter().map(render_invoke).collect();
            format!(
                "{} ; {} memories, {} globals, {} tables",
                calls.join(" ; "),
                state.memories.len(),
                state.globals.len(),
                state.tables.len()
            )
        }
        Execution::InstantiationTrap(t) => format!("instantiation trap: {t}"),
        Execution::EngineFailure(m) => format!("engine failure: {m}"),
        Execution::Inconclusive(m) => format!("inconclusive: {m}"),
    }
}

fn render_invoke(o: &InvokeOutcome) -> String {
    match o {
        InvokeOutcome::Ok(v) => format!(
            "[{}]",
            v.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        InvokeOutcome::Trap(t) => format!("trap: {t}"),
    }
}

/// Describes what differs between the reference and the first odd execution.
pub fn describe(report: &CaseReport, d: &Discrepancy, invocations: &[Invocation]) -> String {
    let (r, o) = (
        &report.executions[d.reference],
        &report.executions[d.odd[0]],
    );
    match (&d.difference, r, o) {
        (
            Difference::Invocation { index },
            Execution::Ran { invocations: a, .. },
            Execution::Ran { invocations: b, .. },
        ) => {
            let name = invocations
                .get(*index)
                .map(|i| i.export.as_str())
                .unwrap_or("?");
            let show = |x: Option<&InvokeOutcome>| {
                x.map(render_invoke).unwrap_or_else(|| "nothing".into())
            };
            format!(
                "invocation {index} (`{name}`): expected {}, got {}",
                show(a.get(*index)),
                show(b.get(*index))
            )
        }
        (Difference::Memory { name, offset }, _, _) => {
            format!("memory `{name}` differs from byte {offset}")
        }
        (Difference::Global { name }, _, _) => format!("global `{name}` differs"),
        (Difference::Table { name, index }, _, _) => {
            format!("table `{name}` differs at element {index}")
        }
        _ => format!(
            "expected {}, got {}",
            render_execution(r),
            render_execution(o)
        ),
    }
}

/// Distinct operator names used by a module's functions, for signatures.
pub fn operator_names(wasm: &[u8]) -> Vec<String> {
    let Ok(module) = Module::new(wasm) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for i in 0..module.bodies.len() {
        let Ok(reader) = module.body(i as u32).get_operators_reader() else {
            continue;
        };
        for op in reader.into_iter().flatten() {
            let text = format!("{op:?}");
            let name = text.split([' ', '{', '(']).next().unwrap_or("").to_string();
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names.sort();
    names
}

/// Builds a finding from a discrepancy.
pub fn finding(
    report: &CaseReport,
    d: &Discrepancy,
    wasm: &[u8],
    invocations: &[Invocation],
    case: Vec<u8>,
) -> Finding {
    let odd: Vec<String> = d.odd.iter().map(|&i| report.names[i].clone()).collect();
    let ops = operator_names(wasm);
    let difference = describe(report, d, invocations);
    Finding {
        signature: signature(d.difference.kind(), &odd, &ops),
        title: format!("{} discrepancy in {}", d.difference.kind(), odd.join(", ")),
        case,
        extension: "wasm",
        text: wasmprinter::print_bytes(wasm).ok(),
        reference: report.names[d.reference].clone(),
        odd,
        difference,
        outcomes: report
            .names
            .iter()
            .cloned()
            .zip(report.executions.iter().map(render_execution))
            .collect(),
        rules: Vec::new(),
    }
}
