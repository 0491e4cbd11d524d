//! Backups and undo (SPEC section 12): before a run overwrites or deletes a resource at
//! its destination, the destination's copy is saved in the backup folder as a directory
//! destination would write it (readable as an origin), and `.backup.yaml` records the
//! destination, the start time and each resource created (before it is sent where its
//! target is known, else as it is answered). `--undo` reads that record back.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::endpoint::{Context, Endpoint, EndpointSpec, WriteSet};
use crate::exit_code::usage;
use crate::format::Format;
use crate::plan::{Decision, March, Stale};
use crate::project::Vars;
use crate::report::{CreateLog, Op};
use crate::resource::Resource;

/// The record of a backup, beside the copies.
pub const RECORD: &str = ".backup.yaml";

/// One run's backup folder. Nothing is written until there is something to keep, so a
/// run that changes nothing leaves no folder.
pub struct Backup {
    dir: PathBuf,
    destination: String,
    started: String,
    /// Destination vars: a copy holds their values as `${NAME}`, as a pull would.
    vars: Option<std::sync::Arc<Vars>>,
    record: Mutex<Option<File>>,
    /// The targets recorded as created, each recorded once.
    listed: Mutex<HashSet<String>>,
}

/// `.backup.yaml` as read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub destination: String,
    pub started: String,
    /// The environment whose `vars` the copies hold as `${NAME}`, where they hold any:
    /// only an undo into it fills them back in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vars_of: Option<String>,
    #[serde(default)]
    pub created: Vec<Created>,
}

/// One resource the run created: its type, id and destination target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Value,
    pub target: String,
}

impl Backup {
    /// A backup of a run into `destination` (as `describe` names it), kept in `dir`,
    /// which must not exist or be empty.
    pub fn new(
        dir: &Path,
        destination: String,
        vars: Option<std::sync::Arc<Vars>>,
    ) -> Result<Backup> {
        check_folder(dir)?;
        Ok(Backup {
            dir: dir.to_path_buf(),
            destination,
            started: utc_now(),
            vars,
            record: Mutex::new(None),
            listed: Mutex::new(HashSet::new()),
        })
    }

    /// The folder a run with an environment's `backup: FOLDER` keeps its backup in: one
    /// named for now, or, where a run of the same second holds that one (a push and its
    /// undo), the first of `<time>-2`, `<time>-3`... that holds nothing.
    pub fn timestamped(folder: &Path) -> PathBuf {
        let now = utc_now();
        let taken = |dir: &PathBuf| dir.is_file() || holds_files(dir);
        std::iter::once(folder.join(&now))
            .chain((2..).map(|n| folder.join(format!("{now}-{n}"))))
            .find(|dir| !taken(dir))
            .expect("a folder holds finitely many entries, so some name is free")
    }

    /// Keep the destination's copy of `resource` (`body` as the destination holds it),
    /// at `<type>/<id>.yaml`; its vars become `${NAME}` outside the `kept` fields (its
    /// identity and links), as a pull writes them.
    pub fn save_copy(&self, resource: &Resource, body: &Value, kept: &[Vec<String>]) -> Result<()> {
        let mut body = body.clone();
        if let Some(vars) = &self.vars {
            vars.read_into_placeholders(&mut body, kept);
        }
        let path = self.copy_path(&resource.kind, &resource.id_text(), ".yaml")?;
        let text = Format::Yaml.serialize(&body);
        self.write_copy(&path, text.as_bytes())
    }

    /// Keep a file of a local destination as it is, at `relative` below the backup.
    pub fn save_file(&self, file: &Path, relative: &Path) -> Result<()> {
        let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        self.write_copy(&self.dir.join(relative), &bytes)
    }

    /// A create: appended to the record at once, unless it is there already.
    pub fn created(&self, kind: &str, id: &Value, target: &str) -> Result<()> {
        CreateLog::created(self, kind, id, target)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> MutexGuard<'_, Option<File>> {
        self.record
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The record file, made with its header on first use.
    fn record(&self) -> Result<MutexGuard<'_, Option<File>>> {
        let mut record = self.lock();
        if record.is_none() {
            fs::create_dir_all(&self.dir)
                .with_context(|| format!("creating {}", self.dir.display()))?;
            let path = self.dir.join(RECORD);
            let mut file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut header = serde_json::json!({
                "destination": self.destination,
                "started": self.started,
            });
            if let Some(vars) = &self.vars {
                header["vars_of"] = Value::String(vars.environment.clone());
            }
            let header = serde_yaml::to_string(&header).context("writing the backup record")?;
            writeln!(file, "{header}created:")
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            *record = Some(file);
        }
        Ok(record)
    }

    fn copy_path(&self, kind: &str, id: &str, extension: &str) -> Result<PathBuf> {
        let safe = |segment: &str| crate::endpoint::safe_segment(segment).map(str::to_string);
        let (Some(kind), Some(id)) = (safe(kind), safe(id)) else {
            return Err(usage(format!(
                "--backup: type {kind:?} / id {id:?} is not a safe file name"
            )));
        };
        Ok(self.dir.join(kind).join(format!("{id}{extension}")))
    }

    /// A copy written before the write it protects is sent. Not synced, as no file of a
    /// run is (`atomic.rs`): a killed run's copies are in the kernel's hands. With an
    /// fsync a copy, a push of 20,100 updates with a backup on this VM's disk took 12.0 s;
    /// without, 4.7 and 9.9 s (the disk varies); 1.3 to 2.3 s without a backup.
    fn write_copy(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        drop(self.record()?);
        if let Some(folder) = path.parent() {
            fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
        }
        let mut file = File::create(path).with_context(|| format!("writing {}", path.display()))?;
        file.write_all(bytes)
            .with_context(|| format!("writing {}", path.display()))
    }
}

impl CreateLog for Backup {
    fn created(&self, kind: &str, id: &Value, target: &str) -> Result<()> {
        let new = self
            .listed
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(target.to_string());
        if !new {
            return Ok(());
        }
        let entry = Created {
            kind: kind.to_string(),
            id: id.clone(),
            target: target.to_string(),
        };
        let line = serde_json::to_string(&entry).context("recording a create")?;
        let mut record = self.record()?;
        let file = record.as_mut().expect("record() opens the file");
        // One flow-style item a line: the file is valid YAML after every append.
        writeln!(file, "- {line}")
            .and_then(|()| file.flush())
            .with_context(|| format!("appending to {}", self.dir.join(RECORD).display()))
    }
}

impl Record {
    /// The record of the backup in `dir`.
    pub fn read(dir: &Path) -> Result<Record> {
        let path = dir.join(RECORD);
        let text = fs::read_to_string(&path).map_err(|error| {
            usage(format!(
                "--undo {}: no backup record {} ({error})",
                dir.display(),
                path.display()
            ))
        })?;
        // A run that created nothing leaves `created:` empty (null).
        let mut value: serde_yaml::Value = serde_yaml::from_str(&text)
            .map_err(|error| usage(format!("{}: {error}", path.display())))?;
        if let Some(created) = value.get_mut("created").filter(|c| c.is_null()) {
            *created = serde_yaml::Value::Sequence(Vec::new());
        }
        serde_yaml::from_value(value).map_err(|error| usage(format!("{}: {error}", path.display())))
    }
}

/// A backup folder must not exist, or be an empty folder (one backup, one run).
pub fn check_folder(dir: &Path) -> Result<()> {
    if holds_files(dir) {
        return Err(usage(format!(
            "--backup {}: the folder is not empty (one backup, one run)",
            dir.display()
        )));
    }
    if dir.exists() && !dir.is_dir() {
        return Err(usage(format!("--backup {}: not a folder", dir.display())));
    }
    Ok(())
}

fn holds_files(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

/// Now in UTC, as `20261206T212200Z`.
fn utc_now() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

/// What a run is about to change at its destination, kept before any write is sent: the
/// destination's copy of each resource updated or deleted, each create whose target is
/// known (parents first), and for a single file its whole old content (or, where it has
/// none, that the run creates it). A create is recorded before it is sent, not when it is
/// answered: a run killed while the answer is on its way, or an API answering 200 to a
/// PUT that creates, still leaves it in the record; one never made is no error to undo.
/// A create by POST learns its target from the answer, and is recorded then.
pub async fn keep_before_writing(
    backup: &Backup,
    (spec, destination, context): (&EndpointSpec, &dyn Endpoint, &Context<'_>),
    (set, march): (&WriteSet<'_>, &March<'_>),
    (decisions, stale): (&[Decision], &[Stale]),
) -> Result<()> {
    match spec {
        EndpointSpec::Directory(root) => {
            let updated = decisions.iter().filter(|d| d.op == Op::Update);
            let targets = updated
                .map(|decision| decision.target.as_str())
                .chain(stale.iter().map(|entry| entry.target.as_str()));
            for target in targets {
                let file = Path::new(target);
                let relative = file.strip_prefix(root).unwrap_or(file);
                backup.save_file(file, relative)?;
            }
        }
        EndpointSpec::File(path, _) => return keep_file(backup, path.as_path()),
        EndpointSpec::Http(_) => {
            for (index, decision) in decisions.iter().enumerate() {
                if decision.op != Op::Update {
                    continue;
                }
                let resource = &set.resources[index];
                let kept = march.kept(resource)?;
                let Some(copy) = kept.as_ref().or(decision.before()) else {
                    continue;
                };
                // A listing that showed part of it: the copy at its URL is kept.
                let whole = match lacks_fields(&resource.body, copy) {
                    true => {
                        destination
                            .copy_at(resource, &decision.target, context)
                            .await?
                    }
                    false => None,
                };
                let copy = whole.as_ref().unwrap_or(copy);
                backup.save_copy(resource, copy, &context.identity_fields(resource))?;
            }
            for entry in stale {
                let resource = &entry.resource;
                backup.save_copy(resource, &resource.body, &context.identity_fields(resource))?;
            }
        }
        EndpointSpec::Stdio | EndpointSpec::Null => return Ok(()),
    }
    for index in set.indices() {
        let decision = &decisions[index];
        if decision.op == Op::Create && decision.source().is_none() {
            let resource = &set.resources[index];
            backup.created(&resource.kind, &resource.id.to_value(), &decision.target)?;
        }
    }
    Ok(())
}

/// Whether the destination's copy lacks a field the run's resource has: its listing
/// left fields out, so it is not all the destination holds.
fn lacks_fields(resource: &Value, held: &Value) -> bool {
    match (resource.as_object(), held.as_object()) {
        (Some(fields), Some(held)) => fields.keys().any(|key| !held.contains_key(key)),
        _ => false,
    }
}

/// A single file is written whole: its old content, or the note that the run creates it.
pub fn keep_file(backup: &Backup, path: &Path) -> Result<()> {
    match path.file_name() {
        Some(name) if path.is_file() => backup.save_file(path, Path::new(name)),
        _ => backup.created("", &Value::Null, &path.display().to_string()),
    }
}

/// Whether the destination's creates are recorded one by one as they are answered (a
/// single file is recorded whole, before it is written).
pub fn records_each_create(destination: &EndpointSpec) -> bool {
    matches!(
        destination,
        EndpointSpec::Http(_) | EndpointSpec::Directory(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_record_is_valid_yaml_after_every_create() {
        let dir = tempfile::tempdir().unwrap();
        let backup = Backup::new(&dir.path().join("b"), "http://h/api".into(), None).unwrap();
        assert!(
            !backup.dir().exists(),
            "nothing is on disk before the first create"
        );
        backup
            .created("team", &json!(7), "http://h/api/team/7")
            .unwrap();
        let record = Record::read(backup.dir()).unwrap();
        assert_eq!(record.destination, "http://h/api");
        assert_eq!(record.created.len(), 1);
        backup
            .created("player", &json!("x"), "http://h/api/player/x")
            .unwrap();
        let record = Record::read(backup.dir()).unwrap();
        assert_eq!(record.created[1].target, "http://h/api/player/x");
        assert_eq!(record.created[1].id, json!("x"));
    }

    #[test]
    fn a_folder_holding_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("x"), "y").unwrap();
        assert!(Backup::new(dir.path(), "d".into(), None).is_err());
    }
}
