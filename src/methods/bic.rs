//! Model choice by BIC over all hierarchical log-linear models up to `maxorder`
//! (as MultipleSystemsEstimation's `BICsearch` does; Silverman 2020 uses it for the UK
//! and Netherlands data). Every model whose MLE exists and is identifiable (the check of
//! `loglinear::check`) is fitted and ranked by BIC = −2 log L + log(n)·p (Rcapture's
//! definition); the best `ntop` are reported, the first with its interval. Default maxorder
//! as MultipleSystemsEstimation: 2 lists → 1, 3 → 2, 4–5 → 3, 6 → 2. With more models than
//! `MAX_MODELS` (7 lists and up) an exhaustive search is replaced by a downhill search
//! (add or remove one term at a time, keeping the hierarchy, while BIC falls), and the
//! estimate says so.

use super::details::{BicDetails, Details};
use super::loglinear::fit_spec;
use super::types::{Estimate, Settings, Status};
use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::glm::FitOptions;
use crate::inference::IntervalKind;
use crate::loglinear::check::check_design;
use crate::loglinear::fit::fit_loglin;
use crate::loglinear::{ModelSpec, design};
use rayon::prelude::*;

/// Above this many candidate models the search is downhill instead of exhaustive.
pub const MAX_MODELS: usize = 1 << 17;

/// How many of the best models are reported when the job does not say.
pub const DEFAULT_NTOP: usize = 5;

/// MultipleSystemsEstimation's default maximum interaction order for k lists.
pub fn default_maxorder(k: usize) -> usize {
    match k {
        0..=2 => 1,
        3 => 2,
        4 | 5 => 3,
        _ => 2,
    }
}

/// All terms of order 2..=maxorder on k lists, grouped by order.
fn terms_by_order(k: usize, maxorder: usize) -> Vec<Vec<u64>> {
    (2..=maxorder)
        .map(|o| {
            (1u64..(1u64 << k))
                .filter(|t| t.count_ones() as usize == o)
                .collect()
        })
        .collect()
}

/// Every hierarchical model (set of interaction terms closed under taking subsets of
/// order ≥ 2) with terms of order ≤ maxorder; None when there are more than `limit`.
pub fn enumerate(k: usize, maxorder: usize, limit: usize) -> Option<Vec<Vec<u64>>> {
    let orders = terms_by_order(k, maxorder);
    let mut out: Vec<Vec<u64>> = Vec::new();
    fn rec(
        orders: &[Vec<u64>],
        level: usize,
        chosen: &mut Vec<u64>,
        out: &mut Vec<Vec<u64>>,
        limit: usize,
    ) -> bool {
        if level == orders.len() {
            out.push(chosen.clone());
            return out.len() <= limit;
        }
        // terms of this order whose every sub-term of order one less is chosen
        let allowed: Vec<u64> = orders[level]
            .iter()
            .copied()
            .filter(|&t| {
                level == 0
                    || (0..64)
                        .filter(|i| t >> i & 1 == 1)
                        .all(|i| chosen.contains(&(t & !(1u64 << i))))
            })
            .collect();
        if allowed.len() > 24 {
            return false;
        }
        for mask in 0u64..(1u64 << allowed.len()) {
            let before = chosen.len();
            chosen.extend(
                allowed
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| mask >> j & 1 == 1)
                    .map(|(_, &t)| t),
            );
            let ok = rec(orders, level + 1, chosen, out, limit);
            chosen.truncate(before);
            if !ok {
                return false;
            }
        }
        true
    }
    let mut chosen = Vec::new();
    rec(&orders, 0, &mut chosen, &mut out, limit).then_some(out)
}

/// BIC and N̂ of one model, None when its MLE does not exist or it is not identifiable.
fn score(table: &CaptureTable, terms: &[u64], max_iter: usize) -> Option<(f64, f64)> {
    let ms = ModelSpec::from_generators(table.k(), terms.to_vec());
    let d = design(table, &ms, true).ok()?;
    let chk = check_design(&d, table.lists()).ok()?;
    if chk.code != 0 {
        return None;
    }
    let extra = d.empty_terms.len();
    let n = table.observed() as f64;
    let lf = fit_loglin(
        d.problem,
        None,
        FitOptions {
            max_iter,
            ..FitOptions::default()
        },
        None,
    )?;
    if !lf.fit.converged {
        return None;
    }
    let rank = (lf.fit.rank + extra) as f64;
    let bic = -2.0 * lf.fit.loglik + n.ln() * rank;
    Some((bic, n + lf.fit.coef[0].exp()))
}

/// Downhill search from the main-effects model: add or drop one term (keeping the model
/// hierarchical) while BIC falls.
fn downhill(table: &CaptureTable, maxorder: usize, max_iter: usize) -> Vec<(Vec<u64>, f64, f64)> {
    let k = table.k();
    let all: Vec<u64> = terms_by_order(k, maxorder).concat();
    let hierarchical = |m: &[u64]| {
        m.iter().all(|&t| {
            t.count_ones() < 3
                || (0..64)
                    .filter(|i| t >> i & 1 == 1)
                    .all(|i| m.contains(&(t & !(1u64 << i))))
        })
    };
    let mut current: Vec<u64> = Vec::new();
    let mut best = score(table, &current, max_iter).map_or(f64::INFINITY, |s| s.0);
    let mut seen: Vec<(Vec<u64>, f64, f64)> = Vec::new();
    loop {
        let neighbours: Vec<Vec<u64>> = all
            .iter()
            .map(|&t| {
                let mut m = current.clone();
                match m.iter().position(|&x| x == t) {
                    Some(p) => {
                        m.remove(p);
                    }
                    None => m.push(t),
                }
                m.sort_unstable();
                m
            })
            .filter(|m| hierarchical(m))
            .collect();
        let scored: Vec<(Vec<u64>, f64, f64)> = neighbours
            .into_par_iter()
            .filter_map(|m| score(table, &m, max_iter).map(|(b, n)| (m, b, n)))
            .collect();
        seen.extend(scored.iter().cloned());
        match scored.iter().min_by(|a, b| a.1.total_cmp(&b.1)) {
            Some((m, b, _)) if *b < best - 1e-9 => {
                best = *b;
                current = m.clone();
            }
            _ => break,
        }
    }
    if let Some((b, n)) = score(table, &current, max_iter) {
        seen.push((current, b, n));
    }
    seen
}

/// The `bic` method: the best `ntop` models, best first.
pub fn estimate(
    table: &CaptureTable,
    opts: &Settings,
    maxorder: Option<usize>,
    ntop: usize,
) -> Result<Vec<Estimate>> {
    let k = table.k();
    if k < 2 {
        return Err(Error::Usage(format!(
            "method bic needs at least 2 lists; the table has {k}"
        )));
    }
    // Before the terms are listed: listing them walks all 2^k subsets.
    table.check_dense()?;
    let maxorder = maxorder.unwrap_or_else(|| default_maxorder(k));
    if maxorder == 0 || maxorder >= k {
        return Err(Error::Usage(format!(
            "maxorder must be between 1 and {} for {k} lists (the {k}-way term is never identifiable), got {maxorder}",
            k - 1
        )));
    }
    if ntop == 0 {
        return Err(Error::Usage("ntop must be at least 1".into()));
    }
    let (mut ranked, searched): (Vec<(Vec<u64>, f64, f64)>, String) = match enumerate(
        k, maxorder, MAX_MODELS,
    ) {
        Some(models) => {
            let total = models.len();
            let r = models
                .into_par_iter()
                .filter_map(|m| score(table, &m, opts.max_iter).map(|(b, n)| (m, b, n)))
                .collect();
            (
                r,
                format!("all {total} hierarchical models up to order {maxorder}"),
            )
        }
        None => (
            downhill(table, maxorder, opts.max_iter),
            format!(
                "a downhill search (more than {MAX_MODELS} hierarchical models up to order {maxorder})"
            ),
        ),
    };
    // best first; ties broken by model size then term order, so the ranking is deterministic
    ranked.sort_by(|a, b| {
        a.1.total_cmp(&b.1)
            .then(a.0.len().cmp(&b.0.len()))
            .then(a.0.cmp(&b.0))
    });
    ranked.dedup_by(|a, b| a.0 == b.0);
    if ranked.is_empty() {
        // Lists that never overlap leave no model with an MLE: an answer ("none"), not an
        // error about the input.
        return Ok(vec![super::common::no_estimate(
            "bic",
            "BIC: no model with an MLE".into(),
            None,
            Details::None,
            table.observed(),
            Status::MleDoesNotExist,
            vec![format!(
                "no hierarchical model up to order {maxorder} has an MLE on these data (searched: {searched})"
            )],
        )]);
    }
    let mut out = Vec::new();
    for (rank, (terms, bic, _)) in ranked.iter().take(ntop).enumerate() {
        let ms = ModelSpec::from_generators(k, terms.clone());
        let o = if rank == 0 {
            *opts
        } else {
            Settings {
                interval: IntervalKind::None,
                ..*opts
            }
        };
        let mut est = fit_spec(table, &ms, &o, "bic")?;
        est.label = format!("BIC #{} {}", rank + 1, est.label);
        est.options = Details::Bic(BicDetails {
            bic: *bic,
            candidates_with_mle: ranked.len(),
            interval: o.interval,
            level: opts.level,
            maxorder,
            rank: rank + 1,
            searched: searched.clone(),
        });
        if rank == 0 && searched.starts_with("a downhill") {
            est.warnings.push(format!(
                "model choice by {searched}, not an exhaustive search"
            ));
        }
        if est.status != Status::Ok {
            est.warnings
                .push("the refit of a ranked model did not give a number".into());
        }
        out.push(est);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_hierarchical_models() {
        // maxorder 2: every set of pairs
        assert_eq!(enumerate(4, 2, usize::MAX).map(|v| v.len()), Some(64));
        assert_eq!(enumerate(6, 2, usize::MAX).map(|v| v.len()), Some(32768));
        // 3 lists up to order 2 with the triple excluded: 8; with order 3 allowed: 9
        assert_eq!(enumerate(3, 2, usize::MAX).map(|v| v.len()), Some(8));
        assert_eq!(enumerate(3, 3, usize::MAX).map(|v| v.len()), Some(9));
    }

    #[test]
    fn lists_that_never_overlap_give_a_status_not_an_error() {
        let lists = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let t = CaptureTable::new(lists, [(1, 10), (2, 12), (4, 9)]).unwrap();
        let out = estimate(&t, &Settings::default(), None, DEFAULT_NTOP).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status, Status::MleDoesNotExist);
        assert_eq!(out[0].population, None);
        assert!(
            out[0].warnings[0].contains("up to order 2 has an MLE"),
            "{:?}",
            out[0].warnings
        );
    }
}
