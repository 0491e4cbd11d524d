//! The HTTP(S) REST endpoint: a concurrent crawler that reads every linked page once,
//! and a writer that PUTs (or PATCHes batches) as soon as each resource's parents are in.

mod client;
mod clone;
mod limit;
mod links;

pub use client::{redact_url, HttpClient, Reply, Request};

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::{deletions_blocked, Context, Endpoint, Found, Stage, WriteSet};
use crate::cli::CreateMode;
use crate::exit_code::remote;
use crate::format::yaml::YamlDocuments;
use crate::format::Format;
use crate::graph::{DependencyGraph, Scheduler};
use crate::plan::Change;
use crate::remap::{IdMap, RefIndex};
use crate::report::{Op, Outcome, Status};
use crate::resource::without_fields;
use crate::resource::Resource;
use crate::schema::{is_page_relation, FollowMode, Link, Schema};
use clone::Cloner;

/// A REST API rooted at a URL.
pub struct HttpEndpoint {
    url: Url,
    /// Whether `OPTIONS` on a collection allows PATCH, asked once per collection.
    batch_support: Mutex<HashMap<String, bool>>,
}

impl HttpEndpoint {
    pub fn new(url: Url) -> Self {
        HttpEndpoint {
            url,
            batch_support: Mutex::new(HashMap::new()),
        }
    }

    /// A resource's uri with scheme, host and port replaced by this endpoint's.
    pub fn rebase(&self, uri: &str) -> Result<Url> {
        let mut target = self
            .url
            .join(uri)
            .with_context(|| format!("resource uri {uri:?} is not a valid URL"))?;
        let _ = target.set_scheme(self.url.scheme());
        target
            .set_host(self.url.host_str())
            .with_context(|| format!("cannot rebase {uri} onto {}", self.url))?;
        let _ = target.set_port(self.url.port());
        Ok(target)
    }
}

/// Serialised request bodies: made from each resource as it is sent, or staged as
/// text while reading, so a push holds no parsed bodies in memory.
enum Bodies<'a> {
    Made(Format),
    Staged(Format, &'a HashMap<String, Box<str>>),
}

impl Bodies<'_> {
    fn format(&self) -> Format {
        match self {
            Bodies::Made(format) | Bodies::Staged(format, _) => *format,
        }
    }

    fn text<'r>(&'r self, resource: &'r Resource) -> Cow<'r, str> {
        match self {
            Bodies::Staged(_, texts) => match texts.get(&resource.uri) {
                Some(text) => Cow::Borrowed(text),
                None => Cow::Owned(self.format().serialize(&resource.body)),
            },
            Bodies::Made(format) => Cow::Owned(format.serialize(&resource.body)),
        }
    }
}

/// How a write sends each resource.
enum WriteMode<'a> {
    /// PUT at the resource's own uri (PATCH batches where allowed).
    Put(Bodies<'a>),
    /// `--create post`: POST new resources, PUT cloned ones at their new uri.
    Clone(&'a Cloner),
}

/// `{"items": [...]}` for a PATCH, from bodies already serialised one by one.
fn batch_body(format: Format, texts: &[Cow<'_, str>]) -> String {
    match format {
        // Python's `json.dumps` of the wrapper is exactly the items' texts joined by ", ".
        Format::Json => {
            let items: Vec<&str> = texts.iter().map(|text| text.trim_end()).collect();
            format!("{{\"items\": [{}]}}\n", items.join(", "))
        }
        Format::Yaml => {
            let items: Vec<Value> = texts
                .iter()
                .filter_map(|text| YamlDocuments::new(text.as_bytes()).next()?.ok())
                .collect();
            format.serialize(&serde_json::json!({ "items": items }))
        }
    }
}

/// A push in progress: bodies wait as request text until the set is ordered.
struct HttpStage<'e> {
    endpoint: &'e HttpEndpoint,
    format: Format,
    texts: HashMap<String, Box<str>>,
}

impl Stage for HttpStage<'_> {
    fn put(&mut self, resource: Resource) -> Result<()> {
        let text = self.format.serialize(&resource.body).into_boxed_str();
        self.texts.insert(resource.uri, text);
        Ok(())
    }

    fn commit<'a>(
        self: Box<Self>,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>>
    where
        Self: 'a,
    {
        Box::pin(async move {
            let bodies = Bodies::Staged(self.format, &self.texts);
            self.endpoint
                .write_with(set, context, WriteMode::Put(bodies))
                .await
        })
    }
}

impl Endpoint for HttpEndpoint {
    fn read<'a>(
        &'a self,
        context: &'a Context<'a>,
        found: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(Crawl::new(&self.url, context).run(found))
    }

    /// Reads the destination URL (same follow mode): a resource it lacks is a create, one
    /// where any field the origin holds differs (`_links` aside) an update.
    fn plan<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Vec<Change>>> {
        Box::pin(async move {
            if context.config.create == CreateMode::Post {
                return self.clone_plan(set, context);
            }
            let format = context.config.format;
            let existing = self.snapshot(context).await?;
            let mut changes = Vec::new();
            for resource in set.ordered() {
                let target = self.rebase(&resource.uri)?;
                let current = existing.get(&normalized_key(&target));
                let op = match current {
                    None => Op::Create,
                    Some(current)
                        if differs(&resource.body, &current.body, &context.config.ignore) =>
                    {
                        Op::Update
                    }
                    Some(_) => Op::Unchanged,
                };
                let before = current.map(|current| format.serialize(&current.body));
                changes.push(
                    Change::for_resource(op, resource, redact_url(&target))
                        .with_texts(before, Some(format.serialize(&resource.body))),
                );
            }
            if context.config.remove {
                for resource in self.stale_in(set, existing.into_values().collect())? {
                    let target = redact_url(&self.rebase(&resource.uri)?);
                    changes.push(
                        Change::for_resource(Op::Delete, &resource, target)
                            .with_texts(Some(format.serialize(&resource.body)), None),
                    );
                }
            }
            Ok(changes)
        })
    }

    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if context.config.create == CreateMode::Post {
                return self.clone_all(set, context).await;
            }
            let bodies = Bodies::Made(context.config.format);
            self.write_with(set, context, WriteMode::Put(bodies)).await
        })
    }

    /// A push keeps each body as the text it will send, not as a parsed tree (a clone
    /// rewrites bodies as it goes, and `--ignore` compares them, so those keep them parsed).
    fn stage<'a>(&'a self, context: &Context<'_>) -> Result<Option<Box<dyn Stage + 'a>>> {
        if context.config.create == CreateMode::Post || !context.config.ignore.is_empty() {
            return Ok(None);
        }
        Ok(Some(Box::new(HttpStage {
            endpoint: self,
            format: context.config.format,
            texts: HashMap::new(),
        })))
    }
}

// ---------------------------------------------------------------- reading

/// One traversal from a starting URL: every distinct URL fetched at most once.
struct Crawl<'a> {
    start: Url,
    context: &'a Context<'a>,
    schema: &'a dyn Schema,
    follow: FollowMode,
    seen_urls: HashSet<String>,
    /// 64-bit hashes of the uris handed on: a pull of many resources keeps 8 bytes each.
    seen_resources: HashSet<u64>,
    pages: u64,
}

/// What one fetched page yields: resources and the links to follow next.
struct Harvest {
    resources: Vec<Resource>,
    links: Vec<Link>,
}

impl<'a> Crawl<'a> {
    fn new(start: &Url, context: &'a Context<'a>) -> Self {
        Crawl {
            start: start.clone(),
            context,
            schema: context.schema,
            follow: context.config.follow,
            seen_urls: HashSet::new(),
            seen_resources: HashSet::new(),
            pages: 0,
        }
    }

    async fn run(mut self, found: &mut Found<'_>) -> Result<()> {
        let mut pending = FuturesUnordered::new();
        let start = self.start.clone();
        self.seen_urls.insert(normalized_key(&start));
        pending.push(self.fetch(start));
        while let Some(joined) = pending.next().await {
            let (url, result) =
                joined.map_err(|error| anyhow::anyhow!("a read task failed: {error}"))?;
            let Some(reply) = self.check_reply(&url, result)? else {
                continue;
            };
            let harvest = self.harvest(parse_body(&reply)?, &reply);
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
        Ok(())
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

    /// Resources and links of one page. Members are moved out of a container (never
    /// copied); a page that is itself a resource keeps its members in its body.
    fn harvest(&self, mut document: Value, reply: &Reply) -> Harvest {
        let is_resource = self.schema.identity(&document).is_ok();
        let members: Vec<Value> = match &mut document {
            Value::Array(items) => std::mem::take(items),
            _ if is_resource => self
                .schema
                .members(&document)
                .into_iter()
                .cloned()
                .collect(),
            container => self.schema.take_members(container),
        };
        let mut links = self.schema.followed_links(&document, self.follow);
        if self.follow != FollowMode::None {
            links.extend(links::next_links(&reply.headers));
        }
        if members.is_empty() && !is_resource && links.iter().any(|l| is_page_relation(&l.relation))
        {
            eprintln!(
                "resource-sync: warning: {} has no members but links another page; not following it",
                redact_url(&reply.url)
            );
            links.retain(|link| !is_page_relation(&link.relation));
        }
        for member in &members {
            links.extend(self.schema.followed_links(member, self.follow));
        }
        let page_resource = is_resource.then_some(document);
        let resources = page_resource
            .into_iter()
            .chain(members)
            .filter_map(|body| self.schema.resource(body).ok())
            .collect();
        Harvest { resources, links }
    }
}

/// A stable 64-bit hash of a uri (SipHash with fixed keys); two uris of one pull sharing
/// one is a 1-in-2^40 chance even for a million resources.
fn uri_hash(uri: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    uri.hash(&mut hasher);
    hasher.finish()
}

/// Parse a response body by its media type (parameters ignored).
fn parse_body(reply: &Reply) -> Result<Value> {
    let media_type = reply
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
        .unwrap_or_default();
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
        return serde_json::from_slice(&reply.body).map_err(|error| {
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
fn normalized_key(url: &Url) -> String {
    let mut copy = url.clone();
    copy.set_fragment(None);
    if url.query().is_some() {
        let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        pairs.sort();
        copy.query_pairs_mut().clear().extend_pairs(pairs);
    }
    copy.to_string()
}

// ---------------------------------------------------------------- writing

/// The result of one PUT or PATCH, for every resource it carried.
struct Sent {
    indices: Vec<usize>,
    result: Result<Reply, client::TransportFailure>,
    targets: Vec<String>,
    /// The request, kept when a clone must learn a new uri from the reply.
    request: Option<Request>,
}

impl HttpEndpoint {
    /// Write the set, then (with `--rm`, and only if every write succeeded) delete.
    async fn write_with(
        &self,
        set: &WriteSet<'_>,
        context: &Context<'_>,
        mode: WriteMode<'_>,
    ) -> Result<()> {
        let unchanged = self.unchanged_at_destination(set, context).await?;
        self.write_all(set, context, &mode, &unchanged).await?;
        if context.config.remove {
            self.remove_stale(set, context).await?;
        }
        Ok(())
    }

    /// PUT every resource once its parents are written; returns whether all succeeded.
    /// `--create post --dry-run`: mapped resources are updates at their new uri, the
    /// others creates in their collection; each line names the origin uri.
    fn clone_plan(&self, set: &WriteSet<'_>, context: &Context<'_>) -> Result<Vec<Change>> {
        let config = context.config;
        let map = IdMap::load(config.id_map.as_deref())?;
        set.ordered()
            .map(|resource| {
                let (op, target) = match map.get(&resource.uri) {
                    Some(new_uri) => (Op::Update, new_uri.to_string()),
                    None => (
                        Op::Create,
                        redact_url(&self.rebase(&collection_of(&resource.uri))?),
                    ),
                };
                let after = Some(config.format.serialize(&resource.body));
                Ok(Change::for_resource(op, resource, target)
                    .with_texts(None, after)
                    .with_source(resource.uri.clone()))
            })
            .collect()
    }

    /// `--create post`: clone with the id map, saved sorted whatever happens.
    async fn clone_all(&self, set: &WriteSet<'_>, context: &Context<'_>) -> Result<()> {
        let config = context.config;
        let map = IdMap::load(config.id_map.as_deref())?;
        let refs = RefIndex::new(&config.refs, set.resources);
        let cloner = Cloner::new(map, refs, config.schema, config.format);
        let written = self
            .write_all(set, context, &WriteMode::Clone(&cloner), &HashSet::new())
            .await;
        cloner.save()?;
        written.map(|_| ())
    }

    /// With `--ignore`, the resources the destination already holds (ignored fields and
    /// `_links` aside): they are not sent. Without it, every resource is PUT.
    async fn unchanged_at_destination(
        &self,
        set: &WriteSet<'_>,
        context: &Context<'_>,
    ) -> Result<HashSet<usize>> {
        let ignore = &context.config.ignore;
        if ignore.is_empty() {
            return Ok(HashSet::new());
        }
        let existing = self.snapshot(context).await?;
        Ok((0..set.resources.len())
            .filter(|&index| {
                let resource = &set.resources[index];
                let current = self
                    .rebase(&resource.uri)
                    .ok()
                    .and_then(|url| existing.get(&normalized_key(&url)));
                current.is_some_and(|current| !differs(&resource.body, &current.body, ignore))
            })
            .collect())
    }

    async fn write_all(
        &self,
        set: &WriteSet<'_>,
        context: &Context<'_>,
        mode: &WriteMode<'_>,
        unchanged: &HashSet<usize>,
    ) -> Result<bool> {
        let config = context.config;
        let mut scheduler = Scheduler::new(set.graph, set.order);
        let mut in_flight = FuturesUnordered::new();
        let mut in_flight_indices: Vec<usize> = Vec::new();
        let mut all_ok = true;
        loop {
            // After Ctrl-C nothing new starts; what is in flight finishes and is recorded.
            while in_flight.len() < config.http.concurrency && !context.interrupt.is_requested() {
                let Some(first) = scheduler.next_ready() else {
                    break;
                };
                if unchanged.contains(&first) {
                    let resource = &set.resources[first];
                    let target = redact_url(&self.rebase(&resource.uri)?);
                    context.report.record(Outcome::new(
                        Op::Unchanged,
                        resource,
                        target,
                        Status::Done(None),
                    ));
                    scheduler.succeeded(first);
                    continue;
                }
                let batch = match mode {
                    WriteMode::Put(_) => {
                        self.gather_batch(first, set, &mut scheduler, context).await
                    }
                    WriteMode::Clone(_) => vec![first],
                };
                in_flight_indices.extend(&batch);
                in_flight.push(self.send_batch(batch, set, context, mode));
            }
            let Some(sent) = in_flight.next().await else {
                break;
            };
            in_flight_indices.retain(|index| !sent.indices.contains(index));
            let ok = self.settle(sent, set, &mut scheduler, context, mode);
            all_ok &= ok;
            if !ok && config.fail_fast {
                for index in scheduler.abandon(&in_flight_indices) {
                    self.skip(
                        index,
                        set,
                        context,
                        "not attempted after --fail-fast stopped the run",
                    );
                }
            }
        }
        if context.interrupt.is_requested() {
            for index in scheduler.abandon(&[]) {
                self.skip(index, set, context, "not attempted: interrupted");
            }
        }
        Ok(all_ok)
    }

    /// With `--batch-size` > 1 and a collection that allows PATCH, more ready
    /// resources of the same collection join the first.
    async fn gather_batch(
        &self,
        first: usize,
        set: &WriteSet<'_>,
        scheduler: &mut Scheduler<'_>,
        context: &Context<'_>,
    ) -> Vec<usize> {
        let batch_size = context.config.batch_size;
        if batch_size <= 1 {
            return vec![first];
        }
        let collection = collection_of(&set.resources[first].uri);
        if !self.collection_allows_patch(&collection, context).await {
            return vec![first];
        }
        let mut batch = vec![first];
        batch.extend(scheduler.take_ready_matching(batch_size - 1, |index| {
            set.resources[index].kind == set.resources[first].kind
                && collection_of(&set.resources[index].uri) == collection
        }));
        batch
    }

    async fn collection_allows_patch(&self, collection: &str, context: &Context<'_>) -> bool {
        if let Some(known) = self.lock_batch_support().get(collection) {
            return *known;
        }
        let allowed = match self.rebase(collection) {
            Ok(url) => {
                let request = Request {
                    method: Method::OPTIONS,
                    url,
                    body: None,
                };
                match context.http.send(&request).await {
                    Ok(reply) => allows_patch(&reply),
                    Err(_) => false,
                }
            }
            Err(_) => false,
        };
        self.lock_batch_support()
            .insert(collection.to_string(), allowed);
        allowed
    }

    fn lock_batch_support(&self) -> std::sync::MutexGuard<'_, HashMap<String, bool>> {
        // The map only caches answers; a poisoned lock still holds valid entries.
        self.batch_support
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn send_batch<'s>(
        &'s self,
        indices: Vec<usize>,
        set: &'s WriteSet<'_>,
        context: &'s Context<'_>,
        mode: &'s WriteMode<'_>,
    ) -> BoxFuture<'s, Sent> {
        Box::pin(async move {
            let resources: Vec<&Resource> = indices.iter().map(|&i| &set.resources[i]).collect();
            let built = match mode {
                WriteMode::Put(bodies) => self.put_request(&resources, bodies),
                WriteMode::Clone(cloner) => cloner
                    .request(self, resources[0])
                    .map(|(request, target)| (request, vec![target])),
            };
            match built {
                Ok((request, targets)) => {
                    let result = context.http.send(&request).await;
                    let keep = matches!(mode, WriteMode::Clone(_)).then_some(request);
                    Sent {
                        indices,
                        result,
                        targets,
                        request: keep,
                    }
                }
                Err(error) => {
                    let reason = format!("{error:#}");
                    let targets = resources.iter().map(|r| r.uri.clone()).collect();
                    let result = Err(client::TransportFailure {
                        reason,
                        attempts: 0,
                    });
                    Sent {
                        indices,
                        result,
                        targets,
                        request: None,
                    }
                }
            }
        })
    }

    /// One PUT, or a PATCH of a batch, and the target of each resource in it.
    fn put_request(
        &self,
        resources: &[&Resource],
        bodies: &Bodies<'_>,
    ) -> Result<(Request, Vec<String>)> {
        let format = bodies.format();
        let request = if resources.len() == 1 {
            let body = bodies.text(resources[0]).into_owned().into_bytes();
            let url = self.rebase(&resources[0].uri)?;
            Request {
                method: Method::PUT,
                url,
                body: Some((body, format.media_type())),
            }
        } else {
            let texts: Vec<Cow<'_, str>> = resources.iter().map(|r| bodies.text(r)).collect();
            let body = batch_body(format, &texts).into_bytes();
            let url = self.rebase(&collection_of(&resources[0].uri))?;
            Request {
                method: Method::PATCH,
                url,
                body: Some((body, format.media_type())),
            }
        };
        let targets = resources
            .iter()
            .map(|r| self.rebase(&r.uri).map(|u| redact_url(&u)))
            .collect::<Result<Vec<_>>>()?;
        Ok((request, targets))
    }

    /// Record a finished request; returns whether it succeeded.
    fn settle(
        &self,
        mut sent: Sent,
        set: &WriteSet<'_>,
        scheduler: &mut Scheduler<'_>,
        context: &Context<'_>,
        mode: &WriteMode<'_>,
    ) -> bool {
        let report = context.report;
        let (status, attempts, failure) = match &sent.result {
            Ok(reply) if reply.is_success() => {
                let learnt = match (mode, &sent.request) {
                    (WriteMode::Clone(cloner), Some(request)) => cloner
                        .learn(&set.resources[sent.indices[0]], request, reply)
                        .map(|target| sent.targets = vec![target]),
                    _ => Ok(()),
                };
                (
                    Some(reply.status),
                    reply.attempts,
                    learnt.err().map(|error| format!("{error:#}")),
                )
            }
            Ok(reply) => (
                Some(reply.status),
                reply.attempts,
                Some(reply.describe_status()),
            ),
            Err(failure) => (None, failure.attempts, Some(failure.reason.clone())),
        };
        for (&index, target) in sent.indices.iter().zip(&sent.targets) {
            let resource = &set.resources[index];
            let op = if status == Some(201) {
                Op::Create
            } else {
                Op::Update
            };
            match &failure {
                None => {
                    report.record(
                        Outcome::new(op, resource, target.clone(), Status::Done(status))
                            .with_attempts(attempts),
                    );
                    scheduler.succeeded(index);
                }
                Some(reason) => {
                    report.record(
                        Outcome::new(op, resource, target.clone(), Status::Failed(reason.clone()))
                            .with_attempts(attempts)
                            .with_http_status(status),
                    );
                    for skipped in scheduler.failed(index) {
                        self.skip(
                            skipped,
                            set,
                            context,
                            &format!("a parent failed ({})", resource.uri),
                        );
                    }
                }
            }
        }
        failure.is_none()
    }

    fn skip(&self, index: usize, set: &WriteSet<'_>, context: &Context<'_>, reason: &str) {
        let resource = &set.resources[index];
        let target = self
            .rebase(&resource.uri)
            .map(|u| redact_url(&u))
            .unwrap_or_else(|_| resource.uri.clone());
        context.report.record(Outcome::new(
            Op::Update,
            resource,
            target,
            Status::Skipped(reason.to_string()),
        ));
    }

    /// `--rm`: read the destination and DELETE what the origins lack, children first.
    async fn remove_stale(&self, set: &WriteSet<'_>, context: &Context<'_>) -> Result<()> {
        let existing = self.snapshot(context).await?;
        let stale = self.stale_in(set, existing.into_values().collect())?;
        let urls = stale
            .iter()
            .map(|resource| self.rebase(&resource.uri))
            .collect::<Result<Vec<Url>>>()?;
        let targets: Vec<String> = urls.iter().map(redact_url).collect();
        let blocked = deletions_blocked(&targets, context);
        for ((resource, url), target) in stale.iter().zip(urls).zip(targets) {
            if let Some(reason) = &blocked {
                let skipped = Status::Skipped(reason.clone());
                context
                    .report
                    .record(Outcome::new(Op::Delete, resource, target, skipped));
                continue;
            }
            let request = Request {
                method: Method::DELETE,
                url,
                body: None,
            };
            let (status, code, attempts) = match context.http.send(&request).await {
                Ok(reply) if reply.is_success() || reply.status == 404 => (
                    Status::Done(Some(reply.status)),
                    Some(reply.status),
                    reply.attempts,
                ),
                Ok(reply) => (
                    Status::Failed(reply.describe_status()),
                    Some(reply.status),
                    reply.attempts,
                ),
                Err(failure) => (Status::Failed(failure.reason), None, failure.attempts),
            };
            let outcome = Outcome::new(Op::Delete, resource, target, status).with_http_status(code);
            context.report.record(outcome.with_attempts(attempts));
        }
        Ok(())
    }

    /// Everything the destination URL holds, by normalised rebased uri.
    async fn snapshot(&self, context: &Context<'_>) -> Result<HashMap<String, Resource>> {
        let mut existing = HashMap::new();
        Crawl::new(&self.url, context)
            .run(&mut |resource: Resource| {
                if let Ok(url) = self.rebase(&resource.uri) {
                    existing.insert(normalized_key(&url), resource);
                }
                Ok(())
            })
            .await?;
        Ok(existing)
    }

    /// Destination resources of the types being written that no origin holds,
    /// in delete order (children before parents).
    fn stale_in(&self, set: &WriteSet<'_>, existing: Vec<Resource>) -> Result<Vec<Resource>> {
        let kinds: HashSet<&str> = set.resources.iter().map(|r| r.kind.as_str()).collect();
        let wanted: HashSet<String> = set
            .resources
            .iter()
            .filter_map(|r| self.rebase(&r.uri).ok().map(|u| normalized_key(&u)))
            .collect();
        let stale: Vec<Resource> = existing
            .into_iter()
            .filter(|resource| kinds.contains(resource.kind.as_str()))
            .filter(|resource| {
                let key = self
                    .rebase(&resource.uri)
                    .map(|u| normalized_key(&u))
                    .unwrap_or_default();
                !wanted.contains(&key)
            })
            .collect();
        let graph = DependencyGraph::new(&stale);
        let mut order = graph.write_order(&stale)?;
        order.reverse();
        let mut slots: Vec<Option<Resource>> = stale.into_iter().map(Some).collect();
        Ok(order
            .into_iter()
            .filter_map(|index| slots[index].take())
            .collect())
    }
}

/// Whether any field the origin holds differs at the destination (`_links` aside:
/// servers rewrite links to their own host).
fn differs(origin: &Value, destination: &Value, ignore: &[Vec<String>]) -> bool {
    let (origin, destination) = (
        without_fields(origin, ignore),
        without_fields(destination, ignore),
    );
    let (Some(origin), Some(destination)) = (origin.as_object(), destination.as_object()) else {
        return origin != destination;
    };
    origin
        .iter()
        .filter(|(key, _)| key.as_str() != "_links")
        .any(|(key, value)| destination.get(key) != Some(value))
}

/// A resource's collection: its uri without the last path segment.
fn collection_of(uri: &str) -> String {
    let path_end = uri.find(['?', '#']).unwrap_or(uri.len());
    let path = uri[..path_end].trim_end_matches('/');
    path.rsplit_once('/')
        .map(|(collection, _)| collection.to_string())
        .unwrap_or_default()
}

fn allows_patch(reply: &Reply) -> bool {
    reply
        .headers
        .get_all(reqwest::header::ALLOW)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|method| method.trim().eq_ignore_ascii_case("PATCH"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebase_keeps_path_and_query() {
        let endpoint = HttpEndpoint::new(Url::parse("https://staging.example:8443/api").unwrap());
        let url = endpoint
            .rebase("http://prod.example/api/team/1?x=2")
            .unwrap();
        assert_eq!(url.as_str(), "https://staging.example:8443/api/team/1?x=2");
        let url = endpoint.rebase("/api/team/2").unwrap();
        assert_eq!(url.as_str(), "https://staging.example:8443/api/team/2");
    }

    #[test]
    fn collection_drops_last_segment() {
        assert_eq!(
            collection_of("http://h/api/player/10"),
            "http://h/api/player"
        );
        assert_eq!(
            collection_of("http://h/api/player/10/?x=1"),
            "http://h/api/player"
        );
    }

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
    fn differences_ignore_links_and_extra_destination_fields() {
        let origin =
            serde_json::json!({"id": 1, "name": "a", "_links": {"self": {"href": "http://o/t/1"}}});
        let same = serde_json::json!({"id": 1, "name": "a", "extra": true, "_links": {"self": {"href": "http://d/t/1"}}});
        let changed = serde_json::json!({"id": 1, "name": "b"});
        assert!(!differs(&origin, &same, &[]));
        assert!(differs(&origin, &changed, &[]));
        assert!(!differs(&origin, &changed, &[vec!["name".to_string()]]));
    }

    #[test]
    fn batch_body_joins_serialised_items_as_python_would() {
        let items = [
            serde_json::json!({"id": 1, "b": "\u{e9}"}),
            serde_json::json!({"id": 2, "a": [1.5]}),
        ];
        let texts: Vec<Cow<'_, str>> = items
            .iter()
            .map(|item| Cow::Owned(Format::Json.serialize(item)))
            .collect();
        let whole = Format::Json.serialize(&serde_json::json!({ "items": items }));
        assert_eq!(batch_body(Format::Json, &texts), whole);
        let texts: Vec<Cow<'_, str>> = items
            .iter()
            .map(|item| Cow::Owned(Format::Yaml.serialize(item)))
            .collect();
        let whole = Format::Yaml.serialize(&serde_json::json!({ "items": items }));
        assert_eq!(batch_body(Format::Yaml, &texts), whole);
    }

    #[test]
    fn media_types_with_parameters() {
        assert!(is_json_media_type("application/hal+json"));
        assert!(is_json_media_type("application/vnd.api+json"));
        assert!(is_yaml_media_type("text/x-yaml"));
        assert!(!is_json_media_type("text/html"));
    }
}
