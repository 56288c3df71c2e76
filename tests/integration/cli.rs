//! The command line end to end: `describe`, `estimate` and `run` through the built binary,
//! on the shared real data and on small files written to a temporary directory. Every
//! test checks something the user sees (exit code, JSON fields, table, files written).

use crate::common::{data_dir, rel};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The methods run on a table when none is named, in Rcapture's `closedp` order.
const DEFAULT_TABLE_METHODS: [&str; 12] = [
    "m0",
    "mt",
    "mh-chao",
    "mh-poisson2",
    "mh-darroch",
    "mh-gamma3.5",
    "mth-chao",
    "mth-poisson2",
    "mth-darroch",
    "mth-gamma3.5",
    "mb",
    "mbh",
];

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "darkfigure-cli-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn darkfigure<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_darkfigure"))
        .args(args)
        .output()
        .expect("run darkfigure")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs and asserts exit 0, with both streams in the panic message otherwise.
fn ok<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let args: Vec<std::ffi::OsString> = args
        .into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect();
    let out = darkfigure(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "darkfigure {:?} failed\nstdout:\n{}\nstderr:\n{}",
        args,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn parse_json(bytes: &[u8], what: &str) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}):\n{}", text(bytes)))
}

fn read_json(path: &Path) -> Value {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()));
    parse_json(&bytes, &path.display().to_string())
}

fn num(v: &Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what}: expected a number, found {v}"))
}

fn estimates(doc: &Value) -> &Vec<Value> {
    doc["estimates"].as_array().expect("estimates array")
}

/// The estimate of `method` in a result (the first one if several).
fn estimate<'a>(doc: &'a Value, method: &str) -> &'a Value {
    estimates(doc)
        .iter()
        .find(|e| e["method"] == method)
        .unwrap_or_else(|| panic!("no estimate for {method} in {doc}"))
}

fn data_file(name: &str) -> PathBuf {
    data_dir().join(name)
}

/// Sum of the `count` column of a table CSV, computed here independently of the crate.
fn count_column_sum(path: &Path) -> u64 {
    let s = std::fs::read_to_string(path).expect("read csv");
    let s = s.trim_start_matches('\u{feff}');
    let mut lines = s.lines().map(str::trim).filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let ci = header
        .iter()
        .position(|h| h.trim().trim_matches('"') == "count")
        .unwrap_or_else(|| panic!("{}: no count column", path.display()));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f[ci].trim().parse::<u64>().expect("count")
        })
        .sum()
}

/// (lists, rows of (flags, count)) of a table CSV.
fn read_table(path: &Path) -> (Vec<String>, Vec<(Vec<bool>, u64)>) {
    let s = std::fs::read_to_string(path).expect("read csv");
    let mut lines = s.lines().map(str::trim).filter(|l| !l.is_empty());
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(|h| h.to_string())
        .collect();
    assert_eq!(header.last().map(String::as_str), Some("count"));
    let k = header.len() - 1;
    let rows = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let flags = f[..k].iter().map(|x| *x == "1").collect();
            (flags, f[k].parse::<u64>().expect("count"))
        })
        .collect();
    (header[..k].to_vec(), rows)
}

// 1. describe ---------------------------------------------------------------------------

#[test]
fn describe_every_table_in_the_data_dir() {
    let dir = data_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read data dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            n.ends_with(".csv") && !n.ends_with("_fi.csv") && n != "netherlandsimmigrant.csv"
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the shared tables, found {files:?}"
    );
    for f in &files {
        let out = ok([
            "describe".as_ref(),
            f.as_os_str(),
            "--json".as_ref(),
            "-".as_ref(),
        ]);
        let d = parse_json(&out.stdout, &f.display().to_string());
        for field in [
            "lists",
            "observed",
            "list_sizes",
            "pairs",
            "empty_pairs",
            "nonempty_cells",
            "frequencies",
        ] {
            assert!(
                d.get(field).is_some(),
                "{}: describe JSON lacks {field}",
                f.display()
            );
        }
        let observed = d["observed"].as_u64().expect("observed");
        assert_eq!(
            observed,
            count_column_sum(f),
            "{}: observed is not the sum of the count column",
            f.display()
        );
        let freq_sum: u64 = d["frequencies"]
            .as_array()
            .expect("frequencies")
            .iter()
            .map(|x| x.as_u64().expect("frequency"))
            .sum();
        assert_eq!(
            freq_sum,
            observed,
            "{}: frequencies do not sum to observed",
            f.display()
        );
        if f.file_name().unwrap() == "UKdat.csv" {
            assert_eq!(
                d["empty_pairs"],
                serde_json::json!(["LA:GP", "LA:NCA"]),
                "UKdat empty pairs"
            );
            assert_eq!(d["nonempty_cells"], 25, "UKdat non-empty cells");
        }
    }
}

// 2. default methods ----------------------------------------------------------------------

#[test]
fn estimate_default_methods_in_rcapture_order() {
    let uk = data_file("UKdat.csv");
    let tmp = TempDir::new("default");
    let json = tmp.path("out.json");
    let out = ok([
        "estimate".as_ref(),
        uk.as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    let doc = read_json(&json);
    assert_eq!(doc["schema"], "darkfigure.result/1");
    let est = estimates(&doc);
    let methods: Vec<&str> = est
        .iter()
        .map(|e| e["method"].as_str().expect("method id"))
        .collect();
    assert_eq!(methods, DEFAULT_TABLE_METHODS);
    for e in est {
        let m = &e["method"];
        assert!(e["status"].is_string(), "{m}: status {}", e["status"]);
        assert!(
            e["population"].is_number(),
            "{m}: population {}",
            e["population"]
        );
        assert!(
            e["interval"]["kind"].is_string(),
            "{m}: interval.kind {}",
            e["interval"]
        );
    }
    let table = text(&out.stdout);
    assert!(table.contains("Mh Chao (LB)"), "table:\n{table}");
    assert!(table.contains("abundance"), "table:\n{table}");
}

// 3. determinism ----------------------------------------------------------------------

#[test]
fn same_command_writes_identical_bytes() {
    let uk = data_file("UKdat.csv");
    let tmp = TempDir::new("determinism");
    let run = |name: &str| -> Vec<u8> {
        let f = tmp.path(name);
        ok([
            "estimate".as_ref(),
            uk.as_os_str(),
            "--method".as_ref(),
            "m0".as_ref(),
            "--method".as_ref(),
            "mth-chao".as_ref(),
            "--method".as_ref(),
            "loglinear".as_ref(),
            "--model".as_ref(),
            "[12,23]".as_ref(),
            "--method".as_ref(),
            "petersen".as_ref(),
            "--json".as_ref(),
            f.as_os_str(),
            "--quiet".as_ref(),
        ]);
        std::fs::read(&f).expect("json written")
    };
    let a = run("a.json");
    let b = run("b.json");
    assert!(!a.is_empty());
    assert!(a == b, "two identical estimate runs wrote different JSON");
    // The run contains what was asked for (so the comparison is not of two empty results).
    let doc = parse_json(&a, "a.json");
    for m in ["m0", "mth-chao", "loglinear", "petersen"] {
        estimate(&doc, m);
    }
    assert_eq!(estimate(&doc, "loglinear")["status"], "ok");

    let job = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/uk2013.json");
    let run_job = |name: &str| -> Vec<u8> {
        let f = tmp.path(name);
        ok([
            "run".as_ref(),
            job.as_os_str(),
            "--json".as_ref(),
            f.as_os_str(),
        ]);
        std::fs::read(&f).expect("json written")
    };
    let a = run_job("job_a.json");
    let b = run_job("job_b.json");
    let doc = parse_json(&a, "job_a.json");
    assert_eq!(doc["schema"], "darkfigure.result/1");
    assert!(
        a == b,
        "two runs of models/uk2013.json wrote different JSON"
    );
}

// 4. levels and interval kinds ------------------------------------------------------------

#[test]
fn level_and_interval_kind() {
    let uk = data_file("UKdat.csv");
    let tmp = TempDir::new("levels");
    let run = |extra: &[&str], name: &str| -> Value {
        let f = tmp.path(name);
        let mut args: Vec<std::ffi::OsString> = vec![
            "estimate".into(),
            uk.clone().into(),
            "--method".into(),
            "m0".into(),
            "--quiet".into(),
            "--json".into(),
            f.clone().into(),
        ];
        args.extend(extra.iter().map(|s| s.into()));
        ok(&args);
        let doc = read_json(&f);
        estimate(&doc, "m0").clone()
    };
    let e90 = run(&["--level", "0.90"], "l90.json");
    let e95 = run(&["--level", "0.95"], "l95.json");
    for (e, level) in [(&e90, 0.9), (&e95, 0.95)] {
        assert_eq!(e["status"], "ok");
        assert_eq!(num(&e["interval"]["level"], "interval.level"), level);
    }
    let lo90 = num(&e90["interval"]["lower"], "lower 0.90");
    let hi90 = num(&e90["interval"]["upper"], "upper 0.90");
    let lo95 = num(&e95["interval"]["lower"], "lower 0.95");
    let hi95 = num(&e95["interval"]["upper"], "upper 0.95");
    assert!(
        lo95 < lo90 && lo90 < hi90 && hi90 < hi95,
        "90% [{lo90}, {hi90}] not strictly inside 95% [{lo95}, {hi95}]"
    );

    let w = run(&["--interval", "wald-log"], "wald.json");
    assert_eq!(w["status"], "ok");
    assert_eq!(w["interval"]["kind"], "wald-log");
    let p = num(&w["population"], "population");
    let lo = num(&w["interval"]["lower"], "wald lower");
    let hi = num(&w["interval"]["upper"], "wald upper");
    assert!(lo < p && p < hi, "wald-log [{lo}, {hi}] does not hold {p}");
}

// 5. records CSV --------------------------------------------------------------------------

fn records_match_table(yes: &str, no: &str, tag: &str) {
    let uk = data_file("UKdat.csv");
    let tmp = TempDir::new(tag);
    let (lists, rows) = read_table(&uk);
    assert_eq!(lists, ["LA", "NG", "PF", "GO", "GP", "NCA"]);
    let mut csv = format!("id,{},sex\n", lists.join(","));
    let mut id = 0u64;
    for (flags, count) in &rows {
        for _ in 0..*count {
            let cells: Vec<&str> = flags.iter().map(|&b| if b { yes } else { no }).collect();
            let sex = if id.is_multiple_of(2) { "f" } else { "m" };
            csv.push_str(&format!("{id},{},{sex}\n", cells.join(",")));
            id += 1;
        }
    }
    assert_eq!(id, 2744);
    let records = tmp.path("records.csv");
    std::fs::write(&records, csv).expect("write records");

    let run = |data: &Path, extra: &[&str], name: &str| -> Value {
        let f = tmp.path(name);
        let mut args: Vec<std::ffi::OsString> = vec!["estimate".into(), data.into()];
        args.extend(extra.iter().map(|s| s.into()));
        for a in ["--method", "m0", "--method", "mt", "--quiet", "--json"] {
            args.push(a.into());
        }
        args.push(f.clone().into());
        ok(&args);
        read_json(&f)
    };
    let from_records = run(&records, &["--lists", "LA,NG,PF,GO,GP,NCA"], "rec.json");
    let from_table = run(&uk, &[], "tab.json");
    assert_eq!(from_records["data"]["observed"], 2744);
    assert_eq!(from_records["data"]["lists"], from_table["data"]["lists"]);
    for m in ["m0", "mt"] {
        let r = estimate(&from_records, m);
        let t = estimate(&from_table, m);
        assert_eq!(r["status"], "ok", "{m} on records");
        for (what, a, b) in [
            ("population", &r["population"], &t["population"]),
            ("std_error", &r["std_error"], &t["std_error"]),
            ("deviance", &r["fit"]["deviance"], &t["fit"]["deviance"]),
        ] {
            let (a, b) = (num(a, what), num(b, what));
            assert!(
                rel(a, b) <= 1e-9,
                "{m} {what} ({yes}/{no}): records {a}, table {b}"
            );
        }
    }
}

#[test]
fn records_yes_no_match_the_table() {
    records_match_table("yes", "no", "records-yes");
}

#[test]
fn records_true_false_match_the_table() {
    records_match_table("true", "false", "records-true");
}

// 6. frequency CSV ------------------------------------------------------------------------

#[test]
fn frequency_file_needs_and_uses_occasions() {
    let ill = data_file("ill_fi.csv");
    let tmp = TempDir::new("freq");
    let f = tmp.path("ill.json");
    ok([
        "estimate".as_ref(),
        ill.as_os_str(),
        "--occasions".as_ref(),
        "inf".as_ref(),
        "--method".as_ref(),
        "m0".as_ref(),
        "--method".as_ref(),
        "mh-chao".as_ref(),
        "--quiet".as_ref(),
        "--json".as_ref(),
        f.as_os_str(),
    ]);
    let doc = read_json(&f);
    assert_eq!(doc["data"]["observed"], 1880);
    for m in ["m0", "mh-chao"] {
        assert_eq!(estimate(&doc, m)["status"], "ok", "{m}");
    }
    let chao = num(&estimate(&doc, "mh-chao")["population"], "mh-chao");
    assert!(
        rel(chao, 9273.51092896175) <= 1e-6,
        "mh-chao on ill_fi.csv: {chao}"
    );

    let g = tmp.path("no_occasions.json");
    let out = darkfigure([
        "estimate".as_ref(),
        ill.as_os_str(),
        "--method".as_ref(),
        "m0".as_ref(),
        "--json".as_ref(),
        g.as_os_str(),
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}");
    assert!(err.contains("occasions"), "stderr:\n{err}");
    assert!(!g.exists(), "a failed run wrote {}", g.display());
}

// 7. repeated histories -------------------------------------------------------------------

#[test]
fn repeated_history_is_summed_with_a_warning() {
    let tmp = TempDir::new("repeat");
    // History 110 appears twice (3 + 4) in one file and once (7) in the other.
    let head = "A,B,C,count\n1,0,0,40\n0,1,0,30\n";
    let tail = "0,0,1,20\n1,0,1,5\n0,1,1,9\n1,1,1,2\n";
    let repeated = tmp.path("repeated.csv");
    let single = tmp.path("single.csv");
    std::fs::write(&repeated, format!("{head}1,1,0,3\n{tail}1,1,0,4\n")).unwrap();
    std::fs::write(&single, format!("{head}1,1,0,7\n{tail}")).unwrap();
    let run = |data: &Path, name: &str| -> (Value, String) {
        let f = tmp.path(name);
        let out = ok([
            "estimate".as_ref(),
            data.as_os_str(),
            "--method".as_ref(),
            "m0".as_ref(),
            "--method".as_ref(),
            "mt".as_ref(),
            "--method".as_ref(),
            "mh-chao".as_ref(),
            "--model".as_ref(),
            "[12,3]".as_ref(),
            "--json".as_ref(),
            f.as_os_str(),
        ]);
        (read_json(&f), text(&out.stdout))
    };
    let (rep, rep_table) = run(&repeated, "rep.json");
    let (one, one_table) = run(&single, "one.json");
    assert_eq!(rep["data"]["observed"], one["data"]["observed"]);
    assert_eq!(rep["data"]["observed"], 113);
    assert_eq!(
        rep["estimates"], one["estimates"],
        "estimates differ between the repeated and the summed table"
    );
    for e in estimates(&rep) {
        assert_eq!(e["status"], "ok", "{}", e["method"]);
    }
    let warned_json = rep["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .any(|w| w.as_str().is_some_and(|s| s.contains("repeat")));
    let warned_table = rep_table.contains("repeat");
    assert!(
        warned_json || warned_table,
        "no warning about the repeated history:\n{rep_table}\n{}",
        rep["warnings"]
    );
    assert!(
        !one_table.contains("repeat") && one["warnings"].as_array().is_some_and(|w| w.is_empty()),
        "a warning without a repeated history:\n{one_table}"
    );
}

// 8. streams ------------------------------------------------------------------------------

#[test]
fn json_to_stdout_table_to_stderr_and_quiet() {
    let uk = data_file("UKdat.csv");
    let out = ok([
        "estimate".as_ref(),
        uk.as_os_str(),
        "--method".as_ref(),
        "m0".as_ref(),
        "--json".as_ref(),
        "-".as_ref(),
    ]);
    let doc = parse_json(&out.stdout, "stdout of --json -");
    assert_eq!(doc["schema"], "darkfigure.result/1");
    let err = text(&out.stderr);
    assert!(
        err.contains("abundance") && err.contains("M0"),
        "table not on stderr:\n{err}"
    );

    // --quiet with --json -: only JSON, no table anywhere.
    let out = ok([
        "estimate".as_ref(),
        uk.as_os_str(),
        "--method".as_ref(),
        "m0".as_ref(),
        "--json".as_ref(),
        "-".as_ref(),
        "--quiet".as_ref(),
    ]);
    parse_json(&out.stdout, "stdout of --json - --quiet");
    assert!(
        !text(&out.stderr).contains("abundance"),
        "table printed despite --quiet:\n{}",
        text(&out.stderr)
    );

    // --quiet alone: nothing on stdout.
    let out = ok([
        "estimate".as_ref(),
        uk.as_os_str(),
        "--method".as_ref(),
        "m0".as_ref(),
        "--quiet".as_ref(),
    ]);
    let so = text(&out.stdout);
    let se = text(&out.stderr);
    assert!(
        !so.contains("abundance") && !se.contains("abundance"),
        "table printed despite --quiet:\n{so}\n{se}"
    );
    assert!(so.trim().is_empty(), "stdout not empty with --quiet:\n{so}");

    // Without --quiet, the table is on stdout.
    let out = ok([
        "estimate".as_ref(),
        uk.as_os_str(),
        "--method".as_ref(),
        "m0".as_ref(),
    ]);
    assert!(text(&out.stdout).contains("abundance"));
}

// 9. failed runs write nothing ------------------------------------------------------------

#[test]
fn failed_run_leaves_output_file_alone() {
    let tmp = TempDir::new("atomic");
    let bad = tmp.path("bad.csv");
    std::fs::write(&bad, "A,B,C,count\n1,0,0,4\n0,2,0,3\n").unwrap();

    let fresh = tmp.path("fresh.json");
    assert!(!fresh.exists());
    let out = darkfigure([
        "estimate".as_ref(),
        bad.as_os_str(),
        "--json".as_ref(),
        fresh.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("error:"));
    assert!(!fresh.exists(), "a failed run created {}", fresh.display());

    let old = tmp.path("old.json");
    let before = b"previous content, not JSON\n";
    std::fs::write(&old, before).unwrap();
    let out = darkfigure([
        "estimate".as_ref(),
        bad.as_os_str(),
        "--json".as_ref(),
        old.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(&old).unwrap(),
        before,
        "a failed run changed the existing output file"
    );
    // No temporary files left beside the outputs either.
    let mut names: Vec<String> = std::fs::read_dir(&tmp.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["bad.csv", "old.json"]);
}

// 10. no estimate, honestly ---------------------------------------------------------------

#[test]
fn nonexistent_and_unidentifiable_give_status_not_number() {
    let art = data_file("Artificial_3.csv");
    let tmp = TempDir::new("status");
    for (model, status) in [
        ("[12]", "mle_does_not_exist"),
        ("twoway", "not_identifiable"),
    ] {
        let f = tmp.path("out.json");
        let out = ok([
            "estimate".as_ref(),
            art.as_os_str(),
            "--method".as_ref(),
            "loglinear".as_ref(),
            "--model".as_ref(),
            model.as_ref(),
            "--json".as_ref(),
            f.as_os_str(),
        ]);
        let doc = read_json(&f);
        let est = estimates(&doc);
        assert_eq!(est.len(), 1, "{model}");
        let e = &est[0];
        assert_eq!(e["method"], "loglinear");
        assert_eq!(e["status"], status, "model {model}");
        assert!(
            e["population"].is_null(),
            "model {model}: {}",
            e["population"]
        );
        assert!(e["missing"].is_null(), "model {model}: {}", e["missing"]);
        let table = text(&out.stdout);
        let word = status.replace('_', " ");
        assert!(
            table.to_lowercase().contains(&word.to_lowercase()),
            "model {model}: table does not say {word}:\n{table}"
        );
    }
}

// Found while writing the level tests: the table's footer prints level × 100 with `{}`.

#[test]
fn table_footer_prints_the_level_as_given() {
    let uk = data_file("UKdat.csv");
    for (level, shown) in [("0.57", "57%"), ("0.29", "29%"), ("0.9", "90%")] {
        let out = ok([
            "estimate".as_ref(),
            uk.as_os_str(),
            "--method".as_ref(),
            "m0".as_ref(),
            "--level".as_ref(),
            level.as_ref(),
        ]);
        let table = text(&out.stdout);
        let footer = table
            .lines()
            .find(|l| l.starts_with("Intervals:"))
            .unwrap_or_else(|| panic!("no Intervals line:\n{table}"));
        assert!(
            footer.starts_with(&format!("Intervals: {shown} ")),
            "--level {level}: {footer}"
        );
    }
}

/// The bootstrap gives byte-identical JSON with 1 and 2 threads (each replicate has its own
/// stream), and records its seed; different seeds give different draws; 200 replicates give
/// a 90% interval.
#[test]
fn bootstrap_bytes_do_not_depend_on_threads() {
    let f = data_file("UKdat_5.csv");
    let dir = TempDir::new("threads");
    let mut outs = Vec::new();
    for (threads, seed) in [("1", "7"), ("2", "7"), ("2", "8")] {
        let p = dir.path(&format!("t{threads}s{seed}.json"));
        ok([
            "estimate",
            f.to_str().unwrap(),
            "-m",
            "stepwise",
            "--bootstrap",
            "200",
            "--level",
            "0.9",
            "--seed",
            seed,
            "--threads",
            threads,
            "-q",
            "--json",
            p.to_str().unwrap(),
        ]);
        outs.push(std::fs::read(&p).expect("json written"));
    }
    assert_eq!(outs[0], outs[1], "1 and 2 threads must give the same bytes");
    assert_ne!(outs[1], outs[2], "another seed must give other draws");
    let doc = parse_json(&outs[0], "bootstrap json");
    let e = &estimates(&doc)[0];
    assert_eq!(e["bootstrap"]["seed"], 7);
    assert_eq!(e["bootstrap"]["values"].as_array().unwrap().len(), 200);
    // 200 replicates are the least a 90% interval takes (10 beyond each limit); the BCa
    // limits of stepwise on these data (z₀ ≈ −0.45) fall where fewer lie, so percentile.
    assert_eq!(e["bootstrap"]["needed"], 200);
    assert_eq!(e["interval"]["kind"], "bootstrap-percentile");
    assert_eq!(e["draws"]["count"], 200);
}

/// Bad options of the model-uncertainty methods exit 2 with a message naming the option.
#[test]
fn bad_uncertainty_options_exit_2() {
    let f = data_file("UKdat_5.csv");
    let f = f.to_str().unwrap().to_string();
    for (args, needle) in [
        (vec!["-m", "stepwise", "--bootstrap", "0"], "--bootstrap"),
        (vec!["-m", "stepwise", "--pthresh", "0"], "pthresh"),
        (vec!["-m", "stepwise", "--pthresh", "1.5"], "pthresh"),
        (vec!["-m", "stepwise", "--level", "1"], "level"),
        (vec!["-m", "mt", "--bootstrap", "10"], "bootstrap"),
        (vec!["--model", "[LA:XX]"], "XX"),
        (vec!["-m", "stepwise", "--threads", "0"], "threads"),
        (vec!["-m", "bic", "--maxorder", "5"], "maxorder"),
        (vec!["-m", "bic", "--ntop", "0"], "ntop"),
    ] {
        let mut all = vec!["estimate".to_string(), f.clone()];
        all.extend(args.iter().map(|s| s.to_string()));
        let out = darkfigure(&all);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(needle),
            "{all:?}: {}",
            text(&out.stderr)
        );
    }
}

/// `--method lcmcr`: same bytes with 1 and 2 threads, seed and diagnostics in the JSON,
/// and a convergence warning when the chains are too short to trust.
#[test]
fn lcmcr_is_reproducible_and_reports_convergence() {
    let f = data_file("kosovo.csv");
    let dir = TempDir::new("lcmcr");
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let p = dir.path(&format!("t{threads}.json"));
        ok([
            "estimate",
            f.to_str().unwrap(),
            "-m",
            "lcmcr",
            "--seed",
            "3",
            "--threads",
            threads,
            "-q",
            "--json",
            p.to_str().unwrap(),
        ]);
        outs.push(std::fs::read(&p).expect("json written"));
    }
    assert_eq!(outs[0], outs[1], "1 and 2 threads must give the same bytes");
    let doc = parse_json(&outs[0], "lcmcr json");
    let e = &estimates(&doc)[0];
    assert_eq!(e["options"]["seed"], 3);
    assert_eq!(e["draws"]["count"], 20_000);
    let d = &e["options"]["diagnostics"];
    for key in ["rhat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_median"] {
        assert!(
            d[key].as_f64().is_some_and(f64::is_finite),
            "{key} missing: {d}"
        );
    }
    let n = e["population"].as_f64().expect("median");
    // R's LCMCR on kosovo: posterior medians 10,361–10,431 over its three runs.
    assert!((9_500.0..11_500.0).contains(&n), "median {n}");

    // 300 draws of 1 chain after 200 burn-in: far too few; the result must say so.
    let job = dir.path("short.json");
    std::fs::write(
        &job,
        serde_json::json!({
            "schema": "darkfigure.job/1",
            "data": { "file": f.to_str().unwrap() },
            "methods": [{ "id": "lcmcr", "burnin": 200, "samples": 300, "thinning": 1, "chains": 2 }],
            "seed": 1
        })
        .to_string(),
    )
    .expect("job written");
    let out = dir.path("short_out.json");
    ok([
        "run",
        job.to_str().unwrap(),
        "-q",
        "--json",
        out.to_str().unwrap(),
    ]);
    let doc = parse_json(
        &std::fs::read(&out).expect("json written"),
        "short lcmcr json",
    );
    let e = &estimates(&doc)[0];
    let w = e["warnings"].as_array().expect("warnings");
    assert!(
        w.iter()
            .any(|x| x.as_str().is_some_and(|s| s.contains("converged"))),
        "{w:?}"
    );

    // Impossible sampler settings: exit 2, a message naming the setting, no output file.
    for (m, needle) in [
        (serde_json::json!({ "id": "lcmcr", "chains": 0 }), "chains"),
        (
            serde_json::json!({ "id": "lcmcr", "samples": 100_000_000_000u64 }),
            "methods[0].samples",
        ),
        (
            serde_json::json!({ "id": "lcmcr", "samples": 50_000_000, "chains": 4 }),
            "draws",
        ),
        (serde_json::json!({ "id": "lcmcr", "K": -1 }), "K"),
    ] {
        assert_bad_method(&dir, &f, &m, needle);
    }
}

#[test]
fn bayes_threshold_from_the_command_line_and_a_job() {
    let f = data_file("kosovo.csv");
    let dir = TempDir::new("bthresh");
    let p = dir.path("bt.json");
    ok([
        "estimate",
        f.to_str().unwrap(),
        "-m",
        "bayes-threshold",
        "--samples",
        "2000",
        "--prior-variance",
        "1",
        "--threshold",
        "2",
        "-q",
        "--json",
        p.to_str().unwrap(),
    ]);
    let doc = parse_json(
        &std::fs::read(&p).expect("json written"),
        "bayes-threshold json",
    );
    let e = &estimates(&doc)[0];
    assert_eq!(e["method"], "bayes-threshold");
    assert_eq!(e["draws"]["count"], 8_000);
    assert_eq!(e["options"]["retained"].as_array().map(Vec::len), Some(5));
    assert!(
        e["options"]["threshold_statistics"]["ABA:HRW"]
            .as_f64()
            .is_some_and(|r| r < 2.0)
    );
    // Job options, and settings that cannot be honoured: exit 2, the setting named.
    for (m, needle) in [
        (
            serde_json::json!({ "id": "bayes-threshold", "maxorder": 4 }),
            "maxorder",
        ),
        (
            serde_json::json!({ "id": "bayes-threshold", "prior_variance": -1.0 }),
            "variance",
        ),
        (
            serde_json::json!({ "id": "bayes-threshold", "prior": "cauchy" }),
            "prior",
        ),
        (
            serde_json::json!({ "id": "bayes-threshold", "threshold": -2.0 }),
            "threshold",
        ),
    ] {
        assert_bad_method(&dir, &f, &m, needle);
    }
}

/// A job with method settings `m` that cannot be honoured: exit 2, a message containing
/// `needle`, and no output file.
fn assert_bad_method(dir: &TempDir, data: &std::path::Path, m: &serde_json::Value, needle: &str) {
    let bad = dir.path("bad.json");
    let out = dir.path("bad_out.json");
    std::fs::write(&bad, serde_json::json!({ "schema": "darkfigure.job/1", "data": { "file": data.to_str().unwrap() }, "methods": [m] }).to_string())
        .expect("job written");
    let o = darkfigure([
        "run",
        bad.to_str().unwrap(),
        "-q",
        "--json",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{m}");
    assert!(text(&o.stderr).contains(needle), "{m}: {}", text(&o.stderr));
    assert!(!out.exists(), "{m}: nothing may be written");
}
