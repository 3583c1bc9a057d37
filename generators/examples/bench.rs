//! Prints generation and mutation rates: `cargo run --release --example
//! bench -- [seconds per generator]`.

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let budget = std::time::Duration::from_secs_f64(secs);
    for r in shoal_generators::bench::generation_rates(budget) {
        println!("{r}");
    }
    for r in shoal_generators::bench::mutation_rates(budget) {
        println!("{r}");
    }
}
