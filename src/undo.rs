//! `--undo DIR DESTINATION` (SPEC section 12): the resources the backed-up run created
//! that the destination still holds are deleted, children first, then the run writes the
//! backup back as it writes any origin (parents first, compare-first); a directory's files
//! come back byte for byte. A single file is put back whole.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::Value;

use crate::backup::{Backup, Created};
use crate::config::Undo;
use crate::endpoint::{Context, Endpoint, EndpointSpec};
use crate::plan::{March, Stale};
use crate::report::{Op, Outcome, Status};
use crate::resource::{Identity, Resource};

/// What the backed-up run created, children first (the record lists them parents first).
pub fn created(undo: &Undo) -> Vec<Stale> {
    undo.record.created.iter().rev().map(as_stale).collect()
}

/// Delete what the backed-up run created (`created`), kept first in the undo's own
/// backup, if it has one; with `dry_run`, only say so.
pub async fn delete_created(
    created: &[Stale],
    (destination, spec): (&dyn Endpoint, &EndpointSpec),
    context: &Context<'_>,
    (dry_run, backup, march): (bool, Option<&Backup>, &March<'_>),
) -> Result<()> {
    let mut stale: Vec<Stale> = Vec::new();
    for entry in created {
        if still_there(entry, spec, march)? {
            stale.push(entry.clone());
        }
    }
    if dry_run {
        for entry in &stale {
            println!("delete {}", entry.target);
            let planned = Outcome::new(Op::Delete, &entry.resource, &entry.target, Status::Planned);
            context.report.record(planned);
        }
        return Ok(());
    }
    if let Some(backup) = backup {
        keep_created(backup, (spec, context), march, &stale)?;
    }
    destination.delete(&stale, context).await
}

/// One already gone is no error: it is left out. A file is looked for; an API's resource
/// is there unless the destination's read shows nothing at its place (a create recorded
/// before it was sent may never have been made).
fn still_there(created: &Stale, spec: &EndpointSpec, march: &March<'_>) -> Result<bool> {
    Ok(match spec {
        EndpointSpec::Directory(_) => Path::new(&created.target).is_file(),
        _ => march.op(&created.resource, None)? != Op::Create,
    })
}

fn as_stale(created: &Created) -> Stale {
    // Its id at the destination is the target's (a clone records the origin's id).
    let id = match crate::remap::id_of_uri(&created.target) {
        "" => created.id.clone(),
        id => Value::String(id.to_string()),
    };
    let identity = Identity {
        uri: created.target.clone(),
        id,
        kind: created.kind.clone(),
        parents: Vec::new(),
    };
    Stale {
        resource: Resource::new(identity, Value::Null),
        target: created.target.clone(),
        text: None,
    }
}

/// An undo kept in a backup of its own: the created are kept before they are deleted
/// (a directory's files as they are, an API's resources as it holds them), so undoing the
/// undo makes them again.
fn keep_created(
    backup: &Backup,
    (spec, context): (&EndpointSpec, &Context<'_>),
    march: &March<'_>,
    stale: &[Stale],
) -> Result<()> {
    for entry in stale {
        match spec {
            EndpointSpec::Directory(root) => {
                let file = Path::new(&entry.target);
                backup.save_file(file, file.strip_prefix(root).unwrap_or(file))?;
            }
            _ => {
                let resource = &entry.resource;
                if let Some(copy) = march.kept(resource)? {
                    let kept = context.identity_fields(resource);
                    backup.save_copy(resource, &copy, &kept)?;
                }
            }
        }
    }
    Ok(())
}

/// A single file put back: removed if the backed-up run created it, else its old content
/// written back (unless it already holds it), kept first in `backup` when the undo has one.
/// With `dry_run`, only said.
pub fn put_file_back(
    undo: &Undo,
    path: &Path,
    dry_run: bool,
    backup: Option<&Backup>,
) -> Result<Op> {
    let keep = || match backup {
        Some(backup) => crate::backup::keep_file(backup, path),
        None => Ok(()),
    };
    let created = undo
        .record
        .created
        .iter()
        .any(|created| Path::new(&created.target) == path);
    let saved = path.file_name().map(|name| undo.dir.join(name));
    let op = match saved.as_deref().filter(|saved| saved.is_file()) {
        Some(saved) => {
            let old =
                std::fs::read(saved).with_context(|| format!("reading {}", saved.display()))?;
            if std::fs::read(path).ok().as_deref() == Some(&old[..]) {
                return Ok(Op::Unchanged);
            }
            if !dry_run {
                keep()?;
                crate::atomic::write_atomically_with(path, |out| Ok(out.write_all(&old)?))?;
            }
            Op::Update
        }
        None if created && path.exists() => {
            if !dry_run {
                keep()?;
                std::fs::remove_file(path)
                    .with_context(|| format!("removing {}", path.display()))?;
            }
            Op::Delete
        }
        None => Op::Unchanged,
    };
    if dry_run && op != Op::Unchanged {
        println!("{} {}", op.as_str(), path.display());
    }
    Ok(op)
}

/// A directory put back byte for byte. The sync wrote each backed-up resource as
/// resource-sync writes files; where the file the backup keeps was written otherwise
/// (comments, flow style, another key order) and holds the same resources, its own bytes
/// replace what was written, kept first in the undo's backup when it has no copy yet.
/// A file that still differs in content (a failed write) is left as the sync left it.
pub fn restore_bytes(undo: &Undo, root: &Path, backup: Option<&Backup>) -> Result<()> {
    let files = walkdir::WalkDir::new(&undo.dir).min_depth(1).into_iter();
    for entry in files.filter_entry(|entry| !entry.file_name().to_string_lossy().starts_with('.')) {
        let entry = entry.with_context(|| format!("reading {}", undo.dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(&undo.dir).unwrap_or(entry.path());
        let target = root.join(relative);
        let saved = std::fs::read(entry.path())
            .with_context(|| format!("reading {}", entry.path().display()))?;
        let Ok(written) = std::fs::read(&target) else {
            continue;
        };
        if written == saved || !same_resources(&written, &saved) {
            continue;
        }
        if let Some(backup) = backup.filter(|backup| !backup.dir().join(relative).exists()) {
            backup.save_file(&target, relative)?;
        }
        crate::atomic::write_atomically_with(&target, |out| Ok(out.write_all(&saved)?))?;
    }
    Ok(())
}

/// Whether two files hold the same resources, read as a directory origin reads them.
fn same_resources(a: &[u8], b: &[u8]) -> bool {
    let parse =
        |bytes: &[u8]| crate::format::YamlDocuments::new(bytes).collect::<Result<Vec<Value>, _>>();
    matches!((parse(a), parse(b)), (Ok(a), Ok(b)) if a == b)
}
