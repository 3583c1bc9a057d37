//! The reduced reproductions under `corpus/regressions/` still show the
//! bug they document (so an engine upgrade that fixes one is noticed).

#![cfg(feature = "wasmi")]

use shoal_generators::TestCase;
use shoal_oracles::engines::EngineKind;
use shoal_oracles::verdict::Verdict;
use shoal_oracles::wasm::WasmOracle;
use shoal_runtime::Limits;

fn case(name: &str) -> shoal_generators::WasmCase {
    let path = format!(
        "{}/../corpus/regressions/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match TestCase::from_bytes(&bytes).unwrap() {
        TestCase::Wasm(c) => c,
        TestCase::Clif(_) => panic!("{path} is not a wasm case"),
    }
}

#[test]
fn wasmi_select_of_eqz_of_an_operand() {
    let kinds = EngineKind::parse_list("interp,jit:opt=none,jit:opt=speed,wasmi").unwrap();
    let oracle = WasmOracle::from_kinds(&kinds, Limits::default()).unwrap();
    let c = case("wasmi-select-eqz.wasm");
    let report = oracle.run(&c.module, &c.invocations).unwrap();
    let Verdict::Discrepancy(d) = &report.verdict else {
        panic!("wasmi no longer miscomputes this select: {report:#?}")
    };
    assert_eq!((d.reference, d.odd.clone()), (0, vec![3]));
}
