//! Writing to an API: PUTs (or PATCH batches) scheduled over the dependency graph, clones
//! with POST, `--ignore` comparisons, and `--rm` deletions after every write succeeded.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use anyhow::Result;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::clone::Cloner;
use super::crawl::{normalized_key, Crawl};
use super::{client, redact_url, HttpEndpoint, Reply, Request};
use crate::endpoint::{deletions_blocked, Context, Stage, WriteSet};
use crate::format::yaml::YamlDocuments;
use crate::format::Format;
use crate::graph::{DependencyGraph, Scheduler};
use crate::plan::Change;
use crate::remap::{IdMap, RefIndex};
use crate::report::{Op, Outcome, Status};
use crate::resource::{without_fields, Resource};

/// Serialised request bodies: made from each resource as it is sent, or staged as
/// text while reading, so a push holds no parsed bodies in memory.
pub(super) enum Bodies<'a> {
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
pub(super) enum WriteMode<'a> {
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
pub(super) struct HttpStage<'e> {
    pub(super) endpoint: &'e HttpEndpoint,
    pub(super) format: Format,
    pub(super) texts: HashMap<String, Box<str>>,
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
    pub(super) async fn write_with(
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
    pub(super) fn clone_plan(
        &self,
        set: &WriteSet<'_>,
        context: &Context<'_>,
    ) -> Result<Vec<Change>> {
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
    pub(super) async fn clone_all(&self, set: &WriteSet<'_>, context: &Context<'_>) -> Result<()> {
        let config = context.config;
        let map = IdMap::load(config.id_map.as_deref())?;
        let refs = RefIndex::new(&config.refs, set.resources);
        let cloner = Cloner::new(map, refs, config.schema, config.format);
        let written = self
            .write_all(set, context, &WriteMode::Clone(&cloner), &HashSet::new())
            .await;
        cloner.save()?;
        written
    }

    /// With `--ignore`, the resources the destination already holds (ignored fields and
    /// `_links` aside): they are not sent. Without it, every resource is PUT.
    pub(super) async fn unchanged_at_destination(
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
    ) -> Result<()> {
        let config = context.config;
        let mut scheduler = Scheduler::new(set.graph, set.order);
        let mut in_flight = FuturesUnordered::new();
        let mut in_flight_indices: Vec<usize> = Vec::new();
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
        Ok(())
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
    pub(super) async fn snapshot(
        &self,
        context: &Context<'_>,
    ) -> Result<HashMap<String, Resource>> {
        let mut existing = HashMap::new();
        Crawl::of_destination(&self.url, context)
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
    pub(super) fn stale_in(
        &self,
        set: &WriteSet<'_>,
        existing: Vec<Resource>,
    ) -> Result<Vec<Resource>> {
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
pub(super) fn differs(origin: &Value, destination: &Value, ignore: &[Vec<String>]) -> bool {
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
pub(super) fn collection_of(uri: &str) -> String {
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
}
