//! The harvest: rules → patterns → candidate seeds → verified seeds.
//!
//! For every unit, every rule of an entry-point term with a pattern is
//! instantiated into a few CLIF functions (different types and immediates),
//! each compiled under a few ISA-flag configurations with rule coverage on.
//! Seeds are then selected deterministically:
//!
//! 1. per pattern rule, its first candidate that fires it (`fired = own`);
//! 2. every other rule of the unit fired by an already selected seed is
//!    attributed to it (`fired = incidental`);
//! 3. a rule still uncovered gets the first candidate of any rule that
//!    fires it (`incidental`).
//!
//! Selected seeds get `; run:` lines from the interpreter and are compiled
//! once more in their final form; only rules that final compilation fires
//! are credited.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use cranelift_codegen::ir::Function;
use shoal_generators::rule_guided::wasm::instantiate_wasm;
use shoal_generators::rule_guided::{ClifOptions, instantiate_clif};

use crate::error::Result;
use crate::extract::{RulePattern, extract_unit};
use crate::isa::{IsaConfig, configs};
use crate::parse::ParsedUnit;
use crate::rules::RuleId;
use crate::runs::run_lines;
use crate::sources::{IsleSources, Unit};
use crate::verify::{VerifyError, compile_hits, compile_wasm_hits};

/// A fuzz target a seed belongs to (its corpus directory name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FuzzTarget {
    /// CLIF compiled with `opt_level=none`: lowering rules.
    ClifLower,
    /// CLIF through the mid-end (`opt_level=speed`): `opts/*.isle` rules.
    ClifOpt,
    /// Wasm through the differential oracle (JIT and interpreters).
    WasmDiff,
}

impl FuzzTarget {
    /// The corpus directory (and cargo-fuzz target) name.
    pub fn name(self) -> &'static str {
        match self {
            FuzzTarget::ClifLower => "clif_lower",
            FuzzTarget::ClifOpt => "clif_opt",
            FuzzTarget::WasmDiff => "wasm_diff",
        }
    }

    /// The file extension of its seeds.
    pub fn extension(self) -> &'static str {
        match self {
            FuzzTarget::WasmDiff => "wasm",
            _ => "clif",
        }
    }

    /// The target for a unit's seeds.
    pub fn for_unit(unit: Unit) -> FuzzTarget {
        if unit.is_lowering() {
            FuzzTarget::ClifLower
        } else {
            FuzzTarget::ClifOpt
        }
    }

    fn opt_level(self) -> &'static str {
        match self {
            FuzzTarget::ClifLower => "none",
            FuzzTarget::ClifOpt | FuzzTarget::WasmDiff => "speed",
        }
    }
}

impl fmt::Display for FuzzTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a rule came to have a seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fired {
    /// A seed made from the rule's own pattern fires it.
    Own,
    /// A seed made for another rule fires it.
    Incidental,
}

/// Why a rule has no seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Miss {
    /// A rule of a helper term (reached only through other rules), and no
    /// seed happened to fire it.
    Helper,
    /// An entry-point rule whose left-hand side did not resolve to an
    /// instruction pattern.
    NoPattern,
    /// The pattern could not be instantiated into a valid function.
    NoInstance,
    /// Every instance failed to compile.
    CompileError,
    /// Instances compiled but the rule did not fire.
    NotFired,
    /// Verification was not run.
    Unverified,
}

impl Miss {
    /// A short kebab-case name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Miss::Helper => "helper",
            Miss::NoPattern => "no-pattern",
            Miss::NoInstance => "no-instance",
            Miss::CompileError => "compile-error",
            Miss::NotFired => "not-fired",
            Miss::Unverified => "unverified",
        }
    }
}

/// What the harvest made of one rule.
#[derive(Clone, Debug)]
pub struct RuleOutcome {
    /// The rule.
    pub rule: RuleId,
    /// Its term.
    pub term: String,
    /// Whether a pattern was extracted.
    pub has_pattern: bool,
    /// Extern extractors/constructors its left-hand side uses without a
    /// handler.
    pub unhandled: BTreeSet<String>,
    /// The seed (index into [`Harvest::seeds`]) that fires it, and how.
    pub seed: Option<(usize, Fired)>,
    /// A wasm seed made from its pattern that fires it (x64 and mid-end
    /// rules whose pattern maps to wasm).
    pub wasm_seed: Option<usize>,
    /// Why there is no seed.
    pub miss: Option<Miss>,
    /// For [`Miss::CompileError`]: the first compilation error.
    pub error: Option<String>,
}

/// One selected, verified seed.
#[derive(Clone, Debug)]
pub struct Seed {
    /// Content-derived file name (`<hash>.clif` or `<hash>.wasm`).
    pub name: String,
    /// Its fuzz target.
    pub target: FuzzTarget,
    /// The unit whose rules it was verified against.
    pub unit: Unit,
    /// The file's content: filetest text, or a wasm test case (module plus
    /// invocations section).
    pub bytes: Vec<u8>,
    /// Rules of the unit its final compilation fires.
    pub hits: BTreeSet<RuleId>,
}

/// The harvest of one unit.
#[derive(Clone, Debug)]
pub struct UnitHarvest {
    /// The unit.
    pub unit: Unit,
    /// Every rule of the unit, in rule-table order.
    pub rules: Vec<RuleOutcome>,
}

/// A Cranelift panic on a verifier-accepted function: a Cranelift bug, or
/// an unsupported combination that should be a clean error.
#[derive(Clone, Debug)]
pub struct CraneliftPanic {
    /// The rule whose candidate it was.
    pub rule: RuleId,
    /// The panic message.
    pub message: String,
    /// The filetest that reproduces it (`clif-util test`).
    pub filetest: String,
}

/// The whole harvest.
#[derive(Clone, Debug, Default)]
pub struct Harvest {
    /// Per unit.
    pub units: Vec<UnitHarvest>,
    /// Every selected seed, in selection order.
    pub seeds: Vec<Seed>,
    /// Cranelift panics met while verifying valid (verifier-accepted)
    /// functions.
    pub panics: Vec<CraneliftPanic>,
}

/// Options of a harvest.
#[derive(Clone, Debug)]
pub struct HarvestOptions {
    /// Units to harvest.
    pub units: Vec<Unit>,
    /// Compile candidates and select verified seeds (otherwise only
    /// patterns are extracted).
    pub verify: bool,
    /// Instantiation options.
    pub clif: ClifOptions,
    /// Also make wasm seeds (x64 and mid-end rules whose patterns map to
    /// wasm).
    pub wasm: bool,
}

impl Default for HarvestOptions {
    fn default() -> HarvestOptions {
        HarvestOptions {
            units: Unit::ALL.to_vec(),
            verify: true,
            clif: ClifOptions {
                max_variants: 6,
                max_typings: 12,
                spill_vectors: false,
            },
            wasm: true,
        }
    }
}

/// One compiled candidate.
struct Candidate {
    func: Function,
    config: IsaConfig,
    hits: BTreeSet<RuleId>,
}

/// Runs the harvest.
pub fn harvest(sources: &IsleSources, opts: &HarvestOptions) -> Result<Harvest> {
    if opts.verify && !crate::coverage::available() {
        return Err(crate::error::Error::NoCoverage);
    }
    let mut out = Harvest::default();
    for unit in &opts.units {
        let checked = ParsedUnit::parse(sources, *unit)?.check()?;
        let patterns = extract_unit(&checked);
        drop(checked);
        let uh = harvest_unit(*unit, patterns, opts, &mut out);
        out.units.push(uh);
    }
    Ok(out)
}

/// The filetest text of a seed.
pub fn seed_text(func: &Function, cfg: &IsaConfig, target: FuzzTarget, runs: &[String]) -> String {
    let mut s = String::new();
    if runs.is_empty() {
        s.push_str("test compile\n");
    } else {
        s.push_str("test interpret\n");
        s.push_str(if cfg.executable() {
            "test run\n"
        } else {
            "test compile\n"
        });
    }
    s.push_str(&format!("set opt_level={}\n", target.opt_level()));
    s.push_str("set enable_llvm_abi_extensions=true\n");
    s.push_str(&cfg.target_line());
    s.push_str("\n\n");
    s.push_str(&func.display().to_string());
    for r in runs {
        s.push_str(r);
        s.push('\n');
    }
    s
}

fn harvest_unit(
    unit: Unit,
    patterns: Vec<RulePattern>,
    opts: &HarvestOptions,
    out: &mut Harvest,
) -> UnitHarvest {
    let target = FuzzTarget::for_unit(unit);
    let in_unit: BTreeSet<RuleId> = patterns.iter().map(|p| p.rule.clone()).collect();
    // Candidates per pattern rule (index into `patterns`).
    let mut cands: Vec<Vec<Candidate>> = Vec::with_capacity(patterns.len());
    let mut misses: Vec<Option<Miss>> = Vec::with_capacity(patterns.len());
    let mut errors: Vec<Option<String>> = Vec::with_capacity(patterns.len());
    for rp in &patterns {
        let (c, miss, error) = match (&rp.pattern, opts.verify) {
            (None, _) if crate::extract::ROOT_TERMS.contains(&rp.term.as_str()) => {
                (Vec::new(), Some(Miss::NoPattern), None)
            }
            (None, _) if rp.grafts.is_empty() => (Vec::new(), Some(Miss::Helper), None),
            (_, false) => (Vec::new(), Some(Miss::Unverified), None),
            (Some(p), true) => candidates(unit, target, rp, p, opts.clif, &in_unit, out),
            (None, true) => graft_candidates(unit, target, rp, opts, &in_unit, out),
        };
        cands.push(c);
        misses.push(miss);
        errors.push(error);
    }
    let mut chosen: BTreeMap<RuleId, (usize, Fired)> = BTreeMap::new();
    let mut selected: Vec<(usize, usize)> = Vec::new();
    // 1. Own seeds.
    for (i, rp) in patterns.iter().enumerate() {
        if let Some(j) = cands[i].iter().position(|c| c.hits.contains(&rp.rule)) {
            selected.push((i, j));
            chosen.insert(rp.rule.clone(), (selected.len() - 1, Fired::Own));
        }
    }
    // 2 and 3. Incidental seeds.
    for rp in &patterns {
        if chosen.contains_key(&rp.rule) {
            continue;
        }
        let fired_by_selected = selected
            .iter()
            .position(|(i, j)| cands[*i][*j].hits.contains(&rp.rule));
        let k = match fired_by_selected {
            Some(k) => k,
            None => {
                let found = cands.iter().enumerate().find_map(|(i, cs)| {
                    cs.iter()
                        .position(|c| c.hits.contains(&rp.rule))
                        .map(|j| (i, j))
                });
                match found {
                    Some(sel) => {
                        selected.push(sel);
                        selected.len() - 1
                    }
                    None => continue,
                }
            }
        };
        chosen.insert(rp.rule.clone(), (k, Fired::Incidental));
    }
    // Final form of the selected seeds, verified again.
    let mut seed_index: Vec<Option<usize>> = Vec::with_capacity(selected.len());
    for (i, j) in &selected {
        let c = &cands[*i][*j];
        let runs = run_lines(&c.func);
        let text = seed_text(&c.func, &c.config, target, &runs);
        match compile_hits(&text) {
            Ok(hits) => {
                let hits: BTreeSet<RuleId> =
                    hits.into_iter().filter(|h| in_unit.contains(h)).collect();
                seed_index.push(Some(add_seed(out, target, unit, text.into_bytes(), hits)));
            }
            Err(_) => seed_index.push(None),
        }
    }
    let wasm: Vec<Option<usize>> = patterns
        .iter()
        .map(|rp| match (&rp.pattern, opts.verify && opts.wasm) {
            (Some(p), true) if matches!(unit, Unit::X64 | Unit::Opt) => {
                wasm_seed(unit, rp, p, &in_unit, out)
            }
            _ => None,
        })
        .collect();
    let rules = patterns
        .into_iter()
        .zip(misses)
        .zip(errors)
        .zip(wasm)
        .map(|(((rp, miss), error), wasm_seed)| {
            let seed = chosen.get(&rp.rule).and_then(|(k, how)| {
                let idx = seed_index[*k]?;
                out.seeds[idx]
                    .hits
                    .contains(&rp.rule)
                    .then_some((idx, *how))
            });
            let miss = match seed {
                Some(_) => None,
                None => Some(miss.unwrap_or(Miss::NotFired)),
            };
            RuleOutcome {
                rule: rp.rule,
                term: rp.term,
                has_pattern: rp.pattern.is_some() || !rp.grafts.is_empty(),
                unhandled: rp.unhandled,
                error: if seed.is_none() { error } else { None },
                seed,
                wasm_seed,
                miss,
            }
        })
        .collect();
    UnitHarvest { unit, rules }
}

/// A wasm test case made from the pattern of `rp` whose JIT compilation
/// fires the rule, if one exists.
fn wasm_seed(
    unit: Unit,
    rp: &RulePattern,
    pattern: &shoal_generators::pattern::Pattern,
    in_unit: &BTreeSet<RuleId>,
    out: &mut Harvest,
) -> Option<usize> {
    let cases = instantiate_wasm(pattern, 3);
    if cases.is_empty() {
        return None;
    }
    let (cfgs, opt_level) = match unit {
        Unit::Opt => (configs(Unit::Opt, pattern), "speed"),
        _ => (configs(unit, pattern), "none"),
    };
    for case in cases {
        let bytes = case.to_bytes();
        for cfg in &cfgs {
            let Ok(hits) = compile_wasm_hits(&case.module, cfg, opt_level) else {
                continue;
            };
            if hits.contains(&rp.rule) {
                let hits = hits.into_iter().filter(|h| in_unit.contains(h)).collect();
                return Some(add_seed(out, FuzzTarget::WasmDiff, unit, bytes, hits));
            }
        }
    }
    None
}

/// Candidates of a helper rule: those of its grafted patterns (fewer
/// variants each).
fn graft_candidates(
    unit: Unit,
    target: FuzzTarget,
    rp: &RulePattern,
    opts: &HarvestOptions,
    in_unit: &BTreeSet<RuleId>,
    out: &mut Harvest,
) -> (Vec<Candidate>, Option<Miss>, Option<String>) {
    let clif = ClifOptions {
        max_variants: opts.clif.max_variants.div_ceil(2),
        ..opts.clif
    };
    let mut all = Vec::new();
    let mut first_error = None;
    let mut miss = Some(Miss::NoInstance);
    for p in &rp.grafts {
        let (c, m, e) = candidates(unit, target, rp, p, clif, in_unit, out);
        all.extend(c);
        if first_error.is_none() {
            first_error = e;
        }
        miss = match (miss, m) {
            (_, None) | (None, _) => None,
            (Some(Miss::NoInstance), m) => m,
            (m, _) => m,
        };
    }
    (all, miss, first_error)
}

/// Instantiates and compiles one pattern's candidates.
fn candidates(
    unit: Unit,
    target: FuzzTarget,
    rp: &RulePattern,
    pattern: &shoal_generators::pattern::Pattern,
    clif: ClifOptions,
    in_unit: &BTreeSet<RuleId>,
    out: &mut Harvest,
) -> (Vec<Candidate>, Option<Miss>, Option<String>) {
    let clif = ClifOptions {
        spill_vectors: !crate::isa::returns_vectors(unit),
        ..clif
    };
    let funcs = instantiate_clif(pattern, "f", clif);
    if funcs.is_empty() {
        return (Vec::new(), Some(Miss::NoInstance), None);
    }
    let mut first_error = None;
    let cfgs = configs(unit, pattern);
    let mut cands = Vec::new();
    let mut compiled = false;
    for func in funcs {
        for cfg in &cfgs {
            let text = seed_text(&func, cfg, target, &[]);
            match compile_hits(&text) {
                Ok(hits) => {
                    compiled = true;
                    let hits = hits.into_iter().filter(|h| in_unit.contains(h)).collect();
                    cands.push(Candidate {
                        func: func.clone(),
                        config: cfg.clone(),
                        hits,
                    });
                }
                Err(VerifyError::Panic(msg)) => {
                    first_error.get_or_insert_with(|| format!("panic: {msg}"));
                    out.panics.push(CraneliftPanic {
                        rule: rp.rule.clone(),
                        message: msg,
                        filetest: text.clone(),
                    });
                }
                Err(e) => {
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
    let miss = if compiled {
        None
    } else {
        Some(Miss::CompileError)
    };
    (cands, miss, first_error)
}

/// Adds a seed (once per content) and returns its index.
fn add_seed(
    out: &mut Harvest,
    target: FuzzTarget,
    unit: Unit,
    bytes: Vec<u8>,
    hits: BTreeSet<RuleId>,
) -> usize {
    let name = format!("{:016x}.{}", fnv1a(&bytes), target.extension());
    if let Some(i) = out.seeds.iter().position(|s| s.name == name) {
        return i;
    }
    out.seeds.push(Seed {
        name,
        target,
        unit,
        bytes,
        hits,
    });
    out.seeds.len() - 1
}

/// FNV-1a, 64 bits: a stable content hash for seed names.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
