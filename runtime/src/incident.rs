//! Incidents: what an engine observed during an execution that the
//! [`Store`](crate::engine::Store) API has no return value for.
//!
//! * A **refusal**: the host could not allocate memory for a `memory.grow`
//!   or `table.grow` *below* the deterministic caps of
//!   [`Limits`](crate::trap::Limits). The engine returns -1, as the spec
//!   permits, but another engine (or another run) might have succeeded, so
//!   the execution says nothing about the test case.
//! * An **engine error**: an external engine (module `external`) reported
//!   an error that is neither a wasm trap nor a refusal.
//!
//! Engines [`report`] incidents into a per-thread slot (execution is
//! single-threaded: a store runs on the thread that calls it); the code
//! driving an execution clears the slot with [`take`] before it starts and
//! reads it after instantiation and after every call. Only the first
//! incident since the last [`take`] is kept. Reporting costs nothing on
//! the fast paths: only failing growth reports.

use std::cell::RefCell;
use std::fmt;

/// Something an execution observed that makes it inconclusive or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incident {
    /// The host refused an allocation below the growth caps (what, e.g.
    /// `memory.grow to 70000 pages`).
    Refused(String),
    /// The engine failed internally (not a trap, not a refusal).
    EngineError(String),
}

impl fmt::Display for Incident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Incident::Refused(what) => write!(f, "host refused an allocation: {what}"),
            Incident::EngineError(e) => write!(f, "engine error: {e}"),
        }
    }
}

thread_local! {
    static SLOT: RefCell<Option<Incident>> = const { RefCell::new(None) };
}

/// Records `incident` unless one is already pending on this thread.
pub fn report(incident: Incident) {
    SLOT.with(|s| {
        let mut s = s.borrow_mut();
        if s.is_none() {
            *s = Some(incident);
        }
    });
}

/// Records a refusal (see [`Incident::Refused`]).
pub fn refused(what: impl Into<String>) {
    report(Incident::Refused(what.into()));
}

/// Takes the pending incident of this thread, leaving none.
pub fn take() -> Option<Incident> {
    SLOT.with(|s| s.borrow_mut().take())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_incident_wins_and_take_clears() {
        assert_eq!(take(), None);
        refused("memory.grow");
        report(Incident::EngineError("later".into()));
        assert_eq!(take(), Some(Incident::Refused("memory.grow".into())));
        assert_eq!(take(), None);
        std::thread::spawn(|| refused("elsewhere")).join().unwrap();
        assert_eq!(take(), None, "slots are per thread");
    }
}
