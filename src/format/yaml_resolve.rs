//! PyYAML's YAML 1.1 implicit resolver, hand-written instead of regexes.
//! Decides which plain scalars read back as bool, int, float, null, timestamp, merge or value.

/// The tag PyYAML's `Resolver` gives a plain scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Implicit {
    Bool,
    Float,
    Int,
    Merge,
    Null,
    Timestamp,
    /// `=`, the YAML 1.1 "value" key, which the safe constructor refuses as a value.
    Value,
    Str,
}

/// Resolves a plain scalar exactly as PyYAML's resolver table does.
///
/// Python's `$` also matches before a trailing `"\n"`; plain scalars can never
/// end in a line break, and the writer never emits multi-line strings plain, so
/// that quirk cannot change a result here.
pub(crate) fn resolve_plain(text: &str) -> Implicit {
    if is_bool(text) {
        Implicit::Bool
    } else if is_float(text) {
        Implicit::Float
    } else if is_int(text) {
        Implicit::Int
    } else if text == "<<" {
        Implicit::Merge
    } else if is_null(text) {
        Implicit::Null
    } else if is_timestamp(text) {
        Implicit::Timestamp
    } else if text == "=" {
        Implicit::Value
    } else {
        Implicit::Str
    }
}

const BOOL_WORDS: [&str; 18] = [
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on",
    "On", "ON", "off", "Off", "OFF",
];

fn is_bool(text: &str) -> bool {
    BOOL_WORDS.contains(&text)
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// A tiny cursor over ASCII bytes; every pattern here is ASCII-only, so a
/// non-ASCII byte simply fails to match.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    /// Consumes one byte if it satisfies `pred`.
    fn eat(&mut self, pred: impl Fn(u8) -> bool) -> bool {
        match self.peek() {
            Some(b) if pred(b) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn eat_byte(&mut self, byte: u8) -> bool {
        self.eat(|b| b == byte)
    }

    fn eat_str(&mut self, text: &str) -> bool {
        if self.bytes[self.pos..].starts_with(text.as_bytes()) {
            self.pos += text.len();
            return true;
        }
        false
    }

    /// Consumes a run of bytes satisfying `pred`; returns its length.
    fn eat_while(&mut self, pred: impl Fn(u8) -> bool) -> usize {
        let start = self.pos;
        while self.eat(&pred) {}
        self.pos - start
    }

    fn eat_sign(&mut self) {
        self.eat(|b| b == b'-' || b == b'+');
    }
}

fn digit(b: u8) -> bool {
    b.is_ascii_digit()
}

fn digit_or_underscore(b: u8) -> bool {
    b.is_ascii_digit() || b == b'_'
}

/// `[-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
///  | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+`
pub(crate) fn is_int(text: &str) -> bool {
    let mut start = Cursor::new(text);
    start.eat_sign();
    let body = &text[start.pos..];
    let rest = |prefix: &str, pred: fn(u8) -> bool| {
        body.strip_prefix(prefix)
            .is_some_and(|r| !r.is_empty() && r.bytes().all(pred))
    };
    rest("0b", |b| b == b'0' || b == b'1' || b == b'_')
        || rest("0", |b| (b'0'..=b'7').contains(&b) || b == b'_')
        || body == "0"
        || rest("0x", |b| b.is_ascii_hexdigit() || b == b'_')
        || is_decimal_or_sexagesimal_int(body)
}

/// `[1-9][0-9_]*` optionally followed by `(?::[0-5]?[0-9])+`.
fn is_decimal_or_sexagesimal_int(body: &str) -> bool {
    let mut cur = Cursor::new(body);
    if !cur.eat(|b| (b'1'..=b'9').contains(&b)) {
        return false;
    }
    cur.eat_while(digit_or_underscore);
    while cur.peek() == Some(b':') {
        if !eat_base60_group(&mut cur) {
            return false;
        }
    }
    cur.at_end()
}

/// `:[0-5]?[0-9]`; the next byte after the group is never a digit, so the
/// greedy reading is the only one.
fn eat_base60_group(cur: &mut Cursor) -> bool {
    if !cur.eat_byte(b':') {
        return false;
    }
    let start = cur.pos;
    let run = cur.eat_while(digit);
    match run {
        1 => true,
        2 => (b'0'..=b'5').contains(&cur.bytes[start]),
        _ => false,
    }
}

/// The five alternatives of PyYAML's float pattern.
pub(crate) fn is_float(text: &str) -> bool {
    is_dotted_float(text)
        || is_leading_dot_float(text)
        || is_sexagesimal_float(text)
        || is_inf_or_nan(text)
}

/// `[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?`
fn is_dotted_float(text: &str) -> bool {
    let mut cur = Cursor::new(text);
    cur.eat_sign();
    if !cur.eat(digit) {
        return false;
    }
    cur.eat_while(digit_or_underscore);
    if !cur.eat_byte(b'.') {
        return false;
    }
    cur.eat_while(digit_or_underscore);
    eat_optional_exponent(&mut cur) && cur.at_end()
}

/// `\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?` (no sign allowed).
fn is_leading_dot_float(text: &str) -> bool {
    let mut cur = Cursor::new(text);
    if !cur.eat_byte(b'.') || !cur.eat(digit) {
        return false;
    }
    cur.eat_while(digit_or_underscore);
    eat_optional_exponent(&mut cur) && cur.at_end()
}

/// `(?:[eE][-+][0-9]+)?`; returns false only on a started but broken exponent.
fn eat_optional_exponent(cur: &mut Cursor) -> bool {
    if !cur.eat(|b| b == b'e' || b == b'E') {
        return true;
    }
    cur.eat(|b| b == b'-' || b == b'+') && cur.eat_while(digit) > 0
}

/// `[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*`
fn is_sexagesimal_float(text: &str) -> bool {
    let mut cur = Cursor::new(text);
    cur.eat_sign();
    if !cur.eat(digit) {
        return false;
    }
    cur.eat_while(digit_or_underscore);
    let mut groups = 0;
    while cur.peek() == Some(b':') {
        if !eat_base60_group(&mut cur) {
            return false;
        }
        groups += 1;
    }
    if groups == 0 || !cur.eat_byte(b'.') {
        return false;
    }
    cur.eat_while(digit_or_underscore);
    cur.at_end()
}

/// `[-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)`
fn is_inf_or_nan(text: &str) -> bool {
    let unsigned = text
        .strip_prefix('-')
        .or_else(|| text.strip_prefix('+'))
        .unwrap_or(text);
    matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN")
}

/// `\d{4}-\d\d-\d\d` or the full form
/// `\d{4}-\d\d?-\d\d?([Tt]|[ \t]+)\d\d?:\d\d:\d\d(\.\d*)?([ \t]*(Z|[-+]\d\d?(:\d\d)?))?`
pub(crate) fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    let date_only = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    date_only || is_full_timestamp(text)
}

fn eat_digits(cur: &mut Cursor, min: usize, max: usize) -> bool {
    let start = cur.pos;
    while cur.pos - start < max && cur.eat(digit) {}
    cur.pos - start >= min
}

fn is_full_timestamp(text: &str) -> bool {
    let mut cur = Cursor::new(text);
    let date = eat_digits(&mut cur, 4, 4)
        && cur.eat_byte(b'-')
        && eat_digits(&mut cur, 1, 2)
        && cur.eat_byte(b'-')
        && eat_digits(&mut cur, 1, 2);
    if !date {
        return false;
    }
    let separator = cur.eat(|b| b == b'T' || b == b't') || cur.eat_while(is_blank) > 0;
    let time = separator
        && eat_digits(&mut cur, 1, 2)
        && cur.eat_byte(b':')
        && eat_digits(&mut cur, 2, 2)
        && cur.eat_byte(b':')
        && eat_digits(&mut cur, 2, 2);
    if !time {
        return false;
    }
    if cur.eat_byte(b'.') {
        cur.eat_while(digit);
    }
    eat_optional_zone(&mut cur) && cur.at_end()
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?`; a run of blanks that is
/// not followed by a zone leaves trailing text, so the caller's end check fails.
fn eat_optional_zone(cur: &mut Cursor) -> bool {
    let save = cur.pos;
    cur.eat_while(is_blank);
    if cur.eat_byte(b'Z') {
        return true;
    }
    if cur.eat(|b| b == b'-' || b == b'+') {
        if !eat_digits(cur, 1, 2) {
            return false;
        }
        if cur.peek() == Some(b':') {
            return cur.eat_str(":") && eat_digits(cur, 2, 2);
        }
        return true;
    }
    cur.pos = save;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_pyyaml() {
        use Implicit::*;
        let cases = [
            ("yes", Bool),
            ("OFF", Bool),
            ("tRUE", Str),
            ("y", Str),
            ("", Null),
            ("~", Null),
            ("nULL", Str),
            ("007", Int),
            ("08", Str),
            ("0", Int),
            ("-0", Int),
            ("0b", Str),
            ("0b1_0", Int),
            ("0x", Str),
            ("0x_", Int),
            ("0o17", Str),
            ("1_000", Int),
            ("1:30", Int),
            ("1:60", Str),
            ("190:20:30", Int),
            ("1e5", Str),
            ("1.", Float),
            (".5", Float),
            ("-.5", Str),
            ("._", Str),
            ("1.5e3", Str),
            ("1.5e+3", Float),
            ("6.8523015e+5", Float),
            ("1:30.5", Float),
            ("+.inf", Float),
            ("-.nan", Str),
            (".NaN", Float),
            ("<<", Merge),
            ("=", Value),
            ("2024-01-01", Timestamp),
            ("2024-1-1", Str),
            ("2001-12-14t21:59:43.10-05:00", Timestamp),
            ("2001-12-14 21:59:43.10 -5", Timestamp),
            ("2001-12-14T21:59:43Z", Timestamp),
            ("2001-12-14T21:59:43 ", Str),
            ("a: b", Str),
        ];
        for (text, expected) in cases {
            assert_eq!(resolve_plain(text), expected, "{text:?}");
        }
    }
}
