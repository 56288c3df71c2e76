//! The job's `aggregate` section as it is read from JSON — identified counts, studies,
//! units, pooling model, children's detection ratio, Monte Carlo sizes — and the checks made
//! on it before anything is computed. The bottom of `global`: every other file there reads
//! these types, none of them is read here.

use crate::aggregate::meta::Tau2Method;
use crate::checked::{Level, Replicates};
use crate::data::source::DataSpec;
use crate::error::{Error, Result};
use crate::methods::MethodId;
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// A count known exactly or only within bounds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Count {
    /// Exactly this many.
    Exact(f64),
    /// Somewhere in [lower, upper] (drawn uniformly).
    Range {
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
}

impl Count {
    /// One Monte Carlo value: the count itself, or a uniform draw within the range (which
    /// takes one number from `rng` — an exact count takes none, so the streams differ).
    pub(super) fn draw(&self, rng: &mut chacha20::ChaCha8Rng) -> f64 {
        match *self {
            Count::Exact(x) => x,
            Count::Range { lower, upper } => lower + (upper - lower) * rng.random::<f64>(),
        }
    }

    /// The count's middle (for messages).
    pub fn middle(&self) -> f64 {
        match *self {
            Count::Exact(x) => x,
            Count::Range { lower, upper } => 0.5 * (lower + upper),
        }
    }
}

/// The identified people to extrapolate from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identified {
    /// All identified victims.
    pub total: Count,
    /// Identified children, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<Count>,
    /// Where the counts come from, and what they count.
    pub source: String,
}

/// A published multiplier: point and interval at a level.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Published {
    /// Point value of M (total / identified).
    pub multiplier: f64,
    /// Lower end.
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
    /// Coverage of [lower, upper] (read as a log-normal interval).
    pub level: Level,
}

/// One study behind the multipliers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// Short name.
    pub name: String,
    /// Reference.
    pub citation: String,
    /// Whether it studied trafficking / modern slavery (the sensitivity table can keep only these).
    #[serde(default = "yes")]
    pub trafficking: bool,
    /// An inline table estimated live (with `method`, default stepwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataSpec>,
    /// Method for a live study.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<MethodId>,
    /// A published summary instead of data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<Published>,
}

/// Where a study's multiplier comes from, once the study has been checked.
pub(super) enum Source<'a> {
    /// A published summary, its interval in order.
    Published(&'a Published),
    /// A table to estimate here.
    Live(&'a DataSpec),
}

impl Study {
    /// The study's one source. Checked study by study as the studies are measured (not all
    /// up front), so a live study before a faulty one has run when the error comes.
    pub(super) fn source(&self) -> Result<Source<'_>> {
        match (&self.published, &self.data) {
            (Some(p), None) => {
                if !(p.lower > 0.0 && p.lower <= p.multiplier && p.multiplier <= p.upper) {
                    return Err(Error::Usage(format!(
                        "study {}: published multiplier needs 0 < lower ≤ multiplier ≤ upper",
                        self.name
                    )));
                }
                Ok(Source::Published(p))
            }
            (None, Some(d)) => Ok(Source::Live(d)),
            _ => Err(Error::Usage(format!(
                "study {}: give exactly one of `data` and `published`",
                self.name
            ))),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_ratio() -> f64 {
    1.0
}

fn default_alternatives() -> Vec<f64> {
    vec![0.5, 0.75, 1.5]
}

fn default_draws() -> Replicates {
    Replicates::of(20_000)
}

fn default_boot() -> Replicates {
    Replicates::of(1000)
}

/// A unit (country, region, group) with its identified count; its multiplier comes from
/// its own study when `study` names one, else from the pooled predictive distribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    /// Name.
    pub name: String,
    /// Identified in this unit.
    pub identified: Count,
    /// The study (by name) that measured this unit's multiplier, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<String>,
}

/// The `aggregate` section of a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateSpec {
    /// The identified count.
    pub identified: Identified,
    /// The studies.
    pub studies: Vec<Study>,
    /// Units whose identified counts add up to the total, when known separately.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<Unit>,
    /// τ² estimator (default REML).
    #[serde(default)]
    pub model: Tau2Method,
    /// Children's detection probability relative to adults' (ρ; default 1).
    #[serde(default = "default_ratio")]
    pub children_detection_ratio: f64,
    /// Alternative values of ρ for the sensitivity table.
    #[serde(default = "default_alternatives")]
    pub children_ratio_alternatives: Vec<f64>,
    /// Monte Carlo draws of the total.
    #[serde(default = "default_draws")]
    pub draws: Replicates,
    /// Bootstrap replicates for live studies.
    #[serde(default = "default_boot")]
    pub study_bootstrap: Replicates,
}

impl AggregateSpec {
    /// The checks that need no study measured: at least one study, positive detection
    /// ratios, and units naming only listed studies.
    pub(super) fn validate(&self) -> Result<()> {
        if self.studies.is_empty() {
            return Err(Error::Usage("aggregate: needs at least one study".into()));
        }
        // Negated so that NaN is refused too.
        if !(self.children_detection_ratio > 0.0)
            || self.children_ratio_alternatives.iter().any(|r| !(*r > 0.0))
        {
            return Err(Error::Usage(
                "aggregate: children's detection ratios must be positive".into(),
            ));
        }
        for (i, u) in self.units.iter().enumerate() {
            if let Some(n) = &u.study {
                if !self.studies.iter().any(|s| &s.name == n) {
                    return Err(Error::Usage(format!(
                        "aggregate.units[{i}] ({}): names the study \"{n}\", which is not among aggregate.studies",
                        u.name
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::global::fixtures::from_json;
    use crate::montecarlo::stream;

    fn published(m: f64, lo: f64, hi: f64) -> serde_json::Value {
        serde_json::json!({"name": "s", "citation": "c",
            "published": {"multiplier": m, "lower": lo, "upper": hi, "level": 0.95}})
    }

    /// The defaults a minimal section gets, since they shape every number: ρ = 1, the three
    /// alternatives, 20,000 draws, 1,000 bootstrap replicates, REML, no units, and a study
    /// counted as a trafficking study unless it says otherwise.
    #[test]
    fn a_minimal_section_gets_the_documented_defaults() {
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 10, "source": "x"},
            "studies": [published(2.0, 1.0, 4.0)]
        }));
        assert_eq!(s.children_detection_ratio, 1.0);
        assert_eq!(s.children_ratio_alternatives, [0.5, 0.75, 1.5]);
        assert_eq!((s.draws.get(), s.study_bootstrap.get()), (20_000, 1000));
        assert_eq!(s.model, Tau2Method::Reml);
        assert!(s.units.is_empty() && s.identified.children.is_none());
        assert!(s.studies[0].trafficking);
    }

    /// A count is written as a number or as {lower, upper}; an unknown field anywhere in the
    /// section is refused rather than ignored.
    #[test]
    fn counts_read_both_ways_and_unknown_fields_are_refused() {
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": {"lower": 10, "upper": 20}, "children": 3, "source": "x"},
            "studies": [published(2.0, 1.0, 4.0)]
        }));
        assert!(matches!(
            s.identified.total,
            Count::Range {
                lower: 10.0,
                upper: 20.0
            }
        ));
        assert!(matches!(s.identified.children, Some(Count::Exact(3.0))));
        for bad in [
            serde_json::json!({"identified": {"total": 1, "source": "x", "adults": 1}, "studies": []}),
            serde_json::json!({"identified": {"total": 1, "source": "x"}, "studies": [], "rho": 1}),
        ] {
            let err = serde_json::from_value::<AggregateSpec>(bad).unwrap_err();
            assert!(err.to_string().contains("unknown field"), "{err}");
        }
    }

    /// An exact count is drawn as itself without touching the stream; a range is drawn
    /// within its bounds, over all of it, with mean its middle. Tolerance: 4 Monte Carlo
    /// standard errors of the mean of 10,000 uniform draws, 4 · 100/√12/√10,000 ≈ 1.2.
    #[test]
    fn counts_draw_as_themselves_or_uniformly_within_their_range() {
        let mut rng = stream(1, 0);
        assert_eq!(Count::Exact(7.0).draw(&mut rng), 7.0);
        assert_eq!(rng, stream(1, 0));
        let c = Count::Range {
            lower: 100.0,
            upper: 200.0,
        };
        assert_eq!(c.middle(), 150.0);
        let d: Vec<f64> = (0..10_000).map(|_| c.draw(&mut rng)).collect();
        assert!(d.iter().all(|x| (100.0..=200.0).contains(x)));
        // Each end is reached within 1% but for a chance of 0.99^10,000 ≈ 2e-44.
        assert!(d.iter().any(|&x| x < 101.0) && d.iter().any(|&x| x > 199.0));
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        assert!((mean - 150.0).abs() < 1.2, "{mean}");
    }

    /// Each up-front check refuses its case with its message; a valid section passes.
    #[test]
    fn validation_refuses_no_studies_and_non_positive_ratios() {
        let ok = serde_json::json!({
            "identified": {"total": 10, "source": "x"},
            "studies": [published(2.0, 1.0, 4.0)],
            "units": [{"name": "u", "identified": 10, "study": "s"}]
        });
        assert!(from_json::<AggregateSpec>(ok.clone()).validate().is_ok());
        let refused = |edit: &dyn Fn(&mut AggregateSpec), says: &str| {
            let mut s: AggregateSpec = from_json(ok.clone());
            edit(&mut s);
            let err = s.validate().unwrap_err().to_string();
            assert!(err.contains(says), "{err}");
        };
        refused(&|s| s.studies.clear(), "at least one study");
        refused(&|s| s.children_detection_ratio = 0.0, "must be positive");
        refused(
            &|s| s.children_detection_ratio = f64::NAN,
            "must be positive",
        );
        refused(
            &|s| s.children_ratio_alternatives.push(-1.0),
            "must be positive",
        );
    }

    /// A study has exactly one source, and a published interval must be ordered around a
    /// positive multiplier; each refusal names the study.
    #[test]
    fn a_study_has_one_source_and_an_ordered_interval() {
        let study = |v: serde_json::Value| serde_json::from_value::<Study>(v).unwrap();
        assert!(matches!(
            study(published(2.0, 1.0, 4.0)).source(),
            Ok(Source::Published(_))
        ));
        for (m, lo, hi) in [(2.0, 0.0, 4.0), (0.5, 1.0, 4.0), (5.0, 1.0, 4.0)] {
            let err = study(published(m, lo, hi))
                .source()
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains("study s: published multiplier needs"), "{err}");
        }
        let mut neither = study(published(2.0, 1.0, 4.0));
        neither.published = None;
        let err = neither.source().err().unwrap().to_string();
        assert!(err.contains("study s: give exactly one"), "{err}");
    }
}
