//! Runs the directives of one parsed `.wast` script against one store.
//!
//! All instances of a script live in one store, as in the reference
//! interpreter. Modules are tracked by name (`$id`) and as "the current
//! module"; a module that needs an unsupported feature is remembered as
//! skipped, and every directive that depends on it (invoking it, registering
//! it, importing from it) is skipped with the same reason. A module that
//! fails unexpectedly is remembered as failed, and its dependents fail too,
//! naming the line of the module.
//!
//! Messages: trap messages are compared as the reference interpreter does,
//! by prefix (`Trap::message()` must start with the expected text; see
//! [`trap_matches`] for the single alias). `assert_invalid` and
//! `assert_malformed` only require the module to be rejected: their messages
//! are the reference interpreter's wording, which wasmparser does not share.
//! `assert_unlinkable` distinguishes "unknown import" from
//! "incompatible import type".

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use ::wast::token::Id;
use ::wast::{QuoteWat, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

use super::host;
use super::report::Outcome;
use super::value::{self, NeedsFeature};
use crate::engine::{Engine, Extern, InstanceId, InstantiateError, Store};
use crate::module::{ExternType, Module, ModuleError};
use crate::trap::{Limits, Trap};
use crate::values::Value;

/// Early exit of a directive with its final outcome.
type Step<T> = Result<T, Outcome>;

/// What a name (or "the current module") refers to.
#[derive(Clone, Debug)]
enum Slot<T> {
    /// Usable.
    Ready(T),
    /// Needs an unsupported feature (named).
    Skipped(String),
    /// Failed unexpectedly at this line.
    Failed(usize),
}

impl<T: Clone> Slot<T> {
    fn get(&self) -> Step<T> {
        match self {
            Slot::Ready(t) => Ok(t.clone()),
            Slot::Skipped(reason) => Err(Outcome::Skip(reason.clone())),
            Slot::Failed(line) => Err(Outcome::Fail(format!(
                "depends on the module at line {line}, which failed"
            ))),
        }
    }

    /// The slot recording `outcome` of the directive at `line` (for
    /// outcomes that are not `Pass`).
    fn from_outcome(outcome: &Outcome, line: usize) -> Slot<T> {
        match outcome {
            Outcome::Skip(reason) => Slot::Skipped(reason.clone()),
            _ => Slot::Failed(line),
        }
    }
}

/// Exports of a registered instance.
type Exports = HashMap<String, Extern>;

/// Why instantiating failed.
enum InstFailure {
    /// An import names a module/field nobody provides.
    UnknownImport(String),
    /// The store refused.
    Store(InstantiateError),
}

impl InstFailure {
    fn describe(&self) -> String {
        match self {
            InstFailure::UnknownImport(what) => format!("unknown import {what}"),
            InstFailure::Store(e) => e.to_string(),
        }
    }
}

/// The running state of one script.
pub struct ScriptRunner {
    store: Box<dyn Store>,
    /// Instances by `$id`.
    named: HashMap<String, Slot<InstanceId>>,
    /// The most recently instantiated module.
    current: Option<Slot<InstanceId>>,
    /// `module definition`s by `$id`.
    definitions: HashMap<String, Slot<Arc<Module>>>,
    /// The most recent `module definition`.
    last_definition: Option<Slot<Arc<Module>>>,
    /// Registered import namespaces (`spectest` and `register`ed instances).
    registry: HashMap<String, Slot<Arc<Exports>>>,
}

/// Runs `f`, turning a panic into its message.
pub fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        if let Some(s) = payload.downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_string()
        }
    })
}

fn engine_panic(what: &str, msg: String) -> Outcome {
    Outcome::Fail(format!("engine panicked during {what}: {msg}"))
}

fn skip(n: NeedsFeature) -> Outcome {
    Outcome::Skip(n.0)
}

/// Does a trap match the message a script expects? The reference
/// interpreter's rule: the actual message starts with the expected one (so
/// "out of bounds" accepts "out of bounds memory access"). [`Trap::message`]
/// uses the spec's wording for every kind. One alias: the reference
/// interpreter appends the element index to some messages, and a few scripts
/// expect that full text (`bulk.wast`: "uninitialized element 2"), so the
/// expected text may also be the actual message followed by a space and a
/// decimal number.
pub fn trap_matches(trap: Trap, expected: &str) -> bool {
    let actual = trap.message();
    if actual.starts_with(expected) {
        return true;
    }
    expected
        .strip_prefix(actual)
        .and_then(|rest| rest.strip_prefix(' '))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The kind of a directive, for reports.
pub fn directive_name(d: &WastDirective<'_>) -> &'static str {
    match d {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

fn is_component(qw: &QuoteWat<'_>) -> bool {
    matches!(
        qw,
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
    )
}

/// Validates an encoded module; unsupported features skip, invalid fails.
fn validate(bytes: &[u8]) -> Step<Module> {
    match guard(|| Module::new(bytes)) {
        Ok(Ok(m)) => Ok(m),
        Ok(Err(ModuleError::Unsupported(f))) => Err(Outcome::Skip(f)),
        Ok(Err(ModuleError::Invalid(e))) => Err(Outcome::Fail(format!("module rejected: {e}"))),
        Err(p) => Err(Outcome::Fail(format!("validator panicked: {p}"))),
    }
}

/// Encodes and validates a module directive's module.
fn compile(qw: &mut QuoteWat<'_>) -> Step<Module> {
    if is_component(qw) {
        return Err(Outcome::Skip("component_model".into()));
    }
    let bytes = qw
        .encode()
        .map_err(|e| Outcome::Fail(format!("module text does not encode: {}", e.message())))?;
    validate(&bytes)
}

/// How a module the script expects to be rejected fared.
fn expect_rejection(qw: &mut QuoteWat<'_>, message: &str) -> Outcome {
    if is_component(qw) {
        return Outcome::Skip("component_model".into());
    }
    let Ok(bytes) = qw.encode() else {
        // Rejected by the text parser/encoder.
        return Outcome::Pass;
    };
    match guard(|| Module::new(&bytes)) {
        Ok(Err(ModuleError::Invalid(_))) => Outcome::Pass,
        Ok(Err(ModuleError::Unsupported(f))) => Outcome::Skip(f),
        Ok(Ok(_)) => Outcome::Fail(format!(
            "module was accepted; expected rejection \"{message}\""
        )),
        Err(p) => Outcome::Fail(format!("validator panicked: {p}")),
    }
}

impl ScriptRunner {
    /// A runner with a fresh store of `engine` holding the `spectest` module.
    pub fn new(engine: &dyn Engine, limits: Limits) -> Result<ScriptRunner, String> {
        let mut store = guard(|| engine.new_store(limits))
            .map_err(|p| format!("engine panicked creating a store: {p}"))?;
        let spectest = guard(|| host::instantiate_spectest(store.as_mut()))
            .map_err(|p| format!("engine panicked allocating the spectest module: {p}"))?
            .map_err(|e| format!("cannot allocate the spectest module: {e}"))?;
        let mut registry = HashMap::new();
        registry.insert("spectest".to_string(), Slot::Ready(Arc::new(spectest)));
        Ok(ScriptRunner {
            store,
            named: HashMap::new(),
            current: None,
            definitions: HashMap::new(),
            last_definition: None,
            registry,
        })
    }

    /// Runs one directive (at `line`) and returns its outcome.
    pub fn run(&mut self, d: &mut WastDirective<'_>, line: usize) -> Outcome {
        match d {
            WastDirective::Module(qw) => self.module(qw, line),
            WastDirective::ModuleDefinition(qw) => self.definition(qw, line),
            WastDirective::ModuleInstance {
                instance, module, ..
            } => self.module_instance(*instance, *module, line),
            WastDirective::AssertMalformed {
                module, message, ..
            }
            | WastDirective::AssertInvalid {
                module, message, ..
            } => expect_rejection(module, message),
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                Outcome::Skip("custom-section annotations".into())
            }
            WastDirective::Register { name, module, .. } => self.register(name, *module, line),
            WastDirective::Invoke(inv) => match self.invoke(inv) {
                Ok(Ok(_)) => Outcome::Pass,
                Ok(Err(trap)) => Outcome::Fail(format!("unexpected trap: {trap}")),
                Err(o) => o,
            },
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, results),
            WastDirective::AssertTrap { exec, message, .. } => self.assert_trap(exec, message),
            WastDirective::AssertExhaustion { call, message, .. } => {
                self.assert_exhaustion(call, message)
            }
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => self.assert_unlinkable(module, message),
            WastDirective::AssertException { .. } => Outcome::Skip("exceptions".into()),
            WastDirective::AssertSuspension { .. } => Outcome::Skip("stack_switching".into()),
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                Outcome::Skip("threads".into())
            }
        }
    }

    /// `(module ...)`: instantiate and make it current (and named).
    fn module(&mut self, qw: &mut QuoteWat<'_>, line: usize) -> Outcome {
        let name = qw.name().map(|id| id.name().to_string());
        let result = compile(qw).and_then(|m| self.instantiate_expecting_success(&m));
        let (slot, outcome) = match result {
            Ok(id) => (Slot::Ready(id), Outcome::Pass),
            Err(o) => (Slot::from_outcome(&o, line), o),
        };
        if let Some(name) = name {
            self.named.insert(name, slot.clone());
        }
        self.current = Some(slot);
        outcome
    }

    /// `(module definition $M ...)`: validate and remember, do not instantiate.
    fn definition(&mut self, qw: &mut QuoteWat<'_>, line: usize) -> Outcome {
        let name = qw.name().map(|id| id.name().to_string());
        let (slot, outcome) = match compile(qw) {
            Ok(m) => (Slot::Ready(Arc::new(m)), Outcome::Pass),
            Err(o) => (Slot::from_outcome(&o, line), o),
        };
        if let Some(name) = name {
            self.definitions.insert(name, slot.clone());
        }
        self.last_definition = Some(slot);
        outcome
    }

    /// `(module instance $I $M)`: instantiate a definition.
    fn module_instance(
        &mut self,
        instance: Option<Id<'_>>,
        module: Option<Id<'_>>,
        line: usize,
    ) -> Outcome {
        let def =
            match module {
                Some(id) => self.definitions.get(id.name()).cloned().ok_or_else(|| {
                    Outcome::Fail(format!("no module definition named ${}", id.name()))
                }),
                None => self
                    .last_definition
                    .clone()
                    .ok_or_else(|| Outcome::Fail("no module definition".into())),
            };
        let result = def
            .and_then(|slot| slot.get())
            .and_then(|m| self.instantiate_expecting_success(&m));
        let (slot, outcome) = match result {
            Ok(id) => (Slot::Ready(id), Outcome::Pass),
            Err(o) => (Slot::from_outcome(&o, line), o),
        };
        if let Some(id) = instance {
            self.named.insert(id.name().to_string(), slot.clone());
        }
        self.current = Some(slot);
        outcome
    }

    fn register(&mut self, name: &str, module: Option<Id<'_>>, line: usize) -> Outcome {
        let exports = self.instance(module).and_then(|inst| {
            guard(|| self.store.exports(inst)).map_err(|p| engine_panic("exports", p))
        });
        match exports {
            Ok(list) => {
                let map: Exports = list.into_iter().collect();
                self.registry
                    .insert(name.to_string(), Slot::Ready(Arc::new(map)));
                Outcome::Pass
            }
            Err(o) => {
                self.registry
                    .insert(name.to_string(), Slot::from_outcome(&o, line));
                o
            }
        }
    }

    /// The instance a directive refers to (by name, else the current one).
    fn instance(&self, id: Option<Id<'_>>) -> Step<InstanceId> {
        match id {
            Some(id) => match self.named.get(id.name()) {
                Some(slot) => slot.get(),
                None => Err(Outcome::Fail(format!("no module named ${}", id.name()))),
            },
            None => match &self.current {
                Some(slot) => slot.get(),
                None => Err(Outcome::Fail("no module has been instantiated".into())),
            },
        }
    }

    /// Resolves imports by (module, field) over the registry.
    fn resolve(&self, module: &Module) -> Step<Result<Vec<Extern>, InstFailure>> {
        let mut externs = Vec::with_capacity(module.imports.len());
        for imp in &module.imports {
            let unknown =
                || InstFailure::UnknownImport(format!("\"{}\" \"{}\"", imp.module, imp.name));
            let Some(slot) = self.registry.get(&imp.module) else {
                return Ok(Err(unknown()));
            };
            match slot.get()?.get(&imp.name) {
                Some(e) => externs.push(*e),
                None => return Ok(Err(unknown())),
            }
        }
        Ok(Ok(externs))
    }

    /// Resolves and instantiates; panics become failures.
    fn instantiate(&mut self, module: &Module) -> Step<Result<InstanceId, InstFailure>> {
        let imports = match self.resolve(module)? {
            Ok(imports) => imports,
            Err(f) => return Ok(Err(f)),
        };
        let store = &mut self.store;
        match guard(|| store.instantiate(module, &imports)) {
            Ok(r) => Ok(r.map_err(InstFailure::Store)),
            Err(p) => Err(engine_panic("instantiation", p)),
        }
    }

    fn instantiate_expecting_success(&mut self, module: &Module) -> Step<InstanceId> {
        self.instantiate(module)?
            .map_err(|f| Outcome::Fail(format!("instantiation failed: {}", f.describe())))
    }

    /// Calls an export with the script's arguments.
    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Step<Result<Vec<Value>, Trap>> {
        let inst = self.instance(inv.module)?;
        let func = match self.export(inst, inv.name)? {
            Extern::Func(f) => f,
            other => {
                return Err(Outcome::Fail(format!(
                    "export \"{}\" is not a function: {other:?}",
                    inv.name
                )));
            }
        };
        let ty = match guard(|| self.store.extern_type(Extern::Func(func))) {
            Ok(ExternType::Func(ty)) => ty,
            Ok(other) => {
                return Err(Outcome::Fail(format!(
                    "store reports a function of type {other:?}"
                )));
            }
            Err(p) => return Err(engine_panic("extern_type", p)),
        };
        let args = inv
            .args
            .iter()
            .map(value::arg_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(skip)?;
        let arg_types: Vec<_> = args.iter().map(|a| a.ty()).collect();
        if arg_types != ty.params {
            return Err(Outcome::Fail(format!(
                "arguments {} do not fit \"{}\" of type {ty}",
                value::describe_values(&args, &[]),
                inv.name
            )));
        }
        let store = &mut self.store;
        let result = guard(|| store.call(func, &args)).map_err(|p| engine_panic("call", p))?;
        if let Ok(values) = &result {
            let types: Vec<_> = values.iter().map(|v| v.ty()).collect();
            if types != ty.results {
                return Err(Outcome::Fail(format!(
                    "engine returned {} from a function of type {ty}",
                    value::describe_values(values, &[])
                )));
            }
        }
        Ok(result)
    }

    fn export(&self, inst: InstanceId, name: &str) -> Step<Extern> {
        match guard(|| self.store.export(inst, name)) {
            Ok(Some(e)) => Ok(e),
            Ok(None) => Err(Outcome::Fail(format!("no export named \"{name}\""))),
            Err(p) => Err(engine_panic("export lookup", p)),
        }
    }

    /// Runs the action of `assert_return` / `assert_trap`.
    fn execute(&mut self, exec: &mut WastExecute<'_>) -> Step<Result<Vec<Value>, Trap>> {
        match exec {
            WastExecute::Invoke(inv) => self.invoke(inv),
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(*module)?;
                let g = match self.export(inst, global)? {
                    Extern::Global(g) => g,
                    other => {
                        return Err(Outcome::Fail(format!(
                            "export \"{global}\" is not a global: {other:?}"
                        )));
                    }
                };
                let v = guard(|| self.store.global_get(g))
                    .map_err(|p| engine_panic("global_get", p))?;
                Ok(Ok(vec![v]))
            }
            WastExecute::Wat(wat) => {
                if matches!(wat, Wat::Component(_)) {
                    return Err(Outcome::Skip("component_model".into()));
                }
                let bytes = wat.encode().map_err(|e| {
                    Outcome::Fail(format!("module text does not encode: {}", e.message()))
                })?;
                let module = validate(&bytes)?;
                match self.instantiate(&module)? {
                    Ok(_) => Ok(Ok(Vec::new())),
                    Err(InstFailure::Store(InstantiateError::Trap(t))) => Ok(Err(t)),
                    Err(f) => Err(Outcome::Fail(format!(
                        "instantiation failed without a trap: {}",
                        f.describe()
                    ))),
                }
            }
        }
    }

    fn assert_return(&mut self, exec: &mut WastExecute<'_>, results: &[WastRet<'_>]) -> Outcome {
        let expected = || {
            let parts: Vec<String> = results.iter().map(value::describe_ret).collect();
            format!("[{}]", parts.join(", "))
        };
        let values = match self.execute(exec) {
            Ok(Ok(values)) => values,
            Ok(Err(trap)) => {
                return Outcome::Fail(format!("expected {}, got trap \"{trap}\"", expected()));
            }
            Err(o) => return o,
        };
        let mut all = values.len() == results.len();
        for (e, v) in results.iter().zip(&values) {
            match value::ret_matches(e, v) {
                Ok(m) => all &= m,
                Err(n) => return skip(n),
            }
        }
        if all {
            Outcome::Pass
        } else {
            Outcome::Fail(format!(
                "expected {}, got {}",
                expected(),
                value::describe_values(&values, results)
            ))
        }
    }

    fn assert_trap(&mut self, exec: &mut WastExecute<'_>, message: &str) -> Outcome {
        match self.execute(exec) {
            Ok(Err(trap)) if trap_matches(trap, message) => Outcome::Pass,
            Ok(Err(trap)) => {
                Outcome::Fail(format!("expected trap \"{message}\", got trap \"{trap}\""))
            }
            Ok(Ok(values)) => Outcome::Fail(format!(
                "expected trap \"{message}\", got {}",
                value::describe_values(&values, &[])
            )),
            Err(o) => o,
        }
    }

    fn assert_exhaustion(&mut self, call: &WastInvoke<'_>, message: &str) -> Outcome {
        match self.invoke(call) {
            Ok(Err(Trap::CallStackExhausted)) => Outcome::Pass,
            Ok(Err(trap)) => Outcome::Fail(format!(
                "expected exhaustion \"{message}\", got trap \"{trap}\""
            )),
            Ok(Ok(values)) => Outcome::Fail(format!(
                "expected exhaustion \"{message}\", got {}",
                value::describe_values(&values, &[])
            )),
            Err(o) => o,
        }
    }

    fn assert_unlinkable(&mut self, wat: &mut Wat<'_>, message: &str) -> Outcome {
        if matches!(wat, Wat::Component(_)) {
            return Outcome::Skip("component_model".into());
        }
        let module = match wat
            .encode()
            .map_err(|e| Outcome::Fail(format!("module text does not encode: {}", e.message())))
            .and_then(|bytes| validate(&bytes))
        {
            Ok(m) => m,
            Err(o) => return o,
        };
        let failure = match self.instantiate(&module) {
            Ok(Ok(_)) => {
                return Outcome::Fail(format!(
                    "module linked; expected link failure \"{message}\""
                ));
            }
            Ok(Err(f)) => f,
            Err(o) => return o,
        };
        let kind = match &failure {
            InstFailure::UnknownImport(_) => "unknown import",
            InstFailure::Store(InstantiateError::Link(_)) => "incompatible import type",
            InstFailure::Store(_) => {
                return Outcome::Fail(format!(
                    "expected link failure \"{message}\", got: {}",
                    failure.describe()
                ));
            }
        };
        if kind.starts_with(message) {
            Outcome::Pass
        } else {
            Outcome::Fail(format!(
                "expected link failure \"{message}\", got: {}",
                failure.describe()
            ))
        }
    }
}

/// Line starts of a text, for turning byte offsets into 1-based lines.
pub struct LineIndex(Vec<usize>);

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex(starts)
    }

    /// The 1-based line containing byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&s| s <= offset)
    }
}

/// Parses a script; the error is a readable message with position.
pub fn parse_error(mut e: ::wast::Error, path: &std::path::Path, text: &str) -> String {
    e.set_path(path);
    e.set_text(text);
    e.to_string()
}
