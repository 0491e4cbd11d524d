//! What an endpoint is handed instead of the run's configuration: an HTTP endpoint's own
//! options (its URL, credentials, headers, limits), the connection pool's, and the run's.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::expr::RefExpr;
use crate::format::Format;
use crate::schema::profile::Profile;
use crate::schema::FollowMode;

/// Credentials an endpoint sends with its requests (never printed).
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic { username: String, password: String },
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => write!(f, "None"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Auth::Bearer(_) => write!(f, "Bearer(<redacted>)"),
        }
    }
}

/// One HTTP endpoint's own options: its credentials and headers go to its origin only.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub url: Url,
    pub auth: Auth,
    pub headers: Vec<(String, String)>,
    /// `--limit`: the page size a profile's `size` parameter asks for.
    pub limit: u64,
    /// `--max-pages`: pages read from one starting URL before the run fails.
    pub max_pages: u64,
    /// `--api`: the profile this endpoint speaks, where it has one.
    pub api: Option<Arc<Profile>>,
}

#[cfg(test)]
impl HttpOptions {
    /// An endpoint with no credentials, headers or profile, and the default limits.
    pub fn bare(url: Url) -> Self {
        HttpOptions {
            url,
            auth: Auth::None,
            headers: Vec::new(),
            limit: 100,
            max_pages: 10_000,
            api: None,
        }
    }
}

/// The run's one connection pool: limits shared by every request, whatever its endpoint.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub concurrency: usize,
    /// `--rps`: requests started per second, at most.
    pub rps: Option<u32>,
    pub max_attempts: u32,
    pub timeout: Duration,
    /// Accept any certificate (`--insecure`).
    pub insecure: bool,
    /// Extra trusted roots, PEM, read from `--ca-cert`.
    pub ca_cert: Option<Vec<u8>>,
    /// `X-Request-Limit` on GETs, where no profile carries the limit in a parameter.
    pub limit_header: Option<u64>,
    /// `-v`: a stderr line per request.
    pub verbose: bool,
}

/// What the run hands every endpoint.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The format written to the destination.
    pub format: Format,
    pub follow: FollowMode,
    /// `--rm`.
    pub remove: bool,
    pub batch_size: usize,
    /// `--concurrency`: requests in flight at once.
    pub concurrency: usize,
    pub fail_fast: bool,
    /// `-v`: a stderr line per file written.
    pub verbose: bool,
    /// `--create post`: resources new to an HTTP destination are POSTed to their collection.
    pub create_by_post: bool,
    pub id_map: Option<PathBuf>,
    pub refs: Vec<RefExpr>,
    /// `--type`: the types kept (a profile reads only them and their parents).
    pub types: Vec<String>,
}
