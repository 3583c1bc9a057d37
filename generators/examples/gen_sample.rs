//! Prints a generated wasm case as text (development aid): `cargo run
//! --example gen_sample -- <seed>`.

fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let case = shoal_generators::wasm::generate_from_seed(seed);
    println!(
        "{}",
        wasmprinter::print_bytes(&case.module).unwrap_or_default()
    );
    for inv in &case.invocations {
        let args: Vec<String> = inv.args.iter().map(|a| a.to_string()).collect();
        println!(";; invoke {}({})", inv.export, args.join(", "));
    }
}
