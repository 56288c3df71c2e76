//! Second-order forward-mode dual numbers in two variables: a value with its gradient and
//! Hessian. Each zero-truncated model writes its log-density once, in terms of its two
//! linear predictors, and the fit reads the score and the observed information off it, so
//! no model carries hand-derived second derivatives that could drift from its likelihood.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// A value with its first and second derivatives with respect to (η₁, η₂).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct D2 {
    /// Value.
    pub v: f64,
    /// Gradient.
    pub g: [f64; 2],
    /// Hessian (symmetric).
    pub h: [[f64; 2]; 2],
}

impl D2 {
    /// A constant.
    pub fn cst(v: f64) -> D2 {
        D2 {
            v,
            g: [0.0; 2],
            h: [[0.0; 2]; 2],
        }
    }

    /// The variable η_i at value v.
    pub fn var(i: usize, v: f64) -> D2 {
        let mut d = D2::cst(v);
        d.g[i] = 1.0;
        d
    }

    /// f(self) given f, f′ and f″ at self's value.
    fn chain(self, f: f64, f1: f64, f2: f64) -> D2 {
        let g = [f1 * self.g[0], f1 * self.g[1]];
        let mut h = [[0.0; 2]; 2];
        for (i, row) in h.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = f2 * self.g[i] * self.g[j] + f1 * self.h[i][j];
            }
        }
        D2 { v: f, g, h }
    }

    /// e^x.
    pub fn exp(self) -> D2 {
        let e = self.v.exp();
        self.chain(e, e, e)
    }

    /// ln x.
    pub fn ln(self) -> D2 {
        let x = self.v;
        self.chain(x.ln(), 1.0 / x, -1.0 / (x * x))
    }

    /// ln(1 + x), accurate for small x.
    pub fn ln_1p(self) -> D2 {
        let x = self.v;
        let d = 1.0 + x;
        self.chain(x.ln_1p(), 1.0 / d, -1.0 / (d * d))
    }

    /// ln(1 − e^{−x}) for x > 0, accurate for small and large x (the log of the chance of
    /// being seen at least once when the unseen have chance e^{−x}).
    pub fn ln_1m_exp_neg(self) -> D2 {
        let x = self.v;
        // f = ln(1 − e^{−x}); f′ = 1/(e^x − 1); f″ = −e^x/(e^x − 1)², written with
        // q = e^{−x} for large x (where e^x overflows) and with e^x − 1 for small x.
        let f = (-(-x).exp_m1()).ln();
        let (f1, f2) = if x > 1.0 {
            let q = (-x).exp();
            (q / (1.0 - q), -q / ((1.0 - q) * (1.0 - q)))
        } else {
            let em1 = x.exp_m1();
            (1.0 / em1, -(em1 + 1.0) / (em1 * em1))
        };
        self.chain(f, f1, f2)
    }

    /// ln Γ(x + y) − ln Γ(x) for x > 0 and a whole y: the sum of ln(x + j) for small y,
    /// the gamma function's logarithm with its digamma and trigamma beyond (so that a
    /// count of 100,000 costs no more than one of 10).
    pub fn ln_rising(self, y: u64) -> D2 {
        if y <= 64 {
            let mut acc = D2::cst(0.0);
            for j in 0..y {
                acc = acc + (self + j as f64).ln();
            }
            return acc;
        }
        use statrs::function::gamma::{digamma, ln_gamma};
        let (x, yf) = (self.v, y as f64);
        self.chain(
            ln_gamma(x + yf) - ln_gamma(x),
            digamma(x + yf) - digamma(x),
            trigamma(x + yf) - trigamma(x),
        )
    }

    /// 1/x.
    pub fn recip(self) -> D2 {
        let x = self.v;
        self.chain(1.0 / x, -1.0 / (x * x), 2.0 / (x * x * x))
    }

    /// The logistic function 1/(1 + e^{−x}).
    pub fn logistic(self) -> D2 {
        let p = 1.0 / (1.0 + (-self.v).exp());
        let d1 = p * (1.0 - p);
        self.chain(p, d1, d1 * (1.0 - 2.0 * p))
    }

    /// ln(1 + e^x), accurate for large |x|.
    pub fn softplus(self) -> D2 {
        let x = self.v;
        let f = if x > 0.0 {
            x + (-x).exp().ln_1p()
        } else {
            x.exp().ln_1p()
        };
        let p = 1.0 / (1.0 + (-x).exp());
        self.chain(f, p, p * (1.0 - p))
    }
}

/// ψ′(x) for x > 0: the recurrence ψ′(x) = ψ′(x + 1) + 1/x² up to x ≥ 8, then the
/// asymptotic series 1/x + 1/(2x²) + 1/(6x³) − 1/(30x⁵) + 1/(42x⁷) − 1/(30x⁹).
fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 8.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    acc + 1.0 / x + z / 2.0 + z / x * (1.0 / 6.0 - z * (1.0 / 30.0 - z * (1.0 / 42.0 - z / 30.0)))
}

impl Add for D2 {
    type Output = D2;
    fn add(self, o: D2) -> D2 {
        let mut r = self;
        r.v += o.v;
        for i in 0..2 {
            r.g[i] += o.g[i];
            for j in 0..2 {
                r.h[i][j] += o.h[i][j];
            }
        }
        r
    }
}

impl Sub for D2 {
    type Output = D2;
    fn sub(self, o: D2) -> D2 {
        self + (-o)
    }
}

impl Neg for D2 {
    type Output = D2;
    fn neg(self) -> D2 {
        self * -1.0
    }
}

impl Mul for D2 {
    type Output = D2;
    fn mul(self, o: D2) -> D2 {
        let (a, b) = (self, o);
        let mut r = D2::cst(a.v * b.v);
        for i in 0..2 {
            r.g[i] = a.v * b.g[i] + b.v * a.g[i];
            for j in 0..2 {
                r.h[i][j] = a.v * b.h[i][j] + b.v * a.h[i][j] + a.g[i] * b.g[j] + b.g[i] * a.g[j];
            }
        }
        r
    }
}

impl Div for D2 {
    type Output = D2;
    fn div(self, o: D2) -> D2 {
        self * o.recip()
    }
}

impl Add<f64> for D2 {
    type Output = D2;
    fn add(self, c: f64) -> D2 {
        D2 {
            v: self.v + c,
            ..self
        }
    }
}

impl Sub<f64> for D2 {
    type Output = D2;
    fn sub(self, c: f64) -> D2 {
        self + -c
    }
}

impl Mul<f64> for D2 {
    type Output = D2;
    fn mul(self, c: f64) -> D2 {
        let mut r = self;
        r.v *= c;
        for i in 0..2 {
            r.g[i] *= c;
            for j in 0..2 {
                r.h[i][j] *= c;
            }
        }
        r
    }
}

impl Add<D2> for f64 {
    type Output = D2;
    fn add(self, d: D2) -> D2 {
        d + self
    }
}

impl Sub<D2> for f64 {
    type Output = D2;
    fn sub(self, d: D2) -> D2 {
        -d + self
    }
}

impl Mul<D2> for f64 {
    type Output = D2;
    fn mul(self, d: D2) -> D2 {
        d * self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rising log-factorial agrees with its sum on both sides of the switch, value and
    /// derivatives.
    #[test]
    fn ln_rising_matches_the_sum() {
        for x0 in [0.01, 0.7, 3.0, 40.0] {
            let x = D2::var(0, x0);
            let a = x.ln_rising(65);
            let mut b = D2::cst(0.0);
            for j in 0..65 {
                b = b + (x + j as f64).ln();
            }
            assert!(
                (a.v - b.v).abs() < 1e-9 * b.v.abs().max(1.0),
                "{x0}: {} {}",
                a.v,
                b.v
            );
            assert!((a.g[0] - b.g[0]).abs() < 1e-9 * b.g[0].abs().max(1.0));
            assert!((a.h[0][0] - b.h[0][0]).abs() < 1e-8 * b.h[0][0].abs().max(1.0));
        }
    }

    /// Every operation's derivatives against central differences of its value.
    #[test]
    fn derivatives_match_finite_differences() {
        let f = |a: D2, b: D2| -> D2 {
            let x = (a * b).exp().ln_1p() + (a.exp()).ln_1m_exp_neg() * b.logistic()
                - (b / (a + 3.0)).softplus()
                + (2.0 - a * a).recip() * 0.5;
            x * x
        };
        let (x0, y0) = (0.3, -0.7);
        let d = f(D2::var(0, x0), D2::var(1, y0));
        let val = |x: f64, y: f64| f(D2::cst(x), D2::cst(y)).v;
        let e = 1e-5;
        let gx = (val(x0 + e, y0) - val(x0 - e, y0)) / (2.0 * e);
        let gy = (val(x0, y0 + e) - val(x0, y0 - e)) / (2.0 * e);
        assert!((d.g[0] - gx).abs() < 1e-7 && (d.g[1] - gy).abs() < 1e-7);
        let e = 1e-4;
        let hxx = (val(x0 + e, y0) - 2.0 * val(x0, y0) + val(x0 - e, y0)) / (e * e);
        let hxy = (val(x0 + e, y0 + e) - val(x0 + e, y0 - e) - val(x0 - e, y0 + e)
            + val(x0 - e, y0 - e))
            / (4.0 * e * e);
        let hyy = (val(x0, y0 + e) - 2.0 * val(x0, y0) + val(x0, y0 - e)) / (e * e);
        assert!((d.h[0][0] - hxx).abs() < 1e-5, "{} {hxx}", d.h[0][0]);
        assert!((d.h[0][1] - hxy).abs() < 1e-5 && (d.h[1][0] - hxy).abs() < 1e-5);
        assert!((d.h[1][1] - hyy).abs() < 1e-5);
    }
}
