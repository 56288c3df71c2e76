//! Two-list estimators for every pair of lists: Lincoln–Petersen N̂ = n₁n₂/m and
//! Chapman's N̂ = (n₁+1)(n₂+1)/(m+1) − 1 (Seber 1982; Chao 1987), with Seber's variance
//! and Chao's log-normal interval (as CARE1's `estN.pair`). Assume the two lists are
//! independent in a closed population with homogeneous capture probabilities; with more
//! lists they estimate the size of the population covered by the pair's union frame.

use super::common::finite;
use super::details::{Details, TwoListDetails};
use super::types::{Estimate, Status};
use crate::checked::Level;
use crate::data::CaptureTable;
use crate::data::describe::describe_table;
use crate::error::{Error, Result};
use crate::inference::{Construction, log_normal_interval};

/// Which two-list estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Lincoln–Petersen n₁n₂/m.
    Petersen,
    /// Chapman (n₁+1)(n₂+1)/(m+1) − 1.
    Chapman,
}

/// One estimate per pair of lists.
pub fn estimate_pairs(kind: Kind, table: &CaptureTable, level: Level) -> Result<Vec<Estimate>> {
    let id = match kind {
        Kind::Petersen => "petersen",
        Kind::Chapman => "chapman",
    };
    if table.k() < 2 {
        return Err(Error::Usage(format!(
            "method {id} needs at least 2 lists; the table has {}",
            table.k()
        )));
    }
    let d = describe_table(table);
    let mut out = Vec::with_capacity(d.pairs.len());
    let k = table.k();
    let mut idx = 0;
    for i in 0..k {
        for j in i + 1..k {
            let pair = &d.pairs[idx];
            idx += 1;
            let (n1, n2, m) = (
                d.list_sizes[i] as f64,
                d.list_sizes[j] as f64,
                pair.both as f64,
            );
            let nobs = n1 + n2 - m;
            let (pop, var) = if kind == Kind::Petersen {
                (n1 * n2 / m, n1 * n2 * (n1 - m) * (n2 - m) / (m * m * m))
            } else {
                (
                    (n1 + 1.0) * (n2 + 1.0) / (m + 1.0) - 1.0,
                    (n1 + 1.0) * (n2 + 1.0) * (n1 - m) * (n2 - m)
                        / ((m + 1.0) * (m + 1.0) * (m + 2.0)),
                )
            };
            let se = var.sqrt();
            let (a, b) = (&pair.a, &pair.b);
            let (status, warning) = if n1 == 0.0 && n2 == 0.0 {
                (
                    Status::NotIdentifiable,
                    Some(format!(
                        "lists {a} and {b} are both empty: the pair has no one to estimate from"
                    )),
                )
            } else if n1 == 0.0 || n2 == 0.0 {
                let (empty, other) = if n1 == 0.0 { (a, b) } else { (b, a) };
                (
                    Status::NotIdentifiable,
                    Some(format!(
                        "list {empty} is empty: with no one on it, the pair says nothing about how many both lists missed (the formula would return the size of list {other} with a standard error of 0)"
                    )),
                )
            } else if m == 0.0 && kind == Kind::Petersen {
                (
                    Status::Infinite,
                    Some(format!(
                        "lists {a} and {b} never overlap: the Petersen estimate is infinite"
                    )),
                )
            } else if m == 0.0 {
                (
                    Status::MleDoesNotExist,
                    Some(format!(
                        "lists {a} and {b} never overlap: nothing bounds N from above (the likelihood grows without limit); Chapman's formula would give (n₁+1)(n₂+1) − 1, a number set by its +1 corrections rather than by the data"
                    )),
                )
            } else if !pop.is_finite() {
                (Status::Infinite, None)
            } else if m == n1 || m == n2 {
                let (inner, outer) = if m == n2 { (b, a) } else { (a, b) };
                let who = if n1 == n2 {
                    format!("lists {a} and {b} hold the same people")
                } else {
                    format!("everyone on list {inner} is also on list {outer}")
                };
                (
                    Status::Ok,
                    Some(format!(
                        "{who}: the estimate is the pair's observed count with an estimated variance of 0, so no interval is given; the pair shows no one that either list missed, which is not evidence that no one was missed"
                    )),
                )
            } else {
                (Status::Ok, None)
            };
            let warnings: Vec<String> = warning.into_iter().collect();
            let ok = status == Status::Ok;
            out.push(Estimate {
                method: id.to_string(),
                label: format!("{}-{}", pair.a, pair.b),
                options: Details::TwoList(TwoListDetails {
                    interval: Construction::LogNormal,
                    level,
                    lists: [pair.a.clone(), pair.b.clone()],
                }),
                status,
                observed: nobs as u64,
                population: if ok { finite(pop) } else { None },
                missing: if ok { finite(pop - nobs) } else { None },
                std_error: if ok { finite(se) } else { None },
                interval: (ok && pop > nobs)
                    .then(|| log_normal_interval(nobs, pop, se, level.get())),
                warnings,
                ..Estimate::blank()
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three lists A, B, C (bit 0, 1, 2). A and C never overlap.
    /// n_A = 30 + 10 = 40, n_B = 20 + 10 + 4 = 34, n_C = 5 + 4 = 9;
    /// m_AB = 10, m_AC = 0, m_BC = 4.
    fn three_lists() -> CaptureTable {
        let names = ["A", "B", "C"].map(String::from).to_vec();
        CaptureTable::new(
            names,
            [
                (0b001, 30),
                (0b010, 20),
                (0b011, 10),
                (0b100, 5),
                (0b110, 4),
            ],
        )
        .unwrap()
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1.0)
    }

    // Values worked by hand from Seber's (1982) formulas for `three_lists`; the code
    // evaluates the same rational expressions in f64, so only rounding (far below 1e-12
    // relative) may separate them.
    const TOL: f64 = 1e-12;

    #[test]
    fn petersen_is_n1_n2_over_m_with_sebers_variance() {
        let est = estimate_pairs(Kind::Petersen, &three_lists(), Level::DEFAULT).unwrap();
        let ab = &est[0];
        assert_eq!(ab.status, Status::Ok);
        assert!(close(ab.population.unwrap(), 136.0, TOL), "{ab:?}");
        // n1 n2 (n1 − m)(n2 − m) / m³ = 40·34·30·24 / 10³
        assert!(close(ab.std_error.unwrap(), 979.2f64.sqrt(), TOL));
        assert_eq!(ab.observed, 64);
        assert!(close(ab.missing.unwrap(), 136.0 - 64.0, TOL));
        let bc = &est[2];
        // 34·9/4 and 34·9·30·5 / 4³
        assert!(close(bc.population.unwrap(), 76.5, TOL));
        assert!(close(
            bc.std_error.unwrap(),
            (45900.0f64 / 64.0).sqrt(),
            TOL
        ));
        assert_eq!(bc.observed, 39);
    }

    #[test]
    fn chapman_is_bias_corrected_with_sebers_variance() {
        let est = estimate_pairs(Kind::Chapman, &three_lists(), Level::DEFAULT).unwrap();
        let ab = &est[0];
        // (41·35)/11 − 1 and 41·35·30·24 / (11²·12)
        assert!(close(ab.population.unwrap(), 1424.0 / 11.0, TOL));
        assert!(close(
            ab.std_error.unwrap(),
            (1_033_200.0f64 / 1452.0).sqrt(),
            TOL
        ));
    }

    #[test]
    fn chapman_on_lists_that_never_overlap_has_no_number() {
        // Chapman's formula stays finite when the lists never meet (41·10/1 − 1 = 409), but
        // nothing in the data bounds N: the +1 corrections alone would set the number.
        let est = estimate_pairs(Kind::Chapman, &three_lists(), Level::DEFAULT).unwrap();
        let ac = &est[1];
        assert_eq!(ac.status, Status::MleDoesNotExist);
        assert_eq!((ac.population, ac.std_error), (None, None));
        assert!(ac.interval.is_none());
        assert!(
            ac.warnings[0].contains("never overlap"),
            "{:?}",
            ac.warnings
        );
        assert_eq!(ac.observed, 49);
    }

    #[test]
    fn an_empty_list_leaves_the_pair_without_an_estimate() {
        // B is empty: both formulas would give n_A (Chapman with s.e. 0, Petersen 0/0).
        let names = ["A", "B", "C"].map(String::from).to_vec();
        let t = CaptureTable::new(names, [(0b001, 12), (0b101, 3), (0b100, 7)]).unwrap();
        for kind in [Kind::Petersen, Kind::Chapman] {
            let est = estimate_pairs(kind, &t, Level::DEFAULT).unwrap();
            for (e, empty) in [(&est[0], "list B is empty"), (&est[2], "list B is empty")] {
                assert_eq!(e.status, Status::NotIdentifiable, "{e:?}");
                assert_eq!((e.population, e.std_error), (None, None));
                assert!(e.warnings[0].contains(empty), "{:?}", e.warnings);
            }
            assert_eq!(est[1].status, Status::Ok);
        }
    }

    #[test]
    fn two_empty_lists_leave_the_pair_without_an_estimate() {
        // Chapman's formula would give (0+1)(0+1)/1 − 1 = 0 people.
        let names = ["A", "B", "C"].map(String::from).to_vec();
        let t = CaptureTable::new(names, [(0b100, 9)]).unwrap();
        for kind in [Kind::Petersen, Kind::Chapman] {
            let ab = &estimate_pairs(kind, &t, Level::DEFAULT).unwrap()[0];
            assert_eq!(ab.status, Status::NotIdentifiable);
            assert_eq!((ab.population, ab.missing), (None, None));
            assert_eq!(ab.observed, 0);
            assert!(ab.warnings[0].contains("both empty"), "{:?}", ab.warnings);
        }
    }

    #[test]
    fn petersen_on_lists_that_never_overlap_is_infinite_without_a_number() {
        let est = estimate_pairs(Kind::Petersen, &three_lists(), Level::DEFAULT).unwrap();
        let ac = &est[1];
        assert_eq!(ac.status, Status::Infinite);
        assert_eq!(ac.population, None);
        assert_eq!(ac.missing, None);
        assert_eq!(ac.std_error, None);
        assert!(ac.interval.is_none());
        assert!(ac.warnings.iter().any(|w| w.contains("never overlap")));
        // the observed count of the pair is still known
        assert_eq!(ac.observed, 49);
    }

    #[test]
    fn one_estimate_per_pair_in_pair_order() {
        for kind in [Kind::Petersen, Kind::Chapman] {
            let est = estimate_pairs(kind, &three_lists(), Level::DEFAULT).unwrap();
            let labels: Vec<&str> = est.iter().map(|e| e.label.as_str()).collect();
            assert_eq!(labels, ["A-B", "A-C", "B-C"]);
            let id = if kind == Kind::Petersen {
                "petersen"
            } else {
                "chapman"
            };
            assert!(est.iter().all(|e| e.method == id));
            assert_eq!(
                serde_json::to_value(&est[2].options).unwrap()["lists"],
                serde_json::json!(["B", "C"])
            );
        }
        // k lists give k(k − 1)/2 pairs
        let names = ["A", "B", "C", "D", "E"].map(String::from).to_vec();
        let t = CaptureTable::new(names, (1..32).map(|h| (h, 3))).unwrap();
        assert_eq!(
            estimate_pairs(Kind::Chapman, &t, Level::DEFAULT)
                .unwrap()
                .len(),
            10
        );
    }

    #[test]
    fn log_normal_interval_contains_the_estimate_and_starts_above_the_pair_count() {
        let level = Level::try_from(0.9).unwrap();
        let mut seen = 0;
        for kind in [Kind::Petersen, Kind::Chapman] {
            for e in estimate_pairs(kind, &three_lists(), level).unwrap() {
                let Some(iv) = &e.interval else {
                    continue;
                };
                let (lo, hi) = (iv.lower.unwrap(), iv.upper.unwrap());
                let pop = e.population.unwrap();
                assert!(lo >= e.observed as f64 && lo < pop && pop < hi, "{e:?}");
                assert_eq!(iv.level, 0.9);
                // Chao (1987): lower = n + f0/C, upper = n + f0·C, so
                // (lower − n)(upper − n) = f0², up to the rounding of exp and ln
                // (1e-9 relative is generous).
                let (n, f0) = (e.observed as f64, pop - e.observed as f64);
                assert!(close((lo - n) * (hi - n), f0 * f0, 1e-9), "{e:?}");
                seen += 1;
            }
        }
        // Petersen and Chapman A-B and B-C (A and C never overlap)
        assert_eq!(seen, 4);
    }

    #[test]
    fn identical_lists_give_the_observed_count_and_zero_variance() {
        // Everyone seen twice: m = n1 = n2, both estimators give N̂ = n with variance 0,
        // and no interval is drawn around a dark figure of zero.
        let names = ["A", "B"].map(String::from).to_vec();
        let t = CaptureTable::new(names, [(0b11, 25)]).unwrap();
        for kind in [Kind::Petersen, Kind::Chapman] {
            let e = &estimate_pairs(kind, &t, Level::DEFAULT).unwrap()[0];
            assert_eq!(e.status, Status::Ok);
            assert!(close(e.population.unwrap(), 25.0, TOL));
            assert_eq!(e.std_error, Some(0.0));
            assert!(e.interval.is_none());
            assert!(e.warnings[0].contains("no interval"), "{:?}", e.warnings);
        }
        // One list inside the other: N̂ = n again, and the warning names which.
        let names = ["A", "B"].map(String::from).to_vec();
        let t = CaptureTable::new(names, [(0b01, 6), (0b11, 25)]).unwrap();
        let e = &estimate_pairs(Kind::Petersen, &t, Level::DEFAULT).unwrap()[0];
        assert_eq!(e.status, Status::Ok);
        assert!(close(e.population.unwrap(), 31.0, TOL));
        assert!(
            e.warnings[0].contains("everyone on list B is also on list A"),
            "{:?}",
            e.warnings
        );
    }

    #[test]
    fn one_list_is_a_usage_error() {
        let t = CaptureTable::new(vec!["A".into()], [(1, 10)]).unwrap();
        assert!(matches!(
            estimate_pairs(Kind::Petersen, &t, Level::DEFAULT),
            Err(Error::Usage(_))
        ));
    }
}
