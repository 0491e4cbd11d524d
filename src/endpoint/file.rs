//! One file holding every resource: multi-document YAML, a JSON array, or JSON Lines.
//! Written whole and atomically; an existing file is replaced only with `--rm`.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use futures::future::BoxFuture;

use super::inventory::ReadBack;
use super::parse::{read_resources, Encoding};
use super::spill::{Sequence, Spill, SpillStage};
use super::{Context, Endpoint, Found, Stage, WriteSet};
use crate::atomic::write_atomically_with;
use crate::endpoint::spec::FileKind;
use crate::exit_code::usage;
use crate::plan::{Decision, Inventory, March};

pub struct FileEndpoint {
    path: PathBuf,
    kind: FileKind,
}

impl FileEndpoint {
    pub fn new(path: PathBuf, kind: FileKind) -> Self {
        FileEndpoint { path, kind }
    }

    fn sequence(&self) -> Sequence {
        match self.kind {
            FileKind::Json => Sequence::JsonArray,
            FileKind::Yaml | FileKind::JsonLines => Sequence::Documents,
        }
    }

    /// Replace the file, atomically, with the spilled resources in write order.
    fn write_spill(&self, spill: Spill, set: &WriteSet<'_>, context: &Context<'_>) -> Result<()> {
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        write_atomically_with(&self.path, |out| {
            spill.copy_in_order(set, self.sequence(), out, context)
        })?;
        if context.run.verbose {
            eprintln!("wrote {}", self.path.display());
        }
        Ok(())
    }
}

impl Endpoint for FileEndpoint {
    fn check_writable(&self, context: &Context<'_>) -> Result<()> {
        if self.path.exists() && !context.run.remove {
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
        let (path, kind) = (self.path.clone(), self.kind);
        let dialect = Arc::clone(context.dialect);
        let read = move |found: &mut Found<'_>| {
            let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
            let encoding = match kind {
                FileKind::Yaml => Encoding::Yaml,
                FileKind::Json | FileKind::JsonLines => Encoding::Json,
            };
            let source = path.display().to_string();
            read_resources(
                BufReader::new(file),
                encoding,
                (&source, None),
                &*dialect,
                found,
            )
        };
        // A file does not block for good: read here, Ctrl-C seen at the next resource.
        Box::pin(async move { read(found) })
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
            context.run.format,
            context.dialect,
            finish,
        )?)))
    }

    fn write<'a>(
        &'a self,
        set: &'a WriteSet<'a>,
        _decisions: &'a [Decision],
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.write_spill(
                Spill::of(set, context.run.format, context.dialect)?,
                set,
                context,
            )
        })
    }
}
