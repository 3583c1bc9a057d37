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
            if let Some(n) = entity_number(word)
                && n > MAX_ENTITY_NUMBER
            {
                return Err(format!(
                    "line {}: `{word}`: entity numbers above {MAX_ENTITY_NUMBER} are refused \
                     (the reader would allocate every entity up to it)",
                    i + 1
                ));
            }
        }
    }
    Ok(())
}

/// The lexer's words (a letter or `_`, then letters, digits and `_`), not
/// counting the tails of `%names`, numbers and other words.
fn words(code: &str) -> impl Iterator<Item = &str> {
    let bytes = code.as_bytes();
    let is_word = |b: u8| b == b'_' || b.is_ascii_alphanumeric();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let start = i;
            if !is_word(bytes[i]) {
                i += 1;
                continue;
            }
            while i < bytes.len() && is_word(bytes[i]) {
                i += 1;
            }
            let after_sigil = start > 0 && matches!(bytes[start - 1], b'%' | b'@' | b'#' | b'.');
            if !after_sigil && !bytes[start].is_ascii_digit() {
                return Some(&code[start..i]);
            }
        }
        None
    })
}

/// The number of an entity reference such as `v12` or `block3`.
fn entity_number(word: &str) -> Option<u64> {
    let digits = word.len() - word.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (prefix, number) = word.split_at(digits);
    if number.is_empty() || !ENTITY_PREFIXES.contains(&prefix) {
        return None;
    }
    // Too long for a u64 is certainly too high.
    Some(number.parse().unwrap_or(u64::MAX))
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
