//! Re-pointing an export at another function, so that a finding buried
//! in a callee can be invoked directly (its caller then becomes dead code
//! for `wasm-shrink` to remove).

use shoal_runtime::Value;
use wasmparser::{CompositeInnerType, ExternalKind, Parser, Payload, ValType};

use super::body::write_leb;

/// A defined function: its index in the function index space and the zero
/// arguments to call it with (`None` if a parameter has no zero shoal can
/// pass).
pub struct Callee {
    /// Function index.
    pub index: u32,
    /// One zero per parameter.
    pub zeros: Option<Vec<Value>>,
}

/// Every defined function of the module, in order.
pub fn callees(module: &[u8]) -> Option<Vec<Callee>> {
    let mut types: Vec<Option<Vec<ValType>>> = Vec::new();
    let mut imported = 0;
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        match payload.ok()? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub in group.ok()?.into_types() {
                        types.push(match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(f.params().to_vec()),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import.ok()?.ty, wasmparser::TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    let params = types.get(ty.ok()? as usize)?.as_ref()?;
                    let zeros = params.iter().map(|t| zero(*t)).collect();
                    out.push(Callee {
                        index: imported + out.len() as u32,
                        zeros,
                    });
                }
            }
            _ => {}
        }
    }
    Some(out)
}

fn zero(ty: ValType) -> Option<Value> {
    Some(match ty {
        ValType::I32 => Value::I32(0),
        ValType::I64 => Value::I64(0),
        ValType::F32 => Value::F32(0),
        ValType::F64 => Value::F64(0),
        ValType::V128 => Value::V128(0),
        ValType::Ref(r) if r == wasmparser::RefType::FUNCREF => Value::FuncRef(None),
        ValType::Ref(r) if r == wasmparser::RefType::EXTERNREF => Value::ExternRef(None),
        ValType::Ref(_) => return None,
    })
}

/// The module with function export `name` pointing at function `index`;
/// `None` if there is no such export or the module does not parse.
pub fn retarget(module: &[u8], name: &str, index: u32) -> Option<Vec<u8>> {
    let mut out = module.get(..8)?.to_vec();
    let mut found = false;
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.ok()?;
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let range = range.start as usize..range.end as usize;
        let data = match &payload {
            Payload::ExportSection(reader) => {
                let mut data = Vec::new();
                write_leb(&mut data, u64::from(reader.count()));
                for export in reader.clone() {
                    let export = export.ok()?;
                    let mut target = export.index;
                    if export.name == name && export.kind == ExternalKind::Func {
                        target = index;
                        found = true;
                    }
                    write_leb(&mut data, export.name.len() as u64);
                    data.extend_from_slice(export.name.as_bytes());
                    data.push(kind_byte(export.kind)?);
                    write_leb(&mut data, u64::from(target));
                }
                data
            }
            _ => module[range].to_vec(),
        };
        out.push(id);
        write_leb(&mut out, data.len() as u64);
        out.extend_from_slice(&data);
    }
    found.then_some(out)
}

fn kind_byte(kind: ExternalKind) -> Option<u8> {
    Some(match kind {
        ExternalKind::Func => 0x00,
        ExternalKind::Table => 0x01,
        ExternalKind::Memory => 0x02,
        ExternalKind::Global => 0x03,
        ExternalKind::Tag => 0x04,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wat(text: &str) -> Vec<u8> {
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        let mut module = wast::parser::parse::<wast::Wat>(&buf).unwrap();
        module.encode().unwrap()
    }

    #[test]
    fn exports_move_to_the_callee() {
        let module = wat(r#"(module
                 (global (export "g") (mut i32) (i32.const 0))
                 (func (export "f") (result i32) i32.const 1 i64.const 2 call 1)
                 (func (param i32 i64) (result i32) local.get 0))"#);
        let callees = callees(&module).unwrap();
        assert_eq!(callees.len(), 2);
        assert_eq!(
            callees[1].zeros.as_deref(),
            Some(&[Value::I32(0), Value::I64(0)][..])
        );
        let moved = retarget(&module, "f", 1).unwrap();
        let expected = wat(r#"(module
                 (global (export "g") (mut i32) (i32.const 0))
                 (func (result i32) i32.const 1 i64.const 2 call 1)
                 (func (export "f") (param i32 i64) (result i32) local.get 0))"#);
        let m = shoal_runtime::Module::new(&moved).unwrap();
        let e = m.export("f").unwrap();
        assert_eq!(e.index, 1);
        assert_eq!(moved.len(), expected.len());
        assert!(retarget(&module, "g", 1).is_none(), "not a function export");
        assert!(retarget(&module, "nope", 1).is_none());
    }
}
