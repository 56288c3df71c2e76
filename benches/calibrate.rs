//! Criterion benchmark of a calibration: UKdat_5 with stepwise and a 1000-replicate BCa
//! bootstrap, 200 simulated datasets from each generator (the stepwise fit and the two
//! latent classes: 400 bootstrapped estimates), on 1 and 2 threads (target ≤ 45 s on 2
//! cores). One iteration takes tens of seconds, so ten samples, flat.

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use darkfigure::data::parse::{ParseOptions, read_file};
use darkfigure::inference::IntervalKind;
use darkfigure::inference::bootstrap::BootKind;
use darkfigure::study::calibrate::{CalibrationReplicates, procedures, run};
use std::hint::black_box;

fn calibrate(c: &mut Criterion) {
    let dir = std::env::var("DARKFIGURE_DATA")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data").to_string());
    let d = read_file(&format!("{dir}/UKdat_5.csv"), &ParseOptions::default())
        .expect("tests/data")
        .data;
    let p = procedures(
        &["stepwise".parse().expect("method")],
        IntervalKind::Profile,
        Some(darkfigure::checked::Replicates::try_from(1000).expect("replicates")),
        BootKind::Nonparametric,
    );
    let r = CalibrationReplicates::try_from(200).expect("replicates");
    let mut group = c.benchmark_group("calibrate");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(std::time::Duration::from_secs(300));
    for threads in [2, 1] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        group.bench_function(
            format!("UKdat_5 200 datasets x stepwise+1000 BCa, {threads} threads"),
            |b| {
                b.iter(|| {
                    pool.install(|| black_box(run(black_box(&d), &p, r, 1, None).expect("runs")))
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, calibrate);
criterion_main!(benches);
