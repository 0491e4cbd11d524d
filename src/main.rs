//! The `resource-sync` binary: parse, configure, run, and print any error once.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use clap_complete::Shell;
use resource_sync::cli::{Cli, Generate};
use resource_sync::config::{Config, ProcessSecrets};
use resource_sync::exit_code::{exit_for_error, Exit};
use resource_sync::interrupt::Interrupt;

fn main() -> ExitCode {
    match run() {
        Ok(exit) => exit.into(),
        Err(error) if is_broken_pipe(&error) => Exit::Success.into(),
        Err(error) => {
            eprintln!("resource-sync: error: {error:#}");
            exit_for_error(&error).into()
        }
    }
}

fn run() -> anyhow::Result<Exit> {
    let cli = Cli::parse();
    if let Some(what) = cli.generate {
        generate(what)?;
        return Ok(Exit::Success);
    }
    let config = Config::from_cli(cli, &ProcessSecrets)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async { resource_sync::sync::run(&config, Interrupt::on_ctrl_c()).await })
}

/// Shell completions or the man page on stdout.
fn generate(what: Generate) -> std::io::Result<()> {
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    let shell = match what {
        Generate::CompleteBash => Shell::Bash,
        Generate::CompleteZsh => Shell::Zsh,
        Generate::CompleteFish => Shell::Fish,
        Generate::Man => return clap_mangen::Man::new(command).render(&mut out),
    };
    clap_complete::generate(shell, &mut command, "resource-sync", &mut out);
    Ok(())
}

/// A closed stdout (`resource-sync ... - | head`) is the reader's choice, not an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
