//! Does the MLE exist, and is the model identifiable? The linear-programming criterion of
//! Fienberg & Rinaldo (2012, p. 3, as corrected and used by SparseMSE's `checkident`): with
//! A the design over the observable cells (empty-margin terms and their cells removed) and
//! t = A y the observed margins, the MLE exists iff some strictly positive x solves A x = t,
//! i.e. iff max { s : A x = t, x_c ≥ s for every cell } is positive. Identifiability is full
//! column rank of A. SparseMSE's code: 1 MLE does not exist, 2 not identifiable, 3 both.

use super::{LoglinDesign, ModelSpec, design, term_name};
use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::glm::lattice::Column;
use crate::glm::rank_deficiency;
use serde::Serialize;

/// The outcome of the existence and identifiability checks.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// SparseMSE's `checkident` code: 0 ok, 1 MLE does not exist, 2 not identifiable, 3 both.
    pub code: u8,
    /// Whether the (extended) MLE exists.
    pub mle_exists: bool,
    /// Whether the design has full column rank.
    pub identifiable: bool,
    /// Columns that are linear combinations of others.
    pub rank_deficiency: usize,
    /// Terms whose margin is empty (fitted at −∞, their cells structural zeros).
    pub empty_margins: Vec<String>,
    /// The LP optimum (the largest s with x ≥ s), scaled by 1/n; `null` when the LP was not
    /// needed because no cell of the design is empty.
    pub lp_objective: Option<f64>,
    /// A plain sentence saying what was found.
    pub explanation: String,
}

/// Below this (relative to n) the LP optimum counts as zero.
const LP_ZERO: f64 = 1e-9;

/// Runs both checks on a design built by `design`.
pub fn check_design(d: &LoglinDesign, lists: &[String]) -> Result<Check> {
    let prob = &d.problem;
    let empty: Vec<String> = d.empty_terms.iter().map(|&t| term_name(t, lists)).collect();
    let n: f64 = prob.y.iter().sum();
    let rankdef = rank_deficiency(prob);
    let lp_objective = if prob.y.iter().all(|&y| y > 0.0) {
        // x = y is strictly positive: the MLE exists without asking the LP.
        None
    } else {
        Some(lp_max_margin(d, n)?)
    };
    let mle_exists = lp_objective.is_none_or(|s| s > LP_ZERO);
    let identifiable = rankdef == 0;
    let code = u8::from(!mle_exists) + 2 * u8::from(!identifiable);
    let margins = if empty.is_empty() {
        String::new()
    } else {
        format!(
            " Empty margins: {} (their cells are structural zeros).",
            empty.join(", ")
        )
    };
    let explanation = match code {
        0 => format!(
            "The maximum-likelihood estimate exists and the model is identifiable.{margins}"
        ),
        1 => format!(
            "The maximum-likelihood estimate does not exist: no table with every cell positive has the observed margins of this model, so the fit runs to the boundary and N̂ has no finite, positive estimate.{margins}"
        ),
        2 => format!(
            "The model is not identifiable: {rankdef} of its {} parameters are determined by the others on the {} cells that remain.{margins}",
            prob.p,
            prob.cells()
        ),
        _ => format!(
            "The maximum-likelihood estimate does not exist and the model is not identifiable ({rankdef} of {} parameters undetermined).{margins}",
            prob.p
        ),
    };
    Ok(Check {
        code,
        mle_exists,
        identifiable,
        rank_deficiency: rankdef,
        empty_margins: empty,
        lp_objective,
        explanation,
    })
}

/// max s subject to A x = t/n, x_c ≥ s, x ≥ 0 (scaled by n for conditioning).
fn lp_max_margin(d: &LoglinDesign, n: f64) -> Result<f64> {
    let prob = &d.problem;
    let lat = prob
        .lattice
        .as_ref()
        .ok_or_else(|| Error::Numerical("existence check needs a lattice design".into()))?;
    let mut lp = microlp::Problem::new(microlp::OptimizationDirection::Maximize);
    let xs: Vec<microlp::Variable> = (0..prob.cells())
        .map(|_| lp.add_var(0.0, (0.0, f64::INFINITY)))
        .collect();
    let s = lp.add_var(1.0, (0.0, f64::INFINITY));
    for col in &lat.columns {
        let mut expr = Vec::new();
        let mut t = 0.0;
        for (c, &h) in lat.hist.iter().enumerate() {
            let a = match col {
                Column::Contains(m) => f64::from(u8::from(h & m == *m)),
                Column::OfCount(f) => f[h.count_ones() as usize],
            };
            if a != 0.0 {
                expr.push((xs[c], a));
                t += a * prob.y[c] / n;
            }
        }
        lp.add_constraint(expr.as_slice(), microlp::ComparisonOp::Eq, t);
    }
    for &x in &xs {
        lp.add_constraint(&[(x, 1.0), (s, -1.0)], microlp::ComparisonOp::Ge, 0.0);
    }
    let outcome = lp
        .solve()
        .map_err(|e| Error::Numerical(format!("existence LP failed: {e}")))?;
    let sol = outcome
        .into_solution()
        .map_err(|e| Error::Numerical(format!("existence LP found no solution: {e:?}")))?;
    Ok(sol.objective())
}

/// Checks the model `spec` on `table`.
pub fn check(table: &CaptureTable, spec: &ModelSpec) -> Result<Check> {
    let d = design(table, spec, true)?;
    check_design(&d, table.lists())
}
