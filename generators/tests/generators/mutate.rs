//! Structural mutators keep test cases valid.

use shoal_generators::mutate::{self, mutate_case};
use shoal_generators::rng::{Rng, seed_bytes};
use shoal_generators::testcase::TestCase;
use shoal_generators::{GeneratorKind, clif, smith, wasm};

use crate::common::{dump, seeds, validate_wasm};

fn check_wasm_case(name: &str, case: &shoal_generators::WasmCase) {
    validate_wasm(name, &case.module);
    let module = shoal_runtime::Module::new(&case.module).unwrap();
    for inv in &case.invocations {
        let e = module
            .export(&inv.export)
            .expect("invocation of a missing export");
        let params = &module.func_type(e.index).params;
        assert_eq!(
            &inv.args.iter().map(|a| a.ty()).collect::<Vec<_>>(),
            params,
            "{name}"
        );
    }
}

/// Mutates seeded cases of `kind` a few times each; returns how many
/// mutations changed the case, and how often each mutation was applied.
fn mutate_many(
    kind: GeneratorKind,
    count: u64,
    check: impl Fn(&str, &TestCase),
) -> (u64, std::collections::BTreeMap<&'static str, u64>) {
    let mut changed = 0;
    let mut kinds = std::collections::BTreeMap::new();
    for seed in seeds(count / 4) {
        let mut case = kind.generate_from_seed(seed);
        for step in 0..4u64 {
            let before = case.clone();
            let choices = seed_bytes(seed * 31 + step, 512);
            let what = mutate_case(&mut case, &mut Rng::new(&choices));
            *kinds.entry(what).or_insert(0) += 1;
            let name = format!("mutate-{}-{seed}-{step}-{what}", kind.name());
            check(&name, &case);
            let bytes = case.to_bytes();
            assert_eq!(
                TestCase::from_bytes(&bytes).as_ref(),
                Ok(&case),
                "{name}: round trip"
            );
            if case != before {
                changed += 1;
            }
        }
    }
    eprintln!("{} mutations: {kinds:?}", kind.name());
    (changed, kinds)
}

#[test]
fn wasm_mutations_stay_valid() {
    let (changed, kinds) = mutate_many(GeneratorKind::Wasm, 1000, |name, c| match c {
        TestCase::Wasm(w) => check_wasm_case(name, w),
        TestCase::Clif(_) => panic!("{name}: kind changed"),
    });
    assert!(
        changed >= 800,
        "only {changed} of 1000 mutations changed the case"
    );
    for k in [
        "change-constant",
        "swap-instruction",
        "wrap-value",
        "drop-range",
        "duplicate-range",
        "change-argument",
    ] {
        assert!(kinds.contains_key(k), "{k} never applied: {kinds:?}");
    }
}

#[test]
fn smith_mutations_stay_valid() {
    mutate_many(GeneratorKind::Smith, 400, |name, c| match c {
        TestCase::Wasm(w) => check_wasm_case(name, w),
        TestCase::Clif(_) => panic!("{name}: kind changed"),
    });
}

#[test]
fn clif_mutations_stay_valid() {
    let flags = cranelift_codegen::settings::Flags::new(cranelift_codegen::settings::builder());
    let (changed, kinds) = mutate_many(GeneratorKind::Clif, 1000, |name, c| match c {
        TestCase::Clif(case) => {
            for f in &case.functions {
                if let Err(e) = cranelift_codegen::verify_function(&f.function, &flags) {
                    let path = dump(name, "clif", case.to_text().as_bytes());
                    panic!("{name}: {e}; dumped to {}", path.display());
                }
            }
        }
        TestCase::Wasm(_) => panic!("{name}: kind changed"),
    });
    assert!(
        changed >= 800,
        "only {changed} of 1000 mutations changed the case"
    );
    for k in [
        "change-constant",
        "swap-opcode",
        "change-condition",
        "change-argument",
    ] {
        assert!(kinds.contains_key(k), "{k} never applied: {kinds:?}");
    }
}

#[test]
fn fuzzer_entry_materializes_raw_input() {
    for (i, kind) in GeneratorKind::ALL.into_iter().enumerate() {
        let mut data = seed_bytes(i as u64, 300);
        let n = mutate::mutate(kind, &mut data, 1 << 20, 5);
        assert_eq!(n, data.len());
        let case = TestCase::from_bytes(&data).expect("the mutator writes serialized cases");
        assert_eq!(matches!(case, TestCase::Wasm(_)), kind.produces_wasm());
        // A second round mutates the serialized case itself.
        let mut buf = data.clone();
        buf.resize(1 << 20, 0);
        let n = mutate::mutate_buffer(kind, &mut buf, data.len(), 1 << 20, 9);
        assert!(TestCase::from_bytes(&buf[..n]).is_ok());
    }
    // Too small a limit leaves the input alone.
    let mut data = wasm::generate_from_seed(1).to_bytes();
    let before = data.clone();
    mutate::mutate(GeneratorKind::Wasm, &mut data, 10, 3);
    assert_eq!(data, before);
    let _ = (smith::generate, clif::generate);
}
