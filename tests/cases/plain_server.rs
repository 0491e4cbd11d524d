//! The plain-JSON test API itself (tests/server/plain.rs): each envelope, pagination kind and
//! quirk, and the write routes, checked over plain HTTP so the `--api FILE` tests against it
//! rest on checked ground.

use serde_json::{json, Value};

use crate::server::plain::{
    decode_cursor, encode_cursor, Envelope, Pagination, PlainConfig, PlainServer,
};

/// The `id` of each member of an array.
fn ids(members: &Value) -> Vec<u64> {
    members
        .as_array()
        .unwrap_or_else(|| panic!("an array of members: {members}"))
        .iter()
        .map(|member| member["id"].as_u64().expect("an integer id"))
        .collect()
}

/// The URL of `rel` in a `Link` header.
fn link_rel(header: &str, rel: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        params.contains(&format!("rel=\"{rel}\"")).then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

fn server(envelope: Envelope, pagination: Pagination) -> PlainServer {
    PlainServer::start(PlainConfig::new(envelope, pagination).seeded(3, 2))
}

#[test]
fn plain_seed_holds_teams_players_and_stats_with_created_stamps() {
    let server = server(Envelope::Bare, Pagination::None);
    let teams = server.collection("teams");
    assert_eq!(ids(&Value::Array(teams.clone())), [1, 2, 3]);
    assert_eq!(teams[0]["name"], "Team 1");
    assert_eq!(teams[0]["city"], "City 1");
    let players = server.collection("players");
    assert_eq!(players.len(), 6);
    assert_eq!(players[2]["team"], 2);
    assert_eq!(players[2]["name"], "Player 3");
    let stats = server.collection("stats");
    assert_eq!(stats.len(), 6);
    assert_eq!(stats[4]["player"], 5);
    assert_eq!(stats[4]["points"], 5);
    let created = players[0]["created"].as_str().expect("a created stamp");
    assert!(
        created.len() == 27 && created.ends_with('Z') && created.contains('T'),
        "{created}"
    );
    assert!(server.requests().is_empty());

    // The root lists the collections; the whole list comes in one response with `None`.
    let root = server.get_json("/api/");
    assert_eq!(root["teams"], server.url("/api/teams/"));
    assert_eq!(ids(&server.get_json("/api/players/")), [1, 2, 3, 4, 5, 6]);
    assert_eq!(ids(&server.get_json("/api/players/?team=2")), [3, 4]);
    assert_eq!(ids(&server.get_json("/api/stats/?player=6")), [6]);
}

#[test]
fn plain_link_header_pages_follow_to_the_end() {
    let server = server(Envelope::Bare, Pagination::Link);
    let first = server.send("GET", "/api/players/", None);
    assert_eq!(first.status, 200);
    assert_eq!(ids(&first.body), [1, 2]);
    let link = first.header("link").expect("a Link header").to_string();
    assert_eq!(
        link_rel(&link, "next").as_deref(),
        Some(server.url("/api/players/?page=2").as_str())
    );
    assert_eq!(
        link_rel(&link, "last").as_deref(),
        Some(server.url("/api/players/?page=3").as_str())
    );
    assert_eq!(link_rel(&link, "prev"), None);

    let mut url = server.url("/api/players/");
    let mut seen = Vec::new();
    loop {
        let page = server.send("GET", &url, None);
        assert_eq!(page.status, 200);
        seen.extend(ids(&page.body));
        match page.header("link").and_then(|link| link_rel(link, "next")) {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
    assert_eq!(server.count_path("GET", "/api/players/"), 4);
    assert_eq!(
        server.paths("GET")[1..],
        [
            "/api/players/",
            "/api/players/?page=2",
            "/api/players/?page=3"
        ]
    );

    // Filters apply before paging; a page past the last is 404.
    let last = server.send("GET", "/api/players/?team=1&page=1", None);
    assert_eq!(ids(&last.body), [1, 2]);
    assert_eq!(link_rel(last.header("link").unwrap(), "next"), None);
    let past = server.send("GET", "/api/players/?page=4", None);
    assert_eq!(
        (past.status, past.body),
        (404, json!({"detail": "Invalid page."}))
    );
}

#[test]
fn plain_body_next_in_results_and_data_envelopes() {
    let server = server(
        Envelope::Results,
        Pagination::BodyNext { object_href: false },
    );
    let base = server.base_url();
    assert_eq!(
        server.get_json("/api/teams/"),
        json!({
            "count": 3,
            "next": format!("{base}/api/teams/?page=2"),
            "previous": null,
            "results": server.collection("teams")[..2],
        })
    );
    let last = server.get_json("/api/teams/?page=2");
    assert_eq!(last["next"], Value::Null);
    assert_eq!(last["previous"], format!("{base}/api/teams/"));
    assert_eq!(ids(&last["results"]), [3]);

    let server = server_with(PlainConfig {
        size_param: Some("page_size".to_string()),
        ..PlainConfig::new(Envelope::Data, Pagination::BodyNext { object_href: true })
    });
    let base = server.base_url();
    let first = server.get_json("/api/players/?page_size=4");
    assert_eq!(ids(&first["data"]), [1, 2, 3, 4]);
    assert_eq!(
        first["links"],
        json!({ "next": { "href": format!("{base}/api/players/?page_size=4&page=2") }, "prev": null })
    );
    let last = server.get_json(first["links"]["next"]["href"].as_str().unwrap());
    assert_eq!(ids(&last["data"]), [5, 6]);
    assert_eq!(last["links"]["next"], Value::Null);
    assert_eq!(
        last["links"]["prev"],
        json!({ "href": format!("{base}/api/players/?page_size=4") })
    );
}

fn server_with(config: PlainConfig) -> PlainServer {
    PlainServer::start(config.seeded(3, 2))
}

#[test]
fn plain_page_numbers_from_one_or_zero_and_404_past_the_last() {
    let server = server(Envelope::Results, Pagination::page("page"));
    let first = server.get_json("/api/players/");
    assert_eq!(ids(&first["results"]), [1, 2]);
    assert_eq!(first["count"], 6);
    // Nothing announces the next page with `Page`.
    assert_eq!(first["next"], Value::Null);
    assert_eq!(
        ids(&server.get_json("/api/players/?page=1")["results"]),
        [1, 2]
    );
    assert_eq!(
        ids(&server.get_json("/api/players/?page=3")["results"]),
        [5, 6]
    );
    for past in [
        "/api/players/?page=4",
        "/api/players/?page=0",
        "/api/players/?page=x",
    ] {
        let response = server.send("GET", past, None);
        assert_eq!(
            (response.status, response.body),
            (404, json!({"detail": "Invalid page."})),
            "{past}"
        );
    }
    // An empty list's first page is an empty list, its second is 404.
    server.insert("teams", json!({"name": "Empty", "city": "Nowhere"}));
    let empty = server.get_json("/api/teams/4/players/");
    assert_eq!(
        empty,
        json!({"count": 0, "next": null, "previous": null, "results": []})
    );
    assert_eq!(
        server
            .send("GET", "/api/teams/4/players/?page=2", None)
            .status,
        404
    );

    // From 0, with a client-chosen page size.
    let server = server_with(PlainConfig {
        size_param: Some("limit".to_string()),
        ..PlainConfig::new(
            Envelope::Bare,
            Pagination::Page {
                param: "p".to_string(),
                start: 0,
            },
        )
    });
    assert_eq!(
        ids(&server.get_json("/api/players/?p=0&limit=5")),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(ids(&server.get_json("/api/players/?p=1&limit=5")), [6]);
    assert_eq!(
        server.send("GET", "/api/players/?p=2&limit=5", None).status,
        404
    );
    assert_eq!(ids(&server.get_json("/api/players/?p=2")), [5, 6]);
    assert_eq!(server.count("GET"), 4);
}

#[test]
fn plain_offsets_skip_members_and_end_empty_or_404() {
    let server = server(Envelope::Results, Pagination::offset("offset"));
    let mut offset = 0;
    let mut seen = Vec::new();
    loop {
        let page = server.get_json(&format!("/api/players/?offset={offset}"));
        let got = ids(&page["results"]);
        if got.is_empty() {
            break;
        }
        offset += got.len();
        seen.extend(got);
    }
    assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        server.paths("GET"),
        [
            "/api/players/?offset=0",
            "/api/players/?offset=2",
            "/api/players/?offset=4",
            "/api/players/?offset=6"
        ]
    );
    assert_eq!(
        ids(&server.get_json("/api/players/?offset=5")["results"]),
        [6]
    );
    assert_eq!(ids(&server.get_json("/api/players/")["results"]), [1, 2]);

    let server = server_with(PlainConfig {
        offset_past_end_404: true,
        ..PlainConfig::new(Envelope::Bare, Pagination::offset("skip"))
    });
    assert_eq!(ids(&server.get_json("/api/teams/?skip=2")), [3]);
    let past = server.send("GET", "/api/teams/?skip=3", None);
    assert_eq!(
        (past.status, past.body),
        (404, json!({"detail": "Invalid page."}))
    );
    // The first request of an empty list is still a list.
    let empty = PlainServer::start(PlainConfig {
        offset_past_end_404: true,
        ..PlainConfig::new(Envelope::Bare, Pagination::offset("skip"))
    });
    assert_eq!(empty.get_json("/api/teams/?skip=0"), json!([]));
}

#[test]
fn plain_cursor_tokens_in_body_or_header() {
    assert_eq!(encode_cursor(3), "cD0z");
    assert_eq!(decode_cursor(&encode_cursor(10)), Some(10));
    assert_eq!(decode_cursor("garbage!"), None);

    let server = server(Envelope::Data, Pagination::cursor_in_body("cursor"));
    let first = server.get_json("/api/players/");
    assert_eq!(ids(&first["data"]), [1, 2]);
    assert_eq!(first["next_cursor"], encode_cursor(2));
    let mut token = first["next_cursor"].as_str().unwrap().to_string();
    let mut seen = ids(&first["data"]);
    while !token.is_empty() {
        let page = server.get_json(&format!("/api/players/?cursor={token}"));
        seen.extend(ids(&page["data"]));
        token = page["next_cursor"].as_str().expect("a token").to_string();
    }
    assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
    assert_eq!(server.count("GET"), 3);
    let bad = server.send("GET", "/api/players/?cursor=nope", None);
    assert_eq!(
        (bad.status, bad.body),
        (404, json!({"detail": "Invalid cursor"}))
    );

    let server = server_with(PlainConfig {
        size_param: Some("page_size".to_string()),
        ..PlainConfig::new(
            Envelope::Bare,
            Pagination::cursor_in_header("after", "X-Next-Cursor"),
        )
    });
    let first = server.send("GET", "/api/players/?page_size=4", None);
    assert_eq!(ids(&first.body), [1, 2, 3, 4]);
    let token = first
        .header("x-next-cursor")
        .expect("a next cursor")
        .to_string();
    let last = server.send(
        "GET",
        &format!("/api/players/?page_size=4&after={token}"),
        None,
    );
    assert_eq!(ids(&last.body), [5, 6]);
    assert_eq!(last.header("x-next-cursor"), None);
    // A token padded with `=` survives percent-encoding.
    for id in 1..=12 {
        server.insert("teams", json!({ "id": id, "name": format!("T{id}") }));
    }
    let token = encode_cursor(10);
    assert!(token.ends_with("=="), "{token}");
    let encoded = token.replace('=', "%3D");
    assert_eq!(
        ids(&server.get_json(&format!("/api/teams/?after={encoded}"))),
        [11, 12]
    );
}

#[test]
fn plain_none_answers_the_whole_list() {
    let server = server(Envelope::Results, Pagination::None);
    let all = server.get_json("/api/stats/?page=2");
    assert_eq!(all["count"], 6);
    assert_eq!(all["next"], Value::Null);
    assert_eq!(ids(&all["results"]), [1, 2, 3, 4, 5, 6]);
}

#[test]
fn plain_quirk_next_points_back_to_the_first_page() {
    let server = server_with(PlainConfig {
        next_points_back: true,
        ..PlainConfig::new(
            Envelope::Results,
            Pagination::BodyNext { object_href: false },
        )
    });
    let last = server.get_json("/api/teams/?page=2");
    assert_eq!(ids(&last["results"]), [3]);
    assert_eq!(last["next"], server.url("/api/teams/"));

    let server = server_with(PlainConfig {
        next_points_back: true,
        ..PlainConfig::new(Envelope::Bare, Pagination::Link)
    });
    let last = server.send("GET", "/api/teams/?page=2", None);
    assert_eq!(
        link_rel(last.header("link").unwrap(), "next"),
        Some(server.url("/api/teams/"))
    );

    let server = server_with(PlainConfig {
        next_points_back: true,
        ..PlainConfig::new(Envelope::Results, Pagination::cursor_in_body("cursor"))
    });
    let last = server.get_json(&format!("/api/teams/?cursor={}", encode_cursor(2)));
    assert_eq!(ids(&last["results"]), [3]);
    assert_eq!(last["next_cursor"], encode_cursor(0));
    let again = server.get_json(&format!("/api/teams/?cursor={}", encode_cursor(0)));
    assert_eq!(ids(&again["results"]), [1, 2]);
}

#[test]
fn plain_quirk_empty_last_page_announces_a_page_never_needed() {
    let server = server_with(PlainConfig {
        empty_last_page: true,
        ..PlainConfig::new(
            Envelope::Results,
            Pagination::BodyNext { object_href: false },
        )
    });
    let last = server.get_json("/api/teams/?page=2");
    assert_eq!(ids(&last["results"]), [3]);
    assert_eq!(last["next"], server.url("/api/teams/?page=3"));
    let extra = server.get_json("/api/teams/?page=3");
    assert_eq!(ids(&extra["results"]), Vec::<u64>::new());
    assert_eq!(extra["next"], server.url("/api/teams/?page=4"));
    assert_eq!(server.send("GET", "/api/teams/?page=4", None).status, 404);

    let server = server_with(PlainConfig {
        empty_last_page: true,
        ..PlainConfig::new(Envelope::Bare, Pagination::page("page"))
    });
    assert_eq!(server.get_json("/api/teams/?page=3"), json!([]));
    assert_eq!(server.send("GET", "/api/teams/?page=4", None).status, 404);

    let server = server_with(PlainConfig {
        empty_last_page: true,
        ..PlainConfig::new(
            Envelope::Bare,
            Pagination::cursor_in_header("c", "next-cursor"),
        )
    });
    let last = server.send("GET", &format!("/api/teams/?c={}", encode_cursor(2)), None);
    assert_eq!(ids(&last.body), [3]);
    let token = last
        .header("next-cursor")
        .expect("a token to the extra page")
        .to_string();
    let extra = server.send("GET", &format!("/api/teams/?c={token}"), None);
    assert_eq!(extra.body, json!([]));
    assert!(extra.header("next-cursor").is_some());
}

#[test]
fn plain_nested_players_are_listed_and_created_under_their_team() {
    let server = server(Envelope::Results, Pagination::None);
    let base = server.base_url();
    assert_eq!(
        ids(&server.get_json("/api/teams/2/players/")["results"]),
        [3, 4]
    );

    let created = server.send(
        "POST",
        "/api/teams/2/players/",
        Some(&json!({"name": "New", "team": 1, "id": 99, "created": "x"})),
    );
    assert_eq!(created.status, 201);
    assert_eq!(created.body["id"], 7);
    assert_eq!(created.body["team"], 2);
    assert_eq!(created.body["name"], "New");
    assert_ne!(created.body["created"], "x");
    assert_eq!(
        created.header("location"),
        Some(format!("{base}/api/teams/2/players/7/").as_str())
    );
    assert_eq!(server.member("players", 7), Some(created.body.clone()));
    assert_eq!(
        ids(&server.get_json("/api/teams/2/players/")["results"]),
        [3, 4, 7]
    );
    assert_eq!(
        ids(&server.get_json("/api/players/?team=2")["results"]),
        [3, 4, 7]
    );
    assert_eq!(server.get_json("/api/teams/2/players/7/"), created.body);
    // Another team's player, and any route of a missing team, are not found.
    assert_eq!(
        server.send("GET", "/api/teams/1/players/7/", None).status,
        404
    );
    assert_eq!(
        server.send("GET", "/api/teams/9/players/", None).status,
        404
    );
    assert_eq!(
        server
            .send("POST", "/api/teams/9/players/", Some(&json!({})))
            .status,
        404
    );

    // Top-level POST, and no Location when configured so.
    let stat = server.send(
        "POST",
        "/api/stats/",
        Some(&json!({"points": 3, "player": 7})),
    );
    assert_eq!((stat.status, stat.body["id"].clone()), (201, json!(7)));
    assert_eq!(
        stat.header("location"),
        Some(format!("{base}/api/stats/7/").as_str())
    );
    let quiet = server_with(PlainConfig {
        location: false,
        ..PlainConfig::default()
    });
    let team = quiet.send("POST", "/api/teams/", Some(&json!({"name": "X"})));
    assert_eq!(team.status, 201);
    assert_eq!(team.header("location"), None);
    assert_eq!(quiet.requests()[0].body, Some(json!({"name": "X"})));
    assert_eq!(
        quiet.requests()[0].header("content-type"),
        Some("application/json")
    );
    assert_eq!(quiet.requests()[0].status, 201);
}

#[test]
fn plain_put_patch_delete_statuses() {
    let server = server(Envelope::Bare, Pagination::Link);
    let created_at = server.member("teams", 1).unwrap()["created"].clone();

    let replaced = server.send(
        "PUT",
        "/api/teams/1/",
        Some(&json!({"name": "Lions", "id": 5})),
    );
    assert_eq!(replaced.status, 200);
    assert_eq!(
        replaced.body,
        json!({"id": 1, "name": "Lions", "created": created_at})
    );
    let new = server.send(
        "PUT",
        "/api/teams/10/",
        Some(&json!({"name": "Ten", "city": "C"})),
    );
    assert_eq!(new.status, 201);
    assert_eq!(new.body["id"], 10);
    assert!(new.body["created"].is_string());
    // Ids are max + 1.
    let next = server.send("POST", "/api/teams/", Some(&json!({"name": "Eleven"})));
    assert_eq!(next.body["id"], 11);

    let patched = server.send("PATCH", "/api/teams/2/", Some(&json!({"city": "Rome"})));
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["name"], "Team 2");
    assert_eq!(patched.body["city"], "Rome");
    assert_eq!(
        server
            .send("PATCH", "/api/teams/77/", Some(&json!({})))
            .status,
        404
    );
    let nested = server.send(
        "PATCH",
        "/api/teams/1/players/2/",
        Some(&json!({"team": 3})),
    );
    assert_eq!(
        (nested.status, nested.body["team"].clone()),
        (200, json!(1))
    );
    let moved = server.send(
        "PUT",
        "/api/teams/3/players/20/",
        Some(&json!({"name": "P"})),
    );
    assert_eq!((moved.status, moved.body["team"].clone()), (201, json!(3)));

    assert_eq!(server.send("DELETE", "/api/teams/2/", None).status, 204);
    assert_eq!(server.send("DELETE", "/api/teams/2/", None).status, 404);
    assert_eq!(server.send("GET", "/api/teams/2/", None).status, 404);
    assert_eq!(
        ids(&Value::Array(server.collection("teams"))),
        [1, 3, 10, 11]
    );

    for body in [json!([1]), json!("text"), json!(3)] {
        let response = server.send("POST", "/api/teams/", Some(&body));
        assert_eq!(response.status, 400, "{body}");
    }
    let broken = server.send("PUT", "/api/teams/1/", None);
    assert_eq!(broken.status, 400);
    for path in [
        "/api/teams",
        "/api/coaches/",
        "/api/teams/x/",
        "/other",
        "/api/teams/1/stats/",
    ] {
        assert_eq!(server.send("GET", path, None).status, 404, "{path}");
    }
    assert_eq!(server.send("DELETE", "/api/teams/", None).status, 405);
    assert_eq!(server.count("DELETE"), 3);
    assert_eq!(server.count_path("PUT", &server.url("/api/teams/1/")), 2);
    server.clear_log();
    assert!(server.requests().is_empty());
}
