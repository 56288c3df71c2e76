//! Estimators, one file per family, and the types every estimator returns. A method is
//! looked up by its id in `registry`; adding a family means one new file here and one
//! line in `run_method`.

pub mod bayes_threshold;
pub mod bic;
pub mod closed;
pub mod common;
pub mod dga;
pub mod lcmcr;
pub mod loglinear;
pub mod stepwise;
pub mod twolist;

use crate::data::Dataset;
use crate::error::{Error, Result};
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

/// Options shared by the methods.
#[derive(Debug, Clone)]
pub struct MethodOptions {
    /// Interval level in (0, 1).
    pub level: f64,
    /// Interval kind.
    pub interval: IntervalKind,
    /// Log-linear model spec for `loglinear`.
    pub model: Option<String>,
    /// IRLS iteration limit.
    pub max_iter: usize,
    /// Stepwise selection: p-value threshold for adding a two-list effect.
    pub pthresh: f64,
    /// BIC search: highest interaction order (default by number of lists).
    pub maxorder: Option<usize>,
    /// BIC search: how many of the best models to report.
    pub ntop: usize,
    /// Bootstrap the whole method (selection included), when asked.
    pub bootstrap: Option<crate::inference::bootstrap::BootOptions>,
    /// Called with the number of replicates finished (for a progress bar in the binary).
    pub progress: Option<ProgressFn>,
    /// Fit interaction terms with empty margins the way R's glm does (finite coefficients
    /// wherever its deviance test stops), to reproduce Rcapture digit for digit, instead of
    /// the extended MLE (those terms at −∞, their cells structural zeros).
    pub glm_compat: bool,
    /// LCMCR sampler settings (the seed is the job's).
    pub lcmcr: lcmcr::LcmcrOptions,
    /// Bayesian-thresholding settings (the seed is the job's).
    pub threshold: bayes_threshold::ThresholdOptions,
}

impl Default for MethodOptions {
    fn default() -> Self {
        MethodOptions {
            level: 0.95,
            interval: IntervalKind::Profile,
            model: None,
            max_iter: 25,
            pthresh: 0.02,
            maxorder: None,
            ntop: 5,
            bootstrap: None,
            progress: None,
            glm_compat: false,
            lcmcr: lcmcr::LcmcrOptions::default(),
            threshold: bayes_threshold::ThresholdOptions::default(),
        }
    }
}

impl MethodOptions {
    /// Checks option values.
    pub fn validate(&self) -> Result<()> {
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::Usage(format!(
                "--level must be strictly between 0 and 1, got {}",
                self.level
            )));
        }
        if !(self.pthresh > 0.0 && self.pthresh <= 1.0) {
            return Err(Error::Usage(format!(
                "--pthresh must be in (0, 1], got {}",
                self.pthresh
            )));
        }
        if self.max_iter == 0 {
            return Err(Error::Usage(
                "the iteration limit must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Method ids beyond Rcapture's closed family.
const OTHER_IDS: &[&str] = &[
    "loglinear",
    "main",
    "stepwise",
    "stepwise-aic",
    "bic",
    "dga",
    "lcmcr",
    "bayes-threshold",
    "petersen",
    "chapman",
];

/// All method ids this build knows.
pub fn method_ids() -> Vec<&'static str> {
    closed::TABLE_IDS.iter().chain(OTHER_IDS).copied().collect()
}

/// The methods run when the user names none: Rcapture's closed family and the
/// main-effects log-linear model.
pub fn default_methods(data: &Dataset) -> Vec<&'static str> {
    match data {
        Dataset::Frequency(_) => closed::FREQUENCY_IDS.to_vec(),
        Dataset::Table(t) if t.k() > crate::data::MAX_DENSE_LISTS => closed::FREQUENCY_IDS.to_vec(),
        Dataset::Table(t) if t.k() == 2 => vec!["m0", "mt", "mb", "petersen", "chapman"],
        Dataset::Table(_) => closed::TABLE_IDS.to_vec(),
    }
}

/// Methods whose whole procedure can be repeated inside a bootstrap.
pub const BOOTSTRAP_IDS: &[&str] = &["stepwise", "stepwise-aic", "main", "loglinear", "bic"];

/// Runs one method by id; a method may return several estimates (one per pair of lists).
pub fn run_method(id: &str, data: &Dataset, opts: &MethodOptions) -> Result<Vec<Estimate>> {
    opts.validate()?;
    let mut out = run_plain(id, data, opts)?;
    if let (Some(b), Dataset::Table(table)) = (opts.bootstrap, data) {
        if !BOOTSTRAP_IDS.contains(&id) {
            return Err(Error::Usage(format!(
                "--bootstrap repeats a log-linear method with its model choice; use it with {} (not {id})",
                BOOTSTRAP_IDS.join(", ")
            )));
        }
        for est in &mut out {
            attach_bootstrap(id, table, est, opts, b)?;
        }
    }
    Ok(out)
}

/// Runs the bootstrap for one estimate and makes its BCa limits the interval.
fn attach_bootstrap(
    id: &str,
    table: &crate::data::CaptureTable,
    est: &mut Estimate,
    opts: &MethodOptions,
    b: crate::inference::bootstrap::BootOptions,
) -> Result<()> {
    use crate::inference::bootstrap;
    let Some(point) = est.population.filter(|_| est.status == Status::Ok) else {
        est.warnings
            .push("no bootstrap: the estimate on the data has no number".into());
        return Ok(());
    };
    let inner = MethodOptions {
        interval: IntervalKind::None,
        bootstrap: None,
        progress: None,
        ..opts.clone()
    };
    // BIC: each replicate chooses among the data's ntop models (refitting all 2^15 would
    // make the bootstrap a thousand times dearer); the others repeat the whole method.
    let candidates: Vec<crate::loglinear::ModelSpec> = if id == "bic" {
        let o = MethodOptions {
            interval: IntervalKind::None,
            ..opts.clone()
        };
        bic::estimate(&Dataset::Table(table.clone()), &o, opts.maxorder, opts.ntop)?
            .iter()
            .filter_map(|e| e.model.as_ref())
            .filter_map(|m| crate::loglinear::ModelSpec::parse(m, table.lists()).ok())
            .collect()
    } else {
        Vec::new()
    };
    let estimator = |t: &crate::data::CaptureTable| -> Option<f64> {
        if id == "bic" {
            return candidates
                .iter()
                .filter_map(|ms| loglinear::fit_spec(t, ms, &inner, "bic").ok())
                .filter(|e| e.status == Status::Ok)
                .filter_map(|e| Some((e.fit.as_ref()?.bic, e.population?)))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|x| x.1);
        }
        let d = Dataset::Table(t.clone());
        run_plain(id, &d, &inner)
            .ok()?
            .into_iter()
            .next()
            .filter(|e| e.status == Status::Ok)?
            .population
    };
    let fitted = match &est.model {
        Some(m) => {
            let ms = crate::loglinear::ModelSpec::parse(m, table.lists())?;
            loglinear::fitted_cells(table, &ms, opts.max_iter)?
        }
        None => None,
    };
    let mut levels = vec![0.8, 0.9, 0.95, opts.level];
    levels.sort_by(f64::total_cmp);
    levels.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    let noop = crate::montecarlo::no_progress;
    let progress: crate::montecarlo::Progress = match &opts.progress {
        Some(p) => &*p.0,
        None => &noop,
    };
    let boot = bootstrap::run(
        table,
        point,
        fitted.as_deref(),
        &levels,
        b,
        &estimator,
        progress,
    )?;
    let ok: Vec<f64> = boot.values.iter().flatten().copied().collect();
    if !ok.is_empty() {
        let mut sorted = ok.clone();
        sorted.sort_by(f64::total_cmp);
        let mean = ok.iter().sum::<f64>() / ok.len() as f64;
        let sd = (ok.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
            / (ok.len().max(2) - 1) as f64)
            .sqrt();
        let quantiles = [0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975]
            .iter()
            .map(|&q| (q, bootstrap::quantile8(&sorted, q)))
            .collect();
        est.draws = Some(Draws {
            count: ok.len(),
            mean,
            sd,
            quantiles,
            values: Vec::new(),
            exact: None,
        });
    }
    if boot.failures > 0 {
        est.warnings.push(format!(
            "{} of {} bootstrap replicates ({:.1}%) had no estimate (the chosen model's MLE did not exist); the limits use the others",
            boot.failures,
            boot.replicates,
            100.0 * boot.failure_share
        ));
    }
    let at_level = |v: &[bootstrap::Limits]| {
        v.iter()
            .find(|l| (l.level - opts.level).abs() < 1e-12)
            .cloned()
    };
    match at_level(&boot.bca).filter(|l| l.lower.is_some() && l.upper.is_some()) {
        Some(l) => {
            est.interval = Some(Interval {
                lower: l.lower,
                upper: l.upper,
                level: opts.level,
                kind: "bootstrap-bca".into(),
                center: None,
            })
        }
        None => {
            est.warnings.push("BCa limits unavailable (all replicates on one side of N̂, or the jackknife failed); percentile limits given".into());
            if let Some(l) = at_level(&boot.percentile) {
                est.interval = Some(Interval {
                    lower: l.lower,
                    upper: l.upper,
                    level: opts.level,
                    kind: "bootstrap-percentile".into(),
                    center: None,
                });
            }
        }
    }
    est.bootstrap = Some(boot);
    Ok(())
}

/// Runs one method by id without the bootstrap.
fn run_plain(id: &str, data: &Dataset, opts: &MethodOptions) -> Result<Vec<Estimate>> {
    if let Some(m) = closed::ClosedModel::from_id(id) {
        return Ok(vec![closed::estimate(m, data, opts)?]);
    }
    match id {
        "loglinear" => {
            let spec = opts.model.as_deref().ok_or_else(|| {
                Error::Usage(
                    "--method loglinear needs --model SPEC, e.g. --model \"[12,23]\"".into(),
                )
            })?;
            Ok(vec![loglinear::estimate_spec(
                data,
                spec,
                opts,
                "loglinear",
            )?])
        }
        "main" => Ok(vec![loglinear::estimate_spec(data, "[]", opts, "main")?]),
        "stepwise" => Ok(vec![stepwise::estimate(data, opts, opts.pthresh)?]),
        "stepwise-aic" => Ok(vec![stepwise::estimate_rule(
            data,
            opts,
            stepwise::Rule::Aic,
        )?]),
        "bic" => bic::estimate(data, opts, opts.maxorder, opts.ntop),
        "dga" => Ok(vec![dga::estimate(data, opts)?]),
        "lcmcr" => Ok(vec![lcmcr::estimate(data, opts)?]),
        "bayes-threshold" => Ok(vec![bayes_threshold::estimate(data, opts)?]),
        "petersen" | "chapman" => twolist::estimate_pairs(id, data, opts),
        _ => Err(Error::Usage(format!(
            "unknown method \"{id}\"; known methods: {}",
            method_ids().join(", ")
        ))),
    }
}
