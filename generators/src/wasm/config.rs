//! Configuration of the instruction-first wasm generator.
//!
//! Like wasm-smith's `Config`, a configuration is drawn broadly from the fuzz
//! input (every field, explicitly) and then legalised: ranges are clamped and
//! fields that depend on disabled proposals are turned off, so any draw is a
//! usable configuration.

use crate::rng::Rng;

use super::table::Feature;

/// How NaN bit patterns are kept out of bit-exact observations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NanMode {
    /// Float results may reach scalar `f32`/`f64` returns and float globals
    /// with arbitrary NaN bits (the oracle compares those NaN-tolerantly);
    /// everything bit-exact (memory, reinterpretation, integer lanes,
    /// `v128` results) only ever sees canonicalized NaNs. Float operations
    /// stay adjacent to their consumers.
    Tolerant,
    /// Every observable value is NaN-canonical: results, globals and memory
    /// can be compared bit for bit.
    Canonical,
}

/// Generator configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WasmConfig {
    /// Sign-extension operators.
    pub sign_extension: bool,
    /// Non-trapping float-to-int conversions.
    pub saturating_float_to_int: bool,
    /// Multiple results and block parameters.
    pub multi_value: bool,
    /// Bulk memory and table operations, passive segments.
    pub bulk_memory: bool,
    /// Reference types: `externref`, reference values, several tables.
    pub reference_types: bool,
    /// Fixed-width SIMD.
    pub simd: bool,
    /// Tail calls.
    pub tail_call: bool,
    /// Several memories.
    pub multi_memory: bool,
    /// 64-bit memories and tables.
    pub memory64: bool,
    /// Arithmetic in constant expressions.
    pub extended_const: bool,
    /// Maximum number of defined functions (≥ 1).
    pub max_funcs: u32,
    /// Maximum parameters per function.
    pub max_params: u32,
    /// Maximum results per function (≤ 1 without multi-value).
    pub max_results: u32,
    /// Maximum top-level statements per function body (≥ 1).
    pub max_statements: u32,
    /// Maximum operand nesting depth.
    pub max_depth: u32,
    /// Maximum nesting of blocks, loops and ifs.
    pub max_nesting: u32,
    /// Soft cap on instructions per function body.
    pub max_instructions: u32,
    /// Maximum iterations of each loop (its counter's initial value).
    pub max_loop_iterations: u32,
    /// Maximum memories (≤ 1 without multi-memory).
    pub max_memories: u32,
    /// Maximum tables (≤ 1 without reference types).
    pub max_tables: u32,
    /// Maximum extra globals besides the observation accumulators.
    pub max_globals: u32,
    /// Invocations per exported function (≥ 1).
    pub invocations_per_export: u32,
    /// NaN handling.
    pub nan_mode: NanMode,
}

impl Default for WasmConfig {
    /// Everything shoal supports, moderate sizes, tolerant NaN mode.
    fn default() -> Self {
        WasmConfig {
            sign_extension: true,
            saturating_float_to_int: true,
            multi_value: true,
            bulk_memory: true,
            reference_types: true,
            simd: true,
            tail_call: true,
            multi_memory: true,
            memory64: true,
            extended_const: true,
            max_funcs: 4,
            max_params: 4,
            max_results: 3,
            max_statements: 16,
            max_depth: 4,
            max_nesting: 3,
            max_instructions: 1000,
            max_loop_iterations: 4,
            max_memories: 2,
            max_tables: 2,
            max_globals: 4,
            invocations_per_export: 3,
            nan_mode: NanMode::Tolerant,
        }
    }
}

impl WasmConfig {
    /// Draws every field from the input (proposals enabled 7 times in 8),
    /// then legalises.
    pub fn arbitrary(r: &mut Rng<'_>) -> WasmConfig {
        let on = |r: &mut Rng<'_>| !r.chance(1, 8);
        WasmConfig {
            sign_extension: on(r),
            saturating_float_to_int: on(r),
            multi_value: on(r),
            bulk_memory: on(r),
            reference_types: on(r),
            simd: on(r),
            tail_call: on(r),
            multi_memory: on(r),
            memory64: on(r),
            extended_const: on(r),
            // Sizes: compile time grows with the module while rule coverage
            // per case does not (measured: halving the statement budget
            // raised cases/s by half at equal coverage per CPU-second).
            max_funcs: r.range_u32(1, 3),
            max_params: r.range_u32(0, 6),
            max_results: r.range_u32(0, 4),
            max_statements: r.range_u32(3, 12),
            max_depth: r.range_u32(1, 6),
            max_nesting: r.range_u32(0, 4),
            max_instructions: r.range_u32(100, 600),
            max_loop_iterations: r.range_u32(0, 8),
            max_memories: r.range_u32(0, 3),
            max_tables: r.range_u32(0, 3),
            max_globals: r.range_u32(0, 6),
            invocations_per_export: r.range_u32(1, 5),
            nan_mode: if r.chance(1, 4) {
                NanMode::Canonical
            } else {
                NanMode::Tolerant
            },
        }
        .legalised()
    }

    /// Clamps ranges and resolves dependencies between fields.
    pub fn legalised(mut self) -> WasmConfig {
        self.max_funcs = self.max_funcs.clamp(1, 64);
        self.max_params = self.max_params.min(16);
        self.max_results = self.max_results.min(if self.multi_value { 8 } else { 1 });
        self.max_statements = self.max_statements.clamp(1, 256);
        self.max_depth = self.max_depth.min(12);
        self.max_nesting = self.max_nesting.min(8);
        self.max_instructions = self.max_instructions.clamp(16, 100_000);
        self.max_loop_iterations = self.max_loop_iterations.min(1000);
        self.max_memories = self.max_memories.min(if self.multi_memory { 8 } else { 1 });
        self.max_tables = self
            .max_tables
            .min(if self.reference_types { 8 } else { 1 });
        self.max_globals = self.max_globals.min(64);
        self.invocations_per_export = self.invocations_per_export.clamp(1, 32);
        self
    }

    /// Whether instructions of a proposal may be emitted.
    pub fn enables(&self, f: Feature) -> bool {
        match f {
            Feature::Mvp => true,
            Feature::SignExtension => self.sign_extension,
            Feature::SaturatingFloatToInt => self.saturating_float_to_int,
            Feature::BulkMemory => self.bulk_memory,
            Feature::ReferenceTypes => self.reference_types,
            Feature::Simd => self.simd,
            Feature::TailCall => self.tail_call,
        }
    }

    /// The `wasmparser` feature set matching this configuration (what a
    /// validator needs to accept the output).
    pub fn wasm_features(&self) -> wasmparser::WasmFeatures {
        use wasmparser::WasmFeatures as F;
        let mut f = F::MUTABLE_GLOBAL | F::FLOATS | F::GC_TYPES;
        let flags = [
            (self.sign_extension, F::SIGN_EXTENSION),
            (self.saturating_float_to_int, F::SATURATING_FLOAT_TO_INT),
            (self.multi_value, F::MULTI_VALUE),
            (self.bulk_memory, F::BULK_MEMORY),
            (self.reference_types, F::REFERENCE_TYPES),
            (self.simd, F::SIMD),
            (self.tail_call, F::TAIL_CALL),
            (self.multi_memory, F::MULTI_MEMORY),
            (self.memory64, F::MEMORY64),
            (self.extended_const, F::EXTENDED_CONST),
        ];
        for (on, flag) in flags {
            if on {
                f |= flag;
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seed_bytes;

    #[test]
    fn arbitrary_configs_are_legal() {
        for seed in 0..200 {
            let data = seed_bytes(seed, 64);
            let c = WasmConfig::arbitrary(&mut Rng::new(&data));
            assert_eq!(c.clone().legalised(), c);
            assert!(c.max_funcs >= 1 && c.max_statements >= 1);
            if !c.multi_value {
                assert!(c.max_results <= 1);
            }
            if !c.multi_memory {
                assert!(c.max_memories <= 1);
            }
        }
        let empty = WasmConfig::arbitrary(&mut Rng::new(&[]));
        assert!(empty.simd && empty.max_funcs == 1);
    }
}
