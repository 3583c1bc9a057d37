//! The targets each ISLE unit is compiled for, and the ISA-flag
//! configurations a pattern's seeds are verified under.

use std::collections::BTreeSet;

use shoal_generators::pattern::Pattern;

use crate::sources::Unit;

/// A target and its enabled ISA flags: what a seed's `target` line says.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsaConfig {
    /// Target name as Cranelift filetests spell it (`x86_64`, `pulley64`).
    pub triple: &'static str,
    /// Enabled boolean ISA flags, sorted.
    pub flags: BTreeSet<&'static str>,
}

impl IsaConfig {
    /// The filetest `target` line.
    pub fn target_line(&self) -> String {
        let mut line = format!("target {}", self.triple);
        for f in &self.flags {
            line.push(' ');
            line.push_str(f);
        }
        line
    }

    /// Whether code for this target runs on the host (x86-64 Linux) or in
    /// Pulley's interpreter.
    pub fn executable(&self) -> bool {
        self.triple == "x86_64" || self.triple.starts_with("pulley")
    }
}

/// What shoal knows of a unit's ISA settings.
struct IsaDesc {
    triples: &'static [&'static str],
    /// Flags always enabled (the ISA refuses to be built without them).
    base: &'static [&'static str],
    /// Flags a configuration may enable.
    optional: &'static [&'static str],
    /// Flags of an intermediate level (x64: SSE4.2 without AVX).
    middle: &'static [&'static str],
}

const X64_SSE: &[&str] = &[
    "has_sse3",
    "has_ssse3",
    "has_sse41",
    "has_sse42",
    "has_popcnt",
    "has_cmpxchg16b",
];

fn desc(unit: Unit) -> IsaDesc {
    match unit {
        Unit::X64 => IsaDesc {
            triples: &["x86_64"],
            base: &[],
            optional: &[
                "has_sse3",
                "has_ssse3",
                "has_cmpxchg16b",
                "has_sse41",
                "has_sse42",
                "has_avx",
                "has_avx2",
                "has_fma",
                "has_avx_vnni",
                "has_avx512bitalg",
                "has_avx512dq",
                "has_avx512vl",
                "has_avx512vbmi",
                "has_avx512f",
                "has_avx512vnni",
                "has_popcnt",
                "has_bmi1",
                "has_bmi2",
                "has_lzcnt",
            ],
            middle: X64_SSE,
        },
        Unit::Aarch64 => IsaDesc {
            triples: &["aarch64"],
            base: &[],
            optional: &["has_lse", "has_fp16", "has_dotprod", "has_i8mm"],
            middle: &[],
        },
        Unit::Riscv64 => IsaDesc {
            triples: &["riscv64"],
            base: &[
                "has_m",
                "has_a",
                "has_f",
                "has_d",
                "has_zicsr",
                "has_zifencei",
            ],
            optional: &[
                "has_zfa",
                "has_zfhmin",
                "has_zfh",
                "has_v",
                "has_zvfh",
                "has_zba",
                "has_zbb",
                "has_zbc",
                "has_zbs",
                "has_zbkb",
                "has_zicond",
                "has_zvbb",
                "has_zcb",
            ],
            middle: &["has_v"],
        },
        Unit::S390x => IsaDesc {
            triples: &["s390x"],
            base: &[],
            optional: &["has_mie3", "has_vxrs_ext2", "has_mie4", "has_vxrs_ext3"],
            middle: &["has_mie3", "has_vxrs_ext2"],
        },
        Unit::Pulley => IsaDesc {
            triples: &["pulley64", "pulley32", "pulley64be"],
            base: &[],
            optional: &[],
            middle: &[],
        },
        Unit::Opt => IsaDesc {
            triples: &["x86_64"],
            base: &[],
            optional: &[],
            middle: &[],
        },
    }
}

/// Whether functions for `unit`'s target can return vectors in registers
/// (riscv64 and s390x cannot under the `fast` calling convention).
pub fn returns_vectors(unit: Unit) -> bool {
    !matches!(unit, Unit::Riscv64 | Unit::S390x)
}

/// Whether `flag` is a boolean ISA setting shoal may set for `unit`.
pub fn known_flag(unit: Unit, flag: &str) -> bool {
    let d = desc(unit);
    d.base.contains(&flag) || d.optional.contains(&flag)
}

/// The configurations a pattern's seeds are tried under, most specific
/// first: just the base and required flags; everything the pattern does not
/// forbid; and an intermediate level where the ISA has one. Each target
/// triple of the unit gets these.
pub fn configs(unit: Unit, pattern: &Pattern) -> Vec<IsaConfig> {
    let d = desc(unit);
    let pick = |name: &str| -> Option<&'static str> {
        d.optional
            .iter()
            .chain(d.base)
            .find(|f| **f == name)
            .copied()
    };
    let required: BTreeSet<&'static str> = pattern
        .flags
        .iter()
        .filter(|(_, on)| **on)
        .filter_map(|(f, _)| pick(f))
        .collect();
    let forbidden: BTreeSet<&'static str> = pattern
        .flags
        .iter()
        .filter(|(_, on)| !**on)
        .filter_map(|(f, _)| pick(f))
        .collect();
    let base: BTreeSet<&'static str> = d.base.iter().copied().collect();
    let min: BTreeSet<_> = base.union(&required).copied().collect();
    let max: BTreeSet<_> = base
        .iter()
        .chain(d.optional)
        .copied()
        .filter(|f| !forbidden.contains(f))
        .collect();
    let mid: BTreeSet<_> = min
        .iter()
        .chain(d.middle)
        .copied()
        .filter(|f| !forbidden.contains(f))
        .collect();
    let mut out = Vec::new();
    for triple in d.triples {
        for flags in [&min, &max, &mid] {
            let cfg = IsaConfig {
                triple,
                flags: flags.clone(),
            };
            if !out.contains(&cfg) {
                out.push(cfg);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_honour_required_and_forbidden_flags() {
        let mut p = Pattern::new();
        p.flags.insert("has_sse41".into(), true);
        p.flags.insert("has_avx".into(), false);
        p.flags.insert("no_such_flag".into(), true);
        let cfgs = configs(Unit::X64, &p);
        assert_eq!(cfgs.len(), 3);
        assert!(cfgs.iter().all(|c| c.flags.contains("has_sse41")));
        assert!(cfgs.iter().all(|c| !c.flags.contains("has_avx")));
        assert_eq!(cfgs[0].target_line(), "target x86_64 has_sse41");
        assert!(!known_flag(Unit::X64, "no_such_flag"));
    }

    #[test]
    fn riscv_always_has_its_base_extensions() {
        for c in configs(Unit::Riscv64, &Pattern::new()) {
            assert!(c.flags.contains("has_m") && c.flags.contains("has_zifencei"));
            assert!(!c.executable());
        }
        let pulley = configs(Unit::Pulley, &Pattern::new());
        assert_eq!(pulley.len(), 3);
        assert!(pulley.iter().all(IsaConfig::executable));
    }
}
