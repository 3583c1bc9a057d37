//! `clif_lower`: glue around `shoal_oracles::fuzzing::clif_lower` and the structural
//! custom mutator (see `oracles/src/fuzzing/mod.rs`).
#![no_main]

use libfuzzer_sys::{Corpus, fuzz_mutator, fuzz_target, fuzzer_mutate};
use shoal_oracles::fuzzing::{self, FuzzTarget};

fuzz_target!(|data: &[u8]| -> Corpus {
    if fuzzing::clif_lower(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    fuzzing::custom_mutate(FuzzTarget::ClifLower, data, size, max_size, seed)
        .unwrap_or_else(|| fuzzer_mutate(data, size, max_size))
});
