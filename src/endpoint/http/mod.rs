//! The HTTP(S) REST endpoint: a concurrent crawler that reads every linked page once,
//! and a writer that PUTs (or PATCHes batches) as soon as each resource's parents are in.

mod client;
mod clone;
mod crawl;
mod limit;
mod links;
mod write;

pub use client::{redact_url, HttpClient, Reply, Request};

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use futures::future::BoxFuture;
use url::Url;

use super::{Context, Endpoint, Found, Stage, WriteSet};
use crate::cli::CreateMode;
use crate::plan::Change;
use crate::report::Op;
use crawl::{normalized_key, Crawl};
use write::{collection_of, differs, Bodies, HttpStage, WriteMode};

/// A REST API rooted at a URL.
pub struct HttpEndpoint {
    url: Url,
    /// Whether `OPTIONS` on a collection allows PATCH, asked once per collection.
    batch_support: Mutex<HashMap<String, bool>>,
}

impl HttpEndpoint {
    pub fn new(url: Url) -> Self {
        HttpEndpoint {
            url,
            batch_support: Mutex::new(HashMap::new()),
        }
    }

    /// A resource's uri with scheme, host and port replaced by this endpoint's.
    pub fn rebase(&self, uri: &str) -> Result<Url> {
        let mut target = self
            .url
            .join(uri)
            .with_context(|| format!("resource uri {uri:?} is not a valid URL"))?;
        let _ = target.set_scheme(self.url.scheme());
        target
            .set_host(self.url.host_str())
            .with_context(|| format!("cannot rebase {uri} onto {}", self.url))?;
        let _ = target.set_port(self.url.port());
        Ok(target)
    }
}

impl Endpoint for HttpEndpoint {
    fn read<'a>(
        &'a self,
        context: &'a Context<'a>,
        found: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(Crawl::new(&self.url, context).run(found))
    }

    /// Reads the destination URL (same follow mode): a resource it lacks is a create, one
    /// where any field the origin holds differs (`_links` aside) an update.
    fn plan<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Vec<Change>>> {
        Box::pin(async move {
            if context.config.create == CreateMode::Post {
                return self.clone_plan(set, context);
            }
            let format = context.config.format;
            let existing = self.snapshot(context).await?;
            let mut changes = Vec::new();
            for resource in set.ordered() {
                let target = self.rebase(&resource.uri)?;
                let current = existing.get(&normalized_key(&target));
                let op = match current {
                    None => Op::Create,
                    Some(current)
                        if differs(&resource.body, &current.body, &context.config.ignore) =>
                    {
                        Op::Update
                    }
                    Some(_) => Op::Unchanged,
                };
                let before = current.map(|current| format.serialize(&current.body));
                changes.push(
                    Change::for_resource(op, resource, redact_url(&target))
                        .with_texts(before, Some(format.serialize(&resource.body))),
                );
            }
            if context.config.remove {
                for resource in self.stale_in(set, existing.into_values().collect())? {
                    let target = redact_url(&self.rebase(&resource.uri)?);
                    changes.push(
                        Change::for_resource(Op::Delete, &resource, target)
                            .with_texts(Some(format.serialize(&resource.body)), None),
                    );
                }
            }
            Ok(changes)
        })
    }

    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if context.config.create == CreateMode::Post {
                return self.clone_all(set, context).await;
            }
            let bodies = Bodies::Made(context.config.format);
            self.write_with(set, context, WriteMode::Put(bodies)).await
        })
    }

    /// A push keeps each body as the text it will send, not as a parsed tree (a clone
    /// rewrites bodies as it goes, and `--ignore` compares them, so those keep them parsed).
    fn stage<'a>(&'a self, context: &Context<'_>) -> Result<Option<Box<dyn Stage + 'a>>> {
        if context.config.create == CreateMode::Post || !context.config.ignore.is_empty() {
            return Ok(None);
        }
        Ok(Some(Box::new(HttpStage {
            endpoint: self,
            format: context.config.format,
            texts: HashMap::new(),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebase_keeps_path_and_query() {
        let endpoint = HttpEndpoint::new(Url::parse("https://staging.example:8443/api").unwrap());
        let url = endpoint
            .rebase("http://prod.example/api/team/1?x=2")
            .unwrap();
        assert_eq!(url.as_str(), "https://staging.example:8443/api/team/1?x=2");
        let url = endpoint.rebase("/api/team/2").unwrap();
        assert_eq!(url.as_str(), "https://staging.example:8443/api/team/2");
    }
}
