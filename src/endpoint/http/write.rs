//! Writing to an API: PUTs (or PATCH batches) scheduled over the dependency graph, clones
//! with POST, `--ignore` comparisons, and `--rm` deletions after every write succeeded.

use anyhow::{anyhow, Result};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::{client, collection_of, redact_url, HttpEndpoint, Reply, Request};
use crate::endpoint::text_spill::TextSpill;
use crate::endpoint::{Context, Stage, WriteSet};
use crate::format::Format;
use crate::graph::Scheduler;
use crate::plan::{answered_op, Decision, March, Stale};
use crate::report::{Op, Outcome, Status};
use crate::resource::Resource;
use crate::schema::Dialect;

/// Serialised request bodies: made from each resource as it is sent, or staged as
/// text while reading (in a temporary file), so a push holds no bodies in memory.
pub(super) enum Bodies<'a> {
    Made(Format),
    Staged(Format, &'a TextSpill),
}

impl Bodies<'_> {
    fn format(&self) -> Format {
        match self {
            Bodies::Made(format) | Bodies::Staged(format, _) => *format,
        }
    }

    fn text(&self, resource: &Resource) -> Result<String> {
        Ok(match self {
            Bodies::Staged(format, texts) => match texts.get(&resource.uri)? {
                Some(text) => text,
                None => format.serialize(&resource.body),
            },
            Bodies::Made(format) => format.serialize(&resource.body),
        })
    }
}

/// How a write builds each request and learns from its answer: a push PUTs at each
/// resource's own uri, a clone POSTs what is new, a profile writes as it says.
pub(super) trait Writes: Sync {
    /// Whether ready resources of one collection may share a `PATCH` (`--batch-size`).
    fn batches(&self) -> bool {
        false
    }

    /// The request for `resources` (one, or a batch where `batches`) and each one's target.
    fn request(
        &self,
        endpoint: &HttpEndpoint,
        resources: &[&Resource],
        dialect: &dyn Dialect,
    ) -> Result<(Request, Vec<String>)>;

    /// After a successful POST: the created resource's target, learnt from the answer.
    fn learn(&self, _resource: &Resource, request: &Request, _reply: &Reply) -> Result<String> {
        Ok(redact_url(&request.url))
    }

    /// Where a resource that is not written would have gone, for the report.
    fn target(&self, endpoint: &HttpEndpoint, resource: &Resource) -> Option<String> {
        endpoint
            .rebase(&resource.uri)
            .ok()
            .map(|url| redact_url(&url))
    }
}

/// A push: PUT at each resource's own uri, rebased (PATCH batches where allowed).
pub(super) struct Put<'a>(pub(super) Bodies<'a>);

impl Writes for Put<'_> {
    fn batches(&self) -> bool {
        true
    }

    fn request(
        &self,
        endpoint: &HttpEndpoint,
        resources: &[&Resource],
        dialect: &dyn Dialect,
    ) -> Result<(Request, Vec<String>)> {
        put_request(endpoint, resources, &self.0, dialect)
    }
}

/// A write request carrying `body` serialised as `format` (its media type that of the
/// API's convention, where it names one), and its target.
pub(super) fn body_request(
    (method, url): (Method, Url),
    body: &Value,
    format: Format,
    media_type: Option<&'static str>,
) -> (Request, Vec<String>) {
    let target = redact_url(&url);
    let request = Request {
        body: Some((format.serialize(body).into_bytes(), format.media_type())),
        media_type,
        ..Request::new(method, url)
    };
    (request, vec![target])
}

/// A PATCH body, `{"<field>": [...]}` with the dialect's batch field, from bodies
/// already serialised one by one.
fn batch_body(format: Format, field: &str, texts: &[String]) -> String {
    match format {
        // Python's `json.dumps` of the wrapper is exactly the items' texts joined by ", ".
        Format::Json => {
            let items: Vec<&str> = texts.iter().map(|text| text.trim_end()).collect();
            let key = Value::String(field.to_string());
            format!("{{{key}: [{}]}}\n", items.join(", "))
        }
        Format::Yaml => {
            let items: Vec<Value> = texts
                .iter()
                .filter_map(|text| format.parse(text).ok())
                .collect();
            format.serialize(&serde_json::json!({ field: items }))
        }
    }
}

/// A push in progress: each body waits as the request text it would be sent as until
/// the set is ordered and the destination surveyed; the march then decides each one
/// from that text.
pub(super) struct HttpStage<'e> {
    pub(super) endpoint: &'e HttpEndpoint,
    pub(super) march: &'e March<'e>,
    pub(super) format: Format,
    pub(super) texts: TextSpill,
}

impl HttpStage<'_> {
    /// The march's operation for a staged resource; its body is read back and parsed
    /// from its text only when the destination holds a copy to compare with.
    fn op(&self, resource: &Resource) -> Result<Op> {
        let parse = || match self.texts.get(&resource.uri)? {
            Some(text) => Ok(Some(self.format.parse(&text)?)),
            None => Err(anyhow!("{} was read but never staged", resource.uri)),
        };
        self.march.op_with_body(resource, &parse)
    }
}

impl Stage for HttpStage<'_> {
    fn put(&mut self, resource: Resource) -> Result<()> {
        let text = self.format.serialize(&resource.body);
        self.texts.put(resource.uri, &text)
    }

    fn commit<'a>(
        mut self: Box<Self>,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>>
    where
        Self: 'a,
    {
        Box::pin(async move {
            self.texts.finish()?;
            let ops = set
                .resources
                .iter()
                .map(|resource| self.op(resource))
                .collect::<Result<Vec<Op>>>()?;
            let bodies = Bodies::Staged(self.format, &self.texts);
            let decided = Decided::Ops(&ops, self.march);
            let writer = Writer {
                endpoint: self.endpoint,
                writes: &Put(bodies),
            };
            writer.write_all(set, &decided, context).await
        })
    }
}

/// What the writer needs of each resource's decision: the decisions themselves, or
/// (a staged push of a million) each operation alone, a byte a resource, the target of
/// an unchanged one made again when it is recorded.
pub(super) enum Decided<'d> {
    All(&'d [Decision]),
    Ops(&'d [Op], &'d March<'d>),
}

impl Decided<'_> {
    fn op(&self, index: usize) -> Op {
        match self {
            Decided::All(decisions) => decisions[index].op,
            Decided::Ops(ops, _) => ops[index],
        }
    }

    /// The target of an unchanged resource, for the report (its uri if none can be made).
    fn target(&self, index: usize, resource: &Resource) -> String {
        match self {
            Decided::All(decisions) => decisions[index].target.clone(),
            Decided::Ops(_, march) => march
                .target(resource)
                .unwrap_or_else(|_| resource.uri.to_string()),
        }
    }
}

/// The result of one PUT or PATCH, for every resource it carried.
struct Sent {
    indices: Vec<usize>,
    result: Result<Reply, client::TransportFailure>,
    targets: Vec<String>,
    /// The request, for learning what a create's reply names (`None` if none was built).
    request: Option<Request>,
}

/// One write of the run to `endpoint`, every request built by `writes`.
pub(super) struct Writer<'w> {
    pub(super) endpoint: &'w HttpEndpoint,
    pub(super) writes: &'w dyn Writes,
}

impl Writer<'_> {
    /// Write every resource the march found changed, each once its parents are written;
    /// record the unchanged ones.
    pub(super) async fn write_all(
        &self,
        set: &WriteSet<'_>,
        decisions: &Decided<'_>,
        context: &Context<'_>,
    ) -> Result<()> {
        let run = context.run;
        let mut scheduler = Scheduler::new(set.graph, set.order);
        let mut in_flight = FuturesUnordered::new();
        let mut in_flight_indices: Vec<usize> = Vec::new();
        loop {
            // After a signal nothing new starts; what is in flight finishes and is recorded.
            while in_flight.len() < run.concurrency && !context.interrupt.is_requested() {
                let Some(first) = scheduler.next_ready() else {
                    break;
                };
                if decisions.op(first) == Op::Unchanged {
                    let resource = &set.resources[first];
                    let target = decisions.target(first, resource);
                    context.report.record(Outcome::new(
                        Op::Unchanged,
                        resource,
                        target,
                        Status::Done(None),
                    ));
                    scheduler.succeeded(first);
                    continue;
                }
                let batch = match self.writes.batches() {
                    true => {
                        self.gather_batch(first, set, decisions, &mut scheduler, context)
                            .await
                    }
                    false => vec![first],
                };
                in_flight_indices.extend(&batch);
                in_flight.push(self.send_batch(batch, set, context));
            }
            let Some(sent) = in_flight.next().await else {
                break;
            };
            in_flight_indices.retain(|index| !sent.indices.contains(index));
            let ok = self.settle(sent, set, &mut scheduler, context);
            if !ok && run.fail_fast {
                for index in scheduler.abandon(&in_flight_indices) {
                    let reason = "not attempted after --fail-fast stopped the run";
                    self.skip(index, set, context, reason);
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
        decisions: &Decided<'_>,
        scheduler: &mut Scheduler<'_>,
        context: &Context<'_>,
    ) -> Vec<usize> {
        let batch_size = context.run.batch_size;
        if batch_size <= 1 {
            return vec![first];
        }
        let collection = collection_of(&set.resources[first].uri);
        if !self.collection_allows_patch(&collection, context).await {
            return vec![first];
        }
        let mut batch = vec![first];
        batch.extend(scheduler.take_ready_matching(batch_size - 1, |index| {
            decisions.op(index) != Op::Unchanged
                && set.resources[index].kind == set.resources[first].kind
                && collection_of(&set.resources[index].uri) == collection
        }));
        batch
    }

    async fn collection_allows_patch(&self, collection: &str, context: &Context<'_>) -> bool {
        if let Some(known) = self.endpoint.lock_batch_support().get(collection) {
            return *known;
        }
        let allowed = match self.endpoint.rebase(collection) {
            Ok(url) => {
                let request = Request::new(Method::OPTIONS, url);
                match context.http.send(&request).await {
                    Ok(reply) => allows_patch(&reply),
                    Err(_) => false,
                }
            }
            Err(_) => false,
        };
        self.endpoint
            .lock_batch_support()
            .insert(collection.to_string(), allowed);
        allowed
    }

    fn send_batch<'s>(
        &'s self,
        indices: Vec<usize>,
        set: &'s WriteSet<'_>,
        context: &'s Context<'_>,
    ) -> BoxFuture<'s, Sent> {
        Box::pin(async move {
            let resources: Vec<&Resource> = indices.iter().map(|&i| &set.resources[i]).collect();
            match self
                .writes
                .request(self.endpoint, &resources, &**context.dialect)
            {
                Ok((request, targets)) => {
                    let result = context.http.send(&request).await;
                    Sent {
                        indices,
                        result,
                        targets,
                        request: Some(request),
                    }
                }
                Err(error) => {
                    let reason = format!("{error:#}");
                    let targets = resources.iter().map(|r| r.uri.to_string()).collect();
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

    /// Record a finished request; returns whether it succeeded.
    fn settle(
        &self,
        mut sent: Sent,
        set: &WriteSet<'_>,
        scheduler: &mut Scheduler<'_>,
        context: &Context<'_>,
    ) -> bool {
        let report = context.report;
        let posted = sent
            .request
            .as_ref()
            .is_some_and(|request| request.method == Method::POST);
        let (status, attempts, failure) = match &sent.result {
            Ok(reply) if reply.is_success() => {
                let learnt = match &sent.request {
                    Some(request) if posted => self
                        .writes
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
            let op = answered_op(status, posted, failure.is_none());
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
                    let reason = format!("a parent failed ({})", resource.uri);
                    for skipped in scheduler.failed(index) {
                        self.skip(skipped, set, context, &reason);
                    }
                }
            }
        }
        failure.is_none()
    }

    fn skip(&self, index: usize, set: &WriteSet<'_>, context: &Context<'_>, reason: &str) {
        let resource = &set.resources[index];
        let target = self
            .writes
            .target(self.endpoint, resource)
            .unwrap_or_else(|| resource.uri.to_string());
        context.report.record(Outcome::new(
            Op::Update,
            resource,
            target,
            Status::Skipped(reason.to_string()),
        ));
    }
}

/// One PUT, or a PATCH of a batch, and the target of each resource in it.
fn put_request(
    endpoint: &HttpEndpoint,
    resources: &[&Resource],
    bodies: &Bodies<'_>,
    dialect: &dyn Dialect,
) -> Result<(Request, Vec<String>)> {
    let format = bodies.format();
    let request = if resources.len() == 1 {
        let body = bodies.text(resources[0])?.into_bytes();
        let url = endpoint.rebase(&resources[0].uri)?;
        Request {
            body: Some((body, format.media_type())),
            ..Request::new(Method::PUT, url)
        }
    } else {
        let texts = resources
            .iter()
            .map(|r| bodies.text(r))
            .collect::<Result<Vec<String>>>()?;
        let body = batch_body(format, dialect.batch_field(), &texts).into_bytes();
        let url = endpoint.rebase(&collection_of(&resources[0].uri))?;
        Request {
            body: Some((body, format.media_type())),
            ..Request::new(Method::PATCH, url)
        }
    };
    let targets = resources
        .iter()
        .map(|r| endpoint.rebase(&r.uri).map(|u| redact_url(&u)))
        .collect::<Result<Vec<_>>>()?;
    Ok((request, targets))
}

/// `--rm`: DELETE each stale resource, in the order given (children first).
pub(super) async fn delete_all(
    endpoint: &HttpEndpoint,
    stale: &[Stale],
    context: &Context<'_>,
) -> Result<()> {
    for entry in stale {
        let request = Request {
            media_type: endpoint.media_type(),
            ..Request::new(Method::DELETE, endpoint.rebase(&entry.resource.uri)?)
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
        let outcome = Outcome::new(Op::Delete, &entry.resource, entry.target.clone(), status)
            .with_http_status(code);
        context.report.record(outcome.with_attempts(attempts));
    }
    Ok(())
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
    fn batch_body_joins_serialised_items_as_python_would() {
        let items = [
            serde_json::json!({"id": 1, "b": "\u{e9}"}),
            serde_json::json!({"id": 2, "a": [1.5]}),
        ];
        let texts: Vec<String> = items
            .iter()
            .map(|item| Format::Json.serialize(item))
            .collect();
        let whole = Format::Json.serialize(&serde_json::json!({ "items": items }));
        assert_eq!(batch_body(Format::Json, "items", &texts), whole);
        let texts: Vec<String> = items
            .iter()
            .map(|item| Format::Yaml.serialize(item))
            .collect();
        let whole = Format::Yaml.serialize(&serde_json::json!({ "items": items }));
        assert_eq!(batch_body(Format::Yaml, "items", &texts), whole);
    }
}
