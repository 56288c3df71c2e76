//! What the posterior samplers (LCMCR, Bayesian thresholding) report from draws of N: the
//! median, an equal-tailed interval, a summary of the pooled draws and the convergence
//! diagnostics of `mcmc`, each MCSE the larger of the within-chain estimate and the chains'
//! own spread.

use super::interval::{Construction, Draws, Interval};
use super::mcmc;
use serde::Serialize;

/// What the Bayesian methods report from posterior draws of N.
#[derive(Debug, Clone)]
pub struct Posterior {
    /// Posterior median (the point estimate, as LCMCR and MultipleSystemsEstimation report).
    pub median: f64,
    /// Posterior standard deviation.
    pub sd: f64,
    /// Equal-tailed posterior interval, centred on the posterior mean.
    pub interval: Interval,
    /// Summary of the pooled draws.
    pub draws: Draws,
    /// R-hat, ESS and Monte Carlo standard errors (None with fewer than 4 draws per chain).
    pub diagnostics: Option<PosteriorDiagnostics>,
    /// A convergence warning, when R-hat > 1.01 or an ESS < 400.
    pub warning: Option<String>,
}

/// Convergence diagnostics and Monte Carlo standard errors of the posterior of N, as the
/// Bayesian methods write them. Fields in alphabetical order: the order of the JSON
/// objects this type replaced, which the golden files pin.
#[derive(Debug, Clone, Serialize)]
pub struct PosteriorDiagnostics {
    /// Bulk effective sample size.
    pub ess_bulk: f64,
    /// Tail effective sample size.
    pub ess_tail: f64,
    /// MCSE of the lower interval limit.
    pub mcse_lower: Option<f64>,
    /// MCSE of the posterior mean.
    pub mcse_mean: f64,
    /// MCSE of the posterior median.
    pub mcse_median: Option<f64>,
    /// How each MCSE was computed.
    pub mcse_method: &'static str,
    /// MCSE of each reported quantile, as (probability, MCSE).
    pub mcse_quantiles: Vec<(f64, Option<f64>)>,
    /// MCSE of the upper interval limit.
    pub mcse_upper: Option<f64>,
    /// R-hat.
    pub rhat: f64,
}

/// Summarises draws of N, one vector per chain: type-7 quantiles of the pooled draws (as
/// R's `quantile`) and the convergence diagnostics of `inference::mcmc`.
pub fn posterior(chains: &[Vec<f64>], level: f64) -> Posterior {
    let mut all: Vec<f64> = chains.concat();
    all.sort_by(f64::total_cmp);
    let q = |p: f64| mcmc::quantile7(&all, p);
    let draws = Draws {
        values: chains.concat(),
        ..Draws::summarise(&all, q)
    };
    let (mean, sd) = (draws.mean, draws.sd);
    let (plo, phi) = ((1.0 - level) / 2.0, (1.0 + level) / 2.0);
    let mut warning = None;
    let mut diagnostics = None;
    if let Some(d) = mcmc::diagnose(chains) {
        if d.warn() {
            warning = Some(format!(
                "the chains have not converged well enough: R-hat {:.3} (want ≤ {}), bulk ESS {:.0}, tail ESS {:.0} (want ≥ {}); run more burn-in and samples",
                d.rhat,
                mcmc::RHAT_WARN,
                d.ess_bulk,
                d.ess_tail,
                mcmc::ESS_WARN
            ));
        }
        // Each MCSE is the larger of the within-chain estimate (Vehtari et al.) and the
        // chains' own spread / √chains, which sees long excursions the former misses.
        // each chain sorted once, for all its quantiles below
        let sorted: Vec<Vec<f64>> = chains
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.sort_by(f64::total_cmp);
                c
            })
            .collect();
        let between = |f: &dyn Fn(&[f64]) -> f64| mcmc::mcse_between(&sorted, f).unwrap_or(0.0);
        let mcse_q = |p: f64| {
            mcmc::mcse_quantile(chains, p)
                .map(|w| w.max(between(&|c: &[f64]| mcmc::quantile7(c, p))))
        };
        let mcse_mean = d
            .mcse_mean
            .max(between(&|c: &[f64]| c.iter().sum::<f64>() / c.len() as f64));
        diagnostics = Some(PosteriorDiagnostics {
            ess_bulk: d.ess_bulk,
            ess_tail: d.ess_tail,
            mcse_lower: mcse_q(plo),
            mcse_mean,
            mcse_median: mcse_q(0.5),
            mcse_method: "larger of the within-chain estimate (Vehtari et al. 2021) and the chains' spread / sqrt(chains)",
            mcse_quantiles: draws
                .quantiles
                .iter()
                .map(|&(p, _)| (p, mcse_q(p)))
                .collect(),
            mcse_upper: mcse_q(phi),
            rhat: d.rhat,
        });
    }
    Posterior {
        median: q(0.5),
        sd,
        interval: Interval {
            lower: Some(q(plo)),
            upper: Some(q(phi)),
            level,
            kind: Construction::PosteriorQuantiles,
            center: Some(mean),
        },
        draws,
        diagnostics,
        warning,
    }
}
