//! The profile an OpenAPI 3 document implies: its collections become types, their settings
//! come from the schemas, and each choice the document leaves open is marked `# guessed:`.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::Value;
use url::Url;

use super::refs::{has_type, Document};
use super::render::{render, Parent, Setting, SettingValue, TypeOut};
use crate::exit_code::usage;

const JSONAPI: &str = "application/vnd.api+json";

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
    writes: WriteDocs,
}

/// What the document says about writing a collection's members, and how it answers about
/// one of them.
#[derive(Default)]
struct WriteDocs {
    /// Whether the collection takes POST, and the merged schema of the body it documents.
    post: bool,
    post_body: Option<Value>,
    item_put: bool,
    item_patch: bool,
    /// The merged schemas of the bodies the item's PUT and PATCH document.
    update_bodies: Vec<Value>,
    /// The merged schemas of answers about one member: the POST's first (the profile reads
    /// a create's new id there), then the item's GET, PUT and PATCH.
    answers: Vec<Value>,
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
    let (chosen, mut notes) = choose(collections);
    let names: Vec<&str> = chosen.iter().map(|c| c.name.as_str()).collect();
    let mut types = Vec::new();
    for collection in &chosen {
        types.push(describe(&document, collection, &chosen, &names)?);
    }
    notes.extend(drop_parent_cycles(&mut types));
    skip_orphans(&mut types);
    let types = parents_first(types);
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
    let Some((media, list)) = answer_schema(document, get)? else {
        return Ok(None);
    };
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
    let item = item_path(paths, path);
    let item_item = match &item {
        Some((item_path, _)) => Some(document.resolve(&paths[item_path])?),
        None => None,
    };
    let writes = write_docs(document, path_item, item_item)?;
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
        writes,
    }))
}

/// The write operations of a collection (`path_item`) and its item, and their bodies.
fn write_docs(
    document: &Document,
    path_item: &Value,
    item_item: Option<&Value>,
) -> Result<WriteDocs> {
    let post = path_item.get("post");
    let item_operation = |method| item_item.and_then(|item| item.get(method));
    let (put, patch) = (item_operation("put"), item_operation("patch"));
    let mut out = WriteDocs {
        post: post.is_some(),
        item_put: put.is_some(),
        item_patch: patch.is_some(),
        ..WriteDocs::default()
    };
    if let Some(post) = post {
        out.post_body = request_schema(document, post)?;
    }
    for operation in [put, patch].into_iter().flatten() {
        out.update_bodies
            .extend(request_schema(document, operation)?);
    }
    for operation in [post, item_operation("get"), put, patch]
        .into_iter()
        .flatten()
    {
        let answer = answer_schema(document, operation)?;
        out.answers.extend(answer.map(|(_, schema)| schema));
    }
    Ok(out)
}

/// The media type and merged schema of an operation's first success response (`200`, else
/// any `2XX`).
fn answer_schema(document: &Document, operation: &Value) -> Result<Option<(String, Value)>> {
    let Some(response) = success_response(document, operation.get("responses"))? else {
        return Ok(None);
    };
    let Some((media, content)) = pick_media(response.get("content")) else {
        return Ok(None);
    };
    match content.get("schema") {
        Some(schema) => Ok(Some((media, document.schema(schema)?))),
        None => Ok(None),
    }
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

/// The merged schema of an operation's JSON request body, one member's where the body may
/// be one member or a list of them.
fn request_schema(document: &Document, operation: &Value) -> Result<Option<Value>> {
    let Some(body) = operation.get("requestBody") else {
        return Ok(None);
    };
    let body = document.resolve(body)?;
    match pick_media(body.get("content")).and_then(|(_, content)| content.get("schema")) {
        Some(schema) => Ok(Some(one_of_many(document, document.schema(schema)?)?)),
        None => Ok(None),
    }
}

/// A schema that is an object or an array of that object (Directus takes one item or many:
/// `oneOf: [{type: array, items: Item}, Item]`) read as the object; any other schema as is.
fn one_of_many(document: &Document, schema: Value) -> Result<Value> {
    let variants = document.variants(&schema)?;
    let Some(one) = variants.iter().find(|variant| is_object(variant)) else {
        return Ok(schema);
    };
    for variant in &variants {
        let many_of_one = match array_items(variant) {
            Some(items) => document.schema(&items)? == *one,
            None => false,
        };
        if variant != one && !many_of_one {
            return Ok(schema);
        }
    }
    Ok(one.clone())
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
    let is_array = has_type(schema, "array");
    match (is_array, schema.get("items")) {
        (true, Some(items)) => Some(items.clone()),
        _ => None,
    }
}

fn is_object(schema: &Value) -> bool {
    has_type(schema, "object") || schema.get("properties").is_some()
}

/// The document's path that is `path` plus one `{param}` segment, and that parameter's name.
/// Trailing `/`s need not agree (flask-smorest pairs `/authors/` with `/authors/{author_id}`);
/// when the document has both forms, the one that agrees is the item path.
fn item_path(paths: &serde_json::Map<String, Value>, path: &str) -> Option<(String, String)> {
    let collection = segments(path);
    let candidates = paths.keys().filter_map(|candidate| {
        let item = segments(candidate);
        let (last, prefix) = item.split_last()?;
        let param = placeholder(last)?;
        same_segments(prefix, &collection).then(|| (candidate.clone(), param.to_string()))
    });
    candidates.min_by_key(|(candidate, _)| candidate.ends_with('/') != path.ends_with('/'))
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
    Ok(variants
        .iter()
        .any(|v| has_type(v, "integer") || has_type(v, "string")))
}

fn is_read_only(schema: &Value) -> bool {
    schema.get("readOnly") == Some(&Value::Bool(true))
}

/// What a member holds: its fields (JSON:API: attributes) and, in JSON:API, its to-one
/// relationships with the type their `data.type` names, if the schema names one.
struct Member {
    fields: Vec<(String, Value)>,
    relations: Vec<(String, Option<String>)>,
    jsonapi: bool,
}

impl Member {
    fn read(document: &Document, collection: &Collection) -> Result<Member> {
        let relations = match collection.jsonapi {
            true => relationships(document, &collection.member)?,
            false => Vec::new(),
        };
        Ok(Member {
            fields: member_fields(document, collection)?,
            relations,
            jsonapi: collection.jsonapi,
        })
    }

    fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|(field, _)| field == name)
    }

    /// The names a `parents` entry may take: relationships in JSON:API, else fields.
    fn parent_names(&self) -> Vec<&str> {
        match self.jsonapi {
            true => self
                .relations
                .iter()
                .map(|(name, _)| name.as_str())
                .collect(),
            false => self.fields.iter().map(|(name, _)| name.as_str()).collect(),
        }
    }
}

/// The type `collection` becomes: its paths, parents and settings, or why it is skipped.
fn describe(
    document: &Document,
    collection: &Collection,
    all: &[Collection],
    names: &[&str],
) -> Result<TypeOut> {
    let member = Member::read(document, collection)?;
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
    let records = Setting::text("records", &collection.records, None);
    out.settings.push(records);
    let Some((id, id_guess)) = id_field(collection, &member) else {
        let reason =
            "its members have no `id` property (nor one named like the item path's parameter)";
        out.skipped = Some(reason.into());
        return Ok(out);
    };
    out.settings.extend(record(document, collection, &id)?);
    if id != "id" {
        out.settings.push(Setting::text("id", &id, id_guess));
    }
    match path_parents(collection, all, names, &member, &id) {
        Ok((path, item, parents)) => {
            out.path = path;
            out.item_guess = item.is_none().then(|| {
                "the document has no item path: the profile's default, path + /{id}".into()
            });
            out.item = item;
            out.parents = parents;
        }
        Err(reason) => {
            out.skipped = Some(reason);
            return Ok(out);
        }
    }
    let placed: Vec<String> = out.parents.iter().map(|p| p.field.clone()).collect();
    let more = field_parents(document, collection, &member, &id, names, &placed)?;
    out.parents.extend(more);
    out.settings.extend(pages(document, collection)?);
    let parent_fields: Vec<&str> = out.parents.iter().map(|p| p.field.as_str()).collect();
    out.settings
        .extend(writes(document, collection, &member, &id, &parent_fields)?);
    Ok(out)
}

/// `record`, where an answer about one member holds it, when that is not the format's
/// default: from the first documented answer that holds a member, else (guessed) under
/// `data` when lists hold their members there.
fn record(document: &Document, collection: &Collection, id: &str) -> Result<Option<Setting>> {
    let mut found = None;
    for answer in &collection.writes.answers {
        found = record_in(document, answer, id)?;
        if found.is_some() {
            break;
        }
    }
    let (record, guess) = match found {
        Some(record) => (record, None),
        None if collection.records == "data" => {
            let guess = "no answer about one member is documented: taken to hold it under `data` as a list does";
            ("data".to_string(), Some(guess.to_string()))
        }
        None => return Ok(None),
    };
    let default = match collection.jsonapi {
        true => "data",
        false => "",
    };
    Ok((record != default).then(|| Setting::text("record", &record, guess)))
}

/// Where `answer` holds a member (an object with the id field): `""` when it is one, else
/// the property that holds one, `data` first (`{"data": {...}}`).
fn record_in(document: &Document, answer: &Value, id: &str) -> Result<Option<String>> {
    let is_member = |schema: Value| -> Result<bool> {
        let schema = one_of_many(document, schema)?;
        Ok(is_object(&schema) && document.property(&schema, id)?.is_some())
    };
    if is_member(answer.clone())? {
        return Ok(Some(String::new()));
    }
    let mut holders = properties(document, answer)?;
    holders.sort_by_key(|(name, _)| name != "data");
    for (name, holder) in holders {
        if is_member(holder)? {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// The id field and, when the document does not settle it, why it was chosen: JSON:API's
/// own; the property `id`; else the one named like the item path's parameter.
fn id_field(collection: &Collection, member: &Member) -> Option<(String, Option<String>)> {
    let item_param = collection.item.as_ref().map(|(_, param)| param.as_str());
    match item_param {
        _ if collection.jsonapi || member.has_field("id") => Some(("id".to_string(), None)),
        Some(param) if member.has_field(param) => {
            let guess = format!("no `id` property: the item path's {{{param}}} names it");
            Some((param.to_string(), Some(guess)))
        }
        _ => None,
    }
}

/// The collection and item paths with each placeholder before the item's own renamed to the
/// member field holding that parent's id, and those parents; or why the type is skipped.
fn path_parents(
    collection: &Collection,
    all: &[Collection],
    names: &[&str],
    member: &Member,
    id: &str,
) -> std::result::Result<(String, Option<String>, Vec<Parent>), String> {
    let original = segments(&collection.path);
    let mut renamed: Vec<String> = original.iter().map(|s| s.to_string()).collect();
    let mut parents = Vec::new();
    for (index, segment) in original.iter().enumerate() {
        let Some(param) = placeholder(segment) else {
            continue;
        };
        let kind = parent_of_placeholder(&original[..=index], all, names, param)?;
        let field = placeholder_field(param, &kind, member, id)?;
        renamed[index] = format!("{{{field}}}");
        let guess = format!("the path's {{{param}}} is the member field `{field}`, holding a {kind} id (from the parameter's name)");
        parents.push(Parent {
            field,
            kind,
            guess: Some(guess),
        });
    }
    let item = collection.item.as_ref().map(|(item, _)| {
        let mut item_segments: Vec<String> = renamed.clone();
        item_segments.push("{id}".to_string());
        rebuild(item, &item_segments)
    });
    Ok((rebuild(&collection.path, &renamed), item, parents))
}

/// The type a path's placeholder names: the collection whose item path is the path up to
/// it (`/teams/{team}` for `/teams/{team}/players/`), else the type named like it.
fn parent_of_placeholder(
    prefix: &[&str],
    all: &[Collection],
    names: &[&str],
    param: &str,
) -> std::result::Result<String, String> {
    let structural = all.iter().find(|other| {
        other
            .item
            .as_ref()
            .is_some_and(|(item, _)| same_segments(&segments(item), prefix))
    });
    if let Some(parent) = structural {
        return Ok(parent.name.clone());
    }
    let base = strip_id_suffix(param);
    match names.iter().find(|name| names_type(base, name)) {
        Some(name) => Ok(name.to_string()),
        None => Err(format!(
            "its path's {{{param}}} names no collection of the document"
        )),
    }
}

/// The member field a placeholder stands for: the parameter's name, it without an
/// `_pk`/`_id`/`Id` suffix, or the parent type's singular name (`team`, `team_id`, `teamId`).
fn placeholder_field(
    param: &str,
    kind: &str,
    member: &Member,
    id: &str,
) -> std::result::Result<String, String> {
    let singular = kind.strip_suffix('s').unwrap_or(kind);
    let mut candidates: Vec<String> = Vec::new();
    for name in [
        param.to_string(),
        strip_id_suffix(param).to_string(),
        singular.to_string(),
        format!("{singular}_id"),
        format!("{singular}Id"),
    ] {
        if !candidates.contains(&name) {
            candidates.push(name);
        }
    }
    let names = member.parent_names();
    match candidates
        .iter()
        .find(|c| *c != id && names.contains(&c.as_str()))
    {
        Some(field) => Ok(field.clone()),
        None => Err(format!(
            "its path's {{{param}}} has no member field (looked for {})",
            candidates.join(", ")
        )),
    }
}

/// Segment lists that are equal, any placeholder matching any other.
fn same_segments(a: &[&str], b: &[&str]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || (placeholder(x).is_some() && placeholder(y).is_some()))
}

/// Parents a member names itself: a JSON:API relationship (settled when its `data.type`
/// names a type), or a field named after another type holding its id (guessed).
fn field_parents(
    document: &Document,
    collection: &Collection,
    member: &Member,
    id: &str,
    names: &[&str],
    placed: &[String],
) -> Result<Vec<Parent>> {
    let mut out = Vec::new();
    for (name, named) in &member.relations {
        if placed.contains(name) {
            continue;
        }
        let parent = match named {
            Some(kind) if names.contains(&kind.as_str()) => Some((kind.clone(), None)),
            _ => names
                .iter()
                .find(|kind| names_type(name, kind))
                .map(|kind| {
                    let guess =
                        format!("relationship `{name}` holds a {kind} resource (from its name)");
                    (kind.to_string(), Some(guess))
                }),
        };
        if let Some((kind, guess)) = parent {
            let field = name.clone();
            out.push(Parent { field, kind, guess });
        }
    }
    if collection.jsonapi {
        return Ok(out); // attributes are not parents: relationships are
    }
    for (name, schema) in &member.fields {
        if name == id || placed.contains(name) || !holds_id(document, schema)? {
            continue;
        }
        let base = strip_id_suffix(name);
        let found = names
            .iter()
            .find(|kind| **kind != collection.name && names_type(base, kind));
        if let Some(kind) = found {
            out.push(Parent {
                field: name.clone(),
                kind: kind.to_string(),
                guess: Some(format!("field `{name}` holds a {kind} id (from its name)")),
            });
        }
    }
    Ok(out)
}

/// `create`, `update` and `readonly`, from the methods and the schemas.
fn writes(
    document: &Document,
    collection: &Collection,
    member: &Member,
    id: &str,
    parent_fields: &[&str],
) -> Result<Vec<Setting>> {
    let create = match collection.writes.post {
        true => "post",
        false => "put",
    };
    let update = match collection.writes.item_patch && !collection.writes.item_put {
        true => "patch",
        false => "put",
    };
    let mut out = vec![
        Setting::text("create", create, None),
        Setting::text("update", update, None),
    ];
    let mut readonly = readonly(document, collection, &member.fields, id, parent_fields)?;
    let mut guess = None;
    // JSON:API's id is the resource object's own, never an attribute a body could refuse.
    if !collection.jsonapi && id_left_out(document, &collection.writes, id)? {
        readonly.insert(0, id.to_string());
        guess = collection.writes.update_bodies.is_empty().then(|| {
            format!("no PUT/PATCH body is documented: taken to refuse `{id}` as the POST body does")
        });
    }
    if !readonly.is_empty() {
        out.push(Setting {
            key: "readonly",
            value: SettingValue::List(readonly),
            guess,
        });
    }
    Ok(out)
}

/// Whether the documented write bodies all leave the id field out (a `readOnly` one counts
/// as left out: marshmallow answers 422 "Unknown field" to a dump-only id); then no body
/// may carry it. No documented body says nothing.
fn id_left_out(document: &Document, writes: &WriteDocs, id: &str) -> Result<bool> {
    let bodies: Vec<&Value> = writes
        .post_body
        .iter()
        .chain(&writes.update_bodies)
        .collect();
    if bodies.is_empty() {
        return Ok(false);
    }
    for body in bodies {
        if document
            .property(body, id)?
            .is_some_and(|id| !is_read_only(&id))
        {
            return Ok(false);
        }
    }
    Ok(true)
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
            .any(|v| has_type(v, "string")),
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
    } else if let Some(token) =
        cursor_token(document, &collection.list)?.filter(|_| query.contains(&"cursor"))
    {
        let guess = format!(
            "a `cursor` query parameter, its value from the response's {token} (from their names)"
        );
        Setting::text("next", &format!("cursor:cursor=body:{token}"), Some(guess))
    } else if collection.link_header {
        Setting::text("next", "link", None)
    } else {
        let guess = "the document names no next page: a Link header is followed if one comes";
        Setting::text("next", "link", Some(guess.into()))
    };
    out.push(next);
    let size = ["page_size", "per_page", "limit", "size", "page[size]"]
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

/// The dotted path of a list response's string property named like a cursor
/// (`next_cursor`, `meta.cursor`): where a `cursor` parameter's next value is found.
fn cursor_token(document: &Document, list: &Value) -> Result<Option<String>> {
    let mut holders = vec![(String::new(), list.clone())];
    if let Some(meta) = document.property(list, "meta")? {
        holders.push(("meta.".to_string(), meta));
    }
    for (prefix, holder) in holders {
        for (name, schema) in properties(document, &holder)? {
            let is_text = document
                .variants(&schema)?
                .iter()
                .any(|v| has_type(v, "string"));
            if is_text && name.to_ascii_lowercase().contains("cursor") {
                return Ok(Some(format!("{prefix}{name}")));
            }
        }
    }
    Ok(None)
}

/// Fields the server owns: `readOnly` ones, and those the POST body lacks (the id and
/// parent fields aside: the id is left out only when no body takes it, and parents are
/// rewritten on a clone).
fn readonly(
    document: &Document,
    collection: &Collection,
    fields: &[(String, Value)],
    id: &str,
    parent_fields: &[&str],
) -> Result<Vec<String>> {
    let posted: Option<Vec<String>> = match &collection.writes.post_body {
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

/// Parents that would close a cycle among the types are dropped (with a note): a profile
/// whose parents form a cycle is refused. Those a path's placeholder needs are kept first;
/// the others are then added in type order, the ones the document settles first.
fn drop_parent_cycles(types: &mut [TypeOut]) -> Vec<String> {
    let mut guesses = Vec::new();
    for (index, t) in types.iter_mut().enumerate() {
        let path = t.path.clone();
        let (kept, guessed): (Vec<Parent>, Vec<Parent>) = std::mem::take(&mut t.parents)
            .into_iter()
            .partition(|p| path.contains(&format!("{{{}}}", p.field)));
        t.parents = kept;
        guesses.extend(guessed.into_iter().map(|parent| (index, parent)));
    }
    // A stable sort: type order kept, settled before guessed.
    guesses.sort_by_key(|(_, parent)| parent.guess.is_some());
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

/// The types in the order they are read and written: parents first, ties by name.
fn parents_first(types: Vec<TypeOut>) -> Vec<TypeOut> {
    let depths: Vec<usize> = types.iter().map(|t| depth(&types, t, 0)).collect();
    let mut ordered: Vec<(usize, TypeOut)> = depths.into_iter().zip(types).collect();
    ordered.sort_by_key(|(depth, _)| *depth);
    ordered.into_iter().map(|(_, t)| t).collect()
}

/// How many generations of parents a type has (bounded: a cycle left in by a path's
/// placeholders is refused later, by the profile's own check).
fn depth(types: &[TypeOut], t: &TypeOut, seen: usize) -> usize {
    if seen > types.len() {
        return seen;
    }
    t.parents
        .iter()
        .filter_map(|p| types.iter().find(|other| other.name == p.kind))
        .map(|parent| 1 + depth(types, parent, seen + 1))
        .max()
        .unwrap_or(0)
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
    // A relative server URL is relative to where the document was found, or to the API's
    // host when that is unknown (a file).
    let server = server.map(|text| match url {
        Some(url) => url.join(&text).map(|u| u.to_string()).unwrap_or(text),
        None if text.starts_with('/') => format!("http://HOST{text}"),
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
                "Player": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "team_id": {"type": ["integer", "null"]}}},
            }},
        })
    }

    #[test]
    fn collections_items_parents_and_pages_come_from_the_document() {
        let (text, profile) = generated(&fastapi());
        assert!(
            text.contains("use http://HOST/v1 as the endpoint URL"),
            "{text}"
        );
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
        assert_eq!(teams.readonly, ["id", "created_at"]);
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
            "    # guessed: no PUT/PATCH body is documented: taken to refuse `id` as the POST body does\n    readonly: [id, created_at]",
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
        // `record: data` is JSON:API's default: not printed.
        assert!(!text.contains("record:"), "{text}");
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
                "Player": {"properties": {"id": {"type": "integer"}, "team": {"type": ["integer", "null"]}}},
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
    fn an_item_path_pairs_whatever_the_trailing_slashes() {
        let paths = |names: &[&str]| -> serde_json::Map<String, Value> {
            names.iter().map(|n| (n.to_string(), json!({}))).collect()
        };
        let flask = paths(&["/authors/", "/authors/{author_id}"]);
        let item = item_path(&flask, "/authors/");
        assert_eq!(
            item,
            Some(("/authors/{author_id}".into(), "author_id".into()))
        );
        let both = paths(&["/books", "/books/{id}", "/books/{id}/"]);
        assert_eq!(item_path(&both, "/books/").unwrap().0, "/books/{id}/");
        assert_eq!(item_path(&both, "/books").unwrap().0, "/books/{id}");
        assert_eq!(item_path(&both, "/authors/"), None);
    }

    #[test]
    fn a_body_of_one_member_or_many_reads_as_the_member() {
        let root = json!({"components": {"schemas": {
            "Item": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "Other": {"type": "object", "properties": {"name": {"type": "string"}}},
        }}});
        let document = Document::new(&root);
        let item = json!({"$ref": "#/components/schemas/Item"});
        let other = json!({"$ref": "#/components/schemas/Other"});
        let body = |variants: Value| one_of_many(&document, json!({"oneOf": variants})).unwrap();
        let one_or_many = body(json!([{"type": "array", "items": item}, item]));
        assert_eq!(one_or_many, document.schema(&item).unwrap());
        let nullable = one_of_many(&document, json!({"anyOf": [item, {"type": "null"}]}));
        assert_eq!(nullable.unwrap(), document.schema(&item).unwrap());
        for variants in [
            json!([item, other]),
            json!([{"type": "array", "items": other}, item]),
        ] {
            assert!(body(variants.clone()).get("oneOf").is_some(), "{variants}");
        }
    }

    #[test]
    fn record_is_where_an_answer_about_one_member_holds_it() {
        let wrapped = |schema: Value| json!({"properties": {"data": schema}});
        let answering =
            |schema: Value| json!({"200": {"content": {"application/json": {"schema": schema}}}});
        let document = |answer: Option<Value>| {
            let item = json!({"$ref": "#/components/schemas/Item"});
            let mut post = json!({});
            if let Some(answer) = answer {
                post["responses"] = answering(answer);
            }
            json!({
                "openapi": "3.0.0",
                "paths": {"/things": {"get": {"responses": answering(wrapped(json!({"type": "array", "items": item})))}, "post": post}},
                "components": {"schemas": {"Item": {"properties": {"id": {"type": "integer"}}}}},
            })
        };
        let item = json!({"$ref": "#/components/schemas/Item"});
        let (text, profile) = generated(&document(Some(wrapped(item.clone()))));
        assert_eq!(profile.types["things"].record, ["data"]);
        assert!(text.contains("records: data\nrecord: data\n"), "{text}");
        let (text, profile) = generated(&document(None));
        assert_eq!(profile.types["things"].record, ["data"]);
        assert!(
            text.contains("# guessed: no answer about one member is documented"),
            "{text}"
        );
        let (text, profile) = generated(&document(Some(item)));
        assert!(profile.types["things"].record.is_empty(), "{text}");
        assert!(!text.contains("record:"), "{text}");
    }

    #[test]
    fn a_cursor_parameter_takes_its_token_from_the_response() {
        let root = json!({
            "openapi": "3.0.0",
            "paths": {"/events": {"get": {
                "parameters": [{"name": "cursor", "in": "query"}],
                "responses": {"200": {"content": {"application/json": {"schema": {"properties": {
                    "items": {"type": "array", "items": {"properties": {"id": {"type": "string"}}}},
                    "meta": {"properties": {"next_cursor": {"type": "string", "nullable": true}}},
                }}}}}},
            }}},
        });
        let (text, profile) = generated(&root);
        let events = &profile.types["events"];
        assert_eq!(events.records, ["items"]);
        assert_eq!(
            events.next,
            Next::Cursor {
                param: "cursor".into(),
                from: crate::schema::profile::CursorSource::Body(vec![
                    "meta".into(),
                    "next_cursor".into()
                ]),
            }
        );
        assert!(
            text.contains("# guessed: a `cursor` query parameter"),
            "{text}"
        );
        assert!(text.contains("create: put"), "{text}");
        assert!(
            text.contains("# guessed: the document has no item path"),
            "{text}"
        );
    }
}
