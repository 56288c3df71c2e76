//! Reading a study file: the JSON parsed and checked with errors at file, line, column and
//! JSON path, then its populations built. Apart from `mod.rs` because it needs `job`'s
//! document reader, while `job` runs calibrations through `study::run`: one file-level
//! edge each way would be a cycle.

use super::spec::{STUDY_SCHEMA, Study};
use super::{generate::CellModel, prepare};
use crate::error::{Error, Result};

/// Reads and checks a study file and builds its populations (a fitted model is fitted
/// here): errors name the file, line, column and JSON path.
pub fn load(path: &str) -> Result<(Study, Vec<(Option<String>, CellModel)>)> {
    let bytes = crate::data::parse::read_input(path)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::input(
            path,
            1,
            1,
            "expected UTF-8 JSON text, found bytes that are not UTF-8",
        )
    })?;
    let study: Study = crate::job::parse_document(path, &text, "study", STUDY_SCHEMA)?;
    let text = text.trim_start_matches('\u{feff}');
    let located = |e| crate::job::located_in(path, text, e, "study");
    study.check().map_err(located)?;
    let models = prepare(&study, path).map_err(located)?;
    Ok((study, models))
}
