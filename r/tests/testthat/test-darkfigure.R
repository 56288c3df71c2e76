# The R wrapper against the binary it wraps: the reference values of the R packages through
# R's own data frames, the same numbers as the command line's JSON, the binary's words on
# bad input, and nothing left in the temporary folder.

root <- normalizePath(file.path(testthat::test_path(), "..", "..", ".."))
data_dir <- file.path(root, "tests", "data")
ref <- function(name) jsonlite::fromJSON(file.path(root, "tests", "reference", paste0(name, ".json")),
                                         simplifyVector = FALSE)
rel <- function(a, b) abs(a - b) / abs(b)

test_that("the UKdat Rcapture family matches closedp.t (SparseMSE's layout)", {
  uk <- read.csv(file.path(data_dir, "UKdat.csv"))
  r <- estimate(uk)
  df <- as.data.frame(r)
  theirs <- ref("UKdat")$rcapture$closedp.t$results
  expect_equal(nrow(df), length(theirs))
  for (row in theirs) {
    ours <- df[df$model == row$model, ]
    expect_equal(nrow(ours), 1L)
    expect_equal(ours$status, "ok")
    expect_lt(rel(ours$abundance, row$abundance), 1e-6)
    expect_lt(rel(ours$stderr, row$stderr), 1e-6)
  }
  expect_true(all(c("method", "model", "abundance", "stderr", "lower", "upper", "level",
                    "interval", "deviance", "df", "AIC", "BIC", "status", "warnings") %in% names(df)))
  expect_output(print(r), "Abundance estimations and model fits")
})

test_that("Rcapture's dfreq layout and the one-row-per-unit layout give the same numbers", {
  uk <- read.csv(file.path(data_dir, "UKdat_5.csv"))
  names(uk)[ncol(uk)] <- "freq"
  a <- as.data.frame(estimate(uk, method = "m0", dfreq = TRUE))
  units <- uk[rep(seq_len(nrow(uk)), uk$freq), setdiff(names(uk), "freq")]
  b <- as.data.frame(estimate(units, method = "m0"))
  expect_equal(a$abundance, b$abundance, tolerance = 1e-12)
})

test_that("SparseMSE stepwise on UKdat_5 matches estimatepopulation.0", {
  uk <- read.csv(file.path(data_dir, "UKdat_5.csv"))
  e <- estimate(uk, method = "stepwise")$estimates[[1]]
  theirs <- ref("UKdat_5")$sparsemse$estimatepopulation.0_stepwise$estimate
  expect_lt(rel(e$population, theirs$`point est.`), 1e-6)
  expect_lt(rel(e$interval$lower, theirs$`2.5%`), 1e-6)
  expect_lt(rel(e$interval$upper, theirs$`97.5%`), 1e-6)
})

test_that("dga on UKdat_5 matches bma.cr's posterior median and quantiles", {
  uk <- read.csv(file.path(data_dir, "UKdat_5.csv"))
  e <- estimate(uk, method = "dga")$estimates[[1]]
  theirs <- ref("UKdat_5")$dga$bma.cr$default
  expect_equal(e$population, theirs$posterior_median)
  expect_equal(e$interval$lower, theirs$quantiles$q0.025)
  expect_equal(e$interval$upper, theirs$quantiles$q0.975)
})

test_that("the wrapper gives the command line's JSON, and a seed its numbers", {
  path <- file.path(data_dir, "UKdat_5.csv")
  out <- tempfile(fileext = ".json")
  on.exit(unlink(out))
  system2(darkfigure_binary(), shQuote(c("estimate", path, "-m", "stepwise", "--bootstrap", "200",
                                         "--seed", "3", "--json", out, "--quiet")))
  cli <- jsonlite::fromJSON(out, simplifyVector = FALSE)
  ours <- estimate(path, method = "stepwise", bootstrap = 200, seed = 3)
  expect_identical(unclass(ours), cli)
  again <- estimate(path, method = "stepwise", bootstrap = 200, seed = 3)
  expect_identical(unclass(again), cli)
})

test_that("a job as a list runs as the job file", {
  job <- list(schema = "darkfigure.job/1",
              data = list(file = file.path(data_dir, "UKdat.csv")),
              methods = list(list(id = "mth-chao")))
  r <- run_job(job)
  expect_equal(r$estimates[[1]]$method, "mth-chao")
  expect_equal(r$estimates[[1]]$status, "ok")
})

test_that("one register with covariates", {
  p <- read.csv(file.path(data_dir, "netherlandsimmigrant.csv"))
  e <- estimate(p, method = "ztpoisson", count_column = "capture",
                covariates = c("gender", "age", "nation"))$estimates[[1]]
  expect_lt(rel(e$population, 12690.3536525677), 1e-6)
})

test_that("bad input stops with the binary's message, naming the column", {
  bad <- data.frame(A = c(1, 2), B = c(0, 1), count = c(5, 3))
  e <- tryCatch(estimate(bad, method = "m0"), error = function(e) e)
  expect_s3_class(e, "darkfigure_error")
  expect_match(conditionMessage(e), "expected 0 or 1 in list column \"A\"", fixed = TRUE)
  expect_equal(e$exit_code, 2L)
  neg <- data.frame(A = c(1, 0), B = c(0, 1), count = c(-5, 3))
  expect_error(estimate(neg, method = "m0"), "the negative value \"-5\"", fixed = TRUE)
  expect_error(estimate(file.path(data_dir, "UKdat.csv"), method = "m99"),
               "unknown method \"m99\"", fixed = TRUE)
})

test_that("a status other than ok is visible, never an NA without a reason", {
  ones <- data.frame(times = c(1, 1, 1, 1))
  r <- estimate(ones, method = "ztgeom", count_column = "times")
  df <- as.data.frame(r)
  expect_true(is.na(df$abundance))
  expect_equal(df$status, "mle_does_not_exist")
  expect_match(df$warnings, "recorded exactly once")
  expect_output(print(r), "mle_does_not_exist")
})

test_that("nothing is left in the temporary folder, success or failure", {
  before <- list.files(tempdir(), all.files = TRUE, no.. = TRUE)
  uk <- read.csv(file.path(data_dir, "UKdat_5.csv"))
  estimate(uk, method = "main")
  try(estimate(data.frame(A = 3, B = 1, count = 2), method = "m0"), silent = TRUE)
  try(run_job(list(schema = "darkfigure.job/1", data = list(file = "nowhere.csv"))), silent = TRUE)
  expect_setequal(list.files(tempdir(), all.files = TRUE, no.. = TRUE), before)
})

test_that("the report is written where asked", {
  f <- tempfile(fileext = ".html")
  on.exit(unlink(f))
  uk <- read.csv(file.path(data_dir, "UKdat_5.csv"))
  p <- report(uk, f, method = "main")
  expect_equal(p, normalizePath(f))
  expect_match(readLines(p, n = 1), "<!DOCTYPE html>", fixed = TRUE)
})
