//! Cross-ISA compile checks: compile every function of a verified module
//! for aarch64, riscv64 (with common extensions), s390x, pulley32 and
//! pulley64, with the verifier and regalloc2's checker on. A panic,
//! verifier error, checker error or "unsupported" error on a valid function
//! is reported with the ISA and flags, and sorted into *known* (matching
//! an entry of [`known::KNOWN_ISSUES`]) and *new*.

use std::fmt;

use super::ClifModule;
use super::compile::{self, CompileFailure, FailureKind};
use super::config::{OptLevel, isa_for, shared_flags};
use super::known::{self, KnownIssue};
use cranelift_codegen::ir::Function;

/// One cross-compilation target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrossTarget {
    /// Short name (`aarch64`, `riscv64`, ...).
    pub name: &'static str,
    /// Target triple.
    pub triple: &'static str,
    /// ISA flags (`name` enables a boolean, `name=value` sets an enum).
    pub flags: &'static [&'static str],
}

/// The five targets, each with the extensions a current CPU commonly has.
pub const TARGETS: [CrossTarget; 5] = [
    CrossTarget {
        name: "aarch64",
        triple: "aarch64-unknown-linux-gnu",
        flags: &["has_lse", "has_fp16"],
    },
    CrossTarget {
        name: "riscv64",
        triple: "riscv64gc-unknown-linux-gnu",
        flags: &[
            "has_m",
            "has_a",
            "has_f",
            "has_d",
            "has_zicsr",
            "has_zifencei",
            "has_c",
            "has_zba",
            "has_zbb",
            "has_zbs",
            "has_zicond",
            "has_v",
            "has_zvl128b",
        ],
    },
    CrossTarget {
        name: "s390x",
        triple: "s390x-unknown-linux-gnu",
        flags: &["has_mie3", "has_vxrs_ext2"],
    },
    CrossTarget {
        name: "pulley32",
        triple: "pulley32",
        flags: &[],
    },
    CrossTarget {
        name: "pulley64",
        triple: "pulley64",
        flags: &[],
    },
];

/// A failure found by [`check_module`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrossIsaFailure {
    /// The target.
    pub target: &'static str,
    /// Cranelift's failure (ISA string, flags, function, message).
    pub failure: CompileFailure,
    /// The known issue it matches, if any.
    pub known: Option<&'static KnownIssue>,
}

impl CrossIsaFailure {
    /// Whether this is a finding (not a documented unsupported case).
    pub fn is_new(&self) -> bool {
        self.known.is_none()
    }
}

impl fmt::Display for CrossIsaFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.known {
            Some(k) => write!(f, "known ({}): {}", k.name, self.failure),
            None => write!(f, "NEW: {}", self.failure),
        }
    }
}

/// Compiles one function for `target` (verifier and regalloc checker on).
pub fn check_function(
    target: &CrossTarget,
    func: &Function,
    opt_level: OptLevel,
) -> Result<(), Box<CrossIsaFailure>> {
    let isa =
        isa_for(target.triple, shared_flags(opt_level, true), target.flags).map_err(|message| {
            Box::new(CrossIsaFailure {
                target: target.name,
                failure: CompileFailure {
                    isa: target.triple.to_string(),
                    flags: target.flags.join(" "),
                    func: func.name.to_string(),
                    kind: FailureKind::Unsupported,
                    message,
                },
                known: None,
            })
        })?;
    let mut func = func.clone();
    func.signature.call_conv = adjust_call_conv(func.signature.call_conv, &*isa);
    compile::compile_code(&*isa, &func, true)
        .map(|_| ())
        .map_err(|failure| {
            Box::new(CrossIsaFailure {
                target: target.name,
                known: known::match_compile_failure(target.name, &failure, &func),
                failure,
            })
        })
}

/// Platform calling conventions of another OS/ISA are replaced by the
/// target's default; ISA-neutral ones (`fast`, `tail`) are kept.
fn adjust_call_conv(
    cc: cranelift_codegen::isa::CallConv,
    isa: &dyn cranelift_codegen::isa::TargetIsa,
) -> cranelift_codegen::isa::CallConv {
    use cranelift_codegen::isa::CallConv;
    match cc {
        CallConv::Fast | CallConv::Tail => cc,
        _ => isa.default_call_conv(),
    }
}

/// Compiles every function of `module` for every [`TARGETS`] entry at
/// `opt_level` and returns all failures (known and new).
pub fn check_module(module: &ClifModule, opt_level: OptLevel) -> Vec<CrossIsaFailure> {
    let mut out = Vec::new();
    for target in &TARGETS {
        for func in module.functions() {
            if let Err(f) = check_function(target, func, opt_level) {
                out.push(*f);
            }
        }
    }
    out
}
