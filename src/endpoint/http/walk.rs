//! Reading an API through an `--api` profile: each type in parents-first order from its
//! collection path, a nested path once per parent resource (up to `--concurrency` at once),
//! every page by the type's pagination rule.

use std::collections::{HashMap, HashSet};

use anyhow::{Context as _, Result};
use futures::stream::{self, StreamExt, TryStreamExt};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::crawl::{member_value, parse_page};
use super::{redact_url, Reply, Request};
use crate::endpoint::options::HttpOptions;
use crate::endpoint::{Context, Found};
use crate::exit_code::remote;
use crate::format::json_page::Members;
use crate::resource::Resource;
use crate::schema::profile::{fill, placeholders, PageAnswer, Pages, Profile, TypeProfile};

/// The fields of one read resource that the paths of its children may need.
type Fields = HashMap<String, String>;

/// One walk over the API rooted at `root`.
pub(super) struct Walk<'a> {
    root: Url,
    /// `--limit` (sent through a type's `size`) and `--max-pages`.
    limit: u64,
    max_pages: u64,
    context: &'a Context<'a>,
    profile: &'a Profile,
    /// Types to read: the chosen ones and their parents (all types by default).
    types: HashSet<String>,
    /// Per type read so far, the fields its children's paths are filled from.
    read: HashMap<String, Vec<Fields>>,
}

impl<'a> Walk<'a> {
    /// A walk over the API at `options.url`, the endpoint's own.
    pub(super) fn new(
        profile: &'a Profile,
        options: &HttpOptions,
        context: &'a Context<'a>,
    ) -> Self {
        Walk {
            root: options.url.clone(),
            limit: options.limit,
            max_pages: options.max_pages,
            context,
            profile,
            types: profile.needed(&context.run.types),
            read: HashMap::new(),
        }
    }

    /// Every member of every type, handed on in parents-first order of types.
    pub(super) async fn run(mut self, found: &mut Found<'_>) -> Result<()> {
        for kind in self.profile.parents_first() {
            if !self.types.contains(&kind.name) {
                continue;
            }
            let urls = self.collection_urls(kind)?;
            let concurrency = self.context.run.concurrency.max(1);
            let pages: Vec<Vec<Page>> = stream::iter(urls)
                .map(|url| self.read_collection(kind, url))
                .buffered(concurrency)
                .try_collect()
                .await?;
            // Only a type that fills another's path keeps fields of each resource.
            let fills_paths = self
                .profile
                .types
                .values()
                .any(|child| path_parent(child) == Some(kind.name.as_str()));
            let mut fields = Vec::new();
            // Pages are held as text; each member is parsed when it is handed on.
            for page in pages.into_iter().flatten() {
                for (position, member) in page.members.into_iter().enumerate() {
                    let member = member_value(member, position, &page.reply)?;
                    let resource = member_resource(kind, member, &page.reply, position)?;
                    if fills_paths {
                        fields.push(fields_of(kind, &resource.body, self.profile));
                    }
                    found(resource)?;
                }
            }
            self.read.insert(kind.name.clone(), fields);
        }
        Ok(())
    }

    /// The collection URLs of a type: its path, or one per parent resource read when the
    /// path has placeholders (filled from that parent: its id, then its own fields).
    fn collection_urls(&self, kind: &TypeProfile) -> Result<Vec<Url>> {
        let names = placeholders(&kind.path);
        let Some(last) = names.last() else {
            return Ok(vec![self.join(&kind.path)?]);
        };
        let parent_type = path_parent(kind).unwrap_or_default();
        let mut urls = Vec::new();
        for parent in self.read.get(parent_type).into_iter().flatten() {
            let filled = fill(&kind.path, &|name| match name == *last {
                true => parent.get("id").cloned(),
                false => parent.get(name).cloned(),
            });
            if let Some(path) = filled {
                urls.push(self.join(&path)?);
            }
        }
        Ok(urls)
    }

    /// `root` + `/` + `path`: joined, not resolved (SPEC section 8).
    fn join(&self, path: &str) -> Result<Url> {
        join_path(&self.root, path)
    }

    /// Every page of one collection URL, in order.
    async fn read_collection(&self, kind: &TypeProfile, first: Url) -> Result<Vec<Page>> {
        let mut pages = Pages::start(kind, first, self.limit);
        let mut read = Vec::new();
        while let Some(url) = pages.next_url() {
            if pages.fetched() as u64 > self.max_pages {
                return Err(remote(format!(
                    "more than {} pages read from {}; stopping (raise --max-pages if this is expected)",
                    self.max_pages,
                    redact_url(&url)
                )));
            }
            let missing_ends = pages.fetched() > 1 && pages.ends_on_404();
            let Some((page, rest)) = self.fetch(kind, &url, missing_ends).await? else {
                break;
            };
            if page.members.is_empty() {
                break;
            }
            let answer = PageAnswer {
                url: &page.reply.url,
                headers: &page.reply.headers,
            };
            pages.advance(page.members.len(), &rest, &answer);
            read.push(page);
        }
        Ok(read)
    }

    /// One page and the rest of its body (for a `next` in it), or `None` for a 404 that
    /// ends the chain.
    async fn fetch(
        &self,
        kind: &TypeProfile,
        url: &Url,
        missing_ends: bool,
    ) -> Result<Option<(Page, Value)>> {
        let request = Request {
            media_type: kind.media_type(),
            ..Request::new(Method::GET, url.clone())
        };
        let reply = self
            .context
            .http
            .send(&request)
            .await
            .map_err(|failure| remote(format!("reading {}: {failure}", redact_url(url))))?;
        if reply.status == 404 && missing_ends {
            return Ok(None);
        }
        if !reply.is_success() {
            return Err(remote(format!(
                "reading {}: {} (after {} attempt(s))",
                redact_url(url),
                reply.describe_status(),
                reply.attempts
            )));
        }
        let mut page = parse_page(&reply, &kind.member_places())?;
        let taken = kind
            .take_members(&mut page.rest)
            .map_err(|reason| remote(format!("reading {}: {reason}", redact_url(url))))?;
        let members = page.members(taken);
        Ok(Some((Page { members, reply }, page.rest)))
    }
}

/// A fetched page: its members (text where the body was JSON) and the reply holding them.
struct Page {
    members: Members,
    reply: Reply,
}

/// A member as a resource, or the run fails naming the URL and its position.
fn member_resource(
    kind: &TypeProfile,
    member: Value,
    reply: &Reply,
    position: usize,
) -> Result<Resource> {
    match kind.identity(&member) {
        Ok(identity) => Ok(Resource::new(identity, member)),
        Err(reason) => Err(remote(format!(
            "reading {}: member {} of type {}: {reason}",
            redact_url(&reply.url),
            position + 1,
            kind.name
        ))),
    }
}

/// The type whose resources fill `kind`'s path: the parent named by its last placeholder.
fn path_parent(kind: &TypeProfile) -> Option<&str> {
    let names = placeholders(&kind.path);
    let last = names.last()?;
    kind.parents
        .iter()
        .find(|(field, _)| field == last)
        .map(|(_, parent)| parent.as_str())
}

/// The id and the fields a child's path may need, as text.
fn fields_of(kind: &TypeProfile, member: &Value, profile: &Profile) -> Fields {
    let mut fields = Fields::new();
    if let Some(id) = kind.id_of(member) {
        fields.insert("id".into(), id);
    }
    let wanted: HashSet<&str> = profile
        .types
        .values()
        .flat_map(|t| placeholders(&t.path))
        .collect();
    for name in wanted {
        if let Some(value) = kind.field(member, name) {
            fields.entry(name.to_string()).or_insert(value);
        }
    }
    fields
}

/// `root` + `/` + `path` (one slash between them), query kept.
pub(super) fn join_path(root: &Url, path: &str) -> Result<Url> {
    let base = root.as_str().split(['?', '#']).next().unwrap_or_default();
    let text = format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    Url::parse(&text).with_context(|| format!("profile path {path:?} on {}", redact_url(root)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_with_one_slash() {
        let root = Url::parse("http://h/api").unwrap();
        assert_eq!(
            join_path(&root, "teams/").unwrap().as_str(),
            "http://h/api/teams/"
        );
        let root = Url::parse("http://h/api/").unwrap();
        assert_eq!(
            join_path(&root, "posts?_sort=id").unwrap().as_str(),
            "http://h/api/posts?_sort=id"
        );
    }
}
