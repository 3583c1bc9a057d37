//! A copy of a module that exports every function, table, memory and
//! global (imported and defined) under reserved names, so an adapter can
//! reach every entity of an instance — and so map a function reference an
//! external engine hands back to the store address shoal's engines give it.
//!
//! Only the export section changes (it is replaced, or inserted where the
//! binary format puts it); every other section is copied byte for byte.

use crate::module::{ExternKind, Module};

/// The reserved export names of a rewritten module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportNames {
    prefix: String,
}

impl ExportNames {
    /// Name of function `index` (function index space).
    pub fn func(&self, index: u32) -> String {
        format!("{}f{index}", self.prefix)
    }

    /// Name of table `index`.
    pub fn table(&self, index: u32) -> String {
        format!("{}t{index}", self.prefix)
    }

    /// Name of memory `index`.
    pub fn memory(&self, index: u32) -> String {
        format!("{}m{index}", self.prefix)
    }

    /// Name of global `index`.
    pub fn global(&self, index: u32) -> String {
        format!("{}g{index}", self.prefix)
    }

    /// A prefix no export of `module` starts with.
    fn for_module(module: &Module) -> ExportNames {
        let mut prefix = String::from("\u{1}shoal:");
        while module.exports.iter().any(|e| e.name.starts_with(&prefix)) {
            prefix.insert(0, '\u{1}');
        }
        ExportNames { prefix }
    }
}

const EXPORT_SECTION: u8 = 7;
/// Sections that must come after the export section.
const AFTER_EXPORTS: [u8; 5] = [8, 9, 12, 10, 11];

/// The module's binary with every entity exported, and the names used.
pub fn export_everything(module: &Module) -> Result<(Vec<u8>, ExportNames), String> {
    let names = ExportNames::for_module(module);
    let section = export_section(module, &names);
    let bytes = module.bytes();
    if bytes.len() < 8 {
        return Err("module shorter than its header".into());
    }
    let mut out = Vec::with_capacity(bytes.len() + section.len());
    out.extend_from_slice(&bytes[..8]);
    let mut placed = false;
    let mut pos = 8;
    while pos < bytes.len() {
        let id = bytes[pos];
        let (size, leb_len) = read_u32(&bytes[pos + 1..]).ok_or("malformed section size")?;
        let end = pos + 1 + leb_len + size as usize;
        if end > bytes.len() {
            return Err("section extends past the end of the module".into());
        }
        if id == EXPORT_SECTION {
            out.extend_from_slice(&section);
            placed = true;
        } else {
            if !placed && AFTER_EXPORTS.contains(&id) {
                out.extend_from_slice(&section);
                placed = true;
            }
            out.extend_from_slice(&bytes[pos..end]);
        }
        pos = end;
    }
    if !placed {
        out.extend_from_slice(&section);
    }
    Ok((out, names))
}

/// The complete export section: the module's exports, then the reserved ones.
fn export_section(module: &Module, names: &ExportNames) -> Vec<u8> {
    let mut entries: Vec<(String, u8, u32)> = module
        .exports
        .iter()
        .map(|e| (e.name.clone(), kind_byte(e.kind), e.index))
        .collect();
    let spaces = [
        (ExternKind::Func, module.funcs.len()),
        (ExternKind::Table, module.tables.len()),
        (ExternKind::Memory, module.memories.len()),
        (ExternKind::Global, module.globals.len()),
    ];
    for (kind, count) in spaces {
        for i in 0..count as u32 {
            let name = match kind {
                ExternKind::Func => names.func(i),
                ExternKind::Table => names.table(i),
                ExternKind::Memory => names.memory(i),
                ExternKind::Global => names.global(i),
            };
            entries.push((name, kind_byte(kind), i));
        }
    }
    let mut contents = Vec::new();
    write_u32(&mut contents, entries.len() as u32);
    for (name, kind, index) in entries {
        write_u32(&mut contents, name.len() as u32);
        contents.extend_from_slice(name.as_bytes());
        contents.push(kind);
        write_u32(&mut contents, index);
    }
    let mut section = vec![EXPORT_SECTION];
    write_u32(&mut section, contents.len() as u32);
    section.extend_from_slice(&contents);
    section
}

fn kind_byte(kind: ExternKind) -> u8 {
    match kind {
        ExternKind::Func => 0,
        ExternKind::Table => 1,
        ExternKind::Memory => 2,
        ExternKind::Global => 3,
    }
}

fn write_u32(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Decodes an unsigned LEB128 `u32`: the value and its encoded length.
fn read_u32(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().take(5).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(value).ok().map(|v| (v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::external::wat_module as wat;

    fn exports_of(bytes: &[u8]) -> Vec<(String, ExternKind, u32)> {
        Module::new(bytes)
            .expect("rewritten module validates")
            .exports
            .into_iter()
            .map(|e| (e.name, e.kind, e.index))
            .collect()
    }

    #[test]
    fn adds_every_entity_and_keeps_the_rest() {
        let m = wat(r#"(module
            (import "env" "g" (global i32))
            (memory 1) (table 2 funcref)
            (func $a (export "a") (result i32) i32.const 1)
            (func $b)
            (start $b)
            (elem (i32.const 0) func $a $b)
            (data (i32.const 0) "hi"))"#);
        let (bytes, names) = export_everything(&m).unwrap();
        let exports = exports_of(&bytes);
        assert_eq!(exports[0], ("a".to_string(), ExternKind::Func, 0));
        for (name, kind, index) in [
            (names.func(0), ExternKind::Func, 0),
            (names.func(1), ExternKind::Func, 1),
            (names.table(0), ExternKind::Table, 0),
            (names.memory(0), ExternKind::Memory, 0),
            (names.global(0), ExternKind::Global, 0),
        ] {
            assert!(exports.contains(&(name, kind, index)));
        }
        let again = Module::new(&bytes).unwrap();
        assert_eq!(again.start, m.start);
        assert_eq!(again.datas.len(), 1);
        assert_eq!(again.bodies.len(), 2);
    }

    #[test]
    fn inserts_a_section_when_there_is_none_and_avoids_name_clashes() {
        let m = wat("(module (func) (func))");
        let (bytes, names) = export_everything(&m).unwrap();
        assert_eq!(exports_of(&bytes).len(), 2);
        let m = wat(r#"(module (func (export "\01shoal:f0")))"#);
        let (bytes, names2) = export_everything(&m).unwrap();
        assert_ne!(names, names2);
        assert_eq!(exports_of(&bytes).len(), 2);
        let empty = wat("(module)");
        assert!(exports_of(&export_everything(&empty).unwrap().0).is_empty());
    }
}
