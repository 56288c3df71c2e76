//! Bayesian model averaging over decomposable graphical models (Madigan & York 1997; R's
//! dga `bma.cr`). The 2^k table with the unobserved cell set to N − n is given a
//! hyper-Dirichlet prior (δ per cell, default 2^-k) under each decomposable graph; the
//! marginal likelihood factorises over the graph's cliques and separators, each a
//! Dirichlet-multinomial of a marginal table with prior counts δ·2^(k−|C|). With the
//! multinomial coefficient and a prior on N (default ∝ 1/N, or negative binomial), the
//! posterior over (graph, N) is computed exactly on the grid of missing counts (default
//! 0..5n); model weights, the averaged posterior of N, mean, median, mode and quantiles
//! follow. The decomposable graphs are enumerated in `graphs.rs` (chordality by maximum
//! cardinality search, Tarjan & Yannakakis 1984), so k = 6 works as well as 3–5.
//!
//! Assumptions: a closed population; the lists' dependence is that of a decomposable
//! log-linear model (interactions confined to the cliques of one graph), averaged over all
//! such graphs with equal prior weight; capture probabilities do not vary between people
//! beyond what those interactions express.
//!
//! Layout: `graphs.rs` enumerates the graphs and names them; `ladder.rs` computes every
//! graph's row of weights over the grid of missing counts and sums them; this file holds the
//! model's terms and priors, normalises the posterior and summarises it into an `Estimate`.

mod graphs;
mod ladder;
mod model;

pub use graphs::{Graph, decomposable_graphs, graph_label};
pub use model::NPrior;
use model::{Model, Term};

use super::details::{Details, DgaDetails, PriorN, TopGraph};
use super::types::{Estimate, Status};
use crate::checked::Level;
use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::inference::{Construction, Draws, Interval, Pmf};
use statrs::function::gamma::ln_gamma;

/// The posterior over graphs × N, kept as what the summaries need.
#[derive(Debug, Clone)]
pub struct Posterior {
    /// The graphs.
    pub graphs: Vec<Graph>,
    /// N values of the grid.
    pub n_values: Vec<f64>,
    /// Posterior probability of each graph.
    pub model_weights: Vec<f64>,
    /// Per graph: Σ w·N, Σ w/N, Σ w/N² (unnormalised by the graph's weight).
    pub moments: Vec<[f64; 3]>,
    /// Per graph, given the graph: E[N], E[1/N], E[1/N²].
    pub conditional: Vec<[f64; 3]>,
    /// Per graph: the N with the largest weight.
    pub modes: Vec<f64>,
    /// Averaged posterior of N.
    pub n_posterior: Vec<f64>,
}

impl Posterior {
    /// Posterior probability of each graph.
    pub fn model_weights(&self) -> Vec<f64> {
        self.model_weights.clone()
    }
    /// Averaged posterior of N.
    pub fn n_posterior(&self) -> Vec<f64> {
        self.n_posterior.clone()
    }

    /// Posterior mean and standard deviation of N (dga's `posterior_mean`, `posterior_sd`).
    pub fn mean_sd(&self) -> (f64, f64) {
        let pn = &self.n_posterior;
        let mean: f64 = self.n_values.iter().zip(pn).map(|(a, b)| a * b).sum();
        let sd = self
            .n_values
            .iter()
            .zip(pn)
            .map(|(a, b)| b * (a - mean).powi(2))
            .sum::<f64>()
            .sqrt();
        (mean, sd)
    }
}

/// Computes the posterior. `missing` is the grid of missing counts.
pub fn posterior(
    table: &CaptureTable,
    delta: f64,
    missing: &[u64],
    prior: NPrior,
    graphs: Vec<Graph>,
) -> Result<Posterior> {
    posterior_by(table, delta, missing, prior, graphs, true)
}

/// `posterior`, with the ratio ladder allowed or not (the log-scale path then takes every
/// row; tests compare the two).
fn posterior_by(
    table: &CaptureTable,
    delta: f64,
    missing: &[u64],
    prior: NPrior,
    graphs: Vec<Graph>,
    ladder: bool,
) -> Result<Posterior> {
    let k = table.k();
    let full = table.dense()?;
    let n = table.observed() as f64;
    let ncomp = (1usize << k) - 1;
    let m = missing.len();
    if m == 0 {
        return Err(Error::Numerical("dga: no finite posterior weight".into()));
    }
    let terms: Vec<Term> = (1..=ncomp as u64)
        .map(|s| {
            let size = s.count_ones() as usize;
            let alpha = delta * 2f64.powi((k - size) as i32);
            let mut marg = vec![0.0f64; 1 << size];
            for (h, &c) in full.iter().enumerate() {
                if c == 0.0 {
                    continue;
                }
                let mut idx = 0usize;
                let mut bit = 0;
                for l in 0..k {
                    if s >> l & 1 == 1 {
                        if h >> l & 1 == 1 {
                            idx |= 1 << bit;
                        }
                        bit += 1;
                    }
                }
                marg[idx] += c;
            }
            let constant: f64 = marg[1..]
                .iter()
                .map(|&d| ln_gamma(d + alpha) - ln_gamma(alpha))
                .sum::<f64>()
                - ln_gamma(alpha);
            Term {
                constant,
                a: marg[0] + alpha,
            }
        })
        .collect();
    let sum_alpha = delta * 2f64.powi(k as i32);
    let log_ny: f64 = full.iter().skip(1).map(|&c| ln_gamma(c + 1.0)).sum();
    let model = Model {
        terms,
        n,
        sum_alpha,
        log_ny,
        prior,
    };
    let ladder::Weights {
        n_values,
        mut model_weights,
        conditional,
        modes,
        mut n_posterior,
    } = ladder::weigh(&model, missing, &graphs, ladder)?;
    let mut moments: Vec<[f64; 3]> = model_weights
        .iter()
        .zip(&conditional)
        .map(|(w, c)| [w * c[0], w * c[1], w * c[2]])
        .collect();
    let total: f64 = model_weights.iter().sum();
    model_weights.iter_mut().for_each(|w| *w /= total);
    moments
        .iter_mut()
        .for_each(|mm| mm.iter_mut().for_each(|x| *x /= total));
    n_posterior.iter_mut().for_each(|w| *w /= total);
    Ok(Posterior {
        graphs,
        n_values,
        model_weights,
        moments,
        conditional,
        modes,
        n_posterior,
    })
}

/// Smallest N whose posterior CDF reaches q.
pub fn quantile(n_values: &[f64], p: &[f64], q: f64) -> f64 {
    let mut acc = 0.0;
    for (x, w) in n_values.iter().zip(p) {
        acc += w;
        if acc >= q {
            return *x;
        }
    }
    *n_values.last().unwrap_or(&f64::NAN)
}

/// Posterior mass dropped from each end of a stratum's posterior of N before the strata
/// totals convolve it: far below any quantile reported.
const EXACT_TAIL: f64 = 1e-13;

/// The most margin × N terms dga holds: every margin of the table (2^k − 1 of them) keeps
/// its log-Γ values over the grid of N (n to 6n), about 70 bytes a term, so this is about a
/// gigabyte (six lists: n up to 47,000; three lists: 430,000).
pub const MAX_TERMS: u64 = 15_000_000;

/// The most graph × N weights dga computes (about 15 s at a few ns each; six lists have
/// 18,154 decomposable graphs).
pub const MAX_WORK: u64 = 5_000_000_000;

/// Whether the table is small enough for dga's grid (see `MAX_TERMS`, `MAX_WORK`); the
/// decomposable graphs it weighs when it is.
pub fn check_size(table: &CaptureTable) -> Result<Vec<Graph>> {
    let k = table.k();
    if !(3..=6).contains(&k) {
        return Err(Error::Usage(format!(
            "method dga works with 3 to 6 lists; the table has {k}"
        )));
    }
    let n = table.observed();
    let margins = (1u64 << k) - 1;
    let graphs = decomposable_graphs(k);
    let points = n.saturating_mul(5).saturating_add(1);
    let most = (MAX_TERMS / margins).min(MAX_WORK / graphs.len() as u64);
    if points > most {
        return Err(Error::Usage(format!(
            "method dga weighs every N from n to 6n for {} graphs and {margins} margins; with \
             {k} lists it takes at most {} observed people, and the table has {n} (use a \
             log-linear method, or fewer lists)",
            graphs.len(),
            (most - 1) / 5
        )));
    }
    Ok(graphs)
}

/// The `dga` method.
pub fn estimate(table: &CaptureTable, level: Level) -> Result<Estimate> {
    let graphs = check_size(table)?;
    let k = table.k();
    let n = table.observed();
    let points = n.saturating_mul(5).saturating_add(1);
    let delta = 2f64.powi(-(k as i32));
    let missing: Vec<u64> = (0..points).collect();
    let post = posterior(table, delta, &missing, NPrior::Inverse, graphs)?;
    let pn = post.n_posterior();
    let (mean, sd) = post.mean_sd();
    // the running sums of `quantile`, once for every quantile below
    let cdf: Vec<f64> = pn
        .iter()
        .scan(0.0, |acc, w| {
            *acc += w;
            Some(*acc)
        })
        .collect();
    let quantile = |q: f64| {
        post.n_values
            .get(cdf.partition_point(|&c| c < q))
            .or(post.n_values.last())
            .copied()
            .unwrap_or(f64::NAN)
    };
    let median = quantile(0.5);
    let mode = post.n_values[pn
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |x| x.0)];
    let qs = crate::inference::interval::QUANTILES;
    let quantiles: Vec<(f64, f64)> = qs.iter().map(|&q| (q, quantile(q))).collect();
    let mw = post.model_weights();
    let mut order: Vec<usize> = (0..mw.len()).collect();
    order.sort_by(|&a, &b| mw[b].total_cmp(&mw[a]));
    let top_graphs: Vec<TopGraph> = order
        .iter()
        .take(10)
        .map(|&g| TopGraph {
            graph: graph_label(&post.graphs[g], table.lists()),
            posterior_mean: post.conditional[g][0],
            weight: mw[g],
        })
        .collect();
    let mut warnings = Vec::new();
    let tail: f64 = pn[pn.len() - pn.len() / 100..].iter().sum();
    if tail > 1e-3 {
        warnings.push(format!(
            "posterior mass {tail:.2e} lies in the top 1% of the grid of N: widen the grid"
        ));
    }
    let lo = quantile((1.0 - level.get()) / 2.0);
    let hi = quantile((1.0 + level.get()) / 2.0);
    Ok(Estimate {
        method: "dga".into(),
        label: format!("BMA over {} decomposable graphs", post.graphs.len()),
        options: Details::Dga(DgaDetails {
            delta,
            graphs: post.graphs.len(),
            grid: [0, 5 * n],
            mean,
            mode,
            prior_n: PriorN::Inverse,
            sd,
            top_graphs,
        }),
        status: Status::Ok,
        observed: n,
        population: Some(median),
        missing: Some(median - n as f64),
        std_error: Some(sd),
        interval: Some(Interval {
            lower: Some(lo),
            upper: Some(hi),
            level: level.get(),
            kind: Construction::PosteriorQuantiles,
            center: Some(mean),
        }),
        draws: Some(Draws {
            count: 0,
            mean,
            sd,
            quantiles,
            values: Vec::new(),
            exact: Some(
                Pmf {
                    first: n,
                    probs: pn.clone(),
                }
                .trimmed(EXACT_TAIL),
            ),
        }),
        warnings,
        ..Estimate::blank()
    })
}

#[cfg(test)]
mod tests {
    use super::{NPrior, Posterior, decomposable_graphs, posterior, posterior_by};
    use crate::data::CaptureTable;

    fn table4() -> CaptureTable {
        let counts = [310, 250, 40, 190, 25, 30, 8, 120, 15, 20, 5, 18, 4, 6, 3];
        CaptureTable::new(
            ["A", "B", "C", "D"].map(String::from).to_vec(),
            counts.iter().enumerate().map(|(i, &c)| (i as u64 + 1, c)),
        )
        .expect("table")
    }

    fn rel(a: f64, b: f64) -> f64 {
        if a == b {
            0.0
        } else {
            (a - b).abs() / a.abs().max(b.abs())
        }
    }

    /// The ratio ladder against the log-Γ curves, on the default grid, a grid that does not
    /// start at 0, a single point and the negative-binomial prior.
    #[test]
    fn ladder_matches_log_scale() {
        let t = table4();
        let n = t.observed();
        let cases = [
            (
                (0..=5 * n).collect::<Vec<u64>>(),
                NPrior::Inverse,
                1.0 / 16.0,
            ),
            ((40..=3 * n).collect(), NPrior::Inverse, 1.0),
            (vec![7], NPrior::Inverse, 0.5),
            (
                (1..=300).collect(),
                NPrior::NegBinomial { a: 13.14, b: 55.17 },
                1.0,
            ),
        ];
        for (missing, prior, delta) in cases {
            let run = |ladder| {
                posterior_by(&t, delta, &missing, prior, decomposable_graphs(4), ladder)
                    .expect("posterior")
            };
            let (a, b) = (run(true), run(false));
            // the two paths did run: their roundings differ
            if missing.len() > 1 {
                assert!(
                    a.model_weights
                        .iter()
                        .zip(&b.model_weights)
                        .any(|(x, y)| x != y)
                );
            }
            for g in 0..a.graphs.len() {
                assert!(
                    rel(a.model_weights[g], b.model_weights[g]) < 1e-9,
                    "graph {g}"
                );
                for i in 0..3 {
                    assert!(rel(a.conditional[g][i], b.conditional[g][i]) < 1e-9);
                }
                assert!((a.modes[g] - b.modes[g]).abs() <= 1.0);
            }
            let top = a.n_posterior.iter().fold(0.0, |x: f64, &y| x.max(y));
            for (x, y) in a.n_posterior.iter().zip(&b.n_posterior) {
                assert!((x - y).abs() <= 1e-9 * top, "{x} vs {y}");
            }
        }
    }

    /// Rows are cut into fixed blocks summed in order: one thread gives the same bits.
    #[test]
    fn same_bits_on_one_thread() {
        let t = table4();
        let missing: Vec<u64> = (0..=5 * t.observed()).collect();
        let run = || {
            posterior(
                &t,
                0.0625,
                &missing,
                NPrior::Inverse,
                decomposable_graphs(4),
            )
        };
        let a = run().expect("posterior");
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool");
        let b = pool.install(run).expect("posterior");
        let bits = |p: &Posterior| {
            p.model_weights
                .iter()
                .chain(&p.n_posterior)
                .chain(p.conditional.iter().flatten())
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&b));
    }
}
