//! Hierarchical log-linear models for k lists (Fienberg 1972; Cormack 1989): counts of the
//! 2^k − 1 observable histories are independent Poisson with log μ_h = Σ_{S ⊆ h, S ∈ model}
//! λ_S; the unobserved history has mean exp(λ_∅), so N̂ = n + exp(λ_∅). Assumes the
//! interactions left out of the model are absent in the population as well, and in
//! particular that the highest-order interaction is zero.
//!
//! Interaction terms whose margin is empty have λ_S = −∞ in the extended MLE; their cells
//! are structural zeros and the model is fitted on the rest (as SparseMSE does). N̂ is
//! unaffected; AIC, BIC and `df` count those parameters as R's glm does, `df_adjusted` does
//! not (SparseMSE's df).

use super::common::{loglin_estimate, no_estimate};
use super::details::{Details, LoglinearDetails};
use super::types::{Estimate, Settings, Status};
use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::glm::FitOptions;
use crate::loglinear::check::check_design;
use crate::loglinear::fit::fit_loglin;
use crate::loglinear::{ModelSpec, design, term_name};

/// Fits the model `spec` to a table.
pub fn estimate_spec(
    table: &CaptureTable,
    spec: &str,
    opts: &Settings,
    method: &str,
) -> Result<Estimate> {
    if table.k() < 2 {
        return Err(Error::Usage(format!(
            "method {method} needs at least 2 lists; the table has {}",
            table.k()
        )));
    }
    let ms = ModelSpec::parse(spec, table.lists())?;
    fit_spec(table, &ms, opts, method)
}

/// Fits a parsed model.
pub fn fit_spec(
    table: &CaptureTable,
    ms: &ModelSpec,
    opts: &Settings,
    method: &str,
) -> Result<Estimate> {
    fit_spec_checked(table, ms, opts, method, None)
}

/// Fits a parsed model whose existence check may already be known (`known`).
pub fn fit_spec_checked(
    table: &CaptureTable,
    ms: &ModelSpec,
    opts: &Settings,
    method: &str,
    known: Option<crate::loglinear::check::Check>,
) -> Result<Estimate> {
    let lists = table.lists();
    let canonical = ms.label(lists);
    let k = table.k();
    let label = if ms.terms.is_empty() {
        "main effects".to_string()
    } else if ms.generators.len() == k * (k - 1) / 2
        && ms.generators.iter().all(|g| g.count_ones() == 2)
    {
        "all two-way".to_string()
    } else {
        canonical.clone()
    };
    let n = table.observed();
    let d = design(table, ms, !opts.glm_compat)?;
    let options = Details::Loglinear(LoglinearDetails {
        interval: opts.interval,
        level: opts.level,
    });
    let mut warnings = Vec::new();
    let empty_names: Vec<String> = d.empty_terms.iter().map(|&t| term_name(t, lists)).collect();
    if !d.empty_terms.is_empty() {
        warnings.push(format!(
            "empty margins: {} — those terms are -inf (extended MLE) and the {} cells containing them are fitted as structural zeros; N̂ is unaffected",
            empty_names.join(", "),
            d.zero_cells
        ));
    }
    // Existence is judged for the extended MLE (empty-margin terms at −∞), also when the fit
    // itself keeps those terms finite as R's glm does.
    let chk = if let Some(c) = known {
        c
    } else if opts.glm_compat {
        check_design(&design(table, ms, true)?, lists)?
    } else {
        check_design(&d, lists)?
    };
    let give_up = |status: Status, warnings: Vec<String>| {
        let mut e = no_estimate(
            method,
            label.clone(),
            Some(canonical.clone()),
            options.clone(),
            n,
            status,
            warnings,
        );
        e.check = Some(chk.clone());
        Ok(e)
    };
    if chk.code != 0 {
        warnings.push(chk.explanation.clone());
        let status = if chk.identifiable {
            Status::MleDoesNotExist
        } else {
            Status::NotIdentifiable
        };
        return give_up(status, warnings);
    }
    let p = d.problem.p;
    let cells = d.problem.cells();
    if p > cells {
        warnings.push(format!(
            "{p} parameters for {cells} cells that are not structural zeros: the model is not identifiable"
        ));
        return give_up(Status::NotIdentifiable, warnings);
    }
    let fo = FitOptions {
        max_iter: opts.max_iter,
        ..FitOptions::default()
    };
    let Some(lf) = fit_loglin(d.problem, None, fo, None) else {
        warnings.push("the IRLS fit failed: no finite deviance could be reached".into());
        return give_up(Status::NotConverged, warnings);
    };
    if lf.fit.aliased.iter().any(|&a| a) {
        let names: Vec<&str> = lf
            .problem
            .names
            .iter()
            .zip(&lf.fit.aliased)
            .filter(|(_, a)| **a)
            .map(|(s, _)| s.as_str())
            .collect();
        warnings.push(format!(
            "not identifiable: the terms {} are linear combinations of the others",
            names.join(", ")
        ));
        return give_up(Status::NotIdentifiable, warnings);
    }
    let extra =
        (!d.empty_terms.is_empty()).then(|| (d.empty_terms.len(), d.zero_cells, empty_names));
    let mut est = loglin_estimate(
        method,
        label,
        Some(canonical),
        options,
        &lf,
        n,
        opts,
        extra,
        warnings,
    );
    est.check = Some(chk);
    Ok(est)
}

/// Fitted means of the observable cells under `ms` (extended MLE, no existence check):
/// (history, μ) for every cell that is not a structural zero. None when the fit fails.
pub fn fitted_cells(
    table: &crate::data::CaptureTable,
    ms: &ModelSpec,
    max_iter: usize,
) -> Result<Option<Vec<(u64, f64)>>> {
    let d = design(table, ms, true)?;
    let hist = d
        .problem
        .lattice
        .as_ref()
        .map(|l| l.hist.clone())
        .unwrap_or_default();
    let fo = FitOptions {
        max_iter,
        ..FitOptions::default()
    };
    Ok(fit_loglin(d.problem, None, fo, None).map(|lf| hist.into_iter().zip(lf.fit.mu).collect()))
}
