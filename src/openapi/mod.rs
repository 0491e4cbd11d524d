//! `--generate profile SOURCE` (SPEC section 8, "Profiles from OpenAPI"): reads an OpenAPI 3
//! document from a file or an http(s) URL and prints a profile that `--api` accepts.

mod generate;
mod refs;
mod render;

use anyhow::{Context, Result};
use serde_json::Value;
use url::Url;

use crate::exit_code::{remote, usage};
use crate::format::yaml::YamlDocuments;
use crate::schema::profile::Profile;

/// Documents larger than this are refused, as JSON and YAML documents are elsewhere.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// The profile text for the API the document at `source` describes.
pub fn generate_profile(source: &str) -> Result<String> {
    let url = Url::parse(source)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"));
    let bytes = match &url {
        Some(url) => fetch(url)?,
        None => std::fs::read(source)
            .map_err(|error| usage(format!("reading OpenAPI document {source}: {error}")))?,
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
            .map_err(|error| usage(format!("OpenAPI document {source}: invalid JSON: {error}")));
    }
    match YamlDocuments::new(text.as_bytes()).next() {
        Some(Ok(value)) => Ok(value),
        Some(Err(error)) => Err(usage(format!(
            "OpenAPI document {source}: invalid YAML: {error}"
        ))),
        None => Err(usage(format!("OpenAPI document {source} is empty"))),
    }
}

/// The body of `GET url`; an error status is the remote's failure (exit 1), naming it.
fn fetch(url: &Url) -> Result<Vec<u8>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        let mut response = client
            .get(url.clone())
            .send()
            .await
            .map_err(|error| remote(format!("GET {url}: {error}")))?;
        let status = response.status();
        if !status.is_success() {
            return Err(remote(format!("GET {url}: the server answered {status}")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| remote(format!("GET {url}: {error}")))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(remote(format!("GET {url}: the document exceeds 64 MiB")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    })
}
