//! Running estimation jobs: reading a job file (`darkfigure.job/1`, whose types live in
//! `wire`) with errors at file, line, column and JSON path, and `run_full`, which runs a
//! job — given by a file or built by the CLI's `estimate` from its flags — into a result
//! document; the binary only prints and writes it.

use crate::data::Dataset;
use crate::data::parse::Parsed;
pub use crate::data::source::{DataSpec, InfWord, OccasionsSpec, load_bytes, load_data};
use crate::error::{Error, Result};
use crate::methods::{Context, Method, default_methods};
pub use crate::wire::{DataSummary, JOB_SCHEMA, Job, RESULT_SCHEMA, ReportSpec, ResultDoc};

/// Reads and validates a job file.
pub fn read_job(path: &str) -> Result<Job> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.to_string(),
        source: e,
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = 1 + before.iter().rev().take_while(|&&b| b != b'\n').count();
        Error::input(
            path,
            line,
            column,
            "expected UTF-8 JSON text, found bytes that are not UTF-8",
        )
    })?;
    parse_job(path, text)
}

/// Parses and validates job JSON; errors name the file, line, column and JSON path.
pub fn parse_job(name: &str, text: &str) -> Result<Job> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let job: Job = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        // An unread map key shows as "?": drop it.
        let path = if path == "?" {
            ""
        } else {
            path.strip_suffix(".?").unwrap_or(&path)
        };
        let inner = e.into_inner();
        let at = if path.is_empty() || path == "." {
            String::new()
        } else {
            format!(" at {path}")
        };
        // serde_json appends " at line L column C"; the location is already in front.
        let msg = inner.to_string();
        let suffix = format!(" at line {} column {}", inner.line(), inner.column());
        let msg = msg.strip_suffix(&suffix).unwrap_or(&msg);
        let (line, column) = if inner.classify() == serde_json::error::Category::Data {
            value_end(text, inner.line(), inner.column())
        } else {
            (inner.line(), inner.column())
        };
        Error::input(name, line, column, format!("invalid job{at}: {msg}"))
    })?;
    check_job(&job).map_err(|e| located(name, text, e))?;
    Ok(job)
}

/// The rules a job's content must keep beyond what its types enforce (rules across fields);
/// an error names the JSON path of the value at fault (`Error::At`).
pub fn check_job(job: &Job) -> Result<()> {
    if let Some(a) = &job.aggregate {
        a.check(job.level)?;
    }
    Ok(())
}

/// Gives an `Error::At` from a check of file `name` (text `text`) the line and column of
/// the value at its JSON path; other errors pass through.
pub fn located(name: &str, text: &str, e: Error) -> Error {
    match e {
        Error::At { path, message } => {
            let (line, column) = locate(text, &path).unwrap_or((0, 0));
            Error::input(
                name,
                line,
                column,
                format!("invalid job at {path}: {message}"),
            )
        }
        other => other,
    }
}

/// One step of a JSON path.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Splits a path as serde_path_to_error writes it (`a.b[2].c`) into steps.
fn steps(path: &str) -> Option<Vec<Step>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key.to_string()));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            out.push(Step::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        }
    }
    Some(out)
}

/// The 1-based line and column (in characters) where the value at `path` starts in the
/// JSON `text`, found by a scan that reads just enough of the text to skip the other
/// values. None when the text does not hold that path.
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut p = 0usize;
    for step in steps(path)? {
        p = skip_ws(b, p);
        match step {
            Step::Key(k) => {
                if b.get(p) != Some(&b'{') {
                    return None;
                }
                p += 1;
                loop {
                    p = skip_ws(b, p);
                    if b.get(p) != Some(&b'"') {
                        return None;
                    }
                    let end = skip_value(b, p)?;
                    let key: String = serde_json::from_slice(&b[p..end]).ok()?;
                    p = skip_ws(b, end);
                    if b.get(p) != Some(&b':') {
                        return None;
                    }
                    p = skip_ws(b, p + 1);
                    if key == k {
                        break;
                    }
                    p = skip_ws(b, skip_value(b, p)?);
                    if b.get(p) != Some(&b',') {
                        return None;
                    }
                    p += 1;
                }
            }
            Step::Index(i) => {
                if b.get(p) != Some(&b'[') {
                    return None;
                }
                p = skip_ws(b, p + 1);
                for _ in 0..i {
                    p = skip_ws(b, skip_value(b, p)?);
                    if b.get(p) != Some(&b',') {
                        return None;
                    }
                    p = skip_ws(b, p + 1);
                }
            }
        }
    }
    p = skip_ws(b, p);
    let before = text.get(..p)?;
    let line = 1 + before.matches('\n').count();
    let column = 1 + before.chars().rev().take_while(|&c| c != '\n').count();
    Some((line, column))
}

fn skip_ws(b: &[u8], mut p: usize) -> usize {
    while b.get(p).is_some_and(|c| c.is_ascii_whitespace()) {
        p += 1;
    }
    p
}

/// The byte after the JSON value that starts at `p` (None at malformed text).
fn skip_value(b: &[u8], p: usize) -> Option<usize> {
    let mut q = p;
    let mut depth = 0usize;
    loop {
        match *b.get(q)? {
            b'"' => {
                q += 1;
                loop {
                    match *b.get(q)? {
                        b'\\' => q += 2,
                        b'"' => break,
                        _ => q += 1,
                    }
                }
                q += 1;
                if depth == 0 {
                    return Some(q);
                }
            }
            b'{' | b'[' => {
                depth += 1;
                q += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                q += 1;
            }
            _ => q += 1,
        }
        if depth == 0
            && (q >= b.len() || matches!(b[q], b',' | b'}' | b']') || b[q].is_ascii_whitespace())
        {
            return Some(q);
        }
    }
}

/// serde_json places an error about a value's content at the byte after a number (which
/// may be on the next line) or at the closing quote of a string; this moves it back to the
/// last byte of the value so the line and column point at the value itself.
fn value_end(text: &str, line: usize, column: usize) -> (usize, usize) {
    let b = text.as_bytes();
    let start = match line {
        0 | 1 => 0,
        l => match b
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c == b'\n')
            .nth(l - 2)
        {
            Some((i, _)) => i + 1,
            None => return (line, column),
        },
    };
    let orig = (start + column.saturating_sub(1)).min(b.len());
    let mut p = orig;
    while p > 0
        && (p >= b.len()
            || b[p].is_ascii_whitespace()
            || (p == orig && matches!(b[p], b',' | b'}' | b']')))
    {
        p -= 1;
    }
    let line = 1 + b[..p].iter().filter(|&&c| c == b'\n').count();
    let column = 1 + b[..p].iter().rev().take_while(|&&c| c != b'\n').count();
    (line, column)
}

/// Runs a job on already loaded data and returns the result document.
pub fn run_with_data(job: Job, parsed: Parsed) -> Result<ResultDoc> {
    run_with_progress(job, parsed, None)
}

/// As `run_with_data`, reporting bootstrap progress through `progress`.
pub fn run_with_progress(
    job: Job,
    parsed: Parsed,
    progress: Option<crate::methods::ProgressFn>,
) -> Result<ResultDoc> {
    run_full(job, parsed, progress, None, "<job>")
}

/// Runs a job whose file lives in `base` (for relative paths) and is called `name`.
pub fn run_full(
    mut job: Job,
    parsed: Parsed,
    progress: Option<crate::methods::ProgressFn>,
    base: Option<&std::path::Path>,
    name: &str,
) -> Result<ResultDoc> {
    let data = parsed.data;
    if job.bootstrap.is_some() && !job.methods.iter().any(Method::bootstrappable) {
        return Err(Error::Usage(format!(
            "bootstrap repeats a log-linear method with its model choice: it needs one of {} among the methods",
            crate::methods::MethodId::bootstrappable_ids().join(", ")
        )));
    }
    if job.methods.is_empty() {
        job.methods = default_methods(&data);
    }
    if job.seed.is_none() && (job.bootstrap.is_some() || job.methods.iter().any(Method::needs_seed))
    {
        job.seed = Some(crate::montecarlo::DEFAULT_SEED);
    }
    let mut estimates = Vec::new();
    let mut strata: Vec<crate::aggregate::StratumResult> = Vec::new();
    if job.strata.is_some() && parsed.strata.is_empty() {
        return Err(Error::Usage("strata need a records CSV with the stratum column (\"strata\" in a job, --stratify-by COL on the command line)".into()));
    }
    let seed = job.seed.unwrap_or(crate::montecarlo::DEFAULT_SEED);
    for m in &job.methods {
        let ctx = Context {
            level: job.level,
            interval: job.interval,
            seed,
            bootstrap: job
                .bootstrap
                .filter(|_| m.bootstrappable())
                .map(|replicates| crate::inference::bootstrap::BootOptions {
                    replicates: replicates.get(),
                    seed,
                    kind: job.bootstrap_kind,
                }),
            progress: progress.clone(),
            glm_compat: false,
        };
        estimates.extend(m.run(&data, &ctx)?);
        for (si, (name, table)) in parsed.strata.iter().enumerate() {
            let mut sc = ctx.clone();
            sc.seed = crate::montecarlo::derive_seed(seed, si);
            if let Some(b) = &mut sc.bootstrap {
                b.seed = sc.seed;
            }
            let ests = match m.run(&Dataset::Table(table.clone()), &sc) {
                Ok(e) => e,
                // A stratum too sparse for the method is shown with its reason, not dropped.
                Err(e) if e.is_user_error() => vec![crate::methods::common::no_estimate(
                    m.id().as_str(),
                    m.id().as_str().to_string(),
                    None,
                    crate::methods::Details::None,
                    table.observed(),
                    crate::methods::Status::NotIdentifiable,
                    vec![format!("stratum {name}: {e}")],
                )],
                Err(e) => return Err(e),
            };
            match strata.get_mut(si) {
                Some(sr) => sr.estimates.extend(ests),
                None => strata.push(crate::aggregate::StratumResult {
                    stratum: name.clone(),
                    observed: table.observed(),
                    estimates: ests,
                }),
            }
        }
    }
    let totals = crate::aggregate::totals(&strata, job.level.get());
    let aggregate = match &job.aggregate {
        Some(spec) => {
            let seed = *job.seed.get_or_insert(crate::montecarlo::DEFAULT_SEED);
            Some(crate::aggregate::global::run(
                spec, base, name, job.level, seed,
            )?)
        }
        None => None,
    };
    let summary = match &data {
        Dataset::Table(t) => DataSummary {
            kind: "table".into(),
            lists: t.lists().to_vec(),
            observed: t.observed(),
        },
        Dataset::Frequency(f) => DataSummary {
            kind: "frequency".into(),
            lists: Vec::new(),
            observed: f.observed(),
        },
    };
    Ok(ResultDoc {
        schema: RESULT_SCHEMA,
        version: crate::VERSION,
        job,
        data: summary,
        estimates,
        strata,
        totals,
        aggregate,
        warnings: parsed.warnings,
    })
}

/// Reads a job file, its data, and runs it.
pub fn run_file(path: &str) -> Result<ResultDoc> {
    let job = read_job(path)?;
    let base = std::path::Path::new(path).parent();
    let parsed = load_data(&job.data, base, path, &job.strata)?;
    run_full(job, parsed, None, base, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_values_by_path() {
        let text = "{\n  \"a\": {\"b\": [1, {\"c\": \"x,]}\"}, [2, 3]],\n  \"d\": true},\n  \"é\": 1, \"e\": -4\n}";
        assert_eq!(locate(text, "a"), Some((2, 8)));
        assert_eq!(locate(text, "a.b[0]"), Some((2, 15)));
        assert_eq!(locate(text, "a.b[1].c"), Some((2, 24)));
        assert_eq!(locate(text, "a.b[2][1]"), Some((2, 37)));
        assert_eq!(locate(text, "a.d"), Some((3, 8)));
        assert_eq!(locate(text, "e"), Some((4, 16)));
        assert_eq!(locate(text, "a.b[3]"), None);
        assert_eq!(locate(text, "x"), None);
    }

    #[test]
    fn a_check_error_gets_the_line_and_column_of_its_value() {
        let e = located(
            "job.json",
            "{\n \"seed\": 5\n}",
            Error::at("seed", "expected less"),
        );
        assert_eq!(
            e.to_string(),
            "job.json:2:10: invalid job at seed: expected less"
        );
    }
}
