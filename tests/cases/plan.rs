//! Plans and exit status (SPEC sections 4, 5 and 7): `--dry-run` against directories, files,
//! stdout and HTTP, `--diff`, `--rm` deletions, skipped deletions after a failure, exit codes.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::server::{sample_dataset, ServerConfig, TestServer};
use crate::util::*;

/// Where the origin data claims to live; a closed loopback port, so nothing leaves the machine.
const ORIGIN_BASE: &str = "http://localhost:1";

fn team(id: u64, name: &str) -> Value {
    hal_resource(ORIGIN_BASE, "team", id, json!({ "name": name }), &[])
}

fn player(id: u64, name: &str, team: u64) -> Value {
    hal_resource(
        ORIGIN_BASE,
        "player",
        id,
        json!({ "name": name }),
        &[("team", team)],
    )
}

fn yaml_file(dir: &Path, name: &str, resources: &[Value]) -> PathBuf {
    let path = dir.join(name);
    write_file(&path, &yaml_documents(resources));
    path
}

/// `out` as the tool writes it from teams 1 (Lions) and 2 (Otters).
fn written_tree(dir: &Path) -> PathBuf {
    let first = yaml_file(dir, "first.yaml", &[team(1, "Lions"), team(2, "Otters")]);
    let out = dir.join("out");
    run(&[path_str(&first), path_str(&out)]).ok();
    assert_eq!(list_files(&out), ["team/1.yaml", "team/2.yaml"]);
    out
}

/// Team 1 renamed, team 2 as before, a new player.
fn changed_origin(dir: &Path) -> PathBuf {
    yaml_file(
        dir,
        "in.yaml",
        &[team(1, "Tigers"), team(2, "Otters"), player(1, "Ana", 2)],
    )
}

fn target(out: &Path, relative: &str) -> String {
    format!("{}/{relative}", path_str(out))
}

#[test]
fn dry_run_into_a_directory_lists_creates_and_updates_and_writes_nothing() {
    let dir = temp_dir();
    let out = written_tree(dir.path());
    let origin = changed_origin(dir.path());
    let before = file_snapshot(&out);
    let run = run(&["--dry-run", path_str(&origin), path_str(&out)]).ok();
    assert_eq!(
        sorted_lines(&run.stdout),
        sorted_strings(&[
            format!("create {}", target(&out, "player/1.yaml")),
            format!("update {}", target(&out, "team/1.yaml")),
        ]),
        "the unchanged team/2.yaml has no line"
    );
    assert_eq!(
        file_snapshot(&out),
        before,
        "a file was created, changed or touched"
    );
    assert!(!out.join("player").exists(), "a folder was created");
    let summary = summary(&run.stderr);
    assert_eq!(
        summary,
        Summary {
            read: 3,
            created: 1,
            updated: 1,
            unchanged: 1,
            ..Summary::default()
        },
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("read 3"), "summary on stdout");
}

#[test]
fn dry_run_into_a_new_directory_creates_nothing() {
    let dir = temp_dir();
    let origin = changed_origin(dir.path());
    let out = dir.path().join("fresh");
    let run = run(&["--dry-run", path_str(&origin), path_str(&out)]).ok();
    assert_eq!(
        sorted_lines(&run.stdout),
        sorted_strings(&[
            format!("create {}", target(&out, "player/1.yaml")),
            format!("create {}", target(&out, "team/1.yaml")),
            format!("create {}", target(&out, "team/2.yaml")),
        ])
    );
    assert!(!out.exists(), "the destination folder was created");
}

#[test]
fn dry_run_rm_into_a_directory_lists_deletes_and_deletes_nothing() {
    let dir = temp_dir();
    let out = written_tree(dir.path());
    write_file(
        &out.join("coach/4.json"),
        &format!(
            "{}\n",
            hal_resource(ORIGIN_BASE, "coach", 4, json!({}), &[])
        ),
    );
    write_file(
        &out.join("team/9.yaml"),
        &yaml_documents(&[team(9, "Stale")]),
    );
    for untouched in [".git/config", ".hidden.yaml", "README.md", "team/notes.txt"] {
        write_file(&out.join(untouched), "untouched\n");
    }
    let origin = changed_origin(dir.path());
    let before = file_snapshot(&out);
    let run = run(&["--dry-run", "--rm", path_str(&origin), path_str(&out)]).ok();
    assert_eq!(
        sorted_lines(&run.stdout),
        sorted_strings(&[
            format!("create {}", target(&out, "player/1.yaml")),
            format!("delete {}", target(&out, "coach/4.json")),
            format!("delete {}", target(&out, "team/9.yaml")),
            format!("update {}", target(&out, "team/1.yaml")),
        ])
    );
    assert_eq!(
        file_snapshot(&out),
        before,
        "something was deleted or written"
    );
    assert_eq!(summary(&run.stderr).read, 3, "{}", run.stderr);
}

#[test]
fn dry_run_without_rm_lists_no_deletes() {
    let dir = temp_dir();
    let out = written_tree(dir.path());
    write_file(
        &out.join("team/9.yaml"),
        &yaml_documents(&[team(9, "Stale")]),
    );
    let origin = changed_origin(dir.path());
    let run = run(&["--dry-run", path_str(&origin), path_str(&out)]).ok();
    assert!(
        !run.stdout.lines().any(|line| line.starts_with("delete ")),
        "{}",
        run.stdout
    );
}

/// Players 1..=3 of team 1 as the origin holds them (team 1 itself is not in the origin).
fn origin_players() -> Vec<Value> {
    sample_dataset(ORIGIN_BASE, 1, 3)
        .into_iter()
        .filter(|r| {
            r["_links"]["self"]["href"]
                .as_str()
                .is_some_and(|href| href.contains("/api/player/"))
        })
        .collect()
}

/// Rebased onto `server`: the same resource as the destination would hold it.
fn on_server(server: &TestServer, resource: &Value) -> Value {
    let text = resource
        .to_string()
        .replace(ORIGIN_BASE, &server.base_url());
    serde_json::from_str(&text).expect("still JSON")
}

/// Destination: player 1 identical (its links differ), player 2 renamed, player 3 missing,
/// player 9 stale. Returns the server and the origin file.
fn http_plan_setup(dir: &Path) -> (TestServer, PathBuf) {
    let server = TestServer::start(ServerConfig::default());
    let players = origin_players();
    assert_eq!(players.len(), 3);
    server.insert(on_server(&server, &sample_dataset(ORIGIN_BASE, 1, 1)[0]));
    let mut same = on_server(&server, &players[0]);
    // Links aside: a destination that lists an extra link still holds the same resource.
    same["_links"]["child:stats"] = json!({ "href": server.url("/api/stat?player=1") });
    server.insert(same);
    let mut renamed = on_server(&server, &players[1]);
    renamed["name"] = json!("Old Name");
    server.insert(renamed);
    server.insert(hal_resource(
        &server.base_url(),
        "player",
        9,
        json!({ "name": "Stale" }),
        &[("team", 1)],
    ));
    let origin = yaml_file(dir, "players.yaml", &players);
    (server, origin)
}

fn assert_only_gets(server: &TestServer) {
    let writes: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path_and_query))
        .collect();
    assert!(writes.is_empty(), "a dry run sent {writes:?}");
    assert!(server.count("GET") > 0, "the destination was not read");
}

#[test]
fn dry_run_against_http_plans_creates_and_updates_with_only_gets() {
    let dir = temp_dir();
    let (server, origin) = http_plan_setup(dir.path());
    let stored = server.resources();
    let destination = server.url("/api/player");
    let run = run(&["--dry-run", path_str(&origin), &destination]).ok();
    assert_eq!(
        sorted_lines(&run.stdout),
        sorted_strings(&[
            format!("create {}", server.url("/api/player/3")),
            format!("update {}", server.url("/api/player/2")),
        ]),
        "player 1 is identical but for its links: no line"
    );
    assert_only_gets(&server);
    assert_eq!(server.resources(), stored, "the destination changed");
    assert_eq!(summary(&run.stderr).read, 3, "{}", run.stderr);
}

#[test]
fn dry_run_rm_against_http_lists_stale_resources_and_deletes_nothing() {
    let dir = temp_dir();
    let (server, origin) = http_plan_setup(dir.path());
    let stored = server.resources();
    let destination = server.url("/api/player");
    let run = run(&["--dry-run", "--rm", path_str(&origin), &destination]).ok();
    assert_eq!(
        sorted_lines(&run.stdout),
        sorted_strings(&[
            format!("create {}", server.url("/api/player/3")),
            format!("delete {}", server.url("/api/player/9")),
            format!("update {}", server.url("/api/player/2")),
        ])
    );
    assert_only_gets(&server);
    assert_eq!(server.resources(), stored, "the destination changed");
}

#[test]
fn dry_run_rm_against_http_deletes_only_within_the_written_types() {
    let server = TestServer::start(ServerConfig::default());
    for resource in sample_dataset(&server.base_url(), 2, 1) {
        server.insert(resource);
    }
    // The origin holds team 1 and its player: team 2, player 2 and stat 1-2 are not held,
    // but only the types written (team, player) are candidates for deletion.
    let dir = temp_dir();
    let origin = yaml_file(
        dir.path(),
        "in.yaml",
        &sample_dataset(ORIGIN_BASE, 2, 1)
            .into_iter()
            .filter(|r| {
                let href = r["_links"]["self"]["href"].as_str().unwrap_or("");
                href.ends_with("/api/team/1") || href.ends_with("/api/player/1")
            })
            .collect::<Vec<_>>(),
    );
    let run = run(&[
        "--dry-run",
        "--rm",
        "-c",
        path_str(&origin),
        &server.url("/api"),
    ])
    .ok();
    assert_eq!(
        sorted_lines(&run.stdout),
        sorted_strings(&[
            format!("delete {}", server.url("/api/player/2")),
            format!("delete {}", server.url("/api/team/2")),
        ]),
        "stats are not a written type; team 1 and player 1 are identical"
    );
    assert_only_gets(&server);
    assert_eq!(server.resources().len(), 6);
}

#[test]
fn dry_run_ignores_fields_only_the_destination_holds() {
    // SPEC 5: an update is "one where any field the origin holds differs (`_links` aside)".
    let server = TestServer::start(ServerConfig::default());
    let origin_team = team(1, "Lions");
    let mut held = on_server(&server, &origin_team);
    held["updatedAt"] = json!("2024-01-01T00:00:00Z");
    server.insert(held);
    let dir = temp_dir();
    let origin = yaml_file(dir.path(), "in.yaml", &[origin_team]);
    let run = run(&["--dry-run", path_str(&origin), &server.url("/api/team")]).ok();
    assert_eq!(run.stdout, "", "{}", run.stderr);
    assert_only_gets(&server);
}

#[test]
fn dry_run_into_a_yaml_file_lists_uris_and_creates_no_file() {
    let dir = temp_dir();
    let origin = changed_origin(dir.path());
    let expected = sorted_strings(&[
        format!("create {ORIGIN_BASE}/api/player/1"),
        format!("create {ORIGIN_BASE}/api/team/1"),
        format!("create {ORIGIN_BASE}/api/team/2"),
    ]);
    for name in ["out.yaml", "out.json", "out.jsonl"] {
        let out = dir.path().join(name);
        let run = run(&["--dry-run", path_str(&origin), path_str(&out)]).ok();
        assert_eq!(sorted_lines(&run.stdout), expected, "{name}");
        assert!(!out.exists(), "{name} was created");
        assert_eq!(summary(&run.stderr).read, 3, "{name}: {}", run.stderr);
    }
}

#[test]
fn dry_run_to_stdout_prints_the_plan_not_the_resources() {
    let dir = temp_dir();
    let origin = changed_origin(dir.path());
    let run = run(&["--dry-run", path_str(&origin), "-"]).ok();
    assert_eq!(
        sorted_lines(&run.stdout),
        sorted_strings(&[
            format!("create {ORIGIN_BASE}/api/player/1"),
            format!("create {ORIGIN_BASE}/api/team/1"),
            format!("create {ORIGIN_BASE}/api/team/2"),
        ])
    );
    assert!(!run.stdout.contains("---"), "resources were written");
}

#[test]
fn diff_dry_run_shows_a_unified_diff_of_changed_files_only() {
    let dir = temp_dir();
    let out = written_tree(dir.path());
    let origin = yaml_file(
        dir.path(),
        "in.yaml",
        &[team(1, "Tigers"), team(2, "Otters")],
    );
    let before = file_snapshot(&out);
    let run = run(&["--diff", "--dry-run", path_str(&origin), path_str(&out)]).ok();
    let changed = target(&out, "team/1.yaml");
    assert!(
        run.stdout
            .contains(&format!("--- {changed}\n+++ {changed}\n")),
        "no diff headers:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\n-name: Lions\n+name: Tigers\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.lines().any(|line| line.starts_with("@@ ")),
        "no hunk header:\n{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("team/2.yaml"),
        "unchanged file in the diff:\n{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains('\x1b'),
        "ANSI escapes on a pipe: {:?}",
        run.stdout
    );
    assert_eq!(file_snapshot(&out), before, "--dry-run wrote");
}

#[test]
fn diff_without_dry_run_writes_and_prints_the_diffs() {
    let dir = temp_dir();
    let out = written_tree(dir.path());
    let untouched = file_snapshot(&out)
        .into_iter()
        .find(|entry| entry.0 == "team/2.yaml")
        .expect("team 2 written");
    let origin = yaml_file(
        dir.path(),
        "in.yaml",
        &[team(1, "Tigers"), team(2, "Otters")],
    );
    let run = run(&["--diff", path_str(&origin), path_str(&out)]).ok();
    let changed = target(&out, "team/1.yaml");
    assert!(
        run.stdout
            .contains(&format!("--- {changed}\n+++ {changed}\n")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\n-name: Lions\n+name: Tigers\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("team/2.yaml"), "{}", run.stdout);
    assert!(!run.stdout.contains('\x1b'), "{:?}", run.stdout);
    assert!(
        read(&out.join("team/1.yaml")).contains("\nname: Tigers\n"),
        "the change was not written"
    );
    let after = file_snapshot(&out)
        .into_iter()
        .find(|entry| entry.0 == "team/2.yaml")
        .expect("team 2 kept");
    assert_eq!(after, untouched, "an unchanged file was rewritten");
    let summary = summary(&run.stderr);
    assert_eq!(
        (summary.updated, summary.unchanged),
        (1, 1),
        "{}",
        run.stderr
    );
}

#[test]
fn rm_against_http_deletes_nothing_after_a_failed_write() {
    let server = TestServer::start(ServerConfig::default());
    server.insert(hal_resource(
        &server.base_url(),
        "stat",
        9,
        json!({ "points": 0 }),
        &[],
    ));
    server.fail_path("/api/player/2", 500);
    let dir = temp_dir();
    let origin = yaml_file(dir.path(), "in.yaml", &sample_dataset(ORIGIN_BASE, 1, 2));
    let run = run(&["--rm", "-c", path_str(&origin), &server.url("/api")]).expect_code(1);
    assert_eq!(
        server.count("DELETE"),
        0,
        "deleted after a failure: {:#?}",
        server.requests()
    );
    assert!(server.get("/api/stat/9").is_some(), "stat 9 is gone");
    let summary = summary(&run.stderr);
    assert_eq!(
        (summary.failed, summary.skipped, summary.deleted),
        (1, 2, 0),
        "stat 2 (child of the failed player) and the planned deletion of stat 9 are skipped: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("/api/stat/9"),
        "the skipped deletion is not reported: {}",
        run.stderr
    );
}

#[test]
fn rm_on_a_directory_removes_folders_it_left_empty() {
    let dir = temp_dir();
    let out = written_tree(dir.path());
    for id in [4, 5] {
        write_file(
            &out.join(format!("coach/{id}.yaml")),
            &yaml_documents(&[hal_resource(ORIGIN_BASE, "coach", id, json!({}), &[])]),
        );
    }
    // A type folder that still holds a file this tool does not read stays.
    write_file(
        &out.join("venue/1.yaml"),
        &yaml_documents(&[hal_resource(ORIGIN_BASE, "venue", 1, json!({}), &[])]),
    );
    write_file(&out.join("venue/notes.txt"), "keep\n");
    write_file(&out.join(".git/HEAD"), "ref: refs/heads/main\n");
    std::fs::create_dir_all(out.join(".cache")).expect("mkdir .cache");
    let origin = yaml_file(
        dir.path(),
        "in.yaml",
        &[team(1, "Lions"), team(2, "Otters")],
    );
    let run = run(&["--rm", path_str(&origin), path_str(&out)]).ok();
    assert_eq!(
        list_files(&out),
        [".git/HEAD", "team/1.yaml", "team/2.yaml", "venue/notes.txt"]
    );
    assert!(
        !out.join("coach").exists(),
        "the emptied coach/ folder stays"
    );
    assert!(
        out.join(".cache").is_dir(),
        "an empty dot-folder was removed"
    );
    assert!(out.join("venue").is_dir());
    assert_eq!(summary(&run.stderr).deleted, 3, "{}", run.stderr);

    // Everything stale: the root itself stays, even when empty.
    let empty = dir.path().join("empty.yaml");
    write_file(&empty, "");
    let only = dir.path().join("only");
    write_file(
        &only.join("coach/1.yaml"),
        &yaml_documents(&[hal_resource(ORIGIN_BASE, "coach", 1, json!({}), &[])]),
    );
    run_stale_root(&empty, &only);
}

fn run_stale_root(origin: &Path, out: &Path) {
    run(&["--rm", path_str(origin), path_str(out)]).ok();
    assert!(out.is_dir(), "the destination root was removed");
    assert!(list_files(out).is_empty());
    assert!(
        !out.join("coach").exists(),
        "the emptied coach/ folder stays"
    );
}

#[test]
fn exit_code_0_when_everything_is_written() {
    let server = TestServer::start(ServerConfig::default());
    let dir = temp_dir();
    let origin = yaml_file(dir.path(), "in.yaml", &sample_dataset(ORIGIN_BASE, 1, 1));
    let run = run(&[path_str(&origin), &server.url("/api")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.resources().len(), 3);
}

#[test]
fn exit_code_1_when_a_resource_fails() {
    let server = TestServer::start(ServerConfig::default());
    server.fail_path("/api/stat/1", 500);
    let dir = temp_dir();
    let origin = yaml_file(dir.path(), "in.yaml", &sample_dataset(ORIGIN_BASE, 1, 1));
    let run = run(&[path_str(&origin), &server.url("/api")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(summary(&run.stderr).failed, 1, "{}", run.stderr);
    assert_eq!(server.resources().len(), 2, "the others are still written");
}

#[test]
fn exit_code_1_when_a_starting_url_cannot_be_read() {
    let server = TestServer::start(ServerConfig::default());
    server.fail_path("/api/team", 500);
    let dir = temp_dir();
    let out = dir.path().join("out");
    let origin = server.url("/api/team");
    let run = run(&[&origin, path_str(&out)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("/api/team"), "{}", run.stderr);
    assert!(run.stderr.contains("500"), "{}", run.stderr);
    assert!(!out.exists(), "something was written");
}

#[test]
fn exit_code_2_for_usage_errors_with_nothing_written() {
    let dir = temp_dir();
    let origin = changed_origin(dir.path());
    let origin = path_str(&origin);
    let out = dir.path().join("out");
    let out = path_str(&out);
    let cases: Vec<Vec<&str>> = vec![
        vec!["--no-such-flag", origin, out],
        vec!["--limit", "0", origin, out],
        vec!["--batch-size", "-1", origin, out],
        vec!["--concurrency", "zero", origin, out],
        vec!["--match", "no-equals-sign", origin, out],
        vec![origin],
        vec![],
    ];
    for args in cases {
        let run = run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.is_empty(), "{args:?}: no error message");
        assert!(
            !dir.path().join("out").exists(),
            "{args:?}: something was written"
        );
    }
}
