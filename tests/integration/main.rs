//! Integration tests (one binary): reference values from the R packages, the CLI, bad
//! input, properties, a study sharded on Slurm.

mod badinput;
mod bayes_threshold;
mod calibrate;
mod cli;
mod cli_props;
mod common;
mod coverage;
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
mod singlesource;
mod slurm;
mod strata;
mod studies;
mod study;
