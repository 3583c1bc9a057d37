//! `shoal validate FILE...`: checks modules against shoal's feature set
//! (WebAssembly 2.0 + multi-memory, memory64, tail calls, extended const).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Flags of `shoal validate`.
#[derive(clap::Args)]
pub struct Args {
    /// `.wasm` files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Validates every file; exits 1 if any is rejected.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut rejected = 0;
    for path in &args.files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        match shoal_runtime::Module::new(&bytes) {
            Ok(m) => println!("{}: ok ({} functions)", path.display(), m.funcs.len()),
            Err(e) => {
                rejected += 1;
                let message = e.to_string();
                let one_line: Vec<&str> = message.split_whitespace().collect();
                eprintln!("{}: {}", path.display(), one_line.join(" "));
            }
        }
    }
    Ok(if rejected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
