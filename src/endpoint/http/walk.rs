//! Reading an API through an `--api` profile: each type in parents-first order from its
//! collection path, a nested path once per parent resource, every page by the type's
//! pagination rule (a crawl led by the type's dialect).

use std::collections::{HashMap, HashSet};

use anyhow::{Context as _, Result};
use serde_json::Value;
use url::Url;

use super::crawl::Crawl;
use super::redact_url;
use crate::endpoint::options::HttpOptions;
use crate::endpoint::{Context, Found};
use crate::resource::Resource;
use crate::schema::profile::{fill, placeholders, Profile, TypeDialect, TypeProfile};

/// The fields of one read resource that the paths of its children may need.
type Fields = HashMap<String, String>;

/// One walk over the API rooted at `root`.
pub(super) struct Walk<'a> {
    root: Url,
    /// `--limit` (sent through a type's `size`) and `--max-pages`.
    limit: u64,
    max_pages: u64,
    context: &'a Context<'a>,
    profile: &'a Profile,
    /// Types to read: the chosen ones and their parents (all types by default).
    types: HashSet<String>,
    /// Per type read so far, the fields its children's paths are filled from.
    read: HashMap<String, Vec<Fields>>,
}

impl<'a> Walk<'a> {
    /// A walk over the API at `options.url`, the endpoint's own.
    pub(super) fn new(
        profile: &'a Profile,
        options: &HttpOptions,
        context: &'a Context<'a>,
    ) -> Self {
        Walk {
            root: options.url.clone(),
            limit: options.limit,
            max_pages: options.max_pages,
            context,
            profile,
            types: profile.needed(&context.run.types),
            read: HashMap::new(),
        }
    }

    /// Every member of every type, handed on in parents-first order of types: each type's
    /// collections read by one crawl that the type's dialect leads page by page.
    pub(super) async fn run(mut self, found: &mut Found<'_>) -> Result<()> {
        for kind in self.profile.parents_first() {
            if !self.types.contains(&kind.name) {
                continue;
            }
            let urls = self.collection_urls(kind)?;
            // Only a type that fills another's path keeps fields of each resource.
            let fills_paths = self
                .profile
                .types
                .values()
                .any(|child| path_parent(child) == Some(kind.name.as_str()));
            let mut fields = Vec::new();
            let dialect = TypeDialect { kind };
            let limits = (self.limit, self.max_pages);
            Crawl::of_collections(urls, &dialect, limits, self.context)
                .run(&mut |resource: Resource| {
                    if fills_paths {
                        fields.push(fields_of(kind, &resource.body, self.profile));
                    }
                    found(resource)
                })
                .await?;
            self.read.insert(kind.name.clone(), fields);
        }
        Ok(())
    }

    /// The collection URLs of a type: its path, or one per parent resource read when the
    /// path has placeholders (filled from that parent: its id, then its own fields).
    fn collection_urls(&self, kind: &TypeProfile) -> Result<Vec<Url>> {
        let names = placeholders(&kind.path);
        let Some(last) = names.last() else {
            return Ok(vec![self.join(&kind.path)?]);
        };
        let parent_type = path_parent(kind).unwrap_or_default();
        let mut urls = Vec::new();
        for parent in self.read.get(parent_type).into_iter().flatten() {
            let filled = fill(&kind.path, &|name| match name == *last {
                true => parent.get("id").cloned(),
                false => parent.get(name).cloned(),
            });
            if let Some(path) = filled {
                urls.push(self.join(&path)?);
            }
        }
        Ok(urls)
    }

    /// `root` + `/` + `path`: joined, not resolved (SPEC section 8).
    fn join(&self, path: &str) -> Result<Url> {
        join_path(&self.root, path)
    }
}

/// The type whose resources fill `kind`'s path: the parent named by its last placeholder.
fn path_parent(kind: &TypeProfile) -> Option<&str> {
    let names = placeholders(&kind.path);
    let last = names.last()?;
    kind.parents
        .iter()
        .find(|(field, _)| field == last)
        .map(|(_, parent)| parent.as_str())
}

/// The id and the fields a child's path may need, as text.
fn fields_of(kind: &TypeProfile, member: &Value, profile: &Profile) -> Fields {
    let mut fields = Fields::new();
    if let Some(id) = kind.id_of(member) {
        fields.insert("id".into(), id);
    }
    let wanted: HashSet<&str> = profile
        .types
        .values()
        .flat_map(|t| placeholders(&t.path))
        .collect();
    for name in wanted {
        if let Some(value) = kind.field(member, name) {
            fields.entry(name.to_string()).or_insert(value);
        }
    }
    fields
}

/// `root` + `/` + `path` (one slash between them), query kept.
pub(super) fn join_path(root: &Url, path: &str) -> Result<Url> {
    let base = root.as_str().split(['?', '#']).next().unwrap_or_default();
    let text = format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    Url::parse(&text).with_context(|| format!("profile path {path:?} on {}", redact_url(root)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_with_one_slash() {
        let root = Url::parse("http://h/api").unwrap();
        assert_eq!(
            join_path(&root, "teams/").unwrap().as_str(),
            "http://h/api/teams/"
        );
        let root = Url::parse("http://h/api/").unwrap();
        assert_eq!(
            join_path(&root, "posts?_sort=id").unwrap().as_str(),
            "http://h/api/posts?_sort=id"
        );
    }
}
