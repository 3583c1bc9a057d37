//! The instruction-first CLIF generator.
//!
//! Like the wasm generator, it chooses a target opcode (at a type
//! signature) from the [`table`] first — every opcode/type combination
//! that `cranelift-interpreter`, x64 and Pulley all support — and then
//! synthesizes operands top-down: dictionary constants, variables, or
//! nested operations producing the type. Functions have several blocks
//! (diamonds, counted loops, `br_table`, early returns, conditional traps),
//! call later functions of the same file, and use stack slots as memory.
//! Every function is built with `cranelift-frontend` and passes the
//! verifier; its results are returned (accumulated across statements).
//!
//! Native execution and the interpreter must agree on everything
//! observable, so the generator avoids what CLIF leaves open: stack slots
//! are initialized before use, accesses stay in bounds (atomics aligned),
//! calls only go to later functions, loops count down, and NaN bits only
//! reach returned float values when [`NanMode::Tolerant`] is chosen (the
//! oracle then compares float lanes NaN-tolerantly).

mod func;
mod ops;
pub mod table;

use arbitrary::Unstructured;
use cranelift_codegen::ir::{AbiParam, Function, Signature, Type, UserFuncName, types};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use crate::rng::Rng;
use crate::testcase::{ClifCase, ClifFunction, ClifRun};
pub use crate::wasm::NanMode;
pub use ops::{GENERATED_TRAP, data_value, float_conditions};

/// Header lines of generated filetests (the Pulley target only when the
/// case restricts itself to what Pulley supports). `return_call` needs
/// frame pointers on x64, so every case asks for them.
pub fn header(cfg: &ClifConfig) -> Vec<String> {
    let mut h = vec![
        "test interpret",
        "test run",
        "set preserve_frame_pointers=true",
        "target x86_64",
    ];
    if cfg.pulley {
        h.push("target pulley64");
    }
    h.into_iter().map(str::to_string).collect()
}

/// CLIF generator configuration (drawn broadly, then legalised).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClifConfig {
    /// Maximum functions per file (≥ 1).
    pub max_funcs: u32,
    /// Maximum parameters per function.
    pub max_params: u32,
    /// Maximum results per function (≥ 1).
    pub max_returns: u32,
    /// Maximum top-level statements per function (≥ 1).
    pub max_statements: u32,
    /// Maximum operand nesting depth.
    pub max_depth: u32,
    /// Maximum nesting of control-flow regions.
    pub max_nesting: u32,
    /// Soft cap on generated operations per function.
    pub max_instructions: u32,
    /// Maximum iterations of each loop.
    pub max_loop_iterations: u32,
    /// Run lines per function (≥ 1).
    pub runs_per_func: u32,
    /// Use 128-bit vectors.
    pub simd: bool,
    /// Use `i128`.
    pub i128: bool,
    /// Use floats.
    pub floats: bool,
    /// Only use what Pulley can compile too (and say so in the header).
    pub pulley: bool,
    /// NaN handling of returned values.
    pub nan_mode: NanMode,
}

impl Default for ClifConfig {
    fn default() -> Self {
        ClifConfig {
            max_funcs: 3,
            max_params: 4,
            max_returns: 3,
            max_statements: 16,
            max_depth: 3,
            max_nesting: 2,
            max_instructions: 200,
            max_loop_iterations: 4,
            runs_per_func: 4,
            simd: true,
            i128: true,
            floats: true,
            pulley: true,
            nan_mode: NanMode::Tolerant,
        }
    }
}

impl ClifConfig {
    /// Draws every field from the input, then legalises.
    pub fn arbitrary(r: &mut Rng<'_>) -> ClifConfig {
        let on = |r: &mut Rng<'_>| !r.chance(1, 8);
        ClifConfig {
            max_funcs: r.range_u32(1, 3),
            max_params: r.range_u32(0, 5),
            max_returns: r.range_u32(1, 3),
            max_statements: r.range_u32(4, 24),
            max_depth: r.range_u32(1, 4),
            max_nesting: r.range_u32(0, 3),
            max_instructions: r.range_u32(40, 300),
            max_loop_iterations: r.range_u32(0, 8),
            runs_per_func: r.range_u32(1, 5),
            simd: on(r),
            i128: on(r),
            floats: on(r),
            pulley: !r.chance(1, 4),
            nan_mode: if r.chance(1, 4) {
                NanMode::Canonical
            } else {
                NanMode::Tolerant
            },
        }
        .legalised()
    }

    /// Clamps every field to a usable range.
    pub fn legalised(mut self) -> ClifConfig {
        self.max_funcs = self.max_funcs.clamp(1, 16);
        self.max_params = self.max_params.min(8);
        self.max_returns = self.max_returns.clamp(1, 8);
        self.max_statements = self.max_statements.clamp(1, 256);
        self.max_depth = self.max_depth.min(8);
        self.max_nesting = self.max_nesting.min(6);
        self.max_instructions = self.max_instructions.clamp(8, 10_000);
        self.max_loop_iterations = self.max_loop_iterations.min(1000);
        self.runs_per_func = self.runs_per_func.clamp(1, 32);
        self
    }

    /// Value types in use.
    pub fn palette(&self) -> Vec<Type> {
        table::TYPES
            .iter()
            .copied()
            .filter(|t| {
                (self.simd || !t.is_vector())
                    && (self.i128 || *t != types::I128)
                    && (self.floats || !t.lane_type().is_float())
            })
            .collect()
    }

    /// The calling convention of generated functions: `tail`, which every
    /// backend supports with `i128` parameters and results (x64's System V
    /// lowering needs the LLVM ABI extensions flag for those).
    pub fn call_conv(&self) -> CallConv {
        CallConv::Tail
    }
}

/// The frontend configuration functions are finalized with (64-bit).
pub fn frontend_config() -> TargetFrontendConfig {
    TargetFrontendConfig {
        default_call_conv: CallConv::Tail,
        pointer_width: target_lexicon::PointerWidth::U64,
        page_size_align_log2: 12,
    }
}

/// Generates a CLIF case from fuzz input (configuration included).
pub fn generate(u: &mut Unstructured<'_>) -> ClifCase {
    let mut r = Rng::take(u);
    let cfg = ClifConfig::arbitrary(&mut r);
    generate_in(&mut r, &cfg)
}

/// Generates a CLIF case with a fixed configuration.
pub fn generate_with_config(u: &mut Unstructured<'_>, cfg: &ClifConfig) -> ClifCase {
    let mut r = Rng::take(u);
    generate_in(&mut r, &cfg.clone().legalised())
}

/// Generates a CLIF case from a `u64` seed.
pub fn generate_from_seed(seed: u64) -> ClifCase {
    let bytes = crate::rng::seed_bytes(seed, crate::SEED_INPUT_LEN);
    generate(&mut Unstructured::new(&bytes))
}

struct Sig {
    params: Vec<Type>,
    rets: Vec<Type>,
}

fn generate_in(r: &mut Rng<'_>, cfg: &ClifConfig) -> ClifCase {
    let palette = cfg.palette();
    let n = r.range_u32(1, cfg.max_funcs);
    let mut sigs: Vec<Sig> = Vec::with_capacity(n as usize);
    for _ in 0..n {
        // Sometimes share an earlier function's results, enabling tail calls.
        if !sigs.is_empty() && r.chance(1, 3) {
            let rets = sigs[r.index(sigs.len())].rets.clone();
            let np = r.range_u32(0, cfg.max_params);
            let params = (0..np).map(|_| r.pick_or(&palette, types::I32)).collect();
            sigs.push(Sig { params, rets });
            continue;
        }
        let sig = {
            let np = r.range_u32(0, cfg.max_params);
            let nr = r.range_u32(1, cfg.max_returns);
            // The first result is the hash of every observation.
            let rets = std::iter::once(types::I64)
                .chain((1..nr).map(|_| r.pick_or(&palette, types::I32)))
                .collect();
            Sig {
                params: (0..np).map(|_| r.pick_or(&palette, types::I32)).collect(),
                rets,
            }
        };
        sigs.push(sig);
    }
    let mut ctx = FunctionBuilderContext::new();
    let mut functions = Vec::with_capacity(sigs.len());
    for i in 0..sigs.len() {
        let function = build_function(r, cfg, &mut ctx, &sigs, i);
        let nruns = if sigs[i].params.is_empty() {
            1
        } else {
            r.range_u32(1, cfg.runs_per_func)
        };
        let runs = (0..nruns)
            .map(|_| ClifRun {
                func: format!("f{i}"),
                args: sigs[i].params.iter().map(|&t| data_value(r, t)).collect(),
                expect: None,
            })
            .collect();
        functions.push(ClifFunction { function, runs });
    }
    ClifCase {
        header: header(cfg),
        functions,
    }
}

fn signature(cfg: &ClifConfig, s: &Sig) -> Signature {
    let mut sig = Signature::new(cfg.call_conv());
    sig.params = s.params.iter().map(|&t| AbiParam::new(t)).collect();
    sig.returns = s.rets.iter().map(|&t| AbiParam::new(t)).collect();
    sig
}

fn build_function(
    r: &mut Rng<'_>,
    cfg: &ClifConfig,
    ctx: &mut FunctionBuilderContext,
    sigs: &[Sig],
    i: usize,
) -> Function {
    let mut func = Function::with_name_signature(
        UserFuncName::testcase(format!("f{i}")),
        signature(cfg, &sigs[i]),
    );
    let b = FunctionBuilder::new(&mut func, ctx);
    let mut g = func::FnGen::new(b, r, cfg);
    for (j, s) in sigs.iter().enumerate().skip(i + 1) {
        g.declare_callee(&format!("f{j}"), &s.params, &s.rets);
    }
    g.prologue(&sigs[i].params, &sigs[i].rets);
    g.body();
    g.finish();
    func
}

/// A function `%name(args) -> rets` whose body is just `op` applied to
/// its parameters (memory operands use a zeroed stack slot). Used to check
/// that every table entry verifies, compiles for each backend and runs in
/// the interpreter.
pub fn single_op_function(op: &table::ClifOp, seed: u64) -> Function {
    let cfg = ClifConfig::default();
    let mut func = Function::with_name_signature(
        UserFuncName::testcase("op"),
        signature(
            &cfg,
            &Sig {
                params: op.args.clone(),
                rets: op.rets.clone(),
            },
        ),
    );
    let mut ctx = FunctionBuilderContext::new();
    let bytes = crate::rng::seed_bytes(seed, 256);
    let mut r = Rng::new(&bytes);
    let b = FunctionBuilder::new(&mut func, &mut ctx);
    let mut g = func::FnGen::new(b, &mut r, &cfg);
    g.single_op(op);
    g.finish();
    func
}
