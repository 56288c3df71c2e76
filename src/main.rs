//! The `darkfigure` binary: parses the command line, calls the library, prints tables,
//! writes JSON atomically, and maps errors to exit codes (2 for bad input, 1 otherwise).

mod cli;

use clap::Parser;
use cli::{
    BayesArgs, Cli, Command, DataArgs, FormatArg, IntervalArg, OutputArgs, PriorArg, StartArg,
    Threads,
};
use darkfigure::Error;
use darkfigure::checked::{Order, PValue, Top};
use darkfigure::data::describe::describe;
use darkfigure::data::parse::{Format, ParseOptions, Parsed, read_file};
use darkfigure::inference::bootstrap::BootKind;
use darkfigure::job::{self, DataSpec, Job, OccasionsSpec};
use darkfigure::loglinear::ModelSpec;
use darkfigure::loglinear::check::check;
use darkfigure::methods::lcmcr::Start;
use darkfigure::methods::spec::{PriorKind, RawOptions};
use darkfigure::methods::{IntervalKind, Method, MethodId, ProgressFn};
use darkfigure::report::{json, terminal};
use darkfigure::wire::{CHECK_SCHEMA, CheckDoc, CheckResult};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::process::ExitCode;

fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Auto => Format::Auto,
        FormatArg::Table => Format::Table,
        FormatArg::Records => Format::Records,
        FormatArg::Frequency => Format::Frequency,
    }
}

fn occasions_of(s: &Option<String>) -> Result<Option<OccasionsSpec>, Error> {
    match s.as_deref() {
        None => Ok(None),
        Some("inf") | Some("Inf") => Ok(Some(OccasionsSpec::Word(job::InfWord::Inf))),
        Some(t) => match t.parse::<u32>() {
            Ok(v) if v >= 1 => Ok(Some(OccasionsSpec::Finite(v))),
            _ => Err(Error::Usage(format!(
                "--occasions expects a whole number of occasions (at least 1) or inf, got \"{t}\""
            ))),
        },
    }
}

fn load(d: &DataArgs) -> Result<(DataSpec, Parsed), Error> {
    let occ = occasions_of(&d.occasions)?;
    let opts = ParseOptions {
        format: format_of(d.format),
        lists: d.lists.clone(),
        occasions: occ.map(|o| o.resolve()),
        stratify_by: d.stratify_by.clone(),
    };
    let parsed = read_file(&d.data, &opts)?;
    let spec = DataSpec::File {
        file: d.data.clone(),
        format: opts.format,
        lists: d.lists.clone(),
        occasions: occ,
    };
    Ok((spec, parsed))
}

fn emit(doc_json: &str, target: &Option<String>) -> Result<(), Error> {
    match target.as_deref() {
        None => Ok(()),
        Some("-") => {
            print!("{doc_json}");
            Ok(())
        }
        Some(path) => json::write_atomic(path, doc_json.as_bytes()),
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Describe {
            data,
            json: out,
            suppress_below,
            show_small,
        } => {
            let (_, parsed) = load(&data)?;
            let d = describe(&parsed.data);
            let text = json::to_json(&d)?;
            let thr = (!show_small).then(|| {
                u64::from(suppress_below.unwrap_or(darkfigure::checked::DEFAULT_THRESHOLD))
            });
            if out.as_deref() != Some("-") {
                print!("{}", terminal::render_description(&data.data, &d, thr));
                for w in &parsed.warnings {
                    println!("warning: {w}");
                }
            }
            emit(&text, &out)
        }
        Command::Check {
            data,
            models,
            json: out,
        } => {
            let (_, parsed) = load(&data)?;
            let darkfigure::Dataset::Table(table) = &parsed.data else {
                return Err(Error::Usage(
                    "check needs capture histories (a table or records CSV), not frequencies"
                        .into(),
                ));
            };
            let mut results = Vec::new();
            for spec in &models {
                let ms = ModelSpec::parse(spec, table.lists())?;
                results.push(CheckResult {
                    check: check(table, &ms)?,
                    model: ms.label(table.lists()),
                });
            }
            if out.as_deref() != Some("-") {
                for r in &results {
                    println!(
                        "{}  code {}: {}",
                        r.model, r.check.code, r.check.explanation
                    );
                }
            }
            let doc = CheckDoc {
                lists: table.lists().to_vec(),
                results,
                schema: CHECK_SCHEMA,
                version: darkfigure::VERSION,
            };
            emit(&json::to_json(&doc)?, &out)
        }
        Command::Estimate {
            data,
            methods,
            models,
            level,
            interval,
            pthresh,
            maxorder,
            ntop,
            seed,
            bootstrap,
            parametric,
            suppress_below,
            bayes,
            output:
                OutputArgs {
                    threads,
                    json: out,
                    report,
                    quiet,
                },
        } => {
            set_threads(threads)?;
            let (spec, parsed) = load(&data)?;
            let job = Job {
                schema: job::JOB_SCHEMA.into(),
                name: None,
                description: None,
                data: spec,
                seed,
                level,
                interval: match interval {
                    IntervalArg::Profile => IntervalKind::Profile,
                    IntervalArg::WaldLog => IntervalKind::WaldLog,
                },
                methods: methods_of(
                    &methods,
                    &models,
                    &method_flags(pthresh, maxorder, ntop, &bayes),
                )?,
                bootstrap,
                strata: data.stratify_by.clone(),
                aggregate: None,
                report: suppress_below.map(|t| job::ReportSpec {
                    file: None,
                    suppress_below: t,
                }),
                bootstrap_kind: if parametric {
                    BootKind::Parametric
                } else {
                    BootKind::Nonparametric
                },
            };
            let progress = progress_bar(&job, quiet);
            let doc = job::run_with_progress(job, parsed, progress.as_ref().map(|p| p.0.clone()));
            deliver(doc, progress, &out, &report, quiet)
        }
        Command::Run {
            job: path,
            output:
                OutputArgs {
                    threads,
                    json: out,
                    report,
                    quiet,
                },
        } => {
            set_threads(threads)?;
            let jobv = job::read_job(&path)?;
            let parsed = job::load_data(
                &jobv.data,
                std::path::Path::new(&path).parent(),
                &path,
                &jobv.strata,
            )?;
            let progress = progress_bar(&jobv, quiet);
            let doc = job::run_full(
                jobv,
                parsed,
                progress.as_ref().map(|p| p.0.clone()),
                std::path::Path::new(&path).parent(),
                &path,
            );
            deliver(doc, progress, &out, &report, quiet)
        }
    }
}

/// Clears the progress bar, then shows the result (the job's name above its table), writes
/// the report and the JSON.
fn deliver(
    doc: Result<job::ResultDoc, Error>,
    progress: Option<(ProgressFn, ProgressBar)>,
    out: &Option<String>,
    report: &Option<String>,
    quiet: bool,
) -> Result<(), Error> {
    if let Some((_, bar)) = progress {
        bar.finish_and_clear();
    }
    let doc = doc?;
    let text = json::to_json(&doc)?;
    if let Some(name) = &doc.job.name
        && !quiet
        && out.as_deref() != Some("-")
    {
        println!("{name}");
    }
    show(&terminal::render_result(&doc), out, quiet);
    write_report(&doc, report)?;
    emit(&text, out)
}

/// The method options given on the command line, once for every method named.
fn method_flags(
    pthresh: Option<PValue>,
    maxorder: Option<Order>,
    ntop: Option<Top>,
    bayes: &BayesArgs,
) -> RawOptions {
    RawOptions {
        pthresh,
        maxorder,
        ntop,
        classes: bayes.classes,
        burnin: bayes.burnin,
        samples: bayes.samples,
        thinning: bayes.thinning,
        chains: bayes.chains,
        start: bayes.start.map(|s| match s {
            StartArg::Package => Start::Package,
            StartArg::Dispersed => Start::Dispersed,
        }),
        prior: bayes.prior.map(|p| match p {
            PriorArg::Normal => PriorKind::Normal,
            PriorArg::Flat => PriorKind::Flat,
        }),
        prior_variance: bayes.prior_variance,
        threshold: bayes.threshold,
        ..RawOptions::default()
    }
}

/// The methods of `-m ID` and `--model SPEC` (each a `loglinear`), each with the flags
/// that belong to it; a flag that no named method takes is an error, as a foreign option
/// in a job file is.
fn methods_of(ids: &[String], models: &[String], flags: &RawOptions) -> Result<Vec<Method>, Error> {
    let mut named = Vec::new();
    for id in ids {
        let id = MethodId::parse(id).map_err(Error::Usage)?;
        // `--model` makes its own loglinear methods.
        if !(id == MethodId::Loglinear && !models.is_empty()) {
            named.push(id);
        }
    }
    let mut all = named.clone();
    if !models.is_empty() {
        all.push(MethodId::Loglinear);
    }
    if let Some(&name) = flags.unused_by(&all).first() {
        let flag = match name {
            "K" => "-K".to_string(),
            f => format!("--{}", f.replace('_', "-")),
        };
        let takers: Vec<&str> = MethodId::all()
            .into_iter()
            .filter(|id| MethodId::parse(id).is_ok_and(|m| m.takes(name)))
            .collect();
        return Err(Error::Usage(format!(
            "{flag} belongs to {}, and no such method was asked for (-m)",
            takers.join(", ")
        )));
    }
    let mut out = Vec::new();
    for id in named {
        out.push(Method::from_raw(id, flags.for_method(id)).map_err(Error::Usage)?);
    }
    for m in models {
        let raw = RawOptions {
            model: Some(m.clone()),
            ..flags.for_method(MethodId::Loglinear)
        };
        out.push(Method::from_raw(MethodId::Loglinear, raw).map_err(Error::Usage)?);
    }
    Ok(out)
}

/// Writes the HTML or Markdown report (atomically) when asked for, on the command line or
/// in the job.
fn write_report(doc: &job::ResultDoc, cli: &Option<String>) -> Result<(), Error> {
    let Some(path) = cli
        .clone()
        .or_else(|| doc.job.report.as_ref().and_then(|r| r.file.clone()))
    else {
        return Ok(());
    };
    let thr = doc.job.suppress_below();
    let text = if path.ends_with(".md") || path.ends_with(".markdown") {
        darkfigure::report::html::markdown(doc, thr)
    } else if path.ends_with(".html") || path.ends_with(".htm") {
        darkfigure::report::html::html(doc, thr)
    } else {
        return Err(Error::Usage(format!(
            "--report {path}: expected a file ending in .html or .md"
        )));
    };
    json::write_atomic(&path, text.as_bytes())
}

/// Sizes rayon's pool; results do not depend on it (every replicate has its own stream).
fn set_threads(threads: Option<Threads>) -> Result<(), Error> {
    if let Some(n) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.get())
            .build_global()
            .map_err(|e| Error::Usage(format!("--threads: {e}")))?;
    }
    Ok(())
}

/// A progress bar on stderr for bootstrap replicates; none with --quiet, without a
/// bootstrap, or when stderr is not a terminal.
fn progress_bar(job: &Job, quiet: bool) -> Option<(ProgressFn, ProgressBar)> {
    use std::io::IsTerminal;
    let b = job.bootstrap?.get();
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let n = job
        .methods
        .iter()
        .filter(|m| m.bootstrappable())
        .count()
        .max(1);
    let bar = ProgressBar::with_draw_target(Some((b * n) as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("bootstrap {bar:40} {pos}/{len} replicates, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let b2 = bar.clone();
    Some((ProgressFn(std::sync::Arc::new(move |k| b2.inc(k))), bar))
}

/// Prints the table on stdout, or on stderr when stdout carries the JSON.
fn show(table: &str, out: &Option<String>, quiet: bool) {
    if quiet {
        return;
    }
    if out.as_deref() == Some("-") {
        eprint!("{table}");
    } else {
        print!("{table}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if e.is_user_error() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
