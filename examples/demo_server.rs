//! Demo HAL API for trying resource-sync by hand (three teams, twelve players, twelve stats),
//! and the benchmark's server (`--teams`, `--players-per-team`, `--latency-ms`, `--no-log`).
//! `--plain` serves the same league as a plain-JSON API (Django REST framework-style pages,
//! nested players) for trying `--api` profiles; `--latency-ms` applies to it too.

#[path = "../tests/server/mod.rs"]
mod server;

use std::process::ExitCode;

use server::plain::{Envelope, Pagination, PlainConfig, PlainServer};
use server::{sample_dataset, ServerConfig, TestServer};

const USAGE: &str = "usage: demo_server [--port PORT] [--assign-ids] [--empty] [--teams N] \
[--players-per-team N] [--latency-ms MS] [--max-page-size N] [--media-type TYPE] [--no-log] [--plain]";

struct Options {
    help: bool,
    port: u16,
    assign_ids: bool,
    empty: bool,
    teams: usize,
    players_per_team: usize,
    latency_ms: u64,
    max_page_size: usize,
    keep_log: bool,
    media_type: Option<String>,
    plain: bool,
}

fn number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("invalid {flag}: {value}"))
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        help: false,
        port: 8080,
        assign_ids: false,
        empty: false,
        teams: 3,
        players_per_team: 4,
        latency_ms: 0,
        max_page_size: 1000,
        keep_log: true,
        media_type: None,
        plain: false,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => options.port = number(&arg, args.next())?,
            "--teams" => options.teams = number(&arg, args.next())?,
            "--players-per-team" => options.players_per_team = number(&arg, args.next())?,
            "--latency-ms" => options.latency_ms = number(&arg, args.next())?,
            "--max-page-size" => options.max_page_size = number(&arg, args.next())?,
            // microcosm-resourcesync only accepts an exact `application/json`.
            "--media-type" => {
                options.media_type = Some(args.next().ok_or("--media-type needs a value")?)
            }
            // The benchmark's runs would otherwise keep every request in memory.
            "--no-log" => options.keep_log = false,
            "--assign-ids" => options.assign_ids = true,
            "--empty" => options.empty = true,
            "--plain" => options.plain = true,
            "-h" | "--help" => options.help = true,
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if options.plain {
        return serve_plain(&options);
    }
    let latency = std::time::Duration::from_millis(options.latency_ms);
    let config = ServerConfig {
        assign_ids: options.assign_ids,
        latency: (options.latency_ms > 0).then_some((latency, latency)),
        max_page_size: options.max_page_size,
        record_requests: options.keep_log,
        ..ServerConfig::default()
    };
    let config = match options.media_type {
        Some(media_type) => ServerConfig {
            media_type,
            ..config
        },
        None => config,
    };
    let server = match TestServer::try_start_on(config, options.port) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {error}", options.port);
            return ExitCode::FAILURE;
        }
    };
    if !options.empty {
        for resource in sample_dataset(&server.base_url(), options.teams, options.players_per_team)
        {
            server.insert(resource);
        }
    }
    println!(
        "demo server listening on {} (Ctrl-C to stop)",
        server.url("/api")
    );
    let waited = wait_for_ctrl_c();
    server.stop();
    exit_after(waited)
}

/// `--plain`: the league as a plain-JSON API with `{"count", "next", "results"}` pages.
fn serve_plain(options: &Options) -> ExitCode {
    let mut config = PlainConfig::new(
        Envelope::Results,
        Pagination::BodyNext { object_href: false },
    );
    config.size_param = Some("page_size".to_string());
    config.latency =
        (options.latency_ms > 0).then(|| std::time::Duration::from_millis(options.latency_ms));
    if !options.empty {
        config = config.seeded(options.teams, options.players_per_team);
    }
    let server = PlainServer::start_on(config, options.port);
    println!(
        "demo plain-JSON API listening on {} (Ctrl-C to stop)",
        server.url("/api")
    );
    let waited = wait_for_ctrl_c();
    drop(server);
    exit_after(waited)
}

/// The server runs on its own runtime; this small one only waits for Ctrl-C.
fn wait_for_ctrl_c() -> std::io::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|runtime| runtime.block_on(tokio::signal::ctrl_c()))
}

fn exit_after(waited: std::io::Result<()>) -> ExitCode {
    match waited {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cannot wait for Ctrl-C: {error}");
            ExitCode::FAILURE
        }
    }
}
