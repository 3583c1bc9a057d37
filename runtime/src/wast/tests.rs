//! Tests of the harness against a mock store that runs no wasm code: it
//! instantiates modules without function bodies (imports, exports, globals,
//! memories, tables, data segments) and calls host functions. That covers
//! linking, registration, skipping, matching and panic containment without
//! depending on a real engine.

use std::path::{Path, PathBuf};

use super::engines::EngineSpec;
use super::report::{FileReport, FileStatus};
use super::{run_script, script_limits, suite};
use crate::engine::{
    Engine, Extern, GlobalAddr, HostFunc, InstanceId, InstantiateError, MemAddr, Store, TableAddr,
    check_imports,
};
use crate::module::{DataMode, ExternKind, ExternType, Module};
use crate::trap::{Limits, Trap};
use crate::values::{FuncAddr, FuncType, GlobalType, MemoryType, PAGE_SIZE, TableType, Value};

struct MockEngine;

impl Engine for MockEngine {
    fn name(&self) -> String {
        "mock".into()
    }
    fn new_store(&self, _limits: Limits) -> Box<dyn Store> {
        Box::new(MockStore::default())
    }
}

fn mock_engine() -> Box<dyn Engine> {
    Box::new(MockEngine)
}

#[derive(Default)]
struct MockStore {
    funcs: Vec<(FuncType, HostFunc)>,
    globals: Vec<(GlobalType, Value)>,
    memories: Vec<(MemoryType, Vec<u8>)>,
    tables: Vec<(TableType, Vec<Value>)>,
    instances: Vec<Vec<(String, Extern)>>,
}

impl MockStore {
    fn index_spaces(&mut self, module: &Module, imports: &[Extern]) -> [Vec<u32>; 4] {
        let mut spaces: [Vec<u32>; 4] = Default::default();
        for e in imports {
            match *e {
                Extern::Func(a) => spaces[0].push(a),
                Extern::Table(a) => spaces[1].push(a),
                Extern::Memory(a) => spaces[2].push(a),
                Extern::Global(a) => spaces[3].push(a),
            }
        }
        for t in &module.tables[module.num_imported_tables as usize..] {
            spaces[1].push(self.alloc_table(*t, Value::default_for(t.elem)));
        }
        for m in &module.memories[module.num_imported_memories as usize..] {
            let addr = self.memories.len() as u32;
            let size = (m.limits.min * PAGE_SIZE) as usize;
            self.memories.push((*m, vec![0; size]));
            spaces[2].push(addr);
        }
        let defined = &module.globals[module.num_imported_globals as usize..];
        for (ty, init) in defined.iter().zip(&module.global_inits) {
            let globals = &self.globals;
            let g = &spaces[3];
            let v = init.eval(&|i| globals[g[i as usize] as usize].1, &|_| {
                Value::FuncRef(None)
            });
            let addr = self.alloc_global(*ty, v);
            spaces[3].push(addr);
        }
        spaces
    }
}

impl Store for MockStore {
    fn instantiate(
        &mut self,
        module: &Module,
        imports: &[Extern],
    ) -> Result<InstanceId, InstantiateError> {
        check_imports(self, module, imports)?;
        if !module.bodies.is_empty() {
            return Err(InstantiateError::Engine(
                "the mock store runs no code".into(),
            ));
        }
        if module.export("panic").is_some() {
            panic!("mock engine bug");
        }
        let spaces = self.index_spaces(module, imports);
        for (i, seg) in module.datas.iter().enumerate() {
            if let DataMode::Active { memory, offset } = &seg.mode {
                let globals = &self.globals;
                let off = offset.eval(&|i| globals[spaces[3][i as usize] as usize].1, &|_| {
                    Value::FuncRef(None)
                });
                let Value::I32(off) = off else {
                    panic!("mock: i32 offsets only")
                };
                let bytes = module.data_bytes(i as u32);
                let mem = &mut self.memories[spaces[2][*memory as usize] as usize].1;
                let start = off as u32 as usize;
                let Some(dst) = mem.get_mut(start..start + bytes.len()) else {
                    return Err(InstantiateError::Trap(Trap::MemoryOutOfBounds));
                };
                dst.copy_from_slice(bytes);
            }
        }
        let exports = module
            .exports
            .iter()
            .map(|e| {
                let i = e.index as usize;
                let ext = match e.kind {
                    ExternKind::Func => Extern::Func(spaces[0][i]),
                    ExternKind::Table => Extern::Table(spaces[1][i]),
                    ExternKind::Memory => Extern::Memory(spaces[2][i]),
                    ExternKind::Global => Extern::Global(spaces[3][i]),
                };
                (e.name.clone(), ext)
            })
            .collect();
        self.instances.push(exports);
        Ok(InstanceId(self.instances.len() as u32 - 1))
    }

    fn exports(&self, instance: InstanceId) -> Vec<(String, Extern)> {
        self.instances[instance.0 as usize].clone()
    }

    fn call(&mut self, func: FuncAddr, args: &[Value]) -> Result<Vec<Value>, Trap> {
        (self.funcs[func as usize].1)(args)
    }

    fn alloc_host_func(&mut self, ty: FuncType, f: HostFunc) -> FuncAddr {
        self.funcs.push((ty, f));
        self.funcs.len() as u32 - 1
    }

    fn alloc_global(&mut self, ty: GlobalType, init: Value) -> GlobalAddr {
        self.globals.push((ty, init));
        self.globals.len() as u32 - 1
    }

    fn alloc_memory(&mut self, ty: MemoryType) -> Result<MemAddr, InstantiateError> {
        self.memories
            .push((ty, vec![0; (ty.limits.min * PAGE_SIZE) as usize]));
        Ok(self.memories.len() as u32 - 1)
    }

    fn alloc_table(&mut self, ty: TableType, init: Value) -> TableAddr {
        self.tables.push((ty, vec![init; ty.limits.min as usize]));
        self.tables.len() as u32 - 1
    }

    fn extern_type(&self, e: Extern) -> ExternType {
        match e {
            Extern::Func(a) => ExternType::Func(self.funcs[a as usize].0.clone()),
            Extern::Global(a) => ExternType::Global(self.globals[a as usize].0),
            Extern::Memory(a) => {
                let (mut ty, data) = self.memories[a as usize].clone();
                ty.limits.min = data.len() as u64 / PAGE_SIZE;
                ExternType::Memory(ty)
            }
            Extern::Table(a) => {
                let (mut ty, elems) = self.tables[a as usize].clone();
                ty.limits.min = elems.len() as u64;
                ExternType::Table(ty)
            }
        }
    }

    fn global_get(&self, g: GlobalAddr) -> Value {
        self.globals[g as usize].1
    }

    fn memory_data(&self, m: MemAddr) -> &[u8] {
        &self.memories[m as usize].1
    }

    fn table_size(&self, t: TableAddr) -> u64 {
        self.tables[t as usize].1.len() as u64
    }

    fn table_get(&self, t: TableAddr, idx: u64) -> Option<Value> {
        self.tables[t as usize].1.get(idx as usize).copied()
    }
}

fn run(text: &str) -> FileReport {
    run_script(&MockEngine, Path::new("test.wast"), text, script_limits())
}

/// The failures' line numbers.
fn failed_lines(r: &FileReport) -> Vec<usize> {
    r.failures.iter().map(|f| f.line).collect()
}

#[test]
fn spectest_globals_and_get() {
    let r = run(r#"
(module
  (import "spectest" "global_i32" (global $g i32))
  (import "spectest" "global_f64" (global $h f64))
  (global (export "g") i32 (global.get $g))
  (global (export "h") f64 (global.get $h))
  (global (export "f") f32 (f32.const nan:0x1)))
(assert_return (get "g") (i32.const 666))
(assert_return (get "h") (f64.const 666.6))
(assert_return (get "g") (i32.const 667))
(assert_return (get "f") (f32.const nan:arithmetic))
(assert_return (get "f") (f32.const nan:0x1))
(assert_return (get "nope") (i32.const 0))
"#);
    assert_eq!(r.passed, 4, "{r:#?}");
    assert_eq!(failed_lines(&r), vec![10, 11, 13]);
    assert!(
        r.failures[0]
            .message
            .contains("expected [i32:667], got [i32:666]")
    );
    assert_eq!(r.failures[0].directive, "assert_return");
}

#[test]
fn spectest_entities_have_reference_types() {
    let r = run(r#"
(module
  (import "spectest" "table" (table 10 20 funcref))
  (import "spectest" "table64" (table i64 10 20 funcref))
  (import "spectest" "memory" (memory 1 2))
  (import "spectest" "global_i64" (global i64))
  (import "spectest" "global_f32" (global f32))
  (import "spectest" "print" (func))
  (import "spectest" "print_i64" (func (param i64)))
  (import "spectest" "print_f32" (func (param f32)))
  (import "spectest" "print_f64" (func (param f64)))
  (import "spectest" "print_i32_f32" (func (param i32 f32)))
  (import "spectest" "print_f64_f64" (func (param f64 f64))))
(assert_unlinkable (module (import "spectest" "table" (table 10 15 funcref))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "memory" (memory 2))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "global_i32" (global (mut i32)))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "print_i32" (func (param i64)))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "unknown" (func))) "unknown import")
"#);
    assert_eq!((r.passed, r.failed()), (6, 0), "{r:#?}");
}

#[test]
fn register_links_by_module_and_field() {
    let r = run(r#"
(module $A (global (export "x") i64 (i64.const 5)))
(register "a" $A)
(module (import "a" "x" (global i64)) (export "y" (global 0)))
(assert_return (get "y") (i64.const 5))
(assert_return (get $A "x") (i64.const 5))
(assert_unlinkable (module (import "a" "nope" (global i64))) "unknown import")
(assert_unlinkable (module (import "b" "x" (global i64))) "unknown import")
(assert_unlinkable (module (import "a" "x" (global i32))) "incompatible import type")
(assert_unlinkable (module (import "a" "x" (global i32))) "unknown import")
(assert_unlinkable (module (import "a" "x" (global i64))) "unknown import")
(register "a2")
(module (import "a2" "y" (global i64)))
"#);
    assert_eq!(r.passed, 10, "{r:#?}");
    assert_eq!(failed_lines(&r), vec![10, 11]);
    assert!(r.failures[1].message.contains("module linked"), "{r:#?}");
}

#[test]
fn invoke_checks_exports_and_argument_types() {
    let r = run(r#"
(module
  (import "spectest" "print_i32" (func $p (param i32)))
  (export "p" (func $p))
  (global (export "g") i32 (i32.const 0)))
(invoke "p" (i32.const 1))
(assert_return (invoke "p" (i32.const 1)))
(invoke "p" (i64.const 1))
(invoke "p")
(invoke "missing")
(invoke "g")
(assert_return (invoke "p" (i32.const 1)) (i32.const 1))
"#);
    assert_eq!(r.passed, 3, "{r:#?}");
    assert_eq!(failed_lines(&r), vec![8, 9, 10, 11, 12]);
    assert!(r.failures[0].message.contains("do not fit"), "{r:#?}");
    assert!(r.failures[2].message.contains("no export"), "{r:#?}");
    assert!(r.failures[3].message.contains("not a function"), "{r:#?}");
}

#[test]
fn unsupported_modules_skip_their_dependents() {
    let r = run(r#"
(module $T (memory 1 1 shared) (global (export "g") i32 (i32.const 1)))
(assert_return (get "g") (i32.const 1))
(register "t" $T)
(module (import "t" "g" (global i32)))
(assert_return (get "g") (i32.const 1))
(assert_return (get $T "g") (i32.const 1))
(assert_malformed (module binary "\00asm\01\00\00\00\05\04\01\03\01\01") "shared")
(assert_invalid (module (memory 1 1 shared) (func (i32.const 0) (drop) (drop))) "type mismatch")
(assert_malformed (module quote "(func") "unexpected end")
(module (global (export "g") i32 (i32.const 2)))
(assert_return (get "g") (i32.const 2))
"#);
    assert_eq!(r.failed(), 0, "{r:#?}");
    assert_eq!(r.passed, 4);
    assert_eq!(r.skipped.get("threads"), Some(&7), "{r:#?}");
    assert_eq!(r.status(), FileStatus::Partial);
}

#[test]
fn everything_skipped_is_a_skipped_file() {
    let r = run(r#"
(module (memory 1 1 shared) (global (export "g") i32 (i32.const 1)))
(assert_return (get "g") (i32.const 1))
"#);
    assert_eq!(r.status(), FileStatus::Skip);
    assert_eq!(r.skip_reasons(), "threads (2)");
}

#[test]
fn rejections_pass_and_acceptance_fails() {
    let r = run(r#"
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_malformed (module quote "(module (func (i32.const 0x1_)))") "unknown operator")
(assert_invalid (module (memory 1)) "nothing wrong")
(assert_malformed (module binary "\00asm\01\00\00\00") "nothing wrong")
"#);
    assert_eq!(r.passed, 3, "{r:#?}");
    assert_eq!(failed_lines(&r), vec![5, 6]);
    assert!(r.failures[0].message.contains("accepted"));
}

#[test]
fn module_traps_and_uninstantiable() {
    let r = run(r#"
(assert_trap (module (memory 1) (data (i32.const 65535) "ab")) "out of bounds memory access")
(assert_trap (module (memory 1) (data (i32.const 65535) "ab")) "out of bounds")
(assert_uninstantiable (module (memory 1) (data (i32.const 65535) "ab")) "out of bounds memory access")
(assert_trap (module (memory 1) (data (i32.const 65534) "ab")) "out of bounds")
(assert_trap (module (memory 1) (data (i32.const 65535) "ab")) "unreachable")
"#);
    assert_eq!(r.passed, 3, "{r:#?}");
    assert_eq!(failed_lines(&r), vec![5, 6]);
    assert!(
        r.failures[1]
            .message
            .contains("got trap \"out of bounds memory access\"")
    );
}

#[test]
fn engine_panics_fail_the_directive_and_its_dependents() {
    let r = run(r#"
(module (global (export "panic") i32 (i32.const 0)))
(assert_return (get "panic") (i32.const 0))
(module (global (export "ok") i32 (i32.const 0)))
(assert_return (get "ok") (i32.const 0))
"#);
    assert_eq!(r.passed, 2, "{r:#?}");
    assert_eq!(failed_lines(&r), vec![2, 3]);
    assert!(r.failures[0].message.contains("mock engine bug"), "{r:#?}");
    assert!(r.failures[1].message.contains("module at line 2"), "{r:#?}");
}

#[test]
fn module_definitions_instantiate_on_demand() {
    let r = run(r#"
(module definition $M (global (export "g") (mut i32) (i32.const 3)))
(module instance $I1 $M)
(module instance $I2 $M)
(assert_return (get $I1 "g") (i32.const 3))
(assert_return (get "g") (i32.const 3))
(module definition (memory 65536))
(module instance $X $Nope)
"#);
    assert_eq!(r.passed, 6, "{r:#?}");
    assert_eq!(failed_lines(&r), vec![8]);
}

#[test]
fn unsupported_directives_skip() {
    let r = run(r#"
(module (global (export "g") i32 (i32.const 1)))
(assert_exception (invoke "g"))
(assert_return (get "g") (ref.i31))
"#);
    assert_eq!(r.passed, 1, "{r:#?}");
    assert_eq!(r.skipped.get("exceptions"), Some(&1));
    assert_eq!(r.skipped.get("gc"), Some(&1));
    assert_eq!(r.failed(), 0);
}

#[test]
fn confusing_unicode_in_names_is_accepted() {
    let r = run(
        "(module (global (export \"\u{202e}x\") i32 (i32.const 4)))\n\
                 (assert_return (get \"\u{202e}x\") (i32.const 4))",
    );
    assert_eq!((r.passed, r.failed()), (2, 0), "{r:#?}");
}

#[test]
fn parse_errors_fail_the_file() {
    let r = run("(module (func)\n(assert_return (invoke \"f\")");
    assert_eq!(r.passed, 0);
    assert_eq!(r.failed(), 1);
    assert_eq!(r.failures[0].line, 0);
    assert!(r.failures[0].message.contains("test.wast"), "{r:#?}");
    let r = run("(assert_frobnicate)");
    assert_eq!(r.failed(), 1, "{r:#?}");
}

#[test]
fn uninstantiable_rewrite_keeps_strings_comments_and_offsets() {
    let text = "(assert_uninstantiable (module) \"x\")\n;; (assert_uninstantiable\n\
                (; (assert_uninstantiable (; nested ;) ;)\n\
                (module quote \"(assert_uninstantiable \\\" x\")";
    let out = super::rewrite_uninstantiable(text);
    assert_eq!(out.len(), text.len());
    let expected = format!("(assert_trap{} (module)", " ".repeat(10));
    assert!(out.starts_with(&expected), "{out}");
    assert_eq!(out.matches("(assert_uninstantiable").count(), 3, "{out}");
    let plain = "(module)";
    assert!(matches!(
        super::rewrite_uninstantiable(plain),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn trap_messages_match_by_prefix() {
    assert!(super::trap_matches(
        Trap::MemoryOutOfBounds,
        "out of bounds"
    ));
    assert!(super::trap_matches(
        Trap::MemoryOutOfBounds,
        "out of bounds memory access"
    ));
    assert!(!super::trap_matches(
        Trap::TableOutOfBounds,
        "out of bounds memory access"
    ));
    assert!(super::trap_matches(
        Trap::UninitializedElement,
        "uninitialized element 2"
    ));
    assert!(!super::trap_matches(
        Trap::UninitializedElement,
        "uninitialized element x"
    ));
    assert!(!super::trap_matches(
        Trap::UninitializedElement,
        "uninitialized element "
    ));
    assert!(!super::trap_matches(
        Trap::UndefinedElement,
        "uninitialized element 2"
    ));
    for t in Trap::ALL {
        assert!(super::trap_matches(t, t.message()));
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shoal-wast-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("proposals")).unwrap();
    dir
}

#[test]
fn directories_expand_to_sorted_root_level_scripts() {
    let dir = temp_dir("expand");
    for f in ["b.wast", "a.wast", "notes.txt", "proposals/c.wast"] {
        std::fs::write(dir.join(f), "(module)").unwrap();
    }
    let files = suite::expand_paths(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(files, vec![dir.join("a.wast"), dir.join("b.wast")]);
    let explicit = suite::expand_paths(&[dir.join("proposals")]).unwrap();
    assert_eq!(explicit, vec![dir.join("proposals/c.wast")]);
    let one = suite::expand_paths(&[dir.join("notes.txt")]).unwrap();
    assert_eq!(one, vec![dir.join("notes.txt")]);
    assert!(suite::expand_paths(&[dir.join("missing")]).is_err());
    std::fs::remove_dir_all(dir.join("proposals")).unwrap();
    std::fs::create_dir(dir.join("empty")).unwrap();
    let err = suite::expand_paths(&[dir.join("empty")]).unwrap_err();
    assert!(err.to_string().contains("no .wast files"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn parallel_runs_report_in_input_order() {
    let dir = temp_dir("parallel");
    let mut files = Vec::new();
    for i in 0..7 {
        let p = dir.join(format!("f{i}.wast"));
        let body = format!(
            "(module (global (export \"g\") i32 (i32.const {i})))\n\
             (assert_return (get \"g\") (i32.const {i}))\n\
             (assert_return (get \"g\") (i32.const 99))"
        );
        std::fs::write(&p, body).unwrap();
        files.push(p);
    }
    files.push(dir.join("missing.wast"));
    let spec = EngineSpec {
        name: "mock",
        make: mock_engine,
    };
    let mut seen = Vec::new();
    suite::run_files(&spec, &files, 3, script_limits(), |r| seen.push(r));
    let paths: Vec<_> = seen.iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, files);
    for r in &seen[..7] {
        assert_eq!((r.passed, r.failed()), (2, 1), "{r:#?}");
        assert_eq!(r.failures[0].line, 3);
    }
    assert!(seen[7].failures[0].message.contains("cannot read"));
    std::fs::remove_dir_all(&dir).unwrap();
}
