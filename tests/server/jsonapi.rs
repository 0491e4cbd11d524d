//! The test server's JSON:API convention (jsonapi.org 1.1): collection pages, and the POST and
//! PATCH of resource objects in `{"data": ...}` with the refusals the specification names.

use axum::http::header;
use serde_json::{json, Map, Value};
use url::form_urlencoded;

use super::handler::{not_found, orphan_reply, Incoming, Reply, Shared};
use super::store;

/// The media type of requests and answers.
const MEDIA_TYPE: &str = "application/vnd.api+json";

/// A JSON:API error document: `{"errors": [{"status", "detail"}]}`.
pub(super) fn error(status: u16, detail: impl Into<String>) -> Reply {
    let detail = detail.into();
    Reply::json(
        status,
        json!({ "errors": [{ "status": status.to_string(), "detail": detail }] }),
    )
}

/// A page of a collection: `page[offset]` members skipped, `page[size]` (else the configured
/// size, at most `max_page_size`) given, in `data`; `links.next` names the next page and is
/// null on the last one.
pub(super) fn page(shared: &Shared, req: &Incoming, kind: &str) -> Reply {
    let config = &shared.config;
    let params: Vec<(String, String)> = form_urlencoded::parse(req.query.as_bytes())
        .into_owned()
        .collect();
    let number = |name: &str| -> Result<Option<usize>, Reply> {
        match params.iter().find(|(key, _)| key == name) {
            None => Ok(None),
            Some((_, value)) => value
                .parse()
                .map(Some)
                .map_err(|_| error(400, format!("invalid {name}: {value:?}"))),
        }
    };
    let (size, offset) = match (number("page[size]"), number("page[offset]")) {
        (Ok(size), Ok(offset)) => (size, offset.unwrap_or(0)),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    if size == Some(0) {
        return error(400, "page[size] must be positive");
    }
    let limit = size
        .unwrap_or(config.page_size)
        .min(config.max_page_size)
        .max(1);
    let (items, count) = store::members_page(&mut shared.store(), kind, offset, limit);
    let url = |offset: usize| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(size) = size {
            query.append_pair("page[size]", &size.to_string());
        }
        query.append_pair("page[offset]", &offset.to_string());
        format!("{}/api/{kind}?{}", shared.base_url, query.finish())
    };
    let next = (offset.saturating_add(limit) < count).then(|| url(offset + limit));
    Reply::json(
        200,
        json!({
            "data": items,
            "links": { "self": url(offset), "next": next },
        }),
    )
}

/// POST to a collection: the resource object is stored with the client's `id` (a string),
/// else the next free number; answered 201 with the stored object and its `Location`.
pub(super) fn create(shared: &Shared, req: &Incoming, kind: &str) -> Reply {
    let mut object = match resource_object(req, kind) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    let mut store = shared.store();
    let id = match object.get("id") {
        None => store::next_id(&store, kind).to_string(),
        Some(Value::String(id)) if !id.is_empty() && !id.contains('/') => id.clone(),
        Some(other) => return error(400, format!("id must be a non-empty string, not {other}")),
    };
    let path = format!("/api/{kind}/{id}");
    if store.contains_key(&path) {
        return error(409, format!("{path} already exists"));
    }
    object.insert("id".to_string(), Value::String(id));
    let object = Value::Object(object);
    if let Some(reply) = orphan_reply(&shared.config, &store, &object) {
        return reply;
    }
    store.insert(path.clone(), object.clone());
    Reply::json(201, json!({ "data": object }))
        .with_header(header::LOCATION, format!("{}{path}", shared.base_url))
}

/// PATCH of a stored resource: the object's `type` and `id` must be the endpoint's (409);
/// the attributes and relationships it carries replace those of the same name, the others
/// stay; answered 200 with the stored object.
pub(super) fn update(shared: &Shared, req: &Incoming, kind: &str, id: &str) -> Reply {
    let changes = match resource_object(req, kind) {
        Ok(object) => object,
        Err(reply) => return reply,
    };
    if changes.get("id") != Some(&Value::String(id.to_string())) {
        let sent = changes.get("id").cloned().unwrap_or(Value::Null);
        return error(409, format!("data.id {sent} is not {id:?}"));
    }
    let mut store = shared.store();
    let Some(Value::Object(mut object)) = store.get(&req.path).cloned() else {
        return not_found(&req.path);
    };
    for (member, value) in changes {
        match (member.as_str(), value) {
            ("attributes" | "relationships", Value::Object(fields)) => {
                let held = object
                    .entry(member)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(held) = held {
                    held.extend(fields);
                }
            }
            (_, value) => {
                object.insert(member, value);
            }
        }
    }
    let object = Value::Object(object);
    if let Some(reply) = orphan_reply(&shared.config, &store, &object) {
        return reply;
    }
    store.insert(req.path.clone(), object.clone());
    Reply::json(200, json!({ "data": object }))
}

/// The resource object under `data` of a write to `kind`: 415 unless the body is
/// `application/vnd.api+json` (no parameters but `ext` and `profile`), 400 unless it is
/// `{"data": {...}}`, 409 when it names another type.
fn resource_object(req: &Incoming, kind: &str) -> Result<Map<String, Value>, Reply> {
    let content_type = req
        .headers
        .get(header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default();
    let mut parts = content_type.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("").to_ascii_lowercase();
    let foreign_parameter = parts.any(|parameter| {
        let name = parameter.split('=').next().unwrap_or("").trim();
        !name.eq_ignore_ascii_case("ext") && !name.eq_ignore_ascii_case("profile")
    });
    if essence != MEDIA_TYPE || foreign_parameter {
        return Err(error(
            415,
            format!("Content-Type {content_type:?} is not {MEDIA_TYPE}"),
        ));
    }
    let object = match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(mut document)) => match document.remove("data") {
            Some(Value::Object(object)) => object,
            _ => return Err(error(400, "the body must be {\"data\": {...}}")),
        },
        Ok(_) => return Err(error(400, "the body must be a JSON object")),
        Err(parse) => return Err(error(400, format!("invalid JSON: {parse}"))),
    };
    match object.get("type").and_then(Value::as_str) {
        Some(sent) if sent == kind => Ok(object),
        sent => Err(error(
            409,
            format!("data.type {sent:?} is not this collection's {kind:?}"),
        )),
    }
}
