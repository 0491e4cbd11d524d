//! Cloning (`--create post --simple`) end to end into the real json-server 0.17.4 (installed in
//! `tests/json-server/`), which assigns ids on POST (max + 1) and answers 201 with the created
//! record and a `Location` header. Starting and stopping json-server is `json_server.rs`'s.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::clone::{id_of, read_id_map};
use super::json_server::{http_get, require_json_server, JsonServer};
use crate::util::*;

const COLLECTIONS: [&str; 3] = ["teams", "players", "stats"];

/// A collection as json-server itself serves it, by id.
fn collection(server: &JsonServer, name: &str) -> BTreeMap<u64, Value> {
    let (status, body) = http_get(server.port, &format!("/{name}"))
        .unwrap_or_else(|| panic!("GET /{name} failed:\n{}", server.log_text()));
    assert_eq!(status, 200, "GET /{name}: {body}");
    let records: Vec<Value> = serde_json::from_str(&body)
        .unwrap_or_else(|error| panic!("GET /{name} is not a JSON array ({error}): {body}"));
    records
        .into_iter()
        .map(|record| {
            let id = record["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("a record without a numeric id: {record}"));
            (id, record)
        })
        .collect()
}

fn state(server: &JsonServer) -> BTreeMap<&'static str, BTreeMap<u64, Value>> {
    COLLECTIONS
        .iter()
        .map(|name| (*name, collection(server, name)))
        .collect()
}

/// A simple-schema resource of the origin.
fn simple(base: &str, kind: &str, id: u64, fields: Value, parents: &[String]) -> Value {
    let mut resource = json!({
        "id": id,
        "type": kind,
        "uri": format!("{base}/{kind}/{id}"),
    });
    if !parents.is_empty() {
        resource["parents"] = json!(parents);
    }
    for (key, value) in fields.as_object().cloned().unwrap_or_default() {
        resource[key] = value;
    }
    resource
}

#[test]
fn clone_into_json_server_rewrites_references_and_reruns_create_nothing() {
    require_json_server();

    let dir = temp_dir();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    // The API already holds ids 1..3 in every collection: every origin id collides.
    let db = dir.path().join("db.json");
    let seeded = json!({
        "teams": (1..=3).map(|id| json!({ "id": id, "name": format!("Old team {id}") })).collect::<Vec<_>>(),
        "players": (1..=3).map(|id| json!({ "id": id, "name": format!("Old player {id}"), "teamId": id })).collect::<Vec<_>>(),
        "stats": (1..=3).map(|id| json!({ "id": id, "points": id, "playerId": id })).collect::<Vec<_>>(),
    });
    write_file(&db, &seeded.to_string());
    let server = JsonServer::start(&db, port, dir.path().join("json-server.log"));
    let before = state(&server);

    // Two teams, three players (teams 1, 1, 2), one stat per player.
    let team_uri = |id: u64| format!("{base}/teams/{id}");
    let player_uri = |id: u64| format!("{base}/players/{id}");
    let mut origin = Vec::new();
    for team in 1..=2 {
        origin.push(simple(
            &base,
            "teams",
            team,
            json!({ "name": format!("Team {team}") }),
            &[],
        ));
    }
    for (player, team) in [(1, 1), (2, 1), (3, 2)] {
        origin.push(simple(
            &base,
            "players",
            player,
            json!({ "name": format!("Player {player}"), "teamId": team }),
            &[team_uri(team)],
        ));
    }
    for stat in 1..=3 {
        origin.push(simple(
            &base,
            "stats",
            stat,
            json!({ "points": stat * 10, "playerId": stat }),
            &[player_uri(stat)],
        ));
    }
    let origin_file = dir.path().join("origin.jsonl");
    let text: String = origin.iter().rev().map(|r| format!("{r}\n")).collect();
    write_file(&origin_file, &text);
    let map_file = dir.path().join("ids.yaml");
    let destination = format!("{base}/");
    let args = [
        "--simple",
        "--create",
        "post",
        "--id-map",
        path_str(&map_file),
        "--ref",
        "teamId=teams",
        "--ref",
        "playerId=players",
        path_str(&origin_file),
        &destination,
    ];

    let first = run(&args).ok();
    let counts = summary(&first.stderr);
    assert_eq!(
        (counts.read, counts.created, counts.updated, counts.failed),
        (8, 8, 0, 0),
        "{}",
        first.stderr
    );

    let after = state(&server);
    assert_eq!(after["teams"].len(), 3 + 2, "{:#?}", after["teams"]);
    assert_eq!(after["players"].len(), 3 + 3, "{:#?}", after["players"]);
    assert_eq!(after["stats"].len(), 3 + 3, "{:#?}", after["stats"]);
    for name in COLLECTIONS {
        for (id, record) in &before[name] {
            assert_eq!(after[name].get(id), Some(record), "{name}/{id} was changed");
        }
    }

    let map = read_id_map(&map_file);
    let old_uris: Vec<String> = origin
        .iter()
        .map(|r| r["uri"].as_str().expect("a uri").to_string())
        .collect();
    assert_eq!(
        sorted_strings(&map.keys().collect::<Vec<_>>()),
        sorted_strings(&old_uris)
    );
    let new_uris: Vec<String> = map.values().cloned().collect();
    assert_all_distinct(&new_uris, "new uri in the id map");
    for resource in &origin {
        let old = resource["uri"].as_str().expect("a uri");
        let kind = resource["type"].as_str().expect("a type");
        let new = &map[old];
        assert!(
            new.starts_with(&format!("{base}/{kind}/")),
            "{old} mapped to {new}"
        );
        let new_id = id_of(new);
        assert!(new_id > 3, "{old} mapped onto a seeded id: {new}");
        let record = after[kind]
            .get(&new_id)
            .unwrap_or_else(|| panic!("{new} (clone of {old}) is not in json-server"));
        assert_eq!(record["type"], resource["type"]);
        assert!(
            record.get("uri").is_none(),
            "the POST body carried the old uri: {record}"
        );
        match kind {
            "teams" => assert_eq!(record["name"], resource["name"]),
            "players" => {
                let team = map[&team_uri(resource["teamId"].as_u64().expect("teamId"))].clone();
                assert_eq!(record["name"], resource["name"]);
                assert_eq!(record["teamId"], json!(id_of(&team)), "{record}");
                assert_eq!(record["parents"], json!([team]), "{record}");
            }
            "stats" => {
                let player =
                    map[&player_uri(resource["playerId"].as_u64().expect("playerId"))].clone();
                assert_eq!(record["points"], resource["points"]);
                assert_eq!(record["playerId"], json!(id_of(&player)), "{record}");
                assert_eq!(record["parents"], json!([player]), "{record}");
            }
            other => panic!("unexpected type {other}"),
        }
    }

    // Second run with the same map: every resource is PUT at its clone, nothing is created.
    let second = run(&args).ok();
    let counts = summary(&second.stderr);
    assert_eq!(
        (counts.created, counts.updated, counts.failed),
        (0, 8, 0),
        "{}",
        second.stderr
    );
    let again = state(&server);
    for name in COLLECTIONS {
        let ids: Vec<&u64> = again[name].keys().collect();
        assert_eq!(
            ids,
            after[name].keys().collect::<Vec<_>>(),
            "{name} after a re-run"
        );
        for (id, record) in &after[name] {
            // The PUT body is the whole resource, so it now also holds `id` and its own
            // (rewritten) `uri`; every other field is as the first run left it.
            let mut now = again[name][id].clone();
            if let Some(uri) = now.as_object_mut().and_then(|fields| fields.remove("uri")) {
                assert_eq!(uri, json!(format!("{base}/{name}/{id}")), "{name}/{id}");
            }
            assert_eq!(&now, record, "{name}/{id} changed on a re-run");
        }
    }
    assert_eq!(
        read_id_map(&map_file),
        map,
        "a re-run leaves the id map as it was"
    );
}
