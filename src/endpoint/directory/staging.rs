//! The stage's dot-folder in a destination, named by the process that owns it, and the
//! removal of one left by a run that was killed outright (SIGKILL, power loss).

use std::fs;
use std::path::{Path, PathBuf};

const PREFIX: &str = ".resource-sync-staging-";

/// This process's staging folder in `root`.
pub(super) fn folder_in(root: &Path) -> PathBuf {
    root.join(format!("{PREFIX}{}", std::process::id()))
}

/// Remove the staging folders in `root` whose process is gone, saying so on stderr. Called
/// before this run makes its own, so one under this process's id is an earlier run's (a
/// container's processes often get the same id run after run). Nothing else is touched:
/// only real folders (not links) named exactly as a stage names them.
pub(super) fn remove_left_behind(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let Some(pid) = entry.file_name().to_str().and_then(owner_of) else {
            continue;
        };
        let is_folder = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if !is_folder || (pid != std::process::id() && !process_is_gone(pid)) {
            continue;
        }
        let path = entry.path();
        match fs::remove_dir_all(&path) {
            Ok(()) => eprintln!(
                "resource-sync: removed {} left by an interrupted run",
                path.display()
            ),
            Err(error) => eprintln!(
                "resource-sync: warning: cannot remove {} left by an interrupted run: {error}",
                path.display()
            ),
        }
    }
}

/// The process id in a staging folder's name (`.resource-sync-staging-<digits>`).
fn owner_of(name: &str) -> Option<u32> {
    let digits = name.strip_prefix(PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether no process has this id, told by `/proc` (Linux; no crate for a signal-0 `kill`
/// is a dependency). Without `/proc` nothing can be told, so every process counts as alive
/// and its folder is kept. Only this pid namespace is seen: a run in another container
/// writing to the same shared folder counts as gone unless some process here has its id.
fn process_is_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_a_stage_makes_have_an_owner() {
        assert_eq!(owner_of(".resource-sync-staging-123"), Some(123));
        for name in [
            ".resource-sync-staging-",
            ".resource-sync-staging-+1",
            ".resource-sync-staging-12.bak",
            ".resource-sync-staging-99999999999",
            "resource-sync-staging-1",
            ".keep",
        ] {
            assert_eq!(owner_of(name), None, "{name}");
        }
    }

    #[test]
    fn this_process_is_alive() {
        assert!(!process_is_gone(std::process::id()));
    }
}
