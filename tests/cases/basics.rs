//! Smoke tests: usage errors and a pull from the test server into a directory.

use crate::server::{sample_dataset, ServerConfig, TestServer};
use crate::util::*;

#[test]
fn zero_batch_size_is_a_usage_error() {
    let run = run(&["--batch-size", "0", "null", "-"]).expect_code(2);
    assert!(run.stderr.contains("positive"), "{}", run.stderr);
}

#[test]
fn pull_all_pages_into_a_directory() {
    let server = TestServer::start(ServerConfig::default());
    for resource in sample_dataset(&server.base_url(), 2, 3) {
        server.insert(resource);
    }
    let dir = temp_dir();
    let dest = dir.path().join("out");
    run(&["-l", "2", &server.url("/api/player"), path_str(&dest)]).ok();
    assert_eq!(
        list_files(&dest),
        [
            "player/1.yaml",
            "player/2.yaml",
            "player/3.yaml",
            "player/4.yaml",
            "player/5.yaml",
            "player/6.yaml"
        ]
    );
    let gets: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    let mut urls: Vec<&str> = gets.iter().map(|r| r.path_and_query.as_str()).collect();
    urls.sort();
    // The `prev` link of page two names `?offset=0`, which is not the bare start URL.
    assert_eq!(
        urls,
        [
            "/api/player",
            "/api/player?offset=0",
            "/api/player?offset=2",
            "/api/player?offset=4"
        ]
    );
    assert!(gets
        .iter()
        .all(|r| r.header("x-request-limit") == Some("2")));
}
