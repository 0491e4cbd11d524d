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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic {
        username: String,
        password: Secret,
    },
    Bearer(Secret),
    /// One header (`Authorization: Token …`, `X-API-Key: …`).
    Header {
        name: String,
        value: Secret,
    },
    /// A query parameter added to every request (redacted wherever a URL is printed).
    Query {
        name: String,
        value: Secret,
    },
    /// OAuth 2.0 client credentials: a token asked of `token_url`, sent as a bearer token.
    OAuth2(Arc<OAuth2>),
}

/// A secret's value, and the command that gives it again after a 401, where it has one.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub value: String,
    pub command: Option<String>,
}

impl Secret {
    /// A value with no command behind it (an environment variable's, a file's).
    pub fn plain(value: String) -> Secret {
        Secret {
            value,
            command: None,
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<redacted>)")
    }
}

/// An OAuth 2.0 client-credentials grant (RFC 6749, 4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2 {
    pub token_url: Url,
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: Option<String>,
    pub audience: Option<String>,
    /// `client_auth: body`: id and secret in the form, not in HTTP basic authentication.
    pub secret_in_body: bool,
}

/// One HTTP endpoint's own options: its credentials and headers go to its origin only.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub url: Url,
    /// The project file's environment it is, named in 401 and 403 errors.
    pub environment: Option<String>,
    pub auth: Auth,
    pub headers: Vec<(String, String)>,
    /// `--limit`: the page size a profile's `size` parameter asks for.
    pub limit: u64,
    /// `--max-pages`: pages read from one starting URL before the run fails.
    pub max_pages: u64,
    /// `--api`: the profile this endpoint speaks, where it has one.
    pub api: Option<Arc<Profile>>,
    /// Its environment's own request settings, where the command line gave none.
    pub requests: RequestSettings,
}

/// How the requests to one endpoint are sent, where it differs from the pool's (`None`:
/// as the pool's). An environment's `concurrency`, `rps`, `timeout`, `max_attempts`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestSettings {
    pub concurrency: Option<usize>,
    pub rps: Option<u32>,
    pub timeout: Option<Duration>,
    pub max_attempts: Option<u32>,
}

#[cfg(test)]
impl HttpOptions {
    /// An endpoint with no credentials, headers or profile, and the default limits.
    pub fn bare(url: Url) -> Self {
        HttpOptions {
            url,
            environment: None,
            auth: Auth::None,
            headers: Vec::new(),
            limit: 100,
            max_pages: 10_000,
            api: None,
            requests: RequestSettings::default(),
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
