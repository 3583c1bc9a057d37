//! The campaign loop behind `shoal fuzz`: worker threads pull test cases from
//! their targets, judge them, and write findings, until a time or case budget
//! runs out or a stop is requested (Ctrl-C). Engine- and generator-agnostic:
//! the caller supplies a factory of [`Target`]s per worker (engines are not
//! `Send`, so each worker builds its own).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shoal_generators::TestCase;

use crate::finding::{Finding, Written};

/// What one test case came to.
#[derive(Debug)]
pub enum CaseResult {
    /// All executions agreed.
    Agree,
    /// Resource limits made the case uninformative.
    Inconclusive(String),
    /// The generator produced an unusable case (a shoal bug; counted and
    /// reported, never silently dropped).
    Invalid(String),
    /// A discrepancy or engine failure.
    Finding(Box<Finding>),
}

/// One source of judged test cases (a generator wired to an oracle).
pub trait Target {
    /// Generator name used in the summary (e.g. `instruction-first`).
    fn name(&self) -> &'static str;
    /// The test case for `seed` (deterministic).
    fn generate(&mut self, seed: u64) -> TestCase;
    /// Runs and judges one test case (a generated one, a corpus file, or a
    /// reduction candidate).
    fn judge(&mut self, case: &TestCase) -> CaseResult;
    /// Generates the case for `seed`, runs and judges it.
    fn run_one(&mut self, seed: u64) -> CaseResult {
        let case = self.generate(seed);
        self.judge(&case)
    }
}

/// Campaign limits and outputs.
#[derive(Clone, Debug)]
pub struct CampaignConfig {
    /// Worker threads.
    pub jobs: usize,
    /// Stop after this long.
    pub time: Option<Duration>,
    /// Stop after this many test cases (in total).
    pub execs: Option<u64>,
    /// Base seed: the same seed and job count reproduce the same cases.
    pub seed: u64,
    /// Where findings go.
    pub findings_dir: PathBuf,
}

/// Live counters, shared by workers and the progress printer.
#[derive(Default)]
pub struct Stats {
    /// Test cases judged.
    pub execs: AtomicU64,
    /// Inconclusive cases.
    pub inconclusive: AtomicU64,
    /// Invalid cases (generator bugs).
    pub invalid: AtomicU64,
    /// Unique findings written.
    pub findings: AtomicU64,
    /// Duplicate findings (counter bumps).
    pub duplicates: AtomicU64,
    /// Milliseconds from start to the first finding (0 = none yet).
    pub first_finding_ms: AtomicU64,
    /// Cases per generator.
    pub per_generator: Mutex<BTreeMap<&'static str, u64>>,
    /// Messages worth showing the user (invalid cases, write errors).
    pub messages: Mutex<Vec<String>>,
}

/// Runs the campaign to completion. `make_targets(worker)` builds a worker's
/// targets; cases are interleaved round-robin over them.
pub fn run<F>(config: &CampaignConfig, stop: &AtomicBool, stats: &Arc<Stats>, make_targets: F)
where
    F: Fn(usize) -> Vec<Box<dyn Target>> + Sync,
{
    let start = Instant::now();
    let next_case = AtomicU64::new(0);
    std::thread::scope(|s| {
        for worker in 0..config.jobs.max(1) {
            let (make_targets, next_case) = (&make_targets, &next_case);
            s.spawn(move || {
                let mut targets = make_targets(worker);
                worker_loop(config, stop, stats, &mut targets, next_case, start);
            });
        }
    });
}

fn budget_left(config: &CampaignConfig, stop: &AtomicBool, start: Instant, case: u64) -> bool {
    !stop.load(Ordering::Relaxed)
        && config.time.is_none_or(|t| start.elapsed() < t)
        && config.execs.is_none_or(|n| case < n)
}

fn worker_loop(
    config: &CampaignConfig,
    stop: &AtomicBool,
    stats: &Stats,
    targets: &mut [Box<dyn Target>],
    next_case: &AtomicU64,
    start: Instant,
) {
    if targets.is_empty() {
        return;
    }
    loop {
        let case = next_case.fetch_add(1, Ordering::Relaxed);
        if !budget_left(config, stop, start, case) {
            return;
        }
        let target = &mut targets[(case % targets.len() as u64) as usize];
        let seed = config
            .seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(case);
        let result = target.run_one(seed);
        record(config, stats, target.name(), result, start, seed);
    }
}

fn record(
    config: &CampaignConfig,
    stats: &Stats,
    generator: &'static str,
    result: CaseResult,
    start: Instant,
    seed: u64,
) {
    stats.execs.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut m) = stats.per_generator.lock() {
        *m.entry(generator).or_default() += 1;
    }
    match result {
        CaseResult::Agree => {}
        CaseResult::Inconclusive(_) => {
            stats.inconclusive.fetch_add(1, Ordering::Relaxed);
        }
        CaseResult::Invalid(why) => {
            stats.invalid.fetch_add(1, Ordering::Relaxed);
            note(
                stats,
                format!("{generator} seed {seed}: invalid test case: {why}"),
            );
        }
        CaseResult::Finding(f) => match f.write(&config.findings_dir) {
            Ok(Written::New(path)) => {
                let ms = start.elapsed().as_millis().max(1) as u64;
                let _ = stats.first_finding_ms.compare_exchange(
                    0,
                    ms,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
                stats.findings.fetch_add(1, Ordering::Relaxed);
                note(
                    stats,
                    format!("new finding: {} ({})", path.display(), f.title),
                );
            }
            Ok(Written::Duplicate(..)) => {
                stats.duplicates.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => note(
                stats,
                format!("could not write finding {}: {e}", f.signature),
            ),
        },
    }
}

fn note(stats: &Stats, message: String) {
    if let Ok(mut m) = stats.messages.lock() {
        // Keep memory bounded on a long run that keeps producing notes.
        if m.len() < 10_000 {
            m.push(message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counting(u64);
    impl Target for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }
        fn generate(&mut self, seed: u64) -> TestCase {
            shoal_generators::GeneratorKind::Clif.generate_from_seed(seed)
        }
        fn judge(&mut self, _case: &TestCase) -> CaseResult {
            unreachable!("run_one is overridden")
        }
        fn run_one(&mut self, seed: u64) -> CaseResult {
            self.0 += 1;
            if seed % 10 == 3 {
                CaseResult::Inconclusive("x".into())
            } else {
                CaseResult::Agree
            }
        }
    }

    #[test]
    fn case_budget_is_exact_across_workers() {
        let config = CampaignConfig {
            jobs: 3,
            time: None,
            execs: Some(1000),
            seed: 0,
            findings_dir: std::env::temp_dir().join("shoal-campaign-unused"),
        };
        let stats = Arc::new(Stats::default());
        run(&config, &AtomicBool::new(false), &stats, |_| {
            vec![Box::new(Counting(0)) as Box<dyn Target>]
        });
        assert_eq!(stats.execs.load(Ordering::Relaxed), 1000);
        assert_eq!(stats.per_generator.lock().unwrap()["counting"], 1000);
        assert_eq!(stats.inconclusive.load(Ordering::Relaxed), 100);
    }

    #[test]
    fn stop_flag_ends_the_run() {
        let config = CampaignConfig {
            jobs: 2,
            time: None,
            execs: None,
            seed: 1,
            findings_dir: std::env::temp_dir().join("shoal-campaign-unused"),
        };
        let stats = Arc::new(Stats::default());
        let stop = AtomicBool::new(true);
        run(&config, &stop, &stats, |_| {
            vec![Box::new(Counting(0)) as Box<dyn Target>]
        });
        assert_eq!(stats.execs.load(Ordering::Relaxed), 0);
    }
}
