//! Reading HTTP origins (SPEC sections 1 and 3): pagination, follow modes, media types,
//! failures and retries, extra headers and credentials, and secrets kept out of the output.

use crate::server::{sample_dataset, RequestRecord, ServerConfig, TestServer};
use crate::util::*;

/// A server holding `teams` teams with `players` players each (and one stat per player).
fn seeded(config: ServerConfig, teams: usize, players: usize) -> TestServer {
    let server = TestServer::start(config);
    for resource in sample_dataset(&server.base_url(), teams, players) {
        server.insert(resource);
    }
    server
}

fn gets(server: &TestServer) -> Vec<RequestRecord> {
    server
        .requests()
        .into_iter()
        .filter(|request| request.method == "GET")
        .collect()
}

/// Paths (with query) of the GETs, sorted.
fn get_paths(server: &TestServer) -> Vec<String> {
    let mut paths: Vec<String> = gets(server)
        .into_iter()
        .map(|request| request.path_and_query)
        .collect();
    paths.sort();
    paths
}

fn files(kind: &str, ids: std::ops::RangeInclusive<usize>) -> Vec<String> {
    ids.map(|id| format!("{kind}/{id}.yaml")).collect()
}

#[test]
fn pull_reads_every_page_once_with_the_limit_header_and_the_query_as_given() {
    let server = seeded(ServerConfig::default(), 1, 7);
    let dir = temp_dir();
    let out = dir.path().join("out");
    let start = server.url("/api/player?zeta=1&alpha=two");
    let run = run(&["-l", "3", &start, path_str(&out)]).ok();

    assert_eq!(list_files(&out), files("player", 1..=7));
    // `?offset=0` repeats the first page: its resources count once.
    assert_eq!(summary(&run.stderr).read, 7, "{}", run.stderr);
    let requests = gets(&server);
    assert_eq!(
        requests[0].path_and_query, "/api/player?zeta=1&alpha=two",
        "the start URL's query is sent exactly as given"
    );
    let paths = get_paths(&server);
    assert_all_distinct(&paths, "a URL fetched");
    for page in ["/api/player?offset=3", "/api/player?offset=6"] {
        assert!(
            paths.iter().any(|path| path == page),
            "page {page} not fetched: {paths:?}"
        );
    }
    for request in &requests {
        assert_eq!(
            request.header("x-request-limit"),
            Some("3"),
            "GET {} without X-Request-Limit: 3",
            request.path_and_query
        );
        assert!(
            !request.path_and_query.contains("limit="),
            "a limit parameter was added to {}",
            request.path_and_query
        );
    }
}

#[test]
fn default_limit_header_is_100() {
    let server = seeded(ServerConfig::default(), 1, 2);
    run(&[&server.url("/api/team"), "null"]).ok();
    let requests = gets(&server);
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.header("x-request-limit") == Some("100")),
        "{requests:#?}"
    );
}

#[test]
fn follow_none_reads_only_the_start_url() {
    let server = seeded(ServerConfig::default(), 1, 5);
    let dir = temp_dir();
    let out = dir.path().join("out");
    run(&["-n", "-l", "2", &server.url("/api/player"), path_str(&out)]).ok();
    assert_eq!(get_paths(&server), ["/api/player"]);
    assert_eq!(list_files(&out), files("player", 1..=2));
}

#[test]
fn follow_page_is_the_default_and_ignores_parent_and_child_links() {
    let server = seeded(ServerConfig::default(), 2, 2);
    for flags in [&[][..], &["-p"][..]] {
        server.clear_log();
        let dir = temp_dir();
        let out = dir.path().join("out");
        let mut args = flags.to_vec();
        let start = server.url("/api/stat");
        args.extend(["-l", "3", &start, path_str(&out)]);
        run(&args).ok();
        assert_eq!(list_files(&out), files("stat", 1..=4), "flags {flags:?}");
        let paths = get_paths(&server);
        assert!(
            paths.iter().all(|path| path.starts_with("/api/stat")),
            "flags {flags:?}: followed a non-page link: {paths:?}"
        );
    }
}

#[test]
fn follow_child_walks_from_a_container_into_its_collections() {
    let server = seeded(ServerConfig::default(), 2, 2);
    let dir = temp_dir();
    let out = dir.path().join("out");
    run(&["-c", "-l", "3", &server.url("/api"), path_str(&out)]).ok();
    let mut expected = files("player", 1..=4);
    expected.extend(files("stat", 1..=4));
    expected.extend(files("team", 1..=2));
    assert_eq!(
        list_files(&out),
        expected,
        "the container itself is not a resource"
    );
    let paths = get_paths(&server);
    for collection in ["/api", "/api/team", "/api/player", "/api/stat"] {
        assert!(
            paths.iter().any(|p| p == collection),
            "{collection} not fetched: {paths:?}"
        );
    }

    // The contrast: the default follow mode does not leave the container.
    server.clear_log();
    let plain = dir.path().join("plain");
    run(&[&server.url("/api"), path_str(&plain)]).ok();
    assert_eq!(get_paths(&server), ["/api"]);
    assert_nothing_written(&plain);
}

#[test]
fn follow_all_also_follows_parent_links() {
    let server = seeded(ServerConfig::default(), 2, 2);
    let dir = temp_dir();
    let out = dir.path().join("out");
    run(&["-a", &server.url("/api/stat"), path_str(&out)]).ok();
    let mut expected = files("player", 1..=4);
    expected.extend(files("stat", 1..=4));
    expected.extend(files("team", 1..=2));
    assert_eq!(list_files(&out), expected);
    let paths = get_paths(&server);
    for parent in [
        "/api/player/1",
        "/api/player/4",
        "/api/team/1",
        "/api/team/2",
    ] {
        assert!(
            paths.iter().any(|p| p == parent),
            "{parent} not fetched: {paths:?}"
        );
    }
    assert_all_distinct(&paths, "a URL fetched");

    // `-c` from the same start follows no parent link.
    server.clear_log();
    let child = dir.path().join("child");
    run(&["-c", &server.url("/api/stat"), path_str(&child)]).ok();
    assert_eq!(list_files(&child), files("stat", 1..=4));
}

#[test]
fn link_header_pagination_is_followed() {
    let config = ServerConfig {
        link_header_pages: true,
        ..ServerConfig::default()
    };
    let server = seeded(config, 1, 5);
    let dir = temp_dir();
    let out = dir.path().join("out");
    run(&["-l", "2", &server.url("/api/player"), path_str(&out)]).ok();
    assert_eq!(list_files(&out), files("player", 1..=5));
    let paths = get_paths(&server);
    for page in ["/api/player?offset=2", "/api/player?offset=4"] {
        assert!(
            paths.iter().any(|p| p == page),
            "{page} not fetched: {paths:?}"
        );
    }
}

#[test]
fn media_types_with_parameters_and_plain_json_are_read() {
    for media_type in [
        "application/hal+json; charset=utf-8",
        "application/hal+json",
        "application/json",
        "application/json;charset=UTF-8",
        "application/yaml",
    ] {
        let config = ServerConfig {
            media_type: media_type.to_string(),
            ..ServerConfig::default()
        };
        let server = seeded(config, 1, 3);
        let dir = temp_dir();
        let out = dir.path().join("out");
        let run = run(&["-l", "2", &server.url("/api/player"), path_str(&out)]);
        assert_eq!(run.code, 0, "{media_type}: {}", run.stderr);
        assert_eq!(list_files(&out), files("player", 1..=3), "{media_type}");
    }
}

#[test]
fn not_found_start_url_fails_before_anything_is_written() {
    let server = seeded(ServerConfig::default(), 1, 2);
    let dir = temp_dir();
    let out = dir.path().join("out");
    let good = server.url("/api/team");
    let missing = server.url("/api/nothing/1");
    let run = run(&[&good, &missing, path_str(&out)]).expect_code(1);
    assert!(
        run.stderr.contains(&missing),
        "URL not named: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("404"),
        "status not named: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("not found: /api/nothing/1"),
        "server message not shown: {}",
        run.stderr
    );
    assert_nothing_written(&out);
}

#[test]
fn transient_503_is_retried_with_the_default_attempts() {
    let server = seeded(ServerConfig::default(), 1, 3);
    server.fail_next(2, 503);
    let dir = temp_dir();
    let out = dir.path().join("out");
    run(&["-l", "2", &server.url("/api/player"), path_str(&out)]).ok();
    assert_eq!(list_files(&out), files("player", 1..=3));
    let statuses: Vec<u16> = gets(&server).iter().map(|r| r.status).collect();
    assert_eq!(&statuses[..3], [503, 503, 200], "{statuses:?}");
}

#[test]
fn one_attempt_means_no_retry() {
    let server = seeded(ServerConfig::default(), 1, 3);
    server.fail_next(1, 503);
    let dir = temp_dir();
    let out = dir.path().join("out");
    let start = server.url("/api/player");
    let run = run(&["-m", "1", &start, path_str(&out)]).expect_code(1);
    assert!(run.stderr.contains("503"), "{}", run.stderr);
    assert!(run.stderr.contains(&start), "{}", run.stderr);
    assert_eq!(server.count("GET"), 1);
    assert_nothing_written(&out);
}

#[test]
fn extra_header_is_sent_on_every_request() {
    let server = seeded(ServerConfig::default(), 2, 2);
    run(&[
        "-c",
        "-l",
        "2",
        "-H",
        "X-Trace: abc",
        "-H",
        "X-Other: 1",
        &server.url("/api"),
        "null",
    ])
    .ok();
    let requests = server.requests();
    assert!(requests.len() > 4, "{requests:#?}");
    for request in &requests {
        assert_eq!(
            request.header("x-trace"),
            Some("abc"),
            "{}",
            request.path_and_query
        );
        assert_eq!(
            request.header("x-other"),
            Some("1"),
            "{}",
            request.path_and_query
        );
    }
}

#[test]
fn token_is_sent_as_bearer_authorization() {
    let server = seeded(ServerConfig::default(), 1, 3);
    let mut command = command(&["-l", "2", &server.url("/api/player"), "null"]);
    command.env("RESOURCE_SYNC_TOKEN", "t0k3n");
    run_command(command).ok();
    let requests = server.requests();
    assert!(requests.len() >= 2);
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some("Bearer t0k3n"),
            "{}",
            request.path_and_query
        );
    }
}

#[test]
fn username_and_password_are_sent_as_basic_authorization() {
    let server = seeded(ServerConfig::default(), 1, 3);
    let mut command = command(&[
        "--username",
        "ana",
        "-l",
        "2",
        &server.url("/api/player"),
        "null",
    ]);
    command.env("RESOURCE_SYNC_PASSWORD", "s3cr3t-pw");
    run_command(command).ok();
    let requests = server.requests();
    assert!(requests.len() >= 2);
    // base64("ana:s3cr3t-pw")
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some("Basic YW5hOnMzY3IzdC1wdw=="),
            "{}",
            request.path_and_query
        );
    }
}

/// Lines of stderr that name this server, other than the tool's own warnings and errors
/// (which start `resource-sync:`): the per-request lines of `-v`.
fn request_lines<'a>(stderr: &'a str, server: &TestServer) -> Vec<&'a str> {
    let base = server.base_url();
    stderr
        .lines()
        .filter(|line| line.contains(&base) && !line.starts_with("resource-sync:"))
        .collect()
}

#[test]
fn verbose_prints_one_line_per_request_and_never_the_token() {
    let server = seeded(ServerConfig::default(), 1, 5);
    server.fail_next(1, 503);
    let dir = temp_dir();
    let out = dir.path().join("out");
    let mut command = command(&["-v", "-l", "2", &server.url("/api/player"), path_str(&out)]);
    command.env("RESOURCE_SYNC_TOKEN", "t0k3n-SECRET-42");
    let run = run_command(command).ok();
    assert_never_printed(&run, "t0k3n-SECRET-42");
    assert_eq!(
        request_lines(&run.stderr, &server).len(),
        server.requests().len(),
        "one stderr line per request (retries included):\n{}",
        run.stderr
    );
}

#[test]
fn verbose_never_prints_the_password_even_on_failure() {
    let server = seeded(ServerConfig::default(), 1, 2);
    let secret = "pa55-SECRET-77";
    let mut command = command(&[
        "-v",
        "--username",
        "ana",
        &server.url("/api/nothing/9"),
        "null",
    ]);
    command.env("RESOURCE_SYNC_PASSWORD", secret);
    let run = run_command(command).expect_code(1);
    assert_never_printed(&run, secret);
    // Nor its base64 form inside a header dump.
    assert_never_printed(&run, "YW5hOnBhNTUtU0VDUkVULTc3");
    assert_eq!(
        request_lines(&run.stderr, &server).len(),
        server.requests().len(),
        "{}",
        run.stderr
    );
}

#[test]
fn password_in_the_url_is_never_printed() {
    let server = seeded(ServerConfig::default(), 1, 2);
    let port = server
        .base_url()
        .rsplit(':')
        .next()
        .expect("a port")
        .to_string();
    let secret = "urlPASS-SECRET-5";
    let start = format!("http://ana:{secret}@127.0.0.1:{port}/api/missing/1");
    let run = run(&["-v", &start, "null"]).expect_code(1);
    assert_never_printed(&run, secret);
    assert!(
        run.stderr.contains("/api/missing/1"),
        "the URL is still named: {}",
        run.stderr
    );
}

#[test]
fn not_found_on_a_followed_link_is_only_a_warning() {
    let server = seeded(ServerConfig::default(), 1, 2);
    server.insert(serde_json::json!({
        "id": 3,
        "name": "Orphan",
        "_links": {
            "self": { "href": server.url("/api/player/3") },
            "parent:team": { "href": server.url("/api/team/9") },
        },
    }));
    let dir = temp_dir();
    let out = dir.path().join("out");
    let run = run(&["-a", &server.url("/api/player"), path_str(&out)]).ok();
    assert!(
        run.stderr.contains("/api/team/9"),
        "no warning: {}",
        run.stderr
    );
    let mut expected = files("player", 1..=3);
    expected.push("team/1.yaml".to_string());
    assert_eq!(list_files(&out), expected);
}
