//! Setting up rule-coverage guidance for `shoal fuzz`: the catalog of
//! rules (hand-written rule sites of the guided units, from the rule
//! table), the corpus seeds (`MANIFEST.tsv`), and the rules' patterns,
//! extracted from the embedded ISLE sources on a background thread so the
//! campaign starts at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use shoal_generators::pattern::Pattern;
use shoal_isle_harvest::extract::extract_unit;
use shoal_isle_harvest::parse::ParsedUnit;
use shoal_isle_harvest::{IsleSources, RuleTable, Unit};
use shoal_oracles::guidance::{Catalog, CorpusSummary, GUIDED_UNITS, Guide};

/// Where the checked-in corpus is looked for when `--corpus` is not given:
/// `./corpus`, then the source checkout this binary was built from.
fn default_corpus() -> Option<PathBuf> {
    [
        PathBuf::from("corpus"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"),
    ]
    .into_iter()
    .find(|d| d.join("MANIFEST.tsv").is_file())
}

/// The corpus a guide was given: its directory and what it held.
pub type Loaded = (PathBuf, CorpusSummary);

/// The guide, and what its corpus held (`None`: no corpus found).
pub fn build(
    table: &RuleTable,
    corpus: Option<&Path>,
    guided: bool,
) -> anyhow::Result<(Arc<Guide>, Option<Loaded>)> {
    let mut catalog = Catalog::new();
    for (unit, _) in GUIDED_UNITS {
        let unit: Unit = unit.parse()?;
        for rule in table.unit(unit).hand_written() {
            catalog.add_rule(unit.name(), &rule.id.to_string());
        }
    }
    let dir = match corpus {
        Some(d) => Some(d.to_path_buf()),
        None => default_corpus(),
    };
    let loaded = match dir {
        Some(dir) => {
            let summary = catalog
                .load_corpus(&dir)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("loading the corpus {}", dir.display()))?;
            Some((dir, summary))
        }
        None => None,
    };
    let guide = if guided {
        Guide::new(catalog)
    } else {
        Guide::blind(catalog)
    };
    Ok((Arc::new(guide), loaded))
}

/// Extracts the guided units' patterns and hands them to `guide`
/// (a few hundred milliseconds of work; run it off the workers' path).
pub fn extract_patterns(guide: &Guide) -> anyhow::Result<usize> {
    let sources = IsleSources::embedded();
    let mut all: Vec<(&'static str, String, Vec<Pattern>)> = Vec::new();
    for (name, _) in GUIDED_UNITS {
        let unit: Unit = name.parse()?;
        let checked = ParsedUnit::parse(&sources, unit)?.check()?;
        for rp in extract_unit(&checked) {
            let patterns: Vec<Pattern> = rp.pattern.into_iter().chain(rp.grafts).collect();
            if !patterns.is_empty() {
                all.push((unit.name(), rp.rule.to_string(), patterns));
            }
        }
    }
    Ok(guide.set_patterns(all))
}
