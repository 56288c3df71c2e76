//! Does the MLE exist, and is the model identifiable? The criterion of Fienberg & Rinaldo
//! (2012; SparseMSE's `checkident`): with X the design over the observable cells (empty-
//! margin terms and their cells removed) and t = Xᵀy, the MLE exists iff t lies in the
//! relative interior of the cone spanned by the rows of X. SparseMSE solves the primal LP
//! max { s : Xᵀx = t, x ≥ s }. Here the equivalent dual form is used (Haberman 1974): the MLE
//! fails to exist iff there is a direction d with X_S d = 0 on the cells with a positive
//! count, X_Z d ≤ 0 on the empty cells and X_Z d ≠ 0 — along it the likelihood never stops
//! increasing. Writing d = N u with N a basis of the null space of X_S, the check is an LP
//! in dim(N) free variables, and needs no LP at all when X_S has full column rank (the usual
//! case) or no cell is empty. Identifiability is full column rank of X. SparseMSE's code:
//! 1 MLE does not exist, 2 not identifiable, 3 both. The LP itself is `glm::recession`, which
//! the fit's boundary detection shares.

use super::{LoglinDesign, ModelSpec, design, term_name};
use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::glm::rank_deficiency;
use crate::glm::recession::{LP_ZERO, recession};
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
    /// The optimum of the recession LP (max Σ −X_Z d with −1 ≤ X_Z d ≤ 0 over the null space
    /// of X_S): positive exactly when the MLE does not exist; `null` when no LP was needed
    /// (no empty cell, or X_S of full column rank).
    pub lp_objective: Option<f64>,
    /// Empty cells the likelihood drives to zero when the MLE does not exist (histories as
    /// list names joined by `+`).
    pub zero_cells: Vec<String>,
    /// A plain sentence saying what was found.
    pub explanation: String,
}

/// Runs both checks on a design built by `design`.
pub fn check_design(d: &LoglinDesign, lists: &[String]) -> Result<Check> {
    let prob = &d.problem;
    let empty: Vec<String> = d.empty_terms.iter().map(|&t| term_name(t, lists)).collect();
    let rankdef = rank_deficiency(prob);
    let lp = recession_lp(d)?;
    let lp_objective = lp.as_ref().map(|x| x.0);
    let history = |h: u64| {
        (0..lists.len())
            .filter(|&i| h >> i & 1 == 1)
            .map(|i| lists[i].as_str())
            .collect::<Vec<_>>()
            .join("+")
    };
    let zero_cells: Vec<String> = lp
        .map(|x| x.1)
        .unwrap_or_default()
        .into_iter()
        .map(history)
        .collect();
    let mle_exists = lp_objective.is_none_or(|s| s <= LP_ZERO);
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
            "The maximum-likelihood estimate does not exist: no table with every cell positive has the observed margins of this model; the fit drives the empty cells {} to zero, runs to the boundary, and N̂ has no finite estimate.{margins}",
            zero_cells.join(", ")
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
        zero_cells,
        explanation,
    })
}

/// The recession LP's optimum and the empty cells strictly negative along the optimal
/// direction (those the fit drives to zero), or None when no LP is needed.
fn recession_lp(d: &LoglinDesign) -> Result<Option<(f64, Vec<u64>)>> {
    let prob = &d.problem;
    let lat = prob
        .lattice
        .as_ref()
        .ok_or_else(|| Error::Numerical("existence check needs a lattice design".into()))?;
    Ok(recession(prob)?.map(|r| {
        let zeros = r.zero_groups.iter().map(|&g| lat.hist[g]).collect();
        (r.objective, zeros)
    }))
}

/// Checks the model `spec` on `table`.
pub fn check(table: &CaptureTable, spec: &ModelSpec) -> Result<Check> {
    let d = design(table, spec, true)?;
    check_design(&d, table.lists())
}
