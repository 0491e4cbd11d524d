//! One comparison (SPEC section 5): `--no-compare` writes everything without reading the
//! destination, `--verify` reads it back and names what a server changed.

use serde_json::json;

use crate::server::{seeded_server, ServerConfig, TestServer};
use crate::util::*;

/// A server that stores every PUT with `name` set to "Altered" but answers as if stored as sent.
fn altering_server() -> TestServer {
    TestServer::start(ServerConfig {
        alter_on_put: Some(("name".to_string(), json!("Altered"))),
        ..ServerConfig::default()
    })
}

#[test]
fn verify_names_the_field_a_server_changed_and_exits_1() {
    let server = altering_server();
    let dir = temp_dir();
    // Team 1, players 1 and 2, stats 1 and 2: teams and players have a name, stats do not.
    let origin = sample_jsonl_origin(dir.path(), 1, 2);
    let run = run(&["--verify", path_str(&origin), &server.url("/api")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(server.count("PUT"), 5, "every resource is written first");
    assert!(run.stderr.contains("verified 2 of 5"), "{}", run.stderr);
    let mut mismatches: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("mismatch "))
        .collect();
    mismatches.sort_unstable();
    let expected: Vec<String> = ["/api/player/1", "/api/player/2", "/api/team/1"]
        .iter()
        .map(|path| format!("mismatch {}: name", server.url(path)))
        .collect();
    assert_eq!(mismatches, expected, "{}", run.stderr);
    // The stats gained a `name` the origin lacks: a server may add fields.
    assert_eq!(
        server.get("/api/stat/1").expect("stat 1 stored")["name"],
        "Altered"
    );
}

#[test]
fn verify_passes_when_the_server_keeps_what_it_was_sent() {
    let server = TestServer::start(ServerConfig::default());
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 1, 2);
    let run = run(&["--verify", path_str(&origin), &server.url("/api")]).ok();
    assert!(run.stderr.contains("verified 5 of 5"), "{}", run.stderr);
    assert!(!run.stderr.contains("mismatch"), "{}", run.stderr);
}

#[test]
fn an_unchanged_destination_gets_no_write_and_no_compare_writes_everything() {
    let server = seeded_server(ServerConfig::default(), 2, 2);
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 2, 2);
    let destination = server.url("/api");

    let compared = run(&["--exit-code", path_str(&origin), &destination]);
    assert_eq!(compared.code, 0, "nothing changed: {}", compared.stderr);
    let counts = summary(&compared.stderr);
    assert_eq!((counts.unchanged, counts.updated), (10, 0));
    assert_eq!(server.count("PUT"), 0);
    assert!(
        server.count("GET") > 0,
        "the destination is read to compare"
    );

    server.clear_log();
    let blind = run(&[
        "--no-compare",
        "--exit-code",
        path_str(&origin),
        &destination,
    ]);
    assert_eq!(
        blind.code, 3,
        "every resource was written: {}",
        blind.stderr
    );
    let counts = summary(&blind.stderr);
    assert_eq!((counts.unchanged, counts.updated), (0, 10));
    assert_eq!(server.count("PUT"), 10);
    assert_eq!(server.count("GET"), 0, "--no-compare reads nothing");
}

#[test]
fn no_compare_with_rm_still_lists_the_destination_to_delete() {
    let server = seeded_server(ServerConfig::default(), 2, 1);
    let dir = temp_dir();
    // Team 1 with its player and stat: team 2's subtree is stale.
    let origin = sample_jsonl_origin(dir.path(), 1, 1);
    let run = run(&[
        "--no-compare",
        "--rm",
        "--follow-child",
        path_str(&origin),
        &server.url("/api"),
    ])
    .ok();
    assert_eq!(summary(&run.stderr).deleted, 3, "{}", run.stderr);
    assert_eq!(server.count("PUT"), 3);
    let mut paths: Vec<String> = server.resources().into_keys().collect();
    paths.sort();
    assert_eq!(paths, ["/api/player/1", "/api/stat/1", "/api/team/1"]);
}

#[test]
fn flags_that_need_a_comparison_refuse_no_compare_and_verify_needs_a_readable_destination() {
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 1, 1);
    let out = dir.path().join("out");
    let out = path_str(&out);
    let refused: [(&[&str], &str); 5] = [
        (&["--no-compare", "--dry-run"], out),
        (&["--no-compare", "--ignore", "name"], out),
        (&["--no-compare", "--verify"], out),
        (&["--verify"], "-"),
        (&["--verify"], "null"),
    ];
    for (flags, destination) in refused {
        let args: Vec<&str> = [flags, &[path_str(&origin), destination]].concat();
        let run = run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?} printed resources");
        assert!(!dir.path().join("out").exists(), "{args:?} wrote");
    }
}

#[test]
fn floats_in_any_spelling_compare_unchanged_and_a_second_push_writes_nothing() {
    // `1.0e-07` in YAML, `1e-07` in the request body, `1e-07` back from the server: one
    // value. The real run compared the request text re-read as written against the
    // destination's parsed copy, saw two spellings, and PUT the resource on every run
    // while `--dry-run` said unchanged.
    let server = TestServer::start(ServerConfig::default());
    let dir = temp_dir();
    let origin = dir.path().join("origin.yaml");
    let yaml = format!(
        "---\n_links:\n    self:\n        href: {}\nbudget: 2500000.0\nid: 3\nrating: 1.0e-07\n",
        server.url("/api/team/3")
    );
    write_file(&origin, &yaml);
    let destination = server.url("/api");
    run(&[path_str(&origin), &destination]).ok();
    assert_eq!(server.count("PUT"), 1);

    server.clear_log();
    let planned = run(&["--dry-run", "--exit-code", path_str(&origin), &destination]);
    let real = run(&["--exit-code", path_str(&origin), &destination]);
    assert_eq!(planned.code, 0, "{}", planned.stderr);
    assert_eq!(
        real.code, 0,
        "the real run agrees with the plan: {}",
        real.stderr
    );
    assert_eq!(summary(&real.stderr).unchanged, 1, "{}", real.stderr);
    assert_eq!(server.count("PUT"), 0, "nothing is sent again");
}
