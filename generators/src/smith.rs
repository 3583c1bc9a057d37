//! The wasm-smith baseline: bottom-up generation with a differential-friendly
//! configuration, to measure what instruction-first generation adds.
//!
//! The configuration enables exactly the proposals shoal supports, exports
//! everything, canonicalizes NaNs after every float operation, bounds
//! memories and tables (so growth is deterministic) and imports nothing.
//! After generation, `ensure_termination` adds a fuel counter to every loop
//! and function entry. Invocations call every exported function with
//! dictionary arguments.

use arbitrary::Unstructured;
use shoal_runtime::Module;

use crate::dict;
use crate::rng::Rng;
use crate::testcase::{Invocation, WasmCase};

/// Fuel given to `ensure_termination`'s counter.
const SMITH_FUEL: u32 = 1000;

/// A wasm-smith configuration drawn from the input, legalised for shoal.
pub fn config(r: &mut Rng<'_>) -> wasm_smith::Config {
    let on = |r: &mut Rng<'_>| !r.chance(1, 8);
    wasm_smith::Config {
        max_imports: 0,
        // Functions need types to exist first.
        min_types: 1,
        min_funcs: r.range(1, 4) as usize,
        max_funcs: r.range(4, 16) as usize,
        max_instructions: r.range(10, 300) as usize,
        max_globals: r.range(0, 10) as usize,
        max_memories: if r.chance(1, 4) {
            r.range(0, 3) as usize
        } else {
            1
        },
        max_tables: r.range(0, 2) as usize,
        max_table_elements: 64,
        max_memory32_bytes: 4 * 65536,
        max_memory64_bytes: 4 * 65536,
        memory_max_size_required: true,
        table_max_size_required: true,
        max_data_segments: r.range(0, 4) as usize,
        max_element_segments: r.range(0, 4) as usize,
        max_nesting_depth: r.range(0, 8) as usize,
        disallow_traps: r.chance(1, 4),
        canonicalize_nans: true,
        export_everything: true,
        bulk_memory_enabled: on(r),
        reference_types_enabled: on(r),
        simd_enabled: on(r),
        multi_value_enabled: on(r),
        saturating_float_to_int_enabled: on(r),
        sign_extension_ops_enabled: on(r),
        tail_call_enabled: on(r),
        memory64_enabled: on(r),
        extended_const_enabled: on(r),
        // Outside shoal's feature set.
        relaxed_simd_enabled: false,
        exceptions_enabled: false,
        threads_enabled: false,
        gc_enabled: false,
        compact_imports_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        shared_everything_threads_enabled: false,
        custom_descriptors_enabled: false,
        multibyte_array_access_enabled: false,
        acquire_release_atomics_enabled: false,
        ..wasm_smith::Config::default()
    }
}

/// Generates a baseline case, or explains why wasm-smith's output was
/// unusable (which would be a configuration bug).
pub fn try_generate(u: &mut Unstructured<'_>) -> Result<WasmCase, String> {
    let mut r = Rng::take(u);
    let cfg = config(&mut r);
    let mut module = {
        let u = r.unstructured();
        wasm_smith::Module::new(cfg, u).map_err(|e| format!("wasm-smith: {e}"))?
    };
    module
        .ensure_termination(SMITH_FUEL)
        .map_err(|e| format!("ensure_termination: {e}"))?;
    let bytes = module.to_bytes();
    let parsed = Module::new(&bytes).map_err(|e| e.to_string())?;
    let invocations = invocations(&mut r, &parsed);
    Ok(WasmCase {
        module: bytes,
        invocations,
    })
}

/// Generates a baseline case (an empty module if wasm-smith fails).
pub fn generate(u: &mut Unstructured<'_>) -> WasmCase {
    try_generate(u).unwrap_or_else(|_| WasmCase {
        module: wasm_encoder::Module::new().finish(),
        invocations: Vec::new(),
    })
}

/// Dictionary-argument invocations of every exported function, in rounds.
pub fn invocations(r: &mut Rng<'_>, m: &Module) -> Vec<Invocation> {
    let funcs: Vec<(String, u32)> = m
        .exports
        .iter()
        .filter(|e| e.kind == shoal_runtime::module::ExternKind::Func)
        .map(|e| (e.name.clone(), e.index))
        .collect();
    let rounds = r.range(1, 3);
    let mut out = Vec::new();
    for _ in 0..rounds {
        for (name, idx) in &funcs {
            let args = m
                .func_type(*idx)
                .params
                .iter()
                .map(|&t| dict::pick_value(r, t))
                .collect();
            out.push(Invocation {
                export: name.clone(),
                args,
            });
        }
    }
    out
}
