//! Compilation configurations for the native (and mid-end) executors:
//! enumerable, printable, and turned into a Cranelift `TargetIsa`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};

/// Cranelift's `opt_level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OptLevel {
    /// `none`: no mid-end optimisation.
    None,
    /// `speed`.
    Speed,
    /// `speed_and_size`.
    SpeedAndSize,
}

impl OptLevel {
    /// Every level.
    pub const ALL: [OptLevel; 3] = [OptLevel::None, OptLevel::Speed, OptLevel::SpeedAndSize];

    /// The setting's value as Cranelift spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        }
    }
}

/// A subset of host ISA extensions to compile for. On x86-64 each preset
/// includes the ones before it; on other hosts only `Baseline` and `Native`
/// exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostFeatures {
    /// No optional extensions (x86-64: SSE2 only), which exercises the
    /// fallback lowerings and libcalls.
    Baseline,
    /// x86-64: + SSE3, SSSE3, SSE4.1.
    Sse41,
    /// x86-64: + SSE4.2, POPCNT, AVX.
    Avx,
    /// x86-64: + AVX2, FMA, BMI1, BMI2, LZCNT.
    Avx2,
    /// x86-64: + AVX-512 F, VL, DQ, BITALG, VBMI.
    Avx512,
    /// Everything the host supports, as detected by `cranelift-native`.
    Native,
}

impl HostFeatures {
    /// Every preset, supported by this host or not.
    pub const ALL: [HostFeatures; 6] = [
        HostFeatures::Baseline,
        HostFeatures::Sse41,
        HostFeatures::Avx,
        HostFeatures::Avx2,
        HostFeatures::Avx512,
        HostFeatures::Native,
    ];

    /// Short name used in [`ClifConfig`]'s display.
    pub fn name(self) -> &'static str {
        match self {
            HostFeatures::Baseline => "baseline",
            HostFeatures::Sse41 => "sse41",
            HostFeatures::Avx => "avx",
            HostFeatures::Avx2 => "avx2",
            HostFeatures::Avx512 => "avx512",
            HostFeatures::Native => "native",
        }
    }

    /// The Cranelift x86-64 boolean settings this preset enables.
    pub fn x64_flags(self) -> &'static [&'static str] {
        const SSE41: &[&str] = &["has_sse3", "has_ssse3", "has_sse41"];
        const AVX: &[&str] = &[
            "has_sse3",
            "has_ssse3",
            "has_sse41",
            "has_sse42",
            "has_popcnt",
            "has_avx",
        ];
        const AVX2: &[&str] = &[
            "has_sse3",
            "has_ssse3",
            "has_sse41",
            "has_sse42",
            "has_popcnt",
            "has_avx",
            "has_avx2",
            "has_fma",
            "has_bmi1",
            "has_bmi2",
            "has_lzcnt",
        ];
        const AVX512: &[&str] = &[
            "has_sse3",
            "has_ssse3",
            "has_sse41",
            "has_sse42",
            "has_popcnt",
            "has_avx",
            "has_avx2",
            "has_fma",
            "has_bmi1",
            "has_bmi2",
            "has_lzcnt",
            "has_avx512f",
            "has_avx512vl",
            "has_avx512dq",
            "has_avx512bitalg",
            "has_avx512vbmi",
        ];
        match self {
            HostFeatures::Baseline | HostFeatures::Native => &[],
            HostFeatures::Sse41 => SSE41,
            HostFeatures::Avx => AVX,
            HostFeatures::Avx2 => AVX2,
            HostFeatures::Avx512 => AVX512,
        }
    }

    /// Whether the host CPU can run code compiled with this preset.
    pub fn host_supports(self) -> bool {
        match self {
            HostFeatures::Baseline | HostFeatures::Native => true,
            #[cfg(target_arch = "x86_64")]
            _ => self.x64_flags().iter().all(|f| x64_host_has(f)),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

#[cfg(target_arch = "x86_64")]
fn x64_host_has(flag: &str) -> bool {
    match flag {
        "has_sse3" => std::is_x86_feature_detected!("sse3"),
        "has_ssse3" => std::is_x86_feature_detected!("ssse3"),
        "has_sse41" => std::is_x86_feature_detected!("sse4.1"),
        "has_sse42" => std::is_x86_feature_detected!("sse4.2"),
        "has_popcnt" => std::is_x86_feature_detected!("popcnt"),
        "has_avx" => std::is_x86_feature_detected!("avx"),
        "has_avx2" => std::is_x86_feature_detected!("avx2"),
        "has_fma" => std::is_x86_feature_detected!("fma"),
        "has_bmi1" => std::is_x86_feature_detected!("bmi1"),
        "has_bmi2" => std::is_x86_feature_detected!("bmi2"),
        "has_lzcnt" => std::is_x86_feature_detected!("lzcnt"),
        "has_avx512f" => std::is_x86_feature_detected!("avx512f"),
        "has_avx512vl" => std::is_x86_feature_detected!("avx512vl"),
        "has_avx512dq" => std::is_x86_feature_detected!("avx512dq"),
        "has_avx512bitalg" => std::is_x86_feature_detected!("avx512bitalg"),
        "has_avx512vbmi" => std::is_x86_feature_detected!("avx512vbmi"),
        _ => false,
    }
}

/// One way of compiling CLIF for the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClifConfig {
    /// Cranelift `opt_level`.
    pub opt_level: OptLevel,
    /// Host ISA extensions to use.
    pub features: HostFeatures,
    /// Run the egraph mid-end (`Context::optimize`) before lowering. With
    /// `false` the function goes to the backend as written, even at
    /// `speed`, so backend rules see unoptimised patterns.
    pub mid_end: bool,
    /// Turn on regalloc2's checker (slow; catches allocation bugs).
    pub regalloc_checker: bool,
    /// Test-only fault injection: flip the lowest bit of the first native
    /// result, to prove that the comparison notices.
    pub inject_fault: bool,
}

impl Default for ClifConfig {
    fn default() -> Self {
        ClifConfig {
            opt_level: OptLevel::Speed,
            features: HostFeatures::Native,
            mid_end: true,
            regalloc_checker: false,
            inject_fault: false,
        }
    }
}

impl ClifConfig {
    /// Every configuration this host can run: each opt level × each
    /// supported feature preset, plus the mid-end-off variant of each
    /// optimising level. The regalloc checker is off (turn it on per
    /// configuration where wanted).
    pub fn all_for_host() -> Vec<ClifConfig> {
        let mut out = Vec::new();
        for features in HostFeatures::ALL {
            if !features.host_supports() {
                continue;
            }
            for opt_level in OptLevel::ALL {
                let base = ClifConfig {
                    opt_level,
                    features,
                    ..ClifConfig::default()
                };
                out.push(base);
                if opt_level != OptLevel::None {
                    out.push(ClifConfig {
                        mid_end: false,
                        ..base
                    });
                }
            }
        }
        out
    }

    /// A small spread for quick differential runs: baseline and native
    /// features, opt none and speed, mid-end on.
    pub fn quick() -> Vec<ClifConfig> {
        let mut out = Vec::new();
        for features in [HostFeatures::Baseline, HostFeatures::Native] {
            for opt_level in [OptLevel::None, OptLevel::Speed] {
                out.push(ClifConfig {
                    opt_level,
                    features,
                    ..ClifConfig::default()
                });
            }
        }
        out
    }

    /// The shared (ISA-independent) Cranelift flags of this configuration.
    pub fn shared_flags(&self) -> settings::Flags {
        shared_flags(self.opt_level, self.regalloc_checker)
    }

    /// The host `TargetIsa` for this configuration (built once per thread
    /// and configuration, then shared).
    pub fn host_isa(&self) -> Result<OwnedTargetIsa, String> {
        let key = format!(
            "host {:?} {:?} {}",
            self.features, self.opt_level, self.regalloc_checker
        );
        cached_isa(key, || self.build_host_isa())
    }

    fn build_host_isa(&self) -> Result<OwnedTargetIsa, String> {
        let mut builder =
            cranelift_native::builder_with_options(self.features == HostFeatures::Native)
                .map_err(|e| format!("host ISA: {e}"))?;
        for flag in self.features.x64_flags() {
            builder
                .enable(flag)
                .map_err(|e| format!("host ISA flag {flag}: {e}"))?;
        }
        builder
            .finish(self.shared_flags())
            .map_err(|e| format!("host ISA: {e}"))
    }

    /// The ISA flags as a filetest `target` line suffix (e.g.
    /// `has_sse3 has_ssse3 has_sse41`).
    pub fn target_flags(&self) -> Vec<String> {
        match self.features {
            HostFeatures::Native => match self.host_isa() {
                Ok(isa) => isa
                    .isa_flags()
                    .iter()
                    .filter(|v| v.as_bool() == Some(true))
                    .map(|v| v.name.to_string())
                    .collect(),
                Err(_) => Vec::new(),
            },
            other => other.x64_flags().iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Shared Cranelift flags used by every shoal compilation: NaN
/// canonicalisation off, LLVM ABI extensions on (so `i128` parameters are
/// accepted by every calling convention), frame pointers on. Cranelift's
/// own verifier flag is off: [`super::compile::compile_code`] verifies the
/// mid-end's output itself, once.
pub fn shared_flags(opt_level: OptLevel, regalloc_checker: bool) -> settings::Flags {
    let mut b = settings::builder();
    let set = |b: &mut settings::Builder, name: &str, value: &str| {
        // The names and values are fixed and valid for this Cranelift.
        b.set(name, value)
            .unwrap_or_else(|e| panic!("setting {name}={value}: {e}"));
    };
    set(&mut b, "opt_level", opt_level.as_str());
    set(&mut b, "enable_verifier", "false");
    set(&mut b, "enable_nan_canonicalization", "false");
    set(&mut b, "enable_llvm_abi_extensions", "true");
    // Cranelift 0.135's tail-call implementation asserts (panics) without
    // frame pointers; generated CLIF uses `return_call`.
    set(&mut b, "preserve_frame_pointers", "true");
    set(
        &mut b,
        "regalloc_checker",
        if regalloc_checker { "true" } else { "false" },
    );
    settings::Flags::new(b)
}

thread_local! {
    /// ISAs built so far on this thread, by a key naming everything they
    /// were built from. Building one (CPU feature detection, settings
    /// parsing) costs about as much as compiling a small function.
    static ISAS: RefCell<HashMap<String, OwnedTargetIsa>> = RefCell::new(HashMap::new());
}

fn cached_isa(
    key: String,
    build: impl FnOnce() -> Result<OwnedTargetIsa, String>,
) -> Result<OwnedTargetIsa, String> {
    if let Some(isa) = ISAS.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(isa);
    }
    let isa = build()?;
    ISAS.with(|c| c.borrow_mut().insert(key, isa.clone()));
    Ok(isa)
}

/// Looks up an ISA by triple name with the shared flags of `opt_level` and
/// `regalloc_checker` ([`shared_flags`]) and extra ISA flags (`name` to
/// enable, `name=value` to set); built once per thread, then shared.
pub fn cached_isa_for(
    triple: &str,
    opt_level: OptLevel,
    regalloc_checker: bool,
    isa_flags: &[&str],
) -> Result<OwnedTargetIsa, String> {
    let key = format!("{triple} {opt_level:?} {regalloc_checker} {isa_flags:?}");
    cached_isa(key, || {
        isa_for(triple, shared_flags(opt_level, regalloc_checker), isa_flags)
    })
}

/// Looks up an ISA by triple name with the given shared flags and extra
/// ISA flags (`name` to enable, `name=value` to set).
pub fn isa_for(
    triple: &str,
    flags: settings::Flags,
    isa_flags: &[&str],
) -> Result<OwnedTargetIsa, String> {
    let triple: target_lexicon::Triple = triple
        .parse()
        .map_err(|e| format!("triple {triple}: {e}"))?;
    let mut builder = isa::lookup(triple.clone()).map_err(|e| format!("{triple}: {e}"))?;
    for flag in isa_flags {
        let r = match flag.split_once('=') {
            Some((k, v)) => builder.set(k, v),
            None => builder.enable(flag),
        };
        r.map_err(|e| format!("{triple} flag {flag}: {e}"))?;
    }
    builder.finish(flags).map_err(|e| format!("{triple}: {e}"))
}

impl fmt::Display for ClifConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "opt={} isa={}",
            self.opt_level.as_str(),
            self.features.name()
        )?;
        if !self.mid_end {
            f.write_str(" midend=off")?;
        }
        if self.regalloc_checker {
            f.write_str(" regalloc_checker")?;
        }
        if self.inject_fault {
            f.write_str(" INJECT_FAULT")?;
        }
        Ok(())
    }
}
