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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::testing::{independent_cells, no_interval, rel};

    fn abc(cells: &[(u64, u64)]) -> CaptureTable {
        let names = ["A", "B", "C"].map(String::from).to_vec();
        CaptureTable::new(names, cells.iter().copied()).unwrap()
    }

    // The fits below reproduce closed forms exactly; R's glm stops when the relative
    // change in deviance is below 1e-8, and IRLS converges quadratically, so the final
    // coefficients are far closer than 1e-8 relative, the bound asserted.
    const EXACT: f64 = 1e-8;

    /// Counts N Π p_i^{h_i} (1 − p_i)^{1 − h_i} for N = 24000, p = 1/2, 1/3, 1/4: whole
    /// numbers, with 24000·(1/2)(2/3)(3/4) = 6000 unseen.
    fn independent() -> CaptureTable {
        abc(&independent_cells(24_000, &[(1, 2), (1, 3), (1, 4)]))
    }

    #[test]
    fn main_effects_recover_n_from_independent_lists() {
        let e = estimate_spec(&independent(), "[]", &no_interval(), "main").unwrap();
        assert_eq!(e.status, Status::Ok);
        assert_eq!(e.label, "main effects");
        assert_eq!(e.model.as_deref(), Some("[]"));
        assert_eq!(e.observed, 18_000);
        assert!(rel(e.population.unwrap(), 24_000.0) < EXACT, "{e:?}");
        let fit = e.fit.unwrap();
        // the deviance of a perfect fit is 0 up to the same convergence error
        assert!(fit.deviance.abs() < 1e-6, "{}", fit.deviance);
        // 7 cells, intercept + 3 main effects
        assert_eq!(fit.df, 3);
        assert_eq!(fit.df_adjusted, None);
    }

    #[test]
    fn no_three_way_interaction_has_fienbergs_closed_form() {
        // [AB,AC,BC] on three lists: m000 = n111 n100 n010 n001 / (n110 n101 n011)
        // (Fienberg 1972) = 4·40·30·20 / (10·8·6) = 200; 7 cells, 7 parameters.
        let t = abc(&[
            (0b001, 40),
            (0b010, 30),
            (0b100, 20),
            (0b011, 10),
            (0b101, 8),
            (0b110, 6),
            (0b111, 4),
        ]);
        for spec in ["[A:B,A:C,B:C]", "twoway", "[12,13,23]"] {
            let e = estimate_spec(&t, spec, &no_interval(), "loglinear").unwrap();
            assert_eq!(e.label, "all two-way", "{spec}");
            assert!(rel(e.missing.unwrap(), 200.0) < EXACT, "{spec}: {e:?}");
            assert_eq!(e.fit.unwrap().df, 0, "{spec}");
        }
    }

    #[test]
    fn df_is_cells_minus_parameters() {
        // four lists, every one of the 15 cells filled
        let names = ["A", "B", "C", "D"].map(String::from).to_vec();
        let t = CaptureTable::new(names, (1..16u64).map(|h| (h, 20 + 3 * h))).unwrap();
        // (spec, canonical label, parameters: 1 + 4 main + interactions)
        let cases = [
            ("main", "[]", 5),
            ("[A:B]", "[A:B]", 6),
            ("[A:B,C:D]", "[A:B,C:D]", 7),
            ("[A:B:C]", "[A:B:C]", 1 + 4 + 3 + 1),
            ("twoway", "[A:B,A:C,B:C,A:D,B:D,C:D]", 11),
            // all three-way terms: saturated but for the four-way term
            ("[123,124,134,234]", "[A:B:C,A:B:D,A:C:D,B:C:D]", 15),
        ];
        for (spec, canonical, p) in cases {
            let e = estimate_spec(&t, spec, &no_interval(), "loglinear").unwrap();
            assert_eq!(e.status, Status::Ok, "{spec}");
            assert_eq!(e.model.as_deref(), Some(canonical), "{spec}");
            assert_eq!(e.fit.unwrap().df, 15 - p, "{spec}");
        }
    }

    #[test]
    fn saturated_model_is_not_identifiable() {
        // The three-way term on three lists: 8 parameters for 7 observable cells.
        let e = estimate_spec(&independent(), "[123]", &no_interval(), "loglinear").unwrap();
        assert_eq!(e.status, Status::NotIdentifiable);
        assert_eq!(e.population, None);
    }

    #[test]
    fn unknown_list_or_bad_spec_is_a_usage_error() {
        let t = independent();
        for spec in ["[A:Z]", "[14]", "[A:B,]", "A:B"] {
            assert!(
                matches!(
                    estimate_spec(&t, spec, &no_interval(), "loglinear"),
                    Err(Error::Usage(_))
                ),
                "{spec}"
            );
        }
        let one = CaptureTable::new(vec!["A".into()], [(1, 3)]).unwrap();
        assert!(matches!(
            estimate_spec(&one, "[]", &no_interval(), "loglinear"),
            Err(Error::Usage(_))
        ));
    }

    /// A and B never overlap (no 011 or 111 cell).
    fn disjoint_a_b() -> CaptureTable {
        abc(&[
            (0b001, 30),
            (0b010, 20),
            (0b100, 40),
            (0b101, 6),
            (0b110, 4),
        ])
    }

    #[test]
    fn empty_margin_is_fitted_as_structural_zeros() {
        // With λ_AB = −∞, A and B are disjoint parts of one list A∪B, independent of C:
        // Petersen on (A∪B, C) gives N̂ = 60·50/10 = 300 (|A∪B| = 60, |C| = 50, m = 10).
        let e = estimate_spec(&disjoint_a_b(), "[A:B]", &no_interval(), "loglinear").unwrap();
        assert_eq!(e.status, Status::Ok);
        assert!(rel(e.population.unwrap(), 300.0) < EXACT, "{e:?}");
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("empty margins: A:B") && w.contains("2 cells")),
            "{:?}",
            e.warnings
        );
        let fit = e.fit.unwrap();
        // as R's glm counts: 7 cells − 5 parameters; without the 2 structural zeros and
        // the −∞ term (SparseMSE): 5 − 4
        assert_eq!(fit.df, 2);
        assert_eq!(fit.df_adjusted, Some(1));
        let ab = fit.coefficients.iter().find(|c| c.name == "A:B").unwrap();
        assert_eq!(ab.estimate, None);
    }

    #[test]
    fn glm_compat_gives_the_same_estimate_on_an_empty_margin() {
        // R's glm keeps λ_AB finite and lets it run down until its deviance test stops.
        // λ_AB enters only the A∩B cells, so the fit of every other cell, and N̂, do not
        // depend on where it stops: the same N̂ as the extended MLE, to convergence error.
        let glm = Settings {
            glm_compat: true,
            ..no_interval()
        };
        let a = estimate_spec(&disjoint_a_b(), "[A:B]", &no_interval(), "loglinear").unwrap();
        let b = estimate_spec(&disjoint_a_b(), "[A:B]", &glm, "loglinear").unwrap();
        assert!(
            rel(b.population.unwrap(), a.population.unwrap()) < EXACT,
            "{a:?} vs {b:?}"
        );
        assert_eq!(b.fit.unwrap().df_adjusted, None);
    }
}
