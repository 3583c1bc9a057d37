//! The ISLE rules that fire while Cranelift compiles, through the shared
//! rule-coverage instrument of `shoal-runtime` (`trace-log` records counted
//! per thread), converted to the harvester's [`RuleId`]s.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use shoal_runtime::coverage as rt;

use crate::rules::RuleId;

/// Runs `f` and returns its result with the rules that fired on this thread
/// meanwhile.
pub fn collect<T>(f: impl FnOnce() -> T) -> (T, BTreeSet<RuleId>) {
    let (out, hits) = rt::collect(f);
    let rules = hits
        .iter()
        .map(|(r, _)| RuleId {
            file: r.file.clone(),
            line: r.line,
        })
        .collect();
    (out, rules)
}

/// Whether rule firings can be observed in this process: the counting
/// logger is the process's logger and Cranelift was built with its
/// `trace-log` feature (probed once by compiling a tiny function).
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        const PROBE: &str = "test compile\nset opt_level=none\ntarget x86_64\n\n\
            function %probe(i32, i32) -> i32 fast {\n\
            block0(v0: i32, v1: i32):\n    v2 = iadd v0, v1\n    return v2\n}\n";
        rt::install_logger()
            && crate::verify::compile_hits(PROBE).is_ok_and(|hits| !hits.is_empty())
    })
}
