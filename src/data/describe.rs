//! `darkfigure describe`: the plain facts of a table before any model — list sizes,
//! pairwise overlaps, the pairs that never overlap (which decide which interactions a
//! log-linear model can have), and the frequencies of capture.

use super::{CaptureTable, Dataset};

/// Overlap of two lists.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PairOverlap {
    /// First list name.
    pub a: String,
    /// Second list name.
    pub b: String,
    /// People on both lists.
    pub both: u64,
}

/// Everything `describe` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Description {
    /// Number of lists (or occasions, for a frequency table when known).
    pub lists: usize,
    /// List names.
    pub list_names: Vec<String>,
    /// Observed n.
    pub observed: u64,
    /// People on each list.
    pub list_sizes: Vec<u64>,
    /// Every pair of lists with its overlap.
    pub pairs: Vec<PairOverlap>,
    /// The pairs with no one in common.
    pub empty_pairs: Vec<String>,
    /// Histories with a positive count.
    pub nonempty_cells: usize,
    /// Observable histories (2^k − 1), when k < 64.
    pub possible_cells: Option<u64>,
    /// f_j: people seen on exactly j lists (index j − 1).
    pub frequencies: Vec<u64>,
}

/// Summarises a table.
pub fn describe_table(t: &CaptureTable) -> Description {
    let k = t.k();
    let mut sizes = vec![0u64; k];
    let mut both = vec![0u64; k * k];
    for &(h, c) in t.cells() {
        for i in 0..k {
            if h >> i & 1 == 1 {
                sizes[i] += c;
                for j in i + 1..k {
                    if h >> j & 1 == 1 {
                        both[i * k + j] += c;
                    }
                }
            }
        }
    }
    let names = t.lists();
    let mut pairs = Vec::new();
    let mut empty = Vec::new();
    for i in 0..k {
        for j in i + 1..k {
            let b = both[i * k + j];
            if b == 0 {
                empty.push(format!("{}:{}", names[i], names[j]));
            }
            pairs.push(PairOverlap {
                a: names[i].clone(),
                b: names[j].clone(),
                both: b,
            });
        }
    }
    Description {
        lists: k,
        list_names: names.to_vec(),
        observed: t.observed(),
        list_sizes: sizes,
        pairs,
        empty_pairs: empty,
        nonempty_cells: t.cells().len(),
        possible_cells: if k < 64 { Some((1u64 << k) - 1) } else { None },
        frequencies: t.frequencies(),
    }
}

/// Summarises any dataset (a frequency table has no lists or pairs).
pub fn describe(d: &Dataset) -> Description {
    match d {
        Dataset::Table(t) => describe_table(t),
        Dataset::Frequency(f) => Description {
            lists: match f.occasions {
                Some(super::Occasions::Finite(t)) => t as usize,
                _ => 0,
            },
            list_names: Vec::new(),
            observed: f.observed(),
            list_sizes: Vec::new(),
            pairs: Vec::new(),
            empty_pairs: Vec::new(),
            nonempty_cells: f.counts.iter().filter(|&&c| c > 0).count(),
            possible_cells: None,
            frequencies: f.counts.clone(),
        },
        Dataset::Counts(c) => Description {
            lists: 1,
            list_names: Vec::new(),
            observed: c.observed(),
            list_sizes: Vec::new(),
            pairs: Vec::new(),
            empty_pairs: Vec::new(),
            nonempty_cells: c.frequencies().iter().filter(|&&x| x > 0).count(),
            possible_cells: None,
            frequencies: c.frequencies(),
        },
    }
}
