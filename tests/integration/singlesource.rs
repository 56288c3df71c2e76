//! Single-source zero-truncated regression beyond the reference values: the assertions of
//! singleRcapture's own test suite, a recovery study of the negative binomial's interval,
//! the bootstrap's reproducibility across thread counts, and strata.

use crate::common::data_dir;
use darkfigure::Dataset;
use darkfigure::data::parse::{ParseOptions, parse_bytes, read_file};
use darkfigure::methods::{Context, Details, Estimate, Method, Status};
use rand::SeedableRng;
use rand_distr::{Distribution, Gamma, Poisson};

fn immigrants() -> Dataset {
    let p = data_dir().join("netherlandsimmigrant.csv");
    let o = ParseOptions {
        count_column: Some("capture".into()),
        ..ParseOptions::default()
    };
    read_file(p.to_str().expect("utf-8"), &o)
        .expect("reads")
        .data
}

fn fit(d: &Dataset, spec: &str, ctx: &Context) -> Estimate {
    let m: Method = spec.parse().expect("method");
    m.run(d, ctx).expect("runs").remove(0)
}

/// singleRcapture's tinytest assertions (relative tolerance 0.005, as the package's tests
/// state them; our values match the package's own to 1e-6 in `reference`).
#[test]
fn the_package_test_suite_assertions_hold() {
    let d = immigrants();
    let ctx = Context::default();
    let cases: &[(&str, f64, f64, f64)] = &[
        (
            r#"{"id":"zelterman","covariates":["gender","age"]}"#,
            10213.0,
            8416.0,
            12009.0,
        ),
        (r#"{"id":"zelterman"}"#, 9425.0, 8084.0, 10765.0),
        (
            r#"{"id":"ztpoisson","covariates":["gender","age","reason","nation"]}"#,
            12691.0,
            7185.0,
            18198.0,
        ),
        (r#"{"id":"ztpoisson"}"#, 7080.0, 6363.0, 7797.0),
    ];
    for &(spec, n, lo, hi) in cases {
        let e = fit(&d, spec, &ctx);
        let Details::SingleSource(o) = &e.options else {
            panic!("{spec}")
        };
        let normal = o.normal.expect("normal interval");
        let rel = |a: f64, b: f64| (a - b).abs() / b;
        assert!(
            rel(e.population.unwrap(), n) < 0.005,
            "{spec}: {:?}",
            e.population
        );
        assert!(
            rel(normal.lower, lo) < 0.005 && rel(normal.upper, hi) < 0.005,
            "{spec}"
        );
    }
    let e = fit(
        &d,
        r#"{"id":"ztpoisson","covariates":["nation","age","gender"]}"#,
        &ctx,
    );
    let Details::SingleSource(o) = &e.options else {
        panic!()
    };
    let dfp = o.dfpopsize.as_ref().expect("dfpopsize");
    // The package's vignette: summary(marginalFreq(ztpoisson ~ gender + age + nation),
    // dropl5 = "group") gives χ² 50.06 and G 34.31 (two decimals); the order of the
    // covariates does not change the fit.
    let gof = o.goodness_of_fit.as_ref().expect("goodness of fit");
    assert!((gof.chi2 - 50.06).abs() < 0.005, "{}", gof.chi2);
    assert!((gof.g - 34.31).abs() < 0.005, "{}", gof.g);
    let joined: Vec<&str> = gof.grouped.iter().map(|c| c.times.as_str()).collect();
    assert_eq!(joined, ["1", "2", "3", "4,5,6"]);
    assert!((dfp.max_abs.unwrap() - 4236.412).abs() / 4236.412 < 0.005);
    assert!((dfp.mean_abs.unwrap() - 19.19).abs() / 19.19 < 0.005);
}

/// N people with a two-level covariate, counts negative binomial with mean
/// exp(0.2 + 0.6·x) and dispersion 0.5; the seen are those with a count above zero.
fn ztnb_sample(seed: u64, n: usize) -> Dataset {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let alpha = 0.5f64;
    let mut csv = String::from("y,x\n");
    for i in 0..n {
        let x = (i % 2) as f64;
        let lambda = (0.2 + 0.6 * x).exp();
        let g = Gamma::new(1.0 / alpha, alpha * lambda)
            .expect("gamma")
            .sample(&mut rng);
        let y = if g > 0.0 {
            Poisson::new(g).expect("poisson").sample(&mut rng) as u64
        } else {
            0
        };
        if y > 0 {
            csv.push_str(&format!("{y},{}\n", if x > 0.0 { "b" } else { "a" }));
        }
    }
    let o = ParseOptions {
        count_column: Some("y".into()),
        ..ParseOptions::default()
    };
    parse_bytes("sim.csv", csv.as_bytes(), &o)
        .expect("parses")
        .data
}

/// Recovery: 200 populations of 2000 from the model ztnegbin fits; the 95% log-normal
/// interval must cover N in at least the share a Binomial(200, 0.95) count reaches with
/// probability 0.999 (181 of 200), every fit with a number.
#[test]
fn ztnegbin_intervals_cover_the_true_size() {
    use statrs::distribution::{Binomial, DiscreteCDF};
    let reps = 200u64;
    let truth = 2000.0;
    let ctx = Context::default();
    let mut covered = 0;
    let mut fitted = 0;
    for r in 0..reps {
        let d = ztnb_sample(1000 + r, truth as usize);
        let e = fit(&d, r#"{"id":"ztnegbin","covariates":["x"]}"#, &ctx);
        if e.status != Status::Ok {
            continue;
        }
        fitted += 1;
        let iv = e.interval.expect("interval");
        if iv.lower.unwrap() <= truth && truth <= iv.upper.unwrap() {
            covered += 1;
        }
    }
    let bound = (0..=reps)
        .find(|&k| Binomial::new(0.95, reps).expect("binomial").cdf(k) > 0.001)
        .expect("bound");
    assert!(fitted >= 195, "only {fitted} of {reps} fits had a number");
    assert!(
        covered >= bound,
        "covered {covered} of {reps}; bound {bound}"
    );
}

/// The bootstrap gives the same replicates with one thread or several.
#[test]
fn the_bootstrap_is_the_same_at_any_thread_count() {
    use darkfigure::inference::bootstrap::{BootKind, BootOptions};
    let d = immigrants();
    let run = |threads: usize, kind: BootKind| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| {
            let ctx = Context {
                bootstrap: Some(BootOptions {
                    replicates: 100,
                    seed: 7,
                    kind,
                }),
                ..Context::default()
            };
            let e = fit(&d, r#"{"id":"ztpoisson","covariates":["gender"]}"#, &ctx);
            e.bootstrap.expect("bootstrap").values
        })
    };
    for kind in [BootKind::Nonparametric, BootKind::Parametric] {
        let one = run(1, kind);
        assert_eq!(one, run(2, kind));
        assert!(one.iter().all(|v| v.is_some()));
    }
}

/// The JSON document `name` the binary wrote in `dir`.
fn json_in(dir: &std::path::Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(name)).expect("json")).expect("parses")
}

/// Runs the binary in a folder holding the package's data.
fn darkfigure(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::fs::copy(
        data_dir().join("netherlandsimmigrant.csv"),
        dir.join("n.csv"),
    )
    .expect("copy");
    std::process::Command::new(env!("CARGO_BIN_EXE_darkfigure"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("runs")
}

/// A country with one register contributes its multiplier to the world aggregate: its
/// estimate is the single-source method's, bootstrapped, divided by those it identified.
#[test]
fn a_single_register_country_contributes_its_multiplier() {
    let dir = crate::cli::TempDir::new("singlesource");
    let job = r#"{"schema": "darkfigure.job/1",
      "data": {"file": "n.csv", "count_column": "capture"},
      "methods": [{"id": "zelterman"}],
      "aggregate": {"identified": {"total": 125000, "source": "IOM"}, "study_bootstrap": 1000,
        "studies": [
          {"name": "register", "citation": "c", "method": "zelterman",
           "data": {"file": "n.csv", "count_column": "capture"}},
          {"name": "pub", "citation": "x",
           "published": {"multiplier": 3.0, "lower": 2.0, "upper": 5.0, "level": 0.95}}]}}"#;
    std::fs::write(dir.0.as_path().join("job.json"), job).expect("job");
    let out = darkfigure(
        dir.0.as_path(),
        &["run", "job.json", "--json", "out.json", "-q"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_in(dir.0.as_path(), "out.json");
    let st = &doc["aggregate"]["studies"][0];
    let est = doc["estimates"][0]["population"].as_f64().expect("N");
    let m = st["multiplier"].as_f64().expect("M");
    assert!((m - est / 1880.0).abs() < 1e-9, "{m} vs {est}");
    assert!(
        doc["aggregate"]["total"]["population"].as_f64().is_some()
            || doc["aggregate"]["total"].is_object()
    );
}

/// Strata of one register's counts: each stratum fitted, and a total from the strata's
/// bootstrap replicates summed.
#[test]
fn strata_of_counts_have_a_bootstrap_total() {
    let dir = crate::cli::TempDir::new("singlesource");
    let out = darkfigure(
        dir.0.as_path(),
        &[
            "estimate",
            "n.csv",
            "--count-column",
            "capture",
            "--stratify-by",
            "gender",
            "-m",
            "ztpoisson",
            "--bootstrap",
            "1000",
            "--seed",
            "3",
            "--json",
            "out.json",
            "-q",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_in(dir.0.as_path(), "out.json");
    let strata = doc["strata"].as_array().expect("strata");
    assert_eq!(strata.len(), 2);
    let sum: f64 = strata
        .iter()
        .map(|s| s["estimates"][0]["population"].as_f64().expect("N"))
        .sum();
    let total = &doc["totals"][0];
    assert!((total["population"].as_f64().expect("total") - sum).abs() < 1e-6 * sum);
    assert_eq!(total["interval"]["kind"], "bootstrap-percentile-of-sum");
}

/// A calibration of one register's counts simulates from each single-source method's fit
/// (and the negative binomial's, when it has one): each model's interval covers on its own
/// data and a wrong law's does not, which is what the calibration is there to show.
#[test]
fn a_calibration_of_counts_simulates_from_the_fits() {
    let dir = crate::cli::TempDir::new("singlesource");
    let out = darkfigure(
        dir.0.as_path(),
        &[
            "calibrate",
            "n.csv",
            "--count-column",
            "capture",
            "-m",
            "ztpoisson",
            "-m",
            "ztgeom",
            "--replicates",
            "200",
            "--json",
            "out.json",
            "-q",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_in(dir.0.as_path(), "out.json");
    let c = &doc["calibration"];
    let gens: Vec<&str> = c["generators"]
        .as_array()
        .expect("generators")
        .iter()
        .map(|g| g["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        gens,
        ["ztpoisson capture ~ 1 fit", "ztgeom capture ~ 1 fit"]
    );
    // ztnegbin's fit runs to its boundary on these data: skipped, with the reason.
    assert!(
        c["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no finite estimate"))
    );
    let rate = |generator: &str, procedure: &str| {
        c["table"]
            .as_array()
            .expect("table")
            .iter()
            .find(|r| r["generator"] == generator && r["procedure"] == procedure)
            .map(|r| r["coverage"][2]["rate"].as_f64().expect("rate"))
            .expect("row")
    };
    // 200 datasets: a 95% interval that holds covers at least 181 (the Binomial(200, 0.95)
    // count reached with probability 0.999); the Poisson's on geometric data far less.
    assert!(rate("ztpoisson capture ~ 1 fit", "ztpoisson") >= 181.0 / 200.0);
    assert!(rate("ztgeom capture ~ 1 fit", "ztgeom") >= 181.0 / 200.0);
    assert!(rate("ztgeom capture ~ 1 fit", "ztpoisson") < 0.5);
}

/// A study file may simulate from a single-source fit to one register's counts.
#[test]
fn a_study_simulates_from_a_single_source_fit() {
    let dir = crate::cli::TempDir::new("singlesource");
    let study = r#"{"schema": "darkfigure.study/1", "seed": 5, "replicates": 20,
      "population": {"fitted": {"data": {"file": "n.csv", "count_column": "capture"},
                                "method": {"id": "ztpoisson", "covariates": ["gender"]}}},
      "procedures": [{"method": {"id": "ztpoisson", "covariates": ["gender"]}},
                     {"method": {"id": "zelterman"}, "bootstrap": 400}]}"#;
    std::fs::write(dir.0.join("study.json"), study).expect("study");
    let out = darkfigure(
        dir.0.as_path(),
        &["simulate", "study.json", "--json", "s.json", "-q"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_in(dir.0.as_path(), "s.json");
    let names: Vec<&str> = doc["summary"]
        .as_array()
        .expect("summary")
        .iter()
        .map(|s| s["procedure"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["ztpoisson", "zelterman+percentile"]);
    assert!(
        doc["summary"]
            .as_array()
            .expect("summary")
            .iter()
            .all(|s| s["with_estimate"] == 20)
    );
}
