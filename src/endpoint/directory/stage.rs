//! Streaming writes into a directory: writer threads serialise each resource as it
//! arrives into a temporary file in a dot-folder of the destination; `commit` renames
//! the kept ones into place once the whole set is known to be valid (so a bad input
//! or a failed read leaves the destination as it was). A destination the run creates
//! has nothing to protect: files go straight to their paths and the folder is removed
//! whole unless committed. File creation is most of the cost and the kernel does it in
//! parallel, so both stages use every core.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::fs;
use std::hash::{BuildHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{anyhow, Context as _, Result};
use futures::future::BoxFuture;

use super::{staging, FileLayout};
use crate::endpoint::{Context, Stage, WriteSet};
use crate::exit_code::usage;
use crate::format::Format;
use crate::plan::March;
use crate::report::{Op, Outcome, Status};
use crate::resource::{Resource, Shared};
use crate::text_index::ByUri;

/// Resources go to a writer thread in batches: one wake-up per batch, not per resource
/// (a pull of 20,000 made 36,000 futex calls).
const BATCH: usize = 32;

/// Batches waiting for a writer thread; enough to keep it busy while a page is parsed.
const QUEUE: usize = 512 / BATCH;

/// One writer per core: creating files is kernel work that runs in parallel.
fn writer_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8)
}

/// What a writer thread did with one uri. Kept small (no paths): a pull of many
/// resources holds one of these per resource until the commit.
enum Entry {
    /// The type or id is not a safe file name; an error if the resource is kept.
    Unsafe(Box<str>),
    /// The file already holds exactly this content.
    Unchanged,
    /// New content waits in a temporary file, to be renamed onto the resource's path.
    Staged { temporary: Temporary, op: Op },
    /// Written at the resource's path already (a destination this run created).
    Placed { op: Op },
}

/// A staged file: `<staging>/<writer>/<number>`.
#[derive(Clone, Copy)]
struct Temporary {
    writer: u16,
    number: u32,
}

impl Temporary {
    fn path(self, staging: &Path) -> PathBuf {
        staging
            .join(self.writer.to_string())
            .join(self.number.to_string())
    }
}

/// A file written in place, as most are: not recorded per uri.
const PLACED: Entry = Entry::Placed { op: Op::Create };

/// What one writer thread hands back when the read is over: what each of its uris
/// became (a map of a million uris to entries held 100 bytes each; this about 50).
/// Written in place, a uri is recorded only where it is not `PLACED` (the commit takes
/// `PLACED` for the others), plus an 8-byte hash to count the uris and see one twice.
struct Staged {
    /// Written in place: files went to their paths, and only exceptions are recorded.
    in_place: bool,
    entries: ByUri<Entry>,
    /// A file written in place was replaced by a copy at another path (a later origin
    /// changed its type or id): the commit removes what no kept resource owns.
    strays: bool,
    /// In place: hashes of the uris written (randomly keyed), until the read is over.
    placed: Vec<u64>,
    keys: std::collections::hash_map::RandomState,
    /// How many distinct uris this writer took.
    uris: usize,
}

impl Staged {
    fn new(in_place: bool) -> Staged {
        Staged {
            in_place,
            entries: ByUri::default(),
            strays: false,
            placed: Vec::new(),
            keys: Default::default(),
            uris: 0,
        }
    }

    fn record(&mut self, uri: Shared, entry: Entry) -> Option<Entry> {
        if !self.in_place {
            return self.entries.insert(uri, entry);
        }
        self.placed.push(self.keys.hash_one(&*uri));
        // A later copy of a uri with an entry replaces it, even with `PLACED`.
        let plain = matches!(entry, Entry::Placed { op: Op::Create });
        match plain && self.entries.get(&uri).is_none() {
            true => None,
            false => self.entries.insert(uri, entry),
        }
    }

    /// The read is over: count the uris; one written twice may have left a stray file
    /// (a hash seen twice only makes the commit look for strays it will not find).
    fn finish(mut self) -> Staged {
        if !self.in_place {
            self.uris = self.entries.len();
            return self;
        }
        let mut placed = std::mem::take(&mut self.placed);
        let written = placed.len();
        placed.sort_unstable();
        placed.dedup();
        self.strays |= placed.len() < written;
        self.uris = placed.len();
        self
    }

    /// What the writer did with `uri`: its entry, or `PLACED` where none was recorded.
    fn entry(&self, uri: &str) -> Option<&Entry> {
        match self.entries.get(uri) {
            None if self.in_place => Some(&PLACED),
            entry => entry,
        }
    }
}

/// The writer thread (of `writers`) that takes a uri: always the same one, so a later
/// origin's copy replaces the earlier one there and the commit finds it there.
fn writer_of(uri: &str, writers: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    uri.hash(&mut hasher);
    (hasher.finish() % writers as u64) as usize
}

pub struct DirectoryStage {
    root: PathBuf,
    format: Format,
    staging: PathBuf,
    created_root: bool,
    /// Set once the commit has checked the set: from then on what is written stays.
    committed: bool,
    /// One queue per writer thread; a uri always goes to the same one, so a later
    /// origin's copy replaces the earlier one in that thread's entries.
    senders: Vec<SyncSender<Vec<Resource>>>,
    /// Each writer's next batch, sent when full or at the commit.
    batches: Vec<Vec<Resource>>,
    workers: Vec<JoinHandle<Result<Staged>>>,
}

impl DirectoryStage {
    /// Start the writer thread; the destination is created if missing (and removed
    /// again if nothing is committed).
    /// Each writer asks `march` whether its resource changes the file there.
    pub fn open(root: &Path, format: Format, march: March<'static>) -> Result<Self> {
        let march = Arc::new(march);
        let created_root = !root.exists();
        fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        let staging = staging::folder_in(root);
        let mut stage = DirectoryStage {
            root: root.to_path_buf(),
            format,
            staging: staging.clone(),
            created_root,
            committed: false,
            senders: Vec::new(),
            batches: Vec::new(),
            workers: Vec::new(),
        };
        // A destination this run creates holds nothing to keep: files are written in
        // place (one directory operation a file, not two) and the whole folder is
        // removed if the run does not commit.
        if !created_root {
            staging::remove_left_behind(root);
            fs::create_dir(&staging).with_context(|| format!("creating {}", staging.display()))?;
        }
        for number in 0..writer_threads() {
            if !created_root {
                let folder = staging.join(number.to_string());
                fs::create_dir(&folder)
                    .with_context(|| format!("creating {}", folder.display()))?;
            }
            let (sender, receiver) = sync_channel(QUEUE);
            let writer = Writer {
                root: root.to_path_buf(),
                staging: staging.clone(),
                number: u16::try_from(number).context("too many writer threads")?,
                format,
                march: Arc::clone(&march),
                staged: Staged::new(created_root),
                written: 0,
            };
            let worker = std::thread::Builder::new()
                .name(format!("stage-writer-{number}"))
                .spawn(move || writer.run(receiver))
                .context("starting a writer thread")?;
            stage.senders.push(sender);
            stage.batches.push(Vec::with_capacity(BATCH));
            stage.workers.push(worker);
        }
        Ok(stage)
    }

    fn send_batch(&mut self, queue: usize) -> Result<()> {
        let batch = std::mem::replace(&mut self.batches[queue], Vec::with_capacity(BATCH));
        if self.senders[queue].send(batch).is_err() {
            // A writer stopped on an error; report that error, not the closed queue.
            return Err(self
                .finish_writers()
                .err()
                .unwrap_or_else(|| anyhow!("a writer thread stopped")));
        }
        Ok(())
    }

    /// Send every writer what is left of its batch.
    fn send_last_batches(&mut self) -> Result<()> {
        for queue in 0..self.senders.len() {
            if !self.batches[queue].is_empty() {
                self.send_batch(queue)?;
            }
        }
        Ok(())
    }

    /// Close the queues and collect each writer's entries, in writer order (not merged:
    /// a million-entry merge held two copies at once). The first error wins.
    fn finish_writers(&mut self) -> Result<Vec<Staged>> {
        self.senders.clear();
        let mut staged = Vec::with_capacity(self.workers.len());
        let mut first_error = None;
        for worker in self.workers.drain(..) {
            match worker
                .join()
                .map_err(|_| anyhow!("a writer thread panicked"))
                .and_then(|result| result)
            {
                Ok(entries) => staged.push(entries),
                Err(error) => first_error = first_error.or(Some(error)),
            }
        }
        first_error.map_or(Ok(staged), Err)
    }
}

impl Stage for DirectoryStage {
    fn put(&mut self, resource: Resource) -> Result<()> {
        if self.senders.is_empty() {
            return Err(anyhow!("the stage is closed"));
        }
        let queue = writer_of(&resource.uri, self.senders.len());
        self.batches[queue].push(resource);
        if self.batches[queue].len() == BATCH {
            self.send_batch(queue)?;
        }
        Ok(())
    }

    fn commit<'a>(
        self: Box<Self>,
        set: &'a WriteSet<'a>,
        context: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<()>>
    where
        Self: 'a,
    {
        Box::pin(async move { (*self).commit_now(set, context) })
    }
}

impl DirectoryStage {
    /// Renaming is plain file work; it runs right here, on all cores. Paths are made
    /// again where needed rather than held: a million of them were the commit's memory.
    fn commit_now(mut self, set: &WriteSet<'_>, context: &Context<'_>) -> Result<()> {
        self.send_last_batches()?;
        let staged = self.finish_writers()?;
        let in_place = self.created_root;
        let layout = FileLayout::new(&self.root, self.format.extension());
        let entry_of = |resource: &Resource| {
            staged[writer_of(&resource.uri, staged.len())]
                .entry(&resource.uri)
                .ok_or_else(|| anyhow!("{} was read but never staged", resource.uri))
        };
        // Every kept name is checked before the first rename, so bad input writes nothing.
        for resource in set.ordered() {
            entry_of(resource)?;
            layout.path_for(resource).map_err(usage)?;
        }
        self.committed = true;
        // Only a folder written in place can hold files no kept resource owns.
        let left_out = staged.iter().map(|s| s.uris).sum::<usize>() > set.resources.len();
        if in_place && (left_out || staged.iter().any(|s| s.strays)) {
            remove_strays(set, &layout)?;
        }
        // In place, nothing is left to rename: no list of a million entries is made.
        let mut renamed = match in_place {
            true => Vec::new(),
            false => {
                let entries = set.ordered().map(entry_of).collect::<Result<Vec<_>>>()?;
                create_folders(set, &entries, &layout)?;
                let fail_fast = context.run.fail_fast;
                place_all(set, &entries, (&layout, &self.staging), fail_fast)
            }
        }
        .into_iter();
        for resource in set.ordered() {
            let result = match in_place {
                true => Some(place(
                    resource,
                    entry_of(resource)?,
                    (&layout, &self.staging),
                )),
                false => renamed.next().flatten(),
            };
            if let Some(Ok(op)) = result {
                if !context.run.verbose && !context.report.tells_each() {
                    context.report.record_done(op);
                    continue;
                }
            }
            let outcome = match result {
                Some(Ok(op)) => {
                    let path = layout.path_for(resource).map_err(usage)?;
                    if context.run.verbose && op != Op::Unchanged {
                        eprintln!("wrote {}", path.display());
                    }
                    Outcome::new(op, resource, path.display().to_string(), Status::Done(None))
                }
                Some(Err(error)) => Outcome::new(
                    Op::Update,
                    resource,
                    resource.uri.to_string(),
                    Status::Failed(format!("{error:#}")),
                ),
                None => {
                    let reason = "not attempted after --fail-fast stopped the run".to_string();
                    Outcome::new(
                        Op::Update,
                        resource,
                        resource.uri.to_string(),
                        Status::Skipped(reason),
                    )
                }
            };
            context.report.record(outcome);
        }
        Ok(())
    }
}

impl Drop for DirectoryStage {
    /// Staged files never reach the destination unless committed; the staging folder
    /// (and a destination this stage created and left empty) are removed either way.
    fn drop(&mut self) {
        if !self.workers.is_empty() {
            let _ = self.finish_writers();
        }
        let _ = fs::remove_dir_all(&self.staging);
        if self.created_root && !self.committed {
            let _ = fs::remove_dir_all(&self.root);
        } else if self.created_root {
            let _ = fs::remove_dir(&self.root);
        }
    }
}

/// The type folders the staged files go into, created once each.
fn create_folders(set: &WriteSet<'_>, entries: &[&Entry], layout: &FileLayout<'_>) -> Result<()> {
    let kinds: HashSet<&str> = set
        .ordered()
        .zip(entries)
        .filter(|(_, entry)| matches!(entry, Entry::Staged { .. }))
        .map(|(resource, _)| &*resource.kind)
        .collect();
    for kind in kinds {
        let folder = layout.folder_for(kind);
        fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    }
    Ok(())
}

/// Rename every staged file into place, on all cores; `None` where `--fail-fast`
/// stopped before reaching a target. Results come back in write order.
fn place_all(
    set: &WriteSet<'_>,
    entries: &[&Entry],
    (layout, staging): (&FileLayout<'_>, &Path),
    fail_fast: bool,
) -> Vec<Option<Result<Op>>> {
    let threads = writer_threads().min(entries.len().max(1));
    let stop = AtomicBool::new(false);
    let mut results: Vec<Option<Result<Op>>> = (0..entries.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|first| {
                let stop = &stop;
                scope.spawn(move || {
                    (first..entries.len())
                        .step_by(threads)
                        .map_while(|index| {
                            if stop.load(Ordering::Relaxed) {
                                return None;
                            }
                            let resource = &set.resources[set.order[index] as usize];
                            let result = place(resource, entries[index], (layout, staging));
                            if result.is_err() && fail_fast {
                                stop.store(true, Ordering::Relaxed);
                            }
                            Some((index, result))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for worker in workers {
            // A rename cannot panic; if a worker did, its targets stay `None` (not written).
            for (index, result) in worker.join().unwrap_or_default() {
                results[index] = Some(result);
            }
        }
    });
    results
}

/// Rename one staged file into place; returns what it did.
fn place(
    resource: &Resource,
    entry: &Entry,
    (layout, staging): (&FileLayout<'_>, &Path),
) -> Result<Op> {
    match entry {
        Entry::Unsafe(message) => Err(usage(message.to_string())),
        Entry::Unchanged => Ok(Op::Unchanged),
        Entry::Placed { op } => Ok(*op),
        Entry::Staged { temporary, op } => {
            let path = layout.path_for(resource).map_err(usage)?;
            fs::rename(temporary.path(staging), &path)
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(*op)
        }
    }
}

/// The writer thread's state: serialise, compare with the file there, stage if different.
struct Writer {
    root: PathBuf,
    staging: PathBuf,
    number: u16,
    format: Format,
    march: Arc<March<'static>>,
    staged: Staged,
    written: u32,
}

impl Writer {
    fn run(mut self, queue: Receiver<Vec<Resource>>) -> Result<Staged> {
        for resource in queue.into_iter().flatten() {
            let entry = self.stage(&resource)?;
            match self.staged.record(resource.uri, entry) {
                // A later origin replaced this uri: its earlier staged copy is not needed.
                Some(Entry::Staged { temporary, .. }) => {
                    let _ = fs::remove_file(temporary.path(&self.staging));
                }
                Some(Entry::Placed { .. }) => self.staged.strays = true,
                _ => {}
            }
        }
        Ok(self.staged.finish())
    }

    fn stage(&mut self, resource: &Resource) -> Result<Entry> {
        let layout = FileLayout::new(&self.root, self.format.extension());
        let path = match layout.path_for(resource) {
            Ok(path) => path,
            Err(message) => return Ok(Entry::Unsafe(message.into())),
        };
        let content = self.format.serialize(&resource.body);
        let op = self.march.op(resource, Some(&content))?;
        if op == Op::Unchanged {
            return Ok(Entry::Unchanged);
        }
        if self.staged.in_place {
            return write_in_place(&path, layout.folder_for(&resource.kind), &content, op);
        }
        self.written += 1;
        let temporary = Temporary {
            writer: self.number,
            number: self.written,
        };
        let file = temporary.path(&self.staging);
        fs::write(&file, content.as_bytes())
            .with_context(|| format!("writing {}", file.display()))?;
        Ok(Entry::Staged { temporary, op })
    }
}

/// Write a resource's file at its path (in a folder this run created); the type's
/// folder is made by the first file that needs it, on any writer thread (making it
/// again is harmless).
fn write_in_place(path: &Path, folder: PathBuf, content: &str, op: Op) -> Result<Entry> {
    let write = || fs::write(path, content.as_bytes());
    if let Err(error) = write() {
        if error.kind() != std::io::ErrorKind::NotFound {
            return Err(error).with_context(|| format!("writing {}", path.display()));
        }
        fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
        write().with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(Entry::Placed { op })
}

/// In a destination this run created, remove every file no kept resource owns (the
/// filters left it out, or a later origin moved it): the folder then holds the set.
fn remove_strays(set: &WriteSet<'_>, layout: &FileLayout<'_>) -> Result<()> {
    let kept: HashSet<PathBuf> = set
        .resources
        .iter()
        .filter_map(|resource| layout.path_for(resource).ok())
        .collect();
    for path in super::resource_files(layout.root()) {
        let path = path?;
        if !kept.contains(&path) {
            fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_place_only_what_is_not_a_plain_create_is_recorded() {
        let mut staged = Staged::new(true);
        for uri in ["/a", "/b", "/a"] {
            staged.record(uri.into(), PLACED);
        }
        staged.record("/c".into(), Entry::Unsafe("bad name".into()));
        assert_eq!(staged.entries.len(), 1);
        // A later plain copy replaces the earlier entry.
        staged.record("/c".into(), PLACED);
        let staged = staged.finish();
        assert_eq!(staged.uris, 3);
        assert!(
            staged.strays,
            "a uri written twice may have left a file behind"
        );
        assert!(matches!(
            staged.entry("/c"),
            Some(Entry::Placed { op: Op::Create })
        ));
        assert!(matches!(staged.entry("/z"), Some(Entry::Placed { .. })));
        let mut staging = Staged::new(false);
        staging.record("/a".into(), Entry::Unchanged);
        assert!(staging.finish().entry("/z").is_none());
    }

    #[test]
    fn in_place_each_uri_once_leaves_no_strays() {
        let mut staged = Staged::new(true);
        for uri in ["/a", "/b"] {
            staged.record(uri.into(), PLACED);
        }
        let staged = staged.finish();
        assert_eq!((staged.uris, staged.strays), (2, false));
    }
}
