//! The instruction-first wasm generator.

use shoal_generators::wasm::{self, WasmConfig};

use crate::common::{dump, seeds, validate_wasm};

#[test]
fn seeded_modules_validate() {
    for seed in seeds(1000) {
        let case = wasm::generate_from_seed(seed);
        validate_wasm(&format!("wasm-seed-{seed}"), &case.module);
        let module = shoal_runtime::Module::new(&case.module).unwrap();
        for inv in &case.invocations {
            let export = module
                .export(&inv.export)
                .expect("invocation of a missing export");
            let ty = module.func_type(export.index);
            let arg_types: Vec<_> = inv.args.iter().map(|v| v.ty()).collect();
            if arg_types != ty.params {
                dump(&format!("wasm-seed-{seed}"), "wasm", &case.module);
                panic!("seed {seed}: arguments {arg_types:?} for {}", ty);
            }
        }
    }
}

#[test]
fn generation_is_deterministic() {
    for seed in [0, 1, 99] {
        assert_eq!(
            wasm::generate_from_seed(seed),
            wasm::generate_from_seed(seed)
        );
    }
}

#[test]
fn arbitrary_bytes_give_valid_modules() {
    for len in [0usize, 1, 7, 64, 300] {
        for seed in 0..20u64 {
            let bytes = shoal_generators::rng::seed_bytes(seed ^ 0xabcd, len);
            let case = wasm::generate(&mut arbitrary::Unstructured::new(&bytes));
            validate_wasm(&format!("wasm-bytes-{len}-{seed}"), &case.module);
        }
    }
}

#[test]
fn reduced_feature_sets_validate_without_the_features() {
    let configs = [
        WasmConfig {
            simd: false,
            reference_types: false,
            bulk_memory: false,
            multi_value: false,
            tail_call: false,
            multi_memory: false,
            memory64: false,
            extended_const: false,
            sign_extension: false,
            saturating_float_to_int: false,
            ..WasmConfig::default()
        },
        WasmConfig {
            reference_types: false,
            ..WasmConfig::default()
        },
        WasmConfig {
            simd: false,
            multi_value: false,
            ..WasmConfig::default()
        },
    ];
    for (i, cfg) in configs.iter().enumerate() {
        for seed in 0..150u64 {
            let bytes = shoal_generators::rng::seed_bytes(seed, 4096);
            let case = wasm::generate_with_config(&mut arbitrary::Unstructured::new(&bytes), cfg);
            let mut v = wasmparser::Validator::new_with_features(cfg.wasm_features());
            if let Err(e) = v.validate_all(&case.module) {
                let path = dump(&format!("wasm-config{i}-seed-{seed}"), "wasm", &case.module);
                panic!("config {i} seed {seed}: {e}; dumped to {}", path.display());
            }
        }
    }
}

/// The `wasmparser` operator names in a module's code.
fn operator_names(module: &[u8], out: &mut std::collections::HashSet<String>) {
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            let mut r = body.get_operators_reader().unwrap();
            while !r.eof() {
                let op = format!("{:?}", r.read().unwrap());
                let name: String = op
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                out.insert(name);
            }
        }
    }
}

#[test]
fn every_table_instruction_is_reached() {
    let table: Vec<&str> = wasm::table::table().iter().map(|i| i.name).collect();
    let mut seen = std::collections::HashSet::new();
    let budget = 3000u64;
    let mut used = 0;
    for seed in 0..budget {
        operator_names(&wasm::generate_from_seed(seed).module, &mut seen);
        used = seed + 1;
        if table.iter().all(|n| seen.contains(*n)) {
            break;
        }
    }
    let missing: Vec<&&str> = table.iter().filter(|n| !seen.contains(**n)).collect();
    assert!(
        missing.is_empty(),
        "not generated within {budget} seeds: {missing:?}"
    );
    eprintln!(
        "all {} table instructions reached within {used} seeds",
        table.len()
    );
}

#[test]
fn serialized_cases_round_trip_exactly() {
    use shoal_generators::testcase::TestCase;
    for kind in [
        shoal_generators::GeneratorKind::Wasm,
        shoal_generators::GeneratorKind::Smith,
    ] {
        for seed in 0..100 {
            let case = kind.generate_from_seed(seed);
            let bytes = case.to_bytes();
            let back = TestCase::from_bytes(&bytes).expect("serialized case parses");
            assert_eq!(back, case);
            assert_eq!(back.to_bytes(), bytes);
            // The serialized form is itself a valid module.
            validate_wasm(&format!("{}-serialized-{seed}", kind.name()), &bytes);
            assert_eq!(TestCase::from_fuzz_input(kind, &bytes), case);
        }
    }
}
