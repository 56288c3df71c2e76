//! Does a Poisson log-linear MLE exist, and which coefficients do the data fix when it does
//! not? The dual form of Fienberg & Rinaldo's (2012) criterion (Haberman 1974): with X_S the
//! design rows of the groups with a positive count and X_Z those without, the MLE fails to
//! exist iff some direction d has X_S d = 0, X_Z d ≤ 0 and X_Z d ≠ 0: along it the
//! likelihood never stops increasing. The empty groups that are strictly negative along such
//! a direction are the ones the fit drives to zero; the extended MLE fits the other groups,
//! and a coefficient is determined by it only when the design rows of those other groups fix
//! it. The answer depends on the data and the design alone, never on where an iteration
//! stopped or on the order of the columns, which is why `Fit::diverging` asks it instead of
//! watching the coefficients move.

use super::lattice::Column;
use super::{Fit, FitOptions, Problem, fit};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// At or below this the recession LP's optimum counts as zero.
pub const LP_ZERO: f64 = 1e-9;

/// What the recession LP found.
#[derive(Debug, Clone)]
pub struct Recession {
    /// The optimum of max Σ −X_Z d with −1 ≤ X_Z d ≤ 0 over the null space of X_S: positive
    /// exactly when the MLE does not exist.
    pub objective: f64,
    /// Empty groups strictly negative along the optimal direction (those fitted as zero).
    pub zero_groups: Vec<usize>,
}

impl Recession {
    /// Whether the MLE exists (the optimum is zero).
    pub fn mle_exists(&self) -> bool {
        self.objective <= LP_ZERO
    }
}

/// Design row of group `g`.
pub fn row(problem: &Problem, g: usize) -> DVector<f64> {
    match &problem.lattice {
        Some(lat) => {
            let h = lat.hist[g];
            DVector::from_iterator(
                problem.p,
                lat.columns.iter().map(|c| match c {
                    Column::Contains(m) => f64::from(u8::from(h & m == *m)),
                    Column::OfCount(f) => f[h.count_ones() as usize],
                }),
            )
        }
        None => problem.x.row(g).transpose(),
    }
}

/// Whether each group holds a positive count.
fn positive_groups(problem: &Problem) -> Vec<bool> {
    let mut pos = vec![false; problem.groups()];
    for (c, &g) in problem.group.iter().enumerate() {
        if problem.y[c] > 0.0 {
            pos[g] = true;
        }
    }
    pos
}

/// An orthonormal basis of the null space of the rows of `groups`, from the eigenvectors of
/// their Gram matrix with a (relatively) zero eigenvalue.
fn null_space(problem: &Problem, groups: impl Iterator<Item = usize>) -> Vec<DVector<f64>> {
    let p = problem.p;
    let mut g = DMatrix::<f64>::zeros(p, p);
    for i in groups {
        let r = row(problem, i);
        g += &r * r.transpose();
    }
    if certainly_full_rank(&g) {
        return Vec::new();
    }
    let eig = SymmetricEigen::new(g);
    let top = eig
        .eigenvalues
        .iter()
        .fold(0.0f64, |a, &b| a.max(b.abs()))
        .max(1.0);
    (0..p)
        .filter(|&i| eig.eigenvalues[i].abs() <= 1e-10 * top)
        .map(|i| eig.eigenvectors.column(i).into_owned())
        .collect()
}

/// Whether every eigenvalue of the Gram matrix `g` is certainly above `null_space`'s
/// threshold, without the eigendecomposition (the costliest step of a stepwise bootstrap,
/// where X_S nearly always has full rank): λ_min ≥ 1 / Σ 1/λ_i = 1 / trace(G⁻¹), with
/// trace(G⁻¹) = ‖L⁻¹‖²_F from the Cholesky factor, and λ_max ≤ trace(G). A factor of two
/// keeps rounding from deciding; anything short of it takes the eigendecomposition.
fn certainly_full_rank(g: &DMatrix<f64>) -> bool {
    let trace = g.trace();
    let Some(chol) = g.clone().cholesky() else {
        return false;
    };
    // L⁻¹ by forward substitution: a general inverse would factorise L again.
    let mut l_inv = DMatrix::<f64>::identity(g.nrows(), g.ncols());
    if !chol.l().solve_lower_triangular_mut(&mut l_inv) {
        return false;
    }
    let inverse_trace = l_inv.norm_squared();
    inverse_trace.is_finite() && 1.0 / inverse_trace > 2e-10 * trace.max(1.0)
}

/// Runs the recession LP; None when none is needed because the MLE plainly exists (no
/// empty group, or X_S of full column rank).
pub fn recession(problem: &Problem) -> Result<Option<Recession>> {
    let pos = positive_groups(problem);
    let empty: Vec<usize> = (0..pos.len()).filter(|&g| !pos[g]).collect();
    if empty.is_empty() {
        return Ok(None);
    }
    let null = null_space(problem, (0..pos.len()).filter(|&g| pos[g]));
    if null.is_empty() {
        return Ok(None);
    }
    // M = X_Z N; maximise Σ −(M u)_c subject to −1 ≤ (M u)_c ≤ 0, u free.
    let mut lp = microlp::Problem::new(microlp::OptimizationDirection::Maximize);
    let rows: Vec<Vec<f64>> = empty
        .iter()
        .map(|&g| {
            let r = row(problem, g);
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
        .map_err(|_| Error::Numerical("existence LP was interrupted before a solution".into()))?;
    let u: Vec<f64> = us.iter().map(|&v| sol.var_value(v)).collect();
    let zero_groups = empty
        .iter()
        .zip(&rows)
        .filter(|(_, r)| r.iter().zip(&u).map(|(a, b)| a * b).sum::<f64>() < -1e-7)
        .map(|(&g, _)| g)
        .collect();
    Ok(Some(Recession {
        objective: sol.objective(),
        zero_groups,
    }))
}

/// The columns that the rows of every group outside `zero_groups` leave undetermined: those
/// with a component in the null space of those rows (the coefficients an extended-MLE fit
/// sends off to infinity, or leaves wherever the iteration stopped).
pub fn undetermined(problem: &Problem, zero_groups: &[usize]) -> Vec<usize> {
    let null = null_space(
        problem,
        (0..problem.groups()).filter(|g| !zero_groups.contains(g)),
    );
    (0..problem.p)
        .filter(|&j| null.iter().map(|v| v[j] * v[j]).sum::<f64>() > 1e-12)
        .collect()
}

/// Whether the data leave the unobserved cell's mean unbounded above: some direction d with
/// X_S d = 0 and X_Z d ≤ 0 raises the intercept (the unobserved history's row is the unit
/// vector of column 0, as in every design where N = n + exp(β₀)). Along it the likelihood
/// never decreases while exp(β₀) grows without limit, so only a prior could stop N.
pub fn intercept_unbounded(problem: &Problem) -> Result<bool> {
    let pos = positive_groups(problem);
    let null = null_space(problem, (0..pos.len()).filter(|&g| pos[g]));
    if null.is_empty() {
        return Ok(false);
    }
    // d = N u: maximise d₀ subject to X_Z d ≤ 0 and d₀ ≤ 1.
    let mut lp = microlp::Problem::new(microlp::OptimizationDirection::Maximize);
    let us: Vec<microlp::Variable> = null
        .iter()
        .map(|nv| lp.add_var(nv[0], (f64::NEG_INFINITY, f64::INFINITY)))
        .collect();
    let constrain = |lp: &mut microlp::Problem, r: Vec<f64>, op, bound| {
        let expr: Vec<(microlp::Variable, f64)> = us
            .iter()
            .zip(&r)
            .filter(|(_, v)| v.abs() > 1e-14)
            .map(|(&u, &v)| (u, v))
            .collect();
        if !expr.is_empty() {
            lp.add_constraint(expr.as_slice(), op, bound);
        }
    };
    constrain(
        &mut lp,
        null.iter().map(|nv| nv[0]).collect(),
        microlp::ComparisonOp::Le,
        1.0,
    );
    for g in (0..pos.len()).filter(|&g| !pos[g]) {
        let r = row(problem, g);
        constrain(
            &mut lp,
            null.iter().map(|nv| r.dot(nv)).collect(),
            microlp::ComparisonOp::Le,
            0.0,
        );
    }
    let sol = lp
        .solve()
        .map_err(|e| Error::Numerical(format!("recession LP failed: {e}")))?
        .into_solution()
        .map_err(|_| Error::Numerical("recession LP was interrupted before a solution".into()))?;
    Ok(sol.objective() > LP_ZERO)
}

// Declared here rather than beside `Fit` so that the parent module needs nothing of this
// one (no file-level import cycle).
impl Fit {
    /// Whether the fit sits at the edge of the parameter space: the deviance has settled
    /// but the MLE does not exist. Returns the coefficients the data leave undetermined
    /// there (those still running off to ±∞, or left wherever the iteration stopped); the
    /// intercept among them means N̂ is an artefact of the stopping point. Decided by the
    /// recession LP on the data and design (`recession`), so the answer cannot depend on
    /// the order of the lists; only run when the fit looks suspicious (a large last step,
    /// or an extreme intercept), so regular fits pay nothing.
    pub fn diverging(&self, problem: &Problem) -> Vec<usize> {
        let n: f64 = problem.y.iter().sum();
        let b0 = self.coef[0];
        let suspicious = self.last_step.iter().any(|s| *s > 0.05) || b0 > n.max(1.0).ln() + 10.0;
        if !suspicious || self.coef.iter().any(|c| c.is_nan()) {
            return Vec::new();
        }
        let mut moving = match recession(problem) {
            Ok(Some(r)) if !r.mle_exists() => undetermined(problem, &r.zero_groups),
            Ok(_) => Vec::new(),
            Err(_) => self.continuation(problem),
        };
        // Far out on a divergent path the Newton steps drown in rounding (weights near 0);
        // an unknown cell fitted above 10^6 n whose log has a standard error above 10
        // carries no information from the data either way.
        if !moving.contains(&0) && b0 > n.max(1.0).ln() + 13.8 && self.se(0) > 10.0 {
            moving.insert(0, 0);
        }
        moving
    }

    /// The fallback when the recession LP fails: continue the iteration from the fitted
    /// coefficients and return those that keep moving.
    fn continuation(&self, problem: &Problem) -> Vec<usize> {
        let more = FitOptions {
            epsilon: 0.0,
            max_iter: 8,
        };
        match fit(problem, more, Some(&self.coef)) {
            Some(next) => (0..self.coef.len())
                .filter(|&j| (next.coef[j] - self.coef[j]).abs() > 0.5)
                .collect(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glm::lattice::{Column, Lattice};

    /// Intercept and main effects on the seven observable histories of three lists.
    fn main_effects(y: [f64; 7]) -> Problem {
        Problem::from_lattice(
            vec!["A".into(), "B".into(), "C".into()],
            Lattice {
                t: 3,
                columns: vec![
                    Column::Contains(0),
                    Column::Contains(1),
                    Column::Contains(2),
                    Column::Contains(4),
                ],
                hist: (1..8).collect(),
            },
            y.to_vec(),
        )
    }

    #[test]
    fn the_intercept_is_unbounded_only_without_an_overlap_to_pin_it() {
        // Histories 1..7 = A, B, AB, C, AC, BC, ABC.
        let no_overlap = main_effects([5.0, 7.0, 0.0, 4.0, 0.0, 0.0, 0.0]);
        assert!(intercept_unbounded(&no_overlap).unwrap());
        let one_list = main_effects([30.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!(intercept_unbounded(&one_list).unwrap());
        // One overlap is enough for independence: μ∅ = μA·μB/μAB.
        let one_pair = main_effects([40.0, 30.0, 6.0, 20.0, 0.0, 0.0, 0.0]);
        assert!(!intercept_unbounded(&one_pair).unwrap());
        // An empty list sends its own main effect to −∞, not the intercept.
        let c_empty = main_effects([40.0, 30.0, 6.0, 0.0, 0.0, 0.0, 0.0]);
        assert!(!intercept_unbounded(&c_empty).unwrap());
        // Everyone on A, all of B on A, all of C on A and B: the MLE does not exist, but
        // the fit runs to N̂ = n (β₀ → −∞), which is bounded.
        let to_n = main_effects([10.0, 0.0, 5.0, 0.0, 0.0, 0.0, 3.0]);
        assert!(!intercept_unbounded(&to_n).unwrap());
        let r = recession(&to_n).unwrap().expect("an LP was needed");
        assert!(!r.mle_exists(), "{r:?}");
        assert!(undetermined(&to_n, &r.zero_groups).contains(&0));
    }
}
