//! Resource rules of the test server: bodies keyed by path, each convention's way of naming
//! a body's own path and its parents. Kept free of HTTP so routing, orphan and parent checks,
//! ordering and ids stay plain functions.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Convention;

/// Stored resources: URL path (e.g. `/api/team/1`) to the body exactly as received, with
/// each collection's members kept in id order so a page costs its own size, not the API's.
#[derive(Default, Clone)]
pub(super) struct Store {
    bodies: BTreeMap<String, Value>,
    by_kind: BTreeMap<String, BTreeSet<(IdKey, String)>>,
    /// Each collection's paths in id order, made when first paged after a change: paging
    /// a set by offset then costs the page, not the offset (a pull of 1,000,000 spent 88
    /// of its 101 s skipping to offsets).
    ordered: BTreeMap<String, Vec<String>>,
}

impl Store {
    pub(super) fn insert(&mut self, path: String, body: Value) {
        if let Target::Item(kind, id) = Target::parse(&path) {
            self.ordered.remove(&kind);
            self.by_kind
                .entry(kind)
                .or_default()
                .insert((IdKey::of(&id), path.clone()));
        }
        self.bodies.insert(path, body);
    }

    pub(super) fn remove(&mut self, path: &str) -> Option<Value> {
        if let Target::Item(kind, id) = Target::parse(path) {
            self.ordered.remove(&kind);
            if let Some(members) = self.by_kind.get_mut(&kind) {
                members.remove(&(IdKey::of(&id), path.to_string()));
            }
        }
        self.bodies.remove(path)
    }

    /// Everything stored, by path.
    pub(super) fn bodies(&self) -> &BTreeMap<String, Value> {
        &self.bodies
    }
}

impl std::ops::Deref for Store {
    type Target = BTreeMap<String, Value>;

    /// Read-only map access; writes go through `insert`/`remove` to keep the index right.
    fn deref(&self) -> &Self::Target {
        &self.bodies
    }
}

/// What a request path addresses under `/api`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    Root,
    Collection(String),
    Item(String, String),
    Unknown,
}

impl Target {
    pub(super) fn parse(path: &str) -> Target {
        let Some(rest) = path.strip_prefix("/api") else {
            return Target::Unknown;
        };
        // "/apiary" must not count as the API root.
        if !rest.is_empty() && !rest.starts_with('/') {
            return Target::Unknown;
        }
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] => Target::Root,
            [kind] => Target::Collection((*kind).to_string()),
            [kind, id] => Target::Item((*kind).to_string(), (*id).to_string()),
            _ => Target::Unknown,
        }
    }
}

/// Request path without trailing slashes, so `/api/team/` and `/api/team` are one collection.
pub(super) fn normalize(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Path part of an absolute (`http://host:port/a/b?q`) or relative (`/a/b`) href.
pub(super) fn href_path(href: &str) -> String {
    let rest = match href.split_once("://") {
        Some((_, after_scheme)) => match after_scheme.find(['/', '?', '#']) {
            Some(start) if after_scheme[start..].starts_with('/') => &after_scheme[start..],
            _ => "/",
        },
        None => href,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    normalize(&rest[..end])
}

/// Every `(rel, path)` in a body's `_links`; HAL allows a link or an array of links per rel.
fn link_paths(body: &Value) -> Vec<(String, String)> {
    let Some(links) = body.get("_links").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (rel, value) in links {
        let entries = match value {
            Value::Array(many) => many.iter().collect(),
            one => vec![one],
        };
        for entry in entries {
            if let Some(href) = entry.get("href").and_then(Value::as_str) {
                found.push((rel.clone(), href_path(href)));
            }
        }
    }
    found
}

/// The storage key a body names itself: HAL's `_links.self.href`, a simple `uri`, or
/// `/api/<type>/<id>` of a JSON:API resource object; a plain-JSON member names none.
pub(super) fn self_path(convention: Convention, body: &Value) -> Option<String> {
    match convention {
        Convention::Hal => link_paths(body)
            .into_iter()
            .find(|(rel, _)| rel == "self")
            .map(|(_, path)| path),
        Convention::Simple => body.get("uri").and_then(Value::as_str).map(href_path),
        Convention::JsonApi => identifier_path(body),
        Convention::Plain => None,
    }
}

/// `/api/<type>/<id>` of a JSON:API resource object or resource identifier.
fn identifier_path(identifier: &Value) -> Option<String> {
    let kind = identifier.get("type")?.as_str()?;
    let id = identifier.get("id")?.as_str()?;
    Some(format!("/api/{kind}/{id}"))
}

/// The paths of the resources a body names as its parents: HAL `parent:*` links, simple
/// `parents`, plain-JSON `<type>Id` fields, the `data` of JSON:API relationships.
fn parent_paths(convention: Convention, body: &Value) -> Vec<String> {
    match convention {
        Convention::Hal => link_paths(body)
            .into_iter()
            .filter(|(rel, _)| rel.starts_with("parent:"))
            .map(|(_, path)| path)
            .collect(),
        Convention::Simple => body
            .get("parents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(href_path)
            .collect(),
        Convention::Plain => body
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(field, value)| {
                let kind = field.strip_suffix("Id").filter(|kind| !kind.is_empty())?;
                let id = match value {
                    Value::String(text) => text.clone(),
                    Value::Number(number) => number.to_string(),
                    _ => return None,
                };
                Some(format!("/api/{kind}/{id}"))
            })
            .collect(),
        Convention::JsonApi => body
            .get("relationships")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .flat_map(|(_, relationship)| match relationship.get("data") {
                Some(Value::Array(many)) => many.iter().collect(),
                Some(one) => vec![one],
                None => Vec::new(),
            })
            .filter_map(identifier_path)
            .collect(),
    }
}

/// First parent of `body` that is not stored, if any.
pub(super) fn missing_parent(
    convention: Convention,
    store: &Store,
    body: &Value,
) -> Option<String> {
    parent_paths(convention, body)
        .into_iter()
        .find(|parent| !store.contains_key(parent))
}

/// Some stored resource other than `path` that names `path` as a parent.
pub(super) fn child_of(convention: Convention, store: &Store, path: &str) -> Option<String> {
    store
        .iter()
        .filter(|(key, _)| key.as_str() != path)
        .find(|(_, body)| {
            parent_paths(convention, body)
                .iter()
                .any(|parent| parent == path)
        })
        .map(|(key, _)| key.clone())
}

/// Sort key for ids: numeric ids first in numeric order, then the rest as strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum IdKey {
    Number(u64),
    Text(String),
}

impl IdKey {
    fn of(id: &str) -> IdKey {
        id.parse()
            .map(IdKey::Number)
            .unwrap_or_else(|_| IdKey::Text(id.to_string()))
    }
}

fn member_ids<'a>(store: &'a Store, kind: &'a str) -> impl Iterator<Item = (String, &'a Value)> {
    store
        .by_kind
        .get(kind)
        .into_iter()
        .flatten()
        .filter_map(move |(_, path)| {
            let id = path.rsplit('/').next().unwrap_or("").to_string();
            store.bodies.get(path).map(|body| (id, body))
        })
}

/// One page of a collection ordered by id, and the collection's size. Only the page is
/// cloned, so a large collection stays cheap to page through (benchmarks use this server).
pub(super) fn members_page(
    store: &mut Store,
    kind: &str,
    offset: usize,
    limit: usize,
) -> (Vec<Value>, usize) {
    let Some(members) = store.by_kind.get(kind) else {
        return (Vec::new(), 0);
    };
    let ordered = store
        .ordered
        .entry(kind.to_string())
        .or_insert_with(|| members.iter().map(|(_, path)| path.clone()).collect());
    let page = ordered
        .iter()
        .skip(offset)
        .take(limit)
        .filter_map(|path| store.bodies.get(path).cloned())
        .collect();
    (page, ordered.len())
}

/// Types that have at least one stored member, sorted.
pub(super) fn types(store: &Store) -> BTreeSet<String> {
    store
        .keys()
        .filter_map(|key| match Target::parse(key) {
            Target::Item(kind, _) => Some(kind),
            _ => None,
        })
        .collect()
}

/// Id for a POSTed member: one past the largest numeric id in the collection.
pub(super) fn next_id(store: &Store, kind: &str) -> u64 {
    member_ids(store, kind)
        .filter_map(|(id, _)| id.parse::<u64>().ok())
        .max()
        .map_or(1, |max| max + 1)
}
