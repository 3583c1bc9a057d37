//! Text-level clean-up of a reduced function: declarations nothing refers
//! to any more (stack slots, signatures, function references, constants,
//! global values) are dropped, and entities are renumbered densely in order
//! of appearance (`v0, v1, ...`, `block0, ...`, `ss0, ...`), which
//! `cranelift-reader` then preserves. Instructions are never touched.

use std::collections::{HashMap, HashSet};

use shoal_runtime::clif::reader::{self, Word};

/// Entity prefixes whose declarations may be dropped when unused.
const DECLARED: &[&str] = &["ss", "dss", "sig", "fn", "const", "gv"];
/// Every entity prefix that gets renumbered.
const RENUMBERED: &[&str] = &["ss", "dss", "sig", "fn", "const", "gv", "v", "block"];

/// An entity of one of the [`RENUMBERED`] kinds.
fn renumbered(e: (&str, u64)) -> Option<(&'static str, u64)> {
    RENUMBERED.iter().find(|p| **p == e.0).map(|p| (*p, e.1))
}

/// The renumbered entity `word` refers to.
fn entity(word: &str) -> Option<(&'static str, u64)> {
    reader::entity(word).and_then(renumbered)
}

/// The line's words, with entity references outside [`RENUMBERED`]
/// treated as plain words.
fn tokens(line: &str) -> Vec<Word<'_>> {
    let mut words = reader::words(line);
    for w in &mut words {
        w.entity = w.entity.and_then(renumbered);
    }
    words
}

/// The entity a preamble line declares (`ss0 = explicit_slot 8`).
fn declared(line: &str) -> Option<(&'static str, u64)> {
    let (lhs, _) = line.split_once(" = ")?;
    let (prefix, n) = entity(lhs.trim())?;
    let prefix = DECLARED.iter().find(|p| **p == prefix)?;
    Some((prefix, n))
}

/// Normalizes one function's text (from `function` to its closing `}`).
pub fn function_text(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let body_start = lines
        .iter()
        .position(|l| l.trim_start().starts_with("block"))
        .unwrap_or(lines.len());
    let lines = drop_unused_aliases(&lines);
    let used = used_entities(&lines, body_start);
    let kept: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| *i >= body_start || declared(l).is_none_or(|d| used.contains(&d)))
        .map(|(_, l)| *l)
        .collect();
    renumber(&kept)
}

/// The alias a line declares (`v3 -> v2` declares `v3`).
fn alias(line: &str) -> Option<(&str, u64)> {
    let (lhs, rhs) = line.split_once(" -> ")?;
    entity(rhs.trim())?;
    entity(lhs.trim()).filter(|(p, _)| *p == "v")
}

/// Drops alias lines (`v3 -> v2`) for aliases nothing uses.
fn drop_unused_aliases<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let mut used: HashSet<(&str, u64)> = HashSet::new();
    for line in lines.iter().filter(|l| alias(l).is_none()) {
        used.extend(tokens(line).into_iter().filter_map(|t| t.entity));
    }
    lines
        .iter()
        .filter(|l| alias(l).is_none_or(|a| used.contains(&a)))
        .copied()
        .collect()
}

/// Entities referenced by the body, closed over preamble declarations
/// (a function reference uses its signature, and so on).
fn used_entities(lines: &[&str], body_start: usize) -> HashSet<(&'static str, u64)> {
    let mut used: HashSet<(&str, u64)> = HashSet::new();
    for line in &lines[body_start..] {
        used.extend(tokens(line).into_iter().filter_map(|t| t.entity));
    }
    // The signature line never refers to entities; preamble lines do.
    loop {
        let before = used.len();
        for line in &lines[..body_start] {
            if let Some(d) = declared(line)
                && used.contains(&d)
            {
                let rhs = line.split_once(" = ").map_or("", |(_, r)| r);
                used.extend(tokens(rhs).into_iter().filter_map(|t| t.entity));
            }
        }
        if used.len() == before {
            break;
        }
    }
    used.into_iter()
        .filter_map(|(p, n)| RENUMBERED.iter().find(|q| **q == p).map(|q| (*q, n)))
        .collect()
}

/// Renumbers entities densely in order of first appearance.
fn renumber(lines: &[&str]) -> String {
    let mut next: HashMap<&str, u64> = HashMap::new();
    let mut map: HashMap<(&str, u64), u64> = HashMap::new();
    let mut out = String::new();
    for line in lines {
        let mut last = 0;
        for t in tokens(line) {
            let Some((prefix, n)) = t.entity else {
                continue;
            };
            let new = *map.entry((prefix, n)).or_insert_with(|| {
                let c = next.entry(prefix).or_default();
                *c += 1;
                *c - 1
            });
            out.push_str(&line[last..t.start]);
            out.push_str(prefix);
            out.push_str(&new.to_string());
            last = t.end;
        }
        out.push_str(&line[last..]);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_unused_declarations_and_renumbers() {
        let text = "function %f2(i64) -> i64 tail {
    ss0 = explicit_slot 8
    ss3 = explicit_slot 16
    sig1 = (i64) -> i64 tail
    sig4 = () -> i64 tail
    fn2 = colocated %f1 sig4
    const7 = 0x01

block3(v12: i64):
    v20 = call fn2()
    v21 = stack_addr.i64 ss3
    v22 = iadd v12, v20
    jump block9(v22)

block9(v30: i64):
    return v30
}
";
        let got = function_text(text);
        let want = "function %f2(i64) -> i64 tail {
    ss0 = explicit_slot 16
    sig0 = () -> i64 tail
    fn0 = colocated %f1 sig0

block0(v0: i64):
    v1 = call fn0()
    v2 = stack_addr.i64 ss0
    v3 = iadd v0, v1
    jump block1(v3)

block1(v4: i64):
    return v4
}
";
        assert_eq!(got, want);
    }

    #[test]
    fn names_and_types_are_not_entities() {
        let got = renumber(&["    v5 = vconst.i8x16 const3  ; %v7 u0:9 f32const"]);
        assert_eq!(got, "    v0 = vconst.i8x16 const0  ; %v7 u0:9 f32const\n");
    }
}
