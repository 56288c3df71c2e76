//! Each study as a log multiplier log M (M = N̂/n) with a variance, and the pooling of a
//! selection of them. A published study's interval is read as log-normal; a live study is
//! estimated here, its model choice bootstrapped, and the variance taken from the draws.
//! First step of `run` after the section's checks; the draws of every scenario pool what
//! it returns (`pool_selected`).

use super::spec::{AggregateSpec, Published, Source, Study};
use crate::aggregate::meta::{Pooled, Tau2Method, pool};
use crate::data::Dataset;
use crate::data::source::{DataSpec, load_data};
use crate::error::{Error, Result};
use crate::inference::bootstrap::{BootKind, BootOptions, quantile8};
use crate::inference::qnorm;
use crate::methods::{Context, IntervalKind, Method, MethodId, Status};
use crate::montecarlo::derive_seed;
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

/// Measures every study in order, live ones on their own streams derived from `seed`; the
/// first study that fails stops the run.
pub fn measure(
    spec: &AggregateSpec,
    base: Option<&std::path::Path>,
    job_name: &str,
    level: f64,
    seed: u64,
) -> Result<Vec<StudyResult>> {
    let z = qnorm(0.5 + level / 2.0);
    let boot = spec.study_bootstrap.get();
    spec.studies
        .iter()
        .enumerate()
        .map(|(i, st)| match st.source()? {
            Source::Published(p) => Ok(published(st, p, z)),
            Source::Live(data) => {
                let (n, pop, draws) =
                    live(st, data, base, job_name, derive_seed(seed, 1000 + i), boot)?;
                from_draws(st, n, pop, &draws, level)
            }
        })
        .collect()
}

/// A published study: the stated interval at its own level gives the sd of log M
/// (log-normal), which is re-expressed as an interval at the job's level (`z` its normal
/// quantile).
fn published(st: &Study, p: &Published, z: f64) -> StudyResult {
    let zp = qnorm(0.5 + p.level.get() / 2.0);
    let sd = (p.upper.ln() - p.lower.ln()) / (2.0 * zp);
    let y = p.multiplier.ln();
    study_result(
        st,
        "published",
        None,
        p.multiplier,
        [(y - z * sd).exp(), (y + z * sd).exp()],
        y,
        sd * sd,
    )
}

/// A live study from its n identified, its N̂ and the bootstrap draws of N̂: M = N̂/n, the
/// interval the percentiles of the draws / n, the variance that of log(draw / n).
fn from_draws(st: &Study, n: u64, pop: f64, draws: &[f64], level: f64) -> Result<StudyResult> {
    let nf = n as f64;
    let logs: Vec<f64> = draws.iter().map(|d| (d / nf).ln()).collect();
    if logs.len() < 2 {
        return Err(Error::Usage(format!(
            "study {}: the bootstrap gave no usable draws",
            st.name
        )));
    }
    let m = logs.iter().sum::<f64>() / logs.len() as f64;
    let var = logs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (logs.len() - 1) as f64;
    let mut sorted: Vec<f64> = draws.iter().map(|d| d / nf).collect();
    sorted.sort_by(f64::total_cmp);
    let interval = [
        quantile8(&sorted, (1.0 - level) / 2.0),
        quantile8(&sorted, (1.0 + level) / 2.0),
    ];
    Ok(study_result(
        st,
        "live",
        Some(n),
        pop / nf,
        interval,
        (pop / nf).ln(),
        var,
    ))
}

/// The result for `st` with the numbers its source gave; what is copied from the study
/// is copied here only.
fn study_result(
    st: &Study,
    source: &str,
    observed: Option<u64>,
    multiplier: f64,
    [lower, upper]: [f64; 2],
    log_m: f64,
    var_log_m: f64,
) -> StudyResult {
    StudyResult {
        name: st.name.clone(),
        citation: st.citation.clone(),
        source: source.into(),
        trafficking: st.trafficking,
        observed,
        multiplier,
        lower,
        upper,
        log_m,
        var_log_m,
    }
}

/// Runs a live study and returns (n, N̂, draws of N̂). The non-parametric bootstrap runs
/// whatever the job says: the variance of log M is taken from its draws, which repeat the
/// model choice.
fn live(
    study: &Study,
    data: &DataSpec,
    base: Option<&std::path::Path>,
    job_name: &str,
    seed: u64,
    boot: usize,
) -> Result<(u64, f64, Vec<f64>)> {
    let parsed = load_data(data, base, job_name, &None)?;
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
            "study {}: the {id} estimate has status {}: {}",
            study.name,
            est.status,
            est.warnings.join("; ")
        )));
    };
    // A failed replicate is left out, not counted as a value.
    let draws: Vec<f64> = est
        .bootstrap
        .map(|b| b.values.into_iter().flatten().collect())
        .unwrap_or_default();
    Ok((table.observed(), pop, draws))
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
    study_result(&st, "published", None, m, [m, m], log_m, var_log_m)
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
    /// is restated at the job's 95% as 4·exp(∓1.96·0.3); rounding only (1e-12).
    #[test]
    fn a_published_interval_gives_back_its_log_normal_sd() {
        let z90 = qnorm(0.95);
        let (lo, hi) = (4.0 * (-z90 * 0.3f64).exp(), 4.0 * (z90 * 0.3f64).exp());
        let s = with_studies(serde_json::json!([{"name": "p", "citation": "c",
            "published": {"multiplier": 4.0, "lower": lo, "upper": hi, "level": 0.9}}]));
        let r = measure(&s, None, "t", 0.95, 1).unwrap().remove(0);
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
        assert_eq!((r.source.as_str(), r.observed), ("published", None));
    }

    /// A live study's numbers come from its draws divided by its n: draws n·e^{−1, 0, 1}
    /// have log-variance 1 (divisor k − 1), and draws n·(1, …, 99) have the type-8 90%
    /// interval (5.3, 94.7) of 1, …, 99; M itself is N̂/n, not a summary of the draws.
    #[test]
    fn a_live_study_is_summarised_from_its_draws_over_n() {
        let st = &with_studies(serde_json::json!([{"name": "l", "citation": "c"}])).studies[0];
        let n = 10;
        let three: Vec<f64> = [-1.0f64, 0.0, 1.0].iter().map(|x| 10.0 * x.exp()).collect();
        let r = from_draws(st, n, 50.0, &three, 0.9).unwrap();
        assert!((r.var_log_m - 1.0).abs() < 1e-12, "{r:?}");
        assert_eq!((r.multiplier, r.log_m), (5.0, 5f64.ln()));
        assert_eq!((r.source.as_str(), r.observed), ("live", Some(10)));
        let many: Vec<f64> = (1..=99).map(|k| 10.0 * f64::from(k)).collect();
        let r = from_draws(st, n, 50.0, &many, 0.9).unwrap();
        assert!(
            (r.lower - 5.3).abs() < 1e-9 && (r.upper - 94.7).abs() < 1e-9,
            "{r:?}"
        );
        let err = from_draws(st, n, 50.0, &three[..1], 0.9).unwrap_err();
        assert!(
            err.to_string()
                .contains("study l: the bootstrap gave no usable draws")
        );
    }

    /// A two-list table estimated live with the main-effects model: n = 120 identified,
    /// N̂ = 80·60/20 = 240 (Lincoln–Petersen), so M = 2 (to the fit's tolerance, 1e-6), with a
    /// bootstrap variance and an interval around 2; the published study after it keeps
    /// its place.
    #[test]
    fn a_live_study_runs_its_method_and_bootstrap() {
        let s = with_studies(serde_json::json!([
            {"name": "l", "citation": "c", "method": "main",
             "data": {"lists": ["A", "B"], "rows": [[1, 0, 60], [0, 1, 40], [1, 1, 20]]}},
            {"name": "p", "citation": "c",
             "published": {"multiplier": 3.0, "lower": 2.0, "upper": 4.0, "level": 0.95}}
        ]));
        let r = measure(&s, None, "t", 0.95, 3).unwrap();
        let live = &r[0];
        assert_eq!((live.source.as_str(), live.observed), ("live", Some(120)));
        assert!((live.multiplier - 2.0).abs() < 1e-6, "{live:?}");
        assert!(
            live.var_log_m > 0.0 && live.lower < 2.0 && 2.0 < live.upper,
            "{live:?}"
        );
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
