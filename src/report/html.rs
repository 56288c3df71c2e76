//! The policymaker's report: one self-contained HTML file (inline CSS and SVG, nothing loaded
//! from elsewhere) and the same content as Markdown. A plain-language summary first, then the
//! pictures, the assumptions, the warnings, the method notes, the sensitivity table and what
//! is needed to reproduce the numbers (the exact job, seed and version). Every count of
//! identified people below the job's threshold is shown as "<threshold" (small-cell
//! suppression); every number shown comes from the result JSON.

use super::svg::{ForestRow, forest, histogram};
use super::terminal::people;
use crate::job::ResultDoc;
use crate::methods::{Estimate, Status};
use std::fmt::Write;

/// A count of identified people, suppressed below `thr`.
pub fn count(n: u64, thr: u64) -> String {
    if n < thr {
        format!("<{thr}")
    } else {
        people(n as f64)
    }
}

fn pct(level: f64) -> String {
    let s = format!("{:.6}", level * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn status_words(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::NotConverged => "did not converge",
        Status::MleDoesNotExist => "no estimate: the maximum-likelihood estimate does not exist",
        Status::NotIdentifiable => "no estimate: the model is not identifiable",
        Status::Infinite => "no estimate: infinite",
    }
}

/// The estimate the summary speaks about: the first with a number and an interval,
/// preferring one whose interval comes from a bootstrap (it includes the model choice).
fn primary(doc: &ResultDoc) -> Option<&Estimate> {
    let ok = |e: &&Estimate| {
        e.status == Status::Ok
            && e.population.is_some()
            && e.interval
                .as_ref()
                .is_some_and(|i| i.lower.is_some() && i.upper.is_some())
    };
    doc.estimates
        .iter()
        .filter(ok)
        .find(|e| e.bootstrap.is_some())
        .or_else(|| doc.estimates.iter().find(ok))
}

/// Plain-language summary sentences.
pub fn summary(doc: &ResultDoc, thr: u64) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(a) = &doc.aggregate {
        use crate::aggregate::global::Count;
        let ident = |c: &Count| match c {
            Count::Exact(x) => count(*x as u64, thr),
            Count::Range { lower, upper } => format!(
                "{} to {}",
                count(*lower as u64, thr),
                count(*upper as u64, thr)
            ),
        };
        out.push(format!(
            "Between {} and {} people, most likely around {} ({}% interval); {} were identified.",
            people(a.total.lower),
            people(a.total.upper),
            people(a.total.median),
            pct(a.total.level),
            ident(&a.identified.total)
        ));
        if let (Some(c), Some(ci)) = (&a.children, &a.identified.children) {
            out.push(format!(
                "Children: between {} and {}, most likely around {}; {} were identified.",
                people(c.lower),
                people(c.upper),
                people(c.median),
                ident(ci)
            ));
        }
        out.push(format!(
            "Behind every identified victim there are about {:.1} in all ({:.1} to {:.1}), from {} studies in places where the lists of the organisations that find victims could be compared.",
            a.multiplier.median, a.multiplier.lower, a.multiplier.upper, a.studies.len()
        ));
    } else if let Some(e) = primary(doc) {
        let iv = e.interval.as_ref();
        out.push(format!(
            "Between {} and {} people, most likely around {} ({}% interval); {} were identified.",
            people(iv.and_then(|i| i.lower).unwrap_or(f64::NAN)),
            people(iv.and_then(|i| i.upper).unwrap_or(f64::NAN)),
            people(e.population.unwrap_or(f64::NAN)),
            pct(iv.map_or(0.0, |i| i.level)),
            count(e.observed, thr)
        ));
        out.push(format!(
            "Estimated with {} ({}), interval: {}.",
            e.method,
            e.label,
            iv.map_or("none".into(), |i| i.kind.clone())
        ));
    } else {
        out.push("No method gave an estimate for these data; the warnings below say why.".into());
    }
    for t in &doc.totals {
        match (t.population, &t.interval) {
            (Some(p), Some(iv)) => out.push(format!(
                "Total over the strata ({}): between {} and {}, most likely around {}; {} were identified.",
                t.method,
                people(iv.lower.unwrap_or(f64::NAN)),
                people(iv.upper.unwrap_or(f64::NAN)),
                people(p),
                count(t.observed, thr)
            )),
            (Some(p), None) if t.warnings.is_empty() => out.push(format!("Total over the strata ({}): about {} (no interval).", t.method, people(p))),
            (Some(p), None) => out.push(format!("Total over the strata ({}): about {} (no interval: {}).", t.method, people(p), t.warnings.join("; "))),
            _ => out.push(format!("Total over the strata ({}): not given — {}.", t.method, t.warnings.join("; "))),
        }
    }
    out
}

fn warnings(doc: &ResultDoc) -> Vec<String> {
    let mut w: Vec<String> = doc.warnings.iter().map(|x| format!("Input: {x}")).collect();
    if let Some(e) = primary(doc) {
        if let Some((lo, hi)) = e.interval.as_ref().and_then(|i| Some((i.lower?, i.upper?))) {
            if lo > 0.0 && hi / lo > 3.0 {
                // in words: every number in the report is a number of the JSON
                w.push("Wide uncertainty: the upper end of the interval is more than three times the lower end; the lists do not pin the number down.".to_string());
            }
        }
    }
    let points: Vec<f64> = doc
        .estimates
        .iter()
        .filter(|e| e.status == Status::Ok)
        .filter_map(|e| e.population)
        .collect();
    if points.len() > 1 {
        let (lo, hi) = points
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
        if lo > 0.0 && hi / lo > 2.0 {
            w.push("Wide model uncertainty: the largest of the models' estimates is more than twice the smallest; they assume different things about how people come to be on the lists, and the data cannot tell which holds.".to_string());
        }
    }
    for e in &doc.estimates {
        if e.status != Status::Ok {
            w.push(format!(
                "{} {}: {}.",
                e.method,
                e.label,
                status_words(e.status)
            ));
        }
        w.extend(
            e.warnings
                .iter()
                .map(|x| format!("{} {}: {x}", e.method, e.label)),
        );
    }
    for s in &doc.strata {
        for e in &s.estimates {
            if e.status != Status::Ok {
                w.push(format!(
                    "Stratum {}: {} {}: {}.",
                    s.stratum,
                    e.method,
                    e.label,
                    status_words(e.status)
                ));
            }
        }
    }
    for t in &doc.totals {
        w.extend(
            t.warnings
                .iter()
                .map(|x| format!("Total ({}): {x}", t.method)),
        );
    }
    if let Some(a) = &doc.aggregate {
        w.extend(a.caveats.iter().cloned());
    }
    w
}

fn assumptions(doc: &ResultDoc) -> Vec<String> {
    let mut a = vec![
        "The population is closed over the period the lists cover: nobody enters or leaves it in a way that changes who could be listed.".to_string(),
        "Each model states how being on one list relates to being on another; the estimate is only as good as that statement. Models that disagree are shown side by side.".to_string(),
    ];
    let used = |id: &str| doc.estimates.iter().any(|e| e.method == id);
    if used("lcmcr") {
        a.push("Latent classes (lcmcr): people fall into hidden groups; within a group, being on one list does not change the chance of being on another. The number of groups is learned from the data, up to K. The answer is a posterior distribution found by simulation; its convergence checks are reported.".into());
    }
    if used("bayes-threshold") {
        a.push("Bayesian thresholding: how the lists overlap is described by pairwise associations; associations the data cannot tell from zero (|posterior mean/sd| below the threshold) are dropped and the rest kept.".into());
    }
    if used("dga") {
        a.push("Graphical model averaging (dga): list dependences are described by decomposable graphs, and the estimate averages over all of them, weighted by how well each fits.".into());
    }
    if let Some(g) = &doc.aggregate {
        a.extend(g.assumptions.iter().cloned());
    }
    a
}

struct Row {
    cells: Vec<String>,
}

fn estimate_rows(doc: &ResultDoc, thr: u64) -> (Vec<&'static str>, Vec<Row>) {
    let head = vec![
        "method",
        "model",
        "identified",
        "estimate",
        "lower",
        "upper",
        "level",
        "interval",
        "status",
    ];
    let mut rows = Vec::new();
    let mut push = |prefix: &str, e: &Estimate| {
        let iv = e.interval.as_ref();
        rows.push(Row {
            cells: vec![
                format!("{prefix}{}", e.method),
                e.label.clone(),
                count(e.observed, thr),
                e.population.map_or("—".into(), people),
                iv.and_then(|i| i.lower).map_or("—".into(), people),
                iv.and_then(|i| i.upper).map_or("—".into(), people),
                iv.map_or("—".into(), |i| format!("{}%", pct(i.level))),
                iv.map_or("—".into(), |i| i.kind.clone()),
                status_words(e.status)
                    .split(':')
                    .next()
                    .unwrap_or("")
                    .to_string(),
            ],
        });
    };
    for e in &doc.estimates {
        push("", e);
    }
    for s in &doc.strata {
        for e in &s.estimates {
            push(&format!("[{}] ", s.stratum), e);
        }
    }
    (head, rows)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Markdown report.
pub fn markdown(doc: &ResultDoc, thr: u64) -> String {
    let mut m = String::new();
    let title = doc
        .job
        .name
        .clone()
        .unwrap_or_else(|| "darkfigure estimate".into());
    let _ = writeln!(m, "# {title}\n");
    for s in summary(doc, thr) {
        let _ = writeln!(m, "{s}\n");
    }
    let _ = writeln!(m, "## Assumptions\n");
    for a in assumptions(doc) {
        let _ = writeln!(m, "- {a}");
    }
    let w = warnings(doc);
    let _ = writeln!(m, "\n## Warnings\n");
    if w.is_empty() {
        let _ = writeln!(m, "None.");
    }
    for x in w {
        let _ = writeln!(m, "- {x}");
    }
    if let Some(a) = &doc.aggregate {
        let _ = writeln!(
            m,
            "\n## Studies behind the multiplier\n\n| study | source | identified | multiplier | lower | upper | reference |\n|---|---|---|---|---|---|---|"
        );
        for s in &a.studies {
            let _ = writeln!(
                m,
                "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {} |",
                s.name,
                s.source,
                s.observed.map_or("—".into(), |n| count(n, thr)),
                s.multiplier,
                s.lower,
                s.upper,
                s.citation
            );
        }
        let _ = writeln!(
            m,
            "\n## Sensitivity\n\n| scenario | total | lower | upper | children | lower | upper |\n|---|---|---|---|---|---|---|"
        );
        for r in &a.sensitivity {
            let c = r.children.as_ref();
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.scenario,
                people(r.total.median),
                people(r.total.lower),
                people(r.total.upper),
                c.map_or("—".into(), |c| people(c.median)),
                c.map_or("—".into(), |c| people(c.lower)),
                c.map_or("—".into(), |c| people(c.upper))
            );
        }
    }
    let (head, rows) = estimate_rows(doc, thr);
    let _ = writeln!(
        m,
        "\n## Method notes\n\n| {} |\n|{}|",
        head.join(" | "),
        head.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
    for r in rows {
        let _ = writeln!(m, "| {} |", r.cells.join(" | "));
    }
    let _ = writeln!(
        m,
        "\n## Reproduce\n\ndarkfigure {}, seed {}.\n\n```json\n{}\n```",
        doc.version,
        doc.job.seed.map_or("none".into(), |s| s.to_string()),
        serde_json::to_string_pretty(&doc.job).unwrap_or_default()
    );
    m
}

/// The self-contained HTML report.
pub fn html(doc: &ResultDoc, thr: u64) -> String {
    let mut h = String::new();
    let title = esc(&doc
        .job
        .name
        .clone()
        .unwrap_or_else(|| "darkfigure estimate".into()));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>\
body{{font-family:sans-serif;max-width:900px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}}\
h1{{font-size:1.6em}} .headline{{font-size:1.25em;background:#eef3f8;border-left:5px solid #1f4e79;padding:.6em 1em}}\
table{{border-collapse:collapse;font-size:.85em;margin:1em 0}} td,th{{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:right}}\
td:first-child,th:first-child,td:nth-child(2){{text-align:left}} .warn li{{color:#8a3a00}} pre{{background:#f6f6f6;padding:1em;overflow:auto;font-size:.75em}}\
</style></head><body>\n<h1>{title}</h1>\n"
    );
    let sum = summary(doc, thr);
    if let Some((first, rest)) = sum.split_first() {
        let _ = writeln!(h, "<p class=\"headline\">{}</p>", esc(first));
        for s in rest {
            let _ = writeln!(h, "<p>{}</p>", esc(s));
        }
    }
    // pictures
    if let Some(a) = &doc.aggregate {
        let mut rows: Vec<ForestRow> = a
            .studies
            .iter()
            .map(|s| ForestRow {
                label: s.name.clone(),
                point: Some(s.multiplier),
                lower: Some(s.lower),
                upper: Some(s.upper),
                diamond: false,
            })
            .collect();
        rows.push(ForestRow {
            label: "a place without a study".into(),
            point: Some(a.multiplier.median),
            lower: Some(a.multiplier.lower),
            upper: Some(a.multiplier.upper),
            diamond: true,
        });
        let _ = writeln!(
            h,
            "<figure>{}</figure>",
            forest(
                "Dark-figure multiplier (total / identified) by study, and pooled",
                &rows,
                true
            )
        );
    }
    let erows: Vec<ForestRow> = doc
        .estimates
        .iter()
        .map(|e| ForestRow {
            label: format!("{} {}", e.method, e.label)
                .chars()
                .take(34)
                .collect(),
            point: e.population,
            lower: e.interval.as_ref().and_then(|i| i.lower),
            upper: e.interval.as_ref().and_then(|i| i.upper),
            diamond: false,
        })
        .collect();
    if !erows.is_empty() {
        let _ = writeln!(
            h,
            "<figure>{}</figure>",
            forest("Estimated total by method, with intervals", &erows, true)
        );
    }
    if !doc.strata.is_empty() {
        let mut rows: Vec<ForestRow> = doc
            .strata
            .iter()
            .filter_map(|s| s.estimates.first().map(|e| (s, e)))
            .map(|(s, e)| ForestRow {
                label: format!("{} ({})", s.stratum, e.method),
                point: e.population,
                lower: e.interval.as_ref().and_then(|i| i.lower),
                upper: e.interval.as_ref().and_then(|i| i.upper),
                diamond: false,
            })
            .collect();
        if let Some(t) = doc.totals.first() {
            rows.push(ForestRow {
                label: format!("total ({})", t.method),
                point: t.population,
                lower: t.interval.as_ref().and_then(|i| i.lower),
                upper: t.interval.as_ref().and_then(|i| i.upper),
                diamond: true,
            });
        }
        let _ = writeln!(
            h,
            "<figure>{}</figure>",
            forest("Strata and their total", &rows, true)
        );
    }
    let draws: Option<(Vec<(f64, f64)>, Option<f64>, Option<f64>, String)> = doc
        .totals
        .iter()
        .find(|t| !t.values.is_empty())
        .map(|t| {
            (
                t.values.iter().flatten().map(|&x| (x, 1.0)).collect(),
                t.interval.as_ref().and_then(|i| i.lower),
                t.interval.as_ref().and_then(|i| i.upper),
                if t.interval
                    .as_ref()
                    .is_some_and(|i| i.kind.starts_with("posterior"))
                {
                    format!("Posterior draws of the total ({})", t.method)
                } else {
                    format!("Bootstrap draws of the total ({})", t.method)
                },
            )
        })
        .or_else(|| {
            primary(doc).and_then(|e| {
                e.bootstrap.as_ref().map(|b| {
                    (
                        b.values.iter().flatten().map(|&x| (x, 1.0)).collect(),
                        e.interval.as_ref().and_then(|i| i.lower),
                        e.interval.as_ref().and_then(|i| i.upper),
                        format!("Bootstrap draws of N̂ ({} {})", e.method, e.label),
                    )
                })
            })
        })
        .or_else(|| {
            primary(doc).and_then(|e| {
                e.draws.as_ref().filter(|d| !d.values.is_empty()).map(|d| {
                    (
                        d.values.iter().map(|&x| (x, 1.0)).collect(),
                        e.interval.as_ref().and_then(|i| i.lower),
                        e.interval.as_ref().and_then(|i| i.upper),
                        format!("Posterior draws of N ({} {})", e.method, e.label),
                    )
                })
            })
        })
        .or_else(|| {
            // an exact posterior (dga): of the strata's total, else of the estimate
            let total = doc.totals.iter().find_map(|t| {
                let pmf = t.draws.as_ref()?.exact.as_ref()?;
                Some((
                    pmf,
                    t.interval.as_ref(),
                    format!("Exact posterior of the total ({})", t.method),
                ))
            });
            let single = || {
                primary(doc).and_then(|e| {
                    let pmf = e.draws.as_ref()?.exact.as_ref()?;
                    Some((
                        pmf,
                        e.interval.as_ref(),
                        format!("Exact posterior of N ({} {})", e.method, e.label),
                    ))
                })
            };
            total.or_else(single).map(|(pmf, iv, title)| {
                // the central 99.98% of the mass, about the span of 10,000 draws: the 1e-13
                // tails kept for sums would squeeze the bulk into a few bins
                let shown = pmf.clone().trimmed(1e-4);
                (
                    shown
                        .probs
                        .iter()
                        .enumerate()
                        .map(|(i, &p)| ((shown.first + i as u64) as f64, p))
                        .collect(),
                    iv.and_then(|i| i.lower),
                    iv.and_then(|i| i.upper),
                    title,
                )
            })
        });
    if let Some((v, lo, hi, t)) = draws {
        let _ = writeln!(h, "<figure>{}</figure>", histogram(&t, &v, lo, hi));
    }
    let _ = writeln!(h, "<h2>Assumptions</h2><ul>");
    for a in assumptions(doc) {
        let _ = writeln!(h, "<li>{}</li>", esc(&a));
    }
    let _ = writeln!(h, "</ul><h2>Warnings</h2><ul class=\"warn\">");
    let w = warnings(doc);
    if w.is_empty() {
        let _ = writeln!(h, "<li>None.</li>");
    }
    for x in w {
        let _ = writeln!(h, "<li>{}</li>", esc(&x));
    }
    let _ = writeln!(h, "</ul>");
    if let Some(a) = &doc.aggregate {
        let _ = writeln!(
            h,
            "<h2>Studies behind the multiplier</h2><table><tr><th>study</th><th>source</th><th>identified</th><th>multiplier</th><th>lower</th><th>upper</th></tr>"
        );
        for s in &a.studies {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
                esc(&s.name),
                s.source,
                s.observed.map_or("—".into(), |n| count(n, thr)),
                s.multiplier,
                s.lower,
                s.upper
            );
        }
        let _ = writeln!(h, "</table><ul>");
        for s in &a.studies {
            let _ = writeln!(h, "<li>{}: {}</li>", esc(&s.name), esc(&s.citation));
        }
        let _ = writeln!(
            h,
            "</ul><h2>Sensitivity</h2><table><tr><th>scenario</th><th>total</th><th>lower</th><th>upper</th><th>children</th><th>lower</th><th>upper</th></tr>"
        );
        for r in &a.sensitivity {
            let c = r.children.as_ref();
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.scenario),
                people(r.total.median),
                people(r.total.lower),
                people(r.total.upper),
                c.map_or("—".into(), |c| people(c.median)),
                c.map_or("—".into(), |c| people(c.lower)),
                c.map_or("—".into(), |c| people(c.upper))
            );
        }
        let _ = writeln!(h, "</table>");
    }
    let (head, rows) = estimate_rows(doc, thr);
    let _ = write!(h, "<h2>Method notes</h2><table><tr>");
    for c in head {
        let _ = write!(h, "<th>{c}</th>");
    }
    let _ = writeln!(h, "</tr>");
    for r in rows {
        let _ = write!(h, "<tr>");
        for c in r.cells {
            let _ = write!(h, "<td>{}</td>", esc(&c));
        }
        let _ = writeln!(h, "</tr>");
    }
    let _ = writeln!(
        h,
        "</table><h2>Reproduce</h2><p>darkfigure {}, seed {}. The job:</p><pre>{}</pre></body></html>",
        doc.version,
        doc.job.seed.map_or("none".into(), |s| s.to_string()),
        esc(&serde_json::to_string_pretty(&doc.job).unwrap_or_default())
    );
    h
}
