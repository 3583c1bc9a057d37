//! Every CLIF table entry must verify, compile for x64 (baseline and
//! modern ISA flags) and Pulley, and run in `cranelift-interpreter`.
//! `survey_candidates` (ignored) prints which candidate signatures fail
//! where — the evidence behind `clif::table::unsupported`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::data_value::DataValue;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{Function, InstructionData, Opcode};
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_interpreter::environment::FunctionStore;
use cranelift_interpreter::interpreter::{Interpreter, InterpreterState};
use cranelift_interpreter::step::ControlFlow;
use shoal_generators::clif::{self, table};

/// The ISAs a CLIF case must compile for.
fn isas() -> Vec<(&'static str, OwnedTargetIsa)> {
    let build = |name: &str, extra: &[&str]| {
        let mut flags = settings::builder();
        flags.set("opt_level", "speed").unwrap();
        let mut b = isa::lookup_by_name(name).unwrap();
        for f in extra {
            b.enable(f).unwrap();
        }
        b.finish(settings::Flags::new(flags)).unwrap()
    };
    vec![
        ("x64-baseline", build("x86_64", &[])),
        (
            "x64-modern",
            build(
                "x86_64",
                &[
                    "has_sse3",
                    "has_ssse3",
                    "has_sse41",
                    "has_sse42",
                    "has_avx",
                    "has_avx2",
                    "has_popcnt",
                    "has_bmi1",
                    "has_bmi2",
                    "has_lzcnt",
                    "has_fma",
                ],
            ),
        ),
        ("pulley64", build("pulley64", &[])),
    ]
}

/// Every place a function fails (empty: works everywhere).
fn check(
    func: &Function,
    isas: &[(&'static str, OwnedTargetIsa)],
    args: &[DataValue],
) -> Vec<String> {
    let flags = settings::Flags::new(settings::builder());
    if let Err(e) = cranelift_codegen::verify_function(func, &flags) {
        return vec![format!("verifier: {e}")];
    }
    let mut failures = Vec::new();
    for (name, isa) in isas {
        let mut ctx = cranelift_codegen::Context::for_function(func.clone());
        let r = catch_unwind(AssertUnwindSafe(|| {
            ctx.compile(&**isa, &mut ControlPlane::default())
                .map(|_| ())
                .map_err(|e| format!("{:?}", e.inner))
        }));
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!(
                "{name}: {}",
                e.chars().take(60).collect::<String>()
            )),
            Err(_) => failures.push(format!("{name}: panic")),
        }
    }
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut store = FunctionStore::default();
        store.add(func.name.to_string(), func);
        let state = InterpreterState::default().with_function_store(store);
        let mut i = Interpreter::new(state).with_fuel(Some(100_000));
        match i.call_by_name(&func.name.to_string(), args) {
            Ok(ControlFlow::Return(_)) | Ok(ControlFlow::Trap(_)) => None,
            Ok(_) => Some("interpreter: unexpected control flow".to_string()),
            Err(e) => Some(format!("interpreter: {e}")),
        }
    }));
    match r {
        Ok(Some(e)) => failures.push(e),
        Ok(None) => {}
        Err(_) => failures.push("interpreter: panic".into()),
    }
    failures
}

fn args_for(op: &table::ClifOp) -> Vec<DataValue> {
    let bytes = shoal_generators::rng::seed_bytes(1, 512);
    let mut r = shoal_generators::rng::Rng::new(&bytes);
    op.args
        .iter()
        .map(|&t| clif::data_value(&mut r, t))
        .collect()
}

#[test]
fn every_table_entry_compiles_everywhere_and_interprets() {
    let isas = isas();
    let mut failures = Vec::new();
    let x64_only: Vec<_> = isas
        .iter()
        .filter(|(n, _)| !n.starts_with("pulley"))
        .cloned()
        .collect();
    for op in table::table() {
        let func = clif::single_op_function(op, 7);
        let f = check(
            &func,
            if op.pulley { &isas } else { &x64_only },
            &args_for(op),
        );
        if !f.is_empty() {
            failures.push(format!("{}: {}", op.describe(), f.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} table entries fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
#[ignore = "survey for maintaining clif::table::unsupported"]
fn survey_candidates() {
    let isas = isas();
    for op in table::candidates() {
        if table::unsupported(&op).is_some() {
            continue;
        }
        let pulley = table::pulley_unsupported(&op).is_none();
        let isas: Vec<_> = isas
            .iter()
            .filter(|(n, _)| pulley || !n.starts_with("pulley"))
            .cloned()
            .collect();
        let func = clif::single_op_function(&op, 7);
        for e in check(&func, &isas, &args_for(&op)) {
            println!("FAIL {} :: {e}", op.describe());
        }
    }
}

/// Sets the condition code of the (only) comparison in `func`.
fn set_condition(func: &mut Function, int: Option<IntCC>, float: Option<FloatCC>) {
    let insts: Vec<_> = func
        .layout
        .blocks()
        .flat_map(|b| func.layout.block_insts(b).collect::<Vec<_>>())
        .collect();
    for inst in insts {
        match &mut func.dfg.insts[inst] {
            InstructionData::IntCompare { cond, .. } => {
                if let Some(c) = int {
                    *cond = c;
                }
            }
            InstructionData::FloatCompare { cond, .. } => {
                if let Some(c) = float {
                    *cond = c;
                }
            }
            _ => {}
        }
    }
}

#[test]
#[ignore = "survey for maintaining the condition-code exclusions"]
fn survey_condition_codes() {
    let isas = isas();
    for op in table::candidates() {
        if table::unsupported(&op).is_some() {
            continue;
        }
        let ccs: Vec<(Option<IntCC>, Option<FloatCC>)> = match op.opcode {
            Opcode::Icmp => IntCC::all().iter().map(|&c| (Some(c), None)).collect(),
            Opcode::Fcmp => FloatCC::all().iter().map(|&c| (None, Some(c))).collect(),
            _ => continue,
        };
        for (i, f) in ccs {
            let mut func = clif::single_op_function(&op, 7);
            set_condition(&mut func, i, f);
            for e in check(&func, &isas, &args_for(&op)) {
                println!("FAIL {} {:?}{:?} :: {e}", op.describe(), i, f);
            }
        }
    }
}
