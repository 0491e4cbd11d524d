//! A SECRET of the project file (SPEC section 10): never a literal, since the file is
//! committed; taken from an environment variable, a file, or a command's output.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;
use serde::Deserialize;

use crate::endpoint::options::Secret;
use crate::exit_code::usage;

/// Where a secret comes from, as the project file names it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase", try_from = "Written")]
pub enum SecretSpec {
    Env(String),
    File(PathBuf),
    Command(String),
}

/// What the file holds where a SECRET belongs: a source, or a value, which is refused.
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Env { env: String },
    File { file: PathBuf },
    Command { command: String },
    Other(serde::de::IgnoredAny),
}

impl TryFrom<Written> for SecretSpec {
    type Error = String;

    fn try_from(written: Written) -> Result<Self, String> {
        match written {
            Written::Env { env } => Ok(SecretSpec::Env(env)),
            Written::File { file } => Ok(SecretSpec::File(file)),
            Written::Command { command } => Ok(SecretSpec::Command(command)),
            Written::Other(_) => Err(
                "a SECRET is {env: NAME}, {file: PATH} or {command: \"...\"}, never the value itself: the project file is committed".into(),
            ),
        }
    }
}

impl SecretSpec {
    /// The value now: a variable must be set and not empty; a file's content loses its
    /// trailing newline; a command runs with `sh -c` in `folder` (the project file's).
    pub fn resolve(&self, folder: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Secret> {
        Ok(match self {
            SecretSpec::Env(name) => Secret::plain(env(name).ok_or_else(|| {
                usage(format!(
                    "the environment variable {name} is not set (or empty)"
                ))
            })?),
            SecretSpec::File(path) => {
                let path = folder.join(path);
                let text = std::fs::read_to_string(&path).map_err(|error| {
                    usage(format!(
                        "reading the secret file {}: {error}",
                        path.display()
                    ))
                })?;
                Secret::plain(text.strip_suffix('\n').unwrap_or(&text).to_string())
            }
            SecretSpec::Command(command) => Secret {
                value: run_command(command).map_err(usage)?,
                command: Some(command.clone()),
            },
        })
    }
}

/// A secret command's stdout, trimmed; on failure the last line of its stderr (never its
/// stdout, which may hold a partial secret).
pub fn run_command(command: &str) -> Result<String, String> {
    let output = Command::new("sh")
        .args(["-c", command])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|error| format!("the secret command could not run: {error}"))?;
    // Neither the command's text nor its stdout is printed: either may hold the secret.
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|line| !line.trim().is_empty());
        return Err(format!(
            "the secret command failed ({}): {}",
            output.status,
            last.unwrap_or("no message")
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}
