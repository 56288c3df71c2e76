//! Integration tests (one binary): reference values from the R packages, the CLI, bad
//! input, properties.

mod badinput;
mod cli;
mod common;
mod props;
mod reference;
