//! What a CLIF filetest's header says about how to compile it, and the
//! executors that honour it.
//!
//! A filetest's `target` lines name the ISAs (with their flags) it is
//! written for and `set opt_level` the optimisation level; Cranelift's own
//! test runner compiles it exactly so. The campaign's CLIF target runs a
//! fixed spread of executors on every case (plus, see [`preset_executor`],
//! a native compilation with the flags an `x86_64` line asks for);
//! rule-guided cases, which come with headers made for the rule they aim
//! at, run only on the executors their header admits ([`admitted`]) —
//! compiling a seed written for `has_cmpxchg16b` without it, or a Pulley
//! seed for x86-64, tests nothing but the known gaps of a configuration.

use shoal_runtime::clif::differential::Executor;
use shoal_runtime::clif::{ClifConfig, HostFeatures, OptLevel};

/// A filetest header, as far as execution is concerned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// ISA flags of the first `target x86_64` line (`None`: no such line).
    pub x86: Option<Vec<String>>,
    /// Whether a `target pulley64` line is present.
    pub pulley: bool,
    /// Whether any `target` line is present.
    pub targets: bool,
    /// The `set opt_level` value, if set.
    pub opt: Option<OptLevel>,
}

impl Header {
    /// Parses header lines (`test`, `set`, `target`; others are ignored).
    pub fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> Header {
        let mut h = Header::default();
        for line in lines {
            if let Some(set) = line.strip_prefix("set ") {
                for kv in set.split_whitespace() {
                    match kv.strip_prefix("opt_level=") {
                        Some("none") => h.opt = Some(OptLevel::None),
                        Some("speed") => h.opt = Some(OptLevel::Speed),
                        Some("speed_and_size") => h.opt = Some(OptLevel::SpeedAndSize),
                        _ => {}
                    }
                }
            } else if let Some(rest) = line.strip_prefix("target ") {
                h.targets = true;
                let mut words = rest.split_whitespace();
                match words.next() {
                    Some("x86_64") if h.x86.is_none() => {
                        h.x86 = Some(words.map(str::to_string).collect());
                    }
                    Some("pulley64") => h.pulley = true,
                    _ => {}
                }
            }
        }
        h
    }

    /// The header of filetest text: the lines before the first function
    /// that are neither blank nor comments.
    pub fn of_text(text: &str) -> Header {
        Header::parse(
            text.lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("function"))
                .filter(|l| !l.is_empty() && !l.starts_with(';')),
        )
    }
}

/// The host feature presets, smallest first.
const PRESETS: [HostFeatures; 4] = [
    HostFeatures::Sse41,
    HostFeatures::Avx,
    HostFeatures::Avx2,
    HostFeatures::Avx512,
];

/// The native executor for the `x86_64` line's flags: the smallest host
/// feature preset that has them all (flags no preset sets are ignored), at
/// the header's opt level (default `none`). `None` when the flags need no
/// more than the baseline, or no preset this host can run has them.
pub fn preset_executor(h: &Header) -> Option<Executor> {
    let flags = h.x86.as_ref()?;
    let known = |f: &&String| PRESETS.iter().any(|p| p.x64_flags().contains(&f.as_str()));
    let required: Vec<&String> = flags.iter().filter(known).collect();
    if required.is_empty() {
        return None;
    }
    let features = PRESETS.into_iter().find(|p| {
        p.host_supports() && required.iter().all(|f| p.x64_flags().contains(&f.as_str()))
    })?;
    Some(Executor::Native(ClifConfig {
        opt_level: h.opt.unwrap_or(OptLevel::None),
        features,
        ..ClifConfig::default()
    }))
}

/// The ISA flags an executor compiles with (empty for Pulley).
pub fn executor_flags(e: &Executor) -> Vec<String> {
    match e {
        Executor::Native(c) | Executor::MidEnd(c) => c.target_flags(),
        Executor::Pulley(_) => Vec::new(),
    }
}

fn opt_of(e: &Executor) -> OptLevel {
    match e {
        Executor::Native(c) | Executor::MidEnd(c) => c.opt_level,
        Executor::Pulley(o) => *o,
    }
}

/// The executors among `executors` (each with its ISA flags) that the
/// header admits — its targets (all when it names none), its opt level
/// (all when unset) and, for x86-64, every flag of the `x86_64` line —
/// followed by the [`preset_executor`] if it is not among them.
pub fn admitted(executors: &[(Executor, Vec<String>)], h: &Header) -> Vec<Executor> {
    let mut out: Vec<Executor> = executors
        .iter()
        .filter(|(e, flags)| {
            let target_ok = match e {
                Executor::Native(_) | Executor::MidEnd(_) => !h.targets || h.x86.is_some(),
                Executor::Pulley(_) => !h.targets || h.pulley,
            };
            let flags_ok = match (e, &h.x86) {
                (Executor::Pulley(_), _) | (_, None) => true,
                (_, Some(required)) => required.iter().all(|f| flags.contains(f)),
            };
            target_ok && flags_ok && h.opt.is_none_or(|o| o == opt_of(e))
        })
        .map(|(e, _)| *e)
        .collect();
    if let Some(e) = preset_executor(h)
        && !out.contains(&e)
    {
        out.push(e);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse() {
        let h = Header::of_text(
            "test run\nset opt_level=speed\ntarget x86_64 has_sse41\ntarget pulley64\n; c\nfunction %f() {\n",
        );
        assert_eq!(h.x86, Some(vec!["has_sse41".to_string()]));
        assert!(h.pulley && h.targets);
        assert_eq!(h.opt, Some(OptLevel::Speed));
        assert_eq!(
            Header::of_text("function %f() {\ntarget x86_64\n"),
            Header::default()
        );
    }

    #[test]
    fn header_flags_choose_a_preset_executor() {
        let p = |lines: &[&str]| preset_executor(&Header::parse(lines.iter().copied()));
        assert_eq!(p(&["test run", "target x86_64"]), None);
        assert_eq!(p(&["target pulley64"]), None);
        assert_eq!(p(&["target x86_64 has_cmpxchg16b"]), None);
        if HostFeatures::Sse41.host_supports() {
            assert_eq!(
                p(&[
                    "set opt_level=speed",
                    "target x86_64 has_sse3 has_sse41",
                    "target x86_64 has_avx"
                ]),
                Some(Executor::Native(ClifConfig {
                    opt_level: OptLevel::Speed,
                    features: HostFeatures::Sse41,
                    ..ClifConfig::default()
                }))
            );
        }
        if HostFeatures::Avx2.host_supports() {
            assert!(matches!(
                p(&["target x86_64 has_fma has_avx"]),
                Some(Executor::Native(ClifConfig {
                    features: HostFeatures::Avx2,
                    opt_level: OptLevel::None,
                    ..
                }))
            ));
        }
    }

    #[test]
    fn headers_admit_their_targets_flags_and_opt_level() {
        let base = |opt_level| ClifConfig {
            opt_level,
            features: HostFeatures::Baseline,
            ..ClifConfig::default()
        };
        let all = vec![
            (Executor::Native(base(OptLevel::None)), vec![]),
            (
                Executor::Native(ClifConfig {
                    features: HostFeatures::Native,
                    ..base(OptLevel::None)
                }),
                vec!["has_cmpxchg16b".to_string()],
            ),
            (Executor::Native(base(OptLevel::Speed)), vec![]),
            (Executor::Pulley(OptLevel::None), vec![]),
            (Executor::MidEnd(base(OptLevel::Speed)), vec![]),
        ];
        let admit = |text: &str| admitted(&all, &Header::of_text(text));
        assert_eq!(admit("test run\n").len(), 5);
        assert_eq!(
            admit("target pulley64\n"),
            vec![Executor::Pulley(OptLevel::None)]
        );
        let x = admit("set opt_level=none\ntarget x86_64 has_cmpxchg16b\n");
        assert_eq!(x, vec![all[1].0]);
        let speed = admit("set opt_level=speed\ntarget x86_64\ntarget pulley64\n");
        assert_eq!(speed, vec![all[2].0, all[4].0]);
    }
}
