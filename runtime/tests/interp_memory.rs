//! Linear memory: loads/stores, growth, multi-memory, memory64, bulk
//! operations, data segments and the SIMD memory instructions.

mod interp_common;

use interp_common::*;
use shoal_runtime::engine::{Extern, InstantiateError, Store};
use shoal_runtime::values::{Limits, MemoryType};
use shoal_runtime::{Trap, Value};

fn mem_export(
    s: &shoal_runtime::interp::InterpStore,
    i: shoal_runtime::InstanceId,
    name: &str,
) -> u32 {
    match s.export(i, name) {
        Some(Extern::Memory(m)) => m,
        other => panic!("{other:?}"),
    }
}

#[test]
fn loads_extend_and_stores_truncate() {
    let m = r#"(module (memory 1)
      (data (i32.const 0) "\80\ff\7f\01\fe\ff\ff\ff")
      (func (export "l8s") (result i32) (i32.load8_s (i32.const 0)))
      (func (export "l8u") (result i32) (i32.load8_u (i32.const 0)))
      (func (export "l16s") (result i64) (i64.load16_s (i32.const 0)))
      (func (export "l32s") (result i64) (i64.load32_s (i32.const 4)))
      (func (export "l32u") (result i64) (i64.load32_u (i32.const 4)))
      (func (export "st") (result i64)
        (i64.store16 (i32.const 8) (i64.const 0x1234567))
        (i64.load (i32.const 8))))"#;
    let mut s = store();
    let i = inst(&mut s, m);
    assert_eq!(call_i32(&mut s, i, "l8s", &[]), Ok(-128));
    assert_eq!(call_i32(&mut s, i, "l8u", &[]), Ok(128));
    assert_eq!(call_i64(&mut s, i, "l16s", &[]), Ok(-128));
    assert_eq!(call_i64(&mut s, i, "l32s", &[]), Ok(-2));
    assert_eq!(call_i64(&mut s, i, "l32u", &[]), Ok(0xffff_fffe));
    assert_eq!(call_i64(&mut s, i, "st", &[]), Ok(0x4567));
}

#[test]
fn grow_and_size() {
    let m = r#"(module (memory 1 3)
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
      (func (export "size") (result i32) (memory.size)))"#;
    let mut s = store();
    let i = inst(&mut s, m);
    assert_eq!(call_i32(&mut s, i, "grow", &[Value::I32(1)]), Ok(1));
    assert_eq!(call_i32(&mut s, i, "grow", &[Value::I32(2)]), Ok(-1));
    assert_eq!(call_i32(&mut s, i, "grow", &[Value::I32(1)]), Ok(2));
    assert_eq!(call_i32(&mut s, i, "size", &[]), Ok(3));
    assert_eq!(call_i32(&mut s, i, "grow", &[Value::I32(0)]), Ok(3));
}

#[test]
fn growth_stops_at_the_limits_caps() {
    let m = r#"(module (memory i64 1) (table 1 externref)
      (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
      (func (export "tgrow") (param i32) (result i32) (table.grow (ref.null extern) (local.get 0))))"#;
    let limits = shoal_runtime::Limits {
        max_memory_pages: 4,
        max_table_elems: 10,
        ..shoal_runtime::Limits::default()
    };
    let mut s = shoal_runtime::interp::InterpStore::new(limits);
    let i = inst(&mut s, m);
    assert_eq!(call_i64(&mut s, i, "grow", &[Value::I64(4)]), Ok(-1));
    assert_eq!(call_i64(&mut s, i, "grow", &[Value::I64(3)]), Ok(1));
    assert_eq!(call_i64(&mut s, i, "grow", &[Value::I64(1)]), Ok(-1));
    assert_eq!(call_i64(&mut s, i, "grow", &[Value::I64(-1)]), Ok(-1));
    assert_eq!(call_i32(&mut s, i, "tgrow", &[Value::I32(10)]), Ok(-1));
    assert_eq!(call_i32(&mut s, i, "tgrow", &[Value::I32(9)]), Ok(1));
    // Initial sizes above the caps are resource errors, not traps.
    for text in [r#"(module (memory 5))"#, r#"(module (table 11 funcref))"#] {
        assert!(matches!(
            s.instantiate(&module(text), &[]),
            Err(InstantiateError::Resource(_))
        ));
    }
    assert!(matches!(
        s.alloc_memory(MemoryType {
            limits: Limits { min: 5, max: None },
            memory64: true
        }),
        Err(InstantiateError::Resource(_))
    ));
}

#[test]
fn multi_memory() {
    let m = r#"(module
      (memory $a 1) (memory $b 2)
      (data (memory $b) (i32.const 5) "\2a")
      (func (export "copy") (memory.copy $a $b (i32.const 0) (i32.const 5) (i32.const 1)))
      (func (export "a0") (result i32) (i32.load8_u $a (i32.const 0)))
      (func (export "sizes") (result i32) (i32.add (memory.size $a) (i32.mul (memory.size $b) (i32.const 10))))
      (func (export "fill_b") (memory.fill $b (i32.const 131071) (i32.const 1) (i32.const 2))))"#;
    let mut s = store();
    let i = inst(&mut s, m);
    assert_eq!(call_i32(&mut s, i, "a0", &[]), Ok(0));
    call(&mut s, i, "copy", &[]).unwrap();
    assert_eq!(call_i32(&mut s, i, "a0", &[]), Ok(42));
    assert_eq!(call_i32(&mut s, i, "sizes", &[]), Ok(21));
    assert_eq!(call(&mut s, i, "fill_b", &[]), Err(Trap::MemoryOutOfBounds));
}

#[test]
fn memory64_addresses() {
    let m = r#"(module (memory i64 1)
      (func (export "store") (param i64 i64) (i64.store (local.get 0) (local.get 1)))
      (func (export "load") (param i64) (result i64) (i64.load (local.get 0)))
      (func (export "far") (param i64) (result i64) (i64.load offset=0x100000000 (local.get 0)))
      (func (export "far_store") (param i64) (i64.store offset=0xffffffff00000000 (local.get 0) (i64.const 1)))
      (func (export "wrap") (result i64) (i64.load offset=8 (i64.const -8)))
      (func (export "size") (result i64) (memory.size))
      (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0))))"#;
    let mut s = store();
    let i = inst(&mut s, m);
    call(&mut s, i, "store", &[Value::I64(65528), Value::I64(-5)]).unwrap();
    assert_eq!(call_i64(&mut s, i, "load", &[Value::I64(65528)]), Ok(-5));
    assert_eq!(
        call(&mut s, i, "load", &[Value::I64(65529)]),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(
        call(&mut s, i, "load", &[Value::I64(1 << 40)]),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(
        call(&mut s, i, "far", &[Value::I64(0)]),
        Err(Trap::MemoryOutOfBounds)
    );
    // Effective addresses do not wrap: 2^64 - 2^32 + 8 plus 2^32 would
    // wrap to the in-bounds 8.
    assert_eq!(
        call(&mut s, i, "far", &[Value::I64(-(1i64 << 32) + 8)]),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(
        call(&mut s, i, "far_store", &[Value::I64(1 << 32)]),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(call(&mut s, i, "wrap", &[]), Err(Trap::MemoryOutOfBounds));
    assert_eq!(call_i64(&mut s, i, "size", &[]), Ok(1));
    assert_eq!(call_i64(&mut s, i, "grow", &[Value::I64(1)]), Ok(1));
    assert_eq!(call_i64(&mut s, i, "size", &[]), Ok(2));
}

#[test]
fn bulk_memory_checks_before_writing() {
    let m = r#"(module (memory (export "m") 1)
      (data $d "abcdef")
      (func (export "init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
      (func (export "drop") (data.drop $d))
      (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
      (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2))))"#;
    let mut s = store();
    let i = inst(&mut s, m);
    let mem = mem_export(&s, i, "m");
    let v = |a: i32, b: i32, c: i32| [Value::I32(a), Value::I32(b), Value::I32(c)];
    call(&mut s, i, "init", &v(10, 1, 4)).unwrap();
    assert_eq!(&s.memory_data(mem)[10..14], b"bcde");
    // Source range out of bounds: nothing written.
    assert_eq!(
        call(&mut s, i, "init", &v(0, 3, 4)),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(s.memory_data(mem)[0], 0);
    // Overlapping copy behaves like memmove.
    call(&mut s, i, "copy", &v(11, 10, 4)).unwrap();
    assert_eq!(&s.memory_data(mem)[10..15], b"bbcde");
    call(&mut s, i, "copy", &v(10, 11, 4)).unwrap();
    assert_eq!(&s.memory_data(mem)[10..15], b"bcdee");
    assert_eq!(
        call(&mut s, i, "copy", &v(65535, 0, 2)),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(s.memory_data(mem)[65535], 0);
    call(&mut s, i, "fill", &v(100, 0x1ff, 3)).unwrap();
    assert_eq!(&s.memory_data(mem)[99..104], &[0, 0xff, 0xff, 0xff, 0]);
    // A dropped segment has length 0: only empty inits at offset 0 succeed.
    call(&mut s, i, "drop", &[]).unwrap();
    call(&mut s, i, "init", &v(0, 0, 0)).unwrap();
    assert_eq!(
        call(&mut s, i, "init", &v(0, 0, 1)),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(
        call(&mut s, i, "init", &v(0, 1, 0)),
        Err(Trap::MemoryOutOfBounds)
    );
}

#[test]
fn simd_memory_instructions() {
    let m = r#"(module (memory 1)
      (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10\ff\fe")
      (func (export "load") (result v128) (v128.load (i32.const 0)))
      (func (export "l8x8s") (result v128) (v128.load8x8_s (i32.const 10)))
      (func (export "l16x4u") (result v128) (v128.load16x4_u (i32.const 16)))
      (func (export "splat16") (result v128) (v128.load16_splat (i32.const 16)))
      (func (export "zero32") (result v128) (v128.load32_zero (i32.const 1)))
      (func (export "lane") (param v128) (result v128) (v128.load16_lane 7 (i32.const 16) (local.get 0)))
      (func (export "slane") (param v128) (result i64)
        (v128.store32_lane 2 (i32.const 100) (local.get 0))
        (i64.load (i32.const 100)))
      (func (export "store") (param v128) (result i64)
        (v128.store offset=200 (i32.const 0) (local.get 0))
        (i64.load (i32.const 208)))
      (func (export "oob") (result v128) (v128.load (i32.const 65521))))"#;
    let mut s = store();
    let i = inst(&mut s, m);
    let one = |name: &str, args: &[Value], s: &mut shoal_runtime::interp::InterpStore| match call(
        s, i, name, args,
    )
    .unwrap()
    .as_slice()
    {
        [Value::V128(v)] => *v,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        one("load", &[], &mut s),
        u128::from_le_bytes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
    );
    // Bytes 10.. = 0b 0c 0d 0e 0f 10 ff fe, sign-extended to i16.
    let l = one("l8x8s", &[], &mut s);
    assert_eq!(l as u16, 0x000b);
    assert_eq!((l >> 96) as u16, 0xffff);
    assert_eq!((l >> 112) as u16, 0xfffe);
    let u = one("l16x4u", &[], &mut s);
    assert_eq!(u as u32, 0xfeff);
    assert_eq!(
        one("splat16", &[], &mut s),
        u128::from_le_bytes([0xff, 0xfe].repeat(8).try_into().unwrap())
    );
    assert_eq!(one("zero32", &[], &mut s), 0x0504_0302);
    assert_eq!(one("lane", &[Value::V128(0)], &mut s), (0xfeffu128) << 112);
    let v = u128::from_le_bytes([0xaa; 16]) ^ (0x1234_5678u128 << 64);
    match call(&mut s, i, "slane", &[Value::V128(v)])
        .unwrap()
        .as_slice()
    {
        [Value::I64(x)] => assert_eq!(*x as u64, 0xaaaa_aaaau64 ^ 0x1234_5678),
        other => panic!("{other:?}"),
    }
    match call(&mut s, i, "store", &[Value::V128(v)])
        .unwrap()
        .as_slice()
    {
        [Value::I64(x)] => assert_eq!(*x as u64, (v >> 64) as u64),
        other => panic!("{other:?}"),
    }
    assert_eq!(call(&mut s, i, "oob", &[]), Err(Trap::MemoryOutOfBounds));
}

#[test]
fn data_segment_out_of_bounds_keeps_earlier_segments() {
    let mut s = store();
    let host_mem = s
        .alloc_memory(MemoryType {
            limits: Limits { min: 1, max: None },
            memory64: false,
        })
        .unwrap();
    let text = r#"(module (import "h" "m" (memory 1))
      (data (i32.const 0) "ok")
      (data (i32.const 65535) "xx"))"#;
    assert_eq!(
        s.instantiate(&module(text), &[Extern::Memory(host_mem)]),
        Err(InstantiateError::Trap(Trap::MemoryOutOfBounds))
    );
    assert_eq!(&s.memory_data(host_mem)[..2], b"ok");
    assert_eq!(s.memory_data(host_mem)[65535], 0);
}
