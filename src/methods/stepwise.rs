//! Forward stepwise selection of two-list interactions (Chan, Silverman & Vincent 2021;
//! SparseMSE `stepwisefit`). From the main-effects model, at each step every two-list
//! effect not yet in the model gets the one-sided Poisson p-value of its observed overlap
//! n*_ij under the current fit, min(P(X ≤ n*), P(X ≥ n*)) with X ~ Poisson(Σ μ over cells on
//! both lists); the effect with the smallest p-value enters if that p-value is below
//! `pthresh` and the enlarged model passes the existence and identifiability checks
//! (candidates that fail count as p = 1). Ties go to the first pair in the order
//! (1,2), (1,3), …, (1,k), (2,3), …. The selected model's N̂ comes with the Wald interval
//! on log(N − n), as SparseMSE's `estimatepopulation.0`.
//!
//! Existence is checked lazily: candidates are examined in p-value order and only until
//! one passes, which selects exactly the model SparseMSE selects while solving far fewer
//! linear programs; a failure is remembered, because a model containing a model whose MLE
//! does not exist has no MLE either.

use super::details::{Details, Step, StepRule, StepwiseDetails};
use super::loglinear::{fit_spec_checked, fitted_cells};
use super::types::{Estimate, Settings, Status};
use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::inference::IntervalKind;
use crate::loglinear::check::{Check, check};
use crate::loglinear::{ModelSpec, term_name};
use statrs::distribution::{DiscreteCDF, Poisson};

/// How candidates are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// Poisson p-value below the threshold (SparseMSE).
    PValue(f64),
    /// Add the effect that lowers AIC most, while AIC falls (Bales, Hesketh & Silverman
    /// 2015's rule for the UK data).
    Aic,
}

/// Runs the selection and returns the chosen model and its steps.
pub fn select(
    table: &CaptureTable,
    rule: Rule,
    max_iter: usize,
) -> Result<(ModelSpec, Vec<Step>, Check)> {
    let k = table.k();
    if rule == Rule::Aic {
        return select_aic(table, max_iter);
    }
    let Rule::PValue(pthresh) = rule else {
        unreachable!("handled above")
    };
    let pairs: Vec<u64> = (0..k)
        .flat_map(|i| (i + 1..k).map(move |j| (1u64 << i) | (1u64 << j)))
        .collect();
    let nstar: Vec<f64> = pairs
        .iter()
        .map(|&p| {
            table
                .cells()
                .iter()
                .filter(|(h, _)| h & p == p)
                .map(|&(_, c)| c as f64)
                .sum()
        })
        .collect();
    let mut included = vec![false; pairs.len()];
    let mut failed = vec![false; pairs.len()];
    let mut gens: Vec<u64> = Vec::new();
    let mut steps = Vec::new();
    let mut model = ModelSpec::from_generators(k, gens.clone());
    let mut model_check = check(table, &model)?;
    if pthresh >= 1.0 {
        // SparseMSE: pthresh = 1 means all two-list effects, if that model passes the checks.
        let full = ModelSpec::from_generators(k, pairs.clone());
        let c = check(table, &full)?;
        if c.code == 0 {
            return Ok((full, Vec::new(), c));
        }
    }
    for _ in 0..pairs.len() {
        let Some(mu) = fitted_cells(table, &model, max_iter)? else {
            break;
        };
        let mut cand: Vec<(f64, usize)> = Vec::new();
        for (j, &p) in pairs.iter().enumerate() {
            if included[j] || failed[j] {
                continue;
            }
            let pstar: f64 = mu.iter().filter(|(h, _)| h & p == p).map(|&(_, m)| m).sum();
            let pval = poisson_p(nstar[j], pstar);
            if pval < pthresh {
                cand.push((pval, j));
            }
        }
        // smallest p-value first, ties to the earlier pair
        cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut chosen = None;
        for (pval, j) in cand {
            let mut g = gens.clone();
            g.push(pairs[j]);
            let trial = ModelSpec::from_generators(k, g);
            let c = check(table, &trial)?;
            if c.code == 0 {
                chosen = Some((pval, j, trial, c));
                break;
            }
            failed[j] = true;
        }
        let Some((pval, j, trial, c)) = chosen else {
            break;
        };
        included[j] = true;
        gens.push(pairs[j]);
        steps.push(Step {
            term: term_name(pairs[j], table.lists()),
            p_value: pval,
        });
        model = trial;
        model_check = c;
    }
    Ok((model, steps, model_check))
}

/// Forward selection by AIC: add the two-list effect (with an existing MLE) that lowers AIC
/// most; stop when none lowers it.
fn select_aic(table: &CaptureTable, max_iter: usize) -> Result<(ModelSpec, Vec<Step>, Check)> {
    let k = table.k();
    let o = Settings {
        interval: IntervalKind::None,
        max_iter,
        ..Settings::default()
    };
    let aic_of = |ms: &ModelSpec| -> Result<Option<f64>> {
        let e = super::loglinear::fit_spec(table, ms, &o, "stepwise")?;
        Ok(e.fit.filter(|_| e.status == Status::Ok).map(|f| f.aic))
    };
    let pairs: Vec<u64> = (0..k)
        .flat_map(|i| (i + 1..k).map(move |j| (1u64 << i) | (1u64 << j)))
        .collect();
    let mut gens: Vec<u64> = Vec::new();
    let mut model = ModelSpec::from_generators(k, Vec::new());
    let mut current = aic_of(&model)?.unwrap_or(f64::INFINITY);
    let mut steps = Vec::new();
    loop {
        let mut best: Option<(f64, u64)> = None;
        for &p in pairs.iter().filter(|p| !gens.contains(p)) {
            let mut g = gens.clone();
            g.push(p);
            if let Some(a) = aic_of(&ModelSpec::from_generators(k, g))? {
                if best.is_none_or(|b| a < b.0) {
                    best = Some((a, p));
                }
            }
        }
        match best {
            Some((a, p)) if a < current => {
                gens.push(p);
                current = a;
                steps.push(Step {
                    term: term_name(p, table.lists()),
                    p_value: f64::NAN,
                });
                model = ModelSpec::from_generators(k, gens.clone());
            }
            _ => break,
        }
    }
    let c = check(table, &model)?;
    Ok((model, steps, c))
}

/// min(P(X ≤ n), P(X ≥ n)) for X ~ Poisson(λ).
fn poisson_p(n: f64, lambda: f64) -> f64 {
    let Ok(d) = Poisson::new(lambda) else {
        return 1.0;
    };
    let k = n as u64;
    let lower = d.cdf(k);
    let upper = if k == 0 { 1.0 } else { d.sf(k - 1) };
    lower.min(upper)
}

/// SparseMSE's default p-value threshold.
pub const DEFAULT_PTHRESH: f64 = 0.02;

/// The stepwise method with a given rule: select, then fit and report the chosen model.
pub fn estimate(table: &CaptureTable, opts: &Settings, rule: Rule) -> Result<Estimate> {
    let (rule_name, pthresh) = match rule {
        Rule::PValue(p) => (StepRule::Pvalue, Some(p)),
        Rule::Aic => (StepRule::Aic, None),
    };
    if table.k() < 2 {
        return Err(Error::Usage(format!(
            "method stepwise needs at least 2 lists; the table has {}",
            table.k()
        )));
    }
    if let Rule::PValue(p) = rule
        && !(p > 0.0 && p <= 1.0)
    {
        return Err(Error::Usage(format!(
            "expected a p-value threshold in (0, 1], found {p}"
        )));
    }
    let (model, steps, chk) = select(table, rule, opts.max_iter)?;
    // SparseMSE reports the Wald interval on log(N − n) for the selected model; an interval
    // that accounts for the selection itself needs the bootstrap.
    let opts = &Settings {
        interval: if opts.interval == IntervalKind::None {
            opts.interval
        } else {
            IntervalKind::WaldLog
        },
        ..*opts
    };
    let mut est = fit_spec_checked(table, &model, opts, "stepwise", Some(chk))?;
    let terms: Vec<String> = steps.iter().map(|s| s.term.clone()).collect();
    let empty: Vec<String> = est
        .check
        .as_ref()
        .map(|c| c.empty_margins.clone())
        .unwrap_or_default();
    est.options = Details::Stepwise(StepwiseDetails {
        empty_overlaps: empty,
        interval: opts.interval,
        level: opts.level,
        pthresh,
        rule: rule_name,
        selected_terms: terms,
        steps,
    });
    Ok(est)
}
