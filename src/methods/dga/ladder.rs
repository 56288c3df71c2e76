//! Each graph's row of weights over the grid of missing counts, and their sums: the model
//! weights, each graph's conditional moments and mode, and the averaged posterior of N,
//! unnormalised, for `posterior` (in `mod.rs`) to normalise.
//!
//! On a grid of consecutive missing counts the weights are not taken as exponentials of
//! log-Γ sums: the ratio of consecutive weights of a graph is a rational function of N
//! (log Γ(a + M + 1) − log Γ(a + M) = log(a + M) for every term), so a row is a running
//! product, held in range by a binary exponent carried from segment to segment. Segments
//! along which a row is monotone and negligible (below 2^-58 of its maximum) are skipped.
//! Products are also more accurate than running sums of logs: on the shared data sets, model
//! weights are within about 1e-10 of compensated log-Γ sums, plain running sums within 3e-8.
//!
//! Rows the ladder cannot take (a grid with gaps, or products out of range) come from the
//! log-Γ curves of every term instead. Rows are summed in fixed blocks of graphs merged in
//! order, so the results do not depend on the number of threads.

use super::graphs::Graph;
use super::model::{Model, NPrior, Term, log_prior};
use crate::error::{Error, Result};
use rayon::prelude::*;
use statrs::function::gamma::ln_gamma;

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

/// What `posterior` normalises: per graph its weight relative to the largest row maximum,
/// the means of N, 1/N and 1/N² given the graph, and its mode; the averaged posterior of N
/// on the same scale as the weights.
pub(super) struct Weights {
    pub(super) n_values: Vec<f64>,
    pub(super) model_weights: Vec<f64>,
    pub(super) conditional: Vec<[f64; 3]>,
    pub(super) modes: Vec<f64>,
    pub(super) n_posterior: Vec<f64>,
}

/// The rows of every graph on the grid `missing`, by the ladder when `ladder` is set and it
/// can take them, else by the log-Γ curves.
pub(super) fn weigh(
    model: &Model,
    missing: &[u64],
    graphs: &[Graph],
    ladder: bool,
) -> Result<Weights> {
    let Model {
        ref terms,
        n,
        sum_alpha,
        log_ny,
        prior,
    } = *model;
    let m = missing.len();
    let ladder = Ladder::new(missing, terms, n, sum_alpha, graphs, prior).filter(|_| ladder);
    // rows the ladder cannot take (any grid, or products out of range) use the Γ curves,
    // built at most once; built sequentially, so no rayon work runs under the lock
    let curves = std::sync::OnceLock::new();
    let curves = || curves.get_or_init(|| Curves::new(terms, missing, n, sum_alpha, log_ny, prior));
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
                    Some(l) if l.fill(g, terms, &grid, avx2, &mut s) => Some(anchor(g)),
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
    Ok(Weights {
        n_values: grid.n,
        model_weights,
        conditional,
        modes,
        n_posterior,
    })
}
