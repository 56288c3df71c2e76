//! LCMCR sampler: exactness where the posterior is known in closed form (one class),
//! recovery of a known N from latent-class data, and thread-count independence.

use darkfigure::data::CaptureTable;
use darkfigure::methods::lcmcr::{LcmcrOptions, sample};
use darkfigure::montecarlo::stream;
use rand::RngExt;
use statrs::function::gamma::ln_gamma;

fn table(k: usize, rows: &[(u64, u64)]) -> CaptureTable {
    let lists = (0..k).map(|i| format!("L{i}")).collect();
    CaptureTable::new(lists, rows.iter().copied()).expect("valid table")
}

/// Mean and batch-means MCSE (20 batches per chain) of the pooled draws.
fn mean_mcse(chains: &[Vec<f64>]) -> (f64, f64) {
    let all: Vec<f64> = chains.concat();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let mut batch = Vec::new();
    for c in chains {
        let b = c.len() / 20;
        for w in c.chunks_exact(b) {
            batch.push(w.iter().sum::<f64>() / b as f64);
        }
    }
    let m = batch.len() as f64;
    let bm = batch.iter().sum::<f64>() / m;
    let var = batch.iter().map(|x| (x - bm).powi(2)).sum::<f64>() / (m - 1.0);
    (mean, (var / m).sqrt())
}

#[test]
fn one_class_matches_the_exact_posterior_of_n() {
    // With one class the model is M_t: λ_j ~ Beta(1,1), p(N) ∝ 1/N, so
    // p(N | data) ∝ N!/(N−n)! /N · Π_j B(n_j + 1, N − n_j + 1), summed here on a grid.
    let rows = [(1, 60), (2, 55), (4, 40), (3, 20), (5, 15), (6, 18), (7, 6)];
    let t = table(3, &rows);
    let n: u64 = rows.iter().map(|r| r.1).sum();
    let nj: Vec<u64> = (0..3)
        .map(|j| rows.iter().filter(|r| r.0 >> j & 1 == 1).map(|r| r.1).sum())
        .collect();
    let grid: Vec<f64> = (n..n + 5000).map(|x| x as f64).collect();
    let logp: Vec<f64> = grid
        .iter()
        .map(|&big| {
            -big.ln() + ln_gamma(big + 1.0) - ln_gamma(big - n as f64 + 1.0)
                + nj.iter()
                    .map(|&m| ln_gamma(big - m as f64 + 1.0) - ln_gamma(big + 2.0))
                    .sum::<f64>()
        })
        .collect();
    let mx = logp.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = logp.iter().map(|l| (l - mx).exp()).collect();
    let z: f64 = w.iter().sum();
    assert!(
        w[w.len() - 1] / z < 1e-12,
        "grid must hold the whole posterior"
    );
    let exact_mean = grid.iter().zip(&w).map(|(x, p)| x * p).sum::<f64>() / z;

    let o = LcmcrOptions {
        k: 1,
        burnin: 2_000,
        samples: 5_000,
        thinning: 2,
        chains: 4,
        seed: 11,
        ..Default::default()
    };
    let draws = sample(&t, o);
    let (mean, mcse) = mean_mcse(&draws);
    // 4 MCSE: a correct sampler fails this about once in 15,000 seeds.
    assert!(
        (mean - exact_mean).abs() < 4.0 * mcse,
        "sampled mean {mean} vs exact {exact_mean} (MCSE {mcse})"
    );
    assert!(
        mcse < 2.0,
        "MCSE {mcse} too large for the check to mean anything"
    );
}

#[test]
fn recovers_n_from_latent_class_data() {
    // Two classes, 5 lists: 30% easy to catch (λ = 0.7), 70% hard (λ = 0.25).
    let truth = 10_000u64;
    let mut rng = stream(2024, 0);
    let mut counts = [0u64; 32];
    for _ in 0..truth {
        let lam = if rng.random::<f64>() < 0.3 { 0.7 } else { 0.25 };
        let h = (0..5).fold(0usize, |h, j| {
            h | (usize::from(rng.random::<f64>() < lam) << j)
        });
        counts[h] += 1;
    }
    let t = table(
        5,
        &(1..32).map(|h| (h as u64, counts[h])).collect::<Vec<_>>(),
    );
    let interval = |k| {
        let o = LcmcrOptions {
            k,
            burnin: 5_000,
            samples: 2_000,
            thinning: 5,
            chains: 4,
            seed: 7,
            ..Default::default()
        };
        let mut all = sample(&t, o).concat();
        all.sort_by(f64::total_cmp);
        let q = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize];
        (q(0.025), q(0.975))
    };
    let (lo, hi) = interval(10);
    assert!(
        lo <= truth as f64 && truth as f64 <= hi,
        "95% interval {lo}–{hi} misses N = {truth}"
    );
    assert!(
        hi - lo < 0.1 * truth as f64,
        "interval {lo}–{hi} too wide to test recovery"
    );
    // One class (no heterogeneity) must miss low: the latent classes are doing the work.
    let (_, hi1) = interval(1);
    assert!(
        hi1 < truth as f64,
        "the one-class model should underestimate, got upper {hi1}"
    );
}

#[test]
fn draws_do_not_depend_on_the_thread_count() {
    let t = table(
        3,
        &[(1, 30), (2, 25), (4, 20), (3, 8), (5, 6), (6, 7), (7, 2)],
    );
    let o = LcmcrOptions {
        burnin: 200,
        samples: 100,
        thinning: 2,
        chains: 3,
        seed: 5,
        ..Default::default()
    };
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| sample(&t, o))
    };
    assert_eq!(run(1), run(2));
}

/// Values where this sampler and the package's runs disagree beyond the tolerance, for a
/// reason found: on UKdat_5 with K = 10, Gibbs updates alone (the package has nothing else)
/// never move a latent class to another stick-breaking position, so a chain keeps the label
/// configuration it starts from. Without the label-switching move, 11 M-iteration chains
/// here settled at medians 21,298 or 22,399 (MCSE ≈ 30) depending on the configuration left
/// by the warm-up, and the package's runs (21,241/20,811, batch-means ESS ≈ 420 of 20,000
/// draws) sit in the lower one. With the move every start reaches ≈ 22,250, as does the
/// package's own K = 5 run (22,212). Listed, not tolerated: every other value must match.
/// The upper tail moves with the configuration too (full-length runs: ours 34,613, the
/// package's 32,551/32,253).
const KNOWN_DIVERGENT: &[(&str, &str)] = &[
    ("UKdat_5", "q0.5"),
    ("UKdat_5", "q0.025"),
    ("UKdat_5", "q0.975"),
];

/// Each chain's own type-7 quantile at `p`.
fn chain_quantiles(chains: &[Vec<f64>], p: f64) -> Vec<f64> {
    chains
        .iter()
        .map(|c| darkfigure::inference::mcmc::chain_quantile(c, p))
        .collect()
}

#[test]
fn posterior_matches_the_lcmcr_reference() {
    use crate::common::data_dir;
    use darkfigure::data::parse::{ParseOptions, read_file};
    use darkfigure::inference::mcmc::{chain_quantile, mcse_between, mcse_quantile, quantile7};
    let data = data_dir();
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut set_aside = Vec::new();
    for (name, section) in
        crate::reference::sections_of("lcmcr/runs", "lcmcr::posterior_matches_the_lcmcr_reference")
    {
        let runs = section.as_array().expect("lcmcr runs");
        // The package's default truncation K = 10, run with two seeds.
        let r10: Vec<&serde_json::Value> = runs.iter().filter(|r| r["K"] == 10).collect();
        assert_eq!(r10.len(), 2, "{name} lcmcr/runs: two runs with K = 10");
        let csv = data.join(format!("{name}.csv"));
        let darkfigure::Dataset::Table(t) =
            read_file(csv.to_str().expect("utf-8"), &ParseOptions::default())
                .expect("data parse")
                .data
        else {
            panic!("{name}: not a table");
        };
        // The package's burn-in (100,000): Ned_5 has transients at N ≈ 20,000 that
        // outlast 20,000 iterations from the package start. A chain can also fall, early in
        // its burn-in, into Ned_5's ghost-class mode (N ≈ 145,000 against ≈ 49,000) and
        // stay there (measured: 19 of 144 chains of 300,000 iterations, none leaving;
        // R-hat flags such a run, as it does for users). The package's runs never visited
        // it, and the comparison is with the mode they sampled: a chain whose median is
        // off the package's by more than a factor 1.5 (tolerances here are ~2%) is set
        // aside and replaced by the next chain of the same seed, up to 24 chains. Fewer
        // than 12 chains in the package's mode fails, as does a sampler that is wrong.
        // Twelve chains, not four: kosovo's lower tail is shaped by rare excursions to
        // N < 8,500 lasting ~25,000 iterations, so one chain's 2.5% quantile varies by
        // s.d. ≈ 430 between chains (16 chains measured) while the within-chain MCSE says
        // ≈ 40; four chains estimate that spread too poorly (3 degrees of freedom).
        let r_median = r10
            .iter()
            .map(|r| r["quantiles"]["q0.5"].as_f64().expect("median"))
            .sum::<f64>()
            / 2.0;
        let mut chains = Vec::new();
        for total in [12, 16, 20, 24] {
            let o = LcmcrOptions {
                k: 10,
                burnin: 100_000,
                samples: 10_000,
                thinning: 20,
                chains: total,
                seed: 1,
                ..Default::default()
            };
            let all = sample(&t, o);
            let medians = chain_quantiles(&all, 0.5);
            let (kept, aside): (Vec<_>, Vec<_>) = all
                .into_iter()
                .zip(&medians)
                .partition(|(_, m)| (**m / r_median).ln().abs() < 1.5f64.ln());
            chains = kept.into_iter().map(|(c, _)| c).take(12).collect();
            if !aside.is_empty() {
                set_aside.push(format!(
                    "{name}: {} of {total} chains (medians {:?})",
                    aside.len(),
                    aside.iter().map(|(_, m)| m.round()).collect::<Vec<_>>()
                ));
            }
            if chains.len() == 12 {
                break;
            }
        }
        assert_eq!(chains.len(), 12, "{name}: {}", set_aside.join("; "));
        let mut all = chains.concat();
        all.sort_by(f64::total_cmp);
        for (p, key) in [(0.5, "q0.5"), (0.025, "q0.025"), (0.975, "q0.975")] {
            let r: Vec<f64> = r10
                .iter()
                .map(|r| r["quantiles"][key].as_f64().expect("quantile"))
                .collect();
            // The package's Monte Carlo error per run: the spread of its two seeds
            // (E (r1 − r2)² = 2σ²), floored by its own batch-means MCSE of the mean times
            // √(π/2) (the median's MCSE for a normal posterior), since two runs can agree
            // by chance. Tolerance: 4 s.d. of (our quantile − the mean of the package's two
            // runs).
            let mcse_r = r10
                .iter()
                .map(|r| r["mcse_mean_batchmeans"].as_f64().expect("mcse"))
                .fold(0.0, f64::max);
            let sigma_r = ((r[0] - r[1]).powi(2) / 2.0)
                .sqrt()
                .max(mcse_r * (std::f64::consts::PI / 2.0).sqrt());
            let ours = quantile7(&all, p);
            // Ours: the larger of the within-chain MCSE and the spread of the twelve chains'
            // own quantiles / √12; the latter sees slow excursions (Western: runs spread by
            // ≈ 14 where the within-chain MCSE says 5).
            let between = mcse_between(&chains, |c| chain_quantile(c, p)).expect("chains");
            let mcse = mcse_quantile(&chains, p)
                .expect("enough draws")
                .max(between);
            let target = (r[0] + r[1]) / 2.0;
            let tol = 4.0 * (sigma_r.powi(2) / 2.0 + mcse.powi(2)).sqrt();
            checked += 1;
            if (ours - target).abs() > tol && !KNOWN_DIVERGENT.contains(&(name, key)) {
                failures.push(format!(
                    "{name} lcmcr/runs {key}: ours {ours:.1} (MCSE {mcse:.1}), LCMCR {:.1}/{:.1}, tolerance {tol:.1}",
                    r[0], r[1]
                ));
            }
        }
    }
    eprintln!("checked {checked} values");
    assert!(checked >= 21, "only {checked} values checked");
    assert!(
        failures.is_empty(),
        "{}\nset aside: {}",
        failures.join("\n"),
        set_aside.join("; ")
    );
}

#[test]
fn dispersed_starts_on_a_sparse_table_are_flagged() {
    // Ned_5 (8,234 people, 5 lists, 17 of 31 histories seen) has long-lived states with a
    // "ghost" class of ~135,000 people nobody saw (N ≈ 145,000) beside the bulk at
    // N ≈ 48,000; a chain started inside one can stay there for 10^5–10^6 iterations. The
    // package's start avoids them (see the reference test); started apart, chains disagree
    // and the diagnostics must say so rather than average the two into one number.
    use crate::common::data_dir;
    use darkfigure::data::parse::{ParseOptions, read_file};
    use darkfigure::inference::mcmc::diagnose;
    use darkfigure::methods::lcmcr::Start;
    let data = data_dir();
    let csv = data.join("Ned_5.csv");
    let darkfigure::Dataset::Table(t) =
        read_file(csv.to_str().expect("utf-8"), &ParseOptions::default())
            .expect("data parse")
            .data
    else {
        panic!("Ned_5: not a table");
    };
    // A chain lands in a ghost state in most 6-chain runs (4 of the first 5 seeds); every
    // run where chains disagree must be flagged, and at least one run must disagree.
    let mut split_runs = 0;
    for seed in 1..=3 {
        // The package's burn-in (100,000): Ned_5 has transients at N ≈ 20,000 that
        // outlast 20,000 iterations from the package start.
        let o = LcmcrOptions {
            k: 10,
            burnin: 100_000,
            samples: 4_000,
            thinning: 20,
            chains: 6,
            seed,
            start: Start::Dispersed,
            ..Default::default()
        };
        let chains = sample(&t, o);
        let medians = chain_quantiles(&chains, 0.5);
        let (lo, hi) = medians
            .iter()
            .fold((f64::MAX, 0.0f64), |(a, b), &m| (a.min(m), b.max(m)));
        if hi > 2.0 * lo {
            split_runs += 1;
            let d = diagnose(&chains).expect("enough draws");
            assert!(
                d.warn() && d.rhat > 1.1,
                "seed {seed}: medians {medians:?}, {d:?}"
            );
        }
    }
    assert!(
        split_runs > 0,
        "no run showed the ghost states; the check tested nothing"
    );
}
