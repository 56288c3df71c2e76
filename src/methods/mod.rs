//! Estimators, one file per family, and the types every estimator returns. `spec.rs` holds
//! the typed [`Method`] (id and the options of its family) and its dispatcher; adding a
//! family means one new file here and its variant there.

pub mod bayes_threshold;
pub mod bic;
mod bootstrapped;
pub mod closed;
pub mod common;
pub mod dga;
pub mod lcmcr;
pub mod loglinear;
pub mod spec;
pub mod stepwise;
pub mod twolist;

pub use spec::{Context, Method, MethodId, default_methods};

use crate::checked::Level;
use serde::Serialize;

/// Outcome of a fit: a number, or the honest reason there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Converged; the estimate exists.
    Ok,
    /// The iteration limit was reached before the deviance settled.
    NotConverged,
    /// The maximum-likelihood estimate does not exist (N̂ would run off to infinity).
    MleDoesNotExist,
    /// The model has more parameters than the data can determine.
    NotIdentifiable,
    /// The estimate is infinite.
    Infinite,
}

/// An interval on the population scale.
#[derive(Debug, Clone, Serialize)]
pub struct Interval {
    /// Lower limit (never below the observed n).
    pub lower: Option<f64>,
    /// Upper limit; `null` when the data give no upper limit.
    pub upper: Option<f64>,
    /// Nominal coverage, e.g. 0.95.
    pub level: f64,
    /// How it was made: `profile`, `wald-log`, `log-normal`.
    pub kind: String,
    /// The point estimate that belongs to this interval when it differs from N̂ (the
    /// multinomial N̂ of a profile-likelihood interval).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub center: Option<f64>,
}

/// One estimated coefficient.
#[derive(Debug, Clone, Serialize)]
pub struct Coefficient {
    /// Name (Rcapture's naming for the closed models, list names for log-linear terms).
    pub name: String,
    /// Estimate; `null` when aliased or −∞ (an empty margin).
    pub estimate: Option<f64>,
    /// Standard error from the Fisher information.
    pub std_error: Option<f64>,
}

/// Goodness of fit of a log-linear fit.
#[derive(Debug, Clone, Serialize)]
pub struct FitSummary {
    /// Residual deviance.
    pub deviance: f64,
    /// Residual degrees of freedom: cells minus parameters, as R's glm and Rcapture count.
    pub df: i64,
    /// Degrees of freedom without the cells fixed at zero by empty margins and without
    /// their parameters (Fienberg & Rinaldo; SparseMSE's `df.residual`), when different.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df_adjusted: Option<i64>,
    /// AIC = −2 log L + 2 p (Poisson log-likelihood, as R's glm).
    pub aic: f64,
    /// BIC = −2 log L + log(n) p, n the observed count (as Rcapture).
    pub bic: f64,
    /// IRLS iterations.
    pub iterations: usize,
    /// Coefficients in design order.
    pub coefficients: Vec<Coefficient>,
}

/// Summary of Monte Carlo draws of N (filled by later families).
#[derive(Debug, Clone, Serialize)]
pub struct Draws {
    /// Number of draws.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
    /// Quantiles as (probability, value).
    pub quantiles: Vec<(f64, f64)>,
    /// The draws themselves, chain after chain, for posterior samplers (the bootstrap
    /// keeps its own in `bootstrap.values`); they are what the strata totals add up.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
    /// The exact posterior, for methods that compute one (dga): the strata totals
    /// convolve it. Kept in memory only; the JSON gives its summary.
    #[serde(skip)]
    pub exact: Option<Pmf>,
}

/// A distribution on consecutive integers: P(first + i) = probs[i].
#[derive(Debug, Clone, PartialEq)]
pub struct Pmf {
    /// The smallest value with a probability.
    pub first: u64,
    /// Probabilities, summing to 1.
    pub probs: Vec<f64>,
}

impl Pmf {
    /// The smallest value whose cumulative probability reaches q (dga's quantile).
    pub fn quantile(&self, q: f64) -> f64 {
        let mut acc = 0.0;
        for (i, p) in self.probs.iter().enumerate() {
            acc += p;
            if acc >= q {
                return (self.first + i as u64) as f64;
            }
        }
        (self.first + self.probs.len().saturating_sub(1) as u64) as f64
    }

    /// Mean and standard deviation.
    pub fn mean_sd(&self) -> (f64, f64) {
        let at = |i: usize| (self.first + i as u64) as f64;
        let mean: f64 = self.probs.iter().enumerate().map(|(i, p)| p * at(i)).sum();
        let var: f64 = self
            .probs
            .iter()
            .enumerate()
            .map(|(i, p)| p * (at(i) - mean).powi(2))
            .sum();
        (mean, var.sqrt())
    }

    /// Without the outer tails of mass below `eps` each: what a sum over strata needs, and
    /// what keeps its convolution short.
    pub fn trimmed(mut self, eps: f64) -> Pmf {
        let mut lo = 0;
        let mut acc = 0.0;
        while lo + 1 < self.probs.len() && acc + self.probs[lo] < eps {
            acc += self.probs[lo];
            lo += 1;
        }
        let mut hi = self.probs.len();
        let mut acc = 0.0;
        while hi > lo + 1 && acc + self.probs[hi - 1] < eps {
            acc += self.probs[hi - 1];
            hi -= 1;
        }
        self.probs.truncate(hi);
        self.probs.drain(..lo);
        self.first += lo as u64;
        self
    }
}

/// What every estimator returns.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// Method id (`m0`, `loglinear`, …).
    pub method: String,
    /// Human label in the manner of the R packages (`Mh Chao (LB)`, `[12,3]`, `LA-NG`).
    pub label: String,
    /// The log-linear model, for log-linear methods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Options that shaped this estimate.
    pub options: serde_json::Value,
    /// Outcome.
    pub status: Status,
    /// Observed n.
    pub observed: u64,
    /// N̂ (observed + missing).
    pub population: Option<f64>,
    /// N̂ − n.
    pub missing: Option<f64>,
    /// Standard error of N̂.
    pub std_error: Option<f64>,
    /// Interval on the population scale.
    pub interval: Option<Interval>,
    /// Fit statistics, for model-based estimates.
    pub fit: Option<FitSummary>,
    /// Draws of N, for Monte Carlo methods.
    pub draws: Option<Draws>,
    /// The bootstrap behind `draws` and the interval, when one was run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<crate::inference::bootstrap::Bootstrap>,
    /// Existence and identifiability of a log-linear model's MLE (SparseMSE's codes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<crate::loglinear::check::Check>,
    /// Everything the user should know about this estimate.
    pub warnings: Vec<String>,
}

/// Which interval to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum IntervalKind {
    /// Multinomial profile likelihood (Rcapture `closedpCI`), the default.
    #[default]
    Profile,
    /// Wald on the log of the dark figure (SparseMSE `estimatepopulation.0`).
    WaldLog,
    /// No interval (what Rcapture's `closedp.t` reports).
    None,
}

impl IntervalKind {
    /// The name used in JSON and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            IntervalKind::Profile => "profile",
            IntervalKind::WaldLog => "wald-log",
            IntervalKind::None => "none",
        }
    }
}

/// A progress callback (replicates finished).
#[derive(Clone)]
pub struct ProgressFn(pub std::sync::Arc<dyn Fn(u64) + Send + Sync>);

impl std::fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressFn")
    }
}

/// What a fit needs besides its data and its family's own options.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Interval level.
    pub level: Level,
    /// Interval kind.
    pub interval: IntervalKind,
    /// IRLS iteration limit (R's glm: 25).
    pub max_iter: usize,
    /// Fit interaction terms with empty margins the way R's glm does (finite coefficients
    /// wherever its deviance test stops), to reproduce Rcapture digit for digit, instead of
    /// the extended MLE (those terms at −∞, their cells structural zeros).
    pub glm_compat: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            level: Level::DEFAULT,
            interval: IntervalKind::Profile,
            max_iter: 25,
            glm_compat: false,
        }
    }
}
