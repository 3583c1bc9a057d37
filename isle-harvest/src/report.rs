//! `shoal harvest --report`: per unit and per `.isle` file, the rules,
//! the patterns extracted and the seeds that verifiably fire their rule;
//! then the extern extractors/constructors without a handler, with the
//! number of rules using each.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::harvest::{Harvest, Miss};
use crate::sources::Unit;

/// Counts for one `.isle` file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileCounts {
    /// Rule sites.
    pub rules: usize,
    /// Rules a pattern was extracted for.
    pub patterns: usize,
    /// Rules a kept seed verifiably fires.
    pub seeds_firing: usize,
}

impl FileCounts {
    /// `seeds_firing / rules` in percent (100 for a file without rules).
    pub fn percent_firing(&self) -> f64 {
        if self.rules == 0 {
            100.0
        } else {
            100.0 * self.seeds_firing as f64 / self.rules as f64
        }
    }

    fn add(&mut self, other: &FileCounts) {
        self.rules += other.rules;
        self.patterns += other.patterns;
        self.seeds_firing += other.seeds_firing;
    }
}

/// One unit's files.
#[derive(Clone, Debug, Default, Serialize)]
pub struct UnitReport {
    /// Per file (display name).
    pub files: BTreeMap<String, FileCounts>,
}

/// The report, shaped as `--report --json` prints it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Per unit name.
    pub units: BTreeMap<String, UnitReport>,
    /// Extern extractor/constructor name → number of rules using it
    /// without a handler.
    pub unhandled: BTreeMap<String, usize>,
    /// Why rules with a pattern (own or grafted) have no seed, per reason.
    #[serde(skip)]
    pub misses: BTreeMap<&'static str, usize>,
    /// Distinct Cranelift panic messages met while verifying.
    #[serde(skip)]
    pub panics: Vec<String>,
    /// Seeds per fuzz target.
    #[serde(skip)]
    pub seeds: BTreeMap<&'static str, usize>,
}

impl Report {
    /// Summarizes a harvest.
    pub fn new(h: &Harvest) -> Report {
        let mut r = Report::default();
        for unit in &h.units {
            let ur = r.units.entry(unit.unit.name().to_string()).or_default();
            for rule in &unit.rules {
                let fc = ur.files.entry(rule.rule.file.clone()).or_default();
                fc.rules += 1;
                fc.patterns += usize::from(rule.has_pattern);
                fc.seeds_firing += usize::from(rule.seed.is_some());
                for name in &rule.unhandled {
                    *r.unhandled.entry(name.clone()).or_default() += 1;
                }
                if let Some(m) = rule.miss
                    && m != Miss::Helper
                {
                    *r.misses.entry(m.name()).or_default() += 1;
                }
            }
        }
        let mut panics: Vec<String> = h
            .panics
            .iter()
            .map(|p| p.message.lines().next().unwrap_or("").to_string())
            .collect();
        panics.sort();
        panics.dedup();
        r.panics = panics;
        for seed in &h.seeds {
            *r.seeds.entry(seed.target.name()).or_default() += 1;
        }
        r
    }

    /// Counts of one file of one unit.
    pub fn file(&self, unit: Unit, file: &str) -> FileCounts {
        self.units
            .get(unit.name())
            .and_then(|u| u.files.get(file))
            .copied()
            .unwrap_or_default()
    }

    /// Sum over the files of `unit` whose name starts with `prefix`.
    pub fn sum(&self, unit: Unit, prefix: &str) -> FileCounts {
        let mut total = FileCounts::default();
        if let Some(u) = self.units.get(unit.name()) {
            for (_, fc) in u.files.iter().filter(|(f, _)| f.starts_with(prefix)) {
                total.add(fc);
            }
        }
        total
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for unit in Unit::ALL {
            let Some(u) = self.units.get(unit.name()) else {
                continue;
            };
            let _ = writeln!(s, "{unit}");
            let _ = writeln!(
                s,
                "  {:<44} {:>6} {:>9} {:>13}",
                "file", "rules", "patterns", "seeds firing"
            );
            for (file, fc) in &u.files {
                let _ = writeln!(
                    s,
                    "  {file:<44} {:>6} {:>9} {:>7} {:>4.0}%",
                    fc.rules,
                    fc.patterns,
                    fc.seeds_firing,
                    fc.percent_firing()
                );
            }
            let hw = self.sum(unit, "src/");
            let _ = writeln!(
                s,
                "  {:<44} {:>6} {:>9} {:>7} {:>4.0}%",
                "hand-written (src/...)",
                hw.rules,
                hw.patterns,
                hw.seeds_firing,
                hw.percent_firing()
            );
        }
        let _ = writeln!(s, "\nseeds per fuzz target:");
        for (target, n) in &self.seeds {
            let _ = writeln!(s, "  {target:<16} {n}");
        }
        let _ = writeln!(s, "\nrules with a pattern but no firing seed, by reason:");
        for (why, n) in &self.misses {
            let _ = writeln!(s, "  {why:<16} {n}");
        }
        let _ = writeln!(
            s,
            "\nunhandled extern extractors/constructors (rules using each):"
        );
        let mut by_count: Vec<(&String, &usize)> = self.unhandled.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (name, n) in by_count {
            let _ = writeln!(s, "  {name:<40} {n}");
        }
        if !self.panics.is_empty() {
            let _ = writeln!(
                s,
                "\nCranelift panicked on {} distinct messages while verifying:",
                self.panics.len()
            );
            for p in &self.panics {
                let _ = writeln!(s, "  {p}");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harvest::{Fired, RuleOutcome, UnitHarvest};

    #[test]
    fn counts_and_json_shape() {
        let mk = |rule: &str, pat: bool, seed: bool, unhandled: &[&str]| RuleOutcome {
            rule: rule.parse().unwrap(),
            term: "lower".into(),
            has_pattern: pat,
            unhandled: unhandled.iter().map(|s| s.to_string()).collect(),
            seed: seed.then_some((0, Fired::Own)),
            wasm_seed: None,
            miss: (!seed).then_some(Miss::NotFired),
            error: None,
        };
        let h = Harvest {
            units: vec![UnitHarvest {
                unit: Unit::X64,
                rules: vec![
                    mk("src/isa/x64/lower.isle:5", true, true, &[]),
                    mk("src/isa/x64/lower.isle:9", true, false, &["pshufd_lhs_imm"]),
                    mk("generated/assembler.isle:3", false, true, &[]),
                ],
            }],
            seeds: Vec::new(),
            panics: Vec::new(),
        };
        let r = Report::new(&h);
        assert_eq!(
            r.file(Unit::X64, "src/isa/x64/lower.isle"),
            FileCounts {
                rules: 2,
                patterns: 2,
                seeds_firing: 1
            }
        );
        assert_eq!(r.sum(Unit::X64, "src/").rules, 2);
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(
            json["units"]["x64"]["files"]["src/isa/x64/lower.isle"]["seeds_firing"],
            1
        );
        assert_eq!(json["unhandled"]["pshufd_lhs_imm"], 1);
        assert!(r.to_text().contains("pshufd_lhs_imm"));
    }
}
