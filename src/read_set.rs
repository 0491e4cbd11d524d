//! What a run keeps of the resources it reads, in read order: identities with every uri
//! and type stored once (a child's parent link shares its parent's uri), and the later
//! origin's copy replacing an earlier one of the same uri (layering).

use std::collections::HashSet;

use crate::resource::{Resource, Shared};
use crate::text_index::{position, TextIndex};

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
}

impl ReadSet {
    /// Point the resource's uri, type and parent links at the run's one copy of each.
    pub fn share_text(&mut self, resource: &mut Resource) {
        resource.uri = self.uri(&resource.uri);
        resource.kind = match self.kinds.get(&resource.kind) {
            Some(kind) => kind.clone(),
            None => {
                self.kinds.insert(resource.kind.clone());
                resource.kind.clone()
            }
        };
        for parent in &mut resource.parents {
            *parent = self.uri(parent);
        }
    }

    fn uri(&mut self, uri: &Shared) -> Shared {
        let (resources, named) = (&self.resources, &mut self.named);
        let uris = &mut self.uris;
        let text_of = |slot: u32| text_at(resources, named, slot);
        match uris.get(uri, text_of) {
            Some(slot) if slot & NAMED != 0 => named[(slot & !NAMED) as usize].clone(),
            Some(slot) => resources[slot as usize].uri.clone(),
            None => {
                named.push(uri.clone());
                let slot = NAMED | position(named.len() - 1);
                uris.insert(uri, slot, |slot| text_at(resources, named, slot));
                uri.clone()
            }
        }
    }

    /// Keep a resource (after `share_text`); one with a uri already read replaces it.
    pub fn add(&mut self, resource: Resource, selected: bool) {
        let (resources, named) = (&self.resources, &self.named);
        let uris = &mut self.uris;
        let next = position(resources.len());
        match uris.get_mut(&resource.uri, |slot| text_at(resources, named, slot)) {
            Some(slot) if *slot & NAMED == 0 => {
                let at = *slot as usize;
                (self.resources[at], self.chosen[at]) = (resource, selected);
                return;
            }
            Some(slot) => *slot = next,
            None => uris.insert(&resource.uri, next, |slot| text_at(resources, named, slot)),
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
fn text_at<'a>(resources: &'a [Resource], named: &'a [Shared], slot: u32) -> &'a str {
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

    #[test]
    fn a_later_copy_replaces_an_earlier_one_in_place() {
        let mut set = ReadSet::default();
        for (uri, name, selected) in [
            ("/a", "first", true),
            ("/b", "b", true),
            ("/a", "second", false),
        ] {
            let mut read = resource(uri, &["/a"], name);
            set.share_text(&mut read);
            set.add(read, selected);
        }
        let (resources, chosen) = set.into_parts();
        let names: Vec<&str> = resources
            .iter()
            .map(|r| r.body["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["second", "b"]);
        assert_eq!(chosen, [false, true]);
    }
}
