//! Reading an API: a crawl from starting URLs that fetches every linked page once, each
//! GET on its own task, handing resources on as pages arrive. Which pages come next is
//! the dialect's to say: the links it follows, or its own pagination rule's next URL.

use std::collections::{HashMap, HashSet};

use anyhow::{Context as _, Result};
use futures::stream::{FuturesUnordered, StreamExt};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::ahead::{Fetched, ReadAhead, Window};
use super::{client, redact_url, Reply, Request};
use crate::endpoint::spec::url_key;
use crate::endpoint::{Context, Found};
use crate::exit_code::{remote, remote_because, ExitContext};
use crate::format::json_page::{json_page, JsonPage, Member, Members, Step};
use crate::format::json_read::json_document;
use crate::format::yaml::YamlDocuments;
use crate::resource::Resource;
use crate::schema::ahead::{PageStep, Stated};
use crate::schema::profile::{PageAnswer, Pages};
use crate::schema::{is_page_relation, Dialect, FollowMode, IdentityError, Link};

/// One traversal from a starting URL: every distinct URL fetched at most once.
pub(super) struct Crawl<'a> {
    starts: Vec<Url>,
    context: &'a Context<'a>,
    schema: &'a dyn Dialect,
    follow: FollowMode,
    seen_urls: HashSet<String>,
    /// 64-bit hashes of the uris handed on: a pull of many resources keeps 8 bytes each.
    /// Already random, they are their own hash in the table.
    seen_resources: hashbrown::HashTable<u64>,
    /// Keys of those hashes, random per run: with fixed keys a server could make two
    /// uris share a hash and have the second dropped.
    uri_keys: std::collections::hash_map::RandomState,
    pages: u64,
    /// `--max-pages`: links followed from the starts (or pages of one rule's chain) before
    /// the run fails.
    max_pages: u64,
    /// The chains of pages the dialect's rule finds, by the URL of the page each awaits.
    chains: HashMap<String, Chain<'a>>,
    /// Pages fetched on a guess, before a page names them.
    ahead: ReadAhead,
    /// A destination's start URL may answer 404 (a collection not made yet) or a page that
    /// is not a document (an API root's HTML home page): it then holds nothing readable.
    destination: bool,
}

/// One collection's pages as its dialect's rule finds them, and the uri hashes of the
/// members it brought: a page bringing none it has not read ends it (an API answering its
/// last page again for any page past the end).
struct Chain<'a> {
    pages: Pages<'a>,
    read: HashSet<u64>,
    window: Window,
}

/// A GET on its own task: the URL asked for and its reply.
type FetchTask = tokio::task::JoinHandle<Fetched>;

/// What one fetched page yields: the links it follows, the page itself if it is a
/// resource, its members (still text where the body was JSON), and whether its rule's
/// chain goes on.
struct Harvest {
    links: Vec<Link>,
    chain_goes_on: bool,
    /// What the page says of its whole chain (a total), for reading ahead.
    stated: Stated,
    member_count: usize,
    page_resource: Option<Resource>,
    members: Members,
}

/// What one member yields: the links it follows and the resource it is, if any.
struct MemberRead {
    links: Vec<Link>,
    resource: Option<Resource>,
}

impl<'a> Crawl<'a> {
    /// A crawl of an origin: its start must answer a document.
    pub(super) fn new(start: &Url, max_pages: u64, context: &'a Context<'a>) -> Self {
        Crawl::with_starts(vec![start.clone()], max_pages, context, false)
    }

    /// A crawl of collections whose pages `dialect`'s rule finds (`limit` members a page);
    /// every start must answer.
    pub(super) fn of_collections(
        starts: Vec<Url>,
        dialect: &'a dyn Dialect,
        (limit, max_pages): (u64, u64),
        context: &'a Context<'a>,
    ) -> Self {
        let mut crawl = Crawl::with_starts(Vec::new(), max_pages, context, false);
        crawl.schema = dialect;
        for start in starts {
            let Some(mut pages) = dialect.pages(start.clone(), limit) else {
                crawl.starts.push(start);
                continue;
            };
            if let Some(first) = pages.next_url() {
                let chain = Chain {
                    pages,
                    read: HashSet::new(),
                    window: Window::new(),
                };
                crawl.chains.insert(url_key(&first), chain);
                crawl.starts.push(first);
            }
        }
        crawl
    }

    /// A crawl of a destination from several starts (its URL and the collections the run
    /// writes to): a start answering 404 holds nothing yet (a collection the push will
    /// create), where for an origin it fails the run.
    pub(super) fn of_destination(
        starts: Vec<Url>,
        max_pages: u64,
        context: &'a Context<'a>,
    ) -> Self {
        Crawl::with_starts(starts, max_pages, context, true)
    }

    fn with_starts(
        starts: Vec<Url>,
        max_pages: u64,
        context: &'a Context<'a>,
        destination: bool,
    ) -> Self {
        Crawl {
            starts,
            context,
            schema: &**context.dialect,
            follow: context.run.follow,
            seen_urls: HashSet::new(),
            seen_resources: hashbrown::HashTable::new(),
            uri_keys: Default::default(),
            pages: 0,
            max_pages,
            chains: HashMap::new(),
            ahead: ReadAhead::default(),
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
        let places = self.schema.member_places();
        loop {
            let fetched = match self.ahead.next_ready() {
                Some(fetched) => fetched,
                None => match pending.next().await {
                    Some(joined) => joined.context("a read task failed")?,
                    None => break,
                },
            };
            let Some((url, result)) = self.ahead.arrived(fetched) else {
                continue;
            };
            let mut chain = self.chains.remove(&url_key(&url));
            let pages = chain.as_ref().map(|chain| &chain.pages);
            let Some(reply) = self.check_reply(&url, result, pages)? else {
                continue;
            };
            let page = match parse_page(&reply, &places) {
                Err(_) if self.destination && self.is_start(&url) && !is_document(&reply) => {
                    not_documents += 1;
                    continue;
                }
                parsed => parsed?,
            };
            documents += 1;
            let pages = chain.as_mut().map(|chain| &mut chain.pages);
            let harvest = harvest((self.schema, self.follow), page, &reply, pages)?;
            self.expect_stated_total(&url, &harvest.stated);
            // Start the next fetches before handing resources on, so the network
            // works while the destination takes them: on the run's one thread, a
            // fetch task sends its request only once this task yields.
            let page = (&reply, &harvest.stated, harvest.member_count);
            if self.follow_links(harvest.links, page, &mut pending)? {
                tokio::task::yield_now().await;
            }
            if let Some(resource) = harvest.page_resource {
                self.hand_on(resource, found)?;
            }
            // One member parsed at a time and handed on before the next: a page costs
            // its text, not every member's value at once.
            let mut brought_new = false;
            for (position, member) in harvest.members.into_iter().enumerate() {
                let read = self.read_member(member, position, &reply)?;
                self.follow_links(read.links, (&reply, &Stated::default(), 0), &mut pending)?;
                if let Some(resource) = read.resource {
                    if let Some(chain) = &mut chain {
                        brought_new |= chain.read.insert(self.uri_hash(&resource.uri));
                    }
                    self.hand_on(resource, found)?;
                }
            }
            if let Some(chain) = chain.filter(|_| harvest.chain_goes_on && brought_new) {
                let page = (&reply.url, &harvest.stated, harvest.member_count);
                self.follow_chain(chain, page, &mut pending)?;
            }
        }
        Ok(match documents == 0 && not_documents > 0 {
            true => StartPage::NotADocument,
            false => StartPage::Read,
        })
    }

    /// The first page of an origin's collection that states its total tells the reading
    /// bar how far it goes (a destination's reads are not the run's progress).
    fn expect_stated_total(&self, url: &Url, stated: &Stated) {
        if let (false, true, Some(members)) = (self.destination, self.is_start(url), stated.members)
        {
            self.context.report.progress().expect_to_read(members);
        }
    }

    fn is_start(&self, url: &Url) -> bool {
        self.starts.contains(url)
    }

    /// Fetch a rule's next page unless it was fetched already, and the pages after it
    /// where the rule names them ahead. `page`: the URL, stated total and member count of
    /// the page just read.
    fn follow_chain(
        &mut self,
        mut chain: Chain<'a>,
        (page_url, stated, members): (&Url, &Stated, usize),
        pending: &mut FuturesUnordered<FetchTask>,
    ) -> Result<()> {
        let Some(next) = chain.pages.next_url() else {
            return Ok(());
        };
        if chain.pages.fetched() as u64 > self.max_pages {
            return Err(too_many_pages(self.max_pages, &next));
        }
        let key = url_key(&next);
        if !self.ahead.is_new(&key, &self.seen_urls) {
            return Ok(());
        }
        let step = chain.pages.step(page_url);
        if let Some(step) = &step {
            let limit = self.context.run.concurrency;
            let page = (stated, members, chain.pages.first_number());
            chain.window.read_page(step, page, limit);
        }
        let window = chain.window;
        self.chains.insert(key, chain);
        self.fetch_named(next.clone(), pending);
        if let Some(step) = step {
            self.fetch_guesses((&step, &next), &window, pending);
        }
        Ok(())
    }

    /// A page named `url`: fetched now, unless a guess already has it.
    fn fetch_named(&mut self, url: Url, pending: &mut FuturesUnordered<FetchTask>) {
        if let Some(url) = self.ahead.want(url, &mut self.seen_urls) {
            pending.push(self.fetch(url));
        }
    }

    /// The pages after `next` that `window` reads ahead.
    fn fetch_guesses(
        &mut self,
        (step, next): (&PageStep, &Url),
        window: &Window,
        pending: &mut FuturesUnordered<FetchTask>,
    ) {
        for url in self
            .ahead
            .guesses((step, next), window, &mut self.seen_urls)
        {
            pending.push(self.fetch(url));
        }
    }

    /// Fetch every link of `reply`'s page not fetched yet; whether there was one.
    fn follow_links(
        &mut self,
        links: Vec<Link>,
        (reply, stated, members): (&Reply, &Stated, usize),
        pending: &mut FuturesUnordered<FetchTask>,
    ) -> Result<bool> {
        let before = pending.len() + usize::from(self.ahead.has_ready());
        for link in links {
            let Ok(target) = reply.url.join(&link.href) else {
                eprintln!(
                    "resource-sync: warning: ignoring invalid link {:?} in {}",
                    link.href,
                    redact_url(&reply.url)
                );
                continue;
            };
            if !self.ahead.is_new(&url_key(&target), &self.seen_urls) {
                continue;
            }
            self.pages += 1;
            if self.pages >= self.max_pages {
                return Err(too_many_pages(self.max_pages, &self.starts[0]));
            }
            self.fetch_named(target.clone(), pending);
            if link.relation == "next" {
                let page = (&reply.url, stated, members);
                self.read_link_chain_ahead(page, &target, pending);
            }
        }
        Ok(pending.len() + usize::from(self.ahead.has_ready()) > before)
    }

    /// A `next` link that steps in one integer parameter: the pages after it, guessed.
    fn read_link_chain_ahead(
        &mut self,
        (page_url, stated, members): (&Url, &Stated, usize),
        next: &Url,
        pending: &mut FuturesUnordered<FetchTask>,
    ) {
        let Some(step) = PageStep::between(page_url, next, members) else {
            return;
        };
        let limit = self.context.run.concurrency;
        let window = self.ahead.link_window(&step, next);
        window.read_page(&step, (stated, members, 1), limit);
        let window = *window;
        self.fetch_guesses((&step, next), &window, pending);
    }

    fn read_member(&self, member: Member, position: usize, reply: &Reply) -> Result<MemberRead> {
        read_member(
            (self.schema, self.follow, !self.destination),
            member,
            position,
            reply,
        )
    }

    fn uri_hash(&self, uri: &str) -> u64 {
        std::hash::BuildHasher::hash_one(&self.uri_keys, uri)
    }

    /// A resource goes on once, however many pages hold it.
    fn hand_on(&mut self, resource: Resource, found: &mut Found<'_>) -> Result<()> {
        let hash = self.uri_hash(&resource.uri);
        match self
            .seen_resources
            .entry(hash, |&seen| seen == hash, |&seen| seen)
        {
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(hash);
                found(resource)
            }
            hashbrown::hash_table::Entry::Occupied(_) => Ok(()),
        }
    }

    /// A GET running on its own task, so it proceeds while this crawl processes a page.
    fn fetch(&self, url: Url) -> FetchTask {
        let http = self.context.http.clone();
        let media_type = self.schema.media_type();
        tokio::spawn(async move {
            let request = Request {
                media_type,
                ..Request::new(Method::GET, url.clone())
            };
            let result = http.send(&request).await;
            (url, result)
        })
    }

    /// A failed start URL fails the run; a 404 on a followed link is only a warning, and
    /// none where it ends a rule's chain past its first page.
    fn check_reply(
        &self,
        url: &Url,
        result: Result<Reply, client::TransportFailure>,
        chain: Option<&Pages<'_>>,
    ) -> Result<Option<Reply>> {
        let reply =
            result.map_err(|failure| remote(format!("reading {}: {failure}", redact_url(url))))?;
        if reply.is_success() {
            return Ok(Some(reply));
        }
        let ends_chain = chain.is_some_and(|chain| chain.fetched() > 1 && chain.ends_on_404());
        if reply.status == 404 && ends_chain {
            return Ok(None);
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

/// The links of one page, the page as a resource if it is one, and its members, moved
/// out of it (never copied). A page that is itself a resource is read whole and keeps
/// its members in its body. A page with members moves its rule's `chain` on.
fn harvest(
    (schema, follow): (&dyn Dialect, FollowMode),
    mut page: JsonPage,
    reply: &Reply,
    chain: Option<&mut Pages<'_>>,
) -> Result<Harvest> {
    let is_resource = schema.page_is_resource(&page.rest);
    if is_resource {
        page = JsonPage::whole(parse_body(reply)?);
    }
    let taken = match &mut page.rest {
        Value::Array(items) => std::mem::take(items),
        _ if is_resource => schema.members(&page.rest).into_iter().cloned().collect(),
        container => schema
            .take_members(container)
            .map_err(|reason| remote(format!("reading {}: {reason}", redact_url(&reply.url))))?,
    };
    let members = page.members(taken);
    let chain_goes_on = !members.is_empty();
    if let Some(chain) = chain.filter(|_| chain_goes_on) {
        let answer = PageAnswer {
            url: &reply.url,
            headers: &reply.headers,
        };
        chain.advance(members.len(), &page.rest, &answer);
    }
    let mut links = schema.followed_links(&page.rest, follow);
    links.extend(schema.header_links(&reply.headers, follow));
    if members.is_empty() && !is_resource && links.iter().any(|l| is_page_relation(&l.relation)) {
        eprintln!(
            "resource-sync: warning: {} has no members but links another page; not following it",
            redact_url(&reply.url)
        );
        links.retain(|link| !is_page_relation(&link.relation));
    }
    let stated = Stated::of_page(&page.rest, &reply.headers, &reply.url);
    let member_count = members.len();
    let page_resource = is_resource
        .then(|| schema.resource(page.rest).ok())
        .flatten();
    Ok(Harvest {
        links,
        chain_goes_on,
        stated,
        member_count,
        page_resource,
        members,
    })
}

fn too_many_pages(max_pages: u64, url: &Url) -> anyhow::Error {
    remote(format!(
        "more than {max_pages} pages read from {}; stopping (raise --max-pages if this is expected)",
        redact_url(url)
    ))
}

/// One member read strictly (from `reply`'s body where it is text). A member with an
/// `id` that is still no resource (a broken self link) fails the page.
fn read_member(
    (schema, follow, strict): (&dyn Dialect, FollowMode, bool),
    member: Member,
    position: usize,
    reply: &Reply,
) -> Result<MemberRead> {
    let body = member_value(member, position, reply)?;
    let links = schema.followed_links(&body, follow);
    let resource = match schema.resource(body) {
        Ok(resource) => Some(resource),
        Err(IdentityError::NotAMapping | IdentityError::MissingId) => None,
        // A destination is only surveyed: what is not a resource there is not compared.
        Err(_) if !strict => None,
        Err(error) => {
            return Err(error).remote_context(|| {
                format!(
                    "reading {}: member {}: not a resource",
                    redact_url(&reply.url),
                    position + 1
                )
            })
        }
    };
    Ok(MemberRead { links, resource })
}

/// A page's member as a value, read strictly from `reply`'s body where it is text.
pub(super) fn member_value(member: Member, position: usize, reply: &Reply) -> Result<Value> {
    member.into_value(&reply.body).remote_context(|| {
        format!(
            "reading {}: member {}: response is not valid JSON",
            redact_url(&reply.url),
            position + 1
        )
    })
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
        environment: None,
    };
    let page = parse_page(&reply, &schema.member_places())?;
    let harvest = harvest((schema, follow), page, &reply, None)?;
    let mut links = harvest.links;
    let mut resources: Vec<Resource> = harvest.page_resource.into_iter().collect();
    for (position, member) in harvest.members.into_iter().enumerate() {
        let read = read_member((schema, follow, true), member, position, &reply)?;
        links.extend(read.links);
        resources.extend(read.resource);
    }
    Ok((resources, links))
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
    if is_json_media_type(&media_type) || media_type.is_empty() {
        return json_document(&reply.body).map_err(|error| not_json(reply, error));
    }
    parse_other(reply, &media_type)
}

/// Parse a page by its media type, a JSON page's members at `places` left as text.
/// A YAML page (rare) is read whole.
pub(super) fn parse_page(reply: &Reply, places: &[Vec<Step<'_>>]) -> Result<JsonPage> {
    let media_type = media_type_of(reply);
    if is_json_media_type(&media_type) || media_type.is_empty() {
        return json_page(&reply.body, places).map_err(|error| not_json(reply, error));
    }
    parse_other(reply, &media_type).map(JsonPage::whole)
}

fn not_json(reply: &Reply, error: serde_json::Error) -> anyhow::Error {
    let place = redact_url(&reply.url);
    remote_because(
        format!("reading {place}: response is not valid JSON"),
        error,
    )
}

/// A YAML body, or the error for a media type that is not read.
fn parse_other(reply: &Reply, media_type: &str) -> Result<Value> {
    let place = redact_url(&reply.url);
    if is_yaml_media_type(media_type) {
        let mut documents = YamlDocuments::new(&reply.body[..]);
        return match documents.next() {
            Some(Ok(value)) => Ok(value),
            Some(Err(error)) => Err(error).remote_context(|| format!("reading {place}")),
            None => Ok(Value::Null),
        };
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

    fn read(body: &str, media_type: &str) -> (Vec<String>, Vec<String>) {
        let url = Url::parse("http://h/api/team").unwrap();
        let schema = crate::schema::Hal;
        let (resources, links) =
            read_page(body.into(), media_type, url, &schema, FollowMode::All).unwrap();
        let uris = resources.into_iter().map(|r| r.uri.to_string()).collect();
        (uris, links.into_iter().map(|l| l.href).collect())
    }

    #[test]
    fn members_keep_the_dialects_order_as_text_or_whole() {
        let member = |id: u32| {
            format!(
                r#"{{"id": {id}, "_links": {{"self": {{"href": "/api/team/{id}"}}, "child:x": {{"href": "/x/{id}"}}}}}}"#
            )
        };
        let page = format!(
            r#"{{"_links": {{"next": {{"href": "/p2"}}}}, "items": [{}], "_embedded": {{"b": [{}], "a": {}}}}}"#,
            member(1),
            member(3),
            member(2)
        );
        let (uris, links) = read(&page, "application/json");
        assert_eq!(uris, ["/api/team/1", "/api/team/2", "/api/team/3"]);
        assert_eq!(links, ["/p2", "/x/1", "/x/2", "/x/3"]);
        let team = format!(
            r#"{{"id": 9, "_links": {{"self": {{"href": "/api/team/9"}}}}, "items": [{}]}}"#,
            member(1)
        );
        let (uris, _) = read(&team, "application/json");
        assert_eq!(uris, ["/api/team/9", "/api/team/1"]);
        let (uris, _) = read(&format!("[{}, {}]", member(5), member(4)), "");
        assert_eq!(uris, ["/api/team/5", "/api/team/4"]);
        let yaml = "items:\n- {id: 7, _links: {self: {href: /api/team/7}}}\n";
        assert_eq!(read(yaml, "application/yaml").0, ["/api/team/7"]);
    }

    #[test]
    fn media_types_with_parameters() {
        assert!(is_json_media_type("application/hal+json"));
        assert!(is_json_media_type("application/problem+json"));
        assert!(is_yaml_media_type("text/x-yaml"));
        assert!(!is_json_media_type("text/html"));
    }
}
