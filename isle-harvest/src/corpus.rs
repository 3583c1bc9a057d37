//! The checked-in seed corpus: `corpus/<target>/<hash>.clif` files and
//! `corpus/MANIFEST.tsv`.
//!
//! The manifest has one row per rule with a seed (`fired` is `own` when the
//! seed was made from that rule's pattern, `incidental` when it was made
//! for another rule and fires this one too) and one row per pattern rule
//! without a seed (`seed` is `-`, `fired` is `no:<reason>`). Rows are
//! sorted by unit, then rule. The same harvest always renders the same
//! bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::harvest::{Fired, FuzzTarget, Harvest};

/// The manifest's file name.
pub const MANIFEST: &str = "MANIFEST.tsv";

/// The manifest's header row.
pub const MANIFEST_HEADER: &str = "seed\ttarget\tunit\trule\tfired";

/// Every file of the corpus, by path relative to the corpus directory.
pub fn render(h: &Harvest) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for seed in &h.seeds {
        files.insert(
            Path::new(seed.target.name()).join(&seed.name),
            seed.bytes.clone(),
        );
    }
    files.insert(PathBuf::from(MANIFEST), manifest(h).into_bytes());
    files
}

fn manifest(h: &Harvest) -> String {
    let mut out = String::from(MANIFEST_HEADER);
    out.push('\n');
    for unit in &h.units {
        let target = FuzzTarget::for_unit(unit.unit);
        for r in &unit.rules {
            let row = match (r.seed, r.miss) {
                (Some((idx, how)), _) => {
                    let seed = &h.seeds[idx];
                    let fired = match how {
                        Fired::Own => "own",
                        Fired::Incidental => "incidental",
                    };
                    format!(
                        "{}\t{}\t{}\t{}\t{fired}",
                        seed.name, seed.target, unit.unit, r.rule
                    )
                }
                (None, Some(miss)) if r.has_pattern => {
                    format!("-\t{target}\t{}\t{}\tno:{}", unit.unit, r.rule, miss.name())
                }
                _ => String::new(),
            };
            if !row.is_empty() {
                out.push_str(&row);
                out.push('\n');
            }
            if let Some(idx) = r.wasm_seed {
                let seed = &h.seeds[idx];
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\town\n",
                    seed.name, seed.target, unit.unit, r.rule
                ));
            }
        }
    }
    out
}

/// The target directories the corpus writer owns.
fn owned_dirs() -> [FuzzTarget; 3] {
    [
        FuzzTarget::ClifLower,
        FuzzTarget::ClifOpt,
        FuzzTarget::WasmDiff,
    ]
}

/// Files under the owned target directories (relative paths).
fn existing(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for target in owned_dirs() {
        let sub = target.name();
        let d = dir.join(sub);
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(Error::Io { path: d, source }),
        };
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                path: d.clone(),
                source,
            })?;
            let name = entry.file_name();
            if Path::new(&name)
                .extension()
                .is_some_and(|e| e == target.extension())
            {
                out.push(Path::new(sub).join(name));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes the corpus into `dir`, removing seed files of the owned target
/// directories that are no longer part of it.
pub fn write(dir: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Result<()> {
    for stale in existing(dir)? {
        if !files.contains_key(&stale) {
            let path = dir.join(&stale);
            std::fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
        }
    }
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let same = std::fs::read(&path).is_ok_and(|old| old == *text);
        if !same {
            std::fs::write(&path, text).map_err(|source| Error::Io { path, source })?;
        }
    }
    Ok(())
}

/// How the corpus in `dir` differs from `files`: one line per missing,
/// changed or extra file (empty when current).
pub fn check(dir: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Result<Vec<String>> {
    let mut diffs = Vec::new();
    for (rel, text) in files {
        match std::fs::read(dir.join(rel)) {
            Ok(old) if old == *text => {}
            Ok(_) => diffs.push(format!("changed: {}", rel.display())),
            Err(_) => diffs.push(format!("missing: {}", rel.display())),
        }
    }
    for rel in existing(dir)? {
        if !files.contains_key(&rel) {
            diffs.push(format!("extra: {}", rel.display()));
        }
    }
    Ok(diffs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harvest::{RuleOutcome, Seed, UnitHarvest};
    use crate::rules::RuleId;
    use crate::sources::Unit;

    fn tiny() -> Harvest {
        let rule: RuleId = "src/opts/cprop.isle:10".parse().unwrap();
        let other: RuleId = "src/opts/cprop.isle:20".parse().unwrap();
        Harvest {
            units: vec![UnitHarvest {
                unit: Unit::Opt,
                rules: vec![
                    RuleOutcome {
                        rule: rule.clone(),
                        term: "simplify".into(),
                        has_pattern: true,
                        unhandled: Default::default(),
                        seed: Some((0, Fired::Own)),
                        wasm_seed: None,
                        miss: None,
                        error: None,
                    },
                    RuleOutcome {
                        rule: other,
                        term: "simplify".into(),
                        has_pattern: true,
                        unhandled: Default::default(),
                        seed: None,
                        wasm_seed: None,
                        miss: Some(crate::harvest::Miss::NotFired),
                        error: None,
                    },
                ],
            }],
            seeds: vec![Seed {
                name: "00ff.clif".into(),
                target: FuzzTarget::ClifOpt,
                unit: Unit::Opt,
                bytes: b"test compile\n".to_vec(),
                hits: [rule].into_iter().collect(),
            }],
            panics: Vec::new(),
        }
    }

    #[test]
    fn manifest_rows() {
        let files = render(&tiny());
        assert_eq!(
            String::from_utf8_lossy(&files[Path::new(MANIFEST)]),
            "seed\ttarget\tunit\trule\tfired\n\
             00ff.clif\tclif_opt\topt\tsrc/opts/cprop.isle:10\town\n\
             -\tclif_opt\topt\tsrc/opts/cprop.isle:20\tno:not-fired\n"
        );
        assert!(files.contains_key(Path::new("clif_opt/00ff.clif")));
    }

    #[test]
    fn write_then_check_round_trips() {
        let dir = std::env::temp_dir().join(format!("shoal-corpus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = render(&tiny());
        assert!(!check(&dir, &files).unwrap().is_empty());
        // A stale seed file is removed by `write`.
        std::fs::create_dir_all(dir.join("clif_opt")).unwrap();
        std::fs::write(dir.join("clif_opt/stale.clif"), "x").unwrap();
        write(&dir, &files).unwrap();
        assert_eq!(check(&dir, &files).unwrap(), Vec::<String>::new());
        assert!(!dir.join("clif_opt/stale.clif").exists());
        std::fs::write(dir.join("clif_opt/00ff.clif"), "changed").unwrap();
        assert_eq!(
            check(&dir, &files).unwrap(),
            vec!["changed: clif_opt/00ff.clif".to_string()]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
