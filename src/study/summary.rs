//! What a study measures of each procedure, from its replicates alone (so that a merge of
//! shards recomputes exactly what one process computed): bias, RMSE on the population and
//! the log scale, coverage at each level with its binomial standard error, the median width
//! of the intervals relative to N, and the share of datasets without an estimate.

use super::record::{LEVELS, Outcome, ReplicateRecord, Truth};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Coverage and width at one level.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Coverage {
    /// Nominal level.
    pub level: f64,
    /// Datasets whose procedure gave an interval at this level.
    pub with_interval: u64,
    /// Of those, the ones whose interval holds the true N.
    pub covered: u64,
    /// covered / with_interval (`null` without intervals).
    pub rate: Option<f64>,
    /// Its binomial standard error √(rate (1 − rate) / with_interval).
    pub std_error: Option<f64>,
    /// covered / all datasets: a dataset without an interval counts as a miss.
    pub rate_of_all: f64,
    /// Median of (upper − lower) / N over the intervals (`null` when more than half have no
    /// upper limit).
    pub median_relative_width: Option<f64>,
    /// Intervals without an upper limit (the data did not bound N).
    pub unbounded: u64,
}

/// One procedure's performance on one target (the population, a stratum, or the total).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// The procedure's name.
    pub procedure: String,
    /// `population`, a stratum's name, or `total`.
    pub target: String,
    /// The true N.
    pub true_population: u64,
    /// Datasets.
    pub replicates: u64,
    /// Datasets where the procedure gave a number.
    pub with_estimate: u64,
    /// Datasets without one, by status.
    pub without_estimate: BTreeMap<String, u64>,
    /// Mean of N̂.
    pub mean_estimate: Option<f64>,
    /// Mean of N̂ − N.
    pub bias: Option<f64>,
    /// bias / N.
    pub relative_bias: Option<f64>,
    /// √mean (N̂ − N)².
    pub rmse: Option<f64>,
    /// rmse / N.
    pub relative_rmse: Option<f64>,
    /// √mean (log N̂ − log N)².
    pub rmse_log: Option<f64>,
    /// Coverage at each level.
    pub coverage: Vec<Coverage>,
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let m = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    m.is_finite().then_some(m)
}

/// The summaries of every (procedure, target) over `records`, in the order procedures ×
/// targets of the first record.
pub fn summarise(truth: &[Truth], records: &[ReplicateRecord]) -> Vec<Summary> {
    let Some(first) = records.first() else {
        return Vec::new();
    };
    first
        .results
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let outcomes: Vec<&Outcome> = records.iter().filter_map(|r| r.results.get(i)).collect();
            let n = truth
                .iter()
                .find(|t| t.target == o.target)
                .map_or(0, |t| t.population);
            one(&o.procedure, &o.target, n, &outcomes)
        })
        .collect()
}

fn one(procedure: &str, target: &str, truth: u64, outcomes: &[&Outcome]) -> Summary {
    let n = truth as f64;
    let estimates: Vec<f64> = outcomes.iter().filter_map(|o| o.population).collect();
    let mut without = BTreeMap::new();
    for o in outcomes.iter().filter(|o| o.population.is_none()) {
        *without.entry(o.status.clone()).or_insert(0u64) += 1;
    }
    let m = estimates.len() as f64;
    let stat = |f: &dyn Fn(f64) -> f64| -> Option<f64> {
        (!estimates.is_empty()).then(|| estimates.iter().map(|&x| f(x)).sum::<f64>() / m)
    };
    let mean = stat(&|x| x);
    let bias = mean.map(|x| x - n);
    let rmse = stat(&|x| (x - n).powi(2)).map(f64::sqrt);
    let rmse_log = stat(&|x| (x.ln() - n.ln()).powi(2)).map(f64::sqrt);
    let coverage = LEVELS
        .iter()
        .enumerate()
        .map(|(l, &level)| {
            let mut with = 0u64;
            let mut covered = 0u64;
            let mut unbounded = 0u64;
            let mut widths = Vec::new();
            for o in outcomes {
                let Some(iv) = o.intervals.get(l).filter(|iv| iv.lower.is_some()) else {
                    continue;
                };
                with += 1;
                let lo = iv.lower.unwrap_or(0.0);
                let hi = iv.upper.unwrap_or(f64::INFINITY);
                if iv.upper.is_none() {
                    unbounded += 1;
                }
                if lo <= n && n <= hi {
                    covered += 1;
                }
                widths.push((hi - lo) / n);
            }
            let rate = (with > 0).then(|| covered as f64 / with as f64);
            Coverage {
                level,
                with_interval: with,
                covered,
                rate,
                std_error: rate.map(|p| (p * (1.0 - p) / with as f64).sqrt()),
                rate_of_all: if outcomes.is_empty() {
                    0.0
                } else {
                    covered as f64 / outcomes.len() as f64
                },
                median_relative_width: median(&mut widths),
                unbounded,
            }
        })
        .collect();
    Summary {
        procedure: procedure.to_string(),
        target: target.to_string(),
        true_population: truth,
        replicates: outcomes.len() as u64,
        with_estimate: estimates.len() as u64,
        without_estimate: without,
        mean_estimate: mean,
        bias,
        relative_bias: bias.map(|b| b / n),
        rmse,
        relative_rmse: rmse.map(|r| r / n),
        rmse_log,
        coverage,
    }
}
