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
