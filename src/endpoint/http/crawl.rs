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
use crate::exit_code::remote;
use crate::format::json_read::json_document;
use crate::format::yaml::YamlDocuments;
use crate::resource::Resource;
use crate::schema::{is_page_relation, Dialect, FollowMode, IdentityError, Link};

/// One traversal from a starting URL: every distinct URL fetched at most once.
pub(super) struct Crawl<'a> {
    start: Url,
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
    pub(super) fn new(start: &Url, context: &'a Context<'a>) -> Self {
        Crawl {
            start: start.clone(),
            context,
            schema: context.dialect,
            follow: context.config.follow,
            seen_urls: HashSet::new(),
            seen_resources: HashSet::new(),
            pages: 0,
            destination: false,
        }
    }

    /// A crawl of a destination: a start URL answering 404 holds nothing yet (a
    /// collection the push will create), where for an origin it fails the run.
    pub(super) fn of_destination(start: &Url, context: &'a Context<'a>) -> Self {
        Crawl {
            destination: true,
            ..Crawl::new(start, context)
        }
    }

    /// Hands on every resource found; answers whether the start URL was a readable document.
    pub(super) async fn run(mut self, found: &mut Found<'_>) -> Result<StartPage> {
        let mut pending = FuturesUnordered::new();
        let start = self.start.clone();
        self.seen_urls.insert(normalized_key(&start));
        pending.push(self.fetch(start));
        let mut start_page = StartPage::Read;
        while let Some(joined) = pending.next().await {
            let (url, result) =
                joined.map_err(|error| anyhow::anyhow!("a read task failed: {error}"))?;
            let Some(reply) = self.check_reply(&url, result)? else {
                continue;
            };
            let document = match parse_body(&reply) {
                Err(_) if self.destination && url == self.start && !is_document(&reply) => {
                    start_page = StartPage::NotADocument;
                    continue;
                }
                parsed => parsed?,
            };
            let harvest = harvest(self.schema, self.follow, document, &reply)?;
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
                if self.seen_urls.insert(normalized_key(&target)) {
                    self.pages += 1;
                    if self.pages >= self.context.config.http.max_pages {
                        return Err(remote(format!(
                            "more than {} pages read from {}; stopping (raise --max-pages if this is expected)",
                            self.context.config.http.max_pages,
                            redact_url(&self.start)
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
        Ok(start_page)
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
        if reply.status == 404 && *url == self.start && self.destination {
            return Ok(None);
        }
        if reply.status == 404 && *url != self.start {
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
    schema: &dyn Dialect,
    follow: FollowMode,
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
    let harvest = harvest(schema, follow, document, &reply)?;
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

/// Whether a crawl's start URL held a document the dialect can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StartPage {
    Read,
    /// A destination's start answered something else (an API root's HTML page).
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
fn parse_body(reply: &Reply) -> Result<Value> {
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

/// URLs compare after lower-casing scheme and host, dropping a default port (the url
/// crate does these) and sorting query parameters.
pub(super) fn normalized_key(url: &Url) -> String {
    let mut copy = url.clone();
    copy.set_fragment(None);
    if url.query().is_some() {
        let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        pairs.sort();
        copy.query_pairs_mut().clear().extend_pairs(pairs);
    }
    copy.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_order_does_not_matter_for_dedup() {
        let a = Url::parse("HTTP://H:80/a?y=2&x=1").unwrap();
        let b = Url::parse("http://h/a?x=1&y=2").unwrap();
        assert_eq!(normalized_key(&a), normalized_key(&b));
        let bare = Url::parse("http://h/a").unwrap();
        assert_ne!(
            normalized_key(&bare),
            normalized_key(&Url::parse("http://h/a?offset=0").unwrap())
        );
    }

    #[test]
    fn media_types_with_parameters() {
        assert!(is_json_media_type("application/hal+json"));
        assert!(is_json_media_type("application/vnd.api+json"));
        assert!(is_yaml_media_type("text/x-yaml"));
        assert!(!is_json_media_type("text/html"));
    }
}
