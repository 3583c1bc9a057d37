//! Results of running `.wast` scripts: per-directive outcomes aggregated into
//! per-file reports, and their one-line summaries.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The outcome of one directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The directive behaved as the script expects.
    Pass,
    /// It did not; the text says what was expected and what happened.
    Fail(String),
    /// It could not be run because it needs a feature shoal does not support
    /// (the text names the feature).
    Skip(String),
}

/// One failed directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// 1-based line of the directive in its file (0 for file-level failures).
    pub line: usize,
    /// Directive kind, e.g. `assert_return`.
    pub directive: &'static str,
    /// Expected versus actual behaviour.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: {}: {}",
            self.line, self.directive, self.message
        )
    }
}

/// The overall verdict on one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileStatus {
    /// Every directive passed.
    Pass,
    /// No failures, but some directives were skipped.
    Partial,
    /// Nothing passed or failed: everything needs unsupported features.
    Skip,
    /// At least one directive failed, or the file could not be read or parsed.
    Fail,
}

impl fmt::Display for FileStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileStatus::Pass => "PASS",
            FileStatus::Partial => "PART",
            FileStatus::Skip => "SKIP",
            FileStatus::Fail => "FAIL",
        })
    }
}

/// Results of one `.wast` file on one engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    /// The file (or a name for in-memory scripts).
    pub path: PathBuf,
    /// Name of the engine that ran it.
    pub engine: String,
    /// Directives that passed.
    pub passed: usize,
    /// Every failed directive, in file order. A file that cannot be read or
    /// parsed has exactly one failure at line 0.
    pub failures: Vec<Failure>,
    /// Skipped directives per reason (the unsupported feature).
    pub skipped: BTreeMap<String, usize>,
}

impl FileReport {
    /// An empty report for `path` on `engine`.
    pub fn new(path: impl Into<PathBuf>, engine: impl Into<String>) -> FileReport {
        FileReport {
            path: path.into(),
            engine: engine.into(),
            ..FileReport::default()
        }
    }

    /// Records one directive's outcome.
    pub fn record(&mut self, line: usize, directive: &'static str, outcome: Outcome) {
        match outcome {
            Outcome::Pass => self.passed += 1,
            Outcome::Fail(message) => self.failures.push(Failure {
                line,
                directive,
                message,
            }),
            Outcome::Skip(reason) => *self.skipped.entry(reason).or_insert(0) += 1,
        }
    }

    /// Number of failed directives (a file-level failure counts as one).
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    /// Number of skipped directives.
    pub fn skipped_count(&self) -> usize {
        self.skipped.values().sum()
    }

    /// The file's verdict.
    pub fn status(&self) -> FileStatus {
        if self.failed() > 0 {
            FileStatus::Fail
        } else if self.skipped.is_empty() {
            FileStatus::Pass
        } else if self.passed == 0 {
            FileStatus::Skip
        } else {
            FileStatus::Partial
        }
    }

    /// The distinct skip reasons, comma-separated (empty if none).
    pub fn skip_reasons(&self) -> String {
        self.skipped
            .iter()
            .map(|(reason, n)| format!("{reason} ({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One summary line: status, file, counts and skip reasons.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} {}: {} passed, {} failed, {} skipped",
            self.status(),
            self.path.display(),
            self.passed,
            self.failed(),
            self.skipped_count()
        );
        if !self.skipped.is_empty() {
            line.push_str(" [skipped: ");
            line.push_str(&self.skip_reasons());
            line.push(']');
        }
        line
    }
}

/// Directive totals over many files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Files run.
    pub files: usize,
    /// Passed directives.
    pub passed: usize,
    /// Failed directives.
    pub failed: usize,
    /// Skipped directives.
    pub skipped: usize,
    /// Files whose every directive was skipped.
    pub skipped_files: usize,
}

impl Totals {
    /// Adds one file's counts.
    pub fn add(&mut self, report: &FileReport) {
        self.files += 1;
        self.passed += report.passed;
        self.failed += report.failed();
        self.skipped += report.skipped_count();
        if report.status() == FileStatus::Skip {
            self.skipped_files += 1;
        }
    }
}

impl fmt::Display for Totals {
    /// The exact final line of `shoal spectest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "spectest: {} passed, {} failed",
            self.passed, self.failed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_counts() {
        let mut r = FileReport::new("a.wast", "e");
        assert_eq!(r.status(), FileStatus::Pass);
        r.record(1, "module", Outcome::Skip("gc".into()));
        r.record(2, "invoke", Outcome::Skip("gc".into()));
        assert_eq!(r.status(), FileStatus::Skip);
        assert_eq!(r.skip_reasons(), "gc (2)");
        r.record(3, "assert_malformed", Outcome::Pass);
        assert_eq!(r.status(), FileStatus::Partial);
        r.record(4, "assert_return", Outcome::Fail("x".into()));
        assert_eq!(r.status(), FileStatus::Fail);
        assert_eq!(
            r.summary(),
            "FAIL a.wast: 1 passed, 1 failed, 2 skipped [skipped: gc (2)]"
        );
        let mut t = Totals::default();
        t.add(&r);
        assert_eq!(t.to_string(), "spectest: 1 passed, 1 failed");
        assert_eq!(t.skipped, 2);
    }
}
