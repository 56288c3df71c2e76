//! Each study as a multiplier M = N̂/n with its interval, and log M with the variance the
//! pooling takes — both from the one interval shown. A live study is estimated here (its
//! model choice bootstrapped on the job's seed) and M's interval is its estimate's interval
//! ÷ n; a published study's stated interval is read as log-normal and restated at the
//! job's level. The variance of log M is always the log-normal reading of the interval
//! shown (`log_sd`), so the row a reader sees is the study the pooling uses.
//! First step of `run` after the section's checks; the draws of every scenario pool what
//! it returns (`pool_selected`).

use super::spec::{AggregateSpec, Published, Source, Study};
use crate::aggregate::meta::{Pooled, Tau2Method, pool};
use crate::checked::Level;
use crate::data::source::{DataSpec, load_data};
use crate::error::{Error, Result};
use crate::inference::bootstrap::{BootKind, BootOptions};
use crate::inference::{Construction, Interval, qnorm};
use crate::methods::{Context, Estimate, IntervalKind, Method, MethodId, Status};
use serde::Serialize;

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
    /// N̂ of a live study: its method's estimate on its table.
    pub population: Option<f64>,
    /// N̂'s interval as that estimate reports it (live studies); M's is this ÷ n.
    pub interval: Option<Interval>,
    /// M = N̂ / n, or as published.
    pub multiplier: f64,
    /// Lower end of M's interval at `level`.
    pub lower: f64,
    /// Upper end of M's interval at `level`.
    pub upper: f64,
    /// Level of M's interval (and of N̂'s): the job's.
    pub level: f64,
    /// How M's interval was made: N̂'s interval kind (live), `log-normal` (published).
    pub kind: Construction,
    /// log M, as pooled.
    pub log_m: f64,
    /// Variance of log M, as pooled: `log_sd` of M's interval, squared.
    pub var_log_m: f64,
}

/// A procedure every live study is measured by, in place of its own method: a method and
/// the bootstrap it runs with (its seed is the job's).
pub type Procedure<'a> = (&'a Method, Option<BootOptions>);

/// Measures every study in order at the job's `level`, live ones with bootstraps on the
/// job's master `seed`, each by its own method or, with `by`, all by that procedure; the
/// first study that fails stops the run.
pub fn measure(
    spec: &AggregateSpec,
    base: Option<&std::path::Path>,
    job_name: &str,
    level: Level,
    seed: u64,
    by: Option<Procedure>,
) -> Result<Vec<StudyResult>> {
    let boot = spec.study_bootstrap.get();
    spec.studies
        .iter()
        .map(|st| match st.source()? {
            Source::Published(p) => Ok(published(st, p, level.get())),
            Source::Live(data) => {
                let (method, bootstrap) = match by {
                    Some((m, b)) => (m.clone(), b.map(|b| BootOptions { seed, ..b })),
                    None => {
                        let m = Method::plain(st.method.unwrap_or(MethodId::Stepwise))?;
                        // Only a method that selects a model needs the bootstrap to carry
                        // the choice; `recommended` and `pooled` carry theirs inside.
                        let b = m.bootstrappable().then_some(BootOptions {
                            replicates: boot,
                            seed,
                            kind: BootKind::Nonparametric,
                        });
                        (m, b)
                    }
                };
                let raise = by.is_none() && bootstrap.is_some();
                let (n, est) = live(st, data, base, job_name, level, seed, &method, bootstrap)?;
                from_estimate(st, n, &est, level.get(), raise)
            }
        })
        .collect()
}

/// The sd of log M that a central interval (`lower`, `upper`) at `level` gives when read
/// as log-normal: its width on the log scale over 2·z. The pooling reads every study's
/// interval this way, so the variance it uses is the interval a reader sees; an interval
/// that is not symmetric about M on the log scale keeps only its width.
pub fn log_sd(lower: f64, upper: f64, level: f64) -> f64 {
    (upper.ln() - lower.ln()) / (2.0 * qnorm(0.5 + level / 2.0))
}

/// A published study: the stated interval at its own level gives the sd of log M
/// (`log_sd`), which is restated as an interval at the job's `level`; that interval read
/// by `log_sd` gives the same sd back.
fn published(st: &Study, p: &Published, level: f64) -> StudyResult {
    let sd = log_sd(p.lower, p.upper, p.level.get());
    let y = p.multiplier.ln();
    let z = qnorm(0.5 + level / 2.0);
    StudyResult {
        multiplier: p.multiplier,
        lower: (y - z * sd).exp(),
        upper: (y + z * sd).exp(),
        level,
        kind: Construction::LogNormal,
        log_m: y,
        var_log_m: sd * sd,
        ..named(st, "published")
    }
}

/// A live study from its n identified and its estimate: M = N̂/n, M's interval the
/// estimate's interval ÷ n, and the variance of log M the reading of that interval. An
/// estimate without a whole interval at `level` that carries the model choice (a
/// bootstrap's that repeats it, a posterior's over models, or a pooling of model
/// families'; a sample-coverage estimator, which chooses no model, with its bootstrap
/// s.e.), or with one of no width, gives no study: a model's own interval would leave
/// the model choice out of the variance, and the pooling needs a spread. `raise`: the
/// replicates came from `aggregate.study_bootstrap`, which the message then names.
fn from_estimate(
    st: &Study,
    n: u64,
    est: &Estimate,
    level: f64,
    raise: bool,
) -> Result<StudyResult> {
    let refuse = |why: String| Error::Usage(format!("study {}: {why}", st.name));
    let pop = est
        .population
        .ok_or_else(|| refuse(format!("the {} estimate has no number", est.method)))?;
    let iv = est
        .interval
        .as_ref()
        .filter(|i| {
            matches!(
                i.kind,
                Construction::BootstrapBca
                    | Construction::BootstrapPercentile
                    | Construction::LogNormalBootstrapSe
                    | Construction::PosteriorQuantiles
                    | Construction::PooledQuantiles
                    | Construction::UnionOfIntervals
            ) && (i.level - level).abs() < 1e-12
        })
        .and_then(|i| Some((i, i.lower?, i.upper?)));
    let pct = crate::inference::interval::level_percent(level);
    let Some((iv, lo, hi)) = iv else {
        // the estimate's own advice names the job's "bootstrap", which a study does not use
        let why = match &est.bootstrap {
            Some(b) if b.usable < b.needed => format!(
                "{} of {} bootstrap replicates gave an estimate, and a {pct}% interval needs {}",
                b.usable, b.replicates, b.needed
            ),
            _ => est
                .warnings
                .iter()
                .filter(|w| !w.starts_with("no bootstrap interval"))
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
        };
        return Err(refuse(format!(
            "the {} estimate has no {pct}% interval that carries its model choice, which the study's variance comes from ({why}){}",
            est.method,
            if raise {
                "; raise aggregate.study_bootstrap"
            } else {
                ""
            }
        )));
    };
    let nf = n as f64;
    let (lower, upper) = (lo / nf, hi / nf);
    let sd = log_sd(lower, upper, level);
    if !(sd > 0.0 && sd.is_finite()) {
        return Err(refuse(format!(
            "the {} estimate's {pct}% interval ({lo} to {hi}) has no width, and the pooling needs a spread",
            est.method
        )));
    }
    Ok(StudyResult {
        observed: Some(n),
        population: Some(pop),
        interval: Some(iv.clone()),
        multiplier: pop / nf,
        lower,
        upper,
        level,
        kind: iv.kind,
        log_m: (pop / nf).ln(),
        var_log_m: sd * sd,
        ..named(st, "live")
    })
}

/// What a result copies from its study, with no numbers yet; every other field is set by
/// the source's own function.
fn named(st: &Study, source: &str) -> StudyResult {
    StudyResult {
        name: st.name.clone(),
        citation: st.citation.clone(),
        source: source.into(),
        trafficking: st.trafficking,
        observed: None,
        population: None,
        interval: None,
        multiplier: f64::NAN,
        lower: f64::NAN,
        upper: f64::NAN,
        level: f64::NAN,
        kind: Construction::LogNormal,
        log_m: f64::NAN,
        var_log_m: f64::NAN,
    }
}

/// Runs `method` on a live study's table with `bootstrap` and returns (n, the estimate).
/// A bootstrap repeats the model choice, which the study's variance must include. It draws
/// on the job's master seed, as the job's own methods do: a study of the job's table by
/// one of its methods, with as many replicates, is then the very estimate the job reports,
/// with the same interval.
#[allow(clippy::too_many_arguments)]
fn live(
    study: &Study,
    data: &DataSpec,
    base: Option<&std::path::Path>,
    job_name: &str,
    level: Level,
    seed: u64,
    method: &Method,
    bootstrap: Option<BootOptions>,
) -> Result<(u64, Estimate)> {
    let parsed = load_data(data, base, job_name, &None)?;
    // A capture table, or one register's counts for the single-source methods (a country
    // with one register contributes its multiplier that way).
    let observed = parsed.data.observed();
    let id = method.id();
    let ctx = Context {
        level,
        interval: IntervalKind::WaldLog,
        seed,
        bootstrap,
        ..Context::default()
    };
    let est = method
        .run(&parsed.data, &ctx)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Usage(format!("study {}: no estimate", study.name)))?;
    if est.status != Status::Ok {
        return Err(Error::Usage(format!(
            "study {}: the {id} estimate has status {}: {}",
            study.name,
            est.status,
            est.warnings.join("; ")
        )));
    }
    Ok((observed, est))
}

/// Pools log M of the studies `keep` selects, by `model`.
pub fn pool_selected(
    studies: &[StudyResult],
    keep: &dyn Fn(&StudyResult) -> bool,
    model: Tau2Method,
) -> Result<Pooled> {
    let sel: Vec<&StudyResult> = studies.iter().filter(|s| keep(s)).collect();
    let y: Vec<f64> = sel.iter().map(|s| s.log_m).collect();
    let v: Vec<f64> = sel.iter().map(|s| s.var_log_m).collect();
    pool(&y, &v, model)
}

/// A published study already measured, with log M and its variance as given and a
/// degenerate interval at M (for the tests of this file and those above it).
#[cfg(test)]
pub(super) fn measured(name: &str, log_m: f64, var_log_m: f64, trafficking: bool) -> StudyResult {
    let st = Study {
        name: name.into(),
        citation: String::new(),
        trafficking,
        data: None,
        method: None,
        published: None,
    };
    let m = log_m.exp();
    StudyResult {
        multiplier: m,
        lower: m,
        upper: m,
        level: 0.95,
        log_m,
        var_log_m,
        ..named(&st, "published")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::global::fixtures::from_json;

    fn with_studies(studies: serde_json::Value) -> AggregateSpec {
        from_json(serde_json::json!({
            "identified": {"total": 10, "source": "x"}, "studies": studies, "study_bootstrap": 200
        }))
    }

    /// A published 90% interval of M = 4 built from sd(log M) = 0.3 gives that sd back, and
    /// is restated at the job's 95% as 4·exp(∓1.96·0.3), which read again by `log_sd` gives
    /// the pooled variance; rounding only (1e-12).
    #[test]
    fn a_published_interval_gives_back_its_log_normal_sd() {
        let z90 = qnorm(0.95);
        let (lo, hi) = (4.0 * (-z90 * 0.3f64).exp(), 4.0 * (z90 * 0.3f64).exp());
        let s = with_studies(serde_json::json!([{"name": "p", "citation": "c",
            "published": {"multiplier": 4.0, "lower": lo, "upper": hi, "level": 0.9}}]));
        let r = measure(&s, None, "t", Level::DEFAULT, 1, None)
            .unwrap()
            .remove(0);
        let z95 = qnorm(0.975);
        assert!((r.var_log_m - 0.09).abs() < 1e-12, "{r:?}");
        assert!((r.log_m - 4f64.ln()).abs() < 1e-15 && r.multiplier == 4.0);
        assert!(
            (r.lower / (4.0 * (-z95 * 0.3f64).exp()) - 1.0).abs() < 1e-12,
            "{r:?}"
        );
        assert!(
            (r.upper / (4.0 * (z95 * 0.3f64).exp()) - 1.0).abs() < 1e-12,
            "{r:?}"
        );
        assert!((log_sd(r.lower, r.upper, r.level).powi(2) - r.var_log_m).abs() < 1e-12);
        assert_eq!((r.source.as_str(), r.observed), ("published", None));
        assert_eq!(
            (r.kind, r.level, r.population),
            (Construction::LogNormal, 0.95, None)
        );
    }

    fn estimate(pop: f64, iv: Option<(Option<f64>, Option<f64>, f64, Construction)>) -> Estimate {
        Estimate {
            method: "main".into(),
            status: Status::Ok,
            observed: 10,
            population: Some(pop),
            interval: iv.map(|(lower, upper, level, kind)| Interval {
                lower,
                upper,
                level,
                kind,
                center: None,
            }),
            warnings: vec!["why".into()],
            ..Estimate::blank()
        }
    }

    /// A live study's M is N̂/n and M's interval the estimate's interval ÷ n: N̂ = 50 with
    /// the 90% interval (20, 200) and n = 10 give M = 5 in (2, 20), and the variance of
    /// log M is that interval's log width over 2·z₀.₉₅, squared: (ln 10 / (2·1.645))².
    /// The estimate's interval is kept as it is, kind and all.
    #[test]
    fn a_live_study_is_its_estimate_over_n() {
        let st = &with_studies(serde_json::json!([{"name": "l", "citation": "c"}])).studies[0];
        for kind in [
            Construction::BootstrapBca,
            Construction::BootstrapPercentile,
            Construction::PosteriorQuantiles,
            Construction::PooledQuantiles,
            Construction::UnionOfIntervals,
        ] {
            let e = estimate(50.0, Some((Some(20.0), Some(200.0), 0.9, kind)));
            let r = from_estimate(st, 10, &e, 0.9, true).unwrap();
            assert_eq!((r.multiplier, r.log_m), (5.0, 5f64.ln()));
            assert_eq!([r.lower, r.upper], [2.0, 20.0]);
            let sd = 10f64.ln() / (2.0 * qnorm(0.95));
            assert!((r.var_log_m - sd * sd).abs() < 1e-12, "{r:?}");
            assert_eq!((r.source.as_str(), r.observed), ("live", Some(10)));
            assert_eq!((r.kind, r.level, r.population), (kind, 0.9, Some(50.0)));
            let iv = r.interval.as_ref().unwrap();
            assert_eq!(
                (iv.lower, iv.upper, iv.kind),
                (Some(20.0), Some(200.0), kind)
            );
        }
    }

    /// No study without a whole interval that carries the model choice at the job's level
    /// (a model's own interval leaves the model choice out), or with one of no width; the
    /// error names the study and carries the estimate's warnings, and names
    /// `aggregate.study_bootstrap` only when the replicates came from it.
    #[test]
    fn a_live_study_needs_a_whole_bootstrap_interval_with_a_width() {
        let st = &with_studies(serde_json::json!([{"name": "l", "citation": "c"}])).studies[0];
        let boot = Construction::BootstrapPercentile;
        let none = "no 90% interval that carries its model choice";
        for (iv, says) in [
            (None, none),
            (
                Some((Some(20.0), Some(200.0), 0.9, Construction::WaldLog)),
                none,
            ),
            (
                Some((Some(20.0), Some(200.0), 0.9, Construction::Profile)),
                none,
            ),
            (Some((Some(20.0), None, 0.9, boot)), none),
            (Some((None, Some(200.0), 0.9, boot)), none),
            (Some((Some(20.0), Some(200.0), 0.95, boot)), none),
            (Some((Some(50.0), Some(50.0), 0.9, boot)), "has no width"),
        ] {
            for raise in [true, false] {
                let err = from_estimate(st, 10, &estimate(50.0, iv), 0.9, raise)
                    .unwrap_err()
                    .to_string();
                assert!(
                    err.contains("study l: the main estimate") && err.contains(says),
                    "{err}"
                );
                assert_eq!(
                    err.contains("(why); raise aggregate.study_bootstrap"),
                    raise && says != "has no width",
                    "{err}"
                );
            }
        }
    }

    /// A two-list table estimated live with the main-effects model: n = 120 identified,
    /// N̂ = 80·60/20 = 240 (Lincoln–Petersen), so M = 2 (to the fit's tolerance, 1e-6); M's
    /// interval is the same run's N̂ interval ÷ 120, and that run is the one the job's own
    /// methods make (the job's level and seed: the same bits); the published study after
    /// it keeps its place.
    #[test]
    fn a_live_study_runs_its_method_and_bootstrap() {
        let table =
            serde_json::json!({"lists": ["A", "B"], "rows": [[1, 0, 60], [0, 1, 40], [1, 1, 20]]});
        let s = with_studies(serde_json::json!([
            {"name": "l", "citation": "c", "method": "main", "data": table},
            {"name": "p", "citation": "c",
             "published": {"multiplier": 3.0, "lower": 2.0, "upper": 4.0, "level": 0.95}}
        ]));
        let level = Level::try_from(0.9).unwrap();
        let r = measure(&s, None, "t", level, 3, None).unwrap();
        let live = &r[0];
        assert_eq!((live.source.as_str(), live.observed), ("live", Some(120)));
        assert!((live.multiplier - 2.0).abs() < 1e-6, "{live:?}");
        let iv = live.interval.as_ref().unwrap();
        assert_eq!((iv.level, live.level, iv.kind), (0.9, 0.9, live.kind));
        assert_eq!(
            [live.lower, live.upper],
            [iv.lower.unwrap() / 120.0, iv.upper.unwrap() / 120.0]
        );
        assert!(live.lower < 2.0 && 2.0 < live.upper, "{live:?}");
        let sd = log_sd(live.lower, live.upper, 0.9);
        assert_eq!(live.var_log_m, sd * sd);
        let Source::Live(data) = s.studies[0].source().unwrap() else {
            panic!("a live study")
        };
        let parsed = load_data(data, None, "t", &None).unwrap();
        let ctx = Context {
            level,
            interval: IntervalKind::Profile,
            seed: 3,
            bootstrap: Some(BootOptions {
                replicates: 200,
                seed: 3,
                kind: BootKind::Nonparametric,
            }),
            ..Context::default()
        };
        let job_run = Method::plain(MethodId::Main)
            .unwrap()
            .run(&parsed.data, &ctx)
            .unwrap();
        let own = job_run[0].interval.as_ref().unwrap();
        assert_eq!(
            (own.lower, own.upper, own.kind),
            (iv.lower, iv.upper, iv.kind)
        );
        assert_eq!(job_run[0].population, live.population);
        assert_eq!((r[1].name.as_str(), r[1].multiplier), ("p", 3.0));
    }

    /// Identical studies pool to their common log M with τ² = 0 under every model, and
    /// se(μ̂)² = v/k; the selection keeps only the studies it names.
    #[test]
    fn identical_studies_pool_to_their_common_value() {
        let y = 3f64.ln();
        let studies = [
            measured("s", y, 0.04, true),
            measured("s", y, 0.04, true),
            measured("s", y, 0.04, true),
            measured("o", 5.0, 0.04, false),
        ];
        for model in [Tau2Method::Reml, Tau2Method::Dl, Tau2Method::Fixed] {
            let p = pool_selected(&studies, &|s| s.trafficking, model).unwrap();
            assert_eq!(p.k, 3);
            assert!((p.mu - y).abs() < 1e-12 && p.tau2 == 0.0, "{p:?}");
            assert!((p.se * p.se - 0.04 / 3.0).abs() < 1e-12, "{p:?}");
        }
        let all = pool_selected(&studies, &|_| true, Tau2Method::Dl).unwrap();
        assert!(all.k == 4 && all.tau2 > 0.0, "{all:?}");
    }
}
