//! Smoke test of the benchmark kernels (tiny sizes): they run, their
//! results are checked inside `bench_kernels`, and instructions are counted.

use shoal_runtime::interp::bench::{BenchSize, Outcome, bench_kernels};

#[test]
fn kernels_run_and_count() {
    let reports = bench_kernels(BenchSize::SMOKE);
    assert_eq!(reports.len(), 3);
    for r in &reports {
        println!("{r}");
        match &r.outcome {
            Outcome::Ran(f) => assert!(f.instructions > 100, "{r}"),
            Outcome::Skipped(why) => {
                assert!(r.name.starts_with("simd"), "{r}");
                assert_eq!(why, "SIMD unavailable");
            }
            Outcome::Failed(_) => panic!("{r}"),
        }
    }
    assert!(matches!(reports[0].outcome, Outcome::Ran(_)));
    assert!(matches!(reports[1].outcome, Outcome::Ran(_)));
}
