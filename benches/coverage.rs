//! Criterion benchmark of the sample-coverage family: `sc-lsc` with CARE1's 1000-replicate
//! bootstrap on kosovo (4 lists, 4,400 people; CARE1's `estN(z, "LSC", se = TRUE,
//! nboot = 1000)` takes 13.5 s in R on this kind of machine; target ≤ 30 ms), with all
//! cores, and the three point estimates alone.

use criterion::{Criterion, criterion_group, criterion_main};
use darkfigure::data::parse::{ParseOptions, read_file};
use darkfigure::inference::bootstrap::{BootKind, BootOptions};
use darkfigure::methods::{Context, Method};
use std::hint::black_box;

fn coverage(c: &mut Criterion) {
    let dir = std::env::var("DARKFIGURE_DATA")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data").to_string());
    let d = read_file(&format!("{dir}/kosovo.csv"), &ParseOptions::default())
        .expect("tests/data")
        .data;
    let lsc: Method = "sc-lsc".parse().expect("method");
    let ctx = Context {
        seed: 1,
        bootstrap: Some(BootOptions {
            replicates: 1000,
            seed: 1,
            kind: BootKind::Nonparametric,
        }),
        ..Context::default()
    };
    c.bench_function("sc-lsc + 1000 bootstrap kosovo", |b| {
        b.iter(|| black_box(lsc.run(black_box(&d), &ctx).expect("estimate")))
    });
    for id in ["sc-indep", "sc-hsc", "sc-lsc"] {
        let m: Method = id.parse().expect("method");
        c.bench_function(&format!("{id} point kosovo"), |b| {
            b.iter(|| black_box(m.run(black_box(&d), &Context::default()).expect("estimate")))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(5));
    targets = coverage
}
criterion_main!(benches);
