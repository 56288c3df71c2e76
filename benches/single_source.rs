//! Criterion benchmark of the single-source regressions on netherlandsimmigrant (1,880
//! people), beside singleRcapture 0.2.3's times for the same calls (issue 19; R 4.2.2,
//! single-threaded): `ztpoisson ~ gender + age + nation` analytic (R 19.5 ms), the same
//! with a 1000-replicate non-parametric bootstrap (R 8.8 s), `ztnegbin ~ gender + age`
//! (R 9.8 s, which ends at the dispersion's boundary; here too, reported as such).
//! Each analytic fit includes the goodness of fit and the deletion diagnostics.

use criterion::{Criterion, criterion_group, criterion_main};
use darkfigure::data::parse::{ParseOptions, read_file};
use darkfigure::inference::bootstrap::{BootKind, BootOptions};
use darkfigure::methods::{Context, Method};
use std::hint::black_box;

fn single_source(c: &mut Criterion) {
    let dir = std::env::var("DARKFIGURE_DATA")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data").to_string());
    let o = ParseOptions {
        count_column: Some("capture".into()),
        ..ParseOptions::default()
    };
    let d = read_file(&format!("{dir}/netherlandsimmigrant.csv"), &o)
        .expect("tests/data")
        .data;
    let zt: Method = r#"{"id":"ztpoisson","covariates":["gender","age","nation"]}"#
        .parse()
        .expect("method");
    c.bench_function("ztpoisson ~ gender + age + nation (analytic)", |b| {
        b.iter(|| black_box(zt.run(black_box(&d), &Context::default()).expect("fit")))
    });
    let nb: Method = r#"{"id":"ztnegbin","covariates":["gender","age"]}"#
        .parse()
        .expect("method");
    c.bench_function("ztnegbin ~ gender + age", |b| {
        b.iter(|| black_box(nb.run(black_box(&d), &Context::default()).expect("fit")))
    });
    let boot = Context {
        bootstrap: Some(BootOptions {
            replicates: 1000,
            seed: 1,
            kind: BootKind::Nonparametric,
        }),
        ..Context::default()
    };
    c.bench_function(
        "ztpoisson ~ gender + age + nation, 1000 non-parametric bootstrap",
        |b| b.iter(|| black_box(zt.run(black_box(&d), &boot).expect("fit"))),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = single_source
}
criterion_main!(benches);
