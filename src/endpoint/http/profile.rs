//! Writing an API through an `--api` profile (SPEC section 8): each resource's destination
//! id is known before any write — its own (`create: put`), an `--id-map` entry or a natural
//! `key` match (`create: post`) — or it is created by a POST whose answer names it. Bodies
//! go out as the destination gets them: `readonly` fields dropped, parent fields rewritten to
//! destination ids, JSON:API's `{"data": ...}` envelope.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use anyhow::{anyhow, Result};
use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::client::same_origin;
use super::walk::{join_path, Walk};
use super::write::{body_request, Writes};
use super::{redact_url, HttpEndpoint, Reply, Request};
use crate::endpoint::options::HttpOptions;
use crate::endpoint::Context;
use crate::exit_code::remote;
use crate::plan::{Held, Inventory, Listed, Stale};
use crate::remap::{id_of_uri, IdMap, SharedIdMap};
use crate::resource::{field_at_mut, typed_like, Resource};
use crate::schema::profile::{field_text, CreateMethod, Profile, TypeProfile, UpdateMethod};
use crate::schema::Dialect;

/// `(type, id as text)`.
type Key = (String, String);

/// What the destination holds, and the destination id of each resource of the run;
/// shared by the march's inventory and the writer.
pub(super) struct ProfileState {
    /// The endpoint's own options (its URL is the API root), for reading it again.
    options: HttpOptions,
    profile: Arc<Profile>,
    compare: bool,
    /// The destination's members by (type, id); filled by `survey`.
    held: OnceLock<HashMap<Key, Value>>,
    /// Origin (type, id) -> destination id: from `create: put`, the id map, key matches,
    /// and creates as they are answered.
    ids: Mutex<HashMap<Key, String>>,
    map: SharedIdMap,
}

impl ProfileState {
    pub(super) fn new(
        endpoint: &HttpEndpoint,
        context: &Context<'_>,
        profile: &Arc<Profile>,
        compare: bool,
    ) -> Self {
        ProfileState {
            options: endpoint.options.clone(),
            profile: Arc::clone(profile),
            compare,
            held: OnceLock::new(),
            ids: Mutex::new(HashMap::new()),
            map: context.id_map.clone(),
        }
    }

    /// A state for `--verify`: the destination read again, the ids this run learnt kept
    /// (a clone without an id map or key is found by them).
    pub(super) fn for_verify(&self) -> Self {
        ProfileState {
            options: self.options.clone(),
            profile: Arc::clone(&self.profile),
            compare: true,
            held: OnceLock::new(),
            ids: Mutex::new(self.ids().clone()),
            map: self.map.clone(),
        }
    }

    fn ids(&self) -> MutexGuard<'_, HashMap<Key, String>> {
        // Entries are inserted whole; a poisoned lock still holds a consistent table.
        self.ids.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    fn map(&self) -> MutexGuard<'_, IdMap> {
        self.map.lock()
    }

    fn kind(&self, resource: &Resource) -> Result<&TypeProfile> {
        self.profile.types.get(&*resource.kind).ok_or_else(|| {
            anyhow!(
                "{}: the profile has no type {:?}",
                resource.uri,
                resource.kind
            )
        })
    }

    fn destination_id(&self, resource: &Resource) -> Option<String> {
        self.ids()
            .get(&(resource.kind.to_string(), resource.id_text()))
            .cloned()
    }

    /// Reads the destination (the written types and their parents) and settles every
    /// resource's destination id, parents first.
    async fn survey(&self, kept: &[Resource], context: &Context<'_>) -> Result<()> {
        if self.held.get().is_some() {
            return Ok(());
        }
        let mut held = HashMap::new();
        let read = self.compare || context.run.remove || self.needs_keys();
        if read {
            let mut members: Vec<Resource> = Vec::new();
            Walk::new(&self.profile, &self.options, context)
                .run(&mut |resource: Resource| {
                    members.push(resource);
                    Ok(())
                })
                .await?;
            for member in members {
                held.insert(
                    (member.kind.to_string(), member.id_text()),
                    member.body.into_value(),
                );
            }
        }
        self.settle_ids(kept, &held, read)?;
        let _ = self.held.set(held);
        Ok(())
    }

    fn needs_keys(&self) -> bool {
        self.profile.types.values().any(|t| !t.key.is_empty())
    }

    /// Destination ids known before writing, type by type, parents first (a key may hold
    /// a parent field, compared after mapping to destination ids).
    fn settle_ids(&self, kept: &[Resource], held: &HashMap<Key, Value>, read: bool) -> Result<()> {
        for kind in self.profile.parents_first() {
            let keys = self.key_index(kind, held)?;
            // A mapped clone the destination no longer lists is created again.
            let still_there =
                |id: &String| !read || held.contains_key(&(kind.name.clone(), id.clone()));
            for resource in kept.iter().filter(|r| *r.kind == *kind.name) {
                let known = match kind.create {
                    CreateMethod::Put => Some(resource.id_text()),
                    // Without a body, an undo's record of a create (`undo::created`): its
                    // id is already the destination's, the one its target names.
                    CreateMethod::Post if resource.body.is_null() => {
                        Some(resource.id_text()).filter(still_there)
                    }
                    CreateMethod::Post => {
                        self.mapped_id(resource).filter(still_there).or_else(|| {
                            let key = self.origin_key(kind, &resource.body)?;
                            keys.get(&key).cloned()
                        })
                    }
                };
                if let Some(id) = known {
                    self.ids()
                        .insert((resource.kind.to_string(), resource.id_text()), id);
                }
            }
        }
        Ok(())
    }

    fn mapped_id(&self, resource: &Resource) -> Option<String> {
        let new_uri = self.map().get(&resource.uri)?.to_string();
        Some(id_of_uri(&new_uri).to_string())
    }

    /// The destination's members of `kind` by key; two with one key fail the run.
    fn key_index(
        &self,
        kind: &TypeProfile,
        held: &HashMap<Key, Value>,
    ) -> Result<HashMap<Vec<String>, String>> {
        let mut index: HashMap<Vec<String>, String> = HashMap::new();
        if kind.key.is_empty() {
            return Ok(index);
        }
        for ((name, id), member) in held {
            if *name != kind.name {
                continue;
            }
            let Some(key) = kind
                .key
                .iter()
                .map(|field| kind.field(member, field))
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            if let Some(other) = index.insert(key.clone(), id.clone()) {
                return Err(remote(format!(
                    "two {} resources at the destination have the key {}: ids {other} and {id}",
                    kind.name,
                    key.join(", ")
                )));
            }
        }
        Ok(index)
    }

    /// An origin member's key, parent fields mapped to destination ids.
    fn origin_key(&self, kind: &TypeProfile, member: &Value) -> Option<Vec<String>> {
        kind.key
            .iter()
            .map(|field| {
                let value = kind.field(member, field)?;
                match kind.parents.iter().find(|(f, _)| f == field) {
                    Some((_, parent)) => self.ids().get(&(parent.clone(), value)).cloned(),
                    None => Some(value),
                }
            })
            .collect()
    }

    /// The member as the destination gets it: readonly fields dropped, parent fields
    /// rewritten to destination ids, its id set to `id` (or dropped when `None`).
    fn outgoing(&self, kind: &TypeProfile, member: &Value, id: Option<&str>) -> Value {
        let mut body = member.clone();
        let ids = self.ids();
        for (field, parent) in &kind.parents {
            let path = kind.parent_path(field);
            if let Some(slot) = field_at_mut(&mut body, &path) {
                if let Some(new) = field_text(slot).and_then(|old| ids.get(&(parent.clone(), old)))
                {
                    *slot = typed_like(slot, new);
                }
            }
        }
        drop(ids);
        kind.write_object(body, id)
    }

    /// The URL of `path` filled from `body`'s fields (`{id}` = `id`).
    fn url(
        &self,
        kind: &TypeProfile,
        template: &str,
        body: &Value,
        id: Option<&str>,
    ) -> Result<Url> {
        join_path(&self.options.url, &path_of(kind, template, body, id)?)
    }

    /// Where a resource goes: its destination item URL, or the collection it is POSTed to.
    pub(super) fn target(&self, resource: &Resource) -> Result<String> {
        let kind = self.kind(resource)?;
        let url = match self.destination_id(resource) {
            Some(id) => self.item_url(resource, &id)?,
            None => {
                let body = self.outgoing(kind, &resource.body, None);
                let collection = kind.path.split('?').next().unwrap_or(&kind.path);
                self.url(kind, collection, &body, None)?
            }
        };
        Ok(redact_url(&url))
    }

    fn item_url(&self, resource: &Resource, id: &str) -> Result<Url> {
        join_path(&self.options.url, &self.item_path(resource, id)?)
    }

    /// The destination item path (relative to the API root), as the id map keeps it.
    fn item_path(&self, resource: &Resource, id: &str) -> Result<String> {
        let kind = self.kind(resource)?;
        let body = self.outgoing(kind, &resource.body, Some(id));
        path_of(kind, &kind.item, &body, Some(id))
    }
}

/// A body as compared: readonly fields left out, the id and parent fields as text (`14`
/// and `"14"` are one id, SPEC section 8: a server that stores a parent id from its URL
/// as a string holds the same resource).
fn as_compared(kind: &TypeProfile, body: Value) -> Value {
    let mut body = kind.without_readonly(body);
    let paths = std::iter::once(kind.field_path(&kind.id)).chain(
        kind.parents
            .iter()
            .map(|(field, _)| kind.parent_path(field)),
    );
    for path in paths {
        if let Some(slot) = field_at_mut(&mut body, &path) {
            if let Some(text) = field_text(slot) {
                *slot = Value::String(text);
            }
        }
    }
    body
}

/// `template` filled from `body`'s fields (`{id}` = `id`).
fn path_of(kind: &TypeProfile, template: &str, body: &Value, id: Option<&str>) -> Result<String> {
    kind.fill_from(template, body, id).ok_or_else(|| {
        anyhow!(
            "type {}: a field that {template} needs is missing",
            kind.name
        )
    })
}

/// The march's view of a profile destination.
pub(super) struct ProfileInventory<'a> {
    pub(super) state: Arc<ProfileState>,
    pub(super) context: &'a Context<'a>,
}

impl Inventory for ProfileInventory<'_> {
    fn survey<'s>(&'s self, kept: &'s [Resource]) -> BoxFuture<'s, Result<()>> {
        Box::pin(self.state.survey(kept, self.context))
    }

    fn target(&self, resource: &Resource) -> Result<String> {
        self.state.target(resource)
    }

    /// A resource whose destination id is known is there; anything else is created.
    fn holds(&self, resource: &Resource) -> Result<Option<bool>> {
        Ok(Some(self.state.destination_id(resource).is_some()))
    }

    fn held(&self, resource: &Resource, _text: Option<&str>) -> Result<Held> {
        let state = &self.state;
        let Some(held) = state.held.get() else {
            return Ok(Held::Unseen);
        };
        let Some(id) = state.destination_id(resource) else {
            return Ok(Held::Nothing);
        };
        let kind = state.kind(resource)?;
        Ok(match held.get(&(resource.kind.to_string(), id)) {
            Some(member) => Held::Copy(as_compared(kind, member.clone())),
            None if kind.create == CreateMethod::Put => Held::Nothing,
            None => Held::Unseen,
        })
    }

    fn kept(&self, resource: &Resource) -> Result<Option<Value>> {
        let (Some(held), Some(id)) = (self.state.held.get(), self.state.destination_id(resource))
        else {
            return Ok(None);
        };
        Ok(held.get(&(resource.kind.to_string(), id)).cloned())
    }

    /// A member lands at its item path, which its uri is.
    fn place<'r>(&self, resource: &'r Resource) -> Option<Cow<'r, str>> {
        Some(Cow::Borrowed(&resource.uri))
    }

    fn comparable<'r>(&self, resource: &'r Resource) -> Cow<'r, Value> {
        let state = &self.state;
        let Ok(kind) = state.kind(resource) else {
            return Cow::Borrowed(&resource.body);
        };
        let id = state.destination_id(resource);
        let outgoing = state.outgoing(kind, &resource.body, id.as_deref());
        Cow::Owned(as_compared(kind, outgoing))
    }

    fn source(&self, resource: &Resource) -> Option<String> {
        let kind = self.state.kind(resource).ok()?;
        (kind.create == CreateMethod::Post).then(|| resource.uri.to_string())
    }

    /// The destination's members of the types read, by type and destination id.
    fn listing(&self) -> Result<Vec<Listed<'_>>> {
        let Some(held) = self.state.held.get() else {
            return Ok(Vec::new());
        };
        Ok(held
            .keys()
            .map(|(name, id)| Listed {
                key: Cow::Owned(listing_key(name, id)),
                kind: Some(name),
            })
            .collect())
    }

    fn key_of<'r>(&self, resource: &'r Resource) -> Option<Cow<'r, [u8]>> {
        let id = self.state.destination_id(resource)?;
        Some(Cow::Owned(listing_key(&resource.kind, &id)))
    }

    /// The members under `keys` as resources at their item URLs, parents linked by their
    /// `parents` fields.
    fn stale_entries(&self, keys: &[&[u8]]) -> Result<Vec<Stale>> {
        let state = &self.state;
        let Some(held) = state.held.get() else {
            return Ok(Vec::new());
        };
        let mut stale: Vec<Resource> = Vec::new();
        for key in keys {
            let Some((name, id)) = std::str::from_utf8(key)
                .ok()
                .and_then(|key| key.split_once('\0'))
            else {
                continue;
            };
            let Some(member) = held.get(&(name.to_string(), id.to_string())) else {
                continue;
            };
            let kind = &state.profile.types[name];
            let mut identity = kind
                .identity(member)
                .map_err(|reason| anyhow!("{name} {id}: {reason}"))?;
            identity.uri = state.url(kind, &kind.item, member, Some(id))?.to_string();
            stale.push(Resource::new(identity, member.clone()));
        }
        let refs = state.profile.references();
        for resource in &mut stale {
            resource.references = crate::remap::reference_keys(&refs, &resource.body).into();
        }
        crate::remap::RefIndex::new(&refs, &stale).add_parents(&mut stale);
        Ok(stale
            .into_iter()
            .map(|resource| Stale {
                target: redact_url_text(&resource.uri),
                text: Some(self.context.run.format.serialize(&resource.body)),
                resource,
            })
            .collect())
    }
}

/// A held member's key in the listing: its type and destination id.
fn listing_key(name: &str, id: &str) -> Vec<u8> {
    format!("{name}\0{id}").into_bytes()
}

fn redact_url_text(uri: &str) -> String {
    Url::parse(uri)
        .map(|url| redact_url(&url))
        .unwrap_or_else(|_| uri.to_string())
}

/// Builds each write request and learns what a create answers.
pub(super) struct ProfileWriter {
    pub(super) state: Arc<ProfileState>,
}

impl Writes for ProfileWriter {
    /// PUT or PATCH at the destination item URL of a held resource (or a `create: put`
    /// one); POST to its collection otherwise.
    fn request(
        &self,
        _endpoint: &HttpEndpoint,
        resources: &[&Resource],
        _dialect: &dyn Dialect,
    ) -> Result<(Request, Vec<String>)> {
        let resource = resources[0];
        let state = &self.state;
        let kind = state.kind(resource)?;
        let (method, url, body) = match state.destination_id(resource) {
            Some(id) => {
                let method = match kind.update {
                    UpdateMethod::Put => Method::PUT,
                    UpdateMethod::Patch => Method::PATCH,
                };
                let body = state.outgoing(kind, &resource.body, Some(&id));
                (method, state.item_url(resource, &id)?, body)
            }
            None => {
                let sent_id = kind.send_id.then(|| resource.id_text());
                let body = state.outgoing(kind, &resource.body, sent_id.as_deref());
                let collection = kind.path.split('?').next().unwrap_or(&kind.path);
                (
                    Method::POST,
                    state.url(kind, collection, &body, None)?,
                    body,
                )
            }
        };
        let body = kind.write_body(body);
        let format = crate::format::Format::Json;
        Ok(body_request(
            (method, url),
            &body,
            format,
            kind.media_type(),
        ))
    }

    /// After a successful POST: the new id from the answer's id field, else a
    /// same-origin `Location`; kept for dependents and in the id map.
    fn learn(&self, resource: &Resource, request: &Request, reply: &Reply) -> Result<String> {
        let state = &self.state;
        let kind = state.kind(resource)?;
        let id = new_id(kind, reply, &request.url, resource).ok_or_else(|| {
            anyhow!(
                "created, but the answer named no id (no {:?} field, no Location on this origin)",
                kind.id
            )
        })?;
        state
            .ids()
            .insert((resource.kind.to_string(), resource.id_text()), id.clone());
        state
            .map()
            .record(resource.uri.to_string(), state.item_path(resource, &id)?)?;
        Ok(redact_url(&state.item_url(resource, &id)?))
    }

    fn target(&self, _endpoint: &HttpEndpoint, resource: &Resource) -> Option<String> {
        self.state.target(resource).ok()
    }
}

fn new_id(
    kind: &TypeProfile,
    reply: &Reply,
    collection: &Url,
    resource: &Resource,
) -> Option<String> {
    if reply.status == 204 && kind.send_id {
        return Some(resource.id_text());
    }
    let body: Option<Value> = serde_json::from_slice(&reply.body).ok();
    let from_body = body.and_then(|body| kind.id_of(kind.answered(&body)?));
    if from_body.is_some() {
        return from_body;
    }
    let url = reply.location(collection)?;
    same_origin(&url, collection).then(|| id_of_uri(url.as_str()).to_string())
}
