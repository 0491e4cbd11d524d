//! An HTTP page read with its members left as text: a page of many members costs its
//! bytes and a range per member, and each member is parsed (strictly) when it is used.

use std::fmt;
use std::ops::Range;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::json_read::{json_document, strict_map, Strict, StrictVisitor};

/// One step of a key path where a page holds its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    Key(&'a str),
    /// Any key (HAL's `_embedded.<relation>`).
    Any,
}

/// A page body with its members set aside.
#[derive(Debug)]
pub struct JsonPage {
    /// The page, each list or mapping at a member place replaced by a placeholder that
    /// `members` knows again: a dialect takes members out of it as out of the whole page.
    pub rest: Value,
    groups: Vec<Option<Part>>,
}

/// The only key of a placeholder, its value the index of the members it stands for.
/// Every list and mapping at a member place is set aside, so a server's lookalike there
/// is a member, not a placeholder.
const PLACEHOLDER: &str = "\u{0}resource-sync members";

/// Members that stood at one place.
#[derive(Debug)]
enum Part {
    /// A list's items, as byte ranges of the body.
    Texts(Vec<Range<usize>>),
    /// One member, already a value (a mapping at a member place, or a whole page's).
    Parsed(Value),
}

impl Part {
    fn len(&self) -> usize {
        match self {
            Part::Texts(ranges) => ranges.len(),
            Part::Parsed(_) => 1,
        }
    }
}

/// One member of a page: still text, or a value.
#[derive(Debug)]
pub enum Member {
    Text(Range<usize>),
    Parsed(Value),
}

impl Member {
    /// The member as a value; text (of `body`, the page it came from) is read strictly:
    /// duplicate keys refused, integers exact.
    pub fn into_value(self, body: &[u8]) -> Result<Value, serde_json::Error> {
        match self {
            Member::Parsed(value) => Ok(value),
            Member::Text(range) => match body.get(range) {
                Some(text) => json_document(text),
                None => Err(serde_json::Error::custom("a member outside its page")),
            },
        }
    }
}

/// The members a dialect took from a page, in its order.
#[derive(Debug)]
pub struct Members {
    parts: Vec<Part>,
    count: usize,
}

impl Members {
    /// Members that are values already (a page read whole).
    pub fn parsed(values: Vec<Value>) -> Members {
        Members::of(values.into_iter().map(Part::Parsed).collect())
    }

    fn of(parts: Vec<Part>) -> Members {
        let count = parts.iter().map(Part::len).sum();
        Members { parts, count }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl IntoIterator for Members {
    type Item = Member;
    type IntoIter = Box<dyn Iterator<Item = Member>>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.parts.into_iter().flat_map(|part| {
            let members: Box<dyn Iterator<Item = Member>> = match part {
                Part::Texts(ranges) => Box::new(ranges.into_iter().map(Member::Text)),
                Part::Parsed(value) => Box::new(std::iter::once(Member::Parsed(value))),
            };
            members
        }))
    }
}

impl JsonPage {
    /// A page read whole (YAML): its members are values already.
    pub fn whole(rest: Value) -> JsonPage {
        JsonPage {
            rest,
            groups: Vec::new(),
        }
    }

    /// What a dialect took out of `rest`, each placeholder replaced by its members.
    pub fn members(&mut self, taken: Vec<Value>) -> Members {
        let parts = taken
            .into_iter()
            .map(|value| match self.group_of(&value) {
                Some(part) => part,
                None => Part::Parsed(value),
            })
            .collect();
        Members::of(parts)
    }

    fn group_of(&mut self, value: &Value) -> Option<Part> {
        let map = value.as_object().filter(|map| map.len() == 1)?;
        let index = usize::try_from(map.get(PLACEHOLDER)?.as_u64()?).ok()?;
        self.groups.get_mut(index)?.take()
    }
}

/// `bytes` as one strict JSON document (duplicate keys refused at any depth), the lists
/// and mappings at `places` (and a list that is the whole page) set aside as text.
pub fn json_page(bytes: &[u8], places: &[Vec<Step<'_>>]) -> Result<JsonPage, serde_json::Error> {
    let mut groups = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let seed = PageSeed {
        bytes,
        places: places.iter().map(Vec::as_slice).collect(),
        root: true,
        groups: &mut groups,
    };
    let rest = seed.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(JsonPage {
        rest,
        groups: groups.into_iter().map(Some).collect(),
    })
}

/// A value at or above a member place; `places` holds what remains of each place below it.
struct PageSeed<'a, 'de> {
    bytes: &'de [u8],
    places: Vec<&'a [Step<'a>]>,
    root: bool,
    groups: &'a mut Vec<Part>,
}

impl PageSeed<'_, '_> {
    fn at_place(&self) -> bool {
        self.places.iter().any(|place| place.is_empty())
    }

    /// The placeholder standing for `part` in `rest`.
    fn set_aside(self, part: Part) -> Value {
        self.groups.push(part);
        json!({ PLACEHOLDER: self.groups.len() - 1 })
    }
}

/// What remains of `places` below `key`.
fn below<'a>(places: &[&'a [Step<'a>]], key: &str) -> Vec<&'a [Step<'a>]> {
    places
        .iter()
        .filter_map(|place| match place.split_first() {
            Some((Step::Key(name), rest)) if *name == key => Some(rest),
            Some((Step::Any, rest)) => Some(rest),
            _ => None,
        })
        .collect()
}

/// Where `text` (a slice of `bytes`) starts and ends in it.
fn range_of<E: serde::de::Error>(bytes: &[u8], text: &str) -> Result<Range<usize>, E> {
    let start = (text.as_ptr() as usize)
        .checked_sub(bytes.as_ptr() as usize)
        .filter(|start| start + text.len() <= bytes.len())
        .ok_or_else(|| E::custom("a member outside its page"))?;
    Ok(start..start + text.len())
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_, 'de> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_, 'de> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    /// A list at a member place (or the whole page) keeps its items as text.
    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        if !self.root && !self.at_place() {
            return StrictVisitor.visit_seq(items).map(|strict| strict.0);
        }
        let mut texts = Vec::new();
        while let Some(raw) = items.next_element::<&'de RawValue>()? {
            texts.push(range_of(self.bytes, raw.get())?);
        }
        Ok(Value::Array(vec![self.set_aside(Part::Texts(texts))]))
    }

    /// A mapping at a member place is one member; above one, its keys lead on.
    fn visit_map<A: MapAccess<'de>>(self, entries: A) -> Result<Value, A::Error> {
        if self.at_place() {
            return Ok(match StrictVisitor.visit_map(entries)?.0 {
                member @ Value::Object(_) => self.set_aside(Part::Parsed(member)),
                number => number,
            });
        }
        let PageSeed {
            bytes,
            places,
            groups,
            ..
        } = self;
        strict_map(entries, |key, entries| {
            let places = below(&places, key);
            if places.is_empty() {
                return entries.next_value::<Strict>().map(|strict| strict.0);
            }
            entries.next_value_seed(PageSeed {
                bytes,
                places,
                root: false,
                groups: &mut *groups,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hal_places() -> Vec<Vec<Step<'static>>> {
        vec![
            vec![Step::Key("items")],
            vec![Step::Key("_embedded"), Step::Any],
        ]
    }

    fn values(members: Members, body: &[u8]) -> Vec<Value> {
        members
            .into_iter()
            .map(|member| member.into_value(body).unwrap())
            .collect()
    }

    #[test]
    fn members_at_places_are_set_aside_as_text() {
        let body = br#"{"_links": {"next": {"href": "/p2"}}, "items": [{"id": 1}, {"id": 2}],
            "_embedded": {"one": {"id": 3}, "more": [{"id": 4}], "n": 5}, "x": [{"id": 6}]}"#;
        let mut page = json_page(body, &hal_places()).unwrap();
        assert_eq!(page.rest["_links"]["next"]["href"], "/p2");
        assert_eq!(page.rest["x"], json!([{"id": 6}]));
        assert_eq!(page.rest["_embedded"]["n"], json!(5));
        let taken = match page.rest.as_object_mut().unwrap().remove("items") {
            Some(Value::Array(items)) => items,
            other => panic!("{other:?}"),
        };
        let mut taken = taken;
        taken.push(page.rest["_embedded"]["one"].take());
        let members = page.members(taken);
        assert_eq!(members.len(), 3);
        assert_eq!(
            values(members, body),
            [json!({"id": 1}), json!({"id": 2}), json!({"id": 3})]
        );
    }

    #[test]
    fn a_list_page_is_all_members() {
        let body = b" [{\"id\": 1}, 2, \"three\"] ";
        let mut page = json_page(body, &[]).unwrap();
        let taken = std::mem::take(page.rest.as_array_mut().unwrap());
        let members = page.members(taken);
        assert_eq!(
            values(members, body),
            [json!({"id": 1}), json!(2), json!("three")]
        );
    }

    #[test]
    fn members_are_read_strictly_and_the_rest_too() {
        let body = br#"{"items": [{"id": 1, "id": 2}]}"#;
        let mut page = json_page(body, &hal_places()).unwrap();
        let taken = vec![page.rest["items"][0].take()];
        let error = page.members(taken).into_iter().next().unwrap();
        let error = error.into_value(body).unwrap_err().to_string();
        assert!(error.contains("duplicate key \"id\""), "{error}");
        for body in [
            &br#"{"items": [], "items": []}"#[..],
            br#"{"_embedded": {"a": [], "a": {}}}"#,
            br#"{"_embedded": {"a": {"b": 1, "b": 1}}}"#,
            br#"{"items": [{"id": 1]}"#,
        ] {
            assert!(json_page(body, &hal_places()).is_err());
        }
    }

    #[test]
    fn numbers_stay_exact_outside_and_inside_members() {
        let digits = "123456789012345678901234567890";
        let body = format!(r#"{{"n": {digits}, "items": [{{"n": {digits}}}], "f": 1.50}}"#);
        let mut page = json_page(body.as_bytes(), &hal_places()).unwrap();
        assert_eq!(page.rest["n"].to_string(), digits);
        assert_eq!(page.rest["f"], json!(1.5));
        let taken = vec![page.rest["items"][0].take()];
        let members = page.members(taken);
        let member = values(members, body.as_bytes()).remove(0);
        assert_eq!(member["n"].to_string(), digits);
    }

    #[test]
    fn a_lookalike_placeholder_at_a_member_place_is_a_member() {
        let lookalike = json!({ PLACEHOLDER: 0 });
        let body = json!({ "items": [lookalike], "_embedded": { "a": lookalike } }).to_string();
        let mut page = json_page(body.as_bytes(), &hal_places()).unwrap();
        let taken = vec![
            page.rest["items"][0].take(),
            page.rest["_embedded"]["a"].take(),
        ];
        let members = page.members(taken);
        assert_eq!(
            values(members, body.as_bytes()),
            [lookalike.clone(), lookalike]
        );
    }
}
