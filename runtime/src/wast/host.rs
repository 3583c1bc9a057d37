//! The `spectest` host module every spec script may import from, with the
//! exact entity types of the reference interpreter (`spectest.ml`):
//!
//! | field | entity |
//! | --- | --- |
//! | `print`, `print_i32`, `print_i64`, `print_f32`, `print_f64`, `print_i32_f32`, `print_f64_f64` | functions with those parameters and no results |
//! | `global_i32`, `global_i64`, `global_f32`, `global_f64` | immutable globals: 666, 666, 666.6, 666.6 |
//! | `table` | `funcref` table, 10..20 elements, i32-indexed |
//! | `table64` | `funcref` table, 10..20 elements, i64-indexed |
//! | `memory` | memory of 1..2 pages |
//!
//! The print functions do nothing: their output is not part of any
//! expectation, and printing would interleave with the harness's report.

use std::collections::HashMap;

use crate::engine::{Extern, InstantiateError, Store};
use crate::values::{FuncType, GlobalType, Limits, MemoryType, TableType, ValType, Value};

/// Allocates the `spectest` entities in `store` and returns its exports by name.
pub fn instantiate_spectest(
    store: &mut dyn Store,
) -> Result<HashMap<String, Extern>, InstantiateError> {
    use ValType::*;
    let mut exports = HashMap::new();
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType {
            params: params.to_vec(),
            results: Vec::new(),
        };
        let f = store.alloc_host_func(ty, Box::new(|_| Ok(Vec::new())));
        exports.insert(name.to_string(), Extern::Func(f));
    }
    let globals = [
        ("global_i32", Value::I32(666)),
        ("global_i64", Value::I64(666)),
        ("global_f32", Value::F32(666.6f32.to_bits())),
        ("global_f64", Value::F64(666.6f64.to_bits())),
    ];
    for (name, init) in globals {
        let ty = GlobalType {
            ty: init.ty(),
            mutable: false,
        };
        let g = store.alloc_global(ty, init);
        exports.insert(name.to_string(), Extern::Global(g));
    }
    for (name, table64) in [("table", false), ("table64", true)] {
        let ty = TableType {
            elem: FuncRef,
            limits: Limits {
                min: 10,
                max: Some(20),
            },
            table64,
        };
        let t = store.alloc_table(ty, Value::FuncRef(None));
        exports.insert(name.to_string(), Extern::Table(t));
    }
    let mem = MemoryType {
        limits: Limits {
            min: 1,
            max: Some(2),
        },
        memory64: false,
    };
    let m = store.alloc_memory(mem)?;
    exports.insert("memory".to_string(), Extern::Memory(m));
    Ok(exports)
}
