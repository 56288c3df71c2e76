//! Global extrapolation: from the people identified (e.g. IOM's cumulative count) to an
//! interval for the total, through the dark-figure multipliers M = N̂/n of the multiple
//! systems estimation studies that exist. Each study gives M with one interval — a live
//! study's estimate (run here, bootstrapped) ÷ n, a published one's stated interval — and
//! log M with the variance that interval gives read as log-normal. A random-effects meta-analysis (`meta`) gives the
//! predictive distribution of log M for units without a study; Monte Carlo draws of
//! (identified count, multiplier) give the total. Children use the same multiplier divided
//! by an assumed ratio ρ of their detection probability to adults'; ρ is a named input and a
//! sensitivity table varies it, the studies included and the pooling model. Every
//! assumption is recorded in the output.
//!
//! The flow of `run`, one file per step: `spec` (the section and its checks), `studies`
//! (each study's log M and the pooling), `draws` (the Monte Carlo totals of a scenario),
//! `sensitivity` (the other scenarios), `narrative` (assumptions and caveats, and the
//! pooling models' names the sensitivity rows use). None of them imports this file, which
//! holds only the orchestration and the result; `spec` imports none of them.

mod draws;
#[cfg(test)]
mod fixtures;
mod narrative;
mod sensitivity;
mod spec;
mod studies;

pub use draws::Summary;
pub use narrative::{count_words, identified_assumption, pooling_name};
pub use sensitivity::{SensitivityRow, row_name};
pub use spec::{AggregateSpec, Count, Identified, Published, Study, Unit};
pub use studies::{StudyResult, log_sd};

use crate::aggregate::meta::Pooled;
use crate::checked::Level;
use crate::error::Result;
use serde::Serialize;

/// The aggregate result.
#[derive(Debug, Clone, Serialize)]
pub struct AggregateResult {
    /// The identified counts used.
    pub identified: Identified,
    /// Every study's multiplier.
    pub studies: Vec<StudyResult>,
    /// The meta-analysis.
    pub pooled: Pooled,
    /// Predictive multiplier for a unit without a study.
    pub multiplier: Summary,
    /// Total (identified + unidentified).
    pub total: Summary,
    /// Children.
    pub children: Option<Summary>,
    /// How the answer moves under the alternatives.
    pub sensitivity: Vec<SensitivityRow>,
    /// Every assumption, in words.
    pub assumptions: Vec<String>,
    /// What the numbers cannot say.
    pub caveats: Vec<String>,
    /// Master seed of the draws.
    pub seed: u64,
    /// Number of draws.
    pub draws: usize,
}

/// Runs the extrapolation. `level` is the job's level, `seed` its master seed.
pub fn run(
    spec: &AggregateSpec,
    base: Option<&std::path::Path>,
    job_name: &str,
    level: Level,
    seed: u64,
) -> Result<AggregateResult> {
    spec.check(level)?;
    let studies = studies::measure(spec, base, job_name, level, seed, None)?;
    let procedures = procedure_studies(spec, base, job_name, level, seed)?;
    let level = level.get();
    let setting = draws::Setting {
        spec,
        studies: &studies,
        seed,
        level,
    };
    // Stream 1 is the default's; the sensitivity rows draw on others, so that adding a row
    // leaves the headline numbers alone.
    let (pooled, main) =
        setting.scenario(&|_| true, spec.model, spec.children_detection_ratio, 1)?;
    let sensitivity = sensitivity::rows(&setting, &main, &procedures)?;
    Ok(AggregateResult {
        identified: spec.identified.clone(),
        assumptions: narrative::assumptions(spec),
        caveats: narrative::caveats(spec, &pooled),
        studies,
        pooled,
        multiplier: main.multiplier,
        total: main.total,
        children: main.children,
        sensitivity,
        seed,
        draws: spec.draws.get(),
    })
}

/// Every study measured with the live ones by each candidate procedure of the simulation
/// grid (`Method::candidates`), for the sensitivity table; none without live studies or
/// when the section turns the rows off. A procedure that fails on a study keeps its error.
fn procedure_studies(
    spec: &AggregateSpec,
    base: Option<&std::path::Path>,
    job_name: &str,
    level: Level,
    seed: u64,
) -> Result<Vec<sensitivity::ProcedureStudies>> {
    if !spec.procedure_rows || spec.studies.iter().all(|s| s.data.is_none()) {
        return Ok(Vec::new());
    }
    Ok(crate::methods::Method::candidates()?
        .into_iter()
        .map(|(name, method, boot)| {
            let measured =
                studies::measure(spec, base, job_name, level, seed, Some((&method, boot)))
                    .map_err(|e| e.to_string());
            (name, measured)
        })
        .collect())
}
