//! Rule-guided generation: instantiating a [`Pattern`] into test cases
//! whose compilation contains it.
//!
//! [`instantiate_clif`] enumerates variants — type assignments
//! ([`typing::solve`], the root's type varied first) combined with
//! immediate choices ([`values::candidates`], the n-th variant taking each
//! slot's n-th candidate) — builds each into a CLIF function
//! ([`build::build`]) and keeps those the Cranelift verifier accepts.

pub mod build;
pub mod typing;
pub mod values;
pub mod wasm;

use cranelift_codegen::ir::instructions::InstructionFormat;
use cranelift_codegen::ir::{Function, types};
use cranelift_codegen::settings;

use crate::pattern::{ImmKind, NodeKind, Pattern, Pred, TypeSet};
use crate::rng::Rng;

pub use build::BuildError;
pub use typing::Typing;

/// Options for [`instantiate_clif`].
#[derive(Clone, Copy, Debug)]
pub struct ClifOptions {
    /// At most this many functions.
    pub max_variants: usize,
    /// At most this many type assignments are considered.
    pub max_typings: usize,
    /// Return vector results as `i64` halves through memory (for targets
    /// whose ABI cannot return vectors in registers).
    pub spill_vectors: bool,
}

impl Default for ClifOptions {
    fn default() -> ClifOptions {
        ClifOptions {
            max_variants: 8,
            max_typings: 12,
            spill_vectors: false,
        }
    }
}

/// Functions (named `%name`) containing `pattern`, each accepted by the
/// Cranelift verifier; distinct variants first cover distinct types.
pub fn instantiate_clif(pattern: &Pattern, name: &str, opts: ClifOptions) -> Vec<Function> {
    let pattern = pin_address_types(pattern);
    let typings = typing::solve(&pattern, opts.max_typings);
    if typings.is_empty() {
        return Vec::new();
    }
    let flags = settings::Flags::new(settings::builder());
    let mut out: Vec<Function> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let rounds = opts.max_variants.max(1) * 2;
    for k in 0..typings.len() * rounds {
        if out.len() >= opts.max_variants {
            break;
        }
        let typing = &typings[k % typings.len()];
        let choice = k / typings.len();
        let imms = choose_imms(&pattern, typing, choice);
        let Ok(func) = build::build(&pattern, typing, &imms, name, opts.spill_vectors) else {
            continue;
        };
        if cranelift_codegen::verify_function(&func, &flags).is_err() {
            continue;
        }
        let text = func.display().to_string();
        if !texts.contains(&text) {
            texts.push(text);
            out.push(func);
        }
    }
    out
}

/// A pattern prepared for repeated random instantiation: address types
/// pinned and type assignments solved once.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The pattern (address bases pinned to `i64`).
    pub pattern: Pattern,
    /// Its type assignments (empty: the pattern cannot be instantiated).
    pub typings: Vec<Typing>,
}

impl Prepared {
    /// Prepares `pattern`, solving up to `max_typings` type assignments.
    pub fn new(pattern: &Pattern, max_typings: usize) -> Prepared {
        let pattern = pin_address_types(pattern);
        let typings = typing::solve(&pattern, max_typings);
        Prepared { pattern, typings }
    }

    /// Keeps only the type assignments `keep` accepts (e.g. the types a
    /// backend supports).
    pub fn retain_typings(&mut self, keep: impl Fn(&Typing) -> bool) {
        self.typings.retain(|t| keep(t));
    }

    /// A function `%name` containing the pattern under a random type
    /// assignment with random immediates (each slot leaning towards its
    /// best candidates), accepted by the verifier; `None` if a few tries
    /// all fail.
    pub fn random_clif(
        &self,
        name: &str,
        r: &mut Rng<'_>,
        spill_vectors: bool,
    ) -> Option<Function> {
        if self.typings.is_empty() {
            return None;
        }
        let flags = settings::Flags::new(settings::builder());
        for _ in 0..4 {
            let typing = &self.typings[r.index(self.typings.len())];
            let imms = random_imms(&self.pattern, typing, r);
            let Ok(func) = build::build(&self.pattern, typing, &imms, name, spill_vectors) else {
                continue;
            };
            if cranelift_codegen::verify_function(&func, &flags).is_ok() {
                return Some(func);
            }
        }
        None
    }
}

/// Immediates for `typing`: each slot's candidate index drawn from `r`,
/// half the time among the first three (exact values and hints come
/// first), otherwise among all.
pub fn random_imms(p: &Pattern, typing: &Typing, r: &mut Rng<'_>) -> Vec<u128> {
    choose_imms_with(p, typing, |_, cands| {
        if r.chance(1, 2) {
            r.index(cands.len().min(3))
        } else {
            r.index(cands.len())
        }
    })
}

/// Address bases must be pointers (`i64`).
fn pin_address_types(p: &Pattern) -> Pattern {
    let mut p = p.clone();
    for (n, node) in p.nodes.clone().iter().enumerate() {
        if matches!(node.kind, NodeKind::Any) && is_address(&p, n) {
            p.types[node.ty] = p.types[node.ty].intersect(TypeSet::of(types::I64));
        }
    }
    p
}

fn is_address(p: &Pattern, n: usize) -> bool {
    p.nodes.iter().any(|node| match &node.kind {
        NodeKind::Inst { opcode, args, .. } if opcode.can_load() || opcode.can_store() => {
            let pos = match opcode.format() {
                InstructionFormat::Load
                | InstructionFormat::LoadNoOffset
                | InstructionFormat::AtomicRmw
                | InstructionFormat::AtomicCas => 0,
                InstructionFormat::Store | InstructionFormat::StoreNoOffset => 1,
                _ => return false,
            };
            args.get(pos) == Some(&n)
        }
        _ => false,
    })
}

/// The immediates of variant `choice`: each slot's `choice`-th candidate
/// (its last one if it has fewer), `SameAs` slots copying their partner.
pub fn choose_imms(p: &Pattern, typing: &Typing, choice: usize) -> Vec<u128> {
    choose_imms_with(p, typing, |_, cands| {
        choice.min(cands.len().saturating_sub(1))
    })
}

/// The immediates chosen by `pick(slot, candidates)` (an index into the
/// slot's candidates, best first; out-of-range picks take the last one).
/// Memory flags and trap codes always take their first (conservative)
/// candidate and `SameAs` slots copy their partner, as in [`choose_imms`].
pub fn choose_imms_with(
    p: &Pattern,
    typing: &Typing,
    mut pick: impl FnMut(usize, &[u128]) -> usize,
) -> Vec<u128> {
    let mut ctrl_bits = vec![64u32; p.imms.len()];
    for (n, node) in p.nodes.iter().enumerate() {
        if let NodeKind::Inst { imms, .. } = &node.kind {
            let ty = typing.ctrl[n];
            let bits = if ty == types::INVALID {
                64
            } else {
                ty.lane_bits()
            };
            for i in imms {
                ctrl_bits[*i] = bits;
            }
        }
    }
    let mut out = Vec::with_capacity(p.imms.len());
    for (i, imm) in p.imms.iter().enumerate() {
        let same = imm.preds.iter().find_map(|q| match q {
            Pred::SameAs(j) if *j < i => Some(*j),
            _ => None,
        });
        if let Some(j) = same {
            let w = values::width(imm.kind, ctrl_bits[i]);
            out.push(crate::pattern::truncate(out[j], w));
            continue;
        }
        let cands = values::candidates(imm, ctrl_bits[i]);
        let v = match imm.kind {
            // Memory flags and trap codes: the first candidate is the
            // conservative one; vary the others.
            ImmKind::MemFlags | ImmKind::TrapCode => cands.first().copied(),
            _ if cands.is_empty() => None,
            _ => cands.get(pick(i, &cands).min(cands.len() - 1)).copied(),
        };
        out.push(v.unwrap_or(0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Imm;
    use cranelift_codegen::ir::Opcode;

    fn ishl_by_const() -> Pattern {
        let mut p = Pattern::new();
        let x = p.add_any(TypeSet::ALL);
        let mut k = Imm::new(ImmKind::Imm64);
        k.preds.push(Pred::UnsignedRange { min: 1, max: 7 });
        let c = p.add_inst(Opcode::Iconst, TypeSet::ALL, vec![], vec![k]);
        let ints = TypeSet::from_fn(|t| t.is_int() && !t.is_vector() && t.bits() <= 64);
        p.root = p.add_inst(Opcode::Ishl, ints, vec![x, c], vec![]);
        p
    }

    #[test]
    fn variants_verify_and_contain_the_pattern() {
        let p = ishl_by_const();
        let funcs = instantiate_clif(&p, "f", ClifOptions::default());
        assert!(funcs.len() >= 4, "{}", funcs.len());
        for f in &funcs {
            let text = f.display().to_string();
            assert!(text.contains("ishl"), "{text}");
            assert!(text.contains("iconst"), "{text}");
            let flags = settings::Flags::new(settings::builder());
            cranelift_codegen::verify_function(f, &flags).unwrap();
        }
        // The four integer widths are all covered.
        for ty in ["i8", "i16", "i32", "i64"] {
            assert!(
                funcs
                    .iter()
                    .any(|f| f.display().to_string().contains(&format!("-> {ty}"))),
                "{ty}"
            );
        }
    }

    #[test]
    fn random_instances_verify_and_vary() {
        let prepared = Prepared::new(&ishl_by_const(), 12);
        let mut texts = std::collections::BTreeSet::new();
        for seed in 0..64 {
            let bytes = crate::rng::seed_bytes(seed, 256);
            let mut r = Rng::new(&bytes);
            let f = prepared.random_clif("f", &mut r, false).unwrap();
            let flags = settings::Flags::new(settings::builder());
            cranelift_codegen::verify_function(&f, &flags).unwrap();
            let text = f.display().to_string();
            assert!(text.contains("ishl"), "{text}");
            texts.insert(text);
        }
        // Types and shift amounts vary from seed to seed.
        assert!(texts.len() >= 12, "{}", texts.len());
        // The shift amount always satisfies the pattern's range.
        for t in &texts {
            let k: i64 = t
                .lines()
                .find_map(|l| l.split("iconst.").nth(1))
                .and_then(|rest| rest.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap();
            assert!((1..=7).contains(&k), "{t}");
        }
    }

    #[test]
    fn loads_address_the_stack_slot() {
        let mut p = Pattern::new();
        let addr = p.add_any(TypeSet::ALL);
        let mut flags = Imm::new(ImmKind::MemFlags);
        flags.preds.push(Pred::Eq(0));
        p.root = p.add_inst(
            Opcode::Load,
            TypeSet::of(types::I32),
            vec![addr],
            vec![flags, Imm::new(ImmKind::Offset32)],
        );
        let funcs = instantiate_clif(&p, "f", ClifOptions::default());
        assert!(!funcs.is_empty());
        let text = funcs[0].display().to_string();
        assert!(text.contains("stack_addr.i64 ss0"), "{text}");
        assert!(text.contains("load.i32"), "{text}");
        assert!(funcs[0].signature.params.is_empty());
    }

    #[test]
    fn branch_roots_get_successors() {
        let mut p = Pattern::new();
        let c = p.add_any(TypeSet::of(types::I8));
        p.root = p.add_inst(Opcode::Brif, TypeSet::ALL, vec![c], vec![]);
        let funcs = instantiate_clif(&p, "f", ClifOptions::default());
        assert_eq!(funcs.len(), 1);
        let text = funcs[0].display().to_string();
        assert!(text.contains("brif v0, block1, block2"), "{text}");
    }
}
