//! A minimal linker: lays compiled functions out in one [`CodeMemory`],
//! resolves calls between them, libcalls and data symbols, and collects the
//! trap table. Relocations handled: `Abs8`, `Abs4`, the x86-64 PC-relative
//! forms, `Arm64Call` and `PulleyPcRel` (Pulley's `call`/`xpcadd`).

use cranelift_codegen::CompiledCode;
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::function::FunctionParameters;
use cranelift_codegen::ir::{ExternalName, Function, TrapCode};
use cranelift_codegen::{FinalizedMachReloc, FinalizedRelocTarget};
use std::rc::Rc;

use super::ExecError;
use super::libcalls;
use crate::native::CodeMemory;

/// One compiled function to place.
pub(crate) struct Piece<'a> {
    /// The name other functions call it by (`%f`, `u0:1`, ...).
    pub name: String,
    /// Its machine code.
    pub code: &'a CompiledCode,
    /// Its parameters (to resolve `ExternalName::User` references).
    pub params: &'a FunctionParameters,
    /// For a trampoline: the piece every call in it goes to, whatever
    /// name it was compiled with.
    pub redirect: Option<usize>,
}

/// Linked functions plus their trampolines.
pub(crate) struct LinkedModule {
    /// The code.
    pub linked: Linked,
    /// Offset of each function's trampoline (None: no trampoline).
    pub trampolines: Vec<Option<usize>>,
}

/// Links `funcs` (compiled as `codes`) followed by `tramps`, where
/// `tramps[i]` (from [`super::compile::trampolines`]) calls `funcs[i]`.
pub(crate) fn link_with_trampolines(
    funcs: &[Function],
    codes: &[CompiledCode],
    tramps: &[Option<Rc<CompiledCode>>],
) -> Result<LinkedModule, ExecError> {
    let mut pieces: Vec<Piece<'_>> = funcs
        .iter()
        .zip(codes)
        .map(|(f, code)| Piece {
            name: f.name.to_string(),
            code,
            params: &f.params,
            redirect: None,
        })
        .collect();
    let mut slot = Vec::with_capacity(funcs.len());
    for (i, (t, f)) in tramps.iter().zip(funcs).enumerate() {
        slot.push(t.as_ref().map(|_| pieces.len()));
        if let Some(code) = t {
            pieces.push(Piece {
                name: String::new(),
                code,
                params: &f.params,
                redirect: Some(i),
            });
        }
    }
    let linked = link(&pieces, &|_| None)?;
    let trampolines = slot.iter().map(|s| s.map(|p| linked.offsets[p])).collect();
    Ok(LinkedModule {
        linked,
        trampolines,
    })
}

/// Linked code.
pub(crate) struct Linked {
    /// The memory, published (read+execute).
    pub mem: CodeMemory,
    /// Offset of each piece, in input order.
    pub offsets: Vec<usize>,
    /// All trap sites, relative to the start of `mem`, sorted.
    pub traps: Vec<(u32, TrapCode)>,
}

const ALIGN: usize = 16;

/// Links `pieces`; `symbol` resolves data symbols (by display name) that
/// are not functions.
pub(crate) fn link(
    pieces: &[Piece<'_>],
    symbol: &dyn Fn(&str) -> Option<usize>,
) -> Result<Linked, ExecError> {
    let mut offsets = Vec::with_capacity(pieces.len());
    let mut size = 0usize;
    for p in pieces {
        size = size.next_multiple_of(ALIGN);
        offsets.push(size);
        size += p.code.code_buffer().len();
    }
    let mut mem = CodeMemory::new(size.max(1))
        .map_err(|e| ExecError::Inconclusive(format!("code memory: {e}")))?;
    let base = mem.addr();
    let mut traps = Vec::new();
    {
        let bytes = mem.bytes_mut();
        for (p, &off) in pieces.iter().zip(&offsets) {
            let code = p.code.code_buffer();
            bytes[off..off + code.len()].copy_from_slice(code);
            for t in p.code.buffer.traps() {
                traps.push((u32::try_from(off).unwrap_or(u32::MAX) + t.offset, t.code));
            }
        }
        for (p, &off) in pieces.iter().zip(&offsets) {
            for reloc in p.code.buffer.relocs() {
                let target = resolve(reloc, p, off, pieces, &offsets, base, symbol)?;
                let at = off + reloc.offset as usize;
                patch(
                    bytes,
                    at,
                    base + at,
                    reloc.kind,
                    target.wrapping_add_signed(reloc.addend as isize),
                )?;
            }
        }
    }
    mem.publish()
        .map_err(|e| ExecError::Inconclusive(format!("code memory: {e}")))?;
    traps.sort_by_key(|t| t.0);
    Ok(Linked {
        mem,
        offsets,
        traps,
    })
}

fn resolve(
    reloc: &FinalizedMachReloc,
    piece: &Piece<'_>,
    piece_offset: usize,
    pieces: &[Piece<'_>],
    offsets: &[usize],
    base: usize,
    symbol: &dyn Fn(&str) -> Option<usize>,
) -> Result<usize, ExecError> {
    match &reloc.target {
        FinalizedRelocTarget::Func(offset) => Ok(base + piece_offset + *offset as usize),
        FinalizedRelocTarget::ExternalName(ExternalName::LibCall(lc)) => {
            libcalls::native_address(*lc)
                .ok_or_else(|| ExecError::Inconclusive(format!("unsupported libcall {lc}")))
        }
        FinalizedRelocTarget::ExternalName(_) if piece.redirect.is_some() => {
            let i = piece.redirect.unwrap_or_default();
            Ok(base + offsets[i])
        }
        FinalizedRelocTarget::ExternalName(name) => {
            let key = name.display(Some(piece.params)).to_string();
            if let Some(i) = pieces.iter().position(|p| p.name == key) {
                return Ok(base + offsets[i]);
            }
            symbol(&key).ok_or_else(|| ExecError::Inconclusive(format!("unresolved symbol {key}")))
        }
    }
}

fn patch(
    bytes: &mut [u8],
    at: usize,
    at_addr: usize,
    kind: Reloc,
    target: usize,
) -> Result<(), ExecError> {
    let pc_rel = || i32::try_from(target.wrapping_sub(at_addr) as isize).ok();
    let range = |what: &str| ExecError::Inconclusive(format!("{what} relocation out of range"));
    match kind {
        Reloc::Abs8 => bytes[at..at + 8].copy_from_slice(&(target as u64).to_le_bytes()),
        Reloc::Abs4 => {
            let v = u32::try_from(target).map_err(|_| range("Abs4"))?;
            bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        Reloc::X86PCRel4 | Reloc::X86CallPCRel4 | Reloc::X86CallPLTRel4 => {
            let v = pc_rel().ok_or_else(|| range("x86 PC-relative"))?;
            bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        Reloc::Arm64Call => {
            let delta = pc_rel().ok_or_else(|| range("Arm64Call"))?;
            if delta % 4 != 0 || !(-(1 << 27)..(1 << 27)).contains(&delta) {
                return Err(range("Arm64Call"));
            }
            let mut insn = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default());
            insn = (insn & !0x03ff_ffff) | (((delta >> 2) as u32) & 0x03ff_ffff);
            bytes[at..at + 4].copy_from_slice(&insn.to_le_bytes());
        }
        Reloc::PulleyPcRel => {
            // The emitted placeholder holds the distance from the start of
            // the instruction to the relocated field; adding the field's
            // distance to the target yields the instruction-relative offset
            // Pulley expects.
            let v = pc_rel().ok_or_else(|| range("PulleyPcRel"))?;
            let old = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default());
            bytes[at..at + 4].copy_from_slice(&old.wrapping_add(v as u32).to_le_bytes());
        }
        other => {
            return Err(ExecError::Inconclusive(format!(
                "unsupported relocation {other:?}"
            )));
        }
    }
    Ok(())
}
