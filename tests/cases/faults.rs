//! Runs under injected faults (issue #5, SPEC sections 3, 4 and 5): transient statuses, 429
//! with `Retry-After`, broken connections, slow answers, a server that goes away and comes
//! back, too few attempts, `--fail-fast`, statuses that must not be retried, and Ctrl-C.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::server::{
    sample_dataset, seeded_server, Fault, RequestRecord, ServerConfig, TestServer,
};
use crate::util::*;

/// Where the pushed data claims to live: a closed loopback port, so a PUT that is not
/// rebased onto the destination fails instead of leaving the machine.
const ORIGIN_BASE: &str = "http://localhost:1";

/// The sample dataset as origin resources, by path (`/api/team/1`).
fn origin_data(teams: usize, players: usize) -> BTreeMap<String, Value> {
    sample_dataset(ORIGIN_BASE, teams, players)
        .into_iter()
        .map(|resource| {
            let href = resource["_links"]["self"]["href"]
                .as_str()
                .expect("sample resources have a self link");
            (href.trim_start_matches(ORIGIN_BASE).to_string(), resource)
        })
        .collect()
}

/// The data as one YAML file, children first so the input order is no help.
fn yaml_origin(dir: &Path, data: &BTreeMap<String, Value>) -> PathBuf {
    let path = dir.join("origin.yaml");
    let resources: Vec<Value> = data.values().rev().cloned().collect();
    write_file(&path, &yaml_documents(&resources));
    path
}

fn push_args<'a>(origin: &'a Path, destination: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = extra.to_vec();
    args.extend([path_str(origin), destination]);
    args
}

fn push(origin: &Path, server: &TestServer, extra: &[&str]) -> Run {
    let destination = server.url("/api");
    run(&push_args(origin, &destination, extra))
}

/// The logged requests with this method and path (query included), in arrival order.
fn requests_to(server: &TestServer, method: &str, path: &str) -> Vec<RequestRecord> {
    server
        .requests()
        .into_iter()
        .filter(|request| request.method == method && request.path_and_query == path)
        .collect()
}

fn statuses(requests: &[RequestRecord]) -> Vec<u16> {
    requests.iter().map(|request| request.status).collect()
}

/// The server holds exactly `data`, body for body.
fn assert_stored_exactly(server: &TestServer, data: &BTreeMap<String, Value>) {
    let stored = server.resources();
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        data.keys().collect::<Vec<_>>()
    );
    for (path, resource) in data {
        assert_eq!(&stored[path], resource, "body stored at {path}");
    }
}

/// Every resource stored on `server` (at `/api/<type>/<id>`) is the file `<type>/<id>.yaml`
/// below `root` holding the same value, and `root` holds no other file.
fn assert_directory_holds(root: &Path, server: &TestServer) {
    let stored = server.resources();
    let mut expected: Vec<String> = stored
        .keys()
        .map(|path| format!("{}.yaml", path.trim_start_matches("/api/")))
        .collect();
    expected.sort();
    assert_eq!(list_files(root), expected, "files below {}", root.display());
    for (path, body) in &stored {
        let file = root.join(format!("{}.yaml", path.trim_start_matches("/api/")));
        let documents: Vec<Value> =
            resource_sync::format::YamlDocuments::new(std::fs::File::open(&file).expect("opens"))
                .collect::<Result<_, _>>()
                .unwrap_or_else(|error| panic!("reading {}: {error}", file.display()));
        assert_eq!(
            documents,
            std::slice::from_ref(body),
            "content of {}",
            file.display()
        );
    }
}

#[test]
fn transient_statuses_and_broken_connections_are_retried_until_a_pull_is_complete() {
    let server = seeded_server(ServerConfig::default(), 2, 2);
    server.inject_path("/api", 2, Fault::status(503));
    server.inject_path("/api/team", 1, Fault::status(502));
    server.inject_path("/api/player", 2, Fault::status(504));
    server.inject_path("/api/stat", 1, Fault::CloseMidBody);
    let dir = temp_dir();
    let out = dir.path().join("out");
    let run = run(&["-c", "-l", "2", &server.url("/api"), path_str(&out)]).ok();

    assert_directory_holds(&out, &server);
    let counts = summary(&run.stderr);
    assert_eq!((counts.read, counts.failed), (10, 0), "{}", run.stderr);
    assert_eq!(
        statuses(&requests_to(&server, "GET", "/api")),
        [503, 503, 200]
    );
    assert_eq!(
        statuses(&requests_to(&server, "GET", "/api/team")),
        [502, 200]
    );
    assert_eq!(
        statuses(&requests_to(&server, "GET", "/api/stat")),
        [0, 200]
    );
    let player_statuses: Vec<u16> = server
        .requests()
        .iter()
        .filter(|r| r.path_and_query.starts_with("/api/player"))
        .map(|r| r.status)
        .collect();
    assert_eq!(
        player_statuses.iter().filter(|s| **s == 504).count(),
        2,
        "{player_statuses:?}"
    );
}

#[test]
fn transient_statuses_and_broken_connections_are_retried_until_a_push_is_complete() {
    let server = TestServer::start(ServerConfig::default());
    server.inject_path("/api/team/1", 2, Fault::status(503));
    server.inject_path("/api/team/2", 2, Fault::status(429));
    server.inject_path("/api/player/2", 1, Fault::status(502));
    server.inject_path("/api/stat/3", 1, Fault::status(504));
    server.inject_path("/api/player/1", 2, Fault::CloseMidBody);
    let data = origin_data(2, 2);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let run = push(&origin, &server, &[]).ok();

    assert_stored_exactly(&server, &data);
    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.created, counts.failed, counts.skipped),
        (data.len(), 0, 0),
        "{}",
        run.stderr
    );
    assert_eq!(
        statuses(&requests_to(&server, "PUT", "/api/team/1")),
        [503, 503, 201]
    );
    assert_eq!(
        statuses(&requests_to(&server, "PUT", "/api/team/2")),
        [429, 429, 201]
    );
    assert_eq!(
        statuses(&requests_to(&server, "PUT", "/api/player/1")),
        [0, 0, 201]
    );
}

/// Milliseconds between the first two logged PUTs of `path` (server clock).
fn retry_gap(server: &TestServer, path: &str) -> u128 {
    let puts = requests_to(server, "PUT", path);
    assert!(puts.len() >= 2, "no retry of {path}: {puts:#?}");
    puts[1].at_millis - puts[0].at_millis
}

fn push_one_team_after(fault: Fault) -> (TestServer, Run) {
    let server = TestServer::start(ServerConfig::default());
    server.inject_path("/api/team/1", 1, fault);
    let data = origin_data(1, 0);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let run = push(&origin, &server, &[]).ok();
    assert_stored_exactly(&server, &data);
    (server, run)
}

#[test]
fn retry_after_in_seconds_is_waited_out() {
    let (server, _) = push_one_team_after(Fault::retry_after(429, "1"));
    assert_eq!(
        statuses(&requests_to(&server, "PUT", "/api/team/1")),
        [429, 201]
    );
    let gap = retry_gap(&server, "/api/team/1");
    // The backoff alone would retry after 50-150 ms.
    assert!(gap >= 900, "retried {gap} ms after `Retry-After: 1`");
}

#[test]
fn retry_after_as_an_http_date_is_waited_out() {
    // Dates have whole seconds: two seconds ahead is at least one second of waiting.
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let (server, _) = push_one_team_after(Fault::retry_after(429, &date));
    assert_eq!(
        statuses(&requests_to(&server, "PUT", "/api/team/1")),
        [429, 201]
    );
    let gap = retry_gap(&server, "/api/team/1");
    assert!(gap >= 800, "retried {gap} ms after `Retry-After: {date}`");
}

#[test]
fn retry_after_on_503_is_waited_out_too() {
    let (server, _) = push_one_team_after(Fault::retry_after(503, "1"));
    let gap = retry_gap(&server, "/api/team/1");
    assert!(gap >= 900, "retried {gap} ms after `Retry-After: 1`");
}

#[test]
fn a_429_without_retry_after_is_retried_with_backoff() {
    let (server, run) = push_one_team_after(Fault::status(429));
    assert_eq!(
        statuses(&requests_to(&server, "PUT", "/api/team/1")),
        [429, 201]
    );
    assert_eq!(summary(&run.stderr).created, 1, "{}", run.stderr);
}

#[test]
fn an_answer_slower_than_the_timeout_is_abandoned_and_retried() {
    let server = seeded_server(ServerConfig::default(), 1, 2);
    server.inject_path("/api/player", 1, Fault::Delay(Duration::from_millis(2500)));
    let dir = temp_dir();
    let out = dir.path().join("out");
    let run = run(&[
        "-v",
        "--timeout",
        "1",
        &server.url("/api/player"),
        path_str(&out),
    ])
    .ok();
    assert_eq!(list_files(&out), ["player/1.yaml", "player/2.yaml"]);
    assert!(
        run.stderr.to_lowercase().contains("timed out"),
        "the timeout is not reported: {}",
        run.stderr
    );
}

#[test]
fn too_slow_with_one_attempt_fails_naming_the_url_and_the_timeout() {
    let server = seeded_server(ServerConfig::default(), 1, 2);
    server.inject_path("/api/player", 1, Fault::Delay(Duration::from_millis(2500)));
    let dir = temp_dir();
    let out = dir.path().join("out");
    let start = server.url("/api/player");
    let run = run(&["-m", "1", "--timeout", "1", &start, path_str(&out)]).expect_code(1);
    assert!(run.stderr.contains(&start), "{}", run.stderr);
    assert!(
        run.stderr.to_lowercase().contains("timed out"),
        "{}",
        run.stderr
    );
    assert_nothing_written(&out);
}

#[test]
fn a_server_down_at_the_start_is_waited_for_with_enough_attempts() {
    let server = TestServer::start_restartable(ServerConfig::default());
    for resource in sample_dataset(&server.base_url(), 1, 3) {
        server.insert(resource);
    }
    let start = server.url("/api/player");
    let back = server.restart_after(Duration::from_millis(800));
    let dir = temp_dir();
    let out = dir.path().join("out");
    let child = spawn_command(command(&["-m", "10", "-l", "2", &start, path_str(&out)]));
    let run = wait_for(child, Duration::from_secs(30));
    let server = back.join().expect("the server comes back");
    let run = run.ok();
    assert_eq!(summary(&run.stderr).read, 3, "{}", run.stderr);
    let files: Vec<String> = list_files(&out);
    assert_eq!(
        files,
        ["player/1.yaml", "player/2.yaml", "player/3.yaml"],
        "{}",
        run.stderr
    );
    drop(server);
}

#[test]
fn a_server_that_goes_away_mid_push_and_comes_back_gets_everything() {
    let latency = Duration::from_millis(40);
    let server = TestServer::start_restartable(ServerConfig {
        latency: Some((latency, latency)),
        ..ServerConfig::default()
    });
    let destination = server.url("/api");
    let data = origin_data(2, 3);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let child = spawn_command(command(&push_args(
        &origin,
        &destination,
        &["-m", "12", "--concurrency", "2"],
    )));
    std::thread::sleep(Duration::from_millis(150));
    let back = server.restart_after(Duration::from_millis(1000));
    let run = wait_for(child, Duration::from_secs(60));
    let server = back.join().expect("the server comes back");
    let run = run.ok();

    assert_stored_exactly(&server, &data);
    let counts = summary(&run.stderr);
    assert_eq!((counts.failed, counts.skipped), (0, 0), "{}", run.stderr);
    // The log spans the outage: some requests before it, the rest after.
    // The log is in completion order; arrival times need sorting before taking gaps.
    let mut arrivals: Vec<u128> = server.requests().iter().map(|r| r.at_millis).collect();
    arrivals.sort_unstable();
    let longest_gap = arrivals.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    assert!(
        longest_gap >= 800,
        "no outage seen in the log (arrivals {arrivals:?})"
    );
}

#[test]
fn too_few_attempts_fail_each_broken_resource_skip_its_dependents_and_write_the_rest() {
    let server = TestServer::start(ServerConfig::default());
    server.fail_path("/api/player/1", 503);
    server.inject_path("/api/player/3", 1000, Fault::CloseMidBody);
    let data = origin_data(2, 2);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let run = push(&origin, &server, &["-m", "2"]).expect_code(1);

    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.created, counts.failed, counts.skipped),
        (6, 2, 2),
        "{}",
        run.stderr
    );
    assert_eq!(
        statuses(&requests_to(&server, "PUT", "/api/player/1")),
        [503, 503]
    );
    assert_eq!(
        statuses(&requests_to(&server, "PUT", "/api/player/3")),
        [0, 0]
    );
    for skipped in ["/api/stat/1", "/api/stat/3"] {
        assert!(
            requests_to(&server, "PUT", skipped).is_empty(),
            "{skipped} was sent although its parent failed"
        );
        assert!(
            run.stderr.contains(skipped),
            "{skipped} not reported: {}",
            run.stderr
        );
    }
    let mut stored: Vec<String> = server.resources().into_keys().collect();
    stored.sort();
    assert_eq!(
        stored,
        [
            "/api/player/2",
            "/api/player/4",
            "/api/stat/2",
            "/api/stat/4",
            "/api/team/1",
            "/api/team/2"
        ]
    );
    let failures = failure_lines(&run.stderr);
    assert_eq!(
        failures.len(),
        2,
        "one line per failed resource: {}",
        run.stderr
    );
    let line_for = |path: &str| {
        failures
            .iter()
            .find(|line| line.contains(path))
            .unwrap_or_else(|| panic!("no failure line names {path}: {}", run.stderr))
            .to_string()
    };
    let player_1 = line_for("/api/player/1");
    assert!(player_1.contains("503"), "{player_1}");
    assert!(player_1.contains("2 attempt"), "{player_1}");
    let player_3 = line_for("/api/player/3");
    assert!(player_3.contains("2 attempt"), "{player_3}");
}

#[test]
fn statuses_that_are_not_transient_are_sent_exactly_once() {
    let server = TestServer::start(ServerConfig::default());
    server.fail_path("/api/player/1", 400);
    server.fail_path("/api/player/2", 409);
    server.fail_path("/api/player/3", 500);
    server.fail_path("/api/player/4", 404);
    let data = origin_data(2, 2);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let run = push(&origin, &server, &["-m", "5"]).expect_code(1);
    for (path, status) in [
        ("/api/player/1", 400),
        ("/api/player/2", 409),
        ("/api/player/3", 500),
        ("/api/player/4", 404),
    ] {
        assert_eq!(
            statuses(&requests_to(&server, "PUT", path)),
            [status],
            "{path} answered {status} must not be retried"
        );
        let line = failure_lines(&run.stderr)
            .into_iter()
            .find(|line| line.contains(path))
            .unwrap_or_else(|| panic!("no failure line for {path}: {}", run.stderr));
        assert!(line.contains(&status.to_string()), "{line}");
        assert!(line.contains("1 attempt"), "{line}");
    }
    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.created, counts.failed, counts.skipped),
        (2, 4, 4),
        "{}",
        run.stderr
    );
}

#[test]
fn a_start_url_answering_400_is_read_once() {
    let server = seeded_server(ServerConfig::default(), 1, 2);
    server.fail_path("/api/player", 400);
    let dir = temp_dir();
    let out = dir.path().join("out");
    let start = server.url("/api/player");
    let run = run(&["-m", "5", &start, path_str(&out)]).expect_code(1);
    assert_eq!(server.count("GET"), 1);
    assert!(run.stderr.contains(&start), "{}", run.stderr);
    assert!(run.stderr.contains("400"), "{}", run.stderr);
    assert_nothing_written(&out);
}

#[test]
fn transient_failures_on_a_start_url_with_too_few_attempts_write_nothing() {
    let server = seeded_server(ServerConfig::default(), 1, 2);
    server.fail_path("/api/player", 503);
    let dir = temp_dir();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    write_file(&out.join("player/1.yaml"), "old\n");
    let before = file_snapshot(&out);
    let start = server.url("/api/player");
    let run = run(&["-m", "2", &start, path_str(&out)]).expect_code(1);
    assert_eq!(
        statuses(&requests_to(&server, "GET", "/api/player")),
        [503, 503]
    );
    assert!(run.stderr.contains(&start), "{}", run.stderr);
    assert!(run.stderr.contains("503"), "{}", run.stderr);
    assert_eq!(file_snapshot(&out), before, "the destination was touched");
}

#[test]
fn fail_fast_stops_at_the_first_failure() {
    let server = TestServer::start(ServerConfig::default());
    server.fail_path("/api/player/1", 500);
    let data = origin_data(2, 2);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let run = push(&origin, &server, &["--fail-fast", "--concurrency", "1"]).expect_code(1);

    let puts: Vec<RequestRecord> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    let failed_at = puts
        .iter()
        .position(|r| r.path_and_query == "/api/player/1")
        .expect("the failing resource was tried");
    assert_eq!(
        failed_at + 1,
        puts.len(),
        "requests were sent after the failure: {puts:#?}"
    );
    let counts = summary(&run.stderr);
    assert_eq!(counts.failed, 1, "{}", run.stderr);
    assert_eq!(
        counts.created + counts.failed + counts.skipped,
        data.len(),
        "every resource is accounted for: {}",
        run.stderr
    );
    assert_eq!(counts.created, failed_at, "{}", run.stderr);

    // Without --fail-fast the independent resources are still written.
    let server = TestServer::start(ServerConfig::default());
    server.fail_path("/api/player/1", 500);
    let run = push(&origin, &server, &["--concurrency", "1"]).expect_code(1);
    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.created, counts.failed, counts.skipped),
        (8, 1, 1),
        "{}",
        run.stderr
    );
}

/// Ctrl-C during a slow pull into a directory holding older versions of the files.
#[test]
fn interrupt_leaves_every_file_old_or_new_and_a_rerun_completes() {
    let latency = Duration::from_millis(60);
    let server = seeded_server(
        ServerConfig {
            latency: Some((latency, latency)),
            ..ServerConfig::default()
        },
        1,
        12,
    );
    let dir = temp_dir();
    let out = dir.path().join("out");
    let start = server.url("/api");
    run(&["-c", "-l", "50", &start, path_str(&out)]).ok();
    let old = file_contents(&out);
    for (_, mut body) in server.resources() {
        body["name"] = Value::from(format!("{} v2", body["name"].as_str().unwrap_or("")));
        server.insert(body);
    }

    let child = spawn_command(command(&["-c", "-l", "1", &start, path_str(&out)]));
    let pid = child.id().to_string();
    std::thread::sleep(Duration::from_millis(300));
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -INT {pid} failed");
    let interrupted = wait_for(child, Duration::from_secs(20));
    let is_staging = |name: &str| name.starts_with(".resource-sync-staging-");
    let leftovers: Vec<String> = std::fs::read_dir(&out)
        .expect("readable")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| is_staging(name))
        .collect();
    let mut during = file_contents(&out);
    during.retain(|file, _| !is_staging(file));

    let rerun = run(&["-c", "-l", "50", &start, path_str(&out)]).ok();
    assert_eq!(summary(&rerun.stderr).read, 25, "{}", rerun.stderr);
    assert_directory_holds(&out, &server);
    let new = file_contents(&out);

    for (file, bytes) in &during {
        assert!(
            old.get(file) == Some(bytes) || new.get(file) == Some(bytes),
            "{file} is neither its old nor its new content after the interrupt:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
    for file in old.keys() {
        assert!(
            during.contains_key(file),
            "{file} was lost by the interrupt"
        );
    }
    assert_eq!(
        leftovers,
        Vec::<String>::new(),
        "staging left behind after the interrupt"
    );
    assert_eq!(
        interrupted.code, 130,
        "exit code after SIGINT\nstderr:\n{}",
        interrupted.stderr
    );
}

/// A followed page that keeps failing must not pass for the end of the data: with `--rm`
/// that would delete every file the missing page holds.
#[test]
fn a_page_that_keeps_failing_fails_the_pull_and_rm_deletes_nothing() {
    let server = seeded_server(ServerConfig::default(), 1, 6);
    let dir = temp_dir();
    let out = dir.path().join("out");
    let start = server.url("/api/player");
    run(&["-l", "2", &start, path_str(&out)]).ok();
    let before = file_snapshot(&out);
    assert_eq!(before.len(), 6);

    // The first page answers (a zero delay is served normally); every later GET of the
    // collection, i.e. the pages after it, answers 503.
    server.inject_path("/api/player", 1, Fault::Delay(Duration::ZERO));
    server.fail_path("/api/player", 503);
    let run = run(&["-m", "2", "-l", "2", "--rm", &start, path_str(&out)]);
    assert_eq!(file_snapshot(&out), before, "files were changed or deleted");
    assert_eq!(
        run.code, 1,
        "a pull missing a page must fail\nstderr:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("/api/player?offset=2"),
        "{}",
        run.stderr
    );
}

/// Sends SIGINT to a spawned run once it has had time to start reading.
fn interrupt_soon(child: &std::process::Child) {
    std::thread::sleep(Duration::from_millis(400));
    let pid = child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -INT {pid} failed");
}

/// Ctrl-C while the read waits on stdin (a pipe that never ends) ends the run at once.
#[test]
fn ctrl_c_ends_a_read_waiting_on_stdin() {
    let dir = temp_dir();
    let out = dir.path().join("out");
    let mut child = command(&["-", path_str(&out)])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdin = child.stdin.take().expect("a stdin pipe");
    let first = yaml_documents(&[hal_resource("http://h", "team", 1, json!({}), &[])]);
    std::io::Write::write_all(&mut stdin, first.as_bytes()).expect("stdin takes a document");
    interrupt_soon(&child);
    let run = wait_for(child, Duration::from_secs(20));
    drop(stdin);
    assert_eq!(run.code, 130, "exit code after SIGINT\n{}", run.stderr);
    assert!(!out.exists(), "nothing is written before the read ends");
}
