//! Where a job's data come from: a CSV file (relative to the job file) or a table carried
//! inline, as the `data` object of `darkfigure.job/1` (and of an aggregate's studies)
//! writes it, and loading it. Above the parsers (`parse.rs`), below every user of data.

use super::parse::{Format, ParseOptions, Parsed, parse_bytes, read_file, table_from_rows};
use super::{Dataset, Occasions};
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Number of occasions as a job gives it: a whole number or `"inf"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "expected a whole number of occasions (1 to 100000) or \"inf\""
)]
pub enum OccasionsSpec {
    /// t occasions.
    Finite(u32),
    /// `"inf"`: a single source without a fixed number of occasions.
    Word(InfWord),
}

/// The word `inf`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InfWord {
    /// Infinite.
    Inf,
}

impl OccasionsSpec {
    /// As the data type.
    pub fn resolve(&self) -> Occasions {
        match self {
            OccasionsSpec::Finite(t) => Occasions::Finite(*t),
            OccasionsSpec::Word(_) => Occasions::Infinite,
        }
    }
}

/// Where a job's data come from.
///
/// Written untagged; read through [`RawData`] so that a wrong or unknown field is reported
/// by name and place rather than as "did not match any variant".
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged, try_from = "RawData")]
pub enum DataSpec {
    /// A CSV file, relative to the job file.
    File {
        /// Path.
        file: String,
        /// Format (default: detect).
        #[serde(default, skip_serializing_if = "is_auto")]
        format: Format,
        /// Records CSV: list columns.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lists: Option<Vec<String>>,
        /// Frequency CSV: number of occasions.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        occasions: Option<OccasionsSpec>,
        /// Count CSV: the column of times each person was recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count_column: Option<String>,
    },
    /// A table carried in the job.
    Inline {
        /// List names.
        lists: Vec<String>,
        /// Rows of k 0/1 flags followed by a count.
        rows: Vec<Vec<i64>>,
        /// Where the numbers come from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
    },
}

/// Every field a `data` object may hold; [`DataSpec`] is checked from it.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a data object: {\"file\": CSV path} or {\"lists\": [...], \"rows\": [...]}"
)]
struct RawData {
    file: Option<String>,
    #[serde(default)]
    format: Format,
    lists: Option<Vec<String>>,
    occasions: Option<OccasionsSpec>,
    count_column: Option<String>,
    rows: Option<Vec<Vec<i64>>>,
    source: Option<String>,
}

impl TryFrom<RawData> for DataSpec {
    type Error = String;

    fn try_from(r: RawData) -> std::result::Result<Self, String> {
        match (r.file, r.rows) {
            (Some(_), Some(_)) => {
                Err("expected either \"file\" (a CSV path) or \"rows\" (an inline table) in data, found both".into())
            }
            (Some(file), None) => {
                if r.source.is_some() {
                    return Err("expected \"source\" only with inline \"rows\", found it with \"file\"".into());
                }
                Ok(DataSpec::File { file, format: r.format, lists: r.lists, occasions: r.occasions, count_column: r.count_column })
            }
            (None, Some(rows)) => {
                if r.format != Format::Auto || r.occasions.is_some() || r.count_column.is_some() {
                    return Err(
                        "expected \"format\", \"occasions\" and \"count_column\" only with \"file\", found them with inline \"rows\"".into(),
                    );
                }
                let lists = r.lists.ok_or("expected \"lists\" (the list names) with inline \"rows\"")?;
                Ok(DataSpec::Inline { lists, rows, source: r.source })
            }
            (None, None) => Err(
                "expected \"file\" (a CSV path) or \"lists\" and \"rows\" (an inline table) in data, found neither".into(),
            ),
        }
    }
}

fn is_auto(f: &Format) -> bool {
    *f == Format::Auto
}

/// Loads a job's data; `base` is the job file's directory (for relative paths) and `name`
/// the job file as errors about inline data name it.
pub fn load_data(
    spec: &DataSpec,
    base: Option<&std::path::Path>,
    name: &str,
    stratify_by: &Option<String>,
) -> Result<Parsed> {
    match spec {
        DataSpec::File {
            file,
            format,
            lists,
            occasions,
            count_column,
        } => {
            let path = match base {
                Some(b) if std::path::Path::new(file).is_relative() => b.join(file),
                _ => std::path::PathBuf::from(file),
            };
            let opts = ParseOptions {
                format: *format,
                lists: lists.clone(),
                occasions: occasions.map(|o| o.resolve()),
                stratify_by: stratify_by.clone(),
                count_column: count_column.clone(),
            };
            read_file(&path.to_string_lossy(), &opts)
        }
        DataSpec::Inline { lists, rows, .. } => {
            // A job's own table was checked, with line and column, by `job::check_job`;
            // what reaches here unchecked (a study's table) is named by file and path.
            let (table, warnings) = table_from_rows("data", lists, rows).map_err(|e| match e {
                crate::error::Error::At { path, message } => {
                    crate::error::Error::input(name, 0, 0, format!("at {path}: {message}"))
                }
                other => other,
            })?;
            Ok(Parsed {
                data: Dataset::Table(table),
                warnings: warnings
                    .into_iter()
                    .map(|(path, w)| format!("{name}: {path} {w}"))
                    .collect(),
                strata: Vec::new(),
            })
        }
    }
}

/// Parses CSV bytes given on the command line (kept here so the CLI and jobs share it).
pub fn load_bytes(name: &str, bytes: &[u8], opts: &ParseOptions) -> Result<Parsed> {
    parse_bytes(name, bytes, opts)
}
