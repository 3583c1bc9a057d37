//! Instantiating a [`Pattern`] as WebAssembly.
//!
//! Only patterns whose every node maps back to wasm qualify: instructions
//! through the JIT translator's table of simple operators
//! (`shoal_runtime::jit::optable`: opcode, controlling type, operand type
//! and condition code must all match), constants of wasm types, and
//! unconstrained values of wasm types (function parameters). A scalar
//! comparison produces an `i32` in wasm (the translator adds the `uextend`
//! of CLIF's `i8`), so a `uextend` of a comparison to `i32` maps to nothing.
//! Values used twice go through `local.tee`. The module (one exported
//! function `f` returning the root's value) is written as WAT and assembled
//! with `wast`; invocations come from per-type edge values.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{Opcode, Type, types};
use shoal_runtime::jit::optable::{OpMapping, op_table};
use shoal_runtime::{ValType, Value};

use super::typing::{self, Typing};
use super::{Prepared, choose_imms, random_imms, values};
use crate::dict;
use crate::pattern::{ImmKind, NodeId, NodeKind, Pattern};
use crate::rng::Rng;
use crate::testcase::{Invocation, WasmCase};

/// Export name of the function holding the pattern.
pub const EXPORT: &str = "f";

/// Up to `max` wasm test cases containing `pattern`, one per distinct
/// mappable type assignment (and immediate choice).
pub fn instantiate_wasm(pattern: &Pattern, max: usize) -> Vec<WasmCase> {
    let typings = typing::solve(pattern, 12);
    let mut out: Vec<WasmCase> = Vec::new();
    for (k, t) in typings.iter().enumerate() {
        if out.len() >= max {
            break;
        }
        let imms = choose_imms(pattern, t, k / typings.len().max(1));
        let Some(wat) = to_wat(pattern, t, &imms) else {
            continue;
        };
        let Some(module) = assemble(&wat) else {
            continue;
        };
        let params = params(pattern, t);
        let invocations = (0..4)
            .map(|a| Invocation {
                export: EXPORT.to_string(),
                args: params
                    .iter()
                    .enumerate()
                    .map(|(i, ty)| arg(*ty, a + i))
                    .collect(),
            })
            .collect();
        let case = WasmCase {
            module,
            invocations,
        };
        if !out.contains(&case) {
            out.push(case);
        }
    }
    out
}

/// A wasm test case containing the pattern under a random type assignment
/// of `prepared` with random immediates, invoked with dictionary arguments
/// (edge values); `None` if a few tries find no mapping to wasm.
pub fn random_wasm(prepared: &Prepared, r: &mut Rng<'_>) -> Option<WasmCase> {
    let p = &prepared.pattern;
    if prepared.typings.is_empty() {
        return None;
    }
    for _ in 0..4 {
        let t = &prepared.typings[r.index(prepared.typings.len())];
        let imms = random_imms(p, t, r);
        let Some(module) = to_wat(p, t, &imms).and_then(|wat| assemble(&wat)) else {
            continue;
        };
        let params: Vec<ValType> = params(p, t).into_iter().filter_map(wasm_type).collect();
        let invocations = (0..r.range(2, 4))
            .map(|_| Invocation {
                export: EXPORT.to_string(),
                args: params.iter().map(|ty| dict::pick_value(r, *ty)).collect(),
            })
            .collect();
        return Some(WasmCase {
            module,
            invocations,
        });
    }
    None
}

fn wasm_type(ty: Type) -> Option<ValType> {
    Some(match ty {
        types::I32 => ValType::I32,
        types::I64 => ValType::I64,
        types::F32 => ValType::F32,
        types::F64 => ValType::F64,
        t if t.is_vector() && t.bits() == 128 => ValType::V128,
        _ => return None,
    })
}

/// The wasm value type of a CLIF type, if there is one.
fn val_type(ty: Type) -> Option<&'static str> {
    Some(match ty {
        types::I32 => "i32",
        types::I64 => "i64",
        types::F32 => "f32",
        types::F64 => "f64",
        t if t.is_vector() && t.bits() == 128 => "v128",
        _ => return None,
    })
}

fn params(p: &Pattern, t: &Typing) -> Vec<Type> {
    p.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| matches!(n.kind, NodeKind::Any))
        .map(|(i, _)| t.value[i])
        .collect()
}

/// The simple operator producing node `n`, if any.
fn mapping(p: &Pattern, t: &Typing, imms: &[u128], n: NodeId) -> Option<&'static OpMapping> {
    let NodeKind::Inst {
        opcode,
        args,
        imms: slots,
    } = &p.nodes[n].kind
    else {
        return None;
    };
    let cond: Option<String> = slots.iter().find_map(|s| {
        let v = imms[*s] as usize;
        match p.imms[*s].kind {
            ImmKind::IntCC => IntCC::all().get(v).map(|c| c.to_string()),
            ImmKind::FloatCC => FloatCC::all().get(v).map(|c| c.to_string()),
            _ => None,
        }
    });
    let arg_ty = args.first().map(|a| t.value[*a]);
    let ctrl = t.ctrl[n];
    op_table().iter().find(|m| {
        m.clif == *opcode
            && m.ty == ctrl
            && arg_ty.is_none_or(|a| a == m.arg)
            && m.cond.map(str::to_string) == cond
    })
}

/// A float literal WAT reads back to exactly `bits`.
fn float_lit(bits: u64, is_f32: bool) -> String {
    let (nan, inf, sign, payload, text) = if is_f32 {
        let f = f32::from_bits(bits as u32);
        (
            f.is_nan(),
            f.is_infinite(),
            f.is_sign_negative(),
            bits & 0x7f_ffff,
            format!("{f:?}"),
        )
    } else {
        let f = f64::from_bits(bits);
        (
            f.is_nan(),
            f.is_infinite(),
            f.is_sign_negative(),
            bits & 0xf_ffff_ffff_ffff,
            format!("{f:?}"),
        )
    };
    let s = if sign { "-" } else { "" };
    if nan {
        format!("{s}nan:{payload:#x}")
    } else if inf {
        format!("{s}inf")
    } else {
        text
    }
}

struct Emitter<'p> {
    p: &'p Pattern,
    t: &'p Typing,
    imms: &'p [u128],
    uses: Vec<usize>,
    param_index: Vec<Option<usize>>,
    local_index: Vec<Option<usize>>,
    locals: Vec<&'static str>,
    emitted: Vec<bool>,
    body: Vec<String>,
}

impl Emitter<'_> {
    fn emit(&mut self, n: NodeId) -> Option<()> {
        if let Some(i) = self.param_index[n] {
            self.body.push(format!("local.get {i}"));
            return Some(());
        }
        if self.emitted[n] {
            let l = self.local_index[n]?;
            self.body.push(format!("local.get {l}"));
            return Some(());
        }
        let node = &self.p.nodes[n];
        let NodeKind::Inst { opcode, args, .. } = &node.kind else {
            return None;
        };
        let ty = self.t.value[n];
        match opcode {
            Opcode::Iconst => {
                let v = self.imm(n, ImmKind::Imm64)?;
                match ty {
                    types::I32 => self.body.push(format!("i32.const {}", v as u32 as i32)),
                    types::I64 => self.body.push(format!("i64.const {}", v as u64 as i64)),
                    _ => return None,
                }
            }
            Opcode::F32const => {
                let v = self.imm(n, ImmKind::Ieee32)?;
                self.body
                    .push(format!("f32.const {}", float_lit(v as u64, true)));
            }
            Opcode::F64const => {
                let v = self.imm(n, ImmKind::Ieee64)?;
                self.body
                    .push(format!("f64.const {}", float_lit(v as u64, false)));
            }
            Opcode::Vconst if ty.bits() == 128 => {
                let v = self.imm(n, ImmKind::V128)?;
                self.body.push(format!(
                    "v128.const i64x2 {} {}",
                    v as u64 as i64,
                    (v >> 64) as u64 as i64
                ));
            }
            Opcode::Uextend
                if ty == types::I32 && args.first().is_some_and(|a| self.is_compare(*a)) =>
            {
                self.emit(args[0])?;
            }
            Opcode::Select => {
                let vt = val_type(ty)?;
                let [c, x, y] = args[..] else {
                    return None;
                };
                self.emit(x)?;
                self.emit(y)?;
                self.emit(c)?;
                self.body.push(format!("select (result {vt})"));
            }
            _ => {
                let m = mapping(self.p, self.t, self.imms, n)?;
                for a in args.clone() {
                    self.emit(a)?;
                }
                self.body.push(m.wasm.to_string());
            }
        }
        self.emitted[n] = true;
        if self.uses[n] > 1 {
            let wasm_ty = if self.is_compare(n) {
                "i32"
            } else {
                val_type(ty)?
            };
            let l = self.param_index.iter().flatten().count() + self.locals.len();
            self.locals.push(wasm_ty);
            self.local_index[n] = Some(l);
            self.body.push(format!("local.tee {l}"));
        }
        Some(())
    }

    fn is_compare(&self, n: NodeId) -> bool {
        matches!(
            self.p.nodes[n].kind,
            NodeKind::Inst {
                opcode: Opcode::Icmp | Opcode::Fcmp,
                ..
            }
        ) && self.t.value[n] == types::I8
    }

    fn imm(&self, n: NodeId, kind: ImmKind) -> Option<u128> {
        let NodeKind::Inst { imms, .. } = &self.p.nodes[n].kind else {
            return None;
        };
        imms.iter()
            .find(|i| self.p.imms[**i].kind == kind)
            .map(|i| self.imms[*i])
    }
}

/// The WAT module for one type assignment, if every node maps to wasm.
pub fn to_wat(p: &Pattern, t: &Typing, imms: &[u128]) -> Option<String> {
    let mut uses = vec![0usize; p.nodes.len()];
    for node in &p.nodes {
        if let NodeKind::Inst { args, .. } = &node.kind {
            for a in args {
                uses[*a] += 1;
            }
        }
    }
    let mut param_index = vec![None; p.nodes.len()];
    let mut param_types = Vec::new();
    for (i, node) in p.nodes.iter().enumerate() {
        if matches!(node.kind, NodeKind::Any) {
            param_index[i] = Some(param_types.len());
            param_types.push(val_type(t.value[i])?);
        }
    }
    let root_ty = t.value[p.root];
    let result = if matches!(
        p.nodes[p.root].kind,
        NodeKind::Inst {
            opcode: Opcode::Icmp | Opcode::Fcmp,
            ..
        }
    ) && root_ty == types::I8
    {
        "i32"
    } else {
        val_type(root_ty)?
    };
    let mut e = Emitter {
        p,
        t,
        imms,
        uses,
        param_index,
        local_index: vec![None; p.nodes.len()],
        locals: Vec::new(),
        emitted: vec![false; p.nodes.len()],
        body: Vec::new(),
    };
    e.emit(p.root)?;
    let mut wat = format!("(module\n  (func (export \"{EXPORT}\")");
    if !param_types.is_empty() {
        wat.push_str(&format!(" (param {})", param_types.join(" ")));
    }
    wat.push_str(&format!(" (result {result})\n"));
    if !e.locals.is_empty() {
        wat.push_str(&format!("    (local {})\n", e.locals.join(" ")));
    }
    for line in &e.body {
        wat.push_str("    ");
        wat.push_str(line);
        wat.push('\n');
    }
    wat.push_str("  )\n)\n");
    Some(wat)
}

/// Assembles WAT text into a validated binary module.
pub fn assemble(wat: &str) -> Option<Vec<u8>> {
    let buf = wast::parser::ParseBuffer::new(wat).ok()?;
    let mut module = wast::parser::parse::<wast::Wat>(&buf).ok()?;
    let bytes = module.encode().ok()?;
    wasmparser::Validator::new().validate_all(&bytes).ok()?;
    Some(bytes)
}

/// The `k`-th interesting argument of a wasm value type.
fn arg(ty: Type, k: usize) -> Value {
    let ints = values::integers(64);
    let v = ints[(k * 7 + 1) % ints.len()];
    match ty {
        types::I32 => Value::I32(v as u32 as i32),
        types::I64 => Value::I64(v as u64 as i64),
        types::F32 => Value::F32([1.5f32, -0.0, 3.0, -2.25][k % 4].to_bits()),
        types::F64 => Value::F64([1.5f64, -0.0, 3.0, -2.25][k % 4].to_bits()),
        _ => Value::V128(values::vectors()[(k * 5 + 1) % 40]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::{Imm, Pred, TypeSet};

    #[test]
    fn iadd_of_a_shared_value_becomes_wasm() {
        let mut p = Pattern::new();
        let x = p.add_any(TypeSet::of(types::I32));
        let y = p.add_inst(Opcode::Imul, TypeSet::of(types::I32), vec![x, x], vec![]);
        p.root = p.add_inst(Opcode::Iadd, TypeSet::of(types::I32), vec![y, y], vec![]);
        let cases = instantiate_wasm(&p, 4);
        assert_eq!(cases.len(), 1);
        let text = wasmprinter::print_bytes(&cases[0].module).unwrap();
        assert!(
            text.contains("i32.mul") && text.contains("i32.add"),
            "{text}"
        );
        assert!(text.contains("local.tee"), "{text}");
        assert_eq!(cases[0].invocations.len(), 4);
        assert_eq!(cases[0].invocations[0].args.len(), 1);
    }

    #[test]
    fn comparisons_and_constants_map() {
        let mut p = Pattern::new();
        let x = p.add_any(TypeSet::of(types::I64));
        let mut k = Imm::new(ImmKind::Imm64);
        k.preds.push(Pred::Eq(-5));
        let c = p.add_inst(Opcode::Iconst, TypeSet::of(types::I64), vec![], vec![k]);
        let mut cc = Imm::new(ImmKind::IntCC);
        let slt = IntCC::all()
            .iter()
            .position(|c| *c == IntCC::SignedLessThan)
            .unwrap();
        cc.preds.push(Pred::Eq(slt as i128));
        p.root = p.add_inst(Opcode::Icmp, TypeSet::ALL, vec![x, c], vec![cc]);
        let cases = instantiate_wasm(&p, 4);
        assert_eq!(cases.len(), 1);
        let text = wasmprinter::print_bytes(&cases[0].module).unwrap();
        assert!(
            text.contains("i64.const -5") && text.contains("i64.lt_s"),
            "{text}"
        );
    }

    #[test]
    fn random_wasm_instances_validate_and_carry_arguments() {
        let mut p = Pattern::new();
        let x = p.add_any(TypeSet::of(types::I64));
        let y = p.add_any(TypeSet::of(types::I64));
        p.root = p.add_inst(Opcode::Rotl, TypeSet::of(types::I64), vec![x, y], vec![]);
        let prepared = Prepared::new(&p, 12);
        for seed in 0..16 {
            let bytes = crate::rng::seed_bytes(seed, 256);
            let case = random_wasm(&prepared, &mut Rng::new(&bytes)).unwrap();
            wasmparser::Validator::new()
                .validate_all(&case.module)
                .unwrap();
            let text = wasmprinter::print_bytes(&case.module).unwrap();
            assert!(text.contains("i64.rotl"), "{text}");
            assert!(case.invocations.len() >= 2);
            assert!(case.invocations.iter().all(|i| i.args.len() == 2));
        }
        let mut q = Pattern::new();
        let v = q.add_any(TypeSet::of(types::I8));
        q.root = q.add_inst(Opcode::Iadd, TypeSet::of(types::I8), vec![v, v], vec![]);
        let bytes = crate::rng::seed_bytes(0, 256);
        assert!(random_wasm(&Prepared::new(&q, 12), &mut Rng::new(&bytes)).is_none());
    }

    #[test]
    fn unmappable_patterns_give_nothing() {
        let mut p = Pattern::new();
        let x = p.add_any(TypeSet::of(types::I8));
        p.root = p.add_inst(Opcode::Iadd, TypeSet::of(types::I8), vec![x, x], vec![]);
        assert!(instantiate_wasm(&p, 4).is_empty());
    }

    #[test]
    fn float_literals_round_trip() {
        for bits in [0x3fc0_0000u64, 0x8000_0000, 0x7f80_0000, 0xffc0_0001, 1] {
            let wat = format!(
                "(module (func (result f32) f32.const {}))",
                float_lit(bits, true)
            );
            let bytes = assemble(&wat).unwrap();
            let needle = (bits as u32).to_le_bytes();
            assert!(bytes.windows(4).any(|w| w == needle), "{wat}");
        }
    }
}
