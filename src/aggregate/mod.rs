//! Behind the identified count: strata and their total. Each stratum (children/adults,
//! sex, region, year) is estimated on its own; the total's draws are the strata's bootstrap
//! draws summed replicate by replicate, their posterior draws summed draw by draw, or their
//! exact posteriors (dga) convolved (never interval ends added up), so the total's
//! interval carries the strata's uncertainty. A stratum with no estimate is shown with its
//! status and makes the total incomplete; it is never dropped silently. Runs after the
//! estimators, before the report.

pub mod global;
pub mod meta;

use crate::inference::bootstrap::quantile8;
use crate::inference::{Construction, Draws, Interval, Pmf};
use crate::methods::{Estimate, Status};
use serde::Serialize;

/// One stratum's estimates.
#[derive(Debug, Clone, Serialize)]
pub struct StratumResult {
    /// The stratum's value in the stratifying column.
    pub stratum: String,
    /// People identified in it.
    pub observed: u64,
    /// Estimates, in the job's method order.
    pub estimates: Vec<Estimate>,
}

/// The total over strata for one method.
#[derive(Debug, Clone, Serialize)]
pub struct Total {
    /// Method id.
    pub method: String,
    /// `ok`, or `incomplete` when some stratum has no estimate.
    pub status: String,
    /// People identified in all strata.
    pub observed: u64,
    /// Sum of the strata's N̂, or the posterior median of the summed posterior draws
    /// (`null` when incomplete).
    pub population: Option<f64>,
    /// Percentile interval of the summed draws (bootstrap or posterior draws).
    pub interval: Option<Interval>,
    /// Summary of the summed draws.
    pub draws: Option<Draws>,
    /// The summed draws, replicate by replicate (`null` where a stratum's replicate failed).
    pub values: Vec<Option<f64>>,
    /// How many of `values` have a number (every stratum had an estimate in that replicate
    /// or draw): the ones the draws and the interval are made from.
    pub replicates_used: usize,
    /// Strata without an estimate.
    pub strata_without_estimate: Vec<String>,
    /// What the reader should know.
    pub warnings: Vec<String>,
}

/// Totals for every method position that all strata share.
pub fn totals(strata: &[StratumResult], level: f64) -> Vec<Total> {
    let Some(first) = strata.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, e0) in first.estimates.iter().enumerate() {
        let ests: Vec<&Estimate> = strata.iter().filter_map(|s| s.estimates.get(i)).collect();
        if ests.len() != strata.len() || ests.iter().any(|e| e.method != e0.method) {
            continue;
        }
        let observed = strata.iter().map(|s| s.observed).sum();
        let missing: Vec<String> = strata
            .iter()
            .zip(&ests)
            .filter(|(_, e)| e.status != Status::Ok || e.population.is_none())
            .map(|(s, _)| s.stratum.clone())
            .collect();
        let mut warnings = Vec::new();
        if !missing.is_empty() {
            warnings.push(format!(
                "no estimate in stratum {}: the total is incomplete and is not given",
                missing.join(", ")
            ));
        }
        let population: Option<f64> = missing
            .is_empty()
            .then(|| ests.iter().filter_map(|e| e.population).sum());
        let boots: Vec<_> = ests.iter().filter_map(|e| e.bootstrap.as_ref()).collect();
        let posts: Vec<&Vec<f64>> = ests
            .iter()
            .filter_map(|e| e.draws.as_ref().map(|d| &d.values))
            .filter(|v| !v.is_empty())
            .collect();
        let exacts: Vec<&Pmf> = ests
            .iter()
            .filter_map(|e| e.draws.as_ref().and_then(|d| d.exact.as_ref()))
            .collect();
        let mut values = Vec::new();
        let (mut interval, mut draws) = (None, None);
        let mut population = population;
        let mut kind = Construction::BootstrapPercentileOfSum;
        if missing.is_empty() && boots.len() == ests.len() {
            let b = boots[0].replicates;
            if boots.iter().all(|x| x.replicates == b) {
                values = (0..b)
                    .map(|r| boots.iter().map(|x| x.values[r]).sum::<Option<f64>>())
                    .collect();
            }
        } else if missing.is_empty() && posts.len() == ests.len() {
            // Strata are fitted separately, so their posteriors are independent and draw i
            // of every stratum together is a draw of the joint posterior.
            let s = posts[0].len();
            if posts.iter().all(|v| v.len() == s) {
                values = (0..s)
                    .map(|i| Some(posts.iter().map(|v| v[i]).sum()))
                    .collect();
                kind = Construction::PosteriorQuantilesOfSum;
            } else {
                warnings.push("the strata have different numbers of posterior draws; no interval for the total".into());
            }
        } else if missing.is_empty() && exacts.len() == ests.len() {
            // Exact posteriors (dga): the total's is their convolution, the strata being
            // independent; its quantiles are exact as the strata's are.
            match convolve(&exacts) {
                Some(sum) => {
                    let (mean, sd) = sum.mean_sd();
                    let quantiles = crate::inference::interval::QUANTILES
                        .iter()
                        .map(|&p| (p, sum.quantile(p)))
                        .collect();
                    population = Some(sum.quantile(0.5));
                    interval = Some(Interval {
                        lower: Some(sum.quantile((1.0 - level) / 2.0)),
                        upper: Some(sum.quantile((1.0 + level) / 2.0)),
                        level,
                        kind: Construction::ExactPosteriorOfSum,
                        center: Some(mean),
                    });
                    draws = Some(Draws {
                        count: 0,
                        mean,
                        sd,
                        quantiles,
                        values: Vec::new(),
                        exact: Some(sum),
                    });
                }
                None => warnings.push(format!(
                    "the strata's exact posteriors are too wide to convolve (more than {CONVOLVE_LIMIT:.0e} products); no interval for the total"
                )),
            }
        } else if missing.is_empty() {
            warnings.push(
                "the total's interval needs a bootstrap (\"bootstrap\" in a job, --bootstrap B on the command line) or posterior draws of every stratum".into(),
            );
        }
        let b = values.len();
        let mut ok: Vec<f64> = values.iter().flatten().copied().collect();
        ok.sort_by(f64::total_cmp);
        let bootstrapped = kind == Construction::BootstrapPercentileOfSum;
        // The same minimum as each stratum's own bootstrap interval.
        let needed = crate::inference::bootstrap::needed(level);
        let too_few = bootstrapped && ok.len() < needed;
        if !ok.is_empty() {
            // Posterior draws are summarised as the samplers do (type 7, R's default);
            // bootstrap draws with type 8 as the bootstrap does.
            let q = |p: f64| {
                if kind == Construction::PosteriorQuantilesOfSum {
                    crate::inference::mcmc::quantile7(&ok, p)
                } else {
                    quantile8(&ok, p)
                }
            };
            if kind == Construction::PosteriorQuantilesOfSum {
                // The total's point estimate is the posterior median of the sum, not the
                // sum of the strata's medians.
                population = Some(q(0.5));
            }
            let mut d = Draws::summarise(&ok, q);
            if bootstrapped {
                // A tail quantile is a limit by another name: held to the same support.
                d.quantiles
                    .retain(|&(p, _)| crate::inference::bootstrap::supported(p, ok.len()));
            }
            draws = Some(d);
            if !too_few {
                interval = Some(Interval {
                    lower: Some(q((1.0 - level) / 2.0)),
                    upper: Some(q((1.0 + level) / 2.0)),
                    level,
                    kind: kind.into(),
                    center: None,
                });
            }
        }
        if too_few && b > 0 {
            warnings.push(format!(
                "{} of {b} summed replicates had an estimate in every stratum, and a {}% interval needs at least {needed} ({} beyond each limit), so the total has none; run more replicates (\"bootstrap\" in a job, --bootstrap on the command line)",
                ok.len(),
                crate::inference::interval::level_percent(level),
                crate::inference::bootstrap::MIN_TAIL
            ));
        } else if b > ok.len() {
            warnings.push(format!(
                "{} of {b} summed replicates had a stratum without an estimate; the interval uses the other {}",
                b - ok.len(),
                ok.len()
            ));
        }
        out.push(Total {
            method: e0.method.clone(),
            status: if missing.is_empty() {
                "ok".into()
            } else {
                "incomplete".into()
            },
            observed,
            population,
            interval,
            draws,
            replicates_used: ok.len(),
            values,
            strata_without_estimate: missing,
            warnings,
        });
    }
    out
}

/// Most products a convolution of strata posteriors may take (~1 s).
const CONVOLVE_LIMIT: f64 = 2e9;

/// Tail mass dropped at each end after each convolution step (as each stratum's was).
const SUM_TAIL: f64 = 1e-13;

/// The distribution of a sum of independent variables with the given distributions, or
/// None when there is none to sum, one has no support, or it would take more than
/// `CONVOLVE_LIMIT` products.
pub fn convolve(parts: &[&Pmf]) -> Option<Pmf> {
    if parts.iter().any(|p| p.probs.is_empty()) {
        return None;
    }
    let (first, rest) = parts.split_first()?;
    let mut len = first.probs.len() as f64;
    let mut cost = 0.0;
    for p in rest {
        cost += len * p.probs.len() as f64;
        len += p.probs.len() as f64;
    }
    if cost > CONVOLVE_LIMIT {
        return None;
    }
    let mut sum = (*first).clone();
    for p in rest {
        let mut out = vec![0.0; sum.probs.len() + p.probs.len() - 1];
        for (i, a) in sum.probs.iter().enumerate() {
            for (o, b) in out[i..].iter_mut().zip(&p.probs) {
                *o += a * b;
            }
        }
        sum = Pmf {
            first: sum.first + p.first,
            probs: out,
        }
        .trimmed(SUM_TAIL);
    }
    Some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stratum whose bootstrap of `b` replicates fails in the first `failed`.
    fn stratum(name: &str, pop: f64, b: usize, failed: usize) -> StratumResult {
        use crate::inference::bootstrap::{BootKind, Bootstrap};
        let values = (0..b)
            .map(|r| (r >= failed).then_some(pop + (r % 17) as f64))
            .collect();
        StratumResult {
            stratum: name.into(),
            observed: 50,
            estimates: vec![Estimate {
                method: "main".into(),
                status: Status::Ok,
                observed: 50,
                population: Some(pop),
                bootstrap: Some(Bootstrap {
                    replicates: b,
                    seed: 1,
                    kind: BootKind::Nonparametric,
                    failures: failed,
                    failure_share: failed as f64 / b as f64,
                    usable: b - failed,
                    needed: 400,
                    z0: None,
                    acceleration: None,
                    bca: Vec::new(),
                    percentile: Vec::new(),
                    values,
                }),
                ..Estimate::blank()
            }],
        }
    }

    #[test]
    fn a_total_says_how_many_replicates_entered_it_and_needs_enough() {
        let t = &totals(
            &[stratum("a", 100.0, 500, 0), stratum("b", 80.0, 500, 0)],
            0.95,
        )[0];
        assert_eq!(t.replicates_used, 500);
        assert!(t.interval.is_some() && t.warnings.is_empty(), "{t:?}");
        // 150 failed replicates in one stratum leave 350 sums: no interval, and why.
        let t = &totals(
            &[stratum("a", 100.0, 500, 0), stratum("b", 80.0, 500, 150)],
            0.95,
        )[0];
        assert_eq!(t.replicates_used, 350);
        assert_eq!(t.population, Some(180.0));
        assert!(t.interval.is_none());
        assert!(
            t.warnings[0].starts_with("350 of 500 summed replicates")
                && t.warnings[0].contains("at least 400"),
            "{:?}",
            t.warnings
        );
        // At 90% the same 350 are enough, and the warning says how many were used.
        let t = &totals(
            &[stratum("a", 100.0, 500, 0), stratum("b", 80.0, 500, 150)],
            0.9,
        )[0];
        assert!(t.interval.is_some());
        assert!(
            t.warnings[0].contains("uses the other 350"),
            "{:?}",
            t.warnings
        );
    }

    #[test]
    fn convolution_of_small_distributions() {
        let a = Pmf {
            first: 10,
            probs: vec![0.5, 0.5],
        };
        let b = Pmf {
            first: 20,
            probs: vec![0.25, 0.75],
        };
        let s = convolve(&[&a, &b]).expect("small");
        assert_eq!(s.first, 30);
        assert_eq!(s.probs, vec![0.125, 0.5, 0.375]);
        assert_eq!(s.quantile(0.125), 30.0);
        assert_eq!(s.quantile(0.13), 31.0);
        assert_eq!(s.quantile(0.625), 31.0);
        assert_eq!(s.quantile(0.7), 32.0);
        let (m, sd) = s.mean_sd();
        assert!((m - 31.25).abs() < 1e-12);
        assert!((sd * sd - (0.25 + 0.1875)).abs() < 1e-12);
        assert_eq!(convolve(&[]), None);
        let empty = Pmf {
            first: 0,
            probs: Vec::new(),
        };
        assert_eq!(convolve(&[&a, &empty]), None);
    }

    #[test]
    fn trimming_drops_only_tails_below_the_mass() {
        let p = Pmf {
            first: 5,
            probs: vec![1e-15, 2e-15, 0.5, 0.5 - 4e-15, 1e-15],
        };
        let t = p.trimmed(1e-14);
        assert_eq!(t.first, 7);
        assert_eq!(t.probs.len(), 2);
        let one = Pmf {
            first: 3,
            probs: vec![1.0],
        }
        .trimmed(0.5);
        assert_eq!(one.probs, vec![1.0]);
    }
}
