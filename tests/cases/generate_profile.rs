//! `--generate profile SOURCE` (SPEC section 8, "Profiles from OpenAPI"): profiles generated
//! from the OpenAPI documents real frameworks write (drf-spectacular for Django REST
//! framework, DRF JSON:API's own generator), used to pull and clone against the same live
//! services, must give the same files and server state as hand-written profiles.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::server::django::{require_django, DjangoServer};
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

fn assert_contains_all(text: &str, expected: &[&str]) {
    for expected in expected {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}

fn assert_contains_none(text: &str, absent: &[&str]) {
    for absent in absent {
        assert!(!text.contains(absent), "{absent}\n{text}");
    }
}

/// A seeded server and the profile generated from the document at `schema_path` on it.
fn seeded_and_generated(schema_path: &str) -> (DjangoServer, String) {
    require_django();
    let origin = DjangoServer::start(true);
    let text = generate(&format!("{}{schema_path}", origin.base_url()));
    (origin, text)
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
    let (origin, text) = seeded_and_generated("/api/schema/?format=json");
    let base = origin.base_url();
    // The same document in YAML (the view's default) gives the same profile.
    let yaml = generate(&format!("{base}/api/schema/"));
    let body = |text: &str| text.lines().skip(2).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&text), body(&yaml));
    let expected = [
        &format!("use {base} as the endpoint URL"),
        "records: results",
        "next: body:next",
        "# guessed: `page_size` carries --limit",
        "size: page_size",
        "create: post",
        "update: put",
        // drf-spectacular marks `id` readOnly in every write body.
        "readonly: [id, url]",
        "    path: api/teams/\n    item: api/teams/{id}/\n",
        "    path: api/players/\n",
        "      # guessed: field `team` holds a teams id (from its name)\n      team: teams\n",
        "      # guessed: field `player` holds a players id (from its name)\n      player: players\n",
        "# api/teams/{team}/players/ also lists players: they are read from api/players/",
    ];
    assert_contains_all(&text, &expected);
    assert_same_as_by_hand(&origin, &text, DRF_BY_HAND, "/api");
}

#[test]
fn generate_profile_from_drf_jsonapi_pulls_and_clones_like_the_shipped_one() {
    let (origin, text) = seeded_and_generated("/jsonapi/schema");
    let base = origin.base_url();
    assert!(
        text.contains(&format!("use {base} as the endpoint URL")),
        "{text}"
    );
    let expected = [
        "format: jsonapi",
        "records: data",
        "next: body:links.next",
        "size: page[size]",
        "update: patch",
        "    path: jsonapi/teams\n    item: jsonapi/teams/{id}\n",
        "      # guessed: relationship `team` holds a teams resource (from its name)\n      team: teams\n",
    ];
    assert_contains_all(&text, &expected);
    let shipped = read(&manifest_path("examples/api/jsonapi.yaml"));
    assert_same_as_by_hand(&origin, &text, &shipped, "/jsonapi");
}

#[test]
fn generate_profile_from_a_file_validates_and_names_the_endpoint() {
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
    let text = generated_and_accepted("shop.yaml", document);
    assert!(
        text.contains("use https://shop.example/v2 as the endpoint URL"),
        "{text}"
    );
    assert!(
        text.contains("# guessed: a `page` query parameter (from its name)\nnext: page:page\n"),
        "{text}"
    );
}

/// The profile generated from `document` (written to a file `name`), which `--api`
/// accepts: a run from an empty folder checks the profile, then reads nothing.
fn generated_and_accepted(name: &str, document: &str) -> String {
    let dir = temp_dir();
    let dir = dir.path();
    let source = write_profile(dir, name, document);
    let text = generate(path_str(&source));
    let profile = write_profile(dir, &format!("{name}.profile.yaml"), &text);
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("a folder");
    let out = dir.join("out.jsonl");
    let args = [
        "--api",
        path_str(&profile),
        path_str(&empty),
        path_str(&out),
    ];
    run(&args).ok();
    text
}

/// flask-smorest's shape: `/authors/` with `/authors/{author_id}`, marshmallow schemas whose
/// id is dump-only (readOnly) or left out of the load schema, `X-Pagination` headers with
/// `page` and `page_size` parameters, a 422 for anything the schema does not know.
const FLASK_SMOREST: &str = r##"
openapi: 3.0.2
info: {title: Library, version: v1}
paths:
  /authors/:
    get:
      parameters:
        - {in: query, name: page, required: false, schema: {type: integer, default: 1, minimum: 1}}
        - {in: query, name: page_size, required: false, schema: {type: integer, default: 10, minimum: 1, maximum: 100}}
      responses:
        "200":
          description: OK
          headers: {X-Pagination: {$ref: "#/components/headers/PAGINATION"}}
          content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Author"}}}}
    post:
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/Author"}}}}
      responses:
        "201": {description: Created, content: {application/json: {schema: {$ref: "#/components/schemas/Author"}}}}
        "422": {$ref: "#/components/responses/UNPROCESSABLE_ENTITY"}
  /authors/{author_id}:
    parameters: [{in: path, name: author_id, required: true, schema: {type: integer, minimum: 0}}]
    get:
      responses: {"200": {description: OK, content: {application/json: {schema: {$ref: "#/components/schemas/Author"}}}}}
    put:
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/Author"}}}}
      responses: {"200": {description: OK, content: {application/json: {schema: {$ref: "#/components/schemas/Author"}}}}}
    delete:
      responses: {"204": {description: No Content}}
  /books/:
    get:
      parameters:
        - {in: query, name: page, schema: {type: integer}}
        - {in: query, name: page_size, schema: {type: integer}}
      responses:
        "200":
          description: OK
          headers: {X-Pagination: {$ref: "#/components/headers/PAGINATION"}}
          content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Book"}}}}
    post:
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/BookLoad"}}}}
      responses: {"201": {description: Created, content: {application/json: {schema: {$ref: "#/components/schemas/Book"}}}}}
  /books/{book_id}:
    parameters: [{in: path, name: book_id, required: true, schema: {type: integer}}]
    get:
      responses: {"200": {description: OK, content: {application/json: {schema: {$ref: "#/components/schemas/Book"}}}}}
    put:
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/BookLoad"}}}}
      responses: {"200": {description: OK, content: {application/json: {schema: {$ref: "#/components/schemas/Book"}}}}}
components:
  schemas:
    Author:
      type: object
      properties: {id: {type: integer, readOnly: true}, name: {type: string}}
      required: [name]
    BookLoad:
      type: object
      properties: {title: {type: string}, author_id: {type: integer}}
    Book:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        title: {type: string}
        author_id: {type: integer}
        created_at: {type: string, format: date-time, readOnly: true}
    PaginationMetadata:
      type: object
      properties: {total: {type: integer}, total_pages: {type: integer}, page: {type: integer}, next_page: {type: integer}}
  headers:
    PAGINATION: {description: Pagination metadata, schema: {$ref: "#/components/schemas/PaginationMetadata"}}
  responses:
    UNPROCESSABLE_ENTITY: {description: Unprocessable Entity}
"##;

#[test]
fn generate_profile_from_flask_smorest_pairs_an_unslashed_item_and_keeps_ids_out_of_bodies() {
    let text = generated_and_accepted("flask.yaml", FLASK_SMOREST);
    assert_contains_all(
        &text,
        &[
            "records: \"\"\n",
            "# guessed: a `page` query parameter (from its name)\nnext: page:page\n",
            "# guessed: `page_size` carries --limit (from its name)\nsize: page_size\n",
            "create: post\nupdate: put\n",
            // A dump-only id and one the load schema lacks are both refused in a body.
            "  authors:\n    path: authors/\n    item: authors/{id}\n    readonly: [id]\n",
            "  books:\n    path: books/\n    item: books/{id}\n",
            "      # guessed: field `author_id` holds a authors id (from its name)\n      author_id: authors\n",
            "    readonly: [id, created_at]\n",
        ],
    );
    let absent = ["no item path", "record:", "guessed: no PUT/PATCH body"];
    assert_contains_none(&text, &absent);
}

/// Directus's shape: `/items/authors` with `/items/authors/{id}`, a POST body of one item
/// or many, answers `{"data": {...}}` and lists `{"data": [...]}`, `limit`/`offset`/`page`
/// parameters, PATCH but no PUT.
const DIRECTUS: &str = r##"{
  "openapi": "3.0.1",
  "info": {"title": "Dynamic API Specification", "version": "1.0.0"},
  "servers": [{"url": "http://localhost:8055", "description": "Your current Directus instance."}],
  "paths": {
    "/items/authors": {
      "get": {
        "parameters": [{"$ref": "#/components/parameters/Fields"}, {"$ref": "#/components/parameters/Limit"},
                       {"$ref": "#/components/parameters/Meta"}, {"$ref": "#/components/parameters/Offset"},
                       {"$ref": "#/components/parameters/Page"}],
        "responses": {"200": {"description": "Successful request", "content": {"application/json": {"schema": {
          "type": "object",
          "properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/ItemsAuthors"}},
                         "meta": {"$ref": "#/components/schemas/x-metadata"}}}}}}}
      },
      "post": {
        "requestBody": {"content": {"application/json": {"schema": {"oneOf": [
          {"type": "array", "items": {"$ref": "#/components/schemas/ItemsAuthors"}},
          {"$ref": "#/components/schemas/ItemsAuthors"}]}}}},
        "responses": {"200": {"description": "Successful request", "content": {"application/json": {"schema": {
          "properties": {"data": {"items": {"$ref": "#/components/schemas/ItemsAuthors"}}}}}}}}
      }
    },
    "/items/authors/{id}": {
      "get": {
        "parameters": [{"$ref": "#/components/parameters/Id"}],
        "responses": {"200": {"description": "Successful request", "content": {"application/json": {"schema": {
          "type": "object", "properties": {"data": {"$ref": "#/components/schemas/ItemsAuthors"}}}}}}}
      },
      "patch": {
        "parameters": [{"$ref": "#/components/parameters/Id"}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemsAuthors"}}}},
        "responses": {"200": {"description": "Successful request", "content": {"application/json": {"schema": {
          "type": "object", "properties": {"data": {"$ref": "#/components/schemas/ItemsAuthors"}}}}}}}
      },
      "delete": {"parameters": [{"$ref": "#/components/parameters/Id"}], "responses": {"200": {"description": "Successful request"}}}
    },
    "/items/books": {
      "get": {
        "parameters": [{"$ref": "#/components/parameters/Limit"}, {"$ref": "#/components/parameters/Offset"},
                       {"$ref": "#/components/parameters/Page"}],
        "responses": {"200": {"description": "Successful request", "content": {"application/json": {"schema": {
          "type": "object", "properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/ItemsBooks"}}}}}}}}
      },
      "post": {
        "requestBody": {"content": {"application/json": {"schema": {"anyOf": [
          {"$ref": "#/components/schemas/ItemsBooks"},
          {"type": "array", "items": {"$ref": "#/components/schemas/ItemsBooks"}}]}}}},
        "responses": {"200": {"description": "Successful request", "content": {"application/json": {"schema": {
          "type": "object", "properties": {"data": {"oneOf": [
            {"$ref": "#/components/schemas/ItemsBooks"},
            {"type": "array", "items": {"$ref": "#/components/schemas/ItemsBooks"}}]}}}}}}}
      }
    },
    "/items/books/{id}": {
      "patch": {
        "parameters": [{"$ref": "#/components/parameters/Id"}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemsBooks"}}}}
      }
    }
  },
  "components": {
    "parameters": {
      "Id": {"name": "id", "in": "path", "required": true, "schema": {"oneOf": [{"type": "integer"}, {"type": "string"}]}},
      "Fields": {"name": "fields", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
      "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}},
      "Meta": {"name": "meta", "in": "query", "schema": {"type": "string"}},
      "Offset": {"name": "offset", "in": "query", "schema": {"type": "integer"}},
      "Page": {"name": "page", "in": "query", "schema": {"type": "integer"}}
    },
    "schemas": {
      "x-metadata": {"type": "object", "properties": {"total_count": {"type": "integer"}, "filter_count": {"type": "integer"}}},
      "ItemsAuthors": {"type": "object", "properties": {
        "id": {"nullable": false, "type": "integer"},
        "name": {"nullable": true, "type": "string"},
        "date_created": {"nullable": true, "type": "string", "format": "timestamp"}}},
      "ItemsBooks": {"type": "object", "properties": {
        "id": {"nullable": false, "type": "integer"},
        "title": {"nullable": true, "type": "string"},
        "author": {"nullable": true, "oneOf": [{"type": "integer"}, {"$ref": "#/components/schemas/ItemsAuthors"}]}}}
    }
  }
}"##;

#[test]
fn generate_profile_from_directus_reads_one_or_many_bodies_and_data_records() {
    let text = generated_and_accepted("directus.json", DIRECTUS);
    assert_contains_all(
        &text,
        &[
            "use http://localhost:8055 as the endpoint URL",
            // Both types' answers hold their member under `data`, so the profile says so once.
            "records: data\nrecord: data\n",
            "# guessed: a `page` query parameter (from its name)\nnext: page:page\n",
            "# guessed: `limit` carries --limit (from its name)\nsize: limit\n",
            "create: post\nupdate: patch\n",
            "  authors:\n    path: items/authors\n    item: items/authors/{id}\n",
            "  books:\n    path: items/books\n    item: items/books/{id}\n",
            "      # guessed: field `author` holds a authors id (from its name)\n      author: authors\n",
        ],
    );
    // Every field is in the one-or-many POST body: none is the server's.
    assert_contains_none(&text, &["readonly", "guessed: no answer"]);
}

/// fastapi-pagination's shape: `{"items": [...], "total", "page", "size", "pages"}` pages
/// asked for with `page` and `size`, books nested under their author, FastAPI's own
/// `/authors/{author_id}` beside `/authors/`, create and update models without the id.
const FASTAPI_PAGINATION: &str = r##"
openapi: 3.1.0
info: {title: Library, version: 0.1.0}
paths:
  /authors/:
    get:
      parameters:
        - {name: page, in: query, required: false, schema: {type: integer, minimum: 1, default: 1, title: Page}}
        - {name: size, in: query, required: false, schema: {type: integer, maximum: 100, minimum: 1, default: 50, title: Size}}
      responses:
        "200": {description: Successful Response, content: {application/json: {schema: {$ref: "#/components/schemas/Page_AuthorOut_"}}}}
        "422": {description: Validation Error, content: {application/json: {schema: {$ref: "#/components/schemas/HTTPValidationError"}}}}
    post:
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/AuthorIn"}}}}
      responses: {"201": {description: Successful Response, content: {application/json: {schema: {$ref: "#/components/schemas/AuthorOut"}}}}}
  /authors/{author_id}:
    get:
      parameters: [{name: author_id, in: path, required: true, schema: {type: integer, title: Author Id}}]
      responses: {"200": {description: Successful Response, content: {application/json: {schema: {$ref: "#/components/schemas/AuthorOut"}}}}}
    put:
      parameters: [{name: author_id, in: path, required: true, schema: {type: integer}}]
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/AuthorIn"}}}}
      responses: {"200": {description: Successful Response, content: {application/json: {schema: {$ref: "#/components/schemas/AuthorOut"}}}}}
  /authors/{author_id}/books/:
    get:
      parameters:
        - {name: author_id, in: path, required: true, schema: {type: integer}}
        - {name: page, in: query, schema: {type: integer, minimum: 1, default: 1}}
        - {name: size, in: query, schema: {type: integer, maximum: 100, minimum: 1, default: 50}}
      responses: {"200": {description: Successful Response, content: {application/json: {schema: {$ref: "#/components/schemas/Page_BookOut_"}}}}}
    post:
      parameters: [{name: author_id, in: path, required: true, schema: {type: integer}}]
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/BookIn"}}}}
      responses: {"201": {description: Successful Response, content: {application/json: {schema: {$ref: "#/components/schemas/BookOut"}}}}}
  /authors/{author_id}/books/{book_id}:
    patch:
      parameters:
        - {name: author_id, in: path, required: true, schema: {type: integer}}
        - {name: book_id, in: path, required: true, schema: {type: integer}}
      requestBody: {required: true, content: {application/json: {schema: {$ref: "#/components/schemas/BookIn"}}}}
      responses: {"200": {description: Successful Response, content: {application/json: {schema: {$ref: "#/components/schemas/BookOut"}}}}}
components:
  schemas:
    AuthorIn: {type: object, required: [name], title: AuthorIn, properties: {name: {type: string, title: Name}}}
    AuthorOut:
      type: object
      required: [name, id, created_at]
      title: AuthorOut
      properties: {name: {type: string}, id: {type: integer}, created_at: {type: string, format: date-time}}
    BookIn: {type: object, required: [title], properties: {title: {type: string}}}
    BookOut:
      type: object
      properties: {title: {type: string}, id: {type: integer}, author_id: {type: integer}}
    Page_AuthorOut_:
      type: object
      required: [items, page, size]
      title: Page[AuthorOut]
      properties:
        items: {type: array, items: {$ref: "#/components/schemas/AuthorOut"}, title: Items}
        total: {anyOf: [{type: integer, minimum: 0}, {type: "null"}], title: Total}
        page: {anyOf: [{type: integer, minimum: 1}, {type: "null"}], title: Page}
        size: {anyOf: [{type: integer, minimum: 1}, {type: "null"}], title: Size}
        pages: {anyOf: [{type: integer, minimum: 0}, {type: "null"}], title: Pages}
    Page_BookOut_:
      type: object
      properties:
        items: {type: array, items: {$ref: "#/components/schemas/BookOut"}}
        total: {anyOf: [{type: integer}, {type: "null"}]}
        page: {anyOf: [{type: integer}, {type: "null"}]}
        size: {anyOf: [{type: integer}, {type: "null"}]}
        pages: {anyOf: [{type: integer}, {type: "null"}]}
    HTTPValidationError: {type: object, properties: {detail: {type: array, items: {type: object}}}}
"##;

#[test]
fn generate_profile_from_fastapi_pagination_guesses_size_and_pairs_nested_items() {
    let text = generated_and_accepted("fastapi.yaml", FASTAPI_PAGINATION);
    assert_contains_all(
        &text,
        &[
            "records: items\n",
            "# guessed: a `page` query parameter (from its name)\nnext: page:page\n",
            "# guessed: `size` carries --limit (from its name)\nsize: size\n",
            "create: post\n",
            "  authors:\n    path: authors/\n    item: authors/{id}\n    update: put\n    readonly: [id, created_at]\n",
            "  books:\n    path: authors/{author_id}/books/\n    item: authors/{author_id}/books/{id}\n",
            "      author_id: authors\n    update: patch\n    readonly: [id]\n",
        ],
    );
    assert_contains_none(&text, &["no item path", "record:"]);
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
    require_django();
    let server = DjangoServer::start(false);
    let url = format!("{}/api/no-schema-here/", server.base_url());
    let failed = run(&["--generate", "profile", &url]).expect_code(1);
    assert!(
        failed.stderr.contains(&url) && failed.stderr.contains("404"),
        "{}",
        failed.stderr
    );
}

/// A one-shot HTTP server on 127.0.0.1 answering `body` as JSON to every request; the
/// request heads it received, lower-cased, come back through the handle.
fn document_server(body: &'static str) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("a request");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            head.push(line.trim_end().to_ascii_lowercase());
        }
        let mut stream = stream;
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).expect("answer");
        head
    });
    (url, handle)
}

/// A private API serves its document only to its users: `--generate profile URL` sends the
/// command line's token and `-H` headers to SOURCE (SPEC section 8), and refuses options
/// that do not shape that request.
#[test]
fn generate_profile_fetches_with_the_command_lines_credentials_and_headers() {
    const DOCUMENT: &str = r#"{"openapi": "3.0.3", "info": {"title": "T", "version": "1"},
        "paths": {
          "/teams/": {"get": {"responses": {"200": {"content": {"application/json":
            {"schema": {"type": "array", "items": {"type": "object",
              "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}}}}}}},
            "post": {}},
          "/teams/{id}/": {"get": {}, "put": {}}}}"#;
    let (base, server) = document_server(DOCUMENT);
    let source = format!("{base}/openapi.json");
    let mut command = command(&[
        "--generate",
        "profile",
        &source,
        "-H",
        "X-Tenant: acme",
        "--timeout",
        "5",
    ]);
    command.env("RESOURCE_SYNC_TOKEN", "s3cret-token");
    let generated = run_command(command).ok();
    assert!(
        generated.stdout.contains("path: teams/"),
        "{}",
        generated.stdout
    );
    assert_never_printed(&generated, "s3cret-token");
    let head = server.join().expect("the server thread");
    assert!(head[0].starts_with("get /openapi.json "), "{head:?}");
    for expected in ["authorization: bearer s3cret-token", "x-tenant: acme"] {
        assert!(
            head.iter().any(|line| line == expected),
            "{expected} not in {head:?}"
        );
    }

    for refused in [
        &["--generate", "profile", "api.json", "-v"][..],
        &["--generate", "profile", "api.json", "--rm"],
        &["--generate", "man", "-H", "X-Tenant: acme"],
    ] {
        let failed = run(refused).expect_code(2);
        assert!(
            failed.stderr.contains("--generate cannot be combined with"),
            "{refused:?}: {}",
            failed.stderr
        );
    }
}
