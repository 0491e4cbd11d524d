//! The YAML writer round trip: an arbitrary JSON value written by `to_yaml_document` reads
//! back, through the YAML reader, as one document equal to the value.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use resource_sync::format::yaml::{to_yaml_document, YamlDocuments};
use serde_json::{Map, Number, Value};

/// Deep enough to reach every writer path, shallow enough to stay under the reader's limit.
const MAX_DEPTH: usize = 12;

fn value(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let choices = if depth >= MAX_DEPTH { 6 } else { 8 };
    Ok(match u.choose_index(choices)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.arbitrary::<u64>()?),
        4 => Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        5 => Value::String(text(u)?),
        6 => {
            let len = u.choose_index(5)?;
            let items = (0..len)
                .map(|_| value(u, depth + 1))
                .collect::<Result<Vec<_>>>()?;
            Value::Array(items)
        }
        _ => {
            let len = u.choose_index(5)?;
            let mut map = Map::new();
            for _ in 0..len {
                map.insert(text(u)?, value(u, depth + 1)?);
            }
            Value::Object(map)
        }
    })
}

/// Strings: sometimes arbitrary Unicode, sometimes words YAML 1.1 gives a meaning to,
/// which the writer must quote.
fn text(u: &mut Unstructured<'_>) -> Result<String> {
    const TRICKY: &[&str] = &[
        "yes",
        "No",
        "on",
        "OFF",
        "~",
        "null",
        "true",
        "007",
        "0x1F",
        "1e5",
        "1_000",
        ".inf",
        "-.Inf",
        ".nan",
        "2024-01-01",
        "12:30:00",
        "<<",
        "=",
        "- a",
        "a: b",
        "#c",
        "'q'",
        "\"d\"",
        "",
        " lead",
        "trail ",
        "multi\nline",
        "tab\there",
        "\u{85}",
        "\u{2028}",
        "\u{feff}bom",
        "---",
        "...",
        "&anchor",
        "*alias",
        "!tag",
        "%YAML",
        "@",
        "`",
        "|",
        ">",
    ];
    if u.ratio(1, 3)? {
        Ok(TRICKY[u.choose_index(TRICKY.len())?].to_string())
    } else {
        u.arbitrary()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(original) = value(&mut u, 0) else {
        return;
    };
    let yaml = to_yaml_document(&original);
    let documents: Vec<Value> = YamlDocuments::new(yaml.as_bytes())
        .collect::<std::result::Result<_, _>>()
        .unwrap_or_else(|error| panic!("the writer's output does not read back: {error}\n{yaml}"));
    assert_eq!(documents.len(), 1, "one document expected:\n{yaml}");
    assert_eq!(
        documents[0], original,
        "round trip changed the value:\n{yaml}"
    );
});
