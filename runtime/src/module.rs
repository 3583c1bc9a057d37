//! The validated module model shared by every wasm engine.
//!
//! [`Module::new`] validates a binary against shoal's explicit feature set
//! ([`SUPPORTED_FEATURES`]) and extracts everything an engine needs to
//! instantiate it: index spaces, constant expressions, segments and the byte
//! ranges of function bodies (which each engine translates once into its own
//! form). A module that needs a proposal outside the supported set is
//! rejected with [`ModuleError::Unsupported`] naming the feature.

use std::ops::Range;
use std::sync::Arc;

use wasmparser::{Parser, Payload, Validator, WasmFeatures};

use crate::values::{FuncType, GlobalType, Limits, MemoryType, TableType, ValType, Value};

/// WebAssembly 2.0 plus multi-memory, memory64, tail calls and extended
/// constant expressions.
pub const SUPPORTED_FEATURES: WasmFeatures = WasmFeatures::WASM2
    .union(WasmFeatures::MULTI_MEMORY)
    .union(WasmFeatures::MEMORY64)
    .union(WasmFeatures::TAIL_CALL)
    .union(WasmFeatures::EXTENDED_CONST);

/// Why a module was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// Valid WebAssembly, but it needs a proposal shoal does not support.
    #[error("unsupported feature: {0}")]
    Unsupported(String),
    /// Malformed or invalid.
    #[error("invalid module: {0}")]
    Invalid(String),
}

/// An imported or exported entity's kind and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    /// A function of the given type.
    Func(FuncType),
    /// A table.
    Table(TableType),
    /// A linear memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}

impl ExternType {
    /// Import matching (WebAssembly 2.0 external subtyping): may an entity of
    /// type `self` be supplied for an import declared as `expected`?
    pub fn matches(&self, expected: &ExternType) -> bool {
        match (self, expected) {
            (ExternType::Func(a), ExternType::Func(b)) => a == b,
            (ExternType::Table(a), ExternType::Table(b)) => {
                a.elem == b.elem && a.table64 == b.table64 && a.limits.matches(&b.limits)
            }
            (ExternType::Memory(a), ExternType::Memory(b)) => {
                a.memory64 == b.memory64 && a.limits.matches(&b.limits)
            }
            (ExternType::Global(a), ExternType::Global(b)) => a == b,
            _ => false,
        }
    }
}

/// The kind of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExternKind {
    /// Function.
    Func,
    /// Table.
    Table,
    /// Memory.
    Memory,
    /// Global.
    Global,
}

/// One import.
#[derive(Clone, Debug)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// Expected type.
    pub ty: ExternType,
}

/// One export.
#[derive(Clone, Debug)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// Kind of entity.
    pub kind: ExternKind,
    /// Index in the kind's index space.
    pub index: u32,
}

/// One instruction of a constant expression (extended-const included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstOp {
    /// `i32.const`.
    I32(i32),
    /// `i64.const`.
    I64(i64),
    /// `f32.const` (bits).
    F32(u32),
    /// `f64.const` (bits).
    F64(u64),
    /// `v128.const`.
    V128(u128),
    /// `ref.null t`.
    RefNull(ValType),
    /// `ref.func idx`.
    RefFunc(u32),
    /// `global.get idx`.
    GlobalGet(u32),
    /// `i32.add`.
    I32Add,
    /// `i32.sub`.
    I32Sub,
    /// `i32.mul`.
    I32Mul,
    /// `i64.add`.
    I64Add,
    /// `i64.sub`.
    I64Sub,
    /// `i64.mul`.
    I64Mul,
}

/// A validated constant expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstExpr(pub Vec<ConstOp>);

impl ConstExpr {
    /// Evaluates the expression. `global` reads a global of the instance
    /// being built (by index); `func` turns a function index into a funcref.
    pub fn eval(&self, global: &dyn Fn(u32) -> Value, func: &dyn Fn(u32) -> Value) -> Value {
        let mut stack: Vec<Value> = Vec::with_capacity(4);
        for op in &self.0 {
            let v = match *op {
                ConstOp::I32(v) => Value::I32(v),
                ConstOp::I64(v) => Value::I64(v),
                ConstOp::F32(v) => Value::F32(v),
                ConstOp::F64(v) => Value::F64(v),
                ConstOp::V128(v) => Value::V128(v),
                ConstOp::RefNull(ValType::ExternRef) => Value::ExternRef(None),
                ConstOp::RefNull(_) => Value::FuncRef(None),
                ConstOp::RefFunc(i) => func(i),
                ConstOp::GlobalGet(i) => global(i),
                bin => {
                    let b = stack.pop();
                    let a = stack.pop();
                    const_binop(bin, a, b)
                }
            };
            stack.push(v);
        }
        // Validation guarantees exactly one value of the right type.
        stack.pop().unwrap_or(Value::I32(0))
    }
}

fn const_binop(op: ConstOp, a: Option<Value>, b: Option<Value>) -> Value {
    match (op, a, b) {
        (ConstOp::I32Add, Some(Value::I32(a)), Some(Value::I32(b))) => {
            Value::I32(a.wrapping_add(b))
        }
        (ConstOp::I32Sub, Some(Value::I32(a)), Some(Value::I32(b))) => {
            Value::I32(a.wrapping_sub(b))
        }
        (ConstOp::I32Mul, Some(Value::I32(a)), Some(Value::I32(b))) => {
            Value::I32(a.wrapping_mul(b))
        }
        (ConstOp::I64Add, Some(Value::I64(a)), Some(Value::I64(b))) => {
            Value::I64(a.wrapping_add(b))
        }
        (ConstOp::I64Sub, Some(Value::I64(a)), Some(Value::I64(b))) => {
            Value::I64(a.wrapping_sub(b))
        }
        (ConstOp::I64Mul, Some(Value::I64(a)), Some(Value::I64(b))) => {
            Value::I64(a.wrapping_mul(b))
        }
        // Unreachable for validated expressions.
        _ => Value::I32(0),
    }
}

/// How an element segment is used.
#[derive(Clone, Debug)]
pub enum ElemMode {
    /// Available to `table.init`.
    Passive,
    /// Only declares functions referenceable by `ref.func`.
    Declared,
    /// Copied into a table at instantiation, then dropped.
    Active {
        /// Target table.
        table: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
}

/// An element segment.
#[derive(Clone, Debug)]
pub struct ElemSegment {
    /// Mode.
    pub mode: ElemMode,
    /// Element type.
    pub ty: ValType,
    /// Items (function indices become `ref.func`).
    pub items: Vec<ConstExpr>,
}

/// How a data segment is used.
#[derive(Clone, Debug)]
pub enum DataMode {
    /// Available to `memory.init`.
    Passive,
    /// Copied into a memory at instantiation, then dropped.
    Active {
        /// Target memory.
        memory: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
}

/// A data segment; its bytes are [`Module::data_bytes`].
#[derive(Clone, Debug)]
pub struct DataSegment {
    /// Mode.
    pub mode: DataMode,
    /// Byte range in the module binary.
    pub range: Range<usize>,
}

/// A defined function's body location.
#[derive(Clone, Debug)]
pub struct FuncBody {
    /// Byte range of the body (locals and code) in the module binary.
    pub range: Range<usize>,
}

/// A validated module.
#[derive(Clone, Debug)]
pub struct Module {
    bytes: Arc<[u8]>,
    /// Type section (function types).
    pub types: Vec<FuncType>,
    /// Imports in order.
    pub imports: Vec<Import>,
    /// Type index of every function in the function index space (imports first).
    pub funcs: Vec<u32>,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Every table in the table index space (imports first).
    pub tables: Vec<TableType>,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// Every memory in the memory index space (imports first).
    pub memories: Vec<MemoryType>,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Every global in the global index space (imports first).
    pub globals: Vec<GlobalType>,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Initializers of the defined globals.
    pub global_inits: Vec<ConstExpr>,
    /// Exports.
    pub exports: Vec<Export>,
    /// Start function.
    pub start: Option<u32>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments.
    pub datas: Vec<DataSegment>,
    /// Bodies of the defined functions.
    pub bodies: Vec<FuncBody>,
}

impl Module {
    /// Validates and decodes a module binary.
    pub fn new(bytes: &[u8]) -> Result<Module, ModuleError> {
        validate(bytes)?;
        decode(Arc::from(bytes)).map_err(|e| ModuleError::Unsupported(e.0))
    }

    /// The module binary.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Type of function `idx` (in the function index space).
    pub fn func_type(&self, idx: u32) -> &FuncType {
        &self.types[self.funcs[idx as usize] as usize]
    }

    /// The bytes of data segment `idx`.
    pub fn data_bytes(&self, idx: u32) -> &[u8] {
        &self.bytes[self.datas[idx as usize].range.clone()]
    }

    /// A reader over defined function `def_idx`'s body (locals, then operators).
    pub fn body(&self, def_idx: u32) -> wasmparser::FunctionBody<'_> {
        let r = self.bodies[def_idx as usize].range.clone();
        let reader = wasmparser::BinaryReader::new(&self.bytes[r.clone()], r.start as u64);
        wasmparser::FunctionBody::new(reader)
    }

    /// Looks up an export by name.
    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }
}

/// Validates `bytes` with [`SUPPORTED_FEATURES`]; when that fails but some
/// broader feature set accepts the module, reports which feature it needs.
pub fn validate(bytes: &[u8]) -> Result<(), ModuleError> {
    let err = match Validator::new_with_features(SUPPORTED_FEATURES).validate_all(bytes) {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    let accepts = |f: WasmFeatures| Validator::new_with_features(f).validate_all(bytes).is_ok();
    if !accepts(WasmFeatures::all()) {
        return Err(ModuleError::Invalid(err.to_string()));
    }
    // Shrink the set of extra proposals greedily to a minimal one that
    // still accepts the module, and name it.
    let extra = WasmFeatures::all().difference(SUPPORTED_FEATURES);
    let mut needed = extra;
    for (_, flag) in extra.iter_names() {
        let fewer = needed.difference(flag);
        if accepts(SUPPORTED_FEATURES | fewer) {
            needed = fewer;
        }
    }
    let names: Vec<String> = needed
        .iter_names()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    Err(ModuleError::Unsupported(names.join(" + ")))
}

fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> DecodeResult<ConstExpr> {
    use wasmparser::Operator as O;
    let mut ops = Vec::new();
    for op in expr.get_operators_reader() {
        ops.push(match op? {
            O::I32Const { value } => ConstOp::I32(value),
            O::I64Const { value } => ConstOp::I64(value),
            O::F32Const { value } => ConstOp::F32(value.bits()),
            O::F64Const { value } => ConstOp::F64(value.bits()),
            O::V128Const { value } => ConstOp::V128(u128::from_le_bytes(*value.bytes())),
            O::RefNull { hty } => ConstOp::RefNull(heap_type(hty)),
            O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            O::I32Add => ConstOp::I32Add,
            O::I32Sub => ConstOp::I32Sub,
            O::I32Mul => ConstOp::I32Mul,
            O::I64Add => ConstOp::I64Add,
            O::I64Sub => ConstOp::I64Sub,
            O::I64Mul => ConstOp::I64Mul,
            O::End => break,
            other => return Err(unexpected(&format!("constant operator {other:?}"))),
        });
    }
    Ok(ConstExpr(ops))
}

/// A decoding failure after validation (only constructs outside the
/// supported feature set can cause one).
#[derive(Debug)]
struct DecodeError(String);

impl From<wasmparser::BinaryReaderError> for DecodeError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        DecodeError(e.to_string())
    }
}

type DecodeResult<T> = Result<T, DecodeError>;

fn unexpected(what: &str) -> DecodeError {
    DecodeError(format!("unsupported {what}"))
}

fn heap_type(hty: wasmparser::HeapType) -> ValType {
    use wasmparser::{AbstractHeapType, HeapType};
    match hty {
        HeapType::Abstract {
            ty: AbstractHeapType::Extern,
            ..
        } => ValType::ExternRef,
        _ => ValType::FuncRef,
    }
}

fn val_type(ty: wasmparser::ValType) -> DecodeResult<ValType> {
    ValType::from_wasmparser(ty).ok_or_else(|| unexpected(&format!("value type {ty:?}")))
}

fn ref_type(ty: wasmparser::RefType) -> DecodeResult<ValType> {
    ValType::from_ref_type(ty).ok_or_else(|| unexpected(&format!("reference type {ty:?}")))
}

/// Converts a wasmparser function type.
fn func_type(ft: &wasmparser::FuncType) -> DecodeResult<FuncType> {
    Ok(FuncType {
        params: ft
            .params()
            .iter()
            .map(|t| val_type(*t))
            .collect::<Result<_, _>>()?,
        results: ft
            .results()
            .iter()
            .map(|t| val_type(*t))
            .collect::<Result<_, _>>()?,
    })
}

fn table_type(t: &wasmparser::TableType) -> DecodeResult<TableType> {
    Ok(TableType {
        elem: ref_type(t.element_type)?,
        limits: Limits {
            min: t.initial,
            max: t.maximum,
        },
        table64: t.table64,
    })
}

fn memory_type(m: &wasmparser::MemoryType) -> MemoryType {
    MemoryType {
        limits: Limits {
            min: m.initial,
            max: m.maximum,
        },
        memory64: m.memory64,
    }
}

fn global_type(g: &wasmparser::GlobalType) -> DecodeResult<GlobalType> {
    Ok(GlobalType {
        ty: val_type(g.content_type)?,
        mutable: g.mutable,
    })
}

fn empty(bytes: Arc<[u8]>) -> Module {
    Module {
        bytes,
        types: Vec::new(),
        imports: Vec::new(),
        funcs: Vec::new(),
        num_imported_funcs: 0,
        tables: Vec::new(),
        num_imported_tables: 0,
        memories: Vec::new(),
        num_imported_memories: 0,
        globals: Vec::new(),
        num_imported_globals: 0,
        global_inits: Vec::new(),
        exports: Vec::new(),
        start: None,
        elems: Vec::new(),
        datas: Vec::new(),
        bodies: Vec::new(),
    }
}

fn decode(bytes: Arc<[u8]>) -> DecodeResult<Module> {
    let mut m = empty(bytes.clone());
    for payload in Parser::new(0).parse_all(&bytes) {
        decode_payload(&mut m, payload?)?;
    }
    Ok(m)
}

fn decode_payload(m: &mut Module, payload: Payload<'_>) -> DecodeResult<()> {
    match payload {
        Payload::TypeSection(r) => decode_types(m, r)?,
        Payload::ImportSection(r) => {
            for group in r {
                match group? {
                    wasmparser::Imports::Single(_, imp) => add_import(m, imp)?,
                    _ => return Err(unexpected("compact import encoding")),
                }
            }
        }
        Payload::FunctionSection(r) => {
            for ty in r {
                m.funcs.push(ty?);
            }
        }
        Payload::TableSection(r) => {
            for t in r {
                let t = t?;
                if !matches!(t.init, wasmparser::TableInit::RefNull) {
                    return Err(unexpected("table initializer expression"));
                }
                m.tables.push(table_type(&t.ty)?);
            }
        }
        Payload::MemorySection(r) => {
            for mem in r {
                m.memories.push(memory_type(&mem?));
            }
        }
        Payload::GlobalSection(r) => {
            for g in r {
                let g = g?;
                m.globals.push(global_type(&g.ty)?);
                m.global_inits.push(const_expr(&g.init_expr)?);
            }
        }
        Payload::ExportSection(r) => {
            for e in r {
                let e = e?;
                m.exports.push(Export {
                    name: e.name.to_string(),
                    kind: extern_kind(e.kind)?,
                    index: e.index,
                });
            }
        }
        Payload::StartSection { func, .. } => m.start = Some(func),
        Payload::ElementSection(r) => {
            for e in r {
                m.elems.push(decode_elem(e?)?);
            }
        }
        Payload::DataSection(r) => {
            for d in r {
                m.datas.push(decode_data(d?)?);
            }
        }
        Payload::CodeSectionEntry(body) => {
            let r = body.range();
            m.bodies.push(FuncBody {
                range: r.start as usize..r.end as usize,
            });
        }
        _ => {}
    }
    Ok(())
}

fn decode_types(m: &mut Module, r: wasmparser::TypeSectionReader<'_>) -> DecodeResult<()> {
    for group in r {
        for sub in group?.types() {
            match &sub.composite_type.inner {
                wasmparser::CompositeInnerType::Func(ft) => m.types.push(func_type(ft)?),
                _ => return Err(unexpected("non-function type")),
            }
        }
    }
    Ok(())
}

fn add_import(m: &mut Module, imp: wasmparser::Import<'_>) -> DecodeResult<()> {
    use wasmparser::TypeRef;
    let ty = match imp.ty {
        TypeRef::Func(idx) => {
            m.funcs.push(idx);
            m.num_imported_funcs += 1;
            ExternType::Func(m.types[idx as usize].clone())
        }
        TypeRef::Table(t) => {
            let t = table_type(&t)?;
            m.tables.push(t);
            m.num_imported_tables += 1;
            ExternType::Table(t)
        }
        TypeRef::Memory(mem) => {
            let mem = memory_type(&mem);
            m.memories.push(mem);
            m.num_imported_memories += 1;
            ExternType::Memory(mem)
        }
        TypeRef::Global(g) => {
            let g = global_type(&g)?;
            m.globals.push(g);
            m.num_imported_globals += 1;
            ExternType::Global(g)
        }
        other => return Err(unexpected(&format!("import {other:?}"))),
    };
    m.imports.push(Import {
        module: imp.module.to_string(),
        name: imp.name.to_string(),
        ty,
    });
    Ok(())
}

fn extern_kind(k: wasmparser::ExternalKind) -> DecodeResult<ExternKind> {
    use wasmparser::ExternalKind as K;
    Ok(match k {
        K::Func => ExternKind::Func,
        K::Table => ExternKind::Table,
        K::Memory => ExternKind::Memory,
        K::Global => ExternKind::Global,
        other => return Err(unexpected(&format!("export kind {other:?}"))),
    })
}

fn decode_elem(e: wasmparser::Element<'_>) -> DecodeResult<ElemSegment> {
    let mode = match e.kind {
        wasmparser::ElementKind::Passive => ElemMode::Passive,
        wasmparser::ElementKind::Declared => ElemMode::Declared,
        wasmparser::ElementKind::Active {
            table_index,
            offset_expr,
        } => ElemMode::Active {
            table: table_index.unwrap_or(0),
            offset: const_expr(&offset_expr)?,
        },
    };
    let (ty, items) = match e.items {
        wasmparser::ElementItems::Functions(r) => {
            let items = r
                .into_iter()
                .map(|f| f.map(|f| ConstExpr(vec![ConstOp::RefFunc(f)])))
                .collect::<Result<_, _>>()?;
            (ValType::FuncRef, items)
        }
        wasmparser::ElementItems::Expressions(rt, r) => {
            let items = r
                .into_iter()
                .map(|e| const_expr(&e?))
                .collect::<Result<_, _>>()?;
            (ref_type(rt)?, items)
        }
    };
    Ok(ElemSegment { mode, ty, items })
}

fn decode_data(d: wasmparser::Data<'_>) -> DecodeResult<DataSegment> {
    let mode = match d.kind {
        wasmparser::DataKind::Passive => DataMode::Passive,
        wasmparser::DataKind::Active {
            memory_index,
            offset_expr,
        } => DataMode::Active {
            memory: memory_index,
            offset: const_expr(&offset_expr)?,
        },
    };
    // `d.data` borrows from the module bytes; recover its offset from the
    // segment's range end (the payload is the segment's tail).
    let end = d.range.end as usize;
    Ok(DataSegment {
        mode,
        range: end - d.data.len()..end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_as_invalid() {
        assert!(matches!(
            Module::new(b"\0asm\x01\0\0\0\x99"),
            Err(ModuleError::Invalid(_))
        ));
    }

    #[test]
    fn names_the_unsupported_feature() {
        // (module (func (result i32) i32.const 1 i32.const 2 i32.const 3 i32x4.relaxed_laneselect)) is
        // awkward to hand-assemble; a shared memory needs `threads` and is tiny.
        let bytes = [
            0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, // header
            5, 4, 1, 3, 1, 1, // memory section: shared, min 1, max 1
        ];
        assert_eq!(
            Module::new(&bytes).unwrap_err(),
            ModuleError::Unsupported("threads".into())
        );
    }
}
