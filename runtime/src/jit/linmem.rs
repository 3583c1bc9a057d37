//! Linear memories backed by anonymous mappings.
//!
//! A memory reserves address space up front (inaccessible) and makes its
//! current size readable and writable, so growing does not move it while
//! the reservation suffices. In guard-page mode a 32-bit memory reserves
//! 8 GiB plus a page: no `index + offset + size` of a 32-bit access can
//! leave the reservation, so out-of-bounds accesses fault on an inaccessible
//! page, and the base never moves. Otherwise the reservation is the
//! memory's maximum (its declared maximum and the store's growth cap, at
//! most [`MAX_RESERVATION`]); a memory64 growing past that moves to a
//! larger mapping (generated code reloads the base on every access).
//!
//! Growth follows [`crate::trap::Limits`]: beyond the declared maximum or
//! `max_memory_pages` it fails with -1. When the host refuses the mapping
//! below those, growth fails with -1 too and reports a
//! [`crate::incident`] refusal (the execution is then inconclusive).

use crate::jit::vmctx::VMMemory;
use crate::values::{MemoryType, PAGE_SIZE};

/// Reservation of a 32-bit memory in guard-page mode.
const GUARD_RESERVATION: u64 = (8 << 30) + PAGE_SIZE;

/// Largest reservation made up front (larger memory64s relocate).
pub const MAX_RESERVATION: u64 = 8 << 30;

/// A linear memory.
#[derive(Debug)]
pub struct LinearMemory {
    ptr: *mut u8,
    reserved: usize,
    ty: MemoryType,
    vm: Box<VMMemory>,
}

impl LinearMemory {
    /// A zeroed memory of `ty.limits.min` pages, which may grow to at most
    /// `cap_pages` pages.
    pub fn new(ty: MemoryType, guard: bool, cap_pages: u64) -> Result<LinearMemory, String> {
        if ty.limits.min > cap_pages {
            return Err(format!(
                "memory of {} pages exceeds the growth cap of {cap_pages} pages",
                ty.limits.min
            ));
        }
        let len = ty
            .limits
            .min
            .checked_mul(PAGE_SIZE)
            .and_then(|l| usize::try_from(l).ok())
            .ok_or("memory too large")?;
        let reserve = if guard && !ty.memory64 {
            GUARD_RESERVATION
        } else {
            let max = spec_max_pages(&ty).min(cap_pages).saturating_mul(PAGE_SIZE);
            max.min(MAX_RESERVATION)
        };
        let reserved = usize::try_from(reserve)
            .unwrap_or(usize::MAX)
            .max(len)
            .max(page_size());
        let ptr = reserve_region(reserved)?;
        let mut m = LinearMemory {
            ptr,
            reserved,
            ty,
            vm: Box::new(VMMemory { base: ptr, len: 0 }),
        };
        m.make_accessible(0, len)?;
        m.vm.len = len as u64;
        Ok(m)
    }

    /// The declared type (limits as declared).
    pub fn ty(&self) -> MemoryType {
        self.ty
    }

    /// Current size in bytes.
    pub fn len(&self) -> u64 {
        self.vm.len
    }

    /// True when the memory has no pages.
    pub fn is_empty(&self) -> bool {
        self.vm.len == 0
    }

    /// Current size in pages.
    pub fn pages(&self) -> u64 {
        self.vm.len / PAGE_SIZE
    }

    /// The structure generated code reads.
    pub fn vm_ptr(&mut self) -> *mut VMMemory {
        &mut *self.vm
    }

    /// The contents.
    pub fn data(&self) -> &[u8] {
        // SAFETY: `len` bytes from `base` are mapped read-write.
        unsafe { std::slice::from_raw_parts(self.vm.base, self.vm.len as usize) }
    }

    /// The contents, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` is exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.vm.base, self.vm.len as usize) }
    }

    /// `memory.grow`: the old page count, or `None` when the declared
    /// maximum or `cap_pages` forbids it, or the host refuses (then a
    /// refusal incident is reported too).
    pub fn grow(&mut self, delta: u64, cap_pages: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > spec_max_pages(&self.ty) || new > cap_pages {
            return None;
        }
        match self.grow_to(new) {
            Ok(()) => Some(old),
            Err(e) => {
                crate::incident::refused(format!("jit: memory.grow to {new} pages: {e}"));
                None
            }
        }
    }

    /// Makes the memory `pages` pages long (at least its current size).
    fn grow_to(&mut self, pages: u64) -> Result<(), String> {
        let new_len = pages
            .checked_mul(PAGE_SIZE)
            .and_then(|l| usize::try_from(l).ok())
            .ok_or("size overflows the address space")?;
        let old_len = self.vm.len as usize;
        if new_len > self.reserved {
            self.relocate(new_len)?;
        }
        self.make_accessible(old_len, new_len)?;
        self.vm.len = new_len as u64;
        Ok(())
    }

    /// Moves the contents to a reservation of at least `min` bytes, keeping
    /// `self.vm`'s address (generated code holds it).
    fn relocate(&mut self, min: usize) -> Result<(), String> {
        let reserve = min.max(self.reserved.saturating_mul(2));
        let ptr = reserve_region(reserve)?;
        let len = self.vm.len as usize;
        let old = (self.ptr, self.reserved);
        self.ptr = ptr;
        self.reserved = reserve;
        if let Err(e) = self.make_accessible(0, len) {
            // SAFETY: the new reservation is ours and unused.
            unsafe { libc::munmap(ptr.cast(), reserve) };
            (self.ptr, self.reserved) = old;
            return Err(e);
        }
        // SAFETY: both ranges are mapped read-write and distinct; the old
        // reservation is ours and no longer referenced afterwards.
        unsafe {
            std::ptr::copy_nonoverlapping(old.0, ptr, len);
            libc::munmap(old.0.cast(), old.1);
        }
        self.vm.base = ptr;
        Ok(())
    }

    /// Makes `[from, to)` of the reservation readable and writable.
    fn make_accessible(&mut self, from: usize, to: usize) -> Result<(), String> {
        if to <= from {
            return Ok(());
        }
        // SAFETY: the range lies within our reservation.
        let rc = unsafe {
            libc::mprotect(
                self.ptr.add(from).cast(),
                to - from,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err("mprotect of linear memory failed".into())
        }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // SAFETY: the reservation is ours.
        unsafe {
            libc::munmap(self.ptr.cast(), self.reserved);
        }
    }
}

/// The spec's maximum page count for a memory of this index type.
fn spec_max_pages(ty: &MemoryType) -> u64 {
    let absolute = if ty.memory64 { 1u64 << 48 } else { 1u64 << 16 };
    ty.limits.max.map_or(absolute, |m| m.min(absolute))
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).unwrap_or(4096)
}

/// Reserves `len` bytes of inaccessible address space.
fn reserve_region(len: usize) -> Result<*mut u8, String> {
    // SAFETY: a fresh anonymous mapping; checked for failure.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        Err(format!("cannot reserve {len} bytes for a linear memory"))
    } else {
        Ok(p.cast())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::Limits;

    fn ty(min: u64, max: Option<u64>, memory64: bool) -> MemoryType {
        MemoryType {
            limits: Limits { min, max },
            memory64,
        }
    }

    #[test]
    fn grows_up_to_the_declared_maximum_and_the_cap() {
        for guard in [false, true] {
            let mut m = LinearMemory::new(ty(1, Some(4), false), guard, 65536).unwrap();
            m.data_mut()[10] = 7;
            assert_eq!(m.grow(2, 65536), Some(1));
            assert_eq!(m.grow(2, 65536), None);
            assert_eq!(m.pages(), 3);
            assert_eq!(m.data()[10], 7);
            assert_eq!(m.data()[3 * PAGE_SIZE as usize - 1], 0);
            assert_eq!(m.grow(1, 3), None, "cap");
            assert_eq!(m.grow(u64::MAX, u64::MAX), None);
        }
        assert!(LinearMemory::new(ty(5, None, false), false, 4).is_err());
    }

    #[test]
    fn host_refusal_below_the_cap_is_an_incident() {
        crate::incident::take();
        let mut m = LinearMemory::new(ty(0, None, true), false, u64::MAX).unwrap();
        // 2^40 pages (2^56 bytes) of address space: no host has it.
        assert_eq!(m.grow(1 << 40, u64::MAX), None);
        assert!(matches!(
            crate::incident::take(),
            Some(crate::incident::Incident::Refused(_))
        ));
        assert_eq!(m.grow(3, 2), None, "the cap is deterministic");
        assert_eq!(crate::incident::take(), None);
        assert_eq!(m.grow(2, 2), Some(0));
    }

    #[test]
    fn memory64_relocates_beyond_its_reservation() {
        let mut m = LinearMemory::new(ty(1, None, true), false, 1 << 20).unwrap();
        m.reserved = PAGE_SIZE as usize; // pretend the reservation is full
        m.data_mut()[5] = 9;
        assert_eq!(m.grow(3, 1 << 20), Some(1));
        assert_eq!(m.data()[5], 9);
        assert_eq!(m.vm.base, m.ptr);
        assert_eq!(m.len(), 4 * PAGE_SIZE);
    }
}
