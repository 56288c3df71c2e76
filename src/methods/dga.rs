//! Bayesian model averaging over decomposable graphical models (Madigan & York 1997; R's
//! dga `bma.cr`). The 2^k table with the unobserved cell set to N − n is given a
//! hyper-Dirichlet prior (δ per cell, default 2^-k) under each decomposable graph; the
//! marginal likelihood factorises over the graph's cliques and separators, each a
//! Dirichlet-multinomial of a marginal table with prior counts δ·2^(k−|C|). With the
//! multinomial coefficient and a prior on N (default ∝ 1/N, or negative binomial), the
//! posterior over (graph, N) is computed exactly on the grid of missing counts (default
//! 0..5n); model weights, the averaged posterior of N, mean, median, mode and quantiles
//! follow. The decomposable graphs are enumerated here (chordality by maximum cardinality
//! search, Tarjan & Yannakakis 1984), so k = 6 works as well as 3–5.

use super::{Estimate, Interval, MethodOptions, Status};
use crate::data::{CaptureTable, Dataset};
use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::Serialize;
use statrs::function::gamma::ln_gamma;

/// A decomposable graph: its cliques and its non-empty separators, as list bitmasks.
#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    /// Maximal cliques.
    pub cliques: Vec<u64>,
    /// Separators of a junction tree (non-empty ones only).
    pub separators: Vec<u64>,
}

/// Maximum cardinality search order; None when the graph is not chordal.
fn chordal_cliques(k: usize, adj: &[u64]) -> Option<Graph> {
    // MCS: visit order; chordal iff each vertex's earlier neighbours form a clique.
    let mut order = Vec::with_capacity(k);
    let mut weight = vec![0usize; k];
    let mut visited = 0u64;
    for _ in 0..k {
        let v = (0..k)
            .filter(|&v| visited >> v & 1 == 0)
            .max_by_key(|&v| (weight[v], std::cmp::Reverse(v)))?;
        order.push(v);
        visited |= 1 << v;
        for u in 0..k {
            if adj[v] >> u & 1 == 1 && visited >> u & 1 == 0 {
                weight[u] += 1;
            }
        }
    }
    let mut seen = 0u64;
    let mut cand: Vec<u64> = Vec::new();
    for &v in &order {
        let earlier = adj[v] & seen;
        // the earlier neighbours must be pairwise adjacent
        let mut b = earlier;
        while b != 0 {
            let u = b.trailing_zeros() as usize;
            if earlier & !(1u64 << u) & !adj[u] != 0 {
                return None;
            }
            b &= b - 1;
        }
        cand.push(earlier | (1 << v));
        seen |= 1 << v;
    }
    // maximal cliques among the candidate sets, kept in MCS order (a RIP order)
    let cliques: Vec<u64> = cand
        .iter()
        .enumerate()
        .filter(|&(i, &c)| {
            !cand
                .iter()
                .enumerate()
                .any(|(j, &d)| j != i && d & c == c && (d != c || j < i))
        })
        .map(|(_, &c)| c)
        .collect();
    let mut separators = Vec::new();
    let mut union = 0u64;
    for (i, &c) in cliques.iter().enumerate() {
        if i > 0 && c & union != 0 {
            separators.push(c & union);
        }
        union |= c;
    }
    Some(Graph {
        cliques,
        separators,
    })
}

/// Every decomposable graph on k vertices (all graphs for k ≤ 3).
pub fn decomposable_graphs(k: usize) -> Vec<Graph> {
    let pairs: Vec<(usize, usize)> = (0..k)
        .flat_map(|i| (i + 1..k).map(move |j| (i, j)))
        .collect();
    (0u64..(1u64 << pairs.len()))
        .filter_map(|mask| {
            let mut adj = vec![0u64; k];
            for (e, &(i, j)) in pairs.iter().enumerate() {
                if mask >> e & 1 == 1 {
                    adj[i] |= 1 << j;
                    adj[j] |= 1 << i;
                }
            }
            chordal_cliques(k, &adj)
        })
        .collect()
}

/// The prior on N.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NPrior {
    /// p(N) ∝ 1/N (dga's default).
    Inverse,
    /// Negative binomial with size a and parameter b (dga's test suite's form).
    NegBinomial {
        /// a.
        a: f64,
        /// b.
        b: f64,
    },
}

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
}

/// log Γ(x + j) for j = 0..len, by log Γ(x + j + 1) = log Γ(x + j) + log(x + j).
fn lgamma_run(x: f64, steps: &[u64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(steps.len());
    let mut prev: Option<(u64, f64)> = None;
    for &m in steps {
        let v = match prev {
            Some((pm, pv)) if m == pm + 1 => pv + (x + pm as f64).ln(),
            _ => ln_gamma(x + m as f64),
        };
        out.push(v);
        prev = Some((m, v));
    }
    out
}

/// Entries more than this below the largest log weight are zero in double precision
/// relative to every reported sum (e^-40 ≈ 4e-18).
const NEGLIGIBLE: f64 = 40.0;

/// Graphs per block; blocks are summed in order, so results do not depend on threads.
const BLOCK: usize = 32;

/// Computes the posterior. `missing` is the grid of missing counts.
pub fn posterior(
    table: &CaptureTable,
    delta: f64,
    missing: &[u64],
    prior: NPrior,
    graphs: Vec<Graph>,
) -> Result<Posterior> {
    let k = table.k();
    let full = table.dense()?;
    let n = table.observed() as f64;
    let ncomp = (1usize << k) - 1;
    let m = missing.len();
    // component log marginal likelihoods (numerator part), one row per component (bitmask)
    let comp: Vec<Vec<f64>> = (1..=ncomp as u64)
        .into_par_iter()
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
            lgamma_run(marg[0] + alpha, missing)
                .into_iter()
                .map(|v| constant + v)
                .collect()
        })
        .collect();
    let sum_alpha = delta * 2f64.powi(k as i32);
    let log_ny: f64 = full.iter().skip(1).map(|&c| ln_gamma(c + 1.0)).sum();
    let lg_n1 = lgamma_run(n + 1.0, missing);
    let lg_m1 = lgamma_run(1.0, missing);
    let lg_den = lgamma_run(n + sum_alpha, missing);
    let common: Vec<f64> = (0..m)
        .map(|j| {
            let nn = n + missing[j] as f64;
            let multi = lg_n1[j] - log_ny - lg_m1[j];
            let lp = match prior {
                NPrior::Inverse => -nn.ln(),
                NPrior::NegBinomial { a, b } => {
                    nn * b.ln() - (nn + a) * (1.0 + b).ln() + ln_gamma(nn + a)
                        - ln_gamma(nn + 1.0)
                        - ln_gamma(a)
                }
            };
            multi + lp
        })
        .collect();
    let den: Vec<f64> = lg_den.iter().map(|v| ln_gamma(sum_alpha) - v).collect();
    let row = |g: &Graph, out: &mut Vec<f64>| {
        let nsub = g.cliques.len() as f64 - g.separators.len() as f64;
        out.clear();
        out.extend(common.iter().zip(&den).map(|(c, d)| c + nsub * d));
        for &c in &g.cliques {
            for (o, v) in out.iter_mut().zip(&comp[c as usize - 1]) {
                *o += v;
            }
        }
        for &s in &g.separators {
            for (o, v) in out.iter_mut().zip(&comp[s as usize - 1]) {
                *o -= v;
            }
        }
    };
    let n_values: Vec<f64> = missing.iter().map(|&mi| n + mi as f64).collect();
    // One pass: each row's sums relative to its own maximum (a model's conditional summaries
    // are then exact however small its weight); column sums per block relative to the block's
    // running maximum, rescaled when it rises; blocks merged in order on the global maximum.
    struct Block {
        rowmax: Vec<f64>,
        weights: Vec<f64>,
        cond: Vec<[f64; 3]>,
        modes: Vec<f64>,
        reference: f64,
        cols: Vec<f64>,
    }
    let blocks: Vec<Block> = graphs
        .par_chunks(BLOCK)
        .map(|chunk| {
            let mut buf = Vec::with_capacity(m);
            let mut b = Block {
                rowmax: Vec::new(),
                weights: Vec::new(),
                cond: Vec::new(),
                modes: Vec::new(),
                reference: f64::NEG_INFINITY,
                cols: vec![0.0; m],
            };
            for g in chunk {
                row(g, &mut buf);
                let (best_j, rowmax) =
                    buf.iter()
                        .enumerate()
                        .fold(
                            (0, f64::NEG_INFINITY),
                            |a, (j, &v)| if v > a.1 { (j, v) } else { a },
                        );
                if rowmax > b.reference {
                    let f = (b.reference - rowmax).exp();
                    if b.reference.is_finite() {
                        b.cols.iter_mut().for_each(|c| *c *= f);
                    }
                    b.reference = rowmax;
                }
                let scale = (rowmax - b.reference).exp();
                let (mut s0, mut s1, mut sm1, mut sm2) = (0.0, 0.0, 0.0, 0.0);
                for (j, &lw) in buf.iter().enumerate() {
                    if lw < rowmax - NEGLIGIBLE {
                        continue;
                    }
                    let w = (lw - rowmax).exp();
                    let nn = n_values[j];
                    s0 += w;
                    s1 += w * nn;
                    sm1 += w / nn;
                    sm2 += w / (nn * nn);
                    if scale > 0.0 {
                        b.cols[j] += w * scale;
                    }
                }
                b.rowmax.push(rowmax);
                b.weights.push(s0);
                b.cond.push([s1 / s0, sm1 / s0, sm2 / s0]);
                b.modes.push(n_values[best_j]);
            }
            b
        })
        .collect();
    let max = blocks
        .iter()
        .map(|b| b.reference)
        .fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return Err(Error::Numerical("dga: no finite posterior weight".into()));
    }
    let mut model_weights = Vec::with_capacity(graphs.len());
    let mut modes = Vec::with_capacity(graphs.len());
    let mut conditional = Vec::with_capacity(graphs.len());
    let mut n_posterior = vec![0.0; m];
    for b in blocks {
        model_weights.extend(
            b.rowmax
                .iter()
                .zip(&b.weights)
                .map(|(r, w)| w * (r - max).exp()),
        );
        conditional.extend(b.cond);
        modes.extend(b.modes);
        let f = (b.reference - max).exp();
        for (a, c) in n_posterior.iter_mut().zip(&b.cols) {
            *a += c * f;
        }
    }
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

/// Name of a graph by its cliques, e.g. `[L1,L2][L3]`.
pub fn graph_label(g: &Graph, lists: &[String]) -> String {
    g.cliques
        .iter()
        .map(|&c| {
            format!(
                "[{}]",
                (0..lists.len())
                    .filter(|&i| c >> i & 1 == 1)
                    .map(|i| lists[i].as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect()
}

/// The `dga` method.
pub fn estimate(data: &Dataset, opts: &MethodOptions) -> Result<Estimate> {
    let Dataset::Table(table) = data else {
        return Err(Error::Usage(
            "method dga needs capture histories, not frequencies".into(),
        ));
    };
    let k = table.k();
    if !(3..=6).contains(&k) {
        return Err(Error::Usage(format!(
            "method dga works with 3 to 6 lists; the table has {k}"
        )));
    }
    let n = table.observed();
    let delta = 2f64.powi(-(k as i32));
    let missing: Vec<u64> = (0..=5 * n).collect();
    let post = posterior(
        table,
        delta,
        &missing,
        NPrior::Inverse,
        decomposable_graphs(k),
    )?;
    let pn = post.n_posterior();
    let mean: f64 = post.n_values.iter().zip(&pn).map(|(a, b)| a * b).sum();
    let sd = post
        .n_values
        .iter()
        .zip(&pn)
        .map(|(a, b)| b * (a - mean).powi(2))
        .sum::<f64>()
        .sqrt();
    let median = quantile(&post.n_values, &pn, 0.5);
    let mode = post.n_values[pn
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |x| x.0)];
    let qs = [0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975];
    let quantiles: Vec<(f64, f64)> = qs
        .iter()
        .map(|&q| (q, quantile(&post.n_values, &pn, q)))
        .collect();
    let mw = post.model_weights();
    let mut order: Vec<usize> = (0..mw.len()).collect();
    order.sort_by(|&a, &b| mw[b].total_cmp(&mw[a]));
    let top: Vec<serde_json::Value> = order
        .iter()
        .take(10)
        .map(|&g| {
            let pm = post.conditional[g][0];
            serde_json::json!({ "graph": graph_label(&post.graphs[g], table.lists()), "weight": mw[g], "posterior_mean": pm })
        })
        .collect();
    let mut warnings = Vec::new();
    let tail: f64 = pn[pn.len() - pn.len() / 100..].iter().sum();
    if tail > 1e-3 {
        warnings.push(format!(
            "posterior mass {tail:.2e} lies in the top 1% of the grid of N: widen the grid"
        ));
    }
    let lo = quantile(&post.n_values, &pn, (1.0 - opts.level) / 2.0);
    let hi = quantile(&post.n_values, &pn, (1.0 + opts.level) / 2.0);
    Ok(Estimate {
        method: "dga".into(),
        label: format!("BMA over {} decomposable graphs", post.graphs.len()),
        model: None,
        options: serde_json::json!({ "delta": delta, "prior_n": "1/N", "grid": [0, 5 * n], "graphs": post.graphs.len(), "mean": mean, "mode": mode, "sd": sd, "top_graphs": top }),
        status: Status::Ok,
        observed: n,
        population: Some(median),
        missing: Some(median - n as f64),
        std_error: Some(sd),
        interval: Some(Interval {
            lower: Some(lo),
            upper: Some(hi),
            level: opts.level,
            kind: "posterior-quantiles".into(),
            center: Some(mean),
        }),
        fit: None,
        draws: Some(super::Draws {
            count: 0,
            mean,
            sd,
            quantiles,
            values: Vec::new(),
        }),
        warnings,
        check: None,
        bootstrap: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_decomposable_graphs() {
        assert_eq!(decomposable_graphs(3).len(), 8);
        assert_eq!(decomposable_graphs(4).len(), 61);
        assert_eq!(decomposable_graphs(5).len(), 822);
    }
}
