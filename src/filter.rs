//! `--type` and `--match` selection, plus the parents of what is kept (transitively,
//! unless `--no-parents`), so a filtered copy never references what it did not bring.

use std::collections::{HashMap, HashSet};

use crate::config::Filters;
use crate::expr::MatchExpr;
use crate::resource::{field_at, scalar_text, Resource};

/// The resources that were `chosen` (by `selected`, decided while each still had its
/// body), plus their parents unless `--no-parents`, in their original order.
pub fn keep(resources: Vec<Resource>, chosen: &[bool], filters: &Filters) -> Vec<Resource> {
    if filters.is_empty() {
        return resources;
    }
    let mut keep: HashSet<usize> = (0..resources.len()).filter(|&i| chosen[i]).collect();
    if filters.keep_parents {
        add_ancestors(&resources, &mut keep);
    }
    resources
        .into_iter()
        .enumerate()
        .filter(|(index, _)| keep.contains(index))
        .map(|(_, resource)| resource)
        .collect()
}

/// Whether `--type` and every `--match` hold for the resource.
pub fn selected(resource: &Resource, filters: &Filters) -> bool {
    (filters.types.is_empty() || filters.types.iter().any(|kind| **kind == *resource.kind))
        && filters.matches.iter().all(|expr| matches(resource, expr))
}

/// A field matches when its text equals VALUE; mappings and lists never match.
fn matches(resource: &Resource, expr: &MatchExpr) -> bool {
    field_at(&resource.body, &expr.path)
        .and_then(scalar_text)
        .is_some_and(|text| text == expr.value)
}

fn add_ancestors(resources: &[Resource], keep: &mut HashSet<usize>) {
    let by_uri: HashMap<&str, usize> = resources
        .iter()
        .enumerate()
        .map(|(index, resource)| (&*resource.uri, index))
        .collect();
    let mut stack: Vec<usize> = keep.iter().copied().collect();
    while let Some(index) = stack.pop() {
        for parent in &resources[index].parents {
            if let Some(&parent_index) = by_uri.get(&**parent) {
                if keep.insert(parent_index) {
                    stack.push(parent_index);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The resources the filters keep, in their original order.
    fn apply(resources: Vec<Resource>, filters: &Filters) -> Vec<Resource> {
        let chosen: Vec<bool> = resources
            .iter()
            .map(|resource| selected(resource, filters))
            .collect();
        keep(resources, &chosen, filters)
    }
    use serde_json::json;

    fn resource(kind: &str, id: i64, parents: &[&str], body: serde_json::Value) -> Resource {
        Resource {
            uri: format!("/{kind}/{id}").into(),
            id: json!(id).into(),
            kind: kind.into(),
            parents: parents.iter().map(|&p| p.into()).collect(),
            references: Default::default(),
            body: body.into(),
        }
    }

    fn sample() -> Vec<Resource> {
        vec![
            resource("team", 1, &[], json!({"name": "a"})),
            resource("player", 1, &["/team/1"], json!({"pos": "gk", "n": 1})),
            resource("stat", 1, &["/player/1"], json!({"points": 2.5})),
            resource("team", 2, &[], json!({"name": "b"})),
        ]
    }

    fn labels(resources: &[Resource]) -> Vec<String> {
        resources.iter().map(Resource::label).collect()
    }

    #[test]
    fn type_filter_brings_ancestors() {
        let filters = Filters {
            types: vec!["stat".into()],
            matches: vec![],
            keep_parents: true,
        };
        assert_eq!(
            labels(&apply(sample(), &filters)),
            ["team/1", "player/1", "stat/1"]
        );
        let filters = Filters {
            keep_parents: false,
            ..filters
        };
        assert_eq!(labels(&apply(sample(), &filters)), ["stat/1"]);
    }

    #[test]
    fn match_compares_text_of_scalars() {
        let expr = |text: &str| text.parse::<MatchExpr>().unwrap();
        let filters = Filters {
            types: vec![],
            matches: vec![expr("points=2.5")],
            keep_parents: false,
        };
        assert_eq!(labels(&apply(sample(), &filters)), ["stat/1"]);
        let filters = Filters {
            types: vec![],
            matches: vec![expr("pos=gk"), expr("n=1")],
            keep_parents: false,
        };
        assert_eq!(labels(&apply(sample(), &filters)), ["player/1"]);
        let filters = Filters {
            types: vec![],
            matches: vec![expr("name=zzz")],
            keep_parents: true,
        };
        assert!(apply(sample(), &filters).is_empty());
    }
}
