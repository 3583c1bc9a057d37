//! Panics that shoal catches on purpose, kept away from libFuzzer.
//!
//! `libfuzzer-sys` installs a panic hook that aborts the process on *every*
//! panic, even one that a `catch_unwind` further up would have caught. The
//! runtime catches Cranelift panics on purpose (a compile panic becomes a
//! [`CompileFailure`](shoal_runtime::clif::CompileFailure) finding, an
//! engine panic an engine-failure execution) and the CLIF reader's panics
//! on malformed text are turned into parse errors, so under libFuzzer those
//! would abort before shoal could judge the case or write the finding.
//!
//! [`guarded`] runs a closure with a flag set on the current thread; the
//! hook installed by [`install_hook`] stays silent while the flag is set
//! (the panic unwinds to shoal's own `catch_unwind`, exactly as it does in
//! `shoal fuzz` and `shoal repro`) and defers to the previous hook — the
//! aborting one under libFuzzer, the default one elsewhere — otherwise. So
//! a fuzz target judges exactly like the rest of shoal, and only the
//! deliberate panic that reports a finding reaches libFuzzer.
//!
//! Helper threads that shoal's runtime spawns for part of a computation
//! are named `shoal-…` (the CLIF interpreter's big-stack thread for
//! possibly-recursive code) and catch their own panics; while any thread
//! is inside [`guarded`], panics on such threads are silenced too.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

thread_local! {
    /// Whether this thread is inside [`guarded`].
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    /// Where the last silenced panic happened (for the report when one
    /// escapes every inner `catch_unwind`).
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// How many threads are inside [`guarded`] right now.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Whether a panic on the current thread is one shoal catches on purpose.
fn silenced() -> bool {
    GUARDED.with(Cell::get)
        || (ACTIVE.load(Ordering::SeqCst) > 0
            && std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("shoal-")))
}

/// Installs the filtering panic hook (once per process), chaining to the
/// hook that was installed before it.
pub fn install_hook() {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if silenced() {
                let place = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                LAST.with(|last| *last.borrow_mut() = Some(place));
                return;
            }
            previous(info);
        }));
    });
}

/// A panic that escaped `f`: its message and where it was raised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escaped {
    /// The panic payload as text.
    pub message: String,
    /// `file:line` of the panic, when known.
    pub location: String,
}

/// Runs `f` with panics silenced on this thread and caught here.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, Escaped> {
    install_hook();
    let was = GUARDED.with(|g| g.replace(true));
    ACTIVE.fetch_add(1, Ordering::SeqCst);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    ACTIVE.fetch_sub(1, Ordering::SeqCst);
    GUARDED.with(|g| g.set(was));
    result.map_err(|payload| Escaped {
        message: crate::execute::panic_message(&payload),
        location: LAST.with(|l| l.borrow_mut().take()).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_catch_still_works_and_escapes_are_reported() {
        let inner = guarded(|| panic::catch_unwind(|| panic!("inner")).is_err());
        assert_eq!(inner, Ok(true));
        let escaped = guarded(|| -> u32 { panic!("outer {}", 7) }).unwrap_err();
        assert_eq!(escaped.message, "outer 7");
        assert!(escaped.location.contains("quiet.rs"), "{escaped:?}");
        assert!(!GUARDED.with(Cell::get));
    }

    #[test]
    fn helper_threads_of_a_guarded_computation_are_silenced() {
        let caught = guarded(|| {
            std::thread::scope(|s| {
                std::thread::Builder::new()
                    .name("shoal-test-helper".into())
                    .spawn_scoped(s, || {
                        assert!(silenced());
                        panic::catch_unwind(|| panic!("helper")).is_err()
                    })
                    .unwrap()
                    .join()
                    .unwrap()
            })
        });
        assert_eq!(caught, Ok(true));
    }
}
