//! The evidence behind `recommended`: the scenario grid's results (`models/scenarios/
//! results/*.json`) reduced to each procedure's coverage and width on each scenario, and
//! the choice of the procedure a report prints made from them by one rule ([`RULE`]). The
//! file it writes is what `methods::recommended` compiles in; a test rebuilds it from the
//! shipped results and compares the bytes, so no number in it is typed by hand.

use super::SimulationDoc;
use super::record::WHOLE;
use super::summary::summarise;
use crate::error::{Error, Result};
use crate::methods::recommended::{
    Candidate, ChosenProcedure, EVIDENCE_SCHEMA, Evidence, LevelCoverage, ProcedureEvidence,
    ScenarioEvidence,
};

/// Coverage at [`LEVEL`] every scenario should reach.
pub const GOAL: f64 = 0.93;

/// The nominal level whose coverage decides.
pub const LEVEL: f64 = 0.95;

/// The rule, as the evidence file states it.
pub const RULE: &str = "Among the procedures run on every scenario, those whose 95% interval covered the true N in at least 93% of the datasets of every scenario (a dataset without an interval counts as a miss); of these, the one with the narrowest intervals (the mean over scenarios of the median width / N). If none reaches 93% everywhere: the procedures whose worst coverage over the scenarios is within one binomial standard error of the best worst coverage, and of these the narrowest.";

/// The grid's evidence from its results, each with its scenario's name (the study file's
/// stem), in the order given.
pub fn build(results: &[(String, SimulationDoc)]) -> Result<Evidence> {
    let mut scenarios = Vec::new();
    for (name, doc) in results {
        if doc.shard.is_some() {
            return Err(Error::Usage(format!(
                "{name}: a shard of a study; the evidence needs every dataset (merge the shards first)"
            )));
        }
        let summaries = summarise(&doc.truth, &doc.replicates);
        let truth = doc
            .truth
            .iter()
            .find(|t| t.target == WHOLE)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{name}: a stratified study; the evidence needs one population"
                ))
            })?;
        let procedures = summaries
            .iter()
            .filter(|s| s.target == WHOLE)
            .map(|s| ProcedureEvidence {
                procedure: s.procedure.clone(),
                relative_bias: s.relative_bias,
                coverage: s
                    .coverage
                    .iter()
                    .map(|c| {
                        let rate = c.rate_of_all;
                        LevelCoverage {
                            level: c.level,
                            covered: c.covered,
                            rate,
                            std_error: (rate * (1.0 - rate) / s.replicates.max(1) as f64).sqrt(),
                            median_relative_width: c.median_relative_width,
                        }
                    })
                    .collect(),
            })
            .collect();
        scenarios.push(ScenarioEvidence {
            scenario: name.clone(),
            seed: doc.study.seed.unwrap_or(crate::montecarlo::DEFAULT_SEED),
            replicates: doc.replicates.len() as u64,
            true_population: truth.population,
            procedures,
        });
    }
    let (chosen, short_of_goal) = choose(&scenarios)?;
    let procedure = results
        .first()
        .and_then(|(_, d)| {
            d.study
                .procedures
                .iter()
                .find(|p| p.display_name() == chosen)
        })
        .map(runs)
        .ok_or_else(|| Error::Usage(format!("no procedure named {chosen}")))??;
    let candidates = candidates(results)?;
    Ok(Evidence {
        schema: EVIDENCE_SCHEMA.into(),
        goal: GOAL,
        level: LEVEL,
        rule: RULE.into(),
        chosen,
        procedure,
        short_of_goal,
        candidates,
        scenarios,
    })
}

/// The procedures of the first study, with what each runs (a candidate that some scenario
/// could not run, as dga on eight lists, is still a candidate; the choice needs every
/// scenario).
fn candidates(results: &[(String, SimulationDoc)]) -> Result<Vec<Candidate>> {
    let Some((_, first)) = results.first() else {
        return Ok(Vec::new());
    };
    first
        .study
        .procedures
        .iter()
        .map(|p| {
            Ok(Candidate {
                name: p.display_name(),
                procedure: runs(p)?,
            })
        })
        .collect()
}

/// What a procedure of a study runs, as the evidence writes it.
fn runs(p: &super::spec::Procedure) -> Result<ChosenProcedure> {
    Ok(ChosenProcedure {
        method: serde_json::to_value(&p.method)
            .map_err(|e| Error::Numerical(format!("method as JSON: {e}")))?,
        bootstrap: p.bootstrap,
        bootstrap_kind: p.bootstrap_kind,
    })
}

/// The procedures every scenario ran, each with its coverage and width at [`LEVEL`] per
/// scenario: (name, [(rate, std_error, width)]).
type Row = (String, Vec<(f64, f64, f64)>);

/// [`RULE`] applied: the chosen procedure and the scenarios where it falls short.
fn choose(scenarios: &[ScenarioEvidence]) -> Result<(String, Vec<String>)> {
    let first = scenarios
        .first()
        .ok_or_else(|| Error::Usage("no scenarios".into()))?;
    let rows: Vec<Row> = first
        .procedures
        .iter()
        .filter_map(|p| {
            let per: Option<Vec<(f64, f64, f64)>> = scenarios
                .iter()
                .map(|s| {
                    let c = s
                        .procedures
                        .iter()
                        .find(|q| q.procedure == p.procedure)?
                        .at(LEVEL)?;
                    Some((
                        c.rate,
                        c.std_error,
                        c.median_relative_width.unwrap_or(f64::INFINITY),
                    ))
                })
                .collect();
            Some((p.procedure.clone(), per?))
        })
        .collect();
    let width = |r: &Row| r.1.iter().map(|x| x.2).sum::<f64>() / r.1.len() as f64;
    let worst = |r: &Row| {
        r.1.iter()
            .copied()
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((0.0, 0.0, 0.0))
    };
    let reach: Vec<&Row> = rows
        .iter()
        .filter(|r| r.1.iter().all(|x| x.0 >= GOAL - 1e-12))
        .collect();
    let pool: Vec<&Row> = if reach.is_empty() {
        let best = rows
            .iter()
            .map(worst)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .ok_or_else(|| Error::Usage("no procedure ran on every scenario".into()))?;
        rows.iter()
            .filter(|r| worst(r).0 >= best.0 - best.1 - 1e-12)
            .collect()
    } else {
        reach
    };
    let chosen = pool
        .into_iter()
        .min_by(|a, b| width(a).total_cmp(&width(b)))
        .ok_or_else(|| Error::Usage("no procedure ran on every scenario".into()))?;
    let short = scenarios
        .iter()
        .zip(&chosen.1)
        .filter(|(_, x)| x.0 < GOAL - 1e-12)
        .map(|(s, _)| s.scenario.clone())
        .collect();
    Ok((chosen.0.clone(), short))
}

/// The evidence file's text: pretty JSON with a final newline.
pub fn to_text(e: &Evidence) -> Result<String> {
    serde_json::to_string_pretty(e)
        .map(|s| s + "\n")
        .map_err(|err| Error::Numerical(format!("evidence as JSON: {err}")))
}

/// The grid as a Markdown table (scenario × procedure: coverage at 80% and 95% ± its
/// binomial standard error, median width of the 95% interval / N, relative bias), the
/// chosen procedure in bold; what README.md shows.
pub fn table(e: &Evidence) -> String {
    let pct = |c: Option<&LevelCoverage>| {
        c.map_or("–".to_string(), |c| {
            format!("{:.1} ± {:.1}", 100.0 * c.rate, 100.0 * c.std_error)
        })
    };
    let mut out = String::from(
        "| scenario | procedure | cover 80% | cover 95% | width 95% (×N) | bias % |\n|---|---|---:|---:|---:|---:|\n",
    );
    for s in &e.scenarios {
        for p in &s.procedures {
            let name = if p.procedure == e.chosen {
                format!("**{}**", p.procedure)
            } else {
                p.procedure.clone()
            };
            let width = p
                .at(LEVEL)
                .and_then(|c| c.median_relative_width)
                .map_or("–".to_string(), |w| format!("{w:.3}"));
            let bias = p
                .relative_bias
                .map_or("–".to_string(), |b| format!("{:+.1}", 100.0 * b));
            out.push_str(&format!(
                "| {} (N = {}, {} datasets) | {name} | {} | {} | {width} | {bias} |\n",
                s.scenario,
                s.true_population,
                s.replicates,
                pct(p.at(0.8)),
                pct(p.at(LEVEL)),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str, rates: &[(&str, f64, f64)]) -> ScenarioEvidence {
        ScenarioEvidence {
            scenario: name.into(),
            seed: 1,
            replicates: 200,
            true_population: 1000,
            procedures: rates
                .iter()
                .map(|&(p, rate, width)| ProcedureEvidence {
                    procedure: p.into(),
                    relative_bias: Some(0.0),
                    coverage: vec![LevelCoverage {
                        level: LEVEL,
                        covered: (rate * 200.0) as u64,
                        rate,
                        std_error: (rate * (1.0 - rate) / 200.0).sqrt(),
                        median_relative_width: Some(width),
                    }],
                })
                .collect(),
        }
    }

    /// Reaching the goal everywhere beats being narrow; among those that reach it, the
    /// narrowest wins; a procedure missing from a scenario cannot be chosen.
    #[test]
    fn the_narrowest_of_those_that_reach_the_goal_everywhere() {
        let s = vec![
            scenario(
                "a",
                &[
                    ("wide", 0.99, 1.0),
                    ("narrow", 0.95, 0.5),
                    ("bad", 0.90, 0.1),
                    ("half", 0.99, 0.01),
                ],
            ),
            scenario(
                "b",
                &[
                    ("wide", 0.97, 1.0),
                    ("narrow", 0.93, 0.5),
                    ("bad", 0.99, 0.1),
                ],
            ),
        ];
        assert_eq!(
            choose(&s).unwrap(),
            ("narrow".to_string(), Vec::<String>::new())
        );
    }

    /// When none reaches the goal everywhere: the best worst case within one standard
    /// error, then the narrowest; the shortfall is named.
    #[test]
    fn otherwise_the_best_worst_case_within_its_error() {
        let s = vec![
            scenario(
                "a",
                &[("wide", 0.97, 2.0), ("mid", 0.95, 1.0), ("zero", 0.96, 0.1)],
            ),
            scenario(
                "b",
                &[("wide", 0.85, 2.0), ("mid", 0.83, 1.0), ("zero", 0.0, 0.1)],
            ),
        ];
        // se of 0.85 at 200 datasets is 0.025: 0.83 is within it, and narrower.
        assert_eq!(
            choose(&s).unwrap(),
            ("mid".to_string(), vec!["b".to_string()])
        );
        let s = vec![
            scenario("a", &[("wide", 0.97, 2.0), ("mid", 0.95, 1.0)]),
            scenario("b", &[("wide", 0.90, 2.0), ("mid", 0.80, 1.0)]),
        ];
        assert_eq!(
            choose(&s).unwrap(),
            ("wide".to_string(), vec!["b".to_string()])
        );
    }
}
