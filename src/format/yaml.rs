//! YAML for resources: a writer byte-identical to PyYAML's `CSafeDumper` and a streaming,
//! bounded reader that resolves scalars like PyYAML's safe loader (YAML 1.1 rules).

pub use super::yaml_emit::to_yaml_document;

use super::yaml_construct::{check_collection_tag, construct_scalar, key_string, Scalar};
use super::yaml_input::{InputFault, InputState, Utf8Chars};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::sync::Arc;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

/// Bounds that keep hostile input from exhausting memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YamlLimits {
    /// Most nodes that expanding aliases may create in one document
    /// (each alias costs the node count of what it points to).
    pub max_alias_nodes: usize,
    /// Deepest nesting of sequences and mappings in one document.
    pub max_depth: usize,
    /// Largest document, counted in bytes read since the previous document
    /// ended (including the parser's few characters of look-ahead).
    pub max_document_bytes: usize,
}

impl Default for YamlLimits {
    fn default() -> Self {
        YamlLimits {
            max_alias_nodes: 100_000,
            max_depth: 128,
            max_document_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What went wrong while reading YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// The YAML is malformed (message from the parser).
    Syntax(String),
    /// A mapping repeats a key. PyYAML silently keeps the last value; we
    /// refuse, so that no data is lost without notice.
    DuplicateKey(String),
    /// Well-formed YAML the safe loader refuses or that has no JSON form
    /// (unknown tag, bad `!!int`, a collection as a mapping key, ...).
    Invalid(String),
    /// Expanding aliases would create more than this many nodes (unsafe input).
    AliasLimit(usize),
    /// Nesting is deeper than this (unsafe input).
    DepthLimit(usize),
    /// A document is larger than this many bytes (unsafe input).
    TooLarge(usize),
    /// The input is not UTF-8; `offset` is the byte where decoding failed.
    InvalidUtf8 { offset: u64 },
    /// Reading the input failed.
    Io(String),
}

/// An error with its place: 1-based document number and 1-based line in
/// the whole stream, when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct YamlError {
    kind: YamlErrorKind,
    document: Option<usize>,
    line: Option<usize>,
}

impl YamlError {
    /// 1-based number of the document being read when the error happened
    /// (`None` for stream-level failures: invalid UTF-8, I/O).
    pub fn document(&self) -> Option<usize> {
        self.document
    }

    /// 1-based line in the whole stream, when the error has one.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    pub fn kind(&self) -> &YamlErrorKind {
        &self.kind
    }

    /// True for the resource-limit errors (aliases, depth, size).
    pub fn is_unsafe_input(&self) -> bool {
        matches!(
            self.kind,
            YamlErrorKind::AliasLimit(_)
                | YamlErrorKind::DepthLimit(_)
                | YamlErrorKind::TooLarge(_)
        )
    }

    fn render(&self) -> String {
        let place = match (self.document, self.line) {
            (Some(doc), Some(line)) => format!("document {doc}, line {line}: "),
            (Some(doc), None) => format!("document {doc}: "),
            _ => String::new(),
        };
        format!("{place}{}", self.kind)
    }
}

impl fmt::Display for YamlErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            YamlErrorKind::Syntax(message) | YamlErrorKind::Invalid(message) => {
                f.write_str(message)
            }
            YamlErrorKind::DuplicateKey(key) => write!(f, "duplicate key {key:?}"),
            YamlErrorKind::AliasLimit(limit) => {
                write!(f, "alias expansion exceeds {limit} nodes (unsafe input)")
            }
            YamlErrorKind::DepthLimit(limit) => {
                write!(f, "nesting deeper than {limit} (unsafe input)")
            }
            YamlErrorKind::TooLarge(limit) => write!(f, "larger than {limit} bytes (unsafe input)"),
            YamlErrorKind::InvalidUtf8 { offset } => write!(f, "invalid UTF-8 at byte {offset}"),
            YamlErrorKind::Io(message) => write!(f, "read error: {message}"),
        }
    }
}

/// A failure inside one document, before the document number is attached.
struct Fault {
    kind: YamlErrorKind,
    line: Option<usize>,
}

impl Fault {
    fn at(kind: YamlErrorKind, mark: &Marker) -> Self {
        Fault {
            kind,
            line: Some(mark.line()),
        }
    }

    fn unplaced(kind: YamlErrorKind) -> Self {
        Fault { kind, line: None }
    }
}

/// Reads YAML documents one at a time from any reader, in bounded memory:
/// input is decoded incrementally and only the current document is held.
///
/// Values follow PyYAML's safe loader with these deliberate differences:
/// * duplicate keys in one mapping are an error (PyYAML keeps the last),
///   including keys that only collide once stringified (`1` and `"1"`);
///   keys merged in with `<<` may be overridden as in PyYAML;
/// * scalar keys become strings (`1` -> `"1"`, `true` -> `"true"`,
///   `null` -> `"null"`, `1.5` -> `"1.5"`), as `json.dumps` would write them;
///   PyYAML keeps non-string keys. A sequence or mapping as a key is an error;
/// * `.inf`/`-.inf`/`.nan` become the strings `".inf"`/`"-.inf"`/`".nan"`,
///   timestamps stay the string as written, `!!binary` becomes its base64
///   text without whitespace, integers beyond i64/u64 become f64;
/// * `!!set`, `!!omap`, `!!pairs` and all non-core tags are refused;
/// * an empty document yields `Value::Null` (the caller decides what it means);
/// * parsing is yaml-rust2's (YAML 1.2 syntax) with a YAML 1.1 resolver on top;
///   raw U+0085 is read as a line break as libyaml does, but raw U+2028/U+2029
///   stay content, a tab after `:` is refused, and flow plain scalars ending
///   in ` -` before `,`/`]`/`}` are refused (libyaml accepts these).
///
/// The iterator stops after the first error.
pub struct YamlDocuments<R: Read> {
    parser: Parser<Utf8Chars<R>>,
    input: Arc<InputState>,
    limits: YamlLimits,
    /// Documents started so far.
    started: usize,
    in_document: bool,
    builder: Builder,
    finished: bool,
}

impl<R: Read> YamlDocuments<R> {
    pub fn new(reader: R) -> Self {
        Self::with_limits(reader, YamlLimits::default())
    }

    pub fn with_limits(reader: R, limits: YamlLimits) -> Self {
        let input = Arc::new(InputState::default());
        let chars = Utf8Chars::new(reader, limits.max_document_bytes, Arc::clone(&input));
        YamlDocuments {
            parser: Parser::new(chars),
            input,
            limits,
            started: 0,
            in_document: false,
            builder: Builder::new(limits),
            finished: false,
        }
    }

    fn current_document(&self) -> usize {
        if self.in_document {
            self.started
        } else {
            self.started + 1
        }
    }

    /// Attaches the document number; the decoder's own faults (bad UTF-8,
    /// size limit, I/O) take precedence, as they are why the parser stopped.
    fn fail(&mut self, fault: Fault) -> YamlError {
        self.finished = true;
        let fault = match self.input.take_fault() {
            Some(input_fault) => self.input_fault(input_fault),
            None => fault,
        };
        let document = match fault.kind {
            YamlErrorKind::InvalidUtf8 { .. } | YamlErrorKind::Io(_) => None,
            _ => Some(self.current_document()),
        };
        YamlError {
            kind: fault.kind,
            document,
            line: fault.line,
        }
    }

    fn input_fault(&self, fault: InputFault) -> Fault {
        Fault::unplaced(match fault {
            InputFault::InvalidUtf8 { offset } => YamlErrorKind::InvalidUtf8 { offset },
            InputFault::TooLarge => YamlErrorKind::TooLarge(self.limits.max_document_bytes),
            InputFault::Io(message) => YamlErrorKind::Io(message),
        })
    }

    /// Feeds parser events to the builder until a document completes.
    fn next_document(&mut self) -> Result<Option<Value>, Fault> {
        loop {
            let (event, mark) = self.parser.next_token().map_err(syntax_fault)?;
            if let Some(fault) = self.input.take_fault() {
                return Err(self.input_fault(fault));
            }
            match event {
                Event::StreamEnd => return Ok(None),
                Event::StreamStart | Event::Nothing => {}
                Event::DocumentStart => {
                    self.started += 1;
                    self.in_document = true;
                    self.builder = Builder::new(self.limits);
                }
                Event::DocumentEnd => {
                    self.in_document = false;
                    self.input.mark_document_start();
                    return Ok(Some(self.builder.take_root()));
                }
                other => self.builder.event(other, &mark)?,
            }
        }
    }
}

fn syntax_fault(error: ScanError) -> Fault {
    Fault::at(
        YamlErrorKind::Syntax(error.info().to_string()),
        error.marker(),
    )
}

impl<R: Read> Iterator for YamlDocuments<R> {
    type Item = Result<Value, YamlError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.next_document() {
            Ok(Some(value)) => Some(Ok(value)),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(fault) => Some(Err(self.fail(fault))),
        }
    }
}

/// A finished node with the sizes the limits need.
#[derive(Debug, Clone)]
struct Node {
    value: Value,
    /// Nodes in this subtree (itself included).
    nodes: usize,
    /// Collection levels in this subtree (0 for a scalar).
    height: usize,
}

/// What the next node in a mapping is for.
enum Slot {
    Key,
    Value { key: String },
    Merge,
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        nodes: usize,
        height: usize,
    },
    Map {
        entries: Map<String, Value>,
        /// Maps merged in with `<<`, in PyYAML's order: later ones win, and
        /// explicit entries win over all of them.
        merges: Vec<Map<String, Value>>,
        slot: Slot,
        anchor: usize,
        nodes: usize,
        height: usize,
    },
}

/// Builds one document's value from parser events.
struct Builder {
    limits: YamlLimits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    expanded: usize,
    root: Option<Value>,
}

impl Builder {
    fn new(limits: YamlLimits) -> Self {
        Builder {
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            expanded: 0,
            root: None,
        }
    }

    fn take_root(&mut self) -> Value {
        self.root.take().unwrap_or(Value::Null)
    }

    fn event(&mut self, event: Event, mark: &Marker) -> Result<(), Fault> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.scalar(text, style, anchor, tag.as_ref(), mark)
            }
            Event::Alias(id) => self.alias(id, mark),
            Event::SequenceStart(anchor, tag) => self.open(false, anchor, tag.as_ref(), mark),
            Event::MappingStart(anchor, tag) => self.open(true, anchor, tag.as_ref(), mark),
            Event::SequenceEnd | Event::MappingEnd => self.close(mark),
            _ => Ok(()),
        }
    }

    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Map {
                slot: Slot::Key,
                ..
            })
        )
    }

    fn scalar(
        &mut self,
        text: String,
        style: TScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        mark: &Marker,
    ) -> Result<(), Fault> {
        let invalid = |message| Fault::at(YamlErrorKind::Invalid(message), mark);
        let as_key = self.expects_key();
        let scalar = construct_scalar(text, style, tag, as_key).map_err(invalid)?;
        let value = match scalar {
            Scalar::Merge if as_key => return self.set_slot(Slot::Merge),
            // Like the safe loader: `<<` resolves to the merge tag, which has
            // no constructor outside key position.
            Scalar::Merge => {
                let message = "could not determine a constructor for the merge tag";
                return Err(invalid(message.to_string()));
            }
            Scalar::Value(value) => value,
        };
        let node = Node {
            value,
            nodes: 1,
            height: 0,
        };
        self.finish(node, anchor, mark)
    }

    fn alias(&mut self, id: usize, mark: &Marker) -> Result<(), Fault> {
        let Some(node) = self.anchors.get(&id) else {
            let message = "found undefined alias".to_string();
            return Err(Fault::at(YamlErrorKind::Invalid(message), mark));
        };
        self.expanded = self.expanded.saturating_add(node.nodes);
        if self.expanded > self.limits.max_alias_nodes {
            let limit = self.limits.max_alias_nodes;
            return Err(Fault::unplaced(YamlErrorKind::AliasLimit(limit)));
        }
        if self.stack.len() + node.height > self.limits.max_depth {
            let limit = self.limits.max_depth;
            return Err(Fault::unplaced(YamlErrorKind::DepthLimit(limit)));
        }
        let node = node.clone();
        self.finish(node, 0, mark)
    }

    fn open(
        &mut self,
        mapping: bool,
        anchor: usize,
        tag: Option<&Tag>,
        mark: &Marker,
    ) -> Result<(), Fault> {
        if self.expects_key() {
            let message = "a sequence or mapping cannot be a mapping key".to_string();
            return Err(Fault::at(YamlErrorKind::Invalid(message), mark));
        }
        check_collection_tag(tag, mapping)
            .map_err(|message| Fault::at(YamlErrorKind::Invalid(message), mark))?;
        if self.stack.len() >= self.limits.max_depth {
            let limit = self.limits.max_depth;
            return Err(Fault::unplaced(YamlErrorKind::DepthLimit(limit)));
        }
        self.stack.push(if mapping {
            Frame::Map {
                entries: Map::new(),
                merges: Vec::new(),
                slot: Slot::Key,
                anchor,
                nodes: 1,
                height: 1,
            }
        } else {
            Frame::Seq {
                items: Vec::new(),
                anchor,
                nodes: 1,
                height: 1,
            }
        });
        Ok(())
    }

    fn close(&mut self, mark: &Marker) -> Result<(), Fault> {
        let (node, anchor) = match self.stack.pop() {
            Some(Frame::Seq {
                items,
                anchor,
                nodes,
                height,
            }) => (
                Node {
                    value: Value::Array(items),
                    nodes,
                    height,
                },
                anchor,
            ),
            Some(Frame::Map {
                entries,
                merges,
                anchor,
                nodes,
                height,
                ..
            }) => (
                Node {
                    value: Value::Object(apply_merges(entries, merges)),
                    nodes,
                    height,
                },
                anchor,
            ),
            None => return Ok(()),
        };
        self.finish(node, anchor, mark)
    }

    /// Records an anchor, then places the node in its parent (or as root).
    fn finish(&mut self, node: Node, anchor: usize, mark: &Marker) -> Result<(), Fault> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node.value);
            return Ok(());
        };
        match frame {
            Frame::Seq {
                items,
                nodes,
                height,
                ..
            } => {
                *nodes = nodes.saturating_add(node.nodes);
                *height = (*height).max(node.height + 1);
                items.push(node.value);
                Ok(())
            }
            Frame::Map {
                entries,
                merges,
                slot,
                nodes,
                height,
                ..
            } => {
                *nodes = nodes.saturating_add(node.nodes);
                *height = (*height).max(node.height + 1);
                fill_slot(entries, merges, slot, node.value, mark)
            }
        }
    }

    fn set_slot(&mut self, new_slot: Slot) -> Result<(), Fault> {
        if let Some(Frame::Map { slot, .. }) = self.stack.last_mut() {
            *slot = new_slot;
        }
        Ok(())
    }
}

/// Puts a finished node into a mapping according to what the mapping awaits.
fn fill_slot(
    entries: &mut Map<String, Value>,
    merges: &mut Vec<Map<String, Value>>,
    slot: &mut Slot,
    value: Value,
    mark: &Marker,
) -> Result<(), Fault> {
    match std::mem::replace(slot, Slot::Key) {
        Slot::Key => {
            let key = key_string(&value).ok_or_else(|| {
                let message = "a sequence or mapping cannot be a mapping key".to_string();
                Fault::at(YamlErrorKind::Invalid(message), mark)
            })?;
            if entries.contains_key(&key) {
                return Err(Fault::at(YamlErrorKind::DuplicateKey(key), mark));
            }
            *slot = Slot::Value { key };
            Ok(())
        }
        Slot::Value { key } => {
            entries.insert(key, value);
            Ok(())
        }
        Slot::Merge => add_merge(merges, value, mark),
    }
}

/// `<<: {map}` merges one map; `<<: [m1, m2]` merges several where earlier
/// ones win, so they are stored reversed (later stored entries overwrite).
fn add_merge(
    merges: &mut Vec<Map<String, Value>>,
    value: Value,
    mark: &Marker,
) -> Result<(), Fault> {
    let invalid = || {
        let message = "expected a mapping or list of mappings for merging".to_string();
        Fault::at(YamlErrorKind::Invalid(message), mark)
    };
    match value {
        Value::Object(map) => merges.push(map),
        Value::Array(items) => {
            let mut maps = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Object(map) => maps.push(map),
                    _ => return Err(invalid()),
                }
            }
            merges.extend(maps.into_iter().rev());
        }
        _ => return Err(invalid()),
    }
    Ok(())
}

fn apply_merges(
    entries: Map<String, Value>,
    merges: Vec<Map<String, Value>>,
) -> Map<String, Value> {
    if merges.is_empty() {
        return entries;
    }
    let mut result = Map::new();
    for merged in merges {
        result.extend(merged);
    }
    result.extend(entries);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const WRITER_CASES: &str = include_str!("../../fixtures/format/writer_cases.json");
    const WRITER_EXPECTED: &str = include_str!("../../fixtures/format/writer_expected.json");
    const READER_CASES: &str = include_str!("../../fixtures/format/reader_cases.json");

    /// A golden corpus, read as the tool reads JSON (floats by value, not by spelling).
    fn corpus(text: &str) -> Vec<Value> {
        match crate::format::json_read::json_document(text.as_bytes()).unwrap() {
            Value::Array(cases) => cases,
            other => panic!("a corpus is an array, not {other}"),
        }
    }

    fn field<'a>(case: &'a Value, name: &str) -> &'a Value {
        case.get(name).unwrap_or(&Value::Null)
    }

    /// (name, input value, expected YAML, expected JSON) for every golden case.
    fn writer_corpus() -> Vec<(String, Value, String, String)> {
        let cases = corpus(WRITER_CASES);
        let expected = corpus(WRITER_EXPECTED);
        assert_eq!(cases.len(), expected.len());
        cases
            .iter()
            .zip(&expected)
            .map(|(case, want)| {
                let name = field(case, "name").as_str().unwrap().to_string();
                assert_eq!(field(want, "name").as_str(), Some(name.as_str()));
                let yaml = field(want, "yaml").as_str().unwrap().to_string();
                let json = field(want, "json").as_str().unwrap().to_string();
                (name, field(case, "value").clone(), yaml, json)
            })
            .collect()
    }

    fn report(failures: &[String], total: usize) {
        assert!(
            failures.is_empty(),
            "{} of {total} cases differ; first ones:\n{}",
            failures.len(),
            failures
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[test]
    fn writer_matches_reference_corpus() {
        let corpus = writer_corpus();
        let mut failures = Vec::new();
        for (name, value, yaml, _) in &corpus {
            let got = to_yaml_document(value);
            if &got != yaml {
                failures.push(format!("{name}:\n--- want\n{yaml}--- got\n{got}"));
            }
        }
        report(&failures, corpus.len());
    }

    #[test]
    fn json_matches_reference_corpus() {
        let corpus = writer_corpus();
        let mut failures = Vec::new();
        for (name, value, _, json) in &corpus {
            let got = crate::format::to_json_line(value);
            if &got != json {
                failures.push(format!("{name}:\nwant {json}got  {got}"));
            }
        }
        report(&failures, corpus.len());
    }

    fn read_all(text: &str) -> Result<Vec<Value>, YamlError> {
        YamlDocuments::new(text.as_bytes()).collect()
    }

    #[test]
    fn writer_output_reads_back() {
        let corpus = writer_corpus();
        let mut failures = Vec::new();
        for (name, value, yaml, _) in &corpus {
            match read_all(yaml) {
                Ok(docs) if docs == vec![value.clone()] => {}
                other => failures.push(format!("{name}: {other:?}\n{yaml}")),
            }
        }
        report(&failures, corpus.len());
    }

    #[test]
    fn reader_matches_reference_corpus() {
        let cases = corpus(READER_CASES);
        let mut failures = Vec::new();
        let mut gaps = 0;
        for case in &cases {
            let name = field(case, "name");
            if field(case, "gap").is_string() {
                // A documented difference from libyaml; see generate.py.
                gaps += 1;
                continue;
            }
            let text = field(case, "yaml").as_str().unwrap();
            let got = read_all(text);
            match (field(case, "docs"), &got) {
                (Value::Array(want), Ok(docs)) if want == docs => {}
                (Value::Null, Err(_)) => {}
                (want, _) => failures.push(format!("{name}: want {want}, got {got:?}")),
            }
        }
        // Each gap is explained in generate.py; keep them rare.
        assert!(gaps <= 12, "{gaps} documented reader gaps");
        report(&failures, cases.len());
    }

    #[test]
    fn error_messages_name_document_and_line() {
        let err = read_all("a: 1\n---\nb: 1\nc: 2\nb: 3\n").unwrap_err();
        assert_eq!(err.to_string(), "document 2, line 5: duplicate key \"b\"");
        assert_eq!(err.document(), Some(2));
        assert!(!err.is_unsafe_input());
        let err = read_all("a: 1\n---\nb: [1,\n").unwrap_err();
        assert_eq!(err.document(), Some(2));
        assert!(err.to_string().starts_with("document 2, line "), "{err}");
        let bad: &[u8] = b"a: b\nc: \xff";
        let err = YamlDocuments::new(bad).next().unwrap().unwrap_err();
        assert_eq!(err.to_string(), "invalid UTF-8 at byte 8");
    }

    #[test]
    fn reads_documents_lazily() {
        let mut docs = YamlDocuments::new("a: 1\n---\nb: [\n".as_bytes());
        assert_eq!(docs.next().unwrap().unwrap(), json!({"a": 1}));
        assert!(docs.next().unwrap().is_err());
        assert!(docs.next().is_none());
    }

    /// An endless stream of small documents: reading must not wait for EOF.
    struct Endless {
        served: usize,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let doc = b"---\nname: x\nitems: [1, 2]\n";
            let n = buf.len().min(doc.len());
            let start = self.served % doc.len();
            let n = n.min(doc.len() - start);
            buf[..n].copy_from_slice(&doc[start..start + n]);
            self.served += n;
            Ok(n)
        }
    }

    #[test]
    fn streams_without_reading_everything() {
        let mut docs = YamlDocuments::new(Endless { served: 0 });
        for _ in 0..1000 {
            let doc = docs.next().unwrap().unwrap();
            assert_eq!(doc, json!({"name": "x", "items": [1, 2]}));
        }
    }

    #[test]
    fn billion_laughs_fails_fast() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        for pair in names.windows(2) {
            let refs = vec![format!("*{}", pair[0]); 9].join(",");
            text.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
        }
        let start = std::time::Instant::now();
        let err = read_all(&text).unwrap_err();
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        assert!(err.is_unsafe_input());
        assert_eq!(
            err.to_string(),
            "document 1: alias expansion exceeds 100000 nodes (unsafe input)"
        );
    }

    #[test]
    fn depth_limit() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = read_all(&deep).unwrap_err();
        assert_eq!(
            err.to_string(),
            "document 1: nesting deeper than 128 (unsafe input)"
        );
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(read_all(&ok).is_ok());
        // Aliases cannot smuggle in extra depth.
        let nested = format!("a: &x {}{}\nb: [[*x]]\n", "[".repeat(126), "]".repeat(126));
        assert!(read_all(&nested).unwrap_err().is_unsafe_input());
    }

    #[test]
    fn size_limit() {
        let limits = YamlLimits {
            max_document_bytes: 1000,
            ..YamlLimits::default()
        };
        let text = format!("a: 1\n---\nb: 2\n---\nc: {}\n", "x".repeat(5000));
        let results: Vec<_> = YamlDocuments::with_limits(text.as_bytes(), limits).collect();
        assert_eq!(results.len(), 3);
        let err = results[2].as_ref().unwrap_err();
        assert_eq!(
            err.to_string(),
            "document 3: larger than 1000 bytes (unsafe input)"
        );
        assert!(err.is_unsafe_input());
    }

    #[test]
    fn empty_inputs() {
        assert_eq!(read_all("").unwrap(), Vec::<Value>::new());
        assert_eq!(read_all("# c\n").unwrap(), Vec::<Value>::new());
        assert_eq!(read_all("---\n").unwrap(), vec![Value::Null]);
    }
}
