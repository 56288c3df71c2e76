//! Simulation studies through the binary: the same seed gives the same bytes for any thread
//! count and any split into shards; `merge` refuses parts that do not make one study; the
//! generating models give the coverage theory says where a procedure's assumptions hold.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_darkfigure"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("darkfigure-study-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str], dir: &Path) -> std::process::Output {
    bin().args(args).current_dir(dir).output().unwrap()
}

fn ok(args: &[&str], dir: &Path) {
    let out = run(args, dir);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tiny() -> String {
    root().join("tests/studies/tiny.json").display().to_string()
}

#[test]
fn same_seed_same_bytes_for_any_thread_count_and_any_shards() {
    let d = scratch("shards");
    let t = tiny();
    ok(
        &["simulate", &t, "--json", "one.json", "--threads", "1", "-q"],
        &d,
    );
    ok(
        &["simulate", &t, "--json", "two.json", "--threads", "2", "-q"],
        &d,
    );
    let one = std::fs::read(d.join("one.json")).unwrap();
    assert_eq!(
        one,
        std::fs::read(d.join("two.json")).unwrap(),
        "1 and 2 threads"
    );
    // 13 shards of 12 datasets: one shard holds none, and still merges.
    for n in [2usize, 3, 5, 13] {
        let mut parts = Vec::new();
        for i in (0..n).rev() {
            let p = format!("part{n}_{i}.json");
            ok(
                &[
                    "simulate",
                    &t,
                    "--shard",
                    &format!("{i}/{n}"),
                    "--json",
                    &p,
                    "-q",
                    "--threads",
                    if i % 2 == 0 { "1" } else { "2" },
                ],
                &d,
            );
            parts.push(p);
        }
        let mut args = vec!["merge"];
        args.extend(parts.iter().map(String::as_str));
        let merged = format!("merged{n}.json");
        args.extend(["--json", &merged, "-q"]);
        ok(&args, &d);
        assert_eq!(one, std::fs::read(d.join(&merged)).unwrap(), "{n} shards");
    }
    // The CSV holds a row per dataset, procedure and target.
    ok(&["simulate", &t, "--csv", "all.csv", "-q"], &d);
    let csv = std::fs::read_to_string(d.join("all.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 12 * 3);
    assert!(csv.starts_with(
        "replicate,procedure,target,true_population,observed,status,population,lower_80"
    ));
}

#[test]
fn merge_refuses_parts_that_do_not_make_one_study() {
    let d = scratch("merge");
    let t = tiny();
    for i in 0..3 {
        ok(
            &[
                "simulate",
                &t,
                "--shard",
                &format!("{i}/3"),
                "--json",
                &format!("p{i}.json"),
                "-q",
            ],
            &d,
        );
    }
    ok(
        &[
            "simulate",
            &t,
            "--shard",
            "1/3",
            "--seed",
            "99",
            "--json",
            "seed99.json",
            "-q",
        ],
        &d,
    );
    ok(
        &[
            "simulate",
            &t,
            "--shard",
            "1/3",
            "--replicates",
            "9",
            "--json",
            "r9.json",
            "-q",
        ],
        &d,
    );
    ok(
        &[
            "simulate",
            &t,
            "--shard",
            "1/2",
            "--json",
            "half.json",
            "-q",
        ],
        &d,
    );
    ok(&["simulate", &t, "--json", "whole.json", "-q"], &d);
    let cases: &[(&[&str], &str)] = &[
        (&["p0.json", "p1.json"], "shard 2/3 missing"),
        (
            &["p0.json", "p1.json", "p1.json", "p2.json"],
            "both shard 1/3",
        ),
        (&["p0.json", "seed99.json", "p2.json"], "seed 99 against 7"),
        (
            &["p0.json", "r9.json", "p2.json"],
            "9 replicates against 12",
        ),
        (
            &["p0.json", "half.json", "p2.json"],
            "parts of different splits",
        ),
        (&["whole.json", "p1.json"], "is a whole study"),
        (&["p0.json", "nothing.json", "p2.json"], "nothing.json"),
    ];
    for (parts, message) in cases {
        let mut args = vec!["merge"];
        args.extend(parts.iter());
        args.extend(["--json", "out.json"]);
        let out = run(&args, &d);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{parts:?}: {err}");
        assert!(
            err.contains(message),
            "{parts:?}: expected \"{message}\" in {err}"
        );
        assert!(!d.join("out.json").exists(), "{parts:?} wrote a result");
    }
}

/// Reads the study result's coverage of `procedure` at `level` on `target`:
/// (covered, with an interval).
fn coverage(doc: &serde_json::Value, procedure: &str, target: &str, level: f64) -> (u64, u64) {
    let s = doc["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["procedure"] == procedure && s["target"] == target)
        .unwrap_or_else(|| panic!("no summary of {procedure} on {target}"));
    let c = s["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| (c["level"].as_f64().unwrap() - level).abs() < 1e-9)
        .unwrap();
    (
        c["covered"].as_u64().unwrap(),
        c["with_interval"].as_u64().unwrap(),
    )
}

/// The smallest k with P(Binomial(n, p) ≤ k) ≥ q: below it, a count of covering intervals
/// is evidence (at level q) that the true coverage is below p.
fn binomial_lower(n: u64, p: f64, q: f64) -> u64 {
    let mut cdf = 0.0;
    for k in 0..=n {
        let lp = ln_choose(n, k) + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln();
        cdf += lp.exp();
        if cdf >= q {
            return k;
        }
    }
    n
}

fn ln_choose(n: u64, k: u64) -> f64 {
    (1..=k)
        .map(|i| ((n - k + i) as f64).ln() - (i as f64).ln())
        .sum()
}

/// Where the main-effects model holds (independent, homogeneous lists), its profile
/// interval covers about as often as it says, on each stratum, and so does the parametric
/// bootstrap's — on the total too, from the strata's draws summed. (The non-parametric
/// bootstrap resamples the n people seen, holding n fixed, and misses the binomial
/// variation of n itself: here its 80% interval covered 135 of 200.) 200 datasets: a 95% interval covers at least
/// the Binomial(200, 0.95) 0.1% quantile (181) of them unless the procedure is wrong (a
/// false alarm once in a thousand runs of a correct one; the seed is fixed, so the test is
/// deterministic and this says how far from nominal it may be).
#[test]
fn where_its_model_holds_an_interval_covers_as_it_says() {
    let d = scratch("calibrated");
    let class = |p: [f64; 3]| serde_json::json!({"share": 1.0, "probs": p});
    let study = serde_json::json!({
        "schema": "darkfigure.study/1",
        "seed": 11,
        "replicates": 200,
        "population": {"strata": [
            {"name": "children", "population": {"latent_classes": {"population": 800, "lists": ["A", "B", "C"], "classes": [class([0.2, 0.3, 0.25])]}}},
            {"name": "adults", "population": {"referral": {"population": 3000, "lists": ["A", "B", "C"], "probs": [0.15, 0.2, 0.1]}}}
        ]},
        "procedures": [
            {"name": "main", "method": {"id": "main"}},
            {"name": "main+boot", "method": {"id": "main"}, "bootstrap": 400, "bootstrap_kind": "parametric"}
        ]
    });
    std::fs::write(
        d.join("s.json"),
        serde_json::to_string_pretty(&study).unwrap(),
    )
    .unwrap();
    ok(&["simulate", "s.json", "--json", "r.json", "-q"], &d);
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("r.json")).unwrap()).unwrap();
    for (proc_, target) in [
        ("main", "children"),
        ("main", "adults"),
        ("main+boot", "children"),
        ("main+boot", "total"),
    ] {
        for level in [0.8, 0.95] {
            let (c, n) = coverage(&doc, proc_, target, level);
            assert!(n >= 195, "{proc_} {target}: only {n} intervals");
            let low = binomial_lower(n, level, 0.001);
            assert!(
                c >= low,
                "{proc_} on {target} at {level}: {c} of {n} covered, fewer than {low}"
            );
            // Not wildly over-covering either (an interval that is always wide is no use).
            let high = n - binomial_lower(n, 1.0 - level, 0.001);
            assert!(
                c <= high,
                "{proc_} on {target} at {level}: {c} of {n} covered, more than {high}"
            );
        }
    }
    // The truth is what the study says.
    let t = doc["truth"].as_array().unwrap();
    assert_eq!(
        t.iter()
            .map(|x| x["population"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [800, 3000, 3800]
    );
}

/// Heterogeneity the lists cannot show: the main-effects interval misses, and the study
/// says so (the reason calibration exists).
#[test]
fn heterogeneity_shows_as_undercoverage() {
    let d = scratch("hetero");
    let study = serde_json::json!({
        "schema": "darkfigure.study/1",
        "seed": 5,
        "replicates": 60,
        "population": {"continuous": {"population": 5000, "logit_mean": -2.0, "logit_sd": 1.5, "shifts": [0.0, 0.2, -0.2, 0.1]}},
        "procedures": [{"method": {"id": "main"}}]
    });
    std::fs::write(d.join("s.json"), study.to_string()).unwrap();
    ok(&["simulate", "s.json", "--json", "r.json", "-q"], &d);
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("r.json")).unwrap()).unwrap();
    let (c, n) = coverage(&doc, "main", "population", 0.95);
    assert!(n == 60 && c <= 6, "{c} of {n}");
    assert!(doc["summary"][0]["relative_bias"].as_f64().unwrap() < -0.2);
}
