//! The wire formats, in one place: the job file (`darkfigure.job/1`, read and echoed), the
//! result document (`darkfigure.result/1`) and the `check` document (`darkfigure.check/1`).
//! Field by field they are documented in `docs/wire.md`; the golden files in
//! `tests/golden` pin their bytes. The nested types (an estimate, an interval, a stratum's
//! total, the aggregate's result) live with the code that fills them and are reached from
//! here. Beside `job` (which runs these documents) and below `report`.

use crate::checked::{DEFAULT_THRESHOLD, Level, Replicates, Threshold};
use crate::data::source::DataSpec;
use crate::loglinear::check::Check;
use crate::methods::{Estimate, IntervalKind, Method, Status};
use serde::{Deserialize, Serialize};

/// Schema tag of job files.
pub const JOB_SCHEMA: &str = "darkfigure.job/1";
/// Schema tag of result documents.
pub const RESULT_SCHEMA: &str = "darkfigure.result/1";
/// Schema tag of `check` documents.
pub const CHECK_SCHEMA: &str = "darkfigure.check/1";

fn de_schema<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s == JOB_SCHEMA {
        Ok(s)
    } else {
        Err(serde::de::Error::custom(format!(
            "expected \"{JOB_SCHEMA}\", found \"{s}\""
        )))
    }
}

/// A job: data, methods and options.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a job object")]
pub struct Job {
    /// Must be `darkfigure.job/1`.
    #[serde(deserialize_with = "de_schema")]
    pub schema: String,
    /// Short name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the job is for, and its sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The data.
    pub data: DataSpec,
    /// Master seed for Monte Carlo methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Interval level.
    #[serde(default)]
    pub level: Level,
    /// Interval kind.
    #[serde(default)]
    pub interval: IntervalKind,
    /// Methods in order (empty: the default set for the data).
    #[serde(default)]
    pub methods: Vec<Method>,
    /// Bootstrap replicates for the methods that can be repeated (log-linear ones with
    /// their model choice); none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<Replicates>,
    /// Non-parametric (default) or parametric bootstrap.
    #[serde(default)]
    pub bootstrap_kind: crate::inference::bootstrap::BootKind,
    /// Records data: the column whose values are the strata (estimated one by one; their
    /// total from the summed bootstrap draws).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strata: Option<String>,
    /// Global extrapolation from identified counts through the studies' multipliers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<crate::aggregate::global::AggregateSpec>,
    /// How often each interval would cover the truth on data simulated to look like these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibrate: Option<crate::study::calibrate::CalibrateSpec>,
    /// The report: where to write it and the small-cell threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportSpec>,
}

fn default_suppress() -> Threshold {
    DEFAULT_THRESHOLD
}

/// Report options of a job.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a report object")]
pub struct ReportSpec {
    /// File to write (`.html` or `.md`), relative to the working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Counts of identified people below this are shown as "<threshold" (default 5, from 3
    /// to 1000); `report::disclose` decides what else is withheld with them.
    #[serde(default = "default_suppress")]
    pub suppress_below: Threshold,
}

impl Job {
    /// The small-cell threshold of the job's outputs.
    pub fn suppress_below(&self) -> u64 {
        u64::from(
            self.report
                .as_ref()
                .map_or(default_suppress(), |r| r.suppress_below),
        )
    }
}

/// The two renderings of a report, told apart by the file's ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// `.html` or `.htm`: one self-contained page.
    Html,
    /// `.md` or `.markdown`.
    Markdown,
}

impl ReportFormat {
    /// The format a report file's name asks for; none for another ending.
    pub fn of(path: &str) -> Option<ReportFormat> {
        if path.ends_with(".md") || path.ends_with(".markdown") {
            Some(ReportFormat::Markdown)
        } else if path.ends_with(".html") || path.ends_with(".htm") {
            Some(ReportFormat::Html)
        } else {
            None
        }
    }
}

/// The data part of a result.
#[derive(Debug, Clone, Serialize)]
pub struct DataSummary {
    /// `table`, `frequency` or `counts` (one register's counts of times recorded).
    pub kind: String,
    /// List names (tables).
    pub lists: Vec<String>,
    /// Observed n.
    pub observed: u64,
}

/// The result document, `darkfigure.result/1`.
#[derive(Debug, Clone, Serialize)]
pub struct ResultDoc {
    /// Always `darkfigure.result/1`.
    pub schema: &'static str,
    /// Program version.
    pub version: &'static str,
    /// The job as resolved (defaults filled in).
    pub job: Job,
    /// What was read.
    pub data: DataSummary,
    /// One entry per method (or per model / pair).
    pub estimates: Vec<Estimate>,
    /// Per-stratum estimates, when the job is stratified.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub strata: Vec<crate::aggregate::StratumResult>,
    /// Totals over the strata, one per method.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub totals: Vec<crate::aggregate::Total>,
    /// The global extrapolation, when the job asks for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<crate::aggregate::global::AggregateResult>,
    /// The coverage of each interval procedure on data simulated from fits to these data,
    /// when the job asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<crate::study::calibrate::Calibration>,
    /// Warnings about the input.
    pub warnings: Vec<String>,
}

impl ResultDoc {
    /// Whether any method came to an answer — a number, or the honest status of why there
    /// is none (`mle_does_not_exist`…) — on the whole data or on a stratum, or the aggregate
    /// ran. False only when every method stopped without an answer (status `failed`).
    pub fn has_estimate(&self) -> bool {
        let answer = |e: &Estimate| e.status != Status::Failed;
        self.estimates.iter().any(answer)
            || self.strata.iter().flat_map(|s| &s.estimates).any(answer)
            || self.aggregate.is_some()
    }

    /// Each method that stopped without an answer, with its reason, once.
    pub fn failures(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let all = self
            .estimates
            .iter()
            .chain(self.strata.iter().flat_map(|s| &s.estimates));
        for e in all.filter(|e| e.status == Status::Failed) {
            for w in &e.warnings {
                if !out.contains(w) {
                    out.push(w.clone());
                }
            }
        }
        out
    }
}

/// One model's existence and identifiability, as `check` reports it.
// The document was first written with `json!`, whose keys sort: the fields stand in sorted
// order here, and the check's own fields are written sorted too (in a result document,
// where an estimate carries a check, they keep their declared order).
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// SparseMSE's code and its explanation.
    #[serde(serialize_with = "sorted")]
    pub check: Check,
    /// The model as labelled for the table's lists.
    pub model: String,
}

/// The `check` document, `darkfigure.check/1`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckDoc {
    /// List names of the table.
    pub lists: Vec<String>,
    /// One entry per model asked for.
    pub results: Vec<CheckResult>,
    /// Always `darkfigure.check/1`.
    pub schema: &'static str,
    /// Program version.
    pub version: &'static str,
}

/// Writes a value with its object keys in sorted order.
fn sorted<T: Serialize, S: serde::Serializer>(v: &T, s: S) -> std::result::Result<S::Ok, S::Error> {
    serde_json::to_value(v)
        .map_err(serde::ser::Error::custom)?
        .serialize(s)
}
