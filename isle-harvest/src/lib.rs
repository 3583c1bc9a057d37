//! shoal-isle-harvest: *reading Cranelift* — locate and parse the ISLE
//! sources of the pinned `cranelift-codegen`, normalize rule left-hand sides
//! into patterns, synthesize verified seeds, and provide the rule table used
//! for rule-coverage accounting.
#![deny(missing_docs)]
