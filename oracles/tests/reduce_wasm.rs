//! The wasm reducer: a planted operator predicate reduces a generated
//! module to a handful of operators with its invocations adapted, and a
//! JIT fault (a miscompiled `i32.add`) found in a generated case reduces,
//! through the campaign's `reduce_finding`, to a handful of operators of
//! the same finding class.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use shoal_generators::{GeneratorKind, TestCase, WasmCase};
use shoal_oracles::campaign::{CaseResult, Target};
use shoal_oracles::reduce::{self, Budget, Oracle};
use shoal_oracles::targets::{campaign_limits, default_wasm_engines};
use shoal_oracles::verdict::Verdict;
use shoal_oracles::wasm::{WasmOracle, finding};
use shoal_runtime::engine::Engine;
use shoal_runtime::jit::{JitConfig, JitEngine};

fn operators(module: &[u8]) -> Vec<String> {
    let mut ops = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            for op in body.get_operators_reader().unwrap() {
                let text = format!("{:?}", op.unwrap());
                ops.push(text.split([' ', '{']).next().unwrap().to_string());
            }
        }
    }
    ops
}

/// Interesting: still validates, still has an invocation, still has an
/// `i32.mul` somewhere.
struct HasMul {
    calls: u64,
}

impl Oracle<WasmCase> for HasMul {
    fn interesting(&mut self, c: &WasmCase) -> bool {
        self.calls += 1;
        shoal_runtime::Module::new(&c.module).is_ok()
            && !c.invocations.is_empty()
            && operators(&c.module).iter().any(|o| o == "I32Mul")
    }
    fn exhausted(&self) -> bool {
        self.calls >= 3000
    }
}

fn generated_with(op: &str) -> WasmCase {
    (0..2000)
        .find_map(|seed| match GeneratorKind::Wasm.generate_from_seed(seed) {
            TestCase::Wasm(w)
                if !w.invocations.is_empty()
                    && operators(&w.module).len() > 60
                    && operators(&w.module).iter().any(|o| o == op) =>
            {
                Some(w)
            }
            _ => None,
        })
        .expect("a generated case with the operator")
}

#[test]
fn planted_operator_reduces_to_a_handful() {
    let case = generated_with("I32Mul");
    let before = operators(&case.module).len();
    let mut oracle = HasMul { calls: 0 };
    let out = reduce::wasm::reduce(&case, &mut oracle);
    let ops = operators(&out.module);
    assert!(ops.len() <= 10, "{before} -> {ops:?}");
    assert!(ops.iter().any(|o| o == "I32Mul"));
    assert_eq!(out.invocations.len(), 1);
    assert_eq!(
        reduce::wasm::adapt(&out.module, &out.invocations),
        out.invocations,
        "the invocations fit the reduced module"
    );
}

/// The campaign's wasm engines plus a JIT miscompiling `i32.add` as
/// `isub`, judged the way `WasmTarget` judges.
struct FaultyJit {
    oracle: WasmOracle,
}

impl FaultyJit {
    fn new() -> FaultyJit {
        let mut engines = default_wasm_engines();
        let config: JitConfig = "jit(opt=speed,fault=i32.add->isub)".parse().unwrap();
        engines.push(Box::new(JitEngine::new(config).unwrap()) as Box<dyn Engine>);
        FaultyJit {
            oracle: WasmOracle::new(engines, campaign_limits()),
        }
    }
}

impl Target for FaultyJit {
    fn name(&self) -> &'static str {
        "faulty-jit"
    }
    fn generate(&mut self, seed: u64) -> TestCase {
        GeneratorKind::Wasm.generate_from_seed(seed)
    }
    fn judge(&mut self, case: &TestCase) -> CaseResult {
        let TestCase::Wasm(w) = case else {
            return CaseResult::Invalid("not wasm".into());
        };
        let report = match self.oracle.run(&w.module, &w.invocations) {
            Ok(r) => r,
            Err(e) => return CaseResult::Invalid(e.to_string()),
        };
        match &report.verdict {
            Verdict::Agree => CaseResult::Agree,
            Verdict::Inconclusive(why) => CaseResult::Inconclusive(why.clone()),
            Verdict::Discrepancy(d) => CaseResult::Finding(Box::new(finding(
                &report,
                d,
                &w.module,
                &w.invocations,
                case.to_bytes(),
            ))),
        }
    }
}

#[test]
fn a_miscompiled_add_reduces_to_a_handful_of_operators() {
    let mut target = FaultyJit::new();
    let found = (0..100)
        .find_map(|seed| match target.run_one(seed) {
            CaseResult::Finding(f) => Some(f),
            _ => None,
        })
        .expect("the fault shows within 100 generated cases");
    let budget = Budget {
        time: Duration::from_secs(30),
        ..Budget::default()
    };
    let r = reduce::reduce_finding(&mut target, &found, budget, &AtomicBool::new(false)).unwrap();
    let TestCase::Wasm(w) = &r.case else {
        panic!("not wasm")
    };
    let ops = operators(&w.module);
    assert!(ops.len() <= 10, "{}: {ops:?}", r.summary());
    assert!(ops.iter().any(|o| o == "I32Add"), "{ops:?}");
    assert_eq!(r.finding.class(), found.class());
    assert!(r.before.instructions > r.after.instructions);
}
