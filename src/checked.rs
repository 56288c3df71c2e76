//! Option values checked once, where they enter: a job file (serde `try_from`) or the
//! command line (clap value parsers) build these types, so everything below the boundary
//! holds a value that is already valid, and both doors give the same words for a bad one.
//! The lowest layer beside `error`: it depends on nothing in the crate.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An interval level, strictly between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Level(f64);

impl Level {
    /// 95%, the default everywhere.
    pub const DEFAULT: Level = Level(0.95);

    /// The level as a probability.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl Default for Level {
    fn default() -> Self {
        Level::DEFAULT
    }
}

impl TryFrom<f64> for Level {
    type Error = String;
    fn try_from(l: f64) -> Result<Self, String> {
        if l > 0.0 && l < 1.0 {
            Ok(Level(l))
        } else {
            Err(format!(
                "expected a level strictly between 0 and 1, found {l}"
            ))
        }
    }
}

impl From<Level> for f64 {
    fn from(l: Level) -> f64 {
        l.0
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A p-value threshold in (0, 1].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct PValue(f64);

impl PValue {
    /// The threshold as a probability.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for PValue {
    type Error = String;
    fn try_from(p: f64) -> Result<Self, String> {
        if p > 0.0 && p <= 1.0 {
            Ok(PValue(p))
        } else {
            Err(format!("expected a p-value threshold in (0, 1], found {p}"))
        }
    }
}

impl From<PValue> for f64 {
    fn from(p: PValue) -> f64 {
        p.0
    }
}

/// A positive, finite real number (a prior variance, a threshold on |mean/sd|).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Positive(f64);

impl Positive {
    /// The number.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Positive {
    type Error = String;
    fn try_from(x: f64) -> Result<Self, String> {
        if x > 0.0 && x.is_finite() {
            Ok(Positive(x))
        } else {
            Err(format!("expected a positive finite number, found {x}"))
        }
    }
}

impl From<Positive> for f64 {
    fn from(x: Positive) -> f64 {
        x.0
    }
}

/// A whole number from `MIN` to `MAX`: every count a user gives (replicates, chains,
/// iterations, classes) has a checked maximum, so a typo cannot ask for 10¹⁵ of anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "u64")]
pub struct Count<const MIN: u64, const MAX: u64>(u64);

// By hand rather than `try_from = "u64"`, so that a wrong value (a fraction, a negative
// number, a string) is refused in the range's words instead of serde's "expected u64".
impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Count<MIN, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Whole<const MIN: u64, const MAX: u64>;
        impl<const MIN: u64, const MAX: u64> serde::de::Visitor<'_> for Whole<MIN, MAX> {
            type Value = Count<MIN, MAX>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a whole number from {MIN} to {MAX}")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Count::try_from(n).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::custom(format!(
                        "expected a whole number from {MIN} to {MAX}, found {n}"
                    ))),
                }
            }
        }
        d.deserialize_u64(Whole)
    }
}

impl<const MIN: u64, const MAX: u64> Count<MIN, MAX> {
    /// The count.
    pub fn get(self) -> usize {
        // MAX is far below usize::MAX on every supported target.
        self.0 as usize
    }

    /// A count known to be in range at compile time (a default).
    pub const fn of(n: u64) -> Self {
        assert!(n >= MIN && n <= MAX);
        Count(n)
    }
}

impl<const MIN: u64, const MAX: u64> TryFrom<u64> for Count<MIN, MAX> {
    type Error = String;
    fn try_from(n: u64) -> Result<Self, String> {
        if (MIN..=MAX).contains(&n) {
            Ok(Count(n))
        } else {
            Err(format!(
                "expected a whole number from {MIN} to {MAX}, found {n}"
            ))
        }
    }
}

impl<const MIN: u64, const MAX: u64> From<Count<MIN, MAX>> for u64 {
    fn from(c: Count<MIN, MAX>) -> u64 {
        c.0
    }
}

impl<const MIN: u64, const MAX: u64> fmt::Display for Count<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Bootstrap replicates (or Monte Carlo draws): at most ten million.
pub type Replicates = Count<1, 10_000_000>;
/// Parallel chains of a sampler.
pub type Chains = Count<1, 1024>;
/// Iterations of a sampler (burn-in, draws kept, thinning): at most a thousand million.
pub type Iterations = Count<0, 1_000_000_000>;
/// Latent classes of LCMCR's truncation.
pub type Classes = Count<1, 1000>;
/// An interaction order of a log-linear model (at most 63 lists).
pub type Order = Count<1, 63>;
/// How many of the best models to report.
pub type Top = Count<1, 10_000>;
/// The small-count threshold of what is rendered for reading: at least 3 (zero is shown, so
/// "<2" would name the count 1), at most 1000.
pub type Threshold = Count<3, 1000>;
/// The threshold when neither a job nor the command line gives one.
pub const DEFAULT_THRESHOLD: Threshold = Threshold::of(5);

/// Parses a command-line value into a checked type with the same words as a job file.
pub fn parse_arg<R, T>(s: &str) -> Result<T, String>
where
    R: std::str::FromStr,
    T: TryFrom<R, Error = String>,
{
    let raw = s
        .parse::<R>()
        .map_err(|_| format!("expected a number, found \"{s}\""))?;
    T::try_from(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_strictly_inside_the_unit_interval() {
        assert!(Level::try_from(0.0).is_err());
        assert!(Level::try_from(1.0).is_err());
        assert!(Level::try_from(f64::NAN).is_err());
        assert_eq!(Level::try_from(0.9).map(Level::get), Ok(0.9));
        let e = Level::try_from(1.5).unwrap_err();
        assert_eq!(e, "expected a level strictly between 0 and 1, found 1.5");
    }

    #[test]
    fn p_values_include_one_but_not_zero() {
        assert!(PValue::try_from(0.0).is_err());
        assert!(PValue::try_from(f64::NAN).is_err());
        assert!(PValue::try_from(1.0).is_ok());
    }

    #[test]
    fn counts_have_both_bounds() {
        assert!(Replicates::try_from(0).is_err());
        assert!(Replicates::try_from(10_000_001).is_err());
        assert_eq!(Replicates::try_from(7).map(Replicates::get), Ok(7));
        assert_eq!(
            Chains::try_from(u64::MAX).unwrap_err(),
            format!("expected a whole number from 1 to 1024, found {}", u64::MAX)
        );
    }

    #[test]
    fn the_command_line_and_a_job_file_say_the_same() {
        let cli = parse_arg::<f64, Level>("1.5").unwrap_err();
        let job = serde_json::from_str::<Level>("1.5")
            .unwrap_err()
            .to_string();
        assert!(job.starts_with(&cli), "{job} / {cli}");
        assert!(parse_arg::<u64, Replicates>("-3").is_err());
    }

    #[test]
    fn a_count_of_the_wrong_kind_is_refused_in_its_range_words() {
        for text in ["1.5", "-3", "\"7\"", "0", "10000001"] {
            let e = serde_json::from_str::<Replicates>(text)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("a whole number from 1 to 10000000"),
                "{text}: {e}"
            );
            assert!(!e.contains("u64"), "{text}: {e}");
        }
        assert_eq!(
            serde_json::from_str::<Replicates>("7")
                .map(Replicates::get)
                .ok(),
            Some(7)
        );
    }
}
