//! `--create post`: a resource new to the destination is POSTed to its collection and its
//! new uri learnt (and kept in the id map); one already mapped is PUT at its new uri.
//! References in every body are rewritten to the new uris and ids before it is sent.

use std::sync::MutexGuard;

use anyhow::{anyhow, Result};
use reqwest::header::LOCATION;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::write::{body_request, Writes};
use super::{collection_of, HttpEndpoint, Reply, Request};
use crate::format::Format;
use crate::remap::{rewrite, IdMap, RefIndex, SharedIdMap};
use crate::resource::Resource;
use crate::schema::Dialect;

/// The state of one clone: the id map, shared by the requests in flight.
pub struct Cloner<'d> {
    map: SharedIdMap,
    refs: RefIndex,
    dialect: &'d dyn Dialect,
    format: Format,
}

impl<'d> Cloner<'d> {
    pub fn new(map: SharedIdMap, refs: RefIndex, dialect: &'d dyn Dialect, format: Format) -> Self {
        Cloner {
            map,
            refs,
            dialect,
            format,
        }
    }

    fn map(&self) -> MutexGuard<'_, IdMap> {
        self.map.lock()
    }
}

impl Writes for Cloner<'_> {
    /// PUT at the mapped uri, or POST to the collection; with the target to report.
    fn request(
        &self,
        endpoint: &HttpEndpoint,
        resources: &[&Resource],
        _dialect: &dyn Dialect,
    ) -> Result<(Request, Vec<String>)> {
        let resource = resources[0];
        let map = self.map();
        let (method, url, body) = match map.get(&resource.uri) {
            Some(new_uri) => {
                // Rebased like a pushed self link: an id map written by an older version
                // (or through another address of the API) never sends a body elsewhere.
                let url = endpoint.rebase(new_uri)?;
                (
                    Method::PUT,
                    url,
                    rewrite(
                        &resource.body,
                        Some(new_uri),
                        &map,
                        &self.refs,
                        self.dialect,
                    ),
                )
            }
            None => {
                let url = endpoint.rebase(&collection_of(&resource.uri))?;
                let body = rewrite(&resource.body, None, &map, &self.refs, self.dialect);
                (Method::POST, url, self.dialect.without_identity(body))
            }
        };
        Ok(body_request((method, url), &body, self.format, None))
    }

    /// After a successful POST: the new uri, from `Location`, else the body's self link
    /// (or `uri`), else its `id` under the collection; remembered in the id map.
    fn learn(&self, resource: &Resource, request: &Request, reply: &Reply) -> Result<String> {
        let (new_uri, source) = new_uri(reply, &request.url, self.dialect).ok_or_else(|| {
            anyhow!(
                "created, but the response named no new uri (no Location header, self link or id)"
            )
        })?;
        let new_uri = same_origin(new_uri, &request.url, source)
            .map_err(|error| anyhow!("created, but {error:#}"))?
            .to_string();
        self.map()
            .record(resource.uri.to_string(), new_uri.clone())?;
        Ok(new_uri)
    }
}

/// The created resource's uri, and where it came from.
fn new_uri(reply: &Reply, collection: &Url, dialect: &dyn Dialect) -> Option<(Url, &'static str)> {
    // A Location that is text decides, even when it does not resolve.
    if reply
        .headers
        .get(LOCATION)
        .is_some_and(|value| value.to_str().is_ok())
    {
        return Some((reply.location(collection)?, "the Location header"));
    }
    let body: Value = crate::format::json_read::json_document(&reply.body).ok()?;
    if let Some(uri) = dialect.own_uri(&body) {
        return Some((collection.join(uri).ok()?, "the self link"));
    }
    let id = dialect.answered_id(&body)?;
    let uri = format!("{}/{id}", collection.as_str().trim_end_matches('/'));
    Some((Url::parse(&uri).ok()?, "the id"))
}

/// A server-named uri is kept only on the destination's own origin (scheme, host, port),
/// and never with a `user:pass@` in it (SPEC section 9).
fn same_origin(url: Url, destination: &Url, source: &str) -> Result<Url> {
    let url = super::client::without_userinfo(&url);
    if !super::client::same_origin(&url, destination) {
        return Err(anyhow!(
            "{source} names {url}, which is not on the destination {}; refused",
            destination.origin().ascii_serialization()
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Hal, Simple};
    use reqwest::header::{HeaderMap, HeaderValue};

    fn reply(headers: HeaderMap, body: &str) -> Reply {
        let url = Url::parse("http://d/api/team").unwrap();
        Reply {
            status: 201,
            headers,
            body: body.as_bytes().to_vec(),
            url,
            attempts: 1,
            environment: None,
        }
    }

    #[test]
    fn new_uri_from_location_then_self_link_then_id() {
        let collection = Url::parse("http://d/api/team").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, HeaderValue::from_static("/api/team/9"));
        assert_eq!(
            new_uri(&reply(headers, "{}"), &collection, &Hal).map(|(u, _)| u.to_string()),
            Some("http://d/api/team/9".to_string())
        );
        let body = r#"{"id": 5, "_links": {"self": {"href": "http://d/api/team/5"}}}"#;
        assert_eq!(
            new_uri(&reply(HeaderMap::new(), body), &collection, &Hal).map(|(u, _)| u.to_string()),
            Some("http://d/api/team/5".to_string())
        );
        assert_eq!(
            new_uri(
                &reply(HeaderMap::new(), r#"{"id": 6}"#),
                &collection,
                &Simple
            )
            .map(|(u, _)| u.to_string()),
            Some("http://d/api/team/6".to_string())
        );
        assert_eq!(
            new_uri(&reply(HeaderMap::new(), "{}"), &collection, &Simple).map(|(u, _)| u),
            None
        );
    }

    #[test]
    fn foreign_or_userinfo_uris_are_not_kept() {
        let destination = Url::parse("http://d/api/team").unwrap();
        let foreign = Url::parse("http://127.0.0.2:8701/stolen/team/9").unwrap();
        assert!(same_origin(foreign, &destination, "the Location header").is_err());
        let with_password = Url::parse("http://u:pw@d/api/team/9").unwrap();
        let kept = same_origin(with_password, &destination, "the Location header").unwrap();
        assert_eq!(kept.as_str(), "http://d/api/team/9");
    }
}
