//! Linear memories: bounds-checked access, growth under the growth cap,
//! and the bulk-memory operations.
//!
//! A memory is a `Vec<u8>`. Growth follows the spec (the declared maximum,
//! 65536 pages for memory32 and 2^48 pages for memory64) and the
//! deterministic cap `Limits::max_memory_pages`: growing past it returns
//! -1, as the spec permits a host to. Should the host allocator refuse a
//! size below the cap, growth returns -1 too (never a crash) and reports a
//! [`crate::incident`] refusal, which makes the execution inconclusive.

use std::alloc::{Layout, alloc_zeroed};

use crate::trap::Trap;
use crate::values::{MemoryType, PAGE_SIZE};

/// A zero-filled buffer of `len` bytes with room for `capacity` (all of it
/// zeroed); `None` if the allocator refuses. Zeroed allocations let the OS
/// hand out untouched pages lazily.
fn zeroed(len: u64, capacity: u64) -> Option<Vec<u8>> {
    let len = usize::try_from(len).ok()?;
    let cap = usize::try_from(capacity).ok()?.max(len);
    if cap == 0 {
        return Some(Vec::new());
    }
    let layout = Layout::array::<u8>(cap).ok()?;
    // SAFETY: `layout` has a non-zero size.
    let p = unsafe { alloc_zeroed(layout) };
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` was allocated by the global allocator with the layout of
    // `cap` bytes (align 1); the first `len <= cap` bytes are initialised.
    Some(unsafe { Vec::from_raw_parts(p, len, cap) })
}

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
    /// A zeroed memory of `pages` pages; `None` if the host cannot
    /// allocate it.
    pub fn new(ty: MemoryType, pages: u64) -> Option<MemInst> {
        Some(MemInst {
            ty,
            data: zeroed(pages.checked_mul(PAGE_SIZE)?, 0)?,
        })
    }

    /// Current size in pages.
    pub fn pages(&self) -> u64 {
        self.data.len() as u64 / PAGE_SIZE
    }

    /// Extends the contents with zeros to `len` bytes. Capacity grows
    /// geometrically (up to `limit` bytes), so repeated small growth costs
    /// amortised linear time; a new buffer comes zeroed from the allocator.
    fn extend_to(&mut self, len: u64, limit: u64) -> Option<()> {
        let len_usize = usize::try_from(len).ok()?;
        if len_usize <= self.data.capacity() {
            self.data.resize(len_usize, 0);
            return Some(());
        }
        let want = (self.data.capacity() as u64)
            .saturating_mul(2)
            .clamp(len, limit.max(len));
        let mut grown = zeroed(len, want).or_else(|| zeroed(len, len))?;
        grown[..self.data.len()].copy_from_slice(&self.data);
        self.data = grown;
        Some(())
    }

    /// `memory.grow`: the old page count, or `None` when the declared
    /// maximum or the growth cap `cap` (pages) forbids it, or the host
    /// cannot allocate (then a refusal incident is reported too).
    pub fn grow(&mut self, delta: u64, cap: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > spec_max_pages(&self.ty) || new > cap {
            return None;
        }
        if delta > 0 {
            let limit = spec_max_pages(&self.ty).min(cap).saturating_mul(PAGE_SIZE);
            let grown = new
                .checked_mul(PAGE_SIZE)
                .and_then(|len| self.extend_to(len, limit));
            if grown.is_none() {
                crate::incident::refused(format!("interp: memory.grow to {new} pages"));
                return None;
            }
        }
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
        let ty = MemoryType {
            limits: Limits { min, max },
            memory64,
        };
        MemInst::new(ty, min).unwrap()
    }

    #[test]
    fn grow_respects_max_and_cap() {
        let mut m = mem(1, Some(3), false);
        assert_eq!(m.grow(2, 65536), Some(1));
        assert_eq!(m.grow(1, 65536), None);
        assert_eq!(m.data.len() as u64, 3 * PAGE_SIZE);
        let mut big = mem(0, None, true);
        assert_eq!(big.grow(3, 2), None);
        assert_eq!(big.grow(u64::MAX, u64::MAX), None);
        assert_eq!(big.grow(2, 2), Some(0));
        assert_eq!(big.grow(0, 2), Some(2));
        let mut small = mem(0, None, false);
        assert_eq!(small.grow(65537, u64::MAX), None);
    }

    #[test]
    fn host_refusal_below_the_cap_is_an_incident() {
        crate::incident::take();
        let mut m = mem(0, None, true);
        // 2^40 pages (2^56 bytes): no host can allocate it.
        assert_eq!(m.grow(1 << 40, u64::MAX), None);
        assert!(matches!(
            crate::incident::take(),
            Some(crate::incident::Incident::Refused(_))
        ));
        // Refusals by the cap or the declared maximum are deterministic.
        assert_eq!(m.grow(3, 2), None);
        assert_eq!(crate::incident::take(), None);
        assert_eq!(m.grow(1, 2), Some(0));
    }

    #[test]
    fn repeated_growth_keeps_contents_and_zeroes_new_pages() {
        let mut m = mem(1, None, false);
        m.data[5] = 7;
        for i in 1..100u64 {
            assert_eq!(m.grow(1, 65536), Some(i));
            let last = m.data.len() - 1;
            assert_eq!(m.data[last], 0);
            m.data[last] = 1;
        }
        assert_eq!(m.data[5], 7);
        assert!(m.data.capacity() < 2 * m.data.len() + 2 * PAGE_SIZE as usize);
        assert_eq!(m.data.iter().filter(|b| **b == 1).count(), 99);
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
