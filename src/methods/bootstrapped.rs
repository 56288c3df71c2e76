//! A method repeated inside the bootstrap: how each bootstrappable method estimates N on a
//! resampled table (model choice included), handed to `inference::bootstrap`, whose
//! replicates then become the estimate's draws and BCa interval. Called by `Method::run`.

use super::spec::{Context, Method};
use super::{Draws, Estimate, Interval, IntervalKind, Settings, Status, loglinear};
use crate::data::{CaptureTable, Dataset};
use crate::error::Result;
use crate::inference::bootstrap::{self, BootOptions};
use crate::loglinear::ModelSpec;

/// Runs the bootstrap for one estimate and makes its BCa limits the interval.
pub(super) fn attach(
    method: &Method,
    table: &CaptureTable,
    est: &mut Estimate,
    ctx: &Context,
    b: BootOptions,
) -> Result<()> {
    let Some(point) = est.population.filter(|_| est.status == Status::Ok) else {
        est.warnings
            .push("no bootstrap: the estimate on the data has no number".into());
        return Ok(());
    };
    let settings = method.settings(ctx);
    let inner = Settings {
        interval: IntervalKind::None,
        ..settings
    };
    // BIC: each replicate chooses among the data's ntop models (refitting all 2^15 would
    // make the bootstrap a thousand times dearer); the others repeat the whole method.
    let candidates: Vec<ModelSpec> = match method {
        Method::Bic(_) => method
            .run_plain(&Dataset::Table(table.clone()), &inner, ctx.seed)?
            .iter()
            .filter_map(|e| e.model.as_ref())
            .filter_map(|m| ModelSpec::parse(m, table.lists()).ok())
            .collect(),
        _ => Vec::new(),
    };
    let estimator = |t: &CaptureTable| -> Option<f64> {
        if let Method::Bic(_) = method {
            return candidates
                .iter()
                .filter_map(|ms| loglinear::fit_spec(t, ms, &inner, "bic").ok())
                .filter(|e| e.status == Status::Ok)
                .filter_map(|e| Some((e.fit.as_ref()?.bic, e.population?)))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|x| x.1);
        }
        method
            .run_plain(&Dataset::Table(t.clone()), &inner, ctx.seed)
            .ok()?
            .into_iter()
            .next()
            .filter(|e| e.status == Status::Ok)?
            .population
    };
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
    let progress: crate::montecarlo::Progress = match &ctx.progress {
        Some(p) => &*p.0,
        None => &noop,
    };
    let boot = bootstrap::run(
        table,
        point,
        fitted.as_deref(),
        &levels,
        b,
        &estimator,
        progress,
    )?;
    let ok: Vec<f64> = boot.values.iter().flatten().copied().collect();
    if !ok.is_empty() {
        let mut sorted = ok.clone();
        sorted.sort_by(f64::total_cmp);
        let mean = ok.iter().sum::<f64>() / ok.len() as f64;
        let sd = (ok.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
            / (ok.len().max(2) - 1) as f64)
            .sqrt();
        let quantiles = [0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975]
            .iter()
            .map(|&q| (q, bootstrap::quantile8(&sorted, q)))
            .collect();
        est.draws = Some(Draws {
            count: ok.len(),
            mean,
            sd,
            quantiles,
            values: Vec::new(),
            exact: None,
        });
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
                kind: "bootstrap-bca".into(),
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
                    kind: "bootstrap-percentile".into(),
                    center: None,
                });
            }
        }
    }
    est.bootstrap = Some(boot);
    Ok(())
}
