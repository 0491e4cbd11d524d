//! A type's pagination rule followed page by page (SPEC section 8, "Pagination"): the URL
//! of the first page, and of each next one from what the page before it answered.

use std::collections::HashSet;

use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

use super::{field_text, CursorSource, Next, TypeProfile};
use crate::endpoint::spec::{url_key, with_query};
use crate::resource::field_at;
use crate::schema::ahead::PageStep;
use crate::schema::links::next_links;

/// What a page's answer says besides its body: the URL that answered (after redirects,
/// for resolving relative links) and its headers.
pub struct PageAnswer<'a> {
    pub url: &'a Url,
    pub headers: &'a HeaderMap,
}

/// One collection URL's pages as they arrive.
pub struct Pages<'t> {
    kind: &'t TypeProfile,
    url: Url,
    page: u64,
    received: u64,
    /// Members of the page before, the step an offset moves by.
    last_count: u64,
    seen: HashSet<String>,
}

impl<'t> Pages<'t> {
    /// The first page of `first` with the size parameter (`limit`) and the rule's start.
    pub fn start(kind: &'t TypeProfile, first: Url, limit: u64) -> Self {
        let mut url = first;
        if let Some(size) = &kind.size {
            set_query(&mut url, size, &limit.to_string());
        }
        match &kind.next {
            Next::Page { param, start } => set_query(&mut url, param, &start.to_string()),
            Next::Offset(param) => set_query(&mut url, param, "0"),
            _ => {}
        }
        let page = match &kind.next {
            Next::Page { start, .. } => *start,
            _ => 0,
        };
        Pages {
            kind,
            url,
            page,
            received: 0,
            last_count: 0,
            seen: HashSet::new(),
        }
    }

    /// How many pages were asked for so far.
    pub fn fetched(&self) -> usize {
        self.seen.len()
    }

    /// The URL to fetch next, unless it was fetched already (a `next` pointing back).
    pub fn next_url(&mut self) -> Option<Url> {
        self.seen
            .insert(url_key(&self.url))
            .then(|| self.url.clone())
    }

    /// Page and offset chains end on a 404 after the first page.
    pub fn ends_on_404(&self) -> bool {
        matches!(self.kind.next, Next::Page { .. } | Next::Offset(_))
    }

    /// Moves to the next page after one with `count` members; the URL is left as it was
    /// (so `next_url` stops) when the rule says the chain ends.
    pub fn advance(&mut self, count: usize, document: &Value, answer: &PageAnswer<'_>) {
        self.received += count as u64;
        self.last_count = count as u64;
        let current = self.url.clone();
        let next = match &self.kind.next {
            Next::None => None,
            Next::Link => next_links(answer.headers)
                .into_iter()
                .find(|link| link.relation == "next")
                .and_then(|link| answer.url.join(&link.href).ok()),
            Next::Body(path) => {
                body_link(document, path).and_then(|href| answer.url.join(&href).ok())
            }
            Next::Page { param, .. } => {
                self.page += 1;
                Some(with_query(&current, param, &self.page.to_string()))
            }
            Next::Offset(param) => Some(with_query(&current, param, &self.received.to_string())),
            Next::Cursor { param, from } => {
                let token = match from {
                    CursorSource::Body(path) => field_at(document, path).and_then(field_text),
                    CursorSource::Header(name) => answer
                        .headers
                        .get(name.as_str())
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_string),
                };
                token
                    .filter(|token| !token.is_empty())
                    .map(|token| with_query(&current, param, &token))
            }
        };
        if let Some(next) = next {
            self.url = next;
        }
    }
}

impl Pages<'_> {
    /// How the chain steps from the page at `page_url` to the next, where the URLs after
    /// it can be known ahead: a page number or an offset by the rule, a `next` link that
    /// differs in one integer parameter; a cursor never.
    pub fn step(&self, page_url: &Url) -> Option<PageStep> {
        match &self.kind.next {
            Next::Page { param, .. } => Some(PageStep {
                param: param.clone(),
                by: 1,
            }),
            Next::Offset(param) if self.last_count > 0 => Some(PageStep {
                param: param.clone(),
                by: self.last_count as i64,
            }),
            Next::Link | Next::Body(_) => {
                PageStep::between(page_url, &self.url, self.last_count as usize)
            }
            _ => None,
        }
    }

    /// The number of the first page (`page:PARAM@0` counts from 0), 1 otherwise.
    pub fn first_number(&self) -> i64 {
        match &self.kind.next {
            Next::Page { start, .. } => *start as i64,
            _ => 1,
        }
    }
}

/// The next URL at `path`: a string, or an object with `href`; null or absent ends.
fn body_link(document: &Value, path: &[String]) -> Option<String> {
    match field_at(document, path)? {
        Value::String(href) if !href.is_empty() => Some(href.clone()),
        Value::Object(link) => link.get("href")?.as_str().map(str::to_string),
        _ => None,
    }
}

fn set_query(url: &mut Url, name: &str, value: &str) {
    *url = with_query(url, name, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_replaced_in_place() {
        let url = Url::parse("http://h/p?_sort=id&page=1").unwrap();
        assert_eq!(
            with_query(&url, "page", "2").as_str(),
            "http://h/p?_sort=id&page=2"
        );
    }

    #[test]
    fn next_links_are_strings_or_hrefs() {
        let path = vec!["links".to_string(), "next".to_string()];
        let string = serde_json::json!({"links": {"next": "http://h/p?page=2"}});
        assert_eq!(
            body_link(&string, &path).as_deref(),
            Some("http://h/p?page=2")
        );
        let object = serde_json::json!({"links": {"next": {"href": "/p?page=3"}}});
        assert_eq!(body_link(&object, &path).as_deref(), Some("/p?page=3"));
        assert_eq!(
            body_link(&serde_json::json!({"links": {"next": null}}), &path),
            None
        );
    }
}
