//! The sample-coverage estimators of Chao & Tsay (1998, JASA 93:283) for three or more
//! lists, as CARE1 1.1.0 computes them (`estN`, methods `Indep`, `HSC`, `LSC`; overview in
//! Chao, Tsay, Lin, Shau & Chao 2001, Stat Med 20:3123): `sc-indep` (N̂0), `sc-hsc` (N̂)
//! and `sc-lsc` (N̂1), with CARE1's bootstrap standard error and log-transformed interval.
//!
//! # Model and assumptions
//!
//! A closed population of N people: nobody enters or leaves while the t lists are made.
//! Person i is on list k with probability p_ik. People may differ in how easily they are
//! listed (heterogeneity) and the lists may depend on one another, but both only enter
//! through the coefficients of covariation (CCVs) of pairs of lists,
//! γ_jk = E(p_j p_k) / (p̄_j p̄_k) − 1 (0 for independent lists of homogeneous people,
//! positive when being on j goes with being on k). The estimators correct for these
//! pairwise CCVs to first order; dependence among three or more lists beyond the pairs,
//! and the higher-order terms of the expansion below, are assumed negligible. `sc-indep`
//! assumes every γ_jk = 0; `sc-hsc` needs a high sample coverage (the lists overlap
//! enough that most people on a list are also on another); `sc-lsc` is the one-step
//! correction meant for low coverage, where `sc-hsc` is unstable.
//!
//! # The statistics
//!
//! For the t lists, with z_h the number of people with capture history h:
//! - n_k: people on list k; M: people seen on any list;
//! - Z_k: people seen on list k and on no other; Z_jk: people seen on lists j and k and on
//!   no other; X_jk: people seen on both j and k (whatever else);
//! - D = (1/t) Σ_k (M − Z_k) = M − (1/t) Σ_k Z_k: the number seen on the other t − 1
//!   lists, averaged over the list left out;
//! - Ĉ = 1 − (1/t) Σ_k Z_k / n_k (Chao & Tsay 1998, eq. 14): the sample coverage, the
//!   share of a list's people who are also on some other list, averaged over the lists.
//!   Since Z_k ≤ n_k, 0 ≤ Ĉ ≤ 1; Ĉ = 0 exactly when no two lists share anyone.
//!
//! CARE1's `estN.stat` reports M, D and Ĉ (D and Ĉ rounded to 3 decimals there; the
//! estimate's `options` here hold them unrounded as `M`, `D`, `chat`).
//!
//! # The estimators
//!
//! For list k, the people on the other lists number M − Z_k, and the coverage they give
//! of list k's people is 1 − Z_k/n_k. Were the lists independent and people alike,
//! N ≈ (M − Z_k) / (1 − Z_k/n_k). With CCVs, expanding the chance of being on some other
//! list to first order in the covariances gives, averaged over k,
//!
//!   N Ĉ ≈ D + (1/t) Σ_{j<k} A_jk γ_jk,   A_jk = Z_j + Z_k + 2 Z_jk,
//!
//! where Z_j + Z_jk estimates N p̄_j Π_{l≠j,k}(1 − p̄_l), the people on list j and on no
//! list but j and k. Given N, a CCV is estimated by γ̂_jk(N) = N X_jk / (n_j n_k) − 1, so
//! N solves N = f(N) with
//!
//!   f(N) = D/Ĉ + (1/(t Ĉ)) Σ_{j<k} A_jk (N X_jk / (n_j n_k) − 1).
//!
//! - `sc-indep`, N̂0 = D / Ĉ (eq. 15 of Chao & Tsay 1998): every γ_jk taken as 0.
//! - `sc-hsc`, N̂ (eq. 20): the fixed point of f. f is affine in N, so
//!   N̂ = (t D − Σ A_jk) / (t Ĉ − Σ A_jk X_jk / (n_j n_k)). The numerator is
//!   (t − 2)·(people on exactly two lists) + t·(people on three or more), never negative;
//!   the denominator is t Ĉ (1 − s), s the slope of f. When s ≥ 1 the equation has no
//!   positive solution (iterating f runs off to infinity): the data do not bound N under
//!   this estimator.
//! - `sc-lsc`, N̂1 (eq. 2.21 of Chao et al. 1996, the one-step estimator for low sample
//!   coverage): CARE1 evaluates the CCVs at f(N̂0), one step from N̂0, and then takes the
//!   step: N̂1 = f(f(N̂0)).
//!
//! CARE1 before 1.1.0 wrote these out cell by cell for t = 3, 4 and 5 only, three versions
//! of the same expressions in t, n_k, Z_k, Z_jk and X_jk; CARE1 1.1.0 (whose values the
//! reference tests hold) computes them for any t from the histories' bit patterns, and the
//! derivation above holds for any t: here any t ≥ 3 (checked on the 3, 4 and 5 lists of
//! CARE1's references, and on expected tables of up to 6 independent lists). With t = 2
//! the numerator of N̂ is identically 0: two lists are refused.
//!
//! # Numerical honesty (where CARE1 prints a number)
//!
//! - A list with no one on it leaves Z_k / n_k = 0/0 (CARE1: NaN): status
//!   `not_identifiable`.
//! - Ĉ = 0 (no two lists share anyone): D/Ĉ is infinite: status `infinite`.
//! - `sc-hsc` with a denominator ≤ 0: the equation has no positive solution (CARE1 returns
//!   M, its N̂ being negative or infinite): status `infinite`. A denominator just above 0
//!   gives a huge N̂, which CARE1 1.1.0 prints (before 1.1.0 it returned M below 1e-4); an
//!   N̂ above 10¹⁰ is `infinite` as everywhere (`Estimate::bound_population`).
//! - An estimate below M (`sc-hsc` and `sc-lsc` when pairs overlap less than independent
//!   lists would; CARE1 returns M for `HSC` and the number for `LSC`): no number, status
//!   `mle_does_not_exist` (the estimating equation's solution lies outside N ≥ M, as a
//!   closed-form fit outside its parameter space is reported elsewhere), with a warning
//!   giving the value. `sc-indep` never falls below M (each Z_k ≤ n_k ≤ M).
//! - CARE1's warning: CARE1 1.1.0's `CARE1.print` warns when Ĉ ≤ 0.55 that the sample
//!   coverage (the overlap) is too low for N̂ to be stable, and recommends N̂0 or N̂1;
//!   earlier versions warned when the `sc-hsc` denominator was ≤ 0 (their `lee1` test).
//!   Given here on all three estimators when either holds.
//!
//! # Bootstrap standard error and interval (CARE1's `estN.bootstrap` and `estN`)
//!
//! With N* = round(N̂) (half to even, as R rounds), each replicate is a table drawn from
//! Multinomial(N*; (N* − M)/N*, z_h/N*): the unseen cell and every seen history at its
//! observed share (CARE1 draws N* uniforms and counts them into those cells: the same
//! law). The unseen draws are dropped and the estimator is recomputed on the seen ones;
//! for `sc-hsc` a replicate with no one on two lists (numerator below 1e-4) or whose N̂
//! falls below its own M (a negative denominator included) counts as that M, as CARE1
//! 1.1.0 counts it (a warning says how many). A replicate with an empty list, or with no
//! finite value, has none (CARE1 would give NaN or Inf and no s.e. at all) and does not
//! count.
//! The s.e. is the standard deviation (n − 1 divisor) of the replicates' values, and the
//! interval the log-transform of Chao (1987):
//!
//!   M + (N̂ − M)/c, M + (N̂ − M)·c,   c = exp(z sqrt(log(1 + se²/(N̂ − M)²))),
//!
//! with z = Φ⁻¹((1 + level)/2) (CARE1 1.1.0: qnorm(1 − α/2) with α fixed at 0.05; its
//! earlier versions hard-coded 1.96, which the reference values rule out). Replicate i
//! draws from `montecarlo::stream(seed, i)`, run in index order by `montecarlo::replicate`,
//! so the numbers do not depend on the thread count. Without a bootstrap there is no
//! interval (no variance formula is given by CARE1), and a warning says so. The interval,
//! like every bootstrap interval here, needs `inference::bootstrap::needed(level)` usable
//! replicates (400 at 95%). This bootstrap is always CARE1's (a parametric one from N̂ with
//! the seen cells at their observed shares); the job's `bootstrap_kind` chooses among the
//! log-linear families' schemes and does not change it.

use super::details::{CoverageDetails, Details, LevelLimits};
use super::types::{Estimate, MAX_ESTIMATE, ProgressFn, Status};
use crate::checked::Level;
use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::inference::bootstrap::{self, BootKind, BootOptions, Bootstrap};
use crate::inference::interval::level_percent;
use crate::inference::{Construction, Draws, Interval, log_normal_interval};

/// Below this `sc-hsc` numerator (no one on two lists) CARE1 returns M.
pub const HSC_MIN_NUMERATOR: f64 = 1e-4;

/// At or below this sample coverage CARE1 1.1.0 warns that N̂ (`sc-hsc`) is unstable.
pub const LOW_COVERAGE: f64 = 0.55;

/// Which of the three estimators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    /// N̂0 = D/Ĉ, lists independent (CARE1 `Indep`).
    Indep,
    /// N̂, high sample coverage (CARE1 `HSC`).
    Hsc,
    /// N̂1, one step for low sample coverage (CARE1 `LSC`).
    Lsc,
}

impl Estimator {
    /// The method id.
    pub fn id(self) -> &'static str {
        match self {
            Estimator::Indep => "sc-indep",
            Estimator::Hsc => "sc-hsc",
            Estimator::Lsc => "sc-lsc",
        }
    }

    /// The label, as CARE1 prints the row and names the method.
    pub fn label(self) -> &'static str {
        match self {
            Estimator::Indep => "Nhat-0 (Indep)",
            Estimator::Hsc => "Nhat (HSC)",
            Estimator::Lsc => "Nhat-1 (LSC)",
        }
    }
}

/// One pair of lists j < k.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    /// X_jk: people on both lists.
    pub both: u64,
    /// A_jk = Z_j + Z_k + 2 Z_jk: the weight of the pair's CCV.
    pub weight: u64,
}

/// The sample-coverage statistics of a table (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    /// M: people seen on any list.
    pub seen: u64,
    /// n_k: people on each list.
    pub sizes: Vec<u64>,
    /// Z_k: people on list k alone.
    pub alone: Vec<u64>,
    /// Pairs (j, k), j < k, in the order (0,1), (0,2), …, (1,2), …
    pub pairs: Vec<Pair>,
    /// D = M − (1/t) Σ Z_k.
    pub d: f64,
    /// Ĉ = 1 − (1/t) Σ Z_k / n_k (NaN when a list is empty).
    pub chat: f64,
}

/// Index of pair (j, k), j < k, among t lists.
fn pair_index(t: usize, j: usize, k: usize) -> usize {
    j * t - j * (j + 1) / 2 + (k - j - 1)
}

impl Statistics {
    /// The statistics of `t` lists with the given (history, count) cells.
    pub fn of(t: usize, cells: impl IntoIterator<Item = (u64, u64)>) -> Statistics {
        let mut sizes = vec![0u64; t];
        let mut alone = vec![0u64; t];
        let npairs = t * t.saturating_sub(1) / 2;
        let mut both = vec![0u64; npairs];
        let mut exactly_two = vec![0u64; npairs];
        let mut seen = 0u64;
        let mut bits = Vec::with_capacity(t);
        for (h, c) in cells {
            if c == 0 {
                continue;
            }
            seen += c;
            bits.clear();
            bits.extend((0..t).filter(|&i| h >> i & 1 == 1));
            for &i in &bits {
                sizes[i] += c;
            }
            match bits.len() {
                1 => alone[bits[0]] += c,
                2 => exactly_two[pair_index(t, bits[0], bits[1])] += c,
                _ => {}
            }
            for (a, &j) in bits.iter().enumerate() {
                for &k in &bits[a + 1..] {
                    both[pair_index(t, j, k)] += c;
                }
            }
        }
        let mut pairs = Vec::with_capacity(npairs);
        for j in 0..t {
            for k in j + 1..t {
                let p = pair_index(t, j, k);
                pairs.push(Pair {
                    both: both[p],
                    weight: alone[j] + alone[k] + 2 * exactly_two[p],
                });
            }
        }
        let tf = t as f64;
        let d = seen as f64 - alone.iter().sum::<u64>() as f64 / tf;
        let chat = 1.0
            - alone
                .iter()
                .zip(&sizes)
                .map(|(&z, &n)| z as f64 / n as f64)
                .sum::<f64>()
                / tf;
        Statistics {
            seen,
            sizes,
            alone,
            pairs,
            d,
            chat,
        }
    }

    /// The statistics of a table.
    pub fn of_table(table: &CaptureTable) -> Statistics {
        Statistics::of(table.k(), table.cells().iter().copied())
    }

    /// Number of lists t.
    pub fn lists(&self) -> usize {
        self.sizes.len()
    }

    /// Each pair's weight A_jk and X_jk / (n_j n_k).
    fn weighted_ratios(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let t = self.lists();
        (0..t)
            .flat_map(move |j| (j + 1..t).map(move |k| (j, k)))
            .zip(&self.pairs)
            .map(|((j, k), p)| {
                let ratio = p.both as f64 / (self.sizes[j] as f64 * self.sizes[k] as f64);
                (p.weight as f64, ratio)
            })
    }

    /// f(N): N̂0 plus the CCV correction with every γ̂_jk evaluated at N.
    pub fn step(&self, n: f64) -> f64 {
        let t = self.lists() as f64;
        let correction: f64 = self.weighted_ratios().map(|(a, r)| a * (n * r - 1.0)).sum();
        self.d / self.chat + correction / (t * self.chat)
    }

    /// Numerator t D − Σ A_jk and denominator t Ĉ − Σ A_jk X_jk/(n_j n_k) of N̂ (eq. 20).
    pub fn hsc_parts(&self) -> (f64, f64) {
        let t = self.lists() as f64;
        let (a, ar) = self
            .weighted_ratios()
            .fold((0.0, 0.0), |(s, sr), (a, r)| (s + a, sr + a * r));
        (t * self.d - a, t * self.chat - ar)
    }

    /// The estimator's formula, unguarded (NaN, infinite, negative or below M as it comes).
    pub fn formula(&self, which: Estimator) -> f64 {
        let n0 = self.d / self.chat;
        match which {
            Estimator::Indep => n0,
            Estimator::Hsc => {
                let (num, den) = self.hsc_parts();
                num / den
            }
            Estimator::Lsc => self.step(self.step(n0)),
        }
    }

    /// The value CARE1 1.1.0 returns on these data (what a bootstrap replicate counts):
    /// the formula, except that `HSC` gives M when its numerator is below 1e-4 (no one on
    /// two lists) or its value below M (a negative denominator included). None when the
    /// value is not a finite number (an empty list, Ĉ = 0). The flag says the fallback to M
    /// was taken.
    pub fn care1(&self, which: Estimator) -> Option<(f64, bool)> {
        let m = self.seen as f64;
        if which == Estimator::Hsc && self.chat.is_finite() {
            let (num, den) = self.hsc_parts();
            if num < HSC_MIN_NUMERATOR || num / den < m {
                return Some((m, true));
            }
        }
        let v = self.formula(which);
        v.is_finite().then_some((v, false))
    }
}

/// CARE1's warning (`CARE1.print`: 1.1.0 when Ĉ ≤ 0.55, earlier versions when the `sc-hsc`
/// denominator is ≤ 0), or None.
fn low_coverage_warning(chat: f64, den: f64) -> Option<String> {
    let why = if chat <= LOW_COVERAGE {
        format!("Ĉ = {chat:.3} is at most {LOW_COVERAGE}")
    } else if den <= 0.0 {
        format!(
            "the high-coverage denominator t·Ĉ − Σ A_jk X_jk/(n_j n_k) is {den:.4}, not above 0"
        )
    } else {
        return None;
    };
    Some(format!(
        "the estimated sample coverage (the lists' overlap) is too low for Nhat (sc-hsc) to be stable: {why}; CARE1 warns so and recommends Nhat-0 (sc-indep) or Nhat-1 (sc-lsc)"
    ))
}

/// The estimate of `which` on `table`, without a bootstrap: N̂ or the status that says why
/// there is none, the statistics in its details, and no interval.
pub fn estimate(table: &CaptureTable, which: Estimator, level: Level) -> Result<Estimate> {
    let t = table.k();
    if t < 3 {
        return Err(Error::Usage(format!(
            "method {} needs at least 3 lists; the table has {t}",
            which.id()
        )));
    }
    let s = Statistics::of_table(table);
    let m = s.seen as f64;
    let (_, den) = s.hsc_parts();
    let mut warnings = Vec::new();
    let empty: Vec<&str> = table
        .lists()
        .iter()
        .zip(&s.sizes)
        .filter(|(_, n)| **n == 0)
        .map(|(l, _)| l.as_str())
        .collect();
    let value = s.formula(which);
    let status = if !empty.is_empty() {
        warnings.push(format!(
            "list {} has no one on it: its share of people seen on it alone is 0/0, so the sample coverage Ĉ is undefined (CARE1 gives NaN); leave the empty list out",
            empty.join(", ")
        ));
        Status::NotIdentifiable
    } else if s.chat <= 0.0 {
        warnings.push(
            "no two lists share anyone: the sample coverage Ĉ is 0, and N̂ = D/Ĉ has no finite value; the data do not bound N".into(),
        );
        Status::Infinite
    } else if which == Estimator::Hsc && den <= 0.0 {
        warnings.push(format!(
            "the high-coverage equation N = f(N) has no positive solution: its denominator t·Ĉ − Σ A_jk X_jk/(n_j n_k) is {den:.4}, not above 0 (CARE1 then prints M = {}), so the data do not bound N under this estimator",
            s.seen
        ));
        Status::Infinite
    } else if !value.is_finite() {
        Status::Infinite
    } else if value < m {
        warnings.push(format!(
            "the estimate, {value:.2}, is below the {} people seen: the pairs of lists overlap less than independent lists would (negative coefficients of covariation), and correcting for that puts the estimating equation's solution outside N ≥ M, so no number is given{}",
            s.seen,
            if which == Estimator::Hsc {
                " (CARE1 prints M)"
            } else {
                " (CARE1 prints the value)"
            }
        ));
        Status::MleDoesNotExist
    } else {
        Status::Ok
    };
    if empty.is_empty() && s.chat > 0.0 {
        warnings.extend(low_coverage_warning(s.chat, den));
    }
    let ok = status == Status::Ok;
    if ok {
        warnings.push(
            "no interval: the sample-coverage estimators have no variance formula here; CARE1's s.e. and interval come from a bootstrap (\"bootstrap\": B in a job, --bootstrap B on the command line)".into(),
        );
    }
    Ok(Estimate {
        method: which.id().to_string(),
        label: which.label().to_string(),
        options: Details::Coverage(CoverageDetails {
            d: s.d,
            m: s.seen,
            chat: s.chat,
            hsc_denominator: den,
            interval: None,
            level,
            limits: Vec::new(),
        }),
        status,
        observed: s.seen,
        population: ok.then_some(value),
        missing: ok.then_some(value - m),
        warnings,
        ..Estimate::blank()
    })
}

/// The levels whose limits a bootstrapped estimate records (a study reads them instead of
/// running the method again): 80, 90, 95% and the estimate's own.
fn recorded_levels(level: f64) -> Vec<f64> {
    let mut levels = vec![0.8, 0.9, 0.95, level];
    levels.sort_by(f64::total_cmp);
    levels.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    levels
}

/// CARE1's bootstrap of an estimate of `which` with a number: B tables from
/// Multinomial(round N̂; unseen and seen cells at their shares), the s.e. their sd, and the
/// log-transformed interval when enough replicates have a value.
pub(super) fn attach_bootstrap(
    table: &CaptureTable,
    est: &mut Estimate,
    which: Estimator,
    level: Level,
    progress: Option<&ProgressFn>,
    b: BootOptions,
) -> Result<()> {
    if b.replicates == 0 {
        return Err(Error::Usage(
            "the bootstrap needs at least 1 replicate".into(),
        ));
    }
    // An N̂ beyond 10¹⁰ is no answer (`Estimate::bound_population` makes it `infinite`
    // next), and round(N̂) people would not be drawn.
    let Some(point) = est
        .population
        .filter(|&p| est.status == Status::Ok && p <= MAX_ESTIMATE)
    else {
        return Ok(());
    };
    let t = table.k();
    let cells = table.cells();
    let m = table.observed();
    let rounded = point.round_ties_even().max(m as f64) as u64;
    let weights: Vec<f64> = std::iter::once((rounded - m) as f64)
        .chain(cells.iter().map(|c| c.1 as f64))
        .collect();
    let noop = crate::montecarlo::no_progress;
    let progress: crate::montecarlo::Progress = match progress {
        Some(p) => &*p.0,
        None => &noop,
    };
    let drawn = crate::montecarlo::replicate(b.replicates, b.seed, progress, |_, rng| {
        let counts = bootstrap::multinomial(rng, rounded, &weights);
        let s = Statistics::of(t, cells.iter().zip(&counts[1..]).map(|(c, &x)| (c.0, x)));
        s.care1(which)
    });
    let values: Vec<Option<f64>> = drawn.iter().map(|v| v.map(|x| x.0)).collect();
    let substituted = drawn.iter().flatten().filter(|v| v.1).count();
    let ok: Vec<f64> = values.iter().flatten().copied().collect();
    let failures = b.replicates - ok.len();
    let lv = level.get();
    let needed = bootstrap::needed(lv);
    let mut warnings = Vec::new();
    if failures > 0 {
        warnings.push(format!(
            "{failures} of {} bootstrap replicates had no value (a list with no one on it, or no two lists sharing anyone, in the replicate); the s.e. uses the others",
            b.replicates
        ));
    }
    if substituted > 0 {
        warnings.push(format!(
            "{substituted} of {} bootstrap replicates had no high-coverage estimate (N̂ below the number seen, or no one on two lists) and count as the number they saw, as CARE1 counts them",
            b.replicates
        ));
    }
    let mut se = None;
    let mut limits = Vec::new();
    let mut interval = None;
    if ok.len() >= 2 {
        let mut sorted = ok.clone();
        sorted.sort_by(f64::total_cmp);
        let mut draws = Draws::summarise(&ok, |q| bootstrap::quantile8(&sorted, q));
        draws
            .quantiles
            .retain(|&(p, _)| bootstrap::supported(p, ok.len()));
        se = Some(draws.sd).filter(|x| x.is_finite());
        est.draws = Some(draws);
    }
    let mf = m as f64;
    match se {
        None => warnings.push(format!(
            "no s.e. and no interval: {} of {} bootstrap replicates had a value, and a standard deviation needs 2",
            ok.len(),
            b.replicates
        )),
        Some(_) if ok.len() < needed => warnings.push(format!(
            "no interval: {} of {} bootstrap replicates had a value, and a {}% interval needs at least {needed}, as every bootstrap interval here; run more replicates (\"bootstrap\" in a job, --bootstrap on the command line)",
            ok.len(),
            b.replicates,
            level_percent(lv)
        )),
        Some(_) if point <= mf => warnings.push(format!(
            "no interval: N̂ equals the {m} people seen, and the log-transformed interval is built on N̂ − M"
        )),
        Some(sd) => {
            for l in recorded_levels(lv) {
                if ok.len() < bootstrap::needed(l) {
                    continue;
                }
                let iv = log_normal_interval(mf, point, sd, l);
                limits.push(LevelLimits {
                    level: l,
                    lower: iv.lower,
                    upper: iv.upper,
                });
            }
            let iv = log_normal_interval(mf, point, sd, lv);
            interval = Some(Interval {
                kind: Construction::LogNormalBootstrapSe,
                ..iv
            });
        }
    }
    est.warnings
        .retain(|w| !w.starts_with("no interval: the sample-coverage"));
    est.warnings.extend(warnings);
    est.std_error = se;
    if let Details::Coverage(d) = &mut est.options {
        d.interval = interval.as_ref().map(|i| i.kind);
        d.limits = limits;
    }
    est.interval = interval;
    est.bootstrap = Some(Bootstrap {
        replicates: b.replicates,
        seed: b.seed,
        kind: BootKind::Parametric,
        failures,
        failure_share: failures as f64 / b.replicates as f64,
        usable: ok.len(),
        needed,
        z0: None,
        acceleration: None,
        bca: Vec::new(),
        percentile: Vec::new(),
        values,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::testing::{independent_cells, rel};

    /// CARE1's HAV data (lists P, Q, E; CARE1's z in its order 001, 010, …, 111 with the
    /// first list the most significant digit).
    fn hav() -> CaptureTable {
        let names = ["P", "Q", "E"].map(String::from).to_vec();
        // bit 0 = P, bit 1 = Q, bit 2 = E
        let z = [
            (0b100, 63),
            (0b010, 55),
            (0b110, 18),
            (0b001, 69),
            (0b101, 17),
            (0b011, 21),
            (0b111, 28),
        ];
        CaptureTable::new(names, z).unwrap()
    }

    fn level() -> Level {
        Level::DEFAULT
    }

    fn table(k: usize, cells: &[(u64, u64)]) -> CaptureTable {
        CaptureTable::new(
            (0..k).map(|i| format!("L{i}")).collect(),
            cells.iter().copied(),
        )
        .unwrap()
    }

    /// The HAV figures CARE1 prints (tests/reference/HAV.json): the statistics and the three
    /// estimates to 1e-12 (the same arithmetic on the same integers).
    #[test]
    fn hav_as_care1() {
        let s = Statistics::of_table(&hav());
        assert_eq!((s.seen, s.sizes.clone()), (271, vec![135, 122, 126]));
        assert!((s.d - 208.666_666_666_666_66).abs() < 1e-9);
        assert!((s.chat - 0.512_689_738_919_247).abs() < 1e-12, "{}", s.chat);
        for (w, care1) in [
            (Estimator::Indep, 407.003789673141),
            (Estimator::Hsc, 970.804763623241),
            (Estimator::Lsc, 507.771995547061),
        ] {
            let e = estimate(&hav(), w, level()).unwrap();
            assert_eq!(e.status, Status::Ok);
            assert!(rel(e.population.unwrap(), care1) < 1e-12, "{w:?} {e:?}");
            assert!(e.interval.is_none() && e.std_error.is_none());
            assert!(e.warnings.iter().any(|x| x.starts_with("no interval")));
        }
    }

    /// The fixed point of f is N̂, and N̂1 is two steps of f from N̂0.
    #[test]
    fn hsc_is_the_fixed_point_and_lsc_two_steps() {
        let s = Statistics::of_table(&hav());
        let n = s.formula(Estimator::Hsc);
        assert!(rel(s.step(n), n) < 1e-12);
        let n0 = s.formula(Estimator::Indep);
        assert!(rel(s.formula(Estimator::Lsc), s.step(s.step(n0))) < 1e-15);
        // the numerator counts people on two or more lists: (t − 2)·exactly two + t·more
        let (num, _) = s.hsc_parts();
        assert!((num - (18.0 + 17.0 + 21.0 + 3.0 * 28.0)).abs() < 1e-9);
    }

    /// Independent lists of alike people, the expected table exactly: every estimator
    /// gives the true N, for any number of lists (here 6, beyond CARE1's 5).
    #[test]
    fn expected_table_of_independent_lists_gives_n_for_any_number_of_lists() {
        let p = [(1, 2), (1, 3), (1, 4), (1, 2), (2, 3), (1, 5)];
        for k in 3..=6 {
            let n: u64 = 7200;
            let cells: Vec<(u64, u64)> = independent_cells(n, &p[..k])
                .into_iter()
                .filter(|c| c.1 > 0)
                .collect();
            let unseen: u64 = n - cells.iter().map(|c| c.1).sum::<u64>();
            assert!(unseen > 0);
            for w in [Estimator::Indep, Estimator::Hsc, Estimator::Lsc] {
                let e = estimate(&table(k, &cells), w, level()).unwrap();
                assert!(rel(e.population.unwrap(), n as f64) < 1e-10, "{k} {w:?}");
            }
        }
    }

    #[test]
    fn the_order_of_the_lists_does_not_matter() {
        let t = hav();
        for perm in [[1, 2, 0], [2, 1, 0], [0, 2, 1]] {
            let p = t.permuted(&perm).unwrap();
            for w in [Estimator::Indep, Estimator::Hsc, Estimator::Lsc] {
                let a = estimate(&t, w, level()).unwrap().population.unwrap();
                let b = estimate(&p, w, level()).unwrap().population.unwrap();
                assert!(rel(a, b) < 1e-12, "{perm:?} {w:?}");
            }
        }
    }

    #[test]
    fn two_lists_are_refused() {
        let t = table(2, &[(1, 10), (2, 5), (3, 4)]);
        assert!(estimate(&t, Estimator::Hsc, level()).is_err());
    }

    /// Lists that never overlap: Ĉ = 0, no number from any of the three.
    #[test]
    fn no_overlap_gives_no_number() {
        let t = table(3, &[(1, 10), (2, 5), (4, 7)]);
        for w in [Estimator::Indep, Estimator::Hsc, Estimator::Lsc] {
            let e = estimate(&t, w, level()).unwrap();
            assert_eq!(e.status, Status::Infinite, "{w:?}");
            assert!(e.population.is_none());
            assert!(e.warnings.iter().any(|x| x.contains("Ĉ is 0")), "{e:?}");
        }
    }

    /// Little overlap, list 2 mostly alone: the HSC denominator is negative. sc-hsc has
    /// no number; the others keep theirs.
    #[test]
    fn a_negative_hsc_denominator_gives_no_number() {
        let t = table(3, &[(2, 2), (4, 20), (5, 1), (7, 1)]);
        let (_, den) = Statistics::of_table(&t).hsc_parts();
        assert!(den < 0.0, "{den}");
        let e = estimate(&t, Estimator::Hsc, level()).unwrap();
        assert_eq!(e.status, Status::Infinite);
        assert!(e.population.is_none());
        assert!(e.warnings[0].contains("no positive solution"), "{e:?}");
        for w in [Estimator::Indep, Estimator::Lsc] {
            assert!(estimate(&t, w, level()).unwrap().population.is_some());
        }
    }

    /// CARE1 1.1.0 warns at Ĉ ≤ 0.55 (HAV: 0.513), its earlier versions at an HSC
    /// denominator ≤ 0 (here with Ĉ = 0.575); a table of high coverage gets no warning.
    #[test]
    fn care1s_low_coverage_warning() {
        let warned = |t: &CaptureTable, w| {
            estimate(t, w, level())
                .unwrap()
                .warnings
                .into_iter()
                .find(|x| x.contains("CARE1 warns so"))
        };
        for w in [Estimator::Indep, Estimator::Hsc, Estimator::Lsc] {
            let x = warned(&hav(), w).expect("HAV warns");
            assert!(x.contains("Ĉ = 0.513 is at most 0.55"), "{x}");
        }
        let t = table(3, &[(2, 50), (3, 1), (4, 10), (5, 2), (7, 10)]);
        let s = Statistics::of_table(&t);
        assert!(s.chat > 0.55 && s.hsc_parts().1 < 0.0);
        let x = warned(&t, Estimator::Lsc).expect("a negative denominator warns");
        assert!(x.contains("not above 0"), "{x}");
        let high = table(
            3,
            &[
                (1, 10),
                (2, 10),
                (4, 10),
                (3, 30),
                (5, 30),
                (6, 30),
                (7, 90),
            ],
        );
        assert!(Statistics::of_table(&high).chat > 0.55);
        for w in [Estimator::Indep, Estimator::Hsc, Estimator::Lsc] {
            assert_eq!(warned(&high, w), None);
        }
    }

    /// Nearly everyone on two lists or more, pairs overlapping less than independence
    /// would have them: both corrections pull below the number seen (HSC 308.4, LSC 309.6
    /// against M = 314), and neither is given.
    #[test]
    fn an_estimate_below_the_number_seen_is_not_given() {
        let t = table(
            3,
            &[
                (1, 2),
                (2, 1),
                (3, 10),
                (4, 1),
                (5, 100),
                (6, 100),
                (7, 100),
            ],
        );
        let s = Statistics::of_table(&t);
        let (_, den) = s.hsc_parts();
        assert!(den > 1.0, "{den}");
        for w in [Estimator::Hsc, Estimator::Lsc] {
            assert!(s.formula(w) < 314.0, "{w:?}");
            let e = estimate(&t, w, level()).unwrap();
            assert_eq!(e.status, Status::MleDoesNotExist);
            assert!(e.population.is_none());
            assert!(
                e.warnings
                    .iter()
                    .any(|x| x.contains("below the 314 people seen")),
                "{e:?}"
            );
        }
        // sc-indep never falls below M; CARE1 counts the HSC value as M.
        assert_eq!(
            estimate(&t, Estimator::Indep, level()).unwrap().status,
            Status::Ok
        );
        assert_eq!(s.care1(Estimator::Hsc), Some((314.0, true)));
    }

    #[test]
    fn an_empty_list_is_not_identifiable() {
        let t = table(4, &[(1, 10), (2, 5), (3, 4), (4, 6), (5, 2)]);
        let e = estimate(&t, Estimator::Indep, level()).unwrap();
        assert_eq!(e.status, Status::NotIdentifiable);
        assert!(e.warnings[0].contains("list L3 has no one on it"), "{e:?}");
    }

    fn boot(replicates: usize, seed: u64) -> BootOptions {
        BootOptions {
            replicates,
            seed,
            kind: BootKind::Nonparametric,
        }
    }

    fn bootstrapped(w: Estimator, b: BootOptions, level: Level) -> Estimate {
        let mut e = estimate(&hav(), w, level).unwrap();
        attach_bootstrap(&hav(), &mut e, w, level, None, b).unwrap();
        e
    }

    /// The s.e. is the sd of the replicates' values, the interval CARE1's formula of it,
    /// and the replicates depend on (seed, index) only.
    #[test]
    fn the_bootstrap_se_and_interval_follow_from_the_replicates() {
        let e = bootstrapped(Estimator::Lsc, boot(400, 1), level());
        let b = e.bootstrap.as_ref().unwrap();
        let v: Vec<f64> = b.values.iter().flatten().copied().collect();
        assert_eq!((v.len(), b.usable, b.failures), (400, 400, 0));
        let mean = v.iter().sum::<f64>() / 400.0;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 399.0).sqrt();
        let se = e.std_error.unwrap();
        assert!(rel(se, sd) < 1e-12);
        let (n, m) = (e.population.unwrap(), 271.0);
        let c = (1.959_963_984_540_054 * (1.0 + se * se / ((n - m) * (n - m))).ln().sqrt()).exp();
        let iv = e.interval.as_ref().unwrap();
        assert_eq!(iv.kind, Construction::LogNormalBootstrapSe);
        assert!(rel(iv.lower.unwrap(), m + (n - m) / c) < 1e-12);
        assert!(rel(iv.upper.unwrap(), m + (n - m) * c) < 1e-12);
        assert!(!e.warnings.iter().any(|w| w.starts_with("no interval")));
        let Details::Coverage(d) = &e.options else {
            panic!()
        };
        assert_eq!(d.limits.len(), 3);
        assert_eq!(d.interval, Some(Construction::LogNormalBootstrapSe));
        // The same seed, the same replicates; another seed, others.
        let again = bootstrapped(Estimator::Lsc, boot(400, 1), level());
        assert_eq!(again.bootstrap.unwrap().values, b.values);
        let other = bootstrapped(Estimator::Lsc, boot(400, 2), level());
        assert_ne!(other.bootstrap.unwrap().values, b.values);
    }

    /// Replicate i is drawn from stream i whatever the thread count.
    #[test]
    fn replicates_do_not_depend_on_the_thread_count() {
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| bootstrapped(Estimator::Hsc, boot(300, 9), level()))
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a.bootstrap.unwrap().values, b.bootstrap.unwrap().values);
        assert_eq!(a.std_error, b.std_error);
    }

    #[test]
    fn too_few_replicates_give_an_se_but_no_interval() {
        let e = bootstrapped(Estimator::Indep, boot(200, 3), level());
        assert!(e.std_error.is_some());
        assert!(e.interval.is_none());
        assert!(
            e.warnings
                .iter()
                .any(|w| w.starts_with("no interval: 200 of 200") && w.contains("400")),
            "{:?}",
            e.warnings
        );
        // 200 replicates do serve an 80% interval.
        let l80 = Level::try_from(0.8).unwrap();
        let e = bootstrapped(Estimator::Indep, boot(200, 3), l80);
        assert!(e.interval.is_some());
        let one = bootstrapped(Estimator::Indep, boot(1, 3), level());
        assert!(one.std_error.is_none() && one.interval.is_none());
    }
}
