//! The `log::Log` that turns Cranelift's `trace-log` records into
//! per-thread rule hit counts, with an optional stderr passthrough.
//!
//! Counting is cheap. A trace-log record is `format_args!("ISLE {} {}",
//! "<term>", "<file> line <N>")` with string literals as arguments, which
//! rustc folds into one `&'static str` (`Arguments::as_str`): a hit is
//! counted under that literal's address, without formatting, copying or
//! hashing its text, and records become [`RuleId`]s only when [`collect`]
//! returns (each literal is parsed once per thread). A record that is not a
//! static string falls back to formatting and counting by text.
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

use super::hits::AddrMap;
use super::{RuleHits, RuleId, UNITS, intern, parse_record, unit_of_target};

/// A message literal's identity: unit index (into [`UNITS`],
/// `UNITS.len()` if unknown), address and length.
type SiteKey = (usize, usize, usize);

/// Raw counts of one collection.
#[derive(Default)]
struct RawHits {
    /// Counted by static message literal (the fast path).
    by_static: AddrMap<SiteKey, (&'static str, u64)>,
    /// Counted by formatted text (records that are not static strings).
    by_text: HashMap<(usize, Box<str>), u64>,
}

impl RawHits {
    fn merge(&mut self, other: &RawHits) {
        for (k, (msg, n)) in &other.by_static {
            self.by_static.entry(*k).or_insert((msg, 0)).1 += n;
        }
        for (k, n) in &other.by_text {
            *self.by_text.entry(k.clone()).or_insert(0) += n;
        }
    }
}

thread_local! {
    /// Whether this thread is inside `collect` (and not `paused`).
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    /// Nesting depth of `collect` on this thread.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// The innermost collection's raw counts.
    static RAW: RefCell<RawHits> = RefCell::new(RawHits::default());
    /// Interned rule of every message literal parsed, by (address, length).
    static PARSED_STATIC: RefCell<AddrMap<(usize, usize), Option<&'static RuleId>>> =
        RefCell::new(AddrMap::default());
    /// Fallback formatting buffer.
    static BUF: RefCell<String> = const { RefCell::new(String::new()) };
}

struct Collector {
    passthrough: LevelFilter,
}

static COLLECTOR: OnceLock<Collector> = OnceLock::new();
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Whether a record comes from ISLE-generated code: the generated Rust is
/// included into a `generated_code` module of `cranelift_codegen` (for
/// example `cranelift_codegen::isa::x64::lower::isle::generated_code`).
/// Only those records are counted, so Cranelift's other debug output
/// (timings, egraph statistics, disassembly) is neither formatted nor, via
/// `log_enabled!`, produced at all.
fn is_isle_record(level: Level, target: &str) -> bool {
    level == Level::Debug
        && target.starts_with("cranelift_codegen::")
        && target.ends_with("::generated_code")
        && collecting()
}

fn collecting() -> bool {
    ACTIVE.try_with(Cell::get).unwrap_or(false)
}

impl Log for Collector {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= self.passthrough || is_isle_record(m.level(), m.target())
    }

    fn log(&self, record: &Record<'_>) {
        if is_isle_record(record.level(), record.target()) {
            count(record);
        }
        if record.level() <= self.passthrough {
            eprintln!("[{} {}] {}", record.level(), record.target(), record.args());
        }
    }

    fn flush(&self) {}
}

thread_local! {
    /// Unit of the last record's target, keyed by the target's address.
    static LAST_TARGET: Cell<(usize, usize, usize)> = const { Cell::new((0, 0, 0)) };
}

/// Unit index of `target`, cached for the (static) target string.
fn unit_index(target: &str) -> usize {
    let key = (target.as_ptr() as usize, target.len());
    if let Ok((p, l, u)) = LAST_TARGET.try_with(Cell::get)
        && (p, l) == key
    {
        return u;
    }
    let unit = unit_of_target(target)
        .and_then(|u| UNITS.iter().position(|x| *x == u))
        .unwrap_or(UNITS.len());
    let _ = LAST_TARGET.try_with(|c| c.set((key.0, key.1, unit)));
    unit
}

fn count(record: &Record<'_>) {
    let unit = unit_index(record.target());
    if let Some(msg) = record.args().as_str() {
        let key = (unit, msg.as_ptr() as usize, msg.len());
        let _ = RAW.try_with(|raw| {
            raw.borrow_mut().by_static.entry(key).or_insert((msg, 0)).1 += 1;
        });
        return;
    }
    let _ = BUF.try_with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.clear();
        if write!(buf, "{}", record.args()).is_err() || !buf.starts_with("ISLE ") {
            return;
        }
        let _ = RAW.try_with(|raw| {
            let mut raw = raw.borrow_mut();
            match raw.by_text.get_mut(&(unit, Box::from(buf.as_str()))) {
                Some(n) => *n += 1,
                None => {
                    raw.by_text.insert((unit, buf.as_str().into()), 1);
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
/// are set aside while it runs and, if there is an enclosing collection,
/// get the inner counts added on leaving (also when `f` unwinds).
struct Scope {
    outer_raw: Option<RawHits>,
    outer_active: bool,
}

impl Scope {
    fn enter() -> Scope {
        let outer_raw = RAW.with(|raw| std::mem::take(&mut *raw.borrow_mut()));
        let outer_active = ACTIVE.with(|a| a.replace(true));
        DEPTH.with(|d| d.set(d.get() + 1));
        Scope {
            outer_raw: Some(outer_raw),
            outer_active,
        }
    }

    /// Restores the enclosing state and returns this scope's counts.
    fn leave(&mut self) -> RawHits {
        let Some(mut outer) = self.outer_raw.take() else {
            return RawHits::default();
        };
        let _ = ACTIVE.try_with(|a| a.set(self.outer_active));
        let nested = DEPTH
            .try_with(|d| {
                d.set(d.get().saturating_sub(1));
                d.get() > 0
            })
            .unwrap_or(false);
        RAW.try_with(|raw| {
            let inner = std::mem::take(&mut *raw.borrow_mut());
            if nested {
                outer.merge(&inner);
                *raw.borrow_mut() = outer;
            }
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

thread_local! {
    /// Interned rule identities by message text (for the fallback path).
    static PARSED: RefCell<HashMap<Box<str>, Option<&'static RuleId>>> = RefCell::new(HashMap::new());
}

fn parse_message(msg: &str) -> Option<&'static RuleId> {
    parse_record(msg).map(|(_, rule)| intern(&rule))
}

fn parse_static(msg: &'static str) -> Option<&'static RuleId> {
    PARSED_STATIC.with(|cache| {
        *cache
            .borrow_mut()
            .entry((msg.as_ptr() as usize, msg.len()))
            .or_insert_with(|| parse_message(msg))
    })
}

fn parse_text(msg: &str) -> Option<&'static RuleId> {
    PARSED.with(|cache| {
        if let Some(hit) = cache.borrow().get(msg) {
            return *hit;
        }
        let parsed = parse_message(msg);
        cache.borrow_mut().insert(msg.into(), parsed);
        parsed
    })
}

fn to_rule_hits(raw: &RawHits) -> RuleHits {
    let unit_name = |unit: usize| (unit < UNITS.len()).then_some(unit);
    let mut hits = RuleHits::new();
    for (&(unit, _, _), &(msg, n)) in &raw.by_static {
        if let Some(rule) = parse_static(msg) {
            hits.record_interned(unit_name(unit), rule, n);
        }
    }
    for ((unit, msg), n) in &raw.by_text {
        if let Some(rule) = parse_text(msg) {
            hits.record_interned(unit_name(*unit), rule, *n);
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
