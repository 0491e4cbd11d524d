//! RFC 8288 `Link` headers: only `rel="next"`/`rel="prev"` targets matter for paging.
//! Written by hand: the grammar needed is tiny and no maintained crate covers it better.

use reqwest::header::{HeaderMap, LINK};

use super::Link;

/// `next`/`prev` links from every `Link` header.
pub fn next_links(headers: &HeaderMap) -> Vec<Link> {
    header_links(headers)
        .filter(|link| link.relation == "next" || link.relation == "prev")
        .collect()
}

/// The `Link` header's links of one relation (`last`).
pub fn next_links_with(headers: &HeaderMap, relation: &str) -> Vec<Link> {
    header_links(headers)
        .filter(|link| link.relation == relation)
        .collect()
}

fn header_links(headers: &HeaderMap) -> impl Iterator<Item = Link> + '_ {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(split_link_values)
        .filter_map(parse_link_value)
}

/// Split on commas that are outside `<...>` and quotes.
fn split_link_values(header: &str) -> Vec<&str> {
    let (mut parts, mut start, mut in_angle, mut in_quote) = (Vec::new(), 0, false, false);
    for (position, character) in header.char_indices() {
        match character {
            '<' if !in_quote => in_angle = true,
            '>' if !in_quote => in_angle = false,
            '"' if !in_angle => in_quote = !in_quote,
            ',' if !in_angle && !in_quote => {
                parts.push(&header[start..position]);
                start = position + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

/// `<url>; rel="next"`; a `rel` may list several relations separated by spaces.
fn parse_link_value(value: &str) -> Option<Link> {
    let value = value.trim();
    let end = value.find('>')?;
    let href = value.strip_prefix('<')?[..end - 1].to_string();
    value[end + 1..]
        .split(';')
        .filter_map(|param| param.trim().split_once('='))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("rel"))
        .flat_map(|(_, rels)| {
            rels.trim()
                .trim_matches('"')
                .split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
        })
        .find(|rel| rel == "next" || rel == "prev")
        .map(|relation| Link { relation, href })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn parses_json_server_style_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(LINK, HeaderValue::from_static(
            r#"<http://h/teams?_page=1&_limit=5>; rel="first", <http://h/teams?_page=2&_limit=5>; rel="next", <http://h/teams?_page=4&_limit=5>; rel="last""#,
        ));
        let links = next_links(&headers);
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].href, "http://h/teams?_page=2&_limit=5");
    }

    #[test]
    fn relation_lists_and_case() {
        assert_eq!(
            parse_link_value(r#"<a,b>; REL="prev start""#).map(|l| l.href),
            Some("a,b".to_string())
        );
        assert!(parse_link_value("no-angle; rel=next").is_none());
    }
}
