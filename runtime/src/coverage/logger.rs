//! The `log::Log` that turns Cranelift's `trace-log` records into
//! per-thread rule hit counts, with an optional stderr passthrough.
//!
//! Counting is cheap: while a thread collects, each ISLE record is
//! formatted into a reused thread-local buffer and counted under its raw
//! `<file> line <N>` text; records become [`RuleId`]s only once, when
//! [`collect`] returns.
//!
//! Passthrough: if `RUST_LOG` is a plain level (`error`, `warn`, `info`,
//! `debug`, `trace`) when the logger is installed, records at or above it
//! are printed to stderr as `[LEVEL target] message` (module filters are
//! not supported), so installing the collector never silences logging a
//! user asked for.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use log::{Level, LevelFilter, Log, Metadata, Record};

use super::{RuleHits, parse_record};

/// Raw counts keyed by the record's `<file> line <N>` text.
type RawHits = HashMap<Box<str>, u64>;

thread_local! {
    /// Whether this thread is inside `collect` (and not `paused`).
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    /// The innermost collection's raw counts.
    static RAW: RefCell<RawHits> = RefCell::new(HashMap::new());
    /// Reused formatting buffer.
    static BUF: RefCell<String> = const { RefCell::new(String::new()) };
}

struct Collector {
    passthrough: LevelFilter,
}

static COLLECTOR: OnceLock<Collector> = OnceLock::new();
static INSTALLED: OnceLock<bool> = OnceLock::new();

const ISLE_TARGET: &str = "cranelift_codegen";

fn collecting() -> bool {
    ACTIVE.try_with(Cell::get).unwrap_or(false)
}

impl Log for Collector {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= self.passthrough
            || (m.level() == Level::Debug && m.target().starts_with(ISLE_TARGET) && collecting())
    }

    fn log(&self, record: &Record<'_>) {
        if record.level() == Level::Debug
            && record.target().starts_with(ISLE_TARGET)
            && collecting()
        {
            count(record);
        }
        if record.level() <= self.passthrough {
            eprintln!("[{} {}] {}", record.level(), record.target(), record.args());
        }
    }

    fn flush(&self) {}
}

fn count(record: &Record<'_>) {
    let _ = BUF.try_with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.clear();
        if write!(buf, "{}", record.args()).is_err() {
            return;
        }
        let Some(rest) = buf.strip_prefix("ISLE ") else {
            return;
        };
        let Some((_term, site)) = rest.split_once(' ') else {
            return;
        };
        let _ = RAW.try_with(|raw| {
            let mut raw = raw.borrow_mut();
            match raw.get_mut(site) {
                Some(n) => *n += 1,
                None => {
                    raw.insert(site.into(), 1);
                }
            }
        });
    });
}

fn passthrough_level() -> LevelFilter {
    match std::env::var("RUST_LOG").map(|s| s.trim().to_ascii_lowercase()) {
        Ok(s) if s == "error" => LevelFilter::Error,
        Ok(s) if s == "warn" => LevelFilter::Warn,
        Ok(s) if s == "info" => LevelFilter::Info,
        Ok(s) if s == "debug" => LevelFilter::Debug,
        Ok(s) if s == "trace" => LevelFilter::Trace,
        _ => LevelFilter::Off,
    }
}

/// Installs the counting logger (idempotent). Returns whether it is the
/// process's logger: `false` if another logger was installed first, in
/// which case [`collect`] returns empty counts.
pub fn install_logger() -> bool {
    *INSTALLED.get_or_init(|| {
        let collector = COLLECTOR.get_or_init(|| Collector {
            passthrough: passthrough_level(),
        });
        match log::set_logger(collector) {
            Ok(()) => {
                log::set_max_level(collector.passthrough.max(LevelFilter::Debug));
                true
            }
            Err(_) => false,
        }
    })
}

/// Whether [`install_logger`] succeeded.
pub fn is_installed() -> bool {
    INSTALLED.get().copied().unwrap_or(false)
}

/// Runs `f` and returns the ISLE rules that fired on this thread while it
/// ran. Nested calls each see their own hits; an enclosing `collect` also
/// receives the inner one's.
pub fn collect<R>(f: impl FnOnce() -> R) -> (R, RuleHits) {
    install_logger();
    let mut scope = Scope::enter();
    let r = f();
    let inner = scope.leave();
    (r, to_rule_hits(&inner))
}

/// One `collect` on the current thread: the enclosing collection's counts
/// are set aside while it runs and get the inner counts added on leaving
/// (also when `f` unwinds).
struct Scope {
    outer_raw: Option<RawHits>,
    outer_active: bool,
}

impl Scope {
    fn enter() -> Scope {
        let outer_raw = RAW.with(|raw| std::mem::take(&mut *raw.borrow_mut()));
        let outer_active = ACTIVE.with(|a| a.replace(true));
        Scope {
            outer_raw: Some(outer_raw),
            outer_active,
        }
    }

    /// Restores the enclosing state and returns this scope's counts.
    fn leave(&mut self) -> RawHits {
        let _ = ACTIVE.try_with(|a| a.set(self.outer_active));
        let Some(mut outer) = self.outer_raw.take() else {
            return RawHits::new();
        };
        RAW.try_with(|raw| {
            let inner = std::mem::take(&mut *raw.borrow_mut());
            for (k, n) in &inner {
                match outer.get_mut(k) {
                    Some(c) => *c += n,
                    None => {
                        outer.insert(k.clone(), *n);
                    }
                }
            }
            *raw.borrow_mut() = outer;
            inner
        })
        .unwrap_or_default()
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        self.leave();
    }
}

fn to_rule_hits(raw: &RawHits) -> RuleHits {
    let mut hits = RuleHits::new();
    for (site, n) in raw {
        // Re-attach a placeholder term so the shared parser applies.
        let record = format!("ISLE _ {site}");
        if let Some((_, rule)) = parse_record(&record) {
            hits.record(rule, *n);
        }
    }
    hits
}

/// Runs `f` without counting rule hits on this thread (for harness code
/// such as trampolines compiled inside a [`collect`]).
pub fn paused<R>(f: impl FnOnce() -> R) -> R {
    let was = ACTIVE.with(|a| a.replace(false));
    struct Resume(bool);
    impl Drop for Resume {
        fn drop(&mut self) {
            let _ = ACTIVE.try_with(|a| a.set(self.0));
        }
    }
    let _resume = Resume(was);
    f()
}
