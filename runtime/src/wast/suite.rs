//! Running many `.wast` files: locating the testsuite, expanding
//! directories, and running files in parallel on big-stack threads.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use super::engines::EngineSpec;
use super::report::{FileReport, Outcome};
use crate::trap::Limits;

/// Environment variable naming the spec testsuite directory.
pub const TESTSUITE_ENV: &str = "SHOAL_SPEC_TESTSUITE";

/// Native stack of every script thread: deep wasm recursion in an engine
/// must hit the engine's call-depth limit long before the host stack.
pub const STACK_SIZE: usize = 512 << 20;

/// The default testsuite location: `$SHOAL_SPEC_TESTSUITE`, else
/// `../shared/spec-testsuite` relative to the current directory.
pub fn default_testsuite_dir() -> PathBuf {
    match std::env::var_os(TESTSUITE_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("../shared/spec-testsuite"),
    }
}

/// A path that cannot be used as input.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// The path does not exist or cannot be inspected.
    #[error("cannot read {}", path.display())]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A directory without any `.wast` file at its top level.
    #[error("{}: no .wast files in this directory", .0.display())]
    NoScripts(PathBuf),
}

/// Expands the inputs: a file stays as given; a directory becomes its
/// top-level `*.wast` files, sorted by name (subdirectories such as
/// `proposals/` are only run when named explicitly).
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, PathError> {
    let mut files = Vec::new();
    for path in paths {
        let unreadable = |source| PathError::Unreadable {
            path: path.clone(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        if !meta.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut found = Vec::new();
        for entry in std::fs::read_dir(path).map_err(unreadable)? {
            let p = entry.map_err(unreadable)?.path();
            if p.extension().is_some_and(|e| e == "wast") && p.is_file() {
                found.push(p);
            }
        }
        if found.is_empty() {
            return Err(PathError::NoScripts(path.clone()));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// Worker threads to use for `jobs` files: the machine's parallelism, at
/// most one per file.
pub fn default_threads(jobs: usize) -> usize {
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    cpus.min(jobs).max(1)
}

/// Runs every file on `spec`'s engine with `threads` workers (each with its
/// own engine and a [`STACK_SIZE`] stack). `on_report` receives the reports
/// in the order of `files`, each as soon as it and all earlier ones are done.
pub fn run_files(
    spec: &EngineSpec,
    files: &[PathBuf],
    threads: usize,
    limits: Limits,
    mut on_report: impl FnMut(FileReport),
) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, FileReport)>();
    thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            let tx = tx.clone();
            let next = &next;
            let spawned = thread::Builder::new()
                .name(format!("spectest-{}", spec.name))
                .stack_size(STACK_SIZE)
                .spawn_scoped(scope, move || {
                    // A panic outside any directive (e.g. building the
                    // engine) ends this worker; its file is reported lost.
                    let _ = super::script::guard(|| worker(spec, files, next, limits, tx));
                });
            if let Err(e) = spawned {
                log::warn!("cannot start a spectest worker thread: {e}");
            }
        }
        drop(tx);
        let mut pending: Vec<Option<FileReport>> = vec![None; files.len()];
        let mut emitted = 0;
        for (idx, report) in rx {
            pending[idx] = Some(report);
            while emitted < files.len() {
                match pending[emitted].take() {
                    Some(r) => {
                        on_report(r);
                        emitted += 1;
                    }
                    None => break,
                }
            }
        }
        // Files no worker finished (a worker died, or none could start).
        for (idx, slot) in pending.iter_mut().enumerate().skip(emitted) {
            let report = slot.take().unwrap_or_else(|| lost(spec, &files[idx]));
            on_report(report);
        }
    });
}

fn worker(
    spec: &EngineSpec,
    files: &[PathBuf],
    next: &AtomicUsize,
    limits: Limits,
    tx: mpsc::Sender<(usize, FileReport)>,
) {
    let engine = (spec.make)();
    loop {
        let idx = next.fetch_add(1, Ordering::Relaxed);
        let Some(path) = files.get(idx) else { return };
        let report = super::run_file(engine.as_ref(), path, limits);
        if tx.send((idx, report)).is_err() {
            return;
        }
    }
}

/// The report for a file whose worker vanished.
fn lost(spec: &EngineSpec, path: &Path) -> FileReport {
    let mut r = FileReport::new(path, spec.name);
    r.record(
        0,
        "file",
        Outcome::Fail("the worker thread running this file died".into()),
    );
    r
}
