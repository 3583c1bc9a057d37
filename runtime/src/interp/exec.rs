//! The interpreter loop.
//!
//! State: `pc` (absolute position in the code arena), `sp` (stack top) and
//! `fp` (base of the running frame: its locals, then its operands), plus a
//! `Vec` of suspended callers, so wasm recursion never uses the host stack.
//!
//! Fuel and depth follow [`crate::trap::Limits`] exactly: entering a wasm
//! function checks the depth first, then takes one unit of fuel; a tail
//! call keeps the depth and takes one unit; every `LoopHeader` takes one
//! unit. Host functions take nothing and do not count towards the depth.

use super::code::{
    BrTarget, NULL_REF, Op, Slot, ref_payload, ref_slot, slot_to_value, value_to_slot,
};
use super::memory::{self, load, store};
use super::slots::{bin, bin_t, extend_lanes, lane_mask, splat, un, un_t};
use super::store::{CodeArena, ExecState, Frame, FuncInst, HostFuncInst, InterpStore, Runtime};
use super::table;
use crate::num::{self, WasmFloat};
use crate::trap::{Limits, Trap};
use crate::values::{FuncAddr, Value};

/// `Store::call`: runs `func` with fresh fuel at depth 1.
pub(crate) fn invoke(
    store: &mut InterpStore,
    func: FuncAddr,
    args: &[Value],
) -> Result<Vec<Value>, Trap> {
    let InterpStore {
        limits,
        rt,
        code,
        exec,
        types,
        ..
    } = store;
    let w = match rt.funcs.get_mut(func as usize) {
        Some(FuncInst::Wasm(w)) => *w,
        Some(FuncInst::Host(h)) => return call_host_values(h, args),
        None => panic!("interp: call of unknown function address {func}"),
    };
    exec.frames.clear();
    exec.fuel = limits.fuel.unwrap_or(u64::MAX);
    if limits.max_call_depth < 1 {
        return Err(Trap::CallStackExhausted);
    }
    take_fuel(&mut exec.fuel)?;
    let size = (w.frame_size as usize)
        .max(args.len())
        .max(w.results as usize);
    // Stale slots are harmless once the locals are zeroed: operands are
    // always written before they are read.
    if exec.stack.len() < size {
        exec.stack.resize(size.max(64), 0);
    }
    for (i, a) in args.iter().enumerate() {
        exec.stack[i] = value_to_slot(*a);
    }
    let sp = (w.params + w.locals) as usize;
    exec.stack[w.params as usize..sp].fill(0);
    let regs = Regs {
        pc: w.entry as usize,
        sp,
        fp: 0,
    };
    if exec.counting {
        run::<true>(code, rt, exec, limits, regs)?;
    } else {
        run::<false>(code, rt, exec, limits, regs)?;
    }
    let ty = types.get(w.ty);
    Ok(ty
        .results
        .iter()
        .enumerate()
        .map(|(i, t)| slot_to_value(exec.stack[i], *t))
        .collect())
}

/// Interpreter registers.
struct Regs {
    pc: usize,
    sp: usize,
    fp: usize,
}

#[inline(always)]
fn take_fuel(fuel: &mut u64) -> Result<(), Trap> {
    if *fuel == 0 {
        return Err(Trap::OutOfFuel);
    }
    *fuel -= 1;
    Ok(())
}

/// Applies a float operation whose NaN result must be the (quieted) NaN
/// operand: software rounding (`floor` and friends on baseline x86-64)
/// would return a signalling NaN unchanged.
#[inline(always)]
fn quieting<F: WasmFloat, R: WasmFloat>(a: F, f: impl FnOnce(F) -> R) -> R {
    let r = f(a);
    if a.nan() { num::quiet(r) } else { r }
}

/// Checks a host function's results against its signature.
fn check_results(h: &HostFuncInst, res: &[Value]) -> Result<(), Trap> {
    let ok = res.len() == h.sig.results.len()
        && res.iter().zip(&h.sig.results).all(|(v, t)| v.ty() == *t);
    if ok { Ok(()) } else { Err(Trap::Host) }
}

/// Calls a host function from the embedder.
fn call_host_values(h: &mut HostFuncInst, args: &[Value]) -> Result<Vec<Value>, Trap> {
    let res = (h.f)(args)?;
    check_results(h, &res)?;
    Ok(res)
}

/// Calls a host function with the top of the stack as arguments; returns
/// the new stack top (results replace the arguments).
fn call_host(h: &mut HostFuncInst, stack: &mut Vec<Slot>, sp: usize) -> Result<usize, Trap> {
    let np = h.sig.params.len();
    let base = sp - np;
    let args: Vec<Value> = stack[base..sp]
        .iter()
        .zip(&h.sig.params)
        .map(|(s, t)| slot_to_value(*s, *t))
        .collect();
    let res = (h.f)(&args)?;
    check_results(h, &res)?;
    let top = base + res.len();
    if top > stack.len() {
        stack.resize(top.max(2 * stack.len()), 0);
    }
    for (slot, v) in stack[base..top].iter_mut().zip(&res) {
        *slot = value_to_slot(*v);
    }
    Ok(top)
}

/// Resolves a `call_indirect` table entry to a function address.
#[inline(always)]
fn indirect(rt: &Runtime, table: u32, idx: u64, ty: u32) -> Result<u32, Trap> {
    let elems = &rt.tables[table as usize].elems;
    if idx >= elems.len() as u64 {
        return Err(Trap::UndefinedElement);
    }
    let f = match ref_payload(elems[idx as usize]) {
        Some(f) => f,
        None => return Err(Trap::UninitializedElement),
    };
    if rt.funcs[f as usize].ty() != ty {
        return Err(Trap::IndirectCallTypeMismatch);
    }
    Ok(f)
}

/// Runs until the frame entered at `regs` returns (results at the stack
/// bottom) or a trap.
fn run<const COUNT: bool>(
    code: &CodeArena,
    rt: &mut Runtime,
    exec: &mut ExecState,
    limits: &Limits,
    regs: Regs,
) -> Result<(), Trap> {
    let max_depth = limits.max_call_depth;
    let ExecState {
        stack: vec,
        frames,
        fuel,
        executed,
        ..
    } = exec;
    // A slice (pointer and length in locals) rather than the `Vec`; it is
    // re-derived after every resize.
    let mut stack: &mut [Slot] = &mut vec[..];
    let ops = &code.ops[..];
    let Regs {
        mut pc,
        mut sp,
        mut fp,
    } = regs;

    // Moves the label's values down to its height and continues there.
    macro_rules! branch {
        ($t:expr) => {{
            let t: BrTarget = $t;
            let dst = fp + t.height as usize;
            let n = t.arity as usize;
            if n == 1 {
                stack[dst] = stack[sp - 1];
            } else if n > 0 {
                stack.copy_within(sp - n..sp, dst);
            }
            sp = dst + n;
            pc = t.pc as usize;
        }};
    }
    // Returns `n` values from the running frame.
    macro_rules! ret {
        ($n:expr) => {{
            let n = $n as usize;
            if n == 1 {
                stack[fp] = stack[sp - 1];
            } else if n > 0 {
                stack.copy_within(sp - n..sp, fp);
            }
            sp = fp + n;
            match frames.pop() {
                Some(Frame { ret_pc, fp: caller }) => {
                    pc = ret_pc;
                    fp = caller;
                }
                None => return Ok(()),
            }
        }};
    }
    // Calls (or tail-calls) store function `$f`.
    macro_rules! call {
        ($f:expr, $tail:expr) => {{
            match &mut rt.funcs[$f as usize] {
                FuncInst::Wasm(w) => {
                    let w = *w;
                    let params = w.params as usize;
                    if $tail {
                        take_fuel(fuel)?;
                        stack.copy_within(sp - params..sp, fp);
                    } else {
                        if frames.len() + 2 > max_depth as usize {
                            return Err(Trap::CallStackExhausted);
                        }
                        take_fuel(fuel)?;
                        frames.push(Frame { ret_pc: pc, fp });
                        fp = sp - params;
                    }
                    sp = fp + params;
                    let need = fp + w.frame_size as usize;
                    if need > stack.len() {
                        let len = need.max(2 * stack.len());
                        vec.resize(len, 0);
                        stack = &mut vec[..];
                    }
                    let locals = w.locals as usize;
                    stack[sp..sp + locals].fill(0);
                    sp += locals;
                    pc = w.entry as usize;
                }
                FuncInst::Host(h) => {
                    sp = call_host(h, vec, sp)?;
                    stack = &mut vec[..];
                    if $tail {
                        let n = h.sig.results.len();
                        ret!(n);
                    }
                }
            }
        }};
    }
    // A load of `$n` bytes converted by `$conv`.
    macro_rules! load {
        ($m:expr, $n:literal, $conv:expr) => {{
            let m = $m;
            let addr = stack[sp - 1] as u64;
            let b = load::<$n>(&rt.memories[m.mem as usize].data, addr, m.offset)?;
            stack[sp - 1] = $conv(b);
        }};
    }
    // A store of the low `$n` bytes of the top value.
    macro_rules! store {
        ($m:expr, $n:literal, $t:ty) => {{
            let m = $m;
            let v = stack[sp - 1] as $t;
            let addr = stack[sp - 2] as u64;
            sp -= 2;
            store::<$n>(
                &mut rt.memories[m.mem as usize].data,
                addr,
                m.offset,
                v.to_le_bytes(),
            )?;
        }};
    }
    // Pops three u64 operands (bulk ops: destination, source/value, length).
    macro_rules! pop3 {
        () => {{
            let n = stack[sp - 1] as u64;
            let b = stack[sp - 2] as u64;
            let a = stack[sp - 3] as u64;
            sp -= 3;
            (a, b, n)
        }};
    }

    loop {
        let op = &ops[pc];
        pc += 1;
        if COUNT {
            *executed += 1;
        }
        match *op {
            Op::Trap(t) => return Err(t),
            Op::LoopHeader => take_fuel(fuel)?,
            Op::Jump(t) => pc = t as usize,
            Op::JumpIfZero(t) => {
                sp -= 1;
                if stack[sp] as u32 == 0 {
                    pc = t as usize;
                }
            }
            Op::JumpIfNonZero(t) => {
                sp -= 1;
                if stack[sp] as u32 != 0 {
                    pc = t as usize;
                }
            }
            Op::Br(t) => branch!(t),
            Op::BrIf(t) => {
                sp -= 1;
                if stack[sp] as u32 != 0 {
                    branch!(t);
                }
            }
            Op::BrTable { start, len } => {
                sp -= 1;
                let i = (stack[sp] as u32).min(len);
                branch!(code.br_tables[(start + i) as usize]);
            }
            Op::Return(n) => ret!(n),
            Op::Call(f) => call!(f, false),
            Op::ReturnCall(f) => call!(f, true),
            Op::CallIndirect { ty, table } => {
                sp -= 1;
                let f = indirect(rt, table, stack[sp] as u64, ty)?;
                call!(f, false);
            }
            Op::ReturnCallIndirect { ty, table } => {
                sp -= 1;
                let f = indirect(rt, table, stack[sp] as u64, ty)?;
                call!(f, true);
            }
            Op::Drop => sp -= 1,
            Op::Select => {
                let c = stack[sp - 1] as u32;
                sp -= 2;
                if c == 0 {
                    stack[sp - 1] = stack[sp];
                }
            }

            Op::LocalGet(i) => {
                stack[sp] = stack[fp + i as usize];
                sp += 1;
            }
            Op::LocalSet(i) => {
                sp -= 1;
                stack[fp + i as usize] = stack[sp];
            }
            Op::LocalTee(i) => stack[fp + i as usize] = stack[sp - 1],
            Op::GlobalGet(g) => {
                stack[sp] = rt.globals[g as usize].value;
                sp += 1;
            }
            Op::GlobalSet(g) => {
                sp -= 1;
                rt.globals[g as usize].value = stack[sp];
            }

            Op::Const32(v) => {
                stack[sp] = v as Slot;
                sp += 1;
            }
            Op::Const64 { lo, hi } => {
                stack[sp] = ((hi as u64) << 32 | lo as u64) as Slot;
                sp += 1;
            }
            Op::V128Const(i) => {
                stack[sp] = code.v128s[i as usize];
                sp += 1;
            }
            Op::RefNull => {
                stack[sp] = NULL_REF as Slot;
                sp += 1;
            }
            Op::RefIsNull => stack[sp - 1] = (stack[sp - 1] as u64 == NULL_REF) as Slot,
            Op::RefFunc(f) => {
                stack[sp] = ref_slot(f) as Slot;
                sp += 1;
            }

            Op::TableGet(t) => {
                let i = stack[sp - 1] as u64;
                let elems = &rt.tables[t as usize].elems;
                if i >= elems.len() as u64 {
                    return Err(Trap::TableOutOfBounds);
                }
                stack[sp - 1] = elems[i as usize] as Slot;
            }
            Op::TableSet(t) => {
                let v = stack[sp - 1] as u64;
                let i = stack[sp - 2] as u64;
                sp -= 2;
                let elems = &mut rt.tables[t as usize].elems;
                if i >= elems.len() as u64 {
                    return Err(Trap::TableOutOfBounds);
                }
                elems[i as usize] = v;
            }
            Op::TableSize(t) => {
                stack[sp] = rt.tables[t as usize].elems.len() as Slot;
                sp += 1;
            }
            Op::TableGrow { table, is64 } => {
                let n = stack[sp - 1] as u64;
                let init = stack[sp - 2] as u64;
                sp -= 1;
                stack[sp - 1] =
                    match rt.tables[table as usize].grow(n, init, limits.max_table_elems) {
                        Some(old) => old as Slot,
                        None if is64 => u64::MAX as Slot,
                        None => u32::MAX as Slot,
                    };
            }
            Op::TableFill(t) => {
                let (i, v, n) = pop3!();
                table::fill(&mut rt.tables[t as usize], i, v, n)?;
            }
            Op::TableCopy { dst, src } => {
                let (d, s, n) = pop3!();
                table::copy(&mut rt.tables, dst, src, d, s, n)?;
            }
            Op::TableInit { table, elem } => {
                let (d, s, n) = pop3!();
                let seg = &rt.elems[elem as usize];
                table::init(&mut rt.tables[table as usize], seg, d, s, n)?;
            }
            Op::ElemDrop(e) => rt.elems[e as usize] = Vec::new(),

            Op::MemorySize(m) => {
                stack[sp] = rt.memories[m as usize].pages() as Slot;
                sp += 1;
            }
            Op::MemoryGrow { mem, is64 } => {
                let n = stack[sp - 1] as u64;
                stack[sp - 1] = match rt.memories[mem as usize].grow(n, limits.max_memory_pages) {
                    Some(old) => old as Slot,
                    None if is64 => u64::MAX as Slot,
                    None => u32::MAX as Slot,
                };
            }
            Op::MemoryFill(m) => {
                let (d, v, n) = pop3!();
                memory::fill(&mut rt.memories[m as usize].data, d, v as u8, n)?;
            }
            Op::MemoryCopy { dst, src } => {
                let (d, s, n) = pop3!();
                memory::copy(&mut rt.memories, dst, src, d, s, n)?;
            }
            Op::MemoryInit { mem, data } => {
                let (d, s, n) = pop3!();
                let seg = &rt.datas[data as usize];
                memory::init(&mut rt.memories[mem as usize].data, seg, d, s, n)?;
            }
            Op::DataDrop(d) => rt.datas[d as usize] = Vec::new(),

            Op::I32Load(m) | Op::F32Load(m) => load!(m, 4, |b| u32::from_le_bytes(b) as Slot),
            Op::I64Load(m) | Op::F64Load(m) => load!(m, 8, |b| u64::from_le_bytes(b) as Slot),
            Op::I32Load8S(m) => load!(m, 1, |b: [u8; 1]| b[0] as i8 as i32 as u32 as Slot),
            Op::I32Load8U(m) | Op::I64Load8U(m) => load!(m, 1, |b: [u8; 1]| b[0] as Slot),
            Op::I32Load16S(m) => {
                load!(m, 2, |b| i16::from_le_bytes(b) as i32 as u32 as Slot)
            }
            Op::I32Load16U(m) | Op::I64Load16U(m) => {
                load!(m, 2, |b| u16::from_le_bytes(b) as Slot)
            }
            Op::I64Load8S(m) => load!(m, 1, |b: [u8; 1]| b[0] as i8 as i64 as u64 as Slot),
            Op::I64Load16S(m) => {
                load!(m, 2, |b| i16::from_le_bytes(b) as i64 as u64 as Slot)
            }
            Op::I64Load32S(m) => {
                load!(m, 4, |b| i32::from_le_bytes(b) as i64 as u64 as Slot)
            }
            Op::I64Load32U(m) => load!(m, 4, |b| u32::from_le_bytes(b) as Slot),
            Op::Store8(m) => store!(m, 1, u8),
            Op::Store16(m) => store!(m, 2, u16),
            Op::Store32(m) => store!(m, 4, u32),
            Op::Store64(m) => store!(m, 8, u64),

            Op::AddOffset { depth, lo, hi } => {
                let at = sp - depth as usize;
                let offset = (hi as u64) << 32 | lo as u64;
                let ea = (stack[at] as u64).checked_add(offset);
                stack[at] = ea.ok_or(Trap::MemoryOutOfBounds)? as Slot;
            }

            Op::V128Load(m) => load!(m, 16, u128::from_le_bytes),
            Op::V128Store(m) => store!(m, 16, u128),
            Op::V128Load8x8S(m) => load!(m, 8, |b| extend_lanes(b, 1, true)),
            Op::V128Load8x8U(m) => load!(m, 8, |b| extend_lanes(b, 1, false)),
            Op::V128Load16x4S(m) => load!(m, 8, |b| extend_lanes(b, 2, true)),
            Op::V128Load16x4U(m) => load!(m, 8, |b| extend_lanes(b, 2, false)),
            Op::V128Load32x2S(m) => load!(m, 8, |b| extend_lanes(b, 4, true)),
            Op::V128Load32x2U(m) => load!(m, 8, |b| extend_lanes(b, 4, false)),
            Op::V128Load8Splat(m) => load!(m, 1, |b: [u8; 1]| splat(b[0] as u64, 1)),
            Op::V128Load16Splat(m) => load!(m, 2, |b| splat(u16::from_le_bytes(b) as u64, 2)),
            Op::V128Load32Splat(m) => load!(m, 4, |b| splat(u32::from_le_bytes(b) as u64, 4)),
            Op::V128Load64Splat(m) => load!(m, 8, |b| splat(u64::from_le_bytes(b), 8)),
            Op::V128Load32Zero(m) => load!(m, 4, |b| u32::from_le_bytes(b) as Slot),
            Op::V128Load64Zero(m) => load!(m, 8, |b| u64::from_le_bytes(b) as Slot),
            Op::V128LoadLane { arg, bytes, lane } => {
                let v = stack[sp - 1];
                let addr = stack[sp - 2] as u64;
                sp -= 1;
                let mem = &rt.memories[arg.mem as usize].data;
                let at = memory::effective(mem, addr, arg.offset as u64, bytes as u64)?;
                let mut raw = [0u8; 16];
                raw[..bytes as usize].copy_from_slice(&mem[at..at + bytes as usize]);
                let (shift, mask) = lane_mask(bytes, lane);
                stack[sp - 1] = (v & !mask) | (u128::from_le_bytes(raw) << shift);
            }
            Op::V128StoreLane { arg, bytes, lane } => {
                let v = stack[sp - 1];
                let addr = stack[sp - 2] as u64;
                sp -= 2;
                let mem = &mut rt.memories[arg.mem as usize].data;
                let at = memory::effective(mem, addr, arg.offset as u64, bytes as u64)?;
                let (shift, _) = lane_mask(bytes, lane);
                let raw = (v >> shift).to_le_bytes();
                mem[at..at + bytes as usize].copy_from_slice(&raw[..bytes as usize]);
            }
            Op::Simd(i) => {
                let e = &code.simd[i as usize];
                let n = e.n as usize;
                let mut args = [Value::V128(0); 3];
                for (k, arg) in args.iter_mut().enumerate().take(n) {
                    *arg = slot_to_value(stack[sp - n + k], e.args[k]);
                }
                sp -= n;
                stack[sp] = value_to_slot(crate::simd::eval(&e.op, &args[..n]));
                sp += 1;
            }

            Op::I32Eqz => un::<u32, bool>(stack, sp, |a| a == 0),
            Op::I32Eq => bin::<u32, bool>(stack, &mut sp, |a, b| a == b),
            Op::I32Ne => bin::<u32, bool>(stack, &mut sp, |a, b| a != b),
            Op::I32LtS => bin::<i32, bool>(stack, &mut sp, |a, b| a < b),
            Op::I32LtU => bin::<u32, bool>(stack, &mut sp, |a, b| a < b),
            Op::I32GtS => bin::<i32, bool>(stack, &mut sp, |a, b| a > b),
            Op::I32GtU => bin::<u32, bool>(stack, &mut sp, |a, b| a > b),
            Op::I32LeS => bin::<i32, bool>(stack, &mut sp, |a, b| a <= b),
            Op::I32LeU => bin::<u32, bool>(stack, &mut sp, |a, b| a <= b),
            Op::I32GeS => bin::<i32, bool>(stack, &mut sp, |a, b| a >= b),
            Op::I32GeU => bin::<u32, bool>(stack, &mut sp, |a, b| a >= b),
            Op::I32Clz => un::<u32, u32>(stack, sp, |a| a.leading_zeros()),
            Op::I32Ctz => un::<u32, u32>(stack, sp, |a| a.trailing_zeros()),
            Op::I32Popcnt => un::<u32, u32>(stack, sp, |a| a.count_ones()),
            Op::I32Add => bin::<u32, u32>(stack, &mut sp, |a, b| a.wrapping_add(b)),
            Op::I32Sub => bin::<u32, u32>(stack, &mut sp, |a, b| a.wrapping_sub(b)),
            Op::I32Mul => bin::<u32, u32>(stack, &mut sp, |a, b| a.wrapping_mul(b)),
            Op::I32DivS => bin_t::<i32, i32>(stack, &mut sp, num::i32_div_s)?,
            Op::I32DivU => bin_t::<i32, i32>(stack, &mut sp, num::i32_div_u)?,
            Op::I32RemS => bin_t::<i32, i32>(stack, &mut sp, num::i32_rem_s)?,
            Op::I32RemU => bin_t::<i32, i32>(stack, &mut sp, num::i32_rem_u)?,
            Op::I32And => bin::<u32, u32>(stack, &mut sp, |a, b| a & b),
            Op::I32Or => bin::<u32, u32>(stack, &mut sp, |a, b| a | b),
            Op::I32Xor => bin::<u32, u32>(stack, &mut sp, |a, b| a ^ b),
            Op::I32Shl => bin::<u32, u32>(stack, &mut sp, |a, b| a.wrapping_shl(b)),
            Op::I32ShrS => bin::<i32, i32>(stack, &mut sp, |a, b| a.wrapping_shr(b as u32)),
            Op::I32ShrU => bin::<u32, u32>(stack, &mut sp, |a, b| a.wrapping_shr(b)),
            Op::I32Rotl => bin::<u32, u32>(stack, &mut sp, |a, b| a.rotate_left(b)),
            Op::I32Rotr => bin::<u32, u32>(stack, &mut sp, |a, b| a.rotate_right(b)),
            Op::I32Extend8S => un::<i32, i32>(stack, sp, |a| a as i8 as i32),
            Op::I32Extend16S => un::<i32, i32>(stack, sp, |a| a as i16 as i32),

            Op::I64Eqz => un::<u64, bool>(stack, sp, |a| a == 0),
            Op::I64Eq => bin::<u64, bool>(stack, &mut sp, |a, b| a == b),
            Op::I64Ne => bin::<u64, bool>(stack, &mut sp, |a, b| a != b),
            Op::I64LtS => bin::<i64, bool>(stack, &mut sp, |a, b| a < b),
            Op::I64LtU => bin::<u64, bool>(stack, &mut sp, |a, b| a < b),
            Op::I64GtS => bin::<i64, bool>(stack, &mut sp, |a, b| a > b),
            Op::I64GtU => bin::<u64, bool>(stack, &mut sp, |a, b| a > b),
            Op::I64LeS => bin::<i64, bool>(stack, &mut sp, |a, b| a <= b),
            Op::I64LeU => bin::<u64, bool>(stack, &mut sp, |a, b| a <= b),
            Op::I64GeS => bin::<i64, bool>(stack, &mut sp, |a, b| a >= b),
            Op::I64GeU => bin::<u64, bool>(stack, &mut sp, |a, b| a >= b),
            Op::I64Clz => un::<u64, u64>(stack, sp, |a| a.leading_zeros() as u64),
            Op::I64Ctz => un::<u64, u64>(stack, sp, |a| a.trailing_zeros() as u64),
            Op::I64Popcnt => un::<u64, u64>(stack, sp, |a| a.count_ones() as u64),
            Op::I64Add => bin::<u64, u64>(stack, &mut sp, |a, b| a.wrapping_add(b)),
            Op::I64Sub => bin::<u64, u64>(stack, &mut sp, |a, b| a.wrapping_sub(b)),
            Op::I64Mul => bin::<u64, u64>(stack, &mut sp, |a, b| a.wrapping_mul(b)),
            Op::I64DivS => bin_t::<i64, i64>(stack, &mut sp, num::i64_div_s)?,
            Op::I64DivU => bin_t::<i64, i64>(stack, &mut sp, num::i64_div_u)?,
            Op::I64RemS => bin_t::<i64, i64>(stack, &mut sp, num::i64_rem_s)?,
            Op::I64RemU => bin_t::<i64, i64>(stack, &mut sp, num::i64_rem_u)?,
            Op::I64And => bin::<u64, u64>(stack, &mut sp, |a, b| a & b),
            Op::I64Or => bin::<u64, u64>(stack, &mut sp, |a, b| a | b),
            Op::I64Xor => bin::<u64, u64>(stack, &mut sp, |a, b| a ^ b),
            Op::I64Shl => bin::<u64, u64>(stack, &mut sp, |a, b| a.wrapping_shl(b as u32)),
            Op::I64ShrS => bin::<i64, i64>(stack, &mut sp, |a, b| a.wrapping_shr(b as u32)),
            Op::I64ShrU => bin::<u64, u64>(stack, &mut sp, |a, b| a.wrapping_shr(b as u32)),
            Op::I64Rotl => bin::<u64, u64>(stack, &mut sp, |a, b| a.rotate_left(b as u32)),
            Op::I64Rotr => bin::<u64, u64>(stack, &mut sp, |a, b| a.rotate_right(b as u32)),
            Op::I64Extend8S => un::<i64, i64>(stack, sp, |a| a as i8 as i64),
            Op::I64Extend16S => un::<i64, i64>(stack, sp, |a| a as i16 as i64),
            Op::I64Extend32S => un::<i64, i64>(stack, sp, |a| a as i32 as i64),

            Op::F32Eq => bin::<f32, bool>(stack, &mut sp, |a, b| a == b),
            Op::F32Ne => bin::<f32, bool>(stack, &mut sp, |a, b| a != b),
            Op::F32Lt => bin::<f32, bool>(stack, &mut sp, |a, b| a < b),
            Op::F32Gt => bin::<f32, bool>(stack, &mut sp, |a, b| a > b),
            Op::F32Le => bin::<f32, bool>(stack, &mut sp, |a, b| a <= b),
            Op::F32Ge => bin::<f32, bool>(stack, &mut sp, |a, b| a >= b),
            Op::F32Abs => un::<u32, u32>(stack, sp, |a| a & 0x7fff_ffff),
            Op::F32Neg => un::<u32, u32>(stack, sp, |a| a ^ 0x8000_0000),
            Op::F32Ceil => un::<f32, f32>(stack, sp, |a| quieting(a, f32::ceil)),
            Op::F32Floor => un::<f32, f32>(stack, sp, |a| quieting(a, f32::floor)),
            Op::F32Trunc => un::<f32, f32>(stack, sp, |a| quieting(a, f32::trunc)),
            Op::F32Nearest => un::<f32, f32>(stack, sp, num::fnearest),
            Op::F32Sqrt => un::<f32, f32>(stack, sp, |a| quieting(a, f32::sqrt)),
            Op::F32Add => bin::<f32, f32>(stack, &mut sp, |a, b| a + b),
            Op::F32Sub => bin::<f32, f32>(stack, &mut sp, |a, b| a - b),
            Op::F32Mul => bin::<f32, f32>(stack, &mut sp, |a, b| a * b),
            Op::F32Div => bin::<f32, f32>(stack, &mut sp, |a, b| a / b),
            Op::F32Min => bin::<f32, f32>(stack, &mut sp, num::fmin),
            Op::F32Max => bin::<f32, f32>(stack, &mut sp, num::fmax),
            Op::F32Copysign => {
                bin::<u32, u32>(stack, &mut sp, |a, b| (a & 0x7fff_ffff) | (b & 0x8000_0000))
            }

            Op::F64Eq => bin::<f64, bool>(stack, &mut sp, |a, b| a == b),
            Op::F64Ne => bin::<f64, bool>(stack, &mut sp, |a, b| a != b),
            Op::F64Lt => bin::<f64, bool>(stack, &mut sp, |a, b| a < b),
            Op::F64Gt => bin::<f64, bool>(stack, &mut sp, |a, b| a > b),
            Op::F64Le => bin::<f64, bool>(stack, &mut sp, |a, b| a <= b),
            Op::F64Ge => bin::<f64, bool>(stack, &mut sp, |a, b| a >= b),
            Op::F64Abs => un::<u64, u64>(stack, sp, |a| a & !(1 << 63)),
            Op::F64Neg => un::<u64, u64>(stack, sp, |a| a ^ (1 << 63)),
            Op::F64Ceil => un::<f64, f64>(stack, sp, |a| quieting(a, f64::ceil)),
            Op::F64Floor => un::<f64, f64>(stack, sp, |a| quieting(a, f64::floor)),
            Op::F64Trunc => un::<f64, f64>(stack, sp, |a| quieting(a, f64::trunc)),
            Op::F64Nearest => un::<f64, f64>(stack, sp, num::fnearest),
            Op::F64Sqrt => un::<f64, f64>(stack, sp, |a| quieting(a, f64::sqrt)),
            Op::F64Add => bin::<f64, f64>(stack, &mut sp, |a, b| a + b),
            Op::F64Sub => bin::<f64, f64>(stack, &mut sp, |a, b| a - b),
            Op::F64Mul => bin::<f64, f64>(stack, &mut sp, |a, b| a * b),
            Op::F64Div => bin::<f64, f64>(stack, &mut sp, |a, b| a / b),
            Op::F64Min => bin::<f64, f64>(stack, &mut sp, num::fmin),
            Op::F64Max => bin::<f64, f64>(stack, &mut sp, num::fmax),
            Op::F64Copysign => {
                bin::<u64, u64>(stack, &mut sp, |a, b| (a & !(1 << 63)) | (b & (1 << 63)))
            }

            Op::I32WrapI64 => un::<u64, u32>(stack, sp, |a| a as u32),
            Op::I32TruncF32S => un_t::<f32, i32>(stack, sp, num::f32_to_i32)?,
            Op::I32TruncF32U => un_t::<f32, u32>(stack, sp, num::f32_to_u32)?,
            Op::I32TruncF64S => un_t::<f64, i32>(stack, sp, num::f64_to_i32)?,
            Op::I32TruncF64U => un_t::<f64, u32>(stack, sp, num::f64_to_u32)?,
            Op::I64ExtendI32S => un::<i32, i64>(stack, sp, |a| a as i64),
            Op::I64TruncF32S => un_t::<f32, i64>(stack, sp, num::f32_to_i64)?,
            Op::I64TruncF32U => un_t::<f32, u64>(stack, sp, num::f32_to_u64)?,
            Op::I64TruncF64S => un_t::<f64, i64>(stack, sp, num::f64_to_i64)?,
            Op::I64TruncF64U => un_t::<f64, u64>(stack, sp, num::f64_to_u64)?,
            Op::F32ConvertI32S => un::<i32, f32>(stack, sp, |a| a as f32),
            Op::F32ConvertI32U => un::<u32, f32>(stack, sp, |a| a as f32),
            Op::F32ConvertI64S => un::<i64, f32>(stack, sp, |a| a as f32),
            Op::F32ConvertI64U => un::<u64, f32>(stack, sp, |a| a as f32),
            Op::F32DemoteF64 => un::<f64, f32>(stack, sp, |a| quieting(a, |x| x as f32)),
            Op::F64ConvertI32S => un::<i32, f64>(stack, sp, |a| a as f64),
            Op::F64ConvertI32U => un::<u32, f64>(stack, sp, |a| a as f64),
            Op::F64ConvertI64S => un::<i64, f64>(stack, sp, |a| a as f64),
            Op::F64ConvertI64U => un::<u64, f64>(stack, sp, |a| a as f64),
            Op::F64PromoteF32 => un::<f32, f64>(stack, sp, |a| quieting(a, |x| x as f64)),
            Op::I32TruncSatF32S => un::<f32, i32>(stack, sp, |a| a as i32),
            Op::I32TruncSatF32U => un::<f32, u32>(stack, sp, |a| a as u32),
            Op::I32TruncSatF64S => un::<f64, i32>(stack, sp, |a| a as i32),
            Op::I32TruncSatF64U => un::<f64, u32>(stack, sp, |a| a as u32),
            Op::I64TruncSatF32S => un::<f32, i64>(stack, sp, |a| a as i64),
            Op::I64TruncSatF32U => un::<f32, u64>(stack, sp, |a| a as u64),
            Op::I64TruncSatF64S => un::<f64, i64>(stack, sp, |a| a as i64),
            Op::I64TruncSatF64U => un::<f64, u64>(stack, sp, |a| a as u64),
        }
    }
}
