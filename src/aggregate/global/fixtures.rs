//! Builders shared by the unit tests of `global`'s files: a value read from JSON (as the
//! job reads the section) and a pooled estimate with chosen numbers, so that each test
//! states only the numbers it is about. Compiled for tests only; it imports no file of
//! `global`, so that every file's tests may use it.

use crate::aggregate::meta::{Pooled, Tau2Method};
use serde::de::DeserializeOwned;

/// `v` read as a `T` by serde (defaults filled in, unknown fields refused), or a panic.
pub fn from_json<T: DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// A pooled estimate of `k` studies with μ̂, se(μ̂) and τ̂²; the heterogeneity statistics,
/// which nothing under test reads, are 0.
pub fn pooled(mu: f64, se: f64, tau2: f64, k: usize) -> Pooled {
    Pooled {
        method: Tau2Method::Reml,
        mu,
        se,
        tau2,
        q: 0.0,
        df: k.saturating_sub(1),
        i2: 0.0,
        k,
    }
}
