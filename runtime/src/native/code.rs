//! Executable memory for native code: mapped writable, filled (and
//! relocated) by the caller, then flipped to read+execute. Unmapped on drop,
//! so compiling and dropping millions of functions does not grow RSS.

use std::ffi::c_void;
use std::io;
use std::ptr;

unsafe extern "C" {
    fn shoal_native_flush_icache(start: *mut u8, end: *mut u8);
}

/// A page-aligned mapping that is writable until [`CodeMemory::publish`]
/// and executable (never both) afterwards.
#[derive(Debug)]
pub struct CodeMemory {
    base: *mut u8,
    mapped: usize,
    len: usize,
    executable: bool,
}

// SAFETY: the mapping is owned exclusively by this value; after `publish`
// it is immutable.
unsafe impl Send for CodeMemory {}
// SAFETY: shared access only reads the (immutable after publish) mapping.
unsafe impl Sync for CodeMemory {}

impl CodeMemory {
    /// Maps `len` zeroed, writable bytes (rounded up to whole pages).
    pub fn new(len: usize) -> io::Result<CodeMemory> {
        let page = page_size();
        let mapped = len.max(1).div_ceil(page) * page;
        // SAFETY: anonymous private mapping, no aliasing.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                mapped,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(CodeMemory {
            base: base.cast(),
            mapped,
            len,
            executable: false,
        })
    }

    /// Maps a copy of `code`, ready to execute.
    pub fn from_code(code: &[u8]) -> io::Result<CodeMemory> {
        let mut mem = CodeMemory::new(code.len())?;
        mem.bytes_mut().copy_from_slice(code);
        mem.publish()?;
        Ok(mem)
    }

    /// The writable bytes.
    ///
    /// # Panics
    /// After [`CodeMemory::publish`].
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        assert!(!self.executable, "CodeMemory: written after publish");
        // SAFETY: `len <= mapped` bytes of a live RW mapping we own.
        unsafe { std::slice::from_raw_parts_mut(self.base, self.len) }
    }

    /// Makes the memory read+execute (and no longer writable).
    pub fn publish(&mut self) -> io::Result<()> {
        if self.executable {
            return Ok(());
        }
        // SAFETY: our own mapping; the icache flush covers exactly it.
        unsafe {
            if libc::mprotect(
                self.base.cast::<c_void>(),
                self.mapped,
                libc::PROT_READ | libc::PROT_EXEC,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            shoal_native_flush_icache(self.base, self.base.add(self.len));
        }
        self.executable = true;
        Ok(())
    }

    /// Start address.
    pub fn as_ptr(&self) -> *const u8 {
        self.base
    }

    /// Start address as an integer (for [`register_code`](super::register_code)).
    pub fn addr(&self) -> usize {
        self.base as usize
    }

    /// Number of bytes requested (not rounded to pages).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether zero bytes were requested.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping exactly once.
        unsafe { libc::munmap(self.base.cast::<c_void>(), self.mapped) };
    }
}

/// The system page size.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}
