//! One function run on every engine compiled in (`engines::default_set`:
//! the interpreter, the default JIT configurations, and wasmtime, Pulley
//! and wasmi when the features are on): every execution must see the same
//! outcomes — values, traps (including a growth cap and a call through a
//! null and an out-of-range table slot), final memory, global and table —
//! and the oracle must agree. Run with `--features wasmtime,wasmi` to cover
//! the external engines.

mod common;

use common::{call, wat};
use shoal_oracles::compare::Fidelity;
use shoal_oracles::engines::{EngineKind, default_set};
use shoal_oracles::execute::{Execution, Invocation, InvokeOutcome, execute};
use shoal_oracles::verdict::Verdict;
use shoal_oracles::wasm::WasmOracle;
use shoal_runtime::{Limits, Module, Trap, Value};

/// `f(op, x)` records `x` (global `g` += x, `mem[op*4] = x`), then:
/// op 0: `x*7 / 3`; op 1: `100 / x`; op 2: `call_indirect tab[x](x)`
/// (slot 0 holds `$inc`, slot 1 is null, 2 slots); op 3: `memory.grow x`;
/// op 4: `trunc(sqrt(x))`; op 5: a loop of `x` iterations, returning 0.
const MODULE: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (memory (export "mem") 1 4)
  (global $g (export "g") (mut i32) (i32.const 0))
  (table (export "tab") 2 funcref)
  (elem (i32.const 0) $inc)
  (func $inc (param i32) (result i32) local.get 0 i32.const 1 i32.add)
  (func (export "f") (param $op i32) (param $x i32) (result i32)
    global.get $g local.get $x i32.add global.set $g
    local.get $op i32.const 4 i32.mul local.get $x i32.store
    block $loop block $sqrt block $grow block $indirect block $div block $arith
      local.get $op br_table $arith $div $indirect $grow $sqrt $loop
    end
    local.get $x i32.const 7 i32.mul i32.const 3 i32.div_s return
    end
    i32.const 100 local.get $x i32.div_u return
    end
    local.get $x local.get $x call_indirect (type $t) return
    end
    local.get $x memory.grow return
    end
    local.get $x f32.convert_i32_s f32.sqrt i32.trunc_f32_s return
    end
    loop $again
      local.get $x i32.const 1 i32.sub local.tee $x
      br_if $again
    end
    local.get $x))"#;

fn limits() -> Limits {
    Limits {
        fuel: Some(1000),
        max_call_depth: 100,
        max_memory_pages: 3,
        ..Limits::default()
    }
}

/// The invocations and what the spec says each returns (with the caps of
/// [`limits`]); the last one runs out of fuel.
fn script() -> Vec<(Invocation, InvokeOutcome)> {
    let f = |op: i32, x: i32| call("f", &[Value::I32(op), Value::I32(x)]);
    let ok = |v: i32| InvokeOutcome::Ok(vec![Value::I32(v)]);
    let trap = InvokeOutcome::Trap;
    vec![
        (f(0, 5), ok(5 * 7 / 3)),
        (f(1, 0), trap(Trap::IntegerDivideByZero)),
        (f(1, 7), ok(100 / 7)),
        (f(2, 0), ok(1)),
        (f(2, 1), trap(Trap::UninitializedElement)),
        (f(2, 5), trap(Trap::UndefinedElement)),
        (f(3, 1), ok(1)),
        (f(3, 1), ok(2)),
        // Declared maximum 4, growth cap 3: every engine refuses.
        (f(3, 1), ok(-1)),
        (f(4, 16), ok(4)),
        (f(4, -1), trap(Trap::InvalidConversionToInteger)),
        (f(5, 10), ok(0)),
        (f(5, 1_000_000), trap(Trap::OutOfFuel)),
    ]
}

fn same(expected: &InvokeOutcome, got: &InvokeOutcome, fidelity: Fidelity) -> bool {
    let merged = |o: &InvokeOutcome| match o {
        InvokeOutcome::Trap(Trap::UndefinedElement) if fidelity == Fidelity::External => {
            InvokeOutcome::Trap(Trap::TableOutOfBounds)
        }
        o => o.clone(),
    };
    merged(expected) == merged(got)
}

/// Runs `invocations` on one engine and checks every outcome and the state.
fn check_engine(kind: &EngineKind, script: &[(Invocation, InvokeOutcome)]) {
    let module = Module::new(&wat(MODULE)).unwrap();
    let engine = kind.build().unwrap();
    let invocations: Vec<Invocation> = script.iter().map(|(i, _)| i.clone()).collect();
    let Execution::Ran {
        invocations: got,
        state,
    } = execute(engine.as_ref(), &module, &invocations, limits())
    else {
        panic!("{kind}: did not run")
    };
    for (k, ((inv, want), got)) in script.iter().zip(&got).enumerate() {
        assert!(
            same(want, got, kind.fidelity()),
            "{kind}: invocation {k} {:?}: expected {want:?}, got {got:?}",
            inv.args
        );
    }
    let g: i32 = invocations
        .iter()
        .map(|i| match i.args[1] {
            Value::I32(x) => x,
            _ => 0,
        })
        .fold(0, i32::wrapping_add);
    assert_eq!(
        state.globals,
        vec![("g".to_string(), Value::I32(g))],
        "{kind}"
    );
    // Every call stored its `x` at `op * 4` before doing anything else.
    let mut expected = vec![0u8; 3 * 65536];
    for inv in &invocations {
        if let [Value::I32(op), Value::I32(x)] = inv.args[..] {
            let at = op as usize * 4;
            expected[at..at + 4].copy_from_slice(&x.to_le_bytes());
        }
    }
    assert_eq!(state.memories.len(), 1, "{kind}");
    let (name, mem) = &state.memories[0];
    assert_eq!(name, "mem");
    assert!(mem == &expected, "{kind}: memory differs");
    assert_eq!(
        state.tables,
        vec![(
            "tab".to_string(),
            vec![Value::FuncRef(Some(0)), Value::FuncRef(None)]
        )],
        "{kind}: the table holds `$inc` (address 0) and null"
    );
}

#[test]
fn every_engine_sees_the_same_outcomes() {
    let mut script = script();
    script.pop(); // the fuel-exhausting call: see the next test
    for kind in default_set() {
        check_engine(&kind, &script);
    }
}

#[test]
fn the_oracle_agrees_including_out_of_fuel() {
    let kinds = default_set();
    let oracle = WasmOracle::from_kinds(&kinds, limits()).unwrap();
    let invocations: Vec<Invocation> = script().into_iter().map(|(i, _)| i).collect();
    let report = oracle.run(&wat(MODULE), &invocations).unwrap();
    assert_eq!(report.verdict, Verdict::Agree, "{report:#?}");
    for (kind, e) in kinds.iter().zip(&report.executions) {
        let Execution::Ran {
            invocations: got, ..
        } = e
        else {
            panic!("{kind}: {e:?}")
        };
        match kind.fidelity() {
            Fidelity::Exact => assert_eq!(got.len(), invocations.len(), "{kind}"),
            // External engines stop where the reference ran out of fuel.
            Fidelity::External => assert_eq!(got.len(), invocations.len() - 1, "{kind}"),
        }
    }
}

/// Segments out of bounds trap instantiation the same way everywhere,
/// including empty segments past the end and 64-bit table offsets.
#[test]
fn instantiation_traps_agree() {
    let cases = [
        (
            "(module (table 1 funcref) (elem (i32.const 2)))",
            Trap::TableOutOfBounds,
        ),
        (
            "(module (table i64 1 funcref) (elem (table 0) (i64.const -2) func))",
            Trap::TableOutOfBounds,
        ),
        (
            r#"(module (memory 1) (data (i32.const 65536) "a"))"#,
            Trap::MemoryOutOfBounds,
        ),
        (
            r#"(module (memory 1) (data (i32.const 65537) ""))"#,
            Trap::MemoryOutOfBounds,
        ),
        (
            "(module (func $s unreachable) (start $s))",
            Trap::Unreachable,
        ),
    ];
    for (text, trap) in cases {
        let module = Module::new(&wat(text)).unwrap();
        for kind in default_set() {
            let engine = kind.build().unwrap();
            let e = execute(engine.as_ref(), &module, &[], limits());
            assert_eq!(e, Execution::InstantiationTrap(trap), "{kind}: {text}");
        }
    }
}
