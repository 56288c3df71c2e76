//! The calibration in words and tables, for the report and the terminal alike: the
//! sentence a policymaker reads ("on data simulated to look like yours, the 95% interval
//! … contained the true number in 78% (± 3%) of cases"), where the generating models
//! disagree, the coverage of every procedure under every generator, and what each generator
//! is. A generator's true N is round(N̂) of a fit to the data, a figure worked out from the
//! counts of identified people, so it is shown only where `disclose` lets the data's
//! figures be shown; coverage, widths and bias are shares of simulated datasets or of N
//! and give no count away.

use super::disclose::Plan;
use super::format::{people, percent};
use crate::job::ResultDoc;
use crate::study::LEVELS;
use crate::study::calibrate::{Calibration, CalibrationRow};
use crate::study::summary::Coverage;

/// The level the calibration speaks about: the primary estimate's, when the calibration
/// measured it, else 95%.
pub fn level(doc: &ResultDoc, plan: &Plan) -> f64 {
    let asked = plan
        .primary(doc)
        .and_then(|(_, e)| e.interval.as_ref())
        .map_or(doc.job.level.get(), |iv| iv.level);
    LEVELS
        .iter()
        .copied()
        .find(|l| (l - asked).abs() < 1e-9)
        .unwrap_or(LEVELS[LEVELS.len() - 1])
}

/// The procedure the sentence is about: the one that reproduces the primary estimate, else
/// the first that gave an interval on some simulated dataset.
pub fn procedure(doc: &ResultDoc, plan: &Plan, c: &Calibration) -> Option<String> {
    let primary = plan.primary(doc).map(|(j, _)| j);
    let names = || {
        c.procedures
            .iter()
            .map(|p| (p.estimate, p.procedure.display_name()))
    };
    names()
        .find(|(e, _)| primary.is_some() && *e == primary)
        .map(|(_, n)| n)
        .or_else(|| {
            names().map(|(_, n)| n).find(|n| {
                c.rows_of(n)
                    .any(|r| r.summary.coverage.iter().any(|v| v.rate.is_some()))
            })
        })
}

fn at(row: &CalibrationRow, level: f64) -> Option<&Coverage> {
    row.summary
        .coverage
        .iter()
        .find(|c| (c.level - level).abs() < 1e-9)
}

/// A share as a whole percentage.
fn pct(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// A standard error as a percentage: whole above 1%, one decimal below.
fn pct_se(x: f64) -> String {
    let v = 100.0 * x;
    if v == 0.0 {
        "0%".into()
    } else if v < 0.95 {
        format!("{v:.1}%")
    } else {
        format!("{v:.0}%")
    }
}

/// "a 78%" or "an 80%": the article a percentage takes when read aloud.
fn a_pct(x: f64) -> String {
    let p = pct(x);
    let an = p.starts_with('8') || p.starts_with("11%") || p.starts_with("18%");
    format!("{} {p}", if an { "an" } else { "a" })
}

/// "78% (± 3%)".
fn rate_se(rate: f64, se: f64) -> String {
    format!("{} (± {})", pct(rate), pct_se(se))
}

/// The coverage of one procedure under one generator as a table cell: "78% ± 3%".
pub fn cell(row: &CalibrationRow, level: f64) -> String {
    match at(row, level).and_then(|c| Some((c.rate?, c.std_error?))) {
        Some((r, se)) => format!("{} ± {}", pct(r), pct_se(se)),
        None => "no interval".into(),
    }
}

/// The plain sentences about `procedure`'s interval at `level`: how often it contained the
/// true number, what to treat it as, and, when the generators disagree, that the answer
/// depends on which model made the data.
pub fn sentences(c: &Calibration, procedure: &str, level: f64) -> Vec<String> {
    let l = percent(level);
    let rows: Vec<(&CalibrationRow, &Coverage)> = c
        .rows_of(procedure)
        .filter_map(|r| at(r, level).filter(|v| v.rate.is_some()).map(|v| (r, v)))
        .collect();
    let lead = format!("On data simulated to look like yours, the {l}% interval of {procedure}");
    if rows.is_empty() {
        return vec![format!(
            "{lead} was never given on the simulated datasets, so there is nothing to judge it by."
        )];
    }
    let rate = |v: &Coverage| v.rate.unwrap_or(0.0);
    let se = |v: &Coverage| v.std_error.unwrap_or(0.0);
    let (lo, hi) = rows.iter().fold((rows[0], rows[0]), |(lo, hi), &x| {
        (
            if rate(x.1) < rate(lo.1) { x } else { lo },
            if rate(x.1) > rate(hi.1) { x } else { hi },
        )
    });
    // Two coverages differ beyond chance when they are more than two standard errors of
    // their difference apart.
    let agree = rate(hi.1) - rate(lo.1) <= 2.0 * (se(hi.1).powi(2) + se(lo.1).powi(2)).sqrt();
    let honest = |r: f64, s: f64| r >= level - 2.0 * s;
    let mut out = Vec::new();
    if agree {
        let with: u64 = rows.iter().map(|(_, v)| v.with_interval).sum();
        let covered: u64 = rows.iter().map(|(_, v)| v.covered).sum();
        let r = covered as f64 / with as f64;
        let s = (r * (1.0 - r) / with as f64).sqrt();
        out.push(if honest(r, s) {
            format!(
                "{lead} contained the true number in {} of cases: about as often as it claims.",
                rate_se(r, s)
            )
        } else {
            format!(
                "{lead} contained the true number in {} of cases; treat it as roughly {} interval.",
                rate_se(r, s),
                a_pct(r)
            )
        });
        if rows.len() > 1 {
            out.push(format!(
                "The {} models the data were simulated from agree on this.",
                rows.len()
            ));
        }
    } else {
        let (r, s) = (rate(lo.1), se(lo.1));
        out.push(if honest(r, s) {
            format!(
                "{lead} contained the true number in {} to {} of cases, depending on which model made the data: as often as it claims, or more.",
                rate_se(r, s),
                rate_se(rate(hi.1), se(hi.1))
            )
        } else {
            format!(
                "{lead} contained the true number in {} to {} of cases, depending on which model made the data; treat it as roughly {} interval at worst.",
                rate_se(r, s),
                rate_se(rate(hi.1), se(hi.1)),
                a_pct(r)
            )
        });
        let each: Vec<String> = rows
            .iter()
            .map(|(row, v)| {
                format!(
                    "{} when the data came from the {}",
                    pct(rate(v)),
                    row.generator
                )
            })
            .collect();
        out.push(format!(
            "The models disagree ({}): how far to trust the interval depends on which of them describes how people come to be {}, and these data cannot settle that.",
            each.join(", "),
            if one_register(c) {
                "recorded by the register, and how often"
            } else {
                "on the lists"
            }
        ));
    }
    let short: Vec<String> = rows
        .iter()
        .filter(|(row, v)| v.with_interval < row.summary.replicates)
        .map(|(row, v)| {
            format!(
                "{} of the {} datasets from the {}",
                row.summary.replicates - v.with_interval,
                row.summary.replicates,
                row.generator
            )
        })
        .collect();
    if !short.is_empty() {
        out.push(format!(
            "It gave no {l}% interval on {}; those are not counted.",
            short.join(" and ")
        ));
    }
    out
}

/// The procedures × generators table at `level`: the head and the rows.
pub fn matrix(c: &Calibration, level: f64) -> (Vec<String>, Vec<Vec<String>>) {
    let mut head = vec![format!("{}% interval of", percent(level))];
    head.extend(c.generators.iter().map(|g| format!("from the {}", g.name)));
    let rows = c
        .procedures
        .iter()
        .map(|p| {
            let name = p.procedure.display_name();
            let mut row = vec![name.clone()];
            row.extend(c.generators.iter().map(|g| {
                c.rows_of(&name)
                    .find(|r| r.generator == g.name)
                    .map_or("—".into(), |r| cell(r, level))
            }));
            row
        })
        .collect();
    (head, rows)
}

/// The true number of a generator's datasets as shown: withheld with the data's figures.
pub fn true_number(population: u64, plan: &Plan) -> String {
    if plan.whole().figures {
        people(population as f64)
    } else {
        "withheld".into()
    }
}

/// What each generator is: its name, its model in words, its true number and the share of
/// it seen on some list.
pub fn generators(c: &Calibration, plan: &Plan) -> (Vec<String>, Vec<Vec<String>>) {
    let head = [
        "data simulated from",
        "model",
        "true number",
        if one_register(c) {
            "recorded by the register"
        } else {
            "seen on some list"
        },
    ]
    .map(String::from)
    .to_vec();
    let rows = c
        .generators
        .iter()
        .map(|g| {
            let model = match (&g.model, &g.latent) {
                (Some(m), _) if m == "[]" => "lists independent".to_string(),
                (Some(m), _) => format!("log-linear {m}"),
                (None, Some(f)) => {
                    let mut s = format!(
                        "{} of people listed often, {} rarely",
                        pct(f.shares[0]),
                        pct(f.shares[1])
                    );
                    if !f.notes.is_empty() {
                        s.push_str(&format!(" ({})", f.notes.join("; ")));
                    }
                    s
                }
                (None, None) => "—".into(),
            };
            vec![
                g.name.clone(),
                model,
                true_number(g.population, plan),
                pct(g.seen_share),
            ]
        })
        .collect();
    (head, rows)
}

/// Whether the calibration simulated one register's counts (single-source fits).
fn one_register(c: &Calibration) -> bool {
    !c.generators.is_empty() && c.generators.iter().all(|g| g.kind == "single_source")
}

/// How the calibration was made, and what could not be simulated from.
pub fn method_note(c: &Calibration, strata: bool) -> Vec<String> {
    let mut out = vec![if one_register(c) {
        format!(
            "Each column is {} registers simulated from a model fitted to these data: each single-source method's fit (Zelterman's and Chao's are one, the truncated Poisson they fit to the people recorded once or twice) and the zero-truncated negative binomial's with the first method's covariates, when it has a finite estimate; every pattern of the covariates keeps its fitted share of the population. Every method was run on every register with its interval; a cell is the share of registers whose interval contained the number the data were simulated from, ± its standard error. A register where a method's fit has no finite estimate (a covariate group whose people were all recorded once) gives no interval. The result JSON has the 80, 90 and 95% intervals, their widths and the bias.",
            c.replicates
        )
    } else {
        format!(
            "Each column is {} datasets simulated from a model fitted to these data: the model each log-linear method chose (the main-effects model when no method is log-linear), and two latent classes (people who differ in how easily they are found). Every method was run on every dataset with its interval; a cell is the share of datasets whose interval contained the number the data were simulated from, ± its standard error. The result JSON has the 80, 90 and 95% intervals, their widths and the bias.",
            c.replicates
        )
    }];
    for s in &c.skipped {
        out.push(format!("Not simulated from the {}: {}.", s.name, s.reason));
    }
    if strata {
        out.push("The calibration is of the whole data, not of each stratum.".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::Procedure;
    use crate::study::calibrate::{CalibratedProcedure, GeneratorInfo};
    use crate::study::summary::Summary;

    /// A calibration of one procedure whose 95% interval covered `covered[g]` of 200
    /// datasets from generator g.
    fn calibration(covered: &[u64]) -> Calibration {
        let names: Vec<String> = (0..covered.len()).map(|g| format!("model {g}")).collect();
        let row = |g: usize, c: u64| {
            let rate = c as f64 / 200.0;
            CalibrationRow {
                generator: names[g].clone(),
                summary: Summary {
                    procedure: "stepwise+BCa".into(),
                    target: "population".into(),
                    true_population: 1000,
                    replicates: 200,
                    with_estimate: 200,
                    without_estimate: Default::default(),
                    mean_estimate: None,
                    bias: None,
                    relative_bias: None,
                    rmse: None,
                    relative_rmse: None,
                    rmse_log: None,
                    coverage: vec![Coverage {
                        level: 0.95,
                        with_interval: 200,
                        covered: c,
                        rate: Some(rate),
                        std_error: Some((rate * (1.0 - rate) / 200.0).sqrt()),
                        rate_of_all: rate,
                        median_relative_width: None,
                        unbounded: 0,
                    }],
                },
            }
        };
        Calibration {
            replicates: 200,
            levels: vec![0.95],
            procedures: vec![CalibratedProcedure {
                procedure: Procedure {
                    name: Some("stepwise+BCa".into()),
                    method: "stepwise".parse().unwrap(),
                    bootstrap: None,
                    bootstrap_kind: Default::default(),
                },
                estimate: Some(0),
            }],
            generators: names
                .iter()
                .map(|n| GeneratorInfo {
                    name: n.clone(),
                    kind: "fitted".into(),
                    from: Vec::new(),
                    model: Some("[]".into()),
                    population: 1000,
                    seen_share: 0.5,
                    latent: None,
                })
                .collect(),
            skipped: Vec::new(),
            table: covered
                .iter()
                .enumerate()
                .map(|(g, &c)| row(g, c))
                .collect(),
        }
    }

    fn said(covered: &[u64]) -> Vec<String> {
        sentences(&calibration(covered), "stepwise+BCa", 0.95)
    }

    #[test]
    fn an_interval_that_covers_as_it_claims_is_called_so() {
        let s = said(&[188, 190]);
        assert_eq!(
            s[0],
            "On data simulated to look like yours, the 95% interval of stepwise+BCa contained the true number in 94% (± 1%) of cases: about as often as it claims."
        );
        assert_eq!(
            s[1],
            "The 2 models the data were simulated from agree on this."
        );
    }

    #[test]
    fn an_interval_that_covers_less_is_named_by_what_it_covers() {
        let s = said(&[156]);
        assert_eq!(
            s,
            [
                "On data simulated to look like yours, the 95% interval of stepwise+BCa contained the true number in 78% (± 3%) of cases; treat it as roughly a 78% interval."
            ]
        );
        assert!(said(&[160])[0].ends_with("roughly an 80% interval."));
        assert!(said(&[22])[0].ends_with("roughly an 11% interval."));
    }

    #[test]
    fn generators_that_disagree_are_said_to() {
        let s = said(&[196, 98]);
        assert!(
            s[0].contains("in 49% (± 4%) to 98% (± 1%) of cases, depending on which model made the data; treat it as roughly a 49% interval at worst."),
            "{}",
            s[0]
        );
        assert!(
            s[1].starts_with("The models disagree (98% when the data came from the model 0, 49% when the data came from the model 1)"),
            "{}",
            s[1]
        );
        // Within two standard errors of their difference they agree.
        assert_eq!(said(&[180, 170]).len(), 2);
        assert!(said(&[180, 170])[1].contains("agree"));
    }

    #[test]
    fn the_table_has_a_row_per_procedure_and_a_column_per_generator() {
        let (head, rows) = matrix(&calibration(&[190, 98]), 0.95);
        assert_eq!(
            head,
            ["95% interval of", "from the model 0", "from the model 1"]
        );
        assert_eq!(rows, [["stepwise+BCa", "95% ± 2%", "49% ± 4%"]]);
    }
}
