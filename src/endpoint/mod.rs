//! Endpoints: where resources are read from and written to. `EndpointSpec` decides the
//! kind from the argument's text; each kind is one module behind the `Endpoint` trait.

mod directory;
mod file;
pub mod http;
mod inventory;
mod null;
pub mod options;
mod parse;
mod reader_thread;
pub mod spec;
mod spill;
mod stdio;
mod text_spill;

use std::sync::Arc;

use anyhow::Result;
use futures::future::BoxFuture;

use crate::interrupt::Interrupt;
use crate::plan::{Decision, Inventory, March, Stale};
use crate::remap::SharedIdMap;
use crate::report::Report;
use crate::resource::Resource;
use crate::schema::Dialect;

pub(crate) use directory::safe_segment;
pub use spec::EndpointSpec;

/// What reading and writing need besides the endpoint itself.
pub struct Context<'a> {
    /// What the run hands every endpoint; an HTTP endpoint holds its own options besides.
    pub run: &'a options::RunOptions,
    /// Shared, so a reader thread can hold it too.
    pub dialect: &'a Arc<dyn Dialect>,
    pub http: &'a http::HttpClient,
    pub report: &'a Report,
    /// The run's id map (`--id-map`, or an empty one-shot map).
    pub id_map: &'a SharedIdMap,
    /// SIGINT or SIGTERM: writers stop starting requests when it is requested.
    pub interrupt: &'a Interrupt,
}

impl Context<'_> {
    /// Where `resource` holds its identity and its links, and its `--ref` fields: what
    /// an environment's vars never rewrite, as it is read or kept in a backup.
    pub fn identity_fields(&self, resource: &Resource) -> Vec<Vec<String>> {
        let mut kept = self.dialect.identity_fields(&resource.kind);
        kept.extend(self.run.refs.iter().map(|reference| reference.path.clone()));
        kept
    }
}

/// Receives each resource an origin reads, as it is read.
pub type Found<'a> = dyn FnMut(Resource) -> Result<()> + Send + 'a;

/// The resources to write, in write order, with their dependency graph.
pub struct WriteSet<'a> {
    pub resources: &'a [Resource],
    pub order: &'a [u32],
    pub graph: &'a crate::graph::DependencyGraph,
}

impl WriteSet<'_> {
    /// The resources in write order.
    pub fn ordered(&self) -> impl Iterator<Item = &Resource> {
        self.indices().map(|index| &self.resources[index])
    }

    /// Indices into `resources`, in write order.
    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.iter().map(|&index| index as usize)
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

    /// What this destination holds, for the march. `compare` false (`--no-compare`): the
    /// march will not compare, so nothing need be read for it (an API is read only for
    /// `--rm`). By default a destination is replaced whole (a file, stdout), so every
    /// resource is written as new.
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

    /// The destination's whole copy of `resource` at `target`, read there (`None`: nothing
    /// there, or a kind whose inventory reads copies whole): a backup keeps it where a
    /// listing showed only part of it.
    fn copy_at<'a>(
        &'a self,
        _resource: &'a Resource,
        _target: &'a str,
        _context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Option<serde_json::Value>>> {
        Box::pin(async { Ok(None) })
    }

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

/// What an endpoint kind can do (after rclone's `Features`): `config` and `sync` ask this
/// instead of matching the kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Features {
    /// Keeps what is written, so it can be read back (`--verify`) and compared with.
    pub keeps_writes: bool,
    /// Writes on the process's stdout (then `--output json` has nowhere to go).
    pub on_stdout: bool,
    /// Creates by POST and assigns ids of its own (`--create post`).
    pub assigns_ids: bool,
    /// Adds fields of its own to what it is given (ids, timestamps, links), so a field
    /// only it holds is no difference.
    pub adds_fields: bool,
}

impl EndpointSpec {
    /// What this kind of endpoint can do.
    pub fn features(&self) -> Features {
        let local = Features {
            keeps_writes: true,
            ..Features::default()
        };
        match self {
            EndpointSpec::Stdio => Features {
                on_stdout: true,
                ..Features::default()
            },
            EndpointSpec::Null => Features::default(),
            EndpointSpec::Http(_) => Features {
                assigns_ids: true,
                adds_fields: true,
                ..local
            },
            EndpointSpec::File(..) | EndpointSpec::Directory(_) => local,
        }
    }
}

/// The endpoint implementation for a spec; an HTTP one takes its own options from
/// `http_endpoints`, where `config` made an entry for every HTTP endpoint of the run.
pub fn open(spec: &EndpointSpec, http_endpoints: &[options::HttpOptions]) -> Box<dyn Endpoint> {
    match spec {
        EndpointSpec::Stdio => Box::new(stdio::Stdio),
        EndpointSpec::Null => Box::new(null::Null),
        EndpointSpec::Http(url) => Box::new(http::HttpEndpoint::new(
            http_endpoints
                .iter()
                .find(|options| options.url == *url)
                .cloned()
                .expect("config makes the options of every HTTP endpoint it names"),
        )),
        EndpointSpec::File(path, kind) => Box::new(file::FileEndpoint::new(path.clone(), *kind)),
        EndpointSpec::Directory(path) => Box::new(directory::Directory::new(path.clone())),
    }
}
