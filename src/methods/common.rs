//! What the log-linear estimators share: fitting with Rcapture's removal of negative Chao
//! η parameters, N̂ = n + exp(β₀) and its standard error, the asymptotic bias check,
//! R-style warnings, fit statistics, and the choice of interval.

use super::{Coefficient, Estimate, FitSummary, Interval, IntervalKind, Settings, Status};
use crate::glm::{self, Fit, FitOptions, Problem};
use crate::inference::{log_normal_interval, profile, wald_log_interval};

/// A fitted log-linear model whose missing cell has mean exp(β₀).
#[derive(Debug, Clone)]
pub struct LoglinFit {
    /// The problem as finally fitted (columns of removed η parameters dropped).
    pub problem: Problem,
    /// The problem as first posed (every η column) when η's were removed; the profile
    /// interval refits it.
    pub full: Option<Problem>,
    /// The fit.
    pub fit: Fit,
    /// Chao model: first column index that is an η parameter (Rcapture's `nca`).
    pub chao_nca: Option<usize>,
    /// Names of η parameters removed because they were negative.
    pub removed: Vec<String>,
}

/// Fits `problem`; for a Chao lower-bound model (`chao_nca = Some(first η column)`)
/// refits without the first negative η until none is negative, as Rcapture does.
pub fn fit_loglin(
    problem: Problem,
    chao_nca: Option<usize>,
    opts: FitOptions,
    start: Option<&[f64]>,
) -> Option<LoglinFit> {
    let first = glm::fit(&problem, opts, start)?;
    let negative = |f: &Fit, from: usize| {
        (from..f.coef.len()).find(|&j| !f.coef[j].is_nan() && f.coef[j] < 0.0)
    };
    let Some(nca) = chao_nca.filter(|&nca| negative(&first, nca).is_some()) else {
        return Some(LoglinFit {
            problem,
            full: None,
            fit: first,
            chao_nca,
            removed: Vec::new(),
        });
    };
    let mut prob = problem.clone();
    let mut fit = first;
    let mut removed = Vec::new();
    while let Some(pos) = negative(&fit, nca) {
        let next = prob.without_column(pos);
        let st: Option<Vec<f64>> = start.and_then(|_| {
            let mut s = fit.coef.clone();
            s.remove(pos);
            s.iter().all(|v| v.is_finite()).then_some(s)
        });
        let Some(f2) = glm::fit(&next, opts, st.as_deref()) else {
            break;
        };
        removed.push(prob.names[pos].clone());
        prob = next;
        fit = f2;
    }
    Some(LoglinFit {
        problem: prob,
        full: Some(problem),
        fit,
        chao_nca,
        removed,
    })
}

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
    options: serde_json::Value,
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
        method: method.to_string(),
        label,
        model,
        options,
        status,
        observed: n,
        population: if exists { finite(pop) } else { None },
        missing: if exists { finite(pop - nf) } else { None },
        std_error: if exists { finite(se) } else { None },
        interval,
        fit: Some(summary),
        draws: None,
        check: None,
        bootstrap: None,
        warnings,
    }
}

/// An estimate with no number, only a status and the reason.
pub fn no_estimate(
    method: &str,
    label: String,
    model: Option<String>,
    options: serde_json::Value,
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
        population: None,
        missing: None,
        std_error: None,
        interval: None,
        fit: None,
        draws: None,
        check: None,
        bootstrap: None,
        warnings,
    }
}

/// Keeps `Interval` reachable from this module's users.
pub type IntervalOut = Interval;

/// What the Bayesian methods report from posterior draws of N.
#[derive(Debug, Clone)]
pub struct Posterior {
    /// Posterior median (the point estimate, as LCMCR and MultipleSystemsEstimation report).
    pub median: f64,
    /// Posterior standard deviation.
    pub sd: f64,
    /// Equal-tailed posterior interval, centred on the posterior mean.
    pub interval: Interval,
    /// Summary of the pooled draws.
    pub draws: super::Draws,
    /// R-hat, ESS and Monte Carlo standard errors (`null` with fewer than 4 draws per chain).
    pub diagnostics: serde_json::Value,
    /// A convergence warning, when R-hat > 1.01 or an ESS < 400.
    pub warning: Option<String>,
}

/// Summarises draws of N, one vector per chain: type-7 quantiles of the pooled draws (as
/// R's `quantile`) and the convergence diagnostics of `inference::mcmc`.
pub fn posterior(chains: &[Vec<f64>], level: f64) -> Posterior {
    use crate::inference::mcmc;
    let mut all: Vec<f64> = chains.concat();
    all.sort_by(f64::total_cmp);
    let q = |p: f64| mcmc::quantile7(&all, p);
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let sd = (all.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
        / (all.len() as f64 - 1.0).max(1.0))
    .sqrt();
    let (plo, phi) = ((1.0 - level) / 2.0, (1.0 + level) / 2.0);
    let quantiles: Vec<(f64, f64)> = [0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975]
        .iter()
        .map(|&p| (p, q(p)))
        .collect();
    let mut warning = None;
    let mut diagnostics = serde_json::Value::Null;
    if let Some(d) = mcmc::diagnose(chains) {
        if d.warn() {
            warning = Some(format!(
                "the chains have not converged well enough: R-hat {:.3} (want ≤ {}), bulk ESS {:.0}, tail ESS {:.0} (want ≥ {}); run more burn-in and samples",
                d.rhat,
                mcmc::RHAT_WARN,
                d.ess_bulk,
                d.ess_tail,
                mcmc::ESS_WARN
            ));
        }
        // Each MCSE is the larger of the within-chain estimate (Vehtari et al.) and the
        // chains' own spread / √chains, which sees long excursions the former misses.
        // each chain sorted once, for all its quantiles below
        let sorted: Vec<Vec<f64>> = chains
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.sort_by(f64::total_cmp);
                c
            })
            .collect();
        let between = |f: &dyn Fn(&[f64]) -> f64| mcmc::mcse_between(&sorted, f).unwrap_or(0.0);
        let mcse_q = |p: f64| {
            mcmc::mcse_quantile(chains, p)
                .map(|w| w.max(between(&|c: &[f64]| mcmc::quantile7(c, p))))
        };
        let mcse_mean = d
            .mcse_mean
            .max(between(&|c: &[f64]| c.iter().sum::<f64>() / c.len() as f64));
        diagnostics = serde_json::json!({
            "rhat": d.rhat, "ess_bulk": d.ess_bulk, "ess_tail": d.ess_tail, "mcse_mean": mcse_mean,
            "mcse_median": mcse_q(0.5),
            "mcse_lower": mcse_q(plo),
            "mcse_upper": mcse_q(phi),
            "mcse_quantiles": quantiles.iter().map(|&(p, _)| (p, mcse_q(p))).collect::<Vec<_>>(),
            "mcse_method": "larger of the within-chain estimate (Vehtari et al. 2021) and the chains' spread / sqrt(chains)",
        });
    }
    Posterior {
        median: q(0.5),
        sd,
        interval: Interval {
            lower: Some(q(plo)),
            upper: Some(q(phi)),
            level,
            kind: "posterior-quantiles".into(),
            center: Some(mean),
        },
        draws: super::Draws {
            count: all.len(),
            mean,
            sd,
            quantiles,
            values: chains.concat(),
            exact: None,
        },
        diagnostics,
        warning,
    }
}
