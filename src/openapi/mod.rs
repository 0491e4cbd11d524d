//! `--generate profile SOURCE` (SPEC section 8, "Profiles from OpenAPI"): reads an OpenAPI 3
//! document from a file or an http(s) URL and prints a profile that `--api` accepts.

mod generate;
mod refs;
mod render;

use anyhow::{Context, Result};
use serde_json::Value;
use url::Url;

use crate::endpoint::http::{redact_url, HttpClient, Request};
use crate::endpoint::options::{ClientOptions, HttpOptions};
use crate::exit_code::{remote, usage, ExitContext};
use crate::format::yaml::YamlDocuments;
use crate::schema::profile::Profile;

/// The profile text for the API the document at `source` describes; a URL is fetched
/// with the request options `fetching` makes for it (the command line's credentials,
/// headers, timeout and TLS settings).
pub fn generate_profile(
    source: &str,
    fetching: &dyn Fn(&Url) -> Result<(ClientOptions, HttpOptions)>,
) -> Result<String> {
    let url = Url::parse(source)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"));
    let bytes = match &url {
        Some(url) => {
            let (client, endpoint) = fetching(url)?;
            fetch(&client, &endpoint)?
        }
        None => {
            std::fs::read(source).usage_context(|| format!("reading OpenAPI document {source}"))?
        }
    };
    let root = parse(&bytes, source)?;
    let text = generate::profile(&root, source, url.as_ref())
        .with_context(|| format!("OpenAPI document {source}"))?;
    // The contract is a profile `--api` accepts; anything else is this generator's bug.
    Profile::parse(&text, "(generated)").with_context(|| {
        format!("the profile generated from {source} does not pass validation (a bug in the generator):\n{text}")
    })?;
    Ok(text)
}

/// JSON when it looks like JSON (large documents parse much faster so), else YAML.
fn parse(bytes: &[u8], source: &str) -> Result<Value> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| usage(format!("OpenAPI document {source} is not UTF-8 text")))?;
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text)
            .usage_context(|| format!("OpenAPI document {source}: invalid JSON"));
    }
    match YamlDocuments::new(text.as_bytes()).next() {
        Some(document) => {
            document.usage_context(|| format!("OpenAPI document {source}: invalid YAML"))
        }
        None => Err(usage(format!("OpenAPI document {source} is empty"))),
    }
}

/// The body of `GET` on the endpoint's URL, through the run's one kind of client (its
/// retries, body limit and TLS settings); an error status is the remote's failure (exit 1).
fn fetch(client: &ClientOptions, endpoint: &HttpOptions) -> Result<Vec<u8>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let url = &endpoint.url;
    runtime.block_on(async {
        let http = HttpClient::new(client, std::slice::from_ref(endpoint))?;
        let request = Request::new(reqwest::Method::GET, url.clone());
        let reply = http
            .send(&request)
            .await
            // The failure names the request (method and redacted URL) itself.
            .map_err(|failure| remote(failure.to_string()))?;
        if !reply.is_success() {
            return Err(remote(format!(
                "GET {}: the server answered {}",
                redact_url(url),
                reply.describe_status()
            )));
        }
        Ok(reply.body)
    })
}
