//! Helpers the estimators' unit tests share (compiled for tests only).

use super::types::Settings;
use crate::inference::IntervalKind;

/// Fit settings without an interval (what most unit tests compare).
pub fn no_interval() -> Settings {
    Settings {
        interval: IntervalKind::None,
        ..Settings::default()
    }
}

/// Relative difference |a − b| / |b|.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// Cells N Π p_i^{h_i} (1 − p_i)^{1 − h_i} of lists independent with probabilities
/// `a/b`, for an N that makes every count whole (e.g. 24,000 with 1/2, 1/3, 1/4).
pub fn independent_cells(n: u64, p: &[(u64, u64)]) -> Vec<(u64, u64)> {
    (1..1u64 << p.len())
        .map(|h| {
            let c = p.iter().enumerate().fold(n, |acc, (i, &(a, b))| {
                if h >> i & 1 == 1 {
                    acc * a / b
                } else {
                    acc * (b - a) / b
                }
            });
            (h, c)
        })
        .collect()
}
