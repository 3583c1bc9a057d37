//! The wasm-smith baseline.

use shoal_generators::smith;

use crate::common::{seeds, validate_wasm};

#[test]
fn seeded_baseline_modules_validate_and_invoke_exports() {
    for seed in seeds(1000) {
        let bytes = shoal_generators::rng::seed_bytes(seed, shoal_generators::SEED_INPUT_LEN);
        let case = smith::try_generate(&mut arbitrary::Unstructured::new(&bytes))
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        validate_wasm(&format!("smith-seed-{seed}"), &case.module);
        let module = shoal_runtime::Module::new(&case.module).unwrap();
        for inv in &case.invocations {
            let e = module.export(&inv.export).unwrap();
            let params = &module.func_type(e.index).params;
            assert_eq!(inv.args.iter().map(|a| a.ty()).collect::<Vec<_>>(), *params);
        }
    }
}
