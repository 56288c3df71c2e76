//! Criterion benchmarks of model uncertainty: stepwise + 1000-replicate BCa and main
//! effects + 1000-replicate BCa on UKdat_5 (SparseMSE `estimatepopulation`: 56.7 s and
//! 1.89 s on this kind of machine), and the all-model BIC search on UKdat (6 lists,
//! maxorder 2, 32,768 models; target ≤ 3 s), with all cores; LCMCR Gibbs sampling, one
//! tenth of R's 1.1 M iterations (K = 10) on kosovo and UKdat_5, with 1 and 2 chains.

use criterion::{Criterion, criterion_group, criterion_main};
use darkfigure::data::parse::{ParseOptions, read_file};
use darkfigure::inference::bootstrap::{BootKind, BootOptions};
use darkfigure::methods::{Context, IntervalKind, Method};
use std::hint::black_box;

fn bootstrap(c: &mut Criterion) {
    let dir = std::env::var("DARKFIGURE_DATA")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data").to_string());
    let d = read_file(&format!("{dir}/UKdat_5.csv"), &ParseOptions::default())
        .expect("tests/data")
        .data;
    let uk = read_file(&format!("{dir}/UKdat.csv"), &ParseOptions::default())
        .expect("tests/data")
        .data;
    let bic: Method = r#"{"id": "bic", "maxorder": 2}"#.parse().expect("method");
    c.bench_function("bic all 32768 models UKdat (maxorder 2)", |b| {
        b.iter(|| black_box(bic.run(black_box(&uk), &Context::default()).expect("fit")))
    });
    for name in ["kosovo", "UKdat_5", "UKdat"] {
        let d = read_file(&format!("{dir}/{name}.csv"), &ParseOptions::default())
            .expect("tests/data")
            .data;
        let dga: Method = "dga".parse().expect("method");
        c.bench_function(&format!("dga {name}"), |b| {
            b.iter(|| black_box(dga.run(black_box(&d), &Context::default()).expect("fit")))
        });
    }
    for name in ["kosovo", "UKdat_5"] {
        let darkfigure::Dataset::Table(t) =
            read_file(&format!("{dir}/{name}.csv"), &ParseOptions::default())
                .expect("tests/data")
                .data
        else {
            panic!("{name} is a table");
        };
        // The package's timed job: 100,000 burn-in, 20,000 draws 50 apart (1.1 M
        // iterations a chain, K = 10); stationary scans cost more than the start's
        // transient, so shorter runs understate the time.
        let mut group = c.benchmark_group("lcmcr");
        group
            .sample_size(10)
            .measurement_time(std::time::Duration::from_secs(if name == "kosovo" {
                90
            } else {
                55
            }));
        for chains in [1, 2] {
            let o = darkfigure::methods::lcmcr::LcmcrOptions {
                burnin: 100_000,
                samples: 20_000,
                thinning: 50,
                chains,
                seed: 1,
                ..Default::default()
            };
            group.bench_function(format!("{name} 1.1M iterations x {chains} chains"), |b| {
                b.iter(|| black_box(darkfigure::methods::lcmcr::sample(black_box(&t), o)))
            });
        }
        group.finish();
    }
    for id in ["stepwise", "main"] {
        let m: Method = id.parse().expect("method");
        let ctx = Context {
            interval: IntervalKind::WaldLog,
            bootstrap: Some(BootOptions {
                replicates: 1000,
                seed: 1234,
                kind: BootKind::Nonparametric,
            }),
            ..Context::default()
        };
        c.bench_function(&format!("{id} + 1000 BCa UKdat_5"), |b| {
            b.iter(|| black_box(m.run(black_box(&d), &ctx).expect("fit")))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(8));
    targets = bootstrap
}
criterion_main!(benches);
