//! Known Cranelift issues: the short, commented list of combinations a
//! backend documents (or plainly leaves) unsupported, and of real Cranelift
//! bugs already reduced into `corpus/regressions/`, each with a tight
//! predicate so that it explains *only* its own symptom.
//!
//! Three kinds of symptom are recognised:
//!
//! * [`Symptom::CompileFailure`]: a compile failure of a given kind whose
//!   message contains one of the entry's needles, on a function in which
//!   the entry's `shape` finds the construct responsible (when it has one).
//! * [`Symptom::Unlowered`]: the error Cranelift gives when no lowering
//!   rule matched ("should be implemented in ISLE"), naming an instruction
//!   whose shape the backend documents as unlowered ([`super::gaps`]).
//! * [`Symptom::Workaround`]: a wrong result or compile failure of a
//!   function in which `shape` finds the construct, *confirmed* by
//!   rewriting the module with `rewrite` (an equivalent CLIF form that
//!   avoids the bug) and observing that the same executor then agrees with
//!   the reference. If it still disagrees, the disagreement is not this
//!   issue and stays a finding.
//!
//! [`differential`](super::differential) turns a match into
//! `Verdict::KnownIssue` (counted, never a finding) while it keeps
//! comparing every other executor, so a known issue never hides another
//! discrepancy in the same case.

use std::fmt;

use cranelift_codegen::ir::Function;

mod shapes;

use shapes::*;

use super::ClifModule;
use super::compile::{CompileFailure, FailureKind, MidEndCache};
use super::gaps::{InstShape, named_instruction, x64_unlowered};

/// What kind of known issue an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueClass {
    /// The backend does not implement this combination (typically because
    /// Wasmtime never generates it); not a bug to report.
    Unsupported,
    /// A real Cranelift bug, reproduced by the named filetests in
    /// `corpus/regressions/`.
    Bug {
        /// File names under `corpus/regressions/`.
        regressions: &'static [&'static str],
    },
}

/// How a known issue shows itself.
#[derive(Clone, Copy)]
pub enum Symptom {
    /// Compilation fails with `kind` and a message containing one of
    /// `needles`, in a function where `shape` (if given) holds.
    CompileFailure {
        /// The kind of failure.
        kind: FailureKind,
        /// Substrings of Cranelift's message; any one matches.
        needles: &'static [&'static str],
        /// The construct the failure needs, when the message alone is not
        /// specific enough.
        shape: Option<fn(&Function) -> bool>,
    },
    /// Compilation fails as `Unsupported` ("should be implemented in
    /// ISLE") on an instruction `gap` says the backend has no lowering for:
    /// the instruction named in the message, not merely one in the
    /// function.
    Unlowered {
        /// Why the backend has no lowering for the instruction, if so.
        gap: fn(&InstShape) -> Option<&'static str>,
    },
    /// Any disagreement or compile failure in a module where `shape`
    /// holds for some function, which `rewrite` (an equivalent form)
    /// makes go away.
    Workaround {
        /// Whether the function contains the construct.
        shape: fn(&Function) -> bool,
        /// Rewrites every occurrence of the construct into an equivalent
        /// form the backend handles.
        rewrite: fn(&mut Function),
    },
}

impl fmt::Debug for Symptom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Symptom::CompileFailure { kind, needles, .. } => f
                .debug_struct("CompileFailure")
                .field("kind", kind)
                .field("needles", needles)
                .finish_non_exhaustive(),
            Symptom::Unlowered { .. } => f.write_str("Unlowered"),
            Symptom::Workaround { .. } => f.write_str("Workaround"),
        }
    }
}

/// One known issue.
#[derive(Debug)]
pub struct KnownIssue {
    /// Short stable name (used in verdicts and campaign statistics).
    pub name: &'static str,
    /// Target names it applies to (`x86_64`, `aarch64`, `riscv64`,
    /// `s390x`, `pulley32`, `pulley64`); empty for all.
    pub targets: &'static [&'static str],
    /// Unsupported combination or real bug.
    pub class: IssueClass,
    /// One line: what and why (with the Cranelift/Wasmtime issue number
    /// where one is known).
    pub reason: &'static str,
    /// How it shows.
    pub symptom: Symptom,
}

impl KnownIssue {
    /// Whether this entry applies to `target`.
    pub fn applies_to(&self, target: &str) -> bool {
        self.targets.is_empty() || self.targets.contains(&target)
    }
}

impl PartialEq for KnownIssue {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for KnownIssue {}

impl fmt::Display for KnownIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.reason)?;
        if let IssueClass::Bug { regressions } = self.class {
            for r in regressions {
                write!(f, " (corpus/regressions/{r})")?;
            }
        }
        Ok(())
    }
}

const PULLEY: &[&str] = &["pulley32", "pulley64"];

/// Every known issue.
pub static KNOWN_ISSUES: &[KnownIssue] = &[
    // ----- real bugs (reduced filetests in corpus/regressions/) -----
    //
    // Pulley's i128 store rule (pulley_shared/lower.isle:1282) builds its
    // two addresses as `addr+0` and `addr+8`, dropping the instruction's
    // own offset: `store.i128 v, p+16` writes to p..p+16.
    KnownIssue {
        name: "pulley-i128-store-offset",
        targets: PULLEY,
        class: IssueClass::Bug {
            regressions: &["pulley-i128-store-offset.clif"],
        },
        reason: "Pulley ignores the offset of `store.i128` (lower.isle:1282)",
        symptom: Symptom::Workaround {
            shape: has_offset_i128_store,
            rewrite: rewrite_offset_i128_stores,
        },
    },
    // Pulley lowers `bmask` of an i64 with rule 2 (lower.isle:705) for any
    // result type, so `bmask.i128 x:i64` defines only the low half (the
    // high half is a stale register, or an invalid vreg that makes
    // regalloc2 index out of bounds); for a narrower `x` it has no rule
    // ("should be implemented in ISLE"). The mid-end creates that form from
    // `sextend.i128 (bmask x)` (opts/bitops.isle:133), which Pulley
    // otherwise compiles.
    KnownIssue {
        name: "pulley-bmask-i128",
        targets: PULLEY,
        class: IssueClass::Bug {
            regressions: &[
                "pulley-bmask-i128.clif",
                "pulley-bmask-i128-regalloc.clif",
                "pulley-bmask-i128-narrow.clif",
            ],
        },
        reason: "Pulley mis-lowers `bmask.i128`, which the mid-end makes from `sextend (bmask x)`",
        symptom: Symptom::Workaround {
            shape: has_wide_bmask,
            rewrite: rewrite_wide_bmasks,
        },
    },
    // Pulley divides an i8/i16 `sdiv` as a 32-bit division of the operands
    // sign-extended (pulley_shared/lower.isle:472), where MIN / -1 does not
    // overflow: no `int_ovf` trap, and the quotient wraps to MIN.
    KnownIssue {
        name: "pulley-sdiv-narrow-overflow",
        targets: PULLEY,
        class: IssueClass::Bug {
            regressions: &["pulley-sdiv-narrow-overflow.clif"],
        },
        reason: "Pulley's i8/i16 `sdiv` does not trap on MIN / -1 (lower.isle:472)",
        symptom: Symptom::Workaround {
            shape: has_narrow_sdiv,
            rewrite: rewrite_narrow_sdivs,
        },
    },
    // The mid-end folds a comparison of a value with itself (or of
    // constants) into `cmp_true`/`iconst_u` of the comparison's type, and
    // those helper terms (opts/arithmetic.isle:381, prelude_opt.isle:212)
    // have rules for scalars and 128-bit vectors only: a 64-bit vector
    // compare (`icmp.i8x8`, as aarch64 lowers) panics at opt_level=speed.
    // A leftover of wasmtime#12328, whose fix covered `ty_vec128`.
    KnownIssue {
        name: "midend-vec64-compare-fold",
        targets: &[],
        class: IssueClass::Bug {
            regressions: &["midend-cmp-true-vec64.clif", "midend-iconst-u-vec64.clif"],
        },
        reason: "the mid-end folds 64-bit vector compares into terms with no 64-bit vector rule",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Panic,
            needles: &[
                "no rule matched for term cmp_true",
                "no rule matched for term iconst_u",
            ],
            shape: Some(has_vec64),
        },
    },
    // riscv64's base rule for `select_spectre_guard` (lower.isle:2689)
    // admits every `fits_in_64` type and computes with integer and/or/andn
    // on `XReg`s: for an f32/f64 select, `xreg_new` unwraps `None` on the
    // float register (riscv64/lower/isle.rs:169).
    KnownIssue {
        name: "riscv64-select-spectre-guard-float",
        targets: &["riscv64"],
        class: IssueClass::Bug {
            regressions: &["riscv64-select-spectre-guard-float.clif"],
        },
        reason: "riscv64 lowers `select_spectre_guard` of floats with integer registers",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Panic,
            needles: &["called `Option::unwrap()` on a `None` value"],
            shape: Some(has_float_select_spectre_guard),
        },
    },
    // aarch64's `vec_cmp` (inst.isle:4758) has float rules for
    // eq/ne/ge/gt/mi/ls/vs/vc only; a vector `fcmp` whose condition lowers
    // to another `Cond` (`uge`, `ugt`, `ult`, `ule`, ...) panics.
    KnownIssue {
        name: "aarch64-vector-fcmp-unordered",
        targets: &["aarch64"],
        class: IssueClass::Bug {
            regressions: &["aarch64-vector-fcmp-unordered.clif"],
        },
        reason: "aarch64 has no `vec_cmp` rule for unordered vector float conditions",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Panic,
            needles: &["no rule matched for term vec_cmp"],
            shape: Some(has_vector_fcmp_beyond_wasm),
        },
    },
    // ----- documented or plain unsupported combinations -----
    //
    // x86-64 lowers 128-bit vectors only; a 64-bit vector value (`i8x8`,
    // `i32x2`, `f32x2`, ...) reaches register allocation in the wrong
    // register class and panics when a GPR/XMM newtype is built from it.
    KnownIssue {
        name: "x64-vec64",
        targets: &["x86_64"],
        class: IssueClass::Unsupported,
        reason: "x86-64 does not lower 64-bit vector types",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Panic,
            needles: &["cannot construct"],
            shape: Some(has_vec64),
        },
    },
    // x86-64 narrows 64x2 lanes only in the shapes wasm's
    // `i32x4.trunc_sat_f64x2_{s,u}_zero` produce (`snarrow`/`uunarrow` of a
    // saturating conversion and a zero vector): wasmtime#4734 (snarrow,
    // unarrow of i64x2), wasmtime#4791 (uunarrow).
    KnownIssue {
        name: "x64-narrow-i64x2",
        targets: &["x86_64"],
        class: IssueClass::Unsupported,
        reason: "x86-64 narrows i64x2 only in wasm's trunc_sat_f64x2_*_zero shape (wasmtime#4734, #4791)",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Unsupported,
            needles: &["snarrow.i64x2", "unarrow.i64x2", "= uunarrow"],
            shape: None,
        },
    },
    // Everything else x86-64 leaves unlowered because Wasmtime never emits
    // it (i128 <-> float conversions, vector rotates, 128-bit atomics, ...;
    // see `gaps::x64_unlowered`). The CLIF generator avoids these shapes on
    // x86-64; a mutation can bring one back.
    KnownIssue {
        name: "x64-unlowered",
        targets: &["x86_64"],
        class: IssueClass::Unsupported,
        reason: "x86-64 has no lowering for this shape (Wasmtime never emits it)",
        symptom: Symptom::Unlowered { gap: x64_unlowered },
    },
    // wasmtime#4864 (aarch64 udiv/sdiv), #5474 (x86_64 srem/urem), #5472
    // (aarch64 srem/urem): no backend lowers i128 division or remainder.
    KnownIssue {
        name: "i128-division",
        targets: &[],
        class: IssueClass::Unsupported,
        reason: "i128 division is not lowered (wasmtime#4864)",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Unsupported,
            needles: &["div.i128"],
            shape: None,
        },
    },
    KnownIssue {
        name: "i128-remainder",
        targets: &[],
        class: IssueClass::Unsupported,
        reason: "i128 remainder is not lowered (wasmtime#5474, #5472)",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Unsupported,
            needles: &["rem.i128"],
            shape: None,
        },
    },
    // Cranelift's own message cites wasmtime#9510: a backend cannot return
    // more values than fit in registers without a StructReturn argument
    // (s390x: an i128 result; riscv64: a vector result).
    KnownIssue {
        name: "too-many-returns",
        targets: &[],
        class: IssueClass::Unsupported,
        reason: "too many return values for registers (wasmtime#9510)",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Unsupported,
            needles: &["Too many return values to fit in registers"],
            shape: None,
        },
    },
    // Pulley lowers the CLIF Wasmtime generates for wasm, not all of CLIF:
    // no i128 bitwise ops or shifts, rotates only at 32/64 bits, no
    // `bitrev`, no f16/f128 registers, ... Cranelift reports these as
    // `Unsupported` errors.
    KnownIssue {
        name: "pulley-wasm-subset",
        targets: PULLEY,
        class: IssueClass::Unsupported,
        reason: "Pulley lowers only the CLIF subset Wasmtime needs",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Unsupported,
            needles: &["should be implemented in ISLE", "Unexpected SSA-value type"],
            shape: None,
        },
    },
    // The same gap, but surfacing as a panic inside a helper term: Pulley's
    // `bmask` rules extend the operand with `zext32`/`zext64`, which have
    // no i128 case.
    KnownIssue {
        name: "pulley-bmask-of-i128",
        targets: PULLEY,
        class: IssueClass::Unsupported,
        reason: "Pulley has no `bmask` of an i128 operand (panics in zext64)",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Panic,
            needles: &[
                "no rule matched for term zext64",
                "no rule matched for term zext32",
            ],
            shape: Some(has_bmask_of_i128),
        },
    },
    // Pulley's `lower_vfcmp` has rules for eq/ne/lt/le/gt/ge only (all
    // that wasm's `f32x4`/`f64x2` comparisons need).
    KnownIssue {
        name: "pulley-vector-fcmp-unordered",
        targets: PULLEY,
        class: IssueClass::Unsupported,
        reason: "Pulley lowers vector fcmp only for eq/ne/lt/le/gt/ge",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Panic,
            needles: &["no rule matched for term lower_vfcmp"],
            shape: Some(has_vector_fcmp_beyond_wasm),
        },
    },
    // Bitwise ops on scalar floats put the float in an integer register
    // (`XReg::new(..).unwrap()` in pulley_shared/lower/isle.rs).
    KnownIssue {
        name: "pulley-float-bitwise",
        targets: PULLEY,
        class: IssueClass::Unsupported,
        reason: "Pulley has no bitwise ops on scalar floats (unwrap in xreg_new)",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Panic,
            needles: &["called `Option::unwrap()` on a `None` value (at cranelift-codegen"],
            shape: Some(has_scalar_float_bitwise),
        },
    },
    // Pulley's i128 `load`/`store` rules use its plain register-offset
    // loads and stores, whose emission asserts that the access cannot trap
    // (pulley_shared/inst/emit.rs): only `notrap` i128 accesses (which
    // Cranelift's own test trampolines use) compile.
    KnownIssue {
        name: "pulley-i128-trapping-memory",
        targets: PULLEY,
        class: IssueClass::Unsupported,
        reason: "Pulley compiles i128 loads/stores only when marked `notrap`",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Panic,
            needles: &["assertion failed: flags.trap_code().is_none()"],
            shape: Some(has_trapping_i128_access),
        },
    },
    // x86_64, riscv64 and s390x lower little or no f16 arithmetic (riscv64
    // needs Zfh, not enabled in shoal's target).
    KnownIssue {
        name: "f16-arithmetic",
        targets: &["x86_64", "riscv64", "s390x"],
        class: IssueClass::Unsupported,
        reason: "f16 arithmetic not implemented on this backend",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Unsupported,
            needles: &[".f16"],
            shape: None,
        },
    },
    KnownIssue {
        name: "f128-arithmetic",
        targets: &[],
        class: IssueClass::Unsupported,
        reason: "f128 arithmetic is not implemented by the backends",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Unsupported,
            needles: &[".f128"],
            shape: None,
        },
    },
    // CLIF written for 64-bit pointers (`stack_addr.i64`, i64 addresses) is
    // not valid for a 32-bit target; the verifier says so.
    KnownIssue {
        name: "pointer-width",
        targets: &["pulley32"],
        class: IssueClass::Unsupported,
        reason: "the function assumes 64-bit pointers",
        symptom: Symptom::CompileFailure {
            kind: FailureKind::Verifier,
            needles: &["invalid pointer width"],
            shape: None,
        },
    },
];

/// The known issue explaining compile `failure` of `func` on `target`.
pub fn match_compile_failure(
    target: &str,
    failure: &CompileFailure,
    func: &Function,
) -> Option<&'static KnownIssue> {
    KNOWN_ISSUES.iter().find(|k| {
        k.applies_to(target)
            && match k.symptom {
                Symptom::CompileFailure {
                    kind,
                    needles,
                    shape,
                } => {
                    kind == failure.kind
                        && needles.iter().any(|n| failure.message.contains(n))
                        && shape.is_none_or(|s| s(func))
                }
                Symptom::Unlowered { gap } => {
                    failure.kind == FailureKind::Unsupported
                        && failure.message.contains(UNLOWERED)
                        && named_instruction(func, &failure.message)
                            .is_some_and(|i| gap(&InstShape::of(func, i)).is_some())
                }
                Symptom::Workaround { .. } => false,
            }
    })
}

/// What Cranelift says when no lowering rule matched an instruction.
const UNLOWERED: &str = "should be implemented in ISLE";

/// A module rewritten to avoid known bugs on one target.
pub struct Workaround {
    /// The rewritten (and re-verified) module.
    pub module: ClifModule,
    /// The issues whose constructs were rewritten.
    pub issues: Vec<&'static KnownIssue>,
    /// The mid-end's output for `module`, shared by its executors.
    pub mid_end: MidEndCache,
}

/// The known bugs of `target` with a workaround whose construct one of
/// `funcs` contains.
fn workaround_issues(target: &str, funcs: &[Function]) -> Vec<&'static KnownIssue> {
    KNOWN_ISSUES
        .iter()
        .filter(|k| k.applies_to(target))
        .filter(|k| match k.symptom {
            Symptom::Workaround { shape, .. } => funcs.iter().any(shape),
            Symptom::CompileFailure { .. } | Symptom::Unlowered { .. } => false,
        })
        .collect()
}

fn rewrite_all(funcs: &mut [Function], issues: &[&'static KnownIssue]) {
    for issue in issues {
        if let Symptom::Workaround { rewrite, .. } = issue.symptom {
            funcs.iter_mut().for_each(rewrite);
        }
    }
}

/// `func` rewritten around every known bug of `target` whose construct it
/// contains, with those bugs; `None` if it contains none. The caller
/// confirms a failure is one of them by compiling the rewritten function.
pub fn work_around_function(
    target: &str,
    func: &Function,
) -> Option<(Function, Vec<&'static KnownIssue>)> {
    let issues = workaround_issues(target, std::slice::from_ref(func));
    if issues.is_empty() {
        return None;
    }
    let mut funcs = [func.clone()];
    rewrite_all(&mut funcs, &issues);
    let [rewritten] = funcs;
    Some((rewritten, issues))
}

/// Rewrites `module` around every known bug of `target` whose construct it
/// contains; `None` if it contains none (or, defensively, if a rewrite
/// does not verify).
pub fn work_around(module: &ClifModule, target: &str) -> Option<Workaround> {
    let issues = workaround_issues(target, module.functions());
    if issues.is_empty() {
        return None;
    }
    let mut funcs = module.functions().to_vec();
    rewrite_all(&mut funcs, &issues);
    let rewritten = module.with_functions(funcs).ok()?;
    Some(Workaround {
        module: rewritten,
        issues,
        mid_end: MidEndCache::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ClifModule {
        ClifModule::parse(text).unwrap()
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = KNOWN_ISSUES.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KNOWN_ISSUES.len());
    }

    #[test]
    fn unlowered_gaps_match_only_the_named_instruction() {
        let m = parse(
            "function %f(i128, i64) -> f64, f64 {
            block0(v0: i128, v1: i64):
                v2 = fcvt_from_sint.f64 v1
                v3 = fcvt_from_sint.f64 v0
                return v2, v3
            }",
        );
        let failure = |inst: &str| CompileFailure {
            isa: "x86_64".to_string(),
            flags: String::new(),
            func: "%f".to_string(),
            kind: FailureKind::Unsupported,
            message: format!(
                "Unsupported feature: should be implemented in ISLE: inst = `{inst}`, type = `None`"
            ),
        };
        let func = &m.functions()[0];
        let gap = failure("v3 = fcvt_from_sint.f64 v0");
        let issue = match_compile_failure("x86_64", &gap, func).expect("a known gap");
        assert_eq!(issue.name, "x64-unlowered");
        assert!(match_compile_failure("aarch64", &gap, func).is_none());
        // A rule that stops matching an ordinary instruction stays a finding.
        let ordinary = failure("v2 = fcvt_from_sint.f64 v1");
        assert!(match_compile_failure("x86_64", &ordinary, func).is_none());
    }

    #[test]
    fn i128_store_offsets_are_rewritten() {
        let m = parse(
            "function %f(i64, i128) {
            block0(v0: i64, v1: i128):
                store v1, v0+16
                store v1, v0
                return
            }",
        );
        assert!(has_offset_i128_store(&m.functions()[0]));
        let w = work_around(&m, "pulley64").unwrap();
        assert_eq!(w.issues[0].name, "pulley-i128-store-offset");
        let f = &w.module.functions()[0];
        assert!(!has_offset_i128_store(f), "{}", f.display());
        assert!(work_around(&m, "x86_64").is_none());
    }

    #[test]
    fn wide_bmasks_are_rewritten() {
        let m = parse(
            "function %f(i64, i32) -> i128, i128 {
            block0(v0: i64, v1: i32):
                v2 = bmask.i128 v0
                v3 = bmask.i32 v1
                v4 = sextend.i128 v3
                return v2, v4
            }",
        );
        let f = &m.functions()[0];
        assert_eq!(wide_bmasks(f).len(), 2);
        let w = work_around(&m, "pulley32").unwrap();
        let g = &w.module.functions()[0];
        assert!(!has_wide_bmask(g), "{}", g.display());
    }

    #[test]
    fn shapes_are_specific() {
        let m = parse(
            "function %f(f32x4, f32x4, i128, f32) -> i8x16, i8x16, i64, f32 {
            block0(v0: f32x4, v1: f32x4, v2: i128, v3: f32):
                v4 = fcmp lt v0, v1
                v5 = fcmp uno v0, v1
                v6 = bmask.i64 v2
                v7 = bnot v3
                v8 = bitcast.i8x16 little v4
                v9 = bitcast.i8x16 little v5
                return v8, v9, v6, v7
            }",
        );
        let f = &m.functions()[0];
        assert!(has_vector_fcmp_beyond_wasm(f));
        assert!(has_bmask_of_i128(f));
        assert!(has_scalar_float_bitwise(f));
        let plain = parse(
            "function %g(f32x4, f32x4, i64, i32) -> i8x16, i64, i32 {
            block0(v0: f32x4, v1: f32x4, v2: i64, v3: i32):
                v4 = fcmp ge v0, v1
                v5 = bmask.i64 v2
                v6 = bnot v3
                v7 = bitcast.i8x16 little v4
                return v7, v5, v6
            }",
        );
        let g = &plain.functions()[0];
        assert!(!has_vector_fcmp_beyond_wasm(g));
        assert!(!has_bmask_of_i128(g));
        assert!(!has_scalar_float_bitwise(g));
        assert!(!has_wide_bmask(g));
    }
}
