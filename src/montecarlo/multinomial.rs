//! Multinomial variates for samplers that split people over categories with new weights at
//! every draw: the bootstrap's resampling of histories, and LCMCR's Gibbs scans, which split
//! each observed history and the unobserved over the latent classes. Exact in law: chains of
//! conditional binomials (`variates::binomial`) over the heavy categories, then the people
//! left placed by counting 32-bit uniforms below the cumulative shares of the rest — each
//! category's probability exact to 2⁻³², the resolution of R's own uniforms.
//!
//! `multinomial_ordered` counts at most `BY_COUNTING` people with the caller's generator.
//! `multinomial_bulk` (LCMCR) counts up to `BULK_BELOW` people with `Lanes`, four
//! xoshiro256++ generators stepped together, eight people at a time: with AVX2 one register
//! per state word and two instructions per boundary for eight people; without it the same
//! integers in scalar code, so the counts, and the chains, are identical on every machine.

use crate::montecarlo::variates::binomial;
use rand::Rng;

/// Below this many people left, the rest are placed by counting uniforms (see
/// `place_by_counting`), cheaper than a binomial per remaining category: at 48 rather than
/// 24 the counting also replaces the middle inversions of LCMCR's kosovo multinomials (a
/// scan 9% faster in an in-process A/B; UKdat_5 unchanged; 64 no better).
const BY_COUNTING: usize = 48;
// uniforms come in pairs from 64-bit words: an even size keeps the last pair in the buffer
const _: () = assert!(BY_COUNTING.is_multiple_of(2));

/// Multinomial draw into `out`, by conditional binomials over the categories in `order`
/// until few people are left, who are then placed among the remaining categories by
/// counting uniforms; putting the heavy categories first ends both phases sooner.
pub fn multinomial_ordered<R: Rng + ?Sized>(
    rng: &mut R,
    n: u64,
    w: &[f64],
    order: &[usize],
    out: &mut [u64],
) {
    out.iter_mut().for_each(|x| *x = 0);
    let mut remaining = n;
    let mut rest: f64 = w.iter().sum();
    for (pos, &i) in order.iter().enumerate() {
        if remaining == 0 {
            break;
        }
        if pos + 1 == order.len() || rest <= w[i] {
            out[i] = remaining;
            break;
        }
        if remaining <= BY_COUNTING as u64 {
            let tail = &order[pos..];
            place_by_counting(
                rng,
                remaining as usize,
                tail.len(),
                |t| w[tail[t]],
                |t, x| out[tail[t]] = x,
            );
            break;
        }
        let p = (w[i] / rest).clamp(0.0, 1.0);
        let x = binomial(rng, remaining, p);
        out[i] = x;
        remaining -= x;
        rest -= w[i];
    }
}

/// Places `m` ≤ `BY_COUNTING` people independently among `len` categories, each with
/// probability ∝ its `weight`, and `put`s their counts: person i goes to the first
/// category whose cumulative weight share exceeds uᵢ, so the people in the first t
/// categories are the uᵢ below the t-th cumulative share. Counting them per boundary runs without a data-dependent branch and
/// vectorises, where placing people one at a time costs a scan and a store each. The uᵢ
/// are 32-bit (two from each 64-bit word) and the shares are rounded down to multiples of
/// 2⁻³², so each category's probability is exact to 2⁻³² — the resolution of R's own
/// uniforms — and the comparisons are four integers wide. Cumulative weights are summed
/// afresh (the caller's running rest carries the rounding of its subtractions); what
/// rounding leaves above the last boundary goes to the last category. Returns how many
/// categories were `put` (the first ones): the rest got nobody.
fn place_by_counting<R: Rng + ?Sized>(
    rng: &mut R,
    m: usize,
    len: usize,
    weight: impl Fn(usize) -> f64,
    mut put: impl FnMut(usize, u64),
) -> usize {
    let total: f64 = (0..len).map(&weight).sum();
    let mut buf = [0u32; BY_COUNTING];
    for pair in buf[..(m + 1) & !1].chunks_exact_mut(2) {
        let r = rng.next_u64();
        pair[0] = (r >> 32) as u32;
        pair[1] = r as u32;
    }
    let u = &buf[..m];
    let last = len - 1;
    let scale = 4_294_967_296.0 / total;
    let mut acc = 0.0;
    let mut placed = 0u32;
    for c in 0..last {
        acc += weight(c);
        // a share of 1 (rounding) cannot be a u32: the top value then goes on to `last`
        let share = (acc * scale).min(4_294_967_295.0) as u32;
        let below: u32 = u.iter().map(|&x| u32::from(x < share)).sum();
        put(c, u64::from(below - placed));
        placed = below;
        if placed as usize == m {
            return c + 1;
        }
    }
    put(last, u64::from(m as u32 - placed));
    len
}

/// Above this many people left, `multinomial_bulk` draws the next class's binomial rather
/// than counting everyone. Measured on LCMCR scans (in-process A/B against the binomial
/// chains with `BY_COUNTING` tails): counting below 512 made a kosovo scan ≈ 14% faster;
/// 1,024 and 2,048 gained less, counting everything was 1.33× slower.
const BULK_BELOW: u64 = 512;

/// At or below this many people left, `multinomial_bulk` places them with the caller's
/// generator (`place_by_counting`): a bulk count has a fixed cost (eight people a step,
/// a horizontal sum per boundary) that tiny tails do not repay (UKdat_5: 16 beat 32 and 48).
const SMALL: u64 = 16;

/// A class that takes at least this share of the people left is drawn by its binomial
/// first: counting hundreds of people over the boundaries costs more than one binomial
/// that leaves a handful (UKdat_5's histories, most of whose people are in one class).
const DOMINANT: f64 = 0.9;

/// Boundaries counted in one pass (registers of accumulators); later classes, and people
/// beyond the last boundary, go to a further pass.
pub const MAX_BOUNDARIES: usize = 8;

/// Multinomial draw into `out` for LCMCR's scans (`total` = Σ `w`, summed in order: the
/// caller sums all its histories' weights in one pass, whose chains overlap), the
/// categories taken in the order of `w` (the caller puts the heavy ones first, so the
/// chain runs out of people sooner; `out[i]` is category i's count): conditional binomials while more than `BULK_BELOW` people are
/// left or one category takes nearly all of them, then everyone left counted in bulk
/// (`count_tail`), or placed one by one when at most `SMALL` are left. Categories in
/// order and contiguous, not reached through an index, make the fixed cost of a draw —
/// sixteen of them a kosovo scan — a run of plain loads.
pub fn multinomial_bulk<R: Rng + ?Sized>(
    rng: &mut R,
    lanes: &mut Lanes,
    n: u64,
    w: &[f64],
    total: f64,
    out: &mut [u64],
) {
    let k = w.len();
    let mut remaining = n;
    let mut rest = total;
    let mut pos = 0;
    while pos < k {
        if remaining == 0 {
            break;
        }
        if pos + 1 == k || rest <= w[pos] {
            out[pos] = remaining;
            pos += 1;
            break;
        }
        if remaining <= SMALL {
            place_sorted(rng, remaining as usize, &w[pos..], &mut out[pos..]);
            return;
        }
        let p = (w[pos] / rest).clamp(0.0, 1.0);
        if remaining <= BULK_BELOW && p < DOMINANT {
            // remaining ≤ 512 fits a u32
            // after binomials, the sum afresh: `rest` carries its subtractions' rounding
            let tail = &w[pos..];
            let sum = if pos == 0 { total } else { tail.iter().sum() };
            count_tail(rng, lanes, remaining as u32, tail, sum, &mut out[pos..]);
            return;
        }
        let x = binomial(rng, remaining, p);
        out[pos] = x;
        remaining -= x;
        rest -= w[pos];
        pos += 1;
    }
    for x in &mut out[pos..] {
        *x = 0;
    }
}

/// `place_by_counting` over contiguous categories: `out` is written in full.
fn place_sorted<R: Rng + ?Sized>(rng: &mut R, m: usize, w: &[f64], out: &mut [u64]) {
    let put = place_by_counting(rng, m, w.len(), |i| w[i], |i, x| out[i] = x);
    for x in &mut out[put..] {
        *x = 0;
    }
}

/// Places `m` people among the categories of `w` (at least two, summing to `total`; `out`
/// written in full) by counting bulk uniforms below cumulative shares. The boundaries
/// stop after `MAX_BOUNDARIES`, or once the categories after them hold less than 1/(32m)
/// of the weight (so that fewer than one person in 32 passes the last boundary); whoever
/// does is placed among those categories by a further pass, which is exact: a person
/// beyond the boundary is in each later category with probability ∝ its weight.
fn count_tail<R: Rng + ?Sized>(
    rng: &mut R,
    lanes: &mut Lanes,
    m: u32,
    w: &[f64],
    total: f64,
    out: &mut [u64],
) {
    let scale = 4_294_967_296.0 / total;
    let limit = total / (32.0 * f64::from(m));
    let mut shares = [0u32; MAX_BOUNDARIES];
    let mut acc = 0.0;
    let mut b = 0;
    let most = (w.len() - 1).min(MAX_BOUNDARIES);
    while b < most {
        acc += w[b];
        // a share of 1 (rounding) cannot be a u32: the top value then goes on beyond
        shares[b] = (acc * scale).min(4_294_967_295.0) as u32;
        b += 1;
        if total - acc < limit {
            break;
        }
    }
    let mut below = [0u32; MAX_BOUNDARIES];
    lanes.count_below(m as usize, &shares[..b], &mut below[..b]);
    let mut placed = 0;
    for (o, &x) in out.iter_mut().zip(&below[..b]) {
        *o = u64::from(x - placed);
        placed = x;
    }
    let beyond = m - placed;
    let (later, out_later) = (&w[b..], &mut out[b..]);
    if beyond == 0 {
        for x in out_later {
            *x = 0;
        }
        return;
    }
    let later_weight: f64 = later.iter().sum();
    if later.len() == 1 || later_weight.is_nan() || later_weight <= 0.0 {
        // the last category; or (rounding of a share of 1) categories of no weight, when
        // the people beyond belong to the last category that has some
        for x in out_later.iter_mut() {
            *x = 0;
        }
        if later.len() == 1 {
            out_later[0] = u64::from(beyond);
        } else {
            out[b - 1] += u64::from(beyond);
        }
    } else if u64::from(beyond) <= SMALL {
        place_sorted(rng, beyond as usize, later, out_later);
    } else {
        count_tail(rng, lanes, beyond, later, later_weight, out_later);
    }
}

/// Four xoshiro256++ generators (Blackman & Vigna 2021) side by side, stepped together:
/// each step gives four 64-bit words, i.e. eight 32-bit uniforms. `s[word][lane]`.
#[derive(Debug, Clone)]
pub struct Lanes {
    s: [[u64; 4]; 4],
    avx2: bool,
}

impl Lanes {
    /// Four generators seeded from `rng` (e.g. the chain's own ChaCha8 stream).
    pub fn from_rng<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut s = [[0u64; 4]; 4];
        for word in s.iter_mut() {
            for x in word.iter_mut() {
                *x = rng.next_u64();
            }
        }
        // the all-zero state is xoshiro's fixed point (probability 2⁻²⁵⁶)
        let zero: [bool; 4] = std::array::from_fn(|lane| s.iter().all(|word| word[lane] == 0));
        for (lane, _) in zero.iter().enumerate().filter(|z| *z.1) {
            s[0][lane] = 0x9E37_79B9_7F4A_7C15;
        }
        Lanes {
            s,
            avx2: crate::cpu::has_avx2(),
        }
    }

    /// Draws `m` uniforms on 0..2³² and writes in `below[b]` how many are `< shares[b]`
    /// (at most `MAX_BOUNDARIES` shares). Person 2i of a step is lane i's low half, person
    /// 2i + 1 its high half; the last step's people past `m` are drawn and not counted.
    pub fn count_below(&mut self, m: usize, shares: &[u32], below: &mut [u32]) {
        assert!(shares.len() <= MAX_BOUNDARIES && below.len() == shares.len());
        below.iter_mut().for_each(|x| *x = 0);
        if m == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when the CPU reports AVX2, all these functions need.
            unsafe {
                match shares.len() {
                    0 => count_avx2::<0>(&mut self.s, m, shares, below),
                    1 => count_avx2::<1>(&mut self.s, m, shares, below),
                    2 => count_avx2::<2>(&mut self.s, m, shares, below),
                    3 => count_avx2::<3>(&mut self.s, m, shares, below),
                    4 => count_avx2::<4>(&mut self.s, m, shares, below),
                    5 => count_avx2::<5>(&mut self.s, m, shares, below),
                    6 => count_avx2::<6>(&mut self.s, m, shares, below),
                    7 => count_avx2::<7>(&mut self.s, m, shares, below),
                    _ => count_avx2::<8>(&mut self.s, m, shares, below),
                }
            }
            return;
        }
        // elsewhere the flag is never set
        #[cfg(not(target_arch = "x86_64"))]
        let _ = self.avx2;
        count_scalar(&mut self.s, m, shares, below);
    }
}

/// One step of the four generators: their outputs, and the state advanced.
#[inline(always)]
fn step(s: &mut [[u64; 4]; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for i in 0..4 {
        let (s0, s1, s2, s3) = (s[0][i], s[1][i], s[2][i], s[3][i]);
        out[i] = s0.wrapping_add(s3).rotate_left(23).wrapping_add(s0);
        let t = s1 << 17;
        let s2 = s2 ^ s0;
        let s3 = s3 ^ s1;
        s[1][i] = s1 ^ s2;
        s[0][i] = s0 ^ s3;
        s[2][i] = s2 ^ t;
        s[3][i] = s3.rotate_left(45);
    }
    out
}

/// `count_below` in portable code: the reference the AVX2 copy must equal.
fn count_scalar(s: &mut [[u64; 4]; 4], m: usize, shares: &[u32], below: &mut [u32]) {
    let mut left = m;
    while left > 0 {
        let words = step(s);
        let people = left.min(8);
        for person in 0..people {
            let u = (words[person / 2] >> (32 * (person % 2))) as u32;
            for (x, &share) in below.iter_mut().zip(shares) {
                *x += u32::from(u < share);
            }
        }
        left -= people;
    }
}

/// `count_below` with AVX2: the four generators' state words in four registers, eight
/// 32-bit uniforms a step, one accumulator register per boundary. AVX2 compares signed
/// integers: uniforms and shares are both offset by 2³¹ (a flip of the top bit), which
/// keeps their order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn count_avx2<const B: usize>(s: &mut [[u64; 4]; 4], m: usize, shares: &[u32], below: &mut [u32]) {
    use std::arch::x86_64::*;
    // SAFETY (loads and stores): each `[u64; 4]` / `[u32; 8]` is 32 bytes, the width of an
    // unaligned 256-bit load or store.
    let load = |w: &[u64; 4]| unsafe { _mm256_loadu_si256(w.as_ptr().cast()) };
    let (mut s0, mut s1, mut s2, mut s3) = (load(&s[0]), load(&s[1]), load(&s[2]), load(&s[3]));
    let flip = _mm256_set1_epi32(i32::MIN);
    let sh: [__m256i; B] =
        std::array::from_fn(|b| _mm256_set1_epi32((shares[b] ^ 0x8000_0000) as i32));
    let mut acc = [_mm256_setzero_si256(); B];
    let steps = m.div_ceil(8);
    // people of the last step past m: lanes ≥ m − 8(steps − 1), set to the top value, which
    // is below no share
    let last = (m - 8 * (steps - 1)) as i32;
    let past = _mm256_cmpgt_epi32(
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        _mm256_set1_epi32(last - 1),
    );
    let top = _mm256_set1_epi32(i32::MAX);
    for st in 0..steps {
        let r = _mm256_add_epi64(s0, s3);
        let r = _mm256_or_si256(_mm256_slli_epi64::<23>(r), _mm256_srli_epi64::<41>(r));
        let mut u = _mm256_xor_si256(_mm256_add_epi64(r, s0), flip);
        let t = _mm256_slli_epi64::<17>(s1);
        s2 = _mm256_xor_si256(s2, s0);
        s3 = _mm256_xor_si256(s3, s1);
        s1 = _mm256_xor_si256(s1, s2);
        s0 = _mm256_xor_si256(s0, s3);
        s2 = _mm256_xor_si256(s2, t);
        s3 = _mm256_or_si256(_mm256_slli_epi64::<45>(s3), _mm256_srli_epi64::<19>(s3));
        if st + 1 == steps {
            u = _mm256_blendv_epi8(u, top, past);
        }
        for (a, &x) in acc.iter_mut().zip(&sh) {
            // share > u gives all ones (−1): subtracting counts it
            *a = _mm256_sub_epi32(*a, _mm256_cmpgt_epi32(x, u));
        }
    }
    let store =
        |w: &mut [u64; 4], v: __m256i| unsafe { _mm256_storeu_si256(w.as_mut_ptr().cast(), v) };
    store(&mut s[0], s0);
    store(&mut s[1], s1);
    store(&mut s[2], s2);
    store(&mut s[3], s3);
    // every accumulator's eight lanes summed at once: three rounds of pairwise horizontal
    // adds leave boundary b's two half-sums in 128-bit lanes b % 4 of register b / 4
    let z = _mm256_setzero_si256();
    let a = |b: usize| if b < B { acc[b] } else { z };
    let h01 = _mm256_hadd_epi32(a(0), a(1));
    let h23 = _mm256_hadd_epi32(a(2), a(3));
    let h45 = _mm256_hadd_epi32(a(4), a(5));
    let h67 = _mm256_hadd_epi32(a(6), a(7));
    let lo = _mm256_hadd_epi32(h01, h23);
    let hi = _mm256_hadd_epi32(h45, h67);
    let fold =
        |v: __m256i| _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let mut sums = [0u32; 8];
    // SAFETY: `sums` is 32 bytes, two unaligned 128-bit stores
    unsafe {
        _mm_storeu_si128(sums.as_mut_ptr().cast(), fold(lo));
        _mm_storeu_si128(sums.as_mut_ptr().add(4).cast(), fold(hi));
    }
    below.copy_from_slice(&sums[..B]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    /// The exact multinomial pmf of every outcome of 3 people over 4 categories (all placed
    /// by counting), by Pearson's statistic; and for 60 people (binomials, then counting)
    /// every category's mean and variance and one covariance, each within 5 Monte Carlo
    /// standard errors. A tail that misplaced people by one boundary, or skipped the last
    /// category, fails both.
    #[test]
    fn ordered_multinomial_follows_the_multinomial_law() {
        let w = [2.0, 0.0, 0.5, 1.5, 1.0];
        let order = [3, 0, 1, 4, 2];
        let total: f64 = w.iter().sum();
        let p: Vec<f64> = w.iter().map(|x| x / total).collect();
        let draws = 200_000;
        let mut rng = crate::montecarlo::stream(5, 1);
        let mut out = [0u64; 5];
        let mut hist = std::collections::HashMap::<[u64; 5], f64>::new();
        for _ in 0..draws {
            multinomial_ordered(&mut rng, 3, &w, &order, &mut out);
            *hist.entry(out).or_default() += 1.0;
        }
        let fact = |k: u64| (1..=k).product::<u64>() as f64;
        let mut chi2 = 0.0;
        let mut outcomes = 0;
        for (x, &obs) in &hist {
            assert_eq!(x.iter().sum::<u64>(), 3);
            assert_eq!(x[1], 0, "a person in a category of weight 0");
            let pmf = 6.0 / x.iter().map(|&c| fact(c)).product::<f64>()
                * x.iter()
                    .zip(&p)
                    .map(|(&c, &q)| q.powi(c as i32))
                    .product::<f64>();
            let e = pmf * draws as f64;
            chi2 += (obs - e).powi(2) / e;
            outcomes += 1;
        }
        // 20 outcomes of 3 people over the 4 categories of positive weight, all likely enough
        // to appear; chi-square(19) 1 − 1e-6 quantile ≈ 61.1
        assert_eq!(outcomes, 20);
        assert!(chi2 < 61.1, "chi2 {chi2}");

        let n = 60u64;
        let (mut s, mut ss, mut cross) = ([0.0; 5], [0.0; 5], 0.0);
        for _ in 0..draws {
            multinomial_ordered(&mut rng, n, &w, &order, &mut out);
            assert_eq!(out.iter().sum::<u64>(), n);
            for c in 0..5 {
                s[c] += out[c] as f64;
                ss[c] += (out[c] as f64).powi(2);
            }
            cross += out[4] as f64 * out[2] as f64;
        }
        let d = draws as f64;
        let nf = n as f64;
        for c in 0..5 {
            let mean = s[c] / d;
            let var = ss[c] / d - mean * mean;
            let (m, v) = (nf * p[c], nf * p[c] * (1.0 - p[c]));
            if v == 0.0 {
                assert_eq!(s[c], 0.0);
                continue;
            }
            assert!(
                (mean - m).abs() < 5.0 * (v / d).sqrt(),
                "mean {mean} vs {m}"
            );
            // the sample variance's standard error √((μ₄ − v²)/d), μ₄ − v² ≈ 2v² + v
            let se = ((2.0 * v * v + v) / d).sqrt();
            assert!((var - v).abs() < 5.0 * se, "var {var} vs {v}");
        }
        let cov = cross / d - (s[4] / d) * (s[2] / d);
        let exact = -nf * p[4] * p[2];
        // standard error of a sample covariance √((v₄v₂ + cov²)/d) for near-normal counts
        let (v4, v2) = (nf * p[4] * (1.0 - p[4]), nf * p[2] * (1.0 - p[2]));
        let se = ((v4 * v2 + exact * exact) / d).sqrt();
        assert!((cov - exact).abs() < 5.0 * se, "cov {cov} vs {exact}");
    }

    /// Every category's mean and variance and every pair's covariance of `draws` draws of
    /// `n` people over weights `w`, each within 5 Monte Carlo standard errors of the
    /// multinomial's; every draw sums to n and puts nobody in a category of weight 0.
    fn check_moments(n: u64, w: &[f64], draws: usize, mut draw: impl FnMut(&mut [u64])) {
        let k = w.len();
        let total: f64 = w.iter().sum();
        let p: Vec<f64> = w.iter().map(|x| x / total).collect();
        let (mut s, mut ss) = (vec![0.0; k], vec![0.0; k * k]);
        let mut out = vec![0u64; k];
        for _ in 0..draws {
            draw(&mut out);
            assert_eq!(out.iter().sum::<u64>(), n);
            for c in 0..k {
                assert!(
                    w[c] > 0.0 || out[c] == 0,
                    "a person in a category of weight 0"
                );
                s[c] += out[c] as f64;
                for e in 0..k {
                    ss[c * k + e] += out[c] as f64 * out[e] as f64;
                }
            }
        }
        let (d, nf) = (draws as f64, n as f64);
        for c in 0..k {
            let v = nf * p[c] * (1.0 - p[c]);
            let mean = s[c] / d;
            assert!(
                (mean - nf * p[c]).abs() <= 5.0 * (v / d).sqrt(),
                "category {c}: mean {mean} vs {}",
                nf * p[c]
            );
            for e in c..k {
                let cov = ss[c * k + e] / d - mean * s[e] / d;
                let (exact, se) = if e == c {
                    // the sample variance's standard error √((μ₄ − v²)/d), μ₄ − v² ≈ 2v² + v
                    (v, ((2.0 * v * v + v) / d).sqrt())
                } else {
                    let ve = nf * p[e] * (1.0 - p[e]);
                    let exact = -nf * p[c] * p[e];
                    // a sample covariance of near-normal counts: √((v_c v_e + cov²)/d)
                    (exact, ((v * ve + exact * exact) / d).sqrt())
                };
                assert!(
                    (cov - exact).abs() <= 5.0 * se + 1e-12,
                    "categories {c}, {e}: covariance {cov} vs {exact}"
                );
            }
        }
    }

    fn lcmcr_generators(seed: u64) -> (Xoshiro256PlusPlus, Lanes) {
        let mut key = crate::montecarlo::stream(seed, 0);
        let rng = Xoshiro256PlusPlus::from_rng(&mut key);
        (rng, Lanes::from_rng(&mut key))
    }

    /// `multinomial_bulk` with the categories taken in `order`, as LCMCR calls it (weights
    /// gathered in that order, counts scattered back).
    fn bulk_in_order(
        rng: &mut Xoshiro256PlusPlus,
        lanes: &mut Lanes,
        n: u64,
        w: &[f64],
        order: &[usize],
        out: &mut [u64],
    ) {
        let sorted: Vec<f64> = order.iter().map(|&c| w[c]).collect();
        let mut counts = vec![u64::MAX; w.len()];
        let total = sorted.iter().sum();
        multinomial_bulk(rng, lanes, n, &sorted, total, &mut counts);
        for (&c, &x) in order.iter().zip(&counts) {
            out[c] = x;
        }
    }

    /// The bulk multinomial through each of its paths: people placed one by one (n ≤ 16),
    /// counted in one pass (60 over 5 classes), binomials then counting (2,000 people),
    /// a dominant class drawn first (its share ≥ 0.9), more classes than one pass counts
    /// (12 of equal weight), and a tail of tiny weights cut off by the 1/(32m) rule and
    /// placed by a further pass. A boundary off by one class, a pass that lost or double
    /// counted the people beyond it, or a skipped last class, fails the moments.
    #[test]
    fn bulk_multinomial_follows_the_multinomial_law() {
        let (mut rng, mut lanes) = lcmcr_generators(11);
        let cases: Vec<(u64, Vec<f64>)> = vec![
            (9, vec![2.0, 0.0, 0.5, 1.5, 1.0]),
            (60, vec![2.0, 0.0, 0.5, 1.5, 1.0]),
            (2000, vec![3.0, 1.0, 0.5, 2.0, 1.0]),
            (300, vec![95.0, 1.0, 2.0, 2.0]),
            (400, vec![1.0; 12]),
            (
                450,
                vec![5.0, 3.0, 1.0, 0.5, 2e-3, 1e-3, 5e-4, 1e-4, 1e-5, 0.0],
            ),
        ];
        for (n, w) in &cases {
            // heaviest first, as LCMCR orders the classes, and once in reverse
            let mut order: Vec<usize> = (0..w.len()).collect();
            order.sort_by(|&a, &b| w[b].total_cmp(&w[a]));
            check_moments(*n, w, 40_000, |out| {
                bulk_in_order(&mut rng, &mut lanes, *n, w, &order, out)
            });
            order.reverse();
            check_moments(*n, w, 20_000, |out| {
                bulk_in_order(&mut rng, &mut lanes, *n, w, &order, out)
            });
        }
    }

    /// The exact pmf of every outcome of 17 people (just above the one-by-one placing) over
    /// three classes, counted in bulk: Pearson's statistic over the outcomes expected at
    /// least 5 times (the rest pooled) below its chi-square 1 − 1e-6 quantile.
    #[test]
    fn bulk_counting_follows_the_multinomial_pmf() {
        use statrs::distribution::{ChiSquared, ContinuousCDF};
        let (mut rng, mut lanes) = lcmcr_generators(12);
        let w = [1.0, 2.0, 0.0, 0.7];
        let order = [1, 0, 3, 2];
        let n = 17u64;
        let p: Vec<f64> = w.iter().map(|x| x / 3.7).collect();
        let draws = 400_000;
        let mut hist = std::collections::HashMap::<[u64; 4], f64>::new();
        let mut out = [0u64; 4];
        for _ in 0..draws {
            bulk_in_order(&mut rng, &mut lanes, n, &w, &order, &mut out);
            assert_eq!(out[2], 0);
            *hist.entry(out).or_default() += 1.0;
        }
        let ln_fact = |k: u64| (1..=k).map(|i| (i as f64).ln()).sum::<f64>();
        let (mut chi2, mut cells) = (0.0, 0);
        let (mut pooled_obs, mut pooled_exp) = (0.0, 0.0);
        for a in 0..=n {
            for b in 0..=n - a {
                let x = [a, b, 0, n - a - b];
                let ln_pmf = ln_fact(n)
                    + (0..4)
                        .filter(|&c| x[c] > 0)
                        .map(|c| x[c] as f64 * p[c].ln() - ln_fact(x[c]))
                        .sum::<f64>();
                let e = ln_pmf.exp() * draws as f64;
                let obs = hist.get(&x).copied().unwrap_or(0.0);
                if e >= 5.0 {
                    chi2 += (obs - e).powi(2) / e;
                    cells += 1;
                } else {
                    pooled_obs += obs;
                    pooled_exp += e;
                }
            }
        }
        chi2 += (pooled_obs - pooled_exp).powi(2) / pooled_exp;
        let limit = ChiSquared::new(cells as f64)
            .expect("df > 0")
            .inverse_cdf(1.0 - 1e-6);
        assert!(
            chi2 < limit,
            "chi2 {chi2} over {} cells, limit {limit}",
            cells + 1
        );
    }

    /// The four lanes are xoshiro256++ itself: each lane's words, step by step, are those of
    /// rand's generator seeded with the lane's state.
    #[test]
    fn lanes_are_four_xoshiro256plusplus_generators() {
        let (_, lanes) = lcmcr_generators(13);
        let mut s = lanes.s;
        let mut reference: Vec<Xoshiro256PlusPlus> = (0..4)
            .map(|lane| {
                let mut seed = [0u8; 32];
                for word in 0..4 {
                    seed[8 * word..8 * word + 8].copy_from_slice(&s[word][lane].to_le_bytes());
                }
                Xoshiro256PlusPlus::from_seed(seed)
            })
            .collect();
        for _ in 0..100 {
            let words = step(&mut s);
            for (lane, r) in reference.iter_mut().enumerate() {
                assert_eq!(words[lane], r.next_u64());
            }
        }
    }

    /// The AVX2 copy of the counting gives the scalar code's counts and leaves the same
    /// state, for every number of boundaries and for m across whole and partial steps
    /// (shares at 0 and at the top value included): chains do not depend on the machine.
    #[test]
    fn avx2_and_scalar_counting_agree() {
        let (mut rng, lanes) = lcmcr_generators(14);
        if !lanes.avx2 {
            return; // nothing to compare on this CPU; the scalar code is the reference
        }
        for b in 0..=MAX_BOUNDARIES {
            for m in [1usize, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 300, 511] {
                let mut shares: Vec<u32> = (0..b).map(|_| rng.next_u64() as u32).collect();
                shares.sort_unstable();
                if b > 1 {
                    shares[0] = 0;
                    shares[b - 1] = u32::MAX;
                }
                let (mut fast, mut slow) = (lanes.clone(), lanes.clone());
                slow.avx2 = false;
                let (mut x, mut y) = (vec![0u32; b], vec![0u32; b]);
                fast.count_below(m, &shares, &mut x);
                slow.count_below(m, &shares, &mut y);
                assert_eq!(x, y, "m {m}, {b} boundaries");
                assert_eq!(fast.s, slow.s);
                assert!(x.iter().all(|&c| c as usize <= m));
            }
        }
    }
}
