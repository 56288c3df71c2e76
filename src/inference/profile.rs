//! Multinomial profile-likelihood interval for N (Cormack 1992; Rcapture `closedpCI`).
//!
//! For a trial N the unknown cell gets the count N − n and a design row of zeros; the
//! Poisson fit of that augmented table gives a deviance D(N), and the multinomial profile
//! log-likelihood is −D(N)/2 + c(N), with Cormack's correction c(N) (Rcapture's exact form,
//! Stirling's approximation above N = 100). The interval is the set of N whose profile
//! log-likelihood is within χ²₁(level)/2 of its maximum. Rcapture stops looking for the
//! upper limit at 3·N̂; here the search goes on (to 1000·N̂) and says when it went beyond.

use super::interval::Interval;
use super::optim::{brent_max, brent_root};
use crate::glm::FitOptions;
use crate::loglinear::fit::{LoglinFit, fit_loglin};

/// Cormack's correction term, exactly as Rcapture evaluates it.
fn cormack(n0: f64, total: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    if total > 100.0 {
        if n0 == 0.0 || n0 == 1.0 {
            -total + 0.5 * (2.0 * std::f64::consts::PI * total).ln()
        } else {
            n0 - total - 0.5 * (n0 / total).ln()
        }
    } else {
        let a = if n0 > 0.0 { n0 * n0.ln() } else { 0.0 };
        a + ln_gamma(total + 1.0) - total * total.ln() - ln_gamma(n0 + 1.0)
    }
}

/// Computes the profile interval for a fitted model; returns the interval and warnings.
pub fn profile_interval(
    lf: &LoglinFit,
    n: f64,
    pop: f64,
    level: f64,
    opts: FitOptions,
) -> Result<(Interval, Vec<String>), String> {
    // Start from the full design (before η removal): each trial N gets its own removal,
    // as in Rcapture.
    let mut aug = lf.full.as_ref().unwrap_or(&lf.problem).with_unknown_cell();
    let last = aug.y.len() - 1;
    // Every trial N is fitted from R's default start: with Chao's η removal the removal
    // path (and so the deviance) depends on the fits along the way, exactly as in Rcapture.
    let mut failed = false;
    let mut loglik = |nn: f64| -> f64 {
        let n0 = (nn - n).max(0.0);
        aug.y[last] = n0;
        match fit_loglin(aug.clone(), lf.chao_nca, opts, None) {
            Some(f) => -f.fit.deviance / 2.0 + cormack(n0, nn),
            None => {
                failed = true;
                f64::NAN
            }
        }
    };
    let hi = 1.5 * pop;
    let (nmax, lmax) = brent_max(&mut loglik, n, hi, 1e-4);
    let chi = super::qnorm(0.5 + level / 2.0).powi(2);
    let lmin = lmax - chi / 2.0;
    let xtol = 1e-9 * pop.max(1.0);
    let mut warnings = Vec::new();
    let mut g = |x: f64| loglik(x) - lmin;
    let f_n = g(n);
    let f_max = g(nmax);
    let lower = if f_n.is_nan() || f_max.is_nan() {
        return Err("a fit of the augmented table failed".into());
    } else if f_n > 0.0 {
        warnings.push("the profile-likelihood lower limit is set to the sample size n".into());
        n
    } else {
        brent_root(&mut g, n, nmax, f_n, f_max, xtol)
    };
    let mut upper = None;
    let mut a = nmax;
    let mut fa = f_max;
    for (i, mult) in [3.0, 10.0, 100.0, 1000.0].into_iter().enumerate() {
        let b = mult * pop;
        if b <= a {
            continue;
        }
        let fb = g(b);
        if fb.is_nan() {
            return Err("a fit of the augmented table failed".into());
        }
        if fb < 0.0 {
            upper = Some(brent_root(&mut g, a, b, fa, fb, xtol));
            if i > 0 {
                warnings.push(format!(
                    "the profile-likelihood upper limit is above 3·N̂ = {:.1} (Rcapture's closedpCI reports only '>{:.1}')",
                    3.0 * pop,
                    3.0 * pop
                ));
            }
            break;
        }
        a = b;
        fa = fb;
    }
    if upper.is_none() {
        warnings.push(format!(
            "no upper limit: the profile likelihood stays within the cut-off up to 1000·N̂ = {:.0}; the data do not bound N from above",
            1000.0 * pop
        ));
    }
    if failed {
        return Err("a fit of the augmented table failed".into());
    }
    Ok((
        Interval {
            lower: Some(lower),
            upper,
            level,
            kind: super::interval::Construction::Profile,
            center: Some(nmax),
        },
        warnings,
    ))
}
