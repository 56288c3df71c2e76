//! What an estimate records besides its numbers: the settings that shaped it and what a
//! family reports beyond N̂ (the stepwise path, BIC's ranking, dga's top graphs,
//! thresholding's retained terms), one struct per family under [`Details`]. Every estimator
//! fills one; the result JSON writes it as the estimate's `options`. Like `types.rs`, it
//! imports nothing from its siblings, so every estimator can use it; the settings enums it
//! records ([`Start`], [`Prior`]) live here for that reason.
//!
//! Fields are declared in alphabetical order, nested structs too: the JSON was first
//! written from `json!` maps, which serde_json (without `preserve_order`) keys in sorted
//! order, and the golden files pin those bytes.

use crate::checked::Level;
use crate::inference::posterior::PosteriorDiagnostics;
use crate::inference::{Construction, Interval, IntervalKind};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// The settings and by-products of one estimate, by family; serialised untagged, so the
/// JSON holds the family's object alone (`null` for [`Details::None`]).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Details {
    /// Rcapture's closed models (`m0` … `mbh`).
    Closed(ClosedDetails),
    /// A log-linear model given or fixed in advance (`loglinear`, `main`).
    Loglinear(LoglinearDetails),
    /// SparseMSE's stepwise selection.
    Stepwise(StepwiseDetails),
    /// One of the BIC-ranked models.
    Bic(BicDetails),
    /// A two-list estimate of one pair (`petersen`, `chapman`).
    TwoList(TwoListDetails),
    /// dga's averaging over decomposable graphs.
    Dga(DgaDetails),
    /// LCMCR's sampler.
    Lcmcr(LcmcrDetails),
    /// Bayesian thresholding (boxed: it is by far the largest).
    Threshold(Box<ThresholdDetails>),
    /// Draws pooled across model families.
    Pooled(PooledDetails),
    /// The procedure the simulation grid chose, with its measured coverage.
    Recommended(RecommendedDetails),
    /// A zero-truncated single-source regression (boxed: its diagnostics are long).
    SingleSource(Box<SingleSourceDetails>),
    /// A sample-coverage estimator (`sc-indep`, `sc-hsc`, `sc-lsc`).
    Coverage(CoverageDetails),
    /// Nothing to record: a stratum too sparse for the method.
    None,
}

/// Settings of a closed-population model.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedDetails {
    /// The interval made (Mb and Mbh always give Chao's log-normal one); `"none"` when no
    /// interval was asked for.
    #[serde(serialize_with = "construction_or_none")]
    pub interval: Option<Construction>,
    /// Interval level.
    pub level: Level,
    /// Capture occasions.
    pub occasions: usize,
}

/// `"none"` where no interval is made, else the construction's own spelling.
fn construction_or_none<S: Serializer>(c: &Option<Construction>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.map_or("none", Construction::as_str))
}

/// Settings of a log-linear fit.
#[derive(Debug, Clone, Serialize)]
pub struct LoglinearDetails {
    /// Interval kind asked for.
    pub interval: IntervalKind,
    /// Interval level.
    pub level: Level,
}

/// Settings and selection path of the stepwise method.
#[derive(Debug, Clone, Serialize)]
pub struct StepwiseDetails {
    /// Selected terms whose margin is empty (−∞ in the extended MLE).
    pub empty_overlaps: Vec<String>,
    /// Interval kind of the selected model's fit.
    pub interval: IntervalKind,
    /// Interval level.
    pub level: Level,
    /// The p-value threshold; `null` under the AIC rule.
    pub pthresh: Option<f64>,
    /// How candidates were judged.
    pub rule: StepRule,
    /// The two-list terms added, in order.
    pub selected_terms: Vec<String>,
    /// Each addition with its p-value.
    pub steps: Vec<Step>,
}

/// The stepwise rule, as the JSON names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepRule {
    /// Poisson p-value below the threshold (SparseMSE).
    Pvalue,
    /// AIC decrease.
    Aic,
}

/// One step of the stepwise selection.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Its p-value when added.
    pub p_value: f64,
    /// The two-list effect added.
    pub term: String,
}

/// Settings and rank of one BIC-ranked model.
#[derive(Debug, Clone, Serialize)]
pub struct BicDetails {
    /// The model's BIC.
    pub bic: f64,
    /// Models searched whose MLE exists.
    pub candidates_with_mle: usize,
    /// Interval kind of this model's fit (none below the first rank).
    pub interval: IntervalKind,
    /// Interval level.
    pub level: Level,
    /// Highest interaction order searched.
    pub maxorder: usize,
    /// Rank by BIC, 1 the best.
    pub rank: usize,
    /// How the models were searched.
    pub searched: String,
}

/// Settings of a two-list estimate.
#[derive(Debug, Clone, Serialize)]
pub struct TwoListDetails {
    /// Always Chao's log-normal interval.
    pub interval: Construction,
    /// Interval level.
    pub level: Level,
    /// The pair of lists.
    pub lists: [String; 2],
}

/// The prior of N of a Bayesian method, spelt as in the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PriorN {
    /// p(N) ∝ 1/N.
    #[serde(rename = "1/N")]
    Inverse,
}

/// Settings and posterior summary of dga.
#[derive(Debug, Clone, Serialize)]
pub struct DgaDetails {
    /// Hyper-Dirichlet prior parameter.
    pub delta: f64,
    /// Decomposable graphs averaged over.
    pub graphs: usize,
    /// The range of missing counts the posterior is computed on.
    pub grid: [u64; 2],
    /// Posterior mean of N.
    pub mean: f64,
    /// Posterior mode of N.
    pub mode: f64,
    /// Prior of N.
    pub prior_n: PriorN,
    /// Posterior standard deviation of N.
    pub sd: f64,
    /// The graphs of highest posterior weight, best first.
    pub top_graphs: Vec<TopGraph>,
}

/// One graph of dga's model average.
#[derive(Debug, Clone, Serialize)]
pub struct TopGraph {
    /// The graph's cliques.
    pub graph: String,
    /// Posterior mean of N under this graph.
    pub posterior_mean: f64,
    /// Posterior weight of the graph.
    pub weight: f64,
}

/// Where LCMCR's chains start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Start {
    /// The R package's start: every class's λ at the lists' shares of the identified, class
    /// weights 0.225 × 4 and 0.1 spread over the rest, α = 0.3/K, 500 warm-up iterations
    /// with α held, classes then relabelled by weight.
    #[default]
    Package,
    /// Overdispersed: λ uniform at random, weights ½, ¼, …, α = 1. Chains that start apart
    /// expose posterior regions the sampler does not move between (then R-hat warns).
    Dispersed,
}

/// Sampler settings and convergence diagnostics of LCMCR.
#[derive(Debug, Clone, Serialize)]
pub struct LcmcrDetails {
    /// Latent classes in the truncation.
    #[serde(rename = "K")]
    pub k: usize,
    /// Shape of the Gamma prior on α.
    pub a_alpha: f64,
    /// Rate of the Gamma prior on α.
    pub b_alpha: f64,
    /// Burn-in iterations per chain.
    pub burnin: usize,
    /// Chains.
    pub chains: usize,
    /// Convergence diagnostics; `null` with fewer than 4 draws per chain.
    pub diagnostics: Option<PosteriorDiagnostics>,
    /// Prior of N.
    pub prior_n: PriorN,
    /// Draws kept per chain.
    pub samples: usize,
    /// Master seed.
    pub seed: u64,
    /// Where the chains start.
    pub start: Start,
    /// Iterations between kept draws.
    pub thinning: usize,
}

/// Prior of bayes-threshold's interaction parameters, written as
/// `{"interactions": "normal", "variance": v}` or `{"interactions": "flat"}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "interactions", rename_all = "lowercase")]
pub enum Prior {
    /// Independent N(0, variance).
    Normal {
        /// Prior variance.
        variance: f64,
    },
    /// Improper flat prior (needs the MLE of the all-two-way model to exist).
    Flat,
}

/// Settings and thresholding decisions of Bayesian thresholding. The fields that are
/// `Option`s are the results of sampling: all `None`, and left out of the JSON, when a
/// posterior had no mode and nothing was sampled.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdDetails {
    /// Acceptance rates of the all-two-way fit and of the final fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<[f64; 2]>,
    /// Burn-in iterations per chain and fit.
    pub burnin: usize,
    /// Chains.
    pub chains: usize,
    /// Posterior mean and sd of each coefficient of the final fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coefficients: Option<Vec<PosteriorCoefficient>>,
    /// Convergence diagnostics of N (always computed once sampled: at least 4 draws per
    /// chain are required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<PosteriorDiagnostics>,
    /// Highest interaction order considered.
    pub maxorder: usize,
    /// Effects at −∞ under the flat prior (zero sufficient statistic); left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub minus_infinite_effects: Vec<String>,
    /// Prior of the interactions.
    pub prior: Prior,
    /// The two-list interactions kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retained: Option<Vec<String>>,
    /// Draws kept per chain and fit.
    pub samples: usize,
    /// Master seed.
    pub seed: u64,
    /// Iterations between kept draws.
    pub thinning: usize,
    /// |posterior mean / sd| below which an interaction is dropped.
    pub threshold: f64,
    /// |posterior mean / sd| of each two-list interaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_statistics: Option<BTreeMap<String, f64>>,
    /// The three-list stage, with `maxorder` 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triples: Option<Triples>,
}

/// Posterior mean and sd of one coefficient.
#[derive(Debug, Clone, Serialize)]
pub struct PosteriorCoefficient {
    /// Posterior mean.
    pub mean: f64,
    /// Term name.
    pub name: String,
    /// Posterior standard deviation.
    pub sd: f64,
}

/// The three-list stage of Bayesian thresholding.
#[derive(Debug, Clone, Serialize)]
pub struct Triples {
    /// Whether the eligible triples were fitted (the flat prior may rule them out).
    pub considered: bool,
    /// Triples whose three pairs were all kept.
    pub eligible: Vec<String>,
    /// The triples kept.
    pub retained: Vec<String>,
    /// |posterior mean / sd| of each triple fitted.
    pub statistics: BTreeMap<String, f64>,
}

impl Details {
    /// The limits an estimate records at several levels (`pooled`), which a study reads
    /// instead of running the method again at each level.
    pub fn level_limits(&self) -> Option<&[LevelLimits]> {
        match self {
            Details::Pooled(d) => Some(&d.limits),
            Details::Recommended(d) => d.details.level_limits(),
            Details::Coverage(d) if !d.limits.is_empty() => Some(&d.limits),
            _ => None,
        }
    }
}

/// How `pooled` turns its families' draws into one interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    /// Equal-tailed quantiles of the families' draws pooled with equal weight: the
    /// mixture an analyst who gives each family even odds would hold.
    #[default]
    Mixture,
    /// From the lowest lower limit to the highest upper limit of the families' own
    /// intervals: wide enough for any family that covers.
    Union,
}

impl Combine {
    /// The word a job file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Combine::Mixture => "mixture",
            Combine::Union => "union",
        }
    }
}

/// Limits at one level; either may be missing (too few draws beyond it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelLimits {
    /// Nominal coverage.
    pub level: f64,
    /// Lower limit.
    pub lower: Option<f64>,
    /// Upper limit.
    pub upper: Option<f64>,
}

/// One model family inside `pooled`.
#[derive(Debug, Clone, Serialize)]
pub struct PooledFamily {
    /// Draws of this family in the pool (0: the family gave no usable answer).
    pub draws: usize,
    /// `stepwise` (with its parametric bootstrap) or `lcmcr`.
    pub family: String,
    /// Its own interval at the estimate's level.
    pub interval: Option<Interval>,
    /// Its own settings and by-products (stepwise path, LCMCR diagnostics).
    pub options: Box<Details>,
    /// Its own N̂.
    pub population: Option<f64>,
    /// Its status, as the estimate's `status` writes it.
    pub status: String,
}

/// Settings and families of `pooled`.
#[derive(Debug, Clone, Serialize)]
pub struct PooledDetails {
    /// How the families were combined.
    pub combine: Combine,
    /// The families, stepwise first.
    pub families: Vec<PooledFamily>,
    /// Interval level.
    pub level: Level,
    /// The combined limits at 80, 90, 95% and the estimate's level.
    pub limits: Vec<LevelLimits>,
    /// Parametric bootstrap replicates of the stepwise family.
    pub replicates: usize,
}

/// The measured coverage of one procedure on one scenario of the simulation grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioCoverage {
    /// Datasets whose interval held the true N.
    pub covered: u64,
    /// Median (upper − lower) / N.
    pub median_relative_width: Option<f64>,
    /// covered / replicates.
    pub rate: f64,
    /// Datasets drawn.
    pub replicates: u64,
    /// The scenario's name (`models/scenarios/NAME.json`).
    pub scenario: String,
    /// Binomial standard error of the rate.
    pub std_error: f64,
}

/// What `recommended` ran and how well that covered.
#[derive(Debug, Clone, Serialize)]
pub struct RecommendedDetails {
    /// Coverage of the procedure's 95% interval on each scenario of the grid.
    pub coverage: Vec<ScenarioCoverage>,
    /// The procedure's own details.
    pub details: Box<Details>,
    /// The coverage it was to reach everywhere.
    pub goal: f64,
    /// Interval level.
    pub level: Level,
    /// The method it ran.
    pub method: String,
    /// The procedure's name in the grid.
    pub procedure: String,
    /// The scenarios where it fell short of the goal.
    pub short_of_goal: Vec<String>,
}

/// A zero-truncated regression's formula, fit and diagnostics.
#[derive(Debug, Clone, Serialize)]
pub struct SingleSourceDetails {
    /// Reference level of each categorical covariate.
    pub baseline: BTreeMap<String, String>,
    /// Covariates (none: intercept only).
    pub covariates: Vec<String>,
    /// Deletion diagnostics of N̂ (null when not computed: a fit without a number, or more
    /// distinct rows than the diagnostics refit).
    pub dfpopsize: Option<DfPopsize>,
    /// `count ~ covariates`, as singleRcapture writes it.
    pub formula: String,
    /// Observed and fitted people by times recorded, and the tests of fit.
    pub goodness_of_fit: Option<GoodnessOfFit>,
    /// Interval level.
    pub level: Level,
    /// Log-likelihood at the fit (the package's `logL`).
    pub loglik: Option<f64>,
    /// Chao's log-normal interval from the analytic variance (the estimate's interval).
    pub log_normal: Option<Limits2>,
    /// The normal (Wald) interval N̂ ± z·se.
    pub normal: Option<Limits2>,
    /// Analytic variance of N̂.
    pub variance: Option<f64>,
}

/// Two interval limits.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Limits2 {
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
}

/// One cell of the marginal frequencies: people recorded `times` times, seen and fitted.
#[derive(Debug, Clone, Serialize)]
pub struct MarginalCell {
    /// Fitted number of people.
    pub expected: f64,
    /// Observed number of people.
    pub observed: u64,
    /// Times recorded (`"4,5,6"`: a joined cell).
    pub times: String,
}

/// Goodness of fit on the counts of people by times recorded.
#[derive(Debug, Clone, Serialize)]
pub struct GoodnessOfFit {
    /// Pearson's χ² on the grouped cells.
    pub chi2: f64,
    /// Its p-value (null without degrees of freedom).
    pub chi2_p: Option<f64>,
    /// Cells − parameters, as the package counts them (p-values only when ≥ 1).
    pub df: i64,
    /// Likelihood-ratio G on the grouped cells.
    pub g: f64,
    /// Its p-value.
    pub g_p: Option<f64>,
    /// The cells tested: those with at least 5 people seen and fitted, and one cell
    /// joining the rest (`"4,5,6"`), as the package's `dropl5 = "group"`.
    pub grouped: Vec<MarginalCell>,
    /// Every count seen, from 1 to the largest (fitted: the people expected with that
    /// count under the fit).
    pub marginal: Vec<MarginalCell>,
}

/// Deletion diagnostics of N̂ (singleRcapture's `dfpopsize`).
#[derive(Debug, Clone, Serialize)]
pub struct DfPopsize {
    /// One entry per distinct row of the data.
    pub by_row: Vec<DfPopsizeRow>,
    /// Largest |N̂ − N̂ without one person|.
    pub max_abs: Option<f64>,
    /// Mean |N̂ − N̂ without one person| over the people.
    pub mean_abs: Option<f64>,
}

/// The deletion diagnostic of the people of one distinct row.
#[derive(Debug, Clone, Serialize)]
pub struct DfPopsizeRow {
    /// N̂ minus N̂ refitted without one of these people.
    pub dfpopsize: Option<f64>,
    /// People with this row.
    pub people: u64,
    /// Times recorded.
    pub times: u64,
    /// The other columns' values, in the data's column order.
    pub values: Vec<String>,
}

/// The statistics of the sample-coverage approach, as CARE1's `estN.stat` names them, and
/// the interval made.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageDetails {
    /// D = M − (1/t) Σ Z_k: people on the other lists, averaged over the list left out.
    #[serde(rename = "D")]
    pub d: f64,
    /// M: people seen on any list.
    #[serde(rename = "M")]
    pub m: u64,
    /// Ĉ = 1 − (1/t) Σ Z_k / n_k: the sample coverage (Chao & Tsay 1998, eq. 14).
    pub chat: f64,
    /// t Ĉ − Σ A_jk X_jk / (n_j n_k): the denominator of `sc-hsc` (CARE1 warns when ≤ 0).
    pub hsc_denominator: f64,
    /// `log-normal-bootstrap-se` with a bootstrap, else `"none"`.
    #[serde(serialize_with = "construction_or_none")]
    pub interval: Option<Construction>,
    /// Interval level.
    pub level: Level,
    /// With a bootstrap: the limits at 80, 90, 95% and the estimate's level (those with
    /// enough replicates).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<LevelLimits>,
}
