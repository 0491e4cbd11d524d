//! A real third-party REST service: Django REST framework and DRF JSON:API, served by
//! `tests/django/serve.py` from the virtualenv `tests/django/install.sh` makes (see
//! `tests/django/README.md` for the endpoints). One process, SQLite file and request log
//! per `DjangoServer`, all in a temporary directory; the process is killed on drop.
//! `start_oauth2` starts it with its APIs behind django-oauth-toolkit (client credentials).
//!
//! Std and serde_json only: `examples/demo_server.rs` compiles this module too.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Python may be slow to start on a loaded machine; this only bounds a hung start.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// The page size `serve.py` uses unless told otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 2;

fn django_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/django")
}

fn venv_python() -> PathBuf {
    django_dir().join(".venv/bin/python")
}

/// Installs the Django service's packages (once per test process) when needed.
pub fn require_django() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| install_python_service("django", "Django"));
}

/// Runs `tests/NAME/install.sh`, which makes the service's virtualenv (and returns at once
/// when it is up to date); without python3 the test fails naming the install command,
/// never passing untested. `label` names the service in that message.
pub fn install_python_service(name: &str, label: &str) {
    let python = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        python,
        "python3 is needed for the {label} test service: install it (apt-get install python3 python3-venv), then run tests/{name}/install.sh"
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name);
    let script = dir.join("install.sh");
    let output = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{} failed:\n{}\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let python = dir.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} did not make {}",
        script.display(),
        python.display()
    );
}

use super::raw_http::exchange_with;
pub use super::raw_http::Response;

/// The `serve.py` process and its temporary directory (database, request log, output).
pub struct DjangoServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    /// Whether the APIs need an OAuth2 token (`--oauth2`): they then answer 401 without one.
    oauth2: bool,
}

/// django-oauth-toolkit's token endpoint (client credentials grant), under the server.
pub const TOKEN_PATH: &str = "/o/token/";

/// Its revocation endpoint (RFC 7009): a revoked access token is refused at once.
pub const REVOKE_PATH: &str = "/o/revoke_token/";

impl DjangoServer {
    /// A server on a free port with the default page size (2); `seed` loads 3 teams,
    /// 6 players (2 a team) and 6 stats (one a player, 10, 20, ... points).
    pub fn start(seed: bool) -> DjangoServer {
        DjangoServer::start_with_page_size(seed, DEFAULT_PAGE_SIZE)
    }

    pub fn start_with_page_size(seed: bool, page_size: usize) -> DjangoServer {
        DjangoServer::launch(seed, page_size, &[])
    }

    /// A server whose APIs (`/api/`, `/jsonapi/` and their OpenAPI documents) answer only
    /// requests with a valid bearer token. Tokens come from `TOKEN_PATH` (client credentials
    /// grant) to the one confidential application `client_id` / `client_secret` (stored
    /// hashed) and expire after `token_lifetime` seconds (the `expires_in` answered).
    pub fn start_oauth2(
        seed: bool,
        client_id: &str,
        client_secret: &str,
        token_lifetime: u64,
    ) -> DjangoServer {
        let oauth2 = [
            "--oauth2".to_string(),
            "--token-lifetime".to_string(),
            token_lifetime.to_string(),
            "--client".to_string(),
            format!("{client_id}:{client_secret}"),
        ];
        DjangoServer::launch(seed, DEFAULT_PAGE_SIZE, &oauth2)
    }

    fn launch(seed: bool, page_size: usize, extra_args: &[String]) -> DjangoServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let output = std::fs::File::create(dir.path().join("server.out")).expect("an output file");
        let mut command = Command::new(venv_python());
        command
            .arg(django_dir().join("serve.py"))
            // The server binds a free port itself and prints it: no race for the port.
            .args(["--port", "0"])
            .arg("--db")
            .arg(dir.path().join("db.sqlite3"))
            .arg("--log")
            .arg(dir.path().join("requests.jsonl"))
            .args(["--page-size", &page_size.to_string()])
            .args(extra_args)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("a second output handle"))
            .stderr(output);
        if seed {
            command.arg("--seed");
        }
        let child = command.spawn().expect("python starts");
        let mut server = DjangoServer {
            child,
            port: 0,
            dir,
            oauth2: extra_args.iter().any(|arg| arg == "--oauth2"),
        };
        server.wait_until_ready();
        server
    }

    /// Waits for the `serving on http://127.0.0.1:PORT/` line, then for an answer there
    /// (401 from a server whose API needs a token).
    fn wait_until_ready(&mut self) {
        let ready_status = if self.oauth2 { 401 } else { 200 };
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!("serve.py exited with {status}:\n{}", self.output());
            }
            if self.port == 0 {
                self.port = announced_port(&self.output()).unwrap_or(0);
            }
            if self.port != 0
                && http(self.port, "GET", "/api/", None, None)
                    .is_some_and(|r| r.status == ready_status)
            {
                return;
            }
            assert!(
                started.elapsed() < STARTUP_DEADLINE,
                "serve.py did not answer (port {}):\n{}",
                self.port,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`, the prefix of every link the server writes.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The SQLite file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("db.sqlite3")
    }

    /// What the server printed (Django's warnings and tracebacks), for failure messages.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.out")).unwrap_or_default()
    }

    /// Every request so far, oldest first: `{"method", "path" (with the query), "status",
    /// "content_type" (null without a body), "body" (JSON, text such as a token request's
    /// form, or null)}`, and `"authorization"` (the header as sent) on a request that carried
    /// one. The readiness probes (`GET /api/`) are in it too.
    pub fn request_log(&self) -> Vec<Value> {
        let text =
            std::fs::read_to_string(self.dir.path().join("requests.jsonl")).unwrap_or_default();
        text.lines()
            .map(|line| serde_json::from_str(line).expect("a JSON request log line"))
            .collect()
    }

    /// `GET path` (relative to the server, or a full URL on it), which must answer 200.
    pub fn get_json(&self, path: &str) -> Value {
        let response = self.request("GET", path, None, None);
        assert_eq!(
            response.status,
            200,
            "GET {path}: {}\n{}",
            response.body,
            self.output()
        );
        response.body
    }

    /// `method path` with `body` as `content_type` (neither sent when `body` is `None`).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let response = self.request(method, path, Some(content_type), body);
        (response.status, response.body)
    }

    /// Like `send`, keeping the headers.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let path = path.strip_prefix(&self.base_url()).unwrap_or(path);
        let body = body.map(|body| (content_type.unwrap_or("application/json"), body));
        http(
            self.port,
            method,
            path,
            body.map(|(t, _)| t),
            body.map(|(_, b)| b),
        )
        .unwrap_or_else(|| panic!("{method} {path}: no answer\n{}", self.output()))
    }
}

/// The OAuth2 side, for a server started with `start_oauth2`: what a client does by hand.
impl DjangoServer {
    /// `http://127.0.0.1:PORT/o/token/`.
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.base_url())
    }

    /// Asks a client credentials token, the client authenticated with HTTP basic (RFC 6749,
    /// 2.3.1): `{"access_token", "expires_in", "token_type", "scope"}` on success.
    pub fn request_token(&self, client_id: &str, client_secret: &str) -> Response {
        let basic = format!("Basic {}", base64(&format!("{client_id}:{client_secret}")));
        self.form_post(TOKEN_PATH, &basic, "grant_type=client_credentials")
    }

    /// The access token of a successful `request_token`.
    pub fn access_token(&self, client_id: &str, client_secret: &str) -> String {
        let answer = self.request_token(client_id, client_secret);
        assert_eq!(answer.status, 200, "{TOKEN_PATH}: {}", answer.body);
        answer.body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {}", answer.body))
            .to_string()
    }

    /// Revokes `token` (RFC 7009) as the client it was issued to.
    pub fn revoke_token(&self, token: &str, client_id: &str, client_secret: &str) -> Response {
        let basic = format!("Basic {}", base64(&format!("{client_id}:{client_secret}")));
        self.form_post(REVOKE_PATH, &basic, &format!("token={token}"))
    }

    /// `GET path` with `Authorization: authorization`.
    pub fn get_authorized(&self, path: &str, authorization: &str) -> Response {
        exchange_with(self.port, ("GET", path), Some(authorization), None)
            .unwrap_or_else(|error| panic!("GET {path}: {error}\n{}", self.output()))
    }

    fn form_post(&self, path: &str, authorization: &str, form: &str) -> Response {
        let body = ("application/x-www-form-urlencoded", form);
        exchange_with(self.port, ("POST", path), Some(authorization), Some(body))
            .unwrap_or_else(|error| panic!("POST {path}: {error}\n{}", self.output()))
    }
}

impl Drop for DjangoServer {
    fn drop(&mut self) {
        // Already exited is fine; the temporary directory goes with `dir`.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in a `serving on http://127.0.0.1:PORT/` line (`serve.py`'s, the smorest
/// service's).
pub fn announced_port(output: &str) -> Option<u16> {
    output.lines().find_map(|line| {
        let rest = line.strip_prefix("serving on http://127.0.0.1:")?;
        rest.strip_suffix('/')?.parse().ok()
    })
}

/// One exchange, or `None` when nothing answers.
fn http(
    port: u16,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Option<&Value>,
) -> Option<Response> {
    let body = body.map(|body| (content_type.unwrap_or("application/json"), body));
    super::raw_http::exchange(port, method, path, body).ok()
}

/// Standard base64 with padding (RFC 4648), for an HTTP basic header: this module keeps to
/// std and serde_json because `examples/demo_server.rs` compiles it too.
pub fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let group = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]);
        for position in 0..4 {
            if position <= chunk.len() {
                let index = (group >> (18 - 6 * position)) & 63;
                out.push(ALPHABET[index as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
