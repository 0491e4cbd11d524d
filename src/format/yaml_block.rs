//! A quick reader for the one shape a resource file nearly always has: `---`, then a
//! block mapping of plain or single-quoted keys, and values that are plain,
//! single-quoted or empty collections on one line, lists of such scalars (`- x`), or
//! mappings nested by indentation. This tool and the original write exactly that shape,
//! and the full parser (`yaml.rs`, character by character) was most of the time of a
//! directory copy. Anything else (a list of mappings or lists, a comment, an anchor, a
//! tag, a double-quoted or multi-line scalar, trailing spaces, a second document, a
//! duplicate key, a scalar the resolver refuses) makes it answer `None`, and the caller
//! parses the text in full, so the result and every error are the full parser's.

use serde_json::{Map, Value};
use yaml_rust2::scanner::TScalarStyle;

use super::yaml_construct::{construct_scalar, key_string, Scalar};

/// Deeper than this, the full parser (and its depth limit) decides.
const MAX_DEPTH: usize = 32;

/// The document's value, or `None` where the text is not of the simple shape.
pub(crate) fn simple_document(text: &str) -> Option<Value> {
    let body = text.strip_prefix("---\n")?;
    if body.contains(['\t', '\r', '#']) || !body.ends_with('\n') {
        return None;
    }
    let mut lines = Lines {
        rest: body.lines().map(Line::new).collect::<Option<Vec<_>>>()?,
        at: 0,
    };
    let first = lines.peek()?;
    if first.indent != 0 {
        return None;
    }
    let map = lines.mapping(0, 0)?;
    // Everything was read as one mapping: nothing left over (a second document).
    (lines.at == lines.rest.len()).then_some(Value::Object(map))
}

/// One line: its indentation and what follows it.
#[derive(Clone, Copy)]
struct Line<'t> {
    indent: usize,
    text: &'t str,
}

impl<'t> Line<'t> {
    fn new(line: &'t str) -> Option<Line<'t>> {
        let text = line.trim_start_matches(' ');
        // Blank lines and trailing spaces have rules of their own.
        if text.is_empty() || text.ends_with(' ') {
            return None;
        }
        Some(Line {
            indent: line.len() - text.len(),
            text,
        })
    }

    /// `key: value` or `key:` (value on the lines below).
    fn split(self) -> Option<(&'t str, Option<&'t str>)> {
        match self.text.split_once(": ") {
            Some((key, value)) => Some((key, Some(value))),
            None => Some((self.text.strip_suffix(':')?, None)),
        }
    }
}

struct Lines<'t> {
    rest: Vec<Line<'t>>,
    at: usize,
}

impl<'t> Lines<'t> {
    fn peek(&self) -> Option<Line<'t>> {
        self.rest.get(self.at).copied()
    }

    /// The mapping whose keys sit at `indent`, ending at the first line less indented.
    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Map<String, Value>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut map = Map::new();
        while let Some(line) = self.peek().filter(|line| line.indent >= indent) {
            if line.indent > indent {
                return None;
            }
            self.at += 1;
            let (key, value) = line.split()?;
            let key = plain_key(key)?;
            let value = match value {
                Some(text) => self.inline_value(text, indent)?,
                None => self.nested_value(indent, depth)?,
            };
            if map.insert(key, value).is_some() {
                return None;
            }
        }
        Some(map)
    }

    /// A value on its key's line; a deeper line after it would continue it.
    fn inline_value(&self, text: &str, indent: usize) -> Option<Value> {
        if self.peek().is_some_and(|next| next.indent > indent) {
            return None;
        }
        scalar(text)
    }

    /// The value of `key:`: a list of one-line scalars (`- x`, at the key's indentation
    /// or below it), a mapping indented below it, or nothing (null).
    fn nested_value(&mut self, indent: usize, depth: usize) -> Option<Value> {
        match self.peek() {
            Some(next) if next.indent >= indent && next.text.starts_with("- ") => {
                Some(Value::Array(self.scalar_items(next.indent)?))
            }
            Some(next) if next.indent > indent => {
                Some(Value::Object(self.mapping(next.indent, depth + 1)?))
            }
            // A sequence may sit at its key's indentation.
            Some(next) if next.indent == indent && next.text.starts_with('-') => None,
            _ => Some(Value::Null),
        }
    }
}

impl Lines<'_> {
    /// The `- item` lines at `indent`, each item a one-line scalar.
    fn scalar_items(&mut self, indent: usize) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        let is_item = |line: &Line<'_>| line.indent == indent && line.text.starts_with('-');
        while let Some(line) = self.peek().filter(is_item) {
            self.at += 1;
            let item = line.text.strip_prefix("- ")?;
            // `-   key: value` opens a mapping; a deeper line would continue the item.
            if item.starts_with(' ') || self.peek().is_some_and(|next| next.indent > indent) {
                return None;
            }
            items.push(scalar(item)?);
        }
        Some(items)
    }
}

/// Characters that give a plain scalar's first character another meaning.
fn starts_specially(text: &str) -> bool {
    text.starts_with([
        '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@',
        '`', ' ',
    ])
}

/// A key as the full parser reads it (`1` and `true` become text, as in JSON); a
/// single-quoted one is text as it is (the writers quote `'yes'` and `'12'`).
fn plain_key(text: &str) -> Option<String> {
    if let Some(quoted) = text.strip_prefix('\'') {
        return single_quoted(quoted.strip_suffix('\'')?);
    }
    // A plain scalar ends before trailing spaces, which the split would keep.
    let unclear = text.contains(": ") || text.ends_with([':', ' ']);
    if text.is_empty() || starts_specially(text) || unclear {
        return None;
    }
    match construct_scalar(text.to_string(), TScalarStyle::Plain, None, true).ok()? {
        Scalar::Value(value) => key_string(&value),
        Scalar::Merge => None,
    }
}

/// A value written on one line: plain, single-quoted, or an empty collection.
fn scalar(text: &str) -> Option<Value> {
    match text {
        "[]" => return Some(Value::Array(Vec::new())),
        "{}" => return Some(Value::Object(Map::new())),
        _ => {}
    }
    if let Some(quoted) = text.strip_prefix('\'') {
        return single_quoted(quoted.strip_suffix('\'')?).map(Value::String);
    }
    let plain_first = !starts_specially(text) || negative_number_like(text);
    if !plain_first || text.contains(": ") || text.ends_with(':') {
        return None;
    }
    match construct_scalar(text.to_string(), TScalarStyle::Plain, None, false).ok()? {
        Scalar::Value(value) => Some(value),
        Scalar::Merge => None,
    }
}

/// `-5`, `-.5`: a dash followed by a digit or a dot is plain text, not an item.
fn negative_number_like(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next() == Some('-') && chars.next().is_some_and(|c| c.is_ascii_digit() || c == '.')
}

/// The inside of a one-line single-quoted scalar: `''` is a quote, a lone quote ends it.
fn single_quoted(inside: &str) -> Option<String> {
    let mut text = String::with_capacity(inside.len());
    let mut chars = inside.chars();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return None;
        }
        text.push(c);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::yaml::YamlDocuments;
    use crate::format::yaml_emit::to_yaml_document;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use serde_json::json;

    /// Text made of the characters that change how YAML reads a scalar.
    fn tricky_text() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[-a-z0-9 :#'\"?!&*|>%@`,.{}\\[\\]~_+=/é\n\t]{0,12}")
            .unwrap()
    }

    /// Text as resources mostly hold it.
    fn usual_text() -> BoxedStrategy<String> {
        proptest::string::string_regex("[a-zA-Z_][a-zA-Z0-9 ./:_-]{0,15}")
            .unwrap()
            .boxed()
    }

    fn scalar_value(text: BoxedStrategy<String>) -> impl Strategy<Value = Value> {
        prop_oneof![
            text.prop_map(Value::String),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            Just(Value::Null),
            Just(json!([])),
            Just(json!({})),
        ]
    }

    fn body_of(text: BoxedStrategy<String>) -> impl Strategy<Value = Value> {
        scalar_value(text.clone()).prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::btree_map(text.clone(), inner.clone(), 1..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
                proptest::collection::vec(inner, 1..4).prop_map(Value::Array),
            ]
        })
    }

    /// A resource as most are: mappings of scalars and lists of scalars.
    fn usual_body() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            scalar_value(usual_text()),
            proptest::collection::vec(scalar_value(usual_text()), 1..4).prop_map(Value::Array),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            proptest::collection::btree_map(usual_text(), inner, 1..6)
                .prop_map(|map| Value::Object(map.into_iter().collect()))
        })
    }

    fn body() -> impl Strategy<Value = Value> {
        prop_oneof![body_of(tricky_text().boxed()), body_of(usual_text())]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Whatever the writer makes, the quick reader declines or reads what the full
        /// parser reads.
        #[test]
        fn never_disagrees_with_the_full_parser(body in body()) {
            agrees(&to_yaml_document(&body));
        }

        /// Nor on a written document with one character put in anywhere.
        #[test]
        fn nor_on_a_changed_document(body in body(), at in any::<usize>(), c in "[- :#'\n\"a1{}\\[]") {
            let mut text = to_yaml_document(&body);
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, &c);
            agrees(&text);
        }
    }

    /// What the full parser reads from `text` (its first document).
    fn full(text: &str) -> Option<Value> {
        YamlDocuments::new(text.as_bytes()).next()?.ok()
    }

    /// The quick reader either declines or agrees with the full parser.
    fn agrees(text: &str) -> Option<Value> {
        let quick = simple_document(text);
        if let Some(value) = &quick {
            assert_eq!(Some(value), full(text).as_ref(), "{text:?}");
        }
        quick
    }

    #[test]
    fn reads_most_of_what_the_writer_makes() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let read = (0..200)
            .filter(|_| {
                let body = usual_body().new_tree(&mut runner).unwrap().current();
                agrees(&to_yaml_document(&body)).is_some()
            })
            .count();
        // The rest hold `: ` or trailing spaces in a key, or are a scalar document.
        assert!(read > 120, "only {read} of 200 read quickly");
    }

    #[test]
    fn reads_what_the_tool_writes() {
        let body = json!({
            "_links": {"self": {"href": "http://h:1/api/stat/9"},
                       "parent:player": {"href": "http://h:1/api/player/9"}},
            "id": 9, "points": -26, "ratio": 0.5, "name": "Ana Lima", "yes": "yes",
            "empty": [], "none": null, "nothing": {}, "on": true, "when": "2024-01-01",
            "quote": "it's", "number_text": "12", "colon": "a:b", "spaces": "a  b",
        });
        let text = to_yaml_document(&body);
        assert_eq!(agrees(&text), Some(body), "{text}");
    }

    #[test]
    fn declines_what_it_does_not_read() {
        for text in [
            "a: 1\n",
            "---\na:\n-   b: 1\n",
            "---\na:\n- - 1\n",
            "---\na:\n-\n",
            "---\na:\n- x\n  y\n",
            "---\na:\n  - 1\n  b: 2\n",
            "---\na: 1 # note\n",
            "---\na: &x 1\nb: *x\n",
            "---\na: !!str 1\n",
            "---\na: \"x\"\n",
            "---\na: x\n  y\n",
            "---\na: 1\na: 2\n",
            "---\na: 1\n---\nb: 2\n",
            "---\na: 1",
            "---\na: |\n  x\n",
            "---\n<<: {a: 1}\n",
            "---\na: b: c\n",
            "---\na: 'x'y'\n",
            "---\na: 0x_\n",
            "---\n  a: 1\n",
            "---\na:\n    b: 1\n  c: 2\n",
            "--- x\n",
        ] {
            assert_eq!(agrees(text), None, "{text:?}");
        }
    }

    #[test]
    fn agrees_with_the_full_parser_on_nesting_and_scalars() {
        for text in [
            "---\na:\n    b:\n        c: 1\n    d: x\ne: y\n",
            "---\na:\nb: 1\n",
            "---\na: ''\nb: 'it''s'\nc: ~\nd: 1_000\ne: 1:30\nf: .inf\ng: 0o7\n",
            "---\nurl: http://x/y?z=1&w=2\nneg: -.5\nn: -3\nk-y: v\n",
            "---\n1: one\ntrue: t\nnull: n\n'no': 'a''b'\n",
            "---\na:\n- 1\n- 'x y'\n- []\nb:\n    c:\n      - -2\n      - ~\n    d: 1\n",
        ] {
            assert!(agrees(text).is_some(), "{text:?}");
        }
    }
}
