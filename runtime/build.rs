//! Build script: compiles the tiny C shim that gives `runtime::native` its
//! sigsetjmp/siglongjmp landing pad (see `src/native/shim.c`).

fn main() {
    println!("cargo:rerun-if-changed=src/native/shim.c");
    cc::Build::new()
        .file("src/native/shim.c")
        .warnings(true)
        .compile("shoal_native_shim");
}
