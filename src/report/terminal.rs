//! Terminal tables in the manner of R's print methods: one row per estimate with N̂, its
//! standard error, interval, deviance, df, AIC, BIC and status; then the warnings. Also
//! the text of `describe`. What may be shown of the counts of identified people and of the
//! figures worked out from them is `disclose`'s to decide, the same as in the report, at
//! the job's threshold.

use super::calibration;
use super::disclose::{self, Plan, mask_numbers};
use super::format::{multiplier, people, percent};
use crate::data::describe::Description;
use crate::job::ResultDoc;
use crate::methods::{Estimate, Status};
use crate::study::calibrate::Calibration;
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

/// The global extrapolation: headline, studies, pooling, sensitivity, assumptions, caveats;
/// the figures drawn from a small identified count withheld.
pub fn render_aggregate(doc: &ResultDoc, plan: &Plan) -> String {
    let Some(a) = &doc.aggregate else {
        return String::new();
    };
    let thr = plan.threshold();
    let (total, children) = match &plan.aggregate {
        Some(p) => (
            (p.total.identified.clone(), p.total.figures),
            p.children
                .as_ref()
                .map(|c| (c.identified.clone(), c.figures)),
        ),
        None => (("-".into(), false), None),
    };
    let mut out = String::new();
    let pct = percent(a.total.level);
    let (ident, shown) = &total;
    if *shown {
        let _ = writeln!(
            out,
            "\nBetween {} and {} people ({pct}% interval), most likely around {}; {ident} were identified.",
            people(a.total.lower),
            people(a.total.upper),
            people(a.total.median)
        );
    } else {
        let _ = writeln!(
            out,
            "\n{ident} were identified. The estimated total is not shown: it is that count times the multiplier, and would give a count below {thr} away."
        );
    }
    if let (Some(c), Some((cid, cshown))) = (&a.children, &children) {
        if *cshown {
            let _ = writeln!(
                out,
                "Children: between {} and {}, most likely around {}; {cid} were identified.",
                people(c.lower),
                people(c.upper),
                people(c.median)
            );
        } else {
            let _ = writeln!(
                out,
                "Children: {cid} were identified; their estimated number is not shown, as it would give a count below {thr} away."
            );
        }
    }
    let _ = writeln!(
        out,
        "Multiplier for a place without its own study: {:.2} ({:.2} to {:.2}).",
        a.multiplier.median, a.multiplier.lower, a.multiplier.upper
    );
    let _ = writeln!(
        out,
        "\nStudies ({pct}% intervals; multiplier = estimate / identified, its limits the estimate's / identified):"
    );
    let mut rows = vec![
        [
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
        ]
        .map(String::from)
        .to_vec(),
    ];
    for (i, s) in a.studies.iter().enumerate() {
        let mut row = vec![s.name.clone(), s.source.clone()];
        row.extend(plan.study(i, s, "-"));
        row.extend([
            multiplier(s.multiplier),
            multiplier(s.lower),
            multiplier(s.upper),
            s.kind.to_string(),
        ]);
        rows.push(row);
    }
    out.push_str(&pad_table(&rows, 2));
    let p = &a.pooled;
    let _ = writeln!(
        out,
        "\nPooled ({}): log M = {:.3} (se {:.3}), tau^2 = {:.3}, Q = {:.2} on {} df, I^2 = {:.0}%",
        crate::aggregate::global::pooling_name(p.method),
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
    let three = |s: &crate::aggregate::global::Summary, shown: bool| {
        if shown {
            [people(s.median), people(s.lower), people(s.upper)]
        } else {
            ["withheld".to_string(), "-".into(), "-".into()]
        }
    };
    for r in &a.sensitivity {
        let mut row = vec![crate::aggregate::global::row_name(r)];
        match &r.total {
            Some(t) => row.extend(three(t, total.1)),
            None => row.extend(["-".to_string(), "-".into(), "-".into()]),
        }
        match &r.children {
            Some(c) => row.extend(three(c, children.as_ref().is_none_or(|c| c.1))),
            None => row.extend(["-".to_string(), "-".into(), "-".into()]),
        }
        rows.push(row);
    }
    out.push_str(&pad_table(&rows, 1));
    let _ = writeln!(out, "\nAssumptions:");
    for x in &a.assumptions {
        let _ = writeln!(out, "  - {}", disclose::aggregate_words(doc, plan, x));
    }
    let _ = writeln!(out, "\nCaveats:");
    for x in &a.caveats {
        let _ = writeln!(out, "  - {}", disclose::aggregate_words(doc, plan, x));
    }
    out
}

/// The estimates table and warnings of a result, at the job's threshold.
pub fn render_result(doc: &ResultDoc) -> String {
    let plan = disclose::plan(doc, doc.job.suppress_below());
    let mut out = String::new();
    if doc.aggregate.is_some() {
        out.push_str(&render_aggregate(doc, &plan));
        let _ = writeln!(out, "\nThe table estimated with the job's methods:");
    }
    let whole = plan.whole();
    let _ = writeln!(out, "\nNumber of captured units: {}", whole.identified);
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
    for (j, e) in doc.estimates.iter().enumerate() {
        rows.push(row(e, plan.estimate(j).figures));
        if let Some(iv) = &e.interval {
            let k = format!("{}% {}", percent(iv.level), iv.kind);
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
    }
    out.push_str(&pad_table(&rows, 1));
    for (i, st) in doc.strata.iter().enumerate() {
        let _ = writeln!(
            out,
            "\nStratum {} ({} identified):",
            st.stratum,
            plan.stratum(i).identified
        );
        let mut r = vec![rows[0].clone()];
        r.extend(
            st.estimates
                .iter()
                .enumerate()
                .map(|(j, e)| row(e, plan.stratum_estimate(i, j).figures)),
        );
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
        let people = |x| num(x, 1);
        for t in &doc.totals {
            let (lo, hi) = t
                .interval
                .as_ref()
                .map_or(("NA".to_string(), "NA".to_string()), |iv| {
                    (people(iv.lower), people(iv.upper))
                });
            r.push(if whole.figures {
                vec![
                    t.method.clone(),
                    whole.identified.clone(),
                    num(t.population, 1),
                    lo,
                    hi,
                    t.status.clone(),
                    total_source(t.interval.as_ref()).into(),
                ]
            } else {
                vec![
                    t.method.clone(),
                    whole.identified.clone(),
                    "withheld".into(),
                    "-".into(),
                    "-".into(),
                    t.status.clone(),
                    total_source(t.interval.as_ref()).into(),
                ]
            });
        }
        out.push_str(&pad_table(&r, 1));
        for t in &doc.totals {
            for w in &t.warnings {
                let w = if whole.figures {
                    w.clone()
                } else {
                    mask_numbers(w)
                };
                let _ = writeln!(out, "  total {}: {w}", t.method);
            }
        }
    }
    if !kinds.is_empty() {
        let _ = writeln!(
            out,
            "\nIntervals: {} (profile = multinomial profile likelihood, Rcapture closedpCI; wald-log = Wald on log(N - n), SparseMSE; log-normal = Chao 1987{})",
            kinds.join("; "),
            if kinds.iter().any(|k| k.contains("log-normal-bootstrap-se")) {
                "; log-normal-bootstrap-se = Chao 1987 with the bootstrap s.e., CARE1"
            } else {
                ""
            }
        );
    }
    for (j, e) in doc.estimates.iter().enumerate() {
        if !plan.estimate(j).figures {
            continue;
        }
        if let Some(groups) = disclose::marginal_groups(e, plan.threshold()) {
            let _ = writeln!(
                out,
                "\nPeople by times recorded, seen and fitted ({} {}; groups of at least {} people):",
                e.method,
                e.label,
                plan.threshold()
            );
            let mut r = vec![vec![
                "times".to_string(),
                "observed".into(),
                "fitted".into(),
            ]];
            r.extend(groups.into_iter().map(|g| g.to_vec()));
            out.push_str(&pad_table(&r, 1));
        }
    }
    let mut any = false;
    for w in &doc.warnings {
        if !any {
            let _ = writeln!(out, "\nWarnings:");
            any = true;
        }
        let _ = writeln!(out, "  input: {w}");
    }
    for (j, e) in doc.estimates.iter().enumerate() {
        let shown = plan.estimate(j).figures;
        for w in &e.warnings {
            if !any {
                let _ = writeln!(out, "\nWarnings:");
                any = true;
            }
            let w = if shown { w.clone() } else { mask_numbers(w) };
            let _ = writeln!(out, "  {} {}: {w}", e.method, e.label);
        }
    }
    if plan.hides_anything() {
        let _ = writeln!(out, "\n{}", plan.note());
    }
    if let Some(c) = &doc.calibration {
        out.push_str(&render_calibration(doc, &plan, c));
    }
    out
}

/// The calibration: every procedure on the datasets of every generator (coverage of the
/// 80, 90 and 95% intervals with its standard error, the median width and the bias), the
/// generators that could not be built, and the sentence the report opens its section with.
fn render_calibration(doc: &ResultDoc, plan: &Plan, c: &Calibration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nCalibration: {} datasets simulated from each model fitted to these data, every method run on each:",
        c.replicates
    );
    let mut rows = vec![vec![
        "data simulated from".to_string(),
        "procedure".into(),
        "true N".into(),
        "estimated %".into(),
        "bias %".into(),
    ]];
    for l in &c.levels {
        rows[0].push(format!("cover {}% ± se", percent(*l)));
    }
    rows[0].push("width 95% (×N)".into());
    let one = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.1}", 100.0 * v));
    for r in &c.table {
        let s = &r.summary;
        let truth = c
            .generators
            .iter()
            .find(|g| g.name == r.generator)
            .map_or("-".into(), |g| calibration::true_number(g.population, plan));
        let mut row = vec![
            r.generator.clone(),
            s.procedure.clone(),
            truth,
            one(Some(s.with_estimate as f64 / s.replicates.max(1) as f64)),
            one(s.relative_bias),
        ];
        for v in &s.coverage {
            row.push(match (v.rate, v.std_error) {
                (Some(r), Some(se)) => format!("{:.1} ± {:.1}", 100.0 * r, 100.0 * se),
                _ => "-".into(),
            });
        }
        row.push(
            s.coverage
                .last()
                .and_then(|v| v.median_relative_width)
                .map_or("-".into(), |w| format!("{w:.3}")),
        );
        rows.push(row);
    }
    if c.table.is_empty() {
        let _ = writeln!(out, "  (no model to simulate from)");
    } else {
        out.push_str(&pad_table(&rows, 2));
    }
    for s in &c.skipped {
        let _ = writeln!(out, "Not simulated from the {}: {}.", s.name, s.reason);
    }
    for g in &c.generators {
        if let Some(f) = &g.latent {
            for n in &f.notes {
                let _ = writeln!(out, "The {}: {n}.", g.name);
            }
        }
    }
    if let Some(p) = calibration::procedure(doc, plan, c) {
        let _ = writeln!(out);
        for s in calibration::sentences(c, &p, calibration::level(doc, plan)) {
            let _ = writeln!(out, "{s}");
        }
    }
    out
}

/// One estimate's row; with `figures` false only its name, interval kind and status.
fn row(e: &Estimate, figures: bool) -> Vec<String> {
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
            num(iv.lower, 1),
            iv.upper.map_or("none".to_string(), |u| format!("{u:.1}")),
        ),
        None => ("NA".into(), "NA".into()),
    };
    let f = e.fit.as_ref();
    if !figures {
        let n = if e.population.is_some() {
            "withheld"
        } else {
            "NA"
        };
        let mut r = vec![label, n.into()];
        r.extend(std::iter::repeat_n("-".to_string(), 7));
        r.push(
            e.interval
                .as_ref()
                .map_or("-".to_string(), |iv| iv.kind.to_string()),
        );
        r.push(status_word(e.status).into());
        return r;
    }
    vec![
        label,
        num(e.population, 1),
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

/// The text of `describe`, counts below `thr` hidden as `disclose::describe` decides;
/// `None` shows every count (`--show-small`, the researcher's view of their own data).
pub fn render_description(name: &str, d: &Description, thr: Option<u64>) -> String {
    let shown = disclose::describe(d, thr);
    let mut out = String::new();
    let _ = writeln!(out, "{name}");
    if d.list_names.is_empty() {
        let _ = writeln!(out, "Frequency data: {} observed", shown.observed);
        if d.lists > 0 {
            let _ = writeln!(out, "Occasions: {}", d.lists);
        }
    } else {
        let _ = writeln!(out, "Lists: {} ({})", d.lists, d.list_names.join(", "));
        let _ = writeln!(out, "Observed: {}", shown.observed);
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
            .zip(&shown.list_sizes)
            .map(|(n, s)| vec![format!("  {n}"), s.clone()])
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
                    let b = shown.pairs.get(idx).cloned().unwrap_or_default();
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
            shown.empty_pairs.len(),
            d.pairs.len(),
            if shown.empty_pairs.is_empty() {
                String::new()
            } else {
                format!(": {}", shown.empty_pairs.join(", "))
            }
        );
    }
    let f: Vec<String> = shown
        .frequencies
        .iter()
        .enumerate()
        .map(|(i, c)| format!("f{}={c}", i + 1))
        .collect();
    let _ = writeln!(out, "\nFrequencies of capture: {}", f.join(" "));
    if let (Some(t), true) = (thr, shown.hides_anything) {
        let _ = writeln!(
            out,
            "\nCounts below {t} are shown as <{t}, and ≥{t} marks a count withheld because it would give a small one away; --show-small shows them all (the JSON has them all)."
        );
    }
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
