//! A real third-party REST service: Django REST framework and DRF JSON:API, served by
//! `tests/django/serve.py` from the virtualenv `tests/django/install.sh` makes (see
//! `tests/django/README.md` for the endpoints). One process, SQLite file and request log
//! per `DjangoServer`, all in a temporary directory; the process is killed on drop.
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

/// Installs the Django service's packages (once per test process) when needed; without
/// python3 the test fails naming the install command, never passing untested.
pub fn require_django() {
    let python = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        python,
        "python3 is needed for the Django test service: install it (apt-get install python3 python3-venv), then run tests/django/install.sh"
    );
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(install);
}

/// Runs `install.sh`, which returns at once when the virtualenv is up to date.
fn install() {
    let script = django_dir().join("install.sh");
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
    assert!(
        venv_python().exists(),
        "{} did not make {}",
        script.display(),
        venv_python().display()
    );
}

pub use super::raw_http::Response;

/// The `serve.py` process and its temporary directory (database, request log, output).
pub struct DjangoServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl DjangoServer {
    /// A server on a free port with the default page size (2); `seed` loads 3 teams,
    /// 6 players (2 a team) and 6 stats (one a player, 10, 20, ... points).
    pub fn start(seed: bool) -> DjangoServer {
        DjangoServer::start_with_page_size(seed, DEFAULT_PAGE_SIZE)
    }

    pub fn start_with_page_size(seed: bool, page_size: usize) -> DjangoServer {
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
        };
        server.wait_until_ready();
        server
    }

    /// Waits for the `serving on http://127.0.0.1:PORT/` line, then for an answer there.
    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!("serve.py exited with {status}:\n{}", self.output());
            }
            if self.port == 0 {
                self.port = announced_port(&self.output()).unwrap_or(0);
            }
            if self.port != 0
                && http(self.port, "GET", "/api/", None, None).is_some_and(|r| r.status == 200)
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
    /// "content_type" (null without a body), "body" (JSON, text, or null)}`. The readiness
    /// probes (`GET /api/`) are in it too.
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

impl Drop for DjangoServer {
    fn drop(&mut self) {
        // Already exited is fine; the temporary directory goes with `dir`.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in `serve.py`'s `serving on http://127.0.0.1:PORT/` line.
fn announced_port(output: &str) -> Option<u16> {
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
