//! Dialects: every convention of one API family (identity and links, pages, the write
//! request and its envelope, the uri a create answers with). One module per dialect.

pub mod ahead;
mod api;
mod hal;
mod jsonapi;
pub mod links;
pub mod profile;
mod simple;

pub use api::ApiDialect;
pub use hal::Hal;
pub use simple::Simple;

use std::borrow::Cow;
use std::sync::Arc;

use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

use crate::format::json_page::Step;
use crate::resource::{Identity, Resource};
use profile::Pages;

/// Which links are followed when reading HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowMode {
    All,
    Child,
    Page,
    None,
}

/// A link found in a resource: its relation name and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub relation: String,
    pub href: String,
}

/// Why a mapping is not a resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("not a mapping")]
    NotAMapping,
    #[error("no `id` field")]
    MissingId,
    #[error("no uri ({0})")]
    MissingUri(&'static str),
    #[error("no type can be derived ({0})")]
    MissingType(String),
    /// A member of a profile type without what its type needs.
    #[error("{0}")]
    Member(String),
}

/// The conventions one API family uses; nothing outside this module names its fields.
/// The defaults are those of an API whose members hold ids, not links (a profile's).
pub trait Dialect: Send + Sync {
    /// Identity of a mapping, or why it is not a resource.
    fn identity(&self, body: &Value) -> Result<Identity, IdentityError>;

    /// The mapping as a resource (the body is moved, not copied).
    fn resource(&self, body: Value) -> Result<Resource, IdentityError> {
        let identity = self.identity(&body)?;
        Ok(Resource::new(identity, body))
    }

    /// Every link of the mapping except `self`, in document order.
    fn links(&self, _body: &Value) -> Vec<Link> {
        Vec::new()
    }

    /// Resources embedded in a mapping (collection members).
    fn members<'a>(&self, _body: &'a Value) -> Vec<&'a Value> {
        Vec::new()
    }

    /// The members moved out of a container that is itself not written; only from
    /// `member_places`. A container without the place the convention names is an error
    /// saying what it lacks.
    fn take_members(&self, body: &mut Value) -> Result<Vec<Value>, String>;

    /// The key paths where a page holds members, so an HTTP page is read with them left
    /// as text and each member is parsed only when it is handed on.
    fn member_places(&self) -> Vec<Vec<Step<'_>>> {
        Vec::new()
    }

    /// Whether a fetched page is itself a resource (then read whole, members kept in it).
    fn page_is_resource(&self, page: &Value) -> bool {
        self.identity(page).is_ok()
    }

    /// The links a page's headers add in the follow mode: RFC 8288 `next` and `prev`.
    fn header_links(&self, headers: &HeaderMap, mode: FollowMode) -> Vec<Link> {
        match mode {
            FollowMode::None => Vec::new(),
            _ => links::next_links(headers),
        }
    }

    /// The media type the convention asks for and sends, where it names one.
    fn media_type(&self) -> Option<&'static str> {
        None
    }

    /// A collection's pages as the convention's own rule finds them from `first`, `limit`
    /// members a page; `None` where pages are found by following links.
    fn pages(&self, _first: Url, _limit: u64) -> Option<Pages<'_>> {
        None
    }

    /// Whether a link is followed in the given mode.
    fn follows(&self, _link: &Link, _mode: FollowMode) -> bool {
        false
    }

    /// The links of a mapping that the follow mode says to read.
    fn followed_links(&self, body: &Value, mode: FollowMode) -> Vec<Link> {
        self.links(body)
            .into_iter()
            .filter(|link| self.follows(link, mode))
            .collect()
    }

    /// Every uri the body holds as a link (its own included), replaced in place by
    /// `rebase`: how bodies are compared across hosts and cloned into new uris.
    fn map_links(&self, _body: &mut Value, _rebase: &mut dyn FnMut(&str) -> Option<String>) {}

    /// The fields of a `kind` resource that are its identity or its links: an
    /// environment's vars never rewrite them (SPEC section 11).
    fn identity_fields(&self, _kind: &str) -> Vec<Vec<String>> {
        vec![vec!["id".to_string()]]
    }

    /// The body POSTed to create, without the identity the server assigns.
    fn without_identity(&self, body: Value) -> Value {
        body
    }

    /// The uri a created resource's body names for itself, if any.
    fn own_uri<'b>(&self, _body: &'b Value) -> Option<&'b str> {
        None
    }

    /// Set the id a body keeps of its own to `id` (typed like the one it had), where it
    /// keeps one: a clone is sent with the id the destination gave it.
    fn set_own_id(&self, body: &mut Value, id: &str) {
        if let Some(slot) = body.get_mut("id") {
            *slot = crate::resource::typed_like(slot, id);
        }
    }

    /// The id a create's answer names, where it names no uri of its own.
    fn answered_id(&self, answer: &Value) -> Option<String> {
        crate::resource::scalar_text(answer.get("id")?)
    }

    /// A document found in a directory's `folder` (its type's folder).
    fn resource_in_folder(&self, _folder: &str, body: Value) -> Result<Resource, IdentityError> {
        self.resource(body)
    }

    /// The document a single file or a pipe holds for `resource`.
    fn file_document<'r>(&self, resource: &'r Resource) -> Cow<'r, Value> {
        Cow::Borrowed(&resource.body)
    }

    /// The field a batch write (`PATCH <collection>`) carries its items under.
    fn batch_field(&self) -> &'static str {
        "items"
    }
}

/// Which built-in dialect reads identity out of resources (`--hal`, `--simple`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    Hal,
    Simple,
}

/// The dialect of a run's `--hal`/`--simple` choice.
pub fn dialect(kind: SchemaKind) -> Arc<dyn Dialect> {
    match kind {
        SchemaKind::Hal => Arc::new(Hal),
        SchemaKind::Simple => Arc::new(Simple),
    }
}

/// Replace the string at `slot` by what `rebase` makes of it, if anything.
fn rebase_string(slot: &mut Value, rebase: &mut dyn FnMut(&str) -> Option<String>) {
    if let Some(new) = slot.as_str().and_then(&mut *rebase) {
        *slot = Value::String(new);
    }
}

/// Whether a link relation names a page of the same collection.
pub fn is_page_relation(relation: &str) -> bool {
    relation == "next" || relation == "prev"
}
