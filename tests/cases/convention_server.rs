//! The test server's conventions beside HAL (tests/server/: `--simple`, plain JSON, JSON:API),
//! checked over plain HTTP, so the conformance suite's HTTP runs in those dialects rest on
//! checked ground: pages, writes, and the refusals that make a wrong request show.

use serde_json::{json, Value};

use crate::server::{Convention, ServerConfig, TestServer};

const JSONAPI: &str = "application/vnd.api+json";

/// A server speaking `convention`, two members a page.
fn server(convention: Convention) -> TestServer {
    TestServer::start(ServerConfig {
        page_size: 2,
        max_page_size: 2,
        ..ServerConfig::speaking(convention)
    })
}

/// `{"data": {...}}` of a JSON:API resource object.
fn resource_object(kind: &str, id: Option<&str>, attributes: Value, team: Option<&str>) -> Value {
    let mut object = json!({ "type": kind, "attributes": attributes });
    if let Some(id) = id {
        object["id"] = json!(id);
    }
    if let Some(team) = team {
        object["relationships"] = json!({ "team": { "data": { "type": "team", "id": team } } });
    }
    json!({ "data": object })
}

/// The `id` of each member of an array.
fn ids(members: &Value) -> Vec<Value> {
    members
        .as_array()
        .unwrap_or_else(|| panic!("an array of members: {members}"))
        .iter()
        .map(|member| member["id"].clone())
        .collect()
}

#[test]
fn jsonapi_server_creates_patches_pages_and_deletes_as_the_specification_says() {
    let server = server(Convention::JsonApi);
    let post =
        |path: &str, media: &str, body: &Value| server.send("POST", path, Some((media, body)));

    // A client id is kept; without one the server picks the next number. 201, `data.id`,
    // `Location`, in JSON:API's media type.
    let created = post(
        "/api/team",
        JSONAPI,
        &resource_object("team", Some("7"), json!({"name": "A"}), None),
    );
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["data"]["id"], "7");
    assert_eq!(
        created.header("location"),
        Some(server.url("/api/team/7").as_str())
    );
    assert_eq!(created.header("content-type"), Some(JSONAPI));
    let numbered = post(
        "/api/team",
        JSONAPI,
        &resource_object("team", None, json!({"name": "B"}), None),
    );
    assert_eq!(
        (numbered.status, numbered.body["data"]["id"].clone()),
        (201, json!("8"))
    );
    for id in 1..=3 {
        let id = id.to_string();
        let body = resource_object("player", Some(&id), json!({"name": id}), Some("7"));
        assert_eq!(post("/api/player", JSONAPI, &body).status, 201);
    }

    // Refused: an id taken (409), another type (409), plain JSON (415), a missing related
    // resource (404), PUT (405); none of them stored.
    let refusals = [
        (
            post(
                "/api/team",
                JSONAPI,
                &resource_object("team", Some("7"), json!({}), None),
            ),
            409,
        ),
        (
            post(
                "/api/team",
                JSONAPI,
                &resource_object("player", Some("9"), json!({}), None),
            ),
            409,
        ),
        (
            post(
                "/api/team",
                "application/json",
                &resource_object("team", Some("9"), json!({}), None),
            ),
            415,
        ),
        (
            post(
                "/api/player",
                JSONAPI,
                &resource_object("player", Some("9"), json!({}), Some("99")),
            ),
            404,
        ),
        (
            server.send(
                "PUT",
                "/api/team/7",
                Some((
                    JSONAPI,
                    &resource_object("team", Some("7"), json!({}), None),
                )),
            ),
            405,
        ),
    ];
    for (answer, status) in refusals {
        assert_eq!(answer.status, status, "{:?}", answer.body);
    }
    assert_eq!(server.resources().len(), 5, "{:#?}", server.resources());

    // PATCH merges the attributes it carries; its `data.id` must be the endpoint's.
    let patch = |id: &str, attributes: Value| {
        let body = resource_object("team", Some(id), attributes, None);
        server.send("PATCH", "/api/team/7", Some((JSONAPI, &body)))
    };
    assert_eq!(patch("7", json!({"city": "Oslo"})).status, 200);
    assert_eq!(
        server.get("/api/team/7"),
        Some(json!({"type": "team", "id": "7", "attributes": {"name": "A", "city": "Oslo"}}))
    );
    assert_eq!(patch("8", json!({"city": "Rome"})).status, 409);

    // Pages of two: `links.next` until the last page, which has none.
    let mut next = Some(server.url("/api/player?page%5Bsize%5D=100"));
    let mut seen = Vec::new();
    while let Some(url) = next.take() {
        let page = server.send("GET", &url, None);
        assert_eq!(page.status, 200);
        seen.extend(ids(&page.body["data"]));
        next = page.body["links"]["next"].as_str().map(str::to_string);
    }
    assert_eq!(seen, [json!("1"), json!("2"), json!("3")]);
    assert_eq!(
        server.send("GET", "/api/team/8", None).body,
        json!({"data": {"type": "team", "id": "8", "attributes": {"name": "B"}}})
    );

    // A parent goes only once its children have.
    assert_eq!(server.send("DELETE", "/api/team/7", None).status, 409);
    for id in 1..=3 {
        assert_eq!(
            server
                .send("DELETE", &format!("/api/player/{id}"), None)
                .status,
            204
        );
    }
    assert_eq!(server.send("DELETE", "/api/team/7", None).status, 204);
    assert_eq!(server.send("GET", "/api/team/7", None).status, 404);
}

#[test]
fn simple_and_plain_servers_page_by_link_header_and_refuse_orphans() {
    let simple = server(Convention::Simple);
    let base = "http://prod.example:9";
    let team = |id: u64| json!({"id": id, "type": "team", "uri": format!("{base}/api/team/{id}")});
    let player = json!({"id": 1, "type": "player", "uri": format!("{base}/api/player/1"),
        "parents": [format!("{base}/api/team/1")]});
    let put = |server: &TestServer, path: &str, body: &Value| {
        server
            .send("PUT", path, Some(("application/json", body)))
            .status
    };
    assert_eq!(put(&simple, "/api/player/1", &player), 409, "an orphan");
    for id in 1..=3 {
        assert_eq!(put(&simple, &format!("/api/team/{id}"), &team(id)), 201);
    }
    assert_eq!(put(&simple, "/api/player/1", &player), 201);
    assert_eq!(
        simple.send("DELETE", "/api/team/1", None).status,
        409,
        "a parent"
    );
    // The root is a container linking each collection; a page is a bare array, the next
    // one in a `Link` header.
    assert_eq!(
        simple.send("GET", "/api", None).body,
        json!({"links": [simple.url("/api/player"), simple.url("/api/team")]})
    );
    let first = simple.send("GET", "/api/team", None);
    assert_eq!(ids(&first.body), [json!(1), json!(2)]);
    let link = format!("<{}>; rel=\"next\"", simple.url("/api/team?offset=2"));
    assert_eq!(first.header("link"), Some(link.as_str()));
    let last = simple.send("GET", "/api/team?offset=2", None);
    assert_eq!(ids(&last.body), [json!(3)]);
    assert!(
        !last.header("link").unwrap_or("").contains("next"),
        "{:?}",
        last.headers
    );

    // Plain JSON: a `<type>Id` field names the parent; members are stored as sent.
    let plain = server(Convention::Plain);
    let member = json!({"id": 1, "name": "Ann", "teamId": 4});
    assert_eq!(put(&plain, "/api/player/1", &member), 409, "an orphan");
    assert_eq!(put(&plain, "/api/team/4", &json!({"id": 4})), 201);
    assert_eq!(put(&plain, "/api/player/1", &member), 201);
    assert_eq!(plain.get("/api/player/1"), Some(member.clone()));
    let page = plain.send("GET", "/api/player", None);
    assert_eq!(page.header("content-type"), Some("application/json"));
    assert_eq!(page.body, json!([member]));
}
