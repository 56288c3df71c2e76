//! The sensitivity table: how the answer moves when one input of the default scenario
//! changes — the trafficking studies alone (when the studies are mixed), each other
//! pooling model, each alternative children's detection ratio (when children are
//! counted), and each candidate interval procedure of the simulation grid with every live
//! study measured by it. Every row draws on a stream of its own (its tag), so adding a row
//! moves no other. Runs in `run` after the default scenario, which is the table's first row.

use super::draws::{Setting, Summary, Totals};
use super::narrative::pooling_name;
use super::spec::AggregateSpec;
use super::studies::StudyResult;
use crate::aggregate::meta::Tau2Method;
use crate::error::Result;
use serde::Serialize;

/// One row of the sensitivity table.
#[derive(Debug, Clone, Serialize)]
pub struct SensitivityRow {
    /// What changed.
    pub scenario: String,
    /// The multiplier for a unit without a study (`null` when the row has no numbers).
    pub multiplier: Option<Summary>,
    /// Total (`null` when the row has no numbers).
    pub total: Option<Summary>,
    /// Children, when their count is known.
    pub children: Option<Summary>,
    /// Why a row has no numbers: a candidate procedure that gave some live study no
    /// interval, or studies that could not be pooled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

impl SensitivityRow {
    fn new(scenario: String, t: Totals) -> Self {
        SensitivityRow {
            scenario,
            multiplier: Some(t.multiplier),
            total: Some(t.total),
            children: t.children,
            unavailable: None,
        }
    }

    fn without(scenario: String, why: String) -> Self {
        SensitivityRow {
            scenario,
            multiplier: None,
            total: None,
            children: None,
            unavailable: Some(why),
        }
    }
}

/// A row's name as a reader sees it: a row without numbers says so, and points to the
/// result JSON for the reason (which may quote a study's figures).
pub fn row_name(r: &SensitivityRow) -> String {
    match r.unavailable {
        Some(_) => format!(
            "{} (no total: a study gave no interval this way or could not be pooled; the result JSON says why)",
            r.scenario
        ),
        None => r.scenario.clone(),
    }
}

/// A candidate procedure's row: its name, and every study measured with the live ones by
/// it (or why that failed).
pub type ProcedureStudies = (String, std::result::Result<Vec<StudyResult>, String>);

/// First stream tag of the procedure rows: one per candidate, in the evidence's order.
const PROCEDURE_TAG: u64 = 100;

/// A scenario other than the default: what it changes, and its stream. The tags are fixed
/// per kind of row (2, 3–5, 10 on) so that the published numbers of one row do not depend
/// on which other rows exist.
#[derive(Debug, PartialEq)]
struct Alternative {
    name: String,
    trafficking_only: bool,
    model: Tau2Method,
    rho: f64,
    tag: u64,
}

/// The alternatives that apply to this section, in the table's order.
fn alternatives(spec: &AggregateSpec, studies: &[StudyResult]) -> Vec<Alternative> {
    let alt = |name: String, trafficking_only, model, rho, tag| Alternative {
        name,
        trafficking_only,
        model,
        rho,
        tag,
    };
    let rho = spec.children_detection_ratio;
    let mut out = Vec::new();
    if studies.iter().any(|s| !s.trafficking) && studies.iter().any(|s| s.trafficking) {
        out.push(alt(
            "trafficking studies only".into(),
            true,
            spec.model,
            rho,
            2,
        ));
    }
    for (j, m) in [Tau2Method::Fixed, Tau2Method::Dl, Tau2Method::Reml]
        .into_iter()
        .enumerate()
    {
        if m != spec.model {
            let name = format!("{} pooling", pooling_name(m));
            out.push(alt(name, false, m, rho, 3 + j as u64));
        }
    }
    if spec.identified.children.is_some() {
        for (j, &r) in spec.children_ratio_alternatives.iter().enumerate() {
            let name = format!("children detected {r}× as often as adults");
            out.push(alt(name, false, spec.model, r, 10 + j as u64));
        }
    }
    out
}

/// The table: the default scenario's draws `default` first, then every alternative that
/// applies, each pooled and drawn anew (an alternative that cannot be pooled fails the
/// run), then a row per candidate procedure of `procedures`, the default scenario with its
/// studies (a procedure that failed on a study, or whose studies cannot be pooled, gives a
/// row without numbers that says why).
pub fn rows(
    setting: &Setting,
    default: &Totals,
    procedures: &[ProcedureStudies],
) -> Result<Vec<SensitivityRow>> {
    let mut rows = vec![SensitivityRow::new("default".into(), default.clone())];
    for a in alternatives(setting.spec, setting.studies) {
        let keep: &dyn Fn(&StudyResult) -> bool = if a.trafficking_only {
            &|s| s.trafficking
        } else {
            &|_| true
        };
        let (_, t) = setting.scenario(keep, a.model, a.rho, a.tag)?;
        rows.push(SensitivityRow::new(a.name, t));
    }
    let spec = setting.spec;
    for (j, (name, studies)) in procedures.iter().enumerate() {
        let scenario = format!("every live study by {name}");
        let row = studies.as_ref().map_err(Clone::clone).and_then(|studies| {
            let s = Setting {
                studies,
                ..*setting
            };
            s.scenario(
                &|_| true,
                spec.model,
                spec.children_detection_ratio,
                PROCEDURE_TAG + j as u64,
            )
            .map(|(_, t)| t)
            .map_err(|e| e.to_string())
        });
        rows.push(match row {
            Ok(t) => SensitivityRow::new(scenario, t),
            Err(why) => SensitivityRow::without(scenario, why),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::global::fixtures::from_json;
    use crate::aggregate::global::studies::measured;

    /// A study measured almost exactly (sd of log M 10⁻⁴).
    fn study(name: &str, m: f64, trafficking: bool) -> StudyResult {
        measured(name, m.ln(), 1e-8, trafficking)
    }

    fn names(a: &[Alternative]) -> Vec<&str> {
        a.iter().map(|x| x.name.as_str()).collect()
    }

    /// With mixed studies, children counted and REML: the trafficking-only row, the two
    /// other pooling models, and one row per alternative ρ, each with its model, ρ and tag.
    #[test]
    fn every_alternative_applies_to_a_full_section() {
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 10, "children": 2, "source": "x"},
            "studies": [], "children_detection_ratio": 0.8, "children_ratio_alternatives": [0.5, 2]
        }));
        let a = alternatives(&s, &[study("t", 2.0, true), study("o", 3.0, false)]);
        assert_eq!(
            names(&a),
            [
                "trafficking studies only",
                "common-effect pooling",
                "DerSimonian-Laird pooling",
                "children detected 0.5× as often as adults",
                "children detected 2× as often as adults",
            ]
        );
        let kinds: Vec<(bool, Tau2Method, f64, u64)> = a
            .iter()
            .map(|x| (x.trafficking_only, x.model, x.rho, x.tag))
            .collect();
        assert_eq!(
            kinds,
            [
                (true, Tau2Method::Reml, 0.8, 2),
                (false, Tau2Method::Fixed, 0.8, 3),
                (false, Tau2Method::Dl, 0.8, 4),
                (false, Tau2Method::Reml, 0.5, 10),
                (false, Tau2Method::Reml, 2.0, 11),
            ]
        );
    }

    /// Rows that cannot say anything are left out: no trafficking-only row when every study
    /// is a trafficking study, no ρ rows without a children's count; the pooling rows are
    /// the models other than the section's, on their fixed tags.
    #[test]
    fn alternatives_that_do_not_apply_are_left_out() {
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 10, "source": "x"}, "studies": [], "model": "dl"
        }));
        let a = alternatives(&s, &[study("t", 2.0, true), study("u", 3.0, true)]);
        assert_eq!(names(&a), ["common-effect pooling", "REML pooling"]);
        assert_eq!(a.iter().map(|x| x.tag).collect::<Vec<_>>(), [3, 5]);
    }

    /// The rows run what they say: the first is the default draws unchanged, the
    /// trafficking-only row pools only the trafficking study (M = 2), and the ρ = 0.5 row
    /// has twice the default's children behind each identified child (common effect, so
    /// the multiplier is exp of the mean log M, √(2·8) = 4). The studies' sd of 10⁻⁴ keeps
    /// every draw of M within 0.1% of its centre (|z| < 10), the tolerance used.
    #[test]
    fn each_row_runs_its_scenario() {
        let s: AggregateSpec = from_json(serde_json::json!({
            "identified": {"total": 1000, "children": 100, "source": "x"},
            "studies": [], "model": "fixed", "children_ratio_alternatives": [0.5], "draws": 500
        }));
        let studies = [study("t", 2.0, true), study("o", 8.0, false)];
        let setting = Setting {
            spec: &s,
            studies: &studies,
            seed: 11,
            level: 0.95,
        };
        let (_, default) = setting
            .scenario(&|_| true, Tau2Method::Fixed, 1.0, 1)
            .unwrap();
        // A candidate procedure that measured the studies (M = 3 for both) and one that failed.
        let procedures: Vec<ProcedureStudies> = vec![
            (
                "p".into(),
                Ok(vec![study("t", 3.0, true), study("o", 3.0, false)]),
            ),
            ("q".into(), Err("no interval".into())),
        ];
        let rows = rows(&setting, &default, &procedures).unwrap();
        let row = |name: &str| rows.iter().find(|r| r.scenario.contains(name)).unwrap();
        let median = |s: &Option<Summary>| s.as_ref().unwrap().median;
        let near = |x: f64, want: f64| (x / want - 1.0).abs() < 1e-3;
        assert_eq!(rows[0].scenario, "default");
        assert_eq!(median(&rows[0].total), default.total.median);
        assert!(near(median(&rows[0].multiplier), 4.0), "{:?}", rows[0]);
        assert!(near(median(&row("trafficking").multiplier), 2.0));
        assert!(near(median(&row("trafficking").total), 2000.0));
        let half = row("0.5×").children.as_ref().unwrap();
        assert!(near(half.median, 800.0), "{half:?}");
        let p = row("every live study by p");
        assert!(near(median(&p.multiplier), 3.0), "{p:?}");
        assert!(near(median(&p.total), 3000.0), "{p:?}");
        let q = row("every live study by q");
        assert!(q.total.is_none() && q.multiplier.is_none() && q.children.is_none());
        assert_eq!(q.unavailable.as_deref(), Some("no interval"));
        assert!(row_name(q).contains("no total"));
        assert_eq!(rows.len(), 7);
    }
}
