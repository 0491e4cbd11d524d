//! JSON writer byte-identical to Python's `json.dumps(value, sort_keys=True) + "\n"`.
//! Separators are `", "` and `": "`, output is pure ASCII (`ensure_ascii=True`).

use super::python_float;
use serde_json::{Number, Value};
use std::fmt::Write as _;

/// `json.dumps(value, sort_keys=True) + "\n"` exactly: `", "` and `": "`
/// separators, keys sorted by code point, non-ASCII and DEL as `\uXXXX`
/// (surrogate pairs above U+FFFF), control characters as Python escapes them,
/// floats as Python's `repr` (`1e-07`, `1.5`, `100.0`, `1e+16`), integers as digits.
pub fn to_json_line(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out.push('\n');
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => out.push_str(&number_text(number)),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => write_array(out, items),
        Value::Object(map) => write_object(out, map),
    }
}

/// Integers print as their digits, whatever their size; anything else is a Python
/// float and prints with `repr` (so `1.0` stays `1.0`).
pub(crate) fn number_text(number: &Number) -> String {
    if !number.is_f64() {
        return number.to_string();
    }
    python_float::repr(number.as_f64().unwrap_or(f64::NAN))
}

fn write_array(out: &mut String, items: &[Value]) {
    out.push('[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_value(out, item);
    }
    out.push(']');
}

/// serde_json's `Map` (without `preserve_order`) iterates keys in byte order
/// of their UTF-8, which is code point order: the order Python's `sorted` gives.
fn write_object(out: &mut String, map: &serde_json::Map<String, Value>) {
    out.push('{');
    for (index, (key, item)) in map.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write_string(out, key);
        out.push_str(": ");
        write_value(out, item);
    }
    out.push('}');
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(ch),
            _ => write_unicode_escape(out, ch),
        }
    }
    out.push('"');
}

/// Python writes lowercase hex and splits astral characters into UTF-16
/// surrogate pairs.
fn write_unicode_escape(out: &mut String, ch: char) {
    let mut units = [0u16; 2];
    for unit in ch.encode_utf16(&mut units) {
        // Writing into a String cannot fail.
        let _ = write!(out, "\\u{unit:04x}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layout_matches_python() {
        let value = json!({"b": [1, 2.5, null, true], "a": {"x": "y"}, "c": {}, "d": []});
        assert_eq!(
            to_json_line(&value),
            "{\"a\": {\"x\": \"y\"}, \"b\": [1, 2.5, null, true], \"c\": {}, \"d\": []}\n"
        );
    }

    #[test]
    fn escapes_match_python() {
        let value = json!("\u{0}\u{1f}\u{7f}é😀\"\\/\n\r\t\u{8}\u{c}");
        assert_eq!(
            to_json_line(&value),
            "\"\\u0000\\u001f\\u007f\\u00e9\\ud83d\\ude00\\\"\\\\/\\n\\r\\t\\b\\f\"\n"
        );
    }

    #[test]
    fn floats_use_repr() {
        let value = json!([1e-7, 1.0, 100.0, 1e16, -0.0, u64::MAX, i64::MIN]);
        assert_eq!(
            to_json_line(&value),
            "[1e-07, 1.0, 100.0, 1e+16, -0.0, 18446744073709551615, -9223372036854775808]\n"
        );
    }
}
