//! Criterion benchmark of a whole simulation study: Chan, Silverman & Vincent (2021) §3.4,
//! 500 datasets from the stepwise fit to UKdat_5, each with stepwise + 1000-replicate BCa
//! (the selection repeated in every replicate) and BIC (maxorder 2) + profile interval, on
//! all cores (target: ≤ 90 s on 2 cores; SparseMSE takes 57–135 s for one dataset's
//! stepwise + BCa, so 8–19 h for the study). `DARKFIGURE_STUDY_THREADS` pins the thread
//! count (the 1- and 2-thread times of the scaling figure).

use criterion::{Criterion, criterion_group, criterion_main};
use darkfigure::study;
use std::hint::black_box;

fn chan2021(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/studies/chan2021_s34.json"
    );
    let (s, models) = study::file::load(path).expect("models/studies/chan2021_s34.json");
    let threads = std::env::var("DARKFIGURE_STUDY_THREADS")
        .ok()
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let mut group = c.benchmark_group("study");
    group
        .sample_size(10)
        .measurement_time(std::time::Duration::from_secs(450));
    group.bench_function("chan2021 500 datasets stepwise+BCa1000 and BIC", |b| {
        b.iter(|| {
            pool.install(|| {
                black_box(study::run(&s, &models, &study::RunOptions::default()).expect("study"))
            })
        })
    });
    group.finish();
}

criterion_group!(benches, chan2021);
criterion_main!(benches);
