//! Writing to HTTP destinations (SPEC sections 4 and 5): rebased PUTs in parent order at any
//! concurrency, created/updated counts, failures and skips, batches, retries and `--rm`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::server::{sample_dataset, RequestRecord, ServerConfig, TestServer};
use crate::util::*;

/// Where the origin data claims to live: another host and port than the destination,
/// on loopback with a closed port, so a PUT that is not rebased fails instead of leaving the machine.
const ORIGIN_BASE: &str = "http://localhost:1";

/// The sample dataset as origin resources, by their path (`/api/team/1`).
fn origin_data(teams: usize, players: usize) -> BTreeMap<String, Value> {
    sample_dataset(ORIGIN_BASE, teams, players)
        .into_iter()
        .map(|resource| (path_of(&resource), resource))
        .collect()
}

fn path_of(resource: &Value) -> String {
    let href = resource["_links"]["self"]["href"]
        .as_str()
        .expect("sample resources have a self link");
    href.strip_prefix(ORIGIN_BASE).unwrap_or(href).to_string()
}

/// Parent paths of a sample resource.
fn parents_of(resource: &Value) -> Vec<String> {
    let links = resource["_links"]
        .as_object()
        .expect("sample resources have links");
    links
        .iter()
        .filter(|(rel, _)| rel.starts_with("parent:"))
        .map(|(_, link)| {
            let href = link["href"].as_str().expect("links have an href");
            href.strip_prefix(ORIGIN_BASE).unwrap_or(href).to_string()
        })
        .collect()
}

/// The resources as one YAML file, in reverse order so the input order is no help.
fn yaml_origin(dir: &Path, data: &BTreeMap<String, Value>) -> PathBuf {
    let path = dir.join("origin.yaml");
    let resources: Vec<Value> = data.values().rev().cloned().collect();
    write_file(&path, &yaml_documents(&resources));
    path
}

/// The resources as a directory tree `<type>/<id>.yaml`.
fn directory_origin(dir: &Path, data: &BTreeMap<String, Value>) -> PathBuf {
    let root = dir.join("origin");
    for (path, resource) in data {
        let file = root.join(format!("{}.yaml", path.trim_start_matches("/api/")));
        write_file(&file, &yaml_documents(std::slice::from_ref(resource)));
    }
    root
}

/// The paths of the requests with this method, in arrival order.
fn paths_with(server: &TestServer, method: &str) -> Vec<String> {
    requests_with(server, method)
        .into_iter()
        .map(|r| r.path_and_query)
        .collect()
}

fn requests_with(server: &TestServer, method: &str) -> Vec<RequestRecord> {
    server
        .requests()
        .into_iter()
        .filter(|request| request.method == method)
        .collect()
}

/// The server holds exactly `data`, body for body.
fn assert_stored_exactly(server: &TestServer, data: &BTreeMap<String, Value>) {
    let stored = server.resources();
    let stored_paths: Vec<&String> = stored.keys().collect();
    let expected_paths: Vec<&String> = data.keys().collect();
    assert_eq!(stored_paths, expected_paths);
    for (path, resource) in data {
        assert_eq!(&stored[path], resource, "body stored at {path}");
    }
}

/// Every successful PUT of a child comes after the successful PUT of each of its parents.
fn assert_parents_first(server: &TestServer, data: &BTreeMap<String, Value>) {
    let log = server.requests();
    let done_at = |path: &str| {
        log.iter()
            .position(|r| r.method == "PUT" && r.path_and_query == path && r.status / 100 == 2)
            .unwrap_or_else(|| panic!("no successful PUT of {path}"))
    };
    for (path, resource) in data {
        for parent in parents_of(resource) {
            assert!(
                done_at(&parent) < done_at(path),
                "{path} was written before its parent {parent}"
            );
        }
    }
    assert!(
        log.iter().all(|r| r.status != 409),
        "a write was refused: {log:#?}"
    );
}

fn push(origin: &Path, server: &TestServer, extra: &[&str]) -> Run {
    let mut args: Vec<&str> = extra.to_vec();
    let destination = server.url("/api");
    args.extend([path_str(origin), destination.as_str()]);
    run(&args)
}

#[test]
fn push_yaml_file_stores_every_resource_exactly_at_rebased_paths() {
    let server = TestServer::start(ServerConfig::default());
    let data = origin_data(2, 3);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let run = push(&origin, &server, &[]).ok();

    assert_stored_exactly(&server, &data);
    let mut put_paths: Vec<String> = paths_with(&server, "PUT");
    put_paths.sort();
    let expected: Vec<String> = data.keys().cloned().collect();
    assert_eq!(
        put_paths, expected,
        "one PUT per resource, at its own path on the destination"
    );
    let authority = server.base_url().trim_start_matches("http://").to_string();
    for put in requests_with(&server, "PUT") {
        assert_eq!(
            put.header("host"),
            Some(authority.as_str()),
            "PUT {}",
            put.path_and_query
        );
    }
    let summary = summary(&run.stderr);
    assert_eq!(
        (summary.read, summary.created, summary.failed),
        (data.len(), data.len(), 0),
        "{}",
        run.stderr
    );
}

#[test]
fn push_directory_stores_every_resource_exactly() {
    let server = TestServer::start(ServerConfig::default());
    let data = origin_data(2, 2);
    let dir = temp_dir();
    let origin = directory_origin(dir.path(), &data);
    push(&origin, &server, &[]).ok();
    assert_stored_exactly(&server, &data);
    assert_parents_first(&server, &data);
}

fn parents_first_at(concurrency: &str) {
    let server = TestServer::start(ServerConfig {
        latency: Some((Duration::from_millis(0), Duration::from_millis(8))),
        ..ServerConfig::default()
    });
    let data = origin_data(3, 4);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    push(&origin, &server, &["--concurrency", concurrency]).ok();
    assert_stored_exactly(&server, &data);
    assert_parents_first(&server, &data);
}

#[test]
fn parents_are_stored_before_children_at_concurrency_1() {
    parents_first_at("1");
}

#[test]
fn parents_are_stored_before_children_at_concurrency_16() {
    parents_first_at("16");
}

#[test]
fn created_and_updated_are_counted_from_201_and_200() {
    let server = TestServer::start(ServerConfig::default());
    let data = origin_data(1, 2);
    // Already there: the team and the first player (answered 200 on PUT).
    for path in ["/api/team/1", "/api/player/1"] {
        let mut existing = data[path].clone();
        existing["name"] = Value::from("old name");
        existing["_links"]["self"]["href"] = Value::from(server.url(path));
        server.insert(existing);
    }
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let run = push(&origin, &server, &[]).ok();
    let summary = summary(&run.stderr);
    assert_eq!(
        summary,
        Summary {
            read: 5,
            created: 3,
            updated: 2,
            ..Summary::default()
        },
        "{}",
        run.stderr
    );
    assert_stored_exactly(&server, &data);
}

#[test]
fn a_failed_resource_skips_its_descendants_and_spares_the_rest() {
    let server = TestServer::start(ServerConfig::default());
    server.fail_path("/api/player/1", 500);
    let data = origin_data(1, 2);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let run = push(&origin, &server, &[]).expect_code(1);

    let puts: Vec<String> = paths_with(&server, "PUT");
    assert_eq!(
        puts.iter().filter(|p| *p == "/api/player/1").count(),
        1,
        "a 500 is not retried: {puts:?}"
    );
    assert!(
        !puts.iter().any(|p| p == "/api/stat/1"),
        "the child of a failed resource was sent: {puts:?}"
    );
    let stored: Vec<String> = server.resources().into_keys().collect();
    assert_eq!(stored, ["/api/player/2", "/api/stat/2", "/api/team/1"]);
    let summary = summary(&run.stderr);
    assert_eq!(
        (summary.created, summary.failed, summary.skipped),
        (3, 1, 1),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("/api/player/1"), "{}", run.stderr);
    assert!(run.stderr.contains("500"), "{}", run.stderr);
    assert!(
        run.stderr.contains("injected failure"),
        "server message missing: {}",
        run.stderr
    );
}

#[test]
fn batches_are_patched_per_collection_when_the_server_allows_it() {
    let server = TestServer::start(ServerConfig {
        allow_batch: true,
        ..ServerConfig::default()
    });
    let data = origin_data(1, 4);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    push(&origin, &server, &["--batch-size", "3"]).ok();
    assert_stored_exactly(&server, &data);

    let mut options: Vec<String> = paths_with(&server, "OPTIONS");
    options.sort();
    assert_all_distinct(&options, "OPTIONS asked of one collection");
    for collection in ["/api/player", "/api/stat"] {
        assert!(
            options.iter().any(|p| p == collection),
            "OPTIONS {collection} not asked: {options:?}"
        );
    }

    let patches = requests_with(&server, "PATCH");
    // 4 players and 4 stats: at least one full batch of each type (a lone rest may be PUT).
    assert!(patches.len() >= 2, "{patches:#?}");
    let mut written: Vec<String> = Vec::new();
    for patch in &patches {
        let items = patch
            .body
            .as_ref()
            .and_then(|b| b["items"].as_array())
            .expect("PATCH body {\"items\": [...]}");
        assert!(
            !items.is_empty() && items.len() <= 3,
            "batch of {}",
            items.len()
        );
        for item in items {
            let path = path_of(item);
            assert_eq!(
                path.rsplit_once('/').map(|(collection, _)| collection),
                Some(patch.path_and_query.as_str()),
                "item {path} sent to another collection's PATCH"
            );
            written.push(path);
        }
    }
    written.extend(
        requests_with(&server, "PUT")
            .into_iter()
            .map(|r| r.path_and_query),
    );
    written.sort();
    let expected: Vec<String> = data.keys().cloned().collect();
    assert_eq!(written, expected, "each resource written exactly once");
}

#[test]
fn batch_size_without_server_support_puts_one_by_one() {
    let server = TestServer::start(ServerConfig::default());
    let data = origin_data(1, 4);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    push(&origin, &server, &["--batch-size", "3"]).ok();
    assert_stored_exactly(&server, &data);
    assert_eq!(server.count("PATCH"), 0);
    assert_eq!(server.count("PUT"), data.len());
}

#[test]
fn transient_503_during_a_push_is_retried() {
    let server = TestServer::start(ServerConfig::default());
    server.fail_next(2, 503);
    let data = origin_data(1, 2);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let run = push(&origin, &server, &["--concurrency", "1"]).ok();
    assert_stored_exactly(&server, &data);
    assert_eq!(
        server.requests().iter().filter(|r| r.status == 503).count(),
        2
    );
    assert_eq!(summary(&run.stderr).failed, 0);
}

/// A sample-shaped resource stored at `path` on `server`, with optional parent.
fn hal(server: &TestServer, path: &str, parent: Option<&str>) -> Value {
    let id: u64 = path
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("numeric id");
    let mut links = serde_json::json!({ "self": { "href": server.url(path) } });
    if let Some(parent) = parent {
        let kind = parent.split('/').nth(2).expect("/api/<type>/<id>");
        links[format!("parent:{kind}")] = serde_json::json!({ "href": server.url(parent) });
    }
    serde_json::json!({ "id": id, "name": format!("at {path}"), "_links": links })
}

#[test]
fn rm_deletes_stale_resources_of_written_types_children_first() {
    let server = TestServer::start(ServerConfig::default());
    let kept_team = hal(&server, "/api/team/1", None);
    let kept_player = hal(&server, "/api/player/1", Some("/api/team/1"));
    let kept_stat = hal(&server, "/api/stat/1", Some("/api/player/1"));
    for resource in [
        kept_team.clone(),
        kept_player.clone(),
        kept_stat.clone(),
        hal(&server, "/api/player/2", Some("/api/team/1")),
        hal(&server, "/api/stat/2", Some("/api/player/2")),
        // A stale subtree three generations deep: stat, then player, then team.
        hal(&server, "/api/team/2", None),
        hal(&server, "/api/player/3", Some("/api/team/2")),
        hal(&server, "/api/stat/3", Some("/api/player/3")),
        hal(&server, "/api/venue/1", None),
    ] {
        server.insert(resource);
    }
    let dir = temp_dir();
    let origin = dir.path().join("origin.yaml");
    write_file(
        &origin,
        &yaml_documents(&[kept_stat, kept_player, kept_team]),
    );

    let run = push(&origin, &server, &["--rm", "-c"]).ok();
    let stored: Vec<String> = server.resources().into_keys().collect();
    assert_eq!(
        stored,
        [
            "/api/player/1",
            "/api/stat/1",
            "/api/team/1",
            "/api/venue/1"
        ],
        "{}",
        run.stderr
    );
    let deletes: Vec<RequestRecord> = requests_with(&server, "DELETE");
    assert!(
        deletes.iter().all(|r| r.status / 100 == 2),
        "a delete was refused (parent before child?): {deletes:#?}"
    );
    let mut deleted: Vec<&str> = deletes.iter().map(|r| r.path_and_query.as_str()).collect();
    deleted.sort();
    assert_eq!(
        deleted,
        [
            "/api/player/2",
            "/api/player/3",
            "/api/stat/2",
            "/api/stat/3",
            "/api/team/2"
        ]
    );
    assert_eq!(summary(&run.stderr).deleted, 5, "{}", run.stderr);
}

#[test]
fn a_failed_parent_skips_its_whole_subtree() {
    let server = TestServer::start(ServerConfig::default());
    server.fail_path("/api/team/1", 500);
    let data = origin_data(2, 2);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let run = push(&origin, &server, &[]).expect_code(1);
    let puts: Vec<String> = paths_with(&server, "PUT");
    for skipped in [
        "/api/player/1",
        "/api/player/2",
        "/api/stat/1",
        "/api/stat/2",
    ] {
        assert!(
            !puts.iter().any(|p| p == skipped),
            "{skipped} was sent: {puts:?}"
        );
        assert!(
            run.stderr.contains(skipped),
            "{skipped} not reported: {}",
            run.stderr
        );
    }
    let stored: Vec<String> = server.resources().into_keys().collect();
    assert_eq!(
        stored,
        [
            "/api/player/3",
            "/api/player/4",
            "/api/stat/3",
            "/api/stat/4",
            "/api/team/2"
        ]
    );
    let summary = summary(&run.stderr);
    assert_eq!(
        (summary.created, summary.failed, summary.skipped),
        (5, 1, 4),
        "{}",
        run.stderr
    );
}

#[test]
fn malformed_input_sends_nothing_to_an_http_destination() {
    let server = TestServer::start(ServerConfig::default());
    let data = origin_data(1, 1);
    let dir = temp_dir();
    let good = yaml_origin(dir.path(), &data);
    let bad = dir.path().join("bad.yaml");
    write_file(&bad, "---\nid: 7\nname: [unclosed\n");
    let destination = server.url("/api");
    let run = run(&[path_str(&good), path_str(&bad), &destination]).expect_code(2);
    assert!(run.stderr.contains("bad.yaml"), "{}", run.stderr);
    let writes: Vec<RequestRecord> = server
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && r.method != "OPTIONS")
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");
    assert!(server.resources().is_empty());
}

#[test]
fn http_destination_gets_json_with_a_json_content_type() {
    let server = TestServer::start(ServerConfig::default());
    let data = origin_data(1, 1);
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    push(&origin, &server, &[]).ok();
    let puts = requests_with(&server, "PUT");
    assert_eq!(puts.len(), 3);
    for put in &puts {
        let content_type = put.header("content-type").unwrap_or("");
        assert_eq!(
            content_type.split(';').next().map(str::trim),
            Some("application/json"),
            "PUT {}",
            put.path_and_query
        );
        assert_eq!(
            put.body.as_ref(),
            Some(&data[&put.path_and_query]),
            "a JSON body, as read"
        );
    }
}

#[test]
fn rm_compares_origin_resources_after_rebasing_onto_the_destination() {
    // The origins were pulled from another server (other host and port); what they hold
    // must still count as held at the destination, or `--rm` would delete it.
    let server = TestServer::start(ServerConfig::default());
    let data = origin_data(1, 2);
    for resource in sample_dataset(&server.base_url(), 1, 2) {
        server.insert(resource);
    }
    server.insert(hal(&server, "/api/player/9", Some("/api/team/1")));
    let dir = temp_dir();
    let origin = yaml_origin(dir.path(), &data);
    let run = push(&origin, &server, &["--rm", "-c"]).ok();
    let held: BTreeMap<String, Value> = sample_dataset(&server.base_url(), 1, 2)
        .into_iter()
        .map(|resource| {
            let path = path_of(&resource).replace(&server.base_url(), "");
            (path, resource)
        })
        .collect();
    assert_stored_exactly(&server, &held);
    assert_eq!(server.count("PUT"), 0, "the held resources are unchanged");
    assert_eq!(summary(&run.stderr).unchanged, data.len(), "{}", run.stderr);
    let deleted: Vec<String> = paths_with(&server, "DELETE");
    assert_eq!(deleted, ["/api/player/9"], "{}", run.stderr);
}

#[test]
fn origin_url_equal_to_destination_is_a_usage_error() {
    let server = TestServer::start(ServerConfig::default());
    let port = server
        .base_url()
        .rsplit(':')
        .next()
        .expect("a port")
        .to_string();
    let origin = format!("http://127.0.0.1:{port}/api/team");
    for destination in [
        format!("http://127.0.0.1:{port}/api/team/"),
        format!("HTTP://127.0.0.1:{port}/api/team"),
    ] {
        let run = run(&[&origin, &destination]);
        assert_eq!(run.code, 2, "{origin} -> {destination}: {}", run.stderr);
    }
    assert_eq!(server.requests().len(), 0, "nothing is read or written");
}
