//! Live ISLE rule coverage.
//!
//! With `cranelift-codegen`'s `trace-log` feature (shoal's `rule-coverage`
//! feature, on by default), every ISLE rule that fires while lowering or
//! optimising logs `ISLE <term> <file> line <N>` at debug level, `N`
//! 0-based. [`install_logger`] installs a `log::Log` that counts those
//! records per thread while [`collect`] runs, so concurrent compilations on
//! different threads never mix; [`paused`] excludes harness compilations
//! (trampolines) from the count.
//!
//! Rule identity is [`RuleId`] `file:line`, 1-based, with the file
//! normalised by [`normalize_isle_path`]: relative to the
//! `cranelift-codegen` crate root for its own `.isle` files
//! (`src/isa/x64/lower.isle`), `generated/<name>` for files generated into
//! `OUT_DIR` (`generated/clif_lower.isle`). The ISLE harvester uses the
//! same function, so hit counts and its rule table share one key space.
//!
//! # Cost
//!
//! Measured with callgrind (instruction counts; wall-clock time on the
//! shared build machines is too noisy) over 2,000 release-mode compilations
//! of small functions for x86-64 at `opt_level=speed`
//! (`tests/clif_coverage.rs`, `SHOAL_BENCH_MODE`):
//!
//! * `trace-log` compiled in, logger installed, not counting: +5.2% over a
//!   build without the feature (the log calls in the generated code);
//! * counting inside one long [`collect`]: no measurable addition (each
//!   record is one hash-map increment keyed by the message literal's
//!   address);
//! * one [`collect`] per compilation: +5.6% more (building the per-call
//!   [`RuleHits`]), i.e. about +11% in total.

mod hits;
mod logger;

use std::fmt;

pub use hits::{RuleHits, intern};
pub use logger::{collect, install_logger, is_installed, paused};

/// Whether this build counts rules (the `rule-coverage` feature, which turns
/// on `cranelift-codegen`'s `trace-log`).
pub const ENABLED: bool = cfg!(feature = "rule-coverage");

/// One ISLE rule: its `.isle` file (normalised) and 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId {
    /// Normalised path, e.g. `src/isa/x64/lower.isle`.
    pub file: String,
    /// 1-based line where the rule's pattern starts.
    pub line: u32,
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The ISLE compilation units, named as `cranelift-codegen-meta` (and the
/// harvester) name them.
pub const UNITS: [&str; 6] = ["x64", "aarch64", "riscv64", "s390x", "pulley", "opt"];

/// The unit whose generated code logs under `target` (a Rust module path
/// such as `cranelift_codegen::isa::x64::lower::isle::generated_code`).
pub fn unit_of_target(target: &str) -> Option<&'static str> {
    const MAP: [(&str, &str); 6] = [
        ("::isa::x64::", "x64"),
        ("::isa::aarch64::", "aarch64"),
        ("::isa::riscv64::", "riscv64"),
        ("::isa::s390x::", "s390x"),
        ("::isa::pulley_shared::", "pulley"),
        ("::opts", "opt"),
    ];
    MAP.iter()
        .find(|(k, _)| target.contains(k))
        .map(|(_, u)| *u)
}

/// Normalises an ISLE source path as found in Cranelift's generated code
/// or on disk (see the module docs).
///
/// * `src/isa/x64/lower.isle` (already crate-relative) is kept;
/// * `/…/cranelift-codegen-0.135.8/src/opts/icmp.isle` → `src/opts/icmp.isle`;
/// * `<OUT_DIR>/clif_lower.isle` or `/…/out/clif_lower.isle` →
///   `generated/clif_lower.isle`.
pub fn normalize_isle_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    if let Some(rest) = path.strip_prefix("<OUT_DIR>/") {
        return format!("generated/{}", file_name(rest));
    }
    if path.starts_with("src/") {
        return path;
    }
    if let Some(i) = path.find("/cranelift-codegen") {
        let after = &path[i + 1..];
        if let Some(j) = after.find("/src/") {
            // Only a directory named cranelift-codegen[-version] qualifies.
            let dir = &after[..j];
            if dir == "cranelift-codegen" || dir.starts_with("cranelift-codegen-") {
                return after[j + 1..].to_string();
            }
        }
    }
    if path.contains("/out/") || path.starts_with("out/") {
        return format!("generated/{}", file_name(&path));
    }
    path
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Parses one `trace-log` record, `ISLE <term> <file> line <N>`, into the
/// term and the rule (line converted to 1-based).
pub fn parse_record(message: &str) -> Option<(&str, RuleId)> {
    let rest = message.strip_prefix("ISLE ")?;
    let (term, site) = rest.split_once(' ')?;
    let (file, line) = site.rsplit_once(" line ")?;
    let line: u32 = line.trim().parse().ok()?;
    Some((
        term,
        RuleId {
            file: normalize_isle_path(file),
            line: line.checked_add(1)?,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise() {
        assert_eq!(
            normalize_isle_path("src/isa/x64/lower.isle"),
            "src/isa/x64/lower.isle"
        );
        assert_eq!(
            normalize_isle_path(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/cranelift-codegen-0.135.8/src/opts/icmp.isle"
            ),
            "src/opts/icmp.isle"
        );
        assert_eq!(
            normalize_isle_path("<OUT_DIR>/assembler.isle"),
            "generated/assembler.isle"
        );
        assert_eq!(
            normalize_isle_path(
                "/work/main/target/debug/build/cranelift-codegen-af4c81/out/clif_lower.isle"
            ),
            "generated/clif_lower.isle"
        );
    }

    #[test]
    fn records_parse_to_one_based_lines() {
        let (term, rule) = parse_record("ISLE lower src/isa/x64/lower.isle line 41").unwrap();
        assert_eq!(term, "lower");
        assert_eq!(rule.to_string(), "src/isa/x64/lower.isle:42");
        assert!(parse_record("Number of CLIF instructions to optimize: 3").is_none());
        assert!(parse_record("ISLE x y line z").is_none());
    }

    #[test]
    fn merge_adds_counts() {
        let r = |line| RuleId {
            file: "src/prelude.isle".into(),
            line,
        };
        let mut a = RuleHits::new();
        a.record(r(1), 2);
        let mut b = RuleHits::new();
        b.record(r(1), 3);
        b.record(r(2), 1);
        a.merge(&b);
        assert_eq!(a.get(&r(1)), 5);
        assert_eq!(a.get(&r(2)), 1);
        assert_eq!(a.len(), 2);
        assert_eq!(a.total(), 6);
    }
}
