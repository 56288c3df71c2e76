//! What the log-linear estimators share: fitting with Rcapture's removal of negative Chao
//! η parameters, N̂ = n + exp(β₀) and its standard error, the asymptotic bias check,
//! R-style warnings, fit statistics, and the choice of interval.

use super::details::Details;
use super::types::{Coefficient, Estimate, FitSummary, Settings, Status};
use crate::glm::{Fit, FitOptions, Problem};
use crate::inference::IntervalKind;
use crate::inference::{log_normal_interval, profile, wald_log_interval};
use crate::loglinear::fit::LoglinFit;

/// R-style warnings of a glm fit.
pub fn glm_warnings(fit: &Fit) -> Vec<String> {
    let mut w = Vec::new();
    if !fit.converged {
        w.push(format!(
            "glm.fit: algorithm did not converge in {} iterations",
            fit.iterations
        ));
    }
    if fit.fitted_zero {
        w.push("glm.fit: fitted rates numerically 0 occurred".into());
    }
    if fit.aliased.iter().any(|&a| a) {
        w.push("design matrix not of full rank: aliased coefficients set to NA".into());
    }
    w
}

/// Asymptotic bias of exp(β₀) (Rivest's second-order expansion, as Rcapture computes it):
/// ξ = −½ diag(X V Xᵀ), ψ = −2 Xᵀ diag(μ) ξ − e₀, bias = ½ exp(β₀) (−V ψ)₀.
pub fn asymptotic_bias(problem: &Problem, fit: &Fit) -> Option<f64> {
    if fit.aliased.iter().any(|&a| a) {
        return None;
    }
    let g = problem.groups();
    let mut count = vec![0.0; g];
    for &gi in &problem.group {
        count[gi] += 1.0;
    }
    let p = problem.p;
    let m: Vec<f64> = (0..g).map(|gi| count[gi] * fit.mu[gi]).collect();
    let mut psi: Vec<f64>;
    if let Some(l) = &problem.lattice {
        // ξ_g = −½ x_gᵀ V x_g ; ψ = −2 Xᵀ (m ∘ ξ) − e₀
        let mut ws = crate::glm::lattice::Workspace::default();
        let q = l.quad_forms(fit.cov.as_slice(), &mut ws);
        let r: Vec<f64> = (0..g).map(|gi| m[gi] * q[gi]).collect();
        psi = l.xt_vec(&r, &mut ws);
    } else {
        let xs = problem.x.as_slice();
        let col = |j: usize| &xs[j * g..(j + 1) * g];
        let mut q = vec![0.0; g];
        let mut xi_xj = vec![0.0; g];
        for i in 0..p {
            for j in 0..=i {
                let v = fit.cov[(i, j)] * if i == j { 1.0 } else { 2.0 };
                if v == 0.0 {
                    continue;
                }
                for ((d, a), b) in xi_xj.iter_mut().zip(col(i)).zip(col(j)) {
                    *d = a * b;
                }
                for (qg, d) in q.iter_mut().zip(&xi_xj) {
                    *qg += v * d;
                }
            }
        }
        let r: Vec<f64> = (0..g).map(|gi| m[gi] * q[gi]).collect();
        psi = (0..p).map(|j| crate::glm::dot(col(j), &r)).collect();
    }
    psi[0] -= 1.0;
    let v0: f64 = -(0..p).map(|j| fit.cov[(0, j)] * psi[j]).sum::<f64>();
    Some(0.5 * fit.coef[0].exp() * v0)
}

/// N̂ = n + exp(β₀) and se = sqrt(exp(β₀) + exp(2β₀) var β₀) (Rcapture's `getN`).
pub fn population_from_intercept(n: f64, fit: &Fit) -> (f64, f64) {
    let b0 = fit.coef[0];
    let m = b0.exp();
    (n + m, (m + m * m * fit.cov[(0, 0)]).sqrt())
}

/// Fit statistics. `extra_params` are parameters fixed at −∞ by empty margins (counted
/// in AIC, BIC and df as R's glm counts them) and `extra_cells` the cells they fix at 0.
pub fn fit_summary(
    lf: &LoglinFit,
    n: f64,
    extra: Option<(usize, usize, Vec<String>)>,
) -> FitSummary {
    let fit = &lf.fit;
    let (extra_params, extra_cells, extra_names) = extra.unwrap_or((0, 0, Vec::new()));
    let rank = fit.rank + extra_params;
    let m2ll = -2.0 * fit.loglik;
    let mut coefficients: Vec<Coefficient> = lf
        .problem
        .names
        .iter()
        .enumerate()
        .map(|(j, name)| Coefficient {
            name: name.clone(),
            estimate: finite(fit.coef[j]),
            std_error: if fit.aliased[j] {
                None
            } else {
                finite(fit.se(j))
            },
        })
        .collect();
    coefficients.extend(extra_names.into_iter().map(|name| Coefficient {
        name,
        estimate: None,
        std_error: None,
    }));
    let cells = fit.df_residual + fit.rank + extra_cells;
    FitSummary {
        deviance: fit.deviance,
        df: cells as i64 - rank as i64,
        df_adjusted: if extra_params > 0 {
            Some(fit.df_residual as i64)
        } else {
            None
        },
        aic: m2ll + 2.0 * rank as f64,
        bic: m2ll + n.ln() * rank as f64,
        iterations: fit.iterations,
        coefficients,
    }
}

/// Some(x) when x is finite.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Builds the estimate of a model with N̂ = n + exp(β₀): status, N̂, se, bias warning,
/// fit statistics and the requested interval.
#[allow(clippy::too_many_arguments)]
pub fn loglin_estimate(
    method: &str,
    label: String,
    model: Option<String>,
    options: Details,
    lf: &LoglinFit,
    n: u64,
    opts: &Settings,
    extra: Option<(usize, usize, Vec<String>)>,
    mut warnings: Vec<String>,
) -> Estimate {
    let nf = n as f64;
    let fit = &lf.fit;
    warnings.extend(glm_warnings(fit));
    if !lf.removed.is_empty() {
        warnings.push(format!(
            "negative eta parameters set to zero (Chao lower bound): {}",
            lf.removed.join(", ")
        ));
    }
    let summary = fit_summary(lf, nf, extra);
    let (pop, se) = population_from_intercept(nf, fit);
    let mut status = if fit.converged {
        Status::Ok
    } else {
        Status::NotConverged
    };
    if fit.aliased[0] || fit.aliased.iter().any(|&a| a) && fit.coef[0].is_nan() {
        status = Status::NotIdentifiable;
    }
    if !pop.is_finite() || fit.coef[0] > 700.0 {
        status = Status::Infinite;
    }
    let div = fit.diverging(&lf.problem);
    if !div.is_empty() {
        let names: Vec<&str> = div.iter().map(|&j| lf.problem.names[j].as_str()).collect();
        if div.contains(&0) {
            let direction = if fit.coef[0] > nf.ln() {
                "N̂ grows without bound"
            } else {
                "the missing cell is fitted as zero and N̂ collapses to n"
            };
            warnings.push(format!(
                "the MLE does not exist: {} keep running off to infinity after the deviance has settled ({direction}); \
                 the last iterate gives N̂ = {pop:.6}, an artefact of where the iteration stopped",
                names.join(", ")
            ));
            status = Status::MleDoesNotExist;
        } else {
            warnings.push(format!(
                "boundary fit: {} run off to -infinity (cells fitted as zero; extended MLE); N̂ is unaffected",
                names.join(", ")
            ));
        }
    }
    if pop.is_finite() {
        if let Some(bias) = asymptotic_bias(&lf.problem, fit) {
            if bias.abs() > 0.1 * pop {
                warnings.push(format!(
                    "the asymptotic bias is large: {bias:.1} against N̂ = {pop:.1} (Rcapture's 10% rule)"
                ));
            }
        }
    }
    let exists = matches!(status, Status::Ok | Status::NotConverged);
    let interval = if exists && !fit.aliased.iter().any(|&a| a) {
        match opts.interval {
            IntervalKind::None => None,
            IntervalKind::WaldLog => Some(wald_log_interval(
                nf,
                fit.coef[0],
                fit.se(0),
                opts.level.get(),
            )),
            IntervalKind::Profile => match profile::profile_interval(
                lf,
                nf,
                pop,
                opts.level.get(),
                FitOptions {
                    max_iter: opts.max_iter,
                    ..FitOptions::default()
                },
            ) {
                Ok((iv, w)) => {
                    warnings.extend(w);
                    Some(iv)
                }
                Err(e) => {
                    warnings.push(format!("profile-likelihood interval failed ({e}); a log-normal interval is given instead"));
                    Some(log_normal_interval(nf, pop, se, opts.level.get()))
                }
            },
        }
    } else {
        None
    };
    Estimate {
        population: if exists { finite(pop) } else { None },
        missing: if exists { finite(pop - nf) } else { None },
        std_error: if exists { finite(se) } else { None },
        interval,
        fit: Some(summary),
        ..no_estimate(method, label, model, options, n, status, warnings)
    }
}

/// An estimate with no number, only a status and the reason (and the base of one with).
pub fn no_estimate(
    method: &str,
    label: String,
    model: Option<String>,
    options: Details,
    n: u64,
    status: Status,
    warnings: Vec<String>,
) -> Estimate {
    Estimate {
        method: method.to_string(),
        label,
        model,
        options,
        status,
        observed: n,
        warnings,
        ..Estimate::blank()
    }
}
