//! The process-wide registry of native code ranges and their trap sites.
//!
//! Writers ([`register_code`] and dropping a [`CodeRegistration`]) serialise
//! on a mutex and publish an immutable, sorted [`Snapshot`] through an
//! [`AtomicPtr`]. The signal handler is the only reader that matters: it
//! never locks or allocates. It announces itself in [`READERS`] *before*
//! loading the snapshot pointer, and a writer frees a replaced snapshot only
//! after it has observed `READERS == 0` *after* the swap. With sequentially
//! consistent operations this is sound: a reader that loaded the old pointer
//! did so before the swap, so its increment is ordered before the writer's
//! wait and the writer keeps waiting until that reader is done.
//!
//! Readers never block, so the wait cannot deadlock even when a signal
//! arrives on the writing thread itself (the handler runs to completion on
//! top of the spinning writer).

use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cranelift_codegen::ir::TrapCode;

/// One registered code range.
struct Entry {
    start: usize,
    len: usize,
    /// Trap sites as offsets from `start`, sorted by offset.
    traps: Box<[(u32, TrapCode)]>,
    options: CodeOptions,
}

/// Per-registration options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CodeOptions {
    /// Treat a SIGSEGV/SIGBUS anywhere in this code whose fault address is
    /// in the current thread's stack guard region as a `STACK_OVERFLOW`
    /// trap. For code that cannot be given a Cranelift stack limit (CLIF
    /// under test has no vmctx to hang one on); the wasm JIT uses real
    /// stack limits and leaves this off.
    pub guard_page_is_stack_overflow: bool,
}

/// What the registry knows about a faulting PC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Site {
    /// The trap code if the PC is a registered trap site.
    pub trap: Option<TrapCode>,
    /// The options of the range containing the PC.
    pub options: CodeOptions,
}

impl Entry {
    fn contains(&self, pc: usize) -> bool {
        pc >= self.start && pc - self.start < self.len
    }

    fn trap_at(&self, pc: usize) -> Option<TrapCode> {
        let offset = u32::try_from(pc - self.start).ok()?;
        let i = self.traps.binary_search_by_key(&offset, |t| t.0).ok()?;
        Some(self.traps[i].1)
    }
}

/// An immutable view of every registered range, sorted by start address.
struct Snapshot {
    entries: Vec<Arc<Entry>>,
}

impl Snapshot {
    fn lookup(&self, pc: usize) -> Option<Site> {
        let after = self.entries.partition_point(|e| e.start <= pc);
        let entry = self.entries.get(after.checked_sub(1)?)?;
        entry.contains(pc).then(|| Site {
            trap: entry.trap_at(pc),
            options: entry.options,
        })
    }
}

/// The published snapshot (null until the first registration).
static SNAPSHOT: AtomicPtr<Snapshot> = AtomicPtr::new(ptr::null_mut());
/// Number of signal handlers currently reading a snapshot.
static READERS: AtomicUsize = AtomicUsize::new(0);
/// The authoritative list, owned by writers.
static WRITER: Mutex<Vec<Arc<Entry>>> = Mutex::new(Vec::new());

fn writer() -> MutexGuard<'static, Vec<Arc<Entry>>> {
    // The list is only mutated by complete `push`/`retain` calls, so a panic
    // elsewhere while holding the lock cannot leave it inconsistent.
    WRITER.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Publishes `entries` as the new snapshot and frees the old one once no
/// signal handler can still be reading it.
fn publish(entries: &[Arc<Entry>]) {
    let fresh = Box::into_raw(Box::new(Snapshot {
        entries: entries.to_vec(),
    }));
    let old = SNAPSHOT.swap(fresh, SeqCst);
    while READERS.load(SeqCst) != 0 {
        std::thread::yield_now();
    }
    if !old.is_null() {
        // SAFETY: `old` came from `Box::into_raw` in an earlier `publish`,
        // is no longer reachable through SNAPSHOT, and no reader holds it
        // (see the module docs for the ordering argument).
        drop(unsafe { Box::from_raw(old) });
    }
}

/// Keeps a code range registered; unregisters it on drop.
///
/// Drop the registration *before* freeing or reusing the code memory.
#[must_use = "the code is unregistered as soon as the registration is dropped"]
pub struct CodeRegistration {
    entry: Arc<Entry>,
}

impl std::fmt::Debug for CodeRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeRegistration")
            .field("start", &format_args!("{:#x}", self.entry.start))
            .field("len", &self.entry.len)
            .field("traps", &self.entry.traps.len())
            .finish()
    }
}

impl Drop for CodeRegistration {
    fn drop(&mut self) {
        let mut list = writer();
        list.retain(|e| !Arc::ptr_eq(e, &self.entry));
        publish(&list);
    }
}

/// Registers `len` bytes of native code at `start` whose trap sites are
/// `traps` (offsets relative to `start`, as in Cranelift's `MachTrap`).
///
/// A fault at one of these sites inside [`catch_traps`](super::catch_traps)
/// becomes a [`NativeTrap`](super::NativeTrap); any other fault is passed on.
///
/// # Panics
///
/// If `len` is zero, the range wraps around the address space, a trap
/// offset lies outside the range, or the range overlaps a live
/// registration: each means the caller lost track of its code memory.
pub fn register_code(start: usize, len: usize, traps: &[(u32, TrapCode)]) -> CodeRegistration {
    register_code_with(start, len, traps, CodeOptions::default())
}

/// [`register_code`] with [`CodeOptions`].
pub fn register_code_with(
    start: usize,
    len: usize,
    traps: &[(u32, TrapCode)],
    options: CodeOptions,
) -> CodeRegistration {
    assert!(len > 0, "register_code: empty code range at {start:#x}");
    let end = start
        .checked_add(len)
        .expect("register_code: code range wraps around the address space");
    let mut sorted = traps.to_vec();
    sorted.sort_by_key(|t| t.0);
    sorted.dedup_by_key(|t| t.0);
    if let Some(&(last, _)) = sorted.last() {
        assert!(
            (last as usize) < len,
            "register_code: trap offset {last:#x} outside a {len:#x}-byte range"
        );
    }
    let entry = Arc::new(Entry {
        start,
        len,
        traps: sorted.into_boxed_slice(),
        options,
    });
    let mut list = writer();
    let at = list.partition_point(|e| e.start < start);
    let overlaps_prev = at > 0 && list[at - 1].start + list[at - 1].len > start;
    let overlaps_next = list.get(at).is_some_and(|e| e.start < end);
    assert!(
        !overlaps_prev && !overlaps_next,
        "register_code: {start:#x}+{len:#x} overlaps a live registration"
    );
    list.insert(at, Arc::clone(&entry));
    publish(&list);
    CodeRegistration { entry }
}

/// What is registered for `pc`: `None` if no range contains it.
///
/// Async-signal-safe: no locks, no allocation.
pub(crate) fn lookup(pc: usize) -> Option<Site> {
    READERS.fetch_add(1, SeqCst);
    let snap = SNAPSHOT.load(SeqCst);
    // SAFETY: a non-null pointer loaded while READERS > 0 stays valid until
    // the decrement below (see the module docs).
    let found = unsafe { snap.as_ref() }.and_then(|s| s.lookup(pc));
    READERS.fetch_sub(1, SeqCst);
    found
}

/// Number of live registrations (for tests and leak checks).
pub fn registered_ranges() -> usize {
    writer().len()
}
