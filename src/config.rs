//! The validated, immutable run configuration built from the parsed command line.
//! The only place that checks how flags combine; everything downstream takes `&Config`.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use crate::backup::{self, Backup};
use crate::cli::{Cli, CreateMode, OutputFormat};
use crate::endpoint::options::{
    Auth, ClientOptions, HttpOptions, RequestSettings, RunOptions, Secret,
};
use crate::endpoint::spec::{redact_url, url_key, EndpointSpec, FileKind};
use crate::exit_code::{usage, ExitContext};
use crate::expr::MatchExpr;
use crate::format::Format;
use crate::project::{self, EnvironmentEndpoint, Vars};
use crate::provenance;
use crate::schema::profile::{self, Profile, TypeProfile};
use crate::schema::{FollowMode, SchemaKind};

/// Which resources are kept after reading.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub types: Vec<String>,
    pub matches: Vec<MatchExpr>,
    pub keep_parents: bool,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.matches.is_empty()
    }
}

/// The run, as decided.
#[derive(Debug, Clone)]
pub struct Config {
    pub origins: Vec<EndpointSpec>,
    pub destination: EndpointSpec,
    /// What every endpoint is handed.
    pub run: RunOptions,
    /// Each HTTP endpoint's own options, in command-line order.
    pub http_endpoints: Vec<HttpOptions>,
    /// The connection pool's options.
    pub client: ClientOptions,
    pub schema: SchemaKind,
    pub filters: Filters,
    pub quiet: bool,
    pub dry_run: bool,
    pub diff: bool,
    /// `--output json`.
    pub json_output: bool,
    pub exit_code: bool,
    pub max_delete: Option<usize>,
    /// Field paths left out of comparisons.
    pub ignore: Vec<Vec<String>>,
    /// Field paths removed from every resource as it is read.
    pub omit: Vec<Vec<String>>,
    /// Read the destination and write only what differs (not `--no-compare`).
    pub compare: bool,
    /// `--api`: the profile every endpoint of the run speaks.
    pub api: Option<Arc<Profile>>,
    /// `--verify`: read the destination back after writing.
    pub verify: bool,
    /// The tree a profile's pull writes and the API it records there as its origin.
    pub records_origin: Option<RecordedOrigin>,
    /// The `vars` of the environments read from and written to (SPEC section 11).
    pub vars: EndpointVars,
    /// `--backup` (or the destination environment's `backup`): where this run keeps what
    /// it changes (SPEC section 12).
    pub backup: Option<PathBuf>,
    /// `--undo`: the backup this run puts back.
    pub undo: Option<Undo>,
}

/// A backup being put back: its folder (the run's origin) and its record.
#[derive(Debug, Clone)]
pub struct Undo {
    pub dir: PathBuf,
    pub record: backup::Record,
}

/// The `vars` of each origin (in order) and of the destination, where it is an
/// environment that has them.
#[derive(Debug, Clone, Default)]
pub struct EndpointVars {
    pub origins: Vec<Option<Arc<Vars>>>,
    pub destination: Option<Arc<Vars>>,
}

/// A profile's pull into a directory: the tree, and its origin as parsed and as written.
#[derive(Debug, Clone)]
pub struct RecordedOrigin {
    pub tree: PathBuf,
    pub url: url::Url,
    pub written: String,
}

/// Where secrets come from, so tests can supply them without a terminal.
pub trait SecretSource {
    fn var(&self, name: &str) -> Option<String>;
    fn prompt_password(&self, username: &str) -> Result<String>;
}

/// Environment variables and the terminal.
pub struct ProcessSecrets;

impl SecretSource for ProcessSecrets {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|value| !value.is_empty())
    }

    fn prompt_password(&self, username: &str) -> Result<String> {
        rpassword::prompt_password(format!("Password for {username}: ")).usage_context(|| {
            "--username needs a password: set RESOURCE_SYNC_PASSWORD or run on a terminal"
        })
    }
}

impl Config {
    /// Validate the command line into a configuration.
    pub fn from_cli(mut cli: Cli, secrets: &dyn SecretSource) -> Result<Config> {
        let applied = project::apply(&mut cli, &|name| secrets.var(name))?;
        let vars = EndpointVars::of(applied.vars);
        let undo = undo_of(&mut cli)?;
        let (destination_arg, origin_args) = cli
            .endpoints
            .split_last()
            .ok_or_else(|| usage("expected ORIGIN... DESTINATION"))?;
        let destination = EndpointSpec::parse(destination_arg)?;
        let origins = origin_args
            .iter()
            .map(|arg| EndpointSpec::parse(arg))
            .collect::<Result<Vec<_>>>()?;
        for (origin, arg) in origins.iter().zip(origin_args) {
            check_origin_exists(origin, arg)?;
            // Cloning with POST may copy a subtree within one API.
            if cli.create != Some(CreateMode::Post) && same_endpoint(origin, &destination) {
                return Err(usage(format!(
                    "origin {} is the same as the destination {}",
                    origin.describe(),
                    destination.describe()
                )));
            }
        }
        check_destination_parent(&destination, destination_arg)?;
        let format = choose_format(&cli, &destination)?;
        let api = api_profile(&cli)?;
        let client = client_options(&cli, api.as_deref())?;
        let http_endpoints = http_endpoints(
            &cli,
            secrets,
            (&origins, &destination),
            &api,
            &applied.endpoints,
        )?;
        check_clone_flags(&cli, &destination, api.as_deref())?;
        if cli.output == OutputFormat::Json && destination.features().on_stdout {
            return Err(usage(
                "--output json needs stdout: it cannot go with - as the destination",
            ));
        }
        if cli.max_delete.is_some() && !cli.remove {
            return Err(usage("--max-delete goes with --rm"));
        }
        check_compare_flags(&cli, &destination)?;
        let backup = backup_folder(&cli, &destination, applied.backup.as_deref())?;
        if let Some(undo) = &undo {
            check_undo_destination(undo, &destination)?;
            check_undo_vars(undo, vars.destination.as_deref())?;
        }
        Ok(Config {
            run: RunOptions {
                format,
                follow: follow_mode(&cli),
                remove: cli.remove,
                batch_size: cli.batch_size.0 as usize,
                concurrency: client.concurrency,
                fail_fast: cli.fail_fast,
                verbose: cli.verbose,
                create_by_post: cli.create == Some(CreateMode::Post),
                id_map: cli.id_map.clone(),
                refs: api
                    .as_deref()
                    .map_or_else(|| cli.refs.clone(), Profile::references),
                types: cli.types.clone(),
            },
            http_endpoints,
            client,
            schema: if cli.simple {
                SchemaKind::Simple
            } else {
                SchemaKind::Hal
            },
            filters: Filters {
                types: cli.types.clone(),
                matches: cli.matches.clone(),
                keep_parents: !cli.no_parents,
            },
            quiet: cli.quiet,
            dry_run: cli.dry_run,
            diff: cli.diff,
            json_output: cli.output == OutputFormat::Json,
            exit_code: cli.exit_code,
            max_delete: cli
                .max_delete
                .map(|n| usize::try_from(n.0).unwrap_or(usize::MAX)),
            ignore: cli.ignores.iter().map(|path| path.0.clone()).collect(),
            omit: cli.omits.iter().map(|path| path.0.clone()).collect(),
            compare: !cli.no_compare,
            records_origin: recorded_origin((&origins, origin_args), &destination, api.as_deref()),
            api,
            verify: cli.verify,
            origins,
            destination,
            vars,
            backup,
            undo,
        })
    }
}

/// `--undo DIR DESTINATION`: DIR becomes the origin, and its record is read.
fn undo_of(cli: &mut Cli) -> Result<Option<Undo>> {
    let Some(dir) = cli.undo.clone() else {
        if cli.endpoints.len() < 2 {
            return Err(usage("expected ORIGIN... DESTINATION"));
        }
        return Ok(None);
    };
    if cli.endpoints.len() != 1 {
        return Err(usage("--undo DIR takes one DESTINATION and no origin"));
    }
    let record = backup::Record::read(&dir)?;
    cli.endpoints.insert(0, dir.display().to_string());
    Ok(Some(Undo { dir, record }))
}

/// DESTINATION must be the one the backup records, however it is spelled (`data`,
/// `data/`, `./data` and its absolute path are one folder; a URL with or without its
/// trailing `/` one API).
fn check_undo_destination(undo: &Undo, destination: &EndpointSpec) -> Result<()> {
    let recorded = &undo.record.destination;
    let same = match destination {
        EndpointSpec::Directory(path) | EndpointSpec::File(path, _) => {
            let place = |path: &Path| {
                std::path::absolute(path)
                    .ok()
                    .map(|path| path.components().collect::<PathBuf>())
            };
            place(path).is_some() && place(path) == place(Path::new(recorded))
        }
        EndpointSpec::Http(_) => {
            destination.describe().trim_end_matches('/') == recorded.trim_end_matches('/')
        }
        EndpointSpec::Stdio | EndpointSpec::Null => destination.describe() == *recorded,
    };
    if !same {
        return Err(usage(format!(
            "--undo {}: the backup is of {}, not {}; nothing written",
            undo.dir.display(),
            undo.record.destination,
            destination.describe()
        )));
    }
    Ok(())
}

/// A backup holding an environment's vars as `${NAME}` is undone into that environment
/// by name, so they are filled back in: never sent as text.
fn check_undo_vars(undo: &Undo, destination_vars: Option<&Vars>) -> Result<()> {
    let Some(environment) = &undo.record.vars_of else {
        return Ok(());
    };
    if destination_vars.is_some_and(|vars| vars.environment == *environment) {
        return Ok(());
    }
    Err(usage(format!(
        "--undo {}: the backup holds the vars of environment {environment} as ${{NAME}}; undo into `{environment}:` so they are filled back in; nothing written",
        undo.dir.display()
    )))
}

/// `--backup DIR`, or the destination environment's `backup: FOLDER` (a new timestamped
/// folder in it); checked before anything is read.
fn backup_folder(
    cli: &Cli,
    destination: &EndpointSpec,
    environment_folder: Option<&Path>,
) -> Result<Option<PathBuf>> {
    let Some(dir) = cli.backup.clone() else {
        // A preview changes nothing, so it keeps nothing.
        return Ok(environment_folder
            .filter(|_| !cli.dry_run)
            .map(Backup::timestamped));
    };
    let refused = if cli.dry_run {
        Some("--dry-run: a preview changes nothing")
    } else if matches!(destination, EndpointSpec::Stdio | EndpointSpec::Null) {
        Some("the destination keeps nothing to back up")
    } else if cli.no_compare {
        Some("--no-compare reads no copy to keep")
    } else {
        None
    };
    if let Some(reason) = refused {
        return Err(usage(format!("--backup cannot be used here: {reason}")));
    }
    backup::check_folder(&dir)?;
    Ok(Some(dir))
}

impl EndpointVars {
    /// Split the vars of each endpoint argument (the last is the destination's), and
    /// have every secret value among them kept out of the output from now on.
    fn of(mut by_position: Vec<Option<Vars>>) -> EndpointVars {
        for vars in by_position.iter().flatten() {
            for (value, shown_as) in vars.secrets() {
                crate::redact::hide(value, &shown_as);
            }
        }
        let destination = by_position.pop().flatten().map(Arc::new);
        EndpointVars {
            origins: by_position.into_iter().map(|v| v.map(Arc::new)).collect(),
            destination,
        }
    }
}

/// `--id-map` and `--ref` only mean something when cloning into an HTTP API with POST.
fn check_clone_flags(cli: &Cli, destination: &EndpointSpec, api: Option<&Profile>) -> Result<()> {
    let posts = |profile: &Profile| {
        let post = |t: &TypeProfile| t.create == profile::CreateMethod::Post;
        profile.types.values().any(post)
    };
    let cloning = cli.create == Some(CreateMode::Post) || api.is_some_and(posts);
    if cloning && !destination.features().assigns_ids && api.is_none() {
        return Err(usage("--create post needs an HTTP destination"));
    }
    // With a profile, `--rm` deletes what the origins lack by their destination ids.
    if cloning && cli.remove && api.is_none() {
        return Err(usage("--rm cannot be combined with --create post"));
    }
    if !cloning && cli.id_map.is_some() {
        return Err(usage("--id-map goes with --create post"));
    }
    if cli.create != Some(CreateMode::Post) && !cli.refs.is_empty() {
        return Err(usage("--ref goes with --create post"));
    }
    Ok(())
}

/// `--api FILE`: the profile, checked, with `--create` applied to every type; the flags it
/// replaces are usage errors with it.
fn api_profile(cli: &Cli) -> Result<Option<Arc<Profile>>> {
    let Some(path) = &cli.api else {
        return Ok(None);
    };
    let replaced = [
        (cli.hal, "--hal"),
        (cli.simple, "--simple"),
        (
            cli.follow_all || cli.follow_child || cli.follow_page || cli.follow_none,
            "--follow-*",
        ),
        (cli.batch_size.0 > 1, "--batch-size"),
        (!cli.refs.is_empty(), "--ref"),
    ];
    if let Some((_, flag)) = replaced.iter().find(|(set, _)| *set) {
        return Err(usage(format!(
            "--api cannot be combined with {flag}: the profile says how the API is read and written"
        )));
    }
    let mut profile = Profile::load(path)?;
    profile.check_types(&cli.types)?;
    if let Some(create) = cli.create {
        for t in profile.types.values_mut() {
            t.create = match create {
                CreateMode::Put => profile::CreateMethod::Put,
                CreateMode::Post => profile::CreateMethod::Post,
            };
        }
    }
    Ok(Some(Arc::new(profile)))
}

/// `--verify` needs a destination that can be read back; `--no-compare` reads nothing,
/// so it cannot plan, ignore fields or verify.
fn check_compare_flags(cli: &Cli, destination: &EndpointSpec) -> Result<()> {
    if cli.verify && !destination.features().keeps_writes {
        return Err(usage(
            "--verify needs a destination that can be read back (not - or null)",
        ));
    }
    if cli.no_compare {
        let conflicting = [
            (cli.dry_run, "--dry-run"),
            (!cli.ignores.is_empty(), "--ignore"),
            (cli.verify, "--verify"),
        ];
        if let Some((_, flag)) = conflicting.iter().find(|(set, _)| *set) {
            return Err(usage(format!(
                "--no-compare cannot be combined with {flag}: it reads nothing to compare"
            )));
        }
    }
    Ok(())
}

fn follow_mode(cli: &Cli) -> FollowMode {
    if cli.follow_all {
        FollowMode::All
    } else if cli.follow_child {
        FollowMode::Child
    } else if cli.follow_none {
        FollowMode::None
    } else {
        FollowMode::Page
    }
}

/// A file's extension fixes its format; `-j`/`-y` choose for the other endpoints.
fn choose_format(cli: &Cli, destination: &EndpointSpec) -> Result<Format> {
    let asked = match (cli.json, cli.yaml) {
        (true, _) => Some(Format::Json),
        (_, true) => Some(Format::Yaml),
        _ => None,
    };
    if let (EndpointSpec::File(path, kind), Some(asked)) = (destination, asked) {
        let native = if *kind == FileKind::Yaml {
            Format::Yaml
        } else {
            Format::Json
        };
        if asked != native {
            return Err(usage(format!(
                "cannot write {} to {}: the file's extension decides its format",
                if asked == Format::Json {
                    "JSON"
                } else {
                    "YAML"
                },
                path.display()
            )));
        }
    }
    Ok(asked.unwrap_or_else(|| destination.default_format()))
}

/// The credentials of the command line (`--username`, `RESOURCE_SYNC_TOKEN`).
fn command_line_auth(cli: &Cli, secrets: &dyn SecretSource) -> Result<Auth> {
    Ok(match &cli.username {
        Some(username) => Auth::Basic {
            username: username.clone(),
            password: Secret::plain(match secrets.var("RESOURCE_SYNC_PASSWORD") {
                Some(password) => password,
                None => secrets.prompt_password(username)?,
            }),
        },
        None => match secrets.var("RESOURCE_SYNC_TOKEN") {
            Some(token) => Auth::Bearer(Secret::plain(token)),
            None => Auth::None,
        },
    })
}

/// The request options for fetching `--generate profile`'s SOURCE at `url`: the command
/// line's credentials and headers go to it as to an endpoint (private APIs serve their
/// document only to their users), with its timeout, attempts and TLS settings.
pub fn fetch_options(
    cli: &Cli,
    secrets: &dyn SecretSource,
    url: &url::Url,
    environment: Option<&EnvironmentEndpoint>,
) -> Result<(ClientOptions, HttpOptions)> {
    let auth = command_line_auth(cli, secrets)?;
    let mut options = http_options(cli, &auth, url, &None);
    if let Some(environment) = environment.filter(|e| e.url.origin() == url.origin()) {
        apply_environment(cli, &mut options, environment);
    }
    Ok((client_options(cli, None)?, options))
}

/// Each HTTP endpoint's own options; the command line's credentials and `-H` headers go
/// to the endpoints it names (SPEC section 9).
fn http_endpoints(
    cli: &Cli,
    secrets: &dyn SecretSource,
    (origins, destination): (&[EndpointSpec], &EndpointSpec),
    api: &Option<Arc<Profile>>,
    environments: &[EnvironmentEndpoint],
) -> Result<Vec<HttpOptions>> {
    let auth = command_line_auth(cli, secrets)?;
    let with_environment = |url: &url::Url| {
        let mut options = http_options(cli, &auth, url, api);
        if let Some(environment) = environments.iter().find(|e| e.url == *url) {
            apply_environment(cli, &mut options, environment);
        }
        options
    };
    let mut endpoints: Vec<HttpOptions> = origins
        .iter()
        .filter_map(|spec| match spec {
            EndpointSpec::Http(url) => Some(with_environment(url)),
            _ => None,
        })
        .collect();
    if let EndpointSpec::Http(url) = destination {
        let mut options = with_environment(url);
        // An undo's one origin is its backup: copies of this destination's own resources
        // (the record is checked to name it), so its ids are the destination's too.
        let own_ids = cli.undo.is_some() || trees_from(origins, url);
        if let Some(profile) = api.as_deref().filter(|_| own_ids) {
            options.api = Some(Arc::new(profile.keyed_by_id()));
        }
        endpoints.push(options);
    }
    check_one_credential_per_origin(&endpoints)?;
    let query_secrets = endpoints.iter().filter_map(|options| match &options.auth {
        Auth::Query { name, .. } => Some(name.clone()),
        _ => None,
    });
    crate::endpoint::spec::redact_query_parameters(query_secrets.collect());
    Ok(endpoints)
}

/// An environment's credentials (else the command line's), its headers before `-H`, and
/// its `limit` unless the command line gave one.
fn apply_environment(cli: &Cli, options: &mut HttpOptions, environment: &EnvironmentEndpoint) {
    options.environment = Some(environment.name.clone());
    if let Some(auth) = &environment.auth {
        options.auth = auth.clone();
    }
    let mut headers = environment.headers.clone();
    headers.append(&mut options.headers);
    options.headers = headers;
    if let (false, Some(limit)) = (cli.gave("limit"), environment.limit) {
        options.limit = limit;
    }
    let own = &environment.requests;
    options.requests = RequestSettings {
        concurrency: own.concurrency.filter(|_| !cli.gave("concurrency")),
        rps: own.rps.filter(|_| !cli.gave("rps")),
        timeout: own.timeout.filter(|_| !cli.gave("timeout")),
        max_attempts: own.max_attempts.filter(|_| !cli.gave("max_attempts")),
    };
}

/// Two endpoints on one origin that send different credentials cannot both be trusted
/// with it (SPEC section 10).
fn check_one_credential_per_origin(endpoints: &[HttpOptions]) -> Result<()> {
    for (index, one) in endpoints.iter().enumerate() {
        for other in &endpoints[index + 1..] {
            let differ = one.auth != other.auth || one.headers != other.headers;
            if one.url.origin() == other.url.origin() && differ {
                let name = |options: &HttpOptions| match &options.environment {
                    Some(name) => format!("{name}: ({})", redact_url(&options.url)),
                    None => redact_url(&options.url),
                };
                return Err(usage(format!(
                    "{} and {} are on one origin with different credentials",
                    name(one),
                    name(other)
                )));
            }
        }
    }
    Ok(())
}

/// Whether every origin is a tree pulled from `url` (SPEC section 8: its ids are that
/// API's own, so a push back updates in place).
fn trees_from(origins: &[EndpointSpec], url: &url::Url) -> bool {
    origins.iter().all(|origin| match origin {
        EndpointSpec::Directory(dir) => provenance::came_from(dir, url),
        _ => false,
    })
}

/// The tree and the API a run records as its origin: a profile's pull from one HTTP
/// origin into a directory.
fn recorded_origin(
    (origins, written): (&[EndpointSpec], &[String]),
    destination: &EndpointSpec,
    api: Option<&Profile>,
) -> Option<RecordedOrigin> {
    match (origins, destination, api) {
        ([EndpointSpec::Http(url)], EndpointSpec::Directory(dir), Some(_)) => {
            Some(RecordedOrigin {
                tree: dir.clone(),
                url: url.clone(),
                written: written.first()?.clone(),
            })
        }
        _ => None,
    }
}

/// The options of the HTTP endpoint at `url`: the command line's credentials, headers and
/// limits, and the profile it speaks.
fn http_options(cli: &Cli, auth: &Auth, url: &url::Url, api: &Option<Arc<Profile>>) -> HttpOptions {
    HttpOptions {
        url: url.clone(),
        environment: None,
        auth: auth.clone(),
        headers: cli
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect(),
        limit: cli.limit.0,
        max_pages: cli.max_pages.0,
        api: api.clone(),
        requests: RequestSettings::default(),
    }
}

/// The connection pool's options; a profile carries the page size in its own parameter.
fn client_options(cli: &Cli, api: Option<&Profile>) -> Result<ClientOptions> {
    Ok(ClientOptions {
        concurrency: usize::try_from(cli.concurrency.0).unwrap_or(usize::MAX),
        rps: cli.rps.map(|n| u32::try_from(n.0).unwrap_or(u32::MAX)),
        max_attempts: u32::try_from(cli.max_attempts.0).unwrap_or(u32::MAX),
        timeout: Duration::from_secs(cli.timeout.0),
        insecure: cli.insecure,
        ca_cert: cli.ca_cert.as_deref().map(read_ca_cert).transpose()?,
        limit_header: api.is_none().then_some(cli.limit.0),
        verbose: cli.verbose,
    })
}

/// The `--ca-cert` file, which must hold at least one PEM certificate.
fn read_ca_cert(path: &Path) -> Result<Vec<u8>> {
    let pem = std::fs::read(path).usage_context(|| format!("--ca-cert {}", path.display()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .usage_context(|| format!("--ca-cert {}: not a PEM certificate", path.display()))?;
    if certificates.is_empty() {
        return Err(usage(format!(
            "--ca-cert {}: no PEM certificate in the file",
            path.display()
        )));
    }
    Ok(pem)
}

/// A file or directory origin must exist; naming the argument helps spot a typo.
fn check_origin_exists(origin: &EndpointSpec, arg: &str) -> Result<()> {
    match origin {
        EndpointSpec::Directory(path) if !path.is_dir() => Err(usage(if path.exists() {
            format!("origin {arg} is not a directory")
        } else {
            format!("origin {arg} does not exist")
        })),
        EndpointSpec::File(path, _) if !path.is_file() => Err(usage(format!(
            "origin {arg} does not exist or is not a file"
        ))),
        _ => Ok(()),
    }
}

/// A directory destination is created if missing, but its parent folder must exist.
fn check_destination_parent(destination: &EndpointSpec, arg: &str) -> Result<()> {
    if let EndpointSpec::Directory(path) = destination {
        if path.exists() && !path.is_dir() {
            return Err(usage(format!(
                "destination {arg} exists and is not a directory"
            )));
        }
        let absolute = absolute(path);
        let parent = absolute.parent().unwrap_or(Path::new("/"));
        if !parent.is_dir() {
            return Err(usage(format!(
                "destination {arg}: its parent folder {} does not exist",
                parent.display()
            )));
        }
    }
    Ok(())
}

/// Two endpoints are the same when they name the same place (SPEC 1).
pub fn same_endpoint(a: &EndpointSpec, b: &EndpointSpec) -> bool {
    match (a, b) {
        (EndpointSpec::Http(a), EndpointSpec::Http(b)) => url_key(a) == url_key(b),
        (
            EndpointSpec::File(a, _) | EndpointSpec::Directory(a),
            EndpointSpec::File(b, _) | EndpointSpec::Directory(b),
        ) => resolved_path(a) == resolved_path(b),
        _ => false,
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Absolute, with `.`/`..` resolved and symlinks followed as far as the path exists.
fn resolved_path(path: &Path) -> PathBuf {
    let absolute = absolute(path);
    let mut existing = absolute.clone();
    let mut missing = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                missing.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut resolved = existing.canonicalize().unwrap_or(existing);
    for name in missing.into_iter().rev() {
        resolved.push(name);
    }
    lexically_normal(&resolved)
}

fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    struct NoSecrets;
    impl SecretSource for NoSecrets {
        fn var(&self, _name: &str) -> Option<String> {
            None
        }
        fn prompt_password(&self, _username: &str) -> Result<String> {
            Err(usage("no terminal"))
        }
    }

    fn config(args: &[&str]) -> Result<Config> {
        let cli =
            Cli::try_parse_from(std::iter::once("resource-sync").chain(args.iter().copied()))?;
        Config::from_cli(cli, &NoSecrets)
    }

    #[test]
    fn same_url_after_normalising() {
        let url = |text| EndpointSpec::parse(text).unwrap();
        assert!(same_endpoint(
            &url("HTTP://Example.COM:80/api/"),
            &url("http://example.com/api")
        ));
        assert!(!same_endpoint(
            &url("http://h/api?x=1"),
            &url("http://h/api")
        ));
        assert!(same_endpoint(
            &url("https://h:443/a/?x=1"),
            &url("https://h/a?x=1")
        ));
    }

    #[test]
    fn same_directory_in_different_spellings() {
        let dir = std::env::temp_dir();
        let a = EndpointSpec::Directory(dir.join("d"));
        let b = EndpointSpec::Directory(dir.join("./x/../d/"));
        assert!(same_endpoint(&a, &b));
    }

    #[test]
    fn format_follows_destination_and_flags() {
        assert_eq!(
            config(&["null", "http://h/api"]).unwrap().run.format,
            Format::Json
        );
        assert_eq!(config(&["null", "-"]).unwrap().run.format, Format::Yaml);
        assert_eq!(
            config(&["-j", "null", "-"]).unwrap().run.format,
            Format::Json
        );
        assert!(config(&["-j", "null", "/tmp/x.yaml"]).is_err());
    }

    #[test]
    fn missing_origin_and_password_are_usage_errors() {
        let error = config(&["/no/such/dir", "-"]).unwrap_err();
        assert_eq!(
            crate::exit_code::exit_for_error(&error),
            crate::exit_code::Exit::Usage
        );
        assert!(error.to_string().contains("/no/such/dir"));
        assert!(config(&["--username", "u", "null", "-"]).is_err());
    }
}
