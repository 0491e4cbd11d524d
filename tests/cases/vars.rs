//! Values that differ between environments (SPEC section 11): an environment's `vars` turn
//! its values into `${NAME}` as resources are read from it and fill them in as they are
//! written to it. Each test runs the binary in a folder holding `resource-sync.yaml` and
//! checks what reached the servers, the files written, the exit status and every line
//! printed: no secret value, identity and links as read, nothing written after a refusal.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};

use crate::server::{Convention, Fault, ServerConfig, TestServer};
use crate::util::*;

const PROJECT_FILE: &str = "resource-sync.yaml";

const PROD_SITE: &str = "https://www.example.com";
const STAGING_SITE: &str = "https://staging.example.com";
const QA_SITE: &str = "https://qa.example.com";

/// The payment keys, one a SECRET of each environment: printed nowhere, written to no file
/// but the environment's own API.
const PROD_KEY: &str = "sk_live_PROD51xyzSECRET";
const STAGING_KEY: &str = "sk_test_STAGING42SECRET";
const QA_KEY: &str = "sk_test_QA77SECRET";
const SECRETS: [(&str, &str); 3] = [
    ("PROD_PAYMENTS_KEY", PROD_KEY),
    ("STAGING_PAYMENTS_KEY", STAGING_KEY),
    ("QA_PAYMENTS_KEY", QA_KEY),
];

/// The id of the team in every API, and the value of the var `HOME_TEAM` in prod: a var
/// whose value is also an id, which stays the id.
const TEAM_ID: &str = "north-stars";

/// A folder holding `resource-sync.yaml` (and the profile it names); the binary runs in it
/// with the payment keys in its environment.
struct Project(ProjectFolder);

impl Project {
    fn new(yaml: &str) -> Project {
        Project(ProjectFolder::new(yaml))
    }

    fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.0.join(relative)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        self.0.run(args, &SECRETS)
    }
}

fn all_output(run: &Run) -> String {
    format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr)
}

fn assert_code(run: &Run, code: i32, what: &str) {
    assert_eq!(run.code, code, "{what}\n{}", all_output(run));
    assert!(
        !run.stderr.contains("panicked"),
        "{what}\n{}",
        all_output(run)
    );
}

/// Exit 2 with an error that mentions each of `mentions`.
fn assert_usage_error(run: &Run, mentions: &[&str], what: &str) {
    assert_code(run, 2, what);
    for mention in mentions {
        assert!(
            run.stderr.contains(mention),
            "{what}: the error does not mention {mention:?}\n{}",
            all_output(run)
        );
    }
}

/// No secret value of any environment in a run's output.
fn assert_no_secret_printed(run: &Run) {
    for (_, secret) in SECRETS {
        assert_never_printed(run, secret);
    }
}

/// The requests that would change a server.
fn writes(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|request| ["PUT", "POST", "PATCH", "DELETE"].contains(&request.method.as_str()))
        .map(|request| format!("{} {}", request.method, request.path_and_query))
        .collect()
}

/// Every file below `root`, dot-files (the tree's origin record) included, with its bytes.
fn every_file(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root).expect("a readable folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            files.extend(every_file(&path));
        } else {
            let bytes = std::fs::read(&path).expect("a readable file");
            files.push((path, bytes));
        }
    }
    files
}

fn contains_bytes(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// No file below `root` holds a byte sequence of any secret value.
fn assert_no_secret_in(root: &Path) {
    let files = every_file(root);
    assert!(!files.is_empty(), "nothing below {}", root.display());
    for (path, bytes) in files {
        for (_, secret) in SECRETS {
            assert!(
                !contains_bytes(&bytes, secret),
                "{} holds a secret:\n{}",
                path.display(),
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}

fn read_yaml(path: &Path) -> Value {
    serde_yaml::from_str(&read(path))
        .unwrap_or_else(|error| panic!("{}: {error}\n{}", path.display(), read(path)))
}

/// Sets every file below `root` to a modification time long past, so a rewrite shows even
/// within the file system's clock resolution.
fn age_files(root: &Path) {
    let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    for (path, _) in every_file(root) {
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_modified(long_ago))
            .unwrap_or_else(|error| panic!("aging {}: {error}", path.display()));
    }
}

/// (path, modification time, bytes) of every file below `root`, dot-files included.
fn stamps(root: &Path) -> Vec<(PathBuf, SystemTime, Vec<u8>)> {
    let mut stamps: Vec<_> = every_file(root)
        .into_iter()
        .map(|(path, bytes)| {
            let modified = std::fs::metadata(&path)
                .and_then(|meta| meta.modified())
                .expect("a modification time");
            (path, modified, bytes)
        })
        .collect();
    stamps.sort();
    stamps
}

// ---------------------------------------------------------------------------------------------
// One team and one player in each API convention

/// The values one environment gives its vars, as they read in its own API.
struct Values<'a> {
    site: &'a str,
    api: &'a str,
    team: &'a str,
    key: &'a str,
}

/// The values as a tree holds them.
const PLACEHOLDERS: Values<'static> = Values {
    site: "${SITE}",
    api: "${API}",
    team: "${HOME_TEAM}",
    key: "${PAYMENTS_KEY}",
};

/// The team's own fields (not its identity) in an environment with `values`: the vars at
/// any depth and inside longer text; a key that equals a value stays a key.
fn team_fields(values: &Values) -> Value {
    json!({
        "name": "North Stars",
        "homepage": format!("{}/about", values.site),
        "webhook": format!("{}/hooks/{}", values.api, values.team),
        "motto": format!("{} forever", values.team),
        "billing": {
            "key": values.key,
            "return_urls": [format!("{}/paid", values.site), "https://elsewhere.example.org/"],
        },
        "sites": { PROD_SITE: "main" },
    })
}

fn player_fields(values: &Values) -> Value {
    json!({ "name": "Ana", "profile": format!("{}/players/7", values.site) })
}

/// The API conventions every flow runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Hal,
    /// Plain JSON through an `--api` profile (`api:` in the project file).
    Plain,
    /// JSON:API through an `--api` profile.
    JsonApi,
}

const DIALECTS: [Dialect; 3] = [Dialect::Hal, Dialect::Plain, Dialect::JsonApi];

const PLAIN_PROFILE: &str = "\
types:
  team:
    path: /api/team
  player:
    path: /api/player
    parents: {teamId: team}
";

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
";

impl Dialect {
    fn server(self) -> TestServer {
        TestServer::start(match self {
            Dialect::Hal => ServerConfig::default(),
            Dialect::Plain => ServerConfig::speaking(Convention::Plain),
            Dialect::JsonApi => ServerConfig::speaking(Convention::JsonApi),
        })
    }

    /// The profile the project file names, if any.
    fn profile(self) -> Option<&'static str> {
        match self {
            Dialect::Hal => None,
            Dialect::Plain => Some(PLAIN_PROFILE),
            Dialect::JsonApi => Some(JSONAPI_PROFILE),
        }
    }

    /// An environment's `url`: HAL's API root, a profile's paths are below the server's.
    fn url(self, server: &TestServer) -> String {
        match self {
            Dialect::Hal => server.url("/api"),
            Dialect::Plain | Dialect::JsonApi => server.base_url(),
        }
    }

    /// A member of `kind` with `id` as this API holds it: its identity (self and parent
    /// links on `server`, or parent id fields and relationships) and `fields`.
    fn member(self, server: &TestServer, kind: &str, id: &str, fields: Value) -> Value {
        let url = |kind: &str, id: &str| server.url(&format!("/api/{kind}/{id}"));
        let numeric_or_text = |id: &str| id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n));
        let parent = (kind == "player").then_some(("team", TEAM_ID));
        match self {
            Dialect::Hal => {
                let mut links = Map::new();
                links.insert("self".into(), json!({ "href": url(kind, id) }));
                if let Some((parent_kind, parent_id)) = parent {
                    let href = url(parent_kind, parent_id);
                    links.insert(format!("parent:{parent_kind}"), json!({ "href": href }));
                }
                let mut member = json!({ "id": numeric_or_text(id), "_links": links });
                merge(&mut member, fields);
                member
            }
            Dialect::Plain => {
                let mut member = json!({ "id": numeric_or_text(id) });
                if let Some((parent_kind, parent_id)) = parent {
                    member[format!("{parent_kind}Id")] = json!(parent_id);
                }
                merge(&mut member, fields);
                member
            }
            Dialect::JsonApi => {
                let mut member = json!({
                    "type": kind,
                    "id": id,
                    "attributes": fields,
                    "links": { "self": url(kind, id) },
                });
                if let Some((parent_kind, parent_id)) = parent {
                    member["relationships"] = json!({ parent_kind: {
                        "data": { "type": parent_kind, "id": parent_id },
                        "links": { "related": url(parent_kind, parent_id) },
                    }});
                }
                member
            }
        }
    }

    /// Puts the team and its player with `values` on `server`.
    fn seed(self, server: &TestServer, values: &Values) {
        let team = self.member(server, "team", TEAM_ID, team_fields(values));
        let player = self.member(server, "player", "7", player_fields(values));
        server.insert_at(&format!("/api/team/{TEAM_ID}"), team);
        server.insert_at("/api/player/7", player);
    }

    /// The fields of a member that are its identity and links.
    fn identity_keys(self, kind: &str) -> &'static [&'static str] {
        match (self, kind) {
            (Dialect::Hal, _) => &["id", "_links"],
            (Dialect::Plain, "player") => &["id", "teamId"],
            (Dialect::Plain, _) => &["id"],
            (Dialect::JsonApi, _) => &["type", "id", "links", "relationships"],
        }
    }

    /// A member's own fields: without its identity (JSON:API: its attributes).
    fn fields(self, member: &Value) -> Value {
        if self == Dialect::JsonApi {
            return member["attributes"].clone();
        }
        let mut fields = member.clone();
        if let Some(object) = fields.as_object_mut() {
            object.remove("id");
            object.remove("_links");
            object.remove("teamId");
        }
        fields
    }

    /// The identity of a member as the keys `identity_keys` name (absent ones as null).
    fn identity(self, kind: &str, member: &Value) -> Value {
        let keys = self.identity_keys(kind);
        Value::Object(
            keys.iter()
                .map(|key| (key.to_string(), member[*key].clone()))
                .collect(),
        )
    }

    /// `args` with what a read of this API needs first (HAL: follow the root's child links).
    fn args<'a>(self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = match self {
            Dialect::Hal => vec!["-c"],
            Dialect::Plain | Dialect::JsonApi => Vec::new(),
        };
        all.extend(args);
        all
    }

    /// The project file's first line naming the profile, written beside it.
    fn api_line(self, project: &Path) -> String {
        match self.profile() {
            Some(profile) => {
                write_file(&project.join("api.yaml"), profile);
                "api: api.yaml\n".to_string()
            }
            None => String::new(),
        }
    }
}

/// `extra`'s fields added to `object`.
fn merge(object: &mut Value, extra: Value) {
    if let (Some(object), Value::Object(extra)) = (object.as_object_mut(), extra) {
        object.extend(extra);
    }
}

/// The `vars:` block of an environment (its SECRET named by `key_variable`).
fn vars_block(site: &str, api: &str, team: &str, key_variable: &str) -> String {
    format!(
        "    vars:\n      SITE: {site}\n      API: {api}\n      HOME_TEAM: {team}\n      PAYMENTS_KEY: {{env: {key_variable}}}\n"
    )
}

/// Three environments of one dialect: prod (seeded), staging and qa (empty).
struct Environments {
    prod: TestServer,
    staging: TestServer,
    qa: TestServer,
    project: Project,
}

impl Environments {
    fn new(dialect: Dialect) -> Environments {
        let prod = dialect.server();
        let prod_values = Values {
            site: PROD_SITE,
            api: &prod.url("/api"),
            team: TEAM_ID,
            key: PROD_KEY,
        };
        dialect.seed(&prod, &prod_values);
        let (staging, qa) = (dialect.server(), dialect.server());
        let project = Project::new("");
        let api_line = dialect.api_line(project.path());
        let environment = |name: &str, server: &TestServer, site: &str, team: &str, key: &str| {
            format!(
                "  {name}:\n    url: {}\n{}",
                dialect.url(server),
                vars_block(site, &server.url("/api"), team, key)
            )
        };
        let text = format!(
            "{api_line}environments:\n{}{}{}",
            environment("prod", &prod, PROD_SITE, TEAM_ID, "PROD_PAYMENTS_KEY"),
            environment(
                "staging",
                &staging,
                STAGING_SITE,
                "north-stars-stg",
                "STAGING_PAYMENTS_KEY"
            ),
            environment("qa", &qa, QA_SITE, "north-stars-qa", "QA_PAYMENTS_KEY"),
        );
        write_file(&project.join(PROJECT_FILE), &text);
        Environments {
            prod,
            staging,
            qa,
            project,
        }
    }

    /// More environments, `text` indented as the others.
    fn add(&self, text: &str) {
        let file = self.project.join(PROJECT_FILE);
        write_file(&file, &format!("{}{text}", read(&file)));
    }
}

/// The team and player `server` holds.
fn stored(server: &TestServer) -> (Value, Value) {
    let team = server
        .get(&format!("/api/team/{TEAM_ID}"))
        .unwrap_or_else(|| {
            panic!(
                "no team at {}: {:#?}",
                server.base_url(),
                server.resources()
            )
        });
    let player = server.get("/api/player/7").unwrap_or_else(|| {
        panic!(
            "no player at {}: {:#?}",
            server.base_url(),
            server.resources()
        )
    });
    (team, player)
}

/// `server` holds the team and the player with `values`, under their own ids, the player
/// still naming the team (a HAL link as read from `origin`: links are sent as read).
fn assert_stored(
    dialect: Dialect,
    (server, origin): (&TestServer, &TestServer),
    values: &Values,
    what: &str,
) {
    let (team, player) = stored(server);
    assert_eq!(dialect.fields(&team), team_fields(values), "{what}: team");
    assert_eq!(
        dialect.fields(&player),
        player_fields(values),
        "{what}: player"
    );
    let parent = match dialect {
        Dialect::Hal => player["_links"]["parent:team"]["href"].clone(),
        Dialect::Plain => player["teamId"].clone(),
        Dialect::JsonApi => player["relationships"]["team"]["data"]["id"].clone(),
    };
    let team_id = match dialect {
        Dialect::Hal => json!(origin.url(&format!("/api/team/{TEAM_ID}"))),
        Dialect::Plain | Dialect::JsonApi => json!(TEAM_ID),
    };
    assert_eq!(parent, team_id, "{what}: the player's parent");
    assert_eq!(team["id"], json!(TEAM_ID), "{what}: the team's id");
}

// ---------------------------------------------------------------------------------------------
// a. prod -> tree -> staging, prod -> qa: placeholders in the tree, each API its own values

#[test]
fn vars_pull_push_and_copy_in_every_dialect() {
    for dialect in DIALECTS {
        pull_push_and_copy(dialect);
    }
}

fn pull_push_and_copy(dialect: Dialect) {
    let envs = Environments::new(dialect);
    let project = &envs.project;
    let data = project.join("data");
    let what = format!("{dialect:?}");

    // prod: data/
    let pull = project.run(&dialect.args(&["-v", "prod:", "data/"]));
    assert_code(&pull, 0, &format!("{what}: pull"));
    assert_no_secret_in(&data);
    let team_file = data.join(format!("team/{TEAM_ID}.yaml"));
    let player_file = data.join("player/7.yaml");
    let (team, player) = (read_yaml(&team_file), read_yaml(&player_file));
    assert_eq!(
        dialect.fields(&team),
        team_fields(&PLACEHOLDERS),
        "{what}: the tree's team\n{}",
        read(&team_file)
    );
    assert!(
        read(&team_file).contains("${SITE}/about"),
        "{what}: {}",
        read(&team_file)
    );
    assert_eq!(
        dialect.fields(&player),
        player_fields(&PLACEHOLDERS),
        "{what}: the tree's player"
    );
    // The identity is as prod holds it, though prod's API URL and the team's id are vars.
    let (prod_team, prod_player) = stored(&envs.prod);
    assert_eq!(
        dialect.identity("team", &team),
        dialect.identity("team", &prod_team),
        "{what}: the team's identity\n{}",
        read(&team_file)
    );
    assert_eq!(
        dialect.identity("player", &player),
        dialect.identity("player", &prod_player),
        "{what}: the player's identity and parent\n{}",
        read(&player_file)
    );

    // A second pull over an unchanged prod rewrites no file.
    age_files(&data);
    let before = stamps(&data);
    let again = project.run(&dialect.args(&["prod:", "data/"]));
    assert_code(&again, 0, &format!("{what}: second pull"));
    assert_eq!(
        summary(&again.stderr).unchanged,
        2,
        "{}",
        all_output(&again)
    );
    assert!(
        stamps(&data) == before,
        "{what}: the second pull rewrote a file"
    );

    // The tree equals the environment it was pulled from.
    envs.prod.clear_log();
    let check = project.run(&["--dry-run", "--exit-code", "data/", "prod:"]);
    assert_code(
        &check,
        0,
        &format!("{what}: data/ prod: --dry-run --exit-code"),
    );
    assert!(writes(&envs.prod).is_empty(), "{:?}", writes(&envs.prod));

    // data/ staging: sends staging's values.
    let push = project.run(&["data/", "staging:"]);
    assert_code(&push, 0, &format!("{what}: push"));
    let staging_api = envs.staging.url("/api");
    let staging_values = Values {
        site: STAGING_SITE,
        api: &staging_api,
        team: "north-stars-stg",
        key: STAGING_KEY,
    };
    assert_stored(
        dialect,
        (&envs.staging, &envs.prod),
        &staging_values,
        &format!("{what}: staging"),
    );

    // prod: qa: in one run, prod's values become qa's.
    let copy = project.run(&dialect.args(&["-v", "prod:", "qa:"]));
    assert_code(&copy, 0, &format!("{what}: copy"));
    let qa_api = envs.qa.url("/api");
    let qa_values = Values {
        site: QA_SITE,
        api: &qa_api,
        team: "north-stars-qa",
        key: QA_KEY,
    };
    assert_stored(
        dialect,
        (&envs.qa, &envs.prod),
        &qa_values,
        &format!("{what}: qa"),
    );

    for run in [&pull, &again, &check, &push, &copy] {
        assert_no_secret_printed(run);
    }
}

// ---------------------------------------------------------------------------------------------
// b. A name the destination does not define: exit 2 before any write

#[test]
fn an_undefined_name_stops_the_run_before_any_write_in_every_dialect() {
    for dialect in DIALECTS {
        undefined_name_writes_nothing(dialect);
    }
}

fn undefined_name_writes_nothing(dialect: Dialect) {
    let envs = Environments::new(dialect);
    let project = &envs.project;
    // `lacking` has no PAYMENTS_KEY; `fixtures` is a folder with values of its own.
    envs.add(&format!(
        "  lacking:\n    url: {}\n    vars:\n      SITE: {STAGING_SITE}\n      API: {}\n      HOME_TEAM: north-stars-stg\n  fixtures:\n    path: fixtures\n{}",
        dialect.url(&envs.qa),
        envs.qa.url("/api"),
        vars_block(
            "https://fixtures.example.com",
            "https://fixtures.example.com/api",
            "north-stars-fx",
            "STAGING_PAYMENTS_KEY"
        ),
    ));
    let what = format!("{dialect:?}");
    let mut runs = Vec::new();
    runs.push(project.run(&dialect.args(&["prod:", "data/"])));
    runs.push(project.run(&["data/", "fixtures:"]));
    for run in &runs {
        assert_code(run, 0, &format!("{what}: pull, then data/ fixtures:"));
    }
    let fixtures = project.join("fixtures");
    let fixture_team = read(&fixtures.join(format!("team/{TEAM_ID}.yaml")));
    assert!(
        fixture_team.contains("https://fixtures.example.com/about"),
        "{what}: a folder environment is written its own values:\n{fixture_team}"
    );
    age_files(&fixtures);
    let before = stamps(&fixtures);

    // The tree names ${NOPE}, which no environment defines, in one resource, and changes
    // the other, which would be written if it came first (it does in one of the two).
    let team_file = project.join(format!("data/team/{TEAM_ID}.yaml"));
    let player_file = project.join("data/player/7.yaml");
    let (team, player) = (read(&team_file), read(&player_file));
    let edited = |text: &str, from: &str, to: &str| {
        assert!(text.contains(from), "{what}: no {from:?} in\n{text}");
        text.replace(from, to)
    };
    let cases = [
        (
            edited(&team, "North Stars", "Renamed Stars"),
            edited(&player, "${SITE}/players/7", "${NOPE}/players/7"),
            "player/7",
        ),
        (
            edited(&team, "${SITE}/about", "${NOPE}/about"),
            edited(&player, "name: Ana\n", "name: Ana Maria\n"),
            &format!("team/{TEAM_ID}"),
        ),
    ];
    for (team, player, named) in &cases {
        write_file(&team_file, team);
        write_file(&player_file, player);
        for destination in ["staging:", "fixtures:"] {
            let run = project.run(&["data/", destination]);
            let name = destination.trim_end_matches(':');
            assert_usage_error(
                &run,
                &[named, "${NOPE}", name],
                &format!("{what}: data/ {destination} with ${{NOPE}} in {named}"),
            );
            runs.push(run);
        }
        assert!(
            writes(&envs.staging).is_empty(),
            "{what}: written after the refusal: {:?}",
            writes(&envs.staging)
        );
        assert!(
            stamps(&fixtures) == before,
            "{what}: a file of fixtures changed after the refusal ({named})"
        );
    }

    // prod: lacking: the team holds PAYMENTS_KEY, which `lacking` does not define.
    let copy = project.run(&dialect.args(&["prod:", "lacking:"]));
    assert_usage_error(
        &copy,
        &[&format!("team/{TEAM_ID}"), "${PAYMENTS_KEY}", "lacking"],
        &format!("{what}: prod: lacking:"),
    );
    assert!(
        writes(&envs.qa).is_empty(),
        "{what}: written after the refusal: {:?}",
        writes(&envs.qa)
    );
    runs.push(copy);
    for run in &runs {
        assert_no_secret_printed(run);
    }
}

// ---------------------------------------------------------------------------------------------
// c. Text rules: `${` in the data, the longest value, whole words

/// A HAL prod seeded with one team of `fields`, and an empty staging and qa, with these
/// `vars:` blocks (`BASE` in them: the environment's own server).
struct Hal {
    prod: TestServer,
    staging: TestServer,
    qa: TestServer,
    project: Project,
}

impl Hal {
    fn new(fields: Value, [prod, staging, qa]: [&str; 3]) -> Hal {
        let servers = [
            Dialect::Hal.server(),
            Dialect::Hal.server(),
            Dialect::Hal.server(),
        ];
        let team = Dialect::Hal.member(&servers[0], "team", TEAM_ID, fields);
        servers[0].insert(team);
        let mut text = "environments:\n".to_string();
        for ((name, vars), server) in ["prod", "staging", "qa"]
            .into_iter()
            .zip([prod, staging, qa])
            .zip(&servers)
        {
            text.push_str(&format!(
                "  {name}:\n    url: {}\n    vars:\n{}",
                server.url("/api"),
                vars.replace("BASE", &server.base_url())
            ));
        }
        let [prod, staging, qa] = servers;
        Hal {
            prod,
            staging,
            qa,
            project: Project::new(&text),
        }
    }

    fn tree_team(&self) -> Value {
        read_yaml(&self.project.join(format!("data/team/{TEAM_ID}.yaml")))
    }

    /// Pulls prod into data/, pushes data/ to staging, copies prod to qa; checks that the
    /// tree equals prod; returns the team as the tree, staging and qa hold it.
    fn round_trip(&self) -> [Value; 3] {
        let project = &self.project;
        assert_code(&project.run(&["-c", "prod:", "data/"]), 0, "pull");
        assert_code(
            &project.run(&["--dry-run", "--exit-code", "data/", "prod:"]),
            0,
            "data/ prod: --dry-run --exit-code",
        );
        assert!(writes(&self.prod).is_empty(), "{:?}", writes(&self.prod));
        assert_code(&project.run(&["data/", "staging:"]), 0, "push");
        assert_code(&project.run(&["-c", "prod:", "qa:"]), 0, "copy");
        let path = format!("/api/team/{TEAM_ID}");
        let stored = |server: &TestServer| {
            server
                .get(&path)
                .unwrap_or_else(|| panic!("no team: {:#?}", server.resources()))
        };
        [self.tree_team(), stored(&self.staging), stored(&self.qa)]
    }
}

/// `fields` of `team`, each as `team` holds it.
fn fields_of(team: &Value, fields: &[&str]) -> Vec<(String, Value)> {
    fields
        .iter()
        .map(|field| (field.to_string(), team[*field].clone()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, Value)> {
    expected
        .iter()
        .map(|(field, value)| (field.to_string(), json!(value)))
        .collect()
}

#[test]
fn a_literal_dollar_brace_survives_a_pull_and_a_push() {
    let site_vars = |site: &str| format!("      SITE: {site}\n");
    let envs = Hal::new(
        json!({
            "greeting": format!("Hello ${{user}}, see {PROD_SITE}/help"),
            "shell": "echo $${HOME} ${PATH}",
            "dollar": format!("${PROD_SITE}/pay"),
        }),
        [
            &site_vars(PROD_SITE),
            &site_vars(STAGING_SITE),
            &site_vars(QA_SITE),
        ],
    );
    let [tree, staging, qa] = envs.round_trip();
    let fields = ["greeting", "shell", "dollar"];
    assert_eq!(
        fields_of(&tree, &fields),
        pairs(&[
            ("greeting", "Hello $${user}, see ${SITE}/help"),
            ("shell", "echo $$${HOME} $${PATH}"),
            // A value right after a `$` kept as text stays as it is, so that reading then
            // writing gives back what was read.
            ("dollar", &format!("${PROD_SITE}/pay")),
        ]),
        "the tree"
    );
    for (team, site, what) in [(staging, STAGING_SITE, "staging"), (qa, QA_SITE, "qa")] {
        assert_eq!(
            fields_of(&team, &fields),
            pairs(&[
                ("greeting", &format!("Hello ${{user}}, see {site}/help")),
                ("shell", "echo $${HOME} ${PATH}"),
                ("dollar", &format!("${PROD_SITE}/pay")),
            ]),
            "{what}"
        );
    }
}

#[test]
fn the_longest_value_is_taken_and_no_value_cuts_a_word() {
    let vars = |site: &str, api: &str, shop: &str| {
        format!("      SITE: {site}\n      API: {api}\n      SHOP: {shop}\n")
    };
    let envs = Hal::new(
        json!({
            "api": "https://x.example.com/api/v1",
            "apis": "https://x.example.com/apis",
            "shop": "https://x.example.com/shop/cart",
            "shopping": "https://x.example.com/shopping",
            "sentence": "see https://x.example.com.",
            "glued": "xhttps://x.example.com/about",
        }),
        [
            &vars(
                "https://x.example.com",
                "https://x.example.com/api",
                "https://x.example.com/shop",
            ),
            &vars(
                "https://x.staging.example.com",
                "https://api.staging.example.com",
                "https://shop.staging.example.com",
            ),
            &vars(
                "https://x.qa.example.com",
                "https://api.qa.example.com",
                "https://shop.qa.example.com",
            ),
        ],
    );
    let [tree, staging, qa] = envs.round_trip();
    let fields = ["api", "apis", "shop", "shopping", "sentence", "glued"];
    assert_eq!(
        fields_of(&tree, &fields),
        pairs(&[
            ("api", "${API}/v1"),
            ("apis", "${SITE}/apis"),
            ("shop", "${SHOP}/cart"),
            ("shopping", "${SITE}/shopping"),
            ("sentence", "see ${SITE}."),
            ("glued", "xhttps://x.example.com/about"),
        ]),
        "the tree"
    );
    for (team, env, what) in [(staging, "staging", "staging"), (qa, "qa", "qa")] {
        assert_eq!(
            fields_of(&team, &fields),
            pairs(&[
                ("api", &format!("https://api.{env}.example.com/v1")),
                ("apis", &format!("https://x.{env}.example.com/apis")),
                ("shop", &format!("https://shop.{env}.example.com/cart")),
                ("shopping", &format!("https://x.{env}.example.com/shopping")),
                ("sentence", &format!("see https://x.{env}.example.com.")),
                ("glued", "xhttps://x.example.com/about"),
            ]),
            "{what}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// d. Secret values are printed as ${NAME}

/// A HAL prod (the team with prod's values) and staging (the team with staging's values
/// and an older name) with `staging_config`.
fn secret_environments(staging_config: ServerConfig) -> (TestServer, TestServer, Project) {
    let prod = Dialect::Hal.server();
    let prod_api = prod.url("/api");
    let prod_values = Values {
        site: PROD_SITE,
        api: &prod_api,
        team: TEAM_ID,
        key: PROD_KEY,
    };
    Dialect::Hal.seed(&prod, &prod_values);
    let staging = TestServer::start(staging_config);
    let staging_api = staging.url("/api");
    let mut team = team_fields(&Values {
        site: STAGING_SITE,
        api: &staging_api,
        team: "north-stars-stg",
        key: STAGING_KEY,
    });
    team["name"] = json!("Old Stars");
    let team = Dialect::Hal.member(&staging, "team", TEAM_ID, team);
    staging.insert(team);
    let project = Project::new(&format!(
        "environments:\n  prod:\n    url: {}\n{}  staging:\n    url: {}\n{}",
        prod_api,
        vars_block(PROD_SITE, &prod_api, TEAM_ID, "PROD_PAYMENTS_KEY"),
        staging_api,
        vars_block(
            STAGING_SITE,
            &staging_api,
            "north-stars-stg",
            "STAGING_PAYMENTS_KEY"
        ),
    ));
    (prod, staging, project)
}

/// `${PAYMENTS_KEY}` where the secret would be, and no secret value.
fn assert_shown_as_placeholder(run: &Run, what: &str) {
    assert_no_secret_printed(run);
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("${PAYMENTS_KEY}"),
        "{what}: ${{PAYMENTS_KEY}} is not shown\n{}",
        all_output(run)
    );
}

#[test]
fn a_diff_shows_secret_values_as_their_placeholder() {
    let (_prod, staging, project) = secret_environments(ServerConfig::default());
    let diff = project.run(&["-c", "--dry-run", "--diff", "prod:", "staging:"]);
    assert_code(&diff, 0, "--dry-run --diff");
    assert!(
        diff.stdout.contains(r#""name": "Old Stars""#)
            && diff.stdout.contains(r#""name": "North Stars""#),
        "no diff of the team\n{}",
        all_output(&diff)
    );
    assert_shown_as_placeholder(&diff, "--diff");
    assert!(writes(&staging).is_empty(), "{:?}", writes(&staging));
}

#[test]
fn a_secret_the_destination_echoes_is_printed_as_its_placeholder() {
    let team_path = format!("/api/team/{TEAM_ID}");
    for flags in [&["-v"][..], &["--output", "json"][..]] {
        let (_prod, staging, project) = secret_environments(ServerConfig::default());
        // The write of the team is refused with a message quoting the body it was sent.
        staging.inject_path(&team_path, 1, Fault::Echo(422));
        let mut args = vec!["-c"];
        args.extend(flags);
        args.extend(["prod:", "staging:"]);
        let run = project.run(&args);
        let what = format!("{flags:?}");
        assert_code(&run, 1, &what);
        let refused: Vec<_> = staging
            .requests()
            .into_iter()
            .filter(|request| request.status == 422)
            .collect();
        assert_eq!(
            refused.len(),
            1,
            "{what}: {refused:?}\n{}",
            all_output(&run)
        );
        let sent = refused[0].body.as_ref().expect("the refused write's body");
        assert_eq!(
            sent["billing"]["key"], STAGING_KEY,
            "{what}: staging's own key was sent"
        );
        assert_shown_as_placeholder(&run, &what);
        let shown = match flags[0] {
            "-v" => &run.stderr,
            _ => &run.stdout,
        };
        assert!(
            shown.contains("422") && shown.contains("rejected"),
            "{what}: the server's message is not shown\n{}",
            all_output(&run)
        );
    }
}

#[test]
fn verify_mismatch_lines_print_no_secret() {
    // Staging stores billing with a field the run did not send: verification fails on it.
    let altered = ServerConfig {
        alter_on_put: Some((
            "billing".to_string(),
            json!({ "key": STAGING_KEY, "rotated": true }),
        )),
        ..ServerConfig::default()
    };
    let (_prod, staging, project) = secret_environments(altered);
    let run = project.run(&["-c", "--verify", "prod:", "staging:"]);
    assert_code(&run, 1, "--verify");
    assert!(
        run.stderr.contains("mismatch"),
        "no mismatch line\n{}",
        all_output(&run)
    );
    assert_eq!(
        writes(&staging),
        [
            format!("PUT /api/team/{TEAM_ID}"),
            "PUT /api/player/7".into()
        ]
    );
    assert_no_secret_printed(&run);
}

// ---------------------------------------------------------------------------------------------
// e. Usage errors: names, short values, one value under two names

#[test]
fn bad_vars_are_usage_errors_naming_the_file_and_the_environment() {
    let server = Dialect::Hal.server();
    let cases: [(&str, &[&str]); 5] = [
        ("      site: https://www.example.com\n", &["site"]),
        ("      SITE: abc\n", &["SITE", "4"]),
        (
            "      SITE: https://www.example.com\n      HOME: https://www.example.com\n",
            &["SITE", "HOME"],
        ),
        (
            "      A_KEY: {env: PROD_PAYMENTS_KEY}\n      B_KEY: {env: PROD_PAYMENTS_KEY}\n",
            &["A_KEY", "B_KEY"],
        ),
        (
            "      KEY: {env: RS_TEST_NEVER_SET_26}\n",
            &["KEY", "RS_TEST_NEVER_SET_26"],
        ),
    ];
    for (vars, mentions) in cases {
        let project = Project::new(&format!(
            "environments:\n  prod:\n    url: {}\n    vars:\n{vars}",
            server.url("/api")
        ));
        let run = project.run(&["-c", "prod:", "out/"]);
        let mut all = vec![PROJECT_FILE, "prod"];
        all.extend(mentions);
        assert_usage_error(&run, &all, vars);
        assert_no_secret_printed(&run);
        assert_nothing_written(&project.join("out"));
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}

// ---------------------------------------------------------------------------------------------
// f. Endpoints that are not environments keep `${…}` as text

#[test]
fn other_endpoints_keep_placeholders_as_text() {
    let envs = Environments::new(Dialect::Hal);
    let project = &envs.project;
    let (staging_url, qa_url) = (envs.staging.url("/api"), envs.qa.url("/api"));
    let team_path = format!("/api/team/{TEAM_ID}");

    // prod: to stdout and to a plain URL: prod's values become placeholders, which stay.
    let stdout = project.run(&["-c", "prod:", "-"]);
    assert_code(&stdout, 0, "prod: -");
    assert!(
        stdout.stdout.contains("${SITE}/about") && stdout.stdout.contains("${PAYMENTS_KEY}"),
        "{}",
        all_output(&stdout)
    );
    assert_no_secret_printed(&stdout);
    let to_url = project.run(&["-c", "prod:", &staging_url]);
    assert_code(&to_url, 0, "prod: <staging URL>");
    let team = envs.staging.get(&team_path).expect("the team at staging");
    assert_eq!(
        Dialect::Hal.fields(&team),
        team_fields(&PLACEHOLDERS),
        "a plain URL is sent the placeholders as text"
    );

    // A tree to a plain URL, the project file read: `${SITE}` is sent as text, `$${` too.
    assert_code(&project.run(&["-c", "prod:", "data/"]), 0, "pull");
    let team_file = project.join(format!("data/team/{TEAM_ID}.yaml"));
    write_file(
        &team_file,
        &read(&team_file).replace("North Stars", "North $${x} Stars"),
    );
    let push = project.run(&["--config", PROJECT_FILE, "data/", &qa_url]);
    assert_code(&push, 0, "data/ <qa URL>");
    let team = envs.qa.get(&team_path).expect("the team at qa");
    assert_eq!(team["homepage"], "${SITE}/about");
    assert_eq!(team["billing"]["key"], "${PAYMENTS_KEY}");
    assert_eq!(team["name"], "North $${x} Stars");

    // And read from a plain URL into a folder: `${` is not escaped.
    let pull = project.run(&["--config", PROJECT_FILE, "-c", &qa_url, "copy/"]);
    assert_code(&pull, 0, "<qa URL> copy/");
    let copied = read_yaml(&project.join(format!("copy/team/{TEAM_ID}.yaml")));
    assert_eq!(copied["homepage"], "${SITE}/about");
    assert_eq!(copied["name"], "North $${x} Stars");
}

#[test]
fn a_secret_inside_a_resource_url_is_not_printed_in_plan_lines() {
    let (prod, staging, project) = secret_environments(ServerConfig::default());
    // A webhook registered under the payment key, as some providers name them.
    let hook = prod.url(&format!("/api/hook/{PROD_KEY}"));
    prod.insert(json!({ "id": PROD_KEY, "_links": { "self": { "href": hook } } }));
    for flags in [
        &["--dry-run"][..],
        &["--dry-run", "--output", "json"][..],
        &["--dry-run", "-v"][..],
    ] {
        let mut args = vec!["-c"];
        args.extend(flags);
        args.extend(["prod:", "staging:"]);
        let run = project.run(&args);
        assert_code(&run, 0, &format!("{flags:?}"));
        assert!(run.stdout.contains("/api/hook/"), "{}", all_output(&run));
        assert_no_secret_printed(&run);
    }
    assert!(writes(&staging).is_empty());
}
