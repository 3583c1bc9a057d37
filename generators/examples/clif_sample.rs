//! Prints a generated CLIF case (development aid): `cargo run --example
//! clif_sample -- <seed> [count]` prints `count` consecutive cases.

fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let count: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    for s in seed..seed + count {
        print!(
            "{}",
            shoal_generators::clif::generate_from_seed(s).to_text()
        );
    }
}
