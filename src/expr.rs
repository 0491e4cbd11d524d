//! Expressions the command line and profiles share: `--match PATH=VALUE` selects resources,
//! `--ref PATH=TYPE` names a field holding another resource's id.

use std::str::FromStr;

/// A field path: keys from the top of a resource down, written dotted (`meta.updatedAt`);
/// `\.` is a dot inside a key (`@odata\.nextLink`) and `\\` a backslash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<String>);

impl FieldPath {
    /// The keys of `text`, split at its unescaped dots (an empty text has none).
    pub fn keys(text: &str) -> Vec<String> {
        if text.is_empty() {
            return Vec::new();
        }
        let mut keys = vec![String::new()];
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(escaped @ ('.' | '\\')) => push_char(&mut keys, escaped),
                    Some(other) => {
                        push_char(&mut keys, '\\');
                        push_char(&mut keys, other);
                    }
                    None => push_char(&mut keys, '\\'),
                },
                '.' => keys.push(String::new()),
                other => push_char(&mut keys, other),
            }
        }
        keys
    }
}

fn push_char(keys: &mut [String], c: char) {
    if let Some(last) = keys.last_mut() {
        last.push(c);
    }
}

impl FromStr for FieldPath {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let keys = FieldPath::keys(text);
        if keys.is_empty() || keys.iter().any(String::is_empty) {
            return Err(format!("invalid field path {text:?}"));
        }
        Ok(FieldPath(keys))
    }
}

/// `--match PATH=VALUE`: a dotted field path and the text its value must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchExpr {
    pub path: Vec<String>,
    pub value: String,
}

impl FromStr for MatchExpr {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (path, value) = text
            .split_once('=')
            .ok_or_else(|| "expected PATH=VALUE".to_string())?;
        let FieldPath(path) = path.parse()?;
        Ok(MatchExpr {
            path,
            value: value.to_string(),
        })
    }
}

/// `--ref PATH=TYPE`: a dotted field path holding the id of a resource of TYPE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefExpr {
    pub path: Vec<String>,
    pub kind: String,
}

impl FromStr for RefExpr {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let expr: MatchExpr = text.parse().map_err(|_| "expected PATH=TYPE".to_string())?;
        if expr.value.is_empty() {
            return Err("expected PATH=TYPE with a type name".to_string());
        }
        Ok(RefExpr {
            path: expr.path,
            kind: expr.value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_may_hold_an_escaped_dot() {
        let path: FieldPath = r"value.@odata\.nextLink".parse().unwrap();
        assert_eq!(path.0, ["value", "@odata.nextLink"]);
        assert_eq!(FieldPath::keys(r"a\\.b"), ["a\\", "b"]);
        assert_eq!(FieldPath::keys(r"a\b"), [r"a\b"]);
        assert!(FieldPath::keys("").is_empty());
        assert!("a..b".parse::<FieldPath>().is_err());
        assert!("".parse::<FieldPath>().is_err());
    }

    #[test]
    fn match_expr_parses_dotted_path() {
        let expr: MatchExpr = "meta.owner=ana=b".parse().unwrap();
        assert_eq!(expr.path, vec!["meta", "owner"]);
        assert_eq!(expr.value, "ana=b");
        assert!("novalue".parse::<MatchExpr>().is_err());
        assert!("a..b=1".parse::<MatchExpr>().is_err());
    }
}
