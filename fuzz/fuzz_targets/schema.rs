//! Dialect extraction on arbitrary JSON: identity, links, members and follow decisions of
//! both schemas. Nothing may panic; an identity found has a non-empty uri.
#![no_main]

use libfuzzer_sys::fuzz_target;
use resource_sync::schema::{FollowMode, Hal, Dialect, Simple};
use serde_json::Value;

fn exercise(schema: &dyn Dialect, body: &Value) {
    if let Ok(identity) = schema.identity(body) {
        assert!(
            !identity.uri.is_empty(),
            "an identity with an empty uri: {body}"
        );
    }
    let _ = schema.links(body);
    let _ = schema.members(body);
    for mode in [
        FollowMode::All,
        FollowMode::Child,
        FollowMode::Page,
        FollowMode::None,
    ] {
        let _ = schema.followed_links(body, mode);
    }
    let mut owned = body.clone();
    let _ = schema.take_members(&mut owned);
    let _ = schema.resource(body.clone());
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    exercise(&Hal, &body);
    exercise(&Simple, &body);
});
