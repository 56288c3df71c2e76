//! Single-source count data: one row per identified person with the number of times the
//! one register recorded them (≥ 1) and any other columns, which the zero-truncated
//! regressions may use as covariates. Rows that agree on every column are kept once with
//! the number of people they stand for. A frequency table (`times_captured,count`) is the
//! same data without covariates (`FrequencyTable::as_counts`).

use crate::error::{Error, Result};

/// Most distinct values a text column may have to be used as a categorical covariate (each
/// level is a coefficient).
pub const MAX_LEVELS: usize = 1000;

/// What a non-count column holds.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnKind {
    /// Numbers, used as they are.
    Numeric,
    /// Text: its levels in sorted order (the first is the default reference level).
    Categorical(Vec<String>),
}

/// A column besides the count.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Header name.
    pub name: String,
    /// Numbers or levels.
    pub kind: ColumnKind,
    /// 1-based CSV column.
    pub position: usize,
    /// The first line where the column is empty, if any (an error only if the column is
    /// used as a covariate).
    pub first_empty: Option<usize>,
    /// Levels beyond `MAX_LEVELS`: the number found (an error only if used).
    pub too_many_levels: Option<usize>,
}

/// One distinct row: how many times seen, each column's value (the number, or the level's
/// index; NaN where empty) and how many people it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct CountRow {
    /// Times seen (≥ 1).
    pub times: u64,
    /// Column values, in `columns` order.
    pub values: Vec<f64>,
    /// People with exactly this row.
    pub people: u64,
}

/// Single-source count data.
#[derive(Debug, Clone, PartialEq)]
pub struct CountData {
    /// Where the data came from (for errors about its columns).
    pub source: String,
    /// The count column's name.
    pub count_column: String,
    /// The other columns.
    pub columns: Vec<Column>,
    /// Distinct rows, sorted.
    pub rows: Vec<CountRow>,
}

impl CountData {
    /// Observed number of distinct people n.
    pub fn observed(&self) -> u64 {
        self.rows.iter().map(|r| r.people).sum()
    }

    /// f_j = people seen exactly j times, j = 1..=max (index j − 1).
    pub fn frequencies(&self) -> Vec<u64> {
        let max = self.rows.iter().map(|r| r.times).max().unwrap_or(0) as usize;
        let mut f = vec![0u64; max];
        for r in &self.rows {
            f[r.times as usize - 1] += r.people;
        }
        f
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<(usize, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }

    /// The same people with `people` replaced row by row (a resample); rows left empty are
    /// dropped.
    pub fn reweighted(&self, people: &[u64]) -> CountData {
        CountData {
            source: self.source.clone(),
            count_column: self.count_column.clone(),
            columns: self.columns.clone(),
            rows: self
                .rows
                .iter()
                .zip(people)
                .filter(|(_, p)| **p > 0)
                .map(|(r, &p)| CountRow {
                    people: p,
                    ..r.clone()
                })
                .collect(),
        }
    }

    /// Builds the data from raw rows: (line, times, one text value per column).
    pub(super) fn from_raw(
        source: &str,
        count_column: &str,
        names: Vec<(String, usize)>,
        raw: Vec<(usize, u64, Vec<String>)>,
    ) -> Result<CountData> {
        let mut columns = Vec::with_capacity(names.len());
        for (j, (name, position)) in names.into_iter().enumerate() {
            let mut first_empty = None;
            let mut numeric = true;
            let mut levels = std::collections::BTreeSet::new();
            for (line, _, vals) in &raw {
                let v = &vals[j];
                if v.is_empty() {
                    first_empty.get_or_insert(*line);
                    continue;
                }
                if numeric && !v.parse::<f64>().is_ok_and(f64::is_finite) {
                    numeric = false;
                }
                if levels.len() <= MAX_LEVELS {
                    levels.insert(v.clone());
                }
            }
            let (kind, too_many_levels) = if numeric {
                (ColumnKind::Numeric, None)
            } else if levels.len() > MAX_LEVELS {
                (ColumnKind::Categorical(Vec::new()), Some(levels.len()))
            } else {
                (ColumnKind::Categorical(levels.into_iter().collect()), None)
            };
            columns.push(Column {
                name,
                kind,
                position,
                first_empty,
                too_many_levels,
            });
        }
        let mut map: std::collections::BTreeMap<(Vec<u64>, u64), u64> =
            std::collections::BTreeMap::new();
        for (_, times, vals) in raw {
            let key: Vec<u64> = vals
                .iter()
                .zip(&columns)
                .map(|(v, c)| value_of(v, c).to_bits())
                .collect();
            *map.entry((key, times)).or_insert(0) += 1;
        }
        let rows = map
            .into_iter()
            .map(|((key, times), people)| CountRow {
                times,
                values: key.into_iter().map(f64::from_bits).collect(),
                people,
            })
            .collect();
        Ok(CountData {
            source: source.to_string(),
            count_column: count_column.to_string(),
            columns,
            rows,
        })
    }
}

/// A cell's value: the number, the level's index, or NaN when empty (or beyond the levels
/// kept).
fn value_of(v: &str, c: &Column) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    match &c.kind {
        ColumnKind::Numeric => v.parse::<f64>().unwrap_or(f64::NAN),
        ColumnKind::Categorical(levels) => levels
            .binary_search_by(|l| l.as_str().cmp(v))
            .map_or(f64::NAN, |i| i as f64),
    }
}

/// Most times one person may have been seen.
pub const MAX_TIMES: u64 = 100_000;

/// A times-seen cell: a whole number from 1 to `MAX_TIMES`.
pub(super) fn parse_times(
    name: &str,
    line: usize,
    col: usize,
    column: &str,
    s: &str,
) -> Result<u64> {
    let bad = |what: String| {
        Error::input(
            name,
            line,
            col,
            format!(
                "expected the number of times this person was recorded (\"{column}\", a whole number from 1 to {MAX_TIMES}), found {what}"
            ),
        )
    };
    if s.is_empty() {
        return Err(bad("an empty field".into()));
    }
    if s.starts_with('-') {
        return Err(bad(format!("the negative value \"{s}\"")));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        if s.parse::<f64>().is_ok() {
            return Err(bad(format!("the non-integer \"{s}\"")));
        }
        return Err(bad(format!("\"{s}\"")));
    }
    match s.parse::<u64>() {
        Ok(0) => Err(bad(
            "0 (a person never recorded is not in a register; the zero count is what is estimated)"
                .into(),
        )),
        Ok(v) if v <= MAX_TIMES => Ok(v),
        _ => Err(bad(format!("\"{s}\", which is too large"))),
    }
}
