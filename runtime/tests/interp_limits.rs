//! Fuel and call depth, counted exactly as `trap::Limits` documents.

mod interp_common;

use interp_common::*;
use shoal_runtime::engine::{Extern, InstantiateError, Store};
use shoal_runtime::values::FuncType;
use shoal_runtime::{Trap, Value};

/// `loop` runs its header once on entry and once per back-branch, so
/// `count(n)` (n >= 1) needs 1 (function entry) + n (loop headers) units.
const COUNTDOWN: &str = r#"(module
  (func (export "count") (param $n i32)
    (loop $l
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))"#;

#[test]
fn loop_fuel_boundary() {
    for n in [1u64, 2, 10, 1000] {
        let mut s = store_with(Some(n + 1), 2000);
        let i = inst(&mut s, COUNTDOWN);
        assert_eq!(
            call(&mut s, i, "count", &[Value::I32(n as i32)]),
            Ok(vec![])
        );
        let mut s = store_with(Some(n), 2000);
        let i = inst(&mut s, COUNTDOWN);
        assert_eq!(
            call(&mut s, i, "count", &[Value::I32(n as i32)]),
            Err(Trap::OutOfFuel),
            "n = {n}"
        );
    }
}

#[test]
fn zero_fuel_traps_on_entry() {
    let mut s = store_with(Some(0), 2000);
    let i = inst(&mut s, r#"(module (func (export "f")))"#);
    assert_eq!(call(&mut s, i, "f", &[]), Err(Trap::OutOfFuel));
}

#[test]
fn fuel_resets_per_call() {
    let mut s = store_with(Some(11), 2000);
    let i = inst(&mut s, COUNTDOWN);
    for _ in 0..3 {
        assert_eq!(call(&mut s, i, "count", &[Value::I32(10)]), Ok(vec![]));
    }
}

/// `rec(k)` runs at depths 1..=k+1 and enters k+1 functions.
const REC: &str = r#"(module
  (func $rec (export "rec") (param i32)
    (if (local.get 0) (then (call $rec (i32.sub (local.get 0) (i32.const 1))))))
  (func $tail (export "tail") (param i32)
    (if (local.get 0) (then (return_call $tail (i32.sub (local.get 0) (i32.const 1))))))
  (func $ind (export "ind") (param i32)
    (if (local.get 0)
      (then (return_call_indirect (param i32) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0)))))
  (table funcref (elem $ind)))"#;

#[test]
fn call_depth_boundary() {
    for max in [1u32, 2, 7, 2000] {
        let mut s = store_with(None, max);
        let i = inst(&mut s, REC);
        let ok = Value::I32(max as i32 - 1);
        assert_eq!(call(&mut s, i, "rec", &[ok]), Ok(vec![]), "max = {max}");
        let over = Value::I32(max as i32);
        assert_eq!(
            call(&mut s, i, "rec", &[over]),
            Err(Trap::CallStackExhausted)
        );
    }
}

#[test]
fn zero_depth_refuses_every_wasm_call() {
    let mut s = store_with(None, 0);
    let i = inst(&mut s, REC);
    assert_eq!(
        call(&mut s, i, "rec", &[Value::I32(0)]),
        Err(Trap::CallStackExhausted)
    );
}

#[test]
fn depth_is_checked_before_fuel() {
    // Five entries use all five units; the sixth call is too deep, and the
    // depth check comes first.
    let mut s = store_with(Some(5), 5);
    let i = inst(&mut s, REC);
    assert_eq!(
        call(&mut s, i, "rec", &[Value::I32(5)]),
        Err(Trap::CallStackExhausted)
    );
    let mut s = store_with(Some(4), 5);
    let i = inst(&mut s, REC);
    assert_eq!(
        call(&mut s, i, "rec", &[Value::I32(5)]),
        Err(Trap::OutOfFuel)
    );
}

#[test]
fn function_entry_fuel_boundary() {
    // rec(k) enters k + 1 functions and runs no loop.
    let mut s = store_with(Some(31), 100);
    let i = inst(&mut s, REC);
    assert_eq!(call(&mut s, i, "rec", &[Value::I32(30)]), Ok(vec![]));
    assert_eq!(
        call(&mut s, i, "rec", &[Value::I32(31)]),
        Err(Trap::OutOfFuel)
    );
}

#[test]
fn tail_calls_keep_depth_but_take_fuel() {
    let mut s = store_with(None, 3);
    let i = inst(&mut s, REC);
    assert_eq!(call(&mut s, i, "tail", &[Value::I32(100_000)]), Ok(vec![]));
    assert_eq!(call(&mut s, i, "ind", &[Value::I32(10_000)]), Ok(vec![]));
    let mut s = store_with(Some(1001), 3);
    let i = inst(&mut s, REC);
    assert_eq!(call(&mut s, i, "tail", &[Value::I32(1000)]), Ok(vec![]));
    assert_eq!(call(&mut s, i, "ind", &[Value::I32(1000)]), Ok(vec![]));
    assert_eq!(
        call(&mut s, i, "tail", &[Value::I32(1001)]),
        Err(Trap::OutOfFuel)
    );
}

#[test]
fn deep_recursion_stays_off_the_host_stack() {
    let mut s = store_with(None, 100_000);
    let i = inst(&mut s, REC);
    assert_eq!(call(&mut s, i, "rec", &[Value::I32(99_999)]), Ok(vec![]));
    assert_eq!(
        call(&mut s, i, "rec", &[Value::I32(100_000)]),
        Err(Trap::CallStackExhausted)
    );
}

#[test]
fn host_functions_cost_nothing() {
    let mut s = store_with(Some(1), 1);
    let h = s.alloc_host_func(FuncType::default(), Box::new(|_| Ok(vec![])));
    let i = inst_with(
        &mut s,
        r#"(module (import "h" "f" (func $h))
             (func (export "f") (call $h) (call $h) (call $h))
             (func (export "t") (return_call $h)))"#,
        &[Extern::Func(h)],
    )
    .unwrap();
    assert_eq!(call(&mut s, i, "f", &[]), Ok(vec![]));
    assert_eq!(call(&mut s, i, "t", &[]), Ok(vec![]));
    // A host function called directly needs neither fuel nor depth.
    let mut s = store_with(Some(0), 0);
    let h = s.alloc_host_func(FuncType::default(), Box::new(|_| Ok(vec![])));
    assert_eq!(s.call(h, &[]), Ok(vec![]));
}

#[test]
fn start_function_takes_fuel() {
    let text = r#"(module
      (func $start (local $n i32)
        (local.set $n (i32.const 3))
        (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      (start $start))"#;
    // Entry + three loop headers.
    let mut s = store_with(Some(4), 10);
    assert!(s.instantiate(&module(text), &[]).is_ok());
    let mut s = store_with(Some(3), 10);
    assert_eq!(
        s.instantiate(&module(text), &[]),
        Err(InstantiateError::Trap(Trap::OutOfFuel))
    );
}
