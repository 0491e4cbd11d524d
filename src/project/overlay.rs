//! A run's command line with its environments put in (SPEC section 10): each `NAME:PATH`
//! argument becomes the URL or path it names, the project's profile and the environments'
//! settings fill what the command line left unsaid, and each HTTP environment's
//! credentials and headers are resolved for its endpoint.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use url::Url;

use super::{environment_argument, find, join, Environment, Place, Project, Vars};
use crate::cli::Cli;
use crate::endpoint::options::{Auth, RequestSettings};
use crate::endpoint::spec::is_url_argument;
use crate::exit_code::usage;
use crate::expr::FieldPath;

/// What an HTTP environment endpoint sends, resolved for the run.
#[derive(Debug, Clone)]
pub struct EnvironmentEndpoint {
    pub url: Url,
    pub name: String,
    /// `None`: the command line's credentials apply.
    pub auth: Option<Auth>,
    pub headers: Vec<(String, String)>,
    pub limit: Option<u64>,
    /// Its `concurrency`, `rps`, `timeout` and `max_attempts`, for its requests only.
    pub requests: RequestSettings,
}

/// What the environments named on a command line bring to its run.
#[derive(Debug, Default)]
pub struct Applied {
    /// The HTTP environment endpoints.
    pub endpoints: Vec<EnvironmentEndpoint>,
    /// The `vars` of each endpoint argument, by position (`None`: no environment, or
    /// one without vars).
    pub vars: Vec<Option<Vars>>,
    /// The destination environment's `backup` folder.
    pub backup: Option<std::path::PathBuf>,
}

/// Rewrites `cli` for the project's environments; returns what they bring. Without an
/// environment argument or `--config` on the command line, no file is read and `cli` is
/// left as it is.
pub fn apply(cli: &mut Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Applied> {
    let named = cli
        .endpoints
        .iter()
        .any(|argument| is_environment_endpoint(argument));
    // RESOURCE_SYNC_CONFIG only says where the file is; `--config` asks for it to be read.
    if !named && !cli.gave("config") {
        return Ok(Applied::default());
    }
    let project = load(cli)?;
    use_project_settings(cli, &project);
    let last = cli.endpoints.len().saturating_sub(1);
    let mut endpoints = Vec::new();
    let mut vars = vec![None; cli.endpoints.len()];
    let mut backup = None;
    let mut used: Vec<(&Environment, bool)> = Vec::new();
    for (position, argument) in cli.endpoints.clone().iter().enumerate() {
        let Some((name, path)) =
            environment_argument(argument).filter(|_| is_environment_endpoint(argument))
        else {
            continue;
        };
        let environment = project.environment(name)?;
        let is_destination = position == last;
        if is_destination && !environment.writable {
            return Err(usage(format!(
                "environment {name} is not writable (writable: false in {}): it cannot be a destination",
                project.file.display()
            )));
        }
        cli.endpoints[position] = match &environment.place {
            Place::Url(url) => join(url.as_str(), path),
            Place::Path(folder) => join(&folder.to_string_lossy(), path),
        };
        if let Place::Url(_) = &environment.place {
            let url = Url::parse(&cli.endpoints[position])
                .map_err(|error| usage(format!("{argument}: {error}")))?;
            endpoints.push(resolve(environment, url, &project.folder, env)?);
        }
        let own = environment.vars(&project.folder, env)?;
        vars[position] = (!own.is_empty()).then_some(own);
        if is_destination {
            backup.clone_from(&environment.backup);
        }
        used.push((environment, is_destination));
    }
    use_environment_settings(cli, &used);
    Ok(Applied {
        endpoints,
        vars,
        backup,
    })
}

/// `--generate profile NAME:PATH`: the URL or path it names, and for a URL that
/// environment's credentials; any other SOURCE as it is.
pub fn generate_source(
    cli: &Cli,
    source: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Option<EnvironmentEndpoint>)> {
    let Some((name, path)) =
        environment_argument(source).filter(|_| is_environment_endpoint(source))
    else {
        return Ok((source.to_string(), None));
    };
    let project = load(cli)?;
    let environment = project.environment(name)?;
    Ok(match &environment.place {
        Place::Url(url) => {
            let text = join(url.as_str(), path);
            let url = Url::parse(&text).map_err(|error| usage(format!("{source}: {error}")))?;
            let endpoint = resolve(environment, url, &project.folder, env)?;
            (text, Some(endpoint))
        }
        Place::Path(folder) => (join(&folder.to_string_lossy(), path), None),
    })
}

/// The project file the command line points at, or the nearest one above this folder.
fn load(cli: &Cli) -> Result<Project> {
    let here = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let file = find(cli.config.as_deref(), &here).map_err(usage)?;
    let project = Project::load(&file)?;
    if cli.verbose {
        eprintln!("resource-sync: project file {}", file.display());
    }
    Ok(project)
}

/// An argument naming an environment: recognised after `-`, `null` and `http(s)://`.
fn is_environment_endpoint(argument: &str) -> bool {
    let other = argument == "-" || argument == "null" || is_url_argument(argument);
    !other && environment_argument(argument).is_some()
}

fn resolve(
    environment: &Environment,
    url: Url,
    folder: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<EnvironmentEndpoint> {
    Ok(EnvironmentEndpoint {
        url,
        name: environment.name.clone(),
        auth: environment.auth(folder, env)?,
        headers: environment.headers(folder, env)?,
        limit: environment.limit,
        requests: RequestSettings {
            concurrency: environment.concurrency.map(|n| n as usize),
            rps: environment
                .rps
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            timeout: environment.timeout.map(Duration::from_secs),
            max_attempts: environment
                .max_attempts
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        },
    })
}

/// The project's profile (`api:`) or `schema: simple`, unless the command line chose.
fn use_project_settings(cli: &mut Cli, project: &Project) {
    let chose_schema = cli.api.is_some() || cli.hal || cli.simple;
    if !chose_schema {
        cli.api = project.api.clone();
        cli.simple = project.api.is_none() && project.simple;
    }
}

/// `omit` of the environments read from, `ignore` of the one written to.
fn use_environment_settings(cli: &mut Cli, used: &[(&Environment, bool)]) {
    for (environment, is_destination) in used {
        let paths = match is_destination {
            true => &environment.ignore,
            false => &environment.omit,
        };
        let parsed = paths
            .iter()
            .filter_map(|path| path.parse::<FieldPath>().ok());
        match is_destination {
            true => cli.ignores.extend(parsed),
            false => cli.omits.extend(parsed),
        }
    }
}
