//! Binomial variates for samplers whose every draw has a new (n, p): the Gibbs scans of
//! LCMCR and the multinomial resampling of the bootstrap split people over classes or cells
//! by chains of conditional binomials. rand_distr's `Binomial` is built for many draws from
//! one (n, p) and spends most of a single draw on its set-up; here the set-up is a handful of
//! operations. Exact algorithms only: inversion of the CDF by the pmf recursion when
//! n·min(p, 1 − p) < 20, else Hörmann's transformed rejection with squeeze, BTRD (Hörmann
//! 1993, "The generation of binomial random variates", J. Statist. Comput. Simul. 46).
//! Gamma variates for the conjugate Beta updates of the same scans: Marsaglia & Tsang
//! (2000, "A simple method for generating gamma variables", ACM TOMS 26(3)), without the
//! per-draw set-up and checks of a distribution object.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

/// Below this mean the CDF is inverted; above, BTRD (whose hat needs n·p ≥ 10). Between
/// 10 and 20 BTRD's box accepts only 40–55% of draws and the search from 0 is cheaper
/// (measured here: 45–60 ns against 68–76 ns a draw).
const INVERSION_BELOW: f64 = 20.0;

/// 1/x for small x: the inversion recursion then needs no division.
const RECIPROCALS: [f64; 64] = {
    let mut t = [0.0; 64];
    let mut i = 1;
    while i < 64 {
        t[i] = 1.0 / i as f64;
        i += 1;
    }
    t
};

/// A Binomial(n, p) draw; p outside [0, 1] is clamped, NaN gives 0.
pub fn binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    // the smaller of p and 1 − p keeps the inversion short and BTRD's constants valid; the
    // flip by a mask, not a branch (which side of ½ p falls is as random as the draws)
    let flip = p > 0.5;
    let p = p.min(1.0 - p);
    let x = if n as f64 * p < INVERSION_BELOW {
        inversion(rng, n, p)
    } else {
        btrd(rng, n, p)
    };
    // n − x when flipped: !x + n + 1 in two's complement
    let mask = u64::from(flip).wrapping_neg();
    (x ^ mask).wrapping_add(n & mask).wrapping_add(mask & 1)
}

/// Sequential search from 0: P(0) = (1 − p)^n, P(x)/P(x − 1) = (n + 1)s/x − s with
/// s = p/(1 − p). A uniform so close to 1 that rounding leaves it above the summed pmf is
/// redrawn (probability ~1e-16), which keeps the draw inside 0..=n.
fn inversion<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    let s = p / (1.0 - p);
    let a = (n as f64 + 1.0) * s;
    let mut u = rng.random::<f64>();
    // (1 − p)^n ≥ 1 − np (Bernoulli's inequality): below that, the draw is 0 without
    // computing P(0) — most draws when n·p is small
    if u < 1.0 - n as f64 * p {
        return 0;
    }
    let f0 = p0(n, p);
    // the usual stretch, x ≤ min(n, 63), with no bound test and reciprocals from the table
    let fast = n.min(63);
    loop {
        let mut f = f0;
        let mut x = 0u64;
        while x < fast {
            if u < f {
                return x;
            }
            u -= f;
            x += 1;
            f *= a * RECIPROCALS[x as usize] - s;
        }
        loop {
            if u < f {
                return x;
            }
            u -= f;
            x += 1;
            if x > n || f == 0.0 {
                break;
            }
            f *= a * (1.0 / x as f64) - s;
        }
        u = rng.random::<f64>();
    }
}

/// P(0) = (1 − p)^n of Binomial(n, p). Below n = 1024 by repeated squaring over all ten
/// bits of n, each factor picked from a pair by the bit: no branch on n's bits, which are
/// random from draw to draw (1.6% of a kosovo scan, measured in-process against the
/// branching loop). P(0) is on the critical path of a multinomial's binomial chain, where a
/// log and an exp cost more than the latency of the products. Squaring carries the
/// rounding of 1 − p and of each product up to n-fold: ≤ ~1e-13 relative at n = 1023 (an
/// error in the draw's law far below anything Monte Carlo can see); above, exp(n ln(1 − p)).
fn p0(n: u64, p: f64) -> f64 {
    if n < 1024 {
        let (mut base, mut pow, mut e) = (1.0 - p, 1.0, n);
        for _ in 0..10 {
            let pair = [1.0, base];
            pow *= pair[(e & 1) as usize];
            base *= base;
            e >>= 1;
        }
        pow
    } else {
        (n as f64 * (-p).ln_1p()).exp()
    }
}

/// Stirling's series remainder: ln k! − [(k + ½) ln(k + 1) − (k + 1) + ½ ln 2π].
fn stirling_tail(k: f64) -> f64 {
    const SMALL: [f64; 10] = [
        0.081_061_466_795_327_26,
        0.041_340_695_955_409_29,
        0.027_677_925_684_998_34,
        0.020_790_672_103_765_09,
        0.016_644_691_189_821_19,
        0.013_876_128_823_070_75,
        0.011_896_709_945_891_77,
        0.010_411_265_261_972_09,
        0.009_255_462_182_712_733,
        0.008_330_563_433_362_87,
    ];
    if k < 10.0 {
        return SMALL[k as usize];
    }
    let r = 1.0 / (k + 1.0);
    let r2 = r * r;
    (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - r2 / 1680.0) * r2) * r2) * r
}

/// ln[P(k)/P(m)] of Binomial(n, p) with r = p/(1 − p), through Stirling's series (BTRD's
/// final test).
fn log_pmf_ratio(n: f64, m: f64, k: f64, r: f64) -> f64 {
    let nm = n - m + 1.0;
    let h = (m + 0.5) * ((m + 1.0) / (r * nm)).ln() + stirling_tail(m) + stirling_tail(n - m);
    let nk = n - k + 1.0;
    h + (n + 1.0) * (nm / nk).ln() + (k + 0.5) * (nk * r / (k + 1.0)).ln()
        - stirling_tail(k)
        - stirling_tail(n - k)
}

/// BTRD for p ≤ ½ and n·p ≥ 10: a transformed-rejection hat around the mode m, a box
/// under the pmf that accepts ≈ 86% of draws at once, the pmf ratio by recursion near
/// the mode, and a squeeze before the exact Stirling test far from it.
fn btrd<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    let nf = n as f64;
    let q = 1.0 - p;
    // truncation is floor here and below: the arguments are non-negative (negative
    // candidates are rejected before the cast); `floor` itself is a libm call on baseline x86-64
    // (through i64: a single instruction, where u64 conversions branch on baseline x86-64)
    let m = ((nf + 1.0) * p) as i64 as f64;
    let r = p / q;
    let nr = (nf + 1.0) * r;
    let npq = nf * p * q;
    let sq = npq.sqrt();
    let b = 1.15 + 2.53 * sq;
    let inv_b = 1.0 / b;
    let a = -0.0873 + 0.0248 * b + 0.01 * p;
    let c = nf * p + 0.5;
    let alpha = (2.83 + 5.1 * inv_b) * sq;
    let vr = 0.92 - 4.2 * inv_b;
    // v_r·b: the box test v ≤ 0.86 v_r as v·b ≤ 0.86 v_r·b waits for no division
    let dvr = 0.92 * b - 4.2;
    let inv_vr = b / dvr;
    loop {
        let mut v = rng.random::<f64>();
        if v * b <= 0.86 * dvr {
            // u = v/v_r − 0.43 = N/D and ½ − |u| = S/D with D = v_r·b, so that
            // (2a/(½ − |u|) + b)·u + c = N(2aD + bS)/(SD) + c: one division
            let num = v * b - 0.43 * dvr;
            let s = 0.5 * dvr - num.abs();
            return ((num * (2.0 * a * dvr + b * s) / (s * dvr) + c) as i64).max(0) as u64;
        }
        let u = if v >= vr {
            rng.random::<f64>() - 0.5
        } else {
            let w = v * inv_vr - 0.93;
            v = rng.random::<f64>() * vr;
            0.5f64.copysign(w) - w
        };
        let us = 0.5 - u.abs();
        let inv_us = 1.0 / us;
        let x = (2.0 * a * inv_us + b) * u + c;
        if x < 0.0 {
            continue;
        }
        let kf = x as i64 as f64;
        if kf > nf {
            continue;
        }
        v *= alpha / (a * inv_us * inv_us + b);
        let km = (kf - m).abs();
        if km <= 15.0 {
            // P(k)/P(m) by the ratio recursion, whichever side of the mode k lies; each
            // ratio (nr − r·i)/i with numerators and denominators multiplied apart and one
            // division at the end (15 factors of at most n·r and n stay far inside f64's
            // range for any count this program meets)
            let (mut num, mut den) = (1.0, 1.0);
            let (from, to) = if m < kf { (m, kf) } else { (kf, m) };
            let mut i = from;
            while i < to {
                i += 1.0;
                num *= nr - r * i;
                den *= i;
            }
            let accept = if m < kf {
                v * den <= num
            } else {
                v * num <= den
            };
            if accept {
                return kf as i64 as u64;
            }
            continue;
        }
        let lv = v.ln();
        let rho = (km / npq) * (((km / 3.0 + 0.625) * km + 1.0 / 6.0) / npq + 0.5);
        let t = -km * km / (2.0 * npq);
        if lv < t - rho {
            return kf as i64 as u64;
        }
        if lv > t + rho {
            continue;
        }
        if lv <= log_pmf_ratio(nf, m, kf, r) {
            return kf as i64 as u64;
        }
    }
}

/// A Gamma(shape, 1) draw for shape ≥ 1 from d = shape − 1/3 and c = 1/√(9d): x normal,
/// v = (1 + cx)³, accept dv when ln u < x²/2 + d(1 − v + ln v).
///
/// The squeeze is sharper than Marsaglia & Tsang's 1 − 0.0331x⁴, which sends ~10% of
/// draws to the two logarithms whatever the shape. With y = cx the log acceptance ratio is
/// 3d·R(y), R(y) = ln(1 + y) − y + y²/2 − y³/3 = −∫₀^y t³/(1 + t) dt ≥ −y⁴/(4 min(1, 1 + y)),
/// and ln u ≤ u − 1; so u < 1 − x⁴c²/(12 min(1, 1 + cx)) accepts — a subset of the exact
/// region, so the draws are those of the exact test. The logs are then needed in ~3%/d of
/// draws (at d ≥ 100 one in 3,000); a gamma draw took 14% less time (in isolation).
pub fn gamma_mt<R: Rng + ?Sized>(rng: &mut R, d: f64, c: f64) -> f64 {
    // 3d·c⁴/4 = c²/12 since c² = 1/(9d)
    let q = c * c * (1.0 / 12.0);
    loop {
        let x: f64 = rng.sample(StandardNormal);
        let t = 1.0 + c * x;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        // e = 1 − u (exact, as is 1 − e = u); the squeeze u < 1 − L as e·min(1, t) > x⁴·q,
        // with no division
        let e = 1.0 - rng.random::<f64>();
        let x2 = x * x;
        if e * t.min(1.0) > x2 * x2 * q || (1.0 - e).ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

/// A Gamma(shape, 1) draw for any shape > 0: Marsaglia–Tsang at shape ≥ 1, below it
/// G(shape + 1)·U^(1/shape) (Stuart 1962), which has the Gamma(shape) law.
pub fn gamma<R: Rng + ?Sized>(rng: &mut R, shape: f64) -> f64 {
    if shape >= 1.0 {
        let d = shape - 1.0 / 3.0;
        gamma_mt(rng, d, 1.0 / (9.0 * d).sqrt())
    } else {
        let d = shape + 2.0 / 3.0;
        let g = gamma_mt(rng, d, 1.0 / (9.0 * d).sqrt());
        g * (1.0 - rng.random::<f64>()).powf(1.0 / shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::montecarlo::stream;
    use statrs::function::gamma::ln_gamma;

    fn ln_fact(k: f64) -> f64 {
        ln_gamma(k + 1.0)
    }

    fn ln_pmf(n: u64, p: f64, k: u64) -> f64 {
        let (n, k) = (n as f64, k as f64);
        ln_fact(n) - ln_fact(k) - ln_fact(n - k) + k * p.ln() + (n - k) * (1.0 - p).ln()
    }

    fn pmf(n: u64, p: f64, k: u64) -> f64 {
        ln_pmf(n, p, k).exp()
    }

    #[test]
    fn stirling_remainders_and_pmf_ratios_are_exact() {
        for k in 0..40 {
            let kf = k as f64;
            let exact = ln_fact(kf)
                - ((kf + 0.5) * (kf + 1.0).ln() - (kf + 1.0)
                    + 0.5 * (2.0 * std::f64::consts::PI).ln());
            assert!((stirling_tail(kf) - exact).abs() < 1e-12, "k = {k}");
        }
        for &(n, p) in &[(40u64, 0.3), (1000, 0.02), (5000, 0.45), (100_000, 0.001)] {
            let nf = n as f64;
            let r = p / (1.0 - p);
            let m = ((nf + 1.0) * p).floor();
            for k in [0.0, 1.0, m - 17.0, m + 16.0, m + 60.0, nf - 1.0, nf] {
                if !(0.0..=nf).contains(&k) {
                    continue;
                }
                let exact = ln_pmf(n, p, k as u64) - ln_pmf(n, p, m as u64);
                let got = log_pmf_ratio(nf, m, k, r);
                assert!(
                    (got - exact).abs() < 1e-9 * exact.abs().max(1.0),
                    "n {n} p {p} k {k}"
                );
            }
        }
    }

    /// Pearson's statistic against the exact pmf, cells with expected count below 5 pooled
    /// into their neighbours; compared with the chi-square 1 − 1e-6 quantile (fixed seeds, so
    /// a pass is reproducible, and a wrong branch of either algorithm shifts mass far beyond it).
    #[test]
    fn draws_follow_the_binomial_pmf_in_every_branch() {
        let draws = 400_000usize;
        let cases: [(u64, f64); 13] = [
            (1, 0.3),
            (7, 0.5),
            (30, 0.2),
            (1000, 0.0004),
            (1000, 0.009),
            (99, 0.2),  // n·p = 19.8: inversion's upper end
            (101, 0.2), // n·p = 20.2: BTRD's lower end
            (51, 0.2),  // n·p = 10.2: BTRD's hat would hold, inversion draws
            (200, 0.25),
            (1000, 0.3),
            (30, 0.75), // flipped
            (100_000, 0.4),
            (2_000_000, 0.00002), // n·p = 40
        ];
        for (case, &(n, p)) in cases.iter().enumerate() {
            let mut rng = stream(17, case as u64);
            let mut hist = std::collections::BTreeMap::<u64, f64>::new();
            let mut sum = 0.0;
            for _ in 0..draws {
                let x = binomial(&mut rng, n, p);
                assert!(x <= n);
                sum += x as f64;
                *hist.entry(x).or_default() += 1.0;
            }
            let mean = sum / draws as f64;
            let sd = (n as f64 * p * (1.0 - p) / draws as f64).sqrt();
            assert!(
                (mean - n as f64 * p).abs() < 5.0 * sd,
                "mean {mean} for n {n} p {p}"
            );
            // pooled Pearson statistic over the support around the bulk
            let nf = n as f64;
            let lo = (nf * p - 12.0 * (nf * p * (1.0 - p)).sqrt())
                .floor()
                .max(0.0) as u64;
            let hi = ((nf * p + 12.0 * (nf * p * (1.0 - p)).sqrt()).ceil() as u64).min(n);
            let (mut chi2, mut cells) = (0.0, 0usize);
            let (mut e_acc, mut o_acc) = (0.0, 0.0);
            let mut e_total = 0.0;
            for k in lo..=hi {
                let e = pmf(n, p, k) * draws as f64;
                e_total += e;
                e_acc += e;
                o_acc += hist.get(&k).copied().unwrap_or(0.0);
                if e_acc >= 5.0 {
                    chi2 += (o_acc - e_acc).powi(2) / e_acc;
                    cells += 1;
                    e_acc = 0.0;
                    o_acc = 0.0;
                }
            }
            let outside: f64 = hist
                .iter()
                .filter(|(k, _)| **k < lo || **k > hi)
                .map(|(_, c)| c)
                .sum();
            assert!(
                outside < 3.0,
                "{outside} draws far in the tails for n {n} p {p}"
            );
            assert!((e_total - draws as f64).abs() < 1e-3 * draws as f64);
            let df = (cells.max(2) - 1) as f64;
            // Wilson–Hilferty 1 − 1e-6 quantile (z = 4.753)
            let z = 4.753;
            let crit = df * (1.0 - 2.0 / (9.0 * df) + z * (2.0 / (9.0 * df)).sqrt()).powi(3);
            assert!(
                chi2 < crit,
                "chi2 {chi2:.1} > {crit:.1} ({cells} cells) for n {n} p {p}"
            );
        }
    }

    /// The squeeze of `gamma_mt` lies inside the exact acceptance region: wherever it
    /// accepts (u below 1 − x⁴c²/(12 min(1, t))), the exact test would, i.e. that bound is at
    /// most exp(x²/2 + d(1 − v + ln v)) — over the whole support of x, for shapes from the
    /// boosted minimum (d = 2/3) up. Marsaglia & Tsang's own squeeze passes the same check; a
    /// constant ten per cent smaller than c²/12 does not.
    #[test]
    fn the_gamma_squeeze_is_inside_the_acceptance_region() {
        let holds = |q_of: &dyn Fn(f64) -> f64| {
            for &d in &[2.0f64 / 3.0, 0.7, 1.0, 2.5, 17.0, 300.0, 1e5] {
                let c = 1.0 / (9.0 * d).sqrt();
                let q = q_of(c);
                for i in 1..20_000 {
                    // x from just above −1/c (t → 0) to 12
                    let x = -1.0 / c + (12.0 + 1.0 / c) * i as f64 / 20_000.0;
                    let t = 1.0 + c * x;
                    let v = t * t * t;
                    let exact = (0.5 * x * x + d * (1.0 - v + v.ln())).exp();
                    let squeeze = 1.0 - x.powi(4) * q / t.min(1.0);
                    if squeeze > exact * (1.0 + 1e-12) + 1e-15 {
                        return false;
                    }
                }
            }
            true
        };
        assert!(holds(&|c| c * c / 12.0));
        assert!(holds(&|_| 0.0331));
        assert!(!holds(&|c| 0.9 * c * c / 12.0));
    }

    /// Kolmogorov–Smirnov distance of 100,000 draws from the exact CDF for shapes from 1
    /// (where the squeeze is loosest) to 10⁴, against the 1 − 1e-6 critical value
    /// √(ln(2/1e-6)/2)/√n ≈ 0.0121; a wrong squeeze constant or acceptance test shifts
    /// the distribution far beyond it.
    #[test]
    fn marsaglia_tsang_draws_follow_the_gamma_law() {
        use statrs::distribution::{ContinuousCDF, Gamma};
        let n = 100_000;
        // KS distance of 100,000 draws of Gamma(a, 1) from its CDF
        let ks = |a: f64, draw: &mut dyn FnMut() -> f64| {
            let mut x: Vec<f64> = (0..n).map(|_| draw()).collect();
            x.sort_by(f64::total_cmp);
            let law = Gamma::new(a, 1.0).expect("shape");
            x.iter()
                .enumerate()
                .map(|(j, &v)| {
                    let f = law.cdf(v);
                    (f - j as f64 / n as f64).max((j + 1) as f64 / n as f64 - f)
                })
                .fold(0.0, f64::max)
        };
        for (i, &a) in [1.0f64, 1.5, 3.0, 31.0, 10_000.0].iter().enumerate() {
            let mut rng = stream(23, i as u64);
            let (d, c) = (a - 1.0 / 3.0, 1.0 / (9.0 * a - 3.0).sqrt());
            let dist = ks(a, &mut || gamma_mt(&mut rng, d, c));
            assert!(dist < 0.0121, "KS {dist} for shape {a}");
        }
        // the shape < 1 boost and the dispatch
        for (i, &a) in [0.3, 0.7, 2.5].iter().enumerate() {
            let mut rng = stream(29, i as u64);
            let dist = ks(a, &mut || gamma(&mut rng, a));
            assert!(dist < 0.0121, "KS {dist} for shape {a}");
        }
    }

    /// P(0) = (1 − p)^n against exp(n ln(1 − p)) (ln_1p exact to an ulp) for n on both
    /// sides of the switch to squaring and p whose 1 − p rounds: within n ulps (2.3e-13 at
    /// n = 1023), the bound the squaring's rounding obeys.
    #[test]
    fn inversion_start_is_accurate() {
        for &n in &[1u64, 7, 63, 64, 1000, 1023, 1024, 4095] {
            for &p in &[1e-5, 3.3e-4, 0.0123456789, 0.1, 0.3] {
                if n as f64 * p >= INVERSION_BELOW {
                    continue;
                }
                let got = p0(n, p);
                let exact = (n as f64 * (-p).ln_1p()).exp();
                assert!(
                    ((got - exact) / exact).abs() < (n as f64).max(4.0) * f64::EPSILON,
                    "n {n} p {p}: {got} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn edges_give_the_certain_value() {
        let mut rng = stream(3, 0);
        assert_eq!(binomial(&mut rng, 0, 0.5), 0);
        assert_eq!(binomial(&mut rng, 10, 0.0), 0);
        assert_eq!(binomial(&mut rng, 10, 1.0), 10);
        assert_eq!(binomial(&mut rng, 10, f64::NAN), 0);
        assert_eq!(binomial(&mut rng, 10, 1.5), 10);
        assert_eq!(binomial(&mut rng, 10, -0.5), 0);
    }
}
