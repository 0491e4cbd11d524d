//! One HTTP connection pool for the run: auth and `-H` headers, `--concurrency` permits,
//! retries with exponential backoff and jitter, redirects that drop secrets off-origin.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::limit::{Answer, Limits};
use backoff::backoff::Backoff;
use backoff::ExponentialBackoffBuilder;
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::config::{Auth, HttpSettings};

/// Longest `Retry-After` honoured, so a hostile server cannot stall a run for hours.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
const MAX_REDIRECTS: usize = 10;

/// A request to send (and re-send on retry).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub body: Option<(Vec<u8>, &'static str)>,
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
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `409 Conflict: parent does not exist`, with the server's message when it sent one.
    pub fn describe_status(&self) -> String {
        let reason = StatusCode::from_u16(self.status)
            .ok()
            .and_then(|code| code.canonical_reason())
            .unwrap_or("");
        let message = server_message(&self.body);
        match (reason, message.is_empty()) {
            (_, false) => format!("{} {reason}: {message}", self.status),
            _ => format!("{} {reason}", self.status),
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

/// Shared by every read and write of the run; clones share the pool and the permits.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    settings: HttpSettings,
    verbose: bool,
    limits: Arc<Limits>,
}

impl HttpClient {
    pub fn new(settings: &HttpSettings, verbose: bool) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(settings.concurrency.max(1))
            .user_agent(concat!("resource-sync/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &settings.ca_cert {
            for certificate in reqwest::Certificate::from_pem_bundle(pem)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if settings.insecure {
            eprintln!("resource-sync: warning: --insecure: HTTPS certificates are not verified");
            builder = builder.danger_accept_invalid_certs(true);
        }
        let client = builder.build()?;
        Ok(HttpClient {
            client,
            settings: settings.clone(),
            verbose,
            limits: Arc::new(Limits::new(settings.concurrency, settings.rps)),
        })
    }

    /// Send with retries: transport errors, timeouts, 429, 502, 503 and 504 are retried
    /// up to `--max-attempts`; any other status is returned at once.
    pub async fn send(&self, request: &Request) -> Result<Reply, TransportFailure> {
        let mut backoff = ExponentialBackoffBuilder::new()
            .with_initial_interval(Duration::from_millis(100))
            .with_multiplier(2.0)
            .with_randomization_factor(0.5)
            .with_max_interval(Duration::from_secs(10))
            .with_max_elapsed_time(None)
            .build();
        let max_attempts = self.settings.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let permit = self.limits.acquire().await;
            let result = self.send_once(request).await;
            if let Some(permit) = permit {
                self.limits.release(permit, answer_of(&result));
            }
            let retryable = result
                .as_ref()
                .map_or(true, |reply| is_retryable_status(reply.status));
            if !retryable || attempt >= max_attempts {
                return match result {
                    Ok(mut reply) => {
                        reply.attempts = attempt;
                        Ok(reply)
                    }
                    Err(reason) => Err(TransportFailure {
                        reason,
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
                    self.limits.pause_for(wait);
                }
            }
            let wait = server_wait
                .or_else(|| backoff.next_backoff())
                .unwrap_or_default();
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt, following redirects by hand so secrets never leave the origin.
    async fn send_once(&self, request: &Request) -> Result<Reply, String> {
        let origin = request.url.origin();
        let (mut method, mut url, mut body) = (
            request.method.clone(),
            request.url.clone(),
            request.body.clone(),
        );
        let mut trusted = true;
        for _ in 0..=MAX_REDIRECTS {
            trusted &= url.origin() == origin;
            let started = Instant::now();
            let response = self
                .build(&method, &url, body.as_ref(), trusted)
                .send()
                .await
                .map_err(|error| {
                    self.log_failure(&method, &url, describe_transport(&error, &self.settings))
                })?;
            let status = response.status();
            if status.is_redirection() {
                if let Some(next) = redirect_target(&url, response.headers()) {
                    self.log(&method, &url, status.as_u16(), started);
                    if status == StatusCode::SEE_OTHER {
                        (method, body) = (Method::GET, None);
                    }
                    url = next;
                    continue;
                }
            }
            let headers = response.headers().clone();
            let bytes = response.bytes().await.map_err(|error| {
                self.log_failure(&method, &url, describe_transport(&error, &self.settings))
            })?;
            self.log(&method, &url, status.as_u16(), started);
            return Ok(Reply {
                status: status.as_u16(),
                headers,
                body: bytes.to_vec(),
                url,
                attempts: 1,
            });
        }
        Err(format!(
            "more than {MAX_REDIRECTS} redirects from {}",
            redact_url(&request.url)
        ))
    }

    fn build(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&(Vec<u8>, &'static str)>,
        trusted: bool,
    ) -> reqwest::RequestBuilder {
        let mut builder = self
            .client
            .request(method.clone(), url.clone())
            .timeout(self.settings.timeout);
        if *method == Method::GET && self.settings.limit_header {
            builder = builder.header("X-Request-Limit", self.settings.limit.to_string());
        }
        if let Some(media_type) = self.settings.media_type {
            builder = builder.header(ACCEPT, media_type);
        }
        if trusted {
            builder = match &self.settings.auth {
                Auth::None => builder,
                Auth::Basic { username, password } => builder.basic_auth(username, Some(password)),
                Auth::Bearer(token) => builder.bearer_auth(token),
            };
            for (name, value) in &self.settings.headers {
                builder = builder.header(name, value);
            }
        }
        if let Some((bytes, media_type)) = body {
            let media_type = self.settings.media_type.unwrap_or(media_type);
            builder = builder.header(CONTENT_TYPE, media_type).body(bytes.clone());
        }
        builder
    }

    fn log(&self, method: &Method, url: &Url, status: u16, started: Instant) {
        if self.verbose {
            eprintln!(
                "{method} {} -> {status} ({} ms)",
                redact_url(url),
                started.elapsed().as_millis()
            );
        }
    }

    fn log_failure(&self, method: &Method, url: &Url, reason: String) -> String {
        if self.verbose {
            eprintln!("{method} {} -> {reason}", redact_url(url));
        }
        format!("{method} {}: {reason}", redact_url(url))
    }
}

fn answer_of(result: &Result<Reply, String>) -> Answer {
    match result {
        Ok(reply) if reply.status == 429 => Answer::TooManyRequests,
        Ok(reply) if reply.is_success() => Answer::Success,
        _ => Answer::Other,
    }
}

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
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
fn describe_transport(error: &reqwest::Error, settings: &HttpSettings) -> String {
    if error.is_timeout() {
        return format!("timed out after {} s", settings.timeout.as_secs());
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

/// A URL safe to print: any password in it is replaced.
pub fn redact_url(url: &Url) -> String {
    if url.password().is_some() {
        let mut copy = url.clone();
        let _ = copy.set_password(Some("REDACTED"));
        copy.to_string()
    } else {
        url.to_string()
    }
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
