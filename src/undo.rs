//! `--undo DIR DESTINATION` (SPEC section 12): the resources the backed-up run created
//! are deleted, children first (the record lists them parents first, as they were
//! answered), then the run writes the backup back as it writes any origin: parents
//! first, compare-first. A single file is put back whole.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::Value;

use crate::backup::{Backup, Created};
use crate::config::Undo;
use crate::endpoint::{Context, Endpoint, EndpointSpec};
use crate::plan::Stale;
use crate::report::{Op, Outcome, Status};
use crate::resource::{Identity, Resource};

/// Delete what the backed-up run created; with `dry_run`, only say so.
pub async fn delete_created(
    undo: &Undo,
    (destination, spec): (&dyn Endpoint, &EndpointSpec),
    context: &Context<'_>,
    (dry_run, backup): (bool, Option<&Backup>),
) -> Result<()> {
    let stale: Vec<Stale> = undo
        .record
        .created
        .iter()
        .rev()
        .filter(|created| still_there(created, spec))
        .map(as_stale)
        .collect();
    if dry_run {
        for entry in &stale {
            println!("delete {}", entry.target);
            let planned = Outcome::new(Op::Delete, &entry.resource, &entry.target, Status::Planned);
            context.report.record(planned);
        }
        return Ok(());
    }
    if let Some(backup) = backup {
        keep_created(backup, (spec, destination), &stale, context).await?;
    }
    destination.delete(&stale, context).await
}

/// A local file already gone is no error: it is left out. An API answers 404.
fn still_there(created: &Created, spec: &EndpointSpec) -> bool {
    match spec {
        EndpointSpec::Directory(_) => Path::new(&created.target).is_file(),
        _ => true,
    }
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

/// An undo kept in a backup of its own: what it deletes is kept first (a directory's
/// files as they are, an API's copies read at their URLs), so undoing the undo makes
/// them again.
async fn keep_created(
    backup: &Backup,
    (spec, destination): (&EndpointSpec, &dyn Endpoint),
    stale: &[Stale],
    context: &Context<'_>,
) -> Result<()> {
    for entry in stale {
        match spec {
            EndpointSpec::Directory(root) => {
                let file = Path::new(&entry.target);
                backup.save_file(file, file.strip_prefix(root).unwrap_or(file))?;
            }
            _ => {
                let copy = destination.copy_at(&entry.resource, &entry.target, context);
                if let Some(body) = copy.await? {
                    backup.save_copy(&entry.resource, &body)?;
                }
            }
        }
    }
    Ok(())
}

/// A single file put back: removed if the backed-up run created it, else its old content
/// written back (unless it already holds it). With `dry_run`, only said.
pub fn put_file_back(undo: &Undo, path: &Path, dry_run: bool) -> Result<Op> {
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
                crate::atomic::write_atomically_with(path, |out| Ok(out.write_all(&old)?))?;
            }
            Op::Update
        }
        None if created && path.exists() => {
            if !dry_run {
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
