//! The bootstrap of a single-source estimate, as singleRcapture's `popVar = "bootstrap"`:
//! non-parametric (the n people seen resampled with replacement) or parametric (each
//! covariate group's population round(N̂ₓ) drawn anew from the fitted model: how many are
//! seen, then how often), the model refitted on every replicate (from θ̂, on its own
//! stream), percentile limits as the package gives them (BCa beside them in the JSON).

use super::fit::{self, Design};
use super::models::Model;
use super::{Formula, MAX_DFPOPSIZE_ROWS, fit_point};
use crate::data::counts::CountData;
use crate::error::Result;
use crate::inference::bootstrap::{self, BootKind, BootOptions, multinomial};
use crate::methods::types::{Estimate, ProgressFn, Settings};
use crate::montecarlo::variates::binomial;
use rand::RngExt;

/// Runs the bootstrap of `est` (a fit of `model` with `formula` on `data`) and makes it the
/// estimate's draws and interval.
pub fn attach(
    data: &CountData,
    model: Model,
    formula: &Formula,
    est: &mut Estimate,
    settings: &Settings,
    progress: Option<&ProgressFn>,
    b: BootOptions,
) -> Result<()> {
    let Some(point) = crate::methods::bootstrapped::point_of(est) else {
        return Ok(());
    };
    let design = Design::new(data, &formula.covariates, &formula.baseline)?;
    let Some((_, theta)) = fit_point(model, &design, None) else {
        return Ok(());
    };
    let level = settings.level.get();
    let noop = crate::montecarlo::no_progress;
    let progress: crate::montecarlo::Progress = match progress {
        Some(p) => &*p.0,
        None => &noop,
    };
    let w: Vec<f64> = design.rows.iter().map(|r| r.2).collect();
    let n = w.iter().sum::<f64>() as u64;
    let values: Vec<Option<f64>> = match b.kind {
        BootKind::Nonparametric => {
            crate::montecarlo::replicate(b.replicates, b.seed, progress, |_, rng| {
                let counts = multinomial(rng, n, &w);
                let wr: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
                fit_point(model, &design.reweighted(&wr), Some(&theta)).map(|x| x.0)
            })
        }
        BootKind::Parametric => {
            let groups = groups(model, &design, &theta);
            crate::montecarlo::replicate(b.replicates, b.seed, progress, |_, rng| {
                let rows = simulate(&groups, rng);
                let d = Design {
                    names: design.names.clone(),
                    rows,
                    of_data_row: Vec::new(),
                };
                fit_point(model, &d, Some(&theta)).map(|x| x.0)
            })
        }
    };
    let jack = (design.rows.len() <= MAX_DFPOPSIZE_ROWS)
        .then(|| {
            (0..design.rows.len())
                .map(|r| {
                    let mut w2 = w.clone();
                    w2[r] -= 1.0;
                    fit_point(model, &design.reweighted(&w2), Some(&theta)).map(|x| (w[r], x.0))
                })
                .collect::<Option<Vec<_>>>()
        })
        .flatten();
    let boot = bootstrap::summarise(
        values,
        point,
        jack,
        level,
        &crate::methods::bootstrapped::levels(level),
        b,
    );
    crate::methods::bootstrapped::present(est, boot, level, true);
    Ok(())
}

/// One covariate group of the parametric bootstrap: its design row, its population
/// round(N̂ₓ), its chance of being seen and the truncated law of its counts.
struct Group {
    x: Vec<f64>,
    population: u64,
    seen: f64,
    cdf: Vec<f64>,
}

/// The largest count a parametric replicate draws (the truncated law's tail beyond is
/// folded into it).
const MAX_DRAWN: u64 = 1000;

fn groups(model: Model, d: &Design, theta: &[f64]) -> Vec<Group> {
    let mut by_x: std::collections::BTreeMap<Vec<u64>, (Vec<f64>, f64)> = Default::default();
    for (x, y, w) in &d.rows {
        let (e1, e2) = fit::predictors(model, x, theta);
        let s = model
            .share(*y, super::dual::D2::cst(e1), super::dual::D2::cst(e2))
            .v;
        let key = x.iter().map(|v| v.to_bits()).collect();
        by_x.entry(key).or_insert_with(|| (x.clone(), 0.0)).1 += w * s;
    }
    let kmax = d.rows.iter().map(|r| r.1).max().unwrap_or(1);
    by_x.into_values()
        .map(|(x, nx)| {
            let (e1, e2) = fit::predictors(model, &x, theta);
            let unseen = model
                .unseen(super::dual::D2::cst(e1), super::dual::D2::cst(e2))
                .v;
            // Enough of the law to hold all but 1e-12 of it, at most MAX_DRAWN counts.
            let mut k = (4 * kmax).max(20).min(MAX_DRAWN);
            let mut pmf = model.truncated_pmf(k, e1, e2);
            while pmf.iter().sum::<f64>() < 1.0 - 1e-12 && k < MAX_DRAWN {
                k = (2 * k).min(MAX_DRAWN);
                pmf = model.truncated_pmf(k, e1, e2);
            }
            let mut acc = 0.0;
            let cdf = pmf
                .iter()
                .map(|p| {
                    acc += p;
                    acc
                })
                .collect();
            Group {
                x,
                population: nx.round().max(0.0) as u64,
                seen: (1.0 - unseen).clamp(0.0, 1.0),
                cdf,
            }
        })
        .collect()
}

/// One parametric replicate's design rows.
fn simulate(groups: &[Group], rng: &mut chacha20::ChaCha8Rng) -> Vec<(Vec<f64>, u64, f64)> {
    let mut rows = Vec::new();
    for g in groups {
        let seen = binomial(rng, g.population, g.seen);
        let mut counts = vec![0u64; g.cdf.len()];
        for _ in 0..seen {
            let u: f64 = rng.random::<f64>() * g.cdf.last().copied().unwrap_or(1.0);
            let k = g.cdf.partition_point(|&c| c < u).min(g.cdf.len() - 1);
            counts[k] += 1;
        }
        rows.extend(
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(k, &c)| (g.x.clone(), k as u64 + 1, c as f64)),
        );
    }
    rows
}
