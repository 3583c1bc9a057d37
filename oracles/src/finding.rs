//! Findings: deduplicated by signature and written atomically into
//! `findings/<signature>/` (test case, `.wat`/CLIF text, `report.md`, and
//! the unreduced case as `original.*` when the case was reduced).
//!
//! A finding's [`FindingClass`] is what reduction preserves: the kind of
//! difference, the set of disagreeing executions and the *shape* of the
//! difference (which side trapped and with what, or which kind of compile
//! failure), but not the values, which reduction is free to change.

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

/// What reduction must keep of a finding (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingClass {
    /// The difference kind (the signature's prefix, e.g. `invocation`).
    pub kind: String,
    /// The disagreeing executions, sorted.
    pub odd: Vec<String>,
    /// The difference's shape: trap phrases with the word before them,
    /// the engine-failure message or the compile-failure kind (numbers
    /// dropped from messages).
    pub shape: Vec<String>,
}

/// Outcome of writing a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    /// A new finding directory.
    New(PathBuf),
    /// A duplicate: the existing finding's counter now reads this.
    Duplicate(PathBuf, u64),
}

/// Optional parts of a written finding beyond the [`Finding`] itself.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// The unreduced test case, written as `original.<ext>`.
    pub original: Option<Vec<u8>>,
    /// One line on how the case was reduced (sizes, time), or why not.
    pub reduction: Option<String>,
    /// A Cranelift filetest runnable unchanged with `clif-util test`,
    /// shown instead of the raw case text and written as `case.filetest.clif`.
    pub filetest: Option<String>,
    /// Outcome table (markdown) of every execution × invocation.
    pub table: Option<String>,
    /// Extra `shoal repro` flags needed to reproduce (e.g. a test-only
    /// fault injection).
    pub repro_flags: String,
    /// The configurations involved, one line each (e.g. Cranelift flags).
    pub configs: Vec<String>,
}

impl Finding {
    /// The difference kind: the signature without its hash.
    pub fn kind(&self) -> &str {
        self.signature
            .rsplit_once('-')
            .map_or(self.signature.as_str(), |(k, _)| k)
    }

    /// What reduction preserves (see the module docs).
    pub fn class(&self) -> FindingClass {
        let mut odd = self.odd.clone();
        odd.sort();
        FindingClass {
            kind: self.kind().to_string(),
            odd,
            shape: difference_shape(&self.difference),
        }
    }

    /// Renders `report.md` without extras.
    pub fn report(&self) -> String {
        self.report_with(&Extras::default(), Path::new("."))
    }

    /// Renders `report.md`, ready to paste into a Wasmtime/Cranelift issue:
    /// what differs, the configurations, the (reduced) test case inline,
    /// the outcomes, the ISLE rules fired and a one-line reproduction.
    /// `dir` is where the finding lives (for the reproduction command).
    pub fn report_with(&self, extras: &Extras, dir: &Path) -> String {
        let mut r = String::new();
        let _ = writeln!(r, "# {}\n", self.title);
        let _ = writeln!(r, "{}\n", self.difference);
        let _ = writeln!(r, "- reference execution: `{}`", self.reference);
        let _ = writeln!(r, "- disagreeing: {}", backticked(&self.odd));
        let _ = writeln!(r, "- signature: `{}`", self.signature);
        if let Some(note) = &extras.reduction {
            let _ = writeln!(r, "- reduction: {note}");
        }
        if !extras.configs.is_empty() {
            let _ = writeln!(r, "\n## Configurations\n");
            for c in &extras.configs {
                let _ = writeln!(r, "- `{c}`");
            }
        }
        self.render_case(&mut r, extras);
        let _ = writeln!(r, "\n## Outcomes\n");
        match &extras.table {
            Some(table) => r.push_str(table),
            None => {
                let _ = writeln!(r, "| execution | outcome |\n| --- | --- |");
                for (name, outcome) in &self.outcomes {
                    let _ = writeln!(r, "| `{name}` | {} |", outcome.replace('|', "\\|"));
                }
            }
        }
        let _ = writeln!(
            r,
            "\n## Reproduce\n\n```sh\n{}",
            self.repro_command(extras, dir)
        );
        if extras.filetest.is_some() {
            let _ = writeln!(
                r,
                "clif-util test {}",
                dir.join("case.filetest.clif").display()
            );
        }
        let _ = writeln!(r, "```");
        self.render_rules(&mut r);
        r
    }

    /// The one-line `shoal repro` command for the case in `dir`.
    pub fn repro_command(&self, extras: &Extras, dir: &Path) -> String {
        let case = dir.join(format!("case.{}", self.extension));
        let mut cmd = format!("shoal repro {}", shell_word(&case.display().to_string()));
        if !extras.repro_flags.is_empty() {
            cmd.push(' ');
            cmd.push_str(&extras.repro_flags);
        }
        cmd
    }

    fn render_case(&self, r: &mut String, extras: &Extras) {
        let (heading, lang, text) = match (&extras.filetest, &self.text) {
            (Some(ft), _) => ("Cranelift filetest", "clif", ft),
            (None, Some(t)) if self.extension == "wasm" => ("Test case", "wat", t),
            (None, Some(t)) => ("Test case", "clif", t),
            (None, None) => return,
        };
        let _ = writeln!(r, "\n## {heading}\n\n```{lang}\n{}\n```", text.trim_end());
        if self.extension == "wasm"
            && let Ok(case) = shoal_generators::WasmCase::from_bytes(&self.case)
            && !case.invocations.is_empty()
        {
            let _ = writeln!(r, "\nInvocations, in order, on one instance:\n");
            for inv in &case.invocations {
                let args: Vec<String> = inv.args.iter().map(|a| a.to_string()).collect();
                let _ = writeln!(r, "- `{}({})`", inv.export, args.join(", "));
            }
        }
    }

    fn render_rules(&self, r: &mut String) {
        const SHOWN: usize = 60;
        if self.rules.is_empty() {
            return;
        }
        let _ = writeln!(
            r,
            "\n## ISLE rules fired while compiling ({})\n",
            self.rules.len()
        );
        for rule in self.rules.iter().take(SHOWN) {
            let _ = writeln!(r, "- `{rule}`");
        }
        if self.rules.len() > SHOWN {
            let _ = writeln!(r, "- ... and {} more", self.rules.len() - SHOWN);
        }
    }

    /// Writes the finding under `root` (see [`Finding::write_with`]).
    pub fn write(&self, root: &Path) -> io::Result<Written> {
        self.write_with(root, &Extras::default())
    }

    /// Writes the finding under `root`, atomically: files go to a temporary
    /// directory that is renamed into place, so a crash never leaves a
    /// half-written finding; a duplicate only bumps `count` (written to a
    /// temporary file, then renamed).
    pub fn write_with(&self, root: &Path, extras: &Extras) -> io::Result<Written> {
        fs::create_dir_all(root)?;
        let dest = root.join(&self.signature);
        if dest.exists() {
            return bump_count(&dest, 1).map(|n| Written::Duplicate(dest, n));
        }
        let tmp = root.join(format!(
            ".tmp-{}-{}-{}",
            self.signature,
            std::process::id(),
            unique()
        ));
        fs::create_dir_all(&tmp)?;
        if let Err(e) = self.fill(&tmp, &dest, extras) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        match fs::rename(&tmp, &dest) {
            Ok(()) => Ok(Written::New(dest)),
            Err(_) if dest.exists() => {
                // Another worker won the race: ours is a duplicate.
                let _ = fs::remove_dir_all(&tmp);
                bump_count(&dest, 1).map(|n| Written::Duplicate(dest, n))
            }
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                Err(e)
            }
        }
    }

    fn fill(&self, tmp: &Path, dest: &Path, extras: &Extras) -> io::Result<()> {
        fs::write(tmp.join(format!("case.{}", self.extension)), &self.case)?;
        if let Some(text) = &self.text {
            let ext = if self.extension == "wasm" {
                "wat"
            } else {
                "clif.txt"
            };
            fs::write(tmp.join(format!("case.{ext}")), text)?;
        }
        if let Some(original) = &extras.original {
            fs::write(tmp.join(format!("original.{}", self.extension)), original)?;
        }
        if let Some(filetest) = &extras.filetest {
            fs::write(tmp.join("case.filetest.clif"), filetest)?;
        }
        fs::write(tmp.join("report.md"), self.report_with(extras, dest))?;
        fs::write(tmp.join("count"), "1\n")
    }
}

/// The finding directory that already stands for `signature` under
/// `root`: `root/<signature>` itself, or the reduced finding an earlier
/// reduction of a case with this signature was written to (see
/// [`record_alias`]).
pub fn known(root: &Path, signature: &str) -> Option<PathBuf> {
    let dir = root.join(signature);
    if dir.is_dir() {
        return Some(dir);
    }
    let target = fs::read_to_string(root.join(".aliases").join(signature)).ok()?;
    let dir = root.join(target.trim());
    dir.is_dir().then_some(dir)
}

/// Records that cases with `signature` reduce to the finding named
/// `reduced` (atomically), so later duplicates are counted without
/// reducing them again.
pub fn record_alias(root: &Path, signature: &str, reduced: &str) -> io::Result<()> {
    if signature == reduced {
        return Ok(());
    }
    let dir = root.join(".aliases");
    fs::create_dir_all(&dir)?;
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), unique()));
    fs::write(&tmp, format!("{reduced}\n"))?;
    fs::rename(&tmp, dir.join(signature))
}

/// Adds `n` to a finding directory's duplicate counter; returns the new
/// count.
pub fn bump(dir: &Path, n: u64) -> io::Result<u64> {
    bump_count(dir, n)
}

fn backticked(names: &[String]) -> String {
    names
        .iter()
        .map(|o| format!("`{o}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Quotes a path for a shell command line when it needs it.
fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The shape of a difference description (see [`FindingClass::shape`]).
fn difference_shape(difference: &str) -> Vec<String> {
    if let Some(rest) = difference.strip_prefix("COMPILE FAILURE ") {
        return compile_failure_shape(rest);
    }
    let mut shape = Vec::new();
    if let Some(at) = difference.find("engine failure: ") {
        // Which failure, without the numbers that reduction changes.
        let message = difference[at..].lines().next().unwrap_or("");
        shape.push(
            message
                .chars()
                .filter(|c| !c.is_ascii_digit())
                .take(100)
                .collect(),
        );
    }
    let bytes = difference.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(pos) = difference[from..].find("trap").map(|p| p + from) {
        from = pos + 4;
        let starts_word = pos == 0 || !is_word(bytes[pos - 1]);
        let ends_word = bytes.get(pos + 4).is_none_or(|&b| !is_word(b));
        if !(starts_word && ends_word) {
            continue;
        }
        let before = difference[..pos]
            .split_whitespace()
            .next_back()
            .unwrap_or("")
            .trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let after = &difference[pos..];
        let end = after
            .find([',', ';', '(', ')', '|', '['])
            .unwrap_or(after.len());
        let phrase = after[..end].split(" vs ").next().unwrap_or("").trim();
        shape.push(format!("{before} {phrase}"));
    }
    shape
}

/// `<executor>: <kind> compiling <func> for <isa> (<flags>): <message>` →
/// the kind, plus the first line of the message (digits dropped) for panics.
fn compile_failure_shape(rest: &str) -> Vec<String> {
    let Some(kind_start) = rest.find("): ").map(|p| p + 3) else {
        return vec![rest.to_string()];
    };
    let tail = &rest[kind_start..];
    let kind = tail.split(" compiling ").next().unwrap_or(tail).to_string();
    let mut shape = vec![kind.clone()];
    if kind == "panic"
        && let Some(flags) = tail.find("regalloc_checker=")
        && let Some(msg) = tail[flags..].find("): ").map(|p| flags + p + 3)
    {
        let line = tail[msg..].lines().next().unwrap_or("");
        shape.push(line.chars().filter(|c| !c.is_ascii_digit()).collect());
    }
    shape
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

fn bump_count(dir: &Path, by: u64) -> io::Result<u64> {
    let path = dir.join("count");
    let n = fs::read_to_string(&path)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(1)
        + by;
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

    fn temp_root() -> PathBuf {
        std::env::temp_dir().join(format!("shoal-finding-test-{}", unique()))
    }

    #[test]
    fn writes_then_deduplicates() {
        let root = temp_root();
        let f = sample();
        let Written::New(dir) = f.write(&root).unwrap() else {
            panic!("expected new")
        };
        assert!(dir.join("case.wasm").exists() && dir.join("case.wat").exists());
        let report = fs::read_to_string(dir.join("report.md")).unwrap();
        assert!(report.contains("expected i32:3"), "{report}");
        assert!(report.contains(&format!("shoal repro {}", dir.join("case.wasm").display())));
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
    fn extras_are_written_and_aliases_resolve() {
        let root = temp_root();
        let f = sample();
        let extras = Extras {
            original: Some(b"\0asm\x01\0\0\0".to_vec()),
            reduction: Some("from 100 to 8 bytes".into()),
            filetest: None,
            table: Some("| a | b |\n".into()),
            repro_flags: "--inject-fault i32.add->isub".into(),
            configs: vec!["opt_level=speed".into()],
        };
        let Written::New(dir) = f.write_with(&root, &extras).unwrap() else {
            panic!("expected new")
        };
        assert!(dir.join("original.wasm").exists());
        let report = fs::read_to_string(dir.join("report.md")).unwrap();
        for needle in [
            "from 100 to 8 bytes",
            "| a | b |",
            "--inject-fault",
            "opt_level=speed",
        ] {
            assert!(report.contains(needle), "{needle} missing from {report}");
        }
        assert_eq!(known(&root, "unreduced-0123"), None);
        record_alias(&root, "unreduced-0123", &f.signature).unwrap();
        assert_eq!(known(&root, "unreduced-0123"), Some(dir.clone()));
        assert_eq!(bump(&dir, 5).unwrap(), 6);
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

    #[test]
    fn class_keeps_trap_shape_but_not_values() {
        let mut a = sample();
        let mut b = sample();
        b.difference = "invocation 3 (`g`): expected i32:7, got i32:9".into();
        assert_eq!(a.class(), b.class());
        a.difference =
            "invocation 0 (`f`): expected trap: integer divide by zero, got [i32:1]".into();
        assert_eq!(a.class().shape, ["expected trap: integer divide by zero"]);
        assert_ne!(a.class(), b.class());
        b.difference =
            "invocation 0 (`f`): expected [i32:1], got trap: integer divide by zero".into();
        assert_ne!(a.class(), b.class());
        b.odd = vec!["other".into()];
        b.difference = a.difference.clone();
        assert_ne!(a.class(), b.class());
    }

    #[test]
    fn class_of_clif_differences() {
        let shape = |d: &str| difference_shape(d);
        assert_eq!(
            shape(
                "DISAGREE pulley64 (opt=none) on %f2(): interpreter returned [1, 2], pulley64 (opt=none) returned [2, 0] (result 0 lane 0 (i64): 0x1 vs 0x2)"
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            shape(
                "DISAGREE native (opt=speed isa=native) on %f(1): interpreter trap int_divz, native (opt=speed isa=native) returned [3] (trap int_divz vs return)"
            ),
            ["interpreter trap int_divz", " trap int_divz"]
        );
        let panic = "COMPILE FAILURE native (opt=speed isa=native): panic compiling %f for x86_64 has_sse3 (opt_level=speed regalloc_checker=false): assertion failed: v12 < 4\nmore";
        assert_eq!(shape(panic), ["panic", "assertion failed: v < "]);
        assert_eq!(
            shape("expected [i32:1], got engine failure: panic: index 12 out of range"),
            ["engine failure: panic: index  out of range"]
        );
        let verifier = "COMPILE FAILURE pulley64 (opt=speed): verifier error compiling %g for pulley64 (opt_level=speed regalloc_checker=false): inst3: bad";
        assert_eq!(shape(verifier), ["verifier error"]);
    }
}
