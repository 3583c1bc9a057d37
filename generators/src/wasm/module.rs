//! Module-level state of the wasm generator: the skeleton (types, memories,
//! tables, globals, segments, function signatures) chosen before any body,
//! and the final encoding with everything exported.

use std::borrow::Cow;
use std::collections::HashMap;

use shoal_runtime::{FuncType, ValType};
use wasm_encoder::{
    CodeSection, ConstExpr, DataCountSection, DataSection, ElementSection, Elements, ExportKind,
    ExportSection, Function, FunctionSection, GlobalSection, HeapType, Ieee32, Ieee64,
    MemorySection, MemoryType, RefType, TableSection, TableType, TypeSection,
};

use super::config::{NanMode, WasmConfig};
use super::{Dirt, enc_ty, lanes_of};
use crate::dict;
use crate::rng::Rng;

/// A linear memory.
#[derive(Clone, Debug)]
pub(crate) struct Mem {
    pub memory64: bool,
    pub min: u64,
    pub max: u64,
}

impl Mem {
    /// The address type.
    pub fn addr(&self) -> ValType {
        if self.memory64 {
            ValType::I64
        } else {
            ValType::I32
        }
    }

    /// Bytes accessible from the start (the initial size).
    pub fn min_bytes(&self) -> u64 {
        self.min * shoal_runtime::values::PAGE_SIZE
    }
}

/// A table.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub elem: ValType,
    pub table64: bool,
    pub min: u64,
    pub max: u64,
}

impl Table {
    /// The index type.
    pub fn index(&self) -> ValType {
        if self.table64 {
            ValType::I64
        } else {
            ValType::I32
        }
    }
}

/// A global and its NaN class (the dirt its value may carry).
#[derive(Clone, Debug)]
pub(crate) struct Global {
    pub ty: ValType,
    pub mutable: bool,
    pub class: Dirt,
    pub init: ConstExpr,
}

/// An element segment.
#[derive(Clone, Debug)]
pub(crate) struct Elem {
    pub ty: ValType,
    pub mode: ElemMode,
    /// Function indices (`None` = null); externref segments hold only nulls.
    pub items: Vec<Option<u32>>,
}

/// How an element segment is used.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ElemMode {
    Passive,
    Declared,
    Active { table: u32, offset: u64 },
}

/// A data segment.
#[derive(Clone, Debug)]
pub(crate) struct Data {
    /// `Some((memory, offset))` for an active segment.
    pub active: Option<(u32, u64)>,
    pub bytes: Vec<u8>,
}

/// Everything module-level.
pub(crate) struct ModuleState {
    pub cfg: WasmConfig,
    pub types: Vec<FuncType>,
    type_map: HashMap<FuncType, u32>,
    /// Type index of each function.
    pub funcs: Vec<u32>,
    pub mems: Vec<Mem>,
    pub tables: Vec<Table>,
    pub globals: Vec<Global>,
    pub datas: Vec<Data>,
    pub elems: Vec<Elem>,
    /// Accumulator globals for i32, i64 and v128 observations.
    pub acc_i32: u32,
    pub acc_i64: u32,
    pub acc_v128: Option<u32>,
    /// Float globals created as observation sinks, per lane kind.
    pub float_sinks: Vec<u32>,
    pub bodies: Vec<Function>,
}

impl ModuleState {
    /// The index of a function type, adding it if new.
    pub fn type_index(&mut self, ty: FuncType) -> u32 {
        if let Some(&i) = self.type_map.get(&ty) {
            return i;
        }
        let i = self.types.len() as u32;
        self.types.push(ty.clone());
        self.type_map.insert(ty, i);
        i
    }

    /// The type of function `f`.
    pub fn func_type(&self, f: u32) -> &FuncType {
        &self.types[self.funcs[f as usize] as usize]
    }

    /// The value types functions may use.
    pub fn palette(&self) -> Vec<(ValType, u32)> {
        let mut p = vec![
            (ValType::I32, 4),
            (ValType::I64, 3),
            (ValType::F32, 2),
            (ValType::F64, 2),
        ];
        if self.cfg.simd {
            p.push((ValType::V128, 3));
        }
        if self.cfg.reference_types {
            p.push((ValType::FuncRef, 1));
            p.push((ValType::ExternRef, 1));
        }
        p
    }

    /// A value type from the palette.
    pub fn pick_type(&self, r: &mut Rng<'_>) -> ValType {
        let p = self.palette();
        let w: Vec<u32> = p.iter().map(|&(_, w)| w).collect();
        p[r.weighted(&w)].0
    }

    /// The NaN class given to a new mutable global of type `ty`.
    fn global_class(&self, ty: ValType) -> Dirt {
        match (self.cfg.nan_mode, ty) {
            (NanMode::Tolerant, ValType::F32 | ValType::F64) => lanes_of(ty),
            _ => None,
        }
    }

    /// Adds a global, returning its index.
    pub fn add_global(&mut self, g: Global) -> u32 {
        self.globals.push(g);
        self.globals.len() as u32 - 1
    }

    /// A float observation global of type `ty` (created on demand, at
    /// most four per type; afterwards existing ones are reused).
    pub fn float_sink(&mut self, r: &mut Rng<'_>, ty: ValType) -> u32 {
        let existing: Vec<u32> = self
            .float_sinks
            .iter()
            .copied()
            .filter(|&g| self.globals[g as usize].ty == ty)
            .collect();
        if existing.len() >= 4 || (!existing.is_empty() && r.chance(1, 2)) {
            return existing[r.index(existing.len())];
        }
        let init = const_of(r, ty, self.cfg.extended_const);
        let class = self.global_class(ty);
        let g = self.add_global(Global {
            ty,
            mutable: true,
            class,
            init,
        });
        self.float_sinks.push(g);
        g
    }
}

/// A constant expression of type `ty` with a dictionary value (and, with
/// extended-const, sometimes a little arithmetic).
pub(crate) fn const_of(r: &mut Rng<'_>, ty: ValType, extended: bool) -> ConstExpr {
    match ty {
        ValType::I32 => {
            let a = dict::pick_i32(r);
            if extended && r.chance(1, 4) {
                let b = dict::pick_i32(r);
                let e = ConstExpr::i32_const(a).with_i32_const(b);
                match r.below(3) {
                    0 => e.with_i32_add(),
                    1 => e.with_i32_sub(),
                    _ => e.with_i32_mul(),
                }
            } else {
                ConstExpr::i32_const(a)
            }
        }
        ValType::I64 => {
            let a = dict::pick_i64(r);
            if extended && r.chance(1, 4) {
                let b = dict::pick_i64(r);
                let e = ConstExpr::i64_const(a).with_i64_const(b);
                match r.below(3) {
                    0 => e.with_i64_add(),
                    1 => e.with_i64_sub(),
                    _ => e.with_i64_mul(),
                }
            } else {
                ConstExpr::i64_const(a)
            }
        }
        ValType::F32 => ConstExpr::f32_const(Ieee32::new(dict::pick_f32(r))),
        ValType::F64 => ConstExpr::f64_const(Ieee64::new(dict::pick_f64(r))),
        ValType::V128 => ConstExpr::v128_const(dict::pick_v128(r) as i128),
        ValType::FuncRef => ConstExpr::ref_null(HeapType::FUNC),
        ValType::ExternRef => ConstExpr::ref_null(HeapType::EXTERN),
    }
}

/// Chooses the module skeleton.
pub(crate) fn skeleton(r: &mut Rng<'_>, cfg: &WasmConfig) -> ModuleState {
    let mut m = ModuleState {
        cfg: cfg.clone(),
        types: Vec::new(),
        type_map: HashMap::new(),
        funcs: Vec::new(),
        mems: Vec::new(),
        tables: Vec::new(),
        globals: Vec::new(),
        datas: Vec::new(),
        elems: Vec::new(),
        acc_i32: 0,
        acc_i64: 1,
        acc_v128: None,
        float_sinks: Vec::new(),
        bodies: Vec::new(),
    };
    memories(r, &mut m);
    signatures(r, &mut m);
    tables(r, &mut m);
    globals(r, &mut m);
    datas(r, &mut m);
    elems(r, &mut m);
    m
}

fn memories(r: &mut Rng<'_>, m: &mut ModuleState) {
    let max = m.cfg.max_memories;
    // Usually exactly one memory: the observation sinks store into it.
    let n = if max == 0 {
        0
    } else if r.chance(1, 10) {
        r.range_u32(0, max)
    } else {
        1
    };
    for _ in 0..n {
        let memory64 = m.cfg.memory64 && r.chance(1, 3);
        let min = r.pick_or(&[1, 1, 1, 2, 0], 1);
        // Always bounded: growth then succeeds or fails identically everywhere.
        let max = min + r.range(0, 3);
        m.mems.push(Mem { memory64, min, max });
    }
}

fn signatures(r: &mut Rng<'_>, m: &mut ModuleState) {
    let n = r.range_u32(1, m.cfg.max_funcs);
    for _ in 0..n {
        let nparams = r.range_u32(0, m.cfg.max_params);
        let params = (0..nparams).map(|_| m.pick_type(r)).collect();
        let nresults = if r.chance(1, 8) {
            0
        } else {
            r.range_u32(1, m.cfg.max_results.max(1))
                .min(m.cfg.max_results)
        };
        let results = (0..nresults).map(|_| m.pick_type(r)).collect();
        let ty = m.type_index(FuncType { params, results });
        m.funcs.push(ty);
    }
}

fn tables(r: &mut Rng<'_>, m: &mut ModuleState) {
    let max = m.cfg.max_tables;
    let n = if max == 0 {
        0
    } else {
        r.range_u32(0, max).max(u32::from(r.chance(3, 4)))
    };
    for i in 0..n {
        let elem = if i > 0 && m.cfg.reference_types && r.chance(1, 3) {
            ValType::ExternRef
        } else {
            ValType::FuncRef
        };
        let table64 = m.cfg.memory64 && r.chance(1, 4);
        let min = r.pick_or(&[0, 1, 2, 4, 4, 8], 4);
        let max = min + r.range(0, 8);
        m.tables.push(Table {
            elem,
            table64,
            min,
            max,
        });
    }
}

fn globals(r: &mut Rng<'_>, m: &mut ModuleState) {
    let acc = |ty| Global {
        ty,
        mutable: true,
        class: None,
        init: match ty {
            ValType::I64 => ConstExpr::i64_const(0),
            ValType::V128 => ConstExpr::v128_const(0),
            _ => ConstExpr::i32_const(0),
        },
    };
    m.acc_i32 = m.add_global(acc(ValType::I32));
    m.acc_i64 = m.add_global(acc(ValType::I64));
    if m.cfg.simd {
        m.acc_v128 = Some(m.add_global(acc(ValType::V128)));
    }
    for _ in 0..r.range_u32(0, m.cfg.max_globals) {
        let ty = m.pick_type(r);
        let mutable = r.chance(2, 3);
        let init = if ty == ValType::FuncRef && !m.funcs.is_empty() && r.chance(1, 2) {
            ConstExpr::ref_func(r.below(m.funcs.len() as u64) as u32)
        } else {
            const_of(r, ty, m.cfg.extended_const)
        };
        let class = if mutable { m.global_class(ty) } else { None };
        m.add_global(Global {
            ty,
            mutable,
            class,
            init,
        });
    }
}

fn datas(r: &mut Rng<'_>, m: &mut ModuleState) {
    let n = if m.mems.is_empty() {
        0
    } else {
        r.range_u32(0, 3)
    };
    for _ in 0..n {
        let len = r.range(1, 32) as usize;
        let pattern = dict::pick_v128(r).to_le_bytes();
        let bytes: Vec<u8> = (0..len)
            .map(|i| pattern[i % 16] ^ (i as u8 & 0x80))
            .collect();
        let mem = r.index(m.mems.len()) as u32;
        let room = m.mems[mem as usize].min_bytes();
        // Active segments must fit, or instantiation itself would trap.
        let passive = m.cfg.bulk_memory && r.chance(1, 2);
        let active = if passive || room < len as u64 {
            None
        } else {
            let offset = r.pick_or(&[0, 16, 256, room - len as u64], 0);
            Some((mem, offset))
        };
        if active.is_none() && !m.cfg.bulk_memory {
            continue;
        }
        m.datas.push(Data { active, bytes });
    }
}

fn elems(r: &mut Rng<'_>, m: &mut ModuleState) {
    let nfuncs = m.funcs.len() as u64;
    for t in 0..m.tables.len() {
        let table = m.tables[t].clone();
        if table.elem != ValType::FuncRef || table.min == 0 || !r.chance(3, 4) {
            continue;
        }
        let len = r.range(1, table.min);
        let offset = r.range(0, table.min - len);
        let items = (0..len)
            .map(|_| (!m.cfg.reference_types || !r.chance(1, 8)).then(|| r.below(nfuncs) as u32))
            .collect();
        let mode = ElemMode::Active {
            table: t as u32,
            offset,
        };
        m.elems.push(Elem {
            ty: ValType::FuncRef,
            mode,
            items,
        });
    }
    if !m.cfg.bulk_memory {
        return;
    }
    for _ in 0..r.range(0, 2) {
        let externref = m.cfg.reference_types && r.chance(1, 3);
        let len = r.range(0, 4);
        let items = (0..len)
            .map(|_| {
                let null = externref || (m.cfg.reference_types && r.chance(1, 6));
                (!null).then(|| r.below(nfuncs) as u32)
            })
            .collect();
        let mode = if m.cfg.reference_types && r.chance(1, 5) {
            ElemMode::Declared
        } else {
            ElemMode::Passive
        };
        let ty = if externref {
            ValType::ExternRef
        } else {
            ValType::FuncRef
        };
        m.elems.push(Elem { ty, mode, items });
    }
}

fn ref_type(ty: ValType) -> RefType {
    if ty == ValType::ExternRef {
        RefType::EXTERNREF
    } else {
        RefType::FUNCREF
    }
}

fn offset_expr(index64: bool, offset: u64) -> ConstExpr {
    if index64 {
        ConstExpr::i64_const(offset as i64)
    } else {
        ConstExpr::i32_const(offset as i32)
    }
}

impl ModuleState {
    /// Encodes the module, exporting every function (`f<i>`), memory
    /// (`m<i>`), table (`t<i>`) and global (`g<i>`).
    pub fn finish(&self) -> Vec<u8> {
        let mut module = wasm_encoder::Module::new();
        let mut types = TypeSection::new();
        for t in &self.types {
            types.ty().function(
                t.params.iter().map(|&p| enc_ty(p)),
                t.results.iter().map(|&p| enc_ty(p)),
            );
        }
        module.section(&types);
        let mut funcs = FunctionSection::new();
        for &t in &self.funcs {
            funcs.function(t);
        }
        module.section(&funcs);
        self.encode_tables_memories_globals(&mut module);
        let mut exports = ExportSection::new();
        let groups = [
            ("f", ExportKind::Func, self.funcs.len()),
            ("t", ExportKind::Table, self.tables.len()),
            ("m", ExportKind::Memory, self.mems.len()),
            ("g", ExportKind::Global, self.globals.len()),
        ];
        for (prefix, kind, n) in groups {
            for i in 0..n {
                exports.export(&format!("{prefix}{i}"), kind, i as u32);
            }
        }
        module.section(&exports);
        self.encode_elems(&mut module);
        if self.cfg.bulk_memory && !self.datas.is_empty() {
            module.section(&DataCountSection {
                count: self.datas.len() as u32,
            });
        }
        let mut code = CodeSection::new();
        for b in &self.bodies {
            code.function(b);
        }
        module.section(&code);
        self.encode_datas(&mut module);
        module.finish()
    }

    fn encode_tables_memories_globals(&self, module: &mut wasm_encoder::Module) {
        if !self.tables.is_empty() {
            let mut s = TableSection::new();
            for t in &self.tables {
                s.table(TableType {
                    element_type: ref_type(t.elem),
                    table64: t.table64,
                    minimum: t.min,
                    maximum: Some(t.max),
                    shared: false,
                });
            }
            module.section(&s);
        }
        if !self.mems.is_empty() {
            let mut s = MemorySection::new();
            for m in &self.mems {
                s.memory(MemoryType {
                    minimum: m.min,
                    maximum: Some(m.max),
                    memory64: m.memory64,
                    shared: false,
                    page_size_log2: None,
                });
            }
            module.section(&s);
        }
        if !self.globals.is_empty() {
            let mut s = GlobalSection::new();
            for g in &self.globals {
                let ty = wasm_encoder::GlobalType {
                    val_type: enc_ty(g.ty),
                    mutable: g.mutable,
                    shared: false,
                };
                s.global(ty, &g.init);
            }
            module.section(&s);
        }
    }

    fn encode_elems(&self, module: &mut wasm_encoder::Module) {
        if self.elems.is_empty() {
            return;
        }
        let mut s = ElementSection::new();
        for e in &self.elems {
            let exprs: Vec<ConstExpr> = e
                .items
                .iter()
                .map(|i| match i {
                    Some(f) => ConstExpr::ref_func(*f),
                    None if e.ty == ValType::ExternRef => ConstExpr::ref_null(HeapType::EXTERN),
                    None => ConstExpr::ref_null(HeapType::FUNC),
                })
                .collect();
            let all_funcs = e.items.iter().all(Option::is_some);
            let elements = if all_funcs && e.ty == ValType::FuncRef {
                let f: Vec<u32> = e.items.iter().flatten().copied().collect();
                Elements::Functions(Cow::Owned(f))
            } else {
                Elements::Expressions(ref_type(e.ty), Cow::Owned(exprs))
            };
            match e.mode {
                ElemMode::Passive => s.passive(elements),
                ElemMode::Declared => s.declared(elements),
                ElemMode::Active { table, offset } => {
                    let t = &self.tables[table as usize];
                    s.active(Some(table), &offset_expr(t.table64, offset), elements)
                }
            };
        }
        module.section(&s);
    }

    fn encode_datas(&self, module: &mut wasm_encoder::Module) {
        if self.datas.is_empty() {
            return;
        }
        let mut s = DataSection::new();
        for d in &self.datas {
            match d.active {
                Some((mem, offset)) => {
                    let m = &self.mems[mem as usize];
                    s.active(
                        mem,
                        &offset_expr(m.memory64, offset),
                        d.bytes.iter().copied(),
                    );
                }
                None => {
                    s.passive(d.bytes.iter().copied());
                }
            }
        }
        module.section(&s);
    }
}
