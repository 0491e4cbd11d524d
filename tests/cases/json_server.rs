//! End to end against a real third-party API: json-server 0.17.4 from npm (installed in
//! `tests/json-server/`), paginated with RFC 8288 `Link` headers and read with `--simple`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::server::frameworks::on_path;
use crate::util::*;

/// Node may be slow to start on a loaded machine; this only bounds a hung start.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

const RECORDS: usize = 5;

fn package_dir() -> PathBuf {
    manifest_path("tests/json-server")
}

fn bin_js() -> PathBuf {
    package_dir().join("node_modules/json-server/lib/cli/bin.js")
}

/// Installs json-server if needed; without node and npm the test fails naming the install
/// command, never passing untested.
pub(super) fn require_json_server() {
    assert!(
        on_path("node") && on_path("npm"),
        "node and npm are needed for the json-server tests: install them (apt-get install nodejs npm), then run `npm ci` in tests/json-server"
    );
    ensure_installed();
}

/// Installs json-server from the lock file when `node_modules` is missing.
fn ensure_installed() {
    if bin_js().exists() {
        return;
    }
    let subcommand = if package_dir().join("package-lock.json").exists() {
        "ci"
    } else {
        "install"
    };
    let output = Command::new("npm")
        .args([subcommand, "--no-audit", "--no-fund"])
        .current_dir(package_dir())
        .stdin(Stdio::null())
        .output()
        .expect("npm runs");
    assert!(
        output.status.success(),
        "npm {subcommand} in {} failed:\n{}\n{}",
        package_dir().display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        bin_js().exists(),
        "npm {subcommand} did not install {}",
        bin_js().display()
    );
}

/// The json-server process; killed and reaped when dropped, even when the test panics.
pub(super) struct JsonServer {
    child: Child,
    log: PathBuf,
    pub(super) port: u16,
}

impl JsonServer {
    pub(super) fn start(db: &Path, port: u16, log: PathBuf) -> JsonServer {
        let log_file = std::fs::File::create(&log).expect("a log file");
        let child = Command::new("node")
            .arg(bin_js())
            .args(["--port", &port.to_string(), "--host", "127.0.0.1"])
            .arg(db)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("a second log handle"))
            .stderr(log_file)
            .spawn()
            .expect("node starts");
        let mut server = JsonServer { child, log, port };
        server.wait_until_ready();
        server
    }

    /// What json-server printed, for failure messages.
    pub(super) fn log_text(&self) -> String {
        read(&self.log)
    }

    fn wait_until_ready(&mut self) {
        let port = self.port;
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!("json-server exited with {status}:\n{}", read(&self.log));
            }
            if http_get(port, "/teams").is_some_and(|(status, _)| status == 200) {
                return;
            }
            assert!(
                started.elapsed() < STARTUP_DEADLINE,
                "json-server did not answer on port {port}:\n{}",
                read(&self.log)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for JsonServer {
    fn drop(&mut self) {
        // Already exited is fine; there is nothing else to clean up.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` over HTTP/1.0 (so the answer is neither chunked nor kept alive): the status
/// and the body, or `None` when nothing answers.
pub(super) fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    Some((status, body.to_string()))
}

#[test]
fn pull_every_link_header_page_from_json_server() {
    require_json_server();
    let dir = temp_dir();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let teams: Vec<_> = (1..=RECORDS)
        .map(|id| json!({ "id": id, "type": "team", "uri": format!("{base}/teams/{id}"), "name": format!("Team {id}") }))
        .collect();
    let db = dir.path().join("db.json");
    write_file(&db, &json!({ "teams": teams }).to_string());
    let _server = JsonServer::start(&db, port, dir.path().join("json-server.log"));

    let out = dir.path().join("out");
    let start = format!("{base}/teams?_page=1&_limit=2");
    let run = run(&["--simple", &start, path_str(&out)]).ok();

    let expected: Vec<String> = (1..=RECORDS).map(|id| format!("team/{id}.yaml")).collect();
    assert_eq!(list_files(&out), expected, "{}", run.stderr);
    for id in 1..=RECORDS {
        assert_eq!(
            read(&out.join(format!("team/{id}.yaml"))),
            format!("---\nid: {id}\nname: Team {id}\ntype: team\nuri: {base}/teams/{id}\n")
        );
    }
    assert_eq!(summary(&run.stderr).read, RECORDS, "{}", run.stderr);
}
