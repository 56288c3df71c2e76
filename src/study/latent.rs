//! A finite mixture of two latent classes fitted to a capture–recapture table: each person
//! is in class c with probability π_c and is on list j, independently of the other lists
//! given the class, with probability p_cj. This is the two-point mixture model M_th of
//! Pledger (2000, "Unified maximum likelihood estimates for closed capture–recapture models
//! using mixtures", Biometrics 56: 434–442), the latent-class view of heterogeneous
//! catchability that Agresti (1994, Biometrics 50: 494–500) sets beside log-linear models.
//!
//! Fitted by EM on the full 2^k table with the unseen cell as missing data, the EM of a
//! truncated sample (Dempster, Laird & Rubin 1977): the E-step imputes n₀ = n·P₀/(1 − P₀)
//! unseen people and shares every cell out between the classes; the M-step is the
//! complete-table latent-class update. Each step raises the likelihood of the seen
//! histories given that they were seen, and its maximum gives N̂ = n / (1 − P̂₀). Several
//! starts, the best kept: the likelihood has local maxima.
//!
//! What can go wrong is said, not hidden. With fewer than four lists the model has more
//! parameters than the table has degrees of freedom, so N is not identifiable. The
//! likelihood can keep rising as a class of rarely listed people grows without bound (Link
//! 2003, Biometrics 59: 1123–1130: heterogeneity models can fit the seen data alike with
//! very different N); then there is no fit. A class can empty, or a probability reach 0 or
//! 1 (a boundary solution), and EM can stop short of convergence: both are noted with the
//! fit.

use crate::data::CaptureTable;
use crate::methods::types::MAX_ESTIMATE;
use crate::montecarlo::stream;
use rand::RngExt;
use serde::Serialize;

/// Classes in the mixture.
pub const CLASSES: usize = 2;

/// Fewest lists for which the two-class model is identifiable: 2k + 1 parameters against
/// 2^k − 2 degrees of freedom of the seen histories.
pub const MIN_LISTS: usize = 4;

/// EM starts: four spread by hand, the rest drawn.
const STARTS: usize = 12;

/// Most EM iterations from one start.
const MAX_ITERATIONS: usize = 20_000;

/// Most further iterations for the best start when it has not converged: EM crawls where
/// a class is nearly empty or a probability nearly 0, and only the best start needs to
/// arrive.
const MAX_FURTHER: usize = 200_000;

/// Most work (cells × lists × classes × iterations, over every start): a table with many
/// observed histories gets fewer iterations rather than an unannounced long wait.
const MAX_WORK: f64 = 4e9;

/// Stop when an iteration changes the log-likelihood by less than this and N̂ by less than
/// this fraction: EM converges slowly along the ridge where N is weakly determined, and
/// the log-likelihood alone would stop while N̂ still moves.
const TOLERANCE: f64 = 1e-9;

/// A share or probability this close to 0 or 1 is on the boundary of the parameter space.
const BOUNDARY: f64 = 1e-6;

/// The fitted mixture, its classes ordered from the most to the least often listed.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct TwoClassFit {
    /// N̂ = n / (1 − P̂₀).
    pub population: f64,
    /// π_c, summing to 1.
    pub shares: Vec<f64>,
    /// p_cj: class c's probability of being on list j.
    pub probs: Vec<Vec<f64>>,
    /// Log-likelihood of the seen histories given that they were seen.
    pub loglik: f64,
    /// G² against the saturated table of the seen histories.
    pub deviance: f64,
    /// Its degrees of freedom: 2^k − 2 − (2k + 1).
    pub df: i64,
    /// EM iterations of the start kept.
    pub iterations: usize,
    /// Whether EM met its tolerance.
    pub converged: bool,
    /// Boundary solutions and non-convergence, in words.
    pub notes: Vec<String>,
}

/// Why there is no two-class fit.
#[derive(Debug, Clone, PartialEq)]
pub struct NoFit {
    /// The reason, in words.
    pub reason: String,
}

#[derive(Clone)]
struct Params {
    share: [f64; CLASSES],
    p: [Vec<f64>; CLASSES],
}

/// One EM run's end.
struct Run {
    params: Params,
    loglik: f64,
    population: f64,
    iterations: usize,
    converged: bool,
    unbounded: bool,
}

/// Observed cells as (history, count) with counts as reals.
struct Table {
    cells: Vec<(u64, f64)>,
    n: f64,
    k: usize,
    lists: Vec<String>,
}

/// What one step finds at the current parameters: their log-likelihood, the seen share
/// 1 − P₀, and the next parameters.
struct Step {
    loglik: f64,
    seen: f64,
    next: Params,
}

fn step(t: &Table, th: &Params) -> Step {
    let k = t.k;
    let ln_p: Vec<Vec<f64>> =
        th.p.iter()
            .map(|p| p.iter().map(|x| x.ln()).collect())
            .collect();
    let ln_q: Vec<Vec<f64>> =
        th.p.iter()
            .map(|p| p.iter().map(|x| (-x).ln_1p()).collect())
            .collect();
    let mut class_count = [0.0; CLASSES];
    let mut on_list = [vec![0.0; k], vec![0.0; k]];
    let mut loglik = 0.0;
    for &(h, count) in &t.cells {
        let mut lw = [0.0; CLASSES];
        for c in 0..CLASSES {
            let mut s = th.share[c].ln();
            for j in 0..k {
                s += if h >> j & 1 == 1 {
                    ln_p[c][j]
                } else {
                    ln_q[c][j]
                };
            }
            lw[c] = s;
        }
        let top = lw[0].max(lw[1]);
        if top == f64::NEG_INFINITY {
            return Step {
                loglik: f64::NEG_INFINITY,
                seen: 0.0,
                next: th.clone(),
            };
        }
        let w = [(lw[0] - top).exp(), (lw[1] - top).exp()];
        let sum = w[0] + w[1];
        loglik += count * (top + sum.ln());
        for c in 0..CLASSES {
            let r = count * w[c] / sum;
            class_count[c] += r;
            for (j, b) in on_list[c].iter_mut().enumerate() {
                if h >> j & 1 == 1 {
                    *b += r;
                }
            }
        }
    }
    // 1 − P₀ without the cancellation of 1 − Σ: each class's chance of some list.
    let mut unseen_c = [0.0; CLASSES];
    let mut seen = 0.0;
    for c in 0..CLASSES {
        let ln_none: f64 = ln_q[c].iter().sum();
        unseen_c[c] = th.share[c] * ln_none.exp();
        seen += th.share[c] * -ln_none.exp_m1();
    }
    let unseen: f64 = unseen_c.iter().sum();
    loglik -= t.n * seen.ln();
    let imputed = t.n * unseen / seen;
    let total = t.n + imputed;
    let mut next = th.clone();
    for c in 0..CLASSES {
        if unseen > 0.0 {
            class_count[c] += imputed * unseen_c[c] / unseen;
        }
        next.share[c] = class_count[c] / total;
        if class_count[c] > 0.0 {
            for j in 0..k {
                next.p[c][j] = (on_list[c][j] / class_count[c]).clamp(0.0, 1.0);
            }
        }
    }
    Step { loglik, seen, next }
}

fn em(t: &Table, start: Params, max_iterations: usize) -> Option<Run> {
    let mut th = start;
    let mut last: Option<(f64, f64)> = None;
    // N̂ three quarters of the way, to tell a run still climbing from one merely slow.
    let mut checkpoint = f64::NAN;
    for it in 1..=max_iterations {
        let s = step(t, &th);
        if !s.loglik.is_finite() || s.seen <= 0.0 {
            return None;
        }
        let population = t.n / s.seen;
        if population > MAX_ESTIMATE {
            return Some(Run {
                params: th,
                loglik: s.loglik,
                population,
                iterations: it,
                converged: false,
                unbounded: true,
            });
        }
        if let Some((ll, pop)) = last
            && (s.loglik - ll).abs() <= TOLERANCE
            && (population - pop).abs() <= TOLERANCE * population
        {
            return Some(Run {
                params: th,
                loglik: s.loglik,
                population,
                iterations: it,
                converged: true,
                unbounded: false,
            });
        }
        if it == max_iterations * 3 / 4 {
            checkpoint = population;
        }
        if it == max_iterations {
            return Some(Run {
                params: th,
                loglik: s.loglik,
                population,
                iterations: it,
                converged: false,
                unbounded: population > checkpoint * (1.0 + 1e-3),
            });
        }
        last = Some((s.loglik, population));
        th = s.next;
    }
    None
}

/// The starts: four with one class listed more often than the other by hand-picked
/// factors, the rest drawn from the seed's stream.
fn starts(t: &Table, seed: u64) -> Vec<Params> {
    let mut size = vec![0.0; t.k];
    for &(h, count) in &t.cells {
        for (j, s) in size.iter_mut().enumerate() {
            if h >> j & 1 == 1 {
                *s += count;
            }
        }
    }
    // As if half the people were seen.
    let base: Vec<f64> = size.iter().map(|s| s / (2.0 * t.n)).collect();
    let scaled = |f: f64| -> Vec<f64> { base.iter().map(|b| (f * b).clamp(0.001, 0.95)).collect() };
    let mut out: Vec<Params> = [
        (2.0, 0.5, 0.5),
        (3.0, 0.3, 0.3),
        (1.5, 0.2, 0.7),
        (4.0, 0.1, 0.2),
    ]
    .iter()
    .map(|&(hi, lo, w)| Params {
        share: [w, 1.0 - w],
        p: [scaled(hi), scaled(lo)],
    })
    .collect();
    let mut rng = stream(seed, 0);
    while out.len() < STARTS {
        let w = rng.random_range(0.1..0.9);
        out.push(Params {
            share: [w, 1.0 - w],
            p: [
                (0..t.k).map(|_| rng.random_range(0.05..0.9)).collect(),
                (0..t.k).map(|_| rng.random_range(0.005..0.3)).collect(),
            ],
        });
    }
    out
}

/// Fits two latent classes to `table` by EM from several starts (the drawn ones from
/// `seed`'s stream) and keeps the best; no fit when N is not identifiable or the
/// likelihood does not bound it.
pub fn fit(table: &CaptureTable, seed: u64) -> Result<TwoClassFit, NoFit> {
    let k = table.k();
    let params = 2 * k + 1;
    if k < MIN_LISTS {
        return Err(NoFit {
            reason: format!(
                "two latent classes have {params} parameters and {k} lists only {} degrees of freedom: N is not identifiable",
                (1u64 << k) - 2
            ),
        });
    }
    let t = Table {
        cells: table.cells().iter().map(|&(h, c)| (h, c as f64)).collect(),
        n: table.observed() as f64,
        k,
        lists: table.lists().to_vec(),
    };
    let per_iteration = (t.cells.len() * k * CLASSES) as f64;
    let max_iterations =
        ((MAX_WORK / (per_iteration * STARTS as f64)) as usize).clamp(200, MAX_ITERATIONS);
    let runs: Vec<Run> = starts(&t, seed)
        .into_iter()
        .filter_map(|s| em(&t, s, max_iterations))
        .collect();
    let best_bounded = runs
        .iter()
        .filter(|r| !r.unbounded)
        .max_by(|a, b| a.loglik.total_cmp(&b.loglik));
    let best_unbounded = runs
        .iter()
        .filter(|r| r.unbounded)
        .map(|r| r.loglik)
        .fold(f64::NEG_INFINITY, f64::max);
    let best = best_bounded.filter(|b| b.loglik > best_unbounded - TOLERANCE);
    // Only the best start needs to arrive; it goes on where it stopped.
    let further = best.filter(|b| !b.converged).and_then(|b| {
        let cap = ((MAX_WORK / per_iteration) as usize).min(MAX_FURTHER);
        em(&t, b.params.clone(), cap).map(|r| Run {
            iterations: b.iterations + r.iterations,
            ..r
        })
    });
    let best = match further {
        Some(r) if r.unbounded => None,
        Some(r) => Some(r),
        None => best.map(|b| Run {
            params: b.params.clone(),
            ..*b
        }),
    };
    let Some(best) = best else {
        return Err(NoFit {
            reason: if runs.is_empty() {
                "EM found no start with a finite likelihood".into()
            } else {
                "the likelihood keeps rising as a class of rarely listed people grows: under two latent classes the data do not bound N".into()
            },
        });
    };
    Ok(finish(&t, &best))
}

/// The kept run as a fit: classes ordered, deviance, notes.
fn finish(t: &Table, run: &Run) -> TwoClassFit {
    let k = t.k;
    let mean = |p: &[f64]| p.iter().sum::<f64>() / k as f64;
    let mut order = [0usize, 1];
    if mean(&run.params.p[1]) > mean(&run.params.p[0]) {
        order = [1, 0];
    }
    let shares: Vec<f64> = order.iter().map(|&c| run.params.share[c]).collect();
    let probs: Vec<Vec<f64>> = order.iter().map(|&c| run.params.p[c].clone()).collect();
    let seen = t.n / run.population;
    let mut deviance = 0.0;
    for &(h, count) in &t.cells {
        let cell: f64 = (0..CLASSES)
            .map(|c| {
                shares[c]
                    * (0..k)
                        .map(|j| {
                            if h >> j & 1 == 1 {
                                probs[c][j]
                            } else {
                                1.0 - probs[c][j]
                            }
                        })
                        .product::<f64>()
            })
            .sum();
        deviance += 2.0 * count * (count / (t.n * cell / seen)).ln();
    }
    let mut notes = Vec::new();
    if !run.converged {
        notes.push(format!(
            "EM stopped after {} iterations without meeting its tolerance; the fit is its last iterate",
            run.iterations
        ));
    }
    let names = ["the often listed class", "the rarely listed class"];
    for (c, name) in names.iter().enumerate() {
        if shares[c] < BOUNDARY {
            notes.push(format!(
                "{name} is empty: on the boundary, the fit is that of independent lists"
            ));
            continue;
        }
        let lists = |keep: &dyn Fn(f64) -> bool| -> Vec<String> {
            (0..k)
                .filter(|&j| keep(probs[c][j]))
                .map(|j| t.lists[j].clone())
                .collect()
        };
        let never = lists(&|p| p < BOUNDARY);
        let always = lists(&|p| p > 1.0 - BOUNDARY);
        if !never.is_empty() {
            notes.push(format!(
                "on the boundary: {name} is never on {}",
                never.join(", ")
            ));
        }
        if !always.is_empty() {
            notes.push(format!(
                "on the boundary: {name} is always on {}",
                always.join(", ")
            ));
        }
    }
    TwoClassFit {
        population: run.population,
        shares,
        probs,
        loglik: run.loglik,
        deviance: deviance.max(0.0),
        df: (1i64 << k) - 2 - (2 * k as i64 + 1),
        iterations: run.iterations,
        converged: run.converged,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::generate::build;
    use crate::study::spec::{ClassSpec, Generator, LatentSpec};

    fn population(
        n: u64,
        shares: [f64; 2],
        probs: [&[f64]; 2],
    ) -> crate::study::generate::CellModel {
        let g = Generator::LatentClasses(LatentSpec {
            population: n,
            lists: None,
            classes: (0..2)
                .map(|c| ClassSpec {
                    share: shares[c],
                    probs: probs[c].to_vec(),
                })
                .collect(),
        });
        build(&g, None, "t").unwrap().remove(0).1
    }

    fn mean_sd(v: &[f64]) -> (f64, f64) {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
        (m, var.sqrt())
    }

    /// Tables drawn from a known mixture: the fits' mean lies within four standard errors
    /// of the truth (the standard error from the fits' own spread, so the tolerance is the
    /// sampling error), for N and for every share and probability.
    #[test]
    fn em_recovers_a_known_mixture() {
        let shares = [0.3, 0.7];
        let hi = [0.45, 0.5, 0.35, 0.4, 0.3];
        let lo = [0.08, 0.05, 0.1, 0.06, 0.04];
        let n = 200_000u64;
        let m = population(n, shares, [&hi, &lo]);
        let reps = 24;
        let fits: Vec<TwoClassFit> = (0..reps)
            .map(|r| {
                let crate::data::Dataset::Table(t) = m.draw(&mut stream(11, r)).unwrap() else {
                    panic!("a latent-class population draws capture histories")
                };
                fit(&t, 5).unwrap()
            })
            .collect();
        let check = |what: &str, values: Vec<f64>, truth: f64| {
            let (mean, sd) = mean_sd(&values);
            let se = sd / (reps as f64).sqrt();
            assert!(
                (mean - truth).abs() < 4.0 * se,
                "{what}: mean {mean} vs {truth}, se {se}"
            );
            sd
        };
        let sd = check("N", fits.iter().map(|f| f.population).collect(), n as f64);
        // The test has teeth: N is pinned to a few percent at this size.
        assert!(sd < 0.05 * n as f64, "sd of N̂ {sd}");
        check(
            "share",
            fits.iter().map(|f| f.shares[0]).collect(),
            shares[0],
        );
        for j in 0..5 {
            check("p hi", fits.iter().map(|f| f.probs[0][j]).collect(), hi[j]);
            check("p lo", fits.iter().map(|f| f.probs[1][j]).collect(), lo[j]);
        }
        assert!(fits.iter().all(|f| f.converged && f.notes.is_empty()));
        assert_eq!(fits[0].df, 30 - 11);
    }

    /// With the expected table itself as data the MLE is the truth: EM must find it to
    /// many digits, whatever starts it takes.
    #[test]
    fn em_finds_the_truth_in_the_expected_table() {
        let m = population(
            1_000_000,
            [0.4, 0.6],
            [&[0.5, 0.4, 0.3, 0.45], &[0.1, 0.05, 0.08, 0.12]],
        );
        let cells = m
            .probs
            .iter()
            .enumerate()
            .skip(1)
            .map(|(h, p)| (h as u64, (p * 1e6 * 1e3).round() as u64));
        let t = CaptureTable::new(m.lists.clone(), cells).unwrap();
        for seed in [1, 2] {
            let f = fit(&t, seed).unwrap();
            assert!((f.population / 1e9 - 1.0).abs() < 1e-4, "{}", f.population);
            assert!((f.shares[0] - 0.4).abs() < 1e-4, "{:?}", f.shares);
            assert!(f.deviance < 1e-3, "{}", f.deviance);
        }
    }

    #[test]
    fn three_lists_do_not_identify_n() {
        let t = CaptureTable::new(
            vec!["a".into(), "b".into(), "c".into()],
            [(1, 10), (2, 12), (3, 4), (4, 9), (5, 3), (6, 2), (7, 1)],
        )
        .unwrap();
        let e = fit(&t, 1).unwrap_err();
        assert!(e.reason.contains("7 parameters"), "{}", e.reason);
    }

    fn four(cells: &[(u64, u64)]) -> CaptureTable {
        let lists = ["a", "b", "c", "d"].map(String::from).to_vec();
        CaptureTable::new(lists, cells.iter().copied()).unwrap()
    }

    /// 400 people on one list each and one pair seen twice: a class of ever rarer people,
    /// ever more of them, fits ever better; that is said, not given a number.
    #[test]
    fn data_that_do_not_bound_n_give_no_fit() {
        let t = four(&[(1, 100), (2, 100), (4, 100), (8, 100), (3, 1)]);
        let e = fit(&t, 1).unwrap_err();
        assert!(e.reason.contains("do not bound N"), "{}", e.reason);
        // One more overlap in every pair bounds it.
        let t = four(&[
            (1, 100),
            (2, 100),
            (4, 100),
            (8, 100),
            (3, 1),
            (5, 1),
            (9, 1),
            (6, 1),
            (10, 1),
            (12, 1),
        ]);
        let f = fit(&t, 1).unwrap();
        assert!(
            f.converged && f.population > 5000.0 && f.population < 20000.0,
            "{f:?}"
        );
    }

    /// Twenty people on every list beside 400 on one: one class is on every list with
    /// probability 1, and the fit says it sits on the boundary.
    #[test]
    fn a_boundary_solution_is_noted() {
        let t = four(&[
            (1, 100),
            (2, 100),
            (4, 100),
            (8, 100),
            (3, 1),
            (5, 1),
            (9, 1),
            (6, 1),
            (10, 1),
            (12, 1),
            (15, 20),
        ]);
        let f = fit(&t, 1).unwrap();
        assert_eq!(
            f.notes,
            vec!["on the boundary: the often listed class is always on a, b, c, d"]
        );
    }
}
