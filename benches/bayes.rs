//! Criterion benchmark of Bayesian thresholding (MultipleSystemsEstimation's
//! `estimate_population_bayesthresh`) on kosovo and UKdat_5 with the defaults: two
//! posterior fits at maxorder 2 (all pairs, then the kept ones), 4 chains × 11,000
//! iterations each, all cores.

use criterion::{Criterion, criterion_group, criterion_main};
use darkfigure::data::parse::{ParseOptions, read_file};
use darkfigure::methods::{Context, Method};
use std::hint::black_box;

fn bayes(c: &mut Criterion) {
    let dir = std::env::var("DARKFIGURE_DATA")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data").to_string());
    for name in ["kosovo", "UKdat_5"] {
        let d = read_file(&format!("{dir}/{name}.csv"), &ParseOptions::default())
            .expect("tests/data")
            .data;
        let m: Method = "bayes-threshold".parse().expect("method");
        c.bench_function(
            &format!("bayes-threshold {name} (4 chains x 11k, 2 fits)"),
            |b| b.iter(|| black_box(m.run(black_box(&d), &Context::default()).expect("fit"))),
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bayes
}
criterion_main!(benches);
