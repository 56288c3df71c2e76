//! One interval per study, everywhere. For the world job and for a small job with live and
//! published studies (at level 90%, one live study under the job's threshold), the binary's
//! four renderings — the terminal, the Markdown and the HTML report, the result JSON — are
//! read back, and every number shown for a study (its identified count, N̂ and N̂'s limits,
//! the multiplier and its limits) and its interval's kind must be the JSON's value under the
//! rendering's rounding, the same text in all three readable renderings. In the JSON, the
//! multiplier's limits are N̂'s ÷ n at the job's level, and the pooled variance of log M is
//! the log-normal reading of the interval shown. A study of the job's own table by one of
//! its methods is that estimate: the world job's UK 2013 row is its stepwise row.

use darkfigure::inference::qnorm;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The columns every rendering's studies table has, in order (the reports add the
/// reference after them).
const HEAD: [&str; 10] = [
    "study",
    "source",
    "identified",
    "estimate",
    "lower",
    "upper",
    "multiplier",
    "lower",
    "upper",
    "interval",
];

/// What the reports write where there is nothing to show (the terminal writes "-").
const NONE: &str = "—";

struct Rendered {
    terminal: String,
    markdown: String,
    html: String,
    json: Value,
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("darkfigure-studies-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn darkfigure(args: &[&Path]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_darkfigure"))
        .args(args)
        .output()
        .expect("run darkfigure");
    assert!(
        o.status.success(),
        "darkfigure {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8")
}

/// The job run twice by the binary, as a user would: once printing the terminal tables and
/// writing the JSON and the Markdown, once writing the HTML (the JSON again, which must be
/// the same bytes).
fn render(job: &Path, tag: &str) -> Rendered {
    let dir = scratch(tag);
    let [json, md, html, again] = ["r.json", "r.md", "r.html", "again.json"].map(|f| dir.join(f));
    let flag = |s: &str| PathBuf::from(s);
    let terminal = darkfigure(&[
        &flag("run"),
        job,
        &flag("--json"),
        &json,
        &flag("--report"),
        &md,
    ]);
    darkfigure(&[
        &flag("run"),
        job,
        &flag("--json"),
        &again,
        &flag("--report"),
        &html,
        &flag("--quiet"),
    ]);
    let read = |p: &Path| std::fs::read_to_string(p).expect("written");
    assert_eq!(read(&json), read(&again), "the JSON differs between runs");
    let out = Rendered {
        terminal,
        markdown: read(&md),
        html: read(&html),
        json: serde_json::from_str(&read(&json)).expect("JSON"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// The terminal's studies table: the line after "Studies (" is the head, the rows follow
/// until a blank line; columns are at least two spaces apart.
fn terminal_rows(t: &str) -> Vec<Vec<String>> {
    let mut lines = t
        .lines()
        .skip_while(|l| !l.starts_with("Studies ("))
        .skip(1)
        .take_while(|l| !l.trim().is_empty());
    let split = |l: &str| -> Vec<String> {
        l.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| {
                if c == "-" {
                    NONE.to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    let head = split(lines.next().expect("the terminal's studies table"));
    assert_eq!(head, HEAD, "the terminal's head");
    lines.map(split).collect()
}

/// The Markdown table under "## Studies behind the multiplier", without its reference.
fn markdown_rows(md: &str) -> Vec<Vec<String>> {
    let section = md
        .split("## Studies behind the multiplier")
        .nth(1)
        .expect("the studies section");
    let mut lines = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'));
    let split = |l: &str| -> Vec<String> {
        l.trim_start_matches("| ")
            .trim_end_matches(" |")
            .split(" | ")
            .map(String::from)
            .collect()
    };
    let head = split(lines.next().expect("the Markdown head"));
    assert_eq!(head[..HEAD.len()], HEAD, "the Markdown head");
    assert_eq!(head.last().map(String::as_str), Some("reference"));
    lines
        .skip(1)
        .map(|l| {
            let mut r = split(l);
            r.truncate(HEAD.len());
            r
        })
        .collect()
}

/// The HTML table after the studies heading (its references are listed under it).
fn html_rows(h: &str) -> Vec<Vec<String>> {
    let section = h
        .split("<h2>Studies behind the multiplier</h2>")
        .nth(1)
        .expect("the studies section");
    let table = &section[..section.find("</table>").expect("the studies table")];
    let cells = |row: &str, tag: &str| -> Vec<String> {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        row.split(open.as_str())
            .skip(1)
            .map(|c| {
                c[..c.find(close.as_str()).expect("closed cell")]
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&")
            })
            .collect()
    };
    let mut rows = table.split("<tr>").skip(1);
    let head = cells(rows.next().expect("the HTML head"), "th");
    assert_eq!(head, HEAD, "the HTML head");
    rows.map(|r| cells(r, "td")).collect()
}

/// A count or N̂ as shown: to the unit, to the hundred from 10,000 on.
fn shown_people(x: f64) -> f64 {
    if x >= 10_000.0 {
        (x / 100.0).round() * 100.0
    } else {
        x.round()
    }
}

fn parse_people(cell: &str) -> f64 {
    cell.replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("not a number of people: {cell:?}"))
}

fn parse_multiplier(cell: &str) -> f64 {
    let (_, decimals) = cell.split_once('.').expect("a multiplier has decimals");
    assert_eq!(
        decimals.len(),
        2,
        "a multiplier shown to two decimals: {cell}"
    );
    cell.parse().expect("a multiplier")
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Every study's row against the JSON, in all three renderings, and the JSON's own
/// promises; returns the rows as the reports show them.
fn check_studies(r: &Rendered, thr: u64) -> Vec<Vec<String>> {
    let rows = [
        ("terminal", terminal_rows(&r.terminal)),
        ("markdown", markdown_rows(&r.markdown)),
        ("html", html_rows(&r.html)),
    ];
    let studies = r.json["aggregate"]["studies"].as_array().expect("studies");
    let level = num(&r.json["job"]["level"]);
    let z = qnorm(0.5 + level / 2.0);
    for (what, table) in &rows {
        assert_eq!(table.len(), studies.len(), "{what}: one row per study");
        for (row, s) in table.iter().zip(studies) {
            let name = s["name"].as_str().expect("name");
            let at = format!("{what}, study {name}");
            assert_eq!(row.len(), HEAD.len(), "{at}: {row:?}");
            assert_eq!(
                (row[0].as_str(), row[1].as_str()),
                (name, s["source"].as_str().expect("source")),
                "{at}"
            );
            for (cell, key) in [(6, "multiplier"), (7, "lower"), (8, "upper")] {
                let want = (num(&s[key]) * 100.0).round() / 100.0;
                assert!(
                    (parse_multiplier(&row[cell]) - want).abs() < 1e-9,
                    "{at}: {} shown as {}, the JSON has {}",
                    HEAD[cell],
                    row[cell],
                    s[key]
                );
            }
            assert_eq!(
                row[9],
                s["kind"].as_str().expect("kind"),
                "{at}: the interval's kind"
            );
            match s["observed"].as_u64() {
                None => {
                    assert_eq!(
                        row[2..6],
                        [NONE; 4],
                        "{at}: a published study has no count or N̂"
                    );
                    assert!(s["population"].is_null() && s["interval"].is_null(), "{at}");
                }
                Some(n) if n >= 1 && n < thr => {
                    assert_eq!(row[2], format!("<{thr}"), "{at}: a small count");
                    assert_eq!(
                        row[3..6],
                        ["withheld", NONE, NONE],
                        "{at}: N̂ goes with its count"
                    );
                }
                Some(n) => {
                    assert_eq!(
                        parse_people(&row[2]),
                        shown_people(n as f64),
                        "{at}: identified"
                    );
                    let iv = &s["interval"];
                    for (cell, v) in [(3, &s["population"]), (4, &iv["lower"]), (5, &iv["upper"])] {
                        assert_eq!(
                            parse_people(&row[cell]),
                            shown_people(num(v)),
                            "{at}: {} shown as {}, the JSON has {v}",
                            HEAD[cell],
                            row[cell]
                        );
                    }
                }
            }
        }
    }
    // the three readable renderings show the same text, cell by cell
    for (what, table) in &rows[1..] {
        assert_eq!(table, &rows[0].1, "{what} and the terminal differ");
    }
    for s in studies {
        let name = s["name"].as_str().expect("name");
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
        assert_eq!(num(&s["level"]), level, "{name}: the job's level");
        let sd = (num(&s["upper"]).ln() - num(&s["lower"]).ln()) / (2.0 * z);
        assert!(
            (num(&s["var_log_m"]) - sd * sd).abs() <= 1e-12 * sd * sd,
            "{name}: the pooled variance is not the reading of the interval shown: {s}"
        );
        assert!(
            close(num(&s["log_m"]), num(&s["multiplier"]).ln()),
            "{name}: log M"
        );
        if let Some(n) = s["observed"].as_u64() {
            let (n, iv) = (n as f64, &s["interval"]);
            assert!(
                close(num(&s["multiplier"]), num(&s["population"]) / n),
                "{name}: M = N̂/n"
            );
            assert!(
                close(num(&s["lower"]), num(&iv["lower"]) / n),
                "{name}: lower = N̂'s / n"
            );
            assert!(
                close(num(&s["upper"]), num(&iv["upper"]) / n),
                "{name}: upper = N̂'s / n"
            );
            assert_eq!(
                (num(&iv["level"]), &iv["kind"]),
                (level, &s["kind"]),
                "{name}: {iv}"
            );
        }
    }
    rows[1].1.clone()
}

/// The Markdown method-notes row of the job's estimate `j`: (estimate, lower, upper).
fn method_notes_row(md: &str, j: usize) -> [String; 3] {
    let row = md
        .split("## Method notes")
        .nth(1)
        .expect("the method notes")
        .lines()
        .filter(|l| l.starts_with('|'))
        .nth(2 + j)
        .expect("the estimate's row");
    let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
    [cells[3], cells[4], cells[5]].map(String::from)
}

/// The world job: its six studies in every rendering; UK 2013 (the job's own table, by its
/// recommended method, on the job's seed) is the job's recommended estimate — the same N̂
/// and interval in the JSON and the same cells in the studies table and the method notes.
#[test]
fn the_world_job_shows_one_interval_per_study_everywhere() {
    let job = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/world.json");
    let r = render(&job, "world");
    let rows = check_studies(&r, 5);
    let uk = &r.json["aggregate"]["studies"][0];
    let recommended = &r.json["estimates"][0];
    assert_eq!(
        (uk["name"].as_str(), recommended["method"].as_str()),
        (Some("UK 2013"), Some("recommended"))
    );
    assert_eq!(uk["population"], recommended["population"]);
    assert_eq!(uk["interval"], recommended["interval"]);
    assert_eq!(
        rows[0][3..6],
        method_notes_row(&r.markdown, 0),
        "the UK 2013 row and the method notes"
    );
    // A sensitivity row per candidate procedure of the grid, in its order; dga cannot run
    // on the Netherlands' eight lists, and its row says so instead of showing numbers.
    let evidence = darkfigure::methods::recommended::evidence().unwrap();
    let rows = r.json["aggregate"]["sensitivity"].as_array().unwrap();
    let by: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|x| {
            x["scenario"]
                .as_str()
                .unwrap()
                .starts_with("every live study by ")
        })
        .collect();
    let names: Vec<String> = evidence
        .candidates
        .iter()
        .map(|c| format!("every live study by {}", c.name))
        .collect();
    assert_eq!(
        by.iter()
            .map(|x| x["scenario"].as_str().unwrap())
            .collect::<Vec<_>>(),
        names
    );
    for row in by {
        let dga = row["scenario"] == "every live study by dga";
        assert_eq!(row["total"].is_null(), dga, "{row}");
        if dga {
            assert!(
                row["unavailable"]
                    .as_str()
                    .unwrap()
                    .contains("3 to 6 lists; the table has 8"),
                "{row}"
            );
            assert!(r.markdown.contains("every live study by dga (no total"));
        } else {
            assert!(row["total"]["lower"].as_f64().unwrap() > 125_000.0, "{row}");
        }
    }
}

/// A small job at level 90% and threshold 100: a live study of the job's own table by its
/// method (the job's estimate again), another live study, one whose 96 identified are under
/// the threshold (its N̂ withheld, its multiplier shown), and a published one.
#[test]
fn a_small_job_shows_one_interval_per_study_everywhere() {
    let main = r#"{"lists": ["A", "B", "C"], "rows": [[1,0,0,611],[0,1,0,587],[0,0,1,433],[1,1,0,37],[1,0,1,43],[0,1,1,29],[1,1,1,17]]}"#;
    let job = format!(
        r#"{{"schema": "darkfigure.job/1", "name": "small",
            "data": {main}, "methods": [{{"id": "main"}}], "bootstrap": 1000,
            "level": 0.9, "seed": 11, "report": {{"suppress_below": 100}},
            "aggregate": {{
              "identified": {{"total": 5000, "source": "a count"}}, "draws": 2000,
              "study_bootstrap": 1000,
              "studies": [
                {{"name": "Own", "citation": "c", "method": "main", "data": {main}}},
                {{"name": "Two lists", "citation": "c", "method": "main",
                  "data": {{"lists": ["A", "B"], "rows": [[1,0,60],[0,1,40],[1,1,20]]}}}},
                {{"name": "Few", "citation": "c", "method": "main",
                  "data": {{"lists": ["A", "B", "C"], "rows": [[1,0,0,40],[0,1,0,30],[0,0,1,20],[1,1,0,6]]}}}},
                {{"name": "Published", "citation": "c",
                  "published": {{"multiplier": 5.0, "lower": 4.06, "upper": 5.94, "level": 0.95}}}}
              ]}}}}"#
    );
    let dir = scratch("small-job");
    let path = dir.join("job.json");
    std::fs::write(&path, job).expect("job written");
    let r = render(&path, "small");
    let _ = std::fs::remove_dir_all(&dir);
    let rows = check_studies(&r, 100);
    let studies = &r.json["aggregate"]["studies"];
    assert_eq!(studies[2]["observed"], 96, "the study under the threshold");
    assert_eq!(rows[2][2], "<100");
    assert_eq!(studies[0]["interval"]["level"], 0.9);
    assert_eq!(
        studies[0]["population"],
        r.json["estimates"][0]["population"]
    );
    assert_eq!(studies[0]["interval"], r.json["estimates"][0]["interval"]);
    assert_eq!(rows[0][3..6], method_notes_row(&r.markdown, 0));
}
