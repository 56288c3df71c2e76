//! The nine zero-truncated count models of singleRcapture 0.2.3, each as what a person seen
//! y ≥ 1 times contributes: a log-likelihood in the linear predictors (η₁ for the mean λ,
//! η₂ for the dispersion α or the one-inflation ω), a share of N̂ (Horvitz–Thompson,
//! 1 / P(seen); Chao's lower bound adds only for y ∈ {1, 2}), and the truncated
//! probabilities the goodness of fit and the parametric bootstrap use.
//!
//! λ is the mean of the count before truncation (log link; Zelterman's and Chao's "loghalf"
//! link λ = 2e^η, as the package), α the negative binomial's dispersion (log link, variance
//! λ + αλ²) and ω the one-inflation (logit link). The one-inflated models differ in where
//! the extra ones enter (Böhning & van der Heijden 2019; Böhning et al. 2023):
//! `oizt*` inflate the untruncated count, P(y) = [ω·1{y=1} + (1−ω)f(y)] / (1 − (1−ω)f(0)),
//! and N̂ counts the unseen of that inflated law; `ztoi*` inflate the truncated count,
//! P(y) = ω·1{y=1} + (1−ω)f(y)/(1 − f(0)), and N̂ counts the unseen of f alone.

use super::dual::D2;

/// A zero-truncated count model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// Zero-truncated Poisson.
    ZtPoisson,
    /// Zero-truncated geometric.
    ZtGeom,
    /// Zero-truncated negative binomial.
    ZtNegbin,
    /// Zelterman's: Poisson fitted on counts 1 and 2, N̂ over every count.
    Zelterman,
    /// Chao's lower bound with covariates.
    Chao,
    /// One-inflated zero-truncated Poisson.
    OiztPoisson,
    /// One-inflated zero-truncated geometric.
    OiztGeom,
    /// Zero-truncated one-inflated Poisson.
    ZtoiPoisson,
    /// Zero-truncated one-inflated geometric.
    ZtoiGeom,
}

/// Every model with its method id.
pub const MODELS: &[(&str, Model)] = &[
    ("ztpoisson", Model::ZtPoisson),
    ("ztgeom", Model::ZtGeom),
    ("ztnegbin", Model::ZtNegbin),
    ("zelterman", Model::Zelterman),
    ("chao", Model::Chao),
    ("oiztpoisson", Model::OiztPoisson),
    ("oiztgeom", Model::OiztGeom),
    ("ztoipoisson", Model::ZtoiPoisson),
    ("ztoigeom", Model::ZtoiGeom),
];

/// ln y! for the likelihood's constant (as the package's log-likelihood includes it).
fn ln_factorial(y: u64) -> f64 {
    statrs::function::factorial::ln_factorial(y)
}

impl Model {
    /// The method id.
    pub fn id(self) -> &'static str {
        MODELS.iter().find(|m| m.1 == self).map_or("", |m| m.0)
    }

    /// The name of the second linear predictor's parameter, when there is one.
    pub fn second(self) -> Option<&'static str> {
        match self {
            Model::ZtNegbin => Some("alpha"),
            Model::OiztPoisson | Model::OiztGeom | Model::ZtoiPoisson | Model::ZtoiGeom => {
                Some("omega")
            }
            _ => None,
        }
    }

    /// Whether only counts 1 and 2 enter the likelihood.
    pub fn ones_and_twos(self) -> bool {
        matches!(self, Model::Zelterman | Model::Chao)
    }

    /// λ from η₁.
    fn lambda(self, e1: D2) -> D2 {
        match self {
            Model::Zelterman | Model::Chao => e1.exp() * 2.0,
            _ => e1.exp(),
        }
    }

    /// The log-likelihood of one person seen y times (None: the person does not enter the
    /// likelihood, as counts above 2 for Zelterman's and Chao's).
    pub fn loglik(self, y: u64, e1: D2, e2: D2) -> Option<D2> {
        let yf = y as f64;
        let lam = self.lambda(e1);
        Some(match self {
            Model::ZtPoisson => e1 * yf - lam - lam.ln_1m_exp_neg() - ln_factorial(y),
            Model::ZtGeom => e1 * (yf - 1.0) - lam.ln_1p() * yf,
            Model::ZtNegbin => {
                // α = e^{η₂}, r = 1/α; ln Γ(y + r)/Γ(r) by `ln_rising`.
                let r = (-e2).exp();
                let lg = r.ln_rising(y);
                let al = (e1 + e2).exp(); // αλ
                let l1p = al.ln_1p();
                // ln P(0) = −r ln(1 + αλ); ln(1 − P(0)) = ln(1 − e^{−r ln(1+αλ)}).
                lg - ln_factorial(y) + (e1 + e2) * yf
                    - l1p * yf
                    - r * l1p
                    - (r * l1p).ln_1m_exp_neg()
            }
            Model::Zelterman | Model::Chao => {
                if y > 2 {
                    return None;
                }
                // P(y = 2 | y ∈ {1, 2}) = (λ/2)/(1 + λ/2) with λ/2 = e^{η₁}.
                let z = (y - 1) as f64;
                e1 * z - e1.softplus()
            }
            Model::OiztPoisson | Model::OiztGeom | Model::ZtoiPoisson | Model::ZtoiGeom => {
                let w = e2.logistic();
                let (f_y, f0) = self.base(y, e1, lam);
                let one = if y == 1 { 1.0 } else { 0.0 };
                match self {
                    Model::OiztPoisson | Model::OiztGeom => {
                        let p = if y == 1 {
                            w + (1.0 - w) * f_y
                        } else {
                            (1.0 - w) * f_y
                        };
                        p.ln() - (1.0 - (1.0 - w) * f0).ln()
                    }
                    _ => {
                        let zt = f_y / (1.0 - f0);
                        (w * one + (1.0 - w) * zt).ln()
                    }
                }
            }
        })
    }

    /// The untruncated base probability of y and of 0 (Poisson or geometric), for the
    /// one-inflated models.
    fn base(self, y: u64, e1: D2, lam: D2) -> (D2, D2) {
        let yf = y as f64;
        match self {
            Model::OiztPoisson | Model::ZtoiPoisson => {
                let f0 = (-lam).exp();
                ((e1 * yf - lam - ln_factorial(y)).exp(), f0)
            }
            _ => {
                let f0 = (lam + 1.0).recip();
                ((e1 * yf - lam.ln_1p() * (yf + 1.0)).exp(), f0)
            }
        }
    }

    /// The probability of not being seen, under the law whose unseen N̂ counts.
    pub fn unseen(self, e1: D2, e2: D2) -> D2 {
        let lam = self.lambda(e1);
        match self {
            Model::ZtPoisson | Model::Zelterman | Model::ZtoiPoisson => (-lam).exp(),
            Model::ZtGeom | Model::ZtoiGeom => (lam + 1.0).recip(),
            Model::ZtNegbin => (-((-e2).exp() * (e1 + e2).exp().ln_1p())).exp(),
            Model::OiztPoisson => (1.0 - e2.logistic()) * (-lam).exp(),
            Model::OiztGeom => (1.0 - e2.logistic()) * (lam + 1.0).recip(),
            // Chao's share is not Horvitz–Thompson's; see `share`.
            Model::Chao => (-lam).exp(),
        }
    }

    /// One person's share of N̂: 1/P(seen), or Chao's 1 + 1{y ≤ 2}/(λ + λ²/2).
    pub fn share(self, y: u64, e1: D2, e2: D2) -> D2 {
        match self {
            Model::Chao => {
                if y <= 2 {
                    let lam = self.lambda(e1);
                    (lam + lam * lam * 0.5).recip() + 1.0
                } else {
                    D2::cst(1.0)
                }
            }
            Model::ZtNegbin => {
                // 1/(1 − P(0)) with P(0) = e^{−r ln(1+αλ)}: 1/(1 − e^{−x}) = e^{−ln(1−e^{−x})}.
                let x = (-e2).exp() * (e1 + e2).exp().ln_1p();
                (-x.ln_1m_exp_neg()).exp()
            }
            _ => (1.0 - self.unseen(e1, e2)).recip(),
        }
    }

    /// The variance of one person's share given the coefficients (the second term of the
    /// package's analytic variance): (1 − p)/p² for Horvitz–Thompson, p = P(seen).
    pub fn share_variance(self, y: u64, e1: f64, e2: f64) -> f64 {
        let (c1, c2) = (D2::cst(e1), D2::cst(e2));
        match self {
            Model::Chao => {
                if y > 2 {
                    return 0.0;
                }
                let lam = self.lambda(c1).v;
                let prob = lam * (-lam).exp() + lam * lam * (-lam).exp() / 2.0;
                (1.0 - prob) * (1.0 + (-lam).exp() / prob).powi(2)
            }
            _ => {
                let s = self.share(y, c1, c2).v;
                // (1 − p)/p² = s(s − 1) with s = 1/p.
                s * (s - 1.0)
            }
        }
    }

    /// P(y = k | seen) for k = 1..=kmax under the fitted law (the package's marginal
    /// frequencies: the zero-truncated Poisson for Zelterman's and Chao's).
    pub fn truncated_pmf(self, kmax: u64, e1: f64, e2: f64) -> Vec<f64> {
        self.truncated_at(1..=kmax, e1, e2)
    }

    /// P(y = k | seen) at each of `ks`.
    pub fn truncated_at(self, ks: impl IntoIterator<Item = u64>, e1: f64, e2: f64) -> Vec<f64> {
        let (c1, c2) = (D2::cst(e1), D2::cst(e2));
        let lam = self.lambda(c1).v;
        ks.into_iter()
            .map(|k| match self {
                Model::ZtPoisson | Model::Zelterman | Model::Chao => Model::ZtPoisson
                    .loglik(k, D2::cst(lam.ln()), c2)
                    .map_or(0.0, |l| l.v.exp()),
                _ => self.loglik(k, c1, c2).map_or(0.0, |l| l.v.exp()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every model's truncated probabilities sum to one, and its log-likelihood is the log
    /// of them.
    #[test]
    fn truncated_laws_sum_to_one() {
        for &(id, m) in MODELS {
            if m.ones_and_twos() {
                continue;
            }
            let p = m.truncated_pmf(400, 0.4, -0.8);
            let s: f64 = p.iter().sum();
            assert!((s - 1.0).abs() < 1e-10, "{id}: {s}");
            assert!(p.iter().all(|&x| x >= 0.0), "{id}");
        }
    }

    /// The one-inflated models with ω → 0 are their base models, in likelihood and N̂.
    #[test]
    fn one_inflation_at_zero_is_the_base_model() {
        let pairs = [
            (Model::OiztPoisson, Model::ZtPoisson),
            (Model::ZtoiPoisson, Model::ZtPoisson),
            (Model::OiztGeom, Model::ZtGeom),
            (Model::ZtoiGeom, Model::ZtGeom),
        ];
        let (e1, e2) = (D2::cst(0.3), D2::cst(-40.0));
        for (oi, base) in pairs {
            for y in 1..6 {
                let a = oi.loglik(y, e1, e2).unwrap().v;
                let b = base.loglik(y, e1, e2).unwrap().v;
                assert!((a - b).abs() < 1e-12, "{oi:?} y={y}: {a} {b}");
            }
            let a = oi.share(1, e1, e2).v;
            let b = base.share(1, e1, e2).v;
            assert!((a - b).abs() < 1e-12);
        }
    }

    /// The negative binomial with a vanishing dispersion is the Poisson.
    #[test]
    fn negbin_tends_to_poisson() {
        let (e1, e2) = (D2::cst(0.2), D2::cst(-25.0));
        for y in 1..8 {
            let a = Model::ZtNegbin.loglik(y, e1, e2).unwrap().v;
            let b = Model::ZtPoisson.loglik(y, e1, e2).unwrap().v;
            assert!((a - b).abs() < 1e-8, "y={y}: {a} {b}");
        }
        let a = Model::ZtNegbin.share(1, e1, e2).v;
        let b = Model::ZtPoisson.share(1, e1, e2).v;
        assert!((a - b).abs() < 1e-8);
    }
}
