//! A total, deterministic source of choices on top of [`arbitrary::Unstructured`].
//!
//! Generators must turn *any* byte string into a test case, so every choice
//! here is infallible: once the input is exhausted, each method returns its
//! "smallest" answer (the first choice, `false`, zero). [`Rng::exhausted`]
//! lets generators stop adding optional content at that point. Seeds become
//! byte strings through [`seed_bytes`], so a `u64` seed and the equivalent
//! byte string always produce the same test case.

use arbitrary::Unstructured;

/// Infallible choices drawn from fuzz input.
pub struct Rng<'a> {
    u: Unstructured<'a>,
}

impl<'a> Rng<'a> {
    /// Choices drawn from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Rng {
            u: Unstructured::new(data),
        }
    }

    /// Takes over everything left in `u` (which is left empty).
    pub fn take(u: &mut Unstructured<'a>) -> Self {
        let n = u.len();
        let data = u.bytes(n).unwrap_or(&[]);
        Rng::new(data)
    }

    /// True once no input bytes remain.
    pub fn exhausted(&self) -> bool {
        self.u.is_empty()
    }

    /// Bytes left in the input.
    pub fn remaining(&self) -> usize {
        self.u.len()
    }

    /// An integer in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        self.u.int_in_range(0..=n - 1).unwrap_or(0)
    }

    /// An index into a collection of `len` elements (`0` when empty).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// An integer in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        self.u.int_in_range(lo..=hi).unwrap_or(lo)
    }

    /// `u32` in `lo..=hi`.
    pub fn range_u32(&mut self, lo: u32, hi: u32) -> u32 {
        self.range(u64::from(lo), u64::from(hi)) as u32
    }

    /// True with probability `num/den`; `false` once exhausted.
    pub fn chance(&mut self, num: u32, den: u32) -> bool {
        if self.exhausted() || den == 0 {
            return false;
        }
        (self.below(u64::from(den)) as u32) < num
    }

    /// A uniformly chosen element (`None` for an empty slice).
    pub fn pick<'s, T>(&mut self, items: &'s [T]) -> Option<&'s T> {
        if items.is_empty() {
            return None;
        }
        let i = self.index(items.len());
        items.get(i)
    }

    /// A copy of a uniformly chosen element of a non-empty slice, or `default`.
    pub fn pick_or<T: Copy>(&mut self, items: &[T], default: T) -> T {
        self.pick(items).copied().unwrap_or(default)
    }

    /// An index chosen with the given weights (`0` if all weights are zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        self.weighted_by_total(total, weights.iter().map(|&w| u64::from(w)))
    }

    /// An index chosen from cumulative weights (`cum[i]` = sum of weights `0..=i`).
    pub fn weighted_cumulative(&mut self, cum: &[u64]) -> usize {
        let Some(&total) = cum.last() else { return 0 };
        if total == 0 {
            return 0;
        }
        let x = self.below(total);
        cum.partition_point(|&c| c <= x).min(cum.len() - 1)
    }

    fn weighted_by_total(&mut self, total: u64, weights: impl Iterator<Item = u64>) -> usize {
        if total == 0 {
            return 0;
        }
        let mut x = self.below(total);
        for (i, w) in weights.enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        0
    }

    /// Raw 32 bits.
    pub fn u32(&mut self) -> u32 {
        self.u.arbitrary::<u32>().unwrap_or(0)
    }

    /// Raw 64 bits.
    pub fn u64(&mut self) -> u64 {
        self.u.arbitrary::<u64>().unwrap_or(0)
    }

    /// Raw 128 bits.
    pub fn u128(&mut self) -> u128 {
        self.u.arbitrary::<u128>().unwrap_or(0)
    }

    /// The wrapped `Unstructured` (for `Arbitrary` impls of other crates).
    pub fn unstructured(&mut self) -> &mut Unstructured<'a> {
        &mut self.u
    }
}

/// Expands a `u64` seed into `len` pseudo-random bytes (SplitMix64), the
/// input a seeded generator run feeds to its `Unstructured`.
pub fn seed_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhausted_input_gives_smallest_answers() {
        let mut r = Rng::new(&[]);
        assert_eq!(r.below(10), 0);
        assert!(!r.chance(9, 10));
        assert_eq!(r.range(3, 7), 3);
        assert_eq!(r.weighted(&[0, 5, 5]), 1);
        assert_eq!(r.pick::<u8>(&[]), None);
    }

    #[test]
    fn weighted_respects_zero_weights() {
        let data = seed_bytes(7, 4096);
        let mut r = Rng::new(&data);
        for _ in 0..500 {
            assert_ne!(r.weighted(&[3, 0, 2]), 1);
            let i = r.weighted_cumulative(&[3, 3, 5]);
            assert_ne!(i, 1);
        }
    }

    #[test]
    fn seed_bytes_are_deterministic() {
        assert_eq!(seed_bytes(1, 100), seed_bytes(1, 100));
        assert_ne!(seed_bytes(1, 100), seed_bytes(2, 100));
        assert_eq!(seed_bytes(5, 13).len(), 13);
    }
}
