//! Calibration: the simulation machinery pointed at the user's own data. How often would
//! each interval procedure of a job cover the true number on data like these? The data
//! are simulated from models fitted to them — every log-linear method of the job (its
//! chosen model's fitted cells, as a study's `fitted` population), and two latent classes
//! fitted by EM ([`super::latent`]) — and every procedure is run on R datasets from each;
//! the answer is a table generator × procedure with the coverage of the 80, 90 and 95%
//! intervals (± binomial standard error), the median width and the bias. When the
//! generators disagree, the coverage depends on which model is true, and the report says
//! so. Each generator runs as a study built in code (`study::run`), its seed derived from
//! the job's, so the same job and seed give the same table whatever the thread count.
//!
//! The job's `calibrate` section is [`CalibrateSpec`]; the result's `calibration` field is
//! [`Calibration`]. Neither this file nor `study::run` depends on `job`, which calls them.

use super::latent::{self, TwoClassFit};
use super::spec::{
    ClassSpec, FittedSpec, Generator, LatentSpec, MAX_LISTS, MAX_POPULATION, Procedure,
    STUDY_SCHEMA, Study, StudyReplicates,
};
use super::summary::Summary;
use super::{LEVELS, RunOptions, generate::CellModel};
use crate::checked::{Count, Replicates};
use crate::data::source::DataSpec;
use crate::data::{CaptureTable, Dataset};
use crate::error::{Error, Result};
use crate::inference::IntervalKind;
use crate::inference::bootstrap::BootKind;
use crate::methods::{Method, MethodId, ProgressFn};
use crate::montecarlo::derive_seed;
use serde::{Deserialize, Serialize};

/// Datasets drawn from each generating model: 1 to 10,000.
pub type CalibrationReplicates = Count<1, 10_000>;

/// Datasets per generating model when the section does not say.
pub const DEFAULT_REPLICATES: CalibrationReplicates = Count::of(200);

/// The index under which a job's seed gives the calibration its own (strata take
/// `derive_seed(seed, i)` for their index i, far below this).
const SEED_INDEX: usize = 1 << 32;

fn default_replicates() -> CalibrationReplicates {
    DEFAULT_REPLICATES
}

/// A job's `calibrate` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a calibrate object")]
pub struct CalibrateSpec {
    /// Datasets drawn from each generating model (default 200).
    #[serde(default = "default_replicates")]
    pub replicates: CalibrationReplicates,
}

impl Default for CalibrateSpec {
    fn default() -> Self {
        CalibrateSpec {
            replicates: DEFAULT_REPLICATES,
        }
    }
}

/// A procedure as calibrated, with the estimate of the result it stands for.
#[derive(Debug, Clone, Serialize)]
pub struct CalibratedProcedure {
    /// The procedure (its name is the one in the table).
    #[serde(flatten)]
    pub procedure: Procedure,
    /// Index in the result's `estimates` of the method's first estimate, the one the
    /// procedure reproduces (`null` when the method gave none).
    pub estimate: Option<usize>,
}

/// A generating model the data were simulated from.
#[derive(Debug, Clone, Serialize)]
pub struct GeneratorInfo {
    /// Its name in the table.
    pub name: String,
    /// `fitted` (a log-linear method's chosen model), `latent_classes`, or
    /// `single_source` (a zero-truncated regression's fit to one register's counts).
    pub kind: String,
    /// The procedures whose method's fit it is (fitted generators; none for the
    /// main-effects fit added when no method is log-linear).
    pub from: Vec<String>,
    /// The log-linear model (fitted generators).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The true N of its datasets: round(N̂) of the fit.
    pub population: u64,
    /// Expected share of the population that is seen.
    pub seen_share: f64,
    /// The two-class fit (latent-class generator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latent: Option<TwoClassFit>,
}

/// A generating model that could not be built.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// Its name.
    pub name: String,
    /// Why, in words.
    pub reason: String,
}

/// One procedure on the datasets of one generator.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationRow {
    /// The generator's name.
    pub generator: String,
    /// Coverage, bias, RMSE and width, as a study summarises them.
    #[serde(flatten)]
    pub summary: Summary,
}

/// The result's `calibration`.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// Datasets drawn from each generator.
    pub replicates: u64,
    /// The levels whose coverage is measured.
    pub levels: Vec<f64>,
    /// The procedures, in the job's order of methods.
    pub procedures: Vec<CalibratedProcedure>,
    /// The generators simulated from.
    pub generators: Vec<GeneratorInfo>,
    /// Generators that could not be built, with the reason.
    pub skipped: Vec<Skipped>,
    /// Generators × procedures.
    pub table: Vec<CalibrationRow>,
}

impl Calibration {
    /// The rows of procedure `name`, one per generator.
    pub fn rows_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a CalibrationRow> + 'a {
        self.table
            .iter()
            .filter(move |r| r.summary.procedure == name)
    }
}

/// Progress of a calibration: `planned` is called with datasets added to the work (once
/// per generator, before it runs), `done` with datasets finished.
#[derive(Clone, Debug)]
pub struct CalibrationProgress {
    /// Datasets added to the work.
    pub planned: ProgressFn,
    /// Datasets finished.
    pub done: ProgressFn,
}

/// The job's methods as the procedures a calibration runs: the job's interval kind given to
/// the methods that compute one and do not choose their own, no level (every procedure is
/// measured at 80, 90 and 95%), the job's bootstrap for the methods it repeats, and a name
/// each (a loglinear method is named by its model).
pub fn procedures(
    methods: &[Method],
    interval: IntervalKind,
    bootstrap: Option<Replicates>,
    kind: BootKind,
) -> Vec<Procedure> {
    let mut out: Vec<Procedure> = Vec::new();
    for m in methods {
        let mut raw = m.to_raw();
        raw.level = None;
        if interval != IntervalKind::default() && m.id().takes("interval") && raw.interval.is_none()
        {
            raw.interval = Some(interval);
        }
        let method = Method::from_raw(m.id(), raw).unwrap_or_else(|_| m.clone());
        let boot = bootstrap.filter(|_| m.bootstrappable());
        let mut p = Procedure {
            name: None,
            method,
            bootstrap: boot,
            bootstrap_kind: if boot.is_some() {
                kind
            } else {
                BootKind::Nonparametric
            },
        };
        let base = match &p.method {
            Method::Loglinear(o) => {
                p.display_name()
                    .replacen("loglinear", &format!("loglinear {}", o.model), 1)
            }
            _ => p.display_name(),
        };
        let mut name = base.clone();
        let mut i = 2;
        while out.iter().any(|o| o.name.as_deref() == Some(name.as_str())) {
            name = format!("{base} ({i})");
            i += 1;
        }
        p.name = Some(name);
        out.push(p);
    }
    out
}

/// Whether the methods can be calibrated on these data, beside whether they can run on
/// them (`Method::check_data`): a calibration simulates capture histories of at most
/// `MAX_LISTS` lists, and needs one estimate per dataset (a two-list estimator gives one
/// per pair). Errors are `Error::At` `calibrate` or the method's `methods[i].id`.
pub fn check(methods: &[Method], data: &Dataset) -> Result<()> {
    if let Dataset::Counts(_) = data {
        // One register's counts are simulated from the single-source methods' fits.
        if !methods
            .iter()
            .any(|m| matches!(m, Method::SingleSource(..)))
        {
            return Err(Error::at(
                "calibrate",
                "a calibration of one register's counts simulates from the single-source methods' fits; expected at least one (ztpoisson, ztgeom, …)",
            ));
        }
        return Ok(());
    }
    let Dataset::Table(t) = data else {
        return Err(Error::at(
            "calibrate",
            "a calibration simulates capture histories or one register's counts; expected a table, records or count CSV, found frequencies",
        ));
    };
    if t.k() > MAX_LISTS || t.k() < 2 {
        return Err(Error::at(
            "calibrate",
            format!(
                "a calibration simulates all 2^k histories of 2 to {MAX_LISTS} lists; the data have {}",
                t.k()
            ),
        ));
    }
    for (i, m) in methods.iter().enumerate() {
        if matches!(m.id(), MethodId::Petersen | MethodId::Chapman) && t.k() != 2 {
            return Err(Error::at(
                format!("methods[{i}].id"),
                format!(
                    "method {} gives one estimate per pair of lists, and a calibration needs one per dataset: expected two lists, the data have {}",
                    m.id(),
                    t.k()
                ),
            ));
        }
    }
    Ok(())
}

/// The calibration's seed for generator `g` (and, for g = 0, the latent-class EM's
/// starts), derived from the job's seed.
fn seed_of(seed: u64, g: usize) -> u64 {
    derive_seed(derive_seed(seed, SEED_INDEX), g)
}

/// Whether a method's fit is a log-linear model of the table's cells, which can generate
/// data.
pub fn is_loglinear(m: &Method) -> bool {
    matches!(
        m.id(),
        MethodId::Loglinear
            | MethodId::Main
            | MethodId::Stepwise
            | MethodId::StepwiseAic
            | MethodId::Bic
    )
}

/// A generator ready to run: what the result says of it, the study's population and the
/// cell probabilities.
struct Built {
    info: GeneratorInfo,
    generator: Generator,
    model: CellModel,
}

/// The table as an inline `data` object, for the studies' record of their population.
fn inline(table: &CaptureTable) -> DataSpec {
    let k = table.k();
    DataSpec::Inline {
        lists: table.lists().to_vec(),
        rows: table
            .cells()
            .iter()
            .map(|&(h, c)| {
                let mut row: Vec<i64> = (0..k).map(|j| (h >> j & 1) as i64).collect();
                row.push(c as i64);
                row
            })
            .collect(),
        source: None,
    }
}

/// Whether a population can generate datasets: a study's bounds.
fn simulable(model: &CellModel) -> Option<String> {
    let k = model.lists.len() as u64;
    if model.population > MAX_POPULATION {
        return Some(format!(
            "its N̂ ({}) is beyond the {MAX_POPULATION} people a simulation draws",
            model.population
        ));
    }
    if model.population < k {
        return Some(format!(
            "its N̂ ({}) is below the number of lists",
            model.population
        ));
    }
    None
}

/// The fitted generators (one per distinct model chosen by the log-linear methods; the
/// main-effects fit when no method is log-linear) and the latent-class one.
fn generators(
    table: &CaptureTable,
    procedures: &[Procedure],
    seed: u64,
) -> (Vec<Built>, Vec<Skipped>) {
    let mut built: Vec<Built> = Vec::new();
    let mut skipped: Vec<Skipped> = Vec::new();
    // (the generator's name, the procedure it comes from, the method)
    let mut sources: Vec<(String, Option<String>, Method)> = procedures
        .iter()
        .filter(|p| is_loglinear(&p.method))
        .map(|p| {
            let label = match &p.method {
                Method::Loglinear(o) => format!("loglinear {}", o.model),
                m => m.id().to_string(),
            };
            (
                format!("{label} fit"),
                Some(p.display_name()),
                p.method.clone(),
            )
        })
        .collect();
    if sources.is_empty() {
        sources.push((
            "main-effects fit".into(),
            None,
            Method::Main(Default::default()),
        ));
    }
    for (name, from, method) in sources {
        let from: Vec<String> = from.into_iter().collect();
        match super::generate::fitted_to(table, &method) {
            Ok((model, spec)) => {
                if let Some(b) = built
                    .iter_mut()
                    .find(|b| b.info.model.as_deref() == Some(&spec))
                {
                    b.info.from.extend(from);
                    continue;
                }
                // Two methods of one id with other options (two `stepwise` thresholds) can
                // choose different models; the table needs a name per column.
                let taken = |n: &str| {
                    built.iter().any(|b| b.info.name == n) || skipped.iter().any(|s| s.name == n)
                };
                let mut name = name;
                let base = name.clone();
                let mut i = 2;
                while taken(&name) {
                    name = format!("{base} ({i})");
                    i += 1;
                }
                if let Some(why) = simulable(&model) {
                    skipped.push(Skipped { name, reason: why });
                    continue;
                }
                built.push(Built {
                    info: GeneratorInfo {
                        name,
                        kind: "fitted".into(),
                        from,
                        model: Some(spec),
                        population: model.population,
                        seen_share: model.seen_share(),
                        latent: None,
                    },
                    generator: Generator::Fitted(FittedSpec {
                        data: inline(table),
                        method,
                    }),
                    model,
                });
            }
            Err(e) => skipped.push(Skipped {
                name,
                reason: match e {
                    Error::Usage(m) => m,
                    other => other.to_string(),
                },
            }),
        }
    }
    let name = "two latent classes".to_string();
    match latent::fit(table, seed_of(seed, 0)) {
        Ok(fit) => {
            let spec = LatentSpec {
                population: fit.population.round() as u64,
                lists: Some(table.lists().to_vec()),
                classes: fit
                    .shares
                    .iter()
                    .zip(&fit.probs)
                    .map(|(&share, probs)| ClassSpec {
                        share,
                        probs: probs.clone(),
                    })
                    .collect(),
            };
            let generator = Generator::LatentClasses(spec);
            let model = super::generate::build(&generator, None, "calibration")
                .ok()
                .and_then(|mut v| v.pop())
                .map(|(_, m)| m);
            match model {
                Some(model) => match simulable(&model) {
                    Some(why) => skipped.push(Skipped { name, reason: why }),
                    None => built.push(Built {
                        info: GeneratorInfo {
                            name,
                            kind: "latent_classes".into(),
                            from: Vec::new(),
                            model: None,
                            population: model.population,
                            seen_share: model.seen_share(),
                            latent: Some(fit),
                        },
                        generator,
                        model,
                    }),
                },
                None => skipped.push(Skipped {
                    name,
                    reason: "its class probabilities could not be turned into a population".into(),
                }),
            }
        }
        Err(e) => skipped.push(Skipped {
            name,
            reason: e.reason,
        }),
    }
    (built, skipped)
}

/// One register's counts: a generator per distinct single-source fit among the procedures
/// (its law and covariates), and the zero-truncated negative binomial with the first one's
/// covariates, which lets the counts be more dispersed than the Poisson and geometric say.
fn count_generators(
    data: &crate::data::counts::CountData,
    procedures: &[Procedure],
) -> (Vec<Built>, Vec<Skipped>) {
    use crate::methods::singlesource::Model;
    let mut built: Vec<Built> = Vec::new();
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut sources: Vec<(Option<String>, Method)> = procedures
        .iter()
        .filter(|p| matches!(p.method, Method::SingleSource(..)))
        .map(|p| (Some(p.display_name()), p.method.clone()))
        .collect();
    if let Some((_, Method::SingleSource(_, o))) = sources.first().cloned() {
        let nb = Method::SingleSource(
            Model::ZtNegbin,
            crate::methods::spec::SingleSourceChoice {
                level: None,
                formula: o.formula,
            },
        );
        sources.push((None, nb));
    }
    for (from, method) in sources {
        let Method::SingleSource(m, o) = &method else {
            continue;
        };
        // Zelterman's and Chao's fits are one law, the truncated Poisson fitted to the ones
        // and twos: one generator, named Zelterman's.
        let law = if *m == Model::Chao {
            Model::Zelterman
        } else {
            *m
        };
        match super::generate::counts_fitted_to(data, law, &o.formula) {
            Ok((model, name)) => {
                let name = format!("{name} fit");
                if let Some(b) = built.iter_mut().find(|b| b.info.name == name) {
                    b.info.from.extend(from);
                    continue;
                }
                if skipped.iter().any(|s| s.name == name) {
                    continue;
                }
                if let Some(why) = simulable(&model) {
                    skipped.push(Skipped { name, reason: why });
                    continue;
                }
                built.push(Built {
                    info: GeneratorInfo {
                        name,
                        kind: "single_source".into(),
                        from: from.into_iter().collect(),
                        model: None,
                        population: model.population,
                        seen_share: model.seen_share(),
                        latent: None,
                    },
                    generator: Generator::Fitted(FittedSpec {
                        data: DataSpec::File {
                            file: data.source.clone(),
                            format: crate::data::parse::Format::Counts,
                            lists: None,
                            occasions: None,
                            count_column: Some(data.count_column.clone()),
                        },
                        method: method.clone(),
                    }),
                    model,
                });
            }
            Err(e) => {
                let name = format!("{} fit", m.id());
                if !skipped.iter().any(|s| s.name == name) {
                    skipped.push(Skipped {
                        name,
                        reason: match e {
                            Error::Usage(m) => m,
                            other => other.to_string(),
                        },
                    });
                }
            }
        }
    }
    (built, skipped)
}

/// Runs every procedure on `replicates` datasets from each generator fitted to `table`.
/// The procedures come from [`procedures`] and were checked by [`check`]; a generator that
/// cannot be built is skipped with its reason, so a calibration without any generator is
/// an answer too (an empty table and the reasons).
pub fn run(
    data: &Dataset,
    procedures: &[Procedure],
    replicates: CalibrationReplicates,
    seed: u64,
    progress: Option<&CalibrationProgress>,
) -> Result<Calibration> {
    let (built, skipped) = match data {
        Dataset::Table(table) => generators(table, procedures, seed),
        Dataset::Counts(c) => count_generators(c, procedures),
        Dataset::Frequency(_) => {
            return Err(Error::at(
                "calibrate",
                "a calibration simulates capture histories or one register's counts, not frequencies",
            ));
        }
    };
    let r = replicates.get() as u64;
    let study_replicates =
        StudyReplicates::try_from(r).map_err(|e| Error::at("calibrate.replicates", e))?;
    let mut rows = Vec::new();
    for (g, b) in built.iter().enumerate() {
        if let Some(p) = progress {
            (p.planned.0)(r);
        }
        let study = Study {
            schema: STUDY_SCHEMA.into(),
            name: Some(b.info.name.clone()),
            description: None,
            seed: Some(seed_of(seed, g + 1)),
            replicates: study_replicates,
            population: b.generator.clone(),
            procedures: procedures.to_vec(),
        };
        let doc = super::run(
            &study,
            &[(None, b.model.clone())],
            &RunOptions {
                progress: progress.map(|p| p.done.clone()),
                ..RunOptions::default()
            },
        )?;
        rows.extend(doc.summary.into_iter().map(|summary| CalibrationRow {
            generator: b.info.name.clone(),
            summary,
        }));
    }
    Ok(Calibration {
        replicates: r,
        levels: LEVELS.to_vec(),
        procedures: procedures
            .iter()
            .map(|p| CalibratedProcedure {
                procedure: p.clone(),
                estimate: None,
            })
            .collect(),
        generators: built.into_iter().map(|b| b.info).collect(),
        skipped,
        table: rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::testing::independent_cells;

    fn table(k: usize, cells: Vec<(u64, u64)>) -> CaptureTable {
        let lists = ["A", "B", "C", "D", "E"][..k]
            .iter()
            .map(|s| s.to_string())
            .collect();
        CaptureTable::new(lists, cells).unwrap()
    }

    fn methods(ids: &[&str]) -> Vec<Method> {
        ids.iter().map(|m| m.parse().unwrap()).collect()
    }

    #[test]
    fn procedures_carry_the_job_settings_and_one_name_each() {
        let ms = methods(&[
            r#"{"id": "loglinear", "model": "[12]", "level": 0.9}"#,
            r#"{"id": "loglinear", "model": "[12]"}"#,
            "stepwise",
            "mt",
            r#"{"id": "mh-chao", "interval": "profile"}"#,
            "dga",
        ]);
        let b = Replicates::try_from(500).unwrap();
        let p = procedures(&ms, IntervalKind::WaldLog, Some(b), BootKind::Parametric);
        let names: Vec<String> = p.iter().map(Procedure::display_name).collect();
        assert_eq!(
            names,
            [
                "loglinear [12]+parametric BCa",
                "loglinear [12]+parametric BCa (2)",
                "stepwise+parametric BCa",
                "mt",
                "mh-chao",
                "dga"
            ]
        );
        // No level: every procedure is measured at 80, 90 and 95%.
        assert!(p.iter().all(|x| x.method.to_raw().level.is_none()));
        // The job's interval where the method does not choose its own.
        assert_eq!(p[3].method.to_raw().interval, Some(IntervalKind::WaldLog));
        assert_eq!(p[4].method.to_raw().interval, Some(IntervalKind::Profile));
        assert_eq!(p[5].method.to_raw().interval, None);
        assert!(p[3].bootstrap.is_none() && p[5].bootstrap.is_none());
        assert_eq!(p[3].bootstrap_kind, BootKind::Nonparametric);
        let mut study = Study {
            schema: STUDY_SCHEMA.into(),
            name: None,
            description: None,
            seed: None,
            replicates: StudyReplicates::try_from(1).unwrap(),
            population: Generator::Fitted(FittedSpec {
                data: inline(&table(3, vec![(1, 3), (2, 4), (3, 1), (4, 2)])),
                method: "main".parse().unwrap(),
            }),
            procedures: p,
        };
        // What a study file could not hold would not run as a study.
        study.check().unwrap();
        study.procedures[1].name = study.procedures[0].name.clone();
        assert!(study.check().is_err());
    }

    #[test]
    fn data_a_calibration_cannot_simulate_are_refused_at_their_place() {
        let freq = Dataset::Frequency(crate::data::FrequencyTable {
            occasions: None,
            counts: vec![5, 2],
        });
        match check(&methods(&["m0"]), &freq) {
            Err(Error::At { path, .. }) => assert_eq!(path, "calibrate"),
            other => panic!("{other:?}"),
        }
        let three = Dataset::Table(table(3, vec![(1, 3), (2, 4), (3, 1), (4, 2)]));
        match check(&methods(&["m0", "chapman"]), &three) {
            Err(Error::At { path, message }) => {
                assert_eq!(path, "methods[1].id");
                assert!(message.contains("one estimate per pair"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let two = Dataset::Table(table(2, vec![(1, 3), (2, 4), (3, 1)]));
        assert!(check(&methods(&["chapman"]), &two).is_ok());
    }

    /// Methods that choose the same model make one generator naming them all; without a
    /// log-linear method the main-effects fit stands in; three lists leave the latent
    /// classes unidentified, which is said.
    #[test]
    fn generators_are_distinct_fits_and_say_what_they_skip() {
        let t = table(3, independent_cells(8000, &[(1, 5), (1, 4), (1, 3)]));
        let p = procedures(
            &methods(&["stepwise", "stepwise-aic", "main", "mt"]),
            IntervalKind::Profile,
            None,
            BootKind::Nonparametric,
        );
        let (built, skipped) = generators(&t, &p, 1);
        assert_eq!(built.len(), 1, "{:?}", skipped);
        assert_eq!(built[0].info.name, "stepwise fit");
        assert_eq!(built[0].info.from, ["stepwise", "stepwise-aic", "main"]);
        assert_eq!(built[0].info.model.as_deref(), Some("[]"));
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].name, "two latent classes");
        assert!(
            skipped[0].reason.contains("not identifiable"),
            "{}",
            skipped[0].reason
        );
        let p = procedures(
            &methods(&["mt"]),
            IntervalKind::Profile,
            None,
            BootKind::Nonparametric,
        );
        let (built, _) = generators(&t, &p, 1);
        assert_eq!(built[0].info.name, "main-effects fit");
        assert!(built[0].info.from.is_empty());
        // Two thresholds, two models, two names.
        let mut cells = independent_cells(8000, &[(1, 5), (1, 4), (1, 3)]);
        for c in cells.iter_mut().filter(|c| c.0 == 0b011) {
            c.1 *= 3;
        }
        let t = table(3, cells);
        let p = procedures(
            &methods(&[
                r#"{"id": "stepwise", "pthresh": 1e-300}"#,
                r#"{"id": "stepwise", "pthresh": 0.5}"#,
            ]),
            IntervalKind::Profile,
            None,
            BootKind::Nonparametric,
        );
        let (built, _) = generators(&t, &p, 1);
        let names: Vec<&str> = built.iter().map(|b| b.info.name.as_str()).collect();
        assert_eq!(names, ["stepwise fit", "stepwise fit (2)"]);
        assert_eq!(built[0].info.model.as_deref(), Some("[]"));
        assert!(
            built[1]
                .info
                .model
                .as_deref()
                .is_some_and(|m| m.contains("A:B"))
        );
    }

    /// Data from independent lists, main effects' profile interval: the calibration must
    /// find it honest where its model holds (at least the 0.1% binomial quantile of 95% of
    /// 200 datasets) and the generators of the calibration must include that model.
    #[test]
    fn where_the_model_holds_the_interval_covers_as_it_says() {
        let t = table(
            4,
            independent_cells(20_000, &[(1, 5), (1, 4), (1, 3), (1, 6)]),
        );
        let p = procedures(
            &methods(&["main"]),
            IntervalKind::Profile,
            None,
            BootKind::Nonparametric,
        );
        let c = run(
            &Dataset::Table(t.clone()),
            &p,
            CalibrationReplicates::try_from(200).unwrap(),
            3,
            None,
        )
        .unwrap();
        let row = c
            .table
            .iter()
            .find(|r| r.generator == "main fit")
            .expect("the main fit generates");
        let cov = &row.summary.coverage[2];
        assert_eq!(cov.level, 0.95);
        assert_eq!(cov.with_interval, 200);
        assert!(cov.covered >= 181, "{cov:?}");
        assert!(
            (row.summary.relative_bias.unwrap()).abs() < 0.01,
            "{:?}",
            row.summary
        );
        // Four lists: the latent classes are fitted too, and on independent lists they
        // find about the same N.
        let g = c
            .generators
            .iter()
            .find(|g| g.kind == "latent_classes")
            .expect("latent");
        assert!((g.population as f64 / 20_000.0 - 1.0).abs() < 0.1, "{g:?}");
        assert_eq!(c.table.len(), 2);
    }
}
