//! Fitting a log-linear model for N̂ = n + exp(β₀), with Rcapture's removal of negative
//! Chao η parameters (refit without the first negative η until none is negative). The glue
//! between `glm` (below) and the estimators and the profile interval (above).

use crate::glm::{self, Fit, FitOptions, Problem};

/// A fitted log-linear model whose missing cell has mean exp(β₀).
#[derive(Debug, Clone)]
pub struct LoglinFit {
    /// The problem as finally fitted (columns of removed η parameters dropped).
    pub problem: Problem,
    /// The problem as first posed (every η column) when η's were removed; the profile
    /// interval refits it.
    pub full: Option<Problem>,
    /// The fit.
    pub fit: Fit,
    /// Chao model: first column index that is an η parameter (Rcapture's `nca`).
    pub chao_nca: Option<usize>,
    /// Names of η parameters removed because they were negative.
    pub removed: Vec<String>,
}

/// Fits `problem`; for a Chao lower-bound model (`chao_nca = Some(first η column)`)
/// refits without the first negative η until none is negative, as Rcapture does.
pub fn fit_loglin(
    problem: Problem,
    chao_nca: Option<usize>,
    opts: FitOptions,
    start: Option<&[f64]>,
) -> Option<LoglinFit> {
    let first = glm::fit(&problem, opts, start)?;
    let negative = |f: &Fit, from: usize| {
        (from..f.coef.len()).find(|&j| !f.coef[j].is_nan() && f.coef[j] < 0.0)
    };
    let Some(nca) = chao_nca.filter(|&nca| negative(&first, nca).is_some()) else {
        return Some(LoglinFit {
            problem,
            full: None,
            fit: first,
            chao_nca,
            removed: Vec::new(),
        });
    };
    let mut prob = problem.clone();
    let mut fit = first;
    let mut removed = Vec::new();
    while let Some(pos) = negative(&fit, nca) {
        let next = prob.without_column(pos);
        let st: Option<Vec<f64>> = start.and_then(|_| {
            let mut s = fit.coef.clone();
            s.remove(pos);
            s.iter().all(|v| v.is_finite()).then_some(s)
        });
        let Some(f2) = glm::fit(&next, opts, st.as_deref()) else {
            break;
        };
        removed.push(prob.names[pos].clone());
        prob = next;
        fit = f2;
    }
    Some(LoglinFit {
        problem: prob,
        full: Some(problem),
        fit,
        chao_nca,
        removed,
    })
}
