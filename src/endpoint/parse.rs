//! Turning file and pipe contents into resources: YAML streams, JSON values, JSON Lines.
//! Shared by the directory, file and stdio endpoints so errors read the same everywhere.

use std::io::{BufRead, BufReader, Read};

use anyhow::Result;
use serde_json::Value;

use super::Found;
use crate::exit_code::ExitContext;
use crate::format::json_read::json_values;
use crate::format::yaml::YamlDocuments;
use crate::format::yaml_block::simple_document;
use crate::schema::Dialect;

/// Files up to this size are read whole, so the usual one-resource file can take the
/// quick YAML reader; larger ones stream.
pub const WHOLE_FILE_BYTES: u64 = 1024 * 1024;

/// How a stream of documents is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// One or more YAML documents.
    Yaml,
    /// JSON values one after another: one value, an array of resources, or JSON Lines.
    Json,
}

/// Read every resource from `reader`; `source` names it in errors, `folder` is the type
/// folder of a directory's file.
pub fn read_resources(
    reader: impl Read,
    encoding: Encoding,
    (source, folder): (&str, Option<&str>),
    schema: &dyn Dialect,
    found: &mut Found<'_>,
) -> Result<()> {
    let mut document = 0usize;
    let mut accept = |value: Value, where_: &str| -> Result<()> {
        document += 1;
        accept_document(
            value,
            (schema, folder),
            &format!("{source}, {where_}{document}"),
            found,
        )
    };
    match encoding {
        Encoding::Yaml => {
            for value in YamlDocuments::new(reader) {
                let value = value.usage_context(|| format!("reading {source}"))?;
                accept(value, "document ")?;
            }
        }
        Encoding::Json => {
            for value in json_values(reader) {
                let value = value.usage_context(|| format!("reading {source}"))?;
                match value {
                    Value::Array(items) => {
                        for item in items {
                            accept(item, "item ")?;
                        }
                    }
                    other => accept(other, "document ")?,
                }
            }
        }
    }
    Ok(())
}

/// `read_resources` for a file read whole (`head`) or begun (`head`, then `rest`): a file
/// of one mapping in the usual block style is read by the quick reader (`yaml_block`),
/// which leaves anything else, errors included, to the full parser.
pub fn read_file_resources(
    (head, rest): (&[u8], impl Read),
    encoding: Encoding,
    (source, folder): (&str, Option<&str>),
    schema: &dyn Dialect,
    found: &mut Found<'_>,
) -> Result<()> {
    let whole = head.len() as u64 <= WHOLE_FILE_BYTES;
    if encoding == Encoding::Yaml && whole {
        if let Some(value) = std::str::from_utf8(head).ok().and_then(simple_document) {
            let place = format!("{source}, document 1");
            return accept_document(value, (schema, folder), &place, found);
        }
    }
    read_resources(head.chain(rest), encoding, (source, folder), schema, found)
}

/// A document must be a resource; empty documents (a stray `---`) are passed over.
fn accept_document(
    value: Value,
    (schema, folder): (&dyn Dialect, Option<&str>),
    place: &str,
    found: &mut Found<'_>,
) -> Result<()> {
    if value.is_null() {
        return Ok(());
    }
    let resource = match folder {
        Some(folder) => schema.resource_in_folder(folder, value),
        None => schema.resource(value),
    };
    let resource = resource.usage_context(|| format!("reading {place}: not a resource"))?;
    found(resource)
}

/// Stdin is JSON when its first non-blank character is `{` or `[`, else YAML.
pub fn sniff_encoding<R: Read>(reader: R) -> std::io::Result<(Encoding, BufReader<R>)> {
    let mut reader = BufReader::new(reader);
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok((Encoding::Yaml, reader));
        }
        let blanks = buffer
            .iter()
            .take_while(|byte| byte.is_ascii_whitespace())
            .count();
        if blanks < buffer.len() {
            let encoding = match buffer[blanks] {
                b'{' | b'[' => Encoding::Json,
                _ => Encoding::Yaml,
            };
            return Ok((encoding, reader));
        }
        reader.consume(blanks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Resource;
    use crate::schema::Simple;

    fn read(text: &str, encoding: Encoding) -> Result<Vec<Resource>> {
        let mut out = Vec::new();
        read_resources(
            text.as_bytes(),
            encoding,
            ("input", None),
            &Simple,
            &mut |r| {
                out.push(r);
                Ok(())
            },
        )?;
        Ok(out)
    }

    #[test]
    fn json_lines_arrays_and_single_values() {
        let line = r#"{"id": 1, "type": "a", "uri": "/a/1"}"#;
        assert_eq!(
            read(&format!("{line}\n{line}\n"), Encoding::Json)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            read(&format!("[{line}, {line}]"), Encoding::Json)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(read(line, Encoding::Json).unwrap().len(), 1);
    }

    #[test]
    fn errors_name_source_and_document() {
        let text = "---\nid: 1\ntype: a\nuri: /a/1\n---\nid: 2\n";
        let error = read(text, Encoding::Yaml).unwrap_err().to_string();
        assert!(error.contains("input, document 2"), "{error}");
        assert!(error.contains("not a resource"), "{error}");
    }

    #[test]
    fn sniffing_skips_leading_blanks() {
        let (encoding, _) = sniff_encoding(&b"  \n [1]"[..]).unwrap();
        assert_eq!(encoding, Encoding::Json);
        let (encoding, _) = sniff_encoding(&b"---\nid: 1"[..]).unwrap();
        assert_eq!(encoding, Encoding::Yaml);
    }
}
