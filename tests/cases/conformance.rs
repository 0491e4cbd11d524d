//! Endpoint conformance suite (STYLE.md, after rclone's fstests): each property of SPEC
//! sections 1, 4 and 5 is written once and checked against every endpoint kind able to take part.
//!
//! A kind says what it can do (`Capabilities`: read, write, `--rm`, ...), how to make a fresh
//! destination, how to seed itself by hand, and how to look at what it holds: through the tool
//! itself (`read_back`, so a round trip crosses the real endpoint code twice) and through the
//! test's own parsers (`raw`, so a bug shared by writer and reader still shows). A new endpoint
//! kind gets every property below by adding one entry to `KINDS`.
//!
//! Every property runs once per dialect (`DIALECTS`), for every kind: HAL; `--simple` (`id`,
//! `type`, `uri`, `parents`); an `--api` profile of plain JSON; and an `--api` profile of
//! JSON:API (SPEC section 8), the two profiles' files and pipes holding `{"type", "body"}`
//! documents and their directories bare members (for JSON:API the resource object). The HTTP
//! kind's in-process server (`tests/server/`, `Convention`) speaks each dialect's convention
//! at `/api/<type>/<id>`: HAL; simple resources; plain-JSON arrays paged by `Link` header;
//! JSON:API with `links.next` pages, POST answered 201 with `data.id`, PATCH and DELETE. It
//! stores bodies as sent and refuses orphans and parent deletes in each. `null` reads and keeps
//! nothing: it is the empty origin and the discarding destination of properties 11 and 12 (and
//! a destination in property 6), not a place that holds resources. Third-party servers
//! (json-server, Django, the DRF-like plain server) have their own files.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::server::{sample_dataset, Convention, RequestRecord, ServerConfig, TestServer};
use crate::util::*;

/// Where the sample data claims to live; never contacted (HTTP writes rebase onto the server).
const BASE: &str = "http://prod.example:9";

/// An HTTP origin that cannot be reached: nothing listens on port 1 of loopback.
const CLOSED_URL: &str = "http://127.0.0.1:1/api";

/// Methods that change an HTTP destination.
const WRITE_METHODS: [&str; 4] = ["PUT", "PATCH", "POST", "DELETE"];

/// Every endpoint kind of SPEC section 1 (in the ways it can be written or read).
const KINDS: &[&dyn EndpointKind] = &[
    &Directory {
        name: "directory",
        json: false,
    },
    &Directory {
        name: "directory (-j)",
        json: true,
    },
    &File {
        name: "yaml file",
        extension: "yaml",
        format: Format::YamlDocuments,
    },
    &File {
        name: "yml file",
        extension: "yml",
        format: Format::YamlDocuments,
    },
    &File {
        name: "json file",
        extension: "json",
        format: Format::JsonArray,
    },
    &File {
        name: "jsonl file",
        extension: "jsonl",
        format: Format::JsonLines,
    },
    &File {
        name: "ndjson file",
        extension: "ndjson",
        format: Format::JsonLines,
    },
    &Http,
    &Stdout {
        name: "stdout",
        json: false,
    },
    &Stdout {
        name: "stdout (-j)",
        json: true,
    },
    &Stdin {
        name: "stdin (yaml)",
        json: false,
    },
    &Stdin {
        name: "stdin (json lines)",
        json: true,
    },
    &Null,
];

/// The API convention the data of a property is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TestDialect {
    Hal,
    Simple,
    /// `--api` with a plain-JSON profile (`PROFILE`).
    Profile,
    /// `--api` with a JSON:API profile (`JSONAPI_PROFILE`).
    JsonApi,
}

/// Every dialect, in the order the properties run them.
const DIALECTS: [TestDialect; 4] = [
    TestDialect::Hal,
    TestDialect::Simple,
    TestDialect::Profile,
    TestDialect::JsonApi,
];

impl TestDialect {
    /// Whether files and pipes hold `{"type", "body"}` documents and directories bare members
    /// (SPEC section 8, "Files"): the profile dialects.
    fn documents(self) -> bool {
        matches!(self, TestDialect::Profile | TestDialect::JsonApi)
    }
}

/// The profile the `Profile` dialect runs with: the sample's types, parents by id field.
const PROFILE: &str = "\
types:
  team:
    path: /api/team
  player:
    path: /api/player
    parents: {teamId: team}
  stat:
    path: /api/stat
    parents: {playerId: player}
";

/// The profile the `JsonApi` dialect runs with: the sample's types, each parent a relationship
/// named after its type. JSON:API creates with POST (SPEC section 8): `send_id` keeps the
/// sample's ids, and `key: [id]` lets a destination that holds them be updated in place.
const JSONAPI_PROFILE: &str = "\
format: jsonapi
send_id: true
types:
  team:
    path: /api/team
    key: [id]
  player:
    path: /api/player
    parents: {team: team}
    key: [id]
  stat:
    path: /api/stat
    parents: {player: player}
    key: [id]
";

/// A profile file, written once per test process.
fn profile_file(
    cell: &'static std::sync::OnceLock<String>,
    name: &str,
    text: &str,
) -> &'static str {
    cell.get_or_init(|| {
        let path = std::env::temp_dir().join(format!(
            "resource-sync-conformance-{}-{name}.yaml",
            std::process::id()
        ));
        write_file(&path, text);
        path_str(&path).to_string()
    })
}

/// The flags the current dialect is run with.
fn dialect_flags() -> Vec<&'static str> {
    static PLAIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static JSONAPI: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    match dialect() {
        TestDialect::Hal => Vec::new(),
        TestDialect::Simple => vec!["--simple"],
        TestDialect::Profile => vec!["--api", profile_file(&PLAIN, "plain", PROFILE)],
        TestDialect::JsonApi => vec!["--api", profile_file(&JSONAPI, "jsonapi", JSONAPI_PROFILE)],
    }
}

thread_local! {
    /// The dialect of the property running on this thread (set by `for_each_kind`).
    static DIALECT: Cell<TestDialect> = const { Cell::new(TestDialect::Hal) };
}

fn dialect() -> TestDialect {
    DIALECT.with(Cell::get)
}

/// A HAL resource as the current dialect writes it: with `--simple`, `uri`, `type` and
/// `parents` fields in place of `_links`.
fn in_dialect(hal: Value) -> Value {
    match dialect() {
        TestDialect::Hal => hal,
        TestDialect::Simple => as_simple(hal),
        TestDialect::Profile => as_profile_document(hal),
        TestDialect::JsonApi => as_jsonapi_document(hal),
    }
}

/// `{"type", "body"}`: the member without links, each parent as an `<type>Id` field.
fn as_profile_document(hal: Value) -> Value {
    let simple = as_simple(hal);
    let kind = simple["type"].clone();
    let mut body = simple;
    let parents = body["parents"].as_array().cloned().unwrap_or_default();
    for parent in parents {
        let href = parent.as_str().unwrap_or_default();
        let mut segments = href.rsplit('/');
        let (id, parent_kind) = (segments.next(), segments.next());
        if let (Some(id), Some(parent_kind)) = (id, parent_kind) {
            let field = format!("{parent_kind}Id");
            if body.get(&field).is_none() {
                body[field] = json!(id.parse::<u64>().unwrap_or_default());
            }
        }
    }
    if let Some(object) = body.as_object_mut() {
        for field in ["uri", "type", "parents"] {
            object.remove(field);
        }
    }
    json!({ "type": kind, "body": body })
}

/// `{"type", "body"}` whose body is a JSON:API resource object: the id as a string, the other
/// fields as attributes, each parent as a relationship named after its type (in place of the
/// `<type>Id` field that held the same id).
fn as_jsonapi_document(hal: Value) -> Value {
    let simple = as_simple(hal);
    let kind = simple["type"].clone();
    let id = match &simple["id"] {
        Value::String(id) => id.clone(),
        other => other.to_string(),
    };
    let mut attributes = simple.as_object().cloned().unwrap_or_default();
    for field in ["id", "uri", "type", "parents"] {
        attributes.remove(field);
    }
    let mut relationships = Map::new();
    for parent in simple["parents"].as_array().into_iter().flatten() {
        let mut segments = parent.as_str().unwrap_or_default().rsplit('/');
        if let (Some(parent_id), Some(parent_kind)) = (segments.next(), segments.next()) {
            attributes.remove(&format!("{parent_kind}Id"));
            let identifier = json!({ "type": parent_kind, "id": parent_id });
            relationships.insert(parent_kind.to_string(), json!({ "data": identifier }));
        }
    }
    let mut object = json!({ "type": kind, "id": id, "attributes": attributes });
    if !relationships.is_empty() {
        object["relationships"] = Value::Object(relationships);
    }
    json!({ "type": kind, "body": object })
}

fn as_simple(hal: Value) -> Value {
    let mut body = hal;
    let links = body
        .as_object_mut()
        .and_then(|object| object.remove("_links"))
        .unwrap_or_default();
    let uri = links["self"]["href"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kind = uri.rsplit('/').nth(1).unwrap_or_default().to_string();
    let parents: Vec<Value> = links
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(rel, _)| rel.starts_with("parent:"))
        .map(|(_, link)| link["href"].clone())
        .collect();
    body["uri"] = json!(uri);
    body["type"] = json!(kind);
    if !parents.is_empty() {
        body["parents"] = Value::Array(parents);
    }
    body
}

/// `hal_resource` in the current dialect.
fn resource(kind: &str, id: u64, fields: Value, parents: &[(&str, u64)]) -> Value {
    in_dialect(hal_resource(BASE, kind, id, fields, parents))
}

// ---------------------------------------------------------------------------------------------
// Data

/// The sample dataset: 3 teams, 2 players each, one stat per player (15 resources, 3 generations).
fn sample() -> Vec<Value> {
    sample_dataset(BASE, 3, 2)
        .into_iter()
        .map(in_dialect)
        .collect()
}

/// What `--rm` is tested with: team 3 and its whole subtree gone, and one leaf (stat 1).
fn subset() -> Vec<Value> {
    let gone = removed_paths();
    sample()
        .into_iter()
        .filter(|resource| !gone.contains(&path_of(resource)))
        .collect()
}

/// Values a writer can get wrong (SPEC section 4): strings YAML 1.1 reads as another type,
/// non-ASCII, control characters, long and multi-line strings, floats, empty collections.
fn awkward() -> Vec<Value> {
    let long = "a long sentence that goes on ".repeat(8);
    // Several `json!` calls: one would pass the macro recursion limit.
    let parts = [
        json!({
            "yes": "yes", "no": "No", "on": "on", "off": "OFF", "y": "y", "null text": "null",
            "tilde": "~", "zip": "007", "exponent": "1e5",
            "date": "2024-01-01", "sexagesimal": "12:30", "true text": "true",
            "number text": "42", "float text": "1.5",
        }),
        json!({
            "empty": "", "space": " leading and trailing ", "colon": "a: b", "hash": "a #b",
            "dash": "- x", "quotes": "it's \"quoted\"", "backslash": "C:\\path",
            "tab": "a\tb", "multi": "line 1\nline 2\n", "trailing newlines": "x\n\n",
            "crlf": "a\r\nb", "long": long, "long word": "x".repeat(120),
        }),
        json!({
            "indicators": [
                "*star", "&amp", "!bang", "@at", "`tick", "%pct", "? q", "{b}", "[s]", "a, b",
                "|", ">", "'single'", "\"double\"", "#", "-", "---", "...",
            ],
        }),
        json!({
            "unicode": "Zoë — ☃ 日本", "astral": "😀", "bell": "\u{7}", "nbsp": "a\u{a0}b",
            "line separator": "a\u{2028}b", "bom": "\u{feff}x", "ключ": "значение",
            "1": "numeric key", "key with spaces": 1,
        }),
        json!({
            "float": 1.5, "whole float": 100.0, "tiny": 1e-7, "huge": 1e300, "negative": -3,
            "big": 9_007_199_254_740_993_u64, "bool": true, "null": null,
        }),
        json!({
            "list": [1, "two", [3], { "four": 4 }, null], "empty list": [], "empty map": {},
            "nested": { "a": { "b": { "c": [[]] } } },
        }),
    ];
    let fields: serde_json::Map<String, Value> = parts
        .into_iter()
        .flat_map(|part| part.as_object().cloned().unwrap_or_default())
        .collect();
    let fields = Value::Object(fields);
    let team = resource("team", 1, fields, &[]);
    let player = resource("player", 1, json!({ "name": "Ümit" }), &[("team", 1)]);
    vec![team, player]
}

fn removed_paths() -> BTreeSet<String> {
    [
        "/api/team/3",
        "/api/player/5",
        "/api/player/6",
        "/api/stat/5",
        "/api/stat/6",
        "/api/stat/1",
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}

fn href_of(resource: &Value) -> String {
    let href = match dialect() {
        TestDialect::Hal => &resource["_links"]["self"]["href"],
        TestDialect::Simple => &resource["uri"],
        TestDialect::Profile | TestDialect::JsonApi => return profile_uri(resource),
    };
    href.as_str()
        .unwrap_or_else(|| panic!("a resource without its uri ({:?}): {resource}", dialect()))
        .to_string()
}

/// A field of a resource's member (in a profile document, of its body; in JSON:API, an
/// attribute).
fn field_mut<'v>(resource: &'v mut Value, name: &str) -> &'v mut Value {
    match dialect() {
        TestDialect::Hal | TestDialect::Simple => &mut resource[name],
        TestDialect::Profile => &mut resource["body"][name],
        TestDialect::JsonApi => &mut resource["body"]["attributes"][name],
    }
}

/// What a place holding the resource keeps of it: a profile document's member, else the
/// resource itself.
fn member(resource: &Value) -> &Value {
    match dialect().documents() {
        true => &resource["body"],
        false => resource,
    }
}

/// A profile document's uri: its type's item path filled with its id.
fn profile_uri(document: &Value) -> String {
    let (Some(kind), Some(id)) = (document["type"].as_str(), document["body"].get("id")) else {
        panic!("a profile document without type or body.id: {document}");
    };
    let id = id.as_str().map_or_else(|| id.to_string(), str::to_string);
    format!("/api/{kind}/{id}")
}

/// `/api/<type>/<id>` of a resource (its href without the scheme, host and port).
fn path_of(resource: &Value) -> String {
    path_of_href(&href_of(resource))
}

fn path_of_href(href: &str) -> String {
    href.strip_prefix(BASE).unwrap_or(href).to_string()
}

/// Paths of the parents of a resource (`parent:*` links, or simple `parents`).
fn parent_paths(resource: &Value) -> Vec<String> {
    let hrefs: Vec<&Value> = match dialect() {
        TestDialect::Hal => resource["_links"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(rel, _)| rel.starts_with("parent:"))
            .map(|(_, link)| &link["href"])
            .collect(),
        TestDialect::Simple => resource["parents"]
            .as_array()
            .into_iter()
            .flatten()
            .collect(),
        TestDialect::Profile => {
            let body = &resource["body"];
            let parents = [("teamId", "team"), ("playerId", "player")];
            return parents
                .iter()
                .filter_map(|(field, kind)| Some(format!("/api/{kind}/{}", body.get(*field)?)))
                .collect();
        }
        TestDialect::JsonApi => {
            let relationships = resource["body"]["relationships"].as_object();
            return relationships
                .into_iter()
                .flatten()
                .filter_map(|(_, relationship)| {
                    let data = &relationship["data"];
                    Some(format!(
                        "/api/{}/{}",
                        data["type"].as_str()?,
                        data["id"].as_str()?
                    ))
                })
                .collect();
        }
    };
    hrefs
        .into_iter()
        .filter_map(Value::as_str)
        .map(path_of_href)
        .collect()
}

/// `<type>/<id>` of a resource: its file below a directory destination, without extension.
fn relative_file(resource: &Value) -> String {
    path_of(resource).trim_start_matches("/api/").to_string()
}

/// Resources by self href; a resource held twice is a failure of `kind`.
fn keyed(kind: &dyn EndpointKind, what: &str, resources: Vec<Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for resource in resources {
        let href = href_of(&resource).to_string();
        if out.insert(href.clone(), resource).is_some() {
            panic!("{}: {what}: {href} is held twice", kind.name());
        }
    }
    out
}

fn json_lines(kind: &dyn EndpointKind, what: &str, text: &str) -> Vec<Value> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|error| {
                panic!("{}: {what}: not JSON ({error}): {line}", kind.name())
            })
        })
        .collect()
}

/// Resources as YAML documents in flow style, written by the test: JSON, except that floats
/// take PyYAML's form (`1.0e-07`), since YAML 1.1 reads `1e-7` as a string.
fn yaml11_documents(resources: &[Value]) -> String {
    fn flow(value: &Value, out: &mut String) {
        match value {
            Value::Number(number) if number.is_f64() => {
                let float = number.as_f64().expect("an f64 number");
                let text = format!("{float:?}");
                match text.split_once('e') {
                    Some((mantissa, exponent)) => {
                        let mantissa = if mantissa.contains('.') {
                            mantissa.to_string()
                        } else {
                            format!("{mantissa}.0")
                        };
                        let sign = if exponent.starts_with('-') { "" } else { "+" };
                        out.push_str(&format!("{mantissa}e{sign}{exponent}"));
                    }
                    None => out.push_str(&text),
                }
            }
            Value::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    flow(item, out);
                }
                out.push(']');
            }
            Value::Object(fields) => {
                out.push('{');
                for (index, (key, item)) in fields.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push_str(": ");
                    flow(item, out);
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    for resource in resources {
        out.push_str("---\n");
        flow(resource, &mut out);
        out.push('\n');
    }
    out
}

/// Multi-document YAML parsed by yaml-rust2 (already a dependency), not by the tool's reader.
fn yaml_documents_of(kind: &dyn EndpointKind, what: &str, text: &str) -> Vec<Value> {
    let documents = yaml_rust2::YamlLoader::load_from_str(text)
        .unwrap_or_else(|error| panic!("{}: {what}: not YAML ({error}):\n{text}", kind.name()));
    documents.iter().map(yaml_to_json).collect()
}

/// The JSON value of a plain YAML tree (resources hold no aliases or tags).
fn yaml_to_json(yaml: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Boolean(flag) => Value::Bool(*flag),
        Yaml::Integer(number) => Value::from(*number),
        // yaml-rust2 resolves YAML 1.2; PyYAML's YAML 1.1 (what the tool writes and reads)
        // has no float without a `.` (`1e5` is a string), so that one rule is applied here.
        // Plain scalars the two read differently otherwise (`0o17`) are kept out of the data.
        Yaml::Real(text) if !text.contains('.') => Value::String(text.clone()),
        Yaml::Real(text) => text
            .parse::<f64>()
            .map_or_else(|_| Value::String(text.clone()), Value::from),
        Yaml::String(text) => Value::String(text.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let key = match key {
                        Yaml::String(text) | Yaml::Real(text) => text.clone(),
                        Yaml::Integer(number) => number.to_string(),
                        other => format!("{other:?}"),
                    };
                    (key, yaml_to_json(value))
                })
                .collect(),
        ),
        Yaml::Alias(_) | Yaml::BadValue => panic!("unexpected YAML node {yaml:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Endpoints and kinds

/// One endpoint argument and what it takes to use it.
struct Endpoint {
    arg: String,
    /// The file or folder behind a local endpoint.
    path: Option<PathBuf>,
    /// The server behind an HTTP endpoint (kept alive as long as the endpoint).
    server: Option<TestServer>,
    /// What a stdin origin is fed.
    stdin: Option<String>,
    /// Flags this endpoint needs when it is an origin / the destination.
    origin_flags: &'static [&'static str],
    destination_flags: &'static [&'static str],
    /// For stdout: what the last run printed (`Some` marks a stdout destination).
    printed: RefCell<Option<String>>,
}

impl Endpoint {
    fn new(arg: impl Into<String>) -> Endpoint {
        Endpoint {
            arg: arg.into(),
            path: None,
            server: None,
            stdin: None,
            origin_flags: &[],
            destination_flags: &[],
            printed: RefCell::new(None),
        }
    }

    fn local(path: PathBuf) -> Endpoint {
        Endpoint {
            path: Some(path.clone()),
            ..Endpoint::new(path_str(&path))
        }
    }

    fn path(&self) -> &Path {
        self.path.as_deref().expect("a local endpoint has a path")
    }

    fn server(&self) -> &TestServer {
        self.server.as_ref().expect("an HTTP endpoint has a server")
    }

    fn printed(&self) -> String {
        self.printed.borrow().clone().unwrap_or_default()
    }
}

/// Stdout as the destination of a read-back.
fn stdout_sink() -> Endpoint {
    let sink = Endpoint::new("-");
    *sink.printed.borrow_mut() = Some(String::new());
    sink
}

fn http_endpoint(server: TestServer) -> Endpoint {
    match dialect() {
        // `--follow-child` from `/api` reaches every collection the root links (HAL's
        // `child:<type>`, a simple root's `links`), so the destination is read whole (for
        // `--rm`, `--dry-run` and the read-back).
        TestDialect::Hal | TestDialect::Simple => Endpoint {
            origin_flags: &["--follow-child"],
            destination_flags: &["--follow-child"],
            ..Endpoint::new(server.url("/api"))
        },
        // A profile reads every type's collection from the API root (its paths start with
        // `/api/`) and refuses `--follow-*`.
        TestDialect::Profile | TestDialect::JsonApi => Endpoint::new(server.base_url()),
    }
    .serving(server)
}

impl Endpoint {
    fn serving(mut self, server: TestServer) -> Endpoint {
        self.server = Some(server);
        self
    }
}

/// The summary counts a second identical write reports (SPEC section 5).
struct Rewrite {
    created: usize,
    updated: usize,
    unchanged: usize,
}

/// What an endpoint kind can do; a property runs for the kinds it applies to.
#[derive(Clone, Copy, Default)]
struct Capabilities {
    /// Can be an origin holding resources (seeded by the test).
    read: bool,
    /// Can be the destination, and holds what is written to it.
    write: bool,
    /// Holds state between runs, so `--rm` and a second write mean something.
    rm: bool,
    /// Planned and written resource by resource against what it holds (directory, HTTP),
    /// rather than replaced whole (files).
    per_resource: bool,
    /// An existing destination is refused without `--rm` (SPEC section 4, files).
    refuses_existing: bool,
    /// Only one endpoint of this kind fits in one run (stdin, stdout).
    one_per_run: bool,
    /// Reads nothing and keeps nothing (`null`, SPEC section 1): an origin that holds no
    /// resource and a destination that counts every resource unchanged, so it takes part in
    /// the properties about those two roles, not in those about a place that holds resources.
    discards: bool,
}

/// What one endpoint kind can do and how a test looks at it.
trait EndpointKind: Sync {
    fn name(&self) -> &'static str;
    fn can(&self) -> Capabilities;
    /// Whether this kind takes part in properties written in `dialect` (every kind speaks
    /// every dialect today: the HTTP server speaks each convention, local kinds hold each).
    fn speaks(&self, _dialect: TestDialect) -> bool {
        true
    }
    /// A destination nothing has been written to, called `name`, inside `dir`.
    fn fresh(&self, dir: &Path, name: &str) -> Endpoint;
    /// An origin holding `resources`, in this kind's format, made by the test (not the tool).
    fn seeded(&self, dir: &Path, name: &str, resources: &[Value]) -> Endpoint;
    /// An origin that does not exist or cannot be reached, and the exit status SPEC gives it.
    fn missing(&self, _dir: &Path) -> Option<(Endpoint, i32)> {
        None
    }
    /// The target a `--dry-run` plan line names for `resource` (SPEC section 5).
    fn plan_target(&self, destination: &Endpoint, resource: &Value) -> String;
    /// The `--dry-run` line planning `op` (`create`, `update`, `delete`) for `resource`.
    fn plan_line(&self, op: &str, destination: &Endpoint, resource: &Value) -> String {
        format!("{op} {}", self.plan_target(destination, resource))
    }
    /// What the destination holds, parsed by the test itself, in stored order.
    fn raw(&self, destination: &Endpoint) -> Vec<Value>;
    /// Resource paths in the order they were written, where the kind keeps an order.
    fn written_order(&self, destination: &Endpoint) -> Option<Vec<String>> {
        Some(self.raw(destination).iter().map(path_of).collect())
    }
    /// Files below a directory destination holding `resources`.
    fn expected_files(&self, _resources: &[Value]) -> Option<Vec<String>> {
        None
    }
    /// Everything observable about the destination, metadata included (inode, mtime, the
    /// number of write requests), so any write at all shows as a difference.
    fn state(&self, destination: &Endpoint) -> String;
    /// The destination's content only (bytes, or stored bodies).
    fn content(&self, destination: &Endpoint) -> String {
        self.state(destination)
    }
    /// Nothing at all was written to the destination.
    fn holds_nothing(&self, destination: &Endpoint) -> bool;
    /// Summary counts of writing the same `n` resources a second time.
    fn rewrite_counts(&self, n: usize) -> Rewrite {
        Rewrite {
            created: n,
            updated: 0,
            unchanged: 0,
        }
    }
    /// Other spellings of the same endpoint (SPEC section 1: `d`, `d/`, `./d`, symlinks; URLs
    /// with another case of scheme or a trailing `/`), each naming the same place.
    fn aliases(&self, _endpoint: &Endpoint) -> Vec<String> {
        Vec::new()
    }
    /// Plants at the destination what `--rm` must leave alone (SPEC section 4: dot-entries and
    /// files the tool would not read; resources of types not being written), by name.
    fn plant_bystanders(&self, _destination: &Endpoint) -> Vec<String> {
        Vec::new()
    }
    /// Whether a planted bystander is still there, untouched.
    fn bystander_intact(&self, _destination: &Endpoint, _name: &str) -> bool {
        true
    }
}

/// `DEST/<type>/<id>.yaml`, or `.json` with `-j`.
struct Directory {
    name: &'static str,
    json: bool,
}

impl Directory {
    fn extension(&self) -> &'static str {
        if self.json {
            "json"
        } else {
            "yaml"
        }
    }
}

impl EndpointKind for Directory {
    fn name(&self) -> &'static str {
        self.name
    }
    fn can(&self) -> Capabilities {
        Capabilities {
            read: true,
            write: true,
            rm: true,
            per_resource: true,
            ..Capabilities::default()
        }
    }
    fn fresh(&self, dir: &Path, name: &str) -> Endpoint {
        let mut endpoint = Endpoint::local(dir.join(name));
        if self.json {
            endpoint.destination_flags = &["-j"];
        }
        endpoint
    }
    fn seeded(&self, dir: &Path, name: &str, resources: &[Value]) -> Endpoint {
        let endpoint = self.fresh(dir, name);
        for resource in resources {
            let file =
                endpoint
                    .path()
                    .join(format!("{}.{}", relative_file(resource), self.extension()));
            // A profile's directory holds bare members in type folders.
            let member = member(resource);
            let text = if self.json {
                format!("{member}\n")
            } else {
                yaml11_documents(std::slice::from_ref(member))
            };
            write_file(&file, &text);
        }
        endpoint
    }
    fn missing(&self, dir: &Path) -> Option<(Endpoint, i32)> {
        Some((Endpoint::local(dir.join("absent")), 2))
    }
    fn plan_target(&self, destination: &Endpoint, resource: &Value) -> String {
        format!(
            "{}/{}.{}",
            destination.arg,
            relative_file(resource),
            self.extension()
        )
    }
    fn raw(&self, destination: &Endpoint) -> Vec<Value> {
        let root = destination.path();
        if !root.exists() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for file in list_files(root) {
            let text = read(&root.join(&file));
            let what = format!("file {file}");
            let mut documents = if file.ends_with(".json") {
                json_lines(self, &what, &text)
            } else {
                yaml_documents_of(self, &what, &text)
            };
            assert_eq!(
                documents.len(),
                1,
                "{}: {what} holds one resource",
                self.name
            );
            if dialect().documents() {
                let kind = file.split('/').next().unwrap_or_default();
                documents = vec![json!({ "type": kind, "body": documents.remove(0) })];
            }
            out.append(&mut documents);
        }
        out
    }
    fn written_order(&self, _destination: &Endpoint) -> Option<Vec<String>> {
        None
    }
    fn expected_files(&self, resources: &[Value]) -> Option<Vec<String>> {
        Some(sorted_strings(
            &resources
                .iter()
                .map(|resource| format!("{}.{}", relative_file(resource), self.extension()))
                .collect::<Vec<_>>(),
        ))
    }
    fn state(&self, destination: &Endpoint) -> String {
        let root = destination.path();
        if root.exists() {
            format!("{:#?}", file_snapshot(root))
        } else {
            "absent".to_string()
        }
    }
    fn content(&self, destination: &Endpoint) -> String {
        let root = destination.path();
        if !root.exists() {
            return "absent".to_string();
        }
        let files: BTreeMap<String, String> = file_contents(root)
            .into_iter()
            .map(|(file, bytes)| (file, String::from_utf8_lossy(&bytes).into_owned()))
            .collect();
        format!("{files:#?}")
    }
    fn holds_nothing(&self, destination: &Endpoint) -> bool {
        nothing_written(destination.path())
    }
    fn rewrite_counts(&self, n: usize) -> Rewrite {
        Rewrite {
            created: 0,
            updated: 0,
            unchanged: n,
        }
    }
    fn aliases(&self, endpoint: &Endpoint) -> Vec<String> {
        let path = endpoint.path();
        let parent = path
            .parent()
            .expect("a destination inside a temporary folder");
        let name = path
            .file_name()
            .expect("a named destination")
            .to_string_lossy();
        let link = parent.join("link");
        std::os::unix::fs::symlink(path, &link).expect("a symlink to the destination");
        std::fs::create_dir_all(parent.join("sub")).expect("a sibling folder");
        vec![
            endpoint.arg.clone(),
            format!("{}/", endpoint.arg),
            format!("{}/./{name}", path_str(parent)),
            format!("{}/sub/../{name}", path_str(parent)),
            path_str(&link).to_string(),
        ]
    }
    fn plant_bystanders(&self, destination: &Endpoint) -> Vec<String> {
        let names = [
            ".git/HEAD",
            ".hidden.yaml",
            "team/.draft.yaml",
            "README.md",
            "notes/todo.txt",
        ];
        for name in names {
            write_file(&destination.path().join(name), name);
        }
        names.iter().map(|name| name.to_string()).collect()
    }
    fn bystander_intact(&self, destination: &Endpoint, name: &str) -> bool {
        std::fs::read_to_string(destination.path().join(name)).is_ok_and(|text| text == name)
    }
}

#[derive(Clone, Copy)]
enum Format {
    YamlDocuments,
    JsonArray,
    JsonLines,
}

/// One `.yaml`/`.yml`/`.json`/`.jsonl`/`.ndjson` file.
struct File {
    name: &'static str,
    extension: &'static str,
    format: Format,
}

impl EndpointKind for File {
    fn name(&self) -> &'static str {
        self.name
    }
    fn can(&self) -> Capabilities {
        Capabilities {
            read: true,
            write: true,
            rm: true,
            refuses_existing: true,
            ..Capabilities::default()
        }
    }
    fn fresh(&self, dir: &Path, name: &str) -> Endpoint {
        Endpoint::local(dir.join(format!("{name}.{}", self.extension)))
    }
    fn seeded(&self, dir: &Path, name: &str, resources: &[Value]) -> Endpoint {
        let endpoint = self.fresh(dir, name);
        let text = match self.format {
            Format::YamlDocuments => yaml11_documents(resources),
            Format::JsonArray => format!("{}\n", Value::Array(resources.to_vec())),
            Format::JsonLines => resources.iter().map(|r| format!("{r}\n")).collect(),
        };
        write_file(endpoint.path(), &text);
        endpoint
    }
    fn missing(&self, dir: &Path) -> Option<(Endpoint, i32)> {
        Some((self.fresh(dir, "absent"), 2))
    }
    fn plan_target(&self, _destination: &Endpoint, resource: &Value) -> String {
        href_of(resource).to_string()
    }
    fn raw(&self, destination: &Endpoint) -> Vec<Value> {
        let path = destination.path();
        if !path.exists() {
            return Vec::new();
        }
        let text = read(path);
        match self.format {
            Format::YamlDocuments => yaml_documents_of(self, "the file", &text),
            Format::JsonLines => json_lines(self, "the file", &text),
            Format::JsonArray => match serde_json::from_str(&text) {
                Ok(Value::Array(items)) => items,
                other => panic!("{}: the file is not one JSON array: {other:?}", self.name),
            },
        }
    }
    fn state(&self, destination: &Endpoint) -> String {
        let path = destination.path();
        match std::fs::metadata(path) {
            Ok(meta) => format!(
                "inode {}, mtime {}.{:09}\n{}",
                meta.ino(),
                meta.mtime(),
                meta.mtime_nsec(),
                read(path)
            ),
            Err(_) => "absent".to_string(),
        }
    }
    fn content(&self, destination: &Endpoint) -> String {
        let path = destination.path();
        if path.exists() {
            read(path)
        } else {
            "absent".to_string()
        }
    }
    fn holds_nothing(&self, destination: &Endpoint) -> bool {
        !destination.path().exists()
    }
    fn aliases(&self, endpoint: &Endpoint) -> Vec<String> {
        let path = endpoint.path();
        let parent = path.parent().expect("a file inside a temporary folder");
        let name = path.file_name().expect("a named file").to_string_lossy();
        let link = parent.join(format!("link.{}", self.extension));
        std::os::unix::fs::symlink(path, &link).expect("a symlink to the file");
        std::fs::create_dir_all(parent.join("sub")).expect("a sibling folder");
        vec![
            endpoint.arg.clone(),
            format!("{}/./{name}", path_str(parent)),
            format!("{}/sub/../{name}", path_str(parent)),
            path_str(&link).to_string(),
        ]
    }
}

/// An HTTP API: a fresh in-process test server per endpoint, speaking the dialect's convention
/// (HAL; `--simple`; plain JSON for the profile; JSON:API), its members at `/api/<type>/<id>`.
/// The server stores each body as sent and refuses orphans and parent deletes in every
/// convention, so an order or a body the tool gets wrong shows.
struct Http;

/// The convention the test server speaks in the current dialect.
fn convention() -> Convention {
    match dialect() {
        TestDialect::Hal => Convention::Hal,
        TestDialect::Simple => Convention::Simple,
        TestDialect::Profile => Convention::Plain,
        TestDialect::JsonApi => Convention::JsonApi,
    }
}

fn test_server() -> TestServer {
    let config = match convention() {
        Convention::Hal => ServerConfig::default(),
        // Two members a page, whatever the tool asks: every collection of the sample spans
        // pages (`Link` headers, JSON:API's `links.next`).
        other => ServerConfig {
            page_size: 2,
            max_page_size: 2,
            ..ServerConfig::speaking(other)
        },
    };
    TestServer::start(config)
}

/// The path one write request wrote, or why it did not count: a PUT or PATCH names its
/// member, a JSON:API POST its collection and the member's `data.id`; a refused write shows
/// its status.
fn written_path(request: &RequestRecord) -> String {
    let path = match request.method.as_str() {
        "POST" => match request
            .body
            .as_ref()
            .and_then(|body| body["data"]["id"].as_str())
        {
            Some(id) => format!("{}/{id}", request.path_and_query),
            None => format!("{} without data.id", request.path_and_query),
        },
        _ => request.path_and_query.clone(),
    };
    match request.status / 100 {
        2 => path,
        _ => format!("{path} refused {}", request.status),
    }
}

fn write_requests(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|request| WRITE_METHODS.contains(&request.method.as_str()))
        .map(|request| {
            format!(
                "{} {} -> {}",
                request.method, request.path_and_query, request.status
            )
        })
        .collect()
}

impl EndpointKind for Http {
    fn name(&self) -> &'static str {
        "http"
    }
    fn can(&self) -> Capabilities {
        Capabilities {
            read: true,
            write: true,
            rm: true,
            per_resource: true,
            ..Capabilities::default()
        }
    }
    fn fresh(&self, _dir: &Path, _name: &str) -> Endpoint {
        http_endpoint(test_server())
    }
    fn seeded(&self, _dir: &Path, _name: &str, resources: &[Value]) -> Endpoint {
        let server = test_server();
        for resource in resources {
            server.insert_at(&path_of(resource), member(resource).clone());
        }
        http_endpoint(server)
    }
    fn missing(&self, _dir: &Path) -> Option<(Endpoint, i32)> {
        let endpoint = match dialect() {
            TestDialect::Hal | TestDialect::Simple => Endpoint {
                origin_flags: &["--follow-child"],
                ..Endpoint::new(CLOSED_URL)
            },
            TestDialect::Profile | TestDialect::JsonApi => {
                Endpoint::new(CLOSED_URL.trim_end_matches("/api"))
            }
        };
        Some((endpoint, 1))
    }
    fn plan_target(&self, destination: &Endpoint, resource: &Value) -> String {
        destination.server().url(&path_of(resource))
    }
    /// JSON:API creates with POST (SPEC section 8), so a create targets the type's collection,
    /// and, as in any clone (SPEC section 6), a create or update names the origin uri it
    /// writes from.
    fn plan_line(&self, op: &str, destination: &Endpoint, resource: &Value) -> String {
        let target = self.plan_target(destination, resource);
        match (dialect(), op) {
            (TestDialect::JsonApi, "create") => {
                let collection = target
                    .rsplit_once('/')
                    .map_or("", |(collection, _)| collection);
                format!("create {collection} (from {})", path_of(resource))
            }
            (TestDialect::JsonApi, "update") => {
                format!("update {target} (from {})", path_of(resource))
            }
            _ => format!("{op} {target}"),
        }
    }
    /// The bodies the server stores, exactly as the tool sent them (in a profile dialect, as
    /// documents of the type their path names).
    fn raw(&self, destination: &Endpoint) -> Vec<Value> {
        let stored = destination.server().resources();
        if !dialect().documents() {
            return stored.into_values().collect();
        }
        stored
            .into_iter()
            .map(|(path, body)| {
                let kind = path.trim_start_matches("/api/").split('/').next();
                json!({ "type": kind, "body": body })
            })
            .collect()
    }
    /// Writes in arrival order; a refused one is listed with its status, so it cannot pass.
    fn written_order(&self, destination: &Endpoint) -> Option<Vec<String>> {
        let requests = destination.server().requests();
        Some(
            requests
                .iter()
                .filter(|request| ["PUT", "PATCH", "POST"].contains(&request.method.as_str()))
                .map(written_path)
                .collect(),
        )
    }
    fn state(&self, destination: &Endpoint) -> String {
        let server = destination.server();
        format!(
            "{:#?}\nwrite requests: {:#?}",
            server.resources(),
            write_requests(server)
        )
    }
    fn content(&self, destination: &Endpoint) -> String {
        format!("{:#?}", destination.server().resources())
    }
    fn holds_nothing(&self, destination: &Endpoint) -> bool {
        let server = destination.server();
        server.resources().is_empty() && write_requests(server).is_empty()
    }
    /// Every resource is found unchanged and none is sent again (SPEC section 5).
    fn rewrite_counts(&self, n: usize) -> Rewrite {
        Rewrite {
            created: 0,
            updated: 0,
            unchanged: n,
        }
    }
    fn aliases(&self, endpoint: &Endpoint) -> Vec<String> {
        let url = &endpoint.arg;
        vec![
            url.clone(),
            format!("{url}/"),
            url.replacen("http://", "HTTP://", 1),
        ]
    }
    /// A `venue`: a type no property writes (and, with a profile, one it does not name).
    fn plant_bystanders(&self, destination: &Endpoint) -> Vec<String> {
        let venue = venue();
        destination
            .server()
            .insert_at(&path_of(&venue), member(&venue).clone());
        vec![path_of(&venue)]
    }
    fn bystander_intact(&self, destination: &Endpoint, name: &str) -> bool {
        destination.server().get(name).as_ref() == Some(member(&venue()))
    }
}

/// The bystander an HTTP destination holds beside the sample.
fn venue() -> Value {
    resource("venue", 1, json!({ "name": "Arena" }), &[])
}

/// `-` as the destination: YAML documents, or JSON Lines with `-j`.
struct Stdout {
    name: &'static str,
    json: bool,
}

impl EndpointKind for Stdout {
    fn name(&self) -> &'static str {
        self.name
    }
    fn can(&self) -> Capabilities {
        Capabilities {
            write: true,
            one_per_run: true,
            ..Capabilities::default()
        }
    }
    fn fresh(&self, _dir: &Path, _name: &str) -> Endpoint {
        let mut endpoint = stdout_sink();
        if self.json {
            endpoint.destination_flags = &["-j"];
        }
        endpoint
    }
    fn seeded(&self, _dir: &Path, _name: &str, _resources: &[Value]) -> Endpoint {
        panic!("{}: stdout is never an origin", self.name)
    }
    fn plan_target(&self, _destination: &Endpoint, resource: &Value) -> String {
        href_of(resource).to_string()
    }
    fn raw(&self, destination: &Endpoint) -> Vec<Value> {
        let printed = destination.printed();
        if self.json {
            json_lines(self, "stdout", &printed)
        } else {
            yaml_documents_of(self, "stdout", &printed)
        }
    }
    fn state(&self, destination: &Endpoint) -> String {
        destination.printed()
    }
    fn holds_nothing(&self, destination: &Endpoint) -> bool {
        let printed = destination.printed();
        !["_links", "uri:", "\"uri\"", "body:", "\"body\""]
            .iter()
            .any(|mark| printed.contains(mark))
    }
}

/// `-` as an origin: YAML documents, or JSON Lines (read as JSON by its first character).
struct Stdin {
    name: &'static str,
    json: bool,
}

impl EndpointKind for Stdin {
    fn name(&self) -> &'static str {
        self.name
    }
    fn can(&self) -> Capabilities {
        Capabilities {
            read: true,
            one_per_run: true,
            ..Capabilities::default()
        }
    }
    fn fresh(&self, _dir: &Path, _name: &str) -> Endpoint {
        panic!("{}: stdin is never a destination", self.name)
    }
    fn seeded(&self, _dir: &Path, _name: &str, resources: &[Value]) -> Endpoint {
        let text = if self.json {
            resources.iter().map(|r| format!("{r}\n")).collect()
        } else {
            yaml11_documents(resources)
        };
        Endpoint {
            stdin: Some(text),
            ..Endpoint::new("-")
        }
    }
    fn plan_target(&self, _destination: &Endpoint, _resource: &Value) -> String {
        panic!("{}: stdin is never a destination", self.name)
    }
    fn raw(&self, destination: &Endpoint) -> Vec<Value> {
        let text = destination.stdin.clone().unwrap_or_default();
        if self.json {
            json_lines(self, "stdin", &text)
        } else {
            yaml_documents_of(self, "stdin", &text)
        }
    }
    fn state(&self, destination: &Endpoint) -> String {
        destination.stdin.clone().unwrap_or_default()
    }
    fn holds_nothing(&self, _destination: &Endpoint) -> bool {
        true
    }
}

/// `null` (or `/dev/null`, SPEC section 1): reads nothing; as a destination writes nothing and
/// counts every resource unchanged. It names no place (`null null` is no origin equal to its
/// destination, and nothing can be read back from it), so it takes part as an empty origin and
/// a discarding destination only (`discards`).
struct Null;

impl EndpointKind for Null {
    fn name(&self) -> &'static str {
        "null"
    }
    fn can(&self) -> Capabilities {
        Capabilities {
            discards: true,
            ..Capabilities::default()
        }
    }
    fn fresh(&self, _dir: &Path, _name: &str) -> Endpoint {
        Endpoint::new("null")
    }
    fn seeded(&self, _dir: &Path, _name: &str, resources: &[Value]) -> Endpoint {
        assert!(
            resources.is_empty(),
            "null cannot hold the {} resources asked of it",
            resources.len()
        );
        Endpoint::new("null")
    }
    fn plan_target(&self, _destination: &Endpoint, _resource: &Value) -> String {
        panic!("null plans nothing: every resource is unchanged there")
    }
    fn raw(&self, _destination: &Endpoint) -> Vec<Value> {
        Vec::new()
    }
    fn state(&self, destination: &Endpoint) -> String {
        destination.arg.clone()
    }
    fn holds_nothing(&self, _destination: &Endpoint) -> bool {
        true
    }
    fn aliases(&self, _endpoint: &Endpoint) -> Vec<String> {
        vec!["null".to_string(), "/dev/null".to_string()]
    }
}

// ---------------------------------------------------------------------------------------------
// Running the tool

/// One run: `extra` flags, the flags the endpoints need, the origins, the destination.
/// A stdin origin is fed its text; a stdout destination keeps what was printed.
fn sync(origins: &[&Endpoint], destination: &Endpoint, extra: &[&str]) -> Run {
    let mut args: Vec<&str> = dialect_flags();
    let flags = origins
        .iter()
        .flat_map(|origin| origin.origin_flags.iter())
        .chain(destination.destination_flags);
    for flag in extra.iter().chain(flags) {
        // Flags are given once: clap refuses a repeated switch.
        if !args.contains(flag) {
            args.push(flag);
        }
    }
    args.extend(origins.iter().map(|origin| origin.arg.as_str()));
    args.push(&destination.arg);
    let run = match origins.iter().find_map(|origin| origin.stdin.as_deref()) {
        Some(text) => run_with_stdin(&args, text),
        None => run(&args),
    };
    let mut printed = destination.printed.borrow_mut();
    if printed.is_some() {
        *printed = Some(run.stdout.clone());
    }
    run
}

fn expect_code(kind: &dyn EndpointKind, what: &str, run: Run, code: i32) -> Run {
    assert_eq!(
        run.code,
        code,
        "{}: {what}: exit status\nstdout:\n{}\nstderr:\n{}",
        kind.name(),
        run.stdout,
        run.stderr
    );
    run
}

/// What `endpoint` holds, as the tool itself reads it (JSON Lines on stdout).
fn read_back(kind: &dyn EndpointKind, endpoint: &Endpoint) -> Vec<Value> {
    let printed = endpoint.printed.borrow().clone();
    let run = match printed {
        // What went to stdout is read back through stdin.
        Some(printed) => {
            let flags = dialect_flags();
            run_with_stdin(&[&flags[..], &["-q", "-j", "-", "-"]].concat(), &printed)
        }
        None => sync(&[endpoint], &stdout_sink(), &["-q", "-j"]),
    };
    let run = expect_code(kind, "reading it back with the tool", run, 0);
    json_lines(kind, "the tool's read-back", &run.stdout)
}

/// The destination holds exactly `expected`, read back by the tool and by the test.
fn assert_holds(kind: &dyn EndpointKind, destination: &Endpoint, expected: &[Value], when: &str) {
    let expected = keyed(kind, "expected", expected.to_vec());
    let through_tool = keyed(kind, "read back by the tool", read_back(kind, destination));
    assert_same_resources(
        &through_tool,
        &expected,
        &format!("{}: {when}: what the tool reads back", kind.name()),
    );
    let raw = keyed(kind, "parsed by the test", kind.raw(destination));
    assert_same_resources(
        &raw,
        &expected,
        &format!(
            "{}: {when}: what the destination holds (parsed by the test)",
            kind.name()
        ),
    );
    let resources: Vec<Value> = expected.into_values().collect();
    if let Some(files) = kind.expected_files(&resources) {
        assert_eq!(
            list_files(destination.path()),
            files,
            "{}: {when}: files below the destination",
            kind.name()
        );
    }
}

/// `value` with every fraction or exponent as the nearest f64: serde_json keeps a number's
/// spelling (`1e-07` from Python's repr, `1e-7` from `json!`), the tool compares values.
fn by_value(value: &Value) -> Value {
    match value {
        Value::Number(number) if number.is_f64() => {
            number.as_f64().map_or(Value::Null, Value::from)
        }
        Value::Array(items) => Value::Array(items.iter().map(by_value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), by_value(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Fails listing only the resources that are missing, unexpected or different.
fn assert_same_resources(
    found: &BTreeMap<String, Value>,
    expected: &BTreeMap<String, Value>,
    context: &str,
) {
    let missing: Vec<&String> = expected
        .keys()
        .filter(|href| !found.contains_key(*href))
        .collect();
    let unexpected: Vec<&String> = found
        .keys()
        .filter(|href| !expected.contains_key(*href))
        .collect();
    let different: Vec<String> = expected
        .iter()
        .filter_map(|(href, want)| {
            let got = found
                .get(href)
                .filter(|got| by_value(got) != by_value(want))?;
            Some(format!("  {href}:\n{}", field_differences(want, got)))
        })
        .collect();
    assert!(
        missing.is_empty() && unexpected.is_empty() && different.is_empty(),
        "{context} differs from what was written\nmissing: {missing:?}\n\
         unexpected: {unexpected:?}\ndifferent:\n{}",
        different.join("\n")
    );
}

/// The top-level fields of two resources that differ, one line each.
fn field_differences(want: &Value, got: &Value) -> String {
    let (Some(want), Some(got)) = (want.as_object(), got.as_object()) else {
        return format!("    expected {want}\n    found    {got}");
    };
    let keys: BTreeSet<&String> = want.keys().chain(got.keys()).collect();
    keys.into_iter()
        .filter(|key| want.get(*key) != got.get(*key))
        .map(|key| {
            let show =
                |value: Option<&Value>| value.map_or("(absent)".to_string(), Value::to_string);
            format!(
                "    {key:?}: expected {}, found {}",
                show(want.get(key)),
                show(got.get(key))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The origin of most properties: a JSON Lines file of `resources`, listed children first
/// so the input order is no help to the writer.
fn jsonl_origin(dir: &Path, name: &str, resources: &[Value]) -> Endpoint {
    let mut reversed = resources.to_vec();
    reversed.reverse();
    let path = dir.join(format!("{name}.jsonl"));
    let text: String = reversed.iter().map(|r| format!("{r}\n")).collect();
    write_file(&path, &text);
    Endpoint::local(path)
}

/// Runs `check` for every kind `applies` selects, each under `catch_unwind`, so one failing
/// kind does not hide the others; then fails naming every kind that failed.
fn for_each_kind(
    property: &str,
    applies: fn(&dyn EndpointKind) -> bool,
    check: fn(&dyn EndpointKind),
) {
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for test_dialect in DIALECTS {
        DIALECT.with(|current| current.set(test_dialect));
        let kinds = KINDS
            .iter()
            .filter(|kind| applies(**kind) && kind.speaks(test_dialect));
        for &kind in kinds {
            let name = format!("{} ({test_dialect:?})", kind.name());
            checked.push(name.clone());
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(kind))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "(no message)".to_string());
                failures.push(format!("--- {name}:\n{message}"));
            }
        }
    }
    DIALECT.with(|current| current.set(TestDialect::Hal));
    assert!(!checked.is_empty(), "{property}: no endpoint kind applies");
    assert!(
        failures.is_empty(),
        "{property}: failed for {} of {} kinds ({}):\n{}",
        failures.len(),
        checked.len(),
        checked.join(", "),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Every readable kind, seeded by hand, reaches every writable kind intact (SPEC sections 1, 3, 4).
#[test]
fn every_readable_kind_reaches_every_writable_kind() {
    for_each_kind(
        "readable kind to every writable kind",
        |kind| kind.can().read,
        |origin_kind| {
            let data = sample();
            let writable = |kind: &&&dyn EndpointKind| kind.can().write && kind.speaks(dialect());
            for &destination_kind in KINDS.iter().filter(writable) {
                let dir = temp_dir();
                let origin = origin_kind.seeded(dir.path(), "origin", &data);
                let destination = destination_kind.fresh(dir.path(), "destination");
                let pair = format!("{} -> {}", origin_kind.name(), destination_kind.name());
                let run = expect_code(
                    destination_kind,
                    &pair,
                    sync(&[&origin], &destination, &[]),
                    0,
                );
                let counts = summary(&run.stderr);
                assert_eq!(
                    (counts.read, counts.created, counts.failed),
                    (data.len(), data.len(), 0),
                    "{pair}: read, created, failed\n{}",
                    run.stderr
                );
                assert_holds(destination_kind, &destination, &data, &pair);
            }
        },
    );
}

/// Property 1: Round trip: the sample written to a kind reads back as the same resource bodies.
#[test]
fn round_trip_keeps_every_resource_body() {
    for_each_kind(
        "round trip",
        |kind| kind.can().write,
        |kind| {
            let data = sample();
            let dir = temp_dir();
            let origin = jsonl_origin(dir.path(), "origin", &data);
            let destination = kind.fresh(dir.path(), "destination");
            let run = expect_code(kind, "writing", sync(&[&origin], &destination, &[]), 0);
            let counts = summary(&run.stderr);
            assert_eq!(
                (counts.read, counts.created, counts.failed, counts.skipped),
                (data.len(), data.len(), 0, 0),
                "{}: read, created, failed, skipped\n{}",
                kind.name(),
                run.stderr
            );
            assert_holds(kind, &destination, &data, "after one write");
        },
    );
}

/// Property 1b: Round trip of awkward values: what a writable kind is given, and what a readable
/// kind is seeded with, comes back value for value (SPEC sections 3 and 4).
#[test]
fn awkward_values_survive_every_kind() {
    for_each_kind(
        "awkward values",
        |kind| kind.can().read || kind.can().write,
        |kind| {
            let data = awkward();
            let dir = temp_dir();
            if kind.can().write {
                let origin = jsonl_origin(dir.path(), "origin", &data);
                let destination = kind.fresh(dir.path(), "destination");
                expect_code(kind, "writing", sync(&[&origin], &destination, &[]), 0);
                assert_holds(kind, &destination, &data, "written");
            }
            if kind.can().read {
                let seeded = kind.seeded(dir.path(), "seeded", &data);
                assert_holds(kind, &seeded, &data, "seeded by the test, read by the tool");
            }
        },
    );
}

/// Property 2: Parents before children (SPEC section 4): in the written order of a file or stdout,
/// in the order of the writes for HTTP (PUTs; JSON:API's POSTs), whose server refuses orphans.
#[test]
fn parents_are_written_before_children() {
    for_each_kind(
        "parents before children",
        |kind| kind.can().write,
        |kind| {
            let data = sample();
            let dir = temp_dir();
            let origin = jsonl_origin(dir.path(), "origin", &data);
            let destination = kind.fresh(dir.path(), "destination");
            expect_code(kind, "writing", sync(&[&origin], &destination, &[]), 0);
            let Some(order) = kind.written_order(&destination) else {
                return; // a directory keeps no order
            };
            let expected: BTreeSet<String> = data.iter().map(path_of).collect();
            assert_eq!(
                order.len(),
                data.len(),
                "{}: every resource written once, and accepted: {order:#?}",
                kind.name()
            );
            assert_eq!(
                order.iter().cloned().collect::<BTreeSet<_>>(),
                expected,
                "{}: the resources written",
                kind.name()
            );
            let position = |path: &str| order.iter().position(|p| p == path);
            for resource in &data {
                let own = path_of(resource);
                for parent in parent_paths(resource) {
                    assert!(
                        position(&parent) < position(&own),
                        "{}: {own} was written before its parent {parent}: {order:#?}",
                        kind.name()
                    );
                }
            }
        },
    );
}

/// Property 3: Idempotent (SPEC sections 4 and 5): writing the same set again leaves the
/// destination as the first write did; a directory rewrites no file; an existing file needs `--rm`.
#[test]
fn writing_the_same_set_twice_changes_nothing() {
    for_each_kind(
        "idempotent",
        |kind| kind.can().write,
        |kind| {
            let data = sample();
            let n = data.len();
            let dir = temp_dir();
            let origin = jsonl_origin(dir.path(), "origin", &data);
            let destination = kind.fresh(dir.path(), "destination");
            expect_code(kind, "first write", sync(&[&origin], &destination, &[]), 0);
            let state = kind.state(&destination);
            let content = kind.content(&destination);

            let extra: &[&str] = if kind.can().refuses_existing {
                let run = expect_code(
                    kind,
                    "second write without --rm over an existing file",
                    sync(&[&origin], &destination, &[]),
                    2,
                );
                assert_eq!(
                    kind.state(&destination),
                    state,
                    "{}: a refused write touched the file\n{}",
                    kind.name(),
                    run.stderr
                );
                &["--rm"]
            } else {
                &[]
            };
            let run = expect_code(
                kind,
                "second write",
                sync(&[&origin], &destination, extra),
                0,
            );
            let counts = summary(&run.stderr);
            let rewrite = kind.rewrite_counts(n);
            assert_eq!(
                (
                    counts.read,
                    counts.created,
                    counts.updated,
                    counts.unchanged,
                    counts.deleted,
                    counts.failed
                ),
                (n, rewrite.created, rewrite.updated, rewrite.unchanged, 0, 0),
                "{}: second write: read, created, updated, unchanged, deleted, failed\n{}",
                kind.name(),
                run.stderr
            );
            assert_eq!(
                kind.content(&destination),
                content,
                "{}: the second write changed the content",
                kind.name()
            );
            if kind.rewrite_counts(n).unchanged == n {
                assert_eq!(
                    kind.state(&destination),
                    state,
                    "{}: an unchanged resource was rewritten (inode or mtime changed)",
                    kind.name()
                );
            }
            assert_holds(kind, &destination, &data, "after the second write");
        },
    );
}

/// Property 4: `--dry-run` (SPEC section 5) writes nothing and plans one `create` per resource for
/// a fresh destination; against one that holds the same set it plans nothing.
#[test]
fn dry_run_plans_and_writes_nothing() {
    for_each_kind(
        "--dry-run",
        |kind| kind.can().write,
        |kind| {
            let data = sample();
            let dir = temp_dir();
            let origin = jsonl_origin(dir.path(), "origin", &data);
            let destination = kind.fresh(dir.path(), "destination");
            let run = expect_code(
                kind,
                "--dry-run into a fresh destination",
                sync(&[&origin], &destination, &["--dry-run"]),
                0,
            );
            let expected: Vec<String> = data
                .iter()
                .map(|resource| kind.plan_line("create", &destination, resource))
                .collect();
            assert_eq!(
                sorted_lines(&run.stdout),
                sorted_strings(&expected),
                "{}: the plan on stdout\nstderr:\n{}",
                kind.name(),
                run.stderr
            );
            assert!(
                kind.holds_nothing(&destination),
                "{}: --dry-run wrote: {}",
                kind.name(),
                kind.state(&destination)
            );
            let counts = summary(&run.stderr);
            assert_eq!(
                (counts.read, counts.created, counts.failed),
                (data.len(), data.len(), 0),
                "{}: dry-run summary\n{}",
                kind.name(),
                run.stderr
            );

            if !kind.can().per_resource {
                return;
            }
            expect_code(kind, "writing", sync(&[&origin], &destination, &[]), 0);
            let state = kind.state(&destination);
            let run = expect_code(
                kind,
                "--dry-run over the same set",
                sync(&[&origin], &destination, &["--dry-run"]),
                0,
            );
            assert_eq!(
                run.stdout,
                "",
                "{}: nothing would change, so nothing is planned\nstderr:\n{}",
                kind.name(),
                run.stderr
            );
            assert_eq!(
                kind.state(&destination),
                state,
                "{}: --dry-run over the same set wrote",
                kind.name()
            );

            let mut changed = data.clone();
            *field_mut(&mut changed[1], "name") = json!("Renamed");
            let changed_origin = jsonl_origin(dir.path(), "changed", &changed);
            let run = expect_code(
                kind,
                "--dry-run with one resource changed",
                sync(&[&changed_origin], &destination, &["--dry-run"]),
                0,
            );
            assert_eq!(
                run.stdout,
                format!("{}\n", kind.plan_line("update", &destination, &changed[1])),
                "{}: one resource differs, so one update is planned\nstderr:\n{}",
                kind.name(),
                run.stderr
            );
            assert_eq!(
                kind.state(&destination),
                state,
                "{}: --dry-run with a change wrote",
                kind.name()
            );
        },
    );
}

/// Property 5: `--rm` (SPEC section 4): after the full set, a subset with `--rm` leaves exactly the
/// subset (a directory deletes files, a file is replaced, HTTP DELETEs children first).
#[test]
fn rm_leaves_exactly_the_origin_set() {
    for_each_kind(
        "--rm",
        |kind| kind.can().rm,
        |kind| {
            let full = sample();
            let part = subset();
            let gone = removed_paths();
            let dir = temp_dir();
            let origin_full = jsonl_origin(dir.path(), "full", &full);
            let origin_part = jsonl_origin(dir.path(), "part", &part);
            let destination = kind.fresh(dir.path(), "destination");
            expect_code(
                kind,
                "writing the full set",
                sync(&[&origin_full], &destination, &[]),
                0,
            );

            if kind.can().per_resource {
                let state = kind.state(&destination);
                let run = expect_code(
                    kind,
                    "--rm --dry-run with the subset",
                    sync(&[&origin_part], &destination, &["--rm", "--dry-run"]),
                    0,
                );
                let expected: Vec<String> = full
                    .iter()
                    .filter(|resource| gone.contains(&path_of(resource)))
                    .map(|resource| kind.plan_line("delete", &destination, resource))
                    .collect();
                assert_eq!(
                    sorted_lines(&run.stdout),
                    sorted_strings(&expected),
                    "{}: the --rm plan\nstderr:\n{}",
                    kind.name(),
                    run.stderr
                );
                assert_eq!(
                    kind.state(&destination),
                    state,
                    "{}: --rm --dry-run wrote or deleted",
                    kind.name()
                );
            }

            let run = expect_code(
                kind,
                "--rm with the subset",
                sync(&[&origin_part], &destination, &["--rm"]),
                0,
            );
            assert_holds(kind, &destination, &part, "after --rm with the subset");
            if kind.can().per_resource {
                let counts = summary(&run.stderr);
                assert_eq!(
                    (counts.deleted, counts.failed, counts.skipped),
                    (gone.len(), 0, 0),
                    "{}: deleted, failed, skipped\n{}",
                    kind.name(),
                    run.stderr
                );
            }
            if let Some(server) = &destination.server {
                let deletes: Vec<String> = server
                    .requests()
                    .into_iter()
                    .filter(|request| request.method == "DELETE")
                    .map(|request| format!("{} -> {}", request.path_and_query, request.status))
                    .collect();
                let expected: Vec<String> =
                    gone.iter().map(|path| format!("{path} -> 204")).collect();
                assert_eq!(
                    sorted_strings(&deletes),
                    expected,
                    "{}: the DELETEs (refused ones would show their status)",
                    kind.name()
                );
            }
        },
    );
}

/// Property 6: Reading errors (SPEC sections 1 and 3): a missing local origin is a usage error (2),
/// an unreachable HTTP origin a remote failure (1); either way the destination gets nothing.
#[test]
fn a_missing_origin_writes_nothing() {
    for_each_kind(
        "missing origin",
        |kind| kind.can().read,
        |origin_kind| {
            let dir = temp_dir();
            let Some((origin, code)) = origin_kind.missing(dir.path()) else {
                return; // stdin is always there
            };
            // `null` too: an origin that cannot be read fails the run whatever keeps it.
            let writable = |kind: &&&dyn EndpointKind| {
                (kind.can().write || kind.can().discards) && kind.speaks(dialect())
            };
            for &destination_kind in KINDS.iter().filter(writable) {
                let destination = destination_kind.fresh(dir.path(), "destination");
                let pair = format!(
                    "{} (missing) -> {}",
                    origin_kind.name(),
                    destination_kind.name()
                );
                // One attempt: retrying a refused connection is not what is tested here.
                let run = sync(&[&origin], &destination, &["--max-attempts", "1"]);
                let run = expect_code(origin_kind, &pair, run, code);
                assert!(
                    run.stderr.contains(&origin.arg),
                    "{pair}: the error names the origin {}\n{}",
                    origin.arg,
                    run.stderr
                );
                assert!(
                    destination_kind.holds_nothing(&destination),
                    "{pair}: something was written: {}",
                    destination_kind.state(&destination)
                );
            }
        },
    );
}

/// Property 7: Layering (SPEC section 1): two origins of one kind hold the same uri with different
/// bodies; the later origin's body is written, whole, to a directory.
#[test]
fn the_later_origin_wins() {
    for_each_kind(
        "layering",
        |kind| kind.can().read && !kind.can().one_per_run,
        |kind| {
            let team = |fields: Value| resource("team", 1, fields, &[]);
            let base_team = team(json!({ "name": "Base", "founded": 1900 }));
            let override_team = team(json!({ "name": "Override", "coach": "Kim" }));
            let only_base = resource("team", 2, json!({ "name": "Only base" }), &[]);
            let only_override = resource("player", 1, json!({ "name": "Ana" }), &[("team", 1)]);
            let dir = temp_dir();
            let base = kind.seeded(dir.path(), "base", &[base_team.clone(), only_base.clone()]);
            let overrides = kind.seeded(
                dir.path(),
                "overrides",
                &[override_team.clone(), only_override.clone()],
            );
            let layouts = [
                ("base then overrides", [&base, &overrides], &override_team),
                ("overrides then base", [&overrides, &base], &base_team),
            ];
            let tree = Directory {
                name: "directory",
                json: false,
            };
            for (order, origins, winner) in layouts {
                let destination = tree.fresh(dir.path(), &format!("out {order}"));
                let run = expect_code(kind, order, sync(&origins, &destination, &[]), 0);
                let counts = summary(&run.stderr);
                assert_eq!(
                    counts.created,
                    3,
                    "{}: {order}: one resource per uri\n{}",
                    kind.name(),
                    run.stderr
                );
                let expected = [winner.clone(), only_base.clone(), only_override.clone()];
                let when = format!("layering two {} origins, {order}", kind.name());
                assert_holds(&tree, &destination, &expected, &when);
            }
        },
    );
}

/// Property 8: `--rm` removes only what is the tool's own (SPEC section 4): a directory keeps its
/// dot-entries and the files the tool would not read; HTTP keeps resources of types that are not
/// being written (or, with a profile, that it does not name).
#[test]
fn rm_leaves_bystanders_alone() {
    for_each_kind(
        "--rm bystanders",
        |kind| kind.can().rm && kind.can().per_resource,
        |kind| {
            let dir = temp_dir();
            let origin_full = jsonl_origin(dir.path(), "full", &sample());
            let origin_part = jsonl_origin(dir.path(), "part", &subset());
            let destination = kind.fresh(dir.path(), "destination");
            expect_code(
                kind,
                "writing the full set",
                sync(&[&origin_full], &destination, &[]),
                0,
            );
            let bystanders = kind.plant_bystanders(&destination);
            assert!(!bystanders.is_empty(), "{}: no bystanders", kind.name());
            let run = expect_code(
                kind,
                "--rm with the subset",
                sync(&[&origin_part], &destination, &["--rm"]),
                0,
            );
            for name in &bystanders {
                assert!(
                    kind.bystander_intact(&destination, name),
                    "{}: --rm removed or changed {name}\n{}",
                    kind.name(),
                    run.stderr
                );
            }
            let counts = summary(&run.stderr);
            assert_eq!(
                counts.deleted,
                removed_paths().len(),
                "{}: only the missing resources are deleted\n{}",
                kind.name(),
                run.stderr
            );
        },
    );
}

/// Property 9: An origin equal to the destination, however spelled, is a usage error (exit 2) and
/// nothing is written (SPEC section 1).
#[test]
fn origin_equal_to_destination_is_refused() {
    for_each_kind(
        "origin equal to destination",
        |kind| kind.can().read && kind.can().write,
        |kind| {
            let data = sample();
            let dir = temp_dir();
            let origin = kind.seeded(dir.path(), "same", &data);
            let aliases = kind.aliases(&origin);
            assert!(!aliases.is_empty(), "{}: no spellings to try", kind.name());
            let state = kind.state(&origin);
            for alias in aliases {
                let destination = Endpoint {
                    origin_flags: origin.origin_flags,
                    destination_flags: origin.destination_flags,
                    ..Endpoint::new(alias.as_str())
                };
                for extra in [&[][..], &["--rm"][..]] {
                    let what = format!("{} -> {alias} {extra:?}", origin.arg);
                    expect_code(kind, &what, sync(&[&origin], &destination, extra), 2);
                    assert_eq!(
                        kind.state(&origin),
                        state,
                        "{}: {what}: the endpoint changed",
                        kind.name()
                    );
                }
            }
        },
    );
}

/// Property 10: One answer (SPEC section 5): for a fresh destination, the same set again and a
/// set with one change, `--dry-run` reports the counts the real run then reports, `--exit-code`
/// gives both the same status, and `--verify` passes after the write.
#[test]
fn dry_run_and_real_run_agree_and_verify_passes() {
    for_each_kind(
        "one answer",
        |kind| kind.can().write,
        |kind| {
            let data = sample();
            let n = data.len();
            let dir = temp_dir();
            let destination = kind.fresh(dir.path(), "destination");
            let mut changed = data.clone();
            *field_mut(&mut changed[1], "name") = json!("Renamed");
            let again = if kind.can().per_resource { 0 } else { 3 };
            let steps = [
                ("fresh", &data, 3),
                ("same set", &data, again),
                ("one change", &changed, 3),
            ];
            for (step, (what, resources, code)) in steps.into_iter().enumerate() {
                let origin = jsonl_origin(dir.path(), &format!("origin{step}"), resources);
                let mut flags = vec!["--exit-code"];
                if kind.can().refuses_existing && step > 0 {
                    flags.push("--rm");
                }
                let planned = sync(
                    &[&origin],
                    &destination,
                    &[&flags[..], &["--dry-run"]].concat(),
                );
                let planned = expect_code(kind, &format!("{what}: --dry-run"), planned, code);
                // Stdout cannot be read back (a usage error); every other destination can.
                let verifiable = !kind.can().one_per_run;
                if verifiable {
                    flags.push("--verify");
                }
                let done = expect_code(
                    kind,
                    &format!("{what}: the real run"),
                    sync(&[&origin], &destination, &flags),
                    code,
                );
                let counts = |run: &Run| {
                    let s = summary(&run.stderr);
                    (
                        s.read,
                        s.created,
                        s.updated,
                        s.unchanged,
                        s.deleted,
                        s.failed,
                    )
                };
                assert_eq!(
                    counts(&done),
                    counts(&planned),
                    "{}: {what}: the real run's counts (left) against the plan's\n{}\n{}",
                    kind.name(),
                    planned.stderr,
                    done.stderr
                );
                if verifiable {
                    assert!(
                        done.stderr.contains(&format!("verified {n} of {n}")),
                        "{}: {what}: --verify\n{}",
                        kind.name(),
                        done.stderr
                    );
                }
            }
        },
    );
}

/// Property 11: A destination that keeps nothing (`null`, SPEC sections 1 and 5) still reads and
/// checks every origin: every readable kind's resources are read and counted unchanged, nothing
/// is printed or planned, `--exit-code` finds no change, `--rm` deletes nothing, the origin is
/// left as it was; `--verify` (nothing to read back) is a usage error, and so is an origin that
/// cannot be parsed.
#[test]
fn a_discarding_destination_reads_every_origin_and_keeps_nothing() {
    for_each_kind(
        "discarding destination",
        |kind| kind.can().discards,
        |sink_kind| {
            let data = sample();
            let n = data.len();
            let dir = temp_dir();
            let sink = sink_kind.fresh(dir.path(), "destination");
            let aliases = sink_kind.aliases(&sink);
            let readable = |kind: &&&dyn EndpointKind| kind.can().read && kind.speaks(dialect());
            for &origin_kind in KINDS.iter().filter(readable) {
                let origin = origin_kind.seeded(dir.path(), origin_kind.name(), &data);
                let state = origin_kind.state(&origin);
                let steps: [&[&str]; 3] = [&[], &["--dry-run"], &["--rm"]];
                for (step, extra) in steps.into_iter().enumerate() {
                    // Each spelling of the sink in turn.
                    let alias = &aliases[step % aliases.len()];
                    let sink = Endpoint::new(alias.as_str());
                    let what = format!("{} -> {alias} {extra:?}", origin_kind.name());
                    let flags = [&["--exit-code"][..], extra].concat();
                    let run = expect_code(sink_kind, &what, sync(&[&origin], &sink, &flags), 0);
                    assert_eq!(
                        run.stdout, "",
                        "{what}: nothing is printed or planned\nstderr:\n{}",
                        run.stderr
                    );
                    let counts = summary(&run.stderr);
                    assert_eq!(
                        (
                            counts.read,
                            counts.created,
                            counts.updated,
                            counts.unchanged,
                            counts.deleted,
                            counts.failed,
                            counts.skipped
                        ),
                        (n, 0, 0, n, 0, 0, 0),
                        "{what}: read, created, updated, unchanged, deleted, failed, skipped\n{}",
                        run.stderr
                    );
                    assert_eq!(
                        origin_kind.state(&origin),
                        state,
                        "{what}: the origin changed"
                    );
                }
                let what = format!("{} -> {} --verify", origin_kind.name(), sink.arg);
                let run = expect_code(sink_kind, &what, sync(&[&origin], &sink, &["--verify"]), 2);
                assert!(
                    run.stderr.contains("--verify"),
                    "{what}: the usage error names --verify\n{}",
                    run.stderr
                );
            }
            let broken = dir.path().join("broken.jsonl");
            write_file(&broken, "{\"type\": \n");
            let origin = Endpoint::local(broken.clone());
            let run = expect_code(
                sink_kind,
                "an origin that cannot be parsed",
                sync(&[&origin], &sink, &[]),
                2,
            );
            assert!(
                run.stderr.contains(path_str(&broken)),
                "{}: the error names the origin\n{}",
                sink_kind.name(),
                run.stderr
            );
        },
    );
}

/// Property 12: An origin that holds nothing (`null`, SPEC section 1) reads nothing: into every
/// writable kind, nothing is read, created, updated, deleted or failed, and the destination
/// holds no resource afterwards (a single file is written as the empty set).
#[test]
fn an_empty_origin_leaves_every_destination_without_resources() {
    for_each_kind(
        "empty origin",
        |kind| kind.can().discards,
        |origin_kind| {
            let writable = |kind: &&&dyn EndpointKind| kind.can().write && kind.speaks(dialect());
            for &destination_kind in KINDS.iter().filter(writable) {
                let dir = temp_dir();
                let origin = origin_kind.seeded(dir.path(), "origin", &[]);
                let destination = destination_kind.fresh(dir.path(), "destination");
                let pair = format!("{} -> {}", origin.arg, destination_kind.name());
                let run = expect_code(
                    destination_kind,
                    &pair,
                    sync(&[&origin], &destination, &[]),
                    0,
                );
                let counts = summary(&run.stderr);
                assert_eq!(
                    (
                        counts.read,
                        counts.created,
                        counts.updated,
                        counts.unchanged,
                        counts.deleted,
                        counts.failed,
                        counts.skipped
                    ),
                    (0, 0, 0, 0, 0, 0, 0),
                    "{pair}: read, created, updated, unchanged, deleted, failed, skipped\n{}",
                    run.stderr
                );
                let held = destination_kind.raw(&destination);
                assert!(
                    held.is_empty(),
                    "{pair}: the destination holds {held:?}\nstderr:\n{}",
                    run.stderr
                );
            }
        },
    );
}
