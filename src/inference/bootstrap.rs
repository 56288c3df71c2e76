//! Bootstrap intervals that repeat the model choice in every replicate (Chan, Silverman &
//! Vincent 2021, §3.3; SparseMSE `estimatepopulation`). Non-parametric: the n observed
//! people are resampled as a multinomial over the distinct observed capture histories.
//! Parametric: the number observed is drawn as Binomial(round N̂, Σμ/N̂) and the histories as
//! a multinomial over the fitted cell means μ of the chosen model. BCa limits (Efron 1987;
//! DiCiccio & Efron 1996) use the bias correction z₀ = Φ⁻¹(share of replicates below N̂) and
//! the jackknife acceleration over the distinct observed histories, each left-out person
//! weighted by its history's count; percentile limits are given beside them. Quantiles are
//! Hyndman & Fan's type 8, as SparseMSE's.
//!
//! A limit is given only when at least [`MIN_TAIL`] successful replicates lie beyond it: a
//! percentile limit at tail probability q from B usable replicates needs B·q ≥ 10 (at 95%,
//! B ≥ 400), a BCa limit the same at its adjusted probability. The number of replicates
//! beyond the true q-quantile is about Poisson(B·q); with 10 expected its relative
//! Monte Carlo error is 1/√10 ≈ 0.3, with 1 or 2 (`--bootstrap 50` at 95%) the "limit" is
//! the most extreme replicate and the interval does not have the coverage it claims (it
//! may even exclude N̂). Failed replicates do not count, so a bootstrap whose model choice
//! mostly fails gives no interval.

use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::montecarlo::multinomial::multinomial_ordered;
use crate::montecarlo::variates::binomial;
use crate::montecarlo::{Progress, replicate};
use chacha20::ChaCha8Rng;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

/// Which bootstrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BootKind {
    /// Resample the observed people.
    #[default]
    Nonparametric,
    /// Simulate from the fitted model.
    Parametric,
}

/// Options of a bootstrap.
#[derive(Debug, Clone, Copy)]
pub struct BootOptions {
    /// Number of replicates.
    pub replicates: usize,
    /// Master seed.
    pub seed: u64,
    /// Which bootstrap.
    pub kind: BootKind,
}

/// Limits at one level.
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    /// Nominal coverage.
    pub level: f64,
    /// Lower limit.
    pub lower: Option<f64>,
    /// Upper limit.
    pub upper: Option<f64>,
}

/// Everything a bootstrap produced.
#[derive(Debug, Clone, Serialize)]
pub struct Bootstrap {
    /// Replicates drawn.
    pub replicates: usize,
    /// Master seed.
    pub seed: u64,
    /// Which bootstrap.
    pub kind: BootKind,
    /// Replicates whose chosen model had no estimate (MLE does not exist, not identifiable).
    pub failures: usize,
    /// failures / replicates.
    pub failure_share: f64,
    /// Replicates with a finite N̂: the ones every limit is made from.
    pub usable: usize,
    /// Usable replicates an interval at the job's level needs ([`needed`]); with fewer, no
    /// limit at that level is given.
    pub needed: usize,
    /// Bias correction z₀.
    pub z0: Option<f64>,
    /// Jackknife acceleration â.
    pub acceleration: Option<f64>,
    /// BCa limits at 80, 90, 95% (and the requested level).
    pub bca: Vec<Limits>,
    /// Percentile limits at the same levels.
    pub percentile: Vec<Limits>,
    /// N̂ of every replicate in order (`null` for a failure): kept for aggregation.
    pub values: Vec<Option<f64>>,
}

/// Fewest successful replicates that must lie beyond each limit of a bootstrap interval.
pub const MIN_TAIL: f64 = 10.0;

/// Whether `usable` replicates support a limit at probability `q`: at least [`MIN_TAIL`]
/// of them expected beyond it (with a margin for the rounding of (1 ± level)/2).
pub fn supported(q: f64, usable: usize) -> bool {
    usable as f64 * q.min(1.0 - q) >= MIN_TAIL * (1.0 - 1e-9)
}

/// Successful replicates an equal-tailed interval at `level` needs ([`MIN_TAIL`] beyond each
/// limit): 400 at 95%, 200 at 90%, 100 at 80%.
pub fn needed(level: f64) -> usize {
    (MIN_TAIL / ((1.0 - level) / 2.0) * (1.0 - 1e-9)).ceil() as usize
}

/// The probability at which the BCa limit for nominal tail `alpha` is read off the
/// replicates: Φ(z₀ + (z₀ + z_α)/(1 − â(z₀ + z_α))).
pub fn bca_probability(z0: f64, acceleration: f64, alpha: f64) -> f64 {
    let norm = Normal::standard();
    let s = z0 + norm.inverse_cdf(alpha);
    norm.cdf(z0 + s / (1.0 - acceleration * s))
}

impl Bootstrap {
    /// Nulls every limit with fewer than [`MIN_TAIL`] usable replicates beyond it: a
    /// percentile limit at its tail probability, a BCa limit at its adjusted one.
    pub fn withhold_unsupported(&mut self) {
        let usable = self.usable;
        let keep = |x: &mut Option<f64>, q: Option<f64>| {
            if !q.is_some_and(|q| supported(q, usable)) {
                *x = None;
            }
        };
        for l in &mut self.percentile {
            keep(&mut l.lower, Some((1.0 - l.level) / 2.0));
            keep(&mut l.upper, Some((1.0 + l.level) / 2.0));
        }
        let (z0, a) = (self.z0, self.acceleration);
        let q = |alpha: f64| Some(bca_probability(z0?, a?, alpha));
        for l in &mut self.bca {
            keep(&mut l.lower, q((1.0 - l.level) / 2.0));
            keep(&mut l.upper, q((1.0 + l.level) / 2.0));
        }
    }
}

/// Hyndman & Fan type-8 quantile of sorted data.
pub fn quantile8(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len() as f64;
    let h = (n + 1.0 / 3.0) * p + 1.0 / 3.0;
    if h <= 1.0 {
        return sorted[0];
    }
    if h >= n {
        return sorted[sorted.len() - 1];
    }
    let j = h.floor();
    let lo = sorted[j as usize - 1];
    let hi = sorted[j as usize];
    lo + (h - j) * (hi - lo)
}

/// Draws a multinomial sample of size `n` with weights `w` (not necessarily normalised) by
/// sequential binomials, in a fixed category order.
pub fn multinomial(rng: &mut ChaCha8Rng, n: u64, w: &[f64]) -> Vec<u64> {
    let order: Vec<usize> = (0..w.len()).collect();
    let mut out = vec![0u64; w.len()];
    multinomial_ordered(rng, n, w, &order, &mut out);
    out
}

/// Runs the bootstrap. `estimator` re-runs the whole method (selection included) on a table
/// and returns N̂ or None; `point` is N̂ on the data; `fitted` the chosen model's cell means
/// (needed for the parametric bootstrap); limits are made at each of `levels`, as the
/// package makes them (a report withholds those without support:
/// [`Bootstrap::withhold_unsupported`]); `level` is the one the caller reports.
#[allow(clippy::too_many_arguments)]
pub fn run(
    table: &CaptureTable,
    point: f64,
    fitted: Option<&[(u64, f64)]>,
    level: f64,
    levels: &[f64],
    opts: BootOptions,
    estimator: &(dyn Fn(&CaptureTable) -> Option<f64> + Sync),
    progress: Progress,
) -> Result<Bootstrap> {
    if opts.replicates == 0 {
        return Err(Error::Usage(
            "the bootstrap needs at least 1 replicate".into(),
        ));
    }
    let lists = table.lists().to_vec();
    let rows: Vec<(u64, u64)> = table.cells().to_vec();
    let n: u64 = rows.iter().map(|r| r.1).sum();
    let values: Vec<Option<f64>> = match opts.kind {
        BootKind::Nonparametric => {
            let w: Vec<f64> = rows.iter().map(|r| r.1 as f64).collect();
            replicate(opts.replicates, opts.seed, progress, |_, rng| {
                let counts = multinomial(rng, n, &w);
                let t = CaptureTable::new(
                    lists.clone(),
                    rows.iter().zip(&counts).map(|(r, &c)| (r.0, c)),
                )
                .ok()?;
                (t.observed() > 0).then(|| estimator(&t)).flatten()
            })
        }
        BootKind::Parametric => {
            let cells = fitted.ok_or_else(|| {
                Error::Usage("the parametric bootstrap needs a fitted log-linear model".into())
            })?;
            let mu: Vec<f64> = cells.iter().map(|c| c.1).collect();
            let total: f64 = mu.iter().sum();
            let big_n = point.round().max(total.ceil()) as u64;
            replicate(opts.replicates, opts.seed, progress, |_, rng| {
                let nobs = binomial(rng, big_n, (total / point).clamp(0.0, 1.0));
                let counts = multinomial(rng, nobs, &mu);
                let t = CaptureTable::new(
                    lists.clone(),
                    cells.iter().zip(&counts).map(|(c, &x)| (c.0, x)),
                )
                .ok()?;
                (t.observed() > 0).then(|| estimator(&t)).flatten()
            })
        }
    };
    // Jackknife over the distinct observed histories (one person left out at a time).
    let mut jack = Vec::with_capacity(rows.len());
    let mut jack_ok = true;
    for (j, &(_, c)) in rows.iter().enumerate() {
        let t = CaptureTable::new(
            lists.clone(),
            rows.iter()
                .enumerate()
                .map(|(i, r)| (r.0, if i == j { c - 1 } else { r.1 })),
        )?;
        match estimator(&t) {
            Some(v) if v.is_finite() => jack.push((c as f64, v)),
            _ => {
                jack_ok = false;
                break;
            }
        }
    }
    Ok(summarise(
        values,
        point,
        jack_ok.then_some(jack),
        level,
        levels,
        opts,
    ))
}

/// The bootstrap of `values` (one per replicate, None where the replicate had no
/// estimate): percentile and BCa limits at each of `levels` around `point`, with the
/// acceleration from the jackknife (people left out one at a time: (people, N̂ without one
/// of them) per distinct row; None when a jackknife estimate failed).
pub fn summarise(
    values: Vec<Option<f64>>,
    point: f64,
    jack: Option<Vec<(f64, f64)>>,
    level: f64,
    levels: &[f64],
    opts: BootOptions,
) -> Bootstrap {
    let failures = values.iter().filter(|v| v.is_none()).count();
    let mut ok: Vec<f64> = values
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    ok.sort_by(f64::total_cmp);
    let acceleration = if let Some(jack) = jack.filter(|j| !j.is_empty()) {
        let total: f64 = jack.iter().map(|(c, _)| c).sum();
        let mean = jack.iter().map(|(c, v)| c * v).sum::<f64>() / total;
        let num: f64 = jack.iter().map(|(c, v)| c * (mean - v).powi(3)).sum();
        let den: f64 = jack.iter().map(|(c, v)| c * (mean - v).powi(2)).sum();
        Some(if den > 0.0 {
            num / (6.0 * den.powf(1.5))
        } else {
            0.0
        })
    } else {
        None
    };
    let norm = Normal::standard();
    let below = values.iter().flatten().filter(|&&v| v < point).count() as f64
        / values.iter().flatten().count().max(1) as f64;
    let z0 = norm.inverse_cdf(below);
    let z0 = z0.is_finite().then_some(z0);
    let at = |p: f64| (!ok.is_empty()).then(|| quantile8(&ok, p));
    let bca_q = |alpha: f64| -> Option<f64> { at(bca_probability(z0?, acceleration?, alpha)) };
    let bca = levels
        .iter()
        .map(|&l| Limits {
            level: l,
            lower: bca_q((1.0 - l) / 2.0),
            upper: bca_q((1.0 + l) / 2.0),
        })
        .collect();
    let percentile = levels
        .iter()
        .map(|&l| Limits {
            level: l,
            lower: at((1.0 - l) / 2.0),
            upper: at((1.0 + l) / 2.0),
        })
        .collect();
    Bootstrap {
        replicates: opts.replicates,
        seed: opts.seed,
        kind: opts.kind,
        failures,
        failure_share: failures as f64 / opts.replicates as f64,
        usable: ok.len(),
        needed: needed(level),
        z0,
        acceleration,
        bca,
        percentile,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type8_quantiles() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile8(&x, 0.0), 1.0);
        assert_eq!(quantile8(&x, 1.0), 4.0);
        // h = (4 + 1/3)·0.5 + 1/3 = 2.5
        assert!((quantile8(&x, 0.5) - 2.5).abs() < 1e-12);
    }

    #[test]
    fn an_interval_needs_ten_usable_replicates_beyond_each_limit() {
        assert_eq!((needed(0.95), needed(0.9), needed(0.8)), (400, 200, 100));
        assert_eq!(needed(0.99), 2000);
        assert!(supported(0.025, 400) && !supported(0.025, 399));
        assert!(supported(0.95, 200) && !supported(0.95, 199));
        // A BCa limit at an adjusted probability of 0.0005 would need 20,000.
        assert!(!supported(0.0005, 19_999) && supported(0.0005, 20_000));
    }

    #[test]
    fn limits_without_support_are_withheld() {
        // 300 usable replicates: 80% and 90% limits stand, 95% ones (7.5 beyond) do not;
        // a BCa with z₀ = −0.2 reads its lower 90% limit at about 2% (6 beyond), which goes
        // too, while its upper limits move inwards and stay.
        let limits = |lo, hi| {
            [0.8, 0.9, 0.95]
                .map(|level| Limits {
                    level,
                    lower: Some(lo),
                    upper: Some(hi),
                })
                .to_vec()
        };
        let mut b = Bootstrap {
            replicates: 300,
            seed: 1,
            kind: BootKind::Nonparametric,
            failures: 0,
            failure_share: 0.0,
            usable: 300,
            needed: needed(0.95),
            z0: Some(-0.2),
            acceleration: Some(0.0),
            bca: limits(1.0, 2.0),
            percentile: limits(1.0, 2.0),
            values: Vec::new(),
        };
        b.withhold_unsupported();
        let pairs = |v: &[Limits]| v.iter().map(|l| (l.lower, l.upper)).collect::<Vec<_>>();
        assert_eq!(
            pairs(&b.percentile),
            [(Some(1.0), Some(2.0)), (Some(1.0), Some(2.0)), (None, None)]
        );
        assert_eq!(
            pairs(&b.bca),
            [(Some(1.0), Some(2.0)), (None, Some(2.0)), (None, Some(2.0))]
        );
        assert!(bca_probability(-0.2, 0.0, 0.05) < 10.0 / 300.0);
        // Without z₀ there is no BCa limit at all.
        b.z0 = None;
        b.withhold_unsupported();
        assert!(b.bca.iter().all(|l| l.lower.is_none() && l.upper.is_none()));
    }

    #[test]
    fn multinomial_sums_to_n() {
        let mut rng = crate::montecarlo::stream(3, 0);
        let x = multinomial(&mut rng, 1000, &[1.0, 2.0, 0.0, 7.0]);
        assert_eq!(x.iter().sum::<u64>(), 1000);
        assert_eq!(x[2], 0);
    }
}
