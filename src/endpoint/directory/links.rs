//! Symbolic links below a directory endpoint: never followed when reading (each one where
//! a resource file or a folder would be read is skipped with a warning), and never written
//! or removed through (the run stops before any write, naming them). The root itself may be
//! a link: the user chose it.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{encoding_for, FileLayout};
use crate::exit_code::usage;
use crate::resource::Resource;

/// The links a walk of the destination found (dot-entries aside), not followed.
#[derive(Default)]
pub(super) struct Links {
    paths: HashSet<PathBuf>,
}

impl Links {
    pub(super) fn add(&mut self, link: PathBuf) {
        self.paths.insert(link);
    }

    /// `--rm` removes every resource file below the root that the origins do not hold, in
    /// any folder: a link where such files would be is one they would be removed through.
    pub(super) fn refuse_for_removal(&self) -> Result<()> {
        let reached: BTreeSet<&Path> = self
            .paths
            .iter()
            .map(PathBuf::as_path)
            .filter(|link| stands_for_resources(link))
            .collect();
        refuse(reached, "--rm would remove resource files")
    }

    /// The links at the type folder or the file of a resource of the run.
    pub(super) fn refuse_in_the_way(
        &self,
        kept: &[Resource],
        layout: &FileLayout<'_>,
    ) -> Result<()> {
        if self.paths.is_empty() {
            return Ok(());
        }
        let mut reached = BTreeSet::new();
        // An unsafe type or id has no path; the commit refuses it by name.
        for file in kept
            .iter()
            .filter_map(|resource| layout.path_for(resource).ok())
        {
            let folder = file.parent().map(Path::to_path_buf);
            for path in folder.into_iter().chain([file]) {
                if let Some(link) = self.paths.get(&path) {
                    reached.insert(link.as_path());
                }
            }
        }
        refuse(reached, "this run would write")
    }
}

/// Reading a directory: a link where the walk would read is said to be skipped.
pub(super) fn warn_if_skipped(link: &Path) {
    if stands_for_resources(link) {
        eprintln!(
            "resource-sync: warning: skipping {}: a symbolic link (links are not followed)",
            link.display()
        );
    }
}

/// A link the walk would read through if it followed it: one named as a resource file, or
/// one to a folder.
fn stands_for_resources(link: &Path) -> bool {
    encoding_for(link).is_some() || link.is_dir()
}

/// Exit 2 naming every link in `reached`, if any.
fn refuse(reached: BTreeSet<&Path>, purpose: &str) -> Result<()> {
    if reached.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = reached
        .iter()
        .map(|link| link.display().to_string())
        .collect();
    let is_what = match names.len() {
        1 => "is a symbolic link",
        _ => "are symbolic links",
    };
    Err(usage(format!(
        "{} {is_what} where {purpose}; nothing below the destination is written or removed \
         through a link, so nothing was written (replace the link with a real folder or file)",
        names.join(", ")
    )))
}
