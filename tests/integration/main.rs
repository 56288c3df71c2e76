//! Integration tests (one binary): reference values from the R packages, the CLI, bad
//! input, properties.

mod common;
mod reference;
