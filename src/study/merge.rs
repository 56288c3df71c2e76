//! Shards back into one study: the parts of one study and seed, each shard once and none
//! missing, their replicates put in index order and the summary recomputed from them, so
//! that the merged document is byte for byte the one a single process writes.

use super::{SimulationDoc, summary};
use crate::error::{Error, Result};

/// Reads a part written by `simulate --shard`.
pub fn read_part(path: &str) -> Result<SimulationDoc> {
    let bytes = crate::data::parse::read_input(path)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::input(
            path,
            1,
            1,
            "expected UTF-8 JSON text, found bytes that are not UTF-8",
        )
    })?;
    let doc: SimulationDoc =
        crate::job::parse_document(path, &text, "simulation result", super::SIMULATION_SCHEMA)?;
    if doc.schema != super::SIMULATION_SCHEMA {
        return Err(Error::input(
            path,
            1,
            1,
            format!(
                "expected a part of a study (\"schema\": \"{}\"), found \"{}\"",
                super::SIMULATION_SCHEMA,
                doc.schema
            ),
        ));
    }
    Ok(doc)
}

/// Merges the parts (with the files they came from, for messages).
pub fn merge(parts: Vec<(String, SimulationDoc)>) -> Result<SimulationDoc> {
    let usage = |m: String| Err(Error::Usage(m));
    let Some((first_name, first)) = parts.first() else {
        return usage("merge needs at least one part".into());
    };
    let study_of = |d: &SimulationDoc| serde_json::to_string(&d.study).unwrap_or_default();
    let study = study_of(first);
    let Some(count) = first.shard.map(|s| s.count) else {
        return usage(format!(
            "{first_name}: is a whole study, not a shard (written without --shard); nothing to merge"
        ));
    };
    let mut seen: Vec<Option<&str>> = vec![None; count as usize];
    for (name, d) in &parts {
        let Some(s) = d.shard else {
            return usage(format!(
                "{name}: is a whole study, not a shard (written without --shard)"
            ));
        };
        if s.count != count {
            return usage(format!(
                "{name}: is shard {}/{} but {first_name} is one of {count} shards: parts of different splits cannot be merged",
                s.index, s.count
            ));
        }
        if study_of(d) != study {
            let why = if d.study.seed != first.study.seed {
                format!(
                    "seed {} against {}",
                    d.study.seed.unwrap_or_default(),
                    first.study.seed.unwrap_or_default()
                )
            } else if d.study.replicates != first.study.replicates {
                format!(
                    "{} replicates against {}",
                    d.study.replicates.get(),
                    first.study.replicates.get()
                )
            } else {
                "another study".to_string()
            };
            return usage(format!(
                "{name}: is a part of a different study than {first_name} ({why}): parts must come from one study file, seed and replicate count"
            ));
        }
        if d.truth != first.truth || d.version != first.version {
            return usage(format!(
                "{name}: was run with other data or another version of darkfigure than {first_name}"
            ));
        }
        if let Some(other) = seen[s.index as usize] {
            return usage(format!(
                "{name} and {other} are both shard {}/{count}: each shard must be given once",
                s.index
            ));
        }
        seen[s.index as usize] = Some(name);
        let r_all = d.study.replicates.get() as u64;
        let expected: Vec<u64> = (s.index..r_all).step_by(count as usize).collect();
        let got: Vec<u64> = d.replicates.iter().map(|r| r.index).collect();
        if got != expected {
            return usage(format!(
                "{name}: shard {}/{count} should hold replicates {}, found others: the file was changed or cut short",
                s.index,
                describe(&expected)
            ));
        }
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return usage(format!(
            "shard{} {} missing: every shard 0/{count} to {}/{count} is needed",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            count - 1
        ));
    }
    let mut doc = first.clone();
    let mut all: Vec<_> = parts.into_iter().flat_map(|(_, d)| d.replicates).collect();
    all.sort_by_key(|r| r.index);
    doc.summary = summary::summarise(&doc.truth, &all);
    doc.replicates = all;
    doc.shard = None;
    doc.seconds = Vec::new();
    Ok(doc)
}

fn describe(v: &[u64]) -> String {
    match v {
        [] => "none".into(),
        [a] => a.to_string(),
        [a, b] => format!("{a} and {b}"),
        [a, b, .., z] => format!("{a}, {b}, …, {z}"),
    }
}
