//! A guard in front of `cranelift-reader`. The reader creates every entity
//! up to the highest number a function mentions: a mutation that turns
//! `v12` into `v120000000` makes it allocate over a gigabyte (found by a
//! 100,000-input `clif_lower` run, 700 MB for one input). Text naming an
//! entity above [`MAX_ENTITY_NUMBER`] is refused before it is parsed.

use cranelift_codegen::ir::Function;
use cranelift_reader::{ParseOptions, TestFile};

/// The highest entity number (`v`, `block`, `ss`, `fn`, ...) accepted.
/// Generated functions stay far below it; so do Cranelift's filetests.
pub const MAX_ENTITY_NUMBER: u64 = 1 << 16;

/// The prefixes of numbered entities in `cranelift-reader`'s lexer.
const ENTITY_PREFIXES: [&str; 17] = [
    "v",
    "block",
    "ss",
    "dss",
    "dt",
    "gv",
    "mt",
    "const",
    "fn",
    "sig",
    "u",
    "userextname",
    "extable",
    "tag",
    "region",
    "ret",
    "exn",
];

/// Checks that no entity reference outside comments exceeds
/// [`MAX_ENTITY_NUMBER`].
pub fn check_entity_numbers(text: &str) -> Result<(), String> {
    for (i, line) in text.lines().enumerate() {
        let code = line.split(';').next().unwrap_or("");
        for word in words(code) {
            if let Some((_, n)) = word.entity
                && n > MAX_ENTITY_NUMBER
            {
                return Err(format!(
                    "line {}: `{}`: entity numbers above {MAX_ENTITY_NUMBER} are refused \
                     (the reader would allocate every entity up to it)",
                    i + 1,
                    &code[word.start..word.end]
                ));
            }
        }
    }
    Ok(())
}

/// One word of CLIF text (a run of letters, digits and `_`) and, when it
/// refers to a numbered entity, the entity's prefix and number.
pub struct Word<'a> {
    /// Byte offset of the word in its line.
    pub start: usize,
    /// Byte offset just past the word.
    pub end: usize,
    /// `("v", 12)` for `v12`; `None` for names, types, numbers, ...
    pub entity: Option<(&'a str, u64)>,
}

/// The words of one line of CLIF text. A word right after `%` or `:` is
/// part of a function name (`%v7`, `u0:9`), and one after `.` is a type
/// (`iadd.i32`): neither refers to an entity.
pub fn words(line: &str) -> Vec<Word<'_>> {
    let bytes = line.as_bytes();
    let is_word = |b: u8| b == b'_' || b.is_ascii_alphanumeric();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_word(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_word(bytes[i]) {
            i += 1;
        }
        let named = start > 0 && matches!(bytes[start - 1], b'%' | b':' | b'.');
        out.push(Word {
            start,
            end: i,
            entity: if named { None } else { entity(&line[start..i]) },
        });
    }
    out
}

/// The prefix and number of an entity reference such as `v12` or `block3`,
/// as `cranelift-reader`'s lexer reads it (no leading zeros). A number too
/// long for a `u64` saturates: it is certainly too high.
pub fn entity(word: &str) -> Option<(&str, u64)> {
    let digits = word.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let prefix = &word[..word.len() - digits.len()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if (digits.len() > 1 && digits.starts_with('0')) || !ENTITY_PREFIXES.contains(&prefix) {
        return None;
    }
    Some((prefix, digits.parse().unwrap_or(u64::MAX)))
}

/// `cranelift_reader::parse_test` behind [`check_entity_numbers`].
pub fn parse_test(text: &str) -> Result<TestFile<'_>, String> {
    check_entity_numbers(text)?;
    cranelift_reader::parse_test(text, ParseOptions::default()).map_err(|e| e.to_string())
}

/// `cranelift_reader::parse_functions` behind [`check_entity_numbers`].
pub fn parse_functions(text: &str) -> Result<Vec<Function>, String> {
    check_entity_numbers(text)?;
    cranelift_reader::parse_functions(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_entity_numbers_are_refused_before_parsing() {
        let ok = "function %f(i32) -> i32 {\nblock0(v0: i32):\n    v65536 = iadd v0, v0\n    \
                  return v65536 ; v999999999 in a comment\n}";
        assert_eq!(parse_functions(ok).map(|f| f.len()), Ok(1));
        for bad in ["v65537", "block70000", "ss99999999999999999999999"] {
            let text = ok.replacen("v65536 = iadd", &format!("{bad} = iadd"), 1);
            let err = parse_functions(&text).unwrap_err();
            assert!(err.contains(bad) && err.contains("refused"), "{err}");
        }
        // Names, numbers and other words are not entity references.
        assert_eq!(
            check_entity_numbers("function %v99999999() 0x12345678 fn1a v1_2"),
            Ok(())
        );
    }
}
