//! Estimators, one file per family, and the types every estimator returns. `spec.rs` holds
//! the typed [`Method`] (id and the options of its family) and its dispatcher; adding a
//! family means one new file here, its variant there and its record in `details.rs`.
//! `types.rs` holds what the
//! estimators share and `details.rs` what each records beside N̂, below all of them.

pub mod bayes_threshold;
pub mod bic;
pub(crate) mod bootstrapped;
pub mod closed;
pub mod common;
pub mod coverage;
pub mod details;
pub mod dga;
pub mod lcmcr;
pub mod loglinear;
pub mod pooled;
pub mod recommended;
pub mod singlesource;
pub mod spec;
pub mod stepwise;
#[cfg(test)]
pub(crate) mod testing;
pub mod twolist;
pub mod types;

pub use crate::inference::{Draws, Interval, IntervalKind, Pmf};
pub use details::Details;
pub use spec::{Context, Method, MethodId, default_methods};
pub use types::{Coefficient, Estimate, FitSummary, ProgressFn, Settings, Status};
