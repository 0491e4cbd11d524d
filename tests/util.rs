//! Running the built binary and inspecting what it left behind.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panic with the whole output when the exit code is not `code`.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn ok(self) -> Run {
        self.expect_code(0)
    }
}

/// The binary with a clean environment for secrets.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_resource-sync"));
    command
        .args(args)
        .env_remove("RESOURCE_SYNC_TOKEN")
        .env_remove("RESOURCE_SYNC_PASSWORD")
        .stdin(Stdio::null());
    command
}

/// Run with the given args and stdin text.
pub fn run_with_stdin(args: &[&str], stdin: &str) -> Run {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    // A run refused before it reads (a usage error) closes its stdin: that is its answer,
    // checked by the caller, not a failure to feed it.
    if let Err(error) = written {
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::BrokenPipe,
            "stdin accepts input: {error}"
        );
    }
    finish(child.wait_with_output().expect("the binary runs"))
}

/// Run with the given args and no stdin.
pub fn run(args: &[&str]) -> Run {
    run_command(command(args))
}

pub fn run_command(mut command: Command) -> Run {
    finish(command.output().expect("the binary runs"))
}

fn finish(output: std::process::Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A fresh temporary directory, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Every file below `root` (relative paths, sorted), dot-entries included.
/// The tree's record of the API it was pulled from (SPEC section 8): not a resource, so
/// `list_files` leaves it out; tests of it look for it by name.
pub const ORIGIN_RECORD: &str = ".resource-sync-origin";

pub fn list_files(root: &Path) -> Vec<String> {
    let mut files: Vec<String> = walk(root)
        .into_iter()
        .filter(|path| path.file_name() != Some(std::ffi::OsStr::new(ORIGIN_RECORD)))
        .map(|path| {
            path.strip_prefix(root)
                .expect("below root")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    files
}

/// Whether a run left nothing at `path`: missing, or a folder with no files in it.
pub fn nothing_written(path: &Path) -> bool {
    !path.exists() || (path.is_dir() && list_files(path).is_empty())
}

/// A run that failed or only planned left nothing at `path`.
pub fn assert_nothing_written(path: &Path) {
    let left = match path.is_dir() {
        true => list_files(path),
        false => vec![path.display().to_string()],
    };
    assert!(nothing_written(path), "left behind: {left:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

pub fn manifest_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Write `text` to `path`, creating its parent folders.
pub fn write_file(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|error| panic!("creating {}: {error}", parent.display()));
    }
    std::fs::write(path, text)
        .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
}

/// Resources as a multi-document YAML file, each document in JSON flow style (valid YAML).
pub fn yaml_documents(resources: &[serde_json::Value]) -> String {
    resources
        .iter()
        .map(|resource| format!("---\n{resource}\n"))
        .collect()
}

/// The counts of the summary line of SPEC section 5.
pub use resource_sync::report::Counts as Summary;

/// Parses `read R, created C, updated U, deleted D, unchanged N, failed F, skipped S in T s`
/// from stderr; panics (showing stderr) when there is no such line.
pub fn summary(stderr: &str) -> Summary {
    let line = stderr
        .lines()
        .filter_map(|line| line.find("read ").map(|start| &line[start..]))
        .find(|line| line.contains(", skipped ") && line.ends_with(" s"))
        .unwrap_or_else(|| panic!("no summary line in stderr:\n{stderr}"));
    let counts = line
        .split(" in ")
        .next()
        .expect("split yields a first part");
    let mut summary = Summary::default();
    for part in counts.split(", ") {
        let (name, value) = part
            .split_once(' ')
            .unwrap_or_else(|| panic!("malformed summary part {part:?} in {line:?}"));
        let value: usize = value
            .parse()
            .unwrap_or_else(|_| panic!("malformed count {part:?} in {line:?}"));
        let slot = match name {
            "read" => &mut summary.read,
            "created" => &mut summary.created,
            "updated" => &mut summary.updated,
            "deleted" => &mut summary.deleted,
            "unchanged" => &mut summary.unchanged,
            "failed" => &mut summary.failed,
            "skipped" => &mut summary.skipped,
            other => panic!("unknown summary count {other:?} in {line:?}"),
        };
        *slot = value;
    }
    summary
}

/// A port that was free a moment ago on 127.0.0.1 (bound to port 0, then released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("binding 127.0.0.1:0");
    listener.local_addr().expect("a bound address").port()
}

/// Panic (showing the list) when an item appears twice.
pub fn assert_all_distinct(items: &[String], what: &str) {
    let distinct: std::collections::BTreeSet<&String> = items.iter().collect();
    assert_eq!(
        distinct.len(),
        items.len(),
        "{what} more than once: {items:?}"
    );
}

/// Panic when a secret appears anywhere in a run's output.
pub fn assert_never_printed(run: &Run, secret: &str) {
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(!all.contains(secret), "secret leaked:\n{all}");
}

/// A HAL resource at `{base}/api/{kind}/{id}` with `fields` (a JSON object) merged in and a
/// `parent:<kind>` link to `{base}/api/{kind}/{id}` for each of `parents`.
pub fn hal_resource(
    base: &str,
    kind: &str,
    id: u64,
    fields: serde_json::Value,
    parents: &[(&str, u64)],
) -> serde_json::Value {
    let mut links = serde_json::Map::new();
    links.insert(
        "self".into(),
        serde_json::json!({ "href": format!("{base}/api/{kind}/{id}") }),
    );
    for (parent_kind, parent_id) in parents {
        links.insert(
            format!("parent:{parent_kind}"),
            serde_json::json!({ "href": format!("{base}/api/{parent_kind}/{parent_id}") }),
        );
    }
    let mut resource = serde_json::json!({ "id": id, "_links": links });
    let extra = fields.as_object().cloned().unwrap_or_default();
    for (key, value) in extra {
        resource[key] = value;
    }
    resource
}

/// (relative path, inode, mtime seconds, mtime nanoseconds, content) of every file below
/// `root`: a rewrite (new inode), a touch (new mtime) or an edit all show up as a difference.
pub fn file_snapshot(root: &Path) -> Vec<(String, u64, i64, i64, String)> {
    use std::os::unix::fs::MetadataExt;
    list_files(root)
        .into_iter()
        .map(|file| {
            let path = root.join(&file);
            let meta = std::fs::metadata(&path).expect("metadata");
            let content =
                String::from_utf8_lossy(&std::fs::read(&path).expect("readable file")).into_owned();
            (file, meta.ino(), meta.mtime(), meta.mtime_nsec(), content)
        })
        .collect()
}

/// The lines of `text`, sorted (for outputs whose order the SPEC leaves open).
pub fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// Sorted owned strings, for comparing with `sorted_lines`.
pub fn sorted_strings<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|s| s.as_ref().to_string()).collect();
    out.sort();
    out
}

/// The binary started with piped stdout and stderr, for runs a test interrupts or changes
/// the world under (stop a server, send a signal); finish it with `wait_for`.
pub fn spawn_command(mut command: Command) -> std::process::Child {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// Waits for a spawned run, reading its output meanwhile. A run still going after `limit`
/// is killed and the test fails with its output, so a hang cannot block the suite.
pub fn wait_for(mut child: std::process::Child, limit: std::time::Duration) -> Run {
    use std::io::Read;
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the binary") {
            break Some(status);
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let run = Run {
        code: status.and_then(|status| status.code()).unwrap_or(-1),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    assert!(
        status.is_some(),
        "the binary was still running after {limit:?}\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    run
}

/// Stderr lines that report a failed resource (`failed: ...`, printed after the summary).
pub fn failure_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.starts_with("failed: "))
        .collect()
}

/// Every file below `root` with its bytes, by relative path.
pub fn file_contents(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    list_files(root)
        .into_iter()
        .map(|file| {
            let bytes = std::fs::read(root.join(&file)).expect("readable file");
            (file, bytes)
        })
        .collect()
}

/// Run with `stdin` bytes, written from a thread; the binary may stop reading early (a
/// refused input), so a broken pipe is not an error here.
pub fn run_with_stdin_bytes(args: &[&str], stdin: Vec<u8>) -> Run {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&stdin);
    });
    let run = wait_for(child, std::time::Duration::from_secs(60));
    writer.join().expect("stdin writer");
    run
}

/// The test server's sample dataset (hrefs on another host) as a JSON Lines origin file.
pub fn sample_jsonl_origin(dir: &Path, teams: usize, players_per_team: usize) -> PathBuf {
    let path = dir.join("origin.jsonl");
    let lines: String =
        crate::server::sample_dataset("http://prod.example:9", teams, players_per_team)
            .iter()
            .map(|resource| format!("{resource}\n"))
            .collect();
    write_file(&path, &lines);
    path
}

/// A folder holding a project file `resource-sync.yaml` (SPEC section 10); the binary runs
/// in it, or in a folder below it, with the variables given and no project file named by
/// the caller's own environment.
pub struct ProjectFolder {
    dir: tempfile::TempDir,
}

impl ProjectFolder {
    /// A run still going after this is a hang: it is killed and the test fails.
    pub const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

    pub fn new(yaml: &str) -> ProjectFolder {
        let dir = temp_dir();
        write_file(&dir.path().join("resource-sync.yaml"), yaml);
        ProjectFolder { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.path().join(relative)
    }

    /// The binary in `folder` with `env` set.
    pub fn command_in(&self, folder: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = command(args);
        command
            .current_dir(folder)
            .env_remove("RESOURCE_SYNC_CONFIG");
        for (name, value) in env {
            command.env(name, value);
        }
        command
    }

    /// A run in the project's folder.
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_in(self.path(), args, env)
    }

    pub fn run_in(&self, folder: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        wait_for(
            spawn_command(self.command_in(folder, args, env)),
            Self::RUN_LIMIT,
        )
    }
}
