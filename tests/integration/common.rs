//! Locating the project's copy of the data and reference files, and comparing numbers.

use std::path::PathBuf;

/// The datasets (`tests/data`, or `DARKFIGURE_DATA`). Missing data is a failure, never a
/// skip: the repository carries its own copy.
pub fn data_dir() -> PathBuf {
    locate("DARKFIGURE_DATA", "tests/data")
}

/// The R packages' reference values (`tests/reference`, or `DARKFIGURE_REFERENCE`).
pub fn reference_dir() -> PathBuf {
    locate("DARKFIGURE_REFERENCE", "tests/reference")
}

fn locate(var: &str, default: &str) -> PathBuf {
    let p = std::env::var(var)
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default));
    assert!(
        p.is_dir(),
        "{} not found: the repository ships it (or set {var} to a copy)",
        p.display()
    );
    p
}

/// Relative difference |a − b| / max(|b|, tiny).
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// Values that are zero up to rounding (the deviance of a saturated fit) are compared on
/// an absolute scale: below this, two numbers are both "zero".
pub const ZERO: f64 = 1e-9;

/// The options the reference tests give a method, as one bag (the shape of the library's
/// options before issue 16), translated into the library's typed `Method` and `Context`
/// in one place, so the comparisons read as they did.
#[derive(Debug, Clone)]
pub struct MethodOptions {
    pub level: f64,
    pub interval: darkfigure::methods::IntervalKind,
    pub model: Option<String>,
    pub pthresh: f64,
    pub maxorder: Option<usize>,
    pub ntop: usize,
    pub glm_compat: bool,
}

impl Default for MethodOptions {
    fn default() -> Self {
        MethodOptions {
            level: 0.95,
            interval: darkfigure::methods::IntervalKind::Profile,
            model: None,
            pthresh: 0.02,
            maxorder: None,
            ntop: 5,
            glm_compat: false,
        }
    }
}

/// Runs method `id` with these options through the library's typed interface.
pub fn run_method(
    id: &str,
    data: &darkfigure::Dataset,
    o: &MethodOptions,
) -> darkfigure::Result<Vec<darkfigure::Estimate>> {
    use darkfigure::methods::{Context, Method, MethodId};
    let mid = MethodId::parse(id).map_err(darkfigure::Error::Usage)?;
    let mut obj = serde_json::json!({ "id": id });
    if let Some(m) = &o.model {
        obj["model"] = m.as_str().into();
    }
    if mid.takes("pthresh") {
        obj["pthresh"] = o.pthresh.into();
    }
    if mid.takes("ntop") {
        obj["ntop"] = o.ntop.into();
    }
    if let Some(mo) = o.maxorder.filter(|_| mid.takes("maxorder")) {
        obj["maxorder"] = mo.into();
    }
    let method: Method = obj.to_string().parse()?;
    let ctx = Context {
        level: darkfigure::checked::Level::try_from(o.level).map_err(darkfigure::Error::Usage)?,
        interval: o.interval,
        glm_compat: o.glm_compat,
        ..Context::default()
    };
    method.run(data, &ctx)
}
