//! What an API holds, for the march: the destination read once (same follow mode), its
//! bodies with links rebased onto it, so a resource compares equal across hosts.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use anyhow::Result;
use serde_json::Value;

use super::crawl::{normalized_key, Crawl, StartPage};
use super::write::collection_of;
use super::{redact_url, HttpEndpoint};
use crate::endpoint::Context;
use crate::format::Format;
use crate::graph::DependencyGraph;
use crate::plan::{Held, Inventory, Stale};
use crate::remap::{rewrite, IdMap, RefIndex};
use crate::resource::Resource;
use crate::schema::Dialect;

/// The destination's resources by normalised rebased uri; `read` is false under `--no-compare`
/// and where the destination URL is not a document (an API root's HTML page), and then
/// every resource is written, unseen.
pub(super) struct Snapshot {
    resources: HashMap<String, Resource>,
    read: bool,
}

impl HttpEndpoint {
    /// Everything the destination URL holds (a 404 there holds nothing), links rebased.
    pub(super) async fn snapshot(&self, context: &Context<'_>) -> Result<Snapshot> {
        let mut resources = HashMap::new();
        let start_page = Crawl::of_destination(&self.url, context)
            .run(&mut |mut resource: Resource| {
                self.rebase_links(context.dialect, &mut resource.body);
                if let Ok(url) = self.rebase(&resource.uri) {
                    resources.insert(normalized_key(&url), resource);
                }
                Ok(())
            })
            .await?;
        Ok(Snapshot {
            resources,
            read: start_page == StartPage::Read,
        })
    }

    /// Every link of `body` rebased onto this endpoint, as the destination would hold it.
    fn rebase_links(&self, dialect: &dyn Dialect, body: &mut Value) {
        dialect.map_links(body, &mut |href| {
            self.rebase(href).ok().map(|url| url.to_string())
        });
    }

    fn key_of(&self, uri: &str) -> Option<String> {
        self.rebase(uri).ok().map(|url| normalized_key(&url))
    }
}

impl Snapshot {
    pub(super) fn unread() -> Snapshot {
        Snapshot {
            resources: HashMap::new(),
            read: false,
        }
    }

    /// Kept for `--rm` only (`--no-compare`): every resource counts as unseen.
    pub(super) fn compared(self, compare: bool) -> Snapshot {
        Snapshot {
            read: self.read && compare,
            ..self
        }
    }
}

/// A push: each resource at its own uri, rebased.
pub(super) struct PushInventory<'a> {
    pub(super) endpoint: &'a HttpEndpoint,
    pub(super) dialect: &'a dyn Dialect,
    pub(super) format: Format,
    pub(super) snapshot: Snapshot,
}

impl Inventory for PushInventory<'_> {
    fn target(&self, resource: &Resource) -> Result<String> {
        Ok(redact_url(&self.endpoint.rebase(&resource.uri)?))
    }

    fn held(&self, resource: &Resource, _text: Option<&str>) -> Result<Held> {
        if !self.snapshot.read {
            return Ok(Held::Unseen);
        }
        let key = self.endpoint.key_of(&resource.uri);
        Ok(
            match key.and_then(|key| self.snapshot.resources.get(&key)) {
                Some(held) => Held::Copy(held.body.clone()),
                None => Held::Nothing,
            },
        )
    }

    fn comparable<'r>(&self, resource: &'r Resource) -> Cow<'r, Value> {
        let mut body = resource.body.clone();
        self.endpoint.rebase_links(self.dialect, &mut body);
        Cow::Owned(body)
    }

    /// Destination resources of the types being written that no origin holds, children
    /// before parents.
    fn stale(&self, kept: &[&Resource]) -> Result<Vec<Stale>> {
        let kinds: HashSet<&str> = kept.iter().map(|r| r.kind.as_str()).collect();
        let wanted: HashSet<String> = kept
            .iter()
            .filter_map(|r| self.endpoint.key_of(&r.uri))
            .collect();
        let stale: Vec<Resource> = self
            .snapshot
            .resources
            .iter()
            .filter(|(key, resource)| {
                kinds.contains(resource.kind.as_str()) && !wanted.contains(*key)
            })
            .map(|(_, resource)| resource.clone())
            .collect();
        let graph = DependencyGraph::new(&stale);
        let mut order = graph.write_order(&stale)?;
        order.reverse();
        order
            .into_iter()
            .map(|index| {
                let resource = stale[index].clone();
                Ok(Stale {
                    target: redact_url(&self.endpoint.rebase(&resource.uri)?),
                    text: Some(self.format.serialize(&resource.body)),
                    resource,
                })
            })
            .collect()
    }
}

/// `--create post`: a resource in the id map is held at its new uri, any other is new.
pub(super) struct CloneInventory<'a> {
    pub(super) push: PushInventory<'a>,
    pub(super) map: IdMap,
}

impl CloneInventory<'_> {
    fn new_uri(&self, resource: &Resource) -> Option<&str> {
        self.map.get(&resource.uri)
    }
}

impl Inventory for CloneInventory<'_> {
    fn target(&self, resource: &Resource) -> Result<String> {
        let endpoint = self.push.endpoint;
        Ok(match self.new_uri(resource) {
            Some(new_uri) => new_uri.to_string(),
            None => redact_url(&endpoint.rebase(&collection_of(&resource.uri))?),
        })
    }

    fn held(&self, resource: &Resource, _text: Option<&str>) -> Result<Held> {
        let Some(new_uri) = self.new_uri(resource) else {
            return Ok(Held::Nothing);
        };
        if !self.push.snapshot.read {
            return Ok(Held::Unseen);
        }
        let key = self.push.endpoint.key_of(new_uri);
        Ok(
            match key.and_then(|key| self.push.snapshot.resources.get(&key)) {
                Some(held) => Held::Copy(held.body.clone()),
                None => Held::Unseen,
            },
        )
    }

    /// The body as the clone would send it: references and its own id mapped.
    fn comparable<'r>(&self, resource: &'r Resource) -> Cow<'r, Value> {
        let no_refs = RefIndex::new(&[], &[]);
        let mut body = rewrite(&resource.body, self.new_uri(resource), &self.map, &no_refs);
        self.push
            .endpoint
            .rebase_links(self.push.dialect, &mut body);
        Cow::Owned(body)
    }

    fn source(&self, resource: &Resource) -> Option<String> {
        Some(resource.uri.clone())
    }
}
