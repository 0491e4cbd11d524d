//! Operating in CI and against live APIs (SPEC 7): `--output json`, `--exit-code`,
//! `--max-delete`, `--ignore`, `--omit`, `--rps`, `--generate`.

use serde_json::{json, Value};

use crate::server::{sample_dataset, ServerConfig, TestServer};
use crate::util::*;

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

#[test]
fn output_json_has_one_line_per_request_and_a_summary() {
    let server = TestServer::start(ServerConfig::default());
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 2, 2);
    let run = run(&["--output", "json", path_str(&origin), &server.url("/api")]).ok();

    let lines = json_lines(&run.stdout);
    let (actions, summary) = lines.split_at(lines.len() - 1);
    assert_eq!(
        summary[0],
        json!({"summary": {"read": 10, "created": 10, "updated": 0, "deleted": 0, "unchanged": 0,
                           "failed": 0, "skipped": 0, "seconds": summary[0]["summary"]["seconds"]}})
    );
    let puts: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.path_and_query)
        .collect();
    let mut targets: Vec<String> = actions
        .iter()
        .map(|a| {
            a["target"]
                .as_str()
                .unwrap()
                .replace(&server.base_url(), "")
        })
        .collect();
    targets.sort();
    assert_eq!(targets, sorted_strings(&puts));
    for action in actions {
        assert_eq!(
            (
                &action["op"],
                &action["status"],
                &action["attempts"],
                &action["error"]
            ),
            (&json!("create"), &json!(201), &json!(1), &Value::Null)
        );
        let uri = action["uri"].as_str().unwrap();
        assert!(uri.starts_with("http://prod.example:9/api/"), "{action}");
        assert!(
            uri.ends_with(&format!(
                "/{}/{}",
                action["type"].as_str().unwrap(),
                action["id"]
            )),
            "{action}"
        );
    }
}

#[test]
fn output_json_plans_and_failures() {
    let server = TestServer::start(ServerConfig::default());
    server.fail_path("/api/player/1", 409);
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 1, 2);
    let planned = run(&[
        "--dry-run",
        "--output",
        "json",
        path_str(&origin),
        &server.url("/api/team"),
    ])
    .ok();
    assert!(server.requests().iter().all(|r| r.method == "GET"));
    let lines = json_lines(&planned.stdout);
    assert_eq!(
        lines.len(),
        6,
        "5 planned creates and the summary: {}",
        planned.stdout
    );
    assert!(lines[..5]
        .iter()
        .all(|l| l["status"] == json!("planned") && l["attempts"] == json!(0)));

    let failed = run(&["--output", "json", path_str(&origin), &server.url("/api")]).expect_code(1);
    let lines = json_lines(&failed.stdout);
    let player = lines
        .iter()
        .find(|l| l["uri"].as_str().is_some_and(|u| u.ends_with("/player/1")))
        .unwrap();
    assert_eq!(
        (&player["status"], &player["attempts"]),
        (&json!(409), &json!(1))
    );
    assert!(
        player["error"].as_str().unwrap().contains("409"),
        "{player}"
    );
    let stat = lines
        .iter()
        .find(|l| l["uri"].as_str().is_some_and(|u| u.ends_with("/stat/1")))
        .unwrap();
    assert_eq!(
        (&stat["status"], &stat["attempts"]),
        (&json!("skipped"), &json!(0))
    );
    assert_eq!(lines.last().unwrap()["summary"]["failed"], json!(1));
}

#[test]
fn exit_code_tells_drift_from_no_drift() {
    let dir = temp_dir();
    let roster = manifest_path("examples/roster.yaml");
    let out = dir.path().join("tree");
    let (roster, out_str) = (path_str(&roster), path_str(&out));
    assert_eq!(
        run(&["--exit-code", roster, out_str]).code,
        3,
        "changes made"
    );
    assert_eq!(
        run(&["--exit-code", roster, out_str]).code,
        0,
        "nothing to change"
    );
    let overrides = manifest_path("examples/overrides");
    let before = file_snapshot(&out);
    let drift = run(&[
        "--dry-run",
        "--exit-code",
        roster,
        path_str(&overrides),
        out_str,
    ])
    .expect_code(3);
    assert!(drift.stdout.starts_with("update "), "{}", drift.stdout);
    assert_eq!(file_snapshot(&out), before, "a dry run writes nothing");
    assert_eq!(
        run(&["--dry-run", "--exit-code", "/no/such/origin", out_str]).code,
        2
    );
}

#[test]
fn max_delete_makes_no_deletion_but_still_writes() {
    let server = TestServer::start(ServerConfig::default());
    for stale in sample_dataset(&server.base_url(), 3, 0) {
        server.insert(stale);
    }
    let dir = temp_dir();
    let origin = dir.path().join("teams.jsonl");
    let team = json!({"id": 9, "name": "Nine", "_links": {"self": {"href": "http://prod.example:9/api/team/9"}}});
    write_file(&origin, &format!("{team}\n"));
    let run = run(&[
        "--rm",
        "--max-delete",
        "2",
        path_str(&origin),
        &server.url("/api/team"),
    ])
    .expect_code(1);

    assert_eq!(server.count("DELETE"), 0);
    assert!(
        server.get("/api/team/9").is_some(),
        "the write still happened"
    );
    for id in 1..=3 {
        let line = format!("delete {}", server.url(&format!("/api/team/{id}")));
        assert!(
            run.stderr.lines().any(|l| l == line),
            "{line} not listed:\n{}",
            run.stderr
        );
    }
    let counts = summary(&run.stderr);
    assert_eq!((counts.created, counts.deleted, counts.skipped), (1, 0, 3));
    let allowed = crate::util::run(&[
        "--rm",
        "--max-delete",
        "3",
        path_str(&origin),
        &server.url("/api/team"),
    ])
    .ok();
    assert_eq!(
        (server.count("DELETE"), summary(&allowed.stderr).deleted),
        (3, 3)
    );
}

#[test]
fn omitted_fields_leave_no_trace_in_the_tree() {
    let dir = temp_dir();
    let origin = dir.path().join("users.jsonl");
    let secret = "s3cr3t-Token-Value";
    let user = json!({"id": 1, "name": "ana", "auth": {"token": secret, "kind": "bearer"},
                      "_links": {"self": {"href": "http://h/api/user/1"}}});
    write_file(&origin, &format!("{user}\n"));
    let out = dir.path().join("tree");
    let run = run(&["--omit", "auth.token", path_str(&origin), path_str(&out)]).ok();
    assert_never_printed(&run, secret);
    let written = read(&out.join("user/1.yaml"));
    assert!(
        !written.contains(secret) && !written.contains("token"),
        "{written}"
    );
    assert!(written.contains("kind: bearer"), "{written}");
}

/// A key may hold a dot (OData's `@odata.etag`): `\.` names it, so `--omit` removes that
/// key and leaves the nested path it would otherwise mean.
#[test]
fn a_field_path_names_a_key_holding_a_dot() {
    let dir = temp_dir();
    let origin = dir.path().join("items.jsonl");
    let item = json!({"id": 1, "@odata.etag": "W/\"42\"", "@odata": {"etag": "kept"},
                      "_links": {"self": {"href": "http://h/api/item/1"}}});
    write_file(&origin, &format!("{item}\n"));
    let out = dir.path().join("items.jsonl.out.jsonl");
    run(&["--omit", r"@odata\.etag", path_str(&origin), path_str(&out)]).ok();
    let written: Value = serde_json::from_str(read(&out).trim()).expect("one JSON line");
    assert_eq!(written.get("@odata.etag"), None, "{written}");
    assert_eq!(written["@odata"]["etag"], "kept", "{written}");
    let bad = run(&["--omit", "a..b", path_str(&origin), "null"]).expect_code(2);
    assert!(bad.stderr.contains("invalid field path"), "{}", bad.stderr);
}

#[test]
fn ignored_fields_do_not_rewrite_files() {
    let dir = temp_dir();
    let origin = dir.path().join("items.jsonl");
    let item = |updated: &str| {
        json!({"id": 1, "name": "a", "meta": {"updatedAt": updated},
                                      "_links": {"self": {"href": "http://h/api/item/1"}}})
    };
    write_file(&origin, &format!("{}\n", item("2026-01-01")));
    let out = dir.path().join("tree");
    run(&[path_str(&origin), path_str(&out)]).ok();
    let before = file_snapshot(&out);

    write_file(&origin, &format!("{}\n", item("2026-11-23")));
    let plan = run(&[
        "--dry-run",
        "--diff",
        "--ignore",
        "meta.updatedAt",
        path_str(&origin),
        path_str(&out),
    ])
    .ok();
    assert_eq!(
        plan.stdout, "",
        "no plan or diff line for an ignored difference"
    );
    let ignored = run(&[
        "--ignore",
        "meta.updatedAt",
        path_str(&origin),
        path_str(&out),
    ])
    .ok();
    assert_eq!(summary(&ignored.stderr).unchanged, 1);
    assert_eq!(
        file_snapshot(&out),
        before,
        "file not rewritten, mtime kept"
    );
    let updated = run(&[path_str(&origin), path_str(&out)]).ok();
    assert_eq!(
        summary(&updated.stderr).updated,
        1,
        "without --ignore the change is written"
    );
}

#[test]
fn ignored_fields_are_not_pushed() {
    let server = TestServer::start(ServerConfig::default());
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 2, 1);
    run(&[path_str(&origin), &server.url("/api")]).ok();
    // The server's copies now carry a field the origin lacks and an older `updatedAt`.
    let stamp = |body: &mut Value, at: &str| body["updatedAt"] = json!(at);
    for (_, mut body) in server.resources() {
        stamp(&mut body, "old");
        server.insert(body);
    }
    let lines: String = sample_dataset("http://prod.example:9", 2, 1)
        .into_iter()
        .map(|mut body| {
            stamp(&mut body, "new");
            format!("{body}\n")
        })
        .collect();
    write_file(&origin, &lines);
    server.clear_log();
    let run = run(&[
        "-c",
        "--ignore",
        "updatedAt",
        path_str(&origin),
        &server.url("/api"),
    ])
    .ok();
    assert_eq!(server.count("PUT"), 0, "nothing differs outside updatedAt");
    assert_eq!(summary(&run.stderr).unchanged, 6);
    crate::util::run(&["-c", path_str(&origin), &server.url("/api")]).ok();
    assert_eq!(
        server.count("PUT"),
        6,
        "without --ignore every resource is sent"
    );
}

#[test]
fn rps_spaces_requests_by_the_servers_own_clock() {
    let server = TestServer::start(ServerConfig::default());
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 100, 0);
    run(&[
        "--rps",
        "50",
        "--concurrency",
        "16",
        path_str(&origin),
        &server.url("/api"),
    ])
    .ok();

    // The destination's inventory is read first; the writes are what is spaced.
    let arrivals = server.arrivals("PUT");
    assert_eq!(arrivals.len(), 100);
    let span = arrivals.iter().max().unwrap() - arrivals.iter().min().unwrap();
    assert!(
        span >= 1900,
        "100 requests at 50/s span about 2 s, got {span} ms"
    );
    let busiest = arrivals
        .iter()
        .map(|&start| {
            arrivals
                .iter()
                .filter(|&&at| at >= start && at < start + 1000)
                .count()
        })
        .max()
        .unwrap();
    assert!(
        busiest <= 51,
        "{busiest} requests in one second (limit 50, one of slack for clock granularity)"
    );
}

#[test]
fn generate_prints_completions_and_a_man_page() {
    let bash = run(&["--generate", "complete-bash"]).ok();
    assert!(
        bash.stdout.contains("complete") && bash.stdout.contains("--dry-run"),
        "{}",
        bash.stdout
    );
    let zsh = run(&["--generate", "complete-zsh"]).ok();
    assert!(
        zsh.stdout.starts_with("#compdef resource-sync"),
        "{}",
        &zsh.stdout[..40]
    );
    let fish = run(&["--generate", "complete-fish"]).ok();
    assert!(fish.stdout.contains("complete -c resource-sync"));
    let man = run(&["--generate", "man"]).ok();
    assert!(man.stdout.contains(".TH resource-sync 1") && man.stdout.contains("dry\\-run"));
    run(&["--generate", "man", "a", "b"]).expect_code(2);
}

#[test]
fn a_rate_limited_server_gets_everything_with_few_429s() {
    let server = TestServer::start(ServerConfig {
        rate_limit: Some(50),
        ..ServerConfig::default()
    });
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 150, 0);
    let run = run(&["--concurrency", "8", path_str(&origin), &server.url("/api")]).ok();

    assert_eq!(summary(&run.stderr).created, 150, "{}", run.stderr);
    assert_eq!(server.resources().len(), 150);
    let requests = server.requests();
    let refused = requests.iter().filter(|r| r.status == 429).count();
    eprintln!(
        "rate limit 50/s: {refused} of {} requests answered 429",
        requests.len()
    );
    // 150 writes at 50/s fill three rate windows; in each, at most one `--concurrency`'s
    // worth of requests is already in flight when the first 429 comes back, and then the
    // client waits for `Retry-After` with its concurrency halved. A client that ignored
    // 429s would have every request past a window's 50th refused.
    let windows = 150 / 50;
    assert!(
        refused <= windows * 8,
        "{refused} of {} requests were 429s",
        requests.len()
    );
}

#[test]
fn ignoring_a_field_the_server_stamps_on_every_read_rewrites_nothing() {
    let server = TestServer::start(ServerConfig {
        touch_on_read: Some("updatedAt".to_string()),
        ..ServerConfig::default()
    });
    for resource in sample_dataset(&server.base_url(), 2, 3) {
        server.insert(resource);
    }
    let dir = temp_dir();
    let out = dir.path().join("tree");
    let start = server.url("/api/player");
    run(&[&start, path_str(&out)]).ok();
    let before = file_snapshot(&out);

    let ignored = run(&["--ignore", "updatedAt", &start, path_str(&out)]).ok();
    let counts = summary(&ignored.stderr);
    assert_eq!(
        (counts.updated, counts.unchanged),
        (0, 6),
        "{}",
        ignored.stderr
    );
    assert_eq!(
        file_snapshot(&out),
        before,
        "no file rewritten, mtimes kept"
    );
    let stamped = run(&[&start, path_str(&out)]).ok();
    assert_eq!(
        summary(&stamped.stderr).updated,
        6,
        "without --ignore every read differs"
    );
}

#[test]
fn a_destination_that_does_not_exist_yet_plans_creates() {
    let server = TestServer::start(ServerConfig::default());
    let dir = temp_dir();
    let origin = sample_jsonl_origin(dir.path(), 1, 1);
    let plan = run(&["--dry-run", path_str(&origin), &server.url("/nothing/yet")]).ok();
    assert_eq!(
        plan.stdout
            .lines()
            .filter(|l| l.starts_with("create "))
            .count(),
        3,
        "{}",
        plan.stdout
    );
    assert_eq!(
        server.count("GET"),
        4,
        "the destination and the collections of team, player and stat were read"
    );
    assert!(server.requests().iter().all(|r| r.method == "GET"));
    // An origin that does not exist still fails the run.
    crate::util::run(&[
        &server.url("/nothing/yet"),
        path_str(&dir.path().join("out")),
    ])
    .expect_code(1);
}
