//! Simulation studies: how often does an interval procedure cover the truth? A study
//! (`darkfigure.study/1`, [`spec`]) names a generating model with a known population
//! ([`generate`]) and the procedures to try; [`run`] draws R datasets, runs every procedure
//! on each and keeps every replicate's estimate and intervals at 80, 90 and 95%; [`summary`]
//! turns them into bias, RMSE and coverage. Replicate r draws its data from stream r of one
//! seed and procedure j's randomness from a seed derived from (seed, j, r), so a replicate's
//! result does not depend on the thread count or on how the replicates are split into
//! shards (`--shard i/n` runs r = i, i + n, …); [`merge`] puts shards back together into
//! the bytes one process writes. [`file`] reads a study file; [`calibrate`] points the
//! same machinery at the user's own data, with generators fitted to them (log-linear fits
//! and [`latent`] classes). Above the methods and the strata totals, beside `job`, which
//! calls [`calibrate`] for a job's `calibrate` section.

pub mod calibrate;
pub mod evidence;
pub mod file;
pub mod generate;
pub mod latent;
pub mod merge;
pub mod record;
pub mod spec;
pub mod summary;

use crate::aggregate::{StratumResult, totals};
use crate::data::{CaptureTable, Dataset};
use crate::error::{Error, Result};
use crate::inference::bootstrap::{self, BootOptions};
use crate::methods::{Context, Estimate, Method, ProgressFn, Status};
use crate::montecarlo::{DEFAULT_SEED, derive_seed, stream};
use generate::CellModel;
use rayon::prelude::*;
pub use record::{
    LEVELS, LevelInterval, MAX_SHARDS, Outcome, ReplicateRecord, Shard, Truth, WHOLE,
};
use serde::{Deserialize, Serialize};
pub use spec::{Procedure, STUDY_SCHEMA, Study, StudyReplicates};
pub use summary::Summary;

/// Most answers (datasets × procedures × targets) one run keeps in memory, about 2 GB.
pub const MAX_OUTCOMES: u64 = 10_000_000;

/// Schema tag of a study's result.
pub const SIMULATION_SCHEMA: &str = "darkfigure.simulation/1";

/// A study's result (`darkfigure.simulation/1`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationDoc {
    /// `darkfigure.simulation/1`.
    pub schema: String,
    /// Program version.
    pub version: String,
    /// The study as run (seed and replicates resolved).
    pub study: Study,
    /// The levels of the intervals.
    pub levels: Vec<f64>,
    /// The true populations.
    pub truth: Vec<Truth>,
    /// The part of the replicates this document holds (absent: all of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// Each procedure's performance on each target, over the replicates held here.
    pub summary: Vec<Summary>,
    /// Every dataset's answers, by index.
    pub replicates: Vec<ReplicateRecord>,
    /// Mean seconds per dataset of each procedure (not written: it depends on the machine).
    #[serde(skip)]
    pub seconds: Vec<(String, f64)>,
}

/// What the command line may change in a study.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Datasets to draw instead of the study's count.
    pub replicates: Option<StudyReplicates>,
    /// Seed instead of the study's.
    pub seed: Option<u64>,
    /// Run only this part of the replicates.
    pub shard: Option<Shard>,
    /// Called with 1 for every dataset finished.
    pub progress: Option<ProgressFn>,
}

/// Builds the study's populations (a fitted model is fitted here) and checks every
/// procedure against the data it will meet; errors at the study's JSON paths.
pub fn prepare(study: &Study, path: &str) -> Result<Vec<(Option<String>, CellModel)>> {
    let base = std::path::Path::new(path).parent();
    let models = generate::build(&study.population, base, path)?;
    let lists = &models[0].1.lists;
    // A table with every list seen once stands for the data the methods will meet: what
    // they refuse depends on the lists, not the counts.
    // One register's counts: the data the population was fitted to.
    let probe = match &models[0].1.counts {
        Some(c) => Dataset::Counts(c.model.template.clone()),
        None => Dataset::Table(CaptureTable::new(
            lists.clone(),
            (0..lists.len()).map(|j| (1u64 << j, 1u64)),
        )?),
    };
    for (i, p) in study.procedures.iter().enumerate() {
        p.method.check_data(&probe).map_err(|e| match e {
            Error::At { path: f, message } => Error::At {
                path: format!("procedures[{i}].method.{f}"),
                message,
            },
            Error::Usage(message) => Error::At {
                path: format!("procedures[{i}].method"),
                message,
            },
            other => other,
        })?;
    }
    Ok(models)
}

/// Notices of work that grows with 2^k, one per procedure that faces it (see
/// `Method::advance_notice`), worded to follow `NAME: `.
pub fn advance_notices(
    study: &Study,
    models: &[(Option<String>, CellModel)],
) -> Vec<(String, String)> {
    let lists = &models[0].1.lists;
    let Ok(probe) = CaptureTable::new(lists.clone(), (0..lists.len()).map(|j| (1u64 << j, 1u64)))
    else {
        return Vec::new();
    };
    study
        .procedures
        .iter()
        .filter_map(|p| {
            p.method
                .advance_notice(&Dataset::Table(probe.clone()))
                .map(|n| (p.display_name(), format!("{n}, on every dataset")))
        })
        .collect()
}

/// The truth of each target: the strata (or the one population) and their total.
fn truths(models: &[(Option<String>, CellModel)]) -> Vec<Truth> {
    let mut out: Vec<Truth> = models
        .iter()
        .map(|(name, m)| Truth {
            target: name.clone().unwrap_or_else(|| WHOLE.to_string()),
            population: m.population,
            lists: m.lists.clone(),
            seen_share: m.seen_share(),
        })
        .collect();
    if models.len() > 1 {
        let n: u64 = models.iter().map(|(_, m)| m.population).sum();
        let seen: f64 = models
            .iter()
            .map(|(_, m)| m.population as f64 * m.seen_share())
            .sum();
        out.push(Truth {
            target: "total".into(),
            population: n,
            lists: models[0].1.lists.clone(),
            seen_share: seen / n as f64,
        });
    }
    out
}

/// Runs a study (or one shard of it) whose populations `prepare` built.
pub fn run(
    study: &Study,
    models: &[(Option<String>, CellModel)],
    opts: &RunOptions,
) -> Result<SimulationDoc> {
    let mut study = study.clone();
    if let Some(r) = opts.replicates {
        study.replicates = r;
    }
    let seed = opts.seed.or(study.seed).unwrap_or(DEFAULT_SEED);
    study.seed = Some(seed);
    let r_all = study.replicates.get() as u64;
    let shard = opts.shard.unwrap_or(Shard { index: 0, count: 1 });
    let indices: Vec<u64> = (shard.index..r_all).step_by(shard.count as usize).collect();
    let targets = models.len() + usize::from(models.len() > 1);
    let outcomes = indices.len() as u128 * study.procedures.len() as u128 * targets as u128;
    if outcomes > MAX_OUTCOMES as u128 {
        return Err(Error::Usage(format!(
            "{} datasets × {} procedures × {targets} targets would keep {outcomes} answers in memory, more than {MAX_OUTCOMES}: run the study in shards (--shard i/n, then merge) or with fewer replicates",
            indices.len(),
            study.procedures.len()
        )));
    }
    let names: Vec<String> = study
        .procedures
        .iter()
        .map(Procedure::display_name)
        .collect();
    let runs: Vec<(ReplicateRecord, Vec<f64>)> = indices
        .par_iter()
        .map(|&r| {
            let out = one_replicate(&study, &names, models, seed, r);
            if let Some(p) = &opts.progress {
                (p.0)(1);
            }
            out
        })
        .collect();
    let truth = truths(models);
    let mut seconds: Vec<(String, f64)> = names.iter().map(|n| (n.clone(), 0.0)).collect();
    for (_, t) in &runs {
        for (s, x) in seconds.iter_mut().zip(t) {
            s.1 += x / runs.len().max(1) as f64;
        }
    }
    let replicates: Vec<ReplicateRecord> = runs.into_iter().map(|(r, _)| r).collect();
    Ok(SimulationDoc {
        schema: SIMULATION_SCHEMA.into(),
        version: crate::VERSION.into(),
        summary: summary::summarise(&truth, &replicates),
        study,
        levels: LEVELS.to_vec(),
        truth,
        shard: opts.shard.filter(|s| s.count > 1),
        replicates,
        seconds,
    })
}

/// The seed of procedure j on dataset r: its own stream whatever else the study holds.
pub fn procedure_seed(seed: u64, j: usize, r: u64) -> u64 {
    derive_seed(derive_seed(seed, j + 1), r as usize)
}

/// Dataset r: drawn, and every procedure run on it; with the seconds each procedure took.
fn one_replicate(
    study: &Study,
    names: &[String],
    models: &[(Option<String>, CellModel)],
    seed: u64,
    r: u64,
) -> (ReplicateRecord, Vec<f64>) {
    let mut rng = stream(derive_seed(seed, 0), r);
    let tables: Vec<Result<Dataset>> = models.iter().map(|(_, m)| m.draw(&mut rng)).collect();
    let mut results = Vec::new();
    let mut seconds = Vec::new();
    for (j, p) in study.procedures.iter().enumerate() {
        let start = std::time::Instant::now();
        let s = procedure_seed(seed, j, r);
        let ctx = Context {
            seed: s,
            bootstrap: p.bootstrap.map(|b| BootOptions {
                replicates: b.get() as usize,
                seed: s,
                kind: p.bootstrap_kind,
            }),
            ..Context::default()
        };
        let mut strata = Vec::new();
        for ((name, _), table) in models.iter().zip(&tables) {
            let target = name.clone().unwrap_or_else(|| WHOLE.to_string());
            let (est, observed) = match table {
                Ok(t) => (estimate(&p.method, t, &ctx), t.observed()),
                Err(e) => (failed(&p.method, 0, &e.to_string()), 0),
            };
            results.push(outcome(
                &names[j],
                &target,
                observed,
                &est,
                &levels_of(&p.method, &est, table.as_ref().ok(), &ctx),
            ));
            strata.push(StratumResult {
                stratum: target,
                observed,
                estimates: vec![est],
            });
        }
        if strata.len() > 1 {
            results.push(total(&names[j], &strata));
        }
        seconds.push(start.elapsed().as_secs_f64());
    }
    (ReplicateRecord { index: r, results }, seconds)
}

/// The method's first estimate on a dataset, or a `failed` one saying why.
fn estimate(m: &Method, t: &Dataset, ctx: &Context) -> Estimate {
    match m.run(t, ctx) {
        Ok(v) => v
            .into_iter()
            .next()
            .unwrap_or_else(|| failed(m, t.observed(), "no estimate")),
        Err(e) => failed(m, t.observed(), &e.to_string()),
    }
}

fn failed(m: &Method, observed: u64, why: &str) -> Estimate {
    let id = m.id().as_str();
    Estimate {
        method: id.into(),
        label: id.into(),
        status: Status::Failed,
        observed,
        warnings: vec![format!("method {id} gave no estimate: {why}")],
        ..Estimate::blank()
    }
}

/// The estimate's intervals at every level of the study, each made the way the method
/// makes its own: the limits a method records at each level (`pooled`), a bootstrap's BCa limits (percentile where BCa has no support) from the
/// same replicates, posterior quantiles from the same draws, and otherwise the method run
/// again at that level (profile, Wald and closed-form intervals are deterministic).
fn levels_of(
    m: &Method,
    est: &Estimate,
    table: Option<&Dataset>,
    ctx: &Context,
) -> Vec<Option<crate::inference::Interval>> {
    use crate::inference::{Construction, Interval};
    let top = LEVELS[LEVELS.len() - 1];
    LEVELS
        .iter()
        .map(|&l| {
            if !est.status.has_number() {
                return None;
            }
            if let Some(v) = est.options.level_limits() {
                let x = v.iter().find(|x| (x.level - l).abs() < 1e-12)?;
                return Some(Interval {
                    lower: Some(x.lower?),
                    upper: Some(x.upper?),
                    level: l,
                    kind: est.interval.as_ref()?.kind,
                    center: None,
                });
            }
            if let Some(boot) = &est.bootstrap {
                if boot.usable < bootstrap::needed(l) {
                    return None;
                }
                let find = |v: &[bootstrap::Limits]| {
                    v.iter()
                        .find(|x| {
                            (x.level - l).abs() < 1e-12 && x.lower.is_some() && x.upper.is_some()
                        })
                        .cloned()
                };
                let bca = || find(&boot.bca).map(|x| (x, Construction::BootstrapBca));
                let pct = || find(&boot.percentile).map(|x| (x, Construction::BootstrapPercentile));
                // The single-source methods give percentile limits first, as their package.
                let first = if matches!(m, Method::SingleSource(..)) {
                    pct().or_else(bca)
                } else {
                    bca().or_else(pct)
                };
                return first.map(|(x, kind)| Interval {
                    lower: x.lower,
                    upper: x.upper,
                    level: l,
                    kind,
                    center: None,
                });
            }
            if (l - top).abs() < 1e-12 {
                return est.interval.clone();
            }
            if let (Some(iv), Some(d)) = (&est.interval, &est.draws)
                && iv.kind.is_posterior()
            {
                let q = |p: f64| {
                    d.quantiles
                        .iter()
                        .find(|x| (x.0 - p).abs() < 1e-12)
                        .map(|x| x.1)
                };
                let (lo, hi) = (q((1.0 - l) / 2.0)?, q((1.0 + l) / 2.0)?);
                return Some(Interval {
                    lower: Some(lo),
                    upper: Some(hi),
                    level: l,
                    kind: iv.kind,
                    center: None,
                });
            }
            let t = table?;
            let again = Context {
                level: crate::checked::Level::try_from(l).ok()?,
                bootstrap: None,
                ..ctx.clone()
            };
            m.run(t, &again)
                .ok()?
                .into_iter()
                .next()
                .filter(|e| e.status.has_number())?
                .interval
        })
        .collect()
}

fn outcome(
    procedure: &str,
    target: &str,
    observed: u64,
    est: &Estimate,
    ivs: &[Option<crate::inference::Interval>],
) -> Outcome {
    let number = est.status.has_number();
    Outcome {
        procedure: procedure.into(),
        target: target.into(),
        observed,
        status: est.status.as_str().into(),
        population: est.population.filter(|_| number),
        intervals: LEVELS
            .iter()
            .zip(ivs)
            .map(|(&level, iv)| match iv {
                Some(iv) if number && iv.lower.is_some() => LevelInterval {
                    level,
                    lower: iv.lower,
                    upper: iv.upper,
                    kind: Some(iv.kind.as_str().into()),
                },
                _ => LevelInterval {
                    level,
                    lower: None,
                    upper: None,
                    kind: None,
                },
            })
            .collect(),
    }
}

/// The strata's total: N̂ summed, the intervals from the strata's draws summed replicate by
/// replicate (none when the procedure keeps no draws).
fn total(procedure: &str, strata: &[StratumResult]) -> Outcome {
    let observed = strata.iter().map(|s| s.observed).sum();
    let per_level: Vec<_> = LEVELS
        .iter()
        .map(|&l| totals(strata, l).into_iter().next())
        .collect();
    let first = per_level.iter().flatten().next();
    let status = match first {
        Some(t) if t.population.is_some() => "ok".to_string(),
        Some(t) => t.status.clone(),
        None => "failed".to_string(),
    };
    Outcome {
        procedure: procedure.into(),
        target: "total".into(),
        observed,
        status,
        population: first.and_then(|t| t.population),
        intervals: LEVELS
            .iter()
            .zip(&per_level)
            .map(|(&level, t)| {
                let iv = t
                    .as_ref()
                    .and_then(|t| t.interval.as_ref())
                    .filter(|iv| iv.lower.is_some());
                LevelInterval {
                    level,
                    lower: iv.and_then(|i| i.lower),
                    upper: iv.and_then(|i| i.upper),
                    kind: iv.map(|i| i.kind.as_str().to_string()),
                }
            })
            .collect(),
    }
}

/// Every replicate's answers as CSV: one row per dataset, procedure and target.
pub fn to_csv(doc: &SimulationDoc) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "replicate".to_string(),
        "procedure".into(),
        "target".into(),
        "true_population".into(),
        "observed".into(),
        "status".into(),
        "population".into(),
    ];
    for l in LEVELS {
        let p = crate::inference::interval::level_percent(l);
        header.push(format!("lower_{p}"));
        header.push(format!("upper_{p}"));
        header.push(format!("kind_{p}"));
    }
    let io = |e: csv::Error| Error::Numerical(format!("CSV: {e}"));
    w.write_record(&header).map_err(io)?;
    let num = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    for r in &doc.replicates {
        for o in &r.results {
            let n = doc
                .truth
                .iter()
                .find(|t| t.target == o.target)
                .map_or(0, |t| t.population);
            let mut row = vec![
                r.index.to_string(),
                o.procedure.clone(),
                o.target.clone(),
                n.to_string(),
                o.observed.to_string(),
                o.status.clone(),
                num(o.population),
            ];
            for iv in &o.intervals {
                row.push(num(iv.lower));
                row.push(num(iv.upper));
                row.push(iv.kind.clone().unwrap_or_default());
            }
            w.write_record(&row).map_err(io)?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Numerical(format!("CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Numerical(format!("CSV: {e}")))
}
