//! Wasm reduction: the invocations first (keep one, drop the rest), then
//! function bodies structurally ([`body`]: delete statements in shrinking
//! chunks, then replace expressions by constants), then a single
//! invocation is pointed at the callee that shows the finding, then the
//! whole module
//! with `wasm-shrink` (functions, globals, exports, ...), then bodies again
//! and the invocations' arguments (towards zero); unused locals go last.
//!
//! Every module candidate gets the invocations that still make sense for
//! it: an invocation survives when its export is still a function taking
//! the same parameter types. A candidate without invocations is never
//! interesting when the original had some.

pub mod body;
mod exports;

use std::cell::RefCell;
use std::rc::Rc;

use shoal_generators::{Invocation, WasmCase};
use shoal_runtime::module::ExternKind;
use shoal_runtime::{Module, Value};
use wasm_shrink::WasmShrink;

use super::Oracle;

/// Consecutive failed `wasm-shrink` attempts after which the module counts
/// as minimal (the time budget usually ends the run first).
const SHRINK_ATTEMPTS: u32 = 400;

/// Reduces `case` while `oracle` finds candidates interesting.
pub fn reduce(case: &WasmCase, oracle: &mut dyn Oracle<WasmCase>) -> WasmCase {
    let mut cur = case.clone();
    invocations(&mut cur, oracle);
    bodies(&mut cur, oracle);
    if retarget(&mut cur, oracle) {
        bodies(&mut cur, oracle);
    }
    if let Some(module) = shrink(&cur, oracle) {
        let invocations = adapt(&module, &cur.invocations);
        cur = WasmCase {
            module,
            invocations,
        };
        bodies(&mut cur, oracle);
    }
    invocations(&mut cur, oracle);
    arguments(&mut cur, oracle);
    locals(&mut cur, oracle);
    cur
}

/// Drops unused locals (a readability pass: it rarely changes behaviour,
/// but the judge still decides).
fn locals(cur: &mut WasmCase, oracle: &mut dyn Oracle<WasmCase>) {
    let Some(module) = body::compact_locals(&cur.module) else {
        return;
    };
    if module == cur.module || oracle.exhausted() || body::analyse(&module).is_none() {
        return;
    }
    let cand = WasmCase {
        module,
        invocations: cur.invocations.clone(),
    };
    if oracle.interesting(&cand) {
        *cur = cand;
    }
}

/// With a single invocation: points its export at each other function in
/// turn (called with zeros), keeping the first that still shows the
/// finding, so a finding in a callee is invoked directly.
fn retarget(cur: &mut WasmCase, oracle: &mut dyn Oracle<WasmCase>) -> bool {
    let [inv] = &cur.invocations[..] else {
        return false;
    };
    let current = Module::new(&cur.module)
        .ok()
        .and_then(|m| m.export(&inv.export).map(|e| e.index));
    let (Some(current), Some(callees)) = (current, exports::callees(&cur.module)) else {
        return false;
    };
    for callee in callees {
        if oracle.exhausted() {
            return false;
        }
        let (Some(args), true) = (callee.zeros, callee.index != current) else {
            continue;
        };
        let Some(module) = exports::retarget(&cur.module, &inv.export, callee.index) else {
            continue;
        };
        let export = inv.export.clone();
        let cand = WasmCase {
            module,
            invocations: vec![Invocation { export, args }],
        };
        if oracle.interesting(&cand) {
            *cur = cand;
            return true;
        }
    }
    false
}

/// Tries `edits` on the current module; adopts the result if interesting.
fn attempt(cur: &mut WasmCase, edits: &[body::Edit], oracle: &mut dyn Oracle<WasmCase>) -> bool {
    let Some(module) = body::apply(&cur.module, edits) else {
        return false;
    };
    if module == cur.module || body::analyse(&module).is_none() {
        return false;
    }
    let invocations = adapt(&module, &cur.invocations);
    if invocations.len() < cur.invocations.len() {
        return false;
    }
    let cand = WasmCase {
        module,
        invocations,
    };
    let interesting = oracle.interesting(&cand);
    log::info!(
        "reduce wasm: {} edits ({} bytes): {}",
        edits.len(),
        cand.module.len(),
        if interesting { "kept" } else { "rejected" }
    );
    if interesting {
        *cur = cand;
    }
    interesting
}

/// Structural body reduction: statement chunks, then single edits.
fn bodies(cur: &mut WasmCase, oracle: &mut dyn Oracle<WasmCase>) {
    let Some(count) = body::analyse(&cur.module).map(|b| b.len()) else {
        return;
    };
    for func in 0..count {
        statement_chunks(cur, func, oracle);
    }
    let mut i = 0;
    while !oracle.exhausted() {
        let Some(all) = body::analyse(&cur.module) else {
            return;
        };
        let edits: Vec<Vec<body::Edit>> = all.iter().flat_map(|b| b.edits()).collect();
        let Some(edit) = edits.get(i) else { return };
        if !attempt(cur, edit, oracle) {
            i += 1;
        }
    }
}

/// Deletes statements of function `func` in chunks, halving the chunk
/// size down to one, from the end backwards.
fn statement_chunks(cur: &mut WasmCase, func: usize, oracle: &mut dyn Oracle<WasmCase>) {
    let statements = |m: &[u8]| {
        body::analyse(m)
            .and_then(|b| b.get(func).map(|b| b.statements()))
            .unwrap_or_default()
    };
    let mut chunk = (statements(&cur.module).len() / 2).max(1);
    loop {
        let mut end = statements(&cur.module).len();
        while end > 0 && !oracle.exhausted() {
            let start = end.saturating_sub(chunk);
            let list = statements(&cur.module);
            let edits: Vec<body::Edit> = list[start.min(list.len())..end.min(list.len())]
                .iter()
                .map(|r| body::Edit {
                    func,
                    bytes: r.clone(),
                    with: Vec::new(),
                })
                .collect();
            if !edits.is_empty() {
                attempt(cur, &edits, oracle);
            }
            end = start;
        }
        if chunk == 1 || oracle.exhausted() {
            return;
        }
        chunk /= 2;
    }
}

/// Number of operators in the module's function bodies.
pub fn instruction_count(module: &[u8]) -> usize {
    let Ok(m) = Module::new(module) else {
        return 0;
    };
    (0..m.bodies.len())
        .filter_map(|i| m.body(i as u32).get_operators_reader().ok())
        .map(|r| r.into_iter().count())
        .sum()
}

fn invocations(cur: &mut WasmCase, oracle: &mut dyn Oracle<WasmCase>) {
    let n = cur.invocations.len();
    if n > 1 {
        for i in 0..n {
            if oracle.exhausted() {
                return;
            }
            let cand = WasmCase {
                module: cur.module.clone(),
                invocations: vec![cur.invocations[i].clone()],
            };
            if oracle.interesting(&cand) {
                *cur = cand;
                break;
            }
        }
    }
    // Later invocations may depend on state left by earlier ones: drop
    // one at a time, from the front.
    let mut i = 0;
    while i < cur.invocations.len() && cur.invocations.len() > 1 && !oracle.exhausted() {
        let mut cand = cur.clone();
        cand.invocations.remove(i);
        if oracle.interesting(&cand) {
            *cur = cand;
        } else {
            i += 1;
        }
    }
}

fn arguments(cur: &mut WasmCase, oracle: &mut dyn Oracle<WasmCase>) {
    for i in 0..cur.invocations.len() {
        for a in 0..cur.invocations[i].args.len() {
            if oracle.exhausted() {
                return;
            }
            let Some(zero) = zero_like(&cur.invocations[i].args[a]) else {
                continue;
            };
            if cur.invocations[i].args[a] == zero {
                continue;
            }
            let mut cand = cur.clone();
            cand.invocations[i].args[a] = zero;
            if oracle.interesting(&cand) {
                *cur = cand;
            }
        }
    }
}

fn zero_like(v: &Value) -> Option<Value> {
    Some(match v {
        Value::I32(_) => Value::I32(0),
        Value::I64(_) => Value::I64(0),
        Value::F32(_) => Value::F32(0),
        Value::F64(_) => Value::F64(0),
        Value::V128(_) => Value::V128(0),
        _ => return None,
    })
}

/// The invocations of `invocations` that `module` can still take.
pub fn adapt(module: &[u8], invocations: &[Invocation]) -> Vec<Invocation> {
    let Ok(m) = Module::new(module) else {
        return Vec::new();
    };
    invocations
        .iter()
        .filter(|inv| {
            m.export(&inv.export)
                .filter(|e| e.kind == ExternKind::Func)
                .is_some_and(|e| {
                    let ty = m.func_type(e.index);
                    ty.params.iter().copied().eq(inv.args.iter().map(Value::ty))
                })
        })
        .cloned()
        .collect()
}

/// Shrinks the module with `wasm-shrink`; `None` if it found nothing
/// smaller (or failed).
fn shrink(cur: &WasmCase, oracle: &mut dyn Oracle<WasmCase>) -> Option<Vec<u8>> {
    let best: Rc<RefCell<Option<Vec<u8>>>> = Rc::default();
    let sink = best.clone();
    let had_invocations = !cur.invocations.is_empty();
    let result = WasmShrink::default()
        .attempts(SHRINK_ATTEMPTS)
        .on_new_smallest(Some(Box::new(move |wasm: &[u8]| {
            *sink.borrow_mut() = Some(wasm.to_vec());
            Ok(())
        })))
        .run(cur.module.clone(), |wasm: &[u8]| {
            anyhow::ensure!(!oracle.exhausted(), "reduction budget exhausted");
            let invocations = adapt(wasm, &cur.invocations);
            if had_invocations && invocations.is_empty() {
                return Ok(false);
            }
            Ok(oracle.interesting(&WasmCase {
                module: wasm.to_vec(),
                invocations,
            }))
        });
    match result {
        Ok(info) if info.output.len() < cur.module.len() => Some(info.output),
        _ => best.borrow_mut().take(),
    }
}
