//! What an API holds, for the march: the destination read once (same follow mode), its
//! bodies with links rebased onto it, so a resource compares equal across hosts.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use anyhow::Result;
use futures::future::BoxFuture;
use serde_json::Value;
use url::Url;

use super::crawl::{Crawl, StartPage};
use super::{collection_of, redact_url, HttpEndpoint};
use crate::endpoint::spec::{split_authority, url_key};
use crate::endpoint::Context;
use crate::plan::{Held, Inventory, Listed, Stale};
use crate::remap::{rewrite, RefIndex, SharedIdMap};
use crate::resource::Resource;

/// The destination's resources by normalised rebased uri. `read` is false where no start
/// was a document (an API root's HTML page and no collection listed yet): every resource
/// is then written, unseen.
pub(super) struct Snapshot {
    resources: HashMap<String, Resource>,
    read: bool,
}

/// A push: each resource at its own uri, rebased. The destination is read when the
/// run's resources are known (`survey`): its URL and every collection they go to.
pub(super) struct PushInventory<'a> {
    pub(super) endpoint: &'a HttpEndpoint,
    pub(super) context: &'a Context<'a>,
    /// False under `--no-compare`: the destination is read only for `--rm`.
    pub(super) compare: bool,
    pub(super) snapshot: OnceLock<Snapshot>,
}

impl PushInventory<'_> {
    /// What the destination URL and `collections` hold (a 404 holds nothing), links rebased.
    async fn snapshot(&self, collections: Vec<Url>) -> Result<Snapshot> {
        let (endpoint, context) = (self.endpoint, self.context);
        let mut resources = HashMap::new();
        let starts = std::iter::once(endpoint.options.url.clone())
            .chain(collections)
            .collect();
        let start_page = Crawl::of_destination(starts, endpoint.options.max_pages, context)
            .run(&mut |mut resource: Resource| {
                endpoint.rebase_links(&**context.dialect, &mut resource.body);
                if let Ok(url) = endpoint.rebase(&resource.uri) {
                    resources.insert(url_key(&url), resource);
                }
                Ok(())
            })
            .await?;
        Ok(Snapshot {
            resources,
            read: start_page == StartPage::Read,
        })
    }

    /// Reads the destination URL and `collections` once, unless nothing needs it.
    async fn survey_collections(&self, collections: HashSet<String>) -> Result<()> {
        if !(self.compare || self.context.run.remove) || self.snapshot.get().is_some() {
            return Ok(());
        }
        let mut urls: Vec<Url> = collections
            .iter()
            .filter_map(|collection| Url::parse(collection).ok())
            .collect();
        urls.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let snapshot = self.snapshot(urls).await?;
        let _ = self.snapshot.set(snapshot);
        Ok(())
    }

    /// What was read, where it can be compared with.
    fn compared(&self) -> Option<&Snapshot> {
        self.snapshot.get().filter(|snapshot| snapshot.read)
    }

    /// The collection (rebased) a resource's uri sits in.
    fn collection_of(&self, uri: &str) -> Option<String> {
        let url = self.endpoint.rebase(uri).ok()?;
        Some(collection_of(url.as_str()))
    }
}

impl Inventory for PushInventory<'_> {
    fn survey<'s>(&'s self, kept: &'s [Resource]) -> BoxFuture<'s, Result<()>> {
        let collections = kept
            .iter()
            .filter_map(|resource| self.collection_of(&resource.uri))
            .collect();
        Box::pin(self.survey_collections(collections))
    }

    fn target(&self, resource: &Resource) -> Result<String> {
        Ok(redact_url(&self.endpoint.rebase(&resource.uri)?))
    }

    /// Rebasing keeps an absolute uri's path and query: those are compared, unparsed.
    fn place<'r>(&self, resource: &'r Resource) -> Option<Cow<'r, str>> {
        Some(Cow::Owned(match path_and_query(&resource.uri) {
            Some(path) => format!("the destination path {path}"),
            None => redact_url(&self.endpoint.rebase(&resource.uri).ok()?),
        }))
    }

    fn held(&self, resource: &Resource, _text: Option<&str>) -> Result<Held> {
        let Some(snapshot) = self.compared() else {
            return Ok(Held::Unseen);
        };
        // An empty destination (a first push) holds nothing: no uri to rebase and key.
        if snapshot.resources.is_empty() {
            return Ok(Held::Nothing);
        }
        let key = self.endpoint.key_of(&resource.uri);
        Ok(match key.and_then(|key| snapshot.resources.get(&key)) {
            Some(held) => Held::Copy(Value::clone(&held.body)),
            None => Held::Nothing,
        })
    }

    fn comparable<'r>(&self, resource: &'r Resource) -> Cow<'r, Value> {
        let mut body = Value::clone(&resource.body);
        self.endpoint
            .rebase_links(&**self.context.dialect, &mut body);
        Cow::Owned(body)
    }

    /// What the destination URL and the surveyed collections hold, by rebased uri.
    fn listing(&self) -> Result<Vec<Listed<'_>>> {
        let Some(snapshot) = self.snapshot.get() else {
            return Ok(Vec::new());
        };
        Ok(snapshot
            .resources
            .iter()
            .map(|(key, resource)| Listed {
                key: Cow::Borrowed(key.as_bytes()),
                kind: Some(&resource.kind),
            })
            .collect())
    }

    fn key_of<'r>(&self, resource: &'r Resource) -> Option<Cow<'r, [u8]>> {
        let key = self.endpoint.key_of(&resource.uri)?;
        Some(Cow::Owned(key.into_bytes()))
    }

    fn stale_entries(&self, keys: &[&[u8]]) -> Result<Vec<Stale>> {
        let Some(snapshot) = self.snapshot.get() else {
            return Ok(Vec::new());
        };
        keys.iter()
            .filter_map(|key| snapshot.resources.get(std::str::from_utf8(key).ok()?))
            .map(|resource| {
                Ok(Stale {
                    target: redact_url(&self.endpoint.rebase(&resource.uri)?),
                    text: Some(self.context.run.format.serialize(&resource.body)),
                    resource: resource.clone(),
                })
            })
            .collect()
    }
}

/// The path and query an absolute uri keeps when rebased (`/` when it has none), or `None`.
fn path_and_query(uri: &str) -> Option<&str> {
    let (_, tail) = split_authority(uri)?;
    let tail = tail.split('#').next().unwrap_or_default();
    Some(if tail.is_empty() { "/" } else { tail })
}

/// `--create post`: a resource in the id map is held at its new uri, any other is new.
pub(super) struct CloneInventory<'a> {
    pub(super) push: PushInventory<'a>,
    pub(super) map: SharedIdMap,
    /// `--ref` fields resolved over the run's resources, as the clone will rewrite them.
    pub(super) refs: OnceLock<RefIndex>,
}

impl CloneInventory<'_> {
    fn new_uri(&self, resource: &Resource) -> Option<String> {
        self.map.lock().get(&resource.uri).map(str::to_string)
    }
}

impl Inventory for CloneInventory<'_> {
    /// The collections of the clones made before, and those new ones are posted to.
    fn survey<'s>(&'s self, kept: &'s [Resource]) -> BoxFuture<'s, Result<()>> {
        let refs = &self.push.context.run.refs;
        let _ = self.refs.set(RefIndex::new(refs, kept));
        let collections = kept
            .iter()
            .filter_map(|resource| match self.new_uri(resource) {
                Some(new_uri) => Some(collection_of(&new_uri)),
                None => self.push.collection_of(&resource.uri),
            })
            .collect();
        Box::pin(self.push.survey_collections(collections))
    }

    fn target(&self, resource: &Resource) -> Result<String> {
        let endpoint = self.push.endpoint;
        Ok(match self.new_uri(resource) {
            Some(new_uri) => new_uri,
            None => redact_url(&endpoint.rebase(&collection_of(&resource.uri))?),
        })
    }

    /// A clone made before is there; anything else is created.
    fn holds(&self, resource: &Resource) -> Result<Option<bool>> {
        Ok(Some(self.new_uri(resource).is_some()))
    }

    fn held(&self, resource: &Resource, _text: Option<&str>) -> Result<Held> {
        let Some(new_uri) = self.new_uri(resource) else {
            return Ok(Held::Nothing);
        };
        let Some(snapshot) = self.push.compared() else {
            return Ok(Held::Unseen);
        };
        let key = self.push.endpoint.key_of(&new_uri);
        Ok(match key.and_then(|key| snapshot.resources.get(&key)) {
            Some(held) => Held::Copy(Value::clone(&held.body)),
            None => Held::Unseen,
        })
    }

    /// The body as the clone would send it: references and its own id mapped.
    fn comparable<'r>(&self, resource: &'r Resource) -> Cow<'r, Value> {
        let no_refs;
        let refs = match self.refs.get() {
            Some(refs) => refs,
            None => {
                no_refs = RefIndex::new(&[], &[]);
                &no_refs
            }
        };
        let new_uri = self.new_uri(resource);
        let dialect = &**self.push.context.dialect;
        let map = self.map.lock();
        let mut body = rewrite(&resource.body, new_uri.as_deref(), &map, refs, dialect);
        self.push
            .endpoint
            .rebase_links(&**self.push.context.dialect, &mut body);
        Cow::Owned(body)
    }

    fn source(&self, resource: &Resource) -> Option<String> {
        Some(resource.uri.to_string())
    }
}
