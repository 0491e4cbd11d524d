//! Environments (SPEC section 10): a project file `resource-sync.yaml` names each
//! environment's URL or path, credentials and settings once, and `NAME:` / `NAME:PATH`
//! arguments use them. Each test runs the binary in a folder holding the file and checks what
//! the servers saw (each environment's credentials, and only its own), the files written,
//! the exit status and the errors. OAuth2 runs against the real Django service with
//! django-oauth-toolkit (`DjangoServer::start_oauth2`), whose tokens really expire.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::server::django::{base64, require_django, DjangoServer, TOKEN_PATH};
use crate::server::{seeded_server, Fault, RequestRecord, ServerConfig, TestServer};
use crate::util::*;

const PROJECT_FILE: &str = "resource-sync.yaml";

/// The variable naming the project file when `--config` is not given.
const CONFIG_VARIABLE: &str = "RESOURCE_SYNC_CONFIG";

/// A run still going after this is a hang: it is killed and the test fails with its output.
const RUN_LIMIT: Duration = Duration::from_secs(120);

type Project = ProjectFolder;

fn all_output(run: &Run) -> String {
    format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr)
}

/// Exit 2 with an error that mentions each of `mentions`.
fn assert_usage_error(run: &Run, mentions: &[&str]) {
    assert_eq!(run.code, 2, "expected exit 2\n{}", all_output(run));
    assert!(
        !run.stderr.contains("panicked"),
        "the binary panicked\n{}",
        all_output(run)
    );
    for mention in mentions {
        assert!(
            run.stderr.contains(mention),
            "the error does not mention {mention:?}\n{}",
            all_output(run)
        );
    }
}

/// Whether `text` names line `line` of a file (`line 5`, `:5:`, `:5 `): not `:51`.
fn names_line(text: &str, line: usize) -> bool {
    ["line ", ":"].iter().any(|prefix| {
        let needle = format!("{prefix}{line}");
        text.match_indices(&needle)
            .any(|(at, _)| !text[at + needle.len()..].starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// `Authorization: Basic ...` for `user:password`.
fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64(&format!("{user}:{password}")))
}

fn authorization(request: &RequestRecord) -> Option<&str> {
    request.header("authorization")
}

/// Panics unless every request carries exactly `expected` as its Authorization header.
fn assert_all_authorized(server: &TestServer, expected: &str, what: &str) {
    let requests = server.requests();
    assert!(!requests.is_empty(), "{what}: no request");
    for request in &requests {
        assert_eq!(
            authorization(request),
            Some(expected),
            "{what}: {} {}",
            request.method,
            request.path_and_query
        );
    }
}

/// The sample files of one team with `players` players: team, players, their stats.
fn sample_files(players: usize) -> Vec<String> {
    let mut files = vec!["team/1.yaml".to_string()];
    for kind in ["player", "stat"] {
        files.extend((1..=players).map(|id| format!("{kind}/{id}.yaml")));
    }
    files.sort();
    files
}

// a. Pull, push and copy, each environment with its own credentials.

#[test]
fn environments_pull_push_and_copy_each_with_its_own_credentials() {
    let prod = seeded_server(ServerConfig::default(), 1, 2);
    let staging = TestServer::start(ServerConfig::default());
    let project = Project::new(&format!(
        "# committed beside the data: no secret in it
environments:
  prod:
    url: {prod}/api
    auth: {{bearer: {{env: PROD_TOKEN}}}}
  staging:
    url: {staging}/api
    auth:
      basic:
        username: deployer
        password: {{env: STAGING_PASSWORD}}
",
        prod = prod.base_url(),
        staging = staging.base_url()
    ));
    let secrets = [
        ("PROD_TOKEN", "prod-tok-SECRET-41"),
        ("STAGING_PASSWORD", "stg-pw-SECRET-97"),
    ];
    let bearer = "Bearer prod-tok-SECRET-41";
    let staging_basic = basic("deployer", "stg-pw-SECRET-97");

    // prod: data/
    let pull = project.run(&["-v", "-c", "prod:", "data/"], &secrets);
    assert_eq!(pull.code, 0, "{}", all_output(&pull));
    assert_eq!(list_files(&project.join("data")), sample_files(2));
    assert_all_authorized(&prod, bearer, "prod while pulling");
    assert!(staging.requests().is_empty(), "staging was asked");

    // prod: staging: in one run, each side with its own credentials.
    prod.clear_log();
    let copy = project.run(&["-v", "-c", "prod:", "staging:"], &secrets);
    assert_eq!(copy.code, 0, "{}", all_output(&copy));
    assert_eq!(summary(&copy.stderr).created, 5, "{}", copy.stderr);
    assert_eq!(staging.resources().len(), 5);
    assert_all_authorized(&prod, bearer, "prod as the origin of a copy");
    assert_all_authorized(
        &staging,
        &staging_basic,
        "staging as the destination of a copy",
    );

    // data/ staging: pushes an edit with staging's basic auth, and asks prod nothing.
    prod.clear_log();
    staging.clear_log();
    let team = project.join("data/team/1.yaml");
    write_file(&team, &read(&team).replace("Team 1", "Renamed"));
    let push = project.run(&["-v", "-c", "data/", "staging:"], &secrets);
    assert_eq!(push.code, 0, "{}", all_output(&push));
    assert_eq!(summary(&push.stderr).updated, 1, "{}", push.stderr);
    assert_eq!(
        staging.get("/api/team/1").expect("team 1 at staging")["name"],
        "Renamed"
    );
    assert_eq!(staging.count("PUT"), 1);
    assert_all_authorized(&staging, &staging_basic, "staging while pushing");
    assert!(prod.requests().is_empty(), "prod was asked during a push");

    for run in [&pull, &copy, &push] {
        for (_, secret) in secrets {
            assert_never_printed(run, secret);
        }
        assert_never_printed(run, &staging_basic["Basic ".len()..]);
    }
}

#[test]
fn command_line_credentials_go_to_environments_without_auth_and_h_to_every_endpoint() {
    let prod = seeded_server(ServerConfig::default(), 1, 1);
    let open = seeded_server(ServerConfig::default(), 1, 1);
    let project = Project::new(&format!(
        "environments:\n  prod:\n    url: {}/api/player\n    auth: {{bearer: {{env: PROD_TOKEN}}}}\n  open:\n    url: {}/api/player\n",
        prod.base_url(),
        open.base_url()
    ));
    let env = [
        ("PROD_TOKEN", "prod-tok-SECRET-5"),
        ("RESOURCE_SYNC_TOKEN", "cli-tok-SECRET-6"),
    ];
    let run = project.run(&["-H", "X-Run: r-17", "prod:", "open:"], &env);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    assert_all_authorized(&prod, "Bearer prod-tok-SECRET-5", "prod (its own auth)");
    assert_all_authorized(&open, "Bearer cli-tok-SECRET-6", "open (no auth)");
    for server in [&prod, &open] {
        for request in server.requests() {
            assert_eq!(request.header("x-run"), Some("r-17"), "{request:?}");
        }
    }
}

#[test]
fn a_401_names_the_environment() {
    let server = seeded_server(ServerConfig::default(), 1, 1);
    server.fail_path("/api/player", 401);
    let project = Project::new(&format!(
        "environments:\n  staging:\n    url: {}/api/player\n    auth: {{bearer: {{env: STAGING_TOKEN}}}}\n",
        server.base_url()
    ));
    let run = project.run(
        &["staging:", "out/"],
        &[("STAGING_TOKEN", "tok-SECRET-401")],
    );
    assert_eq!(run.code, 1, "{}", all_output(&run));
    assert!(
        run.stderr.contains("401") && run.stderr.contains("staging"),
        "the 401 does not name the environment\n{}",
        all_output(&run)
    );
    assert_never_printed(&run, "tok-SECRET-401");
    assert_nothing_written(&project.join("out"));
}

// b. Which file, NAME:PATH, unknown names, one-letter prefixes.

#[test]
fn name_path_joins_with_one_slash() {
    let server = seeded_server(ServerConfig::default(), 1, 2);
    let project = Project::new(&format!(
        "environments:\n  slash:\n    url: {base}/api/\n  bare:\n    url: {base}/api\n",
        base = server.base_url()
    ));
    let cases = [
        ("slash:team", "/api/team"),
        ("bare:team", "/api/team"),
        ("bare:/player", "/api/player"),
        ("slash:/player", "/api/player"),
        ("bare:stat/", "/api/stat/"),
        ("bare:", "/api"),
    ];
    for (argument, path) in cases {
        server.clear_log();
        // -n: the start URL only, so the one request is the joined URL.
        let run = project.run(&["-n", argument, "null"], &[]);
        let asked: Vec<String> = server
            .requests()
            .into_iter()
            .map(|r| r.path_and_query)
            .collect();
        assert_eq!(asked, [path], "{argument}\n{}", all_output(&run));
    }
}

#[test]
fn the_project_file_is_found_upward_and_its_paths_are_its_own() {
    let server = seeded_server(ServerConfig::default(), 1, 2);
    let project = Project::new(&format!(
        "environments:\n  prod:\n    url: {}/api\n  fixtures:\n    path: data/fixtures\n",
        server.base_url()
    ));
    let deeper = project.join("sub/deeper");
    std::fs::create_dir_all(&deeper).expect("a subfolder");
    // A directory destination's parent must exist.
    std::fs::create_dir_all(project.join("data/fixtures")).expect("the fixtures folder");

    let pull = project.run_in(&deeper, &["-v", "-c", "prod:", "fixtures:pulled"], &[]);
    assert_eq!(pull.code, 0, "{}", all_output(&pull));
    assert_eq!(
        list_files(&project.join("data/fixtures/pulled")),
        sample_files(2),
        "a path is relative to the project file's folder"
    );
    assert!(
        !deeper.join("data").exists(),
        "written below the current folder"
    );
    let file = project.join(PROJECT_FILE);
    assert!(
        pull.stderr.contains(path_str(&file)) || pull.stderr.contains(PROJECT_FILE),
        "-v does not say which file was read\n{}",
        all_output(&pull)
    );

    // And back: fixtures:pulled as an origin, read from the same place.
    let back = project.run_in(&deeper, &["fixtures:pulled", "copy.yaml"], &[]);
    assert_eq!(back.code, 0, "{}", all_output(&back));
    assert_eq!(summary(&back.stderr).read, 5, "{}", back.stderr);
}

#[test]
fn config_flag_then_variable_then_the_file_found_upward() {
    let (found, flagged, variable) = (
        seeded_server(ServerConfig::default(), 1, 1),
        seeded_server(ServerConfig::default(), 1, 1),
        seeded_server(ServerConfig::default(), 1, 1),
    );
    let env_file = |server: &TestServer| {
        format!(
            "environments:\n  prod:\n    url: {}/api/team\n",
            server.base_url()
        )
    };
    let project = Project::new(&env_file(&found));
    let elsewhere = temp_dir();
    let flagged_file = elsewhere.path().join("flagged.yaml");
    let variable_file = elsewhere.path().join("variable.yaml");
    write_file(&flagged_file, &env_file(&flagged));
    write_file(&variable_file, &env_file(&variable));
    let variable_env = [(CONFIG_VARIABLE, path_str(&variable_file))];

    // (flags, environment variables, the server whose file was read)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a TestServer);
    let cases: [Case; 4] = [
        (&["--config", path_str(&flagged_file)], &[], &flagged),
        (
            &["--config", path_str(&flagged_file)],
            &variable_env,
            &flagged,
        ),
        (&[], &variable_env, &variable),
        (&[], &[], &found),
    ];
    for (flags, env, asked) in cases {
        for server in [&found, &flagged, &variable] {
            server.clear_log();
        }
        let mut args = flags.to_vec();
        args.extend(["-n", "prod:", "null"]);
        let run = project.run(&args, env);
        assert_eq!(run.code, 0, "{args:?} {env:?}\n{}", all_output(&run));
        for server in [&found, &flagged, &variable] {
            let expected = usize::from(std::ptr::eq(server, asked));
            assert_eq!(
                server.requests().len(),
                expected,
                "{args:?} {env:?}: requests to {}",
                server.base_url()
            );
        }
    }
}

#[test]
fn an_unknown_environment_lists_the_names_the_file_defines() {
    let server = seeded_server(ServerConfig::default(), 1, 1);
    let project = Project::new(&format!(
        "environments:\n  prod:\n    url: {base}/api\n  staging:\n    url: {base}/api\n  local-dev:\n    path: data\n",
        base = server.base_url()
    ));
    let run = project.run(&["qa:", "out/"], &[]);
    assert_usage_error(&run, &["qa", "prod", "staging", "local-dev"]);
    assert!(server.requests().is_empty());
    assert_nothing_written(&project.join("out"));
}

#[test]
fn no_project_file_is_a_usage_error_saying_where_it_looked() {
    let dir = temp_dir();
    let folder = dir.path().join("work");
    std::fs::create_dir_all(&folder).expect("a folder");
    let mut nowhere = command(&["prod:", "out/"]);
    nowhere.current_dir(&folder).env_remove(CONFIG_VARIABLE);
    let run = wait_for(spawn_command(nowhere), RUN_LIMIT);
    assert_usage_error(&run, &[PROJECT_FILE]);
    let canonical = folder.canonicalize().expect("a canonical path");
    assert!(
        run.stderr.contains(path_str(&folder)) || run.stderr.contains(path_str(&canonical)),
        "the error does not say where it looked\n{}",
        all_output(&run)
    );
    assert_nothing_written(&folder.join("out"));

    // A --config or RESOURCE_SYNC_CONFIG file that does not exist is named.
    let missing = dir.path().join("missing.yaml");
    let mut flagged = command(&["--config", path_str(&missing), "prod:", "out/"]);
    flagged.current_dir(&folder).env_remove(CONFIG_VARIABLE);
    let run = wait_for(spawn_command(flagged), RUN_LIMIT);
    assert_usage_error(&run, &["missing.yaml"]);
    let mut variable = command(&["prod:", "out/"]);
    variable
        .current_dir(&folder)
        .env(CONFIG_VARIABLE, path_str(&missing));
    let run = wait_for(spawn_command(variable), RUN_LIMIT);
    assert_usage_error(&run, &["missing.yaml"]);
}

#[test]
fn one_letter_prefixes_are_paths_and_leave_the_project_file_unread() {
    // A project file that would fail validation: read, it would stop every run below.
    let project =
        Project::new("environments:\n  prod:\n    url: http://127.0.0.1:9/api\n    colour: blue\n");
    let origin = project.join("origin.yaml");
    write_file(
        &origin,
        &yaml_documents(&crate::server::sample_dataset("http://localhost:1", 1, 0)),
    );
    for destination in ["x:", "C:out"] {
        let run = project.run(&["origin.yaml", destination], &[]);
        assert_eq!(run.code, 0, "{destination}\n{}", all_output(&run));
        assert_eq!(
            list_files(&project.join(destination)),
            ["team/1.yaml"],
            "{destination} is a folder"
        );
    }
    // An argument naming an environment does read it, and --config reads it whatever the
    // arguments.
    let run = project.run(&["origin.yaml", "prod:"], &[]);
    assert_usage_error(&run, &[PROJECT_FILE, "colour"]);
    let run = project.run(&["--config", PROJECT_FILE, "origin.yaml", "out/"], &[]);
    assert_usage_error(&run, &[PROJECT_FILE, "colour"]);
    assert_nothing_written(&project.join("out"));
}

// c. Validation: exit 2 naming the file, the line and the key; nothing asked of any server.

/// One invalid project file: its text after `environments:\n  prod:\n`, what the error must
/// mention, and the lines of which it must name one (none: no line asked).
struct Invalid {
    settings: &'static str,
    mentions: &'static [&'static str],
    lines: &'static [usize],
}

#[test]
fn invalid_project_files_are_usage_errors_naming_the_file_line_and_key() {
    let server = seeded_server(ServerConfig::default(), 1, 1);
    let cases = [
        // Lines: 1 the comment, 2 `environments:`, 3 `prod:`, 4 on: the settings.
        Invalid {
            settings: "    url: BASE/api\n    colour: blue\n",
            mentions: &["colour"],
            lines: &[5],
        },
        Invalid {
            settings: "    url: BASE/api\n    path: data\n",
            mentions: &["url", "path"],
            lines: &[3, 4, 5],
        },
        Invalid {
            settings: "    headers: {X-Tenant: acme}\n",
            mentions: &["url", "path"],
            lines: &[3, 4],
        },
        Invalid {
            settings: "    url: BASE/api\n    limit: lots\n",
            mentions: &["limit"],
            lines: &[5],
        },
        Invalid {
            settings: "    url: BASE/api\n    auth:\n      bearer: plain-SECRET-in-git\n",
            mentions: &["bearer"],
            lines: &[6],
        },
        Invalid {
            settings:
                "    url: BASE/api\n    auth: {basic: {username: ana, password: hunter2-SECRET}}\n",
            mentions: &["password"],
            lines: &[5],
        },
        Invalid {
            settings: "    url: BASE/api\n    auth: {bearer: {env: RS_TEST_NEVER_SET_9}}\n",
            mentions: &["RS_TEST_NEVER_SET_9"],
            lines: &[],
        },
    ];
    let mut wrong = Vec::new();
    for case in &cases {
        let settings = case.settings.replace("BASE", &server.base_url());
        let text = format!("# resource-sync.yaml\nenvironments:\n  prod:\n{settings}");
        let project = Project::new(&text);
        let run = project.run(&["prod:", "out/"], &[]);
        let stderr = &run.stderr;
        let named = case.mentions.iter().all(|m| stderr.contains(m))
            && stderr.contains(PROJECT_FILE)
            && (case.lines.is_empty() || case.lines.iter().any(|&l| names_line(stderr, l)));
        let leaked = [
            "plain-SECRET-in-git",
            "hunter2-SECRET",
            "plain-header-SECRET",
        ]
        .iter()
        .any(|secret| stderr.contains(secret) || run.stdout.contains(secret));
        if run.code != 2 || !named || leaked || !nothing_written(&project.join("out")) {
            wrong.push(format!(
                "{text}\n  -> exit {}, expected to name {:?} and line {:?}{}:\n{}",
                run.code,
                case.mentions,
                case.lines,
                if leaked { " (printed the secret)" } else { "" },
                stderr.trim()
            ));
        }
    }
    assert!(server.requests().is_empty(), "a server was asked");
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn an_empty_secret_variable_is_a_usage_error_naming_it() {
    let server = seeded_server(ServerConfig::default(), 1, 1);
    let project = Project::new(&format!(
        "environments:\n  prod:\n    url: {}/api\n    auth: {{bearer: {{env: PROD_TOKEN}}}}\n",
        server.base_url()
    ));
    let run = project.run(&["prod:", "out/"], &[("PROD_TOKEN", "")]);
    assert_usage_error(&run, &["PROD_TOKEN"]);
    assert!(server.requests().is_empty());
}

// d. writable: false

#[test]
fn a_read_only_environment_is_refused_as_a_destination_before_any_request() {
    let server = seeded_server(ServerConfig::default(), 1, 1);
    let project = Project::new(&format!(
        "environments:\n  prod:\n    url: {}/api\n    writable: false\n",
        server.base_url()
    ));
    let origin = project.join("origin.yaml");
    write_file(
        &origin,
        &yaml_documents(&crate::server::sample_dataset("http://localhost:1", 1, 0)),
    );
    for flags in [&[][..], &["--dry-run"][..], &["--rm"][..]] {
        let mut args = flags.to_vec();
        args.extend(["origin.yaml", "prod:"]);
        let run = project.run(&args, &[]);
        assert_usage_error(&run, &["prod"]);
        assert!(
            server.requests().is_empty(),
            "{flags:?}: requests before the refusal: {:?}",
            server.requests()
        );
    }
    // It is still an origin.
    let run = project.run(&["-c", "prod:", "out/"], &[]);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    assert_eq!(list_files(&project.join("out")), sample_files(1));
}

// e. header and query credentials

#[test]
fn header_and_query_credentials_reach_their_servers_and_the_query_is_redacted() {
    let prod = seeded_server(ServerConfig::default(), 1, 2);
    let qa = TestServer::start(ServerConfig::default());
    let project = Project::new(&format!(
        "environments:
  prod:
    url: {}/api
    auth: {{header: {{name: X-API-Key, value: {{file: secrets/prod-key}}}}}}
  qa:
    url: {}/api
    auth: {{query: {{name: api_key, value: {{env: QA_KEY}}}}}}
",
        prod.base_url(),
        qa.base_url()
    ));
    // The trailing newline is not part of the key; the path is the project file's own.
    write_file(&project.join("secrets/prod-key"), "key-SECRET-77\n");
    let sub = project.join("sub");
    std::fs::create_dir_all(&sub).expect("a subfolder");
    let env = [("QA_KEY", "qa-SECRET-13")];

    let pull = project.run_in(&sub, &["-v", "-c", "prod:", "data/"], &env);
    assert_eq!(pull.code, 0, "{}", all_output(&pull));
    assert_eq!(list_files(&sub.join("data")), sample_files(2));

    let plan = project.run_in(&sub, &["-v", "-c", "--dry-run", "data/", "qa:"], &env);
    assert_eq!(plan.code, 0, "{}", all_output(&plan));
    let creates: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|line| line.starts_with("create "))
        .collect();
    assert_eq!(creates.len(), 5, "{}", all_output(&plan));

    let copy = project.run_in(
        &sub,
        &["-v", "-c", "--output", "json", "prod:", "qa:"],
        &env,
    );
    assert_eq!(copy.code, 0, "{}", all_output(&copy));
    assert_eq!(qa.resources().len(), 5);
    let actions = copy.stdout.lines().filter(|l| l.contains("\"op\"")).count();
    assert_eq!(actions, 5, "{}", all_output(&copy));

    for request in prod.requests() {
        assert_eq!(
            request.header("x-api-key"),
            Some("key-SECRET-77"),
            "{request:?}"
        );
        assert!(!request.path_and_query.contains("api_key"), "{request:?}");
    }
    let qa_requests = qa.requests();
    assert!(qa_requests.iter().any(|r| r.method == "PUT"));
    for request in &qa_requests {
        let query = request
            .path_and_query
            .split_once('?')
            .map_or("", |(_, q)| q);
        let keys: Vec<&str> = query
            .split('&')
            .filter(|pair| pair.starts_with("api_key="))
            .collect();
        assert_eq!(keys, ["api_key=qa-SECRET-13"], "{request:?}");
        assert_eq!(request.header("x-api-key"), None, "{request:?}");
    }

    for run in [&pull, &plan, &copy] {
        assert_never_printed(run, "key-SECRET-77");
        assert_never_printed(run, "qa-SECRET-13");
        // Wherever a URL of qa is printed with its query, the key reads REDACTED.
        let text = format!("{}{}", run.stdout, run.stderr);
        for (at, _) in text.match_indices("api_key=") {
            assert!(
                text[at..].starts_with("api_key=REDACTED"),
                "{}",
                all_output(run)
            );
        }
    }
    // -v prints one line per request, each naming a URL of qa with its query.
    assert!(
        copy.stderr.contains("api_key=REDACTED"),
        "-v shows no redacted query\n{}",
        all_output(&copy)
    );
}

// f. Secrets from a command

/// A token helper: each run counts itself in `counter` and prints `  tok-N  ` (trimmed when
/// used), after a line on stderr.
fn token_script(dir: &Path) -> PathBuf {
    let script = dir.join("token.sh");
    write_file(
        &script,
        "n=$(cat counter 2>/dev/null || echo 0)\nn=$((n + 1))\necho $n > counter\necho 'helper: ok' >&2\necho \"  tok-$n  \"\n",
    );
    script
}

#[test]
fn a_command_secret_runs_once_and_again_once_after_a_401() {
    let server = TestServer::start(ServerConfig::default());
    let helper = temp_dir();
    token_script(helper.path());
    let project = Project::new(&format!(
        "environments:\n  staging:\n    url: {}/api\n    auth: {{bearer: {{command: \"cd '{}' && sh token.sh\"}}}}\n",
        server.base_url(),
        path_str(helper.path())
    ));
    write_file(
        &project.join("origin.yaml"),
        &yaml_documents(&crate::server::sample_dataset("http://localhost:1", 1, 2)),
    );
    // The first request, with the first token, is refused.
    server.fail_next(1, 401);
    let args = ["-v", "origin.yaml", "staging:"];
    let run = project.run(&args, &[]);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    assert_eq!(server.resources().len(), 5);
    assert_eq!(
        read(&helper.path().join("counter")).trim(),
        "2",
        "the command runs when first needed and once more after the 401"
    );
    let requests = server.requests();
    assert_eq!(requests[0].status, 401);
    assert_eq!(authorization(&requests[0]), Some("Bearer tok-1"));
    // Requests already on their way keep the first token (the server still takes it);
    // from the refused request's retry on, every request carries the renewed one.
    let retry = requests
        .iter()
        .position(|request| authorization(request) == Some("Bearer tok-2"))
        .expect("a request with the renewed token");
    assert_eq!(
        requests[retry].path_and_query, requests[0].path_and_query,
        "the refused request is the first sent again"
    );
    for request in &requests[retry..] {
        assert_eq!(authorization(request), Some("Bearer tok-2"), "{request:?}");
    }
    assert!(requests[1..retry]
        .iter()
        .all(|request| request.status == 200));
    assert_never_printed(&run, "tok-1");
    assert_never_printed(&run, "tok-2");
}

#[test]
fn a_failing_command_is_exit_2_with_the_last_line_of_its_stderr_never_its_stdout() {
    let server = seeded_server(ServerConfig::default(), 1, 1);
    let project = Project::new(&format!(
        "environments:\n  prod:\n    url: {}/api\n    auth:\n      bearer:\n        command: \"echo half-a-token-SECRET; echo 'vault: looking' >&2; echo 'vault: permission denied' >&2; exit 3\"\n",
        server.base_url()
    ));
    let run = project.run(&["prod:", "out/"], &[]);
    assert_usage_error(&run, &["vault: permission denied"]);
    assert_never_printed(&run, "half-a-token-SECRET");
    assert!(
        server.requests().is_empty(),
        "a request was sent without its credentials: {:?}",
        server.requests()
    );
    assert_nothing_written(&project.join("out"));
}

// g. Per-environment settings; the command line wins.

#[test]
fn omit_headers_and_limit_apply_to_the_environment_and_l_wins() {
    let server = seeded_server(ServerConfig::default(), 1, 5);
    let project = Project::new(&format!(
        "environments:
  prod:
    url: {}/api/player
    omit: [name]
    headers: {{X-Tenant: acme, X-Trace: {{env: TRACE_SECRET}}}}
    limit: 2
",
        server.base_url()
    ));
    let env = [("TRACE_SECRET", "trace-SECRET-3")];
    let run = project.run(&["-v", "prod:", "data/"], &env);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    let files = list_files(&project.join("data"));
    assert_eq!(files.len(), 5, "{files:?}");
    for file in &files {
        let text = read(&project.join("data").join(file));
        assert!(
            !text.contains("name:"),
            "{file} kept the omitted field:\n{text}"
        );
        assert!(text.contains("teamId:"), "{file}:\n{text}");
    }
    let requests = server.requests();
    assert!(requests.len() >= 3, "pages of 2: {requests:?}");
    for request in &requests {
        assert_eq!(request.header("x-tenant"), Some("acme"), "{request:?}");
        assert_eq!(
            request.header("x-trace"),
            Some("trace-SECRET-3"),
            "{request:?}"
        );
        assert_eq!(request.header("x-request-limit"), Some("2"), "{request:?}");
    }
    assert_never_printed(&run, "trace-SECRET-3");

    server.clear_log();
    let run = project.run(&["-l", "4", "prod:", "again/"], &env);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    let requests = server.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.header("x-request-limit"), Some("4"), "{request:?}");
    }
}

#[test]
fn ignore_applies_when_the_environment_is_the_destination() {
    let server = TestServer::start(ServerConfig::default());
    let base = server.base_url();
    let stored = crate::util::hal_resource(
        &base,
        "team",
        1,
        json!({"name": "Lions", "updated": "2020"}),
        &[],
    );
    server.insert(stored);
    let project = Project::new(&format!(
        "environments:\n  staging:\n    url: {base}/api\n    ignore: [updated]\n"
    ));
    let origin = crate::util::hal_resource(
        "http://localhost:1",
        "team",
        1,
        json!({"name": "Lions", "updated": "2026"}),
        &[],
    );
    write_file(&project.join("origin.yaml"), &yaml_documents(&[origin]));

    let run = project.run(&["-c", "origin.yaml", "staging:"], &[]);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    assert_eq!(summary(&run.stderr).unchanged, 1, "{}", run.stderr);
    assert_eq!(
        server.count("PUT"),
        0,
        "a difference only in an ignored field"
    );

    // The same push to the plain URL compares the field.
    let run = project.run(&["-c", "origin.yaml", &format!("{base}/api")], &[]);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    assert_eq!(server.count("PUT"), 1);
}

/// The most PUTs that arrived within `window` ms of one another.
fn busiest(arrivals: &[u128], window: u128) -> usize {
    arrivals
        .iter()
        .map(|&start| {
            arrivals
                .iter()
                .filter(|&&at| at >= start && at < start + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// A server answering each request after 150 ms, `staging` (concurrency 2) and `paced`
/// (4 requests a second) naming it, and `teams` teams to push in `origin.jsonl`.
fn slow_destination(teams: usize) -> (TestServer, Project) {
    let latency = Duration::from_millis(150);
    let server = TestServer::start(ServerConfig {
        latency: Some((latency, latency)),
        ..ServerConfig::default()
    });
    let project = Project::new(&format!(
        "environments:\n  staging:\n    url: {}/api\n    concurrency: 2\n  paced:\n    url: {}/api\n    rps: 4\n",
        server.base_url(),
        server.base_url()
    ));
    // Written as origin.jsonl in the project folder.
    sample_jsonl_origin(project.path(), teams, 0);
    (server, project)
}

#[test]
fn concurrency_of_an_environment_and_the_command_line_override() {
    let (server, project) = slow_destination(10);
    let run = project.run(&["origin.jsonl", "staging:"], &[]);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    let arrivals = server.arrivals("PUT");
    assert_eq!(arrivals.len(), 10);
    assert!(
        busiest(&arrivals, 100) <= 2,
        "more than 2 in flight: {arrivals:?}"
    );

    let (server, project) = slow_destination(10);
    let run = project.run(&["--concurrency", "6", "origin.jsonl", "staging:"], &[]);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    let arrivals = server.arrivals("PUT");
    assert!(
        busiest(&arrivals, 100) > 2,
        "--concurrency 6 did not win over the file's 2: {arrivals:?}"
    );
}

#[test]
fn rps_of_an_environment_and_the_command_line_override() {
    let (server, project) = slow_destination(10);
    let run = project.run(&["--concurrency", "16", "origin.jsonl", "paced:"], &[]);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    let arrivals = server.arrivals("PUT");
    assert_eq!(arrivals.len(), 10);
    assert!(
        busiest(&arrivals, 1000) <= 5,
        "more than 4 a second (one of slack): {arrivals:?}"
    );

    let (server, project) = slow_destination(10);
    let args = [
        "--rps",
        "8",
        "--concurrency",
        "16",
        "origin.jsonl",
        "paced:",
    ];
    let run = project.run(&args, &[]);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    let arrivals = server.arrivals("PUT");
    assert!(
        busiest(&arrivals, 1000) >= 6,
        "--rps 8 did not win over the file's 4: {arrivals:?}"
    );
}

#[test]
fn timeout_and_max_attempts_of_an_environment_and_the_command_line_override() {
    let slow = seeded_server(ServerConfig::default(), 1, 1);
    let flaky = seeded_server(ServerConfig::default(), 1, 1);
    flaky.fail_path("/api/player", 503);
    let project = Project::new(&format!(
        "environments:\n  slow:\n    url: {}/api/player\n    timeout: 1\n    max_attempts: 1\n  flaky:\n    url: {}/api/player\n    max_attempts: 2\n",
        slow.base_url(),
        flaky.base_url()
    ));
    let delay = Fault::Delay(Duration::from_millis(2500));

    slow.inject_path("/api/player", 1, delay.clone());
    let run = project.run(&["slow:", "null"], &[]);
    assert_eq!(run.code, 1, "{}", all_output(&run));
    assert!(
        run.stderr.to_lowercase().contains("timed out"),
        "{}",
        all_output(&run)
    );
    // The timed-out request is dropped before the server logs it: the client says.
    assert!(
        run.stderr.contains("after 1 attempt(s)"),
        "max_attempts: 1\n{}",
        all_output(&run)
    );

    slow.clear_log();
    slow.inject_path("/api/player", 1, delay);
    let run = project.run(&["--timeout", "5", "slow:", "null"], &[]);
    assert_eq!(run.code, 0, "--timeout 5 wins\n{}", all_output(&run));

    let run = project.run(&["flaky:", "null"], &[]);
    assert_eq!(run.code, 1, "{}", all_output(&run));
    assert_eq!(flaky.count("GET"), 2, "max_attempts: 2");
    flaky.clear_log();
    let run = project.run(&["-m", "3", "flaky:", "null"], &[]);
    assert_eq!(run.code, 1, "{}", all_output(&run));
    assert_eq!(flaky.count("GET"), 3, "-m 3 wins");
}

// i. One origin, two credentials

#[test]
fn two_endpoints_on_one_origin_with_different_credentials_are_refused_naming_both() {
    let server = seeded_server(ServerConfig::default(), 1, 1);
    let project = Project::new(&format!(
        "environments:
  tenant-a:
    url: {base}/api/team
    auth: {{bearer: {{env: TOKEN_A}}}}
  tenant_b:
    url: {base}/api/player
    auth: {{bearer: {{env: TOKEN_B}}}}
",
        base = server.base_url()
    ));
    let env = [("TOKEN_A", "a-SECRET-1"), ("TOKEN_B", "b-SECRET-2")];
    let run = project.run(&["tenant-a:", "tenant_b:"], &env);
    assert_usage_error(&run, &["tenant-a", "tenant_b"]);
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    assert_never_printed(&run, "a-SECRET-1");
    assert_never_printed(&run, "b-SECRET-2");
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
        // The token server's own endpoints (a token, the test's revocation) are not the API.
        if entry["path"]
            .as_str()
            .is_some_and(|path| path.starts_with("/o/"))
        {
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
    // Two requests a second, one at a time: the run outlives the 2-second tokens, and no
    // token waits in a queue for longer than it lives.
    let project = django_project(&server, "", "    rps: 2\n    concurrency: 1\n");
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
    // 8 pages at 2 a second: over 3 s; a token lasts 2.
    assert!(
        took > Duration::from_millis(2500),
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
    // The refused page is asked again with the new token (a page asked ahead on a guess
    // may take the one permit first).
    let again = after
        .iter()
        .find(|e| e["path"] == log[refused]["path"])
        .unwrap_or_else(|| panic!("the refused page was not asked again: {log:#?}"));
    assert_eq!(again["status"], 200, "{log:#?}");
    assert_ne!(bearer_of(again), Some(revoked.as_str()));
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

#[test]
fn an_environments_pace_holds_for_its_own_requests_only() {
    // `paced` (4 a second) is read; the plain URL written to is not held to its pace.
    let origin = seeded_server(ServerConfig::default(), 10, 0);
    let destination = TestServer::start(ServerConfig::default());
    let project = Project::new(&format!(
        "environments:\n  paced:\n    url: {}/api/team\n    rps: 4\n",
        origin.base_url()
    ));
    let run = project.run(&["paced:", &format!("{}/api", destination.base_url())], &[]);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    let puts = destination.arrivals("PUT");
    assert_eq!(puts.len(), 10);
    assert!(
        busiest(&puts, 1000) >= 8,
        "the destination's writes were paced by the origin's rps: {puts:?}"
    );
}

#[test]
fn a_django_service_is_copied_into_another_in_one_run_each_with_its_own_token() {
    require_django();
    // prod: OAuth2 client credentials with 2-second tokens; staging: its own bearer token.
    let prod = DjangoServer::start_oauth2(true, CLIENT_ID, CLIENT_SECRET, 2);
    let (staging_id, staging_secret) = ("staging-client", "staging-SECRET-77");
    let staging = DjangoServer::start_oauth2(false, staging_id, staging_secret, 3600);
    let staging_token = staging.access_token(staging_id, staging_secret);
    let project = Project::new(&format!(
        "api: drf.yaml\nenvironments:\n  prod:\n    url: {}/api\n    rps: 4\n    auth:\n      oauth2:\n        token_url: {}\n        client_id: {CLIENT_ID}\n        client_secret: {{env: PROD_CLIENT_SECRET}}\n  staging:\n    url: {}/api\n    auth: {{bearer: {{env: STAGING_TOKEN}}}}\n",
        prod.base_url(),
        prod.token_url(),
        staging.base_url()
    ));
    write_file(&project.join("drf.yaml"), DRF_PROFILE);
    let env = [
        ("PROD_CLIENT_SECRET", CLIENT_SECRET),
        ("STAGING_TOKEN", staging_token.as_str()),
    ];
    let (prod_before, staging_before) = (prod.request_log().len(), staging.request_log().len());
    let started = Instant::now();
    let run = project.run(&["--create", "post", "-l", "2", "prod:", "staging:"], &env);
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}\n{}", all_output(&run), staging.output());
    assert_eq!(summary(&run.stderr).created, 15, "{}", run.stderr);
    let bearer = format!("Bearer {staging_token}");
    for (path, count) in [("teams", 3), ("players", 6), ("stats", 6)] {
        let listed = staging.get_authorized(&format!("/api/{path}/?page_size=100"), &bearer);
        assert_eq!(listed.body["count"], count, "{path}: {}", listed.body);
    }
    // Each token only on its own server; prod's renewed as the run outlived them.
    let prod_log = prod.request_log()[prod_before..].to_vec();
    let prod_tokens = assert_api_requests_carried_accepted_tokens(&prod_log);
    assert!(
        prod_tokens.len() >= 2,
        "a {took:?} run used one 2-second token"
    );
    assert!(!prod_log
        .iter()
        .any(|e| e.to_string().contains(&staging_token)));
    let staging_api: Vec<Value> = staging.request_log()[staging_before..]
        .iter()
        .filter(|entry| !entry["path"].as_str().unwrap_or("/o/").starts_with("/o/"))
        .cloned()
        .collect();
    assert!(!staging_api.is_empty());
    for entry in &staging_api {
        assert_eq!(entry["authorization"], bearer.as_str(), "{entry}");
        let text = entry.to_string();
        assert!(prod_tokens
            .iter()
            .all(|token| !text.contains(token.as_str())));
    }
    assert_secret_only_to_the_token_url(&prod_log);
    assert_never_printed(&run, CLIENT_SECRET);
    assert_never_printed(&run, &staging_token);
}

#[test]
fn the_config_variable_alone_leaves_runs_without_environments_alone() {
    let project = Project::new("environments: [not, a, mapping]\n");
    write_file(
        &project.join("origin.yaml"),
        &yaml_documents(&crate::server::sample_dataset("http://localhost:1", 1, 1)),
    );
    let broken = project.join(PROJECT_FILE);
    let env = [(CONFIG_VARIABLE, path_str(&broken))];
    let run = project.run(&["origin.yaml", "out/"], &env);
    assert_eq!(run.code, 0, "{}", all_output(&run));
    assert_eq!(list_files(&project.join("out")).len(), 3);
    // `--config` asks for the file: then it is read, and refused.
    let run = project.run(
        &["--config", path_str(&broken), "origin.yaml", "more/"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", all_output(&run));
}
