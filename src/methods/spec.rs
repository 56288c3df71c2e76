//! The methods a job or the command line can ask for, typed: [`MethodId`] names a method,
//! [`Method`] is a method with the options of its own family, and nothing else. A job's
//! `methods[i]` object is read with its `id` as the tag, so an option that belongs to
//! another family (`{"id": "stepwise", "K": 5}`) is an error at `methods[i].K`, not
//! silently ignored; the command line builds the same values. Each family says here what
//! data it takes, whether the bootstrap can repeat it and whether it draws random numbers;
//! `Method::run` is the one dispatcher. Sits between the job (above) and the estimator
//! files of `methods/` (below).

use super::bayes_threshold::{Prior, ThresholdOptions};
use super::closed::{self, ClosedModel};
use super::coverage::{self, Estimator};
use super::details::Combine;
use super::lcmcr::estimate as lcmcr_estimate;
use super::lcmcr::{LcmcrOptions, Start};
use super::pooled;
use super::recommended;
use super::singlesource::{self, Formula, MODELS, Model};
use super::types::{Estimate, ProgressFn, Settings, Status};
use crate::checked::{Chains, Classes, Iterations, Level, Order, PValue, Positive, Top};
use crate::data::counts::CountData;
use crate::data::{CaptureTable, Dataset, MAX_DENSE_LISTS};
use crate::error::{Error, Result};
use crate::inference::IntervalKind;
use crate::inference::bootstrap::{BootKind, BootOptions};
use crate::loglinear::ModelSpec;
use crate::montecarlo::derive_seed;
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// A method id, as jobs and the command line spell it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MethodId {
    /// One of Rcapture's twelve closed-population models.
    Closed(ClosedModel),
    /// A given hierarchical log-linear model.
    Loglinear,
    /// The main-effects log-linear model.
    Main,
    /// Forward selection by p-value (SparseMSE).
    Stepwise,
    /// Forward selection by AIC.
    StepwiseAic,
    /// Every hierarchical model ranked by BIC.
    Bic,
    /// Bayesian model averaging over decomposable graphs.
    Dga,
    /// Bayesian non-parametric latent classes.
    Lcmcr,
    /// Bayesian thresholding of log-linear interactions.
    BayesThreshold,
    /// Lincoln–Petersen for every pair of lists.
    Petersen,
    /// Chapman for every pair of lists.
    Chapman,
    /// A sample-coverage estimator (CARE1's `estN`).
    Coverage(Estimator),
    /// Stepwise (parametric bootstrap) and LCMCR draws pooled.
    Pooled,
    /// The procedure the simulation grid chose.
    Recommended,
    /// A zero-truncated single-source regression (singleRcapture).
    SingleSource(Model),
}

/// From this many lists on, a method that fits every cell of the table is announced before
/// it starts (2^14 cells: a fit takes about a second, an interval or a search many).
pub const NOTICE_LISTS: usize = 14;

/// A BIC search over more models than this is announced before it starts.
pub const NOTICE_MODELS: usize = 10_000;

/// Ids beyond the closed family, in the order the help lists them.
const OTHER: &[(&str, MethodId)] = &[
    ("loglinear", MethodId::Loglinear),
    ("main", MethodId::Main),
    ("stepwise", MethodId::Stepwise),
    ("stepwise-aic", MethodId::StepwiseAic),
    ("bic", MethodId::Bic),
    ("dga", MethodId::Dga),
    ("lcmcr", MethodId::Lcmcr),
    ("bayes-threshold", MethodId::BayesThreshold),
    ("petersen", MethodId::Petersen),
    ("chapman", MethodId::Chapman),
    ("sc-indep", MethodId::Coverage(Estimator::Indep)),
    ("sc-hsc", MethodId::Coverage(Estimator::Hsc)),
    ("sc-lsc", MethodId::Coverage(Estimator::Lsc)),
    ("pooled", MethodId::Pooled),
    ("recommended", MethodId::Recommended),
];

impl MethodId {
    /// Every id this build knows.
    pub fn all() -> Vec<&'static str> {
        closed::TABLE_IDS
            .iter()
            .copied()
            .chain(OTHER.iter().map(|o| o.0))
            .chain(MODELS.iter().map(|m| m.0))
            .collect()
    }

    /// Reads an id; the error lists the known ones.
    pub fn parse(id: &str) -> std::result::Result<MethodId, String> {
        if let Some(m) = ClosedModel::from_id(id) {
            return Ok(MethodId::Closed(m));
        }
        if let Some(m) = MODELS.iter().find(|m| m.0 == id) {
            return Ok(MethodId::SingleSource(m.1));
        }
        OTHER
            .iter()
            .find(|o| o.0 == id)
            .map(|o| o.1)
            .ok_or_else(|| {
                format!(
                    "unknown method \"{id}\"; known methods: {}",
                    MethodId::all().join(", ")
                )
            })
    }

    /// The id as written.
    pub fn as_str(&self) -> &'static str {
        match self {
            MethodId::Closed(m) => m.static_id(),
            MethodId::SingleSource(m) => m.id(),
            other => OTHER.iter().find(|o| o.1 == *other).map_or("", |o| o.0),
        }
    }

    /// The options this method takes besides its id.
    fn keys(&self) -> &'static [Key] {
        use Key::*;
        match self {
            MethodId::Closed(_) | MethodId::Main | MethodId::StepwiseAic => &[Interval, Level],
            MethodId::Loglinear => &[Model, Interval, Level],
            MethodId::SingleSource(_) => &[Level, Covariates, Baseline],
            MethodId::Stepwise => &[Interval, Level, Pthresh],
            MethodId::Bic => &[Interval, Level, Maxorder, Ntop],
            MethodId::Dga
            | MethodId::Petersen
            | MethodId::Chapman
            | MethodId::Coverage(_)
            | MethodId::Recommended => &[Level],
            MethodId::Lcmcr => &[Level, K, Burnin, Samples, Thinning, Chains, Start],
            MethodId::Pooled => &[
                Level, Pthresh, K, Burnin, Samples, Thinning, Chains, Combine,
            ],
            MethodId::BayesThreshold => &[
                Level,
                Maxorder,
                Burnin,
                Samples,
                Thinning,
                Chains,
                Prior,
                PriorVariance,
                Threshold,
            ],
        }
    }

    /// Whether the bootstrap can repeat the whole method (model choice included), or, for
    /// the sample-coverage estimators, gives their s.e. (CARE1's bootstrap).
    pub fn bootstrappable(&self) -> bool {
        matches!(
            self,
            MethodId::Loglinear
                | MethodId::Main
                | MethodId::Stepwise
                | MethodId::StepwiseAic
                | MethodId::Bic
                | MethodId::SingleSource(_)
                | MethodId::Coverage(_)
        )
    }

    /// The ids the bootstrap can repeat.
    pub fn bootstrappable_ids() -> Vec<&'static str> {
        MethodId::all()
            .into_iter()
            .filter(|id| MethodId::parse(id).is_ok_and(|m| m.bootstrappable()))
            .collect()
    }

    /// Whether it draws random numbers even without a bootstrap (a posterior sampler).
    pub fn needs_seed(&self) -> bool {
        matches!(
            self,
            MethodId::Lcmcr | MethodId::BayesThreshold | MethodId::Pooled | MethodId::Recommended
        )
    }

    /// Whether this method takes the option `key` (a job field name).
    pub fn takes(&self, key: &str) -> bool {
        self.keys().iter().any(|k| k.name() == key)
    }

    fn foreign(&self, key: Key) -> String {
        let takes: Vec<&str> = self.keys().iter().map(|k| k.name()).collect();
        format!(
            "option \"{}\" does not belong to method {}, which takes {}",
            key.name(),
            self.as_str(),
            takes.join(", ")
        )
    }
}

impl fmt::Display for MethodId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MethodId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        MethodId::parse(&s).map_err(de::Error::custom)
    }
}

impl Serialize for MethodId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Every field a method object may hold, in the order the result JSON writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    Model,
    Interval,
    Level,
    Pthresh,
    Maxorder,
    Ntop,
    K,
    Burnin,
    Samples,
    Thinning,
    Chains,
    Start,
    Prior,
    PriorVariance,
    Threshold,
    Combine,
    Covariates,
    Baseline,
}

const KEYS: &[(&str, Key)] = &[
    ("id", Key::Id),
    ("model", Key::Model),
    ("interval", Key::Interval),
    ("level", Key::Level),
    ("pthresh", Key::Pthresh),
    ("maxorder", Key::Maxorder),
    ("ntop", Key::Ntop),
    ("K", Key::K),
    ("burnin", Key::Burnin),
    ("samples", Key::Samples),
    ("thinning", Key::Thinning),
    ("chains", Key::Chains),
    ("start", Key::Start),
    ("prior", Key::Prior),
    ("prior_variance", Key::PriorVariance),
    ("threshold", Key::Threshold),
    ("combine", Key::Combine),
    ("covariates", Key::Covariates),
    ("baseline", Key::Baseline),
];

const KEY_NAMES: &[&str] = &[
    "id",
    "model",
    "interval",
    "level",
    "pthresh",
    "maxorder",
    "ntop",
    "K",
    "burnin",
    "samples",
    "thinning",
    "chains",
    "start",
    "prior",
    "prior_variance",
    "threshold",
    "combine",
    "covariates",
    "baseline",
];

impl Key {
    fn name(self) -> &'static str {
        KEYS.iter().find(|k| k.1 == self).map_or("", |k| k.0)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KEYS.iter()
            .find(|k| k.0 == s)
            .map(|k| k.1)
            .ok_or_else(|| de::Error::unknown_field(&s, KEY_NAMES))
    }
}

/// Prior of the log-linear interactions in `bayes-threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PriorKind {
    /// Independent N(0, prior_variance).
    Normal,
    /// Improper flat (only when the MLE of the all-two-way model exists).
    Flat,
}

/// A method object's options as written: every field optional. The wire shape of
/// `methods[i]`; [`Method`] is built from it once the id says which fields belong.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RawOptions {
    /// Log-linear model SPEC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Interval kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<IntervalKind>,
    /// Interval level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// Stepwise p-value threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pthresh: Option<PValue>,
    /// Highest interaction order (bic: searched; bayes-threshold: 2 or 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maxorder: Option<Order>,
    /// Best models reported (bic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ntop: Option<Top>,
    /// Latent classes (lcmcr).
    #[serde(rename = "K", skip_serializing_if = "Option::is_none")]
    pub classes: Option<Classes>,
    /// Burn-in iterations per chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burnin: Option<Iterations>,
    /// Draws kept per chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<Iterations>,
    /// Iterations between kept draws.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinning: Option<Iterations>,
    /// Chains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chains: Option<Chains>,
    /// Where LCMCR's chains start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Start>,
    /// Prior of bayes-threshold's interactions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior: Option<PriorKind>,
    /// Variance of its normal prior.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior_variance: Option<Positive>,
    /// |posterior mean / sd| below which an interaction is dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Positive>,
    /// How `pooled` combines its families.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub combine: Option<Combine>,
    /// Covariates of a single-source regression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covariates: Option<Vec<String>>,
    /// Reference levels of its categorical covariates, by column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BTreeMap<String, String>>,
}

impl RawOptions {
    /// Copies the value of `key` into `to`.
    fn copy(&self, key: Key, to: &mut RawOptions) {
        match key {
            Key::Id => {}
            Key::Model => to.model = self.model.clone(),
            Key::Interval => to.interval = self.interval,
            Key::Level => to.level = self.level,
            Key::Pthresh => to.pthresh = self.pthresh,
            Key::Maxorder => to.maxorder = self.maxorder,
            Key::Ntop => to.ntop = self.ntop,
            Key::K => to.classes = self.classes,
            Key::Burnin => to.burnin = self.burnin,
            Key::Samples => to.samples = self.samples,
            Key::Thinning => to.thinning = self.thinning,
            Key::Chains => to.chains = self.chains,
            Key::Start => to.start = self.start,
            Key::Prior => to.prior = self.prior,
            Key::PriorVariance => to.prior_variance = self.prior_variance,
            Key::Threshold => to.threshold = self.threshold,
            Key::Combine => to.combine = self.combine,
            Key::Covariates => to.covariates = self.covariates.clone(),
            Key::Baseline => to.baseline = self.baseline.clone(),
        }
    }

    /// The options among these that `id` takes: the command line gives each option once
    /// for all the methods it names.
    pub fn for_method(&self, id: MethodId) -> RawOptions {
        let mut out = RawOptions::default();
        for &k in id.keys() {
            self.copy(k, &mut out);
        }
        out
    }

    /// The names of the options set here that none of `ids` takes.
    pub fn unused_by(&self, ids: &[MethodId]) -> Vec<&'static str> {
        self.keys()
            .into_iter()
            .filter(|k| !ids.iter().any(|id| id.keys().contains(k)))
            .map(Key::name)
            .collect()
    }

    /// The fields that are set.
    fn keys(&self) -> Vec<Key> {
        let set = [
            (self.model.is_some(), Key::Model),
            (self.interval.is_some(), Key::Interval),
            (self.level.is_some(), Key::Level),
            (self.pthresh.is_some(), Key::Pthresh),
            (self.maxorder.is_some(), Key::Maxorder),
            (self.ntop.is_some(), Key::Ntop),
            (self.classes.is_some(), Key::K),
            (self.burnin.is_some(), Key::Burnin),
            (self.samples.is_some(), Key::Samples),
            (self.thinning.is_some(), Key::Thinning),
            (self.chains.is_some(), Key::Chains),
            (self.start.is_some(), Key::Start),
            (self.prior.is_some(), Key::Prior),
            (self.prior_variance.is_some(), Key::PriorVariance),
            (self.threshold.is_some(), Key::Threshold),
            (self.combine.is_some(), Key::Combine),
            (self.covariates.is_some(), Key::Covariates),
            (self.baseline.is_some(), Key::Baseline),
        ];
        set.iter().filter(|s| s.0).map(|s| s.1).collect()
    }

    /// Reads the value of `key` from a job's method object.
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: Key,
        map: &mut A,
    ) -> std::result::Result<(), A::Error> {
        fn put<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
            slot: &mut Option<T>,
            key: Key,
            map: &mut A,
        ) -> std::result::Result<(), A::Error> {
            if slot.is_some() {
                return Err(de::Error::duplicate_field(key.name()));
            }
            *slot = Some(map.next_value()?);
            Ok(())
        }
        match key {
            Key::Id => Err(de::Error::duplicate_field("id")),
            Key::Model => put(&mut self.model, key, map),
            Key::Interval => put(&mut self.interval, key, map),
            Key::Level => put(&mut self.level, key, map),
            Key::Pthresh => put(&mut self.pthresh, key, map),
            Key::Maxorder => put(&mut self.maxorder, key, map),
            Key::Ntop => put(&mut self.ntop, key, map),
            Key::K => put(&mut self.classes, key, map),
            Key::Burnin => put(&mut self.burnin, key, map),
            Key::Samples => put(&mut self.samples, key, map),
            Key::Thinning => put(&mut self.thinning, key, map),
            Key::Chains => put(&mut self.chains, key, map),
            Key::Start => put(&mut self.start, key, map),
            Key::Prior => put(&mut self.prior, key, map),
            Key::PriorVariance => put(&mut self.prior_variance, key, map),
            Key::Threshold => put(&mut self.threshold, key, map),
            Key::Combine => put(&mut self.combine, key, map),
            Key::Covariates => put(&mut self.covariates, key, map),
            Key::Baseline => put(&mut self.baseline, key, map),
        }
    }
}

/// Level and interval kind: what the log-linear and closed families take.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FitChoice {
    /// Interval level (default: the job's).
    pub level: Option<Level>,
    /// Interval kind (default: the job's).
    pub interval: Option<IntervalKind>,
}

/// `loglinear`: a model and the fit choices.
#[derive(Debug, Clone, PartialEq)]
pub struct LoglinearOptions {
    /// The model SPEC (`[12,23]`, `[LA:NG,PF]`).
    pub model: String,
    /// Level and interval.
    pub fit: FitChoice,
}

/// `stepwise`: the p-value threshold and the fit choices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepwiseOptions {
    /// Level and interval.
    pub fit: FitChoice,
    /// Add a two-list effect while its p-value is below this (default 0.02).
    pub pthresh: Option<PValue>,
}

/// `bic`: the search's reach and report length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BicOptions {
    /// Level and interval.
    pub fit: FitChoice,
    /// Highest interaction order searched (default by number of lists).
    pub maxorder: Option<Order>,
    /// Best models reported (default 5).
    pub ntop: Option<Top>,
}

/// `lcmcr`: the sampler's settings as given (defaults in [`LcmcrOptions`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LcmcrChoice {
    /// Interval level.
    pub level: Option<Level>,
    /// Latent classes K.
    pub classes: Option<Classes>,
    /// Burn-in iterations per chain.
    pub burnin: Option<Iterations>,
    /// Draws kept per chain.
    pub samples: Option<Iterations>,
    /// Iterations between kept draws.
    pub thinning: Option<Iterations>,
    /// Chains.
    pub chains: Option<Chains>,
    /// Where the chains start.
    pub start: Option<Start>,
}

/// `bayes-threshold`: the sampler's and the threshold's settings as given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThresholdChoice {
    /// Interval level.
    pub level: Option<Level>,
    /// 2 (pairs) or 3 (also the triples whose pairs were kept).
    pub maxorder: Option<Order>,
    /// Burn-in iterations per chain and fit.
    pub burnin: Option<Iterations>,
    /// Draws kept per chain and fit.
    pub samples: Option<Iterations>,
    /// Iterations between kept draws.
    pub thinning: Option<Iterations>,
    /// Chains.
    pub chains: Option<Chains>,
    /// Prior of the interactions.
    pub prior: Option<PriorKind>,
    /// Variance of the normal prior.
    pub prior_variance: Option<Positive>,
    /// |posterior mean / sd| below which an interaction is dropped.
    pub threshold: Option<Positive>,
}

/// `pooled`: its stepwise family's threshold, its LCMCR family's sampler and the rule that
/// combines them (defaults in `pooled.rs`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PooledChoice {
    /// Interval level.
    pub level: Option<Level>,
    /// Stepwise p-value threshold (default 0.02).
    pub pthresh: Option<PValue>,
    /// LCMCR's latent classes K.
    pub classes: Option<Classes>,
    /// LCMCR's burn-in iterations per chain.
    pub burnin: Option<Iterations>,
    /// LCMCR's draws kept per chain.
    pub samples: Option<Iterations>,
    /// LCMCR's iterations between kept draws.
    pub thinning: Option<Iterations>,
    /// LCMCR's chains.
    pub chains: Option<Chains>,
    /// Mixture of the draws (default) or union of the intervals.
    pub combine: Option<Combine>,
}

/// A method with the options of its family.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Rcapture's closed models.
    Closed(ClosedModel, FitChoice),
    /// A given log-linear model.
    Loglinear(LoglinearOptions),
    /// Main effects only.
    Main(FitChoice),
    /// Forward selection by p-value.
    Stepwise(StepwiseOptions),
    /// Forward selection by AIC.
    StepwiseAic(FitChoice),
    /// Every hierarchical model ranked by BIC.
    Bic(BicOptions),
    /// Decomposable graphical models averaged.
    Dga(Option<Level>),
    /// Latent classes.
    Lcmcr(LcmcrChoice),
    /// Bayesian thresholding.
    BayesThreshold(ThresholdChoice),
    /// Lincoln–Petersen per pair.
    Petersen(Option<Level>),
    /// Chapman per pair.
    Chapman(Option<Level>),
    /// A sample-coverage estimator.
    Coverage(Estimator, Option<Level>),
    /// Stepwise and LCMCR draws pooled.
    Pooled(PooledChoice),
    /// The procedure the simulation grid chose.
    Recommended(Option<Level>),
    /// A zero-truncated single-source regression.
    SingleSource(Model, SingleSourceChoice),
}

/// A single-source regression's level and formula.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SingleSourceChoice {
    /// Interval level.
    pub level: Option<Level>,
    /// Covariates and reference levels.
    pub formula: Formula,
}

/// What a run takes from the job around the method.
#[derive(Debug, Clone)]
pub struct Context {
    /// The job's level (a method's own level wins).
    pub level: Level,
    /// The job's interval kind (a method's own kind wins).
    pub interval: IntervalKind,
    /// The master seed of the method's random streams.
    pub seed: u64,
    /// Repeat the method in a bootstrap (only for methods that can be repeated).
    pub bootstrap: Option<BootOptions>,
    /// Called with the number of bootstrap replicates finished.
    pub progress: Option<ProgressFn>,
    /// Fit empty-margin terms as R's glm leaves them (see [`Settings::glm_compat`]): for
    /// reproducing Rcapture digit for digit, not a job option.
    pub glm_compat: bool,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            level: Level::DEFAULT,
            interval: IntervalKind::Profile,
            seed: crate::montecarlo::DEFAULT_SEED,
            bootstrap: None,
            progress: None,
            glm_compat: false,
        }
    }
}

impl Method {
    /// The method with no options of its own (every default).
    pub fn plain(id: MethodId) -> Result<Method> {
        Method::from_raw(id, RawOptions::default()).map_err(Error::Usage)
    }

    /// Builds a method from its id and the options given; an option of another family, or a
    /// missing required one, is an error.
    pub fn from_raw(id: MethodId, r: RawOptions) -> std::result::Result<Method, String> {
        if let Some(k) = r.keys().into_iter().find(|k| !id.keys().contains(k)) {
            return Err(id.foreign(k));
        }
        let fit = FitChoice {
            level: r.level,
            interval: r.interval,
        };
        Ok(match id {
            MethodId::Closed(m) => Method::Closed(m, fit),
            MethodId::Loglinear => Method::Loglinear(LoglinearOptions {
                model: r.model.ok_or(
                    "method loglinear needs a model: \"model\": \"[12,23]\" in a job, --model \"[12,23]\" on the command line",
                )?,
                fit,
            }),
            MethodId::Main => Method::Main(fit),
            MethodId::Stepwise => Method::Stepwise(StepwiseOptions {
                fit,
                pthresh: r.pthresh,
            }),
            MethodId::StepwiseAic => Method::StepwiseAic(fit),
            MethodId::Bic => Method::Bic(BicOptions {
                fit,
                maxorder: r.maxorder,
                ntop: r.ntop,
            }),
            MethodId::Dga => Method::Dga(r.level),
            MethodId::Lcmcr => Method::Lcmcr(LcmcrChoice {
                level: r.level,
                classes: r.classes,
                burnin: r.burnin,
                samples: r.samples,
                thinning: r.thinning,
                chains: r.chains,
                start: r.start,
            }),
            MethodId::BayesThreshold => Method::BayesThreshold(ThresholdChoice {
                level: r.level,
                maxorder: r.maxorder,
                burnin: r.burnin,
                samples: r.samples,
                thinning: r.thinning,
                chains: r.chains,
                prior: r.prior,
                prior_variance: r.prior_variance,
                threshold: r.threshold,
            }),
            MethodId::Petersen => Method::Petersen(r.level),
            MethodId::Chapman => Method::Chapman(r.level),
            MethodId::Coverage(e) => Method::Coverage(e, r.level),
            MethodId::Pooled => Method::Pooled(PooledChoice {
                level: r.level,
                pthresh: r.pthresh,
                classes: r.classes,
                burnin: r.burnin,
                samples: r.samples,
                thinning: r.thinning,
                chains: r.chains,
                combine: r.combine,
            }),
            MethodId::Recommended => Method::Recommended(r.level),
            MethodId::SingleSource(m) => Method::SingleSource(
                m,
                SingleSourceChoice {
                    level: r.level,
                    formula: Formula {
                        covariates: r.covariates.unwrap_or_default(),
                        baseline: r.baseline.unwrap_or_default(),
                    },
                },
            ),
        })
    }

    /// The options as written (what the result JSON echoes).
    pub fn to_raw(&self) -> RawOptions {
        let fit = |f: &FitChoice| RawOptions {
            level: f.level,
            interval: f.interval,
            ..RawOptions::default()
        };
        let level = |l: &Option<Level>| RawOptions {
            level: *l,
            ..RawOptions::default()
        };
        match self {
            Method::Closed(_, f) | Method::Main(f) | Method::StepwiseAic(f) => fit(f),
            Method::Loglinear(o) => RawOptions {
                model: Some(o.model.clone()),
                ..fit(&o.fit)
            },
            Method::Stepwise(o) => RawOptions {
                pthresh: o.pthresh,
                ..fit(&o.fit)
            },
            Method::Bic(o) => RawOptions {
                maxorder: o.maxorder,
                ntop: o.ntop,
                ..fit(&o.fit)
            },
            Method::Dga(l)
            | Method::Petersen(l)
            | Method::Chapman(l)
            | Method::Coverage(_, l)
            | Method::Recommended(l) => level(l),
            Method::Lcmcr(o) => RawOptions {
                level: o.level,
                classes: o.classes,
                burnin: o.burnin,
                samples: o.samples,
                thinning: o.thinning,
                chains: o.chains,
                start: o.start,
                ..RawOptions::default()
            },
            Method::BayesThreshold(o) => RawOptions {
                level: o.level,
                maxorder: o.maxorder,
                burnin: o.burnin,
                samples: o.samples,
                thinning: o.thinning,
                chains: o.chains,
                prior: o.prior,
                prior_variance: o.prior_variance,
                threshold: o.threshold,
                ..RawOptions::default()
            },
            Method::SingleSource(_, o) => RawOptions {
                level: o.level,
                covariates: (!o.formula.covariates.is_empty())
                    .then(|| o.formula.covariates.clone()),
                baseline: (!o.formula.baseline.is_empty()).then(|| o.formula.baseline.clone()),
                ..RawOptions::default()
            },
            Method::Pooled(o) => RawOptions {
                level: o.level,
                pthresh: o.pthresh,
                classes: o.classes,
                burnin: o.burnin,
                samples: o.samples,
                thinning: o.thinning,
                chains: o.chains,
                combine: o.combine,
                ..RawOptions::default()
            },
        }
    }

    /// The method's id.
    pub fn id(&self) -> MethodId {
        match self {
            Method::Closed(m, _) => MethodId::Closed(*m),
            Method::Loglinear(_) => MethodId::Loglinear,
            Method::Main(_) => MethodId::Main,
            Method::Stepwise(_) => MethodId::Stepwise,
            Method::StepwiseAic(_) => MethodId::StepwiseAic,
            Method::Bic(_) => MethodId::Bic,
            Method::Dga(_) => MethodId::Dga,
            Method::Lcmcr(_) => MethodId::Lcmcr,
            Method::BayesThreshold(_) => MethodId::BayesThreshold,
            Method::Petersen(_) => MethodId::Petersen,
            Method::Chapman(_) => MethodId::Chapman,
            Method::Coverage(e, _) => MethodId::Coverage(*e),
            Method::Pooled(_) => MethodId::Pooled,
            Method::Recommended(_) => MethodId::Recommended,
            Method::SingleSource(m, _) => MethodId::SingleSource(*m),
        }
    }

    /// Whether it fits frequencies of capture as well as tables.
    pub fn takes_frequencies(&self) -> bool {
        matches!(self, Method::Closed(m, _) if m.frequency_ok())
    }

    /// Whether the bootstrap can repeat the whole method (model choice included).
    pub fn bootstrappable(&self) -> bool {
        self.id().bootstrappable()
    }

    /// Whether it draws random numbers even without a bootstrap (a posterior sampler).
    pub fn needs_seed(&self) -> bool {
        self.id().needs_seed()
    }

    /// A notice, before the method starts, of work that grows exponentially with the number
    /// of lists and may take minutes on these data, worded to follow `ID: ` (the
    /// binary prints it; None when the work is small, or when the method will refuse the
    /// data anyway).
    pub fn advance_notice(&self, data: &Dataset) -> Option<String> {
        if let Method::Recommended(_) = self {
            return Method::recommended().ok()?.0.advance_notice(data);
        }
        let Dataset::Table(t) = data else {
            return None;
        };
        let k = t.k();
        if k > MAX_DENSE_LISTS {
            return None;
        }
        let id = self.id();
        if let Method::Bic(o) = self
            && k >= 2
        {
            let maxorder = o
                .maxorder
                .map(|m| m.get())
                .unwrap_or_else(|| super::bic::default_maxorder(k));
            if maxorder < k && super::bic::enumerate(k, maxorder, NOTICE_MODELS).is_none() {
                return Some(format!(
                    "more than {NOTICE_MODELS} hierarchical models on {k} lists up to order \
                     {maxorder} are searched; this can take minutes (a smaller maxorder is faster)"
                ));
            }
        }
        let dense = !matches!(
            id,
            MethodId::Petersen | MethodId::Chapman | MethodId::Lcmcr | MethodId::Dga
        );
        if dense && k >= NOTICE_LISTS {
            return Some(format!(
                "all {} cells of the {k}-list table are fitted{}; this can take minutes",
                (1u64 << k) - 1,
                if matches!(
                    id,
                    MethodId::Stepwise | MethodId::StepwiseAic | MethodId::Pooled
                ) {
                    ", once for every candidate term at every step"
                } else {
                    ", and refitted for the interval"
                }
            ));
        }
        None
    }

    /// The settings of a fit under this method in this context.
    pub fn settings(&self, ctx: &Context) -> Settings {
        let (level, interval) = match self {
            Method::Closed(_, f) | Method::Main(f) | Method::StepwiseAic(f) => {
                (f.level, f.interval)
            }
            Method::Loglinear(o) => (o.fit.level, o.fit.interval),
            Method::Stepwise(o) => (o.fit.level, o.fit.interval),
            Method::Bic(o) => (o.fit.level, o.fit.interval),
            Method::Dga(l) | Method::Petersen(l) | Method::Chapman(l) | Method::Coverage(_, l) => {
                (*l, None)
            }
            Method::Lcmcr(o) => (o.level, None),
            Method::BayesThreshold(o) => (o.level, None),
            Method::Pooled(o) => (o.level, None),
            Method::Recommended(l) => (*l, None),
            Method::SingleSource(_, o) => (o.level, None),
        };
        Settings {
            level: level.unwrap_or(ctx.level),
            interval: interval.unwrap_or(ctx.interval),
            glm_compat: ctx.glm_compat,
            ..Settings::default()
        }
    }

    /// Runs the method; a method may return several estimates (one per pair of lists, the
    /// best models of a search).
    pub fn run(&self, data: &Dataset, ctx: &Context) -> Result<Vec<Estimate>> {
        let mut out = self.run_plain(data, &self.settings(ctx), ctx.seed)?;
        if let Some(b) = ctx.bootstrap {
            if !self.bootstrappable() {
                return Err(Error::Usage(format!(
                    "the bootstrap repeats a log-linear method with its model choice, or gives a sample-coverage estimate its s.e.; method {} is neither",
                    self.id()
                )));
            }
            if let Method::SingleSource(m, o) = self {
                let counts = self.counts(data)?;
                for est in &mut out {
                    singlesource::boot::attach(
                        &counts,
                        *m,
                        &o.formula,
                        est,
                        &self.settings(ctx),
                        ctx.progress.as_ref(),
                        b,
                    )?;
                }
            } else {
                let table = self.table(data)?;
                for est in &mut out {
                    self.bootstrap(table, est, ctx, b)?;
                }
            }
        }
        for est in &mut out {
            est.bound_population();
        }
        Ok(out)
    }

    /// Repeats the method in a bootstrap of `est`. BIC's replicates choose among the data's
    /// `ntop` models (refitting all 2^15 would make the bootstrap a thousand times dearer);
    /// the others repeat the whole method.
    fn bootstrap(
        &self,
        table: &CaptureTable,
        est: &mut Estimate,
        ctx: &Context,
        b: BootOptions,
    ) -> Result<()> {
        let Some(point) = super::bootstrapped::point_of(est) else {
            return Ok(());
        };
        let settings = self.settings(ctx);
        if let Method::Coverage(which, _) = self {
            return coverage::attach_bootstrap(
                table,
                est,
                *which,
                settings.level,
                ctx.progress.as_ref(),
                b,
            );
        }
        let inner = Settings {
            interval: IntervalKind::None,
            ..settings
        };
        let data = Dataset::Table(table.clone());
        let candidates: Vec<ModelSpec> = match self {
            Method::Bic(_) => self
                .run_plain(&data, &inner, ctx.seed)?
                .iter()
                .filter_map(|e| e.model.as_ref())
                .filter_map(|m| ModelSpec::parse(m, table.lists()).ok())
                .collect(),
            _ => Vec::new(),
        };
        let estimator = |t: &CaptureTable| -> Option<f64> {
            if let Method::Bic(_) = self {
                return candidates
                    .iter()
                    .filter_map(|ms| super::loglinear::fit_spec(t, ms, &inner, "bic").ok())
                    .filter(|e| e.status == Status::Ok)
                    .filter_map(|e| Some((e.fit.as_ref()?.bic, e.population?)))
                    .min_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|x| x.1);
            }
            self.run_plain(&Dataset::Table(t.clone()), &inner, ctx.seed)
                .ok()?
                .into_iter()
                .next()
                .filter(|e| e.status == Status::Ok)?
                .population
        };
        super::bootstrapped::attach(
            table,
            est,
            point,
            &settings,
            ctx.progress.as_ref(),
            b,
            &estimator,
        )
    }

    /// The procedure `recommended` runs, as the compiled-in evidence names it: the method
    /// and its bootstrap (whose seed is the run's).
    pub fn recommended() -> Result<(Method, Option<BootOptions>)> {
        Method::from_evidence(&recommended::evidence()?.procedure)
    }

    /// Every candidate procedure of the compiled-in evidence: its name, method and
    /// bootstrap (whose seed is the run's).
    pub fn candidates() -> Result<Vec<(String, Method, Option<BootOptions>)>> {
        recommended::evidence()?
            .candidates
            .iter()
            .map(|c| {
                let (m, b) = Method::from_evidence(&c.procedure)?;
                Ok((c.name.clone(), m, b))
            })
            .collect()
    }

    /// A procedure as the evidence writes it.
    fn from_evidence(p: &recommended::ChosenProcedure) -> Result<(Method, Option<BootOptions>)> {
        let m: Method = serde_json::from_value(p.method.clone()).map_err(|err| {
            Error::Numerical(format!(
                "the compiled-in evidence names a method that cannot be read: {err}"
            ))
        })?;
        if m.id() == MethodId::Recommended {
            return Err(Error::Numerical(
                "the compiled-in evidence names recommended itself".into(),
            ));
        }
        let boot = p.bootstrap.map(|b| BootOptions {
            replicates: b.get(),
            seed: 0,
            kind: p.bootstrap_kind,
        });
        Ok((m, boot))
    }

    /// `pooled`: the stepwise family with its parametric bootstrap and the LCMCR family,
    /// each on its own stream of `seed`, combined.
    fn pooled(
        &self,
        table: &CaptureTable,
        o: &PooledChoice,
        level: Level,
        seed: u64,
    ) -> Result<Estimate> {
        // Both families must be able to run: a table one of them refuses is refused whole,
        // not answered by the other alone.
        let k = table.k();
        if !(2..=MAX_DENSE_LISTS).contains(&k) {
            return Err(Error::Usage(format!(
                "method pooled needs 2 to {MAX_DENSE_LISTS} lists (its stepwise family fits every cell); the table has {k}"
            )));
        }
        let data = Dataset::Table(table.clone());
        let replicates = pooled::replicates(level.get());
        let stepwise = Method::Stepwise(StepwiseOptions {
            fit: FitChoice::default(),
            pthresh: o.pthresh,
        });
        let sw_seed = derive_seed(seed, 1);
        let ctx = Context {
            level,
            seed: sw_seed,
            bootstrap: Some(BootOptions {
                replicates,
                seed: sw_seed,
                kind: BootKind::Parametric,
            }),
            ..Context::default()
        };
        let sw = stepwise.run(&data, &ctx).and_then(|v| {
            v.into_iter()
                .next()
                .ok_or_else(|| Error::Numerical("stepwise gave no estimate".into()))
        });
        let lc = lcmcr_estimate(table, &o.lcmcr(derive_seed(seed, 2)), level);
        Ok(pooled::combine(
            table.observed(),
            vec![("stepwise", sw), ("lcmcr", lc)],
            o.combine.unwrap_or_default(),
            level,
            replicates,
        ))
    }

    /// The capture table the method needs.
    pub(crate) fn table<'a>(&self, data: &'a Dataset) -> Result<&'a CaptureTable> {
        match data {
            Dataset::Table(t) => Ok(t),
            Dataset::Frequency(_) => Err(Error::Usage(format!(
                "method {} needs capture histories (a table or records CSV), not frequencies",
                self.id()
            ))),
            Dataset::Counts(_) => Err(Error::Usage(format!(
                "method {} needs capture histories (a table or records CSV), not one register's counts",
                self.id()
            ))),
        }
    }

    /// The single-source counts the method needs (frequencies are counts without
    /// covariates).
    pub(crate) fn counts<'a>(&self, data: &'a Dataset) -> Result<Cow<'a, CountData>> {
        match data {
            Dataset::Counts(c) => Ok(Cow::Borrowed(c)),
            Dataset::Frequency(f) => Ok(Cow::Owned(f.as_counts("frequencies"))),
            Dataset::Table(_) => Err(Error::Usage(format!(
                "method {} needs one register's counts of times each person was recorded (a count CSV with --count-column, or a frequency CSV), not capture histories",
                self.id()
            ))),
        }
    }

    /// Runs the method without the bootstrap.
    pub(crate) fn run_plain(
        &self,
        data: &Dataset,
        s: &Settings,
        seed: u64,
    ) -> Result<Vec<Estimate>> {
        use super::{bayes_threshold, bic, dga, lcmcr, loglinear, stepwise, twolist};
        // Only the closed family also fits frequencies; every other family needs the table.
        let table = || self.table(data);
        Ok(match self {
            Method::Closed(m, _) => vec![closed::estimate(*m, data, s)?],
            Method::SingleSource(m, o) => {
                vec![singlesource::estimate(
                    self.counts(data)?.as_ref(),
                    *m,
                    &o.formula,
                    s,
                )?]
            }
            Method::Loglinear(o) => vec![loglinear::estimate_spec(
                table()?,
                &o.model,
                s,
                "loglinear",
            )?],
            Method::Main(_) => vec![loglinear::estimate_spec(table()?, "[]", s, "main")?],
            Method::Stepwise(o) => vec![stepwise::estimate(
                table()?,
                s,
                stepwise::Rule::PValue(o.pthresh.map_or(stepwise::DEFAULT_PTHRESH, PValue::get)),
            )?],
            Method::StepwiseAic(_) => vec![stepwise::estimate(table()?, s, stepwise::Rule::Aic)?],
            Method::Bic(o) => bic::estimate(
                table()?,
                s,
                o.maxorder.map(Order::get),
                o.ntop.map_or(bic::DEFAULT_NTOP, Top::get),
            )?,
            Method::Dga(_) => vec![dga::estimate(table()?, s.level)?],
            Method::Lcmcr(o) => vec![lcmcr::estimate(table()?, &o.resolve(seed), s.level)?],
            Method::BayesThreshold(o) => {
                vec![bayes_threshold::estimate(
                    table()?,
                    &o.resolve(seed),
                    s.level,
                )?]
            }
            Method::Petersen(_) => {
                twolist::estimate_pairs(twolist::Kind::Petersen, table()?, s.level)?
            }
            Method::Chapman(_) => {
                twolist::estimate_pairs(twolist::Kind::Chapman, table()?, s.level)?
            }
            Method::Pooled(o) => vec![self.pooled(table()?, o, s.level, seed)?],
            Method::Coverage(which, _) => vec![coverage::estimate(table()?, *which, s.level)?],
            Method::Recommended(_) => {
                let e = recommended::evidence()?;
                let (inner, bootstrap) = Method::recommended()?;
                let ctx = Context {
                    level: s.level,
                    seed,
                    bootstrap: bootstrap.map(|b| BootOptions { seed, ..b }),
                    glm_compat: s.glm_compat,
                    ..Context::default()
                };
                let est = inner.run(data, &ctx)?.into_iter().next().ok_or_else(|| {
                    Error::Numerical(format!("method {} gave no estimate", inner.id()))
                })?;
                vec![recommended::present(est, e, s.level)]
            }
        })
    }
}

/// Whether a closed model has a heterogeneity term (which needs 3 lists or occasions).
fn heterogeneous(m: &ClosedModel) -> bool {
    matches!(m, ClosedModel::Mh(_) | ClosedModel::Mth(_))
}

/// Most draws LCMCR keeps over all chains (`samples` × `chains`), as `lcmcr::estimate`
/// allows.
const LCMCR_MAX_DRAWS: u64 = 100_000_000;
/// Most draws bayes-threshold keeps of every coefficient, as its estimator allows.
const THRESHOLD_MAX_DRAWS: u64 = 10_000_000;

impl Method {
    /// The rules among a method's own options (beyond each value's range, which its type
    /// holds). An error is `Error::At` the option's field, relative to the method object.
    pub fn check_options(&self) -> Result<()> {
        let sampler = |samples: u64, thinning: u64, chains: u64, max: u64| -> Result<()> {
            if samples < 4 {
                return Err(Error::at(
                    "samples",
                    format!("expected at least 4 draws kept per chain, found {samples}"),
                ));
            }
            if thinning == 0 {
                return Err(Error::at(
                    "thinning",
                    "expected at least 1 iteration between kept draws, found 0",
                ));
            }
            if samples.saturating_mul(chains) > max {
                return Err(Error::at(
                    "samples",
                    format!(
                        "expected at most {max} draws kept over all chains (samples × chains), found {samples} × {chains}; raise thinning instead"
                    ),
                ));
            }
            Ok(())
        };
        match self {
            Method::Recommended(_) => Method::recommended()?.0.check_options(),
            Method::Lcmcr(o) => {
                let r = o.resolve(0);
                sampler(
                    r.samples as u64,
                    r.thinning as u64,
                    r.chains as u64,
                    LCMCR_MAX_DRAWS,
                )
            }
            Method::Pooled(o) => {
                let r = o.lcmcr(0);
                sampler(
                    r.samples as u64,
                    r.thinning as u64,
                    r.chains as u64,
                    LCMCR_MAX_DRAWS,
                )
            }
            Method::BayesThreshold(o) => {
                if let Some(m) = o.maxorder.map(Order::get).filter(|m| !(2..=3).contains(m)) {
                    return Err(Error::at(
                        "maxorder",
                        format!("expected 2 (pairs) or 3 (also triples), found {m}"),
                    ));
                }
                if o.prior == Some(PriorKind::Flat) && o.prior_variance.is_some() {
                    return Err(Error::at(
                        "prior_variance",
                        "expected a prior variance only with the normal prior, found it with the flat prior",
                    ));
                }
                let r = o.resolve(0);
                sampler(
                    r.samples as u64,
                    r.thinning as u64,
                    r.chains as u64,
                    THRESHOLD_MAX_DRAWS,
                )
            }
            _ => Ok(()),
        }
    }

    /// Whether the method can run on these data: the kind of data, the number of lists
    /// (or occasions) and the options that depend on them (a model's lists, a maximum
    /// order). Checked before any method runs, so that a job the data cannot serve stops
    /// with exit code 2 instead of running half. An error is `Error::At` a field relative
    /// to the method object (`id` when the method itself does not fit).
    pub fn check_data(&self, data: &Dataset) -> Result<()> {
        if let Method::Recommended(_) = self {
            let inner = Method::recommended()?.0;
            return inner.check_data(data).map_err(|e| match e {
                Error::At { message, .. } => Error::at(
                    "id",
                    format!("method recommended runs {}: {message}", inner.id()),
                ),
                other => other,
            });
        }
        let id = self.id();
        if let Method::SingleSource(_, o) = self {
            return match data {
                Dataset::Counts(c) => {
                    singlesource::fit::Design::new(c, &o.formula.covariates, &o.formula.baseline)
                        .map(|_| ())
                }
                Dataset::Frequency(_) if !o.formula.covariates.is_empty() => Err(Error::at(
                    "covariates",
                    "expected no covariates with a frequency table (it has none: one row per person is needed, a count CSV with --count-column)",
                )),
                Dataset::Frequency(_) => Ok(()),
                Dataset::Table(_) => Err(Error::at(
                    "id",
                    format!(
                        "method {id} needs one register's counts of times each person was recorded (a count CSV with --count-column, or a frequency CSV), not capture histories"
                    ),
                )),
            };
        }
        let table = match (self, data) {
            (Method::Closed(m, _), Dataset::Frequency(f)) => {
                if !m.frequency_ok() {
                    return Err(Error::at(
                        "id",
                        format!(
                            "method {id} needs capture histories (a table or records CSV); frequency data support only {}",
                            closed::FREQUENCY_IDS.join(", ")
                        ),
                    ));
                }
                let t = match f.occasions {
                    Some(crate::data::Occasions::Finite(t)) => t as usize,
                    Some(crate::data::Occasions::Infinite) => f.max_captures(),
                    // The job's check names the missing "occasions".
                    None => return Ok(()),
                };
                let need = if heterogeneous(m) { 3 } else { 2 };
                if t < need {
                    return Err(Error::at(
                        "id",
                        format!("method {id} needs at least {need} occasions; the data have {t}"),
                    ));
                }
                return Ok(());
            }
            (_, Dataset::Frequency(_)) => {
                return Err(Error::at(
                    "id",
                    format!(
                        "method {id} needs capture histories (a table or records CSV), not frequencies"
                    ),
                ));
            }
            (Method::Closed(m, _), Dataset::Counts(c)) if m.frequency_ok() => {
                let t = c.frequencies().len();
                let need = if heterogeneous(m) { 3 } else { 2 };
                if t < need {
                    return Err(Error::at(
                        "id",
                        format!(
                            "method {id} on one register's counts needs someone recorded at least {need} times; the most is {t}"
                        ),
                    ));
                }
                return Ok(());
            }
            (_, Dataset::Counts(_)) => {
                return Err(Error::at(
                    "id",
                    format!(
                        "method {id} needs capture histories (a table or records CSV), not one register's counts; the single-source methods are {}",
                        MODELS.iter().map(|m| m.0).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            (_, Dataset::Table(t)) => t,
        };
        let k = table.k();
        let (least, most) = match self {
            Method::Closed(m, _) if heterogeneous(m) => (3, usize::MAX),
            Method::Coverage(..) => (3, usize::MAX),
            Method::Dga(_) => (3, 6),
            _ => (2, usize::MAX),
        };
        if k < least || k > most {
            let range = if most == usize::MAX {
                format!("at least {least} lists")
            } else {
                format!("{least} to {most} lists")
            };
            return Err(Error::at(
                "id",
                format!("method {id} needs {range}; the data have {k}"),
            ));
        }
        let dense = match self {
            Method::Closed(m, _) => !m.frequency_ok(),
            Method::SingleSource(..) => false,
            Method::Loglinear(_)
            | Method::Main(_)
            | Method::Stepwise(_)
            | Method::StepwiseAic(_)
            | Method::Bic(_)
            | Method::BayesThreshold(_)
            | Method::Pooled(_) => true,
            Method::Dga(_)
            | Method::Lcmcr(_)
            | Method::Petersen(_)
            | Method::Chapman(_)
            | Method::Coverage(..)
            | Method::Recommended(_) => false,
        };
        if dense && k > MAX_DENSE_LISTS {
            return Err(Error::at(
                "id",
                format!(
                    "method {id} needs all 2^k - 1 cells of the table, and {k} lists is more than the {MAX_DENSE_LISTS} supported; M0, the Mh models and lcmcr work with more lists, or merge lists"
                ),
            ));
        }
        match self {
            Method::Loglinear(o) => ModelSpec::parse(&o.model, table.lists())
                .map(|_| ())
                .map_err(|e| Error::at("model", e.to_string())),
            Method::Bic(o) => match o.maxorder.map(Order::get) {
                Some(m) if m >= k => Err(Error::at(
                    "maxorder",
                    format!(
                        "expected a maximum order from 1 to {} for {k} lists (the {k}-way term is never identifiable), found {m}",
                        k - 1
                    ),
                )),
                _ => Ok(()),
            },
            Method::BayesThreshold(o) if o.maxorder.map(Order::get) == Some(3) && k < 3 => {
                Err(Error::at(
                    "maxorder",
                    format!("expected 2: triples need 3 or more lists, and the data have {k}"),
                ))
            }
            Method::BayesThreshold(o) => {
                super::bayes_threshold::check_design(table, o.maxorder.map_or(2, Order::get))
            }
            Method::Dga(_) => super::dga::check_size(table).map(|_| ()),
            _ => Ok(()),
        }
    }
}

impl LcmcrChoice {
    /// The sampler's settings: the given ones over the defaults, with the job's seed.
    pub fn resolve(&self, seed: u64) -> LcmcrOptions {
        let d = LcmcrOptions::default();
        LcmcrOptions {
            k: self.classes.map_or(d.k, Classes::get),
            burnin: self.burnin.map_or(d.burnin, Iterations::get),
            samples: self.samples.map_or(d.samples, Iterations::get),
            thinning: self.thinning.map_or(d.thinning, Iterations::get),
            chains: self.chains.map_or(d.chains, Chains::get),
            start: self.start.unwrap_or(d.start),
            seed,
            ..d
        }
    }
}

impl PooledChoice {
    /// The LCMCR family's settings: the given ones over `pooled`'s defaults, with `seed`.
    pub fn lcmcr(&self, seed: u64) -> LcmcrOptions {
        let d = LcmcrOptions {
            burnin: pooled::LCMCR_BURNIN,
            samples: pooled::LCMCR_SAMPLES,
            thinning: pooled::LCMCR_THINNING,
            chains: pooled::LCMCR_CHAINS,
            ..LcmcrOptions::default()
        };
        LcmcrOptions {
            k: self.classes.map_or(d.k, Classes::get),
            burnin: self.burnin.map_or(d.burnin, Iterations::get),
            samples: self.samples.map_or(d.samples, Iterations::get),
            thinning: self.thinning.map_or(d.thinning, Iterations::get),
            chains: self.chains.map_or(d.chains, Chains::get),
            seed,
            ..d
        }
    }
}

impl ThresholdChoice {
    /// The sampler's settings: the given ones over the defaults, with the job's seed.
    pub fn resolve(&self, seed: u64) -> ThresholdOptions {
        let d = ThresholdOptions::default();
        ThresholdOptions {
            prior: match self.prior {
                Some(PriorKind::Flat) => Prior::Flat,
                _ => Prior::Normal {
                    variance: self.prior_variance.map_or(1.0, Positive::get),
                },
            },
            threshold: self.threshold.map_or(d.threshold, Positive::get),
            maxorder: self.maxorder.map_or(d.maxorder, Order::get),
            burnin: self.burnin.map_or(d.burnin, Iterations::get),
            samples: self.samples.map_or(d.samples, Iterations::get),
            thinning: self.thinning.map_or(d.thinning, Iterations::get),
            chains: self.chains.map_or(d.chains, Chains::get),
            seed,
            ..d
        }
    }
}

/// The methods run when the user names none: Rcapture's closed family (M0 and the Mh
/// models on frequencies or on more lists than the full table allows; M0, Mt, Mb and the
/// two-list estimators on two lists).
pub fn default_methods(data: &Dataset) -> Vec<Method> {
    let ids: &[&str] = match data {
        Dataset::Frequency(_) => closed::FREQUENCY_IDS,
        Dataset::Counts(_) => &["ztpoisson", "ztgeom", "zelterman", "chao"],
        Dataset::Table(t) if t.k() > MAX_DENSE_LISTS => closed::FREQUENCY_IDS,
        Dataset::Table(t) if t.k() == 2 => &["m0", "mt", "mb", "petersen", "chapman"],
        Dataset::Table(_) => closed::TABLE_IDS,
    };
    ids.iter()
        .filter_map(|id| MethodId::parse(id).ok())
        .filter_map(|id| Method::plain(id).ok())
        .collect()
}

/// `"stepwise"` (every default) or a job's method object, `{"id": "bic", "maxorder": 2}`:
/// what tests, benches and library users write to name a method.
impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Method> {
        if s.trim_start().starts_with('{') {
            serde_json::from_str(s).map_err(|e| Error::Usage(format!("method {s}: {e}")))
        } else {
            Method::plain(MethodId::parse(s).map_err(Error::Usage)?)
        }
    }
}

impl Serialize for Method {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            id: &'static str,
            #[serde(flatten)]
            options: &'a RawOptions,
        }
        Wire {
            id: self.id().as_str(),
            options: &self.to_raw(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Method {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(MethodVisitor)
    }
}

struct MethodVisitor;

impl<'de> Visitor<'de> for MethodVisitor {
    type Value = Method;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a method object such as {\"id\": \"stepwise\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Method, A::Error> {
        let mut id: Option<MethodId> = None;
        let mut raw = RawOptions::default();
        while let Some(key) = map.next_key::<Key>()? {
            match (key, id) {
                (Key::Id, None) => {
                    let m: MethodId = map.next_value()?;
                    if let Some(k) = raw.keys().into_iter().find(|k| !m.keys().contains(k)) {
                        return Err(de::Error::custom(m.foreign(k)));
                    }
                    id = Some(m);
                }
                // Refused inside the value, so that the error's path and place are those of
                // the foreign option itself (`methods[0].K`).
                (k, Some(m)) if k != Key::Id && !m.keys().contains(&k) => {
                    return map.next_value_seed(Refuse(m.foreign(k)));
                }
                (k, _) => raw.read(k, &mut map)?,
            }
        }
        let id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        Method::from_raw(id, raw).map_err(de::Error::custom)
    }
}

/// Refuses whatever value it is given, with a message.
struct Refuse(String);

impl<'de> DeserializeSeed<'de> for Refuse {
    type Value = Method;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Method, D::Error> {
        // Going through deserialize_any lets the format place the error at the value.
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Refuse {
    type Value = Method;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Method, E> {
        Err(E::custom(self.0))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Method, E> {
        Err(E::custom(self.0))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Method, E> {
        Err(E::custom(self.0))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> std::result::Result<Method, E> {
        Err(E::custom(self.0))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<Method, E> {
        Err(E::custom(self.0))
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Method, E> {
        Err(E::custom(self.0))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> std::result::Result<Method, A::Error> {
        Err(de::Error::custom(self.0))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> std::result::Result<Method, A::Error> {
        Err(de::Error::custom(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> std::result::Result<Method, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }

    #[test]
    fn every_id_reads_and_writes_itself() {
        for id in MethodId::all() {
            let m = MethodId::parse(id).unwrap();
            assert_eq!(m.as_str(), id);
            let extra = if id == "loglinear" {
                r#", "model": "[12]""#
            } else {
                ""
            };
            let method = parse(&format!(r#"{{"id": "{id}"{extra}}}"#)).unwrap();
            assert_eq!(method.id(), m);
        }
        assert!(
            MethodId::parse("nosuch")
                .unwrap_err()
                .contains("known methods: m0")
        );
    }

    #[test]
    fn foreign_options_are_refused_wherever_they_stand() {
        let e = parse(r#"{"id": "stepwise", "K": 5}"#).unwrap_err();
        assert!(
            e.contains("option \"K\" does not belong to method stepwise"),
            "{e}"
        );
        let e = parse(r#"{"K": 5, "id": "stepwise"}"#).unwrap_err();
        assert!(
            e.contains("option \"K\" does not belong to method stepwise"),
            "{e}"
        );
        let e = parse(r#"{"id": "dga", "pthresh": 0.1}"#).unwrap_err();
        assert!(e.contains("\"pthresh\""), "{e}");
        let e = parse(r#"{"id": "stepwise", "colour": 1}"#).unwrap_err();
        assert!(e.contains("unknown field `colour`"), "{e}");
        assert!(
            parse(r#"{"id": "loglinear"}"#)
                .unwrap_err()
                .contains("needs a model")
        );
        assert!(
            parse(r#"{"id": "bic", "ntop": 2, "ntop": 3}"#)
                .unwrap_err()
                .contains("duplicate")
        );
        assert!(
            parse(r#"{"model": "[12]"}"#)
                .unwrap_err()
                .contains("missing field `id`")
        );
    }

    /// A table of `k` lists where every list overlaps every other.
    fn table(k: usize) -> CaptureTable {
        let cells = (1..1u64 << k).map(|h| (h, 3 + h % 5));
        CaptureTable::new((0..k).map(|i| format!("L{i}")).collect(), cells).unwrap()
    }

    fn light(id: &str) -> Method {
        match id {
            "loglinear" => r#"{"id": "loglinear", "model": "[12]"}"#.parse().unwrap(),
            "lcmcr" | "bayes-threshold" | "pooled" => format!(
                r#"{{"id": "{id}", "burnin": 20, "samples": 20, "thinning": 1, "chains": 1}}"#
            )
            .parse()
            .unwrap(),
            _ => id.parse().unwrap(),
        }
    }

    /// The check before a run refuses exactly what the estimators refuse: where it lets a
    /// method through, the method runs (to a number or a status); where it stops one, the
    /// estimator would have stopped it too.
    #[test]
    fn the_check_before_a_run_agrees_with_the_estimators() {
        let mut data: Vec<(String, Dataset)> = (1..=4)
            .map(|k| (format!("{k} lists"), Dataset::Table(table(k))))
            .collect();
        for occasions in [
            None,
            Some(crate::data::Occasions::Finite(2)),
            Some(crate::data::Occasions::Infinite),
        ] {
            data.push((
                format!("frequencies, occasions {occasions:?}"),
                Dataset::Frequency(crate::data::FrequencyTable {
                    occasions,
                    counts: vec![20, 6],
                }),
            ));
        }
        let ctx = Context::default();
        for id in MethodId::all() {
            let m = light(id);
            for (what, d) in &data {
                let checked = m.check_data(d);
                let ran = m.run(d, &ctx);
                // Frequencies without occasions are the job's check (its data.occasions).
                if matches!(d, Dataset::Frequency(f) if f.occasions.is_none()) && checked.is_ok() {
                    continue;
                }
                assert_eq!(
                    checked.is_ok(),
                    ran.is_ok(),
                    "{id} on {what}: check {checked:?}, run {:?}",
                    ran.err()
                );
            }
        }
        // The ends of the ranges: dga takes at most 6 lists, the full table at most 20.
        let seven = Dataset::Table(table(7));
        assert!(light("dga").check_data(&seven).is_err());
        assert!(light("dga").run(&seven, &ctx).is_err());
        let many = CaptureTable::new(
            (0..21).map(|i| format!("L{i}")).collect(),
            (0..21).map(|i| (1u64 << i, 2)),
        )
        .unwrap();
        let many = Dataset::Table(many);
        for id in ["mt", "main", "stepwise", "bayes-threshold", "pooled"] {
            assert!(light(id).check_data(&many).is_err(), "{id}");
            assert!(
                light(id).run_plain(&many, &Settings::default(), 1).is_err(),
                "{id}"
            );
        }
        assert!(light("m0").check_data(&many).is_ok());
    }

    #[test]
    fn sampler_options_are_checked_before_a_run() {
        let at = |m: &str| match m.parse::<Method>().unwrap().check_options() {
            Err(Error::At { path, .. }) => path,
            other => panic!("{m}: {other:?}"),
        };
        assert_eq!(at(r#"{"id": "lcmcr", "samples": 3}"#), "samples");
        assert_eq!(at(r#"{"id": "lcmcr", "thinning": 0}"#), "thinning");
        assert_eq!(
            at(r#"{"id": "lcmcr", "samples": 100000, "chains": 1001}"#),
            "samples"
        );
        assert_eq!(
            at(r#"{"id": "bayes-threshold", "maxorder": 4}"#),
            "maxorder"
        );
        assert_eq!(
            at(r#"{"id": "bayes-threshold", "samples": 10000, "chains": 1001}"#),
            "samples"
        );
        assert_eq!(
            at(r#"{"id": "bayes-threshold", "prior": "flat", "prior_variance": 2}"#),
            "prior_variance"
        );
        // The same limits as the samplers': one draw fewer is accepted.
        let fine: Method = r#"{"id": "lcmcr", "samples": 100000, "chains": 1000}"#
            .parse()
            .unwrap();
        assert!(fine.check_options().is_ok());
        let lc: Method =
            r#"{"id": "lcmcr", "samples": 3, "burnin": 0, "thinning": 1, "chains": 1}"#
                .parse()
                .unwrap();
        assert!(
            lc.run(&Dataset::Table(table(3)), &Context::default())
                .is_err()
        );
    }

    /// Each family's options survive the trip through the typed form, and a key it does
    /// not take is refused: the list of keys and the conversions agree.
    #[test]
    fn raw_options_round_trip_through_every_family() {
        let full = RawOptions {
            model: Some("[12]".into()),
            interval: Some(IntervalKind::WaldLog),
            level: Level::try_from(0.9).ok(),
            pthresh: PValue::try_from(0.05).ok(),
            maxorder: Order::try_from(2).ok(),
            ntop: Top::try_from(3).ok(),
            classes: Classes::try_from(4).ok(),
            burnin: Iterations::try_from(10).ok(),
            samples: Iterations::try_from(20).ok(),
            thinning: Iterations::try_from(2).ok(),
            chains: Chains::try_from(2).ok(),
            start: Some(Start::Dispersed),
            prior: Some(PriorKind::Flat),
            prior_variance: Positive::try_from(2.0).ok(),
            threshold: Positive::try_from(1.5).ok(),
            combine: Some(Combine::Union),
            covariates: Some(vec!["age".into()]),
            baseline: Some([("age".to_string(), "old".to_string())].into()),
        };
        let all = full.keys();
        assert_eq!(all.len(), KEYS.len() - 1);
        for name in MethodId::all() {
            let id = MethodId::parse(name).unwrap();
            for &k in &all {
                let mut one = RawOptions::default();
                if id == MethodId::Loglinear {
                    one.model = full.model.clone();
                }
                full.copy(k, &mut one);
                let built = Method::from_raw(id, one.clone());
                if id.keys().contains(&k) {
                    assert_eq!(built.map(|m| m.to_raw()), Ok(one), "{name} {k:?}");
                } else {
                    assert!(built.is_err(), "{name} took {k:?}");
                }
            }
        }
    }
}
