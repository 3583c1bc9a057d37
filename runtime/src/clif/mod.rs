//! CLIF-level execution: the same CLIF functions run by the reference
//! interpreter ([`interp`]), natively on the host ([`native`]), on Pulley
//! ([`pulley`]) and through the mid-end ([`midend`]), compared lane-exactly
//! ([`values`], [`differential`]); cross-ISA compile checks ([`cross_isa`]),
//! a Cranelift filetest writer for disagreements ([`filetest`]) and compile
//! sweeps for rule coverage ([`sweep`]).
//!
//! A [`ClifModule`] is a verified set of functions that may call each other
//! by name (`fn0 = %g(...)` resolves to `function %g`). An [`Invocation`]
//! names one of them and gives its arguments as Cranelift `DataValue`s.
//! Every executor returns `Result<Outcome, ExecError>`; only an [`Outcome`]
//! can take part in a finding, an [`ExecError::Inconclusive`] never does.
//!
//! Preconditions shared by the executors (generators must respect them; the
//! interpreter cannot model anything else): memory is accessed only through
//! stack slots; `call_indirect` targets come from `func_addr` of a module
//! function; no `debugtrap`.

pub mod compile;
pub mod config;
pub mod cross_isa;
pub mod differential;
pub mod filetest;
pub mod gaps;
pub mod interp;
pub mod known;
mod libcalls;
mod link;
pub mod midend;
pub mod native;
pub mod pulley;
pub mod reader;
pub mod sweep;
pub mod values;

use std::fmt;

use cranelift_codegen::data_value::DataValue;
use cranelift_codegen::ir::{ExternalName, Function, TrapCode, Type};
use cranelift_codegen::settings;

pub use compile::CompileFailure;
pub use config::{ClifConfig, HostFeatures, OptLevel};
pub use differential::{Executor, Verdict};

/// How long native code or Pulley may run one invocation. They run only
/// after the reference interpreter finished within its fuel, which takes
/// it milliseconds; compiled code still running after this long loops
/// where the reference did not, and ends as a
/// [`DEADLINE`](crate::native::deadline::DEADLINE) trap (a disagreement).
pub const EXEC_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// A verified set of CLIF functions that may call each other by name.
#[derive(Clone, Debug)]
pub struct ClifModule {
    functions: Vec<Function>,
    /// The architectures a filetest's `target` lines name (`x86_64`,
    /// `pulley64`, ...), or `None` when it names none (or the module was not
    /// parsed from a filetest): then every executor applies.
    targets: Option<Vec<String>>,
}

/// A function call to make: which function, with which arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    /// The function's name as written in CLIF, e.g. `%f` or `u0:1`.
    pub func: String,
    /// Arguments, one per parameter, of the parameter's type.
    pub args: Vec<DataValue>,
}

/// What an execution observed.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The function returned these values.
    Returned(Vec<DataValue>),
    /// The function trapped with this Cranelift trap code.
    Trapped(TrapCode),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned(vals) => {
                f.write_str("returned [")?;
                for (i, v) in vals.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", values::Shown(v))?;
                }
                f.write_str("]")
            }
            Outcome::Trapped(code) if *code == crate::native::deadline::DEADLINE => write!(
                f,
                "still running after {} s (the deadline)",
                EXEC_DEADLINE.as_secs()
            ),
            Outcome::Trapped(code) => write!(f, "trap {code}"),
        }
    }
}

/// Why an executor produced no [`Outcome`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ExecError {
    /// The case cannot be judged by this executor (fuel exhausted, a
    /// feature it does not model, undefined behaviour). Never a finding.
    #[error("inconclusive: {0}")]
    Inconclusive(String),
    /// Cranelift failed on a verified function: a finding in itself.
    #[error("{0}")]
    Compile(CompileFailure),
    /// The input itself is wrong (unknown function, argument count or
    /// types): a caller error.
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// Errors building a [`ClifModule`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// The CLIF text does not parse.
    #[error("CLIF parse error: {0}")]
    Parse(String),
    /// A function fails the Cranelift verifier.
    #[error("CLIF verifier error in {func}: {message}")]
    Verifier {
        /// The offending function.
        func: String,
        /// The verifier's report.
        message: String,
    },
    /// A structural problem (duplicate names, unresolved callee, ...).
    #[error("{0}")]
    Invalid(String),
}

impl ClifModule {
    /// Verifies `functions` (the reader and interpreter accept ill-typed
    /// CLIF, so this is mandatory) and checks that every called function is
    /// defined in the set or is a Cranelift libcall.
    pub fn new(functions: Vec<Function>) -> Result<ClifModule, ModuleError> {
        if functions.is_empty() {
            return Err(ModuleError::Invalid("no functions".into()));
        }
        let flags = settings::Flags::new(settings::builder());
        let mut names = std::collections::HashSet::new();
        for func in &functions {
            let name = func.name.to_string();
            if !names.insert(name.clone()) {
                return Err(ModuleError::Invalid(format!("duplicate function {name}")));
            }
            if func.layout.entry_block().is_none() {
                return Err(ModuleError::Invalid(format!("{name} has no body")));
            }
            cranelift_codegen::verifier::verify_function(func, &flags).map_err(|e| {
                ModuleError::Verifier {
                    func: name.clone(),
                    message: e.to_string(),
                }
            })?;
        }
        for func in &functions {
            for (_, ext) in func.dfg.ext_funcs.iter() {
                if matches!(ext.name, ExternalName::LibCall(_)) {
                    continue;
                }
                let callee = ext.name.display(Some(&func.params)).to_string();
                if !names.contains(&callee) {
                    return Err(ModuleError::Invalid(format!(
                        "{} calls {callee}, which is not defined",
                        func.name
                    )));
                }
            }
        }
        Ok(ClifModule {
            functions,
            targets: None,
        })
    }

    /// Parses and verifies CLIF text (one or more functions, optionally
    /// with a filetest header, which is ignored).
    pub fn parse(text: &str) -> Result<ClifModule, ModuleError> {
        let funcs = reader::parse_functions(text).map_err(ModuleError::Parse)?;
        ClifModule::new(funcs)
    }

    /// Parses a filetest: the functions plus every `; run: %f(args) == ...`
    /// (or `; run: %f(args)`, `; print: ...`) line as an [`Invocation`].
    pub fn parse_with_runs(text: &str) -> Result<(ClifModule, Vec<Invocation>), ModuleError> {
        let file = reader::parse_test(text).map_err(ModuleError::Parse)?;
        let mut runs = Vec::new();
        let mut funcs = Vec::new();
        for (func, details) in file.functions {
            for comment in &details.comments {
                let parsed = cranelift_reader::parse_run_command(comment.text, &func.signature)
                    .map_err(|e| ModuleError::Parse(format!("{}: {e}", comment.text.trim())))?;
                let invocation = match parsed {
                    Some(cranelift_reader::RunCommand::Run(inv, _, _))
                    | Some(cranelift_reader::RunCommand::Print(inv)) => inv,
                    None => continue,
                };
                runs.push(Invocation {
                    func: format!("%{}", invocation.func),
                    args: invocation.args,
                });
            }
            funcs.push(func);
        }
        let mut module = ClifModule::new(funcs)?;
        if let cranelift_reader::IsaSpec::Some(isas) = &file.isa_spec {
            module.targets = Some(
                isas.iter()
                    .map(|isa| isa.triple().architecture.to_string())
                    .collect(),
            );
        }
        Ok((module, runs))
    }

    /// The architectures the filetest this came from targets (`None`: no
    /// `target` line, every executor applies).
    pub fn targets(&self) -> Option<&[String]> {
        self.targets.as_deref()
    }

    /// Whether code for `arch` (`x86_64`, `aarch64`, `pulley64`) is meant to
    /// be tested: a filetest's `target` lines list what its functions are
    /// written for (shoal's CLIF generator names `pulley64` only when a
    /// case restricts itself to what Pulley lowers), like `test run` does.
    pub fn targets_arch(&self, arch: &str) -> bool {
        self.targets
            .as_ref()
            .is_none_or(|t| t.iter().any(|a| a == arch))
    }

    /// The same module (targets included) with `functions` instead, which
    /// are verified like [`ClifModule::new`]'s.
    pub fn with_functions(&self, functions: Vec<Function>) -> Result<ClifModule, ModuleError> {
        let mut module = ClifModule::new(functions)?;
        module.targets = self.targets.clone();
        Ok(module)
    }

    /// The functions, in definition order.
    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    /// The function named `name` (as in `function %f` → `%f`).
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name.to_string() == name)
    }

    /// Index of the function named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.functions
            .iter()
            .position(|f| f.name.to_string() == name)
    }

    /// Checks `inv` against the callee's signature and returns the callee
    /// index and its return types.
    pub fn check_invocation(&self, inv: &Invocation) -> Result<(usize, Vec<Type>), ExecError> {
        let index = self
            .index_of(&inv.func)
            .ok_or_else(|| ExecError::Invalid(format!("no function {}", inv.func)))?;
        let sig = &self.functions[index].signature;
        if sig.params.len() != inv.args.len() {
            return Err(ExecError::Invalid(format!(
                "{} takes {} arguments, {} given",
                inv.func,
                sig.params.len(),
                inv.args.len()
            )));
        }
        for (i, (p, a)) in sig.params.iter().zip(&inv.args).enumerate() {
            if !values::fits(a, p.value_type) {
                return Err(ExecError::Invalid(format!(
                    "argument {i} of {}: {} is not a {}",
                    inv.func,
                    values::Shown(a),
                    p.value_type
                )));
            }
        }
        Ok((index, sig.returns.iter().map(|r| r.value_type).collect()))
    }

    /// Indices of the functions reachable from function `root` (itself,
    /// and everything it names in a `call` or `func_addr`, transitively),
    /// in definition order.
    pub fn reachable(&self, root: usize) -> Vec<usize> {
        let mut seen = vec![false; self.functions.len()];
        let mut stack = vec![root];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let func = &self.functions[i];
            for (_, ext) in func.dfg.ext_funcs.iter() {
                let callee = ext.name.display(Some(&func.params)).to_string();
                if let Some(j) = self.index_of(&callee) {
                    stack.push(j);
                }
            }
        }
        (0..self.functions.len()).filter(|&i| seen[i]).collect()
    }

    /// The module restricted to the functions in `indices` (which must be
    /// closed under calls, as [`ClifModule::reachable`] returns them).
    pub fn subset(&self, indices: &[usize]) -> ClifModule {
        ClifModule {
            functions: indices.iter().map(|&i| self.functions[i].clone()).collect(),
            targets: self.targets.clone(),
        }
    }

    /// Whether some function can (directly or through `call_indirect`) call
    /// back into a function already on the stack, i.e. the native stack
    /// depth is not statically bounded.
    pub fn may_recurse(&self) -> bool {
        compile::call_graph_may_recurse(&self.functions)
    }
}

impl fmt::Display for ClifModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, func) in self.functions.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", func.display())?;
        }
        Ok(())
    }
}

impl fmt::Display for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.func)?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", values::Shown(a))?;
        }
        f.write_str(")")
    }
}
