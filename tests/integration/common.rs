//! Locating the project's copy of the data and reference files, and comparing numbers.

use std::path::PathBuf;

/// The datasets (`tests/data`, or `DARKFIGURE_DATA`). Missing data is a failure, never a
/// skip: the repository carries its own copy.
pub fn data_dir() -> PathBuf {
    locate("DARKFIGURE_DATA", "tests/data")
}

/// The R packages' reference values (`tests/reference`, or `DARKFIGURE_REFERENCE`).
pub fn reference_dir() -> PathBuf {
    locate("DARKFIGURE_REFERENCE", "tests/reference")
}

fn locate(var: &str, default: &str) -> PathBuf {
    let p = std::env::var(var)
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default));
    assert!(
        p.is_dir(),
        "{} not found: the repository ships it (or set {var} to a copy)",
        p.display()
    );
    p
}

/// Relative difference |a − b| / max(|b|, tiny).
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// Values that are zero up to rounding (the deviance of a saturated fit) are compared on
/// an absolute scale: below this, two numbers are both "zero".
pub const ZERO: f64 = 1e-9;
