//! Structural mutators for libFuzzer custom mutators.
//!
//! [`mutate`] takes a fuzzer input — a serialized test case, or raw bytes
//! that the chosen generator turns into one — applies one structural
//! mutation and writes back a *serialized* test case (so mutated corpus
//! entries are durable). Mutations:
//!
//! * wasm ([`wasm`]): change a constant (towards dictionary values), swap an
//!   instruction for another with the same signature and NaN behaviour,
//!   wrap a value in a new instruction, drop or duplicate a run of
//!   instructions, change invocation arguments (or add/remove invocations);
//! * CLIF ([`clif`]): change a constant, swap an opcode for another table
//!   entry with the same signature, change a condition code, change run
//!   arguments.
//!
//! The output is always valid: every candidate is validated (wasm with
//! shoal's feature set, CLIF with the verifier) and a failed candidate is
//! replaced by another mutation; argument mutations cannot fail.

pub mod clif;
pub mod wasm;

use crate::rng::{Rng, seed_bytes};
use crate::testcase::{GeneratorKind, TestCase};

/// How many structural candidates are tried before falling back to an
/// argument mutation.
const ATTEMPTS: usize = 16;

/// Mutates `case` in place using choices from `r`. Returns a short name of
/// the mutation applied.
pub fn mutate_case(case: &mut TestCase, r: &mut Rng<'_>) -> &'static str {
    match case {
        TestCase::Wasm(w) => wasm::mutate(w, r),
        TestCase::Clif(c) => clif::mutate(c, r),
    }
}

/// The libFuzzer-facing entry: interprets `data` as `kind`'s input (see
/// [`TestCase::from_fuzz_input`]), mutates it, and replaces `data` with the
/// serialized result if it fits in `max_size` (otherwise `data` is left
/// as it was). Returns the new length.
pub fn mutate(kind: GeneratorKind, data: &mut Vec<u8>, max_size: usize, seed: u64) -> usize {
    let mut case = TestCase::from_fuzz_input(kind, data);
    let choices = seed_bytes(seed, 512);
    let mut r = Rng::new(&choices);
    mutate_case(&mut case, &mut r);
    let bytes = case.to_bytes();
    if bytes.len() <= max_size {
        *data = bytes;
    }
    data.len()
}

/// [`mutate`] for `libfuzzer_sys::fuzz_mutator!`'s buffer convention:
/// `buf[..size]` is the input, `buf.len()` the capacity; returns the new size.
pub fn mutate_buffer(
    kind: GeneratorKind,
    buf: &mut [u8],
    size: usize,
    max_size: usize,
    seed: u32,
) -> usize {
    let mut data = buf[..size.min(buf.len())].to_vec();
    let limit = max_size.min(buf.len());
    let n = mutate(kind, &mut data, limit, u64::from(seed));
    buf[..n].copy_from_slice(&data[..n]);
    n
}
