//! Global extrapolation: from the people identified (e.g. IOM's cumulative count) to an
//! interval for the total, through the dark-figure multipliers M = N̂/n of the multiple
//! systems estimation studies that exist. Each study gives log M with a variance — live
//! studies from their bootstrap draws (the estimate is run here), published ones from their
//! stated interval read as log-normal. A random-effects meta-analysis (`meta`) gives the
//! predictive distribution of log M for units without a study; Monte Carlo draws of
//! (identified count, multiplier) give the total. Children use the same multiplier divided
//! by an assumed ratio ρ of their detection probability to adults'; ρ is a named input and a
//! sensitivity table varies it, the studies included and the pooling model. Every
//! assumption is recorded in the output.

use super::meta::{Pooled, Tau2Method, pool};
use crate::checked::{Level, Replicates};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::inference::bootstrap::{BootKind, BootOptions, quantile8};
use crate::inference::qnorm;
use crate::methods::{Context, IntervalKind, Method, MethodId, Status};
use crate::montecarlo::replicate;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// A count known exactly or only within bounds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Count {
    /// Exactly this many.
    Exact(f64),
    /// Somewhere in [lower, upper] (drawn uniformly).
    Range {
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
}

impl Count {
    fn draw(&self, rng: &mut chacha20::ChaCha8Rng) -> f64 {
        match *self {
            Count::Exact(x) => x,
            Count::Range { lower, upper } => lower + (upper - lower) * rng.random::<f64>(),
        }
    }
    fn mid(&self) -> f64 {
        match *self {
            Count::Exact(x) => x,
            Count::Range { lower, upper } => 0.5 * (lower + upper),
        }
    }
}

/// The identified people to extrapolate from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identified {
    /// All identified victims.
    pub total: Count,
    /// Identified children, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Count>,
    /// Where the counts come from, and what they count.
    pub source: String,
}

/// A published multiplier: point and interval at a level.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    /// Point value of M (total / identified).
    pub multiplier: f64,
    /// Lower end.
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
    /// Coverage of [lower, upper] (read as a log-normal interval).
    pub level: Level,
}

/// One study behind the multipliers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// Short name.
    pub name: String,
    /// Reference.
    pub citation: String,
    /// Whether it studied trafficking / modern slavery (the sensitivity table can keep only these).
    #[serde(default = "yes")]
    pub trafficking: bool,
    /// An inline table estimated live (with `method`, default stepwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<crate::data::source::DataSpec>,
    /// Method for a live study.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<MethodId>,
    /// A published summary instead of data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<Published>,
}

fn yes() -> bool {
    true
}

fn default_ratio() -> f64 {
    1.0
}

fn default_alternatives() -> Vec<f64> {
    vec![0.5, 0.75, 1.5]
}

fn default_draws() -> Replicates {
    Replicates::of(20_000)
}

fn default_boot() -> Replicates {
    Replicates::of(1000)
}

/// A unit (country, region, group) with its identified count; its multiplier comes from
/// its own study when `study` names one, else from the pooled predictive distribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    /// Name.
    pub name: String,
    /// Identified in this unit.
    pub identified: Count,
    /// The study (by name) that measured this unit's multiplier, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<String>,
}

/// The `aggregate` section of a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateSpec {
    /// The identified count.
    pub identified: Identified,
    /// The studies.
    pub studies: Vec<Study>,
    /// Units whose identified counts add up to the total, when known separately.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<Unit>,
    /// τ² estimator (default REML).
    #[serde(default)]
    pub model: Tau2Method,
    /// Children's detection probability relative to adults' (ρ; default 1).
    #[serde(default = "default_ratio")]
    pub children_detection_ratio: f64,
    /// Alternative values of ρ for the sensitivity table.
    #[serde(default = "default_alternatives")]
    pub children_ratio_alternatives: Vec<f64>,
    /// Monte Carlo draws of the total.
    #[serde(default = "default_draws")]
    pub draws: Replicates,
    /// Bootstrap replicates for live studies.
    #[serde(default = "default_boot")]
    pub study_bootstrap: Replicates,
}

/// A study's contribution.
#[derive(Debug, Clone, Serialize)]
pub struct StudyResult {
    /// Name.
    pub name: String,
    /// Reference.
    pub citation: String,
    /// `live` or `published`.
    pub source: String,
    /// Trafficking study.
    pub trafficking: bool,
    /// Identified in the study (live studies).
    pub observed: Option<u64>,
    /// M.
    pub multiplier: f64,
    /// Interval of M at the job's level.
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
    /// log M and its variance, as pooled.
    pub log_m: f64,
    /// Variance of log M.
    pub var_log_m: f64,
}

/// A total with its interval.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Median of the draws.
    pub median: f64,
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
    /// Level.
    pub level: f64,
}

/// One row of the sensitivity table.
#[derive(Debug, Clone, Serialize)]
pub struct SensitivityRow {
    /// What changed.
    pub scenario: String,
    /// The multiplier for a unit without a study.
    pub multiplier: Summary,
    /// Total.
    pub total: Summary,
    /// Children, when their count is known.
    pub children: Option<Summary>,
}

/// The aggregate result.
#[derive(Debug, Clone, Serialize)]
pub struct AggregateResult {
    /// The identified counts used.
    pub identified: Identified,
    /// Every study's multiplier.
    pub studies: Vec<StudyResult>,
    /// The meta-analysis.
    pub pooled: Pooled,
    /// Predictive multiplier for a unit without a study.
    pub multiplier: Summary,
    /// Total (identified + unidentified).
    pub total: Summary,
    /// Children.
    pub children: Option<Summary>,
    /// How the answer moves under the alternatives.
    pub sensitivity: Vec<SensitivityRow>,
    /// Every assumption, in words.
    pub assumptions: Vec<String>,
    /// What the numbers cannot say.
    pub caveats: Vec<String>,
    /// Master seed of the draws.
    pub seed: u64,
    /// Number of draws.
    pub draws: usize,
}

fn summarise(mut v: Vec<f64>, level: f64) -> Summary {
    v.sort_by(f64::total_cmp);
    Summary {
        median: quantile8(&v, 0.5),
        lower: quantile8(&v, (1.0 - level) / 2.0),
        upper: quantile8(&v, (1.0 + level) / 2.0),
        level,
    }
}

/// Runs a live study and returns (n, N̂, draws of N).
fn live(
    study: &Study,
    base: Option<&std::path::Path>,
    job_name: &str,
    seed: u64,
    boot: usize,
) -> Result<(u64, f64, Vec<f64>)> {
    let Some(spec) = &study.data else {
        return Err(Error::Usage(format!(
            "study {}: needs `data` or `published`",
            study.name
        )));
    };
    let parsed = crate::data::source::load_data(spec, base, job_name, &None)?;
    let Dataset::Table(table) = &parsed.data else {
        return Err(Error::Usage(format!(
            "study {}: needs a capture table",
            study.name
        )));
    };
    let id = study.method.unwrap_or(MethodId::Stepwise);
    let ctx = Context {
        interval: IntervalKind::WaldLog,
        bootstrap: Some(BootOptions {
            replicates: boot,
            seed,
            kind: BootKind::Nonparametric,
        }),
        ..Context::default()
    };
    let est = Method::plain(id)?
        .run(&parsed.data, &ctx)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Usage(format!("study {}: no estimate", study.name)))?;
    let (Some(pop), Status::Ok) = (est.population, est.status) else {
        return Err(Error::Usage(format!(
            "study {}: the {id} estimate has status {:?}: {}",
            study.name,
            est.status,
            est.warnings.join("; ")
        )));
    };
    let draws: Vec<f64> = est
        .bootstrap
        .map(|b| b.values.into_iter().flatten().collect())
        .unwrap_or_default();
    Ok((table.observed(), pop, draws))
}

/// Runs the extrapolation. `level` is the job's level, `seed` its master seed.
pub fn run(
    spec: &AggregateSpec,
    base: Option<&std::path::Path>,
    job_name: &str,
    level: Level,
    seed: u64,
) -> Result<AggregateResult> {
    let level = level.get();
    if spec.studies.is_empty() {
        return Err(Error::Usage("aggregate: needs at least one study".into()));
    }
    if !(spec.children_detection_ratio > 0.0)
        || spec.children_ratio_alternatives.iter().any(|r| !(*r > 0.0))
    {
        return Err(Error::Usage(
            "aggregate: children's detection ratios must be positive".into(),
        ));
    }
    for (i, u) in spec.units.iter().enumerate() {
        if let Some(n) = &u.study {
            if !spec.studies.iter().any(|s| &s.name == n) {
                return Err(Error::Usage(format!(
                    "aggregate.units[{i}] ({}): names the study \"{n}\", which is not among aggregate.studies",
                    u.name
                )));
            }
        }
    }
    let z = qnorm(0.5 + level / 2.0);
    let mut studies = Vec::new();
    for (i, st) in spec.studies.iter().enumerate() {
        let r = match (&st.published, &st.data) {
            (Some(p), None) => {
                if !(p.lower > 0.0 && p.lower <= p.multiplier && p.multiplier <= p.upper) {
                    return Err(Error::Usage(format!(
                        "study {}: published multiplier needs 0 < lower ≤ multiplier ≤ upper",
                        st.name
                    )));
                }
                let zp = qnorm(0.5 + p.level.get() / 2.0);
                let sd = (p.upper.ln() - p.lower.ln()) / (2.0 * zp);
                let y = p.multiplier.ln();
                StudyResult {
                    name: st.name.clone(),
                    citation: st.citation.clone(),
                    source: "published".into(),
                    trafficking: st.trafficking,
                    observed: None,
                    multiplier: p.multiplier,
                    lower: (y - z * sd).exp(),
                    upper: (y + z * sd).exp(),
                    log_m: y,
                    var_log_m: sd * sd,
                }
            }
            (None, Some(_)) => {
                let (n, pop, draws) = live(
                    st,
                    base,
                    job_name,
                    super::stratum_seed(seed, 1000 + i),
                    spec.study_bootstrap.get(),
                )?;
                let nf = n as f64;
                let logs: Vec<f64> = draws.iter().map(|d| (d / nf).ln()).collect();
                if logs.len() < 2 {
                    return Err(Error::Usage(format!(
                        "study {}: the bootstrap gave no usable draws",
                        st.name
                    )));
                }
                let m = logs.iter().sum::<f64>() / logs.len() as f64;
                let var =
                    logs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (logs.len() - 1) as f64;
                let mut sorted: Vec<f64> = draws.iter().map(|d| d / nf).collect();
                sorted.sort_by(f64::total_cmp);
                StudyResult {
                    name: st.name.clone(),
                    citation: st.citation.clone(),
                    source: "live".into(),
                    trafficking: st.trafficking,
                    observed: Some(n),
                    multiplier: pop / nf,
                    lower: quantile8(&sorted, (1.0 - level) / 2.0),
                    upper: quantile8(&sorted, (1.0 + level) / 2.0),
                    log_m: (pop / nf).ln(),
                    var_log_m: var,
                }
            }
            _ => {
                return Err(Error::Usage(format!(
                    "study {}: give exactly one of `data` and `published`",
                    st.name
                )));
            }
        };
        studies.push(r);
    }
    let scenario = |keep: &dyn Fn(&StudyResult) -> bool,
                    model: Tau2Method,
                    rho: f64,
                    tag: u64|
     -> Result<(Pooled, Summary, Summary, Option<Summary>)> {
        let sel: Vec<&StudyResult> = studies.iter().filter(|s| keep(s)).collect();
        let y: Vec<f64> = sel.iter().map(|s| s.log_m).collect();
        let v: Vec<f64> = sel.iter().map(|s| s.var_log_m).collect();
        let p = pool(&y, &v, model)?;
        let (mu, var) = p.predictive();
        let sd = var.sqrt();
        let ident = spec.identified.clone();
        let (tau, se_mu) = (p.tau2.sqrt(), p.se);
        let _ = sd;
        // units with their own study use it; the others share one draw of μ per replicate
        // and get their own deviation from it (the random-effects predictive distribution).
        let own: Vec<Option<(f64, f64)>> = spec
            .units
            .iter()
            .map(|u| {
                u.study
                    .as_ref()
                    .and_then(|n| studies.iter().find(|s| &s.name == n))
                    .map(|s| (s.log_m, s.var_log_m.sqrt()))
            })
            .collect();
        let units = spec.units.clone();
        let rows: Vec<(f64, f64, Option<f64>)> = replicate(
            spec.draws.get(),
            super::stratum_seed(seed, tag as usize),
            &|_| {},
            |_, rng| {
                let z_mu: f64 = StandardNormal.sample(rng);
                let mu_d = mu + se_mu * z_mu;
                let z_u: f64 = StandardNormal.sample(rng);
                let m = (mu_d + tau * z_u).exp();
                let t = if units.is_empty() {
                    ident.total.draw(rng) * m
                } else {
                    units
                        .iter()
                        .zip(&own)
                        .map(|(u, o)| {
                            let z: f64 = StandardNormal.sample(rng);
                            let mu_unit = match o {
                                Some((y, sdv)) => (y + sdv * z).exp(),
                                None => (mu_d + tau * z).exp(),
                            };
                            u.identified.draw(rng) * mu_unit
                        })
                        .sum()
                };
                let c = ident.children.map(|c| c.draw(rng) * m / rho);
                (m, t, c)
            },
        );
        let mult = summarise(rows.iter().map(|r| r.0).collect(), level);
        let total = summarise(rows.iter().map(|r| r.1).collect(), level);
        let children = spec
            .identified
            .children
            .map(|_| summarise(rows.iter().filter_map(|r| r.2).collect(), level));
        Ok((p, mult, total, children))
    };
    let all = |_: &StudyResult| true;
    let (pooled, multiplier, total, children) =
        scenario(&all, spec.model, spec.children_detection_ratio, 1)?;
    let mut sensitivity = Vec::new();
    let mut push =
        |name: String, r: Result<(Pooled, Summary, Summary, Option<Summary>)>| -> Result<()> {
            let (_, m, t, c) = r?;
            sensitivity.push(SensitivityRow {
                scenario: name,
                multiplier: m,
                total: t,
                children: c,
            });
            Ok(())
        };
    push(
        "default".into(),
        Ok((
            pooled.clone(),
            multiplier.clone(),
            total.clone(),
            children.clone(),
        )),
    )?;
    if studies.iter().any(|s| !s.trafficking) && studies.iter().any(|s| s.trafficking) {
        push(
            "trafficking studies only".into(),
            scenario(
                &|s: &StudyResult| s.trafficking,
                spec.model,
                spec.children_detection_ratio,
                2,
            ),
        )?;
    }
    for (j, m) in [Tau2Method::Fixed, Tau2Method::Dl, Tau2Method::Reml]
        .into_iter()
        .enumerate()
    {
        if m != spec.model {
            push(
                format!(
                    "{} pooling",
                    match m {
                        Tau2Method::Fixed => "common-effect",
                        Tau2Method::Dl => "DerSimonian-Laird",
                        Tau2Method::Reml => "REML",
                    }
                ),
                scenario(&all, m, spec.children_detection_ratio, 3 + j as u64),
            )?;
        }
    }
    if spec.identified.children.is_some() {
        for (j, &rho) in spec.children_ratio_alternatives.iter().enumerate() {
            push(
                format!("children detected {rho}× as often as adults"),
                scenario(&all, spec.model, rho, 10 + j as u64),
            )?;
        }
    }
    let assumptions = vec![
        format!("The identified count ({}) is the starting point: {}", fmt_count(&spec.identified.total), spec.identified.source),
        format!("The dark-figure multiplier M = total / identified of a place without its own study is drawn from the {} random-effects meta-analysis of the {} studies listed (log M normal, τ² estimated from their spread).", match spec.model { Tau2Method::Reml => "REML", Tau2Method::Dl => "DerSimonian-Laird", Tau2Method::Fixed => "common-effect" }, studies.len()),
        "Published multipliers are read as log-normal with their stated interval; live studies use their bootstrap draws (model choice repeated).".into(),
        format!("Children are detected {}× as often as adults (ρ = {}): their multiplier is M / ρ.", spec.children_detection_ratio, spec.children_detection_ratio),
        "An identified count given as a range is drawn uniformly within it.".into(),
    ];
    let mut caveats = vec![
        "A multiplier transfers only as far as the detection systems resemble each other: the studies come from a few countries whose police, NGOs and services find victims in their own ways.".into(),
        "The identified count is cumulative over years and places; the total is on the same footing, not a number of people at one time.".into(),
        "Each study assumes a closed population and lists whose dependence the chosen model captures; where that fails the multiplier is biased, usually downwards.".into(),
    ];
    if !spec.units.is_empty() {
        let sum: f64 = spec.units.iter().map(|u| u.identified.middle()).sum();
        let tot = spec.identified.total.middle();
        if (sum - tot).abs() > 0.01 * tot {
            caveats.insert(0, format!("The units' identified counts add up to {sum:.0}, not to the identified total {tot:.0}; the total is the sum over the units."));
        }
    }
    if pooled.tau2 == 0.0 && pooled.k < 10 && spec.model != Tau2Method::Fixed {
        caveats.insert(
            0,
            format!(
                "The {} studies differ by no more than their own uncertainty, so the between-study variance is estimated at 0; with so few studies that estimate is imprecise and the interval may be too narrow — see the DerSimonian-Laird row of the sensitivity table.",
                pooled.k
            ),
        );
    }
    Ok(AggregateResult {
        identified: spec.identified.clone(),
        studies,
        pooled,
        multiplier,
        total,
        children,
        sensitivity,
        assumptions,
        caveats,
        seed,
        draws: spec.draws.get(),
    })
}

fn fmt_count(c: &Count) -> String {
    match c {
        Count::Exact(x) => format!("{x:.0}"),
        Count::Range { lower, upper } => format!("{lower:.0} to {upper:.0}"),
    }
}

impl Count {
    /// The count's middle (for messages).
    pub fn middle(&self) -> f64 {
        self.mid()
    }
}
