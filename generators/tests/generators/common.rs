//! Shared helpers: artifact dumps and validation.

use std::path::PathBuf;

/// Writes `bytes` (and, for wasm, its text form) under
/// `$TMPDIR/shoal-generator-failures/` and returns the path.
pub fn dump(name: &str, ext: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join("shoal-generator-failures");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{name}.{ext}"));
    let _ = std::fs::write(&path, bytes);
    if ext == "wasm"
        && let Ok(text) = wasmprinter::print_bytes(bytes)
    {
        let _ = std::fs::write(path.with_extension("wat"), text);
    }
    path
}

/// Validates a module with shoal's feature set; on failure dumps it and panics.
pub fn validate_wasm(name: &str, bytes: &[u8]) {
    if let Err(e) = shoal_runtime::Module::new(bytes) {
        let path = dump(name, "wasm", bytes);
        panic!("{name}: invalid module ({e}); dumped to {}", path.display());
    }
}

/// Seeds for bulk tests: `SHOAL_GEN_SEEDS` overrides the count.
pub fn seeds(default: u64) -> std::ops::Range<u64> {
    let n = std::env::var("SHOAL_GEN_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    0..n
}
