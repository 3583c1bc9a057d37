//! Which rule to aim at next: rarity-weighted scheduling over live hit
//! counts.
//!
//! Every rule with something to instantiate (a seed or a pattern) is a
//! candidate. Rules that have not fired yet come first: seven picks in
//! eight go to an unfired rule among those tried least often, until each
//! has had [`UNFIRED_TRIES`] tries (a rule a few seeds, mutations and
//! fresh instantiations cannot fire is left to the weighted picks). The
//! other picks, and all picks once no such rule is left, are weighted by
//! rarity: `1 / (1 + hits + tries)` scaled by the unit's share, so rules
//! that fire rarely keep getting new constants and types while the common
//! ones fade out. Without guidance ([`Schedule::blind`]) every candidate
//! is equally likely and hit counts are ignored.

use shoal_generators::rng::Rng;

/// Tries an unfired rule gets at the front of the queue.
pub const UNFIRED_TRIES: u32 = 6;

/// What the scheduler knows of one rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleStats {
    /// Times it fired, in any test case of the campaign.
    pub hits: u64,
    /// Times a guided case aimed at it.
    pub tries: u32,
    /// Guided cases aimed at it that fired it.
    pub fired: u32,
}

/// Per-rule statistics and the choice of the next rule.
#[derive(Clone, Debug)]
pub struct Schedule {
    stats: Vec<RuleStats>,
    /// Rules with something to instantiate.
    candidates: Vec<usize>,
    /// Relative share of each rule's unit.
    share: Vec<u32>,
    guided: bool,
}

impl Schedule {
    /// A guided schedule over rules `0..share.len()`; `candidate[i]` says
    /// whether rule `i` can be instantiated, `share[i]` is its unit's share.
    pub fn new(candidate: &[bool], share: &[u32]) -> Schedule {
        Schedule {
            stats: vec![RuleStats::default(); share.len()],
            candidates: (0..candidate.len()).filter(|&i| candidate[i]).collect(),
            share: share.to_vec(),
            guided: true,
        }
    }

    /// A schedule that ignores coverage: uniform over the candidates.
    pub fn blind(candidate: &[bool], share: &[u32]) -> Schedule {
        Schedule {
            guided: false,
            ..Schedule::new(candidate, share)
        }
    }

    /// Whether picks follow coverage.
    pub fn is_guided(&self) -> bool {
        self.guided
    }

    /// Marks more rules as candidates (e.g. once patterns arrive).
    pub fn add_candidates(&mut self, candidate: &[bool]) {
        for (i, &c) in candidate.iter().enumerate() {
            if c && !self.candidates.contains(&i) {
                self.candidates.push(i);
            }
        }
        self.candidates.sort_unstable();
    }

    /// The statistics of rule `i`.
    pub fn stats(&self, i: usize) -> RuleStats {
        self.stats[i]
    }

    /// Number of candidate rules.
    pub fn candidates(&self) -> usize {
        self.candidates.len()
    }

    /// Candidates that have not fired yet.
    pub fn unfired(&self) -> usize {
        self.candidates
            .iter()
            .filter(|&&i| self.stats[i].hits == 0)
            .count()
    }

    /// Sets rule `i`'s campaign-wide hit count (never lowers it).
    pub fn set_hits(&mut self, i: usize, hits: u64) {
        let s = &mut self.stats[i];
        s.hits = s.hits.max(hits);
    }

    /// Adds `n` hits to rule `i`.
    pub fn add_hits(&mut self, i: usize, n: u64) {
        self.stats[i].hits += n;
    }

    /// Records that a case aimed at rule `i`, and whether it fired it.
    pub fn record_try(&mut self, i: usize, fired: bool) {
        let s = &mut self.stats[i];
        s.tries += 1;
        if fired {
            s.fired += 1;
        }
    }

    /// The next rule to aim at (`None` without candidates).
    pub fn pick(&self, r: &mut Rng<'_>) -> Option<usize> {
        if self.candidates.is_empty() {
            return None;
        }
        if !self.guided {
            return Some(self.candidates[r.index(self.candidates.len())]);
        }
        if !r.chance(1, 8)
            && let Some(i) = self.pick_unfired(r)
        {
            return Some(i);
        }
        Some(self.pick_rare(r))
    }

    /// An unfired rule with fewer than [`UNFIRED_TRIES`] tries, among the
    /// least tried.
    fn pick_unfired(&self, r: &mut Rng<'_>) -> Option<usize> {
        let open = |i: &&usize| {
            let s = self.stats[**i];
            s.hits == 0 && s.tries < UNFIRED_TRIES
        };
        let least = self
            .candidates
            .iter()
            .filter(open)
            .map(|&i| self.stats[i].tries)
            .min()?;
        let pool: Vec<usize> = self
            .candidates
            .iter()
            .filter(open)
            .copied()
            .filter(|&i| self.stats[i].tries == least)
            .collect();
        Some(pool[r.index(pool.len())])
    }

    /// A candidate weighted by rarity and unit share.
    fn pick_rare(&self, r: &mut Rng<'_>) -> usize {
        let mut cum = Vec::with_capacity(self.candidates.len());
        let mut total = 0u64;
        for &i in &self.candidates {
            let s = self.stats[i];
            let rarity = (1u64 << 20) / (1 + s.hits + u64::from(s.tries));
            total += (rarity * u64::from(self.share[i])).max(1);
            cum.push(total);
        }
        self.candidates[r.weighted_cumulative(&cum)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoal_generators::rng::seed_bytes;

    fn picks(s: &Schedule, n: u64) -> Vec<usize> {
        (0..n)
            .map(|seed| {
                let b = seed_bytes(seed, 64);
                s.pick(&mut Rng::new(&b)).unwrap()
            })
            .collect()
    }

    #[test]
    fn unfired_rules_come_first_least_tried_first() {
        let mut s = Schedule::new(&[true, true, true, false], &[1, 1, 1, 1]);
        s.set_hits(0, 5);
        s.record_try(1, false);
        let p = picks(&s, 400);
        // Rule 3 has nothing to instantiate; rule 2 (unfired, untried) is
        // preferred over rule 1 (unfired, tried once) and rule 0 (fired).
        assert!(!p.contains(&3));
        let count = |r| p.iter().filter(|&&x| x == r).count();
        assert!(count(2) > 300, "{}", count(2));
        assert!(count(0) > 0 && count(1) > 0);
    }

    #[test]
    fn exhausted_unfired_rules_leave_the_queue() {
        let mut s = Schedule::new(&[true, true], &[1, 1]);
        s.set_hits(0, 1);
        for _ in 0..UNFIRED_TRIES {
            s.record_try(1, false);
        }
        // Both are now weighted by rarity: rule 0 (1 hit) and rule 1
        // (6 tries) get comparable shares, neither dominates.
        let p = picks(&s, 400);
        let ones = p.iter().filter(|&&x| x == 1).count();
        assert!((40..=360).contains(&ones), "{ones}");
        assert_eq!(s.unfired(), 1);
    }

    #[test]
    fn rare_rules_are_preferred_and_shares_scale() {
        let mut s = Schedule::new(&[true, true, true], &[1, 1, 4]);
        s.set_hits(0, 1000);
        s.set_hits(1, 1);
        s.set_hits(2, 1);
        s.set_hits(1, 0); // never lowers
        assert_eq!(s.stats(1).hits, 1);
        let p = picks(&s, 1000);
        let count = |r| p.iter().filter(|&&x| x == r).count();
        assert!(count(0) < 20, "{}", count(0));
        assert!(count(2) > 2 * count(1), "{} {}", count(2), count(1));
    }

    #[test]
    fn blind_schedules_ignore_coverage() {
        let mut s = Schedule::blind(&[true, true], &[1, 1]);
        s.set_hits(0, 1_000_000);
        assert!(!s.is_guided());
        let p = picks(&s, 400);
        let zeros = p.iter().filter(|&&x| x == 0).count();
        assert!((140..=260).contains(&zeros), "{zeros}");
    }

    #[test]
    fn candidates_can_be_added_later() {
        let mut s = Schedule::new(&[false, false], &[1, 1]);
        let b = seed_bytes(0, 64);
        assert_eq!(s.pick(&mut Rng::new(&b)), None);
        s.add_candidates(&[false, true]);
        assert_eq!(s.candidates(), 1);
        assert_eq!(s.pick(&mut Rng::new(&b)), Some(1));
    }
}
