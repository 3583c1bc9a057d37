//! The campaign loop behind `shoal fuzz`: worker threads pull test cases from
//! their targets, judge them, and write findings, until a time or case budget
//! runs out or a stop is requested (Ctrl-C). Engine- and generator-agnostic:
//! the caller supplies a factory of [`Target`]s per worker (engines are not
//! `Send`, so each worker builds its own).
//!
//! The finding path: a finding whose signature is already on disk (or
//! reduces to one that is, see [`finding::known`]) only bumps a counter; a
//! new one is reduced first (bounded by [`CampaignConfig::reduce`], judged
//! by the target that found it), then written atomically with the unreduced
//! case kept as `original.*`. If reduction fails or panics, the unreduced
//! finding is written: a finding is never lost.

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shoal_generators::TestCase;

use crate::finding::{self, Extras, Finding, Written};
use crate::reduce::{self, Budget};

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
    /// Reduce new findings within this budget before writing them (`None`:
    /// write them as found).
    pub reduce: Option<Budget>,
    /// Extra `shoal repro` flags the findings' reports must mention (e.g.
    /// a test-only fault injection).
    pub repro_flags: String,
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
    let shared = Shared {
        config,
        stop,
        stats,
        start: Instant::now(),
        in_flight: Mutex::new(HashMap::new()),
    };
    let next_case = AtomicU64::new(0);
    std::thread::scope(|s| {
        for worker in 0..config.jobs.max(1) {
            let (make_targets, next_case, shared) = (&make_targets, &next_case, &shared);
            s.spawn(move || {
                let mut targets = make_targets(worker);
                worker_loop(shared, &mut targets, next_case);
            });
        }
    });
}

/// What every worker shares.
struct Shared<'a> {
    config: &'a CampaignConfig,
    stop: &'a AtomicBool,
    stats: &'a Stats,
    start: Instant,
    /// Signatures of new findings being reduced right now, with the number
    /// of duplicates seen meanwhile (added to the count once written).
    in_flight: Mutex<HashMap<String, u64>>,
}

/// Makes sure findings can be written under `dir` (creating it), so that a
/// campaign fails at once rather than when its first finding comes.
pub fn check_findings_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

fn budget_left(config: &CampaignConfig, stop: &AtomicBool, start: Instant, case: u64) -> bool {
    !stop.load(Ordering::Relaxed)
        && config.time.is_none_or(|t| start.elapsed() < t)
        && config.execs.is_none_or(|n| case < n)
}

fn worker_loop(shared: &Shared<'_>, targets: &mut [Box<dyn Target>], next_case: &AtomicU64) {
    if targets.is_empty() {
        return;
    }
    let config = shared.config;
    loop {
        let case = next_case.fetch_add(1, Ordering::Relaxed);
        if !budget_left(config, shared.stop, shared.start, case) {
            return;
        }
        let target = &mut targets[(case % targets.len() as u64) as usize];
        let seed = config
            .seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(case);
        let result = target.run_one(seed);
        record(shared, target.as_mut(), result, seed);
    }
}

fn record(shared: &Shared<'_>, target: &mut dyn Target, result: CaseResult, seed: u64) {
    let (stats, generator) = (shared.stats, target.name());
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
        CaseResult::Finding(f) => record_finding(shared, target, *f),
    }
}

/// Counts a duplicate, or reduces and writes a new finding.
fn record_finding(shared: &Shared<'_>, target: &mut dyn Target, found: Finding) {
    let (config, stats) = (shared.config, shared.stats);
    let root = &config.findings_dir;
    let signature = found.signature.clone();
    if let Some(dir) = finding::known(root, &signature) {
        stats.duplicates.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = finding::bump(&dir, 1) {
            note(stats, format!("could not count duplicate {signature}: {e}"));
        }
        return;
    }
    if let Ok(mut in_flight) = shared.in_flight.lock() {
        if let Some(n) = in_flight.get_mut(&signature) {
            *n += 1;
            stats.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        in_flight.insert(signature.clone(), 0);
    }
    let ms = shared.start.elapsed().as_millis().max(1) as u64;
    let _ = stats
        .first_finding_ms
        .compare_exchange(0, ms, Ordering::Relaxed, Ordering::Relaxed);
    let (to_write, extras) = prepare(shared, target, &found);
    let written = to_write.write_with(root, &extras);
    // Alias first, then leave the in-flight set: a worker meeting this
    // signature from now on finds it on disk.
    if let Ok(Written::New(_) | Written::Duplicate(..)) = &written
        && let Err(e) = finding::record_alias(root, &signature, &to_write.signature)
    {
        note(stats, format!("could not record alias {signature}: {e}"));
    }
    let pending = shared
        .in_flight
        .lock()
        .ok()
        .and_then(|mut m| m.remove(&signature))
        .unwrap_or(0);
    match written {
        Ok(Written::New(path)) => {
            stats.findings.fetch_add(1, Ordering::Relaxed);
            note(
                stats,
                format!("new finding: {} ({})", path.display(), to_write.title),
            );
            count_pending(stats, &path, pending);
        }
        Ok(Written::Duplicate(path, _)) => {
            stats.duplicates.fetch_add(1, Ordering::Relaxed);
            count_pending(stats, &path, pending);
        }
        Err(e) => note(
            stats,
            format!("could not write finding {}: {e}", to_write.signature),
        ),
    }
}

/// Adds the duplicates seen while a finding was being reduced to its count.
fn count_pending(stats: &Stats, dir: &std::path::Path, pending: u64) {
    if pending > 0
        && let Err(e) = finding::bump(dir, pending)
    {
        note(
            stats,
            format!("could not count duplicates of {}: {e}", dir.display()),
        );
    }
}

/// The finding to write (reduced when possible) and its report extras.
fn prepare(shared: &Shared<'_>, target: &mut dyn Target, found: &Finding) -> (Finding, Extras) {
    let mut extras = Extras {
        repro_flags: shared.config.repro_flags.clone(),
        ..Extras::default()
    };
    let mut out = found.clone();
    if let Some(budget) = shared.config.reduce {
        let attempt = catch_unwind(AssertUnwindSafe(|| {
            reduce::reduce_finding(target, found, budget, shared.stop)
        }));
        match attempt {
            Ok(Ok(r)) if r.after != r.before => {
                extras.original = Some(found.case.clone());
                extras.reduction = Some(r.summary());
                out = *r.finding;
            }
            Ok(Ok(r)) => extras.reduction = Some(format!("already minimal ({})", r.summary())),
            Ok(Err(e)) => extras.reduction = Some(format!("not reduced: {e}")),
            Err(payload) => {
                let why = crate::execute::panic_message(&payload);
                extras.reduction = Some(format!("not reduced: the reducer panicked: {why}"));
            }
        }
    }
    // Tables and filetests run the case again: never let that lose it.
    let mut completed = extras.clone();
    if catch_unwind(AssertUnwindSafe(|| {
        crate::replay::complete_extras(&out, &mut completed)
    }))
    .is_ok()
    {
        extras = completed;
    }
    (out, extras)
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
            reduce: None,
            repro_flags: String::new(),
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
            reduce: None,
            repro_flags: String::new(),
        };
        let stats = Arc::new(Stats::default());
        let stop = AtomicBool::new(true);
        run(&config, &stop, &stats, |_| {
            vec![Box::new(Counting(0)) as Box<dyn Target>]
        });
        assert_eq!(stats.execs.load(Ordering::Relaxed), 0);
    }

    /// Judges every case containing `iconst` a finding (of one class), or
    /// panics when judging, for exercising the finding path.
    struct Planted {
        panic_in_judge: bool,
    }

    impl Target for Planted {
        fn name(&self) -> &'static str {
            "planted"
        }
        fn generate(&mut self, seed: u64) -> TestCase {
            shoal_generators::GeneratorKind::Clif.generate_from_seed(seed)
        }
        fn judge(&mut self, case: &TestCase) -> CaseResult {
            assert!(!self.panic_in_judge, "planted judge panic");
            let text = String::from_utf8(case.to_bytes()).unwrap();
            if !text.contains("iconst") {
                return CaseResult::Agree;
            }
            CaseResult::Finding(Box::new(Finding {
                signature: finding::signature("planted", &["odd".into()], &[]),
                title: "planted finding".into(),
                case: case.to_bytes(),
                extension: "clif",
                text: Some(text),
                reference: "ref".into(),
                odd: vec!["odd".into()],
                difference: "values differ".into(),
                outcomes: Vec::new(),
                rules: Vec::new(),
            }))
        }
        fn run_one(&mut self, seed: u64) -> CaseResult {
            let case = self.generate(seed);
            let saved = std::mem::replace(&mut self.panic_in_judge, false);
            let result = self.judge(&case);
            self.panic_in_judge = saved;
            result
        }
    }

    fn planted_campaign(name: &str, panic_in_judge: bool) -> (PathBuf, Arc<Stats>) {
        let dir =
            std::env::temp_dir().join(format!("shoal-campaign-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = CampaignConfig {
            jobs: 1,
            time: None,
            execs: Some(3),
            seed: 7,
            findings_dir: dir.clone(),
            reduce: Some(Budget {
                time: Duration::from_secs(20),
                ..Budget::default()
            }),
            repro_flags: String::new(),
        };
        let stats = Arc::new(Stats::default());
        run(&config, &AtomicBool::new(false), &stats, |_| {
            vec![Box::new(Planted { panic_in_judge }) as Box<dyn Target>]
        });
        (dir, stats)
    }

    fn finding_dirs(root: &std::path::Path) -> Vec<PathBuf> {
        std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect()
    }

    #[test]
    fn new_findings_are_reduced_and_duplicates_counted() {
        let (root, stats) = planted_campaign("reduce", false);
        assert_eq!(stats.findings.load(Ordering::Relaxed), 1);
        assert_eq!(stats.duplicates.load(Ordering::Relaxed), 2);
        let dirs = finding_dirs(&root);
        assert_eq!(dirs.len(), 1);
        let dir = &dirs[0];
        let case = std::fs::read_to_string(dir.join("case.clif")).unwrap();
        let original = std::fs::read_to_string(dir.join("original.clif")).unwrap();
        assert!(case.len() < original.len() / 4, "{case}");
        assert!(case.contains("iconst"));
        assert_eq!(std::fs::read_to_string(dir.join("count")).unwrap(), "3\n");
        let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
        assert!(report.contains("reduced from"), "{report}");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_panicking_reduction_still_writes_the_finding() {
        let (root, stats) = planted_campaign("panic", true);
        assert_eq!(stats.findings.load(Ordering::Relaxed), 1);
        let dirs = finding_dirs(&root);
        assert_eq!(dirs.len(), 1);
        assert!(dirs[0].join("case.clif").exists());
        assert!(!dirs[0].join("original.clif").exists());
        let report = std::fs::read_to_string(dirs[0].join("report.md")).unwrap();
        assert!(report.contains("the reducer panicked"), "{report}");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn an_unwritable_findings_directory_is_reported_up_front() {
        let file = std::env::temp_dir().join(format!("shoal-campaign-file-{}", std::process::id()));
        std::fs::write(&file, b"x").unwrap();
        assert!(check_findings_dir(&file.join("sub")).is_err());
        std::fs::remove_file(file).unwrap();
    }
}
