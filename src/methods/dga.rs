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
//!
//! On a grid of consecutive missing counts the weights are not taken as exponentials of
//! log-Γ sums: the ratio of consecutive weights of a graph is a rational function of N
//! (log Γ(a + M + 1) − log Γ(a + M) = log(a + M) for every term), so a row is a running
//! product, held in range by a binary exponent carried from segment to segment. Segments
//! along which a row is monotone and negligible (below 2^-58 of its maximum) are skipped.
//! Products are also more accurate than running sums of logs: on the shared data sets, model
//! weights are within about 1e-10 of compensated log-Γ sums, plain running sums within 3e-8.

use super::{Estimate, Interval, Status};
use crate::checked::Level;
use crate::data::CaptureTable;
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

/// Stretches of a row whose largest weight is below 2^-58 (< e^-40 ≈ 4e-18) of the row's
/// maximum are zero in double precision relative to every reported sum.
const NEGLIGIBLE_BITS: i64 = 58;

/// Graphs per block; blocks are summed in order, so results do not depend on threads.
const BLOCK: usize = 32;

/// The ratios of a segment multiply to within e^±600 of its start (a double in [1, 2)), so
/// every weight inside stays a normal double (2^±866) with room for rounding.
const SPAN_LIMIT: f64 = 600.0;

/// Longest segment: bounds the work wasted on a segment that straddles the negligible edge.
const SPAN_MAX: usize = 256;

/// Per list subset s: the Dirichlet-multinomial term of its marginal table, as a function of
/// the missing count M, is `constant + log Γ(a + M)`.
#[derive(Debug, Clone, Copy)]
struct Term {
    constant: f64,
    a: f64,
}

/// A stretch [start, end) of a row whose weights are `w[j] · 2^exp` times the row's anchor.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start: usize,
    end: usize,
    exp: i64,
    max: f64,
    /// [Σw, Σw·N, Σw/N, Σw/N²] over the segment.
    moments: [f64; 4],
}

/// Buffers for one row at a time, reused along a block of graphs.
struct Scratch {
    ratio: Vec<f64>,
    w: Vec<f64>,
    lw: Vec<f64>,
    segs: Vec<Segment>,
    starts: Vec<(i64, f64)>,
}

impl Scratch {
    fn new(m: usize) -> Scratch {
        Scratch {
            ratio: vec![0.0; SPAN_MAX.min(m)],
            w: vec![0.0; m],
            lw: Vec::new(),
            segs: Vec::new(),
            starts: Vec::new(),
        }
    }
}

/// (e, f) with x = f·2^e and f in [1, 2); x must be a positive normal double.
#[inline(always)]
fn split(x: f64) -> (i64, f64) {
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    (
        e,
        f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52)),
    )
}

/// 2^e, exactly; 0 below the normal range.
fn pow2(e: i64) -> f64 {
    if e < -1022 {
        0.0
    } else {
        f64::from_bits(((e.min(1023) + 1023) as u64) << 52)
    }
}

/// Largest element, four lanes at a time (NaN is ignored; callers catch it elsewhere).
#[inline(always)]
fn lane_max(xs: &[f64]) -> f64 {
    let mut lanes = [f64::NEG_INFINITY; 4];
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for l in 0..4 {
            lanes[l] = if c[l] > lanes[l] { c[l] } else { lanes[l] };
        }
    }
    rest.iter()
        .chain(&lanes)
        .fold(f64::NEG_INFINITY, |a, &b| if b > a { b } else { a })
}

/// Σ a·b with eight accumulators, enough to hide the latency of vector additions.
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        acc[l] += x * y;
    }
    total(acc)
}

/// Σ a with eight accumulators.
#[inline(always)]
fn sum(a: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let ca = a.chunks_exact(8);
    let ra = ca.remainder();
    for x in ca {
        for l in 0..8 {
            acc[l] += x[l];
        }
    }
    for (l, x) in ra.iter().enumerate() {
        acc[l] += x;
    }
    total(acc)
}

#[inline(always)]
fn total(acc: [f64; 8]) -> f64 {
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

/// N, 1/N and 1/N² on the grid: a row's moments are its dot products with these.
struct Grid {
    n: Vec<f64>,
    inv: Vec<f64>,
    inv2: Vec<f64>,
}

impl Grid {
    /// [Σw, Σw·N, Σw/N, Σw/N²] over the points from `lo`.
    #[inline(always)]
    fn moments(&self, w: &[f64], lo: usize) -> [f64; 4] {
        let hi = lo + w.len();
        [
            sum(w),
            dot(w, &self.n[lo..hi]),
            dot(w, &self.inv[lo..hi]),
            dot(w, &self.inv2[lo..hi]),
        ]
    }
}

/// Π (a + x) over xs as (binary exponent, mantissa in [1, 2)); None unless every partial
/// product is a positive normal double. `run` factors per lane between renormalisations
/// must keep the partial products inside the double range.
fn product(xs: &[f64], a: f64, run: usize) -> Option<(i64, f64)> {
    let mut exp = 0i64;
    let mut lanes = [1.0f64; 8];
    for chunk in xs.chunks(8 * run) {
        let c8 = chunk.chunks_exact(8);
        let rest = c8.remainder();
        for c in c8 {
            for l in 0..8 {
                lanes[l] *= a + c[l];
            }
        }
        for (l, &x) in rest.iter().enumerate() {
            lanes[l] *= a + x;
        }
        for l in &mut lanes {
            if !(l.is_normal() && *l > 0.0) {
                return None;
            }
            let (e, f) = split(*l);
            exp += e;
            *l = f;
        }
    }
    let (e, f) = split(
        ((lanes[0] * lanes[1]) * (lanes[2] * lanes[3]))
            * ((lanes[4] * lanes[5]) * (lanes[6] * lanes[7])),
    );
    Some((exp + e, f))
}

/// Compares (exponent, mantissa) pairs, i.e. mantissa·2^exponent.
#[inline(always)]
fn greater(a: (i64, f64), b: (i64, f64)) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 > b.1)
}

/// A grid of consecutive missing counts: the weight of a graph obeys w(M + 1) = w(M)·r(M),
/// where r is a rational function of M (the Γ ratios of every term), so a row costs a few
/// multiplications per point and no exp or log. Products are kept exact in range by
/// restarting each segment from a mantissa in [1, 2) and carrying the binary exponent.
struct Ladder {
    /// M on the grid.
    mf: Vec<f64>,
    /// Multinomial coefficient and prior: their ratio from M to M + 1.
    q: Vec<f64>,
    /// n + Σα: d = n + Σα + M is the common denominator of every term's ratio.
    d0: f64,
    /// Segment starts, then m.
    bounds: Vec<usize>,
    /// Per segment and factor (list subsets, then d, then q): the product of the factor over
    /// the segment's steps, as (exponent, mantissa); a graph's weight at every segment start
    /// follows from these without visiting the points in between.
    prods: Vec<(i64, f64)>,
    /// Per segment start (and the end of the grid) and factor: the factor's log there. Each
    /// factor is monotone in M, so these bound log r over a segment from above and below.
    logs: Vec<f64>,
    /// Per segment start and factor: a bound on |(log factor)''| over the segment.
    curv: Vec<f64>,
}

impl Ladder {
    fn new(
        missing: &[u64],
        terms: &[Term],
        n: f64,
        sum_alpha: f64,
        graphs: &[Graph],
        prior: NPrior,
    ) -> Option<Ladder> {
        let m = missing.len();
        if m == 0 || missing.windows(2).any(|p| p[1] != p[0] + 1) {
            return None;
        }
        let mf: Vec<f64> = missing.iter().map(|&x| x as f64).collect();
        // q = c·u/v with u and v linear in M
        let (c, shift) = match prior {
            NPrior::Inverse => (1.0, 0.0),
            NPrior::NegBinomial { a, b } => (b / (1.0 + b), a),
        };
        let q_at = |x: f64| c * (n + x + shift) / (x + 1.0);
        let q: Vec<f64> = mf.iter().map(|&x| q_at(x)).collect();
        let (amin, amax) = terms
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
                (lo.min(t.a), hi.max(t.a))
            });
        // every factor a + M, d and q is positive on the grid (each is increasing in M, or q
        // a ratio of two such), which the bounds below rely on
        if !(amin + mf[0] > 0.0
            && n + sum_alpha + mf[0] > 0.0
            && c > 0.0
            && n + mf[0] + shift > 0.0)
        {
            return None;
        }
        // log r = Σ_C log((a_C + M)/d) − Σ_S log((a_S + M)/d) + log c + log(u/v); each term
        // is monotone in a, so the extreme a bound them all, and each ratio of linear factors
        // tends monotonically to 1, so the bound at a segment's start holds along it
        let factors = graphs
            .iter()
            .map(|g| g.cliques.len() + g.separators.len())
            .max()
            .unwrap_or(1) as f64;
        let step_bound = |x: f64| {
            let d = n + sum_alpha + x;
            factors * ((amin + x) / d).ln().abs().max(((amax + x) / d).ln().abs())
                + c.ln().abs()
                + ((n + x + shift) / (x + 1.0)).ln().abs()
        };
        let mut bounds = vec![0];
        let mut lo = 0;
        while lo < m {
            let b = step_bound(mf[lo]);
            if b.is_nan() || b > SPAN_LIMIT {
                return None;
            }
            let len = ((SPAN_LIMIT / b) as usize).clamp(1, SPAN_MAX);
            lo = (lo + len).min(m);
            bounds.push(lo);
        }
        let nterm = terms.len() + 2;
        let factor = |t: usize, x: f64| {
            if t < terms.len() {
                terms[t].a + x
            } else if t == terms.len() {
                n + sum_alpha + x
            } else {
                q_at(x)
            }
        };
        // every factor but q is a + M; each lies within 2^±bits, so `run` of them stay
        // within 2^±900
        let lin: Vec<f64> = terms.iter().map(|t| t.a).chain([n + sum_alpha]).collect();
        let bits = [
            amin + mf[0],
            amax + mf[m - 1],
            n + sum_alpha + mf[m - 1],
            q[0],
            q[m - 1],
        ]
        .iter()
        .map(|x| x.log2().abs())
        .fold(1.0, f64::max);
        let run = ((900.0 / (bits + 1.0)) as usize).clamp(1, 64);
        let prods: Vec<(i64, f64)> = bounds
            .par_windows(2)
            .map(|w| {
                let mut out: Vec<(i64, f64)> = lin
                    .iter()
                    .map(|&a| product(&mf[w[0]..w[1]], a, run))
                    .collect::<Option<_>>()?;
                out.push(product(&q[w[0]..w[1]], 0.0, run)?);
                Some(out)
            })
            .collect::<Option<Vec<_>>>()?
            .concat();
        // the end of the last segment lies one step past the grid
        let end = mf[m - 1] + 1.0;
        let logs: Vec<f64> = bounds
            .iter()
            .flat_map(|&j| {
                let x = if j < m { mf[j] } else { end };
                (0..nterm).map(move |t| factor(t, x).ln())
            })
            .collect();
        // |(log f)''| = 1/f² for a factor linear in M, decreasing in M: its value at a
        // segment's start bounds it over the segment
        let curv: Vec<f64> = bounds
            .iter()
            .flat_map(|&j| {
                let x = if j < m { mf[j] } else { end };
                (0..nterm).map(move |t| {
                    if t == nterm - 1 {
                        (n + x + shift).powi(-2) + (x + 1.0).powi(-2)
                    } else {
                        factor(t, x).powi(-2)
                    }
                })
            })
            .collect();
        if !logs.iter().chain(&curv).all(|v| v.is_finite()) {
            return None;
        }
        Some(Ladder {
            mf,
            q,
            d0: n + sum_alpha,
            bounds,
            prods,
            logs,
            curv,
        })
    }

    /// The row of `g` relative to its weight at the first grid point, over the segments that
    /// can hold a non-negligible weight; false when a product left the normal range (the
    /// caller then takes the log-scale path).
    fn fill(&self, g: &Graph, terms: &[Term], grid: &Grid, avx2: bool, s: &mut Scratch) -> bool {
        let idx = |sets: &[u64]| sets.iter().map(|&c| c as usize - 1).collect::<Vec<_>>();
        let (ci, si) = (idx(&g.cliques), idx(&g.separators));
        // one kernel per (cliques, separators): a point's product then stays in registers
        macro_rules! dispatch {
            ($(($c:literal, $s:literal)),*) => {
                match (ci.len(), si.len()) {
                    $(($c, $s) => self.fill_any::<$c, $s>(avx2, &ci, &si, terms, grid, s),)*
                    _ => false,
                }
            };
        }
        dispatch!(
            (1, 0),
            (2, 0),
            (2, 1),
            (3, 0),
            (3, 1),
            (3, 2),
            (4, 0),
            (4, 1),
            (4, 2),
            (4, 3),
            (5, 0),
            (5, 1),
            (5, 2),
            (5, 3),
            (5, 4),
            (6, 0),
            (6, 1),
            (6, 2),
            (6, 3),
            (6, 4),
            (6, 5)
        )
    }

    fn fill_any<const NC: usize, const NS: usize>(
        &self,
        avx2: bool,
        ci: &[usize],
        si: &[usize],
        terms: &[Term],
        grid: &Grid,
        s: &mut Scratch,
    ) -> bool {
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: `avx2` is set only when the CPU reports AVX2, all `fill_avx2` needs.
            return unsafe { self.fill_avx2::<NC, NS>(ci, si, terms, grid, s) };
        }
        let _ = avx2;
        self.fill_k::<NC, NS>(ci, si, terms, grid, s)
    }

    /// `fill_k` compiled for AVX2: the same operations in the same order on wider
    /// registers, so the same results.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn fill_avx2<const NC: usize, const NS: usize>(
        &self,
        ci: &[usize],
        si: &[usize],
        terms: &[Term],
        grid: &Grid,
        s: &mut Scratch,
    ) -> bool {
        self.fill_k::<NC, NS>(ci, si, terms, grid, s)
    }

    /// `fill` for NC cliques and NS separators (indices into `terms`).
    #[inline(always)]
    fn fill_k<const NC: usize, const NS: usize>(
        &self,
        ci: &[usize],
        si: &[usize],
        terms: &[Term],
        grid: &Grid,
        s: &mut Scratch,
    ) -> bool {
        let (Ok(ci), Ok(si)) = (<[usize; NC]>::try_from(ci), <[usize; NS]>::try_from(si)) else {
            return false;
        };
        let (ac, asep) = (ci.map(|c| terms[c].a), si.map(|c| terms[c].a));
        let nterm = terms.len() + 2;
        let (td, tq) = (terms.len(), terms.len() + 1);
        let nsub = NC - NS;
        let nseg = self.bounds.len() - 1;
        // the weight at every segment start, from the segments' products
        s.starts.clear();
        let mut st = (0i64, 1.0f64);
        let mut floor = st;
        for b in 0..nseg {
            s.starts.push(st);
            if greater(st, floor) {
                floor = st;
            }
            let p = &self.prods[b * nterm..(b + 1) * nterm];
            let (mut exp, mut num, mut den) = (p[tq].0, p[tq].1, 1.0);
            for c in ci {
                exp += p[c].0;
                num *= p[c].1;
            }
            for c in si {
                exp -= p[c].0;
                den *= p[c].1;
            }
            for _ in 0..nsub {
                exp -= p[td].0;
                den *= p[td].1;
            }
            let (e, f) = split(st.1 * (num / den));
            st = (st.0 + exp + e, f);
        }
        // the row's maximum is at least `floor`; a segment along which log r keeps one sign
        // peaks at an end, and is skipped when that end (below 2^(exp + 1)) is negligible
        // against `floor`
        let negligible = |x: (i64, f64)| x.0 + NEGLIGIBLE_BITS < floor.0;
        // w(M + 1)/w(M) = q·Π_C (a_C + M) / (d^(NC−NS)·Π_S (a_S + M))
        let parts = |m: f64, q: f64, d: f64| {
            let mut num = q;
            for a in ac {
                num *= a + m;
            }
            let mut den = d;
            for _ in 1..nsub {
                den *= d;
            }
            for a in asep {
                den *= a + m;
            }
            (num, den)
        };
        s.segs.clear();
        for b in 0..nseg {
            let (lo, hi) = (self.bounds[b], self.bounds[b + 1]);
            let (l0, l1) = (&self.logs[b * nterm..], &self.logs[(b + 1) * nterm..]);
            let k0 = &self.curv[b * nterm..];
            // log r at both ends, and the most a function with |f''| ≤ K can rise above
            // its chord: K·len²/8
            let (mut r0, mut r1, mut curv) = (l0[tq], l1[tq], k0[tq]);
            for c in ci {
                (r0, r1, curv) = (r0 + l0[c], r1 + l1[c], curv + k0[c]);
            }
            for c in si {
                (r0, r1, curv) = (r0 - l0[c], r1 - l1[c], curv + k0[c]);
            }
            let nsf = nsub as f64;
            r0 -= nsf * l0[td];
            r1 -= nsf * l1[td];
            curv += nsf * k0[td];
            let bend = curv * ((hi - lo) as f64).powi(2) / 8.0;
            let falling = r0.max(r1) + bend < 0.0;
            let rising = r0.min(r1) - bend > 0.0;
            let end = s.starts.get(b + 1).copied().unwrap_or(st);
            if (falling && negligible(s.starts[b])) || (rising && negligible(end)) {
                continue;
            }
            let r = &mut s.ratio[..hi - lo];
            for ((r, &m), &q) in r.iter_mut().zip(&self.mf[lo..hi]).zip(&self.q[lo..hi]) {
                let (num, den) = parts(m, q, self.d0 + m);
                *r = num / den;
            }
            let start = s.starts[b].1;
            let r = &r[..hi - lo - 1];
            let w = &mut s.w[lo + 1..hi];
            let mut x = start;
            let mut lanes = [start; 4];
            let len = r.len() - r.len() % 4;
            // the running product is the only serial dependency: partial products of four
            // ratios do not wait for it
            for (r, o) in r[..len].chunks_exact(4).zip(w[..len].chunks_exact_mut(4)) {
                let p2 = r[0] * r[1];
                let p3 = p2 * r[2];
                let p4 = p3 * r[3];
                o[0] = x * r[0];
                o[1] = x * p2;
                o[2] = x * p3;
                x *= p4;
                o[3] = x;
                for l in 0..4 {
                    lanes[l] = if o[l] > lanes[l] { o[l] } else { lanes[l] };
                }
            }
            for (&r, o) in r[len..].iter().zip(&mut w[len..]) {
                x *= r;
                *o = x;
                lanes[0] = if x > lanes[0] { x } else { lanes[0] };
            }
            s.w[lo] = start;
            let max = lanes
                .iter()
                .fold(f64::NEG_INFINITY, |a, &b| if b > a { b } else { a });
            // NaN anywhere propagates to the segment's last point
            if !(max.is_normal() && x.is_normal() && x > 0.0) {
                return false;
            }
            s.segs.push(Segment {
                start: lo,
                end: hi,
                exp: s.starts[b].0,
                max,
                moments: grid.moments(&s.w[lo..hi], lo),
            });
        }
        true
    }
}

/// Log-scale rows from the Γ curves of every term (any grid).
struct Curves {
    comp: Vec<Vec<f64>>,
    common: Vec<f64>,
    den: Vec<f64>,
}

/// Segment length of log-scale rows.
const CURVE_SPAN: usize = 64;

impl Curves {
    fn new(
        terms: &[Term],
        missing: &[u64],
        n: f64,
        sum_alpha: f64,
        log_ny: f64,
        prior: NPrior,
    ) -> Curves {
        let comp = terms
            .iter()
            .map(|t| {
                lgamma_run(t.a, missing)
                    .into_iter()
                    .map(|v| t.constant + v)
                    .collect()
            })
            .collect();
        let lg_n1 = lgamma_run(n + 1.0, missing);
        let lg_m1 = lgamma_run(1.0, missing);
        let lg_den = lgamma_run(n + sum_alpha, missing);
        let common = (0..missing.len())
            .map(|j| lg_n1[j] - log_ny - lg_m1[j] + log_prior(prior, n + missing[j] as f64))
            .collect();
        let den = lg_den.iter().map(|v| ln_gamma(sum_alpha) - v).collect();
        Curves { comp, common, den }
    }

    /// The row of `g` as weights relative to its maximum, which is returned (None when the
    /// row has no finite weight).
    fn fill(&self, g: &Graph, grid: &Grid, s: &mut Scratch) -> Option<f64> {
        let nsub = g.cliques.len() as f64 - g.separators.len() as f64;
        let out = &mut s.lw;
        out.clear();
        out.extend(self.common.iter().zip(&self.den).map(|(c, d)| c + nsub * d));
        for &c in &g.cliques {
            for (o, v) in out.iter_mut().zip(&self.comp[c as usize - 1]) {
                *o += v;
            }
        }
        for &sep in &g.separators {
            for (o, v) in out.iter_mut().zip(&self.comp[sep as usize - 1]) {
                *o -= v;
            }
        }
        let rowmax = out
            .iter()
            .fold(f64::NEG_INFINITY, |a, &v| if v > a { v } else { a });
        if !rowmax.is_finite() {
            return None;
        }
        for (w, &l) in s.w.iter_mut().zip(out.iter()) {
            *w = (l - rowmax).exp();
        }
        s.segs.clear();
        for lo in (0..out.len()).step_by(CURVE_SPAN) {
            let hi = (lo + CURVE_SPAN).min(out.len());
            s.segs.push(Segment {
                start: lo,
                end: hi,
                exp: 0,
                max: lane_max(&s.w[lo..hi]),
                moments: grid.moments(&s.w[lo..hi], lo),
            });
        }
        Some(rowmax)
    }
}

/// c += f·w.
fn add_scaled(c: &mut [f64], w: &[f64], f: f64, avx2: bool) {
    #[inline(always)]
    fn run(c: &mut [f64], w: &[f64], f: f64) {
        for (c, &w) in c.iter_mut().zip(w) {
            *c += w * f;
        }
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn run_avx2(c: &mut [f64], w: &[f64], f: f64) {
        run(c, w, f)
    }
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is set only when the CPU reports AVX2, all `run_avx2` needs.
        return unsafe { run_avx2(c, w, f) };
    }
    let _ = avx2;
    run(c, w, f)
}

/// Log prior of N.
fn log_prior(prior: NPrior, nn: f64) -> f64 {
    match prior {
        NPrior::Inverse => -nn.ln(),
        NPrior::NegBinomial { a, b } => {
            nn * b.ln() - (nn + a) * (1.0 + b).ln() + ln_gamma(nn + a)
                - ln_gamma(nn + 1.0)
                - ln_gamma(a)
        }
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
    let ladder = Ladder::new(missing, &terms, n, sum_alpha, &graphs, prior).filter(|_| ladder);
    // rows the ladder cannot take (any grid, or products out of range) use the Γ curves,
    // built at most once; built sequentially, so no rayon work runs under the lock
    let curves = std::sync::OnceLock::new();
    let curves =
        || curves.get_or_init(|| Curves::new(&terms, missing, n, sum_alpha, log_ny, prior));
    // the ladder's rows are relative to the log weight at the first grid point, taken in the
    // same order of operations as a row of the curves
    let m0 = missing[0] as f64;
    let comp0: Vec<f64> = terms
        .iter()
        .map(|t| t.constant + ln_gamma(t.a + m0))
        .collect();
    let common0 = ln_gamma(n + 1.0 + m0) - log_ny - ln_gamma(1.0 + m0) + log_prior(prior, n + m0);
    let den0 = ln_gamma(sum_alpha) - ln_gamma(n + sum_alpha + m0);
    let anchor = |g: &Graph| {
        let nsub = g.cliques.len() as f64 - g.separators.len() as f64;
        let mut v = common0 + nsub * den0;
        for &c in &g.cliques {
            v += comp0[c as usize - 1];
        }
        for &s in &g.separators {
            v -= comp0[s as usize - 1];
        }
        v
    };
    let n_values: Vec<f64> = missing.iter().map(|&mi| n + mi as f64).collect();
    let grid = Grid {
        inv: n_values.iter().map(|&v| 1.0 / v).collect(),
        inv2: n_values.iter().map(|&v| 1.0 / (v * v)).collect(),
        n: n_values,
    };
    // Each row's sums relative to its own maximum (a model's conditional summaries are then
    // exact however small its weight); column sums per block relative to the block's running
    // maximum, rescaled when it rises; blocks merged in order on the global maximum.
    struct Block {
        rowmax: Vec<f64>,
        weights: Vec<f64>,
        cond: Vec<[f64; 3]>,
        modes: Vec<f64>,
        reference: f64,
        cols: Vec<f64>,
    }
    let avx2 = crate::cpu::has_avx2();
    let blocks: Vec<Block> = graphs
        .par_chunks(BLOCK)
        .map(|chunk| {
            let mut s = Scratch::new(m);
            let mut b = Block {
                rowmax: Vec::with_capacity(chunk.len()),
                weights: Vec::with_capacity(chunk.len()),
                cond: Vec::with_capacity(chunk.len()),
                modes: Vec::with_capacity(chunk.len()),
                reference: f64::NEG_INFINITY,
                cols: vec![0.0; m],
            };
            for g in chunk {
                let anchor = match &ladder {
                    Some(l) if l.fill(g, &terms, &grid, avx2, &mut s) => Some(anchor(g)),
                    _ => curves().fill(g, &grid, &mut s),
                };
                // the row maximum: the largest max·2^exp over segments, compared exactly
                let mut top: Option<(i64, f64, usize)> = None;
                for (i, sg) in s.segs.iter().enumerate() {
                    if sg.max.is_normal() {
                        let (e, f) = split(sg.max);
                        if top.is_none_or(|(te, tf, _)| greater((sg.exp + e, f), (te, tf))) {
                            top = Some((sg.exp + e, f, i));
                        }
                    }
                }
                let (Some(anchor), Some((top_exp, top_mant, top_seg))) = (anchor, top) else {
                    b.rowmax.push(f64::NEG_INFINITY);
                    b.weights.push(0.0);
                    b.cond.push([f64::NAN; 3]);
                    b.modes.push(grid.n[0]);
                    continue;
                };
                let sg = s.segs[top_seg];
                let best_j = s.w[sg.start..sg.end]
                    .iter()
                    .position(|&x| x == sg.max)
                    .map_or(sg.start, |p| sg.start + p);
                let rowmax = anchor + top_exp as f64 * std::f64::consts::LN_2 + top_mant.ln();
                if rowmax > b.reference {
                    let f = (b.reference - rowmax).exp();
                    if b.reference.is_finite() {
                        b.cols.iter_mut().for_each(|c| *c *= f);
                    }
                    b.reference = rowmax;
                }
                let scale = (rowmax - b.reference).exp();
                let mut sums = [0.0f64; 4];
                for sg in &s.segs {
                    if !sg.max.is_normal() || sg.exp + split(sg.max).0 < top_exp - NEGLIGIBLE_BITS {
                        continue;
                    }
                    let f = pow2(sg.exp - top_exp) / top_mant;
                    for (a, m) in sums.iter_mut().zip(sg.moments) {
                        *a += f * m;
                    }
                    if scale > 0.0 {
                        let (lo, hi) = (sg.start, sg.end);
                        add_scaled(&mut b.cols[lo..hi], &s.w[lo..hi], f * scale, avx2);
                    }
                }
                let [s0, s1, sm1, sm2] = sums;
                b.rowmax.push(rowmax);
                b.weights.push(s0);
                b.cond.push([s1 / s0, sm1 / s0, sm2 / s0]);
                b.modes.push(grid.n[best_j]);
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
        n_values: grid.n,
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

/// Posterior mass dropped from each end of a stratum's posterior of N before the strata
/// totals convolve it: far below any quantile reported.
const EXACT_TAIL: f64 = 1e-13;

/// The `dga` method.
pub fn estimate(table: &CaptureTable, level: Level) -> Result<Estimate> {
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
    let qs = [0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975];
    let quantiles: Vec<(f64, f64)> = qs.iter().map(|&q| (q, quantile(q))).collect();
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
    let lo = quantile((1.0 - level.get()) / 2.0);
    let hi = quantile((1.0 + level.get()) / 2.0);
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
            level: level.get(),
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
            exact: Some(
                super::Pmf {
                    first: n,
                    probs: pn.clone(),
                }
                .trimmed(EXACT_TAIL),
            ),
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
