//! Locating the shared data and reference files, and comparing numbers.

use std::path::PathBuf;

/// Directory of `../shared/data` (or `DARKFIGURE_DATA`). Panics when it is missing and
/// `CI` is set; returns None (test skipped with a note) otherwise.
pub fn data_dir() -> Option<PathBuf> {
    locate("DARKFIGURE_DATA", "../shared/data")
}

/// Directory of `../shared/reference` (or `DARKFIGURE_REFERENCE`).
pub fn reference_dir() -> Option<PathBuf> {
    locate("DARKFIGURE_REFERENCE", "../shared/reference")
}

fn locate(var: &str, default: &str) -> Option<PathBuf> {
    let p = std::env::var(var)
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default));
    if p.is_dir() {
        Some(p)
    } else if std::env::var_os("CI").is_some() {
        panic!(
            "{} not found (set {var}); CI requires the shared data",
            p.display()
        );
    } else {
        eprintln!("note: {} not found, test skipped", p.display());
        None
    }
}

/// Relative difference |a − b| / max(|b|, tiny).
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// Values that are zero up to rounding (the deviance of a saturated fit) are compared on
/// an absolute scale: below this, two numbers are both "zero".
pub const ZERO: f64 = 1e-9;
