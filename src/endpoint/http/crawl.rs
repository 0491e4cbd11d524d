//! Reading an API: a crawl from a starting URL that fetches every linked page once, each
//! GET on its own task, handing resources on as pages arrive.

use std::collections::HashSet;

use anyhow::Result;
use futures::stream::{FuturesUnordered, StreamExt};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::{client, links, redact_url, Reply, Request};
use crate::endpoint::{Context, Found};
use crate::endpoint_spec::url_key;
use crate::exit_code::remote;
use crate::format::json_read::json_document;
use crate::format::yaml::YamlDocuments;
use crate::resource::Resource;
use crate::schema::{is_page_relation, Dialect, FollowMode, IdentityError, Link};

/// One traversal from a starting URL: every distinct URL fetched at most once.
pub(super) struct Crawl<'a> {
    starts: Vec<Url>,
    context: &'a Context<'a>,
    schema: &'a dyn Dialect,
    follow: FollowMode,
    seen_urls: HashSet<String>,
    /// 64-bit hashes of the uris handed on: a pull of many resources keeps 8 bytes each.
    seen_resources: HashSet<u64>,
    pages: u64,
    /// A destination's start URL may answer 404 (a collection not made yet) or a page that
    /// is not a document (an API root's HTML home page): it then holds nothing readable.
    destination: bool,
}

/// What one fetched page yields: resources and the links to follow next.
struct Harvest {
    resources: Vec<Resource>,
    links: Vec<Link>,
}

impl<'a> Crawl<'a> {
    /// A crawl of an origin: its start must answer a document.
    pub(super) fn new(start: &Url, context: &'a Context<'a>) -> Self {
        Crawl::with_starts(vec![start.clone()], context, false)
    }

    /// A crawl of a destination from several starts (its URL and the collections the run
    /// writes to): a start answering 404 holds nothing yet (a collection the push will
    /// create), where for an origin it fails the run.
    pub(super) fn of_destination(starts: Vec<Url>, context: &'a Context<'a>) -> Self {
        Crawl::with_starts(starts, context, true)
    }

    fn with_starts(starts: Vec<Url>, context: &'a Context<'a>, destination: bool) -> Self {
        Crawl {
            starts,
            context,
            schema: &**context.dialect,
            follow: context.config.follow,
            seen_urls: HashSet::new(),
            seen_resources: HashSet::new(),
            pages: 0,
            destination,
        }
    }

    /// Hands on every resource found; answers whether the start URL was a readable document.
    pub(super) async fn run(mut self, found: &mut Found<'_>) -> Result<StartPage> {
        let mut pending = FuturesUnordered::new();
        for start in self.starts.clone() {
            if self.seen_urls.insert(url_key(&start)) {
                pending.push(self.fetch(start));
            }
        }
        let mut documents = 0;
        let mut not_documents = 0;
        while let Some(joined) = pending.next().await {
            let (url, result) =
                joined.map_err(|error| anyhow::anyhow!("a read task failed: {error}"))?;
            let Some(reply) = self.check_reply(&url, result)? else {
                continue;
            };
            let document = match parse_body(&reply) {
                Err(_) if self.destination && self.is_start(&url) && !is_document(&reply) => {
                    not_documents += 1;
                    continue;
                }
                parsed => parsed?,
            };
            documents += 1;
            let harvest = harvest(
                (self.schema, self.follow, !self.destination),
                document,
                &reply,
            )?;
            // Start the next fetches before handing resources on, so the network
            // works while the destination takes them.
            for link in harvest.links {
                let Ok(target) = reply.url.join(&link.href) else {
                    eprintln!(
                        "resource-sync: warning: ignoring invalid link {:?} in {}",
                        link.href,
                        redact_url(&url)
                    );
                    continue;
                };
                if self.seen_urls.insert(url_key(&target)) {
                    self.pages += 1;
                    if self.pages >= self.context.config.http.max_pages {
                        return Err(remote(format!(
                            "more than {} pages read from {}; stopping (raise --max-pages if this is expected)",
                            self.context.config.http.max_pages,
                            redact_url(&self.starts[0])
                        )));
                    }
                    pending.push(self.fetch(target));
                }
            }
            for resource in harvest.resources {
                if self.seen_resources.insert(uri_hash(&resource.uri)) {
                    found(resource)?;
                }
            }
        }
        Ok(match documents == 0 && not_documents > 0 {
            true => StartPage::NotADocument,
            false => StartPage::Read,
        })
    }

    fn is_start(&self, url: &Url) -> bool {
        self.starts.contains(url)
    }

    /// A GET running on its own task, so it proceeds while this crawl processes a page.
    fn fetch(
        &self,
        url: Url,
    ) -> tokio::task::JoinHandle<(Url, Result<Reply, client::TransportFailure>)> {
        let http = self.context.http.clone();
        tokio::spawn(async move {
            let request = Request {
                method: Method::GET,
                url: url.clone(),
                body: None,
            };
            let result = http.send(&request).await;
            (url, result)
        })
    }

    /// A failed start URL fails the run; a 404 on a followed link is only a warning.
    fn check_reply(
        &self,
        url: &Url,
        result: Result<Reply, client::TransportFailure>,
    ) -> Result<Option<Reply>> {
        let reply =
            result.map_err(|failure| remote(format!("reading {}: {failure}", redact_url(url))))?;
        if reply.is_success() {
            return Ok(Some(reply));
        }
        if reply.status == 404 && self.is_start(url) && self.destination {
            return Ok(None);
        }
        if reply.status == 404 && !self.is_start(url) {
            eprintln!(
                "resource-sync: warning: {} answered 404 Not Found; link skipped",
                redact_url(url)
            );
            return Ok(None);
        }
        Err(remote(format!(
            "reading {}: {} (after {} attempt(s))",
            redact_url(url),
            reply.describe_status(),
            reply.attempts
        )))
    }
}

/// Resources and links of one page. Members are moved out of a container (never
/// copied); a page that is itself a resource keeps its members in its body. A member
/// with an `id` that is still no resource (a broken self link) fails the page.
fn harvest(
    (schema, follow, strict): (&dyn Dialect, FollowMode, bool),
    mut document: Value,
    reply: &Reply,
) -> Result<Harvest> {
    let is_resource = schema.identity(&document).is_ok();
    let members: Vec<Value> = match &mut document {
        Value::Array(items) => std::mem::take(items),
        _ if is_resource => schema.members(&document).into_iter().cloned().collect(),
        container => schema.take_members(container),
    };
    let mut links = schema.followed_links(&document, follow);
    if follow != FollowMode::None {
        links.extend(links::next_links(&reply.headers));
    }
    if members.is_empty() && !is_resource && links.iter().any(|l| is_page_relation(&l.relation)) {
        eprintln!(
            "resource-sync: warning: {} has no members but links another page; not following it",
            redact_url(&reply.url)
        );
        links.retain(|link| !is_page_relation(&link.relation));
    }
    for member in &members {
        links.extend(schema.followed_links(member, follow));
    }
    let mut resources: Vec<Resource> = is_resource
        .then(|| schema.resource(document).ok())
        .flatten()
        .into_iter()
        .collect();
    for (position, body) in members.into_iter().enumerate() {
        match schema.resource(body) {
            Ok(resource) => resources.push(resource),
            Err(IdentityError::NotAMapping | IdentityError::MissingId) => {}
            // A destination is only surveyed: what is not a resource there is not compared.
            Err(_) if !strict => {}
            Err(error) => {
                return Err(remote(format!(
                    "reading {}: member {}: not a resource: {error}",
                    redact_url(&reply.url),
                    position + 1
                )))
            }
        }
    }
    Ok(Harvest { resources, links })
}

/// The resources and followed links of one HTTP body, as a crawl reads them (for the
/// `http_body` fuzz target).
pub fn read_page(
    body: Vec<u8>,
    media_type: &str,
    url: Url,
    schema: &dyn Dialect,
    follow: FollowMode,
) -> Result<(Vec<Resource>, Vec<Link>)> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Ok(value) = reqwest::header::HeaderValue::from_str(media_type) {
        headers.insert(reqwest::header::CONTENT_TYPE, value);
    }
    let reply = Reply {
        status: 200,
        headers,
        body,
        url,
        attempts: 1,
    };
    let document = parse_body(&reply)?;
    let harvest = harvest((schema, follow, true), document, &reply)?;
    Ok((harvest.resources, harvest.links))
}

/// A stable 64-bit hash of a uri (SipHash with fixed keys); two uris of one pull sharing
/// one is a 1-in-2^40 chance even for a million resources.
fn uri_hash(uri: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    uri.hash(&mut hasher);
    hasher.finish()
}

/// Whether a crawl's start URLs held a document the dialect can read (or answered 404).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StartPage {
    Read,
    /// Every start that answered was something else (an API root's HTML page).
    NotADocument,
}

/// Whether the reply's media type is one the crawl parses.
fn is_document(reply: &Reply) -> bool {
    let media_type = media_type_of(reply);
    media_type.is_empty() || is_json_media_type(&media_type) || is_yaml_media_type(&media_type)
}

fn media_type_of(reply: &Reply) -> String {
    reply
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// Parse a response body by its media type (parameters ignored).
pub(super) fn parse_body(reply: &Reply) -> Result<Value> {
    let media_type = media_type_of(reply);
    let place = redact_url(&reply.url);
    if is_yaml_media_type(&media_type) {
        let mut documents = YamlDocuments::new(&reply.body[..]);
        return match documents.next() {
            Some(Ok(value)) => Ok(value),
            Some(Err(error)) => Err(remote(format!("reading {place}: {error}"))),
            None => Ok(Value::Null),
        };
    }
    if is_json_media_type(&media_type) || media_type.is_empty() {
        return json_document(&reply.body).map_err(|error| {
            remote(format!(
                "reading {place}: response is not valid JSON: {error}"
            ))
        });
    }
    Err(remote(format!(
        "reading {place}: unsupported content type {media_type:?}"
    )))
}

fn is_json_media_type(media_type: &str) -> bool {
    matches!(media_type, "application/json" | "text/json") || media_type.ends_with("+json")
}

fn is_yaml_media_type(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" | "text/vnd.yaml"
    ) || media_type.ends_with("+yaml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_with_parameters() {
        assert!(is_json_media_type("application/hal+json"));
        assert!(is_json_media_type("application/vnd.api+json"));
        assert!(is_yaml_media_type("text/x-yaml"));
        assert!(!is_json_media_type("text/html"));
    }
}
