//! Executable code memory and linking.
//!
//! Compiled functions are concatenated into one anonymous mapping (written
//! while read-write, then flipped to read-execute), relocations are applied
//! in place, and the mapping is unmapped when its [`CodeMemory`] drops (the
//! store owns it, so millions of short-lived stores do not grow RSS).

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::{ExternalName, LibCall, TrapCode, UserExternalName};
use cranelift_codegen::{FinalizedMachReloc, FinalizedRelocTarget, MachBufferFinalized};

/// An executable mapping; unmapped on drop.
#[derive(Debug)]
pub struct CodeMemory {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is immutable (read-execute) once published and owned
// exclusively by this value.
unsafe impl Send for CodeMemory {}

impl CodeMemory {
    /// Start address.
    pub fn base(&self) -> *const u8 {
        self.ptr
    }

    /// Length in bytes (page-rounded).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if empty (never: mappings are at least one page).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` describe a mapping this value owns.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).unwrap_or(4096)
}

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
    _registration: crate::native::CodeRegistration,
    /// The code.
    pub linked: Linked,
}

impl std::fmt::Debug for CodeUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CodeUnit({:?})", self.linked.memory.base())
    }
}

impl CodeUnit {
    /// Registers `linked`'s trap sites with the native trap handler.
    pub fn register(linked: Linked) -> CodeUnit {
        let registration = crate::native::register_code(
            linked.memory.base() as usize,
            linked.memory.len(),
            &linked.traps,
        );
        CodeUnit {
            _registration: registration,
            linked,
        }
    }

    /// Address of function `i` of the unit.
    pub fn func(&self, i: usize) -> *const u8 {
        // SAFETY: offsets lie within the mapping.
        unsafe { self.linked.memory.base().add(self.linked.offsets[i]) }
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
    let page = page_size();
    let len = size.max(1).next_multiple_of(page);
    // SAFETY: a fresh anonymous private mapping; checked for failure.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err("mmap of code memory failed".into());
    }
    let memory = CodeMemory {
        ptr: ptr.cast(),
        len,
    };
    let mut traps = Vec::new();
    for (f, &off) in funcs.iter().zip(&offsets) {
        // SAFETY: `off + len` is within the mapping by construction.
        unsafe {
            std::ptr::copy_nonoverlapping(f.bytes.as_ptr(), memory.ptr.add(off), f.bytes.len());
        }
        for &(at, kind, target, addend) in &f.relocs {
            let target = match target {
                Target::Func(i) => {
                    let i = i as usize;
                    let o = *offsets
                        .get(i)
                        .ok_or_else(|| format!("relocation to missing function {i}"))?;
                    memory.ptr as usize + o
                }
                Target::Local(o) => memory.ptr as usize + off + o as usize,
                Target::Addr(a) => a,
            };
            apply(&memory, off + at as usize, kind, target, addend)?;
        }
        traps.extend(f.traps.iter().map(|&(o, c)| (o + off as u32, c)));
    }
    // SAFETY: the mapping is ours; switching it to read-execute.
    let rc = unsafe { libc::mprotect(ptr, len, libc::PROT_READ | libc::PROT_EXEC) };
    if rc != 0 {
        return Err("mprotect of code memory failed".into());
    }
    Ok(Linked {
        memory,
        offsets,
        traps,
    })
}

fn apply(
    mem: &CodeMemory,
    at: usize,
    kind: Reloc,
    target: usize,
    addend: i64,
) -> Result<(), String> {
    let what = (target as i64).wrapping_add(addend);
    // SAFETY (both arms): `at` is inside the function's bytes in the mapping,
    // which is still writable.
    let site = unsafe { mem.ptr.add(at) };
    match kind {
        Reloc::Abs8 => unsafe { std::ptr::write_unaligned(site.cast::<i64>(), what) },
        Reloc::X86PCRel4 | Reloc::X86CallPCRel4 => {
            let rel = i32::try_from(what - site as i64)
                .map_err(|_| "PC-relative relocation out of range".to_string())?;
            unsafe { std::ptr::write_unaligned(site.cast::<i32>(), rel) }
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
extern "C" fn x86_pshufb(
    a: std::arch::x86_64::__m128i,
    b: std::arch::x86_64::__m128i,
) -> std::arch::x86_64::__m128i {
    // SAFETY: __m128i and [u8; 16] have the same size and no invalid values.
    let (a, b): ([u8; 16], [u8; 16]) = unsafe { (std::mem::transmute(a), std::mem::transmute(b)) };
    let mut r = [0u8; 16];
    for i in 0..16 {
        if b[i] & 0x80 == 0 {
            r[i] = a[(b[i] & 15) as usize];
        }
    }
    // SAFETY: as above.
    unsafe { std::mem::transmute(r) }
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
        LibCall::X86Pshufb => {
            use std::arch::x86_64::__m128i;
            x86_pshufb as extern "C" fn(__m128i, __m128i) -> __m128i as usize
        }
        other => return Err(format!("unsupported libcall {other:?}")),
    })
}
