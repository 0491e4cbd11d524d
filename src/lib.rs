//! resource-sync: move REST resources between HTTP APIs, files, directories and pipes.
//! Data walks one way: cli -> config -> endpoint read (+ schema) -> filter -> graph -> sync -> endpoint write.

// Public: what the binary, tests, benches and fuzz targets use. The rest is private,
// so the compiler reports what nothing calls.
mod atomic;
pub mod backup;
pub mod cli;
pub mod config;
mod endpoint;
pub mod exit_code;
pub mod expr;
mod filter;
pub mod format;
pub mod graph;
pub mod interrupt;
pub mod openapi;
mod plan;
mod progress;
pub mod project;
mod provenance;
mod read_set;
pub mod redact;
mod remap;
pub mod report;
pub mod resource;
pub mod schema;
pub mod sync;
mod text_index;
mod undo;

/// For the HTTP body fuzz target: a page parsed as a crawl parses it.
pub use endpoint::http::read_page;
