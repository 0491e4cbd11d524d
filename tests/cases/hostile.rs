//! Hostile input (issue #5, SPEC sections 3, 4 and 5): names that would escape the
//! destination, YAML bombs, deep nesting, non-mappings, duplicate keys, huge documents,
//! invalid UTF-8, broken self links, link cycles, endless pages, secrets and redirects.
//! Each is a clear error (exit 2 for local input, 1 for a remote) that writes nothing.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::server::{seeded_server, RequestRecord, ServerConfig, TestServer};
use crate::util::*;

/// What `file_snapshot` returns: every file with its inode, mtime and content.
type Snapshot = Vec<(String, u64, i64, i64, String)>;

/// A destination folder that already holds one file, and its snapshot.
fn guarded_destination(dir: &Path) -> (PathBuf, Snapshot) {
    let out = dir.join("out");
    write_file(&out.join("team/1.yaml"), "---\nid: 1\n");
    let snapshot = file_snapshot(&out);
    (out, snapshot)
}

/// Runs `args` (ending in the guarded destination), expects exit 2 with an error that
/// contains each of `mentions`, and a destination left exactly as it was.
fn refused(args: &[&str], out: &Path, before: &Snapshot, mentions: &[&str]) -> Run {
    let run = run(args);
    assert_refused(&run, out, before, mentions);
    run
}

fn assert_refused(run: &Run, out: &Path, before: &Snapshot, mentions: &[&str]) {
    assert_eq!(
        run.code, 2,
        "expected exit 2\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert_no_panic(run);
    assert!(
        run.stderr.contains("error"),
        "no error message: {}",
        run.stderr
    );
    for mention in mentions {
        assert!(
            run.stderr.contains(mention),
            "the error does not mention {mention:?}: {}",
            run.stderr
        );
    }
    assert_eq!(file_snapshot(out), *before, "the destination was touched");
}

fn assert_no_panic(run: &Run) {
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
        "the binary panicked:\n{}",
        run.stderr
    );
}

/// A simple-schema resource with this type and id (the uri is harmless).
fn simple(kind: &str, id: &str) -> Value {
    json!({ "id": id, "type": kind, "uri": "/things/1", "name": "x" })
}

const UNSAFE_NAMES: &[&str] = &[
    "",
    ".",
    "..",
    "../escape",
    "a/b",
    "a\\b",
    "/tmp/absolute",
    "\\\\server\\share",
    "C:\\Windows",
    "a\u{0}b",
    "line\nbreak",
    "CON",
    "con",
    "nul",
    "Nul.txt",
    "PRN",
    "AUX",
    "COM1",
    "lpt9",
    "LPT9",
    "ends-with-dot.",
    "ends-with-space ",
    ".git",
    ".hidden",
    "exe\u{202E}txt.yaml",
    "a\u{2066}b",
];

/// Every unsafe name, as a type and as an id: exit 2 before any write.
fn unsafe_names_refused(as_type: bool) {
    let mut wrong = Vec::new();
    let long = ["x".repeat(201), "x".repeat(10_000)];
    for name in UNSAFE_NAMES
        .iter()
        .copied()
        .chain(long.iter().map(String::as_str))
    {
        let dir = temp_dir();
        let (out, before) = guarded_destination(dir.path());
        let origin = dir.path().join("origin.yaml");
        let hostile = if as_type {
            simple(name, "1")
        } else {
            simple("team", name)
        };
        // A harmless resource first, so "nothing written" means something.
        let harmless = json!({ "id": "7", "type": "team", "uri": "/team/7" });
        write_file(&origin, &yaml_documents(&[harmless, hostile]));
        let run = run(&["--simple", path_str(&origin), path_str(&out)]);
        let escaped = std::fs::read_dir(dir.path()).expect("readable").count() != 2;
        if run.code != 2
            || file_snapshot(&out) != before
            || escaped
            || run.stderr.contains("panicked")
        {
            wrong.push(format!(
                "{name:?}: exit {}, destination {:?}, {}",
                run.code,
                list_files(&out),
                run.stderr.trim()
            ));
        }
    }
    let what = if as_type { "type" } else { "id" };
    assert!(
        wrong.is_empty(),
        "unsafe {what}s not refused with exit 2 and an untouched destination:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn unsafe_types_are_refused_before_any_write() {
    unsafe_names_refused(true);
}

#[test]
fn unsafe_ids_are_refused_before_any_write() {
    unsafe_names_refused(false);
}

#[test]
fn names_that_only_look_unusual_are_written() {
    let dir = temp_dir();
    let out = dir.path().join("out");
    let origin = dir.path().join("origin.yaml");
    let resources: Vec<Value> = ["COM0", "console", "a.b", "ünïcode"]
        .iter()
        .enumerate()
        .map(|(n, name)| json!({ "id": name, "type": "t", "uri": format!("/t/{n}") }))
        .collect();
    write_file(&origin, &yaml_documents(&resources));
    run(&["--simple", path_str(&origin), path_str(&out)]).ok();
    assert_eq!(
        list_files(&out),
        [
            "t/COM0.yaml",
            "t/a.b.yaml",
            "t/console.yaml",
            "t/ünïcode.yaml"
        ]
    );
}

#[test]
fn a_server_sending_an_escaping_id_gets_nothing_written() {
    let server = seeded_server(ServerConfig::default(), 1, 2);
    server.insert(json!({
        "id": "../../../escape",
        "_links": { "self": { "href": server.url("/api/player/3") } },
    }));
    let dir = temp_dir();
    let (out, before) = guarded_destination(dir.path());
    refused(
        &[&server.url("/api/player"), path_str(&out)],
        &out,
        &before,
        &["../../../escape"],
    );
    let mut siblings: Vec<String> = std::fs::read_dir(dir.path())
        .expect("readable")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    siblings.sort();
    assert_eq!(
        siblings,
        ["out"],
        "something was written beside the destination"
    );
}

/// A YAML origin file holding `text`, refused with exit 2 naming the file and `mentions`.
fn refused_yaml(text: &[u8], mentions: &[&str]) -> Run {
    let dir = temp_dir();
    let (out, before) = guarded_destination(dir.path());
    let origin = dir.path().join("hostile.yaml");
    std::fs::write(&origin, text).expect("writing the origin");
    let origin_name = path_str(&origin).to_string();
    let mut all = vec![origin_name.as_str()];
    all.extend(mentions);
    refused(&[path_str(&origin), path_str(&out)], &out, &before, &all)
}

const VALID_DOC: &str =
    "---\nid: 1\n_links:\n    self:\n        href: http://localhost:1/api/team/1\n";

#[test]
fn a_billion_laughs_alias_bomb_is_refused() {
    let mut text = String::from(VALID_DOC);
    text.push_str("---\nid: 2\n_links: {self: {href: 'http://localhost:1/api/team/2'}}\n");
    text.push_str("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (level, previous) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        let refs = vec![format!("*{previous}"); 9].join(", ");
        text.push_str(&format!("{level}: &{level} [{refs}]\n"));
    }
    let run = refused_yaml(text.as_bytes(), &["document 2"]);
    assert!(
        run.stderr.contains("alias") || run.stderr.contains("unsafe"),
        "{}",
        run.stderr
    );
}

fn nested(depth: usize) -> String {
    format!(
        "---\nid: 2\n_links: {{self: {{href: 'http://localhost:1/api/team/2'}}}}\nx: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

#[test]
fn nesting_deeper_than_128_is_refused() {
    let text = format!("{VALID_DOC}{}", nested(130));
    let run = refused_yaml(text.as_bytes(), &["document 2"]);
    assert!(run.stderr.contains("nest"), "{}", run.stderr);
}

#[test]
fn nesting_at_the_limit_is_read() {
    let dir = temp_dir();
    let origin = dir.path().join("deep.yaml");
    // The value is one level under the document's mapping: 127 more stay within 128.
    write_file(&origin, &nested(127));
    run(&[path_str(&origin), "null"]).ok();
}

#[test]
fn very_deep_nesting_cannot_overflow_the_stack() {
    let text = format!("{VALID_DOC}{}", nested(200_000));
    refused_yaml(text.as_bytes(), &["document 2"]);
}

#[test]
fn very_deep_json_cannot_overflow_the_stack() {
    let deep = format!(
        "{{\"id\": 1, \"_links\": {{\"self\": {{\"href\": \"http://localhost:1/api/t/1\"}}}}, \"x\": {}{}}}",
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    let dir = temp_dir();
    let (out, before) = guarded_destination(dir.path());
    for (name, text) in [
        ("deep.json", format!("[{deep}]")),
        ("deep.jsonl", format!("{deep}\n")),
    ] {
        let origin = dir.path().join(name);
        write_file(&origin, &text);
        refused(
            &[path_str(&origin), path_str(&out)],
            &out,
            &before,
            &[path_str(&origin)],
        );
    }
    let run = run_with_stdin_bytes(&["-", path_str(&out)], deep.into_bytes());
    assert_refused(&run, &out, &before, &[]);
}

#[test]
fn documents_that_are_not_mappings_are_refused_with_their_number() {
    for document in [
        "--- [1, 2]\n",
        "--- 42\n",
        "--- just text\n",
        "--- [{id: 1}]\n",
    ] {
        let text = format!("{VALID_DOC}{document}");
        refused_yaml(text.as_bytes(), &["document 2"]);
    }
}

#[test]
fn json_values_that_are_not_mappings_are_refused() {
    let dir = temp_dir();
    let (out, before) = guarded_destination(dir.path());
    for (name, text) in [
        ("list.json", "[[1, 2]]"),
        ("scalar.json", "42"),
        ("strings.json", "[\"a\", \"b\"]"),
        ("lines.jsonl", "\"text\"\n"),
    ] {
        let origin = dir.path().join(name);
        write_file(&origin, text);
        refused(
            &[path_str(&origin), path_str(&out)],
            &out,
            &before,
            &[path_str(&origin)],
        );
    }
}

#[test]
fn duplicate_keys_are_refused() {
    let text = format!("{VALID_DOC}---\nid: 2\nname: a\nname: b\n_links: {{self: {{href: 'http://localhost:1/api/team/2'}}}}\n");
    let run = refused_yaml(text.as_bytes(), &["document 2"]);
    assert!(
        run.stderr.contains("name"),
        "the key is not named: {}",
        run.stderr
    );
}

#[test]
fn duplicate_keys_in_json_are_refused() {
    let dir = temp_dir();
    let (out, before) = guarded_destination(dir.path());
    let origin = dir.path().join("dup.json");
    write_file(
        &origin,
        "[{\"id\": 2, \"name\": \"a\", \"name\": \"b\", \"_links\": {\"self\": {\"href\": \"http://localhost:1/api/team/2\"}}}]",
    );
    refused(
        &[path_str(&origin), path_str(&out)],
        &out,
        &before,
        &[path_str(&origin)],
    );
}

#[test]
fn a_100_mb_document_ends_with_a_clear_answer() {
    let dir = temp_dir();
    let (out, before) = guarded_destination(dir.path());
    let origin = dir.path().join("huge.yaml");
    {
        use std::io::Write;
        let file = std::fs::File::create(&origin).expect("creating the origin");
        let mut writer = std::io::BufWriter::new(file);
        writer
            .write_all(
                b"---\nid: 2\n_links: {self: {href: 'http://localhost:1/api/team/2'}}\nblob: ",
            )
            .expect("write");
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            writer.write_all(&chunk).expect("write");
        }
        writer.write_all(b"\n").expect("write");
    }
    let run = run(&[path_str(&origin), path_str(&out)]);
    assert_no_panic(&run);
    match run.code {
        // Refused as unsafe input: a clear error naming the file, nothing written.
        2 => assert_refused(&run, &out, &before, &[path_str(&origin)]),
        // Or read: then it is written like any resource.
        0 => assert!(out.join("team/2.yaml").exists(), "{}", run.stderr),
        code => panic!("exit {code}\n{}", run.stderr),
    }
}

#[test]
fn invalid_utf8_is_refused_naming_the_file() {
    let mut text = VALID_DOC.as_bytes().to_vec();
    text.extend_from_slice(b"---\nid: 2\nname: \xff\xfe bad\n");
    let run = refused_yaml(&text, &[]);
    assert!(run.stderr.contains("UTF-8"), "{}", run.stderr);

    let dir = temp_dir();
    let (out, before) = guarded_destination(dir.path());
    let origin = dir.path().join("bad.json");
    std::fs::write(&origin, b"[{\"id\": 1, \"name\": \"\xc3\x28\"}]").expect("write");
    refused(
        &[path_str(&origin), path_str(&out)],
        &out,
        &before,
        &[path_str(&origin)],
    );
}

#[test]
fn invalid_utf8_on_stdin_is_refused() {
    let dir = temp_dir();
    let (out, before) = guarded_destination(dir.path());
    let run = run_with_stdin_bytes(&["-", path_str(&out)], b"---\nid: 1\nname: \xff\n".to_vec());
    assert_refused(&run, &out, &before, &[]);
}

#[test]
fn a_hal_self_link_that_is_missing_or_not_a_string_is_refused() {
    let broken = [
        json!({ "id": 2 }),
        json!({ "id": 2, "_links": {} }),
        json!({ "id": 2, "_links": { "self": { "href": 42 } } }),
        json!({ "id": 2, "_links": { "self": { "href": null } } }),
        json!({ "id": 2, "_links": { "self": "http://localhost:1/api/team/2" } }),
        json!({ "id": 2, "_links": { "self": [{ "href": 42 }] } }),
        json!({ "id": 2, "_links": { "self": {} } }),
        json!({ "id": 2, "_links": "self" }),
        json!({ "id": 2, "_links": { "self": { "href": "" } } }),
    ];
    let mut wrong = Vec::new();
    for document in broken {
        let dir = temp_dir();
        let (out, before) = guarded_destination(dir.path());
        let origin = dir.path().join("broken.yaml");
        let valid =
            json!({ "id": 1, "_links": { "self": { "href": "http://localhost:1/api/team/1" } } });
        write_file(&origin, &yaml_documents(&[valid, document.clone()]));
        let run = run(&[path_str(&origin), path_str(&out)]);
        let ok = run.code == 2
            && run.stderr.contains(path_str(&origin))
            && run.stderr.contains("document 2")
            && !run.stderr.contains("panicked")
            && file_snapshot(&out) == before;
        if !ok {
            wrong.push(format!(
                "{document}: exit {}: {}",
                run.code,
                run.stderr.trim()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "not refused cleanly:\n{}",
        wrong.join("\n")
    );
}

fn node(server: &TestServer, id: u64, links: &[(&str, String)]) -> Value {
    let mut all = serde_json::Map::new();
    all.insert(
        "self".into(),
        json!({ "href": server.url(&format!("/api/node/{id}")) }),
    );
    for (rel, href) in links {
        all.insert((*rel).to_string(), json!({ "href": href }));
    }
    json!({ "id": id, "_links": all })
}

fn gets(server: &TestServer) -> Vec<RequestRecord> {
    server
        .requests()
        .into_iter()
        .filter(|request| request.method == "GET")
        .collect()
}

#[test]
fn link_cycles_are_followed_once_per_uri() {
    let server = TestServer::start(ServerConfig::default());
    let base = server.base_url();
    // 1 -> 2 -> 3 -> 1, with spellings of one URL that the SPEC says are equal.
    server.insert(node(
        &server,
        1,
        &[
            ("related", format!("{base}/api/node/2?b=2&a=1")),
            (
                "alternate",
                format!("HTTP://127.0.0.1:{}/api/node/1", server.port()),
            ),
        ],
    ));
    server.insert(node(
        &server,
        2,
        &[
            ("related", server.url("/api/node/3")),
            ("again", format!("{base}/api/node/2?a=1&b=2")),
        ],
    ));
    server.insert(node(
        &server,
        3,
        &[
            ("related", server.url("/api/node/1")),
            ("child:node", server.url("/api/node/2?a=1&b=2")),
        ],
    ));
    let dir = temp_dir();
    let out = dir.path().join("out");
    let child = spawn_command(command(&["-a", &server.url("/api/node/1"), path_str(&out)]));
    let run = wait_for(child, std::time::Duration::from_secs(20)).ok();
    assert_eq!(
        list_files(&out),
        ["node/1.yaml", "node/2.yaml", "node/3.yaml"]
    );
    let paths: Vec<String> = gets(&server)
        .into_iter()
        .map(|r| r.path_and_query)
        .collect();
    assert_all_distinct(&paths, "a URL fetched");
    let fetched_2: Vec<&String> = paths
        .iter()
        .filter(|p| p.starts_with("/api/node/2"))
        .collect();
    assert_eq!(
        fetched_2.len(),
        1,
        "one spelling of node 2 fetched: {paths:?}"
    );
    assert_eq!(
        paths.iter().filter(|p| p.as_str() == "/api/node/1").count(),
        1,
        "{paths:?}\n{}",
        run.stderr
    );
}

#[test]
fn a_parent_cycle_read_over_http_is_refused_naming_its_members() {
    let server = TestServer::start(ServerConfig::default());
    server.insert(node(
        &server,
        1,
        &[("parent:node", server.url("/api/node/2"))],
    ));
    server.insert(node(
        &server,
        2,
        &[("parent:node", server.url("/api/node/3"))],
    ));
    server.insert(node(
        &server,
        3,
        &[("parent:node", server.url("/api/node/1"))],
    ));
    server.insert(node(&server, 4, &[]));
    let dir = temp_dir();
    let (out, before) = guarded_destination(dir.path());
    let run = refused(
        &["-a", &server.url("/api/node"), path_str(&out)],
        &out,
        &before,
        &["cycle"],
    );
    for id in 1..=3 {
        assert!(
            run.stderr.contains(&format!("/api/node/{id}")),
            "node {id} not named: {}",
            run.stderr
        );
    }
    assert!(
        !run.stderr.contains("/api/node/4"),
        "node 4 is not in the cycle: {}",
        run.stderr
    );
}

fn endless_server() -> TestServer {
    TestServer::start(ServerConfig {
        endless_pages: true,
        record_requests: true,
        ..ServerConfig::default()
    })
}

#[test]
fn an_endless_next_chain_stops_at_max_pages() {
    let server = endless_server();
    let dir = temp_dir();
    let (out, before) = guarded_destination(dir.path());
    let start = server.url("/endless");
    let child = spawn_command(command(&["--max-pages", "50", &start, path_str(&out)]));
    let run = wait_for(child, std::time::Duration::from_secs(30)).expect_code(1);
    assert!(
        run.stderr.contains(&start),
        "the URL is not named: {}",
        run.stderr
    );
    let fetched = server.count("GET");
    assert!(
        (50..=60).contains(&fetched),
        "{fetched} pages fetched with --max-pages 50"
    );
    assert_eq!(file_snapshot(&out), before, "the destination was touched");
}

#[test]
fn an_endless_next_chain_stops_at_the_default_limit() {
    let server = endless_server();
    let start = server.url("/endless");
    let child = spawn_command(command(&["-q", &start, "null"]));
    let run = wait_for(child, std::time::Duration::from_secs(120)).expect_code(1);
    assert_no_panic(&run);
    assert!(
        run.stderr.contains(&start),
        "the URL is not named: {}",
        run.stderr
    );
    let fetched = server.count("GET");
    assert!(
        (10_000..=10_010).contains(&fetched),
        "{fetched} pages fetched with the default --max-pages"
    );
}

// Secrets (SPEC section 5): never in any output, `--verbose` included.

fn all_output(run: &Run) -> String {
    format!("{}{}", run.stdout, run.stderr)
}

#[test]
fn an_authorization_header_given_with_h_is_never_printed() {
    let secret = "hdr-SECRET-8812";
    let header = format!("Authorization: Bearer {secret}");
    let server = seeded_server(ServerConfig::default(), 1, 2);
    let dir = temp_dir();
    let out = dir.path().join("out");
    let good = run(&[
        "-v",
        "-H",
        &header,
        &server.url("/api/player"),
        path_str(&out),
    ])
    .ok();
    assert_never_printed(&good, secret);
    server.fail_path("/api/team", 500);
    let bad = run(&[
        "-v",
        "-H",
        &header,
        &server.url("/api/team"),
        path_str(&out),
    ])
    .expect_code(1);
    assert_never_printed(&bad, secret);
    assert!(bad.stderr.contains("500"), "{}", all_output(&bad));
    let sent = server
        .requests()
        .iter()
        .all(|r| r.header("authorization") == Some(&format!("Bearer {secret}")));
    assert!(sent, "the header was not sent on every request");
}

#[test]
fn other_secret_headers_are_never_printed() {
    let secret = "apikey-SECRET-3";
    let server = seeded_server(ServerConfig::default(), 1, 2);
    server.fail_next(1, 503);
    server.fail_path("/api/nothing", 401);
    let run = run(&[
        "-v",
        "-H",
        &format!("X-Api-Key: {secret}"),
        "-H",
        &format!("Cookie: session={secret}"),
        &server.url("/api/nothing"),
        "null",
    ])
    .expect_code(1);
    assert_never_printed(&run, secret);
}

#[test]
fn a_password_in_a_destination_url_is_never_printed_when_writes_fail() {
    let secret = "destPASS-SECRET-9";
    let server = TestServer::start(ServerConfig::default());
    let dir = temp_dir();
    let origin = dir.path().join("origin.yaml");
    let resources = crate::server::sample_dataset("http://localhost:1", 1, 2);
    write_file(&origin, &yaml_documents(&resources));
    server.fail_path("/api/player/1", 409);
    let destination = format!("http://ana:{secret}@127.0.0.1:{}/api", server.port());
    let run = run(&["-v", path_str(&origin), &destination]).expect_code(1);
    assert_never_printed(&run, secret);
    assert!(
        failure_lines(&run.stderr)
            .iter()
            .any(|line| line.contains("/api/player/1")),
        "the failure is still reported: {}",
        run.stderr
    );
}

#[test]
fn a_password_is_never_printed_when_the_connection_fails() {
    let secret = "connPASS-SECRET-4";
    let port = free_port();
    let start = format!("http://ana:{secret}@127.0.0.1:{port}/api/team");
    let mut command = command(&["-v", "-m", "2", &start, "null"]);
    command.env("RESOURCE_SYNC_PASSWORD", "envPASS-SECRET-6");
    let run = run_command(command).expect_code(1);
    assert_never_printed(&run, secret);
    assert_never_printed(&run, "envPASS-SECRET-6");
    assert!(
        run.stderr.contains(&format!("127.0.0.1:{port}")),
        "the URL is still named: {}",
        run.stderr
    );

    // Basic auth from --username and the environment, against a failing push.
    let server = TestServer::start(ServerConfig::default());
    server.fail_path("/api/team/1", 403);
    let dir = temp_dir();
    let origin = dir.path().join("origin.yaml");
    write_file(
        &origin,
        &yaml_documents(&crate::server::sample_dataset("http://localhost:1", 1, 1)),
    );
    let mut command = crate::util::command(&[
        "-v",
        "--username",
        "ana",
        path_str(&origin),
        &server.url("/api"),
    ]);
    command.env("RESOURCE_SYNC_PASSWORD", secret);
    let run = run_command(command).expect_code(1);
    assert_never_printed(&run, secret);
    assert!(run.stderr.contains("403"), "{}", run.stderr);
}

#[test]
fn a_token_is_never_printed_when_writes_fail() {
    let secret = "tok-SECRET-2207";
    let server = TestServer::start(ServerConfig::default());
    server.fail_path("/api/team/1", 400);
    let dir = temp_dir();
    let origin = dir.path().join("origin.yaml");
    write_file(
        &origin,
        &yaml_documents(&crate::server::sample_dataset("http://localhost:1", 1, 1)),
    );
    let mut command = command(&["-v", path_str(&origin), &server.url("/api")]);
    command.env("RESOURCE_SYNC_TOKEN", secret);
    let run = run_command(command).expect_code(1);
    assert_never_printed(&run, secret);
}

// Redirects (SPEC section 3): off-origin ones drop Authorization and `-H` headers.

fn secret_headers(request: &RequestRecord) -> (Option<&str>, Option<&str>) {
    (request.header("authorization"), request.header("x-api-key"))
}

fn pull_through_redirect(status: u16, same_origin: bool) -> (TestServer, TestServer, Run) {
    let first = TestServer::start(ServerConfig::default());
    let second = seeded_server(ServerConfig::default(), 1, 3);
    let target = if same_origin {
        for resource in crate::server::sample_dataset(&first.base_url(), 1, 3) {
            first.insert(resource);
        }
        first.url("/api/player")
    } else {
        second.url("/api/player")
    };
    first.redirect("/old/player", status, &target);
    // One page: the only request to the second server is the redirected one.
    let mut command = command(&[
        "-H",
        "X-Api-Key: key-SECRET",
        &first.url("/old/player"),
        "-",
    ]);
    command.env("RESOURCE_SYNC_TOKEN", "tok-SECRET");
    let run = run_command(command).ok();
    (first, second, run)
}

#[test]
fn a_redirect_to_another_host_drops_authorization_and_extra_headers() {
    for status in [302, 307] {
        let (first, second, run) = pull_through_redirect(status, false);
        assert_eq!(summary(&run.stderr).read, 3, "{}", run.stderr);
        let asked = first.requests();
        assert_eq!(asked.len(), 1, "{asked:#?}");
        assert_eq!(asked[0].status, status);
        assert_eq!(
            secret_headers(&asked[0]),
            (Some("Bearer tok-SECRET"), Some("key-SECRET")),
            "the origin itself gets the credentials"
        );
        let followed = second.requests();
        assert!(!followed.is_empty(), "the redirect was not followed");
        for request in &followed {
            assert_eq!(
                secret_headers(request),
                (None, None),
                "{status} to another host carried credentials to {}",
                request.path_and_query
            );
        }
    }
}

#[test]
fn a_same_origin_redirect_keeps_authorization_and_extra_headers() {
    for status in [302, 307] {
        let (first, second, run) = pull_through_redirect(status, true);
        assert_eq!(summary(&run.stderr).read, 3, "{}", run.stderr);
        assert!(second.requests().is_empty());
        let requests = first.requests();
        assert!(requests.len() >= 2, "{requests:#?}");
        for request in &requests {
            assert_eq!(
                secret_headers(request),
                (Some("Bearer tok-SECRET"), Some("key-SECRET")),
                "{} lost the credentials",
                request.path_and_query
            );
        }
    }
}

#[test]
fn a_write_redirected_to_another_host_drops_authorization() {
    let first = TestServer::start(ServerConfig::default());
    let second = TestServer::start(ServerConfig::default());
    first.redirect("/api/team/1", 307, &second.url("/api/team/1"));
    let dir = temp_dir();
    let origin = dir.path().join("origin.yaml");
    write_file(
        &origin,
        &yaml_documents(&crate::server::sample_dataset("http://localhost:1", 1, 0)),
    );
    let mut command = command(&[
        "-H",
        "X-Api-Key: key-SECRET",
        path_str(&origin),
        &first.url("/api"),
    ]);
    command.env("RESOURCE_SYNC_TOKEN", "tok-SECRET");
    run_command(command).ok();
    let puts: Vec<RequestRecord> = second
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 1, "the 307 was not followed with a PUT");
    assert_eq!(secret_headers(&puts[0]), (None, None));
    assert!(second.get("/api/team/1").is_some());
}

/// Saved hostile inputs (seeds, and any input that once made a fuzz target fail), fed to
/// the binary: a clean answer (exit 0 or 2, no panic) for each. See `fuzz/regressions/`.
#[test]
fn fuzz_regressions_end_cleanly() {
    let root = manifest_path("fuzz/regressions");
    let targets = std::fs::read_dir(&root).expect("fuzz/regressions is part of the repository");
    let mut replayed = 0;
    for target in targets {
        let target = target.expect("entry").path();
        let Ok(inputs) = std::fs::read_dir(&target) else {
            continue;
        };
        for input in inputs {
            let input = input.expect("entry").path();
            let dir = temp_dir();
            let is_json = target.to_string_lossy().contains("json");
            let origin = dir
                .path()
                .join(if is_json { "input.jsonl" } else { "input.yaml" });
            std::fs::copy(&input, &origin).expect("copying the input");
            replayed += 1;
            let run = run(&[path_str(&origin), "null"]);
            assert!(
                matches!(run.code, 0 | 2) && !run.stderr.contains("panicked"),
                "{}: exit {}\n{}",
                input.display(),
                run.code,
                run.stderr
            );
        }
    }
    assert!(
        replayed >= 8,
        "only {replayed} saved inputs under {}",
        root.display()
    );
}
