//! Bayesian thresholding: MultipleSystemsEstimation's Kosovo result (retained set exactly,
//! quantiles within the Monte Carlo error of the package's own runs and ours), exactness
//! where the posterior is known in closed form, the flat prior's existence rule, no number
//! where the data do not bound N, maxorder 3, and thread-count independence.

use super::common::data_dir;
use darkfigure::checked::Level;
use darkfigure::data::parse::{ParseOptions, read_file};
use darkfigure::data::{CaptureTable, Dataset};
use darkfigure::methods::bayes_threshold::estimate;
use darkfigure::methods::bayes_threshold::{Kernel, Prior, ThresholdOptions};
use darkfigure::methods::details::ThresholdDetails;
use darkfigure::methods::{Details, Estimate, Status};
use rand_distr::{Distribution, Gamma};
use rayon::prelude::*;

fn run(data: &Dataset, o: ThresholdOptions) -> Estimate {
    let Dataset::Table(t) = data else {
        panic!("bayes-threshold takes a table")
    };
    estimate(t, &o, Level::DEFAULT).expect("runs")
}

fn details(e: &Estimate) -> &ThresholdDetails {
    let Details::Threshold(d) = &e.options else {
        panic!("bayes-threshold records its thresholding")
    };
    d
}

/// The two-list interactions kept.
fn retained(e: &Estimate) -> &[String] {
    details(e).retained.as_deref().expect("sampled")
}

fn quantile(e: &Estimate, p: f64) -> f64 {
    e.draws
        .as_ref()
        .expect("draws")
        .quantiles
        .iter()
        .find(|q| (q.0 - p).abs() < 1e-12)
        .expect("quantile reported")
        .1
}

fn kosovo() -> Dataset {
    let path = data_dir().join("kosovo.csv");
    read_file(path.to_str().expect("utf-8 path"), &ParseOptions::default())
        .expect("kosovo parses")
        .data
}

#[test]
fn kosovo_matches_multiple_systems_estimation() {
    let data = kosovo();
    // MultipleSystemsEstimation, estimate_population_bayesthresh(Kosovo): maxorder 2,
    // N(0, 1) prior, threshold 2, MCMCpoisson defaults (burn-in 1000, 10,000 draws, tune 1.1).
    let reference = [
        (0.025, 12_236.22),
        (0.1, 12_796.88),
        (0.5, 13_971.48),
        (0.9, 15_475.37),
        (0.975, 16_389.40),
    ];
    let ours = run(
        &data,
        ThresholdOptions {
            samples: 25_000,
            ..ThresholdOptions::default()
        },
    );
    assert_eq!(ours.status, Status::Ok);
    assert_eq!(
        retained(&ours),
        ["EXH:ABA", "EXH:OSCE", "ABA:OSCE", "EXH:HRW", "OSCE:HRW"]
    );
    assert_eq!(
        ours.model.as_deref(),
        Some("[EXH:ABA,EXH:OSCE,ABA:OSCE,EXH:HRW,OSCE:HRW]")
    );
    // The reference is one run of the package's random-walk sampler: its Monte Carlo error
    // is measured by repeating that run (same kernel, start, burn-in and length) over 48
    // seeds here. Every one of them must retain the same interactions.
    let package_runs: Vec<Estimate> = (0..48u64)
        .into_par_iter()
        .map(|s| {
            run(
                &data,
                ThresholdOptions {
                    chains: 1,
                    seed: 7_000 + s,
                    kernel: Kernel::RandomWalk { tune: 1.1 },
                    ..ThresholdOptions::default()
                },
            )
        })
        .collect();
    for r in &package_runs {
        assert_eq!(retained(r), retained(&ours));
    }
    let level_mcse = |p: f64| -> f64 {
        details(&ours)
            .diagnostics
            .as_ref()
            .expect("MCSE of the quantiles")
            .mcse_quantiles
            .iter()
            .find(|x| (x.0 - p).abs() < 1e-12)
            .and_then(|x| x.1)
            .expect("MCSE of this quantile")
    };
    for (p, r) in reference {
        let v: Vec<f64> = package_runs.iter().map(|e| quantile(e, p)).collect();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let sd_package =
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt();
        let q = quantile(&ours, p);
        // Tolerance: 3 standard deviations of the difference of two independent Monte
        // Carlo estimates, the package's (seed-to-seed s.d. of its procedure) and ours (the
        // quantile's MCSE).
        let tol = 3.0 * (sd_package.powi(2) + level_mcse(p).powi(2)).sqrt();
        assert!(
            (q - r).abs() <= tol,
            "q{p}: ours {q:.1}, MultipleSystemsEstimation {r}, tolerance {tol:.1} (package s.d. {sd_package:.1})"
        );
        // The package's kernel, run by us 48 times, agrees with our kernel: same posterior
        // (4 s.d. of the difference of the two Monte Carlo estimates).
        let se_mean = sd_package / (v.len() as f64).sqrt();
        assert!(
            (m - q).abs() <= 4.0 * (se_mean.powi(2) + level_mcse(p).powi(2)).sqrt(),
            "q{p}: package kernel mean {m:.1} vs ours {q:.1}"
        );
    }
}

#[test]
fn independence_model_has_the_gamma_ratio_posterior() {
    // Two lists, the pair dropped (threshold out of reach): with flat priors on the
    // intercept and main effects (N(0, 10⁴) here, whose pull is ~1e-5 of a posterior sd),
    // the three cell means are independent Gamma(y, 1) a posteriori and the unobserved
    // cell's mean is μ10·μ01/μ11 — sampled here directly, a million times.
    let (y10, y01, y11) = (300.0, 240.0, 80.0);
    let t = CaptureTable::new(
        vec!["A".into(), "B".into()],
        [(1, y10 as u64), (2, y01 as u64), (3, y11 as u64)],
    )
    .expect("valid");
    let e = run(
        &Dataset::Table(t),
        ThresholdOptions {
            threshold: 1e9,
            samples: 20_000,
            ..ThresholdOptions::default()
        },
    );
    assert!(retained(&e).is_empty());
    let mut rng = darkfigure::montecarlo::stream(99, 0);
    let g = |s: f64| Gamma::new(s, 1.0).expect("shape > 0");
    let (a, b, c) = (g(y10), g(y01), g(y11));
    let mut exact: Vec<f64> = (0..1_000_000)
        .map(|_| 620.0 + a.sample(&mut rng) * b.sample(&mut rng) / c.sample(&mut rng))
        .collect();
    exact.sort_by(f64::total_cmp);
    let d = details(&e).diagnostics.as_ref().expect("diagnostics");
    for (p, mcse) in [
        (0.5, d.mcse_median),
        (0.025, d.mcse_lower),
        (0.975, d.mcse_upper),
    ] {
        let want = exact[(p * exact.len() as f64) as usize];
        let got = quantile(&e, p);
        let mcse = mcse.expect("mcse");
        // 4 MCSE of ours; the million iid draws add < 0.3 of one.
        assert!(
            (got - want).abs() < 4.0 * mcse,
            "q{p}: {got} vs {want} (mcse {mcse})"
        );
    }
    // Exact mean: 620 + y10·y01/(y11 − 1).
    let mean = e.draws.as_ref().expect("draws").mean;
    let want = 620.0 + y10 * y01 / (y11 - 1.0);
    let mcse = d.mcse_mean;
    assert!(
        (mean - want).abs() < 4.0 * mcse,
        "mean {mean} vs {want} (mcse {mcse})"
    );
}

#[test]
fn flat_prior_needs_an_existing_mle() {
    // Artificial_3 (SparseMSE's test): all two-list effects are not identifiable.
    let t = CaptureTable::new(
        vec!["A".into(), "B".into(), "C".into()],
        [(1, 40), (2, 30), (4, 20), (3, 6)],
    )
    .expect("valid");
    let flat = ThresholdOptions {
        prior: Prior::Flat,
        samples: 1_000,
        ..ThresholdOptions::default()
    };
    let e = run(&Dataset::Table(t.clone()), flat);
    assert!(e.population.is_none() && e.status != Status::Ok, "{e:?}");
    assert!(e.check.is_some() && e.warnings[0].contains("normal prior"));
    // The proper prior gives a posterior all the same (Forster 2010).
    let e = run(
        &Dataset::Table(t),
        ThresholdOptions {
            samples: 2_000,
            ..ThresholdOptions::default()
        },
    );
    assert_eq!(e.status, Status::Ok);
    assert!(e.population.is_some_and(|p| p > 96.0 && p.is_finite()));
}

#[test]
fn flat_prior_and_three_list_terms_run_on_kosovo() {
    let data = kosovo();
    let flat = run(
        &data,
        ThresholdOptions {
            prior: Prior::Flat,
            samples: 4_000,
            ..ThresholdOptions::default()
        },
    );
    assert_eq!(flat.status, Status::Ok);
    // The N(0, 1) prior hardly matters with 4,400 people: the same pairs are kept.
    assert_eq!(
        retained(&flat),
        ["EXH:ABA", "EXH:OSCE", "ABA:OSCE", "EXH:HRW", "OSCE:HRW"]
    );
    let three = run(
        &data,
        ThresholdOptions {
            maxorder: 3,
            samples: 4_000,
            ..ThresholdOptions::default()
        },
    );
    assert_eq!(three.status, Status::Ok);
    // Eligible triples: those whose three pairs were all kept (ABA:HRW was dropped).
    let triples = details(&three).triples.as_ref().expect("maxorder 3");
    assert_eq!(triples.eligible, ["EXH:ABA:OSCE", "EXH:OSCE:HRW"]);
    let model = three.model.as_deref().expect("model");
    for t in &triples.retained {
        assert!(model.contains(t.as_str()), "{model}");
    }
}

#[test]
fn draws_do_not_depend_on_the_thread_count() {
    let data = kosovo();
    let once = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| {
                let e = run(
                    &data,
                    ThresholdOptions {
                        samples: 500,
                        ..ThresholdOptions::default()
                    },
                );
                serde_json::to_string(&e).expect("serialises")
            })
    };
    assert_eq!(once(1), once(3));
}

#[test]
fn data_that_do_not_bound_n_give_no_number() {
    // Three lists that never overlap, one person, everyone on one list: the posterior of N
    // under the flat prior the method means for the main effects has no upper limit (issue
    // 17: the stand-in N(0, 10⁴) put the median at 10¹⁸, 10³², 10³⁴).
    let abc = || vec!["A".to_string(), "B".into(), "C".into()];
    let cheap = ThresholdOptions {
        samples: 200,
        burnin: 50,
        ..ThresholdOptions::default()
    };
    for cells in [
        vec![(0b001, 5), (0b010, 7), (0b100, 4)],
        vec![(0b001, 1)],
        vec![(0b001, 30)],
    ] {
        let t = CaptureTable::new(abc(), cells.clone()).expect("valid");
        for prior in [Prior::Normal { variance: 1.0 }, Prior::Flat] {
            let e = run(
                &Dataset::Table(t.clone()),
                ThresholdOptions { prior, ..cheap },
            );
            assert_eq!(e.status, Status::Infinite, "{cells:?} {prior:?}");
            assert!(e.population.is_none() && e.interval.is_none() && e.draws.is_none());
            assert!(e.warnings[0].contains("do not bound N"), "{:?}", e.warnings);
            // The main-effects check says why: no MLE, or (one list) not identifiable.
            assert!(
                e.check.as_ref().is_some_and(|c| c.code != 0),
                "{:?}",
                e.check
            );
        }
    }
    // One overlap pins the main effects; the interactions of C, never seen with anyone,
    // are held by their N(0, 1) prior, and a prior as flat as 10⁴ does not hold them.
    let t = CaptureTable::new(abc(), [(0b001, 40), (0b010, 30), (0b011, 6), (0b100, 20)])
        .expect("valid");
    let e = run(&Dataset::Table(t.clone()), cheap);
    assert_eq!(e.status, Status::Ok);
    assert!(e.population.is_some_and(|p| p.is_finite() && p > 96.0));
    let flat_enough = ThresholdOptions {
        prior: Prior::Normal { variance: 1e4 },
        ..cheap
    };
    let e = run(&Dataset::Table(t), flat_enough);
    assert_eq!(e.status, Status::Infinite);
    assert!(e.warnings[0].contains("as flat as"), "{:?}", e.warnings);
    // Everyone on both of two lists: N's posterior is bounded (at n), not refused.
    let t = CaptureTable::new(abc(), [(0b011, 20)]).expect("valid");
    let e = run(&Dataset::Table(t), cheap);
    assert_eq!(e.status, Status::Ok);
    assert!(e.population.is_some_and(|p| p < 21.0), "{e:?}");
}
