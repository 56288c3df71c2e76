//! Simulated populations with known size, for tests and coverage studies: every person of a
//! stratum is on list j with probability p_j, independently (the main-effects model holds
//! within each stratum); only people on at least one list appear in the records.

use super::stream;
use rand::RngExt;

/// One stratum of a simulated population.
#[derive(Debug, Clone)]
pub struct StratumSpec {
    /// Value written in the stratum column.
    pub name: String,
    /// True number of people.
    pub size: u64,
    /// Probability of being on each list.
    pub probs: Vec<f64>,
}

/// A records CSV (list columns 0/1 and a `stratum` column) of the people identified in a
/// simulated population; stratum s draws from stream s of `seed`.
pub fn simulate_records(seed: u64, lists: &[String], strata: &[StratumSpec]) -> String {
    let mut out = lists.join(",");
    out.push_str(",stratum\n");
    for (s, spec) in strata.iter().enumerate() {
        let mut rng = stream(seed, s as u64);
        for _ in 0..spec.size {
            let flags: Vec<bool> = spec
                .probs
                .iter()
                .map(|&p| rng.random::<f64>() < p)
                .collect();
            if flags.iter().any(|&f| f) {
                for f in &flags {
                    out.push_str(if *f { "1," } else { "0," });
                }
                out.push_str(&spec.name);
                out.push('\n');
            }
        }
    }
    out
}
