//! The HTTP(S) REST endpoint: it reads (a crawl of linked pages, or a profile's walk),
//! says what it holds (inventory.rs, profile.rs) and writes each resource as soon as its
//! parents are in (write.rs, with a `Writes` strategy: a push, a clone or a profile).

mod ahead;
mod auth;
mod client;
mod clone;
mod crawl;
mod inventory;
mod limit;
mod profile;
mod walk;
mod write;

pub use client::{redact_url, HttpClient, Reply, Request};
pub use crawl::read_page;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context as _, Result};
use futures::future::BoxFuture;
use serde_json::Value;
use url::Url;

use super::{Context, Endpoint, Found, Stage, WriteSet};
use crate::endpoint::options::HttpOptions;
use crate::endpoint::spec::url_key;
use crate::endpoint::text_spill::TextSpill;
use crate::plan::{Decision, Inventory, March, Stale};
use crate::remap::RefIndex;
use crate::resource::Resource;
use crate::schema::profile::Profile;
use crate::schema::Dialect;
use clone::Cloner;
use crawl::Crawl;
use inventory::{CloneInventory, PushInventory};
use profile::{ProfileInventory, ProfileState, ProfileWriter};
use walk::Walk;
use write::{Bodies, Decided, HttpStage, Put, Writer, Writes};

/// A REST API rooted at a URL.
pub struct HttpEndpoint {
    /// Its own options: URL, credentials, limits, profile.
    options: HttpOptions,
    /// `url` without userinfo: what rebased uris start from.
    bare: Url,
    /// With `--api`: what the destination holds and the destination ids, once surveyed.
    profile_state: OnceLock<Arc<ProfileState>>,
    /// Whether `OPTIONS` on a collection allows PATCH, asked once per collection.
    batch_support: Mutex<HashMap<String, bool>>,
}

impl HttpEndpoint {
    pub fn new(options: HttpOptions) -> Self {
        HttpEndpoint {
            bare: client::without_userinfo(&options.url),
            options,
            profile_state: OnceLock::new(),
            batch_support: Mutex::new(HashMap::new()),
        }
    }

    /// The media type the API's convention names for its requests, where it names one
    /// (a JSON:API profile's).
    fn media_type(&self) -> Option<&'static str> {
        self.options.api.as_deref().and_then(Profile::media_type)
    }

    /// A resource's uri with scheme, host and port replaced by this endpoint's; never with
    /// userinfo (the client adds the user's own credentials by origin).
    pub fn rebase(&self, uri: &str) -> Result<Url> {
        if let Some(rebased) = self.rebase_absolute(uri) {
            return Ok(rebased);
        }
        let mut target = self
            .options
            .url
            .join(uri)
            .with_context(|| format!("resource uri {uri:?} is not a valid URL"))?;
        let _ = target.set_scheme(self.options.url.scheme());
        target
            .set_host(self.options.url.host_str())
            .with_context(|| format!("cannot rebase {uri} onto {}", self.options.url))?;
        let _ = target.set_port(self.options.url.port());
        Ok(client::without_userinfo(&target))
    }

    /// Every link of `body` rebased onto this endpoint, as the destination would hold it.
    pub(super) fn rebase_links(&self, dialect: &dyn Dialect, body: &mut Value) {
        dialect.map_links(body, &mut |href| {
            self.rebase(href).ok().map(|url| url.to_string())
        });
    }

    pub(super) fn key_of(&self, uri: &str) -> Option<String> {
        self.rebase(uri).ok().map(|url| url_key(&url))
    }

    fn lock_batch_support(&self) -> std::sync::MutexGuard<'_, HashMap<String, bool>> {
        // The map only caches answers; a poisoned lock still holds valid entries.
        self.batch_support
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// An absolute `scheme://authority/path?query` uri keeps its path and query on this
    /// endpoint's scheme, host and port: set on a copy, so no host is parsed (hosts go
    /// through IDNA processing, the main cost of a rebase per resource).
    fn rebase_absolute(&self, uri: &str) -> Option<Url> {
        let (scheme, tail) = crate::endpoint::spec::split_authority(uri)?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return None;
        }
        let (before_fragment, fragment) = match tail.split_once('#') {
            Some((before, fragment)) => (before, Some(fragment)),
            None => (tail, None),
        };
        let (path, query) = match before_fragment.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (before_fragment, None),
        };
        let mut target = self.bare.clone();
        target.set_path(if path.is_empty() { "/" } else { path });
        target.set_query(query);
        target.set_fragment(fragment);
        Some(target)
    }
}

impl Endpoint for HttpEndpoint {
    fn read<'a>(
        &'a self,
        context: &'a Context<'a>,
        found: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if let Some(profile) = &self.options.api {
                return Walk::new(profile, &self.options, context).run(found).await;
            }
            Crawl::new(&self.options.url, self.options.max_pages, context)
                .run(found)
                .await?;
            Ok(())
        })
    }

    /// The destination URL read with the same follow mode (unless `--no-compare`).
    fn inventory<'a>(
        &'a self,
        context: &'a Context<'a>,
        compare: bool,
    ) -> BoxFuture<'a, Result<Box<dyn Inventory + 'a>>> {
        Box::pin(async move {
            if let Some(profile) = &self.options.api {
                let state = Arc::new(ProfileState::new(self, context, profile, compare));
                let _ = self.profile_state.set(Arc::clone(&state));
                return Ok(Box::new(ProfileInventory { state, context }) as Box<dyn Inventory>);
            }
            let push = PushInventory {
                endpoint: self,
                context,
                compare,
                snapshot: OnceLock::new(),
            };
            if context.run.create_by_post {
                let map = context.id_map.clone();
                let refs = OnceLock::new();
                let clone = CloneInventory { push, map, refs };
                return Ok(Box::new(clone) as Box<dyn Inventory>);
            }
            Ok(Box::new(push) as Box<dyn Inventory>)
        })
    }

    /// With a profile, the ids the run learnt are kept; everything else is read again.
    fn verify_inventory<'a>(
        &'a self,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn Inventory + 'a>>> {
        Box::pin(async move {
            match self.profile_state.get() {
                Some(state) => {
                    let state = Arc::new(state.for_verify());
                    Ok(Box::new(ProfileInventory { state, context }) as Box<dyn Inventory>)
                }
                None => self.inventory(context, true).await,
            }
        })
    }

    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        decisions: &'a [Decision],
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let decided = Decided::All(decisions);
            let run = context.run;
            let writes: Box<dyn Writes + Send + '_> = match self.profile_state.get() {
                Some(state) => Box::new(ProfileWriter {
                    state: Arc::clone(state),
                }),
                None if run.create_by_post => {
                    let refs = RefIndex::new(&run.refs, set.resources);
                    let map = context.id_map.clone();
                    Box::new(Cloner::new(map, refs, &**context.dialect, run.format))
                }
                None => Box::new(Put(Bodies::Made(run.format))),
            };
            let writer = Writer {
                endpoint: self,
                writes: &*writes,
            };
            let written = writer.write_all(set, &decided, context).await;
            // The id map is saved sorted whatever happened.
            context.id_map.lock().save()?;
            written
        })
    }

    /// A push keeps each body as the text it will send, not as a parsed tree
    /// (a clone rewrites bodies as it goes, so it keeps them parsed).
    fn stage<'a>(
        &'a self,
        march: &'a March<'a>,
        context: &Context<'_>,
    ) -> Result<Option<Box<dyn Stage + 'a>>> {
        if context.run.create_by_post || self.options.api.is_some() {
            return Ok(None);
        }
        Ok(Some(Box::new(HttpStage {
            endpoint: self,
            march,
            format: context.run.format,
            texts: TextSpill::new()?,
        })))
    }

    fn copy_at<'a>(
        &'a self,
        resource: &'a Resource,
        target: &'a str,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Option<Value>>> {
        Box::pin(async move {
            let url = Url::parse(target).with_context(|| format!("reading {target}"))?;
            let request = Request {
                media_type: self.media_type(),
                ..Request::new(reqwest::Method::GET, url)
            };
            let reply = context
                .http
                .send(&request)
                .await
                .map_err(|failure| anyhow::anyhow!("reading {target}: {failure}"))?;
            if reply.status == 404 {
                return Ok(None);
            }
            if !reply.is_success() {
                return Err(anyhow::anyhow!(
                    "reading {target} to back it up: {}",
                    reply.describe_status()
                ));
            }
            let answer = crawl::parse_body(&reply)?;
            let kind = self
                .options
                .api
                .as_ref()
                .and_then(|p| p.types.get(&*resource.kind));
            Ok(match kind {
                Some(kind) => kind.answered(&answer).cloned(),
                None => Some(answer),
            })
        })
    }

    fn delete<'a>(
        &'a self,
        stale: &'a [Stale],
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(write::delete_all(self, stale, context))
    }
}

/// A resource's collection: its uri without the last path segment.
pub(super) fn collection_of(uri: &str) -> String {
    let path_end = uri.find(['?', '#']).unwrap_or(uri.len());
    let path = uri[..path_end].trim_end_matches('/');
    path.rsplit_once('/')
        .map(|(collection, _)| collection.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_drops_last_segment() {
        assert_eq!(
            collection_of("http://h/api/player/10"),
            "http://h/api/player"
        );
        assert_eq!(
            collection_of("http://h/api/player/10/?x=1"),
            "http://h/api/player"
        );
    }

    #[test]
    fn rebase_keeps_path_and_query() {
        let url = Url::parse("https://staging.example:8443/api").unwrap();
        let endpoint = HttpEndpoint::new(HttpOptions::bare(url));
        let url = endpoint
            .rebase("http://prod.example/api/team/1?x=2")
            .unwrap();
        assert_eq!(url.as_str(), "https://staging.example:8443/api/team/1?x=2");
        let joined = |uri: &str| {
            let mut target = endpoint.options.url.join(uri).unwrap();
            target.set_host(endpoint.options.url.host_str()).unwrap();
            let _ = target.set_port(endpoint.options.url.port());
            let _ = target.set_scheme(endpoint.options.url.scheme());
            client::without_userinfo(&target)
        };
        for uri in [
            "http://a.example/api/team/1",
            "HTTP://user:pw@a.example:81/api/a/../team/2/?b=1&a=2#frag",
            "https://a.example",
            "http://a.example?x=1",
            "http://a.example/%7Euser/caf%C3%A9",
        ] {
            assert_eq!(endpoint.rebase(uri).unwrap(), joined(uri), "{uri}");
        }
        let url = endpoint.rebase("/api/team/2").unwrap();
        assert_eq!(url.as_str(), "https://staging.example:8443/api/team/2");
    }
}
