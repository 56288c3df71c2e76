//! Number formatting shared by every rendering of a result: the terminal tables, the
//! report model (HTML and Markdown) and the axes of the SVG pictures. It sits below all the
//! other report modules and uses none of them, so they never import formatters from each
//! other.

/// Thousands separated with commas, rounded to the nearest 100 above 10,000.
pub fn people(x: f64) -> String {
    let r = if x >= 10_000.0 {
        (x / 100.0).round() * 100.0
    } else {
        x.round()
    };
    let s = format!("{r:.0}");
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count of identified people, shown as "<thr" below `thr` (small-cell suppression).
pub fn count(n: u64, thr: u64) -> String {
    if n < thr {
        format!("<{thr}")
    } else {
        people(n as f64)
    }
}

/// A level as a percentage without floating-point noise (0.57 → "57", 0.975 → "97.5").
pub fn percent(level: f64) -> String {
    let s = format!("{:.6}", level * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A multiplier (total / identified) or one of its limits, to two decimals.
pub fn multiplier(x: f64) -> String {
    format!("{x:.2}")
}
