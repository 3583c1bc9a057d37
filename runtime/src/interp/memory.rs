//! Linear memories: bounds-checked access, growth under the host cap, and
//! the bulk-memory operations.
//!
//! A memory is a `Vec<u8>`. Growth follows the spec (the declared maximum,
//! 65536 pages for memory32 and 2^48 pages for memory64) and additionally
//! refuses, by returning -1 as the spec permits, to make the store's linear
//! memories exceed [`MAX_STORE_MEMORY_BYTES`] in total. Consequently no
//! memory is ever larger than 4 GiB, so any access whose effective address
//! is 2^32 or more traps — the translator relies on this for memory64
//! offsets that do not fit in 32 bits.

use crate::trap::Trap;
use crate::values::{MemoryType, PAGE_SIZE};

/// Host cap on the total size of a store's linear memories (4 GiB).
/// Growing past it fails with -1; instantiating past it is a
/// `InstantiateError::Resource`. Every engine must apply the same cap.
pub const MAX_STORE_MEMORY_BYTES: u64 = 1 << 32;

/// A linear memory instance.
#[derive(Debug)]
pub(crate) struct MemInst {
    /// Its type (limits as declared; the current size is `data.len()`).
    pub ty: MemoryType,
    /// Contents; the length is always a multiple of the page size.
    pub data: Vec<u8>,
}

/// The spec's maximum page count for a memory of this index type.
fn spec_max_pages(ty: &MemoryType) -> u64 {
    let absolute = if ty.memory64 { 1u64 << 48 } else { 1u64 << 16 };
    ty.limits.max.map_or(absolute, |m| m.min(absolute))
}

impl MemInst {
    /// A zeroed memory of `pages` pages. The caller checks the cap.
    pub fn new(ty: MemoryType, pages: u64) -> MemInst {
        MemInst {
            ty,
            data: vec![0; (pages * PAGE_SIZE) as usize],
        }
    }

    /// Current size in pages.
    pub fn pages(&self) -> u64 {
        self.data.len() as u64 / PAGE_SIZE
    }

    /// `memory.grow`: the old page count, or `None` when the declared maximum
    /// or the store cap (`total` bytes across the store, updated) forbids it.
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
        if delta > 0 {
            let new_len = (new * PAGE_SIZE) as usize;
            if new_len > self.data.capacity() {
                // A fresh zeroed allocation lets the OS hand out untouched
                // pages lazily, instead of writing every new zero byte.
                let mut grown = vec![0u8; new_len];
                grown[..self.data.len()].copy_from_slice(&self.data);
                self.data = grown;
            } else {
                self.data.resize(new_len, 0);
            }
        }
        *total = new_total;
        Some(old)
    }
}

/// The start of an in-bounds access of `len` bytes at `addr + offset`.
#[inline(always)]
pub(crate) fn effective(mem: &[u8], addr: u64, offset: u64, len: u64) -> Result<usize, Trap> {
    let ea = addr.checked_add(offset).ok_or(Trap::MemoryOutOfBounds)?;
    let end = ea.checked_add(len).ok_or(Trap::MemoryOutOfBounds)?;
    if end > mem.len() as u64 {
        return Err(Trap::MemoryOutOfBounds);
    }
    Ok(ea as usize)
}

/// Reads `N` bytes.
#[inline(always)]
pub(crate) fn load<const N: usize>(mem: &[u8], addr: u64, offset: u32) -> Result<[u8; N], Trap> {
    let at = effective(mem, addr, offset as u64, N as u64)?;
    let mut out = [0u8; N];
    out.copy_from_slice(&mem[at..at + N]);
    Ok(out)
}

/// Writes `N` bytes.
#[inline(always)]
pub(crate) fn store<const N: usize>(
    mem: &mut [u8],
    addr: u64,
    offset: u32,
    bytes: [u8; N],
) -> Result<(), Trap> {
    let at = effective(mem, addr, offset as u64, N as u64)?;
    mem[at..at + N].copy_from_slice(&bytes);
    Ok(())
}

/// Checks that `start..start+len` lies within `size`; returns it as a range.
#[inline]
pub(crate) fn range(start: u64, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    if end > size as u64 {
        return None;
    }
    Some(start as usize..end as usize)
}

/// `memory.fill`.
pub(crate) fn fill(mem: &mut [u8], dst: u64, val: u8, len: u64) -> Result<(), Trap> {
    let r = range(dst, len, mem.len()).ok_or(Trap::MemoryOutOfBounds)?;
    mem[r].fill(val);
    Ok(())
}

/// `memory.copy` between two memories (or within one when `dst == src`).
pub(crate) fn copy(
    mems: &mut [MemInst],
    dst_mem: u32,
    src_mem: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> Result<(), Trap> {
    let (d, s) = (dst_mem as usize, src_mem as usize);
    let dr = range(dst, len, mems[d].data.len()).ok_or(Trap::MemoryOutOfBounds)?;
    let sr = range(src, len, mems[s].data.len()).ok_or(Trap::MemoryOutOfBounds)?;
    if d == s {
        mems[d].data.copy_within(sr, dr.start);
    } else if d < s {
        let (lo, hi) = mems.split_at_mut(s);
        lo[d].data[dr].copy_from_slice(&hi[0].data[sr]);
    } else {
        let (lo, hi) = mems.split_at_mut(d);
        hi[0].data[dr].copy_from_slice(&lo[s].data[sr]);
    }
    Ok(())
}

/// `memory.init` (and active data segments): copies `data[src..src+len]`
/// to `mem[dst..]`, both ranges checked before writing.
pub(crate) fn init(mem: &mut [u8], data: &[u8], dst: u64, src: u64, len: u64) -> Result<(), Trap> {
    let sr = range(src, len, data.len()).ok_or(Trap::MemoryOutOfBounds)?;
    let dr = range(dst, len, mem.len()).ok_or(Trap::MemoryOutOfBounds)?;
    mem[dr].copy_from_slice(&data[sr]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::Limits;

    fn mem(min: u64, max: Option<u64>, memory64: bool) -> MemInst {
        MemInst::new(
            MemoryType {
                limits: Limits { min, max },
                memory64,
            },
            min,
        )
    }

    #[test]
    fn grow_respects_max_and_cap() {
        let mut m = mem(1, Some(3), false);
        let mut total = PAGE_SIZE;
        assert_eq!(m.grow(2, &mut total), Some(1));
        assert_eq!(m.grow(1, &mut total), None);
        assert_eq!(total, 3 * PAGE_SIZE);
        let mut big = mem(0, None, true);
        let mut total = MAX_STORE_MEMORY_BYTES - PAGE_SIZE;
        assert_eq!(big.grow(2, &mut total), None);
        assert_eq!(big.grow(u64::MAX, &mut total), None);
        assert_eq!(big.grow(1, &mut total), Some(0));
    }

    #[test]
    fn bounds() {
        let m = vec![0u8; 16];
        assert_eq!(effective(&m, 12, 0, 4), Ok(12));
        assert_eq!(effective(&m, 13, 0, 4), Err(Trap::MemoryOutOfBounds));
        assert_eq!(effective(&m, u64::MAX, 1, 1), Err(Trap::MemoryOutOfBounds));
        assert!(range(16, 0, 16).is_some());
        assert!(range(17, 0, 16).is_none());
    }
}
