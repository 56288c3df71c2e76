//! Bayesian thresholding (Silverman 2020, JRSS A 183(3) §6; MultipleSystemsEstimation's
//! `estimate_population_bayesthresh`). Model: the counts of the 2^k − 1 observable capture
//! histories are independent Poisson with a log-linear mean; the intercept is the log of the
//! expected count of the unobserved cell, so N = n + exp(β₀). Prior: flat on the intercept
//! and main effects (N(0, 10⁴) in practice, as the package does), and either independent
//! N(0, v) on the interactions (default v = 1; a proper posterior even where the MLE does
//! not exist, Forster 2010) or flat — allowed only when the Fienberg–Rinaldo check passes
//! for the model with all two-list interactions, interactions with a zero sufficient
//! statistic then sit at −∞ and their cells are structural zeros.
//!
//! When the data bound N: N = n + exp(β₀), and the posterior of β₀ is informative only if
//! the likelihood falls as β₀ rises along every direction the prior leaves (nearly) free. A
//! direction d with X_S d = 0 on the cells with a count and X_Z d ≤ 0 on the empty ones
//! never lowers the likelihood; if such a d raises β₀ and moves only coefficients with the
//! flat prior, nothing but the N(0, 10⁴) stand-in stops N, and the posterior median lands
//! wherever that stand-in puts it (10¹⁸ on three lists that never overlap, 10³² on a table
//! of one person). So the intercept and main effects must admit no such direction
//! (`glm::recession::intercept_unbounded` on the main-effects design): every list's size and
//! the overlaps must pin the unobserved cell, as an existing main-effects MLE or one that
//! runs to N̂ = n does. Directions through the interactions are bounded by their N(0, v)
//! prior, the method's deliberate regularisation (Silverman 2020); a prior variance at least
//! the stand-in's 10⁴ is treated as flat, and then the model with all two-list interactions
//! (and the triples, with `maxorder` 3) must bound N too. Otherwise the estimate has status
//! `infinite`, the main-effects check and no number.
//!
//! Procedure: sample the posterior of the model with every two-list interaction; keep those
//! whose |posterior mean / posterior sd| ≥ threshold (default 2); with `maxorder` 3, the
//! triples whose three pairs were kept are fitted beside the kept pairs and thresholded the
//! same way; the kept model is sampled again and the posterior of N is n + exp(β₀).
//!
//! Sampler: the posterior mode and curvature come from Newton's method; each iteration is
//! an independence Metropolis–Hastings step with a multivariate-t (5 df) proposal around the
//! mode followed by a random-walk step scaled by 2.38/√p, both in the coordinates where the
//! Laplace approximation is standard normal. Near-Gaussian posteriors then give nearly
//! independent draws; skewed ones still mix through the random walk, and the diagnostics
//! tell. `Kernel::RandomWalk` is MCMCpack's `MCMCpoisson` kernel (random walk with proposal
//! covariance tune²·H⁻¹, started at the package's starting point), kept to measure how far
//! the package's own runs spread.

use super::common::no_estimate;
pub use super::details::Prior;
use super::details::{Details, PosteriorCoefficient, ThresholdDetails, Triples};
use super::types::{Estimate, Status};
use crate::checked::Level;
use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::inference::mcmc;
use crate::inference::posterior::posterior;
use crate::loglinear::{ModelSpec, term_name};
use crate::montecarlo::stream;
use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_distr::{ChiSquared, Distribution, StandardNormal};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Transition kernel of the sampler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel {
    /// Independence t proposal at the mode, then a random-walk step (the default).
    Mixed,
    /// MCMCpack's random walk: proposal covariance tune²·H⁻¹, start at the package's start.
    RandomWalk {
        /// MCMCpack's `tune` (1.1 by default there).
        tune: f64,
    },
}

/// Settings of `--method bayes-threshold`.
#[derive(Debug, Clone, Copy)]
pub struct ThresholdOptions {
    /// Prior of the interactions.
    pub prior: Prior,
    /// Interactions with |posterior mean / sd| below this are dropped.
    pub threshold: f64,
    /// Highest interaction order considered: 2 or 3.
    pub maxorder: usize,
    /// Iterations discarded per chain and fit.
    pub burnin: usize,
    /// Draws kept per chain and fit.
    pub samples: usize,
    /// Iterations between kept draws.
    pub thinning: usize,
    /// Chains (run in parallel, one random stream each).
    pub chains: usize,
    /// Master seed.
    pub seed: u64,
    /// Transition kernel.
    pub kernel: Kernel,
}

impl Default for ThresholdOptions {
    fn default() -> Self {
        ThresholdOptions {
            prior: Prior::Normal { variance: 1.0 },
            threshold: 2.0,
            maxorder: 2,
            burnin: 1_000,
            samples: 10_000,
            thinning: 1,
            chains: 4,
            seed: crate::montecarlo::DEFAULT_SEED,
            kernel: Kernel::Mixed,
        }
    }
}

/// Variance of the stand-in for the flat prior of the intercept and main effects.
const MAIN_VARIANCE: f64 = 1e4;
/// Degrees of freedom of the independence proposal.
const T_DF: f64 = 5.0;

/// A Poisson log-linear model over some observable cells.
struct Model {
    /// Design: cells × (intercept, main effects, interactions).
    x: DMatrix<f64>,
    y: DVector<f64>,
    /// Prior precision of each coefficient (0 = flat).
    prec: DVector<f64>,
}

impl Model {
    /// Terms are bitmasks over the lists; 0 is the intercept.
    fn new(cells: &[(u64, f64)], terms: &[u64], prec: Vec<f64>) -> Model {
        let x = DMatrix::from_fn(cells.len(), terms.len(), |i, j| {
            f64::from(u8::from(cells[i].0 & terms[j] == terms[j]))
        });
        Model {
            x,
            y: DVector::from_iterator(cells.len(), cells.iter().map(|c| c.1)),
            prec: DVector::from_vec(prec),
        }
    }

    fn log_post_eta(&self, eta: &DVector<f64>, beta: &DVector<f64>) -> f64 {
        let lik: f64 = eta
            .iter()
            .zip(self.y.iter())
            .map(|(&e, &y)| y * e - e.exp())
            .sum();
        let pen: f64 = beta
            .iter()
            .zip(self.prec.iter())
            .map(|(b, p)| p * b * b)
            .sum();
        lik - 0.5 * pen
    }

    fn log_post(&self, beta: &DVector<f64>) -> f64 {
        self.log_post_eta(&(&self.x * beta), beta)
    }

    /// Posterior mode by damped Newton and the negative Hessian there; None when the
    /// Hessian is singular or the iteration runs away (no proper posterior).
    fn mode(&self, start: DVector<f64>) -> Option<(DVector<f64>, DMatrix<f64>)> {
        let mut beta = start;
        let mut lp = self.log_post(&beta);
        for _ in 0..500 {
            let mu = (&self.x * &beta).map(f64::exp);
            let grad = self.x.tr_mul(&(&self.y - &mu)) - self.prec.component_mul(&beta);
            let xw = DMatrix::from_fn(self.x.nrows(), self.x.ncols(), |i, j| {
                self.x[(i, j)] * mu[i]
            });
            let h = self.x.tr_mul(&xw) + DMatrix::from_diagonal(&self.prec);
            let chol = h.clone().cholesky()?;
            let step = chol.solve(&grad);
            let dec = grad.dot(&step);
            if !dec.is_finite() {
                return None;
            }
            if dec < 1e-12 {
                return Some((beta, h));
            }
            let mut t = 1.0;
            loop {
                let cand = &beta + &step * t;
                let lc = self.log_post(&cand);
                if lc.is_finite() && lc >= lp - 1e-12 * lp.abs() {
                    beta = cand;
                    lp = lc;
                    break;
                }
                t /= 2.0;
                if t < 1e-10 {
                    return None;
                }
            }
            if beta.amax() > 1e3 {
                return None;
            }
        }
        None
    }
}

/// Kept draws of all coefficients, per chain (draw-major: p numbers per draw).
struct Sampled {
    p: usize,
    chains: Vec<Vec<f64>>,
    /// Share of accepted proposals over all chains and kinds of step.
    acceptance: f64,
}

impl Sampled {
    fn coefficient(&self, j: usize) -> Vec<Vec<f64>> {
        self.chains
            .iter()
            .map(|c| c.iter().skip(j).step_by(self.p).copied().collect())
            .collect()
    }
}

/// Samples the posterior of `model`; `start` is the package's starting point (used by the
/// random-walk kernel). `stage` separates the random streams of successive fits.
fn sample(model: &Model, start: DVector<f64>, o: &ThresholdOptions, stage: u64) -> Option<Sampled> {
    let (m, h) = model.mode(start.clone())?;
    let p = m.len();
    let sigma = h.try_inverse()?;
    let l = sigma.cholesky()?.l();
    let a = &model.x * &l;
    let eta_m = &model.x * &m;
    let lp_of = |u: &DVector<f64>| -> f64 {
        let beta = &m + &l * u;
        let eta = &eta_m + &a * u;
        model.log_post_eta(&eta, &beta)
    };
    let lq = |u: &DVector<f64>| -(T_DF + p as f64) / 2.0 * (1.0 + u.norm_squared() / T_DF).ln();
    let rw_scale = match o.kernel {
        Kernel::Mixed => 2.38 / (p as f64).sqrt(),
        Kernel::RandomWalk { tune } => tune,
    };
    let total = o
        .burnin
        .saturating_add(o.samples.saturating_mul(o.thinning.max(1)));
    let start_u = l.clone().solve_lower_triangular(&(&start - &m))?;
    let runs: Vec<(Vec<f64>, u64, u64)> = (0..o.chains)
        .into_par_iter()
        .map(|chain| {
            let mut rng = stream(o.seed, stage << 32 | chain as u64);
            let chi = ChiSquared::new(T_DF).expect("positive df");
            let normal = |rng: &mut chacha20::ChaCha8Rng| -> DVector<f64> {
                DVector::from_fn(p, |_, _| StandardNormal.sample(rng))
            };
            let t_draw = |rng: &mut chacha20::ChaCha8Rng| -> DVector<f64> {
                let z = normal(rng);
                let g: f64 = chi.sample(rng);
                z * (T_DF / g).sqrt()
            };
            let mut u = match o.kernel {
                Kernel::Mixed => t_draw(&mut rng),
                Kernel::RandomWalk { .. } => start_u.clone(),
            };
            let mut lp = lp_of(&u);
            let mut lqu = lq(&u);
            let (mut acc, mut tried) = (0u64, 0u64);
            let mut out = Vec::with_capacity(o.samples.min(1 << 22) * p);
            for it in 0..total {
                if o.kernel == Kernel::Mixed {
                    let cand = t_draw(&mut rng);
                    let lc = lp_of(&cand);
                    let lqc = lq(&cand);
                    tried += 1;
                    if rng.random::<f64>().ln() < lc - lp + lqu - lqc {
                        (u, lp, lqu) = (cand, lc, lqc);
                        acc += 1;
                    }
                }
                let cand = &u + normal(&mut rng) * rw_scale;
                let lc = lp_of(&cand);
                tried += 1;
                if rng.random::<f64>().ln() < lc - lp {
                    lqu = lq(&cand);
                    (u, lp) = (cand, lc);
                    acc += 1;
                }
                if it >= o.burnin && (it - o.burnin) % o.thinning.max(1) == 0 {
                    out.extend((&m + &l * &u).iter());
                }
            }
            (out, acc, tried)
        })
        .collect();
    let (acc, tried) = runs
        .iter()
        .fold((0u64, 0u64), |s, r| (s.0 + r.1, s.1 + r.2));
    Some(Sampled {
        p,
        chains: runs.into_iter().map(|r| r.0).collect(),
        acceptance: acc as f64 / tried.max(1) as f64,
    })
}

/// Interactions of `order` in the package's order (by last list, then lexicographic):
/// 12, 13, 23, 14, 24, 34, …
fn all_effects(k: usize, order: usize) -> Vec<u64> {
    let mut out = Vec::new();
    for last in order - 1..k {
        let mut sets: Vec<u64> = Vec::new();
        let mut comb: Vec<usize> = (0..order - 1).collect();
        if order - 1 > last {
            continue;
        }
        loop {
            sets.push(comb.iter().fold(1u64 << last, |s, &i| s | 1 << i));
            // next combination of order−1 out of 0..last, lexicographic
            let r = order - 1;
            let mut i = r;
            while i > 0 && comb[i - 1] == last - r + i - 1 {
                i -= 1;
            }
            if i == 0 {
                break;
            }
            comb[i - 1] += 1;
            for j in i..r {
                comb[j] = comb[j - 1] + 1;
            }
        }
        out.extend(sets);
    }
    out
}

/// One fitted stage: coefficient names, their posterior summaries, and the sampler.
struct Stage {
    effects: Vec<u64>,
    sampled: Sampled,
    /// Posterior mean, sd and Monte Carlo s.e. of the mean of each coefficient.
    summary: Vec<(f64, f64, Option<f64>)>,
    /// Any coefficient's chains failing R-hat/ESS.
    unconverged: bool,
}

/// The cells and priors of a fit of `effects`; with the flat prior, effects with a zero
/// sufficient statistic are removed with their cells (fitted at −∞) and returned apart.
fn fit_stage(
    cells: &[(u64, f64)],
    k: usize,
    n: f64,
    effects: &[u64],
    o: &ThresholdOptions,
    stage: u64,
) -> Option<Stage> {
    let mut terms: Vec<u64> = vec![0];
    terms.extend((0..k).map(|i| 1u64 << i));
    terms.extend(effects);
    let mut prec = vec![1.0 / MAIN_VARIANCE; 1 + k];
    prec.extend(std::iter::repeat_n(
        match o.prior {
            Prior::Normal { variance } => 1.0 / variance,
            Prior::Flat => 0.0,
        },
        effects.len(),
    ));
    if o.prior == Prior::Flat {
        prec.iter_mut().for_each(|p| *p = 0.0);
    }
    let model = Model::new(cells, &terms, prec);
    // The package's start: log 5n for the intercept, log(list size / 5n) for the mains.
    let mut start = DVector::zeros(terms.len());
    start[0] = (5.0 * n).ln();
    for i in 0..k {
        let size: f64 = cells
            .iter()
            .filter(|c| c.0 >> i & 1 == 1)
            .map(|c| c.1)
            .sum();
        start[1 + i] = (size.max(0.5) / (5.0 * n)).ln();
    }
    let sampled = sample(&model, start, o, stage)?;
    let mut summary = Vec::with_capacity(terms.len());
    let mut unconverged = false;
    for j in 0..terms.len() {
        let ch = sampled.coefficient(j);
        let all: Vec<f64> = ch.concat();
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        let sd = (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
            / (all.len() as f64 - 1.0).max(1.0))
        .sqrt();
        let d = mcmc::diagnose(&ch);
        unconverged |= d.is_some_and(|d| d.warn());
        summary.push((mean, sd, d.map(|d| d.mcse_mean)));
    }
    Some(Stage {
        effects: effects.to_vec(),
        sampled,
        summary,
        unconverged,
    })
}

/// Splits `effects` of a stage by the threshold: (kept, |mean/sd| of each, close calls).
fn threshold(
    stage: &Stage,
    k: usize,
    t: f64,
    lists: &[String],
) -> (Vec<u64>, Vec<(u64, f64)>, Vec<String>) {
    let mut kept = Vec::new();
    let mut ratios = Vec::new();
    let mut close = Vec::new();
    for (i, &e) in stage.effects.iter().enumerate() {
        let (mean, sd, mcse) = stage.summary[1 + k + i];
        let r = (mean / sd).abs();
        ratios.push((e, r));
        if r >= t {
            kept.push(e);
        }
        // The ratio's Monte Carlo error is about mcse(mean)/sd; a decision within 3 of
        // them of the threshold could flip with another seed.
        if let Some(se) = mcse {
            if (r - t).abs() < 3.0 * se / sd {
                close.push(format!(
                    "{} (|mean/sd| = {r:.3} ± {:.3})",
                    term_name(e, lists),
                    se / sd
                ));
            }
        }
    }
    (kept, ratios, close)
}

/// Pruned cells for the flat prior: cells containing an effect with zero sufficient
/// statistic go, with the effect and every higher effect containing it.
fn prune(cells: &[(u64, f64)], effects: &[u64]) -> (Vec<(u64, f64)>, Vec<u64>, Vec<u64>) {
    let stat = |e: u64| -> f64 { cells.iter().filter(|c| c.0 & e == e).map(|c| c.1).sum() };
    let zero: Vec<u64> = effects
        .iter()
        .copied()
        .filter(|&e| stat(e) == 0.0)
        .collect();
    let removed: Vec<u64> = effects
        .iter()
        .copied()
        .filter(|&e| zero.iter().any(|&z| e & z == z))
        .collect();
    let kept = effects
        .iter()
        .copied()
        .filter(|e| !removed.contains(e))
        .collect();
    let cells = cells
        .iter()
        .copied()
        .filter(|c| !removed.iter().any(|&z| c.0 & z == z))
        .collect();
    (cells, kept, removed)
}

/// `--method bayes-threshold`.
pub fn estimate(table: &CaptureTable, o: &ThresholdOptions, level: Level) -> Result<Estimate> {
    let o = *o;
    validate(table, &o)?;
    let k = table.k();
    let lists = table.lists();
    let n = table.observed();
    let nf = n as f64;
    let dense = table.dense()?;
    let full: Vec<(u64, f64)> = (1..dense.len()).map(|h| (h as u64, dense[h])).collect();
    let settings = ThresholdDetails {
        acceptance: None,
        burnin: o.burnin,
        chains: o.chains,
        coefficients: None,
        diagnostics: None,
        maxorder: o.maxorder,
        minus_infinite_effects: Vec::new(),
        prior: o.prior,
        retained: None,
        samples: o.samples,
        seed: o.seed,
        thinning: o.thinning,
        threshold: o.threshold,
        threshold_statistics: None,
        triples: None,
    };
    let label = format!("Bayesian thresholding (threshold {})", o.threshold);
    let names = |v: &[u64]| -> Vec<String> { v.iter().map(|&e| term_name(e, lists)).collect() };
    let statistics = |ratios: &[(u64, f64)]| -> BTreeMap<String, f64> {
        ratios
            .iter()
            .map(|&(e, r)| (term_name(e, lists), r))
            .collect()
    };
    let no_posterior = |why: String| {
        no_estimate(
            "bayes-threshold",
            label.clone(),
            None,
            Details::Threshold(Box::new(settings.clone())),
            n,
            Status::MleDoesNotExist,
            vec![why],
        )
    };
    let mut warnings = Vec::new();
    let pairs = all_effects(k, 2);
    let flat_interactions = match o.prior {
        Prior::Flat => true,
        Prior::Normal { variance } => variance >= MAIN_VARIANCE,
    };
    let main = ModelSpec::from_generators(k, Vec::new());
    if unbounded(table, &main)? {
        let mut e = no_posterior(
            "the data do not bound N: with the intercept and main effects alone the unobserved cell can grow without limit at no cost in likelihood (the lists do not overlap enough to pin it), so only the stand-in N(0, 10⁴) for their flat prior would stop N, at a number with no meaning; nothing sampled".into(),
        );
        e.status = Status::Infinite;
        e.check = Some(crate::loglinear::check::check(table, &main)?);
        return Ok(e);
    }
    if o.prior != Prior::Flat
        && flat_interactions
        && unbounded(table, &ModelSpec::from_generators(k, pairs.clone()))?
    {
        let mut e = no_posterior(format!(
            "the data do not bound N: a prior variance of {} on the interactions is as flat as the stand-in for the main effects' flat prior (10⁴), and with all two-list interactions the unobserved cell can grow without limit at no cost in likelihood; nothing sampled (a smaller prior variance, such as the default 1, bounds it)",
            match o.prior {
                Prior::Normal { variance } => variance,
                Prior::Flat => f64::INFINITY,
            }
        ));
        e.status = Status::Infinite;
        return Ok(e);
    }
    let (mut cells, mut pairs_fit, mut minus_inf) = (full.clone(), pairs.clone(), Vec::new());
    if o.prior == Prior::Flat {
        let spec = ModelSpec::from_generators(k, pairs.clone());
        let check = crate::loglinear::check::check(table, &spec)?;
        if check.code != 0 {
            let mut e = no_posterior(format!(
                "the flat prior needs the MLE of the model with all two-list interactions to exist ({}); use the normal prior",
                check.explanation
            ));
            if !check.identifiable {
                e.status = Status::NotIdentifiable;
            }
            e.check = Some(check);
            return Ok(e);
        }
        (cells, pairs_fit, minus_inf) = prune(&full, &pairs);
    }
    let fail = |what: &str| {
        no_posterior(format!(
            "the posterior of the {what} has no mode (improper or degenerate); nothing sampled"
        ))
    };
    let Some(s1) = fit_stage(&cells, k, nf, &pairs_fit, &o, 1) else {
        return Ok(fail("model with all two-list interactions"));
    };
    let (kept_pairs, pair_ratios, mut close) = threshold(&s1, k, o.threshold, lists);
    if s1.unconverged {
        warnings.push("the fit with all two-list interactions has not converged (R-hat > 1.01 or ESS < 400 for a coefficient); the thresholding decisions are uncertain".into());
    }
    let mut kept = kept_pairs.clone();
    let mut triples = None;
    if o.maxorder == 3 {
        let eligible: Vec<u64> = all_effects(k, 3)
            .into_iter()
            .filter(|&t| {
                (0..k)
                    .filter(|&i| t >> i & 1 == 1)
                    .all(|i| kept_pairs.contains(&(t & !(1 << i))))
            })
            .collect();
        let mut go = !eligible.is_empty();
        let mut cells3 = cells.clone();
        let mut fit3: Vec<u64> = kept_pairs.iter().chain(&eligible).copied().collect();
        if go && o.prior == Prior::Flat {
            let spec = ModelSpec::from_generators(k, fit3.clone());
            if crate::loglinear::check::check(table, &spec)?.code != 0 {
                warnings.push("the model with the kept pairs and all eligible triples fails the Fienberg–Rinaldo existence check; three-list interactions not considered (maxorder 2)".into());
                go = false;
            } else {
                let (c, f, r) = prune(&cells, &fit3);
                (cells3, fit3) = (c, f);
                minus_inf.extend(r);
            }
        } else if go
            && flat_interactions
            && unbounded(table, &ModelSpec::from_generators(k, fit3.clone()))?
        {
            warnings.push("with the eligible triples under a prior as flat as 10⁴ the data do not bound N; three-list interactions not considered (maxorder 2)".into());
            go = false;
        }
        let mut triple_ratios = Vec::new();
        let mut kept_triples = Vec::new();
        if go {
            let Some(s3) = fit_stage(&cells3, k, nf, &fit3, &o, 3) else {
                return Ok(fail("model with the eligible three-list interactions"));
            };
            let (kept3, ratios3, close3) = threshold(&s3, k, o.threshold, lists);
            kept_triples = kept3.into_iter().filter(|e| e.count_ones() == 3).collect();
            triple_ratios = ratios3
                .into_iter()
                .filter(|e| e.0.count_ones() == 3)
                .collect();
            close.extend(close3.into_iter().filter(|c| c.matches(':').count() == 2));
            if s3.unconverged {
                warnings.push("the fit with the eligible three-list interactions has not converged; the thresholding decisions are uncertain".into());
            }
            cells = cells3;
            kept.extend(&kept_triples);
        }
        triples = Some(Triples {
            considered: go,
            eligible: names(&eligible),
            retained: names(&kept_triples),
            statistics: statistics(&triple_ratios),
        });
    }
    if !close.is_empty() {
        warnings.push(format!(
            "thresholding decisions within Monte Carlo error of the threshold {}: {}; run more samples",
            o.threshold,
            close.join(", ")
        ));
    }
    let Some(fin) = fit_stage(&cells, k, nf, &kept, &o, 4) else {
        return Ok(fail("thresholded model"));
    };
    if fin.unconverged {
        warnings.push("the final fit has a coefficient with R-hat > 1.01 or ESS < 400".into());
    }
    let chains: Vec<Vec<f64>> = fin
        .sampled
        .coefficient(0)
        .into_iter()
        .map(|c| c.into_iter().map(|b| nf + b.exp()).collect())
        .collect();
    let post = posterior(&chains, level.get());
    warnings.extend(post.warning.clone());
    let mut term_names = vec!["(Intercept)".to_string()];
    term_names.extend((0..k).map(|i| lists[i].clone()));
    term_names.extend(names(&kept));
    let options = Details::Threshold(Box::new(ThresholdDetails {
        acceptance: Some([s1.sampled.acceptance, fin.sampled.acceptance]),
        coefficients: Some(
            term_names
                .into_iter()
                .zip(&fin.summary)
                .map(|(name, s)| PosteriorCoefficient {
                    mean: s.0,
                    name,
                    sd: s.1,
                })
                .collect(),
        ),
        diagnostics: post.diagnostics,
        minus_infinite_effects: names(&minus_inf),
        retained: Some(names(&kept_pairs)),
        threshold_statistics: Some(statistics(&pair_ratios)),
        triples,
        ..settings
    }));
    let model = ModelSpec::from_generators(k, kept.clone()).label(lists);
    Ok(Estimate {
        method: "bayes-threshold".into(),
        // The kept interactions are the result researchers read first; put them in the label.
        label: format!("{model} kept at |mean/sd| ≥ {}", o.threshold),
        model: Some(model),
        options,
        status: Status::Ok,
        observed: n,
        population: Some(post.median),
        missing: Some(post.median - nf),
        std_error: Some(post.sd),
        interval: Some(post.interval),
        draws: Some(post.draws),
        warnings,
        ..Estimate::blank()
    })
}

/// The largest design (cells × terms) the sampler holds: its dense design matrix and the
/// Laplace step's work scale with it (18 lists took more than five minutes and 0.7 GB,
/// 20 lists 3.5 GB).
pub const MAX_DESIGN: u64 = 10_000_000;

/// Whether the sampler's dense design (every cell × every term up to `maxorder`) fits
/// within `MAX_DESIGN`.
pub fn check_design(table: &CaptureTable, maxorder: usize) -> Result<()> {
    table.check_dense()?;
    let k = table.k() as u64;
    let params = 1
        + k
        + k * (k - 1) / 2
        + if maxorder == 3 {
            k * (k - 1) * (k - 2) / 6
        } else {
            0
        };
    let entries = ((1u64 << k) - 1) * params;
    if entries > MAX_DESIGN {
        return Err(Error::Usage(format!(
            "method bayes-threshold would hold a design of {} cells × {params} terms, more than the \
             {MAX_DESIGN} entries it takes (16 lists with two-way terms); use fewer lists",
            (1u64 << k) - 1
        )));
    }
    Ok(())
}

/// Whether the data leave N unbounded above in the model `spec` (every cell kept).
fn unbounded(table: &CaptureTable, spec: &ModelSpec) -> Result<bool> {
    let d = crate::loglinear::design(table, spec, false)?;
    crate::glm::recession::intercept_unbounded(&d.problem)
}

fn validate(table: &CaptureTable, o: &ThresholdOptions) -> Result<()> {
    if table.k() < 2 {
        return Err(Error::Usage(
            "method bayes-threshold needs at least 2 lists".into(),
        ));
    }
    if !(o.maxorder == 2 || o.maxorder == 3) || (o.maxorder == 3 && table.k() < 3) {
        return Err(Error::Usage(format!(
            "method bayes-threshold: maxorder must be 2 or 3 (3 needs 3 or more lists), got {}",
            o.maxorder
        )));
    }
    check_design(table, o.maxorder)?;
    if let Prior::Normal { variance } = o.prior {
        if !(variance > 0.0 && variance.is_finite()) {
            return Err(Error::Usage(format!(
                "method bayes-threshold: the prior variance must be positive and finite, got {variance}"
            )));
        }
    }
    if !(o.threshold >= 0.0 && o.threshold.is_finite()) {
        return Err(Error::Usage(format!(
            "method bayes-threshold: the threshold must be ≥ 0, got {}",
            o.threshold
        )));
    }
    if o.chains == 0 || o.samples < 4 || o.thinning == 0 {
        return Err(Error::Usage(
            "method bayes-threshold needs 1 or more chains, 4 or more samples and thinning ≥ 1"
                .into(),
        ));
    }
    if o.samples.saturating_mul(o.chains) > 10_000_000 {
        return Err(Error::Usage(format!(
            "method bayes-threshold would keep {} × {} draws of every coefficient; keep at most 10,000,000",
            o.samples, o.chains
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_come_in_the_package_order() {
        assert_eq!(
            all_effects(4, 2),
            vec![0b11, 0b101, 0b110, 0b1001, 0b1010, 0b1100]
        );
        assert_eq!(all_effects(4, 3), vec![0b111, 0b1011, 0b1101, 0b1110]);
        assert_eq!(all_effects(5, 2).len(), 10);
        assert_eq!(all_effects(5, 3).len(), 10);
    }

    #[test]
    fn newton_finds_the_mode_of_a_known_posterior() {
        // One cell with count 7 and the intercept alone, flat prior: mode log 7, curvature 7.
        let m = Model::new(&[(1, 7.0)], &[1], vec![0.0]);
        let (b, h) = m.mode(DVector::from_vec(vec![0.0])).expect("mode exists");
        assert!((b[0] - 7f64.ln()).abs() < 1e-10 && (h[(0, 0)] - 7.0).abs() < 1e-8);
    }
}
