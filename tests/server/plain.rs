//! A plain-JSON REST API (Django REST framework-like) with configurable list envelopes and
//! pagination, for the `--api FILE` profile tests (SPEC section 8).
//!
//! Collections `teams` (`{"id", "name", "city"}`), `players` (`{"id", "name", "team"}`, `team`
//! holding a team id) and `stats` (`{"id", "points", "player"}`) at `/api/<name>/` and
//! `/api/<name>/{id}/`; players also nested at `/api/teams/{team}/players/` and
//! `/api/teams/{team}/players/{id}/`. Ids are integers the server assigns (max + 1); every
//! member carries a server-owned `created` timestamp. Same design as `TestServer`: its own
//! thread and tokio runtime, a free port, a request log, stopped on drop.
//!
//! Axum, tokio, serde_json, url and std only: `examples/demo_server.rs` compiles this module too.

use std::collections::BTreeMap;
use std::net::TcpListener as StdListener;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Map, Value};
use tokio::sync::watch;
use url::form_urlencoded;

use super::{serve_until_stopped, server_runtime, SHUTDOWN_GRACE};

/// The top-level collections, parents first.
pub const COLLECTIONS: [&str; 3] = ["teams", "players", "stats"];

const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Page parameter of the `Link` and `BodyNext` kinds (1, 2, 3…; absent is page 1).
pub const PAGE_PARAM: &str = "page";

/// Body field holding the next cursor (`Cursor` without `from_header`).
pub const CURSOR_FIELD: &str = "next_cursor";

/// The shape of a list response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// The body is the JSON array of members.
    Bare,
    /// `{"count", "next", "previous", "results": [...]}` (Django REST framework).
    Results,
    /// `{"data": [...], "links": {"next", "prev"}}`.
    Data,
}

/// How a list is split into pages, and how the next page is announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pagination {
    /// `?page=N` (from 1); the next page in a `Link: <url>; rel="next"` header (with `prev`,
    /// `last`, `first` links too, GitHub style).
    Link,
    /// `?page=N` (from 1); the next page's URL in the body, at `next` (`Results`) or
    /// `links.next` (`Data`): a string, or `{"href": url}` with `object_href`; null on the
    /// last page. Needs the `Results` or `Data` envelope.
    BodyNext { object_href: bool },
    /// `?param=N`, from `start` (0 or 1; absent is the first page); nothing announces the
    /// next page. A page past the last answers 404 `{"detail": "Invalid page."}`, but the
    /// first page of an empty list is an empty list.
    Page { param: String, start: usize },
    /// `?param=K` skips K members; past the end an empty list (404 with `offset_past_end_404`).
    Offset { param: String },
    /// `?param=TOKEN` (opaque: base64 of `p=<last id seen>`, as DRF's CursorPagination);
    /// the next token in the body field `next_cursor` (`""` on the last page; needs the
    /// `Results` or `Data` envelope), or with `from_header` in that response header (absent
    /// on the last page).
    Cursor {
        param: String,
        from_header: Option<String>,
    },
    /// The whole list in one response.
    None,
}

impl Pagination {
    /// `Page` with `param` from 1.
    pub fn page(param: &str) -> Pagination {
        Pagination::Page {
            param: param.to_string(),
            start: 1,
        }
    }

    pub fn offset(param: &str) -> Pagination {
        Pagination::Offset {
            param: param.to_string(),
        }
    }

    /// `Cursor` with the token in the body field `next_cursor`.
    pub fn cursor_in_body(param: &str) -> Pagination {
        Pagination::Cursor {
            param: param.to_string(),
            from_header: None,
        }
    }

    /// `Cursor` with the token in the response header `header`.
    pub fn cursor_in_header(param: &str, header: &str) -> Pagination {
        Pagination::Cursor {
            param: param.to_string(),
            from_header: Some(header.to_string()),
        }
    }
}

/// Behaviour switches; `Default` is a bare-array API paginated by `Link` header, 2 a page.
#[derive(Debug, Clone)]
pub struct PlainConfig {
    pub envelope: Envelope,
    pub pagination: Pagination,
    /// Members a page when the request has no valid `size_param`.
    pub page_size: usize,
    /// Query parameter a client may set the page size with (e.g. `page_size`).
    pub size_param: Option<String>,
    /// A 201 to a POST carries `Location: <absolute item URL>`.
    pub location: bool,
    /// `Offset`: an offset past the end (and not 0) answers 404 `{"detail": "Invalid page."}`.
    pub offset_past_end_404: bool,
    /// Quirk: the last page's next link points back to the first page (the list URL without
    /// the page parameter; for `Cursor`, the token of the start of the list), as a broken
    /// API does. No effect on `Page`, `Offset` and `None`, which announce nothing.
    pub next_points_back: bool,
    /// Quirk: after the last page of members comes one extra page with no members (for
    /// `Page`: that page answers 200 instead of 404), which still announces a next page
    /// (past it, 404 or another empty cursor page) that a client must not need. No effect
    /// on `Offset` and `None`.
    pub empty_last_page: bool,
    /// Quirk (json-server 1.0 with `_page`): a page number past the last answers the last
    /// page again instead of 404.
    pub repeat_last_page: bool,
    /// Quirk: the page with this index (0 = the first) links no next page although more
    /// pages follow it, so a client reading ahead must not hand those on.
    pub chain_ends_at: Option<usize>,
    /// Quirk `(a, b)`: the page with index `a` links as its next the page with index `b`
    /// (and that page `a` as its previous), so the pages between are linked by none (they
    /// still answer when asked): a chain whose pages cannot all be guessed from its first.
    pub next_jump: Option<(usize, usize)>,
    /// Every request is answered after this delay (a slow network), slept on a blocking
    /// thread as `TestServer` does, so requests in flight overlap.
    pub latency: Option<Duration>,
    /// `(teams, players_per_team)`: seeded at start as `PlainServer::seed` does.
    pub seed: Option<(usize, usize)>,
}

impl Default for PlainConfig {
    fn default() -> PlainConfig {
        PlainConfig {
            envelope: Envelope::Bare,
            pagination: Pagination::Link,
            page_size: 2,
            size_param: None,
            location: true,
            offset_past_end_404: false,
            next_points_back: false,
            empty_last_page: false,
            repeat_last_page: false,
            chain_ends_at: None,
            next_jump: None,
            latency: None,
            seed: None,
        }
    }
}

impl PlainConfig {
    /// The defaults with this envelope and pagination.
    pub fn new(envelope: Envelope, pagination: Pagination) -> PlainConfig {
        PlainConfig {
            envelope,
            pagination,
            ..PlainConfig::default()
        }
    }

    /// Seeded at start with `teams` teams, `players_per_team` players each, one stat each.
    pub fn seeded(mut self, teams: usize, players_per_team: usize) -> PlainConfig {
        self.seed = Some((teams, players_per_team));
        self
    }
}

/// One request as the server saw it, with the status it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct PlainRequest {
    pub method: String,
    pub path_and_query: String,
    /// Lower-case names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Parsed JSON; a body that is not JSON is kept as a JSON string; `None` when empty.
    pub body: Option<Value>,
    pub status: u16,
}

impl PlainRequest {
    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path)
    }
}

use super::raw_http::find_header;
pub use super::raw_http::Response as PlainResponse;

/// A running plain-JSON API on 127.0.0.1 with its own thread and tokio runtime; stops on drop.
pub struct PlainServer {
    shared: Arc<Shared>,
    stop_tx: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl PlainServer {
    /// Starts on a free port; returns once connections are accepted. Panics on a config
    /// that cannot work (a body-announced next page or cursor with the `Bare` envelope).
    pub fn start(config: PlainConfig) -> PlainServer {
        PlainServer::start_on(config, 0)
    }

    /// `start` on a given port (0: any free one), for the demo server.
    pub fn start_on(config: PlainConfig, port: u16) -> PlainServer {
        let needs_body = matches!(config.pagination, Pagination::BodyNext { .. })
            || matches!(
                config.pagination,
                Pagination::Cursor {
                    from_header: None,
                    ..
                }
            );
        assert!(
            !(needs_body && config.envelope == Envelope::Bare),
            "PlainServer: {:?} needs the Results or Data envelope",
            config.pagination
        );
        assert!(config.page_size > 0, "PlainServer: page_size must be > 0");
        let listener = StdListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|error| panic!("binding 127.0.0.1:{port}: {error}"));
        let port = listener.local_addr().expect("a bound address").port();
        let seed = config.seed;
        let shared = Arc::new(Shared {
            config,
            base_url: format!("http://127.0.0.1:{port}"),
            data: Mutex::new(Data::default()),
            log: Mutex::new(Vec::new()),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("plain-server-{port}"))
            .spawn({
                let shared = Arc::clone(&shared);
                move || serve(listener, shared, stop_rx, ready_tx)
            })
            .expect("spawning the plain server thread");
        let ready = ready_rx
            .recv()
            .unwrap_or_else(|_| Err("server thread exited before it was ready".to_string()));
        // Built before checking readiness so that, on failure, its Drop joins the thread.
        let server = PlainServer {
            shared,
            stop_tx,
            thread: Some(thread),
        };
        if let Err(error) = ready {
            panic!("plain test server on 127.0.0.1:{port}: {error}");
        }
        if let Some((teams, players)) = seed {
            server.seed(teams, players);
        }
        server
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base_url)
    }

    /// Adds teams `1..=teams` (`"Team i"`, `"City i"`), `players_per_team` players each
    /// (`"Player j"`, ids from 1 in team order) and one stat per player (`id` = the player's,
    /// `points` = `(id * 7) % 30`), with fresh `created` stamps. Meant for an empty server.
    pub fn seed(&self, teams: usize, players_per_team: usize) {
        let mut data = self.shared.data();
        for team in 1..=teams {
            data.insert(
                "teams",
                json!({ "id": team, "name": format!("Team {team}"), "city": format!("City {team}") }),
            );
        }
        for player in 1..=teams * players_per_team {
            let team = (player - 1) / players_per_team + 1;
            data.insert(
                "players",
                json!({ "id": player, "name": format!("Player {player}"), "team": team }),
            );
        }
        for player in 1..=teams * players_per_team {
            data.insert(
                "stats",
                json!({ "id": player, "points": (player * 7) % 30, "player": player }),
            );
        }
    }

    /// Stores a member of a top-level collection as given (no checks), with the next free id
    /// when it has no integer `id` and a fresh `created` when it has none; returns it stored.
    pub fn insert(&self, collection: &str, member: Value) -> Value {
        let name = known_collection(collection)
            .unwrap_or_else(|| panic!("PlainServer::insert: unknown collection {collection}"));
        self.shared.data().insert(name, member)
    }

    /// The stored members of a top-level collection, in id order.
    pub fn collection(&self, name: &str) -> Vec<Value> {
        let name = known_collection(name)
            .unwrap_or_else(|| panic!("PlainServer::collection: unknown collection {name}"));
        self.shared.data().members(name).values().cloned().collect()
    }

    /// One stored member.
    pub fn member(&self, collection: &str, id: u64) -> Option<Value> {
        let name = known_collection(collection)?;
        self.shared.data().members(name).get(&id).cloned()
    }

    pub fn requests(&self) -> Vec<PlainRequest> {
        self.shared.log().clone()
    }

    pub fn clear_log(&self) {
        self.shared.log().clear();
    }

    /// Number of logged requests with this method (case-insensitive).
    pub fn count(&self, method: &str) -> usize {
        self.shared
            .log()
            .iter()
            .filter(|request| request.method.eq_ignore_ascii_case(method))
            .count()
    }

    /// Number of logged requests with this method to this path, whatever their query (an
    /// absolute URL on this server works too).
    pub fn count_path(&self, method: &str, path: &str) -> usize {
        let path = path.strip_prefix(&self.shared.base_url).unwrap_or(path);
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        self.shared
            .log()
            .iter()
            .filter(|request| request.method.eq_ignore_ascii_case(method) && request.path() == path)
            .count()
    }

    /// Path and query of each logged request with this method, in arrival order.
    pub fn paths(&self, method: &str) -> Vec<String> {
        self.shared
            .log()
            .iter()
            .filter(|request| request.method.eq_ignore_ascii_case(method))
            .map(|request| request.path_and_query.clone())
            .collect()
    }

    /// `method path` (relative to the server, or an absolute URL on it), with `body` as
    /// `application/json` when given; one HTTP/1.0 exchange. Logged like any request.
    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> PlainResponse {
        let path = path.strip_prefix(&self.shared.base_url).unwrap_or(path);
        http(self.port(), method, path, body)
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    /// `GET path`, which must answer 200; its body.
    pub fn get_json(&self, path: &str) -> Value {
        let response = self.send("GET", path, None);
        assert_eq!(response.status, 200, "GET {path}: {}", response.body);
        response.body
    }

    pub fn port(&self) -> u16 {
        self.shared
            .base_url
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("base_url ends with the port")
    }

    /// Stops the server and joins its thread; dropping does the same.
    pub fn stop(self) {}
}

impl Drop for PlainServer {
    fn drop(&mut self) {
        // A send error only means the server thread is already gone.
        let _ = self.stop_tx.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The `teams`/`players`/`stats` name as a static string, or `None`.
fn known_collection(name: &str) -> Option<&'static str> {
    COLLECTIONS.iter().copied().find(|known| *known == name)
}

struct Shared {
    config: PlainConfig,
    base_url: String,
    data: Mutex<Data>,
    log: Mutex<Vec<PlainRequest>>,
}

impl Shared {
    fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().expect("plain server data mutex poisoned")
    }

    fn log(&self) -> MutexGuard<'_, Vec<PlainRequest>> {
        self.log.lock().expect("plain server log mutex poisoned")
    }
}

#[derive(Default)]
struct Data {
    collections: BTreeMap<&'static str, BTreeMap<u64, Value>>,
    /// Microseconds of the last `created` stamp, so stamps strictly increase.
    last_stamp: u128,
}

impl Data {
    fn members(&mut self, name: &'static str) -> &mut BTreeMap<u64, Value> {
        self.collections.entry(name).or_default()
    }

    fn next_id(&mut self, name: &'static str) -> u64 {
        self.members(name)
            .last_key_value()
            .map_or(1, |(id, _)| id + 1)
    }

    fn stamp(&mut self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_micros());
        self.last_stamp = now.max(self.last_stamp + 1);
        iso8601(self.last_stamp)
    }

    /// See `PlainServer::insert`.
    fn insert(&mut self, name: &'static str, member: Value) -> Value {
        let Value::Object(mut member) = member else {
            panic!("PlainServer::insert: not a JSON object: {member}");
        };
        let id = match member.get("id").and_then(Value::as_u64) {
            Some(id) => id,
            None => self.next_id(name),
        };
        member.insert("id".to_string(), json!(id));
        if !member.contains_key("created") {
            member.insert("created".to_string(), Value::String(self.stamp()));
        }
        let member = Value::Object(member);
        self.members(name).insert(id, member.clone());
        member
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for microseconds since the Unix epoch.
fn iso8601(micros: u128) -> String {
    let secs = (micros / 1_000_000) as i64;
    let fraction = micros % 1_000_000;
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:06}Z",
        day_secs / 3600,
        day_secs % 3600 / 60,
        day_secs % 60
    )
}

// --- the server thread ---------------------------------------------------------------------

fn serve(
    listener: StdListener,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    ready: mpsc::Sender<Result<(), String>>,
) {
    let Some((runtime, listener)) = server_runtime(listener, "plain-server-worker", &ready) else {
        return;
    };
    runtime.block_on(async move {
        let router = Router::new().fallback(handle).with_state(shared);
        serve_until_stopped(listener, router, stop, "plain test server").await;
    });
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
}

/// A response before it is turned into HTTP; `body: None` means no body (204).
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    fn detail(status: u16, detail: impl Into<String>) -> Reply {
        Reply::json(status, json!({ "detail": detail.into() }))
    }

    fn not_found() -> Reply {
        Reply::detail(404, "Not found.")
    }

    fn invalid_page() -> Reply {
        Reply::detail(404, "Invalid page.")
    }

    fn with_header(mut self, name: &str, value: String) -> Reply {
        self.headers.push((name.to_string(), value));
        self
    }

    fn into_response(self) -> Response {
        let mut response = match self.body {
            Some(body) => {
                let mut response = Response::new(Body::from(body.to_string()));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                response
            }
            None => Response::new(Body::empty()),
        };
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if let Some(delay) = shared.config.latency {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(delay)).await;
    }
    let body = to_bytes(body, BODY_LIMIT).await;
    let path_and_query = parts.uri.path_and_query().map_or_else(
        || parts.uri.path().to_string(),
        |pq| pq.as_str().to_string(),
    );
    let reply = match &body {
        Ok(body) => route(
            &shared,
            &parts.method,
            parts.uri.path(),
            parts.uri.query().unwrap_or(""),
            body,
        ),
        Err(error) => Reply::detail(400, format!("cannot read request body: {error}")),
    };
    let body = body.unwrap_or_default();
    let logged_body = (!body.is_empty()).then(|| {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    });
    shared.log().push(PlainRequest {
        method: parts.method.as_str().to_string(),
        path_and_query,
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_ascii_lowercase(), value)
            })
            .collect(),
        body: logged_body,
        status: reply.status,
    });
    reply.into_response()
}

// --- routing -------------------------------------------------------------------------------

enum Target {
    Root,
    /// A collection; `team` for `/api/teams/{team}/players/`.
    Collection {
        name: &'static str,
        team: Option<u64>,
    },
    Item {
        name: &'static str,
        id: u64,
        team: Option<u64>,
    },
}

impl Target {
    fn parse(path: &str) -> Option<Target> {
        let rest = path.strip_prefix("/api/")?;
        if rest.is_empty() {
            return Some(Target::Root);
        }
        let segments: Vec<&str> = rest.strip_suffix('/')?.split('/').collect();
        Some(match segments.as_slice() {
            [name] => Target::Collection {
                name: known_collection(name)?,
                team: None,
            },
            [name, id] => Target::Item {
                name: known_collection(name)?,
                id: parse_id(id)?,
                team: None,
            },
            ["teams", team, "players"] => Target::Collection {
                name: "players",
                team: Some(parse_id(team)?),
            },
            ["teams", team, "players", id] => Target::Item {
                name: "players",
                id: parse_id(id)?,
                team: Some(parse_id(team)?),
            },
            _ => return None,
        })
    }
}

/// Digits only (no sign, no spaces).
fn parse_id(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A field's value as text, so `14` and `"14"` compare equal.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn method_not_allowed(method: &Method) -> Reply {
    Reply::detail(405, format!("Method \"{method}\" not allowed."))
}

fn route(shared: &Shared, method: &Method, path: &str, query: &str, body: &[u8]) -> Reply {
    let Some(target) = Target::parse(path) else {
        return Reply::not_found();
    };
    // A nested route of a team that does not exist is not found, whatever the method.
    if let Target::Collection {
        team: Some(team), ..
    }
    | Target::Item {
        team: Some(team), ..
    } = &target
    {
        if !shared.data().members("teams").contains_key(team) {
            return Reply::not_found();
        }
    }
    match target {
        Target::Root if *method == Method::GET => {
            let urls: Map<String, Value> = COLLECTIONS
                .iter()
                .map(|name| {
                    let url = format!("{}/api/{name}/", shared.base_url);
                    (name.to_string(), Value::String(url))
                })
                .collect();
            Reply::json(200, Value::Object(urls))
        }
        Target::Root => method_not_allowed(method),
        Target::Collection { name, team } => match *method {
            Method::GET => list(shared, name, team, path, query),
            Method::POST => create(shared, name, team, path, body),
            _ => method_not_allowed(method),
        },
        Target::Item { name, id, team } => item(shared, method, name, id, team, body),
    }
}

/// The request body as a JSON object, or the 400 to answer.
fn json_object(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(Reply::detail(
            400,
            format!("Expected a JSON object, got {other}."),
        )),
        Err(error) => Err(Reply::detail(400, format!("JSON parse error - {error}"))),
    }
}

/// Fields the client may not set: the id comes from the path or the server, `created` is
/// the server's.
fn writable(mut object: Map<String, Value>) -> Map<String, Value> {
    object.remove("id");
    object.remove("created");
    object
}

fn create(
    shared: &Shared,
    name: &'static str,
    team: Option<u64>,
    path: &str,
    body: &[u8],
) -> Reply {
    let mut object = match json_object(body) {
        Ok(object) => writable(object),
        Err(reply) => return reply,
    };
    if let Some(team) = team {
        object.insert("team".to_string(), json!(team));
    }
    let mut data = shared.data();
    let id = data.next_id(name);
    object.insert("id".to_string(), json!(id));
    let stored = data.insert(name, Value::Object(object));
    let reply = Reply::json(201, stored);
    if shared.config.location {
        reply.with_header("location", format!("{}{path}{id}/", shared.base_url))
    } else {
        reply
    }
}

fn item(
    shared: &Shared,
    method: &Method,
    name: &'static str,
    id: u64,
    team: Option<u64>,
    body: &[u8],
) -> Reply {
    let mut data = shared.data();
    let existing = data.members(name).get(&id).cloned();
    // Under `/api/teams/{team}/players/`, a player of another team is not there.
    if let (Some(team), Some(member)) = (team, &existing) {
        if as_text(&member["team"]) != team.to_string() {
            return Reply::not_found();
        }
    }
    match *method {
        Method::GET => existing.map_or_else(Reply::not_found, |member| Reply::json(200, member)),
        Method::DELETE => match data.members(name).remove(&id) {
            Some(_) => Reply {
                status: 204,
                headers: Vec::new(),
                body: None,
            },
            None => Reply::not_found(),
        },
        Method::PUT => {
            let mut object = match json_object(body) {
                Ok(object) => writable(object),
                Err(reply) => return reply,
            };
            if let Some(team) = team {
                object.insert("team".to_string(), json!(team));
            }
            object.insert("id".to_string(), json!(id));
            if let Some(created) = existing.as_ref().and_then(|member| member.get("created")) {
                object.insert("created".to_string(), created.clone());
            }
            let stored = data.insert(name, Value::Object(object));
            Reply::json(if existing.is_some() { 200 } else { 201 }, stored)
        }
        Method::PATCH => {
            let changes = match json_object(body) {
                Ok(object) => writable(object),
                Err(reply) => return reply,
            };
            let Some(Value::Object(mut member)) = existing else {
                return Reply::not_found();
            };
            member.extend(changes);
            if let Some(team) = team {
                member.insert("team".to_string(), json!(team));
            }
            let stored = data.insert(name, Value::Object(member));
            Reply::json(200, stored)
        }
        _ => method_not_allowed(method),
    }
}

// --- lists and pagination ------------------------------------------------------------------

/// Query parameters that filter a top-level collection by a parent field.
fn filter_field(name: &str) -> Option<&'static str> {
    match name {
        "players" => Some("team"),
        "stats" => Some("player"),
        _ => None,
    }
}

fn list(shared: &Shared, name: &'static str, team: Option<u64>, path: &str, query: &str) -> Reply {
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |key: &str| {
        params
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    };
    let filter: Option<(&str, String)> = match (team, filter_field(name)) {
        (Some(team), _) => Some(("team", team.to_string())),
        (None, Some(field)) => param(field).map(|value| (field, value.to_string())),
        (None, None) => None,
    };
    // Only the page's members are copied: a list of 20,000 answers a page of 100 in
    // microseconds, so a benchmark against this server measures its client.
    let mut data = shared.data();
    let members: Vec<&Value> = data
        .members(name)
        .values()
        .filter(|member| {
            filter
                .as_ref()
                .is_none_or(|(field, value)| as_text(&member[*field]) == *value)
        })
        .collect();
    let config = &shared.config;
    let size = config
        .size_param
        .as_deref()
        .and_then(param)
        .and_then(|size| size.parse::<usize>().ok())
        .filter(|size| *size > 0)
        .unwrap_or(config.page_size);
    let pages = Pages {
        config,
        base: &shared.base_url,
        path,
        params: &params,
        size,
    };
    match &config.pagination {
        Pagination::Link | Pagination::BodyNext { .. } => {
            pages.numbered(members, PAGE_PARAM, 1, param(PAGE_PARAM))
        }
        Pagination::Page { param: name, start } => {
            pages.numbered(members, name, *start, param(name))
        }
        Pagination::Offset { param: name } => pages.offset(members, param(name)),
        Pagination::Cursor { param: name, .. } => pages.cursor(members, param(name)),
        Pagination::None => {
            let count = members.len();
            let members = members.into_iter().cloned().collect();
            Reply::json(200, envelope(config, members, count, None, None))
        }
    }
}

/// A list response's body: the members in the configured envelope, with the next and
/// previous URLs (null when `None`) where the envelope has room for them.
fn envelope(
    config: &PlainConfig,
    members: Vec<Value>,
    count: usize,
    next: Option<String>,
    previous: Option<String>,
) -> Value {
    let object_href = matches!(
        config.pagination,
        Pagination::BodyNext { object_href: true }
    );
    let link = |url: Option<String>| match url {
        None => Value::Null,
        Some(url) if object_href => json!({ "href": url }),
        Some(url) => Value::String(url),
    };
    match config.envelope {
        Envelope::Bare => Value::Array(members),
        Envelope::Results => json!({
            "count": count,
            "next": link(next),
            "previous": link(previous),
            "results": members,
        }),
        Envelope::Data => json!({
            "data": members,
            "links": { "next": link(next), "prev": link(previous) },
        }),
    }
}

struct Pages<'a> {
    config: &'a PlainConfig,
    base: &'a str,
    path: &'a str,
    params: &'a [(String, String)],
    size: usize,
}

impl Pages<'_> {
    /// The request's URL with `name` set to `value` (in place, else appended), or removed.
    fn url_with(&self, name: &str, value: Option<String>) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut value = value;
        for (key, old) in self.params {
            if key != name {
                pairs.push((key.clone(), old.clone()));
            } else if let Some(value) = value.take() {
                pairs.push((key.clone(), value));
            }
        }
        if let Some(value) = value {
            pairs.push((name.to_string(), value));
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        if query.is_empty() {
            format!("{}{}", self.base, self.path)
        } else {
            format!("{}{}?{query}", self.base, self.path)
        }
    }

    /// `Link`, `BodyNext` and `Page`: page `number` (absent: `start`) counted from `start`.
    fn numbered(
        &self,
        members: Vec<&Value>,
        name: &str,
        start: usize,
        number: Option<&str>,
    ) -> Reply {
        let config = self.config;
        let index = match number {
            None => 0,
            Some(text) => match text.parse::<usize>() {
                Ok(number) if number >= start => number - start,
                _ => return Reply::invalid_page(),
            },
        };
        let count = members.len();
        // An empty list still has its (empty) first page.
        let real = count.div_ceil(self.size).max(1);
        let pages = real + usize::from(config.empty_last_page);
        let index = match index >= pages {
            true if config.repeat_last_page => pages - 1,
            true => return Reply::invalid_page(),
            false => index,
        };
        let page: Vec<Value> = members
            .into_iter()
            .skip(index * self.size)
            .take(self.size)
            .cloned()
            .collect();
        let url_of = |index: usize| self.url_with(name, Some((index + start).to_string()));
        let first = self.url_with(name, None);
        let jump = config.next_jump;
        let next = if config.chain_ends_at == Some(index) {
            None
        } else if let Some((_, to)) = jump.filter(|(from, _)| *from == index) {
            (to < pages).then(|| url_of(to))
        } else if index + 1 < pages {
            Some(url_of(index + 1))
        } else if config.next_points_back {
            Some(first.clone())
        } else if config.empty_last_page {
            // Past the extra empty page: 404, and never needed.
            Some(url_of(index + 1))
        } else {
            None
        };
        let previous = match index {
            _ if jump.is_some_and(|(_, to)| to == index) => jump.map(|(from, _)| match from {
                0 => first.clone(),
                from => url_of(from),
            }),
            0 => None,
            1 => Some(first.clone()),
            index => Some(url_of(index - 1)),
        };
        match config.pagination {
            Pagination::Link => {
                let mut links = Vec::new();
                if let Some(previous) = &previous {
                    links.push(format!("<{previous}>; rel=\"prev\""));
                }
                if let Some(next) = &next {
                    links.push(format!("<{next}>; rel=\"next\""));
                }
                links.push(format!("<{}>; rel=\"last\"", url_of(real - 1)));
                links.push(format!("<{first}>; rel=\"first\""));
                Reply::json(200, envelope(config, page, count, None, None))
                    .with_header("link", links.join(", "))
            }
            Pagination::BodyNext { .. } => {
                Reply::json(200, envelope(config, page, count, next, previous))
            }
            _ => Reply::json(200, envelope(config, page, count, None, None)),
        }
    }

    /// `Offset`: `offset` members skipped.
    fn offset(&self, members: Vec<&Value>, offset: Option<&str>) -> Reply {
        let offset = match offset.map(str::parse::<usize>) {
            None => 0,
            Some(Ok(offset)) => offset,
            Some(Err(_)) => return Reply::detail(400, "Invalid offset."),
        };
        let count = members.len();
        if self.config.offset_past_end_404 && offset > 0 && offset >= count {
            return Reply::invalid_page();
        }
        let page = members
            .into_iter()
            .skip(offset)
            .take(self.size)
            .cloned()
            .collect();
        Reply::json(200, envelope(self.config, page, count, None, None))
    }

    /// `Cursor`: the members after the id the token names.
    fn cursor(&self, members: Vec<&Value>, token: Option<&str>) -> Reply {
        let config = self.config;
        let after = match token.map(decode_cursor) {
            None => 0,
            Some(Some(after)) => after,
            Some(None) => return Reply::detail(404, "Invalid cursor"),
        };
        let count = members.len();
        let mut rest: Vec<Value> = members
            .into_iter()
            .filter(|member| member["id"].as_u64().is_some_and(|id| id > after))
            .take(self.size + 1)
            .cloned()
            .collect();
        let more = rest.len() > self.size;
        rest.truncate(self.size);
        let last_id = rest.last().and_then(|member| member["id"].as_u64());
        let next = match last_id {
            Some(last) if more => Some(encode_cursor(last)),
            // To the extra empty page.
            Some(last) if config.empty_last_page => Some(encode_cursor(last)),
            _ if config.next_points_back => Some(encode_cursor(0)),
            // From the extra empty page, further on: never needed.
            _ if config.empty_last_page => Some(encode_cursor(after + 1)),
            _ => None,
        };
        match &config.pagination {
            Pagination::Cursor {
                from_header: Some(header),
                ..
            } => {
                let reply = Reply::json(200, envelope(config, rest, count, None, None));
                match next {
                    Some(token) => reply.with_header(header, token),
                    None => reply,
                }
            }
            _ => {
                let mut body = envelope(config, rest, count, None, None);
                body[CURSOR_FIELD] = Value::String(next.unwrap_or_default());
                Reply::json(200, body)
            }
        }
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The opaque token for "after id `after`": base64 of `p=<after>`, as DRF's CursorPagination.
pub fn encode_cursor(after: u64) -> String {
    let bytes = format!("p={after}").into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, byte)| n | u32::from(*byte) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The id a token names, or `None` for a token this server did not make.
pub fn decode_cursor(token: &str) -> Option<u64> {
    let mut bits = 0u32;
    let mut held = 0;
    let mut bytes = Vec::new();
    for byte in token.trim_end_matches('=').bytes() {
        let value = BASE64.iter().position(|&known| known == byte)? as u32;
        bits = (bits << 6) | value;
        held += 6;
        if held >= 8 {
            held -= 8;
            bytes.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    parse_id(String::from_utf8(bytes).ok()?.strip_prefix("p=")?)
}

// --- a tiny client -------------------------------------------------------------------------

/// One exchange, `body` as JSON.
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<PlainResponse, String> {
    super::raw_http::exchange(
        port,
        method,
        path,
        body.map(|body| ("application/json", body)),
    )
}
