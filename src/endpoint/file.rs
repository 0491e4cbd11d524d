//! One file holding every resource: multi-document YAML, a JSON array, or JSON Lines.
//! Written whole and atomically; an existing file is replaced only with `--rm`.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use futures::future::BoxFuture;

use super::inventory::ReadBack;
use super::parse::{read_resources, Encoding};
use super::spill::{Layout, Spill, SpillStage};
use super::{Context, Endpoint, Found, Stage, WriteSet};
use crate::exit_code::usage;
use crate::plan::{Decision, Inventory, March};

/// Which single-file layout, decided by the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.yaml`/`.yml`: `---` before each resource.
    Yaml,
    /// `.json`: one array of resources.
    Json,
    /// `.jsonl`/`.ndjson`: one resource per line.
    JsonLines,
}

impl FileKind {
    pub fn from_path(argument: &str) -> Option<FileKind> {
        let kinds = [
            (".yaml", FileKind::Yaml),
            (".yml", FileKind::Yaml),
            (".json", FileKind::Json),
            (".jsonl", FileKind::JsonLines),
            (".ndjson", FileKind::JsonLines),
        ];
        kinds
            .into_iter()
            .find(|(extension, _)| argument.ends_with(extension))
            .map(|(_, kind)| kind)
    }
}

pub struct FileEndpoint {
    path: PathBuf,
    kind: FileKind,
}

impl FileEndpoint {
    pub fn new(path: PathBuf, kind: FileKind) -> Self {
        FileEndpoint { path, kind }
    }

    fn layout(&self) -> Layout {
        match self.kind {
            FileKind::Json => Layout::JsonArray,
            FileKind::Yaml | FileKind::JsonLines => Layout::Documents,
        }
    }

    /// Replace the file, atomically, with the spilled resources in write order.
    fn write_spill(&self, spill: Spill, set: &WriteSet<'_>, context: &Context<'_>) -> Result<()> {
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        write_atomically_with(&self.path, |out| {
            spill.copy_in_order(set, self.layout(), out, context)
        })?;
        if context.config.verbose {
            eprintln!("wrote {}", self.path.display());
        }
        Ok(())
    }
}

impl Endpoint for FileEndpoint {
    fn check_writable(&self, context: &Context<'_>) -> Result<()> {
        if self.path.exists() && !context.config.remove {
            return Err(usage(format!(
                "file already exists: {}; use --rm to replace it",
                self.path.display()
            )));
        }
        Ok(())
    }

    fn read<'a>(
        &'a self,
        context: &'a Context<'a>,
        found: &'a mut Found<'_>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let file = File::open(&self.path)
                .with_context(|| format!("opening {}", self.path.display()))?;
            let encoding = if self.kind == FileKind::Yaml {
                Encoding::Yaml
            } else {
                Encoding::Json
            };
            let source = self.path.display().to_string();
            read_resources(
                BufReader::new(file),
                encoding,
                &source,
                context.dialect,
                found,
            )
        })
    }

    /// The file as written, read back through this endpoint.
    fn verify_inventory<'a>(
        &'a self,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn Inventory + 'a>>> {
        Box::pin(
            async move { Ok(Box::new(ReadBack::of(self, context).await?) as Box<dyn Inventory>) },
        )
    }

    fn stage<'a>(
        &'a self,
        _march: &'a March<'a>,
        context: &Context<'_>,
    ) -> Result<Option<Box<dyn Stage + 'a>>> {
        let finish = move |spill: Spill, set: &WriteSet<'_>, context: &Context<'_>| {
            self.write_spill(spill, set, context)
        };
        Ok(Some(Box::new(SpillStage::new(
            context.config.format,
            finish,
        )?)))
    }

    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        _decisions: &'a [Decision],
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(
            async move { self.write_spill(Spill::of(set, context.config.format)?, set, context) },
        )
    }
}

/// Write through a temporary file in the same folder, then rename over the target,
/// so a reader (or an interrupted run) sees the old content or the new, never a part.
/// No fsync: the rename is atomic against the process dying (Ctrl-C, a kill), which is
/// what a sync must survive; an fsync would add only power-loss safety, at a high cost.
/// The content is written by `fill`.
pub fn write_atomically_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new()
        .prefix(".resource-sync-")
        .tempfile_in(folder)
        .with_context(|| format!("creating a temporary file in {}", folder.display()))?;
    {
        let mut out = std::io::BufWriter::new(temporary.as_file_mut());
        fill(&mut out).with_context(|| format!("writing {}", path.display()))?;
        out.flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    temporary
        .persist(path)
        .map_err(|error| error.error)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_extension() {
        assert_eq!(FileKind::from_path("a.yml"), Some(FileKind::Yaml));
        assert_eq!(FileKind::from_path("a.ndjson"), Some(FileKind::JsonLines));
        assert_eq!(FileKind::from_path("a.txt"), None);
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.yaml");
        write_atomically_with(&path, |out| Ok(out.write_all(b"one")?)).unwrap();
        write_atomically_with(&path, |out| Ok(out.write_all(b"two")?)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
