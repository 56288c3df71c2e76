//! darkfigure: estimates the size of a hidden population (the "dark figure") from
//! overlapping lists of the people who were identified, by capture–recapture / multiple
//! systems estimation. The flow: `data` parses a CSV or job table into a `CaptureTable`
//! or `FrequencyTable`; `methods` fit estimators (log-linear ones through `glm`, models
//! from `loglinear`); `inference` adds intervals; `report` writes JSON and terminal
//! tables; `job` runs recipe files. The library never prints.

pub mod aggregate;
pub mod checked;
pub mod cpu;
pub mod data;
pub mod error;
pub mod glm;
pub mod inference;
pub mod job;
pub mod loglinear;
pub mod methods;
pub mod montecarlo;
pub mod report;
pub mod study;
pub mod wire;

pub use data::{CaptureTable, Dataset, FrequencyTable, Occasions};
pub use error::{Error, Result};
pub use methods::{Estimate, Method, MethodId, Status};

/// Version of this build, written into every result.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
