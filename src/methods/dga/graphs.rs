//! The decomposable graphs over k lists, the models that `dga` averages over: every graph
//! on k vertices is tested for chordality by maximum cardinality search (Tarjan &
//! Yannakakis 1984), which also yields its maximal cliques in a RIP order and hence the
//! separators of a junction tree. The cliques and separators pick the marginal tables whose
//! terms the ladder multiplies into each graph's row of weights; `graph_label` names a
//! graph in the estimate's output.

use serde::Serialize;

/// A decomposable graph: its cliques and its non-empty separators, as list bitmasks.
#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    /// Maximal cliques.
    pub cliques: Vec<u64>,
    /// Separators of a junction tree (non-empty ones only).
    pub separators: Vec<u64>,
}

/// Maximum cardinality search order; None when the graph is not chordal.
fn chordal_cliques(k: usize, adj: &[u64]) -> Option<Graph> {
    // MCS: visit order; chordal iff each vertex's earlier neighbours form a clique.
    let mut order = Vec::with_capacity(k);
    let mut weight = vec![0usize; k];
    let mut visited = 0u64;
    for _ in 0..k {
        let v = (0..k)
            .filter(|&v| visited >> v & 1 == 0)
            .max_by_key(|&v| (weight[v], std::cmp::Reverse(v)))?;
        order.push(v);
        visited |= 1 << v;
        for u in 0..k {
            if adj[v] >> u & 1 == 1 && visited >> u & 1 == 0 {
                weight[u] += 1;
            }
        }
    }
    let mut seen = 0u64;
    let mut cand: Vec<u64> = Vec::new();
    for &v in &order {
        let earlier = adj[v] & seen;
        // the earlier neighbours must be pairwise adjacent
        let mut b = earlier;
        while b != 0 {
            let u = b.trailing_zeros() as usize;
            if earlier & !(1u64 << u) & !adj[u] != 0 {
                return None;
            }
            b &= b - 1;
        }
        cand.push(earlier | (1 << v));
        seen |= 1 << v;
    }
    // maximal cliques among the candidate sets, kept in MCS order (a RIP order)
    let cliques: Vec<u64> = cand
        .iter()
        .enumerate()
        .filter(|&(i, &c)| {
            !cand
                .iter()
                .enumerate()
                .any(|(j, &d)| j != i && d & c == c && (d != c || j < i))
        })
        .map(|(_, &c)| c)
        .collect();
    let mut separators = Vec::new();
    let mut union = 0u64;
    for (i, &c) in cliques.iter().enumerate() {
        if i > 0 && c & union != 0 {
            separators.push(c & union);
        }
        union |= c;
    }
    Some(Graph {
        cliques,
        separators,
    })
}

/// Every decomposable graph on k vertices (all graphs for k ≤ 3).
pub fn decomposable_graphs(k: usize) -> Vec<Graph> {
    let pairs: Vec<(usize, usize)> = (0..k)
        .flat_map(|i| (i + 1..k).map(move |j| (i, j)))
        .collect();
    (0u64..(1u64 << pairs.len()))
        .filter_map(|mask| {
            let mut adj = vec![0u64; k];
            for (e, &(i, j)) in pairs.iter().enumerate() {
                if mask >> e & 1 == 1 {
                    adj[i] |= 1 << j;
                    adj[j] |= 1 << i;
                }
            }
            chordal_cliques(k, &adj)
        })
        .collect()
}

/// Name of a graph by its cliques, e.g. `[L1,L2][L3]`.
pub fn graph_label(g: &Graph, lists: &[String]) -> String {
    g.cliques
        .iter()
        .map(|&c| {
            format!(
                "[{}]",
                (0..lists.len())
                    .filter(|&i| c >> i & 1 == 1)
                    .map(|i| lists[i].as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_decomposable_graphs() {
        assert_eq!(decomposable_graphs(3).len(), 8);
        assert_eq!(decomposable_graphs(4).len(), 61);
        assert_eq!(decomposable_graphs(5).len(), 822);
    }
}
