//! Seeded bulk, reach and round-trip tests of the generators. Failures
//! dump the offending artifact (see [`common::dump`]) before panicking.

mod clif;
mod clif_support;
mod common;
mod mutate;
mod smith;
mod wasm;
