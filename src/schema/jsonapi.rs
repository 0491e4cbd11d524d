//! JSON:API (jsonapi.org 1.1) as a profile speaks it: where a resource object keeps its
//! fields, the `{"data": ...}` envelope of writes and answers, and the media type.

use serde_json::{json, Map, Value};

/// The media type of JSON:API requests and bodies.
pub const MEDIA_TYPE: &str = "application/vnd.api+json";

/// Where a resource object holds the field `name`: `id` at the top, a relationship's
/// `data.id` for a parent field, an attribute otherwise.
pub fn field_path(name: &str, is_parent: bool) -> Vec<String> {
    if is_parent {
        return parent_path(name);
    }
    match name {
        "id" => vec!["id".into()],
        _ => vec!["attributes".into(), name.into()],
    }
}

/// Where a resource object holds the id of the parent its relationship `field` names.
pub fn parent_path(field: &str) -> Vec<String> {
    ["relationships", field, "data", "id"]
        .map(String::from)
        .to_vec()
}

/// The fields a profile's `readonly` names: the attributes.
pub fn attributes_mut(member: &mut Value) -> Option<&mut Map<String, Value>> {
    member.get_mut("attributes")?.as_object_mut()
}

/// The resource object a write sends: its `type`, attributes without `readonly`, the
/// relationships' `data` only (no links, no meta), and `id` when one is sent.
pub fn write_object(member: &Value, readonly: &[String], id: Option<&str>) -> Value {
    let mut attributes = member
        .get("attributes")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Value::Object(fields) = &mut attributes {
        for field in readonly {
            fields.remove(field);
        }
    }
    let relationships: Map<String, Value> = member
        .get("relationships")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(name, relation)| {
            Some((
                name.clone(),
                json!({ "data": relation.get("data")?.clone() }),
            ))
        })
        .collect();
    let mut data = json!({
        "type": member.get("type").cloned().unwrap_or(Value::Null),
        "attributes": attributes,
    });
    if !relationships.is_empty() {
        data["relationships"] = Value::Object(relationships);
    }
    if let Some(id) = id {
        data["id"] = Value::String(id.to_string());
    }
    data
}

/// A write request's body: the resource object under `data`.
pub fn envelope(object: Value) -> Value {
    json!({ "data": object })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_media_type_is_read_as_json() {
        // Bodies are parsed by their media type's `+json` suffix.
        assert!(MEDIA_TYPE.ends_with("+json"));
    }

    #[test]
    fn a_write_keeps_type_attributes_and_relationship_data_only() {
        let member = json!({
            "type": "articles", "id": "1",
            "attributes": {"title": "t", "created": "x"},
            "relationships": {"author": {"data": {"type": "people", "id": "9"}, "links": {}}},
            "links": {"self": "/articles/1"}, "meta": {"n": 1},
        });
        let sent = write_object(&member, &["created".into()], Some("5"));
        assert_eq!(
            envelope(sent),
            json!({"data": {
                "type": "articles", "id": "5",
                "attributes": {"title": "t"},
                "relationships": {"author": {"data": {"type": "people", "id": "9"}}},
            }})
        );
    }
}
