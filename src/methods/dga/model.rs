//! What a graph's weight is built from: the prior on N, the Dirichlet-multinomial term of
//! each list subset's marginal table, and the parts every graph shares. Read by the ladder
//! (`ladder.rs`), which weighs the graphs, and by the estimator (`mod.rs`), which builds them.

use statrs::function::gamma::ln_gamma;

/// The prior on N.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NPrior {
    /// p(N) ∝ 1/N (dga's default).
    Inverse,
    /// Negative binomial with size a and parameter b (dga's test suite's form).
    NegBinomial {
        /// a.
        a: f64,
        /// b.
        b: f64,
    },
}

/// Per list subset s: the Dirichlet-multinomial term of its marginal table, as a function of
/// the missing count M, is `constant + log Γ(a + M)`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Term {
    pub(super) constant: f64,
    pub(super) a: f64,
}

/// What every graph's weight is built from: the terms of the list subsets and the parts
/// shared by every graph.
pub(super) struct Model {
    pub(super) terms: Vec<Term>,
    /// Observed count n.
    pub(super) n: f64,
    /// Σα = δ·2^k, the prior counts of the whole table.
    pub(super) sum_alpha: f64,
    /// Σ log(y_h!) over the observed cells (multinomial coefficient).
    pub(super) log_ny: f64,
    pub(super) prior: NPrior,
}

/// Log prior of N.
pub(super) fn log_prior(prior: NPrior, nn: f64) -> f64 {
    match prior {
        NPrior::Inverse => -nn.ln(),
        NPrior::NegBinomial { a, b } => {
            nn * b.ln() - (nn + a) * (1.0 + b).ln() + ln_gamma(nn + a)
                - ln_gamma(nn + 1.0)
                - ln_gamma(a)
        }
    }
}
