//! Structural mutations of wasm cases.
//!
//! Function bodies are split into their operators' encodings, edited at
//! that granularity and reassembled; every other section is kept byte for
//! byte. Edits that could let a nondeterministic NaN reach a bit-exact
//! consumer are not made: swaps stay within one NaN behaviour class, and
//! wrappers are integer operations or sign-bit float operations (`neg`,
//! `abs`), which keep clean values clean.

use shoal_runtime::{Module, ValType, Value};
use wasm_encoder::{Encode, Ieee32, Ieee64, Instruction};

use super::ATTEMPTS;
use crate::dict;
use crate::rng::Rng;
use crate::testcase::{Invocation, WasmCase};
use crate::wasm::table::{self, Instr, Kind, NanFlow};

/// One operator: its encoding, its `wasmparser` name, and (for operators
/// of the original module) the operand and control stack heights before
/// it and the type on top of the stack after it.
#[derive(Clone)]
struct Op {
    bytes: Vec<u8>,
    name: String,
    height: Option<(u32, u32)>,
    top: Option<ValType>,
}

/// A function body: raw locals declaration, then operators.
#[derive(Clone)]
struct Body {
    locals: Vec<u8>,
    ops: Vec<Op>,
}

/// A module split into raw sections, with its code decoded.
#[derive(Clone)]
struct Split {
    /// `(id, contents)` of every section, in order.
    sections: Vec<(u8, Vec<u8>)>,
    /// Index of the code section in `sections`.
    code_at: usize,
    bodies: Vec<Body>,
}

/// Applies one mutation to `case`, leaving a valid module; returns its name.
pub fn mutate(case: &mut WasmCase, r: &mut Rng<'_>) -> &'static str {
    if r.chance(3, 4)
        && let Some(split) = split(&case.module)
    {
        for _ in 0..ATTEMPTS {
            let mut candidate = split.clone();
            let Some(name) = mutate_code(&mut candidate, r) else {
                continue;
            };
            let bytes = join(&candidate);
            if shoal_runtime::module::validate(&bytes).is_ok() {
                case.module = bytes;
                return name;
            }
        }
    }
    mutate_invocations(case, r)
}

fn op_name(op: &wasmparser::Operator<'_>) -> String {
    format!("{op:?}")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Splits a module into sections and its function bodies into operators
/// (`None` for modules that do not validate or have no code).
fn split(module: &[u8]) -> Option<Split> {
    let mut sections = Vec::new();
    let mut code_at = None;
    let mut pos = 8;
    while pos < module.len() {
        let id = module[pos];
        let mut reader = wasmparser::BinaryReader::new(&module[pos + 1..], 0);
        let size = reader.read_var_u32().ok()? as usize;
        let start = pos + 1 + reader.current_position();
        let end = start.checked_add(size).filter(|&e| e <= module.len())?;
        if id == 10 {
            code_at = Some(sections.len());
        }
        sections.push((id, module[start..end].to_vec()));
        pos = end;
    }
    Some(Split {
        sections,
        code_at: code_at?,
        bodies: decode_bodies(module)?,
    })
}

/// Decodes every function body, recording stack heights with the validator.
fn decode_bodies(module: &[u8]) -> Option<Vec<Body>> {
    let mut validator =
        wasmparser::Validator::new_with_features(shoal_runtime::module::SUPPORTED_FEATURES);
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let payload = payload.ok()?;
        if let wasmparser::ValidPayload::Func(f, body) = validator.payload(&payload).ok()? {
            out.push(decode_body(
                module,
                f.into_validator(Default::default()),
                &body,
            )?);
        }
    }
    Some(out)
}

fn decode_body(
    module: &[u8],
    mut fv: wasmparser::FuncValidator<wasmparser::ValidatorResources>,
    body: &wasmparser::FunctionBody<'_>,
) -> Option<Body> {
    let mut locals_reader = body.get_locals_reader().ok()?;
    for _ in 0..locals_reader.get_count() {
        let offset = locals_reader.original_position();
        let (n, t) = locals_reader.read().ok()?;
        fv.define_locals(offset, n, t).ok()?;
    }
    let mut ops_reader = body.get_operators_reader().ok()?;
    let code_start = ops_reader.original_position();
    let locals = module[body.range().start as usize..code_start as usize].to_vec();
    let mut ops = Vec::new();
    while !ops_reader.eof() {
        let at = ops_reader.original_position();
        let op = ops_reader.read().ok()?;
        let height = (fv.operand_stack_height(), fv.control_stack_height());
        fv.op(at, &op).ok()?;
        let top = fv
            .get_operand_type(0)
            .flatten()
            .and_then(ValType::from_wasmparser);
        let end = ops_reader.original_position();
        ops.push(Op {
            bytes: module[at as usize..end as usize].to_vec(),
            name: op_name(&op),
            height: Some(height),
            top,
        });
    }
    Some(Body { locals, ops })
}

fn leb(out: &mut Vec<u8>, v: usize) {
    (v as u32).encode(out);
}

/// Reassembles the module.
fn join(s: &Split) -> Vec<u8> {
    let mut out = b"\0asm\x01\0\0\0".to_vec();
    for (i, (id, contents)) in s.sections.iter().enumerate() {
        let contents = if i == s.code_at {
            let mut code = Vec::new();
            leb(&mut code, s.bodies.len());
            for b in &s.bodies {
                let len = b.locals.len() + b.ops.iter().map(|o| o.bytes.len()).sum::<usize>();
                leb(&mut code, len);
                code.extend_from_slice(&b.locals);
                for o in &b.ops {
                    code.extend_from_slice(&o.bytes);
                }
            }
            code
        } else {
            contents.clone()
        };
        out.push(*id);
        leb(&mut out, contents.len());
        out.extend_from_slice(&contents);
    }
    out
}

fn encoded(i: &Instruction<'_>) -> Op {
    let mut bytes = Vec::new();
    i.encode(&mut bytes);
    let mut r = wasmparser::OperatorsReader::new(wasmparser::BinaryReader::new(&bytes, 0));
    let name = r.read().map(|op| op_name(&op)).unwrap_or_default();
    Op {
        bytes,
        name,
        height: None,
        top: None,
    }
}

/// One code mutation (`None` if the chosen kind found nothing to edit).
fn mutate_code(s: &mut Split, r: &mut Rng<'_>) -> Option<&'static str> {
    if s.bodies.is_empty() {
        return None;
    }
    let f = r.index(s.bodies.len());
    let body = &mut s.bodies[f];
    // The final `end` is never edited.
    let n = body.ops.len().checked_sub(1).filter(|&n| n > 0)?;
    match r.below(6) {
        0 | 1 => change_constant(body, n, r),
        2 => swap_instruction(body, n, r),
        3 => wrap_value(body, n, r),
        4 => {
            let (a, b) = self_contained_range(body, n, r)?;
            body.ops.drain(a..b);
            Some("drop-range")
        }
        _ => {
            let (a, b) = self_contained_range(body, n, r)?;
            let copy: Vec<Op> = body.ops[a..b].to_vec();
            body.ops.splice(b..b, copy);
            Some("duplicate-range")
        }
    }
}

/// A range `a..b` (`b <= n`) that leaves the stacks as it found them and
/// never reaches below its starting heights: a statement, whose removal or
/// repetition keeps the function valid. It consumes no outer value, so it
/// cannot be part of a NaN canonicalization either.
fn self_contained_range(body: &Body, n: usize, r: &mut Rng<'_>) -> Option<(usize, usize)> {
    let a = r.index(n);
    let (h0, c0) = body.ops[a].height?;
    let mut ends = Vec::new();
    for b in a + 1..=n.min(a + 40) {
        let (h, c) = body.ops[b].height?;
        if h == h0 && c == c0 {
            ends.push(b);
        }
        if h < h0 || c < c0 {
            break;
        }
    }
    Some((a, *r.pick(&ends)?))
}

/// Indices of operators whose name satisfies `pred`.
fn find(body: &Body, n: usize, pred: impl Fn(&str) -> bool) -> Vec<usize> {
    (0..n).filter(|&i| pred(&body.ops[i].name)).collect()
}

fn change_constant(body: &mut Body, n: usize, r: &mut Rng<'_>) -> Option<&'static str> {
    let consts = find(body, n, |name| name.ends_with("Const"));
    let i = *r.pick(&consts)?;
    let new = match body.ops[i].name.as_str() {
        "I32Const" => Instruction::I32Const(dict::pick_i32(r)),
        "I64Const" => Instruction::I64Const(dict::pick_i64(r)),
        "F32Const" => Instruction::F32Const(Ieee32::new(dict::pick_f32(r))),
        "F64Const" => Instruction::F64Const(Ieee64::new(dict::pick_f64(r))),
        "V128Const" => Instruction::V128Const(dict::pick_v128(r) as i128),
        _ => return None,
    };
    body.ops[i] = encoded(&new);
    Some("change-constant")
}

/// The fixed signature of a plain table instruction.
fn plain(instr: &Instr) -> Option<(&'static [ValType], ValType, &Instruction<'static>)> {
    match &instr.kind {
        Kind::Op {
            params,
            result,
            enc,
        } => Some((params, *result, enc)),
        _ => None,
    }
}

fn swap_instruction(body: &mut Body, n: usize, r: &mut Rng<'_>) -> Option<&'static str> {
    let swappable = find(body, n, |name| {
        table::by_name(name).and_then(plain).is_some()
    });
    let i = *r.pick(&swappable)?;
    let old = table::by_name(&body.ops[i].name)?;
    let (params, result, _) = plain(old)?;
    let same: Vec<&Instr> = table::table()
        .iter()
        .filter(|t| t.name != old.name && t.nan == old.nan && t.feature == old.feature)
        .filter(|t| plain(t).is_some_and(|(p, res, _)| p == params && res == result))
        .collect();
    let new = *r.pick(&same)?;
    body.ops[i] = encoded(plain(new)?.2);
    Some("swap-instruction")
}

/// Unary wrappers `T -> T` that keep clean values clean.
fn wrappers(t: ValType) -> &'static [&'static str] {
    match t {
        ValType::I32 => &[
            "I32Popcnt",
            "I32Clz",
            "I32Ctz",
            "I32Eqz",
            "I32Extend8S",
            "I32Extend16S",
        ],
        ValType::I64 => &[
            "I64Popcnt",
            "I64Clz",
            "I64Ctz",
            "I64Extend8S",
            "I64Extend16S",
            "I64Extend32S",
        ],
        ValType::F32 => &["F32Neg", "F32Abs"],
        ValType::F64 => &["F64Neg", "F64Abs"],
        ValType::V128 => &["V128Not", "I8x16Abs", "I16x8Neg", "I32x4Abs", "I8x16Popcnt"],
        _ => &[],
    }
}

/// Binary wrappers `T, T -> T` applied with a constant second operand.
fn binary_wrappers(t: ValType) -> &'static [&'static str] {
    match t {
        ValType::I32 => &[
            "I32Add", "I32Sub", "I32Mul", "I32And", "I32Or", "I32Xor", "I32Shl", "I32ShrS",
            "I32ShrU", "I32Rotl",
        ],
        ValType::I64 => &[
            "I64Add", "I64Sub", "I64Mul", "I64And", "I64Or", "I64Xor", "I64Shl", "I64ShrS",
            "I64ShrU", "I64Rotr",
        ],
        ValType::V128 => &[
            "V128Xor",
            "V128And",
            "I8x16Add",
            "I16x8AddSatS",
            "I32x4MinU",
            "I64x2Sub",
        ],
        _ => &[],
    }
}

/// The single result type of an operator, when the operator alone says.
fn result_type(name: &str) -> Option<ValType> {
    let i = table::by_name(name)?;
    match &i.kind {
        Kind::Op { result, .. } | Kind::ExtractLane { result, .. } => Some(*result),
        Kind::Const(t) | Kind::Load { ty: t, .. } => Some(*t),
        Kind::LoadLane { .. } | Kind::ReplaceLane { .. } | Kind::Shuffle => Some(ValType::V128),
        _ => None,
    }
}

/// True if the operator's result is never a dirty NaN carrier.
fn clean_result(name: &str) -> bool {
    table::by_name(name).is_some_and(|i| matches!(i.nan, NanFlow::Exact | NanFlow::Consume(_)))
}

fn wrap_value(body: &mut Body, n: usize, r: &mut Rng<'_>) -> Option<&'static str> {
    let producers: Vec<usize> = (0..n)
        .filter(|&i| body.ops[i].top.is_some() || result_type(&body.ops[i].name).is_some())
        .collect();
    let i = *r.pick(&producers)?;
    let t = body.ops[i].top.or_else(|| result_type(&body.ops[i].name))?;
    // Integer vector wrappers would turn a dirty float lane into a
    // non-NaN value: only wrap vectors known to be clean.
    if t == ValType::V128 && !clean_result(&body.ops[i].name) {
        return None;
    }
    let mut insert: Vec<Op> = Vec::new();
    let binary = binary_wrappers(t);
    if !binary.is_empty() && r.chance(1, 2) {
        let c = match t {
            ValType::I32 => Instruction::I32Const(dict::pick_i32(r)),
            ValType::I64 => Instruction::I64Const(dict::pick_i64(r)),
            _ => Instruction::V128Const(dict::pick_v128(r) as i128),
        };
        insert.push(encoded(&c));
        insert.push(encoded(plain(table::by_name(r.pick(binary)?)?)?.2));
    } else {
        let name = r.pick(wrappers(t))?;
        insert.push(encoded(plain(table::by_name(name)?)?.2));
    }
    debug_assert!(insert.iter().all(|o| !o.name.is_empty()));
    body.ops.splice(i + 1..i + 1, insert);
    Some("wrap-value")
}

/// Changes, adds or removes an invocation (always valid).
fn mutate_invocations(case: &mut WasmCase, r: &mut Rng<'_>) -> &'static str {
    let Ok(module) = Module::new(&case.module) else {
        return "none";
    };
    let funcs: Vec<(String, Vec<ValType>)> = module
        .exports
        .iter()
        .filter(|e| e.kind == shoal_runtime::module::ExternKind::Func)
        .map(|e| (e.name.clone(), module.func_type(e.index).params.clone()))
        .collect();
    let with_args: Vec<usize> = (0..case.invocations.len())
        .filter(|&i| !case.invocations[i].args.is_empty())
        .collect();
    match r.below(4) {
        0 | 1 if !with_args.is_empty() => {
            let inv = &mut case.invocations[with_args[r.index(with_args.len())]];
            let k = r.index(inv.args.len());
            let ty = inv.args[k].ty();
            inv.args[k] = dict::pick_value(r, ty);
            "change-argument"
        }
        2 if case.invocations.len() > 1 => {
            let k = r.index(case.invocations.len());
            case.invocations.remove(k);
            "remove-invocation"
        }
        _ if !funcs.is_empty() => {
            let (name, params) = &funcs[r.index(funcs.len())];
            let args: Vec<Value> = params.iter().map(|&t| dict::pick_value(r, t)).collect();
            let at = r.index(case.invocations.len() + 1);
            case.invocations.insert(
                at,
                Invocation {
                    export: name.clone(),
                    args,
                },
            );
            "add-invocation"
        }
        _ => "none",
    }
}
