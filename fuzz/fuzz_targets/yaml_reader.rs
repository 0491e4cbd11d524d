//! The YAML reader on arbitrary bytes: every document is read until the stream ends or
//! the first error; nothing may panic, hang or exhaust memory (the reader's limits hold).
#![no_main]

use libfuzzer_sys::fuzz_target;
use resource_sync::format::yaml::YamlDocuments;

fuzz_target!(|data: &[u8]| {
    for document in YamlDocuments::new(data) {
        if document.is_err() {
            break;
        }
    }
});
