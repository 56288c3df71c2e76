//! Parsers for the three input formats of DESIGN.md: table CSV (one 0/1 column per list and
//! a `count` column), records CSV (one row per person, list flags chosen with `--lists`) and
//! frequency CSV (`times_captured,count`). Every error names the file, line, column and
//! what was expected; nothing here panics on any byte sequence (a proptest checks that).

use super::counts::{CountData, parse_times};
use super::{CaptureTable, Dataset, FrequencyTable, MAX_COUNT, MAX_LISTS, Occasions};
use crate::error::{Error, Result};

/// Which format to read a CSV as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Decide from the header: `times_captured,count` → frequency; last column `count` →
    /// table; otherwise records.
    #[default]
    Auto,
    /// Table CSV.
    Table,
    /// Records CSV.
    Records,
    /// Frequency CSV.
    Frequency,
    /// Single-source count CSV: one row per person with the times recorded (the count
    /// column) and covariates.
    Counts,
}

/// What the parser needs besides the bytes.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Format to read (default: detect).
    pub format: Format,
    /// Records CSV: the columns that are lists (default: every column).
    pub lists: Option<Vec<String>>,
    /// Frequency CSV: number of occasions t.
    pub occasions: Option<Occasions>,
    /// Records or count CSV: a column whose values split the people into strata.
    pub stratify_by: Option<String>,
    /// Count CSV: the column with the number of times each person was recorded.
    pub count_column: Option<String>,
}

/// A parsed dataset and the warnings the parser raised (e.g. repeated histories summed).
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The data.
    pub data: Dataset,
    /// Things the user should know that did not stop the parse.
    pub warnings: Vec<String>,
    /// With `stratify_by`: the data of each stratum, by stratum value (sorted).
    pub strata: Vec<(String, Dataset)>,
}

/// Reads and parses a data file.
pub fn read_file(path: &str, opts: &ParseOptions) -> Result<Parsed> {
    let bytes = read_input(path)?;
    parse_bytes(path, &bytes, opts)
}

/// Reads an input file (data or job) whole. A missing, unreadable or non-file path is the
/// user's input at fault (exit code 2), named with what was expected.
pub fn read_input(path: &str) -> Result<Vec<u8>> {
    let found =
        |what: String| Error::input(path, 0, 0, format!("expected a readable file, {what}"));
    readable(path).map_err(found)?;
    std::fs::read(path).map_err(|e| found(why_unreadable(&e)))
}

/// Whether `path` names a file this user can read; otherwise what was found instead.
pub fn readable(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() {
        return Err("found an empty path".into());
    }
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err("found a directory".into());
    }
    std::fs::File::open(path)
        .map(|_| ())
        .map_err(|e| why_unreadable(&e))
}

fn why_unreadable(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "found no such file".into(),
        std::io::ErrorKind::PermissionDenied => "found one this user may not read".into(),
        _ => format!("but reading it failed: {e}"),
    }
}

/// One CSV row as UTF-8 fields with its 1-based line number.
pub(super) struct Row {
    pub(super) line: usize,
    pub(super) fields: Vec<String>,
}

/// Start offsets of the lines of a text; a line ends at `\n`, `\r\n` or a lone `\r`.
///
/// The csv crate's own line numbers count `\n` only and are taken before the terminator of
/// the previous record is consumed, so they are off after CRLF, CR-only or blank lines;
/// lines are therefore counted here from the byte offset where each record starts.
struct Lines(Vec<usize>);

impl Lines {
    fn new(body: &[u8]) -> Self {
        let mut starts = vec![0];
        for (i, &b) in body.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && body.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        Lines(starts)
    }

    /// 1-based line of the first byte at or after `byte` that is not a line terminator.
    fn line_at(&self, body: &[u8], byte: u64) -> usize {
        let mut p = usize::try_from(byte).unwrap_or(usize::MAX).min(body.len());
        while p < body.len() && matches!(body[p], b'\r' | b'\n') {
            p += 1;
        }
        self.0.partition_point(|&s| s <= p)
    }
}

fn split_rows(name: &str, bytes: &[u8]) -> Result<Vec<Row>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let lines = Lines::new(body);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let mut rows = Vec::new();
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(body, p.byte()));
                return Err(Error::input(
                    name,
                    line,
                    0,
                    format!("expected CSV text: {e}"),
                ));
            }
        }
        let line = rec.position().map_or(0, |p| lines.line_at(body, p.byte()));
        let mut fields = Vec::with_capacity(rec.len());
        for (j, f) in rec.iter().enumerate() {
            match std::str::from_utf8(f) {
                Ok(s) => fields.push(s.to_string()),
                Err(_) => {
                    return Err(Error::input(
                        name,
                        line,
                        j + 1,
                        "expected UTF-8 text, found bytes that are not UTF-8",
                    ));
                }
            }
        }
        // A line holding only separators/whitespace is treated as blank.
        if fields.iter().all(|f| f.is_empty()) && fields.len() <= 1 {
            continue;
        }
        rows.push(Row { line, fields });
    }
    Ok(rows)
}

/// Parses CSV bytes in the requested (or detected) format.
pub fn parse_bytes(name: &str, bytes: &[u8], opts: &ParseOptions) -> Result<Parsed> {
    let rows = split_rows(name, bytes)?;
    let Some(header) = rows.first() else {
        return Err(Error::input(
            name,
            1,
            0,
            "expected a header line, found an empty file",
        ));
    };
    check_header(name, header)?;
    let format = match opts.format {
        Format::Auto if opts.count_column.is_some() => Format::Counts,
        Format::Auto => detect(&header.fields),
        f => f,
    };
    check_options(name, format, opts)?;
    if rows.len() == 1 {
        return Err(Error::input(
            name,
            header.line + 1,
            0,
            "expected at least one data row after the header, found none",
        ));
    }
    match format {
        Format::Frequency => parse_frequency(name, &rows, opts.occasions),
        Format::Counts => parse_counts(
            name,
            &rows,
            opts.count_column.as_deref(),
            opts.stratify_by.as_deref(),
        ),
        Format::Records => {
            let mut parsed = parse_records(
                name,
                &rows,
                opts.lists.as_deref(),
                opts.stratify_by.as_deref(),
            )?;
            // A table CSV whose count column was lost reads as records of one person per
            // row, every row a history: say which reading was taken.
            if opts.format == Format::Auto && opts.lists.is_none() && opts.stratify_by.is_none() {
                parsed.warnings.insert(
                    0,
                    format!(
                        "{name}: read as a records CSV (one row per person, every column a list) because its header has no \"count\" column; a table CSV needs its last column named \"count\" (say which with \"format\" in a job, --format on the command line)"
                    ),
                );
            }
            Ok(parsed)
        }
        Format::Table | Format::Auto => parse_table(name, &rows),
    }
}

/// The words for a format in messages.
fn format_words(f: Format) -> &'static str {
    match f {
        Format::Table | Format::Auto => "a table CSV (one column per list and a \"count\" column)",
        Format::Records => "a records CSV (one row per person)",
        Format::Frequency => "a frequency CSV (times_captured,count)",
        Format::Counts => "a count CSV (one row per person with the times recorded)",
    }
}

/// An option that the format read does not use is refused rather than ignored. The error
/// is at the job field (`data.lists`, `data.occasions`, `strata`); the command line names
/// its flag instead.
fn check_options(name: &str, format: Format, opts: &ParseOptions) -> Result<()> {
    let read_as = |why: &str| {
        format!(
            "{why}, but {name} is read as {}{}",
            format_words(format),
            if opts.format == Format::Auto {
                " (from its header; \"format\" in a job, --format on the command line, says otherwise)"
            } else {
                ""
            }
        )
    };
    if format != Format::Records && opts.lists.is_some() {
        return Err(Error::at(
            "data.lists",
            read_as("expected list columns only for a records CSV"),
        ));
    }
    if !matches!(format, Format::Records | Format::Counts) && opts.stratify_by.is_some() {
        return Err(Error::at(
            "strata",
            read_as("expected a stratum column only for a records or count CSV"),
        ));
    }
    if format != Format::Counts && opts.count_column.is_some() {
        return Err(Error::at(
            "data.count_column",
            read_as("expected a count column only for a count CSV"),
        ));
    }
    if format != Format::Frequency && opts.occasions.is_some() {
        return Err(Error::at(
            "data.occasions",
            read_as("expected a number of occasions only for a frequency CSV"),
        ));
    }
    Ok(())
}

fn detect(header: &[String]) -> Format {
    let lower: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    if lower == ["times_captured", "count"] {
        Format::Frequency
    } else if lower.last().is_some_and(|h| h == "count") {
        Format::Table
    } else {
        Format::Records
    }
}

fn check_header(name: &str, header: &Row) -> Result<()> {
    let mut seen = std::collections::HashMap::new();
    for (j, h) in header.fields.iter().enumerate() {
        if h.is_empty() {
            return Err(Error::input(
                name,
                header.line,
                j + 1,
                "expected a column name in the header, found an empty field",
            ));
        }
        if let Some(first) = seen.insert(h.clone(), j + 1) {
            return Err(Error::input(
                name,
                header.line,
                j + 1,
                format!(
                    "expected distinct column names, found \"{h}\" again (first in column {first})"
                ),
            ));
        }
    }
    Ok(())
}

fn check_width(name: &str, row: &Row, width: usize) -> Result<()> {
    if row.fields.len() != width {
        let col = row.fields.len().min(width) + 1;
        return Err(Error::input(
            name,
            row.line,
            col,
            format!(
                "expected {width} fields like the header, found {}",
                row.fields.len()
            ),
        ));
    }
    Ok(())
}

/// A count cell: a whole number in 0..=2^50.
fn parse_count(name: &str, line: usize, col: usize, s: &str) -> Result<u64> {
    let bad = |what: &str| {
        Error::input(
            name,
            line,
            col,
            format!("expected a count (a whole number from 0 to 2^50), found {what}"),
        )
    };
    if s.is_empty() {
        return Err(bad("an empty field"));
    }
    if s.starts_with('-') {
        return Err(bad(&format!("the negative value \"{s}\"")));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        if s.parse::<f64>().is_ok() {
            return Err(bad(&format!("the non-integer \"{s}\"")));
        }
        return Err(bad(&format!("\"{s}\"")));
    }
    match s.parse::<u64>() {
        Ok(v) if v <= MAX_COUNT => Ok(v),
        _ => Err(bad(&format!("\"{s}\", which is too large"))),
    }
}

fn parse_table(name: &str, rows: &[Row]) -> Result<Parsed> {
    let header = &rows[0];
    let width = header.fields.len();
    if !header
        .fields
        .last()
        .is_some_and(|h| h.eq_ignore_ascii_case("count"))
    {
        return Err(Error::input(
            name,
            header.line,
            width,
            format!(
                "expected the last column of a table CSV to be \"count\", found \"{}\"",
                header.fields.last().map_or("", |s| s.as_str())
            ),
        ));
    }
    let k = width - 1;
    if k == 0 {
        return Err(Error::input(
            name,
            header.line,
            1,
            "expected at least one list column before \"count\"",
        ));
    }
    if k > MAX_LISTS {
        return Err(Error::input(
            name,
            header.line,
            MAX_LISTS + 1,
            format!(
                "expected at most {MAX_LISTS} list columns, found {k} (more lists than supported)"
            ),
        ));
    }
    let lists: Vec<String> = header.fields[..k].to_vec();
    let mut seen = std::collections::HashMap::<u64, usize>::new();
    let mut warnings = Vec::new();
    let mut out = Vec::with_capacity(rows.len() - 1);
    let mut total: u64 = 0;
    for row in &rows[1..] {
        check_width(name, row, width)?;
        let mut h = 0u64;
        for (j, f) in row.fields[..k].iter().enumerate() {
            match f.as_str() {
                "0" => {}
                "1" => h |= 1 << j,
                other => {
                    return Err(Error::input(
                        name,
                        row.line,
                        j + 1,
                        format!(
                            "expected 0 or 1 in list column \"{}\", found \"{other}\"",
                            lists[j]
                        ),
                    ));
                }
            }
        }
        let c = parse_count(name, row.line, width, &row.fields[k])?;
        if h == 0 {
            return Err(Error::input(
                name,
                row.line,
                1,
                "expected a history with at least one 1: the all-zero history is the unknown \
                 number that is being estimated and cannot be given",
            ));
        }
        total = total
            .checked_add(c)
            .filter(|t| *t <= MAX_COUNT)
            .ok_or_else(|| {
                Error::input(
                    name,
                    row.line,
                    width,
                    "expected counts whose total is at most 2^50",
                )
            })?;
        if let Some(first) = seen.insert(h, row.line) {
            warnings.push(format!(
                "{name}:{}: history repeats the one on line {first}; their counts were summed",
                row.line
            ));
        }
        out.push((h, c));
    }
    if total == 0 {
        return Err(Error::input(
            name,
            0,
            0,
            "expected at least one person observed, found only zero counts",
        ));
    }
    let table = CaptureTable::new(lists, out)?;
    Ok(Parsed {
        data: Dataset::Table(table),
        warnings,
        strata: Vec::new(),
    })
}

/// A row's value of the stratum column; empty is an error at its line and column.
fn stratum_value<'a>(name: &str, header: &Row, row: &'a Row, sc: usize) -> Result<&'a str> {
    let v = &row.fields[sc];
    if v.is_empty() {
        return Err(Error::input(
            name,
            row.line,
            sc + 1,
            format!(
                "expected a value of the stratum column \"{}\", found an empty field",
                header.fields[sc]
            ),
        ));
    }
    Ok(v)
}

fn parse_flag(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "t" => Some(true),
        "0" | "false" | "no" | "n" | "f" => Some(false),
        _ => None,
    }
}

fn parse_records(
    name: &str,
    rows: &[Row],
    lists: Option<&[String]>,
    stratify_by: Option<&str>,
) -> Result<Parsed> {
    let header = &rows[0];
    let width = header.fields.len();
    let strat_col = match stratify_by {
        Some(col) => Some(header.fields.iter().position(|h| h == col).ok_or_else(|| {
            Error::input(
                name,
                header.line,
                0,
                format!("expected a column named \"{col}\" (the strata column: --stratify-by, or a job's \"strata\") in the header, found only: {}", header.fields.join(", ")),
            )
        })?),
        None => None,
    };
    let cols: Vec<usize> = match lists {
        Some(names) => {
            let mut cols = Vec::with_capacity(names.len());
            for (j, l) in names.iter().enumerate() {
                match header.fields.iter().position(|h| h == l) {
                    Some(c) if cols.contains(&c) => {
                        return Err(Error::at(
                            format!("data.lists[{j}]"),
                            format!("expected distinct list columns, found \"{l}\" again"),
                        ));
                    }
                    Some(c) => cols.push(c),
                    None => {
                        return Err(Error::input(
                            name,
                            header.line,
                            0,
                            format!(
                                "expected a column named \"{l}\" (a list named by --lists, or a job's data.lists) in the header, found only: {}",
                                header.fields.join(", ")
                            ),
                        ));
                    }
                }
            }
            cols
        }
        None => (0..width).filter(|&c| Some(c) != strat_col).collect(),
    };
    if cols.is_empty() {
        return Err(Error::at(
            "data.lists",
            "expected at least one list column, found none",
        ));
    }
    if let Some(sc) = strat_col {
        if cols.contains(&sc) {
            return Err(Error::at(
                "strata",
                format!(
                    "expected a stratum column that is not a list, found \"{}\", which is one",
                    header.fields[sc]
                ),
            ));
        }
    }
    let mut strata: std::collections::BTreeMap<String, Vec<(u64, u64)>> =
        std::collections::BTreeMap::new();
    if cols.len() > MAX_LISTS {
        return Err(Error::input(
            name,
            header.line,
            0,
            format!(
                "expected at most {MAX_LISTS} list columns, found {} (more lists than supported)",
                cols.len()
            ),
        ));
    }
    let list_names: Vec<String> = cols.iter().map(|&c| header.fields[c].clone()).collect();
    let mut out = Vec::with_capacity(rows.len() - 1);
    for row in &rows[1..] {
        check_width(name, row, width)?;
        let mut h = 0u64;
        for (j, &c) in cols.iter().enumerate() {
            match parse_flag(&row.fields[c]) {
                Some(true) => h |= 1 << j,
                Some(false) => {}
                None => {
                    return Err(Error::input(
                        name,
                        row.line,
                        c + 1,
                        format!(
                            "expected a list flag (0/1, true/false, yes/no) in column \"{}\", found \"{}\"{}",
                            header.fields[c],
                            row.fields[c],
                            if lists.is_none() {
                                "; choose the list columns (\"lists\" in a job's data, --lists on the command line)"
                            } else {
                                ""
                            }
                        ),
                    ));
                }
            }
        }
        if h == 0 {
            return Err(Error::input(
                name,
                row.line,
                cols[0] + 1,
                "expected the person to be on at least one list, found no list flag set",
            ));
        }
        if let Some(sc) = strat_col {
            let v = stratum_value(name, header, row, sc)?.to_string();
            strata.entry(v).or_default().push((h, 1u64));
        }
        out.push((h, 1u64));
    }
    let strata = strata
        .into_iter()
        .map(|(k, rows)| {
            CaptureTable::new(list_names.clone(), rows).map(|t| (k, Dataset::Table(t)))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Parsed {
        data: Dataset::Table(CaptureTable::new(list_names, out)?),
        warnings: Vec::new(),
        strata,
    })
}

/// Largest `times_captured` (and number of occasions) a frequency CSV may have.
const MAX_TIMES: usize = super::counts::MAX_TIMES as usize;

/// A count CSV: the count column (named, or `times_captured`/`count` by default) and every
/// other column as a possible covariate; with `stratify_by`, one `CountData` per stratum.
fn parse_counts(
    name: &str,
    rows: &[Row],
    count_column: Option<&str>,
    stratify_by: Option<&str>,
) -> Result<Parsed> {
    let header = &rows[0];
    let width = header.fields.len();
    let find = |col: &str, what: &str| {
        header.fields.iter().position(|h| h == col).ok_or_else(|| {
            Error::input(
                name,
                header.line,
                0,
                format!(
                    "expected a column named \"{col}\" ({what}) in the header, found only: {}",
                    header.fields.join(", ")
                ),
            )
        })
    };
    let count_name = count_column.unwrap_or("times_captured");
    let cc = find(
        count_name,
        "the number of times each person was recorded: --count-column, or a job's data.count_column",
    )?;
    let sc = match stratify_by {
        Some(s) => {
            let c = find(s, "the strata column: --stratify-by, or a job's \"strata\"")?;
            if c == cc {
                return Err(Error::at(
                    "strata",
                    format!(
                        "expected a stratum column that is not the count column, found \"{s}\""
                    ),
                ));
            }
            Some(c)
        }
        None => None,
    };
    let others: Vec<usize> = (0..width).filter(|&c| c != cc && Some(c) != sc).collect();
    let names: Vec<(String, usize)> = others
        .iter()
        .map(|&c| (header.fields[c].clone(), c + 1))
        .collect();
    let mut raw = Vec::with_capacity(rows.len() - 1);
    let mut strata: std::collections::BTreeMap<String, Vec<(usize, u64, Vec<String>)>> =
        std::collections::BTreeMap::new();
    for row in &rows[1..] {
        check_width(name, row, width)?;
        let times = parse_times(name, row.line, cc + 1, count_name, &row.fields[cc])?;
        let vals: Vec<String> = others.iter().map(|&c| row.fields[c].clone()).collect();
        if let Some(sc) = sc {
            let v = stratum_value(name, header, row, sc)?;
            strata
                .entry(v.to_string())
                .or_default()
                .push((row.line, times, vals.clone()));
        }
        raw.push((row.line, times, vals));
    }
    let strata = strata
        .into_iter()
        .map(|(k, r)| {
            CountData::from_raw(name, count_name, names.clone(), r).map(|d| (k, Dataset::Counts(d)))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Parsed {
        data: Dataset::Counts(CountData::from_raw(name, count_name, names, raw)?),
        warnings: Vec::new(),
        strata,
    })
}

fn parse_frequency(name: &str, rows: &[Row], occasions: Option<Occasions>) -> Result<Parsed> {
    let header = &rows[0];
    let lower: Vec<String> = header
        .fields
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    if lower != ["times_captured", "count"] {
        return Err(Error::input(
            name,
            header.line,
            1,
            format!(
                "expected the frequency header \"times_captured,count\", found \"{}\"",
                header.fields.join(",")
            ),
        ));
    }
    let mut counts: Vec<u64> = Vec::new();
    let mut seen = std::collections::HashMap::<usize, usize>::new();
    let mut warnings = Vec::new();
    let limit = match occasions {
        Some(Occasions::Finite(t)) if t == 0 || t as usize > MAX_TIMES => {
            return Err(Error::at(
                "data.occasions",
                format!(
                    "expected the number of occasions to be a whole number from 1 to {MAX_TIMES} (or inf), found {t}"
                ),
            ));
        }
        Some(Occasions::Finite(t)) => t as usize,
        _ => MAX_TIMES,
    };
    for row in &rows[1..] {
        check_width(name, row, 2)?;
        let s = &row.fields[0];
        let j: usize = match s.parse::<usize>() {
            Ok(j) if j >= 1 && j <= limit && s.bytes().all(|b| b.is_ascii_digit()) => j,
            _ => {
                return Err(Error::input(
                    name,
                    row.line,
                    1,
                    format!(
                        "expected times_captured to be a whole number from 1 to {limit}, found \"{s}\""
                    ),
                ));
            }
        };
        let c = parse_count(name, row.line, 2, &row.fields[1])?;
        if counts.len() < j {
            counts.resize(j, 0);
        }
        if let Some(first) = seen.insert(j, row.line) {
            warnings.push(format!(
                "{name}:{}: times_captured {j} repeats line {first}; the counts were summed",
                row.line
            ));
        }
        counts[j - 1] = counts[j - 1]
            .checked_add(c)
            .filter(|v| *v <= MAX_COUNT)
            .ok_or_else(|| {
                Error::input(
                    name,
                    row.line,
                    2,
                    "expected counts whose total is at most 2^50",
                )
            })?;
    }
    let total: u64 = counts
        .iter()
        .try_fold(0u64, |a, &c| a.checked_add(c))
        .unwrap_or(u64::MAX);
    if total == 0 {
        return Err(Error::input(
            name,
            0,
            0,
            "expected at least one person observed, found only zero counts",
        ));
    }
    if total > MAX_COUNT {
        return Err(Error::input(
            name,
            0,
            0,
            "expected counts whose total is at most 2^50",
        ));
    }
    if let Some(Occasions::Finite(t)) = occasions {
        counts.resize(t as usize, 0);
    }
    Ok(Parsed {
        data: Dataset::Frequency(FrequencyTable { occasions, counts }),
        warnings,
        strata: Vec::new(),
    })
}

/// Parses an inline job table: list names and rows of 0/1 flags followed by a count.
///
/// `at` is the JSON path of the `data` object (`data` in a job); errors are `Error::At` the
/// offending value (`data.rows[i][j]`, 0-based like the job parser's paths), and a history
/// given twice is summed with a warning (the path of the repeat, and what it repeats), as a
/// table CSV's is.
pub fn table_from_rows(
    at: &str,
    lists: &[String],
    rows: &[Vec<i64>],
) -> Result<(CaptureTable, Vec<(String, String)>)> {
    let k = lists.len();
    if k == 0 || k > MAX_LISTS {
        return Err(Error::at(
            format!("{at}.lists"),
            format!("expected 1 to {MAX_LISTS} list names, found {k}"),
        ));
    }
    let mut names = std::collections::HashMap::new();
    for (j, l) in lists.iter().enumerate() {
        if l.trim().is_empty() {
            return Err(Error::at(
                format!("{at}.lists[{j}]"),
                "expected a list name, found an empty one",
            ));
        }
        if let Some(first) = names.insert(l.as_str(), j) {
            return Err(Error::at(
                format!("{at}.lists[{j}]"),
                format!(
                    "expected distinct list names, found \"{l}\" again (first at {at}.lists[{first}])"
                ),
            ));
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut seen = std::collections::HashMap::<u64, usize>::new();
    let mut warnings = Vec::new();
    let mut total: u64 = 0;
    for (i, r) in rows.iter().enumerate() {
        if r.len() != k + 1 {
            return Err(Error::at(
                format!("{at}.rows[{i}]"),
                format!(
                    "expected {} numbers ({k} 0/1 flags and a count), found {}",
                    k + 1,
                    r.len()
                ),
            ));
        }
        let mut h = 0u64;
        for (j, &v) in r[..k].iter().enumerate() {
            match v {
                0 => {}
                1 => h |= 1 << j,
                _ => {
                    return Err(Error::at(
                        format!("{at}.rows[{i}][{j}]"),
                        format!("expected 0 or 1 for list \"{}\", found {v}", lists[j]),
                    ));
                }
            }
        }
        if h == 0 {
            return Err(Error::at(
                format!("{at}.rows[{i}]"),
                "expected a history with at least one 1: the all-zero history is the unknown \
                 number that is being estimated and cannot be given",
            ));
        }
        let c = r[k];
        if c < 0 || c as u64 > MAX_COUNT {
            return Err(Error::at(
                format!("{at}.rows[{i}][{k}]"),
                format!("expected a count (a whole number from 0 to 2^50), found {c}"),
            ));
        }
        total = total
            .checked_add(c as u64)
            .filter(|t| *t <= MAX_COUNT)
            .ok_or_else(|| {
                Error::at(
                    format!("{at}.rows[{i}][{k}]"),
                    "expected counts whose total is at most 2^50",
                )
            })?;
        if let Some(first) = seen.insert(h, i) {
            warnings.push((
                format!("{at}.rows[{i}]"),
                format!("repeats the history of {at}.rows[{first}]; their counts were summed"),
            ));
        }
        out.push((h, c as u64));
    }
    let t = CaptureTable::new(lists.to_vec(), out)?;
    if t.observed() == 0 {
        return Err(Error::at(
            format!("{at}.rows"),
            "expected at least one person observed, found only zero counts",
        ));
    }
    Ok((t, warnings))
}
