//! Single-source capture–recapture: zero-truncated count regression with covariates, as
//! singleRcapture 0.2.3's `estimatePopsize` (van der Heijden, Bustami, Cruyff, Engbersen &
//! van Houwelingen 2003, Statistical Modelling 3:305; Böhning & van der Heijden 2019;
//! Böhning et al. 2023; the package: Chlebicki, Beręsewicz & Radziński 2024).
//!
//! Data: one register that records how many times y ≥ 1 it met each person, with the
//! person's covariates x. Model: y given x follows a count law (Poisson, geometric,
//! negative binomial, or one of them one-inflated) whose mean depends on x through a log
//! link; the register's zeros are not seen, so the law is fitted truncated at zero, and the
//! people never met are estimated as if their count followed the same law as the seen
//! (assumptions: a closed population; every person's count follows the model given their
//! covariates; persons independent; the unseen are like the seen with the same
//! covariates). N̂ = Σ 1/P(y > 0 | x) over the seen (Horvitz–Thompson). Zelterman's
//! model fits only counts 1 and 2 (robust to what happens beyond), and Chao's lower bound
//! adds 1/(λ + λ²/2) for each person seen once or twice.
//!
//! Variance (`popVar = "analytic"`): Var N̂ = ∇N̂ᵀ Cov(θ̂) ∇N̂ + Σ (1 − p)/p², the first
//! term the coefficients' uncertainty (Cov the inverse observed information), the second
//! the sampling of who is seen given them. Intervals: normal N̂ ± z·se and Chao's
//! log-normal n + f₀/C, n + f₀·C (never below n; the one shown). A bootstrap resamples the
//! seen (non-parametric) or draws from the fitted model (parametric), refits, and gives
//! percentile limits, as the package does.
//!
//! `dual.rs` holds the derivatives, `models.rs` the nine laws, `fit.rs` the design and the
//! Newton fit; this file turns a fit into an `Estimate`.

pub mod boot;
pub mod dual;
pub mod fit;
pub mod models;

use super::details::{
    Details, DfPopsize, DfPopsizeRow, GoodnessOfFit, Limits2, MarginalCell, SingleSourceDetails,
};
use super::types::{Coefficient, Estimate, FitSummary, Settings, Status};
use crate::data::counts::{ColumnKind, CountData};
use crate::error::Result;
use crate::inference::{Construction, Interval, log_normal_interval, qnorm};
use dual::D2;
use fit::{Design, Ending, Fit, MAX_ITER};
pub use models::{MODELS, Model};
use statrs::distribution::{ChiSquared, ContinuousCDF};
use std::collections::BTreeMap;

/// The regression a single-source method fits: its covariates and reference levels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Formula {
    /// Covariate columns (none: intercept only).
    pub covariates: Vec<String>,
    /// Reference level of a categorical covariate, by column (default: first in sorted
    /// order).
    pub baseline: BTreeMap<String, String>,
}

/// Most distinct (covariates, count) rows for which the deletion diagnostics refit the
/// model once per row; beyond, they are not computed (the JSON says so).
pub const MAX_DFPOPSIZE_ROWS: usize = 1000;

/// A fitted model with its N̂ and its analytic variance, reused by the bootstrap.
pub struct Fitted {
    /// The design.
    pub design: Design,
    /// The fit.
    pub fit: Fit,
    /// N̂.
    pub population: f64,
}

/// N̂ and its gradient in θ under `model` at `theta` over the design's people.
fn population(model: Model, d: &Design, theta: &[f64]) -> (f64, Vec<f64>) {
    let p = d.p();
    let mut grad = vec![0.0; theta.len()];
    let mut total = 0.0;
    for (x, y, w) in &d.rows {
        let (e1, e2) = fit::predictors(model, x, theta);
        let s = model.share(*y, D2::var(0, e1), D2::var(1, e2));
        total += w * s.v;
        for a in 0..p {
            grad[a] += w * s.g[0] * x[a];
        }
        if theta.len() > p {
            grad[p] += w * s.g[1];
        }
    }
    (total, grad)
}

/// Fits `model` with `formula` on the data; the point estimate only (what a bootstrap
/// replicate needs). None when the fit does not reach a finite maximum.
pub fn fit_point(model: Model, d: &Design, start: Option<&[f64]>) -> Option<(f64, Vec<f64>)> {
    let theta0 = start.map_or_else(|| fit::start(model, d), <[f64]>::to_vec);
    let f = fit::fit(model, d, theta0, MAX_ITER);
    if f.ending != Ending::Converged {
        return None;
    }
    let (n, _) = population(model, d, &f.theta);
    n.is_finite().then_some((n, f.theta))
}

/// The label of a fit: `ztpoisson ~ gender + age`.
fn formula_text(count: &str, f: &Formula) -> String {
    if f.covariates.is_empty() {
        format!("{count} ~ 1")
    } else {
        format!("{count} ~ {}", f.covariates.join(" + "))
    }
}

/// Whether the data can show anything about the unseen under `model`: a zero-truncated
/// model needs someone seen twice (Zelterman's and Chao's need the twos themselves).
fn informative(model: Model, data: &CountData) -> Option<String> {
    let f = data.frequencies();
    let beyond_one: u64 = f.iter().skip(1).sum();
    if beyond_one == 0 {
        return Some(format!(
            "every person was recorded exactly once: the counts carry no information on how many were never recorded, and {}'s likelihood rises without end as N̂ grows (the MLE does not exist)",
            model.id()
        ));
    }
    if model.ones_and_twos() && f.get(1).copied().unwrap_or(0) == 0 {
        return Some(format!(
            "no person was recorded exactly twice: {} estimates the unseen from the ratio of people seen twice to people seen once, and with none seen twice N̂ is unbounded",
            model.id()
        ));
    }
    None
}

/// Estimates N with one zero-truncated model.
pub fn estimate(
    data: &CountData,
    model: Model,
    formula: &Formula,
    s: &Settings,
) -> Result<Estimate> {
    let design = Design::new(data, &formula.covariates, &formula.baseline)?;
    let n = data.observed() as f64;
    let level = s.level.get();
    let label = formula_text(&data.count_column, formula);
    let mut est = Estimate {
        method: model.id().to_string(),
        label,
        status: Status::Ok,
        observed: data.observed(),
        ..Estimate::blank()
    };
    let mut details = SingleSourceDetails {
        baseline: reference_levels(data, formula),
        covariates: formula.covariates.clone(),
        dfpopsize: None,
        formula: formula_text(&data.count_column, formula),
        goodness_of_fit: None,
        level: s.level,
        loglik: None,
        log_normal: None,
        normal: None,
        variance: None,
    };
    if let Some(why) = informative(model, data) {
        est.status = Status::MleDoesNotExist;
        est.warnings.push(why);
        est.options = Details::SingleSource(Box::new(details));
        return Ok(est);
    }
    let theta0 = fit::start(model, &design);
    let mut f = fit::fit(model, &design, theta0, MAX_ITER.max(s.max_iter));
    let q = f.theta.len();
    let p = design.p();
    match f.ending {
        Ending::Converged => {}
        Ending::IterationLimit => {
            est.status = Status::NotConverged;
            est.warnings.push(format!(
                "the fit did not converge in {} Newton iterations; the numbers are where it stopped",
                f.iterations
            ));
        }
        Ending::Diverged(j) if j == p && f.theta[p] < 0.0 => {
            // α → 0 or ω → 0: the base model is the limit; refit it with the second
            // parameter held at its boundary.
            let what = model.second().unwrap_or("");
            est.warnings.push(format!(
                "{what} runs to its boundary 0 (the data show no {}): the estimate is that of the model without it",
                if what == "alpha" { "extra dispersion" } else { "one-inflation" }
            ));
            let base = match model {
                Model::ZtNegbin | Model::OiztPoisson | Model::ZtoiPoisson => Model::ZtPoisson,
                _ => Model::ZtGeom,
            };
            let g = fit::fit(base, &design, f.theta[..p].to_vec(), MAX_ITER);
            let mut theta = g.theta.clone();
            theta.push(-fit::DIVERGED * 2.0);
            let mut cov = nalgebra::DMatrix::zeros(q, q);
            if let Some(c) = &g.cov {
                cov.view_mut((0, 0), (p, p)).copy_from(c);
            }
            f = Fit {
                theta,
                loglik: g.loglik,
                cov: g.cov.as_ref().map(|_| cov),
                iterations: f.iterations + g.iterations,
                ending: g.ending,
            };
            if f.ending != Ending::Converged {
                est.status = Status::NotConverged;
            }
        }
        Ending::Diverged(j) => {
            est.status = Status::MleDoesNotExist;
            let name = if j < p {
                design.names[j].clone()
            } else {
                format!("(Intercept):{}", model.second().unwrap_or(""))
            };
            est.warnings.push(if model == Model::ZtNegbin && (j == p || f.theta[p] > 3.0) {
                "the negative binomial's dispersion runs to its boundary (α → ∞): the likelihood keeps rising as the counts' law puts ever more weight on zero, so N̂ grows without bound; these data do not bound N under ztnegbin (use ztpoisson, ztgeom or a one-inflated model)".to_string()
            } else if j == p {
                "the one-inflation runs to its boundary (ω → 1): the likelihood is highest when the ones are all inflation, which leaves N̂ unbounded".to_string()
            } else {
                format!(
                    "coefficient {name} runs off to {}: the likelihood keeps rising towards a boundary (a covariate group seen only once, or a separated group), so the MLE does not exist",
                    if f.theta[j] > 0.0 { "+∞" } else { "−∞" }
                )
            });
            est.options = Details::SingleSource(Box::new(details));
            return Ok(est);
        }
    }
    let (pop, grad) = population(model, &design, &f.theta);
    if !(pop <= super::types::MAX_ESTIMATE) {
        // A fit that stopped (or converged) on a ridge towards the boundary: no number.
        est.status = if est.status == Status::NotConverged {
            Status::MleDoesNotExist
        } else {
            Status::Infinite
        };
        est.warnings.push(format!(
            "the fit puts N above {:.0e} people, more than live on Earth: the data do not bound N under {}, so no number is given",
            super::types::MAX_ESTIMATE,
            model.id()
        ));
        est.options = Details::SingleSource(Box::new(details));
        return Ok(est);
    }
    let ses: Vec<Option<f64>> = (0..q)
        .map(|i| f.cov.as_ref().map(|c| c[(i, i)].sqrt()))
        .collect();
    let mut coefficients: Vec<Coefficient> = design
        .names
        .iter()
        .enumerate()
        .map(|(i, name)| Coefficient {
            name: name.clone(),
            estimate: Some(f.theta[i]),
            std_error: ses[i],
        })
        .collect();
    if let Some(second) = model.second() {
        coefficients.push(Coefficient {
            name: format!("(Intercept):{second}"),
            estimate: (f.theta[p].abs() <= fit::DIVERGED).then_some(f.theta[p]),
            std_error: ses[p].filter(|_| f.theta[p].abs() <= fit::DIVERGED),
        });
    }
    let k = q - usize::from(model.second().is_some() && f.theta[p].abs() > fit::DIVERGED);
    let aic = -2.0 * f.loglik + 2.0 * k as f64;
    let bic = -2.0 * f.loglik + n.ln() * k as f64;
    let gof = goodness_of_fit(model, &design, &f.theta, data, k);
    est.fit = Some(FitSummary {
        deviance: gof.g,
        df: gof.df,
        df_adjusted: None,
        aic,
        bic,
        iterations: f.iterations,
        coefficients,
    });
    details.loglik = Some(f.loglik);
    details.goodness_of_fit = Some(gof);
    est.population = Some(pop);
    est.missing = Some(pop - n);
    match &f.cov {
        Some(cov) => {
            let gv = nalgebra::DVector::from_vec(grad);
            let f1 = gv.dot(&(cov * &gv));
            let f2: f64 = design
                .rows
                .iter()
                .map(|(x, y, w)| {
                    let (e1, e2) = fit::predictors(model, x, &f.theta);
                    w * model.share_variance(*y, e1, e2)
                })
                .sum();
            let var = f1 + f2;
            let se = var.sqrt();
            let z = qnorm(0.5 + level / 2.0);
            details.variance = Some(var);
            details.normal = Some(Limits2 {
                lower: pop - z * se,
                upper: pop + z * se,
            });
            let ln = log_normal_interval(n, pop, se, level);
            if let (Some(lower), Some(upper)) = (ln.lower, ln.upper) {
                details.log_normal = Some(Limits2 { lower, upper });
            }
            est.std_error = Some(se);
            est.interval = Some(ln);
        }
        None => {
            est.status = Status::NotIdentifiable;
            est.warnings.push(
                "the observed information is singular (covariates that repeat one another, or a level no one in the data has): the coefficients are not identifiable and N̂ has no standard error".into(),
            );
        }
    }
    if est.status == Status::Ok && pop - n < 0.5 {
        est.warnings.push(format!(
            "the fitted law leaves almost no one unrecorded (N̂ − n = {:.3}): the estimate is the number recorded and its interval has no width, which says more about the law than about the population (look at its goodness of fit)",
            pop - n
        ));
    }
    if est.status == Status::Ok && design.rows.len() <= MAX_DFPOPSIZE_ROWS {
        details.dfpopsize = Some(dfpopsize(model, &design, &f.theta, pop, data));
    }
    if est.status == Status::Ok && model == Model::ZtNegbin && f.theta[p] > (1e3f64).ln() {
        est.warnings.push(format!(
            "the negative binomial's dispersion is very large (α = {:.3e}): the fit leans towards the boundary where N̂ is unbounded; treat N̂ with great caution",
            f.theta[p].exp()
        ));
    }
    est.options = Details::SingleSource(Box::new(details));
    Ok(est)
}

/// The reference level of each categorical covariate (given or the first sorted).
fn reference_levels(data: &CountData, formula: &Formula) -> BTreeMap<String, String> {
    formula
        .covariates
        .iter()
        .filter_map(|c| {
            let (_, col) = data.column(c)?;
            let ColumnKind::Categorical(levels) = &col.kind else {
                return None;
            };
            let b = formula
                .baseline
                .get(c)
                .cloned()
                .or_else(|| levels.first().cloned())?;
            Some((c.clone(), b))
        })
        .collect()
}

/// Observed and fitted numbers of people by times recorded (1 to the largest count seen,
/// fitted from the truncated law of each person), and the package's goodness of fit
/// (`summary(marginalFreq(fit), dropl5 = "group")`): the counts with fewer than 5 people
/// seen or fitted joined into one cell, Pearson's χ² and the likelihood-ratio G over the
/// cells, on cells − parameters degrees of freedom as the package counts them (no p-value
/// when that is below 1; the package then warns and uses 1).
fn goodness_of_fit(
    model: Model,
    d: &Design,
    theta: &[f64],
    data: &CountData,
    params: usize,
) -> GoodnessOfFit {
    // Only the counts seen: a count of 100,000 must not cost 100,000 cells a row.
    let seen: Vec<(u64, u64)> = data
        .frequencies()
        .iter()
        .enumerate()
        .filter(|(_, o)| **o > 0)
        .map(|(j, &o)| (j as u64 + 1, o))
        .collect();
    let mut expected = vec![0.0; seen.len()];
    for (x, _, w) in &d.rows {
        let (e1, e2) = fit::predictors(model, x, theta);
        let pmf = model.truncated_at(seen.iter().map(|s| s.0), e1, e2);
        for (e, p) in expected.iter_mut().zip(&pmf) {
            *e += w * p;
        }
    }
    let marginal: Vec<MarginalCell> = seen
        .iter()
        .zip(&expected)
        .map(|(&(k, o), &e)| MarginalCell {
            expected: e,
            observed: o,
            times: k.to_string(),
        })
        .collect();
    let small = |c: &MarginalCell| c.observed < 5 || c.expected < 5.0;
    let mut grouped: Vec<MarginalCell> = marginal.iter().filter(|c| !small(c)).cloned().collect();
    let pooled: Vec<&MarginalCell> = marginal.iter().filter(|c| small(c)).collect();
    if !pooled.is_empty() {
        grouped.push(MarginalCell {
            expected: pooled.iter().map(|c| c.expected).sum(),
            observed: pooled.iter().map(|c| c.observed).sum(),
            times: pooled
                .iter()
                .map(|c| c.times.as_str())
                .collect::<Vec<_>>()
                .join(","),
        });
    }
    let chi2: f64 = grouped
        .iter()
        .map(|c| (c.observed as f64 - c.expected).powi(2) / c.expected)
        .sum();
    let g: f64 = 2.0
        * grouped
            .iter()
            .filter(|c| c.observed > 0)
            .map(|c| c.observed as f64 * (c.observed as f64 / c.expected).ln())
            .sum::<f64>();
    let df = grouped.len() as i64 - params as i64;
    let p = |x: f64| {
        (df >= 1)
            .then(|| ChiSquared::new(df as f64).ok().map(|d| 1.0 - d.cdf(x)))
            .flatten()
    };
    GoodnessOfFit {
        chi2,
        chi2_p: p(chi2),
        df,
        g,
        g_p: p(g),
        grouped,
        marginal,
    }
}

/// Deletion diagnostics: N̂ minus N̂ without one person, for a person of each distinct row
/// (singleRcapture's `dfpopsize`): the coefficients without that person are one Newton
/// step from θ̂ (the package's `dfbeta` with its default `maxitNew = 1`; the same digits).
/// A one-step value understates a person whose absence would leave a covariate group with
/// no one seen twice: there the full refit has no finite N̂ at all.
fn dfpopsize(model: Model, d: &Design, theta: &[f64], pop: f64, data: &CountData) -> DfPopsize {
    let w: Vec<f64> = d.rows.iter().map(|r| r.2).collect();
    let per_row: Vec<Option<f64>> = (0..d.rows.len())
        .map(|r| {
            let mut w2 = w.clone();
            w2[r] -= 1.0;
            let d2 = d.reweighted(&w2);
            let t = fit::newton_steps(model, &d2, theta, 1)?;
            Some(pop - population(model, &d2, &t).0)
        })
        .collect();
    let mut max_abs: Option<f64> = Some(0.0);
    let mut sum = 0.0;
    let mut people = 0.0;
    for (r, v) in per_row.iter().enumerate() {
        match v {
            Some(v) => {
                max_abs = max_abs.map(|m| m.max(v.abs()));
                sum += d.rows[r].2 * v.abs();
            }
            None => max_abs = None,
        }
        people += d.rows[r].2;
    }
    let by_row = data
        .rows
        .iter()
        .zip(&d.of_data_row)
        .map(|(row, &r)| DfPopsizeRow {
            dfpopsize: per_row[r],
            people: row.people,
            times: row.times,
            values: row
                .values
                .iter()
                .zip(&data.columns)
                .map(|(v, c)| match &c.kind {
                    ColumnKind::Numeric => v.to_string(),
                    ColumnKind::Categorical(l) => l.get(*v as usize).cloned().unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    DfPopsize {
        by_row,
        max_abs,
        mean_abs: max_abs.map(|_| sum / people),
    }
}

/// The normal interval of an estimate's details as an `Interval`.
pub fn normal_interval(l: &Limits2, level: f64) -> Interval {
    Interval {
        lower: Some(l.lower),
        upper: Some(l.upper),
        level,
        kind: Construction::Normal,
        center: None,
    }
}

/// What a single-source fit says about the whole population, for simulating data like the
/// data: N = round(N̂ₕₜ) (Horvitz–Thompson under the fitted law, which for Zelterman's and
/// Chao's models is the truncated Poisson they fit), and for each distinct pattern of the
/// data's other columns its expected share of the population and the law of its counts.
#[derive(Debug, Clone)]
pub struct SimulationModel {
    /// True N of the simulated populations.
    pub population: u64,
    /// The data fitted: what a simulated dataset looks like (its columns), and what a
    /// method is checked against before a study runs.
    pub template: CountData,
    /// Per pattern: its column values, its share of N, and P(y = k) for k = 0, 1, …, K
    /// (the untruncated law; the tail beyond K folded into K).
    pub groups: Vec<(Vec<f64>, f64, Vec<f64>)>,
}

/// Largest count a simulated person can have (the law's tail beyond is folded into it).
pub const MAX_SIMULATED_TIMES: u64 = 1000;

/// The simulation model of `model` with `formula` fitted to `data`; an error says why a fit
/// cannot generate data (no finite estimate).
pub fn simulation_model(
    data: &CountData,
    model: Model,
    formula: &Formula,
) -> Result<SimulationModel> {
    let design = Design::new(data, &formula.covariates, &formula.baseline)?;
    let Some((_, theta)) = fit_point(model, &design, None) else {
        return Err(crate::error::Error::Usage(format!(
            "{}'s fit to these data has no finite estimate: it cannot generate data",
            model.id()
        )));
    };
    let kmax = data
        .rows
        .iter()
        .map(|r| r.times)
        .max()
        .unwrap_or(1)
        .saturating_mul(4)
        .clamp(20, MAX_SIMULATED_TIMES);
    let mut by_values: BTreeMap<Vec<u64>, (Vec<f64>, f64, Vec<f64>)> = BTreeMap::new();
    for (row, &r) in data.rows.iter().zip(&design.of_data_row) {
        let (x, _, _) = &design.rows[r];
        let (e1, e2) = fit::predictors(model, x, &theta);
        let unseen = model.unseen(D2::cst(e1), D2::cst(e2)).v;
        let key = row.values.iter().map(|v| v.to_bits()).collect();
        let entry = by_values.entry(key).or_insert_with(|| {
            let mut pmf = vec![unseen];
            let trunc = model.truncated_pmf(kmax, e1, e2);
            let shown: f64 = trunc.iter().sum();
            pmf.extend(trunc.iter().map(|p| p * (1.0 - unseen)));
            if let Some(last) = pmf.last_mut() {
                *last += (1.0 - shown).max(0.0) * (1.0 - unseen);
            }
            (row.values.clone(), 0.0, pmf)
        });
        entry.1 += row.people as f64 / (1.0 - unseen);
    }
    let total: f64 = by_values.values().map(|g| g.1).sum();
    if !total.is_finite() || total > super::types::MAX_ESTIMATE {
        return Err(crate::error::Error::Usage(format!(
            "{}'s fit to these data puts N beyond {:.0e}: it cannot generate data",
            model.id(),
            super::types::MAX_ESTIMATE
        )));
    }
    Ok(SimulationModel {
        population: total.round() as u64,
        template: data.clone(),
        groups: by_values
            .into_values()
            .map(|(v, n, pmf)| (v, n / total, pmf))
            .collect(),
    })
}

impl SimulationModel {
    /// The probability of every cell (index 0: never recorded; then pattern by pattern,
    /// k = 1..=K), and what each cell is.
    pub fn cells(&self) -> (Vec<f64>, Vec<(usize, u64)>) {
        let mut probs = vec![0.0];
        let mut what = vec![(0, 0)];
        for (g, (_, share, pmf)) in self.groups.iter().enumerate() {
            probs[0] += share * pmf[0];
            for (k, p) in pmf.iter().enumerate().skip(1) {
                probs.push(share * p);
                what.push((g, k as u64));
            }
        }
        (probs, what)
    }

    /// The dataset of the people drawn into each cell (`counts` as `cells` orders them).
    pub fn dataset(&self, what: &[(usize, u64)], counts: &[u64]) -> CountData {
        let mut rows: Vec<crate::data::counts::CountRow> = what
            .iter()
            .zip(counts)
            .skip(1)
            .filter(|(_, c)| **c > 0)
            .map(|(&(g, k), &c)| crate::data::counts::CountRow {
                times: k,
                values: self.groups[g].0.clone(),
                people: c,
            })
            .collect();
        rows.sort_by(|a, b| {
            a.values
                .iter()
                .zip(&b.values)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.times.cmp(&b.times))
        });
        CountData {
            rows,
            ..self.template.clone()
        }
    }
}
