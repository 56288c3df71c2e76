//! Rcapture's closed-population models (Baillargeon & Rivest 2007, JSS 19(5)): M0, Mt,
//! Mh and Mth with Chao's lower-bound, Poisson(2), Darroch and Gamma(3.5) heterogeneity,
//! Mb and Mbh.
//!
//! Model: the 2^t − 1 observable capture histories ω have independent Poisson counts with
//! log μ_ω = β₀ + x(ω)ᵀβ (+ offset), the unobserved history has mean exp(β₀), so
//! N̂ = n + exp(β₀) (Mb and Mbh use their own expressions). Assumptions: a closed
//! population, independent animals/people, and capture probabilities that vary only as
//! the model says (time t, heterogeneity h, behavioural response b). Heterogeneity enters
//! through a function of the number of captures k: Chao's lower bound uses the hinges
//! max(0, k − j + 1), j = 3..t, with negative η's removed one by one; Poisson θ^k − 1;
//! Darroch k²/2; Gamma −log(θ + k) + log θ (Rivest & Baillargeon 2007).
//!
//! Frequency data (`closedp.0`): only M0 and the Mh models, fitted to f_1..f_t with offset
//! log C(t, k) (or −log k! when t is infinite), which is also how tables with more lists than
//! `MAX_DENSE_LISTS` are handled.

use super::common::{glm_warnings, loglin_estimate, no_estimate};
use super::details::{ClosedDetails, Details};
use super::types::{Estimate, Settings, Status};
use crate::data::{Dataset, MAX_DENSE_LISTS, Occasions};
use crate::error::{Error, Result};
use crate::glm::lattice::{Column, Lattice};
use crate::glm::{FitOptions, Problem};
use crate::inference::log_normal_interval;
use crate::inference::{Construction, IntervalKind};
use crate::loglinear::fit::{LoglinFit, fit_loglin};

/// Heterogeneity form of an Mh/Mth model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Het {
    /// Chao's lower bound.
    Chao,
    /// Poisson with θ.
    Poisson(f64),
    /// Darroch.
    Darroch,
    /// Gamma with θ.
    Gamma(f64),
}

/// One of the twelve models of `closedp.t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClosedModel {
    /// Constant capture probability.
    M0,
    /// Time effects.
    Mt,
    /// Heterogeneity.
    Mh(Het),
    /// Time and heterogeneity.
    Mth(Het),
    /// Behavioural response.
    Mb,
    /// Behavioural response and heterogeneity.
    Mbh,
}

/// Method ids of the table family, in Rcapture's order.
pub const TABLE_IDS: &[&str] = &[
    "m0",
    "mt",
    "mh-chao",
    "mh-poisson2",
    "mh-darroch",
    "mh-gamma3.5",
    "mth-chao",
    "mth-poisson2",
    "mth-darroch",
    "mth-gamma3.5",
    "mb",
    "mbh",
];
/// Method ids available on frequency data.
pub const FREQUENCY_IDS: &[&str] = &["m0", "mh-chao", "mh-poisson2", "mh-darroch", "mh-gamma3.5"];

impl ClosedModel {
    /// Parses a method id.
    pub fn from_id(id: &str) -> Option<Self> {
        let het = |s: &str| match s {
            "chao" => Some(Het::Chao),
            "poisson2" => Some(Het::Poisson(2.0)),
            "darroch" => Some(Het::Darroch),
            "gamma3.5" => Some(Het::Gamma(3.5)),
            _ => None,
        };
        match id {
            "m0" => Some(ClosedModel::M0),
            "mt" => Some(ClosedModel::Mt),
            "mb" => Some(ClosedModel::Mb),
            "mbh" => Some(ClosedModel::Mbh),
            _ => {
                if let Some(h) = id.strip_prefix("mth-") {
                    het(h).map(ClosedModel::Mth)
                } else if let Some(h) = id.strip_prefix("mh-") {
                    het(h).map(ClosedModel::Mh)
                } else {
                    None
                }
            }
        }
    }

    /// The method id, as one of [`TABLE_IDS`].
    pub fn static_id(&self) -> &'static str {
        TABLE_IDS
            .iter()
            .copied()
            .find(|id| ClosedModel::from_id(id) == Some(*self))
            .unwrap_or("")
    }

    /// The method id.
    pub fn id(&self) -> String {
        let h = |h: &Het| match h {
            Het::Chao => "chao".to_string(),
            Het::Poisson(t) => format!("poisson{t}"),
            Het::Darroch => "darroch".to_string(),
            Het::Gamma(t) => format!("gamma{t}"),
        };
        match self {
            ClosedModel::M0 => "m0".into(),
            ClosedModel::Mt => "mt".into(),
            ClosedModel::Mb => "mb".into(),
            ClosedModel::Mbh => "mbh".into(),
            ClosedModel::Mh(x) => format!("mh-{}", h(x)),
            ClosedModel::Mth(x) => format!("mth-{}", h(x)),
        }
    }

    /// Rcapture's row label.
    pub fn label(&self) -> String {
        let h = |h: &Het| match h {
            Het::Chao => "Chao (LB)".to_string(),
            Het::Poisson(t) => format!("Poisson{t}"),
            Het::Darroch => "Darroch".to_string(),
            Het::Gamma(t) => format!("Gamma{t}"),
        };
        match self {
            ClosedModel::M0 => "M0".into(),
            ClosedModel::Mt => "Mt".into(),
            ClosedModel::Mb => "Mb".into(),
            ClosedModel::Mbh => "Mbh".into(),
            ClosedModel::Mh(x) => format!("Mh {}", h(x)),
            ClosedModel::Mth(x) => format!("Mth {}", h(x)),
        }
    }

    fn het(&self) -> Option<Het> {
        match self {
            ClosedModel::Mh(h) | ClosedModel::Mth(h) => Some(*h),
            _ => None,
        }
    }

    /// Whether the model can be fitted to frequencies of capture alone.
    pub fn frequency_ok(&self) -> bool {
        matches!(self, ClosedModel::M0 | ClosedModel::Mh(_))
    }
}

/// Heterogeneity columns for k captures out of t.
fn het_columns(h: Het, t: usize, x: &mut Vec<f64>, k: usize) {
    let kf = k as f64;
    match h {
        Het::Chao => {
            for j in 3..=t {
                x.push((kf - j as f64 + 1.0).max(0.0));
            }
        }
        Het::Poisson(th) => x.push(th.powf(kf) - 1.0),
        Het::Darroch => x.push(kf * kf / 2.0),
        Het::Gamma(th) => x.push(-(th + kf).ln() + th.ln()),
    }
}

fn het_names(h: Het, t: usize) -> Vec<String> {
    match h {
        Het::Chao => (3..=t).map(|j| format!("eta{j}")).collect(),
        _ => vec!["tau".into()],
    }
}

/// The design of a model on the full table of t occasions (cells h = 1..2^t − 1).
/// Cells share a design row when the model cannot tell them apart: by number of captures
/// k for M0 and Mh, by (first capture, k) for Mb and Mbh; Mt and Mth live on the lattice
/// of histories (every cell its own row, fast normal equations).
pub fn table_problem(m: ClosedModel, t: usize, counts: &[f64]) -> Problem {
    let mut names: Vec<String> = match m {
        ClosedModel::M0 | ClosedModel::Mh(_) => vec!["beta".into()],
        ClosedModel::Mt | ClosedModel::Mth(_) => (1..=t).map(|j| format!("beta{j}")).collect(),
        ClosedModel::Mb => vec!["beta1".into(), "beta2".into()],
        ClosedModel::Mbh => vec!["eta".into(), "beta1".into(), "beta2".into()],
    };
    if let Some(h) = m.het() {
        names.extend(het_names(h, t));
    }
    let ncell = (1usize << t) - 1;
    let het_by_count = |h: Het| -> Vec<Vec<f64>> {
        let per_k: Vec<Vec<f64>> = (0..=t)
            .map(|k| {
                let mut v = Vec::new();
                het_columns(h, t, &mut v, k);
                v
            })
            .collect();
        (0..per_k[0].len())
            .map(|c| (0..=t).map(|k| per_k[k][c]).collect())
            .collect()
    };
    match m {
        ClosedModel::Mt | ClosedModel::Mth(_) => {
            let mut columns = vec![Column::Contains(0)];
            columns.extend((0..t).map(|j| Column::Contains(1 << j)));
            if let Some(h) = m.het() {
                columns.extend(het_by_count(h).into_iter().map(Column::OfCount));
            }
            let hist: Vec<u64> = (1..=ncell as u64).collect();
            let y = hist.iter().map(|&h| counts[h as usize]).collect();
            Problem::from_lattice(names, Lattice { t, columns, hist }, y)
        }
        ClosedModel::M0 | ClosedModel::Mh(_) => {
            let mut rows = Vec::with_capacity(t * names.len());
            for k in 1..=t {
                rows.push(k as f64);
                if let Some(h) = m.het() {
                    het_columns(h, t, &mut rows, k);
                }
            }
            let y = (1..=ncell).map(|h| counts[h]).collect();
            let group = (1..=ncell as u64)
                .map(|h| h.count_ones() as usize - 1)
                .collect();
            Problem::new(names, &rows, vec![0.0; t], y, group)
        }
        ClosedModel::Mb | ClosedModel::Mbh => {
            // group index by (first capture j, k): rows created on first sight
            let mut index = vec![usize::MAX; t * (t + 1)];
            let mut rows = Vec::new();
            let mut y = Vec::with_capacity(ncell);
            let mut group = Vec::with_capacity(ncell);
            let mut ngroups = 0;
            for h in 1..=ncell as u64 {
                let k = h.count_ones() as usize;
                let key = h.trailing_zeros() as usize * (t + 1) + k;
                if index[key] == usize::MAX {
                    index[key] = ngroups;
                    ngroups += 1;
                    if m == ClosedModel::Mbh {
                        rows.push(1.0 - (h & 1) as f64);
                    }
                    rows.push(h.trailing_zeros() as f64);
                    rows.push(k as f64 - 1.0);
                }
                y.push(counts[h as usize]);
                group.push(index[key]);
            }
            Problem::new(names, &rows, vec![0.0; ngroups], y, group)
        }
    }
}

/// The design of M0/Mh on frequencies f_1..f_t0 (Rcapture `closedp.0`).
pub fn frequency_problem(m: ClosedModel, t: Occasions, f: &[f64]) -> Problem {
    let t0 = f.len();
    let mut names = vec!["beta".to_string()];
    if let Some(h) = m.het() {
        names.extend(het_names(h, t0));
    }
    let mut rows = Vec::new();
    let mut offset = Vec::with_capacity(t0);
    for k in 1..=t0 {
        rows.push(k as f64);
        if let Some(hh) = m.het() {
            het_columns(hh, t0, &mut rows, k);
        }
        offset.push(match t {
            Occasions::Finite(tt) => ln_choose(tt as usize, k),
            Occasions::Infinite => -statrs::function::factorial::ln_factorial(k as u64),
        });
    }
    Problem::new(names, &rows, offset, f.to_vec(), (0..t0).collect())
}

fn ln_choose(n: usize, k: usize) -> f64 {
    statrs::function::factorial::ln_binomial(n as u64, k as u64)
}

/// Fits a closed model to a table or frequencies and builds its estimate.
pub fn estimate(m: ClosedModel, data: &Dataset, opts: &Settings) -> Result<Estimate> {
    if let Dataset::Counts(c) = data {
        // One register's counts are frequencies of capture without a fixed number of
        // occasions (Rcapture's closedp.0 with t = Inf).
        let f = Dataset::Frequency(crate::data::FrequencyTable {
            occasions: Some(Occasions::Infinite),
            counts: c.frequencies(),
        });
        return estimate(m, &f, opts);
    }
    let (problem, t, n, freq_note) = match data {
        Dataset::Table(tab) => {
            let t = tab.k();
            if t < 2 {
                return Err(Error::Usage(format!(
                    "method {} needs at least 2 lists; the table has {t}",
                    m.id()
                )));
            }
            if m.het().is_some() && t < 3 {
                return Err(Error::Usage(format!(
                    "heterogeneity models ({}) need at least 3 lists; the table has {t}",
                    m.id()
                )));
            }
            if t > MAX_DENSE_LISTS {
                if !m.frequency_ok() {
                    return Err(Error::Usage(format!(
                        "method {} needs the full 2^k table, and {t} lists is more than the {MAX_DENSE_LISTS} supported; \
                         M0 and the Mh models work from the frequencies of capture",
                        m.id()
                    )));
                }
                let f: Vec<f64> = tab.frequencies().iter().map(|&c| c as f64).collect();
                (
                    frequency_problem(m, Occasions::Finite(t as u32), &f),
                    t,
                    tab.observed(),
                    Some(format!(
                        "{t} lists: fitted to the frequencies of capture (as Rcapture's closedp.0)"
                    )),
                )
            } else {
                let dense = tab.dense()?;
                (table_problem(m, t, &dense), t, tab.observed(), None)
            }
        }
        Dataset::Counts(_) => {
            return Err(Error::Numerical(
                "one register's counts reach the closed models only as frequencies".into(),
            ));
        }
        Dataset::Frequency(fr) => {
            if !m.frequency_ok() {
                return Err(Error::Usage(format!(
                    "method {} needs capture histories; frequency data support only {}",
                    m.id(),
                    FREQUENCY_IDS.join(", ")
                )));
            }
            let Some(occ) = fr.occasions else {
                return Err(Error::Usage(format!(
                    "method {} on frequency data needs the number of occasions: give --occasions T (a job: \"occasions\": T; inf for a single source)",
                    m.id()
                )));
            };
            let mut f: Vec<f64> = fr.counts.iter().map(|&c| c as f64).collect();
            let t0 = match occ {
                Occasions::Finite(t) => t as usize,
                Occasions::Infinite => fr.max_captures(),
            };
            f.resize(t0, 0.0);
            if t0 < 2 || (m.het().is_some() && t0 < 3) {
                return Err(Error::Usage(format!(
                    "method {} needs at least {} occasions; the data have {t0}",
                    m.id(),
                    if m.het().is_some() { 3 } else { 2 }
                )));
            }
            (frequency_problem(m, occ, &f), t0, fr.observed(), None)
        }
    };
    let fo = FitOptions {
        max_iter: opts.max_iter,
        ..FitOptions::default()
    };
    let chao_nca = match m {
        ClosedModel::Mh(Het::Chao) => Some(2),
        ClosedModel::Mth(Het::Chao) => Some(t + 1),
        _ => None,
    };
    let interval = match (m, opts.interval) {
        (_, IntervalKind::None) => None,
        (ClosedModel::Mb | ClosedModel::Mbh, _) => Some(Construction::LogNormal),
        (_, IntervalKind::Profile) => Some(Construction::Profile),
        (_, IntervalKind::WaldLog) => Some(Construction::WaldLog),
    };
    let options = Details::Closed(ClosedDetails {
        interval,
        level: opts.level,
        occasions: t,
    });
    let Some(lf) = fit_loglin(problem, chao_nca, fo, None) else {
        return Ok(no_estimate(
            &m.id(),
            m.label(),
            None,
            options,
            n,
            Status::NotConverged,
            vec!["the IRLS fit failed: no finite deviance could be reached".into()],
        ));
    };
    let warnings: Vec<String> = freq_note.into_iter().collect();
    match m {
        ClosedModel::Mb | ClosedModel::Mbh => {
            Ok(behavioural_estimate(m, &lf, t, n, opts, options, warnings))
        }
        _ => Ok(loglin_estimate(
            &m.id(),
            m.label(),
            None,
            options,
            &lf,
            n,
            opts,
            None,
            warnings,
        )),
    }
}

/// Mb and Mbh: N̂ from Rivest's closed forms, its delta-method standard error, and
/// Chao's log-normal interval (Rcapture gives no profile interval for these).
fn behavioural_estimate(
    m: ClosedModel,
    lf: &LoglinFit,
    t: usize,
    n: u64,
    opts: &Settings,
    options: Details,
    mut warnings: Vec<String>,
) -> Estimate {
    let fit = &lf.fit;
    let c = &fit.coef;
    let tf = t as f64;
    let e = |x: f64| x.exp();
    let (pop, v): (f64, Vec<f64>) = if m == ClosedModel::Mb {
        let den = 1.0 + e(c[2]) - e(c[1]);
        let pop = e(c[0]) * (1.0 + e(c[2])).powf(tf) / den;
        let v = vec![
            1.0,
            e(c[1]) / den,
            tf * e(c[2]) / (1.0 + e(c[2])) - e(c[2]) / den,
        ];
        (pop, v.into_iter().map(|x| x * pop).collect())
    } else {
        let den = 1.0 + e(c[3]) - e(c[2]);
        let a = e(c[1] + c[2]) / den;
        let base = e(c[0]) * (1.0 + e(c[3])).powf(tf - 1.0);
        let pop = base * (1.0 + a);
        let v = vec![
            1.0 + a,
            a,
            a + e(c[1] + 2.0 * c[2]) / (den * den),
            (tf - 1.0) * e(c[3]) / (1.0 + e(c[3])) - e(c[1] + c[2] + c[3]) / (den * den),
        ];
        (pop, v.into_iter().map(|x| x * base).collect())
    };
    let mut q = 0.0;
    for i in 0..v.len() {
        for j in 0..v.len() {
            q += v[i] * fit.cov[(i, j)] * v[j];
        }
    }
    let se = (q - pop).sqrt();
    warnings.extend(glm_warnings(fit));
    let nf = n as f64;
    let mut status = if fit.converged {
        Status::Ok
    } else {
        Status::NotConverged
    };
    if !pop.is_finite() {
        status = Status::Infinite;
    } else if pop < nf {
        // 1 + e^β2 − e^β1 < 0: the implied capture probability is negative, so the
        // unconstrained log-linear fit has left the model's parameter space.
        status = Status::MleDoesNotExist;
        warnings.push(format!(
            "the MLE does not exist within the {} model: the unconstrained fit implies a capture probability outside [0, 1] and N̂ = {pop:.6} < n (Rcapture prints this number)",
            m.label()
        ));
    }
    if let Some(bias) = super::common::asymptotic_bias(&lf.problem, fit) {
        if pop.is_finite() && bias.abs() > 0.1 * pop {
            warnings.push(format!(
                "the asymptotic bias is large: {bias:.1} against N̂ = {pop:.1} (Rcapture's 10% rule)"
            ));
        }
    }
    let summary = super::common::fit_summary(lf, nf, None);
    let exists = matches!(status, Status::Ok | Status::NotConverged);
    let mut interval = None;
    if exists && opts.interval != IntervalKind::None {
        let iv = log_normal_interval(nf, pop, se, opts.level.get());
        if !se.is_finite() {
            warnings.push(format!(
                "no standard error and no interval: the delta-method variance of N̂ is not positive, as happens when the {} fit sits on the boundary (a fitted rate numerically 0)",
                m.label()
            ));
        } else if iv.lower.is_none() || iv.upper.is_none() {
            warnings.push(if pop - nf <= 0.0 {
                "no interval: N̂ equals the observed count, and Chao's log-normal interval needs N̂ − n > 0".to_string()
            } else {
                "no interval: the standard error is so large against N̂ − n that the log-normal interval's factor is not finite".to_string()
            });
        } else {
            interval = Some(iv);
        }
    }
    Estimate {
        method: m.id(),
        label: m.label(),
        options,
        status,
        observed: n,
        population: exists.then_some(pop),
        missing: exists.then_some(pop - nf),
        std_error: if exists {
            super::common::finite(se)
        } else {
            None
        },
        interval,
        fit: Some(summary),
        warnings,
        ..Estimate::blank()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CaptureTable, FrequencyTable};
    use crate::methods::testing::{independent_cells, no_interval, rel};

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|i| format!("L{}", i + 1)).collect()
    }

    fn table(k: usize, cells: &[(u64, u64)]) -> Dataset {
        Dataset::Table(CaptureTable::new(names(k), cells.iter().copied()).unwrap())
    }

    #[test]
    fn ids_labels_and_models_round_trip() {
        // Rcapture's row names of `closedp.t`, in its order (Baillargeon & Rivest 2007).
        let rcapture = [
            "M0",
            "Mt",
            "Mh Chao (LB)",
            "Mh Poisson2",
            "Mh Darroch",
            "Mh Gamma3.5",
            "Mth Chao (LB)",
            "Mth Poisson2",
            "Mth Darroch",
            "Mth Gamma3.5",
            "Mb",
            "Mbh",
        ];
        assert_eq!(TABLE_IDS.len(), rcapture.len());
        for (id, label) in TABLE_IDS.iter().zip(rcapture) {
            let m = ClosedModel::from_id(id).unwrap_or_else(|| panic!("{id} does not parse"));
            assert_eq!(m.id(), *id);
            assert_eq!(m.static_id(), *id);
            assert_eq!(m.label(), label);
            assert_eq!(m.frequency_ok(), FREQUENCY_IDS.contains(id), "{id}");
        }
        for bad in [
            "",
            "m1",
            "mh-",
            "mth-",
            "mh-poisson3",
            "mh-gamma2",
            "M0",
            "mth-chao ",
        ] {
            assert_eq!(ClosedModel::from_id(bad), None, "{bad:?}");
        }
        // A heterogeneity parameter outside the table has an id but no static one.
        assert_eq!(ClosedModel::Mh(Het::Poisson(3.0)).id(), "mh-poisson3");
        assert_eq!(ClosedModel::Mh(Het::Poisson(3.0)).static_id(), "");
    }

    #[test]
    fn designs_have_the_documented_columns_and_groups() {
        for t in 3..=6usize {
            let counts = vec![1.0; 1 << t];
            let cells = (1usize << t) - 1;
            // (model, columns with the intercept, distinct design rows)
            let cases = [
                (ClosedModel::M0, 2, t),
                (ClosedModel::Mt, 1 + t, cells),
                // Chao's hinges max(0, k − j + 1) for j = 3..t
                (ClosedModel::Mh(Het::Chao), 2 + (t - 2), t),
                (ClosedModel::Mh(Het::Poisson(2.0)), 3, t),
                (ClosedModel::Mh(Het::Darroch), 3, t),
                (ClosedModel::Mh(Het::Gamma(3.5)), 3, t),
                (ClosedModel::Mth(Het::Chao), 1 + t + (t - 2), cells),
                (ClosedModel::Mth(Het::Darroch), 1 + t + 1, cells),
                (ClosedModel::Mb, 3, t * (t + 1) / 2),
                (ClosedModel::Mbh, 4, t * (t + 1) / 2),
            ];
            for (m, p, groups) in cases {
                let pr = table_problem(m, t, &counts);
                assert_eq!(pr.p, p, "{} on {t} lists", m.id());
                assert_eq!(pr.names.len(), p, "{}", m.id());
                assert_eq!(pr.names[0], "Intercept");
                assert_eq!(pr.groups(), groups, "{} on {t} lists", m.id());
                assert_eq!(pr.cells(), cells, "{}", m.id());
            }
        }
    }

    // A fit reproducing the data exactly: R's glm stops when the relative change in
    // deviance is below 1e-8, and IRLS converges quadratically, so the last step leaves
    // errors far below 1e-8 relative; 1e-8 is the bound asserted.
    const EXACT: f64 = 1e-8;

    #[test]
    fn m0_recovers_n_from_its_own_expected_counts() {
        // N = 81000, t = 4, p = 1/3: a history seen k times has N (1/3)^k (2/3)^(4−k)
        // = 1000·2^(4−k) people; the unseen 16000.
        let cells: Vec<(u64, u64)> = (1..16u64)
            .map(|h| (h, 1000 << (4 - h.count_ones())))
            .collect();
        let e = estimate(ClosedModel::M0, &table(4, &cells), &no_interval()).unwrap();
        assert_eq!(e.status, Status::Ok);
        assert_eq!(e.observed, 65_000);
        assert!(rel(e.population.unwrap(), 81_000.0) < EXACT, "{e:?}");
        let fit = e.fit.unwrap();
        assert!(fit.deviance.abs() < 1e-6, "{}", fit.deviance);
        // 15 cells, 2 parameters
        assert_eq!(fit.df, 13);
    }

    #[test]
    fn mt_recovers_n_from_its_own_expected_counts() {
        // N = 24000 with p = 1/2, 1/3, 1/4: the unseen are 24000·(1/2)(2/3)(3/4) = 6000.
        let cells = independent_cells(24_000, &[(1, 2), (1, 3), (1, 4)]);
        let e = estimate(ClosedModel::Mt, &table(3, &cells), &no_interval()).unwrap();
        assert_eq!(e.observed, 18_000);
        assert!(rel(e.population.unwrap(), 24_000.0) < EXACT, "{e:?}");
    }

    #[test]
    fn mt_on_two_lists_is_lincoln_petersen_with_sebers_variance() {
        // n10 = 60, n01 = 30, n11 = 20: n1 = 80, n2 = 50, m = 20, N̂ = 80·50/20 = 200.
        // Rcapture's se² = f0 + f0² var β0 with var β0 = 1/60 + 1/30 + 1/20 for the
        // saturated Poisson fit, which equals Seber's n1 n2 (n1−m)(n2−m)/m³ = 900.
        let e = estimate(
            ClosedModel::Mt,
            &table(2, &[(0b01, 60), (0b10, 30), (0b11, 20)]),
            &no_interval(),
        )
        .unwrap();
        assert!(rel(e.population.unwrap(), 200.0) < EXACT, "{e:?}");
        assert!(rel(e.std_error.unwrap(), 30.0) < EXACT, "{e:?}");
        assert_eq!(e.fit.unwrap().df, 0);
    }

    #[test]
    fn m0_on_two_lists_has_its_closed_form() {
        // Saturated on (f1, f2): μ1 = f1/2 per cell, μ2 = f2, so e^β = 2 f2/f1 and
        // the unseen e^β0 = f1²/(4 f2). f1 = 90, f2 = 20: 8100/80 = 101.25.
        let e = estimate(
            ClosedModel::M0,
            &table(2, &[(0b01, 60), (0b10, 30), (0b11, 20)]),
            &no_interval(),
        )
        .unwrap();
        assert!(rel(e.missing.unwrap(), 101.25) < EXACT, "{e:?}");
    }

    #[test]
    fn mh_chao_on_three_lists_is_chaos_lower_bound() {
        // Chao (1987): N̂ = n + (t−1)/t · f1²/(2 f2); on t = 3 the Mh Chao model is
        // saturated on the frequencies and gives exactly that, as long as its η ≥ 0
        // (f3 ≥ f2²/(3 f1) = 9 here). f1 = 300, f2 = 90, f3 = 20: 410 + 90000/270.
        let cells = [
            (0b001, 100),
            (0b010, 100),
            (0b100, 100),
            (0b011, 30),
            (0b101, 30),
            (0b110, 30),
            (0b111, 20),
        ];
        let e = estimate(
            ClosedModel::Mh(Het::Chao),
            &table(3, &cells),
            &no_interval(),
        )
        .unwrap();
        assert_eq!(e.status, Status::Ok);
        assert!(
            rel(e.population.unwrap(), 410.0 + 90_000.0 / 270.0) < EXACT,
            "{e:?}"
        );
    }

    #[test]
    fn mb_on_two_lists_is_the_removal_estimator() {
        // Two-sample removal (Zippin 1956; Seber 1982): u1 = 80 first caught on list 1,
        // u2 = 30 first caught on list 2, N̂ = u1²/(u1 − u2) = 6400/50 = 128.
        let e = estimate(
            ClosedModel::Mb,
            &table(2, &[(0b01, 60), (0b10, 30), (0b11, 20)]),
            &Settings::default(),
        )
        .unwrap();
        assert_eq!(e.status, Status::Ok);
        assert!(rel(e.population.unwrap(), 128.0) < EXACT, "{e:?}");
        assert_eq!(e.interval.unwrap().kind.as_str(), "log-normal");
    }

    #[test]
    fn a_boundary_status_does_not_depend_on_the_order_of_the_lists() {
        // Found by model_props: the fit drives the all-three cell and the unobserved one to
        // zero (β₀ → −∞, N̂ → n). Watching the coefficients move after the fit called this
        // `mle_does_not_exist` in one list order and `ok` with N̂ = n in the two rotations,
        // where the continued iteration aliased τ; the recession LP decides the same in
        // every order.
        let t = CaptureTable::new(
            names(3),
            [(1, 10), (2, 8), (3, 22), (4, 23), (5, 4), (6, 39)],
        )
        .unwrap();
        for perm in [
            [0, 1, 2],
            [1, 2, 0],
            [2, 0, 1],
            [0, 2, 1],
            [1, 0, 2],
            [2, 1, 0],
        ] {
            let tp = Dataset::Table(t.permuted(&perm).unwrap());
            let e = estimate(ClosedModel::Mth(Het::Darroch), &tp, &no_interval()).unwrap();
            assert_eq!(e.status, Status::MleDoesNotExist, "{perm:?}: {e:?}");
            assert!(e.population.is_none() && e.interval.is_none(), "{perm:?}");
            assert!(
                e.warnings.iter().any(|w| w.contains("N̂ collapses to n")),
                "{perm:?}: {:?}",
                e.warnings
            );
        }
    }

    #[test]
    fn mb_and_mbh_say_why_there_is_no_interval() {
        // Everyone first caught on list 1 and never missed after: the fits sit on the
        // boundary (fitted rates numerically 0), the delta-method variance is not positive.
        for (m, cells) in [
            (ClosedModel::Mb, &[(0b001, 5), (0b011, 3), (0b111, 4)][..]),
            (ClosedModel::Mbh, &[(0b111, 10)][..]),
        ] {
            let e = estimate(m, &table(3, cells), &Settings::default()).unwrap();
            assert!(e.interval.is_none() && e.std_error.is_none(), "{e:?}");
            assert!(
                e.warnings
                    .iter()
                    .any(|w| w.contains("no standard error and no interval")),
                "{m:?}: {:?}",
                e.warnings
            );
        }
        // Asked for no interval: none, and nothing to explain.
        let e = estimate(
            ClosedModel::Mb,
            &table(2, &[(0b01, 60), (0b10, 30), (0b11, 20)]),
            &no_interval(),
        )
        .unwrap();
        assert!(e.interval.is_none() && e.warnings.is_empty(), "{e:?}");
    }

    #[test]
    fn frequency_and_table_fits_agree() {
        // The frequency design's offset log C(t, k) stands for the C(t, k) cells that
        // share a row, so the likelihood for β, and N̂, is the same.
        let cells: Vec<(u64, u64)> = (1..32u64).map(|h| (h, 7 + (h * 13) % 11)).collect();
        let tab = CaptureTable::new(names(5), cells).unwrap();
        let freq = Dataset::Frequency(FrequencyTable {
            occasions: Some(Occasions::Finite(5)),
            counts: tab.frequencies(),
        });
        let tab = Dataset::Table(tab);
        for id in FREQUENCY_IDS {
            let m = ClosedModel::from_id(id).unwrap();
            let a = estimate(m, &tab, &no_interval()).unwrap();
            let b = estimate(m, &freq, &no_interval()).unwrap();
            assert_eq!(a.observed, b.observed);
            assert_eq!(a.status, b.status, "{id}");
            assert!(
                rel(a.population.unwrap(), b.population.unwrap()) < EXACT,
                "{id}: {a:?} vs {b:?}"
            );
            assert!(
                rel(a.std_error.unwrap(), b.std_error.unwrap()) < 1e-6,
                "{id}"
            );
        }
    }

    #[test]
    fn unusable_inputs_are_usage_errors() {
        let two = table(2, &[(1, 5), (2, 5), (3, 5)]);
        let usage = |r: Result<Estimate>| matches!(r, Err(Error::Usage(_)));
        // heterogeneity needs three lists
        assert!(usage(estimate(
            ClosedModel::Mh(Het::Chao),
            &two,
            &no_interval()
        )));
        assert!(usage(estimate(
            ClosedModel::M0,
            &table(1, &[(1, 5)]),
            &no_interval()
        )));
        let f = |occasions| {
            Dataset::Frequency(FrequencyTable {
                occasions,
                counts: vec![30, 10, 2],
            })
        };
        // frequencies carry no histories, and need the number of occasions
        assert!(usage(estimate(
            ClosedModel::Mt,
            &f(Some(Occasions::Finite(3))),
            &no_interval()
        )));
        assert!(usage(estimate(ClosedModel::M0, &f(None), &no_interval())));
        assert!(
            estimate(
                ClosedModel::M0,
                &f(Some(Occasions::Infinite)),
                &no_interval()
            )
            .is_ok()
        );
    }
}
