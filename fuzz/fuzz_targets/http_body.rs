//! HTTP bodies as a crawl reads them: the media type is chosen by the first byte, the
//! rest is the body, parsed and split into members and links by both dialects and every
//! follow mode. Nothing may panic; a resource found has a non-empty uri.
#![no_main]

use libfuzzer_sys::fuzz_target;
use resource_sync::read_page;
use resource_sync::schema::{FollowMode, Hal, Simple};
use url::Url;

const MEDIA_TYPES: [&str; 5] = [
    "application/json",
    "application/hal+json; charset=utf-8",
    "application/yaml",
    "",
    "text/html",
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let media_type = MEDIA_TYPES[usize::from(first) % MEDIA_TYPES.len()];
    let url = Url::parse("http://fuzz.invalid/api/team?page=2").expect("a valid URL");
    for mode in [
        FollowMode::All,
        FollowMode::Child,
        FollowMode::Page,
        FollowMode::None,
    ] {
        for schema in [&Hal as &dyn resource_sync::schema::Dialect, &Simple] {
            if let Ok((resources, _links)) =
                read_page(body.to_vec(), media_type, url.clone(), schema, mode)
            {
                for resource in resources {
                    assert!(!resource.uri.is_empty(), "a resource with an empty uri");
                }
            }
        }
    }
});
