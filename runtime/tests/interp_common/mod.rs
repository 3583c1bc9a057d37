//! Helpers shared by the interpreter tests: text modules, one-line calls.
#![allow(dead_code)]

use shoal_runtime::engine::{Extern, InstanceId, InstantiateError, Store};
use shoal_runtime::interp::{InterpEngine, InterpStore};
use shoal_runtime::{Limits, Module, Trap, Value};

/// Assembles WebAssembly text.
pub fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("lex");
    let mut w = wast::parser::parse::<wast::Wat>(&buf).expect("parse");
    w.encode().expect("encode")
}

/// Assembles and validates a module.
pub fn module(text: &str) -> Module {
    Module::new(&wat(text)).expect("valid module")
}

/// A store with default limits.
pub fn store() -> InterpStore {
    InterpEngine.interp_store(Limits::default())
}

/// A store with the given limits.
pub fn store_with(fuel: Option<u64>, max_call_depth: u32) -> InterpStore {
    InterpEngine.interp_store(Limits {
        fuel,
        max_call_depth,
        ..Limits::default()
    })
}

/// Instantiates a text module without imports in `s`.
pub fn inst(s: &mut InterpStore, text: &str) -> InstanceId {
    s.instantiate(&module(text), &[]).expect("instantiate")
}

/// Instantiates with imports.
pub fn inst_with(
    s: &mut InterpStore,
    text: &str,
    imports: &[Extern],
) -> Result<InstanceId, InstantiateError> {
    s.instantiate(&module(text), imports)
}

/// The address of exported function `name`.
pub fn func(s: &InterpStore, i: InstanceId, name: &str) -> u32 {
    match s.export(i, name) {
        Some(Extern::Func(f)) => f,
        other => panic!("export {name}: {other:?}"),
    }
}

/// Calls export `name`.
pub fn call(
    s: &mut InterpStore,
    i: InstanceId,
    name: &str,
    args: &[Value],
) -> Result<Vec<Value>, Trap> {
    let f = func(s, i, name);
    s.call(f, args)
}

/// Calls export `name`, expecting one i32 result.
pub fn call_i32(
    s: &mut InterpStore,
    i: InstanceId,
    name: &str,
    args: &[Value],
) -> Result<i32, Trap> {
    match call(s, i, name, args)?.as_slice() {
        [Value::I32(v)] => Ok(*v),
        other => panic!("{name} returned {other:?}"),
    }
}

/// Calls export `name`, expecting one i64 result.
pub fn call_i64(
    s: &mut InterpStore,
    i: InstanceId,
    name: &str,
    args: &[Value],
) -> Result<i64, Trap> {
    match call(s, i, name, args)?.as_slice() {
        [Value::I64(v)] => Ok(*v),
        other => panic!("{name} returned {other:?}"),
    }
}

/// One-shot: instantiate `text` in a fresh store and call `name`.
pub fn run(text: &str, name: &str, args: &[Value]) -> Result<Vec<Value>, Trap> {
    let mut s = store();
    let i = inst(&mut s, text);
    call(&mut s, i, name, args)
}
