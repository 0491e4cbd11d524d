//! Serialisation byte-identical to microcosm-resourcesync 2.0.0: JSON as Python's
//! `json.dumps(sort_keys=True)`, YAML as PyYAML's `CSafeDumper`; the YAML 1.1 reader.

pub mod json;
pub mod json_page;
pub mod json_read;
mod python_float;
pub mod yaml;
pub(crate) mod yaml_block;
mod yaml_construct;
mod yaml_emit;
mod yaml_input;
pub mod yaml_lines;
mod yaml_resolve;

pub use json::to_json_line;
pub use yaml::{to_yaml_document, YamlDocuments, YamlError, YamlErrorKind, YamlLimits};

use serde_json::Value;

/// The format resources are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// File extension with its dot, as the original names files.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Yaml => ".yaml",
            Format::Json => ".json",
        }
    }

    /// Media type sent with HTTP bodies.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Yaml => "application/yaml",
            Format::Json => "application/json",
        }
    }

    /// One resource parsed back from what `serialize` made of it, by the reader every
    /// other JSON goes through: a number then has the one spelling a server's copy of it
    /// has (`1e-07` and `1e-7` compared unequal as texts, so a push rewrote it each run).
    pub fn parse(self, text: &str) -> anyhow::Result<Value> {
        Ok(match self {
            Format::Yaml => YamlDocuments::new(text.as_bytes())
                .next()
                .unwrap_or(Ok(Value::Null))?,
            Format::Json => json_read::json_document(text.as_bytes())?,
        })
    }

    /// One resource serialised: a YAML document, or one JSON line.
    pub fn serialize(self, value: &Value) -> String {
        match self {
            Format::Yaml => yaml::to_yaml_document(value),
            Format::Json => json::to_json_line(value),
        }
    }
}
