//! `--generate profile SOURCE` (SPEC section 8, "Profiles from OpenAPI"): profiles generated
//! from the OpenAPI documents real frameworks write (drf-spectacular for Django REST
//! framework, DRF JSON:API's own generator), used to pull and clone against the same live
//! services, must give the same files and server state as hand-written profiles.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::server::django::{django_available, DjangoServer};
use crate::util::*;

/// The DRF API by hand, relative to `{base}/api`: players read through their team.
const DRF_BY_HAND: &str = "\
records: results
next: body:next
size: page_size
create: post
readonly: [url]
types:
  teams:
    path: teams/
  players:
    path: teams/{team}/players/
    item: players/{id}/
    parents: {team: teams}
  stats:
    path: stats/
    parents: {player: players}
";

fn generate(source: &str) -> String {
    run(&["--generate", "profile", source]).ok().stdout
}

/// A seeded server and the profile generated from the document at `schema_path` on it;
/// `None` (the test is skipped) when python3 is missing outside CI.
fn seeded_and_generated(schema_path: &str) -> Option<(DjangoServer, String)> {
    if !django_available() {
        return None;
    }
    let origin = DjangoServer::start(true);
    let text = generate(&format!("{}{schema_path}", origin.base_url()));
    Some((origin, text))
}

fn write_profile(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    write_file(&path, text);
    path
}

/// `--api PROFILE -l 2 ORIGIN DESTINATION`, which must succeed.
fn sync(profile: &Path, origin: &str, destination: &str) -> Run {
    let args = ["--api", path_str(profile), "-l", "2", origin, destination];
    run(&args).ok()
}

/// Every file below `root` with its text, so two pulls compare as trees.
fn tree(root: &Path) -> Vec<(String, String)> {
    list_files(root)
        .into_iter()
        .map(|file| {
            let text = read(&root.join(&file));
            (file, text)
        })
        .collect()
}

/// What the server holds, read through the DRF API (one SQLite file serves both APIs), with
/// ids replaced by what they name: a clone's ids depend on the order of concurrent creates.
fn state(server: &DjangoServer) -> Vec<String> {
    let all = |collection: &str| -> Vec<Value> {
        let page = server.get_json(&format!("/api/{collection}/?page_size=1000"));
        page["results"].as_array().expect("results").clone()
    };
    let name_of = |members: &[Value], id: &Value, field: &str| -> String {
        let found = members.iter().find(|m| m["id"] == *id).expect("a known id");
        found[field].to_string()
    };
    let (teams, players, stats) = (all("teams"), all("players"), all("stats"));
    let mut out: Vec<String> = teams
        .iter()
        .map(|t| format!("team {} of {}", t["name"], t["city"]))
        .collect();
    for player in &players {
        let team = name_of(&teams, &player["team"], "name");
        out.push(format!("player {} in {team}", player["name"]));
    }
    for stat in &stats {
        let player = name_of(&players, &stat["player"], "name");
        out.push(format!("stat {} of {player}", stat["points"]));
    }
    out.sort();
    out
}

/// Pull from `origin` with each profile (generated, for the server's root; by hand, for
/// `by_hand_path` on it) and clone each pull into an empty server: the trees and the
/// resulting server states must be equal, and the clones equal to the origin.
fn assert_same_as_by_hand(
    origin: &DjangoServer,
    generated: &str,
    by_hand: &str,
    by_hand_path: &str,
) {
    let dir = temp_dir();
    let generated = &write_profile(dir.path(), "generated.yaml", generated);
    let by_hand = &write_profile(dir.path(), "by-hand.yaml", by_hand);
    let generated_endpoint = &origin.base_url();
    let (pulled, pulled_by_hand) = (dir.path().join("generated"), dir.path().join("by-hand"));
    sync(generated, generated_endpoint, path_str(&pulled));
    let origin_by_hand = format!("{}{by_hand_path}", origin.base_url());
    sync(by_hand, &origin_by_hand, path_str(&pulled_by_hand));
    let files = tree(&pulled);
    assert_eq!(files.len(), 15, "{:?}", list_files(&pulled));
    assert_eq!(files, tree(&pulled_by_hand));

    let (empty, empty_by_hand) = (DjangoServer::start(false), DjangoServer::start(false));
    let id_map = dir.path().join("ids.yaml");
    let base = empty.base_url();
    let clone_with = |extra: &[&str]| {
        let mut args = vec!["--api", path_str(generated), "--id-map", path_str(&id_map)];
        args.extend_from_slice(extra);
        args.extend([path_str(&pulled), base.as_str()]);
        run(&args)
    };
    let clone = clone_with(&[]).ok();
    assert_eq!(summary(&clone.stderr).created, 15, "{}", clone.stderr);
    let target_by_hand = format!("{}{by_hand_path}", empty_by_hand.base_url());
    sync(by_hand, path_str(&pulled_by_hand), &target_by_hand);
    assert_eq!(state(&empty), state(&empty_by_hand));
    assert_eq!(state(&empty), state(origin));
    // With the id map, the generated profile finds nothing to change on a second run
    // (its `readonly` leaves out what the server fills in).
    let again = clone_with(&["--exit-code"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
}

#[test]
fn generate_profile_from_drf_spectacular_pulls_and_clones_like_a_hand_written_one() {
    let Some((origin, text)) = seeded_and_generated("/api/schema/?format=json") else {
        return;
    };
    let base = origin.base_url();
    // The same document in YAML (the view's default) gives the same profile.
    let yaml = generate(&format!("{base}/api/schema/"));
    let body = |text: &str| text.lines().skip(2).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&text), body(&yaml));
    for expected in [
        &format!("use {base} as the endpoint URL"),
        "records: results",
        "next: body:next",
        "# guessed: `page_size` carries --limit",
        "size: page_size",
        "create: post",
        "update: put",
        "readonly: [url]",
        "    path: api/teams/\n    item: api/teams/{id}/\n",
        "    path: api/players/\n",
        "      # guessed: field `team` holds a teams id (from its name)\n      team: teams\n",
        "      # guessed: field `player` holds a players id (from its name)\n      player: players\n",
        "# api/teams/{team}/players/ also lists players: they are read from api/players/",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    assert_same_as_by_hand(&origin, &text, DRF_BY_HAND, "/api");
}

#[test]
fn generate_profile_from_drf_jsonapi_pulls_and_clones_like_the_shipped_one() {
    let Some((origin, text)) = seeded_and_generated("/jsonapi/schema") else {
        return;
    };
    let base = origin.base_url();
    assert!(
        text.contains(&format!("use {base} as the endpoint URL")),
        "{text}"
    );
    for expected in [
        "format: jsonapi",
        "records: data",
        "next: body:links.next",
        "size: page[size]",
        "update: patch",
        "    path: jsonapi/teams\n    item: jsonapi/teams/{id}\n",
        "      # guessed: relationship `team` holds a teams resource (from its name)\n      team: teams\n",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    let shipped = read(&manifest_path("examples/api/jsonapi.yaml"));
    assert_same_as_by_hand(&origin, &text, &shipped, "/jsonapi");
}

#[test]
fn generate_profile_from_a_file_validates_and_names_the_endpoint() {
    let dir = temp_dir();
    let document = r##"
openapi: 3.1.0
info: {title: Shop, version: "2"}
servers: [{url: "https://shop.example/{stage}", variables: {stage: {default: v2}}}]
paths:
  /orders:
    get:
      parameters: [{name: page, in: query}, {name: per_page, in: query}]
      responses:
        "200":
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Order"}}
    post: {}
  /orders/{order_id}: {get: {}, put: {}}
components:
  schemas:
    Order: {type: object, properties: {id: {type: integer}, total: {type: number}}}
"##;
    let source = write_profile(dir.path(), "shop.yaml", document);
    let text = generate(path_str(&source));
    assert!(
        text.contains("use https://shop.example/v2 as the endpoint URL"),
        "{text}"
    );
    assert!(
        text.contains("# guessed: a `page` query parameter (from its name)\nnext: page:page\n"),
        "{text}"
    );
    let profile = write_profile(dir.path(), "shop-profile.yaml", &text);
    // `--api` accepts it: a run from an empty folder checks the profile, then reads nothing.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("a folder");
    let out = dir.path().join("out.jsonl");
    run(&[
        "--api",
        path_str(&profile),
        path_str(&empty),
        path_str(&out),
    ])
    .ok();
}

#[test]
fn generate_profile_errors_name_the_reason() {
    let dir = temp_dir();
    let cases = [
        ("swagger.json", r#"{"swagger": "2.0", "paths": {}}"#, "not an OpenAPI 3 document"),
        (
            "health.yaml",
            "openapi: 3.0.0\npaths:\n  /health:\n    get:\n      responses:\n        '200':\n          content:\n            application/json:\n              schema: {type: object}\n",
            "no collection found",
        ),
        (
            "cycle.yaml",
            "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/A'}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {allOf: [{$ref: '#/components/schemas/A'}]}\n",
            "$ref cycle",
        ),
        (
            "external.yaml",
            "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          content:\n            application/json:\n              schema: {$ref: 'other.yaml#/A'}\n",
            "unresolvable $ref \"other.yaml#/A\"",
        ),
    ];
    for (name, text, reason) in cases {
        let source = write_profile(dir.path(), name, text);
        let failed = run(&["--generate", "profile", path_str(&source)]).expect_code(2);
        assert!(failed.stderr.contains(reason), "{name}: {}", failed.stderr);
        assert!(failed.stdout.is_empty(), "{}", failed.stdout);
    }
    let missing = run(&["--generate", "profile"]).expect_code(2);
    assert!(missing.stderr.contains("SOURCE"), "{}", missing.stderr);
    run(&["--generate", "profile", "a.json", "b"]).expect_code(2);
}

#[test]
fn generate_profile_from_a_url_answering_an_error_is_exit_1() {
    if !django_available() {
        return;
    }
    let server = DjangoServer::start(false);
    let url = format!("{}/api/no-schema-here/", server.base_url());
    let failed = run(&["--generate", "profile", &url]).expect_code(1);
    assert!(
        failed.stderr.contains(&url) && failed.stderr.contains("404"),
        "{}",
        failed.stderr
    );
}
