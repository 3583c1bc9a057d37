//! The `shoal` command-line interface. Thin: parses flags, calls the
//! libraries, prints. Each subcommand lives in its own `cmd/` module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// shoal: finds miscompilations in Cranelift and the wasm engines built on it.
#[derive(Parser)]
#[command(name = "shoal", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    // Each subcommand: `Name(cmd::name::Args)` here plus one arm in `main`.
    /// Fuzz Cranelift: generate, judge on every execution, write findings.
    Fuzz(cmd::fuzz::Args),
    /// Print throughput benchmarks (interpreter, JIT, generators).
    Bench(cmd::bench::Args),
    /// Validate wasm modules against shoal's supported feature set.
    Validate(cmd::validate::Args),
    /// Run spec testsuite `.wast` scripts on shoal's engines.
    Spectest(cmd::spectest::Args),
    /// Compile CLIF test cases and report ISLE rule coverage.
    Coverage(cmd::coverage::Args),
    /// Turn Cranelift's ISLE rules into verified seeds (corpus/).
    Harvest(cmd::harvest::Args),
    /// Replay a test case or libFuzzer input on every execution.
    Repro(cmd::repro::Args),
    /// Minimize a test case while it shows the same finding.
    Reduce(cmd::reduce::Args),
}

fn main() -> ExitCode {
    // Die quietly when stdout is a closed pipe (`shoal repro x | head`), as
    // Unix tools do, instead of panicking in `println!`.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    let result: anyhow::Result<ExitCode> = match cli.command {
        Command::Bench(a) => cmd::bench::run(a),
        Command::Fuzz(a) => cmd::fuzz::run(a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Spectest(a) => cmd::spectest::run(a),
        Command::Coverage(a) => cmd::coverage::run(a),
        Command::Harvest(a) => cmd::harvest::run(a),
        Command::Repro(a) => cmd::repro::run(a),
        Command::Reduce(a) => cmd::reduce::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shoal: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
