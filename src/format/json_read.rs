//! JSON reading for files and stdin: one value after another (a value, an array, JSON
//! Lines), with duplicate keys refused (serde_json alone keeps the last one silently).

use std::fmt;
use std::io::Read;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Every JSON value in `reader`, in order; stops being useful after the first error.
pub fn json_values<R: Read>(reader: R) -> impl Iterator<Item = Result<Value, serde_json::Error>> {
    serde_json::Deserializer::from_reader(reader)
        .into_iter::<Strict>()
        .map(|value| value.map(|strict| strict.0))
}

/// A value whose mappings were read without duplicate keys.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

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

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Strict, A::Error> {
        let mut map = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(A::Error::custom(format!("duplicate key {key:?}")));
            }
            let Strict(value) = entries.next_value()?;
            map.insert(key, value);
        }
        Ok(Strict(Value::Object(map)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
