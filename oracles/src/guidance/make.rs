//! Turning a chosen rule into a test case.
//!
//! A rule's first guided case replays its own corpus seed (the harvest
//! verified that it fires the rule). Later cases vary: a structurally
//! mutated seed ([`shoal_generators::mutate`]), another seed, or a fresh
//! instantiation of one of the rule's patterns with random types and
//! immediates — as CLIF (compiled for x86-64 with the ISA flags the
//! pattern needs, or for Pulley) or, for x86-64 and mid-end rules, as
//! wasm through the JIT's translator.

use cranelift_codegen::data_value::DataValue;
use cranelift_codegen::ir::{Function, TrapCode, Type};
use cranelift_codegen::settings::Configurable;
use shoal_generators::mutate::mutate_case;
use shoal_generators::rng::Rng;
use shoal_generators::rule_guided::Prepared;
use shoal_generators::rule_guided::wasm::random_wasm;
use shoal_generators::testcase::{ClifCase, ClifFunction, ClifRun};
use shoal_generators::{TestCase, clif};
use shoal_runtime::clif::{ClifModule, Invocation as ClifInvocation, Outcome, interp};

use super::catalog::{Catalog, Rule};
use super::schedule::RuleStats;

/// How a guided case is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipe {
    /// Corpus seed `n` (index into [`Catalog::seeds`]) as it is.
    Replay(usize),
    /// Corpus seed `n`, structurally mutated.
    Mutate(usize),
    /// The rule's pattern `n`, instantiated as CLIF.
    Clif(usize),
    /// The rule's pattern `n`, instantiated as wasm.
    Wasm(usize),
}

impl Recipe {
    /// A short name (`replay`, `mutate`, `clif`, `wasm`).
    pub fn name(self) -> &'static str {
        match self {
            Recipe::Replay(_) => "replay",
            Recipe::Mutate(_) => "mutate",
            Recipe::Clif(_) => "pattern-clif",
            Recipe::Wasm(_) => "pattern-wasm",
        }
    }
}

/// The recipes worth trying for `rule`, best first: its own seed on the
/// first try, otherwise a weighted random order over mutation, fresh
/// instantiation and other seeds. `patterns` is the number of patterns
/// the rule has; seeds `usable` rejects are left out.
pub fn recipes(
    rule: &Rule,
    stats: RuleStats,
    patterns: usize,
    usable: impl Fn(usize) -> bool,
    r: &mut Rng<'_>,
) -> Vec<Recipe> {
    let seeds: Vec<usize> = rule.seeds.iter().copied().filter(|&s| usable(s)).collect();
    let mut out = Vec::new();
    if stats.tries == 0
        && let Some(&s) = seeds.first()
    {
        out.push(Recipe::Replay(s));
    }
    let wasm_ok = matches!(rule.unit_name(), "x64" | "opt");
    let mut options: Vec<(u32, Recipe)> = Vec::new();
    if !seeds.is_empty() {
        options.push((3, Recipe::Mutate(seeds[r.index(seeds.len())])));
        options.push((1, Recipe::Replay(seeds[r.index(seeds.len())])));
    }
    if patterns > 0 {
        options.push((4, Recipe::Clif(r.index(patterns))));
        if wasm_ok {
            options.push((1, Recipe::Wasm(r.index(patterns))));
        }
    }
    while !options.is_empty() {
        let weights: Vec<u32> = options.iter().map(|(w, _)| *w).collect();
        let (_, recipe) = options.remove(r.weighted(&weights));
        if !out.contains(&recipe) {
            out.push(recipe);
        }
    }
    out
}

/// Builds the case of `recipe` for `rule` (`None` if it cannot be made,
/// e.g. a pattern with no valid instance, or no invocation of it is safe
/// to run natively, see [`keep_safe_runs`]).
pub fn build(
    recipe: Recipe,
    rule: &Rule,
    catalog: &Catalog,
    patterns: &[Prepared],
    r: &mut Rng<'_>,
) -> Option<TestCase> {
    let case = build_unchecked(recipe, rule, catalog, patterns, r)?;
    match case {
        TestCase::Clif(mut c) => keep_safe_runs(&mut c).then_some(TestCase::Clif(c)),
        wasm => Some(wasm),
    }
}

/// Drops the invocations of a CLIF case that access memory out of bounds
/// in the reference interpreter (native code would really do it: a seed's
/// loads and stores address a stack slot, but mutated arguments or
/// immediates, or a fresh pattern's address arithmetic on parameters, can
/// point anywhere). Returns whether any invocation is left.
pub fn keep_safe_runs(case: &mut ClifCase) -> bool {
    let funcs: Vec<Function> = case.functions.iter().map(|f| f.function.clone()).collect();
    let Ok(module) = ClifModule::new(funcs) else {
        return false;
    };
    let mut left = 0;
    for f in &mut case.functions {
        f.runs.retain(|run| {
            let inv = ClifInvocation {
                func: format!("%{}", run.func),
                args: run.args.clone(),
            };
            !matches!(
                interp::run(&module, &inv, CHECK_FUEL),
                Ok(Outcome::Trapped(code)) if code == TrapCode::HEAP_OUT_OF_BOUNDS
            )
        });
        left += f.runs.len();
    }
    left > 0
}

/// Fuel for [`keep_safe_runs`]' interpretation (as the CLIF target's).
const CHECK_FUEL: u64 = crate::targets::CLIF_FUEL;

fn build_unchecked(
    recipe: Recipe,
    rule: &Rule,
    catalog: &Catalog,
    patterns: &[Prepared],
    r: &mut Rng<'_>,
) -> Option<TestCase> {
    match recipe {
        Recipe::Replay(s) => TestCase::from_bytes(&catalog.seeds().get(s)?.bytes).ok(),
        Recipe::Mutate(s) => {
            let mut case = TestCase::from_bytes(&catalog.seeds().get(s)?.bytes).ok()?;
            for _ in 0..r.range(1, 3) {
                mutate_case(&mut case, r);
            }
            Some(case)
        }
        Recipe::Clif(p) => {
            let prepared = patterns.get(p)?;
            let func = prepared.random_clif("f", r, false)?;
            Some(TestCase::Clif(clif_case(rule, prepared, func, r)))
        }
        Recipe::Wasm(p) => random_wasm(patterns.get(p)?, r).map(TestCase::Wasm),
    }
}

/// A filetest around `func`: the opt level the rule's unit needs
/// (lowering rules fire at `none` already, mid-end rules need `speed`),
/// the target (x86-64 with the pattern's required ISA flags, or Pulley),
/// and a few runs with dictionary arguments.
fn clif_case(rule: &Rule, prepared: &Prepared, func: Function, r: &mut Rng<'_>) -> ClifCase {
    let opt = if rule.unit_name() == "opt" {
        "speed"
    } else {
        "none"
    };
    let target = if rule.unit_name() == "pulley" {
        "target pulley64".to_string()
    } else {
        let mut line = "target x86_64".to_string();
        for flag in x64_flags(prepared) {
            line.push(' ');
            line.push_str(&flag);
        }
        line
    };
    let header = vec![
        "test interpret".to_string(),
        "test run".to_string(),
        format!("set opt_level={opt}"),
        "set enable_llvm_abi_extensions=true".to_string(),
        "set preserve_frame_pointers=true".to_string(),
        target,
    ];
    let params: Vec<_> = func.signature.params.iter().map(|p| p.value_type).collect();
    let runs = if params.is_empty() { 1 } else { r.range(2, 4) };
    let name = func.name.to_string().trim_start_matches('%').to_string();
    let runs = (0..runs)
        .map(|_| ClifRun {
            func: name.clone(),
            args: params.iter().map(|&t| argument(r, t)).collect(),
            expect: None,
        })
        .collect();
    ClifCase {
        header,
        functions: vec![ClifFunction {
            function: func,
            runs,
        }],
    }
}

/// A dictionary argument of type `ty` (vectors narrower than 128 bits get
/// a value of their own width: the reader rejects wider ones).
fn argument(r: &mut Rng<'_>, ty: Type) -> DataValue {
    let v = clif::data_value(r, ty);
    match (ty.is_vector(), ty.bits(), v) {
        (true, 64, DataValue::V128(b)) => DataValue::V64(b[..8].try_into().unwrap_or([0; 8])),
        (true, 32, DataValue::V128(b)) => DataValue::V32(b[..4].try_into().unwrap_or([0; 4])),
        (true, 16, DataValue::V128(b)) => DataValue::V16(b[..2].try_into().unwrap_or([0; 2])),
        (_, _, v) => v,
    }
}

/// The x86-64 ISA flags the pattern requires, keeping only names the
/// x86-64 backend knows (so the filetest parses back).
fn x64_flags(prepared: &Prepared) -> Vec<String> {
    let Ok(mut builder) = cranelift_codegen::isa::lookup_by_name("x86_64") else {
        return Vec::new();
    };
    prepared
        .pattern
        .flags
        .iter()
        .filter(|(name, on)| **on && builder.enable(name).is_ok())
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{Opcode, types};
    use shoal_generators::pattern::{Pattern, TypeSet};
    use shoal_generators::rng::seed_bytes;
    use std::sync::Arc;

    fn catalog() -> Catalog {
        let mut c = Catalog::new();
        c.add_rule("x64", "src/isa/x64/lower.isle:1");
        c.add_rule("pulley", "src/isa/pulley_shared/lower.isle:1");
        let seed = "test interpret\ntarget x86_64\n\nfunction %f(i32) -> i32 {\nblock0(v0: i32):\n    v1 = iadd v0, v0\n    return v1\n}\n; run: %f(1) == 2\n";
        let bytes: Arc<[u8]> = seed.as_bytes().into();
        c.add_seed(0, "clif_lower/s.clif", bytes, true);
        c
    }

    fn popcnt() -> Prepared {
        let mut p = Pattern::new();
        let x = p.add_any(TypeSet::of(types::I64));
        p.root = p.add_inst(Opcode::Popcnt, TypeSet::of(types::I64), vec![x], vec![]);
        p.flags.insert("has_popcnt".into(), true);
        p.flags.insert("has_nothing_such".into(), true);
        Prepared::new(&p, 12)
    }

    #[test]
    fn the_first_try_replays_the_own_seed() {
        let c = catalog();
        let b = seed_bytes(1, 256);
        let rs = recipes(
            &c.rules()[0],
            RuleStats::default(),
            1,
            |_| true,
            &mut Rng::new(&b),
        );
        assert_eq!(rs[0], Recipe::Replay(0));
        assert!(rs.contains(&Recipe::Mutate(0)));
        assert!(rs.contains(&Recipe::Clif(0)) && rs.contains(&Recipe::Wasm(0)));
        let later = RuleStats {
            tries: 1,
            ..RuleStats::default()
        };
        let b = seed_bytes(2, 256);
        let pulley = recipes(&c.rules()[1], later, 2, |_| true, &mut Rng::new(&b));
        let b = seed_bytes(3, 256);
        let none = recipes(
            &c.rules()[0],
            RuleStats::default(),
            0,
            |_| false,
            &mut Rng::new(&b),
        );
        assert!(none.is_empty(), "{none:?}");
        assert!(
            pulley.iter().all(|r| matches!(r, Recipe::Clif(_))),
            "{pulley:?}"
        );
    }

    #[test]
    fn every_recipe_builds_a_case() {
        let c = catalog();
        let pats = [popcnt()];
        for seed in 0..8 {
            let b = seed_bytes(seed, 512);
            let mut r = Rng::new(&b);
            for recipe in [
                Recipe::Replay(0),
                Recipe::Mutate(0),
                Recipe::Clif(0),
                Recipe::Wasm(0),
            ] {
                let case = build(recipe, &c.rules()[0], &c, &pats, &mut r).unwrap();
                let text = String::from_utf8_lossy(&case.to_bytes()).to_string();
                // Every case survives its own serialization.
                assert_eq!(TestCase::from_bytes(&case.to_bytes()).unwrap(), case);
                if recipe == Recipe::Clif(0) {
                    assert!(text.contains("target x86_64 has_popcnt\n"), "{text}");
                    assert!(text.contains("popcnt"), "{text}");
                    assert!(text.contains("set opt_level=none"), "{text}");
                }
                if recipe == Recipe::Wasm(0) {
                    assert!(matches!(case, TestCase::Wasm(_)));
                }
            }
        }
        assert!(
            build(
                Recipe::Replay(9),
                &c.rules()[0],
                &c,
                &pats,
                &mut Rng::new(&[])
            )
            .is_none()
        );
        assert!(
            build(
                Recipe::Clif(3),
                &c.rules()[0],
                &c,
                &pats,
                &mut Rng::new(&[])
            )
            .is_none()
        );
    }

    #[test]
    fn out_of_bounds_invocations_are_dropped() {
        let text = "function %f(i64) -> i32 {\n    ss0 = explicit_slot 8\nblock0(v0: i64):\n    v1 = stack_addr.i64 ss0\n    v2 = iadd v1, v0\n    v3 = load.i32 v2\n    return v3\n}\n; run: %f(0) == 0\n; run: %f(4096) == 0\n";
        let TestCase::Clif(mut case) = TestCase::from_bytes(text.as_bytes()).unwrap() else {
            panic!()
        };
        assert!(keep_safe_runs(&mut case));
        assert_eq!(case.functions[0].runs.len(), 1);
        case.functions[0].runs[0].args = vec![DataValue::I64(1 << 20)];
        assert!(!keep_safe_runs(&mut case));
    }

    #[test]
    fn narrow_vector_and_half_and_quad_float_arguments_parse_back() {
        let c = catalog();
        for (ty, op) in [
            (types::I8X8, Opcode::Iadd),
            (types::F16, Opcode::Fadd),
            (types::F128, Opcode::Fadd),
        ] {
            let mut p = Pattern::new();
            let x = p.add_any(TypeSet::of(ty));
            p.root = p.add_inst(op, TypeSet::of(ty), vec![x, x], vec![]);
            let pats = [Prepared::new(&p, 12)];
            for seed in 0..8 {
                let b = seed_bytes(seed, 512);
                let case =
                    build(Recipe::Clif(0), &c.rules()[0], &c, &pats, &mut Rng::new(&b)).unwrap();
                let text = String::from_utf8(case.to_bytes()).unwrap();
                let parsed = shoal_runtime::clif::ClifModule::parse_with_runs(&text);
                assert!(
                    parsed.is_ok(),
                    "{ty}: {parsed:?}\n{text}",
                    parsed = parsed.err()
                );
            }
        }
    }

    #[test]
    fn pulley_cases_target_pulley() {
        let c = catalog();
        let b = seed_bytes(3, 512);
        let case = build(
            Recipe::Clif(0),
            &c.rules()[1],
            &c,
            &[popcnt()],
            &mut Rng::new(&b),
        )
        .unwrap();
        let text = String::from_utf8(case.to_bytes()).unwrap();
        assert!(text.contains("target pulley64"), "{text}");
    }
}
