//! Monte Carlo infrastructure shared by every resampling and sampling method: one master
//! seed per job, and for replicate (or chain) i its own ChaCha8 stream — the same key, stream
//! number i — so each replicate's random numbers depend only on (seed, i). Replicates run in
//! parallel with rayon and are collected in index order: results are bit-identical whatever
//! the number of threads. Progress is reported through a callback; the library never prints.

pub mod multinomial;
pub mod simulate;
pub mod variates;

use chacha20::ChaCha8Rng;
use rand::SeedableRng;
use rayon::prelude::*;

/// The seed used when a job gives none (recorded in the result).
pub const DEFAULT_SEED: u64 = 20_250_101;

/// The random stream of replicate `index` under master seed `seed`.
pub fn stream(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// Something to tell about progress (count of finished replicates).
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// A progress callback that does nothing.
pub fn no_progress(_: u64) {}

/// Runs `f(index, rng)` for index in 0..n in parallel, each with its own stream, and
/// returns the results in index order.
pub fn replicate<T: Send>(
    n: usize,
    seed: u64,
    progress: Progress,
    f: impl Fn(usize, &mut ChaCha8Rng) -> T + Sync,
) -> Vec<T> {
    (0..n)
        .into_par_iter()
        .map(|i| {
            let mut rng = stream(seed, i as u64);
            let out = f(i, &mut rng);
            progress(1);
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|i| stream(7, i).random()).collect();
        let b: Vec<u64> = (0..4).map(|i| stream(7, i).random()).collect();
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| w[0] != w[1]));
        assert_ne!(stream(8, 0).random::<u64>(), a[0]);
    }
}

/// The seed of part `index` of a job (a stratum, a study, a scenario) derived from the
/// job's master seed by one SplitMix64 step, so that parts draw independent streams and a
/// part's draws do not depend on how many other parts there are.
pub fn derive_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed.wrapping_add((index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
