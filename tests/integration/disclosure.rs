//! Disclosure control (issue 17): no count of identified people below the threshold appears
//! in anything rendered for reading — the terminal of `estimate`/`run`/`describe`, the
//! Markdown and the HTML report — not as itself, not as an interval end or estimate equal to
//! it, and not by subtraction from the counts shown beside it.
//!
//! The jobs use a threshold of 50 and small counts that no other number of their outputs is
//! (37, 43, 29, 17, …), so that a hidden count showing up anywhere, as a whole number or as
//! a figure printed equal to it, is a leak and not a coincidence. Numbers are matched as
//! tokens, never as parts of other numbers.

use super::report::numbers;
use darkfigure::data::describe::describe;
use darkfigure::data::parse::{Format, ParseOptions, parse_bytes};
use darkfigure::job::{ResultDoc, load_data, parse_job, run_full, run_with_data};
use darkfigure::report::html::{html, markdown};
use darkfigure::report::terminal::{render_description, render_result};

const THR: u64 = 50;

/// The hidden counts a text shows as numbers: a whole number equal to one, or a figure
/// printed equal to one (37.0, 37.00).
fn leaks(text: &str, hidden: &[u64]) -> Vec<String> {
    numbers(text)
        .into_iter()
        .filter(|&(x, dec)| {
            hidden.iter().any(|&c| {
                let c = c as f64;
                if dec == 0 {
                    x == c
                } else {
                    (x - c).abs() < 0.05
                }
            })
        })
        .map(|(x, dec)| format!("{x:.dec$}"))
        .collect()
}

/// The words of an HTML page: no style sheet, no tags (the pictures' coordinates go with
/// them; their text — titles, axis ticks, "withheld" — stays).
fn words(h: &str) -> String {
    let body = h.find("</style>").map_or(h, |i| &h[i..]);
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">")
}

/// Every rendering of a result at the job's threshold.
fn renderings(doc: &ResultDoc) -> Vec<(&'static str, String)> {
    vec![
        ("terminal", render_result(doc)),
        ("markdown", markdown(doc, THR)),
        ("html", words(&html(doc, THR))),
    ]
}

fn assert_no_leak(doc: &ResultDoc, hidden: &[u64]) {
    assert!(!hidden.is_empty());
    for (what, text) in renderings(doc) {
        let found = leaks(&text, hidden);
        assert!(
            found.is_empty(),
            "{what} shows hidden counts {found:?}:\n{text}"
        );
    }
}

/// A reader who sees the whole and its parts, each as a number, "<thr" or "≥thr" (thr up),
/// tries every value of the hidden parts that adds up: every small part must be able to
/// take two values at least. `floors[i]` is the least part i can be when shown as "<thr"
/// (0 where a zero would be hidden too: a pair's count in a small stratum).
fn assert_not_pinned(what: &str, whole: &str, parts: &[String], floors: &[i64]) {
    let parse = |s: &str| s.replace(',', "").parse::<i64>().ok();
    let Some(total) = parse(whole) else {
        return; // the whole hidden too: nothing to subtract from
    };
    let shown: i64 = parts.iter().filter_map(|p| parse(p)).sum();
    let rest = total - shown;
    let thr = THR as i64;
    let hidden: Vec<(i64, i64)> = parts
        .iter()
        .zip(floors)
        .filter(|(p, _)| parse(p).is_none())
        .map(|(p, &f)| {
            if p.starts_with('<') {
                (f, thr - 1)
            } else {
                (thr, rest.max(thr))
            }
        })
        .collect();
    for (k, &(floor, top)) in hidden.iter().enumerate().filter(|(_, r)| r.1 < thr) {
        // each other part spans a run of whole numbers, so their sum spans [Σ lo, Σ hi]
        let others = hidden.iter().enumerate().filter(|&(j, _)| j != k);
        let lo: i64 = others.clone().map(|(_, r)| r.0).sum();
        let hi: i64 = others.map(|(_, r)| r.1).sum();
        let values: Vec<i64> = (floor..=top)
            .filter(|x| rest - x >= lo && rest - x <= hi)
            .collect();
        assert!(
            values.len() >= 2,
            "{what}: a small count is pinned to {values:?} by {whole} and {parts:?}"
        );
    }
}

/// Records: three regions, one of them small (37 people); lists A, B, C.
fn records() -> String {
    let mut csv = String::from("A,B,C,region\n");
    let mut state: u64 = 7;
    for (region, n) in [("north", 811), ("east", 37), ("south", 587)] {
        for _ in 0..n {
            let flags = loop {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = |shift: u32, p: f64| (((state >> shift) & 0xffff) as f64 / 65536.0) < p;
                let f = [u(16, 0.45), u(32, 0.4), u(48, 0.35)];
                if f.iter().any(|&x| x) {
                    break f;
                }
            };
            let b = |x: bool| if x { "1" } else { "0" };
            csv.push_str(&format!(
                "{},{},{},{region}\n",
                b(flags[0]),
                b(flags[1]),
                b(flags[2])
            ));
        }
    }
    csv
}

/// The regions estimated with `methods` (a JSON list), with 40 bootstrap replicates when
/// one of them takes a bootstrap.
fn stratified(methods: &str) -> ResultDoc {
    let boot = if methods.contains("main") {
        r#""bootstrap": 40,"#
    } else {
        ""
    };
    let text = format!(
        r#"{{"schema": "darkfigure.job/1", "name": "regions",
            "data": {{"file": "regions.csv", "format": "records", "lists": ["A", "B", "C"]}},
            "strata": "region", "seed": 5, {boot} "methods": {methods},
            "report": {{"suppress_below": {THR}}}}}"#
    );
    let job = parse_job("regions.json", &text).expect("job");
    let opts = ParseOptions {
        format: Format::Records,
        lists: Some(vec!["A".into(), "B".into(), "C".into()]),
        stratify_by: Some("region".into()),
        ..ParseOptions::default()
    };
    let parsed = parse_bytes("regions.csv", records().as_bytes(), &opts).expect("records");
    run_with_data(job, parsed).expect("runs")
}

/// Every count of identified people in the result that is small.
fn small_counts(doc: &ResultDoc) -> Vec<u64> {
    let mut out: Vec<u64> = doc
        .strata
        .iter()
        .flat_map(|s| std::iter::once(s.observed).chain(s.estimates.iter().map(|e| e.observed)))
        .chain(doc.estimates.iter().map(|e| e.observed))
        .filter(|&n| n >= 1 && n < THR)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn small_strata_appear_nowhere_not_even_as_interval_ends() {
    let doc = stratified(r#"[{"id": "main"}, {"id": "m0"}, {"id": "mt"}]"#);
    let mut hidden = small_counts(&doc);
    assert_eq!(hidden, vec![37], "the job's small stratum");
    // the stratum withheld beside it (or the whole minus the others gives 37) is hidden
    // as well, with every figure equal to it
    let term = render_result(&doc);
    let withheld: Vec<u64> = doc
        .strata
        .iter()
        .filter(|s| term.contains(&format!("Stratum {} (≥50 identified)", s.stratum)))
        .map(|s| s.observed)
        .collect();
    assert_eq!(withheld.len(), 1, "one stratum withheld:\n{term}");
    hidden.extend(withheld);
    assert_no_leak(&doc, &hidden);
    for (what, text) in renderings(&doc) {
        assert!(text.contains("<50"), "{what} marks nothing as <50");
    }
    // an interval end or estimate of a small stratum is withheld with its count
    let east = term
        .split("Stratum east")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .expect("the east stratum's table");
    assert!(east.contains("withheld"), "{east}");
    assert!(
        !east
            .lines()
            .skip(2)
            .any(|l| l.split_whitespace().any(|w| w.parse::<f64>().is_ok())),
        "a figure of the small stratum is shown:\n{east}"
    );
}

#[test]
fn a_small_stratum_cannot_be_worked_out_from_the_others() {
    let doc = stratified(r#"[{"id": "m0"}]"#);
    let term = render_result(&doc);
    let whole = term
        .lines()
        .find_map(|l| l.strip_prefix("Number of captured units: "))
        .expect("the whole count");
    let parts: Vec<String> = term
        .lines()
        .filter(|l| l.starts_with("Stratum "))
        .filter_map(|l| {
            let a = l.find('(')? + 1;
            let b = l.find(" identified")?;
            Some(l[a..b].to_string())
        })
        .collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts.iter().filter(|p| p.starts_with('<')).count(), 1);
    assert_not_pinned("terminal strata", whole, &parts, &[1; 3]);
    // the report's table says the same
    let md = markdown(&doc, THR);
    let cell = |prefix: &str| {
        md.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split(" | ").nth(2).map(str::to_string))
            .expect("a row")
    };
    let whole_md = cell("| m0 | M0 |");
    let parts_md: Vec<String> = doc
        .strata
        .iter()
        .map(|s| cell(&format!("| [{}] m0 | M0 |", s.stratum)))
        .collect();
    assert_eq!(parts_md, parts, "the terminal and the report agree");
    assert_not_pinned("report strata", &whole_md, &parts_md, &[1; 3]);
}

/// Two-list estimates count the people on their two lists: per stratum, those add up to the
/// whole's pair count, another sum that must not give a small one away.
#[test]
fn two_list_pair_counts_do_not_add_up_to_a_small_one() {
    let doc = stratified(r#"[{"id": "chapman"}]"#);
    let hidden = small_counts(&doc);
    assert!(
        hidden.len() > 2,
        "pair counts of the small strata: {hidden:?}"
    );
    assert_no_leak(&doc, &hidden);
    let md = markdown(&doc, THR);
    for pair in ["A-B", "A-C", "B-C"] {
        let cell = |prefix: String| {
            md.lines()
                .find(|l| l.starts_with(&prefix))
                .and_then(|l| l.split(" | ").nth(2).map(str::to_string))
                .expect("a row")
        };
        let whole = cell(format!("| chapman | {pair} |"));
        let parts: Vec<String> = doc
            .strata
            .iter()
            .map(|s| cell(format!("| [{}] chapman | {pair} |", s.stratum)))
            .collect();
        // a pair's count in a small stratum may be a hidden zero
        let floors: Vec<i64> = doc
            .strata
            .iter()
            .map(|s| i64::from(s.observed >= THR))
            .collect();
        assert_not_pinned(pair, &whole, &parts, &floors);
    }
}

fn inline_job(text: &str) -> ResultDoc {
    let job = parse_job("inline.json", text).expect("job");
    let parsed = load_data(&job.data, None, "inline.json", &job.strata).expect("data");
    run_full(job, parsed, None, None, "inline.json").expect("runs")
}

/// The report's job echo: an inline table with small cells is not printed.
#[test]
fn the_job_echo_carries_no_small_cell() {
    let doc = inline_job(&format!(
        r#"{{"schema": "darkfigure.job/1",
            "data": {{"lists": ["A", "B", "C"], "rows": [
              [1,0,0,611],[0,1,0,587],[0,0,1,433],[1,1,0,37],[1,0,1,43],[0,1,1,29],[1,1,1,17]]}},
            "methods": [{{"id": "m0"}}, {{"id": "mt"}}],
            "report": {{"suppress_below": {THR}}}}}"#
    ));
    assert_no_leak(&doc, &[37, 43, 29, 17]);
    let md = markdown(&doc, THR);
    assert!(
        md.contains("\"rows\": \"withheld: 7 rows"),
        "the rows are withheld"
    );
    assert!(md.contains("the result JSON has the complete job"));
}

/// The world extrapolation: total = identified × multiplier, so a small identified count
/// hides the total and the children's figures with it, in the text, the sensitivity table,
/// the assumptions and the echo.
#[test]
fn a_small_identified_count_of_the_aggregate_hides_what_it_multiplies() {
    let doc = inline_job(&format!(
        r#"{{"schema": "darkfigure.job/1", "name": "a small place",
            "data": {{"lists": ["A", "B"], "rows": [[1,0,611],[0,1,587],[1,1,233]]}},
            "methods": [{{"id": "chapman"}}],
            "report": {{"suppress_below": {THR}}},
            "aggregate": {{
              "identified": {{"total": 37, "children": 17, "source": "a count"}},
              "draws": 2000,
              "studies": [
                {{"name": "S", "citation": "c", "published": {{"multiplier": 6.0, "lower": 4.0, "upper": 9.0, "level": 0.9}}}},
                {{"name": "T", "citation": "d", "published": {{"multiplier": 5.0, "lower": 4.06, "upper": 5.94, "level": 0.9}}}}
              ]}}}}"#
    ));
    let a = doc.aggregate.as_ref().expect("aggregate");
    let total = a.total.median.round() as u64;
    let children = a.children.as_ref().expect("children").median.round() as u64;
    // the total and its ends, identified × multiplier, would give 37 back
    let mut hidden = vec![37, 17, total, children];
    hidden.extend([a.total.lower, a.total.upper].map(|x| x.round() as u64));
    assert_no_leak(&doc, &hidden);
    let md = markdown(&doc, THR);
    assert!(md.contains("The identified count (<50) is the starting point"));
    assert!(
        md.contains("\"total\": \"<50\""),
        "the echo hides the count"
    );
}

/// `describe` hides small overlaps, sizes and frequencies, and what would give them away;
/// `--show-small` (no threshold) shows every count.
#[test]
fn describe_hides_small_counts_unless_asked() {
    let text =
        "A,B,C,count\n1,0,0,611\n0,1,0,587\n0,0,1,433\n1,1,0,37\n1,0,1,43\n0,1,1,29\n1,1,1,17\n";
    let parsed = parse_bytes("t.csv", text.as_bytes(), &ParseOptions::default()).expect("table");
    let d = describe(&parsed.data);
    // overlaps 54, 60, 46 and f₃ = 17, f₂ = 109: the small ones are 17, 46 and the ones
    // that identities would give away
    let shown = render_description("t.csv", &d, Some(THR));
    let small: Vec<u64> = d
        .pairs
        .iter()
        .map(|p| p.both)
        .chain(d.frequencies.iter().copied())
        .chain(d.list_sizes.iter().copied())
        .filter(|&n| n >= 1 && n < THR)
        .collect();
    assert!(!small.is_empty());
    let found = leaks(&shown, &small);
    assert!(found.is_empty(), "describe shows {found:?}:\n{shown}");
    assert!(shown.contains("<50"));
    let raw = render_description("t.csv", &d, None);
    assert!(
        !leaks(&raw, &small).is_empty(),
        "--show-small shows the small counts:\n{raw}"
    );
}

/// A calibration of a table whose count is small: the true number of every generator is
/// N̂ of a fit to these data, a figure worked out from the small count, and is withheld
/// with it in every rendering; the coverage, a share of simulated datasets, is shown.
#[test]
fn a_calibration_shows_no_figure_of_a_small_table() {
    let doc = inline_job(&format!(
        r#"{{"schema": "darkfigure.job/1",
            "data": {{"lists": ["A", "B", "C", "D"], "rows": [
              [1,0,0,0,9],[0,1,0,0,8],[0,0,1,0,7],[0,0,0,1,6],[1,1,0,0,4],[1,0,1,0,3],
              [0,1,1,0,2],[1,0,0,1,3],[0,0,1,1,2],[1,1,1,1,1]]}},
            "methods": [{{"id": "main"}}], "seed": 2,
            "calibrate": {{"replicates": 8}},
            "report": {{"suppress_below": {THR}}}}}"#
    ));
    let c = doc.calibration.as_ref().expect("calibrated");
    assert!(!c.generators.is_empty());
    let mut hidden: Vec<u64> = vec![45];
    hidden.extend(c.generators.iter().map(|g| g.population));
    assert_no_leak(&doc, &hidden);
    for (what, text) in renderings(&doc) {
        assert!(text.contains("withheld"), "{what}:\n{text}");
        assert!(
            text.contains("datasets"),
            "{what} has no calibration:\n{text}"
        );
    }
}
