//! Progress and summary on stderr (SPEC sections 1 and 5): a bar only when stderr is a
//! terminal (run under util-linux `script` for a pseudo-terminal), clean pipes, `--quiet`.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::server::{sample_dataset, ServerConfig, TestServer};
use crate::util::*;

/// 10 teams, 150 players, 150 stats: enough reading and writing for a bar to be drawn.
const TEAMS: usize = 10;
const PLAYERS_PER_TEAM: usize = 15;
const TOTAL: usize = TEAMS + 2 * TEAMS * PLAYERS_PER_TEAM;

fn seeded_server() -> TestServer {
    let server = TestServer::start(ServerConfig::default());
    for resource in sample_dataset(&server.base_url(), TEAMS, PLAYERS_PER_TEAM) {
        server.insert(resource);
    }
    server
}

/// The terminal tests run the binary under util-linux `script`; without it they fail
/// naming the install command, never passing untested.
fn require_script() {
    let found = Command::new("which")
        .arg("script")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        found,
        "util-linux `script` is needed for the terminal tests: install it (apt-get install util-linux)"
    );
}

/// Single-quoted for `sh -c`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs the binary with `args` under `script`, so its stdout and stderr are a pseudo-terminal;
/// returns everything written to that terminal.
fn run_on_a_terminal(args: &[&str]) -> Run {
    let mut line = shell_quote(env!("CARGO_BIN_EXE_resource-sync"));
    for arg in args {
        line.push(' ');
        line.push_str(&shell_quote(arg));
    }
    let mut command = Command::new("script");
    command
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("RESOURCE_SYNC_TOKEN")
        .env_remove("RESOURCE_SYNC_PASSWORD")
        .stdin(Stdio::null());
    run_command(command)
}

/// Terminal output as plain lines: ANSI escape sequences removed, `\r` treated as a line break.
fn plain_lines(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                // CSI: ESC [ params final-byte; other escapes: ESC + one character.
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for next in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&next) {
                            break;
                        }
                    }
                } else {
                    chars.next();
                }
            }
            '\r' => out.push('\n'),
            other => out.push(other),
        }
    }
    out
}

fn pull(server: &TestServer, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend([
        "-c".to_string(),
        server.url("/api"),
        path_str(out).to_string(),
    ]);
    args
}

#[test]
fn a_progress_bar_is_drawn_when_stderr_is_a_terminal() {
    require_script();
    let server = seeded_server();
    let dir = temp_dir();
    let out = dir.path().join("out");
    let args = pull(&server, &out, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_on_a_terminal(&args);
    assert_eq!(run.code, 0, "output:\n{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("writing [") || run.stdout.contains("reading"),
        "no progress bar on the terminal:\n{:?}",
        run.stdout
    );
    // Rates are whole numbers (`2946/s`), never `2,946.1458/s`.
    let fractional_rate = run.stdout.split("/s").any(|before| {
        let digits: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
            .collect();
        digits.contains('.') || digits.contains(',')
    });
    assert!(!fractional_rate, "{:?}", run.stdout);
    let summary = summary(&plain_lines(&run.stdout));
    assert_eq!(
        (summary.read, summary.created),
        (TOTAL, TOTAL),
        "{:?}",
        run.stdout
    );
    assert_eq!(list_files(&out).len(), TOTAL);
}

#[test]
fn quiet_draws_nothing_even_on_a_terminal() {
    require_script();
    let server = seeded_server();
    let dir = temp_dir();
    let out = dir.path().join("out");
    let args = pull(&server, &out, &["-q"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_on_a_terminal(&args);
    assert_eq!(run.code, 0, "output:\n{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "", "-q printed on the terminal");
    assert_eq!(list_files(&out).len(), TOTAL);
}

#[test]
fn a_piped_stderr_gets_only_the_summary_line() {
    let server = seeded_server();
    let dir = temp_dir();
    let out = dir.path().join("out");
    let args = pull(&server, &out, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run(&args).ok();
    assert!(!run.stderr.contains('\r'), "{:?}", run.stderr);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    assert!(!run.stderr.contains("writing"), "{:?}", run.stderr);
    assert!(!run.stderr.contains("reading"), "{:?}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "more than the summary: {:?}", run.stderr);
    assert!(
        lines[0].starts_with("read "),
        "not the summary line: {:?}",
        lines[0]
    );
    let summary = summary(&run.stderr);
    assert_eq!(
        (summary.read, summary.created),
        (TOTAL, TOTAL),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "", "a directory pull prints nothing on stdout");
    assert_eq!(list_files(&out).len(), TOTAL);
}

#[test]
fn quiet_leaves_a_piped_stderr_empty() {
    let server = seeded_server();
    let dir = temp_dir();
    let out = dir.path().join("out");
    for flag in ["-q", "--quiet"] {
        let args = pull(&server, &out, &[flag]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = run(&args).ok();
        assert_eq!(run.stderr, "", "{flag}");
        assert_eq!(run.stdout, "", "{flag}");
        assert_eq!(list_files(&out).len(), TOTAL, "{flag}");
    }
}

#[test]
fn quiet_still_reports_errors() {
    let server = seeded_server();
    server.fail_path("/api", 500);
    let dir = temp_dir();
    let out = dir.path().join("out");
    let args = pull(&server, &out, &["-q"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("500"), "{:?}", run.stderr);
    assert!(!out.exists());
}
