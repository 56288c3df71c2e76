//! Monte Carlo draws of the total behind the identified, one scenario at a time: each
//! replicate draws a multiplier from the pooled predictive distribution and multiplies the
//! identified count by it (or, with units, each unit's count by its own study's multiplier
//! or by its own deviation from the shared pooled mean), and the children's count by it
//! divided by ρ; median and central interval summarise each. `run` draws the default
//! scenario, `sensitivity` the others, each on its own stream.

use super::spec::AggregateSpec;
use super::studies::{StudyResult, pool_selected};
use crate::aggregate::meta::{Pooled, Tau2Method};
use crate::error::Result;
use crate::inference::bootstrap::quantile8;
use crate::montecarlo::derive_seed;
use crate::montecarlo::replicate;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

/// A total with its interval.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Median of the draws.
    pub median: f64,
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
    /// Level.
    pub level: f64,
}

/// Median and central `level` interval of draws, by type-8 quantiles as everywhere else.
fn summarise(mut v: Vec<f64>, level: f64) -> Summary {
    v.sort_by(f64::total_cmp);
    Summary {
        median: quantile8(&v, 0.5),
        lower: quantile8(&v, (1.0 - level) / 2.0),
        upper: quantile8(&v, (1.0 + level) / 2.0),
        level,
    }
}

/// One scenario's draws, summarised.
#[derive(Debug, Clone)]
pub struct Totals {
    /// The multiplier of a unit without a study.
    pub multiplier: Summary,
    /// The total.
    pub total: Summary,
    /// The children, when their identified count is known.
    pub children: Option<Summary>,
}

/// What every scenario shares: the section, the measured studies (units with a study of
/// their own take its multiplier in every scenario), the job's master seed and level.
pub struct Setting<'a> {
    /// The `aggregate` section.
    pub spec: &'a AggregateSpec,
    /// Every study, measured.
    pub studies: &'a [StudyResult],
    /// The job's master seed.
    pub seed: u64,
    /// The job's level.
    pub level: f64,
}

impl Setting<'_> {
    /// One scenario: pools the studies `keep` selects by `model`, then draws with the
    /// children's detection ratio `rho` on the stream numbered `tag`.
    pub fn scenario(
        &self,
        keep: &dyn Fn(&StudyResult) -> bool,
        model: Tau2Method,
        rho: f64,
        tag: u64,
    ) -> Result<(Pooled, Totals)> {
        let pooled = pool_selected(self.studies, keep, model)?;
        let totals = self.draw(&pooled, rho, tag);
        Ok((pooled, totals))
    }

    /// The draws from the pooled estimate `p`. The order of the random numbers within a
    /// replicate (μ, the shared deviation, each unit's deviation and count, the children's
    /// count) is part of the output: changing it changes every published number.
    pub fn draw(&self, p: &Pooled, rho: f64, tag: u64) -> Totals {
        let spec = self.spec;
        let (mu, tau, se_mu) = (p.mu, p.tau2.sqrt(), p.se);
        // Units with their own study use it; the others share one draw of μ per replicate
        // and get their own deviation from it (the random-effects predictive distribution).
        let own: Vec<Option<(f64, f64)>> = spec
            .units
            .iter()
            .map(|u| {
                u.study
                    .as_ref()
                    .and_then(|n| self.studies.iter().find(|s| &s.name == n))
                    .map(|s| (s.log_m, s.var_log_m.sqrt()))
            })
            .collect();
        let rows: Vec<(f64, f64, Option<f64>)> = replicate(
            spec.draws.get(),
            derive_seed(self.seed, tag as usize),
            &|_| {},
            |_, rng| {
                let z_mu: f64 = StandardNormal.sample(rng);
                let mu_d = mu + se_mu * z_mu;
                let z_u: f64 = StandardNormal.sample(rng);
                let m = (mu_d + tau * z_u).exp();
                let t = if spec.units.is_empty() {
                    spec.identified.total.draw(rng) * m
                } else {
                    spec.units
                        .iter()
                        .zip(&own)
                        .map(|(u, o)| {
                            let z: f64 = StandardNormal.sample(rng);
                            let mu_unit = match o {
                                Some((y, sdv)) => (y + sdv * z).exp(),
                                None => (mu_d + tau * z).exp(),
                            };
                            u.identified.draw(rng) * mu_unit
                        })
                        .sum()
                };
                let c = spec.identified.children.map(|c| c.draw(rng) * m / rho);
                (m, t, c)
            },
        );
        let level = self.level;
        Totals {
            multiplier: summarise(rows.iter().map(|r| r.0).collect(), level),
            total: summarise(rows.iter().map(|r| r.1).collect(), level),
            children: spec
                .identified
                .children
                .map(|_| summarise(rows.iter().filter_map(|r| r.2).collect(), level)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::global::fixtures::{from_json, pooled};
    use crate::aggregate::global::studies::measured;

    fn parts(s: &Summary) -> [f64; 3] {
        [s.lower, s.median, s.upper]
    }

    fn setting<'a>(spec: &'a AggregateSpec, studies: &'a [StudyResult]) -> Setting<'a> {
        Setting {
            spec,
            studies,
            seed: 7,
            level: 0.95,
        }
    }

    /// With se(μ̂) = τ = 0 the multiplier is exp μ̂ in every draw, so the total is
    /// identified × exp μ̂ and the children's count × exp μ̂ / ρ, exactly, at every quantile.
    #[test]
    fn a_degenerate_multiplier_gives_identified_times_m_exactly() {
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 1000, "children": 200, "source": "x"},
            "studies": [], "draws": 500
        }));
        let mu = 5f64.ln();
        let m = mu.exp();
        let t = setting(&s, &[]).draw(&pooled(mu, 0.0, 0.0, 1), 0.25, 1);
        assert_eq!(parts(&t.multiplier), [m; 3]);
        assert_eq!(parts(&t.total), [1000.0 * m; 3]);
        assert_eq!(parts(t.children.as_ref().unwrap()), [200.0 * m / 0.25; 3]);
        assert!((t.total.median - 5000.0).abs() < 1e-9);
    }

    /// ρ only divides the children's draws: on the same stream the multiplier and total are
    /// the same bits whatever ρ, the children's summaries scale by 1/ρ — exactly for ρ = 1/2
    /// (a power of two), to rounding (1e-12 relative) for ρ = 1.5.
    #[test]
    fn the_childrens_total_scales_with_one_over_rho() {
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 1000, "children": {"lower": 100, "upper": 300}, "source": "x"},
            "studies": [], "draws": 1000
        }));
        let p = pooled(1.5, 0.2, 0.09, 1);
        let at = |rho| setting(&s, &[]).draw(&p, rho, 3);
        let (one, half, more) = (at(1.0), at(0.5), at(1.5));
        for other in [&half, &more] {
            assert_eq!(parts(&other.multiplier), parts(&one.multiplier));
            assert_eq!(parts(&other.total), parts(&one.total));
        }
        let c1 = parts(one.children.as_ref().unwrap());
        assert_eq!(parts(half.children.as_ref().unwrap()), c1.map(|x| 2.0 * x));
        for (a, b) in parts(more.children.as_ref().unwrap()).iter().zip(c1) {
            assert!((a * 1.5 / b - 1.0).abs() < 1e-12, "{a} {b}");
        }
    }

    /// A unit with its own study takes that study's multiplier, one without takes the
    /// pooled one, and the section's identified total is not used once units are given:
    /// with every variance 0, each total is 100·2 + 50·10 exactly.
    #[test]
    fn units_take_their_own_study_or_the_pooled_multiplier() {
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 1e6, "source": "x"},
            "studies": [],
            "units": [
                {"name": "measured", "identified": 100, "study": "own"},
                {"name": "unmeasured", "identified": 50}
            ],
            "draws": 300
        }));
        let own = measured("own", 2f64.ln(), 0.0, true);
        let t =
            setting(&s, std::slice::from_ref(&own)).draw(&pooled(10f64.ln(), 0.0, 0.0, 1), 1.0, 1);
        let expect = 100.0 * 2f64.ln().exp() + 50.0 * 10f64.ln().exp();
        assert_eq!(parts(&t.total), [expect; 3]);
        assert!((expect - 700.0).abs() < 1e-9);
        assert_eq!(parts(&t.multiplier), [10f64.ln().exp(); 3]);
        assert!(t.children.is_none());
    }

    /// The multiplier is log-normal with the predictive variance se(μ̂)² + τ²: with μ̂ = ln 4,
    /// se 0.3 and τ 0.4 (sd 0.5) the median of log M is ln 4 and the 2.5% and 97.5%
    /// quantiles ln 4 ∓ 1.96 · 0.5. Tolerance: 4 Monte Carlo standard errors of a sample
    /// quantile of 20,000 draws, 4·σ·√(p(1−p)/n)/φ(z_p): 0.018 for the median, 0.038 for
    /// the tails (dropping se or τ would move a tail by 0.2 or more).
    #[test]
    fn the_multiplier_spreads_with_se_and_tau_together() {
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 1, "source": "x"}, "studies": [], "draws": 20000
        }));
        let t = setting(&s, &[]).draw(&pooled(4f64.ln(), 0.3, 0.16, 1), 1.0, 1);
        let [lo, med, hi] = parts(&t.multiplier).map(f64::ln);
        let z = crate::inference::qnorm(0.975);
        assert!((med - 4f64.ln()).abs() < 0.018, "{med}");
        assert!((lo - (4f64.ln() - z * 0.5)).abs() < 0.038, "{lo}");
        assert!((hi - (4f64.ln() + z * 0.5)).abs() < 0.038, "{hi}");
        assert_eq!(t.multiplier.level, 0.95);
    }

    /// Each scenario's stream is fixed by its tag: the same tag repeats the draws bit for
    /// bit, another tag gives other draws.
    #[test]
    fn the_tag_picks_the_stream() {
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 100, "source": "x"}, "studies": [], "draws": 200
        }));
        let p = pooled(1.0, 0.3, 0.1, 1);
        let at = |tag| parts(&setting(&s, &[]).draw(&p, 1.0, tag).total);
        assert_eq!(at(2), at(2));
        assert_ne!(at(2), at(3));
    }

    /// The summary is the type-8 median and central interval whatever the order of the
    /// draws: 0, 1, …, 100 given in reverse sit at the 1-based positions (101 + 1/3)·p + 1/3,
    /// which are 51, 5.4 and 96.6 for the median and the 5% and 95% quantiles of level 0.9,
    /// so the values are 50, 4.4 and 95.6 (to rounding).
    #[test]
    fn summaries_are_type_8_quantiles_of_the_sorted_draws() {
        let s = summarise((0..=100).rev().map(f64::from).collect(), 0.9);
        for (got, want) in [(s.median, 50.0), (s.lower, 4.4), (s.upper, 95.6)] {
            assert!((got - want).abs() < 1e-12, "{s:?}");
        }
        assert_eq!(s.level, 0.9);
    }
}
