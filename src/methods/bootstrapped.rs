//! The bootstrap of an estimate: the replicates of `inference::bootstrap` (each repeating
//! the method through the estimator `Method::run` hands over, model choice included)
//! become the estimate's draws, its BCa interval (percentile when BCa fails) and a warning
//! about replicates without an estimate. No interval, and a warning saying why, when fewer
//! usable replicates than `inference::bootstrap::needed` at the job's level remain.

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
    let levels = levels(level);
    let noop = crate::montecarlo::no_progress;
    let progress: crate::montecarlo::Progress = match progress {
        Some(p) => &*p.0,
        None => &noop,
    };
    let boot = bootstrap::run(
        table,
        point,
        fitted.as_deref(),
        level,
        &levels,
        b,
        estimator,
        progress,
    )?;
    present(est, boot, level, false);
    Ok(())
}

/// The point a bootstrap is centred on: the estimate's N̂ when it is `ok`; otherwise none,
/// and a warning on the estimate saying why no bootstrap was run.
pub(super) fn point_of(est: &mut Estimate) -> Option<f64> {
    let point = est
        .population
        .filter(|_| est.status == super::types::Status::Ok);
    if point.is_none() {
        est.warnings
            .push("no bootstrap: the estimate on the data has no number".into());
    }
    point
}

/// The levels a bootstrap makes limits at: 80, 90 and 95% (what a study reads) and the
/// estimate's own.
pub(super) fn levels(level: f64) -> Vec<f64> {
    let mut levels = vec![0.8, 0.9, 0.95, level];
    levels.sort_by(f64::total_cmp);
    levels.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    levels
}

/// Makes a bootstrap the estimate's draws and interval: BCa limits (percentile when BCa
/// lacks support), or percentile limits first when `percentile_first` (the single-source
/// package's choice), none below `needed`, with warnings saying which and why.
pub(super) fn present(
    est: &mut Estimate,
    mut boot: bootstrap::Bootstrap,
    level: f64,
    percentile_first: bool,
) {
    boot.withhold_unsupported();
    let ok: Vec<f64> = boot.values.iter().flatten().copied().collect();
    if !ok.is_empty() {
        let mut sorted = ok.clone();
        sorted.sort_by(f64::total_cmp);
        let mut draws = Draws::summarise(&ok, |q| bootstrap::quantile8(&sorted, q));
        // A tail quantile is a limit by another name: held to the same support.
        draws
            .quantiles
            .retain(|&(p, _)| bootstrap::supported(p, ok.len()));
        est.draws = Some(draws);
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
    let whole = |l: &bootstrap::Limits| l.lower.is_some() && l.upper.is_some();
    if boot.usable < boot.needed {
        let instead = match &est.interval {
            Some(iv) => format!(
                "the interval shown is the fitted model's own ({}), which does not repeat the model choice",
                iv.kind
            ),
            None => "no interval is given".into(),
        };
        est.warnings.push(format!(
            "no bootstrap interval: {} of {} bootstrap replicates gave an estimate, and a {}% interval needs at least {} ({} beyond each limit); {instead}; run more replicates (\"bootstrap\" in a job, --bootstrap on the command line)",
            boot.usable,
            boot.replicates,
            crate::inference::interval::level_percent(level),
            boot.needed,
            bootstrap::MIN_TAIL
        ));
    } else {
        let bca = at_level(&boot.bca).filter(whole);
        let pct = at_level(&boot.percentile).filter(whole);
        let chosen = match (percentile_first, bca, pct) {
            (true, _, Some(p)) => Some((p, Construction::BootstrapPercentile)),
            (_, Some(b), _) => Some((b, Construction::BootstrapBca)),
            (false, None, Some(p)) => {
                est.warnings.push(format!(
                    "BCa limits unavailable (all replicates on one side of N̂, the jackknife failed, or a BCa limit falls where fewer than {} replicates lie beyond it); percentile limits given",
                    bootstrap::MIN_TAIL
                ));
                Some((p, Construction::BootstrapPercentile))
            }
            _ => None,
        };
        if let Some((l, kind)) = chosen {
            est.interval = Some(Interval {
                lower: l.lower,
                upper: l.upper,
                level,
                kind,
                center: None,
            });
        }
    }
    est.bootstrap = Some(boot);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::bootstrap::BootKind;

    fn table() -> CaptureTable {
        let names = ["A", "B"].map(String::from).to_vec();
        CaptureTable::new(names, [(0b01, 60), (0b10, 50), (0b11, 40)]).unwrap()
    }

    fn boot(replicates: usize) -> BootOptions {
        BootOptions {
            replicates,
            seed: 5,
            kind: BootKind::Nonparametric,
        }
    }

    /// N̂ of a resampled table: the Petersen estimate, which varies with the overlap.
    fn petersen(t: &CaptureTable) -> Option<f64> {
        let c = |h| {
            t.cells()
                .iter()
                .find(|x| x.0 == h)
                .map_or(0.0, |x| x.1 as f64)
        };
        let m = c(0b11);
        (m > 0.0).then(|| (c(0b01) + m) * (c(0b10) + m) / m)
    }

    fn profiled() -> Estimate {
        Estimate {
            interval: Some(Interval {
                lower: Some(200.0),
                upper: Some(260.0),
                level: 0.95,
                kind: Construction::Profile,
                center: None,
            }),
            ..Estimate::blank()
        }
    }

    #[test]
    fn too_few_replicates_give_no_bootstrap_interval() {
        let s = Settings::default();
        let mut e = profiled();
        attach(&table(), &mut e, 225.0, &s, None, boot(50), &petersen).unwrap();
        assert_eq!(
            e.interval.as_ref().map(|i| i.kind),
            Some(Construction::Profile)
        );
        assert!(
            e.warnings[0].starts_with("no bootstrap interval: 50 of 50")
                && e.warnings[0].contains("at least 400"),
            "{:?}",
            e.warnings
        );
        let b = e.bootstrap.as_ref().unwrap();
        assert_eq!((b.usable, b.needed), (50, 400));
        assert!(b.percentile.iter().all(|l| l.lower.is_none()));
        // Only the median has 10 replicates beyond it.
        let q: Vec<f64> = e
            .draws
            .as_ref()
            .unwrap()
            .quantiles
            .iter()
            .map(|q| q.0)
            .collect();
        assert_eq!(q, [0.5]);
        // Replicates that fail do not count: half of 800 failing leaves too few.
        let mut e = Estimate::blank();
        let flaky = |t: &CaptureTable| {
            petersen(t).filter(|_| t.cells().iter().any(|c| c.0 == 0b01 && c.1 % 2 == 0))
        };
        attach(&table(), &mut e, 225.0, &s, None, boot(800), &flaky).unwrap();
        let b = e.bootstrap.as_ref().unwrap();
        assert!(b.usable < 400 && b.failures > 300, "{} usable", b.usable);
        assert!(e.interval.is_none());
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("no interval is given")),
            "{:?}",
            e.warnings
        );
    }

    #[test]
    fn enough_replicates_give_a_bootstrap_interval() {
        let mut e = profiled();
        let s = Settings::default();
        attach(&table(), &mut e, 225.0, &s, None, boot(400), &petersen).unwrap();
        let iv = e.interval.as_ref().unwrap();
        assert!(matches!(
            iv.kind,
            Construction::BootstrapBca | Construction::BootstrapPercentile
        ));
        assert!(
            iv.lower.unwrap() < 225.0 && 225.0 < iv.upper.unwrap(),
            "{iv:?}"
        );
        assert_eq!(e.draws.as_ref().unwrap().quantiles.len(), 7);
    }
}
