//! Generating models as the probability of every capture history. People are independent
//! and alike in distribution under each model (a latent class, a propensity or a referral
//! chain is drawn for each person independently), so the counts of the 2^k histories of N
//! people, the unseen included, are Multinomial(N, π) with π the model's history
//! probabilities: one exact draw per dataset, however large N is. `fitted` is the same with
//! π = fitted cells / N̂ and the unseen cell 1 − Σ (SparseMSE's `BICandbootstrapsim`:
//! n ~ Binomial(N, Σ fitted / N̂), cells ~ Multinomial(n, fitted / Σ fitted)).

use super::spec::{Generator, list_names};
use crate::data::{CaptureTable, Dataset};
use crate::error::{Error, Result};
use crate::inference::bootstrap::multinomial;
use crate::loglinear::ModelSpec;
use crate::methods::singlesource::{Formula, Model, SimulationModel, simulation_model};
use crate::methods::{Context, Method, Status};
use chacha20::ChaCha8Rng;
use serde::Serialize;

/// One population with a known size: the probability of each history (index = bitmask;
/// index 0 = on no list).
#[derive(Debug, Clone, Serialize)]
pub struct CellModel {
    /// List names.
    pub lists: Vec<String>,
    /// True number of people.
    pub population: u64,
    /// Probability of each history, summing to 1 (for one register's counts: of each
    /// pattern and count, as `counts` lays them out).
    #[serde(skip)]
    pub probs: Vec<f64>,
    /// One register's counts: what each cell is (a population a single-source fit
    /// describes); None for capture histories.
    #[serde(skip)]
    pub counts: Option<std::sync::Arc<CountsLayout>>,
}

/// The cells of a single-source population: the fit's simulation model and, for each
/// cell of `CellModel::probs`, its pattern and count.
#[derive(Debug)]
pub struct CountsLayout {
    /// The fitted population.
    pub model: SimulationModel,
    /// (pattern, times recorded) of each cell; cell 0 is the never recorded.
    pub what: Vec<(usize, u64)>,
}

impl CellModel {
    /// Draws the people of one dataset and returns those seen on some list (or recorded
    /// by the register).
    pub fn draw(&self, rng: &mut ChaCha8Rng) -> Result<Dataset> {
        let counts = multinomial(rng, self.population, &self.probs);
        if let Some(c) = &self.counts {
            return Ok(Dataset::Counts(c.model.dataset(&c.what, &counts)));
        }
        CaptureTable::new(
            self.lists.clone(),
            counts
                .iter()
                .enumerate()
                .skip(1)
                .filter(|(_, c)| **c > 0)
                .map(|(h, c)| (h as u64, *c)),
        )
        .map(Dataset::Table)
    }

    /// Expected share of the population that is seen.
    pub fn seen_share(&self) -> f64 {
        1.0 - self.probs[0]
    }
}

/// The probability of every history when list j is met with probability p_j(previous
/// lists): `chance(j, history so far)`.
fn sequential(k: usize, chance: impl Fn(usize, u64) -> f64) -> Vec<f64> {
    let mut probs = vec![1.0];
    for j in 0..k {
        let mut next = vec![0.0; probs.len() * 2];
        for (h, &p) in probs.iter().enumerate() {
            let q = chance(j, h as u64);
            next[h] += p * (1.0 - q);
            next[h | (1 << j)] += p * q;
        }
        probs = next;
    }
    probs
}

/// Independent lists with probabilities `p`.
fn independent(p: &[f64]) -> Vec<f64> {
    sequential(p.len(), |j, _| p[j])
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Points and weights of the standard normal on [−10, 10] by Simpson's rule: the integrand
/// is smooth and bounded, so 801 points give the history probabilities to about 1e-14.
fn normal_nodes() -> Vec<(f64, f64)> {
    let m = 800usize;
    let h = 20.0 / m as f64;
    let dens = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    (0..=m)
        .map(|i| {
            let z = -10.0 + i as f64 * h;
            let w = if i == 0 || i == m {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            (z, w * h / 3.0 * dens(z))
        })
        .collect()
}

/// The cell models of a generator: one, or one per stratum (with its name). `base` is the
/// study file's folder (a fitted model's data file is relative to it), `name` the study
/// file's name for messages.
pub fn build(
    g: &Generator,
    base: Option<&std::path::Path>,
    name: &str,
) -> Result<Vec<(Option<String>, CellModel)>> {
    Ok(match g {
        Generator::Strata(strata) => {
            let mut out = Vec::new();
            for s in strata {
                for (_, m) in build(&s.population, base, name)? {
                    out.push((Some(s.name.clone()), m));
                }
            }
            out
        }
        _ => vec![(None, single(g, base, name)?)],
    })
}

fn single(g: &Generator, base: Option<&std::path::Path>, name: &str) -> Result<CellModel> {
    let normalise = |mut p: Vec<f64>| {
        let s: f64 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= s);
        p
    };
    Ok(match g {
        Generator::LatentClasses(l) => {
            let k = l.classes[0].probs.len();
            let mut probs = vec![0.0; 1 << k];
            for c in &l.classes {
                for (h, p) in independent(&c.probs).into_iter().enumerate() {
                    probs[h] += c.share * p;
                }
            }
            CellModel {
                lists: list_names(&l.lists, k),
                population: l.population,
                probs: normalise(probs),
                counts: None,
            }
        }
        Generator::Continuous(c) => {
            let k = c.shifts.len();
            let mut probs = vec![0.0; 1 << k];
            let nodes = if c.logit_sd == 0.0 {
                vec![(0.0, 1.0)]
            } else {
                normal_nodes()
            };
            for (z, w) in nodes {
                let p: Vec<f64> = c
                    .shifts
                    .iter()
                    .map(|s| logistic(c.logit_mean + s + c.logit_sd * z))
                    .collect();
                for (h, q) in independent(&p).into_iter().enumerate() {
                    probs[h] += w * q;
                }
            }
            CellModel {
                lists: list_names(&c.lists, k),
                population: c.population,
                probs: normalise(probs),
                counts: None,
            }
        }
        Generator::Referral(r) => {
            let k = r.probs.len();
            let names = list_names(&r.lists, k);
            let idx = |n: &str| names.iter().position(|x| x == n).unwrap_or(0);
            let effects: Vec<(usize, usize, f64)> = r
                .effects
                .iter()
                .map(|e| (idx(&e.from), idx(&e.to), e.factor))
                .collect();
            let probs = sequential(k, |j, h| {
                let mut q = r.probs[j];
                for &(from, to, f) in &effects {
                    if to == j && h & (1 << from) != 0 {
                        q *= f;
                    }
                }
                q.min(1.0)
            });
            CellModel {
                lists: names,
                population: r.population,
                probs: normalise(probs),
                counts: None,
            }
        }
        Generator::Fitted(f) => fitted(f, base, name)?,
        Generator::Strata(_) => {
            return Err(Error::at("population.strata", "strata within strata"));
        }
    })
}

/// The fitted generator: the method on the data, its chosen model's fitted cells.
fn fitted(
    f: &super::spec::FittedSpec,
    base: Option<&std::path::Path>,
    name: &str,
) -> Result<CellModel> {
    let parsed = crate::data::source::load_data(&f.data, base, name, &None)
        .map_err(|e| at_path(e, "population.fitted.data"))?;
    f.method
        .check_data(&parsed.data)
        .map_err(|e| at_path(e, "population.fitted.method"))?;
    let fit = match (&parsed.data, &f.method) {
        (Dataset::Counts(c), Method::SingleSource(m, o)) => counts_fitted_to(c, *m, &o.formula),
        (Dataset::Table(table), _) => fitted_to(table, &f.method),
        _ => {
            return Err(Error::at(
                "population.fitted.data",
                "expected capture histories (a table or records CSV) for a log-linear method, or one register's counts for a single-source method",
            ));
        }
    };
    fit.map(|(model, _)| model).map_err(|e| match e {
        Error::Usage(message) => Error::at("population.fitted.method", message),
        other => other,
    })
}

/// The population a log-linear method's fit to `table` describes, with the chosen model's
/// SPEC: N = round(N̂), the model's fitted cells / N̂ for the seen histories and the rest
/// unseen. A fit
/// without an estimate, or whose model has no fitted cells, is an `Error::Usage` saying
/// why (a study puts it at its method, a calibration skips the generator with it).
pub fn fitted_to(
    table: &CaptureTable,
    method: &crate::methods::Method,
) -> Result<(CellModel, String)> {
    let est = method
        .run(&Dataset::Table(table.clone()), &Context::default())?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Usage("the method gave no estimate".into()))?;
    let (Some(pop), Status::Ok, Some(model)) = (est.population, est.status, est.model.as_ref())
    else {
        return Err(Error::Usage(format!(
            "the method's fit to these data has no estimate (status {}): it cannot generate data",
            est.status
        )));
    };
    let ms = ModelSpec::parse(model, table.lists())?;
    let cells = crate::methods::loglinear::fitted_cells(table, &ms, 25)?.ok_or_else(|| {
        Error::Usage("the chosen model's fitted cells could not be computed".into())
    })?;
    let k = table.k();
    let mut probs = vec![0.0; 1 << k];
    for (h, m) in cells {
        probs[h as usize] = m / pop;
    }
    let seen: f64 = probs.iter().sum();
    probs[0] = (1.0 - seen).max(0.0);
    let population = pop.round() as u64;
    Ok((
        CellModel {
            lists: table.lists().to_vec(),
            population,
            probs,
            counts: None,
        },
        model.clone(),
    ))
}

/// An error of a part of the study file, put at that part's path.
fn at_path(e: Error, path: &str) -> Error {
    match e {
        Error::At { path: p, message } => Error::At {
            path: if p.is_empty() {
                path.to_string()
            } else {
                format!("{path}.{p}")
            },
            message,
        },
        Error::Usage(message) => Error::At {
            path: path.to_string(),
            message,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::spec::{ClassSpec, ContinuousSpec, EffectSpec, LatentSpec, ReferralSpec};

    fn sum(p: &[f64]) -> f64 {
        p.iter().sum()
    }

    #[test]
    fn history_probabilities_add_up_and_match_hand_values() {
        // Two lists, A then B; on A doubles the chance of B: P(AB) = 0.2 * 0.6.
        let r = Generator::Referral(ReferralSpec {
            population: 100,
            lists: None,
            probs: vec![0.2, 0.3],
            effects: vec![EffectSpec {
                from: "L1".into(),
                to: "L2".into(),
                factor: 2.0,
            }],
        });
        let m = single(&r, None, "t").unwrap();
        assert!((sum(&m.probs) - 1.0).abs() < 1e-15);
        assert!((m.probs[0b11] - 0.2 * 0.6).abs() < 1e-15);
        assert!((m.probs[0b10] - 0.8 * 0.3).abs() < 1e-15);
        assert!((m.probs[0b01] - 0.2 * 0.4).abs() < 1e-15);

        let l = Generator::LatentClasses(LatentSpec {
            population: 100,
            lists: None,
            classes: vec![
                ClassSpec {
                    share: 0.3,
                    probs: vec![0.5, 0.5],
                },
                ClassSpec {
                    share: 0.7,
                    probs: vec![0.1, 0.2],
                },
            ],
        });
        let m = single(&l, None, "t").unwrap();
        assert!((m.probs[0] - (0.3 * 0.25 + 0.7 * 0.9 * 0.8)).abs() < 1e-15);
    }

    #[test]
    fn the_logit_normal_integral_is_exact_to_high_precision() {
        // One list: P(seen) = E[logistic(μ + σZ)]; for μ = 0 it is 1/2 by symmetry, and with
        // σ = 0 it is logistic(μ).
        let one = |mean: f64, sd: f64| {
            let c = Generator::Continuous(ContinuousSpec {
                population: 10,
                lists: None,
                logit_mean: mean,
                logit_sd: sd,
                shifts: vec![0.0, 0.0],
            });
            single(&c, None, "t").unwrap()
        };
        let m = one(0.0, 2.0);
        assert!((m.probs[0b01] + m.probs[0b11] - 0.5).abs() < 1e-13);
        let m = one(-1.0, 0.0);
        let p = logistic(-1.0);
        assert!((m.probs[0b11] - p * p).abs() < 1e-15);
        // Heterogeneity makes the two lists positively dependent: P(AB) > P(A)P(B).
        let m = one(-1.0, 1.5);
        let pa = m.probs[0b01] + m.probs[0b11];
        assert!(m.probs[0b11] > pa * pa + 1e-3);
    }
}

/// The population a single-source fit to `data` describes (`singlesource::SimulationModel`),
/// with the fit's name (`ztpoisson capture ~ gender`).
pub fn counts_fitted_to(
    data: &crate::data::counts::CountData,
    model: Model,
    formula: &Formula,
) -> Result<(CellModel, String)> {
    let sim = simulation_model(data, model, formula)?;
    let (probs, what) = sim.cells();
    let name = format!(
        "{} {} ~ {}",
        model.id(),
        data.count_column,
        if formula.covariates.is_empty() {
            "1".to_string()
        } else {
            formula.covariates.join(" + ")
        }
    );
    Ok((
        CellModel {
            lists: vec![data.count_column.clone()],
            population: sim.population,
            probs,
            counts: Some(std::sync::Arc::new(CountsLayout { model: sim, what })),
        },
        name,
    ))
}
