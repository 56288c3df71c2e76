//! Two-list estimators for every pair of lists: Lincoln–Petersen N̂ = n₁n₂/m and
//! Chapman's N̂ = (n₁+1)(n₂+1)/(m+1) − 1 (Seber 1982; Chao 1987), with Seber's variance
//! and Chao's log-normal interval (as CARE1's `estN.pair`). Assume the two lists are
//! independent in a closed population with homogeneous capture probabilities; with more
//! lists they estimate the size of the population covered by the pair's union frame.

use super::common::finite;
use super::details::{Details, TwoListDetails};
use super::types::{Estimate, Status};
use crate::checked::Level;
use crate::data::CaptureTable;
use crate::data::describe::describe_table;
use crate::error::{Error, Result};
use crate::inference::{Construction, log_normal_interval};

/// Which two-list estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Lincoln–Petersen n₁n₂/m.
    Petersen,
    /// Chapman (n₁+1)(n₂+1)/(m+1) − 1.
    Chapman,
}

/// One estimate per pair of lists.
pub fn estimate_pairs(kind: Kind, table: &CaptureTable, level: Level) -> Result<Vec<Estimate>> {
    let id = match kind {
        Kind::Petersen => "petersen",
        Kind::Chapman => "chapman",
    };
    if table.k() < 2 {
        return Err(Error::Usage(format!(
            "method {id} needs at least 2 lists; the table has {}",
            table.k()
        )));
    }
    let d = describe_table(table);
    let mut out = Vec::with_capacity(d.pairs.len());
    let k = table.k();
    let mut idx = 0;
    for i in 0..k {
        for j in i + 1..k {
            let pair = &d.pairs[idx];
            idx += 1;
            let (n1, n2, m) = (
                d.list_sizes[i] as f64,
                d.list_sizes[j] as f64,
                pair.both as f64,
            );
            let nobs = n1 + n2 - m;
            let (pop, var) = if kind == Kind::Petersen {
                (n1 * n2 / m, n1 * n2 * (n1 - m) * (n2 - m) / (m * m * m))
            } else {
                (
                    (n1 + 1.0) * (n2 + 1.0) / (m + 1.0) - 1.0,
                    (n1 + 1.0) * (n2 + 1.0) * (n1 - m) * (n2 - m)
                        / ((m + 1.0) * (m + 1.0) * (m + 2.0)),
                )
            };
            let se = var.sqrt();
            let mut warnings = Vec::new();
            let status = if pop.is_finite() {
                Status::Ok
            } else {
                Status::Infinite
            };
            if status == Status::Infinite {
                warnings.push(format!(
                    "lists {} and {} never overlap: the Petersen estimate is infinite",
                    pair.a, pair.b
                ));
            }
            let ok = status == Status::Ok;
            out.push(Estimate {
                method: id.to_string(),
                label: format!("{}-{}", pair.a, pair.b),
                model: None,
                options: Details::TwoList(TwoListDetails {
                    interval: Construction::LogNormal,
                    level,
                    lists: [pair.a.clone(), pair.b.clone()],
                }),
                status,
                observed: nobs as u64,
                population: if ok { finite(pop) } else { None },
                missing: if ok { finite(pop - nobs) } else { None },
                std_error: if ok { finite(se) } else { None },
                interval: (ok && pop > nobs)
                    .then(|| log_normal_interval(nobs, pop, se, level.get())),
                fit: None,
                draws: None,
                check: None,
                bootstrap: None,
                warnings,
            });
        }
    }
    Ok(out)
}
