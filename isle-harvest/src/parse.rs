//! Running the ISLE front end (lexer, parser, type checker) over one unit.

use std::sync::Arc;

use cranelift_isle::ast::Def;
use cranelift_isle::error::Errors;
use cranelift_isle::files::Files;
use cranelift_isle::lexer::{Lexer, Pos};
use cranelift_isle::sema::{TermEnv, TypeEnv};

use crate::error::{Error, Result};
use crate::sources::{IsleSources, Unit};

/// One unit after parsing: its files and definitions.
pub struct ParsedUnit {
    /// The unit.
    pub unit: Unit,
    /// The unit's files (indexed by `Pos::file`).
    pub files: Arc<Files>,
    /// Every definition of every file.
    pub defs: Vec<Def>,
}

/// One unit after type checking.
pub struct CheckedUnit {
    /// The parsed unit.
    pub parsed: ParsedUnit,
    /// Types.
    pub types: TypeEnv,
    /// Terms and rules (internal extractors expanded).
    pub terms: TermEnv,
}

impl ParsedUnit {
    /// Lexes and parses every file of `unit`.
    pub fn parse(sources: &IsleSources, unit: Unit) -> Result<ParsedUnit> {
        let files = Arc::new(Files::from_names_and_contents(sources.unit_texts(unit)?));
        let mut defs = Vec::new();
        for (index, text) in files.file_texts.iter().enumerate() {
            let parsed = Lexer::new(index, text).and_then(cranelift_isle::parser::parse);
            match parsed {
                Ok(mut d) => defs.append(&mut d),
                Err(e) => return Err(isle_error(unit, vec![e], &files)),
            }
        }
        Ok(ParsedUnit { unit, files, defs })
    }

    /// The display name of the file of `pos`.
    pub fn file_name(&self, pos: Pos) -> &str {
        self.files.file_name(pos.file).unwrap_or("<unknown>")
    }

    /// The 1-based line of `pos` (ISLE itself and its trace log count from 0).
    pub fn line(&self, pos: Pos) -> u32 {
        let zero_based = self
            .files
            .file_line_map(pos.file)
            .map(|m| m.line(pos.offset))
            .unwrap_or(0);
        u32::try_from(zero_based + 1).unwrap_or(u32::MAX)
    }

    /// Type-checks the unit, expanding internal extractors.
    pub fn check(self) -> Result<CheckedUnit> {
        let mut types =
            TypeEnv::from_ast(&self.defs).map_err(|e| isle_error(self.unit, e, &self.files))?;
        let terms = TermEnv::from_ast(&mut types, &self.defs, true)
            .map_err(|e| isle_error(self.unit, e, &self.files))?;
        Ok(CheckedUnit {
            parsed: self,
            types,
            terms,
        })
    }
}

fn isle_error(unit: Unit, errors: Vec<cranelift_isle::error::Error>, files: &Arc<Files>) -> Error {
    Error::Isle {
        unit: unit.name().to_string(),
        message: Errors::new(errors, files.clone()).to_string(),
    }
}
