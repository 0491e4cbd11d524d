//! Endpoints: where resources are read from and written to. `EndpointSpec` decides the
//! kind from the argument's text; each kind is one module behind the `Endpoint` trait.

mod directory;
mod file;
pub mod http;
mod inventory;
mod null;
mod parse;
mod spill;
mod stdio;

use std::path::{Path, PathBuf};

use anyhow::Result;
use futures::future::BoxFuture;
use url::Url;

use crate::config::Config;
use crate::exit_code::usage;
use crate::format::Format;
use crate::interrupt::Interrupt;
use crate::plan::{Decision, Inventory, March, Stale};
use crate::report::Report;
use crate::resource::Resource;
use crate::schema::Dialect;

pub use file::{write_atomically_with, FileKind};

/// An endpoint as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointSpec {
    /// `-`: stdin as an origin, stdout as the destination.
    Stdio,
    /// `null` or `/dev/null`: reads nothing, writes nothing.
    Null,
    /// An http(s) REST API.
    Http(Url),
    /// One file holding every resource.
    File(PathBuf, FileKind),
    /// A tree of `<type>/<id>.<ext>` files.
    Directory(PathBuf),
}

impl EndpointSpec {
    /// Decide the endpoint kind from the argument's text, in SPEC order.
    pub fn parse(argument: &str) -> Result<Self> {
        if argument == "-" {
            return Ok(EndpointSpec::Stdio);
        }
        if argument == "null" || argument == "/dev/null" {
            return Ok(EndpointSpec::Null);
        }
        let lower = argument.get(..8).unwrap_or(argument).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let url = Url::parse(argument).map_err(|error| {
                usage(format!(
                    "invalid URL {}: {error}",
                    redact_argument(argument)
                ))
            })?;
            return Ok(EndpointSpec::Http(url));
        }
        if let Some(kind) = FileKind::from_path(argument) {
            return Ok(EndpointSpec::File(PathBuf::from(argument), kind));
        }
        Ok(EndpointSpec::Directory(PathBuf::from(argument)))
    }

    /// The format written when neither `--json` nor `--yaml` is given.
    pub fn default_format(&self) -> Format {
        match self {
            EndpointSpec::Http(_) => Format::Json,
            EndpointSpec::File(_, FileKind::Json | FileKind::JsonLines) => Format::Json,
            _ => Format::Yaml,
        }
    }

    /// How the argument is shown in messages.
    pub fn describe(&self) -> String {
        match self {
            EndpointSpec::Stdio => "-".to_string(),
            EndpointSpec::Null => "null".to_string(),
            EndpointSpec::Http(url) => crate::endpoint::http::redact_url(url),
            EndpointSpec::File(path, _) | EndpointSpec::Directory(path) => {
                path.display().to_string()
            }
        }
    }

    /// The local path of a file or directory endpoint.
    pub fn path(&self) -> Option<&Path> {
        match self {
            EndpointSpec::File(path, _) | EndpointSpec::Directory(path) => Some(path),
            _ => None,
        }
    }
}

/// A URL argument that did not parse, safe to print: the text between `://` and the last
/// `@` of the authority keeps its user name, not its password.
fn redact_argument(argument: &str) -> String {
    let Some(start) = argument.find("://").map(|at| at + 3) else {
        return argument.to_string();
    };
    let rest = &argument[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@').map(|at| &authority[..at]) {
        Some(userinfo) => match userinfo.split_once(':') {
            Some((user, _)) => format!(
                "{}{user}:REDACTED{}",
                &argument[..start],
                &rest[userinfo.len()..]
            ),
            None => argument.to_string(),
        },
        None => argument.to_string(),
    }
}

/// What reading and writing need besides the endpoint itself.
pub struct Context<'a> {
    pub config: &'a Config,
    pub dialect: &'a dyn Dialect,
    pub http: &'a http::HttpClient,
    pub report: &'a Report,
    /// Ctrl-C: writers stop starting requests when it is requested.
    pub interrupt: &'a Interrupt,
}

/// Receives each resource an origin reads, as it is read.
pub type Found<'a> = dyn FnMut(Resource) -> Result<()> + Send + 'a;

/// The resources to write, in write order, with their dependency graph.
pub struct WriteSet<'a> {
    pub resources: &'a [Resource],
    pub order: &'a [usize],
    pub graph: &'a crate::graph::DependencyGraph,
}

impl WriteSet<'_> {
    /// The resources in write order.
    pub fn ordered(&self) -> impl Iterator<Item = &Resource> {
        self.order.iter().map(|&index| &self.resources[index])
    }
}

/// One kind of place resources live. Thin: it lists what it holds, says what it holds
/// at a resource's target (its inventory), writes what the march decided, and deletes.
pub trait Endpoint: Send + Sync {
    /// Check, before anything is read or written, that the endpoint can be written.
    fn check_writable(&self, _context: &Context<'_>) -> Result<()> {
        Ok(())
    }

    /// Stream every resource into `found`, in the order read.
    fn read<'a>(
        &'a self,
        context: &'a Context<'a>,
        found: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<()>>;

    /// What this destination holds, for the march. `compare` false (`--no-compare`):
    /// nothing is compared. By default a destination is replaced whole (a file, stdout),
    /// so every resource is written as new.
    fn inventory<'a>(
        &'a self,
        _context: &'a Context<'a>,
        _compare: bool,
    ) -> BoxFuture<'a, Result<Box<dyn Inventory + 'a>>> {
        inventory::known(inventory::WrittenWhole)
    }

    /// What the destination holds after writing, for `--verify`.
    fn verify_inventory<'a>(
        &'a self,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn Inventory + 'a>>> {
        self.inventory(context, true)
    }

    /// A stage for streaming writes, where this kind of destination has one; it asks
    /// `march` about each resource as it arrives.
    fn stage<'a>(
        &'a self,
        _march: &'a March<'a>,
        _context: &Context<'_>,
    ) -> Result<Option<Box<dyn Stage + 'a>>> {
        Ok(None)
    }

    /// Write what the march decided (`decisions[i]` is for `set.resources[i]`); a
    /// resource decided unchanged is only recorded. Outcomes go to the report.
    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        decisions: &'a [Decision],
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>>;

    /// `--rm`: delete what the march found stale, in the order given.
    fn delete<'a>(
        &'a self,
        _stale: &'a [Stale],
        _context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// A destination taking each resource as it is read (streaming), so only identities stay
/// in memory; nothing reaches the destination until `commit`, which sees the final set.
/// Dropping a stage without committing leaves the destination as it was.
pub trait Stage: Send {
    /// Take one resource; a later resource with the same uri replaces an earlier one.
    fn put(&mut self, resource: Resource) -> Result<()>;

    /// Write what `set` keeps (its resources may carry no body).
    fn commit<'a>(
        self: Box<Self>,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>>
    where
        Self: 'a;
}

/// The endpoint implementation for a spec.
pub fn open(spec: &EndpointSpec) -> Box<dyn Endpoint> {
    match spec {
        EndpointSpec::Stdio => Box::new(stdio::Stdio),
        EndpointSpec::Null => Box::new(null::Null),
        EndpointSpec::Http(url) => Box::new(http::HttpEndpoint::new(url.clone())),
        EndpointSpec::File(path, kind) => Box::new(file::FileEndpoint::new(path.clone(), *kind)),
        EndpointSpec::Directory(path) => Box::new(directory::Directory::new(path.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unparsable_urls_are_printed_without_their_password() {
        let error = EndpointSpec::parse("http://user:hunter2@h:99999/api").unwrap_err();
        let text = format!("{error:#}");
        assert!(
            !text.contains("hunter2") && text.contains("user:REDACTED@h"),
            "{text}"
        );
        assert_eq!(
            redact_argument("http://a@b:c@h/x@y"),
            "http://a@b:REDACTED@h/x@y"
        );
        assert_eq!(redact_argument("http://h/p:q@r"), "http://h/p:q@r");
    }

    #[test]
    fn kinds_are_decided_in_spec_order() {
        assert_eq!(EndpointSpec::parse("-").unwrap(), EndpointSpec::Stdio);
        assert_eq!(EndpointSpec::parse("null").unwrap(), EndpointSpec::Null);
        assert_eq!(
            EndpointSpec::parse("/dev/null").unwrap(),
            EndpointSpec::Null
        );
        assert!(matches!(
            EndpointSpec::parse("https://a.example/api").unwrap(),
            EndpointSpec::Http(_)
        ));
        assert!(matches!(
            EndpointSpec::parse("http://x.yaml").unwrap(),
            EndpointSpec::Http(_)
        ));
        let file = |arg| EndpointSpec::parse(arg).unwrap();
        assert_eq!(
            file("a/b.yaml"),
            EndpointSpec::File("a/b.yaml".into(), FileKind::Yaml)
        );
        assert_eq!(
            file("b.yml"),
            EndpointSpec::File("b.yml".into(), FileKind::Yaml)
        );
        assert_eq!(
            file("b.json"),
            EndpointSpec::File("b.json".into(), FileKind::Json)
        );
        assert_eq!(
            file("b.jsonl"),
            EndpointSpec::File("b.jsonl".into(), FileKind::JsonLines)
        );
        assert_eq!(
            file("b.ndjson"),
            EndpointSpec::File("b.ndjson".into(), FileKind::JsonLines)
        );
        assert_eq!(file("fixtures"), EndpointSpec::Directory("fixtures".into()));
        assert!(EndpointSpec::parse("http://").is_err());
    }

    #[test]
    fn default_format_is_json_for_http_and_json_files() {
        assert_eq!(
            EndpointSpec::parse("http://h/").unwrap().default_format(),
            Format::Json
        );
        assert_eq!(
            EndpointSpec::parse("d").unwrap().default_format(),
            Format::Yaml
        );
        assert_eq!(
            EndpointSpec::parse("-").unwrap().default_format(),
            Format::Yaml
        );
        assert_eq!(
            EndpointSpec::parse("x.jsonl").unwrap().default_format(),
            Format::Json
        );
    }
}
