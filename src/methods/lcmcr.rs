//! The Bayesian non-parametric latent-class model of Manrique-Vallier (2016, Biometrics
//! 72(4)): people belong to latent classes, within which the lists are independent
//! (P(on list j | class k) = λ_jk, λ_jk ~ Beta(1, 1)); class weights follow a truncated
//! stick-breaking prior with K classes and concentration α ~ Gamma(a_α, b_α); the prior on
//! N is ∝ 1/N. Gibbs sampling with data augmentation of the unobserved: class counts of
//! each observed history; n₀ ~ NegBin(n, 1 − p₀) with p₀ the probability of being on no
//! list; the unobserved split over classes; λ, stick-breaking weights and α from their
//! conjugate conditionals. Each chain draws from its own stream of the job's seed.

use super::{Estimate, MethodOptions, Status};
use crate::data::{CaptureTable, Dataset};
use crate::error::{Error, Result};
use crate::inference::bootstrap::multinomial_ordered;
use crate::montecarlo::stream;
use chacha20::ChaCha8Rng;
use rand::RngExt;
use rand::distr::Distribution;
use rand_distr::{Beta, Gamma, Poisson};
use rayon::prelude::*;

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
}

impl Default for LcmcrOptions {
    fn default() -> Self {
        LcmcrOptions {
            k: 10,
            a_alpha: 0.25,
            b_alpha: 0.25,
            burnin: 20_000,
            samples: 5_000,
            thinning: 20,
            chains: 4,
            seed: crate::montecarlo::DEFAULT_SEED,
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
            let mut rng = stream(o.seed, chain as u64);
            let unif = Beta::new(1.0, 1.0).expect("Beta(1,1)");
            let mut lambda: Vec<f64> = (0..j * k).map(|_| unif.sample(&mut rng)).collect();
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
            let mut out = Vec::with_capacity(o.samples.min(1 << 20));
            let total = o
                .burnin
                .saturating_add(o.samples.saturating_mul(o.thinning.max(1)));
            let mut probs = vec![0.0; k];
            let mut on = vec![0.0; j * k]; // Σ over class-k people of x_j
            let mut size = vec![0.0; k];
            let mut order: Vec<usize> = (0..k).collect();
            let mut counts = vec![0u64; k];
            for it in 0..total {
                on.iter_mut().for_each(|x| *x = 0.0);
                size.iter_mut().for_each(|x| *x = 0.0);
                // Classes by decreasing weight: the binomial chain in `class_counts` then
                // runs out of people after the few occupied classes.
                order.sort_unstable_by(|&a, &b| pi[b].total_cmp(&pi[a]));
                // observed people: class counts per history
                for &(h, c) in &cells {
                    for (kk, p) in probs.iter_mut().enumerate() {
                        let mut w = pi[kk];
                        for l in 0..j {
                            let lam = lambda[l * k + kk];
                            w *= if h >> l & 1 == 1 { lam } else { 1.0 - lam };
                        }
                        *p = w;
                    }
                    class_counts(&mut rng, c, &probs, &order, &mut counts);
                    for (kk, &m) in counts.iter().enumerate() {
                        if m == 0 {
                            continue;
                        }
                        let m = m as f64;
                        size[kk] += m;
                        for l in 0..j {
                            if h >> l & 1 == 1 {
                                on[l * k + kk] += m;
                            }
                        }
                    }
                }
                // the unobserved: how many, and in which classes
                let mut p0 = 0.0;
                for (kk, p) in probs.iter_mut().enumerate() {
                    let mut w = pi[kk];
                    for l in 0..j {
                        w *= 1.0 - lambda[l * k + kk];
                    }
                    *p = w;
                    p0 += w;
                }
                let p0c = p0.clamp(1e-300, 1.0 - 1e-12);
                let g = Gamma::new(n as f64, p0c / (1.0 - p0c)).map_or(0.0, |d| d.sample(&mut rng));
                let n0: u64 = if g > 0.0 {
                    Poisson::new(g).map_or(0.0, |d| d.sample(&mut rng)) as u64
                } else {
                    0
                };
                class_counts(&mut rng, n0, &probs, &order, &mut counts);
                for (kk, &m) in counts.iter().enumerate() {
                    size[kk] += m as f64;
                }
                // λ | classes
                for kk in 0..k {
                    for l in 0..j {
                        let a = 1.0 + on[l * k + kk];
                        let b = 1.0 + size[kk] - on[l * k + kk];
                        lambda[l * k + kk] = Beta::new(a, b).map_or(0.5, |d| d.sample(&mut rng));
                    }
                }
                // stick-breaking weights and α
                let mut after: f64 = size.iter().sum();
                let mut log_rest = 0.0;
                for kk in 0..k - 1 {
                    after -= size[kk];
                    v[kk] = Beta::new(1.0 + size[kk], alpha + after)
                        .map_or(0.5, |d| d.sample(&mut rng))
                        .clamp(1e-12, 1.0 - 1e-12);
                    log_rest += (1.0 - v[kk]).ln();
                }
                stick(&v, &mut pi);
                alpha = Gamma::new(o.a_alpha + (k - 1) as f64, 1.0 / (o.b_alpha - log_rest))
                    .map_or(alpha, |d| d.sample(&mut rng));
                if it >= o.burnin && (it - o.burnin) % o.thinning.max(1) == 0 {
                    out.push((n + n0) as f64);
                }
            }
            out
        })
        .collect()
}

/// `--method lcmcr`: posterior median of N, equal-tailed posterior interval, draws summary
/// and convergence diagnostics (a warning when R-hat > 1.01 or an ESS < 400).
pub fn estimate(data: &Dataset, opts: &MethodOptions) -> Result<Estimate> {
    let Dataset::Table(table) = data else {
        return Err(Error::Usage(
            "method lcmcr needs capture histories, not frequencies".into(),
        ));
    };
    let o = opts.lcmcr;
    if o.k == 0 || o.chains == 0 || o.samples < 4 || o.thinning == 0 || table.k() < 2 {
        return Err(Error::Usage(
            "method lcmcr needs at least 2 lists, K ≥ 1, 1 or more chains, 4 or more samples and thinning ≥ 1".into(),
        ));
    }
    if o.samples.saturating_mul(o.chains) > 100_000_000 {
        return Err(Error::Usage(format!(
            "method lcmcr would keep {} × {} draws; keep at most 100,000,000 (raise thinning instead)",
            o.samples, o.chains
        )));
    }
    let chains = sample(table, o);
    let post = super::common::posterior(&chains, opts.level);
    let n = table.observed();
    Ok(Estimate {
        method: "lcmcr".into(),
        label: format!("latent classes (K = {})", o.k),
        model: None,
        options: serde_json::json!({
            "K": o.k, "a_alpha": o.a_alpha, "b_alpha": o.b_alpha, "burnin": o.burnin, "samples": o.samples,
            "thinning": o.thinning, "chains": o.chains, "seed": o.seed, "prior_n": "1/N", "diagnostics": post.diagnostics,
        }),
        status: Status::Ok,
        observed: n,
        population: Some(post.median),
        missing: Some(post.median - n as f64),
        std_error: Some(post.sd),
        interval: Some(post.interval),
        fit: None,
        draws: Some(post.draws),
        warnings: post.warning.into_iter().collect(),
        check: None,
        bootstrap: None,
    })
}

/// Splits `c` people over classes with weights `w` (unnormalised) into `out`. Few people
/// are drawn one by one; many by conditional binomials over the classes in decreasing
/// class weight (`order`), which ends as soon as nobody is left.
fn class_counts(rng: &mut ChaCha8Rng, c: u64, w: &[f64], order: &[usize], out: &mut [u64]) {
    out.iter_mut().for_each(|x| *x = 0);
    let total: f64 = w.iter().sum();
    if c <= 32 {
        for _ in 0..c {
            let mut u = rng.random::<f64>() * total;
            let mut pick = w.len() - 1;
            for (i, &wi) in w.iter().enumerate() {
                if u < wi {
                    pick = i;
                    break;
                }
                u -= wi;
            }
            out[pick] += 1;
        }
        return;
    }
    multinomial_ordered(rng, c, w, order, out);
}
