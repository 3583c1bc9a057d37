//! JIT configurations: optimization level, host ISA feature subset, bounds
//! checking strategy and debugging knobs.
//!
//! Every configuration has a stable short name (its `Display`), e.g.
//! `jit(opt=speed,isa=avx2,bounds=guard)`, so an oracle that runs one test
//! case under several configurations can name the one that disagrees.
//! [`JitConfig::all_for_host`] enumerates every configuration the host CPU
//! can run; an ISA level is offered only when the CPU has all its features.

use std::fmt;

use cranelift_codegen::ir::Opcode;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};

/// Cranelift optimization level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OptLevel {
    /// No optimizations.
    None,
    /// Optimize for speed.
    Speed,
    /// Optimize for speed and size.
    SpeedAndSize,
}

impl OptLevel {
    /// All levels.
    pub const ALL: [OptLevel; 3] = [OptLevel::None, OptLevel::Speed, OptLevel::SpeedAndSize];

    /// Cranelift's name for the level.
    pub fn name(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }
}

/// A cumulative subset of x86-64 ISA extensions enabled for code generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IsaLevel {
    /// Baseline x86-64 (SSE2 only).
    Sse2,
    /// Plus SSE3, SSSE3 and SSE4.1.
    Sse41,
    /// Plus SSE4.2 and AVX.
    Avx,
    /// Plus AVX2, BMI1, BMI2, LZCNT, POPCNT and FMA.
    Avx2,
    /// Plus the AVX-512 families Cranelift knows (F, VL, DQ, BITALG, VBMI)
    /// that the host has; F and VL are required.
    Avx512,
}

impl IsaLevel {
    /// All levels, lowest first.
    pub const ALL: [IsaLevel; 5] = [
        IsaLevel::Sse2,
        IsaLevel::Sse41,
        IsaLevel::Avx,
        IsaLevel::Avx2,
        IsaLevel::Avx512,
    ];

    /// Short name used in configuration names.
    pub fn name(self) -> &'static str {
        match self {
            IsaLevel::Sse2 => "sse2",
            IsaLevel::Sse41 => "sse41",
            IsaLevel::Avx => "avx",
            IsaLevel::Avx2 => "avx2",
            IsaLevel::Avx512 => "avx512",
        }
    }

    /// The Cranelift x86 flags this level requires (cumulative).
    fn required_flags(self) -> &'static [&'static str] {
        const SSE41: &[&str] = &["has_sse3", "has_ssse3", "has_sse41"];
        const AVX: &[&str] = &["has_sse3", "has_ssse3", "has_sse41", "has_sse42", "has_avx"];
        const AVX2: &[&str] = &[
            "has_sse3",
            "has_ssse3",
            "has_sse41",
            "has_sse42",
            "has_avx",
            "has_avx2",
            "has_bmi1",
            "has_bmi2",
            "has_lzcnt",
            "has_popcnt",
            "has_fma",
        ];
        const AVX512: &[&str] = &[
            "has_sse3",
            "has_ssse3",
            "has_sse41",
            "has_sse42",
            "has_avx",
            "has_avx2",
            "has_bmi1",
            "has_bmi2",
            "has_lzcnt",
            "has_popcnt",
            "has_fma",
            "has_avx512f",
            "has_avx512vl",
        ];
        match self {
            IsaLevel::Sse2 => &[],
            IsaLevel::Sse41 => SSE41,
            IsaLevel::Avx => AVX,
            IsaLevel::Avx2 => AVX2,
            IsaLevel::Avx512 => AVX512,
        }
    }

    /// Optional flags enabled at this level when the host has them.
    fn optional_flags(self) -> &'static [&'static str] {
        match self {
            IsaLevel::Avx512 => &["has_avx512dq", "has_avx512bitalg", "has_avx512vbmi"],
            _ => &[],
        }
    }

    /// True if the host CPU supports every required feature of this level.
    pub fn host_supports(self) -> bool {
        self.required_flags().iter().all(|f| host_has(f))
    }

    /// The highest level the host supports.
    pub fn host_best() -> IsaLevel {
        IsaLevel::ALL
            .iter()
            .rev()
            .copied()
            .find(|l| l.host_supports())
            .unwrap_or(IsaLevel::Sse2)
    }

    /// Cranelift flags to enable for this level on this host.
    fn flags_for_host(self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.required_flags().to_vec();
        v.extend(
            self.optional_flags()
                .iter()
                .copied()
                .filter(|f| host_has(f)),
        );
        v
    }
}

/// Does the host CPU have the feature behind a Cranelift x86 flag?
#[cfg(target_arch = "x86_64")]
fn host_has(flag: &str) -> bool {
    use std::arch::is_x86_feature_detected as has;
    match flag {
        "has_sse3" => has!("sse3"),
        "has_ssse3" => has!("ssse3"),
        "has_sse41" => has!("sse4.1"),
        "has_sse42" => has!("sse4.2"),
        "has_avx" => has!("avx"),
        "has_avx2" => has!("avx2"),
        "has_bmi1" => has!("bmi1"),
        "has_bmi2" => has!("bmi2"),
        "has_lzcnt" => has!("lzcnt"),
        "has_popcnt" => has!("popcnt"),
        "has_fma" => has!("fma"),
        "has_avx512f" => has!("avx512f"),
        "has_avx512vl" => has!("avx512vl"),
        "has_avx512dq" => has!("avx512dq"),
        "has_avx512bitalg" => has!("avx512bitalg"),
        "has_avx512vbmi" => has!("avx512vbmi"),
        _ => false,
    }
}

/// Non-x86 hosts only run the baseline level (no x86 flags are set then).
#[cfg(not(target_arch = "x86_64"))]
fn host_has(_flag: &str) -> bool {
    false
}

/// How linear-memory accesses are bounds-checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundsMode {
    /// Compare every effective address against the memory's current size
    /// and trap explicitly.
    Explicit,
    /// 32-bit memories reserve 8 GiB of address space so that no effective
    /// address can leave the reservation; accesses are trapping loads and
    /// stores and an out-of-bounds access faults (SIGSEGV) on an inaccessible
    /// page. 64-bit memories still use explicit checks.
    Guard,
}

impl BoundsMode {
    /// Short name used in configuration names.
    pub fn name(self) -> &'static str {
        match self {
            BoundsMode::Explicit => "explicit",
            BoundsMode::Guard => "guard",
        }
    }
}

/// A deliberate miscompilation, for testing the oracles: every occurrence of
/// the wasm operator `wasm` (text-format mnemonic, one of the simple ops of
/// [`crate::jit::optable::op_table`]) is emitted with the CLIF opcode `emit`
/// instead of its real one (same operand shape required, e.g. `iadd` →
/// `isub`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FaultSpec {
    /// Mnemonic of the wasm operator to miscompile, e.g. `"i32.add"`.
    pub wasm: &'static str,
    /// Opcode emitted instead.
    pub emit: Opcode,
}

/// A complete JIT configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JitConfig {
    /// Optimization level.
    pub opt: OptLevel,
    /// ISA extension subset (never more than the host has).
    pub isa: IsaLevel,
    /// Bounds-check strategy for linear memories.
    pub bounds: BoundsMode,
    /// Run Cranelift's IR verifier on every function, before and after the
    /// mid-end (on by default; see [`crate::jit::compile`]).
    pub verifier: bool,
    /// Run regalloc2's checker on every function.
    pub regalloc_checker: bool,
    /// Cranelift's NaN canonicalization (off by default: it changes which NaN
    /// payloads are observable, which the spec leaves open anyway).
    pub nan_canonicalization: bool,
    /// Test-only fault injection.
    pub inject_fault: Option<FaultSpec>,
}

impl Default for JitConfig {
    fn default() -> Self {
        JitConfig {
            opt: OptLevel::Speed,
            isa: IsaLevel::host_best(),
            bounds: BoundsMode::Explicit,
            verifier: true,
            regalloc_checker: false,
            nan_canonicalization: false,
            inject_fault: None,
        }
    }
}

impl JitConfig {
    /// The default configuration with another optimization level.
    pub fn with_opt(opt: OptLevel) -> JitConfig {
        JitConfig {
            opt,
            ..JitConfig::default()
        }
    }

    /// Every (opt level × supported ISA level × bounds mode) configuration
    /// for this host, defaults for everything else.
    pub fn all_for_host() -> Vec<JitConfig> {
        let mut out = Vec::new();
        for opt in OptLevel::ALL {
            for isa in IsaLevel::ALL.into_iter().filter(|l| l.host_supports()) {
                for bounds in [BoundsMode::Explicit, BoundsMode::Guard] {
                    out.push(JitConfig {
                        opt,
                        isa,
                        bounds,
                        ..JitConfig::default()
                    });
                }
            }
        }
        out
    }

    /// Builds the Cranelift target ISA for this configuration. Its
    /// `enable_verifier` setting is off whatever [`JitConfig::verifier`]
    /// says: the JIT verifies in its own pipeline ([`crate::jit::compile`]).
    pub fn build_isa(&self) -> Result<OwnedTargetIsa, String> {
        if !self.isa.host_supports() {
            return Err(format!(
                "ISA level {} is not supported by this CPU",
                self.isa.name()
            ));
        }
        let mut flags = settings::builder();
        let set = |b: &mut settings::Builder, k: &str, v: &str| {
            b.set(k, v).map_err(|e| format!("setting {k}={v}: {e}"))
        };
        set(&mut flags, "opt_level", self.opt.name())?;
        // Verification (`self.verifier`) is done by shoal's compile pipeline
        // at fewer points than Cranelift's own (see `jit::compile`).
        set(&mut flags, "enable_verifier", "false")?;
        set(
            &mut flags,
            "regalloc_checker",
            bool_str(self.regalloc_checker),
        )?;
        set(
            &mut flags,
            "enable_nan_canonicalization",
            bool_str(self.nan_canonicalization),
        )?;
        // Wasm functions may return more values than fit in registers.
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        // Code lives anywhere in the address space: libcalls are absolute.
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "is_pic", "false")?;
        // Cranelift's x64 tail calls rely on frame pointers.
        set(&mut flags, "preserve_frame_pointers", "true")?;
        // Stack overflow is caught by the stack-limit check instead.
        set(&mut flags, "enable_probestack", "false")?;
        let mut isa = cranelift_codegen::isa::lookup(target_lexicon::Triple::host())
            .map_err(|e| format!("host ISA: {e}"))?;
        for flag in self.isa.flags_for_host() {
            isa.enable(flag)
                .map_err(|e| format!("ISA flag {flag}: {e}"))?;
        }
        isa.finish(settings::Flags::new(flags))
            .map_err(|e| format!("building ISA: {e}"))
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

impl fmt::Display for JitConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "jit(opt={},isa={},bounds={}",
            self.opt.name(),
            self.isa.name(),
            self.bounds.name()
        )?;
        if !self.verifier {
            f.write_str(",noverify")?;
        }
        if self.regalloc_checker {
            f.write_str(",ra-check")?;
        }
        if self.nan_canonicalization {
            f.write_str(",nan-canon")?;
        }
        if let Some(fault) = self.inject_fault {
            write!(f, ",fault={}->{}", fault.wasm, fault.emit)?;
        }
        f.write_str(")")
    }
}

impl std::str::FromStr for JitConfig {
    type Err = String;

    /// Parses the [`Display`](fmt::Display) form back (unknown or missing
    /// parts are errors; omitted optional flags take their defaults).
    fn from_str(text: &str) -> Result<JitConfig, String> {
        let inner = text
            .trim()
            .strip_prefix("jit(")
            .and_then(|t| t.strip_suffix(')'))
            .ok_or_else(|| format!("not a JIT configuration: {text:?}"))?;
        let mut c = JitConfig::default();
        for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some(("opt", v)) => {
                    c.opt = *OptLevel::ALL
                        .iter()
                        .find(|o| o.name() == v)
                        .ok_or_else(|| format!("unknown opt level {v:?}"))?;
                }
                Some(("isa", v)) => {
                    c.isa = *IsaLevel::ALL
                        .iter()
                        .find(|l| l.name() == v)
                        .ok_or_else(|| format!("unknown ISA level {v:?}"))?;
                }
                Some(("bounds", v)) => {
                    c.bounds = *[BoundsMode::Explicit, BoundsMode::Guard]
                        .iter()
                        .find(|b| b.name() == v)
                        .ok_or_else(|| format!("unknown bounds mode {v:?}"))?;
                }
                Some(("fault", v)) => c.inject_fault = Some(parse_fault(v)?),
                None if part == "noverify" => c.verifier = false,
                None if part == "ra-check" => c.regalloc_checker = true,
                None if part == "nan-canon" => c.nan_canonicalization = true,
                _ => return Err(format!("unknown configuration part {part:?}")),
            }
        }
        Ok(c)
    }
}

/// Parses `wasm-op->clif-opcode`, e.g. `i32.add->isub`.
fn parse_fault(v: &str) -> Result<FaultSpec, String> {
    let (wasm, emit) = v
        .split_once("->")
        .ok_or_else(|| format!("fault must be op->opcode, got {v:?}"))?;
    let mapping = crate::jit::optable::by_name(wasm)
        .ok_or_else(|| format!("fault: {wasm:?} is not a simple operator"))?;
    let emit: Opcode = emit
        .parse()
        .map_err(|_| format!("fault: unknown CLIF opcode {emit:?}"))?;
    Ok(FaultSpec {
        wasm: mapping.wasm,
        emit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_distinct() {
        let all = JitConfig::all_for_host();
        assert!(all.len() >= 6, "at least sse2 × 3 opts × 2 bounds");
        let names: std::collections::HashSet<String> = all.iter().map(|c| c.to_string()).collect();
        assert_eq!(names.len(), all.len());
        let c = JitConfig {
            opt: OptLevel::Speed,
            isa: IsaLevel::Sse2,
            bounds: BoundsMode::Guard,
            ..JitConfig::default()
        };
        assert_eq!(c.to_string(), "jit(opt=speed,isa=sse2,bounds=guard)");
    }

    #[test]
    fn names_parse_back() {
        let mut all = JitConfig::all_for_host();
        all.push(JitConfig {
            verifier: false,
            regalloc_checker: true,
            nan_canonicalization: true,
            inject_fault: Some(FaultSpec {
                wasm: "i32.add",
                emit: Opcode::Isub,
            }),
            ..JitConfig::default()
        });
        for c in all {
            assert_eq!(c.to_string().parse::<JitConfig>(), Ok(c));
        }
        assert!("jit(opt=fast)".parse::<JitConfig>().is_err());
        assert!("interp".parse::<JitConfig>().is_err());
        assert!("jit(fault=i32.nope->isub)".parse::<JitConfig>().is_err());
    }

    #[test]
    fn every_host_config_builds_an_isa() {
        for c in JitConfig::all_for_host() {
            c.build_isa().unwrap_or_else(|e| panic!("{c}: {e}"));
        }
    }
}
