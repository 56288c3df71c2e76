//! Hierarchical log-linear model specifications: parsing DESIGN's SPEC syntax
//! (`[12,23]`, `[LA:NG,NG:GP,PFNCA]`, `main`, `twoway`), closure under the hierarchy, and
//! the design over the observable cells, with the empty margins that make some
//! interaction terms −∞ (the extended MLE of Fienberg & Rinaldo 2012).

pub mod check;
pub mod fit;

use crate::data::CaptureTable;
use crate::error::{Error, Result};
use crate::glm::Problem;
use crate::glm::lattice::{Column, Lattice};

/// A hierarchical model: every term (a set of lists, as a bitmask) of order ≥ 2 that it
/// contains, main effects implied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// Number of lists.
    pub k: usize,
    /// Interaction terms (order ≥ 2), closed under subsets, sorted by order then value.
    pub terms: Vec<u64>,
    /// The generating class as given (maximal terms), for labels.
    pub generators: Vec<u64>,
}

fn parse_element(el: &str, lists: &[String]) -> Result<u64> {
    let k = lists.len();
    let unknown = |name: &str| {
        Error::Usage(format!(
            "model SPEC names \"{name}\", which is not a list; the lists are {} (or 1..{k} by position)",
            lists.join(", ")
        ))
    };
    if let Some(pos) = lists.iter().position(|l| l == el) {
        return Ok(1 << pos);
    }
    // A list twice in one term (`[11]`, `[LA:LA]`) is a typo, not a main effect.
    let twice = |name: &str| {
        Error::Usage(format!(
            "model SPEC element \"{el}\" names list {name} twice; a term is a set of different lists"
        ))
    };
    if k <= 9 && !el.is_empty() && el.bytes().all(|b| b.is_ascii_digit()) {
        let mut m = 0u64;
        for b in el.bytes() {
            let d = (b - b'0') as usize;
            if d == 0 || d > k {
                return Err(Error::Usage(format!(
                    "model SPEC element \"{el}\": list number {d} is outside 1..{k}"
                )));
            }
            if m & 1 << (d - 1) != 0 {
                return Err(twice(&d.to_string()));
            }
            m |= 1 << (d - 1);
        }
        return Ok(m);
    }
    let mut m = 0u64;
    for name in el.split(':') {
        let name = name.trim();
        match lists.iter().position(|l| l == name) {
            Some(pos) if m & 1 << pos != 0 => return Err(twice(name)),
            Some(pos) => m |= 1 << pos,
            None => return Err(unknown(name)),
        }
    }
    Ok(m)
}

impl ModelSpec {
    /// Parses a SPEC against the table's list names.
    pub fn parse(spec: &str, lists: &[String]) -> Result<Self> {
        let k = lists.len();
        let s = spec.trim();
        let gens: Vec<u64> = match s {
            "" => {
                return Err(Error::Usage(
                    "model SPEC is empty: expected a generating class in brackets, e.g. [12,23] or [LA:NG,PF], or main (main effects) or twoway".into(),
                ));
            }
            "main" | "[]" => Vec::new(),
            "twoway" | "all-twoway" => {
                let mut g = Vec::new();
                for i in 0..k {
                    for j in i + 1..k {
                        g.push(1 << i | 1 << j);
                    }
                }
                g
            }
            _ => {
                let inner = s
                    .strip_prefix('[')
                    .and_then(|x| x.strip_suffix(']'))
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "model SPEC \"{spec}\": expected a generating class in brackets, e.g. [12,23] or [LA:NG,PF], or main/twoway"
                        ))
                    })?;
                let mut g = Vec::new();
                for el in inner.split(',') {
                    let el = el.trim();
                    if el.is_empty() {
                        return Err(Error::Usage(format!(
                            "model SPEC \"{spec}\" has an empty element"
                        )));
                    }
                    let term = parse_element(el, lists)?;
                    if g.contains(&term) {
                        return Err(Error::Usage(format!(
                            "model SPEC \"{spec}\" gives the term \"{el}\" twice"
                        )));
                    }
                    g.push(term);
                }
                g
            }
        };
        Ok(Self::from_generators(k, gens))
    }

    /// Builds the hierarchical closure of a generating class.
    pub fn from_generators(k: usize, gens: Vec<u64>) -> Self {
        let mut set = std::collections::BTreeSet::new();
        for &g in &gens {
            if g.count_ones() < 2 {
                continue;
            }
            // every subset of g with at least two elements
            let mut sub = g;
            loop {
                if sub.count_ones() >= 2 {
                    set.insert(sub);
                }
                if sub == 0 {
                    break;
                }
                sub = (sub - 1) & g;
            }
        }
        let mut terms: Vec<u64> = set.into_iter().collect();
        terms.sort_by_key(|&t| (t.count_ones(), t.trailing_zeros(), t));
        let mut generators: Vec<u64> = gens.into_iter().filter(|g| g.count_ones() >= 2).collect();
        generators.sort_by_key(|&t| (t.count_ones(), t));
        generators.dedup();
        // keep only maximal generators
        let maximal: Vec<u64> = generators
            .iter()
            .copied()
            .filter(|&g| !generators.iter().any(|&h| h != g && h & g == g))
            .collect();
        ModelSpec {
            k,
            terms,
            generators: maximal,
        }
    }

    /// Canonical label, e.g. `[LA:NG,NG:GP]` (or `[12,23]` style when names are digits).
    pub fn label(&self, lists: &[String]) -> String {
        let parts: Vec<String> = self
            .generators
            .iter()
            .map(|&g| term_name(g, lists))
            .collect();
        format!("[{}]", parts.join(","))
    }
}

/// Name of a term: its lists joined by `:`.
pub fn term_name(t: u64, lists: &[String]) -> String {
    // Written into one string: every design names its columns, and a stepwise bootstrap
    // builds hundreds of thousands of designs.
    let mut s = String::new();
    for (i, name) in lists.iter().enumerate().filter(|&(i, _)| t >> i & 1 == 1) {
        if i > t.trailing_zeros() as usize {
            s.push(':');
        }
        s.push_str(name);
    }
    s
}

/// A log-linear design over the observable cells, with empty-margin terms removed.
#[derive(Debug, Clone)]
pub struct LoglinDesign {
    /// The Poisson problem on the cells that are not structural zeros.
    pub problem: Problem,
    /// Terms (including main effects) whose margin is empty: coefficient −∞.
    pub empty_terms: Vec<u64>,
    /// Cells fixed at zero by the empty terms.
    pub zero_cells: usize,
}

/// Builds the design of `spec` (main effects plus its interaction terms) for `table`;
/// with `drop_empty`, terms with an empty margin and their cells are left out.
pub fn design(table: &CaptureTable, spec: &ModelSpec, drop_empty: bool) -> Result<LoglinDesign> {
    let k = table.k();
    let counts = table.dense()?;
    let lists = table.lists();
    let mut all_terms: Vec<u64> = (0..k).map(|i| 1u64 << i).collect();
    all_terms.extend(spec.terms.iter().copied());
    // margin of each term
    let ncell = 1usize << k;
    let margin = |t: u64| -> f64 {
        (1..ncell)
            .filter(|&h| h as u64 & t == t)
            .map(|h| counts[h])
            .sum()
    };
    let empty: Vec<u64> = if drop_empty {
        all_terms
            .iter()
            .copied()
            .filter(|&t| margin(t) == 0.0)
            .collect()
    } else {
        Vec::new()
    };
    // Terms implied empty by a smaller empty term are also −∞; all are dropped.
    let kept: Vec<u64> = all_terms
        .iter()
        .copied()
        .filter(|t| !empty.contains(t))
        .collect();
    let names: Vec<String> = kept.iter().map(|&t| term_name(t, lists)).collect();
    let mut hist = Vec::with_capacity(ncell);
    let mut y = Vec::with_capacity(ncell);
    for h in 1..ncell as u64 {
        if !empty.iter().any(|&t| h & t == t) {
            hist.push(h);
            y.push(counts[h as usize]);
        }
    }
    let zero_cells = ncell - 1 - hist.len();
    let mut columns = vec![Column::Contains(0)];
    columns.extend(kept.iter().map(|&t| Column::Contains(t)));
    let problem = Problem::from_lattice(
        names,
        Lattice {
            t: k,
            columns,
            hist,
        },
        y,
    );
    Ok(LoglinDesign {
        problem,
        empty_terms: empty,
        zero_cells,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> Vec<String> {
        ["LA", "NG", "PF"].iter().map(|s| s.to_string()).collect()
    }

    fn err(spec: &str) -> String {
        match ModelSpec::parse(spec, &lists()) {
            Ok(m) => panic!("{spec} parsed as {m:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_spec_that_says_nothing_or_repeats_itself_is_refused() {
        assert!(err("").contains("model SPEC is empty"));
        assert!(err("  ").contains("model SPEC is empty"));
        assert!(err("[11]").contains("names list 1 twice"));
        assert!(err("[LA:LA]").contains("names list LA twice"));
        assert!(err("[12,21]").contains("gives the term \"21\" twice"));
        assert!(err("[LA:NG,NG:LA]").contains("twice"));
    }

    #[test]
    fn main_effects_and_nested_terms_still_read() {
        let main = ModelSpec::parse("main", &lists()).unwrap();
        assert_eq!(ModelSpec::parse("[]", &lists()).unwrap(), main);
        assert!(main.terms.is_empty());
        let m = ModelSpec::parse("[12,123]", &lists()).unwrap();
        assert_eq!(m.generators, vec![0b111]);
        let m = ModelSpec::parse("[LA:NG, PF]", &lists()).unwrap();
        assert_eq!(m.terms, vec![0b011]);
    }
}
