//! A resource: its body as read, and the identity a schema derived from it.
//! Everything downstream (filters, graph, plan, writers) works on this type.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use crate::format::json::number_text;

/// Text many resources share: a type name, a uri that is also some resources' parent.
/// Shared, a run of a million resources holds each once (`sync::read_origins` interns).
/// One word (the length lives beside the count), where an `Arc<str>` takes two.
pub type Shared = arcstr::ArcStr;

/// One REST resource with the identity its schema extracted.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Where the resource lives (`_links.self.href` or the `uri` field).
    pub uri: Shared,
    /// The `id` field as it was (a number or a string).
    pub id: Id,
    /// The type name, used for ordering and as a directory name.
    pub kind: Shared,
    /// Uris of the resources this one depends on (written first).
    pub parents: Box<[Shared]>,
    /// `(type, id)` of the resources its reference fields name (`--ref`, a profile's
    /// `parents`), taken while the body is at hand; they become parents once every
    /// resource is read.
    pub references: References,
    /// The whole mapping, written out as is.
    pub body: Body,
}

/// `(type, id)` pairs, boxed twice: most runs have none, and an empty list takes 8 bytes.
#[derive(Debug, Clone, Default, PartialEq)]
#[allow(clippy::box_collection)] // The box makes the pointer thin: 8 bytes, not a Vec's 24.
pub struct References(Option<Box<Vec<(String, String)>>>);

impl References {
    /// The pairs, leaving the list empty.
    pub fn take(&mut self) -> Vec<(String, String)> {
        self.0.take().map_or_else(Vec::new, |pairs| *pairs)
    }
}

impl From<Vec<(String, String)>> for References {
    fn from(pairs: Vec<(String, String)>) -> References {
        References((!pairs.is_empty()).then(|| Box::new(pairs)))
    }
}

impl std::ops::Deref for References {
    type Target = [(String, String)];

    fn deref(&self) -> &[(String, String)] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

/// A resource's body, boxed: a run keeps a million identities whose bodies went to the
/// destination as they were read, and an empty slot takes 8 bytes where a `Value` took 32.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Body(Option<Box<Value>>);

/// What an empty body reads as.
static NO_BODY: Value = Value::Null;

impl Body {
    pub fn into_value(self) -> Value {
        self.0.map_or(Value::Null, |body| *body)
    }
}

impl From<Value> for Body {
    fn from(value: Value) -> Body {
        match value {
            Value::Null => Body(None),
            value => Body(Some(Box::new(value))),
        }
    }
}

impl std::ops::Deref for Body {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.0.as_deref().unwrap_or(&NO_BODY)
    }
}

impl std::ops::DerefMut for Body {
    fn deref_mut(&mut self) -> &mut Value {
        self.0.get_or_insert_with(|| Box::new(Value::Null))
    }
}

/// What a schema reads out of a mapping; the body is moved in, never cloned.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub uri: String,
    pub id: Value,
    pub kind: String,
    pub parents: Vec<String>,
}

impl Resource {
    pub fn new(identity: Identity, body: Value) -> Resource {
        Resource {
            uri: identity.uri.into(),
            id: Id::from(identity.id),
            kind: identity.kind.into(),
            parents: identity.parents.into_iter().map(Shared::from).collect(),
            references: Default::default(),
            body: body.into(),
        }
    }

    /// The identity alone (body `null`): what stays in memory once a destination has
    /// staged the body, so memory does not grow with the size of resources.
    pub fn without_body(&self) -> Resource {
        Resource {
            uri: self.uri.clone(),
            id: self.id.clone(),
            kind: self.kind.clone(),
            parents: self.parents.clone(),
            references: self.references.clone(),
            body: Body::default(),
        }
    }

    /// The id as text, as the original tool formats it in file names.
    pub fn id_text(&self) -> String {
        self.id.text()
    }

    /// The `(type, id)` order the tool uses to break ties deterministically.
    pub fn sort_key_cmp(&self, other: &Resource) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }

    /// The `(type, id)` key of that order.
    pub fn sort_key(&self) -> (&str, IdKey<'_>) {
        self.sort_key_with(IdKey::number(&self.id))
    }

    /// That key, with the id's `IdKey::number` worked out before: sorting a million
    /// resources parses each number once, not in every comparison.
    pub fn sort_key_with(&self, number: f64) -> (&str, IdKey<'_>) {
        (&self.kind, IdKey::with_number(&self.id, number))
    }

    /// `type/id` for messages.
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind, self.id_text())
    }
}

/// A resource's id in 16 bytes: most ids are integers or strings, held without a 32-byte
/// `Value` and, for integers, without their text (a million ids took 48 MB as values).
#[derive(Debug, Clone, PartialEq)]
pub enum Id {
    Integer(i64),
    Text(Shared),
    /// Any other scalar as read: a fraction, an integer past 64 bits, `true`, `null`.
    Other(Box<Value>),
}

impl From<Value> for Id {
    fn from(value: Value) -> Id {
        match value {
            // Only where the text comes back the same (not `-0`, `1.0` or `007`).
            Value::Number(number)
                if number
                    .as_i64()
                    .is_some_and(|integer| integer.to_string() == number.as_str()) =>
            {
                Id::Integer(number.as_i64().unwrap_or_default())
            }
            Value::String(text) => Id::Text(text.into()),
            other => Id::Other(Box::new(other)),
        }
    }
}

impl Id {
    /// The id as the body holds it.
    pub fn to_value(&self) -> Value {
        match self {
            Id::Integer(integer) => Value::from(*integer),
            Id::Text(text) => Value::String(text.to_string()),
            Id::Other(value) => (**value).clone(),
        }
    }

    /// The id as text, as the original tool formats it in file names.
    pub fn text(&self) -> String {
        match self {
            Id::Integer(integer) => integer.to_string(),
            Id::Text(text) => text.to_string(),
            Id::Other(value) => value_text(value),
        }
    }
}

/// A scalar as plain text: strings as they are, numbers as this tool's JSON writes them
/// (Python's repr: `1e-07`, `100.0`), `true`/`false`/`null`; mappings and lists have none.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number_text(number)),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null => Some("null".to_string()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn value_text(value: &Value) -> String {
    scalar_text(value).unwrap_or_else(|| value.to_string())
}

/// An id as it sorts: numbers before strings; numbers by value, strings by code point
/// (as Python sorts them), other scalars by their text.
#[derive(Debug, PartialEq)]
pub enum IdKey<'a> {
    Number(f64),
    Text(Cow<'a, str>),
}

impl<'a> IdKey<'a> {
    /// The value a numeric id sorts by (parsed where a number is kept as its text).
    pub fn number(id: &Id) -> f64 {
        match id {
            Id::Integer(integer) => *integer as f64,
            Id::Text(_) => 0.0,
            Id::Other(value) => value.as_f64().unwrap_or(0.0),
        }
    }

    /// The key of `id` whose `number` was worked out before.
    fn with_number(id: &'a Id, number: f64) -> IdKey<'a> {
        match id {
            Id::Integer(_) => IdKey::Number(number),
            Id::Text(text) => IdKey::Text(Cow::Borrowed(text)),
            Id::Other(value) if value.is_number() => IdKey::Number(number),
            Id::Other(value) => IdKey::Text(Cow::Owned(value_text(value))),
        }
    }
}

impl Eq for IdKey<'_> {}

impl PartialOrd for IdKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IdKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (IdKey::Number(a), IdKey::Number(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (IdKey::Number(_), IdKey::Text(_)) => Ordering::Less,
            (IdKey::Text(_), IdKey::Number(_)) => Ordering::Greater,
            (IdKey::Text(a), IdKey::Text(b)) => a.cmp(b),
        }
    }
}

/// `new_id` typed like `old`: a number stays a number when the new id is numeric.
pub fn typed_like(old: &Value, new_id: &str) -> Value {
    match (old, new_id.parse::<i64>(), new_id.parse::<u64>()) {
        (Value::Number(_), Ok(number), _) => Value::from(number),
        (Value::Number(_), _, Ok(number)) => Value::from(number),
        _ => Value::String(new_id.to_string()),
    }
}

/// The value at a dotted path (`meta.owner`), descending through mappings only.
pub fn field_at<'a>(body: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(body, |value, key| value.as_object()?.get(key))
}

/// The value at a dotted path, to change in place.
pub fn field_at_mut<'a>(body: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter()
        .try_fold(body, |value, key| value.as_object_mut()?.get_mut(key))
}

/// Remove the field at a dotted path, if it is there.
pub fn remove_field(body: &mut Value, path: &[String]) -> Option<Value> {
    let (last, parents) = path.split_last()?;
    let parent = parents
        .iter()
        .try_fold(body, |value, key| value.as_object_mut()?.get_mut(key))?;
    parent.as_object_mut()?.remove(last)
}

/// Remove the fields at `paths` that are there (`--omit`).
pub fn remove_fields(body: &mut Value, paths: &[Vec<String>]) {
    for path in paths {
        remove_field(body, path);
    }
}

/// `body` without the fields at `paths` (what `--ignore` compares): a copy only when
/// there are paths to leave out.
pub fn without_fields<'v>(body: &'v Value, paths: &[Vec<String>]) -> Cow<'v, Value> {
    if paths.is_empty() {
        return Cow::Borrowed(body);
    }
    let mut copy = body.clone();
    remove_fields(&mut copy, paths);
    Cow::Owned(copy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(kind: &str, id: Value) -> Resource {
        Resource {
            uri: format!("/{kind}/{id}").into(),
            id: id.into(),
            kind: kind.into(),
            parents: Box::default(),
            references: Default::default(),
            body: json!({}).into(),
        }
    }

    #[test]
    fn an_identity_without_its_body_is_small() {
        // A run keeps one per resource: a million of them are 64 MB, not 120.
        assert!(std::mem::size_of::<Resource>() <= 64);
        let body = Body::from(json!({"a": 1}));
        assert_eq!(body["a"], json!(1));
        assert_eq!(body.into_value(), json!({"a": 1}));
        assert_eq!(*Body::default(), Value::Null);
        assert!(References::from(Vec::new()).is_empty());
    }

    #[test]
    fn ids_are_compact_and_keep_their_text() {
        let id = |text: &str| {
            Id::from(crate::format::json_read::json_document(text.as_bytes()).unwrap())
        };
        assert_eq!(id("42"), Id::Integer(42));
        assert_eq!(id("\"a/b\""), Id::Text("a/b".into()));
        for text in ["-0", "1.0", "123456789012345678901234567890", "true"] {
            assert!(matches!(id(text), Id::Other(_)), "{text}");
            assert_eq!(id(text).to_value().to_string(), text);
        }
        assert_eq!(id("1e-7").text(), "1e-07");
        assert_eq!(id("-12").text(), "-12");
    }

    #[test]
    fn ids_sort_numerically_then_as_text() {
        let mut items = [
            resource("a", json!(10)),
            resource("a", json!("b")),
            resource("a", json!(9)),
            resource("a", json!("a")),
        ];
        items.sort_by(Resource::sort_key_cmp);
        let ids: Vec<String> = items.iter().map(Resource::id_text).collect();
        assert_eq!(ids, ["9", "10", "a", "b"]);
    }

    #[test]
    fn type_sorts_before_id() {
        let mut items = [resource("b", json!(1)), resource("a", json!(2))];
        items.sort_by(Resource::sort_key_cmp);
        assert_eq!(&*items[0].kind, "a");
    }

    #[test]
    fn fields_are_removed_by_dotted_path() {
        let path = |text: &str| text.split('.').map(String::from).collect::<Vec<_>>();
        let mut body = json!({"meta": {"updatedAt": 5, "owner": "a"}, "secret": "x"});
        assert_eq!(remove_field(&mut body, &path("secret")), Some(json!("x")));
        assert_eq!(
            remove_field(&mut body, &path("meta.updatedAt")),
            Some(json!(5))
        );
        assert_eq!(remove_field(&mut body, &path("meta.none.x")), None);
        assert_eq!(body, json!({"meta": {"owner": "a"}}));
        let kept = json!({"a": 1, "b": 2});
        assert_eq!(*without_fields(&kept, &[path("b")]), json!({"a": 1}));
    }

    #[test]
    fn field_at_walks_dotted_path() {
        let body = json!({"meta": {"owner": "ana"}, "n": 1});
        let path = |text: &str| text.split('.').map(String::from).collect::<Vec<_>>();
        assert_eq!(field_at(&body, &path("meta.owner")), Some(&json!("ana")));
        assert_eq!(field_at(&body, &path("n.x")), None);
        assert_eq!(scalar_text(&json!(2.5)).as_deref(), Some("2.5"));
        assert_eq!(scalar_text(&json!(1e-7)).as_deref(), Some("1e-07"));
        assert_eq!(scalar_text(&json!(100.0)).as_deref(), Some("100.0"));
        assert_eq!(scalar_text(&json!([1])), None);
    }
}
