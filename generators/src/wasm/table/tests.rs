//! The table is checked against `wasmparser`'s own operator list, so it
//! cannot silently fall behind the instructions the runtime supports.

use std::collections::HashSet;

use super::*;

macro_rules! collect_ops {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        &[ $( (stringify!($proposal), stringify!($op)) ),* ]
    };
}

/// Every operator wasmparser knows, with its proposal.
const ALL_OPS: &[(&str, &str)] = wasmparser::for_each_operator!(collect_ops);

/// Operators deliberately absent from the table: `Else`/`End` are emitted
/// as part of `If`/`Block`/`Loop`; `select` with several result types is
/// rejected by WebAssembly 2.0 validation.
const STRUCTURAL: &[&str] = &["Else", "End", "TypedSelectMulti"];

fn feature_of(proposal: &str) -> Option<Feature> {
    Some(match proposal {
        "mvp" => Feature::Mvp,
        "sign_extension" => Feature::SignExtension,
        "saturating_float_to_int" => Feature::SaturatingFloatToInt,
        "bulk_memory" => Feature::BulkMemory,
        "reference_types" => Feature::ReferenceTypes,
        "simd" => Feature::Simd,
        "tail_call" => Feature::TailCall,
        _ => return None,
    })
}

#[test]
fn table_covers_every_supported_operator() {
    let mut missing = Vec::new();
    for &(proposal, op) in ALL_OPS {
        let Some(feature) = feature_of(proposal) else {
            continue;
        };
        if STRUCTURAL.contains(&op) {
            continue;
        }
        match by_name(op) {
            None => missing.push(op),
            Some(i) => assert_eq!(i.feature, feature, "{op} has the wrong feature"),
        }
    }
    assert!(missing.is_empty(), "missing from the table: {missing:?}");
}

#[test]
fn table_has_only_known_unique_operators() {
    let known: HashSet<&str> = ALL_OPS
        .iter()
        .filter(|(p, _)| feature_of(p).is_some())
        .map(|&(_, op)| op)
        .collect();
    let mut seen = HashSet::new();
    for i in table() {
        assert!(
            known.contains(i.name),
            "{} is not a supported operator",
            i.name
        );
        assert!(seen.insert(i.name), "{} listed twice", i.name);
        assert!(i.weight > 0);
    }
}

#[test]
fn every_type_has_producers() {
    for ty in ALL_TYPES {
        let p = producers(ty);
        assert!(!p.indices.is_empty(), "{ty} has no producer");
        assert_eq!(p.indices.len(), p.cumulative.len());
    }
    assert_eq!(cumulative_weights().len(), table().len());
}
