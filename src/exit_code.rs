//! Named exit codes and the error kinds that map to them.
//! Code that must choose an exit status matches on `UsageError` / `RemoteError`.

use std::process::ExitCode;

/// The process exit statuses of SPEC section 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything was done (or, with --exit-code, nothing changed).
    Success = 0,
    /// The run failed at a remote: a starting URL, or resources failed or were skipped.
    Failed = 1,
    /// The command or its local input is wrong; nothing was written.
    Usage = 2,
    /// With --exit-code: changes were planned or made and nothing failed.
    Changes = 3,
    /// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
    Interrupted = 130,
    /// Stopped by SIGTERM (128 + 15): CI cancellation, `timeout`, service managers.
    Terminated = 143,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// The command or its local input is wrong (exit 2): bad option, bad endpoint,
/// malformed or unsafe input, an existing file destination without --rm, a cycle.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    message: String,
    #[source]
    source: Option<Cause>,
}

/// A remote could not be read or written (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RemoteError {
    message: String,
    #[source]
    source: Option<Cause>,
}

/// The error an exit-coded error was caused by, kept whole (printed after it with `{:#}`).
type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A signal that asks a run to stop cleanly; the exit status names it as shells do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT, Ctrl-C.
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl StopSignal {
    pub fn exit(self) -> Exit {
        match self {
            StopSignal::Interrupt => Exit::Interrupted,
            StopSignal::Terminate => Exit::Terminated,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
        }
    }
}

/// The run was stopped by a signal; what was committed is whole, the rest was not written.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted by {}: files already written are complete; nothing partial was left (re-run to finish)",
    by.name()
)]
pub struct Interrupted {
    pub by: StopSignal,
}

/// The exit status an error chain asks for: the first typed error found decides.
pub fn exit_for_error(error: &anyhow::Error) -> Exit {
    for cause in error.chain() {
        if let Some(interrupted) = cause.downcast_ref::<Interrupted>() {
            return interrupted.by.exit();
        }
        if cause.is::<UsageError>() {
            return Exit::Usage;
        }
        if cause.is::<RemoteError>() {
            return Exit::Failed;
        }
    }
    Exit::Failed
}

/// Shorthand for failing with a usage error.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError {
        message: message.into(),
        source: None,
    }
    .into()
}

/// Shorthand for failing with a remote error.
pub fn remote(message: impl Into<String>) -> anyhow::Error {
    RemoteError {
        message: message.into(),
        source: None,
    }
    .into()
}

/// A remote error (exit 1) caused by `cause`, which is kept whole.
pub fn remote_because(message: impl Into<String>, cause: impl Into<Cause>) -> anyhow::Error {
    RemoteError {
        message: message.into(),
        source: Some(cause.into()),
    }
    .into()
}

/// An error's exit status chosen where it happens, the error itself kept as the cause:
/// `std::fs::read(path).usage_context(|| format!("reading {}", path.display()))`.
pub trait ExitContext<T> {
    /// A usage error (exit 2) caused by this one.
    fn usage_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> anyhow::Result<T>;
    /// A remote error (exit 1) caused by this one.
    fn remote_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> anyhow::Result<T>;
}

impl<T, E: Into<Cause>> ExitContext<T> for Result<T, E> {
    fn usage_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> anyhow::Result<T> {
        self.map_err(|cause| {
            UsageError {
                message: message().into(),
                source: Some(cause.into()),
            }
            .into()
        })
    }

    fn remote_context<M: Into<String>>(self, message: impl FnOnce() -> M) -> anyhow::Result<T> {
        self.map_err(|cause| remote_because(message(), cause))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn typed_error_anywhere_in_chain_decides() {
        let error = Err::<(), _>(usage("bad")).context("reading x").unwrap_err();
        assert_eq!(exit_for_error(&error), Exit::Usage);
        let error = Err::<(), _>(remote("503")).context("GET y").unwrap_err();
        assert_eq!(exit_for_error(&error), Exit::Failed);
        assert_eq!(exit_for_error(&anyhow::anyhow!("plain")), Exit::Failed);
        let by = StopSignal::Terminate;
        let error = anyhow::Error::from(Interrupted { by }).context("writing");
        assert_eq!(exit_for_error(&error), Exit::Terminated);
    }

    #[test]
    fn a_classified_error_keeps_its_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = Err::<(), _>(io)
            .usage_context(|| "reading p.yaml")
            .unwrap_err();
        assert_eq!(exit_for_error(&error), Exit::Usage);
        assert_eq!(format!("{error:#}"), "reading p.yaml: no such file");
        assert!(error.chain().any(|cause| cause.is::<std::io::Error>()));
    }
}
