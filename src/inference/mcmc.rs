//! Convergence diagnostics of MCMC draws (used by the Bayesian methods after sampling):
//! rank-normalised split R-hat, bulk and tail effective sample sizes and Monte Carlo
//! standard errors of the mean and of quantiles, as defined by Vehtari, Gelman, Simpson,
//! Carpenter & Bürkner (2021, Bayesian Analysis 16(2)). Autocorrelations are combined over
//! chains and truncated by Geyer's initial monotone sequence.

use statrs::distribution::{Beta, ContinuousCDF, Normal};

/// Diagnostics of one scalar quantity over several chains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diagnostics {
    /// max of the rank-normalised split R-hat of the draws and of their folded values.
    pub rhat: f64,
    /// Effective sample size of the rank-normalised split chains (centre of the posterior).
    pub ess_bulk: f64,
    /// min of the effective sample sizes of the 5% and 95% quantile indicators.
    pub ess_tail: f64,
    /// Monte Carlo standard error of the posterior mean.
    pub mcse_mean: f64,
}

/// R-hat above which a result is flagged.
pub const RHAT_WARN: f64 = 1.01;
/// Effective sample size below which a result is flagged.
pub const ESS_WARN: f64 = 400.0;

impl Diagnostics {
    /// Whether the draws fail the thresholds of Vehtari et al. (R-hat ≤ 1.01, ESS ≥ 400).
    pub fn warn(&self) -> bool {
        !(self.rhat <= RHAT_WARN && self.ess_bulk >= ESS_WARN && self.ess_tail >= ESS_WARN)
    }
}

/// Splits every chain in two halves (the middle draw of an odd chain is dropped).
fn split(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = chains.iter().map(Vec::len).min().unwrap_or(0) / 2;
    chains
        .iter()
        .flat_map(|c| [c[..n].to_vec(), c[c.len() - n..].to_vec()])
        .collect()
}

/// Replaces every draw by the normal score of its pooled rank (average rank for ties).
fn rank_normalise(chains: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut all: Vec<(f64, usize, usize)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, v)| v.iter().enumerate().map(move |(i, &x)| (x, c, i)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let s = all.len() as f64;
    let normal = Normal::standard();
    let mut out: Vec<Vec<f64>> = chains.iter().map(|c| vec![0.0; c.len()]).collect();
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let z = normal.inverse_cdf((rank - 0.375) / (s + 0.25));
        for &(_, c, k) in &all[i..=j] {
            out[c][k] = z;
        }
        i = j + 1;
    }
    out
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Classic R-hat of (already split) chains.
fn rhat_basic(chains: &[Vec<f64>]) -> f64 {
    let m = chains.len() as f64;
    let n = chains[0].len() as f64;
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let grand = mean(&means);
    let b = n / (m - 1.0) * means.iter().map(|x| (x - grand).powi(2)).sum::<f64>();
    let w = chains
        .iter()
        .zip(&means)
        .map(|(c, mu)| c.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1.0))
        .sum::<f64>()
        / m;
    if w <= 0.0 {
        return if b <= 0.0 { 1.0 } else { f64::INFINITY };
    }
    (((n - 1.0) / n * w + b / n) / w).sqrt()
}

/// Multi-chain effective sample size of (already split) chains.
fn ess_basic(chains: &[Vec<f64>]) -> f64 {
    let m = chains.len();
    let n = chains[0].len();
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let grand = mean(&means);
    let nf = n as f64;
    let acov = |c: &[f64], mu: f64, t: usize| {
        c[..n - t]
            .iter()
            .zip(&c[t..])
            .map(|(a, b)| (a - mu) * (b - mu))
            .sum::<f64>()
            / nf
    };
    let var_within: Vec<f64> = chains
        .iter()
        .zip(&means)
        .map(|(c, &mu)| acov(c, mu, 0) * nf / (nf - 1.0))
        .collect();
    let w = mean(&var_within);
    let b_over_n = if m > 1 {
        means.iter().map(|x| (x - grand).powi(2)).sum::<f64>() / (m as f64 - 1.0)
    } else {
        0.0
    };
    let var_plus = (nf - 1.0) / nf * w + b_over_n;
    if var_plus <= 0.0 {
        return f64::NAN;
    }
    let rho = |t: usize| {
        let a = chains
            .iter()
            .zip(&means)
            .map(|(c, &mu)| acov(c, mu, t))
            .sum::<f64>()
            / m as f64;
        1.0 - (w - a) / var_plus
    };
    // Geyer: sums of adjacent pairs, positive and made monotone.
    let mut tau = -1.0;
    let mut prev = f64::INFINITY;
    let mut t = 0;
    while t + 1 < n {
        let mut pair = rho(t) + rho(t + 1);
        if pair < 0.0 {
            break;
        }
        pair = pair.min(prev);
        prev = pair;
        tau += 2.0 * pair;
        t += 2;
    }
    let total = (m * n) as f64;
    // Stan's floor on τ keeps antithetic chains from claiming an unbounded ESS.
    total / tau.max(1.0 / total.log10().max(1.0))
}

/// Indicator chains of draws at or below `q`.
fn indicator(chains: &[Vec<f64>], q: f64) -> Vec<Vec<f64>> {
    chains
        .iter()
        .map(|c| c.iter().map(|&x| f64::from(u8::from(x <= q))).collect())
        .collect()
}

/// The `p` quantile of sorted draws, interpolated as R's default `quantile` (type 7).
pub fn quantile7(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// All draws of all chains, sorted.
fn pooled_sorted(chains: &[Vec<f64>]) -> Vec<f64> {
    let mut all: Vec<f64> = chains.concat();
    all.sort_by(f64::total_cmp);
    all
}

/// Diagnostics of draws, one vector per chain; None with fewer than 4 draws per chain.
pub fn diagnose(chains: &[Vec<f64>]) -> Option<Diagnostics> {
    if chains.is_empty() || chains.iter().any(|c| c.len() < 4) {
        return None;
    }
    let s = split(chains);
    let z = rank_normalise(&s);
    let sorted = pooled_sorted(&s);
    let med = quantile7(&sorted, 0.5);
    let folded: Vec<Vec<f64>> = s
        .iter()
        .map(|c| c.iter().map(|x| (x - med).abs()).collect())
        .collect();
    let rhat = rhat_basic(&z).max(rhat_basic(&rank_normalise(&folded)));
    let ess_bulk = ess_basic(&z);
    let tail = |p: f64| ess_basic(&indicator(&s, quantile7(&sorted, p)));
    let ess_tail = tail(0.05).min(tail(0.95));
    let mu = mean(&sorted);
    let sd =
        (sorted.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (sorted.len() as f64 - 1.0)).sqrt();
    let mcse_mean = sd / ess_basic(&s).sqrt();
    Some(Diagnostics {
        rhat,
        ess_bulk,
        ess_tail,
        mcse_mean,
    })
}

/// Monte Carlo standard error of the `p` quantile: half the width of the draws between
/// the ±1 s.e. limits of a Beta on the indicator's effective sample size.
pub fn mcse_quantile(chains: &[Vec<f64>], p: f64) -> Option<f64> {
    if chains.is_empty() || chains.iter().any(|c| c.len() < 4) || !(0.0 < p && p < 1.0) {
        return None;
    }
    let s = split(chains);
    let all = pooled_sorted(&s);
    let ess = ess_basic(&indicator(&s, quantile7(&all, p)));
    let beta = Beta::new(ess * p + 1.0, ess * (1.0 - p) + 1.0).ok()?;
    let normal = Normal::standard();
    let (a, b) = (
        beta.inverse_cdf(normal.cdf(-1.0)),
        beta.inverse_cdf(normal.cdf(1.0)),
    );
    let mut all: Vec<f64> = s.concat();
    all.sort_by(f64::total_cmp);
    let at = |u: f64| all[((u * all.len() as f64).floor() as usize).min(all.len() - 1)];
    Some((at(b) - at(a)) / 2.0)
}

/// Monte Carlo standard error of a statistic from the spread of the chains' own values of
/// it: their standard deviation / √chains (None below 2 chains). Where a posterior has
/// regions a chain visits rarely and stays in long (kosovo's lower tail: excursions to
/// N < 8,500 of ~25,000 iterations), the within-chain estimates of Vehtari et al. miss
/// that the chains disagree (kosovo's 2.5% quantile: within-chain MCSE ≈ 40, chain-to-chain
/// s.d. ≈ 430); this sees it, though with as few degrees of freedom as chains.
pub fn mcse_between(chains: &[Vec<f64>], stat: impl Fn(&[f64]) -> f64) -> Option<f64> {
    if chains.len() < 2 || chains.iter().any(Vec::is_empty) {
        return None;
    }
    let v: Vec<f64> = chains.iter().map(|c| stat(c)).collect();
    let m = mean(&v);
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0);
    Some((var / v.len() as f64).sqrt())
}

/// The type-7 quantile of one chain's draws.
pub fn chain_quantile(chain: &[f64], p: f64) -> f64 {
    let mut c = chain.to_vec();
    c.sort_by(f64::total_cmp);
    quantile7(&c, p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::montecarlo::stream;
    use rand_distr::{Distribution, StandardNormal};

    fn ar1(seed: u64, chains: usize, n: usize, phi: f64, shift: &[f64]) -> Vec<Vec<f64>> {
        (0..chains)
            .map(|c| {
                let mut rng = stream(seed, c as u64);
                let mut x: f64 = StandardNormal.sample(&mut rng);
                (0..n)
                    .map(|_| {
                        let e: f64 = StandardNormal.sample(&mut rng);
                        x = phi * x + (1.0 - phi * phi).sqrt() * e;
                        x + shift[c]
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn independent_draws_are_healthy() {
        let d = diagnose(&ar1(1, 4, 2000, 0.0, &[0.0; 4])).expect("enough draws");
        assert!(d.rhat < 1.01, "{d:?}");
        // ESS of 8000 iid draws: the estimator's s.d. is a few per cent here.
        assert!((d.ess_bulk / 8000.0 - 1.0).abs() < 0.15, "{d:?}");
        assert!((d.ess_tail / 8000.0 - 1.0).abs() < 0.25, "{d:?}");
        assert!(!d.warn());
    }

    #[test]
    fn autocorrelation_shrinks_the_ess_as_theory_says() {
        // AR(1): ESS = S (1 − φ)/(1 + φ) = 40,000 · 0.1/1.9 ≈ 2105.
        let d = diagnose(&ar1(2, 4, 10_000, 0.9, &[0.0; 4])).expect("enough draws");
        let expect = 40_000.0 * 0.1 / 1.9;
        assert!((d.ess_bulk / expect - 1.0).abs() < 0.2, "{d:?} vs {expect}");
        // MCSE of the mean: 1/sqrt(ESS).
        assert!((d.mcse_mean * expect.sqrt() - 1.0).abs() < 0.15, "{d:?}");
    }

    #[test]
    fn chains_in_different_places_are_flagged() {
        let d = diagnose(&ar1(3, 4, 1000, 0.5, &[0.0, 0.0, 0.0, 0.5])).expect("enough draws");
        assert!(d.rhat > 1.01 && d.warn(), "{d:?}");
        // A slowly drifting chain: its halves disagree even if chains agree overall.
        let drift: Vec<Vec<f64>> = (0..4)
            .map(|_| (0..1000).map(|i| i as f64 / 1000.0).collect())
            .collect();
        assert!(diagnose(&drift).expect("enough draws").rhat > 1.1);
    }

    #[test]
    fn quantile_mcse_matches_the_iid_binomial_formula() {
        // iid: se(q_p) ≈ sqrt(p(1−p)/S) / φ(z_p); median of N(0,1), S = 8000 → 0.0140.
        let c = ar1(4, 4, 2000, 0.0, &[0.0; 4]);
        let se = mcse_quantile(&c, 0.5).expect("enough draws");
        let expect = (0.25f64 / 8000.0).sqrt() / (1.0 / (2.0 * std::f64::consts::PI).sqrt());
        assert!((se / expect - 1.0).abs() < 0.3, "{se} vs {expect}");
    }

    /// Eight chains of the same AR(1): the chains' spread of their 2.5% quantiles and the
    /// within-chain MCSE estimate the same error. One chain shifted by 1 (a region only it
    /// visits): the spread sees it (≈ 0.125 = s.d. of seven 0s and a 1, / √8) where the
    /// within-chain estimate stays near 0.03.
    #[test]
    fn chains_that_disagree_raise_the_between_chain_mcse() {
        let q = |c: &[f64]| chain_quantile(c, 0.025);
        let same = ar1(3, 8, 4000, 0.5, &[0.0; 8]);
        let w = mcse_quantile(&same, 0.025).expect("mcse");
        let b = mcse_between(&same, q).expect("8 chains");
        assert!(b > 0.4 * w && b < 2.0 * w, "{b} vs {w}");
        let mut shift = [0.0; 8];
        shift[0] = 1.0;
        let apart = ar1(3, 8, 4000, 0.5, &shift);
        let w2 = mcse_quantile(&apart, 0.025).expect("mcse");
        let b2 = mcse_between(&apart, q).expect("8 chains");
        assert!(b2 > 0.1 && b2 > 3.0 * w2, "{b2} vs {w2}");
        assert!(mcse_between(&apart[..1], q).is_none());
    }
}
