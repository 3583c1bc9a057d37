//! Tables: element storage, growth under the growth cap, and the bulk table
//! operations (`table.fill`, `table.copy`, `table.init`).
//!
//! Elements are stored as `u64` reference slots (see `code`: 0 is null).
//! Growth follows the declared maximum (at most 2^32 - 1 elements for a
//! 32-bit table) and the deterministic cap `Limits::max_table_elems`:
//! growing past it returns -1, as the spec permits a host to. An allocation
//! the host refuses below the cap returns -1 too and reports a
//! [`crate::incident`] refusal (the execution is then inconclusive).

use super::memory::range;
use crate::trap::Trap;
use crate::values::TableType;

/// A table instance.
#[derive(Debug)]
pub(crate) struct TableInst {
    /// Its type (limits as declared; the current size is `elems.len()`).
    pub ty: TableType,
    /// Elements.
    pub elems: Vec<u64>,
}

impl TableInst {
    /// `table.grow`: the old size, or `None` when the declared maximum, the
    /// growth cap `cap` (elements) or the host allocator forbids it.
    pub fn grow(&mut self, delta: u64, init: u64, cap: u64) -> Option<u64> {
        let old = self.elems.len() as u64;
        let new = old.checked_add(delta)?;
        let absolute = if self.ty.table64 {
            u64::MAX
        } else {
            u32::MAX as u64
        };
        let max = self.ty.limits.max.map_or(absolute, |m| m.min(absolute));
        if new > max || new > cap {
            return None;
        }
        let reserved = usize::try_from(delta)
            .ok()
            .and_then(|d| self.elems.try_reserve(d).ok());
        if reserved.is_none() {
            crate::incident::refused(format!("interp: table.grow to {new} elements"));
            return None;
        }
        self.elems.resize(new as usize, init);
        Some(old)
    }
}

/// `table.fill`.
pub(crate) fn fill(t: &mut TableInst, dst: u64, val: u64, len: u64) -> Result<(), Trap> {
    let r = range(dst, len, t.elems.len()).ok_or(Trap::TableOutOfBounds)?;
    t.elems[r].fill(val);
    Ok(())
}

/// `table.copy` between two tables (or within one).
pub(crate) fn copy(
    tables: &mut [TableInst],
    dst_t: u32,
    src_t: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> Result<(), Trap> {
    let (d, s) = (dst_t as usize, src_t as usize);
    let dr = range(dst, len, tables[d].elems.len()).ok_or(Trap::TableOutOfBounds)?;
    let sr = range(src, len, tables[s].elems.len()).ok_or(Trap::TableOutOfBounds)?;
    if d == s {
        tables[d].elems.copy_within(sr, dr.start);
    } else if d < s {
        let (lo, hi) = tables.split_at_mut(s);
        lo[d].elems[dr].copy_from_slice(&hi[0].elems[sr]);
    } else {
        let (lo, hi) = tables.split_at_mut(d);
        hi[0].elems[dr].copy_from_slice(&lo[s].elems[sr]);
    }
    Ok(())
}

/// `table.init` (and active element segments).
pub(crate) fn init(
    t: &mut TableInst,
    seg: &[u64],
    dst: u64,
    src: u64,
    len: u64,
) -> Result<(), Trap> {
    let sr = range(src, len, seg.len()).ok_or(Trap::TableOutOfBounds)?;
    let dr = range(dst, len, t.elems.len()).ok_or(Trap::TableOutOfBounds)?;
    t.elems[dr].copy_from_slice(&seg[sr]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::code::NULL_REF;
    use crate::values::{Limits, ValType};

    #[test]
    fn grow_limits() {
        let mut t = TableInst {
            ty: TableType {
                elem: ValType::FuncRef,
                limits: Limits {
                    min: 1,
                    max: Some(3),
                },
                table64: false,
            },
            elems: vec![NULL_REF],
        };
        assert_eq!(t.grow(2, 5, 100), Some(1));
        assert_eq!(t.elems, vec![NULL_REF, 5, 5]);
        assert_eq!(t.grow(1, 5, 100), None);
        t.ty.limits.max = None;
        assert_eq!(t.grow(u32::MAX as u64, 0, u64::MAX), None);
        assert_eq!(t.grow(98, 0, 100), None);
        assert_eq!(t.grow(97, 0, 100), Some(3));
        assert_eq!(
            crate::incident::take(),
            None,
            "cap refusals are deterministic"
        );
        t.ty.table64 = true;
        assert_eq!(t.grow(1 << 60, 0, u64::MAX), None);
        assert!(matches!(
            crate::incident::take(),
            Some(crate::incident::Incident::Refused(_))
        ));
    }
}
