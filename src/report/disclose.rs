//! Disclosure control: the one rule that decides which counts of identified people, and which
//! figures worked out from them, may appear in anything rendered for reading — the terminal
//! tables of `estimate`, `run` and `describe`, and the Markdown and HTML reports. These are
//! lists of victims: a count below the threshold (the job's `report.suppress_below`,
//! `--suppress-below` on the command line, default 5) must not be readable there, not even by
//! subtraction. The result JSON is the researcher's own file and keeps every count.
//!
//! The rule, as `plan` and `describe` apply it:
//! - A count from 1 to threshold − 1 is small and shown as "<threshold".
//! - Counts that a reader knows to be tied (strata add up to the whole, a two-list pair's
//!   count over the strata adds up to the whole's, a pair's count is at most its stratum's,
//!   `describe`'s sizes, overlaps and frequencies by their identities) are solved as a reader
//!   would solve them (`Linked`). While a small count is pinned — determined by the
//!   identities, or left a single value by the bounds the others are known to lie in —
//!   one more count tied to it is withheld ("≥threshold"): the parts before the whole, the
//!   smaller before the larger, the first that frees it.
//! - Zero is shown (it describes no one, and the pairs of lists that never overlap decide
//!   which models can be fitted), except as a part of a small count — a pair's count in a
//!   small stratum, an overlap with a small list — where it would say something of each of
//!   those few people.
//! - An estimate's figures (N̂, standard error, interval, deviance, AIC, BIC, the numbers in
//!   its warnings) are shown only when its count is shown exactly: N̂ ≥ n, a lower limit can
//!   equal n, and BIC − AIC gives log n.
//! - The world extrapolation's total is identified × multiplier: with a small identified
//!   count (or children's) the figures drawn from it are not shown. A live study's N̂ and
//!   its interval are shown only with its identified count; its multiplier, a ratio to the
//!   count, is shown either way (without N̂ it gives no count back).
//! - The job echo of a report never carries a small count: inline tables with a small cell
//!   are withheld as a whole, and small identified counts of the aggregate are shown as
//!   "<threshold" (units, which add up, are withheld together).

use super::format::people;
use crate::aggregate::global::{self, AggregateResult, Count};
use crate::data::describe::Description;
use crate::job::{Job, ResultDoc};
use crate::methods::{Estimate, Status};
use serde::{Deserialize, Serialize};

/// How one count is shown.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shown {
    /// As it is.
    Exact,
    /// Below the threshold: "<threshold".
    Small,
    /// At or above the threshold, hidden so that a small count cannot be worked out:
    /// "≥threshold".
    Withheld,
}

/// Whether `n` is a small count at threshold `thr`.
pub fn is_small(n: u64, thr: u64) -> bool {
    n >= 1 && n < thr
}

/// The text of count `n` shown as `s`.
pub fn text(n: u64, s: Shown, thr: u64) -> String {
    match s {
        Shown::Exact => people(n as f64),
        Shown::Small => format!("<{thr}"),
        Shown::Withheld => format!("≥{thr}"),
    }
}

/// The text of a count that no other shown count is tied to.
pub fn lone(n: u64, thr: u64) -> String {
    text(n, first(n, thr), thr)
}

fn first(n: u64, thr: u64) -> Shown {
    if is_small(n, thr) {
        Shown::Small
    } else {
        Shown::Exact
    }
}

// ---------------------------------------------------------------------------------------
// Counts tied by what a reader knows

/// A lower and an upper bound; `None` is unbounded.
type Range = (Option<i128>, Option<i128>);

/// Counts tied by linear identities and inequalities a reader knows (every constraint reads
/// Σ coefficient × count = 0, or ≤ 0), solved for what the shown ones give away.
pub struct Linked {
    values: Vec<u64>,
    /// Lower ranks are withheld first.
    rank: Vec<u8>,
    /// Hidden even at zero (a part of a small count), so that "<thr" may be 0 too.
    zero_hidden: Vec<bool>,
    eqs: Vec<Vec<(i64, usize)>>,
    les: Vec<Vec<(i64, usize)>>,
}

impl Linked {
    /// No counts yet.
    pub fn new() -> Self {
        Linked {
            values: Vec::new(),
            rank: Vec::new(),
            zero_hidden: Vec::new(),
            eqs: Vec::new(),
            les: Vec::new(),
        }
    }

    /// A count; among those that could be withheld to protect a small one, lower ranks go
    /// first. Returns its index.
    pub fn add(&mut self, value: u64, rank: u8) -> usize {
        self.values.push(value);
        self.rank.push(rank);
        self.zero_hidden.push(false);
        self.values.len() - 1
    }

    /// A count that is part of a small one (a pair's count in a small stratum, an overlap
    /// with a small list): hidden at zero as well, since a zero there tells something about
    /// each of those few people.
    pub fn add_part_of_small(&mut self, value: u64, rank: u8) -> usize {
        let v = self.add(value, rank);
        self.zero_hidden[v] = true;
        v
    }

    fn small(&self, v: usize, thr: u64) -> bool {
        is_small(self.values[v], thr) || (self.zero_hidden[v] && self.values[v] == 0 && thr > 0)
    }

    /// Σ coefficient × count = 0.
    pub fn eq(&mut self, terms: Vec<(i64, usize)>) {
        self.eqs.push(terms);
    }

    /// Σ coefficient × count ≤ 0.
    pub fn le(&mut self, terms: Vec<(i64, usize)>) {
        self.les.push(terms);
    }

    /// How each count is shown at threshold `thr`: small ones "<thr", and as many others
    /// withheld as it takes for no small one to be pinned.
    pub fn decide(&self, thr: u64) -> Vec<Shown> {
        let mut shown: Vec<Shown> = (0..self.values.len())
            .map(|v| {
                if self.small(v, thr) {
                    Shown::Small
                } else {
                    Shown::Exact
                }
            })
            .collect();
        // "<thr" below 3 names the value by itself: nothing else can protect it
        if thr < 3 {
            return shown;
        }
        while let Some(v) = self.pinned(&shown, thr) {
            match self.next_to_withhold(v, &shown, thr) {
                Some(w) => shown[w] = Shown::Withheld,
                None => break,
            }
        }
        shown
    }

    /// The first small count a reader can pin down.
    fn pinned(&self, shown: &[Shown], thr: u64) -> Option<usize> {
        let bounds = self.propagate(shown, thr);
        (0..shown.len())
            .filter(|&i| shown[i] == Shown::Small)
            .find(|&i| one_value(bounds[i]) || self.determined(i, shown))
    }

    /// Whether the identities give small count `v`'s value, whatever the bounds: the
    /// identities restricted to the hidden counts lose rank without it.
    fn determined(&self, v: usize, shown: &[Shown]) -> bool {
        let hidden: Vec<usize> = (0..shown.len())
            .filter(|&i| shown[i] != Shown::Exact)
            .collect();
        let others: Vec<usize> = hidden.iter().copied().filter(|&j| j != v).collect();
        self.rank_of(&others) < self.rank_of(&hidden)
    }

    /// The count to withhold next for pinned small count `v`. Among the shown counts in a
    /// constraint with `v` (lowest rank, then smallest, first), the first whose withholding
    /// frees `v`, else the first that widens the identities' hidden part, else the first;
    /// with none, the same among the counts reached through the hidden ones.
    fn next_to_withhold(&self, v: usize, shown: &[Shown], thr: u64) -> Option<usize> {
        let all: Vec<&Vec<(i64, usize)>> = self.eqs.iter().chain(&self.les).collect();
        let mut reached = vec![false; self.values.len()];
        reached[v] = true;
        let mut layer = vec![v];
        while !layer.is_empty() {
            let mut candidates = Vec::new();
            let mut next = Vec::new();
            for &x in &layer {
                for c in all.iter().filter(|c| c.iter().any(|&(_, i)| i == x)) {
                    for &(_, i) in c.iter() {
                        if reached[i] {
                            continue;
                        }
                        reached[i] = true;
                        if shown[i] != Shown::Exact {
                            next.push(i);
                        } else if self.values[i] >= thr {
                            candidates.push(i);
                        }
                    }
                }
            }
            candidates.sort_by_key(|&i| (self.rank[i], self.values[i], i));
            let frees = |w: usize| {
                let mut trial = shown.to_vec();
                trial[w] = Shown::Withheld;
                !self.is_pinned(v, &trial, thr)
            };
            if let Some(&w) = candidates.iter().find(|&&w| frees(w)) {
                return Some(w);
            }
            // none frees it alone: the first that adds to what the identities leave open
            // (a count outside every identity that pins it would be withheld for nothing)
            let hidden: Vec<usize> = (0..shown.len())
                .filter(|&i| shown[i] != Shown::Exact)
                .collect();
            let base = self.rank_of(&hidden);
            let widens = |w: usize| {
                let mut h = hidden.clone();
                h.push(w);
                self.rank_of(&h) > base
            };
            if let Some(&w) = candidates
                .iter()
                .find(|&&w| widens(w))
                .or(candidates.first())
            {
                return Some(w);
            }
            layer = next;
        }
        None
    }

    /// Whether small count `v` is pinned.
    fn is_pinned(&self, v: usize, shown: &[Shown], thr: u64) -> bool {
        one_value(self.propagate(shown, thr)[v]) || self.determined(v, shown)
    }

    /// Each count's bounds as a reader can narrow them: shown ones exact, small ones from 1
    /// to thr − 1, withheld ones from thr up, narrowed through every constraint in turn
    /// until nothing moves.
    fn propagate(&self, shown: &[Shown], thr: u64) -> Vec<Range> {
        let thr = i128::from(thr);
        let mut b: Vec<Range> = shown
            .iter()
            .enumerate()
            .map(|(i, s)| match s {
                Shown::Exact => (
                    Some(i128::from(self.values[i])),
                    Some(i128::from(self.values[i])),
                ),
                Shown::Small => (Some(i128::from(!self.zero_hidden[i])), Some(thr - 1)),
                Shown::Withheld => (Some(thr), None),
            })
            .collect();
        // bounds only narrow, by at least 1 a step; a cap keeps a slow creep finite
        for _ in 0..200 {
            let mut moved = false;
            for (c, equal) in self
                .eqs
                .iter()
                .map(|c| (c, true))
                .chain(self.les.iter().map(|c| (c, false)))
            {
                for &(cj, j) in c {
                    if cj == 0 {
                        continue;
                    }
                    let (lo, hi) = solve(c, j, &b, equal);
                    let cur = b[j];
                    let nlo = max_opt(cur.0, lo);
                    let nhi = min_opt(cur.1, hi);
                    if (nlo, nhi) != cur {
                        b[j] = (nlo, nhi);
                        moved = true;
                    }
                }
            }
            if !moved {
                break;
            }
        }
        b
    }

    /// The rank of the identities restricted to the counts `cols`.
    fn rank_of(&self, cols: &[usize]) -> usize {
        let mut m: Vec<Vec<f64>> = self
            .eqs
            .iter()
            .map(|e| {
                cols.iter()
                    .map(|&c| e.iter().filter(|t| t.1 == c).map(|t| t.0 as f64).sum())
                    .collect()
            })
            .collect();
        rank(&mut m)
    }
}

impl Default for Linked {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether bounds leave one value at most.
fn one_value((lo, hi): Range) -> bool {
    matches!((lo, hi), (Some(a), Some(b)) if a >= b)
}

/// The bounds constraint `c` gives count `j` from the others' bounds `b`.
fn solve(c: &[(i64, usize)], j: usize, b: &[Range], equal: bool) -> Range {
    let cj: i128 = c.iter().filter(|t| t.1 == j).map(|t| i128::from(t.0)).sum();
    if cj == 0 {
        return (None, None);
    }
    // the others' sum S lies in [slo, shi]; cj·x = −S (or ≤ −S)
    let (mut slo, mut shi) = (Some(0i128), Some(0i128));
    for &(ck, k) in c.iter().filter(|t| t.1 != j) {
        let ck = i128::from(ck);
        let (lo, hi) = b[k];
        let (tlo, thi) = if ck >= 0 {
            (lo.map(|x| ck * x), hi.map(|x| ck * x))
        } else {
            (hi.map(|x| ck * x), lo.map(|x| ck * x))
        };
        slo = slo.zip(tlo).map(|(a, t)| a + t);
        shi = shi.zip(thi).map(|(a, t)| a + t);
    }
    let (rlo, rhi) = (shi.map(|s| -s), slo.map(|s| -s));
    let rlo = if equal { rlo } else { None };
    if cj > 0 {
        (rlo.map(|r| ceil_div(r, cj)), rhi.map(|r| floor_div(r, cj)))
    } else {
        (rhi.map(|r| ceil_div(r, cj)), rlo.map(|r| floor_div(r, cj)))
    }
}

fn floor_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

fn ceil_div(a: i128, b: i128) -> i128 {
    -floor_div(-a, b)
}

fn max_opt(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) | (None, x) => x,
    }
}

fn min_opt(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) | (None, x) => x,
    }
}

/// Row rank by Gaussian elimination; the coefficients are small whole numbers.
fn rank(m: &mut [Vec<f64>]) -> usize {
    let cols = m.first().map_or(0, |r| r.len());
    let mut r = 0;
    for c in 0..cols {
        let Some(p) = (r..m.len()).max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs())) else {
            break;
        };
        if m[p][c].abs() < 1e-9 {
            continue;
        }
        m.swap(r, p);
        let pivot = m[r].clone();
        for (i, row) in m.iter_mut().enumerate() {
            let f = row[c] / pivot[c];
            if i != r && f != 0.0 {
                for (x, y) in row[c..].iter_mut().zip(&pivot[c..]) {
                    *x -= f * y;
                }
            }
        }
        r += 1;
        if r == m.len() {
            break;
        }
    }
    r
}

// ---------------------------------------------------------------------------------------
// A result

/// What a result's renderings may show: every count of identified people with how it is
/// shown, and so which estimates may show their figures.
pub struct Plan {
    thr: u64,
    whole: (u64, Shown),
    strata: Vec<(u64, Shown)>,
    estimates: Vec<(u64, Shown)>,
    strata_estimates: Vec<Vec<(u64, Shown)>>,
    /// The world extrapolation's counts.
    pub aggregate: Option<AggregatePlan>,
}

/// One count as shown and whether the figures that rest on it may be.
pub struct Cell {
    /// The count's text.
    pub identified: String,
    /// Whether the figures worked out from it may be shown.
    pub figures: bool,
}

/// The world extrapolation's identified counts as shown.
pub struct AggregatePlan {
    /// The identified total ("<5", "1,000", "500 to 800").
    pub total: Cell,
    /// Identified children, when known.
    pub children: Option<Cell>,
    /// Each study's identified count, in the result's order (`None`: a published study,
    /// which has none).
    pub studies: Vec<Option<Cell>>,
}

/// What `doc`'s renderings may show at threshold `thr`.
pub fn plan(doc: &ResultDoc, thr: u64) -> Plan {
    let mut l = Linked::new();
    let whole = l.add(doc.data.observed, 2);
    let strata: Vec<usize> = doc.strata.iter().map(|s| l.add(s.observed, 0)).collect();
    if !strata.is_empty() {
        let mut t = vec![(1, whole)];
        t.extend(strata.iter().map(|&s| (-1, s)));
        l.eq(t);
    }
    // An estimate counting other people than its data's n (a two-list pair counts the
    // people on its two lists) has a count of its own, at most its data's n; the same
    // method and label over the strata add up to the whole's.
    // the strata's counts are withheld before the whole's
    let own = |l: &mut Linked, n: u64, of: usize| -> usize {
        if n == l.values[of] {
            of
        } else {
            let rank = if of == whole { 1 } else { 0 };
            let v = if is_small(l.values[of], thr) {
                l.add_part_of_small(n, rank)
            } else {
                l.add(n, rank)
            };
            l.le(vec![(1, v), (-1, of)]);
            v
        }
    };
    let est: Vec<usize> = doc
        .estimates
        .iter()
        .map(|e| own(&mut l, e.observed, whole))
        .collect();
    let strata_est: Vec<Vec<usize>> = doc
        .strata
        .iter()
        .zip(&strata)
        .map(|(s, &sv)| {
            s.estimates
                .iter()
                .map(|e| own(&mut l, e.observed, sv))
                .collect()
        })
        .collect();
    for (j, e) in doc.estimates.iter().enumerate() {
        if est[j] == whole || doc.strata.is_empty() {
            continue;
        }
        let parts: Vec<Option<usize>> = doc
            .strata
            .iter()
            .zip(&strata_est)
            .map(|(s, ix)| {
                s.estimates
                    .iter()
                    .position(|x| x.method == e.method && x.label == e.label)
                    .map(|p| ix[p])
            })
            .collect();
        let complete = parts.iter().all(Option::is_some);
        let mut t = vec![(1, est[j])];
        t.extend(parts.into_iter().flatten().map(|p| (-1, p)));
        // the strata that have the estimate add up to the whole's count, or to less
        if complete {
            l.eq(t);
        } else {
            l.le(t.into_iter().map(|(c, v)| (-c, v)).collect());
        }
    }
    let shown = l.decide(thr);
    let at = |v: usize| (l.values[v], shown[v]);
    Plan {
        thr,
        whole: at(whole),
        strata: strata.iter().map(|&v| at(v)).collect(),
        estimates: est.iter().map(|&v| at(v)).collect(),
        strata_estimates: strata_est
            .iter()
            .map(|ix| ix.iter().map(|&v| at(v)).collect())
            .collect(),
        aggregate: doc.aggregate.as_ref().map(|a| aggregate(a, thr)),
    }
}

fn aggregate(a: &AggregateResult, thr: u64) -> AggregatePlan {
    AggregatePlan {
        total: aggregate_count(&a.identified.total, thr),
        children: a
            .identified
            .children
            .as_ref()
            .map(|c| aggregate_count(c, thr)),
        studies: a
            .studies
            .iter()
            .map(|s| {
                s.observed.map(|n| {
                    let shown = first(n, thr);
                    Cell {
                        identified: text(n, shown, thr),
                        figures: shown == Shown::Exact,
                    }
                })
            })
            .collect(),
    }
}

/// An identified count of the aggregate: each end of a range on its own; the figures drawn
/// from it only when no end is small.
fn aggregate_count(c: &Count, thr: u64) -> Cell {
    let one = |x: f64| {
        if x > 0.0 && x < thr as f64 {
            (format!("<{thr}"), false)
        } else {
            (people(x), true)
        }
    };
    match *c {
        Count::Exact(x) => {
            let (t, ok) = one(x);
            Cell {
                identified: t,
                figures: ok,
            }
        }
        Count::Range { lower, upper } => {
            let (a, ok_a) = one(lower);
            let (b, ok_b) = one(upper);
            Cell {
                identified: format!("{a} to {b}"),
                figures: ok_a && ok_b,
            }
        }
    }
}

impl Plan {
    /// The threshold.
    pub fn threshold(&self) -> u64 {
        self.thr
    }

    fn cell(&self, (n, s): (u64, Shown)) -> Cell {
        Cell {
            identified: text(n, s, self.thr),
            figures: s == Shown::Exact,
        }
    }

    /// The whole data's count (also every total's over the strata).
    pub fn whole(&self) -> Cell {
        self.cell(self.whole)
    }

    /// Stratum `i`'s count.
    pub fn stratum(&self, i: usize) -> Cell {
        self.strata
            .get(i)
            .map_or_else(|| self.withheld(), |&c| self.cell(c))
    }

    /// Whole-data estimate `j`'s count.
    pub fn estimate(&self, j: usize) -> Cell {
        self.estimates
            .get(j)
            .map_or_else(|| self.withheld(), |&c| self.cell(c))
    }

    /// Estimate `j` of stratum `i`.
    pub fn stratum_estimate(&self, i: usize, j: usize) -> Cell {
        self.strata_estimates
            .get(i)
            .and_then(|s| s.get(j))
            .map_or_else(|| self.withheld(), |&c| self.cell(c))
    }

    fn withheld(&self) -> Cell {
        Cell {
            identified: format!("≥{}", self.thr),
            figures: false,
        }
    }

    /// Study `i` (`s`) of the world extrapolation as shown: its count, N̂ and N̂'s limits,
    /// with `none` where there is nothing to show. A published study has none of them; a
    /// live study whose count is not shown has its N̂ and interval withheld.
    pub fn study(&self, i: usize, s: &global::StudyResult, none: &str) -> [String; 4] {
        let Some(p) = s.population else {
            return [none.into(), none.into(), none.into(), none.into()];
        };
        let c = self
            .aggregate
            .as_ref()
            .and_then(|a| a.studies.get(i))
            .and_then(Option::as_ref)
            .map_or_else(
                || self.withheld(),
                |c| Cell {
                    identified: c.identified.clone(),
                    figures: c.figures,
                },
            );
        if !c.figures {
            return [c.identified, "withheld".into(), none.into(), none.into()];
        }
        let limit = |x: Option<f64>| x.map_or(none.to_string(), people);
        let iv = s.interval.as_ref();
        [
            c.identified,
            people(p),
            limit(iv.and_then(|i| i.lower)),
            limit(iv.and_then(|i| i.upper)),
        ]
    }

    /// The estimate the summary speaks about, with its index: the first with a number and
    /// an interval and whose figures may be shown, preferring one whose interval comes from
    /// a bootstrap (it includes the model choice).
    pub fn primary<'a>(&self, doc: &'a ResultDoc) -> Option<(usize, &'a Estimate)> {
        let ok = |(j, e): &(usize, &Estimate)| {
            self.estimate(*j).figures
                && e.status == Status::Ok
                && e.population.is_some()
                && e.interval
                    .as_ref()
                    .is_some_and(|i| i.lower.is_some() && i.upper.is_some())
        };
        let all = || doc.estimates.iter().enumerate().filter(ok);
        all()
            .find(|(_, e)| e.bootstrap.is_some())
            .or_else(|| all().next())
    }

    /// Whether anything is hidden, for a note beside the tables.
    pub fn hides_anything(&self) -> bool {
        let hidden = |c: &(u64, Shown)| c.1 != Shown::Exact;
        hidden(&self.whole)
            || self.strata.iter().any(hidden)
            || self.estimates.iter().any(hidden)
            || self.strata_estimates.iter().flatten().any(hidden)
            || self.aggregate.as_ref().is_some_and(|a| {
                !a.total.figures
                    || a.children.as_ref().is_some_and(|c| !c.figures)
                    || a.studies.iter().flatten().any(|c| !c.figures)
            })
    }

    /// The note beside tables that hide something.
    pub fn note(&self) -> String {
        format!(
            "Counts below {t} are shown as <{t}, and ≥{t} marks a count withheld because it would give a small one away by subtraction; the figures of an estimate whose count is not shown are withheld too (they could give the count away). The result JSON has every figure.",
            t = self.thr
        )
    }
}

/// An assumption or caveat of the aggregate as the renderings give it: the two that quote
/// identified counts (the starting count, and units that do not add up to it) quote them
/// with the small ones hidden.
pub fn aggregate_words(doc: &ResultDoc, plan: &Plan, text: &str) -> String {
    let thr = plan.threshold() as f64;
    let exact = |x: f64| format!("{x:.0}");
    let hidden = |x: f64| {
        if x > 0.0 && x < thr {
            format!("<{}", plan.threshold())
        } else {
            exact(x)
        }
    };
    let Some(a) = &doc.aggregate else {
        return text.to_string();
    };
    let id = &a.identified;
    if text == global::identified_assumption(&global::count_words(&id.total, &exact), &id.source) {
        return global::identified_assumption(&global::count_words(&id.total, &hidden), &id.source);
    }
    text.to_string()
}

/// `s` with every number replaced by "…": the warnings of an estimate whose figures are
/// withheld quote them.
pub fn mask_numbers(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        let starts =
            c[i].is_ascii_digit() && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'));
        if !starts {
            out.push(c[i]);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < c.len()
            && (c[j].is_ascii_digit()
                || (matches!(c[j], '.' | ',' | 'e' | 'E')
                    && c.get(j + 1).is_some_and(|d| d.is_ascii_digit()))
                || (matches!(c[j], 'e' | 'E')
                    && matches!(c.get(j + 1), Some('-' | '+'))
                    && c.get(j + 2).is_some_and(|d| d.is_ascii_digit()))
                || (matches!(c[j], '-' | '+') && j > i && matches!(c[j - 1], 'e' | 'E')))
        {
            j += 1;
        }
        if c.get(j).is_some_and(|d| d.is_alphabetic()) {
            // part of a word or a name ("2x", a list called "3a")
            out.extend(&c[i..j]);
        } else {
            out.push('…');
        }
        i = j;
    }
    out
}

// ---------------------------------------------------------------------------------------
// The job echo

/// A JSON value that keeps its keys in the order they were written (the job echo reads as
/// the job was written).
enum Tree {
    Leaf(serde_json::Value),
    Array(Vec<Tree>),
    Object(Vec<(String, Tree)>),
}

impl Serialize for Tree {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Tree::Leaf(v) => v.serialize(s),
            Tree::Array(a) => {
                let mut q = s.serialize_seq(Some(a.len()))?;
                for x in a {
                    q.serialize_element(x)?;
                }
                q.end()
            }
            Tree::Object(o) => {
                let mut m = s.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Tree;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, x: bool) -> Result<Tree, E> {
                Ok(Tree::Leaf(x.into()))
            }
            fn visit_i64<E>(self, x: i64) -> Result<Tree, E> {
                Ok(Tree::Leaf(x.into()))
            }
            fn visit_u64<E>(self, x: u64) -> Result<Tree, E> {
                Ok(Tree::Leaf(x.into()))
            }
            fn visit_f64<E>(self, x: f64) -> Result<Tree, E> {
                Ok(Tree::Leaf(x.into()))
            }
            fn visit_str<E>(self, x: &str) -> Result<Tree, E> {
                Ok(Tree::Leaf(x.into()))
            }
            fn visit_unit<E>(self) -> Result<Tree, E> {
                Ok(Tree::Leaf(serde_json::Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Tree, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Tree::Array(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Tree, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry()? {
                    v.push((k, x));
                }
                Ok(Tree::Object(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Tree {
    fn get_mut(&mut self, key: &str) -> Option<&mut Tree> {
        match self {
            Tree::Object(o) => o.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Tree::Leaf(v) => v.as_f64(),
            _ => None,
        }
    }
}

/// The job as a report echoes it, and whether anything in it was withheld.
pub fn echo(job: &Job, thr: u64) -> (String, bool) {
    let full = serde_json::to_string_pretty(job).unwrap_or_default();
    let Ok(mut t) = serde_json::from_str::<Tree>(&full) else {
        return (full, false);
    };
    let small = |x: f64| x > 0.0 && x < thr as f64;
    let mut changed = false;
    let mut table = |data: Option<&mut Tree>| {
        let Some(rows) = data.and_then(|d| d.get_mut("rows")) else {
            return;
        };
        let Tree::Array(r) = rows else { return };
        let any = r.iter().any(|row| match row {
            Tree::Array(cells) => cells.last().and_then(Tree::number).is_some_and(small),
            _ => false,
        });
        if any {
            *rows = Tree::Leaf(
                format!(
                    "withheld: {} rows, some counting fewer than {thr} people (the result JSON has them)",
                    r.len()
                )
                .into(),
            );
            changed = true;
        }
    };
    table(t.get_mut("data"));
    if let Some(agg) = t.get_mut("aggregate") {
        if let Some(Tree::Array(studies)) = agg.get_mut("studies") {
            for s in studies.iter_mut() {
                table(s.get_mut("data"));
            }
        }
        let mut mark = |c: &mut Tree| {
            let ends: Vec<&mut Tree> = match c {
                Tree::Object(o) => o.iter_mut().map(|(_, v)| v).collect(),
                other => vec![other],
            };
            for e in ends {
                if e.number().is_some_and(small) {
                    *e = Tree::Leaf(format!("<{thr}").into());
                    changed = true;
                }
            }
        };
        if let Some(id) = agg.get_mut("identified") {
            for key in ["total", "children"] {
                if let Some(c) = id.get_mut(key) {
                    mark(c);
                }
            }
        }
        if let Some(Tree::Array(units)) = agg.get_mut("units") {
            let count_small = |c: &Tree| match c {
                Tree::Object(o) => o.iter().any(|(_, v)| v.number().is_some_and(small)),
                other => other.number().is_some_and(small),
            };
            // units add up to the total: one small unit withholds them all
            if units
                .iter_mut()
                .any(|u| u.get_mut("identified").is_some_and(|c| count_small(c)))
            {
                for u in units.iter_mut() {
                    if let Some(c) = u.get_mut("identified") {
                        *c = Tree::Leaf("withheld".into());
                    }
                }
                changed = true;
            }
        }
    }
    if !changed {
        return (full, false);
    }
    (serde_json::to_string_pretty(&t).unwrap_or_default(), true)
}

// ---------------------------------------------------------------------------------------
// describe

/// `describe`'s counts as its text shows them.
pub struct DescriptionShown {
    /// People identified.
    pub observed: String,
    /// People on each list.
    pub list_sizes: Vec<String>,
    /// People on both lists of each pair, in `Description::pairs`' order.
    pub pairs: Vec<String>,
    /// f₁, f₂, …
    pub frequencies: Vec<String>,
    /// The pairs shown as never overlapping ("A:B"); a zero overlap with a small list is
    /// hidden as the small counts are.
    pub empty_pairs: Vec<String>,
    /// Whether anything is hidden.
    pub hides_anything: bool,
}

/// How `describe` shows `d`'s counts at threshold `thr`; `None` shows them all (the
/// researcher's own view, `--show-small`).
///
/// The counts are tied: n = Σ fⱼ, Σ sizes = Σ j·fⱼ, Σ overlaps = Σ C(j, 2)·fⱼ (the overlaps
/// only when shown, up to 12 lists), and every overlap lies between size_a + size_b − n and
/// the smaller size, every size and fⱼ at most n.
pub fn describe(d: &Description, thr: Option<u64>) -> DescriptionShown {
    let mut l = Linked::new();
    let n = l.add(d.observed, 3);
    let sizes: Vec<usize> = d.list_sizes.iter().map(|&s| l.add(s, 2)).collect();
    let freqs: Vec<usize> = d.frequencies.iter().map(|&f| l.add(f, 1)).collect();
    let with_pairs = d.lists <= 12 && !d.pairs.is_empty();
    let index = |name: &str| d.list_names.iter().position(|x| x == name);
    let small_list =
        |name: &str| index(name).is_some_and(|i| thr.is_some_and(|t| is_small(d.list_sizes[i], t)));
    let pairs: Vec<usize> = if with_pairs {
        d.pairs
            .iter()
            .map(|p| {
                if small_list(&p.a) || small_list(&p.b) {
                    l.add_part_of_small(p.both, 0)
                } else {
                    l.add(p.both, 0)
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut t = vec![(1, n)];
    t.extend(freqs.iter().map(|&f| (-1, f)));
    l.eq(t);
    if !sizes.is_empty() {
        let mut t: Vec<(i64, usize)> = sizes.iter().map(|&s| (1, s)).collect();
        t.extend(freqs.iter().enumerate().map(|(j, &f)| (-(j as i64 + 1), f)));
        l.eq(t);
    }
    for &s in &sizes {
        l.le(vec![(1, s), (-1, n)]);
    }
    for &f in &freqs {
        l.le(vec![(1, f), (-1, n)]);
    }
    if with_pairs {
        let mut t: Vec<(i64, usize)> = pairs.iter().map(|&p| (1, p)).collect();
        t.extend(freqs.iter().enumerate().map(|(j, &f)| {
            let j = j as i64 + 1;
            (-(j * (j - 1) / 2), f)
        }));
        l.eq(t);
    }
    for (k, p) in d.pairs.iter().enumerate() {
        let (Some(a), Some(b)) = (index(&p.a), index(&p.b)) else {
            continue;
        };
        let (sa, sb) = (sizes[a], sizes[b]);
        match pairs.get(k) {
            Some(&v) => {
                l.le(vec![(1, v), (-1, sa)]);
                l.le(vec![(1, v), (-1, sb)]);
                l.le(vec![(1, sa), (1, sb), (-1, v), (-1, n)]);
            }
            // beyond 12 lists only the pairs that never overlap are shown, as zeros
            None if p.both == 0 => l.le(vec![(1, sa), (1, sb), (-1, n)]),
            None => {}
        }
    }
    let shown = match thr {
        Some(thr) => l.decide(thr),
        None => vec![Shown::Exact; l.values.len()],
    };
    let thr = thr.unwrap_or(0);
    let t = |v: usize| match shown[v] {
        Shown::Exact => l.values[v].to_string(),
        s => text(l.values[v], s, thr),
    };
    let hidden_zero = |k: usize| pairs.get(k).is_some_and(|&v| shown[v] != Shown::Exact);
    DescriptionShown {
        empty_pairs: d
            .pairs
            .iter()
            .enumerate()
            .filter(|(k, p)| p.both == 0 && !hidden_zero(*k))
            .map(|(_, p)| format!("{}:{}", p.a, p.b))
            .collect(),
        observed: t(n),
        list_sizes: sizes.iter().map(|&v| t(v)).collect(),
        pairs: if with_pairs {
            pairs.iter().map(|&v| t(v)).collect()
        } else {
            d.pairs.iter().map(|p| p.both.to_string()).collect()
        },
        frequencies: freqs.iter().map(|&v| t(v)).collect(),
        hides_anything: shown.iter().any(|s| *s != Shown::Exact),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Shown::{Exact, Small, Withheld};

    /// A whole and its parts, as the strata are.
    fn sums(total: u64, parts: &[u64], thr: u64) -> (Vec<Shown>, Shown) {
        let mut l = Linked::new();
        let t = l.add(total, 1);
        let p: Vec<usize> = parts.iter().map(|&x| l.add(x, 0)).collect();
        if !p.is_empty() {
            let mut e = vec![(1, t)];
            e.extend(p.iter().map(|&x| (-1, x)));
            l.eq(e);
        }
        let s = l.decide(thr);
        (p.iter().map(|&x| s[x]).collect(), s[t])
    }

    #[test]
    fn a_small_stratum_is_not_given_away_by_the_total() {
        assert_eq!(
            sums(113, &[3, 10, 100], 5),
            (vec![Small, Withheld, Exact], Exact)
        );
        // with 1 + 5 = 6 shown, the small one could only be 1; withholding the 5 would
        // leave it 1 still (5 is the least a withheld count can be), so the total goes
        assert_eq!(sums(6, &[1, 5], 5), (vec![Small, Exact], Withheld));
        // two small strata of 4 add up to 8: both are 4
        assert_eq!(sums(8, &[4, 4], 5), (vec![Small, Small], Withheld));
        assert_eq!(sums(5, &[2, 3], 5), (vec![Small, Small], Exact));
        assert_eq!(
            sums(102, &[1, 1, 100], 5),
            (vec![Small, Small, Withheld], Exact)
        );
        assert_eq!(sums(4, &[1, 3], 5), (vec![Small, Small], Small));
        assert_eq!(sums(30, &[10, 20], 5), (vec![Exact, Exact], Exact));
        assert_eq!(sums(7, &[], 5), (vec![], Exact));
        // the case: a stratum of 1 beside one of 599
        assert_eq!(sums(600, &[1, 599], 5), (vec![Small, Withheld], Exact));
        // the smallest shown stratum goes first: 1 + 6 = 7 leaves the small one 1 or 2
        assert_eq!(
            sums(606, &[1, 599, 6], 5),
            (vec![Small, Exact, Withheld], Exact)
        );
    }

    /// Brute force: every assignment of the hidden counts within their bounds that keeps the
    /// sum; a small count is safe when it takes two values or more.
    fn safe(total: u64, parts: &[u64], thr: u64) -> bool {
        let (p, t) = sums(total, parts, thr);
        let hidden: Vec<usize> = (0..parts.len()).filter(|&i| p[i] != Exact).collect();
        let total_known = t == Exact;
        let shown_sum: u64 = (0..parts.len())
            .filter(|&i| p[i] == Exact)
            .map(|i| parts[i])
            .sum();
        let cap = total + thr * 2;
        for &a in hidden.iter().filter(|&&i| p[i] == Small) {
            let mut values = std::collections::BTreeSet::new();
            let others: Vec<usize> = hidden.iter().copied().filter(|&i| i != a).collect();
            // enumerate the others' values (small: 1..thr, withheld: thr..cap)
            let ranges: Vec<(u64, u64)> = others
                .iter()
                .map(|&i| {
                    if p[i] == Small {
                        (1, thr - 1)
                    } else {
                        (thr, cap)
                    }
                })
                .collect();
            let mut idx: Vec<u64> = ranges.iter().map(|r| r.0).collect();
            loop {
                let rest: u64 = idx.iter().sum();
                for x in 1..thr {
                    let sum = shown_sum + rest + x;
                    let ok = if total_known {
                        sum == total
                    } else if t == Small {
                        sum < thr
                    } else {
                        sum >= thr
                    };
                    if ok {
                        values.insert(x);
                    }
                }
                let mut k = 0;
                while k < idx.len() {
                    if idx[k] < ranges[k].1 {
                        idx[k] += 1;
                        break;
                    }
                    idx[k] = ranges[k].0;
                    k += 1;
                }
                if k == idx.len() {
                    break;
                }
            }
            if values.len() < 2 {
                return false;
            }
        }
        true
    }

    #[test]
    fn no_small_part_of_a_sum_is_ever_pinned() {
        // every whole of up to three parts from a small grid
        let grid = [1u64, 2, 3, 4, 5, 6, 7, 9, 12];
        for &a in &grid {
            for &b in &grid {
                for &c in &grid {
                    let parts = [a, b, c];
                    assert!(safe(a + b + c, &parts, 5), "{parts:?}");
                    assert!(safe(a + b, &parts[..2], 5), "{:?}", &parts[..2]);
                }
            }
        }
    }

    #[test]
    fn identities_pin_what_bounds_alone_do_not() {
        // x + w + y = 100 and x + w + 2y = 103: y = 3 whatever x and w are, though their
        // bounds (each from 5 up) leave y wide; only withholding a sum protects it
        let mut l = Linked::new();
        let a = l.add(100, 2);
        let b = l.add(103, 2);
        let x = l.add(40, 0);
        let w = l.add(57, 0);
        let y = l.add(3, 0);
        l.eq(vec![(1, a), (-1, x), (-1, w), (-1, y)]);
        l.eq(vec![(1, b), (-1, x), (-1, w), (-2, y)]);
        let s = l.decide(5);
        assert_eq!(s[y], Small);
        assert!(s[a] != Exact || s[b] != Exact, "{s:?}");
    }

    #[test]
    fn a_zero_is_hidden_only_as_part_of_a_small_count() {
        let mut l = Linked::new();
        let group = l.add(3, 0);
        let zero = l.add_part_of_small(0, 0);
        let other = l.add(0, 0);
        l.le(vec![(1, zero), (-1, group)]);
        let s = l.decide(5);
        assert_eq!((s[group], s[zero], s[other]), (Small, Small, Exact));
        assert_eq!(text(0, s[zero], 5), "<5");
    }

    #[test]
    fn a_threshold_below_three_protects_nothing_by_withholding() {
        assert_eq!(sums(600, &[1, 599], 2), (vec![Small, Exact], Exact));
        assert_eq!(sums(600, &[1, 599], 1), (vec![Exact, Exact], Exact));
    }

    #[test]
    fn numbers_in_warnings_are_masked_but_names_kept() {
        assert_eq!(
            mask_numbers("the last iterate gives N̂ = 3.000000 for L2, 1.5e-3 and 2x"),
            "the last iterate gives N̂ = … for L2, … and 2x"
        );
        assert_eq!(mask_numbers("3·N̂ = 12,345.6"), "…·N̂ = …");
    }

    #[test]
    fn describe_withholds_what_the_identities_would_give_away() {
        use crate::data::describe::{Description, PairOverlap};
        // two lists: the overlap is f₂, and n − size_a − size_b gives it back
        let d = Description {
            lists: 2,
            list_names: vec!["A".into(), "B".into()],
            observed: 600,
            list_sizes: vec![300, 303],
            pairs: vec![PairOverlap {
                a: "A".into(),
                b: "B".into(),
                both: 3,
            }],
            empty_pairs: Vec::new(),
            nonempty_cells: 3,
            possible_cells: Some(3),
            frequencies: vec![597, 3],
        };
        let s = describe(&d, Some(5));
        assert_eq!(s.pairs, vec!["<5"]);
        assert_eq!(s.frequencies[1], "<5");
        let shown: Vec<&String> = std::iter::once(&s.observed)
            .chain(&s.list_sizes)
            .chain(&s.frequencies)
            .collect();
        assert!(
            shown.iter().filter(|x| x.starts_with('≥')).count() >= 1,
            "{shown:?}"
        );
        let raw = describe(&d, None);
        assert_eq!(raw.pairs, vec!["3"]);
        assert!(!raw.hides_anything);
    }
}

/// A single-source estimate's marginal frequencies as they may be shown: from the largest
/// count down, cells joined until each group holds at least `thr` people, what is left at
/// the bottom joining the group above it; every group's observed count is then at least
/// `thr` and they add up to n, so none gives a small count away by subtraction. Rows:
/// times recorded (`3`, `4–6`, `7+`), observed, fitted. None when the estimate has no
/// marginal table, or fewer than `thr` people in all.
pub fn marginal_groups(e: &crate::methods::Estimate, thr: u64) -> Option<Vec<[String; 3]>> {
    let crate::methods::Details::SingleSource(d) = &e.options else {
        return None;
    };
    let cells = &d.goodness_of_fit.as_ref()?.marginal;
    let total: u64 = cells.iter().map(|c| c.observed).sum();
    if total < thr || cells.is_empty() {
        return None;
    }
    // Groups of cell indices, built from the top.
    let mut groups: Vec<(usize, usize, u64, f64)> = Vec::new();
    let (mut hi, mut obs, mut fit) = (cells.len() - 1, 0u64, 0.0);
    for i in (0..cells.len()).rev() {
        obs += cells[i].observed;
        fit += cells[i].expected;
        if obs >= thr {
            groups.push((i, hi, obs, fit));
            (obs, fit) = (0, 0.0);
            hi = i.saturating_sub(1);
        }
    }
    if obs > 0 || fit > 0.0 {
        match groups.last_mut() {
            Some(g) => {
                g.0 = 0;
                g.2 += obs;
                g.3 += fit;
            }
            None => return None,
        }
    }
    Some(
        groups
            .iter()
            .rev()
            .map(|&(lo, hi, o, f)| {
                let times = if lo == hi {
                    cells[lo].times.clone()
                } else {
                    format!("{}–{}", cells[lo].times, cells[hi].times)
                };
                [times, o.to_string(), format!("{f:.1}")]
            })
            .collect(),
    )
}
