//! The `resource-sync` binary: parse, configure, run, and print any error once.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;
use resource_sync::cli::{check_generate_options, Cli, Generate};
use resource_sync::config::{fetch_options, Config, ProcessSecrets, SecretSource};
use resource_sync::exit_code::{exit_for_error, usage, Exit};
use resource_sync::interrupt::Interrupt;
use resource_sync::project::generate_source;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match run() {
        Ok(exit) => exit.into(),
        Err(error) if is_broken_pipe(&error) => Exit::Success.into(),
        Err(error) => {
            let message = format!("{error:#}");
            eprintln!(
                "resource-sync: error: {}",
                resource_sync::redact::redacted(&message)
            );
            exit_for_error(&error).into()
        }
    }
}

/// mimalloc's defaults commit whole arenas up front: a pull's RSS tripled (28 -> 85 MiB).
/// Committing on demand keeps the old peak. Freed pages are purged after 10 ms: after 1 ms,
/// a pull of 400,000 took 4.10 s against 3.98 s (medians of 4; it faulted freed pages back
/// in), for 1.5 MiB more at 20,000. The first arena is reserved by the first allocation,
/// before `main`, so this runs as an ELF constructor.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static SET_ALLOCATOR_OPTIONS: extern "C" fn() = return_freed_memory_promptly;

extern "C" fn return_freed_memory_promptly() {
    // Option numbers of mimalloc 3 (`mi_option_t` in mimalloc.h; the crate exports no names).
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: plain setters of two integer options, called before any other thread exists.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 10);
    }
}

fn run() -> anyhow::Result<Exit> {
    let matches = Cli::command().get_matches();
    let cli = Cli::with_sources(&matches).unwrap_or_else(|error| error.exit());
    if let Some(values) = &cli.generate {
        let (what, source) = Generate::parse(values).map_err(usage)?;
        check_generate_options(what, &matches).map_err(usage)?;
        generate(what, source.as_deref(), &cli)?;
        return Ok(Exit::Success);
    }
    let config = Config::from_cli(cli, &ProcessSecrets)?;
    // One thread drives every request: a push of 20,100 spent more time waking runtime
    // workers on other cores than sending (1.00 s on a multi-threaded runtime, 0.65 s
    // here; bench/RESULTS.md). File work has threads of its own (directory stage, parsers).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Installed outside the run's runtime: the listener has a runtime of its own.
    let interrupt = Interrupt::on_signals();
    runtime.block_on(async { resource_sync::sync::run(&config, interrupt).await })
}

/// Shell completions, the man page or a profile on stdout.
fn generate(what: Generate, source: Option<&str>, cli: &Cli) -> anyhow::Result<()> {
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    let shell = match (what, source) {
        (Generate::CompleteBash, _) => Shell::Bash,
        (Generate::CompleteZsh, _) => Shell::Zsh,
        (Generate::CompleteFish, _) => Shell::Fish,
        (Generate::Man, _) => return Ok(clap_mangen::Man::new(command).render(&mut out)?),
        (Generate::Profile, source) => {
            let source = source.ok_or_else(|| usage("--generate profile needs SOURCE"))?;
            let secret = |name: &str| ProcessSecrets.var(name);
            let (source, environment) = generate_source(cli, source, &secret)?;
            let fetching =
                |url: &url::Url| fetch_options(cli, &ProcessSecrets, url, environment.as_ref());
            let text = resource_sync::openapi::generate_profile(&source, &fetching)?;
            return Ok(out.write_all(text.as_bytes())?);
        }
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
