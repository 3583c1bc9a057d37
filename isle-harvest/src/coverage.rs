//! Collecting the ISLE rules that fire while Cranelift compiles.
//!
//! With `cranelift-codegen`'s `trace-log` feature every rule that fires logs
//! `ISLE <term> <file> line <N>` at debug level. A process-wide `log`
//! logger (installed once) hands those records to the collection active on
//! the current thread, if any; compilation runs on the calling thread, so
//! concurrent collections on other threads do not mix.
//!
//! This is a private minimal collector: when `shoal-runtime` provides the
//! shared rule-coverage instrument, the harvester switches to it.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::Once;

use crate::rules::RuleId;

thread_local! {
    static ACTIVE: RefCell<Option<BTreeSet<RuleId>>> = const { RefCell::new(None) };
}

struct Collector;

impl log::Log for Collector {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Debug && metadata.target().starts_with("cranelift_codegen")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        ACTIVE.with(|active| {
            let mut active = active.borrow_mut();
            let Some(hits) = active.as_mut() else {
                return;
            };
            let msg = match record.args().as_str() {
                Some(s) => std::borrow::Cow::Borrowed(s),
                None => std::borrow::Cow::Owned(record.args().to_string()),
            };
            if let Some(rest) = msg.strip_prefix("ISLE ")
                && let Some((_term, location)) = rest.split_once(' ')
                && let Some(id) = RuleId::from_trace(location)
            {
                hits.insert(id);
            }
        });
    }

    fn flush(&self) {}
}

static INSTALL: Once = Once::new();
static COLLECTOR: Collector = Collector;

fn install() {
    INSTALL.call_once(|| {
        if log::set_logger(&COLLECTOR).is_ok() {
            log::set_max_level(log::LevelFilter::Debug);
        }
    });
}

/// Runs `f` and returns its result with the rules that fired on this thread
/// meanwhile.
pub fn collect<T>(f: impl FnOnce() -> T) -> (T, BTreeSet<RuleId>) {
    install();
    ACTIVE.with(|a| *a.borrow_mut() = Some(BTreeSet::new()));
    let out = f();
    let hits = ACTIVE.with(|a| a.borrow_mut().take()).unwrap_or_default();
    (out, hits)
}
