//! A profile's text checked into a `Profile`: every setting resolved for each type, and
//! every mistake named with the key, the type and the line.

use std::collections::{BTreeMap, HashSet};

use anyhow::Result;
use serde_json::{Map, Value};

use super::template::placeholders;
use super::{ApiFormat, CreateMethod, CursorSource, Next, Profile, TypeProfile, UpdateMethod};
use crate::exit_code::{usage, ExitContext};
use crate::expr::FieldPath;
use crate::format::yaml::YamlDocuments;
use crate::format::yaml_lines::line_of;

/// Settings allowed at the top and inside a type.
const SETTINGS: [&str; 11] = [
    "format", "records", "record", "id", "next", "size", "create", "update", "readonly", "send_id",
    "key",
];
/// Settings allowed only inside a type.
const TYPE_ONLY: [&str; 3] = ["path", "item", "parents"];

/// Parse and check a profile's text; `source` names it in errors.
pub(super) fn parse(text: &str, source: &str) -> Result<Profile> {
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
        // JSON:API holds a list's members and an answer's member both under `data`.
        let format_default = || match jsonapi {
            true => "data".to_string(),
            false => String::new(),
        };
        let records = self
            .text_setting(setting("records"), &at("records"))?
            .unwrap_or_else(format_default);
        let record = self
            .text_setting(setting("record"), &at("record"))?
            .unwrap_or_else(format_default);
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
            record: dotted(&record),
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
pub(super) fn default_item(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    match path.strip_suffix('/') {
        Some(base) => format!("{base}/{{id}}/"),
        None => format!("{path}/{{id}}"),
    }
}

fn dotted(path: &str) -> Vec<String> {
    FieldPath::keys(path)
}

pub(super) fn parse_next(text: &str) -> std::result::Result<Next, String> {
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
