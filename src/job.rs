//! Running estimation jobs: reading a job file (`darkfigure.job/1`, whose types live in
//! `wire`) with errors at file, line, column and JSON path, and `run_full`, which runs a
//! job — given by a file or built by the CLI's `estimate` from its flags — into a result
//! document; the binary only prints and writes it.

use crate::data::Dataset;
use crate::data::parse::{Parsed, read_input, table_from_rows};
pub use crate::data::source::{DataSpec, InfWord, OccasionsSpec, load_bytes, load_data};
use crate::error::{Error, Result};
use crate::inference::IntervalKind;
use crate::methods::{Context, Method, MethodId, default_methods};
pub use crate::wire::{DataSummary, JOB_SCHEMA, Job, RESULT_SCHEMA, ReportSpec, ResultDoc};

/// Reads a job file as UTF-8 text; a file that cannot be read is bad input (exit code 2).
fn read_text(path: &str) -> Result<String> {
    let bytes = read_input(path)?;
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let before = &bytes[..e.utf8_error().valid_up_to()];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = 1 + before.iter().rev().take_while(|&&b| b != b'\n').count();
        Error::input(
            path,
            line,
            column,
            "expected UTF-8 JSON text, found bytes that are not UTF-8",
        )
    })
}

/// A job's text without the byte-order mark some editors write (a CSV may have one too).
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Reads and validates a job file.
pub fn read_job(path: &str) -> Result<Job> {
    parse_job(path, &read_text(path)?)
}

/// Reads a job file and its data, and checks the job against the data before anything
/// runs: every error about the job's content names the file, line, column and JSON path.
pub fn load_job(path: &str) -> Result<(Job, Parsed)> {
    let raw = read_text(path)?;
    let job = parse_job(path, &raw)?;
    let text = without_bom(&raw);
    let base = std::path::Path::new(path).parent();
    let parsed = match &job.data {
        DataSpec::Inline { lists, rows, .. } => {
            let (table, repeats) =
                table_from_rows("data", lists, rows).map_err(|e| located(path, text, e))?;
            Parsed {
                data: Dataset::Table(table),
                warnings: repeats
                    .into_iter()
                    .map(|(at, w)| format!("{}: {at} {w}", place(path, text, &at)))
                    .collect(),
                strata: Vec::new(),
            }
        }
        DataSpec::File { file, .. } => {
            // The job's "file" is what is wrong when the file cannot be read.
            let csv = match base {
                Some(b) if std::path::Path::new(file).is_relative() => b.join(file),
                _ => std::path::PathBuf::from(file),
            };
            crate::data::parse::readable(&csv.to_string_lossy()).map_err(|why| {
                located(
                    path,
                    text,
                    Error::at(
                        "data.file",
                        format!("expected a readable file, {why}: {}", csv.display()),
                    ),
                )
            })?;
            load_data(&job.data, base, path, &job.strata).map_err(|e| located(path, text, e))?
        }
    };
    check_data(&job, &parsed.data).map_err(|e| located(path, text, e))?;
    Ok((job, parsed))
}

/// Parses and validates job JSON; errors name the file, line, column and JSON path.
pub fn parse_job(name: &str, text: &str) -> Result<Job> {
    let job: Job = parse_document(name, text, "job", JOB_SCHEMA)?;
    check_job(&job).map_err(|e| located(name, without_bom(text), e))?;
    Ok(job)
}

/// Reads one JSON document of a kind (`job`, `study`) whose schema tag is `schema`:
/// errors name the file, line, column and JSON path, in JSON's words.
pub fn parse_document<T: serde::de::DeserializeOwned>(
    name: &str,
    text: &str,
    kind: &str,
    schema: &str,
) -> Result<T> {
    let text = without_bom(text);
    let start = text.len() - text.trim_start().len();
    match text[start..].chars().next() {
        None => {
            return Err(Error::input(
                name,
                1,
                0,
                format!(
                    "expected a {kind} object ({{\"schema\": \"{schema}\", ...}}), found an empty file"
                ),
            ));
        }
        Some('{') => {}
        Some(_) => {
            let (line, column) = line_column(text, start);
            return Err(Error::input(
                name,
                line,
                column,
                format!(
                    "expected a {kind} object ({{\"schema\": \"{schema}\", ...}}), found another JSON value"
                ),
            ));
        }
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    let doc: T = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
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
        Error::input(
            name,
            line,
            column,
            format!("invalid {kind}{at}: {}", json_words(msg)),
        )
    })?;
    // A second document (or any text) after the job would otherwise be ignored.
    de.end().map_err(|e| {
        Error::input(
            name,
            e.line(),
            e.column(),
            format!("expected the end of the {kind} after its closing brace, found more text (a {kind} file holds one JSON object)"),
        )
    })?;
    Ok(doc)
}

/// The 1-based line and column (in characters) of byte `p` of `text`.
fn line_column(text: &str, p: usize) -> (usize, usize) {
    let before = text.get(..p).unwrap_or(text);
    let line = 1 + before.matches('\n').count();
    let column = 1 + before.chars().rev().take_while(|&c| c != '\n').count();
    (line, column)
}

/// serde's words for a wrong value (`invalid type: string "x", expected u64`) in the words
/// of JSON and of this program's messages (`expected a whole number …, found the string
/// "x"`): the Rust type names mean nothing to the author of a job file.
fn json_words(msg: &str) -> String {
    let field = |m: &str, prefix: &str| {
        m.strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('`'))
            .and_then(|r| r.strip_suffix('`'))
            .map(str::to_string)
    };
    if let Some(f) = field(msg, "missing field ") {
        return format!("expected the field \"{f}\", found none");
    }
    if let Some(f) = field(msg, "duplicate field ") {
        return format!("expected each field once, found \"{f}\" again");
    }
    let Some(rest) = msg
        .strip_prefix("invalid type: ")
        .or_else(|| msg.strip_prefix("invalid value: "))
    else {
        return msg.to_string();
    };
    let Some(i) = rest.rfind(", expected ") else {
        return msg.to_string();
    };
    let (found, expected) = (&rest[..i], &rest[i + ", expected ".len()..]);
    let expected = match expected {
        "u64" | "usize" => "a whole number from 0 to 18446744073709551615".to_string(),
        "u32" => "a whole number from 0 to 4294967295".to_string(),
        "i64" | "i32" => "a whole number".to_string(),
        "f64" | "f32" => "a number".to_string(),
        "a sequence" => "an array".to_string(),
        "a map" => "an object".to_string(),
        "a boolean" => "true or false".to_string(),
        e if e.starts_with("struct ") => "an object".to_string(),
        e => e.to_string(),
    };
    let quoted = |s: &str| {
        s.split_once('`')
            .and_then(|(_, r)| r.strip_suffix('`'))
            .map(str::to_string)
    };
    let found = if let Some(v) = found.strip_prefix("string ") {
        format!("the string {v}")
    } else if found.starts_with("integer ") || found.starts_with("floating point ") {
        quoted(found).unwrap_or_else(|| found.to_string())
    } else if found.starts_with("boolean ") {
        quoted(found).unwrap_or_else(|| found.to_string())
    } else {
        match found {
            "map" => "an object".to_string(),
            "sequence" => "an array".to_string(),
            "unit value" | "null" => "null".to_string(),
            f => f.to_string(),
        }
    };
    format!("expected {expected}, found {found}")
}

/// The rules a job's content must keep beyond what its types enforce (rules across fields);
/// an error names the JSON path of the value at fault (`Error::At`).
pub fn check_job(job: &Job) -> Result<()> {
    if let Some(a) = &job.aggregate {
        a.check(job.level)?;
    }
    check_inline_data(job)?;
    check_strata(job)?;
    check_settings(job)?;
    Ok(())
}

/// The rules among a job's settings, whatever its data: each method's options, the
/// bootstrap, the interval kind, the report. `run_full` keeps them for jobs built in code,
/// whose data come beside the job.
pub fn check_settings(job: &Job) -> Result<()> {
    check_methods(job)?;
    check_bootstrap(job)?;
    check_interval(job)?;
    check_report(job)?;
    Ok(())
}

/// An inline table is read here, so that its errors (and the methods' needs of it) are
/// found with the rest of the job's.
fn check_inline_data(job: &Job) -> Result<()> {
    if let DataSpec::Inline { lists, rows, .. } = &job.data {
        let (table, _) = table_from_rows("data", lists, rows)?;
        check_data(job, &Dataset::Table(table))?;
    }
    Ok(())
}

/// Each method's own options.
fn check_methods(job: &Job) -> Result<()> {
    for (i, m) in job.methods.iter().enumerate() {
        m.check_options()
            .map_err(|e| within(&format!("methods[{i}]"), e))?;
    }
    Ok(())
}

/// A bootstrap needs a method it can repeat; its kind needs a bootstrap.
fn check_bootstrap(job: &Job) -> Result<()> {
    if job.bootstrap.is_some() && !job.methods.iter().any(Method::bootstrappable) {
        return Err(Error::at(
            "bootstrap",
            format!(
                "expected a method the bootstrap can repeat (a log-linear method with its model choice, or a sample-coverage estimator for its s.e.: {}) among the methods, found none",
                MethodId::bootstrappable_ids().join(", ")
            ),
        ));
    }
    if job.bootstrap.is_none() && job.bootstrap_kind != Default::default() {
        return Err(Error::at(
            "bootstrap_kind",
            "expected a parametric bootstrap only with a number of replicates (\"bootstrap\": B in a job, --bootstrap B on the command line), found none",
        ));
    }
    Ok(())
}

/// Strata are the values of a records CSV's column; an inline table has no such column.
fn check_strata(job: &Job) -> Result<()> {
    if job.strata.is_some() && matches!(job.data, DataSpec::Inline { .. }) {
        return Err(Error::at(
            "strata",
            "expected a stratum column only with records data (a CSV file with that column), found an inline table",
        ));
    }
    Ok(())
}

/// An interval kind other than the default needs a method that computes one.
fn check_interval(job: &Job) -> Result<()> {
    if job.interval != IntervalKind::default()
        && !job.methods.is_empty()
        && !job.methods.iter().any(|m| m.id().takes("interval"))
    {
        return Err(Error::at(
            "interval",
            format!(
                "expected an interval kind only with a method that computes one (the closed family and the log-linear methods), found none among {}",
                job.methods
                    .iter()
                    .map(|m| m.id().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(())
}

/// The report's file says its format by its ending.
fn check_report(job: &Job) -> Result<()> {
    if let Some(file) = job.report.as_ref().and_then(|r| r.file.as_deref())
        && crate::wire::ReportFormat::of(file).is_none()
    {
        return Err(Error::at(
            "report.file",
            format!("expected a file ending in .html or .md, found \"{file}\""),
        ));
    }
    Ok(())
}

/// Whether the job's methods (or the default ones) can run on these data; checked once the
/// data are read and before anything runs. Errors are `Error::At` the method's field
/// (`methods[2].model`), or `data` for the default methods.
pub fn check_data(job: &Job, data: &Dataset) -> Result<()> {
    let defaults = job.methods.is_empty();
    let methods = if defaults {
        default_methods(data)
    } else {
        job.methods.clone()
    };
    if let Dataset::Frequency(f) = data
        && f.occasions.is_none()
        && let Some(m) = methods.iter().find(|m| matches!(m, Method::Closed(..)))
    {
        return Err(Error::at(
            "data.occasions",
            format!(
                "expected the number of occasions with frequency data (\"occasions\": T in a job's data, --occasions T on the command line; \"inf\" for a single source), found none; method {} needs it",
                m.id()
            ),
        ));
    }
    for (i, m) in methods.iter().enumerate() {
        m.check_data(data).map_err(|e| {
            if defaults {
                Error::at(
                    "data",
                    format!(
                        "the default methods cannot run on these data (name the methods: \"methods\" in a job, -m on the command line): {}",
                        message_of(&e)
                    ),
                )
            } else {
                within(&format!("methods[{i}]"), e)
            }
        })?;
    }
    if job.calibrate.is_some() {
        crate::study::calibrate::check(&methods, data)?;
    }
    Ok(())
}

/// An `Error::At` a field of the object at `prefix`, made absolute.
fn within(prefix: &str, e: Error) -> Error {
    match e {
        Error::At { path, message } if path.is_empty() => Error::at(prefix, message),
        Error::At { path, message } => Error::at(format!("{prefix}.{path}"), message),
        other => other,
    }
}

/// What an error says, without where.
fn message_of(e: &Error) -> String {
    match e {
        Error::At { message, .. } | Error::Input { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// `file:line:column` of the value at `path` in a job's text, or of the nearest value
/// around it that the text holds (an absent field is placed at its object).
fn place(name: &str, text: &str, path: &str) -> String {
    let (line, column) = locate_nearest(text, path);
    crate::error::Location {
        file: name.to_string(),
        line,
        column,
    }
    .to_string()
}

/// The line and column of the value at `path`, or of its nearest enclosing value present
/// in the text (the whole document at worst).
fn locate_nearest(text: &str, path: &str) -> (usize, usize) {
    let mut p = path;
    loop {
        if let Some(lc) = locate(text, p) {
            return lc;
        }
        match p.rfind(['.', '[']) {
            Some(i) => p = &p[..i],
            None => return locate(text, "").unwrap_or((1, 1)),
        }
    }
}

/// Gives an `Error::At` from a check of file `name` (text `text`) the line and column of
/// the value at its JSON path; other errors pass through.
pub fn located(name: &str, text: &str, e: Error) -> Error {
    located_in(name, text, e, "job")
}

/// [`located`] for a document of another kind (`study`).
pub fn located_in(name: &str, text: &str, e: Error, kind: &str) -> Error {
    match e {
        Error::At { path, message } => {
            let (line, column) = locate_nearest(text, &path);
            Error::input(
                name,
                line,
                column,
                format!("invalid {kind} at {path}: {message}"),
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
///
/// The job's settings and its data are checked first (`check_settings`, `check_data`;
/// a job file's own data were checked where it was read): a job the data
/// cannot serve stops here, before any method runs. Then a method that stops without an
/// answer — on the whole data or on a stratum — is kept as an estimate with status
/// `failed` and a warning naming the method and the reason, and the others still run: one
/// method's failure never loses another's result.
pub fn run_full(
    job: Job,
    parsed: Parsed,
    progress: Option<crate::methods::ProgressFn>,
    base: Option<&std::path::Path>,
    name: &str,
) -> Result<ResultDoc> {
    let hooks = Hooks {
        bootstrap: progress,
        calibration: None,
    };
    run_hooked(job, parsed, &hooks, base, name)
}

/// What a run reports as it goes: bootstrap replicates of the estimates, then the datasets
/// of a calibration.
#[derive(Clone, Debug, Default)]
pub struct Hooks {
    /// Called with bootstrap replicates finished.
    pub bootstrap: Option<crate::methods::ProgressFn>,
    /// The calibration's datasets planned and finished.
    pub calibration: Option<crate::study::calibrate::CalibrationProgress>,
}

/// [`run_full`] with every progress callback; a job's `calibrate` section runs last, on
/// the whole data, with its seed derived from the job's.
pub fn run_hooked(
    mut job: Job,
    parsed: Parsed,
    hooks: &Hooks,
    base: Option<&std::path::Path>,
    name: &str,
) -> Result<ResultDoc> {
    let progress = hooks.bootstrap.clone();
    let data = parsed.data;
    check_settings(&job)?;
    check_data(&job, &data)?;
    if job.strata.is_some() && parsed.strata.is_empty() {
        return Err(Error::at(
            "strata",
            "expected records data with the stratum column (\"strata\" in a job, --stratify-by COL on the command line), found data without strata",
        ));
    }
    if job.methods.is_empty() {
        job.methods = default_methods(&data);
    }
    if job.seed.is_none()
        && (job.bootstrap.is_some()
            || job.calibrate.is_some()
            || job.methods.iter().any(Method::needs_seed))
    {
        job.seed = Some(crate::montecarlo::DEFAULT_SEED);
    }
    let mut estimates = Vec::new();
    let mut strata: Vec<crate::aggregate::StratumResult> = Vec::new();
    let seed = job.seed.unwrap_or(crate::montecarlo::DEFAULT_SEED);
    // Where each method's first estimate lands: the one a calibrated procedure reproduces.
    let mut first_estimate: Vec<Option<usize>> = Vec::new();
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
        let before = estimates.len();
        estimates.extend(run_or_status(m, &data, &ctx, None));
        first_estimate.push((estimates.len() > before).then_some(before));
        for (si, (name, sdata)) in parsed.strata.iter().enumerate() {
            let mut sc = ctx.clone();
            sc.seed = crate::montecarlo::derive_seed(seed, si);
            if let Some(b) = &mut sc.bootstrap {
                b.seed = sc.seed;
            }
            let ests = run_or_status(m, sdata, &sc, Some(name));
            match strata.get_mut(si) {
                Some(sr) => sr.estimates.extend(ests),
                None => strata.push(crate::aggregate::StratumResult {
                    stratum: name.clone(),
                    observed: sdata.observed(),
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
    let calibration = match (&job.calibrate, &data) {
        (Some(spec), Dataset::Table(_) | Dataset::Counts(_)) => {
            let procedures = crate::study::calibrate::procedures(
                &job.methods,
                job.interval,
                job.bootstrap,
                job.bootstrap_kind,
            );
            let mut c = crate::study::calibrate::run(
                &data,
                &procedures,
                spec.replicates,
                seed,
                hooks.calibration.as_ref(),
            )?;
            for (p, e) in c.procedures.iter_mut().zip(&first_estimate) {
                p.estimate = *e;
            }
            Some(c)
        }
        _ => None,
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
        Dataset::Counts(c) => DataSummary {
            kind: "counts".into(),
            lists: Vec::new(),
            observed: c.observed(),
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
        calibration,
        warnings: parsed.warnings,
    })
}

/// Runs one method on data, or, when it stops without an answer, gives its status: one
/// estimate with status `failed` whose warning names the method (and the stratum) and says
/// why. The rule is the same for the whole data and for each stratum.
fn run_or_status(
    m: &Method,
    data: &Dataset,
    ctx: &Context,
    stratum: Option<&str>,
) -> Vec<crate::methods::Estimate> {
    match m.run(data, ctx) {
        Ok(e) => e,
        Err(e) => {
            let id = m.id().as_str();
            let model = match m {
                Method::Loglinear(o) => Some(o.model.clone()),
                _ => None,
            };
            let observed = data.observed();
            let place = stratum.map_or(String::new(), |s| format!("stratum {s}: "));
            vec![crate::methods::common::no_estimate(
                id,
                model.clone().unwrap_or_else(|| id.to_string()),
                model,
                crate::methods::Details::None,
                observed,
                crate::methods::Status::Failed,
                vec![format!("{place}method {id} gave no estimate: {e}")],
            )]
        }
    }
}

/// Reads a job file, its data, and runs it.
pub fn run_file(path: &str) -> Result<ResultDoc> {
    let (job, parsed) = load_job(path)?;
    let base = std::path::Path::new(path).parent();
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

    const TABLE: &str = r#""data": {"lists": ["a", "b", "c"], "rows": [[1, 0, 0, 5], [0, 1, 0, 6], [1, 1, 0, 3], [0, 0, 1, 4], [1, 0, 1, 2]]}"#;

    /// A job of the inline three-list table with `rest` as its further fields, the data on
    /// line 2 and `rest` on line 3.
    fn job_text(rest: &str) -> String {
        format!("{{\"schema\": \"darkfigure.job/1\",\n {TABLE},\n {rest}}}")
    }

    fn refused(text: &str) -> String {
        match parse_job("job.json", text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_byte_order_mark_is_read_as_a_csv_reads_it() {
        let text = job_text(r#""methods": [{"id": "m0"}]"#);
        let plain = parse_job("job.json", &text).unwrap();
        let marked = parse_job("job.json", &format!("\u{feff}{text}")).unwrap();
        assert_eq!(format!("{plain:?}"), format!("{marked:?}"));
    }

    #[test]
    fn anything_after_the_job_is_an_error_at_its_place() {
        let text = job_text(r#""methods": [{"id": "m0"}]"#);
        let e = refused(&format!("{text}\n{{\"schema\": \"darkfigure.job/1\"}}"));
        assert!(
            e.starts_with("job.json:4:1: expected the end of the job"),
            "{e}"
        );
        let e = refused(&format!("{text} x"));
        assert!(e.starts_with("job.json:3:"), "{e}");
        // Whitespace after the job is not content.
        assert!(parse_job("job.json", &format!("{text}\n\n  ")).is_ok());
        assert!(refused("[1]").starts_with("job.json:1:1: expected a job object"));
        assert!(refused(" ").contains("found an empty file"));
    }

    #[test]
    fn serde_words_become_json_words() {
        let e = refused(&job_text(r#""seed": "x""#));
        assert!(e.contains("at seed: expected a whole number from 0 to 18446744073709551615, found the string \"x\""), "{e}");
        let e = refused(&job_text(r#""methods": {}"#));
        assert!(e.contains("expected an array, found an object"), "{e}");
        let e = refused(&job_text(r#""level": true"#));
        assert!(e.contains("expected a number, found true"), "{e}");
        let e = refused("{\"data\": {\"file\": \"a.csv\"}}");
        assert!(
            e.contains("expected the field \"schema\", found none"),
            "{e}"
        );
        let e = refused(&job_text(r#""seed": 1, "seed": 2"#));
        assert!(
            e.contains("expected each field once, found \"seed\" again"),
            "{e}"
        );
        let e = refused("{\"schema\": \"darkfigure.job/1\", \"data\": 5}");
        assert!(e.contains("expected a data object"), "{e}");
        for e in [e, refused(&job_text(r#""bootstrap": 2.5"#))] {
            for rust in ["u64", "i64", "f64", "struct", "RawData", "untagged"] {
                assert!(!e.contains(rust), "{e}");
            }
        }
    }

    /// Each rule across a job's fields, with the path and the line and column of the value
    /// at fault (the data on line 2, the rest on line 3).
    #[test]
    fn rules_across_fields_are_located() {
        let cases: &[(&str, &str, &str)] = &[
            (
                r#""bootstrap": 9, "methods": [{"id": "m0"}]"#,
                ":3:15: invalid job at bootstrap:",
                "a method the bootstrap can repeat",
            ),
            (
                r#""bootstrap_kind": "parametric""#,
                ":3:20: invalid job at bootstrap_kind:",
                "only with a number of replicates",
            ),
            (
                r#""strata": "g""#,
                ":3:12: invalid job at strata:",
                "found an inline table",
            ),
            (
                r#""interval": "wald-log", "methods": [{"id": "dga"}]"#,
                ":3:14: invalid job at interval:",
                "found none among dga",
            ),
            (
                r#""report": {"file": "out.pdf"}"#,
                ":3:21: invalid job at report.file:",
                ".html or .md",
            ),
            (
                r#""methods": [{"id": "m0"}, {"id": "loglinear", "model": "[a:zz]"}]"#,
                ":3:57: invalid job at methods[1].model:",
                "\"zz\", which is not a list",
            ),
            (
                r#""methods": [{"id": "loglinear", "model": ""}]"#,
                ":3:43: invalid job at methods[0].model:",
                "model SPEC is empty",
            ),
            (
                r#""methods": [{"id": "bic", "maxorder": 3}]"#,
                ":3:40: invalid job at methods[0].maxorder:",
                "from 1 to 2 for 3 lists",
            ),
            (
                r#""methods": [{"id": "lcmcr", "samples": 3}]"#,
                ":3:41: invalid job at methods[0].samples:",
                "at least 4 draws",
            ),
            (
                r#""methods": [{"id": "bayes-threshold", "maxorder": 5}]"#,
                ":3:52: invalid job at methods[0].maxorder:",
                "expected 2 (pairs) or 3",
            ),
            (
                r#""methods": [{"id": "bayes-threshold", "prior": "flat", "prior_variance": 2}]"#,
                ":3:75: invalid job at methods[0].prior_variance:",
                "only with the normal prior",
            ),
        ];
        for (rest, at, what) in cases {
            let e = refused(&job_text(rest));
            assert!(e.starts_with(&format!("job.json{at}")), "{rest}: {e}");
            assert!(e.contains(what), "{rest}: {e}");
        }
    }

    #[test]
    fn inline_table_errors_are_located_and_repeats_are_only_noted() {
        let e = refused(
            "{\"schema\": \"darkfigure.job/1\",\n \"data\": {\"lists\": [\"a\", \"b\"], \"rows\": [[1, 0, 3], [0, 2, 1]]}}",
        );
        assert!(
            e.starts_with("job.json:2:56: invalid job at data.rows[1][1]: expected 0 or 1"),
            "{e}"
        );
        let (table, repeats) = table_from_rows(
            "data",
            &["a".to_string(), "b".to_string()],
            &[vec![1, 0, 3], vec![0, 1, 2], vec![1, 0, 4]],
        )
        .unwrap();
        assert_eq!(table.observed(), 9);
        assert_eq!(repeats.len(), 1);
        assert_eq!(repeats[0].0, "data.rows[2]");
        assert!(repeats[0].1.contains("repeats the history of data.rows[0]"));
    }

    #[test]
    fn the_data_decide_which_methods_can_run() {
        let job = parse_job("job.json", &job_text(r#""methods": [{"id": "m0"}]"#)).unwrap();
        let two =
            crate::data::CaptureTable::new(vec!["a".into(), "b".into()], [(1, 3), (3, 2)]).unwrap();
        let mut dga = job.clone();
        dga.methods = vec!["dga".parse().unwrap()];
        match check_data(&dga, &Dataset::Table(two.clone())) {
            Err(Error::At { path, message }) => {
                assert_eq!(path, "methods[0].id");
                assert!(
                    message.contains("3 to 6 lists; the data have 2"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        let one = crate::data::CaptureTable::new(vec!["a".into()], [(1, 3)]).unwrap();
        let mut defaults = job.clone();
        defaults.methods.clear();
        match check_data(&defaults, &Dataset::Table(one)) {
            Err(Error::At { path, message }) => {
                assert_eq!(path, "data");
                assert!(
                    message.contains("the default methods cannot run"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        let freq = Dataset::Frequency(crate::data::FrequencyTable {
            occasions: None,
            counts: vec![5, 2],
        });
        match check_data(&defaults, &freq) {
            Err(Error::At { path, .. }) => assert_eq!(path, "data.occasions"),
            other => panic!("{other:?}"),
        }
    }

    /// One rule for the whole data and the strata: a method that stops with an error is
    /// kept as a `failed` estimate naming the method (and the stratum), not lost.
    #[test]
    fn a_method_without_an_answer_keeps_its_place_with_its_reason() {
        let two =
            crate::data::CaptureTable::new(vec!["a".into(), "b".into()], [(1, 3), (3, 2)]).unwrap();
        let dga: Method = "dga".parse().unwrap();
        let out = run_or_status(
            &dga,
            &Dataset::Table(two.clone()),
            &Context::default(),
            None,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status, crate::methods::Status::Failed);
        assert_eq!(out[0].method, "dga");
        assert_eq!(out[0].observed, 5);
        assert_eq!(out[0].population, None);
        assert!(
            out[0].warnings[0].starts_with("method dga gave no estimate: "),
            "{:?}",
            out[0].warnings
        );
        let out = run_or_status(
            &dga,
            &Dataset::Table(two),
            &Context::default(),
            Some("north"),
        );
        assert!(out[0].warnings[0].starts_with("stratum north: method dga"));
    }

    /// A run has an answer unless every method stopped without one: an honest status
    /// (`mle_does_not_exist`) is an answer, `failed` is not.
    #[test]
    fn a_run_has_an_answer_unless_every_method_failed() {
        let text = job_text(r#""methods": [{"id": "m0"}, {"id": "mt"}]"#);
        let (job, parsed) = {
            let job = parse_job("job.json", &text).unwrap();
            let DataSpec::Inline { lists, rows, .. } = &job.data else {
                panic!("inline")
            };
            let (t, _) = table_from_rows("data", lists, rows).unwrap();
            let parsed = Parsed {
                data: Dataset::Table(t),
                warnings: Vec::new(),
                strata: Vec::new(),
            };
            (job, parsed)
        };
        let mut doc = run_with_data(job, parsed).unwrap();
        assert!(doc.has_estimate());
        doc.estimates[0].status = crate::methods::Status::Failed;
        doc.estimates[0].warnings = vec!["method m0 gave no estimate: why".into()];
        doc.estimates[1].status = crate::methods::Status::MleDoesNotExist;
        assert!(doc.has_estimate());
        doc.estimates[1].status = crate::methods::Status::Failed;
        doc.estimates[1].warnings = vec!["method mt gave no estimate: why".into()];
        assert!(!doc.has_estimate());
        assert_eq!(
            doc.failures(),
            vec![
                "method m0 gave no estimate: why",
                "method mt gave no estimate: why"
            ]
        );
    }

    #[test]
    fn an_absent_field_is_placed_at_its_object() {
        let text = "{\n \"data\": {\"file\": \"f.csv\"}\n}";
        assert_eq!(locate_nearest(text, "data.occasions"), (2, 10));
        assert_eq!(locate_nearest(text, "methods[3].model"), (1, 1));
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
