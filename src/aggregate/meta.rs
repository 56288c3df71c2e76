//! Random-effects meta-analysis of log dark-figure multipliers (log M, M = N̂/n): the
//! normal–normal model y_i ~ N(μ + u_i, v_i), u_i ~ N(0, τ²), with τ² by DerSimonian &
//! Laird (1986), by restricted maximum likelihood (REML: Fisher scoring, as Viechtbauer
//! 2005), or fixed at 0 (common effect). The predictive distribution of a new unit's log M
//! is N(μ̂, τ̂² + se(μ̂)²) (Higgins, Thompson & Spiegelhalter 2009). REML is the default:
//! DerSimonian–Laird underestimates τ² with few studies, which is the situation here.

use crate::error::{Error, Result};
use serde::Serialize;

/// How τ² is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Tau2Method {
    /// Restricted maximum likelihood (default).
    #[default]
    Reml,
    /// DerSimonian–Laird moment estimator.
    Dl,
    /// τ² = 0: a common (fixed) effect.
    Fixed,
}

/// A pooled estimate.
#[derive(Debug, Clone, Serialize)]
pub struct Pooled {
    /// How τ² was estimated.
    pub method: Tau2Method,
    /// Pooled mean μ̂ (of log M).
    pub mu: f64,
    /// Standard error of μ̂.
    pub se: f64,
    /// Between-study variance τ̂².
    pub tau2: f64,
    /// Cochran's Q.
    pub q: f64,
    /// Its degrees of freedom (k − 1).
    pub df: usize,
    /// I² = max(0, (Q − df)/Q).
    pub i2: f64,
    /// Studies pooled.
    pub k: usize,
}

impl Pooled {
    /// Mean and variance of the predictive distribution of a new unit's log M.
    pub fn predictive(&self) -> (f64, f64) {
        (self.mu, self.tau2 + self.se * self.se)
    }
}

fn weighted(y: &[f64], v: &[f64], tau2: f64) -> (f64, f64) {
    let w: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + tau2)).collect();
    let sw: f64 = w.iter().sum();
    let mu = w.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / sw;
    (mu, (1.0 / sw).sqrt())
}

/// Pools estimates `y` with within-study variances `v`.
pub fn pool(y: &[f64], v: &[f64], method: Tau2Method) -> Result<Pooled> {
    let k = y.len();
    if k == 0 || v.len() != k {
        return Err(Error::Usage(
            "a meta-analysis needs at least one study with a variance".into(),
        ));
    }
    if v.iter().any(|&x| !(x > 0.0 && x.is_finite())) || y.iter().any(|x| !x.is_finite()) {
        return Err(Error::Usage(
            "every study needs a finite estimate and a positive variance".into(),
        ));
    }
    let w: Vec<f64> = v.iter().map(|x| 1.0 / x).collect();
    let sw: f64 = w.iter().sum();
    let sw2: f64 = w.iter().map(|x| x * x).sum();
    let (mu_fe, _) = weighted(y, v, 0.0);
    let q: f64 = w
        .iter()
        .zip(y)
        .map(|(wi, yi)| wi * (yi - mu_fe).powi(2))
        .sum();
    let df = k.saturating_sub(1);
    let dl = if k > 1 {
        ((q - df as f64) / (sw - sw2 / sw)).max(0.0)
    } else {
        0.0
    };
    let tau2 = match method {
        Tau2Method::Fixed => 0.0,
        Tau2Method::Dl => dl,
        Tau2Method::Reml => {
            // Fisher scoring on the restricted likelihood, from the DL value.
            let mut t = dl;
            for _ in 0..500 {
                let wt: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + t)).collect();
                let swt: f64 = wt.iter().sum();
                let mu = wt.iter().zip(y).map(|(a, b)| a * b).sum::<f64>() / swt;
                let sw2t: f64 = wt.iter().map(|x| x * x).sum();
                let num: f64 = wt
                    .iter()
                    .zip(y)
                    .zip(v)
                    .map(|((a, yi), vi)| a * a * ((yi - mu).powi(2) - vi))
                    .sum();
                let next = (num / sw2t + 1.0 / swt).max(0.0);
                let done = (next - t).abs() <= 1e-12 * (1.0 + t);
                t = next;
                if done {
                    break;
                }
            }
            t
        }
    };
    let (mu, se) = weighted(y, v, tau2);
    let i2 = if q > 0.0 {
        ((q - df as f64) / q).max(0.0)
    } else {
        0.0
    };
    Ok(Pooled {
        method,
        mu,
        se,
        tau2,
        q,
        df,
        i2,
        k,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BCG vaccine trials (Colditz et al. 1994), log relative risks: the worked example of
    /// metafor's documentation and of Viechtbauer (2010). Published (4 decimals): common
    /// effect −0.4303, Q = 152.23 on 12 df; DL τ² 0.3088, μ̂ −0.7141, se 0.1787; REML τ²
    /// 0.3132, μ̂ −0.7145, se 0.1798. Tolerance: half a unit in the last published decimal.
    #[test]
    fn bcg_worked_example() {
        let trials: [(f64, f64, f64, f64); 13] = [
            (4.0, 119.0, 11.0, 128.0),
            (6.0, 300.0, 29.0, 274.0),
            (3.0, 228.0, 11.0, 209.0),
            (62.0, 13536.0, 248.0, 12619.0),
            (33.0, 5036.0, 47.0, 5761.0),
            (180.0, 1361.0, 372.0, 1079.0),
            (8.0, 2537.0, 10.0, 619.0),
            (505.0, 87886.0, 499.0, 87892.0),
            (29.0, 7470.0, 45.0, 7232.0),
            (17.0, 1699.0, 65.0, 1600.0),
            (186.0, 50448.0, 141.0, 27197.0),
            (5.0, 2493.0, 3.0, 2338.0),
            (27.0, 16886.0, 29.0, 17825.0),
        ];
        let y: Vec<f64> = trials
            .iter()
            .map(|&(a, b, c, d)| ((a / (a + b)) / (c / (c + d))).ln())
            .collect();
        let v: Vec<f64> = trials
            .iter()
            .map(|&(a, b, c, d)| 1.0 / a - 1.0 / (a + b) + 1.0 / c - 1.0 / (c + d))
            .collect();
        let near = |x: f64, p: f64| (x - p).abs() <= 5e-5;
        let fe = pool(&y, &v, Tau2Method::Fixed).unwrap();
        assert!(near(fe.mu, -0.4303), "{}", fe.mu);
        assert!((fe.q - 152.23).abs() <= 5e-3 && fe.df == 12, "{}", fe.q);
        let dl = pool(&y, &v, Tau2Method::Dl).unwrap();
        assert!(
            near(dl.tau2, 0.3088) && near(dl.mu, -0.7141) && near(dl.se, 0.1787),
            "{dl:?}"
        );
        let reml = pool(&y, &v, Tau2Method::Reml).unwrap();
        assert!(
            near(reml.tau2, 0.3132) && near(reml.mu, -0.7145) && near(reml.se, 0.1798),
            "{reml:?}"
        );
    }
}
