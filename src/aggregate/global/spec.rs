//! The job's `aggregate` section as it is read from JSON — identified counts, studies,
//! units, pooling model, children's detection ratio, Monte Carlo sizes — and the checks made
//! on it before anything is computed. The bottom of `global`: every other file there reads
//! these types, none of them is read here.

use crate::aggregate::meta::Tau2Method;
use crate::checked::{Level, Replicates};
use crate::data::source::DataSpec;
use crate::error::{Error, Result};
use crate::methods::{Method, MethodId};
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

/// Where a study's multiplier comes from.
pub(super) enum Source<'a> {
    /// A published summary.
    Published(&'a Published),
    /// A table to estimate here.
    Live(&'a DataSpec),
}

impl Study {
    /// The study's one source. `AggregateSpec::check` has refused a study with both or
    /// neither before anything is measured; the error here only keeps the match total.
    pub(super) fn source(&self) -> Result<Source<'_>> {
        match (&self.published, &self.data) {
            (Some(p), None) => Ok(Source::Published(p)),
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
    /// A sensitivity row per candidate procedure of the simulation grid, every live study
    /// measured by it (default true; each row runs every live study again).
    #[serde(default = "default_procedure_rows", skip_serializing_if = "is_true")]
    pub procedure_rows: bool,
}

fn default_procedure_rows() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// Most people a count may hold: 10¹⁰, above the world's population (about 8.2 × 10⁹), so a
/// larger count is a typo, not data.
pub const MAX_PEOPLE: f64 = 1e10;
/// Largest multiplier a published study may state (or an end of its interval): 10⁴, one
/// victim in ten thousand identified, far beyond what any study has found.
pub const MAX_MULTIPLIER: f64 = 1e4;
/// Lowest level of a published interval: below 50% the spread read from it grows without
/// bound (the interval's width is divided by the level's normal quantile, 0 at level 0).
pub const MIN_PUBLISHED_LEVEL: f64 = 0.5;
/// The children's detection ratio ρ (and each alternative) lies in this range: children found
/// from a hundredth as often as adults to a hundred times as often.
pub const RHO_RANGE: (f64, f64) = (0.01, 100.0);
/// Fewest Monte Carlo draws of the total.
pub const MIN_DRAWS: usize = 1000;
/// Draws that must lie beyond each end of the total's interval at the job's level, so that
/// its ends rest on more than a handful of draws (1,000 draws at 95%).
pub const DRAWS_BEYOND_EACH_END: f64 = 25.0;
/// Most Monte Carlo draws: a million pin the interval's ends far below any other
/// uncertainty; more would only fill memory (each draw is kept until it is summarised).
pub const MAX_DRAWS: usize = 1_000_000;
/// Fewest bootstrap replicates of a live study (the variance of log M comes from them).
pub const MIN_STUDY_BOOTSTRAP: usize = 200;
/// Replicates that must lie beyond each end of a live study's interval at the job's level.
pub const STUDY_BOOTSTRAP_BEYOND_EACH_END: f64 = 10.0;
/// Most bootstrap replicates of a live study: each one repeats the study's model choice.
pub const MAX_STUDY_BOOTSTRAP: usize = 100_000;

/// A number for a message: in full from 10⁻⁶ to 10¹⁵, in exponent form beyond, so that an
/// absurd value does not print as three hundred digits.
fn num(x: f64) -> String {
    if x != 0.0 && !(1e-6..1e15).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// The least n with n · (1 − level) / 2 ≥ `beyond` (at least `floor`): enough draws for
/// `beyond` of them to lie outside each end of a central interval at `level`. The small
/// allowance keeps 1 − 0.9 = 0.09999… from asking for one draw more.
fn enough_for(level: f64, beyond: f64, floor: usize) -> usize {
    let n = (2.0 * beyond / (1.0 - level) - 1e-9).ceil();
    // level < 1 and beyond is a small constant, so n is finite and positive.
    floor.max(n as usize)
}

impl Count {
    /// The lowest and highest values the count can take (an exact count is both).
    pub fn ends(&self) -> (f64, f64) {
        match *self {
            Count::Exact(x) => (x, x),
            Count::Range { lower, upper } => (lower, upper),
        }
    }

    /// A count of people at `path`: whole numbers from 0 to `MAX_PEOPLE`, a range in order.
    fn check(&self, path: &str) -> Result<()> {
        let people = |x: f64, path: String| {
            if (0.0..=MAX_PEOPLE).contains(&x) && x.fract() == 0.0 {
                Ok(())
            } else {
                Err(Error::at(
                    path,
                    format!(
                        "expected a whole number of people from 0 to {} (10¹⁰, more than the world's population), found {}",
                        MAX_PEOPLE as u64,
                        num(x)
                    ),
                ))
            }
        };
        match *self {
            Count::Exact(x) => people(x, path.to_string()),
            Count::Range { lower, upper } => {
                people(lower, format!("{path}.lower"))?;
                people(upper, format!("{path}.upper"))?;
                if lower > upper {
                    return Err(Error::at(
                        path,
                        format!(
                            "expected lower ≤ upper, found a range from {} down to {}",
                            num(lower),
                            num(upper)
                        ),
                    ));
                }
                Ok(())
            }
        }
    }
}

impl Published {
    /// A published multiplier at `path`: M and both ends from 1 (the total includes the
    /// identified) to `MAX_MULTIPLIER`, lower ≤ M ≤ upper with lower < upper, and a level
    /// of at least `MIN_PUBLISHED_LEVEL`.
    fn check(&self, path: &str) -> Result<()> {
        for (field, v) in [
            ("multiplier", self.multiplier),
            ("lower", self.lower),
            ("upper", self.upper),
        ] {
            if !(1.0..=MAX_MULTIPLIER).contains(&v) {
                return Err(Error::at(
                    format!("{path}.{field}"),
                    format!(
                        "expected a multiplier from 1 to {} (total / identified is at least 1: the total includes the identified), found {}",
                        MAX_MULTIPLIER,
                        num(v)
                    ),
                ));
            }
        }
        let (m, lo, hi) = (self.multiplier, self.lower, self.upper);
        if lo > m {
            return Err(Error::at(
                format!("{path}.lower"),
                format!("expected lower ≤ multiplier, found lower {lo} above the multiplier {m}"),
            ));
        }
        if hi < m {
            return Err(Error::at(
                format!("{path}.upper"),
                format!("expected upper ≥ multiplier, found upper {hi} below the multiplier {m}"),
            ));
        }
        if lo == hi {
            return Err(Error::at(
                format!("{path}.upper"),
                format!(
                    "expected an interval with some width, found lower = upper = {lo}: a multiplier known exactly would outweigh every other study"
                ),
            ));
        }
        if self.level.get() < MIN_PUBLISHED_LEVEL {
            return Err(Error::at(
                format!("{path}.level"),
                format!(
                    "expected the level of the published interval from {MIN_PUBLISHED_LEVEL} to below 1, found {}: the narrower the level, the wider the spread read from the same interval, without bound",
                    self.level
                ),
            ));
        }
        Ok(())
    }
}

/// The name at `path` is not blank and not among `earlier` (the names before it, with
/// their paths).
fn unique_name<'a>(
    name: &'a str,
    path: &str,
    earlier: &mut Vec<(&'a str, String)>,
    what: &str,
) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::at(
            path,
            format!("expected the {what}'s name, found a blank"),
        ));
    }
    if let Some((_, other)) = earlier.iter().find(|(n, _)| *n == name) {
        return Err(Error::at(
            path,
            format!("the name \"{name}\" is already used by {other}: each {what} needs its own"),
        ));
    }
    earlier.push((name, path.to_string()));
    Ok(())
}

/// Two live studies with the same table (an inline table's lists and rows, or a file's
/// path): the same study listed twice, which would count as two and narrow the interval.
fn same_table(a: &DataSpec, b: &DataSpec) -> bool {
    match (a, b) {
        (
            DataSpec::Inline {
                lists: la,
                rows: ra,
                ..
            },
            DataSpec::Inline {
                lists: lb,
                rows: rb,
                ..
            },
        ) => la == lb && ra == rb,
        (DataSpec::File { file: fa, .. }, DataSpec::File { file: fb, .. }) => fa == fb,
        _ => false,
    }
}

impl AggregateSpec {
    /// Every rule the section must keep before anything is computed, at `level` (the job's):
    /// each broken rule is an `Error::At` naming the JSON path of the value at fault. The
    /// limits are the constants above; `docs/wire.md` lists them.
    pub fn check(&self, level: Level) -> Result<()> {
        self.check_identified()?;
        self.check_studies()?;
        self.check_units()?;
        self.check_ratios()?;
        self.check_sizes(level.get())
    }

    /// The identified counts, and the children within the total in every draw: the two are
    /// drawn independently, so the children's highest value must not pass the total's
    /// lowest.
    fn check_identified(&self) -> Result<()> {
        let id = &self.identified;
        id.total.check("aggregate.identified.total")?;
        let Some(children) = &id.children else {
            return Ok(());
        };
        children.check("aggregate.identified.children")?;
        let (_, top) = children.ends();
        let (floor, _) = id.total.ends();
        if top > floor {
            let why = match (children, &id.total) {
                (Count::Exact(_), Count::Exact(_)) => format!(
                    "expected no more identified children than identified people, found {} children of {}",
                    num(top),
                    num(floor)
                ),
                _ => format!(
                    "expected the children's count to end at or below the start of the total's ({}), found it reaching {}: both are drawn within their ranges, and no draw may have more children than people",
                    num(floor),
                    num(top)
                ),
            };
            return Err(Error::at("aggregate.identified.children", why));
        }
        Ok(())
    }

    /// The units: named once each, counts of people, a study that is listed, and together
    /// the identified total — the total behind them is summed unit by unit while the
    /// headline reports the identified total, so the two must be the same people.
    fn check_units(&self) -> Result<()> {
        if self.units.is_empty() {
            return Ok(());
        }
        let mut names = Vec::new();
        let (mut low, mut high) = (0.0, 0.0);
        for (i, u) in self.units.iter().enumerate() {
            let path = format!("aggregate.units[{i}]");
            unique_name(&u.name, &format!("{path}.name"), &mut names, "unit")?;
            u.identified.check(&format!("{path}.identified"))?;
            if let Some(n) = &u.study
                && !self.studies.iter().any(|s| &s.name == n)
            {
                return Err(Error::at(
                    format!("{path}.study"),
                    format!(
                        "unit {}: names the study \"{n}\", which is not among aggregate.studies",
                        u.name
                    ),
                ));
            }
            let (a, b) = u.identified.ends();
            low += a;
            high += b;
        }
        // Whole numbers up to 10¹⁰ each: the sums are exact.
        let (tl, th) = self.identified.total.ends();
        if (low, high) != (tl, th) {
            let range = |a: f64, b: f64| {
                if a == b {
                    num(a)
                } else {
                    format!("{} to {}", num(a), num(b))
                }
            };
            return Err(Error::at(
                "aggregate.units",
                format!(
                    "expected the units' identified counts to add up to the identified total ({}), found {}: the units split the identified total (lower ends adding up to its lower end, upper ends to its upper end)",
                    range(tl, th),
                    range(low, high)
                ),
            ));
        }
        Ok(())
    }

    /// The studies: at least one, named once each, exactly one source; a published one
    /// within its bounds, a live one with a method the bootstrap can repeat and a table no
    /// other study has.
    fn check_studies(&self) -> Result<()> {
        if self.studies.is_empty() {
            return Err(Error::at(
                "aggregate.studies",
                "expected at least one study, found none",
            ));
        }
        let mut names = Vec::new();
        for (i, st) in self.studies.iter().enumerate() {
            let path = format!("aggregate.studies[{i}]");
            unique_name(&st.name, &format!("{path}.name"), &mut names, "study")?;
            match (&st.published, &st.data) {
                (Some(p), None) => {
                    p.check(&format!("{path}.published"))?;
                    if st.method.is_some() {
                        return Err(Error::at(
                            format!("{path}.method"),
                            "expected no method for a published study (its multiplier is given), found one",
                        ));
                    }
                }
                (None, Some(d)) => {
                    let id = st.method.unwrap_or(MethodId::Stepwise);
                    if !live_ids().contains(&id.as_str()) {
                        return Err(Error::at(
                            format!("{path}.method"),
                            format!(
                                "expected a method whose interval carries its model choice with its defaults (a live study's variance comes from it): one of {}, found {id}",
                                live_ids().join(", ")
                            ),
                        ));
                    }
                    let twin = self.studies[..i]
                        .iter()
                        .position(|o| o.data.as_ref().is_some_and(|od| same_table(od, d)));
                    if let Some(j) = twin {
                        return Err(Error::at(
                            format!("{path}.data"),
                            format!(
                                "expected each study once, found the table of aggregate.studies[{j}] (\"{}\") again: a study listed twice counts as two and narrows the interval",
                                self.studies[j].name
                            ),
                        ));
                    }
                }
                _ => {
                    return Err(Error::at(
                        path,
                        format!(
                            "study {}: expected exactly one of `data` (a table estimated here) and `published` (a stated multiplier)",
                            st.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// ρ and its alternatives: in `RHO_RANGE`, the alternatives each once, and none so
    /// small that the children's total (identified children × M / ρ) would pass the total
    /// (identified × M) in some draw — which needs children ≤ ρ · identified.
    fn check_ratios(&self) -> Result<()> {
        let ratios = std::iter::once((
            "aggregate.children_detection_ratio".to_string(),
            self.children_detection_ratio,
        ))
        .chain(
            self.children_ratio_alternatives
                .iter()
                .enumerate()
                .map(|(j, &r)| (format!("aggregate.children_ratio_alternatives[{j}]"), r)),
        );
        let (lo, hi) = RHO_RANGE;
        let mut seen: Vec<f64> = Vec::new();
        for (j, (path, r)) in ratios.enumerate() {
            if !(lo..=hi).contains(&r) {
                return Err(Error::at(
                    path,
                    format!(
                        "expected a ratio from {lo} to {hi} (children detected from a hundredth as often as adults to a hundred times as often), found {}",
                        num(r)
                    ),
                ));
            }
            if j > 0 && seen[1..].contains(&r) {
                return Err(Error::at(
                    path,
                    format!("expected each alternative once, found {r} twice"),
                ));
            }
            seen.push(r);
            let Some(children) = &self.identified.children else {
                continue;
            };
            let (_, top) = children.ends();
            let (floor, _) = self.identified.total.ends();
            if top > r * floor {
                // Rounded up, so that the value given passes.
                let least = (top / floor * 1000.0).ceil() / 1000.0;
                return Err(Error::at(
                    path,
                    format!(
                        "expected a ratio of at least the children's share of the identified, {least}, found {r}: with children found {r}× as often as adults, {} identified children stand for more children than there are people behind the {} identified{}",
                        num(top),
                        num(floor),
                        if j > 0 {
                            " (the alternatives are 0.5, 0.75 and 1.5 unless the job gives its own)"
                        } else {
                            ""
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The Monte Carlo sizes at the job's `level`: enough draws beyond each end of the
    /// interval and no more than the maximum; the study bootstrap only when a study is live.
    fn check_sizes(&self, level: f64) -> Result<()> {
        // `least` is `floor` or more, raised to keep `beyond` draws past each end.
        let size = |path: &str, n: usize, [least, most]: [usize; 2], beyond: f64, floor: usize| {
            let what = if path.ends_with("draws") {
                "draws"
            } else {
                "bootstrap replicates"
            };
            if n < least {
                return Err(Error::at(
                    path,
                    format!(
                        "expected at least {least} {what} (at least {floor}, and {beyond} beyond each end of an interval at the job's level {level}), found {n}"
                    ),
                ));
            }
            if n > most {
                return Err(Error::at(
                    path,
                    format!("expected at most {most} {what}, found {n}"),
                ));
            }
            Ok(())
        };
        let least = enough_for(level, DRAWS_BEYOND_EACH_END, MIN_DRAWS);
        size(
            "aggregate.draws",
            self.draws.get(),
            [least, MAX_DRAWS],
            DRAWS_BEYOND_EACH_END,
            MIN_DRAWS,
        )?;
        if self.studies.iter().any(|s| s.data.is_some()) {
            let least = enough_for(level, STUDY_BOOTSTRAP_BEYOND_EACH_END, MIN_STUDY_BOOTSTRAP);
            size(
                "aggregate.study_bootstrap",
                self.study_bootstrap.get(),
                [least, MAX_STUDY_BOOTSTRAP],
                STUDY_BOOTSTRAP_BEYOND_EACH_END,
                MIN_STUDY_BOOTSTRAP,
            )?;
        }
        Ok(())
    }
}

/// The methods a live study may use: `recommended`, `pooled` (whose families carry the
/// model choice), and those the bootstrap repeats that need no option.
fn live_ids() -> Vec<&'static str> {
    let mut ids = vec![MethodId::Recommended.as_str(), MethodId::Pooled.as_str()];
    ids.extend(
        MethodId::bootstrappable_ids()
            .into_iter()
            .filter(|id| MethodId::parse(id).is_ok_and(|m| Method::plain(m).is_ok())),
    );
    ids
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

    /// A section that keeps every rule: children within the total, units adding up to it,
    /// a published and a live study, sizes at their minimum for 95%.
    fn valid() -> serde_json::Value {
        serde_json::json!({
            "identified": {"total": 1000, "children": 200, "source": "x"},
            "studies": [
                published(5.0, 4.0, 6.0),
                {"name": "l", "citation": "c",
                 "data": {"lists": ["A", "B"], "rows": [[1, 0, 60], [0, 1, 40], [1, 1, 20]]}}
            ],
            "units": [{"name": "a", "identified": 600, "study": "s"}, {"name": "b", "identified": 400}],
            "draws": 1000, "study_bootstrap": 400
        })
    }

    /// `v` with the value at JSON pointer `at` set to `x` (a missing key is added, `null`
    /// removes it).
    fn with(mut v: serde_json::Value, at: &str, x: serde_json::Value) -> serde_json::Value {
        let (parent, key) = at.rsplit_once('/').unwrap();
        match v.pointer_mut(parent).unwrap() {
            serde_json::Value::Object(o) if x.is_null() => {
                o.remove(key);
            }
            serde_json::Value::Object(o) => {
                o.insert(key.into(), x);
            }
            serde_json::Value::Array(a) => a[key.parse::<usize>().unwrap()] = x,
            _ => panic!("{at}"),
        }
        v
    }

    /// The error `check` gives at `level`, as (path, message); a section that passes panics.
    fn refusal(v: serde_json::Value, level: f64) -> (String, String) {
        let s: AggregateSpec = from_json(v);
        match s.check(Level::try_from(level).unwrap()) {
            Err(Error::At { path, message }) => (path, message),
            other => panic!("expected Error::At, got {other:?}"),
        }
    }

    /// Asserts that `v` is refused at 95% at exactly `path`, with `says` in the message.
    fn refused(v: serde_json::Value, path: &str, says: &str) {
        let (p, m) = refusal(v, 0.95);
        assert_eq!(p, path, "{m}");
        assert!(m.contains(says), "{path}: {m}");
    }

    fn passes(v: serde_json::Value, level: f64) {
        let s: AggregateSpec = from_json(v);
        if let Err(e) = s.check(Level::try_from(level).unwrap()) {
            panic!("{e}");
        }
    }

    /// The valid section passes, and so do its edge cases: the sizes at their minimum, a
    /// multiplier of exactly 1, counts of 0 and of 10¹⁰, ranges that touch, units given as
    /// ranges whose ends add up to the total's.
    #[test]
    fn a_section_that_keeps_every_rule_passes() {
        passes(valid(), 0.95);
        let at_99 = with(valid(), "/study_bootstrap", 2000.into());
        passes(with(at_99, "/draws", 5000.into()), 0.99);
        passes(with(valid(), "/study_bootstrap", 200.into()), 0.5);
        let one = with(valid(), "/studies/0", published(1.0, 1.0, 1.5).clone());
        passes(one, 0.95);
        let nothing = serde_json::json!({"identified": {"total": 0, "children": 0, "source": "x"},
            "studies": [published(2.0, 1.0, 4.0)], "draws": 1000});
        passes(nothing, 0.95);
        let most = serde_json::json!({"identified": {"total": 1e10, "source": "x"},
            "studies": [published(1e4, 1e3, 1e4)], "draws": 1_000_000});
        passes(most, 0.95);
        let ranges = with(
            with(
                valid(),
                "/identified",
                serde_json::json!({"total": {"lower": 900, "upper": 1100},
                    "children": {"lower": 100, "upper": 450}, "source": "x"}),
            ),
            "/units/1/identified",
            serde_json::json!({"lower": 300, "upper": 500}),
        );
        passes(ranges, 0.95);
        // The study bootstrap is only checked when a study is estimated here.
        let published_only = with(
            with(valid(), "/studies/1", published(3.0, 2.0, 4.0)),
            "/study_bootstrap",
            1.into(),
        );
        let published_only = with(published_only, "/studies/1/name", "t".into());
        passes(published_only, 0.95);
    }

    /// Identified counts are whole numbers of people from 0 to 10¹⁰, a range in order; each
    /// refusal names the value (or the range's end) at fault.
    #[test]
    fn identified_counts_are_people_in_range() {
        let total = "/identified/total";
        let at = "aggregate.identified.total";
        refused(with(valid(), total, (-5).into()), at, "found -5");
        refused(with(valid(), total, 1e308.into()), at, "found 1e308");
        refused(with(valid(), total, 2.5.into()), at, "whole number");
        refused(
            with(
                valid(),
                total,
                serde_json::json!({"lower": 200000, "upper": 100000}),
            ),
            at,
            "from 200000 down to 100000",
        );
        refused(
            with(
                valid(),
                total,
                serde_json::json!({"lower": -100, "upper": 100}),
            ),
            "aggregate.identified.total.lower",
            "found -100",
        );
        refused(
            with(
                valid(),
                total,
                serde_json::json!({"lower": 100, "upper": 2e10}),
            ),
            "aggregate.identified.total.upper",
            "more than the world's population",
        );
        refused(
            with(valid(), "/identified/children", (-1).into()),
            "aggregate.identified.children",
            "found -1",
        );
    }

    /// No draw may have more children than people: exact counts compare directly, and a
    /// range of children must end at or below the start of the total's.
    #[test]
    fn children_stay_within_the_total_in_every_draw() {
        let at = "aggregate.identified.children";
        refused(
            with(valid(), "/identified/children", 5000.into()),
            at,
            "found 5000 children of 1000",
        );
        let no_alternatives = with(
            valid(),
            "/children_ratio_alternatives",
            serde_json::json!([]),
        );
        passes(
            with(no_alternatives.clone(), "/identified/children", 1000.into()),
            0.95,
        );
        refused(
            with(
                valid(),
                "/identified/children",
                serde_json::json!({"lower": 100, "upper": 1001}),
            ),
            at,
            "reaching 1001",
        );
        let total_range = with(
            with(no_alternatives.clone(), "/units", serde_json::Value::Null),
            "/identified/total",
            serde_json::json!({"lower": 900, "upper": 1100}),
        );
        refused(
            with(total_range.clone(), "/identified/children", 950.into()),
            at,
            "at or below the start of the total's (900)",
        );
        passes(with(total_range, "/identified/children", 900.into()), 0.95);
    }

    /// Units are named once each, hold counts of people and listed studies, and add up to
    /// the identified total, end by end.
    #[test]
    fn units_split_the_identified_total() {
        refused(
            with(valid(), "/units/1/identified", 30.into()),
            "aggregate.units",
            "add up to the identified total (1000), found 630",
        );
        refused(
            with(
                valid(),
                "/units/1/identified",
                serde_json::json!({"lower": 300, "upper": 500}),
            ),
            "aggregate.units",
            "found 900 to 1100",
        );
        refused(
            with(valid(), "/units/1/identified", (-4).into()),
            "aggregate.units[1].identified",
            "found -4",
        );
        refused(
            with(valid(), "/units/1/name", "a".into()),
            "aggregate.units[1].name",
            "already used by aggregate.units[0].name",
        );
        refused(
            with(valid(), "/units/0/name", " ".into()),
            "aggregate.units[0].name",
            "found a blank",
        );
        refused(
            with(valid(), "/units/0/study", "nowhere".into()),
            "aggregate.units[0].study",
            "\"nowhere\", which is not among aggregate.studies",
        );
    }

    /// Studies: at least one, each named once, with exactly one source, a live one with a
    /// method the bootstrap repeats and a table of its own, a published one with no method.
    #[test]
    fn studies_are_distinct_and_have_one_usable_source() {
        refused(
            with(valid(), "/studies", serde_json::json!([])),
            "aggregate.studies",
            "at least one study",
        );
        refused(
            with(valid(), "/studies/1/name", "s".into()),
            "aggregate.studies[1].name",
            "already used by aggregate.studies[0].name",
        );
        refused(
            with(valid(), "/studies/1/name", "".into()),
            "aggregate.studies[1].name",
            "blank",
        );
        let table = valid()["studies"][1]["data"].clone();
        refused(
            with(valid(), "/studies/0/data", table.clone()),
            "aggregate.studies[0]",
            "study s: expected exactly one of `data`",
        );
        refused(
            with(valid(), "/studies/0/published", serde_json::Value::Null),
            "aggregate.studies[0]",
            "exactly one",
        );
        refused(
            with(valid(), "/studies/0/method", "main".into()),
            "aggregate.studies[0].method",
            "no method for a published study",
        );
        for m in ["dga", "loglinear", "petersen"] {
            refused(
                with(valid(), "/studies/1/method", m.into()),
                "aggregate.studies[1].method",
                &format!("found {m}"),
            );
        }
        passes(with(valid(), "/studies/1/method", "bic".into()), 0.95);
        let mut twice = valid();
        let mut copy = twice["studies"][1].clone();
        copy["name"] = "l again".into();
        copy["data"]["source"] = "elsewhere".into();
        twice["studies"].as_array_mut().unwrap().push(copy);
        refused(
            twice,
            "aggregate.studies[2].data",
            "the table of aggregate.studies[1] (\"l\") again",
        );
    }

    /// A published multiplier and both ends lie from 1 to 10⁴, in order around M with some
    /// width, at a level of at least one half.
    #[test]
    fn a_published_multiplier_is_at_least_one_and_bounded() {
        let at = "aggregate.studies[0].published";
        let p = |m: f64, lo: f64, hi: f64| with(valid(), "/studies/0", published(m, lo, hi));
        refused(p(0.5, 1.0, 4.0), &format!("{at}.multiplier"), "found 0.5");
        refused(
            p(1e300, 1.0, 4.0),
            &format!("{at}.multiplier"),
            "found 1e300",
        );
        refused(p(2.0, 0.9, 4.0), &format!("{at}.lower"), "from 1 to 10000");
        refused(p(2.0, 1.0, 2e4), &format!("{at}.upper"), "found 20000");
        refused(
            p(2.0, 3.0, 4.0),
            &format!("{at}.lower"),
            "lower 3 above the multiplier 2",
        );
        refused(
            p(5.0, 1.0, 4.0),
            &format!("{at}.upper"),
            "upper 4 below the multiplier 5",
        );
        refused(
            p(5.0, 5.0, 5.0),
            &format!("{at}.upper"),
            "lower = upper = 5",
        );
        refused(
            with(valid(), "/studies/0/published/level", 0.3.into()),
            &format!("{at}.level"),
            "found 0.3",
        );
        passes(
            with(valid(), "/studies/0/published/level", 0.5.into()),
            0.95,
        );
    }

    /// ρ and each alternative lie from 0.01 to 100, the alternatives once each, and none
    /// below the children's share of the identified (200 / 1000 here), which would put more
    /// children than people behind the identified.
    #[test]
    fn childrens_detection_ratios_are_bounded_and_consistent() {
        let rho = "aggregate.children_detection_ratio";
        for r in [0.0, 1e-300, 1000.0, -1.0] {
            refused(
                with(valid(), "/children_detection_ratio", r.into()),
                rho,
                "from 0.01 to 100",
            );
        }
        refused(
            with(valid(), "/children_detection_ratio", 0.1.into()),
            rho,
            "at least the children's share of the identified, 0.2, found 0.1",
        );
        passes(with(valid(), "/children_detection_ratio", 0.2.into()), 0.95);
        refused(
            with(
                valid(),
                "/children_ratio_alternatives",
                serde_json::json!([0.5, 0.15]),
            ),
            "aggregate.children_ratio_alternatives[1]",
            "found 0.15",
        );
        refused(
            with(
                valid(),
                "/children_ratio_alternatives",
                serde_json::json!([0.5, 0.5]),
            ),
            "aggregate.children_ratio_alternatives[1]",
            "found 0.5 twice",
        );
        refused(
            with(
                valid(),
                "/children_ratio_alternatives",
                serde_json::json!([200]),
            ),
            "aggregate.children_ratio_alternatives[0]",
            "found 200",
        );
        // Without children the share does not apply.
        let none = with(valid(), "/identified/children", serde_json::Value::Null);
        passes(with(none, "/children_detection_ratio", 0.01.into()), 0.95);
    }

    /// Draws and the study bootstrap have a floor, enough beyond each end of the interval
    /// at the job's level, and a ceiling.
    #[test]
    fn monte_carlo_sizes_have_a_floor_by_level_and_a_ceiling() {
        refused(
            with(valid(), "/draws", 1.into()),
            "aggregate.draws",
            "at least 1000 draws",
        );
        refused(
            with(valid(), "/draws", 999.into()),
            "aggregate.draws",
            "found 999",
        );
        let (p, m) = refusal(with(valid(), "/draws", 4999.into()), 0.99);
        assert!(
            p == "aggregate.draws" && m.contains("at least 5000 draws"),
            "{m}"
        );
        refused(
            with(valid(), "/draws", 1_000_001.into()),
            "aggregate.draws",
            "at most 1000000 draws",
        );
        refused(
            with(valid(), "/study_bootstrap", 399.into()),
            "aggregate.study_bootstrap",
            "at least 400 bootstrap replicates",
        );
        refused(
            with(valid(), "/study_bootstrap", 100_001.into()),
            "aggregate.study_bootstrap",
            "at most 100000",
        );
        let (p, m) = refusal(with(valid(), "/study_bootstrap", 199.into()), 0.5);
        assert!(
            p == "aggregate.study_bootstrap" && m.contains("at least 200"),
            "{m}"
        );
    }

    /// The least size keeps `beyond` draws past each end: 2·25/(1 − level), not one more
    /// for the rounding of 1 − level, and never below the floor.
    #[test]
    fn enough_draws_for_each_level() {
        for (level, want) in [
            (0.5, 1000),
            (0.9, 1000),
            (0.95, 1000),
            (0.99, 5000),
            (0.999, 50_000),
        ] {
            assert_eq!(enough_for(level, 25.0, 1000), want, "{level}");
        }
        assert_eq!(enough_for(0.9, 25.0, 1), 500);
        assert_eq!(enough_for(0.95, 10.0, 200), 400);
    }

    /// A study's source is its published summary or its table.
    #[test]
    fn a_study_has_one_source() {
        let study = |v: serde_json::Value| serde_json::from_value::<Study>(v).unwrap();
        assert!(matches!(
            study(published(2.0, 1.0, 4.0)).source(),
            Ok(Source::Published(_))
        ));
        let mut neither = study(published(2.0, 1.0, 4.0));
        neither.published = None;
        let err = neither.source().err().unwrap().to_string();
        assert!(err.contains("study s: give exactly one"), "{err}");
    }

    /// Absurd numbers are written with an exponent, ordinary ones in full.
    #[test]
    fn messages_write_huge_numbers_with_an_exponent() {
        assert_eq!(num(-5.0), "-5");
        assert_eq!(num(125000.0), "125000");
        assert_eq!(num(1e300), "1e300");
        assert_eq!(num(1e-300), "1e-300");
        assert_eq!((num(0.0), num(0.25)), ("0".into(), "0.25".into()));
    }
}
