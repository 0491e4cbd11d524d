//! Path templates: `teams/{team}/players/{id}/` and the values that fill them.

/// The `{name}`s of a path template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(length) = rest[start..].find('}') else {
            break;
        };
        found.push(&rest[start + 1..start + length]);
        rest = &rest[start + length + 1..];
    }
    found
}

/// A template with each `{name}` replaced by `value(name)`; `None` when one is missing.
pub fn fill(template: &str, value: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let length = rest[start..].find('}')?;
        out.push_str(&rest[..start]);
        out.push_str(&value(&rest[start + 1..start + length])?);
        rest = &rest[start + length + 1..];
    }
    out.push_str(rest);
    Some(out)
}
