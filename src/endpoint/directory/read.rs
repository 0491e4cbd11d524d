//! Reading a directory tree: files are parsed on every core (parsing YAML is most of a
//! directory copy's time) and handed on in walk order, so the result is the same as one
//! file after another.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};

use anyhow::{Context as _, Result};

use super::{encoding_for, links, type_folder, walk_tree, TreeEntry};
use crate::endpoint::parse::{read_file_resources, Encoding, WHOLE_FILE_BYTES};
use crate::endpoint::Found;
use crate::resource::Resource;
use crate::schema::Dialect;

/// Files being parsed or parsed and waiting for their turn: enough to keep every parser
/// busy, few enough that memory does not grow with the tree.
const FILES_IN_FLIGHT_PER_PARSER: usize = 32;

/// Every resource file below `root`, in walk order; links below it are skipped.
pub(super) fn read_tree(root: &Path, dialect: &dyn Dialect, found: &mut Found<'_>) -> Result<()> {
    let parsers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    std::thread::scope(|scope| {
        let mut lanes = Vec::with_capacity(parsers);
        for _ in 0..parsers {
            let (jobs, job_queue) = sync_channel(FILES_IN_FLIGHT_PER_PARSER);
            let (results, parsed) = channel();
            scope.spawn(move || parse_files(root, dialect, job_queue, results));
            lanes.push(Lane { jobs, parsed });
        }
        let handed_on = hand_on_in_order(root, &lanes, found);
        // Closing the queues ends the parsers, which the scope waits for.
        drop(lanes);
        handed_on
    })
}

/// One parser thread's queue of files and the results it sends back, in its queue's order.
struct Lane {
    jobs: SyncSender<(PathBuf, Encoding)>,
    parsed: Receiver<Result<Vec<Resource>>>,
}

/// File `n` of the walk goes to lane `n % lanes`; its resources come back from that lane
/// in turn, so taking results lane by lane restores the walk order.
fn hand_on_in_order(root: &Path, lanes: &[Lane], found: &mut Found<'_>) -> Result<()> {
    let window = lanes.len() * FILES_IN_FLIGHT_PER_PARSER;
    let (mut sent, mut handed_on) = (0usize, 0usize);
    for entry in walk_tree(root) {
        let path = match entry? {
            TreeEntry::File(path) => path,
            TreeEntry::Link(link) => {
                links::warn_if_skipped(&link);
                continue;
            }
        };
        let Some(encoding) = encoding_for(&path) else {
            continue;
        };
        if sent - handed_on == window {
            hand_on_next(lanes, handed_on, found)?;
            handed_on += 1;
        }
        lanes[sent % lanes.len()]
            .jobs
            .send((path, encoding))
            .map_err(|_| anyhow::anyhow!("a file parser stopped"))?;
        sent += 1;
    }
    while handed_on < sent {
        hand_on_next(lanes, handed_on, found)?;
        handed_on += 1;
    }
    Ok(())
}

fn hand_on_next(lanes: &[Lane], index: usize, found: &mut Found<'_>) -> Result<()> {
    let resources = lanes[index % lanes.len()]
        .parsed
        .recv()
        .map_err(|_| anyhow::anyhow!("a file parser stopped"))??;
    resources.into_iter().try_for_each(found)
}

/// A parser thread: each file's resources (or its error) go back whole, in queue order.
fn parse_files(
    root: &Path,
    dialect: &dyn Dialect,
    job_queue: Receiver<(PathBuf, Encoding)>,
    results: std::sync::mpsc::Sender<Result<Vec<Resource>>>,
) {
    for (path, encoding) in job_queue {
        if results
            .send(parse_file(root, (&path, encoding), dialect))
            .is_err()
        {
            return;
        }
    }
}

fn parse_file(
    root: &Path,
    (path, encoding): (&Path, Encoding),
    dialect: &dyn Dialect,
) -> Result<Vec<Resource>> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let source = path.display().to_string();
    // Most files are read whole in one call; one past the limit streams on from there.
    let mut head = Vec::new();
    (&mut file)
        .take(WHOLE_FILE_BYTES + 1)
        .read_to_end(&mut head)
        .with_context(|| format!("reading {source}"))?;
    let folder = type_folder(root, path);
    let mut resources = Vec::new();
    read_file_resources(
        (&head, BufReader::new(file)),
        encoding,
        (&source, folder.as_deref()),
        dialect,
        &mut |resource| {
            resources.push(resource);
            Ok(())
        },
    )?;
    Ok(resources)
}
