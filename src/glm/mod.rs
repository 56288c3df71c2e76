//! Poisson log-linear fitting by iteratively reweighted least squares (IRLS) on nalgebra.
//!
//! Every estimator that fits a log-linear model comes through here. The iteration follows
//! R's `glm.fit` step for step (start at μ = y + 0.1, convergence when the relative change
//! of the deviance is below ε, covariance `(XᵀWX)⁻¹` from the weights of the last
//! iteration, as `summary.glm` reports it) so that the numbers match Rcapture and SparseMSE
//! to 1e-6 even when their fit stops early. On top of that it halves a step whose deviance
//! is not finite (or grows, when started warm), detects aliased columns in column order as
//! R's pivoting QR does, and tells when coefficients run off to infinity.
//!
//! Cells whose design rows are identical form a group: after the first iteration all
//! cells of a group share μ, so an iteration costs O(groups · p²) instead of
//! O(cells · p²). For M0 and the Mh models on 8 lists that is 8 rows instead of 255.

pub mod lattice;
pub mod recession;

use lattice::{Lattice, Workspace};
use nalgebra::{DMatrix, DVector};
use std::sync::OnceLock;

/// A Poisson regression problem: distinct design rows ("groups") and the cells using them.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Number of columns, the intercept (column 0) included.
    pub p: usize,
    /// Design matrix, `groups × p`, column 0 the intercept; empty (no rows) when
    /// `lattice` describes the design, which then replaces it everywhere.
    pub x: DMatrix<f64>,
    /// Column names, `Intercept` first.
    pub names: Vec<String>,
    /// Offset per group.
    pub offset: Vec<f64>,
    /// Observed counts per cell.
    pub y: Vec<f64>,
    /// Group of each cell.
    pub group: Vec<usize>,
    /// The same design on the lattice of histories, when it has that structure (fast path).
    pub lattice: Option<Lattice>,
}

impl Problem {
    /// A problem whose design lives on the lattice of histories (one group per history,
    /// offset 0); `names` excludes the intercept, which must be `Contains(0)` first.
    pub fn from_lattice(names: Vec<String>, lattice: Lattice, y: Vec<f64>) -> Problem {
        // The lattice path assumes offset 0 (fit's linear predictor does not add it).
        let g = lattice.hist.len();
        let p = lattice.columns.len();
        let mut all = Vec::with_capacity(names.len() + 1);
        all.push("Intercept".to_string());
        all.extend(names);
        Problem {
            p,
            x: DMatrix::zeros(0, p),
            names: all,
            offset: vec![0.0; g],
            y,
            group: (0..g).collect(),
            lattice: Some(lattice),
        }
    }

    /// Builds a problem from rows without the intercept (`groups × names.len()`,
    /// row-major), one offset per group, and the cells' counts and groups.
    pub fn new(
        names: Vec<String>,
        rows: &[f64],
        offset: Vec<f64>,
        y: Vec<f64>,
        group: Vec<usize>,
    ) -> Problem {
        let q = names.len();
        let g = offset.len();
        let p = q + 1;
        let x = DMatrix::from_fn(g, p, |i, j| if j == 0 { 1.0 } else { rows[i * q + j - 1] });
        let mut all = Vec::with_capacity(p);
        all.push("Intercept".to_string());
        all.extend(names);
        Problem {
            p,
            x,
            names: all,
            offset,
            y,
            group,
            lattice: None,
        }
    }

    /// Number of groups (distinct rows).
    pub fn groups(&self) -> usize {
        self.offset.len()
    }

    /// The same problem without design column `j`.
    pub fn without_column(&self, j: usize) -> Problem {
        let mut names = self.names.clone();
        names.remove(j);
        Problem {
            p: self.p - 1,
            x: self.x.clone().remove_column(j),
            names,
            offset: self.offset.clone(),
            y: self.y.clone(),
            group: self.group.clone(),
            lattice: self.lattice.as_ref().map(|l| {
                let mut l = l.clone();
                l.columns.remove(j);
                l
            }),
        }
    }

    /// The problem with one more group: the unobserved cell (intercept only, offset 0),
    /// holding a count of 0 in its last cell.
    pub fn with_unknown_cell(&self) -> Problem {
        let g = self.groups();
        let mut q = self.clone();
        if self.lattice.is_none() {
            let mut x = self.x.clone().insert_row(g, 0.0);
            x[(g, 0)] = 1.0;
            q.x = x;
        }
        q.offset.push(0.0);
        q.y.push(0.0);
        q.group.push(g);
        if let Some(l) = &mut q.lattice {
            l.hist.push(0);
        }
        q
    }

    /// Number of cells.
    pub fn cells(&self) -> usize {
        self.y.len()
    }
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
    /// Size of the last IRLS step in each coefficient: near 0 at a regular optimum, about
    /// 1 for a coefficient on its way to ±∞ when the deviance test stopped the iteration.
    pub last_step: Vec<f64>,
}

impl Fit {
    /// Standard error of coefficient j.
    pub fn se(&self, j: usize) -> f64 {
        self.cov[(j, j)].sqrt()
    }
}

/// log(k!) for k = 0..=1024, computed once.
fn ln_factorial(y: f64) -> f64 {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut v = Vec::with_capacity(1025);
        let mut acc = 0.0f64;
        v.push(0.0);
        for k in 1..=1024 {
            acc += (k as f64).ln();
            v.push(acc);
        }
        v
    });
    if y >= 0.0 && y <= 1024.0 && y.fract() == 0.0 {
        t[y as usize]
    } else {
        statrs::function::gamma::ln_gamma(y + 1.0)
    }
}

/// log(0.1), the start of every empty cell.
const LN_TENTH: f64 = -std::f64::consts::LN_10;

/// Dot product with four accumulators, so the compiler can keep it in vector registers.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    let mut s = (acc[0] + acc[2]) + (acc[1] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// A = Xᵀ·XW for column-major `x` and `xw` (g × p), written column-major into `a`
/// (p × p), by the `matrixmultiply` kernels (SIMD chosen at run time).
fn gram(x: &[f64], xw: &[f64], g: usize, p: usize, a: &mut [f64]) {
    assert!(x.len() >= g * p && xw.len() >= g * p && a.len() >= p * p);
    let (gi, pi) = (g as isize, p as isize);
    // SAFETY: the asserts above guarantee that every element addressed by these
    // dimensions and strides lies inside the three slices, and `a` does not alias them.
    unsafe {
        matrixmultiply::dgemm(
            p,
            g,
            p,
            1.0,
            x.as_ptr(),
            gi,
            1,
            xw.as_ptr(),
            1,
            gi,
            0.0,
            a.as_mut_ptr(),
            1,
            pi,
        );
    }
}

/// Per-group sums that never change during a fit.
struct GroupStats {
    n: Vec<f64>,
    ysum: Vec<f64>,
    /// Σ y log y over the group's cells.
    ylogy: Vec<f64>,
}

fn group_stats(p: &Problem) -> GroupStats {
    let g = p.groups();
    let mut s = GroupStats {
        n: vec![0.0; g],
        ysum: vec![0.0; g],
        ylogy: vec![0.0; g],
    };
    for (c, &gi) in p.group.iter().enumerate() {
        let y = p.y[c];
        s.n[gi] += 1.0;
        s.ysum[gi] += y;
        if y > 0.0 {
            s.ylogy[gi] += y * y.ln();
        }
    }
    s
}

/// Residual deviance from η = log μ (saves a logarithm per group).
fn deviance(s: &GroupStats, eta: &[f64], mu: &[f64]) -> f64 {
    let mut d = 0.0;
    for g in 0..mu.len() {
        if s.n[g] == 0.0 {
            continue;
        }
        let ylogmu = if s.ysum[g] > 0.0 {
            s.ysum[g] * eta[g]
        } else {
            0.0
        };
        d += s.ylogy[g] - ylogmu - s.ysum[g] + s.n[g] * mu[g];
    }
    2.0 * d
}

/// Workspace for solving the weighted normal equations.
struct Solver {
    p: usize,
    /// Equilibration factors 1/sqrt(A_jj).
    scale: Vec<f64>,
    /// Cholesky factor of the scaled matrix (aliased rows/columns set to the identity).
    l: DMatrix<f64>,
    rhs: DVector<f64>,
    aliased: Vec<bool>,
}

impl Solver {
    fn new(p: usize) -> Self {
        Solver {
            p,
            scale: vec![0.0; p],
            l: DMatrix::zeros(p, p),
            rhs: DVector::zeros(p),
            aliased: vec![false; p],
        }
    }

    /// Factors A (lower triangle used) by Cholesky on the equilibrated matrix, aliasing a
    /// column whose pivot is negligible given the earlier columns; then solves A β = b.
    fn solve(&mut self, a: &DMatrix<f64>, b: &DVector<f64>, beta: &mut DVector<f64>) -> bool {
        let p = self.p;
        for j in 0..p {
            let d = a[(j, j)];
            self.scale[j] = if d > 0.0 && d.is_finite() {
                1.0 / d.sqrt()
            } else {
                0.0
            };
        }
        self.l.fill(0.0);
        for j in 0..p {
            self.aliased[j] = self.scale[j] == 0.0;
            if self.aliased[j] {
                self.l[(j, j)] = 1.0;
                continue;
            }
            let sj = self.scale[j];
            let mut d = a[(j, j)] * sj * sj;
            for k in 0..j {
                d -= self.l[(j, k)] * self.l[(j, k)];
            }
            if !(d > 1e-13) {
                self.aliased[j] = true;
                for k in 0..j {
                    self.l[(j, k)] = 0.0;
                }
                self.l[(j, j)] = 1.0;
                continue;
            }
            let djj = d.sqrt();
            self.l[(j, j)] = djj;
            for i in j + 1..p {
                if self.scale[i] == 0.0 {
                    continue;
                }
                let mut s = a[(i, j)] * self.scale[i] * sj;
                for k in 0..j {
                    s -= self.l[(i, k)] * self.l[(j, k)];
                }
                self.l[(i, j)] = s / djj;
            }
        }
        for j in 0..p {
            self.rhs[j] = if self.aliased[j] {
                0.0
            } else {
                b[j] * self.scale[j]
            };
        }
        if !self.l.solve_lower_triangular_mut(&mut self.rhs)
            || !self.l.tr_solve_lower_triangular_mut(&mut self.rhs)
        {
            return false;
        }
        for j in 0..p {
            beta[j] = if self.aliased[j] {
                0.0
            } else {
                self.rhs[j] * self.scale[j]
            };
        }
        beta.iter().all(|v| v.is_finite())
    }

    /// A⁻¹ from the last factorisation (zero on aliased rows and columns).
    fn inverse(&self) -> DMatrix<f64> {
        let p = self.p;
        let mut inv = DMatrix::zeros(p, p);
        let Some(linv) = self.l.clone().try_inverse() else {
            return inv.map(|_: f64| f64::NAN);
        };
        let m = linv.transpose() * &linv;
        for i in 0..p {
            for j in 0..p {
                if !self.aliased[i] && !self.aliased[j] {
                    inv[(i, j)] = m[(i, j)] * self.scale[i] * self.scale[j];
                }
            }
        }
        inv
    }
}

/// Column rank deficiency of the design over the problem's cells (how many columns are
/// linear combinations of earlier ones), from XᵀX by the same pivoted Cholesky as the fit.
pub fn rank_deficiency(problem: &Problem) -> usize {
    let p = problem.p;
    let g = problem.groups();
    let mut count = vec![0.0; g];
    for &gi in &problem.group {
        count[gi] += 1.0;
    }
    // Weighting by cell counts leaves the column space unchanged; zero-weight groups drop out.
    let w = count;
    let mut a = DMatrix::<f64>::zeros(p, p);
    let mut b = DVector::<f64>::zeros(p);
    match &problem.lattice {
        Some(l) => {
            let mut ws = Workspace::default();
            let z = vec![0.0; g];
            l.normal_equations(&w, &z, a.as_mut_slice(), b.as_mut_slice(), &mut ws);
        }
        None => {
            let xs = problem.x.as_slice();
            for i in 0..p {
                for j in 0..=i {
                    let v: f64 = (0..g).map(|r| xs[i * g + r] * w[r] * xs[j * g + r]).sum();
                    a[(i, j)] = v;
                    a[(j, i)] = v;
                }
            }
        }
    }
    let mut solver = Solver::new(p);
    let mut beta = DVector::<f64>::zeros(p);
    solver.solve(&a, &b, &mut beta);
    solver.aliased.iter().filter(|&&x| x).count()
}

/// Fits the Poisson log-linear model. `start` gives starting coefficients (a warm start);
/// without it the iteration starts as R does, from μ = y + 0.1 in every cell.
pub fn fit(problem: &Problem, opts: FitOptions, start: Option<&[f64]>) -> Option<Fit> {
    let p = problem.p;
    let g = problem.groups();
    let x = &problem.x;
    let stats = group_stats(problem);
    let ncells = problem.y.len();

    let mut a = DMatrix::<f64>::zeros(p, p);
    let mut xw = DMatrix::<f64>::zeros(if problem.lattice.is_some() { 0 } else { g }, p);
    let mut b = DVector::<f64>::zeros(p);
    let mut solver = Solver::new(p);
    let mut w = DVector::<f64>::zeros(g);
    let mut wz = DVector::<f64>::zeros(g);
    let mut eta = DVector::<f64>::zeros(g);
    let mut mu = vec![0.0; g];
    let mut beta = DVector::<f64>::zeros(p);
    let mut nb = DVector::<f64>::zeros(p);
    let mut beta_old: Option<DVector<f64>> = None;
    let warm = start.is_some();
    let mut last_step: Vec<f64> = Vec::with_capacity(p);
    let mut nws = Workspace::default();

    let xs = x.as_slice();
    let col = |j: usize| &xs[j * g..(j + 1) * g];
    let mut lws = Workspace::default();
    let mut linpred = |coef: &DVector<f64>, eta: &mut DVector<f64>, mu: &mut [f64]| {
        let e = eta.as_mut_slice();
        match &problem.lattice {
            Some(l) => {
                // lattice problems have offset 0
                l.predict(coef.as_slice(), e, mu, &mut lws);
                return;
            }
            None => {
                e.copy_from_slice(&problem.offset);
                for j in 0..p {
                    let c = coef[j];
                    if c != 0.0 {
                        for (ev, &xv) in e.iter_mut().zip(col(j)) {
                            *ev += c * xv;
                        }
                    }
                }
            }
        }
        for (m, ev) in mu.iter_mut().zip(e.iter()) {
            *m = ev.exp();
        }
    };

    let mut devold;
    match start {
        Some(s) if s.len() == p && s.iter().all(|v| v.is_finite()) => {
            let sv = DVector::from_column_slice(s);
            beta.copy_from(&sv);
            linpred(&sv, &mut eta, &mut mu);
            devold = deviance(&stats, eta.as_slice(), &mu);
            for gi in 0..g {
                w[gi] = stats.n[gi] * mu[gi];
                wz[gi] = w[gi] * (eta[gi] - problem.offset[gi]) + (stats.ysum[gi] - w[gi]);
            }
            beta_old = Some(sv);
        }
        _ => {
            // R: mustart = y + 0.1, eta = log(mustart), z = eta - offset + (y - mu)/mu.
            devold = 0.0;
            for (c, &gi) in problem.group.iter().enumerate() {
                let y = problem.y[c];
                let m = y + 0.1;
                let lm = if y == 0.0 { LN_TENTH } else { m.ln() };
                w[gi] += m;
                wz[gi] += m * (lm - problem.offset[gi]) + (y - m);
                devold += 2.0 * (if y > 0.0 { y * (y / m).ln() } else { 0.0 } - (y - m));
            }
        }
    }

    let mut converged = false;
    let mut iterations = 0;
    let mut dev = devold;
    for iter in 1..=opts.max_iter {
        iterations = iter;
        // XᵀWX and XᵀWz: by lattice transforms when the design allows, else from
        // contiguous columns.
        if let Some(l) = &problem.lattice {
            l.normal_equations(
                w.as_slice(),
                wz.as_slice(),
                a.as_mut_slice(),
                b.as_mut_slice(),
                &mut nws,
            );
        } else {
            let xws = xw.as_mut_slice();
            let ws = w.as_slice();
            for j in 0..p {
                for ((d, &xv), &wv) in xws[j * g..(j + 1) * g].iter_mut().zip(col(j)).zip(ws) {
                    *d = xv * wv;
                }
            }
            gram(xs, xw.as_slice(), g, p, a.as_mut_slice());
            for i in 0..p {
                b[i] = dot(col(i), wz.as_slice());
            }
        }
        if !solver.solve(&a, &b, &mut nb) {
            return None;
        }
        // Step-halving: a non-finite deviance (as R) or, when started warm, a growing one
        // pulls the step back towards the previous coefficients.
        let mut halvings = 0;
        loop {
            linpred(&nb, &mut eta, &mut mu);
            dev = deviance(&stats, eta.as_slice(), &mu);
            let bad = !dev.is_finite() || (warm && dev > devold + 1e-6 * (devold.abs() + 1.0));
            match (&beta_old, bad) {
                (Some(old), true) if halvings < 30 => {
                    for j in 0..p {
                        nb[j] = 0.5 * (nb[j] + old[j]);
                    }
                    halvings += 1;
                }
                _ => break,
            }
        }
        if !dev.is_finite() {
            return None;
        }
        last_step.clear();
        last_step.extend((0..p).map(|j| (nb[j] - beta[j]).abs()));
        beta.copy_from(&nb);
        if (dev - devold).abs() / (dev.abs() + 0.1) < opts.epsilon {
            converged = true;
            break;
        }
        devold = dev;
        match &mut beta_old {
            Some(o) => o.copy_from(&beta),
            None => beta_old = Some(beta.clone()),
        }
        for gi in 0..g {
            w[gi] = stats.n[gi] * mu[gi];
            wz[gi] = w[gi] * (eta[gi] - problem.offset[gi]) + (stats.ysum[gi] - w[gi]);
        }
    }
    let aliased = solver.aliased.clone();
    let cov = solver.inverse();
    let rank = aliased.iter().filter(|&&x| !x).count();
    let mut loglik = 0.0;
    for gi in 0..g {
        if stats.n[gi] == 0.0 {
            continue;
        }
        let ylogmu = if stats.ysum[gi] > 0.0 {
            stats.ysum[gi] * eta[gi]
        } else {
            0.0
        };
        loglik += ylogmu - stats.n[gi] * mu[gi];
    }
    for &y in &problem.y {
        loglik -= ln_factorial(y);
    }
    let tiny = 10.0 * f64::EPSILON;
    let fitted_zero = (0..g).any(|gi| stats.n[gi] > 0.0 && mu[gi] < tiny);
    let coef = (0..p)
        .map(|j| if aliased[j] { f64::NAN } else { beta[j] })
        .collect();
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
        last_step,
    })
}
