//! The JSON / JSON Lines / stdin path on arbitrary bytes: a serde_json value stream, arrays
//! split into items, each turned into a resource by both schemas. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use resource_sync::schema::{Hal, Dialect, Simple};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let stream = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
    for value in stream {
        let Ok(value) = value else { break };
        let items = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for item in items {
            let _ = Hal.resource(item.clone());
            let _ = Simple.resource(item);
        }
    }
});
