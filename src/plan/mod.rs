//! The march: every resource of a run paired with what the destination holds at its
//! target, and decided once as create, update or unchanged (with `--rm`, stale ones as
//! deletes). `--dry-run` prints these decisions, a run carries them out, `--verify`
//! marches again after writing and expects nothing left to do.

mod render;

pub use render::{print_diffs, print_plan, Change};

use std::borrow::Cow;
use std::collections::HashSet;

use anyhow::Result;
use futures::future::BoxFuture;
use serde_json::Value;

use crate::graph::DependencyGraph;
use crate::report::Op;
use crate::resource::{without_fields, Resource};

/// What a destination holds where a resource would go.
#[derive(Debug, Clone, PartialEq)]
pub enum Held {
    /// Nothing there (or a destination that is always written whole: a file, stdout).
    Nothing,
    /// Something the read could not show (a clone's earlier copy): an update.
    Unseen,
    /// Exactly what would be written (a file with the same bytes, or `null`).
    Identical,
    /// A copy, parsed, to be compared field by field.
    Copy(Value),
}

/// What a destination holds, as the march sees it. Each endpoint kind has one.
pub trait Inventory: Send + Sync {
    /// Look at the destination where `kept` (the resources of the run, read and
    /// ordered) would go, before any of them is decided. A destination that can be
    /// listed up front (a directory) has nothing to do here; an API reads the collections
    /// that would list them.
    fn survey<'s>(&'s self, _kept: &'s [Resource]) -> BoxFuture<'s, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// Where the resource goes: the destination URL, the file path, or its uri.
    fn target(&self, resource: &Resource) -> Result<String>;

    /// What is at the resource's target now. `text` is the resource as it would be
    /// written, where the caller has already made it.
    fn held(&self, resource: &Resource, text: Option<&str>) -> Result<Held>;

    /// Whether something is at the resource's target, told without reading it (`None`:
    /// the destination cannot tell). A run that does not compare plans by this alone.
    fn holds(&self, _resource: &Resource) -> Result<Option<bool>> {
        Ok(None)
    }

    /// The destination's copy of the resource as it holds it, for a backup (SPEC section
    /// 12): where `held` gives a form made to compare with (a profile's), the member as
    /// the API returned it.
    fn kept(&self, resource: &Resource) -> Result<Option<Value>> {
        Ok(match self.held(resource, None)? {
            Held::Copy(copy) => Some(copy),
            _ => None,
        })
    }

    /// The resource in the destination's terms (links rebased onto it), for comparing.
    fn comparable<'r>(&self, resource: &'r Resource) -> Cow<'r, Value> {
        Cow::Borrowed(&resource.body)
    }

    /// The origin uri shown beside the target in plans (clones name what they copy).
    fn source(&self, _resource: &Resource) -> Option<String> {
        None
    }

    /// Where the resource lands, as a text two resources of the run share only when one
    /// would overwrite the other; `None` where that cannot be told before writing (a
    /// destination written whole, a clone's creates).
    fn place<'r>(&self, _resource: &'r Resource) -> Option<Cow<'r, str>> {
        None
    }

    /// `--rm`: what the destination holds, each entry under the key `key_of` gives a
    /// resource of the run bound for the same place. Nothing listed: nothing is deleted.
    fn listing(&self) -> Result<Vec<Listed<'_>>> {
        Ok(Vec::new())
    }

    /// The key of the place `resource` goes to, as `listing` keys what is there.
    fn key_of<'r>(&self, _resource: &'r Resource) -> Option<Cow<'r, [u8]>> {
        None
    }

    /// The listed entries under `keys` as `--rm` names and deletes them, with their
    /// parents where the destination links them.
    fn stale_entries(&self, _keys: &[&[u8]]) -> Result<Vec<Stale>> {
        Ok(Vec::new())
    }

    /// Whether stale entries are deleted children first (they link their parents), or
    /// in the order listed.
    fn deletes_children_first(&self) -> bool {
        true
    }
}

/// An inventory shared with other threads (a directory's writers).
impl<T: Inventory + ?Sized> Inventory for std::sync::Arc<T> {
    fn survey<'s>(&'s self, kept: &'s [Resource]) -> BoxFuture<'s, Result<()>> {
        (**self).survey(kept)
    }

    fn target(&self, resource: &Resource) -> Result<String> {
        (**self).target(resource)
    }

    fn held(&self, resource: &Resource, text: Option<&str>) -> Result<Held> {
        (**self).held(resource, text)
    }

    fn holds(&self, resource: &Resource) -> Result<Option<bool>> {
        (**self).holds(resource)
    }

    fn kept(&self, resource: &Resource) -> Result<Option<Value>> {
        (**self).kept(resource)
    }

    fn comparable<'r>(&self, resource: &'r Resource) -> Cow<'r, Value> {
        (**self).comparable(resource)
    }

    fn source(&self, resource: &Resource) -> Option<String> {
        (**self).source(resource)
    }

    fn place<'r>(&self, resource: &'r Resource) -> Option<Cow<'r, str>> {
        (**self).place(resource)
    }

    fn listing(&self) -> Result<Vec<Listed<'_>>> {
        (**self).listing()
    }

    fn key_of<'r>(&self, resource: &'r Resource) -> Option<Cow<'r, [u8]>> {
        (**self).key_of(resource)
    }

    fn stale_entries(&self, keys: &[&[u8]]) -> Result<Vec<Stale>> {
        (**self).stale_entries(keys)
    }

    fn deletes_children_first(&self) -> bool {
        (**self).deletes_children_first()
    }
}

/// One entry a destination holds, for `--rm`.
#[derive(Debug, Clone)]
pub struct Listed<'a> {
    /// Its place, as `Inventory::key_of` names the place of a resource of the run.
    pub key: Cow<'a, [u8]>,
    /// Its type, where the destination knows it: an API loses only entries of the types
    /// the run writes; a directory any file the tool would read.
    pub kind: Option<&'a str>,
}

/// A destination entry that `--rm` would delete.
#[derive(Debug, Clone)]
pub struct Stale {
    /// The resource, where the destination's copy could be read as one.
    pub resource: Resource,
    pub target: String,
    /// Its serialised form, for `--diff`.
    pub text: Option<String>,
}

/// The one definition of "unchanged" (README, "What unchanged means").
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// `--ignore` paths and a profile's `readonly` fields: never compared.
    pub left_out: Vec<Vec<String>>,
    /// A server adds fields (ids, timestamps, links): a field only the destination
    /// has is no difference. Files hold exactly what was written, so there it is.
    pub destination_may_add: bool,
}

impl Comparison {
    /// The first field (dotted path) where the destination's copy differs from the
    /// origin's, or `None` when the resource is unchanged.
    pub fn first_difference(&self, origin: &Value, held: &Value) -> Option<String> {
        let left_out = &self.left_out;
        let (origin, held) = (
            without_fields(origin, left_out),
            without_fields(held, left_out),
        );
        let mut path = Vec::new();
        self.difference_at(&origin, &held, &mut path)
            .then(|| match path.is_empty() {
                true => "(the whole resource)".to_string(),
                false => path.join("."),
            })
    }

    /// Whether the values differ; on return `path` leads to the first difference.
    fn difference_at(&self, origin: &Value, held: &Value, path: &mut Vec<String>) -> bool {
        match (origin, held) {
            (Value::Object(origin), Value::Object(held)) => {
                for (key, value) in origin {
                    path.push(key.clone());
                    let differs = match held.get(key) {
                        Some(other) => self.difference_at(value, other, path),
                        None => true,
                    };
                    if differs {
                        return true;
                    }
                    path.pop();
                }
                if self.destination_may_add {
                    return false;
                }
                match held.keys().find(|key| !origin.contains_key(*key)) {
                    Some(extra) => {
                        path.push(extra.clone());
                        true
                    }
                    None => false,
                }
            }
            (Value::Array(origin), Value::Array(held)) => {
                for (position, (value, other)) in origin.iter().zip(held).enumerate() {
                    path.push(position.to_string());
                    if self.difference_at(value, other, path) {
                        return true;
                    }
                    path.pop();
                }
                if origin.len() != held.len() {
                    path.push(origin.len().min(held.len()).to_string());
                    return true;
                }
                false
            }
            (origin, held) => origin != held,
        }
    }
}

/// One resource, decided. A push holds one per resource until it is written: the rare
/// parts share one box (112 bytes a decision before, 40 now).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub op: Op,
    pub target: String,
    details: Option<Box<Details>>,
}

/// What few decisions have.
#[derive(Debug, Clone, Default, PartialEq)]
struct Details {
    /// The destination's copy, where it had one that differs (for `--diff`).
    before: Option<Value>,
    /// The first differing field of an update.
    difference: Option<String>,
    /// With `--create post`: the origin uri the target is cloned from.
    source: Option<String>,
}

impl Decision {
    /// The destination's copy, where it had one that differs.
    pub fn before(&self) -> Option<&Value> {
        self.details.as_ref()?.before.as_ref()
    }

    /// The first differing field of an update.
    pub fn difference(&self) -> Option<&str> {
        self.details.as_ref()?.difference.as_deref()
    }

    /// With `--create post`: the origin uri the target is cloned from.
    pub fn source(&self) -> Option<&str> {
        self.details.as_ref()?.source.as_deref()
    }
}

/// Pairs resources with an inventory under one comparison.
pub struct March<'i> {
    inventory: Box<dyn Inventory + 'i>,
    comparison: Comparison,
    /// False under `--no-compare`: what the destination holds is not read, so whatever is
    /// there is an update (counted by the answer), and only an empty target a create.
    compare: bool,
}

impl<'i> March<'i> {
    pub fn new(inventory: Box<dyn Inventory + 'i>, comparison: Comparison, compare: bool) -> Self {
        March {
            inventory,
            comparison,
            compare,
        }
    }

    /// The same march over another inventory (one the writers' threads share).
    pub fn over<'j>(&self, inventory: Box<dyn Inventory + 'j>) -> March<'j> {
        March {
            inventory,
            comparison: self.comparison.clone(),
            compare: self.compare,
        }
    }

    /// The resource as the destination would get it (what `--diff` shows).
    pub fn comparable<'r>(&self, resource: &'r Resource) -> Cow<'r, Value> {
        self.inventory.comparable(resource)
    }

    /// See `Inventory::survey`: called once the run's resources are known.
    pub async fn survey(&self, kept: &[Resource]) -> Result<()> {
        self.inventory.survey(kept).await
    }

    /// Create, update or unchanged for one resource; `text` as in `Inventory::held`.
    pub fn decide(&self, resource: &Resource, text: Option<&str>) -> Result<Decision> {
        let target = self.inventory.target(resource)?;
        let (op, before, difference) = self.compare(resource, text, &|| Ok(None))?;
        let source = self.inventory.source(resource);
        let details = (before.is_some() || difference.is_some() || source.is_some()).then(|| {
            Box::new(Details {
                before,
                difference,
                source,
            })
        });
        Ok(Decision {
            op,
            target,
            details,
        })
    }

    /// Only the operation, for a writer that needs nothing else (no target is made).
    pub fn op(&self, resource: &Resource, text: Option<&str>) -> Result<Op> {
        Ok(self.compare(resource, text, &|| Ok(None))?.0)
    }

    /// The operation for a resource kept without its body: `body` makes it, called only
    /// when the destination holds a copy to compare with.
    pub fn op_with_body(
        &self,
        resource: &Resource,
        body: &dyn Fn() -> Result<Option<Value>>,
    ) -> Result<Op> {
        Ok(self.compare(resource, None, body)?.0)
    }

    /// See `Inventory::kept`.
    pub fn kept(&self, resource: &Resource) -> Result<Option<Value>> {
        self.inventory.kept(resource)
    }

    /// Where the resource goes in the destination.
    pub fn target(&self, resource: &Resource) -> Result<String> {
        self.inventory.target(resource)
    }

    /// See `Inventory::place`.
    pub fn place<'r>(&self, resource: &'r Resource) -> Option<Cow<'r, str>> {
        self.inventory.place(resource)
    }

    /// The operation, what the destination held, and the first difference.
    fn compare(
        &self,
        resource: &Resource,
        text: Option<&str>,
        body: &dyn Fn() -> Result<Option<Value>>,
    ) -> Result<(Op, Option<Value>, Option<String>)> {
        let held = match self.compare {
            true => self.inventory.held(resource, text)?,
            false => match self.inventory.holds(resource)? {
                Some(false) => Held::Nothing,
                Some(true) | None => Held::Unseen,
            },
        };
        Ok(match held {
            Held::Nothing => (Op::Create, None, None),
            Held::Unseen => (Op::Update, None, Some("(not read)".to_string())),
            Held::Identical => (Op::Unchanged, None, None),
            Held::Copy(held) => {
                let whole;
                let resource = match body()? {
                    Some(body) => {
                        whole = Resource {
                            body: body.into(),
                            ..resource.clone()
                        };
                        &whole
                    }
                    None => resource,
                };
                let origin = self.inventory.comparable(resource);
                match self.comparison.first_difference(&origin, &held) {
                    None => (Op::Unchanged, None, None),
                    Some(field) => (Op::Update, Some(held), Some(field)),
                }
            }
        })
    }

    /// `--rm`: what the destination holds beyond `kept` (of the types `kept` has, where
    /// the destination knows types), in delete order: children before parents.
    pub fn stale(&self, kept: &[&Resource]) -> Result<Vec<Stale>> {
        let kinds: HashSet<&str> = kept.iter().map(|resource| &*resource.kind).collect();
        let wanted: HashSet<Cow<'_, [u8]>> = kept
            .iter()
            .filter_map(|resource| self.inventory.key_of(resource))
            .collect();
        let listing = self.inventory.listing()?;
        let keys: Vec<&[u8]> = listing
            .iter()
            .filter(|listed| listed.kind.is_none_or(|kind| kinds.contains(kind)))
            .filter(|listed| !wanted.contains(&listed.key))
            .map(|listed| &*listed.key)
            .collect();
        let stale = self.inventory.stale_entries(&keys)?;
        match self.inventory.deletes_children_first() {
            true => children_first(stale),
            false => Ok(stale),
        }
    }
}

/// How a write an API answered is counted, whatever was planned (the destination's read
/// may not have seen it, or `--no-compare` read nothing): a 201 created; so did any
/// success to a POST (JSON:API answers 204 to a client-chosen id); anything else updated.
pub fn answered_op(status: Option<u16>, posted: bool, succeeded: bool) -> Op {
    if status == Some(201) || (posted && succeeded) {
        Op::Create
    } else {
        Op::Update
    }
}

/// Stale entries ordered children before parents: the write order reversed.
fn children_first(stale: Vec<Stale>) -> Result<Vec<Stale>> {
    let resources: Vec<Resource> = stale.iter().map(|entry| entry.resource.clone()).collect();
    let order = DependencyGraph::new(&resources).write_order(&resources)?;
    let mut slots: Vec<Option<Stale>> = stale.into_iter().map(Some).collect();
    Ok(order
        .into_iter()
        .rev()
        .filter_map(|index| slots[index as usize].take())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> Vec<String> {
        text.split('.').map(String::from).collect()
    }

    #[test]
    fn a_decision_stays_small() {
        // A push holds one per resource: a million of them at 112 bytes was 112 MB.
        assert!(std::mem::size_of::<Decision>() <= 40);
    }

    #[test]
    fn servers_may_add_fields_files_may_not() {
        let origin = json!({"id": 1, "meta": {"a": 1}});
        let held = json!({"id": 1, "meta": {"a": 1, "b": 2}, "created": "now"});
        let server = Comparison {
            destination_may_add: true,
            ..Comparison::default()
        };
        assert_eq!(server.first_difference(&origin, &held), None);
        let file = Comparison::default();
        assert_eq!(
            file.first_difference(&origin, &held).as_deref(),
            Some("meta.b")
        );
    }

    #[test]
    fn the_first_differing_field_is_named() {
        let compare = Comparison::default();
        let origin = json!({"a": 1, "list": [1, {"x": "old"}]});
        let held = json!({"a": 1, "list": [1, {"x": "new"}]});
        assert_eq!(
            compare.first_difference(&origin, &held).as_deref(),
            Some("list.1.x")
        );
        let shorter = json!({"a": 1, "list": [1]});
        assert_eq!(
            compare.first_difference(&origin, &shorter).as_deref(),
            Some("list.1")
        );
        assert_eq!(
            compare
                .first_difference(&json!({"a": 2}), &json!({}))
                .as_deref(),
            Some("a")
        );
        assert_eq!(
            compare.first_difference(&json!(1), &json!(2)).as_deref(),
            Some("(the whole resource)")
        );
    }

    #[test]
    fn left_out_fields_are_not_compared() {
        let compare = Comparison {
            left_out: vec![path("meta.updatedAt"), path("url")],
            destination_may_add: false,
        };
        let origin = json!({"id": 1, "meta": {"updatedAt": 1}, "url": "a"});
        let held = json!({"id": 1, "meta": {"updatedAt": 2}});
        assert_eq!(compare.first_difference(&origin, &held), None);
    }
}
