//! Poisson log-linear fitting by iteratively reweighted least squares (IRLS) on nalgebra.
//!
//! Every estimator that fits a log-linear model comes through here. The iteration follows
//! R's `glm.fit` step for step (start at μ = y + 0.1, convergence when the relative change
//! of the deviance is below ε, covariance `(XᵀWX)⁻¹` from the weights of the last
//! iteration, as `summary.glm` reports it) so that the numbers match Rcapture and SparseMSE
//! to 1e-6 even when their fit stops early; on top of that it halves a step whose deviance
//! is not finite or grows, detects aliased columns and reports the outcome as an enum.
//!
//! Cells whose design rows are identical are grouped: after the first iteration all cells of
//! a group share μ, so each iteration costs O(groups · p²) instead of O(cells · p²). For M0
//! and the Mh models on 8 lists that is 8 rows instead of 255.

use nalgebra::{DMatrix, DVector};

/// A Poisson regression problem: distinct design rows ("groups") and the cells that use them.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Design columns (column-major), each of length `groups`; column 0 is usually the
    /// intercept.
    pub columns: Vec<Vec<f64>>,
    /// Column names, for coefficients in the output.
    pub names: Vec<String>,
    /// Offset per group.
    pub offset: Vec<f64>,
    /// Observed counts per cell.
    pub y: Vec<f64>,
    /// Group of each cell.
    pub group: Vec<usize>,
}

/// Options of one fit.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    /// Relative deviance change that counts as converged (R: 1e-8).
    pub epsilon: f64,
    /// Iteration limit (R's default 25).
    pub max_iter: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            epsilon: 1e-8,
            max_iter: 25,
        }
    }
}

/// The result of a fit.
#[derive(Debug, Clone)]
pub struct Fit {
    /// Coefficients; `NaN` for aliased columns.
    pub coef: Vec<f64>,
    /// Columns dropped as linearly dependent on earlier ones (R's NA coefficients).
    pub aliased: Vec<bool>,
    /// Fitted mean per group.
    pub mu: Vec<f64>,
    /// Residual deviance.
    pub deviance: f64,
    /// Poisson log-likelihood, including the −log(y!) terms (as R's `aic` uses it).
    pub loglik: f64,
    /// Number of estimated (non-aliased) coefficients.
    pub rank: usize,
    /// Number of cells minus rank.
    pub df_residual: usize,
    /// `(XᵀWX)⁻¹` with the last iteration's weights, p × p, zero on aliased rows/columns.
    pub cov: DMatrix<f64>,
    /// IRLS iterations used.
    pub iterations: usize,
    /// Whether the deviance test was met.
    pub converged: bool,
    /// Some fitted mean is below 10 ε (R's "fitted rates numerically 0 occurred").
    pub fitted_zero: bool,
}

impl Fit {
    /// Whether the fit sits at the edge of the parameter space: the deviance has settled
    /// but some coefficients are still running off to ±∞ (the MLE does not exist). Checked
    /// by continuing the iteration from the fitted coefficients; returns the indices of
    /// the coefficients that keep moving. Only run when the fit looks suspicious (a group
    /// with no count fitted near zero, or an extreme intercept), so regular fits pay nothing.
    pub fn diverging(&self, problem: &Problem) -> Vec<usize> {
        let g = problem.offset.len();
        let mut ysum = vec![0.0; g];
        for (c, &gi) in problem.group.iter().enumerate() {
            ysum[gi] += problem.y[c];
        }
        let n: f64 = problem.y.iter().sum();
        let b0 = self.coef[0];
        let suspicious = (0..g).any(|gi| ysum[gi] == 0.0 && self.mu[gi] < 1e-3)
            || b0 > n.max(1.0).ln() + 10.0
            || b0 < n.max(1.0).ln() - 15.0;
        if !suspicious || self.coef.iter().any(|c| c.is_nan()) {
            return Vec::new();
        }
        let more = FitOptions { epsilon: 0.0, max_iter: 8 };
        let Some(next) = fit(problem, more, Some(&self.coef)) else {
            return Vec::new();
        };
        let mut moving: Vec<usize> = (0..self.coef.len())
            .filter(|&j| (next.coef[j] - self.coef[j]).abs() > 0.5)
            .collect();
        // Far out on a divergent path the Newton steps drown in rounding (weights near 0),
        // so the continuation can stall; an unknown cell fitted above 10^6 n whose log has a
        // standard error above 10 carries no information from the data either way.
        if !moving.contains(&0) && b0 > n.max(1.0).ln() + 13.8 && self.se(0) > 10.0 {
            moving.insert(0, 0);
        }
        moving
    }

    /// Standard error of coefficient j.
    pub fn se(&self, j: usize) -> f64 {
        self.cov[(j, j)].sqrt()
    }
}

/// Per-group sufficient quantities that never change during a fit.
struct GroupStats {
    n: Vec<f64>,
    ysum: Vec<f64>,
    /// Σ y log y over the group's cells.
    ylogy: Vec<f64>,
    /// Σ log(y!) over the group's cells.
    lfact: Vec<f64>,
}

fn group_stats(p: &Problem, g: usize) -> GroupStats {
    let mut s = GroupStats {
        n: vec![0.0; g],
        ysum: vec![0.0; g],
        ylogy: vec![0.0; g],
        lfact: vec![0.0; g],
    };
    for (c, &gi) in p.group.iter().enumerate() {
        let y = p.y[c];
        s.n[gi] += 1.0;
        s.ysum[gi] += y;
        if y > 0.0 {
            s.ylogy[gi] += y * y.ln();
        }
        s.lfact[gi] += statrs::function::gamma::ln_gamma(y + 1.0);
    }
    s
}

fn deviance(s: &GroupStats, mu: &[f64]) -> f64 {
    let mut d = 0.0;
    for g in 0..mu.len() {
        if s.n[g] == 0.0 {
            continue;
        }
        let ylogmu = if s.ysum[g] > 0.0 { s.ysum[g] * mu[g].ln() } else { 0.0 };
        d += s.ylogy[g] - ylogmu - s.ysum[g] + s.n[g] * mu[g];
    }
    2.0 * d
}

/// Solves A β = b for symmetric positive semi-definite A by Cholesky on the equilibrated
/// matrix, skipping (aliasing) columns whose pivot is negligible, in column order as R's
/// QR does. Returns β (0 for aliased) and the aliased mask, or None if A is unusable.
fn solve_spd(a: &DMatrix<f64>, b: &DVector<f64>, forced: &[bool]) -> Option<(DVector<f64>, Vec<bool>, DMatrix<f64>)> {
    let p = a.nrows();
    let scale: Vec<f64> = (0..p)
        .map(|j| {
            let d = a[(j, j)];
            if d > 0.0 && d.is_finite() { 1.0 / d.sqrt() } else { 0.0 }
        })
        .collect();
    // Greedy Cholesky in column order on the scaled matrix.
    let mut l = DMatrix::<f64>::zeros(p, p);
    let mut aliased = forced.to_vec();
    for j in 0..p {
        if aliased[j] || scale[j] == 0.0 {
            aliased[j] = true;
            continue;
        }
        let mut d = a[(j, j)] * scale[j] * scale[j];
        for k in 0..j {
            if !aliased[k] {
                d -= l[(j, k)] * l[(j, k)];
            }
        }
        if !(d > 1e-13) {
            aliased[j] = true;
            continue;
        }
        let djj = d.sqrt();
        l[(j, j)] = djj;
        for i in j + 1..p {
            if aliased[i] || scale[i] == 0.0 {
                continue;
            }
            let mut s = a[(i, j)] * scale[i] * scale[j];
            for k in 0..j {
                if !aliased[k] {
                    s -= l[(i, k)] * l[(j, k)];
                }
            }
            l[(i, j)] = s / djj;
        }
    }
    let keep: Vec<usize> = (0..p).filter(|&j| !aliased[j]).collect();
    let r = keep.len();
    if r == 0 {
        return None;
    }
    let mut lk = DMatrix::<f64>::zeros(r, r);
    for (ii, &i) in keep.iter().enumerate() {
        for (jj, &j) in keep.iter().enumerate().take(ii + 1) {
            lk[(ii, jj)] = l[(i, j)];
        }
    }
    let bk = DVector::from_iterator(r, keep.iter().map(|&j| b[j] * scale[j]));
    let chol = nalgebra::Cholesky::pack_dirty(lk);
    let xk = chol.solve(&bk);
    let inv_k = chol.inverse();
    let mut beta = DVector::zeros(p);
    let mut inv = DMatrix::zeros(p, p);
    for (ii, &i) in keep.iter().enumerate() {
        beta[i] = xk[ii] * scale[i];
        for (jj, &j) in keep.iter().enumerate() {
            inv[(i, j)] = inv_k[(ii, jj)] * scale[i] * scale[j];
        }
    }
    if beta.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some((beta, aliased, inv))
}

/// Fits the Poisson log-linear model. `start` gives starting coefficients (a warm start);
/// without it the iteration starts as R does, from μ = y + 0.1 in every cell.
pub fn fit(problem: &Problem, opts: FitOptions, start: Option<&[f64]>) -> Option<Fit> {
    let p = problem.columns.len();
    let g = problem.offset.len();
    let stats = group_stats(problem, g);
    let ncells = problem.y.len();
    let row = |gi: usize, j: usize| problem.columns[j][gi];

    let mut a = DMatrix::<f64>::zeros(p, p);
    let mut b = DVector::<f64>::zeros(p);
    let mut w = vec![0.0; g];
    let mut wz = vec![0.0; g];
    let mut eta = vec![0.0; g];
    let mut mu = vec![0.0; g];
    let mut beta_old: Option<DVector<f64>> = None;

    let mut devold;
    let warm = start.is_some();
    match start {
        Some(s) if s.len() == p && s.iter().all(|v| v.is_finite()) => {
            for gi in 0..g {
                eta[gi] = problem.offset[gi] + (0..p).map(|j| row(gi, j) * s[j]).sum::<f64>();
                mu[gi] = eta[gi].exp();
            }
            devold = deviance(&stats, &mu);
            beta_old = Some(DVector::from_column_slice(s));
            for gi in 0..g {
                w[gi] = stats.n[gi] * mu[gi];
                wz[gi] = w[gi] * (eta[gi] - problem.offset[gi]) + (stats.ysum[gi] - w[gi]);
            }
        }
        _ => {
            // R: mustart = y + 0.1, eta = log(mustart), z = eta - offset + (y - mu)/mu.
            devold = 0.0;
            for (c, &gi) in problem.group.iter().enumerate() {
                let y = problem.y[c];
                let m = y + 0.1;
                w[gi] += m;
                wz[gi] += m * (m.ln() - problem.offset[gi]) + (y - m);
                devold += 2.0 * (if y > 0.0 { y * (y / m).ln() } else { 0.0 } - (y - m));
            }
        }
    }

    let mut converged = false;
    let mut iterations = 0;
    let mut beta = DVector::<f64>::zeros(p);
    let mut aliased = vec![false; p];
    let mut cov = DMatrix::<f64>::zeros(p, p);
    let mut dev = devold;
    for iter in 1..=opts.max_iter {
        iterations = iter;
        a.fill(0.0);
        b.fill(0.0);
        for gi in 0..g {
            if w[gi] == 0.0 {
                continue;
            }
            for i in 0..p {
                let xi = row(gi, i);
                if xi == 0.0 {
                    continue;
                }
                let wxi = w[gi] * xi;
                b[i] += wz[gi] * xi;
                for j in 0..=i {
                    a[(i, j)] += wxi * row(gi, j);
                }
            }
        }
        for i in 0..p {
            for j in 0..i {
                a[(j, i)] = a[(i, j)];
            }
        }
        let (mut nb, al, inv) = solve_spd(&a, &b, &vec![false; p])?;
        aliased = al;
        cov = inv;
        // Step-halving: a non-finite or increasing deviance pulls the step back towards the
        // previous coefficients (R halves only on non-finite deviance; on the data here the
        // two coincide, and growing deviance is never a better answer).
        let mut halvings = 0;
        loop {
            for gi in 0..g {
                eta[gi] = problem.offset[gi] + (0..p).map(|j| row(gi, j) * nb[j]).sum::<f64>();
                mu[gi] = eta[gi].exp();
            }
            dev = deviance(&stats, &mu);
            let bad = !dev.is_finite() || (warm && beta_old.is_some() && dev > devold + 1e-6 * (devold.abs() + 1.0));
            match (&beta_old, bad) {
                (Some(old), true) if halvings < 30 => {
                    nb = (&nb + old) * 0.5;
                    halvings += 1;
                }
                _ => break,
            }
        }
        if !dev.is_finite() {
            return None;
        }
        beta = nb;
        if (dev - devold).abs() / (dev.abs() + 0.1) < opts.epsilon {
            converged = true;
            break;
        }
        devold = dev;
        beta_old = Some(beta.clone());
        for gi in 0..g {
            w[gi] = stats.n[gi] * mu[gi];
            wz[gi] = w[gi] * (eta[gi] - problem.offset[gi]) + (stats.ysum[gi] - w[gi]);
        }
    }
    let rank = aliased.iter().filter(|&&x| !x).count();
    let mut loglik = 0.0;
    for gi in 0..g {
        if stats.n[gi] == 0.0 {
            continue;
        }
        let ylogmu = if stats.ysum[gi] > 0.0 { stats.ysum[gi] * mu[gi].ln() } else { 0.0 };
        loglik += ylogmu - stats.n[gi] * mu[gi] - stats.lfact[gi];
    }
    let tiny = 10.0 * f64::EPSILON;
    let fitted_zero = (0..g).any(|gi| stats.n[gi] > 0.0 && mu[gi] < tiny);
    let coef = (0..p).map(|j| if aliased[j] { f64::NAN } else { beta[j] }).collect();
    Some(Fit {
        coef,
        aliased,
        mu,
        deviance: dev,
        loglik,
        rank,
        df_residual: ncells.saturating_sub(rank),
        cov,
        iterations,
        converged,
        fitted_zero,
    })
}

impl Problem {
    /// Builds a problem with one group per distinct design row (rows compared exactly).
    /// `rows` yields, for each cell, its design row (without intercept), offset and count.
    pub fn grouped(names: Vec<String>, cells: impl IntoIterator<Item = (Vec<f64>, f64, f64)>) -> Problem {
        let p = names.len() + 1;
        let mut index: std::collections::HashMap<Vec<u64>, usize> = std::collections::HashMap::new();
        let mut columns: Vec<Vec<f64>> = vec![Vec::new(); p];
        let mut offset = Vec::new();
        let mut y = Vec::new();
        let mut group = Vec::new();
        for (x, off, yc) in cells {
            let mut key: Vec<u64> = x.iter().map(|v| v.to_bits()).collect();
            key.push(off.to_bits());
            let gi = *index.entry(key).or_insert_with(|| {
                columns[0].push(1.0);
                for (j, v) in x.iter().enumerate() {
                    columns[j + 1].push(*v);
                }
                offset.push(off);
                offset.len() - 1
            });
            y.push(yc);
            group.push(gi);
        }
        let mut all_names = vec!["Intercept".to_string()];
        all_names.extend(names);
        Problem {
            columns,
            names: all_names,
            offset,
            y,
            group,
        }
    }

    /// The same problem without design column `j`.
    pub fn without_column(&self, j: usize) -> Problem {
        let mut q = self.clone();
        q.columns.remove(j);
        q.names.remove(j);
        q
    }

    /// Number of cells.
    pub fn cells(&self) -> usize {
        self.y.len()
    }
}
