//! Running one wasm test case on one engine and capturing everything it
//! observes: per-invocation results or traps, then the final state of every
//! exported memory, global and table.

use std::panic::{AssertUnwindSafe, catch_unwind};

use shoal_runtime::engine::{Engine, Extern, InstantiateError, Store};
use shoal_runtime::incident::{self, Incident};
use shoal_runtime::{Limits, Module, Trap, Value};

pub use shoal_generators::Invocation;

/// The result of one invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvokeOutcome {
    /// Returned normally.
    Ok(Vec<Value>),
    /// Trapped.
    Trap(Trap),
}

/// Final observable state after the last invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FinalState {
    /// Exported memories by export name.
    pub memories: Vec<(String, Vec<u8>)>,
    /// Exported globals by export name.
    pub globals: Vec<(String, Value)>,
    /// Exported tables by export name.
    pub tables: Vec<(String, Vec<Value>)>,
}

/// Everything one engine observed for one test case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Execution {
    /// Instantiated; invocations ran in order.
    Ran {
        /// One outcome per invocation.
        invocations: Vec<InvokeOutcome>,
        /// State after the last invocation.
        state: FinalState,
    },
    /// Instantiation trapped (segment out of bounds, start function).
    InstantiationTrap(Trap),
    /// The engine failed: compile error, verifier or regalloc-checker
    /// error, or a panic. A finding when other engines did not fail.
    EngineFailure(String),
    /// A non-deterministic resource limit was hit; the case says nothing.
    Inconclusive(String),
}

/// The test case itself is unusable (not a finding: a generator or corpus bug).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// The module is invalid or needs an unsupported feature.
    #[error(transparent)]
    Module(#[from] shoal_runtime::ModuleError),
    /// The module imports something (test cases must be self-contained).
    #[error("test case module has imports ({0}); test cases must be self-contained")]
    HasImports(usize),
    /// An invocation names a missing export or passes ill-typed arguments.
    #[error("bad invocation: {0}")]
    BadInvocation(String),
}

/// Checks a module and its invocations once, before running any engine.
pub fn check_case(module: &Module, invocations: &[Invocation]) -> Result<(), CaseError> {
    if !module.imports.is_empty() {
        return Err(CaseError::HasImports(module.imports.len()));
    }
    for inv in invocations {
        let export = module
            .export(&inv.export)
            .filter(|e| e.kind == shoal_runtime::module::ExternKind::Func)
            .ok_or_else(|| {
                CaseError::BadInvocation(format!("no exported function `{}`", inv.export))
            })?;
        let ty = module.func_type(export.index);
        let arg_types: Vec<_> = inv.args.iter().map(Value::ty).collect();
        if arg_types != ty.params {
            return Err(CaseError::BadInvocation(format!(
                "`{}` takes {ty}, given {:?}",
                inv.export, arg_types
            )));
        }
    }
    Ok(())
}

/// Runs a checked case on `engine`. Panics inside the engine are caught and
/// reported as [`Execution::EngineFailure`].
pub fn execute(
    engine: &dyn Engine,
    module: &Module,
    invocations: &[Invocation],
    limits: Limits,
) -> Execution {
    execute_prefix(engine, module, invocations, limits, true)
}

/// Like [`execute`], but the final state is read only when `final_state`
/// is set (an execution compared on a prefix of the invocations, see
/// `verdict::Cut`, passes only that prefix and no final state).
///
/// [Incidents](shoal_runtime::incident) the engine reports decide the
/// outcome: a host allocation refused below the growth caps makes the
/// execution [`Execution::Inconclusive`], an engine error makes it an
/// [`Execution::EngineFailure`].
pub fn execute_prefix(
    engine: &dyn Engine,
    module: &Module,
    invocations: &[Invocation],
    limits: Limits,
    final_state: bool,
) -> Execution {
    incident::take();
    let run = AssertUnwindSafe(|| execute_inner(engine, module, invocations, limits, final_state));
    let execution = match catch_unwind(run) {
        Ok(e) => e,
        Err(payload) => Execution::EngineFailure(format!("panic: {}", panic_message(&payload))),
    };
    // A panic may leave an incident behind; never let it leak into the
    // next execution on this thread.
    match (incident::take(), execution) {
        (_, e @ Execution::EngineFailure(_)) => e,
        (Some(i), _) => from_incident(i),
        (None, e) => e,
    }
}

/// The execution an incident turns into.
fn from_incident(i: Incident) -> Execution {
    match i {
        Incident::Refused(_) => Execution::Inconclusive(i.to_string()),
        Incident::EngineError(_) => Execution::EngineFailure(i.to_string()),
    }
}

/// Extracts the text of a panic payload.
pub fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

fn execute_inner(
    engine: &dyn Engine,
    module: &Module,
    invocations: &[Invocation],
    limits: Limits,
    want_state: bool,
) -> Execution {
    let mut store = engine.new_store(limits);
    let instance = match store.instantiate(module, &[]) {
        Ok(i) => i,
        Err(InstantiateError::Trap(t)) => return Execution::InstantiationTrap(t),
        Err(InstantiateError::Resource(r)) => return Execution::Inconclusive(r),
        Err(e) => return Execution::EngineFailure(e.to_string()),
    };
    let mut outcomes = Vec::with_capacity(invocations.len());
    for inv in invocations {
        // An incident ends the execution: what follows would say nothing.
        if let Some(i) = incident::take() {
            return from_incident(i);
        }
        let Some(Extern::Func(f)) = store.export(instance, &inv.export) else {
            return Execution::EngineFailure(format!("engine lost export `{}`", inv.export));
        };
        outcomes.push(match store.call(f, &inv.args) {
            Ok(v) => InvokeOutcome::Ok(v),
            Err(t) => InvokeOutcome::Trap(t),
        });
    }
    let state = if want_state {
        final_state(store.as_ref(), store.exports(instance))
    } else {
        FinalState::default()
    };
    Execution::Ran {
        invocations: outcomes,
        state,
    }
}

fn final_state(store: &dyn Store, exports: Vec<(String, Extern)>) -> FinalState {
    let mut state = FinalState::default();
    for (name, ext) in exports {
        match ext {
            Extern::Memory(m) => state.memories.push((name, store.memory_data(m).to_vec())),
            Extern::Global(g) => state.globals.push((name, store.global_get(g))),
            Extern::Table(t) => {
                let elems = (0..store.table_size(t))
                    .filter_map(|i| store.table_get(t, i))
                    .collect();
                state.tables.push((name, elems));
            }
            Extern::Func(_) => {}
        }
    }
    state
}
