//! The Django test service itself (tests/server/django.rs, tests/django/): what a real
//! Django REST framework and DRF JSON:API server answers, so later tests of the binary
//! against it rest on checked ground. One server per test.

use serde_json::{json, Value};

use crate::server::django::{require_django, DjangoServer, DEFAULT_PAGE_SIZE};

const JSON: &str = "application/json";
const JSON_API: &str = "application/vnd.api+json";

/// The `id` of each member of a list: a DRF page's `results` or a JSON:API `data` array.
fn ids(items: &Value) -> Value {
    let items = items.as_array().expect("an array of resources");
    items.iter().map(|item| item["id"].clone()).collect()
}

/// A server on its own SQLite file with `page_size`, seeded or empty.
fn server(seed: bool, page_size: usize) -> DjangoServer {
    require_django();
    DjangoServer::start_with_page_size(seed, page_size)
}

#[test]
fn django_drf_pages_by_number_and_404s_past_the_end() {
    let server = server(true, DEFAULT_PAGE_SIZE);
    let base = server.base_url();

    let first = server.get_json("/api/teams/");
    assert_eq!(
        first,
        json!({
            "count": 3,
            "next": format!("{base}/api/teams/?page=2"),
            "previous": null,
            "results": [
                { "id": 1, "url": format!("{base}/api/teams/1/"), "name": "Lions", "city": "Leeds" },
                { "id": 2, "url": format!("{base}/api/teams/2/"), "name": "Tigers", "city": "Turin" },
            ],
        })
    );
    let second = server.get_json(first["next"].as_str().unwrap());
    assert_eq!(ids(&second["results"]), json!([3]));
    assert_eq!(second["next"], Value::Null);
    assert_eq!(second["previous"], json!(format!("{base}/api/teams/")));

    let (status, body) = server.send("GET", "/api/teams/?page=3", JSON, None);
    assert_eq!((status, body), (404, json!({ "detail": "Invalid page." })));

    let players = server.get_json("/api/players/?page_size=10");
    assert_eq!(ids(&players["results"]), json!([1, 2, 3, 4, 5, 6]));
    assert_eq!(
        players["results"][5],
        json!({ "id": 6, "url": format!("{base}/api/players/6/"), "name": "Fay", "team": 3 })
    );
    let stats = server.get_json("/api/stats/?player=4");
    assert_eq!(
        stats["results"],
        json!([{ "id": 4, "url": format!("{base}/api/stats/4/"), "points": 40, "player": 4 }])
    );

    let requests = server.request_log();
    let last = requests.last().expect("logged requests");
    assert_eq!(
        *last,
        json!({ "method": "GET", "path": "/api/stats/?player=4", "status": 200, "content_type": null, "body": null })
    );
}

#[test]
fn django_drf_page_size_option_and_empty_database() {
    let server = server(false, 4);
    let (status, created) = server.send(
        "POST",
        "/api/teams/",
        JSON,
        Some(&json!({ "name": "Owls" })),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["city"], "");
    for name in ["Ann", "Ben", "Cid", "Dee", "Eve"] {
        let player = json!({ "name": name, "team": created["id"] });
        let (status, body) = server.send("POST", "/api/players/", JSON, Some(&player));
        assert_eq!(status, 201, "{body}");
    }
    let page = server.get_json("/api/players/");
    assert_eq!(
        (page["count"].as_u64(), ids(&page["results"])),
        (Some(5), json!([1, 2, 3, 4]))
    );
    assert_eq!(
        server.get_json("/api/stats/"),
        json!({ "count": 0, "next": null, "previous": null, "results": [] })
    );
}

#[test]
fn django_drf_nested_create_and_detail_writes() {
    let server = server(true, DEFAULT_PAGE_SIZE);
    let base = server.base_url();

    let (status, gus) = server.send(
        "POST",
        "/api/teams/2/players/",
        JSON,
        Some(&json!({ "name": "Gus" })),
    );
    assert_eq!(
        (status, &gus),
        (
            201,
            &json!({ "id": 7, "url": format!("{base}/api/players/7/"), "name": "Gus", "team": 2 })
        )
    );
    let team = server.get_json("/api/teams/2/players/?page_size=10");
    assert_eq!(ids(&team["results"]), json!([3, 4, 7]));
    let (status, _) = server.send(
        "POST",
        "/api/teams/9/players/",
        JSON,
        Some(&json!({ "name": "Nobody" })),
    );
    assert_eq!(status, 404);

    let (status, moved) = server.send(
        "PUT",
        "/api/players/7/",
        JSON,
        Some(&json!({ "name": "Gus", "team": 1 })),
    );
    assert_eq!((status, &moved["team"]), (200, &json!(1)));
    let (status, renamed) = server.send(
        "PATCH",
        "/api/players/7/",
        JSON,
        Some(&json!({ "name": "Gustav" })),
    );
    assert_eq!(
        (status, &renamed["name"], &renamed["team"]),
        (200, &json!("Gustav"), &json!(1))
    );
    let (status, invalid) = server.send(
        "PATCH",
        "/api/players/7/",
        JSON,
        Some(&json!({ "team": 99 })),
    );
    assert_eq!(status, 400, "{invalid}");
    assert!(invalid["team"].is_array(), "{invalid}");
    let (status, body) = server.send("DELETE", "/api/players/7/", JSON, None);
    assert_eq!((status, body), (204, Value::Null));
    let (status, _) = server.send("GET", "/api/players/7/", JSON, None);
    assert_eq!(status, 404);

    let writes: Vec<(String, u64, Value)> = server
        .request_log()
        .into_iter()
        .filter(|request| request["method"] != "GET")
        .map(|request| {
            let line = format!(
                "{} {}",
                request["method"].as_str().unwrap(),
                request["path"].as_str().unwrap()
            );
            (
                line,
                request["status"].as_u64().unwrap(),
                request["body"].clone(),
            )
        })
        .collect();
    assert_eq!(
        writes,
        [
            (
                "POST /api/teams/2/players/".to_string(),
                201,
                json!({ "name": "Gus" })
            ),
            (
                "POST /api/teams/9/players/".to_string(),
                404,
                json!({ "name": "Nobody" })
            ),
            (
                "PUT /api/players/7/".to_string(),
                200,
                json!({ "name": "Gus", "team": 1 })
            ),
            (
                "PATCH /api/players/7/".to_string(),
                200,
                json!({ "name": "Gustav" })
            ),
            (
                "PATCH /api/players/7/".to_string(),
                400,
                json!({ "team": 99 })
            ),
            ("DELETE /api/players/7/".to_string(), 204, Value::Null),
        ]
    );
}

#[test]
fn django_jsonapi_pages_by_links_next() {
    let server = server(true, DEFAULT_PAGE_SIZE);
    let base = server.base_url();

    let first = server.get_json("/jsonapi/players");
    assert_eq!(
        first["data"][0],
        json!({
            "type": "players",
            "id": "1",
            "attributes": { "name": "Ann" },
            "relationships": { "team": { "data": { "type": "teams", "id": "1" } } },
            "links": { "self": format!("{base}/jsonapi/players/1") },
        })
    );
    assert_eq!(
        first["meta"],
        json!({ "pagination": { "page": 1, "pages": 3, "count": 6 } })
    );
    assert_eq!(
        first["links"]["next"],
        json!(format!("{base}/jsonapi/players?page%5Bnumber%5D=2"))
    );

    let mut seen = vec![ids(&first["data"])];
    let mut next = first["links"]["next"].clone();
    while let Some(url) = next.as_str() {
        let page = server.get_json(url);
        seen.push(ids(&page["data"]));
        next = page["links"]["next"].clone();
    }
    assert_eq!(json!(seen), json!([["1", "2"], ["3", "4"], ["5", "6"]]));

    let sized = server.get_json("/jsonapi/stats?page[size]=4&page[number]=2");
    assert_eq!(ids(&sized["data"]), json!(["5", "6"]));
    assert_eq!(
        sized["data"][0]["relationships"],
        json!({ "player": { "data": { "type": "players", "id": "5" } } })
    );
    assert_eq!(sized["data"][0]["attributes"], json!({ "points": 50 }));
    let (status, past) = server.send("GET", "/jsonapi/stats?page[number]=9", JSON_API, None);
    assert_eq!(status, 404, "{past}");
    assert_eq!(past["errors"][0]["status"], "404");
}

#[test]
fn django_jsonapi_create_update_delete() {
    let server = server(true, DEFAULT_PAGE_SIZE);
    let base = server.base_url();
    let gus = json!({ "data": {
        "type": "players",
        "attributes": { "name": "Gus" },
        "relationships": { "team": { "data": { "type": "teams", "id": "2" } } },
    } });

    let refused = server.request("POST", "/jsonapi/players", Some(JSON), Some(&gus));
    assert_eq!(refused.status, 415, "{}", refused.body);
    assert_eq!(refused.body["errors"][0]["status"], "415");

    let created = server.request("POST", "/jsonapi/players", Some(JSON_API), Some(&gus));
    assert_eq!(created.status, 201, "{}", created.body);
    let self_link = format!("{base}/jsonapi/players/7");
    assert_eq!(created.header("location"), Some(self_link.as_str()));
    assert_eq!(created.header("content-type"), Some(JSON_API));
    assert_eq!(
        created.body,
        json!({ "data": {
            "type": "players",
            "id": "7",
            "attributes": { "name": "Gus" },
            "relationships": { "team": { "data": { "type": "teams", "id": "2" } } },
            "links": { "self": self_link },
        } })
    );

    let rename =
        json!({ "data": { "type": "players", "id": "7", "attributes": { "name": "Gustav" } } });
    let (status, renamed) = server.send("PATCH", "/jsonapi/players/7", JSON_API, Some(&rename));
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["data"]["attributes"]["name"], "Gustav");
    assert_eq!(renamed["data"]["relationships"]["team"]["data"]["id"], "2");
    let wrong_type =
        json!({ "data": { "type": "teams", "id": "7", "attributes": { "name": "X" } } });
    let (status, _) = server.send("PATCH", "/jsonapi/players/7", JSON_API, Some(&wrong_type));
    assert_eq!(status, 409);
    let (status, _) = server.send("PUT", "/jsonapi/players/7", JSON_API, Some(&rename));
    assert_eq!(status, 405);

    let (status, body) = server.send("DELETE", "/jsonapi/players/7", JSON_API, None);
    assert_eq!((status, body), (204, Value::Null));
    let (status, gone) = server.send("GET", "/jsonapi/players/7", JSON_API, None);
    assert_eq!(status, 404);
    assert_eq!(gone["errors"][0]["status"], "404");
    assert_eq!(server.get_json("/api/players/6/")["name"], "Fay");
}

#[test]
fn django_serves_openapi_3_documents() {
    let server = server(false, DEFAULT_PAGE_SIZE);

    let drf = server.get_json("/api/schema/?format=json");
    assert!(
        drf["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{drf}"
    );
    let paths: Vec<&String> = drf["paths"].as_object().expect("paths").keys().collect();
    for path in [
        "/api/teams/",
        "/api/teams/{id}/",
        "/api/teams/{team}/players/",
        "/api/players/",
        "/api/stats/{id}/",
    ] {
        assert!(paths.iter().any(|p| *p == path), "{path} not in {paths:?}");
    }
    assert!(
        drf["components"]["schemas"]["PaginatedPlayerList"].is_object(),
        "{drf}"
    );

    let jsonapi = server.get_json("/jsonapi/schema");
    assert!(
        jsonapi["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "{jsonapi}"
    );
    let paths: Vec<&String> = jsonapi["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .collect();
    for path in [
        "/jsonapi/teams",
        "/jsonapi/teams/{id}",
        "/jsonapi/players",
        "/jsonapi/stats/{id}",
    ] {
        assert!(paths.iter().any(|p| *p == path), "{path} not in {paths:?}");
    }
}
