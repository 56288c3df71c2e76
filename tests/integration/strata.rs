//! Strata and their total, on simulated records with known N per stratum: the total's draws
//! are exactly the per-replicate sums of the strata's draws; the total's interval covers the
//! true total in a seeded coverage study; a stratum without an estimate makes the total
//! incomplete instead of disappearing.

use darkfigure::checked::{Level, Replicates};
use darkfigure::data::parse::{Format, ParseOptions, parse_bytes};
use darkfigure::job::{DataSpec, Job, run_with_data};
use darkfigure::montecarlo::simulate::{StratumSpec, simulate_records};

fn lists() -> Vec<String> {
    vec!["A".into(), "B".into(), "C".into()]
}

fn job(bootstrap: Option<usize>, seed: u64) -> Job {
    Job {
        schema: darkfigure::job::JOB_SCHEMA.into(),
        name: None,
        description: None,
        data: DataSpec::Inline {
            lists: lists(),
            rows: Vec::new(),
            source: None,
        },
        seed: Some(seed),
        level: Level::try_from(0.9).expect("level"),
        interval: darkfigure::methods::IntervalKind::WaldLog,
        methods: vec!["main".parse().expect("method")],
        bootstrap: bootstrap.map(|b| Replicates::try_from(b as u64).expect("replicates")),
        bootstrap_kind: Default::default(),
        strata: Some("stratum".into()),
        aggregate: None,
        calibrate: None,
        report: None,
    }
}

/// The total's interval is inside the strata's first method's interval ends added up, as
/// it must be for independent strata.
fn narrower_than_the_ends_added_up(
    doc: &darkfigure::job::ResultDoc,
    iv: &darkfigure::methods::Interval,
) {
    let ends = |f: fn(&darkfigure::methods::Interval) -> Option<f64>| -> f64 {
        doc.strata
            .iter()
            .map(|s| f(s.estimates[0].interval.as_ref().expect("interval")).expect("end"))
            .sum()
    };
    assert!(iv.lower.expect("lower") > ends(|i| i.lower));
    assert!(iv.upper.expect("upper") < ends(|i| i.upper));
}

/// Simulated records, stratified by `stratum`.
fn parse(csv: &str) -> darkfigure::data::parse::Parsed {
    let opts = ParseOptions {
        format: Format::Records,
        lists: Some(lists()),
        stratify_by: Some("stratum".into()),
        ..ParseOptions::default()
    };
    parse_bytes("sim.csv", csv.as_bytes(), &opts).expect("simulated records parse")
}

fn run(csv: &str, bootstrap: Option<usize>, seed: u64) -> darkfigure::job::ResultDoc {
    run_with_data(job(bootstrap, seed), parse(csv)).expect("job runs")
}

fn population(children: u64, adults: u64) -> Vec<StratumSpec> {
    vec![
        StratumSpec {
            name: "adult".into(),
            size: adults,
            probs: vec![0.35, 0.3, 0.25],
        },
        StratumSpec {
            name: "child".into(),
            size: children,
            probs: vec![0.3, 0.25, 0.2],
        },
    ]
}

#[test]
fn total_draws_are_sums_of_strata_draws() {
    let csv = simulate_records(11, &lists(), &population(600, 1500));
    let doc = run(&csv, Some(300), 5);
    assert_eq!(doc.strata.len(), 2);
    let total = &doc.totals[0];
    assert_eq!(total.status, "ok");
    let point: f64 = doc
        .strata
        .iter()
        .map(|s| s.estimates[0].population.unwrap())
        .sum();
    assert_eq!(total.population, Some(point));
    assert_eq!(total.values.len(), 300);
    for r in 0..300 {
        let sum: Option<f64> = doc
            .strata
            .iter()
            .map(|s| s.estimates[0].bootstrap.as_ref().unwrap().values[r])
            .sum();
        assert_eq!(total.values[r], sum, "replicate {r}");
    }
    // the strata drew independent streams
    let a = &doc.strata[0].estimates[0]
        .bootstrap
        .as_ref()
        .unwrap()
        .values;
    let b = &doc.strata[1].estimates[0]
        .bootstrap
        .as_ref()
        .unwrap()
        .values;
    assert_ne!(
        a[..10]
            .iter()
            .map(|v| v.map(|x| x.to_bits()))
            .collect::<Vec<_>>(),
        b[..10]
            .iter()
            .map(|v| v.map(|x| x.to_bits()))
            .collect::<Vec<_>>()
    );
}

/// 40 simulated populations (600 children, 1,500 adults; independent lists, so the
/// main-effects model is right). The 90% interval of the total should cover 2,100 in about
/// 36 of 40; covering in 30 or fewer has probability 0.2% under Binomial(40, 0.9).
#[test]
fn total_interval_covers_in_a_seeded_study() {
    let mut covered = 0;
    for sim in 0..40 {
        let csv = simulate_records(1000 + sim, &lists(), &population(600, 1500));
        let doc = run(&csv, Some(200), sim);
        let iv = doc.totals[0]
            .interval
            .as_ref()
            .expect("interval of the total");
        if iv.lower.unwrap() <= 2100.0 && 2100.0 <= iv.upper.unwrap() {
            covered += 1;
        }
    }
    eprintln!(
        "the 90% interval of the total covered the true 2,100 in {covered} of 40 simulations"
    );
    assert!(
        covered > 30,
        "the 90% interval of the total covered 2,100 in only {covered} of 40 simulations"
    );
}

#[test]
fn a_stratum_without_estimate_makes_the_total_incomplete() {
    let mut csv = simulate_records(3, &lists(), &population(600, 1500));
    csv.push_str("1,0,0,tiny\n");
    let doc = run(&csv, Some(50), 1);
    let tiny = doc
        .strata
        .iter()
        .find(|s| s.stratum == "tiny")
        .expect("the tiny stratum is shown");
    assert_ne!(tiny.estimates[0].status, darkfigure::Status::Ok);
    assert!(tiny.estimates[0].population.is_none());
    let total = &doc.totals[0];
    assert_eq!(total.status, "incomplete");
    assert_eq!(total.population, None);
    assert_eq!(total.strata_without_estimate, vec!["tiny".to_string()]);
}

#[test]
fn posterior_draws_of_strata_add_up_draw_by_draw() {
    let csv = simulate_records(12, &lists(), &population(500, 1200));
    let parsed = parse(&csv);
    let mut j = job(None, 8);
    // A posterior method computes no profile or Wald interval: the job may not ask for one.
    j.interval = Default::default();
    j.methods = vec![
        r#"{"id": "bayes-threshold", "samples": 3000}"#
            .parse()
            .expect("method"),
    ];
    let doc = run_with_data(j, parsed).expect("job runs");
    let total = &doc.totals[0];
    assert_eq!(total.status, "ok");
    let strata: Vec<&darkfigure::methods::Draws> = doc
        .strata
        .iter()
        .map(|s| s.estimates[0].draws.as_ref().expect("posterior draws"))
        .collect();
    assert!(strata.iter().all(|d| d.values.len() == 12_000));
    for (i, v) in total.values.iter().enumerate() {
        let sum: f64 = strata.iter().map(|d| d.values[i]).sum();
        assert_eq!(*v, Some(sum), "draw {i}");
    }
    let iv = total.interval.as_ref().expect("interval of the total");
    assert_eq!(iv.kind.as_str(), "posterior-quantiles-of-sum");
    // Independent strata: the total's interval is narrower than the ends added up, and the
    // point estimate is the median of the summed draws.
    narrower_than_the_ends_added_up(&doc, iv);
    let mut sorted: Vec<f64> = total.values.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(
        total.population,
        Some(darkfigure::inference::mcmc::quantile7(&sorted, 0.5))
    );
}

/// dga's posteriors are exact, so the total's is their exact convolution: its mean and
/// variance are the strata's added up (to the 1e-13 tails trimmed), its interval is
/// narrower than the ends added up, and it is reported as exact (no draws).
#[test]
fn exact_posteriors_of_strata_are_convolved() {
    let csv = simulate_records(21, &lists(), &population(400, 900));
    let mut j = job(None, 5);
    j.interval = Default::default();
    j.methods = vec!["dga".parse().expect("method")];
    let doc = run_with_data(j, parse(&csv)).expect("job runs");
    let total = &doc.totals[0];
    assert_eq!(total.status, "ok");
    let iv = total.interval.as_ref().expect("interval of the total");
    assert_eq!(iv.kind.as_str(), "exact-posterior-of-sum");
    let d = total.draws.as_ref().expect("summary of the total");
    let strata: Vec<&darkfigure::methods::Draws> = doc
        .strata
        .iter()
        .map(|s| s.estimates[0].draws.as_ref().expect("posterior summary"))
        .collect();
    let mean: f64 = strata.iter().map(|s| s.mean).sum();
    let var: f64 = strata.iter().map(|s| s.sd * s.sd).sum();
    assert!((d.mean - mean).abs() < 1e-9 * mean, "{} vs {mean}", d.mean);
    assert!(
        (d.sd * d.sd - var).abs() < 1e-8 * var,
        "{} vs {var}",
        d.sd * d.sd
    );
    narrower_than_the_ends_added_up(&doc, iv);
    let median = d.quantiles.iter().find(|q| q.0 == 0.5).expect("median").1;
    assert_eq!(total.population, Some(median));
    assert!(total.values.is_empty());
    let text = darkfigure::report::terminal::render_result(&doc);
    assert!(text.contains("exact posteriors convolved"), "{text}");
    let page = darkfigure::report::html::html(&doc, 5);
    assert!(
        page.contains("Exact posterior of the total (dga)"),
        "the report pictures the total's exact posterior"
    );
}

/// A small stratum whose replicates mostly have no estimate: the total is made from the
/// replicates in which every stratum had one, says how many, and has no interval when they
/// are fewer than a 90% interval needs (200).
#[test]
fn a_total_says_how_many_replicates_it_is_made_from() {
    let mut csv = simulate_records(21, &lists(), &population(300, 600));
    csv.push_str("1,1,0,tiny\n0,1,1,tiny\n1,0,0,tiny\n1,1,1,tiny\n");
    let doc = run(&csv, Some(600), 4);
    let total = &doc.totals[0];
    let used = total.replicates_used;
    assert!((200..500).contains(&used), "{used} of 600 used");
    assert_eq!(used, total.values.iter().flatten().count());
    assert!(total.interval.is_some());
    let md = darkfigure::report::html::markdown(&doc, 5);
    let said = format!("The interval comes from the {used} of 600 replicates");
    assert!(md.contains(&said), "the headline does not say it: {md}");
    // 150 replicates leave fewer than 200 complete ones: no interval, and the reason.
    let doc = run(&csv, Some(150), 4);
    let total = &doc.totals[0];
    assert!(total.interval.is_none() && total.population.is_some());
    assert!(
        total.warnings[0].contains("a 90% interval needs at least 200"),
        "{:?}",
        total.warnings
    );
}
