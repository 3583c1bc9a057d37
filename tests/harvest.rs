//! `shoal harvest --check --report --json` on the checked-in corpus: the
//! corpus must be current, and verified-firing seeds must cover the floors
//! the harvester promises: ≥80% of `src/isa/x64/lower.isle` and of
//! `src/opts/*.isle`, ≥60% of each other backend's `lower.isle`.

use std::process::Command;

fn fraction(json: &serde_json::Value, unit: &str, prefix: &str) -> (u64, u64) {
    let files = json["units"][unit]["files"]
        .as_object()
        .unwrap_or_else(|| panic!("no unit {unit} in the report"));
    let mut rules = 0;
    let mut firing = 0;
    for (name, counts) in files {
        if name.starts_with(prefix) {
            rules += counts["rules"].as_u64().unwrap();
            firing += counts["seeds_firing"].as_u64().unwrap();
        }
    }
    assert!(rules > 0, "no rules under {prefix} in {unit}");
    (firing, rules)
}

#[test]
fn corpus_is_current_and_covers_the_floors() {
    let out = Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["harvest", "--check", "--report", "--json"])
        .output()
        .expect("running shoal");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "`shoal harvest --check` failed (regenerate with `shoal harvest`):\n{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the report is JSON");
    let floors = [
        ("x64", "src/isa/x64/lower.isle", 80),
        ("opt", "src/opts/", 80),
        ("aarch64", "src/isa/aarch64/lower.isle", 60),
        ("riscv64", "src/isa/riscv64/lower.isle", 60),
        ("s390x", "src/isa/s390x/lower.isle", 60),
        ("pulley", "src/isa/pulley_shared/lower.isle", 60),
    ];
    for (unit, prefix, floor) in floors {
        let (firing, rules) = fraction(&json, unit, prefix);
        assert!(
            firing * 100 >= rules * floor,
            "{unit} {prefix}: {firing}/{rules} rules have a firing seed, below {floor}%"
        );
    }
    assert!(json["unhandled"].is_object());
}
