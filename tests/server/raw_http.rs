//! A tiny HTTP/1.0 client for the tests' own look at a server (one exchange per
//! connection, so the answer is neither chunked nor kept alive).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// An answer: status, headers with lower-case names, the body as JSON (a string when it is
/// not JSON, `Null` when empty).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Response {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// The first value of the header called `name` (any case).
pub fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// `method path` on 127.0.0.1:`port`, with `body` sent as `content_type`.
pub fn exchange(
    port: u16,
    method: &str,
    path: &str,
    body: Option<(&str, &Value)>,
) -> Result<Response, String> {
    let text = body.map(|(content_type, body)| (content_type, body.to_string()));
    let body = text.as_ref().map(|(kind, text)| (*kind, text.as_str()));
    exchange_with(port, (method, path), None, body)
}

/// `method path` on 127.0.0.1:`port` with an `Authorization` header and a text `body`
/// sent as its content type.
pub fn exchange_with(
    port: u16,
    (method, path): (&str, &str),
    authorization: Option<&str>,
    body: Option<(&str, &str)>,
) -> Result<Response, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|error| format!("connect: {error}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|error| error.to_string())?;
    let text = body.map_or("", |(_, text)| text);
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\nContent-Length: {}\r\n",
        text.len()
    );
    if let Some(authorization) = authorization {
        request.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    if let Some((content_type, _)) = body {
        request.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(text);
    stream
        .write_all(request.as_bytes())
        .map_err(|error| format!("write: {error}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|error| format!("read: {error}"))?;
    parse(&String::from_utf8_lossy(&raw))
}

fn parse(raw: &str) -> Result<Response, String> {
    let (head, text) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no header end in {raw:?}"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let body = match text.is_empty() {
        true => Value::Null,
        false => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}
