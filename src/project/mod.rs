//! The project file (SPEC section 10): `resource-sync.yaml` names a service's environments
//! once, with their URLs or paths, credentials and settings, so `prod:` or `staging:teams/`
//! is an endpoint. It never holds a secret, only where one comes from.

mod overlay;
mod secret;
mod vars;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Deserialize;
use url::Url;

use crate::endpoint::options::{Auth, OAuth2};
use crate::exit_code::usage;
use crate::format::yaml_lines::line_of;
pub use overlay::{apply, generate_source, Applied, EnvironmentEndpoint};
pub use secret::{run_command, SecretSpec};
pub use vars::{is_var_name, Undefined, Vars};

/// The project file's name, looked for in the current folder and the folders above it.
pub const FILE_NAME: &str = "resource-sync.yaml";

/// A checked project file.
#[derive(Debug)]
pub struct Project {
    /// The file read, and the folder its paths are relative to.
    pub file: PathBuf,
    pub folder: PathBuf,
    /// `api:` the profile every HTTP endpoint speaks, relative to `folder`.
    pub api: Option<PathBuf>,
    /// `schema: simple`.
    pub simple: bool,
    pub environments: BTreeMap<String, Environment>,
}

/// Where an environment is: an API's URL, or a directory or file.
#[derive(Debug, Clone)]
pub enum Place {
    Url(Url),
    Path(PathBuf),
}

/// One environment's settings, secrets not yet resolved (only used ones are).
#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    /// The project file it is defined in, named in its errors.
    file: PathBuf,
    pub place: Place,
    auth: Option<AuthFile>,
    headers: BTreeMap<String, HeaderValue>,
    pub writable: bool,
    pub omit: Vec<String>,
    pub ignore: Vec<String>,
    pub limit: Option<u64>,
    pub concurrency: Option<u64>,
    pub rps: Option<u64>,
    pub timeout: Option<u64>,
    pub max_attempts: Option<u64>,
    /// `vars`: values of its own, SECRETs not yet resolved.
    vars: BTreeMap<String, vars::VarValue>,
    /// `backup`: the folder every run writing to it keeps a backup in.
    pub backup: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    api: Option<PathBuf>,
    schema: Option<SchemaName>,
    #[serde(default)]
    environments: BTreeMap<String, EnvironmentFile>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum SchemaName {
    Hal,
    Simple,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentFile {
    url: Option<String>,
    path: Option<PathBuf>,
    auth: Option<AuthFile>,
    #[serde(default)]
    headers: BTreeMap<String, HeaderValue>,
    #[serde(default = "yes")]
    writable: bool,
    #[serde(default)]
    omit: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    vars: BTreeMap<String, vars::VarValue>,
    backup: Option<PathBuf>,
    limit: Option<u64>,
    concurrency: Option<u64>,
    rps: Option<u64>,
    timeout: Option<u64>,
    max_attempts: Option<u64>,
}

fn yes() -> bool {
    true
}

/// `auth:`, one kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum AuthFile {
    Bearer(SecretSpec),
    Basic {
        username: String,
        password: SecretSpec,
    },
    Header {
        name: String,
        value: SecretSpec,
    },
    Query {
        name: String,
        value: SecretSpec,
    },
    Oauth2(OAuth2File),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OAuth2File {
    token_url: String,
    client_id: String,
    client_secret: SecretSpec,
    scope: Option<String>,
    audience: Option<String>,
    #[serde(default)]
    client_auth: ClientAuth,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ClientAuth {
    #[default]
    Basic,
    Body,
}

/// A header's value: plain text, or a SECRET.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum HeaderValue {
    Text(String),
    Secret(SecretSpec),
}

/// The project file to read: `--config` (or `RESOURCE_SYNC_CONFIG`, which clap folds into
/// it), else `resource-sync.yaml` here or in the nearest folder above; `Err` names where
/// it was looked for.
pub fn find(given: Option<&Path>, from: &Path) -> Result<PathBuf, String> {
    if let Some(file) = given {
        return Ok(file.to_path_buf());
    }
    for folder in from.ancestors() {
        let candidate = folder.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(format!(
        "no project file {FILE_NAME} was found in {} or any folder above it",
        from.display()
    ))
}

impl Project {
    /// Read and check the project file at `file`; errors name the file, line and key.
    pub fn load(file: &Path) -> Result<Project> {
        let text = std::fs::read_to_string(file)
            .map_err(|error| usage(format!("reading project file {}: {error}", file.display())))?;
        refuse_literal_secrets(&text, file)?;
        // `auth: {bearer: ...}` and `{env: NAME}` are one-key mappings, not YAML tags.
        let parsed: ProjectFile = serde_yaml::with::singleton_map_recursive::deserialize(
            serde_yaml::Deserializer::from_str(&text),
        )
        .map_err(|error| usage(format!("project file {}: {error}", file.display())))?;
        let folder = file
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let mut environments = BTreeMap::new();
        for (name, raw) in parsed.environments {
            let at = |message: String| {
                let line = line_of(&text, &["environments", &name])
                    .map_or_else(String::new, |line| format!(", line {line}"));
                usage(format!(
                    "project file {}{line} (environments.{name}): {message}",
                    file.display()
                ))
            };
            if !is_environment_name(&name) {
                return Err(at(format!(
                    "{name:?} is not an environment name (a letter, then letters, digits, - or _; 2 characters at least)"
                )));
            }
            let place = match (raw.url, raw.path) {
                (Some(url), None) => Place::Url(
                    Url::parse(&url).map_err(|error| at(format!("url {url:?}: {error}")))?,
                ),
                (None, Some(path)) => Place::Path(folder.join(path)),
                _ => return Err(at("give exactly one of `url` and `path`".into())),
            };
            if let Some(bad) = raw.vars.keys().find(|name| !is_var_name(name)) {
                return Err(at(format!(
                    "vars: {bad:?} is not a var name ([A-Z][A-Z0-9_]*: capitals, digits, _)"
                )));
            }
            environments.insert(
                name.clone(),
                Environment {
                    name,
                    file: file.to_path_buf(),
                    place,
                    auth: raw.auth,
                    headers: raw.headers,
                    writable: raw.writable,
                    omit: raw.omit,
                    ignore: raw.ignore,
                    limit: raw.limit,
                    concurrency: raw.concurrency,
                    rps: raw.rps,
                    timeout: raw.timeout,
                    max_attempts: raw.max_attempts,
                    vars: raw.vars,
                    backup: raw.backup.map(|backup| folder.join(backup)),
                },
            );
        }
        Ok(Project {
            file: file.to_path_buf(),
            api: parsed.api.map(|api| folder.join(api)),
            simple: matches!(parsed.schema, Some(SchemaName::Simple)),
            folder,
            environments,
        })
    }

    /// The environment an argument names, or the usage error listing the defined ones.
    pub fn environment(&self, name: &str) -> Result<&Environment> {
        self.environments.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.environments.keys().map(String::as_str).collect();
            usage(format!(
                "no environment {name:?} in {} (it defines: {})",
                self.file.display(),
                names.join(", ")
            ))
        })
    }
}

impl Environment {
    /// The credentials it sends, secrets resolved now (`env` reads a variable); `None`
    /// when it names none (the command line's then apply).
    pub fn auth(
        &self,
        folder: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Auth>> {
        let resolve = |spec: &SecretSpec| {
            spec.resolve(folder, env).map_err(|error| {
                usage(format!(
                    "project file {} (environments.{}.auth): {error:#}",
                    self.file.display(),
                    self.name
                ))
            })
        };
        let Some(auth) = &self.auth else {
            return Ok(None);
        };
        Ok(Some(match auth {
            AuthFile::Bearer(token) => Auth::Bearer(resolve(token)?),
            AuthFile::Basic { username, password } => Auth::Basic {
                username: username.clone(),
                password: resolve(password)?,
            },
            AuthFile::Header { name, value } => Auth::Header {
                name: name.clone(),
                value: resolve(value)?,
            },
            AuthFile::Query { name, value } => Auth::Query {
                name: name.clone(),
                value: resolve(value)?,
            },
            AuthFile::Oauth2(oauth2) => Auth::OAuth2(std::sync::Arc::new(OAuth2 {
                token_url: Url::parse(&oauth2.token_url).map_err(|error| {
                    usage(format!("environment {}: token_url: {error}", self.name))
                })?,
                client_id: oauth2.client_id.clone(),
                client_secret: resolve(&oauth2.client_secret)?,
                scope: oauth2.scope.clone(),
                audience: oauth2.audience.clone(),
                secret_in_body: oauth2.client_auth == ClientAuth::Body,
            })),
        }))
    }

    /// Its `vars`, SECRETs resolved; errors name the file and the environment.
    pub fn vars(&self, folder: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Vars> {
        Vars::resolve(&self.name, &self.vars, folder, env).map_err(|error| {
            usage(format!(
                "project file {} (environments.{}): {error:#}",
                self.file.display(),
                self.name
            ))
        })
    }

    /// Its headers, secret values resolved.
    pub fn headers(
        &self,
        folder: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<(String, String)>> {
        self.headers
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    HeaderValue::Text(text) => text.clone(),
                    HeaderValue::Secret(spec) => spec.resolve(folder, env)?.value,
                };
                Ok((name.clone(), value))
            })
            .collect()
    }
}

/// Where each credential kind holds its SECRET, below `auth.<kind>`.
const SECRET_PLACES: [(&str, &[&str]); 5] = [
    ("bearer", &[]),
    ("basic", &["password"]),
    ("header", &["value"]),
    ("query", &["value"]),
    ("oauth2", &["client_secret"]),
];

/// A value written where a SECRET belongs is refused naming its key and line, before the
/// typed reading (whose message could only name the `auth` around it).
fn refuse_literal_secrets(text: &str, file: &Path) -> Result<()> {
    let Ok(document) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return Ok(()); // the typed reading names the syntax error
    };
    let Some(environments) = document.get("environments").and_then(|e| e.as_mapping()) else {
        return Ok(());
    };
    for (name, environment) in environments {
        let Some(name) = name.as_str() else { continue };
        for (kind, below) in SECRET_PLACES {
            let mut value = environment.get("auth").and_then(|auth| auth.get(kind));
            for key in below {
                value = value.and_then(|inner| inner.get(key));
            }
            if let Some(serde_yaml::Value::String(_) | serde_yaml::Value::Number(_)) = value {
                let mut path = vec!["environments", name, "auth", kind];
                path.extend_from_slice(below);
                let line =
                    line_of(text, &path).map_or_else(String::new, |line| format!(", line {line}"));
                return Err(usage(format!(
                    "project file {}{line} ({}): a SECRET is {{env: NAME}}, {{file: PATH}} or {{command: \"...\"}}, never the value itself: the project file is committed",
                    file.display(),
                    path.join(".")
                )));
            }
        }
    }
    Ok(())
}

/// `NAME:` or `NAME:PATH` with NAME a letter, then letters, digits, `-` or `_`, at least 2
/// characters (so `C:\data` is never one): the name and the path.
pub fn environment_argument(argument: &str) -> Option<(&str, &str)> {
    let (name, path) = argument.split_once(':')?;
    is_environment_name(name).then_some((name, path))
}

fn is_environment_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() >= 2
        && chars
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `base` and `path` joined with one `/` (`https://h/api` + `teams/`).
pub fn join(base: &str, path: &str) -> String {
    match path.is_empty() {
        true => base.to_string(),
        false => format!(
            "{}/{}",
            base.trim_end_matches('/'),
            path.trim_start_matches('/')
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_arguments_have_a_name_of_two_characters_at_least() {
        assert_eq!(environment_argument("prod:"), Some(("prod", "")));
        assert_eq!(
            environment_argument("prod:teams/"),
            Some(("prod", "teams/"))
        );
        assert_eq!(environment_argument("C:\\data"), None);
        assert_eq!(environment_argument("data/x:y"), None);
        assert_eq!(environment_argument("1a:"), None);
        assert_eq!(join("https://h/api/", "/teams/"), "https://h/api/teams/");
        assert_eq!(join("https://h/api", ""), "https://h/api");
    }

    #[test]
    fn mistakes_name_the_file_the_line_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE_NAME);
        let error = |text: &str| {
            std::fs::write(&file, text).unwrap();
            format!("{:#}", Project::load(&file).unwrap_err())
        };
        let message = error("environments:\n  prod:\n    url: http://h/api\n    urll: x\n");
        assert!(
            message.contains("line 4") && message.contains("urll"),
            "{message}"
        );
        let message = error("environments:\n  prod:\n    url: http://h/\n    path: data\n");
        assert!(
            message.contains("line 2") && message.contains("exactly one"),
            "{message}"
        );
        let message =
            error("environments:\n  prod:\n    url: http://h/\n    auth: {bearer: abc}\n");
        assert!(
            message.contains("line 4") && message.contains("never the value"),
            "{message}"
        );
    }
}
