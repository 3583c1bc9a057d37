//! The instruction-first CLIF generator.

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_interpreter::environment::FunctionStore;
use cranelift_interpreter::interpreter::{Interpreter, InterpreterState};
use shoal_generators::clif::{self, table};
use shoal_generators::testcase::{ClifCase, TestCase};

use crate::common::{dump, seeds};

fn verify_case(name: &str, case: &ClifCase) {
    let flags = settings::Flags::new(settings::builder());
    for f in &case.functions {
        let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cranelift_codegen::verify_function(&f.function, &flags).map_err(|e| e.to_string())
        }))
        .unwrap_or_else(|_| Err("the verifier panicked".to_string()));
        if let Err(e) = verdict {
            let path = dump(name, "clif", case.to_text().as_bytes());
            panic!(
                "{name}: {} fails the verifier: {e}; dumped to {}",
                f.function.name,
                path.display()
            );
        }
    }
}

#[test]
fn seeded_functions_verify_and_round_trip() {
    for seed in seeds(1000) {
        let case = clif::generate_from_seed(seed);
        let name = format!("clif-seed-{seed}");
        verify_case(&name, &case);
        let text = case.to_text();
        match ClifCase::from_text(&text) {
            Ok(back) if back == case => {}
            Ok(_) => {
                let path = dump(&name, "clif", text.as_bytes());
                panic!(
                    "{name}: text does not round-trip; dumped to {}",
                    path.display()
                );
            }
            Err(e) => {
                let path = dump(&name, "clif", text.as_bytes());
                panic!(
                    "{name}: printed text does not parse ({e}); dumped to {}",
                    path.display()
                );
            }
        }
    }
}

/// Generated files compile for every target their header names and run in
/// the interpreter (a trap or running out of fuel is fine, an interpreter
/// error or panic is not).
#[test]
fn seeded_cases_compile_and_interpret() {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").unwrap();
    flags.set("preserve_frame_pointers", "true").unwrap();
    let flags = settings::Flags::new(flags);
    let x64 = isa::lookup_by_name("x86_64")
        .unwrap()
        .finish(flags.clone())
        .unwrap();
    let pulley = isa::lookup_by_name("pulley64")
        .unwrap()
        .finish(flags)
        .unwrap();
    for seed in seeds(1000).take(300) {
        let case = clif::generate_from_seed(seed);
        let name = format!("clif-run-seed-{seed}");
        let targets: Vec<&dyn isa::TargetIsa> = if case.header.iter().any(|h| h.contains("pulley"))
        {
            vec![&*x64, &*pulley]
        } else {
            vec![&*x64]
        };
        for f in &case.functions {
            for isa in &targets {
                let mut ctx = cranelift_codegen::Context::for_function(f.function.clone());
                if let Err(e) = ctx.compile(*isa, &mut ControlPlane::default()) {
                    let path = dump(&name, "clif", case.to_text().as_bytes());
                    panic!(
                        "{name}: {} on {}: {:?}; dumped to {}",
                        f.function.name,
                        isa.name(),
                        e.inner,
                        path.display()
                    );
                }
            }
        }
        let mut store = FunctionStore::default();
        for f in &case.functions {
            store.add(f.function.name.to_string(), &f.function);
        }
        for f in &case.functions {
            for run in &f.runs {
                let state = InterpreterState::default().with_function_store(store.clone());
                let mut i = Interpreter::new(state).with_fuel(Some(200_000));
                let r = i.call_by_name(&format!("%{}", run.func), &run.args);
                if let Err(e) = r
                    && !matches!(
                        e,
                        cranelift_interpreter::interpreter::InterpreterError::FuelExhausted
                    )
                {
                    let path = dump(&name, "clif", case.to_text().as_bytes());
                    panic!(
                        "{name}: interpreter error {e}; dumped to {}",
                        path.display()
                    );
                }
            }
        }
    }
}

#[test]
fn every_table_opcode_is_reached() {
    let wanted: std::collections::HashSet<String> = table::table()
        .iter()
        .map(|o| o.opcode.to_string())
        .collect();
    let mut seen = std::collections::HashSet::new();
    let budget = 3000u64;
    let mut used = 0;
    for seed in 0..budget {
        let case = clif::generate_from_seed(seed);
        for f in &case.functions {
            let func = &f.function;
            for block in func.layout.blocks() {
                for inst in func.layout.block_insts(block) {
                    seen.insert(func.dfg.insts[inst].opcode().to_string());
                }
            }
        }
        used = seed + 1;
        if wanted.iter().all(|o| seen.contains(o)) {
            break;
        }
    }
    let mut missing: Vec<&String> = wanted.iter().filter(|o| !seen.contains(*o)).collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "not generated within {budget} seeds: {missing:?}"
    );
    eprintln!(
        "all {} table opcodes reached within {used} seeds",
        wanted.len()
    );
}

#[test]
fn fuzz_input_is_a_case_or_generates_one() {
    let case = clif::generate_from_seed(3);
    let text = case.to_text();
    let via = TestCase::from_fuzz_input(shoal_generators::GeneratorKind::Clif, text.as_bytes());
    assert_eq!(via, TestCase::Clif(case));
    let raw = shoal_generators::rng::seed_bytes(9, 700);
    let a = TestCase::from_fuzz_input(shoal_generators::GeneratorKind::Clif, &raw);
    let b = TestCase::from_fuzz_input(shoal_generators::GeneratorKind::Clif, &raw);
    assert_eq!(a, b);
    assert!(matches!(a, TestCase::Clif(_)));
}
