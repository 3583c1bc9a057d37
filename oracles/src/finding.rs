//! Findings: deduplicated by signature and written atomically into
//! `findings/<signature>/` (test case, `.wat`/CLIF text, `report.md`).

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A discrepancy or engine failure worth a bug report.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Deduplication key (see [`signature`]).
    pub signature: String,
    /// One-line summary.
    pub title: String,
    /// The serialized test case (corpus format).
    pub case: Vec<u8>,
    /// File extension of the test case (`wasm` or `clif`).
    pub extension: &'static str,
    /// Human-readable text of the case (`.wat` or CLIF filetest).
    pub text: Option<String>,
    /// Name of the reference execution.
    pub reference: String,
    /// Names of the disagreeing executions.
    pub odd: Vec<String>,
    /// What differs, in words (expected vs actual).
    pub difference: String,
    /// Every execution's outcome, rendered.
    pub outcomes: Vec<(String, String)>,
    /// ISLE rules (`file:line`) fired while compiling the case.
    pub rules: Vec<String>,
}

/// A stable signature: FNV-1a of the difference kind, the disagreeing
/// executions and the operators involved.
pub fn signature(kind: &str, odd: &[String], operators: &[String]) -> String {
    let mut odd = odd.to_vec();
    odd.sort();
    let mut ops = operators.to_vec();
    ops.sort();
    ops.dedup();
    let text = format!("{kind}|{}|{}", odd.join(","), ops.join(","));
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{kind}-{h:016x}")
}

/// Outcome of writing a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    /// A new finding directory.
    New(PathBuf),
    /// A duplicate: the existing finding's counter now reads this.
    Duplicate(PathBuf, u64),
}

impl Finding {
    /// Renders `report.md`, shaped like a Wasmtime fuzz-bug report.
    pub fn report(&self) -> String {
        let mut r = String::new();
        let _ = writeln!(r, "# {}\n", self.title);
        let _ = writeln!(r, "- signature: `{}`", self.signature);
        let _ = writeln!(r, "- reference: `{}`", self.reference);
        let _ = writeln!(
            r,
            "- disagreeing: {}",
            self.odd
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(r, "- what differs: {}\n", self.difference);
        let _ = writeln!(
            r,
            "## Reproduce\n\n```sh\nshoal repro case.{}\n```\n",
            self.extension
        );
        if let Some(text) = &self.text {
            let lang = if self.extension == "wasm" {
                "wat"
            } else {
                "clif"
            };
            let _ = writeln!(r, "## Test case\n\n```{lang}\n{}\n```\n", text.trim_end());
        }
        let _ = writeln!(r, "## Outcomes\n\n| execution | outcome |\n| --- | --- |");
        for (name, outcome) in &self.outcomes {
            let _ = writeln!(r, "| `{name}` | {} |", outcome.replace('|', "\\|"));
        }
        if !self.rules.is_empty() {
            let _ = writeln!(r, "\n## ISLE rules fired while compiling\n");
            for rule in &self.rules {
                let _ = writeln!(r, "- `{rule}`");
            }
        }
        r
    }

    /// Writes the finding under `root`, atomically: files go to a temporary
    /// directory that is renamed into place, so a crash never leaves a
    /// half-written finding; a duplicate only bumps `count` (written to a
    /// temporary file, then renamed).
    pub fn write(&self, root: &Path) -> io::Result<Written> {
        fs::create_dir_all(root)?;
        let dest = root.join(&self.signature);
        if dest.exists() {
            return bump_count(&dest).map(|n| Written::Duplicate(dest, n));
        }
        let tmp = root.join(format!(
            ".tmp-{}-{}-{}",
            self.signature,
            std::process::id(),
            unique()
        ));
        fs::create_dir_all(&tmp)?;
        fs::write(tmp.join(format!("case.{}", self.extension)), &self.case)?;
        if let Some(text) = &self.text {
            let ext = if self.extension == "wasm" {
                "wat"
            } else {
                "clif.txt"
            };
            fs::write(tmp.join(format!("case.{ext}")), text)?;
        }
        fs::write(tmp.join("report.md"), self.report())?;
        fs::write(tmp.join("count"), "1\n")?;
        match fs::rename(&tmp, &dest) {
            Ok(()) => Ok(Written::New(dest)),
            Err(_) if dest.exists() => {
                // Another worker won the race: ours is a duplicate.
                let _ = fs::remove_dir_all(&tmp);
                bump_count(&dest).map(|n| Written::Duplicate(dest, n))
            }
            Err(e) => Err(e),
        }
    }
}

fn unique() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    nanos ^ u128::from(NEXT.fetch_add(1, Ordering::Relaxed))
}

fn bump_count(dir: &Path) -> io::Result<u64> {
    let path = dir.join("count");
    let n = fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(1)
        + 1;
    let tmp = dir.join(format!(".count-{}-{}", std::process::id(), unique()));
    fs::write(&tmp, format!("{n}\n"))?;
    fs::rename(&tmp, &path)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Finding {
        Finding {
            signature: signature("invocation", &["jit".into()], &["I32Add".into()]),
            title: "i32.add miscompiled".into(),
            case: vec![0, 97, 115, 109, 1, 0, 0, 0],
            extension: "wasm",
            text: Some("(module)".into()),
            reference: "interp".into(),
            odd: vec!["jit".into()],
            difference: "invocation 0: expected i32:3, got i32:-1".into(),
            outcomes: vec![
                ("interp".into(), "i32:3".into()),
                ("jit".into(), "i32:-1".into()),
            ],
            rules: vec!["src/isa/x64/lower.isle:100".into()],
        }
    }

    #[test]
    fn writes_then_deduplicates() {
        let root = std::env::temp_dir().join(format!("shoal-finding-test-{}", unique()));
        let f = sample();
        let Written::New(dir) = f.write(&root).unwrap() else {
            panic!("expected new")
        };
        assert!(dir.join("case.wasm").exists() && dir.join("case.wat").exists());
        assert!(
            fs::read_to_string(dir.join("report.md"))
                .unwrap()
                .contains("expected i32:3")
        );
        assert_eq!(f.write(&root).unwrap(), Written::Duplicate(dir.clone(), 2));
        assert_eq!(f.write(&root).unwrap(), Written::Duplicate(dir, 3));
        let leftovers = fs::read_dir(&root).unwrap().filter(|e| {
            e.as_ref()
                .map(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
                .unwrap_or(false)
        });
        assert_eq!(leftovers.count(), 0);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn signature_ignores_order() {
        let a = signature(
            "memory",
            &["b".into(), "a".into()],
            &["X".into(), "Y".into(), "X".into()],
        );
        let b = signature(
            "memory",
            &["a".into(), "b".into()],
            &["Y".into(), "X".into()],
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            signature(
                "global",
                &["a".into(), "b".into()],
                &["Y".into(), "X".into()]
            )
        );
    }
}
