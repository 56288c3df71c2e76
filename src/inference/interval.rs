//! The interval and draws types every estimator reports on the population scale: which
//! interval was asked for ([`IntervalKind`]), the interval made ([`Interval`]) and how
//! ([`Construction`]), a summary of
//! Monte Carlo draws of N ([`Draws`]) and an exact distribution on the integers ([`Pmf`]).
//! Below the estimators (`methods`) and the strata totals (`aggregate`), which fill them.

use serde::Serialize;

/// An interval on the population scale.
#[derive(Debug, Clone, Serialize)]
pub struct Interval {
    /// Lower limit (never below the observed n).
    pub lower: Option<f64>,
    /// Upper limit; `null` when the data give no upper limit.
    pub upper: Option<f64>,
    /// Nominal coverage, e.g. 0.95.
    pub level: f64,
    /// How it was made.
    pub kind: Construction,
    /// The point estimate that belongs to this interval when it differs from N̂ (the
    /// multinomial N̂ of a profile-likelihood interval).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub center: Option<f64>,
}

/// How an interval was made: the `kind` of every interval in the result JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Construction {
    /// Multinomial profile likelihood (Cormack 1992; Rcapture `closedpCI`).
    Profile,
    /// Wald on the log of the dark figure (SparseMSE `estimatepopulation.0`).
    WaldLog,
    /// Chao's (1987) log-normal interval.
    LogNormal,
    /// N̂ ± z·se (singleRcapture's normal interval).
    Normal,
    /// Chao's (1987) log-normal (log-transformed) interval with the s.e. from bootstrap
    /// replicates (CARE1's `estN`).
    LogNormalBootstrapSe,
    /// Bias-corrected and accelerated bootstrap limits.
    BootstrapBca,
    /// Bootstrap percentile limits (when BCa fails).
    BootstrapPercentile,
    /// Equal-tailed quantiles of posterior draws.
    PosteriorQuantiles,
    /// Equal-tailed quantiles of draws pooled with equal weight across model families.
    PooledQuantiles,
    /// The lowest lower and highest upper limit of several model families' intervals.
    UnionOfIntervals,
    /// A strata total: percentile limits of the strata's bootstrap replicates summed.
    BootstrapPercentileOfSum,
    /// A strata total: quantiles of the strata's posterior draws summed draw by draw.
    PosteriorQuantilesOfSum,
    /// A strata total: quantiles of the convolution of the strata's exact posteriors.
    ExactPosteriorOfSum,
}

impl Construction {
    /// The name written in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Construction::Profile => "profile",
            Construction::WaldLog => "wald-log",
            Construction::LogNormal => "log-normal",
            Construction::Normal => "normal",
            Construction::LogNormalBootstrapSe => "log-normal-bootstrap-se",
            Construction::BootstrapBca => "bootstrap-bca",
            Construction::BootstrapPercentile => "bootstrap-percentile",
            Construction::PosteriorQuantiles => "posterior-quantiles",
            Construction::PooledQuantiles => "pooled-quantiles",
            Construction::UnionOfIntervals => "union-of-intervals",
            Construction::BootstrapPercentileOfSum => "bootstrap-percentile-of-sum",
            Construction::PosteriorQuantilesOfSum => "posterior-quantiles-of-sum",
            Construction::ExactPosteriorOfSum => "exact-posterior-of-sum",
        }
    }

    /// Whether the interval summarises a posterior (draws or exact).
    pub fn is_posterior(self) -> bool {
        matches!(
            self,
            Construction::PosteriorQuantiles
                | Construction::PosteriorQuantilesOfSum
                | Construction::ExactPosteriorOfSum
        )
    }
}

impl std::fmt::Display for Construction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A level as the percentage people read: 0.95 → "95", 0.975 → "97.5".
pub fn level_percent(level: f64) -> String {
    let p = format!("{:.6}", level * 100.0);
    p.trim_end_matches('0').trim_end_matches('.').to_string()
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

/// The probabilities whose quantiles every summary of draws reports.
pub const QUANTILES: [f64; 7] = [0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975];

impl Draws {
    /// Mean, sd (n − 1 divisor) and the [`QUANTILES`] of `values` by the caller's
    /// `quantile` rule (type 7 for posteriors, type 8 for the bootstrap). The sums run in
    /// the order of `values`, so callers pass the draws as they always summed them.
    pub fn summarise(values: &[f64], quantile: impl Fn(f64) -> f64) -> Draws {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd =
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64).sqrt();
        Draws {
            count: n,
            mean,
            sd,
            quantiles: QUANTILES.iter().map(|&p| (p, quantile(p))).collect(),
            values: Vec::new(),
            exact: None,
        }
    }
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
