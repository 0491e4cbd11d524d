//! `--api FILE` (SPEC section 8): a YAML profile describing a plain-JSON or JSON:API service —
//! per type its collection path, item path, id field, parents, paging and write methods.
//! Parsed and checked here before any request; a mistake names the key, the type and the line.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::Result;
use serde_json::{Map, Value};

use super::jsonapi;
use crate::exit_code::{usage, ExitContext};
use crate::expr::RefExpr;
use crate::format::json_page::Step;
use crate::resource::{field_at, scalar_text, Identity};

mod check;
mod dialect;
mod pages;
mod template;

pub use dialect::TypeDialect;
pub use pages::{PageAnswer, Pages};
pub use template::{fill, placeholders};

/// The wire format of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiFormat {
    Json,
    JsonApi,
}

/// How a type's next page is found (the SPEC's pagination table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// RFC 8288 `Link: <url>; rel="next"`.
    Link,
    /// The URL at a dotted path of the body (a string or an object with `href`).
    Body(Vec<String>),
    /// The same URL with a page number parameter counting from `start`.
    Page { param: String, start: u64 },
    /// The number of members received so far.
    Offset(String),
    /// A token from the body or a header, sent as `param`.
    Cursor { param: String, from: CursorSource },
    /// One request.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorSource {
    Body(Vec<String>),
    Header(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateMethod {
    Put,
    Post,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateMethod {
    Put,
    Patch,
}

/// One type of the API, every setting resolved (its own, else the profile's, else the
/// format's default).
#[derive(Debug, Clone, PartialEq)]
pub struct TypeProfile {
    pub name: String,
    pub format: ApiFormat,
    /// Collection path relative to the API root, with `{field}` placeholders and a query.
    pub path: String,
    /// Item path relative to the API root, with `{id}` and `{field}` placeholders.
    pub item: String,
    /// Dotted path of the members in a list response (empty: the body is the list).
    pub records: Vec<String>,
    /// Dotted path of the member in an answer about one member (empty: the body is it).
    pub record: Vec<String>,
    pub id: String,
    pub next: Next,
    pub size: Option<String>,
    pub create: CreateMethod,
    pub update: UpdateMethod,
    pub readonly: Vec<String>,
    pub key: Vec<String>,
    /// Member field -> parent type, in file order.
    pub parents: Vec<(String, String)>,
    pub send_id: bool,
}

/// A checked profile: its types by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub types: BTreeMap<String, TypeProfile>,
}

impl Profile {
    /// Read and check the profile at `path`.
    pub fn load(path: &Path) -> Result<Profile> {
        let text = std::fs::read_to_string(path)
            .usage_context(|| format!("reading profile {}", path.display()))?;
        Profile::parse(&text, &path.display().to_string())
    }

    /// Parse and check a profile's text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Profile> {
        check::parse(text, source)
    }

    /// The profile for a tree whose ids are this API's own (pulled from it): a type
    /// without `key` matches destination resources by its id field.
    pub fn keyed_by_id(&self) -> Profile {
        let mut keyed = self.clone();
        for kind in keyed.types.values_mut() {
            if kind.key.is_empty() {
                kind.key = vec![kind.id.clone()];
            }
        }
        keyed
    }

    /// The types in parents-first order (ties by name).
    pub fn parents_first(&self) -> Vec<&TypeProfile> {
        let mut done: HashSet<&str> = HashSet::new();
        let mut order = Vec::new();
        while order.len() < self.types.len() {
            let ready: Vec<&TypeProfile> = self
                .types
                .values()
                .filter(|t| !done.contains(t.name.as_str()))
                .filter(|t| t.parents.iter().all(|(_, p)| done.contains(p.as_str())))
                .collect();
            if ready.is_empty() {
                break; // a cycle: refused by `parse`
            }
            for t in ready {
                done.insert(&t.name);
                order.push(t);
            }
        }
        order
    }

    /// The media type requests to the API accept and send, where its convention names
    /// one (JSON:API's, when any type speaks it).
    pub fn media_type(&self) -> Option<&'static str> {
        self.types.values().find_map(TypeProfile::media_type)
    }

    /// The `parents` fields as reference fields: each holds the id of a resource of the
    /// parent type, orders writes like a parent link and is rewritten on a clone.
    pub fn references(&self) -> Vec<RefExpr> {
        let mut refs: Vec<RefExpr> = Vec::new();
        for t in self.types.values() {
            for (field, parent) in &t.parents {
                let expr = RefExpr {
                    path: t.parent_path(field),
                    kind: parent.clone(),
                };
                if !refs.contains(&expr) {
                    refs.push(expr);
                }
            }
        }
        refs
    }

    /// `--type` names the profile lacks are usage errors.
    pub fn check_types(&self, chosen: &[String]) -> Result<()> {
        for name in chosen {
            if !self.types.contains_key(name) {
                return Err(usage(format!(
                    "--type {name}: the profile has no type {name:?} (it has {})",
                    self.types.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The chosen types and every type their parents need (all types when none chosen).
    pub fn needed(&self, chosen: &[String]) -> HashSet<String> {
        let mut needed: HashSet<String> = match chosen.is_empty() {
            true => self.types.keys().cloned().collect(),
            false => chosen.iter().cloned().collect(),
        };
        let mut pending: Vec<String> = needed.iter().cloned().collect();
        while let Some(name) = pending.pop() {
            for (_, parent) in self
                .types
                .get(&name)
                .map(|t| &t.parents)
                .into_iter()
                .flatten()
            {
                if needed.insert(parent.clone()) {
                    pending.push(parent.clone());
                }
            }
        }
        needed
    }
}

impl TypeProfile {
    /// Where a member holds the named field: the field itself; in JSON:API a parent
    /// field is a relationship's `data.id`, `id` the top-level id, others attributes.
    pub fn field_path(&self, name: &str) -> Vec<String> {
        match self.format {
            ApiFormat::Json => vec![name.to_string()],
            ApiFormat::JsonApi => {
                jsonapi::field_path(name, self.parents.iter().any(|(field, _)| field == name))
            }
        }
    }

    /// Where a member holds its identity and its links: its id, the fields its paths are
    /// filled from, its parents' fields; in JSON:API also `type`, `links` and
    /// `relationships`. An environment's vars never rewrite them (SPEC section 11).
    pub fn identity_fields(&self) -> Vec<Vec<String>> {
        let mut fields = vec![self.field_path(&self.id)];
        for name in placeholders(&self.item)
            .into_iter()
            .chain(placeholders(&self.path))
        {
            fields.push(self.field_path(name));
        }
        fields.extend(
            self.parents
                .iter()
                .map(|(field, _)| self.parent_path(field)),
        );
        if self.format == ApiFormat::JsonApi {
            fields.extend(["type", "links", "relationships"].map(|key| vec![key.to_string()]));
        }
        fields
    }

    /// Where a member holds its `parents` field `field`.
    pub fn parent_path(&self, field: &str) -> Vec<String> {
        match self.format {
            ApiFormat::Json => vec![field.to_string()],
            ApiFormat::JsonApi => jsonapi::parent_path(field),
        }
    }

    /// The fields `readonly` names: the member's own, or its JSON:API attributes.
    fn readonly_owner<'v>(&self, member: &'v mut Value) -> Option<&'v mut Map<String, Value>> {
        match self.format {
            ApiFormat::Json => member.as_object_mut(),
            ApiFormat::JsonApi => jsonapi::attributes_mut(member),
        }
    }

    /// The member without its `readonly` fields, as compared.
    pub fn without_readonly(&self, mut member: Value) -> Value {
        if let Some(fields) = self.readonly_owner(&mut member) {
            for field in &self.readonly {
                fields.remove(field);
            }
        }
        member
    }

    /// The member as a write sends it: `readonly` fields dropped, its id set to `id` (typed
    /// like the id it had) or dropped when `None` or readonly; JSON:API's resource object.
    pub fn write_object(&self, member: Value, id: Option<&str>) -> Value {
        match self.format {
            ApiFormat::Json => {
                let old = member.get(&self.id).cloned().unwrap_or(Value::Null);
                let mut body = self.without_readonly(member);
                let id = id.filter(|_| !self.readonly.contains(&self.id));
                if let Value::Object(object) = &mut body {
                    match id {
                        Some(id) => {
                            object.insert(self.id.clone(), crate::resource::typed_like(&old, id));
                        }
                        None => {
                            object.remove(&self.id);
                        }
                    }
                }
                body
            }
            ApiFormat::JsonApi => jsonapi::write_object(&member, &self.readonly, id),
        }
    }

    /// The media type this type's requests accept and send, where its convention names one.
    pub fn media_type(&self) -> Option<&'static str> {
        match self.format {
            ApiFormat::Json => None,
            ApiFormat::JsonApi => Some(jsonapi::MEDIA_TYPE),
        }
    }

    /// The body of a write request carrying `object` (JSON:API's `{"data": ...}`).
    pub fn write_body(&self, object: Value) -> Value {
        match self.format {
            ApiFormat::Json => object,
            ApiFormat::JsonApi => jsonapi::envelope(object),
        }
    }

    /// The member an answer about one member holds (a create's answer), at `record`.
    pub fn answered<'v>(&self, answer: &'v Value) -> Option<&'v Value> {
        field_at(answer, &self.record)
    }

    /// A member's field as text (`14` and `"14"` are one id).
    pub fn field(&self, member: &Value, name: &str) -> Option<String> {
        field_text(field_at(member, &self.field_path(name))?)
    }

    /// A member's id as text.
    pub fn id_of(&self, member: &Value) -> Option<String> {
        self.field(member, &self.id)
    }

    /// A member's uri: the item path filled from its own fields (`{id}` its id).
    pub fn uri_of(&self, member: &Value) -> Option<String> {
        self.fill_from(&self.item, member, self.id_of(member).as_deref())
    }

    /// `template` filled from `member`'s fields, `{id}` with `id`; `None` when one lacks.
    pub fn fill_from(&self, template: &str, member: &Value, id: Option<&str>) -> Option<String> {
        fill(template, &|name| match name {
            "id" => id.map(str::to_string),
            _ => self.field(member, name),
        })
    }

    /// A member's identity, or which field it lacks.
    pub fn identity(&self, member: &Value) -> std::result::Result<Identity, String> {
        let id = match field_at(member, &self.field_path(&self.id)) {
            Some(id) if field_text(id).is_some() => id.clone(),
            _ => return Err(format!("member without its id field {:?}", self.id)),
        };
        let Some(uri) = self.uri_of(member) else {
            let missing: Vec<&str> = placeholders(&self.item)
                .into_iter()
                .filter(|name| *name != "id" && self.field(member, name).is_none())
                .collect();
            return Err(format!(
                "member without field {} that its item path {} needs",
                missing.join(", "),
                self.item
            ));
        };
        Ok(Identity {
            uri,
            id,
            kind: self.name.clone(),
            parents: Vec::new(),
        })
    }

    /// Where a list response holds its members (see `Dialect::member_places`).
    pub fn member_places(&self) -> Vec<Vec<Step<'_>>> {
        vec![self.records.iter().map(|step| Step::Key(step)).collect()]
    }

    /// The members of a list response, moved out of it.
    pub fn take_members(&self, document: &mut Value) -> std::result::Result<Vec<Value>, String> {
        let mut value = document;
        for step in &self.records {
            value = match value.get_mut(step) {
                Some(inner) => inner,
                None => return Err(format!("the response has no {:?}", self.records.join("."))),
            };
        }
        match value.take() {
            Value::Array(members) => Ok(members),
            Value::Null => Ok(Vec::new()),
            other => Err(format!(
                "{:?} is not a list but {}",
                self.records.join("."),
                kind_of(&other)
            )),
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A member's field value as text (`14` and `"14"` are the same id); null (an absent
/// value), mappings and lists have none.
pub fn field_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        other => scalar_text(other),
    }
}

#[cfg(test)]
mod tests {
    use super::check::{default_item, parse_next};
    use super::*;

    const DRF: &str = "\
# a Django REST framework service
format: json
records: results
next: body:next
size: page_size
create: post
readonly: [url, created]
types:
  team:
    path: teams/
    key: [name]
  player:
    path: teams/{team}/players/
    parents: {team: team}
  stat:
    path: stats/
    item: stats/{id}/
    parents: {player: player}
";

    fn error_of(text: &str) -> String {
        format!("{:#}", Profile::parse(text, "p.yaml").unwrap_err())
    }

    #[test]
    fn a_drf_profile_resolves_every_setting() {
        let profile = Profile::parse(DRF, "p.yaml").unwrap();
        let player = &profile.types["player"];
        assert_eq!(player.item, "teams/{team}/players/{id}/");
        assert_eq!(player.records, ["results"]);
        assert_eq!(player.next, Next::Body(vec!["next".into()]));
        assert_eq!(player.size.as_deref(), Some("page_size"));
        assert_eq!(player.create, CreateMethod::Post);
        assert_eq!(player.update, UpdateMethod::Put);
        assert_eq!(player.readonly, ["url", "created"]);
        assert_eq!(player.parents, [("team".to_string(), "team".to_string())]);
        assert_eq!(profile.types["team"].key, ["name"]);
        let order: Vec<&str> = profile
            .parents_first()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(order, ["team", "player", "stat"]);
    }

    #[test]
    fn jsonapi_defaults() {
        let profile =
            Profile::parse("format: jsonapi\ntypes:\n  posts:\n    path: posts\n", "p").unwrap();
        let posts = &profile.types["posts"];
        assert_eq!(posts.item, "posts/{id}");
        assert_eq!(posts.records, ["data"]);
        assert_eq!(posts.next, Next::Body(vec!["links".into(), "next".into()]));
        assert_eq!(posts.size.as_deref(), Some("page[size]"));
        assert_eq!(
            (posts.create, posts.update),
            (CreateMethod::Post, UpdateMethod::Patch)
        );
    }

    #[test]
    fn every_pagination_kind_parses() {
        let cases = [
            ("link", Next::Link),
            ("none", Next::None),
            (
                "body:links.next",
                Next::Body(vec!["links".into(), "next".into()]),
            ),
            (
                "page:page",
                Next::Page {
                    param: "page".into(),
                    start: 1,
                },
            ),
            (
                "page:p@0",
                Next::Page {
                    param: "p".into(),
                    start: 0,
                },
            ),
            ("offset:offset", Next::Offset("offset".into())),
            (
                "cursor:after=body:meta.next",
                Next::Cursor {
                    param: "after".into(),
                    from: CursorSource::Body(vec!["meta".into(), "next".into()]),
                },
            ),
            (
                "cursor:c=header:X-Next",
                Next::Cursor {
                    param: "c".into(),
                    from: CursorSource::Header("X-Next".into()),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_next(text).unwrap(), expected, "{text}");
        }
        assert!(parse_next("pages:x").is_err());
        assert!(parse_next("cursor:c").is_err());
    }

    #[test]
    fn mistakes_name_the_key_the_type_and_the_line() {
        let unknown = error_of("types:\n  team:\n    path: teams/\n    pathh: x\n");
        assert!(
            unknown.contains("line 4") && unknown.contains("pathh") && unknown.contains("team"),
            "{unknown}"
        );
        let no_path = error_of("types:\n  team:\n    item: teams/{id}\n");
        assert!(
            no_path.contains("type team has no `path`") && no_path.contains("line 2"),
            "{no_path}"
        );
        let placeholder = error_of("types:\n  team:\n    path: leagues/{league}/teams/\n");
        assert!(
            placeholder.contains("{league}") && placeholder.contains("line 3"),
            "{placeholder}"
        );
        let parent = error_of("types:\n  player:\n    path: players/\n    parents: {team: team}\n");
        assert!(
            parent.contains("\"team\"") && parent.contains("lacks"),
            "{parent}"
        );
        let cycle = error_of("types:\n  a:\n    path: a/\n    parents: {b: b}\n  b:\n    path: b/\n    parents: {a: a}\n");
        assert!(cycle.contains("cycle"), "{cycle}");
        let top = error_of("recordz: x\ntypes:\n  a:\n    path: a/\n");
        assert!(top.contains("line 1") && top.contains("recordz"), "{top}");
    }

    #[test]
    fn templates_fill_from_fields() {
        let filled = fill("teams/{team}/players/{id}/", &|name| {
            Some(format!("<{name}>"))
        });
        assert_eq!(filled.as_deref(), Some("teams/<team>/players/<id>/"));
        assert_eq!(fill("a/{x}", &|_| None), None);
        assert_eq!(default_item("posts?_sort=id"), "posts/{id}");
    }
}
