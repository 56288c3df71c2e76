//! Estimators, one file per family, and the types every estimator returns. `spec.rs` holds
//! the typed [`Method`] (id and the options of its family) and its dispatcher; adding a
//! family means one new file here and its variant there. `types.rs` holds what the
//! estimators share, below all of them.

pub mod bayes_threshold;
pub mod bic;
mod bootstrapped;
pub mod closed;
pub mod common;
pub mod dga;
pub mod lcmcr;
pub mod loglinear;
pub mod spec;
pub mod stepwise;
pub mod twolist;
pub mod types;

pub use crate::inference::{Draws, Interval, IntervalKind, Pmf};
pub use spec::{Context, Method, MethodId, default_methods};
pub use types::{Coefficient, Estimate, FitSummary, ProgressFn, Settings, Status};
