//! The reports: the HTML loads nothing from elsewhere; counts of identified people below
//! the threshold appear as "<5" in the HTML, the Markdown and the terminal, and cannot be
//! worked out by subtracting the other strata from the whole; every number in
//! the Markdown report's text is a number of the result JSON (rounded as shown, or as a
//! percentage); and a real browser (Debian's chromium, headless) renders the HTML to a
//! picture that is not blank.

use darkfigure::checked::{Level, Replicates};
use darkfigure::data::parse::{Format, ParseOptions, parse_bytes};
use darkfigure::job::{DataSpec, Job, ReportSpec, ResultDoc, run_with_data};
use darkfigure::montecarlo::simulate::{StratumSpec, simulate_records};
use darkfigure::report::html::{html, markdown};

fn stratified_doc() -> ResultDoc {
    let lists = vec!["A".to_string(), "B".to_string(), "C".to_string()];
    let mut csv = simulate_records(
        5,
        &lists,
        &[
            StratumSpec {
                name: "adult".into(),
                size: 1500,
                probs: vec![0.35, 0.3, 0.25],
            },
            StratumSpec {
                name: "child".into(),
                size: 600,
                probs: vec![0.3, 0.25, 0.2],
            },
        ],
    );
    csv.push_str("1,0,0,tiny\n0,1,0,tiny\n1,1,0,tiny\n");
    let opts = ParseOptions {
        format: Format::Records,
        lists: Some(lists.clone()),
        stratify_by: Some("stratum".into()),
        ..ParseOptions::default()
    };
    let parsed = parse_bytes("sim.csv", csv.as_bytes(), &opts).unwrap();
    let job = Job {
        schema: darkfigure::job::JOB_SCHEMA.into(),
        name: Some("Simulated strata".into()),
        description: None,
        data: DataSpec::Inline {
            lists,
            rows: Vec::new(),
            source: None,
        },
        seed: Some(3),
        level: Level::DEFAULT,
        interval: darkfigure::methods::IntervalKind::WaldLog,
        methods: vec!["main".parse().expect("method")],
        bootstrap: Some(Replicates::of(200)),
        bootstrap_kind: Default::default(),
        strata: Some("stratum".into()),
        aggregate: None,
        calibrate: None,
        report: Some(ReportSpec {
            file: None,
            suppress_below: darkfigure::checked::Threshold::of(5),
        }),
    };
    run_with_data(job, parsed).unwrap()
}

fn uk() -> ResultDoc {
    darkfigure::job::run_file(concat!(env!("CARGO_MANIFEST_DIR"), "/models/uk2013.json")).unwrap()
}

fn world() -> ResultDoc {
    darkfigure::job::run_file(concat!(env!("CARGO_MANIFEST_DIR"), "/models/world.json")).unwrap()
}

#[test]
fn html_is_self_contained() {
    for doc in [world(), stratified_doc(), uk()] {
        let h = html(&doc, 5).to_lowercase();
        for needle in [
            "http:", "https:", "src=", "<link", "@import", "url(", "<script", "<iframe", "<img",
        ] {
            assert!(!h.contains(needle), "the report contains {needle}");
        }
        assert!(h.contains("<svg"), "the report has its pictures inline");
    }
}

#[test]
fn small_counts_are_suppressed_everywhere() {
    let doc = stratified_doc();
    let tiny = doc.strata.iter().find(|s| s.stratum == "tiny").unwrap();
    assert_eq!(tiny.observed, 3);
    let md = markdown(&doc, 5);
    let h = html(&doc, 5);
    let term = darkfigure::report::terminal::render_result(&doc);
    for (what, text) in [("markdown", &md), ("html", &h), ("terminal", &term)] {
        assert!(
            text.contains("<5") || text.contains("&lt;5"),
            "{what}: the small stratum is not shown as <5"
        );
        for line in text.lines().filter(|l| l.contains("tiny")) {
            assert!(
                !line.contains("| 3 |")
                    && !line.contains("<td>3</td>")
                    && !line.contains("(3 identified)"),
                "{what} shows the count 3: {line}"
            );
        }
    }
    // nor as a figure of its estimates (an interval end can be n): they are withheld
    let row = md
        .lines()
        .find(|l| l.starts_with("| [tiny] main |"))
        .expect("the tiny stratum's row");
    assert!(row.contains("| <5 | withheld | — | — |"), "{row}");
    let table = term
        .split("Stratum tiny (<5 identified):")
        .nth(1)
        .and_then(|t| t.split("\n\n").next())
        .expect("the tiny stratum's table");
    assert!(
        table
            .lines()
            .skip(2)
            .all(|l| !l.split_whitespace().any(|w| w.parse::<f64>().is_ok())),
        "the terminal shows a figure of the tiny stratum:\n{table}"
    );
}

/// The strata add up to the whole, which every rendering shows: with the tiny stratum
/// shown as "<5", the next smallest is withheld too ("≥5"), or the whole minus the others
/// would give the tiny one's count.
#[test]
fn a_small_count_cannot_be_worked_out_by_subtraction() {
    let doc = stratified_doc();
    let child = doc.strata.iter().find(|s| s.stratum == "child").unwrap();
    let adult = doc.strata.iter().find(|s| s.stratum == "adult").unwrap();
    assert!(
        child.observed < adult.observed,
        "the simulation's smaller stratum"
    );
    let n = darkfigure::report::format::people(child.observed as f64);
    let md = markdown(&doc, 5);
    let h = html(&doc, 5);
    let term = darkfigure::report::terminal::render_result(&doc);
    for (what, text) in [("markdown", &md), ("html", &h), ("terminal", &term)] {
        let lines: Vec<&str> = text.lines().filter(|l| l.contains("child")).collect();
        assert!(
            lines.iter().any(|l| l.contains("≥5")),
            "{what}: the child stratum is not withheld"
        );
        for line in lines {
            assert!(
                !line.contains(&format!("| {n} |"))
                    && !line.contains(&format!("<td>{n}</td>"))
                    && !line.contains(&format!("({n} identified)")),
                "{what} shows the child count {n}: {line}"
            );
        }
    }
    // the withheld stratum's estimates go with its count: a lower limit at n, or AIC and
    // BIC (their difference gives log n), would give it back
    let row = md
        .lines()
        .find(|l| l.starts_with("| [child] main |"))
        .expect("the child stratum's row");
    assert!(row.contains("| ≥5 | withheld |"), "{row}");
}

/// Every number in the Markdown text (the reproduce block with the job excluded) matches a
/// number of the result JSON: equal at the shown precision, within 50 for counts shown to
/// the nearest hundred, or a JSON proportion shown as a percentage.
#[test]
fn every_number_in_the_report_is_in_the_json() {
    for doc in [world(), stratified_doc(), uk()] {
        let json: serde_json::Value =
            serde_json::from_str(&darkfigure::report::json::to_json(&doc).unwrap()).unwrap();
        let mut nums = Vec::new();
        collect(&json, &mut nums);
        let md = markdown(&doc, 5);
        let md_text = md.split("## Reproduce").next().unwrap().to_string();
        // the HTML's words: without the pictures (axis ticks are scales, not results), the
        // style sheet and the reproduce block, tags removed
        let h = html(&doc, 5);
        let mut words = String::new();
        let body = &h[h.find("<body>").unwrap()..h.find("<h2>Reproduce").unwrap()];
        let mut rest = body;
        while let Some(a) = rest.find("<svg") {
            words.push_str(&rest[..a]);
            rest = &rest[rest[a..].find("</svg>").map_or(rest.len(), |b| a + b + 6)..];
        }
        words.push_str(rest);
        let mut plain = String::new();
        let mut in_tag = false;
        for c in words.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    plain.push(' ');
                }
                _ if !in_tag => plain.push(c),
                _ => {}
            }
        }
        for tok in numbers(&md_text).into_iter().chain(numbers(&plain)) {
            let (x, decimals) = tok;
            let ok = nums.iter().any(|&y| {
                let tol = 0.5 * 10f64.powi(-(decimals as i32)) + 1e-9;
                (y - x).abs() <= tol
                    || (x >= 10_000.0 && (y - x).abs() <= 50.0)
                    || (100.0 * y - x).abs() <= tol
            });
            assert!(
                ok,
                "{x} (shown with {decimals} decimals) is not a number of the JSON"
            );
        }
    }
}

fn collect(v: &serde_json::Value, out: &mut Vec<f64>) {
    match v {
        serde_json::Value::Number(n) => out.extend(n.as_f64()),
        serde_json::Value::String(s) => out.extend(numbers(s).into_iter().map(|x| x.0)),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect(x, out)),
        _ => {}
    }
}

/// Numbers in text: digits with optional thousands commas and decimals; (value, decimals).
pub(crate) fn numbers(s: &str) -> Vec<(f64, usize)> {
    let mut out = Vec::new();
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_alphabetic() || b[i - 1] == '_')) {
            let mut j = i;
            let mut t = String::new();
            while j < b.len()
                && (b[j].is_ascii_digit()
                    || (b[j] == ','
                        && j + 3 < b.len() + 1
                        && b.get(j + 1).is_some_and(|c| c.is_ascii_digit())
                        && b.get(j + 3).is_some_and(|c| c.is_ascii_digit())
                        && !b.get(j + 4).is_some_and(|c| c.is_ascii_digit())))
            {
                if b[j] != ',' {
                    t.push(b[j]);
                }
                j += 1;
            }
            let mut dec = 0;
            if j + 1 < b.len() && b[j] == '.' && b[j + 1].is_ascii_digit() {
                t.push('.');
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    t.push(b[j]);
                    dec += 1;
                    j += 1;
                }
            }
            if j < b.len() && b[j].is_alphabetic() {
                // part of a word (e.g. "2x"), not a number shown to the reader
                i = j;
                continue;
            }
            if let Ok(x) = t.parse::<f64>() {
                out.push((x, dec));
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Renders the world report in headless chromium and checks the picture. Chromium is
/// required (`.ci/run` installs it): a missing browser fails the test, it never skips.
#[test]
fn a_real_browser_renders_the_report() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let chromium = chromium.expect(
        "the report test renders in Debian's chromium: apt-get install chromium (.ci/run does)",
    );
    let dir = std::env::temp_dir().join(format!("darkfigure-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("report.html");
    std::fs::write(&page, html(&world(), 5)).unwrap();
    let png = dir.join("report.png");
    let out = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1000,1400",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        png.exists(),
        "chromium wrote no picture: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let bytes = &buf[..info.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let mut dark = 0usize;
    let total = bytes.len() / px;
    for p in bytes.chunks(px) {
        colours.insert((p[0], p[1], p[2]));
        if (p[0] as u32 + p[1] as u32 + p[2] as u32) < 384 {
            dark += 1;
        }
    }
    assert!(
        colours.len() > 50,
        "the rendered page has only {} colours",
        colours.len()
    );
    assert!(
        dark * 100 > total,
        "the rendered page is almost blank ({dark} dark pixels of {total})"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bayesian_estimates_bring_their_assumptions_and_posterior_picture() {
    let csv = simulate_records(
        21,
        &["A".into(), "B".into(), "C".into()],
        &[StratumSpec {
            name: "all".into(),
            size: 900,
            probs: vec![0.3, 0.25, 0.2],
        }],
    );
    let parsed = parse_bytes(
        "sim.csv",
        csv.as_bytes(),
        &ParseOptions {
            format: Format::Records,
            lists: Some(vec!["A".into(), "B".into(), "C".into()]),
            ..ParseOptions::default()
        },
    )
    .expect("simulated records parse");
    let job = Job {
        schema: darkfigure::job::JOB_SCHEMA.into(),
        name: None,
        description: None,
        data: DataSpec::Inline {
            lists: vec!["A".into(), "B".into(), "C".into()],
            rows: Vec::new(),
            source: None,
        },
        seed: Some(3),
        level: Level::DEFAULT,
        interval: Default::default(),
        methods: vec![
            r#"{"id": "bayes-threshold", "samples": 1000}"#
                .parse()
                .expect("method"),
        ],
        bootstrap: None,
        bootstrap_kind: Default::default(),
        strata: None,
        aggregate: None,
        calibrate: None,
        report: None,
    };
    let doc = run_with_data(job, parsed).expect("job runs");
    let h = html(&doc, 5);
    assert!(
        h.contains("Bayesian thresholding: how the lists overlap"),
        "assumption missing"
    );
    assert!(
        h.contains("Posterior draws of N (bayes-threshold"),
        "posterior histogram missing"
    );
    assert!(
        !h.contains("Latent classes (lcmcr)"),
        "only the methods used are described"
    );
}
