//! Subcommands; each module exposes `Args` (clap) and `run(Args) -> anyhow::Result<ExitCode>`.

pub mod bench;
pub mod coverage;
pub mod fuzz;
pub mod harvest;
pub mod reduce;
pub mod repro;
pub mod spectest;
pub mod validate;

use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the first Ctrl-C once [`stop_on_ctrl_c`] is armed.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
    // A second Ctrl-C kills the process the usual way.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_DFL) };
}

/// Makes the first Ctrl-C a request to stop (long commands finish their
/// current step and report); returns the flag it sets.
pub fn stop_on_ctrl_c() -> &'static AtomicBool {
    // SAFETY: installs an async-signal-safe handler (an atomic store and a
    // signal() call).
    unsafe { libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t) };
    &STOP
}
