//! Deadlines for code that has no fuel: native CLIF code and Pulley.
//!
//! The CLIF executors compare native code and Pulley with
//! `cranelift-interpreter`, which runs under a fuel bound; they only run
//! after the interpreter finished. Code that then runs far longer than the
//! interpreter needed is looping where the reference did not — a
//! miscompilation (a missing trap, a wrong branch) — but without a bound it
//! would hang the campaign or the fuzz target. [`catch_until`] runs code
//! under [`catch_traps`](super::catch_traps) (or
//! [`catch_memory_faults`](super::catch_memory_faults)) with a wall-clock
//! deadline: past it, a watchdog thread signals the thread, and the signal
//! handler ends the call like a trap with code [`DEADLINE`].
//!
//! The watchdog keeps the threads with an active deadline in a list; it
//! signals (`pthread_kill`) only threads in that list, under its lock, so
//! the thread exists. A signal that arrives late — after the call ended, or
//! during a later call whose deadline has not passed — finds no expired
//! deadline on the thread and is ignored. The signal is a real-time one
//! (`SIGRTMIN + 3`), which neither libFuzzer nor the Rust runtime uses.

use std::cell::Cell;
use std::ffi::c_void;
use std::ptr;
use std::sync::{Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

use cranelift_codegen::ir::TrapCode;

use super::signals::{self, NativeTrap};

/// The trap code a call ended by its deadline reports.
pub const DEADLINE: TrapCode = TrapCode::unwrap_user(250);

/// How often the watchdog looks at the deadlines.
const TICK: Duration = Duration::from_millis(50);

fn deadline_signal() -> i32 {
    libc::SIGRTMIN() + 3
}

thread_local! {
    /// This thread's active deadline, as nanoseconds of `CLOCK_MONOTONIC`
    /// (0: none). Read by the signal handler.
    static DEADLINE_NS: Cell<u64> = const { Cell::new(0) };
}

/// Threads with an active deadline: (thread, deadline).
static WATCHED: Mutex<Vec<(libc::pthread_t, Instant)>> = Mutex::new(Vec::new());

static START: Once = Once::new();

/// `CLOCK_MONOTONIC` in nanoseconds (async-signal-safe).
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

extern "C" fn on_deadline(sig: i32, _info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let _ = ctx;
    let deadline = DEADLINE_NS.with(Cell::get);
    if deadline == 0 || monotonic_ns() < deadline {
        return;
    }
    DEADLINE_NS.with(|d| d.set(0));
    // SAFETY: we are the signal handler on this thread, inside the
    // `catch_until` call that set the deadline.
    unsafe {
        signals::trap_current(NativeTrap {
            code: DEADLINE,
            pc: 0,
            signal: sig,
        })
    };
}

/// Installs the handler and starts the watchdog, once per process.
fn start() {
    START.call_once(|| {
        // SAFETY: installing a handler for a signal only this module sends.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_deadline as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            libc::sigemptyset(&mut action.sa_mask);
            let rc = libc::sigaction(deadline_signal(), &action, ptr::null_mut());
            assert_eq!(rc, 0, "sigaction for the deadline signal failed");
        }
        std::thread::Builder::new()
            .name("shoal-deadline".into())
            .spawn(watchdog)
            .expect("spawning the deadline watchdog");
    });
}

fn watchdog() {
    loop {
        std::thread::sleep(TICK);
        let now = Instant::now();
        let watched = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
        for &(thread, deadline) in watched.iter() {
            if now >= deadline {
                // SAFETY: the thread is in the list, so it is alive and
                // inside `catch_until` (it removes itself under this lock).
                unsafe { libc::pthread_kill(thread, deadline_signal()) };
            }
        }
    }
}

/// Runs `catch(f)` — [`catch_traps`](super::catch_traps) or
/// [`catch_memory_faults`](super::catch_memory_faults) — ending it with a
/// [`DEADLINE`] trap if it runs longer than `limit`.
pub fn catch_until<R, F, C>(limit: Duration, catch: C, f: F) -> Result<R, NativeTrap>
where
    F: FnOnce() -> R,
    C: FnOnce(F) -> Result<R, NativeTrap>,
{
    start();
    let _watch = Watch::new(limit);
    catch(f)
}

/// This thread's entry in [`WATCHED`] and its [`DEADLINE_NS`], for the
/// extent of one [`catch_until`]; dropped also when a panic in the call
/// unwinds, so the watchdog never signals a thread that has moved on or
/// exited.
struct Watch {
    thread: libc::pthread_t,
    outer: u64,
}

impl Watch {
    fn new(limit: Duration) -> Watch {
        // SAFETY: pthread_self has no preconditions.
        let thread = unsafe { libc::pthread_self() };
        let outer = DEADLINE_NS.with(Cell::get);
        let ns = monotonic_ns().saturating_add(limit.as_nanos().min(u64::MAX as u128) as u64);
        DEADLINE_NS.with(|d| d.set(ns));
        WATCHED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((thread, Instant::now() + limit));
        Watch { thread, outer }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut watched = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: comparing thread ids.
        if let Some(i) = watched
            .iter()
            .rposition(|&(t, _)| unsafe { libc::pthread_equal(t, self.thread) } != 0)
        {
            watched.remove(i);
        }
        drop(watched);
        DEADLINE_NS.with(|d| d.set(self.outer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::catch_traps;

    #[test]
    fn a_call_past_its_deadline_ends_as_a_deadline_trap() {
        let spin = || {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        };
        let started = Instant::now();
        let r: Result<(), NativeTrap> = catch_until(Duration::from_millis(200), catch_traps, spin);
        assert_eq!(r.unwrap_err().code, DEADLINE);
        assert!(started.elapsed() < Duration::from_secs(5));
        // A call that finishes in time is untouched, and a late signal
        // after it is ignored.
        let ok = catch_until(Duration::from_secs(5), catch_traps, || 7);
        assert_eq!(ok, Ok(7));
        std::thread::sleep(TICK * 3);
        // A panic in the call leaves no watch behind.
        let panicked = std::panic::catch_unwind(|| {
            catch_until(Duration::from_secs(5), catch_traps, || {
                panic!("in the call")
            })
        });
        assert!(panicked.is_err());
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() };
        let watched = WATCHED.lock().unwrap();
        // SAFETY: comparing thread ids.
        assert!(
            !watched
                .iter()
                .any(|&(t, _)| unsafe { libc::pthread_equal(t, me) } != 0)
        );
        assert_eq!(DEADLINE_NS.with(Cell::get), 0);
    }
}
