fn main() {
    let seed: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    print!(
        "{}",
        shoal_generators::clif::generate_from_seed(seed).to_text()
    );
}
