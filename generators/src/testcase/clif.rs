//! CLIF test cases: Cranelift filetest text.
//!
//! A serialized [`ClifCase`] is what `clif-util test` reads:
//!
//! ```text
//! test interpret
//! test run
//! target x86_64
//!
//! function %f0(i32) -> i32 fast {
//! block0(v0: i32):
//!     return v0
//! }
//! ; print: %f0(7)
//! ; run: %f0(1) == 1
//! ```
//!
//! Header lines (`test`, `set`, `target`, `feature`) come first; each
//! function is followed by its run lines. A `; print:` line is an invocation
//! whose result is not known yet (what generators write); a `; run:` line
//! also states the expected result (what a reproduction carries).
//! Parsing goes through `cranelift-reader`; comments other than run lines are
//! not kept, and implicit `; run` lines are made explicit.

use std::fmt::Write as _;

use cranelift_codegen::data_value::DataValue;
use cranelift_codegen::ir::Function;
use cranelift_reader::{Comparison, RunCommand};

use super::FormatError;

/// What a run line expects of the call's results.
#[derive(Debug, Clone)]
pub enum Expectation {
    /// `== [values]`.
    Equals(Vec<DataValue>),
    /// `!= [values]`.
    NotEquals(Vec<DataValue>),
}

impl PartialEq for Expectation {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Expectation::Equals(a), Expectation::Equals(b))
            | (Expectation::NotEquals(a), Expectation::NotEquals(b)) => values_bitwise_eq(a, b),
            _ => false,
        }
    }
}

/// One invocation of a CLIF function.
#[derive(Debug, Clone)]
pub struct ClifRun {
    /// Name of the function to call (without `%`).
    pub func: String,
    /// Arguments.
    pub args: Vec<DataValue>,
    /// Expected results: `None` for a `; print:` line.
    pub expect: Option<Expectation>,
}

impl PartialEq for ClifRun {
    fn eq(&self, other: &Self) -> bool {
        self.func == other.func
            && values_bitwise_eq(&self.args, &other.args)
            && self.expect == other.expect
    }
}

fn values_bitwise_eq(a: &[DataValue], b: &[DataValue]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.bitwise_eq(y))
}

impl ClifRun {
    /// The filetest comment line for this run (without a trailing newline).
    pub fn to_line(&self) -> String {
        let invocation = cranelift_reader::Invocation {
            func: self.func.clone(),
            args: self.args.clone(),
        };
        let command = match &self.expect {
            None => RunCommand::Print(invocation),
            Some(Expectation::Equals(v)) => {
                RunCommand::Run(invocation, Comparison::Equals, v.clone())
            }
            Some(Expectation::NotEquals(v)) => {
                RunCommand::Run(invocation, Comparison::NotEquals, v.clone())
            }
        };
        format!("; {command}")
    }
}

/// A function and the runs that follow it in the file.
#[derive(Debug, Clone)]
pub struct ClifFunction {
    /// The function (its name is a testcase name, `%name`).
    pub function: Function,
    /// Runs listed after the function.
    pub runs: Vec<ClifRun>,
}

/// Cranelift IR functions with run lines: one filetest.
#[derive(Debug, Clone)]
pub struct ClifCase {
    /// Header lines in order, e.g. `test interpret`, `set opt_level=speed`,
    /// `target x86_64`.
    pub header: Vec<String>,
    /// Functions in file order (callees may follow callers).
    pub functions: Vec<ClifFunction>,
}

impl PartialEq for ClifCase {
    /// Two cases are equal when they print identically.
    fn eq(&self, other: &Self) -> bool {
        self.to_text() == other.to_text()
    }
}

impl ClifCase {
    /// The filetest text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            out.push_str(line);
            out.push('\n');
        }
        for f in &self.functions {
            out.push('\n');
            let _ = write!(out, "{}", f.function.display());
            for run in &f.runs {
                out.push_str(&run.to_line());
                out.push('\n');
            }
        }
        out
    }

    /// Parses filetest text with `cranelift-reader` (a panic inside the
    /// reader is reported as an error too).
    pub fn from_text(text: &str) -> Result<ClifCase, FormatError> {
        std::panic::catch_unwind(|| Self::parse(text))
            .unwrap_or_else(|_| Err(FormatError::Clif("the CLIF reader panicked".into())))
    }

    /// The ISA names of the header's `target` lines (e.g. `x86_64`,
    /// `pulley64`), in order.
    pub fn targets(&self) -> Vec<&str> {
        self.header
            .iter()
            .filter_map(|l| l.strip_prefix("target "))
            .filter_map(|rest| rest.split_whitespace().next())
            .collect()
    }

    /// The header's `set` lines as `(name, value)` pairs (a bare flag name
    /// has the value `true`).
    pub fn settings(&self) -> Vec<(&str, &str)> {
        self.header
            .iter()
            .filter_map(|l| l.strip_prefix("set "))
            .flat_map(str::split_whitespace)
            .map(|kv| kv.split_once('=').unwrap_or((kv, "true")))
            .collect()
    }

    fn parse(text: &str) -> Result<ClifCase, FormatError> {
        let file = shoal_runtime::clif::reader::parse_test(text).map_err(FormatError::Clif)?;
        let header = header_lines(text);
        let mut functions = Vec::with_capacity(file.functions.len());
        for (function, details) in file.functions {
            let own_name = function.name.to_string();
            let own_name = own_name.trim_start_matches('%').to_string();
            let mut runs = Vec::new();
            for comment in &details.comments {
                let parsed = cranelift_reader::parse_run_command(comment.text, &function.signature)
                    .map_err(|e| {
                        FormatError::Clif(format!("run line `{}`: {e}", comment.text.trim()))
                    })?;
                if let Some(command) = parsed {
                    runs.push(run_from_command(command, &own_name));
                }
            }
            functions.push(ClifFunction { function, runs });
        }
        if functions.is_empty() {
            return Err(FormatError::Clif("no functions".into()));
        }
        Ok(ClifCase { header, functions })
    }
}

/// Lines before the first function that are not blank and not comments.
fn header_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("function"))
        .filter(|l| !l.is_empty() && !l.starts_with(';'))
        .map(str::to_string)
        .collect()
}

fn run_from_command(command: RunCommand, own_name: &str) -> ClifRun {
    let (invocation, expect) = match command {
        RunCommand::Print(inv) => (inv, None),
        RunCommand::Run(inv, Comparison::Equals, v) => (inv, Some(Expectation::Equals(v))),
        RunCommand::Run(inv, Comparison::NotEquals, v) => (inv, Some(Expectation::NotEquals(v))),
    };
    // The reader names implicit invocations (`; run` without a call) "default".
    let func = if invocation.func == "default" {
        own_name.to_string()
    } else {
        invocation.func
    };
    ClifRun {
        func,
        args: invocation.args,
        expect,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "test interpret
test run
set opt_level=speed
target x86_64

function %add(i32, i32) -> i32 fast {
block0(v0: i32, v1: i32):
    v2 = iadd v0, v1
    return v2
}
; print: %add(1, 2)
; run: %add(-1, 1) == 0
; run: %add(5, 5) != 11

function %nan() -> f32, i64 fast {
block0:
    v0 = f32const +NaN:0x1
    v1 = iconst.i64 -9
    return v0, v1  ; v0 = +NaN:0x1, v1 = -9
}
; run: %nan() == [+NaN:0x1, -9]
";

    #[test]
    fn canonical_text_round_trips_exactly() {
        let case = ClifCase::from_text(SAMPLE).unwrap();
        assert_eq!(case.functions.len(), 2);
        assert_eq!(case.functions[0].runs.len(), 3);
        assert!(case.functions[0].runs[0].expect.is_none());
        assert_eq!(case.to_text(), SAMPLE);
        assert_eq!(ClifCase::from_text(&case.to_text()).unwrap(), case);
    }

    #[test]
    fn header_accessors() {
        let case = ClifCase::from_text(SAMPLE).unwrap();
        assert_eq!(case.targets(), ["x86_64"]);
        assert_eq!(case.settings(), [("opt_level", "speed")]);
    }

    #[test]
    fn implicit_run_becomes_explicit() {
        let text =
            "function %t() -> i8 {\nblock0:\n    v0 = iconst.i8 1\n    return v0\n}\n; run\n";
        let case = ClifCase::from_text(text).unwrap();
        let line = case.functions[0].runs[0].to_line();
        assert_eq!(line, "; run: %t() != 0");
        assert_eq!(ClifCase::from_text(&case.to_text()).unwrap(), case);
    }

    #[test]
    fn errors_are_reported() {
        assert!(ClifCase::from_text("").is_err());
        assert!(ClifCase::from_text("test run\n").is_err());
        let bad_run =
            "function %t(i32) -> i32 {\nblock0(v0: i32):\n    return v0\n}\n; run: %t(x) == 1\n";
        assert!(matches!(
            ClifCase::from_text(bad_run),
            Err(FormatError::Clif(_))
        ));
        // A mutated entity number would make the reader allocate every
        // entity up to it; the case is refused instead.
        let huge = SAMPLE.replacen("v1", "v1000000000", 1);
        assert!(matches!(
            ClifCase::from_text(&huge),
            Err(FormatError::Clif(e)) if e.contains("refused")
        ));
        for cut in 0..SAMPLE.len() {
            if SAMPLE.is_char_boundary(cut) {
                let _ = ClifCase::from_text(&SAMPLE[..cut]);
            }
        }
    }
}
