//! The extrapolation's assumptions and caveats in words, as the result and the reports
//! carry them, and the names of the pooling models that the sensitivity rows share. Reads
//! the section and the default pooling only; the last step of `run`.

use super::spec::{AggregateSpec, Count};
use crate::aggregate::meta::{Pooled, Tau2Method};

/// The pooling model as the assumptions and the sensitivity rows name it.
pub fn pooling_name(m: Tau2Method) -> &'static str {
    match m {
        Tau2Method::Fixed => "common-effect",
        Tau2Method::Dl => "DerSimonian-Laird",
        Tau2Method::Reml => "REML",
    }
}

fn fmt_count(c: &Count) -> String {
    count_words(c, &|x| format!("{x:.0}"))
}

/// A count in words, each number written by `number` (the reports pass one that hides a
/// small count).
pub fn count_words(c: &Count, number: &dyn Fn(f64) -> String) -> String {
    match *c {
        Count::Exact(x) => number(x),
        Count::Range { lower, upper } => format!("{} to {}", number(lower), number(upper)),
    }
}

/// The assumption that names the identified count (given in words), the first of them.
pub fn identified_assumption(count: &str, source: &str) -> String {
    format!("The identified count ({count}) is the starting point: {source}")
}

/// The caveat of units whose counts (given in words) do not add up to the total.
pub fn units_caveat(sum: &str, total: &str) -> String {
    format!(
        "The units' identified counts add up to {sum}, not to the identified total {total}; the total is the sum over the units."
    )
}

/// Every assumption the numbers rest on, naming the inputs that carry it.
pub fn assumptions(spec: &AggregateSpec) -> Vec<String> {
    vec![
        identified_assumption(&fmt_count(&spec.identified.total), &spec.identified.source),
        format!("The dark-figure multiplier M = total / identified of a place without its own study is drawn from the {} random-effects meta-analysis of the {} studies listed (log M normal, τ² estimated from their spread).", pooling_name(spec.model), spec.studies.len()),
        "Published multipliers are read as log-normal with their stated interval; live studies use their bootstrap draws (model choice repeated).".into(),
        format!("Children are detected {}× as often as adults (ρ = {}): their multiplier is M / ρ.", spec.children_detection_ratio, spec.children_detection_ratio),
        "An identified count given as a range is drawn uniformly within it.".into(),
    ]
}

/// What the numbers cannot say; the caveats this section's own inputs raise (units not
/// adding up, a between-study variance of 0 from few studies) come first.
pub fn caveats(spec: &AggregateSpec, pooled: &Pooled) -> Vec<String> {
    let mut caveats = vec![
        "A multiplier transfers only as far as the detection systems resemble each other: the studies come from a few countries whose police, NGOs and services find victims in their own ways.".into(),
        "The identified count is cumulative over years and places; the total is on the same footing, not a number of people at one time.".into(),
        "Each study assumes a closed population and lists whose dependence the chosen model captures; where that fails the multiplier is biased, usually downwards.".into(),
    ];
    if !spec.units.is_empty() {
        let sum: f64 = spec.units.iter().map(|u| u.identified.middle()).sum();
        let tot = spec.identified.total.middle();
        if (sum - tot).abs() > 0.01 * tot {
            caveats.insert(0, units_caveat(&format!("{sum:.0}"), &format!("{tot:.0}")));
        }
    }
    if pooled.tau2 == 0.0 && pooled.k < 10 && spec.model != Tau2Method::Fixed {
        caveats.insert(
            0,
            format!(
                "The {} studies differ by no more than their own uncertainty, so the between-study variance is estimated at 0; with so few studies that estimate is imprecise and the interval may be too narrow — see the DerSimonian-Laird row of the sensitivity table.",
                pooled.k
            ),
        );
    }
    caveats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::global::fixtures::{from_json, pooled};

    const STUDY: &str = r#"{"name": "s", "citation": "c", "published": {"multiplier": 2, "lower": 1, "upper": 4, "level": 0.95}}"#;

    /// Each input an assumption rests on appears in it: the identified count (exact, or as
    /// a range) and its source, the pooling model and the number of studies, and ρ.
    #[test]
    fn the_assumptions_name_every_input() {
        let study: serde_json::Value = serde_json::from_str(STUDY).unwrap();
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 125000, "source": "IOM counts"},
            "studies": [study.clone(), study.clone(), study], "model": "dl",
            "children_detection_ratio": 0.75
        }));
        let a = assumptions(&s);
        assert_eq!(a.len(), 5);
        assert!(
            a[0].contains("(125000)") && a[0].ends_with("IOM counts"),
            "{}",
            a[0]
        );
        assert!(a[1].contains("DerSimonian-Laird random-effects") && a[1].contains(" 3 studies"));
        assert!(
            a[3].contains("0.75× as often") && a[3].contains("ρ = 0.75"),
            "{}",
            a[3]
        );
        let mut r = s.clone();
        r.identified.total = Count::Range {
            lower: 1000.0,
            upper: 2500.4,
        };
        assert!(assumptions(&r)[0].contains("(1000 to 2500)"));
        for (m, name) in [
            (Tau2Method::Fixed, "common-effect"),
            (Tau2Method::Dl, "DerSimonian-Laird"),
            (Tau2Method::Reml, "REML"),
        ] {
            r.model = m;
            assert_eq!(pooling_name(m), name);
            assert!(assumptions(&r)[1].contains(&format!("the {name} random-effects")));
        }
    }

    /// The general caveats are always there (3); a between-study variance of 0 from fewer
    /// than 10 studies adds one in front unless the model fixed it at 0; units whose
    /// counts miss the identified total by more than 1% add one, behind that.
    #[test]
    fn the_caveats_follow_the_inputs() {
        let study: serde_json::Value = serde_json::from_str(STUDY).unwrap();
        let with_units = |a: f64, b: f64| -> AggregateSpec {
            from_json(serde_json::json!({
                "identified": {"total": 1000, "source": "x"}, "studies": [study.clone()],
                "units": [{"name": "a", "identified": a}, {"name": "b", "identified": {"lower": b - 10.0, "upper": b + 10.0}}]
            }))
        };
        let adds_up = with_units(600.0, 395.0);
        assert_eq!(caveats(&adds_up, &pooled(1.0, 0.1, 0.1, 3)).len(), 3);
        let short = with_units(600.0, 300.0);
        let c = caveats(&short, &pooled(1.0, 0.1, 0.1, 3));
        assert_eq!(c.len(), 4);
        assert!(
            c[0].contains("add up to 900, not to the identified total 1000"),
            "{}",
            c[0]
        );
        let c = caveats(&short, &pooled(1.0, 0.1, 0.0, 3));
        assert_eq!(c.len(), 5);
        assert!(c[0].starts_with("The 3 studies differ") && c[1].contains("add up to 900"));
        assert_eq!(caveats(&adds_up, &pooled(1.0, 0.1, 0.0, 10)).len(), 3);
        let mut fixed = adds_up;
        fixed.model = Tau2Method::Fixed;
        assert_eq!(caveats(&fixed, &pooled(1.0, 0.1, 0.0, 3)).len(), 3);
    }
}
