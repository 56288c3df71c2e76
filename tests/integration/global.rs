//! Global extrapolation: with a single published multiplier known almost exactly and an
//! exact identified count, the total is count × M; halving the children's detection ratio
//! doubles the children's total; the shipped world job gives byte-identical JSON twice; a bad
//! section is refused at its JSON path; the caveats about too few studies appear and name
//! only rows the sensitivity table has.

use darkfigure::aggregate::global::{AggregateSpec, run};
use darkfigure::checked::Level;

fn spec(m: f64, lo: f64, hi: f64) -> AggregateSpec {
    serde_json::from_value(serde_json::json!({
        "identified": {"total": 1000, "children": 200, "source": "test"},
        "studies": [{"name": "s", "citation": "c", "published": {"multiplier": m, "lower": lo, "upper": hi, "level": 0.95}}],
        "children_ratio_alternatives": [0.5],
        "draws": 4000
    }))
    .unwrap()
}

#[test]
fn total_is_count_times_multiplier() {
    let r = run(&spec(5.0, 4.999, 5.001), None, "t", Level::DEFAULT, 1).unwrap();
    assert!((r.total.median - 5000.0).abs() < 2.0, "{:?}", r.total);
    assert!(r.total.lower > 4990.0 && r.total.upper < 5010.0);
    let c = r.children.unwrap();
    assert!((c.median - 1000.0).abs() < 1.0);
    // ρ = 0.5: children detected half as often → twice as many behind each identified child
    let half = r
        .sensitivity
        .iter()
        .find(|x| x.scenario.contains("0.5"))
        .unwrap();
    assert!((half.children.as_ref().unwrap().median - 2000.0).abs() < 2.0);
}

/// A wide published interval gives a wide total: with M's 95% interval (2, 8) the total's
/// 95% interval is close to (2000, 8000) (log-normal, the Monte Carlo error of a 2.5%
/// quantile from 4,000 draws is about 2%).
#[test]
fn interval_follows_the_multiplier() {
    let r = run(&spec(4.0, 2.0, 8.0), None, "t", Level::DEFAULT, 2).unwrap();
    assert!((r.total.lower / 2000.0 - 1.0).abs() < 0.06, "{:?}", r.total);
    assert!((r.total.upper / 8000.0 - 1.0).abs() < 0.06, "{:?}", r.total);
    assert!(
        (r.total.median / 4000.0 - 1.0).abs() < 0.03,
        "{:?}",
        r.total
    );
}

#[test]
fn world_job_is_reproducible() {
    let job = concat!(env!("CARGO_MANIFEST_DIR"), "/models/world.json");
    let a = darkfigure::report::json::to_json(&darkfigure::job::run_file(job).unwrap()).unwrap();
    let b = darkfigure::report::json::to_json(&darkfigure::job::run_file(job).unwrap()).unwrap();
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["aggregate"]["studies"].as_array().unwrap().len(), 6);
    assert!(v["aggregate"]["total"]["lower"].as_f64().unwrap() > 125000.0);
}

/// Units: one measured by its own study (M = 2, known to ±0.001) takes that multiplier; the
/// unmeasured one takes the pooled multiplier (common effect of both studies, exp μ̂):
/// total ≈ 100·2 + 50·exp μ̂. A unit naming an unknown study is refused with its JSON path.
#[test]
fn units_use_their_own_study_or_the_pooled_multiplier() {
    let mut sp: AggregateSpec = serde_json::from_value(serde_json::json!({
        "identified": {"total": 150, "source": "test"},
        "studies": [
            {"name": "own", "citation": "c", "published": {"multiplier": 2.0, "lower": 1.999, "upper": 2.001, "level": 0.95}},
            {"name": "other", "citation": "c", "published": {"multiplier": 10.0, "lower": 9.99, "upper": 10.01, "level": 0.95}}
        ],
        "units": [
            {"name": "measured", "identified": 100, "study": "own"},
            {"name": "unmeasured", "identified": 50}
        ],
        "model": "fixed",
        "draws": 2000
    }))
    .unwrap();
    let r = run(&sp, None, "t", Level::DEFAULT, 4).unwrap();
    let pooled_m = r.pooled.mu.exp();
    let expect = 100.0 * 2.0 + 50.0 * pooled_m;
    assert!(
        (r.total.median / expect - 1.0).abs() < 0.01,
        "{} vs {expect}",
        r.total.median
    );
    sp.units[0].study = Some("nowhere".into());
    let err = run(&sp, None, "t", Level::DEFAULT, 4)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("aggregate.units[0]") && err.contains("nowhere"),
        "{err}"
    );
}

/// A caveat that points at a row of the sensitivity table points at one the table has,
/// whichever random-effects model is the main one: with three studies that agree within
/// their uncertainty τ² is estimated at 0, and the caveat names the other model's row.
#[test]
fn the_zero_spread_caveat_names_a_row_the_table_has() {
    for model in ["reml", "dl"] {
        let sp: AggregateSpec = serde_json::from_value(serde_json::json!({
            "identified": {"total": 1000, "source": "test"},
            "studies": [
                {"name": "a", "citation": "c", "published": {"multiplier": 6.0, "lower": 4.0, "upper": 9.0, "level": 0.9}},
                {"name": "b", "citation": "c", "published": {"multiplier": 5.5, "lower": 4.0, "upper": 8.0, "level": 0.9}},
                {"name": "c", "citation": "c", "published": {"multiplier": 6.5, "lower": 4.5, "upper": 9.5, "level": 0.9}}
            ],
            "model": model, "draws": 1000
        }))
        .unwrap();
        let r = run(&sp, None, "t", Level::DEFAULT, 5).unwrap();
        assert_eq!(r.pooled.tau2, 0.0, "{model}: {:?}", r.pooled);
        let caveat = r
            .caveats
            .iter()
            .find_map(|c| c.split("see the ").nth(1))
            .unwrap_or_else(|| panic!("{model}: {:?}", r.caveats));
        let row = caveat
            .split(" row of the sensitivity table")
            .next()
            .unwrap();
        let scenario = format!("{row} pooling");
        assert!(
            r.sensitivity.iter().any(|s| s.scenario == scenario),
            "{model}: no row {scenario:?} in {:?}",
            r.sensitivity
                .iter()
                .map(|s| &s.scenario)
                .collect::<Vec<_>>()
        );
    }
}

/// One study: whatever the pooling model, the result says that the spread between places
/// cannot be estimated, and does not call the study a meta-analysis of "1 studies".
#[test]
fn one_study_gets_its_caveat() {
    for model in ["reml", "dl", "fixed"] {
        let mut sp = spec(5.0, 4.0, 6.0);
        sp.model = serde_json::from_value(serde_json::json!(model)).unwrap();
        let r = run(&sp, None, "t", Level::DEFAULT, 6).unwrap();
        assert_eq!(r.pooled.k, 1);
        assert!(
            r.caveats[0].starts_with("Only one study gives a multiplier"),
            "{model}: {:?}",
            r.caveats
        );
        assert!(!r.assumptions.iter().any(|a| a.contains("1 studies")));
    }
}

/// The section's rules hold at both doors: a job file names the file, line, column and
/// JSON path of the value at fault (exit 2), and the library's `run` refuses the same
/// section with the same path before drawing anything.
#[test]
fn a_bad_section_is_refused_at_its_path_by_the_file_and_by_run() {
    let text = r#"{"schema": "darkfigure.job/1",
 "data": {"lists": ["A", "B"], "rows": [[1, 0, 60], [0, 1, 40], [1, 1, 20]]},
 "aggregate": {"identified": {"total": 1000, "source": "x"},
   "studies": [{"name": "s", "citation": "c",
     "published": {"multiplier": 0.5, "lower": 0.4, "upper": 0.6, "level": 0.9}}]}}"#;
    let err = darkfigure::job::parse_job("job.json", text).unwrap_err();
    assert!(err.is_user_error());
    assert!(
        err.to_string().starts_with(
            "job.json:5:34: invalid job at aggregate.studies[0].published.multiplier: expected a multiplier from 1 to 10000"
        ),
        "{err}"
    );
    let sp: AggregateSpec = serde_json::from_value(serde_json::json!({
        "identified": {"total": -5, "source": "x"},
        "studies": [{"name": "s", "citation": "c", "published": {"multiplier": 5.0, "lower": 4.0, "upper": 6.0, "level": 0.9}}]
    }))
    .unwrap();
    let err = run(&sp, None, "t", Level::DEFAULT, 1).unwrap_err();
    assert!(
        matches!(&err, darkfigure::error::Error::At { path, .. } if path == "aggregate.identified.total"),
        "{err}"
    );
}
