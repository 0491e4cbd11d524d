//! Writing to HTTP with an `--api FILE` profile (SPEC section 8, with section 5's
//! `--dry-run`, `--exit-code`, `--verify` and `--rm`): `create: post` clones that learn the
//! destination's ids and rewrite parent fields, `create: put` / `update: patch`, `send_id`,
//! `readonly`, `--id-map`, natural keys, duplicate keys; against the plain-JSON test API, the
//! real Django REST framework / JSON:API service and json-server. Reads are in
//! `profiles_read.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::json_server::{http_get, require_json_server, JsonServer};
use super::profiles_common::*;
use crate::server::django::{require_django, DjangoServer};
use crate::server::plain::{Envelope, Pagination, PlainConfig, PlainServer};
use crate::util::*;

// --- helpers -------------------------------------------------------------------------------

/// A DRF-like plain server (`{"count", "next", "results"}`, next page URL in the body, page
/// size from `page_size`, 5 without it); seeded with 3 teams, 2 players each, one stat each
/// when `seeded`.
fn drf_like(seeded: bool) -> PlainServer {
    let mut config = PlainConfig::new(
        Envelope::Results,
        Pagination::BodyNext { object_href: false },
    );
    config.size_param = Some("page_size".to_string());
    config.page_size = 5;
    if seeded {
        config = config.seeded(3, 2);
    }
    PlainServer::start(config)
}

/// Members the origin does not have: team 10, its player 20, that player's stat 30. Ids
/// the destination assigns after them are 11.., 21.., 31.., never the origin's.
fn add_strangers(server: &PlainServer) {
    insert_team(server, 10, "Strangers", "Nowhere");
    server.insert("players", json!({"id": 20, "name": "Stranger", "team": 10}));
    server.insert("stats", json!({"id": 30, "points": 1, "player": 20}));
}

/// A profile of the plain API: `settings` (top-level lines, each ending in a newline), then
/// the three flat types with `team`, `player` and `stat` (lines indented by 4, each ending
/// in a newline) added to each.
fn profile_text(settings: &str, team: &str, player: &str, stat: &str) -> String {
    format!(
        "records: results\nnext: body:next\nsize: page_size\nreadonly: [created]\n{settings}types:\n  team:\n    path: teams/\n{team}  player:\n    path: players/\n    parents: {{team: team}}\n{player}  stat:\n    path: stats/\n    parents: {{player: player}}\n{stat}"
    )
}

fn write_profile(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    write_file(&path, text);
    path
}

/// Pulls `server` with `profile` into `dir/tree`; returns the tree.
fn pull_tree(server: &PlainServer, profile: &Path, dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    let api = server.url("/api");
    let run = run(&["--api", path_str(profile), &api, path_str(&tree)]).ok();
    assert_eq!(list_files(&tree).len(), 15, "{}", run.stderr);
    tree
}

/// A destination with nothing but `add_strangers`' members.
fn strangers() -> PlainServer {
    let destination = drf_like(false);
    add_strangers(&destination);
    destination
}

/// The `create: post` profile with nothing else.
fn post_text() -> String {
    profile_text("create: post\n", "", "", "")
}

/// The `create: post` profile with teams keyed by name and players by name and team.
fn keyed_text() -> String {
    profile_text(
        "create: post\n",
        "    key: [name]\n",
        "    key: [name, team]\n",
        "",
    )
}

/// A new temporary directory with `text` written in it as `name`, and `origin` pulled with
/// that profile into its `tree`: (the directory, the profile, the tree).
fn pulled(origin: &PlainServer, name: &str, text: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = temp_dir();
    let profile = write_profile(dir.path(), name, text);
    let tree = pull_tree(origin, &profile, dir.path());
    (dir, profile, tree)
}

/// What a clone test works with: (destination, dir, profile, tree, map, api).
type Cloned = (
    PlainServer,
    tempfile::TempDir,
    PathBuf,
    PathBuf,
    PathBuf,
    String,
);

/// The seeded origin pulled with the profile `text`, written as `name`, into `tree` in a
/// new temporary directory `dir`, for pushing to `destination` at `api` with `map` as the
/// id map. The origin is not needed after the pull.
fn clone_with(destination: PlainServer, name: &str, text: &str) -> Cloned {
    let origin = drf_like(true);
    let (dir, profile, tree) = pulled(&origin, name, text);
    let map = dir.path().join("ids.yaml");
    let api = destination.url("/api");
    (destination, dir, profile, tree, map, api)
}

/// The usual clone: `post_text()` as `post.yaml`, a destination with `add_strangers`'
/// members.
fn post_clone() -> Cloned {
    clone_with(strangers(), "post.yaml", &post_text())
}

/// `post_clone()` pushed once with its map, then `from` replaced by `to` in the tree's
/// `file` and the destination's request log cleared: the same six.
fn cloned_then_edited(file: &str, from: &str, to: &str) -> Cloned {
    let (destination, dir, profile, tree, map, api) = post_clone();
    push_mapped(&profile, &map, &tree, &api).ok();
    replace_in_file(&tree.join(file), from, to);
    destination.clear_log();
    (destination, dir, profile, tree, map, api)
}

/// `resource-sync --api PROFILE EXTRA... ORIGIN DESTINATION`.
fn push(profile: &Path, extra: &[&str], origin: &str, destination: &str) -> Run {
    let mut args = vec!["--api", path_str(profile)];
    args.extend_from_slice(extra);
    args.push(origin);
    args.push(destination);
    run(&args)
}

/// The server holds `[teams, players, stats]` members.
fn assert_sizes(server: &PlainServer, sizes: [usize; 3]) {
    let found = ["teams", "players", "stats"].map(|collection| server.collection(collection).len());
    assert_eq!(found, sizes);
}

/// Team 1 (id 10) with a Player 3 (id 20) in it; the origin's Player 3 is in Team 2.
fn add_player3_in_team1(server: &PlainServer) {
    insert_team(server, 10, "Team 1", "City 1");
    server.insert("players", json!({"id": 20, "name": "Player 3", "team": 10}));
}

/// `METHOD path` of every write the server saw (POST, PUT, PATCH, DELETE), in order.
fn writes(server: &PlainServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter(|request| request.method != "GET" && request.method != "OPTIONS")
        .map(|request| format!("{} {}", request.method, request.path_and_query))
        .collect()
}

/// `push` with `--id-map MAP` alone.
fn push_mapped(profile: &Path, map: &Path, tree: &Path, api: &str) -> Run {
    push_mapped_with(profile, map, &[], tree, api)
}

/// `push` with `extra` and then `--id-map MAP`.
fn push_mapped_with(profile: &Path, map: &Path, extra: &[&str], tree: &Path, api: &str) -> Run {
    let mut args = extra.to_vec();
    args.extend(["--id-map", path_str(map)]);
    push(profile, &args, path_str(tree), api)
}

/// The server saw exactly the writes `expected` (see `writes`) during `run`.
fn assert_writes(server: &PlainServer, expected: Vec<String>, run: &Run) {
    assert_eq!(writes(server), expected, "{}", run.stderr);
}

/// The server saw no write during `run`.
fn assert_no_writes(server: &PlainServer, run: &Run) {
    assert_writes(server, Vec::new(), run);
}

/// A field's value as text (`14` and `"14"` alike).
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The id of the only member of `collection` whose `field` is `value`.
fn id_where(server: &PlainServer, collection: &str, field: &str, value: &Value) -> u64 {
    let found: Vec<u64> = server
        .collection(collection)
        .iter()
        .filter(|member| &member[field] == value)
        .map(|member| member["id"].as_u64().expect("an integer id"))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{collection} with {field} = {value}: {:?}",
        server.collection(collection)
    );
    found[0]
}

/// Points of the seeded stat of player `j` (unique for j = 1..=6).
fn points_of(player: u64) -> u64 {
    (player * 7) % 30
}

/// The seeded origin's 15 resources are at the destination under the destination's ids:
/// every team by name, every player by name pointing at its team's new id (a number), every
/// stat by points pointing at its player's new id (a number).
fn assert_cloned(destination: &PlainServer) {
    for team in 1..=3u64 {
        let id = id_where(destination, "teams", "name", &json!(format!("Team {team}")));
        let member = destination.member("teams", id).unwrap();
        assert_eq!(member["city"], format!("City {team}"));
    }
    for player in 1..=6u64 {
        let id = id_where(
            destination,
            "players",
            "name",
            &json!(format!("Player {player}")),
        );
        let member = destination.member("players", id).unwrap();
        let team = (player - 1) / 2 + 1;
        let team_id = id_where(destination, "teams", "name", &json!(format!("Team {team}")));
        assert_eq!(member["team"], json!(team_id), "player {player}: {member}");
        let stat = id_where(destination, "stats", "points", &json!(points_of(player)));
        let stat = destination.member("stats", stat).unwrap();
        assert_eq!(stat["player"], json!(id), "stat of player {player}: {stat}");
    }
}

fn replace_in_file(path: &Path, from: &str, to: &str) {
    let old = read(path);
    assert!(
        old.contains(from),
        "{} lacks {from:?}:\n{old}",
        path.display()
    );
    write_file(path, &old.replacen(from, to, 1));
}

// --- 1. create: post from a pulled tree ------------------------------------------------------

#[test]
fn profile_write_post_clone_learns_ids_rewrites_parents_and_reruns_write_nothing() {
    let (destination, dir, profile, tree, map, api) = post_clone();

    let first = push_mapped(&profile, &map, &tree, &api).ok();
    let counts = summary(&first.stderr);
    assert_eq!(
        (
            counts.created,
            counts.updated,
            counts.failed,
            counts.skipped
        ),
        (15, 0, 0, 0),
        "{}",
        first.stderr
    );
    assert_sizes(&destination, [4, 7, 7]);
    assert_cloned(&destination);

    // POSTs to the collections, parents first, without the id and the readonly `created`.
    let posts: Vec<_> = destination
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST")
        .collect();
    let mut paths: Vec<&str> = posts.iter().map(|request| request.path()).collect();
    paths.sort();
    let mut expected = vec!["/api/players/"; 6];
    expected.extend(["/api/stats/"; 6]);
    expected.extend(["/api/teams/"; 3]);
    assert_eq!(paths, expected, "{}", first.stderr);
    // Parents first: each POST naming a parent comes after the POST that created it.
    let position = |collection: &str, field: &str, value: &Value| -> usize {
        posts
            .iter()
            .position(|request| {
                request.path() == format!("/api/{collection}/")
                    && request.body.as_ref().unwrap()[field] == *value
            })
            .unwrap_or_else(|| panic!("no POST of {collection} with {field} = {value}"))
    };
    for player in 1..=6u64 {
        let name = json!(format!("Player {player}"));
        let team = format!("Team {}", (player - 1) / 2 + 1);
        assert!(
            position("teams", "name", &json!(team)) < position("players", "name", &name),
            "player {player}"
        );
        assert!(
            position("players", "name", &name)
                < position("stats", "points", &json!(points_of(player))),
            "stat of player {player}"
        );
    }
    for request in &posts {
        let body = request.body.as_ref().expect("a POST body");
        let keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
        let want: Vec<&str> = match request.path() {
            "/api/teams/" => vec!["city", "name"],
            "/api/players/" => vec!["name", "team"],
            _ => vec!["player", "points"],
        };
        assert_eq!(keys, want, "POST {}: {body}", request.path());
    }
    assert_eq!(writes(&destination).len(), 15, "{:?}", writes(&destination));

    // The id map: origin item path -> destination item URL, one per resource.
    let map_text = read(&map);
    assert_eq!(map_text.lines().count(), 15, "{map_text}");
    let team2 = id_where(&destination, "teams", "name", &json!("Team 2"));
    // Item paths on both sides (SPEC 8: "mapping item paths"), sorted (SPEC 6).
    let line = format!("teams/2/: teams/{team2}/");
    assert_eq!(
        map_text.lines().collect::<Vec<_>>(),
        sorted_lines(&map_text),
        "{map_text}"
    );
    assert!(
        map_text.lines().any(|l| l.trim_matches('\'') == line
            || l.replace('\'', "") == line
            || l.replace('"', "") == line),
        "{line:?} not in:\n{map_text}"
    );

    // Same run with the map: nothing written, everything unchanged.
    destination.clear_log();
    let second = push_mapped(&profile, &map, &tree, &api).ok();
    assert_no_writes(&destination, &second);
    let counts = summary(&second.stderr);
    assert_eq!(
        (
            counts.created,
            counts.updated,
            counts.unchanged,
            counts.failed
        ),
        (0, 0, 15, 0),
        "{}",
        second.stderr
    );

    // Without the map, natural keys on teams and players (the player's key holds its parent
    // field, compared after mapping): only the stats, which have no key, are created again.
    let keyed = write_profile(
        dir.path(),
        "keyed.yaml",
        &profile_text(
            "create: post\n",
            "    key: [name]\n",
            "    key: [name, team]\n",
            "",
        ),
    );
    destination.clear_log();
    let third = push(&keyed, &[], path_str(&tree), &api).ok();
    assert_writes(
        &destination,
        vec!["POST /api/stats/".to_string(); 6],
        &third,
    );
    let counts = summary(&third.stderr);
    assert_eq!(
        (
            counts.created,
            counts.updated,
            counts.unchanged,
            counts.failed
        ),
        (6, 0, 9, 0),
        "{}",
        third.stderr
    );
    // The new stats point at the players the keys found.
    for player in 1..=6u64 {
        let player_id = id_where(
            &destination,
            "players",
            "name",
            &json!(format!("Player {player}")),
        );
        let stats: Vec<Value> = destination
            .collection("stats")
            .into_iter()
            .filter(|stat| stat["points"] == json!(points_of(player)))
            .collect();
        assert_eq!(stats.len(), 2, "{stats:?}");
        assert!(stats.iter().all(|stat| stat["player"] == json!(player_id)));
    }
}

// --- 2. create: put, update: patch ---------------------------------------------------------

#[test]
fn profile_write_put_uses_origin_ids_and_sends_only_changes() {
    let origin = drf_like(true);
    let destination = drf_like(false);
    let (dir, profile, tree) = pulled(&origin, "put.yaml", &profile_text("", "", "", ""));
    let api = destination.url("/api");

    let first = push(&profile, &[], path_str(&tree), &api).ok();
    let mut puts = destination.paths("PUT");
    puts.sort();
    let expected = seeded_paths("/api/", ["teams", "players", "stats"], "/");
    assert_eq!(puts, expected, "{}", first.stderr);
    assert_eq!(destination.count("POST"), 0);
    assert_eq!(destination.count("PATCH"), 0);
    for request in destination.requests() {
        if request.method == "PUT" {
            let body = request.body.as_ref().expect("a PUT body");
            assert!(body.get("created").is_none(), "readonly sent: {body}");
        }
    }
    let counts = summary(&first.stderr);
    assert_eq!((counts.created, counts.failed), (15, 0), "{}", first.stderr);
    for (collection, count) in [("teams", 3), ("players", 6), ("stats", 6)] {
        for id in 1..=count {
            let mut want = origin.member(collection, id).unwrap();
            let mut got = destination.member(collection, id).unwrap();
            want.as_object_mut().unwrap().remove("created");
            got.as_object_mut().unwrap().remove("created");
            assert_eq!(got, want, "{collection} {id}");
        }
    }

    // A rerun sends nothing.
    destination.clear_log();
    let second = push(&profile, &[], path_str(&tree), &api).ok();
    assert_no_writes(&destination, &second);
    assert_eq!(summary(&second.stderr).unchanged, 15, "{}", second.stderr);

    // One field changed in one file: exactly one PUT.
    replace_in_file(&tree.join("team/2.yaml"), "City 2", "Town 2");
    destination.clear_log();
    let third = push(&profile, &[], path_str(&tree), &api).ok();
    assert_writes(&destination, vec!["PUT /api/teams/2/".to_string()], &third);
    let counts = summary(&third.stderr);
    assert_eq!(
        (counts.created, counts.updated, counts.unchanged),
        (0, 1, 14),
        "{}",
        third.stderr
    );
    assert_eq!(destination.member("teams", 2).unwrap()["city"], "Town 2");

    // With `update: patch`: PATCH instead.
    let patch = write_profile(
        dir.path(),
        "patch.yaml",
        &profile_text("update: patch\n", "", "", ""),
    );
    replace_in_file(&tree.join("player/3.yaml"), "Player 3", "Player Three");
    destination.clear_log();
    let fourth = push(&patch, &[], path_str(&tree), &api).ok();
    assert_writes(
        &destination,
        vec!["PATCH /api/players/3/".to_string()],
        &fourth,
    );
    let body = destination
        .requests()
        .into_iter()
        .find(|request| request.method == "PATCH")
        .unwrap()
        .body
        .unwrap();
    assert_eq!(body["name"], "Player Three");
    assert!(body.get("created").is_none(), "{body}");
    assert_eq!(
        destination.member("players", 3).unwrap()["name"],
        "Player Three"
    );
}

// --- 3. send_id ----------------------------------------------------------------------------

#[test]
fn profile_write_send_id_puts_the_id_in_the_post_body_of_that_type_only() {
    let (destination, _dir, profile, tree, _map, api) = clone_with(
        strangers(),
        "send_id.yaml",
        &profile_text("create: post\n", "    send_id: true\n", "", ""),
    );
    let run = push(&profile, &[], path_str(&tree), &api).ok();
    let mut team_ids: Vec<Value> = Vec::new();
    for request in destination.requests() {
        if request.method != "POST" {
            continue;
        }
        let body = request.body.expect("a POST body");
        if request.path_and_query == "/api/teams/" {
            team_ids.push(body["id"].clone());
            assert!(body.get("created").is_none(), "{body}");
        } else {
            assert!(
                body.get("id").is_none(),
                "{}: {body}",
                request.path_and_query
            );
        }
    }
    team_ids.sort_by_key(text);
    assert_eq!(
        team_ids,
        vec![json!(1), json!(2), json!(3)],
        "{}",
        run.stderr
    );
    // The server chose its own ids anyway (it ignores a sent id): parents still remapped.
    assert_cloned(&destination);
}

// --- 4. --dry-run and --exit-code ----------------------------------------------------------

#[test]
fn profile_write_dry_run_plans_what_the_run_does_and_exit_code_reports_drift() {
    let (destination, _dir, profile, tree, map, api) = post_clone();
    let base = destination.base_url();
    let args = ["--exit-code", "--id-map", path_str(&map)];
    let dry: Vec<&str> = ["--dry-run"].iter().chain(args.iter()).copied().collect();

    let plan = push(&profile, &dry, path_str(&tree), &api).expect_code(3);
    assert_no_writes(&destination, &plan);
    let mut expected: Vec<String> = Vec::new();
    for (collection, count) in [("teams", 3), ("players", 6), ("stats", 6)] {
        for id in 1..=count {
            expected.push(format!(
                "create {base}/api/{collection}/ (from {collection}/{id}/)"
            ));
        }
    }
    assert_eq!(
        sorted_lines(&plan.stdout),
        sorted_strings(&expected),
        "{}",
        plan.stderr
    );
    let planned = summary(&plan.stderr);

    let real = push(&profile, &args, path_str(&tree), &api).expect_code(3);
    let done = summary(&real.stderr);
    assert_eq!(
        (
            planned.created,
            planned.updated,
            planned.deleted,
            planned.unchanged
        ),
        (done.created, done.updated, done.deleted, done.unchanged),
        "plan:\n{}\nrun:\n{}",
        plan.stderr,
        real.stderr
    );
    assert_eq!(done.created, 15, "{}", real.stderr);
    assert_cloned(&destination);

    // In sync: no plan line, exit 0 for both.
    destination.clear_log();
    let plan = push(&profile, &dry, path_str(&tree), &api).expect_code(0);
    assert_eq!(plan.stdout, "", "{}", plan.stderr);
    let real = push(&profile, &args, path_str(&tree), &api).expect_code(0);
    assert_no_writes(&destination, &real);
    assert_eq!(summary(&plan.stderr).unchanged, 15, "{}", plan.stderr);

    // One change: an update at the destination's item URL, planned then made.
    replace_in_file(&tree.join("team/2.yaml"), "City 2", "Town 2");
    let team2 = id_where(&destination, "teams", "name", &json!("Team 2"));
    let plan = push(&profile, &dry, path_str(&tree), &api).expect_code(3);
    assert_eq!(
        plan.stdout,
        format!("update {base}/api/teams/{team2}/ (from teams/2/)\n"),
        "{}",
        plan.stderr
    );
    assert_eq!(writes(&destination), Vec::<String>::new());
    let planned = summary(&plan.stderr);
    let real = push(&profile, &args, path_str(&tree), &api).expect_code(3);
    let done = summary(&real.stderr);
    assert_eq!(
        (planned.created, planned.updated, planned.unchanged),
        (done.created, done.updated, done.unchanged)
    );
    assert_eq!((done.updated, done.unchanged), (1, 14), "{}", real.stderr);
    assert_eq!(
        writes(&destination),
        vec![format!("PUT /api/teams/{team2}/")]
    );
}

// --- 5. --verify and --rm ------------------------------------------------------------------

#[test]
fn profile_write_verify_checks_every_cloned_resource() {
    let (destination, _dir, profile, tree, map, api) = post_clone();
    let run = push_mapped_with(&profile, &map, &["--verify"], &tree, &api).ok();
    assert!(run.stderr.contains("verified 15 of 15"), "{}", run.stderr);
    assert!(!run.stderr.contains("mismatch"), "{}", run.stderr);
    assert_cloned(&destination);
    // And again once nothing needs writing.
    let again = push_mapped_with(&profile, &map, &["--verify"], &tree, &api).ok();
    assert!(
        again.stderr.contains("verified 15 of 15"),
        "{}",
        again.stderr
    );
}

#[test]
fn profile_write_rm_deletes_what_the_origin_lacks_children_first() {
    let (destination, _dir, profile, tree, _map, api) =
        clone_with(drf_like(true), "put.yaml", &profile_text("", "", "", ""));
    add_strangers(&destination);
    let base = destination.base_url();

    let plan = push(&profile, &["--rm", "--dry-run"], path_str(&tree), &api).ok();
    assert_eq!(
        sorted_lines(&plan.stdout),
        sorted_strings(&[
            format!("delete {base}/api/players/20/"),
            format!("delete {base}/api/stats/30/"),
            format!("delete {base}/api/teams/10/"),
        ]),
        "{}",
        plan.stderr
    );
    assert_eq!(writes(&destination), Vec::<String>::new());

    let run = push(&profile, &["--rm"], path_str(&tree), &api).ok();
    assert_eq!(
        writes(&destination),
        vec![
            "DELETE /api/stats/30/".to_string(),
            "DELETE /api/players/20/".to_string(),
            "DELETE /api/teams/10/".to_string(),
        ],
        "{}",
        run.stderr
    );
    let counts = summary(&run.stderr);
    assert_eq!(
        (
            counts.deleted,
            counts.unchanged,
            counts.created,
            counts.updated
        ),
        (3, 15, 0, 0),
        "{}",
        run.stderr
    );
    assert_sizes(&destination, [3, 6, 6]);
}

#[test]
fn profile_write_rm_after_post_clone_keeps_the_mapped_resources() {
    let (destination, _dir, profile, tree, map, api) = post_clone();
    let run = push_mapped_with(&profile, &map, &["--rm"], &tree, &api).ok();
    let deletes = destination.paths("DELETE");
    assert_eq!(
        deletes,
        vec!["/api/stats/30/", "/api/players/20/", "/api/teams/10/"],
        "{}",
        run.stderr
    );
    let counts = summary(&run.stderr);
    assert_eq!((counts.created, counts.deleted), (15, 3), "{}", run.stderr);
    assert_eq!(destination.collection("teams").len(), 3);
    assert_cloned(&destination);
}

// --- 6. duplicate keys ---------------------------------------------------------------------

#[test]
fn profile_write_duplicate_keys_at_the_destination_fail_before_any_write() {
    let (destination, _dir, profile, tree, _map, api) = clone_with(
        drf_like(false),
        "keyed.yaml",
        &profile_text("create: post\n", "    key: [name]\n", "", ""),
    );
    insert_team(&destination, 4, "Team 1", "A");
    insert_team(&destination, 7, "Team 1", "B");
    let run = push(&profile, &[], path_str(&tree), &api).expect_code(1);
    assert_no_writes(&destination, &run);
    assert!(
        run.stderr.contains("Team 1") && run.stderr.contains('4') && run.stderr.contains('7'),
        "both duplicates named:\n{}",
        run.stderr
    );
}

// --- 7. Django REST framework and JSON:API ---------------------------------------------------

/// A new temporary directory with `text` written in it as `name`, and `server` (its API at
/// `root`) pulled with that profile into its `tree`, which must succeed: (the directory, the
/// profile, the tree).
fn django_pulled(
    server: &DjangoServer,
    root: &str,
    name: &str,
    text: &str,
) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = temp_dir();
    let profile = write_profile(dir.path(), name, text);
    let tree = dir.path().join("tree");
    let api = format!("{}{root}", server.base_url());
    let pulled = push(&profile, &[], &api, path_str(&tree));
    assert_eq!(pulled.code, 0, "{}\n{}", pulled.stderr, server.output());
    (dir, profile, tree)
}

/// Django's logged writes (`METHOD path`), in order.
fn django_writes(server: &DjangoServer) -> Vec<Value> {
    server
        .request_log()
        .into_iter()
        .filter(|entry| entry["method"] != "GET")
        .collect()
}

/// `METHOD path` of each of Django's logged writes after the first `before`.
fn django_writes_since(server: &DjangoServer, before: usize) -> Vec<String> {
    django_writes(server)[before..]
        .iter()
        .map(|entry| {
            format!(
                "{} {}",
                entry["method"].as_str().unwrap(),
                entry["path"].as_str().unwrap()
            )
        })
        .collect()
}

/// Every member of a DRF JSON:API collection (one page of up to 100).
fn jsonapi_all(server: &DjangoServer, collection: &str) -> Vec<Value> {
    let body = server.get_json(&format!("/jsonapi/{collection}?page%5Bsize%5D=100"));
    body["data"].as_array().expect("data").clone()
}

/// Every member of a DRF collection (one page of up to 100).
fn drf_all(server: &DjangoServer, collection: &str) -> Vec<Value> {
    let body = server.get_json(&format!("/api/{collection}/?page_size=100"));
    body["results"].as_array().expect("results").clone()
}

/// Seed names: team of each player, player of each stat (points 10 * player).
const DJANGO_TEAMS: [(&str, &str); 3] =
    [("Lions", "Leeds"), ("Tigers", "Turin"), ("Bears", "Bern")];
const DJANGO_PLAYERS: [(&str, usize); 6] = [
    ("Ann", 0),
    ("Ben", 0),
    ("Cid", 1),
    ("Dee", 1),
    ("Eve", 2),
    ("Fay", 2),
];

/// POSTs `body` to `path` of `server` as `content_type`, which must answer 201; returns the
/// answer.
fn created(server: &DjangoServer, path: &str, content_type: &str, body: Value) -> Value {
    let (status, answer) = server.send("POST", path, content_type, Some(&body));
    assert_eq!(status, 201, "{answer}");
    answer
}

/// A seeded Django origin and an empty Django destination.
fn django_pair() -> (DjangoServer, DjangoServer) {
    require_django();
    (DjangoServer::start(true), DjangoServer::start(false))
}

/// Creates the team Pumas (of Porto) at `server` through `path`: JSON:API when
/// `content_type` is `JSONAPI`, a plain DRF body otherwise.
fn add_pumas(server: &DjangoServer, path: &str, content_type: &str) {
    let attributes = json!({"name": "Pumas", "city": "Porto"});
    let body = if content_type == JSONAPI {
        json!({"data": {"type": "teams", "attributes": attributes}})
    } else {
        attributes
    };
    created(server, path, content_type, body);
}

const JSONAPI: &str = "application/vnd.api+json";

#[test]
fn profile_write_django_jsonapi_clone_rewrites_relationships_and_patches_changes() {
    let (origin, destination) = django_pair();
    // Something already there, so the clone's ids differ from the origin's.
    add_pumas(&destination, "/jsonapi/teams", JSONAPI);
    created(
        &destination,
        "/jsonapi/players",
        JSONAPI,
        json!({"data": {"type": "players", "attributes": {"name": "Zed"},
            "relationships": {"team": {"data": {"type": "teams", "id": "1"}}}}}),
    );

    let types = "types:\n  teams:\n    path: teams\n{teams}  players:\n    path: players\n    parents: {team: teams}\n{players}  stats:\n    path: stats\n    parents: {player: players}\n{stats}";
    let profile_with = |teams: &str, players: &str, stats: &str| {
        format!(
            "format: jsonapi\n{}",
            types
                .replace("{teams}", teams)
                .replace("{players}", players)
                .replace("{stats}", stats)
        )
    };
    let (dir, profile, tree) = django_pulled(
        &origin,
        "/jsonapi",
        "jsonapi.yaml",
        &profile_with("", "", ""),
    );
    assert_eq!(list_files(&tree).len(), 15);

    let map = dir.path().join("ids.yaml");
    let api = format!("{}/jsonapi", destination.base_url());
    let clone = push_mapped(&profile, &map, &tree, &api);
    assert_eq!(clone.code, 0, "{}\n{}", clone.stderr, destination.output());
    let counts = summary(&clone.stderr);
    assert_eq!((counts.created, counts.failed), (15, 0), "{}", clone.stderr);

    // Relationships name the new ids.
    let teams = jsonapi_all(&destination, "teams");
    let players = jsonapi_all(&destination, "players");
    let stats = jsonapi_all(&destination, "stats");
    assert_eq!((teams.len(), players.len(), stats.len()), (4, 7, 6));
    let team_id = |name: &str| -> String {
        let found: Vec<&Value> = teams
            .iter()
            .filter(|t| t["attributes"]["name"] == name)
            .collect();
        assert_eq!(found.len(), 1, "{name}: {teams:?}");
        text(&found[0]["id"])
    };
    let mut player_ids: BTreeMap<String, String> = BTreeMap::new();
    for (name, team) in DJANGO_PLAYERS {
        let found: Vec<&Value> = players
            .iter()
            .filter(|p| p["attributes"]["name"] == name)
            .collect();
        assert_eq!(found.len(), 1, "{name}: {players:?}");
        assert_eq!(
            text(&found[0]["relationships"]["team"]["data"]["id"]),
            team_id(DJANGO_TEAMS[team].0),
            "{name}: {}",
            found[0]
        );
        assert_ne!(
            team_id(DJANGO_TEAMS[team].0),
            "1",
            "the team that was already there"
        );
        player_ids.insert(name.to_string(), text(&found[0]["id"]));
    }
    for (index, (name, _)) in DJANGO_PLAYERS.iter().enumerate() {
        let points = 10 * (index as u64 + 1);
        let found: Vec<&Value> = stats
            .iter()
            .filter(|s| s["attributes"]["points"] == json!(points))
            .collect();
        assert_eq!(found.len(), 1, "{points}: {stats:?}");
        assert_eq!(
            text(&found[0]["relationships"]["player"]["data"]["id"]),
            player_ids[*name]
        );
    }

    // The POSTs: JSON:API media type, `data` with type, attributes and relationships only.
    let log = django_writes(&destination);
    let posts: Vec<&Value> = log
        .iter()
        .filter(|entry| entry["method"] == "POST")
        .skip(2)
        .collect();
    assert_eq!(posts.len(), 15);
    for entry in &posts {
        assert_eq!(entry["content_type"], JSONAPI, "{entry}");
        let data = &entry["body"]["data"];
        let mut keys: Vec<&str> = data
            .as_object()
            .expect("data object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.retain(|key| *key != "relationships");
        assert_eq!(keys, ["attributes", "type"], "{entry}");
    }

    // A changed attribute: one PATCH at the destination's id.
    replace_in_file(&tree.join("teams/2.yaml"), "Turin", "Torino");
    let before = django_writes(&destination).len();
    let rerun = push_mapped(&profile, &map, &tree, &api);
    assert_eq!(rerun.code, 0, "{}\n{}", rerun.stderr, destination.output());
    let log = django_writes(&destination);
    let new: Vec<&Value> = log[before..].iter().collect();
    let tigers = team_id("Tigers");
    assert_eq!(new.len(), 1, "{new:?}\n{}", rerun.stderr);
    assert_eq!(new[0]["method"], "PATCH");
    assert_eq!(new[0]["path"], format!("/jsonapi/teams/{tigers}"));
    assert_eq!(new[0]["content_type"], JSONAPI);
    assert_eq!(new[0]["body"]["data"]["id"], json!(tigers));
    assert_eq!(new[0]["body"]["data"]["type"], "teams");
    assert_eq!(new[0]["body"]["data"]["attributes"]["city"], "Torino");
    assert!(new[0]["body"]["data"].get("links").is_none());
    let counts = summary(&rerun.stderr);
    assert_eq!(
        (counts.updated, counts.unchanged),
        (1, 14),
        "{}",
        rerun.stderr
    );

    // Without the map, natural keys (attributes; the player's holds its relationship)
    // find every resource: nothing written.
    let keyed = write_profile(
        dir.path(),
        "keyed.yaml",
        &profile_with(
            "    key: [name]\n",
            "    key: [name, team]\n",
            "    key: [points]\n",
        ),
    );
    replace_in_file(&tree.join("teams/3.yaml"), "Bern", "Basel");
    let before = django_writes(&destination).len();
    let keyed_run = push(&keyed, &[], path_str(&tree), &api);
    assert_eq!(
        keyed_run.code,
        0,
        "{}\n{}",
        keyed_run.stderr,
        destination.output()
    );
    let log = django_writes(&destination);
    let new: Vec<&Value> = log[before..].iter().collect();
    let bears = team_id("Bears");
    assert_eq!(new.len(), 1, "{new:?}\n{}", keyed_run.stderr);
    assert_eq!(new[0]["method"], "PATCH");
    assert_eq!(new[0]["path"], format!("/jsonapi/teams/{bears}"));
    assert_eq!(new[0]["body"]["data"]["id"], json!(bears));
    let counts = summary(&keyed_run.stderr);
    assert_eq!(
        (counts.created, counts.updated, counts.unchanged),
        (0, 1, 14),
        "{}",
        keyed_run.stderr
    );
}

#[test]
fn profile_write_django_rest_framework_clone_posts_players_under_their_new_team() {
    let (origin, destination) = django_pair();
    add_pumas(&destination, "/api/teams/", "application/json");
    let (dir, profile, tree) = django_pulled(&origin, "/api", "drf.yaml", "records: results\nnext: body:next\nsize: page_size\ncreate: post\nreadonly: [url]\ntypes:\n  team:\n    path: teams/\n  player:\n    path: teams/{team}/players/\n    item: players/{id}/\n    parents: {team: team}\n  stat:\n    path: stats/\n    parents: {player: player}\n");
    assert_eq!(list_files(&tree).len(), 15);

    let map = dir.path().join("ids.yaml");
    let api = format!("{}/api", destination.base_url());
    let clone = push_mapped(&profile, &map, &tree, &api);
    assert_eq!(clone.code, 0, "{}\n{}", clone.stderr, destination.output());
    assert_eq!(summary(&clone.stderr).created, 15, "{}", clone.stderr);

    let teams = drf_all(&destination, "teams");
    let players = drf_all(&destination, "players");
    let stats = drf_all(&destination, "stats");
    assert_eq!((teams.len(), players.len(), stats.len()), (4, 6, 6));
    let team_id = |name: &str| -> u64 {
        teams
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {teams:?}"))["id"]
            .as_u64()
            .unwrap()
    };
    let log = django_writes(&destination);
    for (index, (name, team)) in DJANGO_PLAYERS.iter().enumerate() {
        let new_team = team_id(DJANGO_TEAMS[*team].0);
        assert_ne!(new_team, 1, "the team that was already there");
        let player = players
            .iter()
            .find(|p| p["name"] == *name)
            .unwrap_or_else(|| panic!("{name}: {players:?}"));
        assert_eq!(player["team"], json!(new_team), "{player}");
        // POSTed under its new team's path.
        let posted = log.iter().any(|entry| {
            entry["method"] == "POST"
                && entry["path"] == format!("/api/teams/{new_team}/players/")
                && entry["body"]["name"] == *name
        });
        assert!(posted, "{name} not POSTed under team {new_team}: {log:?}");
        let stat = stats
            .iter()
            .find(|s| s["points"] == json!(10 * (index as u64 + 1)))
            .unwrap();
        assert_eq!(stat["player"], player["id"], "{stat}");
    }
    // `url` (readonly) and `id` never sent.
    for entry in log.iter().filter(|entry| entry["method"] == "POST").skip(1) {
        assert!(entry["body"].get("url").is_none(), "{entry}");
        assert!(entry["body"].get("id").is_none(), "{entry}");
    }

    // A rerun with the map writes nothing.
    let before = django_writes(&destination).len();
    let rerun = push_mapped(&profile, &map, &tree, &api);
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    let log = django_writes(&destination);
    assert_eq!(log.len(), before, "{:?}\n{}", &log[before..], rerun.stderr);
    assert_eq!(summary(&rerun.stderr).unchanged, 15, "{}", rerun.stderr);

    // A changed player: one PUT at its item URL, with its team's new id and no `url`.
    replace_in_file(&tree.join("player/4.yaml"), "name: Dee", "name: Dora");
    let before = django_writes(&destination).len();
    let rerun = push_mapped(&profile, &map, &tree, &api);
    assert_eq!(rerun.code, 0, "{}\n{}", rerun.stderr, destination.output());
    let log = django_writes(&destination);
    let new: Vec<&Value> = log[before..].iter().collect();
    let dora = drf_all(&destination, "players")
        .into_iter()
        .find(|p| p["name"] == "Dora")
        .unwrap_or_else(|| panic!("{new:?}"));
    assert_eq!(new.len(), 1, "{new:?}\n{}", rerun.stderr);
    assert_eq!(new[0]["method"], "PUT");
    assert_eq!(new[0]["path"], format!("/api/players/{}/", dora["id"]));
    assert_eq!(
        new[0]["body"]["team"],
        json!(team_id("Tigers")),
        "{}",
        new[0]
    );
    assert!(new[0]["body"].get("url").is_none(), "{}", new[0]);
    assert_eq!(dora["team"], json!(team_id("Tigers")));
}

// --- 8. json-server ------------------------------------------------------------------------

fn json_server_list(port: u16, path: &str) -> Vec<Value> {
    let (status, body) = http_get(port, path).expect("json-server answers");
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str::<Value>(&body)
        .expect("JSON")
        .as_array()
        .expect("a list")
        .clone()
}

#[test]
fn profile_write_json_server_clone_posts_and_nested_comments() {
    require_json_server();
    let dir = temp_dir();
    let (posts, comments) = posts_and_comments(3, 3, 2);
    let origin_db = dir.path().join("origin.json");
    write_posts_db(&origin_db, &posts, &comments);
    let destination_db = dir.path().join("destination.json");
    write_posts_db(
        &destination_db,
        &[json!({"id": 100, "title": "Other"})],
        &[json!({"id": 50, "postId": 100, "body": "Other comment"})],
    );
    let origin_port = free_port();
    let origin = JsonServer::start(&origin_db, origin_port, dir.path().join("origin.log"));
    let destination_port = free_port();
    let destination = JsonServer::start(
        &destination_db,
        destination_port,
        dir.path().join("destination.log"),
    );
    let profile = write_profile(
        dir.path(),
        "json-server.yaml",
        "records: \"\"\nnext: link\nsize: _limit\ncreate: post\ntypes:\n  post:\n    path: posts?_page=1\n    item: posts/{id}\n  comment:\n    path: posts/{postId}/comments?_page=1\n    item: comments/{id}\n    parents: {postId: post}\n",
    );
    let map = dir.path().join("ids.yaml");
    let origin_url = format!("http://127.0.0.1:{origin_port}");
    let destination_url = format!("http://127.0.0.1:{destination_port}");
    let clone = push(
        &profile,
        &["-l", "2", "--id-map", path_str(&map)],
        &origin_url,
        &destination_url,
    );
    assert_eq!(
        clone.code,
        0,
        "{}\n{}\n{}",
        clone.stderr,
        origin.log_text(),
        destination.log_text()
    );
    assert_eq!(summary(&clone.stderr).created, 9, "{}", clone.stderr);

    let new_posts = json_server_list(destination_port, "/posts");
    let new_comments = json_server_list(destination_port, "/comments");
    assert_eq!((new_posts.len(), new_comments.len()), (4, 7));
    for post in 1..=3u64 {
        let title = format!("Post {post}");
        let found = new_posts
            .iter()
            .find(|p| p["title"] == title.as_str())
            .unwrap_or_else(|| panic!("{title}: {new_posts:?}"));
        let new_id = text(&found["id"]);
        assert_ne!(new_id, post.to_string());
        for comment in [2 * post - 1, 2 * post] {
            let body = format!("Comment {comment}");
            let found = new_comments
                .iter()
                .find(|c| c["body"] == body.as_str())
                .unwrap_or_else(|| panic!("{body}: {new_comments:?}"));
            assert_eq!(text(&found["postId"]), new_id, "{found}");
        }
    }
    // Comments were POSTed under their new post.
    let log = destination.log_text();
    assert!(
        log.lines().filter(|l| l.contains("POST /posts/10")).count() >= 6,
        "{log}"
    );

    // A rerun with the map writes nothing.
    let rerun = push(
        &profile,
        &["-l", "2", "--id-map", path_str(&map)],
        &origin_url,
        &destination_url,
    );
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    let counts = summary(&rerun.stderr);
    assert_eq!(
        (counts.created, counts.updated, counts.unchanged),
        (0, 0, 9),
        "{}",
        rerun.stderr
    );
    assert_eq!(json_server_list(destination_port, "/posts").len(), 4);
    assert_eq!(json_server_list(destination_port, "/comments").len(), 7);
}

// --- more: nested paths, natural keys, --create override, text comparison -------------------

/// Like `profile_text`, with players read and created through their team
/// (`teams/{team}/players/`, items `teams/{team}/players/{id}/`).
fn nested_profile_text(settings: &str, team: &str, player: &str) -> String {
    format!(
        "records: results\nnext: body:next\nsize: page_size\nreadonly: [created]\n{settings}types:\n  team:\n    path: teams/\n{team}  player:\n    path: teams/{{team}}/players/\n    parents: {{team: team}}\n{player}  stat:\n    path: stats/\n    parents: {{player: player}}\n"
    )
}

#[test]
fn profile_write_post_fills_nested_collection_paths_with_the_parents_new_ids() {
    let (destination, _dir, profile, tree, map, api) = clone_with(
        strangers(),
        "nested.yaml",
        &nested_profile_text("create: post\n", "", ""),
    );
    let run = push_mapped(&profile, &map, &tree, &api).ok();
    assert_eq!(summary(&run.stderr).created, 15, "{}", run.stderr);
    assert_cloned(&destination);
    let mut player_posts = destination.paths("POST");
    player_posts.retain(|path| path.contains("/players/"));
    player_posts.sort();
    let mut expected: Vec<String> = Vec::new();
    for team in 1..=3 {
        let id = id_where(
            &destination,
            "teams",
            "name",
            &json!(format!("Team {team}")),
        );
        expected.push(format!("/api/teams/{id}/players/"));
        expected.push(format!("/api/teams/{id}/players/"));
    }
    expected.sort();
    assert_eq!(player_posts, expected, "{}", run.stderr);
    // The id map holds the nested item paths, both sides.
    let map_text = read(&map);
    let player3 = id_where(&destination, "players", "name", &json!("Player 3"));
    let team2 = id_where(&destination, "teams", "name", &json!("Team 2"));
    let line = format!("teams/2/players/3/: teams/{team2}/players/{player3}/");
    assert!(
        map_text.lines().any(|l| l.replace(['\'', '"'], "") == line),
        "{line:?} not in:\n{map_text}"
    );

    destination.clear_log();
    let rerun = push_mapped(&profile, &map, &tree, &api).ok();
    assert_no_writes(&destination, &rerun);
    assert_eq!(summary(&rerun.stderr).unchanged, 15, "{}", rerun.stderr);
}

#[test]
fn profile_write_natural_key_match_is_updated_at_the_destination_id_and_adopted_by_children() {
    let (destination, _dir, profile, tree, _map, api) =
        clone_with(drf_like(false), "keyed.yaml", &keyed_text());
    // Team 1 and its Player 1 are already there, under other ids; the team's city differs.
    insert_team(&destination, 10, "Team 1", "Old");
    destination.insert("players", json!({"id": 20, "name": "Player 1", "team": 10}));
    let base = destination.base_url();

    let plan = push(&profile, &["--dry-run"], path_str(&tree), &api).ok();
    let lines = sorted_lines(&plan.stdout);
    assert!(
        lines.contains(&format!("update {base}/api/teams/10/ (from teams/1/)")),
        "{}",
        plan.stdout
    );
    assert!(
        !lines.iter().any(|line| line.contains("(from players/1/)")),
        "{}",
        plan.stdout
    );
    assert_eq!(lines.len(), 14, "{}", plan.stdout);
    let planned = summary(&plan.stderr);
    assert_eq!(
        (planned.created, planned.updated, planned.unchanged),
        (13, 1, 1),
        "{}",
        plan.stderr
    );

    let run = push(&profile, &[], path_str(&tree), &api).ok();
    let done = summary(&run.stderr);
    assert_eq!(
        (done.created, done.updated, done.unchanged),
        (13, 1, 1),
        "{}",
        run.stderr
    );
    assert_eq!(destination.count_path("PUT", "/api/teams/10/"), 1);
    assert_eq!(destination.count("PUT"), 1, "{:?}", writes(&destination));
    assert_eq!(destination.count("PATCH"), 0);
    assert_eq!(destination.count_path("POST", "/api/teams/"), 2);
    assert_eq!(destination.count_path("POST", "/api/players/"), 5);
    assert_eq!(destination.member("teams", 10).unwrap()["city"], "City 1");
    assert_eq!(destination.collection("teams").len(), 3);
    assert_eq!(destination.collection("players").len(), 6);
    assert_cloned(&destination);
    // Player 2 (of team 1) was created pointing at the matched team.
    let player2 = id_where(&destination, "players", "name", &json!("Player 2"));
    assert_eq!(destination.member("players", player2).unwrap()["team"], 10);
    // Stat 1 points at the matched player.
    let stat1 = id_where(&destination, "stats", "points", &json!(points_of(1)));
    assert_eq!(destination.member("stats", stat1).unwrap()["player"], 20);
}

#[test]
fn profile_write_create_on_the_command_line_overrides_the_profile() {
    let (destination, _dir, profile, tree, _map, api) =
        clone_with(drf_like(false), "post.yaml", &post_text());
    let run = push(&profile, &["--create", "put"], path_str(&tree), &api).ok();
    assert_eq!(destination.count("POST"), 0, "{:?}", writes(&destination));
    assert_eq!(destination.count("PUT"), 15, "{}", run.stderr);
    assert_eq!(
        destination.count_path("PUT", "/api/players/4/"),
        1,
        "{:?}",
        writes(&destination)
    );
    assert_eq!(destination.member("players", 4).unwrap()["team"], 2);
}

#[test]
fn profile_write_compares_ids_and_parents_as_text_and_ignores_extra_destination_fields() {
    let (destination, dir, profile, tree, _map, _api) =
        clone_with(drf_like(true), "put.yaml", &profile_text("", "", "", ""));
    // The destination has a field the origin lacks.
    let mut team1 = destination.member("teams", 1).unwrap();
    team1["coach"] = json!("Cole");
    destination.insert("teams", team1);
    // Ids and parent fields as strings in the files: the same ids.
    replace_in_file(&tree.join("team/2.yaml"), "id: 2", "id: '2'");
    replace_in_file(&tree.join("player/3.yaml"), "team: 2", "team: '2'");
    replace_in_file(&tree.join("stat/4.yaml"), "player: 4", "player: '4'");
    let api = destination.url("/api");

    let run = push(&profile, &[], path_str(&tree), &api).ok();
    assert_no_writes(&destination, &run);
    assert_eq!(summary(&run.stderr).unchanged, 15, "{}", run.stderr);

    // `create: post` with `key: [id]`: pushing a tree back where it came from.
    let by_id = write_profile(
        dir.path(),
        "by_id.yaml",
        &profile_text(
            "create: post\n",
            "    key: [id]\n",
            "    key: [id]\n",
            "    key: [id]\n",
        ),
    );
    let run = push(&by_id, &[], path_str(&tree), &api).ok();
    assert_no_writes(&destination, &run);
    assert_eq!(summary(&run.stderr).unchanged, 15, "{}", run.stderr);
    replace_in_file(&tree.join("stat/5.yaml"), "points: 5", "points: 6");
    let run = push(&by_id, &[], path_str(&tree), &api).ok();
    assert_writes(&destination, vec!["PUT /api/stats/5/".to_string()], &run);
    assert_eq!(destination.member("stats", 5).unwrap()["points"], 6);
    assert_eq!(destination.member("teams", 1).unwrap()["coach"], "Cole");
}

#[test]
fn profile_write_rewritten_parent_keeps_a_string_a_string() {
    let (destination, _dir, profile, tree, _map, api) = post_clone();
    replace_in_file(&tree.join("player/3.yaml"), "team: 2", "team: '2'");
    let run = push(&profile, &[], path_str(&tree), &api).ok();
    assert_eq!(summary(&run.stderr).created, 15, "{}", run.stderr);
    let team2 = id_where(&destination, "teams", "name", &json!("Team 2"));
    let sent: Vec<Value> = destination
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path() == "/api/players/")
        .map(|request| request.body.unwrap())
        .collect();
    let player3 = sent.iter().find(|body| body["name"] == "Player 3").unwrap();
    assert_eq!(player3["team"], json!(team2.to_string()), "{player3}");
    let player4 = sent.iter().find(|body| body["name"] == "Player 4").unwrap();
    assert_eq!(player4["team"], json!(team2), "{player4}");
}

#[test]
fn profile_write_rm_keeps_resources_matched_by_key() {
    let (destination, _dir, profile, tree, _map, api) = clone_with(
        drf_like(false),
        "keyed.yaml",
        &profile_text("create: post\n", "    key: [name]\n", "", ""),
    );
    insert_team(&destination, 10, "Team 1", "City 1");
    insert_team(&destination, 11, "Nobody", "Nowhere");
    let run = push(&profile, &["--rm"], path_str(&tree), &api).ok();
    assert_eq!(
        destination.paths("DELETE"),
        vec!["/api/teams/11/"],
        "{}",
        run.stderr
    );
    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.created, counts.unchanged, counts.deleted),
        (14, 1, 1),
        "{}",
        run.stderr
    );
    assert!(destination.member("teams", 10).is_some());
    assert_cloned(&destination);
}

#[test]
fn profile_write_no_compare_writes_every_resource_at_its_mapped_url() {
    let (destination, _dir, profile, tree, map, api) = clone_with(
        strangers(),
        "post.yaml",
        &profile_text("create: post\nupdate: patch\n", "", "", ""),
    );
    push_mapped(&profile, &map, &tree, &api).ok();
    destination.clear_log();
    let run = push_mapped_with(&profile, &map, &["--no-compare"], &tree, &api).ok();
    assert_eq!(destination.count("POST"), 0, "{:?}", writes(&destination));
    assert_eq!(destination.count("PUT"), 0, "{:?}", writes(&destination));
    assert_eq!(destination.count("PATCH"), 15, "{}", run.stderr);
    let team2 = id_where(&destination, "teams", "name", &json!("Team 2"));
    assert_eq!(
        destination.count_path("PATCH", &format!("/api/teams/{team2}/")),
        1
    );
    let counts = summary(&run.stderr);
    assert_eq!((counts.created, counts.updated), (0, 15), "{}", run.stderr);
    assert_eq!(destination.collection("teams").len(), 4);
    assert_cloned(&destination);
}

#[test]
fn profile_write_output_json_reports_each_post() {
    let (_destination, _dir, profile, tree, _map, api) = post_clone();
    let run = push(&profile, &["--output", "json"], path_str(&tree), &api).ok();
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 16, "{}", run.stdout);
    for action in &lines[..15] {
        assert_eq!(action["op"], "create", "{action}");
        assert_eq!(action["status"], 201, "{action}");
    }
    assert_eq!(lines[15]["summary"]["created"], 15, "{}", run.stdout);
}

#[test]
fn profile_write_django_refused_post_fails_it_and_skips_its_children() {
    let (origin, destination) = django_pair();
    let (_dir, profile, tree) = django_pulled(&origin, "/api", "drf.yaml", "records: results\nnext: body:next\nsize: page_size\ncreate: post\nreadonly: [url]\ntypes:\n  team:\n    path: teams/\n  player:\n    path: players/\n    parents: {team: team}\n  stat:\n    path: stats/\n    parents: {player: player}\n");
    // A name longer than the model's 100 characters: DRF answers 400.
    replace_in_file(&tree.join("team/2.yaml"), "Tigers", &"T".repeat(150));
    let api = format!("{}/api", destination.base_url());
    let run = push(&profile, &[], path_str(&tree), &api).expect_code(1);
    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.created, counts.failed, counts.skipped),
        (10, 1, 4),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("400"), "{}", run.stderr);
    let players = drf_all(&destination, "players");
    let names: Vec<&str> = players
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        !names.contains(&"Cid") && !names.contains(&"Dee"),
        "{names:?}"
    );
    assert_eq!(drf_all(&destination, "stats").len(), 4);
}

#[test]
fn profile_write_id_map_resumes_a_partial_clone() {
    let (destination, _dir, profile, tree, map, api) = post_clone();
    // First only the teams.
    let first = push_mapped_with(&profile, &map, &["--type", "team"], &tree, &api).ok();
    assert_eq!(summary(&first.stderr).created, 3, "{}", first.stderr);
    assert_eq!(read(&map).lines().count(), 3, "{}", read(&map));
    // Then everything: the teams come from the map, their players point at them.
    destination.clear_log();
    let second = push_mapped(&profile, &map, &tree, &api).ok();
    assert_eq!(destination.count_path("POST", "/api/teams/"), 0);
    let counts = summary(&second.stderr);
    assert_eq!(
        (counts.created, counts.unchanged),
        (12, 3),
        "{}",
        second.stderr
    );
    assert_eq!(destination.collection("teams").len(), 4);
    assert_cloned(&destination);
    assert_eq!(read(&map).lines().count(), 15, "{}", read(&map));
}

#[test]
fn profile_write_django_verify_reports_a_field_the_server_changed() {
    let (origin, destination) = django_pair();
    let (dir, profile, tree) = django_pulled(&origin, "/api", "drf.yaml", "records: results\nnext: body:next\nsize: page_size\ncreate: post\nreadonly: [url]\ntypes:\n  team:\n    path: teams/\n  player:\n    path: players/\n    parents: {team: team}\n  stat:\n    path: stats/\n    parents: {player: player}\n");
    // DRF trims a CharField: the stored name is not the one sent.
    replace_in_file(&tree.join("player/4.yaml"), "name: Dee", "name: '  Dee  '");
    let api = format!("{}/api", destination.base_url());
    let map = dir.path().join("ids.yaml");
    let run = push_mapped_with(&profile, &map, &["--verify"], &tree, &api).expect_code(1);
    assert!(run.stderr.contains("verified 14 of 15"), "{}", run.stderr);
    let mismatches: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("mismatch "))
        .collect();
    assert_eq!(mismatches.len(), 1, "{}", run.stderr);
    let dee = drf_all(&destination, "players")
        .into_iter()
        .find(|p| p["name"] == "Dee")
        .unwrap();
    assert!(
        mismatches[0].starts_with(&format!(
            "mismatch {}/api/players/{}/: name",
            destination.base_url(),
            dee["id"]
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn profile_write_django_jsonapi_profile_type_names_differ_from_jsonapi_types() {
    let (origin, destination) = django_pair();
    add_pumas(&destination, "/jsonapi/teams", JSONAPI);
    // Singular profile types; `city` readonly (never sent, never compared).
    let (dir, profile, tree) = django_pulled(&origin, "/jsonapi", "jsonapi.yaml", "format: jsonapi\ntypes:\n  team:\n    path: teams\n    readonly: [city]\n  player:\n    path: players\n    parents: {team: team}\n  stat:\n    path: stats\n    parents: {player: player}\n");
    let api = format!("{}/jsonapi", destination.base_url());
    let base = destination.base_url();

    let plan = push(&profile, &["--dry-run"], path_str(&tree), &api).ok();
    let lines = sorted_lines(&plan.stdout);
    assert_eq!(lines.len(), 15, "{}", plan.stdout);
    assert!(
        lines.contains(&format!("create {base}/jsonapi/players (from players/3)")),
        "{}",
        plan.stdout
    );

    let map = dir.path().join("ids.yaml");
    let run = push_mapped_with(&profile, &map, &["--verify"], &tree, &api);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, destination.output());
    assert!(run.stderr.contains("verified 15 of 15"), "{}", run.stderr);
    let log = django_writes(&destination);
    let posts: Vec<&Value> = log
        .iter()
        .filter(|entry| entry["method"] == "POST")
        .skip(1)
        .collect();
    assert_eq!(posts.len(), 15);
    for entry in &posts {
        let path = entry["path"].as_str().unwrap();
        let data = &entry["body"]["data"];
        assert_eq!(
            format!("/jsonapi/{}", data["type"].as_str().unwrap()),
            path,
            "{entry}"
        );
        if path == "/jsonapi/teams" {
            assert!(data["attributes"].get("city").is_none(), "{entry}");
        }
        if path == "/jsonapi/players" {
            assert_eq!(
                data["relationships"]["team"]["data"]["type"], "teams",
                "{entry}"
            );
        }
    }
    // Cities were not sent: the server's default (empty).
    let teams = jsonapi_all(&destination, "teams");
    assert_eq!(teams.len(), 4);
    assert!(teams[1..]
        .iter()
        .all(|team| team["attributes"]["city"] == ""));

    // --rm with a stranger team and its player: deleted, children first.
    let stranger = created(
        &destination,
        "/jsonapi/players",
        JSONAPI,
        json!({"data": {"type": "players", "attributes": {"name": "Zed"},
            "relationships": {"team": {"data": {"type": "teams", "id": "1"}}}}}),
    );
    let zed = text(&stranger["data"]["id"]);
    let before = django_writes(&destination).len();
    let run = push_mapped_with(&profile, &map, &["--rm"], &tree, &api);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, destination.output());
    let new = django_writes_since(&destination, before);
    assert_eq!(
        new,
        vec![
            format!("DELETE /jsonapi/players/{zed}"),
            "DELETE /jsonapi/teams/1".to_string()
        ],
        "{}",
        run.stderr
    );
    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.deleted, counts.unchanged),
        (2, 15),
        "{}",
        run.stderr
    );
}

#[test]
fn profile_write_id_map_entry_whose_target_was_deleted_is_restored_consistently() {
    let (destination, _dir, profile, tree, map, api) = post_clone();
    let args = ["--id-map", path_str(&map)];
    push(&profile, &args, path_str(&tree), &api).ok();
    // Someone deletes the clone of Team 2 (its players stay, pointing at nothing).
    let team2 = id_where(&destination, "teams", "name", &json!("Team 2"));
    assert_eq!(
        destination
            .send("DELETE", &format!("/api/teams/{team2}/"), None)
            .status,
        204
    );
    let dry: Vec<&str> = ["--dry-run"].iter().chain(args.iter()).copied().collect();
    let plan = push(&profile, &dry, path_str(&tree), &api).ok();
    let planned = summary(&plan.stderr);
    destination.clear_log();
    let run = push(&profile, &args, path_str(&tree), &api).ok();
    let done = summary(&run.stderr);
    // Team 2 is created again under a new id, and its two players are updated to name it.
    assert_eq!(
        (done.created, done.updated, done.failed),
        (1, 2, 0),
        "{}",
        run.stderr
    );
    assert_eq!(
        destination.collection("teams").len(),
        4,
        "{:?}",
        writes(&destination)
    );
    // Whatever id it has now, its players point at it.
    assert_cloned(&destination);
    // The plan matches the run: the read does not show the mapped item, so it is a create
    // (SPEC 5), and the PUT that recreates it answers 201.
    assert_eq!(
        (planned.created, planned.updated, planned.unchanged),
        (done.created, done.updated, done.unchanged),
        "plan:\n{}\n{}\nrun:\n{}\n{:?}",
        plan.stdout,
        plan.stderr,
        run.stderr,
        writes(&destination)
    );
}

#[test]
fn profile_write_key_with_a_parent_field_does_not_match_under_another_parent() {
    let (destination, _dir, profile, tree, _map, api) =
        clone_with(drf_like(false), "keyed.yaml", &keyed_text());
    // "Player 3" exists, but in Team 1; the origin's Player 3 is in Team 2.
    add_player3_in_team1(&destination);
    let run = push(&profile, &[], path_str(&tree), &api).ok();
    assert_eq!(destination.count("PUT"), 0, "{:?}", writes(&destination));
    assert_eq!(destination.count_path("POST", "/api/players/"), 6);
    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.created, counts.updated, counts.unchanged),
        (14, 0, 1),
        "{}",
        run.stderr
    );
    assert_eq!(destination.member("players", 20).unwrap()["team"], 10);
    let threes: Vec<Value> = destination
        .collection("players")
        .into_iter()
        .filter(|p| p["name"] == "Player 3")
        .collect();
    assert_eq!(threes.len(), 2, "{threes:?}");
}

#[test]
fn profile_write_mixed_create_modes_per_type() {
    let origin = drf_like(true);
    let destination = strangers();
    let dir = temp_dir();
    // Teams keep their ids (PUT), players and stats get the server's (POST).
    let profile = write_profile(
        dir.path(),
        "mixed.yaml",
        &profile_text("create: post\n", "    create: put\n", "", ""),
    );
    let tree = pull_tree(&origin, &profile, dir.path());
    let run = push(&profile, &[], path_str(&tree), &destination.url("/api")).ok();
    let mut puts = destination.paths("PUT");
    puts.sort();
    assert_eq!(
        puts,
        vec!["/api/teams/1/", "/api/teams/2/", "/api/teams/3/"],
        "{}",
        run.stderr
    );
    assert_eq!(destination.count_path("POST", "/api/teams/"), 0);
    assert_eq!(destination.count_path("POST", "/api/players/"), 6);
    assert_cloned(&destination);
    assert_eq!(id_where(&destination, "teams", "name", &json!("Team 2")), 2);
}

#[test]
fn profile_write_ignore_leaves_a_field_out_of_the_comparison() {
    let (destination, _dir, profile, tree, map, api) =
        cloned_then_edited("team/2.yaml", "City 2", "Town 2");
    let ignored = push_mapped_with(&profile, &map, &["--ignore", "city"], &tree, &api).ok();
    assert_no_writes(&destination, &ignored);
    assert_eq!(summary(&ignored.stderr).unchanged, 15, "{}", ignored.stderr);
}

/// The old and new texts of a one-resource unified diff (context lines in both), parsed.
fn diff_sides(diff: &str) -> (Value, Value) {
    let (mut old, mut new) = (String::new(), String::new());
    for line in diff.lines() {
        if line.starts_with("---") || line.starts_with("+++") || line.starts_with("@@") {
            continue;
        }
        if let Some(rest) = line.strip_prefix('-') {
            old.push_str(rest);
        } else if let Some(rest) = line.strip_prefix('+') {
            new.push_str(rest);
        } else if let Some(rest) = line.strip_prefix(' ') {
            old.push_str(rest);
            new.push_str(rest);
        }
    }
    let parse = |text: &str| {
        serde_json::from_str::<Value>(text)
            .unwrap_or_else(|error| panic!("{error}: {text}\nin:\n{diff}"))
    };
    (parse(&old), parse(&new))
}

/// Top-level fields of `new` whose values differ as text from `old`'s (a field only `old`
/// has is the destination's own, not a change).
fn changed_fields(old: &Value, new: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    new.keys()
        .filter(|key| old.get(*key).map(text) != new.get(*key).map(text))
        .cloned()
        .collect()
}

#[test]
fn profile_write_diff_shows_the_body_as_the_destination_gets_it() {
    let (destination, _dir, profile, tree, map, api) =
        cloned_then_edited("player/3.yaml", "Player 3", "Player Three");
    let player3 = id_where(&destination, "players", "name", &json!("Player 3"));
    let team2 = id_where(&destination, "teams", "name", &json!("Team 2"));
    let target = format!("{}/api/players/{player3}/", destination.base_url());
    let diff = push_mapped_with(&profile, &map, &["--diff", "--dry-run"], &tree, &api).ok();
    assert_eq!(writes(&destination), Vec::<String>::new());
    let (first, rest) = diff.stdout.split_once('\n').expect("a plan line");
    assert_eq!(first, format!("update {target} (from players/3/)"));
    let (old, new) = diff_sides(rest);
    // Only the name changes; the new side is what is sent: destination id and parent id,
    // no readonly `created`.
    assert_eq!(changed_fields(&old, &new), vec!["name"], "{}", diff.stdout);
    assert!(new.get("created").is_none(), "{}", diff.stdout);
    assert_eq!(text(&new["team"]), team2.to_string(), "{}", diff.stdout);
}

#[test]
fn profile_write_update_of_a_posted_resource_sends_destination_ids() {
    let (destination, _dir, profile, tree, map, api) =
        cloned_then_edited("player/3.yaml", "Player 3", "Player Three");
    let run = push_mapped(&profile, &map, &tree, &api).ok();
    let player3 = id_where(&destination, "players", "name", &json!("Player Three"));
    let team2 = id_where(&destination, "teams", "name", &json!("Team 2"));
    assert_writes(
        &destination,
        vec![format!("PUT /api/players/{player3}/")],
        &run,
    );
    let body = destination.requests()[destination
        .requests()
        .iter()
        .position(|request| request.method == "PUT")
        .unwrap()]
    .body
    .clone()
    .unwrap();
    assert_eq!(body["team"], json!(team2), "{body}");
    assert!(body.get("created").is_none(), "{body}");
    if let Some(id) = body.get("id") {
        assert_eq!(text(id), player3.to_string(), "{body}");
    }
    assert_eq!(
        destination.member("players", player3).unwrap()["team"],
        team2
    );
}

// --- a minimal API whose POST answers carry no id ----------------------------------------

/// How `MiniServer` answers a POST.
#[derive(Clone, Copy, PartialEq)]
enum MiniMode {
    /// Plain JSON lists; a POST gets a server id (from 100), answered 201 with an absolute
    /// same-origin `Location` and a body without the id.
    Location,
    /// JSON:API (`{"data": [...]}`); a POST keeps the `data.id` it carries and answers 204
    /// with no body.
    JsonApi204,
    /// Like `Location`, but the `Location` names another origin.
    ForeignLocation,
    /// Directus-like: lists are `{"data": [...]}`; a POST gets a server id and is answered
    /// 200 `{"data": <member>}` with no `Location`.
    DataRecord,
}

#[derive(Default)]
struct MiniState {
    collections: BTreeMap<String, BTreeMap<String, Value>>,
    next_id: u64,
    /// `(method, path, body)` of every request.
    log: Vec<(String, String, Option<Value>)>,
}

impl MiniState {
    /// Stores `body` in `collection` under the next server id: the id and the member.
    fn create(&mut self, collection: &str, body: Option<Value>) -> (u64, Value) {
        let id = self.next_id;
        self.next_id += 1;
        let mut member = body.unwrap_or(json!({}));
        member["id"] = json!(id);
        self.collections
            .entry(collection.to_string())
            .or_default()
            .insert(id.to_string(), member.clone());
        (id, member)
    }
}

/// A tiny HTTP/1.1 API (one thread per connection, `Connection: close`) at
/// `http://127.0.0.1:PORT/api/`, collections `teams` and `players` (items
/// `/api/<name>/<id>/`, or without the trailing `/` in JSON:API mode). Its threads outlive
/// the test harmlessly.
struct MiniServer {
    base: String,
    state: std::sync::Arc<std::sync::Mutex<MiniState>>,
}

impl MiniServer {
    fn start(mode: MiniMode) -> MiniServer {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let state = std::sync::Arc::new(std::sync::Mutex::new(MiniState {
            next_id: 100,
            ..MiniState::default()
        }));
        let (shared, origin) = (state.clone(), base.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (state, origin) = (shared.clone(), origin.clone());
                std::thread::spawn(move || mini_exchange(stream, mode, &state, &origin));
            }
        });
        MiniServer { base, state }
    }

    fn members(&self, collection: &str) -> Vec<Value> {
        let state = self.state.lock().unwrap();
        state
            .collections
            .get(collection)
            .map(|members| members.values().cloned().collect())
            .unwrap_or_default()
    }

    fn writes(&self) -> Vec<(String, String, Option<Value>)> {
        let state = self.state.lock().unwrap();
        state
            .log
            .iter()
            .filter(|(method, _, _)| method != "GET")
            .cloned()
            .collect()
    }
}

/// A new temporary directory with a `tree` of JSON files, `teams` as (id, name) and
/// `players` as (id, team) named `P{id}`, and `location.yaml`, a `create: post` profile of
/// the two types without paging: (the directory, the profile, the tree).
fn location_tree(
    teams: &[(u64, &str)],
    players: &[(u64, u64)],
) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = temp_dir();
    let tree = dir.path().join("tree");
    for (id, name) in teams {
        write_file(
            &tree.join(format!("team/{id}.json")),
            &json!({"id": id, "name": name}).to_string(),
        );
    }
    for (id, team) in players {
        write_file(
            &tree.join(format!("player/{id}.json")),
            &json!({"id": id, "name": format!("P{id}"), "team": team}).to_string(),
        );
    }
    let profile = write_profile(
        dir.path(),
        "location.yaml",
        "records: \"\"\nnext: none\ncreate: post\ntypes:\n  team:\n    path: teams/\n  player:\n    path: players/\n    parents: {team: team}\n",
    );
    (dir, profile, tree)
}

fn mini_exchange(
    stream: std::net::TcpStream,
    mode: MiniMode,
    state: &std::sync::Mutex<MiniState>,
    origin: &str,
) {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut raw = vec![0; length];
    if reader.read_exact(&mut raw).is_err() {
        return;
    }
    let body: Option<Value> = serde_json::from_slice(&raw).ok();
    let path = target.split('?').next().unwrap_or("").to_string();
    let segments: Vec<String> = path
        .trim_start_matches("/api/")
        .trim_end_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let media = if mode == MiniMode::JsonApi204 {
        "application/vnd.api+json"
    } else {
        "application/json"
    };
    let (status, headers, answer): (u16, Vec<String>, Option<Value>) = {
        let mut state = state.lock().unwrap();
        state.log.push((method.clone(), path.clone(), body.clone()));
        let name = segments[0].clone();
        match (method.as_str(), segments.len(), mode) {
            ("GET", 1, MiniMode::Location | MiniMode::ForeignLocation) => {
                let members: Vec<Value> = state
                    .collections
                    .get(&name)
                    .map(|m| m.values().cloned().collect())
                    .unwrap_or_default();
                (200, vec![], Some(Value::Array(members)))
            }
            ("GET", 1, MiniMode::JsonApi204 | MiniMode::DataRecord) => {
                let members: Vec<Value> = state
                    .collections
                    .get(&name)
                    .map(|m| m.values().cloned().collect())
                    .unwrap_or_default();
                (
                    200,
                    vec![],
                    Some(json!({"data": members, "links": {"next": null}})),
                )
            }
            ("POST", 1, MiniMode::Location | MiniMode::ForeignLocation) => {
                let (id, _) = state.create(&name, body);
                (
                    201,
                    vec![if mode == MiniMode::ForeignLocation {
                        format!("Location: http://elsewhere.example/api/{name}/{id}/")
                    } else {
                        format!("Location: {origin}/api/{name}/{id}/")
                    }],
                    Some(json!({"status": "created"})),
                )
            }
            ("POST", 1, MiniMode::DataRecord) => {
                let (_, member) = state.create(&name, body);
                (200, vec![], Some(json!({ "data": member })))
            }
            ("POST", 1, MiniMode::JsonApi204) => {
                let data = body.map(|b| b["data"].clone()).unwrap_or(Value::Null);
                let id = text(&data["id"]);
                state
                    .collections
                    .entry(name.clone())
                    .or_default()
                    .insert(id, data);
                (204, vec![], None)
            }
            ("PUT" | "PATCH", 2, _) => {
                let mut member = body.unwrap_or(json!({}));
                if mode == MiniMode::JsonApi204 {
                    member = member["data"].clone();
                } else {
                    member["id"] = json!(segments[1].parse::<u64>().unwrap_or(0));
                }
                state
                    .collections
                    .entry(name.clone())
                    .or_default()
                    .insert(segments[1].clone(), member.clone());
                (200, vec![], Some(member))
            }
            _ => (404, vec![], Some(json!({"detail": "Not found."}))),
        }
    };
    let text = answer.map(|a| a.to_string()).unwrap_or_default();
    let mut response = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
    if status != 204 {
        response.push_str(&format!(
            "Content-Type: {media}\r\nContent-Length: {}\r\n",
            text.len()
        ));
    }
    for header in headers {
        response.push_str(&header);
        response.push_str("\r\n");
    }
    response.push_str("\r\n");
    if status != 204 {
        response.push_str(&text);
    }
    let mut stream = stream;
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

#[test]
fn profile_write_post_learns_the_id_from_a_same_origin_location() {
    let server = MiniServer::start(MiniMode::Location);
    let (dir, profile, tree) = location_tree(&[(1, "A"), (2, "B")], &[(1, 1), (2, 2), (3, 2)]);
    let map = dir.path().join("ids.yaml");
    let api = format!("{}/api", server.base);
    let run = push_mapped(&profile, &map, &tree, &api).ok();
    assert_eq!(summary(&run.stderr).created, 5, "{}", run.stderr);
    let teams = server.members("teams");
    let team_id = |name: &str| {
        teams
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {teams:?}"))["id"]
            .clone()
    };
    for player in server.members("players") {
        let want = if player["name"] == "P1" {
            team_id("A")
        } else {
            team_id("B")
        };
        assert_eq!(player["team"], want, "{player}");
        assert!(player["team"].is_u64(), "{player}");
    }
    let map_text = read(&map);
    assert_eq!(map_text.lines().count(), 5, "{map_text}");
    let before = server.writes().len();
    let rerun = push_mapped(&profile, &map, &tree, &api).ok();
    assert_eq!(
        server.writes().len(),
        before,
        "{:?}",
        &server.writes()[before..]
    );
    assert_eq!(summary(&rerun.stderr).unchanged, 5, "{}", rerun.stderr);
}

#[test]
fn profile_write_jsonapi_post_answered_204_keeps_the_id_sent() {
    let server = MiniServer::start(MiniMode::JsonApi204);
    let dir = temp_dir();
    let tree = dir.path().join("tree");
    write_file(
        &tree.join("teams/t1.json"),
        &json!({"type": "teams", "id": "t1", "attributes": {"name": "A"},
            "links": {"self": "http://elsewhere.example/teams/t1"}, "meta": {"v": 1}})
        .to_string(),
    );
    write_file(
        &tree.join("players/p1.json"),
        &json!({"type": "players", "id": "p1", "attributes": {"name": "P1"},
            "relationships": {"team": {"data": {"type": "teams", "id": "t1"}}}})
        .to_string(),
    );
    let profile = write_profile(
        dir.path(),
        "jsonapi.yaml",
        "format: jsonapi\nsend_id: true\nsize: none\ntypes:\n  teams:\n    path: teams\n  players:\n    path: players\n    parents: {team: teams}\n",
    );
    let api = format!("{}/api", server.base);
    let map = dir.path().join("ids.yaml");
    let args = ["--id-map", path_str(&map)];
    let plan = push(&profile, &["--dry-run"], path_str(&tree), &api).ok();
    assert_eq!(
        sorted_lines(&plan.stdout),
        sorted_strings(&[
            format!("create {api}/players (from players/p1)"),
            format!("create {api}/teams (from teams/t1)"),
        ]),
        "{}",
        plan.stderr
    );
    assert_eq!(summary(&plan.stderr).created, 2, "{}", plan.stderr);
    let run = push(&profile, &args, path_str(&tree), &api);
    assert_eq!(run.code, 0, "{}\n{:?}", run.stderr, server.writes());
    let writes = server.writes();
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert_eq!(writes[0].1, "/api/teams");
    assert_eq!(
        writes[0].2,
        Some(json!({"data": {"type": "teams", "id": "t1", "attributes": {"name": "A"}}})),
        "links and meta dropped"
    );
    assert_eq!(writes[1].1, "/api/players");
    let sent = writes[1].2.clone().unwrap();
    assert_eq!(sent["data"]["id"], "p1");
    assert_eq!(
        sent["data"]["relationships"]["team"]["data"],
        json!({"type": "teams", "id": "t1"})
    );
    // Rerun with the map: nothing to write.
    let rerun = push(&profile, &args, path_str(&tree), &api);
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert_eq!(server.writes().len(), 2, "{:?}", server.writes());
    // A 204 to a POST is a create (JSON:API: created with the client's id), as planned.
    let counts = summary(&run.stderr);
    assert_eq!((counts.created, counts.updated), (2, 0), "{}", run.stderr);
}

#[test]
fn profile_write_duplicate_keys_fail_a_dry_run_too() {
    let (destination, _dir, profile, tree, _map, api) = clone_with(
        drf_like(false),
        "keyed.yaml",
        &profile_text("create: post\n", "", "    key: [name]\n", ""),
    );
    destination.insert("players", json!({"id": 4, "name": "Player 1", "team": 1}));
    destination.insert("players", json!({"id": 7, "name": "Player 1", "team": 1}));
    let run = push(&profile, &["--dry-run"], path_str(&tree), &api).expect_code(1);
    assert_eq!(run.stdout, "", "{}", run.stderr);
    assert!(run.stderr.contains("Player 1"), "{}", run.stderr);
    assert_eq!(writes(&destination), Vec::<String>::new());
}

#[test]
fn profile_write_rm_deletes_at_nested_item_urls() {
    let (destination, _dir, profile, tree, _map, api) = clone_with(
        drf_like(true),
        "nested.yaml",
        &nested_profile_text("", "", ""),
    );
    add_strangers(&destination);
    let run = push(&profile, &["--rm", "--exit-code"], path_str(&tree), &api).expect_code(3);
    assert_eq!(
        writes(&destination),
        vec![
            "DELETE /api/stats/30/".to_string(),
            "DELETE /api/teams/10/players/20/".to_string(),
            "DELETE /api/teams/10/".to_string(),
        ],
        "{}",
        run.stderr
    );
    assert_eq!(summary(&run.stderr).deleted, 3, "{}", run.stderr);
    // In sync now: exit 0.
    push(&profile, &["--rm", "--exit-code"], path_str(&tree), &api).expect_code(0);
}

#[test]
fn profile_write_moved_child_is_updated_with_its_new_parents_destination_id() {
    // Player 1 moves from Team 1 to Team 3.
    let (destination, _dir, profile, tree, map, api) =
        cloned_then_edited("player/1.yaml", "team: 1", "team: 3");
    let run = push_mapped(&profile, &map, &tree, &api).ok();
    let player1 = id_where(&destination, "players", "name", &json!("Player 1"));
    let team3 = id_where(&destination, "teams", "name", &json!("Team 3"));
    assert_writes(
        &destination,
        vec![format!("PUT /api/players/{player1}/")],
        &run,
    );
    assert_eq!(
        destination.member("players", player1).unwrap()["team"],
        team3
    );
    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.updated, counts.unchanged),
        (1, 14),
        "{}",
        run.stderr
    );
}

#[test]
fn profile_write_key_plan_matches_the_run_when_the_parent_is_new() {
    let (destination, _dir, profile, tree, _map, api) =
        clone_with(drf_like(false), "keyed.yaml", &keyed_text());
    add_player3_in_team1(&destination);
    let plan = push(&profile, &["--dry-run"], path_str(&tree), &api).ok();
    let base = destination.base_url();
    assert!(
        plan.stdout
            .lines()
            .any(|line| line == format!("create {base}/api/players/ (from players/3/)")),
        "{}",
        plan.stdout
    );
    let run = push(&profile, &[], path_str(&tree), &api).ok();
    let (planned, done) = (summary(&plan.stderr), summary(&run.stderr));
    assert_eq!(
        (planned.created, planned.updated, planned.unchanged),
        (done.created, done.updated, done.unchanged),
        "plan:\n{}\nrun:\n{}",
        plan.stderr,
        run.stderr
    );
    assert_eq!((done.created, done.unchanged), (14, 1), "{}", run.stderr);
}

#[test]
fn profile_write_rm_with_verify_and_max_delete() {
    let (destination, _dir, profile, tree, _map, api) =
        clone_with(drf_like(true), "put.yaml", &profile_text("", "", "", ""));
    add_strangers(&destination);
    let base = destination.base_url();
    // More deletions than allowed: none made, each listed and skipped, exit 1.
    let limited = push(
        &profile,
        &["--rm", "--max-delete", "2"],
        path_str(&tree),
        &api,
    )
    .expect_code(1);
    assert_eq!(destination.count("DELETE"), 0, "{}", limited.stderr);
    for target in ["stats/30/", "players/20/", "teams/10/"] {
        assert!(
            limited
                .stderr
                .lines()
                .any(|line| line == format!("delete {base}/api/{target}")),
            "{target}:\n{}",
            limited.stderr
        );
    }
    assert_eq!(summary(&limited.stderr).skipped, 3, "{}", limited.stderr);
    // Allowed: deleted, and the verify counts what should remain.
    let run = push(
        &profile,
        &["--rm", "--max-delete", "3", "--verify"],
        path_str(&tree),
        &api,
    )
    .ok();
    assert_eq!(destination.count("DELETE"), 3, "{}", run.stderr);
    assert!(run.stderr.contains("verified 15 of 15"), "{}", run.stderr);
}

#[test]
fn profile_write_django_push_back_with_id_keys() {
    require_django();
    let server = DjangoServer::start(true);
    let (_dir, profile, tree) = django_pulled(&server, "/api", "drf.yaml", "records: results\nnext: body:next\nsize: page_size\ncreate: post\nreadonly: [url]\ntypes:\n  team:\n    path: teams/\n    key: [id]\n  player:\n    path: teams/{team}/players/\n    item: players/{id}/\n    parents: {team: team}\n    key: [id]\n  stat:\n    path: stats/\n    parents: {player: player}\n    key: [id]\n");
    let api = format!("{}/api", server.base_url());
    let before = django_writes(&server).len();
    let same = push(&profile, &[], path_str(&tree), &api);
    assert_eq!(same.code, 0, "{}\n{}", same.stderr, server.output());
    assert_eq!(django_writes(&server).len(), before, "{}", same.stderr);
    assert_eq!(summary(&same.stderr).unchanged, 15, "{}", same.stderr);

    replace_in_file(&tree.join("stat/2.yaml"), "points: 20", "points: 25");
    let changed = push(&profile, &[], path_str(&tree), &api);
    assert_eq!(changed.code, 0, "{}\n{}", changed.stderr, server.output());
    let new = django_writes_since(&server, before);
    assert_eq!(
        new,
        vec!["PUT /api/stats/2/".to_string()],
        "{}",
        changed.stderr
    );
    assert_eq!(server.get_json("/api/stats/2/")["points"], 25);
}

#[test]
fn profile_write_post_never_learns_an_id_from_a_foreign_location() {
    let server = MiniServer::start(MiniMode::ForeignLocation);
    let (dir, profile, tree) = location_tree(&[(1, "A")], &[(1, 1)]);
    let map = dir.path().join("ids.yaml");
    let api = format!("{}/api", server.base);
    let run = push_mapped(&profile, &map, &tree, &api).expect_code(1);
    // The team was created, but its id is unknown: it fails, its player is skipped.
    let writes = server.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].1, "/api/teams/");
    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.created, counts.failed, counts.skipped),
        (0, 1, 1),
        "{}",
        run.stderr
    );
    assert!(!read(&map).contains("teams/1/"), "{}", read(&map));
}

#[test]
fn profile_write_skipped_resource_is_named_by_its_destination_url() {
    let server = MiniServer::start(MiniMode::ForeignLocation);
    let (_dir, profile, tree) = location_tree(&[(1, "A")], &[(1, 1)]);
    let api = format!("{}/api", server.base);
    let run = push(&profile, &[], path_str(&tree), &api).expect_code(1);
    let wrong = format!("{}/players/", server.base);
    assert!(!run.stderr.contains(&wrong), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{api}/players/")),
        "{}",
        run.stderr
    );
    let json_run = push(&profile, &["--output", "json"], path_str(&tree), &api).expect_code(1);
    let skipped: Vec<Value> = json_run
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON"))
        .filter(|line| line["status"] == "skipped")
        .collect();
    assert_eq!(skipped.len(), 1, "{}", json_run.stdout);
    let target = skipped[0]["target"].as_str().unwrap_or("");
    assert!(
        target.starts_with(&format!("{api}/players/")),
        "{}",
        json_run.stdout
    );
}

// --- a tree remembers its API --------------------------------------------------------------

#[test]
fn profile_tree_records_its_api_and_a_push_back_updates_in_place() {
    let server = drf_like(true);
    let (dir, profile, tree) = pulled(&server, "post.yaml", &post_text());
    let api = server.url("/api");
    assert_eq!(read(&tree.join(ORIGIN_RECORD)), format!("{api}\n"));
    let team = tree.join("team/1.yaml");
    let edited = read(&team).replace("name: Team 1", "name: Renamed");
    assert_ne!(edited, read(&team), "the seeded name is in the file");
    write_file(&team, &edited);
    let before = server.requests().len();
    push(&profile, &[], path_str(&tree), &api).ok();
    let sent: Vec<String> = writes(&server);
    assert_eq!(sent, ["PUT /api/teams/1/"], "one update, no POST");
    assert!(server.requests().len() > before);
    assert_eq!(server.member("teams", 1).unwrap()["name"], "Renamed");
    // Another API is a clone target: every member is created there.
    let other = drf_like(false);
    push(&profile, &[], path_str(&tree), &other.url("/api")).ok();
    let posts = writes(&other)
        .iter()
        .filter(|w| w.starts_with("POST"))
        .count();
    assert_eq!(posts, 15, "{:?}", writes(&other));
    // A dry run records nothing; `--rm` never removes the record.
    let planned = dir.path().join("planned");
    run(&[
        "--api",
        path_str(&profile),
        "--dry-run",
        &api,
        path_str(&planned),
    ])
    .ok();
    assert!(!planned.join(ORIGIN_RECORD).exists());
    run(&["--api", path_str(&profile), "--rm", &api, path_str(&tree)]).ok();
    assert_eq!(read(&tree.join(ORIGIN_RECORD)), format!("{api}\n"));
}

#[test]
fn profile_readonly_id_is_never_sent_and_parent_ids_keep_their_type() {
    let server = drf_like(true);
    let text = post_text().replace("readonly: [created]", "readonly: [created, id]");
    let (_dir, profile, tree) = pulled(&server, "post.yaml", &text);
    let team = tree.join("team/2.yaml");
    write_file(&team, &read(&team).replace("name: Team 2", "name: Renamed"));
    push(&profile, &[], path_str(&tree), &server.url("/api")).ok();
    let other = drf_like(false);
    push(&profile, &[], path_str(&tree), &other.url("/api")).ok();
    let bodies: Vec<(String, Value)> = [&server, &other]
        .iter()
        .flat_map(|api| api.requests())
        .filter(|request| request.method == "PUT" || request.method == "POST")
        .map(|request| (request.method.clone(), request.body.clone().unwrap()))
        .collect();
    assert_eq!(bodies.iter().filter(|(m, _)| m == "PUT").count(), 1);
    assert_eq!(bodies.iter().filter(|(m, _)| m == "POST").count(), 15);
    for (method, body) in &bodies {
        assert!(body.get("id").is_none(), "{method} sent an id: {body}");
        for parent in ["team", "player"] {
            if let Some(value) = body.get(parent) {
                assert!(value.is_u64(), "{method} {parent} not a number: {body}");
            }
        }
    }
    assert_eq!(server.member("teams", 2).unwrap()["name"], "Renamed");
}

/// `(name, field)` of every member of `collection`, sorted.
fn names_with(server: &MiniServer, collection: &str, field: &str) -> Vec<(String, u64)> {
    let mut pairs: Vec<(String, u64)> = server
        .members(collection)
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m[field].as_u64().unwrap(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn profile_write_post_answered_200_with_a_data_record_is_a_create() {
    let server = MiniServer::start(MiniMode::DataRecord);
    let (dir, _, tree) = location_tree(&[(1, "A"), (2, "B")], &[(1, 1), (2, 2), (3, 2)]);
    let profile = write_profile(
        dir.path(),
        "directus.yaml",
        "records: data\nrecord: data\nnext: none\ncreate: post\ntypes:\n  team:\n    path: teams\n  player:\n    path: players\n    parents: {team: team}\n",
    );
    let map = dir.path().join("ids.yaml");
    let api = format!("{}/api", server.base);
    let run = push_mapped(&profile, &map, &tree, &api).ok();
    assert_eq!(summary(&run.stderr).created, 5, "{}", run.stderr);
    let teams: BTreeMap<String, u64> = names_with(&server, "teams", "id").into_iter().collect();
    let players = names_with(&server, "players", "team");
    let (a, b) = (teams["A"], teams["B"]);
    assert!(a >= 100 && b >= 100, "server ids: {teams:?}");
    assert_eq!(
        players,
        [("P1".into(), a), ("P2".into(), b), ("P3".into(), b)]
    );
    // A second push finds every clone through the id map: nothing is created again.
    let again = push_mapped(&profile, &map, &tree, &api).ok();
    assert_eq!(summary(&again.stderr).created, 0, "{}", again.stderr);
}
