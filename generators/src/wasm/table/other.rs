//! Control, parametric, variable, memory, table and reference instructions.

use shoal_runtime::ValType;
use wasm_encoder::Instruction;

use super::Feature::{BulkMemory, Mvp, ReferenceTypes, TailCall};
use super::Rarity::{Common, Rare, Starved, Uncommon};
use super::{Feature, Instr, Kind, MemEnc, NanFlow, Rarity, Special};

/// Adds the remaining entries.
pub(super) fn entries(t: &mut Vec<Instr>) {
    scalar_memory(t);
    use Special as S;
    let specials: [(&'static str, Feature, Rarity, Special); 38] = [
        ("Unreachable", Mvp, Rare, S::Unreachable),
        ("Nop", Mvp, Common, S::Nop),
        ("Block", Mvp, Uncommon, S::Block),
        ("Loop", Mvp, Rare, S::Loop),
        ("If", Mvp, Uncommon, S::If),
        ("Br", Mvp, Rare, S::Br),
        ("BrIf", Mvp, Rare, S::BrIf),
        ("BrTable", Mvp, Starved, S::BrTable),
        ("Return", Mvp, Rare, S::Return),
        ("Call", Mvp, Uncommon, S::Call),
        ("CallIndirect", Mvp, Starved, S::CallIndirect),
        ("ReturnCall", TailCall, Starved, S::ReturnCall),
        (
            "ReturnCallIndirect",
            TailCall,
            Starved,
            S::ReturnCallIndirect,
        ),
        ("Drop", Mvp, Common, S::Drop),
        ("Select", Mvp, Rare, S::Select),
        ("TypedSelect", ReferenceTypes, Rare, S::TypedSelect),
        ("LocalGet", Mvp, Common, S::LocalGet),
        ("LocalSet", Mvp, Common, S::LocalSet),
        ("LocalTee", Mvp, Uncommon, S::LocalTee),
        ("GlobalGet", Mvp, Common, S::GlobalGet),
        ("GlobalSet", Mvp, Uncommon, S::GlobalSet),
        ("MemorySize", Mvp, Rare, S::MemorySize),
        ("MemoryGrow", Mvp, Rare, S::MemoryGrow),
        ("MemoryInit", BulkMemory, Starved, S::MemoryInit),
        ("DataDrop", BulkMemory, Rare, S::DataDrop),
        ("MemoryCopy", BulkMemory, Starved, S::MemoryCopy),
        ("MemoryFill", BulkMemory, Starved, S::MemoryFill),
        ("TableInit", BulkMemory, Starved, S::TableInit),
        ("ElemDrop", BulkMemory, Rare, S::ElemDrop),
        ("TableCopy", BulkMemory, Starved, S::TableCopy),
        ("TableFill", ReferenceTypes, Starved, S::TableFill),
        ("TableGet", ReferenceTypes, Starved, S::TableGet),
        ("TableSet", ReferenceTypes, Starved, S::TableSet),
        ("TableGrow", ReferenceTypes, Starved, S::TableGrow),
        ("TableSize", ReferenceTypes, Rare, S::TableSize),
        ("RefNull", ReferenceTypes, Uncommon, S::RefNull),
        ("RefIsNull", ReferenceTypes, Rare, S::RefIsNull),
        ("RefFunc", ReferenceTypes, Rare, S::RefFunc),
    ];
    for (name, feature, rarity, special) in specials {
        // Select passes NaNs through; every other special handles its own.
        let nan = NanFlow::Exact;
        t.push(Instr::new(
            name,
            feature,
            rarity,
            nan,
            Kind::Special(special),
        ));
    }
}

fn scalar_memory(t: &mut Vec<Instr>) {
    use ValType::{F32, F64, I32, I64};
    let loads: [(&'static str, ValType, u32, Rarity, MemEnc); 14] = [
        ("I32Load", I32, 4, Common, Instruction::I32Load),
        ("I64Load", I64, 8, Common, Instruction::I64Load),
        ("F32Load", F32, 4, Uncommon, Instruction::F32Load),
        ("F64Load", F64, 8, Uncommon, Instruction::F64Load),
        ("I32Load8S", I32, 1, Rare, Instruction::I32Load8S),
        ("I32Load8U", I32, 1, Rare, Instruction::I32Load8U),
        ("I32Load16S", I32, 2, Rare, Instruction::I32Load16S),
        ("I32Load16U", I32, 2, Rare, Instruction::I32Load16U),
        ("I64Load8S", I64, 1, Rare, Instruction::I64Load8S),
        ("I64Load8U", I64, 1, Rare, Instruction::I64Load8U),
        ("I64Load16S", I64, 2, Rare, Instruction::I64Load16S),
        ("I64Load16U", I64, 2, Rare, Instruction::I64Load16U),
        ("I64Load32S", I64, 4, Rare, Instruction::I64Load32S),
        ("I64Load32U", I64, 4, Rare, Instruction::I64Load32U),
    ];
    for (name, ty, bytes, rarity, enc) in loads {
        let kind = Kind::Load { ty, bytes, enc };
        t.push(Instr::new(name, Mvp, rarity, NanFlow::Exact, kind));
    }
    let stores: [(&'static str, ValType, u32, Rarity, MemEnc); 9] = [
        ("I32Store", I32, 4, Common, Instruction::I32Store),
        ("I64Store", I64, 8, Common, Instruction::I64Store),
        ("F32Store", F32, 4, Uncommon, Instruction::F32Store),
        ("F64Store", F64, 8, Uncommon, Instruction::F64Store),
        ("I32Store8", I32, 1, Rare, Instruction::I32Store8),
        ("I32Store16", I32, 2, Rare, Instruction::I32Store16),
        ("I64Store8", I64, 1, Rare, Instruction::I64Store8),
        ("I64Store16", I64, 2, Rare, Instruction::I64Store16),
        ("I64Store32", I64, 4, Rare, Instruction::I64Store32),
    ];
    for (name, ty, bytes, rarity, enc) in stores {
        let kind = Kind::Store { ty, bytes, enc };
        t.push(Instr::new(name, Mvp, rarity, NanFlow::Exact, kind));
    }
}
