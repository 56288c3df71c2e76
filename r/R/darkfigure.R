# The R interface to darkfigure: find the binary, hand it the data as a CSV in a temporary
# folder, run it, read its JSON back. No statistics here: every number comes from the
# binary, so R, Python and the command line give the same ones.

#' The darkfigure binary
#'
#' Option `darkfigure.path`, then the environment variable `DARKFIGURE_BIN`, then PATH.
#' @return The binary's path.
#' @export
darkfigure_binary <- function() {
  candidates <- c(getOption("darkfigure.path", ""), Sys.getenv("DARKFIGURE_BIN", ""),
                  unname(Sys.which("darkfigure")))
  for (p in candidates) {
    if (nzchar(p) && file.exists(p) && !dir.exists(p)) return(normalizePath(p))
  }
  stop(darkfigure_condition(paste(
    "the darkfigure binary was not found: build it in the darkfigure repository with",
    "`cargo install --path .` (or `cargo build --release` and",
    "options(darkfigure.path = \"target/release/darkfigure\")), or set DARKFIGURE_BIN"
  ), 127L))
}

darkfigure_condition <- function(message, exit_code) {
  structure(class = c("darkfigure_error", "error", "condition"),
            list(message = message, call = NULL, exit_code = exit_code))
}

# Runs the binary with `args`; its error message becomes an R error.
run_binary <- function(args, dir) {
  out <- file.path(dir, "stdout.txt")
  err <- file.path(dir, "stderr.txt")
  status <- system2(darkfigure_binary(), shQuote(args), stdout = out, stderr = err)
  if (!identical(as.integer(status), 0L)) {
    msg <- paste(readLines(err, warn = FALSE, encoding = "UTF-8"), collapse = "\n")
    msg <- sub("^error: ", "", msg)
    if (!nzchar(msg)) msg <- sprintf("darkfigure exited with code %d", status)
    stop(darkfigure_condition(msg, as.integer(status)))
  }
  invisible(readLines(out, warn = FALSE, encoding = "UTF-8"))
}

# A fresh folder that is removed when the calling function returns, however it returns.
scratch <- function(env = parent.frame()) {
  dir <- tempfile("darkfigure-")
  dir.create(dir)
  do.call(on.exit, list(substitute(unlink(d, recursive = TRUE), list(d = dir)), add = TRUE),
          envir = env)
  dir
}

# The data as a CSV path for the binary, and the flags its layout needs.
data_file <- function(data, dir, lists = NULL, count = NULL, dfreq = FALSE,
                      count_column = NULL) {
  if (is.character(data) && length(data) == 1) return(list(path = data, flags = character()))
  if (!is.data.frame(data)) data <- as.data.frame(data)
  if (nrow(data) == 0) stop(darkfigure_condition("the data have no rows", 2L))
  flags <- character()
  if (!is.null(count_column)) {
    # One register's counts: the count column and covariates, written as they are.
  } else if (!is.null(lists)) {
    # One row per person (Rcapture with dfreq = FALSE, or a register): lists named.
    flags <- c("--lists", paste(lists, collapse = ","))
  } else if (!is.null(count)) {
    # SparseMSE's layout: 0/1 list columns and a count column, named by `count`.
    if (!count %in% names(data)) {
      stop(darkfigure_condition(sprintf("no column \"%s\" (the count column) in the data", count), 2L))
    }
    data <- data[, c(setdiff(names(data), count), count), drop = FALSE]
    names(data)[ncol(data)] <- "count"
  } else if (isTRUE(dfreq)) {
    # Rcapture's dfreq = TRUE: histories and, last, their frequencies.
    names(data)[ncol(data)] <- "count"
  } else if (!"count" %in% names(data)) {
    # Rcapture's default layout: one row per unit, every column an occasion.
    flags <- c("--format", "records", "--lists", paste(names(data), collapse = ","))
  } else {
    data <- data[, c(setdiff(names(data), "count"), "count"), drop = FALSE]
  }
  for (j in seq_along(data)) {
    if (is.logical(data[[j]])) data[[j]] <- as.integer(data[[j]])
    if (is.factor(data[[j]])) data[[j]] <- as.character(data[[j]])
  }
  path <- file.path(dir, "data.csv")
  utils::write.csv(data, path, row.names = FALSE, na = "", fileEncoding = "UTF-8")
  list(path = path, flags = flags)
}

flag_args <- function(method = NULL, model = NULL, bootstrap = 0, parametric = FALSE,
                      seed = NULL, level = NULL, interval = NULL, count_column = NULL,
                      covariates = NULL, baseline = NULL, stratify_by = NULL, format = NULL,
                      occasions = NULL, threads = NULL, options = list()) {
  a <- character()
  for (m in method) a <- c(a, "-m", m)
  for (s in model) a <- c(a, "--model", s)
  if (!is.null(bootstrap) && bootstrap > 0) a <- c(a, "--bootstrap", format(bootstrap, scientific = FALSE))
  if (isTRUE(parametric)) a <- c(a, "--parametric")
  if (!is.null(seed)) a <- c(a, "--seed", format(seed, scientific = FALSE))
  if (!is.null(level)) a <- c(a, "--level", format(level, digits = 17))
  if (!is.null(interval)) a <- c(a, "--interval", interval)
  if (!is.null(count_column)) a <- c(a, "--count-column", count_column)
  if (!is.null(covariates)) a <- c(a, "--covariates", paste(covariates, collapse = ","))
  for (col in names(baseline)) a <- c(a, "--baseline", paste0(col, "=", baseline[[col]]))
  if (!is.null(stratify_by)) a <- c(a, "--stratify-by", stratify_by)
  if (!is.null(format)) a <- c(a, "--format", format)
  if (!is.null(occasions)) a <- c(a, "--occasions", as.character(occasions))
  if (!is.null(threads)) a <- c(a, "--threads", as.character(threads))
  for (k in names(options)) {
    flag <- if (k == "K") "-K" else paste0("--", gsub("_", "-", k))
    v <- options[[k]]
    if (isTRUE(v)) a <- c(a, flag) else if (!isFALSE(v) && !is.null(v)) a <- c(a, flag, as.character(v))
  }
  a
}

read_result <- function(path) {
  structure(jsonlite::fromJSON(path, simplifyVector = FALSE), class = "darkfigure_result")
}

#' Estimate the size of a hidden population
#'
#' Runs `darkfigure estimate` on the data and returns its result.
#'
#' @param data A data frame or a CSV path. Layouts: SparseMSE's (0/1 list columns and a
#'   count column, named by `count`, default `"count"`); Rcapture's (`dfreq = TRUE`:
#'   histories and, last, their frequencies; otherwise one row per unit, every column an
#'   occasion); one row per person with `lists` naming the list columns; one register's
#'   counts with `count_column`.
#' @param method Method ids (`"stepwise"`, `"mth-chao"`, `"dga"`, ...).
#' @param model Log-linear model SPECs (each a `loglinear` method).
#' @param bootstrap Bootstrap replicates (0: none).
#' @param seed Master seed.
#' @param level Interval level.
#' @param interval Interval kind (`"profile"` or `"wald-log"`).
#' @param lists,count,dfreq The layout of a data frame (see `data`).
#' @param count_column,covariates,baseline One register's counts: the count column,
#'   covariates and reference levels (a named list).
#' @param stratify_by A column whose values are estimated one by one, and totalled.
#' @param parametric Parametric rather than non-parametric bootstrap.
#' @param options Other options of the command line, as a named list (`list(pthresh = 0.05)`).
#' @param report A path for the HTML (`.html`) or Markdown (`.md`) report.
#' @param ... Passed on (`format`, `occasions`, `threads`).
#' @return A `darkfigure_result`: the result JSON as a list; `print` and `as.data.frame`
#'   read it.
#' @export
estimate <- function(data, method = NULL, model = NULL, bootstrap = 0, seed = NULL,
                     level = 0.95, interval = NULL, lists = NULL, count = NULL, dfreq = FALSE,
                     count_column = NULL, covariates = NULL, baseline = NULL,
                     stratify_by = NULL, parametric = FALSE, options = list(),
                     report = NULL, ...) {
  run_estimate("estimate", data, method, model, bootstrap, seed, level, interval, lists,
               count, dfreq, count_column, covariates, baseline, stratify_by, parametric,
               options, report, ...)
}

run_estimate <- function(command, data, method, model, bootstrap, seed, level, interval,
                         lists, count, dfreq, count_column, covariates, baseline,
                         stratify_by, parametric, options, report, ...) {
  dir <- scratch()
  d <- data_file(data, dir, lists = lists, count = count, dfreq = dfreq,
                 count_column = count_column)
  out <- file.path(dir, "result.json")
  extra <- list(...)
  args <- c(command, d$path, d$flags,
            flag_args(method = method, model = model, bootstrap = bootstrap,
                      parametric = parametric, seed = seed, level = level,
                      interval = interval, count_column = count_column,
                      covariates = covariates, baseline = baseline,
                      stratify_by = stratify_by, format = extra$format,
                      occasions = extra$occasions, threads = extra$threads,
                      options = options),
            "--json", out, "--quiet")
  if (!is.null(report)) args <- c(args, "--report", normalizePath(report, mustWork = FALSE))
  run_binary(args, dir)
  read_result(out)
}

#' Calibrate the intervals on data like these
#'
#' Runs `darkfigure calibrate`: the estimates, and how often each interval covers the
#' truth on data simulated from fits to these data.
#' @inheritParams estimate
#' @param replicates Datasets simulated from each fitted model.
#' @return A `darkfigure_result` with a `calibration` element.
#' @export
calibrate <- function(data, method = NULL, replicates = NULL, options = list(), ...) {
  if (!is.null(replicates)) options$replicates <- replicates
  run_estimate_named("calibrate", data, method, options = options, ...)
}

run_estimate_named <- function(command, data, method, model = NULL, bootstrap = 0,
                               seed = NULL, level = 0.95, interval = NULL, lists = NULL,
                               count = NULL, dfreq = FALSE, count_column = NULL,
                               covariates = NULL, baseline = NULL, stratify_by = NULL,
                               parametric = FALSE, options = list(), report = NULL, ...) {
  run_estimate(command, data, method, model, bootstrap, seed, level, interval, lists, count,
               dfreq, count_column, covariates, baseline, stratify_by, parametric, options,
               report, ...)
}

#' Does the maximum-likelihood estimate exist?
#'
#' Runs `darkfigure check`: for each log-linear model, whether its MLE exists and is
#' identifiable (SparseMSE's codes 0 to 3).
#' @inheritParams estimate
#' @param models Log-linear model SPECs.
#' @return The `darkfigure.check/1` JSON as a list.
#' @export
check <- function(data, models, lists = NULL, count = NULL, dfreq = FALSE) {
  dir <- scratch()
  d <- data_file(data, dir, lists = lists, count = count, dfreq = dfreq)
  out <- file.path(dir, "check.json")
  args <- c("check", d$path, d$flags)
  for (m in models) args <- c(args, "--model", m)
  run_binary(c(args, "--json", out), dir)
  jsonlite::fromJSON(out, simplifyVector = FALSE)
}

# A job (or study) file: a path as given, or a list written as JSON, with a relative data
# file made absolute from the working folder.
job_file <- function(job, dir) {
  if (is.character(job) && length(job) == 1) return(job)
  if (!is.null(job$data$file)) job$data$file <- normalizePath(job$data$file, mustWork = FALSE)
  path <- file.path(dir, "job.json")
  jsonlite::write_json(job, path, auto_unbox = TRUE, digits = NA, null = "null")
  path
}

#' Run a job
#'
#' Runs `darkfigure run` on a job file's path, or on a job given as a list
#' (`darkfigure.job/1`).
#' @param job A path or a list.
#' @param report A path for the HTML or Markdown report.
#' @param threads Worker threads.
#' @return A `darkfigure_result`.
#' @export
run_job <- function(job, report = NULL, threads = NULL) {
  dir <- scratch()
  path <- job_file(job, dir)
  out <- file.path(dir, "result.json")
  args <- c("run", path, "--json", out, "--quiet")
  if (!is.null(report)) args <- c(args, "--report", normalizePath(report, mustWork = FALSE))
  if (!is.null(threads)) args <- c(args, "--threads", as.character(threads))
  run_binary(args, dir)
  read_result(out)
}

#' Write the report
#'
#' Writes the HTML (or, by the extension, Markdown) report of a job, or of an estimate on
#' data with `estimate`'s options.
#' @param x A job (path ending in `.json`, or a list with a `schema`), or data.
#' @param file The report's path.
#' @param ... `estimate`'s options when `x` is data.
#' @return The report's path.
#' @export
report <- function(x, file, ...) {
  is_job <- (is.list(x) && !is.data.frame(x) && !is.null(x$schema)) ||
    (is.character(x) && length(x) == 1 && grepl("\\.json$", x))
  if (is_job) run_job(x, report = file) else estimate(x, ..., report = file)
  normalizePath(file)
}

#' Run a simulation study
#'
#' Runs `darkfigure simulate` on a study file's path or a study given as a list
#' (`darkfigure.study/1`).
#' @param study A path or a list.
#' @param replicates,seed Override the study's.
#' @return The `darkfigure.simulation/1` JSON as a list.
#' @export
simulate <- function(study, replicates = NULL, seed = NULL) {
  dir <- scratch()
  path <- job_file(study, dir)
  out <- file.path(dir, "simulation.json")
  args <- c("simulate", path, "--json", out, "--quiet")
  if (!is.null(replicates)) args <- c(args, "--replicates", as.character(replicates))
  if (!is.null(seed)) args <- c(args, "--seed", as.character(seed))
  run_binary(args, dir)
  jsonlite::fromJSON(out, simplifyVector = FALSE)
}

num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

#' One row per estimate
#'
#' @param x A `darkfigure_result`.
#' @param row.names,optional Unused.
#' @param ... Unused.
#' @return A data frame: method, model, abundance, stderr, lower, upper, level, interval,
#'   deviance, df, AIC, BIC, status, warnings. A missing figure comes with its status and
#'   warnings, which say why.
#' @export
as.data.frame.darkfigure_result <- function(x, row.names = NULL, optional = FALSE, ...) {
  rows <- lapply(x$estimates, function(e) {
    iv <- e$interval
    fit <- e$fit
    data.frame(
      method = e$method, model = e$label, abundance = num(e$population),
      stderr = num(e$std_error), lower = num(iv$lower), upper = num(iv$upper),
      level = num(iv$level), interval = if (is.null(iv)) NA_character_ else iv$kind,
      deviance = num(fit$deviance), df = num(fit$df), AIC = num(fit$aic), BIC = num(fit$bic),
      status = e$status, warnings = paste(unlist(e$warnings), collapse = "; "),
      stringsAsFactors = FALSE
    )
  })
  do.call(rbind, rows)
}

#' Print a result as Rcapture prints `closedp.t`
#' @param x A `darkfigure_result`.
#' @param ... Unused.
#' @export
print.darkfigure_result <- function(x, ...) {
  df <- as.data.frame(x)
  cat("\nNumber of captured units:", x$data$observed, "\n\n")
  cat("Abundance estimations and model fits:\n")
  shown <- data.frame(
    abundance = round(df$abundance, 1), stderr = round(df$stderr, 1),
    lower = round(df$lower, 1), upper = round(df$upper, 1),
    deviance = round(df$deviance, 3), df = df$df, AIC = round(df$AIC, 3),
    BIC = round(df$BIC, 3), status = df$status,
    row.names = make.unique(paste(df$method, ifelse(df$model == df$method, "", df$model)))
  )
  print(shown)
  if (any(df$status != "ok")) {
    cat("\nNot ok:\n")
    for (i in which(df$status != "ok")) {
      cat(" ", df$method[i], df$model[i], ":", df$status[i], "-", df$warnings[i], "\n")
    }
  }
  w <- which(df$status == "ok" & nzchar(df$warnings))
  if (length(w)) {
    cat("\nWarnings:\n")
    for (i in w) cat(" ", df$method[i], df$model[i], ":", df$warnings[i], "\n")
  }
  invisible(x)
}
