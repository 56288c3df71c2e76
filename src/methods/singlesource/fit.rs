//! The regression behind a zero-truncated model: the design (an intercept, one indicator
//! per non-reference level of each categorical covariate, numeric covariates as they are,
//! named as R's `model.matrix` names them) and the maximum-likelihood fit by Newton's method
//! on the observed information, with step halving. At the optimum Newton's and the
//! package's IRLS reach the same point; the package's covariance is the inverse of the same
//! observed information.

use super::dual::D2;
use super::models::Model;
use crate::data::counts::{ColumnKind, CountData};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use std::collections::BTreeMap;

/// Distinct design rows of the λ predictor with the count and the number of people.
#[derive(Debug, Clone)]
pub struct Design {
    /// Coefficient names of the λ predictor (`(Intercept)`, `gendermale`, …).
    pub names: Vec<String>,
    /// (covariate row, times seen, people).
    pub rows: Vec<(Vec<f64>, u64, f64)>,
    /// For each row of the data, the design row it went into.
    pub of_data_row: Vec<usize>,
}

impl Design {
    /// The design of `covariates` (column names) with reference levels from `baseline`
    /// (column → level; otherwise the first level in sorted order). Errors are at the
    /// method options `covariates[j]` and `baseline.COL`, or at the data's file, line and
    /// column for an empty value or a column with too many levels.
    pub fn new(
        data: &CountData,
        covariates: &[String],
        baseline: &BTreeMap<String, String>,
    ) -> Result<Design> {
        for col in baseline.keys() {
            if !covariates.contains(col) {
                return Err(Error::at(
                    format!("baseline.{col}"),
                    format!(
                        "expected a reference level only for a covariate, and \"{col}\" is not one of the covariates ({})",
                        if covariates.is_empty() {
                            "none".to_string()
                        } else {
                            covariates.join(", ")
                        }
                    ),
                ));
            }
        }
        let mut names = vec!["(Intercept)".to_string()];
        // For each covariate: its column index and, for a categorical one, the level index
        // of each indicator.
        let mut terms: Vec<(usize, Option<Vec<usize>>)> = Vec::new();
        for (j, cov) in covariates.iter().enumerate() {
            if covariates[..j].contains(cov) {
                return Err(Error::at(
                    format!("covariates[{j}]"),
                    format!("expected each covariate once, found \"{cov}\" again"),
                ));
            }
            if *cov == data.count_column {
                return Err(Error::at(
                    format!("covariates[{j}]"),
                    format!("expected a covariate, found the count column \"{cov}\" itself"),
                ));
            }
            let Some((ci, col)) = data.column(cov) else {
                let have: Vec<&str> = data.columns.iter().map(|c| c.name.as_str()).collect();
                return Err(Error::at(
                    format!("covariates[{j}]"),
                    format!(
                        "expected a column of the data, found \"{cov}\"; the columns besides the count are: {}",
                        if have.is_empty() {
                            "none".to_string()
                        } else {
                            have.join(", ")
                        }
                    ),
                ));
            };
            if let Some(line) = col.first_empty {
                return Err(Error::input(
                    &data.source,
                    line,
                    col.position,
                    format!("expected a value of covariate \"{cov}\", found an empty field"),
                ));
            }
            if let Some(n) = col.too_many_levels {
                return Err(Error::at(
                    format!("covariates[{j}]"),
                    format!(
                        "expected a categorical covariate with at most {} levels, found \"{cov}\" with {n}",
                        crate::data::counts::MAX_LEVELS
                    ),
                ));
            }
            match &col.kind {
                ColumnKind::Numeric => {
                    if baseline.contains_key(cov) {
                        return Err(Error::at(
                            format!("baseline.{cov}"),
                            format!(
                                "expected a reference level only for a categorical covariate, and \"{cov}\" is numeric"
                            ),
                        ));
                    }
                    names.push(cov.clone());
                    terms.push((ci, None));
                }
                ColumnKind::Categorical(levels) => {
                    let present: Vec<usize> = (0..levels.len())
                        .filter(|&l| {
                            data.rows
                                .iter()
                                .any(|r| r.values[ci] == l as f64 && r.people > 0)
                        })
                        .collect();
                    if present.len() < 2 {
                        return Err(Error::at(
                            format!("covariates[{j}]"),
                            format!(
                                "expected a covariate with at least two levels, found \"{cov}\" with only {}",
                                present
                                    .first()
                                    .map_or("none".to_string(), |&l| format!("\"{}\"", levels[l]))
                            ),
                        ));
                    }
                    let base = match baseline.get(cov) {
                        Some(b) => match levels.iter().position(|l| l == b) {
                            Some(i) if present.contains(&i) => i,
                            _ => {
                                return Err(Error::at(
                                    format!("baseline.{cov}"),
                                    format!(
                                        "expected a level of \"{cov}\" ({}), found \"{b}\"",
                                        present
                                            .iter()
                                            .map(|&l| format!("\"{}\"", levels[l]))
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ),
                                ));
                            }
                        },
                        None => present[0],
                    };
                    let ind: Vec<usize> = present.into_iter().filter(|&l| l != base).collect();
                    names.extend(ind.iter().map(|&l| format!("{cov}{}", levels[l])));
                    terms.push((ci, Some(ind)));
                }
            }
        }
        let mut map: BTreeMap<(Vec<u64>, u64), (usize, f64)> = BTreeMap::new();
        let mut keys = Vec::with_capacity(data.rows.len());
        for r in &data.rows {
            let mut x = vec![1.0];
            for (ci, ind) in &terms {
                let v = r.values[*ci];
                match ind {
                    None => x.push(v),
                    Some(levels) => x.extend(levels.iter().map(|&l| f64::from(v == l as f64))),
                }
            }
            let key = (x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), r.times);
            let next = map.len();
            let e = map.entry(key.clone()).or_insert((next, 0.0));
            e.1 += r.people as f64;
            keys.push(key);
        }
        // Rows in key order; data rows point at their index in that order.
        let order: BTreeMap<&(Vec<u64>, u64), usize> =
            map.keys().enumerate().map(|(i, k)| (k, i)).collect();
        let of_data_row = keys.iter().map(|k| order[k]).collect();
        let rows = map
            .iter()
            .map(|((x, t), (_, w))| (x.iter().map(|b| f64::from_bits(*b)).collect(), *t, *w))
            .collect();
        Ok(Design {
            names,
            rows,
            of_data_row,
        })
    }

    /// Number of λ coefficients.
    pub fn p(&self) -> usize {
        self.names.len()
    }

    /// The same design with other numbers of people per row.
    pub fn reweighted(&self, w: &[f64]) -> Design {
        Design {
            names: self.names.clone(),
            rows: self
                .rows
                .iter()
                .zip(w)
                .map(|(r, &w)| (r.0.clone(), r.1, w))
                .collect(),
            of_data_row: self.of_data_row.clone(),
        }
    }
}

/// The linear predictors of a row under coefficients θ (λ's, then the second parameter's
/// intercept).
pub fn predictors(model: Model, x: &[f64], theta: &[f64]) -> (f64, f64) {
    let p = x.len();
    let e1: f64 = x.iter().zip(theta).map(|(a, b)| a * b).sum();
    let e2 = if model.second().is_some() {
        theta[p]
    } else {
        0.0
    };
    (e1, e2)
}

/// Log-likelihood, score and Hessian at θ.
pub fn evaluate(model: Model, d: &Design, theta: &[f64]) -> (f64, DVector<f64>, DMatrix<f64>) {
    let p = d.p();
    let q = theta.len();
    let mut ll = 0.0;
    let mut g = DVector::zeros(q);
    let mut h = DMatrix::zeros(q, q);
    for (x, y, w) in &d.rows {
        if *w == 0.0 {
            continue;
        }
        let (e1, e2) = predictors(model, x, theta);
        let Some(l) = model.loglik(*y, D2::var(0, e1), D2::var(1, e2)) else {
            continue;
        };
        ll += w * l.v;
        for a in 0..p {
            g[a] += w * l.g[0] * x[a];
            for b in 0..=a {
                h[(a, b)] += w * l.h[0][0] * x[a] * x[b];
            }
        }
        if q > p {
            g[p] += w * l.g[1];
            for a in 0..p {
                h[(p, a)] += w * l.h[0][1] * x[a];
            }
            h[(p, p)] += w * l.h[1][1];
        }
    }
    for a in 0..q {
        for b in 0..a {
            h[(b, a)] = h[(a, b)];
        }
    }
    (ll, g, h)
}

/// How a fit ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// The score vanished at a maximum with a negative-definite Hessian.
    Converged,
    /// The iteration limit came first.
    IterationLimit,
    /// A coefficient ran off (its index): the likelihood rises towards a boundary.
    Diverged(usize),
}

/// A maximum-likelihood fit.
#[derive(Debug, Clone)]
pub struct Fit {
    /// Coefficients θ̂.
    pub theta: Vec<f64>,
    /// Log-likelihood at θ̂.
    pub loglik: f64,
    /// Inverse of the observed information at θ̂ (None when it is singular).
    pub cov: Option<DMatrix<f64>>,
    /// Newton iterations.
    pub iterations: usize,
    /// How it ended.
    pub ending: Ending,
}

/// Largest |coefficient| a fit may reach before it counts as running off: e^30 ≈ 10¹³ in a
/// rate or dispersion is beyond anything these data can hold.
pub const DIVERGED: f64 = 30.0;

/// Newton iterations allowed.
pub const MAX_ITER: usize = 200;

/// The starting point: λ from the mean count (or, for the models fitted on ones and twos,
/// from f₂/f₁), no effect of covariates, α = 1/2 and ω = 1/10.
pub fn start(model: Model, d: &Design) -> Vec<f64> {
    let mut theta = vec![0.0; d.p() + usize::from(model.second().is_some())];
    let (mut n, mut s, mut f1, mut f2) = (0.0, 0.0, 0.0, 0.0);
    for (_, y, w) in &d.rows {
        n += w;
        s += w * *y as f64;
        if *y == 1 {
            f1 += w;
        }
        if *y == 2 {
            f2 += w;
        }
    }
    theta[0] = if model.ones_and_twos() {
        ((f2 + 0.5) / (f1 + 0.5)).ln()
    } else {
        // For small λ the truncated mean is about 1 + λ/2.
        (2.0 * (s / n.max(1.0) - 1.0)).max(0.05).ln()
    };
    match model.second() {
        Some("alpha") => theta[d.p()] = 0.5f64.ln(),
        Some(_) => theta[d.p()] = (0.1f64 / 0.9).ln(),
        None => {}
    }
    theta
}

/// Fits the model from `theta0` by Newton's method with step halving (a Levenberg shift of
/// the Hessian where it is not negative definite).
pub fn fit(model: Model, d: &Design, theta0: Vec<f64>, max_iter: usize) -> Fit {
    let mut theta = theta0;
    let q = theta.len();
    let (mut ll, mut g, mut h) = evaluate(model, d, &theta);
    let mut ending = Ending::IterationLimit;
    let mut iterations = 0;
    for it in 0..max_iter {
        iterations = it + 1;
        let neg = -&h;
        let (step, newton) = match neg.clone().cholesky() {
            Some(c) => (c.solve(&g), true),
            None => {
                let scale = (0..q).map(|i| neg[(i, i)].abs()).fold(1e-8, f64::max);
                let mut mu = 1e-6 * scale;
                loop {
                    let shifted = &neg + DMatrix::identity(q, q) * mu;
                    if let Some(c) = shifted.cholesky() {
                        break (c.solve(&g), false);
                    }
                    mu *= 10.0;
                    if !mu.is_finite() {
                        break (g.clone() / scale, false);
                    }
                }
            }
        };
        let decrement = g.dot(&step);
        if newton && decrement.abs() < 1e-18 * (1.0 + ll.abs()) {
            ending = Ending::Converged;
            break;
        }
        let mut t = 1.0;
        let mut moved = false;
        for _ in 0..60 {
            let cand: Vec<f64> = theta
                .iter()
                .zip(step.iter())
                .map(|(a, s)| a + t * s)
                .collect();
            let (l2, g2, h2) = evaluate(model, d, &cand);
            if l2.is_finite() && l2 >= ll - 1e-12 * (1.0 + ll.abs()) {
                let gain = l2 - ll;
                theta = cand;
                ll = l2;
                g = g2;
                h = h2;
                moved = true;
                if newton && gain.abs() <= 1e-15 * (1.0 + ll.abs()) && decrement < 1e-10 {
                    ending = Ending::Converged;
                }
                break;
            }
            t *= 0.5;
        }
        if let Some(j) = theta.iter().position(|v| v.abs() > DIVERGED) {
            ending = Ending::Diverged(j);
            break;
        }
        if ending == Ending::Converged {
            break;
        }
        if !moved {
            // No step up the likelihood: at a maximum up to rounding if Newton's step is tiny.
            if newton && decrement < 1e-8 * (1.0 + ll.abs()) {
                ending = Ending::Converged;
            }
            break;
        }
    }
    let cov = (-&h)
        .try_inverse()
        .filter(|c| (0..q).all(|i| c[(i, i)] > 0.0));
    Fit {
        theta,
        loglik: ll,
        cov,
        iterations,
        ending,
    }
}

/// `k` plain Newton steps from θ (no step halving, no convergence test), for the one-step
/// deletion diagnostics. None when the information is singular or the result not finite.
pub fn newton_steps(model: Model, d: &Design, theta: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut theta = theta.to_vec();
    for _ in 0..k {
        let (_, g, h) = evaluate(model, d, &theta);
        let step = (-h).cholesky()?.solve(&g);
        for (t, s) in theta.iter_mut().zip(step.iter()) {
            *t += s;
        }
    }
    theta.iter().all(|t| t.is_finite()).then_some(theta)
}
