//! HTTPS (issue #5): certificates are verified by default; `--insecure` turns that off
//! with a warning; `--ca-cert FILE` trusts a private CA; a bad `--ca-cert` is a usage error.

use crate::server::{sample_dataset, ServerConfig, TestServer};
use crate::util::*;

/// An HTTPS server with a self-signed certificate holding 1 team and 2 players (and their
/// stats), and that certificate in PEM.
fn tls_server() -> (TestServer, String) {
    let (server, pem) = TestServer::start_tls(ServerConfig::default());
    for resource in sample_dataset(&server.base_url(), 1, 2) {
        server.insert(resource);
    }
    (server, pem)
}

#[test]
fn a_self_signed_certificate_is_refused_by_default() {
    let (server, _) = tls_server();
    assert!(server.base_url().starts_with("https://"));
    let dir = temp_dir();
    let out = dir.path().join("out");
    let start = server.url("/api/player");
    let run = run(&["-m", "1", &start, path_str(&out)]).expect_code(1);
    assert!(
        run.stderr.to_lowercase().contains("certificate"),
        "the error does not mention the certificate: {}",
        run.stderr
    );
    assert!(run.stderr.contains(&start), "{}", run.stderr);
    assert!(!out.exists(), "something was written");
    assert!(server.requests().is_empty(), "a request got through");
}

#[test]
fn insecure_skips_verification_with_a_warning() {
    let (server, _) = tls_server();
    let dir = temp_dir();
    let out = dir.path().join("out");
    let run = run(&["--insecure", &server.url("/api/player"), path_str(&out)]).ok();
    assert_eq!(list_files(&out), ["player/1.yaml", "player/2.yaml"]);
    let warning = run
        .stderr
        .lines()
        .find(|line| line.contains("--insecure") || line.to_lowercase().contains("insecure"))
        .unwrap_or_else(|| panic!("no warning about --insecure: {}", run.stderr));
    assert!(warning.contains("warning"), "{warning}");
}

#[test]
fn ca_cert_trusts_the_server_without_insecure() {
    let (server, pem) = tls_server();
    let dir = temp_dir();
    let ca = dir.path().join("ca.pem");
    write_file(&ca, &pem);
    let out = dir.path().join("out");
    let run = run(&[
        "--ca-cert",
        path_str(&ca),
        "-c",
        &server.url("/api"),
        path_str(&out),
    ])
    .ok();
    assert_eq!(summary(&run.stderr).read, 5, "{}", run.stderr);
    assert!(
        !run.stderr.to_lowercase().contains("insecure"),
        "{}",
        run.stderr
    );
    // The name in the certificate matters, not only the address: localhost is in it too.
    let by_name = server
        .url("/api/team")
        .replace("https://127.0.0.1:", "https://localhost:");
    run_with_stdin(&["--ca-cert", path_str(&ca), &by_name, "null"], "").ok();
}

#[test]
fn push_over_https_with_ca_cert() {
    let (server, pem) = TestServer::start_tls(ServerConfig::default());
    let dir = temp_dir();
    let ca = dir.path().join("ca.pem");
    write_file(&ca, &pem);
    let origin = dir.path().join("origin.yaml");
    let data = sample_dataset("http://localhost:1", 1, 2);
    write_file(&origin, &yaml_documents(&data));
    let run = run(&[
        "--ca-cert",
        path_str(&ca),
        path_str(&origin),
        &server.url("/api"),
    ])
    .ok();
    assert_eq!(summary(&run.stderr).created, 5, "{}", run.stderr);
    assert_eq!(server.resources().len(), 5);
}

#[test]
fn a_ca_cert_for_another_server_does_not_help() {
    let (server, _) = tls_server();
    let (_other, other_pem) = TestServer::start_tls(ServerConfig::default());
    let dir = temp_dir();
    let ca = dir.path().join("other.pem");
    write_file(&ca, &other_pem);
    let run = run(&[
        "-m",
        "1",
        "--ca-cert",
        path_str(&ca),
        &server.url("/api/player"),
        "null",
    ])
    .expect_code(1);
    assert!(
        run.stderr.to_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_ca_cert_file_is_a_usage_error_naming_it() {
    let (server, _) = tls_server();
    let dir = temp_dir();
    let missing = dir.path().join("no-such-ca.pem");
    let run = run(&[
        "--ca-cert",
        path_str(&missing),
        &server.url("/api/player"),
        "null",
    ])
    .expect_code(2);
    assert!(run.stderr.contains(path_str(&missing)), "{}", run.stderr);
    assert!(server.requests().is_empty());
}

#[test]
fn a_garbage_ca_cert_file_is_a_usage_error_naming_it() {
    let (server, _) = tls_server();
    let dir = temp_dir();
    let mut wrong = Vec::new();
    for (name, content) in [
        ("garbage.pem", "this is not a certificate\n"),
        ("empty.pem", ""),
        (
            "broken.pem",
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
        ),
    ] {
        let file = dir.path().join(name);
        write_file(&file, content);
        let run = run(&[
            "--ca-cert",
            path_str(&file),
            &server.url("/api/player"),
            "null",
        ]);
        if run.code != 2 || !run.stderr.contains(path_str(&file)) {
            wrong.push(format!("{name}: exit {}: {}", run.code, run.stderr.trim()));
        }
    }
    assert!(
        wrong.is_empty(),
        "bad --ca-cert files not refused with exit 2 naming the file:\n{}",
        wrong.join("\n")
    );
    assert!(server.requests().is_empty());
}
