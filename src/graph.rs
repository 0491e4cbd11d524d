//! The dependency graph over parent links (petgraph): the deterministic write order,
//! the cycle report, and the ready-set scheduler that lets writes run concurrently.

use std::collections::BTreeSet;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

use crate::exit_code::usage;
use crate::resource::{IdKey, Resource};
use crate::text_index::{position, Compact, TextIndex};

/// Resources with their parent edges; node `i` is `resources[i]`.
pub struct DependencyGraph {
    graph: DiGraph<(), ()>,
}

impl DependencyGraph {
    /// Edges from each parent to its children; links to uris outside the set are ignored.
    pub fn new(resources: &[Resource]) -> Self {
        let mut graph = DiGraph::with_capacity(resources.len(), resources.len());
        let uri_of = |node: u32| &*resources[node as usize].uri;
        let mut by_uri = TextIndex::<Compact>::with_capacity(resources.len());
        for (index, resource) in resources.iter().enumerate() {
            graph.add_node(());
            by_uri.insert(&resource.uri, position(index), uri_of);
        }
        for (index, resource) in resources.iter().enumerate() {
            for parent in &resource.parents {
                if let Some(parent) = by_uri.get(parent, uri_of) {
                    graph.update_edge(NodeIndex::new(parent as usize), NodeIndex::new(index), ());
                }
            }
        }
        DependencyGraph { graph }
    }

    /// Indices of `resources` in write order: parents first, ties by `(type, id)`.
    ///
    /// The order is the one microcosm-resourcesync produces (repeated passes over the
    /// `(type, id)`-sorted list, each emitting every resource whose parents are already
    /// out), so a file written by either tool is byte-identical. It is computed in
    /// O(n log n): a resource's pass is the largest of its parents' passes, plus one
    /// where the parent sorts after it.
    pub fn write_order(&self, resources: &[Resource]) -> anyhow::Result<Vec<u32>> {
        let topological =
            toposort(&self.graph, None).map_err(|_| usage(self.describe_cycles(resources)))?;
        let rank = sorted_rank(resources);
        // Positions and passes as u32: a million resources hold 4 bytes less of each.
        let mut pass = vec![0u32; resources.len()];
        for node in topological {
            let child = node.index();
            pass[child] = self
                .graph
                .neighbors_directed(node, Direction::Incoming)
                .map(|parent| pass[parent.index()] + u32::from(rank[parent.index()] > rank[child]))
                .max()
                .unwrap_or(0);
        }
        // Indices as u32: a push holds the order until its last request.
        let mut order: Vec<u32> = (0..position(resources.len())).collect();
        order.sort_by_key(|&index| (pass[index as usize], rank[index as usize]));
        Ok(order)
    }

    fn describe_cycles(&self, resources: &[Resource]) -> String {
        let cycles: Vec<String> = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|component| component.len() > 1 || self.has_self_loop(component[0]))
            .map(|component| {
                let mut uris: Vec<&str> = component
                    .iter()
                    .map(|node| &*resources[node.index()].uri)
                    .collect();
                uris.sort_unstable();
                uris.join(", ")
            })
            .collect();
        format!("parent links form a cycle: {}", cycles.join("; "))
    }

    fn has_self_loop(&self, node: NodeIndex) -> bool {
        self.graph.contains_edge(node, node)
    }

    /// Direct children of a resource.
    pub fn children(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .neighbors_directed(NodeIndex::new(index), Direction::Outgoing)
            .map(|node| node.index())
    }

    fn parent_count(&self, index: usize) -> usize {
        self.graph
            .neighbors_directed(NodeIndex::new(index), Direction::Incoming)
            .count()
    }
}

/// Each resource's position in the `(type, id)` order.
fn sorted_rank(resources: &[Resource]) -> Vec<u32> {
    // Numeric ids parsed once; the keys themselves are made in each comparison, as
    // holding them cost 48 bytes a resource at the run's peak.
    let numbers: Vec<f64> = resources.iter().map(|r| IdKey::number(&r.id)).collect();
    let key = |index: usize| resources[index].sort_key_with(numbers[index]);
    let mut by_key: Vec<u32> = (0..position(resources.len())).collect();
    by_key.sort_by(|&a, &b| key(a as usize).cmp(&key(b as usize)));
    let mut rank = vec![0; resources.len()];
    for (at, index) in by_key.into_iter().enumerate() {
        rank[index as usize] = position(at);
    }
    rank
}

/// Hands out resources whose parents have all been written, in write-order priority,
/// so a slow parent only holds back its own descendants.
pub struct Scheduler<'g> {
    graph: &'g DependencyGraph,
    order: &'g [u32],
    /// Position in the write order, and parents not yet written: u32, as a push holds
    /// both for every resource until it ends.
    priority: Vec<u32>,
    waiting_on: Vec<u32>,
    /// Positions in the write order of the resources ready to go: 4 bytes each, where
    /// (position, index) pairs took 16 and half a million of them can be ready at once.
    ready: BTreeSet<u32>,
    settled: Vec<bool>,
}

impl<'g> Scheduler<'g> {
    /// `order` is the write order from `DependencyGraph::write_order`.
    pub fn new(graph: &'g DependencyGraph, order: &'g [u32]) -> Self {
        let mut priority = vec![0; order.len()];
        for (at, &index) in order.iter().enumerate() {
            priority[index as usize] = position(at);
        }
        let waiting_on: Vec<u32> = (0..order.len())
            .map(|i| position(graph.parent_count(i)))
            .collect();
        let ready = (0..order.len())
            .filter(|&i| waiting_on[i] == 0)
            .map(|i| priority[i])
            .collect();
        Scheduler {
            graph,
            order,
            priority,
            waiting_on,
            ready,
            settled: vec![false; order.len()],
        }
    }

    /// The ready resource first in write order.
    pub fn next_ready(&mut self) -> Option<usize> {
        self.ready
            .pop_first()
            .map(|at| self.order[at as usize] as usize)
    }

    /// Up to `max` more ready resources accepted by `same_batch`, in write order.
    pub fn take_ready_matching(
        &mut self,
        max: usize,
        same_batch: impl Fn(usize) -> bool,
    ) -> Vec<usize> {
        let taken: Vec<u32> = self
            .ready
            .iter()
            .filter(|&&at| same_batch(self.order[at as usize] as usize))
            .take(max)
            .copied()
            .collect();
        for at in &taken {
            self.ready.remove(at);
        }
        taken
            .into_iter()
            .map(|at| self.order[at as usize] as usize)
            .collect()
    }

    /// Record a written resource: children with no other pending parent become ready.
    pub fn succeeded(&mut self, index: usize) {
        self.settle(index);
        for child in self.graph.children(index) {
            self.waiting_on[child] -= 1;
            if self.waiting_on[child] == 0 && !self.settled[child] {
                self.ready.insert(self.priority[child]);
            }
        }
    }

    /// Record a failed resource; returns its descendants, which will never be written.
    pub fn failed(&mut self, index: usize) -> Vec<usize> {
        self.settle(index);
        let mut skipped = Vec::new();
        let mut stack: Vec<usize> = self.graph.children(index).collect();
        while let Some(node) = stack.pop() {
            if self.settled[node] {
                continue;
            }
            self.settle(node);
            self.ready.remove(&self.priority[node]);
            skipped.push(node);
            stack.extend(self.graph.children(node));
        }
        skipped.sort_by_key(|&i| self.priority[i]);
        skipped
    }

    /// Give up on everything not settled and not in flight (after `--fail-fast`); returns it.
    pub fn abandon(&mut self, in_flight: &[usize]) -> Vec<usize> {
        let mut rest: Vec<usize> = (0..self.settled.len())
            .filter(|&i| !self.settled[i] && !in_flight.contains(&i))
            .collect();
        for &index in &rest {
            self.settle(index);
        }
        self.ready.clear();
        rest.sort_by_key(|&i| self.priority[i]);
        rest
    }

    fn settle(&mut self, index: usize) {
        self.settled[index] = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(kind: &str, id: i64, parents: &[&str]) -> Resource {
        Resource {
            uri: format!("/{kind}/{id}").into(),
            id: json!(id).into(),
            kind: kind.into(),
            parents: parents.iter().map(|&p| p.into()).collect(),
            references: Default::default(),
            body: json!({}).into(),
        }
    }

    fn labels(resources: &[Resource], order: &[u32]) -> Vec<String> {
        order
            .iter()
            .map(|&i| resources[i as usize].label())
            .collect()
    }

    #[test]
    fn parents_come_first_ties_by_type_and_id() {
        let resources = vec![
            resource("stat", 1, &["/player/2"]),
            resource("player", 2, &["/team/1"]),
            resource("team", 1, &[]),
            resource("player", 1, &["/team/1", "/outside/9"]),
            resource("arena", 5, &[]),
        ];
        let graph = DependencyGraph::new(&resources);
        let order = graph.write_order(&resources).unwrap();
        assert_eq!(
            labels(&resources, &order),
            ["arena/5", "team/1", "player/1", "player/2", "stat/1"]
        );
    }

    #[test]
    fn order_matches_the_original_pass_algorithm() {
        // c/1 is ready in pass one, a/1 (its child) waits for pass two, after d/1.
        let resources = vec![
            resource("a", 1, &["/c/1"]),
            resource("c", 1, &[]),
            resource("d", 1, &[]),
        ];
        let graph = DependencyGraph::new(&resources);
        let order = graph.write_order(&resources).unwrap();
        assert_eq!(labels(&resources, &order), ["c/1", "d/1", "a/1"]);
    }

    #[test]
    fn shuffled_input_gives_the_same_order() {
        let mut resources: Vec<Resource> = (1..=30)
            .map(|i| {
                resource(
                    "n",
                    i,
                    &if i > 1 {
                        vec![format!("/n/{}", i / 2)]
                    } else {
                        vec![]
                    }
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
                )
            })
            .collect();
        let expected = {
            let graph = DependencyGraph::new(&resources);
            labels(&resources, &graph.write_order(&resources).unwrap())
        };
        resources.reverse();
        resources.swap(3, 17);
        let graph = DependencyGraph::new(&resources);
        let order = graph.write_order(&resources).unwrap();
        assert_eq!(labels(&resources, &order), expected);
        let position: std::collections::HashMap<String, usize> = expected
            .iter()
            .enumerate()
            .map(|(p, l)| (l.clone(), p))
            .collect();
        for i in 2..=30 {
            assert!(position[&format!("n/{}", i / 2)] < position[&format!("n/{i}")]);
        }
    }

    #[test]
    fn cycle_names_its_members() {
        let resources = vec![
            resource("a", 1, &["/b/1"]),
            resource("b", 1, &["/a/1"]),
            resource("c", 1, &[]),
        ];
        let error = DependencyGraph::new(&resources)
            .write_order(&resources)
            .unwrap_err();
        assert_eq!(error.to_string(), "parent links form a cycle: /a/1, /b/1");
    }

    #[test]
    fn scheduler_releases_children_and_skips_descendants_of_failures() {
        let resources = vec![
            resource("team", 1, &[]),
            resource("player", 1, &["/team/1"]),
            resource("stat", 1, &["/player/1"]),
            resource("team", 2, &[]),
        ];
        let graph = DependencyGraph::new(&resources);
        let order = graph.write_order(&resources).unwrap();
        let mut scheduler = Scheduler::new(&graph, &order);
        assert_eq!(scheduler.next_ready(), Some(0));
        assert_eq!(scheduler.next_ready(), Some(3));
        assert_eq!(scheduler.next_ready(), None);
        scheduler.succeeded(3);
        assert_eq!(scheduler.failed(0), vec![1, 2]);
        assert_eq!(scheduler.next_ready(), None, "nothing is left to write");
    }
}
