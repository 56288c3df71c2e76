//! The policymaker's report as a document tree, built once from a `ResultDoc`: a title, a
//! lead (the plain-language summary and the pictures) and headed sections of paragraphs,
//! lists, tables and figures. Every word of the report and every choice of what to show are
//! decided here, so the two renderings, `html` and `markdown`, only lay the tree out and
//! cannot disagree. What may be shown of the counts of identified people, and of the figures
//! worked out from them, is `disclose`'s to decide; every count and figure passes through
//! its `Plan`. Every number shown comes from the result JSON.

use super::calibration;
use super::disclose::{self, Plan, mask_numbers};
use super::format::{multiplier, people, percent};
use super::svg::ForestRow;
use crate::aggregate::global::{self, AggregateResult};
use crate::job::ResultDoc;
use crate::methods::{Estimate, MethodId, Status};
use crate::study::calibrate::Calibration;

/// The whole report.
pub struct Report {
    /// The job's name, or a generic title.
    pub title: String,
    /// Before any heading: the summary sentences, then the pictures.
    pub lead: Vec<Block>,
    /// Headed sections in groups that belong together: what the estimate rests on, the
    /// studies behind a multiplier, the technical notes. The HTML writes a line per group.
    pub groups: Vec<Vec<Section>>,
}

/// A headed section.
pub struct Section {
    /// The heading.
    pub heading: String,
    /// What stands under it.
    pub blocks: Vec<Block>,
}

/// One piece of content.
pub enum Block {
    /// The sentence to take away, set apart from the rest.
    Headline(String),
    /// Plain text.
    Paragraph(String),
    /// A bulleted list.
    List(List),
    /// A table of text cells.
    Table(Table),
    /// A picture; only the HTML, which can carry it inline, shows it.
    Figure(Figure),
    /// Text to be copied exactly (the job), introduced by a sentence.
    Listing {
        /// The sentence before it.
        intro: String,
        /// What the text is, where the rendering has no other way to say it.
        caption: String,
        /// The language of the text, for a Markdown fence.
        lang: String,
        /// The text.
        text: String,
    },
}

/// A bulleted list.
pub struct List {
    /// The items.
    pub items: Vec<String>,
    /// A list of warnings, set apart in colour.
    pub warn: bool,
    /// Said instead of an empty list.
    pub empty: Option<String>,
}

/// A table of text cells, every number already formatted (and suppressed).
pub struct Table {
    /// Column names.
    pub head: Vec<String>,
    /// The rows, as many cells as `head`.
    pub rows: Vec<Vec<String>>,
    /// The last column is long text (a reference): the HTML lists it under the table,
    /// named by the row's first cell, to keep the table narrow.
    pub notes_last: bool,
}

/// A picture's data; `svg` draws it.
pub enum Figure {
    /// Points with intervals, one row each, on a log axis.
    Forest {
        /// Title above the plot.
        title: String,
        /// The rows.
        rows: Vec<ForestRow>,
    },
    /// Weighted values (draws with weight 1, or an exact posterior) with the interval.
    Histogram {
        /// Title above the plot.
        title: String,
        /// (value, weight).
        points: Vec<(f64, f64)>,
        /// Interval marked on the plot.
        lower: Option<f64>,
        /// Interval marked on the plot.
        upper: Option<f64>,
    },
}

/// The report of `doc`, with counts of identified people below `thr` suppressed.
pub fn build(doc: &ResultDoc, thr: u64) -> Report {
    let title = doc
        .job
        .name
        .clone()
        .unwrap_or_else(|| "darkfigure estimate".into());
    let plan = disclose::plan(doc, thr);
    let mut lead: Vec<Block> = summary(doc, &plan)
        .into_iter()
        .enumerate()
        .map(|(i, s)| match i {
            0 => Block::Headline(s),
            _ => Block::Paragraph(s),
        })
        .collect();
    lead.extend(figures(doc, &plan).into_iter().map(Block::Figure));
    let section = |heading: &str, blocks: Vec<Block>| Section {
        heading: heading.into(),
        blocks,
    };
    let list = |items: Vec<String>, warn: bool, empty: Option<&str>| {
        Block::List(List {
            items,
            warn,
            empty: empty.map(String::from),
        })
    };
    let mut groups = vec![vec![
        section(
            "Assumptions",
            vec![list(assumptions(doc, &plan), false, None)],
        ),
        section(
            "Warnings",
            vec![list(warnings(doc, &plan), true, Some("None."))],
        ),
    ]];
    if let Some(c) = &doc.calibration {
        groups.insert(0, vec![trust(doc, &plan, c)]);
    }
    if let Some(a) = &doc.aggregate {
        groups.push(vec![
            section(
                "Studies behind the multiplier",
                vec![
                    Block::Paragraph(format!(
                        "{}% intervals. A multiplier is its study's estimate divided by the number identified in it, and its limits are the estimate's limits divided the same way; the method notes say how the pooling uses them.{}",
                        percent(doc.job.level.get()),
                        recommended_coverage(doc).unwrap_or_default()
                    )),
                    Block::Table(studies_table(a, &plan)),
                ],
            ),
            section(
                "Sensitivity",
                vec![Block::Table(sensitivity_table(a, &plan))],
            ),
        ]);
    }
    let mut notes = vec![Block::Table(estimate_table(doc, &plan))];
    if plan.hides_anything() {
        notes.push(Block::Paragraph(plan.note()));
    }
    notes.extend(study_notes(doc).map(Block::Paragraph));
    notes.extend(recommended_note(doc).map(Block::Paragraph));
    notes.extend(single_source_notes(doc, &plan));
    let (job, withheld) = disclose::echo(&doc.job, thr);
    groups.push(vec![
        section("Method notes", notes),
        section(
            "Reproduce",
            vec![Block::Listing {
                intro: format!(
                    "darkfigure {}, seed {}.{}",
                    doc.version,
                    doc.job.seed.map_or("none".into(), |s| s.to_string()),
                    if withheld {
                        format!(" The job's counts below {thr} are withheld here; the result JSON has the complete job.")
                    } else {
                        String::new()
                    }
                ),
                caption: "The job:".into(),
                lang: "json".into(),
                text: job,
            }],
        ),
    ]);
    Report {
        title,
        lead,
        groups,
    }
}

/// "How far to trust this interval": the calibration's sentence, the coverage of every
/// procedure under every generating model, what the generators are, and how it was done.
fn trust(doc: &ResultDoc, plan: &Plan, c: &Calibration) -> Section {
    let level = calibration::level(doc, plan);
    let mut blocks: Vec<Block> = match calibration::procedure(doc, plan, c) {
        Some(p) => calibration::sentences(c, &p, level)
            .into_iter()
            .map(Block::Paragraph)
            .collect(),
        None if c.generators.is_empty() => vec![Block::Paragraph(
            "No model could be fitted to these data to simulate from, so the intervals could not be checked; the reasons are below.".into(),
        )],
        None => vec![Block::Paragraph(
            "None of the methods gave an interval on the data simulated to look like yours, so there is nothing to judge them by.".into(),
        )],
    };
    if !c.generators.is_empty() {
        let (head, rows) = calibration::matrix(c, level);
        blocks.push(Block::Table(Table {
            head,
            rows,
            notes_last: false,
        }));
        let (head, rows) = calibration::generators(c, plan);
        blocks.push(Block::Table(Table {
            head,
            rows,
            notes_last: false,
        }));
    }
    blocks.extend(
        calibration::method_note(c, !doc.strata.is_empty())
            .into_iter()
            .map(Block::Paragraph),
    );
    Section {
        heading: "How far to trust this interval".into(),
        blocks,
    }
}

/// The studies behind a multiplier, their references last: each live study's count, its
/// estimate N̂ with N̂'s interval, and the multiplier with its interval — N̂'s ÷ the count,
/// the one the pooling reads; a published study has only the multiplier. N̂ and its
/// interval go with the count (`disclose::Plan::study`).
fn studies_table(a: &AggregateResult, plan: &Plan) -> Table {
    Table {
        head: heads(&[
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
            "reference",
        ]),
        rows: a
            .studies
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut row = vec![s.name.clone(), s.source.clone()];
                row.extend(plan.study(i, s, "—"));
                row.extend([
                    multiplier(s.multiplier),
                    multiplier(s.lower),
                    multiplier(s.upper),
                    s.kind.to_string(),
                    s.citation.clone(),
                ]);
                row
            })
            .collect(),
        notes_last: true,
    }
}

/// Whether the result prints the recommended interval: an estimate of the job's, of a
/// stratum, or a live study of the aggregate.
fn prints_recommended(doc: &ResultDoc) -> bool {
    let is = |e: &Estimate| e.method == MethodId::Recommended.as_str();
    doc.estimates.iter().any(is)
        || doc.strata.iter().any(|s| s.estimates.iter().any(is))
        || doc.job.aggregate.as_ref().is_some_and(|a| {
            a.studies
                .iter()
                .any(|s| s.data.is_some() && s.method == Some(MethodId::Recommended))
        })
}

/// The measured coverage of the recommended interval, as a sentence to stand beside the
/// studies it measured (None when no live study uses it).
fn recommended_coverage(doc: &ResultDoc) -> Option<String> {
    let live = doc
        .job
        .aggregate
        .as_ref()?
        .studies
        .iter()
        .any(|s| s.data.is_some() && s.method == Some(MethodId::Recommended));
    let e = crate::methods::recommended::evidence().ok()?;
    let rates: Vec<f64> = e.chosen_coverage().iter().map(|c| c.rate).collect();
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (live && lo.is_finite()).then(|| {
        format!(
            " The studies estimated here use the recommended interval, whose {:.0}% interval contained the true number in {:.1}% to {:.1}% of the datasets of {} simulated scenarios{}.",
            100.0 * e.level,
            100.0 * lo,
            100.0 * hi,
            rates.len(),
            if e.short_of_goal.is_empty() {
                String::new()
            } else {
                format!(
                    ", below {:.0}% on {} (the method notes say where and why)",
                    100.0 * e.goal,
                    e.short_of_goal.join(" and ")
                )
            }
        )
    })
}

/// The recommended interval in words, for the method notes: what it runs, the rule that
/// chose it, and its measured coverage on every scenario of the simulation grid, with
/// where it falls short of the goal.
fn recommended_note(doc: &ResultDoc) -> Option<String> {
    if !prints_recommended(doc) {
        return None;
    }
    let e = crate::methods::recommended::evidence().ok()?;
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let coverage = e.chosen_coverage();
    let each = coverage
        .iter()
        .map(|c| format!("{} {} (± {})", c.scenario, pct(c.rate), pct(c.std_error)))
        .collect::<Vec<_>>()
        .join(", ");
    let method = e.procedure.method.get("id").and_then(|v| v.as_str());
    let union = e.procedure.method.get("combine").and_then(|v| v.as_str()) == Some("union");
    let what = match (method, union) {
        (Some("pooled"), true) => {
            " It runs two model families that fail in opposite places, SparseMSE's stepwise selection with a parametric bootstrap that repeats the selection (Chan, Silverman & Vincent, JASA) and LCMCR's latent classes (Manrique-Vallier, Biometrics), and its interval runs from the lower of their two lower limits to the higher of their two upper limits."
        }
        (Some("pooled"), false) => {
            " It runs two model families that fail in opposite places, SparseMSE's stepwise selection with a parametric bootstrap that repeats the selection (Chan, Silverman & Vincent, JASA) and LCMCR's latent classes (Manrique-Vallier, Biometrics), and takes the quantiles of their draws pooled with equal weight."
        }
        _ => "",
    };
    let mut words = format!(
        "The recommended interval is the procedure \"{}\", chosen by a simulation study of {} scenarios with known totals (the models/scenarios folder of darkfigure).{what} The rule: {} Its {}% interval contained the true number in this share of the simulated datasets: {each}.",
        e.chosen,
        e.scenarios.len(),
        e.rule,
        (100.0 * e.level).round()
    );
    let short: Vec<String> = coverage
        .iter()
        .filter(|c| e.short_of_goal.contains(&c.scenario))
        .map(|c| format!("{} ({})", c.scenario, pct(c.rate)))
        .collect();
    if short.is_empty() {
        words.push_str(&format!(" It reached {} on every scenario.", pct(e.goal)));
    } else {
        words.push_str(&format!(
            " No procedure tried reached {} on every scenario; this one has the best worst case and falls short on {}: on data like those, read its {}% interval as covering about that often. Where people differ in how easily they are found in ways no list shows, every interval tried misses low.",
            pct(e.goal),
            short.join(" and "),
            (100.0 * e.level).round()
        ));
    }
    Some(words)
}

/// How the studies' intervals are made and pooled, in words, for the method notes: the
/// row of a study in its table is the study the pooling uses.
fn study_notes(doc: &ResultDoc) -> Option<String> {
    let (a, spec) = (doc.aggregate.as_ref()?, doc.job.aggregate.as_ref()?);
    let pct = percent(doc.job.level.get());
    let mut words = vec![format!(
        "The studies' intervals: a study's multiplier is its estimate of the total divided by the number identified in it, and the multiplier's limits are the estimate's {pct}% limits divided the same way, so the studies table shows one interval twice, in people and as a multiplier."
    )];
    let live = |m: MethodId| {
        spec.studies
            .iter()
            .any(|s| s.data.is_some() && s.method.unwrap_or(MethodId::Stepwise) == m)
    };
    if spec
        .studies
        .iter()
        .any(|s| s.data.is_some() && s.method.unwrap_or(MethodId::Stepwise).bootstrappable())
    {
        words.push(format!(
            "A study estimated here by a method that chooses a model runs it on its own table with {} bootstrap replicates, which repeat the model choice, drawn on the job's seed; a study of this job's own table by one of the methods above, with as many replicates, is therefore the same estimate as in the table above, with the same interval.",
            people(spec.study_bootstrap.get() as f64)
        ));
    }
    if live(MethodId::Recommended) || live(MethodId::Pooled) {
        words.push("A study estimated here by the recommended interval (or `pooled`) runs it on its own table on the job's seed, with the settings the simulation grid measured; its interval carries the model choice of both families it pools.".into());
    }
    if a.studies.iter().any(|s| s.population.is_none()) {
        words.push(format!(
            "A published study's stated interval is read as log-normal and restated at {pct}%."
        ));
    }
    words.push("The pooling takes each study's uncertainty from the interval in the studies table, read as log-normal: the standard error of log M is the width of that interval on the log scale (log upper − log lower) over twice the normal quantile of the level. An interval lopsided about its multiplier passes on only its width.".into());
    Some(words.join(" "))
}

/// The totals under each sensitivity scenario; those drawn from a small identified count
/// are withheld.
fn sensitivity_table(a: &AggregateResult, plan: &Plan) -> Table {
    let (total, children) = plan.aggregate.as_ref().map_or((true, true), |p| {
        (
            p.total.figures,
            p.children.as_ref().is_none_or(|c| c.figures),
        )
    });
    let three = |s: &global::Summary, shown: bool| {
        if shown {
            [people(s.median), people(s.lower), people(s.upper)]
        } else {
            ["withheld".into(), "—".into(), "—".into()]
        }
    };
    Table {
        head: heads(&[
            "scenario", "total", "lower", "upper", "children", "lower", "upper",
        ]),
        rows: a
            .sensitivity
            .iter()
            .map(|r| {
                let mut row = vec![global::row_name(r)];
                match &r.total {
                    Some(t) => row.extend(three(t, total)),
                    None => row.extend(["—".to_string(), "—".into(), "—".into()]),
                }
                match &r.children {
                    Some(c) => row.extend(three(c, children)),
                    None => row.extend(["—".to_string(), "—".into(), "—".into()]),
                }
                row
            })
            .collect(),
        notes_last: false,
    }
}

fn heads(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn status_words(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::NotConverged => "did not converge",
        Status::MleDoesNotExist => "no estimate: the maximum-likelihood estimate does not exist",
        Status::NotIdentifiable => "no estimate: the model is not identifiable",
        Status::Infinite => "no estimate: infinite",
        Status::Failed => "no estimate: the method stopped without an answer (see its warning)",
    }
}

/// Plain-language summary sentences.
fn summary(doc: &ResultDoc, plan: &Plan) -> Vec<String> {
    let thr = plan.threshold();
    let mut out = Vec::new();
    if let (Some(a), Some(p)) = (&doc.aggregate, &plan.aggregate) {
        if p.total.figures {
            out.push(format!(
                "Between {} and {} people, most likely around {} ({}% interval); {} were identified.",
                people(a.total.lower),
                people(a.total.upper),
                people(a.total.median),
                percent(a.total.level),
                p.total.identified
            ));
        } else {
            out.push(format!(
                "{} were identified. The estimated total is not shown: it is that count times the multiplier, and would give a count below {thr} away.",
                p.total.identified
            ));
        }
        if let (Some(c), Some(ci)) = (&a.children, &p.children) {
            if ci.figures {
                out.push(format!(
                    "Children: between {} and {}, most likely around {}; {} were identified.",
                    people(c.lower),
                    people(c.upper),
                    people(c.median),
                    ci.identified
                ));
            } else {
                out.push(format!(
                    "Children: {} were identified; their estimated number is not shown, as it would give a count below {thr} away.",
                    ci.identified
                ));
            }
        }
        let studies = match a.studies.len() {
            1 => "one study in a place".to_string(),
            n => format!("{n} studies in places"),
        };
        out.push(format!(
            "Behind every identified victim there are about {:.1} in all ({:.1} to {:.1}), from {studies} where the lists of the organisations that find victims could be compared.",
            a.multiplier.median, a.multiplier.lower, a.multiplier.upper
        ));
    } else if let Some((j, e)) = plan.primary(doc) {
        let iv = e.interval.as_ref();
        out.push(format!(
            "Between {} and {} people, most likely around {} ({}% interval); {} were identified.",
            people(iv.and_then(|i| i.lower).unwrap_or(f64::NAN)),
            people(iv.and_then(|i| i.upper).unwrap_or(f64::NAN)),
            people(e.population.unwrap_or(f64::NAN)),
            percent(iv.map_or(0.0, |i| i.level)),
            plan.estimate(j).identified
        ));
        out.push(format!(
            "Estimated with {} ({}), interval: {}.",
            e.method,
            e.label,
            iv.map_or("none".into(), |i| i.kind.to_string())
        ));
    } else if !plan.whole().figures {
        out.push(format!(
            "{} people were identified; no estimate is shown, as its figures could give a count below {thr} away.",
            plan.whole().identified
        ));
    } else {
        out.push("No method gave an estimate for these data; the warnings below say why.".into());
    }
    let whole = plan.whole();
    for t in &doc.totals {
        if !whole.figures {
            out.push(format!(
                "Total over the strata ({}): not shown ({} identified).",
                t.method, whole.identified
            ));
            continue;
        }
        match (t.population, &t.interval) {
            (Some(p), Some(iv)) => out.push(format!(
                "Total over the strata ({}): between {} and {}, most likely around {}; {} were identified.{}",
                t.method,
                people(iv.lower.unwrap_or(f64::NAN)),
                people(iv.upper.unwrap_or(f64::NAN)),
                people(p),
                whole.identified,
                if t.replicates_used < t.values.len() {
                    format!(
                        " The interval comes from the {} of {} replicates in which every stratum had an estimate.",
                        t.replicates_used,
                        t.values.len()
                    )
                } else {
                    String::new()
                }
            )),
            (Some(p), None) if t.warnings.is_empty() => out.push(format!("Total over the strata ({}): about {} (no interval).", t.method, people(p))),
            (Some(p), None) => out.push(format!("Total over the strata ({}): about {} (no interval: {}).", t.method, people(p), t.warnings.join("; "))),
            _ => out.push(format!("Total over the strata ({}): not given — {}.", t.method, t.warnings.join("; "))),
        }
    }
    out
}

fn warnings(doc: &ResultDoc, plan: &Plan) -> Vec<String> {
    let mut w: Vec<String> = doc.warnings.iter().map(|x| format!("Input: {x}")).collect();
    // in words: every number in the report is a number of the JSON
    if let Some((_, e)) = plan.primary(doc)
        && let Some((lo, hi)) = e.interval.as_ref().and_then(|i| Some((i.lower?, i.upper?)))
        && lo > 0.0
        && hi / lo > 3.0
    {
        w.push("Wide uncertainty: the upper end of the interval is more than three times the lower end; the lists do not pin the number down.".to_string());
    }
    let points: Vec<f64> = doc
        .estimates
        .iter()
        .enumerate()
        .filter(|(j, e)| e.status == Status::Ok && plan.estimate(*j).figures)
        .filter_map(|(_, e)| e.population)
        .collect();
    if points.len() > 1 {
        let (lo, hi) = points
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
        if lo > 0.0 && hi / lo > 2.0 {
            w.push("Wide model uncertainty: the largest of the models' estimates is more than twice the smallest; they assume different things about how people come to be on the lists, and the data cannot tell which holds.".to_string());
        }
    }
    let failed = |prefix: String, e: &Estimate| {
        (e.status != Status::Ok).then(|| {
            let status = status_words(e.status);
            format!("{prefix}{} {}: {status}.", e.method, e.label)
        })
    };
    for (j, e) in doc.estimates.iter().enumerate() {
        w.extend(failed(String::new(), e));
        let shown = plan.estimate(j).figures;
        w.extend(e.warnings.iter().map(|x| {
            let x = if shown { x.clone() } else { mask_numbers(x) };
            format!("{} {}: {x}", e.method, e.label)
        }));
    }
    for s in &doc.strata {
        for e in &s.estimates {
            w.extend(failed(format!("Stratum {}: ", s.stratum), e));
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
        w.extend(
            a.caveats
                .iter()
                .map(|c| disclose::aggregate_words(doc, plan, c)),
        );
    }
    w
}

fn assumptions(doc: &ResultDoc, plan: &Plan) -> Vec<String> {
    let mut a = vec![
        "The population is closed over the period the lists cover: nobody enters or leaves it in a way that changes who could be listed.".to_string(),
        "Each model states how being on one list relates to being on another; the estimate is only as good as that statement. Models that disagree are shown side by side.".to_string(),
    ];
    a.extend(method_assumptions(doc).map(String::from));
    if let Some(g) = &doc.aggregate {
        a.extend(
            g.assumptions
                .iter()
                .map(|x| disclose::aggregate_words(doc, plan, x)),
        );
    }
    a
}

/// What the methods used assume beyond every model, in a fixed order.
fn method_assumptions(doc: &ResultDoc) -> impl Iterator<Item = &'static str> + '_ {
    const NOTES: [(MethodId, &str); 3] = [
        (
            MethodId::Lcmcr,
            "Latent classes (lcmcr): people fall into hidden groups; within a group, being on one list does not change the chance of being on another. The number of groups is learned from the data, up to K. The answer is a posterior distribution found by simulation; its convergence checks are reported.",
        ),
        (
            MethodId::BayesThreshold,
            "Bayesian thresholding: how the lists overlap is described by pairwise associations; associations the data cannot tell from zero (|posterior mean/sd| below the threshold) are dropped and the rest kept.",
        ),
        (
            MethodId::Dga,
            "Graphical model averaging (dga): list dependences are described by decomposable graphs, and the estimate averages over all of them, weighted by how well each fits.",
        ),
    ];
    const COVERAGE: &str = "Sample coverage (sc-indep, sc-hsc, sc-lsc; Chao & Tsay 1998): people may differ in how easily they are listed and the lists may depend on one another, but only through how each pair of lists goes together (their coefficients of covariation), which the estimators correct for to a first approximation; dependence among three or more lists at once is assumed away. sc-indep takes the lists as independent and people as alike; sc-hsc needs a high sample coverage (most people on a list are also on another) and is unstable when it is low (CARE1 warns at a coverage of 0.55 or less); sc-lsc is the one-step correction meant for low coverage. Their interval comes from a bootstrap standard error on a log scale (Chao 1987), and without a bootstrap there is none.";
    let coverage = doc
        .job
        .methods
        .iter()
        .any(|m| matches!(m.id(), MethodId::Coverage(_)));
    NOTES
        .into_iter()
        .filter(|(id, _)| doc.job.methods.iter().any(|m| m.id() == *id))
        .map(|(_, note)| note)
        .chain(coverage.then_some(COVERAGE))
}

/// Every estimate, the strata's prefixed with their stratum; an estimate whose count is not
/// shown has its figures withheld.
fn estimate_table(doc: &ResultDoc, plan: &Plan) -> Table {
    let row = |prefix: &str, cell: disclose::Cell, e: &Estimate| {
        let iv = e.interval.as_ref();
        let figure = |x: Option<f64>| match x {
            Some(v) if cell.figures => people(v),
            _ => "—".into(),
        };
        vec![
            format!("{prefix}{}", e.method),
            e.label.clone(),
            cell.identified.clone(),
            if cell.figures || e.population.is_none() {
                figure(e.population)
            } else {
                "withheld".into()
            },
            figure(iv.and_then(|i| i.lower)),
            figure(iv.and_then(|i| i.upper)),
            iv.map_or("—".into(), |i| format!("{}%", percent(i.level))),
            iv.map_or("—".into(), |i| i.kind.to_string()),
            status_words(e.status)
                .split(':')
                .next()
                .unwrap_or("")
                .to_string(),
        ]
    };
    let mut rows: Vec<Vec<String>> = doc
        .estimates
        .iter()
        .enumerate()
        .map(|(j, e)| row("", plan.estimate(j), e))
        .collect();
    for (i, s) in doc.strata.iter().enumerate() {
        let prefix = format!("[{}] ", s.stratum);
        rows.extend(
            s.estimates
                .iter()
                .enumerate()
                .map(|(j, e)| row(&prefix, plan.stratum_estimate(i, j), e)),
        );
    }
    Table {
        head: heads(&[
            "method",
            "model",
            "identified",
            "estimate",
            "lower",
            "upper",
            "level",
            "interval",
            "status",
        ]),
        rows,
        notes_last: false,
    }
}

/// The pictures: the studies' multipliers, the estimates, the strata, and the draws or
/// posterior of the number the summary speaks about.
fn figures(doc: &ResultDoc, plan: &Plan) -> Vec<Figure> {
    let mut out = Vec::new();
    // a row whose count is not shown keeps its label and nothing else
    let forest_row = |label: String,
                      point: Option<f64>,
                      iv: Option<&crate::methods::Interval>,
                      diamond,
                      shown: bool| ForestRow {
        label,
        point: point.filter(|_| shown),
        lower: iv.and_then(|i| i.lower).filter(|_| shown),
        upper: iv.and_then(|i| i.upper).filter(|_| shown),
        diamond,
        withheld: !shown,
    };
    let any_shown = |rows: &[ForestRow]| rows.iter().any(|r| !r.withheld);
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
                withheld: false,
            })
            .collect();
        rows.push(ForestRow {
            label: "a place without a study".into(),
            point: Some(a.multiplier.median),
            lower: Some(a.multiplier.lower),
            upper: Some(a.multiplier.upper),
            diamond: true,
            withheld: false,
        });
        out.push(Figure::Forest {
            title: "Dark-figure multiplier (total / identified) by study, and pooled".into(),
            rows,
        });
    }
    let erows: Vec<ForestRow> = doc
        .estimates
        .iter()
        .enumerate()
        .map(|(j, e)| {
            forest_row(
                format!("{} {}", e.method, e.label)
                    .chars()
                    .take(34)
                    .collect(),
                e.population,
                e.interval.as_ref(),
                false,
                plan.estimate(j).figures,
            )
        })
        .collect();
    if any_shown(&erows) {
        out.push(Figure::Forest {
            title: "Estimated total by method, with intervals".into(),
            rows: erows,
        });
    }
    if !doc.strata.is_empty() {
        let mut rows: Vec<ForestRow> = doc
            .strata
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.estimates.first().map(|e| (i, s, e)))
            .map(|(i, s, e)| {
                forest_row(
                    format!("{} ({})", s.stratum, e.method),
                    e.population,
                    e.interval.as_ref(),
                    false,
                    plan.stratum_estimate(i, 0).figures,
                )
            })
            .collect();
        if let Some(t) = doc.totals.first() {
            rows.push(forest_row(
                format!("total ({})", t.method),
                t.population,
                t.interval.as_ref(),
                true,
                plan.whole().figures,
            ));
        }
        if any_shown(&rows) {
            out.push(Figure::Forest {
                title: "Strata and their total".into(),
                rows,
            });
        }
    }
    out.extend(draws(doc, plan));
    out
}

/// The histogram: the strata total's draws, else the primary estimate's bootstrap, else
/// its posterior draws, else an exact posterior (of the total, else of the estimate).
fn draws(doc: &ResultDoc, plan: &Plan) -> Option<Figure> {
    let totals = || doc.totals.iter().filter(|_| plan.whole().figures);
    let histogram = |points, iv: Option<&crate::methods::Interval>, title| Figure::Histogram {
        title,
        points,
        lower: iv.and_then(|i| i.lower),
        upper: iv.and_then(|i| i.upper),
    };
    totals()
        .find(|t| !t.values.is_empty())
        .map(|t| {
            let iv = t.interval.as_ref();
            let kind = if iv.is_some_and(|i| i.kind.is_posterior()) {
                "Posterior"
            } else {
                "Bootstrap"
            };
            histogram(
                t.values.iter().flatten().map(|&x| (x, 1.0)).collect(),
                iv,
                format!("{kind} draws of the total ({})", t.method),
            )
        })
        .or_else(|| {
            plan.primary(doc).and_then(|(_, e)| {
                e.bootstrap.as_ref().map(|b| {
                    histogram(
                        b.values.iter().flatten().map(|&x| (x, 1.0)).collect(),
                        e.interval.as_ref(),
                        format!("Bootstrap draws of N̂ ({} {})", e.method, e.label),
                    )
                })
            })
        })
        .or_else(|| {
            plan.primary(doc).and_then(|(_, e)| {
                e.draws.as_ref().filter(|d| !d.values.is_empty()).map(|d| {
                    histogram(
                        d.values.iter().map(|&x| (x, 1.0)).collect(),
                        e.interval.as_ref(),
                        format!("Posterior draws of N ({} {})", e.method, e.label),
                    )
                })
            })
        })
        .or_else(|| {
            // an exact posterior (dga): of the strata's total, else of the estimate
            let total = totals().find_map(|t| {
                let pmf = t.draws.as_ref()?.exact.as_ref()?;
                Some((
                    pmf,
                    t.interval.as_ref(),
                    format!("Exact posterior of the total ({})", t.method),
                ))
            });
            let single = || {
                plan.primary(doc).and_then(|(_, e)| {
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
                histogram(
                    shown
                        .probs
                        .iter()
                        .enumerate()
                        .map(|(i, &p)| ((shown.first + i as u64) as f64, p))
                        .collect(),
                    iv,
                    title,
                )
            })
        })
}

/// What a single-register estimate assumes, in words, and each one's people by times
/// recorded, seen and fitted (grouped so that no group is small).
fn single_source_notes(doc: &ResultDoc, plan: &Plan) -> Vec<Block> {
    let ests: Vec<(usize, &Estimate)> = doc
        .estimates
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.options, crate::methods::Details::SingleSource(_)))
        .collect();
    if ests.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Block::Paragraph(
        "The single-register estimates (zero-truncated regressions, as the R package singleRcapture) use one register that records how many times it met each person. They assume that the number of contacts of the people never recorded follows the same distribution as that of the people recorded (given their covariates: the model's Poisson, geometric or negative binomial law, or one of these with extra ones), that the population did not change while the register counted, and that people are recorded independently of one another. Zelterman's model and Chao's lower bound use only the people recorded once or twice, which makes them robust to what happens beyond two contacts; Chao's is a lower bound. A law that fits the counts poorly (the table below: observed against fitted) can still be wrong about the zeros, which are never seen; the interval is Chao's log-normal one from the analytic variance (or the bootstrap's percentiles), and it does not carry the uncertainty of the choice of law.".to_string(),
    )];
    for (j, e) in ests {
        if !plan.estimate(j).figures {
            continue;
        }
        if let Some(groups) = disclose::marginal_groups(e, plan.threshold()) {
            out.push(Block::Paragraph(format!(
                "People by times recorded, seen and fitted, under {} {} (groups of at least {} people):",
                e.method,
                e.label,
                plan.threshold()
            )));
            out.push(Block::Table(Table {
                head: vec!["times recorded".into(), "observed".into(), "fitted".into()],
                rows: groups.into_iter().map(|g| g.to_vec()).collect(),
                notes_last: false,
            }));
        }
    }
    out
}
