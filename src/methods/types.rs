//! The types every estimator shares: the outcome of a fit ([`Status`]), its coefficients
//! and goodness of fit, the [`Estimate`] it returns, the [`Settings`] a fit takes and the
//! progress callback of long runs. Near the leaf of `methods/`: it imports only
//! `details.rs`, which imports no sibling, so every estimator file can use both.

use super::details::Details;
use crate::checked::Level;
use crate::inference::{Draws, Interval, IntervalKind};
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
    /// The method stopped without an answer on these data; its warning names the method and
    /// says why. The job's other methods still report.
    Failed,
}

impl Status {
    /// The status as the result JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::NotConverged => "not_converged",
            Status::MleDoesNotExist => "mle_does_not_exist",
            Status::NotIdentifiable => "not_identifiable",
            Status::Infinite => "infinite",
            Status::Failed => "failed",
        }
    }

    /// Whether an estimate with this status carries a number.
    pub fn has_number(self) -> bool {
        matches!(self, Status::Ok | Status::NotConverged)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// No estimate with status `ok` is larger than this (10¹⁰ people, more than the world's
/// population): a larger N̂ means the data leave N unbounded (`Estimate::bound_population`).
pub const MAX_ESTIMATE: f64 = 1e10;

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
    /// Settings that shaped this estimate and what its family reports beyond N̂ (written
    /// as `options`).
    pub options: Details,
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

impl Estimate {
    /// A base for struct update: no numbers, no fit, no draws, no warnings, status
    /// `not_identifiable` and empty names. Every estimator sets at least `method`, `label`,
    /// `status` and `observed` over it.
    pub fn blank() -> Estimate {
        Estimate {
            method: String::new(),
            label: String::new(),
            model: None,
            options: Details::None,
            status: Status::NotIdentifiable,
            observed: 0,
            population: None,
            missing: None,
            std_error: None,
            interval: None,
            fit: None,
            draws: None,
            bootstrap: None,
            check: None,
            warnings: Vec::new(),
        }
    }

    /// An `ok` estimate above `MAX_ESTIMATE` (or not finite) is not an answer: the data do
    /// not bound N (a fit run off towards infinity, as with lists that never overlap). It
    /// becomes status `infinite`, its figures null, with a warning that says so.
    pub fn bound_population(&mut self) {
        let Some(p) = self.population.filter(|_| self.status == Status::Ok) else {
            return;
        };
        if p.is_finite() && p <= MAX_ESTIMATE {
            if let Some(iv) = &mut self.interval
                && iv.upper.is_some_and(|u| !(u <= MAX_ESTIMATE))
            {
                iv.upper = None;
                self.warnings.push(format!(
                    "the interval's upper limit is above {MAX_ESTIMATE:.0e} people, more than live on Earth: the data do not bound it, so it is not given"
                ));
            }
            return;
        }
        self.status = Status::Infinite;
        self.population = None;
        self.missing = None;
        self.std_error = None;
        self.interval = None;
        self.draws = None;
        self.warnings.push(format!(
            "the fit put N above {MAX_ESTIMATE:.0e} people, more than live on Earth: the data do not bound N, so no number is given"
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ok_estimate_above_the_bound_has_no_number() {
        let mut e = Estimate::blank();
        e.status = Status::Ok;
        e.population = Some(2e10);
        e.bound_population();
        assert_eq!(e.status, Status::Infinite);
        assert!(e.population.is_none() && !e.warnings.is_empty());

        let mut e = Estimate::blank();
        e.status = Status::Ok;
        e.population = Some(1e4);
        e.interval = Some(Interval {
            lower: Some(9e3),
            upper: Some(3e12),
            level: 0.95,
            kind: crate::inference::Construction::Profile,
            center: None,
        });
        e.bound_population();
        assert_eq!(e.status, Status::Ok);
        assert_eq!(e.population, Some(1e4));
        assert!(e.interval.as_ref().is_some_and(|i| i.upper.is_none()));
    }
}
