//! Structural edits of wasm function bodies, found with the validator's
//! operand-stack heights: a *statement* is a run of operators that leaves
//! the stack as it found it (e.g. `i32.const 1; global.set 0`), an
//! *expression* one that pushes exactly one value on top of what it found.
//! Statements can be deleted and expressions replaced by a constant of
//! their type without breaking stack typing; candidates are validated
//! anyway before anyone judges them.

use std::ops::Range;

use wasmparser::{
    FuncValidatorAllocations, Operator, Parser, Payload, ValType, Validator, WasmFeatures,
};

/// One operator of a body.
#[derive(Clone, Debug)]
struct Op {
    /// Byte range in the module.
    bytes: Range<usize>,
    /// Operand-stack height before and after.
    height: (u32, u32),
    /// Control-stack depth before and after.
    depth: (u32, u32),
    /// Type on top of the stack after the operator, if known.
    top: Option<ValType>,
    /// Whether the operator is a constant zero (nothing to simplify).
    zero_const: bool,
    /// `local.set N` as `(true, N)`, `local.get N` as `(false, N)`.
    local: Option<(bool, u32)>,
    /// Structured control: which of `block`/`loop`/`if`/`else`/`end`.
    control: Option<Control>,
}

/// Structured-control operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Control {
    /// `block` or `loop`.
    Block,
    /// `if`.
    If,
    /// `else`.
    Else,
    /// `end`.
    End,
}

/// A function body's operators.
#[derive(Clone, Debug)]
pub struct Body {
    /// Index among the module's defined functions.
    pub func: usize,
    ops: Vec<Op>,
}

/// What to do with a range of one body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// Defined-function index.
    pub func: usize,
    /// Byte range (in the module) to replace.
    pub bytes: Range<usize>,
    /// Replacement bytes (empty: delete).
    pub with: Vec<u8>,
}

/// Analyses every function body; `None` if the module does not validate.
pub fn analyse(module: &[u8]) -> Option<Vec<Body>> {
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.ok()?;
        if let Payload::CodeSectionEntry(body) = &payload {
            let func = validator.code_section_entry(body).ok()?;
            let mut v = func.into_validator(FuncValidatorAllocations::default());
            v.read_locals(&mut body.get_binary_reader()).ok()?;
            let mut reader = body.get_operators_reader().ok()?;
            let mut ops = Vec::new();
            while !reader.eof() {
                let before = (v.operand_stack_height(), v.control_stack_height());
                let (op, offset) = reader.read_with_offset().ok()?;
                v.op(offset, &op).ok()?;
                let after = (v.operand_stack_height(), v.control_stack_height());
                ops.push(Op {
                    bytes: offset as usize..reader.original_position() as usize,
                    height: (before.0, after.0),
                    depth: (before.1, after.1),
                    top: v.get_operand_type(0).flatten(),
                    zero_const: is_zero_const(&op),
                    local: match op {
                        Operator::LocalSet { local_index } => Some((true, local_index)),
                        Operator::LocalGet { local_index } => Some((false, local_index)),
                        _ => None,
                    },
                    control: match op {
                        Operator::Block { .. } | Operator::Loop { .. } => Some(Control::Block),
                        Operator::If { .. } => Some(Control::If),
                        Operator::Else => Some(Control::Else),
                        Operator::End => Some(Control::End),
                        _ => None,
                    },
                });
            }
            bodies.push(Body {
                func: bodies.len(),
                ops,
            });
        } else {
            validator.payload(&payload).ok()?;
        }
    }
    Some(bodies)
}

fn is_zero_const(op: &Operator<'_>) -> bool {
    match op {
        Operator::I32Const { value } => *value == 0,
        Operator::I64Const { value } => *value == 0,
        Operator::F32Const { value } => value.bits() == 0,
        Operator::F64Const { value } => value.bits() == 0,
        Operator::V128Const { value } => value.i128() == 0,
        Operator::RefNull { .. } => true,
        _ => false,
    }
}

impl Body {
    /// The operator range `[i, j]` ending at `j` that nets `net` values
    /// (0 or 1) without touching what lies below it or leaving its block.
    fn range_ending(&self, j: usize, net: u32) -> Option<usize> {
        let last = &self.ops[j];
        let base = last.height.1.checked_sub(net)?;
        let depth = last.depth.1;
        if last.depth.0 < depth {
            return None;
        }
        let mut i = j;
        loop {
            let op = &self.ops[i];
            if op.depth.0 < depth || op.depth.1 < depth || op.height.1 < base {
                return None;
            }
            if op.depth.0 == depth && op.height.0 <= base {
                let keeps_below = net == 1 || self.top_before(i) == last.top;
                return (op.height.0 == base && keeps_below).then_some(i);
            }
            i = i.checked_sub(1)?;
        }
    }

    /// The type on top of the stack before operator `i`.
    fn top_before(&self, i: usize) -> Option<ValType> {
        match i.checked_sub(1) {
            Some(p) if self.ops[p].height.1 > 0 => self.ops[p].top,
            _ => None,
        }
    }

    fn span(&self, i: usize, j: usize) -> Range<usize> {
        self.ops[i].bytes.start..self.ops[j].bytes.end
    }

    /// Statements (deletable), as disjoint maximal ranges, in order.
    pub fn statements(&self) -> Vec<Range<usize>> {
        let mut out: Vec<Range<usize>> = Vec::new();
        let mut j = self.ops.len();
        while j > 0 {
            j -= 1;
            if let Some(i) = self.range_ending(j, 0) {
                out.push(self.span(i, j));
                // Skip what the statement contains.
                j = i;
            }
        }
        out.reverse();
        out
    }

    /// Every candidate edit, each a group of byte edits applied together,
    /// last first: statement deletions, expression replacements (by a
    /// zero, then by a one, of the expression's type), `local.set N;
    /// local.get N` pair deletions (the value stays on the stack), and
    /// unwrapped `block`/`loop`/`if` constructs (an `if` keeps one arm and
    /// drops its condition).
    pub fn edits(&self) -> Vec<Vec<Edit>> {
        let mut out = Vec::new();
        for j in (0..self.ops.len()).rev() {
            out.extend(self.unwraps(j));
            if j > 0
                && let (Some((true, a)), Some((false, b))) =
                    (self.ops[j - 1].local, self.ops[j].local)
                && a == b
            {
                out.push(vec![self.edit(j - 1, j, Vec::new())]);
            }
            if let Some(i) = self.range_ending(j, 0) {
                out.push(vec![self.edit(i, j, Vec::new())]);
            }
            let Some(i) = self.range_ending(j, 1) else {
                continue;
            };
            let Some(ty) = self.ops[j].top else { continue };
            let single_zero = i == j && self.ops[j].zero_const;
            if !single_zero && let Some(zero) = constant(ty, false) {
                out.push(vec![self.edit(i, j, zero)]);
            }
            if let Some(one) = constant(ty, true)
                && !single_zero
            {
                out.push(vec![self.edit(i, j, one)]);
            }
        }
        out
    }

    /// The ways to unwrap the construct opened at `i` (none if `i` opens
    /// nothing).
    fn unwraps(&self, i: usize) -> Vec<Vec<Edit>> {
        let Some(kind @ (Control::Block | Control::If)) = self.ops[i].control else {
            return Vec::new();
        };
        let inner = self.ops[i].depth.1;
        let at_depth = |k: &usize| self.ops[*k].depth.0 == inner;
        let Some(end) = (i + 1..self.ops.len())
            .filter(at_depth)
            .find(|&k| self.ops[k].control == Some(Control::End))
        else {
            return Vec::new();
        };
        let drop_end = self.edit(end, end, Vec::new());
        if kind == Control::Block {
            return vec![vec![self.edit(i, i, Vec::new()), drop_end]];
        }
        const DROP: u8 = 0x1a;
        let otherwise = (i + 1..end)
            .filter(at_depth)
            .find(|&k| self.ops[k].control == Some(Control::Else));
        match otherwise {
            None => vec![vec![self.edit(i, i, vec![DROP]), drop_end]],
            Some(e) => vec![
                vec![self.edit(i, i, vec![DROP]), self.edit(e, end, Vec::new())],
                vec![self.edit(i, e, vec![DROP]), drop_end],
            ],
        }
    }

    fn edit(&self, i: usize, j: usize, with: Vec<u8>) -> Edit {
        Edit {
            func: self.func,
            bytes: self.span(i, j),
            with,
        }
    }
}

/// The encoding of a zero (or one) constant of `ty`.
fn constant(ty: ValType, one: bool) -> Option<Vec<u8>> {
    let b = u8::from(one);
    Some(match ty {
        ValType::I32 => vec![0x41, b],
        ValType::I64 => vec![0x42, b],
        ValType::F32 => {
            let mut v = vec![0x43];
            v.extend_from_slice(&(if one { 1.0f32 } else { 0.0 }).to_le_bytes());
            v
        }
        ValType::F64 => {
            let mut v = vec![0x44];
            v.extend_from_slice(&(if one { 1.0f64 } else { 0.0 }).to_le_bytes());
            v
        }
        ValType::V128 => {
            let mut v = vec![0xfd, 0x0c];
            let mut lanes = [0u8; 16];
            lanes[0] = b;
            v.extend_from_slice(&lanes);
            v
        }
        ValType::Ref(r) if !one && r.is_func_ref() => vec![0xd0, 0x70],
        ValType::Ref(r) if !one && r.is_extern_ref() => vec![0xd0, 0x6f],
        ValType::Ref(_) => return None,
    })
}

/// The module with `edits` applied (byte ranges must lie in function
/// bodies and not overlap); `None` if the module does not parse.
pub fn apply(module: &[u8], edits: &[Edit]) -> Option<Vec<u8>> {
    rebuild(module, |func, range, bytes| {
        let mut bytes = bytes.to_vec();
        let mut mine: Vec<&Edit> = edits.iter().filter(|e| e.func == func).collect();
        mine.sort_by_key(|e| std::cmp::Reverse(e.bytes.start));
        for e in mine {
            let s = e.bytes.start.checked_sub(range.start)?;
            let t = e.bytes.end.checked_sub(range.start)?;
            if t > bytes.len() || s > t {
                return None;
            }
            bytes.splice(s..t, e.with.iter().copied());
        }
        Some(bytes)
    })
}

/// The module with every function's unused locals dropped and the others
/// renumbered; `None` if the module does not parse or uses local types
/// this does not encode (typed references).
pub fn compact_locals(module: &[u8]) -> Option<Vec<u8>> {
    let params = defined_param_counts(module)?;
    rebuild(module, |func, range, bytes| {
        let body =
            wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(bytes, range.start as u64));
        compact_body(&body, *params.get(func)?)
    })
}

/// Parameter counts of the module's defined functions, in order.
fn defined_param_counts(module: &[u8]) -> Option<Vec<u32>> {
    let mut types: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        match payload.ok()? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.ok()?.into_types() {
                        types.push(match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => f.params().len() as u32,
                            _ => 0,
                        });
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    out.push(*types.get(ty.ok()? as usize)?);
                }
            }
            _ => {}
        }
    }
    Some(out)
}

/// One body with unused locals dropped (parameters stay).
fn compact_body(body: &wasmparser::FunctionBody<'_>, params: u32) -> Option<Vec<u8>> {
    let mut locals: Vec<ValType> = Vec::new();
    for group in body.get_locals_reader().ok()? {
        let (count, ty) = group.ok()?;
        locals.extend(std::iter::repeat_n(ty, count as usize));
    }
    let mut reader = body.get_operators_reader().ok()?;
    let start = reader.original_position() as usize;
    let mut uses: Vec<(Range<usize>, u8, u32)> = Vec::new();
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset().ok()?;
        let (code, index) = match op {
            Operator::LocalGet { local_index } => (0x20, local_index),
            Operator::LocalSet { local_index } => (0x21, local_index),
            Operator::LocalTee { local_index } => (0x22, local_index),
            _ => continue,
        };
        uses.push((
            offset as usize..reader.original_position() as usize,
            code,
            index,
        ));
    }
    let used = |i: u32| i < params || uses.iter().any(|u| u.2 == i);
    let mut renumber = Vec::with_capacity(locals.len());
    let mut kept: Vec<ValType> = Vec::new();
    for (i, ty) in locals.iter().enumerate() {
        let index = params + i as u32;
        renumber.push(used(index).then(|| params + kept.len() as u32));
        if used(index) {
            kept.push(*ty);
        }
    }
    let mut out = Vec::new();
    let groups: Vec<(u32, ValType)> = kept
        .chunk_by(|a, b| a == b)
        .map(|g| (g.len() as u32, g[0]))
        .collect();
    write_leb(&mut out, groups.len() as u64);
    for (count, ty) in groups {
        write_leb(&mut out, u64::from(count));
        out.extend_from_slice(&encode_type(ty)?);
    }
    let base = body.range().start as usize;
    let code = body.as_bytes();
    let mut at = start - base;
    for (range, opcode, index) in uses {
        out.extend_from_slice(&code[at..range.start - base]);
        let new = match index.checked_sub(params) {
            Some(local) => (*renumber.get(local as usize)?)?,
            None => index,
        };
        out.push(opcode);
        write_leb(&mut out, u64::from(new));
        at = range.end - base;
    }
    out.extend_from_slice(&code[at..]);
    Some(out)
}

fn encode_type(ty: ValType) -> Option<[u8; 1]> {
    Some([match ty {
        ValType::I32 => 0x7f,
        ValType::I64 => 0x7e,
        ValType::F32 => 0x7d,
        ValType::F64 => 0x7c,
        ValType::V128 => 0x7b,
        ValType::Ref(r) if r == wasmparser::RefType::FUNCREF => 0x70,
        ValType::Ref(r) if r == wasmparser::RefType::EXTERNREF => 0x6f,
        ValType::Ref(_) => return None,
    }])
}

/// Re-encodes the module with each function body replaced by
/// `body(index, module byte range, bytes)`; other sections are copied.
fn rebuild(
    module: &[u8],
    mut body: impl FnMut(usize, &Range<usize>, &[u8]) -> Option<Vec<u8>>,
) -> Option<Vec<u8>> {
    let mut out = module.get(..8)?.to_vec();
    let mut code: Vec<Vec<u8>> = Vec::new();
    let mut code_at = None;
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.ok()?;
        match &payload {
            Payload::CodeSectionStart { .. } => code_at = Some(out.len()),
            Payload::CodeSectionEntry(entry) => {
                let range = entry.range();
                let range = range.start as usize..range.end as usize;
                code.push(body(code.len(), &range, &module[range.clone()])?);
            }
            _ => {
                if let Some((id, range)) = payload.as_section() {
                    let range = range.start as usize..range.end as usize;
                    out.push(id);
                    write_leb(&mut out, (range.end - range.start) as u64);
                    out.extend_from_slice(&module[range]);
                }
            }
        }
    }
    if let Some(at) = code_at {
        let mut section = Vec::new();
        write_leb(&mut section, code.len() as u64);
        for body in &code {
            write_leb(&mut section, body.len() as u64);
            section.extend_from_slice(body);
        }
        let mut header = vec![10u8];
        write_leb(&mut header, section.len() as u64);
        header.extend_from_slice(&section);
        out.splice(at..at, header);
    }
    Some(out)
}

/// Appends `v` as unsigned LEB128.
pub(super) fn write_leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wat(text: &str) -> Vec<u8> {
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        let mut module = wast::parser::parse::<wast::Wat>(&buf).unwrap();
        module.encode().unwrap()
    }

    const SAMPLE: &str = r#"(module
      (global $g (mut i32) (i32.const 0))
      (func (export "f") (param i32) (result i32)
        i32.const 1
        global.set $g
        block
          local.get 0
          br_if 0
          i32.const 7
          global.set $g
        end
        local.get 0
        i32.const 2
        i32.add))"#;

    #[test]
    fn statements_are_maximal_and_deletable() {
        let module = wat(SAMPLE);
        let bodies = analyse(&module).unwrap();
        let statements = bodies[0].statements();
        // `i32.const 1; global.set`, the whole block, and the `i32.const
        // 2; i32.add` that turns `x` into `x + 2`.
        assert_eq!(statements.len(), 3, "{statements:?}");
        assert!(statements[1].len() > 8, "the block is one statement");
        for s in &statements {
            let edit = Edit {
                func: 0,
                bytes: s.clone(),
                with: Vec::new(),
            };
            let out = apply(&module, &[edit]).unwrap();
            assert!(out.len() < module.len());
            assert!(analyse(&out).is_some(), "deleting {s:?} broke validation");
        }
    }

    #[test]
    fn every_edit_validates_and_untouched_modules_round_trip() {
        let module = wat(SAMPLE);
        assert_eq!(apply(&module, &[]).unwrap(), module);
        let bodies = analyse(&module).unwrap();
        let edits = bodies[0].edits();
        assert!(edits.len() > 8, "{edits:?}");
        assert!(edits.iter().any(|e| e.len() == 2), "the block unwraps");
        for e in edits {
            let out = apply(&module, &e).unwrap();
            // Unwrapping the block retargets its `br_if`: the one edit
            // that may not validate (candidates are validated anyway).
            if e.len() == 1 {
                assert!(analyse(&out).is_some(), "{e:?} broke validation");
            }
        }
    }

    #[test]
    fn ifs_unwrap_to_either_arm() {
        let module = wat(r#"(module (func (export "f") (param i32) (result i32)
                 local.get 0
                 if (result i32) i32.const 1 else i32.const 2 end))"#);
        let bodies = analyse(&module).unwrap();
        let unwraps: Vec<Vec<Edit>> = bodies[0]
            .edits()
            .into_iter()
            .filter(|e| e.len() == 2)
            .collect();
        assert_eq!(unwraps.len(), 2, "{unwraps:?}");
        let arms = [
            r#"(module (func (export "f") (param i32) (result i32)
                 local.get 0 drop i32.const 1))"#,
            r#"(module (func (export "f") (param i32) (result i32)
                 local.get 0 drop i32.const 2))"#,
        ];
        for (edits, arm) in unwraps.iter().zip(arms) {
            assert_eq!(apply(&module, edits).unwrap(), wat(arm));
        }
    }

    #[test]
    fn unused_locals_are_dropped_and_the_rest_renumbered() {
        let module = wat(r#"(module (func (export "f") (param i32) (result i64)
                 (local f32 i64 v128 i64)
                 local.get 0
                 i64.extend_i32_u
                 local.set 4
                 local.get 4))"#);
        let out = compact_locals(&module).unwrap();
        assert!(analyse(&out).is_some());
        assert!(out.len() < module.len());
        let expected = wat(r#"(module (func (export "f") (param i32) (result i64)
                 (local i64)
                 local.get 0
                 i64.extend_i32_u
                 local.set 1
                 local.get 1))"#);
        assert_eq!(out, expected);
        assert_eq!(compact_locals(&out).unwrap(), out);
    }

    #[test]
    fn garbage_is_not_analysed() {
        assert!(analyse(b"\0asm\x01\0\0\0\x0a\x05\x01").is_none());
    }
}
