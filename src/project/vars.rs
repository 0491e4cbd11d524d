//! Values that differ between environments (SPEC section 11): an environment's `vars` are
//! turned into `${NAME}` placeholders as resources are read from it, and filled in as they
//! are written to it, so a tree holds neither prod's site URL nor its keys, and one run
//! from prod to staging sends staging's own.
//!
//! The text rules make reading then writing the identity: a `${` already in the data is
//! read as `$${`, and a value is never taken right after a `$` kept as text (that `$` and
//! the placeholder would read back as an escape).

use std::convert::Infallible;
use std::path::Path;

use anyhow::Result;
use serde::Deserialize;
use serde_json::Value;

use super::secret::SecretSpec;
use crate::exit_code::usage;
use crate::resource::field_at_mut;

/// A value shorter than this would be found inside unrelated text.
const SHORTEST_VALUE: usize = 4;

/// A var as the project file gives it: text, or a SECRET.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum VarValue {
    Text(String),
    Secret(SecretSpec),
}

/// One environment's values, resolved, longest first (so the longest one is taken where
/// two begin at one place).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    /// The environment they are of, named in errors.
    pub environment: String,
    entries: Vec<Var>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Var {
    name: String,
    value: String,
    /// From a SECRET: never printed.
    secret: bool,
}

/// Why a `${NAME}` could not be written: the destination does not define NAME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undefined(pub String);

impl Vars {
    /// `entries` as (name, value, secret); `Err` names the mistake (a bad name, a short
    /// value, two names with one value).
    pub fn new(environment: &str, entries: Vec<(String, String, bool)>) -> Result<Vars, String> {
        let mut vars = Vars {
            environment: environment.to_string(),
            entries: Vec::new(),
        };
        for (name, value, secret) in entries {
            if !is_var_name(&name) {
                return Err(format!(
                    "{name:?} is not a var name ([A-Z][A-Z0-9_]*: capitals, digits, _)"
                ));
            }
            if value.chars().count() < SHORTEST_VALUE {
                return Err(format!(
                    "{name}: a value shorter than {SHORTEST_VALUE} characters would be found in unrelated text"
                ));
            }
            if let Some(other) = vars.entries.iter().find(|var| var.value == value) {
                return Err(format!(
                    "{} and {name} have the same value: a placeholder must name one",
                    other.name
                ));
            }
            vars.entries.push(Var {
                name,
                value,
                secret,
            });
        }
        vars.entries
            .sort_by(|a, b| b.value.len().cmp(&a.value.len()).then(a.name.cmp(&b.name)));
        Ok(vars)
    }

    /// The vars of an environment's file, SECRETs resolved (`env` reads a variable).
    pub(super) fn resolve(
        environment: &str,
        file: &std::collections::BTreeMap<String, VarValue>,
        folder: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vars> {
        let mut entries = Vec::new();
        for (name, value) in file {
            entries.push(match value {
                VarValue::Text(text) => (name.clone(), text.clone(), false),
                VarValue::Secret(spec) => {
                    let secret = spec
                        .resolve(folder, env)
                        .map_err(|error| usage(format!("vars.{name}: {error:#}")))?;
                    (name.clone(), secret.value, true)
                }
            });
        }
        Vars::new(environment, entries).map_err(usage)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The secret values and the placeholder each prints as.
    pub fn secrets(&self) -> impl Iterator<Item = (&str, String)> {
        self.entries
            .iter()
            .filter(|var| var.secret)
            .map(|var| (var.value.as_str(), format!("${{{}}}", var.name)))
    }

    /// `text` as read from the environment: its values as `${NAME}`, a `${` as `$${`;
    /// `None` when nothing changes.
    pub fn to_placeholders(&self, text: &str) -> Option<String> {
        if !text.contains("${") && !self.entries.iter().any(|var| text.contains(&var.value)) {
            return None;
        }
        let mut out = String::with_capacity(text.len() + 8);
        let mut at = 0;
        let mut dollar_kept = false;
        while at < text.len() {
            let rest = &text[at..];
            let before = text[..at].chars().next_back();
            if let Some(var) = self.var_at(rest, before).filter(|_| !dollar_kept) {
                out.push_str("${");
                out.push_str(&var.name);
                out.push('}');
                at += var.value.len();
                dollar_kept = false;
            } else if rest.starts_with("${") {
                out.push_str("$${");
                at += 2;
                dollar_kept = false;
            } else {
                let c = rest.chars().next().unwrap_or_default();
                out.push(c);
                at += c.len_utf8();
                dollar_kept = c == '$';
            }
        }
        Some(out)
    }

    /// The var whose value begins `rest` without cutting a word (`before`: the character
    /// in front of it).
    fn var_at(&self, rest: &str, before: Option<char>) -> Option<&Var> {
        self.entries.iter().find(|var| {
            rest.starts_with(&var.value)
                && !(starts_word(&var.value) && before.is_some_and(is_word_char))
                && !(ends_word(&var.value)
                    && rest[var.value.len()..]
                        .chars()
                        .next()
                        .is_some_and(is_word_char))
        })
    }

    /// `text` to write to the environment: each `${NAME}` its value, each `$${` a `${`;
    /// `Ok(None)` when nothing changes, `Err` for a NAME it does not define.
    pub fn filled(&self, text: &str) -> Result<Option<String>, Undefined> {
        if !text.contains("${") {
            return Ok(None);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        while at < text.len() {
            let rest = &text[at..];
            if rest.starts_with("$${") {
                out.push_str("${");
                at += 3;
            } else if let Some(name) = placeholder_at(rest) {
                let var = self.entries.iter().find(|var| var.name == name);
                let var = var.ok_or_else(|| Undefined(name.to_string()))?;
                out.push_str(&var.value);
                at += name.len() + 3;
            } else {
                let c = rest.chars().next().unwrap_or_default();
                out.push(c);
                at += c.len_utf8();
            }
        }
        Ok(Some(out))
    }

    /// Every string of `body` read from the environment, in placeholders; the fields at
    /// `kept` (identity, links to parents and children) as they are.
    pub fn read_into_placeholders(&self, body: &mut Value, kept: &[Vec<String>]) {
        let Ok(()) = with_fields_kept(body, kept, |body| {
            each_string(body, &mut |text| {
                self.to_placeholders(text).map(Ok::<_, Infallible>)
            })
        });
    }

    /// Every string of `body` filled in for the environment, the fields at `kept` left.
    pub fn fill_in(&self, body: &mut Value, kept: &[Vec<String>]) -> Result<(), Undefined> {
        with_fields_kept(body, kept, |body| {
            each_string(body, &mut |text| self.filled(text).transpose())
        })
    }
}

/// `${NAME}` at the start of `rest`: its NAME.
fn placeholder_at(rest: &str) -> Option<&str> {
    let inner = rest.strip_prefix("${")?;
    let end = inner.find('}')?;
    let name = &inner[..end];
    is_var_name(name).then_some(name)
}

/// `[A-Z][A-Z0-9_]*`.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A letter, digit or `_`: what a value cannot be cut from.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn starts_word(value: &str) -> bool {
    value.chars().next().is_some_and(is_word_char)
}

fn ends_word(value: &str) -> bool {
    value.chars().next_back().is_some_and(is_word_char)
}

/// Runs `change` over `body` with the fields at `kept` taken out, and puts them back.
fn with_fields_kept<E>(
    body: &mut Value,
    kept: &[Vec<String>],
    change: impl FnOnce(&mut Value) -> Result<(), E>,
) -> Result<(), E> {
    let taken: Vec<(&Vec<String>, Value)> = kept
        .iter()
        .filter_map(|path| Some((path, field_at_mut(body, path)?.take())))
        .collect();
    let changed = change(body);
    for (path, value) in taken.into_iter().rev() {
        if let Some(slot) = field_at_mut(body, path) {
            *slot = value;
        }
    }
    changed
}

/// Every string value at any depth (never a key) replaced where `change` gives a new one.
fn each_string<E>(
    value: &mut Value,
    change: &mut dyn FnMut(&str) -> Option<Result<String, E>>,
) -> Result<(), E> {
    match value {
        Value::String(text) => {
            if let Some(new) = change(text) {
                *text = new?;
            }
        }
        Value::Array(items) => {
            for item in items {
                each_string(item, change)?;
            }
        }
        Value::Object(fields) => {
            for field in fields.values_mut() {
                each_string(field, change)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vars(entries: &[(&str, &str)]) -> Vars {
        Vars::new(
            "test",
            entries
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string(), false))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn the_longest_value_is_taken_and_words_are_not_cut() {
        let prod = vars(&[
            ("SITE", "https://x.example.com"),
            ("API", "https://x.example.com/api"),
            ("SHOP", "https://x.example.com/shop"),
        ]);
        let read = |text: &str| prod.to_placeholders(text).unwrap_or(text.into());
        assert_eq!(read("https://x.example.com/api/v1"), "${API}/v1");
        assert_eq!(read("see https://x.example.com/about"), "see ${SITE}/about");
        assert_eq!(
            read("https://x.example.com/shopping"),
            "${SITE}/shopping",
            "SHOP must not cut the word shopping"
        );
        assert_eq!(read("a ${literal} b"), "a $${literal} b");
        assert_eq!(prod.to_placeholders("nothing here"), None);
    }

    #[test]
    fn writing_fills_in_and_refuses_an_undefined_name() {
        let staging = vars(&[("SITE", "https://staging.example.com")]);
        assert_eq!(
            staging.filled("${SITE}/about and $${SITE}").unwrap(),
            Some("https://staging.example.com/about and ${SITE}".into())
        );
        assert_eq!(
            staging.filled("${PAYMENTS_KEY}"),
            Err(Undefined("PAYMENTS_KEY".into()))
        );
        assert_eq!(
            staging.filled("${lower} ${ X}").unwrap(),
            Some("${lower} ${ X}".into())
        );
    }

    #[test]
    fn names_values_and_duplicates_are_checked() {
        let new = |name: &str, value: &str| {
            Vars::new("test", vec![(name.into(), value.into(), false)]).map(|_| ())
        };
        assert!(new("site", "https://x").is_err());
        assert!(new("SITE", "abc").is_err());
        assert!(new("SITE_2", "abcd").is_ok());
        let twice = Vars::new(
            "test",
            vec![
                ("A1".into(), "same value".into(), false),
                ("B1".into(), "same value".into(), true),
            ],
        );
        assert!(twice.unwrap_err().contains("A1 and B1"));
    }

    #[test]
    fn identity_and_links_are_kept_as_read() {
        let prod = vars(&[("SITE", "http://prod.example")]);
        let mut body = serde_json::json!({
            "id": "http://prod.example",
            "_links": {"self": {"href": "http://prod.example/api/team/1"}},
            "homepage": "http://prod.example/teams/1",
            "tags": ["http://prod.example"],
        });
        let kept = vec![vec!["id".to_string()], vec!["_links".to_string()]];
        prod.read_into_placeholders(&mut body, &kept);
        assert_eq!(
            body,
            serde_json::json!({
                "id": "http://prod.example",
                "_links": {"self": {"href": "http://prod.example/api/team/1"}},
                "homepage": "${SITE}/teams/1",
                "tags": ["${SITE}"],
            })
        );
    }

    fn any_vars() -> impl Strategy<Value = Vars> {
        proptest::collection::btree_map("[A-D]{1,2}", "[a-c$/{}:_ ]{4,8}", 0..4).prop_filter_map(
            "distinct values",
            |entries| {
                Vars::new(
                    "test",
                    entries
                        .into_iter()
                        .map(|(name, value)| (name, value, false))
                        .collect(),
                )
                .ok()
            },
        )
    }

    /// Any resource body: mappings and lists of strings from the vars' alphabet, numbers,
    /// booleans and nulls, a few levels deep.
    fn any_body() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            "[a-c$/{}:_ A-D]{0,24}".prop_map(Value::String),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z$]{1,6}", inner, 0..4)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// For any resource and any vars, reading then writing through one environment
        /// gives back the resource read (its `id` kept as read either way).
        #[test]
        fn a_resource_read_then_written_is_the_same(vars in any_vars(), body in any_body()) {
            let kept = vec![vec!["id".to_string()]];
            let mut round_trip = body.clone();
            vars.read_into_placeholders(&mut round_trip, &kept);
            vars.fill_in(&mut round_trip, &kept).unwrap();
            prop_assert_eq!(round_trip, body);
        }

        /// Reading then writing through one environment gives back what was read.
        #[test]
        fn reading_then_writing_is_the_identity(
            vars in any_vars(),
            text in "[a-c$/{}:_ A-D]{0,40}",
        ) {
            let read = vars.to_placeholders(&text).unwrap_or_else(|| text.clone());
            let written = vars.filled(&read).unwrap().unwrap_or_else(|| read.clone());
            prop_assert_eq!(written, text);
        }
    }
}
