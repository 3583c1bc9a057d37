//! [`RuleHits`]: per-rule hit counts keyed by interned rule identities.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use super::{RuleId, UNITS};

/// A multiply-rotate hasher for address-sized keys (SipHash is needlessly
/// slow for them).
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A hash map for address-sized keys.
pub(crate) type AddrMap<K, V> = HashMap<K, V, BuildHasherDefault<AddrHasher>>;

static TABLE: Mutex<BTreeSet<&'static RuleId>> = Mutex::new(BTreeSet::new());

fn table() -> std::sync::MutexGuard<'static, BTreeSet<&'static RuleId>> {
    // Only complete inserts happen under the lock.
    TABLE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The process-wide interned copy of `rule`. Interned identities are never
/// freed: a process sees at most the ~11,000 rule sites Cranelift has.
pub fn intern(rule: &RuleId) -> &'static RuleId {
    let mut table = table();
    if let Some(r) = table.get(rule) {
        return r;
    }
    let leaked: &'static RuleId = Box::leak(Box::new(rule.clone()));
    table.insert(leaked);
    leaked
}

/// An interned rule, hashed and compared by address (interning makes the
/// address the identity).
#[derive(Clone, Copy, Debug)]
struct Key(&'static RuleId);

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.0 as *const RuleId as usize);
    }
}

/// Per-rule hit counts, in total and per ISLE compilation unit.
///
/// Files such as `src/prelude_lower.isle` belong to several units; the
/// per-unit counts keep a rule fired while compiling for Pulley apart from
/// the same rule fired for x64. Rule identities are interned ([`intern`]),
/// so counting, merging and cloning never copy or compare file names;
/// iteration sorts by file and line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleHits {
    hits: AddrMap<Key, u64>,
    /// Keyed by unit index into [`UNITS`].
    units: AddrMap<(usize, Key), u64>,
}

impl RuleHits {
    /// No hits.
    pub fn new() -> RuleHits {
        RuleHits::default()
    }

    /// Adds `n` hits of `rule` (unit unknown).
    pub fn record(&mut self, rule: RuleId, n: u64) {
        self.record_interned(None, intern(&rule), n);
    }

    /// Adds `n` hits of `rule` fired while compiling ISLE unit `unit` (one of
    /// [`UNITS`]; other names count only in the total).
    pub fn record_in(&mut self, unit: &str, rule: RuleId, n: u64) {
        let unit = UNITS.iter().position(|u| *u == unit);
        self.record_interned(unit, intern(&rule), n);
    }

    pub(crate) fn record_interned(&mut self, unit: Option<usize>, rule: &'static RuleId, n: u64) {
        *self.hits.entry(Key(rule)).or_insert(0) += n;
        if let Some(unit) = unit {
            *self.units.entry((unit, Key(rule))).or_insert(0) += n;
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &RuleHits) {
        for (rule, n) in &other.hits {
            *self.hits.entry(*rule).or_insert(0) += n;
        }
        for (key, n) in &other.units {
            *self.units.entry(*key).or_insert(0) += n;
        }
    }

    /// Rules fired while compiling unit `unit`, with their counts, ordered
    /// by file then line.
    pub fn in_unit(&self, unit: &str) -> impl Iterator<Item = (&RuleId, u64)> {
        let index = UNITS.iter().position(|u| *u == unit);
        let mut v: Vec<(&RuleId, u64)> = self
            .units
            .iter()
            .filter(|((u, _), _)| Some(*u) == index)
            .map(|((_, r), n)| (r.0, *n))
            .collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v.into_iter()
    }

    /// Rules and their total counts, ordered by file then line.
    pub fn iter(&self) -> impl Iterator<Item = (&RuleId, u64)> {
        let mut v: Vec<(&RuleId, u64)> = self.hits.iter().map(|(r, n)| (r.0, *n)).collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v.into_iter()
    }

    /// Number of distinct rules hit.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether no rule was hit.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// Total hits of `rule` (0 if never).
    pub fn get(&self, rule: &RuleId) -> u64 {
        let Some(interned) = table().get(rule).copied() else {
            return 0;
        };
        self.hits.get(&Key(interned)).copied().unwrap_or(0)
    }

    /// Sum of all hits.
    pub fn total(&self) -> u64 {
        self.hits.values().sum()
    }
}
