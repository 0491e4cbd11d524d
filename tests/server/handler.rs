//! HTTP layer of the test server: one fallback handler that logs, injects faults and routes.
//! Routing is by hand so every path, known or not, answers JSON with the configured media type.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Map, Value};

use super::jsonapi;
use super::store::{self, Store, Target};
use super::{Convention, Fault, RequestRecord, ServerConfig};

/// Large enough for any fixture a test sends; bounded so a broken client cannot exhaust memory.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

const REQUEST_LIMIT_HEADER: &str = "x-request-limit";

/// State shared between the handler tasks and the `TestServer` handle.
pub(super) struct Shared {
    pub(super) config: ServerConfig,
    pub(super) base_url: String,
    started: Instant,
    store: Mutex<Store>,
    log: Arc<Mutex<Vec<RequestRecord>>>,
    faults: Mutex<Faults>,
    rng: AtomicU64,
    /// When the requests of the last second arrived (for `rate_limit`).
    recent: Mutex<std::collections::VecDeque<Instant>>,
    /// Bumped on every read that touches resources (for `touch_on_read`).
    reads: AtomicU64,
    /// Whether `hold_page`'s awaited request has been answered.
    awaited: tokio::sync::watch::Sender<bool>,
    /// Requests waiting in an injected `Fault::Delay` right now (for `TestServer::held`).
    pub(super) held: AtomicUsize,
}

/// Failures the test asked for; consulted before any routing.
#[derive(Default)]
pub(super) struct Faults {
    pub(super) next_count: usize,
    pub(super) next_status: u16,
    pub(super) paths: BTreeMap<String, u16>,
    /// Faults for the next requests, whatever their path, one each, in order.
    pub(super) queue: VecDeque<Fault>,
    /// Faults for the next requests to one path: how many are left, and which.
    pub(super) path_faults: BTreeMap<String, (usize, Fault)>,
    /// Paths answered with a redirect: status and `Location`.
    pub(super) redirects: BTreeMap<String, (u16, String)>,
}

impl Shared {
    pub(super) fn new(config: ServerConfig, base_url: String) -> Shared {
        // Seeded from the clock: the delays only need to vary, not to be reproducible.
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64)
            | 1;
        Shared {
            config,
            base_url,
            started: Instant::now(),
            store: Mutex::new(Store::default()),
            log: Arc::new(Mutex::new(Vec::new())),
            faults: Mutex::new(Faults::default()),
            rng: AtomicU64::new(seed),
            recent: Mutex::new(std::collections::VecDeque::new()),
            reads: AtomicU64::new(0),
            awaited: tokio::sync::watch::Sender::new(false),
            held: AtomicUsize::new(0),
        }
    }

    /// The state of a server that comes back after an outage: same config, clock, data
    /// and log (one log across the outage), but no pending faults or redirects.
    pub(super) fn resumed(&self) -> Shared {
        Shared {
            config: self.config.clone(),
            base_url: self.base_url.clone(),
            started: self.started,
            store: Mutex::new(Store::clone(&self.store())),
            log: Arc::clone(&self.log),
            faults: Mutex::new(Faults::default()),
            rng: AtomicU64::new(self.rng.load(Ordering::Relaxed)),
            recent: Mutex::new(std::collections::VecDeque::new()),
            reads: AtomicU64::new(self.reads.load(Ordering::Relaxed)),
            awaited: tokio::sync::watch::Sender::new(*self.awaited.borrow()),
            held: AtomicUsize::new(0),
        }
    }

    pub(super) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().expect("test server store mutex poisoned")
    }

    pub(super) fn log(&self) -> MutexGuard<'_, Vec<RequestRecord>> {
        self.log.lock().expect("test server log mutex poisoned")
    }

    pub(super) fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults
            .lock()
            .expect("test server faults mutex poisoned")
    }

    /// Fault to inject for this request: a `fail_next` slot if any are left, else the next
    /// queued fault, else a counted fault of this path, else the path's permanent status.
    fn take_failure(&self, path: &str) -> Option<Fault> {
        let mut faults = self.faults();
        if faults.next_count > 0 {
            faults.next_count -= 1;
            return Some(Fault::status(faults.next_status));
        }
        if let Some(fault) = faults.queue.pop_front() {
            return Some(fault);
        }
        let path = store::normalize(path);
        if let Some((left, fault)) = faults.path_faults.get_mut(&path) {
            let fault = fault.clone();
            *left -= 1;
            if *left == 0 {
                faults.path_faults.remove(&path);
            }
            return Some(fault);
        }
        faults.paths.get(&path).copied().map(Fault::status)
    }

    fn redirect(&self, path: &str) -> Option<(u16, String)> {
        self.faults()
            .redirects
            .get(&store::normalize(path))
            .cloned()
    }

    /// `hold_page`: the held request waits until the awaited one has been answered.
    async fn hold(&self, path_and_query: &str) {
        if let Some((held, _)) = self.config.hold_page.as_ref() {
            if path_and_query == held {
                let mut answered = self.awaited.subscribe();
                let answered = answered.wait_for(|answered| *answered);
                let _ = tokio::time::timeout(super::HOLD_LIMIT, answered).await;
            }
        }
    }

    /// `hold_page`: the awaited request was answered (and logged).
    fn answered(&self, path_and_query: &str) {
        if let Some((_, awaited)) = self.config.hold_page.as_ref() {
            if path_and_query == awaited {
                self.awaited.send_replace(true);
            }
        }
    }

    /// A delay drawn uniformly from the configured latency range (xorshift; no rand crate needed).
    fn latency(&self) -> Option<Duration> {
        let (min, max) = self.config.latency?;
        let span = max.saturating_sub(min).as_nanos() as u64;
        if span == 0 {
            return Some(min);
        }
        let step = |mut x: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let previous = self
            .rng
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| Some(step(x)))
            .unwrap_or(1);
        Some(min + Duration::from_nanos(step(previous) % (span + 1)))
    }
}

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// What the routing functions see of a request.
pub(super) struct Incoming {
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) path_and_query: String,
    pub(super) query: String,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

/// A response before it is turned into HTTP; `body: None` means no body (204).
pub(super) struct Reply {
    pub(super) status: u16,
    headers: Vec<(HeaderName, String)>,
    body: Option<Value>,
}

impl Reply {
    pub(super) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    fn message(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(status, json!({ "message": message.into() }))
    }

    fn no_content() -> Reply {
        Reply {
            status: 204,
            headers: Vec::new(),
            body: None,
        }
    }

    pub(super) fn with_header(mut self, name: HeaderName, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    fn into_response(self, media_type: &str) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = match self.body {
            Some(body) => {
                let mut response = Response::new(Body::from(body.to_string()));
                set_header(&mut response, header::CONTENT_TYPE, media_type);
                response
            }
            None => Response::new(Body::empty()),
        };
        *response.status_mut() = status;
        for (name, value) in self.headers {
            set_header(&mut response, name, &value);
        }
        response
    }
}

/// Values come from config or our own URLs; an invalid one is dropped rather than failing the request.
fn set_header(response: &mut Response, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let at_millis = shared.started.elapsed().as_millis();
    let (parts, body) = request.into_parts();
    let (body, read_error) = match to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => (bytes, None),
        Err(error) => (Bytes::new(), Some(error.to_string())),
    };
    let failure = shared.take_failure(parts.uri.path());
    let redirect = shared.redirect(parts.uri.path());
    if let Some(path_and_query) = parts.uri.path_and_query() {
        shared.hold(path_and_query.as_str()).await;
    }
    // Sleeping here, not under a lock, lets concurrent requests overlap as on a slow real API.
    // On a blocking thread: tokio's timer rounds up to its next millisecond tick, which made
    // a 5 ms latency about 6.4 ms; a thread's sleep ends within some 100 µs of the delay.
    if let Some(delay) = shared.latency() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(delay)).await;
    }
    // A slow answer: the request is then served normally, however late.
    if let Some(Fault::Delay(delay)) = &failure {
        let _held = Held::new(&shared.held);
        tokio::time::sleep(*delay).await;
    }
    let answer_late = match &failure {
        Some(Fault::AnswerLate(delay)) => Some(*delay),
        _ => None,
    };
    let incoming = Incoming {
        method: parts.method,
        path: store::normalize(parts.uri.path()),
        path_and_query: parts.uri.path_and_query().map_or_else(
            || parts.uri.path().to_string(),
            |pq| pq.as_str().to_string(),
        ),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers,
        body,
    };
    let reply = match (failure, read_error) {
        (Some(Fault::Status { status, headers }), _) => {
            let mut reply = Reply::message(status, "injected failure");
            for (name, value) in headers {
                if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                    reply = reply.with_header(name, value);
                }
            }
            reply
        }
        (Some(Fault::Echo(status)), _) => {
            let sent = String::from_utf8_lossy(&incoming.body);
            Reply::message(status, format!("rejected: {sent}"))
        }
        (Some(Fault::CloseMidBody), _) => {
            record(&shared, &incoming, 0, at_millis);
            return truncated_response(&shared.config.media_type);
        }
        (_, Some(error)) => Reply::message(400, format!("cannot read request body: {error}")),
        (Some(Fault::Delay(_) | Fault::AnswerLate(_)) | None, None) if over_rate_limit(&shared) => {
            Reply::message(429, "rate limit exceeded")
                .with_header(header::RETRY_AFTER, "1".to_string())
        }
        (Some(Fault::Delay(_) | Fault::AnswerLate(_)) | None, None) => match redirect {
            Some((status, location)) => Reply::message(status, format!("moved to {location}"))
                .with_header(header::LOCATION, location),
            None if shared.config.endless_pages && incoming.path == ENDLESS_PATH => {
                endless_page(&shared, &incoming)
            }
            None => route(&shared, &incoming),
        },
    };
    let reply = touched(&shared, &incoming, reply);
    if let Some(delay) = answer_late {
        let _held = Held::new(&shared.held);
        tokio::time::sleep(delay).await;
    }
    record(&shared, &incoming, reply.status, at_millis);
    shared.answered(&incoming.path_and_query);
    reply.into_response(&shared.config.media_type)
}

/// Counts a request as held while it waits in a `Fault::Delay`, until the wait ends or the
/// request is dropped (hyper drops it when the client's connection closes).
struct Held<'a>(&'a AtomicUsize);

impl<'a> Held<'a> {
    fn new(count: &'a AtomicUsize) -> Held<'a> {
        count.fetch_add(1, Ordering::SeqCst);
        Held(count)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether this request is one more than `rate_limit` allows in the last second.
fn over_rate_limit(shared: &Shared) -> bool {
    let Some(limit) = shared.config.rate_limit else {
        return false;
    };
    let now = Instant::now();
    let mut recent = shared
        .recent
        .lock()
        .expect("test server rate mutex poisoned");
    while recent
        .front()
        .is_some_and(|&at| now.duration_since(at) >= Duration::from_secs(1))
    {
        recent.pop_front();
    }
    if recent.len() >= limit {
        return true;
    }
    recent.push_back(now);
    false
}

/// With `touch_on_read`, every resource in a GET's answer gets a fresh stamp.
fn touched(shared: &Shared, incoming: &Incoming, mut reply: Reply) -> Reply {
    let (Some(field), true) = (&shared.config.touch_on_read, incoming.method == Method::GET) else {
        return reply;
    };
    let stamp = shared.reads.fetch_add(1, Ordering::Relaxed) + 1;
    let stamp_one = |resource: &mut Value| {
        if let Some(fields) = resource.as_object_mut().filter(|f| f.contains_key("id")) {
            fields.insert(field.clone(), Value::from(format!("read-{stamp}")));
        }
    };
    if let Some(body) = reply.body.as_mut() {
        match body.get_mut("items").and_then(Value::as_array_mut) {
            Some(items) => items.iter_mut().for_each(stamp_one),
            None => stamp_one(body),
        }
    }
    reply
}

/// A 200 whose body stops after a few bytes and then breaks the connection, as when a
/// server or proxy dies mid-response. Nothing is stored.
fn truncated_response(media_type: &str) -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"items\": [{\"id\": 1, ")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected: connection closed mid-response",
        )),
    ];
    let mut response = Response::new(Body::from_stream(futures::stream::iter(chunks)));
    set_header(&mut response, header::CONTENT_TYPE, media_type);
    response
}

/// Path of the endless collection (`ServerConfig::endless_pages`).
pub(super) const ENDLESS_PATH: &str = "/endless";

/// Page `n` (query `page=n`, default 0) of a collection that never ends: one member,
/// `/api/endless/n`, and a `next` link to page `n + 1`.
fn endless_page(shared: &Shared, req: &Incoming) -> Reply {
    let number: u64 = req
        .query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "page")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let base = &shared.base_url;
    let body = json!({
        "_links": {
            "self": { "href": format!("{base}{ENDLESS_PATH}?page={number}") },
            "next": { "href": format!("{base}{ENDLESS_PATH}?page={}", number + 1) },
        },
        "items": [{
            "id": number,
            "_links": { "self": { "href": format!("{base}/api/endless/{number}") } },
        }],
    });
    Reply::json(200, body)
}

fn record(shared: &Shared, incoming: &Incoming, status: u16, at_millis: u128) {
    if !shared.config.record_requests {
        return;
    }
    let headers = incoming
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_ascii_lowercase(), value)
        })
        .collect();
    shared.log().push(RequestRecord {
        method: incoming.method.as_str().to_string(),
        path_and_query: incoming.path_and_query.clone(),
        headers,
        body: logged_body(&incoming.body),
        status,
        at_millis,
    });
}

/// JSON bodies are logged parsed; anything else as a string, so tests can still see what was sent.
fn logged_body(body: &[u8]) -> Option<Value> {
    if body.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned())),
    )
}

fn route(shared: &Shared, req: &Incoming) -> Reply {
    let target = Target::parse(&req.path);
    let config = &shared.config;
    let jsonapi = config.convention == Convention::JsonApi;
    match (&req.method, &target) {
        (&Method::GET, _) => get(shared, req, &target),
        (_, Target::Unknown) => not_found(&req.path),
        (&Method::OPTIONS, _) => {
            Reply::json(200, json!({})).with_header(header::ALLOW, allowed(config, &target))
        }
        (&Method::POST, Target::Collection(kind)) if jsonapi => jsonapi::create(shared, req, kind),
        (&Method::PATCH, Target::Item(kind, id)) if jsonapi => {
            jsonapi::update(shared, req, kind, id)
        }
        (&Method::PUT, Target::Item(..)) if !jsonapi => put(shared, req),
        (&Method::DELETE, Target::Item(..)) => delete(shared, req),
        (&Method::PATCH, Target::Collection(_)) if config.allow_batch => batch(shared, req),
        (&Method::POST, Target::Collection(kind)) if config.assign_ids => create(shared, req, kind),
        (method, _) => Reply::message(405, format!("method {method} not allowed on {}", req.path))
            .with_header(header::ALLOW, allowed(config, &target)),
    }
}

/// The `Allow` list; clients probe collections with OPTIONS to find batch and POST support.
fn allowed(config: &ServerConfig, target: &Target) -> String {
    if config.convention == Convention::JsonApi {
        return match target {
            Target::Collection(_) => "GET, POST, OPTIONS",
            Target::Item(..) => "GET, PATCH, DELETE, OPTIONS",
            Target::Root | Target::Unknown => "GET, OPTIONS",
        }
        .to_string();
    }
    match target {
        Target::Collection(_) => {
            let mut methods = vec!["GET", "PUT", "DELETE", "OPTIONS"];
            if config.allow_batch {
                methods.push("PATCH");
            }
            if config.assign_ids {
                methods.push("POST");
            }
            methods.join(", ")
        }
        Target::Item(..) => "GET, PUT, DELETE, OPTIONS".to_string(),
        Target::Root | Target::Unknown => "GET, OPTIONS".to_string(),
    }
}

pub(super) fn not_found(path: &str) -> Reply {
    Reply::message(404, format!("not found: {path}"))
}

fn get(shared: &Shared, req: &Incoming, target: &Target) -> Reply {
    // An exact stored key wins, so resources seeded under unusual paths are still served.
    if let Some(body) = shared.store().get(&req.path) {
        return match shared.config.convention {
            Convention::JsonApi => Reply::json(200, json!({ "data": body })),
            _ => Reply::json(200, body.clone()),
        };
    }
    match target {
        Target::Root => root(shared),
        Target::Collection(kind) => page(shared, req, kind),
        Target::Item(..) | Target::Unknown => not_found(&req.path),
    }
}

/// The API root: where each collection is, in the convention's words.
fn root(shared: &Shared) -> Reply {
    let base = &shared.base_url;
    let collections: Vec<String> = store::types(&shared.store())
        .into_iter()
        .map(|kind| format!("{base}/api/{kind}"))
        .collect();
    match shared.config.convention {
        Convention::Hal => {}
        // A mapping without `id`: a container whose links are followed.
        Convention::Simple => return Reply::json(200, json!({ "links": collections })),
        Convention::Plain | Convention::JsonApi => {
            return Reply::json(200, json!({ "meta": { "collections": collections } }))
        }
    }
    let mut links = Map::new();
    links.insert("self".into(), json!({ "href": format!("{base}/api") }));
    for kind in store::types(&shared.store()) {
        let href = format!("{base}/api/{kind}");
        links.insert(format!("child:{kind}"), json!({ "href": href }));
    }
    Reply::json(200, json!({ "_links": links }))
}

fn page(shared: &Shared, req: &Incoming, kind: &str) -> Reply {
    match shared.config.convention {
        Convention::Hal => {}
        Convention::Simple | Convention::Plain => return array_page(shared, req, kind),
        Convention::JsonApi => return jsonapi::page(shared, req, kind),
    }
    let Window {
        items,
        count,
        next,
        prev,
    } = match window(shared, req, kind) {
        Ok(window) => window,
        Err(reply) => return reply,
    };

    let mut links = Map::new();
    let self_href = format!("{}{}", shared.base_url, req.path_and_query);
    links.insert("self".into(), json!({ "href": self_href }));
    if let Some(prev) = &prev {
        links.insert("prev".into(), json!({ "href": prev }));
    }
    if !shared.config.link_header_pages {
        if let Some(next) = &next {
            links.insert("next".into(), json!({ "href": next }));
        }
    }
    let body = match shared.config.no_count {
        true => json!({ "_links": links, "items": items }),
        false => json!({ "_links": links, "items": items, "count": count }),
    };
    let reply = Reply::json(200, body);
    match link_header(&shared.config, next.as_deref(), prev.as_deref()) {
        Some(value) => reply.with_header(header::LINK, value),
        None => reply,
    }
}

/// One page of a collection: its members, the total, and the next and previous pages
/// (`?offset=N`).
struct Window {
    items: Vec<Value>,
    count: usize,
    next: Option<String>,
    prev: Option<String>,
}

/// The page the request asks for (`X-Request-Limit`, `?offset=`), or the error answer.
fn window(shared: &Shared, req: &Incoming, kind: &str) -> Result<Window, Reply> {
    let limit = page_limit(&shared.config, &req.headers)?;
    let offset = page_offset(&req.query)?;
    let (mut items, count) = store::members_page(&mut shared.store(), kind, offset, limit);
    if let Some(field) = &shared.config.listing_omits {
        for item in &mut items {
            item.as_object_mut().map(|fields| fields.remove(field));
        }
    }
    if shared.config.past_end_404 && offset > 0 && offset >= count {
        return Err(Reply::message(404, format!("no page at offset {offset}")));
    }
    let collection = format!("{}/api/{kind}", shared.base_url);
    let page_at = |offset: usize| format!("{collection}?offset={offset}");
    let mut next = (offset.saturating_add(limit) < count).then(|| page_at(offset + limit));
    let mut prev = (offset > 0).then(|| page_at(offset.saturating_sub(limit)));
    if let Some((from, to)) = shared.config.next_jump {
        if offset == from {
            next = (to < count).then(|| page_at(to));
        }
        if offset == to {
            prev = Some(page_at(from));
        }
    }
    Ok(Window {
        items,
        count,
        next,
        prev,
    })
}

/// A page of a `--simple` or plain-JSON collection: the bare array of its members, the next
/// and previous pages (`?offset=N`) in a `Link` header.
fn array_page(shared: &Shared, req: &Incoming, kind: &str) -> Reply {
    let Window {
        items, next, prev, ..
    } = match window(shared, req, kind) {
        Ok(window) => window,
        Err(reply) => return reply,
    };
    let reply = Reply::json(200, Value::Array(items));
    match link_value(next.as_deref(), prev.as_deref()) {
        Some(value) => reply.with_header(header::LINK, value),
        None => reply,
    }
}

/// RFC 8288 `Link` value for header-paginated servers; `None` when there is nothing to link.
fn link_header(config: &ServerConfig, next: Option<&str>, prev: Option<&str>) -> Option<String> {
    if !config.link_header_pages {
        return None;
    }
    link_value(next, prev)
}

/// RFC 8288 `Link` value naming `next` and `prev`; `None` when there is neither.
fn link_value(next: Option<&str>, prev: Option<&str>) -> Option<String> {
    let parts: Vec<String> = [(next, "next"), (prev, "prev")]
        .into_iter()
        .filter_map(|(href, rel)| href.map(|href| format!("<{href}>; rel=\"{rel}\"")))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn page_limit(config: &ServerConfig, headers: &HeaderMap) -> Result<usize, Reply> {
    let requested = match headers.get(REQUEST_LIMIT_HEADER) {
        None => config.page_size,
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<usize>().ok())
            .filter(|limit| *limit > 0)
            .ok_or_else(|| Reply::message(400, format!("invalid X-Request-Limit: {value:?}")))?,
    };
    // At least one per page, or a client following `next` would never finish.
    Ok(requested.min(config.max_page_size).max(1))
}

fn page_offset(query: &str) -> Result<usize, Reply> {
    let raw = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "offset")
        .map(|(_, value)| value);
    match raw {
        None => Ok(0),
        Some(value) => value
            .parse()
            .map_err(|_| Reply::message(400, format!("invalid offset: {value}"))),
    }
}

/// The request body as a JSON object, or the 4xx reply explaining why not.
fn json_object(req: &Incoming) -> Result<Map<String, Value>, Reply> {
    check_content_type(&req.headers)?;
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Reply::message(400, "body must be a JSON object")),
        Err(error) => Err(Reply::message(400, format!("invalid JSON body: {error}"))),
    }
}

/// Strict like a real API: a client that forgets the JSON Content-Type should fail here too.
fn check_content_type(headers: &HeaderMap) -> Result<(), Reply> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(Reply::message(
            415,
            "missing Content-Type (expected application/json)",
        ));
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if is_json {
        Ok(())
    } else {
        Err(Reply::message(
            415,
            format!("unsupported Content-Type: {text} (expected application/json)"),
        ))
    }
}

/// The refusal of a body whose parent is not stored (JSON:API: 404, as its specification
/// answers a related resource that does not exist; elsewhere 409).
pub(super) fn orphan_reply(config: &ServerConfig, store: &Store, body: &Value) -> Option<Reply> {
    if !config.refuse_orphans {
        return None;
    }
    let parent = store::missing_parent(config.convention, store, body)?;
    let message = format!("parent {parent} does not exist");
    Some(match config.convention {
        Convention::JsonApi => jsonapi::error(404, message),
        _ => Reply::message(409, message),
    })
}

fn put(shared: &Shared, req: &Incoming) -> Reply {
    let body = match json_object(req) {
        Ok(object) => Value::Object(object),
        Err(reply) => return reply,
    };
    let mut store = shared.store();
    let existed = store.contains_key(&req.path);
    // Servers that assign ids only accept PUT as an update.
    if shared.config.assign_ids && !existed {
        return not_found(&req.path);
    }
    if let Some(reply) = orphan_reply(&shared.config, &store, &body) {
        return reply;
    }
    store.insert(req.path.clone(), altered(&shared.config, &body));
    let created = shared.config.put_created_status;
    Reply::json(if existed { 200 } else { created }, body)
}

/// The body as `alter_on_put` stores it.
fn altered(config: &ServerConfig, body: &Value) -> Value {
    let mut stored = body.clone();
    if let (Some((field, value)), Some(object)) = (&config.alter_on_put, stored.as_object_mut()) {
        object.insert(field.clone(), value.clone());
    }
    stored
}

fn delete(shared: &Shared, req: &Incoming) -> Reply {
    let mut store = shared.store();
    if !store.contains_key(&req.path) {
        return not_found(&req.path);
    }
    if shared.config.refuse_parent_delete {
        if let Some(child) = store::child_of(shared.config.convention, &store, &req.path) {
            return Reply::message(409, format!("{} is the parent of {child}", req.path));
        }
    }
    store.remove(&req.path);
    Reply::no_content()
}

/// All-or-nothing: items are staged on a copy so a bad item leaves the store untouched.
fn batch(shared: &Shared, req: &Incoming) -> Reply {
    let mut body = match json_object(req) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let Some(Value::Array(items)) = body.remove("items") else {
        return Reply::message(400, "batch body must be {\"items\": [...]}");
    };
    let mut store = shared.store();
    let mut staged = Store::clone(&store);
    for item in &items {
        let path = item
            .is_object()
            .then(|| store::self_path(shared.config.convention, item))
            .flatten();
        let Some(path) = path else {
            return Reply::message(
                400,
                "every batch item must be an object with _links.self.href",
            );
        };
        if let Some(reply) = orphan_reply(&shared.config, &staged, item) {
            return reply;
        }
        staged.insert(path, item.clone());
    }
    *store = staged;
    Reply::json(200, json!({ "items": items }))
}

/// POST to a collection: the server picks the id and the self link; client ids are ignored.
fn create(shared: &Shared, req: &Incoming, kind: &str) -> Reply {
    let mut body = match json_object(req) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    body.remove("id");
    let mut links = match body.remove("_links") {
        Some(Value::Object(links)) => links,
        _ => Map::new(),
    };
    links.remove("self");

    let mut store = shared.store();
    let id = store::next_id(&store, kind);
    let path = format!("/api/{kind}/{id}");
    // The origin the client asked (a relay in front keeps its own), as servers behind a
    // reverse proxy answer: a Location elsewhere would be refused (SPEC section 9).
    let base = match req.headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => {
            let scheme = shared.base_url.split("://").next().unwrap_or("http");
            format!("{scheme}://{host}")
        }
        None => shared.base_url.clone(),
    };
    let href = format!("{base}{path}");
    links.insert("self".into(), json!({ "href": href }));
    body.insert("id".into(), json!(id));
    body.insert("_links".into(), Value::Object(links));
    let body = Value::Object(body);

    if let Some(reply) = orphan_reply(&shared.config, &store, &body) {
        return reply;
    }
    store.insert(path, body.clone());
    Reply::json(201, body).with_header(header::LOCATION, href)
}
