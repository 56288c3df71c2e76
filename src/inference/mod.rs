//! Intervals on the population scale: the multinomial profile likelihood (`profile`),
//! the Wald interval on the log of the dark figure, and Chao's (1987) log-normal interval.
//! Estimators call these after fitting; nothing here fits a model except the profile.
//! Also here: the interval and draws types (`interval`), the posterior summary of samplers
//! (`posterior`), the bootstrap and MCMC diagnostics.

pub mod bootstrap;
pub mod interval;
pub mod mcmc;
pub mod optim;
pub mod posterior;
pub mod profile;

pub use interval::{Construction, Draws, Interval, IntervalKind, Pmf};
use statrs::distribution::{ContinuousCDF, Normal};

/// Standard normal quantile.
pub fn qnorm(p: f64) -> f64 {
    // statrs' Normal::new(0, 1) cannot fail.
    Normal::standard().inverse_cdf(p)
}

/// n + exp(β₀ ± z se(β₀)): Wald on the log of the dark figure (SparseMSE's
/// `estimatepopulation.0` interval).
pub fn wald_log_interval(n: f64, b0: f64, se_b0: f64, level: f64) -> Interval {
    let z = qnorm(0.5 + level / 2.0);
    Interval {
        lower: Some(n + (b0 - z * se_b0).exp()),
        upper: Some(n + (b0 + z * se_b0).exp()),
        level,
        kind: Construction::WaldLog,
        center: None,
    }
}

/// Chao's (1987) log-normal interval: n + f₀/C, n + f₀·C with
/// C = exp(z sqrt(log(1 + se²/f₀²))), f₀ = N̂ − n.
pub fn log_normal_interval(n: f64, pop: f64, se: f64, level: f64) -> Interval {
    let z = qnorm(0.5 + level / 2.0);
    let f0 = pop - n;
    let c = (z * (1.0 + se * se / (f0 * f0)).ln().sqrt()).exp();
    let ok = f0 > 0.0 && c.is_finite();
    Interval {
        lower: ok.then(|| n + f0 / c),
        upper: ok.then(|| n + f0 * c),
        level,
        kind: Construction::LogNormal,
        center: None,
    }
}
