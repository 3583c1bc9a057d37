//! Helpers shared by the oracle integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use shoal_oracles::execute::Invocation;
use shoal_runtime::Value;

/// Encodes a text-format module.
pub fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).expect("test module lexes");
    let mut module: wast::Wat = wast::parser::parse(&buf).expect("test module parses");
    module.encode().expect("test module encodes")
}

/// An invocation of `export` with `args`.
pub fn call(export: &str, args: &[Value]) -> Invocation {
    Invocation {
        export: export.to_string(),
        args: args.to_vec(),
    }
}

/// A fresh, empty directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "shoal-oracles-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
