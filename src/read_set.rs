//! What a run keeps of the resources it reads, in read order: identities with every uri
//! and type stored once (a child's parent link shares its parent's uri), and the later
//! origin's copy replacing an earlier one of the same uri (layering).

use std::collections::HashSet;

use crate::resource::{Resource, Shared};
use crate::text_index::{position, TextHash, TextIndex};

/// Marks a slot of the uri index that points into `named`, not `resources`.
const NAMED: u32 = 1 << 31;

#[derive(Default)]
pub struct ReadSet {
    resources: Vec<Resource>,
    /// Whether each resource passed the filters (decided while its body was at hand).
    chosen: Vec<bool>,
    /// Uris named as parents before (or without) being read.
    named: Vec<Shared>,
    /// Every uri seen: a position in `resources`, or `NAMED |` a position in `named`.
    uris: TextIndex,
    kinds: HashSet<Shared>,
    /// The type of the resource before: a read brings many of one type in a row.
    last_kind: Option<Shared>,
}

/// A resource's uri hashed by `share_text`, for the `add` that follows it.
pub struct UriHash(TextHash);

impl ReadSet {
    /// Point the resource's uri, type and parent links at the run's one copy of each.
    pub fn share_text(&mut self, resource: &mut Resource) -> UriHash {
        for parent in &mut resource.parents {
            *parent = self.named_uri(parent);
        }
        resource.kind = self.kind(&resource.kind);
        let hash = self.uris.hash(&resource.uri);
        if let Some(slot) = self.slot(hash, &resource.uri) {
            resource.uri = self.text_at(slot).clone();
        }
        UriHash(hash)
    }

    /// The run's copy of a uri a resource names, kept from now on.
    fn named_uri(&mut self, uri: &Shared) -> Shared {
        let hash = self.uris.hash(uri);
        match self.slot(hash, uri) {
            Some(slot) => self.text_at(slot).clone(),
            None => {
                self.store(hash, NAMED | position(self.named.len()));
                self.named.push(uri.clone());
                uri.clone()
            }
        }
    }

    fn kind(&mut self, kind: &Shared) -> Shared {
        if self.last_kind.as_deref() != Some(&**kind) {
            let shared = match self.kinds.get(kind) {
                Some(known) => known.clone(),
                None => {
                    self.kinds.insert(kind.clone());
                    kind.clone()
                }
            };
            self.last_kind = Some(shared);
        }
        self.last_kind.clone().expect("set above")
    }

    fn slot(&self, hash: TextHash, uri: &str) -> Option<u32> {
        let (resources, named) = (&self.resources, &self.named);
        self.uris
            .get_hashed(hash, uri, |slot| text_at(resources, named, slot))
    }

    fn store(&mut self, hash: TextHash, slot: u32) {
        let (resources, named) = (&self.resources, &self.named);
        let text_of = |slot| &**text_at(resources, named, slot);
        self.uris.insert_hashed(hash, slot, text_of);
    }

    fn text_at(&self, slot: u32) -> &Shared {
        text_at(&self.resources, &self.named, slot)
    }

    /// Keep a resource (after `share_text`, which gave `hash`); one with a uri already
    /// read replaces it.
    pub fn add(&mut self, resource: Resource, hash: UriHash, selected: bool) {
        let UriHash(hash) = hash;
        debug_assert_eq!(hash, self.uris.hash(&resource.uri));
        let next = position(self.resources.len());
        match self.slot(hash, &resource.uri) {
            Some(slot) if slot & NAMED == 0 => {
                let at = slot as usize;
                (self.resources[at], self.chosen[at]) = (resource, selected);
                return;
            }
            Some(_) => {
                let (resources, named) = (&self.resources, &self.named);
                let text_of = |slot| &**text_at(resources, named, slot);
                self.uris.renumber(hash, &resource.uri, next, text_of);
            }
            None => self.store(hash, next),
        }
        self.resources.push(resource);
        self.chosen.push(selected);
    }

    /// The resources in read order and whether each passed the filters.
    pub fn into_parts(self) -> (Vec<Resource>, Vec<bool>) {
        (self.resources, self.chosen)
    }
}

/// The uri a slot of the index stands for.
fn text_at<'a>(resources: &'a [Resource], named: &'a [Shared], slot: u32) -> &'a Shared {
    match slot & NAMED {
        0 => &resources[slot as usize].uri,
        _ => &named[(slot & !NAMED) as usize],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(uri: &str, parents: &[&str], name: &str) -> Resource {
        Resource {
            uri: uri.into(),
            id: json!(1).into(),
            kind: "player".into(),
            parents: parents.iter().map(|&p| p.into()).collect(),
            references: Default::default(),
            body: json!({ "name": name }).into(),
        }
    }

    #[test]
    fn parents_share_the_uri_of_the_resource_they_name() {
        let mut set = ReadSet::default();
        let mut child = resource("/player/1", &["/team/1"], "a");
        set.share_text(&mut child);
        let mut parent = resource("/team/1", &[], "t");
        set.share_text(&mut parent);
        assert!(Shared::ptr_eq(&child.parents[0], &parent.uri));
        let mut sibling = resource("/player/2", &[], "b");
        set.share_text(&mut sibling);
        assert!(Shared::ptr_eq(&sibling.kind, &child.kind));
    }

    /// Reads of `(uri, parents, name, selected)` kept in turn; the resources kept.
    fn keep_all(reads: &[(&str, &[&str], &str, bool)]) -> (Vec<Resource>, Vec<bool>) {
        let mut set = ReadSet::default();
        for &(uri, parents, name, selected) in reads {
            let mut read = resource(uri, parents, name);
            let hash = set.share_text(&mut read);
            set.add(read, hash, selected);
        }
        set.into_parts()
    }

    fn names(resources: &[Resource]) -> Vec<&str> {
        resources
            .iter()
            .map(|r| r.body["name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn a_later_copy_replaces_an_earlier_one_in_place() {
        let (resources, chosen) = keep_all(&[
            ("/a", &["/a"], "first", true),
            ("/b", &["/a"], "b", true),
            ("/a", &["/a"], "second", false),
        ]);
        assert_eq!(names(&resources), ["second", "b"]);
        assert_eq!(chosen, [false, true]);
    }

    #[test]
    fn a_uri_named_as_a_parent_then_read_twice_is_kept_once() {
        let (resources, _) = keep_all(&[
            ("/player/1", &["/team/1"], "p", true),
            ("/team/1", &[], "first", true),
            ("/team/1", &[], "second", true),
        ]);
        assert_eq!(names(&resources), ["p", "second"]);
        assert!(Shared::ptr_eq(&resources[0].parents[0], &resources[1].uri));
    }
}
