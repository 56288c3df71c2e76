//! The study file (`darkfigure.study/1`): a generating model with a known population, the
//! interval procedures to try on every dataset it draws, and how many datasets. Read by
//! `job::parse_document`, then checked whole by [`Study::check`], whose errors name the
//! JSON path of the value at fault.

use crate::checked::{Count, Replicates};
use crate::data::source::DataSpec;
use crate::error::{Error, Result};
use crate::inference::bootstrap::BootKind;
use crate::methods::{Method, MethodId};
use serde::{Deserialize, Serialize};

/// Schema tag of study files.
pub const STUDY_SCHEMA: &str = "darkfigure.study/1";

/// Datasets drawn in one study: at least one, at most a million.
pub type StudyReplicates = Count<1, 1_000_000>;

/// Most lists a generating model may have: its 2^k cells are drawn one by one.
pub const MAX_LISTS: usize = 20;

/// Largest true population a generating model may have (the multinomial draws are exact
/// at any size; this keeps every count far inside the integers the methods take).
pub const MAX_POPULATION: u64 = 1_000_000_000;

/// Largest factor by which one list may change the chance of another.
pub const MAX_FACTOR: f64 = 1000.0;

/// Largest standard deviation of the logit-normal capture propensity.
pub const MAX_LOGIT_SD: f64 = 10.0;

/// Most interval procedures in one study.
pub const MAX_PROCEDURES: usize = 100;

fn de_schema<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s == STUDY_SCHEMA {
        Ok(s)
    } else {
        Err(serde::de::Error::custom(format!(
            "expected \"{STUDY_SCHEMA}\", found \"{s}\""
        )))
    }
}

/// A simulation study.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a study object")]
pub struct Study {
    /// Must be `darkfigure.study/1`.
    #[serde(deserialize_with = "de_schema")]
    pub schema: String,
    /// Short name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the study is for, and its sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Master seed (default `montecarlo::DEFAULT_SEED`, recorded in the result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Datasets to draw.
    pub replicates: StudyReplicates,
    /// The generating model, with its true population.
    pub population: Generator,
    /// The interval procedures run on every dataset.
    pub procedures: Vec<Procedure>,
}

/// A method and the way its interval is made: the unit whose coverage a study measures.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a procedure object")]
pub struct Procedure {
    /// Name in tables (default: the method id, with `+BCa` when bootstrapped, `+bootstrap
    /// s.e.` for a sample-coverage estimator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The method with its options (the study sets the levels: no `level` here).
    pub method: Method,
    /// Bootstrap replicates (model choice repeated in each), for the log-linear methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<Replicates>,
    /// Non-parametric (default) or parametric bootstrap.
    #[serde(default, skip_serializing_if = "is_nonparametric")]
    pub bootstrap_kind: BootKind,
}

fn is_nonparametric(k: &BootKind) -> bool {
    *k == BootKind::Nonparametric
}

impl Procedure {
    /// The name shown in tables and written in the result.
    pub fn display_name(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let id = self.method.id().as_str();
        match (self.bootstrap, self.bootstrap_kind) {
            (None, _) => id.to_string(),
            // the sample-coverage estimators' bootstrap is CARE1's s.e., whatever the kind
            (Some(_), _) if matches!(self.method.id(), MethodId::Coverage(_)) => {
                format!("{id}+bootstrap s.e.")
            }
            // the single-source methods give percentile limits, as their package
            (Some(_), BootKind::Nonparametric)
                if matches!(self.method.id(), MethodId::SingleSource(_)) =>
            {
                format!("{id}+percentile")
            }
            (Some(_), BootKind::Parametric)
                if matches!(self.method.id(), MethodId::SingleSource(_)) =>
            {
                format!("{id}+parametric percentile")
            }
            (Some(_), BootKind::Nonparametric) => format!("{id}+BCa"),
            (Some(_), BootKind::Parametric) => format!("{id}+parametric BCa"),
        }
    }
}

/// A generating model: people with known capture probabilities, or a fit to real data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Generator {
    /// A method fitted to a table: N = round(N̂) and the cells drawn from the fitted cell
    /// probabilities (SparseMSE's `BICandbootstrapsim`).
    Fitted(FittedSpec),
    /// Latent classes: class shares and per-class list probabilities.
    LatentClasses(LatentSpec),
    /// A logit-normal capture propensity per person with a shift per list.
    Continuous(ContinuousSpec),
    /// List probabilities changed by being on an earlier list (referral, scooping).
    Referral(ReferralSpec),
    /// Strata, each with its own generating model; the total's coverage too.
    Strata(Vec<StratumSpec>),
}

/// `fitted`: a table and the method whose fit generates the data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a fitted object")]
pub struct FittedSpec {
    /// The data (a file relative to the study file, or a table inline).
    pub data: DataSpec,
    /// A log-linear method (`loglinear`, `main`, `stepwise`, `stepwise-aic`, `bic`).
    pub method: Method,
}

/// `latent_classes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a latent_classes object")]
pub struct LatentSpec {
    /// True number of people.
    pub population: u64,
    /// List names (default L1, L2, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists: Option<Vec<String>>,
    /// The classes.
    pub classes: Vec<ClassSpec>,
}

/// One latent class.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a class object")]
pub struct ClassSpec {
    /// Share of the population in the class (the shares add up to 1).
    pub share: f64,
    /// Probability of being on each list.
    pub probs: Vec<f64>,
}

/// `continuous`: logit P(person i on list j) = logit_mean + shifts[j] + logit_sd · zᵢ.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a continuous object")]
pub struct ContinuousSpec {
    /// True number of people.
    pub population: u64,
    /// List names (default L1, L2, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists: Option<Vec<String>>,
    /// Mean of the logit propensity.
    pub logit_mean: f64,
    /// Its standard deviation across people (0: no heterogeneity).
    pub logit_sd: f64,
    /// Shift of each list on the logit scale.
    pub shifts: Vec<f64>,
}

/// `referral`: lists are met in their order; being on an earlier list multiplies the chance
/// of a later one by `factor` (above 1: referral, below 1: negative dependence, 0:
/// scooping — the earlier list takes the person before the later one can find them).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a referral object")]
pub struct ReferralSpec {
    /// True number of people.
    pub population: u64,
    /// List names (default L1, L2, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists: Option<Vec<String>>,
    /// Probability of each list for someone on no earlier list that affects it.
    pub probs: Vec<f64>,
    /// The dependences.
    #[serde(default)]
    pub effects: Vec<EffectSpec>,
}

/// Being on list `from` multiplies the chance of list `to` by `factor`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an effect object")]
pub struct EffectSpec {
    /// The earlier list.
    pub from: String,
    /// The later list.
    pub to: String,
    /// The factor, 0 to 1000.
    pub factor: f64,
}

/// One stratum of a `strata` model.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a stratum object")]
pub struct StratumSpec {
    /// The stratum's name.
    pub name: String,
    /// Its generating model (any but `strata`).
    pub population: Generator,
}

fn at(path: impl Into<String>, message: impl Into<String>) -> Error {
    Error::At {
        path: path.into(),
        message: message.into(),
    }
}

/// The list names of a generator given `k` lists: its own, or L1…Lk.
pub fn list_names(given: &Option<Vec<String>>, k: usize) -> Vec<String> {
    given
        .clone()
        .unwrap_or_else(|| (1..=k).map(|j| format!("L{j}")).collect())
}

fn check_probability(path: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(at(
            path,
            format!("expected a probability from 0 to 1, found {p}"),
        ))
    }
}

fn check_population(path: &str, n: u64, k: usize) -> Result<()> {
    if n < k as u64 || n > MAX_POPULATION {
        return Err(at(
            path,
            format!(
                "expected a population from the number of lists ({k}) to {MAX_POPULATION}, found {n}"
            ),
        ));
    }
    Ok(())
}

fn check_lists(path: &str, lists: &Option<Vec<String>>, k: usize) -> Result<()> {
    if !(2..=MAX_LISTS).contains(&k) {
        return Err(at(
            path,
            format!("expected 2 to {MAX_LISTS} lists, found {k}"),
        ));
    }
    if let Some(l) = lists {
        if l.len() != k {
            return Err(at(
                path,
                format!(
                    "expected {k} list names (one per probability), found {}",
                    l.len()
                ),
            ));
        }
        for (i, name) in l.iter().enumerate() {
            if name.trim().is_empty() {
                return Err(at(
                    format!("{path}[{i}]"),
                    "expected a list name, found an empty string",
                ));
            }
            if l[..i].contains(name) {
                return Err(at(
                    format!("{path}[{i}]"),
                    format!("expected each list name once, found \"{name}\" again"),
                ));
            }
        }
    }
    Ok(())
}

impl Generator {
    /// The number of lists, as its parameters give it (`None` for `fitted`, whose data say).
    pub fn declared_lists(&self) -> Option<usize> {
        match self {
            Generator::Fitted(_) => None,
            Generator::LatentClasses(l) => l.classes.first().map(|c| c.probs.len()),
            Generator::Continuous(c) => Some(c.shifts.len()),
            Generator::Referral(r) => Some(r.probs.len()),
            Generator::Strata(s) => s.first().and_then(|s| s.population.declared_lists()),
        }
    }

    /// The rules of a generating model at JSON path `path`.
    pub fn check(&self, path: &str) -> Result<()> {
        match self {
            Generator::Fitted(f) => check_fitted(&format!("{path}.fitted"), f),
            Generator::LatentClasses(l) => {
                let p = format!("{path}.latent_classes");
                if l.classes.is_empty() {
                    return Err(at(
                        format!("{p}.classes"),
                        "expected at least one class, found none",
                    ));
                }
                let k = l.classes[0].probs.len();
                check_lists(&format!("{p}.classes[0].probs"), &None, k)?;
                check_lists(&format!("{p}.lists"), &l.lists, k)?;
                check_population(&format!("{p}.population"), l.population, k)?;
                let mut total = 0.0;
                for (c, class) in l.classes.iter().enumerate() {
                    let cp = format!("{p}.classes[{c}]");
                    check_probability(&format!("{cp}.share"), class.share)?;
                    total += class.share;
                    if class.probs.len() != k {
                        return Err(at(
                            format!("{cp}.probs"),
                            format!(
                                "expected {k} probabilities (as class 0 has), found {}",
                                class.probs.len()
                            ),
                        ));
                    }
                    for (j, &q) in class.probs.iter().enumerate() {
                        check_probability(&format!("{cp}.probs[{j}]"), q)?;
                    }
                }
                if (total - 1.0).abs() > 1e-9 {
                    return Err(at(
                        format!("{p}.classes"),
                        format!("expected class shares that add up to 1, found a sum of {total}"),
                    ));
                }
                Ok(())
            }
            Generator::Continuous(c) => {
                let p = format!("{path}.continuous");
                let k = c.shifts.len();
                check_lists(&format!("{p}.shifts"), &None, k)?;
                check_lists(&format!("{p}.lists"), &c.lists, k)?;
                check_population(&format!("{p}.population"), c.population, k)?;
                if !c.logit_mean.is_finite() || c.logit_mean.abs() > 50.0 {
                    return Err(at(
                        format!("{p}.logit_mean"),
                        format!("expected a number from -50 to 50, found {}", c.logit_mean),
                    ));
                }
                if !(0.0..=MAX_LOGIT_SD).contains(&c.logit_sd) {
                    return Err(at(
                        format!("{p}.logit_sd"),
                        format!(
                            "expected a number from 0 to {MAX_LOGIT_SD}, found {}",
                            c.logit_sd
                        ),
                    ));
                }
                for (j, s) in c.shifts.iter().enumerate() {
                    if !s.is_finite() || s.abs() > 50.0 {
                        return Err(at(
                            format!("{p}.shifts[{j}]"),
                            format!("expected a number from -50 to 50, found {s}"),
                        ));
                    }
                }
                Ok(())
            }
            Generator::Referral(r) => {
                let p = format!("{path}.referral");
                let k = r.probs.len();
                check_lists(&format!("{p}.probs"), &None, k)?;
                check_lists(&format!("{p}.lists"), &r.lists, k)?;
                check_population(&format!("{p}.population"), r.population, k)?;
                for (j, &q) in r.probs.iter().enumerate() {
                    check_probability(&format!("{p}.probs[{j}]"), q)?;
                }
                let names = list_names(&r.lists, k);
                let index = |field: &str, e: usize, name: &str| {
                    names.iter().position(|n| n == name).ok_or_else(|| {
                        at(
                            format!("{p}.effects[{e}].{field}"),
                            format!(
                                "expected one of the lists {}, found \"{name}\"",
                                names.join(", ")
                            ),
                        )
                    })
                };
                // The largest chance of each list: its probability times every factor above 1.
                let mut most: Vec<f64> = r.probs.clone();
                for (e, eff) in r.effects.iter().enumerate() {
                    let from = index("from", e, &eff.from)?;
                    let to = index("to", e, &eff.to)?;
                    if from >= to {
                        return Err(at(
                            format!("{p}.effects[{e}].to"),
                            format!(
                                "expected a list met after \"{}\" (lists are met in their order: a later list cannot change an earlier one), found \"{}\"",
                                eff.from, eff.to
                            ),
                        ));
                    }
                    if r.effects[..e]
                        .iter()
                        .any(|o| o.from == eff.from && o.to == eff.to)
                    {
                        return Err(at(
                            format!("{p}.effects[{e}]"),
                            format!(
                                "expected each pair of lists once, found {} → {} again",
                                eff.from, eff.to
                            ),
                        ));
                    }
                    if !(0.0..=MAX_FACTOR).contains(&eff.factor) {
                        return Err(at(
                            format!("{p}.effects[{e}].factor"),
                            format!(
                                "expected a factor from 0 to {MAX_FACTOR}, found {}",
                                eff.factor
                            ),
                        ));
                    }
                    most[to] *= eff.factor.max(1.0);
                }
                for (j, &m) in most.iter().enumerate() {
                    if m > 1.0 + 1e-12 {
                        return Err(at(
                            format!("{p}.probs[{j}]"),
                            format!(
                                "the factors into list {} raise its probability {} to {m}, above 1: lower the probability or the factors",
                                names[j], r.probs[j]
                            ),
                        ));
                    }
                }
                Ok(())
            }
            Generator::Strata(strata) => {
                let p = format!("{path}.strata");
                if strata.len() < 2 {
                    return Err(at(
                        p,
                        format!("expected at least two strata, found {}", strata.len()),
                    ));
                }
                for (s, st) in strata.iter().enumerate() {
                    let sp = format!("{p}[{s}]");
                    if st.name.trim().is_empty() {
                        return Err(at(
                            format!("{sp}.name"),
                            "expected a stratum name, found an empty string",
                        ));
                    }
                    if strata[..s].iter().any(|o| o.name == st.name) {
                        return Err(at(
                            format!("{sp}.name"),
                            format!(
                                "expected each stratum name once, found \"{}\" again",
                                st.name
                            ),
                        ));
                    }
                    if st.name == "total" {
                        return Err(at(
                            format!("{sp}.name"),
                            "\"total\" names the sum of the strata; expected another name",
                        ));
                    }
                    if let Generator::Strata(_) = st.population {
                        return Err(at(
                            format!("{sp}.population.strata"),
                            "expected a generating model of one stratum, found strata within a stratum",
                        ));
                    }
                    if let Generator::Fitted(_) = st.population {
                        return Err(at(
                            format!("{sp}.population.fitted"),
                            "expected latent_classes, continuous or referral in a stratum (a fitted model brings its own lists)",
                        ));
                    }
                    st.population.check(&format!("{sp}.population"))?;
                }
                let lists = |g: &Generator| -> Vec<String> {
                    let k = g.declared_lists().unwrap_or(0);
                    match g {
                        Generator::LatentClasses(l) => list_names(&l.lists, k),
                        Generator::Continuous(c) => list_names(&c.lists, k),
                        Generator::Referral(r) => list_names(&r.lists, k),
                        _ => Vec::new(),
                    }
                };
                let first = lists(&strata[0].population);
                for (s, st) in strata.iter().enumerate().skip(1) {
                    if lists(&st.population) != first {
                        return Err(at(
                            format!("{p}[{s}].population"),
                            format!(
                                "expected the lists of stratum \"{}\" ({}), found others",
                                strata[0].name,
                                first.join(", ")
                            ),
                        ));
                    }
                }
                Ok(())
            }
        }
    }
}

/// The methods a fitted model can come from: those with a log-linear model and its cells.
fn check_fitted(path: &str, f: &FittedSpec) -> Result<()> {
    let id = f.method.id();
    if !matches!(
        id,
        MethodId::Loglinear
            | MethodId::Main
            | MethodId::Stepwise
            | MethodId::StepwiseAic
            | MethodId::Bic
            | MethodId::SingleSource(_)
    ) {
        return Err(at(
            format!("{path}.method.id"),
            format!(
                "expected a method whose fit generates the data: a log-linear one (loglinear, main, stepwise, stepwise-aic, bic), or a single-source one on one register's counts (ztpoisson, ztgeom, …), found {id}"
            ),
        ));
    }
    f.method
        .check_options()
        .map_err(|e| prefix(e, &format!("{path}.method")))
}

/// An `Error::At` of a method's own check, put under the path of the method in the study.
fn prefix(e: Error, path: &str) -> Error {
    match e {
        Error::At { path: p, message } => at(
            if p.is_empty() {
                path.to_string()
            } else {
                format!("{path}.{p}")
            },
            message,
        ),
        Error::Usage(m) => at(path, m),
        other => other,
    }
}

impl Study {
    /// Every rule of the study that does not need its data.
    pub fn check(&self) -> Result<()> {
        self.population.check("population")?;
        if self.procedures.is_empty() {
            return Err(at(
                "procedures",
                "expected at least one procedure, found none",
            ));
        }
        if self.procedures.len() > MAX_PROCEDURES {
            return Err(at(
                "procedures",
                format!(
                    "expected at most {MAX_PROCEDURES} procedures, found {}",
                    self.procedures.len()
                ),
            ));
        }
        for (i, p) in self.procedures.iter().enumerate() {
            let path = format!("procedures[{i}]");
            let name = p.display_name();
            if self.procedures[..i]
                .iter()
                .any(|o| o.display_name() == name)
            {
                return Err(at(
                    format!("{path}.name"),
                    format!(
                        "expected each procedure name once, found \"{name}\" again (give one a \"name\")"
                    ),
                ));
            }
            if name.trim().is_empty() || name == "total" {
                return Err(at(
                    format!("{path}.name"),
                    format!("expected a name for the procedure, found \"{name}\""),
                ));
            }
            if p.method.to_raw().level.is_some() {
                return Err(at(
                    format!("{path}.method.level"),
                    "a study measures the 80%, 90% and 95% intervals of every procedure; expected no level here",
                ));
            }
            p.method
                .check_options()
                .map_err(|e| prefix(e, &format!("{path}.method")))?;
            if p.bootstrap.is_some() && !p.method.bootstrappable() {
                return Err(at(
                    format!("{path}.bootstrap"),
                    format!(
                        "the bootstrap repeats a log-linear method with its model choice, or gives a sample-coverage estimate its s.e.; expected one of {}, found {}",
                        MethodId::bootstrappable_ids().join(", "),
                        p.method.id()
                    ),
                ));
            }
            if p.bootstrap.is_none() && p.bootstrap_kind != BootKind::Nonparametric {
                return Err(at(
                    format!("{path}.bootstrap_kind"),
                    "expected a bootstrap for this bootstrap kind, found none",
                ));
            }
            if matches!(p.method.id(), MethodId::Petersen | MethodId::Chapman)
                && self.population.declared_lists().is_some_and(|k| k != 2)
            {
                return Err(at(
                    format!("{path}.method.id"),
                    "a two-list estimator gives one estimate per pair of lists; a study needs one estimate per dataset: expected a study of two lists",
                ));
            }
        }
        Ok(())
    }
}
