//! Turns YAML scalars into JSON values the way PyYAML's `SafeConstructor` does.
//! Where Python's result has no JSON form, the documented substitutes below are used.

use super::json::number_text;
use super::yaml_resolve::{resolve_plain, Implicit};
use serde_json::{Number, Value};
use yaml_rust2::parser::Tag;
use yaml_rust2::scanner::TScalarStyle;

/// The `tag:yaml.org,2002:` prefix that `!!` expands to.
const CORE: &str = "tag:yaml.org,2002:";

/// A constructed scalar: a value, or the `<<` merge-key marker.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Value(Value),
    Merge,
}

/// The full tag name (`tag:yaml.org,2002:int`, `!foo`, `!`).
pub(crate) fn tag_name(tag: &Tag) -> String {
    format!("{}{}", tag.handle, tag.suffix)
}

/// Tags allowed on a sequence or mapping: none, the non-specific `!`, or the
/// matching core tag. Everything else is refused like the safe loader does.
pub(crate) fn check_collection_tag(tag: Option<&Tag>, mapping: bool) -> Result<(), String> {
    let Some(tag) = tag else { return Ok(()) };
    let name = tag_name(tag);
    let own = if mapping { "map" } else { "seq" };
    match name.strip_prefix(CORE) {
        _ if name == "!" => Ok(()),
        Some(kind) if kind == own => Ok(()),
        Some("map") => Err("expected a mapping node, but found a sequence".to_string()),
        Some("seq") => Err("expected a sequence node, but found a mapping".to_string()),
        Some("str" | "int" | "float" | "bool" | "null" | "binary" | "timestamp") => {
            Err(format!("expected a scalar node for tag {name:?}"))
        }
        _ => Err(unsupported_tag(&name)),
    }
}

fn unsupported_tag(name: &str) -> String {
    format!("could not determine a constructor for the tag {name:?}")
}

/// Constructs one scalar.
///
/// Choices where PyYAML's Python result cannot be JSON:
/// * `.inf`, `-.inf`, `.nan` (and any float that overflows to infinity) become
///   the strings `".inf"`, `"-.inf"`, `".nan"`.
/// * timestamps (`2024-01-01`, `!!timestamp ...`) stay strings exactly as written.
/// * `!!binary` becomes its base64 text with whitespace removed.
/// * integers outside the i64/u64 range become the nearest f64.
pub(crate) fn construct_scalar(
    text: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
    as_key: bool,
) -> Result<Scalar, String> {
    let name = tag.map(tag_name);
    match name.as_deref() {
        None if style == TScalarStyle::Plain => construct_plain(text, as_key),
        None => Ok(Scalar::Value(Value::String(text))),
        // libyaml marks a `!`-tagged scalar as plain-implicit, so PyYAML
        // resolves it like a plain one even when quoted (`! '12'` is 12).
        Some("!") => construct_plain(text, as_key),
        Some(name) => construct_tagged(text, name).map(Scalar::Value),
    }
}

/// `as_key`: PyYAML's `flatten_mapping` retags the `=` value key as a string.
fn construct_plain(text: String, as_key: bool) -> Result<Scalar, String> {
    let value = match resolve_plain(&text) {
        Implicit::Value if as_key => Value::String(text),
        Implicit::Str | Implicit::Timestamp => Value::String(text),
        Implicit::Null => Value::Null,
        Implicit::Bool => parse_bool(&text)?,
        Implicit::Int => parse_int(&text)?,
        Implicit::Float => parse_float(&text)?,
        Implicit::Merge => return Ok(Scalar::Merge),
        Implicit::Value => return Err(unsupported_tag("tag:yaml.org,2002:value")),
    };
    Ok(Scalar::Value(value))
}

fn construct_tagged(text: String, name: &str) -> Result<Value, String> {
    match name.strip_prefix(CORE) {
        Some("str" | "timestamp") => Ok(Value::String(text)),
        Some("null") => Ok(Value::Null),
        Some("bool") => parse_bool(&text),
        Some("int") => parse_int(&text),
        Some("float") => parse_float(&text),
        Some("binary") => Ok(Value::String(
            text.chars().filter(|c| !c.is_whitespace()).collect(),
        )),
        Some("map" | "seq") => Err(format!(
            "expected a collection for tag {name:?}, found a scalar"
        )),
        _ => Err(unsupported_tag(name)),
    }
}

fn parse_bool(text: &str) -> Result<Value, String> {
    match text.to_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(Value::Bool(true)),
        "no" | "false" | "off" => Ok(Value::Bool(false)),
        _ => Err(format!("invalid boolean {text:?}")),
    }
}

/// Splits PyYAML-style: underscores dropped, then an optional sign.
fn sign_and_body(text: &str) -> (bool, String) {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let cleaned = cleaned.trim().to_string();
    if let Some(rest) = cleaned.strip_prefix('-') {
        (true, rest.to_string())
    } else if let Some(rest) = cleaned.strip_prefix('+') {
        (false, rest.to_string())
    } else {
        (false, cleaned)
    }
}

/// `construct_yaml_int`: `0b`, `0x`, leading-0 octal, base-60 and decimal.
fn parse_int(text: &str) -> Result<Value, String> {
    let invalid = || format!("invalid integer {text:?}");
    let (negative, body) = sign_and_body(text);
    let magnitude = if body == "0" {
        Some(Magnitude::Exact(0))
    } else if let Some(digits) = body.strip_prefix("0b") {
        parse_radix(digits, 2)
    } else if let Some(digits) = body.strip_prefix("0x") {
        parse_radix(digits, 16)
    } else if body.starts_with('0') {
        parse_radix(&body, 8)
    } else if body.contains(':') {
        parse_base60_int(&body)
    } else {
        parse_radix(&body, 10)
    }
    .ok_or_else(invalid)?;
    Ok(magnitude.into_value(negative))
}

/// An integer magnitude, exact while it fits in u128.
enum Magnitude {
    Exact(u128),
    Approx(f64),
}

impl Magnitude {
    fn into_value(self, negative: bool) -> Value {
        match self {
            Magnitude::Exact(n) => exact_int(n, negative),
            Magnitude::Approx(f) => float_value(if negative { -f } else { f }),
        }
    }
}

/// Integers of any size are kept exactly (SPEC section 9), as their digits.
fn exact_int(n: u128, negative: bool) -> Value {
    if negative {
        if let Some(v) = i64::try_from(n).ok().map(|v| -v) {
            return Value::Number(v.into());
        }
        if n == 1u128 << 63 {
            return Value::Number(i64::MIN.into());
        }
    } else if let Ok(v) = u64::try_from(n) {
        return Value::Number(v.into());
    }
    let digits = match negative {
        true => format!("-{n}"),
        false => n.to_string(),
    };
    digits
        .parse::<Number>()
        .map_or_else(|_| float_value(n as f64), Value::Number)
}

fn parse_radix(digits: &str, radix: u32) -> Option<Magnitude> {
    if digits.is_empty() {
        return None;
    }
    let mut exact: Option<u128> = Some(0);
    let mut approx = 0.0_f64;
    for ch in digits.chars() {
        let d = ch.to_digit(radix)?;
        exact = exact
            .and_then(|n| n.checked_mul(u128::from(radix)))
            .and_then(|n| n.checked_add(u128::from(d)));
        approx = approx * f64::from(radix) + f64::from(d);
    }
    Some(match exact {
        Some(n) => Magnitude::Exact(n),
        None if radix == 10 => Magnitude::Approx(digits.parse().ok()?),
        None => Magnitude::Approx(approx),
    })
}

fn parse_base60_int(body: &str) -> Option<Magnitude> {
    let mut total: Option<u128> = Some(0);
    for part in body.split(':') {
        let Magnitude::Exact(n) = parse_radix(part, 10)? else {
            return None;
        };
        total = total
            .and_then(|t| t.checked_mul(60))
            .and_then(|t| t.checked_add(n));
    }
    total.map(Magnitude::Exact)
}

/// `construct_yaml_float`.
fn parse_float(text: &str) -> Result<Value, String> {
    let invalid = || format!("invalid float {text:?}");
    let (negative, body) = sign_and_body(text);
    let body = body.to_lowercase();
    let magnitude = if body == ".inf" {
        f64::INFINITY
    } else if body == ".nan" {
        f64::NAN
    } else if body.contains(':') {
        parse_base60_float(&body).ok_or_else(invalid)?
    } else {
        parse_python_float(&body).ok_or_else(invalid)?
    };
    Ok(float_value(if negative { -magnitude } else { magnitude }))
}

/// Python's `float()` on an already sign-stripped, lowercased body.
fn parse_python_float(body: &str) -> Option<f64> {
    match body {
        "inf" | "infinity" => return Some(f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    let well_formed = body.chars().any(|c| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'));
    if !well_formed {
        return None;
    }
    body.parse().ok()
}

fn parse_base60_float(body: &str) -> Option<f64> {
    let mut total = 0.0_f64;
    for part in body.split(':') {
        total = total * 60.0 + parse_python_float(part)?;
    }
    Some(total)
}

/// A float as JSON, or the documented string stand-ins for non-finite values.
fn float_value(value: f64) -> Value {
    if value.is_nan() {
        return Value::String(".nan".to_string());
    }
    if value.is_infinite() {
        let text = if value > 0.0 { ".inf" } else { "-.inf" };
        return Value::String(text.to_string());
    }
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// The string a scalar key becomes. Python's `json.dumps` turns non-string
/// keys into strings the same way (`1`, `1.5`, `true`, `null`), so YAML read
/// by us and JSON written by the reference agree.
pub(crate) fn key_string(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number_text(number)),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null => Some("null".to_string()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plain(text: &str) -> Value {
        match construct_plain(text.to_string(), false) {
            Ok(Scalar::Value(value)) => value,
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn plain_scalars() {
        assert_eq!(plain("0x1F"), json!(31));
        assert_eq!(plain("0b1_0"), json!(2));
        assert_eq!(plain("017"), json!(15));
        assert_eq!(plain("-1:30"), json!(-90));
        assert_eq!(plain("1_000.5"), json!(1000.5));
        assert_eq!(plain("1:30.5"), json!(90.5));
        assert_eq!(plain("+.inf"), json!(".inf"));
        assert_eq!(plain("-.INF"), json!("-.inf"));
        let big: Value = serde_json::from_str("-123456789012345678901234567890").unwrap();
        assert_eq!(plain("-123456789012345678901234567890"), big);
        assert_eq!(plain("-9223372036854775808"), json!(i64::MIN));
        assert_eq!(plain("1."), json!(1.0));
        assert!(construct_plain("0x_".to_string(), false).is_err());
    }
}
