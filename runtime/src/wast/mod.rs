//! The spec conformance harness: runs WebAssembly `.wast` scripts (the
//! official spec testsuite's format) on any [`Engine`].
//!
//! * [`run_script`] / [`run_file`]: one script on one engine, giving a
//!   [`FileReport`] of passed, failed and skipped directives;
//! * [`suite`]: finding `.wast` files and running many of them in parallel;
//! * [`engines`]: the engines `shoal spectest --engine` can name.
//!
//! Every script runs in one fresh store holding the `spectest` host module.
//! Modules needing features outside shoal's set
//! ([`crate::module::SUPPORTED_FEATURES`]) are skipped with the feature's
//! name, together with every directive that depends on them; no file of the
//! current testsuite needs a file-level skip list, since the validator
//! attributes every unsupported construct to a module. Engine panics
//! are caught per directive and reported as that directive's failure.
//! Deeply recursive engines need a large native stack: [`suite`] runs
//! scripts on threads with [`suite::STACK_SIZE`] bytes of stack.

pub mod engines;
mod host;
pub mod report;
mod script;
pub mod suite;
mod value;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::path::Path;

use ::wast::Wast;
use ::wast::lexer::Lexer;
use ::wast::parser::{self, ParseBuffer};

use crate::engine::Engine;
use crate::trap::Limits;

pub use engines::{EngineSpec, MakeEngine, engines_by_name};
pub use report::{Failure, FileReport, FileStatus, Outcome, Totals};
pub use script::trap_matches;

/// Fuel for every top-level call a script makes: far more than any spec
/// test needs, so that an engine stuck in a loop fails instead of hanging.
pub const SCRIPT_FUEL: u64 = 2_000_000_000;

/// The limits scripts run under: [`SCRIPT_FUEL`], otherwise the defaults.
pub fn script_limits() -> Limits {
    Limits {
        fuel: Some(SCRIPT_FUEL),
        ..Limits::default()
    }
}

/// Reads and runs a `.wast` file. An unreadable or unparsable file is a
/// report with one failure at line 0.
pub fn run_file(engine: &dyn Engine, path: &Path, limits: Limits) -> FileReport {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => run_script(engine, path, &text, limits),
            Err(_) => file_failure(engine, path, "file is not valid UTF-8".into()),
        },
        Err(e) => file_failure(engine, path, format!("cannot read file: {e}")),
    }
}

fn file_failure(engine: &dyn Engine, path: &Path, message: String) -> FileReport {
    let mut report = FileReport::new(path, engine.name());
    report.record(0, "file", Outcome::Fail(message));
    report
}

/// Runs the script `text` (named `path` in the report) on a fresh store of
/// `engine`.
pub fn run_script(engine: &dyn Engine, path: &Path, text: &str, limits: Limits) -> FileReport {
    let mut report = FileReport::new(path, engine.name());
    let text = rewrite_uninstantiable(text);
    // The testsuite's `names.wast` deliberately uses bidirectional-override
    // and other confusable characters in names.
    let mut lexer = Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(buf) => buf,
        Err(e) => {
            let msg = script::parse_error(e, path, &text);
            report.record(0, "parse", Outcome::Fail(msg));
            return report;
        }
    };
    let wast = match script::guard(|| parser::parse::<Wast<'_>>(&buf)) {
        Ok(Ok(wast)) => wast,
        Ok(Err(e)) => {
            let msg = script::parse_error(e, path, &text);
            report.record(0, "parse", Outcome::Fail(msg));
            return report;
        }
        Err(p) => {
            report.record(
                0,
                "parse",
                Outcome::Fail(format!("wast parser panicked: {p}")),
            );
            return report;
        }
    };
    let mut runner = match script::ScriptRunner::new(engine, limits) {
        Ok(r) => r,
        Err(msg) => {
            report.record(0, "setup", Outcome::Fail(msg));
            return report;
        }
    };
    let lines = script::LineIndex::new(&text);
    for mut directive in wast.directives {
        let line = lines.line(directive.span().offset());
        let name = script::directive_name(&directive);
        let outcome = script::guard(|| runner.run(&mut directive, line))
            .unwrap_or_else(|p| Outcome::Fail(format!("panic in harness or engine: {p}")));
        report.record(line, name, outcome);
    }
    report
}

/// Older scripts spell the module form of `assert_trap` as
/// `assert_uninstantiable`, which the `wast` crate no longer parses. The
/// keyword (outside strings and comments) is rewritten to `assert_trap`,
/// padded with spaces so that byte offsets and lines are unchanged.
pub fn rewrite_uninstantiable(text: &str) -> Cow<'_, str> {
    const OLD: &str = "(assert_uninstantiable";
    const NEW: &str = "(assert_trap";
    if !text.contains(OLD) {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut block_depth = 0usize;
    while i < bytes.len() {
        let rest = &text[i..];
        let step = if block_depth > 0 {
            if rest.starts_with(";)") {
                block_depth -= 1;
                2
            } else if rest.starts_with("(;") {
                block_depth += 1;
                2
            } else {
                rest.chars().next().map_or(1, char::len_utf8)
            }
        } else if rest.starts_with("(;") {
            block_depth = 1;
            2
        } else if rest.starts_with(";;") {
            rest.find('\n').unwrap_or(rest.len())
        } else if rest.starts_with('"') {
            string_len(rest)
        } else if rest.starts_with(OLD) {
            out.push_str(NEW);
            out.extend(std::iter::repeat_n(' ', OLD.len() - NEW.len()));
            i += OLD.len();
            continue;
        } else {
            rest.chars().next().map_or(1, char::len_utf8)
        };
        out.push_str(&text[i..i + step]);
        i += step;
    }
    Cow::Owned(out)
}

/// Length in bytes of the string literal at the start of `s` (to the
/// closing quote, or the end of `s` if unterminated).
fn string_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    // An escape may have stepped past the end; stay on a char boundary.
    b.len()
}
