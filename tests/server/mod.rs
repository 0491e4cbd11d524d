//! In-process REST server for the integration tests and demo, speaking HAL, `--simple`, plain
//! JSON or JSON:API (`Convention`); stores resources by path, logs requests, injects failures.
#![allow(dead_code)]

mod dataset;
pub mod django;
pub mod frameworks;
mod handler;
mod jsonapi;
pub mod plain;
mod raw_http;
mod store;
mod tls;

use std::collections::BTreeMap;
use std::future::IntoFuture;
use std::net::TcpListener as StdListener;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use handler::Shared;

/// How long a stopping server waits for in-flight requests before abandoning them,
/// so a request stuck in injected latency cannot hold up test exit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long `ServerConfig::hold_page` holds a page whose awaited request never comes, so a
/// client that does not read ahead still ends (late) and its test fails on the log's order.
const HOLD_LIMIT: Duration = Duration::from_secs(10);

/// The API convention a server speaks: how a stored body names itself and its parents, how a
/// collection is listed and paged, and how writes arrive. Every convention keeps members at
/// `/api/<type>/<id>`, refuses orphans and parent deletes alike, and stores bodies as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Convention {
    /// HAL: `_links.self` and `parent:*` links; pages `{"_links", "items", "count"}` with a
    /// `next` link (or a `Link` header), the root a `child:<type>` link per collection.
    #[default]
    Hal,
    /// `--simple` (SPEC section 2): `uri` and `parents` (uris) fields; a page is a bare JSON
    /// array with its next page in a `Link` header, the root `{"links": [collection urls]}`.
    Simple,
    /// Plain JSON for an `--api` profile (SPEC section 8): members without links, stored at the
    /// path they were PUT to; a field `<type>Id` holds the id of a parent of that type; a page
    /// is a bare JSON array with its next page in a `Link` header (`offset` parameter).
    Plain,
    /// JSON:API 1.1 (`jsonapi.rs`): resource objects (`type`, `id`, `attributes`,
    /// `relationships`, whose `data` name parents) in `{"data": ...}`; pages by
    /// `page[offset]`/`page[size]` with the next in `links.next`; POST to a collection creates
    /// (the client's `id`, else a new one) answering 201 with `data.id`, PATCH updates, PUT is
    /// 405; the refusals the specification names (415, 409, 404) for a wrong request.
    JsonApi,
}

impl Convention {
    /// The `Content-Type` of its answers.
    pub fn media_type(self) -> &'static str {
        match self {
            Convention::Hal => "application/hal+json; charset=utf-8",
            Convention::Simple | Convention::Plain => "application/json",
            Convention::JsonApi => "application/vnd.api+json",
        }
    }
}

/// Behaviour switches; `Default` is a plain, well-behaved API.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The API convention spoken (HAL by default).
    pub convention: Convention,
    /// Page size when the client asks none (`X-Request-Limit`; JSON:API's `page[size]`).
    pub page_size: usize,
    /// Cap on the page size a client asks.
    pub max_page_size: usize,
    /// Writes whose `parent:*` link points at nothing stored get 409.
    pub refuse_orphans: bool,
    /// DELETE of a resource that another one names as parent gets 409.
    pub refuse_parent_delete: bool,
    /// Collections accept `PATCH {"items": [...]}` and advertise it in `Allow`.
    pub allow_batch: bool,
    /// POST to a collection creates with a server-chosen id; PUT of an unknown id is 404.
    pub assign_ids: bool,
    /// Random delay per request, drawn from `[min, max]`.
    pub latency: Option<(Duration, Duration)>,
    /// `Content-Type` of every JSON response.
    pub media_type: String,
    /// Paginate with an RFC 8288 `Link` header instead of a `next` link in the body.
    pub link_header_pages: bool,
    /// Keep the request log (tests read it; the benchmark turns it off to stay fast).
    pub record_requests: bool,
    /// Answer 429 (`Retry-After: 1`) to any request beyond this many in the last second.
    pub rate_limit: Option<usize>,
    /// Every resource a GET returns has this field set to a fresh value, as a server that
    /// stamps `updatedAt` on each read.
    pub touch_on_read: Option<String>,
    /// `GET /endless?page=N` answers a page with one member (`/api/endless/N`) and a `next`
    /// link to page N + 1, forever: a hostile API for the `--max-pages` limit.
    pub endless_pages: bool,
    /// A PUT is stored with this field set to this value, and answered as if stored as
    /// sent: a server that silently changes what it is given (for `--verify`).
    pub alter_on_put: Option<(String, Value)>,
    /// Quirk `(a, b)`: the page at offset `a` links as `next` the page at offset `b`, and
    /// that page links `a` as `prev`, so the pages between are linked by none (they still
    /// answer when asked): a chain whose pages cannot all be guessed from its first ones.
    pub next_jump: Option<(usize, usize)>,
    /// Quirk: pages state no total (no `count`), so nothing bounds a chain read ahead.
    pub no_count: bool,
    /// Quirk: collection pages leave this field out of their members (a summary listing);
    /// a GET of the member itself answers it whole.
    pub listing_omits: Option<String>,
    /// Quirk: a page at or past the last member (offset not 0) answers 404, not an empty page.
    pub past_end_404: bool,
    /// Quirk `(held, awaited)`, paths with their query: a GET of `held` is answered only
    /// once a GET of `awaited` has been (or after `HOLD_LIMIT`). The log, written as answers
    /// leave, then shows `awaited` before `held` exactly when the client asked for `awaited`
    /// before it had `held`'s answer, as a client reading pages ahead does.
    pub hold_page: Option<(String, String)>,
    /// The status a PUT that creates answers: 201, or 200 as many APIs answer an upsert.
    pub put_created_status: u16,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            convention: Convention::Hal,
            page_size: 20,
            max_page_size: 1000,
            refuse_orphans: true,
            refuse_parent_delete: true,
            allow_batch: false,
            assign_ids: false,
            latency: None,
            media_type: Convention::Hal.media_type().to_string(),
            link_header_pages: false,
            record_requests: true,
            rate_limit: None,
            touch_on_read: None,
            alter_on_put: None,
            endless_pages: false,
            next_jump: None,
            no_count: false,
            listing_omits: None,
            past_end_404: false,
            hold_page: None,
            put_created_status: 201,
        }
    }
}

impl ServerConfig {
    /// The defaults, speaking `convention` with its media type.
    pub fn speaking(convention: Convention) -> ServerConfig {
        ServerConfig {
            convention,
            media_type: convention.media_type().to_string(),
            ..ServerConfig::default()
        }
    }
}

/// A failure the server injects instead of (or before) its normal answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer this status with `{"message": "injected failure"}` and these extra headers
    /// (e.g. `Retry-After`); state is untouched.
    Status {
        status: u16,
        headers: Vec<(String, String)>,
    },
    /// Send a 200 and a few bytes of body, then break the connection; state is untouched.
    /// Logged with status 0.
    CloseMidBody,
    /// Wait this long, then serve the request normally (a client that timed out meanwhile
    /// never sees the answer, but a write still happens, as on a real slow server).
    Delay(Duration),
    /// Answer this status with `{"message": "rejected: <the request body>"}`, as a
    /// validating API that quotes what it was sent; state is untouched.
    Echo(u16),
    /// Serve the request at once (a write is made), then wait this long before answering:
    /// a client stopped meanwhile never learns that its write happened.
    AnswerLate(Duration),
}

impl Fault {
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            headers: Vec::new(),
        }
    }

    /// `status` with `Retry-After: value` (seconds, or an HTTP date).
    pub fn retry_after(status: u16, value: &str) -> Fault {
        Fault::Status {
            status,
            headers: vec![("retry-after".to_string(), value.to_string())],
        }
    }
}

/// One request as the server saw it, with the status it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    pub method: String,
    pub path_and_query: String,
    /// Lower-case names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Parsed JSON; a body that is not JSON is kept as a JSON string; `None` when empty.
    pub body: Option<Value>,
    pub status: u16,
    /// Milliseconds since server start at which the request arrived.
    pub at_millis: u128,
}

impl RequestRecord {
    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Sample HAL data: `teams` teams, `players_per_team` players each (`parent:team`) and one
/// `stat` per player (`parent:player`), with absolute hrefs on `base_url` and integer ids
/// from 1, at `/api/team/{id}`, `/api/player/{id}`, `/api/stat/{id}`; parents come first.
// Defined here rather than re-exported: a `pub use` nobody calls trips `unused_imports`
// in test binaries that include this module.
pub fn sample_dataset(base_url: &str, teams: usize, players_per_team: usize) -> Vec<Value> {
    dataset::build(base_url, teams, players_per_team)
}

/// A server holding `sample_dataset` (`teams` teams, `players` players each, one stat each).
pub fn seeded_server(config: ServerConfig, teams: usize, players: usize) -> TestServer {
    let server = TestServer::start(config);
    for resource in sample_dataset(&server.base_url(), teams, players) {
        server.insert(resource);
    }
    server
}

/// A running server on 127.0.0.1 with its own thread and tokio runtime; stops on drop.
pub struct TestServer {
    shared: Arc<Shared>,
    stop_tx: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts on a free port; returns once connections are accepted.
    pub fn start(config: ServerConfig) -> TestServer {
        TestServer::start_on(config, 0)
    }

    /// Starts on a port below the kernel's ephemeral range (32768 and up), so no other
    /// server or client of a parallel test can be handed it while this one is down for a
    /// `restart_after`. Ports are tried from a per-process offset until one binds.
    pub fn start_restartable(config: ServerConfig) -> TestServer {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let offset = std::process::id() % 5000;
        for _ in 0..2000 {
            let step = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let port = 20000 + ((offset + step * 7) % 10000) as u16;
            if let Ok(server) = TestServer::try_start_on(config.clone(), port) {
                return server;
            }
        }
        panic!("no free port between 20000 and 30000")
    }

    /// Starts on a fixed port (0 picks a free one). Panics if the port cannot be bound.
    pub fn start_on(config: ServerConfig, port: u16) -> TestServer {
        TestServer::try_start_on(config, port)
            .unwrap_or_else(|error| panic!("test server on 127.0.0.1:{port}: {error}"))
    }

    /// Like `start_on`, but reports a busy port as an error (for the demo's friendly message).
    pub fn try_start_on(config: ServerConfig, port: u16) -> std::io::Result<TestServer> {
        // Bound here, before the thread starts, so the port is known and connections queue at once.
        let listener = StdListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared::new(config, format!("http://127.0.0.1:{port}")));
        TestServer::launch(listener, shared, None)
    }

    /// An HTTPS server on a free port with a fresh self-signed certificate for `127.0.0.1`
    /// and `localhost`; returns it with the certificate in PEM (for `--ca-cert`).
    /// `base_url()` is `https://127.0.0.1:PORT`.
    pub fn start_tls(config: ServerConfig) -> (TestServer, String) {
        let (tls_config, pem) = tls::self_signed();
        let listener = StdListener::bind(("127.0.0.1", 0)).expect("binding 127.0.0.1:0");
        let port = listener.local_addr().expect("a bound address").port();
        let shared = Arc::new(Shared::new(config, format!("https://127.0.0.1:{port}")));
        let server = TestServer::launch(listener, shared, Some(tls_config))
            .unwrap_or_else(|error| panic!("TLS test server on 127.0.0.1:{port}: {error}"));
        (server, pem)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.shared
            .base_url
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("base_url ends with the port")
    }

    /// Stops the server now (open connections are closed) and starts it again on the same
    /// port after `down`, with the same data, config and request log. The returned thread
    /// yields the restarted server.
    pub fn restart_after(self, down: Duration) -> JoinHandle<TestServer> {
        let port = self.port();
        let previous = Arc::clone(&self.shared);
        // Stopped first: requests it finishes while stopping are in the data carried over.
        drop(self);
        let shared = Arc::new(previous.resumed());
        std::thread::spawn(move || {
            std::thread::sleep(down);
            let listener = StdListener::bind(("127.0.0.1", port))
                .unwrap_or_else(|error| panic!("rebinding 127.0.0.1:{port}: {error}"));
            TestServer::launch(listener, shared, None)
                .unwrap_or_else(|error| panic!("restarting on 127.0.0.1:{port}: {error}"))
        })
    }

    fn launch(
        listener: StdListener,
        shared: Arc<Shared>,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> std::io::Result<TestServer> {
        let port = listener.local_addr()?.port();
        let (stop_tx, stop_rx) = watch::channel(false);
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("test-server-{port}"))
            .spawn({
                let shared = Arc::clone(&shared);
                move || serve(listener, tls, shared, stop_rx, ready_tx)
            })?;
        let ready = ready_rx
            .recv()
            .unwrap_or_else(|_| Err("server thread exited before it was ready".to_string()));
        // Built before checking readiness so that, on failure, its Drop joins the thread.
        let server = TestServer {
            shared,
            stop_tx,
            thread: Some(thread),
        };
        ready.map(|()| server).map_err(std::io::Error::other)
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base_url)
    }

    /// Seeds a resource under the path it names (HAL's self link, simple `uri`, JSON:API's
    /// `type` and `id`), skipping the orphan check so tests can build any state. Panics if
    /// the body names none (a plain-JSON member never does: use `insert_at`).
    pub fn insert(&self, resource: Value) {
        let convention = self.shared.config.convention;
        let path = store::self_path(convention, &resource).unwrap_or_else(|| {
            panic!("test server insert: {resource} names no path of its own ({convention:?})")
        });
        self.shared.store().insert(path, resource);
    }

    /// Seeds `body` at `path` (`/api/<type>/<id>`; an absolute URL works too), as stored, with
    /// no checks.
    pub fn insert_at(&self, path: &str, body: Value) {
        self.shared.store().insert(store::href_path(path), body);
    }

    /// The stored body at a path (an absolute URL works too).
    pub fn get(&self, path: &str) -> Option<Value> {
        self.shared.store().get(&store::href_path(path)).cloned()
    }

    /// `method path` on this server, with `body` sent as `content_type`: one HTTP/1.0
    /// exchange, logged like any request.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, &Value)>,
    ) -> raw_http::Response {
        raw_http::exchange(self.port(), method, path, body)
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
    }

    pub fn resources(&self) -> BTreeMap<String, Value> {
        self.shared.store().bodies().clone()
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log().clone()
    }

    /// When each request with this method arrived, in milliseconds since the server started.
    pub fn arrivals(&self, method: &str) -> Vec<u128> {
        self.shared
            .log()
            .iter()
            .filter(|request| request.method.eq_ignore_ascii_case(method))
            .map(|request| request.at_millis)
            .collect()
    }

    /// Number of logged requests with this method (case-insensitive).
    pub fn count(&self, method: &str) -> usize {
        self.shared
            .log()
            .iter()
            .filter(|record| record.method.eq_ignore_ascii_case(method))
            .count()
    }

    /// The next `count` requests, whatever their method or path, answer `status`
    /// with `{"message": "injected failure"}` and leave state untouched.
    pub fn fail_next(&self, count: usize, status: u16) {
        let mut faults = self.shared.faults();
        faults.next_count = count;
        faults.next_status = status;
    }

    /// Every later request to exactly this path answers `status` (a permanently broken resource).
    pub fn fail_path(&self, path: &str, status: u16) {
        self.shared
            .faults()
            .paths
            .insert(store::href_path(path), status);
    }

    /// The next `count` requests, whatever their path, get `fault` (after any `fail_next`).
    pub fn inject_next(&self, count: usize, fault: Fault) {
        let mut faults = self.shared.faults();
        faults.queue.extend(std::iter::repeat_n(fault, count));
    }

    /// The next `count` requests to exactly this path get `fault`.
    pub fn inject_path(&self, path: &str, count: usize, fault: Fault) {
        if count > 0 {
            self.shared
                .faults()
                .path_faults
                .insert(store::href_path(path), (count, fault));
        }
    }

    /// Every request to exactly this path answers `status` (301, 302, 303, 307, 308) with
    /// `Location: location` (any URL, e.g. another server's).
    pub fn redirect(&self, path: &str, status: u16, location: &str) {
        self.shared
            .faults()
            .redirects
            .insert(store::href_path(path), (status, location.to_string()));
    }

    pub fn clear_log(&self) {
        self.shared.log().clear();
    }

    /// How many requests wait in an injected `Fault::Delay` or `Fault::AnswerLate` now: a
    /// test can act while the server holds a write (it is logged only once answered). A
    /// delayed request whose client is gone is dropped, unserved, as soon as the server
    /// sees its connection closed.
    pub fn held(&self) -> usize {
        self.shared.held.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops the server and joins its thread; dropping does the same.
    pub fn stop(self) {}

    fn shutdown(&mut self) {
        // A send error only means the server thread is already gone.
        let _ = self.stop_tx.send(true);
        if let Some(thread) = self.thread.take() {
            // A panicked server thread has nothing left to clean up; don't panic again in drop.
            let _ = thread.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A server thread's own runtime (2 workers) and its listener registered on it, after
/// telling `ready` either way; `None` when either fails.
pub(crate) fn server_runtime(
    listener: StdListener,
    thread_name: &str,
    ready: &mpsc::Sender<Result<(), String>>,
) -> Option<(tokio::runtime::Runtime, tokio::net::TcpListener)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(thread_name)
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = ready.send(Err(format!("cannot build tokio runtime: {error}")));
            return None;
        }
    };
    let registered = {
        let _inside = runtime.enter();
        listener
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpListener::from_std(listener))
    };
    match registered {
        Ok(listener) => {
            let _ = ready.send(Ok(()));
            Some((runtime, listener))
        }
        Err(error) => {
            let _ = ready.send(Err(format!("cannot register listener: {error}")));
            None
        }
    }
}

/// Body of the server thread: its own runtime, so tests need none and sync tests can block freely.
fn serve(
    listener: StdListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    ready: mpsc::Sender<Result<(), String>>,
) {
    let Some((runtime, listener)) = server_runtime(listener, "test-server-worker", &ready) else {
        return;
    };
    runtime.block_on(async move {
        match tls {
            Some(tls) => run(tls::TlsListener::new(listener, tls), shared, stop).await,
            None => run(listener, shared, stop).await,
        }
    });
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
}

async fn run<L>(listener: L, shared: Arc<Shared>, stop: watch::Receiver<bool>)
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    serve_until_stopped(listener, handler::router(shared), stop, "test server").await;
}

/// Serves `router` until `stop`, then lets open requests finish for at most
/// `SHUTDOWN_GRACE`.
pub(crate) async fn serve_until_stopped<L>(
    listener: L,
    router: axum::Router,
    stop: watch::Receiver<bool>,
    name: &str,
) where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    let server = axum::serve(listener, router)
        .with_graceful_shutdown(stopped(stop.clone()))
        .into_future();
    // Graceful shutdown waits for open requests; the second branch bounds that wait.
    let deadline = async {
        stopped(stop).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => {
            if let Err(error) = result {
                eprintln!("{name} stopped with error: {error}");
            }
        }
        () = deadline => {}
    }
}

/// Resolves when `stop()`/drop asks the server to stop, or the handle is gone.
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}
