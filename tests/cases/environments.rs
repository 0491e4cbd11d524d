//! Environments (SPEC section 10): a project file `resource-sync.yaml` names each
//! environment's URL or path, credentials and settings once, and `NAME:` / `NAME:PATH`
//! arguments use them. Each test runs the binary in a folder holding the file and checks what
//! the servers saw (each environment's credentials, and only its own), the files written,
//! the exit status and the errors. OAuth2 runs against the real Django service with
//! django-oauth-toolkit (`DjangoServer::start_oauth2`), whose tokens really expire.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server::django::{base64, require_django, DjangoServer, TOKEN_PATH};
use crate::util::*;

const PROJECT_FILE: &str = "resource-sync.yaml";

/// The variable naming the project file when `--config` is not given.
const CONFIG_VARIABLE: &str = "RESOURCE_SYNC_CONFIG";

/// A run still going after this is a hang: it is killed and the test fails with its output.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// A folder holding `resource-sync.yaml`; the binary runs in it, or in a folder below it.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(yaml: &str) -> Project {
        let dir = temp_dir();
        write_file(&dir.path().join(PROJECT_FILE), yaml);
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn join(&self, relative: &str) -> PathBuf {
        self.path().join(relative)
    }

    /// The binary in `folder` with `env` set, and no project file named by the caller's own
    /// environment.
    fn command_in(&self, folder: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = command(args);
        command.current_dir(folder).env_remove(CONFIG_VARIABLE);
        for (name, value) in env {
            command.env(name, value);
        }
        command
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_in(self.path(), args, env)
    }

    fn run_in(&self, folder: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        wait_for(spawn_command(self.command_in(folder, args, env)), RUN_LIMIT)
    }
}

fn all_output(run: &Run) -> String {
    format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr)
}

/// `Authorization: Basic ...` for `user:password`.
fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64(&format!("{user}:{password}")))
}

// h, j. OAuth2 client credentials against django-oauth-toolkit.

const CLIENT_ID: &str = "resource-sync";
const CLIENT_SECRET: &str = "client-SECRET-5521";

/// Django REST framework's API at `/api`, as a profile (SPEC section 8).
const DRF_PROFILE: &str = "\
records: results
next: body:next
size: page_size
readonly: [url]
types:
  team:
    path: teams/
  player:
    path: teams/{team}/players/
    parents: {team: team}
  stat:
    path: stats/
    parents: {player: player}
";

/// A project whose `prod` is the Django API behind OAuth2, with `extra` oauth2 settings and
/// `settings` of the environment (each line indented for it).
fn django_project(server: &DjangoServer, oauth2_extra: &str, settings: &str) -> Project {
    let project = Project::new(&format!(
        "api: drf.yaml
environments:
  prod:
    url: {base}/api
    auth:
      oauth2:
        token_url: {token_url}
        client_id: {CLIENT_ID}
        client_secret: {{env: PROD_CLIENT_SECRET}}
{oauth2_extra}{settings}",
        base = server.base_url(),
        token_url = server.token_url(),
    ));
    write_file(&project.join("drf.yaml"), DRF_PROFILE);
    project
}

const SECRET_ENV: [(&str, &str); 1] = [("PROD_CLIENT_SECRET", CLIENT_SECRET)];

/// The files of a pull of the whole seed: 3 teams, 6 players, 6 stats.
fn seeded_tree() -> Vec<String> {
    let mut files: Vec<String> = (1..=3).map(|id| format!("team/{id}.yaml")).collect();
    for kind in ["player", "stat"] {
        files.extend((1..=6).map(|id| format!("{kind}/{id}.yaml")));
    }
    files.sort();
    files
}

/// The fields of a logged form body.
fn form(entry: &Value) -> BTreeMap<String, String> {
    let text = entry["body"].as_str().unwrap_or_default();
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn is_token_request(entry: &Value) -> bool {
    entry["path"] == TOKEN_PATH
}

fn bearer_of(entry: &Value) -> Option<&str> {
    entry["authorization"].as_str()?.strip_prefix("Bearer ")
}

/// Whether the server's authentication let a request through (a page past the end is a
/// 404, after the token was checked).
fn let_through(entry: &Value) -> bool {
    !matches!(entry["status"].as_u64(), Some(401 | 403))
}

/// Each API request (not a token request) carried a bearer token that the server let
/// through, or got 401 and was then asked again, after a new token, with another token that
/// it let through. Returns the distinct tokens used.
fn assert_api_requests_carried_accepted_tokens(log: &[Value]) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for (at, entry) in log.iter().enumerate() {
        if is_token_request(entry) {
            continue;
        }
        let token = bearer_of(entry).unwrap_or_else(|| panic!("no bearer token: {entry}"));
        if !tokens.iter().any(|t| t == token) {
            tokens.push(token.to_string());
        }
        if let_through(entry) {
            continue;
        }
        assert_eq!(entry["status"], 401, "refused: {entry}");
        let later = &log[at + 1..];
        let renewed = later.iter().position(is_token_request);
        let retried = later.iter().position(|e| {
            e["path"] == entry["path"] && let_through(e) && bearer_of(e) != Some(token)
        });
        assert!(
            matches!((renewed, retried), (Some(r), Some(t)) if r < t),
            "{entry} was not retried with a renewed token: {later:#?}"
        );
    }
    tokens
}

/// Token requests: client credentials with HTTP basic client auth (no secret in the form).
fn assert_basic_client_credentials(log: &[Value]) {
    let token_requests: Vec<&Value> = log.iter().filter(|e| is_token_request(e)).collect();
    assert!(!token_requests.is_empty(), "no token was asked: {log:#?}");
    for entry in token_requests {
        assert_eq!(entry["method"], "POST", "{entry}");
        assert_eq!(entry["status"], 200, "{entry}");
        assert_eq!(
            entry["authorization"].as_str(),
            Some(basic(CLIENT_ID, CLIENT_SECRET).as_str()),
            "{entry}"
        );
        let fields = form(entry);
        assert_eq!(
            fields.get("grant_type").map(String::as_str),
            Some("client_credentials"),
            "{entry}"
        );
        assert!(!fields.contains_key("client_secret"), "{entry}");
    }
}

/// The client secret went to the token URL only: no other request holds it, plain or in a
/// basic header.
fn assert_secret_only_to_the_token_url(log: &[Value]) {
    let encoded = base64(&format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    for entry in log.iter().filter(|e| !is_token_request(e)) {
        let text = entry.to_string();
        assert!(
            !text.contains(CLIENT_SECRET) && !text.contains(&encoded),
            "the client secret went to {entry}"
        );
    }
}

#[test]
fn django_oauth2_service_refuses_without_a_token_and_accepts_a_fetched_one() {
    require_django();
    let server = DjangoServer::start_oauth2(true, CLIENT_ID, CLIENT_SECRET, 2);
    for path in ["/api/teams/", "/jsonapi/teams", "/api/schema/"] {
        let refused = server.request("GET", path, None, None);
        assert_eq!(refused.status, 401, "GET {path}: {}", refused.body);
        let challenge = refused.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer"), "GET {path}: {challenge:?}");
    }

    let wrong = server.request_token(CLIENT_ID, "not-the-secret");
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert_eq!(wrong.body["error"], "invalid_client");

    let answer = server.request_token(CLIENT_ID, CLIENT_SECRET);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "Bearer");
    assert_eq!(answer.body["expires_in"], 2);
    let token = answer.body["access_token"].as_str().expect("a token");
    let bearer = format!("Bearer {token}");
    let teams = server.get_authorized("/api/teams/", &bearer);
    assert_eq!(teams.status, 200, "{}", teams.body);
    assert_eq!(teams.body["count"], 3);
    for path in ["/jsonapi/teams", "/api/schema/"] {
        assert_eq!(server.get_authorized(path, &bearer).status, 200, "{path}");
    }
    let garbage = server.get_authorized("/api/teams/", "Bearer not-a-token");
    assert_eq!(garbage.status, 401);

    // The token really expires after its 2 seconds.
    std::thread::sleep(Duration::from_millis(2300));
    let expired = server.get_authorized("/api/teams/", &bearer);
    assert_eq!(expired.status, 401, "{}", expired.body);
    assert!(
        expired
            .header("www-authenticate")
            .is_some_and(|c| c.contains("invalid_token")),
        "{:?}",
        expired.headers
    );

    // A revoked token is refused at once.
    let fresh = format!("Bearer {}", server.access_token(CLIENT_ID, CLIENT_SECRET));
    assert_eq!(server.get_authorized("/api/teams/", &fresh).status, 200);
    let token = &fresh["Bearer ".len()..];
    assert_eq!(
        server.revoke_token(token, CLIENT_ID, CLIENT_SECRET).status,
        200
    );
    assert_eq!(server.get_authorized("/api/teams/", &fresh).status, 401);

    // The secret is stored hashed; the log shows the basic client authentication.
    let db = std::fs::read(server.db_path()).expect("the SQLite file");
    let db = String::from_utf8_lossy(&db);
    assert!(
        !db.contains(CLIENT_SECRET),
        "the client secret is stored in clear"
    );
    let token_requests: Vec<Value> = server
        .request_log()
        .into_iter()
        .filter(is_token_request)
        .collect();
    assert_eq!(token_requests.len(), 3, "{token_requests:#?}");
    assert_basic_client_credentials(&token_requests[1..]);
}

#[test]
fn oauth2_client_credentials_pull_from_django_renewing_expired_tokens() {
    require_django();
    let server = DjangoServer::start_oauth2(true, CLIENT_ID, CLIENT_SECRET, 2);
    // Two requests a second: the run outlives the 2-second tokens.
    let project = django_project(&server, "", "    rps: 2\n");
    let before = server.request_log().len();
    let started = Instant::now();
    let run = project.run(&["-v", "-l", "2", "prod:", "data/"], &SECRET_ENV);
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}\n{}", all_output(&run), server.output());
    assert_eq!(list_files(&project.join("data")), seeded_tree());
    let log = server.request_log()[before..].to_vec();
    assert_basic_client_credentials(&log);
    let tokens = assert_api_requests_carried_accepted_tokens(&log);
    assert_secret_only_to_the_token_url(&log);
    assert!(
        took > Duration::from_secs(3),
        "the run took {took:?}: too short to outlive a token"
    );
    assert!(
        tokens.len() >= 2,
        "a {took:?} run used one 2-second token: {log:#?}"
    );
    assert_never_printed(&run, CLIENT_SECRET);
    for token in &tokens {
        assert_never_printed(&run, token);
    }
}

#[test]
fn oauth2_client_auth_body_sends_the_id_and_secret_in_the_form_with_the_scope() {
    require_django();
    let server = DjangoServer::start_oauth2(true, CLIENT_ID, CLIENT_SECRET, 600);
    let project = django_project(
        &server,
        "        client_auth: body\n        scope: read\n",
        "",
    );
    let before = server.request_log().len();
    let run = project.run(&["--type", "team", "prod:", "data/"], &SECRET_ENV);
    assert_eq!(run.code, 0, "{}\n{}", all_output(&run), server.output());
    let files = list_files(&project.join("data"));
    assert_eq!(files, ["team/1.yaml", "team/2.yaml", "team/3.yaml"]);
    let log = server.request_log()[before..].to_vec();
    let token_requests: Vec<&Value> = log.iter().filter(|e| is_token_request(e)).collect();
    assert_eq!(token_requests.len(), 1, "a 600 s token is reused: {log:#?}");
    let entry = token_requests[0];
    assert_eq!(entry["status"], 200, "{entry}");
    assert_eq!(entry["authorization"], Value::Null, "{entry}");
    let expected: BTreeMap<String, String> = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("scope", "read"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(form(entry), expected);
    let tokens = assert_api_requests_carried_accepted_tokens(&log);
    assert_eq!(tokens.len(), 1, "{log:#?}");
    assert_secret_only_to_the_token_url(&log);
    assert_never_printed(&run, CLIENT_SECRET);
}

#[test]
fn a_revoked_oauth2_token_is_renewed_once_when_a_request_answers_401() {
    require_django();
    let server = DjangoServer::start_oauth2(true, CLIENT_ID, CLIENT_SECRET, 3600);
    // One request at a time, one a second, one team a page: a second between pages to
    // revoke the token in.
    let project = django_project(&server, "", "    rps: 1\n    concurrency: 1\n");
    let before = server.request_log().len();
    let args = ["--type", "team", "-l", "1", "prod:", "data/"];
    let mut child = spawn_command(project.command_in(project.path(), &args, &SECRET_ENV));

    // Revoke the token as soon as the server has accepted it once.
    let deadline = Instant::now() + RUN_LIMIT;
    let revoked = loop {
        let log = server.request_log();
        let accepted = log[before..]
            .iter()
            .find(|e| !is_token_request(e) && e["status"] == 200)
            .and_then(bearer_of)
            .map(str::to_string);
        if let Some(token) = accepted {
            let answer = server.revoke_token(&token, CLIENT_ID, CLIENT_SECRET);
            assert_eq!(answer.status, 200, "{}", answer.body);
            break Some(token);
        }
        let ended = child.try_wait().expect("the run's status").is_some();
        if ended || Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let run = wait_for(child, RUN_LIMIT);
    assert_eq!(run.code, 0, "{}\n{}", all_output(&run), server.output());
    let revoked = revoked.unwrap_or_else(|| {
        panic!(
            "the run ended with no request accepted: {:#?}",
            &server.request_log()[before..]
        )
    });
    let files = list_files(&project.join("data"));
    assert_eq!(files, ["team/1.yaml", "team/2.yaml", "team/3.yaml"]);

    let log = server.request_log()[before..].to_vec();
    let refused = log
        .iter()
        .position(|e| e["status"] == 401 && bearer_of(e) == Some(revoked.as_str()))
        .unwrap_or_else(|| panic!("the run ended before the revocation was seen: {log:#?}"));
    let after = &log[refused + 1..];
    assert!(
        is_token_request(&after[0]) && after[0]["status"] == 200,
        "the 401 was not followed by a new token: {log:#?}"
    );
    assert_eq!(after[1]["path"], log[refused]["path"], "{log:#?}");
    assert_eq!(after[1]["status"], 200, "{log:#?}");
    assert_ne!(bearer_of(&after[1]), Some(revoked.as_str()));
    let token_requests = log.iter().filter(|e| is_token_request(e)).count();
    assert_eq!(
        token_requests, 2,
        "asked once, and once again after the 401: {log:#?}"
    );
    assert_api_requests_carried_accepted_tokens(&log);
    assert_basic_client_credentials(&log);
}

#[test]
fn generate_profile_from_an_environment_fetches_with_its_credentials() {
    require_django();
    let server = DjangoServer::start_oauth2(false, CLIENT_ID, CLIENT_SECRET, 600);
    let project = django_project(&server, "", "");

    // A plain URL gets the command line's credentials: none here.
    let schema = format!("{}/api/schema/", server.base_url());
    let plain = project.run(&["--generate", "profile", &schema], &SECRET_ENV);
    assert_eq!(plain.code, 1, "{}", all_output(&plain));
    assert!(plain.stderr.contains("401"), "{}", all_output(&plain));

    let before = server.request_log().len();
    let run = project.run(&["--generate", "profile", "prod:schema/"], &SECRET_ENV);
    assert_eq!(run.code, 0, "{}\n{}", all_output(&run), server.output());
    assert!(
        run.stdout.contains("types:") && run.stdout.contains("api/teams/"),
        "{}",
        all_output(&run)
    );
    let log = server.request_log()[before..].to_vec();
    let asked: Vec<&Value> = log.iter().filter(|e| !is_token_request(e)).collect();
    assert_eq!(asked.len(), 1, "{log:#?}");
    assert_eq!(asked[0]["path"], "/api/schema/");
    assert_eq!(asked[0]["status"], 200);
    assert_basic_client_credentials(&log);
    assert_api_requests_carried_accepted_tokens(&log);
    assert_secret_only_to_the_token_url(&log);
    assert_never_printed(&run, CLIENT_SECRET);
}
