//! The profile an OpenAPI 3 document implies: its collections become types, their settings
//! come from the schemas, and each choice the document leaves open is marked `# guessed:`.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::Value;
use url::Url;

use super::refs::Document;
use crate::exit_code::usage;

const JSONAPI: &str = "application/vnd.api+json";

/// One setting of a type (or, when every type agrees, of the whole profile).
#[derive(Debug, Clone, PartialEq)]
struct Setting {
    key: &'static str,
    value: SettingValue,
    /// Why the value is a guess; `None` when the document settles it.
    guess: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum SettingValue {
    Text(String),
    List(Vec<String>),
}

impl Setting {
    fn text(key: &'static str, value: &str, guess: Option<String>) -> Setting {
        let value = SettingValue::Text(value.to_string());
        Setting { key, value, guess }
    }
}

/// A member field holding the id of a parent type.
#[derive(Debug, Clone, PartialEq)]
struct Parent {
    field: String,
    kind: String,
    guess: Option<String>,
}

/// A path whose GET answers a list of objects, as the document describes it.
struct Collection {
    /// The path as the document writes it (`/api/teams/{team}/players/`).
    path: String,
    name: String,
    /// The item path that adds one `{param}`, and that parameter.
    item: Option<(String, String)>,
    jsonapi: bool,
    records: String,
    /// The merged schema of one member.
    member: Value,
    /// The merged schema of the whole list response.
    list: Value,
    /// The GET's parameters, `$ref`s resolved.
    parameters: Vec<Value>,
    /// Whether the list response declares a `Link` header.
    link_header: bool,
    /// Whether the collection takes POST, and the merged schema of the body it documents.
    post: bool,
    post_body: Option<Value>,
    item_put: bool,
    item_patch: bool,
}

/// A type as it will be printed.
struct TypeOut {
    name: String,
    path: String,
    item: Option<String>,
    /// Why the profile's default item path is used.
    item_guess: Option<String>,
    parents: Vec<Parent>,
    settings: Vec<Setting>,
    /// Why the type is printed commented out.
    skipped: Option<String>,
}

/// The profile text for `root`, read from `source` (`url` when it came over HTTP).
pub fn profile(root: &Value, source: &str, url: Option<&Url>) -> Result<String> {
    let version = check_version(root)?;
    let document = Document::new(root);
    let Some(paths) = root.get("paths").and_then(Value::as_object) else {
        return Err(usage("no collection found: the document has no `paths`"));
    };
    let own_path = url.map(|url| url.path().to_string());
    let mut collections = Vec::new();
    for (path, path_item) in paths {
        if own_path.as_deref() == Some(path.as_str()) {
            continue;
        }
        if let Some(found) = collection(&document, paths, path, path_item)? {
            collections.push(found);
        }
    }
    if collections.is_empty() {
        return Err(usage(
            "no collection found: no path's GET answers a list of objects",
        ));
    }
    let (chosen, notes) = choose(collections);
    let names: Vec<&str> = chosen.iter().map(|c| c.name.as_str()).collect();
    let mut types = Vec::new();
    for collection in &chosen {
        types.push(describe(&document, collection, &chosen, &names)?);
    }
    let mut notes = notes;
    notes.extend(drop_parent_cycles(&mut types));
    skip_orphans(&mut types);
    if types.iter().all(|t| t.skipped.is_some()) {
        let reasons: Vec<String> = types
            .iter()
            .map(|t| format!("{}: {}", t.name, t.skipped.as_deref().unwrap_or_default()))
            .collect();
        return Err(usage(format!(
            "no collection can be described: {}",
            reasons.join("; ")
        )));
    }
    let header = header(root, &version, source, url);
    Ok(render(&header, types, &notes))
}

/// `openapi: 3.0.x` or `3.1.x`, else the reason it is not OpenAPI 3.
fn check_version(root: &Value) -> Result<String> {
    match root.get("openapi") {
        Some(Value::String(version)) if version.starts_with("3.") => Ok(version.clone()),
        Some(other) => Err(usage(format!(
            "not an OpenAPI 3 document: `openapi` is {other}"
        ))),
        None if root.get("swagger").is_some() => Err(usage(
            "not an OpenAPI 3 document: it is Swagger 2 (`swagger`); convert it to OpenAPI 3 first",
        )),
        None => Err(usage(
            "not an OpenAPI 3 document: it has no `openapi` field",
        )),
    }
}

/// The path described as a collection, or `None` when its GET does not answer a list of
/// objects (`/health`, a list of strings, the schema document itself).
fn collection(
    document: &Document,
    paths: &serde_json::Map<String, Value>,
    path: &str,
    path_item: &Value,
) -> Result<Option<Collection>> {
    let path_item = document.resolve(path_item)?;
    let Some(get) = path_item.get("get") else {
        return Ok(None);
    };
    let Some((media, response)) = success_content(document, get.get("responses"))? else {
        return Ok(None);
    };
    let Some(schema) = response.get("schema") else {
        return Ok(None);
    };
    let list = document.schema(schema)?;
    let Some((records, items)) = list_members(document, &list)? else {
        return Ok(None);
    };
    let member = document.schema(&items)?;
    if !is_object(&member) {
        return Ok(None);
    }
    let mut parameters = Vec::new();
    for holder in [path_item, get] {
        for parameter in holder
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            parameters.push(document.resolve(parameter)?.clone());
        }
    }
    let link_header = success_headers(document, get.get("responses"))?
        .iter()
        .any(|name| name.eq_ignore_ascii_case("link"));
    let post_body = match path_item.get("post") {
        Some(post) => request_schema(document, post)?,
        None => None,
    };
    let item = item_path(paths, path);
    let (mut item_put, mut item_patch) = (false, false);
    if let Some((item_path, _)) = &item {
        let item_item = document.resolve(&paths[item_path])?;
        item_put = item_item.get("put").is_some();
        item_patch = item_item.get("patch").is_some();
    }
    let jsonapi = media == JSONAPI;
    let name = type_name(document, path, &member, jsonapi)?;
    Ok(Some(Collection {
        path: path.to_string(),
        name,
        item,
        jsonapi,
        records,
        member,
        list,
        parameters,
        link_header,
        post: path_item.get("post").is_some(),
        post_body,
        item_put,
        item_patch,
    }))
}

/// The media type and content of the first success response (`200`, else any `2XX`).
fn success_content<'d>(
    document: &Document<'d>,
    responses: Option<&'d Value>,
) -> Result<Option<(String, &'d Value)>> {
    let Some(response) = success_response(document, responses)? else {
        return Ok(None);
    };
    Ok(pick_media(response.get("content")))
}

fn success_response<'d>(
    document: &Document<'d>,
    responses: Option<&'d Value>,
) -> Result<Option<&'d Value>> {
    let Some(Value::Object(responses)) = responses else {
        return Ok(None);
    };
    let code = responses
        .keys()
        .find(|code| *code == "200")
        .or_else(|| responses.keys().find(|code| code.starts_with('2')));
    match code {
        Some(code) => Ok(Some(document.resolve(&responses[code])?)),
        None => Ok(None),
    }
}

fn success_headers(document: &Document, responses: Option<&Value>) -> Result<Vec<String>> {
    let headers = success_response(document, responses)?
        .and_then(|response| response.get("headers"))
        .and_then(Value::as_object);
    Ok(headers
        .into_iter()
        .flatten()
        .map(|(name, _)| name.clone())
        .collect())
}

/// JSON:API first, then JSON, then any `+json` media type.
fn pick_media(content: Option<&Value>) -> Option<(String, &Value)> {
    let content = content?.as_object()?;
    let rank = |media: &str| match media {
        JSONAPI => 0,
        "application/json" => 1,
        other if other.contains("json") => 2,
        _ => 3,
    };
    let best = content.keys().min_by_key(|media| rank(media))?;
    (rank(best) < 3).then(|| (best.clone(), &content[best]))
}

/// The merged schema of an operation's JSON request body.
fn request_schema(document: &Document, operation: &Value) -> Result<Option<Value>> {
    let Some(body) = operation.get("requestBody") else {
        return Ok(None);
    };
    let body = document.resolve(body)?;
    match pick_media(body.get("content")).and_then(|(_, content)| content.get("schema")) {
        Some(schema) => Ok(Some(document.schema(schema)?)),
        None => Ok(None),
    }
}

/// Where a list response holds its members, and their schema: a bare array (`""`) or an
/// array under `results`, `data` or `items`.
fn list_members(document: &Document, list: &Value) -> Result<Option<(String, Value)>> {
    if let Some(items) = array_items(list) {
        return Ok(Some((String::new(), items)));
    }
    for name in ["results", "data", "items"] {
        if let Some(property) = document.property(list, name)? {
            if let Some(items) = array_items(&property) {
                return Ok(Some((name.to_string(), items)));
            }
        }
    }
    Ok(None)
}

fn array_items(schema: &Value) -> Option<Value> {
    let is_array = schema.get("type").and_then(Value::as_str) == Some("array");
    match (is_array, schema.get("items")) {
        (true, Some(items)) => Some(items.clone()),
        _ => None,
    }
}

fn is_object(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
        || schema.get("properties").is_some()
}

/// The document's path that is `path` plus one `{param}` segment (keeping a trailing `/`),
/// and that parameter's name.
fn item_path(paths: &serde_json::Map<String, Value>, path: &str) -> Option<(String, String)> {
    let collection = segments(path);
    paths.keys().find_map(|candidate| {
        let item = segments(candidate);
        let same_prefix = item.len() == collection.len() + 1
            && candidate.ends_with('/') == path.ends_with('/')
            && collection
                .iter()
                .zip(&item)
                .all(|(a, b)| a == b || (placeholder(a).is_some() && placeholder(b).is_some()));
        let param = placeholder(item.last()?)?;
        same_prefix.then(|| (candidate.clone(), param.to_string()))
    })
}

fn segments(path: &str) -> Vec<&str> {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// `{name}` -> `name`.
fn placeholder(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

/// A JSON:API member's `type` when the schema names exactly one, else the collection's last
/// literal path segment (`/api/teams/{team}/players/` -> `players`).
fn type_name(document: &Document, path: &str, member: &Value, jsonapi: bool) -> Result<String> {
    if jsonapi {
        if let Some(kind) = document.property(member, "type")? {
            if let Some([Value::String(name)]) = kind
                .get("enum")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
            {
                return Ok(safe_name(name));
            }
        }
    }
    let last = segments(path)
        .into_iter()
        .rev()
        .find(|segment| placeholder(segment).is_none())
        .unwrap_or("items");
    Ok(safe_name(last))
}

/// A name fit for a type: the profile's folders are named after it.
fn safe_name(name: &str) -> String {
    let name: String = name
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                true => c,
                false => '_',
            },
        )
        .collect();
    match name.is_empty() {
        true => "items".to_string(),
        false => name,
    }
}

/// One collection per type name: the one with an item path, else fewer placeholders, else
/// the shorter path. The others are listed in a note (`/api/teams/{team}/players/` also
/// lists players).
fn choose(collections: Vec<Collection>) -> (Vec<Collection>, Vec<String>) {
    let mut groups: BTreeMap<String, Vec<Collection>> = BTreeMap::new();
    for collection in collections {
        groups
            .entry(collection.name.clone())
            .or_default()
            .push(collection);
    }
    let mut chosen = Vec::new();
    let mut notes = Vec::new();
    for (name, mut group) in groups {
        group.sort_by_key(|c| {
            (
                c.item.is_none(),
                segments(&c.path)
                    .iter()
                    .filter(|s| placeholder(s).is_some())
                    .count(),
                c.path.len(),
            )
        });
        let mut group = group.into_iter();
        let Some(first) = group.next() else { continue };
        for other in group {
            notes.push(format!(
                "{} also lists {name}: they are read from {}",
                relative(&other.path),
                relative(&first.path)
            ));
        }
        chosen.push(first);
    }
    (chosen, notes)
}

/// A document path as the profile writes it: relative to the endpoint URL.
fn relative(path: &str) -> String {
    path.trim_start_matches('/').to_string()
}

/// The member's field names: its properties, or in JSON:API its attributes.
fn member_fields(document: &Document, collection: &Collection) -> Result<Vec<(String, Value)>> {
    let holder = match collection.jsonapi {
        true => match document.property(&collection.member, "attributes")? {
            Some(attributes) => attributes,
            None => return Ok(Vec::new()),
        },
        false => collection.member.clone(),
    };
    properties(document, &holder)
}

/// The merged schema of each property of an object schema.
fn properties(document: &Document, schema: &Value) -> Result<Vec<(String, Value)>> {
    let mut out = Vec::new();
    for (name, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        out.push((name.clone(), document.schema(property)?));
    }
    Ok(out)
}

/// A JSON:API member's to-one relationships: name and the type its `data.type` names, if any.
fn relationships(document: &Document, member: &Value) -> Result<Vec<(String, Option<String>)>> {
    let Some(holder) = document.property(member, "relationships")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, relationship) in properties(document, &holder)? {
        let Some(data) = relationship.get("properties").and_then(|p| p.get("data")) else {
            continue;
        };
        let variants = document.variants(data)?;
        if variants.iter().any(|v| array_items(v).is_some()) {
            continue; // to-many: not a parent
        }
        let mut named = None;
        for variant in &variants {
            if let Some(kind) = document.property(variant, "type")? {
                if let Some([Value::String(kind)]) = kind
                    .get("enum")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                {
                    named = Some(kind.clone());
                }
            }
        }
        out.push((name, named));
    }
    Ok(out)
}

/// `team_id`, `teamId`, `team_pk` -> `team`.
fn strip_id_suffix(name: &str) -> &str {
    ["_pk", "_id", "Id"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix).filter(|base| !base.is_empty()))
        .unwrap_or(name)
}

/// Whether a field's base name names a type: `team` names `teams`, `team` or `Team`.
fn names_type(base: &str, kind: &str) -> bool {
    let base = base.to_ascii_lowercase();
    let kind = kind.to_ascii_lowercase();
    [
        kind.as_str(),
        kind.strip_suffix('s').unwrap_or(&kind),
        kind.strip_suffix("es").unwrap_or(&kind),
    ]
    .contains(&base.as_str())
        || kind
            .strip_suffix("ies")
            .is_some_and(|stem| base == format!("{stem}y"))
}

/// Whether a schema (or one of its variants) is a scalar that can hold an id.
fn holds_id(document: &Document, schema: &Value) -> Result<bool> {
    let variants = document.variants(schema)?;
    Ok(variants.iter().any(|v| {
        matches!(
            v.get("type").and_then(Value::as_str),
            Some("integer" | "string")
        )
    }))
}

fn is_read_only(schema: &Value) -> bool {
    schema.get("readOnly") == Some(&Value::Bool(true))
}

/// The type `collection` becomes: its paths, parents and settings, or why it is skipped.
fn describe(
    document: &Document,
    collection: &Collection,
    all: &[Collection],
    names: &[&str],
) -> Result<TypeOut> {
    let fields = member_fields(document, collection)?;
    let has_field = |name: &str| fields.iter().any(|(field, _)| field == name);
    let relations = match collection.jsonapi {
        true => relationships(document, &collection.member)?,
        false => Vec::new(),
    };
    let mut out = TypeOut {
        name: collection.name.clone(),
        path: relative(&collection.path),
        item: None,
        item_guess: None,
        parents: Vec::new(),
        settings: Vec::new(),
        skipped: None,
    };
    if collection.jsonapi {
        out.settings.push(Setting::text("format", "jsonapi", None));
    }
    out.settings
        .push(Setting::text("records", &collection.records, None));

    // The id: JSON:API's own; `id`; else the field named like the item's parameter.
    let item_param = collection.item.as_ref().map(|(_, param)| param.as_str());
    let id = match (collection.jsonapi, item_param) {
        (true, _) => Some(("id".to_string(), None)),
        (false, _) if has_field("id") => Some(("id".to_string(), None)),
        (false, Some(param)) if has_field(param) => Some((
            param.to_string(),
            Some(format!(
                "no `id` property: the item path's {{{param}}} names it"
            )),
        )),
        _ => None,
    };
    let Some((id, id_guess)) = id else {
        out.skipped = Some(
            "its members have no `id` property (nor one named like the item path's parameter)"
                .into(),
        );
        return Ok(out);
    };
    if id != "id" {
        out.settings.push(Setting::text("id", &id, id_guess));
    }

    // Parents named by placeholders before the item's own.
    let mut path_segments: Vec<String> = segments(&collection.path)
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (index, segment) in segments(&collection.path).iter().enumerate() {
        let Some(param) = placeholder(segment) else {
            continue;
        };
        let prefix = &segments(&collection.path)[..=index];
        let structural = all.iter().find(|other| {
            other.item.as_ref().is_some_and(|(item, _)| {
                let item = segments(item);
                item.len() == prefix.len()
                    && item.iter().zip(prefix).all(|(a, b)| {
                        a == b || (placeholder(a).is_some() && placeholder(b).is_some())
                    })
            })
        });
        let base = strip_id_suffix(param);
        let kind = match structural {
            Some(parent) => Some(parent.name.clone()),
            None => names
                .iter()
                .find(|name| names_type(base, name))
                .map(|name| name.to_string()),
        };
        let Some(kind) = kind else {
            out.skipped = Some(format!(
                "its path's {{{param}}} names no collection of the document"
            ));
            return Ok(out);
        };
        let parent_fields: Vec<String> = match collection.jsonapi {
            true => relations.iter().map(|(name, _)| name.clone()).collect(),
            false => fields.iter().map(|(name, _)| name.clone()).collect(),
        };
        let singular = kind.strip_suffix('s').unwrap_or(&kind).to_string();
        let mut candidates: Vec<String> = Vec::new();
        for name in [
            param.to_string(),
            base.to_string(),
            singular.clone(),
            format!("{singular}_id"),
            format!("{singular}Id"),
        ] {
            if !candidates.contains(&name) {
                candidates.push(name);
            }
        }
        let Some(field) = candidates
            .iter()
            .find(|c| **c != id && parent_fields.contains(*c))
        else {
            out.skipped = Some(format!(
                "its path's {{{param}}} has no member field (looked for {})",
                candidates.join(", ")
            ));
            return Ok(out);
        };
        path_segments[index] = format!("{{{field}}}");
        out.parents.push(Parent {
            field: field.clone(),
            kind: kind.clone(),
            guess: Some(format!("the path's {{{param}}} is the member field `{field}`, holding a {kind} id (from the parameter's name)")),
        });
    }
    out.path = rebuild(&collection.path, &path_segments);
    if let Some((item, _)) = &collection.item {
        let mut item_segments: Vec<String> = segments(item).iter().map(|s| s.to_string()).collect();
        for (index, segment) in path_segments.iter().enumerate() {
            item_segments[index] = segment.clone();
        }
        let last = item_segments.len() - 1;
        item_segments[last] = "{id}".to_string();
        out.item = Some(rebuild(item, &item_segments));
    } else {
        let guess = "the document has no item path: the profile's default, path + /{id}";
        out.item_guess = Some(guess.into());
    }

    // Parents named by member fields or JSON:API relationships.
    let placed: Vec<String> = out.parents.iter().map(|p| p.field.clone()).collect();
    if collection.jsonapi {
        for (name, named) in &relations {
            if placed.contains(name) {
                continue;
            }
            let parent = match named {
                Some(kind) if names.contains(&kind.as_str()) => Some((kind.clone(), None)),
                _ => names
                    .iter()
                    .find(|kind| names_type(name, kind))
                    .map(|kind| {
                        let guess = format!(
                            "relationship `{name}` holds a {kind} resource (from its name)"
                        );
                        (kind.to_string(), Some(guess))
                    }),
            };
            if let Some((kind, guess)) = parent {
                out.parents.push(Parent {
                    field: name.clone(),
                    kind,
                    guess,
                });
            }
        }
    } else {
        for (name, schema) in &fields {
            if *name == id || placed.contains(name) || !holds_id(document, schema)? {
                continue;
            }
            let base = strip_id_suffix(name);
            let found = names
                .iter()
                .find(|kind| **kind != collection.name && names_type(base, kind));
            if let Some(kind) = found {
                out.parents.push(Parent {
                    field: name.clone(),
                    kind: kind.to_string(),
                    guess: Some(format!("field `{name}` holds a {kind} id (from its name)")),
                });
            }
        }
    }

    out.settings.extend(pages(document, collection)?);
    let create = match collection.post {
        true => "post",
        false => "put",
    };
    out.settings.push(Setting::text("create", create, None));
    let update = match collection.item_patch && !collection.item_put {
        true => "patch",
        false => "put",
    };
    out.settings.push(Setting::text("update", update, None));
    let parent_fields: Vec<&str> = out.parents.iter().map(|p| p.field.as_str()).collect();
    let readonly = readonly(document, collection, &fields, &id, &parent_fields)?;
    if !readonly.is_empty() {
        out.settings.push(Setting {
            key: "readonly",
            value: SettingValue::List(readonly),
            guess: None,
        });
    }
    Ok(out)
}

/// A path with its segments replaced, keeping the leading-slash-free form and a trailing `/`.
fn rebuild(original: &str, segments: &[String]) -> String {
    let trailing = match original
        .split('?')
        .next()
        .unwrap_or(original)
        .ends_with('/')
    {
        true => "/",
        false => "",
    };
    format!("{}{trailing}", segments.join("/"))
}

/// `next` and `size`, from the list response's fields or, guessed, the GET's parameters.
fn pages(document: &Document, collection: &Collection) -> Result<Vec<Setting>> {
    let query: Vec<&str> = collection
        .parameters
        .iter()
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .collect();
    let from_name = |param: &str| Some(format!("a `{param}` query parameter (from its name)"));
    let mut out = Vec::new();
    let next_field = match document.property(&collection.list, "next")? {
        Some(next) => document
            .variants(&next)?
            .iter()
            .any(|v| v.get("type").and_then(Value::as_str) == Some("string")),
        None => false,
    };
    let links_next = match document.property(&collection.list, "links")? {
        Some(links) => document.property(&links, "next")?.is_some(),
        None => false,
    };
    let next = if next_field {
        Setting::text("next", "body:next", None)
    } else if links_next {
        Setting::text("next", "body:links.next", None)
    } else if let Some(param) = ["page", "page[number]"]
        .into_iter()
        .find(|p| query.contains(p))
    {
        Setting::text("next", &format!("page:{param}"), from_name(param))
    } else if query.contains(&"offset") {
        Setting::text("next", "offset:offset", from_name("offset"))
    } else if collection.link_header {
        Setting::text("next", "link", None)
    } else {
        let guess = "the document names no next page: a Link header is followed if one comes";
        Setting::text("next", "link", Some(guess.into()))
    };
    out.push(next);
    let size = ["page_size", "per_page", "limit", "page[size]"]
        .into_iter()
        .find(|p| query.contains(p));
    match size {
        Some(param) => out.push(Setting::text(
            "size",
            param,
            Some(format!("`{param}` carries --limit (from its name)")),
        )),
        None if collection.jsonapi => out.push(Setting::text("size", "none", None)),
        None => {}
    }
    Ok(out)
}

/// Fields the server owns: `readOnly` ones, and those the POST body lacks (the id and
/// parent fields aside: they are written through the path or rewritten on a clone).
fn readonly(
    document: &Document,
    collection: &Collection,
    fields: &[(String, Value)],
    id: &str,
    parent_fields: &[&str],
) -> Result<Vec<String>> {
    let posted: Option<Vec<String>> = match &collection.post_body {
        Some(body) => {
            let holder = match collection.jsonapi {
                true => document
                    .property(body, "data")?
                    .map(|data| document.property(&data, "attributes"))
                    .transpose()?
                    .flatten(),
                false => Some(body.clone()),
            };
            holder
                .map(|holder| properties(document, &holder))
                .transpose()?
                .map(|props| props.into_iter().map(|(name, _)| name).collect())
        }
        None => None,
    };
    Ok(fields
        .iter()
        .filter(|(name, _)| name != id && !parent_fields.contains(&name.as_str()))
        .filter(|(name, schema)| {
            is_read_only(schema) || posted.as_ref().is_some_and(|posted| !posted.contains(name))
        })
        .map(|(name, _)| name.clone())
        .collect())
}

/// Guessed parents that would close a cycle among the types are dropped (with a note): a
/// profile whose parents form a cycle is refused. Parents the document settles, and those a
/// path's placeholder needs, are kept first; guesses are then added in type order.
fn drop_parent_cycles(types: &mut [TypeOut]) -> Vec<String> {
    let mut guesses = Vec::new();
    for (index, t) in types.iter_mut().enumerate() {
        let path = t.path.clone();
        let (kept, guessed): (Vec<Parent>, Vec<Parent>) = std::mem::take(&mut t.parents)
            .into_iter()
            .partition(|p| p.guess.is_none() || path.contains(&format!("{{{}}}", p.field)));
        t.parents = kept;
        guesses.extend(guessed.into_iter().map(|parent| (index, parent)));
    }
    let mut notes = Vec::new();
    for (index, parent) in guesses {
        let name = types[index].name.clone();
        if parent.kind == name || reaches(types, &parent.kind, &name) {
            notes.push(format!(
                "{name}.{} is not listed as a parent: it would make the parents a cycle",
                parent.field
            ));
            continue;
        }
        types[index].parents.push(parent);
    }
    notes
}

/// Whether `from`'s parents lead to `to`.
fn reaches(types: &[TypeOut], from: &str, to: &str) -> bool {
    let mut pending = vec![from.to_string()];
    let mut seen = Vec::new();
    while let Some(name) = pending.pop() {
        if name == to {
            return true;
        }
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        if let Some(t) = types.iter().find(|t| t.name == name) {
            pending.extend(t.parents.iter().map(|p| p.kind.clone()));
        }
    }
    false
}

/// A type whose parent is commented out is commented out too.
fn skip_orphans(types: &mut [TypeOut]) {
    loop {
        let skipped: Vec<String> = types
            .iter()
            .filter(|t| t.skipped.is_some())
            .map(|t| t.name.clone())
            .collect();
        let mut changed = false;
        for t in types.iter_mut().filter(|t| t.skipped.is_none()) {
            if let Some(parent) = t.parents.iter().find(|p| skipped.contains(&p.kind)) {
                t.skipped = Some(format!("its parent type {} is commented out", parent.kind));
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// The comment lines at the top: what the profile is for and what its paths are relative to.
fn header(root: &Value, version: &str, source: &str, url: Option<&Url>) -> Vec<String> {
    let info = root.get("info");
    let title = info
        .and_then(|i| i.get("title"))
        .and_then(Value::as_str)
        .unwrap_or("an API");
    let api_version = info
        .and_then(|i| i.get("version"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut lines = vec![
        format!("A profile for {title} {api_version} (OpenAPI {version}), generated by"),
        format!("`resource-sync --generate profile {source}`."),
    ];
    let server = root
        .get("servers")
        .and_then(Value::as_array)
        .and_then(|servers| servers.first())
        .and_then(server_url);
    let server = server.map(|text| match url {
        Some(url) => url.join(&text).map(|u| u.to_string()).unwrap_or(text),
        None => text,
    });
    match server.as_deref().map(|s| s.trim_end_matches('/')) {
        Some(server) if !server.is_empty() => lines.push(format!(
            "Paths are relative to the document's first server: use {server} as the endpoint URL."
        )),
        _ => {
            let host = url
                .map(|url| url.origin().ascii_serialization())
                .unwrap_or_else(|| "http://HOST".to_string());
            lines
                .push("Paths are relative to the host root (the document names no server):".into());
            lines.push(format!("use {host} as the endpoint URL."));
        }
    }
    lines.push(
        "`# guessed:` marks each choice the document does not settle: check those first.".into(),
    );
    lines
}

/// A server's URL with each `{variable}` set to its default.
fn server_url(server: &Value) -> Option<String> {
    let mut text = server.get("url")?.as_str()?.to_string();
    if let Some(Value::Object(variables)) = server.get("variables") {
        for (name, variable) in variables {
            if let Some(default) = variable.get("default").and_then(Value::as_str) {
                text = text.replace(&format!("{{{name}}}"), default);
            }
        }
    }
    Some(text)
}

/// The profile's YAML: the header, settings every type shares, the types, then the notes.
fn render(header: &[String], mut types: Vec<TypeOut>, notes: &[String]) -> String {
    let mut out = String::new();
    for line in header {
        comment(&mut out, "", line);
    }
    let active: Vec<usize> = (0..types.len())
        .filter(|&i| types[i].skipped.is_none())
        .collect();
    let mut shared = Vec::new();
    for setting in types[active[0]].settings.clone() {
        let everywhere = active.iter().all(|&i| types[i].settings.contains(&setting));
        if everywhere {
            for &i in &active {
                types[i].settings.retain(|s| *s != setting);
            }
            shared.push(setting);
        }
    }
    for setting in &shared {
        setting_lines(&mut out, "", setting);
    }
    out.push_str("types:\n");
    for t in &types {
        let mut block = String::new();
        type_lines(&mut block, t);
        match &t.skipped {
            None => out.push_str(&block),
            Some(reason) => {
                comment(&mut out, "  ", &format!("{} is left out: {reason}", t.name));
                for line in block.lines() {
                    out.push_str("  # ");
                    out.push_str(line.strip_prefix("  ").unwrap_or(line));
                    out.push('\n');
                }
            }
        }
    }
    for note in notes {
        comment(&mut out, "", note);
    }
    out
}

fn type_lines(out: &mut String, t: &TypeOut) {
    out.push_str(&format!("  {}:\n", plain_or_quoted(&t.name, false)));
    out.push_str(&format!("    path: {}\n", plain_or_quoted(&t.path, false)));
    if let Some(guess) = &t.item_guess {
        comment(out, "    ", &format!("guessed: {guess}"));
    }
    if let Some(item) = &t.item {
        out.push_str(&format!("    item: {}\n", plain_or_quoted(item, false)));
    }
    if !t.parents.is_empty() {
        out.push_str("    parents:\n");
        for parent in &t.parents {
            if let Some(guess) = &parent.guess {
                comment(out, "      ", &format!("guessed: {guess}"));
            }
            out.push_str(&format!(
                "      {}: {}\n",
                plain_or_quoted(&parent.field, false),
                plain_or_quoted(&parent.kind, false)
            ));
        }
    }
    for setting in &t.settings {
        setting_lines(out, "    ", setting);
    }
}

fn setting_lines(out: &mut String, indent: &str, setting: &Setting) {
    if let Some(guess) = &setting.guess {
        comment(out, indent, &format!("guessed: {guess}"));
    }
    let value = match &setting.value {
        SettingValue::Text(text) => plain_or_quoted(text, false),
        SettingValue::List(items) => {
            let items: Vec<String> = items.iter().map(|i| plain_or_quoted(i, true)).collect();
            format!("[{}]", items.join(", "))
        }
    };
    out.push_str(&format!("{indent}{}: {value}\n", setting.key));
}

fn comment(out: &mut String, indent: &str, text: &str) {
    out.push_str(&format!("{indent}# {}\n", text.replace(['\n', '\r'], " ")));
}

/// `text` as a YAML scalar: plain when that reads back as the same string, else JSON-quoted
/// (a JSON string is a YAML double-quoted scalar). `flow`: inside `[...]`, where `{}[],`
/// end a plain scalar.
fn plain_or_quoted(text: &str, flow: bool) -> String {
    const YAML_WORDS: [&str; 10] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ];
    let first_ok = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let chars_ok = text.chars().all(|c| {
        c.is_ascii_alphanumeric() || "_./-?&=".contains(c) || (!flow && "{}[]:".contains(c))
    });
    // `a:b` is plain in a block; `a:` would be a mapping.
    let colon_ok = !text.ends_with(':');
    let word = YAML_WORDS.contains(&text.to_ascii_lowercase().as_str());
    match first_ok && chars_ok && colon_ok && !word {
        true => text.to_string(),
        false => serde_json::to_string(text).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::profile::{ApiFormat, CreateMethod, Next, Profile, UpdateMethod};
    use serde_json::json;

    fn generated(root: &Value) -> (String, Profile) {
        let text = profile(root, "doc.json", None).unwrap();
        let parsed = Profile::parse(&text, "generated").unwrap_or_else(|e| panic!("{e:#}\n{text}"));
        (text, parsed)
    }

    fn error_of(root: &Value) -> String {
        format!("{:#}", profile(root, "doc.json", None).unwrap_err())
    }

    /// A FastAPI-shaped document: bare arrays, `{team_id}` nesting, a server-set field.
    fn fastapi() -> Value {
        let list = |item: &str| json!({"200": {"content": {"application/json": {"schema": {"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}}}}}});
        json!({
            "openapi": "3.1.0",
            "info": {"title": "League", "version": "1"},
            "servers": [{"url": "/v1"}],
            "paths": {
                "/health": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"type": "object"}}}}}}},
                "/tags": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}}}}}},
                "/teams": {
                    "get": {"parameters": [{"name": "offset", "in": "query"}, {"name": "limit", "in": "query"}], "responses": list("Team")},
                    "post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/TeamIn"}}}}},
                },
                "/teams/{team_id}": {"get": {}, "patch": {}},
                "/teams/{team_id}/players": {
                    "get": {"responses": list("Player")},
                    "post": {},
                },
                "/teams/{team_id}/players/{player_id}": {"put": {}},
            },
            "components": {"schemas": {
                "TeamIn": {"type": "object", "properties": {"name": {"type": "string"}}},
                "Team": {"allOf": [{"$ref": "#/components/schemas/TeamIn"}, {"properties": {"id": {"type": "integer"}, "created_at": {"type": "string"}}}]},
                "Player": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "team_id": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}},
            }},
        })
    }

    #[test]
    fn collections_items_parents_and_pages_come_from_the_document() {
        let (text, profile) = generated(&fastapi());
        assert!(text.contains("use /v1 as the endpoint URL"), "{text}");
        assert_eq!(
            profile.types.keys().collect::<Vec<_>>(),
            ["players", "teams"],
            "{text}"
        );
        let teams = &profile.types["teams"];
        assert_eq!(
            (teams.path.as_str(), teams.item.as_str()),
            ("teams", "teams/{id}")
        );
        assert_eq!(teams.next, Next::Offset("offset".into()));
        assert_eq!(teams.size.as_deref(), Some("limit"));
        assert_eq!(
            (teams.create, teams.update),
            (CreateMethod::Post, UpdateMethod::Patch)
        );
        assert_eq!(teams.readonly, ["created_at"]);
        let players = &profile.types["players"];
        assert_eq!(players.path, "teams/{team_id}/players");
        assert_eq!(players.item, "teams/{team_id}/players/{id}");
        assert_eq!(
            players.parents,
            [("team_id".to_string(), "teams".to_string())]
        );
        assert_eq!(players.next, Next::Link);
        assert_eq!(players.update, UpdateMethod::Put);
        for guess in [
            "# guessed: a `offset` query parameter",
            "# guessed: `limit` carries --limit",
            "# guessed: the path's {team_id} is the member field `team_id`",
            "# guessed: the document names no next page",
        ] {
            assert!(text.contains(guess), "{guess}\n{text}");
        }
    }

    #[test]
    fn jsonapi_relationships_are_parents_and_its_format_is_set() {
        let member = |kind: &str, rels: Value| {
            json!({"type": "object", "properties": {
                "type": {"type": "string", "enum": [kind]}, "id": {"type": "string"},
                "attributes": {"properties": {"name": {"type": "string"}, "made": {"type": "string", "readOnly": true}}},
                "relationships": {"properties": rels},
            }})
        };
        let list = |schema: Value| json!({"get": {"parameters": [{"name": "page[size]", "in": "query"}], "responses": {"200": {"content": {JSONAPI: {"schema": {"properties": {"data": {"type": "array", "items": schema}, "links": {"allOf": [{"properties": {"next": {"type": "string"}}}]}}}}}}}}, "post": {}});
        let to_one = json!({"properties": {"data": {"properties": {"type": {"enum": ["clubs"]}, "id": {"type": "string"}}}}});
        let root = json!({
            "openapi": "3.0.2",
            "paths": {
                "/clubs": list(member("clubs", json!({}))),
                "/clubs/{id}": {"patch": {}},
                "/members": list(member("members", json!({"club": to_one, "friends": {"properties": {"data": {"type": "array", "items": {}}}}}))),
                "/members/{id}": {"patch": {}},
            },
        });
        let (text, profile) = generated(&root);
        let members = &profile.types["members"];
        assert_eq!(members.format, ApiFormat::JsonApi);
        assert_eq!(members.parents, [("club".to_string(), "clubs".to_string())]);
        assert_eq!(
            members.next,
            Next::Body(vec!["links".into(), "next".into()])
        );
        assert_eq!(members.readonly, ["made"]);
        assert!(!text.contains("guessed: relationship"), "{text}");
        assert!(
            text.contains("use http://HOST as the endpoint URL"),
            "{text}"
        );
    }

    #[test]
    fn a_placeholder_without_a_member_field_comments_the_type_out() {
        let mut root = fastapi();
        root["components"]["schemas"]["Player"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("team_id");
        let (text, profile) = generated(&root);
        assert_eq!(profile.types.keys().collect::<Vec<_>>(), ["teams"]);
        assert!(
            text.contains("# players is left out: its path's {team_id} has no member field"),
            "{text}"
        );
        assert!(
            text.contains("  #   path: teams/{team_id}/players"),
            "{text}"
        );
    }

    #[test]
    fn errors_name_the_reason() {
        assert!(error_of(&json!({"swagger": "2.0"})).contains("not an OpenAPI 3 document"));
        assert!(
            error_of(&json!({"openapi": "3.0.0", "paths": {"/health": {"get": {}}}}))
                .contains("no collection found")
        );
        let cycle = json!({"openapi": "3.0.0", "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}}},
            "components": {"schemas": {"A": {"$ref": "#/components/schemas/A"}}}});
        assert!(
            error_of(&cycle).contains("$ref cycle"),
            "{}",
            error_of(&cycle)
        );
    }

    #[test]
    fn field_parents_are_guessed_and_never_make_a_cycle() {
        let list = |item: &str| json!({"get": {"responses": {"200": {"content": {"application/json": {"schema": {"properties": {"results": {"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}}}}}}}}}});
        let root = json!({
            "openapi": "3.0.3",
            "paths": {"/teams/": list("Team"), "/players/": list("Player")},
            "components": {"schemas": {
                "Team": {"properties": {"id": {"type": "integer"}, "captainId": {"type": "integer"}, "player": {"type": "integer"}}},
                "Player": {"properties": {"id": {"type": "integer"}, "team": {"type": "integer"}}},
            }},
        });
        let (text, profile) = generated(&root);
        assert_eq!(
            profile.types["players"].parents,
            [("team".to_string(), "teams".to_string())]
        );
        assert!(profile.types["teams"].parents.is_empty(), "{text}");
        assert!(
            text.contains("teams.player is not listed as a parent"),
            "{text}"
        );
        assert!(
            text.contains("# guessed: field `team` holds a teams id"),
            "{text}"
        );
        assert_eq!(profile.types["players"].records, ["results"]);
    }

    #[test]
    fn scalars_are_quoted_only_when_yaml_would_misread_them() {
        assert_eq!(
            plain_or_quoted("api/teams/{team}/", false),
            "api/teams/{team}/"
        );
        assert_eq!(plain_or_quoted("page[size]", false), "page[size]");
        assert_eq!(plain_or_quoted("page[size]", true), "\"page[size]\"");
        assert_eq!(plain_or_quoted("", false), "\"\"");
        assert_eq!(plain_or_quoted("yes", false), "\"yes\"");
        assert_eq!(plain_or_quoted("1", false), "\"1\"");
        assert_eq!(plain_or_quoted("body:next", false), "body:next");
        assert_eq!(plain_or_quoted("a:", false), "\"a:\"");
        assert_eq!(plain_or_quoted("a b", false), "\"a b\"");
    }
}
