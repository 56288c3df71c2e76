//! The records a study keeps of every dataset ([`ReplicateRecord`]: each procedure's
//! status, N̂ and intervals at the study's [`LEVELS`]), the truth they are judged against,
//! and the shard a run covers. The leaf of `study/`: the runner writes these, the summary
//! and the merge read them.

use serde::{Deserialize, Serialize};

/// The levels whose coverage every study measures.
pub const LEVELS: [f64; 3] = [0.8, 0.9, 0.95];

/// The target of an unstratified study.
pub const WHOLE: &str = "population";

/// A part of the replicates: r = index, index + count, …
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This part, from 0.
    pub index: u64,
    /// Parts in all.
    pub count: u64,
}

/// Most shards a study may be split into.
pub const MAX_SHARDS: u64 = 100_000;

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let bad = || {
            format!(
                "expected a shard as i/n with 0 ≤ i < n ≤ {MAX_SHARDS} (shards count from 0: 0/2 and 1/2 make a whole), found \"{s}\""
            )
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i: u64 = i.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || i >= n || n > MAX_SHARDS {
            return Err(bad());
        }
        Ok(Shard { index: i, count: n })
    }
}

/// An interval at one level (`kind` says how it was made).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LevelInterval {
    /// Nominal level.
    pub level: f64,
    /// Lower limit (`null`: no interval at this level).
    pub lower: Option<f64>,
    /// Upper limit (`null` with a lower limit: the data do not bound N).
    pub upper: Option<f64>,
    /// How it was made (`bootstrap-bca`, `profile`, …).
    pub kind: Option<String>,
}

/// One procedure's answer on one target of one dataset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Outcome {
    /// The procedure's name.
    pub procedure: String,
    /// `population`, a stratum's name, or `total`.
    pub target: String,
    /// People seen in the dataset.
    pub observed: u64,
    /// The estimate's status.
    pub status: String,
    /// N̂ (`null` without a number).
    pub population: Option<f64>,
    /// Intervals at the study's levels, in order.
    pub intervals: Vec<LevelInterval>,
}

/// Every answer on one dataset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReplicateRecord {
    /// The dataset's index r (its random stream).
    pub index: u64,
    /// Procedures × targets.
    pub results: Vec<Outcome>,
}

/// A target's true population.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Truth {
    /// `population`, a stratum's name, or `total`.
    pub target: String,
    /// True N.
    pub population: u64,
    /// The lists.
    pub lists: Vec<String>,
    /// Expected share of the people seen on some list.
    pub seen_share: f64,
}
