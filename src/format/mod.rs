//! Serialisation byte-identical to microcosm-resourcesync (PyYAML / Python json),
//! and the YAML 1.1 reader. `Format` is what a destination is written in.

pub mod json;
pub mod yaml;

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

    /// One resource serialised: a YAML document, or one JSON line.
    pub fn serialize(self, value: &Value) -> String {
        match self {
            Format::Yaml => yaml::to_yaml_document(value),
            Format::Json => json::to_json_line(value),
        }
    }
}
