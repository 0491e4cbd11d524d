//! Backups and undo (SPEC section 12): `--backup DIR` keeps the destination's copy of what a
//! run updates or deletes, and records what it creates, before the writes; `--undo DIR
//! DESTINATION` puts the destination back. Each test checks what a real server holds (its
//! state dump and request log), the files on disk byte for byte, and the exit status.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::server::plain::{Envelope, Pagination, PlainConfig, PlainServer};
use crate::server::{seeded_server, Fault, ServerConfig, TestServer};
use crate::util::*;

/// A run still going after this is a hang: it is killed and the test fails with its output.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The write a test kills the run during: held far longer than any test runs.
const HELD: Duration = Duration::from_secs(300);

/// The record beside the copies.
const RECORD: &str = ".backup.yaml";

fn run_limited(args: &[&str]) -> Run {
    wait_for(spawn_command(command(args)), RUN_LIMIT)
}

/// Two teams of two players, one stat each: 10 resources.
fn league() -> TestServer {
    seeded_server(ServerConfig::default(), 2, 2)
}

/// Everything the server at `api` holds, pulled into `tree`.
fn pull(api: &str, tree: &Path) {
    run_limited(&["-c", "-l", "50", api, path_str(tree)]).ok();
}

/// The edits every push here makes: team 1 and player 2 renamed (updates), team 3 with its
/// player 9 added (creates, the player after its team), player 4 and its stat removed
/// (deletes with `--rm`, the stat first).
fn edit(tree: &Path, base: &str) {
    replace_in(&tree.join("team/1.yaml"), "Team 1", "Renamed 1");
    replace_in(&tree.join("player/2.yaml"), "Player 2", "Renamed 2");
    let team = hal_resource(base, "team", 3, json!({"name": "Team 3"}), &[]);
    let player = hal_resource(
        base,
        "player",
        9,
        json!({"name": "Player 9", "teamId": 3}),
        &[("team", 3)],
    );
    write_file(&tree.join("team/3.yaml"), &yaml_documents(&[team]));
    write_file(&tree.join("player/9.yaml"), &yaml_documents(&[player]));
    for gone in ["player/4.yaml", "stat/4.yaml"] {
        std::fs::remove_file(tree.join(gone)).expect("a pulled file");
    }
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let old = read(path);
    assert!(old.contains(from), "{} lacks {from:?}", path.display());
    write_file(path, &old.replacen(from, to, 1));
}

/// Files a backup of `edit`'s push holds: the copies of the updated and deleted, the record.
fn edited_copies() -> Vec<String> {
    sorted_strings(&[
        RECORD,
        "player/2.yaml",
        "player/4.yaml",
        "stat/4.yaml",
        "team/1.yaml",
    ])
}

/// A server, its state before, and a tree pulled from it then edited, in `dir`.
struct Pushed {
    server: TestServer,
    api: String,
    before: BTreeMap<String, Value>,
    tree: PathBuf,
}

fn edited_league(dir: &Path) -> Pushed {
    let server = league();
    let api = server.url("/api");
    let before = server.resources();
    let tree = dir.join("tree");
    pull(&api, &tree);
    edit(&tree, &server.base_url());
    server.clear_log();
    Pushed {
        server,
        api,
        before,
        tree,
    }
}

/// `resource-sync -c --rm --backup BACKUP TREE API`.
fn push_with_backup(pushed: &Pushed, backup: &Path) -> Command {
    command(&[
        "-c",
        "--rm",
        "--backup",
        path_str(backup),
        path_str(&pushed.tree),
        &pushed.api,
    ])
}

/// `resource-sync -c EXTRA... --undo BACKUP DESTINATION`.
fn undo(backup: &Path, destination: &str, extra: &[&str]) -> Run {
    let mut args = vec!["-c"];
    args.extend_from_slice(extra);
    args.extend(["--undo", path_str(backup), destination]);
    run_limited(&args)
}

/// `METHOD path` of every request that is not a read.
fn writes(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter(|request| !matches!(request.method.as_str(), "GET" | "HEAD" | "OPTIONS"))
        .map(|request| format!("{} {}", request.method, request.path_and_query))
        .collect()
}

fn parse_yaml(path: &Path) -> Value {
    serde_yaml::from_str(&read(path))
        .unwrap_or_else(|error| panic!("{} is not YAML: {error}", path.display()))
}

/// `.backup.yaml` read back: (destination, started, created as (type, id, target)).
fn record_of(backup: &Path) -> (String, String, Vec<(String, Value, String)>) {
    let record = parse_yaml(&backup.join(RECORD));
    let text = |value: &Value, what: &str| {
        value
            .as_str()
            .unwrap_or_else(|| panic!("{what} is not a string in {record}"))
            .to_string()
    };
    let created = match &record["created"] {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                (
                    text(&item["type"], "type"),
                    item["id"].clone(),
                    text(&item["target"], "target"),
                )
            })
            .collect(),
        other => panic!("created is {other}"),
    };
    let destination = text(&record["destination"], "destination");
    let started = text(&record["started"], "started");
    (destination, started, created)
}

/// `20261206T212200Z`: a UTC time to the second.
fn is_utc_stamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 16
        && bytes[8] == b'T'
        && bytes[15] == b'Z'
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && bytes[9..15].iter().all(u8::is_ascii_digit)
}

fn created_on(server: &TestServer, items: &[(&str, u64)]) -> Vec<(String, Value, String)> {
    items
        .iter()
        .map(|(kind, id)| {
            (
                kind.to_string(),
                json!(id),
                server.url(&format!("/api/{kind}/{id}")),
            )
        })
        .collect()
}

/// The push of `edit` made its changes, and only those.
fn assert_pushed(server: &TestServer, before: &BTreeMap<String, Value>) {
    let after = server.resources();
    assert_eq!(after["/api/team/1"]["name"], "Renamed 1");
    assert_eq!(after["/api/player/2"]["name"], "Renamed 2");
    assert_eq!(after["/api/team/3"]["name"], "Team 3");
    assert_eq!(after["/api/player/9"]["name"], "Player 9");
    for gone in ["/api/player/4", "/api/stat/4"] {
        assert!(!after.contains_key(gone), "{gone} is still there");
    }
    let untouched = [
        "/api/team/2",
        "/api/player/1",
        "/api/player/3",
        "/api/stat/1",
    ];
    for path in untouched {
        assert_eq!(after[path], before[path], "{path} changed");
    }
}

/// A push into a HAL API that updates, creates and deletes, with `--backup`; the backup
/// holds the server's copies of the updated and deleted, and the record names the created
/// parents first; `--undo` makes the server's state what it was exactly, deleting the
/// created children first and writing only what differs; a second undo finds nothing to
/// delete or write.
#[test]
fn backups_an_undo_puts_an_api_back_exactly_as_before_the_push() {
    let dir = temp_dir();
    let pushed = edited_league(dir.path());
    let (server, api, before) = (&pushed.server, &pushed.api, &pushed.before);
    let backup = dir.path().join("backup");

    let push = wait_for(spawn_command(push_with_backup(&pushed, &backup)), RUN_LIMIT).ok();
    let counts = summary(&push.stderr);
    assert_eq!(
        (counts.created, counts.updated, counts.deleted),
        (2, 2, 2),
        "{}",
        push.stderr
    );
    assert_pushed(server, before);

    assert_eq!(list_files(&backup), edited_copies());
    for copy in ["team/1", "player/2", "player/4", "stat/4"] {
        let kept = parse_yaml(&backup.join(format!("{copy}.yaml")));
        assert_eq!(
            kept,
            before[&format!("/api/{copy}")],
            "the backup's {copy} is not the server's copy before the push"
        );
    }
    let (destination, started, created) = record_of(&backup);
    assert_eq!(destination, *api);
    assert!(is_utc_stamp(&started), "started: {started:?}");
    assert_eq!(created, created_on(server, &[("team", 3), ("player", 9)]));

    server.clear_log();
    let undone = undo(&backup, api, &[]).ok();
    assert_eq!(server.resources(), *before, "{}", undone.stderr);
    let log = writes(server);
    assert_eq!(log.len(), 6, "{log:?}");
    assert_eq!(
        log[..2],
        ["DELETE /api/player/9", "DELETE /api/team/3"],
        "the created are deleted first, children first: {log:?}"
    );
    assert_eq!(
        sorted_strings(&log[2..]),
        sorted_strings(&[
            "PUT /api/player/2",
            "PUT /api/player/4",
            "PUT /api/stat/4",
            "PUT /api/team/1",
        ]),
        "{}",
        undone.stderr
    );
    let counts = summary(&undone.stderr);
    assert_eq!(
        (
            counts.created,
            counts.updated,
            counts.deleted,
            counts.failed
        ),
        (2, 2, 2, 0),
        "{}",
        undone.stderr
    );

    // Spelled with a trailing `/`, the same API; nothing is left to delete or write.
    server.clear_log();
    let again = undo(&backup, &format!("{api}/"), &[]).ok();
    assert_eq!(server.resources(), *before);
    assert_eq!(writes(server), Vec::<String>::new(), "{}", again.stderr);
    assert_eq!(summary(&again.stderr).unchanged, 4, "{}", again.stderr);
    assert_eq!(
        list_files(&backup),
        edited_copies(),
        "an undo changed its backup"
    );
}

/// Runs `command` until `ready` holds (the run still going), then kills it outright
/// (SIGKILL: nothing of it runs after), and waits until the server has let go of what it
/// held.
fn killed_when(command: Command, server: &TestServer, ready: &dyn Fn() -> bool) {
    let killed = signalled_when(command, "KILL", ready);
    assert_eq!(killed.code, -1, "killed by a signal: {killed:?}");
    let started = Instant::now();
    while server.held() > 0 {
        assert!(
            started.elapsed() < RUN_LIMIT,
            "the server still holds a request"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `command` until `ready` holds (the run still going), sends it `signal`, and
/// waits for it to end.
fn signalled_when(command: Command, signal: &str, ready: &dyn Fn() -> bool) -> Run {
    let mut child = spawn_command(command);
    let started = Instant::now();
    while !ready() {
        assert!(
            child.try_wait().expect("waiting for the push").is_none(),
            "the push ended before the held write"
        );
        assert!(started.elapsed() < RUN_LIMIT, "the held write never came");
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -s {signal} failed");
    wait_for(child, RUN_LIMIT)
}

/// Whether the backup's record lists a created resource of type `kind`.
fn records_a(backup: &Path, kind: &str) -> bool {
    backup.join(RECORD).is_file() && record_of(backup).2.iter().any(|(k, ..)| k == kind)
}

/// SIGKILL while the server holds the create of player 9 (its team 3 created, the
/// deletes not yet made): the backup on disk is enough for `--undo` to make the server's
/// state what it was before the push. The held write is dropped unserved.
#[test]
fn backups_an_undo_after_the_push_was_killed_half_way_restores_the_state_before() {
    let dir = temp_dir();
    let pushed = edited_league(dir.path());
    let (server, api, before) = (&pushed.server, &pushed.api, &pushed.before);
    let backup = dir.path().join("backup");
    server.inject_path("/api/player/9", 1, Fault::Delay(HELD));

    killed_when(push_with_backup(&pushed, &backup), server, &|| {
        server.held() == 1 && server.get("/api/team/3").is_some() && records_a(&backup, "team")
    });

    let half_way = server.resources();
    assert!(half_way.contains_key("/api/team/3"));
    assert!(
        !half_way.contains_key("/api/player/9"),
        "the held write was served"
    );
    assert!(
        half_way.contains_key("/api/player/4") && half_way.contains_key("/api/stat/4"),
        "deletes come after every write"
    );
    let (destination, ..) = record_of(&backup);
    assert_eq!(destination, *api);
    assert_eq!(list_files(&backup), edited_copies());

    // Player 9, recorded before it was sent but never made, is not asked to be deleted.
    server.clear_log();
    let undone = undo(&backup, api, &[]).ok();
    assert_eq!(server.resources(), *before, "{}", undone.stderr);
    assert!(
        !writes(server).contains(&"DELETE /api/player/9".to_string()),
        "{:?}",
        writes(server)
    );
}

/// SIGKILL after the server made the create of player 9 but before it answered: the
/// run never learnt of it, yet the record lists it (a create whose target is known is
/// recorded before it is sent), so `--undo` deletes it and the server's state is what it
/// was before the push.
#[test]
fn backups_an_undo_after_a_kill_deletes_a_create_whose_answer_never_came() {
    let dir = temp_dir();
    let pushed = edited_league(dir.path());
    let (server, api, before) = (&pushed.server, &pushed.api, &pushed.before);
    let backup = dir.path().join("backup");
    server.inject_path("/api/player/9", 1, Fault::AnswerLate(HELD));

    killed_when(push_with_backup(&pushed, &backup), server, &|| {
        server.held() == 1 && server.get("/api/player/9").is_some()
    });
    let recorded: Vec<String> = record_of(&backup).2.into_iter().map(|(.., t)| t).collect();
    assert!(
        recorded.contains(&server.url("/api/player/9")),
        "the create made but never answered is not in the record: {recorded:?}"
    );

    let undone = undo(&backup, api, &[]).ok();
    assert_eq!(server.resources(), *before, "{}", undone.stderr);
}

/// An API that answers 200 to a PUT that creates (as many upserts do): the creates
/// are recorded all the same (the destination held nothing there), and `--undo` deletes
/// them.
#[test]
fn backups_record_creates_an_api_answers_200_to() {
    let dir = temp_dir();
    let server = seeded_server(
        ServerConfig {
            put_created_status: 200,
            ..ServerConfig::default()
        },
        2,
        2,
    );
    let api = server.url("/api");
    let before = server.resources();
    let tree = dir.path().join("tree");
    pull(&api, &tree);
    edit(&tree, &server.base_url());
    let backup = dir.path().join("backup");
    let (tree_arg, backup_arg) = (path_str(&tree), path_str(&backup));

    run_limited(&["-c", "--rm", "--backup", backup_arg, tree_arg, &api]).ok();
    assert_pushed(&server, &before);
    let (_, _, created) = record_of(&backup);
    assert_eq!(created, created_on(&server, &[("team", 3), ("player", 9)]));

    let undone = undo(&backup, &api, &[]).ok();
    assert_eq!(server.resources(), before, "{}", undone.stderr);
}

/// A tree as resource-sync writes it, pulled from `server` into `dir/name`.
fn pulled_tree(server: &TestServer, dir: &Path, name: &str) -> PathBuf {
    let tree = dir.join(name);
    pull(&server.url("/api"), &tree);
    tree
}

/// Every file below `root` with its bytes, the tree's origin record included.
fn all_bytes(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = file_contents(root);
    if let Ok(bytes) = std::fs::read(root.join(ORIGIN_RECORD)) {
        files.insert(ORIGIN_RECORD.to_string(), bytes);
    }
    files
}

/// A directory destination: the push replaces, adds and (with `--rm`) removes files;
/// the backup holds the replaced and removed ones byte for byte and the record the added
/// ones; `--undo` (given the folder spelled another way) leaves every file of the
/// destination byte for byte as before the push, files written by hand (a comment, flow
/// style) included.
#[test]
fn backups_an_undo_puts_a_directory_back_byte_for_byte() {
    let server = league();
    let dir = temp_dir();
    let dest = pulled_tree(&server, dir.path(), "dest");
    write_file(&dest.join("notes.txt"), "the user's own notes\n");
    for (file, path) in [
        ("team/1.yaml", "/api/team/1"),
        ("stat/4.yaml", "/api/stat/4"),
    ] {
        let body = server.get(path).expect("seeded");
        let by_hand = format!("# kept by hand\n{}", yaml_documents(&[body]));
        write_file(&dest.join(file), &by_hand);
    }
    let origin = pulled_tree(&server, dir.path(), "origin");
    edit(&origin, &server.base_url());
    let before = all_bytes(&dest);
    let backup = dir.path().join("backup");
    let (origin_arg, dest_arg) = (path_str(&origin), path_str(&dest));

    run_limited(&["--rm", "--backup", path_str(&backup), origin_arg, dest_arg]).ok();
    let mut expected = list_files(&origin);
    expected.push("notes.txt".to_string());
    expected.sort();
    assert_eq!(
        list_files(&dest),
        expected,
        "the push did not make the origin's files"
    );
    assert!(read(&dest.join("team/1.yaml")).contains("Renamed 1"));
    assert_eq!(list_files(&backup), edited_copies());
    for copy in [
        "team/1.yaml",
        "player/2.yaml",
        "player/4.yaml",
        "stat/4.yaml",
    ] {
        assert_eq!(
            std::fs::read(backup.join(copy)).expect("a copy"),
            before[copy],
            "{copy} is not the destination's file byte for byte"
        );
    }
    let (destination, _, created) = record_of(&backup);
    assert_eq!(destination, dest_arg);
    let mut created: Vec<String> = created.into_iter().map(|(.., target)| target).collect();
    created.sort();
    assert_eq!(
        created,
        [
            dest.join("player/9.yaml").display().to_string(),
            dest.join("team/3.yaml").display().to_string(),
        ]
    );

    let plan = undo(&backup, dest_arg, &["--dry-run"]).ok();
    assert_eq!(
        sorted_lines(&plan.stdout),
        sorted_strings(&[
            format!("delete {}", dest.join("player/9.yaml").display()),
            format!("delete {}", dest.join("team/3.yaml").display()),
            format!("update {}", dest.join("team/1.yaml").display()),
            format!("update {}", dest.join("player/2.yaml").display()),
            format!("create {}", dest.join("player/4.yaml").display()),
            format!("create {}", dest.join("stat/4.yaml").display()),
        ])
    );
    assert!(dest.join("team/3.yaml").is_file(), "a preview deleted");

    let undone = undo(&backup, &format!("{dest_arg}/"), &[]).ok();
    assert_eq!(all_bytes(&dest), before, "{}", undone.stderr);
}

/// A single-file destination: the backup holds its old content byte for byte and
/// `--undo` writes it back whole; a file the push made is recorded as created and removed
/// by the undo.
#[test]
fn backups_an_undo_puts_a_single_file_back_whole() {
    let server = league();
    let dir = temp_dir();
    let file = dir.path().join("league.yaml");
    run_limited(&["-c", "-l", "50", &server.url("/api"), path_str(&file)]).ok();
    let before = std::fs::read(&file).expect("the pulled file");
    let origin = pulled_tree(&server, dir.path(), "origin");
    edit(&origin, &server.base_url());
    let backup = dir.path().join("backup");

    run_limited(&[
        "--rm",
        "--backup",
        path_str(&backup),
        path_str(&origin),
        path_str(&file),
    ])
    .ok();
    assert_ne!(
        std::fs::read(&file).unwrap(),
        before,
        "the push wrote nothing"
    );
    assert_eq!(list_files(&backup), [RECORD, "league.yaml"]);
    assert_eq!(std::fs::read(backup.join("league.yaml")).unwrap(), before);
    let (destination, _, created) = record_of(&backup);
    assert_eq!(destination, path_str(&file));
    assert!(created.is_empty(), "{created:?}");

    let pushed = std::fs::read(&file).unwrap();
    let plan = undo(&backup, path_str(&file), &["--dry-run"]).ok();
    assert_eq!(plan.stdout, format!("update {}\n", file.display()));
    assert_eq!(std::fs::read(&file).unwrap(), pushed, "a preview wrote");
    let second = dir.path().join("backup-of-undo");
    undo(&backup, path_str(&file), &["--backup", path_str(&second)]).ok();
    assert_eq!(std::fs::read(&file).unwrap(), before);
    // The undo kept what it replaced: undoing it brings the push's file back.
    assert_eq!(std::fs::read(second.join("league.yaml")).unwrap(), pushed);
    undo(&second, path_str(&file), &[]).ok();
    assert_eq!(std::fs::read(&file).unwrap(), pushed);
    undo(&backup, path_str(&file), &[]).ok();
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // A file the push creates: recorded, and removed by the undo.
    let new_file = dir.path().join("new.json");
    let new_backup = dir.path().join("new-backup");
    let (origin_arg, new_arg) = (path_str(&origin), path_str(&new_file));
    run_limited(&["--backup", path_str(&new_backup), origin_arg, new_arg]).ok();
    assert!(new_file.is_file());
    assert_eq!(list_files(&new_backup), [RECORD]);
    let created: Vec<String> = record_of(&new_backup)
        .2
        .into_iter()
        .map(|(.., target)| target)
        .collect();
    assert_eq!(created, [new_arg]);
    undo(&new_backup, new_arg, &[]).ok();
    assert!(!new_file.exists(), "the undo left the file the push made");
}

/// An undo kept in a backup of its own (`--backup DIR2`), undone in turn: the push's
/// updates and deletes are made again, and the resources the push created, deleted by the
/// first undo (DIR2 keeps the server's copies of them), come back too.
#[test]
fn backups_undoing_an_undo_restores_the_push() {
    let dir = temp_dir();
    let pushed = edited_league(dir.path());
    let (server, api, before) = (&pushed.server, &pushed.api, &pushed.before);
    let backup = dir.path().join("backup");
    let second = dir.path().join("backup-of-undo");
    wait_for(spawn_command(push_with_backup(&pushed, &backup)), RUN_LIMIT).ok();
    let pushed_state = server.resources();

    undo(&backup, api, &["--backup", path_str(&second)]).ok();
    assert_eq!(server.resources(), *before);
    let (destination, _, created) = record_of(&second);
    assert_eq!(destination, *api);
    assert_eq!(
        created.len(),
        2,
        "the recreated player 4 and stat 4: {created:?}"
    );
    assert_eq!(
        list_files(&second),
        sorted_strings(&[
            RECORD,
            "player/2.yaml",
            "player/9.yaml",
            "team/1.yaml",
            "team/3.yaml"
        ])
    );
    for copy in ["team/1", "player/2", "team/3", "player/9"] {
        let kept = parse_yaml(&second.join(format!("{copy}.yaml")));
        assert_eq!(kept, pushed_state[&format!("/api/{copy}")], "{copy}");
    }

    let redone = undo(&second, api, &[]).ok();
    let state = server.resources();
    assert_eq!(state["/api/team/1"]["name"], "Renamed 1");
    assert_eq!(state["/api/player/2"]["name"], "Renamed 2");
    assert!(!state.contains_key("/api/player/4"));
    assert!(!state.contains_key("/api/stat/4"));
    assert_eq!(state, pushed_state, "{}", redone.stderr);
}

/// `--undo` into another destination than the backup's: exit 2 naming both, before any
/// request, so nothing is written anywhere.
#[test]
fn backups_an_undo_into_another_destination_is_refused_naming_both() {
    let dir = temp_dir();
    let pushed = edited_league(dir.path());
    let backup = dir.path().join("backup");
    wait_for(spawn_command(push_with_backup(&pushed, &backup)), RUN_LIMIT).ok();
    let pushed_state = pushed.server.resources();
    pushed.server.clear_log();
    let other = league();
    let other_api = other.url("/api");
    let other_dir = dir.path().join("other");

    for wrong in [other_api.as_str(), path_str(&other_dir)] {
        let refused = undo(&backup, wrong, &[]);
        assert_eq!(refused.code, 2, "{refused:?}");
        for named in [pushed.api.as_str(), wrong] {
            assert!(
                refused.stderr.contains(named),
                "the error does not name {named}:\n{}",
                refused.stderr
            );
        }
        assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());
    assert!(
        pushed.server.requests().is_empty(),
        "{:?}",
        writes(&pushed.server)
    );
    assert_eq!(pushed.server.resources(), pushed_state);
    assert!(!other_dir.exists());
    assert_eq!(list_files(&backup), edited_copies());
}

/// `--backup` where there is nothing to keep or nothing it could keep, or with a folder
/// already holding files: exit 2 naming `--backup`, before any request; the folder is not
/// made (or, holding files, left as it was).
#[test]
fn backups_misused_are_usage_errors_that_make_no_folder() {
    let dir = temp_dir();
    let pushed = edited_league(dir.path());
    let backup = dir.path().join("backup");
    let (tree, api, dir_arg) = (
        path_str(&pushed.tree),
        pushed.api.as_str(),
        path_str(&backup),
    );

    let cases: [&[&str]; 4] = [
        &["--backup", dir_arg, "--dry-run", tree, api],
        &["--backup", dir_arg, tree, "-"],
        &["--backup", dir_arg, tree, "null"],
        &["--backup", dir_arg, "--no-compare", tree, api],
    ];
    for args in cases {
        let refused = run_limited(args);
        assert_eq!(refused.code, 2, "{args:?}: {refused:?}");
        assert!(
            refused.stderr.contains("--backup"),
            "{args:?}: {}",
            refused.stderr
        );
        assert!(refused.stdout.is_empty(), "{args:?}: {}", refused.stdout);
        assert!(!backup.exists(), "{args:?} made the backup folder");
    }

    write_file(&backup.join("earlier/team/1.yaml"), "id: 1\n");
    let held = file_contents(&backup);
    let refused = run_limited(&["-c", "--backup", dir_arg, tree, api]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.stderr.contains("not empty"), "{}", refused.stderr);
    assert_eq!(file_contents(&backup), held);

    // An undo of a folder that holds no backup.
    let refused = undo(&backup, api, &[]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.stderr.contains(RECORD), "{}", refused.stderr);

    assert!(
        pushed.server.requests().is_empty(),
        "{:?}",
        pushed.server.requests()
    );
    assert_eq!(pushed.server.resources(), pushed.before);
}

type Project = ProjectFolder;

/// The entries of `folder`, by name.
fn entries(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap_or_else(|error| panic!("reading {}: {error}", folder.display()))
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into()
        })
        .collect();
    names.sort();
    names
}

/// An environment's `backup: backups`: a run that changes nothing, and a preview, leave
/// no folder; a run that changes something leaves exactly one, `backups/<UTC time>`, with
/// the copy of what it changed; the undo (itself backed up) puts the change back.
#[test]
fn backups_an_environments_backup_folder_gets_a_timestamped_backup_per_changing_run() {
    let server = league();
    let project = Project::new(&format!(
        "environments:\n  staging:\n    url: {}\n    backup: backups\n",
        server.url("/api")
    ));
    let backups = project.join("backups");
    project.run(&["-c", "staging:", "data"], &[]).ok();
    assert!(!backups.exists(), "a pull from staging made a backup");

    let unchanged = project.run(&["-c", "data", "staging:"], &[]).ok();
    assert_eq!(
        summary(&unchanged.stderr).unchanged,
        10,
        "{}",
        unchanged.stderr
    );
    assert!(
        !backups.exists(),
        "a run that changed nothing left {:?}",
        entries(&backups)
    );

    replace_in(&project.join("data/team/1.yaml"), "Team 1", "Renamed 1");
    project
        .run(&["-c", "--dry-run", "data", "staging:"], &[])
        .ok();
    assert!(!backups.exists(), "a preview left {:?}", entries(&backups));

    let before = server.resources();
    let pushed = project.run(&["-c", "data", "staging:"], &[]).ok();
    assert_eq!(summary(&pushed.stderr).updated, 1, "{}", pushed.stderr);
    let made = entries(&backups);
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(is_utc_stamp(&made[0]), "{made:?}");
    let backup = backups.join(&made[0]);
    assert_eq!(list_files(&backup), [RECORD, "team/1.yaml"]);
    assert_eq!(
        parse_yaml(&backup.join("team/1.yaml")),
        before["/api/team/1"]
    );
    let (destination, started, _) = record_of(&backup);
    assert_eq!(destination, server.url("/api"));
    assert!(is_utc_stamp(&started), "{started}");

    // The undo, within the same second or not, is backed up in a folder of its own: here
    // the folders named for the next minute hold another run's backup already.
    let now = chrono::Utc::now();
    let taken: Vec<String> = (0..60)
        .map(|second| (now + chrono::Duration::seconds(second)).format("%Y%m%dT%H%M%SZ"))
        .map(|stamp| stamp.to_string())
        .filter(|stamp| *stamp != made[0])
        .collect();
    for stamp in &taken {
        write_file(&backups.join(stamp).join(RECORD), "another run's\n");
    }
    let undo_arg = format!("backups/{}", made[0]);
    let undone = project
        .run(&["-c", "--undo", &undo_arg, "staging:"], &[])
        .ok();
    assert_eq!(server.resources(), before, "{}", undone.stderr);
    let mut after_undo = entries(&backups);
    after_undo.retain(|name| *name != made[0] && !taken.contains(name));
    assert_eq!(
        after_undo.len(),
        1,
        "the undo kept no backup of its own: {after_undo:?}"
    );
    let (stamp, suffix) = after_undo[0].split_at(16);
    assert!(
        is_utc_stamp(stamp) && (suffix.is_empty() || suffix == "-2"),
        "{after_undo:?}"
    );
    let undo_backup = backups.join(&after_undo[0]);
    assert_eq!(list_files(&undo_backup), [RECORD, "team/1.yaml"]);
    assert!(read(&undo_backup.join("team/1.yaml")).contains("Renamed 1"));
}

/// A destination environment whose `vars` hold a secret: the backup holds the secret as
/// `${KEY}` (no file of it holds the secret's bytes), the environment's site URL as
/// `${SITE}` where a pull writes it (links left as they are), and `--undo` into the
/// environment puts the secret back on the server.
#[test]
fn backups_hold_secrets_as_placeholders_and_an_undo_puts_them_back() {
    const SECRET: &str = "sk-live-SECRET-7781";
    let server = league();
    let base = server.base_url();
    let mut team = server.get("/api/team/1").expect("team 1");
    team["apiKey"] = json!(SECRET);
    team["homepage"] = json!(format!("{base}/teams/1"));
    server.insert(team);
    let project = Project::new(&format!(
        "environments:\n  staging:\n    url: {base}/api\n    vars:\n      KEY: {{env: STAGING_KEY}}\n      SITE: {base}\n"
    ));
    let env = [("STAGING_KEY", SECRET)];
    project.run(&["-c", "staging:", "data"], &env).ok();
    let pulled = read(&project.join("data/team/1.yaml"));
    assert!(
        pulled.contains("${KEY}") && !pulled.contains(SECRET),
        "{pulled}"
    );

    let before = server.resources();
    replace_in(&project.join("data/team/1.yaml"), "Team 1", "Renamed 1");
    let backup = project.join("backup");
    let push = project
        .run(&["-c", "--backup", "backup", "data", "staging:"], &env)
        .ok();
    let team = server.get("/api/team/1").unwrap();
    assert_eq!(
        (&team["name"], &team["apiKey"]),
        (&json!("Renamed 1"), &json!(SECRET))
    );

    assert_eq!(list_files(&backup), [RECORD, "team/1.yaml"]);
    for (file, bytes) in file_contents(&backup) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(SECRET), "{file} holds the secret:\n{text}");
    }
    let copy = parse_yaml(&backup.join("team/1.yaml"));
    assert_eq!(copy["apiKey"], "${KEY}");
    assert_eq!(copy["homepage"], "${SITE}/teams/1");
    assert_eq!(
        copy["_links"], before["/api/team/1"]["_links"],
        "links kept as read"
    );

    // Undone into staging's plain URL, `${KEY}` would be sent as text: refused.
    server.clear_log();
    let by_url = project.run(&["-c", "--undo", "backup", &format!("{base}/api")], &env);
    assert_eq!(by_url.code, 2, "{}", by_url.stderr);
    assert!(by_url.stderr.contains("`staging:`"), "{}", by_url.stderr);
    assert!(writes(&server).is_empty(), "{:?}", writes(&server));

    let undone = project
        .run(&["-c", "--undo", "backup", "staging:"], &env)
        .ok();
    assert_eq!(server.resources(), before, "{}", undone.stderr);
    for run in [&push, &undone] {
        assert_never_printed(run, SECRET);
    }
}

/// `--dry-run --undo`: `delete <target>` for each resource the push created (children
/// first), then the plan of writing the backup back; nothing is written.
#[test]
fn backups_a_dry_run_undo_prints_its_plan_and_writes_nothing() {
    let dir = temp_dir();
    let pushed = edited_league(dir.path());
    let (server, api) = (&pushed.server, &pushed.api);
    let backup = dir.path().join("backup");
    wait_for(spawn_command(push_with_backup(&pushed, &backup)), RUN_LIMIT).ok();
    let pushed_state = server.resources();
    server.clear_log();

    let plan = undo(&backup, api, &["--dry-run"]).ok();
    let lines: Vec<&str> = plan.stdout.lines().collect();
    assert_eq!(
        lines[..2],
        [
            format!("delete {api}/player/9"),
            format!("delete {api}/team/3"),
        ],
        "{}",
        plan.stdout
    );
    assert_eq!(
        sorted_strings(&lines[2..]),
        sorted_strings(&[
            format!("update {api}/team/1"),
            format!("update {api}/player/2"),
            format!("create {api}/player/4"),
            format!("create {api}/stat/4"),
        ]),
        "{}",
        plan.stdout
    );
    assert_eq!(writes(server), Vec::<String>::new());
    assert_eq!(server.resources(), pushed_state);
    let counts = summary(&plan.stderr);
    assert_eq!(
        (counts.created, counts.updated, counts.deleted),
        (2, 2, 2),
        "{}",
        plan.stderr
    );
}

/// A plain-JSON API (Django REST framework style pages) with 3 teams of 2 players and a
/// stat each, and its profile with `create: put`.
fn plain_league(dir: &Path) -> (PlainServer, PathBuf) {
    let mut config = PlainConfig::new(
        Envelope::Results,
        Pagination::BodyNext { object_href: false },
    )
    .seeded(3, 2);
    config.size_param = Some("page_size".to_string());
    let profile = dir.join("api.yaml");
    write_file(
        &profile,
        "records: results\nnext: body:next\nsize: page_size\nreadonly: [created]\ntypes:\n  team:\n    path: teams/\n  player:\n    path: players/\n    parents: {team: team}\n  stat:\n    path: stats/\n    parents: {player: player}\n",
    );
    (PlainServer::start(config), profile)
}

fn plain_state(server: &PlainServer) -> BTreeMap<String, Vec<Value>> {
    ["teams", "players", "stats"]
        .into_iter()
        .map(|name| (name.to_string(), server.collection(name)))
        .collect()
}

/// Every member without its server-owned `created` stamp.
fn unstamped(mut state: BTreeMap<String, Vec<Value>>) -> BTreeMap<String, Vec<Value>> {
    for member in state.values_mut().flatten() {
        member.as_object_mut().expect("an object").remove("created");
    }
    state
}

/// A profile destination (plain JSON, `create: put`): the backup holds each member as
/// the API returned it, and the undo puts the API back. The server stamps `created` on
/// each member it makes, so the members the undo makes again carry new stamps; everything
/// else is as before.
#[test]
fn backups_an_undo_puts_a_profile_api_back() {
    let dir = temp_dir();
    let (server, profile) = plain_league(dir.path());
    let api = server.url("/api");
    let tree = dir.path().join("tree");
    let profile_arg = path_str(&profile);
    run_limited(&["--api", profile_arg, &api, path_str(&tree)]).ok();
    let before = plain_state(&server);
    replace_in(&tree.join("team/2.yaml"), "City 2", "Town 2");
    write_file(
        &tree.join("team/4.yaml"),
        "id: 4\nname: Team 4\ncity: City 4\n",
    );
    std::fs::remove_file(tree.join("stat/6.yaml")).expect("stat 6 was pulled");
    let backup = dir.path().join("backup");

    let push = run_limited(&[
        "--api",
        profile_arg,
        "--rm",
        "--backup",
        path_str(&backup),
        path_str(&tree),
        &api,
    ])
    .ok();
    let counts = summary(&push.stderr);
    assert_eq!(
        (counts.created, counts.updated, counts.deleted),
        (1, 1, 1),
        "{}",
        push.stderr
    );
    assert_eq!(list_files(&backup), [RECORD, "stat/6.yaml", "team/2.yaml"]);
    assert_eq!(
        parse_yaml(&backup.join("team/2.yaml")),
        server_member(&before, "teams", 2)
    );
    assert_eq!(
        parse_yaml(&backup.join("stat/6.yaml")),
        server_member(&before, "stats", 6)
    );
    let (_, _, created) = record_of(&backup);
    assert_eq!(
        created,
        [("team".to_string(), json!(4), format!("{api}/teams/4/"))]
    );

    let undone = run_limited(&["--api", profile_arg, "--undo", path_str(&backup), &api]).ok();
    let after = plain_state(&server);
    assert_eq!(
        unstamped(after.clone()),
        unstamped(before.clone()),
        "{}",
        undone.stderr
    );
    for (collection, members) in &before {
        for member in members {
            if member["id"] != 6 || collection != "stats" {
                let id = member["id"].as_u64().unwrap();
                assert_eq!(&server_member(&after, collection, id), member);
            }
        }
    }
}

fn server_member(state: &BTreeMap<String, Vec<Value>>, collection: &str, id: u64) -> Value {
    state[collection]
        .iter()
        .find(|member| member["id"] == id)
        .unwrap_or_else(|| panic!("no {collection} {id}"))
        .clone()
}

/// An undo into an API that assigns ids (`create: post`): what the push deleted comes back
/// under new ids, each named (`recreated <old> as <new>`), its dependents' parent fields
/// pointing at the new ids.
#[test]
fn backups_an_undo_into_an_api_assigning_ids_names_what_it_recreates() {
    let dir = temp_dir();
    let (server, _) = plain_league(dir.path());
    let profile = dir.path().join("post.yaml");
    write_file(
        &profile,
        "records: results\nnext: body:next\nsize: page_size\nreadonly: [created]\ncreate: post\ntypes:\n  team:\n    path: teams/\n    key: [name]\n  player:\n    path: players/\n    parents: {team: team}\n    key: [name, team]\n  stat:\n    path: stats/\n    parents: {player: player}\n    key: [player]\n",
    );
    let (api, profile_arg) = (server.url("/api"), path_str(&profile));
    let tree = dir.path().join("tree");
    run_limited(&["--api", profile_arg, &api, path_str(&tree)]).ok();
    let team_3 = server_member(&plain_state(&server), "teams", 1);
    let players_of_3: Vec<Value> = plain_state(&server)["players"]
        .iter()
        .filter(|player| player["team"] == 1)
        .cloned()
        .collect();
    assert!(!players_of_3.is_empty(), "the seed gives team 1 players");
    std::fs::remove_file(tree.join("team/1.yaml")).expect("team 1 was pulled");
    for player in &players_of_3 {
        let id = player["id"].as_u64().unwrap();
        std::fs::remove_file(tree.join(format!("player/{id}.yaml"))).expect("pulled");
        let _ = std::fs::remove_file(tree.join(format!("stat/{id}.yaml")));
    }
    let backup = dir.path().join("backup");
    let push = ["--api", profile_arg, "--rm", "--backup", path_str(&backup)];
    let mut args = push.to_vec();
    args.extend([path_str(&tree), api.as_str()]);
    run_limited(&args).ok();
    assert!(plain_state(&server)["teams"].iter().all(|t| t["id"] != 1));

    let undone = run_limited(&["--api", profile_arg, "--undo", path_str(&backup), &api]).ok();
    let after = plain_state(&server);
    let team = after["teams"]
        .iter()
        .find(|t| t["name"] == team_3["name"])
        .unwrap_or_else(|| panic!("team 1 not made again: {}", undone.stderr));
    let new_id = team["id"].as_u64().unwrap();
    assert_ne!(new_id, 1, "a server assigning ids gives a new one");
    let named = format!("recreated {api}/teams/1/ as {api}/teams/{new_id}/");
    assert!(undone.stderr.contains(&named), "{named}\n{}", undone.stderr);
    for player in &players_of_3 {
        let again = after["players"]
            .iter()
            .find(|p| p["name"] == player["name"])
            .unwrap_or_else(|| panic!("{player} not made again"));
        assert_eq!(
            again["team"],
            json!(new_id),
            "the parent field follows the new id"
        );
    }
}

/// A destination whose listing leaves a field out (a summary): the comparison did not see
/// the whole resource, so its copy is read at its URL before it is overwritten, and the
/// backup holds what the destination really held.
#[test]
fn backups_keep_the_whole_copy_where_the_listing_left_fields_out() {
    let dir = temp_dir();
    let full = league();
    let tree = dir.path().join("tree");
    pull(&full.url("/api"), &tree);
    replace_in(&tree.join("team/1.yaml"), "Team 1", "Renamed 1");
    let summary = ServerConfig {
        listing_omits: Some("name".to_string()),
        ..ServerConfig::default()
    };
    let destination = seeded_server(summary, 2, 2);
    let api = destination.url("/api");
    let listed = destination.get("/api/team/1").expect("team 1");
    assert_eq!(listed["name"], "Team 1", "the member itself is whole");
    let backup = dir.path().join("backup");

    run_limited(&["--backup", path_str(&backup), path_str(&tree), &api]).ok();
    let copy = parse_yaml(&backup.join("team/1.yaml"));
    assert_eq!(
        copy["name"], "Team 1",
        "the copy lacks what the listing left out"
    );
    assert_eq!(destination.get("/api/team/1").unwrap()["name"], "Renamed 1");
    let gets: Vec<String> = destination
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.path_and_query.clone())
        .collect();
    assert!(gets.iter().any(|path| path == "/api/team/1"), "{gets:?}");

    undo(&backup, &api, &[]).ok();
    assert_eq!(destination.get("/api/team/1").unwrap()["name"], "Team 1");
}

/// SIGTERM while the server holds the create of player 9: the write in flight finishes
/// and is recorded, no new write starts (no delete is made), the run exits 143, and the
/// backup is complete: `--undo` makes the server's state what it was before the push.
#[test]
fn backups_are_complete_after_sigterm_and_undo_restores_the_state_before() {
    let dir = temp_dir();
    let pushed = edited_league(dir.path());
    let (server, api, before) = (&pushed.server, &pushed.api, &pushed.before);
    let backup = dir.path().join("backup");
    server.inject_path("/api/player/9", 1, Fault::Delay(Duration::from_secs(2)));

    let stopped = signalled_when(push_with_backup(&pushed, &backup), "TERM", &|| {
        server.held() == 1 && records_a(&backup, "team")
    });
    assert_eq!(stopped.code, 143, "{stopped:?}");

    let after_term = server.resources();
    assert!(
        after_term.contains_key("/api/player/9"),
        "the write in flight finished"
    );
    assert!(
        after_term.contains_key("/api/player/4"),
        "no delete is made once stopped"
    );
    assert!(
        records_a(&backup, "player"),
        "player 9's create is recorded"
    );
    assert_eq!(list_files(&backup), edited_copies());
    let undone = undo(&backup, api, &[]).ok();
    assert_eq!(server.resources(), *before, "{}", undone.stderr);
}
