//! TEMPORARY stub until the Python-compatible writer lands.
use serde_json::Value;
pub fn to_json_line(value: &Value) -> String {
    format!("{}\n", serde_json::to_string(value).unwrap_or_default())
}
