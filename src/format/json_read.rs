//! JSON reading for files and stdin: one value after another (a value, an array, JSON
//! Lines), with duplicate keys refused (serde_json alone keeps the last one silently).

use std::cell::Cell;
use std::fmt;
use std::io::Read;
use std::rc::Rc;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Largest JSON document read, as for YAML documents (SPEC section 9).
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Every JSON value in `reader`, in order; stops being useful after the first error.
/// A value (a JSON Lines line, a whole `.json` file) past `MAX_DOCUMENT_BYTES` is an error.
pub fn json_values<R: Read>(reader: R) -> impl Iterator<Item = Result<Value, serde_json::Error>> {
    json_values_limited(reader, MAX_DOCUMENT_BYTES)
}

fn json_values_limited<R: Read>(
    reader: R,
    limit: u64,
) -> impl Iterator<Item = Result<Value, serde_json::Error>> {
    let read = Rc::new(Cell::new(0));
    let start = Rc::new(Cell::new(0));
    let limited = Limited {
        inner: reader,
        read: Rc::clone(&read),
        start: Rc::clone(&start),
        limit,
    };
    serde_json::Deserializer::from_reader(limited)
        .into_iter::<Strict>()
        .map(move |value| {
            start.set(read.get());
            value.map(|strict| strict.0)
        })
}

/// One JSON document (an HTTP body): duplicate keys refused, as in files.
pub fn json_document(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<Strict>(bytes).map(|strict| strict.0)
}

/// A reader that fails once the current document (from `start`) passes `limit` bytes.
/// serde_json pulls one byte at a time, so `read` is where the parser is; the counters
/// are plain cells because this runs once per byte (atomics here were a third of a
/// JSON Lines read).
struct Limited<R> {
    inner: R,
    read: Rc<Cell<u64>>,
    start: Rc<Cell<u64>>,
    limit: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buf)?;
        let read = self.read.get() + count as u64;
        self.read.set(read);
        if read - self.start.get() > self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a JSON document larger than {} bytes (unsafe input)",
                    self.limit
                ),
            ));
        }
        Ok(count)
    }
}

/// How serde_json (`arbitrary_precision`) hands a number to a visitor: a one-entry map
/// holding its text under this key.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// An integer kept as written, whatever its size; a fraction or exponent as the nearest
/// f64 (so `1.50` and `1.5` stay one value, as before).
fn number(text: &str) -> Result<Value, String> {
    let invalid = || format!("invalid number {text}");
    if text.contains(['.', 'e', 'E']) {
        let float: f64 = text.parse().map_err(|_| invalid())?;
        return Ok(Number::from_f64(float).map_or(Value::Null, Value::Number));
    }
    text.parse::<Number>()
        .map(Value::Number)
        .map_err(|_| invalid())
}

/// A mapping key: serde_json's number marker (compared without allocating), or a name.
enum Key {
    Number,
    Name(String),
}

struct KeySeed;

impl<'de> serde::de::DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a mapping key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Key, E> {
        Ok(match key == NUMBER_TOKEN {
            true => Key::Number,
            false => Key::Name(key.to_string()),
        })
    }

    fn visit_string<E>(self, key: String) -> Result<Key, E> {
        Ok(match key == NUMBER_TOKEN {
            true => Key::Number,
            false => Key::Name(key),
        })
    }
}

/// A number's text, read into a value without an intermediate string where possible.
struct NumberSeed;

impl<'de> serde::de::DeserializeSeed<'de> for NumberSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NumberSeed {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a number's text")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Value, E> {
        number(text).map_err(E::custom)
    }
}

/// A value whose mappings were read without duplicate keys.
pub(super) struct Strict(pub(super) Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

pub(super) struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Strict, E> {
        Ok(Strict(Value::from(value)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Strict, E> {
        Ok(Strict(Value::from(value)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Strict, E> {
        Ok(Strict(Value::from(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(value.to_string())))
    }

    fn visit_string<E>(self, value: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(value)))
    }

    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Strict, A::Error> {
        let mut list = Vec::new();
        while let Some(Strict(item)) = items.next_element()? {
            list.push(item);
        }
        Ok(Strict(Value::Array(list)))
    }

    fn visit_map<A: MapAccess<'de>>(self, entries: A) -> Result<Strict, A::Error> {
        strict_map(entries, |_, entries| {
            entries.next_value::<Strict>().map(|strict| strict.0)
        })
        .map(Strict)
    }
}

/// A mapping read without duplicate keys (or a number, as serde_json hands them over),
/// each value read by `value_of` given its key.
pub(super) fn strict_map<'de, A: MapAccess<'de>>(
    mut entries: A,
    mut value_of: impl FnMut(&str, &mut A) -> Result<Value, A::Error>,
) -> Result<Value, A::Error> {
    let mut map = Map::new();
    while let Some(key) = entries.next_key_seed(KeySeed)? {
        let key = match key {
            Key::Number if map.is_empty() => return entries.next_value_seed(NumberSeed),
            Key::Number => NUMBER_TOKEN.to_string(),
            Key::Name(key) => key,
        };
        match map.entry(key) {
            serde_json::map::Entry::Occupied(entry) => {
                let message = format!("duplicate key {:?}", entry.key());
                return Err(A::Error::custom(message));
            }
            serde_json::map::Entry::Vacant(entry) => {
                let value = value_of(entry.key(), &mut entries)?;
                entry.insert(value);
            }
        }
    }
    Ok(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_past_the_limit_are_refused() {
        let text = b"{\"a\": \"12345\"}\n{\"b\": \"1\"}\n{\"c\": \"123456789012345678\"}";
        let values: Vec<_> = json_values_limited(&text[..], 20).collect();
        assert!(values[0].is_ok() && values[1].is_ok(), "{values:?}");
        let error = values[2].as_ref().unwrap_err().to_string();
        assert!(error.contains("larger than 20 bytes"), "{error}");
        assert!(json_document(b"{\"a\": 1, \"a\": 2}").is_err());
    }

    #[test]
    fn integers_of_any_size_are_kept_exactly() {
        let value = json_document(b"{\"n\": 123456789012345678901234567890, \"f\": 1.50}").unwrap();
        assert_eq!(value["n"].to_string(), "123456789012345678901234567890");
        assert_eq!(value["f"], json!(1.5));
        assert_eq!(
            crate::format::json::number_text(value["n"].as_number().unwrap()),
            "123456789012345678901234567890"
        );
    }

    #[test]
    fn values_one_after_another() {
        let values: Vec<Value> = json_values(&b"{\"a\": [1, 2.5, null]}\n[true]\n\"x\""[..])
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            values,
            [json!({"a": [1, 2.5, null]}), json!([true]), json!("x")]
        );
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        let error = json_values(&br#"{"a": {"b": 1, "b": 2}}"#[..])
            .next()
            .unwrap()
            .unwrap_err();
        assert!(error.to_string().contains("duplicate key \"b\""), "{error}");
    }
}
