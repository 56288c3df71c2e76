//! The policymaker's report as a document tree, built once from a `ResultDoc`: a title, a
//! lead (the plain-language summary and the pictures) and headed sections of paragraphs,
//! lists, tables and figures. Every word of the report, every choice of what to show and
//! the small-cell suppression (a count of identified people below the threshold is shown
//! as "<threshold", and no such count can be worked out from the others) are decided here,
//! so the two renderings, `html` and `markdown`, only lay the tree out and cannot disagree;
//! the terminal takes its counts from here too. Every number shown comes from the result
//! JSON.

use super::format::{count, people, percent};
use super::svg::ForestRow;
use crate::aggregate::global::AggregateResult;
use crate::job::ResultDoc;
use crate::methods::{Estimate, MethodId, Status};

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
    let ids = identified(doc, thr);
    let mut lead: Vec<Block> = summary(doc, thr, &ids)
        .into_iter()
        .enumerate()
        .map(|(i, s)| match i {
            0 => Block::Headline(s),
            _ => Block::Paragraph(s),
        })
        .collect();
    lead.extend(figures(doc).into_iter().map(Block::Figure));
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
        section("Assumptions", vec![list(assumptions(doc), false, None)]),
        section("Warnings", vec![list(warnings(doc), true, Some("None."))]),
    ]];
    if let Some(a) = &doc.aggregate {
        groups.push(vec![
            section(
                "Studies behind the multiplier",
                vec![Block::Table(studies_table(a, thr))],
            ),
            section("Sensitivity", vec![Block::Table(sensitivity_table(a))]),
        ]);
    }
    groups.push(vec![
        section(
            "Method notes",
            vec![Block::Table(estimate_table(doc, &ids))],
        ),
        section(
            "Reproduce",
            vec![Block::Listing {
                intro: format!(
                    "darkfigure {}, seed {}.",
                    doc.version,
                    doc.job.seed.map_or("none".into(), |s| s.to_string())
                ),
                caption: "The job:".into(),
                lang: "json".into(),
                text: serde_json::to_string_pretty(&doc.job).unwrap_or_default(),
            }],
        ),
    ]);
    Report {
        title,
        lead,
        groups,
    }
}

/// The studies behind a multiplier, their references last.
fn studies_table(a: &AggregateResult, thr: u64) -> Table {
    Table {
        head: heads(&[
            "study",
            "source",
            "identified",
            "multiplier",
            "lower",
            "upper",
            "reference",
        ]),
        rows: a
            .studies
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.source.clone(),
                    s.observed.map_or("—".into(), |n| count(n, thr)),
                    format!("{:.2}", s.multiplier),
                    format!("{:.2}", s.lower),
                    format!("{:.2}", s.upper),
                    s.citation.clone(),
                ]
            })
            .collect(),
        notes_last: true,
    }
}

/// The totals under each sensitivity scenario.
fn sensitivity_table(a: &AggregateResult) -> Table {
    Table {
        head: heads(&[
            "scenario", "total", "lower", "upper", "children", "lower", "upper",
        ]),
        rows: a
            .sensitivity
            .iter()
            .map(|r| {
                let c = r.children.as_ref();
                vec![
                    r.scenario.clone(),
                    people(r.total.median),
                    people(r.total.lower),
                    people(r.total.upper),
                    c.map_or("—".into(), |c| people(c.median)),
                    c.map_or("—".into(), |c| people(c.lower)),
                    c.map_or("—".into(), |c| people(c.upper)),
                ]
            })
            .collect(),
        notes_last: false,
    }
}

fn heads(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The counts of identified people as every rendering shows them: the whole data's (also
/// every total over the strata) and each stratum's, in the result's order.
pub struct Identified {
    /// The whole data's count.
    pub total: String,
    /// Each stratum's count.
    pub strata: Vec<String>,
    thr: u64,
    n: u64,
    counts: Vec<u64>,
}

impl Identified {
    /// The count `n` of an estimate of the whole data: the whole's as decided, or a count
    /// of its own (a two-list estimate counts the people on its two lists) suppressed alone.
    pub fn whole(&self, n: u64) -> String {
        if n == self.n {
            self.total.clone()
        } else {
            count(n, self.thr)
        }
    }

    /// A number of people estimated (N̂ or a limit): below the threshold it is shown as
    /// "<thr", since N̂ and its limits are never below n and a limit at n would give a
    /// small count away.
    pub fn people(&self, x: f64) -> String {
        if x < self.thr as f64 {
            format!("<{}", self.thr)
        } else {
            people(x)
        }
    }

    /// Whether `x` people are below the threshold (shown as "<thr").
    pub fn small(&self, x: f64) -> bool {
        x < self.thr as f64
    }

    /// The same for an estimate of stratum `i`.
    pub fn stratum(&self, i: usize, n: u64) -> String {
        match (self.counts.get(i), self.strata.get(i)) {
            (Some(&c), Some(shown)) if c == n => shown.clone(),
            _ => count(n, self.thr),
        }
    }
}

/// How `doc`'s counts of identified people are shown with the threshold `thr`. A count
/// below it is "<thr". The strata add up to the whole, so where the whole and the other
/// strata would give a small stratum's count away by subtraction, the smallest counts still
/// shown are withheld as well ("≥thr"), and, when no stratum is left to withhold, the whole.
pub fn identified(doc: &ResultDoc, thr: u64) -> Identified {
    let n = doc.data.observed;
    let strata: Vec<u64> = doc.strata.iter().map(|s| s.observed).collect();
    let (shown, whole) = withhold(n, &strata, thr);
    let text = |n: u64, s: Shown| match s {
        Shown::Withheld => format!("≥{thr}"),
        Shown::Exact | Shown::Small => count(n, thr),
    };
    Identified {
        total: text(n, whole),
        strata: strata.iter().zip(shown).map(|(&c, s)| text(c, s)).collect(),
        thr,
        n,
        counts: strata,
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Shown {
    Exact,
    /// Below the threshold.
    Small,
    /// At or above the threshold, hidden so that a small count cannot be worked out.
    Withheld,
}

/// How to show each stratum's count and their sum `total`.
fn withhold(total: u64, strata: &[u64], thr: u64) -> (Vec<Shown>, Shown) {
    let class = |n: u64| if n < thr { Shown::Small } else { Shown::Exact };
    let mut shown: Vec<Shown> = strata.iter().map(|&n| class(n)).collect();
    let mut whole = class(total);
    while whole == Shown::Exact && given_away(total, strata, &shown, thr) {
        let next = (0..strata.len())
            .filter(|&i| shown[i] == Shown::Exact)
            .min_by_key(|&i| strata[i]);
        match next {
            Some(i) => shown[i] = Shown::Withheld,
            None => whole = Shown::Withheld,
        }
    }
    (shown, whole)
}

/// Whether a reader who knows `total`, the counts shown and the bounds the others are shown
/// with (a small one from 1 to thr − 1, a withheld one from thr up) can tell the value of a
/// small one. Below a threshold of 3, "<thr" says the value by itself.
fn given_away(total: u64, strata: &[u64], shown: &[Shown], thr: u64) -> bool {
    if thr < 3 {
        return false;
    }
    let hidden: u64 = total.saturating_sub(
        strata
            .iter()
            .zip(shown)
            .filter(|(_, s)| **s == Shown::Exact)
            .map(|(n, _)| n)
            .sum(),
    );
    let bounds = |s: Shown| match s {
        Shown::Small => (1, Some(thr - 1)),
        _ => (thr, None),
    };
    (0..strata.len())
        .filter(|&a| shown[a] == Shown::Small)
        .any(|a| {
            let others = (0..strata.len()).filter(|&b| b != a && shown[b] != Shown::Exact);
            let least: u64 = others.clone().map(|b| bounds(shown[b]).0).sum();
            let most: Option<u64> = others.map(|b| bounds(shown[b]).1).sum();
            let lo = most.map_or(1, |m| hidden.saturating_sub(m).max(1));
            let hi = hidden.saturating_sub(least).min(thr - 1);
            lo >= hi
        })
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
fn summary(doc: &ResultDoc, thr: u64, ids: &Identified) -> Vec<String> {
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
            percent(a.total.level),
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
        let studies = match a.studies.len() {
            1 => "one study in a place".to_string(),
            n => format!("{n} studies in places"),
        };
        out.push(format!(
            "Behind every identified victim there are about {:.1} in all ({:.1} to {:.1}), from {studies} where the lists of the organisations that find victims could be compared.",
            a.multiplier.median, a.multiplier.lower, a.multiplier.upper
        ));
    } else if let Some(e) = primary(doc) {
        let iv = e.interval.as_ref();
        out.push(format!(
            "Between {} and {} people, most likely around {} ({}% interval); {} were identified.",
            ids.people(iv.and_then(|i| i.lower).unwrap_or(f64::NAN)),
            ids.people(iv.and_then(|i| i.upper).unwrap_or(f64::NAN)),
            ids.people(e.population.unwrap_or(f64::NAN)),
            percent(iv.map_or(0.0, |i| i.level)),
            ids.whole(e.observed)
        ));
        out.push(format!(
            "Estimated with {} ({}), interval: {}.",
            e.method,
            e.label,
            iv.map_or("none".into(), |i| i.kind.to_string())
        ));
    } else {
        out.push("No method gave an estimate for these data; the warnings below say why.".into());
    }
    for t in &doc.totals {
        match (t.population, &t.interval) {
            (Some(p), Some(iv)) => out.push(format!(
                "Total over the strata ({}): between {} and {}, most likely around {}; {} were identified.{}",
                t.method,
                ids.people(iv.lower.unwrap_or(f64::NAN)),
                ids.people(iv.upper.unwrap_or(f64::NAN)),
                ids.people(p),
                ids.whole(t.observed),
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
            (Some(p), None) if t.warnings.is_empty() => out.push(format!("Total over the strata ({}): about {} (no interval).", t.method, ids.people(p))),
            (Some(p), None) => out.push(format!("Total over the strata ({}): about {} (no interval: {}).", t.method, ids.people(p), t.warnings.join("; "))),
            _ => out.push(format!("Total over the strata ({}): not given — {}.", t.method, t.warnings.join("; "))),
        }
    }
    out
}

fn warnings(doc: &ResultDoc) -> Vec<String> {
    let mut w: Vec<String> = doc.warnings.iter().map(|x| format!("Input: {x}")).collect();
    // in words: every number in the report is a number of the JSON
    if let Some(e) = primary(doc)
        && let Some((lo, hi)) = e.interval.as_ref().and_then(|i| Some((i.lower?, i.upper?)))
        && lo > 0.0
        && hi / lo > 3.0
    {
        w.push("Wide uncertainty: the upper end of the interval is more than three times the lower end; the lists do not pin the number down.".to_string());
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
    let failed = |prefix: String, e: &Estimate| {
        (e.status != Status::Ok).then(|| {
            let status = status_words(e.status);
            format!("{prefix}{} {}: {status}.", e.method, e.label)
        })
    };
    for e in &doc.estimates {
        w.extend(failed(String::new(), e));
        w.extend(
            e.warnings
                .iter()
                .map(|x| format!("{} {}: {x}", e.method, e.label)),
        );
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
        w.extend(a.caveats.iter().cloned());
    }
    w
}

fn assumptions(doc: &ResultDoc) -> Vec<String> {
    let mut a = vec![
        "The population is closed over the period the lists cover: nobody enters or leaves it in a way that changes who could be listed.".to_string(),
        "Each model states how being on one list relates to being on another; the estimate is only as good as that statement. Models that disagree are shown side by side.".to_string(),
    ];
    a.extend(method_assumptions(doc).map(String::from));
    if let Some(g) = &doc.aggregate {
        a.extend(g.assumptions.iter().cloned());
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
    NOTES
        .into_iter()
        .filter(|(id, _)| doc.job.methods.iter().any(|m| m.id() == *id))
        .map(|(_, note)| note)
}

/// Every estimate, the strata's prefixed with their stratum.
fn estimate_table(doc: &ResultDoc, ids: &Identified) -> Table {
    let row = |prefix: &str, identified: String, e: &Estimate| {
        let iv = e.interval.as_ref();
        vec![
            format!("{prefix}{}", e.method),
            e.label.clone(),
            identified,
            e.population.map_or("—".into(), |x| ids.people(x)),
            iv.and_then(|i| i.lower)
                .map_or("—".into(), |x| ids.people(x)),
            iv.and_then(|i| i.upper)
                .map_or("—".into(), |x| ids.people(x)),
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
        .map(|e| row("", ids.whole(e.observed), e))
        .collect();
    for (i, s) in doc.strata.iter().enumerate() {
        let prefix = format!("[{}] ", s.stratum);
        rows.extend(
            s.estimates
                .iter()
                .map(|e| row(&prefix, ids.stratum(i, e.observed), e)),
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
fn figures(doc: &ResultDoc) -> Vec<Figure> {
    let mut out = Vec::new();
    let forest_row =
        |label: String, point, iv: Option<&crate::methods::Interval>, diamond| ForestRow {
            label,
            point,
            lower: iv.and_then(|i| i.lower),
            upper: iv.and_then(|i| i.upper),
            diamond,
        };
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
        out.push(Figure::Forest {
            title: "Dark-figure multiplier (total / identified) by study, and pooled".into(),
            rows,
        });
    }
    let erows: Vec<ForestRow> = doc
        .estimates
        .iter()
        .map(|e| {
            forest_row(
                format!("{} {}", e.method, e.label)
                    .chars()
                    .take(34)
                    .collect(),
                e.population,
                e.interval.as_ref(),
                false,
            )
        })
        .collect();
    if !erows.is_empty() {
        out.push(Figure::Forest {
            title: "Estimated total by method, with intervals".into(),
            rows: erows,
        });
    }
    if !doc.strata.is_empty() {
        let mut rows: Vec<ForestRow> = doc
            .strata
            .iter()
            .filter_map(|s| s.estimates.first().map(|e| (s, e)))
            .map(|(s, e)| {
                forest_row(
                    format!("{} ({})", s.stratum, e.method),
                    e.population,
                    e.interval.as_ref(),
                    false,
                )
            })
            .collect();
        if let Some(t) = doc.totals.first() {
            rows.push(forest_row(
                format!("total ({})", t.method),
                t.population,
                t.interval.as_ref(),
                true,
            ));
        }
        out.push(Figure::Forest {
            title: "Strata and their total".into(),
            rows,
        });
    }
    out.extend(draws(doc));
    out
}

/// The histogram: the strata total's draws, else the primary estimate's bootstrap, else
/// its posterior draws, else an exact posterior (of the total, else of the estimate).
fn draws(doc: &ResultDoc) -> Option<Figure> {
    let histogram = |points, iv: Option<&crate::methods::Interval>, title| Figure::Histogram {
        title,
        points,
        lower: iv.and_then(|i| i.lower),
        upper: iv.and_then(|i| i.upper),
    };
    doc.totals
        .iter()
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
            primary(doc).and_then(|e| {
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
            primary(doc).and_then(|e| {
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

#[cfg(test)]
mod tests {
    use super::{Shown, withhold};
    use Shown::{Exact, Small, Withheld};

    #[test]
    fn a_small_stratum_is_not_given_away_by_the_total() {
        assert_eq!(
            withhold(113, &[3, 10, 100], 5),
            (vec![Small, Withheld, Exact], Exact)
        );
        // with 1 + 5 = 6 shown, the small one could only be 1: the total goes too
        assert_eq!(withhold(6, &[1, 5], 5), (vec![Small, Withheld], Withheld));
        // two small strata of 4 add up to 8: both are 4
        assert_eq!(withhold(8, &[4, 4], 5), (vec![Small, Small], Withheld));
        assert_eq!(withhold(5, &[2, 3], 5), (vec![Small, Small], Exact));
        assert_eq!(
            withhold(102, &[1, 1, 100], 5),
            (vec![Small, Small, Withheld], Exact)
        );
        assert_eq!(withhold(4, &[1, 3], 5), (vec![Small, Small], Small));
        assert_eq!(withhold(30, &[10, 20], 5), (vec![Exact, Exact], Exact));
        assert_eq!(withhold(7, &[], 5), (vec![], Exact));
    }
}
