//! A directory tree in the original's layout, `<root>/<type>/<id>.yaml|.json`: every
//! YAML/JSON file below the root is read (dot-entries skipped); writes are atomic.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use futures::future::BoxFuture;
use walkdir::WalkDir;

use super::file::write_atomically;
use super::parse::{read_resources, Encoding};
use super::{Context, Endpoint, Found, WriteSet};
use crate::exit_code::usage;
use crate::plan::Change;
use crate::report::{Op, Outcome, Status};
use crate::resource::Resource;

pub struct Directory {
    root: PathBuf,
}

impl Directory {
    pub fn new(root: PathBuf) -> Self {
        Directory { root }
    }

    /// `<root>/<type>/<id><ext>`, refusing names that could escape the root.
    fn path_for(&self, resource: &Resource, extension: &str) -> Result<PathBuf> {
        let kind = safe_segment(&resource.kind).ok_or_else(|| {
            usage(format!(
                "resource {}: type {:?} is not a safe file name",
                resource.uri, resource.kind
            ))
        })?;
        let id = resource.id_text();
        let id = safe_segment(&id).ok_or_else(|| {
            usage(format!(
                "resource {}: id {id:?} is not a safe file name",
                resource.uri
            ))
        })?;
        Ok(self.root.join(kind).join(format!("{id}{extension}")))
    }

    /// Files below the root this tool reads (and so may delete with `--rm`).
    fn resource_files(&self) -> impl Iterator<Item = Result<PathBuf>> + '_ {
        WalkDir::new(&self.root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !is_dot_entry(entry.path()))
            .filter_map(|entry| match entry {
                Ok(entry)
                    if entry.file_type().is_file() && encoding_for(entry.path()).is_some() =>
                {
                    Some(Ok(entry.into_path()))
                }
                Ok(_) => None,
                Err(error) => {
                    Some(Err(anyhow::Error::new(error)
                        .context(format!("reading {}", self.root.display()))))
                }
            })
    }

    /// Every target path, checked before the first write so bad input writes nothing.
    fn paths(&self, set: &WriteSet<'_>, extension: &str) -> Result<Vec<PathBuf>> {
        set.ordered()
            .map(|resource| self.path_for(resource, extension))
            .collect()
    }

    /// Files below the root that no resource of the set is written to.
    fn stale_files(&self, paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
        let written: HashSet<&PathBuf> = paths.iter().collect();
        let files = self.resource_files().collect::<Result<Vec<_>>>()?;
        Ok(files
            .into_iter()
            .filter(|path| !written.contains(path))
            .collect())
    }

    fn write_one(&self, path: &Path, content: &str, context: &Context<'_>) -> Result<Op> {
        let (op, _) = classify(path, content);
        if op == Op::Unchanged {
            return Ok(op);
        }
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("creating {}", folder.display()))?;
        }
        write_atomically(path, content.as_bytes())?;
        if context.config.verbose {
            eprintln!("wrote {}", path.display());
        }
        Ok(op)
    }

    /// `--rm`: delete resource files nobody wrote, then folders left empty.
    fn remove_stale(&self, paths: &[PathBuf], context: &Context<'_>) -> Result<()> {
        let stale = self.stale_files(paths)?;
        for path in &stale {
            std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
            if context.config.verbose {
                eprintln!("removed {}", path.display());
            }
            context
                .report
                .record(Outcome::for_file(Op::Delete, path, Status::Done(None)));
        }
        let folders: HashSet<&Path> = stale.iter().filter_map(|path| path.parent()).collect();
        for folder in folders {
            if folder != self.root
                && std::fs::read_dir(folder)
                    .map(|mut d| d.next().is_none())
                    .unwrap_or(false)
            {
                let _ = std::fs::remove_dir(folder);
            }
        }
        Ok(())
    }
}

impl Endpoint for Directory {
    fn read<'a>(
        &'a self,
        context: &'a Context<'a>,
        found: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            for path in self.resource_files() {
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

    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let paths = self.paths(set, context.config.format.extension())?;
            let mut stopped = false;
            for (resource, path) in set.ordered().zip(&paths) {
                let target = path.display().to_string();
                if stopped {
                    let reason = "not attempted after --fail-fast stopped the run".to_string();
                    context.report.record(Outcome::new(
                        Op::Update,
                        resource,
                        target,
                        Status::Skipped(reason),
                    ));
                    continue;
                }
                let content = context.config.format.serialize(&resource.body);
                let status = match self.write_one(path, &content, context) {
                    Ok(op) => Outcome::new(op, resource, target, Status::Done(None)),
                    Err(error) => {
                        stopped = context.config.fail_fast;
                        Outcome::new(
                            Op::Update,
                            resource,
                            target,
                            Status::Failed(format!("{error:#}")),
                        )
                    }
                };
                context.report.record(status);
            }
            if context.config.remove {
                if context.report.has_failures() {
                    eprintln!("resource-sync: a write failed, so no stale file is removed");
                } else {
                    self.remove_stale(&paths, context)?;
                }
            }
            Ok(())
        })
    }

    fn plan<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Vec<Change>>> {
        Box::pin(async move {
            let format = context.config.format;
            let paths = self.paths(set, format.extension())?;
            let mut changes: Vec<Change> = set
                .ordered()
                .zip(&paths)
                .map(|(resource, path)| {
                    let content = format.serialize(&resource.body);
                    let (op, before) = classify(path, &content);
                    Change::for_resource(op, resource, path.display().to_string())
                        .with_texts(before, Some(content))
                })
                .collect();
            if context.config.remove {
                for path in self.stale_files(&paths)? {
                    let outcome = Outcome::for_file(Op::Delete, &path, Status::Done(None));
                    changes.push(Change {
                        op: Op::Delete,
                        label: outcome.label,
                        uri: String::new(),
                        target: outcome.target,
                        before: std::fs::read_to_string(&path).ok(),
                        after: None,
                    });
                }
            }
            Ok(changes)
        })
    }
}

/// Whether writing `content` to `path` creates, updates or leaves it, and what it held.
fn classify(path: &Path, content: &str) -> (Op, Option<String>) {
    match std::fs::read(path) {
        Ok(existing) if existing == content.as_bytes() => (Op::Unchanged, None),
        Ok(existing) => (
            Op::Update,
            Some(String::from_utf8_lossy(&existing).into_owned()),
        ),
        Err(_) => (Op::Create, None),
    }
}

/// A type or id usable as one path segment: not empty, no separators or NUL, not `.`/`..`.
fn safe_segment(name: &str) -> Option<&str> {
    let unsafe_name =
        name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']);
    (!unsafe_name).then_some(name)
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
        for bad in ["", ".", "..", "a/b", "a\\b", "a\0b"] {
            assert_eq!(safe_segment(bad), None, "{bad:?}");
        }
        assert_eq!(safe_segment("player"), Some("player"));
        assert_eq!(safe_segment("..x"), Some("..x"));
    }
}
