//! Many requests in flight: writes scheduled over the dependency graph keep parents
//! before children at any concurrency, and the configured concurrency is really used.

use std::time::Duration;

use crate::server::{ServerConfig, TestServer};
use crate::util::*;

#[test]
fn thousands_of_resources_at_concurrency_32_never_write_a_child_first() {
    let server = TestServer::start(ServerConfig {
        refuse_orphans: true,
        latency: Some((Duration::ZERO, Duration::from_millis(3))),
        ..ServerConfig::default()
    });
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 50, 40);
    let run = run(&[
        "--concurrency",
        "32",
        path_str(&origin),
        &server.url("/api"),
    ])
    .ok();

    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.read, counts.created, counts.failed),
        (4050, 4050, 0),
        "{}",
        run.stderr
    );
    assert_eq!(server.resources().len(), 4050);
    let refused: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.status == 409)
        .collect();
    assert!(
        refused.is_empty(),
        "a child arrived before its parent: {refused:?}"
    );
    assert_eq!(server.count("PUT"), 4050, "each resource is sent once");
}

#[test]
fn independent_resources_are_sent_concurrently() {
    // 64 teams (no parents) at 100 ms each: with 16 in flight the first 16 arrive together.
    let latency = Duration::from_millis(100);
    let server = TestServer::start(ServerConfig {
        latency: Some((latency, latency)),
        ..ServerConfig::default()
    });
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 64, 0);
    run(&[
        "--concurrency",
        "16",
        path_str(&origin),
        &server.url("/api"),
    ])
    .ok();

    // The destination's inventory is read first; the writes are what is spaced.
    let arrivals = server.arrivals("PUT");
    assert_eq!(arrivals.len(), 64);
    let first = arrivals.iter().min().copied().unwrap_or_default();
    let in_first_window = arrivals.iter().filter(|&&at| at < first + 50).count();
    assert!(
        (8..=16).contains(&in_first_window),
        "{in_first_window} requests arrived within 50 ms of the first (limit 16): {arrivals:?}"
    );
}

#[test]
fn batches_and_concurrency_together_keep_the_order() {
    let server = TestServer::start(ServerConfig {
        refuse_orphans: true,
        allow_batch: true,
        latency: Some((Duration::ZERO, Duration::from_millis(2))),
        ..ServerConfig::default()
    });
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 10, 20);
    let run = run(&[
        "--concurrency",
        "8",
        "--batch-size",
        "25",
        path_str(&origin),
        &server.url("/api"),
    ])
    .ok();

    assert_eq!(summary(&run.stderr).failed, 0, "{}", run.stderr);
    assert_eq!(server.resources().len(), 410);
    let patches: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert!(patches.iter().all(|r| r.status == 200), "{patches:?}");
    let items = |r: &crate::server::RequestRecord| {
        r.body
            .as_ref()
            .and_then(|b| b["items"].as_array().map(Vec::len))
            .unwrap_or(0)
    };
    assert!(patches.iter().all(|r| (1..=25).contains(&items(r))));
    assert_eq!(
        patches.iter().map(items).sum::<usize>() + server.count("PUT"),
        410
    );
}
