//! Real third-party frameworks as test servers: a flask-smorest service
//! (`tests/smorest/serve.py`, from the virtualenv `tests/smorest/install.sh` makes) and
//! json-server 1.0 (npm, `tests/json-server-1/`). Each server is one process with its own
//! temporary directory (database, request log, output), killed on drop.
//!
//! Std, serde_json and tempfile only: `examples/demo_server.rs` compiles this module too.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::django::{announced_port, install_python_service};

use serde_json::Value;

use super::raw_http::{exchange, Response};

/// Python or node may be slow to start on a loaded machine; this only bounds a hung start.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

fn tests_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// Whether `program --version` runs and succeeds.
pub fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs `command`, which must succeed, naming `what` and its output when it does not.
fn run_to_success(mut command: Command, what: &str) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// How a started server tells its port.
enum Port {
    /// It binds a free port itself and prints `serving on http://127.0.0.1:PORT/`.
    Announced,
    /// It was told this one.
    Given(u16),
}

/// A server process in its own temporary directory, its output in `server.out` there.
struct Process {
    name: &'static str,
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Process {
    /// Starts `command` (its output going to the directory's `server.out`) and waits until
    /// `GET probe` answers 200.
    fn start(
        name: &'static str,
        mut command: Command,
        dir: tempfile::TempDir,
        port: Port,
        probe: &str,
    ) -> Process {
        let output = std::fs::File::create(dir.path().join("server.out")).expect("an output file");
        let child = command
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("a second output handle"))
            .stderr(output)
            .spawn()
            .unwrap_or_else(|error| panic!("{name} starts: {error}"));
        let port = match port {
            Port::Announced => 0,
            Port::Given(port) => port,
        };
        let mut process = Process {
            name,
            child,
            port,
            dir,
        };
        process.wait_until_ready(probe);
        process
    }

    fn wait_until_ready(&mut self, probe: &str) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!("{} exited with {status}:\n{}", self.name, self.output());
            }
            if self.port == 0 {
                self.port = announced_port(&self.output()).unwrap_or(0);
            }
            let answered = self.port != 0
                && exchange(self.port, "GET", probe, None).is_ok_and(|r| r.status == 200);
            if answered {
                return;
            }
            assert!(
                started.elapsed() < STARTUP_DEADLINE,
                "{} did not answer GET {probe} (port {}):\n{}",
                self.name,
                self.port,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server printed, for failure messages.
    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.out")).unwrap_or_default()
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `method path` (relative to the server, or a full URL on it) with a JSON body.
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Response {
        let path = path.strip_prefix(&self.base_url()).unwrap_or(path);
        exchange(
            self.port,
            method,
            path,
            body.map(|body| ("application/json", body)),
        )
        .unwrap_or_else(|error| panic!("{method} {path}: {error}\n{}", self.output()))
    }

    /// `GET path`, which must answer 200.
    fn get_json(&self, path: &str) -> Value {
        let response = self.request("GET", path, None);
        assert_eq!(
            response.status,
            200,
            "GET {path}: {}\n{}",
            response.body,
            self.output()
        );
        response.body
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Already exited is fine; the temporary directory goes with `dir`.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- flask-smorest ---------------------------------------------------------------------------

fn smorest_python() -> PathBuf {
    tests_dir("smorest").join(".venv/bin/python")
}

/// Installs the flask-smorest service's packages (once per test process) when needed.
pub fn require_smorest() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| install_python_service("smorest", "flask-smorest"));
}

/// `tests/smorest/serve.py` (see `tests/smorest/README.md`): authors, books (`author_id`)
/// and reviews (`book_id`) at `/NAME/` and `/NAME/{id}`, pages of `page_size` (10 unless
/// asked), the OpenAPI document at `/openapi.json`.
pub struct SmorestServer {
    process: Process,
}

impl SmorestServer {
    /// A server on a free port; `seed` loads 3 authors, 5 books and 4 reviews.
    pub fn start(seed: bool) -> SmorestServer {
        require_smorest();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut command = Command::new(smorest_python());
        command
            .arg(tests_dir("smorest").join("serve.py"))
            .args(["--port", "0"])
            .arg("--db")
            .arg(dir.path().join("db.sqlite3"))
            .arg("--log")
            .arg(dir.path().join("requests.jsonl"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1");
        if seed {
            command.arg("--seed");
        }
        let process = Process::start(
            "serve.py (flask-smorest)",
            command,
            dir,
            Port::Announced,
            "/openapi.json",
        );
        SmorestServer { process }
    }

    /// `http://127.0.0.1:PORT`, the API root.
    pub fn base_url(&self) -> String {
        self.process.base_url()
    }

    /// What the server printed (tracebacks), for failure messages.
    pub fn output(&self) -> String {
        self.process.output()
    }

    /// Every request so far, oldest first: `{"method", "path" (with the query), "status",
    /// "content_type" (null without a body), "body" (JSON, text, or null)}`. The readiness
    /// probes (`GET /openapi.json`) are in it too.
    pub fn request_log(&self) -> Vec<Value> {
        let path = self.process.dir.path().join("requests.jsonl");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines()
            .map(|line| serde_json::from_str(line).expect("a JSON request log line"))
            .collect()
    }

    /// The logged requests that are not GETs, oldest first.
    pub fn writes(&self) -> Vec<Value> {
        let mut log = self.request_log();
        log.retain(|entry| entry["method"] != "GET");
        log
    }

    /// `GET path`, which must answer 200.
    pub fn get_json(&self, path: &str) -> Value {
        self.process.get_json(path)
    }

    /// Every member of a collection (`authors`, `books`, `reviews`), in one page.
    pub fn all(&self, collection: &str) -> Vec<Value> {
        let page = self.get_json(&format!("/{collection}/?page_size=100"));
        page.as_array().expect("a list").clone()
    }

    /// `method path` with a JSON body: the status and the answer.
    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let response = self.process.request(method, path, body);
        (response.status, response.body)
    }
}

// --- json-server 1.0 -------------------------------------------------------------------------

fn json_server_1_bin() -> PathBuf {
    tests_dir("json-server-1").join("node_modules/json-server/lib/bin.js")
}

/// Installs json-server 1.0 from its lock file (once per test process) when needed; without
/// node and npm the test fails naming the install command, never passing untested.
pub fn require_json_server_1() {
    assert!(
        on_path("node") && on_path("npm"),
        "node and npm are needed for the json-server 1.0 tests: install them (apt-get install nodejs npm), then run `npm ci` in tests/json-server-1"
    );
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if json_server_1_bin().exists() {
            return;
        }
        let mut command = Command::new("npm");
        command
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(tests_dir("json-server-1"));
        run_to_success(command, "npm ci in tests/json-server-1");
        assert!(
            json_server_1_bin().exists(),
            "npm ci did not install {}",
            json_server_1_bin().display()
        );
    });
}

/// json-server 1.0 serving a copy of a database (`{"collection": [members]}`), which it
/// rewrites on every write.
pub struct JsonServer1 {
    process: Process,
}

impl JsonServer1 {
    /// A server on a free port; `probe` is a collection of `database` (GET it answers 200).
    pub fn start(database: &Value, probe: &str) -> JsonServer1 {
        require_json_server_1();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("db.json");
        std::fs::write(&file, database.to_string()).expect("writing db.json");
        // json-server does not print the port it bound, so it is told a free one.
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free port on 127.0.0.1")
            .port();
        let mut command = Command::new("node");
        command
            .arg(json_server_1_bin())
            .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
            .arg(&file)
            .current_dir(dir.path());
        let process = Process::start("json-server 1.0", command, dir, Port::Given(port), probe);
        JsonServer1 { process }
    }

    /// `http://127.0.0.1:PORT`, the API root.
    pub fn base_url(&self) -> String {
        self.process.base_url()
    }

    /// What json-server printed, for failure messages.
    pub fn output(&self) -> String {
        self.process.output()
    }

    /// `GET path`, which must answer 200.
    pub fn get_json(&self, path: &str) -> Value {
        self.process.get_json(path)
    }
}
