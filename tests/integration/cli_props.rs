//! The binary under random use: random tables (sparse, empty lists, tiny counts), random
//! methods and option values inside and beyond their limits, given as flags or as a job
//! file, with a result and a report already at the output paths. Whatever happens:
//! - the exit code is 0, 1 or 2, and no panic text is printed;
//! - a failed run creates, replaces or leaves nothing (the old files stay as they were);
//! - every estimate with status `ok` is finite, at least the number observed and at most
//!   `MAX_OK_ESTIMATE`, its interval (where given) is ordered and at least n;
//! - no count below the report's threshold is shown in the terminal or the report.

use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// No estimate with status ok exceeds this (more than the world's population: a larger
/// figure means the data do not bound N, and the status must say so).
const MAX_OK_ESTIMATE: f64 = 1e10;

/// Methods quick enough to run hundreds of times.
const METHODS: &[&str] = &[
    "m0",
    "mt",
    "mh-chao",
    "mth-chao",
    "mth-darroch",
    "mb",
    "mbh",
    "main",
    "stepwise",
    "stepwise-aic",
    "bic",
    "dga",
    "petersen",
    "chapman",
];

#[derive(Debug, Clone)]
struct Case {
    k: usize,
    cells: Vec<(u64, u64)>,
    methods: Vec<&'static str>,
    flags: Vec<String>,
    as_job: bool,
    suppress_below: u64,
    /// Counts from `SMALL` and from 200 up, with the threshold at 50: a small count is then
    /// a token no other figure of the output can equal (sums of two small ones reach 82).
    palette: bool,
}

/// The small counts of a palette case, and its threshold.
const SMALL: [u64; 3] = [41, 43, 47];
const PALETTE_THRESHOLD: u64 = 50;

fn flag() -> impl Strategy<Value = Vec<String>> {
    let v = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
    prop_oneof![
        Just(vec![]),
        prop_oneof![
            Just("0.95"),
            Just("0.5"),
            Just("0.999"),
            Just("0"),
            Just("1"),
            Just("1.5"),
            Just("-1"),
            Just("nan"),
            Just("inf"),
        ]
        .prop_map(move |l| v("--level", l)),
        prop_oneof![
            Just("1"),
            Just("2"),
            Just("20"),
            Just("0"),
            Just("-3"),
            Just("1e3"),
            Just("10000001"),
            Just("18446744073709551616"),
        ]
        .prop_map(move |b| v("--bootstrap", b)),
        prop_oneof![
            Just("1"),
            Just("2"),
            Just("0"),
            Just("1025"),
            Just("99999999999")
        ]
        .prop_map(move |t| v("--threads", t)),
        prop_oneof![Just("1"), Just("2"), Just("3"), Just("0"), Just("64")]
            .prop_map(move |m| v("--maxorder", m)),
        prop_oneof![Just("0.05"), Just("0"), Just("1"), Just("2")]
            .prop_map(move |p| v("--pthresh", p)),
        prop_oneof![
            Just("profile"),
            Just("wald-log"),
            Just("none"),
            Just("bogus")
        ]
        .prop_map(move |i| v("--interval", i)),
        prop_oneof![Just("0"), Just("7"), Just("18446744073709551615")]
            .prop_map(move |s| v("--seed", s)),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..=5)
        .prop_flat_map(|k| {
            let cells = proptest::collection::vec(
                (
                    1u64..(1u64 << k),
                    prop_oneof![3 => 0u64..6, 2 => 0u64..60, 1 => Just(1000u64)],
                ),
                1..12,
            );
            let methods = proptest::sample::subsequence(METHODS.to_vec(), 1..=3);
            (
                Just(k),
                cells,
                methods,
                proptest::collection::vec(flag(), 0..3),
                any::<bool>(),
                prop_oneof![Just(5u64), Just(3), Just(10), Just(2)],
                proptest::bool::weighted(0.4),
            )
        })
        .prop_map(
            |(k, cells, methods, flags, as_job, suppress_below, palette)| {
                let mut seen = std::collections::BTreeMap::new();
                for (h, c) in cells {
                    let c = if !palette || c == 0 {
                        c
                    } else if c < 6 {
                        SMALL[c as usize % 3]
                    } else {
                        200 + c
                    };
                    seen.insert(h, c);
                }
                let suppress_below = if palette {
                    PALETTE_THRESHOLD
                } else {
                    suppress_below
                };
                Case {
                    k,
                    cells: seen.into_iter().collect(),
                    methods,
                    flags: flags.concat(),
                    as_job,
                    suppress_below,
                    palette,
                }
            },
        )
}

fn scratch(i: u64) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-props-{}-{i}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn csv(c: &Case) -> String {
    let mut s: String = (0..c.k).map(|i| format!("L{i},")).collect();
    s.push_str("count\n");
    for &(h, n) in &c.cells {
        for i in 0..c.k {
            s.push_str(if h >> i & 1 == 1 { "1," } else { "0," });
        }
        s.push_str(&format!("{n}\n"));
    }
    s
}

/// The flags as a job file's fields (`--bootstrap 20` → `"bootstrap": 20`); a value that
/// is not a JSON number goes in as a string, which the job must refuse.
fn job(c: &Case) -> String {
    let mut top = serde_json::Map::new();
    top.insert("schema".into(), "darkfigure.job/1".into());
    top.insert("data".into(), serde_json::json!({ "file": "t.csv" }));
    let mut method_opts = serde_json::Map::new();
    for pair in c.flags.chunks(2) {
        let key = pair[0].trim_start_matches("--").replace('-', "_");
        let val: Value = serde_json::from_str(&pair[1]).unwrap_or(Value::String(pair[1].clone()));
        match key.as_str() {
            "maxorder" | "pthresh" => {
                method_opts.insert(key, val);
            }
            "threads" => {}
            _ => {
                top.insert(key, val);
            }
        }
    }
    let methods: Vec<Value> = c
        .methods
        .iter()
        .map(|m| {
            let mut o = serde_json::Map::new();
            o.insert("id".into(), (*m).into());
            for (k, v) in &method_opts {
                o.insert(k.clone(), v.clone());
            }
            Value::Object(o)
        })
        .collect();
    top.insert("methods".into(), Value::Array(methods));
    top.insert(
        "report".into(),
        serde_json::json!({ "suppress_below": c.suppress_below }),
    );
    serde_json::to_string_pretty(&Value::Object(top)).expect("json")
}

/// Numbers written as whole tokens in `text` (1,234 read as 1234).
fn number_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    for ch in text.chars().chain(std::iter::once(' ')) {
        let digitish = ch.is_ascii_digit() || ((ch == ',' || ch == '.') && !cur.is_empty());
        if digitish && !(cur.is_empty() && prev.is_some_and(|p| p.is_alphanumeric() || p == '_')) {
            cur.push(ch);
        } else if !cur.is_empty() {
            out.push(cur.trim_end_matches([',', '.']).replace(',', ""));
            cur.clear();
        }
        prev = Some(ch);
    }
    out
}

fn check(c: &Case, i: u64) -> Result<(), String> {
    let d = scratch(i);
    std::fs::write(d.join("t.csv"), csv(c)).expect("csv");
    std::fs::write(d.join("out.json"), "old result").expect("old");
    std::fs::write(d.join("out.md"), "old report").expect("old");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_darkfigure"));
    cmd.current_dir(&d).env("RUST_BACKTRACE", "0");
    if c.as_job {
        std::fs::write(d.join("job.json"), job(c)).expect("job");
        cmd.args(["run", "job.json"]);
    } else {
        cmd.args(["estimate", "t.csv"]);
        for m in &c.methods {
            cmd.args(["-m", m]);
        }
        cmd.args(&c.flags);
        cmd.args(["--suppress-below", &c.suppress_below.to_string()]);
    }
    cmd.args(["--json", "out.json", "--report", "out.md"]);
    let o = cmd.output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    let code = o.status.code();
    let ctx = || format!("code {code:?}\nstderr: {stderr}");
    if !matches!(code, Some(0..=2)) {
        return Err(format!("exit code not 0, 1 or 2: {}", ctx()));
    }
    if stderr.contains("panicked") || stdout.contains("panicked") {
        return Err(format!("panic: {}", ctx()));
    }
    let names: Vec<String> = std::fs::read_dir(&d)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .collect();
    if let Some(t) = names.iter().find(|n| n.contains(".tmp")) {
        return Err(format!("temporary file {t} left"));
    }
    if code != Some(0) {
        let json = std::fs::read_to_string(d.join("out.json")).unwrap_or_default();
        let md = std::fs::read_to_string(d.join("out.md")).unwrap_or_default();
        if json != "old result" || md != "old report" {
            return Err(format!("a failed run replaced a file: {}", ctx()));
        }
        let _ = std::fs::remove_dir_all(&d);
        return Ok(());
    }
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out.json")).unwrap_or_default())
            .map_err(|e| format!("out.json is not JSON ({e}): {}", ctx()))?;
    for e in doc["estimates"].as_array().ok_or("no estimates")? {
        let n = e["observed"].as_f64().ok_or("no observed")?;
        if e["status"] != "ok" {
            continue;
        }
        let label = format!("{} {}", e["method"], e["label"]);
        let a = e["population"]
            .as_f64()
            .ok_or(format!("{label}: ok without a number"))?;
        if !(a.is_finite() && a >= n - 1e-6 * n.max(1.0) && a <= MAX_OK_ESTIMATE) {
            return Err(format!("{label}: ok with N̂ = {a} (n = {n})"));
        }
        let (lo, hi) = (
            e["interval"]["lower"].as_f64(),
            e["interval"]["upper"].as_f64(),
        );
        if let Some(lo) = lo
            && lo < n - 1e-6 * n.max(1.0)
        {
            return Err(format!("{label}: lower {lo} below n = {n}"));
        }
        if let (Some(lo), Some(hi)) = (lo, hi)
            && lo > hi
        {
            return Err(format!("{label}: interval [{lo}, {hi}] reversed"));
        }
        if let Some(hi) = hi
            && hi > MAX_OK_ESTIMATE
        {
            return Err(format!("{label}: upper {hi} printed as a number"));
        }
    }
    if c.palette {
        let md = std::fs::read_to_string(d.join("out.md")).unwrap_or_default();
        for (what, text) in [("terminal", &stdout), ("stderr", &stderr), ("report", &md)] {
            if let Some(t) = number_tokens(text)
                .into_iter()
                .find(|t| SMALL.iter().any(|s| s.to_string() == *t))
            {
                return Err(format!(
                    "the small count {t} appears in the {what}:\n{text}"
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&d);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_binary_under_random_use_keeps_its_promises(c in case(), i in any::<u64>()) {
        if let Err(e) = check(&c, i) {
            prop_assert!(false, "{e}\ncase: {c:?}\nt.csv:\n{}", csv(&c));
        }
    }
}
