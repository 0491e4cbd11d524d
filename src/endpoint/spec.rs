//! Endpoints as named on the command line, and the one map from file extension to what a
//! file holds. Plain data: nothing here reads or writes.

use std::path::PathBuf;

use anyhow::Result;
use url::Url;

use crate::exit_code::ExitContext;
use crate::format::Format;

/// An endpoint as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointSpec {
    /// `-`: stdin as an origin, stdout as the destination.
    Stdio,
    /// `null` or `/dev/null`: reads nothing, writes nothing.
    Null,
    /// An http(s) REST API.
    Http(Url),
    /// One file holding every resource.
    File(PathBuf, FileKind),
    /// A tree of `<type>/<id>.<ext>` files.
    Directory(PathBuf),
}

impl EndpointSpec {
    /// Decide the endpoint kind from the argument's text, in SPEC order.
    pub fn parse(argument: &str) -> Result<Self> {
        if argument == "-" {
            return Ok(EndpointSpec::Stdio);
        }
        if argument == "null" || argument == "/dev/null" {
            return Ok(EndpointSpec::Null);
        }
        if is_url_argument(argument) {
            let url = Url::parse(argument)
                .usage_context(|| format!("invalid URL {}", redact_argument(argument)))?;
            return Ok(EndpointSpec::Http(url));
        }
        if let Some(kind) = FileKind::from_path(argument) {
            return Ok(EndpointSpec::File(PathBuf::from(argument), kind));
        }
        Ok(EndpointSpec::Directory(PathBuf::from(argument)))
    }

    /// How the argument is shown in messages (a URL without its password).
    pub fn describe(&self) -> String {
        match self {
            EndpointSpec::Stdio => "-".to_string(),
            EndpointSpec::Null => "null".to_string(),
            EndpointSpec::Http(url) => redact_url(url),
            EndpointSpec::File(path, _) | EndpointSpec::Directory(path) => {
                path.display().to_string()
            }
        }
    }

    /// The format written when neither `--json` nor `--yaml` is given.
    pub fn default_format(&self) -> Format {
        match self {
            EndpointSpec::Http(_) => Format::Json,
            EndpointSpec::File(_, FileKind::Json | FileKind::JsonLines) => Format::Json,
            _ => Format::Yaml,
        }
    }
}

/// Which single-file layout, decided by the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.yaml`/`.yml`: `---` before each resource.
    Yaml,
    /// `.json`: one array of resources.
    Json,
    /// `.jsonl`/`.ndjson`: one resource per line.
    JsonLines,
}

impl FileKind {
    pub fn from_path(argument: &str) -> Option<FileKind> {
        let kinds = [
            (".yaml", FileKind::Yaml),
            (".yml", FileKind::Yaml),
            (".json", FileKind::Json),
            (".jsonl", FileKind::JsonLines),
            (".ndjson", FileKind::JsonLines),
        ];
        kinds
            .into_iter()
            .find(|(extension, _)| argument.ends_with(extension))
            .map(|(_, kind)| kind)
    }
}

/// A URL argument that did not parse, safe to print: the text between `://` and the last
/// `@` of the authority keeps its user name, not its password.
fn redact_argument(argument: &str) -> String {
    let Some(start) = argument.find("://").map(|at| at + 3) else {
        return argument.to_string();
    };
    let rest = &argument[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match authority.rfind('@').map(|at| &authority[..at]) {
        Some(userinfo) => match userinfo.split_once(':') {
            Some((user, _)) => format!(
                "{}{user}:REDACTED{}",
                &argument[..start],
                &rest[userinfo.len()..]
            ),
            None => argument.to_string(),
        },
        None => argument.to_string(),
    }
}

/// Whether an endpoint argument is an http(s) URL (the scheme in any case).
pub fn is_url_argument(argument: &str) -> bool {
    let lower = argument.get(..8).unwrap_or(argument).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// `url` without any `user:pass@`: what is requested, kept, shown and recorded.
pub fn without_userinfo(url: &Url) -> Url {
    let mut copy = url.clone();
    if !copy.username().is_empty() || copy.password().is_some() {
        let _ = copy.set_username("");
        let _ = copy.set_password(None);
    }
    copy
}

/// Query parameters that carry a credential (an environment's `auth: {query: ...}`), set
/// once by the configuration: their values are never printed.
static SECRET_QUERY_PARAMETERS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Names the query parameters whose values `redact_url` hides, for the whole run.
pub fn redact_query_parameters(names: Vec<String>) {
    let _ = SECRET_QUERY_PARAMETERS.set(names);
}

/// A URL safe to print: any password in it, and any credential query parameter's value,
/// is replaced.
pub fn redact_url(url: &Url) -> String {
    let secret_names = SECRET_QUERY_PARAMETERS.get().map_or(&[][..], Vec::as_slice);
    let has_secret_query = url
        .query_pairs()
        .any(|(name, _)| secret_names.iter().any(|secret| *secret == name));
    if url.password().is_none() && !has_secret_query {
        return url.to_string();
    }
    let mut copy = url.clone();
    if url.password().is_some() {
        let _ = copy.set_password(Some("REDACTED"));
    }
    if has_secret_query {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(
                |(name, value)| match secret_names.iter().any(|secret| *secret == name) {
                    true => (name.into_owned(), "REDACTED".to_string()),
                    false => (name.into_owned(), value.into_owned()),
                },
            )
            .collect();
        copy.query_pairs_mut().clear().extend_pairs(pairs);
    }
    copy.to_string()
}

/// `url` with the query parameter `name` set to `value` (others kept, in order).
pub fn with_query(url: &Url, name: &str, value: &str) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != name)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let mut next = url.clone();
    next.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    next
}

/// An absolute `scheme://authority…` uri split into its scheme and what follows the
/// authority (path, query, fragment; empty when there is none).
pub fn split_authority(uri: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = uri.split_once("://")?;
    Some((
        scheme,
        &rest[rest.find(['/', '?', '#']).unwrap_or(rest.len())..],
    ))
}

/// The key two URLs are compared by: scheme and host lower-cased and a default port
/// dropped (the url crate does these), no fragment, query parameters sorted, no trailing
/// `/` on the path. `HTTP://h:80/a/?y=2&x=1` and `http://h/a?x=1&y=2` are one place.
pub fn url_key(url: &Url) -> String {
    let mut copy = url.clone();
    copy.set_fragment(None);
    if url.query().is_some() {
        let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        pairs.sort();
        copy.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let trimmed = copy.path().trim_end_matches('/').to_string();
    copy.set_path(&trimmed);
    let mut text = copy.to_string();
    if copy.query().is_none() {
        while text.ends_with('/') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unparsable_urls_are_printed_without_their_password() {
        let error = EndpointSpec::parse("http://user:hunter2@h:99999/api").unwrap_err();
        let text = format!("{error:#}");
        assert!(
            !text.contains("hunter2") && text.contains("user:REDACTED@h"),
            "{text}"
        );
        assert_eq!(
            redact_argument("http://a@b:c@h/x@y"),
            "http://a@b:REDACTED@h/x@y"
        );
        assert_eq!(redact_argument("http://h/p:q@r"), "http://h/p:q@r");
    }

    #[test]
    fn kinds_by_extension() {
        assert_eq!(FileKind::from_path("a.yml"), Some(FileKind::Yaml));
        assert_eq!(FileKind::from_path("a.ndjson"), Some(FileKind::JsonLines));
        assert_eq!(FileKind::from_path("a.txt"), None);
    }

    #[test]
    fn kinds_are_decided_in_spec_order() {
        assert_eq!(EndpointSpec::parse("-").unwrap(), EndpointSpec::Stdio);
        assert_eq!(EndpointSpec::parse("null").unwrap(), EndpointSpec::Null);
        assert_eq!(
            EndpointSpec::parse("/dev/null").unwrap(),
            EndpointSpec::Null
        );
        assert!(matches!(
            EndpointSpec::parse("https://a.example/api").unwrap(),
            EndpointSpec::Http(_)
        ));
        assert!(matches!(
            EndpointSpec::parse("http://x.yaml").unwrap(),
            EndpointSpec::Http(_)
        ));
        let file = |arg| EndpointSpec::parse(arg).unwrap();
        assert_eq!(
            file("a/b.yaml"),
            EndpointSpec::File("a/b.yaml".into(), FileKind::Yaml)
        );
        assert_eq!(
            file("b.yml"),
            EndpointSpec::File("b.yml".into(), FileKind::Yaml)
        );
        assert_eq!(
            file("b.json"),
            EndpointSpec::File("b.json".into(), FileKind::Json)
        );
        assert_eq!(
            file("b.jsonl"),
            EndpointSpec::File("b.jsonl".into(), FileKind::JsonLines)
        );
        assert_eq!(
            file("b.ndjson"),
            EndpointSpec::File("b.ndjson".into(), FileKind::JsonLines)
        );
        assert_eq!(file("fixtures"), EndpointSpec::Directory("fixtures".into()));
        assert!(EndpointSpec::parse("http://").is_err());
    }

    #[test]
    fn default_format_is_json_for_http_and_json_files() {
        assert_eq!(
            EndpointSpec::parse("http://h/").unwrap().default_format(),
            Format::Json
        );
        assert_eq!(
            EndpointSpec::parse("d").unwrap().default_format(),
            Format::Yaml
        );
        assert_eq!(
            EndpointSpec::parse("-").unwrap().default_format(),
            Format::Yaml
        );
        assert_eq!(
            EndpointSpec::parse("x.jsonl").unwrap().default_format(),
            Format::Json
        );
    }
}
