//! A re-implementation of the parts of libyaml 0.2.5's emitter that PyYAML's `CSafeDumper` uses.
//! Block style, indent 4, width 99, ASCII only; column bookkeeping mirrors libyaml so folds match.

use super::python_float;
use super::yaml_resolve::{resolve_plain, Implicit};
use serde_json::{Map, Value};

/// `indent=4` as passed by the reference tool.
const BEST_INDENT: i32 = 4;
/// `width=99` as passed by the reference tool.
const BEST_WIDTH: usize = 99;
/// libyaml refuses simple (`key: value`) keys longer than this many bytes and
/// writes them as complex keys (`? key` / `: value`).
const MAX_SIMPLE_KEY_BYTES: usize = 128;

/// One document exactly as `yaml.dump(value, Dumper=yaml.CSafeDumper,
/// default_flow_style=False, explicit_start=True, width=99, indent=4)` writes it,
/// starting with `---` and ending with a newline.
///
/// Not reproducible from a `Value`, hence not reproduced: PyYAML's
/// `&id001`/`*id001` anchors for one Python object referenced twice (a loaded
/// YAML alias to a collection), and integers beyond i64/u64, which serde_json
/// (without `arbitrary_precision`) already holds as f64 and which are
/// therefore written as floats.
pub fn to_yaml_document(value: &Value) -> String {
    let mut emitter = Emitter::new();
    emitter.write_indicator("---", true, false, false);
    emitter.emit_node(value, Context::default());
    // DOCUMENT-END (implicit): libyaml finishes the last line and, as no
    // block scalar is ever chosen, never needs an explicit `...`.
    emitter.write_indent();
    emitter.out
}

/// Where a node sits, as libyaml's `emit_node` flags describe it.
#[derive(Clone, Copy, Default)]
struct Context {
    mapping: bool,
    simple_key: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
}

/// Emitter state with the same meaning as libyaml's fields of the same name.
struct Emitter {
    out: String,
    /// Characters (not bytes) written on the current line.
    column: usize,
    /// The last character written was whitespace (or nothing was written).
    whitespace: bool,
    /// Only indentation (and indicators such as `-`) on the current line so far.
    indention: bool,
    /// Current block indent; -1 before the root node.
    indent: i32,
    indents: Vec<i32>,
}

impl Emitter {
    fn new() -> Self {
        Emitter {
            // Most documents are a few hundred bytes: one allocation, not six doublings.
            out: String::with_capacity(512),
            column: 0,
            whitespace: true,
            indention: true,
            indent: -1,
            indents: Vec::with_capacity(8),
        }
    }

    fn put(&mut self, ch: char) {
        self.out.push(ch);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        // Every pop pairs with an increase_indent in the same function.
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for ch in indicator.chars() {
            self.put(ch);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn emit_node(&mut self, value: &Value, ctx: Context) {
        match value {
            Value::Null => self.emit_scalar("null", true, ctx),
            Value::Bool(flag) => self.emit_scalar(if *flag { "true" } else { "false" }, true, ctx),
            Value::Number(number) => self.emit_scalar(&number_text(number), true, ctx),
            Value::String(text) => {
                let plain_implicit = resolve_plain(text) == Implicit::Str;
                self.emit_scalar(text, plain_implicit, ctx);
            }
            Value::Array(items) if items.is_empty() => self.emit_empty_flow("[", "]"),
            Value::Object(map) if map.is_empty() => self.emit_empty_flow("{", "}"),
            Value::Array(items) => self.emit_block_sequence(items, ctx),
            Value::Object(map) => self.emit_block_mapping(map),
        }
    }

    /// libyaml writes empty collections in flow style even in block mode.
    fn emit_empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.pop_indent();
        self.write_indicator(close, false, false, false);
    }

    fn emit_block_sequence(&mut self, items: &[Value], ctx: Context) {
        // A sequence directly after `key:` is not indented further.
        self.increase_indent(false, ctx.mapping && !self.indention);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.emit_node(item, Context::default());
        }
        self.pop_indent();
    }

    fn emit_block_mapping(&mut self, map: &Map<String, Value>) {
        self.increase_indent(false, false);
        for (key, item) in map {
            self.write_indent();
            let key_info = analyze(key);
            let value_ctx = Context {
                mapping: true,
                simple_key: false,
            };
            if is_simple_key(&key_info) {
                let key_ctx = Context {
                    mapping: true,
                    simple_key: true,
                };
                self.emit_string_key(key, key_ctx);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.emit_string_key(key, value_ctx);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.emit_node(item, value_ctx);
        }
        self.pop_indent();
    }

    fn emit_string_key(&mut self, key: &str, ctx: Context) {
        let plain_implicit = resolve_plain(key) == Implicit::Str;
        self.emit_scalar(key, plain_implicit, ctx);
    }

    /// `plain_implicit` is false when the resolver would read the plain text
    /// back as something other than the node's type: such strings get quoted.
    fn emit_scalar(&mut self, text: &str, plain_implicit: bool, ctx: Context) {
        let info = analyze(text);
        let style = select_style(&info, plain_implicit, ctx.simple_key);
        self.increase_indent(true, false);
        let allow_breaks = !ctx.simple_key;
        if style == Style::Plain && !text.contains(|c: char| c == ' ' || is_break(c)) {
            self.write_plain_word(text);
            self.pop_indent();
            return;
        }
        let chars: Vec<char> = text.chars().collect();
        match style {
            Style::Plain => self.write_plain(&chars, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(&chars, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(&chars, allow_breaks),
        }
        self.pop_indent();
    }

    /// `write_plain` for text with no space or line break: nothing to fold, one copy.
    fn write_plain_word(&mut self, text: &str) {
        if !self.whitespace && !text.is_empty() {
            self.put(' ');
        }
        self.out.push_str(text);
        self.column += text.chars().count();
        self.whitespace = false;
        self.indention = false;
    }

    fn write_plain(&mut self, chars: &[char], allow_breaks: bool) {
        if !self.whitespace && !chars.is_empty() {
            self.put(' ');
        }
        let mut spaces = false;
        let mut breaks = false;
        for (i, &ch) in chars.iter().enumerate() {
            if ch == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_is_space {
                    self.write_indent();
                } else {
                    self.put(ch);
                }
                spaces = true;
            } else if is_break(ch) {
                self.write_break(ch, breaks);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(ch);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    /// A line break inside plain or single-quoted text: the first `\n` of a run
    /// is doubled, since one break alone would fold into a space when read back.
    fn write_break(&mut self, ch: char, in_breaks: bool) {
        if !in_breaks && ch == '\n' {
            self.put_break();
        }
        if ch == '\n' {
            self.put_break();
        } else {
            // Only reachable for breaks that force double quotes; kept for fidelity.
            self.out.push(ch);
            self.column = 0;
        }
        self.indention = true;
    }

    fn write_single_quoted(&mut self, chars: &[char], allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let last = chars.len().saturating_sub(1);
        for (i, &ch) in chars.iter().enumerate() {
            if ch == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != last
                    && !next_is_space
                {
                    self.write_indent();
                } else {
                    self.put(ch);
                }
                spaces = true;
            } else if is_break(ch) {
                self.write_break(ch, breaks);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if ch == '\'' {
                    self.put('\'');
                }
                self.put(ch);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        if breaks {
            self.write_indent();
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, chars: &[char], allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let mut spaces = false;
        let last = chars.len().saturating_sub(1);
        for (i, &ch) in chars.iter().enumerate() {
            if needs_escape(ch) {
                self.write_escape(ch);
                spaces = false;
            } else if ch == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i != 0 && i != last {
                    self.write_indent();
                    // A space starting the continuation line would be eaten
                    // by folding, so libyaml escapes it.
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(ch);
                }
                spaces = true;
            } else {
                self.put(ch);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_escape(&mut self, ch: char) {
        self.put('\\');
        let short = match ch {
            '\0' => Some('0'),
            '\u{7}' => Some('a'),
            '\u{8}' => Some('b'),
            '\t' => Some('t'),
            '\n' => Some('n'),
            '\u{b}' => Some('v'),
            '\u{c}' => Some('f'),
            '\r' => Some('r'),
            '\u{1b}' => Some('e'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            '\u{85}' => Some('N'),
            '\u{a0}' => Some('_'),
            '\u{2028}' => Some('L'),
            '\u{2029}' => Some('P'),
            _ => None,
        };
        if let Some(letter) = short {
            self.put(letter);
            return;
        }
        let code = ch as u32;
        let (letter, width) = match code {
            0..=0xFF => ('x', 2),
            0x100..=0xFFFF => ('u', 4),
            _ => ('U', 8),
        };
        self.put(letter);
        for ch in format!("{code:0width$X}").chars() {
            self.put(ch);
        }
    }
}

fn number_text(number: &serde_json::Number) -> String {
    if number.is_f64() {
        return python_float::yaml_repr(number.as_f64().unwrap_or(f64::NAN));
    }
    super::json::number_text(number)
}

/// libyaml's `IS_BREAK`.
fn is_break(ch: char) -> bool {
    matches!(ch, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `IS_BLANKZ` (the string's NUL terminator counts as "z").
fn is_blankz(ch: Option<&char>) -> bool {
    match ch {
        None => true,
        Some(&c) => c == ' ' || c == '\t' || c == '\0' || is_break(c),
    }
}

/// With `allow_unicode` off, everything outside printable ASCII (plus `\n`)
/// is "special" and forces double quotes with escapes.
fn is_printable_ascii(ch: char) -> bool {
    ch == '\n' || (' '..='~').contains(&ch)
}

fn needs_escape(ch: char) -> bool {
    !(' '..='~').contains(&ch) || ch == '"' || ch == '\\'
}

/// What libyaml's `yaml_emitter_analyze_scalar` concludes about a scalar.
#[derive(Debug)]
struct ScalarInfo {
    /// UTF-8 length, which is what libyaml compares with 128 for simple keys.
    bytes: usize,
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
}

#[derive(Default)]
struct Flags {
    block_indicators: bool,
    line_breaks: bool,
    special: bool,
    leading_space: bool,
    leading_break: bool,
    trailing_space: bool,
    trailing_break: bool,
    break_space: bool,
    space_break: bool,
}

fn analyze(text: &str) -> ScalarInfo {
    if is_plain_word(text) {
        return ScalarInfo {
            bytes: text.len(),
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
        };
    }
    if text.is_empty() {
        return ScalarInfo {
            bytes: 0,
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
        };
    }
    let flags = scan_flags(text);
    let plain_ok = !(flags.leading_space
        || flags.leading_break
        || flags.trailing_space
        || flags.trailing_break
        || flags.break_space
        || flags.space_break
        || flags.special
        || flags.line_breaks
        || flags.block_indicators);
    ScalarInfo {
        bytes: text.len(),
        multiline: flags.line_breaks,
        block_plain_allowed: plain_ok,
        single_quoted_allowed: !(flags.break_space || flags.space_break || flags.special),
    }
}

/// Most keys and many values (`href`, `teamId`, `http://h/api/team/1`): ASCII letters,
/// digits and `_./-:` with nothing that means anything at the start or the end, which
/// `scan_flags` would find plain in every way.
fn is_plain_word(text: &str) -> bool {
    let bytes = text.as_bytes();
    let inner = |b: &u8| b.is_ascii_alphanumeric() || b"_./-:".contains(b);
    matches!(bytes.first(), Some(b) if b.is_ascii_alphanumeric() || *b == b'_' || *b == b'/')
        && bytes.last() != Some(&b':')
        && bytes.iter().all(inner)
}

/// One pass over the characters with one of look-behind and one of look-ahead (no
/// list of the characters is made: scalars are most of what a file holds).
fn scan_flags(text: &str) -> Flags {
    let mut flags = Flags {
        block_indicators: text.starts_with("---") || text.starts_with("..."),
        ..Flags::default()
    };
    let mut previous_space = false;
    let mut previous_break = false;
    let mut before: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        let (first, last) = (before.is_none(), chars.peek().is_none());
        let preceded_by_ws = before.is_none_or(|c| is_blankz(Some(&c)));
        let followed_by_ws = is_blankz(chars.peek());
        before = Some(ch);
        if indicator_blocks_plain(ch, first, preceded_by_ws, followed_by_ws) {
            flags.block_indicators = true;
        }
        if !is_printable_ascii(ch) {
            flags.special = true;
        }
        if ch == ' ' {
            flags.leading_space |= first;
            flags.trailing_space |= last;
            flags.break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(ch) {
            flags.line_breaks = true;
            flags.leading_break |= first;
            flags.trailing_break |= last;
            flags.space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
    }
    flags
}

/// Block-context indicator rules of `yaml_emitter_analyze_scalar` (flow-only
/// indicators are irrelevant: this emitter never writes non-empty flow nodes).
fn indicator_blocks_plain(
    ch: char,
    first: bool,
    preceded_by_ws: bool,
    followed_by_ws: bool,
) -> bool {
    if first {
        return matches!(
            ch,
            '#' | ','
                | '['
                | ']'
                | '{'
                | '}'
                | '&'
                | '*'
                | '!'
                | '|'
                | '>'
                | '\''
                | '"'
                | '%'
                | '@'
                | '`'
        ) || (matches!(ch, '?' | ':' | '-') && followed_by_ws);
    }
    (ch == ':' && followed_by_ws) || (ch == '#' && preceded_by_ws)
}

fn is_simple_key(info: &ScalarInfo) -> bool {
    !info.multiline && info.bytes <= MAX_SIMPLE_KEY_BYTES
}

/// `yaml_emitter_select_scalar_style` for block context with no tag.
fn select_style(info: &ScalarInfo, plain_implicit: bool, simple_key: bool) -> Style {
    if simple_key && info.multiline {
        return Style::DoubleQuoted;
    }
    let plain_ok = info.block_plain_allowed && plain_implicit && !(info.bytes == 0 && simple_key);
    if plain_ok {
        return Style::Plain;
    }
    if info.single_quoted_allowed {
        Style::SingleQuoted
    } else {
        Style::DoubleQuoted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn basic_layout() {
        let value = json!({"a": [1, {"b": "c", "d": []}], "e": {"f": null}, "g": "yes"});
        let expected = "---\na:\n- 1\n-   b: c\n    d: []\ne:\n    f: null\ng: 'yes'\n";
        assert_eq!(to_yaml_document(&value), expected);
    }

    proptest::proptest! {
        /// The shortcut for plain words concludes what the full scan concludes.
        #[test]
        fn plain_words_are_what_the_scan_finds_plain(text in "[a-zA-Z0-9_./:-]{0,8}") {
            if is_plain_word(&text) {
                let flags = scan_flags(&text);
                let plain = !(flags.leading_space || flags.trailing_space || flags.special
                    || flags.line_breaks || flags.block_indicators);
                proptest::prop_assert!(plain, "{text:?}");
            }
        }
    }

    #[test]
    fn root_scalars_and_empties() {
        assert_eq!(to_yaml_document(&json!("abc")), "--- abc\n");
        assert_eq!(to_yaml_document(&json!("")), "--- ''\n");
        assert_eq!(to_yaml_document(&json!({})), "--- {}\n");
        assert_eq!(to_yaml_document(&json!([1, [2]])), "---\n- 1\n-   - 2\n");
        assert_eq!(to_yaml_document(&json!("a\nb")), "--- 'a\n\n    b'\n");
    }
}
