//! Prints size statistics of generated wasm cases (development aid).

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let kind = std::env::args().nth(2).unwrap_or_else(|| "wasm".into());
    let (mut bytes, mut ops, mut funcs, mut invs) = (0usize, 0usize, 0usize, 0usize);
    let start = std::time::Instant::now();
    for seed in 0..n {
        let case = if kind == "smith" {
            let bytes = shoal_generators::rng::seed_bytes(seed, shoal_generators::SEED_INPUT_LEN);
            shoal_generators::smith::generate(&mut arbitrary::Unstructured::new(&bytes))
        } else {
            shoal_generators::wasm::generate_from_seed(seed)
        };
        bytes += case.module.len();
        invs += case.invocations.len();
        for payload in wasmparser::Parser::new(0).parse_all(&case.module) {
            if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
                funcs += 1;
                let mut r = body.get_operators_reader().unwrap();
                while !r.eof() {
                    r.read().unwrap();
                    ops += 1;
                }
            }
        }
    }
    let n = n as usize;
    println!(
        "{n} cases in {:?}: {} bytes/case, {} funcs/case, {} ops/func, {} invocations/case",
        start.elapsed(),
        bytes / n,
        funcs as f64 / n as f64,
        ops / funcs.max(1),
        invs as f64 / n as f64
    );
}
