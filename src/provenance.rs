//! A tree's memory of the API it was pulled from (SPEC section 8, "A tree remembers its
//! API"): `.resource-sync-origin` holds that API's URL on one line. A push of the tree back
//! to that URL knows its ids are the API's own, so it updates in place instead of cloning.

use std::path::Path;

use anyhow::Result;
use url::Url;

use crate::atomic::write_atomically_with;
use crate::endpoint::spec::{url_key, without_userinfo};

/// Its name in the tree: a dot-file, so never read as a resource nor removed by `--rm`.
pub const FILE_NAME: &str = ".resource-sync-origin";

/// Records the API the tree in `dir` was pulled from, as the command line wrote it
/// (`url`, parsed from `written`), credentials left out. A file that already says so is
/// left alone, so a re-pull rewrites nothing.
pub fn record(dir: &Path, url: &Url, written: &str) -> Result<()> {
    let text = match url.username().is_empty() && url.password().is_none() {
        true => format!("{written}\n"),
        false => format!("{}\n", without_userinfo(url)),
    };
    let path = dir.join(FILE_NAME);
    if std::fs::read_to_string(&path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    write_atomically_with(&path, |out| Ok(out.write_all(text.as_bytes())?))
}

/// Whether the tree in `dir` records `url` as its API (URLs compared as a crawl compares
/// them: case of scheme and host, default port, a trailing `/` and credentials aside).
pub fn came_from(dir: &Path, url: &Url) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join(FILE_NAME)) else {
        return false;
    };
    let Some(Ok(recorded)) = text.lines().next().map(|line| Url::parse(line.trim())) else {
        return false;
    };
    url_key(&recorded) == url_key(&without_userinfo(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_origin_matches_its_url_however_written() {
        let dir = tempfile::tempdir().unwrap();
        let written = "http://user:secret@API.example:80/api/";
        record(dir.path(), &Url::parse(written).unwrap(), written).unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(text, "http://api.example/api/\n");
        let written = "http://api.example:80/api";
        record(dir.path(), &Url::parse(written).unwrap(), written).unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(text, "http://api.example:80/api\n");
        assert!(came_from(
            dir.path(),
            &Url::parse("http://api.example/api").unwrap()
        ));
        assert!(!came_from(
            dir.path(),
            &Url::parse("http://api.example/v2").unwrap()
        ));
        assert!(!came_from(
            dir.path(),
            &Url::parse("http://other.example/api").unwrap()
        ));
    }
}
