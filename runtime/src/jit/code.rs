//! Linking compiled functions into executable memory.
//!
//! Compiled functions are concatenated into one [`CodeMemory`] (written
//! while read-write, then flipped to read-execute), relocations are applied
//! in place, and the mapping is unmapped when it drops (the store owns it,
//! so millions of short-lived stores do not grow RSS).

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::{ExternalName, LibCall, TrapCode, UserExternalName};
use cranelift_codegen::{FinalizedMachReloc, FinalizedRelocTarget, MachBufferFinalized};

use crate::native::CodeMemory;

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::__m128i;

/// One compiled function's bytes and metadata, resolved to stable names.
#[derive(Debug)]
pub struct FuncCode {
    bytes: Vec<u8>,
    relocs: Vec<(u32, Reloc, Target, i64)>,
    traps: Vec<(u32, TrapCode)>,
}

/// A relocation target with function-local names resolved.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// Another function of the same code unit, by index.
    Func(u32),
    /// An offset inside this function.
    Local(u32),
    /// A Rust function.
    Addr(usize),
}

impl FuncCode {
    /// Captures a compiled function. `user_names` resolves the function's
    /// `ExternalName::User` references (namespace 0 = function index in the
    /// code unit).
    pub fn new(
        buffer: &MachBufferFinalized<cranelift_codegen::Final>,
        user_names: &cranelift_codegen::entity::PrimaryMap<
            cranelift_codegen::ir::UserExternalNameRef,
            UserExternalName,
        >,
    ) -> Result<FuncCode, String> {
        let relocs = buffer
            .relocs()
            .iter()
            .map(|r| resolve(r, user_names).map(|t| (r.offset, r.kind, t, r.addend)))
            .collect::<Result<_, _>>()?;
        Ok(FuncCode {
            bytes: buffer.data().to_vec(),
            relocs,
            traps: buffer.traps().iter().map(|t| (t.offset, t.code)).collect(),
        })
    }
}

fn resolve(
    r: &FinalizedMachReloc,
    user_names: &cranelift_codegen::entity::PrimaryMap<
        cranelift_codegen::ir::UserExternalNameRef,
        UserExternalName,
    >,
) -> Result<Target, String> {
    match &r.target {
        FinalizedRelocTarget::Func(off) => Ok(Target::Local(*off)),
        FinalizedRelocTarget::ExternalName(ExternalName::User(n)) => {
            let name = user_names
                .get(*n)
                .ok_or_else(|| format!("unknown user name {n}"))?;
            Ok(Target::Func(name.index))
        }
        FinalizedRelocTarget::ExternalName(ExternalName::LibCall(lc)) => {
            libcall_address(*lc).map(Target::Addr)
        }
        other => Err(format!("unsupported relocation target {other:?}")),
    }
}

/// Linked code and its trap-table registration (unregistered before the
/// mapping is freed: fields drop in order).
pub struct CodeUnit {
    _registration: Option<crate::native::CodeRegistration>,
    /// The code.
    pub linked: Linked,
}

impl std::fmt::Debug for CodeUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CodeUnit({:?})", self.linked.memory.as_ptr())
    }
}

impl CodeUnit {
    /// Registers `linked`'s trap sites with the native trap handler.
    ///
    /// Code without trap sites (most entry trampolines) is not registered:
    /// the handler would find no trap there either way, and every
    /// registration makes each later one copy the registry (campaigns
    /// cache thousands of trampolines).
    pub fn register(linked: Linked) -> CodeUnit {
        let registration = (!linked.traps.is_empty()).then(|| {
            crate::native::register_code(linked.memory.addr(), linked.memory.len(), &linked.traps)
        });
        CodeUnit {
            _registration: registration,
            linked,
        }
    }

    /// Address of function `i` of the unit.
    pub fn func(&self, i: usize) -> *const u8 {
        // SAFETY: offsets lie within the mapping.
        unsafe { self.linked.memory.as_ptr().add(self.linked.offsets[i]) }
    }
}

/// A linked code unit: the mapping, each function's start offset, and every
/// trap site (offset from the mapping's start).
#[derive(Debug)]
pub struct Linked {
    /// The code.
    pub memory: CodeMemory,
    /// Offset of each function.
    pub offsets: Vec<usize>,
    /// Trap sites.
    pub traps: Vec<(u32, TrapCode)>,
}

/// Lays out `funcs` in one mapping, applies relocations and makes it
/// executable.
pub fn link(funcs: &[FuncCode]) -> Result<Linked, String> {
    let mut offsets = Vec::with_capacity(funcs.len());
    let mut size = 0usize;
    for f in funcs {
        size = size.next_multiple_of(16);
        offsets.push(size);
        size += f.bytes.len();
    }
    let mut memory = CodeMemory::new(size.max(1)).map_err(|e| format!("code memory: {e}"))?;
    let base = memory.as_ptr() as usize;
    let mut traps = Vec::new();
    let bytes = memory.bytes_mut();
    for (f, &off) in funcs.iter().zip(&offsets) {
        bytes[off..off + f.bytes.len()].copy_from_slice(&f.bytes);
        for &(at, kind, target, addend) in &f.relocs {
            let target = match target {
                Target::Func(i) => {
                    let i = i as usize;
                    base + *offsets
                        .get(i)
                        .ok_or_else(|| format!("relocation to missing function {i}"))?
                }
                Target::Local(o) => base + off + o as usize,
                Target::Addr(a) => a,
            };
            let at = off + at as usize;
            apply(&mut bytes[at..], base + at, kind, target, addend)?;
        }
        traps.extend(f.traps.iter().map(|&(o, c)| (o + off as u32, c)));
    }
    memory.publish().map_err(|e| format!("code memory: {e}"))?;
    Ok(Linked {
        memory,
        offsets,
        traps,
    })
}

/// Patches one relocation at `site` (whose address is `pc`).
fn apply(
    site: &mut [u8],
    pc: usize,
    kind: Reloc,
    target: usize,
    addend: i64,
) -> Result<(), String> {
    let what = (target as i64).wrapping_add(addend);
    match kind {
        Reloc::Abs8 => site[..8].copy_from_slice(&what.to_le_bytes()),
        Reloc::X86PCRel4 | Reloc::X86CallPCRel4 => {
            let rel = i32::try_from(what - pc as i64)
                .map_err(|_| "PC-relative relocation out of range".to_string())?;
            site[..4].copy_from_slice(&rel.to_le_bytes());
        }
        other => return Err(format!("unsupported relocation kind {other:?}")),
    }
    Ok(())
}

// Rounding libcalls (used by Cranelift without SSE4.1). Wasm requires a NaN
// result to be quiet; libm returns a signaling NaN operand unchanged.
macro_rules! rounding {
    ($($name:ident: $t:ty => $op:ident;)*) => {$(
        extern "C" fn $name(x: $t) -> $t {
            if x.is_nan() { crate::num::quiet(x) } else { x.$op() }
        }
    )*};
}
rounding! {
    ceil_f32: f32 => ceil;
    ceil_f64: f64 => ceil;
    floor_f32: f32 => floor;
    floor_f64: f64 => floor;
    trunc_f32: f32 => trunc;
    trunc_f64: f64 => trunc;
    nearest_f32: f32 => round_ties_even;
    nearest_f64: f64 => round_ties_even;
}
extern "C" fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add(b, c)
}
extern "C" fn fma_f64(a: f64, b: f64, c: f64) -> f64 {
    a.mul_add(b, c)
}

/// `pshufb` for CPUs without SSSE3: byte `i` of the result is `a[b[i] & 15]`,
/// or 0 when `b[i]`'s top bit is set.
#[cfg(target_arch = "x86_64")]
#[allow(improper_ctypes_definitions)] // __m128i travels in xmm registers, as Cranelift expects
extern "C" fn x86_pshufb(a: __m128i, b: __m128i) -> __m128i {
    // SAFETY: __m128i and [u8; 16] have the same size and no invalid values.
    let (a, b): ([u8; 16], [u8; 16]) = unsafe {
        (
            std::mem::transmute::<__m128i, [u8; 16]>(a),
            std::mem::transmute::<__m128i, [u8; 16]>(b),
        )
    };
    let mut r = [0u8; 16];
    for i in 0..16 {
        if b[i] & 0x80 == 0 {
            r[i] = a[(b[i] & 15) as usize];
        }
    }
    // SAFETY: as above.
    unsafe { std::mem::transmute::<[u8; 16], __m128i>(r) }
}

fn libcall_address(lc: LibCall) -> Result<usize, String> {
    Ok(match lc {
        LibCall::CeilF32 => ceil_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::CeilF64 => ceil_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::FloorF32 => floor_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::FloorF64 => floor_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::TruncF32 => trunc_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::TruncF64 => trunc_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::NearestF32 => nearest_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::NearestF64 => nearest_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::FmaF32 => fma_f32 as extern "C" fn(f32, f32, f32) -> f32 as usize,
        LibCall::FmaF64 => fma_f64 as extern "C" fn(f64, f64, f64) -> f64 as usize,
        #[cfg(target_arch = "x86_64")]
        LibCall::X86Pshufb => x86_pshufb as extern "C" fn(__m128i, __m128i) -> __m128i as usize,
        other => return Err(format!("unsupported libcall {other:?}")),
    })
}
