//! Helpers shared by the JIT integration tests.
#![allow(dead_code)]

use shoal_runtime::engine::{Extern, InstanceId, Store};
use shoal_runtime::jit::{JitConfig, JitEngine, OptLevel};
use shoal_runtime::{Limits, Module, Trap, Value};

/// Assembles WAT text.
pub fn wat(src: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(src).expect("lex");
    let mut m = wast::parser::parse::<wast::Wat>(&buf).expect("parse");
    m.encode().expect("encode")
}

/// Engines under the two configurations CI must cover.
pub fn engines() -> Vec<JitEngine> {
    [OptLevel::None, OptLevel::Speed]
        .into_iter()
        .map(|o| JitEngine::new(JitConfig::with_opt(o)).expect("engine"))
        .collect()
}

/// A store with one instance of `src`.
pub fn instance(engine: &JitEngine, src: &str, limits: Limits) -> (Box<dyn Store>, InstanceId) {
    let module = Module::new(&wat(src)).expect("valid module");
    let mut store = shoal_runtime::Engine::new_store(engine, limits);
    let inst = store.instantiate(&module, &[]).expect("instantiate");
    (store, inst)
}

/// Calls export `name`.
pub fn call(
    store: &mut Box<dyn Store>,
    inst: InstanceId,
    name: &str,
    args: &[Value],
) -> Result<Vec<Value>, Trap> {
    match store.export(inst, name) {
        Some(Extern::Func(f)) => store.call(f, args),
        other => panic!("export {name}: {other:?}"),
    }
}
