//! Draws pooled across model families: one interval from two models that fail in opposite
//! places. The log-linear family (SparseMSE's stepwise selection, Chan, Silverman &
//! Vincent 2021, JASA 116:1297, with a parametric bootstrap that repeats the selection,
//! §3.3) models dependence between lists and assumes everyone on a list had the same
//! chance of being on it; the latent-class family (LCMCR, Manrique-Vallier 2016, Biometrics
//! 72:1246) models people whose chances differ and assumes the lists independent within a
//! class. Each is biased where the other's assumption is the true one (heterogeneity makes
//! log-linear models see too few unseen people; referral between lists makes latent
//! classes see too many), and the data rarely say which holds.
//!
//! Model: the population size is N, and the analyst holds even odds on the two families.
//! `combine: "mixture"` (the default) takes equal-tailed quantiles of the families' draws
//! of N pooled with equal weight (the bootstrap replicates of the stepwise N̂ and the LCMCR
//! posterior draws, each family thinned to the size of the smaller so that both weigh
//! half): where the families agree the interval is about theirs, where they disagree it
//! reaches from one to the other, and each end is then the outer 5% point of one family.
//! `combine: "union"` takes the lowest lower and the highest upper limit of the two
//! families' own intervals (BCa and posterior quantiles), which covers whenever either
//! does. Neither is a posterior or a sampling distribution of one model; how often they
//! cover is what the simulation grid of `models/scenarios` measures.
//!
//! A family that gives no number (a bootstrap with fewer usable replicates than the level
//! needs, a method that stops) leaves the other to make the interval alone, with a
//! warning. When the stepwise fit has no finite estimate (its MLE does not exist even where
//! it starts, with main effects alone), the lists' overlaps do not bound N, and the
//! estimate has status `infinite` and no number: LCMCR's posterior would then be its
//! prior's answer, not the data's. The point estimate is the median of the pool.

use super::details::{Combine, Details, LevelLimits, PooledDetails, PooledFamily};
use super::types::{Estimate, Status};
use crate::checked::Level;
use crate::error::Error;
use crate::inference::bootstrap::{self, Limits};
use crate::inference::mcmc::quantile7;
use crate::inference::{Construction, Draws, Interval};

/// Fewest parametric bootstrap replicates of the stepwise family.
pub const MIN_REPLICATES: usize = 1000;

/// LCMCR's burn-in in `pooled` (its own default is 100,000, about 30 s a dataset; a
/// simulation study needs thousands). Measured on the grid's tables and datasets drawn from
/// its scenarios: 20,000 × 2 chains of 2,000 draws every 20 give R-hat ≤ 1.002 on New
/// Orleans, Western and 8 sparse lists and ≤ 1.022 (bulk ESS 90–200) on the latent-class
/// design, whose posterior of N mixes slowly at any length tried; on the UK table the
/// chains settle in different modes (N near 12,000 or 21,000) however long they run, and
/// the warning says so. On ten latent-class datasets the package's own settings (35 times
/// the work of 10,000 × 2 chains of 1,000 every 10) gave the same bias, −10%, as those:
/// LCMCR's under-coverage there is its model's, not its sampler's.
pub const LCMCR_BURNIN: usize = 20_000;
/// LCMCR's draws kept per chain in `pooled`.
pub const LCMCR_SAMPLES: usize = 2_000;
/// LCMCR's thinning in `pooled`.
pub const LCMCR_THINNING: usize = 20;
/// LCMCR's chains in `pooled`.
pub const LCMCR_CHAINS: usize = 2;

/// Replicates of the stepwise family's bootstrap at `level`: at least 1000, and twice what
/// an interval at that level needs, so that failed replicates rarely leave it short.
pub fn replicates(level: f64) -> usize {
    MIN_REPLICATES.max(2 * bootstrap::needed(level))
}

/// The levels whose limits are recorded: those every study measures, and the estimate's.
fn levels(level: f64) -> Vec<f64> {
    let mut v = vec![0.8, 0.9, 0.95, level];
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    v
}

/// A family's draws of N and its limits at a level.
struct Usable {
    draws: Vec<f64>,
    limits: Vec<LevelLimits>,
}

/// What a family brings to the pool: its bootstrap replicates (when enough are usable at
/// `level`) or its posterior draws; None, with the reason, when it brings nothing.
fn usable(est: &Estimate, level: f64) -> std::result::Result<Usable, String> {
    if est.status != Status::Ok || est.population.is_none() {
        return Err(format!("its status is {}", est.status));
    }
    if let Some(b) = &est.bootstrap {
        if b.usable < bootstrap::needed(level) {
            return Err(format!(
                "{} of {} bootstrap replicates gave an estimate, fewer than the {} a {}% interval needs",
                b.usable,
                b.replicates,
                bootstrap::needed(level),
                crate::inference::interval::level_percent(level)
            ));
        }
        let draws: Vec<f64> = b
            .values
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let find = |v: &[Limits], l: f64| {
            v.iter()
                .find(|x| (x.level - l).abs() < 1e-12 && x.lower.is_some() && x.upper.is_some())
                .cloned()
        };
        let limits = levels(level)
            .into_iter()
            .map(|l| {
                let x = find(&b.bca, l).or_else(|| find(&b.percentile, l));
                LevelLimits {
                    level: l,
                    lower: x.as_ref().and_then(|x| x.lower),
                    upper: x.as_ref().and_then(|x| x.upper),
                }
            })
            .collect();
        return Ok(Usable { draws, limits });
    }
    let draws: Vec<f64> = est
        .draws
        .as_ref()
        .map(|d| d.values.clone())
        .unwrap_or_default();
    if draws.is_empty() {
        return Err("it kept no draws".into());
    }
    let mut sorted = draws.clone();
    sorted.sort_by(f64::total_cmp);
    let limits = levels(level)
        .into_iter()
        .map(|l| LevelLimits {
            level: l,
            lower: Some(quantile7(&sorted, (1.0 - l) / 2.0)),
            upper: Some(quantile7(&sorted, (1.0 + l) / 2.0)),
        })
        .collect();
    Ok(Usable { draws, limits })
}

/// `size` of `draws`, evenly spaced in their order (chain after chain, replicate after
/// replicate), so that each family weighs the same in the pool.
fn thin(draws: &[f64], size: usize) -> Vec<f64> {
    (0..size).map(|i| draws[i * draws.len() / size]).collect()
}

/// Combines the families' estimates (`name`, the estimate or why there is none) on data
/// with `observed` people into `pooled`'s estimate.
pub fn combine(
    observed: u64,
    families: Vec<(&'static str, std::result::Result<Estimate, Error>)>,
    how: Combine,
    level: Level,
    replicates: usize,
) -> Estimate {
    let l = level.get();
    let mut warnings = Vec::new();
    let mut records = Vec::new();
    let mut used: Vec<Usable> = Vec::new();
    let mut unbounded = false;
    for (name, result) in families {
        match result {
            Err(e) => {
                warnings.push(format!(
                    "the {name} family gave no estimate ({e}); the interval rests on the other"
                ));
                records.push(PooledFamily {
                    draws: 0,
                    family: name.into(),
                    interval: None,
                    options: Box::new(Details::None),
                    population: None,
                    status: Status::Failed.as_str().into(),
                });
            }
            Ok(est) => {
                // A log-linear fit that runs off to infinity even with main effects alone
                // means the lists' overlaps do not bound N; a latent-class posterior would
                // still give a number, but its prior's, not the data's.
                let no_bound = matches!(est.status, Status::MleDoesNotExist | Status::Infinite);
                unbounded |= no_bound;
                for w in &est.warnings {
                    warnings.push(format!("{name} family: {w}"));
                }
                let u = usable(&est, l);
                let draws = match u {
                    Ok(u) => {
                        let n = u.draws.len();
                        used.push(u);
                        n
                    }
                    Err(why) => {
                        if !no_bound {
                            warnings.push(format!(
                                "the {name} family is left out of the pool: {why}; the interval rests on the other"
                            ));
                        }
                        0
                    }
                };
                records.push(PooledFamily {
                    draws,
                    family: name.into(),
                    interval: est.interval.clone(),
                    options: Box::new(est.options.clone()),
                    population: est.population,
                    status: est.status.as_str().into(),
                });
            }
        }
    }
    let size = used.iter().map(|u| u.draws.len()).min().unwrap_or(0);
    let pool: Vec<f64> = used.iter().flat_map(|u| thin(&u.draws, size)).collect();
    for r in records.iter_mut().filter(|r| r.draws > 0) {
        r.draws = size;
    }
    let label = format!("stepwise + lcmcr ({})", how.as_str());
    if unbounded {
        warnings.push(
            "the data do not bound N: a log-linear fit has no finite estimate on them, and the latent-class posterior would rest on its prior alone; no number is given".into(),
        );
        return Estimate {
            method: "pooled".into(),
            label,
            status: Status::Infinite,
            observed,
            options: Details::Pooled(PooledDetails {
                combine: how,
                families: records,
                level,
                limits: Vec::new(),
                replicates,
            }),
            warnings,
            ..Estimate::blank()
        };
    }
    if pool.is_empty() {
        warnings.push("no family gave draws of N, so there is no estimate".into());
        return Estimate {
            method: "pooled".into(),
            label,
            status: Status::Failed,
            observed,
            options: Details::Pooled(PooledDetails {
                combine: how,
                families: records,
                level,
                limits: Vec::new(),
                replicates,
            }),
            warnings,
            ..Estimate::blank()
        };
    }
    let mut sorted = pool.clone();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| quantile7(&sorted, p);
    let limits: Vec<LevelLimits> = levels(l)
        .into_iter()
        .enumerate()
        .map(|(i, lv)| match how {
            Combine::Mixture => {
                let at = |p: f64| bootstrap::supported(p, sorted.len()).then(|| q(p));
                LevelLimits {
                    level: lv,
                    lower: at((1.0 - lv) / 2.0),
                    upper: at((1.0 + lv) / 2.0),
                }
            }
            Combine::Union => {
                let all = |f: &dyn Fn(&LevelLimits) -> Option<f64>| -> Option<Vec<f64>> {
                    used.iter().map(|u| f(&u.limits[i])).collect()
                };
                LevelLimits {
                    level: lv,
                    lower: all(&|x| x.lower).map(|v| v.into_iter().fold(f64::INFINITY, f64::min)),
                    upper: all(&|x| x.upper)
                        .map(|v| v.into_iter().fold(f64::NEG_INFINITY, f64::max)),
                }
            }
        })
        .collect();
    // A replicate of the parametric bootstrap may see fewer people than the data did, and
    // its N̂ may then fall below them; no one's count is below the people seen.
    let limits: Vec<LevelLimits> = limits
        .into_iter()
        .map(|x| LevelLimits {
            lower: x.lower.map(|v| v.max(observed as f64)),
            ..x
        })
        .collect();
    let at_level = limits
        .iter()
        .find(|x| (x.level - l).abs() < 1e-12)
        .filter(|x| x.lower.is_some() && x.upper.is_some());
    let interval = at_level.map(|x| Interval {
        lower: x.lower,
        upper: x.upper,
        level: l,
        kind: match how {
            Combine::Mixture => Construction::PooledQuantiles,
            Combine::Union => Construction::UnionOfIntervals,
        },
        center: None,
    });
    if interval.is_none() {
        warnings.push(format!(
            "no interval: the pool of {} draws has fewer than {} beyond a {}% limit",
            sorted.len(),
            bootstrap::MIN_TAIL,
            crate::inference::interval::level_percent(l)
        ));
    }
    let median = q(0.5);
    let draws = Draws {
        values: pool,
        ..Draws::summarise(&sorted, q)
    };
    Estimate {
        method: "pooled".into(),
        label,
        status: Status::Ok,
        observed,
        population: Some(median),
        missing: Some(median - observed as f64),
        std_error: Some(draws.sd),
        interval,
        draws: Some(draws),
        options: Details::Pooled(PooledDetails {
            combine: how,
            families: records,
            level,
            limits,
            replicates,
        }),
        warnings,
        ..Estimate::blank()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::bootstrap::{BootKind, Bootstrap};

    fn posterior(values: Vec<f64>) -> Estimate {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        Estimate {
            method: "lcmcr".into(),
            status: Status::Ok,
            population: Some(quantile7(&sorted, 0.5)),
            draws: Some(Draws {
                values,
                ..Draws::summarise(&sorted, |p| quantile7(&sorted, p))
            }),
            ..Estimate::blank()
        }
    }

    fn bootstrapped(values: Vec<f64>) -> Estimate {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let lim = |l: f64| Limits {
            level: l,
            lower: Some(quantile7(&sorted, (1.0 - l) / 2.0)),
            upper: Some(quantile7(&sorted, (1.0 + l) / 2.0)),
        };
        Estimate {
            method: "stepwise".into(),
            status: Status::Ok,
            population: Some(quantile7(&sorted, 0.5)),
            bootstrap: Some(Bootstrap {
                replicates: values.len(),
                seed: 1,
                kind: BootKind::Parametric,
                failures: 0,
                failure_share: 0.0,
                usable: values.len(),
                needed: 400,
                z0: None,
                acceleration: None,
                bca: Vec::new(),
                percentile: [0.8, 0.9, 0.95].map(lim).to_vec(),
                values: values.into_iter().map(Some).collect(),
            }),
            ..Estimate::blank()
        }
    }

    fn level() -> Level {
        Level::try_from(0.95).unwrap()
    }

    /// Two families that do not overlap: the mixture's limits are each family's outer 5%
    /// point, the union's each family's own outer limit, and both hold the two medians.
    #[test]
    fn families_that_disagree_give_an_interval_from_one_to_the_other() {
        let low: Vec<f64> = (0..1000).map(|i| 1000.0 + i as f64 / 10.0).collect();
        let high: Vec<f64> = (0..2000).map(|i| 2000.0 + i as f64 / 10.0).collect();
        let fams = || {
            vec![
                ("stepwise", Ok(bootstrapped(low.clone()))),
                ("lcmcr", Ok(posterior(high.clone()))),
            ]
        };
        let m = combine(500, fams(), Combine::Mixture, level(), 1000);
        let iv = m.interval.clone().unwrap();
        assert_eq!(iv.kind, Construction::PooledQuantiles);
        // 2.5% of the pool of 2000 is the 5% point of the lower family (1000 + 5).
        assert!((iv.lower.unwrap() - 1005.0).abs() < 0.2, "{iv:?}");
        // The LCMCR draws are thinned to 1000: their 95% point, 2000 + 0.95·199.8.
        assert!((iv.upper.unwrap() - 2189.8).abs() < 0.5, "{iv:?}");
        assert_eq!(m.draws.as_ref().unwrap().values.len(), 2000);
        let u = combine(500, fams(), Combine::Union, level(), 1000);
        let iv = u.interval.clone().unwrap();
        assert_eq!(iv.kind, Construction::UnionOfIntervals);
        assert!((iv.lower.unwrap() - 1002.5).abs() < 0.2, "{iv:?}");
        assert!((iv.upper.unwrap() - 2194.9).abs() < 0.2, "{iv:?}");
        let Details::Pooled(d) = &u.options else {
            panic!("{:?}", u.options)
        };
        assert_eq!(
            d.families.iter().map(|f| f.draws).collect::<Vec<_>>(),
            [1000, 1000]
        );
        assert_eq!(d.limits.len(), 3);
    }

    /// A family that fails leaves the other's interval, and says so.
    #[test]
    fn a_family_without_an_answer_leaves_the_other() {
        let high: Vec<f64> = (0..2000).map(|i| 2000.0 + i as f64 / 10.0).collect();
        let e = combine(
            500,
            vec![
                ("stepwise", Err(Error::Numerical("no fit".into()))),
                ("lcmcr", Ok(posterior(high))),
            ],
            Combine::Union,
            level(),
            1000,
        );
        assert_eq!(e.status, Status::Ok);
        let iv = e.interval.unwrap();
        assert!((iv.lower.unwrap() - 2005.0).abs() < 0.01, "{iv:?}");
        assert!(e.warnings[0].contains("stepwise family gave no estimate"));
        // Too few bootstrap replicates: the family is left out, not trusted.
        let few = combine(
            500,
            vec![("stepwise", Ok(bootstrapped(vec![1.0e3; 100])))],
            Combine::Mixture,
            level(),
            1000,
        );
        assert_eq!(few.status, Status::Failed);
        assert!(few.population.is_none());
        assert!(
            few.warnings
                .iter()
                .any(|w| w.contains("fewer than the 400"))
        );
    }
}
