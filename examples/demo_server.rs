//! Demo HAL API for trying resource-sync by hand: three teams, twelve players, twelve stats.
//! Usage: `cargo run --example demo_server -- [--port 8080] [--assign-ids] [--empty]`.

#[path = "../tests/server/mod.rs"]
mod server;

use std::process::ExitCode;

use server::{sample_dataset, ServerConfig, TestServer};

const USAGE: &str = "usage: demo_server [--port PORT] [--assign-ids] [--empty]";

struct Options {
    help: bool,
    port: u16,
    assign_ids: bool,
    empty: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        help: false,
        port: 8080,
        assign_ids: false,
        empty: false,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a value")?;
                options.port = value
                    .parse()
                    .map_err(|_| format!("invalid port: {value}"))?;
            }
            "--assign-ids" => options.assign_ids = true,
            "--empty" => options.empty = true,
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
    let config = ServerConfig {
        assign_ids: options.assign_ids,
        ..ServerConfig::default()
    };
    let server = match TestServer::try_start_on(config, options.port) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {error}", options.port);
            return ExitCode::FAILURE;
        }
    };
    if !options.empty {
        for resource in sample_dataset(&server.base_url(), 3, 4) {
            server.insert(resource);
        }
    }
    println!(
        "demo server listening on {} (Ctrl-C to stop)",
        server.url("/api")
    );
    // The server runs on its own runtime; this small one only waits for Ctrl-C.
    let waited = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|runtime| runtime.block_on(tokio::signal::ctrl_c()));
    server.stop();
    match waited {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cannot wait for Ctrl-C: {error}");
            ExitCode::FAILURE
        }
    }
}
