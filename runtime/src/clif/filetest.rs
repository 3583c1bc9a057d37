//! Renders a disagreeing case as a Cranelift filetest, runnable unchanged
//! with `clif-util test`: `test interpret` and `test run`, the settings and
//! `target` line of the configuration that disagreed, the functions, and a
//! `; run:` line per invocation with the reference's expected results.
//!
//! Run lines cannot expect a trap. When the reference traps, the run line
//! is written with the executor's (wrong) values and a comment saying the
//! reference traps: `test interpret` then fails with the trap, showing the
//! disagreement; when the executor traps instead, the run line carries the
//! reference's values and `test run` fails with the trap.

use std::fmt::Write as _;

use cranelift_codegen::ir::Type;

use super::values::TypedList;
use super::{ClifConfig, ClifModule, Invocation, Outcome};

/// One invocation to write: the reference outcome and what the executor
/// observed.
#[derive(Clone, Debug, PartialEq)]
pub struct RunLine {
    /// The call.
    pub invocation: Invocation,
    /// Reference (interpreter) outcome.
    pub expected: Outcome,
    /// The disagreeing executor's outcome, if it differs.
    pub observed: Option<Outcome>,
}

/// Writes the filetest. `note` becomes a leading comment (e.g. which
/// executor disagreed and how); `config` gives the `set`/`target` lines.
pub fn write(module: &ClifModule, runs: &[RunLine], config: &ClifConfig, note: &str) -> String {
    let mut out = String::new();
    for line in note.lines() {
        let _ = writeln!(out, "; {line}");
    }
    if !config.mid_end && config.opt_level != super::OptLevel::None {
        out.push_str("; (disagreed with the mid-end disabled, which filetests cannot express)\n");
    }
    out.push_str("test interpret\ntest run\n");
    let _ = writeln!(out, "set opt_level={}", config.opt_level.as_str());
    out.push_str("set enable_llvm_abi_extensions=true\n");
    if config.regalloc_checker {
        out.push_str("set regalloc_checker=true\n");
    }
    let arch = if cfg!(target_arch = "aarch64") {
        "aarch64"
    } else {
        "x86_64"
    };
    let mut target = arch.to_string();
    for flag in config.target_flags() {
        target.push(' ');
        target.push_str(&flag);
    }
    let _ = writeln!(out, "target {target}\n");
    for func in module.functions() {
        let name = func.name.to_string();
        let _ = writeln!(out, "{}", func.display());
        let ret_types: Vec<Type> = func
            .signature
            .returns
            .iter()
            .map(|r| r.value_type)
            .collect();
        let arg_types: Vec<Type> = func.signature.params.iter().map(|p| p.value_type).collect();
        for run in runs.iter().filter(|r| r.invocation.func == name) {
            write_run(&mut out, run, &arg_types, &ret_types);
        }
        out.push('\n');
    }
    out
}

fn write_run(out: &mut String, run: &RunLine, arg_types: &[Type], ret_types: &[Type]) {
    let call = format!(
        "{}({})",
        run.invocation.func,
        TypedList(&run.invocation.args, arg_types)
    );
    let values = |vals: &[cranelift_codegen::data_value::DataValue]| {
        let list = TypedList(vals, ret_types).to_string();
        if vals.len() == 1 {
            list
        } else {
            format!("[{list}]")
        }
    };
    match (&run.expected, &run.observed) {
        (Outcome::Returned(vals), observed) => {
            if let Some(Outcome::Trapped(code)) = observed {
                let _ = writeln!(out, "; the executor trapped here: {code}");
            }
            if ret_types.is_empty() {
                let _ = writeln!(out, "; print: {call}");
            } else {
                let _ = writeln!(out, "; run: {call} == {}", values(vals));
            }
        }
        (Outcome::Trapped(code), Some(Outcome::Returned(vals))) => {
            let _ = writeln!(
                out,
                "; the reference traps here ({code}); the executor returned:"
            );
            if ret_types.is_empty() {
                let _ = writeln!(out, "; print: {call}");
            } else {
                let _ = writeln!(out, "; run: {call} == {}", values(vals));
            }
        }
        (Outcome::Trapped(code), _) => {
            let _ = writeln!(
                out,
                "; {call} traps: {code} (run lines cannot expect a trap)"
            );
        }
    }
}
