//! The rule table agrees with what the ISLE compiler itself emits: for every
//! unit, the set of `// Rule at <file> line <N>.` comments of the generated
//! Rust equals the table's rule identities (N 0-based there, 1-based here),
//! and the totals are those of the generated code cranelift-codegen 0.135.8
//! builds.

use std::collections::BTreeSet;
use std::sync::Arc;

use cranelift_isle::codegen::CodegenOptions;
use cranelift_isle::files::Files;
use shoal_isle_harvest::parse::ParsedUnit;
use shoal_isle_harvest::{IsleSources, RuleId, RuleTable, Unit};

/// Rule sites per unit in the Rust cranelift-codegen 0.135.8 generates
/// (all files, hand-written `src/...` only). Opt: 1286 in `src/opts/`, 64 in
/// `src/prelude_opt.isle`, 1 in `src/prelude.isle`.
const EXPECTED: [(Unit, usize, usize); 6] = [
    (Unit::X64, 3477, 1847),
    (Unit::Aarch64, 1130, 1130),
    (Unit::Riscv64, 1377, 1377),
    (Unit::S390x, 1832, 1832),
    (Unit::Pulley, 1363, 883),
    (Unit::Opt, 1507, 1351),
];

fn compiled_rule_ids(sources: &IsleSources, unit: Unit) -> BTreeSet<RuleId> {
    let parsed = ParsedUnit::parse(sources, unit).unwrap();
    let files: Arc<Files> = parsed.files.clone();
    let code = cranelift_isle::compile::compile(files, &parsed.defs, &CodegenOptions::default())
        .unwrap_or_else(|e| panic!("{unit}: {e}"));
    code.lines()
        .filter_map(|l| l.trim().strip_prefix("// Rule at "))
        .map(|l| RuleId::from_trace(l.trim_end_matches('.')).unwrap())
        .collect()
}

#[test]
fn table_matches_generated_rust() {
    let sources = IsleSources::embedded();
    let table = RuleTable::from_sources(&sources).unwrap();
    for (unit, total, hand_written) in EXPECTED {
        let rules = table.unit(unit);
        assert_eq!(rules.unit(), unit);
        let ids: BTreeSet<RuleId> = rules.rules().iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids.len(), rules.rules().len(), "{unit}: duplicate ids");
        assert_eq!(ids.len(), total, "{unit}: total");
        assert_eq!(rules.hand_written().count(), hand_written, "{unit}");
        assert_eq!(ids, compiled_rule_ids(&sources, unit), "{unit}");
    }
}

#[test]
fn per_file_counts_of_x64_and_opt() {
    let table = RuleTable::load().unwrap();
    let x64 = table.unit(Unit::X64).per_file();
    assert_eq!(x64["src/isa/x64/lower.isle"], 773);
    assert_eq!(x64["src/isa/x64/inst.isle"], 1010);
    assert_eq!(x64["generated/assembler.isle"], 1630);
    let opt = table.unit(Unit::Opt).per_file();
    let opts: usize = opt
        .iter()
        .filter(|(f, _)| f.starts_with("src/opts/"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(opts, 1286);
    assert_eq!(opt["src/prelude_opt.isle"], 64);
    let lookup: RuleId = "src/isa/x64/lower.isle:1".parse().unwrap();
    assert!(table.unit(Unit::X64).get(&lookup).is_none());
    let first = &table.unit(Unit::X64).rules()[0];
    assert_eq!(table.unit(Unit::X64).get(&first.id), Some(first));
}
