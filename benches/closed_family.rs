//! Criterion benchmarks of the foundation: Rcapture's 12-model closed family (what
//! `closedp.t` computes: N̂, se, deviance, AIC, BIC, bias check; no interval) on bunting
//! (8 lists) and UKdat (6 lists), and the all-two-way log-linear model on NewOrl (8 lists).
//! R's medians on the same kind of machine: closedp.t 29 ms (bunting), 23 ms (UKdat).

use criterion::{Criterion, criterion_group, criterion_main};
use darkfigure::data::parse::{ParseOptions, read_file};
use darkfigure::methods::closed::{ClosedModel, TABLE_IDS, estimate};
use darkfigure::methods::{Context, IntervalKind, Method, Settings};
use std::hint::black_box;

fn data(name: &str) -> darkfigure::Dataset {
    let dir = std::env::var("DARKFIGURE_DATA")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data").to_string());
    read_file(&format!("{dir}/{name}.csv"), &ParseOptions::default())
        .expect("tests/data")
        .data
}

fn family(c: &mut Criterion) {
    let none = Settings {
        interval: IntervalKind::None,
        ..Settings::default()
    };
    for name in ["bunting", "UKdat"] {
        let d = data(name);
        c.bench_function(&format!("closedp.t family (12 models) {name}"), |b| {
            b.iter(|| {
                for id in TABLE_IDS {
                    let m = ClosedModel::from_id(id).expect("known id");
                    black_box(estimate(m, black_box(&d), &none).expect("fit"));
                }
            })
        });
    }
    let d = data("NewOrl");
    let two: Method = r#"{"id": "loglinear", "model": "twoway"}"#.parse().expect("method");
    let no_interval = Context {
        interval: IntervalKind::None,
        ..Context::default()
    };
    c.bench_function("loglinear all two-way NewOrl", |b| {
        b.iter(|| black_box(two.run(black_box(&d), &no_interval).expect("fit")))
    });
    c.bench_function("loglinear all two-way NewOrl + profile interval", |b| {
        b.iter(|| black_box(two.run(black_box(&d), &Context::default()).expect("fit")))
    });
    for name in ["NewOrl", "UKdat_5"] {
        let d = data(name);
        let sw: Method = "stepwise".parse().expect("method");
        c.bench_function(&format!("stepwise {name}"), |b| {
            b.iter(|| black_box(sw.run(black_box(&d), &Context::default()).expect("fit")))
        });
    }
    let d = data("UKdat");
    let mthc: Method = "mth-chao".parse().expect("method");
    c.bench_function("Mth Chao + profile interval UKdat", |b| {
        b.iter(|| black_box(mthc.run(black_box(&d), &Context::default()).expect("fit")))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(4));
    targets = family
}
criterion_main!(benches);
