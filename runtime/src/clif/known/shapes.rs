//! The shapes known issues need (predicates over a function's
//! instructions) and the equivalent rewrites of the bugs with workarounds.

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    Function, Inst, InstBuilder, InstructionData, Opcode, TrapCode, Value, types,
};

pub(super) fn insts(func: &Function) -> impl Iterator<Item = Inst> + '_ {
    func.layout
        .blocks()
        .flat_map(move |b| func.layout.block_insts(b))
}

pub(super) fn arg_type(func: &Function, inst: Inst, i: usize) -> Option<types::Type> {
    func.dfg
        .inst_args(inst)
        .get(i)
        .map(|&v| func.dfg.value_type(v))
}

pub(super) fn result_type(func: &Function, inst: Inst) -> Option<types::Type> {
    func.dfg
        .inst_results(inst)
        .first()
        .map(|&v| func.dfg.value_type(v))
}

/// `store.i128 v, p+N` with `N != 0`.
pub(super) fn offset_i128_stores(func: &Function) -> Vec<Inst> {
    insts(func)
        .filter(|&i| match func.dfg.insts[i] {
            InstructionData::Store {
                opcode: Opcode::Store,
                offset,
                ..
            } => i32::from(offset) != 0 && arg_type(func, i, 0) == Some(types::I128),
            _ => false,
        })
        .collect()
}

pub(super) fn has_offset_i128_store(func: &Function) -> bool {
    !offset_i128_stores(func).is_empty()
}

/// `store.i128 v, p+N` → `q = iadd p, N; store.i128 v, q`.
pub(super) fn rewrite_offset_i128_stores(func: &mut Function) {
    for inst in offset_i128_stores(func) {
        let InstructionData::Store { offset, .. } = func.dfg.insts[inst] else {
            continue;
        };
        let addr = func.dfg.inst_args(inst)[1];
        let ptr = func.dfg.value_type(addr);
        let mut pos = FuncCursor::new(func).at_inst(inst);
        let k = pos.ins().iconst(ptr, i64::from(i32::from(offset)));
        let q = pos.ins().iadd(addr, k);
        pos.func.dfg.inst_args_mut(inst)[1] = q;
        if let InstructionData::Store { offset, .. } = &mut pos.func.dfg.insts[inst] {
            *offset = 0.into();
        }
    }
}

pub(super) fn defined_by(func: &Function, v: Value, opcode: Opcode) -> bool {
    func.dfg
        .value_def(v)
        .inst()
        .is_some_and(|i| func.dfg.insts[i].opcode() == opcode)
}

/// `bmask.i128 x` of a narrower `x`, and `sextend.i128 (bmask x)` (which
/// the mid-end turns into the former).
pub(super) fn wide_bmasks(func: &Function) -> Vec<Inst> {
    insts(func)
        .filter(|&i| {
            let data = &func.dfg.insts[i];
            let wide = result_type(func, i) == Some(types::I128);
            match data.opcode() {
                Opcode::Bmask => wide && arg_type(func, i, 0) != Some(types::I128),
                Opcode::Sextend => {
                    wide && defined_by(func, func.dfg.inst_args(i)[0], Opcode::Bmask)
                }
                _ => false,
            }
        })
        .collect()
}

pub(super) fn has_wide_bmask(func: &Function) -> bool {
    !wide_bmasks(func).is_empty()
}

/// `r = bmask.i128 x` → `t = bmask.i64 x; r = iconcat t, t`, and
/// `r = sextend.i128 y` (y a bmask) → `t = bmask.i64 y; r = iconcat t, t`:
/// a bmask is all ones or all zeros, so both halves equal the i64 mask.
pub(super) fn rewrite_wide_bmasks(func: &mut Function) {
    for inst in wide_bmasks(func) {
        let x = func.dfg.inst_args(inst)[0];
        let mut pos = FuncCursor::new(func).at_inst(inst);
        let t = pos.ins().bmask(types::I64, x);
        pos.func.replace(inst).iconcat(t, t);
    }
}

pub(super) fn has_trapping_i128_access(func: &Function) -> bool {
    insts(func).any(|i| {
        let data = &func.dfg.insts[i];
        let ty = match data.opcode() {
            Opcode::Load => result_type(func, i),
            Opcode::Store => arg_type(func, i, 0),
            _ => return false,
        };
        ty == Some(types::I128) && data.memflags_trap_code(&func.dfg).is_some()
    })
}

pub(super) fn narrow_sdivs(func: &Function) -> Vec<Inst> {
    insts(func)
        .filter(|&i| {
            func.dfg.insts[i].opcode() == Opcode::Sdiv
                && matches!(result_type(func, i), Some(types::I8 | types::I16))
        })
        .collect()
}

pub(super) fn has_narrow_sdiv(func: &Function) -> bool {
    !narrow_sdivs(func).is_empty()
}

/// Makes the overflow trap explicit before each narrow `sdiv`:
/// `trapnz (a == MIN) & (b == -1), int_ovf` (the CLIF semantics of `sdiv`,
/// which Pulley then needs not provide).
pub(super) fn rewrite_narrow_sdivs(func: &mut Function) {
    for inst in narrow_sdivs(func) {
        let Some(ty) = result_type(func, inst) else {
            continue;
        };
        let (a, b) = (func.dfg.inst_args(inst)[0], func.dfg.inst_args(inst)[1]);
        let bits = ty.bits();
        let min = 1i64 << (bits - 1);
        let all_ones = (1i64 << bits) - 1;
        let mut pos = FuncCursor::new(func).at_inst(inst);
        let min = pos.ins().iconst(ty, min);
        let minus_one = pos.ins().iconst(ty, all_ones);
        let a_min = pos.ins().icmp(IntCC::Equal, a, min);
        let b_minus_one = pos.ins().icmp(IntCC::Equal, b, minus_one);
        let overflow = pos.ins().band(a_min, b_minus_one);
        pos.ins().trapnz(overflow, TrapCode::INTEGER_OVERFLOW);
    }
}

pub(super) fn has_float_select_spectre_guard(func: &Function) -> bool {
    insts(func).any(|i| {
        func.dfg.insts[i].opcode() == Opcode::SelectSpectreGuard
            && result_type(func, i).is_some_and(|t| t.is_float())
    })
}

/// Whether `func` has a value of a 64-bit vector type.
pub(super) fn has_vec64(func: &Function) -> bool {
    func.dfg.values().any(|v| {
        let ty = func.dfg.value_type(v);
        ty.is_vector() && ty.bits() == 64
    })
}

pub(super) fn has_bmask_of_i128(func: &Function) -> bool {
    insts(func).any(|i| {
        func.dfg.insts[i].opcode() == Opcode::Bmask && arg_type(func, i, 0) == Some(types::I128)
    })
}

pub(super) fn has_vector_fcmp_beyond_wasm(func: &Function) -> bool {
    use FloatCC::*;
    insts(func).any(|i| match func.dfg.insts[i] {
        InstructionData::FloatCompare {
            opcode: Opcode::Fcmp,
            cond,
            ..
        } => {
            arg_type(func, i, 0).is_some_and(|t| t.is_vector())
                && !matches!(
                    cond,
                    Equal
                        | NotEqual
                        | LessThan
                        | LessThanOrEqual
                        | GreaterThan
                        | GreaterThanOrEqual
                )
        }
        _ => false,
    })
}

pub(super) fn has_scalar_float_bitwise(func: &Function) -> bool {
    insts(func).any(|i| {
        matches!(
            func.dfg.insts[i].opcode(),
            Opcode::Band | Opcode::Bor | Opcode::Bxor | Opcode::Bnot | Opcode::Bitselect
        ) && result_type(func, i).is_some_and(|t| !t.is_vector() && t.is_float())
    })
}
