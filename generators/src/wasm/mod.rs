//! The instruction-first wasm generator.
//!
//! Bottom-up generators (wasm-smith) pick each instruction among those the
//! current operand stack allows, which makes instructions needing unusual
//! stacks (v128 shuffles, narrowing, extmul, lane ops, conversions...) rare.
//! This generator works the other way round:
//!
//! 1. choose a *target* instruction from the [`table`], weighted towards
//!    what bottom-up generation starves;
//! 2. synthesize its operands top-down within a depth budget — constants
//!    from the [`crate::dict`] dictionaries, parameters, locals, globals,
//!    loads, or nested instructions producing the type — sharing values
//!    through `local.tee`;
//! 3. make its results observable: returned, stored to an exported memory,
//!    or folded into an exported global.
//!
//! Control flow terminates: direct calls only go to later functions, every
//! loop has a counter checked on each back edge, and indirect calls are
//! bounded by the engines' fuel and call-depth limits
//! ([`shoal_runtime::Limits`]). NaN payloads never reach bit-exact
//! observations (see [`NanMode`]).
//!
//! The configuration is drawn from the input first ([`WasmConfig::arbitrary`]),
//! then the module skeleton, then each function body, then the invocations.
//! Instructions are filtered *after* being chosen, so turning a proposal off
//! does not change what the rest of an input means.

mod config;
mod control;
mod emit;
mod func;
mod invoke;
mod module;
mod specials;
pub mod table;

pub use config::{NanMode, WasmConfig};

use arbitrary::Unstructured;
use shoal_runtime::ValType;

use crate::rng::Rng;
use crate::testcase::WasmCase;
use table::Lanes;

/// The lanes in which a value's NaN bits may be nondeterministic (`None`:
/// the value is bit-for-bit determined).
pub type Dirt = Option<Lanes>;

/// Generates a wasm test case from fuzz input (configuration included).
pub fn generate(u: &mut Unstructured<'_>) -> WasmCase {
    let mut r = Rng::take(u);
    let cfg = WasmConfig::arbitrary(&mut r);
    generate_in(&mut r, &cfg)
}

/// Generates a wasm test case from fuzz input with a fixed configuration.
pub fn generate_with_config(u: &mut Unstructured<'_>, cfg: &WasmConfig) -> WasmCase {
    let mut r = Rng::take(u);
    generate_in(&mut r, &cfg.clone().legalised())
}

/// Generates a wasm test case from a `u64` seed.
pub fn generate_from_seed(seed: u64) -> WasmCase {
    let bytes = crate::rng::seed_bytes(seed, crate::SEED_INPUT_LEN);
    generate(&mut Unstructured::new(&bytes))
}

fn generate_in(r: &mut Rng<'_>, cfg: &WasmConfig) -> WasmCase {
    let mut m = module::skeleton(r, cfg);
    for f in 0..m.funcs.len() as u32 {
        let body = func::FuncGen::new(&mut m, r, f).generate();
        m.bodies.push(body);
    }
    let module = m.finish();
    let invocations = invoke::invocations(r, &m);
    WasmCase {
        module,
        invocations,
    }
}

/// The wasm-encoder form of a value type.
pub(crate) fn enc_ty(t: ValType) -> wasm_encoder::ValType {
    match t {
        ValType::I32 => wasm_encoder::ValType::I32,
        ValType::I64 => wasm_encoder::ValType::I64,
        ValType::F32 => wasm_encoder::ValType::F32,
        ValType::F64 => wasm_encoder::ValType::F64,
        ValType::V128 => wasm_encoder::ValType::V128,
        ValType::FuncRef => wasm_encoder::ValType::FUNCREF,
        ValType::ExternRef => wasm_encoder::ValType::EXTERNREF,
    }
}

/// The float lanes of a scalar float type (`None` for other types).
pub(crate) fn lanes_of(t: ValType) -> Dirt {
    match t {
        ValType::F32 => Some(Lanes::F32),
        ValType::F64 => Some(Lanes::F64),
        _ => None,
    }
}

/// True if a value of type `ty` can carry NaN dirt at all.
pub(crate) fn can_be_dirty(t: ValType) -> bool {
    matches!(t, ValType::F32 | ValType::F64 | ValType::V128)
}
