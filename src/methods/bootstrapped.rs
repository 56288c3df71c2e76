//! The bootstrap of an estimate: the replicates of `inference::bootstrap` (each repeating
//! the method through the estimator `Method::run` hands over, model choice included)
//! become the estimate's draws, its BCa interval (percentile when BCa fails) and a warning
//! about replicates without an estimate.

use super::loglinear;
use super::types::{Estimate, ProgressFn, Settings};
use crate::data::CaptureTable;
use crate::error::Result;
use crate::inference::bootstrap::{self, BootOptions};
use crate::inference::{Construction, Draws, Interval};
use crate::loglinear::ModelSpec;

/// Runs the bootstrap of one estimate whose point value on the data is `point`, with
/// `estimator` repeating the method on each resampled table, and makes its BCa limits the
/// interval.
pub(super) fn attach(
    table: &CaptureTable,
    est: &mut Estimate,
    point: f64,
    settings: &Settings,
    progress: Option<&ProgressFn>,
    b: BootOptions,
    estimator: &(dyn Fn(&CaptureTable) -> Option<f64> + Sync),
) -> Result<()> {
    let fitted = match &est.model {
        Some(m) => {
            let ms = ModelSpec::parse(m, table.lists())?;
            loglinear::fitted_cells(table, &ms, settings.max_iter)?
        }
        None => None,
    };
    let level = settings.level.get();
    let mut levels = vec![0.8, 0.9, 0.95, level];
    levels.sort_by(f64::total_cmp);
    levels.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    let noop = crate::montecarlo::no_progress;
    let progress: crate::montecarlo::Progress = match progress {
        Some(p) => &*p.0,
        None => &noop,
    };
    let boot = bootstrap::run(
        table,
        point,
        fitted.as_deref(),
        &levels,
        b,
        estimator,
        progress,
    )?;
    let ok: Vec<f64> = boot.values.iter().flatten().copied().collect();
    if !ok.is_empty() {
        let mut sorted = ok.clone();
        sorted.sort_by(f64::total_cmp);
        est.draws = Some(Draws::summarise(&ok, |q| bootstrap::quantile8(&sorted, q)));
    }
    if boot.failures > 0 {
        est.warnings.push(format!(
            "{} of {} bootstrap replicates ({:.1}%) had no estimate (the chosen model's MLE did not exist); the limits use the others",
            boot.failures,
            boot.replicates,
            100.0 * boot.failure_share
        ));
    }
    let at_level =
        |v: &[bootstrap::Limits]| v.iter().find(|l| (l.level - level).abs() < 1e-12).cloned();
    match at_level(&boot.bca).filter(|l| l.lower.is_some() && l.upper.is_some()) {
        Some(l) => {
            est.interval = Some(Interval {
                lower: l.lower,
                upper: l.upper,
                level,
                kind: Construction::BootstrapBca,
                center: None,
            })
        }
        None => {
            est.warnings.push("BCa limits unavailable (all replicates on one side of N̂, or the jackknife failed); percentile limits given".into());
            if let Some(l) = at_level(&boot.percentile) {
                est.interval = Some(Interval {
                    lower: l.lower,
                    upper: l.upper,
                    level,
                    kind: Construction::BootstrapPercentile,
                    center: None,
                });
            }
        }
    }
    est.bootstrap = Some(boot);
    Ok(())
}
