//! `darkfigure calibrate` and a job's `calibrate` section through the binary: the same seed
//! gives the same bytes for one and two threads; a job file and the flags give the same
//! calibration; the report says how far to trust the interval, and the terminal shows the
//! table.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "darkfigure-calibrate-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn darkfigure(args: &[&str], dir: &Path) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_darkfigure"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn uk5() -> String {
    root().join("tests/data/UKdat_5.csv").display().to_string()
}

#[test]
fn same_seed_same_bytes_for_one_and_two_threads() {
    let d = scratch("threads");
    let data = uk5();
    let args = |threads: &'static str, out: &'static str| {
        vec![
            "calibrate".to_string(),
            data.clone(),
            "-m".into(),
            "stepwise".into(),
            "-m".into(),
            "mth-chao".into(),
            "--bootstrap".into(),
            "60".into(),
            "--replicates".into(),
            "6".into(),
            "--seed".into(),
            "11".into(),
            "--threads".into(),
            threads.into(),
            "--json".into(),
            out.into(),
            "-q".into(),
        ]
    };
    for (t, out) in [("1", "one.json"), ("2", "two.json")] {
        let a = args(t, out);
        darkfigure(&a.iter().map(String::as_str).collect::<Vec<_>>(), &d);
    }
    let one = std::fs::read(d.join("one.json")).unwrap();
    assert_eq!(one, std::fs::read(d.join("two.json")).unwrap());
    let doc: serde_json::Value = serde_json::from_slice(&one).unwrap();
    let c = &doc["calibration"];
    assert_eq!(c["replicates"], 6);
    // The stepwise fit and the latent classes; mth-chao's fit generates nothing.
    let generators: Vec<&str> = c["generators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(generators, ["stepwise fit", "two latent classes"]);
    assert_eq!(c["table"].as_array().unwrap().len(), 4);
    assert_eq!(c["procedures"][0]["name"], "stepwise+BCa");
    assert_eq!(c["procedures"][0]["estimate"], 0);
    assert_eq!(c["procedures"][1]["estimate"], 1);
    // Another seed, other datasets.
    let mut a = args("2", "other.json");
    a[11] = "12".into();
    darkfigure(&a.iter().map(String::as_str).collect::<Vec<_>>(), &d);
    assert_ne!(one, std::fs::read(d.join("other.json")).unwrap());
}

/// `calibrate` with flags is `run` of the job those flags describe.
#[test]
fn the_flags_and_a_job_file_give_the_same_calibration() {
    let d = scratch("job");
    let job = format!(
        r#"{{"schema": "darkfigure.job/1", "data": {{"file": "{}"}}, "seed": 4,
            "methods": [{{"id": "main"}}, {{"id": "mh-chao"}}],
            "calibrate": {{"replicates": 5}}}}"#,
        uk5()
    );
    std::fs::write(d.join("job.json"), job).unwrap();
    darkfigure(&["run", "job.json", "--json", "run.json", "-q"], &d);
    let data = uk5();
    darkfigure(
        &[
            "calibrate",
            &data,
            "-m",
            "main",
            "-m",
            "mh-chao",
            "--seed",
            "4",
            "--replicates",
            "5",
            "--json",
            "flags.json",
            "-q",
        ],
        &d,
    );
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(d.join(f)).unwrap()).unwrap()
    };
    assert_eq!(
        read("run.json")["calibration"],
        read("flags.json")["calibration"]
    );
    assert!(
        read("run.json")["calibration"]["table"]
            .as_array()
            .unwrap()
            .len()
            == 4
    );
}

/// The report's section and the terminal's table, on UKdat_5 with stepwise and a BCa
/// bootstrap: the sentence names the procedure behind the headline, the generators
/// disagree there (the latent classes put N far above the stepwise fit) and the report says
/// so.
#[test]
fn the_report_says_how_far_to_trust_the_interval() {
    let d = scratch("report");
    let data = uk5();
    let out = darkfigure(
        &[
            "calibrate",
            &data,
            "-m",
            "stepwise",
            "--bootstrap",
            "400",
            "--replicates",
            "12",
            "--report",
            "r.md",
        ],
        &d,
    );
    let term = String::from_utf8(out.stdout).unwrap();
    assert!(
        term.contains("Calibration: 12 datasets simulated from each model fitted to these data"),
        "{term}"
    );
    assert!(term.contains("stepwise fit         stepwise+BCa"), "{term}");
    let md = std::fs::read_to_string(d.join("r.md")).unwrap();
    let section = md
        .split("## How far to trust this interval\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the section")
        .trim_start();
    assert!(
        section.starts_with(
            "On data simulated to look like yours, the 95% interval of stepwise+BCa contained the true number in "
        ),
        "{section}"
    );
    assert!(section.contains("The models disagree"), "{section}");
    assert!(
        section
            .contains("| 95% interval of | from the stepwise fit | from the two latent classes |")
    );
    // The section stands before the assumptions, after the headline.
    assert!(md.find("## How far").unwrap() < md.find("## Assumptions").unwrap());
}
