//! Properties of the write order (SPEC section 4), checked at library level to stay fast:
//! for random DAGs every parent precedes its children and the order does not depend on the
//! input order; one back-edge makes a cycle whose every member the error names.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use resource_sync::graph::DependencyGraph;
use resource_sync::resource::Resource;
use serde_json::json;

const KINDS: [&str; 3] = ["player", "stat", "team"];

fn uri(index: usize, kind: &str) -> String {
    format!("http://h/api/{kind}/{index}")
}

/// Resources `0..n` in a hidden topological order: each names some earlier ones (and
/// sometimes a uri outside the set, which must be ignored) as parents.
fn build(kinds: &[usize], parents: &[Vec<usize>]) -> Vec<Resource> {
    kinds
        .iter()
        .enumerate()
        .map(|(index, &kind)| {
            let kind = KINDS[kind];
            let mut parent_uris: Vec<String> = parents[index]
                .iter()
                .map(|&parent| uri(parent, KINDS[kinds[parent]]))
                .collect();
            if index % 5 == 3 {
                parent_uris.push("http://elsewhere/api/team/999".to_string());
            }
            Resource {
                uri: uri(index, kind).into(),
                id: json!(index).into(),
                kind: kind.into(),
                parents: parent_uris.into_iter().map(Into::into).collect(),
                references: Default::default(),
                body: json!({ "id": index }).into(),
            }
        })
        .collect()
}

/// Node kinds and, for node `i`, a set of parents among `0..i`.
fn dag(max_nodes: usize) -> impl Strategy<Value = (Vec<usize>, Vec<Vec<usize>>)> {
    (1..=max_nodes).prop_flat_map(|n| {
        let kinds = proptest::collection::vec(0..KINDS.len(), n);
        let parents: Vec<_> = (0..n)
            .map(|i| {
                proptest::collection::btree_set(0..i.max(1), 0..=i.min(3))
                    .prop_map(move |set| set.into_iter().filter(|&p| p < i).collect::<Vec<_>>())
            })
            .collect();
        (kinds, parents)
    })
}

fn ordered_uris(resources: &[Resource]) -> Vec<String> {
    let graph = DependencyGraph::new(resources);
    let order = graph
        .write_order(resources)
        .expect("a DAG has a write order");
    assert_eq!(
        order
            .iter()
            .map(|&i| i as usize)
            .collect::<BTreeSet<usize>>(),
        (0..resources.len()).collect(),
        "the order is a permutation"
    );
    order
        .iter()
        .map(|&i| resources[i as usize].uri.to_string())
        .collect()
}

/// Shuffles `items` with a permutation given as sort keys.
fn shuffled<T: Clone>(items: &[T], keys: &[u32]) -> Vec<T> {
    let mut indexed: Vec<(u32, usize)> = keys.iter().copied().zip(0..items.len()).collect();
    indexed.sort();
    indexed.into_iter().map(|(_, i)| items[i].clone()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn parents_come_first_whatever_the_input_order(
        (kinds, parents) in dag(40),
        keys in proptest::collection::vec(any::<u32>(), 40),
    ) {
        let resources = build(&kinds, &parents);
        let expected = ordered_uris(&resources);
        let position: HashMap<&str, usize> = expected
            .iter()
            .enumerate()
            .map(|(at, uri)| (uri.as_str(), at))
            .collect();
        for resource in &resources {
            for parent in &resource.parents {
                if let Some(parent_at) = position.get(&**parent) {
                    prop_assert!(
                        *parent_at < position[&*resource.uri],
                        "{} written before its parent {}", resource.uri, parent
                    );
                }
            }
        }
        let mixed = shuffled(&resources, &keys[..resources.len()]);
        prop_assert_eq!(ordered_uris(&mixed), expected.clone());
        let mut reversed = resources.clone();
        reversed.reverse();
        prop_assert_eq!(ordered_uris(&reversed), expected);
    }

    #[test]
    fn a_back_edge_is_a_cycle_naming_each_member(
        (kinds, parents) in dag(30),
        ends in (0usize..1000, 0usize..1000),
        keys in proptest::collection::vec(any::<u32>(), 30),
    ) {
        let n = kinds.len();
        prop_assume!(n >= 2);
        let (a, b) = (ends.0 % n, ends.1 % n);
        prop_assume!(a != b);
        let (first, last) = (a.min(b), a.max(b));
        // first -> last (forward), then last -> first (the back-edge): a cycle.
        let mut parents = parents;
        if !parents[last].contains(&first) {
            parents[last].push(first);
        }
        let mut resources = build(&kinds, &parents);
        let back = resources[last].uri.clone();
        let mut with_back = resources[first].parents.to_vec();
        with_back.push(back);
        resources[first].parents = with_back.into();

        // The cycle's members: descendants of `first` that are ancestors of `last`.
        let children: Vec<Vec<usize>> = (0..n)
            .map(|p| (0..n).filter(|&c| parents[c].contains(&p)).collect())
            .collect();
        let reach = |from: usize, next: &dyn Fn(usize) -> Vec<usize>| {
            let mut seen = BTreeSet::from([from]);
            let mut stack = vec![from];
            while let Some(node) = stack.pop() {
                for other in next(node) {
                    if seen.insert(other) {
                        stack.push(other);
                    }
                }
            }
            seen
        };
        let below_first = reach(first, &|node| children[node].clone());
        let above_last = reach(last, &|node| parents[node].clone());
        let members: BTreeSet<usize> = below_first.intersection(&above_last).copied().collect();

        let mixed = shuffled(&resources, &keys[..n]);
        let graph = DependencyGraph::new(&mixed);
        let error = match graph.write_order(&mixed) {
            Ok(order) => return Err(TestCaseError::fail(format!(
                "a cycle got a write order: {order:?}"
            ))),
            Err(error) => format!("{error:#}"),
        };
        let named: BTreeSet<&str> = error
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|word| word.starts_with("http://"))
            .collect();
        for member in &members {
            let member_uri = &*resources[*member].uri;
            prop_assert!(named.contains(member_uri), "{} not named in: {}", member_uri, error);
        }
        for (index, resource) in resources.iter().enumerate() {
            if !members.contains(&index) {
                prop_assert!(
                    !named.contains(&*resource.uri),
                    "{} is not in the cycle but is named in: {}", resource.uri, error
                );
            }
        }
    }
}
