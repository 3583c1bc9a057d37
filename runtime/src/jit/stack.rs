//! Execution stacks: wasm runs on a large, separately mapped stack so that
//! the configured maximum call depth (tests use up to 100,000) is reached
//! before native stack space runs out. Stacks are pooled per thread.
//!
//! The switch is a few instructions of assembly around one call; a
//! trap unwinds (via `catch_traps`' jump buffer, set on the original stack)
//! straight past it, which is fine because the abandoned stack holds no
//! Rust frames with destructors: the callback catches panics itself.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

/// Size of each execution stack's reservation.
const STACK_SIZE: usize = 256 << 20;
/// Inaccessible guard at the low end.
const GUARD: usize = 64 << 10;
/// Space kept free below the stack limit for Rust code (libcalls, host
/// functions) called from wasm near the limit.
const MARGIN: usize = 1 << 20;
/// Stacks kept per thread.
const POOL: usize = 2;

/// A mapped execution stack.
#[derive(Debug)]
pub(crate) struct ExecStack {
    base: *mut u8,
    size: usize,
}

impl ExecStack {
    fn new() -> Result<ExecStack, String> {
        // SAFETY: fresh anonymous mapping, checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                STACK_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err("cannot map an execution stack".into());
        }
        // SAFETY: the guard lies within the mapping.
        unsafe { libc::mprotect(p, GUARD, libc::PROT_NONE) };
        Ok(ExecStack {
            base: p.cast(),
            size: STACK_SIZE,
        })
    }

    /// The lowest address generated code may use.
    pub(crate) fn limit(&self) -> usize {
        self.base as usize + GUARD + MARGIN
    }

    fn top(&self) -> *mut u8 {
        // SAFETY: one past the end of the mapping; 16-byte aligned.
        unsafe { self.base.add(self.size) }
    }

    /// Returns touched pages to the OS (after a deep recursion).
    pub(crate) fn release_pages(&self) {
        let keep = 64 << 10;
        // SAFETY: the range lies within the mapping; contents are dead.
        unsafe {
            libc::madvise(
                self.base.add(GUARD).cast(),
                self.size - GUARD - keep,
                libc::MADV_DONTNEED,
            );
        }
    }
}

impl Drop for ExecStack {
    fn drop(&mut self) {
        // SAFETY: the mapping is ours.
        unsafe {
            libc::munmap(self.base.cast(), self.size);
        }
    }
}

thread_local! {
    static STACKS: RefCell<Vec<ExecStack>> = const { RefCell::new(Vec::new()) };
}

/// Takes a stack from this thread's pool (or maps a new one).
pub(crate) fn take() -> Result<ExecStack, String> {
    match STACKS.with(|s| s.borrow_mut().pop()) {
        Some(s) => Ok(s),
        None => ExecStack::new(),
    }
}

/// Returns a stack to this thread's pool.
pub(crate) fn give_back(stack: ExecStack) {
    STACKS.with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < POOL {
            s.push(stack);
        }
    });
}

struct Call<F, R> {
    f: Option<F>,
    result: Option<std::thread::Result<R>>,
}

extern "C" fn trampoline<F: FnOnce() -> R, R>(data: *mut u8) {
    // SAFETY: `data` is the `Call` that `on_stack` passed.
    let call = unsafe { &mut *data.cast::<Call<F, R>>() };
    if let Some(f) = call.f.take() {
        call.result = Some(panic::catch_unwind(AssertUnwindSafe(f)));
    }
}

/// Runs `f` on `stack`. Panics in `f` propagate to the caller.
pub(crate) fn on_stack<R>(stack: &ExecStack, f: impl FnOnce() -> R) -> R {
    let mut call = Call {
        f: Some(f),
        result: None,
    };
    let data = (&raw mut call).cast::<u8>();
    switch_and_call(stack.top(), trampoline_ptr(&call), data);
    match call.result {
        Some(Ok(r)) => r,
        Some(Err(p)) => panic::resume_unwind(p),
        None => unreachable!("on_stack: callback did not run"),
    }
}

fn trampoline_ptr<F: FnOnce() -> R, R>(_: &Call<F, R>) -> extern "C" fn(*mut u8) {
    trampoline::<F, R>
}

// The switch lives in a global-asm function without unwind info, so a
// backtrace taken on the execution stack (e.g. by a panic hook) ends there
// instead of walking into garbage above the stack's top.
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".text",
    ".p2align 4",
    ".globl shoal_jit_switch_stack",
    ".type shoal_jit_switch_stack, @function",
    "shoal_jit_switch_stack:",
    // rdi = data (passed through), rsi = callback, rdx = new stack top.
    "push rbp",
    "mov rbp, rsp",
    "mov rsp, rdx",
    "call rsi",
    "mov rsp, rbp",
    "pop rbp",
    "ret",
    ".size shoal_jit_switch_stack, . - shoal_jit_switch_stack",
);

#[cfg(target_arch = "x86_64")]
unsafe extern "C" {
    fn shoal_jit_switch_stack(data: *mut u8, f: extern "C" fn(*mut u8), top: *mut u8);
}

#[cfg(target_arch = "x86_64")]
fn switch_and_call(top: *mut u8, f: extern "C" fn(*mut u8), data: *mut u8) {
    // SAFETY: `top` is the 16-byte-aligned end of a mapped stack nobody else
    // uses; `f` is a System V function, which preserves rbp (where the
    // switch keeps the original stack pointer).
    unsafe { shoal_jit_switch_stack(data, f, top) }
}

/// Elsewhere, run on the current stack.
#[cfg(not(target_arch = "x86_64"))]
fn switch_and_call(_top: *mut u8, f: extern "C" fn(*mut u8), data: *mut u8) {
    f(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_on_the_other_stack_and_returns() {
        let s = take().unwrap();
        let (lo, hi) = (s.base as usize, s.base as usize + s.size);
        let (inside, v) = on_stack(&s, || {
            let x = 0u8;
            let addr = &raw const x as usize;
            (addr > lo && addr < hi, 42)
        });
        assert!(inside);
        assert_eq!(v, 42);
        give_back(s);
    }

    #[test]
    fn panics_propagate() {
        let s = take().unwrap();
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| on_stack(&s, || panic!("boom"))));
        assert!(r.is_err());
        give_back(s);
    }
}
