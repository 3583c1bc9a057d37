//! Generation-rate benchmark (wired to `shoal bench` by the CLI).
//!
//! Each generator runs over consecutive seeds for a time budget; the
//! figures report test cases per second and the mean serialized size, and
//! the same for structural mutation.

use std::time::{Duration, Instant};

use crate::mutate::mutate_case;
use crate::rng::{Rng, seed_bytes};
use crate::testcase::GeneratorKind;

/// Measured throughput of one generator (or mutator).
#[derive(Clone, Debug, PartialEq)]
pub struct Rate {
    /// What was measured, e.g. `wasm` or `mutate-clif`.
    pub name: String,
    /// Test cases produced.
    pub cases: u64,
    /// Wall-clock seconds spent.
    pub seconds: f64,
    /// `cases / seconds`.
    pub cases_per_second: f64,
    /// Mean serialized size in bytes.
    pub mean_bytes: f64,
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<14} {:>10.1} cases/s  ({} cases in {:.2} s, {:.0} bytes/case)",
            self.name, self.cases_per_second, self.cases, self.seconds, self.mean_bytes
        )
    }
}

fn measure(name: String, budget: Duration, mut one: impl FnMut(u64) -> usize) -> Rate {
    let start = Instant::now();
    let (mut cases, mut bytes) = (0u64, 0u64);
    while cases == 0 || start.elapsed() < budget {
        bytes += one(cases) as u64;
        cases += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    Rate {
        name,
        cases,
        seconds,
        cases_per_second: cases as f64 / seconds.max(1e-9),
        mean_bytes: bytes as f64 / cases as f64,
    }
}

/// Generation rate of every generator, `budget` each.
pub fn generation_rates(budget: Duration) -> Vec<Rate> {
    GeneratorKind::ALL
        .iter()
        .map(|&kind| {
            measure(kind.name().to_string(), budget, |seed| {
                kind.generate_from_seed(seed).to_bytes().len()
            })
        })
        .collect()
}

/// Structural mutation rate per generator's cases, `budget` each (the
/// cases to mutate are generated beforehand, outside the measurement).
pub fn mutation_rates(budget: Duration) -> Vec<Rate> {
    GeneratorKind::ALL
        .iter()
        .map(|&kind| {
            let pool: Vec<_> = (0..32).map(|s| kind.generate_from_seed(s)).collect();
            measure(format!("mutate-{}", kind.name()), budget, |i| {
                let mut case = pool[(i % 32) as usize].clone();
                let choices = seed_bytes(i, 512);
                mutate_case(&mut case, &mut Rng::new(&choices));
                case.to_bytes().len()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_measured() {
        let rates = generation_rates(Duration::from_millis(20));
        assert_eq!(rates.len(), 3);
        for r in rates
            .iter()
            .chain(&mutation_rates(Duration::from_millis(20)))
        {
            assert!(
                r.cases >= 1 && r.cases_per_second > 0.0 && r.mean_bytes > 8.0,
                "{r}"
            );
            assert!(r.to_string().contains("cases/s"));
        }
    }
}
