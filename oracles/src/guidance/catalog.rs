//! The catalog: every rule guidance may aim at, and the corpus seeds known
//! to fire each one.
//!
//! Rules are `(unit, file:line)` pairs of the units whose code the
//! campaign's executions compile ([`GUIDED_UNITS`]). Seeds come from a
//! corpus directory laid out by `shoal harvest`: `MANIFEST.tsv` (columns
//! `seed`, `target`, `unit`, `rule`, `fired`) names, for every rule, the
//! file `<target>/<seed>` that fired it during the harvest (`own`: a seed
//! made from the rule's own pattern; `incidental`: one made for another
//! rule). A seed file is read once, however many rules it fires.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The ISLE units the campaign's executions compile (x86-64 lowering, the
/// mid-end and Pulley lowering), with the share of guided cases each one
/// gets relative to the others.
pub const GUIDED_UNITS: [(&str, u32); 3] = [("x64", 3), ("opt", 3), ("pulley", 1)];

/// One rule guidance may aim at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Index of its unit in [`GUIDED_UNITS`].
    pub unit: usize,
    /// `file:line`, as rule coverage names it.
    pub id: String,
    /// Seeds (indices into [`Catalog::seeds`]) that fired it when harvested,
    /// own seeds first.
    pub seeds: Vec<usize>,
}

impl Rule {
    /// The unit's name.
    pub fn unit_name(&self) -> &'static str {
        GUIDED_UNITS[self.unit].0
    }
}

/// One corpus seed file.
#[derive(Clone, Debug)]
pub struct Seed {
    /// `<target>/<file name>` inside the corpus.
    pub name: String,
    /// The serialized test case.
    pub bytes: Arc<[u8]>,
}

/// What loading a corpus found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorpusSummary {
    /// Seed files read.
    pub seeds: usize,
    /// Rules of the catalog that got at least one seed.
    pub rules_with_seeds: usize,
    /// Manifest rows naming a file that could not be read.
    pub missing: usize,
}

/// Rules and seeds.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    rules: Vec<Rule>,
    index: HashMap<(usize, String), usize>,
    seeds: Vec<Seed>,
    seed_index: HashMap<String, usize>,
}

/// Index of a unit in [`GUIDED_UNITS`].
pub fn unit_index(unit: &str) -> Option<usize> {
    GUIDED_UNITS.iter().position(|(u, _)| *u == unit)
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// Adds rule `id` (`file:line`) of `unit`; returns its index, or `None`
    /// if the unit is not guided. Adding a rule twice returns the first
    /// index.
    pub fn add_rule(&mut self, unit: &str, id: &str) -> Option<usize> {
        let u = unit_index(unit)?;
        if let Some(&i) = self.index.get(&(u, id.to_string())) {
            return Some(i);
        }
        self.rules.push(Rule {
            unit: u,
            id: id.to_string(),
            seeds: Vec::new(),
        });
        self.index.insert((u, id.to_string()), self.rules.len() - 1);
        Some(self.rules.len() - 1)
    }

    /// The index of rule `id` of `unit`.
    pub fn rule_index(&self, unit: &str, id: &str) -> Option<usize> {
        let u = unit_index(unit)?;
        self.index.get(&(u, id.to_string())).copied()
    }

    /// Every rule, in the order added.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Every seed read.
    pub fn seeds(&self) -> &[Seed] {
        &self.seeds
    }

    /// Attaches a seed to rule `rule` (own seeds go first).
    pub fn add_seed(&mut self, rule: usize, name: &str, bytes: Arc<[u8]>, own: bool) {
        let s = match self.seed_index.get(name) {
            Some(&s) => s,
            None => {
                self.seeds.push(Seed {
                    name: name.to_string(),
                    bytes,
                });
                self.seed_index
                    .insert(name.to_string(), self.seeds.len() - 1);
                self.seeds.len() - 1
            }
        };
        let seeds = &mut self.rules[rule].seeds;
        if seeds.contains(&s) {
            return;
        }
        if own {
            seeds.insert(0, s);
        } else {
            seeds.push(s);
        }
    }

    /// Reads `dir/MANIFEST.tsv` and the seed files it names for the
    /// catalog's rules. Rows for other rules or units, and rows whose
    /// `fired` column is not `own` or `incidental`, are skipped.
    pub fn load_corpus(&mut self, dir: &Path) -> Result<CorpusSummary, String> {
        let manifest = dir.join("MANIFEST.tsv");
        let text = std::fs::read_to_string(&manifest)
            .map_err(|e| format!("reading {}: {e}", manifest.display()))?;
        let mut summary = CorpusSummary::default();
        let mut unreadable: HashMap<String, ()> = HashMap::new();
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let [seed, target, unit, rule, fired] = cols[..] else {
                continue;
            };
            let own = match fired {
                "own" => true,
                "incidental" => false,
                _ => continue,
            };
            let Some(r) = self.rule_index(unit, rule) else {
                continue;
            };
            let name = format!("{target}/{seed}");
            if unreadable.contains_key(&name) {
                continue;
            }
            let bytes: Arc<[u8]> = match self.seed_index.get(&name) {
                Some(&s) => self.seeds[s].bytes.clone(),
                None => match std::fs::read(dir.join(target).join(seed)) {
                    Ok(b) => b.into(),
                    Err(_) => {
                        summary.missing += 1;
                        unreadable.insert(name, ());
                        continue;
                    }
                },
            };
            self.add_seed(r, &name, bytes, own);
        }
        summary.seeds = self.seeds.len();
        summary.rules_with_seeds = self.rules.iter().filter(|r| !r.seeds.is_empty()).count();
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_of_unguided_units_are_refused_and_duplicates_merged() {
        let mut c = Catalog::new();
        assert_eq!(c.add_rule("x64", "src/isa/x64/lower.isle:10"), Some(0));
        assert_eq!(c.add_rule("opt", "src/opts/icmp.isle:3"), Some(1));
        assert_eq!(c.add_rule("x64", "src/isa/x64/lower.isle:10"), Some(0));
        assert_eq!(c.add_rule("s390x", "src/isa/s390x/lower.isle:1"), None);
        assert_eq!(c.rules().len(), 2);
        assert_eq!(c.rules()[1].unit_name(), "opt");
        assert_eq!(c.rule_index("opt", "src/opts/icmp.isle:3"), Some(1));
        assert_eq!(c.rule_index("x64", "src/opts/icmp.isle:3"), None);
    }

    #[test]
    fn a_corpus_manifest_attaches_seeds_own_first() {
        let dir = std::env::temp_dir().join(format!("shoal-catalog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("clif_lower")).unwrap();
        std::fs::write(dir.join("clif_lower/a.clif"), "A").unwrap();
        std::fs::write(dir.join("clif_lower/b.clif"), "B").unwrap();
        let manifest = "seed\ttarget\tunit\trule\tfired\n\
            a.clif\tclif_lower\tx64\tsrc/x.isle:1\tincidental\n\
            b.clif\tclif_lower\tx64\tsrc/x.isle:1\town\n\
            a.clif\tclif_lower\tx64\tsrc/x.isle:2\town\n\
            gone.clif\tclif_lower\tx64\tsrc/x.isle:2\tincidental\n\
            b.clif\tclif_lower\tx64\tsrc/x.isle:3\tno:not-fired\n\
            b.clif\tclif_lower\taarch64\tsrc/x.isle:1\town\n";
        std::fs::write(dir.join("MANIFEST.tsv"), manifest).unwrap();
        let mut c = Catalog::new();
        for line in 1..=3 {
            c.add_rule("x64", &format!("src/x.isle:{line}"));
        }
        let summary = c.load_corpus(&dir).unwrap();
        assert_eq!(
            summary,
            CorpusSummary {
                seeds: 2,
                rules_with_seeds: 2,
                missing: 1
            }
        );
        let names = |r: usize| -> Vec<&str> {
            c.rules()[r]
                .seeds
                .iter()
                .map(|&s| c.seeds()[s].name.as_str())
                .collect()
        };
        assert_eq!(names(0), ["clif_lower/b.clif", "clif_lower/a.clif"]);
        assert_eq!(names(1), ["clif_lower/a.clif"]);
        assert!(names(2).is_empty());
        assert_eq!(&*c.seeds()[0].bytes, b"A");
        assert!(c.load_corpus(&dir.join("nope")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
