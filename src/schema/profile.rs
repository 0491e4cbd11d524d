//! `--api FILE` (SPEC section 8): a YAML profile describing a plain-JSON or JSON:API service —
//! per type its collection path, item path, id field, parents, paging and write methods.
//! Parsed and checked here before any request; a mistake names the key, the type and the line.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::Result;
use serde_json::{Map, Value};

use super::jsonapi;
use crate::exit_code::{usage, ExitContext};
use crate::expr::{FieldPath, RefExpr};
use crate::format::json_page::Step;
use crate::format::yaml::YamlDocuments;
use crate::resource::{field_at, scalar_text, Identity};

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

/// Settings allowed at the top and inside a type.
const SETTINGS: [&str; 10] = [
    "format", "records", "id", "next", "size", "create", "update", "readonly", "send_id", "key",
];
/// Settings allowed only inside a type.
const TYPE_ONLY: [&str; 3] = ["path", "item", "parents"];

impl Profile {
    /// Read and check the profile at `path`.
    pub fn load(path: &Path) -> Result<Profile> {
        let text = std::fs::read_to_string(path)
            .usage_context(|| format!("reading profile {}", path.display()))?;
        Profile::parse(&text, &path.display().to_string())
    }

    /// Parse and check a profile's text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<Profile> {
        let checker = Checker { text, source };
        let document = YamlDocuments::new(text.as_bytes())
            .next()
            .transpose()
            .usage_context(|| format!("profile {source}"))?;
        let Some(Value::Object(top)) = document else {
            return Err(checker.error(&[], "a profile is a mapping with `types`"));
        };
        for key in top.keys() {
            if key != "types" && !SETTINGS.contains(&key.as_str()) {
                return Err(checker.error(&[key], &format!("unknown key `{key}`")));
            }
        }
        let Some(Value::Object(raw_types)) = top.get("types") else {
            return Err(checker.error(&["types"], "`types` must be a mapping of type names"));
        };
        let mut types = BTreeMap::new();
        for (name, raw) in raw_types {
            let profile = checker.type_profile(name, raw, &top)?;
            types.insert(name.clone(), profile);
        }
        let profile = Profile { types };
        checker.check_parents(&profile)?;
        Ok(profile)
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

    /// The media type every request to the API accepts and sends, where its convention
    /// names one (JSON:API's, when any type speaks it).
    pub fn media_type(&self) -> Option<&'static str> {
        self.types
            .values()
            .any(|t| t.format == ApiFormat::JsonApi)
            .then_some(jsonapi::MEDIA_TYPE)
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
    /// like the id it had) or dropped when `None`; JSON:API's resource object.
    pub fn write_object(&self, member: Value, id: Option<&str>) -> Value {
        match self.format {
            ApiFormat::Json => {
                let mut body = self.without_readonly(member);
                if let Value::Object(object) = &mut body {
                    match id {
                        Some(id) => {
                            let old = object.get(&self.id).cloned().unwrap_or(Value::Null);
                            object.insert(self.id.clone(), crate::remap::typed_like(&old, id));
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

    /// The body of a write request carrying `object` (JSON:API's `{"data": ...}`).
    pub fn write_body(&self, object: Value) -> Value {
        match self.format {
            ApiFormat::Json => object,
            ApiFormat::JsonApi => jsonapi::envelope(object),
        }
    }

    /// The member an answer about one member holds (a create's answer).
    pub fn answered<'v>(&self, answer: &'v Value) -> Option<&'v Value> {
        match self.format {
            ApiFormat::Json => Some(answer),
            ApiFormat::JsonApi => jsonapi::answered(answer),
        }
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

/// Parses settings, naming the profile, key path and line in every error.
struct Checker<'t> {
    text: &'t str,
    source: &'t str,
}

impl Checker<'_> {
    fn error(&self, path: &[&str], message: &str) -> anyhow::Error {
        let place = match line_of(self.text, path) {
            Some(line) => format!("{}, line {line}", self.source),
            None => self.source.to_string(),
        };
        let key = match path.is_empty() {
            true => String::new(),
            false => format!(" ({})", path.join(".")),
        };
        usage(format!("profile {place}{key}: {message}"))
    }

    fn type_profile(
        &self,
        name: &str,
        raw: &Value,
        top: &Map<String, Value>,
    ) -> Result<TypeProfile> {
        let Value::Object(own) = raw else {
            return Err(self.error(&["types", name], "a type is a mapping with at least `path`"));
        };
        for key in own.keys() {
            if !SETTINGS.contains(&key.as_str()) && !TYPE_ONLY.contains(&key.as_str()) {
                let message = format!("unknown key `{key}` in type {name}");
                return Err(self.error(&["types", name, key], &message));
            }
        }
        if top.contains_key("key") {
            return Err(self.error(&["key"], "`key` is set per type"));
        }
        let setting = |key: &str| own.get(key).or_else(|| top.get(key));
        let at = |key: &'static str| -> Vec<&str> {
            match own.contains_key(key) {
                true => vec!["types", name, key],
                false => vec![key],
            }
        };
        let format = match self
            .text_setting(setting("format"), &at("format"))?
            .as_deref()
        {
            None | Some("json") => ApiFormat::Json,
            Some("jsonapi") => ApiFormat::JsonApi,
            Some(other) => {
                let message = format!("format {other:?}: use json or jsonapi");
                return Err(self.error(&at("format"), &message));
            }
        };
        let jsonapi = format == ApiFormat::JsonApi;
        let path = match self.text_setting(own.get("path"), &["types", name, "path"])? {
            Some(path) if !path.is_empty() => path,
            _ => return Err(self.error(&["types", name], &format!("type {name} has no `path`"))),
        };
        let item = match self.text_setting(own.get("item"), &["types", name, "item"])? {
            Some(item) => item,
            None => default_item(&path),
        };
        let records = self
            .text_setting(setting("records"), &at("records"))?
            .unwrap_or_else(|| {
                if jsonapi {
                    "data".into()
                } else {
                    String::new()
                }
            });
        let id = self
            .text_setting(setting("id"), &at("id"))?
            .unwrap_or_else(|| "id".into());
        let next_text = self.text_setting(setting("next"), &at("next"))?;
        let next = match next_text {
            Some(text) => parse_next(&text).map_err(|message| self.error(&at("next"), &message))?,
            None if jsonapi => Next::Body(vec!["links".into(), "next".into()]),
            None => Next::Link,
        };
        let size = match self.text_setting(setting("size"), &at("size"))? {
            Some(size) if size == "none" || size.is_empty() => None,
            Some(size) => Some(size),
            None if jsonapi => Some("page[size]".into()),
            None => None,
        };
        let create = match self
            .text_setting(setting("create"), &at("create"))?
            .as_deref()
        {
            None if jsonapi => CreateMethod::Post,
            None | Some("put") => CreateMethod::Put,
            Some("post") => CreateMethod::Post,
            Some(other) => {
                let message = format!("create {other:?}: use put or post");
                return Err(self.error(&at("create"), &message));
            }
        };
        let update = match self
            .text_setting(setting("update"), &at("update"))?
            .as_deref()
        {
            None if jsonapi => UpdateMethod::Patch,
            None | Some("put") => UpdateMethod::Put,
            Some("patch") => UpdateMethod::Patch,
            Some(other) => {
                let message = format!("update {other:?}: use put or patch");
                return Err(self.error(&at("update"), &message));
            }
        };
        let readonly = self.list_setting(setting("readonly"), &at("readonly"))?;
        let key = self.list_setting(own.get("key"), &["types", name, "key"])?;
        let send_id = match setting("send_id") {
            None => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => return Err(self.error(&at("send_id"), "send_id is true or false")),
        };
        let parents = self.parents(name, own.get("parents"))?;
        let profile = TypeProfile {
            name: name.to_string(),
            format,
            path,
            item,
            records: dotted(&records),
            id,
            next,
            size,
            create,
            update,
            readonly,
            key,
            parents,
            send_id,
        };
        self.check_placeholders(&profile)?;
        Ok(profile)
    }

    fn text_setting(&self, value: Option<&Value>, path: &[&str]) -> Result<Option<String>> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(number)) => Ok(Some(number.to_string())),
            Some(other) => Err(self.error(path, &format!("expected text, found {other}"))),
        }
    }

    fn list_setting(&self, value: Option<&Value>, path: &[&str]) -> Result<Vec<String>> {
        match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(one)) => Ok(vec![one.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(text) => Ok(text.clone()),
                    other => Err(self.error(path, &format!("expected field names, found {other}"))),
                })
                .collect(),
            Some(other) => Err(self.error(path, &format!("expected a list, found {other}"))),
        }
    }

    fn parents(&self, name: &str, value: Option<&Value>) -> Result<Vec<(String, String)>> {
        let at = ["types", name, "parents"];
        match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Object(fields)) => fields
                .iter()
                .map(|(field, parent)| match parent {
                    Value::String(parent) => Ok((field.clone(), parent.clone())),
                    other => Err(self.error(
                        &at,
                        &format!("parent of {field} must be a type name, found {other}"),
                    )),
                })
                .collect(),
            Some(_) => Err(self.error(&at, "`parents` maps member fields to type names")),
        }
    }

    /// Every `{placeholder}` is `{id}` or a field listed in the type's `parents`
    /// (`{id}` only in the item path).
    fn check_placeholders(&self, profile: &TypeProfile) -> Result<()> {
        let parent_fields: HashSet<&str> =
            profile.parents.iter().map(|(f, _)| f.as_str()).collect();
        for (key, template) in [("path", &profile.path), ("item", &profile.item)] {
            for placeholder in placeholders(template) {
                let allowed =
                    parent_fields.contains(placeholder) || (key == "item" && placeholder == "id");
                if !allowed {
                    let message = format!(
                        "{{{placeholder}}} in {key} of type {} is neither {{id}} nor a field listed in its `parents`",
                        profile.name
                    );
                    return Err(self.error(&["types", &profile.name, key], &message));
                }
            }
        }
        Ok(())
    }

    /// Every parent type exists and the parents hold no cycle.
    fn check_parents(&self, profile: &Profile) -> Result<()> {
        for t in profile.types.values() {
            for (field, parent) in &t.parents {
                if !profile.types.contains_key(parent) {
                    let message = format!("type {} names parent type {parent:?} (field {field}), which the profile lacks", t.name);
                    return Err(self.error(&["types", &t.name, "parents", field], &message));
                }
            }
        }
        if profile.parents_first().len() < profile.types.len() {
            let ordered: HashSet<&str> = profile
                .parents_first()
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            let in_cycle: Vec<&str> = profile
                .types
                .keys()
                .map(String::as_str)
                .filter(|n| !ordered.contains(n))
                .collect();
            let message = format!("the parents of types {} form a cycle", in_cycle.join(", "));
            return Err(self.error(&["types", in_cycle[0], "parents"], &message));
        }
        Ok(())
    }
}

/// `posts` -> `posts/{id}`, `teams/` -> `teams/{id}/`; a query stays on the collection.
fn default_item(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    match path.strip_suffix('/') {
        Some(base) => format!("{base}/{{id}}/"),
        None => format!("{path}/{{id}}"),
    }
}

fn dotted(path: &str) -> Vec<String> {
    FieldPath::keys(path)
}

/// The `{name}`s of a path template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(length) = rest[start..].find('}') else {
            break;
        };
        found.push(&rest[start + 1..start + length]);
        rest = &rest[start + length + 1..];
    }
    found
}

/// A template with each `{name}` replaced by `value(name)`; `None` when one is missing.
pub fn fill(template: &str, value: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let length = rest[start..].find('}')?;
        out.push_str(&rest[..start]);
        out.push_str(&value(&rest[start + 1..start + length])?);
        rest = &rest[start + length + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn parse_next(text: &str) -> std::result::Result<Next, String> {
    let (kind, argument) = text.split_once(':').unwrap_or((text, ""));
    let needs = |what: &str| format!("next {text:?}: `{kind}:` needs {what}");
    match kind {
        "link" if argument.is_empty() => Ok(Next::Link),
        "none" if argument.is_empty() => Ok(Next::None),
        "body" if !argument.is_empty() => Ok(Next::Body(dotted(argument))),
        "body" => Err(needs("a dotted path")),
        "page" => {
            let (param, start) = match argument.split_once('@') {
                Some((param, start)) => (param, start.parse().map_err(|_| needs("a number after @"))?),
                None => (argument, 1),
            };
            match param.is_empty() {
                true => Err(needs("a query parameter")),
                false => Ok(Next::Page { param: param.into(), start }),
            }
        }
        "offset" if !argument.is_empty() => Ok(Next::Offset(argument.into())),
        "offset" => Err(needs("a query parameter")),
        "cursor" => {
            let (param, source) = argument.split_once('=').ok_or_else(|| needs("PARAM=body:PATH or PARAM=header:NAME"))?;
            let from = match source.split_once(':') {
                Some(("body", path)) if !path.is_empty() => CursorSource::Body(dotted(path)),
                Some(("header", name)) if !name.is_empty() => CursorSource::Header(name.into()),
                _ => return Err(needs("PARAM=body:PATH or PARAM=header:NAME")),
            };
            Ok(Next::Cursor { param: param.into(), from })
        }
        _ => Err(format!(
            "next {text:?}: use link, body:PATH, page:PARAM, offset:PARAM, cursor:PARAM=body:PATH, cursor:PARAM=header:NAME or none"
        )),
    }
}

/// The 1-based line of the key at `path` (each key searched below the previous one, at a
/// deeper indent), or of the nearest ancestor found.
fn line_of(text: &str, path: &[&str]) -> Option<usize> {
    let mut found = None;
    let mut start = 0;
    let mut indent: Option<usize> = None;
    let lines: Vec<&str> = text.lines().collect();
    'keys: for key in path {
        for (index, line) in lines.iter().enumerate().skip(start) {
            let trimmed = line.trim_start();
            let this_indent = line.len() - trimmed.len();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if found.is_some() && indent.is_some_and(|outer| this_indent <= outer) {
                break 'keys;
            }
            let is_key = trimmed
                .strip_prefix(*key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
                || trimmed
                    .strip_prefix(&format!("\"{key}\""))
                    .is_some_and(|rest| rest.starts_with(':'));
            if is_key {
                found = Some(index + 1);
                indent = Some(this_indent);
                start = index + 1;
                continue 'keys;
            }
        }
        break;
    }
    found
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
