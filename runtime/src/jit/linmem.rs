//! Linear memories backed by anonymous mappings.
//!
//! A memory reserves address space up front (inaccessible) and makes its
//! current size readable and writable, so growing never moves it while the
//! reservation suffices. In guard-page mode a 32-bit memory reserves 8 GiB
//! plus a page: no `index + offset + size` of a 32-bit access can leave the
//! reservation, so out-of-bounds accesses fault on an inaccessible page.
//! Otherwise the reservation is the memory's maximum capped by the store
//! limit, which no memory can outgrow: the base address never changes.

use crate::jit::vmctx::VMMemory;
use crate::values::{MemoryType, PAGE_SIZE};

/// Host cap on the total size of a store's linear memories (4 GiB), as the
/// interpreter applies it: growth past it returns -1 and instantiating past
/// it is a resource error.
pub const MAX_STORE_MEMORY_BYTES: u64 = 1 << 32;

/// Reservation of a 32-bit memory in guard-page mode.
const GUARD_RESERVATION: u64 = (8 << 30) + PAGE_SIZE;

/// A linear memory.
#[derive(Debug)]
pub struct LinearMemory {
    ptr: *mut u8,
    reserved: usize,
    ty: MemoryType,
    vm: Box<VMMemory>,
}

impl LinearMemory {
    /// A zeroed memory of `ty.limits.min` pages (the caller checked the
    /// store cap).
    pub fn new(ty: MemoryType, guard: bool) -> Result<LinearMemory, String> {
        let len = ty
            .limits
            .min
            .checked_mul(PAGE_SIZE)
            .filter(|&l| l <= MAX_STORE_MEMORY_BYTES)
            .ok_or("memory too large")?;
        let reserve = if guard && !ty.memory64 {
            GUARD_RESERVATION
        } else {
            let max = spec_max_pages(&ty).saturating_mul(PAGE_SIZE);
            max.min(MAX_STORE_MEMORY_BYTES).max(len)
        };
        let reserved = usize::try_from(reserve).map_err(|_| "reservation too large")?;
        let ptr = reserve_region(reserved.max(page_size()))?;
        let mut m = LinearMemory {
            ptr,
            reserved: reserved.max(page_size()),
            ty,
            vm: Box::new(VMMemory { base: ptr, len: 0 }),
        };
        m.make_accessible(0, len as usize)?;
        m.vm.len = len;
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
    /// maximum or the store cap (`total`, updated) forbids it.
    pub fn grow(&mut self, delta: u64, total: &mut u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > spec_max_pages(&self.ty) {
            return None;
        }
        let extra = delta.checked_mul(PAGE_SIZE)?;
        let new_total = total.checked_add(extra)?;
        if new_total > MAX_STORE_MEMORY_BYTES {
            return None;
        }
        let old_len = self.vm.len as usize;
        let new_len = (new * PAGE_SIZE) as usize;
        if new_len > self.reserved {
            // Unreachable: the reservation covers the maximum and the cap.
            return None;
        }
        self.make_accessible(old_len, new_len).ok()?;
        self.vm.len = new_len as u64;
        *total = new_total;
        Some(old)
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

    fn ty(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            limits: Limits { min, max },
            memory64: false,
        }
    }

    #[test]
    fn grows_within_and_beyond_reservation() {
        for guard in [false, true] {
            let mut m = LinearMemory::new(ty(1, Some(4)), guard).unwrap();
            let mut total = PAGE_SIZE;
            m.data_mut()[10] = 7;
            assert_eq!(m.grow(2, &mut total), Some(1));
            assert_eq!(m.grow(2, &mut total), None);
            assert_eq!(m.pages(), 3);
            assert_eq!(m.data()[10], 7);
            assert_eq!(m.data()[3 * PAGE_SIZE as usize - 1], 0);
        }
    }

    #[test]
    fn store_cap_limits_growth() {
        let mut m = LinearMemory::new(ty(0, None), false).unwrap();
        let mut total = MAX_STORE_MEMORY_BYTES - PAGE_SIZE;
        assert_eq!(m.grow(2, &mut total), None);
        assert_eq!(m.grow(1, &mut total), Some(0));
    }
}
