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
//! 1 MLE does not exist, 2 not identifiable, 3 both.

use super::{LoglinDesign, ModelSpec, design, term_name};
use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::glm::lattice::Column;
use crate::glm::rank_deficiency;
use nalgebra::{DMatrix, DVector, SymmetricEigen};
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

/// At or below this the recession LP's optimum counts as zero.
const LP_ZERO: f64 = 1e-9;

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
    let p = lat.columns.len();
    let value = |h: u64, col: &Column| match col {
        Column::Contains(m) => f64::from(u8::from(h & m == *m)),
        Column::OfCount(f) => f[h.count_ones() as usize],
    };
    let row = |h: u64| DVector::from_iterator(p, lat.columns.iter().map(|c| value(h, c)));
    let (support, empty): (Vec<u64>, Vec<u64>) = {
        let mut s = Vec::new();
        let mut z = Vec::new();
        for (c, &h) in lat.hist.iter().enumerate() {
            if prob.y[c] > 0.0 {
                s.push(h)
            } else {
                z.push(h)
            }
        }
        (s, z)
    };
    if empty.is_empty() {
        return Ok(None);
    }
    // Null space of X_S from the eigenvectors of X_SᵀX_S with (relatively) zero eigenvalue.
    let mut g = DMatrix::<f64>::zeros(p, p);
    for &h in &support {
        let r = row(h);
        g += &r * r.transpose();
    }
    let eig = SymmetricEigen::new(g);
    let top = eig
        .eigenvalues
        .iter()
        .fold(0.0f64, |a, &b| a.max(b.abs()))
        .max(1.0);
    let null: Vec<DVector<f64>> = (0..p)
        .filter(|&i| eig.eigenvalues[i].abs() <= 1e-10 * top)
        .map(|i| eig.eigenvectors.column(i).into_owned())
        .collect();
    if null.is_empty() {
        return Ok(None);
    }
    // M = X_Z N; maximise Σ −(M u)_c subject to −1 ≤ (M u)_c ≤ 0, u free.
    let mut lp = microlp::Problem::new(microlp::OptimizationDirection::Maximize);
    let rows: Vec<Vec<f64>> = empty
        .iter()
        .map(|&h| {
            let r = row(h);
            null.iter().map(|nv| r.dot(nv)).collect()
        })
        .collect();
    let mut obj = vec![0.0; null.len()];
    for r in &rows {
        for (o, v) in obj.iter_mut().zip(r) {
            *o -= v;
        }
    }
    let us: Vec<microlp::Variable> = obj
        .iter()
        .map(|&o| lp.add_var(o, (f64::NEG_INFINITY, f64::INFINITY)))
        .collect();
    for r in &rows {
        let expr: Vec<(microlp::Variable, f64)> = us
            .iter()
            .zip(r)
            .filter(|(_, v)| v.abs() > 1e-14)
            .map(|(&u, &v)| (u, v))
            .collect();
        if expr.is_empty() {
            continue;
        }
        lp.add_constraint(expr.as_slice(), microlp::ComparisonOp::Le, 0.0);
        lp.add_constraint(expr.as_slice(), microlp::ComparisonOp::Ge, -1.0);
    }
    let outcome = lp
        .solve()
        .map_err(|e| Error::Numerical(format!("existence LP failed: {e}")))?;
    let sol = outcome
        .into_solution()
        // Only a solve given a stop flag or a time limit is interrupted; this one has neither.
        .map_err(|_| Error::Numerical("existence LP was interrupted before a solution".into()))?;
    let u: Vec<f64> = us.iter().map(|&v| sol.var_value(v)).collect();
    let zeros = empty
        .iter()
        .zip(&rows)
        .filter(|(_, r)| r.iter().zip(&u).map(|(a, b)| a * b).sum::<f64>() < -1e-7)
        .map(|(&h, _)| h)
        .collect();
    Ok(Some((sol.objective(), zeros)))
}

/// Checks the model `spec` on `table`.
pub fn check(table: &CaptureTable, spec: &ModelSpec) -> Result<Check> {
    let d = design(table, spec, true)?;
    check_design(&d, table.lists())
}
