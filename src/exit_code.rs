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
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// The command or its local input is wrong (exit 2): bad option, bad endpoint,
/// malformed or unsafe input, an existing file destination without --rm, a cycle.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A remote could not be read or written (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RemoteError(pub String);

/// The run was stopped by Ctrl-C; what was committed is whole, the rest was not written.
#[derive(Debug, thiserror::Error)]
#[error(
    "interrupted: files already written are complete; nothing partial was left (re-run to finish)"
)]
pub struct Interrupted;

/// The exit status an error chain asks for: the first typed error found decides.
pub fn exit_for_error(error: &anyhow::Error) -> Exit {
    for cause in error.chain() {
        if cause.is::<Interrupted>() {
            return Exit::Interrupted;
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
    UsageError(message.into()).into()
}

/// Shorthand for failing with a remote error.
pub fn remote(message: impl Into<String>) -> anyhow::Error {
    RemoteError(message.into()).into()
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
    }
}
