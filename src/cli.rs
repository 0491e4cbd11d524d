//! The command line as clap parses it: flag names, short forms and help text.
//! Values are only parsed here; `config` checks how they combine.

use std::str::FromStr;

use clap::parser::ValueSource;
use clap::{ArgGroup, ArgMatches, Parser, ValueEnum};

use crate::expr::{FieldPath, MatchExpr, RefExpr};

/// Move REST resources between HTTP APIs, YAML/JSON files, directories and pipes.
///
/// ORIGIN... are read, merged (a later origin wins on the same uri), ordered parents
/// first, and written to DESTINATION. An endpoint is `-` (stdin/stdout), `null`, an
/// http(s) URL, a `.yaml`/`.yml`, `.json` or `.jsonl`/`.ndjson` file, or a directory.
#[derive(Debug, Parser)]
#[command(name = "resource-sync", version)]
#[command(
    override_usage = "resource-sync [OPTIONS] ORIGIN... DESTINATION\n       resource-sync --generate <WHAT>\n       resource-sync --generate profile <SOURCE>"
)]
#[command(group(ArgGroup::new("format").args(["json", "yaml"])))]
#[command(group(ArgGroup::new("schema").args(["hal", "simple"])))]
#[command(group(ArgGroup::new("follow").args(["follow_all", "follow_child", "follow_page", "follow_none"])))]
pub struct Cli {
    /// Endpoints: one or more origins, then the destination.
    #[arg(value_name = "ENDPOINT", required_unless_present = "generate", num_args = 1..)]
    pub endpoints: Vec<String>,

    /// Write JSON to the destination (default for HTTP).
    #[arg(short = 'j', long)]
    pub json: bool,
    /// Write YAML to the destination (default for files, directories and stdout).
    #[arg(short = 'y', long)]
    pub yaml: bool,

    /// Resources use HAL links: `_links.self.href`, `parent:*`, `child:*` (default).
    #[arg(long)]
    pub hal: bool,
    /// Resources carry `id`, `type`, `uri`, `parents`, `links`, `embedded` fields.
    #[arg(short = 's', long)]
    pub simple: bool,

    /// Remove at the destination what the origins do not hold.
    #[arg(long = "rm")]
    pub remove: bool,

    /// HTTP basic auth user; the password comes from RESOURCE_SYNC_PASSWORD or a prompt.
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,

    /// Follow every link except `self` when reading HTTP.
    #[arg(short = 'a', long)]
    pub follow_all: bool,
    /// Follow pages and `child:*` links when reading HTTP.
    #[arg(short = 'c', long)]
    pub follow_child: bool,
    /// Follow only `next`/`prev` pages when reading HTTP (default).
    #[arg(short = 'p', long)]
    pub follow_page: bool,
    /// Follow no links when reading HTTP.
    #[arg(short = 'n', long)]
    pub follow_none: bool,

    /// Resources per write request where the server supports batches (PATCH).
    #[arg(short = 'b', long, value_name = "N", default_value = "1")]
    pub batch_size: PositiveCount,
    /// Page size asked of the server, sent as the X-Request-Limit header.
    #[arg(short = 'l', long, value_name = "N", default_value = "100")]
    pub limit: PositiveCount,
    /// Attempts per HTTP request before giving up.
    #[arg(short = 'm', long, value_name = "N", default_value = "3")]
    pub max_attempts: PositiveCount,
    /// One stderr line per HTTP request and per file written.
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// Print what would change (create/update/delete lines) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print a unified diff of every resource that changes.
    #[arg(long)]
    pub diff: bool,
    /// HTTP requests in flight at once.
    #[arg(long, value_name = "N", default_value = "8")]
    pub concurrency: PositiveCount,
    /// Extra header on every HTTP request ('Name: value'); repeatable.
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<Header>,
    /// Keep only resources of this type; repeatable.
    #[arg(long = "type", value_name = "T")]
    pub types: Vec<String>,
    /// Keep only resources whose field at a dotted PATH equals VALUE; repeatable, all must hold.
    #[arg(long = "match", value_name = "PATH=VALUE")]
    pub matches: Vec<MatchExpr>,
    /// Do not add the parents of kept resources.
    #[arg(long)]
    pub no_parents: bool,
    /// Stop at the first resource that cannot be written.
    #[arg(long)]
    pub fail_fast: bool,
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value = "30")]
    pub timeout: PositiveCount,
    /// No progress bar and no summary.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// How resources new to the destination are created: PUT at their uri, or POST to
    /// their collection for APIs that assign ids (references are then rewritten).
    /// Default: put (with --api, the profile's `create`, which this overrides).
    #[arg(long, value_enum, value_name = "HOW")]
    pub create: Option<CreateMode>,
    /// With --create post: the YAML map of old uri to new uri, read first and kept up to
    /// date as the run goes, so a re-run updates the clones instead of duplicating them.
    #[arg(long, value_name = "FILE")]
    pub id_map: Option<std::path::PathBuf>,
    /// With --create post: the field at dotted PATH holds the id of a TYPE resource; it
    /// is rewritten to the new id, and orders writes as a parent link does. Repeatable.
    #[arg(long = "ref", value_name = "PATH=TYPE")]
    pub refs: Vec<RefExpr>,

    /// `json`: stdout is one JSON object per action, then a `{"summary": ...}` line.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub output: OutputFormat,
    /// Exit 3 when changes were planned (--dry-run) or made and nothing failed, 0 when none.
    #[arg(long)]
    pub exit_code: bool,
    /// With --rm: when more than N deletions are planned, make none (writes still happen).
    #[arg(long, value_name = "N")]
    pub max_delete: Option<Count>,
    /// Dotted field path left out of every comparison (server-filled fields); repeatable.
    #[arg(long = "ignore", value_name = "PATH")]
    pub ignores: Vec<FieldPath>,
    /// Write every resource without reading the destination first (the original tool's
    /// behaviour): nothing is found unchanged.
    #[arg(long)]
    pub no_compare: bool,
    /// After writing, read the destination back and check every resource (exit 1 on a
    /// mismatch or a missing one).
    #[arg(long)]
    pub verify: bool,
    /// Keep what the run overwrites or deletes at the destination, and what it creates,
    /// in DIR (which must not exist or be empty); `--undo DIR` puts it back.
    #[arg(long, value_name = "DIR")]
    pub backup: Option<std::path::PathBuf>,
    /// Put the destination back as it was before the run that made backup DIR:
    /// `--undo DIR DESTINATION`.
    #[arg(long, value_name = "DIR")]
    pub undo: Option<std::path::PathBuf>,
    /// A YAML profile describing a plain-JSON or JSON:API service: collection paths,
    /// ids, parents, pagination, write methods (replaces --hal/--simple).
    #[arg(long, value_name = "FILE")]
    pub api: Option<std::path::PathBuf>,
    /// Dotted field path removed from every resource as it is read; repeatable.
    #[arg(long = "omit", value_name = "PATH")]
    pub omits: Vec<FieldPath>,
    /// At most N HTTP requests started in any one-second window, in total.
    #[arg(long, value_name = "N")]
    pub rps: Option<PositiveCount>,

    /// Do not verify HTTPS certificates (a warning is printed); for test environments only.
    #[arg(long)]
    pub insecure: bool,
    /// Trust this PEM certificate (or bundle) as an extra root for HTTPS.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,

    /// Pages read from one starting URL before the run fails.
    #[arg(long, value_name = "N", default_value = "10000")]
    pub max_pages: PositiveCount,

    /// Print something and exit: shell completions (complete-bash, complete-zsh,
    /// complete-fish), the man page (man), or `profile SOURCE`: an --api profile for the API
    /// an OpenAPI 3 document (a JSON or YAML file, or an http(s) URL) describes.
    #[arg(
        long,
        value_names = ["WHAT", "SOURCE"],
        num_args = 1..=2
    )]
    pub generate: Option<Vec<String>>,

    /// The project file naming environments (default: resource-sync.yaml here or in the
    /// nearest folder above).
    #[arg(long, value_name = "FILE", env = "RESOURCE_SYNC_CONFIG")]
    pub config: Option<std::path::PathBuf>,

    /// The flags given on the command line (not defaulted): they win over a project file.
    #[arg(skip)]
    pub explicit: Vec<String>,
}

impl Cli {
    /// Parsed from `matches`, remembering which flags the command line itself gave.
    pub fn with_sources(matches: &clap::ArgMatches) -> Result<Cli, clap::Error> {
        let mut cli = <Cli as clap::FromArgMatches>::from_arg_matches(matches)?;
        cli.explicit = matches
            .ids()
            .filter(|id| {
                matches.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)
            })
            .map(|id| id.to_string())
            .collect();
        Ok(cli)
    }

    /// Whether the command line gave the flag with this field name.
    pub fn gave(&self, field: &str) -> bool {
        self.explicit.iter().any(|id| id == field)
    }
}

/// What stdout carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Plan lines and diffs for people.
    Text,
    /// One JSON object per line, for programs.
    Json,
}

/// The options that shape the request fetching `--generate profile`'s SOURCE (SPEC
/// section 8); every other option, and any endpoint, is refused with `--generate`.
const GENERATE_REQUEST_OPTIONS: [&str; 7] = [
    "config",
    "headers",
    "username",
    "timeout",
    "max_attempts",
    "insecure",
    "ca_cert",
];

/// `--generate` goes alone, but for the request options of `--generate profile`.
pub fn check_generate_options(what: Generate, matches: &ArgMatches) -> Result<(), String> {
    let command = <Cli as clap::CommandFactory>::command();
    let given = command.get_arguments().filter(|arg| {
        let id = arg.get_id().as_str();
        id != "generate" && matches.value_source(id) == Some(ValueSource::CommandLine)
    });
    for arg in given {
        let id = arg.get_id().as_str();
        if what != Generate::Profile || !GENERATE_REQUEST_OPTIONS.contains(&id) {
            let name = arg
                .get_long()
                .map_or_else(|| id.to_string(), |long| format!("--{long}"));
            return Err(format!("--generate cannot be combined with {name}"));
        }
    }
    Ok(())
}

/// A whole number of at least 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub u64);

impl FromStr for Count {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Count(n as u64)),
            Ok(_) => Err(format!("must be 0 or more, got {text}")),
            Err(_) => Err(format!("not an integer: {text}")),
        }
    }
}

/// How resources new to an HTTP destination are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CreateMode {
    /// PUT each resource at its own uri (the destination accepts client ids).
    Put,
    /// POST to the collection and learn the new uri (the destination assigns ids).
    Post,
}

/// What `--generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    CompleteBash,
    CompleteZsh,
    CompleteFish,
    Man,
    /// A profile from an OpenAPI document (SOURCE).
    Profile,
}

impl Generate {
    /// `--generate WHAT [SOURCE]`: SOURCE comes with `profile` and only with it.
    pub fn parse(values: &[String]) -> Result<(Generate, Option<String>), String> {
        let names = "complete-bash, complete-zsh, complete-fish, man or profile SOURCE";
        let (what, source) = match values {
            [what] => (what, None),
            [what, source] => (what, Some(source.clone())),
            _ => return Err(format!("--generate takes WHAT: {names}")),
        };
        let what = <Generate as ValueEnum>::from_str(what, false)
            .map_err(|_| format!("--generate {what}: use {names}"))?;
        match (what, source) {
            (Generate::Profile, None) => {
                Err("--generate profile needs SOURCE (a file or URL)".into())
            }
            (Generate::Profile, source) => Ok((what, source)),
            (_, Some(extra)) => Err(format!(
                "--generate {}: takes no SOURCE (got {extra})",
                values[0]
            )),
            (_, None) => Ok((what, None)),
        }
    }
}

/// An integer of at least 1 (sizes, counts, attempts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositiveCount(pub u64);

impl FromStr for PositiveCount {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().parse::<i64>() {
            Ok(n) if n >= 1 => Ok(PositiveCount(n as u64)),
            Ok(_) => Err(format!("must be a positive integer, got {text}")),
            Err(_) => Err(format!("not an integer: {text}")),
        }
    }
}

/// A `Name: value` header given with `-H`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

impl FromStr for Header {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| "expected 'Name: value'".to_string())?;
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(is_header_name_byte) {
            return Err(format!("invalid header name {name:?}"));
        }
        Ok(Header {
            name: name.to_string(),
            value: value.trim().to_string(),
        })
    }
}

fn is_header_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_count_rejects_zero_and_negatives() {
        assert_eq!("5".parse::<PositiveCount>(), Ok(PositiveCount(5)));
        assert!("0".parse::<PositiveCount>().is_err());
        assert!("-3".parse::<PositiveCount>().is_err());
        assert!("x".parse::<PositiveCount>().is_err());
    }

    #[test]
    fn header_splits_on_first_colon() {
        let header: Header = "X-Trace: a:b".parse().unwrap();
        assert_eq!(header.name, "X-Trace");
        assert_eq!(header.value, "a:b");
        assert!("NoColon".parse::<Header>().is_err());
        assert!("Bad Name: x".parse::<Header>().is_err());
    }

    #[test]
    fn generate_takes_a_source_only_for_profile() {
        let parse = |values: &[&str]| {
            Generate::parse(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(parse(&["man"]), Ok((Generate::Man, None)));
        assert_eq!(
            parse(&["profile", "api.json"]),
            Ok((Generate::Profile, Some("api.json".into())))
        );
        assert!(parse(&["profile"]).unwrap_err().contains("needs SOURCE"));
        assert!(parse(&["man", "x"]).is_err());
        assert!(parse(&["manual"]).unwrap_err().contains("complete-bash"));
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
