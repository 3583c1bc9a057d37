//! Growth and resources on every engine compiled in: growth past the
//! deterministic caps of `Limits` returns -1 everywhere (a comparable
//! outcome), while growth the host cannot satisfy *below* the caps makes
//! the execution, and so the case, inconclusive — never a -1 to compare.

mod common;

use common::{call, wat};
use shoal_oracles::engines::default_set;
use shoal_oracles::execute::{Execution, InvokeOutcome, execute};
use shoal_oracles::verdict::Verdict;
use shoal_oracles::wasm::WasmOracle;
use shoal_runtime::{Limits, Module, Value};

const MODULE: &str = r#"(module
  (memory (export "m") i64 0)
  (table (export "t") i64 0 funcref)
  (func (export "grow_mem") (param i64) (result i64) local.get 0 memory.grow)
  (func (export "grow_tab") (param i64) (result i64)
    ref.null func local.get 0 table.grow))"#;

/// Caps no host reaches: the spec's memory64 maximum, every table size.
fn huge_caps() -> Limits {
    Limits {
        fuel: Some(1000),
        max_memory_pages: 1 << 48,
        max_table_elems: u64::MAX,
        ..Limits::default()
    }
}

#[test]
fn refusals_below_the_caps_are_inconclusive_on_every_engine() {
    let module = Module::new(&wat(MODULE)).unwrap();
    // 2^40 pages is 2^56 bytes; 2^60 table slots are 2^63 bytes.
    for (export, delta) in [("grow_mem", 1i64 << 40), ("grow_tab", 1i64 << 60)] {
        let invocations = [call(export, &[Value::I64(delta)])];
        for kind in default_set() {
            let engine = kind.build().unwrap();
            let e = execute(engine.as_ref(), &module, &invocations, huge_caps());
            assert!(
                matches!(&e, Execution::Inconclusive(why) if why.contains("refused")),
                "{kind}: {export}: {e:?}"
            );
        }
        let oracle = WasmOracle::from_kinds(&default_set(), huge_caps()).unwrap();
        let report = oracle.run(&wat(MODULE), &invocations).unwrap();
        assert!(
            matches!(report.verdict, Verdict::Inconclusive(_)),
            "{export}: {report:#?}"
        );
    }
}

#[test]
fn growth_past_the_caps_fails_identically() {
    let limits = Limits {
        max_memory_pages: 3,
        max_table_elems: 10,
        ..huge_caps()
    };
    let invocations = [
        call("grow_mem", &[Value::I64(2)]),
        call("grow_mem", &[Value::I64(2)]),
        call("grow_mem", &[Value::I64(1)]),
        call("grow_tab", &[Value::I64(7)]),
        call("grow_tab", &[Value::I64(4)]),
        call("grow_tab", &[Value::I64(3)]),
        call("grow_tab", &[Value::I64(i64::MAX)]),
    ];
    let expected = [0, -1, 2, 0, -1, 7, -1].map(|v| InvokeOutcome::Ok(vec![Value::I64(v)]));
    let module = Module::new(&wat(MODULE)).unwrap();
    for kind in default_set() {
        let engine = kind.build().unwrap();
        let Execution::Ran {
            invocations: got,
            state,
        } = execute(engine.as_ref(), &module, &invocations, limits)
        else {
            panic!("{kind}: did not run")
        };
        assert_eq!(got, expected, "{kind}");
        assert_eq!(state.memories[0].1.len(), 3 << 16, "{kind}");
        assert_eq!(state.tables[0].1, vec![Value::FuncRef(None); 10], "{kind}");
    }
    let oracle = WasmOracle::from_kinds(&default_set(), limits).unwrap();
    let report = oracle.run(&wat(MODULE), &invocations).unwrap();
    assert_eq!(report.verdict, Verdict::Agree);
}
