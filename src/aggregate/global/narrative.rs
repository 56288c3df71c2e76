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

/// Every assumption the numbers rest on, naming the inputs that carry it.
pub fn assumptions(spec: &AggregateSpec) -> Vec<String> {
    vec![
        identified_assumption(&fmt_count(&spec.identified.total), &spec.identified.source),
        if spec.studies.len() == 1 {
            "The dark-figure multiplier M = total / identified of a place without its own study is drawn from the one study listed (log M normal with that study's uncertainty; one study shows no spread between places).".into()
        } else {
            format!("The dark-figure multiplier M = total / identified of a place without its own study is drawn from the {} random-effects meta-analysis of the {} studies listed (log M normal, τ² estimated from their spread).", pooling_name(spec.model), spec.studies.len())
        },
        "Each study's multiplier carries the interval of the estimate it comes from: for a study estimated here, its estimate's interval, which carries the model choice (darkfigure's recommended interval, or a bootstrap that repeats the choice), divided by the number identified in it; for a published study, its stated interval read as log-normal and restated at the job's level. The pooling reads that same interval as log-normal: the standard error of log M is the interval's width on the log scale over twice the normal quantile of the level.".into(),
        format!("Children are detected {}× as often as adults (ρ = {}): their multiplier is M / ρ.", spec.children_detection_ratio, spec.children_detection_ratio),
        "An identified count given as a range is drawn uniformly within it.".into(),
    ]
}

/// What the numbers cannot say; the caveat this section's own studies raise (too few to
/// see how far multipliers differ between places) comes first.
pub fn caveats(spec: &AggregateSpec, pooled: &Pooled) -> Vec<String> {
    let mut caveats = vec![
        "A multiplier transfers only as far as the detection systems resemble each other: the studies come from a few countries whose police, NGOs and services find victims in their own ways.".into(),
        "The identified count is cumulative over years and places; the total is on the same footing, not a number of people at one time.".into(),
        "Each study assumes a closed population and lists whose dependence the chosen model captures; where that fails the multiplier is biased, usually downwards.".into(),
    ];
    if let Some(c) = spread_caveat(spec.model, pooled) {
        caveats.insert(0, c);
    }
    caveats
}

/// The caveat on the between-study variance τ², if one applies. One study cannot show any
/// spread whatever the model; otherwise τ² estimated at 0 (not fixed at 0 by the
/// common-effect model) is a caveat below 10 studies, and a stronger one on a single
/// degree of freedom, where the sensitivity table's other model cannot do better. The row
/// named is the other random-effects model's, which the table always has.
fn spread_caveat(model: Tau2Method, pooled: &Pooled) -> Option<String> {
    if pooled.k == 1 {
        return Some("Only one study gives a multiplier, so how far multipliers differ from place to place cannot be estimated: the interval treats every place as if it had that study's multiplier, leaves that spread out, and is too narrow by an amount no one can tell.".into());
    }
    if pooled.tau2 != 0.0 || pooled.k >= 10 || model == Tau2Method::Fixed {
        return None;
    }
    if pooled.df <= 1 {
        return Some("Only two studies give multipliers, and they agree within their own uncertainty. Two studies cannot show how far multipliers differ from place to place: that spread is estimated at 0 and the interval leaves it out, so it may be far too narrow.".into());
    }
    let other = if model == Tau2Method::Dl {
        Tau2Method::Reml
    } else {
        Tau2Method::Dl
    };
    Some(format!(
        "The {} studies differ by no more than their own uncertainty, so the between-study variance is estimated at 0; with so few studies that estimate is imprecise and the interval may be too narrow — see the {} row of the sensitivity table.",
        pooled.k,
        pooling_name(other)
    ))
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

    /// The general caveats are always there (3). One study adds its own caveat in front
    /// whatever the model; a between-study variance estimated at 0 adds one in front below 10
    /// studies (unless the common-effect model fixed it at 0): on one degree of freedom the
    /// two-study words, else the words naming the other random-effects model's row.
    #[test]
    fn the_caveats_follow_the_inputs() {
        let study: serde_json::Value = serde_json::from_str(STUDY).unwrap();
        let mut s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 1000, "source": "x"}, "studies": [study]
        }));
        assert_eq!(caveats(&s, &pooled(1.0, 0.1, 0.1, 3)).len(), 3);
        assert_eq!(caveats(&s, &pooled(1.0, 0.1, 0.0, 10)).len(), 3);
        for model in [Tau2Method::Reml, Tau2Method::Dl, Tau2Method::Fixed] {
            s.model = model;
            let c = caveats(&s, &pooled(1.0, 0.1, 0.0, 1));
            assert_eq!(c.len(), 4);
            assert!(
                c[0].starts_with("Only one study gives a multiplier"),
                "{}",
                c[0]
            );
            assert!(c[0].contains("too narrow"));
        }
        assert_eq!(caveats(&s, &pooled(1.0, 0.1, 0.0, 3)).len(), 3);
        assert_eq!(caveats(&s, &pooled(1.0, 0.1, 0.0, 2)).len(), 3);
        for (model, row) in [
            (Tau2Method::Reml, "DerSimonian-Laird"),
            (Tau2Method::Dl, "REML"),
        ] {
            s.model = model;
            let c = caveats(&s, &pooled(1.0, 0.1, 0.0, 3));
            assert_eq!(c.len(), 4);
            assert!(c[0].starts_with("The 3 studies differ"), "{}", c[0]);
            assert!(c[0].contains(&format!("see the {row} row")), "{}", c[0]);
            let c = caveats(&s, &pooled(1.0, 0.1, 0.0, 2));
            assert!(
                c[0].starts_with("Only two studies give multipliers"),
                "{}",
                c[0]
            );
            assert!(!c[0].contains("sensitivity"), "{}", c[0]);
            assert_eq!(caveats(&s, &pooled(1.0, 0.1, 0.02, 2)).len(), 3);
        }
    }

    /// One study is named as one, not as a meta-analysis of "1 studies".
    #[test]
    fn one_study_is_not_called_a_meta_analysis() {
        let study: serde_json::Value = serde_json::from_str(STUDY).unwrap();
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 1000, "source": "x"}, "studies": [study]
        }));
        let a = assumptions(&s);
        assert!(a[1].contains("the one study listed"), "{}", a[1]);
        assert!(!a.iter().any(|x| x.contains("1 studies")));
    }
}
