//! Capture data as the estimators see it: a `CaptureTable` (k lists, a count per capture
//! history) or a `FrequencyTable` (how many were caught 1, 2, … times). Parsers turn CSV
//! files into these (`parse`); `describe` summarises a table. Everything downstream reads
//! only these types.

pub mod counts;
pub mod describe;
pub mod parse;
pub mod source;

use crate::error::{Error, Result};

/// Most lists a table may have (histories are `u64` bitmasks).
pub const MAX_LISTS: usize = 63;
/// Most lists for methods that need every one of the 2^k − 1 observable cells.
pub const MAX_DENSE_LISTS: usize = 20;
/// Largest count accepted in a cell, so that every total stays exact in `f64`.
pub const MAX_COUNT: u64 = 1 << 50;

/// k named lists and the number of people with each capture history.
///
/// A history is a bitmask: bit i set = seen on list i (list i is the i-th column).
/// The all-zero history is the unknown and is never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureTable {
    lists: Vec<String>,
    /// (history, count), sorted by history, counts > 0, history != 0.
    cells: Vec<(u64, u64)>,
}

impl CaptureTable {
    /// Builds a table, summing repeated histories; zero counts are dropped.
    pub fn new(lists: Vec<String>, rows: impl IntoIterator<Item = (u64, u64)>) -> Result<Self> {
        let k = lists.len();
        if k == 0 {
            return Err(Error::Usage(
                "a capture table needs at least one list".into(),
            ));
        }
        if k > MAX_LISTS {
            return Err(Error::Usage(format!(
                "{k} lists is more than the {MAX_LISTS} supported"
            )));
        }
        let mut map = std::collections::BTreeMap::new();
        for (h, c) in rows {
            if h == 0 {
                return Err(Error::Usage(
                    "the all-zero history is the unknown cell and cannot have a count".into(),
                ));
            }
            if k < 64 && h >> k != 0 {
                return Err(Error::Usage(format!(
                    "history {h:#b} names a list beyond the {k} lists"
                )));
            }
            let e = map.entry(h).or_insert(0u64);
            *e = e
                .checked_add(c)
                .filter(|v| *v <= MAX_COUNT)
                .ok_or_else(|| Error::Usage("a cell count exceeds 2^50".into()))?;
        }
        let cells: Vec<(u64, u64)> = map.into_iter().filter(|&(_, c)| c > 0).collect();
        Ok(CaptureTable { lists, cells })
    }

    /// Number of lists k.
    pub fn k(&self) -> usize {
        self.lists.len()
    }

    /// List names in column order.
    pub fn lists(&self) -> &[String] {
        &self.lists
    }

    /// Non-empty cells (history, count) sorted by history.
    pub fn cells(&self) -> &[(u64, u64)] {
        &self.cells
    }

    /// Observed number of distinct people n.
    pub fn observed(&self) -> u64 {
        self.cells.iter().map(|&(_, c)| c).sum()
    }

    /// Whether the table is small enough for a method that needs every one of its 2^k - 1
    /// cells (at most `MAX_DENSE_LISTS` lists); the error says what to do instead.
    pub fn check_dense(&self) -> Result<()> {
        let k = self.k();
        if k > MAX_DENSE_LISTS {
            return Err(Error::Usage(format!(
                "this method needs all 2^k - 1 cells of the table, and {k} lists is more than the \
                 {MAX_DENSE_LISTS} supported; use a frequency model (m0, mh-*) or merge lists"
            )));
        }
        Ok(())
    }

    /// Counts of all 2^k histories indexed by bitmask (index 0, the unknown, is 0).
    pub fn dense(&self) -> Result<Vec<f64>> {
        self.check_dense()?;
        let mut v = vec![0.0; 1usize << self.k()];
        for &(h, c) in &self.cells {
            v[h as usize] = c as f64;
        }
        Ok(v)
    }

    /// f_j = number caught exactly j times, for j = 1..=k (index j − 1).
    pub fn frequencies(&self) -> Vec<u64> {
        let mut f = vec![0u64; self.k()];
        for &(h, c) in &self.cells {
            f[h.count_ones() as usize - 1] += c;
        }
        f
    }

    /// The table with its lists permuted: new list j is old list `perm[j]`.
    pub fn permuted(&self, perm: &[usize]) -> Result<Self> {
        let lists = perm.iter().map(|&p| self.lists[p].clone()).collect();
        let rows = self.cells.iter().map(|&(h, c)| {
            let mut g = 0u64;
            for (j, &p) in perm.iter().enumerate() {
                if h >> p & 1 == 1 {
                    g |= 1 << j;
                }
            }
            (g, c)
        });
        CaptureTable::new(lists, rows)
    }
}

/// Number of capture occasions behind a frequency table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasions {
    /// t fixed occasions (or lists).
    Finite(u32),
    /// A single source with no fixed number of occasions (Rcapture's `t = Inf`).
    Infinite,
}

/// Frequencies of capture: `counts[j-1]` people were caught exactly j times.
#[derive(Debug, Clone, PartialEq)]
pub struct FrequencyTable {
    /// How many occasions there were, when known.
    pub occasions: Option<Occasions>,
    /// f_1, f_2, … (trailing zeros allowed).
    pub counts: Vec<u64>,
}

impl FrequencyTable {
    /// Observed number of distinct people n.
    pub fn observed(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Frequencies of capture as one register's counts without covariates (`source` names
    /// the data in errors).
    pub fn as_counts(&self, source: &str) -> counts::CountData {
        counts::CountData {
            source: source.to_string(),
            count_column: "times_captured".into(),
            columns: Vec::new(),
            rows: self
                .counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(j, &c)| counts::CountRow {
                    times: j as u64 + 1,
                    values: Vec::new(),
                    people: c,
                })
                .collect(),
        }
    }

    /// Largest j with f_j > 0.
    pub fn max_captures(&self) -> usize {
        self.counts
            .iter()
            .rposition(|&c| c > 0)
            .map_or(0, |i| i + 1)
    }
}

/// Parsed input: what a data file or inline job table turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Dataset {
    /// One count per capture history.
    Table(CaptureTable),
    /// Frequencies of capture.
    Frequency(FrequencyTable),
    /// One register's count of times each person was recorded, with covariates.
    Counts(counts::CountData),
}

impl Dataset {
    /// Observed number of distinct people n.
    pub fn observed(&self) -> u64 {
        match self {
            Dataset::Table(t) => t.observed(),
            Dataset::Frequency(f) => f.observed(),
            Dataset::Counts(c) => c.observed(),
        }
    }
}
