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

mod logger;

use std::collections::BTreeMap;
use std::fmt;

pub use logger::{collect, install_logger, is_installed, paused};

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

/// Per-rule hit counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleHits {
    hits: BTreeMap<RuleId, u64>,
}

impl RuleHits {
    /// No hits.
    pub fn new() -> RuleHits {
        RuleHits::default()
    }

    /// Adds `n` hits of `rule`.
    pub fn record(&mut self, rule: RuleId, n: u64) {
        *self.hits.entry(rule).or_insert(0) += n;
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &RuleHits) {
        for (rule, n) in &other.hits {
            match self.hits.get_mut(rule) {
                Some(c) => *c += n,
                None => {
                    self.hits.insert(rule.clone(), *n);
                }
            }
        }
    }

    /// Rules and their counts, ordered by file then line.
    pub fn iter(&self) -> impl Iterator<Item = (&RuleId, u64)> {
        self.hits.iter().map(|(r, n)| (r, *n))
    }

    /// Number of distinct rules hit.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether no rule was hit.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// Hits of `rule` (0 if never).
    pub fn get(&self, rule: &RuleId) -> u64 {
        self.hits.get(rule).copied().unwrap_or(0)
    }

    /// Sum of all hits.
    pub fn total(&self) -> u64 {
        self.hits.values().sum()
    }
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
