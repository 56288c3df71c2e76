//! Hand-written inline SVG for the HTML report: a forest plot (point and interval per row,
//! log or linear axis) and a histogram of draws. No external resources, fixed fonts.

use std::fmt::Write;

/// One row of a forest plot.
pub struct ForestRow {
    /// Label on the left.
    pub label: String,
    /// Point.
    pub point: Option<f64>,
    /// Interval.
    pub lower: Option<f64>,
    /// Interval.
    pub upper: Option<f64>,
    /// Draw as a diamond (a pooled or total row).
    pub diamond: bool,
    /// The row's figures are withheld (disclosure control): said instead of drawn.
    pub withheld: bool,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn nice_ticks(lo: f64, hi: f64, log: bool) -> Vec<f64> {
    if log {
        let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        let mut t = Vec::new();
        for e in a..=b {
            for m in [1.0, 2.0, 5.0] {
                let v = m * 10f64.powi(e);
                if v >= lo && v <= hi {
                    t.push(v);
                }
            }
        }
        if t.len() >= 3 {
            return t;
        }
        nice_ticks(lo, hi, false)
    } else {
        let span = hi - lo;
        let step0 = 10f64.powf((span / 5.0).log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * step0)
            .find(|s| span / s <= 6.0)
            .unwrap_or(step0 * 10.0);
        let mut v = (lo / step).ceil() * step;
        let mut t = Vec::new();
        while v <= hi + 1e-9 * step {
            t.push(v);
            v += step;
        }
        t
    }
}

fn tick_label(v: f64) -> String {
    if v >= 1000.0 {
        super::format::people(v)
    } else if v >= 10.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A forest plot; `log` puts the axis on a log scale.
pub fn forest(title: &str, rows: &[ForestRow], log: bool) -> String {
    let vals: Vec<f64> = rows
        .iter()
        .flat_map(|r| [r.point, r.lower, r.upper])
        .flatten()
        .filter(|v| v.is_finite() && (!log || *v > 0.0))
        .collect();
    if vals.is_empty() {
        return String::new();
    }
    let (mut lo, mut hi) = vals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if log {
        lo /= 1.15;
        hi *= 1.15;
    } else {
        let pad = 0.05 * (hi - lo).max(hi.abs() * 0.01);
        lo -= pad;
        hi += pad;
    }
    let (left, right, top, row_h) = (240.0, 30.0, 40.0, 26.0);
    let width = 760.0;
    let plot_w = width - left - right;
    let height = top + row_h * rows.len() as f64 + 40.0;
    let x = |v: f64| {
        let f = if log {
            (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
        } else {
            (v - lo) / (hi - lo)
        };
        left + f.clamp(0.0, 1.0) * plot_w
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg role="img" aria-label="{}" viewBox="0 0 {width} {height}" width="100%" font-family="sans-serif" font-size="12">"#,
        esc(title)
    );
    let _ = write!(
        s,
        r##"<text x="{left}" y="20" font-weight="bold" font-size="14">{}</text>"##,
        esc(title)
    );
    let axis_y = top + row_h * rows.len() as f64 + 6.0;
    for t in nice_ticks(lo, hi, log) {
        let xt = x(t);
        let _ = write!(
            s,
            r##"<line x1="{xt:.1}" y1="{top}" x2="{xt:.1}" y2="{axis_y}" stroke="#ddd"/><text x="{xt:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            axis_y + 16.0,
            tick_label(t)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            left - 10.0,
            y + 4.0,
            esc(&r.label)
        );
        if let (Some(a), Some(b)) = (r.lower, r.upper) {
            let _ = write!(
                s,
                r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#1f4e79" stroke-width="2"/>"##,
                x(a),
                x(b)
            );
        }
        if let Some(p) = r.point {
            if r.diamond {
                let (xa, xb) = (r.lower.map_or(x(p) - 6.0, x), r.upper.map_or(x(p) + 6.0, x));
                let _ = write!(
                    s,
                    r##"<polygon points="{xa:.1},{y:.1} {:.1},{:.1} {xb:.1},{y:.1} {:.1},{:.1}" fill="#b03a2e"/>"##,
                    x(p),
                    y - 7.0,
                    x(p),
                    y + 7.0
                );
            } else {
                let _ = write!(
                    s,
                    r##"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="#1f4e79"/>"##,
                    x(p) - 4.0,
                    y - 4.0
                );
            }
        } else {
            let _ = write!(
                s,
                r##"<text x="{left}" y="{:.1}" fill="#b03a2e">{}</text>"##,
                y + 4.0,
                if r.withheld {
                    "withheld"
                } else {
                    "no estimate"
                }
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A histogram of weighted values (draws with weight 1, or an exact posterior's support
/// with its probabilities) with the interval marked.
pub fn histogram(
    title: &str,
    points: &[(f64, f64)],
    lower: Option<f64>,
    upper: Option<f64>,
) -> String {
    let v: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, w)| x.is_finite() && *w > 0.0)
        .collect();
    if v.len() < 2 {
        return String::new();
    }
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(x, _)| {
            (a.min(x), b.max(x))
        });
    if !(hi > lo) {
        return String::new();
    }
    let bins = 40usize;
    let mut counts = vec![0.0f64; bins];
    for (x, w) in &v {
        let i = (((x - lo) / (hi - lo)) * bins as f64).floor() as usize;
        counts[i.min(bins - 1)] += w;
    }
    let cmax = counts.iter().copied().fold(0.0, f64::max);
    let (left, width, top, plot_h) = (40.0, 760.0, 40.0, 180.0);
    let plot_w = width - left - 30.0;
    let x = |val: f64| left + (val - lo) / (hi - lo) * plot_w;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg role="img" aria-label="{}" viewBox="0 0 {width} {}" width="100%" font-family="sans-serif" font-size="12">"#,
        esc(title),
        top + plot_h + 40.0
    );
    let _ = write!(
        s,
        r##"<text x="{left}" y="20" font-weight="bold" font-size="14">{}</text>"##,
        esc(title)
    );
    let bw = plot_w / bins as f64;
    for (i, c) in counts.iter().enumerate() {
        let h = plot_h * c / cmax;
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#7fa7c9"/>"##,
            left + bw * i as f64,
            top + plot_h - h,
            bw - 1.0
        );
    }
    for b in [lower, upper].into_iter().flatten() {
        let xb = x(b);
        let _ = write!(
            s,
            r##"<line x1="{xb:.1}" y1="{top}" x2="{xb:.1}" y2="{:.1}" stroke="#b03a2e" stroke-width="2" stroke-dasharray="4 3"/>"##,
            top + plot_h
        );
    }
    // ticks beyond the data would be drawn outside the plot
    for t in nice_ticks(lo, hi, false)
        .into_iter()
        .filter(|t| (lo..=hi).contains(t))
    {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            x(t),
            top + plot_h + 16.0,
            tick_label(t)
        );
    }
    s.push_str("</svg>");
    s
}
