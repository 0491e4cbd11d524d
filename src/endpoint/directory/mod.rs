//! A directory tree in the original's layout, `<root>/<type>/<id>.yaml|.json`: every
//! YAML/JSON file below the root is read (dot-entries skipped); writes stream through a stage.

mod stage;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use futures::future::BoxFuture;
use walkdir::WalkDir;

use super::parse::{read_resources, Encoding};
use super::{Context, Endpoint, Found, Stage, WriteSet};
use crate::plan::Change;
use crate::report::{Op, Outcome, Status};
use crate::resource::{without_fields, Resource};
use serde_json::Value;

pub use stage::DirectoryStage;

pub struct Directory {
    root: PathBuf,
}

impl Directory {
    pub fn new(root: PathBuf) -> Self {
        Directory { root }
    }
}

impl Endpoint for Directory {
    fn read<'a>(
        &'a self,
        context: &'a Context<'a>,
        found: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for path in resource_files(&self.root) {
                let path = path?;
                let Some(encoding) = encoding_for(&path) else {
                    continue;
                };
                let file =
                    File::open(&path).with_context(|| format!("opening {}", path.display()))?;
                let source = path.display().to_string();
                read_resources(
                    BufReader::new(file),
                    encoding,
                    &source,
                    context.schema,
                    found,
                )?;
            }
            Ok(())
        })
    }

    fn stage<'a>(&'a self, context: &Context<'_>) -> Result<Option<Box<dyn Stage + 'a>>> {
        let stage =
            DirectoryStage::open(&self.root, context.config.format, &context.config.ignore)?;
        Ok(Some(Box::new(stage)))
    }

    /// Writes go through the same stage as streaming pulls, fed from memory.
    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut stage =
                DirectoryStage::open(&self.root, context.config.format, &context.config.ignore)?;
            for resource in set.ordered() {
                stage.put(resource.clone())?;
            }
            Box::new(stage).commit(set, context).await
        })
    }

    fn plan<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Vec<Change>>> {
        Box::pin(async move {
            let format = context.config.format;
            let layout = Layout::new(&self.root, format.extension());
            let paths = set
                .ordered()
                .map(|resource| layout.path_for(resource).map_err(crate::exit_code::usage))
                .collect::<Result<Vec<_>>>()?;
            let mut changes: Vec<Change> = set
                .ordered()
                .zip(&paths)
                .map(|(resource, path)| {
                    let content = format.serialize(&resource.body);
                    let (op, before) =
                        classify(path, &content, &resource.body, &context.config.ignore);
                    Change::for_resource(op, resource, path.display().to_string())
                        .with_texts(before, Some(content))
                })
                .collect();
            if context.config.remove {
                for path in stale_files(&self.root, &paths)? {
                    let outcome = Outcome::for_file(Op::Delete, &path, Status::Done(None));
                    changes.push(Change {
                        op: Op::Delete,
                        kind: outcome.kind,
                        id: outcome.id,
                        uri: String::new(),
                        target: outcome.target,
                        before: std::fs::read_to_string(&path).ok(),
                        after: None,
                        source: None,
                    });
                }
            }
            Ok(changes)
        })
    }
}

/// Where each resource's file goes: `<root>/<type>/<id><extension>`.
struct Layout<'a> {
    root: &'a Path,
    extension: &'static str,
}

impl<'a> Layout<'a> {
    fn new(root: &'a Path, extension: &'static str) -> Self {
        Layout { root, extension }
    }

    /// The file path, or why the type or id would escape the root.
    fn path_for(&self, resource: &Resource) -> Result<PathBuf, String> {
        let kind = safe_segment(&resource.kind).ok_or_else(|| {
            format!(
                "resource {}: type {:?} is not a safe file name",
                resource.uri, resource.kind
            )
        })?;
        let id = resource.id_text();
        let id = safe_segment(&id).ok_or_else(|| {
            format!(
                "resource {}: id {id:?} is not a safe file name",
                resource.uri
            )
        })?;
        Ok(self.root.join(kind).join(format!("{id}{}", self.extension)))
    }
}

/// Files below the root this tool reads (and so may delete with `--rm`), sorted.
fn resource_files(root: &Path) -> impl Iterator<Item = Result<PathBuf>> + '_ {
    WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_dot_entry(entry.path()))
        .filter_map(move |entry| match entry {
            Ok(entry) if entry.file_type().is_file() && encoding_for(entry.path()).is_some() => {
                Some(Ok(entry.into_path()))
            }
            Ok(_) => None,
            Err(error) => Some(Err(
                anyhow::Error::new(error).context(format!("reading {}", root.display()))
            )),
        })
}

/// Resource files below the root that none of `paths` names.
fn stale_files(root: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    if !root.exists() {
        return Ok(Vec::new());
    }
    let written: std::collections::HashSet<&PathBuf> = paths.iter().collect();
    let files = resource_files(root).collect::<Result<Vec<_>>>()?;
    Ok(files
        .into_iter()
        .filter(|path| !written.contains(path))
        .collect())
}

/// Whether writing `content` to `path` creates, updates or leaves it, and what it held.
fn classify(
    path: &Path,
    content: &str,
    body: &Value,
    ignore: &[Vec<String>],
) -> (Op, Option<String>) {
    match std::fs::read(path) {
        Ok(existing) if same_content(path, &existing, content, body, ignore) => {
            (Op::Unchanged, None)
        }
        Ok(existing) => (
            Op::Update,
            Some(String::from_utf8_lossy(&existing).into_owned()),
        ),
        Err(_) => (Op::Create, None),
    }
}

/// A file is unchanged when it holds exactly the new text, or (with `--ignore`) when
/// what it holds differs from the new resource only at ignored fields.
fn same_content(
    path: &Path,
    existing: &[u8],
    content: &str,
    body: &Value,
    ignore: &[Vec<String>],
) -> bool {
    if existing == content.as_bytes() {
        return true;
    }
    if ignore.is_empty() {
        return false;
    }
    let old = match encoding_for(path) {
        Some(Encoding::Json) => serde_json::from_slice::<Value>(existing).ok(),
        _ => crate::format::yaml::YamlDocuments::new(existing)
            .next()
            .and_then(Result::ok),
    };
    old.is_some_and(|old| without_fields(&old, ignore) == without_fields(body, ignore))
}

/// A type or id usable as one path segment on any system: not empty, not `.`/`..`, no
/// separators or control characters (NUL included), no trailing dot or space (Windows
/// drops them), and not a device name Windows reserves (`CON`, `nul.yaml`, `COM1`...).
fn safe_segment(name: &str) -> Option<&str> {
    let unsafe_name = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
        || name.ends_with(['.', ' '])
        || is_windows_device(name);
    (!unsafe_name).then_some(name)
}

/// Windows reserves these names with any extension, in any case.
fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or(name)
        .trim_end()
        .to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ["COM", "LPT"].iter().any(|prefix| {
            stem.strip_prefix(prefix).is_some_and(|digit| {
                digit.len() == 1 && digit.as_bytes()[0].is_ascii_digit() && digit != "0"
            })
        })
}

fn is_dot_entry(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with('.'))
}

fn encoding_for(path: &Path) -> Option<Encoding> {
    match path.extension()?.to_str()? {
        "yaml" | "yml" => Some(Encoding::Yaml),
        "json" => Some(Encoding::Json),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_segments_are_refused() {
        for bad in [
            "", ".", "..", "a/b", "a\\b", "a\0b", "a\nb", "CON", "con", "nul.txt", "Aux", "COM1",
            "lpt9", "x.", "x ", "/abs",
        ] {
            assert_eq!(safe_segment(bad), None, "{bad:?}");
        }
        for good in [
            "player", "..x", "COM0", "COM10", "console", "x.y", "naïve", "a:b",
        ] {
            assert_eq!(safe_segment(good), Some(good), "{good:?}");
        }
    }
}
