//! Terminal tables in the manner of R's print methods: one row per estimate with N̂, its
//! standard error, interval, deviance, df, AIC, BIC and status; then the warnings. Also
//! the text of `describe`. Counts of identified people are shown as `model::identified`
//! decides, the same as in the report.

use super::format::{count, people, percent};
use crate::data::describe::Description;
use crate::job::ResultDoc;
use crate::methods::{Estimate, Status};
use std::fmt::Write;

fn num(x: Option<f64>, digits: usize) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => "NA".into(),
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::NotConverged => "not converged",
        Status::MleDoesNotExist => "MLE does not exist",
        Status::NotIdentifiable => "not identifiable",
        Status::Infinite => "infinite",
        Status::Failed => "failed",
    }
}

fn pad_table(rows: &[Vec<String>], left_cols: usize) -> String {
    let ncol = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut w = vec![0; ncol];
    for r in rows {
        for (j, c) in r.iter().enumerate() {
            w[j] = w[j].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (j, c) in r.iter().enumerate() {
            let pad = w[j] - c.chars().count();
            if j < left_cols {
                line.push_str(c);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(&" ".repeat(pad));
                line.push_str(c);
            }
            line.push_str("  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The global extrapolation: headline, studies, pooling, sensitivity, assumptions, caveats.
pub fn render_aggregate(a: &crate::aggregate::global::AggregateResult) -> String {
    use crate::aggregate::global::Count;
    let mut out = String::new();
    let pct = percent(a.total.level);
    let ident = match a.identified.total {
        Count::Exact(x) => people(x),
        Count::Range { lower, upper } => format!("{} to {}", people(lower), people(upper)),
    };
    let _ = writeln!(
        out,
        "\nBetween {} and {} people ({pct}% interval), most likely around {}; {ident} were identified.",
        people(a.total.lower),
        people(a.total.upper),
        people(a.total.median)
    );
    if let (Some(c), Some(ci)) = (&a.children, &a.identified.children) {
        let cid = match ci {
            Count::Exact(x) => people(*x),
            Count::Range { lower, upper } => format!("{} to {}", people(*lower), people(*upper)),
        };
        let _ = writeln!(
            out,
            "Children: between {} and {}, most likely around {}; {cid} were identified.",
            people(c.lower),
            people(c.upper),
            people(c.median)
        );
    }
    let _ = writeln!(
        out,
        "Multiplier for a place without its own study: {:.2} ({:.2} to {:.2}).",
        a.multiplier.median, a.multiplier.lower, a.multiplier.upper
    );
    let _ = writeln!(out, "\nStudies (multiplier = total / identified):");
    let mut rows = vec![vec![
        "study".to_string(),
        "source".into(),
        "identified".into(),
        "multiplier".into(),
        "lower".into(),
        "upper".into(),
    ]];
    for s in &a.studies {
        rows.push(vec![
            s.name.clone(),
            s.source.clone(),
            s.observed.map_or("-".into(), |n| count(n, 5)),
            format!("{:.2}", s.multiplier),
            format!("{:.2}", s.lower),
            format!("{:.2}", s.upper),
        ]);
    }
    out.push_str(&pad_table(&rows, 2));
    let p = &a.pooled;
    let _ = writeln!(
        out,
        "\nPooled ({:?}): log M = {:.3} (se {:.3}), tau^2 = {:.3}, Q = {:.2} on {} df, I^2 = {:.0}%",
        p.method,
        p.mu,
        p.se,
        p.tau2,
        p.q,
        p.df,
        100.0 * p.i2
    );
    let _ = writeln!(out, "\nSensitivity (total; children):");
    let mut rows = vec![vec![
        "scenario".to_string(),
        "total".into(),
        "lower".into(),
        "upper".into(),
        "children".into(),
        "lower".into(),
        "upper".into(),
    ]];
    for r in &a.sensitivity {
        let (c, cl, cu) = r
            .children
            .as_ref()
            .map_or(("-".to_string(), "-".to_string(), "-".to_string()), |c| {
                (people(c.median), people(c.lower), people(c.upper))
            });
        rows.push(vec![
            r.scenario.clone(),
            people(r.total.median),
            people(r.total.lower),
            people(r.total.upper),
            c,
            cl,
            cu,
        ]);
    }
    out.push_str(&pad_table(&rows, 1));
    let _ = writeln!(out, "\nAssumptions:");
    for x in &a.assumptions {
        let _ = writeln!(out, "  - {x}");
    }
    let _ = writeln!(out, "\nCaveats:");
    for x in &a.caveats {
        let _ = writeln!(out, "  - {x}");
    }
    out
}

/// The estimates table and warnings of a result.
pub fn render_result(doc: &ResultDoc) -> String {
    let mut out = String::new();
    if let Some(a) = &doc.aggregate {
        out.push_str(&render_aggregate(a));
        let _ = writeln!(out, "\nThe table estimated with the job's methods:");
    }
    let ids = super::model::identified(doc, doc.job.suppress_below());
    let _ = writeln!(out, "\nNumber of captured units: {}", ids.total);
    if !doc.data.lists.is_empty() {
        let _ = writeln!(
            out,
            "Lists ({}): {}",
            doc.data.lists.len(),
            doc.data.lists.join(", ")
        );
    }
    let _ = writeln!(out, "\nAbundance estimations and model fits:");
    let mut rows = vec![vec![
        "model".to_string(),
        "abundance".into(),
        "stderr".into(),
        "lower".into(),
        "upper".into(),
        "deviance".into(),
        "df".into(),
        "AIC".into(),
        "BIC".into(),
        "interval".into(),
        "status".into(),
    ]];
    let mut kinds: Vec<String> = Vec::new();
    for e in &doc.estimates {
        rows.push(row(e, &ids));
        if let Some(iv) = &e.interval {
            let k = format!("{}% {}", percent(iv.level), iv.kind);
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
    }
    out.push_str(&pad_table(&rows, 1));
    for (st, shown) in doc.strata.iter().zip(&ids.strata) {
        let _ = writeln!(out, "\nStratum {} ({} identified):", st.stratum, shown);
        let mut r = vec![rows[0].clone()];
        r.extend(st.estimates.iter().map(|e| row(e, &ids)));
        out.push_str(&pad_table(&r, 1));
    }
    if !doc.totals.is_empty() {
        let _ = writeln!(
            out,
            "\nTotal over the {} strata (from the strata's draws or posteriors, never interval ends added up):",
            doc.strata.len()
        );
        let mut r = vec![vec![
            "method".to_string(),
            "identified".into(),
            "total".into(),
            "lower".into(),
            "upper".into(),
            "status".into(),
            "interval from".into(),
        ]];
        let people = |x| estimated(x, &ids);
        for t in &doc.totals {
            let (lo, hi) = t
                .interval
                .as_ref()
                .map_or(("NA".to_string(), "NA".to_string()), |iv| {
                    (people(iv.lower), people(iv.upper))
                });
            r.push(vec![
                t.method.clone(),
                ids.total.clone(),
                people(t.population),
                lo,
                hi,
                t.status.clone(),
                total_source(t.interval.as_ref()).into(),
            ]);
        }
        out.push_str(&pad_table(&r, 1));
        for t in &doc.totals {
            for w in &t.warnings {
                let _ = writeln!(out, "  total {}: {w}", t.method);
            }
        }
    }
    if !kinds.is_empty() {
        let _ = writeln!(
            out,
            "\nIntervals: {} (profile = multinomial profile likelihood, Rcapture closedpCI; wald-log = Wald on log(N - n), SparseMSE; log-normal = Chao 1987)",
            kinds.join("; ")
        );
    }
    let mut any = false;
    for w in &doc.warnings {
        if !any {
            let _ = writeln!(out, "\nWarnings:");
            any = true;
        }
        let _ = writeln!(out, "  input: {w}");
    }
    for e in &doc.estimates {
        for w in &e.warnings {
            if !any {
                let _ = writeln!(out, "\nWarnings:");
                any = true;
            }
            let _ = writeln!(out, "  {} {}: {w}", e.method, e.label);
        }
    }
    out
}

/// N̂ or a limit to one decimal; below the suppression threshold "<thr", as in the report
/// (a limit at n would give a small count away).
fn estimated(x: Option<f64>, ids: &super::model::Identified) -> String {
    match x {
        Some(v) if ids.small(v) => ids.people(v),
        _ => num(x, 1),
    }
}

/// One estimate's row.
fn row(e: &Estimate, ids: &super::model::Identified) -> Vec<String> {
    let people = |x| estimated(x, ids);
    // Rcapture's models are known by their labels alone (`Mh Chao (LB)`).
    let label = if let Ok(crate::methods::MethodId::Closed(_)) =
        crate::methods::MethodId::parse(&e.method)
    {
        e.label.clone()
    } else {
        format!("{} {}", e.method, e.label)
    };
    let (lo, hi) = match &e.interval {
        Some(iv) => (
            people(iv.lower),
            iv.upper.map_or("none".to_string(), |u| people(Some(u))),
        ),
        None => ("NA".into(), "NA".into()),
    };
    let f = e.fit.as_ref();
    vec![
        label,
        people(e.population),
        num(e.std_error, 1),
        lo,
        hi,
        num(f.map(|x| x.deviance), 3),
        f.map_or("NA".into(), |x| x.df.to_string()),
        num(f.map(|x| x.aic), 3),
        num(f.map(|x| x.bic), 3),
        e.interval
            .as_ref()
            .map_or("-".to_string(), |iv| iv.kind.to_string()),
        status_word(e.status).into(),
    ]
}

/// The text of `describe`.
pub fn render_description(name: &str, d: &Description) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{name}");
    if d.list_names.is_empty() {
        let _ = writeln!(out, "Frequency data: {} observed", d.observed);
        if d.lists > 0 {
            let _ = writeln!(out, "Occasions: {}", d.lists);
        }
    } else {
        let _ = writeln!(out, "Lists: {} ({})", d.lists, d.list_names.join(", "));
        let _ = writeln!(out, "Observed: {}", d.observed);
        match d.possible_cells {
            Some(p) => {
                let _ = writeln!(
                    out,
                    "Non-empty cells: {} of {p} observable histories",
                    d.nonempty_cells
                );
            }
            None => {
                let _ = writeln!(out, "Non-empty cells: {}", d.nonempty_cells);
            }
        }
        let _ = writeln!(out, "\nList sizes:");
        let rows: Vec<Vec<String>> = d
            .list_names
            .iter()
            .zip(&d.list_sizes)
            .map(|(n, s)| vec![format!("  {n}"), s.to_string()])
            .collect();
        out.push_str(&pad_table(&rows, 1));
        if d.lists <= 12 {
            let _ = writeln!(out, "\nPairwise overlaps (people on both lists):");
            let k = d.lists;
            let mut m = vec![vec![String::new(); k + 1]; k + 1];
            m[0][0] = String::new();
            for i in 0..k {
                m[0][i + 1] = d.list_names[i].clone();
                m[i + 1][0] = format!("  {}", d.list_names[i]);
                m[i + 1][i + 1] = "-".into();
            }
            let mut idx = 0;
            for i in 0..k {
                for j in i + 1..k {
                    let b = d.pairs[idx].both.to_string();
                    idx += 1;
                    m[i + 1][j + 1] = b.clone();
                    m[j + 1][i + 1] = b;
                }
            }
            out.push_str(&pad_table(&m, 1));
        }
        let _ = writeln!(
            out,
            "\nPairs that never overlap: {} of {}{}",
            d.empty_pairs.len(),
            d.pairs.len(),
            if d.empty_pairs.is_empty() {
                String::new()
            } else {
                format!(": {}", d.empty_pairs.join(", "))
            }
        );
    }
    let f: Vec<String> = d
        .frequencies
        .iter()
        .enumerate()
        .map(|(i, c)| format!("f{}={c}", i + 1))
        .collect();
    let _ = writeln!(out, "\nFrequencies of capture: {}", f.join(" "));
    out
}

/// How a total's interval was formed, in words.
fn total_source(iv: Option<&crate::methods::Interval>) -> &'static str {
    use crate::inference::Construction::*;
    match iv.map(|i| i.kind) {
        Some(BootstrapPercentileOfSum) => "bootstrap draws summed replicate by replicate",
        Some(PosteriorQuantilesOfSum) => "posterior draws summed draw by draw",
        Some(ExactPosteriorOfSum) => "exact posteriors convolved",
        _ => "-",
    }
}
