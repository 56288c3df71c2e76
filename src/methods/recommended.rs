//! `recommended`: the interval procedure a report prints by default, chosen by evidence.
//! It is no model of its own: it runs, with the settings it was measured with, the
//! procedure that the simulation grid of `models/scenarios` found best by the rule in
//! [`Evidence::rule`] (coverage of the 95% interval at least 93% on every scenario, then the
//! narrowest intervals; failing that, the best worst case). Its model and assumptions are
//! that procedure's (`pooled`, say: Chan, Silverman & Vincent 2021 with Manrique-Vallier
//! 2016). The evidence is compiled in from `models/scenarios/results/evidence.json`, which
//! a test regenerates from the shipped results and compares byte for byte, so that the
//! coverage each estimate carries is the measured one and the procedure it runs is the one
//! that was measured.

use super::details::{Details, RecommendedDetails, ScenarioCoverage};
use super::types::Estimate;
use crate::checked::{Level, Replicates};
use crate::error::{Error, Result};
use crate::inference::bootstrap::BootKind;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Schema tag of the evidence file.
pub const EVIDENCE_SCHEMA: &str = "darkfigure.evidence/1";

/// The evidence file's text, as the build found it.
pub const EVIDENCE_TEXT: &str = include_str!("../../models/scenarios/results/evidence.json");

/// What the grid measured, and the choice made from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// `darkfigure.evidence/1`.
    pub schema: String,
    /// The coverage the chosen procedure should reach on every scenario.
    pub goal: f64,
    /// The nominal level whose coverage decides.
    pub level: f64,
    /// The rule that chose, in words.
    pub rule: String,
    /// The chosen procedure's name in the studies.
    pub chosen: String,
    /// What it runs.
    pub procedure: ChosenProcedure,
    /// The scenarios where its coverage fell below the goal.
    pub short_of_goal: Vec<String>,
    /// Every candidate procedure, in the studies' order, with what it runs (the world
    /// report's sensitivity table runs each on the live studies).
    pub candidates: Vec<Candidate>,
    /// Every procedure on every scenario.
    pub scenarios: Vec<ScenarioEvidence>,
}

/// A candidate procedure: its name in the studies and what it runs. (Flattened, so unknown
/// fields cannot be refused here; the file is generated and compared byte for byte.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Its name in the studies.
    pub name: String,
    /// What it runs.
    #[serde(flatten)]
    pub procedure: ChosenProcedure,
}

/// A procedure of the studies without its name: the method and its bootstrap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChosenProcedure {
    /// The method object with its options, as a job writes it (read into a method by
    /// `Method::recommended`, which this file cannot name without a cycle).
    pub method: serde_json::Value,
    /// Bootstrap replicates, when the procedure bootstraps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<Replicates>,
    /// Which bootstrap.
    #[serde(default)]
    pub bootstrap_kind: BootKind,
}

/// One scenario of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioEvidence {
    /// The study's name.
    pub scenario: String,
    /// Its seed.
    pub seed: u64,
    /// Datasets drawn.
    pub replicates: u64,
    /// The true N.
    pub true_population: u64,
    /// Each procedure's performance.
    pub procedures: Vec<ProcedureEvidence>,
}

/// One procedure on one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureEvidence {
    /// Its name.
    pub procedure: String,
    /// Mean (N̂ − N) / N over the datasets with an estimate.
    pub relative_bias: Option<f64>,
    /// Coverage at the study's levels.
    pub coverage: Vec<LevelCoverage>,
}

/// Coverage at one level, over all datasets (one without an interval is a miss).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelCoverage {
    /// Nominal level.
    pub level: f64,
    /// Datasets whose interval held the true N.
    pub covered: u64,
    /// covered / datasets.
    pub rate: f64,
    /// √(rate (1 − rate) / datasets).
    pub std_error: f64,
    /// Median (upper − lower) / N (`null` when most intervals have no upper limit).
    pub median_relative_width: Option<f64>,
}

impl ProcedureEvidence {
    /// Coverage at `level`.
    pub fn at(&self, level: f64) -> Option<&LevelCoverage> {
        self.coverage
            .iter()
            .find(|c| (c.level - level).abs() < 1e-12)
    }
}

impl Evidence {
    /// Reads an evidence file's text.
    pub fn parse(text: &str) -> std::result::Result<Evidence, String> {
        let e: Evidence = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if e.schema != EVIDENCE_SCHEMA {
            return Err(format!(
                "expected schema \"{EVIDENCE_SCHEMA}\", found \"{}\"",
                e.schema
            ));
        }
        Ok(e)
    }

    /// The chosen procedure's coverage at the deciding level, scenario by scenario.
    pub fn chosen_coverage(&self) -> Vec<ScenarioCoverage> {
        self.scenarios
            .iter()
            .filter_map(|s| {
                let p = s.procedures.iter().find(|p| p.procedure == self.chosen)?;
                let c = p.at(self.level)?;
                Some(ScenarioCoverage {
                    covered: c.covered,
                    median_relative_width: c.median_relative_width,
                    rate: c.rate,
                    replicates: s.replicates,
                    scenario: s.scenario.clone(),
                    std_error: c.std_error,
                })
            })
            .collect()
    }

    /// Where the chosen procedure falls short of the goal, as a sentence (None when it
    /// reaches the goal everywhere).
    pub fn shortfall(&self) -> Option<String> {
        let short: Vec<String> = self
            .chosen_coverage()
            .into_iter()
            .filter(|c| self.short_of_goal.contains(&c.scenario))
            .map(|c| {
                format!(
                    "{} ({:.1}% ± {:.1} of {} datasets)",
                    c.scenario,
                    100.0 * c.rate,
                    100.0 * c.std_error,
                    c.replicates
                )
            })
            .collect();
        (!short.is_empty()).then(|| {
            format!(
                "no procedure tried reached {:.0}% coverage of the {:.0}% interval on every scenario of the simulation grid; this one ({}) is the best compromise, and its {:.0}% interval covered the true N less often than {:.0}% on {}",
                100.0 * self.goal,
                100.0 * self.level,
                self.chosen,
                100.0 * self.level,
                100.0 * self.goal,
                short.join(", ")
            )
        })
    }
}

/// The compiled-in evidence.
pub fn evidence() -> Result<&'static Evidence> {
    static PARSED: OnceLock<std::result::Result<Evidence, String>> = OnceLock::new();
    PARSED
        .get_or_init(|| Evidence::parse(EVIDENCE_TEXT))
        .as_ref()
        .map_err(|e| Error::Numerical(format!("the compiled-in evidence is unreadable: {e}")))
}

/// The estimate of the chosen procedure, presented as `recommended`: its coverage on every
/// scenario in the details, and the shortfall (and a level other than the one measured) in
/// the warnings.
pub fn present(inner: Estimate, e: &Evidence, level: Level) -> Estimate {
    let mut warnings = Vec::new();
    if let Some(s) = e.shortfall() {
        warnings.push(s);
    }
    if (level.get() - e.level).abs() > 1e-12 {
        warnings.push(format!(
            "the simulation grid measured the coverage of the {:.0}% interval; this one is at {}%",
            100.0 * e.level,
            crate::inference::interval::level_percent(level.get())
        ));
    }
    warnings.extend(inner.warnings.iter().cloned());
    Estimate {
        method: "recommended".into(),
        label: e.chosen.clone(),
        options: Details::Recommended(RecommendedDetails {
            coverage: e.chosen_coverage(),
            details: Box::new(inner.options.clone()),
            goal: e.goal,
            level,
            method: inner.method.clone(),
            procedure: e.chosen.clone(),
            short_of_goal: e.short_of_goal.clone(),
        }),
        warnings,
        ..inner
    }
}
