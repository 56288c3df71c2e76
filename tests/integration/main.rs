//! Integration tests (one binary): reference values from the R packages, the CLI, bad
//! input, properties.

mod badinput;
mod bayes_threshold;
mod cli;
mod cli_props;
mod common;
mod disclosure;
mod global;
mod golden;
mod grid;
mod hostile;
mod lcmcr;
mod model_props;
mod output;
mod props;
mod reference;
mod report;
mod strata;
mod study;
