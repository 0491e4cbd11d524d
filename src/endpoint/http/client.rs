//! One HTTP connection pool for the run: auth and `-H` headers only to the command line's
//! origins, `--concurrency` permits, retries with backoff and jitter, bounded bodies.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::limit::{Answer, Limits};
pub use crate::endpoint::spec::{redact_url, without_userinfo};
use backoff::backoff::Backoff;
use backoff::ExponentialBackoffBuilder;
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use url::Url;

use super::auth::Credentials;
use crate::endpoint::options::{ClientOptions, HttpOptions};

/// Longest `Retry-After` honoured, so a hostile server cannot stall a run for hours.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
const MAX_REDIRECTS: usize = 10;
/// Largest decoded response body read (SPEC section 9); larger ones fail unretried.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A request to send (and re-send on retry).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub body: Option<(Vec<u8>, &'static str)>,
    /// The media type of the API's convention, where it names one (JSON:API's): accepted,
    /// and the body's type.
    pub media_type: Option<&'static str>,
}

impl Request {
    /// A request without a body, in no particular media type.
    pub fn new(method: Method, url: Url) -> Self {
        Request {
            method,
            url,
            body: None,
            media_type: None,
        }
    }
}

/// The final answer to a request, after retries and redirects.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The URL that answered (after redirects), for resolving relative links.
    pub url: Url,
    pub attempts: u32,
    /// The project file's environment that answered 401 or 403, named in the error.
    pub environment: Option<String>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `Location` the answer names, resolved against `base` (the request's URL).
    pub fn location(&self, base: &Url) -> Option<Url> {
        let location = self.headers.get(LOCATION)?.to_str().ok()?;
        base.join(location).ok()
    }

    /// `409 Conflict: parent does not exist`, with the server's message when it sent one.
    pub fn describe_status(&self) -> String {
        let reason = StatusCode::from_u16(self.status)
            .ok()
            .and_then(|code| code.canonical_reason())
            .unwrap_or("");
        let message = server_message(&self.body);
        let status = match (reason, message.is_empty()) {
            (_, false) => format!("{} {reason}: {message}", self.status),
            _ => format!("{} {reason}", self.status),
        };
        match &self.environment {
            Some(name) => format!("{status} (the credentials of environment {name})"),
            None => status,
        }
    }
}

/// A request that got no HTTP answer (connection failures, timeouts), after retries.
#[derive(Debug, thiserror::Error)]
#[error("{reason} (after {attempts} attempt(s))")]
pub struct TransportFailure {
    pub reason: String,
    pub attempts: u32,
}

/// One failed attempt, and whether sending it again is safe and useful.
struct AttemptFailure {
    reason: String,
    retry: bool,
}

/// An HTTP endpoint of the run: its credentials and headers go to its scheme, host and
/// port only, with its own `user:pass@` if its URL has one.
struct TrustedOrigin {
    origin: url::Origin,
    path: String,
    userinfo: Option<(String, Option<String>)>,
    credentials: Credentials,
    headers: Vec<(String, String)>,
    /// The project file's environment it is, named when it answers 401 or 403.
    environment: Option<String>,
    /// Its `--limit` (or its environment's), for `X-Request-Limit`.
    limit: u64,
    /// Its environment's own permits and pace, timeout and attempts, where it sets them.
    limits: Option<Arc<Limits>>,
    timeout: Option<Duration>,
    max_attempts: Option<u32>,
}

/// Shared by every read and write of the run; clones share the pool and the permits.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    options: ClientOptions,
    limits: Arc<Limits>,
    trusted: Arc<Vec<TrustedOrigin>>,
}

impl HttpClient {
    /// `endpoints`: the HTTP endpoints of the run, each sending its own credentials and
    /// headers to its own origin and to no other.
    pub fn new(options: &ClientOptions, endpoints: &[HttpOptions]) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(options.concurrency.max(1))
            .user_agent(concat!("resource-sync/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &options.ca_cert {
            for certificate in reqwest::Certificate::from_pem_bundle(pem)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if options.insecure {
            eprintln!("resource-sync: warning: --insecure: HTTPS certificates are not verified");
            builder = builder.danger_accept_invalid_certs(true);
        }
        let client = builder.build()?;
        Ok(HttpClient {
            client,
            options: options.clone(),
            limits: Arc::new(Limits::new(options.concurrency, options.rps)),
            trusted: Arc::new(
                endpoints
                    .iter()
                    .map(|endpoint| TrustedOrigin::of(endpoint, options))
                    .collect(),
            ),
        })
    }

    /// Send with retries: transport errors, timeouts, 429, 502, 503 and 504 are retried
    /// up to `--max-attempts`; any other status is returned at once. A POST is retried only
    /// when the server cannot have acted on it: refused connection, 429 or 503.
    pub async fn send(&self, request: &Request) -> Result<Reply, TransportFailure> {
        let reply = self.send_with_retries(request).await?;
        if reply.status != 401 {
            return Ok(reply);
        }
        let Some(trusted) = self.credentials_for(&request.url) else {
            return Ok(reply);
        };
        // A command's secret or a token may have expired: renewed once, then sent again.
        match trusted.credentials.renew().await {
            Ok(true) => self.send_with_retries(request).await,
            Ok(false) => Ok(reply),
            Err(reason) => Err(TransportFailure {
                reason,
                attempts: reply.attempts,
            }),
        }
    }

    /// `send` without the renewal after a 401.
    async fn send_with_retries(&self, request: &Request) -> Result<Reply, TransportFailure> {
        let mut backoff = ExponentialBackoffBuilder::new()
            .with_initial_interval(Duration::from_millis(100))
            .with_multiplier(2.0)
            .with_randomization_factor(0.5)
            .with_max_interval(Duration::from_secs(10))
            .with_max_elapsed_time(None)
            .build();
        let trusted = self.credentials_for(&request.url);
        let limits = trusted
            .and_then(|trusted| trusted.limits.as_deref())
            .unwrap_or(&self.limits);
        let max_attempts = trusted
            .and_then(|trusted| trusted.max_attempts)
            .unwrap_or(self.options.max_attempts)
            .max(1);
        let mut attempt = 1;
        loop {
            let permit = limits.acquire().await;
            let result = self.send_once(request).await;
            if let Some(permit) = permit {
                limits.release(permit, answer_of(&result));
            }
            let retryable = match &result {
                Ok(reply) => is_retryable_status(&request.method, reply.status),
                Err(failure) => failure.retry,
            };
            if !retryable || attempt >= max_attempts {
                return match result {
                    Ok(mut reply) => {
                        reply.attempts = attempt;
                        Ok(reply)
                    }
                    Err(failure) => Err(TransportFailure {
                        reason: failure.reason,
                        attempts: attempt,
                    }),
                };
            }
            let server_wait = result
                .as_ref()
                .ok()
                .and_then(|reply| retry_after(&reply.headers));
            if let (Some(wait), Ok(reply)) = (server_wait, &result) {
                if reply.status == 429 {
                    limits.pause_for(wait);
                }
            }
            let wait = server_wait
                .or_else(|| backoff.next_backoff())
                .unwrap_or_default();
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt, following redirects by hand so secrets never leave the origins named
    /// on the command line; a loop or too many redirects is not worth retrying.
    async fn send_once(&self, request: &Request) -> Result<Reply, AttemptFailure> {
        let (mut method, mut url, mut body) = (
            request.method.clone(),
            request.url.clone(),
            request.body.clone(),
        );
        let mut visited = Vec::new();
        // Once a redirect leaves the trusted origins, credentials stay off: a hostile
        // server must not steer them to an arbitrary path of a trusted one.
        let mut trusted = true;
        for _ in 0..=MAX_REDIRECTS {
            let credentials = self.credentials_for(&url).filter(|_| trusted);
            trusted &= credentials.is_some();
            visited.push(url.clone());
            // What is sent: without userinfo, with a query credential (printed redacted).
            let sent = match credentials {
                Some(trusted) => trusted.credentials.url_for(&without_userinfo(&url)),
                None => without_userinfo(&url),
            };
            let started = Instant::now();
            let response = self
                .build(
                    &method,
                    &sent,
                    body.as_ref(),
                    request.media_type,
                    credentials,
                )
                .await?
                .send()
                .await
                .map_err(|error| self.transport_failure(&method, &sent, &error))?;
            let status = response.status();
            if status.is_redirection() {
                if let Some(next) = redirect_target(&url, response.headers()) {
                    self.log(&method, &sent, status.as_u16(), started);
                    if visited.contains(&next) {
                        return Err(AttemptFailure {
                            reason: format!(
                                "{method} {}: redirect loop back to {}",
                                redact_url(&request.url),
                                redact_url(&next)
                            ),
                            retry: false,
                        });
                    }
                    if status == StatusCode::SEE_OTHER {
                        (method, body) = (Method::GET, None);
                    }
                    url = next;
                    continue;
                }
            }
            let headers = response.headers().clone();
            let bytes = self.read_body(&method, &sent, response).await?;
            self.log(&method, &sent, status.as_u16(), started);
            let environment = match status.as_u16() {
                401 | 403 => credentials.and_then(|trusted| trusted.environment.clone()),
                _ => None,
            };
            return Ok(Reply {
                status: status.as_u16(),
                headers,
                body: bytes,
                url: without_userinfo(&url),
                attempts: 1,
                environment,
            });
        }
        Err(AttemptFailure {
            reason: format!(
                "more than {MAX_REDIRECTS} redirects from {}",
                redact_url(&request.url)
            ),
            retry: false,
        })
    }

    /// The decoded body, counted as it arrives: past `MAX_BODY_BYTES` the request fails
    /// without reading (or keeping) the rest.
    async fn read_body(
        &self,
        method: &Method,
        url: &Url,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, AttemptFailure> {
        let too_big = || AttemptFailure {
            reason: self.log_failure(
                method,
                url,
                format!(
                    "response body larger than {} MiB; not read",
                    MAX_BODY_BYTES / (1024 * 1024)
                ),
            ),
            retry: false,
        };
        let announced = response.content_length().unwrap_or(0);
        if announced > MAX_BODY_BYTES as u64 {
            return Err(too_big());
        }
        let mut body = Vec::with_capacity(announced as usize);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_BODY_BYTES {
                        return Err(too_big());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(error) => return Err(self.transport_failure(method, url, &error)),
            }
        }
    }

    /// A transport error, and whether to retry it: a POST only when the connection was
    /// never made, since a server that read it may have created the resource.
    fn transport_failure(
        &self,
        method: &Method,
        url: &Url,
        error: &reqwest::Error,
    ) -> AttemptFailure {
        let unsent = error.is_connect();
        let mut reason = describe_transport(error, &self.options);
        if *method == Method::POST && !unsent {
            reason.push_str("; it may have been created, so it is not sent again");
        }
        AttemptFailure {
            reason: self.log_failure(method, url, reason),
            retry: unsent || *method != Method::POST,
        }
    }

    /// The command-line endpoint whose origin `url` shares, if any (the longest matching
    /// path wins when two share an origin).
    fn credentials_for(&self, url: &Url) -> Option<&TrustedOrigin> {
        let origin = url.origin();
        self.trusted
            .iter()
            .filter(|trusted| trusted.origin == origin)
            .max_by_key(
                |trusted| match url.path().starts_with(trusted.path.as_str()) {
                    true => trusted.path.len(),
                    false => 0,
                },
            )
    }

    async fn build(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&(Vec<u8>, &'static str)>,
        media_type: Option<&'static str>,
        credentials: Option<&TrustedOrigin>,
    ) -> Result<reqwest::RequestBuilder, AttemptFailure> {
        // `url` has no userinfo: reqwest would turn it into Basic auth, and only the user's
        // own counts.
        let timeout = credentials
            .and_then(|trusted| trusted.timeout)
            .unwrap_or(self.options.timeout);
        let mut builder = self
            .client
            .request(method.clone(), url.clone())
            .timeout(timeout);
        if let (true, Some(limit)) = (*method == Method::GET, self.options.limit_header) {
            let limit = credentials.map_or(limit, |trusted| trusted.limit);
            builder = builder.header("X-Request-Limit", limit.to_string());
        }
        if let Some(media_type) = media_type {
            builder = builder.header(ACCEPT, media_type);
        }
        if let Some(trusted) = credentials {
            builder = match &trusted.userinfo {
                Some((username, password)) => builder.basic_auth(username, password.as_ref()),
                None => trusted
                    .credentials
                    .authorize(builder, &self.client)
                    .await
                    .map_err(|reason| AttemptFailure {
                        reason: self.log_failure(method, url, reason),
                        retry: false,
                    })?,
            };
            for (name, value) in &trusted.headers {
                builder = builder.header(name, value);
            }
        }
        if let Some((bytes, body_type)) = body {
            let media_type = media_type.unwrap_or(body_type);
            builder = builder.header(CONTENT_TYPE, media_type).body(bytes.clone());
        }
        Ok(builder)
    }

    fn log(&self, method: &Method, url: &Url, status: u16, started: Instant) {
        if self.options.verbose {
            let url = redact_url(url);
            eprintln!(
                "{method} {} -> {status} ({} ms)",
                crate::redact::redacted(&url),
                started.elapsed().as_millis()
            );
        }
    }

    fn log_failure(&self, method: &Method, url: &Url, reason: String) -> String {
        let reason = crate::redact::redacted(&reason);
        if self.options.verbose {
            eprintln!(
                "{method} {} -> {reason}",
                crate::redact::redacted(&redact_url(url))
            );
        }
        format!("{method} {}: {reason}", redact_url(url))
    }
}

fn answer_of(result: &Result<Reply, AttemptFailure>) -> Answer {
    match result {
        Ok(reply) if reply.status == 429 => Answer::TooManyRequests,
        Ok(reply) if reply.is_success() => Answer::Success,
        _ => Answer::Other,
    }
}

/// 502 and 504 may come after the server acted, so a POST is not sent again for them.
fn is_retryable_status(method: &Method, status: u16) -> bool {
    match *method {
        Method::POST => matches!(status, 429 | 503),
        _ => matches!(status, 429 | 502 | 503 | 504),
    }
}

impl TrustedOrigin {
    fn of(endpoint: &HttpOptions, pool: &ClientOptions) -> Self {
        let settings = &endpoint.requests;
        let own_limits = settings.concurrency.is_some() || settings.rps.is_some();
        let limits = own_limits.then(|| {
            let concurrency = settings.concurrency.unwrap_or(pool.concurrency);
            Arc::new(Limits::new(concurrency, settings.rps.or(pool.rps)))
        });
        let url = &endpoint.url;
        let userinfo = (!url.username().is_empty() || url.password().is_some())
            .then(|| (decoded(url.username()), url.password().map(decoded)));
        TrustedOrigin {
            origin: url.origin(),
            path: url.path().to_string(),
            userinfo,
            credentials: Credentials::new(endpoint.auth.clone()),
            headers: endpoint.headers.clone(),
            environment: endpoint.environment.clone(),
            limit: endpoint.limit,
            limits,
            timeout: settings.timeout,
            max_attempts: settings.max_attempts,
        }
    }
}

/// Userinfo as the user typed it, percent-escapes undone.
fn decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Whether a server-named URL is on `destination`'s origin (scheme, host and port): only
/// there may it become a resource's uri (SPEC section 9).
pub fn same_origin(url: &Url, destination: &Url) -> bool {
    url.origin() == destination.origin()
}

/// `Retry-After` in seconds or as an HTTP date, capped.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(text)
            .ok()?
            .duration_since(SystemTime::now())
            .unwrap_or_default(),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

fn redirect_target(current: &Url, headers: &HeaderMap) -> Option<Url> {
    let location = headers.get(LOCATION)?.to_str().ok()?;
    current.join(location).ok()
}

/// A transport error in words, without the URL (which the caller adds, redacted).
fn describe_transport(error: &reqwest::Error, options: &ClientOptions) -> String {
    if error.is_timeout() {
        return format!("timed out after {} s", options.timeout.as_secs());
    }
    let mut text = if error.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The `message` (or `error`) field of a JSON error body, else its first line of text.
pub fn server_message(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["message", "error", "detail", "title"] {
            if let Some(text) = value.get(key).and_then(serde_json::Value::as_str) {
                return text.to_string();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let line = text.lines().next().unwrap_or("").trim();
    line.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("99999"));
        assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn server_messages_are_extracted() {
        assert_eq!(
            server_message(br#"{"message": "parent missing"}"#),
            "parent missing"
        );
        assert_eq!(server_message(b"plain text\nmore"), "plain text");
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        let url = Url::parse("https://user:secret@h/api").unwrap();
        assert!(!redact_url(&url).contains("secret"));
    }
}
