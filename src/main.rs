//! The `shoal` command-line interface (subcommands are added by the issues
//! that build them).

fn main() {
    eprintln!("shoal: no subcommands yet");
    std::process::exit(2);
}
