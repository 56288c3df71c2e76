//! Properties of the estimators on random tables (proptest): N̂ ≥ n whenever there is a
//! number; relabelling the lists changes no estimate (the time-ordered Mb/Mbh excluded, and
//! stepwise, whose ties go to the first pair in list order as in SparseMSE); and the
//! bootstrap gives byte-identical JSON with 1 and 2 threads.

use darkfigure::methods::{Context, Details, IntervalKind, Method};
use darkfigure::{CaptureTable, Dataset, Status};
use proptest::prelude::*;

fn tables() -> impl Strategy<Value = CaptureTable> {
    (3usize..=5).prop_flat_map(|k| {
        proptest::collection::vec(0u64..40, (1usize << k) - 1).prop_filter_map(
            "someone observed",
            move |counts| {
                let lists: Vec<String> = (0..k).map(|i| format!("L{i}")).collect();
                let rows = counts.iter().enumerate().map(|(i, &c)| (i as u64 + 1, c));
                CaptureTable::new(lists, rows)
                    .ok()
                    .filter(|t| t.observed() > 0)
            },
        )
    })
}

const INVARIANT: &[&str] = &[
    "m0",
    "mt",
    "mh-chao",
    "mh-poisson2",
    "mh-darroch",
    "mh-gamma3.5",
    "mth-chao",
    "mth-darroch",
    "main",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn population_at_least_observed_and_label_free(t in tables(), rot in 1usize..5) {
        let o = Context { interval: IntervalKind::None, ..Context::default() };
        let n = t.observed() as f64;
        let k = t.k();
        let perm: Vec<usize> = (0..k).map(|i| (i + rot) % k).collect();
        let tp = t.permuted(&perm).unwrap();
        for id in INVARIANT.iter().chain(["stepwise", "mb", "mbh"].iter()) {
            let m: Method = id.parse().unwrap();
            let a = m.run(&Dataset::Table(t.clone()), &o).unwrap();
            for e in &a {
                if let Some(p) = e.population {
                    prop_assert!(p >= n - 1e-9 * n, "{id}: N̂ {p} < n {n}");
                }
                if e.status != Status::Ok && e.status != Status::NotConverged {
                    prop_assert!(e.population.is_none(), "{id}: a number with status {:?}", e.status);
                }
            }
            if !INVARIANT.contains(id) {
                continue;
            }
            let b = m.run(&Dataset::Table(tp.clone()), &o).unwrap();
            prop_assert_eq!(a[0].status, b[0].status, "{} status changed by relabelling", id);
            if let (Some(x), Some(y)) = (a[0].population, b[0].population)
                && a[0].status == Status::Ok {
                    prop_assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0), "{id}: {x} vs {y} after relabelling");
                }
        }
    }
}

/// The BIC search ranks every hierarchical model whose MLE exists: on kosovo (4 lists, all
/// 64 two-way models) its best BIC equals the minimum of BIC over the models fitted one by
/// one through `loglinear`, models that fail the existence check are left out, and the
/// ranking is by increasing BIC.
#[test]
fn bic_search_finds_the_minimum() {
    let dir = crate::common::data_dir();
    let d = darkfigure::data::parse::read_file(
        dir.join("kosovo.csv").to_str().unwrap(),
        &Default::default(),
    )
    .unwrap()
    .data;
    let Dataset::Table(t) = &d else {
        panic!("kosovo is a table")
    };
    let bic: Method = r#"{"id": "bic", "maxorder": 2, "ntop": 64}"#.parse().unwrap();
    let o = Context {
        interval: IntervalKind::None,
        ..Context::default()
    };
    let ranked = bic.run(&d, &o).unwrap();
    let bics: Vec<f64> = ranked
        .iter()
        .map(|e| match &e.options {
            Details::Bic(d) => d.bic,
            other => panic!("a BIC-ranked model records its BIC, not {other:?}"),
        })
        .collect();
    assert!(bics.windows(2).all(|w| w[0] <= w[1]), "ranked by BIC");
    let k = t.k();
    let pairs: Vec<u64> = (0..k)
        .flat_map(|i| (i + 1..k).map(move |j| (1u64 << i) | (1u64 << j)))
        .collect();
    let settings = darkfigure::methods::Settings {
        interval: IntervalKind::None,
        ..Default::default()
    };
    let mut best = f64::INFINITY;
    let mut with_mle = 0;
    for mask in 0u32..(1 << pairs.len()) {
        let gens: Vec<u64> = pairs
            .iter()
            .enumerate()
            .filter(|(j, _)| mask >> j & 1 == 1)
            .map(|(_, &p)| p)
            .collect();
        let ms = darkfigure::loglinear::ModelSpec::from_generators(k, gens);
        let e = darkfigure::methods::loglinear::fit_spec(t, &ms, &settings, "loglinear").unwrap();
        if e.status == Status::Ok {
            with_mle += 1;
            best = best.min(e.fit.as_ref().unwrap().bic);
        }
    }
    assert_eq!(ranked.len(), with_mle, "every model with an MLE is ranked");
    assert!(
        (bics[0] - best).abs() <= 1e-9 * best.abs(),
        "best BIC {} vs {best}",
        bics[0]
    );
}
