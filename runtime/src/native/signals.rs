//! Signal handlers, per-thread alternate signal stacks and [`catch_traps`].
//!
//! # Mechanism
//!
//! Handlers for SIGILL, SIGFPE, SIGSEGV and SIGBUS are installed once per
//! process (`SA_SIGINFO | SA_ONSTACK | SA_NODEFER`), after recording the
//! handlers that were there before (libFuzzer's, Rust's stack-overflow
//! reporter, or the default). On a fault the handler reads the faulting PC
//! from the `ucontext`; if this thread is inside [`catch_traps`] and the PC
//! is a trap site registered with
//! [`register_code`](super::register_code), it stores a [`NativeTrap`] in
//! the innermost `catch_traps` frame and `siglongjmp`s to the `sigsetjmp`
//! in the C shim (`shim.c`) that `catch_traps` called. Anything else — an
//! unregistered PC, a signal sent by `kill`, a fault outside `catch_traps` —
//! is handed to the previous handler, so a real crash is never masked.
//!
//! # Why skipping the Rust frames is sound
//!
//! The jump discards the frames between the shim and the fault: the shim's
//! Rust callback, the closure given to `catch_traps`, whatever it called,
//! the native code and the signal handler frame. None of them are unwound:
//! values they own are leaked, never dropped twice or used after the jump
//! (leaking is safe in Rust). The result slot and the trap record live in
//! the `catch_traps` frame, *outside* the discarded region, and are only
//! read after the shim returns. The handler itself holds no value with a
//! destructor when it jumps. A trap can only happen while registered native
//! code runs, and entering native code is already an `unsafe` call; that
//! call's safety contract includes what the jump requires: no frame between
//! `catch_traps` and the native code may rely on its destructor running for
//! soundness (for example a stack-pinned value or a lock guard protecting
//! an invariant). Plain locals are merely leaked.
//!
//! The signal mask need not be restored: with `SA_NODEFER` the kernel does
//! not block the signal during the handler, and the handler changes no mask.
//!
//! # Stack overflow
//!
//! A fault in the guard page of the thread stack is only a *trap* if the
//! code reports it at a registered site, which Cranelift does when the
//! function has a stack limit (a `stack_limit` global value derived from
//! `vmctx`, or a `stack_limit` parameter): the prologue compares the stack
//! pointer with the limit and executes a `STACK_OVERFLOW` trap. Callers
//! that run possibly-recursive native code must provide such a limit:
//! [`thread_stack_limit`] gives one that lets the code use almost the whole
//! current thread stack, [`stack_limit_for`] one for a fixed budget below
//! the caller. Without one, the guard-page SIGSEGV comes from an
//! unregistered PC and is chained: the process dies loudly (Rust prints
//! "has overflowed its stack"). The handler runs on an alternate stack, so
//! it can always run even when the thread stack is exhausted.
//!
//! Code that cannot carry a stack limit (CLIF under test, which has no
//! vmctx) may instead be registered with
//! [`CodeOptions::guard_page_is_stack_overflow`](super::CodeOptions): a
//! SIGSEGV/SIGBUS *inside that code* whose fault address is in the current
//! thread's stack guard region is then a `STACK_OVERFLOW` trap. A guard
//! fault anywhere else still crashes.
//!
//! Interpreters that access guest memory with plain host loads (Pulley)
//! run under [`catch_memory_faults`], which additionally reports any other
//! SIGSEGV/SIGBUS on the thread as `HEAP_OUT_OF_BOUNDS`.

use std::cell::{Cell, UnsafeCell};
use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::Once;

use cranelift_codegen::ir::TrapCode;

use super::code::page_size;
use super::registry;

/// A trap raised by registered native code inside [`catch_traps`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NativeTrap {
    /// The Cranelift trap code registered for the faulting instruction.
    pub code: TrapCode,
    /// The faulting program counter.
    pub pc: usize,
    /// The signal that reported it (`libc::SIGILL`, `SIGFPE`, ...).
    pub signal: i32,
}

impl std::fmt::Display for NativeTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "trap {} (signal {} at pc {:#x})",
            self.code, self.signal, self.pc
        )
    }
}

impl std::error::Error for NativeTrap {}

unsafe extern "C" {
    fn shoal_native_catch(
        body: unsafe extern "C" fn(data: *mut c_void, jmp_buf: *mut c_void),
        data: *mut c_void,
    ) -> i32;
    fn shoal_native_unwind(jmp_buf: *mut c_void) -> !;
}

/// The innermost active `catch_traps` on a thread, as seen by the handler.
struct Frame {
    /// The shim's `sigjmp_buf`.
    jmp_buf: *mut c_void,
    /// Written by the handler just before it jumps.
    trap: Option<NativeTrap>,
}

thread_local! {
    /// Innermost active [`Frame`] on this thread, or null. Const-initialised
    /// and without destructor, so the handler's access never allocates.
    static CURRENT: Cell<*mut Frame> = const { Cell::new(ptr::null_mut()) };
}

/// The signals whose faults can be traps.
const SIGNALS: [i32; 4] = [libc::SIGILL, libc::SIGFPE, libc::SIGSEGV, libc::SIGBUS];

/// The handlers that were installed before ours, indexed like [`SIGNALS`].
/// Each slot is written only inside `INSTALL`, *before* the matching handler
/// is installed, and only read (by the handler) afterwards.
struct Previous(UnsafeCell<[MaybeUninit<libc::sigaction>; 4]>);

// SAFETY: see the write-once discipline above.
unsafe impl Sync for Previous {}

static PREVIOUS: Previous = Previous(UnsafeCell::new([MaybeUninit::uninit(); 4]));

/// Pointer to the saved previous handler of `SIGNALS[i]`.
fn previous_slot(i: usize) -> *mut MaybeUninit<libc::sigaction> {
    PREVIOUS
        .0
        .get()
        .cast::<MaybeUninit<libc::sigaction>>()
        .wrapping_add(i)
}
static INSTALL: Once = Once::new();

fn install_handlers() {
    INSTALL.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: plain sigaction calls; PREVIOUS[i] is written before
            // our handler for `sig` exists, so the handler never reads it
            // uninitialised, and never written again.
            unsafe {
                let prev = previous_slot(i).cast::<libc::sigaction>();
                let rc = libc::sigaction(sig, ptr::null(), prev);
                assert_eq!(rc, 0, "sigaction query failed");
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut action.sa_mask);
                let rc = libc::sigaction(sig, &action, ptr::null_mut());
                assert_eq!(rc, 0, "sigaction install failed");
            }
        }
    });
}

/// The faulting PC recorded in a signal context.
///
/// # Safety
/// `ctx` must be the `ucontext_t` the kernel passed to a `SA_SIGINFO` handler.
unsafe fn faulting_pc(ctx: *mut c_void) -> usize {
    let uc = ctx.cast::<libc::ucontext_t>();
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    // SAFETY: per the contract, `uc` is a valid ucontext.
    return unsafe { (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as usize };
    #[cfg(all(target_os = "linux", target_arch = "aarch64"))]
    // SAFETY: per the contract, `uc` is a valid ucontext.
    return unsafe { (*uc).uc_mcontext.pc as usize };
    #[cfg(not(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )))]
    {
        // Unsupported host: report no PC, so every fault is chained.
        let _ = uc;
        0
    }
}

extern "C" fn handler(sig: i32, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    // SAFETY: the kernel passes valid `info` and `ctx` to SA_SIGINFO handlers.
    let user_sent = unsafe { (*info).si_code } <= 0;
    if !user_sent {
        // SAFETY: as above.
        let pc = unsafe { faulting_pc(ctx) };
        // SAFETY: as above; si_addr is meaningful for these signals.
        let fault_addr = unsafe { (*info).si_addr() } as usize;
        let frame = CURRENT.with(Cell::get);
        if !frame.is_null()
            && let Some(code) = trap_for(sig, pc, fault_addr)
        {
            // SAFETY: `frame` points into a live `catch_traps` frame on this
            // thread (it is reset before that frame returns), and nothing
            // else accesses it while the native code runs.
            unsafe {
                (*frame).trap = Some(NativeTrap {
                    code,
                    pc,
                    signal: sig,
                });
                shoal_native_unwind((*frame).jmp_buf);
            }
        }
    }
    // SAFETY: forwarding the kernel's own arguments.
    unsafe { chain(sig, info, ctx) }
}

/// Ends the innermost active [`catch_traps`] on this thread with `trap`;
/// returns (doing nothing) if there is none.
///
/// # Safety
/// Only from a signal handler running on this thread, with the same
/// guarantees as a fault at a trap site: the frames between `catch_traps`
/// and the interrupted code are skipped, not unwound.
pub(super) unsafe fn trap_current(trap: NativeTrap) {
    let frame = CURRENT.with(Cell::get);
    if frame.is_null() {
        return;
    }
    // SAFETY: as in `handler`: `frame` is this thread's live innermost
    // frame.
    unsafe {
        (*frame).trap = Some(trap);
        shoal_native_unwind((*frame).jmp_buf);
    }
}

/// The trap a fault at `pc` (accessing `fault_addr`) stands for, if any.
fn trap_for(sig: i32, pc: usize, fault_addr: usize) -> Option<TrapCode> {
    let memory_fault = sig == libc::SIGSEGV || sig == libc::SIGBUS;
    let site = registry::lookup(pc);
    if let Some(code) = site.and_then(|s| s.trap) {
        return Some(code);
    }
    let guard_overflow = site.is_some_and(|s| s.options.guard_page_is_stack_overflow);
    if memory_fault && in_stack_guard(fault_addr) {
        // Stack exhaustion is only a trap inside code registered for it.
        return guard_overflow.then_some(TrapCode::STACK_OVERFLOW);
    }
    // An interpreter's guest access (see `catch_memory_faults`), wherever
    // the faulting instruction is.
    (memory_fault && MEMORY_FAULTS_ARE_TRAPS.with(Cell::get))
        .then_some(TrapCode::HEAP_OUT_OF_BOUNDS)
}

/// Slack around the lowest stack address counted as the guard region: the
/// kernel's stack guard gap below the main thread (1 MiB by default) and
/// the guard page(s) some libcs report inside a thread's stack.
const GUARD_BELOW: usize = 1 << 20;
const GUARD_ABOVE: usize = 64 * 1024;

/// Whether `addr` lies in this thread's stack guard region (the thread's
/// stack bounds are recorded by `prepare_thread`).
fn in_stack_guard(addr: usize) -> bool {
    let low = STACK_LOW.with(Cell::get);
    low != 0
        && low != usize::MAX
        && addr >= low.saturating_sub(GUARD_BELOW)
        && addr < low + GUARD_ABOVE
}

/// Hands a fault we do not own to the handler that was there before us.
///
/// # Safety
/// Must only be called from `handler` with the kernel's arguments.
unsafe fn chain(sig: i32, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let Some(i) = SIGNALS.iter().position(|&s| s == sig) else {
        return;
    };
    // SAFETY: initialised before our handler was installed (see INSTALL)
    // and never written again.
    let prev = unsafe { (*previous_slot(i)).assume_init_ref() };
    let target = prev.sa_sigaction;
    if target == libc::SIG_DFL || target == libc::SIG_IGN {
        // Reinstate the default and return: the faulting instruction runs
        // again and the kernel applies the default action (a synchronous
        // fault cannot be ignored), so the process dies by this signal.
        // SAFETY: restoring a disposition the process had before.
        unsafe { libc::sigaction(sig, prev, ptr::null_mut()) };
    } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was registered with this signature.
        let f: extern "C" fn(i32, *mut libc::siginfo_t, *mut c_void) =
            unsafe { std::mem::transmute(target) };
        f(sig, info, ctx);
    } else {
        // SAFETY: the previous handler was registered with this signature.
        let f: extern "C" fn(i32) = unsafe { std::mem::transmute(target) };
        f(sig);
    }
}

/// Size of the alternate signal stack we install when a thread has none (or
/// too small a one). Chained handlers such as libFuzzer's crash reporter
/// print stack traces, so this is generous; untouched pages cost no RSS.
const ALT_STACK_SIZE: usize = 256 * 1024;

/// An alternate signal stack owned by this module for one thread.
struct AltStack {
    /// The mapping, including one guard page at its low end.
    base: *mut c_void,
    mapped: usize,
}

impl AltStack {
    /// Ensures the calling thread has a usable alternate signal stack,
    /// installing one of ours if it has none or a small one.
    fn ensure() -> Option<AltStack> {
        // SAFETY: querying and setting this thread's signal stack.
        unsafe {
            let mut old: libc::stack_t = std::mem::zeroed();
            if libc::sigaltstack(ptr::null(), &mut old) != 0 {
                return None;
            }
            if old.ss_flags & libc::SS_DISABLE == 0 && old.ss_size >= ALT_STACK_SIZE {
                return None;
            }
            let page = page_size();
            let mapped = ALT_STACK_SIZE + page;
            let base = libc::mmap(
                ptr::null_mut(),
                mapped,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert!(
                base != libc::MAP_FAILED,
                "mmap of alternate signal stack failed"
            );
            let stack = base.cast::<u8>().add(page).cast::<c_void>();
            let rc = libc::mprotect(stack, ALT_STACK_SIZE, libc::PROT_READ | libc::PROT_WRITE);
            assert_eq!(rc, 0, "mprotect of alternate signal stack failed");
            let new = libc::stack_t {
                ss_sp: stack,
                ss_flags: 0,
                ss_size: ALT_STACK_SIZE,
            };
            let rc = libc::sigaltstack(&new, ptr::null_mut());
            assert_eq!(rc, 0, "sigaltstack failed");
            Some(AltStack { base, mapped })
        }
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: this runs at thread exit; the stack is only disabled if it
        // is still the active one (Rust's own thread cleanup may already
        // have disabled it), then unmapped.
        unsafe {
            let mut cur: libc::stack_t = std::mem::zeroed();
            let ours = self.base.cast::<u8>().add(page_size()).cast::<c_void>();
            if libc::sigaltstack(ptr::null(), &mut cur) == 0
                && cur.ss_flags & libc::SS_DISABLE == 0
                && cur.ss_sp == ours
            {
                let off = libc::stack_t {
                    ss_sp: ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                };
                libc::sigaltstack(&off, ptr::null_mut());
            }
            libc::munmap(self.base, self.mapped);
        }
    }
}

thread_local! {
    /// Whether this thread's alternate stack was checked, and the one we
    /// installed (freed at thread exit).
    static ALT_STACK: std::cell::OnceCell<Option<AltStack>> =
        const { std::cell::OnceCell::new() };
}

/// Installs the process handlers and this thread's alternate signal stack.
///
/// [`catch_traps`] calls this itself; it is public so that a caller can pay
/// the one-time cost up front (e.g. before timing).
pub fn prepare_thread() {
    install_handlers();
    ALT_STACK.with(|cell| {
        cell.get_or_init(AltStack::ensure);
    });
    stack_low();
}

/// This thread's lowest stack address (cached), `usize::MAX` if unknown.
fn stack_low() -> usize {
    let mut low = STACK_LOW.with(Cell::get);
    if low == 0 {
        low = thread_stack_low().unwrap_or(usize::MAX);
        STACK_LOW.with(|c| c.set(low));
    }
    low
}

/// State shared between `catch_traps` and the shim callback.
struct Call<F, R> {
    f: Option<F>,
    result: Option<std::thread::Result<R>>,
    frame: *mut Frame,
}

unsafe extern "C" fn body<F: FnOnce() -> R, R>(data: *mut c_void, jmp_buf: *mut c_void) {
    // SAFETY: `data` is the `Call` that `catch_traps` passed to the shim.
    let call = unsafe { &mut *data.cast::<Call<F, R>>() };
    // SAFETY: `call.frame` points to the frame in `catch_traps`.
    unsafe { (*call.frame).jmp_buf = jmp_buf };
    CURRENT.with(|c| c.set(call.frame));
    if let Some(f) = call.f.take() {
        // Panics must not unwind through the C frame: carry them across.
        call.result = Some(panic::catch_unwind(AssertUnwindSafe(f)));
    }
}

/// Runs `f`; a fault at a registered trap site while `f` runs (on this
/// thread) ends `f` early and returns `Err` with the trap.
///
/// Nested calls are allowed: a trap returns from the innermost one. A panic
/// in `f` propagates normally. Frames of `f` that a trap skips are not
/// unwound (see the module docs for why that is sound and what callers of
/// native code must guarantee).
pub fn catch_traps<R, F: FnOnce() -> R>(f: F) -> Result<R, NativeTrap> {
    prepare_thread();
    let outer = CURRENT.with(Cell::get);
    let mut frame = Frame {
        jmp_buf: ptr::null_mut(),
        trap: None,
    };
    let mut call = Call {
        f: Some(f),
        result: None,
        frame: &raw mut frame,
    };
    // SAFETY: `body` matches the shim's callback type for this `Call`.
    let returned = unsafe { shoal_native_catch(body::<F, R>, (&raw mut call).cast::<c_void>()) };
    CURRENT.with(|c| c.set(outer));
    if returned != 0 {
        match call.result.take() {
            Some(Ok(r)) => Ok(r),
            Some(Err(payload)) => panic::resume_unwind(payload),
            None => unreachable!("catch_traps: body returned without running"),
        }
    } else {
        // The handler wrote `frame.trap` through the pointer that escaped
        // into the shim, then jumped here.
        let trap = frame.trap;
        Err(trap.expect("catch_traps: jumped back without a trap record"))
    }
}

/// A stack limit for native code that may spend at most `budget` bytes of
/// the current thread's stack below the caller's frame.
///
/// Pass it to Cranelift code through its stack-limit mechanism (a
/// `stack_limit` parameter or global value); the prologue then traps with
/// `STACK_OVERFLOW` instead of running into the guard page. The caller must
/// make sure `budget` bytes (plus the signal handler's needs, which run on
/// the alternate stack) actually exist below it.
pub fn stack_limit_for(budget: usize) -> usize {
    let marker = 0u8;
    let sp = std::hint::black_box(&raw const marker) as usize;
    sp.saturating_sub(budget)
}

/// Room kept free between the lowest usable stack address and the limit
/// given to native code (covers a guard area that some libcs report as
/// part of the stack, and the frames of anything native code calls).
const STACK_RESERVE: usize = 256 * 1024;

thread_local! {
    /// Set while [`catch_memory_faults`] runs on this thread.
    static MEMORY_FAULTS_ARE_TRAPS: Cell<bool> = const { Cell::new(false) };
}

/// Like [`catch_traps`], and additionally reports any SIGSEGV/SIGBUS on
/// this thread while `f` runs — wherever the faulting instruction is — as a
/// `HEAP_OUT_OF_BOUNDS` trap, except faults in the thread's stack guard.
///
/// For interpreters of compiled code (Pulley) that dereference guest
/// addresses with ordinary host loads and stores: a trapping guest access
/// to unmapped memory faults inside the interpreter, at a PC no trap table
/// knows. The caller must discard the interpreter state after such a trap
/// and treat the code as the only source of faults: a genuine crash of the
/// interpreter while `f` runs is reported as a trap too, so use this only
/// around the interpreter call itself.
pub fn catch_memory_faults<R, F: FnOnce() -> R>(f: F) -> Result<R, NativeTrap> {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            // Also on unwind: a panic in `f` must not leave the flag set.
            let _ = MEMORY_FAULTS_ARE_TRAPS.try_with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(MEMORY_FAULTS_ARE_TRAPS.with(|c| c.replace(true)));
    catch_traps(f)
}

thread_local! {
    /// Lowest address of this thread's stack (0 = not yet known).
    static STACK_LOW: Cell<usize> = const { Cell::new(0) };
}

/// A stack limit for native code that lets it use (almost) all of the
/// current thread's stack: the stack's lowest address plus a reserve.
///
/// Falls back to [`stack_limit_for`] with 512 KiB when the stack bounds are
/// unknown. See the module docs for how to pass the limit to Cranelift.
pub fn thread_stack_limit() -> usize {
    let low = stack_low();
    let here = stack_limit_for(0);
    match low.checked_add(STACK_RESERVE) {
        Some(limit) if limit < here => limit,
        _ => stack_limit_for(512 * 1024),
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn thread_stack_low() -> Option<usize> {
    // SAFETY: standard pthread attribute queries on the calling thread.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut addr: *mut c_void = ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (rc == 0 && !addr.is_null()).then_some(addr as usize)
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn thread_stack_low() -> Option<usize> {
    None
}
