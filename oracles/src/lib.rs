//! shoal-oracles: *judging* — run a test case on several engines and
//! configurations, compare outcomes, classify, deduplicate and describe
//! findings.
#![deny(missing_docs)]
