//! A simulation study's summary as a terminal table: per procedure and target, the share of
//! datasets with an estimate, bias and RMSE relative to N, RMSE on the log scale, coverage
//! of the 80/90/95% intervals with its binomial standard error, and the median width of
//! the 95% interval relative to N. Called by the binary after `study::run` or `merge`.

use crate::inference::interval::level_percent;
use crate::study::SimulationDoc;

fn pct(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{:.1}", 100.0 * v))
}

/// The study's table, with the time per dataset when the run measured it.
pub fn render(doc: &SimulationDoc) -> String {
    let mut out = String::new();
    if let Some(n) = &doc.study.name {
        out.push_str(&format!("{n}\n"));
    }
    let reps = doc.replicates.len();
    out.push_str(&format!(
        "{reps} datasets (seed {}{}); true N: {}\n\n",
        doc.study.seed.unwrap_or_default(),
        doc.shard.map_or(String::new(), |s| format!(
            ", shard {}/{}",
            s.index, s.count
        )),
        doc.truth
            .iter()
            .map(|t| format!(
                "{} {} ({:.1}% seen on average)",
                t.target,
                t.population,
                100.0 * t.seen_share
            ))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut header = vec![
        "procedure".to_string(),
        "target".into(),
        "estimated %".into(),
        "bias %".into(),
        "RMSE %".into(),
        "RMSE log".into(),
    ];
    for l in &doc.levels {
        header.push(format!("cover {}% ± se", level_percent(*l)));
    }
    header.push("width 95% (×N)".into());
    let timed = !doc.seconds.is_empty();
    if timed {
        header.push("s/dataset".into());
    }
    let mut rows = vec![header];
    for s in &doc.summary {
        let mut row = vec![
            s.procedure.clone(),
            s.target.clone(),
            pct(Some(s.with_estimate as f64 / s.replicates.max(1) as f64)),
            pct(s.relative_bias),
            pct(s.relative_rmse),
            s.rmse_log.map_or("—".into(), |v| format!("{v:.3}")),
        ];
        for c in &s.coverage {
            row.push(match (c.rate, c.std_error) {
                (Some(r), Some(se)) => format!("{:.1} ± {:.1}", 100.0 * r, 100.0 * se),
                _ => "—".into(),
            });
        }
        row.push(
            s.coverage
                .last()
                .and_then(|c| c.median_relative_width)
                .map_or("—".into(), |w| format!("{w:.3}")),
        );
        if timed {
            let t = doc
                .seconds
                .iter()
                .find(|x| x.0 == s.procedure)
                .map_or(0.0, |x| x.1);
            row.push(format!("{t:.3}"));
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for (i, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, v)| {
                let pad = widths[c] - v.chars().count();
                if c < 2 {
                    format!("{v}{}", " ".repeat(pad))
                } else {
                    format!("{}{v}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push('\n');
        }
    }
    let without: Vec<String> = doc
        .summary
        .iter()
        .filter(|s| !s.without_estimate.is_empty())
        .map(|s| {
            format!(
                "  {} ({}): {}",
                s.procedure,
                s.target,
                s.without_estimate
                    .iter()
                    .map(|(k, v)| format!("{v} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    out.push_str("\nCoverage is among the datasets that gave an interval (the JSON also gives it over all datasets); ± is its binomial standard error. Widths are the median (upper − lower) / N.\n");
    if !without.is_empty() {
        out.push_str("Datasets without an estimate:\n");
        out.push_str(&without.join("\n"));
        out.push('\n');
    }
    out
}
