//! `$ref` resolution inside one OpenAPI document: local JSON pointers, chains of them, and
//! `allOf` parts merged into one schema. A chain that comes back to itself is an error.

use anyhow::Result;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::exit_code::usage;

/// An OpenAPI document, read only through its `$ref`-aware accessors.
pub struct Document<'d> {
    pub root: &'d Value,
}

impl<'d> Document<'d> {
    pub fn new(root: &'d Value) -> Self {
        Document { root }
    }

    /// The value a chain of `$ref`s ends at (`value` itself when it is no reference).
    pub fn resolve<'v>(&self, value: &'v Value) -> Result<&'v Value>
    where
        'd: 'v,
    {
        self.follow(value, &mut Vec::new())
    }

    /// Follows `$ref`s, naming each in `chain`; a reference already in `chain` is a cycle
    /// with no property in between (an object is never reached), so it is refused rather
    /// than followed for ever.
    fn follow<'v>(&self, value: &'v Value, chain: &mut Vec<String>) -> Result<&'v Value>
    where
        'd: 'v,
    {
        let mut current = value;
        while let Some(reference) = current.get("$ref").and_then(Value::as_str) {
            if chain.iter().any(|seen| seen == reference) {
                chain.push(reference.to_string());
                return Err(usage(format!(
                    "$ref cycle: {} resolves to itself with no property in between",
                    chain.join(" -> ")
                )));
            }
            chain.push(reference.to_string());
            current = self.target(reference)?;
        }
        Ok(current)
    }

    /// The value a local reference (`#/components/schemas/Team`) points at.
    fn target(&self, reference: &str) -> Result<&'d Value> {
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(usage(format!(
                "unresolvable $ref {reference:?}: only references inside the document (#/...) are followed"
            )));
        };
        // A fragment is percent-encoded (RFC 6901 section 6); `~0`/`~1` are `pointer`'s.
        let pointer = percent_decode_str(fragment).decode_utf8_lossy();
        self.root.pointer(&pointer).ok_or_else(|| {
            usage(format!(
                "unresolvable $ref {reference:?}: the document has nothing there"
            ))
        })
    }

    /// A schema with its `$ref`s followed and its `allOf` parts merged in: one object whose
    /// `properties` and `required` hold every part's. Properties are not expanded, so a
    /// schema that contains itself through a property is fine.
    pub fn schema(&self, value: &Value) -> Result<Value> {
        self.merged(value, &mut Vec::new())
    }

    fn merged(&self, value: &Value, chain: &mut Vec<String>) -> Result<Value> {
        let depth = chain.len();
        let target = self.follow(value, chain)?;
        let mut out = match target {
            Value::Object(fields) => fields.clone(),
            // `true`/`false` schemas (3.1) and oddities carry no properties.
            _ => Map::new(),
        };
        out.remove("allOf");
        if let Some(Value::Array(parts)) = target.get("allOf") {
            for part in parts {
                let part = self.merged(part, chain)?;
                merge_into(&mut out, part);
            }
        }
        chain.truncate(depth);
        Ok(Value::Object(out))
    }

    /// The schemas a value may take: the merged schema, or each of its `anyOf`/`oneOf`
    /// variants (`null` variants aside), so `string | null` reads as a string.
    pub fn variants(&self, value: &Value) -> Result<Vec<Value>> {
        let schema = self.schema(value)?;
        let mut out = Vec::new();
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(options)) = schema.get(key) {
                for option in options {
                    let option = self.schema(option)?;
                    if !is_null_type(&option) {
                        out.push(option);
                    }
                }
            }
        }
        if out.is_empty() {
            out.push(schema);
        }
        Ok(out)
    }

    /// The merged schema of property `name` of a merged object schema.
    pub fn property(&self, schema: &Value, name: &str) -> Result<Option<Value>> {
        match schema.get("properties").and_then(|p| p.get(name)) {
            Some(property) => Ok(Some(self.schema(property)?)),
            None => Ok(None),
        }
    }
}

/// Whether a schema's `type` is `kind`: one name (3.0), or a list holding it (3.1).
pub fn has_type(schema: &Value, kind: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(name)) => name == kind,
        Some(Value::Array(names)) => names.iter().any(|name| name == kind),
        _ => false,
    }
}

/// `{"type": "null"}` or the `nullable` empty object some generators write for null.
fn is_null_type(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(kind)) => kind == "null",
        None => {
            schema.get("nullable") == Some(&Value::Bool(true)) && schema.get("properties").is_none()
        }
        _ => false,
    }
}

/// Adds `part`'s properties and required names to `out`; other keys only where `out` has none.
fn merge_into(out: &mut Map<String, Value>, part: Value) {
    let Value::Object(part) = part else { return };
    for (key, value) in part {
        match (key.as_str(), out.get_mut(&key), value) {
            ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                for (name, schema) in theirs {
                    mine.entry(name).or_insert(schema);
                }
            }
            ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                for name in theirs {
                    if !mine.contains(&name) {
                        mine.push(name);
                    }
                }
            }
            (_, Some(_), _) => {}
            (_, None, value) => {
                out.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(schema: &Value) -> Vec<&str> {
        let properties = schema["properties"].as_object().expect("properties");
        properties.keys().map(String::as_str).collect()
    }

    #[test]
    fn local_and_nested_refs_resolve() {
        let root = json!({
            "components": {"schemas": {
                "Team": {"$ref": "#/components/schemas/TeamBase"},
                "TeamBase": {"type": "object", "properties": {"id": {"type": "integer"}}},
                "a/b": {"type": "string"},
            }},
            "use": {"$ref": "#/components/schemas/Team"},
            "escaped": {"$ref": "#/components/schemas/a~1b"},
            "encoded": {"$ref": "#/components/schemas/Team%42ase"},
        });
        let document = Document::new(&root);
        assert_eq!(names(document.resolve(&root["use"]).unwrap()), ["id"]);
        assert_eq!(
            document.resolve(&root["escaped"]).unwrap()["type"],
            "string"
        );
        assert_eq!(names(&document.schema(&root["encoded"]).unwrap()), ["id"]);
    }

    #[test]
    fn all_of_parts_merge_their_properties() {
        let root = json!({
            "components": {"schemas": {
                "Named": {"properties": {"name": {"type": "string"}}, "required": ["name"]},
                "Owned": {"allOf": [{"$ref": "#/components/schemas/Named"}, {"properties": {"owner": {"type": "integer"}}}]},
            }},
            "use": {"allOf": [{"$ref": "#/components/schemas/Owned"}, {"type": "object", "properties": {"id": {"readOnly": true}}}]},
        });
        let document = Document::new(&root);
        let schema = document.schema(&root["use"]).unwrap();
        let mut found = names(&schema);
        found.sort();
        assert_eq!(found, ["id", "name", "owner"]);
        assert_eq!(schema["required"], json!(["name"]));
        assert_eq!(schema["type"], "object");
    }

    #[test]
    fn a_cycle_is_an_error_and_recursion_through_properties_is_not() {
        let root = json!({
            "components": {"schemas": {
                "A": {"$ref": "#/components/schemas/B"},
                "B": {"$ref": "#/components/schemas/A"},
                "C": {"allOf": [{"$ref": "#/components/schemas/C"}]},
                "Node": {"properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}},
            }},
        });
        let document = Document::new(&root);
        let schemas = &root["components"]["schemas"];
        let error = format!("{:#}", document.resolve(&schemas["A"]).unwrap_err());
        assert!(
            error.contains("$ref cycle") && error.contains("#/components/schemas/A"),
            "{error}"
        );
        let error = format!("{:#}", document.schema(&schemas["C"]).unwrap_err());
        assert!(error.contains("$ref cycle"), "{error}");
        let node = document.schema(&schemas["Node"]).unwrap();
        let children = document.property(&schemas["Node"], "children");
        assert!(children.is_ok());
        assert_eq!(names(&node), ["children"]);
    }

    #[test]
    fn unresolvable_refs_name_the_reference() {
        let root = json!({"a": {"$ref": "#/missing"}, "b": {"$ref": "other.yaml#/x"}});
        let document = Document::new(&root);
        let missing = format!("{:#}", document.resolve(&root["a"]).unwrap_err());
        assert!(
            missing.contains("unresolvable $ref \"#/missing\""),
            "{missing}"
        );
        let external = format!("{:#}", document.resolve(&root["b"]).unwrap_err());
        assert!(external.contains("other.yaml#/x"), "{external}");
    }

    #[test]
    fn nullable_variants_read_as_their_type() {
        let root = json!({"s": {"anyOf": [{"type": "string"}, {"type": "null"}]}});
        let document = Document::new(&root);
        let variants = document.variants(&root["s"]).unwrap();
        assert_eq!(variants, [json!({"type": "string"})]);
    }
}
