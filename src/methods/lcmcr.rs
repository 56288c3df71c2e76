//! The Bayesian non-parametric latent-class model of Manrique-Vallier (2016, Biometrics
//! 72(4)): people belong to latent classes, within which the lists are independent
//! (P(on list j | class k) = λ_jk, λ_jk ~ Beta(1, 1)); class weights follow a truncated
//! stick-breaking prior with K classes and concentration α ~ Gamma(a_α, b_α); the prior on
//! N is ∝ 1/N. Gibbs sampling with data augmentation of the unobserved: class counts of
//! each observed history; n₀ ~ NegBin(n, 1 − p₀) with p₀ the probability of being on no
//! list; the unobserved split over classes; λ, stick-breaking weights and α from their
//! conjugate conditionals. Each chain draws from its own stream of the job's seed.

pub use super::details::Start;
use super::details::{Details, LcmcrDetails, PriorN};
use super::types::{Estimate, Status};
use crate::checked::Level;
use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::montecarlo::multinomial::{Lanes, multinomial_bulk};
use crate::montecarlo::stream;
use crate::montecarlo::variates::{gamma, gamma_mt};
use rand::distr::Distribution;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::Poisson;
use rayon::prelude::*;

/// Warm-up iterations of the package's start (not counted in the burn-in).
const WARMUP: usize = 500;

/// Sampler settings.
#[derive(Debug, Clone, Copy)]
pub struct LcmcrOptions {
    /// Classes in the truncation.
    pub k: usize,
    /// Gamma prior of α: shape.
    pub a_alpha: f64,
    /// Gamma prior of α: rate.
    pub b_alpha: f64,
    /// Iterations discarded.
    pub burnin: usize,
    /// Draws kept per chain.
    pub samples: usize,
    /// Iterations between kept draws.
    pub thinning: usize,
    /// Chains.
    pub chains: usize,
    /// Master seed.
    pub seed: u64,
    /// Where the chains start.
    pub start: Start,
}

/// Burn-in and thinning are those of the package's reference runs (100,000 and 50): Ned_5
/// has transients from the package start (N ≈ 15,000–25,000) that can outlast 20,000
/// iterations, and on kosovo 5,000 × 20 left the tail ESS of 4 chains near 260 (warned),
/// 5,000 × 50 gives ≈ 500.
impl Default for LcmcrOptions {
    fn default() -> Self {
        LcmcrOptions {
            k: 10,
            a_alpha: 0.25,
            b_alpha: 0.25,
            burnin: 100_000,
            samples: 5_000,
            thinning: 50,
            chains: 4,
            seed: crate::montecarlo::DEFAULT_SEED,
            start: Start::Package,
        }
    }
}

/// Draws of N, one vector per chain.
pub fn sample(table: &CaptureTable, o: LcmcrOptions) -> Vec<Vec<f64>> {
    let j = table.k();
    let k = o.k.max(1);
    let cells: Vec<(u64, u64)> = table.cells().to_vec();
    let n: u64 = cells.iter().map(|c| c.1).sum();
    (0..o.chains)
        .into_par_iter()
        .map(|chain| {
            let (mut rng, mut lanes) = chain_rng(o.seed, chain as u64);
            let mut lambda: Vec<f64> = (0..j * k).map(|_| rng.random::<f64>()).collect();
            let mut alpha = 1.0;
            let mut v = vec![0.5; k];
            v[k - 1] = 1.0;
            let mut pi = vec![0.0; k];
            let stick = |v: &[f64], pi: &mut [f64]| {
                let mut rest = 1.0;
                for (p, vk) in pi.iter_mut().zip(v) {
                    *p = vk * rest;
                    rest *= 1.0 - vk;
                }
            };
            stick(&v, &mut pi);
            let package = o.start == Start::Package;
            if package {
                for l in 0..j {
                    let share = cells
                        .iter()
                        .filter(|c| c.0 >> l & 1 == 1)
                        .map(|c| c.1 as f64)
                        .sum::<f64>()
                        / n as f64;
                    lambda[l * k..l * k + k].iter_mut().for_each(|x| *x = share);
                }
                for (kk, p) in pi.iter_mut().enumerate() {
                    *p = match k {
                        1..=4 => 1.0 / k as f64,
                        _ if kk < 4 => 0.225,
                        _ => 0.1 / (k - 4) as f64,
                    };
                }
                alpha = 0.3 / k as f64;
            }
            let warmup = if package { WARMUP } else { 0 };
            let mut sticks = Sticks::new(k);
            let mut out = Vec::with_capacity(o.samples.min(1 << 20));
            let total = o
                .burnin
                .saturating_add(warmup)
                .saturating_add(o.samples.saturating_mul(o.thinning.max(1)));
            let mut probs = vec![0.0; k];
            let mut on = vec![0.0; j * k]; // Σ over class-k people of x_j
            let mut size = vec![0.0; k];
            let mut order: Vec<usize> = (0..k).collect();
            let mut counts = vec![0u64; k];
            let (mut on_n, mut size_n) = (vec![0u64; j * k], vec![0u64; k]);
            let dense = j <= 16 && (1usize << (j + 1)) <= cells.len() * j;
            let mut lat = vec![0.0; if dense { (1usize << j) * k } else { 0 }];
            let mut mt = vec![0.0; 4 * j * k];
            // the scan's classes in `order` (heaviest first): weights, sums and counts of
            // position i belong to class order[i]
            let (mut pi_s, mut lam_s) = (vec![0.0; k], vec![0.0; j * k]);
            let mut order0: Vec<usize> = (0..k).collect();
            let (mut w0, mut counts0) = (vec![0.0; k], vec![0u64; k]);
            // each observed history's total weight, summed for all of them in one pass
            let mut sums = vec![0.0; cells.len()];
            for it in 0..total {
                on_n.iter_mut().for_each(|x| *x = 0);
                size_n.iter_mut().for_each(|x| *x = 0);
                // Heavy classes first: the binomial chain in `multinomial_bulk` then runs
                // out of people after a few classes (one order for all histories: sorting
                // per history costs more than the draws it saves). Last iteration's order is
                // nearly sorted, which insertion sort finishes in a pass; any order that does
                // not depend on this scan's draws gives the exact conditional.
                sort_by_weight(&mut order, &pi);
                for (pos, &c) in order.iter().enumerate() {
                    pi_s[pos] = pi[c];
                    for l in 0..j {
                        lam_s[l * k + pos] = lambda[l * k + c];
                    }
                }
                // Class weights of every history: by the product lattice over the lists
                // (2^(J+1) products per class) when that is cheaper than J per observed cell.
                if dense {
                    lat[..k].copy_from_slice(&pi_s);
                    let mut len = 1;
                    for l in 0..j {
                        let lam = &lam_s[l * k..l * k + k];
                        // histories without list l (first half) and with it (second half);
                        // slices so the class loop vectorises
                        let (off, on_l) = lat[..2 * len * k].split_at_mut(len * k);
                        for (w0, w1) in off.chunks_exact_mut(k).zip(on_l.chunks_exact_mut(k)) {
                            for ((a, b), &lm) in w0.iter_mut().zip(w1.iter_mut()).zip(lam) {
                                let w = *a;
                                *b = w * lm;
                                *a = w * (1.0 - lm);
                            }
                        }
                        len *= 2;
                    }
                }
                if dense {
                    for (sum, &(h, _)) in sums.iter_mut().zip(&cells) {
                        let hh = h as usize;
                        *sum = lat[hh * k..hh * k + k].iter().sum();
                    }
                }
                for (&(h, c), &sum) in cells.iter().zip(&sums) {
                    let hh = h as usize;
                    let mut total = sum;
                    if !dense {
                        for (pos, p) in probs.iter_mut().enumerate() {
                            let mut w = pi_s[pos];
                            for l in 0..j {
                                let lam = lam_s[l * k + pos];
                                w *= if h >> l & 1 == 1 { lam } else { 1.0 - lam };
                            }
                            *p = w;
                        }
                        total = probs.iter().sum();
                    }
                    let w = if dense {
                        &lat[hh * k..hh * k + k]
                    } else {
                        &probs[..]
                    };
                    multinomial_bulk(&mut rng, &mut lanes, c, w, total, &mut counts);
                    // integer sums, branch-free over the classes (vectorised) and over the
                    // lists; converted to floating point once per scan
                    for (s, &m) in size_n.iter_mut().zip(&counts) {
                        *s += m;
                    }
                    for l in 0..j {
                        // a mask, not a branch on h's bits: fewer mispredictions
                        let on_l = ((h >> l) & 1).wrapping_neg();
                        for (o, &m) in on_n[l * k..l * k + k].iter_mut().zip(&counts) {
                            *o += m & on_l;
                        }
                    }
                }
                // the unobserved: how many, and in which classes (their own order, heaviest
                // first, over the positions)
                for (pos, p) in probs.iter_mut().enumerate() {
                    let mut w = pi_s[pos];
                    for l in 0..j {
                        w *= 1.0 - lam_s[l * k + pos];
                    }
                    *p = w;
                }
                let p0: f64 = probs.iter().sum();
                sort_by_weight(&mut order0, &probs);
                for (x, &pos) in w0.iter_mut().zip(&order0) {
                    *x = probs[pos];
                }
                let p0c = p0.clamp(1e-300, 1.0 - 1e-12);
                // n₀ ~ NegBin(n, 1 − p₀) as a Poisson–gamma mixture
                let g = if n > 0 {
                    gamma(&mut rng, n as f64) * (p0c / (1.0 - p0c))
                } else {
                    0.0
                };
                let n0: u64 = if g > 0.0 {
                    Poisson::new(g).map_or(0.0, |d| d.sample(&mut rng)) as u64
                } else {
                    0
                };
                let sum0 = w0.iter().sum();
                multinomial_bulk(&mut rng, &mut lanes, n0, &w0, sum0, &mut counts0);
                for (&pos, &m) in order0.iter().zip(&counts0) {
                    size_n[pos] += m;
                }
                for (pos, &c) in order.iter().enumerate() {
                    size[c] = size_n[pos] as f64;
                    for l in 0..j {
                        // ≤ the observed total (≤ MAX_COUNT = 2⁵⁰): through i64, one
                        // instruction, where u64 → f64 takes several
                        on[l * k + c] = on_n[l * k + pos] as i64 as f64;
                    }
                }
                draw_lambda(&mut rng, &mut lambda, &on, &size, &mut mt);
                let log_rest = sticks.update(&mut rng, &size, alpha, &mut pi);
                // Label switching (Hastie, Liverani & Richardson 2015, move 1): swap the
                // labels of two classes, weights kept, with probability
                // min(1, (π_b/π_a)^(n_a − n_b)). Gibbs updates alone never move a class to
                // another stick-breaking position, and chains then stay for millions of
                // iterations in the label configuration they start from (UKdat_5: 21,300
                // vs 22,400 after 11 M iterations; Ned_5: a "ghost class" state at 143,000).
                if it >= warmup && k > 1 {
                    let a = rng.random_range(0..k);
                    let mut b = rng.random_range(0..k - 1);
                    if b >= a {
                        b += 1;
                    }
                    let log_acc = (size[a] - size[b]) * (sticks.log_pi(b) - sticks.log_pi(a));
                    if rng.random::<f64>().ln() < log_acc {
                        for l in 0..j {
                            lambda.swap(l * k + a, l * k + b);
                        }
                    }
                }
                // α | V ~ Gamma(a_α + K − 1, rate b_α − Σ log(1 − V_k)); the rate is ≥ b_α > 0
                if it >= warmup {
                    alpha = gamma(&mut rng, o.a_alpha + (k - 1) as f64) / (o.b_alpha - log_rest);
                }
                if it + 1 == warmup {
                    // relabel classes by decreasing weight, as the package does after warm-up
                    let mut idx: Vec<usize> = (0..k).collect();
                    idx.sort_by(|&a, &b| pi[b].total_cmp(&pi[a]));
                    let (old_pi, old_lambda) = (pi.clone(), lambda.clone());
                    for (new, &old) in idx.iter().enumerate() {
                        pi[new] = old_pi[old];
                        for l in 0..j {
                            lambda[l * k + new] = old_lambda[l * k + old];
                        }
                    }
                }
                if it >= o.burnin.saturating_add(warmup)
                    && (it - o.burnin - warmup).is_multiple_of(o.thinning.max(1))
                {
                    out.push((n + n0) as f64);
                }
            }
            out
        })
        .collect()
}

/// The generators of chain `chain`, keyed by the chain's own ChaCha8 stream of the job's
/// seed: xoshiro256++ for the scan's ~300 single draws (ChaCha8 spends ~4 ns on each on the
/// machines this runs on, xoshiro256++ ~1 ns; its statistical quality is ample for MCMC),
/// and four more, stepped together, for the bulk counting of the multinomials.
fn chain_rng(seed: u64, chain: u64) -> (Xoshiro256PlusPlus, Lanes) {
    let mut key = stream(seed, chain);
    let rng = Xoshiro256PlusPlus::from_rng(&mut key);
    (rng, Lanes::from_rng(&mut key))
}

/// `--method lcmcr`: posterior median of N, equal-tailed posterior interval, draws summary
/// and convergence diagnostics (a warning when R-hat > 1.01 or an ESS < 400).
pub fn estimate(table: &CaptureTable, o: &LcmcrOptions, level: Level) -> Result<Estimate> {
    let o = *o;
    if o.k == 0 || o.chains == 0 || o.samples < 4 || o.thinning == 0 || table.k() < 2 {
        return Err(Error::Usage(
            "method lcmcr needs at least 2 lists, K ≥ 1, 1 or more chains, 4 or more samples and thinning ≥ 1".into(),
        ));
    }
    if !(o.a_alpha > 0.0 && o.b_alpha > 0.0 && o.a_alpha.is_finite() && o.b_alpha.is_finite()) {
        return Err(Error::Usage(format!(
            "method lcmcr needs a Gamma prior on α with positive, finite shape and rate (got {} and {})",
            o.a_alpha, o.b_alpha
        )));
    }
    if o.samples.saturating_mul(o.chains) > 100_000_000 {
        return Err(Error::Usage(format!(
            "method lcmcr would keep {} × {} draws; keep at most 100,000,000 (raise thinning instead)",
            o.samples, o.chains
        )));
    }
    let chains = sample(table, o);
    let post = crate::inference::posterior::posterior(&chains, level.get());
    let n = table.observed();
    Ok(Estimate {
        method: "lcmcr".into(),
        label: format!("latent classes (K = {})", o.k),
        options: Details::Lcmcr(LcmcrDetails {
            k: o.k,
            a_alpha: o.a_alpha,
            b_alpha: o.b_alpha,
            burnin: o.burnin,
            chains: o.chains,
            diagnostics: post.diagnostics,
            prior_n: PriorN::Inverse,
            samples: o.samples,
            seed: o.seed,
            start: o.start,
            thinning: o.thinning,
        }),
        status: Status::Ok,
        observed: n,
        population: Some(post.median),
        missing: Some(post.median - n as f64),
        std_error: Some(post.sd),
        interval: Some(post.interval),
        draws: Some(post.draws),
        warnings: post.warning.into_iter().collect(),
        ..Estimate::blank()
    })
}

/// Stick-breaking weights drawn from their conditional given the class sizes, with what the
/// label move needs to get log π_c without storing a log per class.
struct Sticks {
    /// V of each class but the last (linear).
    v: Vec<f64>,
    /// log V where it was drawn on the log scale, NaN where `v` holds it.
    log_v: Vec<f64>,
    /// Σ log(1 − V_j) over the classes before each one.
    log_rest_before: Vec<f64>,
    /// Σ log(1 − V_j) over all classes but the last: log π of the last.
    log_rest: f64,
}

impl Sticks {
    fn new(k: usize) -> Self {
        Sticks {
            v: vec![0.0; k],
            log_v: vec![0.0; k],
            log_rest_before: vec![0.0; k],
            log_rest: 0.0,
        }
    }

    /// Draws V_k ~ Beta(1 + n_k, α + Σ_{j>k} n_j) for every class but the last, writes the
    /// weights π into `pi` and returns Σ log(1 − V_k), which drives α's update. With a
    /// small α the empty tail classes have 1 − V far below machine precision, and that
    /// sum must not be truncated there. Empty classes: 1 − V = U^(1/shape) exactly, one log.
    /// Otherwise, when the second gamma's shape is below ½ (it can underflow), the split is
    /// on the log scale; else in linear scale, log(1 − V) = log(G₂/(G₁ + G₂)), whose
    /// ~1e-16 absolute error is far below what α's rate and the label move resolve.
    fn update<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        size: &[f64],
        alpha: f64,
        pi: &mut [f64],
    ) -> f64 {
        let k = size.len();
        let mut after: f64 = size.iter().sum();
        let mut log_rest = 0.0;
        let mut rest = 1.0; // exp(log_rest); may underflow to 0, as π would
        for kk in 0..k - 1 {
            after -= size[kk];
            let shape2 = alpha + after.max(0.0);
            self.log_rest_before[kk] = log_rest;
            if size[kk] == 0.0 {
                let l1mv = (1.0 - rng.random::<f64>()).ln() / shape2;
                // 1 − V = e^l and V from one transcendental: below l = −ln 2, V > ½ is
                // exact as 1 − e^l; above it e^l = 1 + expm1(l) is (and V ≪ 1 needs expm1)
                let (v, one_minus_v) = if l1mv < -std::f64::consts::LN_2 {
                    let e = l1mv.exp();
                    (1.0 - e, e)
                } else {
                    let m = l1mv.exp_m1();
                    (-m, 1.0 + m)
                };
                self.v[kk] = v;
                self.log_v[kk] = f64::NAN;
                pi[kk] = v * rest;
                rest *= one_minus_v;
                log_rest += l1mv;
            } else if shape2 >= 0.5 {
                let x1 = gamma(rng, 1.0 + size[kk]);
                let x2 = gamma(rng, shape2);
                let inv = 1.0 / (x1 + x2);
                self.v[kk] = x1 * inv;
                self.log_v[kk] = f64::NAN;
                pi[kk] = x1 * inv * rest;
                let one_minus_v = x2 * inv;
                rest *= one_minus_v;
                // 1 − V > 0 here (x2 does not underflow at shape ≥ ½): its log is exact to
                // ~1e-16 absolute, all α's rate b_α − Σ log(1 − V) and the label move need
                // (log1p(x1/x2) would cost three times as much)
                log_rest += one_minus_v.ln();
            } else {
                let g1 = log_gamma_draw(rng, 1.0 + size[kk]);
                let g2 = log_gamma_draw(rng, shape2);
                let lsum = g1.max(g2) + (-(g1 - g2).abs()).exp().ln_1p();
                self.log_v[kk] = g1 - lsum;
                pi[kk] = (self.log_v[kk] + log_rest).exp();
                log_rest += g2 - lsum;
                rest = log_rest.exp();
            }
        }
        pi[k - 1] = rest;
        self.log_rest = log_rest;
        log_rest
    }

    /// log π_c of the last update.
    fn log_pi(&self, c: usize) -> f64 {
        if c + 1 == self.v.len() {
            self.log_rest
        } else if self.log_v[c].is_nan() {
            self.v[c].ln() + self.log_rest_before[c]
        } else {
            self.log_v[c] + self.log_rest_before[c]
        }
    }
}

/// λ | classes: λ_lc ~ Beta(1 + on_lc, 1 + size_c − on_lc) for every list l and class c
/// (`lambda` and `on` list-major, K classes a list). Marsaglia–Tsang's constants of both
/// gammas of every Beta first, in one pass that vectorises: a draw then waits on no
/// square root or division (a gamma draw ~40% faster in isolation). A function of its own,
/// kept out of the scan, so that the gamma draws and their normals are inlined here
/// whatever the scan's size (when the normal's sampler was not, a scan took ~4% longer).
#[inline(never)]
fn draw_lambda<R: Rng + ?Sized>(
    rng: &mut R,
    lambda: &mut [f64],
    on: &[f64],
    size: &[f64],
    mt: &mut [f64],
) {
    let k = size.len();
    for (on_l, mt_l) in on.chunks_exact(k).zip(mt.chunks_exact_mut(4 * k)) {
        for ((&o, &sz), m) in on_l.iter().zip(size).zip(mt_l.chunks_exact_mut(4)) {
            let (da, db) = ((1.0 + o) - 1.0 / 3.0, (1.0 + sz - o) - 1.0 / 3.0);
            m[0] = da;
            m[1] = 1.0 / (9.0 * da).sqrt();
            m[2] = db;
            m[3] = 1.0 / (9.0 * db).sqrt();
        }
    }
    for ((lam, on_l), mt_l) in lambda
        .chunks_exact_mut(k)
        .zip(on.chunks_exact(k))
        .zip(mt.chunks_exact(4 * k))
    {
        for (((x, &o), &sz), m) in lam.iter_mut().zip(on_l).zip(size).zip(mt_l.chunks_exact(4)) {
            *x = beta_draw_mt(rng, 1.0 + o, 1.0 + sz - o, m);
        }
    }
}

/// Sorts `order` by decreasing `w` (stable). Insertion sort: the last scan's order is nearly
/// sorted, and a pass over ten classes finishes it.
fn sort_by_weight(order: &mut [usize], w: &[f64]) {
    for i in 1..order.len() {
        let c = order[i];
        let key = w[c];
        let mut at = i;
        while at > 0 && w[order[at - 1]].total_cmp(&key).is_lt() {
            order[at] = order[at - 1];
            at -= 1;
        }
        order[at] = c;
    }
}

/// A Beta(a, b) draw. Empty classes (a = b = 1) and lists nobody in a class is on (a = 1)
/// or everybody is (b = 1) — most of the λ updates — have closed-form inverse CDFs, far
/// cheaper than the general G_a/(G_a + G_b).
#[cfg(test)]
fn beta_draw<R: Rng + ?Sized>(rng: &mut R, a: f64, b: f64) -> f64 {
    let (da, db) = (a - 1.0 / 3.0, b - 1.0 / 3.0);
    let mt = [da, 1.0 / (9.0 * da).sqrt(), db, 1.0 / (9.0 * db).sqrt()];
    beta_draw_mt(rng, a, b, &mt)
}

/// `beta_draw` given Marsaglia–Tsang's (d, c) of Gamma(a) and of Gamma(b) in `mt`
/// (d = shape − 1/3, c = 1/√(9d); used only when a, b > 1).
fn beta_draw_mt<R: Rng + ?Sized>(rng: &mut R, a: f64, b: f64, mt: &[f64]) -> f64 {
    if a == 1.0 || b == 1.0 {
        let u = 1.0 - rng.random::<f64>(); // in (0, 1]
        if a == b {
            1.0 - u
        } else if a == 1.0 {
            -(u.ln() / b).exp_m1()
        } else {
            (u.ln() / a).exp()
        }
    } else {
        let ga = gamma_mt(rng, mt[0], mt[1]);
        let gb = gamma_mt(rng, mt[2], mt[3]);
        ga / (ga + gb)
    }
}

/// log G for G ~ Gamma(shape, 1). Below shape 1/2 the log is drawn as log U / shape +
/// log Gamma(1 + shape) (Robert & Casella 2004, §2.2), which keeps its far lower tail: G itself
/// underflows there.
fn log_gamma_draw<R: Rng + ?Sized>(rng: &mut R, shape: f64) -> f64 {
    if shape < 0.5 {
        let u = 1.0 - rng.random::<f64>();
        u.ln() / shape + gamma(rng, 1.0 + shape).ln()
    } else {
        gamma(rng, shape).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::function::gamma::digamma;

    /// Every path of the stick update (occupied class in linear scale, empty class by
    /// inversion, occupied class before an empty tail on the log scale) against the exact
    /// Beta(1 + n_k, α + Σ_{j>k} n_j) moments: E V = a/(a + b), E log(1 − V) = ψ(b) − ψ(a + b);
    /// 5 Monte Carlo standard errors (sample s.d./√draws).
    #[test]
    fn stick_weights_follow_their_beta_conditionals() {
        let size = [30.0, 0.0, 5.0, 0.0, 0.0];
        let alpha = 0.3;
        let draws = 200_000;
        let mut rng = chain_rng(9, 0).0;
        let mut st = Sticks::new(size.len());
        let mut pi = [0.0; 5];
        let mut v: Vec<Vec<f64>> = (0..4).map(|_| Vec::with_capacity(draws)).collect();
        let mut l1mv: Vec<Vec<f64>> = (0..4).map(|_| Vec::with_capacity(draws)).collect();
        for _ in 0..draws {
            let log_rest = st.update(&mut rng, &size, alpha, &mut pi);
            assert!((pi.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            let mut sum = 0.0;
            for kk in 0..4 {
                let lv = st.log_pi(kk) - st.log_rest_before[kk];
                let l1 = if kk < 3 {
                    st.log_rest_before[kk + 1]
                } else {
                    log_rest
                } - st.log_rest_before[kk];
                v[kk].push(lv.exp());
                l1mv[kk].push(l1);
                sum += l1;
                if pi[kk] > 1e-300 {
                    assert!((st.log_pi(kk) - pi[kk].ln()).abs() < 1e-9);
                }
            }
            assert!((sum - log_rest).abs() < 1e-9 * log_rest.abs().max(1.0));
        }
        let mut after: f64 = size.iter().sum();
        for kk in 0..4 {
            after -= size[kk];
            let (a, b) = (1.0 + size[kk], alpha + after);
            for (xs, exact, what) in [
                (&v[kk], a / (a + b), "E V"),
                (&l1mv[kk], digamma(b) - digamma(a + b), "E log(1 − V)"),
            ] {
                let n = xs.len() as f64;
                let mean = xs.iter().sum::<f64>() / n;
                let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                assert!(
                    (mean - exact).abs() < 5.0 * sd / n.sqrt(),
                    "class {kk} {what}: {mean} vs {exact} (sd {sd})"
                );
            }
        }
    }

    /// Every branch of the λ update's Beta draw (uniform, a = 1, b = 1, general) against the
    /// exact mean a/(a + b) and variance ab/((a + b)²(a + b + 1)), 5 Monte Carlo standard
    /// errors (the variance's from the sample fourth central moment).
    #[test]
    fn lambda_draws_follow_their_beta_conditionals() {
        let shapes = [
            (1.0, 1.0),
            (1.0, 40.0),
            (7.0, 1.0),
            (3.0, 9.0),
            (250.0, 1751.0),
        ];
        let draws = 200_000;
        let mut rng = chain_rng(4, 2).0;
        for &(a, b) in &shapes {
            let x: Vec<f64> = (0..draws).map(|_| beta_draw(&mut rng, a, b)).collect();
            assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
            let n = draws as f64;
            let mean = x.iter().sum::<f64>() / n;
            let m2 = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            let m4 = x.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / n;
            let exact_mean = a / (a + b);
            let exact_var = a * b / ((a + b).powi(2) * (a + b + 1.0));
            assert!(
                (mean - exact_mean).abs() < 5.0 * (m2 / n).sqrt(),
                "Beta({a}, {b}) mean {mean} vs {exact_mean}"
            );
            assert!(
                (m2 - exact_var).abs() < 5.0 * ((m4 - m2 * m2) / n).sqrt(),
                "Beta({a}, {b}) variance {m2} vs {exact_var}"
            );
        }
    }

    #[test]
    fn an_improper_alpha_prior_is_refused() {
        let table = CaptureTable::new(
            vec!["A".into(), "B".into()],
            [(0b01, 30), (0b10, 20), (0b11, 10)],
        )
        .expect("table");
        let opts = LcmcrOptions {
            b_alpha: 0.0,
            ..LcmcrOptions::default()
        };
        let err = estimate(&table, &opts, Level::DEFAULT).expect_err("b_α = 0");
        assert!(
            err.to_string().contains("positive, finite shape and rate"),
            "{err}"
        );
    }
}
