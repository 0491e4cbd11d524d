//! Replacing a file whole: a reader, or an interrupted run, sees the old content or the
//! new, never a part.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};

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
    fn atomic_write_replaces_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.yaml");
        write_atomically_with(&path, |out| Ok(out.write_all(b"one")?)).unwrap();
        write_atomically_with(&path, |out| Ok(out.write_all(b"two")?)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
