//! Byte-exact outputs: the result JSON of every shipped job, of one run of every method, of
//! `check` and `describe`, and the reports of the shipped jobs, compared with the files in
//! `tests/golden`. They were written before the restructuring of issue 16 and pin the wire
//! format: a change of one byte fails here. After a deliberate change of output, rewrite them
//! with `DARKFIGURE_BLESS=1 cargo test --release golden` and say why in the commit.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (golden file, arguments); paths are relative to the repository root, where the binary
/// runs, so that the paths echoed in the JSON are the same on every machine.
const CASES: &[(&str, &[&str])] = &[
    ("run_uk2013.json", &["run", "models/uk2013.json"]),
    ("run_world.json", &["run", "models/world.json"]),
    (
        "run_strata.json",
        &["run", "tests/golden/inputs/strata_job.json"],
    ),
    (
        "m0.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "m0"],
    ),
    (
        "mt.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "mt"],
    ),
    (
        "mh-chao.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "mh-chao"],
    ),
    (
        "mh-poisson2.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "mh-poisson2"],
    ),
    (
        "mh-darroch.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "mh-darroch"],
    ),
    (
        "mh-gamma3.5.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "mh-gamma3.5"],
    ),
    (
        "mth-chao.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "mth-chao"],
    ),
    (
        "mth-poisson2.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "mth-poisson2"],
    ),
    (
        "mth-darroch.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "mth-darroch"],
    ),
    (
        "mth-gamma3.5.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "mth-gamma3.5"],
    ),
    (
        "mb.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "mb"],
    ),
    (
        "mbh.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "mbh"],
    ),
    (
        "loglinear.json",
        &[
            "estimate",
            "tests/data/UKdat_5.csv",
            "--model",
            "[12,23]",
            "--level",
            "0.9",
        ],
    ),
    (
        "main_wald.json",
        &[
            "estimate",
            "tests/data/UKdat_5.csv",
            "-m",
            "main",
            "--interval",
            "wald-log",
        ],
    ),
    (
        "stepwise.json",
        &[
            "estimate",
            "tests/data/UKdat_5.csv",
            "-m",
            "stepwise",
            "--pthresh",
            "0.05",
        ],
    ),
    (
        "stepwise-aic.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "stepwise-aic"],
    ),
    (
        "bic.json",
        &[
            "estimate",
            "tests/data/UKdat_5.csv",
            "-m",
            "bic",
            "--maxorder",
            "2",
            "--ntop",
            "3",
        ],
    ),
    (
        "dga.json",
        &["estimate", "tests/data/kosovo.csv", "-m", "dga"],
    ),
    (
        "lcmcr.json",
        &[
            "estimate",
            "tests/data/kosovo.csv",
            "-m",
            "lcmcr",
            "-K",
            "5",
            "--burnin",
            "2000",
            "--samples",
            "200",
            "--thinning",
            "5",
            "--chains",
            "2",
            "--seed",
            "3",
        ],
    ),
    (
        "bayes-threshold.json",
        &[
            "estimate",
            "tests/data/kosovo.csv",
            "-m",
            "bayes-threshold",
            "--burnin",
            "200",
            "--samples",
            "500",
            "--chains",
            "2",
            "--seed",
            "5",
        ],
    ),
    (
        "petersen.json",
        &["estimate", "tests/data/UKdat_5.csv", "-m", "petersen"],
    ),
    (
        "chapman.json",
        &[
            "estimate",
            "tests/data/HAV.csv",
            "-m",
            "chapman",
            "--level",
            "0.8",
        ],
    ),
    ("default_table.json", &["estimate", "tests/data/HIV.csv"]),
    (
        "default_two_lists.json",
        &["estimate", "tests/badinput/valid3.csv"],
    ),
    (
        "frequency.json",
        &[
            "estimate",
            "tests/data/ill_fi.csv",
            "--occasions",
            "inf",
            "-m",
            "m0",
            "-m",
            "mh-chao",
        ],
    ),
    (
        "bootstrap_stepwise.json",
        &[
            "estimate",
            "tests/data/UKdat_5.csv",
            "-m",
            "stepwise",
            "-m",
            "main",
            "--bootstrap",
            "60",
            "--seed",
            "7",
        ],
    ),
    (
        "bootstrap_parametric.json",
        &[
            "estimate",
            "tests/data/UKdat_5.csv",
            "--model",
            "[12]",
            "--bootstrap",
            "40",
            "--parametric",
            "--seed",
            "9",
        ],
    ),
    (
        "bootstrap_bic.json",
        &[
            "estimate",
            "tests/data/UKdat_5.csv",
            "-m",
            "bic",
            "--bootstrap",
            "25",
            "--seed",
            "2",
        ],
    ),
    (
        "coverage.json",
        &[
            "estimate",
            "tests/data/kosovo.csv",
            "-m",
            "sc-indep",
            "-m",
            "sc-hsc",
            "-m",
            "sc-lsc",
            "--bootstrap",
            "100",
            "--level",
            "0.8",
            "--seed",
            "1",
        ],
    ),
    (
        "records_stratified.json",
        &[
            "estimate",
            "tests/golden/inputs/strata_records.csv",
            "--lists",
            "A,B,C,D",
            "--stratify-by",
            "region",
            "-m",
            "main",
            "-m",
            "dga",
            "--bootstrap",
            "30",
        ],
    ),
    (
        "check.json",
        &[
            "check",
            "tests/data/Artificial_3.csv",
            "--model",
            "twoway",
            "--model",
            "[12]",
        ],
    ),
    ("describe.json", &["describe", "tests/data/UKdat.csv"]),
    (
        "pooled.json",
        &[
            "estimate",
            "tests/data/NewOrl_5.csv",
            "-m",
            "pooled",
            "--combine",
            "union",
            "--seed",
            "4",
        ],
    ),
    (
        "recommended.json",
        &[
            "estimate",
            "tests/data/Western.csv",
            "-m",
            "recommended",
            "--seed",
            "5",
        ],
    ),
];

/// Reports of the shipped jobs and of the strata job, in both renderings.
const REPORTS: &[(&str, &str)] = &[
    ("report_world.html", "models/world.json"),
    ("report_world.md", "models/world.json"),
    ("report_uk2013.html", "models/uk2013.json"),
    ("report_uk2013.md", "models/uk2013.json"),
    ("report_strata.md", "tests/golden/inputs/strata_job.json"),
];

/// Jobs whose result JSON and Markdown report come from one run (`--json` and
/// `--report` together): their calibration simulates hundreds of datasets, and one run
/// instead of two keeps the tests short.
const JOINT: &[(&str, &str, &str)] = &[
    ("run_kosovo.json", "report_kosovo.md", "models/kosovo.json"),
    (
        "run_register.json",
        "report_register.md",
        "models/register.json",
    ),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], out_flag: &str, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_darkfigure"))
        .current_dir(root())
        .args(args)
        .arg(out_flag)
        .arg(out)
        .args(if matches!(args[0], "run" | "estimate") {
            &["--quiet"][..]
        } else {
            &[]
        })
        .output()
        .expect("run darkfigure");
    assert!(
        o.status.success(),
        "darkfigure {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("darkfigure-golden-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// Compares `produced` with the golden file (or rewrites it when blessing); returns a
/// description of the difference.
fn compare(name: &str, produced: &Path) -> Option<String> {
    let golden = root().join("tests/golden").join(name);
    let new = std::fs::read(produced).expect("output written");
    let _ = std::fs::remove_file(produced);
    if std::env::var_os("DARKFIGURE_BLESS").is_some() {
        std::fs::write(&golden, &new).expect("write golden");
        return None;
    }
    let old = std::fs::read(&golden).unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
    if old == new {
        return None;
    }
    let line = old
        .split(|&b| b == b'\n')
        .zip(new.split(|&b| b == b'\n'))
        .position(|(a, b)| a != b)
        .map_or(
            old.iter().filter(|&&b| b == b'\n').count().min(new.len()),
            |l| l,
        )
        + 1;
    Some(format!(
        "{name}: differs from the golden file from line {line}"
    ))
}

#[test]
fn every_result_json_is_byte_identical_to_its_golden_file() {
    let mut failures = Vec::new();
    for (name, args) in CASES {
        let out = scratch(name);
        run(args, "--json", &out);
        failures.extend(compare(name, &out));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_report_is_byte_identical_to_its_golden_file() {
    let mut failures = Vec::new();
    for (name, job) in REPORTS {
        let ext = Path::new(name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("md");
        let out = scratch(&format!("{name}.{ext}"));
        run(&["run", job], "--report", &out);
        failures.extend(compare(name, &out));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_joint_json_and_report_is_byte_identical_to_its_golden_files() {
    let mut failures = Vec::new();
    for (json, report, job) in JOINT {
        let out = scratch(json);
        let md = scratch(&format!("{report}.md"));
        let mut args = vec!["run", job, "--report"];
        let md_path = md.to_string_lossy().to_string();
        args.push(&md_path);
        run(&args, "--json", &out);
        failures.extend(compare(json, &out));
        failures.extend(compare(report, &md));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_golden_file_has_its_case() {
    let known: Vec<&str> = CASES
        .iter()
        .map(|c| c.0)
        .chain(REPORTS.iter().map(|r| r.0))
        .chain(JOINT.iter().flat_map(|j| [j.0, j.1]))
        .collect();
    for e in std::fs::read_dir(root().join("tests/golden")).expect("golden dir") {
        let p = e.expect("entry").path();
        if p.is_file() {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            assert!(known.contains(&n), "{n} in tests/golden has no case");
        }
    }
}
