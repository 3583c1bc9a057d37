//! `shoal reduce FILE -o OUT`: minimizes a test case while it keeps showing
//! the same finding (same kind, same disagreeing executions, same
//! trap/compile-failure shape), judged by the campaign's own target:
//! `wasm-shrink` for wasm, shoal's structural reducer for CLIF. Prints the
//! sizes before and after. Ctrl-C stops early and keeps the smallest case
//! so far. Exit status: 0 when reduced (or already minimal), 1 when the
//! case shows no finding, 2 on bad input.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use shoal_oracles::reduce::{Budget, ReduceError, reduce_case};

use super::repro::{
    TargetName, load_case, make_target, new_hits, parse_fault, quiet_cranelift_panics,
    write_atomically,
};

/// Flags of `shoal reduce`.
#[derive(clap::Args)]
pub struct Args {
    /// A `.wasm` or `.clif` test case, or a libFuzzer input (with --target).
    file: PathBuf,
    /// Where to write the reduced test case.
    #[arg(short, long)]
    output: PathBuf,
    /// The fuzz target the input is for (required for raw libFuzzer
    /// inputs; inferred for test cases).
    #[arg(long, value_enum)]
    target: Option<TargetName>,
    /// Time budget in seconds.
    #[arg(long, default_value_t = 60.0)]
    time: f64,
    /// Test only: add a JIT that miscompiles a wasm operator
    /// (`op->clif_opcode`, e.g. `i32.add->isub`).
    #[arg(long, value_name = "OP->OPCODE", hide = true)]
    inject_fault: Option<String>,
}

/// Reduces the case and writes it; see the module docs for the exit status.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.time.is_finite() && args.time > 0.0,
        "--time must be a positive number of seconds"
    );
    let out_dir = args
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    anyhow::ensure!(
        out_dir.is_dir(),
        "cannot write {}: {} is not a directory",
        args.output.display(),
        out_dir.display()
    );
    anyhow::ensure!(
        !args.output.is_dir(),
        "cannot write {}: it is a directory",
        args.output.display()
    );
    let fault = args.inject_fault.as_deref().map(parse_fault).transpose()?;
    let (case, target_name) = load_case(&args.file, args.target)?;
    quiet_cranelift_panics();
    let mut target = make_target(target_name, fault, new_hits());
    let budget = Budget {
        time: Duration::from_secs_f64(args.time),
        ..Budget::default()
    };
    let stop = super::stop_on_ctrl_c();
    let reduced = match reduce_case(target.as_mut(), &case, None, budget, stop) {
        Ok(r) => r,
        Err(ReduceError::NotReproducible(why)) => {
            eprintln!("shoal: nothing to reduce: {why}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };
    write_atomically(&args.output, &reduced.case.to_bytes())
        .with_context(|| format!("writing the reduced case to {}", args.output.display()))?;
    println!("before: {}", reduced.before);
    println!("after:  {}", reduced.after);
    println!("{}", reduced.summary());
    println!("finding: {}", reduced.finding.difference);
    println!("signature: {}", reduced.finding.signature);
    if let Some(text) = &reduced.finding.text {
        println!("\n{}", text.trim_end());
    }
    println!("\nwritten to {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
