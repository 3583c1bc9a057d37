//! Patterns: the shape a test case must contain to make one Cranelift ISLE
//! rule fire.
//!
//! A [`Pattern`] is a small DAG of CLIF values: each [`Node`] is either an
//! instruction (opcode, operand nodes, immediates) or an unconstrained value
//! (which a generator turns into a function parameter). Nodes refer to shared
//! *type variables* ([`TypeSet`]s: the value's type must be one of them) and
//! to *immediate slots* ([`Imm`]: an immediate operand with predicates its
//! value must satisfy and hints worth trying first). A node used twice (the
//! same ISLE variable in two places) is one node with two users. ISA flags
//! the rule needs (`has_avx`, `has_bmi1`, ... — named as in Cranelift's
//! settings) are listed with the value they must have.
//!
//! The ISLE harvester produces patterns from rule left-hand sides; the
//! rule-guided generators ([`crate::rule_guided`]) instantiate them.
//! Conditions the harvester could not express are kept by name in
//! [`Pattern::unmodeled`]: a generator ignores them, and verification (does
//! the rule fire?) is the final judge.

use std::collections::BTreeMap;
use std::fmt;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{Opcode, Type, types};

/// Every concrete type a pattern can constrain a value to, in bit order of
/// [`TypeSet`] (and in the order generators prefer them).
pub const TYPE_UNIVERSE: [Type; 23] = [
    types::I8,
    types::I16,
    types::I32,
    types::I64,
    types::I128,
    types::F32,
    types::F64,
    types::I8X16,
    types::I16X8,
    types::I32X4,
    types::I64X2,
    types::F32X4,
    types::F64X2,
    types::I8X8,
    types::I16X4,
    types::I32X2,
    types::F32X2,
    types::I8X4,
    types::I16X2,
    // Half and quad precision last: backends support them least, so
    // generators reach for them only when a pattern asks for them.
    types::F16,
    types::F128,
    types::F16X8,
    types::F16X4,
];

/// A set of CLIF types (a subset of [`TYPE_UNIVERSE`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct TypeSet(u32);

impl TypeSet {
    /// Every type of the universe.
    pub const ALL: TypeSet = TypeSet((1 << TYPE_UNIVERSE.len()) - 1);
    /// No type at all (an unsatisfiable constraint).
    pub const EMPTY: TypeSet = TypeSet(0);

    /// The set holding just `ty` (empty if `ty` is outside the universe).
    pub fn of(ty: Type) -> TypeSet {
        TypeSet::from_fn(|t| t == ty)
    }

    /// The types of the universe satisfying `pred`.
    pub fn from_fn(pred: impl Fn(Type) -> bool) -> TypeSet {
        let mut bits = 0;
        for (i, t) in TYPE_UNIVERSE.iter().enumerate() {
            if pred(*t) {
                bits |= 1 << i;
            }
        }
        TypeSet(bits)
    }

    /// This set restricted to the types satisfying `pred`.
    pub fn filter(self, pred: impl Fn(Type) -> bool) -> TypeSet {
        self.intersect(TypeSet::from_fn(pred))
    }

    /// Both constraints at once.
    pub fn intersect(self, other: TypeSet) -> TypeSet {
        TypeSet(self.0 & other.0)
    }

    /// Either constraint.
    pub fn union(self, other: TypeSet) -> TypeSet {
        TypeSet(self.0 | other.0)
    }

    /// Whether `ty` is allowed.
    pub fn contains(self, ty: Type) -> bool {
        TYPE_UNIVERSE
            .iter()
            .position(|t| *t == ty)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// Whether nothing is allowed.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of allowed types.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The allowed types, in universe order.
    pub fn iter(self) -> impl Iterator<Item = Type> {
        TYPE_UNIVERSE
            .into_iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, t)| t)
    }

    /// The raw bit mask (bit `i` = `TYPE_UNIVERSE[i]`).
    pub fn bits(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for TypeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for TypeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == TypeSet::ALL {
            return f.write_str("*");
        }
        let names: Vec<String> = self.iter().map(|t| t.to_string()).collect();
        if names.len() == 1 {
            f.write_str(&names[0])
        } else {
            write!(f, "{{{}}}", names.join(","))
        }
    }
}

/// Index of a node in [`Pattern::nodes`].
pub type NodeId = usize;
/// Index of a type variable in [`Pattern::types`].
pub type TyVar = usize;
/// Index of an immediate slot in [`Pattern::imms`].
pub type ImmId = usize;

/// What kind of immediate operand a slot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImmKind {
    /// `Imm64` (`iconst`): bits of the controlling type, zero-extended.
    Imm64,
    /// `Uimm8` (lane indices, `*_imm` shift amounts).
    Uimm8,
    /// `Offset32` of a load or store.
    Offset32,
    /// `Ieee16` bits.
    Ieee16,
    /// `Ieee32` bits.
    Ieee32,
    /// `Ieee64` bits.
    Ieee64,
    /// 16 bytes, little-endian: a `vconst`/`f128const` constant or a
    /// `shuffle` mask.
    V128,
    /// An integer condition code (value: index in [`IntCC::all`]).
    IntCC,
    /// A float condition code (value: index in [`FloatCC::all`]).
    FloatCC,
    /// Memory flags (value: see [`MemFlagsReq`]).
    MemFlags,
    /// A trap code (value: user code, 0 = a built-in code).
    TrapCode,
    /// An atomic read-modify-write operation (value: index in
    /// [`ATOMIC_RMW_OPS`]).
    AtomicRmwOp,
}

/// The atomic RMW operations, in the order [`ImmKind::AtomicRmwOp`] values
/// index.
pub const ATOMIC_RMW_OPS: [&str; 11] = [
    "add", "sub", "and", "nand", "or", "xor", "xchg", "umin", "umax", "smin", "smax",
];

/// Memory-flag requirements, encoded as the value of a
/// [`ImmKind::MemFlags`] slot: bit 0 = big-endian, bit 1 = little-endian
/// (neither: native), bit 2 = `notrap`, bit 3 = `aligned`, bit 4 =
/// `readonly`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemFlagsReq;

impl MemFlagsReq {
    /// Explicit big-endian.
    pub const BIG: u128 = 1;
    /// Explicit little-endian.
    pub const LITTLE: u128 = 2;
    /// `notrap`.
    pub const NOTRAP: u128 = 4;
    /// `aligned`.
    pub const ALIGNED: u128 = 8;
    /// `readonly`.
    pub const READONLY: u128 = 16;
}

/// A condition on an immediate's value (or on an integer the rule derives
/// from it). Values are the slot's bits for the slot's width (the
/// controlling type's width for `iconst`); equality compares modulo
/// `2^width`, signed predicates sign-extend from `width` bits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pred {
    /// Exactly this value (modulo `2^width`: `-1` means all ones).
    Eq(i128),
    /// Anything but this value (modulo `2^width`).
    Ne(i128),
    /// One of these values (modulo `2^width`).
    OneOf(Vec<i128>),
    /// Signed value in `min..=max`.
    SignedRange {
        /// Smallest allowed value.
        min: i128,
        /// Largest allowed value.
        max: i128,
    },
    /// Unsigned value in `min..=max`.
    UnsignedRange {
        /// Smallest allowed value.
        min: u128,
        /// Largest allowed value.
        max: u128,
    },
    /// A power of two (as an unsigned value).
    PowerOfTwo,
    /// Bits `lo .. lo + width` equal `value` (byte lanes of a vector
    /// constant, single memory-flag bits, ...).
    Field {
        /// Lowest bit.
        lo: u8,
        /// Number of bits.
        width: u8,
        /// Required value of the field.
        value: u128,
    },
    /// Same value as another slot.
    SameAs(ImmId),
    /// A condition only its name describes (a Rust-implemented extractor
    /// shoal does not model); checked by verification only.
    Named(String),
}

/// The low `width` bits of `value` (all of them for `width >= 128`).
pub fn truncate(value: u128, width: u32) -> u128 {
    if width >= 128 {
        value
    } else {
        value & ((1u128 << width) - 1)
    }
}

impl Pred {
    /// Whether `value` (a `width`-bit quantity) satisfies the predicate
    /// (`Named` and `SameAs` conditions are not decidable here and count as
    /// satisfied).
    pub fn accepts(&self, value: u128, width: u32) -> bool {
        let value = truncate(value, width);
        let same = |v: &i128| truncate(*v as u128, width) == value;
        match self {
            Pred::Eq(v) => same(v),
            Pred::Ne(v) => !same(v),
            Pred::OneOf(vs) => vs.iter().any(same),
            Pred::SignedRange { min, max } => {
                let v = sign_extend(value, width);
                *min <= v && v <= *max
            }
            Pred::UnsignedRange { min, max } => *min <= value && value <= *max,
            Pred::PowerOfTwo => value.is_power_of_two(),
            Pred::Field {
                lo,
                width,
                value: f,
            } => field(value, *lo, *width) == truncate(*f, u32::from(*width)),
            Pred::SameAs(_) | Pred::Named(_) => true,
        }
    }
}

/// Bits `lo .. lo + width` of `value`.
pub fn field(value: u128, lo: u8, width: u8) -> u128 {
    if lo >= 128 {
        return 0;
    }
    truncate(value >> lo, u32::from(width))
}

/// `value` with bits `lo .. lo + width` replaced by `f`.
pub fn set_field(value: u128, lo: u8, width: u8, f: u128) -> u128 {
    if lo >= 128 {
        return value;
    }
    let mask = truncate(u128::MAX, u32::from(width)) << lo;
    (value & !mask) | ((f << lo) & mask)
}

/// Sign-extends the low `width` bits of `value`.
pub fn sign_extend(value: u128, width: u32) -> i128 {
    if width == 0 || width >= 128 {
        return value as i128;
    }
    let shift = 128 - width;
    ((value << shift) as i128) >> shift
}

/// One immediate operand slot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Imm {
    /// What the immediate is.
    pub kind: ImmKind,
    /// Conditions its value must satisfy (all of them).
    pub preds: Vec<Pred>,
    /// Values worth trying first (e.g. shuffle masks of the class a rule
    /// special-cases), in order of preference.
    pub hints: Vec<u128>,
}

impl Imm {
    /// An unconstrained slot.
    pub fn new(kind: ImmKind) -> Imm {
        Imm {
            kind,
            preds: Vec::new(),
            hints: Vec::new(),
        }
    }

    /// Whether `value` (a `width`-bit quantity) satisfies every decidable
    /// predicate.
    pub fn accepts(&self, value: u128, width: u32) -> bool {
        self.preds.iter().all(|p| p.accepts(value, width))
    }

    /// The exact value the slot must have, if a predicate pins it.
    pub fn exact(&self) -> Option<i128> {
        self.preds.iter().find_map(|p| match p {
            Pred::Eq(v) => Some(*v),
            _ => None,
        })
    }
}

/// What a node is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// Any value of the node's type (a generator uses a function parameter).
    Any,
    /// The (first) result of an instruction.
    Inst {
        /// The opcode.
        opcode: Opcode,
        /// Value operands, in CLIF operand order (variable lists such as
        /// call arguments included).
        args: Vec<NodeId>,
        /// Immediate operands, in the order of the instruction format's
        /// immediate fields.
        imms: Vec<ImmId>,
    },
}

/// One value of the pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    /// What the node is.
    pub kind: NodeKind,
    /// The value's type (for instructions: the type of the first result;
    /// unconstrained for instructions without results).
    pub ty: TyVar,
    /// The value must have exactly one use (e.g. a load sunk into its user).
    pub single_use: bool,
}

/// A rule's left-hand side as a value DAG with constraints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// The values; `root` is the instruction the rule matches.
    pub nodes: Vec<Node>,
    /// The matched (outermost) instruction.
    pub root: NodeId,
    /// Type variables.
    pub types: Vec<TypeSet>,
    /// Immediate slots.
    pub imms: Vec<Imm>,
    /// ISA settings the rule needs, with the value they must have.
    pub flags: BTreeMap<String, bool>,
    /// Names of conditions the pattern does not express (verification
    /// decides whether the instantiation happens to satisfy them).
    pub unmodeled: Vec<String>,
}

impl Default for Pattern {
    fn default() -> Pattern {
        Pattern::new()
    }
}

impl Pattern {
    /// An empty pattern whose root is node 0 (to be added).
    pub fn new() -> Pattern {
        Pattern {
            nodes: Vec::new(),
            root: 0,
            types: Vec::new(),
            imms: Vec::new(),
            flags: BTreeMap::new(),
            unmodeled: Vec::new(),
        }
    }

    /// Adds a type variable.
    pub fn add_type(&mut self, set: TypeSet) -> TyVar {
        self.types.push(set);
        self.types.len() - 1
    }

    /// Adds an immediate slot.
    pub fn add_imm(&mut self, imm: Imm) -> ImmId {
        self.imms.push(imm);
        self.imms.len() - 1
    }

    /// Adds a node.
    pub fn add_node(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Adds an unconstrained value of a fresh type variable.
    pub fn add_any(&mut self, set: TypeSet) -> NodeId {
        let ty = self.add_type(set);
        self.add_node(Node {
            kind: NodeKind::Any,
            ty,
            single_use: false,
        })
    }

    /// Adds an instruction node with a fresh result type variable.
    pub fn add_inst(
        &mut self,
        opcode: Opcode,
        ty: TypeSet,
        args: Vec<NodeId>,
        imms: Vec<Imm>,
    ) -> NodeId {
        let ty = self.add_type(ty);
        let imms = imms.into_iter().map(|i| self.add_imm(i)).collect();
        self.add_node(Node {
            kind: NodeKind::Inst { opcode, args, imms },
            ty,
            single_use: false,
        })
    }

    /// The opcodes of the pattern's instructions, root first, then in
    /// node order.
    pub fn opcodes(&self) -> Vec<Opcode> {
        let mut out = Vec::new();
        let mut order = vec![self.root];
        order.extend((0..self.nodes.len()).filter(|n| *n != self.root));
        for n in order {
            if let Some(NodeKind::Inst { opcode, .. }) = self.nodes.get(n).map(|n| &n.kind) {
                out.push(*opcode);
            }
        }
        out
    }

    /// Whether every node reachable from the root refers only to existing
    /// nodes, type variables and slots, and the graph has no cycle.
    pub fn is_well_formed(&self) -> bool {
        let n = self.nodes.len();
        if self.root >= n {
            return false;
        }
        let refs_ok = self.nodes.iter().all(|node| {
            node.ty < self.types.len()
                && match &node.kind {
                    NodeKind::Any => true,
                    NodeKind::Inst { args, imms, .. } => {
                        args.iter().all(|a| *a < n) && imms.iter().all(|i| *i < self.imms.len())
                    }
                }
        });
        refs_ok && !self.has_cycle()
    }

    fn has_cycle(&self) -> bool {
        // 0 = unvisited, 1 = on stack, 2 = done.
        fn visit(p: &Pattern, n: NodeId, state: &mut [u8]) -> bool {
            match state[n] {
                1 => return true,
                2 => return false,
                _ => {}
            }
            state[n] = 1;
            if let NodeKind::Inst { args, .. } = &p.nodes[n].kind {
                for a in args {
                    if visit(p, *a, state) {
                        return true;
                    }
                }
            }
            state[n] = 2;
            false
        }
        let mut state = vec![0u8; self.nodes.len()];
        (0..self.nodes.len()).any(|n| visit(self, n, &mut state))
    }

    fn fmt_node(&self, f: &mut fmt::Formatter<'_>, n: NodeId, depth: usize) -> fmt::Result {
        let node = &self.nodes[n];
        let ty = self.types[node.ty];
        match &node.kind {
            NodeKind::Any => write!(f, "v{n}:{ty}"),
            NodeKind::Inst { opcode, args, imms } => {
                write!(f, "({opcode}:{ty}")?;
                if node.single_use {
                    f.write_str(" !single-use")?;
                }
                for i in imms {
                    write!(f, " {}", DisplayImm(&self.imms[*i]))?;
                }
                for a in args {
                    f.write_str(" ")?;
                    if depth > 16 {
                        write!(f, "v{a}")?;
                    } else {
                        self.fmt_node(f, *a, depth + 1)?;
                    }
                }
                f.write_str(")")
            }
        }
    }
}

struct DisplayImm<'a>(&'a Imm);

impl fmt::Display for DisplayImm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let imm = self.0;
        write!(f, "#{:?}", imm.kind)?;
        for p in &imm.preds {
            match (imm.kind, p) {
                (ImmKind::IntCC, Pred::Eq(v)) => {
                    let cc = IntCC::all().get(*v as usize);
                    write!(f, "={}", cc.map(|c| c.to_string()).unwrap_or_default())?
                }
                (ImmKind::FloatCC, Pred::Eq(v)) => {
                    let cc = FloatCC::all().get(*v as usize);
                    write!(f, "={}", cc.map(|c| c.to_string()).unwrap_or_default())?
                }
                (_, Pred::Eq(v)) => write!(f, "={v}")?,
                (_, other) => write!(f, "[{other:?}]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pattern {
    /// An S-expression: `(opcode:type #imm... operand...)`, values that are
    /// not instructions as `vN:type`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nodes.is_empty() {
            return f.write_str("(empty)");
        }
        self.fmt_node(f, self.root, 0)?;
        for (flag, on) in &self.flags {
            write!(f, " {}{flag}", if *on { "+" } else { "-" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_sets() {
        let ints = TypeSet::from_fn(|t| t.is_int() && !t.is_vector());
        assert_eq!(ints.len(), 5);
        assert!(ints.contains(types::I128));
        assert!(!ints.contains(types::F32));
        let narrow = ints.filter(|t| t.bits() <= 16);
        assert_eq!(
            narrow.iter().collect::<Vec<_>>(),
            vec![types::I8, types::I16]
        );
        assert_eq!(narrow.to_string(), "{i8,i16}");
        assert_eq!(TypeSet::of(types::I32).to_string(), "i32");
        assert!(TypeSet::of(types::I32).intersect(narrow).is_empty());
        assert_eq!(TypeSet::ALL.len(), TYPE_UNIVERSE.len());
    }

    #[test]
    fn predicates() {
        assert!(Pred::PowerOfTwo.accepts(64, 32));
        assert!(!Pred::PowerOfTwo.accepts(0, 32));
        let simm8 = Pred::SignedRange {
            min: -128,
            max: 127,
        };
        assert!(simm8.accepts(0xffff_ff80, 32));
        assert!(!simm8.accepts(0x80, 32));
        assert!(Pred::Eq(-1).accepts(0xff, 8));
        assert!(!Pred::Eq(-1).accepts(0xff, 16));
        assert!(Pred::Ne(-1).accepts(0xfe, 8));
        assert_eq!(sign_extend(0xff, 8), -1);
        assert_eq!(truncate(0x1ff, 8), 0xff);
        assert_eq!(field(0xabcd, 4, 8), 0xbc);
        assert_eq!(set_field(0xabcd, 4, 8, 0x12), 0xa12d);
        let f = Pred::Field {
            lo: 8,
            width: 8,
            value: 0x12,
        };
        assert!(f.accepts(0x1234, 16) && !f.accepts(0x3412, 16));
        let mut imm = Imm::new(ImmKind::Imm64);
        imm.preds.push(Pred::Ne(0));
        imm.preds.push(Pred::Eq(5));
        assert_eq!(imm.exact(), Some(5));
        assert!(imm.accepts(5, 64) && !imm.accepts(0, 64));
    }

    #[test]
    fn display_and_well_formedness() {
        let mut p = Pattern::new();
        let x = p.add_any(TypeSet::of(types::I32));
        let mut c = Imm::new(ImmKind::Imm64);
        c.preds.push(Pred::Eq(3));
        let k = p.add_inst(Opcode::Iconst, TypeSet::of(types::I32), vec![], vec![c]);
        p.root = p.add_inst(Opcode::Ishl, TypeSet::of(types::I32), vec![x, k], vec![]);
        p.flags.insert("has_bmi2".into(), true);
        assert!(p.is_well_formed());
        assert_eq!(
            p.to_string(),
            "(ishl:i32 v0:i32 (iconst:i32 #Imm64=3)) +has_bmi2"
        );
        assert_eq!(p.opcodes(), vec![Opcode::Ishl, Opcode::Iconst]);
        // A cycle is rejected.
        if let NodeKind::Inst { args, .. } = &mut p.nodes[1].kind {
            args.push(2);
        }
        assert!(!p.is_well_formed());
    }
}
