//! Decoding coverage: every fixed-width SIMD operator wasmparser knows is
//! either decoded (non-memory) or rejected (memory ops, relaxed SIMD), and
//! each decoded op's operand count and types agree with wasmparser's arity
//! table and with validation of a function that uses it.

mod simd_common;

use shoal_runtime::simd::{self, SimdOp};
use shoal_runtime::{ValType, Value};
use wasmparser::{MemArg, Operator, V128};

/// A placeholder immediate of each operand type.
trait Dummy {
    fn dummy() -> Self;
}

impl Dummy for u8 {
    fn dummy() -> u8 {
        0
    }
}

impl Dummy for [u8; 16] {
    fn dummy() -> [u8; 16] {
        [0; 16]
    }
}

impl Dummy for V128 {
    fn dummy() -> V128 {
        V128::from(0i128)
    }
}

impl Dummy for MemArg {
    fn dummy() -> MemArg {
        MemArg {
            align: 0,
            max_align: 0,
            offset: 0,
            target: wasmparser::MemArgTarget::Memory(0),
            ordering: None,
        }
    }
}

/// One SIMD operator with its proposal, visit name and whether it has a
/// memory immediate.
struct Entry {
    proposal: &'static str,
    op: Operator<'static>,
    visit: &'static str,
    memory: bool,
}

macro_rules! has_memarg {
    () => {
        false
    };
    (memarg $($rest:ident)*) => {
        true
    };
    ($first:ident $($rest:ident)*) => {
        has_memarg!($($rest)*)
    };
}

macro_rules! all_simd_ops {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        vec![$(
            Entry {
                proposal: stringify!($proposal),
                op: Operator::$op $({ $($arg: Dummy::dummy()),* })?,
                visit: stringify!($visit),
                memory: has_memarg!($($($arg)*)?),
            }
        ),*]
    };
}

fn entries() -> Vec<Entry> {
    wasmparser::for_each_visit_simd_operator!(all_simd_ops)
}

/// No module context is needed: every SIMD operator has a fixed arity.
struct NoModule;

impl wasmparser::ModuleArity for NoModule {
    fn sub_type_at(&self, _: u32) -> Option<&wasmparser::SubType> {
        None
    }
    fn tag_type_arity(&self, _: u32) -> Option<(u32, u32)> {
        None
    }
    fn type_index_of_function(&self, _: u32) -> Option<u32> {
        None
    }
    fn func_type_of_cont_type(&self, _: &wasmparser::ContType) -> Option<&wasmparser::FuncType> {
        None
    }
    fn sub_type_of_ref_type(&self, _: &wasmparser::RefType) -> Option<&wasmparser::SubType> {
        None
    }
    fn control_stack_height(&self) -> u32 {
        0
    }
    fn label_block(&self, _: u32) -> Option<(wasmparser::BlockType, wasmparser::FrameKind)> {
        None
    }
}

#[test]
fn every_non_memory_simd_operator_decodes_and_nothing_else() {
    let all = entries();
    let mut decoded = 0;
    for e in &all {
        let got = SimdOp::from_operator(&e.op);
        let expect = e.proposal == "simd" && !e.memory;
        assert_eq!(got.is_some(), expect, "{} ({})", e.visit, e.proposal);
        decoded += usize::from(got.is_some());
    }
    // The fixed-width SIMD proposal has 236 operators, 22 of them memory
    // accesses.
    assert_eq!(decoded, 236 - 22);
    assert!(all.iter().any(|e| e.proposal == "relaxed_simd"));
    // Scalar operators are not SIMD.
    assert_eq!(SimdOp::from_operator(&Operator::I32Add), None);
    assert_eq!(SimdOp::from_operator(&Operator::F64Min), None);
}

#[test]
fn operand_counts_match_wasmparser_arity() {
    for e in entries() {
        let Some(op) = SimdOp::from_operator(&e.op) else {
            continue;
        };
        let (params, results) = e.op.operator_arity(&NoModule).expect("fixed arity");
        assert_eq!(op.num_args(), params as usize, "{}", e.visit);
        assert_eq!(op.param_types().len(), op.num_args(), "{}", e.visit);
        assert_eq!(results, 1, "{}", e.visit);
    }
}

/// `visit_i8x16_add_sat_s` -> `i8x16.add_sat_s`.
fn text_name(visit: &str) -> String {
    visit.trim_start_matches("visit_").replacen('_', ".", 1)
}

fn wat_type(t: ValType) -> &'static str {
    match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        other => panic!("no SIMD operand of type {other}"),
    }
}

/// The text form of the operator with its placeholder immediates.
fn instruction_text(e: &Entry) -> String {
    let name = text_name(e.visit);
    match e.op {
        Operator::V128Const { .. } => format!("{name} i64x2 0x0123456789abcdef -7"),
        Operator::I8x16Shuffle { .. } => {
            format!("{name} 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31")
        }
        _ if name.contains("lane") => format!("{name} 1"),
        _ => name,
    }
}

/// The decoded SIMD instruction in the single function body of `wasm`.
fn simd_op_of(wasm: &[u8]) -> Option<SimdOp> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
            let mut reader = body.get_operators_reader().unwrap();
            while !reader.eof() {
                let op = reader.read().unwrap();
                if !matches!(op, Operator::LocalGet { .. } | Operator::End) {
                    return SimdOp::from_operator(&op);
                }
            }
        }
    }
    None
}

#[test]
fn declared_types_validate_and_eval_returns_the_result_type() {
    let mut features = wasmparser::WasmFeatures::default();
    features.remove(wasmparser::WasmFeatures::RELAXED_SIMD);
    for e in entries() {
        let Some(op) = SimdOp::from_operator(&e.op) else {
            continue;
        };
        let params: Vec<&str> = op.param_types().iter().map(|t| wat_type(*t)).collect();
        let gets: String = (0..params.len())
            .map(|i| format!("local.get {i} "))
            .collect();
        let wat = format!(
            "(module (func (param {}) (result {}) {gets} {}))",
            params.join(" "),
            wat_type(op.result_type()),
            instruction_text(&e),
        );
        let buf = wast::parser::ParseBuffer::new(&wat).unwrap();
        let mut module: wast::Wat = wast::parser::parse(&buf).unwrap_or_else(|err| {
            panic!("{wat}: {err}");
        });
        let bytes = module.encode().unwrap();
        let mut validator = wasmparser::Validator::new_with_features(features);
        if let Err(err) = validator.validate_all(&bytes) {
            panic!("{wat}: {err}");
        }
        // The binary form of the text decodes to the same instruction.
        let from_binary = simd_op_of(&bytes).expect(&wat);
        assert_eq!(
            std::mem::discriminant(&from_binary),
            std::mem::discriminant(&op),
            "{wat}"
        );
        let has_immediates = matches!(
            op,
            SimdOp::Const(_)
                | SimdOp::Shuffle(_)
                | SimdOp::ExtractLane { .. }
                | SimdOp::ReplaceLane { .. }
        );
        if !has_immediates {
            assert_eq!(from_binary, op, "{wat}");
        }
        let args: Vec<Value> = op
            .param_types()
            .iter()
            .map(|t| Value::default_for(*t))
            .collect();
        assert_eq!(simd::eval(&op, &args).ty(), op.result_type(), "{wat}");
    }
}

#[test]
fn immediates_are_kept() {
    let lanes: [u8; 16] = std::array::from_fn(|i| 31 - i as u8);
    assert_eq!(
        SimdOp::from_operator(&Operator::I8x16Shuffle { lanes }),
        Some(SimdOp::Shuffle(lanes))
    );
    let value = V128::from(-2i128);
    assert_eq!(
        SimdOp::from_operator(&Operator::V128Const { value }),
        Some(SimdOp::Const(u128::MAX - 1))
    );
    let op = SimdOp::from_operator(&Operator::I16x8ExtractLaneU { lane: 7 }).unwrap();
    assert_eq!(
        op,
        SimdOp::ExtractLane {
            shape: simd::Shape::I16x8,
            lane: 7,
            signed: false
        }
    );
}
