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
            // Every effect is taken without a test: the steps record them with no p-value
            // (null), so that `selected_terms` names the model's generators.
            let steps = pairs
                .iter()
                .map(|&p| Step {
                    term: term_name(p, table.lists()),
                    p_value: f64::NAN,
                })
                .collect();
            return Ok((full, steps, c));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::testing::{no_interval, rel};

    /// The estimate's options as the result JSON writes them.
    fn wire(e: &Estimate) -> serde_json::Value {
        serde_json::to_value(&e.options).unwrap()
    }

    fn abcd(cells: impl IntoIterator<Item = (u64, u64)>) -> CaptureTable {
        let names = ["A", "B", "C", "D"].map(String::from).to_vec();
        CaptureTable::new(names, cells).unwrap()
    }

    /// N Π p_i^{h_i} (1 − p_i)^{1 − h_i} for N = 1200 and p = 1/2, 1/3, 1/4, 1/5, with the
    /// cells on both C and D multiplied by `cd` (λ_CD = log cd). Whole numbers; the unseen
    /// are 1200·(1/2)(2/3)(3/4)(4/5) = 240 whatever `cd` is.
    fn lists(cd: u64) -> CaptureTable {
        let p = [(1, 2), (1, 3), (1, 4), (1, 5)];
        abcd((1..16u64).map(|h| {
            let c = p.iter().enumerate().fold(1200, |acc, (i, &(a, b))| {
                if h >> i & 1 == 1 {
                    acc * a / b
                } else {
                    acc * (b - a) / b
                }
            });
            (h, if h & 0b1100 == 0b1100 { c * cd } else { c })
        }))
    }

    fn terms(e: &Estimate) -> Vec<String> {
        wire(&e)["selected_terms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    }

    // The selected model holds exactly in these tables, so its fit reproduces them; R's
    // glm stops at a relative deviance change of 1e-8 and IRLS converges quadratically,
    // leaving N̂ far closer than 1e-8 relative, the bound asserted.
    const EXACT: f64 = 1e-8;

    #[test]
    fn independent_lists_get_no_two_list_effect() {
        let t = lists(1);
        for rule in [Rule::PValue(DEFAULT_PTHRESH), Rule::PValue(0.3), Rule::Aic] {
            let e = estimate(&t, &no_interval(), rule).unwrap();
            assert_eq!(e.status, Status::Ok, "{rule:?}");
            assert!(terms(&e).is_empty(), "{rule:?}: {:?}", terms(&e));
            assert_eq!(e.model.as_deref(), Some("[]"), "{rule:?}");
            assert!(
                rel(e.population.unwrap(), 1200.0) < EXACT,
                "{rule:?}: {e:?}"
            );
        }
    }

    #[test]
    fn a_built_in_dependence_is_the_effect_selected() {
        // C:D is the last pair in the tie order, so picking it is the p-value's (or AIC's)
        // doing; once it is in, the model holds exactly and nothing else enters.
        let t = lists(4);
        for rule in [Rule::PValue(DEFAULT_PTHRESH), Rule::Aic] {
            let e = estimate(&t, &no_interval(), rule).unwrap();
            assert_eq!(terms(&e), ["C:D"], "{rule:?}");
            assert_eq!(e.model.as_deref(), Some("[C:D]"), "{rule:?}");
            assert!(rel(e.missing.unwrap(), 240.0) < EXACT, "{rule:?}: {e:?}");
        }
    }

    /// A table with uneven dependence, so that thresholds select different numbers of
    /// effects.
    fn uneven() -> CaptureTable {
        abcd((1..16u64).map(|h| (h, 15 + (h * 37 + h * h * 11) % 53)))
    }

    #[test]
    fn a_lower_threshold_selects_a_prefix_of_a_higher_ones_steps() {
        // Each step adds the smallest p-value among those below the threshold, so the
        // path at a lower threshold stops earlier on the same path.
        let t = uneven();
        let thresholds = [1e-6, 1e-3, 0.02, 0.1, 0.3, 0.6, 0.99];
        let paths: Vec<Vec<String>> = thresholds
            .iter()
            .map(|&p| {
                let (_, steps, _) = select(&t, Rule::PValue(p), 25).unwrap();
                steps.into_iter().map(|s| s.term).collect()
            })
            .collect();
        for w in paths.windows(2) {
            assert!(w[1].starts_with(&w[0]), "{paths:?}");
        }
        assert!(paths[6].len() > paths[0].len(), "{paths:?}");
        // and each recorded p-value was below its threshold
        for &p in &thresholds {
            let (_, steps, _) = select(&t, Rule::PValue(p), 25).unwrap();
            assert!(steps.iter().all(|s| s.p_value < p), "{steps:?}");
        }
    }

    #[test]
    fn threshold_one_takes_every_two_list_effect() {
        let (model, _, chk) = select(&uneven(), Rule::PValue(1.0), 25).unwrap();
        assert_eq!(chk.code, 0);
        assert_eq!(model.generators.len(), 6);
        assert!(model.generators.iter().all(|g| g.count_ones() == 2));
    }

    #[test]
    fn selected_terms_are_the_models_generators() {
        let t = uneven();
        for rule in [Rule::PValue(0.02), Rule::PValue(0.6), Rule::Aic] {
            let e = estimate(&t, &no_interval(), rule).unwrap();
            let mut ours = terms(&e);
            ours.sort();
            let model = e.model.clone().unwrap();
            let inner = model.trim_start_matches('[').trim_end_matches(']');
            let mut theirs: Vec<String> = inner
                .split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            theirs.sort();
            assert_eq!(ours, theirs, "{rule:?}");
            assert_eq!(
                wire(&e)["steps"].as_array().unwrap().len(),
                ours.len(),
                "{rule:?}"
            );
        }
    }

    #[test]
    fn selected_terms_are_the_models_generators_at_threshold_one() {
        let e = estimate(&uneven(), &no_interval(), Rule::PValue(1.0)).unwrap();
        assert_eq!(e.label, "all two-way");
        assert_eq!(terms(&e).len(), 6, "{:?}", e.options);
    }

    #[test]
    fn aic_selection_stops_where_no_single_effect_lowers_aic() {
        // Bales, Hesketh & Silverman's rule, checked with independent fits through the
        // log-linear estimator: the chosen model beats main effects, and adding any one
        // of the remaining two-list effects to it does not lower AIC.
        let t = uneven();
        let e = estimate(&t, &no_interval(), Rule::Aic).unwrap();
        let aic = |spec: &str| {
            let f = super::super::loglinear::estimate_spec(&t, spec, &no_interval(), "m").unwrap();
            (f.status == Status::Ok).then(|| f.fit.unwrap().aic)
        };
        let chosen = terms(&e);
        assert!(!chosen.is_empty());
        let best = e.fit.as_ref().unwrap().aic;
        assert!(best < aic("[]").unwrap());
        for pair in ["A:B", "A:C", "A:D", "B:C", "B:D", "C:D"] {
            if chosen.iter().any(|c| c == pair) {
                continue;
            }
            let spec = format!("[{},{pair}]", chosen.join(","));
            if let Some(a) = aic(&spec) {
                assert!(a >= best, "{spec}: {a} < {best}");
            }
        }
        assert_eq!(wire(&e)["rule"], "aic");
        assert!(wire(&e)["pthresh"].is_null());
        assert!(wire(&e)["steps"][0]["p_value"].is_null());
    }

    #[test]
    fn poisson_p_is_the_smaller_tail() {
        // X ~ Poisson(2): P(X ≤ 0) = e^−2, P(X ≤ 1) = 3e^−2 (the lower tails are the
        // smaller), P(X ≥ 5) = 1 − e^−2 (1 + 2 + 2 + 4/3 + 2/3) = 1 − 7e^−2 (the upper).
        // statrs' incomplete gamma is good to about 1e-14; 1e-12 leaves room.
        let e2 = (-2.0f64).exp();
        assert!((poisson_p(0.0, 2.0) - e2).abs() < 1e-12);
        assert!((poisson_p(1.0, 2.0) - 3.0 * e2).abs() < 1e-12);
        assert!((poisson_p(5.0, 2.0) - (1.0 - 7.0 * e2)).abs() < 1e-12);
        // no Poisson with mean 0: no evidence either way
        assert_eq!(poisson_p(3.0, 0.0), 1.0);
    }

    #[test]
    fn thresholds_outside_zero_one_and_single_lists_are_usage_errors() {
        let t = lists(1);
        for p in [0.0, -0.1, 1.5, f64::NAN] {
            assert!(
                matches!(
                    estimate(&t, &no_interval(), Rule::PValue(p)),
                    Err(Error::Usage(_))
                ),
                "{p}"
            );
        }
        let one = CaptureTable::new(vec!["A".into()], [(1, 3)]).unwrap();
        assert!(matches!(
            estimate(&one, &no_interval(), Rule::Aic),
            Err(Error::Usage(_))
        ));
    }
}
