//! Reading with an `--api FILE` profile (SPEC section 8): every pagination kind and quirk
//! against the plain-JSON test API, nested paths, the `{type, body}` envelope of files and
//! stdio, `--type` with parents, profile validation, and the real json-server and Django
//! services. Writes to HTTP with a profile are not covered here.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::json_server::{require_json_server, JsonServer};
use super::profiles_common::*;
use crate::server::django::{require_django, DjangoServer};
use crate::server::plain::{encode_cursor, Envelope, Pagination, PlainConfig, PlainServer};
use crate::util::*;

// --- helpers -------------------------------------------------------------------------------

/// A plain server with 3 teams, 2 players each, one stat a player; the page size is taken
/// from `page_size` (5 when the request carries none, so a missing size shows up as
/// different pages).
fn plain(envelope: Envelope, pagination: Pagination) -> PlainServer {
    plain_with(envelope, pagination, |_| {})
}

fn plain_with(
    envelope: Envelope,
    pagination: Pagination,
    tweak: impl FnOnce(&mut PlainConfig),
) -> PlainServer {
    let mut config = PlainConfig::new(envelope, pagination).seeded(3, 2);
    config.size_param = Some("page_size".to_string());
    config.page_size = 5;
    tweak(&mut config);
    PlainServer::start(config)
}

/// A profile of the plain API with top-level collections: `settings` (top-level lines,
/// each ending in a newline) then `size: page_size` and the three types.
fn flat_profile(settings: &str) -> String {
    format!(
        "{settings}size: page_size\ntypes:\n  team:\n    path: teams/\n  player:\n    path: players/\n    parents: {{team: team}}\n  stat:\n    path: stats/\n    parents: {{player: player}}\n"
    )
}

/// The same with players read through their team.
fn nested_profile(settings: &str) -> String {
    format!(
        "{settings}size: page_size\ntypes:\n  team:\n    path: teams/\n  player:\n    path: teams/{{team}}/players/\n    parents: {{team: team}}\n  stat:\n    path: stats/\n    parents: {{player: player}}\n"
    )
}

fn write_profile(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("profile.yaml");
    write_file(&path, text);
    path
}

/// `resource-sync --api PROFILE -l 2 {base}/api DESTINATION` plus `extra` before the endpoints.
fn pull(server: &PlainServer, profile: &Path, extra: &[&str], destination: &str) -> Run {
    let api = server.url("/api");
    let mut args = vec!["--api", path_str(profile), "-l", "2"];
    args.extend_from_slice(extra);
    args.push(&api);
    args.push(destination);
    run(&args)
}

/// Pulls `server` with the profile `text` (and `extra`) into `name` in a new temporary
/// directory, expecting exit `code`: (the directory, the destination, the run).
fn pull_into(
    server: &PlainServer,
    text: &str,
    extra: &[&str],
    name: &str,
    code: i32,
) -> (tempfile::TempDir, PathBuf, Run) {
    let dir = temp_dir();
    let profile = write_profile(dir.path(), text);
    let out = dir.path().join(name);
    let run = pull(server, &profile, extra, path_str(&out)).expect_code(code);
    (dir, out, run)
}

/// `out` holds the three seeded teams and nothing else.
fn assert_teams_only(out: &Path, run: &Run) {
    assert_eq!(
        list_files(out),
        ["team/1.yaml", "team/2.yaml", "team/3.yaml"],
        "{}",
        run.stderr
    );
}

/// `pull_into` `out` with `extra`, which must succeed.
fn pull_out_with(
    server: &PlainServer,
    text: &str,
    extra: &[&str],
) -> (tempfile::TempDir, PathBuf, Run) {
    pull_into(server, text, extra, "out", 0)
}

/// `pull_into` `out`, which must succeed.
fn pull_out(server: &PlainServer, text: &str) -> (tempfile::TempDir, PathBuf, Run) {
    pull_out_with(server, text, &[])
}

/// Each seeded team's players were read once, through the team.
fn assert_players_read_once_per_team(server: &PlainServer) {
    for team in 1..=3 {
        assert_eq!(
            server.count_path("GET", &format!("/api/teams/{team}/players/")),
            1
        );
    }
}

/// Pulling `server` with the profile `text` fails (exit 1) naming the URL of `path` and
/// `word`, and writes nothing.
fn assert_pull_fails_naming(server: &PlainServer, text: &str, path: &str, word: &str) {
    let (_dir, out, run) = pull_into(server, text, &[], "out", 1);
    assert!(run.stderr.contains(&server.url(path)), "{}", run.stderr);
    assert!(run.stderr.contains(word), "{}", run.stderr);
    assert_nothing_written(&out);
}

/// The seeded server paging by Link, and the profile `text` in a new temporary directory:
/// (the server, the directory, the profile, its `out`).
fn link_setup(text: &str) -> (PlainServer, tempfile::TempDir, PathBuf, PathBuf) {
    let server = plain(Envelope::Bare, Pagination::Link);
    let dir = temp_dir();
    let profile = write_profile(dir.path(), text);
    let out = dir.path().join("out");
    (server, dir, profile, out)
}

/// A path and query with its query pairs decoded and sorted, so the order the client puts
/// its parameters in does not matter.
pub(super) fn normalized(path_and_query: &str) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        return path.to_string();
    }
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", query.join("&"))
}

/// The server's GETs, normalized and sorted.
fn gets(server: &PlainServer) -> Vec<String> {
    let mut paths: Vec<String> = server.paths("GET").iter().map(|p| normalized(p)).collect();
    paths.sort();
    paths
}

/// Every expected GET was made once; any other is a page asked for ahead past the end of a
/// chain (SPEC section 3): of an expected collection, and no more of them than pages read.
fn assert_gets(server: &PlainServer, expected: &[String]) {
    let made = gets(server);
    assert_all_distinct(&made, "a GET");
    let missing: Vec<&String> = expected.iter().filter(|e| !made.contains(e)).collect();
    assert!(missing.is_empty(), "not read: {missing:?} in {made:?}");
    let path_of = |get: &str| get.split('?').next().unwrap_or_default().to_string();
    let ahead: Vec<&String> = made.iter().filter(|m| !expected.contains(m)).collect();
    assert!(
        ahead.len() <= expected.len(),
        "too many pages ahead: {ahead:?}"
    );
    for extra in ahead {
        assert!(
            expected.iter().any(|e| path_of(e) == path_of(extra)),
            "{extra} is not a page of a collection read: {made:?}"
        );
    }
}

/// The GETs a read of the three flat collections makes: for each, one per extra query
/// (`""` = none) added to `page_size=2`; normalized and sorted.
fn expected_gets(teams: &[&str], players: &[&str], stats: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for (collection, queries) in [("teams", teams), ("players", players), ("stats", stats)] {
        for query in queries {
            let sep = if query.is_empty() { "" } else { "&" };
            out.push(normalized(&format!(
                "/api/{collection}/?page_size=2{sep}{query}"
            )));
        }
    }
    out.sort();
    out
}

/// The tree a pull of the seeded plain server (3 teams, 2 players each) leaves.
fn seeded_tree() -> Vec<String> {
    seeded_files("team", "player", "stat")
}

/// The files of the seeded members, sorted, with these type names.
fn seeded_files(team: &str, player: &str, stat: &str) -> Vec<String> {
    seeded_paths("", [team, player, stat], ".yaml")
}

fn yaml_to_json(yaml: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => json!(i),
        Yaml::Real(text) => json!(text.parse::<f64>().expect("a real")),
        Yaml::String(text) => Value::String(text.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            for (key, value) in hash {
                let key = match key {
                    Yaml::String(text) => text.clone(),
                    other => yaml_to_json(other).to_string(),
                };
                map.insert(key, yaml_to_json(value));
            }
            Value::Object(map)
        }
        other => panic!("unexpected YAML node {other:?}"),
    }
}

/// Every document of a YAML text, as JSON.
fn yaml_documents_of(text: &str) -> Vec<Value> {
    yaml_rust2::YamlLoader::load_from_str(text)
        .unwrap_or_else(|error| panic!("YAML: {error}\n{text}"))
        .iter()
        .map(yaml_to_json)
        .collect()
}

/// The one document of a YAML file, as JSON.
fn read_yaml(path: &Path) -> Value {
    let mut documents = yaml_documents_of(&read(path));
    assert_eq!(documents.len(), 1, "{}", path.display());
    documents.remove(0)
}

/// The pulled tree is exactly the seeded data, each file the member as the server holds it.
fn assert_seeded_tree(server: &PlainServer, out: &Path, run: &Run) {
    assert_eq!(
        list_files(out),
        seeded_tree(),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    for (folder, collection, count) in [
        ("team", "teams", 3),
        ("player", "players", 6),
        ("stat", "stats", 6),
    ] {
        for id in 1..=count {
            let file = out.join(format!("{folder}/{id}.yaml"));
            assert_eq!(
                read_yaml(&file),
                server.member(collection, id).expect("a seeded member"),
                "{}",
                file.display()
            );
        }
    }
    // One file's exact bytes: the member as returned, keys sorted, in YAML.
    let player = server.member("players", 3).unwrap();
    assert_eq!(
        read(&out.join("player/3.yaml")),
        format!(
            "---\ncreated: '{}'\nid: 3\nname: Player 3\nteam: 2\n",
            player["created"].as_str().unwrap()
        )
    );
    assert_eq!(summary(&run.stderr).read, 15, "{}", run.stderr);
}

/// Pulls the seeded server with `flat_profile(settings)` into a directory: exit 0, the
/// seeded tree, and exactly `expected` GETs (each URL once).
fn assert_pull(server: &PlainServer, settings: &str, expected: Vec<String>) {
    let dir = temp_dir();
    let profile = write_profile(dir.path(), &flat_profile(settings));
    let out = dir.path().join("out");
    let run = pull(server, &profile, &[], path_str(&out)).ok();
    assert_seeded_tree(server, &out, &run);
    assert_all_distinct(&server.paths("GET"), "a GET");
    assert_gets(server, &expected);
}

// --- 1. pagination kinds -------------------------------------------------------------------

const PAGES_2: [&str; 2] = ["", "page=2"];
const PAGES_3: [&str; 3] = ["", "page=2", "page=3"];

/// `expected_gets` with the same pages of players and of stats.
fn member_pages(teams: &[&str], members: &[&str]) -> Vec<String> {
    expected_gets(teams, members, members)
}

/// The GETs of two pages of teams, three of players and three of stats.
fn pages_2_3_3() -> Vec<String> {
    member_pages(&PAGES_2, &PAGES_3)
}

#[test]
fn profile_read_link_header_pages() {
    let server = plain(Envelope::Bare, Pagination::Link);
    assert_pull(&server, "records: \"\"\nnext: link\n", pages_2_3_3());
}

#[test]
fn profile_read_link_is_the_default_next() {
    let server = plain(Envelope::Bare, Pagination::Link);
    assert_pull(&server, "records: \"\"\n", pages_2_3_3());
}

#[test]
fn profile_read_body_next_string() {
    let server = plain(
        Envelope::Results,
        Pagination::BodyNext { object_href: false },
    );
    assert_pull(
        &server,
        "records: results\nnext: body:next\n",
        pages_2_3_3(),
    );
}

#[test]
fn profile_read_body_next_object_with_href() {
    let server = plain(
        Envelope::Results,
        Pagination::BodyNext { object_href: true },
    );
    assert_pull(
        &server,
        "records: results\nnext: body:next\n",
        pages_2_3_3(),
    );
}

#[test]
fn profile_read_body_links_next_in_data_envelope() {
    let server = plain(Envelope::Data, Pagination::BodyNext { object_href: false });
    assert_pull(
        &server,
        "records: data\nnext: body:links.next\n",
        pages_2_3_3(),
    );
}

#[test]
fn profile_read_page_numbers_end_on_404() {
    let server = plain(Envelope::Results, Pagination::page("page"));
    assert_pull(
        &server,
        "records: results\nnext: page:page\n",
        member_pages(
            &["page=1", "page=2", "page=3"],
            &["page=1", "page=2", "page=3", "page=4"],
        ),
    );
    // The 404s past the end were answered, and did not fail the run.
    let not_found: Vec<String> = server
        .requests()
        .iter()
        .filter(|request| request.status == 404)
        .map(|request| normalized(&request.path_and_query))
        .collect();
    assert_eq!(not_found.len(), 3, "{not_found:?}");
}

#[test]
fn profile_read_page_numbers_end_on_a_page_that_repeats_the_last() {
    // json-server 1.0 answers any `_page` past the end with the last page again.
    let server = plain_with(Envelope::Results, Pagination::page("page"), |config| {
        config.repeat_last_page = true;
    });
    assert_pull(
        &server,
        "records: results\nnext: page:page\n",
        member_pages(
            &["page=1", "page=2", "page=3"],
            &["page=1", "page=2", "page=3", "page=4"],
        ),
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|request| request.status == 200),
        "every page past the end answered the last one again"
    );
}

#[test]
fn profile_read_page_numbers_from_zero() {
    let server = plain(
        Envelope::Bare,
        Pagination::Page {
            param: "p".to_string(),
            start: 0,
        },
    );
    assert_pull(
        &server,
        "records: \"\"\nnext: page:p@0\n",
        member_pages(&["p=0", "p=1", "p=2"], &["p=0", "p=1", "p=2", "p=3"]),
    );
}

#[test]
fn profile_read_offsets_end_on_an_empty_page() {
    let server = plain(Envelope::Bare, Pagination::offset("offset"));
    assert_pull(
        &server,
        "records: \"\"\nnext: offset:offset\n",
        member_pages(
            &["offset=0", "offset=2", "offset=3"],
            &["offset=0", "offset=2", "offset=4", "offset=6"],
        ),
    );
}

#[test]
fn profile_read_offsets_end_on_404() {
    let server = plain_with(Envelope::Results, Pagination::offset("start"), |config| {
        config.offset_past_end_404 = true;
    });
    assert_pull(
        &server,
        "records: results\nnext: offset:start\n",
        member_pages(
            &["start=0", "start=2", "start=3"],
            &["start=0", "start=2", "start=4", "start=6"],
        ),
    );
}

/// The extra queries of a cursor chain over `last_ids` (the last id of each page but the last).
fn cursors(last_ids: &[u64]) -> Vec<String> {
    let mut out = vec![String::new()];
    out.extend(
        last_ids
            .iter()
            .map(|id| format!("cursor={}", encode_cursor(*id))),
    );
    out
}

fn as_strs(items: &[String]) -> Vec<&str> {
    items.iter().map(String::as_str).collect()
}

#[test]
fn profile_read_cursor_in_body() {
    let server = plain(Envelope::Results, Pagination::cursor_in_body("cursor"));
    let (teams, members) = (cursors(&[2]), cursors(&[2, 4]));
    let expected = member_pages(&as_strs(&teams), &as_strs(&members));
    assert_pull(
        &server,
        "records: results\nnext: cursor:cursor=body:next_cursor\n",
        expected.clone(),
    );
    // A cursor cannot be guessed: read link by link, no page asked for ahead.
    assert_eq!(gets(&server), expected);
}

#[test]
fn profile_read_cursor_in_header() {
    let server = plain(
        Envelope::Bare,
        Pagination::cursor_in_header("cursor", "X-Next-Cursor"),
    );
    let (teams, members) = (cursors(&[2]), cursors(&[2, 4]));
    assert_pull(
        &server,
        "records: \"\"\nnext: cursor:cursor=header:X-Next-Cursor\n",
        member_pages(&as_strs(&teams), &as_strs(&members)),
    );
}

#[test]
fn profile_read_next_none_is_one_request_a_type() {
    let server = plain(Envelope::Bare, Pagination::None);
    assert_pull(
        &server,
        "records: \"\"\nnext: none\n",
        member_pages(&[""], &[""]),
    );
}

#[test]
fn profile_read_without_size_sends_no_limit_parameter() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let (_dir, out, run) = pull_out(
        &server,
        "records: \"\"\ntypes:\n  team:\n    path: teams/\n",
    );
    assert_teams_only(&out, &run);
    // The server's own page size (5) applies: one page, no size or limit parameter sent.
    assert_eq!(server.paths("GET"), ["/api/teams/"]);
}

// --- 1b. pagination quirks -----------------------------------------------------------------

#[test]
fn profile_read_link_pointing_back_is_not_refetched() {
    let server = plain_with(Envelope::Bare, Pagination::Link, |config| {
        config.next_points_back = true;
    });
    assert_pull(&server, "records: \"\"\nnext: link\n", pages_2_3_3());
}

#[test]
fn profile_read_body_next_pointing_back_is_not_refetched() {
    let server = plain_with(
        Envelope::Results,
        Pagination::BodyNext { object_href: true },
        |config| config.next_points_back = true,
    );
    assert_pull(
        &server,
        "records: results\nnext: body:next\n",
        pages_2_3_3(),
    );
}

#[test]
fn profile_read_link_empty_last_page_ends_the_chain() {
    let server = plain_with(Envelope::Bare, Pagination::Link, |config| {
        config.empty_last_page = true;
    });
    // The empty page is read; the next page it still announces is not.
    assert_pull(
        &server,
        "records: \"\"\nnext: link\n",
        member_pages(&PAGES_3, &["", "page=2", "page=3", "page=4"]),
    );
}

#[test]
fn profile_read_body_links_next_empty_last_page_ends_the_chain() {
    let server = plain_with(
        Envelope::Data,
        Pagination::BodyNext { object_href: false },
        |config| config.empty_last_page = true,
    );
    assert_pull(
        &server,
        "records: data\nnext: body:links.next\n",
        member_pages(&PAGES_3, &["", "page=2", "page=3", "page=4"]),
    );
}

#[test]
fn profile_read_page_numbers_empty_last_page_ends_the_chain() {
    let server = plain_with(Envelope::Bare, Pagination::page("page"), |config| {
        config.empty_last_page = true;
    });
    // The extra page answers 200 with no members: the chain ends there, no 404 needed.
    assert_pull(
        &server,
        "records: \"\"\nnext: page:page\n",
        member_pages(
            &["page=1", "page=2", "page=3"],
            &["page=1", "page=2", "page=3", "page=4"],
        ),
    );
    // Only a page asked for ahead past the empty one may answer 404.
    let read = member_pages(
        &["page=1", "page=2", "page=3"],
        &["page=1", "page=2", "page=3", "page=4"],
    );
    assert!(server
        .requests()
        .iter()
        .filter(|request| read.contains(&normalized(&request.path_and_query)))
        .all(|request| request.status == 200));
}

#[test]
fn profile_read_cursor_empty_last_page_ends_the_chain() {
    let server = plain_with(
        Envelope::Results,
        Pagination::cursor_in_body("cursor"),
        |config| config.empty_last_page = true,
    );
    let (teams, members) = (cursors(&[2, 3]), cursors(&[2, 4, 6]));
    assert_pull(
        &server,
        "records: results\nnext: cursor:cursor=body:next_cursor\n",
        member_pages(&as_strs(&teams), &as_strs(&members)),
    );
}

#[test]
fn profile_read_past_max_pages_fails_naming_the_url() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let (_dir, out, run) = pull_into(
        &server,
        &flat_profile("records: \"\"\nnext: link\n"),
        &["--max-pages", "2"],
        "out",
        1,
    );
    assert!(
        run.stderr.contains(&server.url("/api/players/")),
        "{}",
        run.stderr
    );
    assert_nothing_written(&out);
}

// --- 2. nested paths -----------------------------------------------------------------------

#[test]
fn profile_read_nested_players_once_per_team() {
    let mut config = PlainConfig::new(Envelope::Bare, Pagination::Link).seeded(3, 3);
    config.size_param = Some("page_size".to_string());
    config.page_size = 5;
    let server = PlainServer::start(config);
    let (_dir, out, run) = pull_out(&server, &nested_profile("records: \"\"\nnext: link\n"));

    let mut expected: Vec<String> = Vec::new();
    for id in 1..=9 {
        expected.push(format!("player/{id}.yaml"));
        expected.push(format!("stat/{id}.yaml"));
    }
    for id in 1..=3 {
        expected.push(format!("team/{id}.yaml"));
    }
    expected.sort();
    assert_eq!(list_files(&out), expected, "{}", run.stderr);
    assert_eq!(
        read_yaml(&out.join("player/5.yaml")),
        server.member("players", 5).unwrap()
    );

    // Each team's players: 3 members, pages of 2, so two GETs per team, and each once.
    for team in 1..=3 {
        let path = format!("/api/teams/{team}/players/");
        assert_eq!(server.count_path("GET", &path), 2, "{path}");
        let pages: Vec<String> = server
            .paths("GET")
            .iter()
            .filter(|p| p.starts_with(&path))
            .map(|p| normalized(p))
            .collect();
        let mut pages = pages;
        pages.sort();
        assert_eq!(
            pages,
            [
                normalized(&format!("{path}?page=2&page_size=2")),
                normalized(&format!("{path}?page_size=2")),
            ]
        );
    }
    assert_eq!(server.count_path("GET", "/api/players/"), 0);
    assert_eq!(server.count_path("GET", "/api/teams/"), 2);
    // Five pages of stats, and maybe as many asked for ahead past the end.
    assert!((5..=10).contains(&server.count_path("GET", "/api/stats/")));
    assert_all_distinct(&server.paths("GET"), "a GET");
    // Parents first: every nested read comes after the teams' pages.
    let paths = server.paths("GET");
    let last_team_page = paths
        .iter()
        .rposition(|p| p.starts_with("/api/teams/?"))
        .unwrap();
    let first_nested = paths.iter().position(|p| p.contains("/players/")).unwrap();
    assert!(last_team_page < first_nested, "{paths:?}");
    assert_eq!(summary(&run.stderr).read, 21, "{}", run.stderr);
}

#[test]
fn profile_read_nested_path_with_a_team_without_players() {
    let server = plain(Envelope::Results, Pagination::page("page"));
    insert_team(&server, 4, "Team 4", "City 4");
    let (_dir, out, run) = pull_out_with(
        &server,
        &nested_profile("records: results\nnext: page:page\n"),
        &["--type", "player"],
    );
    // Team 4 is read (its players are asked for) but, parent of no player, not kept.
    let mut expected: Vec<String> = (1..=6).map(|id| format!("player/{id}.yaml")).collect();
    expected.extend((1..=3).map(|id| format!("team/{id}.yaml")));
    assert_eq!(list_files(&out), expected, "{}", run.stderr);
    assert_eq!(summary(&run.stderr).read, 10, "{}", run.stderr);
    // The empty team's list is one empty first page: no second request.
    assert_eq!(
        server
            .paths("GET")
            .iter()
            .filter(|p| p.starts_with("/api/teams/4/players/"))
            .count(),
        1,
        "{:?}",
        server.paths("GET")
    );
}

// --- 3. the {type, body} envelope ----------------------------------------------------------

/// The rank of a type in parents-first order.
fn rank(kind: &str) -> usize {
    ["team", "player", "stat"]
        .iter()
        .position(|known| *known == kind)
        .unwrap_or_else(|| panic!("unknown type {kind}"))
}

/// Documents are `{"type", "body"}` only, parents first, and hold exactly the seeded data.
fn assert_enveloped(server: &PlainServer, documents: &[Value]) {
    assert_eq!(documents.len(), 15, "{documents:?}");
    let mut seen = Vec::new();
    for document in documents {
        let object = document.as_object().expect("a mapping");
        let mut keys: Vec<&String> = object.keys().collect();
        keys.sort();
        assert_eq!(keys, ["body", "type"], "{document}");
        let kind = document["type"].as_str().expect("a type string");
        let id = document["body"]["id"].as_u64().expect("an id");
        let collection = format!("{kind}s");
        assert_eq!(
            document["body"],
            server.member(&collection, id).unwrap(),
            "{document}"
        );
        seen.push((rank(kind), id));
    }
    let ranks: Vec<usize> = seen.iter().map(|(rank, _)| *rank).collect();
    let mut sorted = ranks.clone();
    sorted.sort();
    assert_eq!(ranks, sorted, "parents first: {documents:?}");
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 15);
}

#[test]
fn profile_read_into_jsonl_and_back_into_a_directory() {
    let server = plain(
        Envelope::Results,
        Pagination::BodyNext { object_href: false },
    );
    let dir = temp_dir();
    let profile = write_profile(
        dir.path(),
        &nested_profile("records: results\nnext: body:next\n"),
    );
    let jsonl = dir.path().join("pulled.jsonl");
    let run = pull(&server, &profile, &[], path_str(&jsonl)).ok();
    let text = read(&jsonl);
    let documents: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert_enveloped(&server, &documents);
    assert_eq!(summary(&run.stderr).read, 15);

    // The file read back with the same profile: the same tree as a direct pull, no request.
    let requests = server.requests().len();
    let from_file = dir.path().join("from-file");
    let back = run_args(&profile, &[path_str(&jsonl), path_str(&from_file)]).ok();
    assert_eq!(
        server.requests().len(),
        requests,
        "reading a file asks nothing"
    );
    assert_seeded_tree(&server, &from_file, &back);

    let direct = dir.path().join("direct");
    pull(&server, &profile, &[], path_str(&direct)).ok();
    assert_eq!(file_contents(&from_file), file_contents(&direct));

    // And the directory back into JSON Lines: the same documents.
    let again = dir.path().join("again.jsonl");
    run_args(&profile, &[path_str(&from_file), path_str(&again)]).ok();
    let again_documents: Vec<Value> = read(&again)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    assert_enveloped(&server, &again_documents);
    assert_eq!(sorted_lines(&read(&again)), sorted_lines(&text));
}

/// `resource-sync --api PROFILE ARGS...`.
fn run_args(profile: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--api", path_str(profile)];
    all.extend_from_slice(args);
    run(&all)
}

#[test]
fn profile_read_to_stdout_is_enveloped_parents_first() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let dir = temp_dir();
    let profile = write_profile(dir.path(), &nested_profile("records: \"\"\n"));
    let run = pull(&server, &profile, &[], "-").ok();
    assert_enveloped(&server, &yaml_documents_of(&run.stdout));

    // Piped back in through stdin with the same profile, into a directory.
    let out = dir.path().join("out");
    let back = run_with_stdin(
        &["--api", path_str(&profile), "-", path_str(&out)],
        &run.stdout,
    )
    .ok();
    assert_seeded_tree(&server, &out, &back);
}

#[test]
fn profile_read_to_stdout_as_json_keeps_the_envelope() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let dir = temp_dir();
    let profile = write_profile(dir.path(), &flat_profile("records: \"\"\n"));
    let run = pull(&server, &profile, &["--json"], "-").ok();
    // JSON Lines or one array: either way, the same enveloped documents.
    let text = run.stdout.trim();
    let documents: Vec<Value> = if text.starts_with('[') {
        serde_json::from_str::<Vec<Value>>(text).expect("a JSON array")
    } else {
        text.lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    };
    assert_enveloped(&server, &documents);
}

// --- 4. --type keeps the parents it needs --------------------------------------------------

#[test]
fn profile_read_type_player_reads_teams_but_not_stats() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let (_dir, out, run) = pull_out_with(
        &server,
        &nested_profile("records: \"\"\n"),
        &["--type", "player"],
    );
    let mut expected: Vec<String> = (1..=6).map(|id| format!("player/{id}.yaml")).collect();
    expected.extend((1..=3).map(|id| format!("team/{id}.yaml")));
    assert_eq!(list_files(&out), expected, "{}", run.stderr);
    assert_eq!(server.count_path("GET", "/api/stats/"), 0);
    assert_eq!(server.count_path("GET", "/api/teams/"), 2);
    assert_players_read_once_per_team(&server);
}

#[test]
fn profile_read_type_team_reads_only_teams() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let (_dir, out, run) = pull_out_with(
        &server,
        &nested_profile("records: \"\"\n"),
        &["--type", "team"],
    );
    assert_teams_only(&out, &run);
    assert_eq!(
        gets(&server),
        [
            normalized("/api/teams/?page=2&page_size=2"),
            normalized("/api/teams/?page_size=2"),
        ]
    );
}

// --- 5. profile validation -----------------------------------------------------------------

/// A profile that must be refused before any request: exit 2, stderr naming each of `names`.
fn assert_refused(profile_text: &str, extra: &[&str], names: &[&str]) {
    let server = plain(Envelope::Bare, Pagination::Link);
    let (_dir, out, run) = pull_into(&server, profile_text, extra, "out", 2);
    for name in names {
        assert!(
            run.stderr.contains(name),
            "stderr should name {name:?}:\n{}",
            run.stderr
        );
    }
    assert!(
        server.requests().is_empty(),
        "requests were made: {:?}",
        server.paths("GET")
    );
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn profile_error_unknown_top_level_key() {
    assert_refused(
        "records: \"\"\ncolour: red\ntypes:\n  team:\n    path: teams/\n",
        &[],
        &["colour", "line 2"],
    );
}

#[test]
fn profile_error_unknown_key_in_a_type() {
    assert_refused(
        "types:\n  team:\n    path: teams/\n  player:\n    path: players/\n    parent: {team: team}\n",
        &[],
        &["parent", "player", "line 6"],
    );
}

#[test]
fn profile_error_type_without_path() {
    assert_refused(
        "types:\n  team:\n    key: [name]\n",
        &[],
        &["team", "path", "line 2"],
    );
}

#[test]
fn profile_error_placeholder_not_a_parent_field() {
    assert_refused(
        "types:\n  team:\n    path: teams/\n  player:\n    path: teams/{squad}/players/\n    parents: {team: team}\n",
        &[],
        &["{squad}", "player", "line 5"],
    );
}

#[test]
fn profile_error_item_placeholder_not_a_parent_field() {
    assert_refused(
        "types:\n  team:\n    path: teams/\n    item: teams/{slug}/\n",
        &[],
        &["{slug}", "team", "line 4"],
    );
}

#[test]
fn profile_error_unknown_parent_type() {
    assert_refused(
        "types:\n  player:\n    path: players/\n    parents: {team: squad}\n",
        &[],
        &["squad", "player", "line 4"],
    );
}

#[test]
fn profile_error_parent_cycle() {
    assert_refused(
        "types:\n  team:\n    path: teams/\n    parents: {captain: player}\n  player:\n    path: players/\n    parents: {team: team}\n",
        &[],
        &["cycle", "team", "player", "line "],
    );
}

#[test]
fn profile_error_type_the_profile_lacks() {
    assert_refused(
        &flat_profile("records: \"\"\n"),
        &["--type", "coach"],
        &["coach"],
    );
}

#[test]
fn profile_error_unknown_next_kind() {
    assert_refused(
        &flat_profile("records: \"\"\nnext: pages:page\n"),
        &[],
        &["next", "pages:page", "line 2"],
    );
}

#[test]
fn profile_error_missing_profile_file() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let dir = temp_dir();
    let missing = dir.path().join("nope.yaml");
    let out = dir.path().join("out");
    let run = pull(&server, &missing, &[], path_str(&out)).expect_code(2);
    assert!(run.stderr.contains("nope.yaml"), "{}", run.stderr);
    assert!(server.requests().is_empty());
}

#[test]
fn profile_conflicting_options_are_usage_errors() {
    let (server, _dir, profile, out) = link_setup(&flat_profile("records: \"\"\n"));
    for extra in [
        &["--simple"][..],
        &["-s"],
        &["--hal"],
        &["--follow-child"],
        &["-a"],
        &["--follow-none"],
        &["--batch-size", "2"],
        &["--ref", "team=team"],
    ] {
        let run = pull(&server, &profile, extra, path_str(&out));
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stderr);
        assert!(run.stderr.contains("--api"), "{extra:?}: {}", run.stderr);
    }
    assert!(server.requests().is_empty(), "{:?}", server.paths("GET"));
    assert!(!out.exists());
}

// --- 8. a member without its id ------------------------------------------------------------

#[test]
fn profile_read_member_without_its_id_fails_naming_url_and_position() {
    let server = PlainServer::start(PlainConfig {
        size_param: Some("page_size".to_string()),
        ..PlainConfig::new(Envelope::Bare, Pagination::Link)
    });
    server.insert("teams", json!({"name": "A", "code": "a"}));
    server.insert("teams", json!({"name": "B", "code": "b"}));
    server.insert("teams", json!({"name": "C"}));
    let (_dir, out, run) = pull_into(
        &server,
        "records: \"\"\nsize: page_size\ntypes:\n  team:\n    path: teams/\n    id: code\n",
        &[],
        "out",
        1,
    );
    // Team C is the first member of the second page.
    let url = server.url("/api/teams/");
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    assert!(run.stderr.contains("page=2"), "{}", run.stderr);
    assert!(run.stderr.contains("code"), "{}", run.stderr);
    assert!(
        run.stderr.contains("member 1") || run.stderr.contains("#1"),
        "position: {}",
        run.stderr
    );
    assert_nothing_written(&out);
}

#[test]
fn profile_read_member_without_a_field_its_item_path_needs_fails() {
    let server = plain(Envelope::Bare, Pagination::Link);
    server.insert("players", json!({"id": 7, "name": "Player 7"}));
    assert_pull_fails_naming(&server, "records: \"\"\nsize: page_size\ntypes:\n  team:\n    path: teams/\n  player:\n    path: players/\n    item: teams/{team}/players/{id}/\n    parents: {team: team}\n", "/api/players/", "team");
}

#[test]
fn profile_read_type_player_into_jsonl_keeps_its_parents() {
    let server = plain(Envelope::Bare, Pagination::None);
    let (_dir, out, _run) = pull_into(
        &server,
        &nested_profile("records: \"\"\nnext: none\n"),
        &["--type", "player"],
        "out.jsonl",
        0,
    );
    let documents: Vec<Value> = read(&out)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    assert_eq!(documents.len(), 9);
    let types: Vec<&str> = documents
        .iter()
        .map(|d| d["type"].as_str().unwrap())
        .collect();
    assert_eq!(types[..3], ["team"; 3]);
    assert_eq!(types[3..], ["player"; 6]);
    assert_eq!(server.count_path("GET", "/api/stats/"), 0);
}

// --- 6. json-server ------------------------------------------------------------------------

#[test]
fn profile_read_json_server_posts_and_nested_comments() {
    require_json_server();
    let dir = temp_dir();
    let port = free_port();
    // Posts 1-3 have 3 comments each, posts 4 and 5 none.
    let (posts, comments) = posts_and_comments(5, 3, 3);
    let db = dir.path().join("db.json");
    write_posts_db(&db, &posts, &comments);
    let server = JsonServer::start(&db, port, dir.path().join("json-server.log"));
    let profile = write_profile(
        dir.path(),
        "records: \"\"\nnext: link\nsize: _limit\ntypes:\n  post:\n    path: posts?_page=1\n  comment:\n    path: posts/{postId}/comments?_page=1\n    parents: {postId: post}\n",
    );
    let out = dir.path().join("out");
    let base = format!("http://127.0.0.1:{port}");
    let run = run(&[
        "--api",
        path_str(&profile),
        "-l",
        "2",
        &base,
        path_str(&out),
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, server.log_text());
    let mut expected: Vec<String> = (1..=9).map(|id| format!("comment/{id}.yaml")).collect();
    expected.extend((1..=5).map(|id| format!("post/{id}.yaml")));
    assert_eq!(list_files(&out), expected, "{}", run.stderr);
    assert_eq!(read_yaml(&out.join("post/2.yaml")), posts[1]);
    assert_eq!(read_yaml(&out.join("comment/5.yaml")), comments[4]);
    assert_eq!(summary(&run.stderr).read, 14);

    // Comments were read through each post (two pages for posts 1-3), never at /comments.
    let log = server.log_text();
    for post in 1..=5 {
        let requests = log
            .lines()
            .filter(|line| line.contains(&format!("GET /posts/{post}/comments?")))
            .count();
        let pages = if post <= 3 { 2 } else { 1 };
        assert!(
            (pages..=2 * pages).contains(&requests),
            "post {post}:\n{log}"
        );
    }
    assert!(!log.contains("GET /comments"), "{log}");
    assert!(log.contains("_limit=2"), "{log}");
}

// --- 7. Django REST framework and JSON:API -------------------------------------------------

/// Pulls `server` (its API at `root`) with the profile `text` and `-l 2` into `out` in a new
/// temporary directory, which must succeed: (the directory, the profile, out, the run).
fn django_pull(
    server: &DjangoServer,
    root: &str,
    text: &str,
) -> (tempfile::TempDir, PathBuf, PathBuf, Run) {
    let dir = temp_dir();
    let profile = write_profile(dir.path(), text);
    let out = dir.path().join("out");
    let api = format!("{}{root}", server.base_url());
    let run = run(&["--api", path_str(&profile), "-l", "2", &api, path_str(&out)]);
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, server.output());
    (dir, profile, out, run)
}

/// The Django request log's GET paths (the readiness probes of `/api/` aside), normalized.
fn django_gets(server: &DjangoServer) -> Vec<String> {
    server
        .request_log()
        .iter()
        .filter(|entry| entry["method"] == "GET" && entry["path"] != "/api/")
        .map(|entry| normalized(entry["path"].as_str().expect("a path")))
        .collect()
}

fn drf_profile(next: &str) -> String {
    format!(
        "records: results\nnext: {next}\nsize: page_size\nreadonly: [url]\ntypes:\n  team:\n    path: teams/\n  player:\n    path: teams/{{team}}/players/\n    parents: {{team: team}}\n  stat:\n    path: stats/\n    parents: {{player: player}}\n"
    )
}

fn assert_drf_pull(next: &str) {
    require_django();
    let server = DjangoServer::start(true);
    let (_dir, _profile, out, run) = django_pull(&server, "/api", &drf_profile(next));
    assert_eq!(list_files(&out), seeded_tree(), "{}", run.stderr);
    let base = server.base_url();
    assert_eq!(
        read_yaml(&out.join("team/1.yaml")),
        json!({"id": 1, "url": format!("{base}/api/teams/1/"), "name": "Lions", "city": "Leeds"})
    );
    assert_eq!(
        read_yaml(&out.join("player/6.yaml")),
        json!({"id": 6, "url": format!("{base}/api/players/6/"), "name": "Fay", "team": 3})
    );
    assert_eq!(read_yaml(&out.join("stat/4.yaml"))["points"], 40);
    assert_eq!(summary(&run.stderr).read, 15);

    let gets = django_gets(&server);
    assert_all_distinct(&gets, "a GET");
    for team in 1..=3 {
        let prefix = format!("/api/teams/{team}/players/");
        let count = gets.iter().filter(|p| p.starts_with(&prefix)).count();
        // One page of two players; with page numbers, page 2 answers 404.
        let pages = if next.starts_with("page:") { 2 } else { 1 };
        assert_eq!(count, pages, "{prefix}: {gets:?}");
    }
    assert!(
        !gets.iter().any(|p| p.starts_with("/api/players/")),
        "{gets:?}"
    );
    assert!(gets.iter().all(|p| p.contains("page_size=2")), "{gets:?}");
}

#[test]
fn profile_read_django_rest_framework_body_next() {
    assert_drf_pull("body:next");
}

#[test]
fn profile_read_django_rest_framework_page_numbers() {
    assert_drf_pull("page:page");
}

#[test]
fn profile_read_django_jsonapi() {
    require_django();
    let server = DjangoServer::start(true);
    let (dir, profile, out, run) = django_pull(&server, "/jsonapi", "format: jsonapi\ntypes:\n  teams:\n    path: teams\n  players:\n    path: players\n    parents: {team: teams}\n  stats:\n    path: stats\n    parents: {player: players}\n");
    assert_eq!(
        list_files(&out),
        seeded_files("teams", "players", "stats"),
        "{}",
        run.stderr
    );
    let base = server.base_url();
    let team = read_yaml(&out.join("teams/2.yaml"));
    assert_eq!(team["type"], "teams");
    assert_eq!(team["id"], "2");
    assert_eq!(team["attributes"]["name"], "Tigers");
    assert_eq!(team["attributes"]["city"], "Turin");
    assert_eq!(team["links"]["self"], format!("{base}/jsonapi/teams/2"));
    let player = read_yaml(&out.join("players/3.yaml"));
    assert_eq!(player["attributes"]["name"], "Cid");
    assert_eq!(
        player["relationships"]["team"]["data"],
        json!({"type": "teams", "id": "2"})
    );
    let stat = read_yaml(&out.join("stats/5.yaml"));
    assert_eq!(stat["attributes"]["points"], 50);
    assert_eq!(stat["relationships"]["player"]["data"]["id"], "5");
    assert_eq!(summary(&run.stderr).read, 15);

    let gets = django_gets(&server);
    assert_all_distinct(&gets, "a GET");
    // page[size] from -l, links.next followed: teams 2 pages, players and stats 3 each.
    for (collection, pages) in [("teams", 2), ("players", 3), ("stats", 3)] {
        let prefix = format!("/jsonapi/{collection}?");
        let count = gets.iter().filter(|p| p.starts_with(&prefix)).count();
        // Pages asked for ahead past the end: at most as many again (SPEC section 3).
        assert!(
            (pages..=2 * pages).contains(&count),
            "{collection}: {gets:?}"
        );
    }
    assert!(gets.iter().all(|p| p.contains("page[size]=2")), "{gets:?}");

    // Read back with the same profile into JSON Lines: `{type, body}` with the type names.
    let jsonl = dir.path().join("back.jsonl");
    run_args(&profile, &[path_str(&out), path_str(&jsonl)]).ok();
    let documents: Vec<Value> = read(&jsonl)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    assert_eq!(documents.len(), 15);
    assert_eq!(documents[0]["type"], "teams");
    assert_eq!(documents[14]["type"], "stats");
}

// --- more reading rules --------------------------------------------------------------------

#[test]
fn profile_read_sends_the_limit_only_through_size() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let (_dir, _out, _run) = pull_out(&server, &flat_profile("records: \"\"\n"));
    let requests = server.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(
            request.header("x-request-limit"),
            None,
            "{}",
            request.path_and_query
        );
        assert!(
            !request.path_and_query.contains("limit="),
            "{}",
            request.path_and_query
        );
    }
}

#[test]
fn profile_read_limit_sets_the_size_parameter() {
    let (server, _dir, profile, out) = link_setup(&flat_profile("records: \"\"\n"));
    let api = server.url("/api");
    let run = run(&[
        "--api",
        path_str(&profile),
        "--limit",
        "4",
        &api,
        path_str(&out),
    ])
    .ok();
    assert_seeded_tree(&server, &out, &run);
    let mut expected: Vec<String> = [
        "/api/teams/?page_size=4",
        "/api/players/?page_size=4",
        "/api/players/?page=2&page_size=4",
        "/api/stats/?page_size=4",
        "/api/stats/?page=2&page_size=4",
    ]
    .iter()
    .map(|p| normalized(p))
    .collect();
    expected.sort();
    assert_gets(&server, &expected);
}

#[test]
fn profile_read_endpoint_with_trailing_slash_joins_with_one_slash() {
    let (server, _dir, profile, out) = link_setup(&flat_profile("records: \"\"\n"));
    let api = server.url("/api/");
    let run = run(&["--api", path_str(&profile), "-l", "2", &api, path_str(&out)]).ok();
    assert_seeded_tree(&server, &out, &run);
    assert_gets(&server, &pages_2_3_3());
}

#[test]
fn profile_read_path_query_is_kept_on_every_page() {
    let server = plain(Envelope::Results, Pagination::page("page"));
    let (_dir, out, run) = pull_out(&server, "records: results\nnext: page:page\nsize: page_size\ntypes:\n  player:\n    path: players/?team=2\n");
    assert_eq!(
        list_files(&out),
        ["player/3.yaml", "player/4.yaml"],
        "{}",
        run.stderr
    );
    // Page 2 is past the end (404).
    let mut expected: Vec<String> = ["page=1", "page=2"]
        .iter()
        .map(|q| normalized(&format!("/api/players/?team=2&page_size=2&{q}")))
        .collect();
    expected.sort();
    assert_gets(&server, &expected);
}

#[test]
fn profile_read_path_query_is_kept_with_offsets() {
    let server = plain(Envelope::Bare, Pagination::offset("offset"));
    let (_dir, out, run) = pull_out(&server, "records: \"\"\nnext: offset:offset\nsize: page_size\ntypes:\n  stat:\n    path: stats/?player=5\n");
    assert_eq!(list_files(&out), ["stat/5.yaml"], "{}", run.stderr);
    let mut expected: Vec<String> = ["offset=0", "offset=1"]
        .iter()
        .map(|q| normalized(&format!("/api/stats/?player=5&page_size=2&{q}")))
        .collect();
    expected.sort();
    assert_gets(&server, &expected);
}

#[test]
fn profile_read_type_settings_override_the_top_level() {
    // Teams: one request, no paging, the size under another name (which the server ignores,
    // so its own page size of 5 holds all three); the others page by Link with page_size.
    let server = plain(Envelope::Bare, Pagination::Link);
    let (_dir, out, run) = pull_out(&server, "records: \"\"\nnext: link\nsize: page_size\ntypes:\n  team:\n    path: teams/\n    next: none\n    size: per\n  player:\n    path: players/\n    parents: {team: team}\n  stat:\n    path: stats/\n    parents: {player: player}\n");
    assert_seeded_tree(&server, &out, &run);
    let mut expected = member_pages(&[], &PAGES_3);
    expected.push(normalized("/api/teams/?per=2"));
    expected.sort();
    assert_gets(&server, &expected);
}

#[test]
fn profile_read_type_level_records_and_id() {
    let server = plain(Envelope::Results, Pagination::None);
    let dir = temp_dir();
    // Teams named by their `name`, players by id; records set per type.
    let profile = write_profile(
        dir.path(),
        "next: none\ntypes:\n  team:\n    path: teams/\n    records: results\n    id: name\n  player:\n    path: players/\n    records: results\n",
    );
    let out = dir.path().join("out");
    let run = pull(&server, &profile, &[], path_str(&out)).ok();
    let mut expected: Vec<String> = (1..=6).map(|id| format!("player/{id}.yaml")).collect();
    expected.extend((1..=3).map(|id| format!("team/Team {id}.yaml")));
    assert_eq!(list_files(&out), expected, "{}", run.stderr);
    assert_eq!(
        read_yaml(&out.join("team/Team 2.yaml")),
        server.member("teams", 2).unwrap()
    );
}

#[test]
fn profile_read_parent_ids_compare_as_text() {
    // Player 7's team field is the string "4"; team 4's id is the number 4.
    let server = plain(Envelope::Bare, Pagination::None);
    insert_team(&server, 4, "Team 4", "City 4");
    insert_team(&server, 5, "Team 5", "City 5");
    server.insert("players", json!({"id": 7, "name": "Player 7", "team": "4"}));
    let (_dir, out, run) = pull_out_with(
        &server,
        &flat_profile("records: \"\"\nnext: none\n"),
        &["--type", "player"],
    );
    let files = list_files(&out);
    assert!(
        files.contains(&"team/4.yaml".to_string()),
        "{files:?}\n{}",
        run.stderr
    );
    assert!(!files.contains(&"team/5.yaml".to_string()), "{files:?}");
    assert!(files.contains(&"player/7.yaml".to_string()), "{files:?}");
}

#[test]
fn profile_read_type_stat_reads_its_parents_transitively() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let (_dir, out, run) = pull_out_with(
        &server,
        &nested_profile("records: \"\"\n"),
        &["--type", "stat"],
    );
    assert_seeded_tree(&server, &out, &run);
    assert_players_read_once_per_team(&server);
}

#[test]
fn profile_read_a_404_on_a_collection_fails_naming_it() {
    let server = plain(Envelope::Bare, Pagination::Link);
    assert_pull_fails_naming(
        &server,
        "records: \"\"\ntypes:\n  team:\n    path: teams/\n  coach:\n    path: coaches/\n",
        "/api/coaches/",
        "404",
    );
}

#[test]
fn profile_read_into_yaml_and_json_files_keeps_the_envelope() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let dir = temp_dir();
    let profile = write_profile(dir.path(), &nested_profile("records: \"\"\n"));
    let yaml = dir.path().join("pulled.yaml");
    pull(&server, &profile, &[], path_str(&yaml)).ok();
    assert_enveloped(&server, &yaml_documents_of(&read(&yaml)));
    let json_file = dir.path().join("pulled.json");
    pull(&server, &profile, &[], path_str(&json_file)).ok();
    let documents: Vec<Value> = serde_json::from_str(&read(&json_file)).expect("a JSON array");
    assert_enveloped(&server, &documents);

    // Both read back into the same tree.
    let from_yaml = dir.path().join("from-yaml");
    let run = run_args(&profile, &[path_str(&yaml), path_str(&from_yaml)]).ok();
    assert_seeded_tree(&server, &from_yaml, &run);
    let from_json = dir.path().join("from-json");
    run_args(&profile, &[path_str(&json_file), path_str(&from_json)]).ok();
    assert_eq!(file_contents(&from_yaml), file_contents(&from_json));
}

#[test]
fn profile_read_directory_as_json_files() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let (_dir, out, _run) = pull_out_with(&server, &flat_profile("records: \"\"\n"), &["--json"]);
    let files = list_files(&out);
    assert_eq!(files.len(), 15, "{files:?}");
    assert!(files.contains(&"team/1.json".to_string()), "{files:?}");
    let team: Value = serde_json::from_str(&read(&out.join("team/1.json"))).expect("JSON");
    assert_eq!(team, server.member("teams", 1).unwrap());
}

#[test]
fn profile_jsonapi_requests_accept_the_jsonapi_media_type() {
    let server = plain(Envelope::Data, Pagination::BodyNext { object_href: false });
    let dir = temp_dir();
    let profile = write_profile(
        dir.path(),
        "format: jsonapi\ntypes:\n  team:\n    path: teams/\n",
    );
    let out = dir.path().join("out");
    let run = pull(&server, &profile, &[], path_str(&out));
    let requests = server.requests();
    assert!(!requests.is_empty(), "{}", run.stderr);
    for request in &requests {
        assert!(
            request
                .header("accept")
                .is_some_and(|accept| accept.contains("application/vnd.api+json")),
            "{request:?}"
        );
        // The JSON:API default size parameter.
        assert!(
            normalized(&request.path_and_query).contains("page[size]=2"),
            "{}",
            request.path_and_query
        );
    }
}

#[test]
fn profile_read_again_into_the_same_directory_changes_nothing() {
    let (server, _dir, profile, out) = link_setup(&nested_profile("records: \"\"\n"));
    pull(&server, &profile, &[], path_str(&out)).ok();
    let before = file_snapshot(&out);
    let again = pull(&server, &profile, &[], path_str(&out)).ok();
    let counts = summary(&again.stderr);
    assert_eq!(
        (
            counts.read,
            counts.created,
            counts.updated,
            counts.unchanged
        ),
        (15, 0, 0, 15),
        "{}",
        again.stderr
    );
    assert_eq!(file_snapshot(&out), before);
}

#[test]
fn profile_read_rm_removes_files_of_members_gone_from_the_api() {
    let (server, _dir, profile, out) = link_setup(&nested_profile("records: \"\"\n"));
    pull(&server, &profile, &[], path_str(&out)).ok();
    assert_eq!(server.send("DELETE", "/api/stats/6/", None).status, 204);
    server.send(
        "PATCH",
        "/api/teams/2/",
        Some(&json!({"city": "Elsewhere"})),
    );
    let run = pull(&server, &profile, &["--rm"], path_str(&out)).ok();
    let counts = summary(&run.stderr);
    assert_eq!(
        (counts.updated, counts.deleted, counts.unchanged),
        (1, 1, 13),
        "{}",
        run.stderr
    );
    let mut expected = seeded_tree();
    expected.retain(|file| file != "stat/6.yaml");
    assert_eq!(list_files(&out), expected);
    assert_eq!(read_yaml(&out.join("team/2.yaml"))["city"], "Elsewhere");
}

#[test]
fn profile_read_dry_run_writes_nothing() {
    let server = plain(Envelope::Bare, Pagination::Link);
    let (_dir, out, run) = pull_out_with(&server, &flat_profile("records: \"\"\n"), &["--dry-run"]);
    assert_nothing_written(&out);
    assert_eq!(summary(&run.stderr).read, 15, "{}", run.stderr);
    assert_gets(&server, &pages_2_3_3());
}

#[test]
fn profile_read_match_filters_on_member_fields() {
    let (server, _dir, profile, out) = link_setup(&nested_profile("records: \"\"\n"));
    let run = pull(
        &server,
        &profile,
        &["--type", "player", "--match", "name=Player 4"],
        path_str(&out),
    )
    .ok();
    assert_eq!(
        list_files(&out),
        ["player/4.yaml", "team/2.yaml"],
        "{}",
        run.stderr
    );
}

// --- 9. hostile ids from the API ----------------------------------------------------------

/// Pulls teams whose id field is `code`, the second team's code being `code`, into a
/// directory; returns the run and the files below the temporary directory.
fn pull_team_codes(type_name: &str, code: &str) -> (Run, Vec<String>) {
    let server = PlainServer::start(PlainConfig {
        size_param: Some("page_size".to_string()),
        ..PlainConfig::new(Envelope::Bare, Pagination::Link)
    });
    server.insert("teams", json!({"name": "A", "code": "a"}));
    server.insert("teams", json!({"name": "B", "code": code}));
    let dir = temp_dir();
    let profile = write_profile(
        dir.path(),
        &format!(
            "records: \"\"\nsize: page_size\ntypes:\n  {type_name}:\n    path: teams/\n    id: code\n"
        ),
    );
    let out = dir.path().join("out");
    let run = pull(&server, &profile, &[], path_str(&out));
    (run, list_files(dir.path()))
}

#[test]
fn profile_read_ids_that_are_not_file_names_are_refused() {
    for code in ["../escape", "a/b", "a\\b", "..", "."] {
        let (run, files) = pull_team_codes("team", code);
        assert_eq!(run.code, 2, "{code:?}: {}", run.stderr);
        assert!(run.stderr.contains("safe"), "{code:?}: {}", run.stderr);
        assert_eq!(files, ["profile.yaml"], "{code:?}: nothing written");
    }
}

#[test]
fn profile_read_unsafe_ids_are_refused() {
    // SPEC section 9: a `type` or `id` that starts with `.`, holds bidirectional-control
    // characters, or is longer than 200 bytes is unsafe (exit 2). A `.hidden.yaml` would
    // also never be read back (dot-entries are skipped).
    let long = "x".repeat(201);
    for code in [".hidden", "a\u{202E}b", long.as_str()] {
        let (run, files) = pull_team_codes("team", code);
        assert_eq!(run.code, 2, "{code:?}: {}", run.stderr);
        assert_eq!(files, ["profile.yaml"], "{code:?}: nothing written");
    }
}

#[test]
fn profile_read_unsafe_type_name_is_refused() {
    let (run, files) = pull_team_codes(".t", "b");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(files, ["profile.yaml"], "nothing written");
}

#[test]
fn profile_read_uris_are_item_paths_relative_to_the_api_root() {
    // Default item: path + "{id}" keeping the trailing "/"; nested items filled from the
    // member's own fields; an explicit `item` as written.
    let server = plain(Envelope::Bare, Pagination::None);
    let (_dir, out, run) = pull_into(&server, "records: \"\"\nnext: none\ntypes:\n  team:\n    path: teams/\n  player:\n    path: teams/{team}/players/\n    parents: {team: team}\n  stat:\n    path: stats/\n    item: stats/{player}/s/{id}\n    parents: {player: player}\n", &["--dry-run"], "plan.jsonl", 0);
    let mut expected: Vec<String> = (1..=3).map(|id| format!("create teams/{id}/")).collect();
    expected.extend((1..=6).map(|id| format!("create teams/{}/players/{id}/", (id - 1) / 2 + 1)));
    expected.extend((1..=6).map(|id| format!("create stats/{id}/s/{id}")));
    assert_eq!(
        sorted_lines(&run.stdout),
        sorted_strings(&expected),
        "{}",
        run.stderr
    );
    // Parents first in the plan too.
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[..3]
            .iter()
            .all(|line| line.starts_with("create teams/") && !line.contains("players")),
        "{lines:?}"
    );
    assert!(!out.exists());
}

/// OData names its next page `@odata.nextLink`, a key holding a dot: `body:@odata\.nextLink`
/// names that key, and the chain is read to its end.
#[test]
fn an_odata_next_link_is_a_key_holding_a_dot() {
    use super::hostile_servers::{json_answer, RawServer};
    let server = RawServer::start(|seen| {
        let page = |ids: &[u64], next: Option<&str>| {
            let value: Vec<Value> = ids
                .iter()
                .map(|id| json!({"ID": id, "Name": format!("n{id}")}))
                .collect();
            let mut body = json!({"@odata.context": "$metadata#People", "value": value});
            if let Some(next) = next {
                body["@odata.nextLink"] = json!(next);
            }
            body
        };
        match seen.path.as_str() {
            "/odata/People" => {
                json_answer(200, &[], &page(&[1, 2], Some("/odata/People?$skiptoken=2")))
            }
            "/odata/People?$skiptoken=2" => json_answer(200, &[], &page(&[3], None)),
            _ => json_answer(404, &[], &json!({"error": "no such page"})),
        }
    });
    let dir = temp_dir();
    let profile = write_profile(
        dir.path(),
        "records: value\nid: ID\nnext: body:@odata\\.nextLink\ntypes:\n  person:\n    path: People\n",
    );
    let out = dir.path().join("people");
    run(&[
        "--api",
        path_str(&profile),
        &server.url("/odata"),
        path_str(&out),
    ])
    .ok();
    assert_eq!(
        list_files(&out),
        ["person/1.yaml", "person/2.yaml", "person/3.yaml"]
    );
    let paths: Vec<String> = server.seen().iter().map(|seen| seen.path.clone()).collect();
    assert_eq!(paths, ["/odata/People", "/odata/People?$skiptoken=2"]);
}

#[test]
fn read_ahead_never_hands_on_a_page_the_chain_does_not_reach() {
    // Players come 2 a page over 10 pages (20 teams, one player each, flat); page 7 links
    // no next page although 3 more follow: a guess past it is fetched, never handed on.
    let server = plain_with(
        Envelope::Results,
        Pagination::BodyNext { object_href: false },
        |config| {
            config.seed = Some((20, 1));
            config.chain_ends_at = Some(6);
        },
    );
    let dir = temp_dir();
    let profile = write_profile(
        dir.path(),
        "records: results\nnext: body:next\nsize: page_size\ntypes:\n  player:\n    path: players/\n",
    );
    let out = dir.path().join("out");
    let run = pull(&server, &profile, &["--concurrency", "8"], path_str(&out)).ok();
    let expected: Vec<String> = (1..=14).map(|id| format!("player/{id}.yaml")).collect();
    let mut files = list_files(&out);
    files.sort_by_key(|file| {
        file.trim_start_matches("player/")
            .trim_end_matches(".yaml")
            .parse::<u32>()
            .unwrap_or(0)
    });
    assert_eq!(files, expected, "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert_all_distinct(&server.paths("GET"), "a GET");
    // Pages past the seventh were asked for ahead (so the test tests something).
    let gets = server.paths("GET");
    assert!(gets.iter().any(|get| get.contains("page=8")), "{gets:?}");
}
