//! Invocations of a generated module: several argument sets per exported
//! function, biased to edge values, interleaved across functions so that
//! state left by one call feeds the next.

use crate::dict;
use crate::rng::Rng;
use crate::testcase::Invocation;

use super::module::ModuleState;

/// Invocations for every function of `m`, in rounds.
pub(crate) fn invocations(r: &mut Rng<'_>, m: &ModuleState) -> Vec<Invocation> {
    let rounds = r.range_u32(1, m.cfg.invocations_per_export);
    let mut out = Vec::new();
    for _ in 0..rounds {
        for f in 0..m.funcs.len() as u32 {
            let params = m.func_type(f).params.clone();
            let args = params.iter().map(|&t| dict::pick_value(r, t)).collect();
            out.push(Invocation {
                export: format!("f{f}"),
                args,
            });
        }
    }
    out
}
