//! shoal-isle-harvest: *reading Cranelift* — locate and parse the ISLE
//! sources of the pinned `cranelift-codegen`, normalize rule left-hand sides
//! into patterns, synthesize verified seeds, and provide the rule table used
//! for rule-coverage accounting.
#![deny(missing_docs)]

pub mod corpus;
pub mod coverage;
pub mod error;
pub mod extract;
pub mod harvest;
pub mod isa;
pub mod parse;
pub mod report;
pub mod rules;
pub mod runs;
pub mod sources;
pub mod verify;

pub use error::{Error, Result};
pub use rules::{RuleId, RuleSite, RuleTable, UnitRules};
pub use sources::{IsleSources, Unit};
