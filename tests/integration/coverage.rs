//! The sample-coverage family (`sc-indep`, `sc-hsc`, `sc-lsc`) through the binary: the
//! command line and a job file give the same bytes; the bootstrap's numbers do not depend on
//! the thread count; strata totals are the strata's replicates summed; a study can name the
//! estimators as procedures; the report names their assumptions. Their values against
//! CARE1 are in `reference.rs`.

use crate::common::{data_dir, rel};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn darkfigure(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_darkfigure"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run darkfigure")
}

/// A scratch folder for one test.
fn scratch(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("darkfigure-sc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).expect("scratch dir");
    p
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("written")).expect("JSON")
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `estimate -m sc-lsc --bootstrap B --seed S` and a job naming the same method, bootstrap
/// and seed write the same estimate; one thread and two give the same bytes.
#[test]
fn command_line_and_job_file_agree_whatever_the_thread_count() {
    let dir = scratch("cli");
    let data = data_dir().join("kosovo.csv");
    let data = data.to_str().expect("utf-8");
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("est{threads}.json");
        ok(&darkfigure(
            &[
                "estimate",
                data,
                "-m",
                "sc-indep",
                "-m",
                "sc-hsc",
                "-m",
                "sc-lsc",
                "--bootstrap",
                "1000",
                "--seed",
                "1",
                "--threads",
                threads,
                "--quiet",
                "--json",
                &out,
            ],
            &dir,
        ));
        outs.push(std::fs::read(dir.join(&out)).expect("written"));
    }
    assert_eq!(outs[0], outs[1], "the thread count changed the bytes");
    let job = serde_json::json!({
        "schema": "darkfigure.job/1",
        "data": {"file": data},
        "seed": 1,
        "bootstrap": 1000,
        "methods": [{"id": "sc-indep"}, {"id": "sc-hsc"}, {"id": "sc-lsc"}]
    });
    std::fs::write(dir.join("job.json"), job.to_string()).expect("job written");
    ok(&darkfigure(
        &["run", "job.json", "--quiet", "--json", "run.json"],
        &dir,
    ));
    let (a, b) = (json(&dir.join("est1.json")), json(&dir.join("run.json")));
    assert_eq!(a["estimates"], b["estimates"]);
    for (e, id) in a["estimates"]
        .as_array()
        .expect("estimates")
        .iter()
        .zip(["sc-indep", "sc-hsc", "sc-lsc"])
    {
        assert_eq!(e["method"], id);
        assert_eq!(e["status"], "ok");
        assert_eq!(e["interval"]["kind"], "log-normal-bootstrap-se");
        assert_eq!(e["bootstrap"]["replicates"], 1000);
        // the statistics as CARE1's estN.stat names them
        assert_eq!(e["options"]["M"], 4400);
        assert_eq!(e["options"]["D"], 3595.5);
        assert!((e["options"]["chat"].as_f64().expect("chat") - 0.471).abs() < 5e-4);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Records stratified by region: each stratum has its own bootstrap, and the total's draws
/// are the strata's replicates summed replicate by replicate.
#[test]
fn a_strata_total_sums_the_strata_replicates() {
    let dir = scratch("strata");
    let records =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/inputs/strata_records.csv");
    ok(&darkfigure(
        &[
            "estimate",
            records.to_str().expect("utf-8"),
            "--lists",
            "A,B,C,D",
            "--stratify-by",
            "region",
            "-m",
            "sc-lsc",
            "--bootstrap",
            "400",
            "--seed",
            "3",
            "--quiet",
            "--json",
            "out.json",
        ],
        &dir,
    ));
    let doc = json(&dir.join("out.json"));
    let strata = doc["strata"].as_array().expect("strata");
    assert_eq!(strata.len(), 3);
    let total = &doc["totals"][0];
    assert_eq!(total["method"], "sc-lsc");
    assert_eq!(total["status"], "ok");
    assert_eq!(total["replicates_used"], 400);
    assert_eq!(total["interval"]["kind"], "bootstrap-percentile-of-sum");
    let values = total["values"].as_array().expect("summed values");
    for (r, v) in values.iter().enumerate() {
        let sum: f64 = strata
            .iter()
            .map(|s| {
                s["estimates"][0]["bootstrap"]["values"][r]
                    .as_f64()
                    .expect("value")
            })
            .sum();
        assert!(
            rel(v.as_f64().expect("total"), sum) < 1e-12,
            "replicate {r}"
        );
    }
    let points: f64 = strata
        .iter()
        .map(|s| s["estimates"][0]["population"].as_f64().expect("N̂"))
        .sum();
    assert!(rel(total["population"].as_f64().expect("total N̂"), points) < 1e-12);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A study names the estimators as procedures, with and without the bootstrap; each gives
/// a number on every dataset, the bootstrapped ones an interval at 80, 90 and 95%.
#[test]
fn a_study_runs_them_as_procedures() {
    let dir = scratch("study");
    let study = serde_json::json!({
        "schema": "darkfigure.study/1",
        "seed": 5,
        "replicates": 6,
        "population": {"latent_classes": {
            "population": 2000,
            "lists": ["A", "B", "C", "D"],
            "classes": [
                {"share": 0.6, "probs": [0.3, 0.25, 0.3, 0.2]},
                {"share": 0.4, "probs": [0.1, 0.15, 0.1, 0.12]}
            ]
        }},
        "procedures": [
            {"method": {"id": "sc-lsc"}, "bootstrap": 400},
            {"method": {"id": "sc-hsc"}},
            {"method": {"id": "sc-indep"}, "bootstrap": 400}
        ]
    });
    std::fs::write(dir.join("study.json"), study.to_string()).expect("study written");
    ok(&darkfigure(
        &["simulate", "study.json", "--quiet", "--json", "out.json"],
        &dir,
    ));
    let doc = json(&dir.join("out.json"));
    let summary = doc["summary"].as_array().expect("summary");
    let names: Vec<&str> = summary
        .iter()
        .map(|s| s["procedure"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["sc-lsc+bootstrap s.e.", "sc-hsc", "sc-indep+bootstrap s.e."]
    );
    for s in summary {
        assert_eq!(s["with_estimate"], 6, "{s}");
        let bootstrapped = s["procedure"].as_str().is_some_and(|n| n.contains('+'));
        for c in s["coverage"].as_array().expect("coverage") {
            assert_eq!(c["with_interval"], if bootstrapped { 6 } else { 0 }, "{s}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Markdown and HTML reports name the estimators' assumptions in words.
#[test]
fn the_report_says_what_they_assume() {
    let dir = scratch("report");
    let data = data_dir().join("HAV.csv");
    for report in ["r.md", "r.html"] {
        ok(&darkfigure(
            &[
                "estimate",
                data.to_str().expect("utf-8"),
                "-m",
                "sc-hsc",
                "--quiet",
                "--report",
                report,
            ],
            &dir,
        ));
        let text = std::fs::read_to_string(dir.join(report)).expect("report");
        for words in [
            "Sample coverage (sc-indep, sc-hsc, sc-lsc; Chao &amp; Tsay 1998)",
            "coefficients of covariation",
            "dependence among three or more lists at once is assumed away",
            "without a bootstrap there is none",
        ] {
            let words = if report.ends_with(".md") {
                words.replace("&amp;", "&")
            } else {
                words.to_string()
            };
            assert!(text.contains(&words), "{report}: {words}");
        }
        // HAV's coverage is 0.513: CARE1 1.1.0's warning
        assert!(text.contains("Ĉ = 0.513 is at most 0.55"), "{report}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
