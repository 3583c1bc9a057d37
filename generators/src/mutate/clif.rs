//! Structural mutations of CLIF cases, checked by the verifier.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64, Imm64};
use cranelift_codegen::ir::{ConstantData, Function, Inst, InstructionData, Opcode, Type};
use cranelift_codegen::settings;

use super::ATTEMPTS;
use crate::clif::table::{self, nan_rule};
use crate::clif::{data_value, float_conditions};
use crate::dict;
use crate::rng::Rng;
use crate::testcase::{ClifCase, ClifRun};

/// Applies one mutation to `case` (every function still verifies).
pub fn mutate(case: &mut ClifCase, r: &mut Rng<'_>) -> &'static str {
    let pulley = case.header.iter().any(|h| h.contains("pulley"));
    for _ in 0..ATTEMPTS {
        if case.functions.is_empty() || r.chance(1, 4) {
            break;
        }
        let f = r.index(case.functions.len());
        let mut func = case.functions[f].function.clone();
        let Some(name) = mutate_function(&mut func, pulley, r) else {
            continue;
        };
        let flags = settings::Flags::new(settings::builder());
        if cranelift_codegen::verify_function(&func, &flags).is_ok() {
            case.functions[f].function = func;
            return name;
        }
    }
    mutate_runs(case, r)
}

fn instructions(func: &Function) -> Vec<Inst> {
    func.layout
        .blocks()
        .flat_map(|b| func.layout.block_insts(b).collect::<Vec<_>>())
        .collect()
}

fn mutate_function(func: &mut Function, pulley: bool, r: &mut Rng<'_>) -> Option<&'static str> {
    let insts = instructions(func);
    match r.below(3) {
        0 => change_constant(func, &insts, r),
        1 => swap_opcode(func, &insts, pulley, r),
        _ => change_condition(func, &insts, pulley, r),
    }
}

fn change_constant(func: &mut Function, insts: &[Inst], r: &mut Rng<'_>) -> Option<&'static str> {
    let consts: Vec<Inst> = insts
        .iter()
        .copied()
        .filter(|&i| {
            matches!(
                func.dfg.insts[i].opcode(),
                Opcode::Iconst | Opcode::F32const | Opcode::F64const | Opcode::Vconst
            )
        })
        .collect();
    let inst = *r.pick(&consts)?;
    let ty = func.dfg.ctrl_typevar(inst);
    let new_constant = if func.dfg.insts[inst].opcode() == Opcode::Vconst {
        let bytes = dict::pick_v128(r).to_le_bytes();
        Some(func.dfg.constants.insert(ConstantData::from(&bytes[..])))
    } else {
        None
    };
    match &mut func.dfg.insts[inst] {
        InstructionData::UnaryImm { imm, .. } => {
            *imm = Imm64::new(dict::pick_int(r, ty.bits()) as u64 as i64);
        }
        InstructionData::UnaryIeee32 { imm, .. } => *imm = Ieee32::with_bits(dict::pick_f32(r)),
        InstructionData::UnaryIeee64 { imm, .. } => *imm = Ieee64::with_bits(dict::pick_f64(r)),
        InstructionData::UnaryConst {
            constant_handle, ..
        } => *constant_handle = new_constant?,
        _ => return None,
    }
    Some("change-constant")
}

/// The table signature of an instruction.
fn signature(func: &Function, inst: Inst) -> (Type, Vec<Type>, Vec<Type>) {
    let dfg = &func.dfg;
    let args = dfg
        .inst_args(inst)
        .iter()
        .map(|&v| dfg.value_type(v))
        .collect();
    let rets = dfg
        .inst_results(inst)
        .iter()
        .map(|&v| dfg.value_type(v))
        .collect();
    (dfg.ctrl_typevar(inst), args, rets)
}

fn swap_opcode(
    func: &mut Function,
    insts: &[Inst],
    pulley: bool,
    r: &mut Rng<'_>,
) -> Option<&'static str> {
    let candidates: Vec<Inst> = insts
        .iter()
        .copied()
        .filter(|&i| {
            matches!(
                func.dfg.insts[i],
                InstructionData::Unary { .. }
                    | InstructionData::Binary { .. }
                    | InstructionData::Ternary { .. }
            )
        })
        .collect();
    let inst = *r.pick(&candidates)?;
    let old = func.dfg.insts[inst].opcode();
    let (ctrl, args, rets) = signature(func, inst);
    let same: Vec<Opcode> = table::table()
        .iter()
        .filter(|o| o.opcode != old && o.opcode.format() == old.format())
        .filter(|o| o.ctrl == ctrl && o.args == args && o.rets == rets)
        .filter(|o| nan_rule(o.opcode) == nan_rule(old) && (o.pulley || !pulley))
        .map(|o| o.opcode)
        .collect();
    let new = *r.pick(&same)?;
    match &mut func.dfg.insts[inst] {
        InstructionData::Unary { opcode, .. }
        | InstructionData::Binary { opcode, .. }
        | InstructionData::Ternary { opcode, .. } => *opcode = new,
        _ => return None,
    }
    Some("swap-opcode")
}

fn change_condition(
    func: &mut Function,
    insts: &[Inst],
    pulley: bool,
    r: &mut Rng<'_>,
) -> Option<&'static str> {
    let compares: Vec<Inst> = insts
        .iter()
        .copied()
        .filter(|&i| matches!(func.dfg.insts[i].opcode(), Opcode::Icmp | Opcode::Fcmp))
        .collect();
    let inst = *r.pick(&compares)?;
    let vector = func.dfg.ctrl_typevar(inst).is_vector();
    match &mut func.dfg.insts[inst] {
        InstructionData::IntCompare { cond, .. } => *cond = *r.pick(IntCC::all())?,
        InstructionData::FloatCompare { cond, .. } => {
            *cond = *r.pick(&float_conditions(vector, pulley))?
        }
        _ => return None,
    }
    Some("change-condition")
}

/// Changes, adds or removes a run line (always valid).
fn mutate_runs(case: &mut ClifCase, r: &mut Rng<'_>) -> &'static str {
    if case.functions.is_empty() {
        return "none";
    }
    let f = r.index(case.functions.len());
    let cf = &mut case.functions[f];
    let params: Vec<Type> = cf
        .function
        .signature
        .params
        .iter()
        .map(|p| p.value_type)
        .collect();
    let name = cf
        .function
        .name
        .to_string()
        .trim_start_matches('%')
        .to_string();
    match r.below(3) {
        0 if !params.is_empty() && !cf.runs.is_empty() => {
            let k = r.index(cf.runs.len());
            let run = &mut cf.runs[k];
            if run.args.len() == params.len() {
                let a = r.index(params.len());
                run.args[a] = data_value(r, params[a]);
                run.expect = None;
            }
            "change-argument"
        }
        1 if cf.runs.len() > 1 => {
            let k = r.index(cf.runs.len());
            cf.runs.remove(k);
            "remove-run"
        }
        _ => {
            let args = params.iter().map(|&t| data_value(r, t)).collect();
            cf.runs.push(ClifRun {
                func: name,
                args,
                expect: None,
            });
            "add-run"
        }
    }
}
