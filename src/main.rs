//! The `darkfigure` binary: parses the command line, calls the library, prints tables,
//! writes JSON atomically, and maps errors to exit codes (2 for bad input, 1 otherwise).

mod cli;

use clap::Parser;
use cli::{
    BayesArgs, Cli, CombineArg, Command, DataArgs, FormatArg, IntervalArg, OutputArgs, PriorArg,
    StartArg, Threads,
};
use darkfigure::Error;
use darkfigure::checked::{Order, PValue, Top};
use darkfigure::data::describe::describe;
use darkfigure::data::parse::{Format, ParseOptions, Parsed, read_file};
use darkfigure::inference::bootstrap::BootKind;
use darkfigure::job::{self, DataSpec, Job, OccasionsSpec};
use darkfigure::loglinear::ModelSpec;
use darkfigure::loglinear::check::check;
use darkfigure::methods::details::Combine;
use darkfigure::methods::lcmcr::Start;
use darkfigure::methods::spec::{PriorKind, RawOptions};
use darkfigure::methods::{IntervalKind, Method, MethodId, ProgressFn};
use darkfigure::report::{json, terminal};
use darkfigure::study;
use darkfigure::study::calibrate::CalibrateSpec;
use darkfigure::wire::{CHECK_SCHEMA, CheckDoc, CheckResult, ReportFormat};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Auto => Format::Auto,
        FormatArg::Table => Format::Table,
        FormatArg::Records => Format::Records,
        FormatArg::Frequency => Format::Frequency,
        FormatArg::Counts => Format::Counts,
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

/// An error at a job's JSON path, said as the command line sets that value: by its flag
/// (`--lists`, `-m dga`, `--model "[12]"`). `estimate` builds its job from flags, so its
/// user never wrote the path.
fn as_flags(e: Error, job: Option<&Job>, data: &str) -> Error {
    match e {
        Error::At { path, message } => {
            Error::Usage(format!("{}: {message}", flag_of(&path, job, data)))
        }
        other => other,
    }
}

/// The flag that sets the job value at `path`.
fn flag_of(path: &str, job: Option<&Job>, data: &str) -> String {
    let dashed = |f: &str| match f {
        "K" => "-K".to_string(),
        f => format!("--{}", f.replace('_', "-")),
    };
    if let Some(rest) = path.strip_prefix("methods[") {
        let (index, field) = match rest.split_once(']') {
            Some((i, f)) => (i.parse::<usize>().ok(), f.trim_start_matches('.')),
            None => (None, ""),
        };
        let method = index.and_then(|i| job?.methods.get(i));
        return match (method, field) {
            (Some(Method::Loglinear(o)), "" | "id" | "model") => format!("--model \"{}\"", o.model),
            (Some(m), "" | "id") => format!("-m {}", m.id()),
            (_, "") => "-m".to_string(),
            (_, f) => dashed(f.split(['.', '[']).next().unwrap_or(f)),
        };
    }
    match path.split(['.', '[']).next().unwrap_or(path) {
        "data" if path.starts_with("data.lists") => "--lists".into(),
        "data" if path == "data.occasions" => "--occasions".into(),
        "data" if path == "data.format" => "--format".into(),
        "data" if path == "data.count_column" => "--count-column".into(),
        "data" => data.to_string(),
        "strata" => "--stratify-by".into(),
        "calibrate" if path.starts_with("calibrate.replicates") => "--replicates".into(),
        "calibrate" => data.to_string(),
        "bootstrap_kind" => "--parametric".into(),
        head => dashed(head),
    }
}

/// `describe` and `check` look at the data as a whole.
fn no_strata(d: &DataArgs, command: &str) -> Result<(), Error> {
    if d.stratify_by.is_some() {
        return Err(Error::Usage(format!(
            "--stratify-by: {command} does not split the data by strata (estimate does); leave it out"
        )));
    }
    Ok(())
}

fn load(d: &DataArgs) -> Result<(DataSpec, Parsed), Error> {
    load_parsed(d).map_err(|e| as_flags(e, None, &d.data))
}

fn load_parsed(d: &DataArgs) -> Result<(DataSpec, Parsed), Error> {
    let occ = occasions_of(&d.occasions)?;
    let opts = ParseOptions {
        format: format_of(d.format),
        lists: d.lists.clone(),
        occasions: occ.map(|o| o.resolve()),
        stratify_by: d.stratify_by.clone(),
        count_column: d.count_column.clone(),
    };
    let parsed = read_file(&d.data, &opts)?;
    let spec = DataSpec::File {
        file: d.data.clone(),
        format: opts.format,
        lists: d.lists.clone(),
        occasions: occ,
        count_column: d.count_column.clone(),
    };
    Ok((spec, parsed))
}

fn emit(doc_json: &str, target: &Option<String>) -> Result<(), Error> {
    match target.as_deref() {
        None => Ok(()),
        Some("-") => say(doc_json),
        Some(path) => json::write_atomic(path, doc_json.as_bytes()),
    }
}

/// Runs the command; `Some(reason)` when it completed without any estimate.
fn run(cli: Cli) -> Result<Option<String>, Error> {
    match cli.command {
        Command::Describe {
            data,
            json: out,
            suppress_below,
            show_small,
        } => {
            no_strata(&data, "describe")?;
            let (_, parsed) = load(&data)?;
            let d = describe(&parsed.data);
            let text = json::to_json(&d)?;
            let thr = (!show_small).then(|| {
                u64::from(suppress_below.unwrap_or(darkfigure::checked::DEFAULT_THRESHOLD))
            });
            if out.as_deref() != Some("-") {
                say(&terminal::render_description(&data.data, &d, thr))?;
                for w in &parsed.warnings {
                    say(&format!("warning: {w}\n"))?;
                }
            }
            emit(&text, &out).map(|_| None)
        }
        Command::Check {
            data,
            models,
            json: out,
        } => {
            no_strata(&data, "check")?;
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
                    say(&format!(
                        "{}  code {}: {}\n",
                        r.model, r.check.code, r.check.explanation
                    ))?;
                }
            }
            let doc = CheckDoc {
                lists: table.lists().to_vec(),
                results,
                schema: CHECK_SCHEMA,
                version: darkfigure::VERSION,
            };
            emit(&json::to_json(&doc)?, &out).map(|_| None)
        }
        Command::Estimate(args) => estimate(args, None),
        Command::Calibrate {
            estimate: args,
            replicates,
        } => estimate(args, Some(CalibrateSpec { replicates })),
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
            let (jobv, parsed) = job::load_job(&path)?;
            check_outputs(&out, &report_path(&report, &jobv))?;
            let long = announce(&jobv, &parsed.data, quiet);
            let progress = progress_bar(&jobv, quiet, long);
            let (hooks, bar) = hooks(&jobv, &progress, quiet);
            let doc = job::run_hooked(
                jobv,
                parsed,
                &hooks,
                std::path::Path::new(&path).parent(),
                &path,
            );
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            deliver(doc, progress, &out, &report, quiet)
        }
        Command::Simulate {
            study: path,
            replicates,
            seed,
            shard,
            csv,
            threads,
            json: out,
            quiet,
        } => {
            set_threads(threads)?;
            check_outputs(&out, &None)?;
            check_outputs(&csv, &None)?;
            if let (Some(a), Some(b)) = (&out, &csv)
                && a == b
                && a != "-"
            {
                return Err(Error::Usage(format!(
                    "--json and --csv both name {a}: the CSV would overwrite the JSON"
                )));
            }
            let (st, models) = study::file::load(&path)?;
            if !quiet {
                for (name, n) in study::advance_notices(&st, &models) {
                    tell(&format!("note: {name}: {n}\n"));
                }
            }
            let r_all = replicates.map_or(st.replicates.get(), |r| r.get()) as u64;
            let mine = match shard {
                Some(s) => (r_all + s.count - 1 - s.index) / s.count,
                None => r_all,
            };
            let bar = study_bar(mine, quiet);
            let opts = study::RunOptions {
                replicates,
                seed,
                shard,
                progress: bar.as_ref().map(|b| {
                    let b = b.clone();
                    ProgressFn(std::sync::Arc::new(move |k| b.inc(k)))
                }),
            };
            let doc = study::run(&st, &models, &opts);
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let doc = doc?;
            deliver_study(&doc, &out, &csv, quiet)?;
            Ok(None)
        }
        Command::Merge {
            parts,
            json: out,
            csv,
            quiet,
        } => {
            let out = Some(out);
            check_outputs(&out, &None)?;
            check_outputs(&csv, &None)?;
            let mut docs = Vec::new();
            for p in &parts {
                docs.push((p.clone(), study::merge::read_part(p)?));
            }
            let doc = study::merge::merge(docs)?;
            deliver_study(&doc, &out, &csv, quiet)?;
            Ok(None)
        }
    }
}

/// `estimate`, and `calibrate` (an estimate with a calibration): the flags made into the
/// typed job a file gives, checked before anything runs, with errors named by flag.
fn estimate(
    args: cli::EstimateArgs,
    calibrate: Option<CalibrateSpec>,
) -> Result<Option<String>, Error> {
    let cli::EstimateArgs {
        data,
        methods,
        models,
        level,
        interval,
        pthresh,
        maxorder,
        ntop,
        covariates,
        baseline,
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
    } = args;
    set_threads(threads)?;
    if let Some(r) = &report {
        report_format(r)?;
    }
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
            &RawOptions {
                covariates,
                baseline: (!baseline.is_empty()).then(|| baseline.into_iter().collect()),
                ..method_flags(pthresh, maxorder, ntop, &bayes)
            },
        )?,
        bootstrap,
        strata: data.stratify_by.clone(),
        aggregate: None,
        calibrate,
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
    // Every error about the job stops here, before anything runs, named by its flag.
    job::check_job(&job)
        .and_then(|_| job::check_data(&job, &parsed.data))
        .map_err(|e| as_flags(e, Some(&job), &data.data))?;
    check_outputs(&out, &report_path(&report, &job))?;
    let long = announce(&job, &parsed.data, quiet);
    let progress = progress_bar(&job, quiet, long);
    let (hooks, bar) = hooks(&job, &progress, quiet);
    let doc = job::run_hooked(job, parsed, &hooks, None, "<job>");
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    deliver(doc, progress, &out, &report, quiet)
}

/// The run's progress callbacks: the bootstrap's bar, and for a calibration a bar over its
/// datasets that appears when the estimates are done (it takes the estimates' bar away).
fn hooks(
    job: &Job,
    progress: &Option<(ProgressFn, ProgressBar)>,
    quiet: bool,
) -> (job::Hooks, Option<ProgressBar>) {
    use std::io::IsTerminal;
    let mut hooks = job::Hooks {
        bootstrap: progress.as_ref().map(|p| p.0.clone()),
        calibration: None,
    };
    if job.calibrate.is_none() || quiet || !std::io::stderr().is_terminal() {
        return (hooks, None);
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template(
            "calibrating {bar:40} {pos}/{len} simulated datasets, {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let before = progress.as_ref().map(|p| p.1.clone());
    let (planned, done) = (bar.clone(), bar.clone());
    hooks.calibration = Some(study::calibrate::CalibrationProgress {
        planned: ProgressFn(std::sync::Arc::new(move |k| {
            if let Some(b) = &before {
                b.finish_and_clear();
            }
            if planned.is_hidden() {
                planned.set_draw_target(ProgressDrawTarget::stderr());
            }
            planned.inc_length(k);
        })),
        done: ProgressFn(std::sync::Arc::new(move |k| done.inc(k))),
    });
    (hooks, Some(bar))
}

/// Shows a study's table (on stderr when stdout carries the JSON) and writes its files.
fn deliver_study(
    doc: &study::SimulationDoc,
    out: &Option<String>,
    csv: &Option<String>,
    quiet: bool,
) -> Result<(), Error> {
    let text = json::to_json(doc)?;
    show(&darkfigure::report::study::render(doc), out, quiet)?;
    if let Some(c) = csv {
        let rows = study::to_csv(doc)?;
        if c == "-" {
            say(&rows)?;
        } else {
            json::write_atomic(c, rows.as_bytes())?;
        }
    }
    emit(&text, out)
}

/// A progress bar over a study's datasets on a terminal.
fn study_bar(n: u64, quiet: bool) -> Option<ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("datasets {bar:40} {pos}/{len}, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}

/// Clears the progress bar, then shows the result (the job's name above its table), writes
/// the report and the JSON. A result where no method gave a number is still shown and
/// written (its statuses are the answer), and then is an error (exit code 1).
fn deliver(
    doc: Result<job::ResultDoc, Error>,
    progress: Option<(ProgressFn, ProgressBar)>,
    out: &Option<String>,
    report: &Option<String>,
    quiet: bool,
) -> Result<Option<String>, Error> {
    if let Some((_, bar)) = progress {
        bar.finish_and_clear();
    }
    let doc = doc?;
    let text = json::to_json(&doc)?;
    if let Some(name) = &doc.job.name
        && !quiet
        && out.as_deref() != Some("-")
    {
        say(&format!("{name}\n"))?;
    }
    show(&terminal::render_result(&doc), out, quiet)?;
    write_report(&doc, report)?;
    emit(&text, out)?;
    if doc.has_estimate() {
        return Ok(None);
    }
    Ok(Some(format!(
        "no method produced an estimate (the result was still written): {}",
        doc.failures().join("; ")
    )))
}

/// The report format a `--report` path asks for.
fn report_format(path: &str) -> Result<ReportFormat, Error> {
    ReportFormat::of(path).ok_or_else(|| {
        Error::Usage(format!(
            "--report {path}: expected a file ending in .html or .md"
        ))
    })
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
        combine: bayes.combine.map(|c| match c {
            CombineArg::Mixture => Combine::Mixture,
            CombineArg::Union => Combine::Union,
        }),
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

/// The report's file: the command line's, else the job's.
fn report_path(cli: &Option<String>, job: &Job) -> Option<String> {
    cli.clone()
        .or_else(|| job.report.as_ref().and_then(|r| r.file.clone()))
}

/// Checks the output paths before anything runs, so that a long run does not end in a
/// path that cannot be written: a report ends in .html or .md, the JSON and the report are
/// different files, and each lands in an existing folder and is not a folder itself.
fn check_outputs(json_out: &Option<String>, report: &Option<String>) -> Result<(), Error> {
    if let Some(r) = report {
        report_format(r)?;
    }
    if let (Some(j), Some(r)) = (json_out, report)
        && j == r
    {
        return Err(Error::Usage(format!(
            "--json and --report both name {j}: the JSON would overwrite the report"
        )));
    }
    for p in [json_out, report].into_iter().flatten() {
        if p == "-" {
            continue;
        }
        let path = std::path::Path::new(p);
        if path.is_dir() {
            return Err(Error::Usage(format!(
                "{p}: is a folder; expected a file to write"
            )));
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(d) = dir
            && !d.is_dir()
        {
            return Err(Error::Usage(format!(
                "{p}: the folder {} does not exist",
                d.display()
            )));
        }
    }
    Ok(())
}

/// Writes the HTML or Markdown report (atomically) when asked for, on the command line or
/// in the job.
fn write_report(doc: &job::ResultDoc, cli: &Option<String>) -> Result<(), Error> {
    let Some(path) = report_path(cli, &doc.job) else {
        return Ok(());
    };
    let thr = doc.job.suppress_below();
    let text = match report_format(&path)? {
        ReportFormat::Markdown => darkfigure::report::html::markdown(doc, thr),
        ReportFormat::Html => darkfigure::report::html::html(doc, thr),
    };
    json::write_atomic(&path, text.as_bytes())
}

/// Says, before they start, which methods face work that grows exponentially with the
/// number of lists (a long wait should never come without a reason); true when it did.
fn announce(job: &Job, data: &darkfigure::Dataset, quiet: bool) -> bool {
    if quiet {
        return false;
    }
    let defaults;
    let methods = if job.methods.is_empty() {
        defaults = darkfigure::methods::default_methods(data);
        &defaults
    } else {
        &job.methods
    };
    // Methods with the same notice share one line.
    let mut notices: Vec<(Vec<&str>, String)> = Vec::new();
    for m in methods {
        if let Some(n) = m.advance_notice(data) {
            match notices.iter_mut().find(|(_, t)| *t == n) {
                Some((ids, _)) => ids.push(m.id().as_str()),
                None => notices.push((vec![m.id().as_str()], n)),
            }
        }
    }
    for (ids, n) in &notices {
        tell(&format!("note: {}: {n}\n", ids.join(", ")));
    }
    if let Some(c) = &job.calibrate {
        // The fitted models: one per log-linear method (fewer when two choose the same
        // model), the main effects' when there is none, and the latent classes'.
        let loglinear = methods
            .iter()
            .filter(|m| study::calibrate::is_loglinear(m))
            .count();
        let models = loglinear.max(1) + 1;
        let r = c.replicates.get();
        let boot = match job.bootstrap {
            Some(b) if methods.iter().any(Method::bootstrappable) => {
                format!(", the bootstrapped ones with {} replicates each", b.get())
            }
            _ => String::new(),
        };
        tell(&format!(
            "note: calibrating: {r} datasets from each of up to {models} models fitted to the data, the {} methods run on each ({} runs{boot})\n",
            methods.len(),
            r * models * methods.len()
        ));
    }
    !notices.is_empty()
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

/// A progress bar on stderr for bootstrap replicates, or, for a long run without one (see
/// `announce`), a spinner with the time spent; none with --quiet or when stderr is not a
/// terminal.
fn progress_bar(job: &Job, quiet: bool, long: bool) -> Option<(ProgressFn, ProgressBar)> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let Some(b) = job.bootstrap.map(|b| b.get()) else {
        if !long {
            return None;
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} estimating… {elapsed} so far")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        return Some((ProgressFn(std::sync::Arc::new(|_| {})), bar));
    };
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
fn show(table: &str, out: &Option<String>, quiet: bool) -> Result<(), Error> {
    if quiet {
        return Ok(());
    }
    if out.as_deref() == Some("-") {
        tell(table);
        Ok(())
    } else {
        say(table)
    }
}

/// Set once standard output's reader has gone away: nothing more is printed there, and the
/// run goes on to write its files.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output. A reader that stopped reading (`| head`, a closed pipe) is
/// not an error: what it did not want is dropped and the run ends as it would have (exit 0
/// when nothing else failed). Any other failure (a full device) is an error naming it.
fn say(text: &str) -> Result<(), Error> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut o = std::io::stdout().lock();
    match o.write_all(text.as_bytes()).and_then(|()| o.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(Error::Io {
            path: "standard output".into(),
            source: e,
        }),
    }
}

/// Writes to standard error; a closed or full stderr cannot be reported anywhere, so it is
/// ignored (the exit code still says how the run ended).
fn tell(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// SIGINT, SIGTERM and SIGHUP end the run the way they would have, after removing the
/// temporary files of writes in progress (a result file is either the old one or the
/// whole new one, never half of it, and nothing is left beside it).
fn clean_up_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let _held = json::abandon_writes();
            let _ = signal_hook::low_level::emulate_default_handler(sig);
            std::process::exit(128 + sig);
        }
    });
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    clean_up_on_signals();
    match run(cli) {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(reason)) => {
            eprintln!("error: {reason}");
            ExitCode::from(1)
        }
        Err(e) => {
            tell(&format!("error: {e}\n"));
            if e.is_user_error() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
