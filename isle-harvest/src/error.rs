//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading Cranelift's ISLE sources.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A source file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `--cranelift-src` does not point at a cranelift-codegen crate root.
    #[error(
        "{0} is not a cranelift-codegen crate root or a wasmtime checkout (no src/prelude.isle or cranelift/codegen/src/prelude.isle)"
    )]
    NotACodegenDir(PathBuf),
    /// A unit lists a file the source set does not have.
    #[error("ISLE unit {unit} needs {file}, which is missing")]
    MissingFile {
        /// The unit.
        unit: String,
        /// The missing file's display name.
        file: String,
    },
    /// The ISLE front end (lexer, parser or type checker) rejected a unit.
    #[error("ISLE unit {unit} does not compile:\n{message}")]
    Isle {
        /// The unit.
        unit: String,
        /// The rendered ISLE diagnostics.
        message: String,
    },
    /// A unit name that is not one of x64, aarch64, riscv64, s390x, pulley, opt.
    #[error("unknown ISLE unit `{0}` (expected x64, aarch64, riscv64, s390x, pulley or opt)")]
    UnknownUnit(String),
    /// Rule firings cannot be observed, so seeds cannot be verified.
    #[error(
        "ISLE rule coverage is unavailable: build with the `rule-coverage` feature (cranelift-codegen/trace-log) and do not install another logger"
    )]
    NoCoverage,
    /// A rule identity that is not `file:line`.
    #[error("bad rule identity `{0}` (expected file:line, e.g. src/isa/x64/lower.isle:120)")]
    BadRuleId(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
