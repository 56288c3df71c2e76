//! Command-line definitions (clap derive). Only shapes of arguments live here; `main.rs`
//! turns them into library calls.

use clap::{Parser, Subcommand, ValueEnum};
use darkfigure::checked::{
    Chains, Classes, Count, Iterations, Level, Order, PValue, Positive, Replicates, Threshold, Top,
    parse_arg,
};

/// Worker threads: at most 1024.
pub type Threads = Count<1, 1024>;

// clap value parsers: the checked types' own words, as a job file gives them.
fn level(s: &str) -> Result<Level, String> {
    parse_arg::<f64, _>(s)
}
fn pvalue(s: &str) -> Result<PValue, String> {
    parse_arg::<f64, _>(s)
}
fn positive(s: &str) -> Result<Positive, String> {
    parse_arg::<f64, _>(s)
}
fn count<const MIN: u64, const MAX: u64>(s: &str) -> Result<Count<MIN, MAX>, String> {
    // A negative, fractional or overlong value gets the range, not only "a number".
    match s.trim().parse::<u64>() {
        Ok(n) => Count::try_from(n),
        Err(_) => Err(format!(
            "expected a whole number from {MIN} to {MAX}, found \"{s}\""
        )),
    }
}

/// darkfigure: how many people are behind the ones that were identified.
#[derive(Debug, Parser)]
#[command(name = "darkfigure", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Input format choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Decide from the header.
    Auto,
    /// One 0/1 column per list and a `count` column.
    Table,
    /// One row per person with list flags.
    Records,
    /// `times_captured,count`.
    Frequency,
    /// One row per person with the times one register recorded them (--count-column).
    Counts,
}

/// Interval choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IntervalArg {
    /// Multinomial profile likelihood (Rcapture closedpCI).
    Profile,
    /// Wald on the log of the dark figure (SparseMSE estimatepopulation.0).
    WaldLog,
}

/// Settings of the Bayesian samplers (`lcmcr`, `bayes-threshold`); unset ones take each
/// method's default.
#[derive(Debug, clap::Args)]
pub struct BayesArgs {
    /// LCMCR: latent classes K in the truncation (default 10).
    #[arg(long = "classes", short = 'K', value_parser = count::<1, 1000>, allow_negative_numbers = true)]
    pub classes: Option<Classes>,
    /// Burn-in iterations per chain (lcmcr 100000, bayes-threshold 1000).
    #[arg(long, value_parser = count::<0, 1_000_000_000>, allow_negative_numbers = true)]
    pub burnin: Option<Iterations>,
    /// Draws kept per chain (lcmcr 5000, bayes-threshold 10000).
    #[arg(long, value_parser = count::<0, 1_000_000_000>, allow_negative_numbers = true)]
    pub samples: Option<Iterations>,
    /// Iterations between kept draws (lcmcr 50, bayes-threshold 1).
    #[arg(long, value_parser = count::<0, 1_000_000_000>, allow_negative_numbers = true)]
    pub thinning: Option<Iterations>,
    /// Chains, run in parallel (default 4).
    #[arg(long, value_parser = count::<1, 1024>, allow_negative_numbers = true)]
    pub chains: Option<Chains>,
    /// LCMCR: where the chains start: the package's start (default) or overdispersed.
    #[arg(long, value_enum)]
    pub start: Option<StartArg>,
    /// bayes-threshold: prior of the interactions.
    #[arg(long, value_enum)]
    pub prior: Option<PriorArg>,
    /// bayes-threshold: variance of the normal prior of the interactions (default 1).
    #[arg(long, value_parser = positive, allow_negative_numbers = true)]
    pub prior_variance: Option<Positive>,
    /// bayes-threshold: drop interactions with |posterior mean / sd| below this (default 2).
    #[arg(long, value_parser = positive, allow_negative_numbers = true)]
    pub threshold: Option<Positive>,
    /// pooled: how its families' draws make one interval.
    #[arg(long, value_enum)]
    pub combine: Option<CombineArg>,
}

/// How `pooled` combines its families.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CombineArg {
    /// Quantiles of the families' draws pooled with equal weight.
    Mixture,
    /// From the lowest lower to the highest upper limit of the families' intervals.
    Union,
}

/// Where LCMCR's chains start.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StartArg {
    /// The R package's start (λ at the list shares, α = 0.3/K, 500 warm-up iterations).
    Package,
    /// Overdispersed random starts.
    Dispersed,
}

/// Prior of the interactions in bayes-threshold.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PriorArg {
    /// Independent N(0, --prior-variance).
    Normal,
    /// Improper flat; only when the MLE of the all-two-way model exists.
    Flat,
}

/// Threads and where results go (shared by `estimate` and `run`).
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// Worker threads (default: all cores); results do not depend on it.
    #[arg(long, value_parser = count::<1, 1024>, allow_negative_numbers = true)]
    pub threads: Option<Threads>,
    /// Write the result JSON to FILE (`-` for standard output).
    #[arg(long)]
    pub json: Option<String>,
    /// Write the report to FILE: self-contained HTML (`.html`) or Markdown (`.md`).
    #[arg(long)]
    pub report: Option<String>,
    /// Print no table.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// How to read the data file.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Data CSV: a table, records or frequency file.
    pub data: String,
    /// Format of the file (default: detect from the header).
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// Records CSV: the columns that are lists, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub lists: Option<Vec<String>>,
    /// Frequency CSV: number of capture occasions T, or `inf` for a single source.
    #[arg(long)]
    pub occasions: Option<String>,
    /// Records or count CSV: estimate each value of this column as a stratum, and their total.
    #[arg(long)]
    pub stratify_by: Option<String>,
    /// Count CSV (one register): the column with the times each person was recorded (≥ 1).
    #[arg(long)]
    pub count_column: Option<String>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lists, list sizes, pairwise overlaps, pairs that never overlap, frequencies.
    ///
    /// Counts below the threshold (5) are shown as "<5", and counts that would give one away
    /// by subtraction as "≥5"; the JSON keeps every count.
    Describe {
        /// The data.
        #[command(flatten)]
        data: DataArgs,
        /// Also write the description as JSON to FILE (`-` for standard output); it keeps
        /// every count.
        #[arg(long)]
        json: Option<String>,
        /// Show counts below this as "<N" (3 to 1000, default 5).
        #[arg(long, value_parser = count::<3, 1000>, allow_negative_numbers = true)]
        suppress_below: Option<Threshold>,
        /// Show every count, the small ones too: the researcher's own view of their own data,
        /// not for sharing.
        #[arg(long, conflicts_with = "suppress_below")]
        show_small: bool,
    },
    /// Does the MLE of a log-linear model exist, and is the model identifiable? (the
    /// Fienberg–Rinaldo linear program and a rank check; SparseMSE's codes 0–3)
    Check {
        /// The data.
        #[command(flatten)]
        data: DataArgs,
        /// Model SPEC (repeatable), e.g. "[12,23]", "[LA:NG]", main, twoway.
        #[arg(long = "model", required = true)]
        models: Vec<String>,
        /// Also write the results as JSON to FILE (`-` for standard output).
        #[arg(long)]
        json: Option<String>,
    },
    /// Estimate the population size with one or more methods.
    Estimate(EstimateArgs),
    /// On data like yours, how often does each interval cover the true number? Simulates
    /// datasets from fits to the data (every log-linear method's model, and two latent
    /// classes), runs every method (with --bootstrap B for the ones it repeats) on each, and
    /// gives the coverage of the 80, 90 and 95% intervals with its standard error.
    ///
    /// Takes the options of estimate; the result JSON and the report have the estimates
    /// and the calibration.
    Calibrate {
        #[command(flatten)]
        estimate: EstimateArgs,
        /// Datasets simulated from each fitted model (1 to 10000).
        #[arg(long, default_value = "200", value_parser = count::<1, 10_000>, allow_negative_numbers = true)]
        replicates: darkfigure::study::calibrate::CalibrationReplicates,
    },
    /// Run a job file (`darkfigure.job/1`).
    Run {
        /// The job JSON.
        job: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run a simulation study (`darkfigure.study/1`): datasets drawn from a population of
    /// known size, every procedure run on each; bias, RMSE and coverage of the 80, 90 and
    /// 95% intervals.
    Simulate {
        /// The study JSON.
        study: String,
        /// Datasets to draw instead of the study's `replicates` (1 to 1000000).
        #[arg(long, value_parser = count::<1, 1_000_000>, allow_negative_numbers = true)]
        replicates: Option<darkfigure::study::StudyReplicates>,
        /// Master seed instead of the study's.
        #[arg(long)]
        seed: Option<u64>,
        /// Run only shard i of n (from 0): replicates i, i + n, … (`merge` joins the parts).
        #[arg(long, allow_hyphen_values = true)]
        shard: Option<darkfigure::study::Shard>,
        /// Also write every replicate's estimate and intervals as CSV to FILE.
        #[arg(long)]
        csv: Option<String>,
        /// Worker threads (default: all cores); results do not depend on it.
        #[arg(long, value_parser = count::<1, 1024>, allow_negative_numbers = true)]
        threads: Option<Threads>,
        /// Write the result JSON to FILE (`-` for standard output).
        #[arg(long)]
        json: Option<String>,
        /// Print no table and no progress.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Join the shards of a study (`simulate --shard i/n`) into the result one process
    /// would have written.
    Merge {
        /// The parts' JSON files.
        #[arg(required = true)]
        parts: Vec<String>,
        /// Write the merged result JSON to FILE (`-` for standard output).
        #[arg(long, required = true)]
        json: String,
        /// Also write every replicate's estimate and intervals as CSV to FILE.
        #[arg(long)]
        csv: Option<String>,
        /// Print no table.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
}

/// What `estimate` takes (and `calibrate`, which estimates first).
#[derive(Debug, clap::Args)]
pub struct EstimateArgs {
    /// The data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Method id (repeatable): m0 mt mh-chao mh-poisson2 mh-darroch mh-gamma3.5
    /// mth-chao mth-poisson2 mth-darroch mth-gamma3.5 mb mbh loglinear main stepwise
    /// stepwise-aic bic dga lcmcr bayes-threshold petersen chapman pooled recommended;
    /// one register's counts: ztpoisson ztgeom ztnegbin zelterman chao oiztpoisson oiztgeom
    /// ztoipoisson ztoigeom. Default: Rcapture's closed family (counts: ztpoisson ztgeom
    /// zelterman chao).
    #[arg(long = "method", short = 'm')]
    pub methods: Vec<String>,
    /// Log-linear model SPEC (repeatable), e.g. "[12,23]" or "[LA:NG,PF]"; implies
    /// --method loglinear.
    #[arg(long = "model")]
    pub models: Vec<String>,
    /// Interval level, strictly between 0 and 1.
    #[arg(long, default_value = "0.95", value_parser = level, allow_negative_numbers = true)]
    pub level: Level,
    /// Interval kind (stepwise always reports the Wald interval on log(N − n)).
    #[arg(long, value_enum, default_value = "profile")]
    pub interval: IntervalArg,
    /// Stepwise: p-value threshold for adding a two-list effect, in (0, 1].
    #[arg(long, value_parser = pvalue, allow_negative_numbers = true)]
    pub pthresh: Option<PValue>,
    /// BIC: highest interaction order searched (default: 2 lists 1, 3 lists 2, 4-5 lists 3, else 2).
    #[arg(long, value_parser = count::<1, 63>, allow_negative_numbers = true)]
    pub maxorder: Option<Order>,
    /// BIC: number of best models reported (default 5).
    #[arg(long, value_parser = count::<1, 10_000>, allow_negative_numbers = true)]
    pub ntop: Option<Top>,
    /// Single-source methods: covariate columns, comma-separated (default: none).
    #[arg(long, value_delimiter = ',')]
    pub covariates: Option<Vec<String>>,
    /// Single-source methods: the reference level of a categorical covariate, COL=LEVEL
    /// (repeatable; default: the first level in sorted order).
    #[arg(long = "baseline", value_parser = baseline_pair)]
    pub baseline: Vec<(String, String)>,
    /// Master seed for Monte Carlo methods (default: a fixed seed, recorded in the JSON).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Bootstrap replicates for stepwise/main/loglinear/bic (repeating the model choice in
    /// each), the single-source methods (refitting in each) and the sample-coverage
    /// estimators (CARE1's s.e. and interval).
    #[arg(long, value_parser = count::<1, 10_000_000>, allow_negative_numbers = true)]
    pub bootstrap: Option<Replicates>,
    /// Simulate replicates from the fitted model instead of resampling the people.
    #[arg(long)]
    pub parametric: bool,
    /// Show counts of identified people below this as "<N" in the table and the report
    /// (3 to 1000, default 5; a job's `report.suppress_below`); the JSON keeps them.
    #[arg(long, value_parser = count::<3, 1000>, allow_negative_numbers = true)]
    pub suppress_below: Option<Threshold>,
    #[command(flatten)]
    pub bayes: BayesArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `COL=LEVEL` of `--baseline`.
fn baseline_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((c, l)) if !c.is_empty() && !l.is_empty() => Ok((c.to_string(), l.to_string())),
        _ => Err(format!("expected COLUMN=LEVEL, found \"{s}\"")),
    }
}
